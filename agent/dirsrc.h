/*
 * dirsrc.h: the local folder source of the daemon (--watch DIR): a
 * thread that turns changed paths (from the inotify watcher on the loop)
 * into room jobs.
 *
 * - A spec file saved: loaded, validated, seeds read from the folder; a
 *   room is queued only when its content (entities, artifacts with their
 *   fingerprints, policies) differs from the last good version seen.
 * - A seed file saved: every spec using it is reloaded.
 * - A half-written or invalid file is reported (status, log, a "rejected"
 *   record) and its room keeps its last good state.
 * - A deleted spec removes its room only with prune (flag or annotation).
 * - In a Git work tree, uncommitted edits are planned as dry runs and
 *   shown as pending, unless apply_worktree; commits are the Git source's.
 * - A rescan (start, overflow, resync) reloads everything.
 *
 * Thread rules: every function may be called from any thread.
 */
#ifndef RO_DIRSRC_H
#define RO_DIRSRC_H

#include <stdbool.h>

#include "roomops/shard.h"
#include "roomops/strv.h"
#include "reconcile.h"
#include "rooms.h"
#include "workq.h"

struct ro_dirsrc_opts {
	const char		*root;
	bool			 dry_run;	/* git work tree, no apply */
	bool			 prune;
	struct ro_shard		 shard;
	struct ro_workq		*q;
	struct ro_rooms		*rooms;
	struct ro_reconcile_opts audit;		/* for "rejected" records */
	/* Called when a rescan's jobs are all done (readiness, --once). */
	void			(*idle)(void *arg, bool failed);
	void			*idle_arg;
};

struct ro_dirsrc;

/* Starts the thread, which begins with a full scan. */
int	ro_dirsrc_start(struct ro_dirsrc **out, const struct ro_dirsrc_opts *o,
	    struct ro_err *err);
/* Hand over changed paths (relative to root; moved out of paths). */
void	ro_dirsrc_changed(struct ro_dirsrc *d, struct ro_strv *paths,
	    bool rescan, long long detected_ms);
/* Reconcile every room again, changed or not (resync, POST /reconcile). */
void	ro_dirsrc_resync(struct ro_dirsrc *d);
void	ro_dirsrc_request_stop(struct ro_dirsrc *d);
void	ro_dirsrc_free(struct ro_dirsrc *d);

#endif
