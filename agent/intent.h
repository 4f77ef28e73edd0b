/*
 * intent.h: the write-ahead intent of a reconcile cycle, so that a crash
 * (kill -9, power loss) between a change and its audit record does not
 * lose that change from the ledger.
 *
 * Protocol (reconcile.c):
 * 1. Before the first mutating request of a cycle, the plan (each item
 *    with the value it sets) and the id of the record the cycle will
 *    write are saved as DIR/<roomId>.json (ro_file_replace: temp file,
 *    fsync, rename, fsync of the folder).
 * 2. Once that record is on disk (the JSONL log's fdatasync), the file is
 *    removed (no fsync needed: see 3) - unless some request's outcome is
 *    unknown (a transport failure after it was sent: the RoomServer may
 *    have made the change) and the cycle could not read the room back to
 *    settle it: then, before the record is written, the intent is saved
 *    again with those items as "in doubt", and stays.
 * 3. At the start of the room's next reconcile a file left there means a
 *    cycle stopped between 1 and 2. If the JSONL log holds a record with
 *    its id, the record made it: only the items in doubt that the room
 *    shows done are counted into the next record (none: the file is only
 *    removed). Otherwise
 *    each item whose effect the room shows now (read before anything is
 *    applied) was made by the stopped cycle: those items, plus what the
 *    file carried from an earlier stop, are added to the diff of the next
 *    record (with a warning naming the lost record), and carried in that
 *    cycle's own intent until its record is written.
 * "The room shows it": join - the entity is there; update - it has the
 * intended attributes; kick - it is gone; seed - the artifact has the
 * intended fingerprint; promote - it is promoted; delete - it is gone;
 * policies - they have the intended values. This assumes nobody else
 * changed those items meanwhile (the agent owns its rooms).
 *
 * Thread rules: no shared state; the caller serialises work on a room.
 */
#ifndef RO_INTENT_H
#define RO_INTENT_H

#include "roomops/audit.h"
#include "roomops/model.h"
#include "roomops/plan.h"

#define RO_INTENT_FILE_MAX	(64u << 20)	/* bytes of one intent */

struct ro_intent;

/* An item of a plan: op and entity id / artifact name ("policies"). */
struct ro_intent_item {
	enum ro_op	 op;
	char		*id;
};

/*
 * Save the intent of a cycle of spec's room about to apply plan (made
 * against the room's state): record is the id its audit record will
 * have, carry the counts of an earlier stopped cycle not yet recorded,
 * doubt[0..ndoubt) the items whose outcome is unknown (0 before APPLY).
 * RO_EIO, RO_ENOMEM.
 */
int	ro_intent_save(const char *dir, const struct ro_spec *spec,
	    const struct ro_plan *plan, const char *record,
	    const struct ro_audit_diff *carry,
	    const struct ro_intent_item *doubt, size_t ndoubt,
	    struct ro_err *err);
/* Does now show the effect of item (op, id) of spec? */
bool	ro_intent_effect(enum ro_op op, const char *id,
	    const struct ro_spec *spec, const struct ro_state *now);
/* Load room's intent. RO_ENOTFOUND when there is none; RO_EINVALID
 * (unreadable), RO_EIO, RO_ENOMEM. */
int	ro_intent_load(const char *dir, const char *room,
	    struct ro_intent **out, struct ro_err *err);
void	ro_intent_free(struct ro_intent *in);
/* The id of the record the stopped cycle was to write. */
const char *ro_intent_record(const struct ro_intent *in);
/* Does the JSONL log at path hold a record with that id? RO_EIO. */
int	ro_intent_recorded(const char *path, const char *record, bool *yes,
	    struct ro_err *err);
/* Items in doubt (after a written record). */
size_t	ro_intent_ndoubt(const struct ro_intent *in);
/* Add to d what the stopped cycle did (by now) and what it carried, or,
 * when its record was written, the items in doubt the room shows done;
 * the number of changes added. */
size_t	ro_intent_done(const struct ro_intent *in, const struct ro_state *now,
	    bool recorded, struct ro_audit_diff *d);
/* Remove room's intent (none: RO_OK). RO_EIO. */
int	ro_intent_remove(const char *dir, const char *room, struct ro_err *err);

#endif
