/*
 * notify.h: commit statuses on the Git host (docs/notify.md). The Git
 * source says when a commit is queued (pending) and hands over its audit
 * records once every room has one (final); this module sums them up and
 * delivers one status per commit and provider, in order, from its own
 * thread, so that delivery never slows or blocks a reconcile:
 *
 * - a bounded queue (RO_NOTIFY_QUEUE_MAX): when full the oldest waiting
 *   status is dropped and counted (roomops_notify_total{result=
 *   "dropped"});
 * - one libcurl handle on the notify thread; transport errors, 429 and
 *   5xx are retried with exponential backoff (with jitter) and the
 *   host's Retry-After (bounded), up to RO_NOTIFY_ATTEMPTS; any other
 *   4xx is not retried and is logged once per provider and status code,
 *   with the host's reason; tokens are never logged;
 * - the newest final status is kept in STATE_DIR/notify.json with
 *   "delivered": false until every provider settled it (2xx or a 4xx
 *   that a retry cannot fix); at start an unconfirmed one is sent again.
 *
 * Context: "roomops", or "roomops/shard-I-of-N" when sharded (N > 1).
 * Target URL template: {sha}, {shard} ("I-of-N") and {room} (the first
 * failing room, else the first room) are replaced.
 *
 * Thread rules: ro_notify_pending/final may be called from any thread
 * (they only queue); start and free from one thread. Every function
 * accepts a NULL struct ro_notify * as "notifications off".
 */
#ifndef RO_NOTIFY_H
#define RO_NOTIFY_H

#include <stddef.h>

#include "roomops/err.h"
#include "roomops/shard.h"
#include "metrics.h"
#include "notify_host.h"

#define RO_NOTIFY_QUEUE_MAX	256	/* statuses waiting */
#define RO_NOTIFY_ATTEMPTS	10	/* per status and provider */
#define RO_NOTIFY_BACKOFF_MS	500	/* first retry delay */
#define RO_NOTIFY_BACKOFF_MAX_MS 30000	/* longest backoff delay */
#define RO_NOTIFY_RETRY_AFTER_MAX_MS 300000	/* longest Retry-After */
#define RO_NOTIFY_TIMEOUT_MS	10000	/* one request */
#define RO_NOTIFY_DRAIN_MS	3000	/* at stop: time to empty the queue */
#define RO_NOTIFY_FILE		"notify.json"	/* in the state dir */

struct ro_notify_opts {
	const char		*providers;	/* "github,webhook" */
	const char		*token_files;	/* "[P=]FILE,..." */
	const char		*urls;		/* "[P=]URL,..." */
	const char		*repo;		/* --notify-repo or NULL */
	const char		*remote;	/* --repo, to derive from */
	const char		*target_url;	/* template or NULL */
	struct ro_shard		 shard;
	const char		*state_dir;
	struct ro_metrics	*metrics;	/* may be NULL */
	unsigned		 queue_max;	/* 0: RO_NOTIFY_QUEUE_MAX */
	long			 backoff_ms;	/* 0: RO_NOTIFY_BACKOFF_MS */
};

struct ro_notify;

/*
 * Check the options, read the token files, load STATE_DIR/notify.json
 * (an unconfirmed final status is queued again) and start the thread.
 * providers NULL or "": *out = NULL and RO_OK (off).
 * @return RO_OK, RO_EINVALID (unknown provider, missing token or URL,
 *         repository not derivable), RO_ENOTFOUND / RO_EIO (token file),
 *         RO_ENOMEM, RO_ERROR (thread)
 */
int	ro_notify_start(struct ro_notify **out, const struct ro_notify_opts *o,
	    struct ro_err *err);

/* Queue "pending" for sha. */
void	ro_notify_pending(struct ro_notify *n, const char *sha);
/* Queue the final status of sha from its audit records (JSON lines of
 * every shard: only this shard's are summed). */
void	ro_notify_final(struct ro_notify *n, const char *sha,
	    const char *const *lines, size_t nlines);

/* Stop the thread and free: what is queued may still be delivered for
 * RO_NOTIFY_DRAIN_MS (retries included), then a request in flight is
 * abandoned; the marker file keeps an unconfirmed final status for the
 * next start. */
void	ro_notify_free(struct ro_notify *n);

#endif
