/*
 * plan.c: the diff of a desired spec against an observed RoomState
 * (roomspec.md "Plan"), its JSON diff object and its text form.
 *
 * Ids and names are matched through sorted indexes (qsort + binary
 * search): O(n log n) for rooms of 10,000 entities and artifacts.
 */
#include <stdlib.h>
#include <string.h>

#include "roomops/plan.h"

#include "banned.h"

#define TEXT_VALUE_MAX	60	/* bytes of a value shown in the text plan */
#define TEXT_REASON_MAX	512	/* bytes of a blocked reason */
#define TEXT_LIST_MAX	8	/* items of a list shown in the text plan */

/* One entry of a sorted index: key and its position in the source. */
struct key {
	const char	*k;
	size_t		 i;
};

struct index {
	struct key	*v;
	size_t		 n;
};

#define INDEX_INIT	{ NULL, 0 }

static const struct {
	unsigned	 bit;
	const char	*name;
} pol_fields[] = {
	{ RO_POL_DM_VISIBILITY,	"dmVisibilityDefault" },
	{ RO_POL_ALLOW_CREATION, "allowResourceCreation" },
	{ RO_POL_MAX_ARTIFACTS,	"maxArtifactsPerEntity" },
};

static int
key_cmp(const void *a, const void *b)
{
	const struct key	*x = a, *y = b;
	int			 c;

	if ((c = strcmp(x->k, y->k)) != 0)
		return c;
	return (x->i > y->i) - (x->i < y->i);
}

/*
 * Index n keys, the string at offset off of each element of size stride
 * starting at base. Ties keep source order, so a lookup finds the first.
 */
static int
index_build(struct index *ix, const void *base, size_t n, size_t stride,
    size_t off)
{
	const char	*p = base;
	size_t		 i;

	ix->v = NULL;
	ix->n = 0;
	if (n == 0)
		return RO_OK;
	if ((ix->v = reallocarray(NULL, n, sizeof(*ix->v))) == NULL)
		return RO_ENOMEM;
	for (i = 0; i < n; i++) {
		memcpy(&ix->v[i].k, p + i * stride + off, sizeof(ix->v[i].k));
		RO_ASSERT(ix->v[i].k != NULL);
		ix->v[i].i = i;
	}
	qsort(ix->v, n, sizeof(*ix->v), key_cmp);
	ix->n = n;
	return RO_OK;
}

#define INDEX_ENTITIES(ix, v, n) \
	index_build((ix), (v), (n), sizeof(struct ro_entity), \
	    offsetof(struct ro_entity, id))
#define INDEX_ARTIFACTS(ix, v, n) \
	index_build((ix), (v), (n), sizeof(struct ro_artifact), \
	    offsetof(struct ro_artifact, name))

/* Position of the first element with key k, or -1. */
static long
index_find(const struct index *ix, const char *k)
{
	size_t	lo = 0, hi = ix->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(ix->v[mid].k, k) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < ix->n && strcmp(ix->v[lo].k, k) == 0)
		return (long)ix->v[lo].i;
	return -1;
}

static void
index_release(struct index *ix)
{
	free(ix->v);
	ix->v = NULL;
	ix->n = 0;
}

int
ro_idxv_push(struct ro_idxv *iv, size_t x)
{
	size_t	*v, cap;

	if (iv->n == iv->cap) {
		cap = iv->cap != 0 ? iv->cap * 2 : 8;
		if ((v = reallocarray(iv->v, cap, sizeof(*v))) == NULL)
			return RO_ENOMEM;
		iv->v = v;
		iv->cap = cap;
	}
	iv->v[iv->n++] = x;
	return RO_OK;
}

void
ro_idxv_remove(struct ro_idxv *iv, size_t i)
{
	RO_ASSERT(i < iv->n);
	if (i >= iv->n)
		return;
	memmove(&iv->v[i], &iv->v[i + 1], (iv->n - i - 1) * sizeof(*iv->v));
	iv->n--;
}

static void
idxv_release(struct ro_idxv *iv)
{
	free(iv->v);
	iv->v = NULL;
	iv->n = iv->cap = 0;
}

const char *
ro_op_name(enum ro_op op)
{
	switch (op) {
	case RO_OP_JOIN:	return "join";
	case RO_OP_UPDATE:	return "update";
	case RO_OP_KICK:	return "kick";
	case RO_OP_SEED:	return "seed";
	case RO_OP_PROMOTE:	return "promote";
	case RO_OP_DELETE:	return "delete";
	case RO_OP_POLICIES:	return "policies";
	}
	return "unknown";
}

int
ro_plan_block(struct ro_plan *plan, enum ro_op op, const char *id,
    const char *reason)
{
	struct ro_blocked	*v, *b;
	size_t			 cap;

	RO_ASSERT(id != NULL);
	if (plan->n_blocked == plan->cap_blocked) {
		cap = plan->cap_blocked != 0 ? plan->cap_blocked * 2 : 8;
		if ((v = reallocarray(plan->blocked, cap, sizeof(*v))) == NULL)
			return RO_ENOMEM;
		plan->blocked = v;
		plan->cap_blocked = cap;
	}
	b = &plan->blocked[plan->n_blocked];
	b->op = op;
	b->id = strdup(id != NULL ? id : "");
	b->reason = strdup(reason != NULL ? reason : "blocked");
	if (b->id == NULL || b->reason == NULL) {
		free(b->id);
		free(b->reason);
		return RO_ENOMEM;
	}
	plan->n_blocked++;
	return RO_OK;
}

static int
plan_entities(struct ro_plan *plan)
{
	const struct ro_spec	*spec = plan->spec;
	const struct ro_state	*state = plan->state;
	struct index		 want = INDEX_INIT, have = INDEX_INIT;
	size_t			 i;
	long			 j;
	int			 error;

	if ((error = INDEX_ENTITIES(&want, spec->entities,
	    spec->n_entities)) < 0 ||
	    (error = INDEX_ENTITIES(&have, state->entities,
	    state->n_entities)) < 0)
		goto done;
	for (i = 0; i < spec->n_entities; i++) {
		j = index_find(&have, spec->entities[i].id);
		if (j < 0)
			error = ro_idxv_push(&plan->join, i);
		else if (!ro_entity_equal(&spec->entities[i],
		    &state->entities[j]) &&
		    (error = ro_idxv_push(&plan->update, i)) == RO_OK)
			error = ro_idxv_push(&plan->update_have, (size_t)j);
		if (error < 0)
			goto done;
	}
	for (i = 0; i < state->n_entities; i++)
		if (index_find(&want, state->entities[i].id) < 0 &&
		    (error = ro_idxv_push(&plan->kick, i)) < 0)
			goto done;
done:
	index_release(&want);
	index_release(&have);
	return error;
}

static int
plan_artifacts(struct ro_plan *plan, struct ro_err *err)
{
	const struct ro_spec	*spec = plan->spec;
	const struct ro_state	*state = plan->state;
	const struct ro_artifact *a, *h;
	struct index		 want = INDEX_INIT, have = INDEX_INIT;
	size_t			 i;
	long			 j;
	bool			 seeding;
	int			 error;

	if ((error = INDEX_ARTIFACTS(&want, spec->artifacts,
	    spec->n_artifacts)) < 0 ||
	    (error = INDEX_ARTIFACTS(&have, state->artifacts,
	    state->n_artifacts)) < 0)
		goto done;
	for (i = 0; i < spec->n_artifacts; i++) {
		a = &spec->artifacts[i];
		j = index_find(&have, a->name);
		h = j >= 0 ? &state->artifacts[j] : NULL;
		seeding = false;
		switch (a->seed) {
		case RO_SEED_NONE:	/* kept as it is, never seeded */
			break;
		case RO_SEED_OK:
			RO_ASSERT(a->fingerprint[0] != '\0');
			seeding = h == NULL ||
			    strcmp(a->fingerprint, h->fingerprint) != 0;
			if (seeding && (error = ro_idxv_push(&plan->seed,
			    i)) < 0)
				goto done;
			break;
		case RO_SEED_MISSING:
			if ((error = ro_plan_block(plan, RO_OP_SEED, a->name,
			    a->seed_reason != NULL ? a->seed_reason :
			    "seed file missing")) < 0)
				goto done;
			break;
		case RO_SEED_UNRESOLVED:
		default:
			RO_ASSERT(!"seed not resolved before planning");
			error = ro_err_set(err, RO_EINVALID, "artifact %s: "
			    "seed not resolved before planning", a->name);
			goto done;
		}
		/* nothing to promote when the room lacks it and no seed
		 * brings it this cycle */
		if (a->promote_after_seed &&
		    (seeding || (h != NULL && !h->is_promoted)) &&
		    (error = ro_idxv_push(&plan->promote, i)) < 0)
			goto done;
	}
	for (i = 0; i < state->n_artifacts; i++)
		if (index_find(&want, state->artifacts[i].name) < 0 &&
		    (error = ro_idxv_push(&plan->del, i)) < 0)
			goto done;
done:
	index_release(&want);
	index_release(&have);
	return error;
}

int
ro_plan_build(struct ro_plan *plan, const struct ro_spec *spec,
    const struct ro_state *state, struct ro_err *err)
{
	int	error;

	RO_ASSERT(plan != NULL && spec != NULL && state != NULL);
	RO_ASSERT(plan->n_blocked == 0 && plan->join.n == 0);
	plan->spec = spec;
	plan->state = state;
	if ((error = plan_entities(plan)) < 0 ||
	    (error = plan_artifacts(plan, err)) < 0) {
		ro_plan_release(plan);
		if (error == RO_ENOMEM)
			ro_err_set(err, RO_ENOMEM, "out of memory");
		return error;
	}
	if (!spec->prune)
		plan->policies = ro_policies_diff(&spec->policies,
		    &state->policies);
	return RO_OK;
}

bool
ro_plan_converged(const struct ro_plan *plan)
{
	return ro_plan_count(plan) == 0;
}

size_t
ro_plan_count(const struct ro_plan *plan)
{
	return plan->join.n + plan->update.n + plan->kick.n + plan->seed.n +
	    plan->promote.n + plan->del.n + (plan->policies != 0 ? 1 : 0);
}

void
ro_plan_release(struct ro_plan *plan)
{
	size_t	i;

	idxv_release(&plan->join);
	idxv_release(&plan->update);
	idxv_release(&plan->update_have);
	idxv_release(&plan->kick);
	idxv_release(&plan->seed);
	idxv_release(&plan->promote);
	idxv_release(&plan->del);
	for (i = 0; i < plan->n_blocked; i++) {
		free(plan->blocked[i].id);
		free(plan->blocked[i].reason);
	}
	free(plan->blocked);
	memset(plan, 0, sizeof(*plan));
}

/* JSON */

static cJSON *
json_ents(const struct ro_idxv *iv, const struct ro_entity *v)
{
	cJSON	*arr;
	size_t	 i;

	if ((arr = cJSON_CreateArray()) == NULL)
		return NULL;
	for (i = 0; i < iv->n; i++)
		if (!cJSON_AddItemToArray(arr,
		    cJSON_CreateString(v[iv->v[i]].id))) {
			cJSON_Delete(arr);
			return NULL;
		}
	return arr;
}

static cJSON *
json_arts(const struct ro_idxv *iv, const struct ro_artifact *v)
{
	cJSON	*arr;
	size_t	 i;

	if ((arr = cJSON_CreateArray()) == NULL)
		return NULL;
	for (i = 0; i < iv->n; i++)
		if (!cJSON_AddItemToArray(arr,
		    cJSON_CreateString(v[iv->v[i]].name))) {
			cJSON_Delete(arr);
			return NULL;
		}
	return arr;
}

static cJSON *
json_policies(unsigned bits)
{
	cJSON	*arr;
	size_t	 i;

	if ((arr = cJSON_CreateArray()) == NULL)
		return NULL;
	for (i = 0; i < RO_NELEM(pol_fields); i++)
		if ((bits & pol_fields[i].bit) && !cJSON_AddItemToArray(arr,
		    cJSON_CreateString(pol_fields[i].name))) {
			cJSON_Delete(arr);
			return NULL;
		}
	return arr;
}

static cJSON *
json_blocked(const struct ro_plan *plan)
{
	const struct ro_blocked	*b;
	cJSON			*arr, *o;
	size_t			 i;

	if ((arr = cJSON_CreateArray()) == NULL)
		return NULL;
	for (i = 0; i < plan->n_blocked; i++) {
		b = &plan->blocked[i];
		if ((o = cJSON_CreateObject()) == NULL)
			goto fail;
		if (!cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			goto fail;
		}
		/* arr owns o now */
		if (!cJSON_AddStringToObject(o, "op", ro_op_name(b->op)) ||
		    !cJSON_AddStringToObject(o, "id", b->id) ||
		    !cJSON_AddStringToObject(o, "reason", b->reason))
			goto fail;
	}
	return arr;
fail:
	cJSON_Delete(arr);
	return NULL;
}

cJSON *
ro_plan_to_json(const struct ro_plan *plan)
{
	const struct ro_spec	*sp = plan->spec;
	const struct ro_state	*st = plan->state;
	cJSON			*o;

	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	if (!cJSON_AddItemToObject(o, "toJoin",
	    json_ents(&plan->join, sp != NULL ? sp->entities : NULL)) ||
	    !cJSON_AddItemToObject(o, "toKick",
	    json_ents(&plan->kick, st != NULL ? st->entities : NULL)) ||
	    !cJSON_AddItemToObject(o, "toUpdate",
	    json_ents(&plan->update, sp != NULL ? sp->entities : NULL)) ||
	    !cJSON_AddItemToObject(o, "toSeed",
	    json_arts(&plan->seed, sp != NULL ? sp->artifacts : NULL)) ||
	    !cJSON_AddItemToObject(o, "toPromote",
	    json_arts(&plan->promote, sp != NULL ? sp->artifacts : NULL)) ||
	    !cJSON_AddItemToObject(o, "toDeleteArtifacts",
	    json_arts(&plan->del, st != NULL ? st->artifacts : NULL)) ||
	    !cJSON_AddItemToObject(o, "toApply",
	    json_policies(plan->policies)) ||
	    !cJSON_AddItemToObject(o, "blocked", json_blocked(plan))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* Text */

/*
 * Append s for a terminal: control bytes escaped as \xNN (so that a name
 * from the server cannot move the cursor or fake a line), quotes escaped
 * when quoted, cut after max bytes on a character boundary.
 */
static int
add_text(struct ro_buf *b, const char *s, bool quoted, size_t max)
{
	size_t		 n, cut, i;
	unsigned char	 c;
	int		 error = RO_OK;

	if (s == NULL)
		return ro_buf_addstr(b, "null");
	n = cut = strlen(s);
	if (cut > max) {
		cut = max;
		while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
			cut--;
	}
	if (quoted)
		error = ro_buf_addch(b, '"');
	for (i = 0; i < cut && error == RO_OK; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			error = ro_buf_printf(b, "\\x%02x", c);
		else if (quoted && (c == '"' || c == '\\'))
			error = ro_buf_printf(b, "\\%c", c);
		else
			error = ro_buf_addch(b, (char)c);
	}
	if (error == RO_OK && cut < n)
		error = ro_buf_addstr(b, "...");
	if (error == RO_OK && quoted)
		error = ro_buf_addch(b, '"');
	return error;
}

static int
add_list(struct ro_buf *b, const struct ro_strv *sv)
{
	size_t	i;
	int	error;

	if ((error = ro_buf_addch(b, '[')) < 0)
		return error;
	for (i = 0; i < sv->n && i < TEXT_LIST_MAX; i++)
		if ((i > 0 && (error = ro_buf_addstr(b, ", ")) < 0) ||
		    (error = add_text(b, sv->v[i], false,
		    TEXT_VALUE_MAX)) < 0)
			return error;
	if (sv->n > TEXT_LIST_MAX &&
	    (error = ro_buf_printf(b, ", ... +%zu more",
	    sv->n - TEXT_LIST_MAX)) < 0)
		return error;
	return ro_buf_addch(b, ']');
}

/* One drifted field: ", name have -> want" (no comma for the first). */
static int
drift_head(struct ro_buf *b, int *nth, const char *name)
{
	return ro_buf_printf(b, "%s%s ", (*nth)++ > 0 ? ", " : ": ", name);
}

static int
drift_str(struct ro_buf *b, int *nth, const char *name, const char *have,
    const char *want, bool quoted)
{
	int	error;

	if ((error = drift_head(b, nth, name)) < 0 ||
	    (error = add_text(b, have, quoted, TEXT_VALUE_MAX)) < 0 ||
	    (error = ro_buf_addstr(b, " -> ")) < 0)
		return error;
	return add_text(b, want, quoted, TEXT_VALUE_MAX);
}

static int
drift_list(struct ro_buf *b, int *nth, const char *name,
    const struct ro_strv *have, const struct ro_strv *want)
{
	int	error;

	if ((error = drift_head(b, nth, name)) < 0 ||
	    (error = add_list(b, have)) < 0 ||
	    (error = ro_buf_addstr(b, " -> ")) < 0)
		return error;
	return add_list(b, want);
}

/* The fields ro_entity_equal() found different, with both values. */
static int
fmt_drift(struct ro_buf *b, const struct ro_entity *w,
    const struct ro_entity *h)
{
	int	error = RO_OK, nth = 0;

	if (!ro_model_str_eq(w->kind, h->kind))
		error = drift_str(b, &nth, "kind", h->kind, w->kind, false);
	if (error == RO_OK && !ro_model_opt_eq(w->display_name, h->display_name))
		error = drift_str(b, &nth, "displayName", h->display_name,
		    w->display_name, true);
	if (error == RO_OK && !ro_model_str_eq(w->visibility, h->visibility))
		error = drift_str(b, &nth, "visibility", h->visibility,
		    w->visibility, false);
	if (error == RO_OK && !ro_model_opt_eq(w->owner_user_id,
	    h->owner_user_id))
		error = drift_str(b, &nth, "ownerUserId", h->owner_user_id,
		    w->owner_user_id, true);
	if (error == RO_OK && !ro_strv_eq(&w->capabilities, &h->capabilities))
		error = drift_list(b, &nth, "capabilities", &h->capabilities,
		    &w->capabilities);
	if (error == RO_OK && !ro_model_str_eq(w->policy.allow_commands_from,
	    h->policy.allow_commands_from))
		error = drift_str(b, &nth, "policy.allow_commands_from",
		    h->policy.allow_commands_from,
		    w->policy.allow_commands_from, false);
	if (error == RO_OK && w->policy.sandbox_mode != h->policy.sandbox_mode)
		error = drift_str(b, &nth, "policy.sandbox_mode",
		    h->policy.sandbox_mode ? "true" : "false",
		    w->policy.sandbox_mode ? "true" : "false", false);
	if (error == RO_OK && !ro_strv_eq(&w->policy.env_whitelist,
	    &h->policy.env_whitelist))
		error = drift_list(b, &nth, "policy.env_whitelist",
		    &h->policy.env_whitelist, &w->policy.env_whitelist);
	if (error == RO_OK && !ro_strv_eq(&w->policy.scopes, &h->policy.scopes))
		error = drift_list(b, &nth, "policy.scopes", &h->policy.scopes,
		    &w->policy.scopes);
	return error;
}

/* "S verb    id": sign, verb padded to 7, the id made safe. */
static int
line_head(struct ro_buf *b, char sign, const char *verb, const char *id)
{
	int	error;

	if ((error = ro_buf_printf(b, "%c %-7s ", sign, verb)) < 0)
		return error;
	return add_text(b, id, false, RO_SPEC_STRING_MAX);
}

static int
fmt_policy(struct ro_buf *b, const struct ro_policies *want,
    const struct ro_policies *have, unsigned bits)
{
	int	error = RO_OK;

	if (bits & RO_POL_DM_VISIBILITY) {
		if ((error = line_head(b, '~', "policy",
		    "dmVisibilityDefault")) < 0 ||
		    (error = ro_buf_addstr(b, ": ")) < 0 ||
		    (error = add_text(b, have->dm_visibility_default, false,
		    TEXT_VALUE_MAX)) < 0 ||
		    (error = ro_buf_addstr(b, " -> ")) < 0 ||
		    (error = add_text(b, want->dm_visibility_default, false,
		    TEXT_VALUE_MAX)) < 0 ||
		    (error = ro_buf_addch(b, '\n')) < 0)
			return error;
	}
	if ((bits & RO_POL_ALLOW_CREATION) &&
	    (error = ro_buf_printf(b, "~ %-7s allowResourceCreation: "
	    "%s -> %s\n", "policy",
	    have->allow_resource_creation ? "true" : "false",
	    want->allow_resource_creation ? "true" : "false")) < 0)
		return error;
	if ((bits & RO_POL_MAX_ARTIFACTS) &&
	    (error = ro_buf_printf(b, "~ %-7s maxArtifactsPerEntity: "
	    "%ld -> %ld\n", "policy", have->max_artifacts_per_entity,
	    want->max_artifacts_per_entity)) < 0)
		return error;
	return RO_OK;
}

static int
fmt_changes(const struct ro_plan *plan, struct ro_buf *out,
    const struct index *have_arts)
{
	const struct ro_spec	*sp = plan->spec;
	const struct ro_state	*st = plan->state;
	const struct ro_entity	*e;
	const struct ro_artifact *a;
	size_t			 i;
	int			 error;

	for (i = 0; i < plan->join.n; i++) {
		e = &sp->entities[plan->join.v[i]];
		if ((error = line_head(out, '+', "join", e->id)) < 0 ||
		    (error = ro_buf_addstr(out, " (")) < 0 ||
		    (error = add_text(out, e->kind, false,
		    TEXT_VALUE_MAX)) < 0 ||
		    (error = ro_buf_addstr(out, ")\n")) < 0)
			return error;
	}
	for (i = 0; i < plan->update.n; i++) {
		e = &sp->entities[plan->update.v[i]];
		if ((error = line_head(out, '~', "update", e->id)) < 0 ||
		    (error = fmt_drift(out, e,
		    &st->entities[plan->update_have.v[i]])) < 0 ||
		    (error = ro_buf_addch(out, '\n')) < 0)
			return error;
	}
	for (i = 0; i < plan->kick.n; i++)
		if ((error = line_head(out, '-', "kick",
		    st->entities[plan->kick.v[i]].id)) < 0 ||
		    (error = ro_buf_addch(out, '\n')) < 0)
			return error;
	for (i = 0; i < plan->seed.n; i++) {
		a = &sp->artifacts[plan->seed.v[i]];
		if ((error = line_head(out, '+', "seed", a->name)) < 0 ||
		    (error = ro_buf_addstr(out,
		    index_find(have_arts, a->name) < 0 ? " (new)\n" :
		    " (content changed)\n")) < 0)
			return error;
	}
	for (i = 0; i < plan->promote.n; i++)
		if ((error = line_head(out, '*', "promote",
		    sp->artifacts[plan->promote.v[i]].name)) < 0 ||
		    (error = ro_buf_addch(out, '\n')) < 0)
			return error;
	for (i = 0; i < plan->del.n; i++)
		if ((error = line_head(out, '-', "delete",
		    st->artifacts[plan->del.v[i]].name)) < 0 ||
		    (error = ro_buf_addch(out, '\n')) < 0)
			return error;
	if (plan->policies != 0 && (error = fmt_policy(out, &sp->policies,
	    &st->policies, plan->policies)) < 0)
		return error;
	for (i = 0; i < plan->n_blocked; i++)
		if ((error = ro_buf_printf(out, "! %-7s %s ", "blocked",
		    ro_op_name(plan->blocked[i].op))) < 0 ||
		    (error = add_text(out, plan->blocked[i].id, false,
		    RO_SPEC_STRING_MAX)) < 0 ||
		    (error = ro_buf_addstr(out, ": ")) < 0 ||
		    (error = add_text(out, plan->blocked[i].reason, false,
		    TEXT_REASON_MAX)) < 0 ||
		    (error = ro_buf_addch(out, '\n')) < 0)
			return error;
	return RO_OK;
}

int
ro_plan_format_text(const struct ro_plan *plan, struct ro_buf *out)
{
	struct index	have_arts = INDEX_INIT;
	int		error;

	if (ro_plan_converged(plan) && plan->n_blocked == 0)
		return ro_buf_addstr(out, "converged\n");
	RO_ASSERT(plan->spec != NULL && plan->state != NULL);
	if (plan->seed.n > 0 && (error = INDEX_ARTIFACTS(&have_arts,
	    plan->state->artifacts, plan->state->n_artifacts)) < 0)
		return error;
	error = fmt_changes(plan, out, &have_arts);
	index_release(&have_arts);
	return error;
}
