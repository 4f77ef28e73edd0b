/*
 * planout.h: `roomops plan` output of one room as Markdown (for a pull
 * request comment) and as the JSON object of --output json, from the
 * room's plan, its guardrail verdict and, in --git-diff mode, what the
 * pull request did to its spec. Pure functions: no I/O; any thread.
 *
 * Markdown, one section per room (docs/ci.md shows an example):
 *
 *   ### `room-alpha-01` · changed · `specs/alpha.yaml`
 *   - join (1): `E-a-new`
 *   - update (1): `E-a-lead`
 *   - needs confirmation: removes 6 of 8 entities and artifacts
 *
 * Lists longer than RO_PLANOUT_LIST_MAX ids end with "and N more", and
 * every error line is cut to RO_PLANOUT_LINE_MAX bytes, so a comment
 * stays short.
 */
#ifndef RO_PLANOUT_H
#define RO_PLANOUT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "roomops/buf.h"
#include "roomops/guard.h"
#include "roomops/plan.h"
#include "roomops/strv.h"

#define RO_PLANOUT_LIST_MAX	10	/* ids shown per list */
#define RO_PLANOUT_LINE_MAX	300	/* bytes of one error line */

enum ro_planout_status {
	RO_PLANOUT_PLANNED,	/* plan and guard are set */
	RO_PLANOUT_INVALID,	/* the spec does not parse or validate */
	RO_PLANOUT_ERROR,	/* the state could not be read, ... */
	RO_PLANOUT_SKIPPED	/* nothing to plan: the note says why */
};

/* One room. Everything borrowed. */
struct ro_planout_room {
	const char		*room_id;	/* NULL: unknown (invalid) */
	const char		*file;
	const char		*change;	/* "added", "changed",
						   "deleted" or NULL */
	enum ro_planout_status	 status;
	const struct ro_plan	*plan;		/* PLANNED */
	const struct ro_guard_result *guard;	/* PLANNED */
	size_t			 removals;	/* kicks + deletes before the
						   guardrails */
	size_t			 present;	/* entities + artifacts now */
	const struct ro_strv	*errors;	/* INVALID, ERROR */
	const char		*note;		/* a line under the title */
	bool			 trailer;	/* confirmed by a Roomops-Confirm
						   trailer */
};

/* Does the room need nothing (converged, nothing blocked)? */
bool	ro_planout_converged(const struct ro_planout_room *r);

/* Append the room's Markdown section. RO_OK, RO_ENOMEM, RO_ETOOBIG. */
int	ro_planout_markdown(const struct ro_planout_room *r, struct ro_buf *out);

/*
 * The room's JSON object: roomId, file, change (when set), status
 * ("planned", "invalid", "error", "skipped"), and when planned converged, changes,
 * removalRatio, needsConfirmation, deferred, diff (ro_plan_to_json); else
 * errors. NULL on ENOMEM.
 */
cJSON	*ro_planout_json(const struct ro_planout_room *r);

#endif
