/*
 * test_agent_worktree.c: `roomops agent --watch DIR` where DIR is a Git
 * work tree (git init + commits made with the git CLI), end to end
 * against roomserver-sim.
 *
 * - Committed specs are reconciled as committed revisions (rev = the
 *   commit's sha, source git), and the agent pushes the commit's audit
 *   note back to the work tree: `git log --notes=roomops` there shows it.
 * - A new commit (the ref moves: no polling, --interval 0) is reconciled
 *   and noted the same way.
 * - Uncommitted edits are planned and shown as pending
 *   (/status/rooms/{id} pendingDiff) but not applied; with
 *   --apply-worktree they are applied as rev worktree:<hash> (JSONL
 *   only, never in a note).
 */
#include <stdarg.h>

#include "agentctl.h"

#define SETTLE_MS	800

struct fx {
	struct simctl	 sim;
	struct agentctl	 a;
	char		*tmp;
	char		*work;		/* the watched work tree */
	char		*state;
	char		*audit;
};

#define WAIT(f, cond)	AC_WAIT_AGENT(&(f)->a, cond)

#define GIT	"git -c user.name=e2e -c user.email=e2e@example.invalid " \
		"-c init.defaultBranch=main -c commit.gpgsign=false"

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

/* The output of a shell command (bounded), malloc'd. */
static char *
sh_out(const char *fmt, ...) RO_PRINTF(1, 2);

static char *
sh_out(const char *fmt, ...)
{
	va_list	 ap;
	char	*cmd, *out, *p;
	FILE	*fp;
	size_t	 n = 0, cap = 1u << 20;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		abort();
	va_end(ap);
	out = malloc(cap);
	assert_non_null(out);
	fp = popen(cmd, "r");
	assert_non_null(fp);
	while (n < cap - 1 && (p = fgets(out + n, (int)(cap - n), fp)) != NULL)
		n += strlen(p);
	out[n] = '\0';
	pclose(fp);
	free(cmd);
	return out;
}

static void
write_spec(struct fx *f, const char *file, const char *room,
    const char *lead)
{
	char	*s;

	if (asprintf(&s, "apiVersion: v1\nkind: RoomSpec\nmetadata:\n"
	    "  name: %s\n  version: 1\nspec:\n  roomId: %s\n  entities:\n"
	    "    - id: E-lead\n      kind: human\n      displayName: %s\n"
	    "    - id: E-bot\n      kind: agent\n      displayName: Bot\n"
	    "  artifacts: []\n  policies:\n    dmVisibilityDefault: team\n",
	    room + 5, room, lead) < 0)
		abort();
	tu_write(f->work, file, s);
	free(s);
}

static void
commit(struct fx *f, const char *msg)
{
	sh("cd '%s' && " GIT " add -A && " GIT " commit -q -m '%s'", f->work,
	    msg);
}

static char *
head(struct fx *f)
{
	char	*s = sh_out("git -C '%s' rev-parse HEAD", f->work);

	s[strcspn(s, "\n")] = '\0';
	assert_int_equal(strlen(s), 40);
	return s;
}

/* The roomops note of rev in the work tree ("" when none). */
static char *
note(struct fx *f, const char *rev)
{
	return sh_out("git -C '%s' notes --ref=roomops show %s 2>/dev/null",
	    f->work, rev);
}

static bool
note_has(struct fx *f, const char *rev, const char *needle)
{
	char	*s = note(f, rev);
	bool	 ok = strstr(s, needle) != NULL;

	free(s);
	return ok;
}

static void
start(struct fx *f, bool apply_worktree)
{
	const char	*args[] = { "--watch", f->work, "--server", f->sim.url,
			    "--state-dir", f->state, "--interval", "0",
			    "--profile", "test", NULL, NULL };
	int		 hold;

	if (apply_worktree)
		args[10] = "--apply-worktree";
	hold = ac_queued_hold();
	assert_int_equal(ac_agent_start(&f->a, args), 0);
	if (!AC_WAIT(ac_ready(&f->a), AC_WAIT_MS)) {
		ac_queued_release(hold);
		ac_agent_dump(&f->a);
		fail_msg("not ready");
	}
	ac_queued_release(hold);
}

static int
setup(void **state)
{
	struct fx	*f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->sim = (struct simctl)SIMCTL_INIT;
	f->a = (struct agentctl)AGENTCTL_INIT;
	if (ac_sim_start(&f->sim, NULL) < 0)
		return -1;
	f->tmp = tu_tmpdir();
	f->work = tu_path(f->tmp, "work");
	f->state = tu_path(f->tmp, "state");
	f->audit = tu_path(f->state, "audit.jsonl");
	sh(GIT " init -q '%s'", f->work);
	write_spec(f, "rooms/a.yaml", "room-tree-aaa", "Lead A");
	write_spec(f, "rooms/b.yaml", "room-tree-bbb", "Lead B");
	commit(f, "two rooms");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*f = *state;
	int		 st;

	st = ac_agent_stop(&f->a);
	if (st != 0)
		ac_agent_dump(&f->a);
	ac_agent_cleanup(&f->a);
	simctl_cleanup(&f->sim);
	tu_rmrf(f->tmp);
	free(f->tmp);
	free(f->work);
	free(f->state);
	free(f->audit);
	free(f);
	return st == 0 ? 0 : -1;
}

static bool
pending_has(struct fx *f, const char *room, const char *list, int n)
{
	cJSON		*o = ac_room(&f->a, room);
	const cJSON	*p = cJSON_GetObjectItemCaseSensitive(o, "pendingDiff");
	bool		 ok = cJSON_IsObject(p) && ac_len(p, list) == n;

	cJSON_Delete(o);
	return ok;
}

/* Commits: reconciled as committed revisions, with notes in the tree. */
static void
test_commits(void **state)
{
	struct fx	*f = *state;
	char		*h1, *h2, *s;
	cJSON		*rec;
	long		 rev_b;

	start(f, false);
	h1 = head(f);
	WAIT(f, ac_sim_count_of(&f->sim, "room-tree-aaa", "entities") == 2 &&
	    ac_sim_count_of(&f->sim, "room-tree-bbb", "entities") == 2);
	WAIT(f, ac_room_is(&f->a, "room-tree-aaa", "lastRevision", h1));
	/* the note is pushed back into the work tree's own repository */
	WAIT(f, note_has(f, h1, "\"room\":\"room-tree-aaa\"") &&
	    note_has(f, h1, "\"room\":\"room-tree-bbb\""));
	s = sh_out("git -C '%s' log --notes=roomops -1", f->work);
	assert_true(tu_contains(s, "Notes (roomops)"));
	assert_true(tu_contains(s, "\"source\":\"git\""));
	free(s);
	rec = ac_audit_last(f->audit, "room-tree-aaa");
	assert_string_equal(ac_str(rec, "rev"), h1);
	assert_string_equal(ac_str(rec, "source"), "git");
	assert_string_equal(ac_str(rec, "outcome"), "applied");
	cJSON_Delete(rec);

	/* a new commit: the ref moves, the room converges, a new note */
	rev_b = ac_sim_revision(&f->sim, "room-tree-bbb");
	write_spec(f, "rooms/a.yaml", "room-tree-aaa", "Lead A v2");
	commit(f, "rename lead");
	h2 = head(f);
	WAIT(f, ac_sim_entity_is(&f->sim, "room-tree-aaa", "E-lead",
	    "displayName", "Lead A v2"));
	WAIT(f, note_has(f, h2, "\"rev\":\"") && note_has(f, h2,
	    "\"room\":\"room-tree-aaa\""));
	assert_true(note_has(f, h2, h2));
	assert_true(note_has(f, h2, "\"outcome\":\"applied\""));
	/* only the room whose spec changed in that commit */
	assert_false(note_has(f, h2, "room-tree-bbb"));
	ac_sleep_ms(SETTLE_MS);
	assert_int_equal(ac_sim_revision(&f->sim, "room-tree-bbb"), rev_b);
	assert_true(ac_room_is(&f->a, "room-tree-aaa", "lastRevision", h2));
	s = sh_out("git -C '%s' log --notes=roomops --format='%%H %%N' -2",
	    f->work);
	assert_true(tu_contains(s, h1));
	assert_true(tu_contains(s, h2));
	free(s);
	free(h1);
	free(h2);
}

/* Uncommitted edits are pending, not applied (no --apply-worktree). */
static void
test_uncommitted_pending(void **state)
{
	struct fx	*f = *state;
	char		*h, *s;
	long		 rev, muts;
	int		 recs;

	start(f, false);
	WAIT(f, ac_sim_count_of(&f->sim, "room-tree-aaa", "entities") == 2);
	h = head(f);
	WAIT(f, note_has(f, h, "room-tree-aaa"));
	ac_sleep_ms(SETTLE_MS);
	rev = ac_sim_revision(&f->sim, "room-tree-aaa");
	muts = ac_sim_count(&f->sim, NULL, NULL, 0);
	recs = ac_audit_count(f->audit, NULL, NULL);

	write_spec(f, "rooms/a.yaml", "room-tree-aaa", "Lead A draft");
	WAIT(f, pending_has(f, "room-tree-aaa", "toUpdate", 1));
	/* a new room only in the work tree: planned, not created */
	write_spec(f, "rooms/c.yaml", "room-tree-ccc", "Lead C");
	WAIT(f, pending_has(f, "room-tree-ccc", "toJoin", 2));
	ac_sleep_ms(SETTLE_MS);
	assert_int_equal(ac_sim_revision(&f->sim, "room-tree-aaa"), rev);
	assert_int_equal(ac_sim_revision(&f->sim, "room-tree-ccc"), 0);
	assert_int_equal(ac_sim_count(&f->sim, NULL, NULL, 0), muts);
	assert_int_equal(ac_audit_count(f->audit, NULL, NULL), recs);
	assert_true(ac_sim_entity_is(&f->sim, "room-tree-aaa", "E-lead",
	    "displayName", "Lead A"));
	s = note(f, h);
	assert_true(strstr(s, "worktree:") == NULL);
	free(s);

	/* an edit undone: nothing is pending for that room any more */
	write_spec(f, "rooms/a.yaml", "room-tree-aaa", "Lead A");
	WAIT(f, ac_room_is(&f->a, "room-tree-aaa", "pendingDiff", NULL));
	write_spec(f, "rooms/a.yaml", "room-tree-aaa", "Lead A draft");
	WAIT(f, pending_has(f, "room-tree-aaa", "toUpdate", 1));

	/* committing it applies it; nothing is pending any more */
	commit(f, "draft becomes real");
	free(h);
	h = head(f);
	WAIT(f, ac_sim_entity_is(&f->sim, "room-tree-aaa", "E-lead",
	    "displayName", "Lead A draft"));
	WAIT(f, ac_sim_count_of(&f->sim, "room-tree-ccc", "entities") == 2);
	WAIT(f, ac_room_is(&f->a, "room-tree-aaa", "pendingDiff", NULL));
	WAIT(f, note_has(f, h, "room-tree-ccc") && note_has(f, h,
	    "room-tree-aaa"));
	free(h);
}

/* --apply-worktree: uncommitted edits are applied as worktree:<hash>,
 * recorded in the JSONL log only. */
static void
test_apply_worktree(void **state)
{
	struct fx	*f = *state;
	char		*h, *s;
	cJSON		*rec;
	const char	*rev;
	size_t		 i;
	int		 n;

	start(f, true);
	WAIT(f, ac_sim_count_of(&f->sim, "room-tree-aaa", "entities") == 2);
	h = head(f);
	WAIT(f, note_has(f, h, "room-tree-aaa"));
	ac_sleep_ms(SETTLE_MS);
	n = ac_audit_count(f->audit, "room-tree-aaa", NULL);
	write_spec(f, "rooms/a.yaml", "room-tree-aaa", "Lead A live");
	WAIT(f, ac_sim_entity_is(&f->sim, "room-tree-aaa", "E-lead",
	    "displayName", "Lead A live"));
	WAIT(f, ac_audit_count(f->audit, "room-tree-aaa", NULL) > n);
	WAIT(f, !ac_room_is(&f->a, "room-tree-aaa", "currentPhase",
	    "PLANNING"));
	rec = ac_audit_last(f->audit, "room-tree-aaa");
	assert_string_equal(ac_str(rec, "source"), "watch");
	assert_int_equal(ac_num(cJSON_GetObjectItem(rec, "diff"), "update",
	    -1), 1);
	rev = ac_str(rec, "rev");
	assert_non_null(rev);
	assert_true(strncmp(rev, "worktree:", 9) == 0);
	assert_true(strlen(rev) > 9);
	for (i = 9; rev[i] != '\0'; i++)
		assert_non_null(strchr("0123456789abcdef", rev[i]));
	assert_string_equal(ac_str(rec, "outcome"), "applied");
	if (!ac_room_is(&f->a, "room-tree-aaa", "lastRevision", rev)) {
		cJSON *rm = ac_room(&f->a, "room-tree-aaa");

		ac_agent_dump(&f->a);
		fail_msg("lastRevision is not %s: %s", rev,
		    cJSON_PrintUnformatted(rm));
	}
	cJSON_Delete(rec);
	/* no note anywhere carries a work-tree revision */
	ac_sleep_ms(SETTLE_MS);
	s = sh_out("git -C '%s' log --notes=roomops --format=%%N", f->work);
	assert_true(strstr(s, "worktree:") == NULL);
	free(s);
	free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_commits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uncommitted_pending,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_worktree, setup,
		    teardown),
	};

	ac_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
