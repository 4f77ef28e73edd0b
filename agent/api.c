/*
 * api.c: the agent's HTTP API (agent.md "HTTP API") on libmicrohttpd.
 *
 * libmicrohttpd runs an internal epoll thread pool. Every request gets a
 * struct req (MHD's con_cls): the route is resolved and the caller
 * authenticated on the first call, the body is collected (or drained and
 * dropped) on the next ones, and the route's handler answers once it is
 * complete. A handler either queues a response or suspends the
 * connection: POST /apply hands the spec to the core and is resumed by
 * the done callback (any thread); /events subscribers are suspended while
 * their queue is empty and resumed by ro_api_publish() or the ping
 * ticker.
 *
 * Locks: api->mu guards the apply hand-over (req->answered, status,
 * result, api->inflight, api->closing); api->sse_mu the subscribers and
 * their queues; api->rate_mu the webhook token buckets. None is held
 * while calling the core, and MHD_suspend/resume_connection (which take
 * MHD's own lock) are the only calls made under them.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "roomops/audit.h"
#include "roomops/diag.h"
#include "roomops/log.h"
#include "roomops/spec.h"
#include "api.h"
#include "applybody.h"
#include "hook.h"
#include "metrics.h"

#include "../common/banned.h"

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

struct req;
typedef enum MHD_Result route_fn(struct req *);

struct route {
	const char	*seg[API_SEG_MAX];	/* "*": the parameter */
	unsigned	 flags;
	size_t		 body_max;		/* bytes, with RF_BODY */
	route_fn	*fn;
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

static enum MHD_Result	do_apply(struct req *);
static enum MHD_Result	do_status(struct req *);
static enum MHD_Result	do_room_status(struct req *);
static enum MHD_Result	do_health(struct req *);
static enum MHD_Result	do_ready(struct req *);
static enum MHD_Result	do_metrics(struct req *);
static enum MHD_Result	do_audit(struct req *);
static enum MHD_Result	do_events(struct req *);
static enum MHD_Result	do_reconcile(struct req *);
static enum MHD_Result	do_suspend(struct req *);
static enum MHD_Result	do_confirm(struct req *);
static enum MHD_Result	do_hook(struct req *);

static const struct route routes[] = {
	{ .seg = { "apply" }, .flags = RF_POST | RF_AUTH | RF_BODY,
	    .body_max = RO_API_APPLY_MAX, .fn = do_apply },
	{ .seg = { "status" }, .fn = do_status },
	{ .seg = { "status", "rooms", "*" }, .flags = RF_ROOM,
	    .fn = do_room_status },
	{ .seg = { "health" }, .fn = do_health },
	{ .seg = { "ready" }, .fn = do_ready },
	{ .seg = { "metrics" }, .fn = do_metrics },
	{ .seg = { "audit" }, .fn = do_audit },
	{ .seg = { "events" }, .fn = do_events },
	{ .seg = { "reconcile" }, .flags = RF_POST | RF_AUTH,
	    .fn = do_reconcile },
	{ .seg = { "reconcile", "*" }, .flags = RF_POST | RF_AUTH | RF_ROOM,
	    .fn = do_reconcile },
	{ .seg = { "rooms", "*", "suspend" },
	    .flags = RF_POST | RF_AUTH | RF_ROOM, .fn = do_suspend },
	{ .seg = { "rooms", "*", "resume" },
	    .flags = RF_POST | RF_AUTH | RF_ROOM, .fn = do_suspend },
	{ .seg = { "rooms", "*", "confirm" },
	    .flags = RF_POST | RF_AUTH | RF_ROOM, .fn = do_confirm },
	{ .seg = { "hooks", "*" }, .flags = RF_POST | RF_BODY | RF_HOOK,
	    .body_max = RO_API_BODY_MAX, .fn = do_hook },
};

/* Indexed by enum ro_hook_kind. */
static const char *const hook_sources[RO_METRICS_HOOK_SOURCE_MAX] =
    RO_METRICS_HOOK_SOURCES;
_Static_assert(RO_METRICS_HOOK_SOURCE_MAX == RO_HOOK_GENERIC + 1,
    "enum ro_hook_kind follows RO_METRICS_HOOK_SOURCES");

/* Answer of last resort (the JSON could not be built). */
static char oom_body[] = "{\"error\":\"out of memory\"}";

/* ------------------------------------------------------------------ */
/* small helpers */

/* Up to 64 bytes of s for a message, other than printable ASCII as '?'. */
static const char *
shown(char *buf, size_t len, const char *s)
{
	size_t	i;

	for (i = 0; s[i] != '\0' && i + 1 < len && i < 64; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode %XX escapes of s[0..n) into a new string. RO_EINVALID on a bad
 * escape or a NUL byte, RO_ENOMEM. */
static int
pct_decode(char **out, const char *s, size_t n)
{
	char	*d;
	size_t	 i, j = 0;
	int	 hi, lo;

	if ((d = malloc(n + 1)) == NULL)
		return RO_ENOMEM;
	for (i = 0; i < n; i++) {
		if (s[i] != '%') {
			d[j++] = s[i];
			continue;
		}
		if (i + 2 >= n)
			goto bad;
		if ((hi = hexval((unsigned char)s[i + 1])) < 0 ||
		    (lo = hexval((unsigned char)s[i + 2])) < 0 ||
		    (hi == 0 && lo == 0))
			goto bad;
		d[j++] = (char)(hi << 4 | lo);
		i += 2;
	}
	d[j] = '\0';
	*out = d;
	return RO_OK;
bad:
	free(d);
	return RO_EINVALID;
}

static unsigned
status_of(int error)
{
	switch (error) {
	case RO_ENOTFOUND:
		return MHD_HTTP_NOT_FOUND;
	case RO_EINVALID:
		return MHD_HTTP_BAD_REQUEST;
	case RO_ETOOBIG:
		return MHD_HTTP_CONTENT_TOO_LARGE;
	case RO_ECONFLICT:
		return MHD_HTTP_CONFLICT;
	case RO_EAGAIN:
	case RO_ENOMEM:
	case RO_ETIMEOUT:
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	default:
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

static const char *
header(struct req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

/* Is header name exactly "true"? */
static bool
header_true(struct req *r, const char *name)
{
	const char	*v = header(r, name);

	return v != NULL && strcmp(v, "true") == 0;
}

/* Query argument, percent-decoded (MHD already turned '+' into ' ').
 * *out is NULL when absent. RO_EINVALID on a bad escape, RO_ENOMEM. */
static int
query(struct req *r, const char *name, char **out)
{
	const char	*v;

	*out = NULL;
	v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
	if (v == NULL)
		return RO_OK;
	return pct_decode(out, v, strlen(v));
}

/* ------------------------------------------------------------------ */
/* answers */

static enum MHD_Result
queue(struct req *r, unsigned status, struct MHD_Response *resp)
{
	enum MHD_Result	ret;

	if (resp == NULL)
		return MHD_NO;
	ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
reply_oom(struct req *r)
{
	struct MHD_Response	*resp;

	resp = MHD_create_response_from_buffer(strlen(oom_body), oom_body,
	    MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/json");
	return queue(r, MHD_HTTP_SERVICE_UNAVAILABLE, resp);
}

/* Answer doc (taken; NULL means it could not be built: 503). */
static enum MHD_Result
reply_json_h(struct req *r, unsigned status, cJSON *doc, const char *hname,
    const char *hvalue)
{
	struct MHD_Response	*resp;
	char			*s;

	if (doc == NULL)
		return reply_oom(r);
	s = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	if (s == NULL)
		return reply_oom(r);
	resp = MHD_create_response_from_buffer(strlen(s), s,
	    MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(s);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/json");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-store");
	if (hname != NULL)
		MHD_add_response_header(resp, hname, hvalue);
	return queue(r, status, resp);
}

static enum MHD_Result
reply_json(struct req *r, unsigned status, cJSON *doc)
{
	return reply_json_h(r, status, doc, NULL, NULL);
}

static cJSON *
error_doc(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static cJSON *
error_doc(const char *fmt, va_list ap)
{
	cJSON	*doc;
	char	 msg[RO_ERR_MSG_MAX + 128];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if ((doc = cJSON_CreateObject()) == NULL)
		return NULL;
	if (cJSON_AddStringToObject(doc, "error", msg) == NULL) {
		cJSON_Delete(doc);
		return NULL;
	}
	return doc;
}

/* {"error": msg} */
static enum MHD_Result
reply_error(struct req *r, unsigned status, const char *fmt, ...)
    RO_PRINTF(3, 4);

static enum MHD_Result
reply_error(struct req *r, unsigned status, const char *fmt, ...)
{
	va_list	ap;
	cJSON	*doc;

	va_start(ap, fmt);
	doc = error_doc(fmt, ap);
	va_end(ap);
	if (status == MHD_HTTP_TOO_MANY_REQUESTS ||
	    status == MHD_HTTP_SERVICE_UNAVAILABLE)
		return reply_json_h(r, status, doc,
		    MHD_HTTP_HEADER_RETRY_AFTER, "1");
	return reply_json(r, status, doc);
}

/* Decide the answer now, send it once the body is read. */
static void
fail(struct req *r, unsigned status, const char *fmt, ...) RO_PRINTF(3, 4);

static void
fail(struct req *r, unsigned status, const char *fmt, ...)
{
	va_list	ap;

	if (r->fail_status != 0)
		return;			/* the first reason wins */
	va_start(ap, fmt);
	r->fail_doc = error_doc(fmt, ap);
	va_end(ap);
	r->fail_status = status;
	ro_buf_release(&r->body);
}

static int
add_strv(cJSON *arr, const struct ro_strv *sv)
{
	size_t	i;

	for (i = 0; i < sv->n; i++)
		if (!cJSON_AddItemToArray(arr, cJSON_CreateString(sv->v[i])))
			return RO_ENOMEM;
	return RO_OK;
}

/* {"errors": [...], "warnings": [...]}: errors from diag, or msg when
 * it has none. */
static cJSON *
errors_doc(const struct ro_diag *diag, const char *msg)
{
	cJSON	*doc, *errs, *warns;

	if ((doc = cJSON_CreateObject()) == NULL)
		return NULL;
	if ((errs = cJSON_AddArrayToObject(doc, "errors")) == NULL ||
	    (warns = cJSON_AddArrayToObject(doc, "warnings")) == NULL)
		goto oom;
	if (diag != NULL && diag->errors.n > 0) {
		if (add_strv(errs, &diag->errors) < 0)
			goto oom;
	} else if (!cJSON_AddItemToArray(errs, cJSON_CreateString(msg)))
		goto oom;
	if (diag != NULL && add_strv(warns, &diag->warnings) < 0)
		goto oom;
	return doc;
oom:
	cJSON_Delete(doc);
	return NULL;
}

/* 400 {"errors": [msg], "warnings": []} */
static enum MHD_Result
reply_bad_apply(struct req *r, const struct ro_diag *diag, const char *fmt,
    ...) RO_PRINTF(3, 4);

static enum MHD_Result
reply_bad_apply(struct req *r, const struct ro_diag *diag, const char *fmt,
    ...)
{
	va_list	ap;
	char	msg[RO_ERR_MSG_MAX + 128];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return reply_json(r, MHD_HTTP_BAD_REQUEST, errors_doc(diag, msg));
}

static void
count_hook(struct req *r, enum ro_metrics_hook_result res)
{
	if (r->api->metrics != NULL && r->hook >= 0)
		ro_metrics_webhook(r->api->metrics, hook_sources[r->hook],
		    res);
}

/* ------------------------------------------------------------------ */
/* authentication */

static void
sha256(const void *p, size_t n, unsigned char out[SHA256_DIGEST_LENGTH])
{
	SHA256(p, n, out);
}

static bool
bearer_eq(struct req *r, const unsigned char want[32])
{
	return ro_hook_bearer_eq(header(r, MHD_HTTP_HEADER_AUTHORIZATION),
	    want);
}

/* The checks themselves are in hook.c. */
static bool
hook_authentic(struct req *r)
{
	enum ro_hook_kind	kind = (enum ro_hook_kind)r->hook;

	if (r->hook < 0)
		return false;
	return ro_hook_authentic(kind, header(r, ro_hook_header(kind)),
	    ro_buf_cstr(&r->body), r->body.len, &r->api->hook_key);
}

/* Take one token from the source's bucket (RO_API_HOOK_RATE per second,
 * as many in a burst). */
static bool
rate_take(struct ro_api *api, int src)
{
	struct bucket	*b = &api->rate[src];
	struct timespec	 now;
	double		 dt;
	bool		 ok;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&api->rate_mu);
	dt = (double)(now.tv_sec - b->last.tv_sec) +
	    (double)(now.tv_nsec - b->last.tv_nsec) / 1e9;
	if (dt > 0) {
		b->tokens += dt * RO_API_HOOK_RATE;
		if (b->tokens > RO_API_HOOK_RATE)
			b->tokens = RO_API_HOOK_RATE;
		b->last = now;
	}
	if ((ok = b->tokens >= 1.0))
		b->tokens -= 1.0;
	pthread_mutex_unlock(&api->rate_mu);
	return ok;
}

/* ------------------------------------------------------------------ */
/* routing */

static bool
route_matches(const struct route *rt, const struct req *r)
{
	size_t	i, n;

	for (n = 0; n < API_SEG_MAX && rt->seg[n] != NULL; n++)
		;
	if (n != r->nseg)
		return false;
	for (i = 0; i < n; i++)
		if (strcmp(rt->seg[i], "*") != 0 &&
		    strcmp(rt->seg[i], r->seg[i]) != 0)
			return false;
	return true;
}

/* Split and decode the path into r->seg. RO_EINVALID: bad escape;
 * RO_ENOTFOUND: too many segments; RO_ENOMEM. */
static int
split_path(struct req *r, const char *url)
{
	const char	*p, *q;
	size_t		 len;
	int		 error;

	if (url[0] != '/')
		return RO_ENOTFOUND;
	p = url + 1;
	for (;;) {
		if (r->nseg == API_SEG_MAX)
			return RO_ENOTFOUND;
		q = strchr(p, '/');
		len = q != NULL ? (size_t)(q - p) : strlen(p);
		if ((error = pct_decode(&r->seg[r->nseg], p, len)) < 0)
			return error;
		r->nseg++;
		if (q == NULL)
			return RO_OK;
		p = q + 1;
	}
}

/* Content-Length when present and well-formed. */
static bool
content_length(struct req *r, unsigned long long *out)
{
	const char	*v = header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
	char		*end;

	if (v == NULL || *v < '0' || *v > '9')
		return false;
	errno = 0;
	*out = strtoull(v, &end, 10);
	return errno == 0 && *end == '\0';
}

static bool
expects_continue(struct req *r)
{
	const char	*v = header(r, MHD_HTTP_HEADER_EXPECT);

	return v != NULL && strcasecmp(v, "100-continue") == 0;
}

/* First call of a request: route and authenticate. A refusal is kept in
 * r->fail_status and answered once the body is read. */
static void
req_begin(struct req *r, const char *url, const char *method)
{
	struct ro_api		*api = r->api;
	const struct route	*rt;
	bool			 get, post;
	size_t			 i;
	char			 q[72];
	int			 error;

	get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
	    strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
	if ((error = split_path(r, url)) == RO_EINVALID) {
		fail(r, MHD_HTTP_BAD_REQUEST, "malformed percent-encoding in "
		    "the path");
		return;
	} else if (error == RO_ENOMEM) {
		fail(r, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
		return;
	}
	for (i = 0; error == RO_OK && i < RO_NELEM(routes); i++) {
		rt = &routes[i];
		if (!route_matches(rt, r))
			continue;
		if ((rt->flags & RF_POST) ? post : get) {
			r->route = rt;
			break;
		}
		r->allow = (rt->flags & RF_POST) ? "POST" : "GET, HEAD";
	}
	if (r->route == NULL) {
		if (r->allow != NULL)
			fail(r, MHD_HTTP_METHOD_NOT_ALLOWED, "method %s is not "
			    "allowed here (allowed: %s)",
			    shown(q, sizeof(q), method), r->allow);
		else
			fail(r, MHD_HTTP_NOT_FOUND, "no such endpoint");
		return;
	}
	rt = r->route;
	for (i = 0; i < API_SEG_MAX && rt->seg[i] != NULL; i++)
		if (strcmp(rt->seg[i], "*") == 0)
			r->param = r->seg[i];
	if (rt->flags & RF_HOOK) {
		for (i = 0; i < RO_METRICS_HOOK_SOURCE_MAX; i++)
			if (strcmp(r->param, hook_sources[i]) == 0)
				r->hook = (int)i;
		if (r->hook < 0) {
			fail(r, MHD_HTTP_NOT_FOUND, "unknown webhook source "
			    "(github, gitlab, gitea or generic)");
			return;
		}
		if (!api->have_secret) {
			count_hook(r, RO_M_HOOK_DISABLED);
			fail(r, MHD_HTTP_NOT_FOUND, "webhooks are disabled: no "
			    "webhook secret is configured");
			return;
		}
	}
	if ((rt->flags & RF_AUTH) && api->have_token &&
	    !bearer_eq(r, api->token_sha)) {
		fail(r, MHD_HTTP_UNAUTHORIZED, "missing or wrong API token "
		    "(Authorization: Bearer <token>)");
		return;
	}
	if ((rt->flags & RF_ROOM) && !ro_spec_valid_room_id(r->param))
		fail(r, MHD_HTTP_BAD_REQUEST, "invalid roomId \"%s\" (expected "
		    "\"room-\" and at least 6 letters, digits, '_' or '-')",
		    shown(q, sizeof(q), r->param));
}

/* Body bytes of a request. false: close the connection. */
static bool
req_body(struct req *r, const char *data, size_t n)
{
	const struct route	*rt = r->route;

	if (r->fail_status == 0 && rt != NULL && (rt->flags & RF_BODY)) {
		if (ro_buf_add(&r->body, data, n) == RO_OK)
			return true;
		if (rt->flags & RF_HOOK)
			count_hook(r, RO_M_HOOK_TOO_LARGE);
		fail(r, MHD_HTTP_CONTENT_TOO_LARGE, "body larger than %zu "
		    "bytes", rt->body_max);
	} else if (r->fail_status == 0 && r->drained + n > API_SMALL_MAX)
		fail(r, MHD_HTTP_CONTENT_TOO_LARGE, "body larger than %u "
		    "bytes", API_SMALL_MAX);
	r->drained += n;
	return r->drained <= API_DRAIN_MAX;
}

static struct req *
req_new(struct ro_api *api, struct MHD_Connection *conn)
{
	struct req	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	pthread_mutex_lock(&api->mu);
	api->active++;
	pthread_mutex_unlock(&api->mu);
	r->api = api;
	r->conn = conn;
	r->hook = -1;
	ro_buf_init(&r->body, API_SMALL_MAX);
	return r;
}

static void
req_free(struct req *r)
{
	size_t	i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nseg; i++)
		free(r->seg[i]);
	ro_buf_release(&r->body);
	cJSON_Delete(r->fail_doc);
	cJSON_Delete(r->result);
	free(r);
}

/* The answer of an apply that went to the core. */
static enum MHD_Result
reply_applied(struct req *r)
{
	struct ro_api	*api = r->api;
	cJSON		*doc;
	int		 status;
	bool		 answered;

	pthread_mutex_lock(&api->mu);
	answered = r->answered;
	doc = r->result;
	r->result = NULL;
	status = r->status;
	pthread_mutex_unlock(&api->mu);
	RO_ASSERT(answered);
	if (!answered)
		return MHD_NO;
	if (status < 200 || status > 599) {
		cJSON_Delete(doc);
		return reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "the "
		    "reconciler answered with status %d", status);
	}
	if (doc == NULL)
		return reply_error(r, status < 400 ?
		    MHD_HTTP_SERVICE_UNAVAILABLE : (unsigned)status,
		    "the reconciler gave no answer document");
	if (status == MHD_HTTP_SERVICE_UNAVAILABLE ||
	    status == MHD_HTTP_TOO_MANY_REQUESTS)
		return reply_json_h(r, (unsigned)status, doc,
		    MHD_HTTP_HEADER_RETRY_AFTER, "1");
	return reply_json(r, (unsigned)status, doc);
}

static enum MHD_Result
on_access(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct ro_api		*api = cls;
	struct req		*r = *con_cls;
	unsigned long long	 cl;
	size_t			 max;
	enum MHD_Result		 ret;
	unsigned		 status;

	if (r == NULL) {
		if ((r = req_new(api, conn)) == NULL)
			return MHD_NO;
		*con_cls = r;
		req_begin(r, url, method);
		if (r->route != NULL && (r->route->flags & RF_BODY))
			r->body.max = r->route->body_max;
		max = r->route != NULL && (r->route->flags & RF_BODY) ?
		    r->route->body_max : API_SMALL_MAX;
		if (r->fail_status != 0 || !content_length(r, &cl) ||
		    cl <= max)
			return MHD_YES;
		if (r->hook >= 0)
			count_hook(r, RO_M_HOOK_TOO_LARGE);
		/* An announced oversize body: refused before it is sent when
		 * the client waits for "100 Continue" (or it is huge); else
		 * read and dropped first, so that the answer is not lost to
		 * a reset. */
		if (expects_continue(r) || cl > API_DRAIN_MAX)
			return reply_error(r, MHD_HTTP_CONTENT_TOO_LARGE,
			    "body of %llu bytes is larger than %zu bytes", cl,
			    max);
		fail(r, MHD_HTTP_CONTENT_TOO_LARGE, "body of %llu bytes is "
		    "larger than %zu bytes", cl, max);
		return MHD_YES;
	}
	if (*upload_size != 0) {
		if (!req_body(r, upload, *upload_size))
			return MHD_NO;
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->queued)
		return reply_applied(r);
	if ((status = r->fail_status) != 0) {
		ret = r->allow != NULL && status == MHD_HTTP_METHOD_NOT_ALLOWED ?
		    reply_json_h(r, status, r->fail_doc, MHD_HTTP_HEADER_ALLOW,
		    r->allow) : reply_json(r, status, r->fail_doc);
		r->fail_doc = NULL;
		return ret;
	}
	return r->route->fn(r);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct ro_api	*api = cls;
	struct req	*r = *con_cls;

	if (r == NULL)
		return;
	*con_cls = NULL;
	/* (a done callback may still be unlocking after its resume) */
	pthread_mutex_lock(&api->mu);
	RO_ASSERT(!r->queued || r->answered);
	if (--api->active == 0)
		pthread_cond_broadcast(&api->idle);
	pthread_mutex_unlock(&api->mu);
	req_free(r);
}

/* Paths are decoded per segment by split_path(), so that %2F stays
 * inside its segment; query values by query(). */
static size_t
no_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	return strlen(s);
}

/*
 * Lines caused by clients (bad signatures, resets seen by MHD) are
 * limited to API_LOG_PER_S per second; the next line allowed says how
 * many were left out.
 */
static bool
log_allowed(struct ro_api *api, char *note, size_t len)
{
	struct timespec	now;
	unsigned	dropped = 0;
	bool		ok;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&api->log_mu);
	if (now.tv_sec != api->log_sec) {
		api->log_sec = now.tv_sec;
		api->log_lines = 0;
	}
	if ((ok = api->log_lines < API_LOG_PER_S)) {
		api->log_lines++;
		dropped = api->log_dropped;
		api->log_dropped = 0;
	} else
		api->log_dropped++;
	pthread_mutex_unlock(&api->log_mu);
	if (dropped > 0)
		snprintf(note, len, " (%u similar line%s left out)", dropped,
		    dropped == 1 ? "" : "s");
	else if (len > 0)
		note[0] = '\0';
	return ok;
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct ro_api	*api = cls;
	char		 msg[256], note[48];
	size_t		 n;
	bool		 started;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	pthread_mutex_lock(&api->log_mu);
	if (!(started = api->started))
		snprintf(api->start_err, sizeof(api->start_err), "%s", msg);
	pthread_mutex_unlock(&api->log_mu);
	if (!started)
		log_debug("api: %s", msg);	/* reported by ro_api_start */
	else if (log_allowed(api, note, sizeof(note)))
		log_warnx("api: %s%s", msg, note);
}

/* ------------------------------------------------------------------ */
/* endpoints */

static enum MHD_Result
reply_core_error(struct req *r, int error, const struct ro_err *err)
{
	return reply_error(r, status_of(error), "%s",
	    err->msg[0] != '\0' ? err->msg : ro_status_str(error));
}


/* ro_api_done: the core's answer to a queued apply, from any thread. */
static void
apply_done(void *arg, int status, cJSON *body)
{
	struct req	*r = arg;
	struct ro_api	*api = r->api;

	pthread_mutex_lock(&api->mu);
	RO_ASSERT(r->queued && !r->answered);
	r->status = status;
	r->result = body;
	r->answered = true;
	if (--api->inflight == 0)
		pthread_cond_broadcast(&api->idle);
	MHD_resume_connection(r->conn);
	/* r may be freed as soon as the lock is dropped */
	pthread_mutex_unlock(&api->mu);
}

/* Hand the spec (taken) to the core and suspend until it answers. */
static enum MHD_Result
apply_queue(struct req *r, struct ro_spec *spec, bool dry_run, bool confirm)
{
	struct ro_api	*api = r->api;
	struct ro_err	 err = RO_ERR_INIT;
	cJSON		*doc;
	unsigned	 status;
	int		 error;

	pthread_mutex_lock(&api->mu);
	if (api->closing) {
		pthread_mutex_unlock(&api->mu);
		ro_spec_free(spec);
		return reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "the "
		    "agent is shutting down");
	}
	r->queued = true;
	api->inflight++;
	MHD_suspend_connection(r->conn);
	pthread_mutex_unlock(&api->mu);

	/* done may run before this returns, on this or another thread */
	error = api->ops.apply(api->ops.arg, spec, dry_run, confirm,
	    apply_done, r, &err);
	if (error >= 0)
		return MHD_YES;
	if (err.msg[0] == '\0')
		ro_err_set(&err, error, "%s", ro_status_str(error));
	if ((status = status_of(error)) == MHD_HTTP_BAD_REQUEST)
		doc = errors_doc(NULL, err.msg);
	else {
		if ((doc = cJSON_CreateObject()) != NULL &&
		    cJSON_AddStringToObject(doc, "error", err.msg) == NULL) {
			cJSON_Delete(doc);
			doc = NULL;
		}
	}
	if (doc == NULL)
		status = MHD_HTTP_SERVICE_UNAVAILABLE;
	apply_done(r, (int)status, doc);
	return MHD_YES;
}

static enum MHD_Result
do_apply(struct req *r)
{
	struct ro_diag	 diag = RO_DIAG_INIT;
	struct ro_err	 err = RO_ERR_INIT;
	struct ro_spec	*spec = NULL;
	enum MHD_Result	 ret;
	int		 error;

	/* the body was capped at RO_API_APPLY_MAX while it was read */
	error = ro_applybody_parse(ro_buf_cstr(&r->body), r->body.len,
	    RO_API_APPLY_MAX, &spec, &diag, &err);
	if (error == RO_ENOMEM) {
		ret = reply_oom(r);
		goto done;
	}
	if (error < 0) {
		ret = reply_bad_apply(r, &diag, "%s", err.msg);
		goto done;
	}
	ret = apply_queue(r, spec, header_true(r, "X-Dry-Run"),
	    header_true(r, "X-Confirm"));
	spec = NULL;
done:
	ro_spec_free(spec);
	ro_diag_release(&diag);
	return ret;
}

static enum MHD_Result
no_op(struct req *r, const char *what)
{
	return reply_error(r, MHD_HTTP_NOT_IMPLEMENTED, "%s is not available "
	    "in this agent", what);
}

static enum MHD_Result
do_status(struct req *r)
{
	struct ro_api	*api = r->api;
	cJSON		*doc;

	if (api->ops.status == NULL)
		return no_op(r, "status");
	if ((doc = api->ops.status(api->ops.arg)) == NULL)
		return reply_oom(r);
	return reply_json(r, MHD_HTTP_OK, doc);
}

static enum MHD_Result
do_room_status(struct req *r)
{
	struct ro_api	*api = r->api;
	cJSON		*doc;

	if (api->ops.room_status == NULL)
		return no_op(r, "room status");
	if ((doc = api->ops.room_status(api->ops.arg, r->param)) == NULL)
		return reply_error(r, MHD_HTTP_NOT_FOUND, "room %s not found",
		    r->param);
	return reply_json(r, MHD_HTTP_OK, doc);
}

/* {"status": s, "timestamp": now} */
static cJSON *
status_doc(const char *s)
{
	cJSON	*doc;
	char	 ts[RO_TS_LEN + 1];

	ro_now_iso(ts);
	if ((doc = cJSON_CreateObject()) == NULL)
		return NULL;
	if (cJSON_AddStringToObject(doc, "status", s) == NULL ||
	    cJSON_AddStringToObject(doc, "timestamp", ts) == NULL) {
		cJSON_Delete(doc);
		return NULL;
	}
	return doc;
}

static enum MHD_Result
do_health(struct req *r)
{
	return reply_json(r, MHD_HTTP_OK, status_doc("healthy"));
}

static enum MHD_Result
do_ready(struct req *r)
{
	struct ro_api	*api = r->api;
	bool		 ready;

	ready = api->ops.ready != NULL && api->ops.ready(api->ops.arg);
	return reply_json(r, ready ? MHD_HTTP_OK :
	    MHD_HTTP_SERVICE_UNAVAILABLE, status_doc(ready ? "ready" :
	    "not ready"));
}

static enum MHD_Result
do_metrics(struct req *r)
{
	struct ro_api		*api = r->api;
	struct ro_buf		 out = RO_BUF_INIT;
	struct MHD_Response	*resp;
	char			*text;
	size_t			 len;
	int			 error;

	if (api->ops.metrics == NULL)
		return no_op(r, "metrics");
	ro_buf_init(&out, API_METRICS_MAX);
	if ((error = api->ops.metrics(api->ops.arg, &out)) < 0) {
		ro_buf_release(&out);
		return reply_error(r, error == RO_ENOMEM ?
		    MHD_HTTP_SERVICE_UNAVAILABLE :
		    MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot render the "
		    "metrics: %s", ro_status_str(error));
	}
	if ((text = ro_buf_detach(&out, &len)) == NULL)
		return reply_oom(r);
	resp = MHD_create_response_from_buffer(len, text,
	    MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; version=0.0.4; charset=utf-8");
	return queue(r, MHD_HTTP_OK, resp);
}

/* count: decimal digits only, at least 1; larger than API_AUDIT_MAX is
 * API_AUDIT_MAX. */
static bool
parse_count(const char *s, size_t *out)
{
	size_t	n = 0, i;

	if (s == NULL || s[0] == '\0')
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (n <= API_AUDIT_MAX)
			n = n * 10 + (size_t)(s[i] - '0');
	}
	if (n == 0)
		return false;
	*out = n > API_AUDIT_MAX ? API_AUDIT_MAX : n;
	return true;
}

/* A correlationId or revision: 1..max bytes of [A-Za-z0-9._:/-]. */
static bool
token_ok(const char *s, size_t max)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i >= max)
			return false;
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		    s[i] == '_' || s[i] == ':' || s[i] == '/' || s[i] == '-'))
			return false;
	}
	return i > 0;
}

static enum MHD_Result
do_audit(struct req *r)
{
	struct ro_api	*api = r->api;
	struct ro_err	 err = RO_ERR_INIT;
	char		*count_s = NULL, *cid = NULL, *room = NULL, q[72];
	cJSON		*doc = NULL, *entries;
	size_t		 count = API_AUDIT_DEFAULT;
	enum MHD_Result	 ret;
	int		 error;

	if (api->ops.audit == NULL)
		return no_op(r, "audit");
	if (query(r, "count", &count_s) < 0 ||
	    query(r, "correlationId", &cid) < 0 ||
	    query(r, "room", &room) < 0) {
		ret = reply_error(r, MHD_HTTP_BAD_REQUEST, "malformed "
		    "percent-encoding in the query");
		goto done;
	}
	if (count_s != NULL && !parse_count(count_s, &count)) {
		ret = reply_error(r, MHD_HTTP_BAD_REQUEST, "count must be a "
		    "positive integer (at most %d are returned), not \"%s\"",
		    API_AUDIT_MAX, shown(q, sizeof(q), count_s));
		goto done;
	}
	if (cid != NULL && !token_ok(cid, API_CID_MAX)) {
		ret = reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid "
		    "correlationId \"%s\"", shown(q, sizeof(q), cid));
		goto done;
	}
	if (room != NULL && !ro_spec_valid_room_id(room)) {
		ret = reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid roomId "
		    "\"%s\"", shown(q, sizeof(q), room));
		goto done;
	}
	if ((doc = cJSON_CreateObject()) == NULL ||
	    (entries = cJSON_AddArrayToObject(doc, "entries")) == NULL) {
		ret = reply_oom(r);
		goto done;
	}
	if ((error = api->ops.audit(api->ops.arg, count, cid, room, entries,
	    &err)) < 0) {
		ret = reply_core_error(r, error, &err);
		goto done;
	}
	ret = reply_json(r, MHD_HTTP_OK, doc);
	doc = NULL;
done:
	cJSON_Delete(doc);
	free(count_s);
	free(cid);
	free(room);
	return ret;
}

static enum MHD_Result
do_reconcile(struct req *r)
{
	struct ro_api	*api = r->api;
	struct ro_err	 err = RO_ERR_INIT;
	cJSON		*doc;
	int		 error;

	if (api->ops.reconcile == NULL)
		return no_op(r, "reconcile");
	if ((error = api->ops.reconcile(api->ops.arg, r->param, &err)) < 0)
		return reply_core_error(r, error, &err);
	if ((doc = cJSON_CreateObject()) == NULL ||
	    cJSON_AddBoolToObject(doc, "queued", 1) == NULL ||
	    (r->param != NULL &&
	    cJSON_AddStringToObject(doc, "roomId", r->param) == NULL)) {
		cJSON_Delete(doc);
		return reply_oom(r);
	}
	return reply_json(r, MHD_HTTP_ACCEPTED, doc);
}

static enum MHD_Result
do_suspend(struct req *r)
{
	struct ro_api	*api = r->api;
	struct ro_err	 err = RO_ERR_INIT;
	cJSON		*doc;
	bool		 suspend;
	int		 error;

	suspend = strcmp(r->seg[2], "suspend") == 0;
	if (api->ops.suspend == NULL)
		return no_op(r, suspend ? "suspend" : "resume");
	if ((error = api->ops.suspend(api->ops.arg, r->param, suspend,
	    &err)) < 0)
		return reply_core_error(r, error, &err);
	if ((doc = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(doc, "roomId", r->param) == NULL ||
	    cJSON_AddBoolToObject(doc, "suspended", suspend) == NULL) {
		cJSON_Delete(doc);
		return reply_oom(r);
	}
	return reply_json(r, MHD_HTTP_OK, doc);
}

static enum MHD_Result
do_confirm(struct req *r)
{
	struct ro_api	*api = r->api;
	struct ro_err	 err = RO_ERR_INIT;
	char		*rev = NULL, q[72];
	cJSON		*doc = NULL;
	enum MHD_Result	 ret;
	int		 error;

	if (api->ops.confirm == NULL)
		return no_op(r, "confirm");
	if (query(r, "revision", &rev) < 0 || rev == NULL) {
		ret = reply_error(r, MHD_HTTP_BAD_REQUEST, "missing revision "
		    "(?revision=REV)");
		goto done;
	}
	if (!token_ok(rev, API_REV_MAX)) {
		ret = reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid revision "
		    "\"%s\"", shown(q, sizeof(q), rev));
		goto done;
	}
	if ((error = api->ops.confirm(api->ops.arg, r->param, rev,
	    &err)) < 0) {
		ret = reply_core_error(r, error, &err);
		goto done;
	}
	if ((doc = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(doc, "roomId", r->param) == NULL ||
	    cJSON_AddStringToObject(doc, "revision", rev) == NULL ||
	    cJSON_AddBoolToObject(doc, "confirmed", 1) == NULL) {
		ret = reply_oom(r);
		goto done;
	}
	ret = reply_json(r, MHD_HTTP_OK, doc);
	doc = NULL;
done:
	cJSON_Delete(doc);
	free(rev);
	return ret;
}

/* ------------------------------------------------------------------ */
/* webhooks */

static enum MHD_Result
do_hook(struct req *r)
{
	struct ro_api	*api = r->api;
	struct ro_err	 err = RO_ERR_INIT;
	const char	*src = hook_sources[r->hook], *ev;
	char		*ref = NULL;
	cJSON		*doc = NULL;
	enum MHD_Result	 ret;
	char		 note[48];
	int		 error;

	if (!hook_authentic(r)) {
		count_hook(r, RO_M_HOOK_UNAUTHORIZED);
		if (log_allowed(api, note, sizeof(note)))
			log_info("api: webhook %s: missing or wrong "
			    "signature%s", src, note);
		return reply_error(r, MHD_HTTP_UNAUTHORIZED, "missing or wrong "
		    "webhook signature");
	}
	ev = header(r, "X-GitHub-Event");
	if (r->hook == RO_HOOK_GITHUB && ev != NULL && strcmp(ev, "ping") == 0) {
		count_hook(r, RO_M_HOOK_IGNORED);
		if ((doc = cJSON_CreateObject()) == NULL ||
		    cJSON_AddBoolToObject(doc, "queued", 0) == NULL ||
		    cJSON_AddStringToObject(doc, "event", "ping") == NULL) {
			cJSON_Delete(doc);
			return reply_oom(r);
		}
		return reply_json(r, MHD_HTTP_OK, doc);
	}
	if (!rate_take(api, r->hook)) {
		count_hook(r, RO_M_HOOK_RATE_LIMITED);
		return reply_error(r, MHD_HTTP_TOO_MANY_REQUESTS, "more than "
		    "%d %s webhooks per second", RO_API_HOOK_RATE, src);
	}
	if (api->ops.hook == NULL)
		return no_op(r, "webhooks");
	ref = ro_hook_ref(ro_buf_cstr(&r->body), r->body.len);
	if ((error = api->ops.hook(api->ops.arg, src, ref, &err)) < 0) {
		count_hook(r, RO_M_HOOK_FAILED);
		ret = reply_core_error(r, error, &err);
		goto done;
	}
	count_hook(r, RO_M_HOOK_ACCEPTED);
	if ((doc = cJSON_CreateObject()) == NULL ||
	    cJSON_AddBoolToObject(doc, "queued", 1) == NULL ||
	    (ref != NULL && cJSON_AddStringToObject(doc, "ref", ref) == NULL)) {
		ret = reply_oom(r);
		goto done;
	}
	ret = reply_json(r, MHD_HTTP_ACCEPTED, doc);
	doc = NULL;
done:
	cJSON_Delete(doc);
	free(ref);
	return ret;
}

/* ------------------------------------------------------------------ */
/* /events: Server-Sent Events */

/* Append bytes to a subscriber's queue, under sse_mu; drop it when it
 * is full. Wakes it when suspended. */
static void
sub_push(struct sub *s, const char *p, size_t n)
{
	struct ro_buf	*q = &s->q;

	if (s->dropped)
		return;
	if (s->qoff > 0) {
		memmove(q->ptr, q->ptr + s->qoff, q->len - s->qoff);
		q->len -= s->qoff;
		q->ptr[q->len] = '\0';
		s->qoff = 0;
	}
	if (ro_buf_add(q, p, n) < 0) {
		s->dropped = true;
		ro_buf_release(q);
		log_warnx("api: /events subscriber too slow (%u bytes "
		    "queued), dropped", RO_API_SSE_QUEUE_MAX);
	}
	if (s->suspended) {
		s->suspended = false;
		MHD_resume_connection(s->conn);
	}
}

static ssize_t
sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sub	*s = cls;
	struct ro_api	*api = s->api;
	ssize_t		 n;

	pthread_mutex_lock(&api->sse_mu);
	if (s->dropped)
		n = MHD_CONTENT_READER_END_WITH_ERROR;
	else if (s->qoff < s->q.len) {
		n = (ssize_t)(s->q.len - s->qoff < max ? s->q.len - s->qoff :
		    max);
		memcpy(buf, s->q.ptr + s->qoff, (size_t)n);
		s->qoff += (size_t)n;
		if (s->qoff == s->q.len) {
			ro_buf_reset(&s->q);
			s->qoff = 0;
		}
	} else if (api->sse_closing)
		n = MHD_CONTENT_READER_END_OF_STREAM;
	else {
		/* nothing to send: park until publish, a ping or stop */
		s->suspended = true;
		MHD_suspend_connection(s->conn);
		n = 0;
	}
	pthread_mutex_unlock(&api->sse_mu);
	return n;
}

static void
sse_free(void *cls)
{
	struct sub	*s = cls;
	struct ro_api	*api = s->api;
	size_t		 i;

	pthread_mutex_lock(&api->sse_mu);
	for (i = 0; i < api->nsubs; i++)
		if (api->subs[i] == s) {
			api->subs[i] = api->subs[--api->nsubs];
			break;
		}
	pthread_mutex_unlock(&api->sse_mu);
	ro_buf_release(&s->q);
	free(s);
}

static enum MHD_Result
do_events(struct req *r)
{
	static const char	 hello[] = ": connected\n\n";
	struct ro_api		*api = r->api;
	struct MHD_Response	*resp;
	struct sub		*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return reply_oom(r);
	s->api = api;
	s->conn = r->conn;
	ro_buf_init(&s->q, RO_API_SSE_QUEUE_MAX);
	if (ro_buf_add(&s->q, hello, sizeof(hello) - 1) < 0) {
		free(s);
		return reply_oom(r);
	}
	pthread_mutex_lock(&api->sse_mu);
	if (api->sse_closing || api->nsubs == RO_API_SSE_MAX) {
		pthread_mutex_unlock(&api->sse_mu);
		ro_buf_release(&s->q);
		free(s);
		return reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    api->sse_closing ? "the agent is shutting down" :
		    "too many /events subscribers (at most %d)",
		    RO_API_SSE_MAX);
	}
	api->subs[api->nsubs++] = s;
	pthread_mutex_unlock(&api->sse_mu);

	/* from here on, sse_free() owns s */
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN,
	    API_SSE_BLOCK, sse_read, s, sse_free);
	if (resp == NULL) {
		sse_free(s);
		return reply_oom(r);
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/event-stream");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-cache");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	return queue(r, MHD_HTTP_OK, resp);
}

static void *
sse_ticker(void *arg)
{
	static const char	 ping[] = ": ping\n\n";
	struct ro_api		*api = arg;
	struct timespec		 deadline;
	size_t			 i;
	int			 rc;

	pthread_mutex_lock(&api->sse_mu);
	while (!api->sse_closing) {
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += RO_API_SSE_PING_S;
		rc = 0;
		while (!api->sse_closing && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&api->sse_tick,
			    &api->sse_mu, &deadline);
		if (api->sse_closing)
			break;
		for (i = 0; i < api->nsubs; i++)
			sub_push(api->subs[i], ping, sizeof(ping) - 1);
	}
	pthread_mutex_unlock(&api->sse_mu);
	return NULL;
}

void
ro_api_publish(struct ro_api *api, const char *line, size_t len)
{
	struct ro_buf	 frame = RO_BUF_INIT;
	const char	*p, *nl, *end;
	size_t		 i, n;

	if (api == NULL || line == NULL)
		return;
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len > RO_API_SSE_RECORD_MAX) {
		log_warnx("api: audit record of %zu bytes not sent to /events "
		    "(limit %u)", len, RO_API_SSE_RECORD_MAX);
		return;
	}
	/* one "data:" field per line of the record, then a blank line */
	ro_buf_init(&frame, RO_API_SSE_RECORD_MAX * 2);
	for (p = line, end = line + len; p <= end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (ro_buf_add(&frame, "data: ", 6) < 0 ||
		    ro_buf_add(&frame, p, n) < 0 ||
		    ro_buf_addch(&frame, '\n') < 0)
			goto oom;
	}
	if (ro_buf_addch(&frame, '\n') < 0)
		goto oom;
	pthread_mutex_lock(&api->sse_mu);
	for (i = 0; i < api->nsubs; i++)
		sub_push(api->subs[i], frame.ptr, frame.len);
	pthread_mutex_unlock(&api->sse_mu);
	ro_buf_release(&frame);
	return;
oom:
	log_warnx("api: out of memory; audit record not sent to /events");
	ro_buf_release(&frame);
}

/* ------------------------------------------------------------------ */
/* life cycle */

/* "ADDR:PORT", "[ADDR6]:PORT" or "localhost:PORT"; numeric addresses. */
static int
parse_listen(const char *s, struct sockaddr_storage *ss, bool *v6,
    struct ro_err *err)
{
	struct sockaddr_in	*in = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*in6 = (struct sockaddr_in6 *)ss;
	const char		*colon, *port;
	char			 host[INET6_ADDRSTRLEN + 1];
	size_t			 hlen;
	unsigned long		 pn = 0;
	size_t			 i;

	if (s == NULL || s[0] == '\0')
		return ro_err_set(err, RO_EINVALID, "listen address is empty");
	if (s[0] == '[') {
		if ((colon = strchr(s, ']')) == NULL || colon[1] != ':')
			goto bad;
		hlen = (size_t)(colon - s - 1);
		memcpy(host, s + 1, hlen < sizeof(host) ? hlen : 0);
		port = colon + 2;
		*v6 = true;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			goto bad;
		hlen = (size_t)(colon - s);
		memcpy(host, s, hlen < sizeof(host) ? hlen : 0);
		port = colon + 1;
		*v6 = false;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		goto bad;
	host[hlen] = '\0';
	if (port[0] == '\0' || strlen(port) > 5)
		goto bad;
	for (i = 0; port[i] != '\0'; i++) {
		if (port[i] < '0' || port[i] > '9')
			goto bad;
		pn = pn * 10 + (unsigned long)(port[i] - '0');
	}
	if (pn > 65535)
		goto bad;
	memset(ss, 0, sizeof(*ss));
	if (*v6) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)pn);
		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			goto bad;
	} else {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)pn);
		if (strcmp(host, "localhost") == 0)
			in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		else if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			goto bad;
	}
	return RO_OK;
bad:
	return ro_err_set(err, RO_EINVALID, "listen address \"%s\": expected "
	    "ADDR:PORT or [ADDR6]:PORT with a numeric address and a port "
	    "0-65535", s);
}

static void
api_free(struct ro_api *api)
{
	if (api == NULL)
		return;
	pthread_mutex_destroy(&api->mu);
	pthread_cond_destroy(&api->idle);
	pthread_mutex_destroy(&api->sse_mu);
	pthread_cond_destroy(&api->sse_tick);
	pthread_mutex_destroy(&api->rate_mu);
	pthread_mutex_destroy(&api->log_mu);
	if (api->secret != NULL) {
		OPENSSL_cleanse(api->secret, api->secret_len);
		free(api->secret);
	}
	OPENSSL_cleanse(api->token_sha, sizeof(api->token_sha));
	OPENSSL_cleanse(api->hook_key.sha, sizeof(api->hook_key.sha));
	free(api);
}

static int
api_alloc(struct ro_api **out, const struct ro_api_opts *opts,
    const struct ro_api_ops *ops, struct ro_err *err)
{
	struct ro_api		*api;
	pthread_condattr_t	 ca;
	size_t			 i;

	if ((api = calloc(1, sizeof(*api))) == NULL)
		return ro_err_set(err, RO_ENOMEM, "api: out of memory");
	if (pthread_condattr_init(&ca) != 0 ||
	    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_mutex_init(&api->mu, NULL) != 0 ||
	    pthread_cond_init(&api->idle, &ca) != 0 ||
	    pthread_mutex_init(&api->sse_mu, NULL) != 0 ||
	    pthread_cond_init(&api->sse_tick, &ca) != 0 ||
	    pthread_mutex_init(&api->rate_mu, NULL) != 0 ||
	    pthread_mutex_init(&api->log_mu, NULL) != 0)
		fatalx("api: cannot initialise locks");
	pthread_condattr_destroy(&ca);
	api->ops = *ops;
	api->metrics = opts->metrics;
	for (i = 0; i < RO_METRICS_HOOK_SOURCE_MAX; i++) {
		api->rate[i].tokens = RO_API_HOOK_RATE;
		clock_gettime(CLOCK_MONOTONIC, &api->rate[i].last);
	}
	if (opts->api_token != NULL) {
		api->have_token = true;
		sha256(opts->api_token, strlen(opts->api_token),
		    api->token_sha);
	}
	if (opts->webhook_secret != NULL) {
		api->have_secret = true;
		api->secret_len = strlen(opts->webhook_secret);
		if ((api->secret = strdup(opts->webhook_secret)) == NULL) {
			api_free(api);
			return ro_err_set(err, RO_ENOMEM, "api: out of memory");
		}
		ro_hook_key_set(&api->hook_key, api->secret, api->secret_len);
	}
	*out = api;
	return RO_OK;
}

int
ro_api_start(struct ro_api **out, const struct ro_api_opts *opts,
    const struct ro_api_ops *ops, struct ro_err *err)
{
	struct ro_api			*api = NULL;
	struct sockaddr_storage		 ss;
	const union MHD_DaemonInfo	*info;
	unsigned			 flags, threads;
	uint16_t			 port;
	bool				 v6 = false;
	int				 error;

	RO_ASSERT(ops != NULL && ops->apply != NULL);
	if ((opts->api_token != NULL && opts->api_token[0] == '\0') ||
	    (opts->webhook_secret != NULL && opts->webhook_secret[0] == '\0'))
		return ro_err_set(err, RO_EINVALID, "api: an empty API token or "
		    "webhook secret is not allowed");
	if ((error = parse_listen(opts->listen, &ss, &v6, err)) < 0)
		return error;
	if ((error = api_alloc(&api, opts, ops, err)) < 0)
		return error;
	threads = opts->threads != 0 ? opts->threads : API_THREADS_DEFAULT;
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	if (v6)
		flags |= MHD_USE_IPv6;
	/* the port argument only names it in MHD's messages */
	port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	api->mhd = MHD_start_daemon(flags, port, NULL, NULL, on_access, api,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, api,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_THREAD_POOL_SIZE, threads,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)API_CONN_MAX,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)API_CONN_TIMEOUT_S,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, api,
	    MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL,
	    MHD_OPTION_END);
	if (api->mhd == NULL) {
		error = ro_err_set(err, RO_EIO, "api: cannot listen on %s%s%s",
		    opts->listen, api->start_err[0] != '\0' ? ": " : "",
		    api->start_err);
		api_free(api);
		return error;
	}
	pthread_mutex_lock(&api->log_mu);
	api->started = true;
	pthread_mutex_unlock(&api->log_mu);
	info = MHD_get_daemon_info(api->mhd, MHD_DAEMON_INFO_BIND_PORT);
	api->port = info != NULL ? info->port : 0;
	if (pthread_create(&api->ticker, NULL, sse_ticker, api) != 0) {
		MHD_stop_daemon(api->mhd);
		api_free(api);
		return ro_err_set(err, RO_ERROR, "api: cannot start a thread");
	}
	api->ticker_started = true;
	log_info("api: listening on %s (port %u, %u threads)", opts->listen,
	    api->port, threads);
	*out = api;
	return RO_OK;
}

unsigned
ro_api_port(const struct ro_api *api)
{
	return api != NULL ? api->port : 0;
}

void
ro_api_stop(struct ro_api *api)
{
	struct timespec	deadline;
	MHD_socket	lfd;
	size_t		i;

	if (api == NULL)
		return;
	/* 1. no new connections */
	lfd = MHD_quiesce_daemon(api->mhd);

	/* 2. end every event stream; none parks again */
	pthread_mutex_lock(&api->sse_mu);
	api->sse_closing = true;
	for (i = 0; i < api->nsubs; i++)
		if (api->subs[i]->suspended) {
			api->subs[i]->suspended = false;
			MHD_resume_connection(api->subs[i]->conn);
		}
	pthread_cond_broadcast(&api->sse_tick);
	pthread_mutex_unlock(&api->sse_mu);
	if (api->ticker_started)
		pthread_join(api->ticker, NULL);

	/* 3. every apply handed to the core gets its answer (the core must
	 * call done), and answers go out (bounded: clients may not read) */
	pthread_mutex_lock(&api->mu);
	api->closing = true;
	while (api->inflight > 0) {
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += API_STOP_WARN_S;
		if (pthread_cond_timedwait(&api->idle, &api->mu,
		    &deadline) == ETIMEDOUT && api->inflight > 0)
			log_warnx("api: stopping: waiting for %u apply "
			    "answer%s from the reconciler", api->inflight,
			    api->inflight == 1 ? "" : "s");
	}
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += API_STOP_DRAIN_S;
	while (api->active > 0 && pthread_cond_timedwait(&api->idle,
	    &api->mu, &deadline) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&api->mu);

	/* 4. close the rest (nothing is suspended any more) */
	MHD_stop_daemon(api->mhd);
	if (lfd != MHD_INVALID_SOCKET)
		close(lfd);
	RO_ASSERT(api->nsubs == 0);
	api_free(api);
}
