/*
 * spec.c: RoomSpec validation (roomspec.md) into struct ro_spec, from YAML
 * (yaml.c) or JSON (cJSON), both through the same node tree, so messages,
 * field paths and the model are the same for either input.
 *
 * The validator walks the tree once, reports every problem it finds with
 * the node's position and field path, and only hands out a spec when there
 * were none. Its context (field paths, messages, typed values, mappings)
 * is vctx.c.
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
#include "vctx.h"

#include "banned.h"

static const char *const entity_kinds[] = { "human", "agent", "npc",
    "orchestrator", NULL };
static const char *const visibilities[] = { "public", "team", "owner",
    NULL };

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

	if (ro_vctx_absent(val))
		return;
	mark = ro_vctx_path_field(v, key, name);
	if (ro_vctx_get_str(v, key, val, &s) && strcmp(s, want) != 0)
		ro_vctx_err(v, key, "unsupported %s %s (expected \"%s\")", name,
		    ro_node_quote(q, val->str, val->len), want);
	free(s);
	ro_vctx_path_pop(v, mark);
}

static void
check_annotations(struct vctx *v, const struct ro_node *at,
    const struct ro_node *map)
{
	const struct ro_node	*key, *val;
	char			*s;
	size_t			 i, mark;

	if (ro_vctx_absent(map))
		return;
	if (map->type != RO_NODE_MAP) {
		ro_vctx_type_err(v, at, map, "a mapping of strings to strings");
		return;
	}
	ro_vctx_check_dup_keys(v, map, true);
	for (i = 0; i < ro_node_map_size(map); i++) {
		key = ro_node_map_key(map, i);
		val = ro_node_map_value(map, i);
		mark = ro_vctx_path_bracket(v, key);
		if (!ro_vctx_check_text(v, key, key)) {
			ro_vctx_path_pop(v, mark);
			continue;
		}
		if (key->len == 0)
			ro_vctx_err(v, key,
			    "annotation keys must not be empty");
		s = NULL;
		if (ro_vctx_get_str(v, key, val, &s) &&
		    (ro_strv_push(&v->spec->ann_keys, key->str) < 0 ||
		    ro_strv_push_owned(&v->spec->ann_values, s) < 0))
			v->oom = true;
		ro_vctx_path_pop(v, mark);
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

	mark = ro_vctx_path_field(v, key, "metadata");
	if (ro_vctx_absent(val)) {
		ro_vctx_err(v, key != NULL ? key : root,
		    "required field is missing "
		    "(it holds version, an integer greater than 0)");
		goto done;
	}
	if (val->type != RO_NODE_MAP) {
		ro_vctx_type_err(v, key, val, "a mapping");
		goto done;
	}
	ro_vctx_map_fields(v, val, f, RO_NELEM(f), vals, keys);
	if (!ro_vctx_absent(vals[F_NAME])) {
		m2 = ro_vctx_path_field(v, keys[F_NAME], "name");
		ro_vctx_get_str(v, keys[F_NAME], vals[F_NAME], &v->spec->name);
		ro_vctx_path_pop(v, m2);
	}
	m2 = ro_vctx_path_field(v, keys[F_VERSION], "version");
	if (ro_vctx_absent(vals[F_VERSION]))
		ro_vctx_err(v, keys[F_VERSION] != NULL ? keys[F_VERSION] : val,
		    "required field is missing (an integer greater than 0)");
	else
		ro_vctx_get_long(v, keys[F_VERSION], vals[F_VERSION], 1,
		    LONG_MAX,
		    "must be an integer greater than 0", &v->spec->version);
	ro_vctx_path_pop(v, m2);
	m2 = ro_vctx_path_field(v, keys[F_ANN], "annotations");
	check_annotations(v, keys[F_ANN], vals[F_ANN]);
	ro_vctx_path_pop(v, m2);
done:
	ro_vctx_path_pop(v, mark);
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

	if (ro_vctx_absent(val))
		goto defaults;
	mark = ro_vctx_path_field(v, key, "policy");
	if (val->type != RO_NODE_MAP) {
		ro_vctx_type_err(v, key, val, "a mapping");
		ro_vctx_path_pop(v, mark);
		goto defaults;
	}
	ro_vctx_map_fields(v, val, f, RO_NELEM(f), vals, keys);
	if (!ro_vctx_absent(vals[F_ALLOW])) {
		m2 = ro_vctx_path_field(v, keys[F_ALLOW], f[F_ALLOW].name);
		ro_vctx_get_str(v, keys[F_ALLOW], vals[F_ALLOW],
		    &p->allow_commands_from);
		ro_vctx_path_pop(v, m2);
	}
	if (!ro_vctx_absent(vals[F_SANDBOX])) {
		m2 = ro_vctx_path_field(v, keys[F_SANDBOX], f[F_SANDBOX].name);
		ro_vctx_get_bool(v, keys[F_SANDBOX], vals[F_SANDBOX],
		    &p->sandbox_mode);
		ro_vctx_path_pop(v, m2);
	}
	m2 = ro_vctx_path_field(v, keys[F_ENV], f[F_ENV].name);
	ro_vctx_get_strv(v, keys[F_ENV], vals[F_ENV], &p->env_whitelist);
	ro_vctx_path_pop(v, m2);
	m2 = ro_vctx_path_field(v, keys[F_SCOPES], f[F_SCOPES].name);
	ro_vctx_get_strv(v, keys[F_SCOPES], vals[F_SCOPES], &p->scopes);
	ro_vctx_path_pop(v, m2);
	ro_vctx_path_pop(v, mark);
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
		ro_vctx_type_err(v, item, item, "a mapping (an entity)");
		return;
	}
	ro_vctx_map_fields(v, item, f, RO_NELEM(f), vals, keys);

	mark = ro_vctx_path_field(v, keys[F_ID], "id");
	if (ro_vctx_get_required(v, item, keys[F_ID], vals[F_ID], &e->id)) {
		if (!ro_spec_valid_entity_id(e->id))
			ro_vctx_err(v, keys[F_ID],
			    "invalid entity id %s (expected "
			    "\"E-\" and 2 to 64 letters, digits, '_' or '-')",
			    ro_node_quote(q, e->id, strlen(e->id)));
		else {
			*id_key = keys[F_ID];
			*id_val = vals[F_ID];
		}
	}
	ro_vctx_path_pop(v, mark);

	mark = ro_vctx_path_field(v, keys[F_KIND], "kind");
	if (ro_vctx_get_required(v, item, keys[F_KIND], vals[F_KIND], &s)) {
		if ((known = ro_vctx_one_of(s, entity_kinds, true)) == NULL)
			ro_vctx_err(v, keys[F_KIND], "invalid entity kind %s "
			    "(expected human, agent, npc or orchestrator)",
			    ro_node_quote(q, s, strlen(s)));
		else if ((e->kind = strdup(known)) == NULL)
			v->oom = true;
	}
	free(s);
	s = NULL;
	ro_vctx_path_pop(v, mark);

	if (!ro_vctx_absent(vals[F_DISPLAY])) {
		mark = ro_vctx_path_field(v, keys[F_DISPLAY], "displayName");
		ro_vctx_get_str(v, keys[F_DISPLAY], vals[F_DISPLAY],
		    &e->display_name);
		ro_vctx_path_pop(v, mark);
	}

	if (!ro_vctx_absent(vals[F_VIS])) {
		mark = ro_vctx_path_field(v, keys[F_VIS], "visibility");
		if (ro_vctx_get_str(v, keys[F_VIS], vals[F_VIS], &s)) {
			if (ro_vctx_one_of(s, visibilities, false) == NULL)
				ro_vctx_err(v, keys[F_VIS],
				    "invalid visibility %s "
				    "(expected public, team or owner)",
				    ro_node_quote(q, s, strlen(s)));
			else {
				e->visibility = s;
				s = NULL;
			}
		}
		free(s);
		s = NULL;
		ro_vctx_path_pop(v, mark);
	} else if ((e->visibility = strdup("team")) == NULL)
		v->oom = true;

	if (!ro_vctx_absent(vals[F_OWNER])) {
		mark = ro_vctx_path_field(v, keys[F_OWNER], "ownerUserId");
		ro_vctx_get_str(v, keys[F_OWNER], vals[F_OWNER],
		    &e->owner_user_id);
		ro_vctx_path_pop(v, mark);
	}
	if (e->visibility != NULL && strcmp(e->visibility, "owner") == 0) {
		mark = ro_vctx_path_field(v, keys[F_OWNER], "ownerUserId");
		if (ro_vctx_absent(vals[F_OWNER]))
			ro_vctx_err(v, keys[F_VIS],
			    "required when visibility is "
			    "owner");
		else if (e->owner_user_id != NULL &&
		    e->owner_user_id[0] == '\0')
			ro_vctx_err(v, keys[F_OWNER], "must not be empty when "
			    "visibility is owner");
		ro_vctx_path_pop(v, mark);
	}

	mark = ro_vctx_path_field(v, keys[F_CAPS], "capabilities");
	ro_vctx_get_strv(v, keys[F_CAPS], vals[F_CAPS], &e->capabilities);
	ro_vctx_path_pop(v, mark);

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
		ro_vctx_type_err(v, item, item, "a mapping (an artifact)");
		return;
	}
	ro_vctx_map_fields(v, item, f, RO_NELEM(f), vals, keys);

	mark = ro_vctx_path_field(v, keys[F_NAME], "name");
	if (ro_vctx_get_required(v, item, keys[F_NAME], vals[F_NAME],
	    &a->name)) {
		*name_key = keys[F_NAME];
		*name_val = vals[F_NAME];
	}
	ro_vctx_path_pop(v, mark);

	mark = ro_vctx_path_field(v, keys[F_TYPE], "type");
	ro_vctx_get_required(v, item, keys[F_TYPE], vals[F_TYPE], &a->type);
	ro_vctx_path_pop(v, mark);

	mark = ro_vctx_path_field(v, keys[F_WS], "workspace");
	ro_vctx_get_required(v, item, keys[F_WS], vals[F_WS], &a->workspace);
	ro_vctx_path_pop(v, mark);

	mark = ro_vctx_path_field(v, keys[F_TAGS], "tags");
	ro_vctx_get_strv(v, keys[F_TAGS], vals[F_TAGS], &a->tags);
	ro_vctx_path_pop(v, mark);

	if (!ro_vctx_absent(vals[F_SEED])) {
		seed_key = keys[F_SEED];
		mark = ro_vctx_path_field(v, seed_key, "seedFrom");
		a->seed_line = seed_key->line;
		a->seed_col = seed_key->col;
		if (ro_vctx_get_str(v, seed_key, vals[F_SEED], &a->seed_from)) {
			if (a->seed_from[0] == '\0')
				ro_vctx_err(v, seed_key, "must not be empty");
			else if (a->seed_from[0] == '/')
				ro_vctx_err(v, seed_key,
				    "seedFrom %s is an absolute "
				    "path; give a path relative to the spec "
				    "file's folder", ro_node_quote(q,
				    a->seed_from, strlen(a->seed_from)));
			a->seed = RO_SEED_UNRESOLVED;
		}
		ro_vctx_path_pop(v, mark);
	}

	if (!ro_vctx_absent(vals[F_PROMOTE])) {
		mark = ro_vctx_path_field(v, keys[F_PROMOTE],
		    "promoteAfterSeed");
		ro_vctx_get_bool(v, keys[F_PROMOTE], vals[F_PROMOTE],
		    &a->promote_after_seed);
		ro_vctx_path_pop(v, mark);
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
	ro_vctx_find_dups(refs, nrefs, first, n);
	for (i = 0; i < n; i++) {
		if (first[i] == SIZE_MAX)
			continue;
		mark = ro_vctx_path_index(v, i);
		ro_vctx_path_key(v, field, strlen(field));
		ro_vctx_err(v, keys[i], "duplicate %s %s; item [%zu] has it "
		    "already%s", what, ro_node_quote(q, vals[i]->str,
		    vals[i]->len), first[i], ro_vctx_first_at(at, sizeof(at),
		    keys[first[i]]));
		ro_vctx_path_pop(v, mark);
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

	if (ro_vctx_absent(list))
		return;
	mark = ro_vctx_path_field(v, key, what);
	if (list->type != RO_NODE_SEQ) {
		ro_vctx_type_err(v, key, list, entities ? "a list of entities" :
		    "a list of artifacts");
		goto done;
	}
	if (list->n > (entities ? RO_SPEC_ENTITIES_MAX :
	    RO_SPEC_ARTIFACTS_MAX)) {
		ro_vctx_err(v, key, "%zu %s, limit is %d", list->n, what,
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
		m2 = ro_vctx_path_index(v, i);
		if (entities)
			check_entity(v, &list->items[i], &s->entities[i],
			    &ukeys[i], &uvals[i]);
		else
			check_artifact(v, &list->items[i], &s->artifacts[i],
			    &ukeys[i], &uvals[i]);
		ro_vctx_path_pop(v, m2);
	}
	if (entities)
		check_unique(v, ukeys, uvals, list->n, "id", "entity id");
	else
		check_unique(v, ukeys, uvals, list->n, "name",
		    "artifact name");
done:
	free(ukeys);
	free(uvals);
	ro_vctx_path_pop(v, mark);
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
	mark = ro_vctx_path_field(v, key, "policies");
	if (ro_vctx_absent(val)) {
		m2 = ro_vctx_path_key(v, "dmVisibilityDefault", 19);
		ro_vctx_warn(v, key != NULL ? key : spec_map, "not set; using "
		    "\"team\"");
		ro_vctx_path_pop(v, m2);
		goto done;
	}
	if (val->type != RO_NODE_MAP) {
		ro_vctx_type_err(v, key, val, "a mapping");
		goto done;
	}
	ro_vctx_map_fields(v, val, f, RO_NELEM(f), vals, keys);

	m2 = ro_vctx_path_field(v, keys[F_DM], f[F_DM].name);
	if (ro_vctx_absent(vals[F_DM]))
		ro_vctx_warn(v, keys[F_DM] != NULL ? keys[F_DM] : val,
		    "not set; using \"team\"");
	else if (ro_vctx_get_str(v, keys[F_DM], vals[F_DM], &s)) {
		if (s[0] == '\0')
			ro_vctx_warn(v, keys[F_DM], "empty; using \"team\"");
		else if (ro_vctx_one_of(s, visibilities, false) == NULL)
			ro_vctx_err(v, keys[F_DM],
			    "invalid visibility %s (expected "
			    "public, team or owner)", ro_node_quote(q, s,
			    strlen(s)));
		else {
			free(p->dm_visibility_default);
			p->dm_visibility_default = s;
			s = NULL;
		}
	}
	free(s);
	ro_vctx_path_pop(v, m2);

	if (!ro_vctx_absent(vals[F_CREATE])) {
		m2 = ro_vctx_path_field(v, keys[F_CREATE], f[F_CREATE].name);
		ro_vctx_get_bool(v, keys[F_CREATE], vals[F_CREATE],
		    &p->allow_resource_creation);
		ro_vctx_path_pop(v, m2);
	}
	if (!ro_vctx_absent(vals[F_MAX])) {
		m2 = ro_vctx_path_field(v, keys[F_MAX], f[F_MAX].name);
		ro_vctx_get_long(v, keys[F_MAX], vals[F_MAX], 0,
		    SPEC_POLICY_MAX_MAX,
		    "must be an integer from 0 to 2147483647",
		    &p->max_artifacts_per_entity);
		ro_vctx_path_pop(v, m2);
	}
done:
	ro_vctx_path_pop(v, mark);
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

	mark = ro_vctx_path_field(v, key, "spec");
	if (ro_vctx_absent(val)) {
		ro_vctx_err(v, key != NULL ? key : root,
		    "required field is missing "
		    "(it holds roomId, entities, artifacts and policies)");
		goto done;
	}
	if (val->type != RO_NODE_MAP) {
		ro_vctx_type_err(v, key, val, "a mapping");
		goto done;
	}
	ro_vctx_map_fields(v, val, f, RO_NELEM(f), vals, keys);

	m2 = ro_vctx_path_field(v, keys[F_ROOM], "roomId");
	if (ro_vctx_get_required(v, val, keys[F_ROOM], vals[F_ROOM],
	    &v->spec->room_id) && !ro_spec_valid_room_id(v->spec->room_id)) {
		id = v->spec->room_id;
		ro_vctx_err(v, keys[F_ROOM],
		    "invalid roomId %s (expected \"room-\" "
		    "and at least 6 letters, digits, '_' or '-')",
		    ro_node_quote(q, id, strlen(id)));
	}
	ro_vctx_path_pop(v, m2);

	check_list(v, vals[F_ENTITIES], keys[F_ENTITIES], true);
	check_list(v, vals[F_ARTIFACTS], keys[F_ARTIFACTS], false);
	check_policies(v, val, vals[F_POLICIES], keys[F_POLICIES]);
done:
	ro_vctx_path_pop(v, mark);
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
		ro_vctx_err(v, root,
		    "a RoomSpec must be a mapping with apiVersion, "
		    "kind, metadata and spec; got %s",
		    ro_vctx_describe(d, sizeof(d), root));
		return;
	}
	ro_vctx_map_fields(v, root, f, RO_NELEM(f), vals, keys);
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
	ro_vctx_flush(&v);
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
