/*
 * workq.h: the daemon's queue of room reconciles and its worker threads.
 *
 * Jobs for different rooms run in parallel (bounded by concurrency); jobs
 * for one room run strictly one after the other, in push order. A job
 * marked coalesce is replaced by a newer coalescing job for the same room
 * while it waits (the newest spec wins); API applies never coalesce, so
 * each gets its own answer. Each worker owns one RoomServer client.
 * While the audit log holds a record it cannot write (disk full:
 * ro_auditlog_blocked), workers take no job: the queue pauses.
 *
 * Thread rules: push/depth/stop may be called from any thread; the done
 * callback runs on a worker thread, after the job's audit record is on
 * disk, and must not block for long. It gets res NULL and RO_EAGAIN for a
 * job dropped by ro_workq_stop(), and a result with outcome "suspended"
 * (nothing done, nothing audited) for a suspended room.
 */
#ifndef RO_WORKQ_H
#define RO_WORKQ_H

#include <stdbool.h>

#include "roomops/client.h"
#include "roomops/model.h"
#include "reconcile.h"
#include "rooms.h"

#define RO_WORKQ_MAX	100000	/* queued jobs at most */

struct ro_job;
typedef void ro_job_done(void *arg, const struct ro_job *job,
	    const struct ro_reconcile_result *res, int error,
	    const struct ro_err *err);

struct ro_job {
	struct ro_job	*next;
	char		*room_id;
	struct ro_spec	*spec;		/* owned; seeds resolved, content kept */
	char		*source;	/* git|watch|api */
	char		*rev;
	char		*cid;		/* NULL: a new one */
	bool		 dry_run;
	bool		 confirm;	/* removals confirmed for this job */
	bool		 coalesce;
	long long	 detected_ms;	/* monotonic, when the change was seen */
	ro_job_done	*done;
	void		*done_arg;
	char		*signer;	/* verified signer of rev, or NULL */
	ro_audit_sink	*sink;		/* per job (e.g. the commit's note) */
	void		*sink_arg;
};

/* A zeroed job with copies of the strings; spec ownership moves in even
 * on failure. NULL on ENOMEM. */
struct ro_job *ro_job_new(struct ro_spec *spec, const char *source,
	    const char *rev, const char *cid);
void	ro_job_free(struct ro_job *job);

struct ro_workq_opts {
	const struct ro_client_opts *client;
	struct ro_reconcile_opts  reconcile;	/* template: guard, audit... */
	unsigned		  concurrency;
	struct ro_rooms		 *rooms;	/* status table, updated */
	/* Called when a job's reconcile starts (not for dry runs or
	 * suspended rooms), and for every finished job before job->done. */
	void			(*start)(void *arg, const struct ro_job *job);
	ro_job_done		 *observe;
	void			 *observe_arg;
};

struct ro_workq;

int	ro_workq_start(struct ro_workq **out, const struct ro_workq_opts *opts,
	    struct ro_err *err);
/* Queue job (ownership moves, even on error). RO_ETOOBIG when full,
 * RO_EAGAIN when stopping. */
int	ro_workq_push(struct ro_workq *q, struct ro_job *job,
	    struct ro_err *err);
size_t	ro_workq_depth(struct ro_workq *q);
size_t	ro_workq_active(struct ro_workq *q);
/* True while room_id has a job queued or running. */
bool	ro_workq_busy(struct ro_workq *q, const char *room_id);
/* Block until nothing is queued or running (bounded by timeout_ms; 0
 * waits forever). RO_ETIMEOUT. */
int	ro_workq_wait_idle(struct ro_workq *q, long timeout_ms);
/* Update the guardrail template (config reload). */
void	ro_workq_set_guard(struct ro_workq *q, const struct ro_guard_opts *g);
/*
 * Stop: jobs in flight finish (and write their audit); queued jobs are
 * dropped, their done called with RO_EAGAIN; the workers are joined.
 * Later pushes fail with RO_EAGAIN. The queue stays valid until freed.
 */
void	ro_workq_stop(struct ro_workq *q);
/* Stop (if not yet) and free. NULL is a no-op. */
void	ro_workq_free(struct ro_workq *q);

#endif
