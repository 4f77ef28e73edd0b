/*
 * plan.h: the diff of a desired spec against an observed RoomState
 * (roomspec.md "Plan"). Pure: no I/O, no clock.
 *
 * A plan refers into its spec and state by index and by pointer; both
 * must outlive it. Not thread-safe; one owner.
 */
#ifndef RO_PLAN_H
#define RO_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "roomops/buf.h"
#include "roomops/model.h"

enum ro_op {
	RO_OP_JOIN,		/* spec entity not in the room */
	RO_OP_UPDATE,		/* entity drifted */
	RO_OP_KICK,		/* room entity not in the spec */
	RO_OP_SEED,		/* artifact content/fingerprint differs */
	RO_OP_PROMOTE,
	RO_OP_DELETE,		/* room artifact not in the spec */
	RO_OP_POLICIES
};

struct ro_blocked {
	enum ro_op	 op;
	char		*id;		/* entity id / artifact name / field */
	char		*reason;	/* "awaiting confirmation", ... */
};

struct ro_idxv {
	size_t	*v;
	size_t	 n;
	size_t	 cap;
};

struct ro_plan {
	const struct ro_spec	*spec;
	const struct ro_state	*state;
	struct ro_idxv	join;		/* spec->entities, spec order */
	struct ro_idxv	update;		/* spec->entities */
	struct ro_idxv	update_have;	/* state->entities, parallel to update */
	struct ro_idxv	kick;		/* state->entities, room order */
	struct ro_idxv	seed;		/* spec->artifacts */
	struct ro_idxv	promote;	/* spec->artifacts */
	struct ro_idxv	del;		/* state->artifacts, room order */
	unsigned	policies;	/* RO_POL_* bits that differ */
	struct ro_blocked *blocked;
	size_t		n_blocked;
	size_t		cap_blocked;
};

#define RO_PLAN_INIT	{ 0 }

/*
 * Diff spec against state into plan (which must be RO_PLAN_INIT or
 * cleared). Artifacts whose seed is RO_SEED_MISSING are blocked with the
 * seed reason; RO_SEED_UNRESOLVED seeds are a programmer error.
 * @return RO_OK, RO_ENOMEM
 */
int	ro_plan_build(struct ro_plan *plan, const struct ro_spec *spec,
	    const struct ro_state *state, struct ro_err *err);
/* Nothing to do apart from blocked items. */
bool	ro_plan_converged(const struct ro_plan *plan);
/* Number of mutating requests the plan would send. */
size_t	ro_plan_count(const struct ro_plan *plan);
/* Append a blocked item (id and reason copied). RO_ENOMEM. */
int	ro_plan_block(struct ro_plan *plan, enum ro_op op, const char *id,
	    const char *reason);
/* Remove element i of an index vector, keeping order. */
void	ro_idxv_remove(struct ro_idxv *iv, size_t i);
int	ro_idxv_push(struct ro_idxv *iv, size_t x);
/* Name of an op: "join", "kick", ... */
const char *ro_op_name(enum ro_op op);

/*
 * The diff object of the agent API: {"toJoin": [ids], "toKick": [ids],
 * "toUpdate": [ids], "toSeed": [names], "toPromote": [names],
 * "toDeleteArtifacts": [names], "toApply": [policy field names],
 * "blocked": [{"op","id","reason"}]}. Every list present. NULL on ENOMEM.
 */
cJSON	*ro_plan_to_json(const struct ro_plan *plan);
/* Human-readable plan, one line per change, for `roomops plan`. */
int	ro_plan_format_text(const struct ro_plan *plan, struct ro_buf *out);
void	ro_plan_release(struct ro_plan *plan);

#endif
