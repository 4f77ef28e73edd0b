/*
 * server.c: the libmicrohttpd daemon of roomserver-sim and the life of a
 * request. A pool of epoll threads (keep-alive, pipelining) calls
 * on_request several times per request:
 *
 *   first call   match the route, check the token (401), the body size
 *                (413) and the body budget (503); these answer at once,
 *                before any body is read
 *   upload calls append to the body, bounded by the route's cap
 *   final call   evaluate the faults (a delay suspends the connection and
 *                delay.c resumes it, calling us again), then answer:
 *                drop, injected status, 413, 404/405, or the handler
 *
 * Every answer is counted in the metrics by route template, method and
 * status. MHD's own percent-decoding is turned off: routes.c splits the
 * path first and decodes each id, so "%2F" stays inside one id.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "roomops/log.h"
#include "sim.h"

#include "../common/banned.h"

#define CONNECTION_TIMEOUT	60	/* seconds idle before closing */
#define LISTEN_BACKLOG		1024
#define DISCARD_MAX		(4ull * SIM_BODY_MAX)	/* then drop */

struct server {
	struct MHD_Daemon *daemon;
	struct sim	*sim;
	unsigned	 port;
};

static bool
budget_take(struct sim *sim, size_t n)
{
	size_t	cur = atomic_load(&sim->body_bytes);

	do {
		if (n > SIM_BODY_BUDGET - cur)
			return false;
	} while (!atomic_compare_exchange_weak(&sim->body_bytes, &cur,
	    cur + n));
	return true;
}

static void
json_free_cb(void *cls)
{
	store_json_unref(cls);
}

/* Turn rs into an HTTP response, queue it and count it. */
static enum MHD_Result
send_resp(struct MHD_Connection *c, struct sim *sim, struct sim_req *rq,
    struct sim_resp *rs)
{
	struct MHD_Response *mr = NULL;
	enum MHD_Result	 ret;
	char		*body, num[24];
	size_t		 len;

	if (rs->json != NULL) {
		mr = MHD_create_response_from_buffer_with_free_callback_cls(
		    store_json_len(rs->json), store_json_data(rs->json),
		    json_free_cb, rs->json);
		if (mr != NULL)
			rs->json = NULL;	/* MHD holds the reference */
	} else if (rs->fd != -1) {
		mr = MHD_create_response_from_fd64(rs->fd_len, rs->fd);
		if (mr != NULL)
			rs->fd = -1;		/* MHD closes it */
	} else {
		body = ro_buf_detach(&rs->body, &len);
		if (body != NULL && (mr = MHD_create_response_from_buffer(len,
		    body, MHD_RESPMEM_MUST_FREE)) == NULL)
			free(body);
	}
	if (mr == NULL) {
		log_warnx("cannot build a response: out of memory");
		reply_release(rs);
		metrics_count(sim->metrics, rq->tmpl, rq->method, 0);
		return MHD_NO;
	}
	if (rs->status != 204)
		MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
		    rs->ctype != NULL ? rs->ctype : "application/json");
	if (rs->retry_after >= 0) {
		snprintf(num, sizeof(num), "%d", rs->retry_after);
		MHD_add_response_header(mr, MHD_HTTP_HEADER_RETRY_AFTER, num);
	}
	if (rs->allow != NULL)
		MHD_add_response_header(mr, MHD_HTTP_HEADER_ALLOW, rs->allow);
	if (rs->auth_challenge)
		MHD_add_response_header(mr, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		    "Bearer realm=\"roomserver\"");
	ret = MHD_queue_response(c, (unsigned)rs->status, mr);
	MHD_destroy_response(mr);
	reply_release(rs);
	metrics_count(sim->metrics, rq->tmpl, rq->method, rs->status);
	if (rs->status >= 500 && rq->fault_action != FAULTS_STATUS)
		log_warnx("%s %s: %d", rq->method_str,
		    routes_tmpl_str(rq->tmpl), rs->status);
	else if (ro_log_enabled(RO_LOG_DEBUG))
		log_debug("%s %s %s: %d", rq->method_str,
		    routes_tmpl_str(rq->tmpl), rq->room != NULL ? rq->room :
		    "-", rs->status);
	rq->answered = true;
	return ret;
}

/* First call: route, token, size and budget. Some requests end here. */
static enum MHD_Result
on_first(struct MHD_Connection *c, struct sim *sim, struct sim_req *rq,
    const char *url)
{
	struct sim_resp	 rs;
	const char	*v;
	unsigned long long cl = 0;
	size_t		 cap, want;
	bool		 has_cl = false;
	char		*end;

	reply_init(&rs);
	routes_match(url, rq);
	rq->ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	if (sim->auth != NULL && (rq->route == NULL ||
	    !(rq->route->flags & ROUTE_OPEN)) &&
	    !auth_check(sim->auth, MHD_lookup_connection_value(c,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION))) {
		reply_error(&rs, 401, "AUTH_REQUIRED", "a valid bearer token "
		    "is required");
		rs.auth_challenge = true;
		return send_resp(c, sim, rq, &rs);
	}
	if ((v = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH)) != NULL) {
		errno = 0;
		cl = strtoull(v, &end, 10);
		has_cl = errno == 0 && end != v && *end == '\0';
	}
	cap = rq->route != NULL && rq->route->body_max > SIM_BODY_MAX ?
	    rq->route->body_max : SIM_BODY_MAX;
	if (has_cl && cl > cap) {
		reply_error(&rs, 413, "TOO_LARGE", "the body is %llu bytes, "
		    "the limit is %zu", cl, cap);
		return send_resp(c, sim, rq, &rs);
	}
	if (rq->route == NULL || rq->route->body_max == 0)
		return MHD_YES;		/* a body, if any, is discarded */
	want = has_cl ? (size_t)cl : rq->route->body_max;
	if (!budget_take(sim, want)) {
		reply_error(&rs, 503, "BUSY", "too many request bodies in "
		    "flight; retry");
		rs.retry_after = 1;
		return send_resp(c, sim, rq, &rs);
	}
	rq->reserved = want;
	ro_buf_init(&rq->body, want > 0 ? want : 1);
	return MHD_YES;
}

static void
on_upload(struct sim_req *rq, const char *data, size_t n)
{
	if (rq->too_big || rq->route == NULL || rq->route->body_max == 0 ||
	    ro_buf_add(&rq->body, data, n) < 0) {
		rq->discarded += n;
		if (rq->route != NULL && rq->route->body_max > 0)
			rq->too_big = true;
		if (rq->discarded > SIM_BODY_MAX)
			rq->too_big = true;
	}
}

/* Final call: faults, then the answer. */
static enum MHD_Result
on_final(struct MHD_Connection *c, struct sim *sim, struct sim_req *rq)
{
	struct faults_outcome fo;
	struct sim_resp	 rs;

	if (!rq->faulted) {
		rq->faulted = true;
		if (rq->route == NULL || !(rq->route->flags & ROUTE_NOFAULT)) {
			faults_eval(sim->faults, rq->tmpl, rq->method, &fo);
			rq->fault_action = fo.action;
			rq->fault_status = fo.status;
			rq->fault_retry_after = fo.retry_after;
			if (fo.delay_ms > 0) {
				MHD_suspend_connection(c);
				if (delay_add(sim->delay, c, fo.delay_ms))
					return MHD_YES;	/* called again */
				MHD_resume_connection(c);
			}
		}
	}
	if (rq->fault_action == FAULTS_DROP) {
		metrics_count(sim->metrics, rq->tmpl, rq->method, 0);
		rq->answered = true;
		return MHD_NO;		/* MHD closes without an answer */
	}
	reply_init(&rs);
	if (rq->fault_action == FAULTS_STATUS) {
		reply_error(&rs, rq->fault_status, "INJECTED_FAULT", "status "
		    "%d injected by roomserver-sim", rq->fault_status);
		rs.retry_after = rq->fault_retry_after;
	} else if (rq->too_big)
		reply_error(&rs, 413, "TOO_LARGE", "the body is over %zu bytes",
		    rq->route != NULL && rq->route->body_max > SIM_BODY_MAX ?
		    rq->route->body_max : (size_t)SIM_BODY_MAX);
	else if (rq->route == NULL && rq->path_status == 405) {
		reply_error(&rs, 405, "METHOD_NOT_ALLOWED", "%s is not allowed "
		    "on %s", rq->method_str, routes_tmpl_str(rq->tmpl));
		rs.allow = rq->allow;
	} else if (rq->route == NULL && rq->path_status == 400)
		reply_error(&rs, 400, "INVALID_PATH", "bad percent-encoding "
		    "or an id over %d bytes", SIM_SEGMENT_MAX);
	else if (rq->route == NULL && rq->path_status == 500)
		reply_error(&rs, 500, "INTERNAL", "out of memory");
	else if (rq->route == NULL)
		reply_error(&rs, 404, "NOT_FOUND", "no such endpoint");
	else
		rq->route->fn(sim, rq, &rs);
	return send_resp(c, sim, rq, &rs);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct sim	*sim = cls;
	struct sim_req	*rq = *con_cls;

	if (rq == NULL) {
		if ((rq = calloc(1, sizeof(*rq))) == NULL)
			return MHD_NO;
		*con_cls = rq;
		rq->method = routes_method_parse(method);
		rq->method_str = routes_method_str(rq->method);
		ro_buf_init(&rq->body, 1);
		return on_first(c, sim, rq, url);
	}
	if (*upload_size > 0) {
		on_upload(rq, upload, *upload_size);
		*upload_size = 0;
		if (rq->discarded > DISCARD_MAX)
			return MHD_NO;	/* will not read more of it */
		return MHD_YES;
	}
	if (rq->answered)
		return MHD_YES;
	return on_final(c, sim, rq);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct sim	*sim = cls;
	struct sim_req	*rq = *con_cls;

	if (rq == NULL)
		return;
	if (rq->reserved > 0)
		atomic_fetch_sub(&sim->body_bytes, rq->reserved);
	ro_buf_release(&rq->body);
	free(rq->room);
	free(rq->item);
	free(rq);
	*con_cls = NULL;
}

/* Keep the path as sent: routes.c decodes each segment itself. */
static size_t
unescape_none(void *cls, struct MHD_Connection *c, char *s)
{
	return strlen(s);
}

static void	on_mhd_log(void *, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char	msg[512];
	size_t	n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_warnx("libmicrohttpd: %s", msg);
}

int
server_start(struct server **out, struct sim *sim, const struct server_opts *o,
    struct ro_err *err)
{
	struct sockaddr_in	 sa;
	const union MHD_DaemonInfo *info;
	struct server		*s;
	unsigned		 flags;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)o->port);
	if (inet_pton(AF_INET, o->host, &sa.sin_addr) != 1)
		return ro_err_set(err, RO_EINVALID, "%s: not an IPv4 address",
		    o->host);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	s->sim = sim;
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | MHD_USE_TURBO;
	s->daemon = MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL,
	    on_request, sim,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)o->threads,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)SIM_CONNECTIONS_MAX,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT,
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)LISTEN_BACKLOG,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, sim,
	    MHD_OPTION_UNESCAPE_CALLBACK, unescape_none, NULL,
	    MHD_OPTION_END);
	if (s->daemon == NULL) {
		free(s);
		return ro_err_set(err, RO_EIO, "cannot listen on %s:%u (in "
		    "use, or not a local address)", o->host, o->port);
	}
	info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info != NULL ? info->port : o->port;
	*out = s;
	return RO_OK;
}

unsigned
server_port(const struct server *s)
{
	return s->port;
}

void
server_stop(struct server *s)
{
	MHD_socket	fd;

	if (s == NULL)
		return;
	fd = MHD_quiesce_daemon(s->daemon);
	delay_stop(s->sim->delay);	/* resumes every delayed request */
	MHD_stop_daemon(s->daemon);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	free(s);
}
