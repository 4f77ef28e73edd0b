/*
 * apihook.c: POST /hooks/{github,gitlab,gitea,generic}: the signature or
 * token (checked by hook.c, in constant time), GitHub's ping, a token
 * bucket per source (RO_API_HOOK_RATE a second), then the core is asked
 * to fetch now. Every outcome is counted in roomops_webhooks_total.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "roomops/log.h"
#include "api_impl.h"

#include "../common/banned.h"

/* Indexed by enum ro_hook_kind. */
static const char *const hook_sources[RO_METRICS_HOOK_SOURCE_MAX] =
    RO_METRICS_HOOK_SOURCES;
_Static_assert(RO_METRICS_HOOK_SOURCE_MAX == RO_HOOK_GENERIC + 1,
    "enum ro_hook_kind follows RO_METRICS_HOOK_SOURCES");

int
ro_apihook_index(const char *source)
{
	size_t	i;

	for (i = 0; i < RO_METRICS_HOOK_SOURCE_MAX; i++)
		if (strcmp(source, hook_sources[i]) == 0)
			return (int)i;
	return -1;
}

void
ro_apihook_count(struct req *r, enum ro_metrics_hook_result res)
{
	if (r->api->metrics != NULL && r->hook >= 0)
		ro_metrics_webhook(r->api->metrics, hook_sources[r->hook],
		    res);
}

/* The checks themselves are in hook.c. */
static bool
hook_authentic(struct req *r)
{
	enum ro_hook_kind	kind = (enum ro_hook_kind)r->hook;

	if (r->hook < 0)
		return false;
	return ro_hook_authentic(kind, ro_api_header(r, ro_hook_header(kind)),
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

enum MHD_Result
ro_apihook_receive(struct req *r)
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
		ro_apihook_count(r, RO_M_HOOK_UNAUTHORIZED);
		if (ro_api_log_allowed(api, note, sizeof(note)))
			log_info("api: webhook %s: missing or wrong "
			    "signature%s", src, note);
		return ro_apireply_error(r, MHD_HTTP_UNAUTHORIZED,
		    "missing or wrong "
		    "webhook signature");
	}
	ev = ro_api_header(r, "X-GitHub-Event");
	if (r->hook == RO_HOOK_GITHUB && ev != NULL && strcmp(ev, "ping") == 0) {
		ro_apihook_count(r, RO_M_HOOK_IGNORED);
		if ((doc = cJSON_CreateObject()) == NULL ||
		    cJSON_AddBoolToObject(doc, "queued", 0) == NULL ||
		    cJSON_AddStringToObject(doc, "event", "ping") == NULL) {
			cJSON_Delete(doc);
			return ro_apireply_oom(r);
		}
		return ro_apireply_json(r, MHD_HTTP_OK, doc);
	}
	if (!rate_take(api, r->hook)) {
		ro_apihook_count(r, RO_M_HOOK_RATE_LIMITED);
		return ro_apireply_error(r, MHD_HTTP_TOO_MANY_REQUESTS,
		    "more than "
		    "%d %s webhooks per second", RO_API_HOOK_RATE, src);
	}
	if (api->ops.hook == NULL)
		return ro_apireply_no_op(r, "webhooks");
	ref = ro_hook_ref(ro_buf_cstr(&r->body), r->body.len);
	if ((error = api->ops.hook(api->ops.arg, src, ref, &err)) < 0) {
		ro_apihook_count(r, RO_M_HOOK_FAILED);
		ret = ro_apireply_core_error(r, error, &err);
		goto done;
	}
	ro_apihook_count(r, RO_M_HOOK_ACCEPTED);
	if ((doc = cJSON_CreateObject()) == NULL ||
	    cJSON_AddBoolToObject(doc, "queued", 1) == NULL ||
	    (ref != NULL && cJSON_AddStringToObject(doc, "ref", ref) == NULL)) {
		ret = ro_apireply_oom(r);
		goto done;
	}
	ret = ro_apireply_json(r, MHD_HTTP_ACCEPTED, doc);
	doc = NULL;
done:
	cJSON_Delete(doc);
	free(ref);
	return ret;
}
