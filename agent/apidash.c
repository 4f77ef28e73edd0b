/*
 * apidash.c: the endpoints of the dashboard (docs/dashboard.md), all GET
 * and read-only: the embedded files under /ui (api_ui.c) and its
 * config.json, a page of rooms with counts by status, the spec file of a
 * room, and the current plan of a room (a dry run of the spec its source
 * has now, through the same hand-over as POST /apply).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "roomops/spec.h"
#include "api_impl.h"
#include "api_ui.h"
#include "rooms.h"

#include "../common/banned.h"

#define APIDASH_OFFSET_MAX	RO_ROOMS_MAX	/* rooms */
#define APIDASH_LIMIT_DEFAULT	100		/* rooms per page */
#define APIDASH_Q_MAX		128		/* bytes of a search */

/* A decimal 0..max; false when malformed or larger. */
static bool
parse_size(const char *s, size_t max, size_t *out)
{
	size_t	n = 0, i;

	if (s == NULL || s[0] == '\0')
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		n = n * 10 + (size_t)(s[i] - '0');
		if (n > max)
			return false;
	}
	*out = n;
	return true;
}

/* {"commitUrl": template or null} */
static enum MHD_Result
ui_config(struct req *r)
{
	struct MHD_Response	*resp;
	cJSON			*doc;
	char			*s;

	if ((doc = cJSON_CreateObject()) == NULL ||
	    (r->api->ui_commit_url != NULL ? cJSON_AddStringToObject(doc,
	    "commitUrl", r->api->ui_commit_url) : cJSON_AddNullToObject(doc,
	    "commitUrl")) == NULL ||
	    (s = cJSON_PrintUnformatted(doc)) == NULL) {
		cJSON_Delete(doc);
		return ro_apireply_oom(r);
	}
	cJSON_Delete(doc);
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
	ro_api_ui_headers(resp);
	return ro_apireply_queue(r, MHD_HTTP_OK, resp);
}

enum MHD_Result
ro_apidash_ui(struct req *r)
{
	struct MHD_Response	*resp;
	unsigned		 status;

	if (r->param != NULL && strcmp(r->param, "config.json") == 0)
		return ui_config(r);
	if ((resp = ro_api_ui_response(r->conn, r->param, &status)) == NULL)
		return MHD_NO;
	return ro_apireply_queue(r, status, resp);
}

enum MHD_Result
ro_apidash_rooms(struct req *r)
{
	static const char *const statuses[] = RO_ROOMS_STATUSES;
	struct ro_api	*api = r->api;
	char		*off_s = NULL, *lim_s = NULL, *st = NULL, *q = NULL;
	size_t		 offset = 0, limit = APIDASH_LIMIT_DEFAULT, i;
	bool		 known;
	enum MHD_Result	 ret;

	if (api->ops.rooms_page == NULL)
		return ro_apireply_no_op(r, "the room list");
	if (ro_api_query(r, "offset", &off_s) < 0 ||
	    ro_api_query(r, "limit", &lim_s) < 0 ||
	    ro_api_query(r, "status", &st) < 0 ||
	    ro_api_query(r, "q", &q) < 0) {
		ret = ro_apireply_error(r, MHD_HTTP_BAD_REQUEST, "malformed "
		    "percent-encoding in the query");
		goto done;
	}
	if (off_s != NULL && !parse_size(off_s, APIDASH_OFFSET_MAX, &offset)) {
		ret = ro_apireply_error(r, MHD_HTTP_BAD_REQUEST, "offset must "
		    "be a number from 0 to %d", APIDASH_OFFSET_MAX);
		goto done;
	}
	if (lim_s != NULL && !parse_size(lim_s, RO_ROOMS_PAGE_MAX, &limit)) {
		ret = ro_apireply_error(r, MHD_HTTP_BAD_REQUEST, "limit must "
		    "be a number from 0 to %d", RO_ROOMS_PAGE_MAX);
		goto done;
	}
	if (st != NULL && st[0] != '\0') {
		known = strcmp(st, "suspended") == 0;
		for (i = 0; !known && i < RO_NELEM(statuses); i++)
			known = strcmp(st, statuses[i]) == 0;
		if (!known) {
			ret = ro_apireply_error(r, MHD_HTTP_BAD_REQUEST,
			    "unknown status (converged, pending, applying, "
			    "partial, held, rejected, failed or suspended)");
			goto done;
		}
	}
	if (q != NULL && strlen(q) > APIDASH_Q_MAX) {
		ret = ro_apireply_error(r, MHD_HTTP_BAD_REQUEST, "q is longer "
		    "than %d bytes", APIDASH_Q_MAX);
		goto done;
	}
	ret = ro_apireply_json(r, MHD_HTTP_OK, api->ops.rooms_page(
	    api->ops.arg, offset, limit, st != NULL && st[0] != '\0' ? st :
	    NULL, q != NULL && q[0] != '\0' ? q : NULL));
done:
	free(off_s);
	free(lim_s);
	free(st);
	free(q);
	return ret;
}

/* {"error": msg}, or for an invalid spec {"errors": [msg], "warnings":
 * []} (422), with the status of error. */
static void
answer_error(struct req *r, int error, const char *msg)
{
	unsigned	 status;
	cJSON		*doc;

	if (error == RO_EINVALID) {
		status = MHD_HTTP_UNPROCESSABLE_CONTENT;
		doc = ro_apireply_errors_doc(NULL, msg);
	} else {
		status = ro_apireply_status_of(error);
		if ((doc = cJSON_CreateObject()) != NULL &&
		    cJSON_AddStringToObject(doc, "error", msg) == NULL) {
			cJSON_Delete(doc);
			doc = NULL;
		}
	}
	if (doc == NULL)
		status = MHD_HTTP_SERVICE_UNAVAILABLE;
	ro_apiroutes_done(r, (int)status, doc);
}

/* ro_api_spec_cb of GET /rooms/{id}/spec. */
static void
spec_answered(void *arg, int error, const char *msg, cJSON *doc,
    struct ro_spec *spec)
{
	struct req	*r = arg;

	ro_spec_free(spec);
	if (error < 0) {
		cJSON_Delete(doc);
		answer_error(r, error, msg);
		return;
	}
	ro_apiroutes_done(r, doc != NULL ? MHD_HTTP_OK :
	    MHD_HTTP_SERVICE_UNAVAILABLE, doc);
}

/* ro_api_spec_cb of GET /plan/{id}: the spec goes on to a dry run. */
static void
plan_answered(void *arg, int error, const char *msg, cJSON *doc,
    struct ro_spec *spec)
{
	struct req	*r = arg;
	struct ro_api	*api = r->api;
	struct ro_err	 err = RO_ERR_INIT;

	cJSON_Delete(doc);
	if (error < 0 || spec == NULL) {
		ro_spec_free(spec);
		answer_error(r, error < 0 ? error : RO_ERROR, msg != NULL ?
		    msg : "no spec");
		return;
	}
	/* the core answers through the same callback */
	if ((error = api->ops.apply(api->ops.arg, spec, true, false,
	    ro_apiroutes_done, r, &err)) < 0)
		answer_error(r, error, err.msg[0] != '\0' ? err.msg :
		    ro_status_str(error));
}

/* Suspend r for the core's answer, then ask for the room's spec. */
static enum MHD_Result
spec_queue(struct req *r, bool parse, ro_api_spec_cb *cb)
{
	struct ro_api	*api = r->api;
	struct ro_err	 err = RO_ERR_INIT;
	int		 error;

	if (api->ops.room_spec == NULL || (parse && api->ops.apply == NULL))
		return ro_apireply_no_op(r, "the spec of a room");
	pthread_mutex_lock(&api->mu);
	if (api->closing) {
		pthread_mutex_unlock(&api->mu);
		return ro_apireply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "the "
		    "agent is shutting down");
	}
	r->queued = true;
	api->inflight++;
	MHD_suspend_connection(r->conn);
	pthread_mutex_unlock(&api->mu);
	/* cb may run before this returns, on this or another thread */
	if ((error = api->ops.room_spec(api->ops.arg, r->param, parse, cb, r,
	    &err)) < 0)
		answer_error(r, error, err.msg[0] != '\0' ? err.msg :
		    ro_status_str(error));
	return MHD_YES;
}

enum MHD_Result
ro_apidash_spec(struct req *r)
{
	return spec_queue(r, false, spec_answered);
}

enum MHD_Result
ro_apidash_plan(struct req *r)
{
	return spec_queue(r, true, plan_answered);
}
