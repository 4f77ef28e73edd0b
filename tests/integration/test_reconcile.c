/*
 * test_reconcile.c: the reconcile engine and `roomops apply` against a
 * real roomserver-sim over HTTP: empty to full, idempotency (counted from
 * the sim's /metrics), drift, re-seed, missing seed, confirmation,
 * budgets, injected 503 bursts and dropped connections, a failing route,
 * rollback, and 200 rooms through the CLI.
 */
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "roomops/audit.h"
#include "roomops/client.h"
#include "roomops/file.h"
#include "roomops/seed.h"
#include "roomops/spec.h"
#include "roomops/state.h"
#include "reconcile.h"
#include "simctl.h"
#include "testutil.h"

struct fx {
	struct simctl		 sim;
	char			*dir;		/* specs and seeds */
	char			*audit_path;
	struct ro_auditlog	 audit;
	struct ro_client	*c;
};

static size_t
on_body(char *p, size_t sz, size_t n, void *arg)
{
	return ro_buf_add(arg, p, sz * n) < 0 ? 0 : sz * n;
}

static long
http(const char *method, const char *url, const char *json,
    struct ro_buf *out)
{
	CURL			*h = curl_easy_init();
	struct curl_slist	*hd = NULL;
	long			 status = 0;

	assert_non_null(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
	if (json != NULL) {
		hd = curl_slist_append(hd, "Content-Type: application/json");
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, json);
	}
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hd);
	curl_easy_cleanup(h);
	return status;
}

/* Requests the sim served that match method (NULL: every non-GET) and a
 * route substring (NULL: any), summed over statuses. */
static long
count(struct fx *f, const char *method, const char *route)
{
	struct ro_buf	 b = RO_BUF_INIT;
	char		 url[128];
	const char	*p;
	long		 total = 0;

	snprintf(url, sizeof(url), "%s/metrics", f->sim.url);
	assert_int_equal(http("GET", url, NULL, &b), 200);
	for (p = b.ptr; p != NULL && *p != '\0'; p = strchr(p, '\n'),
	    p = p != NULL ? p + 1 : NULL) {
		char	m[16] = "", r[128] = "";
		long	v;

		if (sscanf(p, "roomserver_requests_total{method=\"%15[^\"]\","
		    "route=\"%127[^\"]\",status=\"%*[^\"]\"} %ld", m, r,
		    &v) != 3)
			continue;
		if (strncmp(r, "/_sim", 5) == 0 || strcmp(r, "/metrics") == 0)
			continue;
		if (method == NULL ? strcmp(m, "GET") == 0 :
		    strcmp(m, method) != 0)
			continue;
		if (route != NULL && strstr(r, route) == NULL)
			continue;
		total += v;
	}
	ro_buf_release(&b);
	return total;
}

/* roomserver_faults_injected_total{kind="..."} */
static long
faults_fired(struct fx *f, const char *kind)
{
	struct ro_buf	 b = RO_BUF_INIT;
	char		 url[128], pat[96];
	const char	*p;
	long		 v = -1;

	snprintf(url, sizeof(url), "%s/metrics", f->sim.url);
	snprintf(pat, sizeof(pat), "roomserver_faults_injected_total{kind=\"%s\"} ",
	    kind);
	assert_int_equal(http("GET", url, NULL, &b), 200);
	if ((p = strstr(ro_buf_cstr(&b), pat)) != NULL)
		v = strtol(p + strlen(pat), NULL, 10);
	ro_buf_release(&b);
	return v;
}

static void
fault(struct fx *f, const char *json)
{
	struct ro_buf	b = RO_BUF_INIT;
	char		url[128];

	snprintf(url, sizeof(url), "%s/_sim/faults", f->sim.url);
	if (json == NULL)
		assert_int_equal(http("DELETE", url, NULL, &b) / 100, 2);
	else
		assert_int_equal(http("POST", url, json, &b) / 100, 2);
	ro_buf_release(&b);
}

static struct ro_state *
state(struct fx *f, const char *room)
{
	struct ro_state	*st = NULL;
	struct ro_err	 err = RO_ERR_INIT;

	if (ro_client_get_state(f->c, room, &st, &err) < 0)
		fail_msg("get state: %s", err.msg);
	return st;
}

static struct ro_spec *
spec(struct fx *f, const char *yaml)
{
	struct ro_spec	*s = NULL;
	struct ro_diag	 d = RO_DIAG_INIT;
	struct ro_err	 err = RO_ERR_INIT;

	if (ro_spec_parse_yaml(&s, "test.yaml", yaml, strlen(yaml), &d,
	    &err) < 0)
		fail_msg("spec: %s", d.errors.n ? d.errors.v[0] : err.msg);
	assert_int_equal(ro_seed_resolve(s, "", ro_seed_read_fs, f->dir, &d,
	    &err), 0);
	ro_diag_release(&d);
	return s;
}

static void
reconcile(struct fx *f, const struct ro_spec *s, struct ro_reconcile_opts *o,
    struct ro_reconcile_result *res)
{
	struct ro_err	err = RO_ERR_INIT;

	o->audit = &f->audit;
	o->source = "api";
	if (ro_reconcile_room(f->c, s, o, res, &err) < 0)
		fail_msg("reconcile: %s", err.msg);
}

static int
setup(void **state_)
{
	struct fx		*f = calloc(1, sizeof(*f));
	struct ro_client_opts	 co;

	f->sim = (struct simctl)SIMCTL_INIT;
	if (simctl_start(&f->sim, NULL) < 0)
		return -1;
	f->dir = tu_tmpdir();
	f->audit_path = tu_path(f->dir, "audit.jsonl");
	assert_int_equal(ro_auditlog_open(&f->audit, f->audit_path, NULL), 0);
	memset(&co, 0, sizeof(co));
	co.base_url = f->sim.url;
	co.backoff_ms = 20;		/* keep retry tests short */
	co.backoff_cap_ms = 200;
	assert_int_equal(ro_client_new(&f->c, &co, NULL), 0);
	*state_ = f;
	return 0;
}

static int
teardown(void **state_)
{
	struct fx	*f = *state_;

	ro_client_free(f->c);
	ro_auditlog_close(&f->audit);
	simctl_cleanup(&f->sim);
	tu_rmrf(f->dir);
	free(f->dir);
	free(f->audit_path);
	free(f);
	return 0;
}

static const char LAB[] =
    "metadata: {version: 1}\n"
    "spec:\n"
    "  roomId: room-test-lab\n"
    "  entities:\n"
    "    - {id: E-agent-1, kind: agent, displayName: One}\n"
    "    - {id: E-agent-2, kind: agent, displayName: Two}\n"
    "    - {id: E-human-1, kind: human, visibility: owner, ownerUserId: u1}\n"
    "  artifacts:\n"
    "    - {name: plan, type: document, workspace: shared, tags: [a, b],\n"
    "       seedFrom: plan.md, promoteAfterSeed: true}\n"
    "    - {name: notes, type: document, workspace: shared,\n"
    "       seedFrom: notes.md}\n"
    "  policies: {dmVisibilityDefault: public, maxArtifactsPerEntity: 7}\n";

/* empty -> full; then a second pass sends no mutating request */
static void
test_full_then_idempotent(void **state_)
{
	struct fx			*f = *state_;
	struct ro_reconcile_opts	 o = { .guard = RO_GUARD_OPTS_INIT };
	struct ro_reconcile_result	 res;
	struct ro_spec			*s;
	struct ro_state			*st;
	long				 before;

	tu_write(f->dir, "plan.md", "# plan\n");
	tu_write(f->dir, "notes.md", "notes\n");
	s = spec(f, LAB);
	reconcile(f, s, &o, &res);
	assert_string_equal(res.outcome, "applied");
	assert_true(res.converged);
	assert_int_equal(res.applied.join, 3);
	assert_int_equal(res.applied.seed, 2);
	assert_int_equal(res.applied.promote, 1);
	assert_int_equal(res.applied.policies, 1);
	ro_reconcile_result_release(&res);
	st = state(f, "room-test-lab");
	assert_int_equal(st->n_entities, 3);
	assert_int_equal(st->n_artifacts, 2);
	assert_string_equal(st->policies.dm_visibility_default, "public");
	assert_int_equal(st->policies.max_artifacts_per_entity, 7);
	ro_state_free(st);

	before = count(f, NULL, NULL);
	reconcile(f, s, &o, &res);
	assert_string_equal(res.outcome, "converged");
	assert_int_equal(count(f, NULL, NULL), before);	/* zero mutations */
	assert_int_equal(res.applied.join + res.applied.seed, 0);
	ro_reconcile_result_release(&res);
	ro_spec_free(s);
}

/* an entity changed on the server is updated back with PUT */
static void
test_drift_updated_back(void **state_)
{
	struct fx			*f = *state_;
	struct ro_reconcile_opts	 o = { .guard = RO_GUARD_OPTS_INIT };
	struct ro_reconcile_result	 res;
	struct ro_buf			 b = RO_BUF_INIT;
	struct ro_spec			*s;
	struct ro_state			*st;
	char				 url[256];
	size_t				 i;

	tu_write(f->dir, "plan.md", "# plan\n");
	tu_write(f->dir, "notes.md", "notes\n");
	s = spec(f, LAB);
	reconcile(f, s, &o, &res);
	ro_reconcile_result_release(&res);
	snprintf(url, sizeof(url), "%s/room/room-test-lab/entities/E-agent-1",
	    f->sim.url);
	assert_int_equal(http("PUT", url, "{\"roomId\":\"room-test-lab\","
	    "\"entityId\":\"E-agent-1\",\"kind\":\"npc\",\"displayName\":"
	    "\"Drifted\",\"visibility\":\"public\",\"capabilities\":[],"
	    "\"policy\":{\"allow_commands_from\":\"any\",\"sandbox_mode\":"
	    "false,\"env_whitelist\":[],\"scopes\":[]}}", &b), 200);
	ro_buf_release(&b);
	reconcile(f, s, &o, &res);
	assert_string_equal(res.outcome, "applied");
	assert_int_equal(res.applied.update, 1);
	assert_int_equal(res.applied.join + res.applied.kick, 0);
	ro_reconcile_result_release(&res);
	st = state(f, "room-test-lab");
	for (i = 0; i < st->n_entities; i++)
		if (strcmp(st->entities[i].id, "E-agent-1") == 0) {
			assert_string_equal(st->entities[i].kind, "agent");
			assert_string_equal(st->entities[i].display_name, "One");
		}
	ro_state_free(st);
	ro_spec_free(s);
}

/* changed content re-seeds exactly that artifact */
static void
test_content_change_reseeds_one(void **state_)
{
	struct fx			*f = *state_;
	struct ro_reconcile_opts	 o = { .guard = RO_GUARD_OPTS_INIT };
	struct ro_reconcile_result	 res;
	struct ro_spec			*s;
	long				 seeds;

	tu_write(f->dir, "plan.md", "# plan\n");
	tu_write(f->dir, "notes.md", "notes\n");
	s = spec(f, LAB);
	reconcile(f, s, &o, &res);
	ro_reconcile_result_release(&res);
	ro_spec_free(s);
	tu_write(f->dir, "notes.md", "notes, second edition\n");
	s = spec(f, LAB);
	seeds = count(f, "POST", "/artifacts/seed");
	reconcile(f, s, &o, &res);
	assert_string_equal(res.outcome, "applied");
	assert_int_equal(res.applied.seed, 1);
	assert_int_equal(count(f, "POST", "/artifacts/seed"), seeds + 1);
	assert_true(res.converged);
	ro_reconcile_result_release(&res);
	ro_spec_free(s);
}

/* a missing seed file blocks that artifact only */
static void
test_missing_seed_blocks_one(void **state_)
{
	struct fx			*f = *state_;
	struct ro_reconcile_opts	 o = { .guard = RO_GUARD_OPTS_INIT };
	struct ro_reconcile_result	 res;
	struct ro_spec			*s;
	struct ro_state			*st;

	tu_write(f->dir, "plan.md", "# plan\n");	/* notes.md absent */
	s = spec(f, LAB);
	reconcile(f, s, &o, &res);
	assert_string_equal(res.outcome, "blocked");
	assert_int_equal(res.applied.join, 3);
	assert_int_equal(res.applied.seed, 1);
	assert_int_equal(res.blocked.n, 1);
	assert_true(tu_contains(res.blocked.v[0], "notes"));
	ro_reconcile_result_release(&res);
	st = state(f, "room-test-lab");
	assert_int_equal(st->n_artifacts, 1);
	assert_string_equal(st->artifacts[0].name, "plan");
	ro_state_free(st);
	ro_spec_free(s);
}

static void
join_extra(struct fx *f, const char *room, int n)
{
	struct ro_buf	b = RO_BUF_INIT;
	char		url[256], body[512];
	int		i;

	snprintf(url, sizeof(url), "%s/room/%s/join", f->sim.url, room);
	for (i = 0; i < n; i++) {
		snprintf(body, sizeof(body), "{\"roomId\":\"%s\",\"entityId\":"
		    "\"E-extra-%02d\",\"kind\":\"npc\",\"displayName\":null,"
		    "\"visibility\":\"team\",\"ownerUserId\":null,"
		    "\"capabilities\":[],\"policy\":{\"allow_commands_from\":"
		    "\"any\",\"sandbox_mode\":false,\"env_whitelist\":[],"
		    "\"scopes\":[]}}", room, i);
		ro_buf_reset(&b);
		assert_int_equal(http("POST", url, body, &b), 201);
	}
	ro_buf_release(&b);
}

static const char SMALL[] =
    "metadata: {version: 1}\n"
    "spec:\n"
    "  roomId: room-test-small\n"
    "  entities:\n"
    "    - {id: E-keep-1, kind: agent}\n"
    "    - {id: E-keep-2, kind: agent}\n";

/* removals above the ratio wait for confirmation; joins go ahead */
static void
test_ratio_needs_confirm(void **state_)
{
	struct fx			*f = *state_;
	struct ro_reconcile_opts	 o = { .guard = RO_GUARD_OPTS_INIT };
	struct ro_reconcile_result	 res;
	struct ro_spec			*s = spec(f, SMALL);
	struct ro_state			*st;

	join_extra(f, "room-test-small", 3);	/* 3 of 3 would go: 1.0 */
	o.guard.max_kicks = 100;
	reconcile(f, s, &o, &res);
	assert_string_equal(res.outcome, "blocked");
	assert_int_equal(res.applied.join, 2);
	assert_int_equal(res.applied.kick, 0);
	assert_int_equal(res.blocked.n, 3);
	assert_true(tu_contains(res.blocked.v[0], "awaiting confirmation"));
	/* "converged" means nothing left but blocked items (roomspec.md) */
	assert_true(res.converged);
	ro_reconcile_result_release(&res);
	st = state(f, "room-test-small");
	assert_int_equal(st->n_entities, 5);
	ro_state_free(st);

	o.guard.confirmed = true;
	reconcile(f, s, &o, &res);
	assert_int_equal(res.applied.kick, 3);
	assert_true(res.converged);
	ro_reconcile_result_release(&res);
	st = state(f, "room-test-small");
	assert_int_equal(st->n_entities, 2);
	ro_state_free(st);
	ro_spec_free(s);
}

/* 20 extra entities, budget 5: converges in 4 cycles, never > 5 a cycle */
static void
test_budget_defers_and_converges(void **state_)
{
	struct fx			*f = *state_;
	struct ro_reconcile_opts	 o = { .guard = RO_GUARD_OPTS_INIT };
	struct ro_reconcile_result	 res;
	struct ro_spec			*s = spec(f, SMALL);
	cJSON				*arr = cJSON_CreateArray(), *rec;
	size_t				 bad;
	int				 kicked = 0, records = 0;

	join_extra(f, "room-test-small", 20);
	o.guard.require_confirm = false;
	reconcile(f, s, &o, &res);
	assert_true(res.converged);
	assert_int_equal(res.applied.kick, 20);
	assert_int_equal(res.cycles, 4);
	ro_reconcile_result_release(&res);
	assert_int_equal(ro_auditlog_read(f->audit_path,
	    &(struct ro_audit_query){ .room = "room-test-small" }, arr, &bad,
	    NULL), 0);
	cJSON_ArrayForEach(rec, arr) {
		int k = cJSON_GetObjectItem(cJSON_GetObjectItem(rec, "diff"),
		    "kick")->valueint;

		assert_true(k <= 5);
		kicked += k;
		records++;
	}
	assert_int_equal(kicked, 20);
	assert_int_equal(records, 4);		/* one record per cycle */
	cJSON_Delete(arr);
	ro_spec_free(s);
}

/* 503 bursts and dropped connections are retried to convergence */
static void
test_transient_faults_converge(void **state_)
{
	struct fx			*f = *state_;
	struct ro_reconcile_opts	 o = { .guard = RO_GUARD_OPTS_INIT };
	struct ro_reconcile_result	 res;
	struct ro_spec			*s;

	tu_write(f->dir, "plan.md", "# plan\n");
	tu_write(f->dir, "notes.md", "notes\n");
	s = spec(f, LAB);
	fault(f, "[{\"kind\":\"fail_next\",\"count\":3,\"status\":503},"
	    "{\"kind\":\"drop\",\"count\":2,\"route\":\"/room/{roomId}/join\"}]");
	reconcile(f, s, &o, &res);
	assert_true(res.converged);
	assert_false(res.partial);
	assert_int_equal(res.applied.join, 3);
	/* libcurl itself resends once on a reused connection that was
	 * closed before any answer, so drops are counted at the sim */
	assert_true(ro_client_stats(f->c)->retries >= 3);
	assert_int_equal(faults_fired(f, "drop"), 2);
	assert_int_equal(faults_fired(f, "status"), 3);
	ro_reconcile_result_release(&res);
	fault(f, NULL);
	ro_spec_free(s);
}

/* a route that always fails: partial success, the rest applied */
static void
test_failing_route_partial(void **state_)
{
	struct fx			*f = *state_;
	struct ro_reconcile_opts	 o = { .guard = RO_GUARD_OPTS_INIT };
	struct ro_reconcile_result	 res;
	struct ro_spec			*s;
	struct ro_state			*st;

	tu_write(f->dir, "plan.md", "# plan\n");
	tu_write(f->dir, "notes.md", "notes\n");
	s = spec(f, LAB);
	fault(f, "{\"kind\":\"status\",\"status\":400,"
	    "\"route\":\"/room/{roomId}/artifacts/seed\"}");
	reconcile(f, s, &o, &res);
	assert_string_equal(res.outcome, "partial");
	assert_true(res.partial);
	assert_int_equal(res.applied.join, 3);
	assert_int_equal(res.applied.policies, 1);
	assert_int_equal(res.applied.seed, 0);
	assert_true(res.errors.n >= 2);
	assert_true(tu_contains(res.errors.v[0], "HTTP 400"));
	ro_reconcile_result_release(&res);
	fault(f, NULL);
	st = state(f, "room-test-lab");
	assert_int_equal(st->n_entities, 3);
	ro_state_free(st);
	ro_spec_free(s);
}

/* with rollback, a failure undoes what the cycle applied */
static void
test_rollback_restores(void **state_)
{
	struct fx			*f = *state_;
	struct ro_reconcile_opts	 o = { .guard = RO_GUARD_OPTS_INIT };
	struct ro_reconcile_result	 res;
	struct ro_spec			*s = spec(f, SMALL), *s2;
	struct ro_state			*st;
	cJSON				*arr = cJSON_CreateArray(), *last;
	size_t				 bad;
	static const char		 CHANGED[] =
	    "metadata: {version: 2}\n"
	    "spec:\n"
	    "  roomId: room-test-small\n"
	    "  entities:\n"
	    "    - {id: E-keep-1, kind: agent}\n"
	    "    - {id: E-new-1, kind: human}\n"
	    "  artifacts:\n"
	    "    - {name: doc, type: t, workspace: w, seedFrom: plan.md}\n"
	    "  policies: {dmVisibilityDefault: owner}\n";

	reconcile(f, s, &o, &res);			/* E-keep-1, E-keep-2 */
	ro_reconcile_result_release(&res);
	tu_write(f->dir, "plan.md", "# plan\n");
	s2 = spec(f, CHANGED);
	o.rollback = true;
	o.guard.require_confirm = false;
	fault(f, "{\"kind\":\"status\",\"status\":400,"
	    "\"route\":\"/room/{roomId}/artifacts/seed\"}");
	reconcile(f, s2, &o, &res);
	assert_string_equal(res.outcome, "rolled-back");
	ro_reconcile_result_release(&res);
	fault(f, NULL);
	st = state(f, "room-test-small");
	assert_int_equal(st->n_entities, 2);	/* E-new-1 kicked again, */
	assert_true(strcmp(st->entities[0].id, "E-keep-2") == 0 ||
	    strcmp(st->entities[1].id, "E-keep-2") == 0);	/* re-joined */
	assert_int_equal(st->n_artifacts, 0);
	assert_string_equal(st->policies.dm_visibility_default, "team");
	ro_state_free(st);
	assert_int_equal(ro_auditlog_read(f->audit_path,
	    &(struct ro_audit_query){ .room = "room-test-small" }, arr, &bad,
	    NULL), 0);
	last = cJSON_GetArrayItem(arr, cJSON_GetArraySize(arr) - 1);
	assert_string_equal(cJSON_GetObjectItem(last, "outcome")->valuestring,
	    "rolled-back");
	assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(last,
	    "rollback")) >= 3);
	cJSON_Delete(arr);
	ro_spec_free(s);
	ro_spec_free(s2);
}

/* `roomops apply` on 200 rooms, 8 at once; exit 0; then converged */
static void
test_cli_200_rooms(void **state_)
{
	struct fx	*f = *state_;
	const char	*bin = tu_env("RO_BIN", "roomops");
	char		*specs = tu_path(f->dir, "many"), name[64], body[512];
	char		*cmd;
	int		 i, rc;

	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "room-%03d.yaml", i);
		snprintf(body, sizeof(body), "metadata: {version: 1}\n"
		    "spec:\n  roomId: room-bulk-%03d\n  entities:\n"
		    "    - {id: E-a-%03d, kind: agent}\n"
		    "    - {id: E-h-%03d, kind: human}\n  artifacts:\n"
		    "    - {name: doc, type: t, workspace: w, seedFrom: d.md}\n"
		    "  policies: {dmVisibilityDefault: team}\n", i, i, i);
		tu_write(specs, name, body);
	}
	tu_write(specs, "d.md", "shared content\n");
	assert_true(asprintf(&cmd, "%s apply --quiet --server %s --audit-log "
	    "%s/bulk.jsonl %s >/dev/null", bin, f->sim.url, f->dir,
	    specs) > 0);
	rc = system(cmd);
	assert_int_equal(WEXITSTATUS(rc), 0);
	assert_int_equal(count(f, "POST", "/join"), 400);
	free(cmd);
	assert_true(asprintf(&cmd, "%s plan --server %s %s >/dev/null", bin,
	    f->sim.url, specs) > 0);
	rc = system(cmd);
	assert_int_equal(WEXITSTATUS(rc), 0);	/* converged */
	free(cmd);
	free(specs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_full_then_idempotent,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_drift_updated_back,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_content_change_reseeds_one,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_seed_blocks_one,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_ratio_needs_confirm,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_budget_defers_and_converges,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_transient_faults_converge,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_failing_route_partial,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_restores,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_cli_200_rooms,
		    setup, teardown),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
