/*
 * codec.c: JSON of entities, policies and RoomState for roomserver-sim.
 * Decoding checks every type and limit: a hostile body is a 400 with the
 * field named, never a crash. Encoding uses the shared encoders of
 * common/model.c so the sim serves exactly what the agent expects.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#include "../common/banned.h"

#define MAX_POLICY_ARTIFACTS	1000000L	/* maxArtifactsPerEntity */
#define MAX_REVISION		(1L << 53)	/* exact in a JSON number */

static const cJSON *
field(const cJSON *o, const char *name, const char *alias)
{
	const cJSON	*v;

	v = cJSON_GetObjectItemCaseSensitive(o, name);
	if (v == NULL && alias != NULL)
		v = cJSON_GetObjectItemCaseSensitive(o, alias);
	return v;
}

/* Optional string: absent or null leaves *dst NULL. */
static int
get_str(char **dst, const cJSON *o, const char *name, const char *alias,
    size_t max, struct ro_err *err)
{
	const cJSON	*v = field(o, name, alias);

	*dst = NULL;
	if (v == NULL || cJSON_IsNull(v))
		return RO_OK;
	if (!cJSON_IsString(v))
		return ro_err_set(err, RO_EINVALID, "%s: not a string", name);
	if (!validate_text(v->valuestring, strlen(v->valuestring), max))
		return ro_err_set(err, RO_EINVALID, "%s: not UTF-8 text of at "
		    "most %zu bytes", name, max);
	if ((*dst = strdup(v->valuestring)) == NULL)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	return RO_OK;
}

/* Optional list of strings: absent or null is empty. */
static int
get_strv(struct ro_strv *sv, const cJSON *o, const char *name,
    const char *alias, struct ro_err *err)
{
	const cJSON	*v = field(o, name, alias), *it;
	const char	*s;

	if (v == NULL || cJSON_IsNull(v))
		return RO_OK;
	if (!cJSON_IsArray(v))
		return ro_err_set(err, RO_EINVALID, "%s: not a list", name);
	if (cJSON_GetArraySize(v) > SIM_LIST_MAX)
		return ro_err_set(err, RO_ETOOBIG, "%s: more than %d items",
		    name, SIM_LIST_MAX);
	cJSON_ArrayForEach(it, v) {
		if (!cJSON_IsString(it))
			return ro_err_set(err, RO_EINVALID, "%s: item is not "
			    "a string", name);
		s = it->valuestring;
		if (!validate_text(s, strlen(s), SIM_STRING_MAX))
			return ro_err_set(err, RO_EINVALID, "%s: item is not "
			    "UTF-8 text of at most %d bytes", name,
			    SIM_STRING_MAX);
		if (ro_strv_push(sv, s) < 0)
			return ro_err_set(err, RO_ENOMEM, "out of memory");
	}
	return RO_OK;
}

static int
get_bool(bool *dst, const cJSON *o, const char *name, const char *alias,
    struct ro_err *err)
{
	const cJSON	*v = field(o, name, alias);

	if (v == NULL || cJSON_IsNull(v))
		return RO_OK;
	if (!cJSON_IsBool(v))
		return ro_err_set(err, RO_EINVALID, "%s: not a boolean", name);
	*dst = cJSON_IsTrue(v);
	return RO_OK;
}

/* An integral JSON number in [min, max]. */
static int
num_long(long *dst, const cJSON *v, const char *name, long min, long max,
    struct ro_err *err)
{
	double	d;

	if (!cJSON_IsNumber(v))
		return ro_err_set(err, RO_EINVALID, "%s: not a number", name);
	d = v->valuedouble;
	if (!isfinite(d) || d != floor(d) || d < (double)min ||
	    d > (double)max)
		return ro_err_set(err, RO_EINVALID, "%s: not an integer in "
		    "%ld..%ld", name, min, max);
	*dst = (long)d;
	return RO_OK;
}

/*
 * Fields shared by the Join body and the RoomState entity; the id is
 * handled by the callers.
 */
static int
entity_fields(struct ro_entity *e, const cJSON *o, const char **code,
    struct ro_err *err)
{
	const cJSON	*pol;
	char		*kind = NULL;
	const char	*lower;
	int		 error;

	*code = "INVALID_ENTITY_KIND";
	if ((error = get_str(&kind, o, "kind", NULL, SIM_STRING_MAX,
	    err)) < 0)
		goto done;
	if ((lower = validate_kind(kind)) == NULL) {
		*code = "INVALID_ENTITY_KIND";
		error = kind == NULL ?
		    ro_err_set(err, RO_EINVALID, "kind: missing") :
		    ro_err_set(err, RO_EINVALID, "kind: \"%.64s\" is not "
		    "human, agent, npc or orchestrator", kind);
		goto done;
	}
	*code = "INVALID_FIELD";
	if ((e->kind = strdup(lower)) == NULL) {
		error = ro_err_set(err, RO_ENOMEM, "out of memory");
		goto done;
	}
	if ((error = get_str(&e->display_name, o, "displayName", NULL,
	    SIM_STRING_MAX, err)) < 0 ||
	    (error = get_str(&e->visibility, o, "visibility", NULL,
	    SIM_STRING_MAX, err)) < 0 ||
	    (error = get_str(&e->owner_user_id, o, "ownerUserId", NULL,
	    SIM_STRING_MAX, err)) < 0 ||
	    (error = get_strv(&e->capabilities, o, "capabilities", NULL,
	    err)) < 0)
		goto done;
	if (e->visibility == NULL && (e->visibility = strdup("team")) == NULL) {
		error = ro_err_set(err, RO_ENOMEM, "out of memory");
		goto done;
	}
	if (!validate_visibility(e->visibility)) {
		error = ro_err_set(err, RO_EINVALID, "visibility: \"%.64s\" is "
		    "not public, team or owner", e->visibility);
		goto done;
	}
	if (strcmp(e->visibility, "owner") == 0 &&
	    (e->owner_user_id == NULL || e->owner_user_id[0] == '\0')) {
		*code = "OWNER_REQUIRED";
		error = ro_err_set(err, RO_EINVALID, "ownerUserId: required "
		    "when visibility is owner");
		goto done;
	}
	pol = cJSON_GetObjectItemCaseSensitive(o, "policy");
	if (pol != NULL && !cJSON_IsNull(pol) && !cJSON_IsObject(pol)) {
		error = ro_err_set(err, RO_EINVALID, "policy: not an object");
		goto done;
	}
	if (pol != NULL && cJSON_IsObject(pol) &&
	    ((error = get_str(&e->policy.allow_commands_from, pol,
	    "allow_commands_from", "allowCommandsFrom", SIM_STRING_MAX,
	    err)) < 0 ||
	    (error = get_bool(&e->policy.sandbox_mode, pol, "sandbox_mode",
	    "sandboxMode", err)) < 0 ||
	    (error = get_strv(&e->policy.env_whitelist, pol, "env_whitelist",
	    "envWhitelist", err)) < 0 ||
	    (error = get_strv(&e->policy.scopes, pol, "scopes", NULL,
	    err)) < 0))
		goto done;
	if (e->policy.allow_commands_from == NULL &&
	    (e->policy.allow_commands_from = strdup("any")) == NULL)
		error = ro_err_set(err, RO_ENOMEM, "out of memory");
done:
	free(kind);
	return error;
}

int
codec_entity_from_join(struct ro_entity *e, const cJSON *o,
    const char *room_id, const char *path_id, const char **code,
    struct ro_err *err)
{
	const cJSON	*v;
	int		 error;

	memset(e, 0, sizeof(*e));
	*code = "INVALID_ROOM_ID";
	v = cJSON_GetObjectItemCaseSensitive(o, "roomId");
	if (v != NULL && !cJSON_IsNull(v) && (!cJSON_IsString(v) ||
	    strcmp(v->valuestring, room_id) != 0)) {
		error = ro_err_set(err, RO_EINVALID, "roomId: the body names "
		    "another room than the path");
		goto done;
	}
	*code = "INVALID_ENTITY_ID";
	v = field(o, "entityId", "id");
	if (v == NULL || cJSON_IsNull(v)) {
		if (path_id == NULL) {
			error = ro_err_set(err, RO_EINVALID,
			    "entityId: missing");
			goto done;
		}
	} else if (!cJSON_IsString(v) ||
	    !validate_entity_id(v->valuestring)) {
		error = ro_err_set(err, RO_EINVALID, "entityId: not "
		    "^E-[A-Za-z0-9_-]{2,64}$");
		goto done;
	} else if (path_id != NULL && strcmp(v->valuestring, path_id) != 0) {
		error = ro_err_set(err, RO_EINVALID, "entityId: the body "
		    "names another entity than the path");
		goto done;
	}
	if ((e->id = strdup(path_id != NULL ? path_id : v->valuestring)) ==
	    NULL) {
		*code = "INTERNAL";
		error = ro_err_set(err, RO_ENOMEM, "out of memory");
		goto done;
	}
	error = entity_fields(e, o, code, err);
done:
	if (error < 0)
		ro_entity_release(e);
	return error;
}

int
codec_policy_set(struct ro_policies *p, const char *name, const cJSON *v,
    struct ro_err *err)
{
	char	*s;

	if (strcmp(name, "dmVisibilityDefault") == 0) {
		if (!cJSON_IsString(v) || !validate_visibility(v->valuestring))
			return ro_err_set(err, RO_EINVALID, "dmVisibilityDefault:"
			    " not public, team or owner");
		if ((s = strdup(v->valuestring)) == NULL)
			return ro_err_set(err, RO_ENOMEM, "out of memory");
		free(p->dm_visibility_default);
		p->dm_visibility_default = s;
		return RO_OK;
	}
	if (strcmp(name, "allowResourceCreation") == 0) {
		if (!cJSON_IsBool(v))
			return ro_err_set(err, RO_EINVALID,
			    "allowResourceCreation: not a boolean");
		p->allow_resource_creation = cJSON_IsTrue(v);
		return RO_OK;
	}
	if (strcmp(name, "maxArtifactsPerEntity") == 0)
		return num_long(&p->max_artifacts_per_entity, v,
		    "maxArtifactsPerEntity", 0, MAX_POLICY_ARTIFACTS, err);
	return ro_err_set(err, RO_EINVALID, "\"%.64s\" is not a policy "
	    "(dmVisibilityDefault, allowResourceCreation, "
	    "maxArtifactsPerEntity)", name);
}

int
codec_policies_from_json(struct ro_policies *p, const cJSON *o,
    struct ro_err *err)
{
	static const char *const names[] = {
		"dmVisibilityDefault", "allowResourceCreation",
		"maxArtifactsPerEntity"
	};
	const cJSON	*v;
	size_t		 i;
	int		 error;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < RO_NELEM(names); i++) {
		if ((v = cJSON_GetObjectItemCaseSensitive(o, names[i])) ==
		    NULL) {
			error = ro_err_set(err, RO_EINVALID, "%s: missing",
			    names[i]);
			goto fail;
		}
		if ((error = codec_policy_set(p, names[i], v, err)) < 0)
			goto fail;
	}
	return RO_OK;
fail:
	ro_policies_release(p);
	return error;
}

static int
hex64(char dst[RO_HEX_SHA256_LEN + 1], const cJSON *o, const char *name,
    struct ro_err *err)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, name);
	size_t		 i;

	if (!cJSON_IsString(v) || strlen(v->valuestring) != RO_HEX_SHA256_LEN)
		return ro_err_set(err, RO_EINVALID, "%s: not a sha256", name);
	for (i = 0; i < RO_HEX_SHA256_LEN; i++)
		if (strchr("0123456789abcdef", v->valuestring[i]) == NULL)
			return ro_err_set(err, RO_EINVALID, "%s: not lower-case "
			    "hex", name);
	memcpy(dst, v->valuestring, RO_HEX_SHA256_LEN + 1);
	return RO_OK;
}

static int
artifact_from_state(struct ro_artifact *a, const cJSON *o, struct ro_err *err)
{
	const cJSON	*v;
	long		 size = 0;
	int		 error;

	memset(a, 0, sizeof(*a));
	if ((error = get_str(&a->name, o, "name", NULL, SIM_ARTIFACT_NAME_MAX,
	    err)) < 0 ||
	    (error = get_str(&a->type, o, "type", NULL, SIM_STRING_MAX,
	    err)) < 0 ||
	    (error = get_str(&a->workspace, o, "workspace", NULL,
	    SIM_STRING_MAX, err)) < 0 ||
	    (error = get_strv(&a->tags, o, "tags", NULL, err)) < 0 ||
	    (error = hex64(a->fingerprint, o, "fingerprint", err)) < 0 ||
	    (error = hex64(a->content_hash, o, "contentHash", err)) < 0 ||
	    (error = num_long(&size, cJSON_GetObjectItemCaseSensitive(o,
	    "size"), "size", 0, RO_ARTIFACT_MAX, err)) < 0 ||
	    (error = num_long(&a->version, cJSON_GetObjectItemCaseSensitive(o,
	    "version"), "version", 1, MAX_REVISION, err)) < 0 ||
	    (error = get_bool(&a->is_promoted, o, "isPromoted", NULL,
	    err)) < 0)
		goto fail;
	if (a->name == NULL || a->type == NULL || a->workspace == NULL) {
		error = ro_err_set(err, RO_EINVALID, "artifact without name, "
		    "type or workspace");
		goto fail;
	}
	v = cJSON_GetObjectItemCaseSensitive(o, "isPromoted");
	if (!cJSON_IsBool(v)) {
		error = ro_err_set(err, RO_EINVALID, "isPromoted: missing");
		goto fail;
	}
	a->size = (uint64_t)size;
	return RO_OK;
fail:
	ro_artifact_release(a);
	return error;
}

static int
state_lists(struct ro_state *st, const cJSON *ents, const cJSON *arts,
    struct ro_err *err)
{
	const cJSON	*it;
	const char	*code;
	size_t		 n;
	int		 error;

	if (!cJSON_IsArray(ents) || !cJSON_IsArray(arts))
		return ro_err_set(err, RO_EINVALID, "entities or artifacts: "
		    "not a list");
	n = (size_t)cJSON_GetArraySize(ents);
	if (n > RO_SPEC_ENTITIES_MAX ||
	    (size_t)cJSON_GetArraySize(arts) > RO_SPEC_ARTIFACTS_MAX)
		return ro_err_set(err, RO_ETOOBIG, "too many entities or "
		    "artifacts");
	if (n > 0 && (st->entities = calloc(n, sizeof(*st->entities))) == NULL)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	cJSON_ArrayForEach(it, ents) {
		struct ro_entity *e = &st->entities[st->n_entities];
		const cJSON	*id = cJSON_GetObjectItemCaseSensitive(it, "id");

		if (!cJSON_IsObject(it) || !cJSON_IsString(id) ||
		    !validate_entity_id(id->valuestring))
			return ro_err_set(err, RO_EINVALID, "entities[%zu]: "
			    "no valid id", st->n_entities);
		if ((e->id = strdup(id->valuestring)) == NULL)
			return ro_err_set(err, RO_ENOMEM, "out of memory");
		st->n_entities++;
		if ((error = entity_fields(e, it, &code, err)) < 0)
			return error;
	}
	n = (size_t)cJSON_GetArraySize(arts);
	if (n > 0 && (st->artifacts = calloc(n, sizeof(*st->artifacts))) ==
	    NULL)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	cJSON_ArrayForEach(it, arts) {
		if (!cJSON_IsObject(it))
			return ro_err_set(err, RO_EINVALID, "artifacts[%zu]: "
			    "not an object", st->n_artifacts);
		if ((error = artifact_from_state(
		    &st->artifacts[st->n_artifacts], it, err)) < 0)
			return error;
		st->n_artifacts++;
	}
	return RO_OK;
}

int
codec_state_from_json(struct ro_state *st, const char *buf, size_t len,
    struct ro_err *err)
{
	cJSON		*o;
	const cJSON	*pol;
	int		 error;

	if ((o = cJSON_ParseWithLength(buf, len)) == NULL ||
	    !cJSON_IsObject(o)) {
		error = ro_err_set(err, RO_EINVALID, "not a JSON object");
		goto done;
	}
	if ((error = get_str(&st->room_id, o, "roomId", NULL, SIM_ROOM_ID_MAX,
	    err)) < 0 ||
	    (error = num_long(&st->revision,
	    cJSON_GetObjectItemCaseSensitive(o, "revision"), "revision", 0,
	    MAX_REVISION, err)) < 0 ||
	    (error = get_str(&st->last_updated, o, "lastUpdated", NULL, 64,
	    err)) < 0 ||
	    (error = state_lists(st,
	    cJSON_GetObjectItemCaseSensitive(o, "entities"),
	    cJSON_GetObjectItemCaseSensitive(o, "artifacts"), err)) < 0)
		goto done;
	pol = cJSON_GetObjectItemCaseSensitive(o, "policies");
	if (!cJSON_IsObject(pol)) {
		error = ro_err_set(err, RO_EINVALID, "policies: missing");
		goto done;
	}
	error = codec_policies_from_json(&st->policies, pol, err);
done:
	cJSON_Delete(o);
	return error;
}

cJSON *
codec_entities_json(const struct ro_state *st)
{
	cJSON	*o, *arr;
	size_t	 i;

	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	if ((arr = cJSON_AddArrayToObject(o, "entities")) == NULL)
		goto fail;
	for (i = 0; i < st->n_entities; i++)
		if (!cJSON_AddItemToArray(arr,
		    ro_entity_to_json(&st->entities[i], NULL)))
			goto fail;
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

int
codec_state_encode(const struct ro_state *st, struct ro_buf *out)
{
	cJSON	*o, *ents, *arts;
	char	*s = NULL;
	size_t	 i;
	int	 error = RO_ENOMEM;

	if ((o = cJSON_CreateObject()) == NULL)
		return RO_ENOMEM;
	if (!cJSON_AddStringToObject(o, "roomId", st->room_id) ||
	    !cJSON_AddNumberToObject(o, "revision", (double)st->revision) ||
	    (st->last_updated != NULL ?
	    !cJSON_AddStringToObject(o, "lastUpdated", st->last_updated) :
	    !cJSON_AddNullToObject(o, "lastUpdated")) ||
	    (ents = cJSON_AddArrayToObject(o, "entities")) == NULL ||
	    (arts = cJSON_AddArrayToObject(o, "artifacts")) == NULL)
		goto done;
	for (i = 0; i < st->n_entities; i++)
		if (!cJSON_AddItemToArray(ents,
		    ro_entity_to_json(&st->entities[i], NULL)))
			goto done;
	for (i = 0; i < st->n_artifacts; i++)
		if (!cJSON_AddItemToArray(arts,
		    ro_artifact_to_json(&st->artifacts[i])))
			goto done;
	if (!cJSON_AddItemToObject(o, "policies",
	    ro_policies_to_json(&st->policies)))
		goto done;
	if ((s = cJSON_PrintUnformatted(o)) == NULL)
		goto done;
	error = ro_buf_addstr(out, s);
done:
	cJSON_free(s);
	cJSON_Delete(o);
	return error;
}
