/*
 * apiroutes.c: the endpoints of the agent's HTTP API other than webhooks
 * and /events: POST /apply (handed to the core, the connection suspended
 * until its done callback), status, health, readiness, metrics, audit,
 * reconcile, suspend/resume and confirm.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "roomops/audit.h"
#include "roomops/log.h"
#include "roomops/spec.h"
#include "api_impl.h"
#include "applybody.h"

#include "../common/banned.h"

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

void
ro_apiroutes_done(void *arg, int status, cJSON *body)
{
	apply_done(arg, status, body);
}

/* Hand the spec (taken) to the core and suspend until it answers. */
enum MHD_Result
ro_apiroutes_apply_queue(struct req *r, struct ro_spec *spec, bool dry_run,
    bool confirm)
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
		return ro_apireply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "the "
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
	if ((status = ro_apireply_status_of(error)) == MHD_HTTP_BAD_REQUEST)
		doc = ro_apireply_errors_doc(NULL, err.msg);
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

/* The answer of an apply that went to the core. */
enum MHD_Result
ro_apiroutes_applied(struct req *r)
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
		return ro_apireply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "the "
		    "reconciler answered with status %d", status);
	}
	if (doc == NULL)
		return ro_apireply_error(r, status < 400 ?
		    MHD_HTTP_SERVICE_UNAVAILABLE : (unsigned)status,
		    "the reconciler gave no answer document");
	if (status == MHD_HTTP_SERVICE_UNAVAILABLE ||
	    status == MHD_HTTP_TOO_MANY_REQUESTS)
		return ro_apireply_json_h(r, (unsigned)status, doc,
		    MHD_HTTP_HEADER_RETRY_AFTER, "1");
	return ro_apireply_json(r, (unsigned)status, doc);
}

enum MHD_Result
ro_apiroutes_apply(struct req *r)
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
		ret = ro_apireply_oom(r);
		goto done;
	}
	if (error < 0) {
		ret = ro_apireply_bad_apply(r, &diag, "%s", err.msg);
		goto done;
	}
	ret = ro_apiroutes_apply_queue(r, spec,
	    ro_api_header_true(r, "X-Dry-Run"),
	    ro_api_header_true(r, "X-Confirm"));
	spec = NULL;
done:
	ro_spec_free(spec);
	ro_diag_release(&diag);
	return ret;
}

enum MHD_Result
ro_apiroutes_status(struct req *r)
{
	struct ro_api	*api = r->api;
	const char	*v;
	cJSON		*doc;

	if (api->ops.status == NULL)
		return ro_apireply_no_op(r, "status");
	if ((doc = api->ops.status(api->ops.arg)) == NULL)
		return ro_apireply_oom(r);
	/* ?rooms=false: without the room list (the dashboard pages it) */
	if ((v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
	    "rooms")) != NULL && strcmp(v, "false") == 0)
		cJSON_DeleteItemFromObjectCaseSensitive(doc, "rooms");
	return ro_apireply_json(r, MHD_HTTP_OK, doc);
}

enum MHD_Result
ro_apiroutes_room_status(struct req *r)
{
	struct ro_api	*api = r->api;
	cJSON		*doc;

	if (api->ops.room_status == NULL)
		return ro_apireply_no_op(r, "room status");
	if ((doc = api->ops.room_status(api->ops.arg, r->param)) == NULL)
		return ro_apireply_error(r, MHD_HTTP_NOT_FOUND,
		    "room %s not found",
		    r->param);
	return ro_apireply_json(r, MHD_HTTP_OK, doc);
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

enum MHD_Result
ro_apiroutes_health(struct req *r)
{
	return ro_apireply_json(r, MHD_HTTP_OK, status_doc("healthy"));
}

enum MHD_Result
ro_apiroutes_ready(struct req *r)
{
	struct ro_api	*api = r->api;
	bool		 ready;

	ready = api->ops.ready != NULL && api->ops.ready(api->ops.arg);
	return ro_apireply_json(r, ready ? MHD_HTTP_OK :
	    MHD_HTTP_SERVICE_UNAVAILABLE, status_doc(ready ? "ready" :
	    "not ready"));
}

enum MHD_Result
ro_apiroutes_metrics(struct req *r)
{
	struct ro_api		*api = r->api;
	struct ro_buf		 out = RO_BUF_INIT;
	struct MHD_Response	*resp;
	char			*text;
	size_t			 len;
	int			 error;

	if (api->ops.metrics == NULL)
		return ro_apireply_no_op(r, "metrics");
	ro_buf_init(&out, API_METRICS_MAX);
	if ((error = api->ops.metrics(api->ops.arg, &out)) < 0) {
		ro_buf_release(&out);
		return ro_apireply_error(r, error == RO_ENOMEM ?
		    MHD_HTTP_SERVICE_UNAVAILABLE :
		    MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot render the "
		    "metrics: %s", ro_status_str(error));
	}
	if ((text = ro_buf_detach(&out, &len)) == NULL)
		return ro_apireply_oom(r);
	resp = MHD_create_response_from_buffer(len, text,
	    MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; version=0.0.4; charset=utf-8");
	return ro_apireply_queue(r, MHD_HTTP_OK, resp);
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

enum MHD_Result
ro_apiroutes_audit(struct req *r)
{
	struct ro_api		*api = r->api;
	struct ro_err		 err = RO_ERR_INIT;
	struct ro_audit_query	 aq = RO_AUDIT_QUERY_INIT;
	char			*count_s = NULL, *cid = NULL, *room = NULL;
	char			*rev = NULL, q[72];
	cJSON			*doc = NULL, *entries;
	enum MHD_Result		 ret;
	int			 error;

	if (api->ops.audit == NULL)
		return ro_apireply_no_op(r, "audit");
	aq.count = API_AUDIT_DEFAULT;
	if (ro_api_query(r, "count", &count_s) < 0 ||
	    ro_api_query(r, "correlationId", &cid) < 0 ||
	    ro_api_query(r, "room", &room) < 0 ||
	    ro_api_query(r, "rev", &rev) < 0) {
		ret = ro_apireply_error(r, MHD_HTTP_BAD_REQUEST, "malformed "
		    "percent-encoding in the query");
		goto done;
	}
	if (count_s != NULL && !parse_count(count_s, &aq.count)) {
		ret = ro_apireply_error(r, MHD_HTTP_BAD_REQUEST, "count must "
		    "be a positive integer (at most %d are returned), not "
		    "\"%s\"", API_AUDIT_MAX, ro_api_shown(q, sizeof(q),
		    count_s));
		goto done;
	}
	if (cid != NULL && !token_ok(cid, API_CID_MAX)) {
		ret = ro_apireply_error(r, MHD_HTTP_BAD_REQUEST, "invalid "
		    "correlationId \"%s\"", ro_api_shown(q, sizeof(q), cid));
		goto done;
	}
	if (room != NULL && !ro_spec_valid_room_id(room)) {
		ret = ro_apireply_error(r, MHD_HTTP_BAD_REQUEST, "invalid "
		    "roomId \"%s\"", ro_api_shown(q, sizeof(q), room));
		goto done;
	}
	if (rev != NULL && !token_ok(rev, API_REV_MAX)) {
		ret = ro_apireply_error(r, MHD_HTTP_BAD_REQUEST, "invalid "
		    "revision \"%s\"", ro_api_shown(q, sizeof(q), rev));
		goto done;
	}
	aq.cid = cid;
	aq.room = room;
	aq.rev = rev;
	if ((doc = cJSON_CreateObject()) == NULL ||
	    (entries = cJSON_AddArrayToObject(doc, "entries")) == NULL) {
		ret = ro_apireply_oom(r);
		goto done;
	}
	if ((error = api->ops.audit(api->ops.arg, &aq, entries, &err)) < 0) {
		ret = ro_apireply_core_error(r, error, &err);
		goto done;
	}
	ret = ro_apireply_json(r, MHD_HTTP_OK, doc);
	doc = NULL;
done:
	cJSON_Delete(doc);
	free(count_s);
	free(cid);
	free(room);
	free(rev);
	return ret;
}

enum MHD_Result
ro_apiroutes_reconcile(struct req *r)
{
	struct ro_api	*api = r->api;
	struct ro_err	 err = RO_ERR_INIT;
	cJSON		*doc;
	int		 error;

	if (api->ops.reconcile == NULL)
		return ro_apireply_no_op(r, "reconcile");
	if ((error = api->ops.reconcile(api->ops.arg, r->param, &err)) < 0)
		return ro_apireply_core_error(r, error, &err);
	if ((doc = cJSON_CreateObject()) == NULL ||
	    cJSON_AddBoolToObject(doc, "queued", 1) == NULL ||
	    (r->param != NULL &&
	    cJSON_AddStringToObject(doc, "roomId", r->param) == NULL)) {
		cJSON_Delete(doc);
		return ro_apireply_oom(r);
	}
	return ro_apireply_json(r, MHD_HTTP_ACCEPTED, doc);
}

enum MHD_Result
ro_apiroutes_suspend(struct req *r)
{
	struct ro_api	*api = r->api;
	struct ro_err	 err = RO_ERR_INIT;
	cJSON		*doc;
	bool		 suspend;
	int		 error;

	suspend = strcmp(r->seg[2], "suspend") == 0;
	if (api->ops.suspend == NULL)
		return ro_apireply_no_op(r, suspend ? "suspend" : "resume");
	if ((error = api->ops.suspend(api->ops.arg, r->param, suspend,
	    &err)) < 0)
		return ro_apireply_core_error(r, error, &err);
	if ((doc = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(doc, "roomId", r->param) == NULL ||
	    cJSON_AddBoolToObject(doc, "suspended", suspend) == NULL) {
		cJSON_Delete(doc);
		return ro_apireply_oom(r);
	}
	return ro_apireply_json(r, MHD_HTTP_OK, doc);
}

enum MHD_Result
ro_apiroutes_confirm(struct req *r)
{
	struct ro_api	*api = r->api;
	struct ro_err	 err = RO_ERR_INIT;
	char		*rev = NULL, q[72];
	cJSON		*doc = NULL;
	enum MHD_Result	 ret;
	int		 error;

	if (api->ops.confirm == NULL)
		return ro_apireply_no_op(r, "confirm");
	if (ro_api_query(r, "revision", &rev) < 0 || rev == NULL) {
		ret = ro_apireply_error(r, MHD_HTTP_BAD_REQUEST,
		    "missing revision "
		    "(?revision=REV)");
		goto done;
	}
	if (!token_ok(rev, API_REV_MAX)) {
		ret = ro_apireply_error(r, MHD_HTTP_BAD_REQUEST,
		    "invalid revision "
		    "\"%s\"", ro_api_shown(q, sizeof(q), rev));
		goto done;
	}
	if ((error = api->ops.confirm(api->ops.arg, r->param, rev,
	    &err)) < 0) {
		ret = ro_apireply_core_error(r, error, &err);
		goto done;
	}
	if ((doc = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(doc, "roomId", r->param) == NULL ||
	    cJSON_AddStringToObject(doc, "revision", rev) == NULL ||
	    cJSON_AddBoolToObject(doc, "confirmed", 1) == NULL) {
		ret = ro_apireply_oom(r);
		goto done;
	}
	ret = ro_apireply_json(r, MHD_HTTP_OK, doc);
	doc = NULL;
done:
	cJSON_Delete(doc);
	free(rev);
	return ret;
}
