/* intent.c: the write-ahead intent of a reconcile cycle (intent.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/sha.h>

#include "roomops/file.h"
#include "roomops/hex.h"
#include "roomops/state.h"
#include "intent.h"

#include "../common/banned.h"

#define INTENT_NAME_MAX		200	/* longer room ids: a digest name */

struct ro_intent {
	char			 record[RO_UUID_LEN + 1];
	struct ro_audit_diff	 carry;
	struct ro_intent_item	*items;
	size_t			 n;
	struct ro_intent_item	*doubt;
	size_t			 ndoubt;
	struct ro_state		*want;
};

static const char *const carry_keys[] = { "join", "kick", "update", "seed",
    "promote", "delete", "policies" };

static size_t *
carry_field(struct ro_audit_diff *d, size_t i)
{
	size_t	*f[] = { &d->join, &d->kick, &d->update, &d->seed,
		    &d->promote, &d->del, &d->policies };

	return f[i];
}

static int
intent_path(char *out, size_t len, const char *dir, const char *room,
    struct ro_err *err)
{
	unsigned char	md[SHA256_DIGEST_LENGTH];
	char		hex[2 * SHA256_DIGEST_LENGTH + 1];
	int		n;

	if (strlen(room) <= INTENT_NAME_MAX && strchr(room, '/') == NULL &&
	    room[0] != '.')
		n = snprintf(out, len, "%s/%s.json", dir, room);
	else {
		SHA256((const unsigned char *)room, strlen(room), md);
		ro_hex_encode(hex, md, sizeof(md));
		n = snprintf(out, len, "%s/h-%s.json", dir, hex);
	}
	if (n < 0 || (size_t)n >= len)
		return ro_err_set(err, RO_EINVALID, "%s: path too long", dir);
	return RO_OK;
}

static bool
add_item(cJSON *items, enum ro_op op, const char *id)
{
	cJSON	*it = cJSON_CreateArray();

	if (it == NULL || !cJSON_AddItemToArray(items, it))
		return false;
	return cJSON_AddItemToArray(it, cJSON_CreateString(ro_op_name(op))) &&
	    cJSON_AddItemToArray(it, cJSON_CreateString(id));
}

static bool
has_name(const cJSON *arr, const char *key, const char *v)
{
	const cJSON	*o;

	cJSON_ArrayForEach(o, arr) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, key);

		if (cJSON_IsString(n) && strcmp(n->valuestring, v) == 0)
			return true;
	}
	return false;
}

static cJSON *
intent_json(const struct ro_spec *spec, const struct ro_plan *plan,
    const char *record, const struct ro_audit_diff *carry,
    const struct ro_intent_item *doubt, size_t ndoubt)
{
	const struct ro_state	*st = plan->state;
	const struct ro_entity	*e;
	const struct ro_artifact *a;
	struct ro_audit_diff	 c = *carry;
	cJSON			*o, *items, *want, *ents, *arts, *cj, *dj;
	size_t			 i;
	bool			 ok = true;

	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	ok = cJSON_AddNumberToObject(o, "v", 1) != NULL &&
	    cJSON_AddStringToObject(o, "room", spec->room_id) != NULL &&
	    cJSON_AddStringToObject(o, "record", record) != NULL &&
	    (cj = cJSON_AddObjectToObject(o, "carry")) != NULL &&
	    (items = cJSON_AddArrayToObject(o, "items")) != NULL &&
	    (dj = cJSON_AddArrayToObject(o, "doubt")) != NULL &&
	    (want = cJSON_AddObjectToObject(o, "want")) != NULL &&
	    cJSON_AddStringToObject(want, "roomId", spec->room_id) != NULL &&
	    cJSON_AddNumberToObject(want, "revision", 0) != NULL &&
	    (ents = cJSON_AddArrayToObject(want, "entities")) != NULL &&
	    (arts = cJSON_AddArrayToObject(want, "artifacts")) != NULL &&
	    cJSON_AddItemToObject(want, "policies",
	    ro_policies_to_json(&spec->policies));
	for (i = 0; ok && i < RO_NELEM(carry_keys); i++)
		ok = cJSON_AddNumberToObject(cj, carry_keys[i],
		    (double)*carry_field(&c, i)) != NULL;
	for (i = 0; ok && i < plan->join.n; i++) {
		e = &spec->entities[plan->join.v[i]];
		ok = add_item(items, RO_OP_JOIN, e->id) &&
		    cJSON_AddItemToArray(ents, ro_entity_to_json(e, NULL));
	}
	for (i = 0; ok && i < plan->update.n; i++) {
		e = &spec->entities[plan->update.v[i]];
		ok = add_item(items, RO_OP_UPDATE, e->id) &&
		    cJSON_AddItemToArray(ents, ro_entity_to_json(e, NULL));
	}
	for (i = 0; ok && i < plan->kick.n; i++)
		ok = add_item(items, RO_OP_KICK,
		    st->entities[plan->kick.v[i]].id);
	for (i = 0; ok && i < plan->seed.n; i++) {
		a = &spec->artifacts[plan->seed.v[i]];
		ok = add_item(items, RO_OP_SEED, a->name) &&
		    cJSON_AddItemToArray(arts, ro_artifact_to_json(a));
	}
	for (i = 0; ok && i < plan->promote.n; i++) {
		a = &spec->artifacts[plan->promote.v[i]];
		ok = add_item(items, RO_OP_PROMOTE, a->name) &&
		    (has_name(arts, "name", a->name) ||
		    cJSON_AddItemToArray(arts, ro_artifact_to_json(a)));
	}
	for (i = 0; ok && i < plan->del.n; i++)
		ok = add_item(items, RO_OP_DELETE,
		    st->artifacts[plan->del.v[i]].name);
	if (ok && plan->policies != 0)
		ok = add_item(items, RO_OP_POLICIES, "policies");
	for (i = 0; ok && i < ndoubt; i++)
		ok = add_item(dj, doubt[i].op, doubt[i].id);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int
ro_intent_save(const char *dir, const struct ro_spec *spec,
    const struct ro_plan *plan, const char *record,
    const struct ro_audit_diff *carry, const struct ro_intent_item *doubt,
    size_t ndoubt, struct ro_err *err)
{
	char	 path[PATH_MAX], *text = NULL;
	cJSON	*o;
	int	 error;

	if ((error = intent_path(path, sizeof(path), dir, spec->room_id,
	    err)) < 0)
		return error;
	if ((o = intent_json(spec, plan, record, carry, doubt, ndoubt)) ==
	    NULL ||
	    (text = cJSON_PrintUnformatted(o)) == NULL) {
		error = ro_err_set(err, RO_ENOMEM, "out of memory");
		goto done;
	}
	error = ro_file_replace(path, text, strlen(text), err);
done:
	cJSON_free(text);
	cJSON_Delete(o);
	return error;
}

void
ro_intent_free(struct ro_intent *in)
{
	size_t	i;

	if (in == NULL)
		return;
	for (i = 0; i < in->n; i++)
		free(in->items[i].id);
	free(in->items);
	for (i = 0; i < in->ndoubt; i++)
		free(in->doubt[i].id);
	free(in->doubt);
	ro_state_free(in->want);
	free(in);
}

static int
parse_op(const char *s, enum ro_op *op)
{
	int	k;

	for (k = RO_OP_JOIN; k <= RO_OP_POLICIES; k++)
		if (strcmp(ro_op_name((enum ro_op)k), s) == 0) {
			*op = (enum ro_op)k;
			return RO_OK;
		}
	return RO_EINVALID;
}

/* [[op, id], ...] (absent: none) into a new array. */
static int
parse_items(const cJSON *arr, struct ro_intent_item **out, size_t *n,
    const char *path, struct ro_err *err)
{
	const cJSON	*it, *op, *id;

	*n = 0;
	if (arr == NULL)
		return RO_OK;
	if (!cJSON_IsArray(arr))
		return ro_err_set(err, RO_EINVALID, "%s: bad item list", path);
	if ((*out = calloc((size_t)cJSON_GetArraySize(arr) + 1,
	    sizeof(**out))) == NULL)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	cJSON_ArrayForEach(it, arr) {
		op = cJSON_GetArrayItem(it, 0);
		id = cJSON_GetArrayItem(it, 1);
		if (!cJSON_IsString(op) || !cJSON_IsString(id) ||
		    parse_op(op->valuestring, &(*out)[*n].op) < 0)
			return ro_err_set(err, RO_EINVALID, "%s: bad item",
			    path);
		if (((*out)[*n].id = strdup(id->valuestring)) == NULL)
			return ro_err_set(err, RO_ENOMEM, "out of memory");
		(*n)++;
	}
	return RO_OK;
}

int
ro_intent_load(const char *dir, const char *room, struct ro_intent **out,
    struct ro_err *err)
{
	struct ro_buf	 b = RO_BUF_INIT;
	struct ro_intent *in = NULL;
	char		 path[PATH_MAX];
	const cJSON	*rec, *items, *cj, *v;
	cJSON		*o = NULL;
	size_t		 i;
	int		 error;

	if ((error = intent_path(path, sizeof(path), dir, room, err)) < 0)
		return error;
	if ((error = ro_file_read(path, RO_INTENT_FILE_MAX, &b, err)) < 0)
		goto done;
	if ((o = cJSON_ParseWithLength(b.ptr, b.len)) == NULL ||
	    !cJSON_IsString(rec = cJSON_GetObjectItemCaseSensitive(o,
	    "record")) || strlen(rec->valuestring) != RO_UUID_LEN ||
	    !cJSON_IsArray(items = cJSON_GetObjectItemCaseSensitive(o,
	    "items"))) {
		error = ro_err_set(err, RO_EINVALID, "%s: not an intent", path);
		goto done;
	}
	if ((in = calloc(1, sizeof(*in))) == NULL) {
		error = ro_err_set(err, RO_ENOMEM, "out of memory");
		goto done;
	}
	memcpy(in->record, rec->valuestring, RO_UUID_LEN + 1);
	cj = cJSON_GetObjectItemCaseSensitive(o, "carry");
	for (i = 0; i < RO_NELEM(carry_keys); i++) {
		v = cJSON_GetObjectItemCaseSensitive(cj, carry_keys[i]);
		if (cJSON_IsNumber(v) && v->valuedouble >= 0 &&
		    v->valuedouble < 1e9)
			*carry_field(&in->carry, i) = (size_t)v->valuedouble;
	}
	if ((error = parse_items(items, &in->items, &in->n, path, err)) < 0 ||
	    (error = parse_items(cJSON_GetObjectItemCaseSensitive(o, "doubt"),
	    &in->doubt, &in->ndoubt, path, err)) < 0)
		goto done;
	if ((error = ro_state_from_json(&in->want,
	    cJSON_GetObjectItemCaseSensitive(o, "want"), err)) < 0)
		goto done;
	*out = in;
	in = NULL;
done:
	ro_intent_free(in);
	cJSON_Delete(o);
	ro_buf_release(&b);
	return error;
}

const char *
ro_intent_record(const struct ro_intent *in)
{
	return in->record;
}

int
ro_intent_recorded(const char *path, const char *record, bool *yes,
    struct ro_err *err)
{
	struct ro_audit_query	 q = RO_AUDIT_QUERY_INIT;
	cJSON			*found;
	int			 error;

	*yes = false;
	if ((found = cJSON_CreateArray()) == NULL)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	q.id = record;
	q.count = 1;
	/* backwards from the end: the record is one of the last */
	if ((error = ro_auditlog_read(path, &q, found, NULL, err)) == RO_OK)
		*yes = cJSON_GetArraySize(found) > 0;
	cJSON_Delete(found);
	return error;
}

/* Does now show item (op, id), whose intended values are in the want
 * arrays? */
static bool
effect(enum ro_op op, const char *id, const struct ro_entity *wents,
    size_t nwe, const struct ro_artifact *warts, size_t nwa,
    const struct ro_policies *wpol, const struct ro_state *now)
{
	const struct ro_entity	 *e, *we;
	const struct ro_artifact *a, *wa;

	switch (op) {
	case RO_OP_JOIN:
		return ro_entity_find(now->entities, now->n_entities,
		    id) != NULL;
	case RO_OP_UPDATE:
		e = ro_entity_find(now->entities, now->n_entities, id);
		we = ro_entity_find(wents, nwe, id);
		return e != NULL && we != NULL && ro_entity_equal(we, e);
	case RO_OP_KICK:
		return ro_entity_find(now->entities, now->n_entities,
		    id) == NULL;
	case RO_OP_SEED:
		a = ro_artifact_find(now->artifacts, now->n_artifacts, id);
		wa = ro_artifact_find(warts, nwa, id);
		return a != NULL && wa != NULL && wa->fingerprint[0] != '\0' &&
		    strcmp(a->fingerprint, wa->fingerprint) == 0;
	case RO_OP_PROMOTE:
		a = ro_artifact_find(now->artifacts, now->n_artifacts, id);
		return a != NULL && a->is_promoted;
	case RO_OP_DELETE:
		return ro_artifact_find(now->artifacts, now->n_artifacts,
		    id) == NULL;
	case RO_OP_POLICIES:
		return ro_policies_diff(wpol, &now->policies) == 0;
	}
	return false;
}

bool
ro_intent_effect(enum ro_op op, const char *id, const struct ro_spec *spec,
    const struct ro_state *now)
{
	return effect(op, id, spec->entities, spec->n_entities,
	    spec->artifacts, spec->n_artifacts, &spec->policies, now);
}

size_t
ro_intent_ndoubt(const struct ro_intent *in)
{
	return in->ndoubt;
}

size_t
ro_intent_done(const struct ro_intent *in, const struct ro_state *now,
    bool recorded, struct ro_audit_diff *d)
{
	const struct ro_state		*w = in->want;
	const struct ro_intent_item	*v = recorded ? in->doubt : in->items;
	struct ro_audit_diff		 carry = in->carry;
	size_t				 i, n = 0, c, nv;

	nv = recorded ? in->ndoubt : in->n;
	for (i = 0; !recorded && i < RO_NELEM(carry_keys); i++) {
		c = *carry_field(&carry, i);
		*carry_field(d, i) += c;
		n += c;
	}
	for (i = 0; i < nv; i++)
		if (effect(v[i].op, v[i].id, w->entities, w->n_entities,
		    w->artifacts, w->n_artifacts, &w->policies, now)) {
			ro_audit_diff_count(d, v[i].op);
			n++;
		}
	return n;
}

int
ro_intent_remove(const char *dir, const char *room, struct ro_err *err)
{
	char	path[PATH_MAX];
	int	error;

	if ((error = intent_path(path, sizeof(path), dir, room, err)) < 0)
		return error;
	if (unlink(path) == -1 && errno != ENOENT)
		return ro_err_errno(err, RO_EIO, "%s", path);
	return RO_OK;
}
