/*
 * state.c: RoomState JSON (roomserver-api.md), decoded with care.
 *
 * The body comes from the network: its size is checked before anything
 * else, one pass bounds nesting and the number of values before cJSON
 * (which recurses per level and allocates per value) sees it, and every
 * field is type checked with its path in the error. Unknown fields are
 * ignored: the server may add some.
 */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/state.h"

#include "banned.h"

/* JSON values (roughly: containers and list separators) in one body. */
#define STATE_VALUES_MAX	(1u << 21)
/*
 * Largest integer accepted: cJSON prints numbers with 15 significant
 * digits when it deems that close enough, so larger ones would not
 * survive our own encoding exactly.
 */
#define STATE_INT_MAX		999999999999999.0
#define STATE_LONG_MAX		((double)LONG_MAX < STATE_INT_MAX ? \
				    (double)LONG_MAX : STATE_INT_MAX)
#define STATE_PATH_MAX		64	/* bytes of an item prefix */

/* dec_str flags */
#define F_REQ		0x1	/* absent is an error */
#define F_NULL		0x2	/* null means absent */
#define F_NONEMPTY	0x4	/* "" is an error */

struct key {
	const char	*k;
	size_t		 i;
};

static int
nomem(struct ro_err *err)
{
	return ro_err_set(err, RO_ENOMEM, "out of memory");
}

/*
 * Error at field path pfx.key[idx] (key may be NULL, idx -1 for none);
 * the root is called "RoomState".
 */
static int RO_PRINTF(6, 7)
field_err(struct ro_err *err, int code, const char *pfx, const char *key,
    long idx, const char *fmt, ...)
{
	char	path[STATE_PATH_MAX + 64], msg[RO_ERR_MSG_MAX], ix[24] = "";
	va_list	ap;

	if (idx >= 0)
		snprintf(ix, sizeof(ix), "[%ld]", idx);
	snprintf(path, sizeof(path), "%s%s%s%s", pfx,
	    pfx[0] != '\0' && key != NULL ? "." : "", key != NULL ? key : "",
	    ix);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ro_err_set(err, code, "%s: %s",
	    path[0] != '\0' ? path : "RoomState", msg);
}

static const char *
type_name(const cJSON *v)
{
	if (cJSON_IsString(v))
		return "string";
	if (cJSON_IsNumber(v))
		return "number";
	if (cJSON_IsBool(v))
		return "boolean";
	if (cJSON_IsNull(v))
		return "null";
	if (cJSON_IsArray(v))
		return "array";
	if (cJSON_IsObject(v))
		return "object";
	return "invalid value";
}

static int
bad_type(struct ro_err *err, const char *pfx, const char *key, long idx,
    const char *want, const cJSON *v)
{
	return field_err(err, RO_EINVALID, pfx, key, idx, "expected %s, got %s",
	    want, type_name(v));
}

/* Valid UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF. */
static int
utf8_valid(const unsigned char *s)
{
	unsigned	cp, min;
	size_t		n, i;

	while (*s != '\0') {
		if (*s < 0x80) {
			s++;
			continue;
		}
		if ((*s & 0xe0) == 0xc0) {
			n = 1, cp = *s & 0x1f, min = 0x80;
		} else if ((*s & 0xf0) == 0xe0) {
			n = 2, cp = *s & 0x0f, min = 0x800;
		} else if ((*s & 0xf8) == 0xf0) {
			n = 3, cp = *s & 0x07, min = 0x10000;
		} else
			return 0;
		for (i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)	/* NUL stops here too */
				return 0;
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		s += n + 1;
	}
	return 1;
}

/* A string value v (not NULL) into a new *out. */
static int
take_str(char **out, const cJSON *v, int flags, const char *pfx,
    const char *key, long idx, struct ro_err *err)
{
	size_t	n;

	if (!cJSON_IsString(v) || v->valuestring == NULL)
		return bad_type(err, pfx, key, idx, "string", v);
	n = strlen(v->valuestring);
	if (n > RO_SPEC_STRING_MAX)
		return field_err(err, RO_ETOOBIG, pfx, key, idx,
		    "string of %zu bytes, limit is %d", n, RO_SPEC_STRING_MAX);
	if (n == 0 && (flags & F_NONEMPTY))
		return field_err(err, RO_EINVALID, pfx, key, idx,
		    "must not be empty");
	if (!utf8_valid((const unsigned char *)v->valuestring))
		return field_err(err, RO_EINVALID, pfx, key, idx,
		    "invalid UTF-8");
	if ((*out = strdup(v->valuestring)) == NULL)
		return nomem(err);
	return RO_OK;
}

/* Field key of obj (v, NULL when absent) as a string; def when absent. */
static int
dec_str(char **out, const cJSON *v, int flags, const char *def,
    const char *pfx, const char *key, struct ro_err *err)
{
	*out = NULL;
	if (v == NULL && (flags & F_REQ))
		return field_err(err, RO_EINVALID, pfx, key, -1, "missing");
	if (v == NULL || ((flags & F_NULL) && cJSON_IsNull(v))) {
		if (def != NULL && (*out = strdup(def)) == NULL)
			return nomem(err);
		return RO_OK;
	}
	return take_str(out, v, flags, pfx, key, -1, err);
}

static int
dec_bool(bool *out, const cJSON *v, bool def, const char *pfx,
    const char *key, struct ro_err *err)
{
	if (v == NULL) {
		*out = def;
		return RO_OK;
	}
	if (!cJSON_IsBool(v))
		return bad_type(err, pfx, key, -1, "boolean", v);
	*out = cJSON_IsTrue(v);
	return RO_OK;
}

/* An integer in [min, max] (both exact in a double). */
static int
dec_int(double *out, const cJSON *v, double def, double min, double max,
    const char *pfx, const char *key, struct ro_err *err)
{
	double	d;

	if (v == NULL) {
		*out = def;
		return RO_OK;
	}
	if (!cJSON_IsNumber(v))
		return bad_type(err, pfx, key, -1,
		    min >= 0 ? "non-negative integer" : "integer", v);
	d = v->valuedouble;
	if (!isfinite(d) || d != floor(d) || d < min || d > max)
		return field_err(err, RO_EINVALID, pfx, key, -1,
		    "expected %s up to %.0f, got %g",
		    min >= 0 ? "non-negative integer" : "integer", max, d);
	*out = d;
	return RO_OK;
}

/* A list of strings; [] when absent. */
static int
dec_strv(struct ro_strv *out, const cJSON *v, const char *pfx,
    const char *key, struct ro_err *err)
{
	const cJSON	*it;
	char		*s;
	long		 i = 0;
	int		 error;

	if (v == NULL)
		return RO_OK;
	if (!cJSON_IsArray(v))
		return bad_type(err, pfx, key, -1, "array of strings", v);
	cJSON_ArrayForEach(it, v) {
		s = NULL;
		if ((error = take_str(&s, it, 0, pfx, key, i, err)) < 0)
			return error;
		if (ro_strv_push_owned(out, s) < 0)
			return nomem(err);
		i++;
	}
	return RO_OK;
}

/* 64 lower-case hex digits or "" (absent and null are ""). */
static int
dec_hex(char out[RO_HEX_SHA256_LEN + 1], const cJSON *v, const char *pfx,
    const char *key, struct ro_err *err)
{
	const char	*s;
	size_t		 n;

	out[0] = '\0';
	if (v == NULL || cJSON_IsNull(v))
		return RO_OK;
	if (!cJSON_IsString(v) || v->valuestring == NULL)
		return bad_type(err, pfx, key, -1, "string", v);
	s = v->valuestring;
	n = strspn(s, "0123456789abcdef");
	if (s[0] != '\0' && (n != RO_HEX_SHA256_LEN || s[n] != '\0'))
		return field_err(err, RO_EINVALID, pfx, key, -1,
		    "expected %d lower-case hex digits or \"\"",
		    RO_HEX_SHA256_LEN);
	memcpy(out, s, n + 1);
	return RO_OK;
}

static const cJSON *
get(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* Policy keys are snake_case; camelCase is accepted as an alias. */
static const cJSON *
get_alias(const cJSON *obj, const char **key, const char *alias)
{
	const cJSON	*v;

	if ((v = get(obj, *key)) == NULL && (v = get(obj, alias)) != NULL)
		*key = alias;
	return v;
}

static int
dec_policy(struct ro_entity_policy *p, const cJSON *o, const char *pfx,
    struct ro_err *err)
{
	const cJSON	*v;
	const char	*k;
	int		 error;

	if (o != NULL && !cJSON_IsObject(o))
		return bad_type(err, pfx, NULL, -1, "object", o);
	k = "allow_commands_from";
	v = o != NULL ? get_alias(o, &k, "allowCommandsFrom") : NULL;
	if ((error = dec_str(&p->allow_commands_from, v, 0, "any", pfx, k,
	    err)) < 0)
		return error;
	k = "sandbox_mode";
	v = o != NULL ? get_alias(o, &k, "sandboxMode") : NULL;
	if ((error = dec_bool(&p->sandbox_mode, v, false, pfx, k, err)) < 0)
		return error;
	k = "env_whitelist";
	v = o != NULL ? get_alias(o, &k, "envWhitelist") : NULL;
	if ((error = dec_strv(&p->env_whitelist, v, pfx, k, err)) < 0)
		return error;
	v = o != NULL ? get(o, "scopes") : NULL;
	return dec_strv(&p->scopes, v, pfx, "scopes", err);
}

static int
dec_entity(struct ro_entity *e, const cJSON *o, size_t i,
    struct ro_err *err)
{
	char	pfx[STATE_PATH_MAX], ppfx[STATE_PATH_MAX + 8];
	int	error;

	snprintf(pfx, sizeof(pfx), "entities[%zu]", i);
	if (!cJSON_IsObject(o))
		return bad_type(err, pfx, NULL, -1, "object", o);
	if ((error = dec_str(&e->id, get(o, "id"), F_REQ | F_NONEMPTY, NULL,
	    pfx, "id", err)) < 0 ||
	    (error = dec_str(&e->kind, get(o, "kind"), F_REQ, NULL, pfx,
	    "kind", err)) < 0 ||
	    (error = dec_str(&e->display_name, get(o, "displayName"), F_NULL,
	    NULL, pfx, "displayName", err)) < 0 ||
	    (error = dec_str(&e->visibility, get(o, "visibility"), 0, "team",
	    pfx, "visibility", err)) < 0 ||
	    (error = dec_str(&e->owner_user_id, get(o, "ownerUserId"), F_NULL,
	    NULL, pfx, "ownerUserId", err)) < 0 ||
	    (error = dec_strv(&e->capabilities, get(o, "capabilities"), pfx,
	    "capabilities", err)) < 0)
		return error;
	snprintf(ppfx, sizeof(ppfx), "%s.policy", pfx);
	return dec_policy(&e->policy, get(o, "policy"), ppfx, err);
}

static int
dec_artifact(struct ro_artifact *a, const cJSON *o, size_t i,
    struct ro_err *err)
{
	char	pfx[STATE_PATH_MAX];
	double	d;
	int	error;

	snprintf(pfx, sizeof(pfx), "artifacts[%zu]", i);
	if (!cJSON_IsObject(o))
		return bad_type(err, pfx, NULL, -1, "object", o);
	a->seed = RO_SEED_NONE;
	if ((error = dec_str(&a->name, get(o, "name"), F_REQ | F_NONEMPTY,
	    NULL, pfx, "name", err)) < 0 ||
	    (error = dec_str(&a->type, get(o, "type"), F_REQ, NULL, pfx,
	    "type", err)) < 0 ||
	    (error = dec_str(&a->workspace, get(o, "workspace"), F_REQ, NULL,
	    pfx, "workspace", err)) < 0 ||
	    (error = dec_strv(&a->tags, get(o, "tags"), pfx, "tags",
	    err)) < 0 ||
	    (error = dec_hex(a->fingerprint, get(o, "fingerprint"), pfx,
	    "fingerprint", err)) < 0 ||
	    (error = dec_hex(a->content_hash, get(o, "contentHash"), pfx,
	    "contentHash", err)) < 0 ||
	    (error = dec_bool(&a->is_promoted, get(o, "isPromoted"), false,
	    pfx, "isPromoted", err)) < 0)
		return error;
	if ((error = dec_int(&d, get(o, "size"), 0, 0, STATE_INT_MAX, pfx,
	    "size", err)) < 0)
		return error;
	a->size = (uint64_t)d;
	if ((error = dec_int(&d, get(o, "version"), 0, 0, STATE_LONG_MAX, pfx,
	    "version", err)) < 0)
		return error;
	a->version = (long)d;
	return RO_OK;
}

static int
dec_policies(struct ro_policies *p, const cJSON *o, struct ro_err *err)
{
	const char	*pfx = "policies";
	double		 d;
	int		 error;

	if (o != NULL && !cJSON_IsObject(o))
		return bad_type(err, pfx, NULL, -1, "object", o);
	if ((error = dec_str(&p->dm_visibility_default,
	    o != NULL ? get(o, "dmVisibilityDefault") : NULL, 0, "team", pfx,
	    "dmVisibilityDefault", err)) < 0 ||
	    (error = dec_bool(&p->allow_resource_creation,
	    o != NULL ? get(o, "allowResourceCreation") : NULL, false, pfx,
	    "allowResourceCreation", err)) < 0 ||
	    (error = dec_int(&d,
	    o != NULL ? get(o, "maxArtifactsPerEntity") : NULL, 100,
	    -STATE_LONG_MAX, STATE_LONG_MAX, pfx, "maxArtifactsPerEntity",
	    err)) < 0)
		return error;
	p->max_artifacts_per_entity = (long)d;
	return RO_OK;
}

/* Array field key of root with at most max items; *n = 0 when absent. */
static int
list_size(const cJSON *v, const char *key, size_t max, size_t *n,
    struct ro_err *err)
{
	size_t	k;

	*n = 0;
	if (v == NULL)
		return RO_OK;
	if (!cJSON_IsArray(v))
		return bad_type(err, "", key, -1, "array", v);
	k = (size_t)cJSON_GetArraySize(v);
	if (k > max)
		return field_err(err, RO_ETOOBIG, "", key, -1,
		    "%zu items, limit is %zu", k, max);
	*n = k;
	return RO_OK;
}

static int
key_cmp(const void *a, const void *b)
{
	const struct key	*x = a, *y = b;
	int			 c;

	if ((c = strcmp(x->k, y->k)) != 0)
		return c;
	return (x->i > y->i) - (x->i < y->i);
}

/* Sort keys[0..n) and fail on the first duplicate. */
static int
dups(struct key *keys, size_t n, const char *list, const char *field,
    struct ro_err *err)
{
	size_t	i;

	qsort(keys, n, sizeof(*keys), key_cmp);
	for (i = 1; i < n; i++)
		if (strcmp(keys[i - 1].k, keys[i].k) == 0)
			return ro_err_set(err, RO_EINVALID,
			    "%s[%zu].%s: duplicate \"%.64s\" (also %s[%zu])",
			    list, keys[i].i, field, keys[i].k, list,
			    keys[i - 1].i);
	return RO_OK;
}

/* Entity ids and artifact names must be unique in the room. */
static int
check_unique(const struct ro_state *s, struct ro_err *err)
{
	struct key	*keys;
	size_t		 i, n;
	int		 error;

	n = s->n_entities > s->n_artifacts ? s->n_entities : s->n_artifacts;
	if (n < 2)
		return RO_OK;
	if ((keys = reallocarray(NULL, n, sizeof(*keys))) == NULL)
		return nomem(err);
	for (i = 0; i < s->n_entities; i++) {
		keys[i].k = s->entities[i].id;
		keys[i].i = i;
	}
	if ((error = dups(keys, s->n_entities, "entities", "id", err)) < 0)
		goto done;
	for (i = 0; i < s->n_artifacts; i++) {
		keys[i].k = s->artifacts[i].name;
		keys[i].i = i;
	}
	error = dups(keys, s->n_artifacts, "artifacts", "name", err);
done:
	free(keys);
	return error;
}

int
ro_state_from_json(struct ro_state **out, const cJSON *obj,
    struct ro_err *err)
{
	struct ro_state	*s = NULL;
	const cJSON	*ents, *arts, *it;
	double		 d;
	size_t		 i, n_ents, n_arts;
	int		 error;

	if (!cJSON_IsObject(obj))
		return bad_type(err, "", NULL, -1, "object", obj);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return nomem(err);
	ents = get(obj, "entities");
	arts = get(obj, "artifacts");
	if ((error = dec_str(&s->room_id, get(obj, "roomId"),
	    F_REQ | F_NONEMPTY, NULL, "", "roomId", err)) < 0)
		goto done;
	if (get(obj, "revision") == NULL) {
		error = field_err(err, RO_EINVALID, "", "revision", -1,
		    "missing");
		goto done;
	}
	if ((error = dec_int(&d, get(obj, "revision"), 0, 0, STATE_LONG_MAX,
	    "", "revision", err)) < 0)
		goto done;
	s->revision = (long)d;
	if ((error = dec_str(&s->last_updated, get(obj, "lastUpdated"),
	    F_NULL, NULL, "", "lastUpdated", err)) < 0 ||
	    (error = list_size(ents, "entities", RO_SPEC_ENTITIES_MAX,
	    &n_ents, err)) < 0 ||
	    (error = list_size(arts, "artifacts", RO_SPEC_ARTIFACTS_MAX,
	    &n_arts, err)) < 0)
		goto done;
	/* zeroed items release cleanly: the counts can be set at once */
	if (n_ents > 0) {
		if ((s->entities = calloc(n_ents, sizeof(*s->entities))) ==
		    NULL) {
			error = nomem(err);
			goto done;
		}
		s->n_entities = n_ents;
	}
	if (n_arts > 0) {
		if ((s->artifacts = calloc(n_arts, sizeof(*s->artifacts))) ==
		    NULL) {
			error = nomem(err);
			goto done;
		}
		s->n_artifacts = n_arts;
	}
	i = 0;
	cJSON_ArrayForEach(it, ents) {
		if ((error = dec_entity(&s->entities[i], it, i, err)) < 0)
			goto done;
		i++;
	}
	i = 0;
	cJSON_ArrayForEach(it, arts) {
		if ((error = dec_artifact(&s->artifacts[i], it, i, err)) < 0)
			goto done;
		i++;
	}
	if ((error = dec_policies(&s->policies, get(obj, "policies"),
	    err)) < 0 ||
	    (error = check_unique(s, err)) < 0)
		goto done;
	*out = s;
	s = NULL;
done:
	ro_state_free(s);
	return error;
}

/*
 * One pass before cJSON: bounds nesting (cJSON recurses per level) and
 * the number of values (cJSON allocates per value), and tells whether
 * the body ends inside a string or an open container.
 */
static int
prescan(const char *buf, size_t len, int *truncated, struct ro_err *err)
{
	size_t	i, depth = 0, values = 0;
	int	in_str = 0, esc = 0;

	for (i = 0; i < len; i++) {
		if (in_str) {
			if (esc)
				esc = 0;
			else if (buf[i] == '\\')
				esc = 1;
			else if (buf[i] == '"')
				in_str = 0;
			continue;
		}
		switch (buf[i]) {
		case '"':
			in_str = 1;
			break;
		case '[':
		case '{':
			if (++depth > RO_SPEC_DEPTH_MAX)
				return ro_err_set(err, RO_ETOOBIG, "RoomState: "
				    "nesting deeper than %d levels at byte %zu",
				    RO_SPEC_DEPTH_MAX, i);
			values++;
			break;
		case ']':
		case '}':
			if (depth > 0)
				depth--;
			break;
		case ',':
			values++;
			break;
		}
		if (values > STATE_VALUES_MAX)
			return ro_err_set(err, RO_ETOOBIG, "RoomState: more "
			    "than %u values", STATE_VALUES_MAX);
	}
	*truncated = in_str || depth > 0;
	return RO_OK;
}

static int
syntax_err(const char *buf, size_t len, size_t pos, const char *what,
    struct ro_err *err)
{
	unsigned	line = 1, col = 1;
	size_t		i;

	for (i = 0; i < pos && i < len; i++) {
		if (buf[i] == '\n') {
			line++;
			col = 1;
		} else
			col++;
	}
	return ro_err_set(err, RO_EINVALID, "RoomState: %s near line %u, "
	    "column %u", what, line, col);
}

int
ro_state_parse_json(struct ro_state **out, const char *buf, size_t len,
    struct ro_err *err)
{
	cJSON		*root = NULL;
	const char	*end = NULL;
	size_t		 pos;
	int		 error, truncated = 0;

	if (len > RO_STATE_JSON_MAX)
		return ro_err_set(err, RO_ETOOBIG, "RoomState: %zu bytes, "
		    "limit is %u", len, RO_STATE_JSON_MAX);
	if (len == 0 || buf == NULL)
		return ro_err_set(err, RO_EINVALID, "RoomState: empty body");
	if ((error = prescan(buf, len, &truncated, err)) < 0)
		return error;
	if ((root = cJSON_ParseWithLengthOpts(buf, len, &end, 0)) == NULL) {
		if (truncated)
			return ro_err_set(err, RO_EINVALID, "RoomState: "
			    "truncated JSON (body ends inside a value)");
		pos = end != NULL && end >= buf ? (size_t)(end - buf) : 0;
		return syntax_err(buf, len, pos, "invalid JSON", err);
	}
	pos = end != NULL && end >= buf ? (size_t)(end - buf) : len;
	while (pos < len && strchr(" \t\r\n", buf[pos]) != NULL &&
	    buf[pos] != '\0')
		pos++;
	if (pos < len) {
		error = syntax_err(buf, len, pos, "trailing data after JSON",
		    err);
		goto done;
	}
	error = ro_state_from_json(out, root, err);
done:
	cJSON_Delete(root);
	return error;
}

int
ro_state_new_empty(struct ro_state **out, const char *room_id,
    struct ro_err *err)
{
	struct ro_state	*s;

	RO_ASSERT(room_id != NULL);
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->room_id = strdup(room_id)) == NULL ||
	    ro_policies_default(&s->policies) < 0) {
		ro_state_free(s);
		return nomem(err);
	}
	*out = s;
	return RO_OK;
}

cJSON *
ro_state_to_json(const struct ro_state *s)
{
	cJSON	*o, *ents, *arts;
	size_t	 i;

	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	if (!cJSON_AddStringToObject(o, "roomId",
	    s->room_id != NULL ? s->room_id : "") ||
	    !cJSON_AddNumberToObject(o, "revision", (double)s->revision) ||
	    !(s->last_updated != NULL ?
	    cJSON_AddStringToObject(o, "lastUpdated", s->last_updated) != NULL :
	    cJSON_AddNullToObject(o, "lastUpdated") != NULL) ||
	    (ents = cJSON_AddArrayToObject(o, "entities")) == NULL ||
	    (arts = cJSON_AddArrayToObject(o, "artifacts")) == NULL)
		goto fail;
	for (i = 0; i < s->n_entities; i++)
		if (!cJSON_AddItemToArray(ents,
		    ro_entity_to_json(&s->entities[i], NULL)))
			goto fail;
	for (i = 0; i < s->n_artifacts; i++)
		if (!cJSON_AddItemToArray(arts,
		    ro_artifact_to_json(&s->artifacts[i])))
			goto fail;
	if (!cJSON_AddItemToObject(o, "policies",
	    ro_policies_to_json(&s->policies)))
		goto fail;
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}
