/*
 * rooms.h: the daemon's table of room status (GET /status, /status/rooms,
 * metrics of rooms by state). Small per room: no spec is kept here.
 * Thread-safe: one mutex; every function may be called from any thread.
 */
#ifndef RO_ROOMS_H
#define RO_ROOMS_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "roomops/strv.h"
#include "reconcile.h"

#define RO_ROOMS_MAX	1000000	/* rooms tracked at most */

struct ro_rooms;

/* Counts for roomops_rooms{state=...}. */
struct ro_rooms_counts {
	size_t	converged, pending, failed, blocked, suspended, total;
};

int	ro_rooms_new(struct ro_rooms **out, struct ro_err *err);
void	ro_rooms_free(struct ro_rooms *r);
/* Track room_id (no-op when known). RO_ETOOBIG past RO_ROOMS_MAX. */
int	ro_rooms_add(struct ro_rooms *r, const char *room_id, const char *file);
bool	ro_rooms_known(struct ro_rooms *r, const char *room_id);
/* Forget a room (spec deleted and pruned, or moved to another shard). */
void	ro_rooms_remove(struct ro_rooms *r, const char *room_id);
/* A reconcile of room_id starts (isReconciling, phase PLANNING). */
void	ro_rooms_begin(struct ro_rooms *r, const char *room_id);
/* A reconcile ended: record its result (rev may be NULL). */
void	ro_rooms_end(struct ro_rooms *r, const char *room_id, const char *rev,
	    const struct ro_reconcile_result *res, int error);
/* A revision of the room was rejected (spec invalid); errors copied. */
void	ro_rooms_rejected(struct ro_rooms *r, const char *room_id,
	    const char *rev, const struct ro_strv *errors);
/* Pending changes seen but not applied (worktree edits, dry runs) of a
 * room already tracked; an unknown room is not added. */
void	ro_rooms_pending(struct ro_rooms *r, const char *room_id,
	    const cJSON *diff);
int	ro_rooms_suspend(struct ro_rooms *r, const char *room_id, bool on);
bool	ro_rooms_suspended(struct ro_rooms *r, const char *room_id);
/* A confirmation of removals for (room, rev); rev "*" confirms any. */
int	ro_rooms_confirm(struct ro_rooms *r, const char *room_id,
	    const char *rev);
bool	ro_rooms_confirmed(struct ro_rooms *r, const char *room_id,
	    const char *rev);
/* The /status/rooms/{id} document, or NULL when unknown. */
cJSON	*ro_rooms_json(struct ro_rooms *r, const char *room_id);
/* Array of every room's document (room order: as added). */
cJSON	*ro_rooms_json_all(struct ro_rooms *r);
void	ro_rooms_counts(struct ro_rooms *r, struct ro_rooms_counts *c);
/* Copy every room id into out (as added). */
int	ro_rooms_ids(struct ro_rooms *r, struct ro_strv *out);

/*
 * The dashboard's view (docs/dashboard.md): one status per room, in the
 * order of RO_ROOMS_STATUSES, and a page of rooms filtered by status and
 * a search string.
 */
#define RO_ROOMS_STATUSES { "converged", "pending", "applying", "partial", \
	"held", "rejected", "failed" }
#define RO_ROOMS_NSTATUS	7
#define RO_ROOMS_PAGE_MAX	1000	/* rooms per page */

struct ro_rooms_query {
	size_t		 offset;	/* among the matches */
	size_t		 limit;		/* 0: counts only */
	const char	*status;	/* one of RO_ROOMS_STATUSES,
					   "suspended", or NULL: any */
	const char	*q;		/* substring of roomId or file
					   (ASCII case-insensitive), or NULL */
};

/*
 * {"total", "matched", "offset", "limit", "counts": {status: n, ...,
 * "suspended": n}, "rooms": [row, ...]}: counts over every room, rows
 * in table order. A row is {"roomId", "status", "suspended",
 * "lastRevision", "lastOutcome", "lastReconcile", "drift", "errors",
 * "file"} (drift: items of the pending diff; errors: how many). NULL on
 * ENOMEM.
 */
cJSON	*ro_rooms_page(struct ro_rooms *r, const struct ro_rooms_query *q);
/* The row of room_id as in ro_rooms_page(), or NULL when unknown. */
cJSON	*ro_rooms_row(struct ro_rooms *r, const char *room_id);

/*
 * Called after every change of a room's status (begin, end, rejected,
 * pending, suspend, resume, confirm, remove), outside the table's lock,
 * on the thread that made the change. Set once, before the table is
 * shared. Must not block (the dashboard's /events "room" events).
 */
typedef void ro_rooms_notify_fn(void *arg, const char *room_id);
void	ro_rooms_set_notify(struct ro_rooms *r, ro_rooms_notify_fn *fn,
	    void *arg);

#endif
