/*
 * test_agent_api.c: the HTTP API of `roomops agent` end to end: the real
 * binary ($RO_BIN) in API-only mode (neither --repo nor --watch) against
 * a real roomserver-sim, every endpoint of agent.md and its error paths
 * driven with libcurl, the sim's state and counters checked after each.
 *
 * Covered: POST /apply (every diff list, idempotency, X-Dry-Run,
 * X-Confirm), malformed/huge/incomplete bodies (exactly 400 {errors,
 * warnings} or 413, never 500), /status and /status/rooms/{id}
 * (cyclesSinceConverged, isReconciling during a slow apply), /health,
 * /ready (503 until the RoomServer answers), /metrics (the six
 * room_operator_* series moving), /audit queries, /events (SSE),
 * /reconcile, suspend/resume/confirm, the API token, GitHub webhooks on
 * a Git source (right HMAC fetches at once, wrong one is 401 and queues
 * nothing), 20 concurrent applies to one room (serialised) and applies
 * to 10 rooms (in parallel).
 */
#include <pthread.h>
#include <stdarg.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "roomops/shard.h"
#include "agentctl.h"

#define API_TOKEN	"e2e-api-token-0123456789"
#define HOOK_SECRET	"e2e-hook-secret-42"
#define SETTLE_MS	800
#define N_SAME		20		/* concurrent applies, one room */
#define N_ROOMS		10		/* applies to different rooms */

struct fx {
	struct simctl	 sim;
	struct agentctl	 a;
	char		*state;
	char		*audit;
	char		*tmp;		/* secrets, repos */
};

#define WAIT(f, cond)	AC_WAIT_AGENT(&(f)->a, cond)

/* {"spec": RoomSpec} with n entities E-e0.. named "<label> i". */
static char *
body(const char *room, int n, const char *label)
{
	struct ro_buf	 b = RO_BUF_INIT;
	char		*s;
	int		 i;

	ro_buf_printf(&b, "{\"spec\": {\"apiVersion\": \"v1\", \"kind\": "
	    "\"RoomSpec\", \"metadata\": {\"name\": \"e2e\", \"version\": 1}, "
	    "\"spec\": {\"roomId\": \"%s\", \"entities\": [", room);
	for (i = 0; i < n; i++)
		ro_buf_printf(&b, "%s{\"id\": \"E-e%d\", \"kind\": \"agent\", "
		    "\"displayName\": \"%s %d\"}", i > 0 ? ", " : "", i, label,
		    i);
	ro_buf_printf(&b, "], \"artifacts\": [], \"policies\": "
	    "{\"dmVisibilityDefault\": \"team\"}}}}");
	s = strdup(ro_buf_cstr(&b));
	ro_buf_release(&b);
	assert_non_null(s);
	return s;
}

static char *
url(const struct fx *f, const char *path)
{
	char	*u;

	if (asprintf(&u, "%s%s", f->a.url, path) < 0)
		abort();
	return u;
}

/* POST /apply; the answer document, status in *st. */
static cJSON *
apply(struct fx *f, const char *b, const char *const *headers, long *st)
{
	char	*u = url(f, "/apply");
	cJSON	*doc = ac_json("POST", u, b, headers, st);

	free(u);
	return doc;
}

/* POST path with no body: the status. */
static long
post(struct fx *f, const char *path, const char *const *headers)
{
	char	*u = url(f, path);
	long	 st = ac_http("POST", u, NULL, 0, headers, NULL);

	free(u);
	return st;
}

/* POST path with a body: the status. */
static long
post_body(struct fx *f, const char *path, const char *b,
    const char *const *headers)
{
	char	*u = url(f, path);
	long	 st = ac_http("POST", u, b, SIZE_MAX, headers, NULL);

	free(u);
	return st;
}

static void
start(struct fx *f, const char *const *extra)
{
	const char	*args[32];
	size_t		 n = 0, i;

	args[n++] = "--server";
	args[n++] = f->sim.url;
	args[n++] = "--state-dir";
	args[n++] = f->state;
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	assert_int_equal(ac_agent_start(&f->a, args), 0);
}

static int
setup_bare(void **state)
{
	struct fx	*f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->sim = (struct simctl)SIMCTL_INIT;
	f->a = (struct agentctl)AGENTCTL_INIT;
	if (ac_sim_start(&f->sim, NULL) < 0)
		return -1;
	f->state = tu_tmpdir();
	f->tmp = tu_tmpdir();
	f->audit = tu_path(f->state, "audit.jsonl");
	*state = f;
	return 0;
}

/* API only, default guardrails. */
static int
setup(void **state)
{
	struct fx	*f;

	if (setup_bare(state) < 0)
		return -1;
	f = *state;
	start(f, NULL);
	WAIT(f, ac_ready(&f->a));
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*f = *state;
	int		 st;

	if (f == NULL)
		return 0;
	st = ac_agent_stop(&f->a);
	if (st != 0 && st != -1)
		fprintf(stderr, "agent exit status %d\n", st);
	if (st != 0 && f->a.log != NULL)
		ac_agent_dump(&f->a);
	ac_agent_cleanup(&f->a);
	simctl_cleanup(&f->sim);
	tu_rmrf(f->state);
	tu_rmrf(f->tmp);
	free(f->state);
	free(f->tmp);
	free(f->audit);
	free(f);
	return st == 0 || st == -1 ? 0 : -1;
}

static const char *const diff_lists[] = { "toJoin", "toKick", "toUpdate",
	"toSeed", "toPromote", "toDeleteArtifacts", "toApply", "blocked" };

static int
diff_len(const cJSON *ans, const char *list)
{
	return ac_len(cJSON_GetObjectItemCaseSensitive(ans, "diff"), list);
}

/* 200, success, and every diff list present. */
static void
check_apply_ok(const cJSON *ans, long st, const char *phase)
{
	size_t	i;

	if (st != 200 || ans == NULL || !ac_bool(ans, "success")) {
		char *s = ans != NULL ? cJSON_PrintUnformatted(ans) : NULL;

		fail_msg("apply: %ld %s", st, s != NULL ? s : "(no body)");
	}
	assert_false(ac_bool(ans, "partialSuccess"));
	assert_string_equal(ac_str(ans, "phase"), phase);
	assert_non_null(ac_str(ans, "correlationId"));
	assert_int_equal(strlen(ac_str(ans, "correlationId")), 36);
	for (i = 0; i < RO_NELEM(diff_lists); i++)
		if (diff_len(ans, diff_lists[i]) < 0)
			fail_msg("diff.%s missing", diff_lists[i]);
	assert_true(ac_len(ans, "warnings") >= 0);
	assert_true(ac_num(ans, "duration", -1) >= 0);
}

/* Exactly 400 {errors: [..>=1], warnings: [...]}. */
static void
check_400(const cJSON *ans, long st, const char *what, const char *needle)
{
	const cJSON	*errs;

	if (st != 400 || ans == NULL) {
		char *s = ans != NULL ? cJSON_PrintUnformatted(ans) : NULL;

		fail_msg("%s: %ld %s (want exactly 400)", what, st,
		    s != NULL ? s : "(no JSON body)");
	}
	errs = cJSON_GetObjectItemCaseSensitive(ans, "errors");
	assert_true(cJSON_IsArray(errs) && cJSON_GetArraySize(errs) >= 1);
	assert_true(ac_len(ans, "warnings") >= 0);
	if (needle != NULL) {
		char *s = cJSON_PrintUnformatted(errs);

		if (!tu_contains(s, needle))
			fail_msg("%s: errors do not mention %s", what, needle);
		free(s);
	}
}

/* ------------------------------------------------------------------ */

static void
test_apply(void **state)
{
	struct fx	*f = *state;
	const char	*dry[] = { "X-Dry-Run: true", NULL };
	const char	*conf_bad[] = { "X-Confirm: yes", NULL };
	const char	*conf[] = { "X-Confirm: true", NULL };
	char		*b;
	cJSON		*ans;
	long		 st, muts, rev;
	int		 recs;

	/* empty room to four entities */
	b = body("room-api-apply", 4, "Agent");
	ans = apply(f, b, NULL, &st);
	check_apply_ok(ans, st, "VERIFY");
	assert_int_equal(diff_len(ans, "toJoin"), 4);
	assert_true(ac_bool(ans, "converged"));
	assert_int_equal(ac_sim_count_of(&f->sim, "room-api-apply",
	    "entities"), 4);
	cJSON_Delete(ans);
	assert_int_equal(ac_audit_count(f->audit, "room-api-apply", "applied"),
	    1);

	/* the same again: nothing to join, nothing changed */
	muts = ac_sim_count(&f->sim, NULL, NULL, 0);
	ans = apply(f, b, NULL, &st);
	check_apply_ok(ans, st, "VERIFY");
	assert_int_equal(diff_len(ans, "toJoin"), 0);
	assert_int_equal(ac_sim_count(&f->sim, NULL, NULL, 0), muts);
	cJSON_Delete(ans);
	free(b);

	/* a dry run plans a change and makes none */
	b = body("room-api-apply", 4, "Renamed");
	rev = ac_sim_revision(&f->sim, "room-api-apply");
	recs = ac_audit_count(f->audit, NULL, NULL);
	ans = apply(f, b, dry, &st);
	check_apply_ok(ans, st, "PRE_CHECKS");
	assert_int_equal(diff_len(ans, "toUpdate"), 4);
	assert_int_equal(diff_len(ans, "toJoin"), 0);
	cJSON_Delete(ans);
	assert_int_equal(ac_sim_count(&f->sim, NULL, NULL, 0), muts);
	assert_int_equal(ac_sim_revision(&f->sim, "room-api-apply"), rev);
	assert_int_equal(ac_audit_count(f->audit, NULL, NULL), recs);
	assert_true(ac_sim_entity_is(&f->sim, "room-api-apply", "E-e0",
	    "displayName", "Agent 0"));
	free(b);

	/*
	 * Three of four entities removed: over the change threshold, so
	 * blocked without confirmation (X-Confirm must be exactly "true").
	 */
	b = body("room-api-apply", 1, "Agent");
	ans = apply(f, b, NULL, &st);
	assert_int_equal(st, 200);
	assert_true(diff_len(ans, "blocked") >= 1);
	cJSON_Delete(ans);
	ans = apply(f, b, conf_bad, &st);
	assert_int_equal(st, 200);
	assert_true(diff_len(ans, "blocked") >= 1);
	cJSON_Delete(ans);
	assert_int_equal(ac_sim_count_of(&f->sim, "room-api-apply",
	    "entities"), 4);
	assert_true(ac_audit_count(f->audit, "room-api-apply", "blocked") >= 2);
	ans = apply(f, b, conf, &st);
	check_apply_ok(ans, st, "VERIFY");
	assert_int_equal(diff_len(ans, "toKick"), 3);
	assert_int_equal(diff_len(ans, "blocked"), 0);
	assert_true(ac_bool(ans, "converged"));
	cJSON_Delete(ans);
	assert_int_equal(ac_sim_count_of(&f->sim, "room-api-apply",
	    "entities"), 1);
	free(b);
}

static void
test_apply_errors(void **state)
{
	struct fx	*f = *state;
	static const struct {
		const char	*what, *body, *needle;
	} bad[] = {
		{ "malformed JSON", "{\"spec\": {", NULL },
		{ "trailing garbage", "{\"spec\": {}} x", NULL },
		{ "empty body", "", NULL },
		{ "not an object", "[1, 2]", NULL },
		{ "missing spec", "{\"notspec\": {}}", "spec" },
		{ "null spec", "{\"spec\": null}", "spec" },
		{ "missing roomId", "{\"spec\": {\"apiVersion\": \"v1\", "
		    "\"kind\": \"RoomSpec\", \"metadata\": {\"name\": \"x\"}, "
		    "\"spec\": {\"entities\": []}}}", "roomId" },
		{ "bad roomId", "{\"spec\": {\"apiVersion\": \"v1\", "
		    "\"kind\": \"RoomSpec\", \"metadata\": {\"name\": \"x\"}, "
		    "\"spec\": {\"roomId\": \"bad-room\", \"entities\": []}}}",
		    "roomId" },
		{ "bad entity kind", "{\"spec\": {\"apiVersion\": \"v1\", "
		    "\"kind\": \"RoomSpec\", \"metadata\": {\"name\": \"x\"}, "
		    "\"spec\": {\"roomId\": \"room-api-errors\", \"entities\": "
		    "[{\"id\": \"E-x1\", \"kind\": \"robot\"}]}}}", "kind" },
		{ "spec of the wrong type", "{\"spec\": 42}", NULL },
		{ "NUL byte", "{\"spec\": \"\\u0000\"}", NULL },
	};
	char		*u = url(f, "/apply"), *huge;
	struct ro_buf	 out = RO_BUF_INIT;
	size_t		 i, n = (17u << 20);
	cJSON		*ans;
	long		 st, muts = ac_sim_count(&f->sim, NULL, NULL, 0);

	for (i = 0; i < RO_NELEM(bad); i++) {
		ans = ac_json("POST", u, bad[i].body, NULL, &st);
		check_400(ans, st, bad[i].what, bad[i].needle);
		cJSON_Delete(ans);
	}
	/* a raw NUL inside the body */
	ro_buf_init(&out, AC_BODY_MAX);
	st = ac_http("POST", u, "{\"spec\": \0}", 11, NULL, &out);
	ans = cJSON_Parse(ro_buf_cstr(&out));
	check_400(ans, st, "raw NUL", NULL);
	cJSON_Delete(ans);
	ro_buf_release(&out);

	/* over 16 MiB */
	huge = malloc(n + 1);
	assert_non_null(huge);
	memset(huge, ' ', n);
	memcpy(huge, "{\"spec\": ", 9);
	huge[n - 1] = '}';
	huge[n] = '\0';
	st = ac_http("POST", u, huge, n, NULL, NULL);
	assert_int_equal(st, 413);
	free(huge);

	/* wrong method, unknown endpoint */
	assert_int_equal(ac_http("GET", u, NULL, 0, NULL, NULL), 405);
	free(u);
	u = url(f, "/nope");
	assert_int_equal(ac_http("GET", u, NULL, 0, NULL, NULL), 404);
	free(u);

	/* nothing reached the RoomServer, nothing was audited */
	assert_int_equal(ac_sim_count(&f->sim, NULL, NULL, 0), muts);
	assert_int_equal(ac_sim_agent_gets(&f->sim), 0);
	assert_int_equal(ac_audit_count(f->audit, NULL, NULL), 0);
	/* and the agent is still well */
	assert_true(ac_ready(&f->a));
}

struct bg {
	struct fx	*f;
	char		*body;
	const char	*const *headers;
	pthread_t	 tid;
	long		 st;
	cJSON		*ans;
	long long	 t0, t1;
};

static void *
bg_run(void *arg)
{
	struct bg	*g = arg;

	g->t0 = ac_now_ms();
	g->ans = apply(g->f, g->body, g->headers, &g->st);
	g->t1 = ac_now_ms();
	return NULL;
}

static void
bg_start(struct bg *g, struct fx *f, char *b)
{
	memset(g, 0, sizeof(*g));
	g->f = f;
	g->body = b;
	assert_int_equal(pthread_create(&g->tid, NULL, bg_run, g), 0);
}

static void
bg_join(struct bg *g)
{
	pthread_join(g->tid, NULL);
	free(g->body);
	g->body = NULL;
}

static bool
room_reconciling(struct fx *f, const char *room)
{
	cJSON	*o = ac_room(&f->a, room);
	bool	 on = ac_bool(o, "isReconciling");

	cJSON_Delete(o);
	return on;
}

static void
test_status(void **state)
{
	struct fx	*f = *state;
	const char	*conf[] = { "X-Confirm: true", NULL };
	const char	*keys[] = { "version", "health", "rooms",
			    "queuedRequests", "timestamp", "source" };
	const char	*src_keys[] = { "repo", "branch", "head", "lastFetch",
			    "lastError" };
	struct bg	 g;
	cJSON		*doc, *ans, *rm;
	char		*b;
	long		 st;
	size_t		 i;

	doc = ac_get(f->a.url, "/status");
	assert_non_null(doc);
	for (i = 0; i < RO_NELEM(keys); i++)
		if (cJSON_GetObjectItemCaseSensitive(doc, keys[i]) == NULL)
			fail_msg("/status: no %s", keys[i]);
	for (i = 0; i < RO_NELEM(src_keys); i++)
		assert_non_null(cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(doc, "source"),
		    src_keys[i]));
	assert_int_equal(ac_len(doc, "rooms"), 0);
	assert_string_equal(ac_str(doc, "health"), "Healthy");
	cJSON_Delete(doc);

	/* unknown room: 404 {"error"}; an invalid id is 400, never 500 */
	b = url(f, "/status/rooms/room-never-seen");
	doc = ac_json("GET", b, NULL, NULL, &st);
	assert_int_equal(st, 404);
	assert_non_null(ac_str(doc, "error"));
	cJSON_Delete(doc);
	free(b);
	b = url(f, "/status/rooms/bad-room");
	st = ac_http("GET", b, NULL, 0, NULL, NULL);
	assert_true(st == 400 || st == 404);
	free(b);

	/* converged apply: cyclesSinceConverged 0 */
	b = body("room-api-status", 3, "S");
	ans = apply(f, b, NULL, &st);
	check_apply_ok(ans, st, "VERIFY");
	cJSON_Delete(ans);
	free(b);
	rm = ac_room(&f->a, "room-api-status");
	assert_non_null(rm);
	assert_string_equal(ac_str(rm, "roomId"), "room-api-status");
	assert_string_equal(ac_str(rm, "currentPhase"), "CONVERGED");
	assert_false(ac_bool(rm, "isReconciling"));
	assert_false(ac_bool(rm, "suspended"));
	assert_non_null(ac_str(rm, "lastReconcile"));
	assert_string_equal(ac_str(rm, "lastRevision"), "api");
	assert_non_null(cJSON_GetObjectItemCaseSensitive(rm, "pendingDiff"));
	assert_int_equal(ac_len(rm, "blocked"), 0);
	assert_int_equal(ac_num(rm, "cyclesSinceConverged", -1), 0);
	cJSON_Delete(rm);

	/* unconverged cycles count up: blocked, then a failing server */
	b = body("room-api-status", 1, "S");
	ans = apply(f, b, NULL, &st);
	assert_int_equal(st, 200);
	assert_true(diff_len(ans, "blocked") >= 1);
	cJSON_Delete(ans);
	assert_int_equal(ac_room_num(&f->a, "room-api-status",
	    "cyclesSinceConverged"), 1);
	rm = ac_room(&f->a, "room-api-status");
	assert_true(ac_len(rm, "blocked") >= 1);
	cJSON_Delete(rm);
	ac_sim_fault(&f->sim, "{\"kind\": \"status\", \"status\": 500, "
	    "\"route\": \"/room/{roomId}/entities/{entityId}\"}");
	ans = apply(f, b, conf, &st);
	assert_true(st == 200 || st == 502);
	assert_true(ac_bool(ans, "partialSuccess") ||
	    !ac_bool(ans, "success"));
	cJSON_Delete(ans);
	assert_int_equal(ac_room_num(&f->a, "room-api-status",
	    "cyclesSinceConverged"), 2);
	assert_true(ac_audit_count(f->audit, "room-api-status", "partial") +
	    ac_audit_count(f->audit, "room-api-status", "failed") >= 1);
	ac_sim_fault(&f->sim, NULL);
	ans = apply(f, b, conf, &st);
	check_apply_ok(ans, st, "VERIFY");
	cJSON_Delete(ans);
	free(b);
	assert_int_equal(ac_room_num(&f->a, "room-api-status",
	    "cyclesSinceConverged"), 0);

	/* a slow apply: isReconciling and the active count while it runs */
	ac_sim_fault(&f->sim, "{\"kind\": \"delay\", \"ms\": 1500, "
	    "\"route\": \"/room/{roomId}/join\"}");
	bg_start(&g, f, body("room-api-slow", 2, "Slow"));
	WAIT(f, room_reconciling(f, "room-api-slow"));
	doc = ac_get(f->a.url, "/status");
	assert_true(ac_num(doc, "activeReconciliations", 0) >= 1);
	cJSON_Delete(doc);
	assert_true(ac_metric(&f->a, "room_operator_active_reconciliations") >=
	    1);
	bg_join(&g);
	check_apply_ok(g.ans, g.st, "VERIFY");
	cJSON_Delete(g.ans);
	ac_sim_fault(&f->sim, NULL);
	assert_false(room_reconciling(f, "room-api-slow"));
	assert_int_equal(ac_metric(&f->a,
	    "room_operator_active_reconciliations"), 0);
	doc = ac_get(f->a.url, "/status");
	assert_int_equal(ac_len(doc, "rooms"), 2);
	cJSON_Delete(doc);
}

/* /health always; /ready only once the RoomServer has answered. */
static void
test_health_ready(void **state)
{
	struct fx	*f = *state;
	char		*u;
	cJSON		*doc;
	long		 st;
	int		 i;

	/* the RoomServer's /health fails: not ready, yet alive */
	ac_sim_fault(&f->sim, "{\"kind\": \"status\", \"status\": 503, "
	    "\"route\": \"/health\"}");
	start(f, NULL);
	u = url(f, "/ready");
	for (i = 0; i < 10; i++) {
		doc = ac_json("GET", u, NULL, NULL, &st);
		assert_int_equal(st, 503);
		cJSON_Delete(doc);
		ac_sleep_ms(100);
	}
	doc = ac_get(f->a.url, "/health");
	assert_non_null(doc);
	assert_string_equal(ac_str(doc, "status"), "healthy");
	assert_non_null(ac_str(doc, "timestamp"));
	cJSON_Delete(doc);
	doc = ac_get(f->a.url, "/status");
	assert_string_equal(ac_str(doc, "health"), "Unhealthy");
	assert_false(ac_bool(doc, "ready"));
	cJSON_Delete(doc);
	/* it answers again: ready (the prober looks every 5 s) */
	ac_sim_fault(&f->sim, NULL);
	WAIT(f, ac_http("GET", u, NULL, 0, NULL, NULL) == 200);
	free(u);
	doc = ac_get(f->a.url, "/status");
	assert_string_equal(ac_str(doc, "health"), "Healthy");
	cJSON_Delete(doc);
}

static void
test_metrics(void **state)
{
	struct fx	*f = *state;
	static const char *const six[] = {
		"room_operator_reconcile_attempts_total",
		"room_operator_reconcile_successes_total",
		"room_operator_reconcile_failures_total",
		"room_operator_reconcile_duration_seconds_count",
		"room_operator_queued_requests",
		"room_operator_active_reconciliations",
	};
	double		 before[RO_NELEM(six)], after[RO_NELEM(six)];
	char		*b;
	cJSON		*ans;
	long		 st;
	size_t		 i;

	for (i = 0; i < RO_NELEM(six); i++) {
		before[i] = ac_metric(&f->a, six[i]);
		if (before[i] < 0)
			fail_msg("/metrics: no %s", six[i]);
	}
	assert_true(ac_metric(&f->a, "roomops_rooms{state=\"converged\"}") >=
	    0);
	assert_true(ac_metric(&f->a, "roomops_queue_depth") >= 0);
	assert_true(ac_metric(&f->a, "roomops_audit_write_errors_total") >= 0);

	b = body("room-api-metrics", 2, "M");
	ans = apply(f, b, NULL, &st);
	check_apply_ok(ans, st, "VERIFY");
	cJSON_Delete(ans);
	ans = apply(f, b, NULL, &st);
	check_apply_ok(ans, st, "VERIFY");
	cJSON_Delete(ans);
	free(b);
	/* a failure: the RoomServer refuses to show the state */
	ac_sim_fault(&f->sim, "{\"kind\": \"status\", \"status\": 500, "
	    "\"route\": \"/room/{roomId}/state\"}");
	b = body("room-api-metrics2", 1, "M");
	ans = apply(f, b, NULL, &st);
	assert_int_equal(st, 502);
	assert_false(ac_bool(ans, "success"));
	cJSON_Delete(ans);
	free(b);
	ac_sim_fault(&f->sim, NULL);

	for (i = 0; i < RO_NELEM(six); i++)
		after[i] = ac_metric(&f->a, six[i]);
	fprintf(stderr, "metrics: attempts %g -> %g, successes %g -> %g, "
	    "failures %g -> %g, durations %g -> %g\n", before[0], after[0],
	    before[1], after[1], before[2], after[2], before[3], after[3]);
	assert_true(after[0] == before[0] + 3);
	assert_true(after[1] == before[1] + 2);
	assert_true(after[2] == before[2] + 1);
	assert_true(after[3] == before[3] + 3);
	assert_true(after[4] == 0 && after[5] == 0);
	assert_true(ac_metric(&f->a, "room_operator_reconcile_duration_seconds"
	    "_sum") > 0);
	assert_true(ac_metric(&f->a, "roomops_rooms{state=\"converged\"}") ==
	    1);
	assert_true(ac_metric(&f->a, "roomops_rooms{state=\"failed\"}") == 1);
}

static void
test_audit(void **state)
{
	struct fx	*f = *state;
	char		*b, path[256], cid[64];
	cJSON		*ans, *doc, *e;
	long		 st;
	int		 i;

	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "room-api-audit%d", i);
		b = body(path, 1, "A");
		ans = apply(f, b, NULL, &st);
		check_apply_ok(ans, st, "VERIFY");
		if (i == 1)
			snprintf(cid, sizeof(cid), "%s",
			    ac_str(ans, "correlationId"));
		cJSON_Delete(ans);
		free(b);
	}
	doc = ac_get(f->a.url, "/audit");
	assert_int_equal(ac_len(doc, "entries"), 3);
	/* oldest first */
	assert_string_equal(ac_str(cJSON_GetArrayItem(cJSON_GetObjectItem(doc,
	    "entries"), 0), "room"), "room-api-audit0");
	cJSON_Delete(doc);
	doc = ac_get(f->a.url, "/audit?count=1");
	assert_int_equal(ac_len(doc, "entries"), 1);
	assert_string_equal(ac_str(cJSON_GetArrayItem(cJSON_GetObjectItem(doc,
	    "entries"), 0), "room"), "room-api-audit2");
	cJSON_Delete(doc);
	doc = ac_get(f->a.url, "/audit?room=room-api-audit0");
	assert_int_equal(ac_len(doc, "entries"), 1);
	cJSON_Delete(doc);
	snprintf(path, sizeof(path), "/audit?correlationId=%s", cid);
	doc = ac_get(f->a.url, path);
	assert_int_equal(ac_len(doc, "entries"), 1);
	e = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "entries"), 0);
	assert_string_equal(ac_str(e, "correlationId"), cid);
	assert_string_equal(ac_str(e, "room"), "room-api-audit1");
	assert_string_equal(ac_str(e, "source"), "api");
	assert_string_equal(ac_str(e, "rev"), "api");
	assert_string_equal(ac_str(e, "outcome"), "applied");
	assert_int_equal(ac_num(cJSON_GetObjectItem(e, "diff"), "join", -1), 1);
	cJSON_Delete(doc);
	doc = ac_get(f->a.url, "/audit?room=room-api-nothing");
	assert_int_equal(ac_len(doc, "entries"), 0);
	cJSON_Delete(doc);
	/* the same records as the JSONL log */
	assert_int_equal(ac_audit_count(f->audit, NULL, NULL), 3);
	snprintf(path, sizeof(path), "%s/audit?count=x", f->a.url);
	st = ac_http("GET", path, NULL, 0, NULL, NULL);
	assert_int_equal(st, 400);
}

/* A log of 60,000 records (a malformed and an over-long line inside):
 * /audit finds the newest ones, a needle deep inside, and every record of
 * one room, reading the log backwards. */
static void
test_audit_big_log(void **state)
{
	struct fx	*f = *state;
	struct stat	 sb;
	FILE		*fp;
	char		 path[256], *b;
	cJSON		*doc, *e, *ans;
	long long	 t0;
	long		 st;
	int		 i, j;

	assert_int_equal(ro_file_mkdirs(f->state, 0755, NULL), 0);
	fp = fopen(f->audit, "w");
	assert_non_null(fp);
	for (i = 0; i < 60000; i++) {
		if (i == 1000)
			fprintf(fp, "{\"ts\":\"2026-01-01T00:00:00.000Z\","
			    "\"room\":\"room-big-needle\",\"correlationId\":"
			    "\"needle-cid\",\"outcome\":\"applied\"}\n");
		if (i == 30000) {
			fputs("not json at all\n{\"room\":\"room-big-00000\","
			    "\"pad\":\"", fp);
			for (j = 0; j < (300 << 10); j++)
				fputc('x', fp);
			fputs("\"}\n", fp);
		}
		fprintf(fp, "{\"ts\":\"2026-01-01T00:00:00.000Z\",\"id\":"
		    "\"%08d\",\"correlationId\":\"cid-%d\",\"room\":"
		    "\"room-big-%05d\",\"rev\":\"api\",\"source\":\"api\","
		    "\"outcome\":\"applied\",\"errors\":[],\"warnings\":[]}"
		    "\n", i, i, i % 50);
	}
	assert_int_equal(fclose(fp), 0);
	start(f, NULL);
	WAIT(f, ac_ready(&f->a));

	t0 = ac_now_ms();
	doc = ac_get(f->a.url, "/audit?count=3");
	assert_int_equal(ac_len(doc, "entries"), 3);
	e = cJSON_GetObjectItem(doc, "entries");
	assert_string_equal(ac_str(cJSON_GetArrayItem(e, 0), "correlationId"),
	    "cid-59997");
	assert_string_equal(ac_str(cJSON_GetArrayItem(e, 2), "correlationId"),
	    "cid-59999");
	cJSON_Delete(doc);
	doc = ac_get(f->a.url, "/audit?room=room-big-needle");
	assert_int_equal(ac_len(doc, "entries"), 1);
	assert_string_equal(ac_str(cJSON_GetArrayItem(cJSON_GetObjectItem(doc,
	    "entries"), 0), "correlationId"), "needle-cid");
	cJSON_Delete(doc);
	doc = ac_get(f->a.url, "/audit?correlationId=cid-2");
	assert_int_equal(ac_len(doc, "entries"), 1);
	cJSON_Delete(doc);
	/* every record of two rooms, across the over-long line */
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/audit?count=10000&room="
		    "room-big-%05d", i == 0 ? 0 : 7);
		doc = ac_get(f->a.url, path);
		assert_int_equal(ac_len(doc, "entries"), 1200);
		e = cJSON_GetObjectItem(doc, "entries");
		assert_string_equal(ac_str(cJSON_GetArrayItem(e, 0),
		    "correlationId"), i == 0 ? "cid-0" : "cid-7");
		assert_string_equal(ac_str(cJSON_GetArrayItem(e, 1199),
		    "correlationId"), i == 0 ? "cid-59950" : "cid-59957");
		cJSON_Delete(doc);
	}
	assert_int_equal(stat(f->audit, &sb), 0);
	fprintf(stderr, "audit: 5 queries of a %lld-byte log in %lld ms\n",
	    (long long)sb.st_size, ac_now_ms() - t0);
	/* new records land after the old ones */
	b = body("room-big-new", 1, "N");
	ans = apply(f, b, NULL, &st);
	check_apply_ok(ans, st, "VERIFY");
	doc = ac_get(f->a.url, "/audit?count=1");
	assert_string_equal(ac_str(cJSON_GetArrayItem(cJSON_GetObjectItem(doc,
	    "entries"), 0), "correlationId"), ac_str(ans, "correlationId"));
	cJSON_Delete(doc);
	cJSON_Delete(ans);
	free(b);
}

/* An audit log that is not a regular file (here /dev/full, which reads
 * as endless zeros): GET /audit says so at once instead of reading it
 * forever, and the agent keeps serving. (A full disk itself is the
 * fault suite's: tests/faults/.) */
static void
test_audit_not_regular(void **state)
{
	struct fx	*f = *state;
	const char	*extra[] = { "--audit-log", "/dev/full", NULL };
	char		*u;
	cJSON		*ans;
	long		 st;

	start(f, extra);
	WAIT(f, ac_ready(&f->a));
	u = url(f, "/audit");
	ans = ac_json("GET", u, NULL, NULL, &st);
	assert_int_equal(st, 500);
	assert_true(tu_contains(ac_str(ans, "error"), "not a regular file"));
	cJSON_Delete(ans);
	free(u);
	assert_non_null(ans = ac_get(f->a.url, "/health"));
	cJSON_Delete(ans);
	assert_true(ac_ready(&f->a));
}

/* An /events subscriber, on its own thread. */
struct sse {
	char		 url[128];
	pthread_t	 tid;
	pthread_mutex_t	 mu;
	struct ro_buf	 got;		/* under mu */
	bool		 connected;	/* under mu */
	const char	*want;		/* stop once seen */
	bool		 seen;		/* under mu */
};

static size_t
sse_header(char *p, size_t sz, size_t n, void *arg)
{
	struct sse	*s = arg;

	(void)p;
	pthread_mutex_lock(&s->mu);
	s->connected = true;
	pthread_mutex_unlock(&s->mu);
	return sz * n;
}

static size_t
sse_body(char *p, size_t sz, size_t n, void *arg)
{
	struct sse	*s = arg;
	bool		 done;

	pthread_mutex_lock(&s->mu);
	ro_buf_add(&s->got, p, sz * n);
	done = s->seen = strstr(ro_buf_cstr(&s->got), s->want) != NULL;
	pthread_mutex_unlock(&s->mu);
	return done ? 0 : sz * n;	/* 0 ends the transfer */
}

static void *
sse_run(void *arg)
{
	struct sse	*s = arg;
	CURL		*h = curl_easy_init();

	curl_easy_setopt(h, CURLOPT_URL, s->url);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)AC_WAIT_MS);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, sse_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sse_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
	(void)curl_easy_perform(h);
	curl_easy_cleanup(h);
	return NULL;
}

static bool
sse_connected(struct sse *s)
{
	bool	c;

	pthread_mutex_lock(&s->mu);
	c = s->connected && strstr(ro_buf_cstr(&s->got), ": connected") !=
	    NULL;
	pthread_mutex_unlock(&s->mu);
	return c;
}

static void
test_events(void **state)
{
	struct fx	*f = *state;
	struct sse	 s;
	char		*b;
	cJSON		*ans;
	const char	*data;
	long		 st;

	memset(&s, 0, sizeof(s));
	pthread_mutex_init(&s.mu, NULL);
	ro_buf_init(&s.got, 1u << 20);
	snprintf(s.url, sizeof(s.url), "%s/events", f->a.url);
	s.want = "\"room\":\"room-api-events\"";
	assert_int_equal(pthread_create(&s.tid, NULL, sse_run, &s), 0);
	WAIT(f, sse_connected(&s));
	b = body("room-api-events", 1, "E");
	ans = apply(f, b, NULL, &st);
	check_apply_ok(ans, st, "VERIFY");
	free(b);
	pthread_join(s.tid, NULL);
	assert_true(s.seen);
	/* one "data: {record}" event carrying the apply's correlationId */
	data = strstr(ro_buf_cstr(&s.got), "data: {");
	assert_non_null(data);
	assert_true(tu_contains(data, ac_str(ans, "correlationId")));
	cJSON_Delete(ans);
	ro_buf_release(&s.got);
	pthread_mutex_destroy(&s.mu);
}

/* Drift made behind the agent's back is repaired by POST /reconcile. */
static void
test_reconcile(void **state)
{
	struct fx	*f = *state;
	char		*b, path[256];
	cJSON		*ans;
	long		 st;
	int		 i;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "room-api-recon%d", i);
		b = body(path, 2, "R");
		ans = apply(f, b, NULL, &st);
		check_apply_ok(ans, st, "VERIFY");
		cJSON_Delete(ans);
		free(b);
	}
	/* drift: an entity kicked directly on the server, in both rooms */
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/room/room-api-recon%d/entities"
		    "/E-e1", f->sim.url, i);
		assert_int_equal(ac_http("DELETE", path, NULL, 0, NULL, NULL),
		    204);
	}
	assert_int_equal(post(f, "/reconcile/room-api-recon0", NULL), 202);
	WAIT(f, ac_sim_count_of(&f->sim, "room-api-recon0", "entities") == 2);
	ac_sleep_ms(SETTLE_MS);
	assert_int_equal(post(f, "/reconcile", NULL), 202);
	WAIT(f, ac_sim_count_of(&f->sim, "room-api-recon1", "entities") == 2);
	assert_int_equal(post(f, "/reconcile/room-api-unknown", NULL), 404);
	assert_int_equal(post(f, "/reconcile/bad-room", NULL), 400);
	assert_int_equal(ac_audit_count(f->audit, "room-api-recon0", "failed"),
	    0);
}

static void
test_suspend_resume_confirm(void **state)
{
	struct fx	*f = *state;
	char		*b, path[256];
	cJSON		*ans, *rm;
	long		 st;
	int		 recs;

	b = body("room-api-susp", 4, "P");
	ans = apply(f, b, NULL, &st);
	check_apply_ok(ans, st, "VERIFY");
	cJSON_Delete(ans);
	free(b);
	assert_int_equal(post(f, "/rooms/room-api-unknown/suspend", NULL), 404);
	assert_int_equal(post(f, "/rooms/room-api-susp/suspend", NULL), 200);
	rm = ac_room(&f->a, "room-api-susp");
	assert_true(ac_bool(rm, "suspended"));
	cJSON_Delete(rm);

	/* suspended: drift stays, applies are refused, nothing audited */
	snprintf(path, sizeof(path), "%s/room/room-api-susp/entities/E-e3",
	    f->sim.url);
	assert_int_equal(ac_http("DELETE", path, NULL, 0, NULL, NULL), 204);
	recs = ac_audit_count(f->audit, "room-api-susp", NULL);
	assert_int_equal(post(f, "/reconcile/room-api-susp", NULL), 202);
	b = body("room-api-susp", 4, "P");
	ans = apply(f, b, NULL, &st);
	assert_int_equal(st, 409);
	cJSON_Delete(ans);
	free(b);
	ac_sleep_ms(SETTLE_MS);
	assert_int_equal(ac_sim_count_of(&f->sim, "room-api-susp", "entities"),
	    3);
	assert_int_equal(ac_audit_count(f->audit, "room-api-susp", NULL), recs);

	/* resumed: reconciled at once */
	assert_int_equal(post(f, "/rooms/room-api-susp/resume", NULL), 200);
	WAIT(f, ac_sim_count_of(&f->sim, "room-api-susp", "entities") == 4);
	rm = ac_room(&f->a, "room-api-susp");
	assert_false(ac_bool(rm, "suspended"));
	cJSON_Delete(rm);

	/* removals over the threshold wait for a confirmation */
	b = body("room-api-susp", 1, "P");
	ans = apply(f, b, NULL, &st);
	assert_int_equal(st, 200);
	assert_true(diff_len(ans, "blocked") >= 1);
	cJSON_Delete(ans);
	free(b);
	assert_int_equal(ac_sim_count_of(&f->sim, "room-api-susp", "entities"),
	    4);
	assert_int_equal(post(f, "/rooms/room-api-susp/confirm", NULL), 400);
	assert_int_equal(post(f, "/rooms/room-api-susp/confirm?revision=api",
	    NULL), 200);
	WAIT(f, ac_sim_count_of(&f->sim, "room-api-susp", "entities") == 1);
	WAIT(f, ac_room_num(&f->a, "room-api-susp", "cyclesSinceConverged") ==
	    0);
}

static int
setup_token(void **state)
{
	struct fx	*f;
	char		*tf;
	const char	*extra[] = { "--api-token-file", NULL, NULL };

	if (setup_bare(state) < 0)
		return -1;
	f = *state;
	tu_write(f->tmp, "api-token", API_TOKEN "\n");
	tf = tu_path(f->tmp, "api-token");
	extra[1] = tf;
	start(f, extra);
	free(tf);
	WAIT(f, ac_ready(&f->a));
	return 0;
}

static void
test_api_token(void **state)
{
	struct fx	*f = *state;
	const char	*good[] = { "Authorization: Bearer " API_TOKEN, NULL };
	const char	*wrong[] = { "Authorization: Bearer nope", NULL };
	const char	*basic[] = { "Authorization: Basic " API_TOKEN, NULL };
	char		*b = body("room-api-token", 1, "T");
	cJSON		*ans;
	long		 st;

	ans = apply(f, b, NULL, &st);
	assert_int_equal(st, 401);
	cJSON_Delete(ans);
	ans = apply(f, b, wrong, &st);
	assert_int_equal(st, 401);
	cJSON_Delete(ans);
	ans = apply(f, b, basic, &st);
	assert_int_equal(st, 401);
	cJSON_Delete(ans);
	assert_int_equal(ac_sim_agent_gets(&f->sim), 0);
	assert_int_equal(ac_audit_count(f->audit, NULL, NULL), 0);
	ans = apply(f, b, good, &st);
	check_apply_ok(ans, st, "VERIFY");
	cJSON_Delete(ans);
	free(b);

	assert_int_equal(post(f, "/reconcile", NULL), 401);
	assert_int_equal(post(f, "/reconcile/room-api-token", wrong), 401);
	assert_int_equal(post(f, "/rooms/room-api-token/suspend", NULL), 401);
	assert_int_equal(post(f, "/rooms/room-api-token/resume", NULL), 401);
	assert_int_equal(post(f, "/rooms/room-api-token/confirm?revision=api",
	    NULL), 401);
	assert_false(ac_room_is(&f->a, "room-api-token", "currentPhase",
	    NULL));
	assert_int_equal(post(f, "/rooms/room-api-token/suspend", good), 200);
	assert_int_equal(post(f, "/rooms/room-api-token/resume", good), 200);
	assert_int_equal(post(f, "/reconcile", good), 202);
	/* reads stay open */
	assert_true(ac_ready(&f->a));
	cJSON_Delete(ans = ac_get(f->a.url, "/status"));
	assert_non_null(ans);
	cJSON_Delete(ans = ac_get(f->a.url, "/status/rooms/room-api-token"));
	assert_non_null(ans);
	cJSON_Delete(ans = ac_get(f->a.url, "/audit"));
	assert_non_null(ans);
}

/* A sharded agent refuses POST /apply for a room of another shard, so two
 * agents behind one Service never both apply a room. */
static int
setup_shard(void **state)
{
	struct fx	*f;
	const char	*extra[] = { "--shard", "0/2", NULL };

	if (setup_bare(state) < 0)
		return -1;
	f = *state;
	start(f, extra);
	WAIT(f, ac_ready(&f->a));
	return 0;
}

static void
test_apply_other_shard(void **state)
{
	struct fx	*f = *state;
	char		 room[32], *b;
	cJSON		*ans;
	long		 st;
	int		 i, mine = -1, theirs = -1;

	for (i = 0; i < 64 && (mine < 0 || theirs < 0); i++) {
		snprintf(room, sizeof(room), "room-shard-%02d", i);
		if (ro_shard_of(room, 2) == 0 && mine < 0)
			mine = i;
		else if (ro_shard_of(room, 2) == 1 && theirs < 0)
			theirs = i;
	}
	assert_true(mine >= 0 && theirs >= 0);
	snprintf(room, sizeof(room), "room-shard-%02d", theirs);
	b = body(room, 1, "T");
	ans = apply(f, b, NULL, &st);
	assert_int_equal(st, 409);
	{
		char *text = cJSON_PrintUnformatted(ans);

		assert_true(tu_contains(text, "shard 1/2"));
		cJSON_free(text);
	}
	cJSON_Delete(ans);
	free(b);
	assert_int_equal(ac_audit_count(f->audit, NULL, NULL), 0);
	snprintf(room, sizeof(room), "room-shard-%02d", mine);
	b = body(room, 1, "T");
	ans = apply(f, b, NULL, &st);
	check_apply_ok(ans, st, "VERIFY");
	cJSON_Delete(ans);
	free(b);
}

/* --- webhooks on a Git source ---------------------------------------- */

static void
sh(const char *fmt, ...) RO_PRINTF(1, 2);

static void
sh(const char *fmt, ...)
{
	va_list	 ap;
	char	*cmd;
	int	 rc;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		abort();
	va_end(ap);
	if ((rc = system(cmd)) != 0)
		fail_msg("exit %d: %s", rc, cmd);
	free(cmd);
}

#define GIT	"git -c user.name=e2e -c user.email=e2e@example.invalid " \
		"-c init.defaultBranch=main -c commit.gpgsign=false"

static char *
yaml(const char *room, const char *lead)
{
	char	*s;

	if (asprintf(&s, "apiVersion: v1\nkind: RoomSpec\nmetadata:\n"
	    "  name: %s\n  version: 1\nspec:\n  roomId: %s\n  entities:\n"
	    "    - id: E-lead\n      kind: human\n      displayName: %s\n"
	    "  artifacts: []\n  policies:\n    dmVisibilityDefault: team\n",
	    room + 5, room, lead) < 0)
		abort();
	return s;
}

static void
hmac_hex(const char *b, char out[65])
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	len = 0, i;

	HMAC(EVP_sha256(), HOOK_SECRET, (int)strlen(HOOK_SECRET),
	    (const unsigned char *)b, strlen(b), md, &len);
	for (i = 0; i < len && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static long
hook(struct fx *f, const char *b, const char *sig_hex)
{
	char		 sig[128];
	const char	*h[] = { sig, "X-GitHub-Event: push", NULL };

	snprintf(sig, sizeof(sig), "X-Hub-Signature-256: sha256=%s", sig_hex);
	return post_body(f, "/hooks/github", b, h);
}

static int
setup_git(void **state)
{
	struct fx	*f;
	char		*s, *sf, *work, *origin;
	const char	*extra[] = { "--repo", NULL, "--branch", "main",
			    "--interval", "0", "--webhook-secret-file", NULL,
			    "--profile", "test", NULL };

	if (setup_bare(state) < 0)
		return -1;
	f = *state;
	origin = tu_path(f->tmp, "origin.git");
	work = tu_path(f->tmp, "work");
	sh(GIT " init -q --bare %s", origin);
	sh(GIT " clone -q %s %s 2>/dev/null", origin, work);
	s = yaml("room-hook-one", "One");
	tu_write(work, "rooms/one.yaml", s);
	free(s);
	sh("cd %s && " GIT " add -A && " GIT " commit -q -m one && "
	    GIT " push -q origin HEAD:main", work);
	tu_write(f->tmp, "hook-secret", HOOK_SECRET "\n");
	sf = tu_path(f->tmp, "hook-secret");
	extra[1] = origin;
	extra[7] = sf;
	start(f, extra);
	free(sf);
	free(work);
	free(origin);
	WAIT(f, ac_ready(&f->a));
	WAIT(f, ac_sim_count_of(&f->sim, "room-hook-one", "entities") == 1);
	return 0;
}

static char *
last_fetch(struct fx *f)
{
	cJSON		*doc = ac_get(f->a.url, "/status");
	const char	*v = ac_str(cJSON_GetObjectItemCaseSensitive(doc,
			    "source"), "lastFetch");
	char		*s = strdup(v != NULL ? v : "(null)");

	cJSON_Delete(doc);
	return s;
}

static void
test_webhook(void **state)
{
	struct fx	*f = *state;
	const char	*b = "{\"ref\": \"refs/heads/main\", \"after\": "
			    "\"0000000000000000000000000000000000000000\"}";
	char		 good[65], bad[65], *work, *s, *lf;
	cJSON		*doc;
	long long	 t0;

	work = tu_path(f->tmp, "work");
	s = yaml("room-hook-two", "Two");
	tu_write(work, "rooms/two.yaml", s);
	free(s);
	sh("cd %s && " GIT " add -A && " GIT " commit -q -m two && "
	    GIT " push -q origin HEAD:main", work);
	free(work);
	lf = last_fetch(f);

	/* wrong signature: 401, nothing fetched, nothing queued */
	hmac_hex(b, good);
	memcpy(bad, good, sizeof(bad));
	bad[0] = bad[0] == '0' ? '1' : '0';
	assert_int_equal(hook(f, b, bad), 401);
	assert_int_equal(hook(f, "{\"ref\": \"refs/heads/other\"}", good),
	    401);			/* a signature of another body */
	ac_sleep_ms(SETTLE_MS);
	doc = ac_get(f->a.url, "/status");
	assert_int_equal(ac_num(doc, "queuedRequests", -1), 0);
	cJSON_Delete(doc);
	s = last_fetch(f);
	assert_string_equal(s, lf);
	free(s);
	assert_int_equal(ac_sim_revision(&f->sim, "room-hook-two"), 0);

	/* the right one: fetched and converged, no polling (interval 0) */
	t0 = ac_now_ms();
	assert_int_equal(hook(f, b, good), 202);
	WAIT(f, ac_sim_count_of(&f->sim, "room-hook-two", "entities") == 1);
	fprintf(stderr, "webhook -> converged in %lld ms\n", ac_now_ms() - t0);
	s = last_fetch(f);
	assert_string_not_equal(s, lf);
	free(s);
	free(lf);
	WAIT(f, ac_audit_count(f->audit, "room-hook-two", "applied") == 1);
	assert_true(ac_metric(&f->a, "roomops_webhooks_total{source=\"github\","
	    "result=\"unauthorized\"}") == 2);
	assert_true(ac_metric(&f->a, "roomops_webhooks_total{source=\"github\","
	    "result=\"accepted\"}") == 1);

	/* GitLab (token), Gitea (HMAC), generic (bearer): each one fetches */
	{
		char		 gitea[128], fn[64];
		const char	*gl_bad[] = { "X-Gitlab-Token: nope", NULL };
		const char	*gl[] = { "X-Gitlab-Token: " HOOK_SECRET, NULL };
		const char	*ge[] = { gitea, NULL };
		const char	*gen[] = { "Authorization: Bearer " HOOK_SECRET,
				    NULL };
		const char	*gen_bad[] = { "Authorization: Bearer x", NULL };
		static const char *const rooms[] = { "room-hook-gitlab",
			"room-hook-gitea", "room-hook-generic" };
		const char *const *hdrs[] = { gl, ge, gen };
		const char *const paths[] = { "/hooks/gitlab", "/hooks/gitea",
			"/hooks/generic" };
		size_t		 i;

		snprintf(gitea, sizeof(gitea), "X-Gitea-Signature: %s", good);
		assert_int_equal(post_body(f, "/hooks/gitlab", b, gl_bad), 401);
		assert_int_equal(post_body(f, "/hooks/generic", b, gen_bad),
		    401);
		assert_int_equal(post_body(f, "/hooks/gitea", b, NULL), 401);
		work = tu_path(f->tmp, "work");
		for (i = 0; i < RO_NELEM(rooms); i++) {
			snprintf(fn, sizeof(fn), "rooms/%s.yaml", rooms[i] + 5);
			s = yaml(rooms[i], "Hooked");
			tu_write(work, fn, s);
			free(s);
			sh("cd %s && " GIT " add -A && " GIT " commit -q -m "
			    "'%s' && " GIT " push -q origin HEAD:main", work,
			    rooms[i]);
			assert_int_equal(post_body(f, paths[i], b, hdrs[i]),
			    202);
			WAIT(f, ac_sim_count_of(&f->sim, rooms[i], "entities")
			    == 1);
		}
		free(work);
	}
}

/* --- concurrency ------------------------------------------------------ */

struct sampler {
	struct fx	*f;
	pthread_t	 tid;
	atomic_bool	 stop;
	int		 max;
};

static void *
sampler_run(void *arg)
{
	struct sampler	*s = arg;
	cJSON		*doc;
	int		 n;

	while (!atomic_load(&s->stop)) {
		doc = ac_get(s->f->a.url, "/status");
		n = (int)ac_num(doc, "activeReconciliations", 0);
		if (n > s->max)
			s->max = n;
		cJSON_Delete(doc);
		ac_sleep_ms(10);
	}
	return NULL;
}

static void
test_concurrent_same_room(void **state)
{
	struct fx	*f = *state;
	struct bg	 g[N_SAME];
	struct sampler	 sm;
	int		 i, joined = 0, empty = 0;
	long long	 t0;

	/* every join takes 100 ms: overlapping applies would all see an
	 * empty room and join the same entities twice (409) */
	ac_sim_fault(&f->sim, "{\"kind\": \"delay\", \"ms\": 100, "
	    "\"route\": \"/room/{roomId}/join\"}");
	memset(&sm, 0, sizeof(sm));
	sm.f = f;
	assert_int_equal(pthread_create(&sm.tid, NULL, sampler_run, &sm), 0);
	t0 = ac_now_ms();
	for (i = 0; i < N_SAME; i++)
		bg_start(&g[i], f, body("room-api-same", 3, "Same"));
	for (i = 0; i < N_SAME; i++)
		bg_join(&g[i]);
	atomic_store(&sm.stop, true);
	pthread_join(sm.tid, NULL);
	for (i = 0; i < N_SAME; i++) {
		check_apply_ok(g[i].ans, g[i].st, "VERIFY");
		if (diff_len(g[i].ans, "toJoin") == 3)
			joined++;
		else if (diff_len(g[i].ans, "toJoin") == 0)
			empty++;
		cJSON_Delete(g[i].ans);
	}
	ac_sim_fault(&f->sim, NULL);
	fprintf(stderr, "same room: %d applies in %lld ms, at most %d "
	    "reconciling at once\n", N_SAME, ac_now_ms() - t0, sm.max);
	assert_int_equal(sm.max, 1);
	assert_int_equal(joined, 1);
	assert_int_equal(empty, N_SAME - 1);
	assert_int_equal(ac_sim_count(&f->sim, "POST", "/join", 201), 3);
	assert_int_equal(ac_sim_count(&f->sim, "POST", "/join", 409), 0);
	assert_int_equal(ac_sim_revision(&f->sim, "room-api-same"), 3);
	assert_int_equal(ac_audit_count(f->audit, "room-api-same", "applied"),
	    1);
	assert_int_equal(ac_audit_count(f->audit, "room-api-same",
	    "converged"), N_SAME - 1);
}

static void
test_parallel_rooms(void **state)
{
	struct fx	*f = *state;
	struct bg	 g[N_ROOMS];
	struct sampler	 sm;
	char		 room[64];
	double		 sum = 0;
	long long	 t0, wall;
	int		 i;

	ac_sim_fault(&f->sim, "{\"kind\": \"delay\", \"ms\": 300, "
	    "\"route\": \"/room/{roomId}/join\"}");
	memset(&sm, 0, sizeof(sm));
	sm.f = f;
	assert_int_equal(pthread_create(&sm.tid, NULL, sampler_run, &sm), 0);
	t0 = ac_now_ms();
	for (i = 0; i < N_ROOMS; i++) {
		snprintf(room, sizeof(room), "room-api-par%02d", i);
		bg_start(&g[i], f, body(room, 1, "Par"));
	}
	for (i = 0; i < N_ROOMS; i++)
		bg_join(&g[i]);
	wall = ac_now_ms() - t0;
	atomic_store(&sm.stop, true);
	pthread_join(sm.tid, NULL);
	for (i = 0; i < N_ROOMS; i++) {
		check_apply_ok(g[i].ans, g[i].st, "VERIFY");
		sum += ac_num(g[i].ans, "duration", 0);
		cJSON_Delete(g[i].ans);
	}
	ac_sim_fault(&f->sim, NULL);
	fprintf(stderr, "parallel rooms: %d applies, wall %lld ms, sum of "
	    "their durations %.0f ms, at most %d reconciling at once\n",
	    N_ROOMS, wall, sum * 1000, sm.max);
	assert_true(sm.max >= 2);
	for (i = 0; i < N_ROOMS; i++) {
		snprintf(room, sizeof(room), "room-api-par%02d", i);
		assert_int_equal(ac_sim_count_of(&f->sim, room, "entities"), 1);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_apply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_health_ready, setup_bare,
		    teardown),
		cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_big_log, setup_bare,
		    teardown),
		cmocka_unit_test_setup_teardown(test_audit_not_regular,
		    setup_bare, teardown),
		cmocka_unit_test_setup_teardown(test_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconcile, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_suspend_resume_confirm,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_other_shard,
		    setup_shard, teardown),
		cmocka_unit_test_setup_teardown(test_api_token, setup_token,
		    teardown),
		cmocka_unit_test_setup_teardown(test_webhook, setup_git,
		    teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_same_room,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_parallel_rooms, setup,
		    teardown),
	};

	ac_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
