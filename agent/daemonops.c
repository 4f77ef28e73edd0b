/*
 * daemonops.c: the core behind the HTTP API (struct ro_api_ops): POST
 * /apply hands the spec to the work queue and answers from the job's
 * completion; status, readiness, metrics, the audit log, reconcile,
 * suspend, confirm and webhooks read or poke the daemon's parts.
 *
 * Thread rules: every op runs on an HTTP thread of the API, concurrently
 * with the loop; it reads only what is fixed at start or guarded (atomics,
 * d->mu, the rooms table's and the queue's own locks), and never blocks
 * beyond short locks and a bounded read of the audit log.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roomops/log.h"
#include "api.h"
#include "daemon_impl.h"
#include "dirsrc.h"
#include "gitsrc.h"
#include "metrics.h"
#include "rooms.h"
#include "version.h"
#include "workq.h"

#include "../common/banned.h"

#define DAEMON_AUDIT_SCAN_MAX	(256ull << 20)	/* bytes of the log GET
						   /audit looks through */


struct apply_ctx {
	struct daemon	*d;
	ro_api_done	*done;
	void		*done_arg;
	bool		 dry_run;
};

static cJSON *
empty_diff(void)
{
	static const char *const lists[] = { "toJoin", "toKick", "toUpdate",
	    "toSeed", "toPromote", "toDeleteArtifacts", "toApply", "blocked" };
	cJSON	*o = cJSON_CreateObject();
	size_t	 i;

	for (i = 0; o != NULL && i < RO_NELEM(lists); i++)
		cJSON_AddArrayToObject(o, lists[i]);
	return o;
}

static void
apply_done(void *arg, const struct ro_job *job,
    const struct ro_reconcile_result *res, int error, const struct ro_err *err)
{
	struct apply_ctx *ac = arg;
	cJSON		*o = cJSON_CreateObject();
	int		 status = 200;

	if (o == NULL)
		goto answer;
	if (error < 0 || res == NULL) {
		status = error == RO_EAGAIN ? 503 : 502;
		cJSON_AddBoolToObject(o, "success", false);
		cJSON_AddBoolToObject(o, "partialSuccess", false);
		cJSON *errs = cJSON_AddArrayToObject(o, "errors");
		cJSON_AddItemToArray(errs, cJSON_CreateString(err->msg));
		cJSON_AddItemToObject(o, "diff", empty_diff());
		cJSON_AddArrayToObject(o, "warnings");
		goto answer;
	}
	if (res->outcome != NULL && strcmp(res->outcome, "suspended") == 0) {
		status = 409;
		cJSON_AddStringToObject(o, "error", "ROOM_SUSPENDED");
		cJSON_AddStringToObject(o, "message", "the room is suspended; "
		    "POST /rooms/{roomId}/resume first");
		goto answer;
	}
	if (res->failed)
		status = 502;
	cJSON_AddBoolToObject(o, "success", !res->failed);
	cJSON_AddBoolToObject(o, "partialSuccess", res->partial);
	cJSON_AddStringToObject(o, "correlationId", res->cid);
	/* a real apply that found nothing to change ended in PRE_CHECKS:
	 * the state it read is its verification */
	cJSON_AddStringToObject(o, "phase", ac->dry_run ? "PRE_CHECKS" :
	    res->phase == RO_PHASE_PRE_CHECKS ? "VERIFY" :
	    ro_phase_name(res->phase));
	cJSON_AddStringToObject(o, "outcome", res->outcome != NULL ?
	    res->outcome : "unknown");
	cJSON_AddBoolToObject(o, "converged", res->converged);
	cJSON_AddItemToObject(o, "diff", res->diff != NULL ?
	    cJSON_Duplicate(res->diff, true) : empty_diff());
	cJSON_AddItemToObject(o, "warnings", ro_strv_to_json(&res->warnings));
	cJSON_AddItemToObject(o, "errors", ro_strv_to_json(&res->errors));
	cJSON_AddNumberToObject(o, "cycles", res->cycles);
	cJSON_AddNumberToObject(o, "duration", res->duration_ms / 1000.0);
	if (!ac->dry_run && !res->failed) {
		struct apispec	*as, **pp;
		struct ro_spec	*copy;

		if (ro_spec_copy(&copy, job->spec) == RO_OK &&
		    (as = calloc(1, sizeof(*as))) != NULL) {
			as->spec = copy;
			pthread_mutex_lock(&ac->d->mu);
			for (pp = &ac->d->apispecs; *pp != NULL;
			    pp = &(*pp)->next)
				if (strcmp((*pp)->spec->room_id,
				    copy->room_id) == 0) {
					struct apispec *old = *pp;

					*pp = old->next;
					ro_spec_free(old->spec);
					free(old);
					break;
				}
			as->next = ac->d->apispecs;
			ac->d->apispecs = as;
			pthread_mutex_unlock(&ac->d->mu);
		}
	}
answer:
	ac->done(ac->done_arg, status, o);
	free(ac);
}

static int
op_apply(void *arg, struct ro_spec *spec, bool dry_run, bool confirm,
    ro_api_done *done, void *done_arg, struct ro_err *err)
{
	struct daemon		*d = arg;
	struct apply_ctx	*ac;
	struct ro_job		*job;

	if (!ro_shard_owns(&d->shard, spec->room_id)) {
		char	owner[RO_SHARD_STR_MAX];
		struct ro_shard o = { (unsigned)ro_shard_of(spec->room_id,
				    d->shard.count), d->shard.count };

		ro_err_set(err, RO_ECONFLICT, "room %s belongs to shard %s; "
		    "this agent is shard %s", spec->room_id,
		    ro_shard_str(owner, &o), d->shard_str);
		ro_spec_free(spec);
		return RO_ECONFLICT;
	}
	if ((ac = calloc(1, sizeof(*ac))) == NULL) {
		ro_spec_free(spec);
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	}
	if ((job = ro_job_new(spec, "api", "api", NULL)) == NULL) {
		free(ac);
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	}
	ac->d = d;
	ac->done = done;
	ac->done_arg = done_arg;
	ac->dry_run = dry_run;
	job->dry_run = dry_run;
	job->confirm = confirm;
	job->detected_ms = ro_now_ms();
	job->done = apply_done;
	job->done_arg = ac;
	if (!dry_run)
		ro_rooms_add(d->rooms, job->room_id, "api");
	if (ro_workq_push(d->q, job, err) < 0) {
		free(ac);
		return err->code;
	}
	return RO_OK;
}

static void
fill_gauges(struct daemon *d)
{
	struct ro_rooms_counts	c;

	ro_rooms_counts(d->rooms, &c);
	ro_metrics_set_gauge(&d->metrics, RO_M_QUEUED_REQUESTS,
	    (int64_t)ro_workq_depth(d->q));
	ro_metrics_set_gauge(&d->metrics, RO_M_QUEUE_DEPTH,
	    (int64_t)ro_workq_depth(d->q));
	ro_metrics_set_gauge(&d->metrics, RO_M_ROOMS_CONVERGED,
	    (int64_t)c.converged);
	ro_metrics_set_gauge(&d->metrics, RO_M_ROOMS_PENDING,
	    (int64_t)c.pending);
	ro_metrics_set_gauge(&d->metrics, RO_M_ROOMS_FAILED, (int64_t)c.failed);
	ro_metrics_set_gauge(&d->metrics, RO_M_ROOMS_BLOCKED,
	    (int64_t)c.blocked);
	ro_metrics_set_gauge(&d->metrics, RO_M_ROOMS_SUSPENDED,
	    (int64_t)c.suspended);
}

static cJSON *
op_status(void *arg)
{
	struct daemon		*d = arg;
	struct ro_rooms_counts	 c;
	cJSON			*o, *src, *au;
	char			 ts[RO_TS_LEN + 1];
	const char		*health;
	bool			 blocked;

	ro_rooms_counts(d->rooms, &c);
	blocked = ro_auditlog_blocked(&d->audit);
	if (!ro_daemon_server_ok(d) || blocked)
		health = "Unhealthy";
	else if (c.failed > 0 || c.blocked > 0 || c.pending > 0)
		health = "Degraded";
	else
		health = "Healthy";
	ro_now_iso(ts);
	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "version", ro_version());
	cJSON_AddStringToObject(o, "health", health);
	cJSON_AddItemToObject(o, "rooms", ro_rooms_json_all(d->rooms));
	cJSON_AddNumberToObject(o, "queuedRequests",
	    (double)ro_workq_depth(d->q));
	cJSON_AddNumberToObject(o, "activeReconciliations",
	    (double)ro_workq_active(d->q));
	cJSON_AddStringToObject(o, "timestamp", ts);
	cJSON_AddStringToObject(o, "shard", d->shard_str);
	cJSON_AddNumberToObject(o, "ownedRooms", (double)c.total);
	cJSON_AddBoolToObject(o, "ready", ro_daemon_ready(d));
	/* a record held for a full disk: nothing is applied meanwhile */
	au = cJSON_AddObjectToObject(o, "audit");
	cJSON_AddStringToObject(au, "log", d->audit_path);
	cJSON_AddBoolToObject(au, "blocked", blocked);
	cJSON_AddNumberToObject(au, "writeErrors",
	    (double)ro_auditlog_errors(&d->audit));
	src = cJSON_AddObjectToObject(o, "source");
	if (d->git != NULL)
		ro_gitsrc_info(d->git, src);
	else {
		cJSON_AddNullToObject(src, "repo");
		cJSON_AddNullToObject(src, "branch");
		cJSON_AddNullToObject(src, "head");
		cJSON_AddNullToObject(src, "lastFetch");
		cJSON_AddNullToObject(src, "lastError");
	}
	if (d->watch_dir != NULL)
		cJSON_AddStringToObject(src, "watch", d->watch_dir);
	return o;
}

static cJSON *
op_room_status(void *arg, const char *room_id)
{
	struct daemon	*d = arg;

	return ro_rooms_json(d->rooms, room_id);
}

static bool
op_ready(void *arg)
{
	return ro_daemon_ready(arg);
}

/* roomops_audit_write_errors_total counts the failed appends of the log
 * (a held record retried every second counts each try), as they happen. */
static void
sync_audit_errors(struct daemon *d)
{
	unsigned long	n = ro_auditlog_errors(&d->audit);

	pthread_mutex_lock(&d->mu);
	if (n > d->audit_errors_seen) {
		ro_metrics_add(&d->metrics, RO_M_AUDIT_WRITE_ERRORS,
		    n - d->audit_errors_seen);
		d->audit_errors_seen = n;
	}
	pthread_mutex_unlock(&d->mu);
}

static int
op_metrics(void *arg, struct ro_buf *out)
{
	struct daemon	*d = arg;

	sync_audit_errors(d);
	fill_gauges(d);
	return ro_metrics_render(&d->metrics, out);
}

/*
 * GET /audit: the newest q->count records of the JSONL log that match,
 * oldest first, read backwards from the log's end and never more than
 * DAEMON_AUDIT_SCAN_MAX bytes of it: memory and time stay bounded
 * whatever the size of the log (`roomops audit` reads all of it).
 */
static int
op_audit(void *arg, const struct ro_audit_query *q, cJSON *entries,
    struct ro_err *err)
{
	struct daemon		*d = arg;
	struct ro_audit_query	 bounded = *q;
	size_t			 bad;

	bounded.scan_max = DAEMON_AUDIT_SCAN_MAX;
	return ro_auditlog_read(d->audit_path, &bounded, entries, &bad, err);
}

void
ro_daemonops_resync_all(struct daemon *d)
{
	struct apispec	*as;
	struct ro_spec	*copy;
	struct ro_job	*job;
	struct ro_err	 err = RO_ERR_INIT;

	if (d->git != NULL)
		ro_gitsrc_trigger(d->git, RO_GITSRC_CHECK | RO_GITSRC_RESYNC);
	if (d->dir != NULL)
		ro_dirsrc_resync(d->dir);
	pthread_mutex_lock(&d->mu);
	for (as = d->apispecs; as != NULL; as = as->next) {
		if (ro_spec_copy(&copy, as->spec) < 0 ||
		    (job = ro_job_new(copy, "api", "api", NULL)) == NULL)
			continue;
		job->coalesce = true;
		if (ro_workq_push(d->q, job, &err) < 0)
			log_warnx("reconcile %s: %s", as->spec->room_id,
			    err.msg);
	}
	pthread_mutex_unlock(&d->mu);
}

static int
op_reconcile(void *arg, const char *room_id, struct ro_err *err)
{
	struct daemon	*d = arg;

	if (room_id != NULL && !ro_rooms_known(d->rooms, room_id))
		return ro_err_set(err, RO_ENOTFOUND, "room %s is not known "
		    "here", room_id);
	/* a room's spec lives in its source: ask it */
	ro_daemonops_resync_all(d);
	return RO_OK;
}

static int
op_suspend(void *arg, const char *room_id, bool on, struct ro_err *err)
{
	struct daemon	*d = arg;

	if (ro_rooms_suspend(d->rooms, room_id, on) < 0)
		return ro_err_set(err, RO_ENOTFOUND, "room %s is not known "
		    "here", room_id);
	log_info("room %s: %s", room_id, on ? "suspended" : "resumed");
	if (!on)
		ro_daemonops_resync_all(d);
	return RO_OK;
}

static int
op_confirm(void *arg, const char *room_id, const char *rev,
    struct ro_err *err)
{
	struct daemon	*d = arg;

	if (!ro_rooms_known(d->rooms, room_id))
		return ro_err_set(err, RO_ENOTFOUND, "room %s is not known "
		    "here", room_id);
	if (ro_rooms_confirm(d->rooms, room_id, rev != NULL ? rev : "*") < 0)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	log_info("room %s: removals confirmed for revision %s", room_id,
	    rev != NULL ? rev : "(any)");
	ro_daemonops_resync_all(d);
	return RO_OK;
}

static int
op_hook(void *arg, const char *source, const char *ref, struct ro_err *err)
{
	struct daemon	*d = arg;

	if (d->git == NULL)
		return ro_err_set(err, RO_ENOTFOUND, "no Git source configured");
	log_info("webhook from %s (%s): checking the remote", source,
	    ref != NULL ? ref : "no ref");
	ro_gitsrc_trigger(d->git, RO_GITSRC_CHECK | RO_GITSRC_FETCH);
	return RO_OK;
}

void
ro_daemonops_init(struct ro_api_ops *ops, struct daemon *d)
{
	memset(ops, 0, sizeof(*ops));
	ops->arg = d;
	ops->apply = op_apply;
	ops->status = op_status;
	ops->room_status = op_room_status;
	ops->ready = op_ready;
	ops->metrics = op_metrics;
	ops->audit = op_audit;
	ops->reconcile = op_reconcile;
	ops->suspend = op_suspend;
	ops->confirm = op_confirm;
	ops->hook = op_hook;
	ro_daemonui_init(ops);
}
