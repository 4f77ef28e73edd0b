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
 * This file holds the request life cycle, routing and authentication,
 * start and stop; answers are in apireply.c, the endpoints in
 * apiroutes.c, webhooks in apihook.c, /events in apisse.c; api_impl.h
 * has what they share, and the locks.
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
#include "roomops/hex.h"
#include "roomops/log.h"
#include "roomops/spec.h"
#include "api.h"
#include "api_impl.h"
#include "apitls.h"
#include "optval.h"
#include "applybody.h"
#include "hook.h"
#include "metrics.h"

#include "../common/banned.h"

static const struct route routes[] = {
	{ .seg = { "apply" }, .flags = RF_POST | RF_AUTH | RF_BODY,
	    .body_max = RO_API_APPLY_MAX, .fn = ro_apiroutes_apply },
	{ .seg = { "status" }, .flags = RF_READ, .fn = ro_apiroutes_status },
	{ .seg = { "status", "rooms", "*" }, .flags = RF_ROOM | RF_READ,
	    .fn = ro_apiroutes_room_status },
	{ .seg = { "health" }, .fn = ro_apiroutes_health },
	{ .seg = { "ready" }, .fn = ro_apiroutes_ready },
	{ .seg = { "metrics" }, .fn = ro_apiroutes_metrics },
	{ .seg = { "audit" }, .flags = RF_READ, .fn = ro_apiroutes_audit },
	{ .seg = { "events" }, .flags = RF_READ, .fn = ro_apisse_events },
	{ .seg = { "reconcile" }, .flags = RF_POST | RF_AUTH,
	    .fn = ro_apiroutes_reconcile },
	{ .seg = { "reconcile", "*" }, .flags = RF_POST | RF_AUTH | RF_ROOM,
	    .fn = ro_apiroutes_reconcile },
	{ .seg = { "rooms", "*", "suspend" },
	    .flags = RF_POST | RF_AUTH | RF_ROOM, .fn = ro_apiroutes_suspend },
	{ .seg = { "rooms", "*", "resume" },
	    .flags = RF_POST | RF_AUTH | RF_ROOM, .fn = ro_apiroutes_suspend },
	{ .seg = { "rooms", "*", "confirm" },
	    .flags = RF_POST | RF_AUTH | RF_ROOM, .fn = ro_apiroutes_confirm },
	{ .seg = { "hooks", "*" }, .flags = RF_POST | RF_BODY | RF_HOOK,
	    .body_max = RO_API_BODY_MAX, .fn = ro_apihook_receive },
	/* the dashboard (apidash.c, docs/dashboard.md): GET, read-only; its
	 * files hold no data and stay open, its data needs the read token */
	{ .seg = { "ui" }, .fn = ro_apidash_ui },
	{ .seg = { "ui", "*" }, .fn = ro_apidash_ui },
	{ .seg = { "status", "rooms" }, .flags = RF_READ,
	    .fn = ro_apidash_rooms },
	{ .seg = { "rooms", "*", "spec" }, .flags = RF_ROOM | RF_READ,
	    .fn = ro_apidash_spec },
	{ .seg = { "plan", "*" }, .flags = RF_ROOM | RF_READ,
	    .fn = ro_apidash_plan },
};

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Up to 64 bytes of s for a message, other than printable ASCII as '?'. */
const char *
ro_api_shown(char *buf, size_t len, const char *s)
{
	size_t	i;

	for (i = 0; s[i] != '\0' && i + 1 < len && i < 64; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}

const char *
ro_api_header(struct req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

/* Is header name exactly "true"? */
bool
ro_api_header_true(struct req *r, const char *name)
{
	const char	*v = ro_api_header(r, name);

	return v != NULL && strcmp(v, "true") == 0;
}

/* Query argument, percent-decoded (MHD already turned '+' into ' ').
 * *out is NULL when absent. RO_EINVALID on a bad escape, RO_ENOMEM. */
int
ro_api_query(struct req *r, const char *name, char **out)
{
	const char	*v;

	*out = NULL;
	v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
	if (v == NULL)
		return RO_OK;
	return ro_hex_unescape(out, v, strlen(v), false);
}

static void
sha256(const void *p, size_t n, unsigned char out[SHA256_DIGEST_LENGTH])
{
	SHA256(p, n, out);
}

static bool
bearer_eq(struct req *r, const unsigned char want[32])
{
	return ro_hook_bearer_eq(ro_api_header(r,
	    MHD_HTTP_HEADER_AUTHORIZATION),
	    want);
}

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
		if ((error = ro_hex_unescape(&r->seg[r->nseg], p, len,
		    false)) < 0)
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
	const char	*v = ro_api_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
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
	const char	*v = ro_api_header(r, MHD_HTTP_HEADER_EXPECT);

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
		ro_apireply_fail(r, MHD_HTTP_BAD_REQUEST,
		    "malformed percent-encoding in "
		    "the path");
		return;
	} else if (error == RO_ENOMEM) {
		ro_apireply_fail(r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "out of memory");
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
			ro_apireply_fail(r, MHD_HTTP_METHOD_NOT_ALLOWED,
			    "method %s is not "
			    "allowed here (allowed: %s)",
			    ro_api_shown(q, sizeof(q), method), r->allow);
		else
			ro_apireply_fail(r, MHD_HTTP_NOT_FOUND,
			    "no such endpoint");
		return;
	}
	rt = r->route;
	for (i = 0; i < API_SEG_MAX && rt->seg[i] != NULL; i++)
		if (strcmp(rt->seg[i], "*") == 0)
			r->param = r->seg[i];
	if (rt->flags & RF_HOOK) {
		if ((r->hook = ro_apihook_index(r->param)) < 0) {
			ro_apireply_fail(r, MHD_HTTP_NOT_FOUND,
			    "unknown webhook source "
			    "(github, gitlab, gitea or generic)");
			return;
		}
		if (!api->have_secret) {
			ro_apihook_count(r, RO_M_HOOK_DISABLED);
			ro_apireply_fail(r, MHD_HTTP_NOT_FOUND,
			    "webhooks are disabled: no "
			    "webhook secret is configured");
			return;
		}
	}
	if ((rt->flags & RF_AUTH) && api->have_token &&
	    !bearer_eq(r, api->token_sha)) {
		ro_apireply_fail(r, MHD_HTTP_UNAUTHORIZED,
		    "missing or wrong API token "
		    "(Authorization: Bearer <token>)");
		return;
	}
	if ((rt->flags & RF_READ) && api->have_read &&
	    !bearer_eq(r, api->read_sha) &&
	    !(api->have_token && bearer_eq(r, api->token_sha))) {
		ro_apireply_fail(r, MHD_HTTP_UNAUTHORIZED,
		    "missing or wrong read token "
		    "(Authorization: Bearer <token>)");
		return;
	}
	if ((rt->flags & RF_ROOM) && !ro_spec_valid_room_id(r->param))
		ro_apireply_fail(r, MHD_HTTP_BAD_REQUEST,
		    "invalid roomId \"%s\" (expected "
		    "\"room-\" and at least 6 letters, digits, '_' or '-')",
		    ro_api_shown(q, sizeof(q), r->param));
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
			ro_apihook_count(r, RO_M_HOOK_TOO_LARGE);
		ro_apireply_fail(r, MHD_HTTP_CONTENT_TOO_LARGE,
		    "body larger than %zu "
		    "bytes", rt->body_max);
	} else if (r->fail_status == 0 && r->drained + n > API_SMALL_MAX)
		ro_apireply_fail(r, MHD_HTTP_CONTENT_TOO_LARGE,
		    "body larger than %u "
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
			ro_apihook_count(r, RO_M_HOOK_TOO_LARGE);
		/* An announced oversize body: refused before it is sent when
		 * the client waits for "100 Continue" (or it is huge); else
		 * read and dropped first, so that the answer is not lost to
		 * a reset. */
		if (expects_continue(r) || cl > API_DRAIN_MAX)
			return ro_apireply_error(r, MHD_HTTP_CONTENT_TOO_LARGE,
			    "body of %llu bytes is larger than %zu bytes", cl,
			    max);
		ro_apireply_fail(r, MHD_HTTP_CONTENT_TOO_LARGE,
		    "body of %llu bytes is "
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
		return ro_apiroutes_applied(r);
	if ((status = r->fail_status) != 0) {
		ret = r->allow != NULL && status == MHD_HTTP_METHOD_NOT_ALLOWED ?
		    ro_apireply_json_h(r, status, r->fail_doc,
		    MHD_HTTP_HEADER_ALLOW,
		    r->allow) : ro_apireply_json(r, status, r->fail_doc);
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
 * inside its segment; query values by ro_api_query(). */
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
bool
ro_api_log_allowed(struct ro_api *api, char *note, size_t len)
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
	else if (ro_api_log_allowed(api, note, sizeof(note)))
		log_warnx("api: %s%s", msg, note);
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
	OPENSSL_cleanse(api->read_sha, sizeof(api->read_sha));
	OPENSSL_cleanse(api->hook_key.sha, sizeof(api->hook_key.sha));
	free(api->ui_commit_url);
	while (api->npem > 0) {
		char	*p = api->pem[--api->npem];

		OPENSSL_cleanse(p, strlen(p));
		free(p);
	}
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
	if (opts->api_read_token != NULL) {
		api->have_read = true;
		sha256(opts->api_read_token, strlen(opts->api_read_token),
		    api->read_sha);
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
	if (opts->ui_commit_url != NULL &&
	    (api->ui_commit_url = strdup(opts->ui_commit_url)) == NULL) {
		api_free(api);
		return ro_err_set(err, RO_ENOMEM, "api: out of memory");
	}
	*out = api;
	return RO_OK;
}

/* Keep a PEM text for the daemons' lifetime; NULL on ENOMEM. */
static const char *
keep_pem(struct ro_api *api, const char *pem)
{
	char	*p;

	if (api->npem >= RO_NELEM(api->pem) || (p = strdup(pem)) == NULL)
		return NULL;
	api->pem[api->npem++] = p;
	return p;
}

/* A daemon on ss (or on the listening socket lfd when not
 * MHD_INVALID_SOCKET), with the certificate and key when given. */
static struct MHD_Daemon *
start_mhd(struct ro_api *api, uint16_t port, struct sockaddr_storage *ss,
    MHD_socket lfd, const char *cert, const char *key)
{
	struct MHD_OptionItem	 o[4];
	size_t			 n = 0;

	memset(o, 0, sizeof(o));
	if (lfd != MHD_INVALID_SOCKET)
		o[n++] = (struct MHD_OptionItem){ MHD_OPTION_LISTEN_SOCKET,
		    (intptr_t)lfd, NULL };
	else
		o[n++] = (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0, ss };
	if (cert != NULL) {
		o[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0,
		    (void *)(uintptr_t)cert };
		o[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0,
		    (void *)(uintptr_t)key };
	}
	o[n] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	return MHD_start_daemon(api->mhd_flags, port, NULL, NULL, on_access,
	    api, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, api,
	    MHD_OPTION_ARRAY, o,
	    MHD_OPTION_THREAD_POOL_SIZE, api->threads,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)API_CONN_MAX,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)API_CONN_TIMEOUT_S,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, api,
	    MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL,
	    MHD_OPTION_END);
}

int
ro_api_reload_tls(struct ro_api *api, const char *cert, const char *key,
    struct ro_err *err)
{
	struct MHD_Daemon	*next;
	const char		*c, *k;
	MHD_socket		 lfd;

	if (!(api->mhd_flags & MHD_USE_TLS))
		return ro_err_set(err, RO_EINVALID, "api: not serving TLS");
	if (api->nretired >= API_TLS_RELOADS_MAX)
		return ro_err_set(err, RO_ETOOBIG, "api: %d certificate "
		    "reloads: restart the agent to load more",
		    API_TLS_RELOADS_MAX);
	if ((c = keep_pem(api, cert)) == NULL ||
	    (k = keep_pem(api, key)) == NULL)
		return ro_err_set(err, RO_ENOMEM, "api: out of memory");
	/* the old daemon stops accepting and hands over its socket */
	if ((lfd = MHD_quiesce_daemon(api->mhd)) == MHD_INVALID_SOCKET)
		return ro_err_set(err, RO_EIO, "api: cannot take the listening "
		    "socket over");
	if ((next = start_mhd(api, (uint16_t)api->port, NULL, lfd, c,
	    k)) == NULL) {
		/* nothing accepts now: fatal for the API, say so loudly */
		close(lfd);
		return ro_err_set(err, RO_EIO, "api: cannot serve the new "
		    "certificate%s%s; the API no longer accepts connections",
		    api->start_err[0] != '\0' ? ": " : "", api->start_err);
	}
	api->retired[api->nretired++] = api->mhd;
	api->mhd = next;
	return RO_OK;
}

int
ro_api_start(struct ro_api **out, const struct ro_api_opts *opts,
    const struct ro_api_ops *ops, struct ro_err *err)
{
	struct ro_api			*api = NULL;
	struct sockaddr_storage		 ss;
	const union MHD_DaemonInfo	*info;
	const char			*cert = NULL, *key = NULL;
	unsigned			 flags, threads;
	uint16_t			 port;
	bool				 v6 = false;
	char				 where[INET6_ADDRSTRLEN + 16];
	int				 error;

	RO_ASSERT(ops != NULL && ops->apply != NULL);
	if ((opts->api_token != NULL && opts->api_token[0] == '\0') ||
	    (opts->webhook_secret != NULL && opts->webhook_secret[0] == '\0'))
		return ro_err_set(err, RO_EINVALID, "api: an empty API token or "
		    "webhook secret is not allowed");
	if (opts->api_read_token != NULL && opts->api_read_token[0] == '\0')
		return ro_err_set(err, RO_EINVALID, "api: an empty read token "
		    "is not allowed");
	if (opts->tls_cert != NULL && !ro_apitls_supported())
		return ro_err_set(err, RO_EINVALID, "api: this libmicrohttpd "
		    "was built without TLS; --tls-cert cannot be served");
	if ((error = ro_optval_sockaddr(opts->host, opts->port, &ss, err)) < 0)
		return error;
	v6 = ss.ss_family == AF_INET6;
	snprintf(where, sizeof(where), v6 ? "[%s]:%u" : "%s:%u", opts->host,
	    opts->port);
	if ((error = api_alloc(&api, opts, ops, err)) < 0)
		return error;
	threads = opts->threads != 0 ? opts->threads : API_THREADS_DEFAULT;
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	if (v6)
		flags |= MHD_USE_IPv6;
	if (opts->tls_cert != NULL)
		flags |= MHD_USE_TLS;
	api->mhd_flags = flags;
	api->threads = threads;
	if (opts->tls_cert != NULL && ((cert = keep_pem(api,
	    opts->tls_cert)) == NULL || (key = keep_pem(api,
	    opts->tls_key)) == NULL)) {
		api_free(api);
		return ro_err_set(err, RO_ENOMEM, "api: out of memory");
	}
	/* the port argument only names it in MHD's messages */
	port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	api->mhd = start_mhd(api, port, &ss, MHD_INVALID_SOCKET, cert, key);
	if (api->mhd == NULL) {
		error = ro_err_set(err, RO_EIO, "api: cannot listen on %s%s%s",
		    where, api->start_err[0] != '\0' ? ": " : "",
		    api->start_err);
		api_free(api);
		return error;
	}
	pthread_mutex_lock(&api->log_mu);
	api->started = true;
	pthread_mutex_unlock(&api->log_mu);
	info = MHD_get_daemon_info(api->mhd, MHD_DAEMON_INFO_BIND_PORT);
	api->port = info != NULL ? info->port : 0;
	if ((error = ro_apisse_start(api, err)) < 0) {
		MHD_stop_daemon(api->mhd);
		api_free(api);
		return error;
	}
	log_info("api: listening on %s (port %u, %u threads)", where,
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

	if (api == NULL)
		return;
	/* 1. no new connections */
	lfd = MHD_quiesce_daemon(api->mhd);

	/* 2. end every event stream; none parks again */
	ro_apisse_stop(api);

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

	/* 4. close the rest (nothing is suspended any more), the daemons
	 * of earlier certificates too */
	MHD_stop_daemon(api->mhd);
	while (api->nretired > 0)
		MHD_stop_daemon(api->retired[--api->nretired]);
	if (lfd != MHD_INVALID_SOCKET)
		close(lfd);
	RO_ASSERT(api->nsubs == 0);
	api_free(api);
}

void
ro_api_publish(struct ro_api *api, const char *line, size_t len)
{
	if (api == NULL || line == NULL)
		return;
	ro_apisse_publish(api, line, len);
}

void
ro_api_publish_event(struct ro_api *api, const char *type, const char *line,
    size_t len)
{
	if (api == NULL || line == NULL)
		return;
	ro_apisse_publish_event(api, type, line, len);
}

