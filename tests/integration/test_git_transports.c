/*
 * test_git_transports.c: the Git layer over file://, git://, https://
 * and ssh:// against real local servers: clone, the cheap remote head
 * check, fetch, first-parent range, changed paths, blob reads, notes
 * append and push, warm reopen; refusals (unknown or changed SSH host
 * key, wrong CA, wrong password) with clear messages and no secrets.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gitrepo.h"
#include "gitserv.h"
#include "history.h"
#include "notes.h"
#include "testutil.h"

#define SPEC_A	"kind: RoomSpec\nspec:\n  roomId: room-a\n"
#define SPEC_B	"kind: RoomSpec\nspec:\n  roomId: room-b\n"

static void
opts_init(struct ro_gitrepo_opts *o, struct gs_repo *r, const char *url)
{
	static char	*dir;

	free(dir);
	dir = tu_path(r->root, "state/repo.git");
	memset(o, 0, sizeof(*o));
	o->url = url;
	o->branch = "main";
	o->dir = dir;
	o->connect_timeout_ms = 5000;
	o->io_timeout_ms = 20000;
	o->op_timeout_ms = 60000;
	o->retries = 1;
	o->retry_backoff_ms = 100;
}

static void
seed_origin(struct gs_repo *r)
{
	gs_commit_file(r, "specs/a.yaml", SPEC_A, "add room a");
	gs_commit_file(r, "specs/b.yaml", SPEC_B, "add room b");
	gs_commit_file(r, "specs/seeds/faq.md", "# FAQ\n", "seed");
	gs_commit_file(r, "other/readme.txt", "not a spec\n", "other");
	gs_push(r, false);
}

static git_oid
oid_of(const char *hex)
{
	git_oid	id;

	assert_int_equal(git_oid_fromstr(&id, hex), 0);
	return id;
}

static ino_t
inode_of(const char *dir, const char *name)
{
	struct stat	 sb;
	char		*p = tu_path(dir, name);

	assert_int_equal(stat(p, &sb), 0);
	free(p);
	return sb.st_ino;
}

/* Everything one transport must do, start to end. */
static void
scenario(struct gs_repo *r, const struct ro_gitrepo_opts *o)
{
	struct ro_gitrepo		*g = NULL;
	struct ro_gitrepo_remote	 rh;
	struct ro_gitrepo_fetch_result	 fr;
	struct ro_gitrepo_stats		 st;
	struct ro_notes_push_result	 pr;
	struct ro_history		 h = RO_HISTORY_INIT;
	struct ro_history_changes	 ch = RO_HISTORY_CHANGES_INIT;
	struct ro_strv			 lines = RO_STRV_INIT;
	struct ro_buf			 blob = RO_BUF_INIT;
	struct ro_err			 err = RO_ERR_INIT;
	git_oid				 head, old, neu;
	ino_t				 ino;
	char				*out, hex[GIT_OID_HEXSZ + 1];
	const char			*line = "{\"ts\":\"2026-11-23T10:00:00.000Z\","
	    "\"outcome\":\"applied\"}";

	if (ro_gitrepo_open(&g, o, &err) != RO_OK)
		fail_msg("open: %s", err.msg);
	assert_true(ro_gitrepo_cloned(g));
	assert_int_equal(ro_gitrepo_head(g, &head, &err), RO_OK);
	old = oid_of(gs_origin_rev(r, "main"));
	assert_true(git_oid_equal(&head, &old));
	ro_gitrepo_stats(g, &st);
	assert_int_equal(st.fetches, 1);	/* the clone */

	/* Nothing moved: the check says so, and fetches nothing. */
	if (ro_gitrepo_remote_head(g, &rh, &err) != RO_OK)
		fail_msg("remote head: %s", err.msg);
	assert_true(rh.head_present);
	assert_true(rh.local_present);
	assert_false(rh.moved);
	assert_true(git_oid_equal(&rh.head, &old));
	ro_gitrepo_stats(g, &st);
	assert_int_equal(st.fetches, 1);
	assert_int_equal(st.remote_checks, 1);

	/* A pushed commit is seen as moved; the local ref stays put. */
	gs_commit_file(r, "specs/a.yaml", SPEC_A "  # changed\n", "change a");
	gs_push(r, false);
	neu = oid_of(gs_origin_rev(r, "main"));
	if (ro_gitrepo_remote_head(g, &rh, &err) != RO_OK)
		fail_msg("remote head: %s", err.msg);
	assert_true(rh.moved);
	assert_true(git_oid_equal(&rh.head, &neu));
	assert_true(git_oid_equal(&rh.local, &old));
	assert_int_equal(ro_gitrepo_head(g, &head, &err), RO_OK);
	assert_true(git_oid_equal(&head, &old));

	/* Fetch brings it, counting the bytes. */
	if (ro_gitrepo_fetch(g, RO_GITREPO_FETCH_BRANCH |
	    RO_GITREPO_FETCH_NOTES, &fr, &err) != RO_OK)
		fail_msg("fetch: %s", err.msg);
	assert_true(fr.head_moved);
	assert_true(git_oid_equal(&fr.head_before, &old));
	assert_true(git_oid_equal(&fr.head, &neu));
	assert_true(fr.received_bytes > 0);
	assert_true(fr.received_objects > 0);
	ro_gitrepo_stats(g, &st);
	assert_int_equal(st.fetches, 2);
	assert_true(st.bytes_received >= fr.received_bytes);

	/* First-parent range, changed paths, blob. */
	assert_int_equal(ro_history_range(ro_gitrepo_git(g), &old, &neu, 0, &h,
	    &err), RO_OK);
	assert_int_equal(h.n, 1);
	assert_true(git_oid_equal(&h.ids[0], &neu));
	ro_history_release(&h);
	assert_int_equal(ro_history_changes(ro_gitrepo_git(g), &neu, "specs",
	    &ch, &err), RO_OK);
	assert_int_equal(ch.n, 1);
	assert_string_equal(ch.v[0].path, "specs/a.yaml");
	assert_int_equal(ch.v[0].status, RO_HISTORY_MODIFIED);
	ro_history_changes_release(&ch);
	assert_int_equal(ro_history_read(ro_gitrepo_git(g), &neu,
	    "specs/a.yaml", 0, &blob, &err), RO_OK);
	assert_string_equal(ro_buf_cstr(&blob), SPEC_A "  # changed\n");
	ro_buf_release(&blob);

	/* Notes: append, read back, push; origin holds the line. */
	assert_int_equal(ro_notes_append(ro_gitrepo_git(g), &neu, line, &err),
	    RO_OK);
	assert_int_equal(ro_notes_read(ro_gitrepo_git(g), NULL, &neu, &lines,
	    &err), RO_OK);
	assert_int_equal(lines.n, 1);
	assert_string_equal(lines.v[0], line);
	ro_strv_release(&lines);
	if (ro_notes_push(g, 0, &pr, &err) != RO_OK)
		fail_msg("notes push: %s", err.msg);
	assert_true(pr.pushed);
	assert_int_equal(pr.attempts, 1);
	git_oid_tostr(hex, sizeof(hex), &neu);
	out = gs_sh_out("git -C '%s' notes --ref=roomops show %s", r->origin,
	    hex);
	assert_true(tu_contains(out, line));
	free(out);
	/* A second push has nothing to do. */
	assert_int_equal(ro_notes_push(g, 0, &pr, &err), RO_OK);
	assert_true(pr.up_to_date);
	assert_int_equal(pr.attempts, 0);

	/* Warm reopen: the same clone, not a new one. */
	ino = inode_of(o->dir, "objects");
	ro_gitrepo_free(g);
	g = NULL;
	if (ro_gitrepo_open(&g, o, &err) != RO_OK)
		fail_msg("reopen: %s", err.msg);
	assert_false(ro_gitrepo_cloned(g));
	assert_int_equal(inode_of(o->dir, "objects"), ino);
	ro_gitrepo_stats(g, &st);
	assert_int_equal(st.fetches, 0);
	assert_int_equal(ro_gitrepo_head(g, &head, &err), RO_OK);
	assert_true(git_oid_equal(&head, &neu));
	assert_int_equal(ro_notes_read(ro_gitrepo_git(g), NULL, &neu, &lines,
	    &err), RO_OK);
	assert_int_equal(lines.n, 1);
	ro_strv_release(&lines);
	ro_gitrepo_free(g);
}

static void
test_file_url(void **state)
{
	struct gs_repo		r;
	struct ro_gitrepo_opts	o;
	char			*url;

	(void)state;
	gs_repo_init(&r, "main");
	seed_origin(&r);
	if (asprintf(&url, "file://%s", r.origin) < 0)
		abort();
	opts_init(&o, &r, url);
	scenario(&r, &o);
	free(url);
	gs_repo_free(&r);
}

static void
test_plain_path(void **state)
{
	struct gs_repo		r;
	struct ro_gitrepo_opts	o;

	(void)state;
	gs_repo_init(&r, "main");
	seed_origin(&r);
	opts_init(&o, &r, r.origin);
	scenario(&r, &o);
	gs_repo_free(&r);
}

static void
test_git_daemon(void **state)
{
	struct gs_repo		r;
	struct gs_server	s;
	struct ro_gitrepo_opts	o;

	(void)state;
	gs_repo_init(&r, "main");
	if (gs_daemon_start(&s, &r) == GS_MISSING) {
		gs_repo_free(&r);
		skip();
	}
	seed_origin(&r);
	opts_init(&o, &r, s.url);
	scenario(&r, &o);
	gs_server_stop(&s);
	gs_repo_free(&r);
}

static void
test_https_basic_auth(void **state)
{
	struct gs_repo		r;
	struct gs_server	s;
	struct ro_gitrepo_opts	o;

	(void)state;
	gs_repo_init(&r, "main");
	if (gs_http_start(&s, &r, "agent", "s3cret-t0ken") == GS_MISSING) {
		gs_repo_free(&r);
		skip();
	}
	seed_origin(&r);
	opts_init(&o, &r, s.url);
	o.username = s.user;
	o.password_file = s.password_file;
	o.ca_file = s.ca_file;
	scenario(&r, &o);
	gs_server_stop(&s);
	gs_repo_free(&r);
}

static void
test_https_token_env(void **state)
{
	struct gs_repo		 r;
	struct gs_server	 s;
	struct ro_gitrepo_opts	 o;
	struct ro_gitrepo	*g = NULL;
	struct ro_err		 err = RO_ERR_INIT;

	(void)state;
	gs_repo_init(&r, "main");
	if (gs_http_start(&s, &r, "agent", "env-token-123") == GS_MISSING) {
		gs_repo_free(&r);
		skip();
	}
	seed_origin(&r);
	opts_init(&o, &r, s.url);
	o.username = "agent";
	o.password_env = "RO_TEST_GIT_TOKEN";
	o.ca_file = s.ca_file;
	setenv("RO_TEST_GIT_TOKEN", "env-token-123", 1);
	if (ro_gitrepo_open(&g, &o, &err) != RO_OK)
		fail_msg("open with a token from the environment: %s", err.msg);
	ro_gitrepo_free(g);
	g = NULL;
	unsetenv("RO_TEST_GIT_TOKEN");
	gs_server_stop(&s);
	gs_repo_free(&r);
}

static void
test_https_refusals(void **state)
{
	struct gs_repo		 r;
	struct gs_server	 s;
	struct ro_gitrepo_opts	 o;
	struct ro_gitrepo	*g = NULL;
	struct ro_err		 err = RO_ERR_INIT;
	struct stat		 sb;
	char			*url, *wrongpw;

	(void)state;
	gs_repo_init(&r, "main");
	if (gs_http_start(&s, &r, "agent", "right-password") == GS_MISSING) {
		gs_repo_free(&r);
		skip();
	}
	seed_origin(&r);

	/* A CA that did not sign the server's certificate. */
	opts_init(&o, &r, s.url);
	o.username = s.user;
	o.password_file = s.password_file;
	o.ca_file = s.wrong_ca_file;
	assert_int_equal(ro_gitrepo_open(&g, &o, &err), RO_ERROR);
	assert_null(g);
	assert_true(tu_contains(err.msg, "certificate"));
	assert_true(tu_contains(err.msg, s.url));
	assert_true(stat(o.dir, &sb) == -1);	/* no half clone left */

	/* The right CA but a wrong password. */
	tu_write(r.root, "wrong-password", "wrong-password\n");
	wrongpw = tu_path(r.root, "wrong-password");
	o.ca_file = s.ca_file;
	o.password_file = wrongpw;
	assert_int_equal(ro_gitrepo_open(&g, &o, &err), RO_ERROR);
	assert_true(tu_contains(err.msg, "authentication"));
	assert_null(strstr(err.msg, "wrong-password"));

	/* Credentials in the URL never show up in messages. */
	if (asprintf(&url, "https://agent:wrong-password@127.0.0.1:%d/git/"
	    "nothere.git", s.port) < 0)
		abort();
	o.url = url;
	o.password_file = NULL;
	assert_true(ro_gitrepo_open(&g, &o, &err) < 0);
	assert_null(strstr(err.msg, "wrong-password"));
	assert_true(tu_contains(err.msg, "https://***@127.0.0.1"));

	/* And with everything right, it works. */
	o.url = s.url;
	o.password_file = s.password_file;
	if (ro_gitrepo_open(&g, &o, &err) != RO_OK)
		fail_msg("open: %s", err.msg);
	ro_gitrepo_free(g);
	free(url);
	free(wrongpw);
	gs_server_stop(&s);
	gs_repo_free(&r);
}

static void
test_ssh(void **state)
{
	struct gs_repo		r;
	struct gs_server	s;
	struct ro_gitrepo_opts	o;

	(void)state;
	gs_repo_init(&r, "main");
	if (gs_sshd_start(&s, &r) == GS_MISSING) {
		gs_repo_free(&r);
		skip();
	}
	seed_origin(&r);
	opts_init(&o, &r, s.url);
	o.ssh_key_file = s.key_file;
	o.known_hosts_file = s.known_hosts;
	scenario(&r, &o);
	gs_server_stop(&s);
	gs_repo_free(&r);
}

static void
test_ssh_host_keys(void **state)
{
	struct gs_repo		 r;
	struct gs_server	 s;
	struct ro_gitrepo_opts	 o;
	struct ro_gitrepo	*g = NULL;
	struct ro_gitrepo_remote rh;
	struct ro_err		 err = RO_ERR_INIT;
	char			*empty;

	(void)state;
	gs_repo_init(&r, "main");
	if (gs_sshd_start(&s, &r) == GS_MISSING) {
		gs_repo_free(&r);
		skip();
	}
	seed_origin(&r);
	opts_init(&o, &r, s.url);
	o.ssh_key_file = s.key_file;

	/* Unknown host: refused, naming the host and the key. */
	tu_write(r.root, "empty_known_hosts", "");
	empty = tu_path(r.root, "empty_known_hosts");
	o.known_hosts_file = empty;
	assert_int_equal(ro_gitrepo_open(&g, &o, &err), RO_ERROR);
	assert_true(tu_contains(err.msg, "not in known_hosts"));
	assert_true(tu_contains(err.msg, "[127.0.0.1]:"));
	assert_true(tu_contains(err.msg, "SHA256:"));

	/* Known host with another key: refused, even with allow-unknown. */
	o.known_hosts_file = s.known_hosts_other;
	o.ssh_allow_unknown_host = true;
	assert_int_equal(ro_gitrepo_open(&g, &o, &err), RO_ERROR);
	assert_true(tu_contains(err.msg, "does not match"));

	/* Unknown host with allow-unknown: accepted. */
	o.known_hosts_file = empty;
	if (ro_gitrepo_open(&g, &o, &err) != RO_OK)
		fail_msg("allow-unknown: %s", err.msg);
	ro_gitrepo_free(g);
	g = NULL;

	/* Hashed known_hosts entries are understood. */
	o.ssh_allow_unknown_host = false;
	o.known_hosts_file = s.known_hosts_hashed;
	if (ro_gitrepo_open(&g, &o, &err) != RO_OK)
		fail_msg("hashed known_hosts: %s", err.msg);
	if (ro_gitrepo_remote_head(g, &rh, &err) != RO_OK)
		fail_msg("remote head: %s", err.msg);
	assert_false(rh.moved);
	ro_gitrepo_free(g);
	free(empty);
	gs_server_stop(&s);
	gs_repo_free(&r);
}

static void
test_unreachable_then_recovers(void **state)
{
	struct gs_repo		 r;
	struct gs_server	 s;
	struct ro_gitrepo_opts	 o;
	struct ro_gitrepo	*g = NULL;
	struct ro_gitrepo_remote rh;
	struct ro_gitrepo_stats	 st;
	struct ro_err		 err = RO_ERR_INIT;
	char			*url;
	int			 port;

	(void)state;
	gs_repo_init(&r, "main");
	if (gs_daemon_start(&s, &r) == GS_MISSING) {
		gs_repo_free(&r);
		skip();
	}
	seed_origin(&r);
	port = s.port;
	if (asprintf(&url, "%s", s.url) < 0)
		abort();
	opts_init(&o, &r, url);
	if (ro_gitrepo_open(&g, &o, &err) != RO_OK)
		fail_msg("open: %s", err.msg);
	gs_server_stop(&s);

	/* Down: a clear error naming the URL, after the bounded retries. */
	assert_int_equal(ro_gitrepo_remote_head(g, &rh, &err), RO_EIO);
	assert_true(tu_contains(err.msg, url));
	ro_gitrepo_stats(g, &st);
	assert_int_equal(st.retries, 1);
	assert_int_equal(st.remote_checks, 0);

	/* Up again on the same port: the next check works. */
	assert_int_equal(gs_daemon_start_port(&s, &r, port), 0);
	gs_commit_file(&r, "specs/a.yaml", "changed\n", "change");
	gs_push(&r, false);
	if (ro_gitrepo_remote_head(g, &rh, &err) != RO_OK)
		fail_msg("remote head after recovery: %s", err.msg);
	assert_true(rh.moved);
	gs_server_stop(&s);
	ro_gitrepo_free(g);
	free(url);
	gs_repo_free(&r);
}

/* A listener that never accepts: connections complete, then silence. */
static int
tarpit(int *port)
{
	struct sockaddr_in	sa;
	socklen_t		len = sizeof(sa);
	int			s;

	assert_true((s = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s, 16), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return s;
}

static double
now_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Every network transport gives up at the operation deadline. */
static void
test_stalled_servers_time_out(void **state)
{
	struct gs_repo		 r;
	struct ro_gitrepo_opts	 o;
	struct ro_gitrepo	*g = NULL;
	struct ro_err		 err = RO_ERR_INIT;
	const char		*scheme[] = { "git", "https", "ssh" };
	char			*url;
	double			 t0, took;
	size_t			 i;
	int			 fd, port;

	(void)state;
	gs_repo_init(&r, "main");
	fd = tarpit(&port);
	for (i = 0; i < sizeof(scheme) / sizeof(scheme[0]); i++) {
		if (asprintf(&url, "%s://git@127.0.0.1:%d/origin.git",
		    scheme[i], port) < 0)
			abort();
		opts_init(&o, &r, url);
		o.op_timeout_ms = 1500;
		o.ssh_allow_unknown_host = true;
		t0 = now_s();
		assert_int_equal(ro_gitrepo_open(&g, &o, &err), RO_ETIMEOUT);
		took = now_s() - t0;
		fprintf(stderr, "%s: %.2f s: %s\n", url, took, err.msg);
		assert_true(took >= 1.4 && took < 6.0);
		assert_true(tu_contains(err.msg, "timed out"));
		free(url);
	}
	close(fd);
	gs_repo_free(&r);
}

/* Every test cleans up after itself, even when it fails. */
#define T(f)	cmocka_unit_test_teardown(f, gs_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_file_url),
		T(test_plain_path),
		T(test_git_daemon),
		T(test_https_basic_auth),
		T(test_https_token_env),
		T(test_https_refusals),
		T(test_ssh),
		T(test_ssh_host_keys),
		T(test_unreachable_then_recovers),
		T(test_stalled_servers_time_out),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
