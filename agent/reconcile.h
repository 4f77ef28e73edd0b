/*
 * reconcile.h: one room made to match its spec (roomspec.md "Reconcile
 * phases"): PLANNING → PRE_CHECKS → APPLY → VERIFY → ROLLBACK.
 *
 * A reconcile runs cycles: each cycle plans against fresh state, applies
 * what the guardrails allow, verifies, and writes one audit record. When
 * removals were deferred by a budget, the next cycle follows at once, up
 * to max_cycles. A failed item never aborts the other items.
 *
 * Thread rules: ro_reconcile_room() blocks (HTTP); call it on a worker
 * thread with that thread's own client. Different rooms may run in
 * parallel; the caller serialises work on one room.
 */
#ifndef RO_RECONCILE_H
#define RO_RECONCILE_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "roomops/audit.h"
#include "roomops/client.h"
#include "roomops/guard.h"
#include "roomops/model.h"

#define RO_RECONCILE_MAX_CYCLES	1000	/* budget-deferral cycles per call */

enum ro_phase {
	RO_PHASE_PLANNING,
	RO_PHASE_PRE_CHECKS,
	RO_PHASE_APPLY,
	RO_PHASE_VERIFY,
	RO_PHASE_ROLLBACK
};

/*
 * Called with every audit line after it was appended to the JSONL log
 * (e.g. to append it to a Git note). A failure is logged and counted;
 * the JSONL log stays the ledger.
 */
typedef int ro_audit_sink(void *arg, const char *room, const char *line,
	    size_t len, struct ro_err *err);

struct ro_reconcile_opts {
	struct ro_guard_opts	 guard;
	bool			 dry_run;	/* plan and pre-check only */
	bool			 rollback;	/* --rollback (or annotation) */
	int			 max_cycles;	/* 0: RO_RECONCILE_MAX_CYCLES */
	const char		*source;	/* git|watch|api */
	const char		*rev;		/* commit, worktree:<h>, api */
	const char		*shard;		/* "I/N" */
	const char		*cid;		/* correlation id or NULL */
	struct ro_auditlog	*audit;		/* NULL: no audit (dry run) */
	const char		*intent_dir;	/* write-ahead intents (intent.h);
						   NULL: none */
	ro_audit_sink		*sink;		/* may be NULL */
	void			*sink_arg;
	ro_audit_sink		*publish;	/* every record too (/events) */
	void			*publish_arg;
	const struct ro_strv	*warnings;	/* extra, e.g. from the loader */
	const char		*signer;	/* verified signer of rev, or
						   NULL (sigverify.h) */
};

struct ro_reconcile_result {
	enum ro_phase	 phase;		/* last phase reached */
	const char	*outcome;	/* of the last cycle (static string) */
	bool		 converged;	/* nothing left but blocked items */
	bool		 partial;	/* some item failed */
	bool		 failed;	/* the room could not be reconciled */
	bool		 audit_failed;	/* a record could not be written */
	bool		 unreachable;	/* a read or an item gave up on a
					   transient failure (RO_EAGAIN):
					   worth another try once the
					   RoomServer answers again */
	int		 cycles;
	struct ro_audit_diff applied;	/* summed over cycles */
	struct ro_strv	 errors;
	struct ro_strv	 warnings;
	struct ro_strv	 blocked;	/* of the last cycle */
	cJSON		*diff;		/* plan of the first cycle (API shape) */
	char		 cid[RO_UUID_LEN + 1];
	long		 duration_ms;
};

/*
 * Reconcile spec (seed content resolved and kept) against the server.
 *
 * The audit log comes first: a cycle waits before APPLY while the log is
 * blocked (ro_auditlog_blocked: a record is held for a full disk), and
 * with intent_dir it saves its intent before the first change and
 * removes it once its record is on disk; an intent left by a stopped
 * cycle is counted into the room's next record (intent.h).
 *
 * @return RO_OK when a result was produced (look at it), RO_ENOMEM, or
 *         RO_EIO when the audit log could not be written (nothing more is
 *         applied: a change without a record is never made).
 */
int	ro_reconcile_room(struct ro_client *c, const struct ro_spec *spec,
	    const struct ro_reconcile_opts *opts,
	    struct ro_reconcile_result *res, struct ro_err *err);
void	ro_reconcile_result_release(struct ro_reconcile_result *res);
const char *ro_phase_name(enum ro_phase p);

/* Write a record for a room that never got to APPLY (rejected, failed,
 * superseded, history-rewritten). */
int	ro_reconcile_audit_only(const struct ro_reconcile_opts *opts,
	    const char *room, const char *outcome, const struct ro_strv *errors,
	    struct ro_err *err);

#endif
