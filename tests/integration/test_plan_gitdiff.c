/*
 * test_plan_gitdiff.c: `roomops plan --git-diff BASE..HEAD` (issue 12) on
 * a repository whose pull request adds, changes, deletes and breaks
 * specs and changes a seed file, against a roomserver-sim holding the
 * base revision: the Markdown and the JSON are compared with the
 * expected files tests/data/plan_gitdiff.{md,json} (commit ids filled
 * in), exactly; the exit codes; --repo URL --base --head gives the same
 * plan; BASE...HEAD diffs from the merge base; nothing is changed on
 * the server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "roomops/buf.h"
#include "roomops/file.h"
#include "gitserv.h"
#include "simctl.h"
#include "testutil.h"

struct pfx {
	struct gs_repo	 r;
	struct simctl	 sim;
	char		 base[41];
	char		 head[41];
};

static const char alpha[] =
    "metadata:\n  version: 1\nspec:\n  roomId: room-alpha-01\n"
    "  entities:\n"
    "    - {id: E-a-lead, kind: human, displayName: \"Alpha Lead\"}\n"
    "    - {id: E-a-bot, kind: agent, displayName: Bot}\n";
static const char alpha2[] =
    "metadata:\n  version: 1\nspec:\n  roomId: room-alpha-01\n"
    "  entities:\n"
    "    - {id: E-a-lead, kind: human, displayName: \"Alpha Chief\"}\n"
    "    - {id: E-a-bot, kind: agent, displayName: Bot}\n"
    "    - {id: E-a-new, kind: human, displayName: New}\n";
static const char bravo[] =
    "metadata:\n  version: 1\nspec:\n  roomId: room-bravo-01\n"
    "  entities:\n"
    "    - {id: E-b-lead, kind: human, displayName: \"Bravo Lead\"}\n";
static const char bravo_bad[] =
    "metadata:\n  version: 1\nspec:\n  roomId: room-bravo-01\n"
    "  entities:\n"
    "    - {id: E-b-lead, kind: robot, displayName: \"Bravo Lead\"}\n";
static const char charlie[] =
    "metadata:\n  version: 1\nspec:\n  roomId: room-charlie-01\n"
    "  entities:\n"
    "    - {id: E-c-lead, kind: human, displayName: \"Charlie Lead\"}\n"
    "    - {id: E-c-bot, kind: agent, displayName: Bot}\n";
static const char delta[] =
    "metadata:\n  version: 1\nspec:\n  roomId: room-delta-01\n"
    "  entities:\n"
    "    - {id: E-d-lead, kind: human, displayName: \"Delta Lead\"}\n";
static const char echo[] =
    "metadata:\n  version: 1\nspec:\n  roomId: room-echo-01\n"
    "  entities:\n"
    "    - {id: E-e-lead, kind: human, displayName: \"Echo Lead\"}\n"
    "  artifacts:\n"
    "    - {name: handbook, type: document, workspace: shared,\n"
    "       seedFrom: seeds/echo.md}\n";

static int
setup(void **state)
{
	struct pfx	*p = calloc(1, sizeof(*p));

	assert_non_null(p);
	gs_repo_init(&p->r, "main");
	p->sim = (struct simctl)SIMCTL_INIT;
	assert_int_equal(simctl_start(&p->sim, NULL), 0);

	/* the base: four rooms, applied to the server */
	gs_commit_file(&p->r, "specs/alpha.yaml", alpha, "alpha");
	gs_commit_file(&p->r, "specs/bravo.yaml", bravo, "bravo");
	gs_commit_file(&p->r, "specs/charlie.yaml", charlie, "charlie");
	gs_commit_file(&p->r, "specs/seeds/echo.md", "# v1\n", "seed");
	gs_commit_file(&p->r, "specs/echo.yaml", echo, "echo");
	gs_commit_file(&p->r, "README.md", "rooms\n", "readme");
	snprintf(p->base, sizeof(p->base), "%s", gs_rev(&p->r, "HEAD"));
	assert_int_equal(gs_sh("cd '%s' && '%s' apply --server %s --audit-log "
	    "'%s/audit.jsonl' --quiet specs", p->r.work, tu_env("RO_BIN",
	    "roomops"), p->sim.url, p->r.root), 0);

	/* the pull request: one room each way, and a README */
	gs_commit_file(&p->r, "specs/alpha.yaml", alpha2, "alpha: chief");
	gs_commit_file(&p->r, "specs/bravo.yaml", bravo_bad, "bravo: robot");
	gs_commit_rm(&p->r, "specs/charlie.yaml", "charlie: gone");
	gs_commit_file(&p->r, "specs/delta.yaml", delta, "delta");
	gs_commit_file(&p->r, "specs/seeds/echo.md", "# v2\n", "seed v2");
	gs_commit_file(&p->r, "README.md", "rooms!\n", "readme");
	snprintf(p->head, sizeof(p->head), "%s", gs_rev(&p->r, "HEAD"));
	gs_push(&p->r, false);
	*state = p;
	return 0;
}

static int
teardown(void **state)
{
	struct pfx	*p = *state;

	simctl_cleanup(&p->sim);
	gs_repo_free(&p->r);
	free(p);
	return 0;
}

/* tests/data/<name> with @BASE@ @HEAD@ @BASE12@ @HEAD12@ filled in. */
static char *
expected(const struct pfx *p, const char *name)
{
	struct ro_buf	 in = RO_BUF_INIT, out = RO_BUF_INIT;
	char		 path[4096];
	const char	*s;

	snprintf(path, sizeof(path), "%s/tests/data/%s",
	    tu_env("RO_SOURCE_DIR", "."), name);
	ro_buf_init(&in, 1u << 20);
	assert_int_equal(ro_file_read(path, 1u << 20, &in, NULL), 0);
	for (s = ro_buf_cstr(&in); *s != '\0'; s++) {
		if (strncmp(s, "@BASE12@", 8) == 0) {
			assert_int_equal(ro_buf_printf(&out, "%.12s", p->base),
			    0);
			s += 7;
		} else if (strncmp(s, "@HEAD12@", 8) == 0) {
			assert_int_equal(ro_buf_printf(&out, "%.12s", p->head),
			    0);
			s += 7;
		} else if (strncmp(s, "@BASE@", 6) == 0) {
			assert_int_equal(ro_buf_addstr(&out, p->base), 0);
			s += 5;
		} else if (strncmp(s, "@HEAD@", 6) == 0) {
			assert_int_equal(ro_buf_addstr(&out, p->head), 0);
			s += 5;
		} else
			assert_int_equal(ro_buf_addch(&out, *s), 0);
	}
	assert_int_equal(ro_buf_addstr(&out, ""), 0);
	ro_buf_release(&in);
	return ro_buf_detach(&out, NULL);
}

/* Run `roomops plan ARGS` in the work clone: stdout, and the exit code
 * in *rc. */
static char *
plan(const struct pfx *p, int *rc, const char *args)
{
	char	*out, *mark;

	out = gs_sh_out("cd '%s' && '%s' plan --server %s %s 2>/dev/null; "
	    "echo \"@rc=$?\"", p->r.work, tu_env("RO_BIN", "roomops"),
	    p->sim.url, args);
	mark = strstr(out, "@rc=");
	assert_non_null(mark);
	*rc = (int)strtol(mark + 4, NULL, 10);
	*mark = '\0';
	return out;
}

static long
sim_revision(const struct pfx *p, const char *room)
{
	char	*out;
	long	 v;

	out = gs_sh_out("curl -s %s/room/%s/state", p->sim.url, room);
	v = strstr(out, "\"revision\"") != NULL ?
	    strtol(strstr(out, "\"revision\"") + 11, NULL, 10) : -1;
	free(out);
	return v;
}

static void
test_markdown(void **state)
{
	struct pfx	*p = *state;
	char		*got, *want, args[256];
	long		 rev;
	int		 rc;

	rev = sim_revision(p, "room-charlie-01");
	snprintf(args, sizeof(args), "--git-diff %s..%s specs --output "
	    "markdown", p->base, p->head);
	got = plan(p, &rc, args);
	want = expected(p, "plan_gitdiff.md");
	if (strcmp(got, want) != 0)
		fail_msg("markdown differs:\n---- got ----\n%s---- want ----\n"
		    "%s----", got, want);
	assert_int_equal(rc, 2);	/* an invalid spec */
	/* read-only */
	assert_int_equal(sim_revision(p, "room-charlie-01"), rev);
	free(got);
	free(want);
}

static void
test_json(void **state)
{
	struct pfx	*p = *state;
	char		*got, *want, args[256];
	cJSON		*g, *w;
	int		 rc;

	snprintf(args, sizeof(args), "--git-diff %.12s..main specs --output "
	    "json", p->base);
	got = plan(p, &rc, args);
	want = expected(p, "plan_gitdiff.json");
	g = cJSON_Parse(got);
	w = cJSON_Parse(want);
	assert_non_null(w);
	if (g == NULL || !cJSON_Compare(g, w, true))
		fail_msg("json differs:\n---- got ----\n%s---- want ----\n"
		    "%s----", got, want);
	assert_int_equal(rc, 2);
	cJSON_Delete(g);
	free(got);

	/* the same from the origin's URL, revision by revision */
	snprintf(args, sizeof(args), "--repo file://%s --base %s --head main "
	    "--output json specs", p->r.origin, p->base);
	got = plan(p, &rc, args);
	g = cJSON_Parse(got);
	if (g == NULL || !cJSON_Compare(g, w, true))
		fail_msg("--repo json differs:\n%s", got);
	assert_int_equal(rc, 2);
	cJSON_Delete(g);
	cJSON_Delete(w);
	free(got);
	free(want);
}

static void
test_exit_codes(void **state)
{
	struct pfx	*p = *state;
	char		*got, args[256];
	int		 rc;

	/* bravo fixed: changes pending, nothing invalid */
	gs_commit_file(&p->r, "specs/bravo.yaml", bravo, "bravo: back");
	snprintf(args, sizeof(args), "--git-diff %s..HEAD specs", p->base);
	got = plan(p, &rc, args);
	assert_int_equal(rc, 1);
	assert_null(strstr(got, "room-bravo-01"));
	assert_non_null(strstr(got, "room-alpha-01 (specs/alpha.yaml, "
	    "changed): 2 changes"));
	free(got);

	/* only the README: nothing to plan */
	snprintf(args, sizeof(args), "--git-diff HEAD~1..HEAD~1 specs "
	    "--output markdown");
	got = plan(p, &rc, args);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(got, "No room specs changed"));
	free(got);

	/* a branch off the base: three dots diff from the merge base */
	assert_int_equal(gs_sh("cd '%s' && git checkout -q -b side %s && "
	    "git commit -q --allow-empty -m side", p->r.work, p->base), 0);
	snprintf(args, sizeof(args), "--git-diff side...main specs --output "
	    "json");
	got = plan(p, &rc, args);
	assert_non_null(strstr(got, "room-delta-01"));
	assert_int_equal(rc, 1);
	free(got);
	snprintf(args, sizeof(args), "--git-diff main..side specs --output "
	    "json");
	got = plan(p, &rc, args);
	/* two dots: the side branch lacks main's changes, so they show as
	 * undone (delta deleted) */
	assert_non_null(strstr(got, "\"deleted\""));
	free(got);

	/* bad ranges and revisions */
	got = plan(p, &rc, "--git-diff main specs");
	assert_int_equal(rc, 2);
	free(got);
	got = plan(p, &rc, "--git-diff nosuch..main specs");
	assert_int_equal(rc, 2);
	free(got);
}

/* A rename is not a prune; two new specs of one room: the second is
 * refused, as the agent refuses it. */
static void
test_rename_and_duplicate(void **state)
{
	struct pfx	*p = *state;
	char		*got, *errs;
	cJSON		*o, *rooms, *r;
	int		 rc;

	assert_int_equal(gs_sh("cd '%s' && git mv specs/delta.yaml "
	    "specs/delta-renamed.yaml && git commit -q -m rename",
	    p->r.work), 0);
	gs_commit_file(&p->r, "specs/zulu-a.yaml", "metadata:\n  version: 1\n"
	    "spec:\n  roomId: room-zulu-01\n  entities: []\n", "zulu a");
	gs_commit_file(&p->r, "specs/zulu-b.yaml", "metadata:\n  version: 1\n"
	    "spec:\n  roomId: room-zulu-01\n  entities: []\n", "zulu b");
	got = plan(p, &rc, "--git-diff HEAD~3..HEAD specs --output json");
	assert_int_equal(rc, 2);
	o = cJSON_Parse(got);
	assert_non_null(o);
	rooms = cJSON_GetObjectItem(o, "rooms");
	assert_int_equal(cJSON_GetArraySize(rooms), 4);
	r = cJSON_GetArrayItem(rooms, 0);	/* sorted by path */
	assert_string_equal(cJSON_GetObjectItem(r, "file")->valuestring,
	    "specs/delta-renamed.yaml");
	assert_string_equal(cJSON_GetObjectItem(r, "status")->valuestring,
	    "planned");
	r = cJSON_GetArrayItem(rooms, 1);
	assert_string_equal(cJSON_GetObjectItem(r, "file")->valuestring,
	    "specs/delta.yaml");
	assert_string_equal(cJSON_GetObjectItem(r, "status")->valuestring,
	    "skipped");
	assert_non_null(strstr(cJSON_GetObjectItem(r, "note")->valuestring,
	    "specs/delta-renamed.yaml"));
	r = cJSON_GetArrayItem(rooms, 2);
	assert_string_equal(cJSON_GetObjectItem(r, "status")->valuestring,
	    "planned");
	r = cJSON_GetArrayItem(rooms, 3);
	assert_string_equal(cJSON_GetObjectItem(r, "file")->valuestring,
	    "specs/zulu-b.yaml");
	assert_string_equal(cJSON_GetObjectItem(r, "status")->valuestring,
	    "invalid");
	errs = cJSON_PrintUnformatted(cJSON_GetObjectItem(r, "errors"));
	assert_non_null(strstr(errs, "also declared by specs/zulu-a.yaml"));
	free(errs);
	cJSON_Delete(o);
	free(got);
}

/* A Roomops-Confirm trailer in the pull request confirms the prune. */
static void
test_confirm_trailer(void **state)
{
	struct pfx	*p = *state;
	char		*got, args[256];
	int		 rc;

	gs_commit_empty(&p->r, "prune charlie\n\nRoomops-Confirm: "
	    "room-charlie-01");
	snprintf(args, sizeof(args), "--git-diff %s..HEAD specs --output "
	    "markdown", p->base);
	got = plan(p, &rc, args);
	assert_non_null(strstr(got, "- kick (2): `E-c-lead`, `E-c-bot`\n"));
	assert_non_null(strstr(got, "- removals confirmed by a "
	    "`Roomops-Confirm` trailer (removal ratio 1.00)\n"));
	assert_null(strstr(got, "needs confirmation"));
	free(got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_markdown, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exit_codes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rename_and_duplicate,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_confirm_trailer, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
