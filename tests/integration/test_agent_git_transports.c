/*
 * test_agent_git_transports.c: `roomops agent --repo` end to end over
 * each transport against real local servers (file://, git daemon, https
 * through lighttpd + git http-backend with a self-signed CA and basic
 * auth, sshd with a key and known_hosts): the first clone and apply
 * converge the rooms, a second commit is fetched and applied, and the
 * notes pushed to the origin are what `git log --notes=roomops` shows in
 * a clone that fetches refs/notes/roomops. Then an origin that cannot
 * be reached: a clear error in the log and in /status source.lastError,
 * the daemon keeps running and recovers when the server returns.
 */
#include "agent_git_fx.h"

#define ALPHA	"room-alpha-01"
#define BRAVO	"room-bravo-01"

static void
commit_two(struct fx *f)
{
	fx_commit_spec(f, "alpha.yaml", ALPHA, "a", "Alpha Lead", "alpha");
	fx_commit_spec(f, "bravo.yaml", BRAVO, "b", "Bravo Lead", "bravo");
	gs_push(&f->r, false);
}

/* The note of the origin's head holds one record of room, outcome. */
static void
assert_head_note(struct fx *f, const char *room, const char *outcome)
{
	char	*rev = strdup(gs_origin_rev(&f->r, "main"));
	cJSON	*note = fx_note(f->r.origin, rev);

	if (fx_count(note, room, outcome) != 1) {
		fx_print_records(rev, note);
		fail_msg("note of %.12s: want one '%s' record of %s", rev,
		    outcome, room);
	}
	cJSON_Delete(note);
	free(rev);
}

/*
 * First clone and apply, then one more commit, through f->url with the
 * transport's options (a, b, c, d, e, f: NULL-padded).
 */
static void
scenario(struct fx *f, const char *o1, const char *o2, const char *o3,
    const char *o4, const char *o5, const char *o6)
{
	char	*out, *log;

	commit_two(f);
	fx_once_in(f, NULL, 0, &log, "--push-notes", o1, o2, o3, o4, o5, o6,
	    NULL);
	assert_true(fx_file_has(log, "git: cloned into"));
	free(log);
	assert_int_equal(fx_room_entities(f, ALPHA), 2);
	assert_int_equal(fx_room_entities(f, BRAVO), 2);
	fx_assert_name(f, ALPHA, "E-a-lead", "Alpha Lead");
	assert_head_note(f, ALPHA, "applied");
	assert_head_note(f, BRAVO, "applied");

	/* what a person sees: git log --notes=roomops in their clone */
	out = fx_clone_log(f, "main");
	assert_true(tu_contains(out, "Notes (roomops):"));
	assert_true(tu_contains(out, "\"room\":\"" ALPHA "\""));
	assert_true(tu_contains(out, "\"room\":\"" BRAVO "\""));
	assert_true(tu_contains(out, "\"outcome\":\"applied\""));
	free(out);

	/* one more commit: remote check, fetch, apply, notes pushed again */
	fx_commit_spec(f, "alpha.yaml", ALPHA, "a", "Alpha Lead II", "rename");
	gs_push(&f->r, false);
	fx_once_in(f, NULL, 0, &log, "--push-notes", o1, o2, o3, o4, o5, o6,
	    NULL);
	assert_true(fx_file_has(log, "git: reusing the clone at"));
	free(log);
	fx_assert_name(f, ALPHA, "E-a-lead", "Alpha Lead II");
	assert_head_note(f, ALPHA, "applied");
	out = fx_clone_log(f, "main");
	assert_true(tu_contains(out, "\"outcome\":\"applied\""));
	assert_false(tu_contains(out, "\"room\":\"" BRAVO "\""));
	free(out);
}

static void
test_file(void **state)
{
	struct fx	*f = *state;

	scenario(f, NULL, NULL, NULL, NULL, NULL, NULL);
}

static void
test_git_daemon(void **state)
{
	struct fx		*f = *state;
	struct gs_server	 s;

	if (gs_daemon_start(&s, &f->r) == GS_MISSING)
		skip();
	fx_set_url(f, s.url);
	scenario(f, NULL, NULL, NULL, NULL, NULL, NULL);
	gs_server_stop(&s);
}

static void
test_https(void **state)
{
	struct fx		*f = *state;
	struct gs_server	 s;
	char			*log;
	unsigned		 i;

	if (gs_http_start(&s, &f->r, "agent", "s3cret-t0ken") == GS_MISSING)
		skip();
	fx_set_url(f, s.url);
	scenario(f, "--git-username", s.user, "--git-password-file",
	    s.password_file, "--git-cacert", s.ca_file);
	/* the same password as a token file; a wrong CA is refused */
	fx_commit_spec(f, "bravo.yaml", BRAVO, "b", "Bravo Lead II", "rename");
	gs_push(&f->r, false);
	fx_once(f, 0, "--push-notes", "--git-username", s.user,
	    "--git-token-file", s.password_file, "--git-cacert", s.ca_file,
	    NULL);
	fx_assert_name(f, BRAVO, "E-b-lead", "Bravo Lead II");
	fx_once_in(f, NULL, 2, &log, "--git-username", s.user,
	    "--git-token-file", s.password_file, "--git-cacert",
	    s.wrong_ca_file, NULL);
	assert_true(fx_file_has(log, "certificate"));
	for (i = 0; i < f->nlogs; i++) {
		char name[32], *p;

		snprintf(name, sizeof(name), "agent-%u.log", i);
		p = tu_path(f->r.root, name);
		assert_false(fx_file_has(p, "s3cret-t0ken"));
		free(p);
	}
	free(log);
	gs_server_stop(&s);
}

static void
test_ssh(void **state)
{
	struct fx		*f = *state;
	struct gs_server	 s;
	char			*log, *empty;

	if (gs_sshd_start(&s, &f->r) == GS_MISSING)
		skip();
	fx_set_url(f, s.url);
	scenario(f, "--ssh-key", s.key_file, "--ssh-known-hosts",
	    s.known_hosts, NULL, NULL);

	/* a host key not in known_hosts is refused, unless allowed */
	tu_write(f->r.root, "empty_known_hosts", "");
	empty = tu_path(f->r.root, "empty_known_hosts");
	fx_commit_spec(f, "bravo.yaml", BRAVO, "b", "Bravo Lead II", "rename");
	gs_push(&f->r, false);
	fx_once_in(f, NULL, 2, &log, "--ssh-key", s.key_file,
	    "--ssh-known-hosts", empty, NULL);
	assert_true(fx_file_has(log, "not in known_hosts"));
	free(log);
	fx_assert_name(f, BRAVO, "E-b-lead", "Bravo Lead");
	fx_once(f, 0, "--ssh-key", s.key_file, "--ssh-known-hosts", empty,
	    "--ssh-allow-unknown", NULL);
	fx_assert_name(f, BRAVO, "E-b-lead", "Bravo Lead II");
	free(empty);
	gs_server_stop(&s);
}

/* ---- an origin that cannot be reached ------------------------------------ */

static void
test_unreachable_once(void **state)
{
	struct fx	*f = *state;
	char		 url[128], *log;
	int		 port = gs_free_port();

	commit_two(f);
	snprintf(url, sizeof(url), "git://127.0.0.1:%d/origin.git", port);
	fx_set_url(f, url);
	fx_once_in(f, NULL, 2, &log, NULL);
	assert_true(fx_file_has(log, url));
	assert_true(fx_file_has(log, "roomops warn: git: "));
	free(log);
	assert_int_equal(fx_mutations(f), 0);
}

/* Wait until source.lastError is set (want_error) or null. */
static char *
wait_last_error(struct agent *a, bool want_error)
{
	long long	 end = fx_now_ms() + FX_WAIT_MS;
	char		*e;

	for (;;) {
		e = fx_source(a, "lastError");
		if ((e != NULL) == want_error)
			return e;
		free(e);
		if (fx_now_ms() > end) {
			fx_dump("agent log", a->log);
			fail_msg("source.lastError did not become %s",
			    want_error ? "set" : "null");
		}
		fx_nap(50);
	}
}

static void
test_unreachable_recovers(void **state)
{
	struct fx		*f = *state;
	struct gs_server	 s;
	struct agent		 a;
	cJSON			*h;
	char			*e, *name, *rev;
	long long		 end;
	int			 port;

	if (gs_daemon_start(&s, &f->r) == GS_MISSING)
		skip();
	port = s.port;
	fx_set_url(f, s.url);
	commit_two(f);
	fx_daemon(f, NULL, &a, "--interval", "200ms", "--push-notes", NULL);
	rev = strdup(gs_origin_rev(&f->r, "main"));
	if (!fx_wait_note(f->r.origin, rev, 2, FX_WAIT_MS)) {
		fx_dump("agent log", a.log);
		fail_msg("the first sync left no notes");
	}
	free(rev);
	e = fx_source(&a, "lastError");
	assert_null(e);

	/* The server goes away; a commit waits on the origin. */
	gs_server_stop(&s);
	fx_commit_spec(f, "alpha.yaml", ALPHA, "a", "While Away", "away");
	gs_push(&f->r, false);
	e = wait_last_error(&a, true);
	assert_true(tu_contains(e, "127.0.0.1"));
	free(e);
	assert_true(fx_file_has(a.log, "roomops warn: git: "));
	fx_nap(600);		/* a few failed polls: still running */
	h = fx_api(&a, "/health");
	assert_non_null(h);
	cJSON_Delete(h);
	assert_int_equal(waitpid(a.pid, NULL, WNOHANG), 0);
	fx_assert_name(f, ALPHA, "E-a-lead", "Alpha Lead");

	/* It comes back on the same port: the commit is applied. */
	assert_int_equal(gs_daemon_start_port(&s, &f->r, port), 0);
	end = fx_now_ms() + FX_WAIT_MS;
	for (;;) {
		name = fx_entity_name(f, ALPHA, "E-a-lead");
		if (name != NULL && strcmp(name, "While Away") == 0)
			break;
		free(name);
		if (fx_now_ms() > end) {
			fx_dump("agent log", a.log);
			fail_msg("the agent did not recover");
		}
		fx_nap(50);
	}
	free(name);
	e = wait_last_error(&a, false);
	assert_null(e);
	rev = strdup(gs_origin_rev(&f->r, "main"));
	assert_true(fx_wait_note(f->r.origin, rev, 1, FX_WAIT_MS));
	free(rev);
	kill(a.pid, SIGTERM);
	assert_int_equal(fx_wait(&a, 10000), 0);
	fx_agent_release(&a);
	gs_server_stop(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_file, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_git_daemon, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_https, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_ssh, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_unreachable_once, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_unreachable_recovers,
		    fx_setup, fx_teardown),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
