/*
 * guard.h: guardrails of roomspec.md evaluated on a plan. Pure.
 *
 * Removal ratio = (kicks + artifact deletes) / (entities + artifacts in
 * the room now), 0 for an empty room. Above the threshold (strictly) and
 * unconfirmed, every removal moves to blocked ("awaiting confirmation").
 * Otherwise kicks beyond max_kicks and deletes beyond max_deletes move to
 * blocked ("budget deferred"), to be taken by the next cycle.
 */
#ifndef RO_GUARD_H
#define RO_GUARD_H

#include <stdbool.h>
#include <stddef.h>

#include "roomops/plan.h"

#define RO_GUARD_THRESHOLD_DEFAULT	0.5
#define RO_GUARD_MAX_KICKS_DEFAULT	5
#define RO_GUARD_MAX_DELETES_DEFAULT	10

#define RO_BLOCK_CONFIRM	"awaiting confirmation"
#define RO_BLOCK_BUDGET		"budget deferred"

struct ro_guard_opts {
	double	threshold;	/* removal ratio; > threshold needs confirm */
	size_t	max_kicks;	/* per cycle */
	size_t	max_deletes;	/* per cycle */
	bool	require_confirm;	/* false: the ratio rule is off */
	bool	confirmed;	/* X-Confirm, --confirm, trailer, note */
};

#define RO_GUARD_OPTS_INIT { RO_GUARD_THRESHOLD_DEFAULT, \
	RO_GUARD_MAX_KICKS_DEFAULT, RO_GUARD_MAX_DELETES_DEFAULT, true, false }

struct ro_guard_result {
	double	ratio;
	bool	needs_confirm;	/* ratio above threshold, not confirmed */
	size_t	deferred;	/* removals moved to blocked by budgets */
};

double	ro_guard_ratio(const struct ro_plan *plan);
/* Move held removals of plan into plan->blocked. RO_OK, RO_ENOMEM. */
int	ro_guard_apply(struct ro_plan *plan, const struct ro_guard_opts *opts,
	    struct ro_guard_result *res, struct ro_err *err);

#endif
