/*
 * reply.c: how handlers answer. A struct sim_resp holds a status and one
 * body (bytes, a shared encoded state, or a file); server.c sends it.
 * Errors are {"error": "<CODE>", "message": "<text>"} as the contract says.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "sim.h"

#include "../common/banned.h"

#define ERROR_BODY_MAX	(4u << 10)	/* bytes */

void
reply_init(struct sim_resp *rs)
{
	rs->status = 500;
	rs->ctype = NULL;
	ro_buf_init(&rs->body, 0);
	rs->json = NULL;
	rs->fd = -1;
	rs->fd_len = 0;
	rs->retry_after = -1;
	rs->allow = NULL;
	rs->auth_challenge = false;
}

void
reply_release(struct sim_resp *rs)
{
	ro_buf_release(&rs->body);
	store_json_unref(rs->json);
	rs->json = NULL;
	if (rs->fd != -1)
		close(rs->fd);
	rs->fd = -1;
}

static void
set_body(struct sim_resp *rs, int status, const char *s)
{
	reply_release(rs);
	rs->status = status;
	rs->ctype = NULL;
	if (ro_buf_addstr(&rs->body, s) < 0)
		rs->status = 500;
}

/*
 * Messages quote ids from the request, which may be any bytes, or cut a
 * character in two: keep the body valid UTF-8 by turning every byte that
 * does not start a well-formed character into '?'.
 */
static void
utf8_scrub(char *s, size_t len)
{
	size_t	i = 0, n;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];

		n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
		if (c < 0x80 || (n <= len - i && validate_text(s + i, n, 4))) {
			i += n;
			continue;
		}
		s[i++] = '?';
	}
}

int
reply_error(struct sim_resp *rs, int status, const char *code,
    const char *fmt, ...)
{
	struct ro_buf	msg = RO_BUF_INIT, body = RO_BUF_INIT;
	va_list		ap;

	ro_buf_init(&msg, ERROR_BODY_MAX);
	ro_buf_init(&body, 2 * ERROR_BODY_MAX);
	va_start(ap, fmt);
	(void)ro_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	if (msg.ptr != NULL)
		utf8_scrub(msg.ptr, msg.len);
	(void)ro_buf_addstr(&body, "{\"error\":");
	(void)ro_buf_add_json_str(&body, code);
	(void)ro_buf_addstr(&body, ",\"message\":");
	(void)ro_buf_add_json_str(&body, ro_buf_cstr(&msg));
	(void)ro_buf_addch(&body, '}');
	set_body(rs, status, ro_buf_cstr(&body));
	ro_buf_release(&msg);
	ro_buf_release(&body);
	return RO_ERROR;
}

int
reply_store_error(struct sim_resp *rs, int error, const struct ro_err *err)
{
	const char	*msg = err != NULL && err->msg[0] != '\0' ? err->msg :
	    ro_status_str(error);

	if (error == RO_ENOMEM)
		return reply_error(rs, 500, "INTERNAL", "out of memory");
	if (error == RO_ETOOBIG)
		return reply_error(rs, 507, "LIMIT_EXCEEDED", "%s", msg);
	return reply_error(rs, 500, "STORAGE_ERROR", "%s", msg);
}

void
reply_json(struct sim_resp *rs, int status, cJSON *obj)
{
	char	*s;

	if (obj == NULL || (s = cJSON_PrintUnformatted(obj)) == NULL) {
		cJSON_Delete(obj);
		reply_error(rs, 500, "INTERNAL", "out of memory");
		return;
	}
	set_body(rs, status, s);
	cJSON_free(s);
	cJSON_Delete(obj);
}

void
reply_text(struct sim_resp *rs, int status, const char *ctype,
    struct ro_buf *body)
{
	reply_release(rs);
	rs->status = status;
	rs->ctype = ctype;
	rs->body = *body;
	ro_buf_init(body, body->max);
}

cJSON *
reply_parse_value(struct sim_req *rq, struct sim_resp *rs)
{
	const char	*end = NULL, *stop;
	cJSON		*o;

	if (rq->body.len == 0) {
		reply_error(rs, 400, "INVALID_JSON", "the body is empty");
		return NULL;
	}
	o = cJSON_ParseWithLengthOpts(rq->body.ptr, rq->body.len, &end, 0);
	if (o == NULL) {
		reply_error(rs, 400, "INVALID_JSON", "the body is not JSON "
		    "(near byte %zu)", end != NULL && end >= rq->body.ptr ?
		    (size_t)(end - rq->body.ptr) : 0);
		return NULL;
	}
	stop = rq->body.ptr + rq->body.len;
	while (end < stop && (*end == ' ' || *end == '\t' || *end == '\r' ||
	    *end == '\n'))
		end++;
	if (end != stop) {
		cJSON_Delete(o);
		reply_error(rs, 400, "INVALID_JSON", "trailing data after the "
		    "JSON value (byte %zu)", (size_t)(end - rq->body.ptr));
		return NULL;
	}
	return o;
}

cJSON *
reply_parse_body(struct sim_req *rq, struct sim_resp *rs)
{
	cJSON	*o;

	if ((o = reply_parse_value(rq, rs)) != NULL && !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		reply_error(rs, 400, "INVALID_JSON", "the body is not a JSON "
		    "object");
		return NULL;
	}
	return o;
}
