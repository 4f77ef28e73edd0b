/* workq.c: per-room serialised, cross-room parallel reconcile workers. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "roomops/clock.h"
#include "roomops/log.h"
#include "workq.h"

#define WORKQ_PAUSE_POLL_MS	200	/* look at a blocked audit log */

#include "../common/banned.h"

struct ro_workq {
	pthread_mutex_t	 mu;
	pthread_cond_t	 work;		/* a job may be runnable */
	pthread_cond_t	 idle;		/* a job finished */
	struct ro_job	*head, *tail;
	size_t		 depth;
	size_t		 active;
	char		**running;	/* room ids in flight, [concurrency] */
	bool		 stopping;
	struct ro_workq_opts opts;
	pthread_t	*tids;
	unsigned	 nthreads;
};

struct ro_job *
ro_job_new(struct ro_spec *spec, const char *source, const char *rev,
    const char *cid)
{
	struct ro_job	*j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		goto fail;
	j->spec = spec;
	spec = NULL;
	if ((j->room_id = strdup(j->spec->room_id)) == NULL ||
	    (j->source = strdup(source)) == NULL ||
	    (rev != NULL && (j->rev = strdup(rev)) == NULL) ||
	    (cid != NULL && (j->cid = strdup(cid)) == NULL))
		goto fail;
	return j;
fail:
	ro_spec_free(spec);
	ro_job_free(j);
	return NULL;
}

void
ro_job_free(struct ro_job *j)
{
	if (j == NULL)
		return;
	ro_spec_free(j->spec);
	free(j->room_id);
	free(j->source);
	free(j->rev);
	free(j->cid);
	free(j->signer);
	free(j);
}

static bool
running_locked(const struct ro_workq *q, const char *room)
{
	unsigned	i;

	for (i = 0; i < q->nthreads; i++)
		if (q->running[i] != NULL && strcmp(q->running[i], room) == 0)
			return true;
	return false;
}

/* Unlink and return the first job whose room is not in flight. */
static struct ro_job *
take_locked(struct ro_workq *q)
{
	struct ro_job	*j, *prev = NULL;

	for (j = q->head; j != NULL; prev = j, j = j->next) {
		if (running_locked(q, j->room_id))
			continue;
		if (prev == NULL)
			q->head = j->next;
		else
			prev->next = j->next;
		if (q->tail == j)
			q->tail = prev;
		j->next = NULL;
		q->depth--;
		return j;
	}
	return NULL;
}

/* The audit log holds a record it cannot write (disk full): take no job
 * until it is written (reconcile.c also waits before any APPLY). */
static bool
paused_locked(const struct ro_workq *q)
{
	return q->opts.reconcile.audit != NULL &&
	    ro_auditlog_blocked(q->opts.reconcile.audit);
}

/* Under q->mu: wait for work, or for the audit log to unblock. */
static void
wait_locked(struct ro_workq *q, bool paused)
{
	struct timespec	ts;

	if (!paused) {
		pthread_cond_wait(&q->work, &q->mu);
		return;
	}
	ro_now_deadline(&ts, WORKQ_PAUSE_POLL_MS);
	pthread_cond_timedwait(&q->work, &q->mu, &ts);
}

static void
run_job(struct ro_workq *q, struct ro_client *c, struct ro_job *j,
    const struct ro_reconcile_opts *tmpl)
{
	struct ro_reconcile_opts	 o = *tmpl;
	struct ro_reconcile_result	 res;
	struct ro_err			 err = RO_ERR_INIT;
	const char			*rb;
	int				 error;

	if (!j->dry_run && ro_rooms_suspended(q->opts.rooms, j->room_id)) {
		/* suspended: nothing is read or changed, nothing audited */
		memset(&res, 0, sizeof(res));
		res.outcome = "suspended";
		log_info("room %s: suspended, %s revision %s skipped",
		    j->room_id, j->source, j->rev != NULL ? j->rev : "-");
		if (j->done != NULL)
			j->done(j->done_arg, j, &res, RO_OK, &err);
		return;
	}

	o.dry_run = j->dry_run;
	o.source = j->source;
	o.rev = j->rev;
	o.cid = j->cid;
	o.signer = j->signer;
	o.guard.confirmed = j->confirm || ro_rooms_confirmed(q->opts.rooms,
	    j->room_id, j->rev);
	if ((rb = ro_spec_annotation(j->spec, "roomops/rollback")) != NULL &&
	    strcmp(rb, "true") == 0)
		o.rollback = true;
	if (j->sink != NULL) {
		o.sink = j->sink;
		o.sink_arg = j->sink_arg;
	}
	if (!j->dry_run) {
		ro_rooms_begin(q->opts.rooms, j->room_id);
		if (q->opts.start != NULL)
			q->opts.start(q->opts.observe_arg, j);
	}
	error = ro_reconcile_room(c, j->spec, &o, &res, &err);
	if (!j->dry_run)
		ro_rooms_end(q->opts.rooms, j->room_id, j->rev, &res, error);
	else if (error == RO_OK)
		ro_rooms_pending(q->opts.rooms, j->room_id,
		    res.converged ? NULL : res.diff);	/* nothing pending */
	if (error < 0)
		log_warnx("room %s: %s", j->room_id, err.msg);
	if (q->opts.observe != NULL)
		q->opts.observe(q->opts.observe_arg, j, &res, error, &err);
	if (j->done != NULL)
		j->done(j->done_arg, j, &res, error, &err);
	ro_reconcile_result_release(&res);
}

struct worker_arg {
	struct ro_workq	*q;
	unsigned	 slot;
};

static void *
worker(void *arg)
{
	struct worker_arg	*wa = arg;
	struct ro_workq		*q = wa->q;
	unsigned		 slot = wa->slot;
	struct ro_client	*c = NULL;
	struct ro_err		 err = RO_ERR_INIT;
	struct ro_job		*j;
	struct ro_reconcile_opts tmpl;

	free(wa);
	if (ro_client_new(&c, q->opts.client, &err) < 0) {
		log_warnx("worker %u: %s", slot, err.msg);
		return NULL;
	}
	pthread_mutex_lock(&q->mu);
	for (;;) {
		bool	paused = false;

		j = NULL;
		while (!q->stopping && ((paused = paused_locked(q)) ||
		    (j = take_locked(q)) == NULL))
			wait_locked(q, paused);
		if (j == NULL)
			break;		/* stopping; a taken job still runs */
		q->running[slot] = j->room_id;
		q->active++;
		tmpl = q->opts.reconcile;	/* guardrails may be reloaded */
		pthread_mutex_unlock(&q->mu);
		run_job(q, c, j, &tmpl);
		pthread_mutex_lock(&q->mu);
		q->running[slot] = NULL;
		q->active--;
		ro_job_free(j);
		pthread_cond_broadcast(&q->work);	/* its room is free */
		pthread_cond_broadcast(&q->idle);
	}
	pthread_mutex_unlock(&q->mu);
	ro_client_free(c);
	return NULL;
}

int
ro_workq_start(struct ro_workq **out, const struct ro_workq_opts *opts,
    struct ro_err *err)
{
	struct ro_workq		*q;
	struct worker_arg	*wa;
	unsigned		 n = opts->concurrency != 0 ? opts->concurrency : 8;

	if ((q = calloc(1, sizeof(*q))) == NULL ||
	    (q->running = calloc(n, sizeof(*q->running))) == NULL ||
	    (q->tids = calloc(n, sizeof(*q->tids))) == NULL) {
		if (q != NULL)
			free(q->running);
		free(q);
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	}
	q->opts = *opts;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->work, NULL);
	pthread_cond_init(&q->idle, NULL);
	q->nthreads = n;
	for (q->nthreads = 0; q->nthreads < n; q->nthreads++) {
		if ((wa = malloc(sizeof(*wa))) == NULL)
			break;
		wa->q = q;
		wa->slot = q->nthreads;
		if (pthread_create(&q->tids[q->nthreads], NULL, worker,
		    wa) != 0) {
			free(wa);
			break;
		}
	}
	if (q->nthreads == 0) {
		ro_workq_free(q);
		return ro_err_set(err, RO_ERROR, "could not start workers");
	}
	*out = q;
	return RO_OK;
}

int
ro_workq_push(struct ro_workq *q, struct ro_job *job, struct ro_err *err)
{
	struct ro_job	*j, *prev = NULL;
	int		 error = RO_OK;

	pthread_mutex_lock(&q->mu);
	if (q->stopping) {
		error = ro_err_set(err, RO_EAGAIN, "shutting down");
		goto done;
	}
	if (job->coalesce)
		for (j = q->head; j != NULL; prev = j, j = j->next) {
			if (!j->coalesce || strcmp(j->room_id, job->room_id))
				continue;
			job->next = j->next;	/* take j's place */
			if (prev == NULL)
				q->head = job;
			else
				prev->next = job;
			if (q->tail == j)
				q->tail = job;
			if (j->detected_ms != 0 && (job->detected_ms == 0 ||
			    j->detected_ms < job->detected_ms))
				job->detected_ms = j->detected_ms;
			ro_job_free(j);
			job = NULL;
			goto done;
		}
	if (q->depth >= RO_WORKQ_MAX) {
		error = ro_err_set(err, RO_ETOOBIG, "queue full (%d jobs)",
		    RO_WORKQ_MAX);
		goto done;
	}
	job->next = NULL;
	if (q->tail == NULL)
		q->head = job;
	else
		q->tail->next = job;
	q->tail = job;
	q->depth++;
	job = NULL;
	pthread_cond_broadcast(&q->work);
done:
	pthread_mutex_unlock(&q->mu);
	ro_job_free(job);
	return error;
}

size_t
ro_workq_depth(struct ro_workq *q)
{
	size_t	n;

	pthread_mutex_lock(&q->mu);
	n = q->depth;
	pthread_mutex_unlock(&q->mu);
	return n;
}

size_t
ro_workq_active(struct ro_workq *q)
{
	size_t	n;

	pthread_mutex_lock(&q->mu);
	n = q->active;
	pthread_mutex_unlock(&q->mu);
	return n;
}

bool
ro_workq_busy(struct ro_workq *q, const char *room_id)
{
	struct ro_job	*j;
	bool		 busy;

	pthread_mutex_lock(&q->mu);
	busy = running_locked(q, room_id);
	for (j = q->head; !busy && j != NULL; j = j->next)
		busy = strcmp(j->room_id, room_id) == 0;
	pthread_mutex_unlock(&q->mu);
	return busy;
}

int
ro_workq_wait_idle(struct ro_workq *q, long timeout_ms)
{
	struct timespec	deadline;
	int		error = RO_OK;

	ro_now_deadline(&deadline, timeout_ms);
	pthread_mutex_lock(&q->mu);
	while (q->depth > 0 || q->active > 0) {
		if (timeout_ms == 0)
			pthread_cond_wait(&q->idle, &q->mu);
		else if (pthread_cond_timedwait(&q->idle, &q->mu, &deadline) ==
		    ETIMEDOUT) {
			error = RO_ETIMEOUT;
			break;
		}
	}
	pthread_mutex_unlock(&q->mu);
	return error;
}

void
ro_workq_set_guard(struct ro_workq *q, const struct ro_guard_opts *g)
{
	pthread_mutex_lock(&q->mu);
	q->opts.reconcile.guard = *g;
	pthread_mutex_unlock(&q->mu);
}

void
ro_workq_stop(struct ro_workq *q)
{
	struct ro_job	*j;
	struct ro_err	 err = RO_ERR_INIT;
	unsigned	 i;

	if (q == NULL)
		return;
	pthread_mutex_lock(&q->mu);
	if (q->stopping) {
		pthread_mutex_unlock(&q->mu);
		return;
	}
	q->stopping = true;
	pthread_cond_broadcast(&q->work);
	pthread_mutex_unlock(&q->mu);
	for (i = 0; i < q->nthreads; i++)
		pthread_join(q->tids[i], NULL);
	ro_err_set(&err, RO_EAGAIN, "shutting down");
	pthread_mutex_lock(&q->mu);
	while ((j = q->head) != NULL) {
		q->head = j->next;
		q->depth--;
		pthread_mutex_unlock(&q->mu);
		if (j->done != NULL)
			j->done(j->done_arg, j, NULL, RO_EAGAIN, &err);
		ro_job_free(j);
		pthread_mutex_lock(&q->mu);
	}
	q->tail = NULL;
	pthread_cond_broadcast(&q->idle);
	pthread_mutex_unlock(&q->mu);
}

void
ro_workq_free(struct ro_workq *q)
{
	if (q == NULL)
		return;
	ro_workq_stop(q);
	pthread_cond_destroy(&q->work);
	pthread_cond_destroy(&q->idle);
	pthread_mutex_destroy(&q->mu);
	free(q->running);
	free(q->tids);
	free(q);
}
