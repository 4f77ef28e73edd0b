/* test_guard.c: removal ratio, confirmation and per-cycle budgets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/guard.h"
#include "roomops/state.h"
#include "testutil.h"

#define ROOM	"room-guard-01"

/*
 * A room of n_ents entities E-00.. and n_arts artifacts a-00.., and a spec
 * keeping the first keep_ents / keep_arts of them (room order), plus one
 * new entity so that there is always a join to leave alone.
 */
struct fixture {
	struct ro_spec	*spec;
	struct ro_state	*state;
	struct ro_plan	 plan;
};

static char *
xstrdup(const char *s)
{
	char	*p = strdup(s);

	assert_non_null(p);
	return p;
}

static void
entity_init(struct ro_entity *e, const char *id)
{
	memset(e, 0, sizeof(*e));
	e->id = xstrdup(id);
	e->kind = xstrdup("agent");
	e->visibility = xstrdup("team");
	e->policy.allow_commands_from = xstrdup("any");
}

static void
artifact_init(struct ro_artifact *a, const char *name)
{
	memset(a, 0, sizeof(*a));
	a->name = xstrdup(name);
	a->type = xstrdup("document");
	a->workspace = xstrdup("shared");
}

static void
fixture(struct fixture *f, size_t n_ents, size_t keep_ents, size_t n_arts,
    size_t keep_arts)
{
	struct ro_err	err = RO_ERR_INIT;
	char		id[32];
	size_t		i;

	memset(f, 0, sizeof(*f));
	assert_int_equal(ro_state_new_empty(&f->state, ROOM, NULL), 0);
	f->spec = calloc(1, sizeof(*f->spec));
	assert_non_null(f->spec);
	f->spec->room_id = xstrdup(ROOM);
	f->spec->version = 1;
	assert_int_equal(ro_policies_default(&f->spec->policies), 0);
	f->state->entities = calloc(n_ents + 1, sizeof(struct ro_entity));
	f->spec->entities = calloc(keep_ents + 1, sizeof(struct ro_entity));
	f->state->artifacts = calloc(n_arts + 1, sizeof(struct ro_artifact));
	f->spec->artifacts = calloc(keep_arts + 1, sizeof(struct ro_artifact));
	assert_true(f->state->entities && f->spec->entities &&
	    f->state->artifacts && f->spec->artifacts);
	for (i = 0; i < n_ents; i++) {
		snprintf(id, sizeof(id), "E-%02zu", i);
		entity_init(&f->state->entities[f->state->n_entities++], id);
		if (i < keep_ents)
			entity_init(&f->spec->entities[f->spec->n_entities++],
			    id);
	}
	entity_init(&f->spec->entities[f->spec->n_entities++], "E-new");
	for (i = 0; i < n_arts; i++) {
		snprintf(id, sizeof(id), "a-%02zu", i);
		artifact_init(&f->state->artifacts[f->state->n_artifacts++],
		    id);
		if (i < keep_arts)
			artifact_init(
			    &f->spec->artifacts[f->spec->n_artifacts++], id);
	}
	if (ro_plan_build(&f->plan, f->spec, f->state, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(f->plan.join.n, 1);
}

static void
fixture_free(struct fixture *f)
{
	ro_plan_release(&f->plan);
	ro_spec_free(f->spec);
	ro_state_free(f->state);
}

/* Kicked ids, then deleted names, then "| " and blocked "op:id:reason". */
static const char *
summary(const struct ro_plan *p)
{
	static char	buf[4096];
	size_t		i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < p->kick.n; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s ",
		    p->state->entities[p->kick.v[i]].id);
	for (i = 0; i < p->del.n; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s ",
		    p->state->artifacts[p->del.v[i]].name);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "|");
	for (i = 0; i < p->n_blocked; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, " %s:%s:%s",
		    ro_op_name(p->blocked[i].op), p->blocked[i].id,
		    strcmp(p->blocked[i].reason, RO_BLOCK_CONFIRM) == 0 ?
		    "confirm" : strcmp(p->blocked[i].reason,
		    RO_BLOCK_BUDGET) == 0 ? "budget" : p->blocked[i].reason);
	return buf;
}

static void
apply(struct fixture *f, const struct ro_guard_opts *o,
    struct ro_guard_result *r)
{
	struct ro_err	err = RO_ERR_INIT;

	if (ro_guard_apply(&f->plan, o, r, &err) != 0)
		fail_msg("%s", err.msg);
}

static void
test_ratio(void **unused)
{
	struct fixture	f;

	(void)unused;
	fixture(&f, 0, 0, 0, 0);		/* empty room */
	assert_true(ro_guard_ratio(&f.plan) == 0.0);
	fixture_free(&f);
	fixture(&f, 3, 1, 1, 0);		/* 3 removals of 4 */
	assert_true(ro_guard_ratio(&f.plan) == 0.75);
	fixture_free(&f);
	fixture(&f, 4, 4, 4, 4);		/* nothing removed */
	assert_true(ro_guard_ratio(&f.plan) == 0.0);
	fixture_free(&f);
}

/* Exactly at the threshold the removals proceed. */
static void
test_at_threshold_not_held(void **unused)
{
	struct ro_guard_opts	o = RO_GUARD_OPTS_INIT;
	struct ro_guard_result	r;
	struct fixture		f;

	(void)unused;
	fixture(&f, 6, 2, 4, 3);		/* 4 kicks + 1 delete of 10 */
	apply(&f, &o, &r);
	assert_true(r.ratio == 0.5);
	assert_false(r.needs_confirm);
	assert_int_equal(r.deferred, 0);
	assert_string_equal(summary(&f.plan), "E-02 E-03 E-04 E-05 a-03 |");
	assert_int_equal(f.plan.join.n, 1);
	fixture_free(&f);
}

/* Above it, every removal is held until confirmed; joins still go. */
static void
test_above_threshold_held(void **unused)
{
	struct ro_guard_opts	o = RO_GUARD_OPTS_INIT;
	struct ro_guard_result	r;
	struct fixture		f;
	struct ro_buf		b = RO_BUF_INIT;

	(void)unused;
	fixture(&f, 6, 1, 4, 3);		/* 5 kicks + 1 delete of 10 */
	apply(&f, &o, &r);
	assert_true(r.ratio > 0.59 && r.ratio < 0.61);
	assert_true(r.needs_confirm);
	assert_int_equal(r.deferred, 0);
	assert_string_equal(summary(&f.plan), "| kick:E-01:confirm "
	    "kick:E-02:confirm kick:E-03:confirm kick:E-04:confirm "
	    "kick:E-05:confirm delete:a-03:confirm");
	assert_int_equal(f.plan.join.n, 1);
	assert_int_equal(ro_plan_count(&f.plan), 1);
	assert_int_equal(ro_plan_format_text(&f.plan, &b), 0);
	assert_true(tu_contains(ro_buf_cstr(&b),
	    "! blocked kick E-01: awaiting confirmation\n"));
	assert_true(tu_contains(ro_buf_cstr(&b),
	    "! blocked delete a-03: awaiting confirmation\n"));
	ro_buf_release(&b);
	fixture_free(&f);

	/* the same with a threshold of 1.0 and a room emptied: 1.0 is not
	 * above 1.0 */
	o.threshold = 1.0;
	fixture(&f, 2, 0, 1, 0);
	apply(&f, &o, &r);
	assert_false(r.needs_confirm);
	assert_string_equal(summary(&f.plan), "E-00 E-01 a-00 |");
	fixture_free(&f);
}

/* Confirmed: the ratio rule is satisfied, the budgets still apply. */
static void
test_confirmed(void **unused)
{
	struct ro_guard_opts	o = RO_GUARD_OPTS_INIT;
	struct ro_guard_result	r;
	struct fixture		f;

	(void)unused;
	o.confirmed = true;
	fixture(&f, 8, 1, 0, 0);		/* 7 kicks of 8 */
	apply(&f, &o, &r);
	assert_false(r.needs_confirm);
	assert_int_equal(r.deferred, 2);
	assert_string_equal(summary(&f.plan), "E-01 E-02 E-03 E-04 E-05 | "
	    "kick:E-06:budget kick:E-07:budget");
	fixture_free(&f);
}

static void
test_require_confirm_off(void **unused)
{
	struct ro_guard_opts	o = RO_GUARD_OPTS_INIT;
	struct ro_guard_result	r;
	struct fixture		f;

	(void)unused;
	o.require_confirm = false;
	fixture(&f, 3, 0, 2, 0);		/* everything goes */
	apply(&f, &o, &r);
	assert_true(r.ratio == 1.0);
	assert_false(r.needs_confirm);
	assert_int_equal(r.deferred, 0);
	assert_string_equal(summary(&f.plan), "E-00 E-01 E-02 a-00 a-01 |");
	fixture_free(&f);
}

/* 7 kicks with a budget of 5: the first 5 in room order, 2 deferred. */
static void
test_kick_budget(void **unused)
{
	struct ro_guard_opts	o = RO_GUARD_OPTS_INIT;
	struct ro_guard_result	r;
	struct fixture		f;

	(void)unused;
	fixture(&f, 20, 13, 0, 0);		/* 7 kicks of 20: 0.35 */
	apply(&f, &o, &r);
	assert_false(r.needs_confirm);
	assert_int_equal(r.deferred, 2);
	assert_string_equal(summary(&f.plan), "E-13 E-14 E-15 E-16 E-17 | "
	    "kick:E-18:budget kick:E-19:budget");
	assert_false(ro_plan_converged(&f.plan));
	fixture_free(&f);
}

/* 12 deletes with a budget of 10, together with kicks over budget. */
static void
test_delete_budget(void **unused)
{
	struct ro_guard_opts	o = RO_GUARD_OPTS_INIT;
	struct ro_guard_result	r;
	struct fixture		f;

	(void)unused;
	fixture(&f, 20, 14, 30, 18);	/* 6 kicks + 12 deletes of 50 */
	apply(&f, &o, &r);
	assert_false(r.needs_confirm);
	assert_int_equal(r.deferred, 3);
	assert_string_equal(summary(&f.plan),
	    "E-14 E-15 E-16 E-17 E-18 a-18 a-19 a-20 a-21 a-22 a-23 a-24 a-25 "
	    "a-26 a-27 | kick:E-19:budget delete:a-28:budget "
	    "delete:a-29:budget");
	fixture_free(&f);

	/* within budget: nothing deferred */
	fixture(&f, 20, 15, 30, 20);
	apply(&f, &o, &r);
	assert_int_equal(r.deferred, 0);
	assert_int_equal(f.plan.kick.n, 5);
	assert_int_equal(f.plan.del.n, 10);
	assert_int_equal(f.plan.n_blocked, 0);
	fixture_free(&f);
}

static void
test_zero_budget_and_defaults(void **unused)
{
	struct ro_guard_opts	o = RO_GUARD_OPTS_INIT;
	struct ro_guard_result	r;
	struct fixture		f;

	(void)unused;
	o.max_kicks = 0;
	o.max_deletes = 0;
	fixture(&f, 4, 3, 4, 3);
	apply(&f, &o, &r);
	assert_int_equal(r.deferred, 2);
	assert_string_equal(summary(&f.plan),
	    "| kick:E-03:budget delete:a-03:budget");
	assert_int_equal(ro_plan_count(&f.plan), 1);	/* the join */
	fixture_free(&f);

	/* NULL opts are the defaults; NULL result is allowed */
	fixture(&f, 20, 13, 0, 0);
	assert_int_equal(ro_guard_apply(&f.plan, NULL, NULL, NULL), 0);
	assert_int_equal(f.plan.kick.n, RO_GUARD_MAX_KICKS_DEFAULT);
	assert_int_equal(f.plan.n_blocked, 2);
	fixture_free(&f);
}

/* Blocked items appear in the diff JSON with op and reason. */
static void
test_blocked_in_json(void **unused)
{
	struct ro_guard_opts	o = RO_GUARD_OPTS_INIT;
	struct fixture		f;
	cJSON			*j;
	char			*s;

	(void)unused;
	fixture(&f, 2, 0, 0, 0);
	apply(&f, &o, NULL);
	j = ro_plan_to_json(&f.plan);
	assert_non_null(j);
	s = cJSON_PrintUnformatted(j);
	assert_string_equal(s, "{\"toJoin\":[\"E-new\"],\"toKick\":[],"
	    "\"toUpdate\":[],\"toSeed\":[],\"toPromote\":[],"
	    "\"toDeleteArtifacts\":[],\"toApply\":[],\"blocked\":["
	    "{\"op\":\"kick\",\"id\":\"E-00\",\"reason\":"
	    "\"awaiting confirmation\"},{\"op\":\"kick\",\"id\":\"E-01\","
	    "\"reason\":\"awaiting confirmation\"}]}");
	free(s);
	cJSON_Delete(j);
	fixture_free(&f);
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

/* Out of memory part-way: nothing moves (all or none), no leak. */
static void
test_enomem_all_or_none(void **unused)
{
	struct ro_guard_opts	o = RO_GUARD_OPTS_INIT;
	struct ro_guard_result	r;
	struct ro_err		err = RO_ERR_INIT;
	struct fixture		f;
	int			n, rc, confirm;

	(void)unused;
	for (confirm = 0; confirm <= 1; confirm++) {
		for (n = 0; n < 100; n++) {
			if (confirm)
				fixture(&f, 6, 1, 4, 0);	/* held */
			else
				fixture(&f, 20, 12, 30, 17);	/* budgets */
			r.ratio = -1.0;
			strdup_fail_in = n;
			rc = ro_guard_apply(&f.plan, &o, &r, &err);
			strdup_fail_in = -1;
			if (rc == RO_OK) {
				assert_int_equal(f.plan.n_blocked,
				    confirm ? 9 : 6);
				fixture_free(&f);
				break;
			}
			assert_int_equal(rc, RO_ENOMEM);
			assert_int_equal(f.plan.kick.n, confirm ? 5 : 8);
			assert_int_equal(f.plan.del.n, confirm ? 4 : 13);
			assert_int_equal(f.plan.n_blocked, 0);
			assert_true(r.ratio == -1.0);	/* untouched */
			fixture_free(&f);
		}
		/* two strdup() calls per blocked item */
		assert_int_equal(n, confirm ? 18 : 12);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ratio),
		cmocka_unit_test(test_at_threshold_not_held),
		cmocka_unit_test(test_above_threshold_held),
		cmocka_unit_test(test_confirmed),
		cmocka_unit_test(test_require_confirm_off),
		cmocka_unit_test(test_kick_budget),
		cmocka_unit_test(test_delete_budget),
		cmocka_unit_test(test_zero_budget_and_defaults),
		cmocka_unit_test(test_blocked_in_json),
		cmocka_unit_test(test_enomem_all_or_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
