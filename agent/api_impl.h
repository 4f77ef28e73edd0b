/*
 * api_impl.h: what the files of the agent's HTTP API share: the server
 * (struct ro_api), one request (struct req), the route table's entry,
 * and the helpers each file offers the others. Internal to api.c (the
 * request life cycle, routing, start and stop), apireply.c (answers),
 * apiroutes.c (the endpoints), apihook.c (webhooks) and apisse.c
 * (/events).
 *
 * Locks: api->mu guards the apply hand-over (req->answered, status,
 * result, api->inflight, api->closing); api->sse_mu the subscribers and
 * their queues; api->rate_mu the webhook token buckets; api->log_mu the
 * rate limit of client-caused log lines. None is held while calling the
 * core, and MHD_suspend/resume_connection (which take MHD's own lock)
 * are the only calls made under them.
 */
#ifndef RO_API_IMPL_H
#define RO_API_IMPL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <microhttpd.h>
#include <openssl/sha.h>

#include "roomops/buf.h"
#include "roomops/diag.h"
#include "roomops/err.h"
#include "api.h"
#include "hook.h"
#include "metrics.h"

#define API_THREADS_DEFAULT	4
#define API_CONN_MAX		512	/* connections at once */
#define API_CONN_TIMEOUT_S	60	/* idle keep-alive connections */
#define API_SMALL_MAX		(64u << 10)	/* bytes: body of endpoints
						   that take none */
#define API_DRAIN_MAX		(64u << 20)	/* bytes of a refused body read
						   and dropped before closing */
#define API_SEG_MAX		4	/* path segments */
#define API_METRICS_MAX		(16u << 20)	/* bytes */
#define API_AUDIT_DEFAULT	100
#define API_AUDIT_MAX		10000
#define API_CID_MAX		128	/* bytes of a correlationId */
#define API_REV_MAX		128	/* bytes of a revision */
#define API_STOP_WARN_S		10	/* seconds between "still waiting" */
#define API_STOP_DRAIN_S	5	/* seconds for answers to go out */
#define API_SSE_BLOCK		(16u << 10)	/* bytes per MHD read */
#define API_LOG_PER_S		5	/* client-caused log lines */

#define RF_POST		0x1u	/* else GET (and HEAD) */
#define RF_AUTH		0x2u	/* mutating: API token when configured */
#define RF_ROOM		0x4u	/* the parameter is a roomId */
#define RF_BODY		0x8u	/* keeps its body (up to body_max) */
#define RF_HOOK		0x10u	/* a webhook: secret, metrics */
#define RF_READ		0x20u	/* read: read token (or the API token)
				   when a read token is configured */
#define API_TLS_RELOADS_MAX	16	/* certificate reloads per run */

struct req;
typedef enum MHD_Result ro_api_route_fn(struct req *);

struct route {
	const char	*seg[API_SEG_MAX];	/* "*": the parameter */
	unsigned	 flags;
	size_t		 body_max;		/* bytes, with RF_BODY */
	ro_api_route_fn	*fn;
};

struct sub {
	struct ro_api		*api;
	struct MHD_Connection	*conn;
	struct ro_buf		 q;	/* pending bytes from qoff */
	size_t			 qoff;
	bool			 suspended;	/* by us, not yet resumed */
	bool			 dropped;	/* too slow: close it */
};

struct bucket {
	double		tokens;
	struct timespec	last;
};

struct ro_api {
	struct MHD_Daemon	*mhd;
	struct ro_api_ops	 ops;
	struct ro_metrics	*metrics;
	unsigned		 port;
	bool			 have_token, have_secret;
	unsigned char		 token_sha[SHA256_DIGEST_LENGTH];
	bool			 have_read;
	unsigned char		 read_sha[SHA256_DIGEST_LENGTH];
	/* TLS: the daemon before each certificate reload keeps serving
	 * its connections until ro_api_stop(); the PEM texts live as
	 * long as the daemons (loop thread) */
	unsigned		 mhd_flags;
	unsigned		 threads;
	struct MHD_Daemon	*retired[API_TLS_RELOADS_MAX];
	size_t			 nretired;
	char			*pem[2 * (API_TLS_RELOADS_MAX + 1)];
	size_t			 npem;
	struct ro_hook_key	 hook_key;	/* borrows secret */
	char			*secret;
	size_t			 secret_len;

	pthread_mutex_t		 log_mu;
	bool			 started;	/* MHD messages: start_err */
	char			 start_err[256];	/* until then */
	time_t			 log_sec;	/* rate limit of noisy lines */
	unsigned		 log_lines, log_dropped;

	pthread_mutex_t		 mu;
	pthread_cond_t		 idle;		/* inflight or active fell */
	unsigned		 inflight;	/* applies handed to the core */
	unsigned		 active;	/* requests not completed */
	bool			 closing;

	pthread_mutex_t		 sse_mu;
	pthread_cond_t		 sse_tick;
	bool			 sse_closing;
	struct sub		*subs[RO_API_SSE_MAX];
	size_t			 nsubs;
	pthread_t		 ticker;
	bool			 ticker_started;

	pthread_mutex_t		 rate_mu;
	struct bucket		 rate[RO_METRICS_HOOK_SOURCE_MAX];

	char			*ui_commit_url;	/* or NULL */
};

struct req {
	struct ro_api		*api;
	struct MHD_Connection	*conn;
	const struct route	*route;
	char			*seg[API_SEG_MAX];	/* decoded */
	size_t			 nseg;
	const char		*param;		/* seg of the "*" */
	int			 hook;		/* source index, or -1 */
	struct ro_buf		 body;
	size_t			 drained;	/* bytes dropped */
	/* decided before the body: answered once it is read */
	unsigned		 fail_status;
	cJSON			*fail_doc;
	const char		*allow;		/* for 405 */
	/* the apply hand-over, under api->mu */
	bool			 queued;
	bool			 answered;
	int			 status;
	cJSON			*result;
};

/* api.c: reading a request */
/* Up to 64 bytes of s for a message, other than printable ASCII as '?'. */
const char	*ro_api_shown(char *buf, size_t len, const char *s);
const char	*ro_api_header(struct req *r, const char *name);
bool		 ro_api_header_true(struct req *r, const char *name);
/* Query argument, percent-decoded; *out NULL when absent. RO_EINVALID on
 * a bad escape, RO_ENOMEM. */
int		 ro_api_query(struct req *r, const char *name, char **out);
/* May a client-caused line be logged now? note: "(N similar lines left
 * out)" or "". */
bool		 ro_api_log_allowed(struct ro_api *api, char *note, size_t len);

/* apireply.c: answers */
unsigned	 ro_apireply_status_of(int error);	/* RO_* -> HTTP */
enum MHD_Result	 ro_apireply_queue(struct req *r, unsigned status,
		    struct MHD_Response *resp);	/* resp taken */
enum MHD_Result	 ro_apireply_oom(struct req *r);
/* Answer doc (taken; NULL means it could not be built: 503). */
enum MHD_Result	 ro_apireply_json_h(struct req *r, unsigned status,
		    cJSON *doc, const char *hname, const char *hvalue);
enum MHD_Result	 ro_apireply_json(struct req *r, unsigned status, cJSON *doc);
/* {"error": msg}; 429 and 503 carry Retry-After. */
enum MHD_Result	 ro_apireply_error(struct req *r, unsigned status,
		    const char *fmt, ...) RO_PRINTF(3, 4);
/* Decide the answer now, send it once the body is read (first wins). */
void		 ro_apireply_fail(struct req *r, unsigned status,
		    const char *fmt, ...) RO_PRINTF(3, 4);
/* {"errors": [...], "warnings": [...]}: errors from diag, or msg. */
cJSON		*ro_apireply_errors_doc(const struct ro_diag *diag,
		    const char *msg);
/* 400 {"errors": [msg], "warnings": []} */
enum MHD_Result	 ro_apireply_bad_apply(struct req *r,
		    const struct ro_diag *diag, const char *fmt, ...)
		    RO_PRINTF(3, 4);
enum MHD_Result	 ro_apireply_core_error(struct req *r, int error,
		    const struct ro_err *err);
/* 501: the core has no such operation. */
enum MHD_Result	 ro_apireply_no_op(struct req *r, const char *what);

/* apiroutes.c: the endpoints */
enum MHD_Result	 ro_apiroutes_apply(struct req *r);
enum MHD_Result	 ro_apiroutes_applied(struct req *r);	/* core answered */
enum MHD_Result	 ro_apiroutes_status(struct req *r);
enum MHD_Result	 ro_apiroutes_room_status(struct req *r);
enum MHD_Result	 ro_apiroutes_health(struct req *r);
enum MHD_Result	 ro_apiroutes_ready(struct req *r);
enum MHD_Result	 ro_apiroutes_metrics(struct req *r);
enum MHD_Result	 ro_apiroutes_audit(struct req *r);
enum MHD_Result	 ro_apiroutes_reconcile(struct req *r);
enum MHD_Result	 ro_apiroutes_suspend(struct req *r);
enum MHD_Result	 ro_apiroutes_confirm(struct req *r);
/* ro_api_done of a request suspended for the core (resumes it). */
void		 ro_apiroutes_done(void *arg, int status, cJSON *body);
/* Hand spec (taken) to the core's apply and suspend until it answers
 * (POST /apply). */
enum MHD_Result	 ro_apiroutes_apply_queue(struct req *r, struct ro_spec *spec,
		    bool dry_run, bool confirm);

/* apidash.c: the dashboard (docs/dashboard.md) */
enum MHD_Result	 ro_apidash_ui(struct req *r);		/* GET /ui[/file] */
enum MHD_Result	 ro_apidash_rooms(struct req *r);	/* GET /status/rooms */
enum MHD_Result	 ro_apidash_spec(struct req *r);	/* GET /rooms/{id}/spec */
enum MHD_Result	 ro_apidash_plan(struct req *r);	/* GET /plan/{id} */

/* apihook.c: webhooks */
/* Index of a webhook source name in RO_METRICS_HOOK_SOURCES, or -1. */
int		 ro_apihook_index(const char *source);
void		 ro_apihook_count(struct req *r,
		    enum ro_metrics_hook_result res);
enum MHD_Result	 ro_apihook_receive(struct req *r);

/* apisse.c: /events */
enum MHD_Result	 ro_apisse_events(struct req *r);
void		 ro_apisse_publish(struct ro_api *api, const char *line,
		    size_t len);
/* With "event: type" first (type NULL: none, as ro_apisse_publish). */
void		 ro_apisse_publish_event(struct ro_api *api, const char *type,
		    const char *line, size_t len);
/* The ping ticker thread. */
int		 ro_apisse_start(struct ro_api *api, struct ro_err *err);
/* End every stream (none parks again) and join the ticker. */
void		 ro_apisse_stop(struct ro_api *api);

#endif
