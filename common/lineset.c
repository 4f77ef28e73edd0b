/* lineset.c: union of two line sets ordered by the JSON "ts" field. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "roomops/lineset.h"

#include "banned.h"

struct line {
	const char	*p;
	size_t		 len;
	char		*ts;		/* NULL: no usable "ts" */
};

struct lines {
	struct line	*v;
	size_t		 n;
	size_t		 cap;
};

/*
 * Set *out to a copy of the "ts" string of a line that is one JSON object,
 * or to NULL when it has none. RO_ENOMEM.
 */
static int
line_ts(char **out, const char *p, size_t len)
{
	cJSON		*root, *ts;
	const char	*end = NULL;
	size_t		 n;
	int		 error = RO_OK;

	*out = NULL;
	if (len == 0 || p[0] != '{')
		return RO_OK;
	root = cJSON_ParseWithLengthOpts(p, len, &end, 0);
	if (root == NULL)
		return RO_OK;
	/* Nothing but blanks may follow the object. */
	while (end != NULL && end < p + len &&
	    (*end == ' ' || *end == '\t' || *end == '\r'))
		end++;
	if (end != p + len || !cJSON_IsObject(root))
		goto done;
	ts = cJSON_GetObjectItemCaseSensitive(root, "ts");
	if (!cJSON_IsString(ts) || ts->valuestring == NULL)
		goto done;
	n = strlen(ts->valuestring);
	if (n > RO_LINESET_TS_MAX)
		goto done;
	if ((*out = malloc(n + 1)) == NULL)
		error = RO_ENOMEM;
	else
		memcpy(*out, ts->valuestring, n + 1);
done:
	cJSON_Delete(root);
	return error;
}

static int
lines_split(struct lines *ls, const char *s, size_t len, struct ro_err *err)
{
	const char	*p = s, *end = s + len, *nl;
	struct line	*v;
	size_t		 n, cap;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		if (n > RO_LINESET_LINE_MAX)
			return ro_err_set(err, RO_ETOOBIG,
			    "line of %zu bytes (limit %u)", n,
			    RO_LINESET_LINE_MAX);
		if (n > 0) {
			if (ls->n >= RO_LINESET_LINES_MAX)
				return ro_err_set(err, RO_ETOOBIG,
				    "more than %u lines", RO_LINESET_LINES_MAX);
			if (ls->n == ls->cap) {
				cap = ls->cap != 0 ? ls->cap * 2 : 64;
				v = realloc(ls->v, cap * sizeof(*v));
				if (v == NULL)
					return ro_err_set(err, RO_ENOMEM,
					    "out of memory");
				ls->v = v;
				ls->cap = cap;
			}
			ls->v[ls->n].p = p;
			ls->v[ls->n].len = n;
			ls->v[ls->n].ts = NULL;
			ls->n++;
		}
		p = nl != NULL ? nl + 1 : end;
	}
	return RO_OK;
}

static int
content_cmp(const struct line *a, const struct line *b)
{
	size_t	n = a->len < b->len ? a->len : b->len;
	int	c;

	if ((c = memcmp(a->p, b->p, n)) != 0)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

static int
line_cmp(const void *va, const void *vb)
{
	const struct line	*a = va, *b = vb;
	int			 c;

	if ((a->ts == NULL) != (b->ts == NULL))
		return a->ts == NULL ? 1 : -1;
	if (a->ts != NULL && (c = strcmp(a->ts, b->ts)) != 0)
		return c;
	return content_cmp(a, b);
}

int
ro_lineset_union(const char *a, size_t alen, const char *b, size_t blen,
    struct ro_buf *out, struct ro_err *err)
{
	struct lines	ls = { NULL, 0, 0 };
	size_t		i;
	int		error;

	if ((error = lines_split(&ls, a, alen, err)) < 0 ||
	    (error = lines_split(&ls, b, blen, err)) < 0)
		goto done;
	for (i = 0; i < ls.n; i++) {
		if ((error = line_ts(&ls.v[i].ts, ls.v[i].p, ls.v[i].len)) < 0) {
			ro_err_set(err, error, "out of memory");
			goto done;
		}
	}
	if (ls.n > 1)
		qsort(ls.v, ls.n, sizeof(ls.v[0]), line_cmp);
	for (i = 0; i < ls.n; i++) {
		/* Equal content implies an equal key: duplicates are adjacent. */
		if (i > 0 && content_cmp(&ls.v[i - 1], &ls.v[i]) == 0)
			continue;
		if ((error = ro_buf_add(out, ls.v[i].p, ls.v[i].len)) < 0 ||
		    (error = ro_buf_addch(out, '\n')) < 0) {
			ro_err_set(err, error, "merged lines: %s",
			    error == RO_ETOOBIG ? "output over its limit" :
			    "out of memory");
			goto done;
		}
	}
	error = RO_OK;
done:
	for (i = 0; i < ls.n; i++)
		free(ls.v[i].ts);
	free(ls.v);
	return error;
}
