/*
 * test_agent_notify.c: commit statuses (issue 12), the real agent against
 * roomserver-sim, a file:// origin and a fake Git host (fakehost.h) that
 * implements GitHub's, GitLab's and Gitea's status APIs and a webhook
 * receiver, and records every request:
 * - a sequence of commits gives exactly pending, then the right final
 *   state, per commit and provider; a rejected spec gives failure with
 *   the reason; the webhook is signed and carries the records;
 * - the host down for 10 s delays no reconcile, and the statuses arrive
 *   after it returns;
 * - 401 is logged once and counted, not retried;
 * - 429 with Retry-After is honoured;
 * - an unconfirmed final status is sent again after a restart;
 * - tokens never appear in the agent's log (every test checks).
 */
#include "agent_git_fx.h"

#include "roomops/shard.h"
#include "fakehost.h"

#define ALPHA	"room-alpha-01"
#define BRAVO	"room-bravo-01"
#define CHARLIE	"room-charlie-01"
#define TOKEN	"tok-7f3a9c1e55d04b2b"
#define SECRET	"sec-0b8e6a2f91c74d13"
#define NOTIFY_WAIT_MS	60000	/* statuses after a fault */

/* Poll cond every 50 ms until true or ms passed. */
#define AC_WAIT_ALL(cond, ms) __extension__ ({				\
	long long _end = fx_now_ms() + (ms);				\
	bool _ok;							\
	while (!(_ok = (cond)) && fx_now_ms() < _end)			\
		fx_nap(50);						\
	_ok;								\
})

struct nfx {
	struct fx	 f;
	struct fakehost	 h;
	char		*token_file;
	char		*secret_file;
	char		 hook_url[96];
	char		 url_arg[96];
	char		 token_arg[512];
};

static int
setup(void **state)
{
	struct nfx	*n = calloc(1, sizeof(*n));

	assert_non_null(n);
	fx_init(&n->f);
	assert_int_equal(fh_start(&n->h, TOKEN, SECRET), 0);
	tu_write(n->f.r.root, "token", TOKEN "\n");
	tu_write(n->f.r.root, "secret", SECRET "\n");
	n->token_file = tu_path(n->f.r.root, "token");
	n->secret_file = tu_path(n->f.r.root, "secret");
	snprintf(n->hook_url, sizeof(n->hook_url), "webhook=%s/hook",
	    n->h.url);
	snprintf(n->url_arg, sizeof(n->url_arg), "%s", n->h.url);
	snprintf(n->token_arg, sizeof(n->token_arg), "webhook=%s",
	    n->secret_file);
	*state = n;
	return 0;
}

static int
teardown(void **state)
{
	struct nfx	*n = *state;

	fh_stop(&n->h);
	fx_free(&n->f);
	free(n->token_file);
	free(n->secret_file);
	free(n);
	return 0;
}

/* The log never holds a token or the webhook secret. */
static void
assert_no_secrets(const char *log)
{
	if (fx_file_has(log, TOKEN) || fx_file_has(log, SECRET)) {
		fx_dump("agent log", log);
		fail_msg("a token is in the agent's log");
	}
}

static const char *
final_word(enum fh_kind k, bool ok)
{
	if (ok)
		return "success";
	return k == FH_GITLAB ? "failed" : "failure";
}

static void
dump_requests(struct fakehost *h)
{
	struct fh_req	r;
	size_t		i;

	for (i = 0; fh_get(h, FH_OTHER, NULL, i, &r); i++) {
		fprintf(stderr, "  %d %s state=%s status=%d desc=%s\n", r.kind,
		    r.path, r.state, r.status, r.description);
		fh_req_release(&r);
	}
}

/* Requests of kind for sha: exactly pending, then the final state. */
static void
assert_pending_final(struct fakehost *h, enum fh_kind k, const char *sha,
    bool ok, const char *desc_part)
{
	struct fh_req	r;

	if (fh_count(h, k, sha) != 2) {
		dump_requests(h);
		fail_msg("provider %d, %.12s: %zu requests, want 2", k, sha,
		    fh_count(h, k, sha));
	}
	assert_true(fh_get(h, k, sha, 0, &r));
	assert_string_equal(r.state, "pending");
	assert_true(r.status / 100 == 2);
	if (k != FH_WEBHOOK)
		assert_string_equal(r.context, "roomops");
	fh_req_release(&r);
	assert_true(fh_get(h, k, sha, 1, &r));
	if (strcmp(r.state, final_word(k, ok)) != 0 ||
	    (desc_part != NULL && strstr(r.description, desc_part) == NULL)) {
		dump_requests(h);
		fail_msg("provider %d, %.12s: final %s \"%s\", want %s with "
		    "\"%s\"", k, sha, r.state, r.description, final_word(k,
		    ok), desc_part != NULL ? desc_part : "");
	}
	assert_true(r.status / 100 == 2);
	if (k != FH_WEBHOOK) {
		assert_string_equal(r.context, "roomops");
		assert_non_null(strstr(r.target_url, sha));
	}
	fh_req_release(&r);
}

static char *
rev_of(struct fx *f, const char *rev)
{
	char	*s = strdup(gs_rev(&f->r, rev));

	assert_non_null(s);
	return s;
}

#define NOTIFY_ALL(n)							\
	"--notify", "github", "--notify", "gitlab", "--notify", "gitea",\
	"--notify", "webhook", "--notify-token-file", (n)->token_file,	\
	"--notify-token-file", (n)->token_arg, "--notify-url",		\
	(n)->url_arg, "--notify-url", (n)->hook_url, "--notify-repo",	\
	"acme/rooms", "--notify-target-url",				\
	"https://dash.example/rooms/{room}?rev={sha}", "--log-level", "debug"

/* ---- a sequence of commits ----------------------------------------------- */

static void
test_sequence(void **state)
{
	struct nfx	*n = *state;
	struct fx	*f = &n->f;
	static const enum fh_kind kinds[] = { FH_GITHUB, FH_GITLAB, FH_GITEA,
	    FH_WEBHOOK };
	struct fh_req	 r;
	char		*c[4], *log, want[256];
	cJSON		*o, *recs;
	size_t		 i, k;

	/* a first run applies the head in full: the sequence comes after */
	fx_commit_spec(f, "delta.yaml", "room-delta-01", "d", "Delta", "delta");
	gs_push(&f->r, false);
	fx_once(f, 0, NULL);

	fx_commit_spec(f, "alpha.yaml", ALPHA, "a", "Alpha Lead", "alpha");
	c[0] = rev_of(f, "HEAD");
	fx_commit_spec(f, "bravo.yaml", BRAVO, "b", "Bravo Lead", "bravo");
	c[1] = rev_of(f, "HEAD");
	fx_commit_spec(f, "alpha.yaml", ALPHA, "a", "Alpha II", "rename");
	c[2] = rev_of(f, "HEAD");
	gs_commit_file(&f->r, "specs/charlie.yaml",
	    "metadata:\n  version: 1\nspec:\n  roomId: " CHARLIE "\n"
	    "  entities:\n    - {id: E-c-lead, kind: robot}\n", "robot");
	c[3] = rev_of(f, "HEAD");
	gs_push(&f->r, false);
	fx_once_in(f, NULL, 2, &log, NOTIFY_ALL(n), NULL);

	for (k = 0; k < RO_NELEM(kinds); k++) {
		for (i = 0; i < 3; i++)
			assert_pending_final(&n->h, kinds[k], c[i], true,
			    "1 applied");
		assert_pending_final(&n->h, kinds[k], c[3], false,
		    "1 rejected: " CHARLIE ": spec.entities[0].kind: ");
		assert_true(fh_get(&n->h, kinds[k], c[3], 1, &r));
		assert_non_null(strstr(r.description, "\"robot\""));
		assert_true(strlen(r.description) <= 140);
		fh_req_release(&r);
	}
	/* exact paths: GitLab's project is one encoded segment */
	assert_true(fh_get(&n->h, FH_GITLAB, c[0], 0, &r));
	assert_non_null(strstr(r.path, "/api/v4/projects/acme%2Frooms/"
	    "statuses/"));
	fh_req_release(&r);
	assert_true(fh_get(&n->h, FH_GITHUB, c[3], 1, &r));
	snprintf(want, sizeof(want), "https://dash.example/rooms/" CHARLIE
	    "?rev=%s", c[3]);
	assert_string_equal(r.target_url, want);
	fh_req_release(&r);
	/* the webhook carries the records of the commit */
	assert_true(fh_get(&n->h, FH_WEBHOOK, c[3], 1, &r));
	o = cJSON_Parse(r.body);
	recs = cJSON_GetObjectItem(o, "records");
	assert_int_equal(cJSON_GetArraySize(recs), 1);
	assert_true(fx_str_is(cJSON_GetArrayItem(recs, 0), "outcome",
	    "rejected"));
	cJSON_Delete(o);
	fh_req_release(&r);
	/* nothing but these: 4 commits x 2 statuses x 4 providers */
	assert_int_equal(fh_count(&n->h, FH_OTHER, NULL), 32);
	assert_no_secrets(log);
	free(log);
	for (i = 0; i < 4; i++)
		free(c[i]);
}

static int	count_in(const char *, const char *);

/* ---- the host down for 10 s ---------------------------------------------- */

/* Final statuses of sha at kind (requests answered 2xx, not pending). */
static size_t
finals(struct fakehost *h, enum fh_kind k, const char *sha)
{
	struct fh_req	r;
	size_t		i, n = 0;

	for (i = 0; fh_get(h, k, sha, i, &r); i++) {
		if (r.status / 100 == 2 && strcmp(r.state, "pending") != 0)
			n++;
		fh_req_release(&r);
	}
	return n;
}

static bool
all_final(struct fakehost *h, const char *sha)
{
	return finals(h, FH_GITHUB, sha) == 1 && finals(h, FH_GITLAB,
	    sha) == 1 && finals(h, FH_GITEA, sha) == 1 && finals(h,
	    FH_WEBHOOK, sha) == 1;
}

/* Only 2xx answers of kind for sha: pending, then success. */
static void
assert_delivered_in_order(struct fakehost *h, enum fh_kind k, const char *sha)
{
	struct fh_req	r;
	size_t		i, ok = 0;
	bool		final = false;

	for (i = 0; fh_get(h, k, sha, i, &r); i++) {
		if (r.status / 100 == 2) {
			if (ok == 0)
				assert_string_equal(r.state, "pending");
			else {
				assert_string_equal(r.state, "success");
				final = true;
			}
			ok++;
		}
		fh_req_release(&r);
	}
	assert_int_equal(ok, 2);
	assert_true(final);
}

static void
test_host_down(void **state)
{
	struct nfx	*n = *state;
	struct fx	*f = &n->f;
	struct agent	 a;
	long long	 t0;
	char		*c1, *c2;
	cJSON		*recs;
	bool		 arrived;

	fx_commit_spec(f, "alpha.yaml", ALPHA, "a", "Alpha Lead", "alpha");
	gs_push(&f->r, false);
	c1 = rev_of(f, "HEAD");
	fx_daemon(f, NULL, &a, "--interval", "100ms", NOTIFY_ALL(n), NULL);
	if (!AC_WAIT_ALL(all_final(&n->h, c1), FX_WAIT_MS)) {
		dump_requests(&n->h);
		fx_dump("agent log", a.log);
		fail_msg("no final status of the first commit");
	}

	/* down: the next commit is reconciled all the same */
	fh_down(&n->h);
	t0 = fx_now_ms();
	fx_commit_spec(f, "alpha.yaml", ALPHA, "a", "Alpha II", "rename");
	gs_push(&f->r, false);
	c2 = rev_of(f, "HEAD");
	arrived = false;
	while (fx_now_ms() - t0 < 10000) {
		if (!arrived) {
			recs = fx_jsonl(f->state, c2);
			arrived = fx_count(recs, ALPHA, "applied") == 1;
			cJSON_Delete(recs);
		}
		fx_nap(50);
	}
	if (!arrived) {
		fx_dump("agent log", a.log);
		fail_msg("the reconcile waited for the Git host");
	}
	fx_assert_name(f, ALPHA, "E-a-lead", "Alpha II");
	assert_int_equal(fh_count(&n->h, FH_OTHER, c2), 0);

	/* back: the statuses arrive, in order */
	assert_int_equal(fh_up(&n->h), 0);
	if (!AC_WAIT_ALL(all_final(&n->h, c2), NOTIFY_WAIT_MS)) {
		dump_requests(&n->h);
		fx_dump("agent log", a.log);
		fail_msg("statuses did not arrive after the host came back");
	}
	assert_delivered_in_order(&n->h, FH_GITHUB, c2);
	assert_delivered_in_order(&n->h, FH_GITLAB, c2);
	assert_delivered_in_order(&n->h, FH_GITEA, c2);
	assert_delivered_in_order(&n->h, FH_WEBHOOK, c2);
	/* one warning per provider for the whole outage, one line back */
	assert_int_equal(count_in(a.log, "logged once until a status gets "
	    "through"), 4);
	assert_int_equal(count_in(a.log, "statuses get through again"), 4);
	kill(a.pid, SIGTERM);
	assert_int_equal(fx_wait(&a, FX_WAIT_MS), 0);
	assert_no_secrets(a.log);
	fx_agent_release(&a);
	free(c1);
	free(c2);
}

/* ---- 401: once, counted, not retried ------------------------------------- */

/* The value of one series in the agent's /metrics (-1 when absent). */
static long
metric(const struct agent *a, const char *series)
{
	struct ro_buf	 b = RO_BUF_INIT;
	char		 url[128];
	const char	*p;
	long		 v = -1;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/metrics", a->port);
	if (fx_http("GET", url, NULL, &b) == 200 &&
	    (p = strstr(ro_buf_cstr(&b), series)) != NULL) {
		/* the series line, not its # HELP line */
		while (p != NULL && p > ro_buf_cstr(&b) && p[-1] != '\n')
			p = strstr(p + 1, series);
		if (p != NULL)
			v = strtol(p + strlen(series), NULL, 10);
	}
	ro_buf_release(&b);
	return v;
}

static int
count_in(const char *path, const char *needle)
{
	char		*s = fx_slurp(path);
	const char	*p = s;
	int		 k = 0;

	while ((p = strstr(p, needle)) != NULL) {
		k++;
		p += strlen(needle);
	}
	free(s);
	return k;
}

static void
test_unauthorized(void **state)
{
	struct nfx	*n = *state;
	struct fx	*f = &n->f;
	struct agent	 a;
	char		*wrong;

	tu_write(f->r.root, "wrong", "not-the-token\n");
	wrong = tu_path(f->r.root, "wrong");
	fx_commit_spec(f, "alpha.yaml", ALPHA, "a", "Alpha Lead", "alpha");
	fx_commit_spec(f, "bravo.yaml", BRAVO, "b", "Bravo Lead", "bravo");
	gs_push(&f->r, false);
	fx_daemon(f, NULL, &a, "--interval", "100ms", "--notify", "github",
	    "--notify-token-file", wrong, "--notify-url", n->url_arg,
	    "--notify-repo", "acme/rooms", "--log-level", "debug", NULL);
	/* the head in full (one commit), then one more */
	if (!AC_WAIT_ALL(fh_count(&n->h, FH_GITHUB, NULL) == 2, FX_WAIT_MS)) {
		dump_requests(&n->h);
		fx_dump("agent log", a.log);
		fail_msg("want 2 statuses of the first commit");
	}
	fx_commit_spec(f, "bravo.yaml", BRAVO, "b", "Bravo II", "rename");
	gs_push(&f->r, false);
	if (!AC_WAIT_ALL(metric(&a, "roomops_notify_total{provider=\"github\","
	    "result=\"rejected\"} ") == 4, FX_WAIT_MS)) {
		dump_requests(&n->h);
		fx_dump("agent log", a.log);
		fail_msg("want 4 rejected statuses");
	}
	/* a retry would come within a second or two: none does */
	fx_nap(2500);
	assert_int_equal(fh_count(&n->h, FH_GITHUB, NULL), 4);
	assert_int_equal(metric(&a, "roomops_notify_total{provider=\"github\","
	    "result=\"retry\"} "), 0);
	assert_int_equal(metric(&a, "roomops_notify_total{provider=\"github\","
	    "result=\"success\"} "), 0);
	assert_int_equal(metric(&a, "roomops_notify_queue_depth "), 0);
	assert_int_equal(count_in(a.log, "HTTP 401"), 1);
	assert_int_equal(count_in(a.log, "Bad credentials"), 1);
	/* the reconcile itself went on */
	assert_int_equal(fx_room_entities(f, BRAVO), 2);
	kill(a.pid, SIGTERM);
	assert_int_equal(fx_wait(&a, FX_WAIT_MS), 0);
	assert_no_secrets(a.log);
	assert_false(fx_file_has(a.log, "not-the-token"));
	fx_agent_release(&a);
	free(wrong);
}

/* ---- 429 with Retry-After ------------------------------------------------ */

static void
test_retry_after(void **state)
{
	struct nfx	*n = *state;
	struct fx	*f = &n->f;
	struct agent	 a;
	struct fh_req	 r0, r1;
	char		*c1, *c2;

	fx_commit_spec(f, "alpha.yaml", ALPHA, "a", "Alpha Lead", "alpha");
	gs_push(&f->r, false);
	c1 = rev_of(f, "HEAD");
	fh_fault(&n->h, 429, 1, 2);
	fx_daemon(f, NULL, &a, "--interval", "100ms", "--notify", "gitea",
	    "--notify-token-file", n->token_file, "--notify-url", n->url_arg,
	    "--notify-repo", "acme/rooms", NULL);
	if (!AC_WAIT_ALL(finals(&n->h, FH_GITEA, c1) == 1, FX_WAIT_MS)) {
		dump_requests(&n->h);
		fx_dump("agent log", a.log);
		fail_msg("no final status after a 429");
	}
	assert_int_equal(fh_count(&n->h, FH_GITEA, c1), 3);
	assert_true(fh_get(&n->h, FH_GITEA, c1, 0, &r0));
	assert_true(fh_get(&n->h, FH_GITEA, c1, 1, &r1));
	assert_int_equal(r0.status, 429);
	assert_int_equal(r1.status, 201);
	assert_string_equal(r1.state, "pending");
	/* the backoff alone would have come back within 0.5 s */
	if (r1.at_ms - r0.at_ms < 1900)
		fail_msg("retried %lld ms after a 429 with Retry-After: 2",
		    r1.at_ms - r0.at_ms);
	fh_req_release(&r0);
	fh_req_release(&r1);
	assert_int_equal(metric(&a, "roomops_notify_total{provider=\"gitea\","
	    "result=\"retry\"} "), 1);
	assert_true(metric(&a, "roomops_notify_last_success_timestamp_seconds "
	    ) > 0);

	/* a 403 with Retry-After is a rate limit (GitHub's secondary
	 * limits): retried, not refused */
	fh_fault(&n->h, 403, 1, 1);
	fx_commit_spec(f, "alpha.yaml", ALPHA, "a", "Alpha II", "rename");
	gs_push(&f->r, false);
	c2 = rev_of(f, "HEAD");
	if (!AC_WAIT_ALL(finals(&n->h, FH_GITEA, c2) == 1, FX_WAIT_MS)) {
		dump_requests(&n->h);
		fx_dump("agent log", a.log);
		fail_msg("no final status after a rate-limiting 403");
	}
	assert_true(fh_get(&n->h, FH_GITEA, c2, 0, &r0));
	assert_int_equal(r0.status, 403);
	fh_req_release(&r0);
	assert_int_equal(metric(&a, "roomops_notify_total{provider=\"gitea\","
	    "result=\"rejected\"} "), 0);
	kill(a.pid, SIGTERM);
	assert_int_equal(fx_wait(&a, FX_WAIT_MS), 0);
	assert_no_secrets(a.log);
	fx_agent_release(&a);
	free(c1);
	free(c2);
}

/* ---- restart: an unconfirmed final status is sent again ------------------ */

static void
test_restart_resends(void **state)
{
	struct nfx	*n = *state;
	struct fx	*f = &n->f;
	char		*c1, *log, *marker, *m;

	fx_commit_spec(f, "alpha.yaml", ALPHA, "a", "Alpha Lead", "alpha");
	gs_push(&f->r, false);
	c1 = rev_of(f, "HEAD");
	fh_down(&n->h);
	fx_once_in(f, NULL, 0, &log, "--notify", "github",
	    "--notify-token-file", n->token_file, "--notify-url", n->url_arg,
	    "--notify-repo", "acme/rooms", NULL);
	marker = tu_path(f->state, "notify.json");
	m = fx_slurp(marker);
	assert_non_null(strstr(m, c1));
	assert_non_null(strstr(m, "\"delivered\":false"));
	free(m);
	assert_no_secrets(log);
	free(log);

	/* nothing new to apply: only the last final status goes out */
	assert_int_equal(fh_up(&n->h), 0);
	fx_once_in(f, NULL, 0, &log, "--notify", "github",
	    "--notify-token-file", n->token_file, "--notify-url", n->url_arg,
	    "--notify-repo", "acme/rooms", NULL);
	assert_int_equal(fh_count(&n->h, FH_GITHUB, c1), 1);
	assert_int_equal(finals(&n->h, FH_GITHUB, c1), 1);
	m = fx_slurp(marker);
	assert_non_null(strstr(m, "\"delivered\":true"));
	free(m);
	assert_no_secrets(log);
	free(log);
	free(marker);
	free(c1);
}

/* ---- sharded: own context, own rooms ------------------------------------ */

static void
test_sharded(void **state)
{
	struct nfx	*n = *state;
	struct fx	*f = &n->f;
	struct ro_shard	 s0 = { 0, 2 };
	struct fh_req	 r;
	char		*c1, room[32], file[32], want[128];
	int		 mine = 0, i;

	/* eight rooms: some are shard 0's, the others not */
	for (i = 0; i < 8; i++) {
		snprintf(room, sizeof(room), "room-shard%d-01", i);
		snprintf(file, sizeof(file), "s%d.yaml", i);
		fx_commit_spec(f, file, room, "s", "Lead", "room");
		mine += ro_shard_owns(&s0, room);
	}
	assert_true(mine > 0 && mine < 8);
	gs_push(&f->r, false);
	c1 = rev_of(f, "HEAD");
	fx_once(f, 0, "--shard", "0/2", "--notify", "github",
	    "--notify-token-file", n->token_file, "--notify-url", n->url_arg,
	    "--notify-repo", "acme/rooms", "--notify-target-url",
	    "https://dash.example/{shard}/{sha}", NULL);
	assert_int_equal(fh_count(&n->h, FH_GITHUB, c1), 2);
	assert_true(fh_get(&n->h, FH_GITHUB, c1, 1, &r));
	assert_string_equal(r.context, "roomops/shard-0-of-2");
	assert_string_equal(r.state, "success");
	snprintf(want, sizeof(want), "%d applied", mine);
	assert_string_equal(r.description, want);
	snprintf(want, sizeof(want), "https://dash.example/0-of-2/%s", c1);
	assert_string_equal(r.target_url, want);
	fh_req_release(&r);
	free(c1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sequence, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_host_down, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unauthorized, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_retry_after, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_restart_resends, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sharded, setup, teardown),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	fx_sanitizer_env();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
