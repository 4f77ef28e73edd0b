/*
 * gitsrc.h: the Git source of the daemon: a thread that owns the clone
 * (libgit2 is only ever called from it), notices new commits (cheap remote
 * head check on each trigger), and turns every new first-parent commit
 * into room jobs, then writes the commit's audit records into its note.
 *
 * Rules (agent.md "Git conventions"):
 * - commits since the cursor are processed oldest first; only rooms whose
 *   spec or seed files changed in a commit are planned (tree diff);
 * - more than max_pending pending commits: the intermediate ones get
 *   "superseded" records and the newest is applied with the combined diff;
 * - a rewritten history is audited ("history-rewritten") and the new head
 *   is fully reconciled;
 * - a spec that fails to parse or validate is "rejected" (nothing removed);
 * - a deleted spec removes the room only with prune (flag or the
 *   roomops/prune annotation of its last valid revision), through the
 *   guardrails;
 * - Roomops-Confirm trailers confirm removals for that commit;
 * - with a verifier, every commit is checked before it is applied: one
 *   that is not verified gets "rejected" records for the rooms it touches
 *   and is not applied; the next verified commit applies the whole
 *   difference from the last applied one (docs/security.md);
 * - the cursor (last fully processed commit) is kept in STATE_DIR/cursor;
 *   a room that already has a record of this shard in the commit's note
 *   (or in the JSONL log) is not applied again after a crash.
 *
 * Thread rules: start/trigger/info/stop may be called from any thread.
 */
#ifndef RO_GITSRC_H
#define RO_GITSRC_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "roomops/audit.h"
#include "roomops/shard.h"
#include "gitrepo.h"
#include "metrics.h"
#include "notify.h"
#include "reconcile.h"
#include "rooms.h"
#include "sigverify.h"
#include "workq.h"

#define RO_GITSRC_MAX_PENDING	20	/* K */

enum ro_gitsrc_trigger {
	RO_GITSRC_CHECK = 0x1,		/* poll tick, ref moved */
	RO_GITSRC_RESYNC = 0x2,		/* full drift check at the head */
	RO_GITSRC_FETCH = 0x4		/* a webhook said the branch moved:
					   fetch without the head check */
};

struct ro_gitsrc_opts {
	struct ro_gitrepo_opts	 repo;		/* url, branch, dir, creds */
	const char		*path;		/* spec folder in the repo */
	const char		*state_dir;	/* cursor file */
	unsigned		 max_pending;	/* 0: RO_GITSRC_MAX_PENDING */
	bool			 push_notes;
	bool			 prune;
	struct ro_shard		 shard;
	struct ro_workq		*q;
	struct ro_rooms		*rooms;
	struct ro_metrics	*metrics;
	struct ro_reconcile_opts audit;		/* audit log, shard string */
	struct ro_notify	*notify;	/* commit statuses; NULL off */
	struct ro_sigverify	*verify;	/* signed commits only (NULL:
						   any commit); Git thread */
	/* Called on the Git thread when a pass found nothing more to do
	 * (the first one marks readiness; --once exits on it). */
	void			(*idle)(void *arg, bool failed);
	void			*idle_arg;
};

struct ro_gitsrc;
struct ro_spec;

#define RO_GITSRC_READS_MAX	16	/* dashboard reads queued at once */

/*
 * The answer to ro_gitsrc_read_spec(): error (RO_OK or a status; err says
 * why), rev the commit read (hex, "" when none), text the file (NULL on
 * error), spec the parsed spec with its seeds (taken by the callee; NULL
 * unless asked for and valid). Called on the Git thread, or from
 * ro_gitsrc_free() (RO_EAGAIN: shutting down); must not block.
 */
typedef void ro_gitsrc_read_cb(void *arg, int error, const struct ro_err *err,
	    const char *rev, const struct ro_buf *text, struct ro_spec *spec);

int	ro_gitsrc_start(struct ro_gitsrc **out, const struct ro_gitsrc_opts *o,
	    struct ro_err *err);
void	ro_gitsrc_trigger(struct ro_gitsrc *g, unsigned what);
/* Fill the "source" object of GET /status. */
void	ro_gitsrc_info(struct ro_gitsrc *g, cJSON *source);
/* Has a pass (open, fetch, catch up) ended without error yet? Once true,
 * stays true: readiness ("the first sync is done"). */
bool	ro_gitsrc_synced(struct ro_gitsrc *g);
/* Ask the thread to stop after the commit in flight; returns at once. */
/*
 * The dashboard (docs/dashboard.md): read the spec file path (from the
 * repository root) at the last processed commit, on the Git thread
 * between passes (libgit2 stays on it); with parse, also parse, validate
 * and read its seeds from that commit. On RO_OK cb is called exactly
 * once, later; RO_EAGAIN when RO_GITSRC_READS_MAX reads wait already.
 */
int	ro_gitsrc_read_spec(struct ro_gitsrc *g, const char *path, bool parse,
	    ro_gitsrc_read_cb *cb, void *arg, struct ro_err *err);
void	ro_gitsrc_request_stop(struct ro_gitsrc *g);
/* Join the thread and free. NULL is a no-op. */
void	ro_gitsrc_free(struct ro_gitsrc *g);

#endif
