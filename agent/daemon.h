/*
 * daemon.h: `roomops agent`: one epoll loop that owns signals (signalfd),
 * timers (timerfd: poll interval, resync), the inotify watcher and
 * wake-ups; the Git source, the folder source, the reconcile workers, the
 * HTTP API and the RoomServer prober run on their own threads, so the
 * loop never blocks on I/O.
 *
 * SIGTERM/SIGINT drain: sources stop taking new work, rooms in flight
 * finish and write their audit, then the process exits 0. SIGHUP reloads
 * the configuration (live options applied; others logged as needing a
 * restart).
 */
#ifndef RO_DAEMON_H
#define RO_DAEMON_H

#include "config.h"

/* Run until a signal (or, with --once, until everything pending is done).
 * cfg is owned by the daemon (freed, or replaced on reload).
 * @return the process exit code (0; with --once as `roomops apply`) */
int	ro_daemon_run(struct ro_config *cfg);

#endif
