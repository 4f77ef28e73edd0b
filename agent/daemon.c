/*
 * daemon.c: the agent's event loop: set-up, signals, timers, the inotify
 * watch, SIGHUP reload, shutdown. The core behind the HTTP API is in
 * daemonops.c.
 */
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
#include "daemon_impl.h"
#include "dirsrc.h"
#include "apitls.h"
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
#define DAEMON_RETRY_MAX_MS	300000	/* longest pause between two
					   "RoomServer is back" resyncs */
#define DAEMON_AUDIT_RETRY_MS	1000	/* a held audit record is tried
					   again this often (disk full) */

/* --- readiness, --once, metrics ----------------------------------- */

void
ro_daemon_wake(struct daemon *d)
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
	ro_daemon_wake(d);
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
			ro_daemon_wake(d);
		}
		pthread_mutex_lock(&d->mu);
		ro_now_deadline(&ts, DAEMON_PROBE_MS);
		if (!d->quit)
			pthread_cond_timedwait(&d->cv, &d->mu, &ts);
	}
	pthread_mutex_unlock(&d->mu);
	ro_client_free(c);
	return NULL;
}

bool
ro_daemon_server_ok(struct daemon *d)
{
	long long	t = atomic_load(&d->server_ok_ms);

	return t != 0 && ro_now_ms() - t < DAEMON_READY_WINDOW_MS;
}

/* The first sync is done (a Git source: one pass got through, not only
 * tried) and the RoomServer answered recently. */
bool
ro_daemon_ready(struct daemon *d)
{
	return atomic_load(&d->synced) && ro_daemon_server_ok(d) &&
	    (d->git == NULL || ro_gitsrc_synced(d->git));
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

/* SIGHUP: the API certificate and key files again (their paths are
 * fixed at start); served to new connections when they changed. */
static void
reload_tls(struct daemon *d)
{
	struct ro_err	 err = RO_ERR_INIT;
	char		*cert = NULL, *key = NULL;

	if (d->tls_cert == NULL)
		return;
	if (ro_apitls_load(d->cfg->tls_cert, d->cfg->tls_key, &cert, &key,
	    &err) < 0)
		log_warnx("TLS certificate not reloaded, the one loaded before "
		    "is still served: %s", err.msg);
	else if (strcmp(cert, d->tls_cert) == 0 && strcmp(key,
	    d->tls_key) == 0)
		log_debug("TLS certificate and key unchanged");
	else if (ro_api_reload_tls(d->api, cert, key, &err) < 0)
		log_warnx("TLS certificate not reloaded: %s", err.msg);
	else {
		log_info("TLS certificate reloaded from %s", d->cfg->tls_cert);
		free(d->tls_cert);
		ro_apitls_free_key(d->tls_key);
		d->tls_cert = cert;
		d->tls_key = key;
		cert = key = NULL;
	}
	free(cert);
	ro_apitls_free_key(key);
}

/* --verify-signatures: the trusted keys are read now (a bad path or key
 * file is a start-up error); commits only come from Git. */
static int
sign_setup(struct daemon *d, struct ro_err *err)
{
	const struct ro_config	*cfg = d->cfg;
	struct ro_sigverify_opts so;

	memset(&so, 0, sizeof(so));
	if (ro_sigverify_parse_mode(cfg->verify_signatures, &so.mode) < 0 ||
	    so.mode == RO_SIGVERIFY_OFF)
		return RO_OK;
	if (!d->want_git || (cfg->repo == NULL && !ro_watch_is_git_worktree(
	    cfg->watch)))
		return ro_err_set(err, RO_EINVALID, "verify-signatures needs "
		    "a Git source (--repo)");
	if (cfg->apply_worktree)
		return ro_err_set(err, RO_EINVALID, "apply-worktree applies "
		    "uncommitted (unsigned) edits: not with verify-signatures");
	so.trusted_keys = cfg->trusted_keys;
	so.state_dir = cfg->state_dir;
	return ro_sigverify_new(&d->verify, &so, err);
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
	    (error = ro_file_mkdirs_parent(cfg->audit_log, 0750,
	    err)) < 0 ||
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
	ro_rooms_set_notify(d->rooms, ro_daemonui_room_changed, d);
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

	ro_daemonops_init(&ops, d);
	memset(&ao, 0, sizeof(ao));
	ao.host = cfg->listen_host;
	ao.port = cfg->listen_port;
	ao.api_token = d->api_token;
	ao.webhook_secret = d->webhook_secret;
	ao.metrics = &d->metrics;
	ao.ui_commit_url = cfg->ui_commit_url;
	if ((error = ro_cli_secret(cfg->api_read_token_file, NULL,
	    &d->api_read_token, err)) < 0)
		return error;
	ao.api_read_token = d->api_read_token;
	if (cfg->tls_cert != NULL && (error = ro_apitls_load(cfg->tls_cert,
	    cfg->tls_key, &d->tls_cert, &d->tls_key, err)) < 0)
		return error;
	ao.tls_cert = d->tls_cert;
	ao.tls_key = d->tls_key;
	if ((error = ro_api_start(&d->api, &ao, &ops, err)) < 0)
		return error;
	log_info("API on %s://%s:%u (metrics at /metrics)",
	    d->tls_cert != NULL ? "https" : "http", cfg->listen_host,
	    ro_api_port(d->api));
	printf("roomops agent: API on %s://%s:%u, metrics at "
	    "%s://%s:%u/metrics, audit log %s\n",
	    d->tls_cert != NULL ? "https" : "http", cfg->listen_host,
	    ro_api_port(d->api), d->tls_cert != NULL ? "https" : "http",
	    cfg->listen_host, ro_api_port(d->api), cfg->audit_log);
	fflush(stdout);

	if (pthread_create(&d->prober, NULL, probe, d) == 0)
		d->prober_started = true;

	/* sources */
	d->want_dir = cfg->watch != NULL;
	d->want_git = cfg->repo != NULL || (cfg->watch != NULL &&
	    ro_watch_is_git_worktree(cfg->watch));
	if (!d->want_git && !d->want_dir)
		atomic_store(&d->synced, true);	/* API only */

	if (cfg->notify != NULL && !d->want_git)
		return ro_err_set(err, RO_EINVALID, "--notify: commit statuses "
		    "need a Git source (--repo)");
	if ((error = sign_setup(d, err)) < 0)
		return error;
	if (d->want_git) {
		struct ro_gitsrc_opts go;
		struct ro_notify_opts no;

		memset(&no, 0, sizeof(no));
		no.providers = cfg->notify;
		no.token_files = cfg->notify_token_file;
		no.urls = cfg->notify_url;
		no.repo = cfg->notify_repo;
		no.remote = cfg->repo != NULL ? cfg->repo : cfg->watch;
		no.target_url = cfg->notify_target_url;
		no.shard = cfg->shard;
		no.state_dir = cfg->state_dir;
		no.metrics = &d->metrics;
		if ((error = ro_notify_start(&d->notify, &no, err)) < 0)
			return error;

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
		go.notify = d->notify;
		go.verify = d->verify;
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
	reload_tls(d);
	if (d->verify != NULL) {
		/* trusted keys (rotation): read again before the next check,
		 * and look at the pending commits with them at once */
		ro_sigverify_reload(d->verify);
		if (d->git != NULL)
			ro_gitsrc_trigger(d->git, RO_GITSRC_CHECK);
	}
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
				ro_daemonops_resync_all(d);
			} else if (fd == d->wakefd) {
				drain_fd(fd);
				if (atomic_exchange(&d->want_resync, false))
					ro_daemonops_resync_all(d);
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
	/* (d->verify is freed after the Git thread, its only user) */
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
	ro_notify_free(d->notify);	/* after its only producer */
	ro_sigverify_free(d->verify);
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
	ro_cli_secret_free(d->api_read_token);
	free(d->tls_cert);
	ro_apitls_free_key(d->tls_key);
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
