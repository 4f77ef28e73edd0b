/*
 * test_agent_dashboard.c: the dashboard's endpoints (docs/dashboard.md)
 * without a browser: the real agent watching a folder, against
 * roomserver-sim. The embedded files and their headers, the paged room
 * list with counts, filters and its refusals, a room's spec file, its
 * plan (a dry run that writes no audit record), a rejected spec's
 * file:line error in both, and the "room" events of /events; the same
 * spec and plan for a room of a Git source (read from the clone at the
 * last processed commit by the Git thread). The page itself is tested in
 * a browser by test_ui.sh.
 */
#include <pthread.h>

#include "agentctl.h"
#include "gitserv.h"

#define TOKEN	"dash-token-0123456789"

static const char room_a[] =
    "metadata:\n"
    "  name: dash-a\n"
    "  version: 1\n"
    "spec:\n"
    "  roomId: room-dash-alpha\n"
    "  entities:\n"
    "    - id: E-one\n"
    "      kind: agent\n"
    "      displayName: \"<b>One</b>\"\n";

static const char room_b[] =
    "metadata:\n"
    "  name: dash-b\n"
    "  version: 1\n"
    "spec:\n"
    "  roomId: room-dash-bravo\n"
    "  entities:\n"
    "    - id: E-two\n"
    "      kind: human\n"
    "      displayName: Two\n";

struct fx {
	struct simctl	 sim;
	struct agentctl	 a;
	char		*state;
	char		*dir;
	char		*tokfile;
};

#define WAIT(f, cond)	AC_WAIT_AGENT(&(f)->a, cond)

static int
setup(void **state)
{
	struct fx	*f = calloc(1, sizeof(*f));
	const char	*args[16];
	size_t		 n = 0;

	assert_non_null(f);
	f->sim = (struct simctl)SIMCTL_INIT;
	f->a = (struct agentctl)AGENTCTL_INIT;
	if (ac_sim_start(&f->sim, NULL) < 0)
		return -1;
	f->state = tu_tmpdir();
	f->dir = tu_tmpdir();
	tu_write(f->state, "token", TOKEN "\n");
	f->tokfile = tu_path(f->state, "token");
	tu_write(f->dir, "a.yaml", room_a);
	tu_write(f->dir, "b.yaml", room_b);
	args[n++] = "--server";
	args[n++] = f->sim.url;
	args[n++] = "--state-dir";
	args[n++] = f->state;
	args[n++] = "--watch";
	args[n++] = f->dir;
	args[n++] = "--debounce";
	args[n++] = "20ms";
	args[n++] = "--api-token-file";
	args[n++] = f->tokfile;
	args[n++] = "--ui-commit-url";
	args[n++] = "https://git.example/o/r/commit/{sha}";
	args[n] = NULL;
	assert_int_equal(ac_agent_start(&f->a, args), 0);
	*state = f;
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
		ac_agent_dump(&f->a);
	ac_agent_cleanup(&f->a);
	simctl_cleanup(&f->sim);
	tu_rmrf(f->state);
	tu_rmrf(f->dir);
	free(f->state);
	free(f->dir);
	free(f->tokfile);
	free(f);
	return st == 0 || st == -1 ? 0 : -1;
}

static long
status_of(struct fx *f, const char *path, struct ro_buf *out)
{
	char	url[512];

	snprintf(url, sizeof(url), "%s%s", f->a.url, path);
	return ac_http("GET", url, NULL, 0, NULL, out);
}

static cJSON *
get_st(struct fx *f, const char *path, long *st)
{
	char	url[512];

	snprintf(url, sizeof(url), "%s%s", f->a.url, path);
	return ac_json("GET", url, NULL, NULL, st);
}

static bool
converged(struct fx *f, int n)
{
	cJSON	*o = ac_get(f->a.url, "/status/rooms?limit=0");
	bool	 ok;

	ok = o != NULL && ac_num(cJSON_GetObjectItemCaseSensitive(o,
	    "counts"), "converged", -1) == n;
	cJSON_Delete(o);
	return ok;
}

/* Items of toJoin in GET /plan/{room}, or -1. */
static int
plan_joins(struct fx *f, const char *room)
{
	char	 path[128];
	cJSON	*o;
	int	 n;

	snprintf(path, sizeof(path), "/plan/%s", room);
	o = ac_get(f->a.url, path);
	n = o != NULL ? ac_len(cJSON_GetObjectItemCaseSensitive(o, "diff"),
	    "toJoin") : -1;
	cJSON_Delete(o);
	return n;
}

/* Header lines of GET path (lower-cased names kept as sent). */
static size_t
on_header(char *p, size_t sz, size_t n, void *arg)
{
	return ro_buf_add(arg, p, sz * n) < 0 ? 0 : sz * n;
}

static char *
headers_of(struct fx *f, const char *path, const char *extra, long *st)
{
	CURL		*h = curl_easy_init();
	struct curl_slist *hd = NULL;
	struct ro_buf	 b = RO_BUF_INIT, body = RO_BUF_INIT;
	char		 url[512], *s;

	ro_buf_init(&b, 1 << 16);
	ro_buf_init(&body, 1 << 20);
	snprintf(url, sizeof(url), "%s%s", f->a.url, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)AC_WAIT_MS);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &b);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
	if (extra != NULL) {
		hd = curl_slist_append(hd, extra);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	}
	*st = 0;
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, st);
	curl_slist_free_all(hd);
	curl_easy_cleanup(h);
	s = strdup(ro_buf_cstr(&b));
	ro_buf_release(&b);
	ro_buf_release(&body);
	assert_non_null(s);
	return s;
}

static void
test_files(void **state)
{
	struct fx	*f = *state;
	char		*hd, etag[64] = "", inm[96];
	const char	*p;
	long		 st;

	hd = headers_of(f, "/ui", NULL, &st);
	assert_int_equal(st, 200);
	assert_true(tu_contains(hd, "Content-Security-Policy: default-src "
	    "'none'; script-src 'self'; style-src 'self'; img-src 'self' "
	    "data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
	    "frame-ancestors 'none'"));
	assert_true(tu_contains(hd, "X-Content-Type-Options: nosniff"));
	assert_true(tu_contains(hd, "Referrer-Policy: no-referrer"));
	assert_true(tu_contains(hd, "Content-Type: text/html"));
	assert_non_null(p = strstr(hd, "ETag: "));
	sscanf(p + 6, "%63[^\r\n]", etag);
	free(hd);
	snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
	hd = headers_of(f, "/ui/", inm, &st);
	assert_int_equal(st, 304);
	free(hd);
	hd = headers_of(f, "/ui/app.js", NULL, &st);
	assert_int_equal(st, 200);
	assert_true(tu_contains(hd, "Content-Type: text/javascript"));
	free(hd);
	assert_int_equal(status_of(f, "/ui/app.css", NULL), 200);
	assert_int_equal(status_of(f, "/ui/nope.js", NULL), 404);
	assert_int_equal(status_of(f, "/ui/..%2fapi.c", NULL), 404);
}

static void
test_rooms_page(void **state)
{
	struct fx	*f = *state;
	cJSON		*o, *rows;
	long		 st;

	WAIT(f, converged(f, 2));
	o = ac_get(f->a.url, "/status/rooms?limit=1");
	assert_non_null(o);
	assert_int_equal(ac_num(o, "total", -1), 2);
	assert_int_equal(ac_num(o, "matched", -1), 2);
	rows = cJSON_GetObjectItemCaseSensitive(o, "rooms");
	assert_int_equal(cJSON_GetArraySize(rows), 1);
	assert_non_null(ac_str(cJSON_GetArrayItem(rows, 0), "status"));
	cJSON_Delete(o);
	o = ac_get(f->a.url, "/status/rooms?q=BRAVO");
	assert_int_equal(ac_num(o, "matched", -1), 1);
	assert_string_equal(ac_str(cJSON_GetArrayItem(
	    cJSON_GetObjectItemCaseSensitive(o, "rooms"), 0), "roomId"),
	    "room-dash-bravo");
	cJSON_Delete(o);
	o = ac_get(f->a.url, "/status/rooms?status=failed");
	assert_int_equal(ac_num(o, "matched", -1), 0);
	cJSON_Delete(o);
	o = get_st(f, "/status/rooms?limit=1001", &st);
	assert_int_equal(st, 400);
	cJSON_Delete(o);
	o = get_st(f, "/status/rooms?offset=-1", &st);
	assert_int_equal(st, 400);
	cJSON_Delete(o);
	o = get_st(f, "/status/rooms?status=green", &st);
	assert_int_equal(st, 400);
	cJSON_Delete(o);
	o = ac_get(f->a.url, "/status?rooms=false");
	assert_non_null(o);
	assert_null(cJSON_GetObjectItemCaseSensitive(o, "rooms"));
	assert_string_equal(ac_str(cJSON_GetObjectItemCaseSensitive(o,
	    "source"), "watch"), f->dir);
	cJSON_Delete(o);
	o = ac_get(f->a.url, "/ui/config.json");
	assert_string_equal(ac_str(o, "commitUrl"),
	    "https://git.example/o/r/commit/{sha}");
	cJSON_Delete(o);
}

static void
test_spec_and_plan(void **state)
{
	struct fx	*f = *state;
	char		*audit = tu_path(f->state, "audit.jsonl");
	cJSON		*o, *diff, *it;
	int		 before;
	long		 st;

	WAIT(f, converged(f, 2));
	o = ac_get(f->a.url, "/rooms/room-dash-alpha/spec");
	assert_non_null(o);
	assert_true(tu_contains(ac_str(o, "text"), "displayName: "
	    "\"<b>One</b>\""));
	assert_true(tu_contains(ac_str(o, "file"), "a.yaml"));
	assert_int_equal(ac_len(o, "errors"), 0);
	cJSON_Delete(o);
	o = get_st(f, "/rooms/room-dash-nothere/spec", &st);
	assert_int_equal(st, 404);
	cJSON_Delete(o);
	o = get_st(f, "/rooms/bad/spec", &st);
	assert_int_equal(st, 400);
	cJSON_Delete(o);

	/* converged: an empty plan, and no audit record for it */
	before = ac_file_count(audit, "\"room\":\"room-dash-alpha\"");
	o = ac_get(f->a.url, "/plan/room-dash-alpha");
	assert_non_null(o);
	diff = cJSON_GetObjectItemCaseSensitive(o, "diff");
	assert_non_null(diff);
	cJSON_ArrayForEach(it, diff)
		assert_int_equal(cJSON_GetArraySize(it), 0);
	cJSON_Delete(o);
	ac_sleep_ms(200);
	assert_int_equal(ac_file_count(audit, "\"room\":\"room-dash-alpha\""),
	    before);

	/* suspended, then changed: the plan shows the change */
	{
		char		 url[512];
		const char	*h[] = { "Authorization: Bearer " TOKEN, NULL };

		snprintf(url, sizeof(url), "%s/rooms/room-dash-bravo/suspend",
		    f->a.url);
		assert_int_equal(ac_http("POST", url, NULL, 0, NULL, NULL),
		    401);
		assert_int_equal(ac_http("POST", url, NULL, 0, h, NULL), 200);
	}
	ac_write_atomic(f->dir, "b.yaml", "metadata:\n  name: dash-b\n"
	    "  version: 2\nspec:\n  roomId: room-dash-bravo\n  entities:\n"
	    "    - id: E-two\n      kind: human\n      displayName: Two\n"
	    "    - id: E-three\n      kind: human\n      displayName: Three\n");
	WAIT(f, plan_joins(f, "room-dash-bravo") == 1);
	o = ac_get(f->a.url, "/status/rooms?q=bravo");
	assert_int_equal(ac_num(cJSON_GetArrayItem(
	    cJSON_GetObjectItemCaseSensitive(o, "rooms"), 0), "drift", -1), 1);
	cJSON_Delete(o);

	/* rejected: the file:line error in the status, spec and plan */
	ac_write_atomic(f->dir, "a.yaml", "metadata:\n  name: dash-a\n"
	    "  version: 1\nspec:\n  roomId: room-dash-alpha\n  entities:\n"
	    "    - idd: E-one\n      kind: agent\n");
	WAIT(f, ac_room_is(&f->a, "room-dash-alpha", "status", "rejected"));
	o = ac_get(f->a.url, "/rooms/room-dash-alpha/spec");
	assert_true(ac_len(o, "errors") >= 1);	/* idd unknown, id missing */
	assert_true(tu_contains(cJSON_GetArrayItem(
	    cJSON_GetObjectItemCaseSensitive(o, "errors"), 0)->valuestring,
	    "a.yaml:7:7: "));
	cJSON_Delete(o);
	o = get_st(f, "/plan/room-dash-alpha", &st);
	assert_int_equal(st, 422);
	assert_true(tu_contains(cJSON_GetArrayItem(
	    cJSON_GetObjectItemCaseSensitive(o, "errors"), 0)->valuestring,
	    "a.yaml:7:7: "));
	cJSON_Delete(o);
	free(audit);
}

struct sse {
	char		 url[512];
	struct ro_buf	 b;
};

static void *
read_events(void *arg)
{
	struct sse	*s = arg;
	CURL		*h = curl_easy_init();

	curl_easy_setopt(h, CURLOPT_URL, s->url);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 1500L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s->b);
	(void)curl_easy_perform(h);	/* ends by its timeout */
	curl_easy_cleanup(h);
	return NULL;
}

static void
test_room_events(void **state)
{
	struct fx	*f = *state;
	struct sse	 s;
	pthread_t	 t;
	char		 url[512];
	const char	*h[] = { "Authorization: Bearer " TOKEN, NULL };

	WAIT(f, converged(f, 2));
	snprintf(s.url, sizeof(s.url), "%s/events", f->a.url);
	ro_buf_init(&s.b, 1 << 20);
	assert_int_equal(pthread_create(&t, NULL, read_events, &s), 0);
	ac_sleep_ms(400);		/* subscribed */
	snprintf(url, sizeof(url), "%s/rooms/room-dash-alpha/suspend",
	    f->a.url);
	assert_int_equal(ac_http("POST", url, NULL, 0, h, NULL), 200);
	pthread_join(t, NULL);
	assert_true(tu_contains(ro_buf_cstr(&s.b), "event: room\ndata: "
	    "{\"roomId\":\"room-dash-alpha\",\"status\":\"converged\","
	    "\"suspended\":true,"));
	ro_buf_release(&s.b);
}

/* GET path: the status; the document in *out (caller frees). */
static long
get_doc(const char *base, const char *path, cJSON **out)
{
	char	url[512];
	long	st;

	snprintf(url, sizeof(url), "%s%s", base, path);
	*out = ac_json("GET", url, NULL, NULL, &st);
	return st;
}

static void
test_git_source(void **state)
{
	struct gs_repo	 r;
	struct simctl	 sim = SIMCTL_INIT;
	struct agentctl	 a = AGENTCTL_INIT;
	char		*url, *st_dir, rev[64];
	const char	*args[16];
	cJSON		*o, *it;
	size_t		 n = 0;
	long		 st;

	(void)state;
	gs_repo_init(&r, "main");
	gs_commit_file(&r, "rooms/a.yaml", room_a, "a <b>room</b>");
	gs_push(&r, false);
	snprintf(rev, sizeof(rev), "%s", gs_origin_rev(&r, "main"));
	assert_int_equal(ac_sim_start(&sim, NULL), 0);
	if (asprintf(&url, "file://%s", r.origin) < 0)
		abort();
	st_dir = tu_path(r.root, "state");
	args[n++] = "--repo";
	args[n++] = url;
	args[n++] = "--path";
	args[n++] = "rooms";
	args[n++] = "--interval";
	args[n++] = "200ms";
	args[n++] = "--server";
	args[n++] = sim.url;
	args[n++] = "--state-dir";
	args[n++] = st_dir;
	args[n] = NULL;
	assert_int_equal(ac_agent_start(&a, args), 0);
	if (!AC_WAIT(ac_room_is(&a, "room-dash-alpha", "lastRevision", rev),
	    AC_WAIT_MS)) {
		ac_agent_dump(&a);
		fail_msg("the Git room did not converge");
	}

	/* the file at the processed commit */
	st = get_doc(a.url, "/rooms/room-dash-alpha/spec", &o);
	assert_int_equal(st, 200);
	assert_string_equal(ac_str(o, "revision"), rev);
	assert_string_equal(ac_str(o, "file"), "rooms/a.yaml");
	assert_string_equal(ac_str(o, "text"), room_a);
	cJSON_Delete(o);
	st = get_doc(a.url, "/plan/room-dash-alpha", &o);
	assert_int_equal(st, 200);
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(o, "diff"))
		assert_int_equal(cJSON_GetArraySize(it), 0);
	cJSON_Delete(o);

	/* a rejected commit: file:line in the spec's errors and the plan */
	gs_commit_file(&r, "rooms/a.yaml", "metadata:\n  name: dash-a\n"
	    "  version: 1\nspec:\n  roomId: room-dash-alpha\n  entities:\n"
	    "    - idd: E-one\n      kind: agent\n", "break it");
	gs_push(&r, false);
	snprintf(rev, sizeof(rev), "%s", gs_origin_rev(&r, "main"));
	/* (a rejected revision is not the room's lastRevision: wait for the
	 * cursor to pass it) */
	if (!AC_WAIT(ac_room_is(&a, "room-dash-alpha", "status", "rejected") &&
	    ac_get_is(a.url, "/rooms/room-dash-alpha/spec", "revision", rev),
	    AC_WAIT_MS)) {
		ac_agent_dump(&a);
		fail_msg("the rejected commit was not seen");
	}
	st = get_doc(a.url, "/plan/room-dash-alpha", &o);
	assert_int_equal(st, 422);
	assert_true(tu_contains(cJSON_GetArrayItem(
	    cJSON_GetObjectItemCaseSensitive(o, "errors"), 0)->valuestring,
	    "rooms/a.yaml:7:7: "));
	cJSON_Delete(o);
	st = get_doc(a.url, "/rooms/room-dash-alpha/spec", &o);
	assert_int_equal(st, 200);
	assert_string_equal(ac_str(o, "revision"), rev);
	assert_true(ac_len(o, "errors") >= 1);
	cJSON_Delete(o);
	st = get_doc(a.url, "/rooms/room-dash-nothere/spec", &o);
	assert_int_equal(st, 404);
	cJSON_Delete(o);

	assert_int_equal(ac_agent_stop(&a), 0);
	ac_agent_cleanup(&a);
	simctl_cleanup(&sim);
	free(url);
	free(st_dir);
	gs_repo_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rooms_page, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_spec_and_plan, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_room_events, setup,
		    teardown),
		cmocka_unit_test(test_git_source),
	};

	ac_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
