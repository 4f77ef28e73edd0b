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

enum MHD_Result
ro_apidash_spec(struct req *r)
{
	struct ro_api	*api = r->api;
	struct ro_err	 err = RO_ERR_INIT;
	cJSON		*doc = NULL;
	int		 error;

	if (api->ops.room_spec == NULL)
		return ro_apireply_no_op(r, "the spec of a room");
	if ((error = api->ops.room_spec(api->ops.arg, r->param, &doc,
	    &err)) < 0)
		return ro_apireply_core_error(r, error, &err);
	return ro_apireply_json(r, MHD_HTTP_OK, doc);
}

enum MHD_Result
ro_apidash_plan(struct req *r)
{
	struct ro_api	*api = r->api;
	struct ro_err	 err = RO_ERR_INIT;
	struct ro_spec	*spec = NULL;
	int		 error;

	if (api->ops.plan_spec == NULL || api->ops.apply == NULL)
		return ro_apireply_no_op(r, "the plan of a room");
	if ((error = api->ops.plan_spec(api->ops.arg, r->param, &spec,
	    &err)) < 0) {
		if (error == RO_EINVALID)
			return ro_apireply_json(r, MHD_HTTP_UNPROCESSABLE_CONTENT,
			    ro_apireply_errors_doc(NULL, err.msg));
		return ro_apireply_core_error(r, error, &err);
	}
	return ro_apiroutes_apply_queue(r, spec, true, false);
}
