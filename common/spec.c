/*
 * spec.c: RoomSpec validation (roomspec.md) into struct ro_spec, from YAML
 * (yaml.c) or JSON (cJSON), both through the same node tree, so messages,
 * field paths and the model are the same for either input.
 *
 * The validator walks the tree once, reports every problem it finds with
 * the node's position and field path, and only hands out a spec when there
 * were none.
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
#include "roomops/file.h"
#include "roomops/node.h"
#include "roomops/spec.h"
#include "roomops/yaml.h"

#include "banned.h"

#define SPEC_ORIGIN_DEFAULT	"<input>"
#define SPEC_PATH_MAX		(16u << 10)	/* bytes of a field path */
#define SPEC_MSG_MAX		(4u << 10)	/* bytes of one message */
#define SPEC_FIELDS_MAX		8		/* keys of one mapping */
#define SPEC_POLICY_MAX_MAX	INT_MAX		/* maxArtifactsPerEntity */
#define SPEC_NEAR_MAX		64		/* bytes of a key to suggest for */
#define SPEC_ERRORS_KEPT	10000		/* errors sorted per document */

static const char *const entity_kinds[] = { "human", "agent", "npc",
    "orchestrator", NULL };
static const char *const visibilities[] = { "public", "team", "owner",
    NULL };

/* A known key of a mapping, with its optional alias (camelCase). */
struct field {
	const char	*name;
	const char	*alias;
};

/* An error held back until the document is done, to report in order. */
struct verror {
	unsigned	 line, col;
	size_t		 seq;		/* detection order, for ties */
	char		*field;
	char		*msg;
};

struct vctx {
	const char	*origin;
	struct ro_diag	*diag;
	struct ro_spec	*spec;
	struct ro_buf	 path;		/* field path of the current node */
	struct verror	*errs;		/* the first SPEC_ERRORS_KEPT */
	size_t		 nerr;		/* errors of this document */
	size_t		 errs_cap;
	bool		 oom;
};

/* For duplicate detection: a key and the index of its item. */
struct keyref {
	const char	*s;
	size_t		 len;
	size_t		 i;
};

static void	verr(struct vctx *, const struct ro_node *, const char *, ...)
		    RO_PRINTF(3, 4);
static void	vwarn(struct vctx *, const struct ro_node *, const char *, ...)
		    RO_PRINTF(3, 4);

/* --- field paths ------------------------------------------------------ */

static size_t
path_key(struct vctx *v, const char *key, size_t len)
{
	size_t	mark = v->path.len;

	if (ro_node_path_key(&v->path, key, len) == RO_ENOMEM)
		v->oom = true;
	return mark;
}

/* The key as written when given, else the canonical name. */
static size_t
path_field(struct vctx *v, const struct ro_node *key, const char *name)
{
	if (key != NULL)
		return path_key(v, key->str, key->len);
	return path_key(v, name, strlen(name));
}

/* ["key"], for the free-form keys of annotations. */
static size_t
path_bracket(struct vctx *v, const struct ro_node *key)
{
	char	q[RO_NODE_QUOTE_SIZE];
	size_t	mark = v->path.len;

	if (ro_buf_printf(&v->path, "[%s]", ro_node_quote(q, key->str,
	    key->len)) == RO_ENOMEM)
		v->oom = true;
	return mark;
}

static size_t
path_index(struct vctx *v, size_t i)
{
	size_t	mark = v->path.len;

	if (ro_node_path_index(&v->path, i) == RO_ENOMEM)
		v->oom = true;
	return mark;
}

static void
path_pop(struct vctx *v, size_t mark)
{
	v->path.len = mark;
	if (v->path.ptr != NULL)
		v->path.ptr[mark] = '\0';
}

/* --- messages --------------------------------------------------------- */

/* Record an error at a node, under the current field path. */
static void
verr(struct vctx *v, const struct ro_node *at, const char *fmt, ...)
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
static void
flush_errors(struct vctx *v)
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
static void
vwarn(struct vctx *v, const struct ro_node *at, const char *fmt, ...)
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
static const char *
describe(char *out, size_t size, const struct ro_node *n)
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

static void
type_err(struct vctx *v, const struct ro_node *at, const struct ro_node *n,
    const char *want)
{
	char	d[RO_NODE_QUOTE_SIZE + 32];
	bool	scalar = n->type == RO_NODE_BOOL || n->type == RO_NODE_INT ||
		    n->type == RO_NODE_FLOAT;

	verr(v, at, "expected %s, got %s%s", want, describe(d, sizeof(d), n),
	    scalar && strstr(want, "string") != NULL ?
	    " (put it in quotes to use it as text)" : "");
}

/* " (first at line 3)" or "" when positions are unknown. */
static const char *
first_at(char *out, size_t size, const struct ro_node *first)
{
	if (first->line == 0)
		out[0] = '\0';
	else
		snprintf(out, size, " (first at line %u)", first->line);
	return out;
}

/* --- typed values ----------------------------------------------------- */

static bool
absent(const struct ro_node *n)
{
	return n == NULL || n->type == RO_NODE_NULL;
}

static bool
check_text(struct vctx *v, const struct ro_node *at, const struct ro_node *n)
{
	size_t	bad;

	if (!ro_node_utf8_valid(n->str, n->len, &bad)) {
		if (n->str[bad] == '\0')
			verr(v, at, "text contains a NUL character (byte %zu)",
			    bad);
		else
			verr(v, at, "text is not valid UTF-8 (byte 0x%02x at "
			    "offset %zu)", (unsigned char)n->str[bad], bad);
		return false;
	}
	if (n->len > RO_SPEC_STRING_MAX) {
		verr(v, at, "text is %zu bytes long, limit is %d", n->len,
		    RO_SPEC_STRING_MAX);
		return false;
	}
	return true;
}

static bool
get_str(struct vctx *v, const struct ro_node *at, const struct ro_node *n,
    char **out)
{
	if (n->type != RO_NODE_STR) {
		type_err(v, at, n, "a string");
		return false;
	}
	if (!check_text(v, at, n))
		return false;
	free(*out);
	if ((*out = strdup(n->str)) == NULL) {
		v->oom = true;
		return false;
	}
	return true;
}

/* A required, non-empty string; parent is where a missing one is. */
static bool
get_required(struct vctx *v, const struct ro_node *parent,
    const struct ro_node *at, const struct ro_node *n, char **out)
{
	if (absent(n)) {
		verr(v, at != NULL ? at : parent, "required field is missing");
		return false;
	}
	if (!get_str(v, at, n, out))
		return false;
	if ((*out)[0] == '\0') {
		verr(v, at, "must not be empty");
		return false;
	}
	return true;
}

static bool
get_bool(struct vctx *v, const struct ro_node *at, const struct ro_node *n,
    bool *out)
{
	if (n->type != RO_NODE_BOOL) {
		type_err(v, at, n, "a boolean (true or false)");
		return false;
	}
	*out = n->str[0] == 't' || n->str[0] == 'T';
	return true;
}

static bool
get_long(struct vctx *v, const struct ro_node *at, const struct ro_node *n,
    long min, long max, const char *range, long *out)
{
	char		 d[RO_NODE_QUOTE_SIZE + 32];
	char		*end;
	long long	 x;

	if (n->type != RO_NODE_INT) {
		type_err(v, at, n, "an integer");
		return false;
	}
	errno = 0;
	x = strtoll(n->str, &end, 10);
	if (errno != 0 || *end != '\0' || x < min || x > max) {
		verr(v, at, "%s, got %s", range, describe(d, sizeof(d), n));
		return false;
	}
	*out = (long)x;
	return true;
}

/* A list of strings; null is the empty list. */
static void
get_strv(struct vctx *v, const struct ro_node *at, const struct ro_node *n,
    struct ro_strv *out)
{
	char	*s;
	size_t	 i, mark;

	if (absent(n))
		return;
	if (n->type != RO_NODE_SEQ) {
		type_err(v, at, n, "a list of strings");
		return;
	}
	for (i = 0; i < n->n; i++) {
		mark = path_index(v, i);
		s = NULL;
		if (get_str(v, &n->items[i], &n->items[i], &s) &&
		    ro_strv_push_owned(out, s) < 0)
			v->oom = true;
		path_pop(v, mark);
	}
}

static const char *
one_of(const char *s, const char *const *set, bool icase)
{
	for (; *set != NULL; set++)
		if ((icase ? strcasecmp(s, *set) : strcmp(s, *set)) == 0)
			return *set;
	return NULL;
}

/* --- mappings --------------------------------------------------------- */

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
static void
find_dups(struct keyref *refs, size_t nrefs, size_t *first, size_t nitems)
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
static void
check_dup_keys(struct vctx *v, const struct ro_node *map, bool bracket)
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
	find_dups(refs, np, first, np);
	for (i = 0; i < np; i++) {
		if (first[i] == SIZE_MAX)
			continue;
		key = ro_node_map_key(map, i);
		mark = bracket ? path_bracket(v, key) :
		    path_key(v, key->str, key->len);
		verr(v, key, "duplicate key%s", first_at(at, sizeof(at),
		    ro_node_map_key(map, first[i])));
		path_pop(v, mark);
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

	mark = path_key(v, key->str, key->len);
	for (i = 0; i < nf; i++)
		if (near_key(key->str, key->len, f[i].name) ||
		    (f[i].alias != NULL &&
		    near_key(key->str, key->len, f[i].alias))) {
			verr(v, key, "unknown key (did you mean \"%s\"?)",
			    f[i].name);
			goto done;
		}
	for (i = 0; i < nf; i++)
		if (ro_buf_printf(&known, "%s%s", i > 0 ? ", " : "",
		    f[i].name) < 0)
			v->oom = true;
	verr(v, key, "unknown key (expected one of: %s)",
	    ro_buf_cstr(&known));
done:
	path_pop(v, mark);
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
static void
map_fields(struct vctx *v, const struct ro_node *map, const struct field *f,
    size_t nf, const struct ro_node **vals, const struct ro_node **keys)
{
	const struct ro_node	*key;
	size_t			 i, k, mark;
	char			 at[64];

	RO_ASSERT(nf <= SPEC_FIELDS_MAX);
	for (k = 0; k < nf; k++)
		vals[k] = keys[k] = NULL;
	check_dup_keys(v, map, false);
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
				mark = path_key(v, key->str, key->len);
				verr(v, key, "same setting as %s%s; give only "
				    "one", keys[k]->str, first_at(at,
				    sizeof(at), keys[k]));
				path_pop(v, mark);
			}
			continue;
		}
		keys[k] = key;
		vals[k] = ro_node_map_value(map, i);
	}
}

/* --- the document ----------------------------------------------------- */

/*
 * Positions: a problem with a field's value is reported where the field is
 * written (its key), one with a list item at the item, and a missing field
 * at the mapping that lacks it.
 */

static void
check_const(struct vctx *v, const struct ro_node *val,
    const struct ro_node *key, const char *name, const char *want)
{
	char	*s = NULL;
	char	 q[RO_NODE_QUOTE_SIZE];
	size_t	 mark;

	if (absent(val))
		return;
	mark = path_field(v, key, name);
	if (get_str(v, key, val, &s) && strcmp(s, want) != 0)
		verr(v, key, "unsupported %s %s (expected \"%s\")", name,
		    ro_node_quote(q, val->str, val->len), want);
	free(s);
	path_pop(v, mark);
}

static void
check_annotations(struct vctx *v, const struct ro_node *at,
    const struct ro_node *map)
{
	const struct ro_node	*key, *val;
	char			*s;
	size_t			 i, mark;

	if (absent(map))
		return;
	if (map->type != RO_NODE_MAP) {
		type_err(v, at, map, "a mapping of strings to strings");
		return;
	}
	check_dup_keys(v, map, true);
	for (i = 0; i < ro_node_map_size(map); i++) {
		key = ro_node_map_key(map, i);
		val = ro_node_map_value(map, i);
		mark = path_bracket(v, key);
		if (!check_text(v, key, key)) {
			path_pop(v, mark);
			continue;
		}
		if (key->len == 0)
			verr(v, key, "annotation keys must not be empty");
		s = NULL;
		if (get_str(v, key, val, &s) &&
		    (ro_strv_push(&v->spec->ann_keys, key->str) < 0 ||
		    ro_strv_push_owned(&v->spec->ann_values, s) < 0))
			v->oom = true;
		path_pop(v, mark);
	}
}

static void
check_metadata(struct vctx *v, const struct ro_node *root,
    const struct ro_node *val, const struct ro_node *key)
{
	static const struct field f[] = {
		{ "name", NULL }, { "version", NULL }, { "annotations", NULL }
	};
	enum { F_NAME, F_VERSION, F_ANN };
	const struct ro_node	*vals[RO_NELEM(f)], *keys[RO_NELEM(f)];
	size_t			 mark, m2;

	mark = path_field(v, key, "metadata");
	if (absent(val)) {
		verr(v, key != NULL ? key : root, "required field is missing "
		    "(it holds version, an integer greater than 0)");
		goto done;
	}
	if (val->type != RO_NODE_MAP) {
		type_err(v, key, val, "a mapping");
		goto done;
	}
	map_fields(v, val, f, RO_NELEM(f), vals, keys);
	if (!absent(vals[F_NAME])) {
		m2 = path_field(v, keys[F_NAME], "name");
		get_str(v, keys[F_NAME], vals[F_NAME], &v->spec->name);
		path_pop(v, m2);
	}
	m2 = path_field(v, keys[F_VERSION], "version");
	if (absent(vals[F_VERSION]))
		verr(v, keys[F_VERSION] != NULL ? keys[F_VERSION] : val,
		    "required field is missing (an integer greater than 0)");
	else
		get_long(v, keys[F_VERSION], vals[F_VERSION], 1, LONG_MAX,
		    "must be an integer greater than 0", &v->spec->version);
	path_pop(v, m2);
	m2 = path_field(v, keys[F_ANN], "annotations");
	check_annotations(v, keys[F_ANN], vals[F_ANN]);
	path_pop(v, m2);
done:
	path_pop(v, mark);
}

static void
check_policy(struct vctx *v, const struct ro_node *val,
    const struct ro_node *key, struct ro_entity_policy *p)
{
	static const struct field f[] = {
		{ "allow_commands_from", "allowCommandsFrom" },
		{ "sandbox_mode", "sandboxMode" },
		{ "env_whitelist", "envWhitelist" },
		{ "scopes", NULL }
	};
	enum { F_ALLOW, F_SANDBOX, F_ENV, F_SCOPES };
	const struct ro_node	*vals[RO_NELEM(f)], *keys[RO_NELEM(f)];
	size_t			 mark, m2;

	if (absent(val))
		goto defaults;
	mark = path_field(v, key, "policy");
	if (val->type != RO_NODE_MAP) {
		type_err(v, key, val, "a mapping");
		path_pop(v, mark);
		goto defaults;
	}
	map_fields(v, val, f, RO_NELEM(f), vals, keys);
	if (!absent(vals[F_ALLOW])) {
		m2 = path_field(v, keys[F_ALLOW], f[F_ALLOW].name);
		get_str(v, keys[F_ALLOW], vals[F_ALLOW],
		    &p->allow_commands_from);
		path_pop(v, m2);
	}
	if (!absent(vals[F_SANDBOX])) {
		m2 = path_field(v, keys[F_SANDBOX], f[F_SANDBOX].name);
		get_bool(v, keys[F_SANDBOX], vals[F_SANDBOX], &p->sandbox_mode);
		path_pop(v, m2);
	}
	m2 = path_field(v, keys[F_ENV], f[F_ENV].name);
	get_strv(v, keys[F_ENV], vals[F_ENV], &p->env_whitelist);
	path_pop(v, m2);
	m2 = path_field(v, keys[F_SCOPES], f[F_SCOPES].name);
	get_strv(v, keys[F_SCOPES], vals[F_SCOPES], &p->scopes);
	path_pop(v, m2);
	path_pop(v, mark);
defaults:
	if (p->allow_commands_from == NULL &&
	    (p->allow_commands_from = strdup("any")) == NULL)
		v->oom = true;
}

static void
check_entity(struct vctx *v, const struct ro_node *item, struct ro_entity *e,
    const struct ro_node **id_key, const struct ro_node **id_val)
{
	static const struct field f[] = {
		{ "id", NULL }, { "kind", NULL }, { "displayName", NULL },
		{ "visibility", NULL }, { "ownerUserId", NULL },
		{ "capabilities", NULL }, { "policy", NULL }
	};
	enum { F_ID, F_KIND, F_DISPLAY, F_VIS, F_OWNER, F_CAPS, F_POLICY };
	const struct ro_node	*vals[RO_NELEM(f)], *keys[RO_NELEM(f)];
	const char		*known;
	char			*s = NULL;
	char			 q[RO_NODE_QUOTE_SIZE];
	size_t			 mark;

	e->line = item->line;
	e->col = item->col;
	if (item->type != RO_NODE_MAP) {
		type_err(v, item, item, "a mapping (an entity)");
		return;
	}
	map_fields(v, item, f, RO_NELEM(f), vals, keys);

	mark = path_field(v, keys[F_ID], "id");
	if (get_required(v, item, keys[F_ID], vals[F_ID], &e->id)) {
		if (!ro_spec_valid_entity_id(e->id))
			verr(v, keys[F_ID], "invalid entity id %s (expected "
			    "\"E-\" and 2 to 64 letters, digits, '_' or '-')",
			    ro_node_quote(q, e->id, strlen(e->id)));
		else {
			*id_key = keys[F_ID];
			*id_val = vals[F_ID];
		}
	}
	path_pop(v, mark);

	mark = path_field(v, keys[F_KIND], "kind");
	if (get_required(v, item, keys[F_KIND], vals[F_KIND], &s)) {
		if ((known = one_of(s, entity_kinds, true)) == NULL)
			verr(v, keys[F_KIND], "invalid entity kind %s "
			    "(expected human, agent, npc or orchestrator)",
			    ro_node_quote(q, s, strlen(s)));
		else if ((e->kind = strdup(known)) == NULL)
			v->oom = true;
	}
	free(s);
	s = NULL;
	path_pop(v, mark);

	if (!absent(vals[F_DISPLAY])) {
		mark = path_field(v, keys[F_DISPLAY], "displayName");
		get_str(v, keys[F_DISPLAY], vals[F_DISPLAY], &e->display_name);
		path_pop(v, mark);
	}

	if (!absent(vals[F_VIS])) {
		mark = path_field(v, keys[F_VIS], "visibility");
		if (get_str(v, keys[F_VIS], vals[F_VIS], &s)) {
			if (one_of(s, visibilities, false) == NULL)
				verr(v, keys[F_VIS], "invalid visibility %s "
				    "(expected public, team or owner)",
				    ro_node_quote(q, s, strlen(s)));
			else {
				e->visibility = s;
				s = NULL;
			}
		}
		free(s);
		s = NULL;
		path_pop(v, mark);
	} else if ((e->visibility = strdup("team")) == NULL)
		v->oom = true;

	if (!absent(vals[F_OWNER])) {
		mark = path_field(v, keys[F_OWNER], "ownerUserId");
		get_str(v, keys[F_OWNER], vals[F_OWNER], &e->owner_user_id);
		path_pop(v, mark);
	}
	if (e->visibility != NULL && strcmp(e->visibility, "owner") == 0) {
		mark = path_field(v, keys[F_OWNER], "ownerUserId");
		if (absent(vals[F_OWNER]))
			verr(v, keys[F_VIS], "required when visibility is "
			    "owner");
		else if (e->owner_user_id != NULL &&
		    e->owner_user_id[0] == '\0')
			verr(v, keys[F_OWNER], "must not be empty when "
			    "visibility is owner");
		path_pop(v, mark);
	}

	mark = path_field(v, keys[F_CAPS], "capabilities");
	get_strv(v, keys[F_CAPS], vals[F_CAPS], &e->capabilities);
	path_pop(v, mark);

	check_policy(v, vals[F_POLICY], keys[F_POLICY], &e->policy);
}

static void
check_artifact(struct vctx *v, const struct ro_node *item,
    struct ro_artifact *a, const struct ro_node **name_key,
    const struct ro_node **name_val)
{
	static const struct field f[] = {
		{ "name", NULL }, { "type", NULL }, { "workspace", NULL },
		{ "tags", NULL }, { "seedFrom", NULL },
		{ "promoteAfterSeed", NULL }
	};
	enum { F_NAME, F_TYPE, F_WS, F_TAGS, F_SEED, F_PROMOTE };
	const struct ro_node	*vals[RO_NELEM(f)], *keys[RO_NELEM(f)];
	const struct ro_node	*seed_key;
	char			 q[RO_NODE_QUOTE_SIZE];
	size_t			 mark;

	a->line = item->line;
	a->col = item->col;
	if (item->type != RO_NODE_MAP) {
		type_err(v, item, item, "a mapping (an artifact)");
		return;
	}
	map_fields(v, item, f, RO_NELEM(f), vals, keys);

	mark = path_field(v, keys[F_NAME], "name");
	if (get_required(v, item, keys[F_NAME], vals[F_NAME], &a->name)) {
		*name_key = keys[F_NAME];
		*name_val = vals[F_NAME];
	}
	path_pop(v, mark);

	mark = path_field(v, keys[F_TYPE], "type");
	get_required(v, item, keys[F_TYPE], vals[F_TYPE], &a->type);
	path_pop(v, mark);

	mark = path_field(v, keys[F_WS], "workspace");
	get_required(v, item, keys[F_WS], vals[F_WS], &a->workspace);
	path_pop(v, mark);

	mark = path_field(v, keys[F_TAGS], "tags");
	get_strv(v, keys[F_TAGS], vals[F_TAGS], &a->tags);
	path_pop(v, mark);

	if (!absent(vals[F_SEED])) {
		seed_key = keys[F_SEED];
		mark = path_field(v, seed_key, "seedFrom");
		a->seed_line = seed_key->line;
		a->seed_col = seed_key->col;
		if (get_str(v, seed_key, vals[F_SEED], &a->seed_from)) {
			if (a->seed_from[0] == '\0')
				verr(v, seed_key, "must not be empty");
			else if (a->seed_from[0] == '/')
				verr(v, seed_key, "seedFrom %s is an absolute "
				    "path; give a path relative to the spec "
				    "file's folder", ro_node_quote(q,
				    a->seed_from, strlen(a->seed_from)));
			a->seed = RO_SEED_UNRESOLVED;
		}
		path_pop(v, mark);
	}

	if (!absent(vals[F_PROMOTE])) {
		mark = path_field(v, keys[F_PROMOTE], "promoteAfterSeed");
		get_bool(v, keys[F_PROMOTE], vals[F_PROMOTE],
		    &a->promote_after_seed);
		path_pop(v, mark);
	}
}

/*
 * Report items whose identifying value (an id, a name) an earlier item
 * already has; keys[i]/vals[i] are item i's field, NULL when unusable.
 */
static void
check_unique(struct vctx *v, const struct ro_node *const *keys,
    const struct ro_node *const *vals, size_t n, const char *field,
    const char *what)
{
	struct keyref	*refs;
	size_t		*first, i, nrefs = 0, mark;
	char		 q[RO_NODE_QUOTE_SIZE], at[64];

	if (n < 2)
		return;
	refs = calloc(n, sizeof(*refs));
	first = calloc(n, sizeof(*first));
	if (refs == NULL || first == NULL) {
		v->oom = true;
		goto done;
	}
	for (i = 0; i < n; i++) {
		if (vals[i] == NULL)
			continue;
		refs[nrefs].s = vals[i]->str;
		refs[nrefs].len = vals[i]->len;
		refs[nrefs++].i = i;
	}
	find_dups(refs, nrefs, first, n);
	for (i = 0; i < n; i++) {
		if (first[i] == SIZE_MAX)
			continue;
		mark = path_index(v, i);
		path_key(v, field, strlen(field));
		verr(v, keys[i], "duplicate %s %s; item [%zu] has it "
		    "already%s", what, ro_node_quote(q, vals[i]->str,
		    vals[i]->len), first[i], first_at(at, sizeof(at),
		    keys[first[i]]));
		path_pop(v, mark);
	}
done:
	free(refs);
	free(first);
}

/* A list of entities or artifacts: type, limit, then each item. */
static void
check_list(struct vctx *v, const struct ro_node *list,
    const struct ro_node *key, bool entities)
{
	const struct ro_node	**ukeys = NULL, **uvals = NULL;
	struct ro_spec		 *s = v->spec;
	const char		 *what = entities ? "entities" : "artifacts";
	size_t			  i, mark, m2;

	if (absent(list))
		return;
	mark = path_field(v, key, what);
	if (list->type != RO_NODE_SEQ) {
		type_err(v, key, list, entities ? "a list of entities" :
		    "a list of artifacts");
		goto done;
	}
	if (list->n > (entities ? RO_SPEC_ENTITIES_MAX :
	    RO_SPEC_ARTIFACTS_MAX)) {
		verr(v, key, "%zu %s, limit is %d", list->n, what,
		    entities ? RO_SPEC_ENTITIES_MAX : RO_SPEC_ARTIFACTS_MAX);
		goto done;
	}
	if (list->n == 0)
		goto done;
	ukeys = calloc(list->n, sizeof(*ukeys));
	uvals = calloc(list->n, sizeof(*uvals));
	if (entities) {
		if ((s->entities = calloc(list->n,
		    sizeof(*s->entities))) != NULL)
			s->n_entities = list->n;
	} else if ((s->artifacts = calloc(list->n,
	    sizeof(*s->artifacts))) != NULL)
		s->n_artifacts = list->n;
	if (ukeys == NULL || uvals == NULL ||
	    (entities ? s->n_entities : s->n_artifacts) == 0) {
		v->oom = true;
		goto done;
	}
	for (i = 0; i < list->n; i++) {
		m2 = path_index(v, i);
		if (entities)
			check_entity(v, &list->items[i], &s->entities[i],
			    &ukeys[i], &uvals[i]);
		else
			check_artifact(v, &list->items[i], &s->artifacts[i],
			    &ukeys[i], &uvals[i]);
		path_pop(v, m2);
	}
	if (entities)
		check_unique(v, ukeys, uvals, list->n, "id", "entity id");
	else
		check_unique(v, ukeys, uvals, list->n, "name",
		    "artifact name");
done:
	free(ukeys);
	free(uvals);
	path_pop(v, mark);
}

static void
check_policies(struct vctx *v, const struct ro_node *spec_map,
    const struct ro_node *val, const struct ro_node *key)
{
	static const struct field f[] = {
		{ "dmVisibilityDefault", NULL },
		{ "allowResourceCreation", NULL },
		{ "maxArtifactsPerEntity", NULL }
	};
	enum { F_DM, F_CREATE, F_MAX };
	const struct ro_node	*vals[RO_NELEM(f)], *keys[RO_NELEM(f)];
	struct ro_policies	*p = &v->spec->policies;
	char			*s = NULL;
	char			 q[RO_NODE_QUOTE_SIZE];
	size_t			 mark, m2;

	if (ro_policies_default(p) < 0)
		v->oom = true;
	mark = path_field(v, key, "policies");
	if (absent(val)) {
		m2 = path_key(v, "dmVisibilityDefault", 19);
		vwarn(v, key != NULL ? key : spec_map, "not set; using "
		    "\"team\"");
		path_pop(v, m2);
		goto done;
	}
	if (val->type != RO_NODE_MAP) {
		type_err(v, key, val, "a mapping");
		goto done;
	}
	map_fields(v, val, f, RO_NELEM(f), vals, keys);

	m2 = path_field(v, keys[F_DM], f[F_DM].name);
	if (absent(vals[F_DM]))
		vwarn(v, keys[F_DM] != NULL ? keys[F_DM] : val,
		    "not set; using \"team\"");
	else if (get_str(v, keys[F_DM], vals[F_DM], &s)) {
		if (s[0] == '\0')
			vwarn(v, keys[F_DM], "empty; using \"team\"");
		else if (one_of(s, visibilities, false) == NULL)
			verr(v, keys[F_DM], "invalid visibility %s (expected "
			    "public, team or owner)", ro_node_quote(q, s,
			    strlen(s)));
		else {
			free(p->dm_visibility_default);
			p->dm_visibility_default = s;
			s = NULL;
		}
	}
	free(s);
	path_pop(v, m2);

	if (!absent(vals[F_CREATE])) {
		m2 = path_field(v, keys[F_CREATE], f[F_CREATE].name);
		get_bool(v, keys[F_CREATE], vals[F_CREATE],
		    &p->allow_resource_creation);
		path_pop(v, m2);
	}
	if (!absent(vals[F_MAX])) {
		m2 = path_field(v, keys[F_MAX], f[F_MAX].name);
		get_long(v, keys[F_MAX], vals[F_MAX], 0, SPEC_POLICY_MAX_MAX,
		    "must be an integer from 0 to 2147483647",
		    &p->max_artifacts_per_entity);
		path_pop(v, m2);
	}
done:
	path_pop(v, mark);
}

static void
check_spec(struct vctx *v, const struct ro_node *root,
    const struct ro_node *val, const struct ro_node *key)
{
	static const struct field f[] = {
		{ "roomId", NULL }, { "entities", NULL },
		{ "artifacts", NULL }, { "policies", NULL }
	};
	enum { F_ROOM, F_ENTITIES, F_ARTIFACTS, F_POLICIES };
	const struct ro_node	*vals[RO_NELEM(f)], *keys[RO_NELEM(f)];
	char			 q[RO_NODE_QUOTE_SIZE];
	char			*id;
	size_t			 mark, m2;

	mark = path_field(v, key, "spec");
	if (absent(val)) {
		verr(v, key != NULL ? key : root, "required field is missing "
		    "(it holds roomId, entities, artifacts and policies)");
		goto done;
	}
	if (val->type != RO_NODE_MAP) {
		type_err(v, key, val, "a mapping");
		goto done;
	}
	map_fields(v, val, f, RO_NELEM(f), vals, keys);

	m2 = path_field(v, keys[F_ROOM], "roomId");
	if (get_required(v, val, keys[F_ROOM], vals[F_ROOM],
	    &v->spec->room_id) && !ro_spec_valid_room_id(v->spec->room_id)) {
		id = v->spec->room_id;
		verr(v, keys[F_ROOM], "invalid roomId %s (expected \"room-\" "
		    "and at least 6 letters, digits, '_' or '-')",
		    ro_node_quote(q, id, strlen(id)));
	}
	path_pop(v, m2);

	check_list(v, vals[F_ENTITIES], keys[F_ENTITIES], true);
	check_list(v, vals[F_ARTIFACTS], keys[F_ARTIFACTS], false);
	check_policies(v, val, vals[F_POLICIES], keys[F_POLICIES]);
done:
	path_pop(v, mark);
}

static void
check_root(struct vctx *v, const struct ro_node *root)
{
	static const struct field f[] = {
		{ "apiVersion", NULL }, { "kind", NULL },
		{ "metadata", NULL }, { "spec", NULL }
	};
	enum { F_API, F_KIND, F_META, F_SPEC };
	const struct ro_node	*vals[RO_NELEM(f)], *keys[RO_NELEM(f)];
	char			 d[RO_NODE_QUOTE_SIZE + 32];

	if (root->type != RO_NODE_MAP) {
		verr(v, root, "a RoomSpec must be a mapping with apiVersion, "
		    "kind, metadata and spec; got %s",
		    describe(d, sizeof(d), root));
		return;
	}
	map_fields(v, root, f, RO_NELEM(f), vals, keys);
	check_const(v, vals[F_API], keys[F_API], "apiVersion", "v1");
	check_const(v, vals[F_KIND], keys[F_KIND], "kind", "RoomSpec");
	check_metadata(v, root, vals[F_META], keys[F_META]);
	check_spec(v, root, vals[F_SPEC], keys[F_SPEC]);
}

/* err gets the first error of this document and how many followed. */
static int
set_err_first(struct ro_err *err, const struct ro_diag *diag, size_t first,
    size_t nerr)
{
	const char	*msg = "invalid spec";

	if (diag->errors.n > first)
		msg = diag->errors.v[first];
	if (nerr > 1)
		return ro_err_set(err, RO_EINVALID, "%s (and %zu more "
		    "error%s)", msg, nerr - 1, nerr > 2 ? "s" : "");
	return ro_err_set(err, RO_EINVALID, "%s", msg);
}

static int
spec_from_node(struct ro_spec **out, const char *origin,
    const struct ro_node *root, struct ro_diag *diag, size_t first,
    struct ro_err *err)
{
	struct vctx	v;
	int		error = RO_OK;

	memset(&v, 0, sizeof(v));
	v.origin = origin;
	v.diag = diag;
	ro_buf_init(&v.path, SPEC_PATH_MAX);
	if ((v.spec = calloc(1, sizeof(*v.spec))) == NULL ||
	    (v.spec->path = strdup(origin)) == NULL) {
		error = ro_err_set(err, RO_ENOMEM, "%s: out of memory", origin);
		goto done;
	}
	check_root(&v, root);
	flush_errors(&v);
	if (v.oom)
		error = ro_err_set(err, RO_ENOMEM, "%s: out of memory", origin);
	else if (v.nerr > 0)
		error = set_err_first(err, diag, first, v.nerr);
	else {
		*out = v.spec;
		v.spec = NULL;
	}
done:
	ro_spec_free(v.spec);
	ro_buf_release(&v.path);
	return error;
}

int
ro_spec_parse_yaml(struct ro_spec **out, const char *origin, const char *buf,
    size_t len, struct ro_diag *diag, struct ro_err *err)
{
	struct ro_node	root = RO_NODE_INIT;
	size_t		first = diag->errors.n;
	int		error;

	RO_ASSERT(diag != NULL);
	if (origin == NULL)
		origin = SPEC_ORIGIN_DEFAULT;
	if (len > RO_SPEC_FILE_MAX) {
		if (ro_diag_error(diag, origin, 0, 0, NULL, "file is %zu "
		    "bytes, limit is %u (1 MiB)", len, RO_SPEC_FILE_MAX) < 0)
			return RO_ENOMEM;
		return ro_err_set(err, RO_ETOOBIG, "%s: file is %zu bytes, "
		    "limit is %u (1 MiB)", origin, len, RO_SPEC_FILE_MAX);
	}
	error = ro_yaml_parse(&root, origin, buf, len, RO_SPEC_DEPTH_MAX,
	    diag);
	if (error == RO_EINVALID)
		error = set_err_first(err, diag, first, 1);
	else if (error < 0)
		error = ro_err_set(err, error, "%s: out of memory", origin);
	else
		error = spec_from_node(out, origin, &root, diag, first, err);
	ro_node_release(&root);
	return error;
}

int
ro_spec_load_file(struct ro_spec **out, const char *path,
    struct ro_diag *diag, struct ro_err *err)
{
	struct ro_buf	buf = RO_BUF_INIT;
	struct ro_err	lerr = RO_ERR_INIT;
	int		error;

	if ((error = ro_file_read(path, RO_SPEC_FILE_MAX, &buf, &lerr)) < 0) {
		if (ro_diag_error(diag, NULL, 0, 0, NULL, "%s", lerr.msg) < 0)
			error = RO_ENOMEM;
		ro_err_set(err, error, "%s", lerr.msg);
		goto done;
	}
	error = ro_spec_parse_yaml(out, path, ro_buf_cstr(&buf), buf.len,
	    diag, err);
done:
	ro_buf_release(&buf);
	return error;
}

int
ro_spec_from_json(struct ro_spec **out, const char *origin, const cJSON *obj,
    struct ro_diag *diag, struct ro_err *err)
{
	struct ro_node	root = RO_NODE_INIT;
	size_t		first = diag->errors.n;
	int		error;

	RO_ASSERT(diag != NULL);
	if (origin == NULL)
		origin = SPEC_ORIGIN_DEFAULT;
	error = ro_node_from_json(&root, obj, RO_SPEC_DEPTH_MAX, origin, diag);
	if (error == RO_EINVALID)
		error = set_err_first(err, diag, first, 1);
	else if (error < 0)
		error = ro_err_set(err, error, "%s: out of memory", origin);
	else
		error = spec_from_node(out, origin, &root, diag, first, err);
	ro_node_release(&root);
	return error;
}

static bool
id_chars(const char *s, size_t min, size_t max)
{
	size_t	n;

	for (n = 0; s[n] != '\0'; n++) {
		if (n >= max)
			return false;
		if (!((s[n] >= 'a' && s[n] <= 'z') ||
		    (s[n] >= 'A' && s[n] <= 'Z') ||
		    (s[n] >= '0' && s[n] <= '9') || s[n] == '_' || s[n] == '-'))
			return false;
	}
	return n >= min;
}

int
ro_spec_valid_room_id(const char *id)
{
	return id != NULL && strncmp(id, "room-", 5) == 0 &&
	    id_chars(id + 5, 6, RO_SPEC_STRING_MAX);
}

int
ro_spec_valid_entity_id(const char *id)
{
	return id != NULL && strncmp(id, "E-", 2) == 0 &&
	    id_chars(id + 2, 2, 64);
}
