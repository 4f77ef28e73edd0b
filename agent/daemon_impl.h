/*
 * daemon_impl.h: the daemon's state, shared by the loop (daemon.c) and
 * the API operations (daemonops.c). Internal to those two files.
 *
 * Thread rules: the loop thread owns the struct; API threads read the
 * fields marked as fixed at start, the atomics, and what is under mu.
 */
#ifndef RO_DAEMON_IMPL_H
#define RO_DAEMON_IMPL_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "roomops/audit.h"
#include "roomops/client.h"
#include "roomops/shard.h"
#include "api.h"
#include "config.h"
#include "metrics.h"

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
	struct ro_notify	*notify;	/* commit statuses or NULL */
	struct ro_sigverify	*verify;	/* --verify-signatures; NULL:
						   off */
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
	char			*api_read_token;	/* or NULL */
	char			*tls_cert, *tls_key;	/* PEM served, or
							   NULL: plain HTTP */
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

/* daemon.c */
void	ro_daemon_wake(struct daemon *d);	/* any thread */
bool	ro_daemon_server_ok(struct daemon *d);	/* answered recently */
bool	ro_daemon_ready(struct daemon *d);	/* GET /ready */

/* daemonops.c */
/* Fill ops with the daemon's operations (ops->arg = d). */
void	ro_daemonops_init(struct ro_api_ops *ops, struct daemon *d);
/* Ask every source (and the specs POSTed to /apply) for a reconcile. */
void	ro_daemonops_resync_all(struct daemon *d);

/* daemonui.c: the dashboard (docs/dashboard.md) */
/* Add the dashboard's operations to ops (ops->arg must be the daemon). */
void	ro_daemonui_init(struct ro_api_ops *ops);
/* ro_rooms_notify_fn: a "room" event on /events (arg: the daemon). */
void	ro_daemonui_room_changed(void *arg, const char *room_id);

#endif
