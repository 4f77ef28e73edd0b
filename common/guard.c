/*
 * guard.c: the guardrails of roomspec.md on a plan: removal ratio with
 * confirmation, then kick and artifact-delete budgets per cycle.
 *
 * Held removals leave plan->kick / plan->del and go to plan->blocked.
 * Either every held item moves or, on ENOMEM, none does.
 */
#include <stdlib.h>

#include "roomops/guard.h"

#include "banned.h"

double
ro_guard_ratio(const struct ro_plan *plan)
{
	size_t	total;

	RO_ASSERT(plan->state != NULL);
	total = plan->state->n_entities + plan->state->n_artifacts;
	if (total == 0)
		return 0.0;
	return (double)(plan->kick.n + plan->del.n) / (double)total;
}

/* Undo ro_plan_block() calls back to n items. */
static void
unblock_to(struct ro_plan *plan, size_t n)
{
	while (plan->n_blocked > n) {
		plan->n_blocked--;
		free(plan->blocked[plan->n_blocked].id);
		free(plan->blocked[plan->n_blocked].reason);
	}
}

/*
 * Block kicks from position keep on (room order) and deletes from
 * keep_del on, with reason; then drop them from the lists.
 */
static int
hold(struct ro_plan *plan, size_t keep_kick, size_t keep_del,
    const char *reason)
{
	const struct ro_state	*st = plan->state;
	size_t			 i, n0 = plan->n_blocked;

	for (i = keep_kick; i < plan->kick.n; i++)
		if (ro_plan_block(plan, RO_OP_KICK,
		    st->entities[plan->kick.v[i]].id, reason) < 0)
			goto fail;
	for (i = keep_del; i < plan->del.n; i++)
		if (ro_plan_block(plan, RO_OP_DELETE,
		    st->artifacts[plan->del.v[i]].name, reason) < 0)
			goto fail;
	if (plan->kick.n > keep_kick)
		plan->kick.n = keep_kick;
	if (plan->del.n > keep_del)
		plan->del.n = keep_del;
	return RO_OK;
fail:
	unblock_to(plan, n0);
	return RO_ENOMEM;
}

int
ro_guard_apply(struct ro_plan *plan, const struct ro_guard_opts *opts,
    struct ro_guard_result *res, struct ro_err *err)
{
	static const struct ro_guard_opts defaults = RO_GUARD_OPTS_INIT;
	struct ro_guard_result	 r = { 0.0, false, 0 };
	size_t			 over_k = 0, over_d = 0;
	int			 error;

	if (opts == NULL)
		opts = &defaults;
	r.ratio = ro_guard_ratio(plan);
	r.needs_confirm = opts->require_confirm && !opts->confirmed &&
	    r.ratio > opts->threshold;
	if (r.needs_confirm)
		error = hold(plan, 0, 0, RO_BLOCK_CONFIRM);
	else {
		if (plan->kick.n > opts->max_kicks)
			over_k = plan->kick.n - opts->max_kicks;
		if (plan->del.n > opts->max_deletes)
			over_d = plan->del.n - opts->max_deletes;
		error = hold(plan, opts->max_kicks, opts->max_deletes,
		    RO_BLOCK_BUDGET);
		r.deferred = over_k + over_d;
	}
	if (error < 0)
		return ro_err_set(err, error, "out of memory");
	if (res != NULL)
		*res = r;
	return RO_OK;
}
