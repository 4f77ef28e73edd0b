/*
 * api.h: the agent's HTTP API (agent.md "HTTP API") on libmicrohttpd.
 *
 * The API layer parses, authenticates, limits and answers; the daemon
 * core does the work through struct ro_api_ops. Long work (POST /apply)
 * never blocks an HTTP thread: the connection is suspended, the core
 * queues the job, and calls the done callback from a worker thread; the
 * API then resumes the connection and answers.
 *
 * Thread rules: libmicrohttpd runs its own threads; every ops callback
 * may be called from any of them concurrently and must not block (apart
 * from taking short locks). ro_api_publish() may be called from any
 * thread.
 */
#ifndef RO_API_H
#define RO_API_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "roomops/audit.h"
#include "roomops/buf.h"
#include "roomops/err.h"
#include "roomops/model.h"

#define RO_API_BODY_MAX		(1u << 20)	/* bytes, webhooks */
#define RO_API_APPLY_MAX	(16u << 20)	/* bytes, POST /apply */
#define RO_API_SSE_PING_S	10		/* seconds */
#define RO_API_HOOK_RATE	10		/* webhooks per second per source */
#define RO_API_SSE_MAX		32		/* /events subscribers at once */
#define RO_API_SSE_QUEUE_MAX	(512u << 10)	/* bytes queued per subscriber;
						   beyond, it is dropped */
#define RO_API_SSE_RECORD_MAX	(128u << 10)	/* bytes; larger records are
						   not published */

/*
 * Completion of a queued apply: status is the HTTP status to answer
 * (200, or 400/503), body the JSON document (ownership moves to the API).
 */
typedef void ro_api_done(void *done_arg, int status, cJSON *body);

/*
 * The answer of ops->room_spec: error RO_OK with doc or spec (ownership
 * moves to the callee), or a status and msg.
 */
typedef void ro_api_spec_cb(void *cb_arg, int error, const char *msg,
	    cJSON *doc, struct ro_spec *spec);

struct ro_api_ops {
	void	*arg;
	/*
	 * POST /apply: spec (ownership moves to the core, even on error) was
	 * parsed and validated by the API. Returns RO_OK when queued (done
	 * will be called exactly once), or an error (done is not called).
	 */
	int	(*apply)(void *arg, struct ro_spec *spec, bool dry_run,
		    bool confirm, ro_api_done *done, void *done_arg,
		    struct ro_err *err);
	/* GET /status: the whole document. NULL on ENOMEM. */
	cJSON	*(*status)(void *arg);
	/* GET /status/rooms/{id}: NULL when the room is unknown. */
	cJSON	*(*room_status)(void *arg, const char *room_id);
	/* GET /ready */
	bool	(*ready)(void *arg);
	/* GET /metrics: append Prometheus text. */
	int	(*metrics)(void *arg, struct ro_buf *out);
	/* GET /audit: add the records q asks for (oldest first) to
	 * entries. RO_EINVALID: an ambiguous short revision. */
	int	(*audit)(void *arg, const struct ro_audit_query *q,
		    cJSON *entries, struct ro_err *err);
	/* POST /reconcile[/{id}]: room NULL = all. RO_ENOTFOUND: unknown. */
	int	(*reconcile)(void *arg, const char *room_id, struct ro_err *err);
	/* POST /rooms/{id}/suspend|resume */
	int	(*suspend)(void *arg, const char *room_id, bool suspend,
		    struct ro_err *err);
	/* POST /rooms/{id}/confirm?revision=REV */
	int	(*confirm)(void *arg, const char *room_id, const char *rev,
		    struct ro_err *err);
	/* A valid push webhook from source ("github", ...): fetch now. */
	int	(*hook)(void *arg, const char *source, const char *ref,
		    struct ro_err *err);
	/*
	 * The dashboard (docs/dashboard.md), all read-only:
	 * GET /status/rooms?offset=&limit=&status=&q=: a page of rooms with
	 * counts by status (status, q: NULL for any). NULL on ENOMEM.
	 */
	cJSON	*(*rooms_page)(void *arg, size_t offset, size_t limit,
		    const char *status, const char *q);
	/*
	 * GET /rooms/{id}/spec (parse false): doc {"roomId", "file",
	 * "revision", "text", "truncated", "errors"}; GET /plan/{id} (parse
	 * true): the spec as its source has it now, parsed, validated and
	 * with its seeds, for a dry run. The source may answer later (Git:
	 * on its thread between passes): on RO_OK, cb is called exactly once,
	 * from any thread, maybe before this returns; else not at all.
	 * RO_ENOTFOUND: unknown room or no file; RO_EINVALID: invalid spec
	 * (the message names file:line).
	 */
	int	(*room_spec)(void *arg, const char *room_id, bool parse,
		    ro_api_spec_cb *cb, void *cb_arg, struct ro_err *err);
};

struct ro_metrics;

/*
 * api_token and webhook_secret are copied; "" is refused (RO_EINVALID).
 * Without a webhook secret every /hooks/ endpoint answers 404.
 */
struct ro_api_opts {
	const char	*host;		/* the listen address as
					   ro_optval_listen() gave it: IPv4,
					   localhost or IPv6 (no brackets) */
	unsigned	 port;		/* 0 picks one */
	const char	*api_token;	/* bearer for mutating calls, or NULL */
	const char	*webhook_secret;	/* HMAC key / token, or NULL */
	const char	*api_read_token;	/* bearer for /status, /audit,
					   /events (the API token works
					   too), or NULL: open */
	const char	*tls_cert;	/* PEM text (apitls.h), or NULL: plain
					   HTTP; copied */
	const char	*tls_key;	/* its PEM key; copied */
	unsigned	 threads;	/* HTTP threads (0: 4) */
	struct ro_metrics *metrics;	/* counts roomops_webhooks_total, or
					   NULL; must outlive the API */
	const char	*ui_commit_url;	/* dashboard commit links ("{sha}"),
					   or NULL; copied */
};

struct ro_api;

/*
 * Start serving (ops is copied; ops->arg must outlive the API). The
 * chosen port is available from ro_api_port().
 * @return RO_OK, RO_EINVALID (listen address, empty token or secret),
 *         RO_EIO (cannot listen: err names the address), RO_ENOMEM
 */
int	ro_api_start(struct ro_api **out, const struct ro_api_opts *opts,
	    const struct ro_api_ops *ops, struct ro_err *err);
/* The bound port (0 for NULL). */
unsigned ro_api_port(const struct ro_api *api);
/*
 * A new certificate and key (PEM, checked by ro_apitls_load()) for new
 * connections: libmicrohttpd cannot swap them in a running daemon, so a
 * new one takes over the listening socket and the old one only finishes
 * its connections (stopped by ro_api_stop()). Loop thread only.
 * @return RO_OK, RO_EINVALID (not serving TLS), RO_ETOOBIG (too many
 *         reloads: restart), RO_EIO, RO_ENOMEM
 */
int	ro_api_reload_tls(struct ro_api *api, const char *cert, const char *key,
	    struct ro_err *err);
/*
 * Send one audit record (a JSON line) to every /events subscriber.
 * Never blocks on a subscriber: one whose queue would pass
 * RO_API_SSE_QUEUE_MAX is disconnected. Not after ro_api_stop().
 */
void	ro_api_publish(struct ro_api *api, const char *line, size_t len);
/*
 * The same for an event of another type ("event: TYPE" on the stream,
 * e.g. the dashboard's "room" events); type is [a-z]+. Not after
 * ro_api_stop().
 */
void	ro_api_publish_event(struct ro_api *api, const char *type,
	    const char *line, size_t len);
/*
 * Stop accepting, end /events streams, wait for the done callback of
 * every apply handed to the core (it must come), let answers go out
 * (at most 5 s), free. NULL is a no-op. Not from an ops callback.
 */
void	ro_api_stop(struct ro_api *api);

#endif
