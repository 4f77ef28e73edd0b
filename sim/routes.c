/*
 * routes.c: the route table of roomserver-sim (one line per endpoint of
 * roomserver-api.md, plus the sim's own), path matching and
 * percent-decoding. The path is split on '/' before decoding, so an id
 * may contain an encoded slash ("a%2Fb") and is still one segment.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "roomops/hex.h"
#include "sim.h"

#include "../common/banned.h"

#define SEGMENTS_MAX	8	/* of a path we serve */

static const char *const tmpl_strs[T_COUNT] = {
	[T_HEALTH] = "/health",
	[T_METRICS] = "/metrics",
	[T_FAULTS] = "/_sim/faults",
	[T_FAULT] = "/_sim/faults/{id}",
	[T_STATE] = "/room/{roomId}/state",
	[T_JOIN] = "/room/{roomId}/join",
	[T_ENTITY] = "/room/{roomId}/entities/{entityId}",
	[T_SEED] = "/room/{roomId}/artifacts/seed",
	[T_ARTIFACT_HASH] = "/room/{roomId}/artifacts/{name}/hash",
	[T_ARTIFACT] = "/room/{roomId}/artifacts/{name}",
	[T_PROMOTE] = "/room/{roomId}/artifacts/{name}/promote",
	[T_POLICIES] = "/room/{roomId}/policies",
	[T_UNMATCHED] = "unmatched",
};

/* Order matters only where a literal and a {name} share a position. */
static const struct route routes[] = {
	{ SIM_GET, T_HEALTH, admin_health, 0, ROUTE_OPEN },
	{ SIM_GET, T_METRICS, admin_metrics, 0, ROUTE_NOFAULT },
	{ SIM_GET, T_FAULTS, admin_faults_get, 0, ROUTE_NOFAULT },
	{ SIM_POST, T_FAULTS, admin_faults_post, 1u << 20, ROUTE_NOFAULT },
	{ SIM_DELETE, T_FAULTS, admin_faults_clear, 0, ROUTE_NOFAULT },
	{ SIM_DELETE, T_FAULT, admin_fault_delete, 0, ROUTE_NOFAULT },
	{ SIM_GET, T_STATE, rooms_state, 0, 0 },
	{ SIM_POST, T_JOIN, entities_join, SIM_BODY_MAX, 0 },
	{ SIM_PUT, T_ENTITY, entities_put, SIM_BODY_MAX, 0 },
	{ SIM_DELETE, T_ENTITY, entities_delete, 0, 0 },
	{ SIM_POST, T_SEED, artifacts_seed, SIM_SEED_BODY_MAX, 0 },
	{ SIM_GET, T_ARTIFACT_HASH, artifacts_hash, 0, 0 },
	{ SIM_GET, T_ARTIFACT, artifacts_get, 0, 0 },
	{ SIM_DELETE, T_ARTIFACT, artifacts_delete, 0, 0 },
	{ SIM_POST, T_PROMOTE, artifacts_promote, 0, 0 },
	{ SIM_PUT, T_POLICIES, policies_put, SIM_BODY_MAX, 0 },
	{ SIM_POST, T_POLICIES, policies_post, SIM_BODY_MAX, 0 },
};

static const char *const method_strs[SIM_METHOD_COUNT] = {
	[SIM_GET] = "GET", [SIM_HEAD] = "HEAD", [SIM_POST] = "POST",
	[SIM_PUT] = "PUT", [SIM_DELETE] = "DELETE", [SIM_OTHER] = "OTHER",
};

const char *
routes_tmpl_str(enum sim_tmpl t)
{
	return tmpl_strs[t];
}

int
routes_tmpl_parse(const char *s)
{
	int	t;

	for (t = 0; t < T_COUNT; t++)
		if (strcmp(s, tmpl_strs[t]) == 0)
			return t;
	return -1;
}

const char *
routes_method_str(enum sim_method m)
{
	return method_strs[m];
}

enum sim_method
routes_method_parse(const char *s)
{
	int	m;

	for (m = 0; m < SIM_OTHER; m++)
		if (strcasecmp(s, method_strs[m]) == 0)
			return (enum sim_method)m;
	return SIM_OTHER;
}

int
routes_decode(char **out, const char *s, size_t len)
{
	int	error;

	*out = NULL;
	if (len > 3 * SIM_SEGMENT_MAX)
		return RO_ETOOBIG;
	if ((error = ro_hex_unescape(out, s, len, false)) < 0)
		return error;
	if (strlen(*out) > SIM_SEGMENT_MAX) {
		free(*out);
		*out = NULL;
		return RO_ETOOBIG;
	}
	return RO_OK;
}

struct seg {
	const char	*p;
	size_t		 len;
};

/* Split "/a/b/c" into segments; -1 when not absolute or too deep. */
static int
split(const char *url, struct seg *segs, size_t max)
{
	const char	*p = url, *q;
	int		 n = 0;

	if (*p != '/')
		return -1;
	while (*p == '/') {
		p++;
		q = p + strcspn(p, "/");
		if ((size_t)n == max)
			return -1;
		segs[n].p = p;
		segs[n].len = (size_t)(q - p);
		n++;
		p = q;
	}
	if (n == 1 && segs[0].len == 0)
		return 0;	/* "/" */
	return n;
}

/* Does the path match template t? Params are the segments in braces. */
static bool
tmpl_match(enum sim_tmpl t, const struct seg *segs, int n, int params[2])
{
	struct seg	 ts[SEGMENTS_MAX];
	int		 tn, i, np = 0;

	tn = split(tmpl_strs[t], ts, SEGMENTS_MAX);
	if (tn != n)
		return false;
	for (i = 0; i < n; i++) {
		if (ts[i].p[0] == '{') {
			if (segs[i].len == 0 || np == 2)
				return false;
			params[np++] = i;
		} else if (segs[i].len != ts[i].len ||
		    memcmp(segs[i].p, ts[i].p, ts[i].len) != 0)
			return false;
	}
	if (np < 2)
		params[np] = -1;
	return true;
}

void
routes_match(const char *url, struct sim_req *rq)
{
	struct seg	 segs[SEGMENTS_MAX];
	int		 n, params[2] = { -1, -1 };
	size_t		 i, alen = 0;
	enum sim_method	 m = rq->method == SIM_HEAD ? SIM_GET : rq->method;
	const struct route *found = NULL, *any = NULL;
	int		 error;

	rq->route = NULL;
	rq->tmpl = T_UNMATCHED;
	rq->path_status = 404;
	rq->allow[0] = '\0';
	if ((n = split(url, segs, SEGMENTS_MAX)) < 0)
		return;
	for (i = 0; i < RO_NELEM(routes); i++) {
		if (!tmpl_match(routes[i].tmpl, segs, n, params))
			continue;
		if (any == NULL)
			any = &routes[i];
		if (routes[i].method == m) {
			found = &routes[i];
			break;
		}
		if (alen < sizeof(rq->allow) - 16 &&
		    strstr(rq->allow, method_strs[routes[i].method]) == NULL)
			alen += (size_t)snprintf(rq->allow + alen,
			    sizeof(rq->allow) - alen, "%s%s",
			    alen > 0 ? ", " : "",
			    method_strs[routes[i].method]);
	}
	if (found == NULL) {
		if (any != NULL) {
			rq->tmpl = any->tmpl;
			rq->path_status = 405;
		}
		return;
	}
	rq->tmpl = found->tmpl;
	tmpl_match(found->tmpl, segs, n, params);
	if ((params[0] >= 0 && (error = routes_decode(&rq->room,
	    segs[params[0]].p, segs[params[0]].len)) < 0) ||
	    (params[1] >= 0 && (error = routes_decode(&rq->item,
	    segs[params[1]].p, segs[params[1]].len)) < 0)) {
		rq->path_status = error == RO_ENOMEM ? 500 : 400;
		return;
	}
	/* a single parameter of /_sim/faults/{id} is an item, not a room */
	if (found->tmpl == T_FAULT) {
		rq->item = rq->room;
		rq->room = NULL;
	}
	rq->route = found;
}
