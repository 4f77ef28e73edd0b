/*
 * vctx.c: the RoomSpec validator's context (vctx.h): field paths,
 * messages (errors held back, sorted by position, then reported; warnings
 * at once), typed values with their limits, and mappings (duplicate keys,
 * unknown keys with "did you mean", known fields and aliases).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "roomops/buf.h"
#include "roomops/node.h"
#include "roomops/spec.h"
#include "vctx.h"

#include "banned.h"

size_t
ro_vctx_path_key(struct vctx *v, const char *key, size_t len)
{
	size_t	mark = v->path.len;

	if (ro_node_path_key(&v->path, key, len) == RO_ENOMEM)
		v->oom = true;
	return mark;
}

/* The key as written when given, else the canonical name. */
size_t
ro_vctx_path_field(struct vctx *v, const struct ro_node *key, const char *name)
{
	if (key != NULL)
		return ro_vctx_path_key(v, key->str, key->len);
	return ro_vctx_path_key(v, name, strlen(name));
}

/* ["key"], for the free-form keys of annotations. */
size_t
ro_vctx_path_bracket(struct vctx *v, const struct ro_node *key)
{
	char	q[RO_NODE_QUOTE_SIZE];
	size_t	mark = v->path.len;

	if (ro_buf_printf(&v->path, "[%s]", ro_node_quote(q, key->str,
	    key->len)) == RO_ENOMEM)
		v->oom = true;
	return mark;
}

size_t
ro_vctx_path_index(struct vctx *v, size_t i)
{
	size_t	mark = v->path.len;

	if (ro_node_path_index(&v->path, i) == RO_ENOMEM)
		v->oom = true;
	return mark;
}

void
ro_vctx_path_pop(struct vctx *v, size_t mark)
{
	v->path.len = mark;
	if (v->path.ptr != NULL)
		v->path.ptr[mark] = '\0';
}

/* Record an error at a node, under the current field path. */
void
ro_vctx_err(struct vctx *v, const struct ro_node *at, const char *fmt, ...)
{
	struct ro_buf	 msg = RO_BUF_INIT;
	struct verror	*e, *errs;
	size_t		 cap;
	va_list		 ap;

	if (v->nerr++ >= SPEC_ERRORS_KEPT || v->oom)
		return;			/* counted, not kept */
	if (v->nerr > v->errs_cap) {
		cap = v->errs_cap != 0 ? v->errs_cap * 2 : 16;
		if ((errs = reallocarray(v->errs, cap, sizeof(*errs))) == NULL) {
			v->oom = true;
			return;
		}
		v->errs = errs;
		v->errs_cap = cap;
	}
	ro_buf_init(&msg, SPEC_MSG_MAX);
	va_start(ap, fmt);
	if (ro_buf_vprintf(&msg, fmt, ap) == RO_ENOMEM)
		v->oom = true;
	va_end(ap);
	e = &v->errs[v->nerr - 1];
	e->line = at != NULL ? at->line : 0;
	e->col = at != NULL ? at->col : 0;
	e->seq = v->nerr;
	e->field = strdup(ro_buf_cstr(&v->path));
	e->msg = ro_buf_detach(&msg, NULL);
	if (e->field == NULL || e->msg == NULL)
		v->oom = true;
}

static int
verror_cmp(const void *pa, const void *pb)
{
	const struct verror	*a = pa, *b = pb;

	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	if (a->col != b->col)
		return a->col < b->col ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Hand the held errors to the diag in file order, then free them. */
void
ro_vctx_flush(struct vctx *v)
{
	size_t	i, n = v->nerr < SPEC_ERRORS_KEPT ? v->nerr : SPEC_ERRORS_KEPT;

	if (n > v->errs_cap)
		n = v->errs_cap;	/* an allocation failed: v->oom */
	if (n > 1)
		qsort(v->errs, n, sizeof(*v->errs), verror_cmp);
	for (i = 0; i < n; i++) {
		if (!v->oom && ro_diag_error(v->diag, v->origin,
		    v->errs[i].line, v->errs[i].col, v->errs[i].field, "%s",
		    v->errs[i].msg != NULL ? v->errs[i].msg : "") < 0)
			v->oom = true;
		free(v->errs[i].field);
		free(v->errs[i].msg);
	}
	free(v->errs);
	v->errs = NULL;
	v->errs_cap = 0;
}

/* A warning goes to the diag and, in the same words, to spec->warnings. */
void
ro_vctx_warn(struct vctx *v, const struct ro_node *at, const char *fmt, ...)
{
	struct ro_diag	mine = RO_DIAG_INIT;
	struct ro_buf	msg = RO_BUF_INIT;
	unsigned	line = at != NULL ? at->line : 0;
	unsigned	col = at != NULL ? at->col : 0;
	va_list		ap;

	ro_buf_init(&msg, SPEC_MSG_MAX);
	va_start(ap, fmt);
	if (ro_buf_vprintf(&msg, fmt, ap) == RO_ENOMEM)
		v->oom = true;
	va_end(ap);
	mine.warnings = v->spec->warnings;
	if (ro_diag_warn(v->diag, v->origin, line, col, ro_buf_cstr(&v->path),
	    "%s", ro_buf_cstr(&msg)) < 0 ||
	    ro_diag_warn(&mine, v->origin, line, col, ro_buf_cstr(&v->path),
	    "%s", ro_buf_cstr(&msg)) < 0)
		v->oom = true;
	v->spec->warnings = mine.warnings;
	ro_buf_release(&msg);
}

/* "a list", "string \"x\"", "integer 12" ... into out. */
const char *
ro_vctx_describe(char *out, size_t size, const struct ro_node *n)
{
	char	q[RO_NODE_QUOTE_SIZE];

	switch (n->type) {
	case RO_NODE_STR:
		snprintf(out, size, "string %s", ro_node_quote(q, n->str,
		    n->len));
		break;
	case RO_NODE_BOOL:
	case RO_NODE_INT:
	case RO_NODE_FLOAT:
		snprintf(out, size, "%s %.*s%s", n->type == RO_NODE_BOOL ?
		    "boolean" : n->type == RO_NODE_INT ? "integer" : "number",
		    n->len > 32 ? 32 : (int)n->len, n->str,
		    n->len > 32 ? "..." : "");
		break;
	default:
		snprintf(out, size, "%s", ro_node_type_name(n->type));
		break;
	}
	return out;
}

void
ro_vctx_type_err(struct vctx *v, const struct ro_node *at,
    const struct ro_node *n,
    const char *want)
{
	char	d[RO_NODE_QUOTE_SIZE + 32];
	bool	scalar = n->type == RO_NODE_BOOL || n->type == RO_NODE_INT ||
		    n->type == RO_NODE_FLOAT;

	ro_vctx_err(v, at, "expected %s, got %s%s", want, ro_vctx_describe(d,
	    sizeof(d), n),
	    scalar && strstr(want, "string") != NULL ?
	    " (put it in quotes to use it as text)" : "");
}

/* " (first at line 3)" or "" when positions are unknown. */
const char *
ro_vctx_first_at(char *out, size_t size, const struct ro_node *first)
{
	if (first->line == 0)
		out[0] = '\0';
	else
		snprintf(out, size, " (first at line %u)", first->line);
	return out;
}

bool
ro_vctx_absent(const struct ro_node *n)
{
	return n == NULL || n->type == RO_NODE_NULL;
}

bool
ro_vctx_check_text(struct vctx *v, const struct ro_node *at,
    const struct ro_node *n)
{
	size_t	bad;

	if (!ro_node_utf8_valid(n->str, n->len, &bad)) {
		if (n->str[bad] == '\0')
			ro_vctx_err(v, at,
			    "text contains a NUL character (byte %zu)",
			    bad);
		else
			ro_vctx_err(v, at,
			    "text is not valid UTF-8 (byte 0x%02x at "
			    "offset %zu)", (unsigned char)n->str[bad], bad);
		return false;
	}
	if (n->len > RO_SPEC_STRING_MAX) {
		ro_vctx_err(v, at, "text is %zu bytes long, limit is %d",
		    n->len,
		    RO_SPEC_STRING_MAX);
		return false;
	}
	return true;
}

bool
ro_vctx_get_str(struct vctx *v, const struct ro_node *at,
    const struct ro_node *n,
    char **out)
{
	if (n->type != RO_NODE_STR) {
		ro_vctx_type_err(v, at, n, "a string");
		return false;
	}
	if (!ro_vctx_check_text(v, at, n))
		return false;
	free(*out);
	if ((*out = strdup(n->str)) == NULL) {
		v->oom = true;
		return false;
	}
	return true;
}

/* A required, non-empty string; parent is where a missing one is. */
bool
ro_vctx_get_required(struct vctx *v, const struct ro_node *parent,
    const struct ro_node *at, const struct ro_node *n, char **out)
{
	if (ro_vctx_absent(n)) {
		ro_vctx_err(v, at != NULL ? at : parent,
		    "required field is missing");
		return false;
	}
	if (!ro_vctx_get_str(v, at, n, out))
		return false;
	if ((*out)[0] == '\0') {
		ro_vctx_err(v, at, "must not be empty");
		return false;
	}
	return true;
}

bool
ro_vctx_get_bool(struct vctx *v, const struct ro_node *at,
    const struct ro_node *n,
    bool *out)
{
	if (n->type != RO_NODE_BOOL) {
		ro_vctx_type_err(v, at, n, "a boolean (true or false)");
		return false;
	}
	*out = n->str[0] == 't' || n->str[0] == 'T';
	return true;
}

bool
ro_vctx_get_long(struct vctx *v, const struct ro_node *at,
    const struct ro_node *n,
    long min, long max, const char *range, long *out)
{
	char		 d[RO_NODE_QUOTE_SIZE + 32];
	char		*end;
	long long	 x;

	if (n->type != RO_NODE_INT) {
		ro_vctx_type_err(v, at, n, "an integer");
		return false;
	}
	errno = 0;
	x = strtoll(n->str, &end, 10);
	if (errno != 0 || *end != '\0' || x < min || x > max) {
		ro_vctx_err(v, at, "%s, got %s", range, ro_vctx_describe(d,
		    sizeof(d), n));
		return false;
	}
	*out = (long)x;
	return true;
}

/* A list of strings; null is the empty list. */
void
ro_vctx_get_strv(struct vctx *v, const struct ro_node *at,
    const struct ro_node *n,
    struct ro_strv *out)
{
	char	*s;
	size_t	 i, mark;

	if (ro_vctx_absent(n))
		return;
	if (n->type != RO_NODE_SEQ) {
		ro_vctx_type_err(v, at, n, "a list of strings");
		return;
	}
	for (i = 0; i < n->n; i++) {
		mark = ro_vctx_path_index(v, i);
		s = NULL;
		if (ro_vctx_get_str(v, &n->items[i], &n->items[i], &s) &&
		    ro_strv_push_owned(out, s) < 0)
			v->oom = true;
		ro_vctx_path_pop(v, mark);
	}
}

const char *
ro_vctx_one_of(const char *s, const char *const *set, bool icase)
{
	for (; *set != NULL; set++)
		if ((icase ? strcasecmp(s, *set) : strcmp(s, *set)) == 0)
			return *set;
	return NULL;
}

static int
keyref_cmp(const void *pa, const void *pb)
{
	const struct keyref	*a = pa, *b = pb;
	size_t			 n = a->len < b->len ? a->len : b->len;
	int			 c;

	if ((c = memcmp(a->s, b->s, n)) != 0)
		return c;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

/*
 * first[refs[k].i] = index of the first item with the same key, or
 * SIZE_MAX for first occurrences; first has nitems slots. Sorting keeps
 * this O(n log n) on hostile input.
 */
void
ro_vctx_find_dups(struct keyref *refs, size_t nrefs, size_t *first,
    size_t nitems)
{
	size_t	i, k, r = 0;

	for (i = 0; i < nitems; i++)
		first[i] = SIZE_MAX;
	if (nrefs < 2)
		return;
	qsort(refs, nrefs, sizeof(*refs), keyref_cmp);
	for (k = 1; k < nrefs; k++) {
		if (refs[k].len == refs[r].len &&
		    memcmp(refs[k].s, refs[r].s, refs[k].len) == 0)
			first[refs[k].i] = refs[r].i;
		else
			r = k;
	}
}

/* Report repeated keys of a map; annotation keys go in brackets. */
void
ro_vctx_check_dup_keys(struct vctx *v, const struct ro_node *map, bool bracket)
{
	const struct ro_node	*key;
	struct keyref		*refs;
	size_t			*first, np = ro_node_map_size(map), i, mark;
	char			 at[64];

	if (np < 2)
		return;
	refs = calloc(np, sizeof(*refs));
	first = calloc(np, sizeof(*first));
	if (refs == NULL || first == NULL) {
		v->oom = true;
		goto done;
	}
	for (i = 0; i < np; i++) {
		key = ro_node_map_key(map, i);
		refs[i].s = key->str;
		refs[i].len = key->len;
		refs[i].i = i;
	}
	ro_vctx_find_dups(refs, np, first, np);
	for (i = 0; i < np; i++) {
		if (first[i] == SIZE_MAX)
			continue;
		key = ro_node_map_key(map, i);
		mark = bracket ? ro_vctx_path_bracket(v, key) :
		    ro_vctx_path_key(v, key->str, key->len);
		ro_vctx_err(v, key, "duplicate key%s", ro_vctx_first_at(at,
		    sizeof(at),
		    ro_node_map_key(map, first[i])));
		ro_vctx_path_pop(v, mark);
	}
done:
	free(refs);
	free(first);
}

/* Fold a key for "did you mean": lower case, no '_' or '-'. */
static size_t
fold_key(char *out, size_t size, const char *s, size_t len)
{
	size_t	i, n = 0;

	for (i = 0; i < len && n + 1 < size; i++)
		if (s[i] != '_' && s[i] != '-')
			out[n++] = (char)tolower((unsigned char)s[i]);
	out[n] = '\0';
	return n;
}

/*
 * Is the key a likely typo of name: equal after folding, one a prefix of
 * the other, or at most two edits apart (Levenshtein), for names of four
 * or more letters?
 */
static bool
near_key(const char *key, size_t len, const char *name)
{
	char	a[SPEC_NEAR_MAX + 1], b[SPEC_NEAR_MAX + 1];
	size_t	row[SPEC_NEAR_MAX + 1], i, j, na, nb, diag, up, best;

	if (len > SPEC_NEAR_MAX)
		return false;
	na = fold_key(a, sizeof(a), key, len);
	nb = fold_key(b, sizeof(b), name, strlen(name));
	if (na == nb && memcmp(a, b, na) == 0)
		return true;
	/* "sandbox" for "sandbox_mode", "scopesList" for "scopes" */
	if (na >= 4 && nb >= 4 && memcmp(a, b, na < nb ? na : nb) == 0)
		return true;
	if (nb < 4 || (na > nb ? na - nb : nb - na) > 2)
		return false;
	for (j = 0; j <= nb; j++)
		row[j] = j;
	for (i = 1; i <= na; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= nb; j++) {
			up = row[j];
			best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[nb] <= 2;
}

static void
unknown_key(struct vctx *v, const struct ro_node *key,
    const struct field *f, size_t nf)
{
	struct ro_buf	known = RO_BUF_INIT;
	size_t		i, mark;

	mark = ro_vctx_path_key(v, key->str, key->len);
	for (i = 0; i < nf; i++)
		if (near_key(key->str, key->len, f[i].name) ||
		    (f[i].alias != NULL &&
		    near_key(key->str, key->len, f[i].alias))) {
			ro_vctx_err(v, key,
			    "unknown key (did you mean \"%s\"?)",
			    f[i].name);
			goto done;
		}
	for (i = 0; i < nf; i++)
		if (ro_buf_printf(&known, "%s%s", i > 0 ? ", " : "",
		    f[i].name) < 0)
			v->oom = true;
	ro_vctx_err(v, key, "unknown key (expected one of: %s)",
	    ro_buf_cstr(&known));
done:
	ro_vctx_path_pop(v, mark);
	ro_buf_release(&known);
}

static bool
key_is(const struct ro_node *key, const char *name)
{
	return name != NULL && key->len == strlen(name) &&
	    memcmp(key->str, name, key->len) == 0;
}

/*
 * Match a mapping's keys against its fields: vals[i] and keys[i] get the
 * value and key of fields[i] (NULL when absent). Reports duplicate keys,
 * unknown keys, and a field given both by name and by alias.
 */
void
ro_vctx_map_fields(struct vctx *v, const struct ro_node *map,
    const struct field *f,
    size_t nf, const struct ro_node **vals, const struct ro_node **keys)
{
	const struct ro_node	*key;
	size_t			 i, k, mark;
	char			 at[64];

	RO_ASSERT(nf <= SPEC_FIELDS_MAX);
	for (k = 0; k < nf; k++)
		vals[k] = keys[k] = NULL;
	ro_vctx_check_dup_keys(v, map, false);
	for (i = 0; i < ro_node_map_size(map); i++) {
		key = ro_node_map_key(map, i);
		for (k = 0; k < nf; k++)
			if (key_is(key, f[k].name) || key_is(key, f[k].alias))
				break;
		if (k == nf) {
			unknown_key(v, key, f, nf);
			continue;
		}
		if (keys[k] != NULL) {
			/* the same key twice is reported above */
			if (keys[k]->len != key->len ||
			    memcmp(keys[k]->str, key->str, key->len) != 0) {
				mark = ro_vctx_path_key(v, key->str, key->len);
				ro_vctx_err(v, key,
				    "same setting as %s%s; give only "
				    "one", keys[k]->str, ro_vctx_first_at(at,
				    sizeof(at), keys[k]));
				ro_vctx_path_pop(v, mark);
			}
			continue;
		}
		keys[k] = key;
		vals[k] = ro_node_map_value(map, i);
	}
}
