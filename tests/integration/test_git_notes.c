/*
 * test_git_notes.c: audit notes on refs/notes/roomops: append and read,
 * listing, merging with notes written by git itself, and two writers
 * pushing to the same origin, in turn and at the same time: the remote
 * note ends up as the union of every record, sorted by ts, none lost.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gitrepo.h"
#include "gitserv.h"
#include "notes.h"
#include "testutil.h"

#define WRITER_RECORDS	8	/* records per writer in the race */

static struct ro_gitrepo *
open_clone(struct gs_repo *r, const char *url, const char *name)
{
	struct ro_gitrepo_opts	 o = RO_GITREPO_OPTS_INIT;
	struct ro_gitrepo	*g = NULL;
	struct ro_err		 err = RO_ERR_INIT;
	char			*dir, *sub;

	if (asprintf(&sub, "%s/repo.git", name) < 0)
		abort();
	dir = tu_path(r->root, sub);
	o.url = url;
	o.dir = dir;
	o.op_timeout_ms = 60000;
	o.retries = 1;
	o.retry_backoff_ms = 100;
	if (ro_gitrepo_open(&g, &o, &err) != RO_OK)
		fail_msg("open %s: %s", name, err.msg);
	free(dir);
	free(sub);
	return g;
}

static git_oid
oid_of(const char *hex)
{
	git_oid	id;

	assert_int_equal(git_oid_fromstr(&id, hex), 0);
	return id;
}

static char *
record(const char *ts, const char *who, int i)
{
	char	*s;

	if (asprintf(&s, "{\"ts\":\"%s\",\"id\":\"%s-%d\",\"outcome\":"
	    "\"applied\"}", ts, who, i) < 0)
		abort();
	return s;
}

static int
count_cb(const git_oid *commit, void *arg)
{
	(void)commit;
	(*(int *)arg)++;
	return 0;
}

static void
test_append_read_list(void **state)
{
	struct gs_repo		 r;
	struct ro_gitrepo	*g;
	struct ro_strv		 lines = RO_STRV_INIT;
	struct ro_err		 err = RO_ERR_INIT;
	git_repository		*repo;
	git_oid			 c1, c2;
	int			 n = 0;

	(void)state;
	gs_repo_init(&r, "main");
	gs_commit_file(&r, "a.yaml", "a\n", "one");
	c1 = oid_of(gs_rev(&r, "HEAD"));
	gs_commit_file(&r, "b.yaml", "b\n", "two");
	c2 = oid_of(gs_rev(&r, "HEAD"));
	gs_push(&r, false);
	g = open_clone(&r, r.origin, "a");
	repo = ro_gitrepo_git(g);

	/* Nothing yet. */
	assert_int_equal(ro_notes_read(repo, NULL, &c1, &lines, &err), RO_OK);
	assert_int_equal(lines.n, 0);
	assert_int_equal(ro_notes_foreach(repo, NULL, count_cb, &n, &err),
	    RO_OK);
	assert_int_equal(n, 0);

	/* Appends keep their order and never touch earlier lines. */
	assert_int_equal(ro_notes_append(repo, &c1, "{\"ts\":\"2\"}", &err),
	    RO_OK);
	assert_int_equal(ro_notes_append(repo, &c1, "{\"ts\":\"1\"}\n", &err),
	    RO_OK);
	assert_int_equal(ro_notes_append(repo, &c2, "{\"ts\":\"3\"}", &err),
	    RO_OK);
	assert_int_equal(ro_notes_read(repo, NULL, &c1, &lines, &err), RO_OK);
	assert_int_equal(lines.n, 2);
	assert_string_equal(lines.v[0], "{\"ts\":\"2\"}");
	assert_string_equal(lines.v[1], "{\"ts\":\"1\"}");
	ro_strv_release(&lines);
	assert_int_equal(ro_notes_foreach(repo, NULL, count_cb, &n, &err),
	    RO_OK);
	assert_int_equal(n, 2);

	/* Bad lines are refused. */
	assert_int_equal(ro_notes_append(repo, &c1, "", &err), RO_EINVALID);
	assert_int_equal(ro_notes_append(repo, &c1, "a\nb", &err),
	    RO_EINVALID);
	assert_int_equal(ro_notes_append(repo, &c1, "a\rb", &err),
	    RO_EINVALID);

	/* git itself reads them: one notes commit per append. */
	char *out = gs_sh_out("git -C '%s/a/repo.git' rev-list --count "
	    "refs/notes/roomops", r.root);
	assert_string_equal(out, "3\n");
	free(out);
	out = gs_sh_out("git -C '%s/a/repo.git' notes --ref=roomops show %s",
	    r.root, gs_rev(&r, "HEAD~1"));
	assert_string_equal(out, "{\"ts\":\"2\"}\n{\"ts\":\"1\"}\n");
	free(out);
	ro_gitrepo_free(g);
	gs_repo_free(&r);
}

static void
test_merge_with_git_cli_notes(void **state)
{
	struct gs_repo			 r;
	struct ro_gitrepo		*g;
	struct ro_notes_merge_result	 mr;
	struct ro_notes_push_result	 pr;
	struct ro_strv			 lines = RO_STRV_INIT;
	struct ro_err			 err = RO_ERR_INIT;
	git_repository			*repo;
	git_oid				 c1;
	char				*out;

	(void)state;
	gs_repo_init(&r, "main");
	gs_commit_file(&r, "a.yaml", "a\n", "one");
	gs_push(&r, false);
	c1 = oid_of(gs_rev(&r, "HEAD"));
	g = open_clone(&r, r.origin, "a");
	repo = ro_gitrepo_git(g);

	/* Nothing on either side: merge is a no-op. */
	assert_int_equal(ro_notes_merge(repo, NULL, &mr, &err), RO_OK);
	assert_false(mr.changed);

	/* A person adds a note with git on origin; we add one locally. */
	assert_int_equal(gs_sh("git -C '%s' -c user.name=P -c "
	    "user.email=p@example.invalid notes --ref=roomops add -m "
	    "'{\"ts\":\"2026-01-01T00:00:05Z\",\"id\":\"cli\"}' %s", r.origin,
	    gs_rev(&r, "HEAD")), 0);
	assert_int_equal(ro_notes_append(repo, &c1,
	    "{\"ts\":\"2026-01-01T00:00:01Z\",\"id\":\"agent\"}", &err), RO_OK);
	if (ro_gitrepo_fetch(g, RO_GITREPO_FETCH_NOTES, NULL, &err) != RO_OK)
		fail_msg("fetch notes: %s", err.msg);
	assert_int_equal(ro_notes_merge(repo, NULL, &mr, &err), RO_OK);
	assert_true(mr.changed);
	assert_true(mr.merged);
	assert_int_equal(mr.notes_unioned, 1);
	assert_int_equal(ro_notes_read(repo, NULL, &c1, &lines, &err), RO_OK);
	assert_int_equal(lines.n, 2);
	assert_true(tu_contains(lines.v[0], "\"agent\""));
	assert_true(tu_contains(lines.v[1], "\"cli\""));
	ro_strv_release(&lines);
	/* Merging again changes nothing; the merge pushes as a fast-forward. */
	assert_int_equal(ro_notes_merge(repo, NULL, &mr, &err), RO_OK);
	assert_false(mr.changed);
	if (ro_notes_push(g, 0, &pr, &err) != RO_OK)
		fail_msg("push: %s", err.msg);
	assert_true(pr.pushed);
	assert_int_equal(pr.merges, 0);
	out = gs_sh_out("git -C '%s' notes --ref=roomops show %s", r.origin,
	    gs_rev(&r, "HEAD"));
	assert_string_equal(out,
	    "{\"ts\":\"2026-01-01T00:00:01Z\",\"id\":\"agent\"}\n"
	    "{\"ts\":\"2026-01-01T00:00:05Z\",\"id\":\"cli\"}\n");
	free(out);
	/* The merge commit has both tips as parents. */
	out = gs_sh_out("git -C '%s' rev-list --parents -n 1 "
	    "refs/notes/roomops", r.origin);
	assert_int_equal(strlen(out), 3 * 41);
	free(out);
	ro_gitrepo_free(g);
	gs_repo_free(&r);
}

/* Writers A and B take turns: every rejected push is merged, not lost. */
static void
test_two_writers_in_turn(void **state)
{
	struct gs_repo			 r;
	struct gs_server		 s;
	struct ro_gitrepo		*a, *b;
	struct ro_notes_push_result	 pr;
	struct ro_strv			 lines = RO_STRV_INIT;
	struct ro_err			 err = RO_ERR_INIT;
	git_oid				 c1, c2;
	char				*out;

	(void)state;
	gs_repo_init(&r, "main");
	if (gs_daemon_start(&s, &r) == GS_MISSING) {
		gs_repo_free(&r);
		skip();
	}
	gs_commit_file(&r, "a.yaml", "a\n", "one");
	c1 = oid_of(gs_rev(&r, "HEAD"));
	gs_commit_file(&r, "b.yaml", "b\n", "two");
	c2 = oid_of(gs_rev(&r, "HEAD"));
	gs_push(&r, false);
	a = open_clone(&r, s.url, "a");
	b = open_clone(&r, s.url, "b");

	assert_int_equal(ro_notes_append(ro_gitrepo_git(a), &c1,
	    "{\"ts\":\"T3\",\"by\":\"a\"}", &err), RO_OK);
	assert_int_equal(ro_notes_append(ro_gitrepo_git(b), &c1,
	    "{\"ts\":\"T1\",\"by\":\"b\"}", &err), RO_OK);
	assert_int_equal(ro_notes_append(ro_gitrepo_git(b), &c2,
	    "{\"ts\":\"T2\",\"by\":\"b\"}", &err), RO_OK);
	if (ro_notes_push(a, 0, &pr, &err) != RO_OK)
		fail_msg("push a: %s", err.msg);
	assert_true(pr.pushed);
	assert_int_equal(pr.merges, 0);
	if (ro_notes_push(b, 0, &pr, &err) != RO_OK)
		fail_msg("push b: %s", err.msg);
	assert_true(pr.pushed);
	assert_int_equal(pr.attempts, 2);
	assert_int_equal(pr.merges, 1);

	/* A writes again on top of its stale view: merged once more. */
	assert_int_equal(ro_notes_append(ro_gitrepo_git(a), &c2,
	    "{\"ts\":\"T4\",\"by\":\"a\"}", &err), RO_OK);
	if (ro_notes_push(a, 0, &pr, &err) != RO_OK)
		fail_msg("push a again: %s", err.msg);
	assert_int_equal(pr.merges, 1);

	out = gs_sh_out("git -C '%s' notes --ref=roomops show %s", r.origin,
	    gs_rev(&r, "HEAD~1"));
	assert_string_equal(out, "{\"ts\":\"T1\",\"by\":\"b\"}\n"
	    "{\"ts\":\"T3\",\"by\":\"a\"}\n");
	free(out);
	out = gs_sh_out("git -C '%s' notes --ref=roomops show %s", r.origin,
	    gs_rev(&r, "HEAD"));
	assert_string_equal(out, "{\"ts\":\"T2\",\"by\":\"b\"}\n"
	    "{\"ts\":\"T4\",\"by\":\"a\"}\n");
	free(out);
	/* A's own view holds everything too. */
	assert_int_equal(ro_notes_read(ro_gitrepo_git(a), NULL, &c1, &lines,
	    &err), RO_OK);
	assert_int_equal(lines.n, 2);
	ro_strv_release(&lines);

	/* A clone with the documented fetch line shows them in git log. */
	assert_int_equal(gs_sh("git clone -q '%s' '%s/reader' && cd "
	    "'%s/reader' && git config --add remote.origin.fetch "
	    "'+refs/notes/roomops:refs/notes/roomops' && git fetch -q",
	    s.url, r.root, r.root), 0);
	out = gs_sh_out("git -C '%s/reader' log --notes=roomops "
	    "--format='%%H%%n%%N' -n 1", r.root);
	assert_true(tu_contains(out, "{\"ts\":\"T4\",\"by\":\"a\"}"));
	free(out);
	ro_gitrepo_free(a);
	ro_gitrepo_free(b);
	gs_server_stop(&s);
	gs_repo_free(&r);
}

struct writer {
	struct ro_gitrepo	*g;
	const char		*name;
	git_oid			 shared, own;
	pthread_barrier_t	*start;
	int			 failed;
	unsigned		 merges;
	char			 msg[RO_ERR_MSG_MAX];
	char			*lines[WRITER_RECORDS];
};

/* Now as an ISO-8601 UTC timestamp with milliseconds. */
static void
iso_now(char *buf, size_t sz)
{
	struct timespec	ts;
	struct tm	tm;
	char		base[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, sz, "%s.%03ldZ", base, ts.tv_nsec / 1000000L);
}

/* No cmocka asserts here: they must not run off the main thread. */
static void *
writer_run(void *arg)
{
	struct writer			*w = arg;
	struct ro_notes_push_result	 pr;
	struct ro_err			 err = RO_ERR_INIT;
	char				 ts[64], *line;
	int				 i;

	pthread_barrier_wait(w->start);
	for (i = 0; i < WRITER_RECORDS && !w->failed; i++) {
		iso_now(ts, sizeof(ts));
		line = w->lines[i] = record(ts, w->name, i);
		if (ro_notes_append(ro_gitrepo_git(w->g), &w->shared, line,
		    &err) < 0 ||
		    ro_notes_append(ro_gitrepo_git(w->g), &w->own, line,
		    &err) < 0 ||
		    ro_notes_push(w->g, 20, &pr, &err) < 0) {
			w->failed = 1;
			snprintf(w->msg, sizeof(w->msg), "%s", err.msg);
		}
		w->merges += pr.merges;
	}
	return NULL;
}

static void
test_two_writers_concurrently(void **state)
{
	struct gs_repo		 r;
	struct gs_server	 s;
	struct writer		 w[2];
	pthread_t		 tid[2];
	pthread_barrier_t	 start;
	char			*out, *line, hex[3][GIT_OID_HEXSZ + 1];
	const char		*prev;
	int			 i, k;

	(void)state;
	gs_repo_init(&r, "main");
	if (gs_daemon_start(&s, &r) == GS_MISSING) {
		gs_repo_free(&r);
		skip();
	}
	for (i = 0; i < 3; i++) {
		char name[32];

		snprintf(name, sizeof(name), "f%d.yaml", i);
		gs_commit_file(&r, name, "x\n", name);
		snprintf(hex[i], sizeof(hex[i]), "%s", gs_rev(&r, "HEAD"));
	}
	gs_push(&r, false);
	assert_int_equal(pthread_barrier_init(&start, NULL, 2), 0);
	memset(w, 0, sizeof(w));
	for (k = 0; k < 2; k++) {
		w[k].name = k == 0 ? "a" : "b";
		w[k].g = open_clone(&r, s.url, w[k].name);
		w[k].shared = oid_of(hex[0]);
		w[k].own = oid_of(hex[1 + k]);
		w[k].start = &start;
	}
	for (k = 0; k < 2; k++)
		assert_int_equal(pthread_create(&tid[k], NULL, writer_run,
		    &w[k]), 0);
	for (k = 0; k < 2; k++)
		pthread_join(tid[k], NULL);
	for (k = 0; k < 2; k++) {
		if (w[k].failed)
			fail_msg("writer %s: %s", w[k].name, w[k].msg);
		fprintf(stderr, "writer %s: %u merges\n", w[k].name,
		    w[k].merges);
	}
	assert_true(w[0].merges + w[1].merges > 0);

	/* The shared commit's note on origin: all 2N records, by ts. */
	out = gs_sh_out("git -C '%s' notes --ref=roomops show %s", r.origin,
	    hex[0]);
	for (k = 0; k < 2; k++) {
		for (i = 0; i < WRITER_RECORDS; i++) {
			line = w[k].lines[i];
			assert_non_null(line);
			assert_true(tu_contains(out, line));
			/* exactly once */
			assert_null(strstr(strstr(out, line) + 1, line));
		}
	}
	for (prev = out, i = 0; (prev = strchr(prev, '\n')) != NULL; prev++)
		i++;
	assert_int_equal(i, 2 * WRITER_RECORDS);
	for (prev = out; strchr(prev, '\n') != NULL &&
	    strchr(prev, '\n')[1] != '\0'; prev = strchr(prev, '\n') + 1)
		assert_true(strncmp(prev, strchr(prev, '\n') + 1, 31) <= 0);
	free(out);
	/* Each writer's own commit: its N records. */
	for (k = 0; k < 2; k++) {
		out = gs_sh_out("git -C '%s' notes --ref=roomops show %s",
		    r.origin, hex[1 + k]);
		for (prev = out, i = 0; (prev = strchr(prev, '\n')) != NULL;
		    prev++)
			i++;
		assert_int_equal(i, WRITER_RECORDS);
		free(out);
	}
	for (k = 0; k < 2; k++) {
		ro_gitrepo_free(w[k].g);
		for (i = 0; i < WRITER_RECORDS; i++)
			free(w[k].lines[i]);
	}
	pthread_barrier_destroy(&start);
	gs_server_stop(&s);
	gs_repo_free(&r);
}

/* Every test cleans up after itself, even when it fails. */
#define T(f)	cmocka_unit_test_teardown(f, gs_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_append_read_list),
		T(test_merge_with_git_cli_notes),
		T(test_two_writers_in_turn),
		T(test_two_writers_concurrently),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
