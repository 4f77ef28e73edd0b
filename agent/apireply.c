/*
 * apireply.c: the answers of the agent's HTTP API: JSON documents, the
 * error shapes of agent.md ({"error"} and, for /apply, {"errors",
 * "warnings"}), the status that each RO_* code maps to, and the refusal
 * decided before a body is read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "roomops/strv.h"
#include "api_impl.h"

#include "../common/banned.h"

/* Answer of last resort (the JSON could not be built). */
static char oom_body[] = "{\"error\":\"out of memory\"}";

static cJSON *
error_doc(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

unsigned
ro_apireply_status_of(int error)
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

enum MHD_Result
ro_apireply_queue(struct req *r, unsigned status, struct MHD_Response *resp)
{
	enum MHD_Result	ret;

	if (resp == NULL)
		return MHD_NO;
	ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

enum MHD_Result
ro_apireply_oom(struct req *r)
{
	struct MHD_Response	*resp;

	resp = MHD_create_response_from_buffer(strlen(oom_body), oom_body,
	    MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/json");
	return ro_apireply_queue(r, MHD_HTTP_SERVICE_UNAVAILABLE, resp);
}

/* Answer doc (taken; NULL means it could not be built: 503). */
enum MHD_Result
ro_apireply_json_h(struct req *r, unsigned status, cJSON *doc,
    const char *hname,
    const char *hvalue)
{
	struct MHD_Response	*resp;
	char			*s;

	if (doc == NULL)
		return ro_apireply_oom(r);
	s = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	if (s == NULL)
		return ro_apireply_oom(r);
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
	return ro_apireply_queue(r, status, resp);
}

enum MHD_Result
ro_apireply_json(struct req *r, unsigned status, cJSON *doc)
{
	return ro_apireply_json_h(r, status, doc, NULL, NULL);
}

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

enum MHD_Result
ro_apireply_error(struct req *r, unsigned status, const char *fmt, ...)
{
	va_list	ap;
	cJSON	*doc;

	va_start(ap, fmt);
	doc = error_doc(fmt, ap);
	va_end(ap);
	if (status == MHD_HTTP_TOO_MANY_REQUESTS ||
	    status == MHD_HTTP_SERVICE_UNAVAILABLE)
		return ro_apireply_json_h(r, status, doc,
		    MHD_HTTP_HEADER_RETRY_AFTER, "1");
	return ro_apireply_json(r, status, doc);
}

void
ro_apireply_fail(struct req *r, unsigned status, const char *fmt, ...)
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
cJSON *
ro_apireply_errors_doc(const struct ro_diag *diag, const char *msg)
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

enum MHD_Result
ro_apireply_bad_apply(struct req *r, const struct ro_diag *diag,
    const char *fmt,
    ...)
{
	va_list	ap;
	char	msg[RO_ERR_MSG_MAX + 128];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ro_apireply_json(r, MHD_HTTP_BAD_REQUEST,
	    ro_apireply_errors_doc(diag, msg));
}

enum MHD_Result
ro_apireply_core_error(struct req *r, int error, const struct ro_err *err)
{
	return ro_apireply_error(r, ro_apireply_status_of(error), "%s",
	    err->msg[0] != '\0' ? err->msg : ro_status_str(error));
}

enum MHD_Result
ro_apireply_no_op(struct req *r, const char *what)
{
	return ro_apireply_error(r, MHD_HTTP_NOT_IMPLEMENTED,
	    "%s is not available "
	    "in this agent", what);
}
