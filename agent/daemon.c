/* daemon.c: the agent's event loop and the core behind the HTTP API. */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roomops/file.h"
#include "roomops/guard.h"
#include "roomops/log.h"
#include "api.h"
#include "cli.h"
#include "daemon.h"
#include "dirsrc.h"
#include "gitsrc.h"
#include "metrics.h"
#include "rooms.h"
#include "version.h"
#include "watch.h"
#include "workq.h"

#include "../common/banned.h"

#define DAEMON_PROBE_MS		5000	/* RoomServer /health period */
#define DAEMON_READY_WINDOW_MS	30000	/* "answered recently" */
#define DAEMON_EVENTS		16	/* epoll events per wait */
#define DAEMON_ONCE_POLL_MS	20	/* --once: look for idle workers */
#define DAEMON_ARENAS		2	/* malloc arenas */
#define DAEMON_AUDIT_BLOCK	(64u << 10)	/* bytes per read of the log */
#define DAEMON_AUDIT_SCAN_MAX	(256ull << 20)	/* bytes of the log GET
						   /audit looks through */
#define DAEMON_RETRY_MAX_MS	300000	/* longest pause between two
					   "RoomServer is back" resyncs */
#define DAEMON_AUDIT_RETRY_MS	1000	/* a held audit record is tried
					   again this often (disk full) */

/* A spec that came by POST /apply, kept for POST /reconcile. */
struct apispec {
	struct apispec	*next;
	struct ro_spec	*spec;
};

struct daemon {
	struct ro_config	*cfg;
	int			 epfd, sigfd, tickfd, resyncfd, wakefd;
	struct ro_watch		*watch;
	struct ro_dirsrc	*dir;
	struct ro_gitsrc	*git;
	struct ro_workq		*q;
	struct ro_rooms		*rooms;
	struct ro_api		*api;
	struct ro_metrics	 metrics;
	struct ro_auditlog	 audit;
	bool			 audit_open;
	struct ro_client_opts	 copts;
	char			*token;
	char			*api_token;
	char			*webhook_secret;
	char			 shard_str[RO_SHARD_STR_MAX];
	/* read by API threads: fixed at start (a reload swaps d->cfg) */
	const char		*audit_path;
	const char		*watch_dir;
	struct ro_shard		 shard;
	char			 repo_dir[PATH_MAX];
	char			 intent_dir[PATH_MAX];
	unsigned long		 audit_errors_seen;	/* under mu */
	/* readiness and --once */
	bool			 want_git, want_dir;
	atomic_bool		 git_synced, dir_synced;
	atomic_bool		 synced;
	atomic_llong		 server_ok_ms;
	/* a reconcile gave up on a transient failure: resync once the
	 * RoomServer answers again (prober) */
	atomic_bool		 unreachable;
	atomic_bool		 want_resync;	/* for the loop */
	atomic_int		 n_failed, n_partial, n_blocked;
	/* prober */
	pthread_t		 prober;
	bool			 prober_started;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	bool			 quit;		/* under mu */
	struct apispec		*apispecs;	/* under mu */
	/* configurations replaced by SIGHUP: threads may still point
	 * into them, so they live until exit */
	struct ro_config	**retired;
	size_t			 nretired;
};

/* --- readiness, --once, metrics ----------------------------------- */

static void
wake(struct daemon *d)
{
	uint64_t	one = 1;

	if (write(d->wakefd, &one, sizeof(one)) < 0)
		(void)0;	/* the counter is full: already awake */
}

static void
mark_synced(struct daemon *d, atomic_bool *which, bool failed)
{
	if (failed)
		atomic_fetch_add(&d->n_failed, 1);
	if (atomic_exchange(which, true) || atomic_load(&d->synced))
		return;
	if ((!d->want_git || atomic_load(&d->git_synced)) &&
	    (!d->want_dir || atomic_load(&d->dir_synced))) {
		atomic_store(&d->synced, true);
		log_info("first sync done");
	}
	wake(d);
}

static void
git_idle(void *arg, bool failed)
{
	struct daemon	*d = arg;

	mark_synced(d, &d->git_synced, failed);
}

static void
dir_idle(void *arg, bool failed)
{
	struct daemon	*d = arg;

	mark_synced(d, &d->dir_synced, failed);
}

static void
started(void *arg, const struct ro_job *job)
{
	struct daemon	*d = arg;

	(void)job;
	ro_metrics_reconcile_begin(&d->metrics);
}

static void
observe(void *arg, const struct ro_job *job,
    const struct ro_reconcile_result *res, int error, const struct ro_err *err)
{
	struct daemon	*d = arg;
	bool		 ok;

	(void)err;
	if (res == NULL || job->dry_run ||
	    (res->outcome != NULL && strcmp(res->outcome, "suspended") == 0))
		return;
	ok = error == RO_OK && !res->failed && !res->partial;
	ro_metrics_reconcile_done(&d->metrics, res->duration_ms / 1000.0, ok);
	if (error == RO_OK && !res->failed)
		atomic_store(&d->server_ok_ms, ro_now_ms());
	if (res->unreachable)
		atomic_store(&d->unreachable, true);
	if (error < 0 || res->failed)
		atomic_fetch_add(&d->n_failed, 1);
	else if (res->partial)
		atomic_fetch_add(&d->n_partial, 1);
	else if (!res->converged || res->blocked.n > 0)
		atomic_fetch_add(&d->n_blocked, 1);	/* as roomops apply */
	if (ok && res->converged && job->detected_ms > 0)
		ro_metrics_observe(&d->metrics, RO_M_DETECT_LATENCY,
		    (ro_now_ms() - job->detected_ms) / 1000.0);
}

static int
publish(void *arg, const char *room, const char *line, size_t len,
    struct ro_err *err)
{
	struct daemon	*d = arg;

	(void)room;
	(void)err;
	if (d->api != NULL)
		ro_api_publish(d->api, line, len);
	return RO_OK;
}

/*
 * The prober: GET /health every DAEMON_PROBE_MS (readiness). It also
 * brings back rooms that a RoomServer outage left failed or partial (a
 * read or an item gave up on a transient failure): once the RoomServer
 * answers again, every source is asked for a resync (the folder source
 * and a partial room of an applied commit would otherwise wait for the
 * resync timer). Repeated outages back off, from one probe period
 * doubling to DAEMON_RETRY_MAX_MS, so a RoomServer that keeps failing
 * one route is not resynced in a loop.
 */
static void *
probe(void *arg)
{
	struct daemon		*d = arg;
	struct ro_client	*c = NULL;
	struct ro_client_opts	 o = d->copts;
	struct ro_err		 err = RO_ERR_INIT;
	struct timespec		 ts;
	long long		 next = 0, gap = DAEMON_PROBE_MS, now;
	bool			 pending = false, up;

	o.max_attempts = 1;
	o.timeout_ms = 2000;
	if (ro_client_new(&c, &o, &err) < 0) {
		log_warnx("prober: %s", err.msg);
		return NULL;
	}
	pthread_mutex_lock(&d->mu);
	while (!d->quit) {
		pthread_mutex_unlock(&d->mu);
		if (atomic_exchange(&d->unreachable, false))
			pending = true;
		else if (!pending)
			gap = DAEMON_PROBE_MS;	/* a quiet period: reset */
		if ((up = ro_client_health(c, &err) == RO_OK))
			atomic_store(&d->server_ok_ms, ro_now_ms());
		else
			log_debug("RoomServer health: %s", err.msg);
		now = ro_now_ms();
		if (up && pending && now >= next) {
			log_info("RoomServer answers again: reconciling the "
			    "rooms an outage left behind");
			pending = false;
			next = now + gap;
			gap = gap * 2 > DAEMON_RETRY_MAX_MS ?
			    DAEMON_RETRY_MAX_MS : gap * 2;
			atomic_store(&d->want_resync, true);
			wake(d);
		}
		pthread_mutex_lock(&d->mu);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += DAEMON_PROBE_MS / 1000;
		if (!d->quit)
			pthread_cond_timedwait(&d->cv, &d->mu, &ts);
	}
	pthread_mutex_unlock(&d->mu);
	ro_client_free(c);
	return NULL;
}

static bool
server_ok(struct daemon *d)
{
	long long	t = atomic_load(&d->server_ok_ms);

	return t != 0 && ro_now_ms() - t < DAEMON_READY_WINDOW_MS;
}

/* The first sync is done (a Git source: one pass got through, not only
 * tried) and the RoomServer answered recently. */
static bool
ready(struct daemon *d)
{
	return atomic_load(&d->synced) && server_ok(d) &&
	    (d->git == NULL || ro_gitsrc_synced(d->git));
}

/* --- API ops -------------------------------------------------------- */

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
	if (!server_ok(d) || blocked)
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
	cJSON_AddBoolToObject(o, "ready", ready(d));
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
	return ready(arg);
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

/* Does rec's string field key equal want (NULL: any)? */
static bool
rec_matches(const cJSON *rec, const char *key, const char *want)
{
	const cJSON	*v;

	if (want == NULL)
		return true;
	v = cJSON_GetObjectItemCaseSensitive(rec, key);
	return cJSON_IsString(v) && strcmp(v->valuestring, want) == 0;
}

/* One line of the log (not NUL-terminated), added to found when it is a
 * record matching the filters: 1 when added, else 0 (blank, malformed or
 * over-long lines are skipped). */
static int
audit_line(const char *p, size_t n, const char *cid, const char *room,
    cJSON *found)
{
	cJSON	*o;

	if (n == 0 || n > RO_AUDIT_LINE_MAX ||
	    (room != NULL && memmem(p, n, room, strlen(room)) == NULL) ||
	    (cid != NULL && memmem(p, n, cid, strlen(cid)) == NULL) ||
	    (o = cJSON_ParseWithLength(p, n)) == NULL)
		return 0;		/* (the cheap test first) */
	if (!cJSON_IsObject(o) || !rec_matches(o, "room", room) ||
	    !rec_matches(o, "correlationId", cid)) {
		cJSON_Delete(o);
		return 0;
	}
	cJSON_AddItemToArray(found, o);
	return 1;
}

/*
 * GET /audit: the newest count records of the JSONL log that match,
 * oldest first. The log only grows (months of records), so it is read
 * backwards in blocks from its end, and the scan stops once count
 * records are found or DAEMON_AUDIT_SCAN_MAX bytes were read: memory and
 * time stay bounded whatever the size of the log (`roomops audit` reads
 * all of it, offline).
 */
static int
op_audit(void *arg, size_t count, const char *cid, const char *room,
    cJSON *entries, struct ro_err *err)
{
	struct daemon		*d = arg;
	const char		*path = d->audit_path;
	struct stat		 st;
	cJSON			*found = NULL, *item;
	char			*b = NULL, *nl;
	const size_t		 cap = DAEMON_AUDIT_BLOCK + RO_AUDIT_LINE_MAX;
	size_t			 len = 0, n, got, nfound = 0;
	unsigned long long	 scanned = 0;
	off_t			 pos;
	bool			 skipping = false;
	ssize_t			 r;
	int			 fd, error = RO_OK;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? RO_OK : ro_err_errno(err, RO_EIO,
		    "audit log %s", path);
	if (fstat(fd, &st) == -1) {
		error = ro_err_errno(err, RO_EIO, "audit log %s", path);
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		error = ro_err_set(err, RO_EIO, "audit log %s: not a regular "
		    "file", path);
		goto done;
	}
	if ((found = cJSON_CreateArray()) == NULL ||
	    (b = malloc(cap)) == NULL) {
		error = ro_err_set(err, RO_ENOMEM, "out of memory");
		goto done;
	}
	pos = st.st_size;
	for (;;) {
		/* the complete lines: each one after a newline */
		while (nfound < count && (nl = memrchr(b, '\n', len)) != NULL) {
			nfound += (size_t)audit_line(nl + 1, len -
			    (size_t)(nl + 1 - b), cid, room, found);
			len = (size_t)(nl - b);
		}
		if (nfound >= count)
			break;
		if (pos == 0) {			/* the file's first line */
			if (!skipping)
				(void)audit_line(b, len, cid, room, found);
			break;
		}
		if (scanned >= DAEMON_AUDIT_SCAN_MAX)
			break;
		n = pos < (off_t)DAEMON_AUDIT_BLOCK ? (size_t)pos :
		    DAEMON_AUDIT_BLOCK;
		if (len + n > cap) {	/* over RO_AUDIT_LINE_MAX: skipped */
			len = 0;
			skipping = true;
		}
		memmove(b + n, b, len);
		pos -= (off_t)n;
		for (got = 0; got < n; got += (size_t)r) {
			r = pread(fd, b + got, n - got, pos + (off_t)got);
			if (r == -1 && errno == EINTR) {
				r = 0;
				continue;
			}
			if (r <= 0) {
				error = r == 0 ? ro_err_set(err, RO_EIO, "audit "
				    "log %s: shorter than it was", path) :
				    ro_err_errno(err, RO_EIO, "audit log %s",
				    path);
				goto done;
			}
		}
		scanned += n;
		len += n;
		if (skipping) {		/* the rest of the long line */
			if ((nl = memrchr(b, '\n', n)) == NULL)
				len = 0;
			else {
				len = (size_t)(nl - b);
				skipping = false;
			}
		}
	}
	/* found is newest first */
	while ((n = (size_t)cJSON_GetArraySize(found)) > 0 &&
	    (item = cJSON_DetachItemFromArray(found, (int)n - 1)) != NULL)
		cJSON_AddItemToArray(entries, item);
done:
	close(fd);
	free(b);
	cJSON_Delete(found);
	return error;
}

static void
resync_all(struct daemon *d)
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
	resync_all(d);	/* a room's spec lives in its source: ask it */
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
		resync_all(d);
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
	resync_all(d);
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

/* --- set-up ----------------------------------------------------------- */

static int
arm_timer(int fd, uint64_t ms)
{
	struct itimerspec	its;

	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = (time_t)(ms / 1000);
	its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
	its.it_interval = its.it_value;
	return timerfd_settime(fd, 0, &its, NULL);
}

static int
add_fd(struct daemon *d, int fd)
{
	struct epoll_event	ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = fd;
	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int
parent_dir(const char *path, struct ro_err *err)
{
	char	dir[PATH_MAX];
	char	*slash;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return ro_err_set(err, RO_EINVALID, "%s: path too long", path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return RO_OK;
	*slash = '\0';
	return ro_file_mkdirs(dir, 0750, err);
}

static int
setup(struct daemon *d, struct ro_err *err)
{
	struct ro_config	*cfg = d->cfg;
	struct ro_workq_opts	 qo;
	struct ro_api_opts	 ao;
	struct ro_api_ops	 ops;
	struct ro_reconcile_opts ro;
	sigset_t		 mask;
	int			 error;

	ro_shard_str(d->shard_str, &cfg->shard);
	d->shard = cfg->shard;
	d->audit_path = cfg->audit_log;	/* cfg is kept until exit */
	d->watch_dir = cfg->watch;
	if ((error = ro_file_mkdirs(cfg->state_dir, 0750, err)) < 0 ||
	    (error = parent_dir(cfg->audit_log, err)) < 0 ||
	    (error = ro_auditlog_open(&d->audit, cfg->audit_log, err)) < 0)
		return error;
	d->audit_open = true;
	ro_auditlog_set_retry(&d->audit, DAEMON_AUDIT_RETRY_MS);
	if (snprintf(d->intent_dir, sizeof(d->intent_dir), "%s/intent",
	    cfg->state_dir) >= (int)sizeof(d->intent_dir))
		return ro_err_set(err, RO_EINVALID, "%s: path too long",
		    cfg->state_dir);
	if ((error = ro_file_mkdirs(d->intent_dir, 0750, err)) < 0)
		return error;
	if ((error = ro_cli_secret(cfg->token_file, "ROOM_AUTH_TOKEN",
	    &d->token, err)) < 0 ||
	    (error = ro_cli_secret(cfg->api_token_file, NULL, &d->api_token,
	    err)) < 0 ||
	    (error = ro_cli_secret(cfg->webhook_secret_file, NULL,
	    &d->webhook_secret, err)) < 0 ||
	    (error = ro_client_global_init(err)) < 0 ||
	    (error = ro_rooms_new(&d->rooms, err)) < 0)
		return error;
	d->copts.base_url = cfg->server;
	d->copts.token = d->token;
	d->copts.cacert = cfg->cacert;

	/* signals: block everywhere (threads inherit), read by signalfd */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGPIPE);
	sigaddset(&mask, SIGXFSZ);	/* a file size limit: EFBIG, held */
	if (pthread_sigmask(SIG_BLOCK, &mask, NULL) != 0)
		return ro_err_set(err, RO_ERROR, "cannot block signals");
	sigdelset(&mask, SIGPIPE);
	sigdelset(&mask, SIGXFSZ);
	if ((d->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (d->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) == -1 ||
	    (d->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1 ||
	    (d->tickfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC |
	    TFD_NONBLOCK)) == -1 ||
	    (d->resyncfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC |
	    TFD_NONBLOCK)) == -1 ||
	    add_fd(d, d->sigfd) == -1 || add_fd(d, d->wakefd) == -1 ||
	    add_fd(d, d->tickfd) == -1 || add_fd(d, d->resyncfd) == -1)
		return ro_err_errno(err, RO_ERROR, "event loop set-up");

	memset(&ro, 0, sizeof(ro));
	ro_config_guard_opts(cfg, &ro.guard);
	ro.rollback = cfg->rollback;
	ro.shard = d->shard_str;
	ro.audit = &d->audit;
	ro.intent_dir = d->intent_dir;
	ro.publish = publish;
	ro.publish_arg = d;
	memset(&qo, 0, sizeof(qo));
	qo.client = &d->copts;
	qo.reconcile = ro;
	qo.concurrency = cfg->concurrency;
	qo.rooms = d->rooms;
	qo.start = started;
	qo.observe = observe;
	qo.observe_arg = d;
	if ((error = ro_workq_start(&d->q, &qo, err)) < 0)
		return error;

	memset(&ops, 0, sizeof(ops));
	ops.arg = d;
	ops.apply = op_apply;
	ops.status = op_status;
	ops.room_status = op_room_status;
	ops.ready = op_ready;
	ops.metrics = op_metrics;
	ops.audit = op_audit;
	ops.reconcile = op_reconcile;
	ops.suspend = op_suspend;
	ops.confirm = op_confirm;
	ops.hook = op_hook;
	memset(&ao, 0, sizeof(ao));
	ao.listen = cfg->listen;
	ao.api_token = d->api_token;
	ao.webhook_secret = d->webhook_secret;
	ao.metrics = &d->metrics;
	if ((error = ro_api_start(&d->api, &ao, &ops, err)) < 0)
		return error;
	log_info("API on http://%s:%u (metrics at /metrics)",
	    cfg->listen_host, ro_api_port(d->api));
	printf("roomops agent: API on http://%s:%u, metrics at "
	    "http://%s:%u/metrics, audit log %s\n", cfg->listen_host,
	    ro_api_port(d->api), cfg->listen_host, ro_api_port(d->api),
	    cfg->audit_log);
	fflush(stdout);

	if (pthread_create(&d->prober, NULL, probe, d) == 0)
		d->prober_started = true;

	/* sources */
	d->want_dir = cfg->watch != NULL;
	d->want_git = cfg->repo != NULL || (cfg->watch != NULL &&
	    ro_watch_is_git_worktree(cfg->watch));
	if (!d->want_git && !d->want_dir)
		atomic_store(&d->synced, true);	/* API only */

	if (d->want_git) {
		struct ro_gitsrc_opts go;

		memset(&go, 0, sizeof(go));
		go.repo = (struct ro_gitrepo_opts)RO_GITREPO_OPTS_INIT;
		go.repo.url = cfg->repo != NULL ? cfg->repo : cfg->watch;
		go.repo.branch = cfg->branch;
		snprintf(d->repo_dir, sizeof(d->repo_dir), "%s/repo.git",
		    cfg->state_dir);
		go.repo.dir = d->repo_dir;
		go.repo.username = cfg->git_username;
		go.repo.password_file = cfg->git_token_file != NULL ?
		    cfg->git_token_file : cfg->git_password_file;
		go.repo.ca_file = cfg->git_cacert;
		go.repo.ssh_key_file = cfg->ssh_key;
		go.repo.known_hosts_file = cfg->ssh_known_hosts;
		go.repo.ssh_allow_unknown_host = cfg->ssh_allow_unknown;
		go.repo.replace_mismatch = true;
		go.path = cfg->path;
		go.state_dir = cfg->state_dir;
		go.max_pending = cfg->max_pending;
		/* a local work tree: its notes go back to it */
		go.push_notes = cfg->push_notes || cfg->repo == NULL;
		go.prune = cfg->prune;
		go.shard = cfg->shard;
		go.q = d->q;
		go.rooms = d->rooms;
		go.metrics = &d->metrics;
		go.audit = ro;
		go.idle = git_idle;
		go.idle_arg = d;
		if ((error = ro_gitsrc_start(&d->git, &go, err)) < 0)
			return error;
		if (cfg->interval_ms > 0 && arm_timer(d->tickfd,
		    cfg->interval_ms) == -1)
			return ro_err_errno(err, RO_ERROR, "timerfd");
	}
	if (cfg->watch != NULL) {
		struct ro_dirsrc_opts	dso;

		if ((error = ro_watch_new(&d->watch, cfg->watch,
		    (int)cfg->debounce_ms, err)) < 0 ||
		    add_fd(d, ro_watch_fd(d->watch)) == -1)
			return error < 0 ? error : ro_err_errno(err, RO_ERROR,
			    "epoll");
		memset(&dso, 0, sizeof(dso));
		dso.root = cfg->watch;
		dso.dry_run = ro_watch_is_git(d->watch) && !cfg->apply_worktree;
		dso.prune = cfg->prune;
		dso.shard = cfg->shard;
		dso.q = d->q;
		dso.rooms = d->rooms;
		dso.audit = ro;
		dso.idle = dir_idle;
		dso.idle_arg = d;
		if ((error = ro_dirsrc_start(&d->dir, &dso, err)) < 0)
			return error;
	}
	if (cfg->resync_ms > 0 && arm_timer(d->resyncfd, cfg->resync_ms) == -1)
		return ro_err_errno(err, RO_ERROR, "timerfd");
	return RO_OK;
}

/* --- the loop --------------------------------------------------------- */

/*
 * What reload() below applies to a running daemon. ro_config_opt_live()
 * also names debounce, max-pending, prune, rollback, push-notes and
 * apply-worktree, but the watcher and the sources take those at start:
 * reported as needing a restart rather than claimed as applied.
 */
static bool
applied_live(enum ro_config_opt o)
{
	switch (o) {
	case RO_CONFIG_INTERVAL:
	case RO_CONFIG_RESYNC:
	case RO_CONFIG_MAX_KICKS:
	case RO_CONFIG_MAX_ARTIFACT_DELETES:
	case RO_CONFIG_CHANGE_THRESHOLD:
	case RO_CONFIG_REQUIRE_CONFIRM:
	case RO_CONFIG_PROFILE:
	case RO_CONFIG_LOG_LEVEL:
		return true;
	default:
		return false;
	}
}

/* Names of the changed options applied live (live) or not, comma-
 * separated; the number of names. */
static int
changes(const struct ro_config *cfg, bool live, struct ro_buf *out)
{
	int	o, n = 0;

	for (o = 0; o < RO_CONFIG_NOPTS; o++)
		if (ro_config_changed(cfg, (enum ro_config_opt)o) &&
		    applied_live((enum ro_config_opt)o) == live &&
		    ro_buf_printf(out, "%s%s", n++ > 0 ? ", " : "",
		    ro_config_opt_name((enum ro_config_opt)o)) < 0)
			break;
	return n;
}

static void
reload(struct daemon *d)
{
	struct ro_config	*next = NULL;
	struct ro_guard_opts	 g;
	struct ro_buf		 b = RO_BUF_INIT;
	struct ro_err		 err = RO_ERR_INIT;

	if (ro_config_reload(d->cfg, &next, &err) < 0) {
		log_warnx("reload refused, keeping the running configuration: "
		    "%s", err.msg);
		return;
	}
	if (changes(next, false, &b) > 0)
		log_warnx("reload: these changes need a restart: %s",
		    ro_buf_cstr(&b));
	ro_buf_reset(&b);
	if (changes(next, true, &b) > 0)
		log_info("reload: applied %s", ro_buf_cstr(&b));
	ro_buf_release(&b);
	ro_log_set_level(next->log_level);
	ro_config_guard_opts(next, &g);
	ro_workq_set_guard(d->q, &g);
	if (ro_config_changed(next, RO_CONFIG_INTERVAL) && d->git != NULL)
		arm_timer(d->tickfd, next->interval_ms);
	if (ro_config_changed(next, RO_CONFIG_RESYNC))
		arm_timer(d->resyncfd, next->resync_ms);
	/* threads may point into the old configuration: keep it */
	{
		struct ro_config **v = reallocarray(d->retired,
		    d->nretired + 1, sizeof(*v));

		if (v == NULL) {
			log_warnx("reload: out of memory");
			ro_config_free(next);
			return;
		}
		d->retired = v;
		d->retired[d->nretired++] = d->cfg;
	}
	d->cfg = next;
}

static void
drain_fd(int fd)
{
	uint64_t	v;

	while (read(fd, &v, sizeof(v)) > 0)
		;
}

static bool
on_signal(struct daemon *d)
{
	struct signalfd_siginfo	si;
	bool			quit = false;

	while (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			log_info("SIGHUP: reloading the configuration");
			reload(d);
		} else {
			log_info("%s: finishing rooms in flight, then exiting",
			    strsignal((int)si.ssi_signo));
			quit = true;
		}
	}
	return quit;
}

static void
on_watch(struct daemon *d)
{
	struct ro_strv	paths = RO_STRV_INIT, keep = RO_STRV_INIT;
	struct ro_err	err = RO_ERR_INIT;
	unsigned	flags = 0;
	long long	now = ro_now_ms();
	size_t		i;

	if (ro_watch_take(d->watch, now, &paths, &flags, &err) < 0)
		log_warnx("watch: %s", err.msg);
	if ((flags & RO_WATCH_REF_MOVED) && d->git != NULL)
		ro_gitsrc_trigger(d->git, RO_GITSRC_CHECK);
	for (i = 0; i < paths.n; i++)
		if (ro_strv_push(&keep, paths.v[i]) < 0)
			flags |= RO_WATCH_RESCAN;
	ro_strv_release(&paths);
	if (keep.n > 0 || (flags & RO_WATCH_RESCAN))
		ro_dirsrc_changed(d->dir, &keep, (flags & RO_WATCH_RESCAN) != 0,
		    now);
	ro_strv_release(&keep);
}

static int
loop(struct daemon *d)
{
	struct epoll_event	ev[DAEMON_EVENTS];
	struct ro_err		err = RO_ERR_INIT;
	long			timeout;
	int			n, i;

	for (;;) {
		timeout = d->watch != NULL ?
		    ro_watch_timeout_ms(d->watch, ro_now_ms()) : -1;
		if (d->cfg->once && atomic_load(&d->synced) &&
		    (timeout < 0 || timeout > DAEMON_ONCE_POLL_MS))
			timeout = DAEMON_ONCE_POLL_MS;	/* workers finishing */
		n = epoll_wait(d->epfd, ev, DAEMON_EVENTS, (int)timeout);
		if (n == -1 && errno != EINTR) {
			log_warn("epoll_wait");
			return RO_EXIT_ERROR;
		}
		for (i = 0; i < n; i++) {
			int fd = ev[i].data.fd;

			if (fd == d->sigfd) {
				if (on_signal(d))
					return RO_EXIT_OK;
			} else if (fd == d->tickfd) {
				drain_fd(fd);
				ro_gitsrc_trigger(d->git, RO_GITSRC_CHECK);
			} else if (fd == d->resyncfd) {
				drain_fd(fd);
				resync_all(d);
			} else if (fd == d->wakefd) {
				drain_fd(fd);
				if (atomic_exchange(&d->want_resync, false))
					resync_all(d);
			} else if (d->watch != NULL &&
			    fd == ro_watch_fd(d->watch)) {
				if (ro_watch_read(d->watch, ro_now_ms(),
				    &err) < 0)
					log_warnx("watch: %s", err.msg);
			}
		}
		if (d->watch != NULL)
			on_watch(d);
		if (d->cfg->once && atomic_load(&d->synced) &&
		    ro_workq_depth(d->q) == 0 && ro_workq_active(d->q) == 0) {
			if (atomic_load(&d->n_failed) > 0)
				return RO_EXIT_ERROR;
			if (atomic_load(&d->n_partial) > 0 ||
			    atomic_load(&d->n_blocked) > 0)
				return RO_EXIT_CHANGES;
			return RO_EXIT_OK;
		}
	}
}

static void
teardown(struct daemon *d)
{
	struct apispec	*as;

	/* a record held for a full disk is given up (and logged) rather
	 * than the shutdown hung on it */
	if (d->audit_open)
		ro_auditlog_cancel(&d->audit);
	ro_gitsrc_request_stop(d->git);
	ro_dirsrc_request_stop(d->dir);
	pthread_mutex_lock(&d->mu);
	d->quit = true;
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
	if (d->q != NULL)
		ro_workq_stop(d->q);	/* rooms in flight finish */
	ro_gitsrc_free(d->git);
	ro_dirsrc_free(d->dir);
	ro_api_stop(d->api);
	if (d->prober_started)
		pthread_join(d->prober, NULL);
	ro_workq_free(d->q);
	ro_watch_free(d->watch);
	ro_rooms_free(d->rooms);
	while ((as = d->apispecs) != NULL) {
		d->apispecs = as->next;
		ro_spec_free(as->spec);
		free(as);
	}
	if (d->audit_open)
		ro_auditlog_close(&d->audit);
	ro_metrics_release(&d->metrics);
	ro_cli_secret_free(d->token);
	ro_cli_secret_free(d->api_token);
	ro_cli_secret_free(d->webhook_secret);
	if (d->epfd >= 0)
		close(d->epfd);
	if (d->sigfd >= 0)
		close(d->sigfd);
	if (d->wakefd >= 0)
		close(d->wakefd);
	if (d->tickfd >= 0)
		close(d->tickfd);
	if (d->resyncfd >= 0)
		close(d->resyncfd);
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mu);
	while (d->nretired > 0)
		ro_config_free(d->retired[--d->nretired]);
	free(d->retired);
	ro_config_free(d->cfg);
}

int
ro_daemon_run(struct ro_config *cfg)
{
	struct daemon	d;
	struct ro_err	err = RO_ERR_INIT;
	int		rc;

	/* few malloc arenas: per-thread arenas keep freed memory (RSS) */
	mallopt(M_ARENA_MAX, DAEMON_ARENAS);
	memset(&d, 0, sizeof(d));
	d.cfg = cfg;
	d.epfd = d.sigfd = d.wakefd = d.tickfd = d.resyncfd = -1;
	pthread_mutex_init(&d.mu, NULL);
	pthread_cond_init(&d.cv, NULL);
	ro_metrics_init(&d.metrics);
	if (setup(&d, &err) < 0) {
		log_errorx("%s", err.msg);
		rc = RO_EXIT_ERROR;
	} else
		rc = loop(&d);
	teardown(&d);
	return rc;
}
