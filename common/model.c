/* model.c: lifecycle, comparison and JSON encoding of the room model. */
#include <stdlib.h>
#include <string.h>

#include "roomops/model.h"

#include "banned.h"

static int
dup_opt(char **dst, const char *src)
{
	*dst = NULL;
	if (src == NULL)
		return RO_OK;
	return (*dst = strdup(src)) == NULL ? RO_ENOMEM : RO_OK;
}

bool
ro_model_str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

bool
ro_model_opt_eq(const char *a, const char *b)
{
	return ro_model_str_eq(a != NULL && a[0] != '\0' ? a : NULL,
	    b != NULL && b[0] != '\0' ? b : NULL);
}

void
ro_entity_release(struct ro_entity *e)
{
	free(e->id);
	free(e->kind);
	free(e->display_name);
	free(e->visibility);
	free(e->owner_user_id);
	ro_strv_release(&e->capabilities);
	free(e->policy.allow_commands_from);
	ro_strv_release(&e->policy.env_whitelist);
	ro_strv_release(&e->policy.scopes);
	memset(e, 0, sizeof(*e));
}

void
ro_artifact_release(struct ro_artifact *a)
{
	free(a->name);
	free(a->type);
	free(a->workspace);
	ro_strv_release(&a->tags);
	free(a->seed_from);
	free(a->seed_reason);
	free(a->content);
	memset(a, 0, sizeof(*a));
}

void
ro_policies_release(struct ro_policies *p)
{
	free(p->dm_visibility_default);
	memset(p, 0, sizeof(*p));
}

int
ro_entity_copy(struct ro_entity *dst, const struct ro_entity *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->policy.sandbox_mode = src->policy.sandbox_mode;
	dst->line = src->line;
	dst->col = src->col;
	if (dup_opt(&dst->id, src->id) < 0 ||
	    dup_opt(&dst->kind, src->kind) < 0 ||
	    dup_opt(&dst->display_name, src->display_name) < 0 ||
	    dup_opt(&dst->visibility, src->visibility) < 0 ||
	    dup_opt(&dst->owner_user_id, src->owner_user_id) < 0 ||
	    ro_strv_copy(&dst->capabilities, &src->capabilities) < 0 ||
	    dup_opt(&dst->policy.allow_commands_from,
	    src->policy.allow_commands_from) < 0 ||
	    ro_strv_copy(&dst->policy.env_whitelist,
	    &src->policy.env_whitelist) < 0 ||
	    ro_strv_copy(&dst->policy.scopes, &src->policy.scopes) < 0) {
		ro_entity_release(dst);
		return RO_ENOMEM;
	}
	return RO_OK;
}

int
ro_artifact_copy(struct ro_artifact *dst, const struct ro_artifact *src)
{
	*dst = *src;
	dst->name = dst->type = dst->workspace = NULL;
	dst->seed_from = dst->seed_reason = NULL;
	dst->content = NULL;
	memset(&dst->tags, 0, sizeof(dst->tags));
	if (dup_opt(&dst->name, src->name) < 0 ||
	    dup_opt(&dst->type, src->type) < 0 ||
	    dup_opt(&dst->workspace, src->workspace) < 0 ||
	    dup_opt(&dst->seed_from, src->seed_from) < 0 ||
	    dup_opt(&dst->seed_reason, src->seed_reason) < 0 ||
	    ro_strv_copy(&dst->tags, &src->tags) < 0)
		goto fail;
	if (src->content != NULL) {
		if ((dst->content = malloc(src->content_len + 1)) == NULL)
			goto fail;
		memcpy(dst->content, src->content, src->content_len);
		dst->content[src->content_len] = '\0';
	}
	return RO_OK;
fail:
	ro_artifact_release(dst);
	return RO_ENOMEM;
}

int
ro_policies_copy(struct ro_policies *dst, const struct ro_policies *src)
{
	*dst = *src;
	return dup_opt(&dst->dm_visibility_default,
	    src->dm_visibility_default);
}

int
ro_policies_default(struct ro_policies *p)
{
	p->allow_resource_creation = false;
	p->max_artifacts_per_entity = 100;
	return (p->dm_visibility_default = strdup("team")) == NULL ?
	    RO_ENOMEM : RO_OK;
}

const struct ro_entity *
ro_entity_find(const struct ro_entity *v, size_t n, const char *id)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].id, id) == 0)
			return &v[i];
	return NULL;
}

const struct ro_artifact *
ro_artifact_find(const struct ro_artifact *v, size_t n, const char *name)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	return NULL;
}

bool
ro_entity_equal(const struct ro_entity *a, const struct ro_entity *b)
{
	return ro_model_str_eq(a->kind, b->kind) &&
	    ro_model_opt_eq(a->display_name, b->display_name) &&
	    ro_model_str_eq(a->visibility, b->visibility) &&
	    ro_model_opt_eq(a->owner_user_id, b->owner_user_id) &&
	    ro_strv_eq(&a->capabilities, &b->capabilities) &&
	    ro_model_str_eq(a->policy.allow_commands_from,
	    b->policy.allow_commands_from) &&
	    a->policy.sandbox_mode == b->policy.sandbox_mode &&
	    ro_strv_eq(&a->policy.env_whitelist, &b->policy.env_whitelist) &&
	    ro_strv_eq(&a->policy.scopes, &b->policy.scopes);
}

unsigned
ro_policies_diff(const struct ro_policies *want, const struct ro_policies *have)
{
	unsigned	bits = 0;

	if (!ro_model_str_eq(want->dm_visibility_default,
	    have->dm_visibility_default))
		bits |= RO_POL_DM_VISIBILITY;
	if (want->allow_resource_creation != have->allow_resource_creation)
		bits |= RO_POL_ALLOW_CREATION;
	if (want->max_artifacts_per_entity != have->max_artifacts_per_entity)
		bits |= RO_POL_MAX_ARTIFACTS;
	return bits;
}

const char *
ro_spec_annotation(const struct ro_spec *s, const char *key)
{
	size_t	i;

	for (i = 0; i < s->ann_keys.n && i < s->ann_values.n; i++)
		if (strcmp(s->ann_keys.v[i], key) == 0)
			return s->ann_values.v[i];
	return NULL;
}

int
ro_spec_copy(struct ro_spec **out, const struct ro_spec *s)
{
	struct ro_spec	*c;
	size_t		 i;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return RO_ENOMEM;
	c->version = s->version;
	c->prune = s->prune;
	if (dup_opt(&c->path, s->path) < 0 || dup_opt(&c->name, s->name) < 0 ||
	    dup_opt(&c->room_id, s->room_id) < 0 ||
	    ro_strv_copy(&c->ann_keys, &s->ann_keys) < 0 ||
	    ro_strv_copy(&c->ann_values, &s->ann_values) < 0 ||
	    ro_strv_copy(&c->warnings, &s->warnings) < 0 ||
	    ro_policies_copy(&c->policies, &s->policies) < 0)
		goto fail;
	if (s->n_entities > 0 && (c->entities = calloc(s->n_entities,
	    sizeof(*c->entities))) == NULL)
		goto fail;
	for (; c->n_entities < s->n_entities; c->n_entities++)
		if (ro_entity_copy(&c->entities[c->n_entities],
		    &s->entities[c->n_entities]) < 0)
			goto fail;
	if (s->n_artifacts > 0 && (c->artifacts = calloc(s->n_artifacts,
	    sizeof(*c->artifacts))) == NULL)
		goto fail;
	for (i = 0; i < s->n_artifacts; i++, c->n_artifacts++)
		if (ro_artifact_copy(&c->artifacts[i], &s->artifacts[i]) < 0)
			goto fail;
	*out = c;
	return RO_OK;
fail:
	ro_spec_free(c);
	return RO_ENOMEM;
}

void
ro_spec_free(struct ro_spec *s)
{
	size_t	i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n_entities; i++)
		ro_entity_release(&s->entities[i]);
	for (i = 0; i < s->n_artifacts; i++)
		ro_artifact_release(&s->artifacts[i]);
	free(s->entities);
	free(s->artifacts);
	ro_policies_release(&s->policies);
	ro_strv_release(&s->ann_keys);
	ro_strv_release(&s->ann_values);
	ro_strv_release(&s->warnings);
	free(s->path);
	free(s->name);
	free(s->room_id);
	free(s);
}

void
ro_state_free(struct ro_state *s)
{
	size_t	i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n_entities; i++)
		ro_entity_release(&s->entities[i]);
	for (i = 0; i < s->n_artifacts; i++)
		ro_artifact_release(&s->artifacts[i]);
	free(s->entities);
	free(s->artifacts);
	ro_policies_release(&s->policies);
	free(s->room_id);
	free(s->last_updated);
	free(s);
}

cJSON *
ro_strv_to_json(const struct ro_strv *sv)
{
	cJSON	*arr;
	size_t	 i;

	if ((arr = cJSON_CreateArray()) == NULL)
		return NULL;
	for (i = 0; i < sv->n; i++)
		if (!cJSON_AddItemToArray(arr, cJSON_CreateString(sv->v[i]))) {
			cJSON_Delete(arr);
			return NULL;
		}
	return arr;
}

static bool
add_opt_str(cJSON *o, const char *key, const char *v)
{
	return v != NULL ? cJSON_AddStringToObject(o, key, v) != NULL :
	    cJSON_AddNullToObject(o, key) != NULL;
}

cJSON *
ro_entity_to_json(const struct ro_entity *e, const char *room_id)
{
	cJSON	*o, *pol;

	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	if (room_id != NULL) {
		if (!cJSON_AddStringToObject(o, "roomId", room_id) ||
		    !cJSON_AddStringToObject(o, "entityId", e->id))
			goto fail;
	} else if (!cJSON_AddStringToObject(o, "id", e->id))
		goto fail;
	if (!cJSON_AddStringToObject(o, "kind", e->kind) ||
	    !add_opt_str(o, "displayName", e->display_name) ||
	    !cJSON_AddStringToObject(o, "visibility",
	    e->visibility != NULL ? e->visibility : "team") ||
	    !add_opt_str(o, "ownerUserId", e->owner_user_id) ||
	    !cJSON_AddItemToObject(o, "capabilities",
	    ro_strv_to_json(&e->capabilities)) ||
	    (pol = cJSON_AddObjectToObject(o, "policy")) == NULL ||
	    !cJSON_AddStringToObject(pol, "allow_commands_from",
	    e->policy.allow_commands_from != NULL ?
	    e->policy.allow_commands_from : "any") ||
	    !cJSON_AddBoolToObject(pol, "sandbox_mode",
	    e->policy.sandbox_mode) ||
	    !cJSON_AddItemToObject(pol, "env_whitelist",
	    ro_strv_to_json(&e->policy.env_whitelist)) ||
	    !cJSON_AddItemToObject(pol, "scopes",
	    ro_strv_to_json(&e->policy.scopes)))
		goto fail;
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

cJSON *
ro_artifact_to_json(const struct ro_artifact *a)
{
	cJSON	*o;

	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	if (!cJSON_AddStringToObject(o, "name", a->name) ||
	    !cJSON_AddStringToObject(o, "type", a->type) ||
	    !cJSON_AddStringToObject(o, "workspace", a->workspace) ||
	    !cJSON_AddItemToObject(o, "tags", ro_strv_to_json(&a->tags)) ||
	    !cJSON_AddStringToObject(o, "fingerprint", a->fingerprint) ||
	    !cJSON_AddStringToObject(o, "contentHash", a->content_hash) ||
	    !cJSON_AddNumberToObject(o, "size", (double)a->size) ||
	    !cJSON_AddNumberToObject(o, "version", (double)a->version) ||
	    !cJSON_AddBoolToObject(o, "isPromoted", a->is_promoted)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

cJSON *
ro_policies_to_json(const struct ro_policies *p)
{
	cJSON	*o;

	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	if (!cJSON_AddStringToObject(o, "dmVisibilityDefault",
	    p->dm_visibility_default != NULL ? p->dm_visibility_default :
	    "team") ||
	    !cJSON_AddBoolToObject(o, "allowResourceCreation",
	    p->allow_resource_creation) ||
	    !cJSON_AddNumberToObject(o, "maxArtifactsPerEntity",
	    (double)p->max_artifacts_per_entity)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}
