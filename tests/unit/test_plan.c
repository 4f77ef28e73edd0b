/* test_plan.c: the plan rules of roomspec.md, its JSON diff and text. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "roomops/fingerprint.h"
#include "roomops/plan.h"
#include "roomops/state.h"
#include "testutil.h"

#define ROOM	"room-ai-lab-01"

static char *
xstrdup(const char *s)
{
	char	*p = strdup(s);

	assert_non_null(p);
	return p;
}

/* An entity as the spec loader leaves it: defaults applied. */
static void
entity_init(struct ro_entity *e, const char *id, const char *kind)
{
	memset(e, 0, sizeof(*e));
	e->id = xstrdup(id);
	e->kind = xstrdup(kind);
	e->visibility = xstrdup("team");
	e->policy.allow_commands_from = xstrdup("any");
}

static struct ro_spec *
spec_new(void)
{
	struct ro_spec	*s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->room_id = xstrdup(ROOM);
	s->version = 1;
	assert_int_equal(ro_policies_default(&s->policies), 0);
	return s;
}

/* Valid until the next add. */
static struct ro_entity *
spec_entity(struct ro_spec *s, const char *id, const char *kind)
{
	s->entities = reallocarray(s->entities, s->n_entities + 1,
	    sizeof(*s->entities));
	assert_non_null(s->entities);
	entity_init(&s->entities[s->n_entities], id, kind);
	return &s->entities[s->n_entities++];
}

static void
fingerprint(char fp[RO_HEX_SHA256_LEN + 1], const char *name,
    const char *content)
{
	assert_int_equal(ro_fingerprint(fp, name, "document", "shared", NULL,
	    content, strlen(content), NULL), 0);
}

/* content NULL: no seedFrom. Valid until the next add. */
static struct ro_artifact *
spec_artifact(struct ro_spec *s, const char *name, const char *content)
{
	struct ro_artifact	*a;
	char			 path[128];

	s->artifacts = reallocarray(s->artifacts, s->n_artifacts + 1,
	    sizeof(*s->artifacts));
	assert_non_null(s->artifacts);
	a = &s->artifacts[s->n_artifacts++];
	memset(a, 0, sizeof(*a));
	a->name = xstrdup(name);
	a->type = xstrdup("document");
	a->workspace = xstrdup("shared");
	if (content != NULL) {
		snprintf(path, sizeof(path), "seeds/%s.md", name);
		a->seed_from = xstrdup(path);
		a->seed = RO_SEED_OK;
		a->content = (unsigned char *)xstrdup(content);
		a->content_len = strlen(content);
		fingerprint(a->fingerprint, name, content);
	}
	return a;
}

/* A seedFrom whose file is absent, as seed.c reports it. */
static struct ro_artifact *
spec_artifact_missing(struct ro_spec *s, const char *name)
{
	struct ro_artifact	*a = spec_artifact(s, name, NULL);

	a->seed_from = xstrdup("seeds/gone.md");
	a->seed = RO_SEED_MISSING;
	a->seed_reason = xstrdup("seed file missing: seeds/gone.md");
	return a;
}

static struct ro_state *
state_new(void)
{
	struct ro_state	*s = NULL;

	assert_int_equal(ro_state_new_empty(&s, ROOM, NULL), 0);
	return s;
}

static struct ro_entity *
state_entity(struct ro_state *s, const char *id, const char *kind)
{
	s->entities = reallocarray(s->entities, s->n_entities + 1,
	    sizeof(*s->entities));
	assert_non_null(s->entities);
	entity_init(&s->entities[s->n_entities], id, kind);
	return &s->entities[s->n_entities++];
}

/* content NULL: fingerprint unknown (""). */
static struct ro_artifact *
state_artifact(struct ro_state *s, const char *name, const char *content,
    bool promoted)
{
	struct ro_artifact	*a;

	s->artifacts = reallocarray(s->artifacts, s->n_artifacts + 1,
	    sizeof(*s->artifacts));
	assert_non_null(s->artifacts);
	a = &s->artifacts[s->n_artifacts++];
	memset(a, 0, sizeof(*a));
	a->name = xstrdup(name);
	a->type = xstrdup("document");
	a->workspace = xstrdup("shared");
	a->version = 1;
	a->is_promoted = promoted;
	if (content != NULL)
		fingerprint(a->fingerprint, name, content);
	return a;
}

static struct ro_state *
state_parse(const char *s)
{
	struct ro_state	*st = NULL;
	struct ro_err	 err = RO_ERR_INIT;

	if (ro_state_parse_json(&st, s, strlen(s), &err) != 0)
		fail_msg("%s", err.msg);
	return st;
}

static void
build(struct ro_plan *p, const struct ro_spec *spec,
    const struct ro_state *st)
{
	struct ro_err	err = RO_ERR_INIT;

	if (ro_plan_build(p, spec, st, &err) != 0)
		fail_msg("%s", err.msg);
}

/* Names a list of the plan refers to, joined by ",". */
static const char *
ents(const struct ro_idxv *iv, const struct ro_entity *v)
{
	static char	buf[4096];
	size_t		i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < iv->n; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s",
		    i > 0 ? "," : "", v[iv->v[i]].id);
	return buf;
}

static const char *
arts(const struct ro_idxv *iv, const struct ro_artifact *v)
{
	static char	buf[4096];
	size_t		i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < iv->n; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s",
		    i > 0 ? "," : "", v[iv->v[i]].name);
	return buf;
}

static char *
text(const struct ro_plan *p)
{
	struct ro_buf	b = RO_BUF_INIT;

	assert_int_equal(ro_plan_format_text(p, &b), 0);
	return ro_buf_detach(&b, NULL);
}

static char *
json(const struct ro_plan *p)
{
	cJSON	*j = ro_plan_to_json(p);
	char	*s;

	assert_non_null(j);
	s = cJSON_PrintUnformatted(j);
	assert_non_null(s);
	cJSON_Delete(j);
	return s;
}

/* Missing, extra and matching entities; join in spec order, kick in room
 * order. */
static void
test_join_kick(void **unused)
{
	struct ro_spec	*spec = spec_new();
	struct ro_state	*st = state_new();
	struct ro_plan	 p = RO_PLAN_INIT;

	(void)unused;
	spec_entity(spec, "E-zz", "agent");
	spec_entity(spec, "E-b2", "human");
	spec_entity(spec, "E-aa", "npc");
	state_entity(st, "E-x9", "agent");
	state_entity(st, "E-b2", "human");
	state_entity(st, "E-a0", "agent");
	state_entity(st, "E-y8", "npc");
	build(&p, spec, st);
	assert_string_equal(ents(&p.join, spec->entities), "E-zz,E-aa");
	assert_string_equal(ents(&p.kick, st->entities), "E-x9,E-a0,E-y8");
	assert_int_equal(p.update.n, 0);
	assert_int_equal(p.update_have.n, 0);
	assert_int_equal(p.policies, 0);
	assert_false(ro_plan_converged(&p));
	assert_int_equal(ro_plan_count(&p), 5);
	ro_plan_release(&p);
	ro_spec_free(spec);
	ro_state_free(st);
}

struct drift {
	const char	*name;
	void		(*mutate)(struct ro_entity *);
	const char	*line;		/* expected text line */
};

static void
d_kind(struct ro_entity *e)
{
	free(e->kind);
	e->kind = xstrdup("orchestrator");
}

static void
d_display(struct ro_entity *e)
{
	free(e->display_name);
	e->display_name = xstrdup("b");
}

static void
d_visibility(struct ro_entity *e)
{
	free(e->visibility);
	e->visibility = xstrdup("owner");
	e->owner_user_id = xstrdup("user-1");
}

static void
d_owner(struct ro_entity *e)
{
	e->owner_user_id = xstrdup("user-2");
}

static void
d_caps(struct ro_entity *e)
{
	assert_int_equal(ro_strv_push(&e->capabilities, "write"), 0);
}

static void
d_caps_order(struct ro_entity *e)
{
	char	*t = e->capabilities.v[0];

	e->capabilities.v[0] = e->capabilities.v[1];
	e->capabilities.v[1] = t;
}

static void
d_allow(struct ro_entity *e)
{
	free(e->policy.allow_commands_from);
	e->policy.allow_commands_from = xstrdup("orchestrator");
}

static void
d_sandbox(struct ro_entity *e)
{
	e->policy.sandbox_mode = true;
}

static void
d_env(struct ro_entity *e)
{
	assert_int_equal(ro_strv_push(&e->policy.env_whitelist, "PATH"), 0);
}

static void
d_scopes(struct ro_entity *e)
{
	assert_int_equal(ro_strv_push(&e->policy.scopes, "s:1"), 0);
}

/* The room side of every drift case (a JSON body, through the decoder). */
static const char drift_room[] =
    "{\"roomId\":\"" ROOM "\",\"revision\":4,\"entities\":["
    "{\"id\":\"E-other\",\"kind\":\"npc\"},"
    "{\"id\":\"E-x\",\"kind\":\"agent\",\"displayName\":\"a\","
    "\"visibility\":\"team\",\"ownerUserId\":null,"
    "\"capabilities\":[\"read\",\"list\"],\"policy\":"
    "{\"allow_commands_from\":\"any\",\"sandbox_mode\":false,"
    "\"env_whitelist\":[],\"scopes\":[]}}]}";

static const struct drift drifts[] = {
	{ "none", NULL, NULL },
	{ "kind", d_kind, "~ update  E-x: kind agent -> orchestrator\n" },
	{ "displayName", d_display,
	  "~ update  E-x: displayName \"a\" -> \"b\"\n" },
	{ "visibility", d_visibility, "~ update  E-x: visibility team -> owner, "
	  "ownerUserId null -> \"user-1\"\n" },
	{ "ownerUserId", d_owner,
	  "~ update  E-x: ownerUserId null -> \"user-2\"\n" },
	{ "capabilities", d_caps,
	  "~ update  E-x: capabilities [read, list] -> [read, list, write]\n" },
	{ "capabilities order", d_caps_order,
	  "~ update  E-x: capabilities [read, list] -> [list, read]\n" },
	{ "allow_commands_from", d_allow,
	  "~ update  E-x: policy.allow_commands_from any -> orchestrator\n" },
	{ "sandbox_mode", d_sandbox,
	  "~ update  E-x: policy.sandbox_mode false -> true\n" },
	{ "env_whitelist", d_env,
	  "~ update  E-x: policy.env_whitelist [] -> [PATH]\n" },
	{ "scopes", d_scopes, "~ update  E-x: policy.scopes [] -> [s:1]\n" },
};

/* Each drift field alone makes exactly one update, paired with the right
 * room entity, and the text names the field. */
static void
test_drift_each_field(void **unused)
{
	struct ro_state	*st = state_parse(drift_room);
	struct ro_spec	*spec;
	struct ro_entity *e;
	struct ro_plan	 p = RO_PLAN_INIT;
	char		*t;
	size_t		 i;

	(void)unused;
	for (i = 0; i < RO_NELEM(drifts); i++) {
		spec = spec_new();
		e = spec_entity(spec, "E-x", "agent");
		e->display_name = xstrdup("a");
		assert_int_equal(ro_strv_push(&e->capabilities, "read"), 0);
		assert_int_equal(ro_strv_push(&e->capabilities, "list"), 0);
		spec_entity(spec, "E-other", "npc");
		if (drifts[i].mutate != NULL)
			drifts[i].mutate(&spec->entities[0]);
		build(&p, spec, st);
		t = text(&p);
		if (drifts[i].mutate == NULL) {
			assert_int_equal(p.update.n, 0);
			assert_true(ro_plan_converged(&p));
			assert_string_equal(t, "converged\n");
		} else {
			if (p.update.n != 1 || strcmp(t, drifts[i].line) != 0)
				fail_msg("%s: %zu updates, text:\n%s",
				    drifts[i].name, p.update.n, t);
			assert_int_equal(p.update.v[0], 0);
			assert_int_equal(p.update_have.n, 1);
			assert_int_equal(p.update_have.v[0], 1);
			assert_int_equal(ro_plan_count(&p), 1);
		}
		assert_int_equal(p.join.n + p.kick.n, 0);
		free(t);
		ro_plan_release(&p);
		ro_spec_free(spec);
	}
	ro_state_free(st);
}

/* update and update_have stay parallel when the orders differ. */
static void
test_update_have_parallel(void **unused)
{
	struct ro_spec	*spec = spec_new();
	struct ro_state	*st = state_new();
	struct ro_plan	 p = RO_PLAN_INIT;
	char		 id[32];
	size_t		 i, k;

	(void)unused;
	for (i = 0; i < 20; i++) {
		snprintf(id, sizeof(id), "E-%02zu", i);
		spec_entity(spec, id, i % 3 == 0 ? "npc" : "agent");
	}
	for (i = 20; i-- > 0;) {
		snprintf(id, sizeof(id), "E-%02zu", i);
		state_entity(st, id, "agent");
	}
	build(&p, spec, st);
	assert_int_equal(p.update.n, 7);
	assert_int_equal(p.update_have.n, 7);
	for (k = 0; k < p.update.n; k++) {
		assert_string_equal(spec->entities[p.update.v[k]].id,
		    st->entities[p.update_have.v[k]].id);
		assert_string_equal(spec->entities[p.update.v[k]].kind, "npc");
	}
	/* spec order */
	assert_string_equal(ents(&p.update, spec->entities),
	    "E-00,E-03,E-06,E-09,E-12,E-15,E-18");
	ro_plan_release(&p);
	ro_spec_free(spec);
	ro_state_free(st);
}

/* displayName / ownerUserId: absent, null and "" are the same. */
static void
test_absent_equals_empty(void **unused)
{
	struct ro_spec	*spec = spec_new();
	struct ro_state	*st = state_parse("{\"roomId\":\"" ROOM "\","
	    "\"revision\":1,\"entities\":[{\"id\":\"E-x\",\"kind\":\"agent\","
	    "\"displayName\":\"\",\"ownerUserId\":null}]}");
	struct ro_plan	 p = RO_PLAN_INIT;

	(void)unused;
	spec_entity(spec, "E-x", "agent");
	build(&p, spec, st);
	assert_true(ro_plan_converged(&p));
	ro_plan_release(&p);
	ro_spec_free(spec);
	ro_state_free(st);
}

/* Seeds: new, changed, unchanged, unknown fingerprint in the room. */
static void
test_seed_by_fingerprint(void **unused)
{
	struct ro_spec	*spec = spec_new();
	struct ro_state	*st = state_new();
	struct ro_plan	 p = RO_PLAN_INIT;
	char		*t;

	(void)unused;
	spec_artifact(spec, "same", "v1");
	spec_artifact(spec, "changed", "v2");
	spec_artifact(spec, "new", "hello");
	spec_artifact(spec, "unknown", "x");
	state_artifact(st, "unknown", NULL, false);
	state_artifact(st, "changed", "v1", false);
	state_artifact(st, "same", "v1", false);
	build(&p, spec, st);
	assert_string_equal(arts(&p.seed, spec->artifacts),
	    "changed,new,unknown");
	assert_int_equal(p.promote.n + p.del.n + p.n_blocked, 0);
	t = text(&p);
	assert_string_equal(t,
	    "+ seed    changed (content changed)\n"
	    "+ seed    new (new)\n"
	    "+ seed    unknown (content changed)\n");
	free(t);
	ro_plan_release(&p);

	/* the room now holds what the spec says: nothing is re-seeded */
	fingerprint(st->artifacts[0].fingerprint, "unknown", "x");
	fingerprint(st->artifacts[1].fingerprint, "changed", "v2");
	state_artifact(st, "new", "hello", false);
	build(&p, spec, st);
	assert_true(ro_plan_converged(&p));
	assert_int_equal(ro_plan_count(&p), 0);
	ro_plan_release(&p);
	ro_spec_free(spec);
	ro_state_free(st);
}

/* A missing seed file blocks that artifact only. */
static void
test_missing_seed_blocks_one(void **unused)
{
	struct ro_spec	*spec = spec_new();
	struct ro_state	*st = state_new();
	struct ro_plan	 p = RO_PLAN_INIT;
	char		*t;

	(void)unused;
	spec_artifact(spec, "a", "A");
	spec_artifact_missing(spec, "b");
	spec_artifact(spec, "c", "C");
	state_artifact(st, "b", "old", false);	/* kept, not deleted */
	build(&p, spec, st);
	assert_string_equal(arts(&p.seed, spec->artifacts), "a,c");
	assert_int_equal(p.del.n, 0);
	assert_int_equal(p.n_blocked, 1);
	assert_int_equal(p.blocked[0].op, RO_OP_SEED);
	assert_string_equal(p.blocked[0].id, "b");
	assert_string_equal(p.blocked[0].reason,
	    "seed file missing: seeds/gone.md");
	t = text(&p);
	assert_string_equal(t,
	    "+ seed    a (new)\n"
	    "+ seed    c (new)\n"
	    "! blocked seed b: seed file missing: seeds/gone.md\n");
	free(t);
	ro_plan_release(&p);
	ro_spec_free(spec);
	ro_state_free(st);
}

/* Nothing to do but a blocked item: converged, and the text says why. */
static void
test_blocked_only_is_converged(void **unused)
{
	struct ro_spec	*spec = spec_new();
	struct ro_state	*st = state_new();
	struct ro_plan	 p = RO_PLAN_INIT;
	char		*t;

	(void)unused;
	spec_artifact_missing(spec, "b");
	build(&p, spec, st);
	assert_true(ro_plan_converged(&p));
	assert_int_equal(ro_plan_count(&p), 0);
	t = text(&p);
	assert_string_equal(t,
	    "! blocked seed b: seed file missing: seeds/gone.md\n");
	free(t);
	ro_plan_release(&p);
	ro_spec_free(spec);
	ro_state_free(st);
}

struct promo {
	const char	*name;
	int		 spec;		/* 0 no seedFrom, 1 seed "v1", 2 missing */
	int		 room;		/* 0 absent, 1 same content, 2 other */
	bool		 promoted;	/* in the room */
	bool		 after_seed;	/* promoteAfterSeed */
	bool		 want;
};

static const struct promo promos[] = {
	{ "seeded new", 1, 0, false, true, true },
	{ "unchanged, promoted", 1, 1, true, true, false },
	{ "unchanged, not promoted", 1, 1, false, true, true },
	{ "changed, promoted", 1, 2, true, true, true },
	{ "changed, flag off", 1, 2, false, false, false },
	{ "missing, absent", 2, 0, false, true, false },
	{ "missing, present unpromoted", 2, 2, false, true, true },
	{ "missing, present promoted", 2, 2, true, true, false },
	{ "no seedFrom, absent", 0, 0, false, true, false },
	{ "no seedFrom, unpromoted", 0, 2, false, true, true },
	{ "no seedFrom, promoted", 0, 2, true, true, false },
};

static void
test_promote_rules(void **unused)
{
	struct ro_spec		*spec;
	struct ro_state		*st;
	struct ro_artifact	*a;
	struct ro_plan		 p = RO_PLAN_INIT;
	size_t			 i;

	(void)unused;
	for (i = 0; i < RO_NELEM(promos); i++) {
		spec = spec_new();
		st = state_new();
		if (promos[i].spec == 1)
			a = spec_artifact(spec, "doc", "v1");
		else if (promos[i].spec == 2)
			a = spec_artifact_missing(spec, "doc");
		else
			a = spec_artifact(spec, "doc", NULL);
		a->promote_after_seed = promos[i].after_seed;
		if (promos[i].room > 0)
			state_artifact(st, "doc", promos[i].room == 1 ? "v1" :
			    "v0", promos[i].promoted);
		build(&p, spec, st);
		if ((p.promote.n == 1) != promos[i].want)
			fail_msg("%s: %zu promotions", promos[i].name,
			    p.promote.n);
		if (p.promote.n == 1)
			assert_int_equal(p.promote.v[0], 0);
		assert_int_equal(p.del.n, 0);
		ro_plan_release(&p);
		ro_spec_free(spec);
		ro_state_free(st);
	}
}

/* Without seedFrom an artifact is kept as the room has it and never
 * seeded; room artifacts absent from the spec are deleted. */
static void
test_artifacts_kept_and_deleted(void **unused)
{
	struct ro_spec	*spec = spec_new();
	struct ro_state	*st = state_new();
	struct ro_plan	 p = RO_PLAN_INIT;

	(void)unused;
	spec_artifact(spec, "notes", NULL);
	spec_artifact(spec, "absent-unseeded", NULL);
	state_artifact(st, "old-1", "x", false);
	state_artifact(st, "notes", "whatever the room has", true);
	state_artifact(st, "old-2", NULL, false);
	build(&p, spec, st);
	assert_int_equal(p.seed.n, 0);
	assert_int_equal(p.promote.n, 0);
	assert_string_equal(arts(&p.del, st->artifacts), "old-1,old-2");
	assert_int_equal(ro_plan_count(&p), 2);
	ro_plan_release(&p);
	ro_spec_free(spec);
	ro_state_free(st);
}

static void
test_policies(void **unused)
{
	struct ro_spec	*spec = spec_new();
	struct ro_state	*st = state_new();
	struct ro_plan	 p = RO_PLAN_INIT;
	char		*t, *j;

	(void)unused;
	build(&p, spec, st);
	assert_int_equal(p.policies, 0);
	ro_plan_release(&p);

	free(spec->policies.dm_visibility_default);
	spec->policies.dm_visibility_default = xstrdup("public");
	build(&p, spec, st);
	assert_int_equal(p.policies, RO_POL_DM_VISIBILITY);
	assert_int_equal(ro_plan_count(&p), 1);
	t = text(&p);
	assert_string_equal(t, "~ policy  dmVisibilityDefault: team -> public\n");
	j = json(&p);
	assert_true(tu_contains(j, "\"toApply\":[\"dmVisibilityDefault\"]"));
	free(t);
	free(j);
	ro_plan_release(&p);

	spec->policies.allow_resource_creation = true;
	spec->policies.max_artifacts_per_entity = 7;
	build(&p, spec, st);
	assert_int_equal(p.policies, RO_POL_DM_VISIBILITY |
	    RO_POL_ALLOW_CREATION | RO_POL_MAX_ARTIFACTS);
	assert_int_equal(ro_plan_count(&p), 1);	/* one PUT */
	t = text(&p);
	assert_string_equal(t,
	    "~ policy  dmVisibilityDefault: team -> public\n"
	    "~ policy  allowResourceCreation: false -> true\n"
	    "~ policy  maxArtifactsPerEntity: 100 -> 7\n");
	j = json(&p);
	assert_true(tu_contains(j, "\"toApply\":[\"dmVisibilityDefault\","
	    "\"allowResourceCreation\",\"maxArtifactsPerEntity\"]"));
	free(t);
	free(j);
	ro_plan_release(&p);

	free(spec->policies.dm_visibility_default);
	spec->policies.dm_visibility_default = xstrdup("team");
	spec->policies.allow_resource_creation = false;
	build(&p, spec, st);
	assert_int_equal(p.policies, RO_POL_MAX_ARTIFACTS);
	ro_plan_release(&p);
	ro_spec_free(spec);
	ro_state_free(st);
}

static void
test_empty_room(void **unused)
{
	struct ro_spec	*spec = spec_new();
	struct ro_state	*st = state_new();
	struct ro_plan	 p = RO_PLAN_INIT;

	(void)unused;
	spec_entity(spec, "E-a1", "agent");
	spec_entity(spec, "E-h1", "human");
	spec_artifact(spec, "plan", "content")->promote_after_seed = true;
	build(&p, spec, st);
	assert_string_equal(ents(&p.join, spec->entities), "E-a1,E-h1");
	assert_string_equal(arts(&p.seed, spec->artifacts), "plan");
	assert_string_equal(arts(&p.promote, spec->artifacts), "plan");
	assert_int_equal(p.kick.n + p.del.n + p.update.n, 0);
	assert_int_equal(ro_plan_count(&p), 4);
	ro_plan_release(&p);
	ro_spec_free(spec);
	ro_state_free(st);
}

static void
test_converged(void **unused)
{
	struct ro_spec	*spec = spec_new();
	struct ro_state	*st = state_new();
	struct ro_plan	 p = RO_PLAN_INIT;
	char		*t, *j;

	(void)unused;
	spec_entity(spec, "E-a1", "agent");
	state_entity(st, "E-a1", "agent");
	spec_artifact(spec, "plan", "content")->promote_after_seed = true;
	state_artifact(st, "plan", "content", true);
	build(&p, spec, st);
	assert_true(ro_plan_converged(&p));
	assert_int_equal(ro_plan_count(&p), 0);
	assert_int_equal(p.n_blocked, 0);
	t = text(&p);
	assert_string_equal(t, "converged\n");
	j = json(&p);
	assert_string_equal(j, "{\"toJoin\":[],\"toKick\":[],\"toUpdate\":[],"
	    "\"toSeed\":[],\"toPromote\":[],\"toDeleteArtifacts\":[],"
	    "\"toApply\":[],\"blocked\":[]}");
	free(t);
	free(j);
	ro_plan_release(&p);
	/* nothing at all, too */
	assert_true(ro_plan_converged(&p));
	t = text(&p);
	assert_string_equal(t, "converged\n");
	free(t);
	ro_spec_free(spec);
	ro_state_free(st);
}

/* A plan with one of everything: exact JSON and text. */
static void
test_json_and_text(void **unused)
{
	struct ro_spec	*spec = spec_new();
	struct ro_state	*st = state_new();
	struct ro_plan	 p = RO_PLAN_INIT;
	struct ro_entity *e;
	char		*t, *j;

	(void)unused;
	spec_entity(spec, "E-agent-1", "agent");
	e = spec_entity(spec, "E-x", "human");
	e->display_name = xstrdup("b");
	spec_artifact(spec, "project-plan", "v2")->promote_after_seed = true;
	spec_artifact_missing(spec, "gone");
	free(spec->policies.dm_visibility_default);
	spec->policies.dm_visibility_default = xstrdup("public");
	state_entity(st, "E-old", "npc");
	state_entity(st, "E-x", "human")->display_name = xstrdup("a");
	state_artifact(st, "stale", "s", false);
	state_artifact(st, "project-plan", "v1", true);
	build(&p, spec, st);
	assert_int_equal(ro_plan_block(&p, RO_OP_KICK, "E-y",
	    "awaiting confirmation"), 0);
	t = text(&p);
	assert_string_equal(t,
	    "+ join    E-agent-1 (agent)\n"
	    "~ update  E-x: displayName \"a\" -> \"b\"\n"
	    "- kick    E-old\n"
	    "+ seed    project-plan (content changed)\n"
	    "* promote project-plan\n"
	    "- delete  stale\n"
	    "~ policy  dmVisibilityDefault: team -> public\n"
	    "! blocked seed gone: seed file missing: seeds/gone.md\n"
	    "! blocked kick E-y: awaiting confirmation\n");
	j = json(&p);
	assert_string_equal(j, "{\"toJoin\":[\"E-agent-1\"],"
	    "\"toKick\":[\"E-old\"],\"toUpdate\":[\"E-x\"],"
	    "\"toSeed\":[\"project-plan\"],\"toPromote\":[\"project-plan\"],"
	    "\"toDeleteArtifacts\":[\"stale\"],"
	    "\"toApply\":[\"dmVisibilityDefault\"],\"blocked\":["
	    "{\"op\":\"seed\",\"id\":\"gone\","
	    "\"reason\":\"seed file missing: seeds/gone.md\"},"
	    "{\"op\":\"kick\",\"id\":\"E-y\","
	    "\"reason\":\"awaiting confirmation\"}]}");
	assert_int_equal(ro_plan_count(&p), 7);
	free(t);
	free(j);
	ro_plan_release(&p);
	ro_spec_free(spec);
	ro_state_free(st);
}

/* Names from the server cannot inject lines or terminal escapes, and long
 * values are cut (on a character boundary: the 60th byte is inside "é"). */
static void
test_text_is_safe(void **unused)
{
	struct ro_spec	*spec = spec_new();
	struct ro_state	*st = state_parse("{\"roomId\":\"" ROOM "\","
	    "\"revision\":1,\"entities\":[{\"id\":\"E-\\u001b[2J\\n+ join    "
	    "E-fake\",\"kind\":\"agent\"},{\"id\":\"E-d\",\"kind\":\"agent\","
	    "\"displayName\":\"0123456789012345678901234567890123456789"
	    "0123456789012345678\\u00e9\\u00e9\\u00e9\"}]}");
	struct ro_plan	 p = RO_PLAN_INIT;
	char		*t;

	(void)unused;
	spec_entity(spec, "E-d", "agent")->display_name = xstrdup("q\"\\");
	build(&p, spec, st);
	t = text(&p);
	assert_string_equal(t,
	    "~ update  E-d: displayName \"012345678901234567890123456789"
	    "01234567890123456789012345678...\" -> \"q\\\"\\\\\"\n"
	    "- kick    E-\\x1b[2J\\x0a+ join    E-fake\n");
	free(t);
	ro_plan_release(&p);
	ro_spec_free(spec);
	ro_state_free(st);
}

static void
test_long_lists_cut(void **unused)
{
	struct ro_spec	*spec = spec_new();
	struct ro_state	*st = state_new();
	struct ro_plan	 p = RO_PLAN_INIT;
	struct ro_entity *e;
	char		*t;
	size_t		 i;

	(void)unused;
	e = spec_entity(spec, "E-x", "agent");
	for (i = 0; i < 11; i++)
		assert_int_equal(ro_strv_pushf(&e->policy.scopes, "s%zu", i),
		    0);
	state_entity(st, "E-x", "agent");
	build(&p, spec, st);
	t = text(&p);
	assert_string_equal(t, "~ update  E-x: policy.scopes [] -> "
	    "[s0, s1, s2, s3, s4, s5, s6, s7, ... +3 more]\n");
	free(t);
	ro_plan_release(&p);
	ro_spec_free(spec);
	ro_state_free(st);
}

/* 10,000 entities and artifacts on each side, half overlapping. */
static void
test_large_room(void **unused)
{
	struct ro_spec	*spec = spec_new();
	struct ro_state	*st = state_new();
	struct ro_plan	 p = RO_PLAN_INIT;
	struct timespec	 t0, t1;
	char		 id[32];
	size_t		 i, n = 10000;

	(void)unused;
	spec->entities = calloc(n, sizeof(*spec->entities));
	st->entities = calloc(n, sizeof(*st->entities));
	spec->artifacts = calloc(n, sizeof(*spec->artifacts));
	st->artifacts = calloc(n, sizeof(*st->artifacts));
	assert_true(spec->entities && st->entities && spec->artifacts &&
	    st->artifacts);
	for (i = 0; i < n; i++) {
		/* scattered order on both sides */
		snprintf(id, sizeof(id), "E-%05zu", (i * 7919) % n);
		entity_init(&spec->entities[spec->n_entities++], id,
		    i % 100 == 0 ? "npc" : "agent");
		snprintf(id, sizeof(id), "E-%05zu", (i * 104729) % n + n / 2);
		entity_init(&st->entities[st->n_entities++], id, "agent");
		snprintf(id, sizeof(id), "a-%05zu", (i * 7919) % n);
		spec->artifacts[i].name = xstrdup(id);
		spec->artifacts[i].seed = RO_SEED_NONE;
		spec->n_artifacts++;
		snprintf(id, sizeof(id), "a-%05zu", (i * 104729) % n + n / 2);
		st->artifacts[i].name = xstrdup(id);
		st->n_artifacts++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	build(&p, spec, st);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_message("10,000 + 10,000 entities and artifacts planned in "
	    "%.1f ms\n", (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	assert_int_equal(p.join.n, n / 2);
	assert_int_equal(p.kick.n, n / 2);
	assert_int_equal(p.del.n, n / 2);
	/* every 100th spec entity is an npc, an agent in the room: those
	 * the room has drifted */
	for (i = 0; i < p.update.n; i++) {
		assert_string_equal(spec->entities[p.update.v[i]].kind, "npc");
		assert_string_equal(spec->entities[p.update.v[i]].id,
		    st->entities[p.update_have.v[i]].id);
	}
	assert_true(p.update.n > 0);
	for (i = 1; i < p.kick.n; i++)
		assert_true(p.kick.v[i - 1] < p.kick.v[i]);	/* room order */
	for (i = 1; i < p.join.n; i++)
		assert_true(p.join.v[i - 1] < p.join.v[i]);	/* spec order */
	ro_plan_release(&p);
	ro_spec_free(spec);
	ro_state_free(st);
}

static void
test_idxv_block_names(void **unused)
{
	struct ro_idxv	iv = { NULL, 0, 0 };
	struct ro_plan	p = RO_PLAN_INIT;
	size_t		i;

	(void)unused;
	for (i = 0; i < 100; i++)
		assert_int_equal(ro_idxv_push(&iv, i), 0);
	ro_idxv_remove(&iv, 0);
	ro_idxv_remove(&iv, 50);
	ro_idxv_remove(&iv, iv.n - 1);
	assert_int_equal(iv.n, 97);
	assert_int_equal(iv.v[0], 1);
	assert_int_equal(iv.v[49], 50);
	assert_int_equal(iv.v[50], 52);
	assert_int_equal(iv.v[96], 98);
	free(iv.v);

	for (i = 0; i < 20; i++)
		assert_int_equal(ro_plan_block(&p, RO_OP_DELETE, "x", "y"), 0);
	assert_int_equal(p.n_blocked, 20);
	ro_plan_release(&p);
	assert_int_equal(p.n_blocked, 0);
	assert_null(p.blocked);

	assert_string_equal(ro_op_name(RO_OP_JOIN), "join");
	assert_string_equal(ro_op_name(RO_OP_UPDATE), "update");
	assert_string_equal(ro_op_name(RO_OP_KICK), "kick");
	assert_string_equal(ro_op_name(RO_OP_SEED), "seed");
	assert_string_equal(ro_op_name(RO_OP_PROMOTE), "promote");
	assert_string_equal(ro_op_name(RO_OP_DELETE), "delete");
	assert_string_equal(ro_op_name(RO_OP_POLICIES), "policies");
}

/* A released plan can be built again. */
static void
test_rebuild(void **unused)
{
	struct ro_spec	*spec = spec_new();
	struct ro_state	*st = state_new();
	struct ro_plan	 p = RO_PLAN_INIT;
	int		 k;

	(void)unused;
	spec_entity(spec, "E-a1", "agent");
	spec_artifact_missing(spec, "m");
	for (k = 0; k < 3; k++) {
		build(&p, spec, st);
		assert_int_equal(p.join.n, 1);
		assert_int_equal(p.n_blocked, 1);
		ro_plan_release(&p);
	}
	ro_spec_free(spec);
	ro_state_free(st);
}

/* A pruned room (spec file deleted): everything goes, policies stay. */
static void
test_prune(void **unused)
{
	struct ro_spec	*spec = spec_new();
	struct ro_state	*st = state_new();
	struct ro_plan	 p = RO_PLAN_INIT;

	(void)unused;
	spec->prune = true;
	free(spec->policies.dm_visibility_default);
	spec->policies.dm_visibility_default = xstrdup("public");
	state_entity(st, "E-a1", "agent");
	state_entity(st, "E-b1", "npc");
	state_artifact(st, "doc", "x", true);
	build(&p, spec, st);
	assert_string_equal(ents(&p.kick, st->entities), "E-a1,E-b1");
	assert_string_equal(arts(&p.del, st->artifacts), "doc");
	assert_int_equal(p.policies, 0);
	assert_int_equal(ro_plan_count(&p), 3);
	ro_plan_release(&p);
	ro_spec_free(spec);
	ro_state_free(st);
}

/* strdup() of this executable stands in for libc's: fail the n-th call
 * from now. */
static int	strdup_fail_in = -1;

char *
strdup(const char *s)
{
	size_t	 n = strlen(s) + 1;
	char	*p;

	if (strdup_fail_in == 0) {
		strdup_fail_in = -1;
		return NULL;
	}
	if (strdup_fail_in > 0)
		strdup_fail_in--;
	if ((p = malloc(n)) != NULL)
		memcpy(p, s, n);
	return p;
}

/* Out of memory while blocking a seed: ENOMEM and an empty plan. */
static void
test_enomem(void **unused)
{
	struct ro_spec	*spec = spec_new();
	struct ro_state	*st = state_new();
	struct ro_plan	 p = RO_PLAN_INIT, zero = RO_PLAN_INIT;
	struct ro_err	 err = RO_ERR_INIT;
	int		 n, rc;

	(void)unused;
	spec_entity(spec, "E-a1", "agent");
	spec_artifact(spec, "a", "A");
	spec_artifact_missing(spec, "b");
	spec_artifact_missing(spec, "c");
	for (n = 0; n < 10; n++) {
		strdup_fail_in = n;
		rc = ro_plan_build(&p, spec, st, &err);
		strdup_fail_in = -1;
		if (rc == RO_OK)
			break;
		assert_int_equal(rc, RO_ENOMEM);
		assert_string_equal(err.msg, "out of memory");
		assert_memory_equal(&p, &zero, sizeof(p));
	}
	assert_int_equal(n, 4);
	assert_int_equal(p.n_blocked, 2);
	ro_plan_release(&p);
	ro_spec_free(spec);
	ro_state_free(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join_kick),
		cmocka_unit_test(test_drift_each_field),
		cmocka_unit_test(test_update_have_parallel),
		cmocka_unit_test(test_absent_equals_empty),
		cmocka_unit_test(test_seed_by_fingerprint),
		cmocka_unit_test(test_missing_seed_blocks_one),
		cmocka_unit_test(test_blocked_only_is_converged),
		cmocka_unit_test(test_promote_rules),
		cmocka_unit_test(test_artifacts_kept_and_deleted),
		cmocka_unit_test(test_policies),
		cmocka_unit_test(test_empty_room),
		cmocka_unit_test(test_converged),
		cmocka_unit_test(test_json_and_text),
		cmocka_unit_test(test_text_is_safe),
		cmocka_unit_test(test_long_lists_cut),
		cmocka_unit_test(test_large_room),
		cmocka_unit_test(test_idxv_block_names),
		cmocka_unit_test(test_rebuild),
		cmocka_unit_test(test_prune),
		cmocka_unit_test(test_enomem),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
