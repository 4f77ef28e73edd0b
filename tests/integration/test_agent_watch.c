/*
 * test_agent_watch.c: `roomops agent --watch DIR` end to end: the real
 * binary ($RO_BIN) as a child process, a real roomserver-sim, a spec
 * folder in a mktemp -d root. Each change to the folder must converge the
 * right room (the sim's state) and only that room: the other rooms'
 * revisions, the audit records per room and the sim's request counters
 * (GET state, mutating requests) are compared before and after.
 *
 * Covered: edit, atomic save (temp + rename over), create, delete with
 * and without pruning (flag and annotation), rename (a move is not a
 * prune), a seed file edit, a new subfolder, a half-written and an
 * invalid file (rejected, room keeps its state), and a burst of 2,000
 * file events over 100 rooms, with the inotify queue overflowed for real
 * (fs.inotify.max_queued_events lowered while the agent starts) when
 * /proc/sys is writable here.
 */
#include "agentctl.h"

#define ROOMS		4		/* a b c d in the base folder */
#define SETTLE_MS	600		/* quiet time after a change */
#define BURST_ROOMS	100
#define BURST_ROUNDS	20		/* BURST_ROOMS * rounds events */
#define BURST_WAIT_MS	90000

/* Wait for cond; on time-out show the agent's log and fail. */
#define WAIT(f, cond)	AC_WAIT_AGENT(&(f)->a, cond)

static const char *const rooms[ROOMS] = {
	"room-watch-a", "room-watch-b", "room-watch-c", "room-watch-d"
};

struct fx {
	struct simctl	 sim;
	struct agentctl	 a;
	char		*root;		/* the watched folder */
	char		*state;		/* --state-dir */
	char		*audit;		/* its audit.jsonl */
};

/* What the rooms and the sim look like at one moment. */
struct snap {
	long	rev[ROOMS];
	int	recs[ROOMS];
	long	gets;		/* GET /room/{roomId}/state */
	long	muts;		/* every mutating request */
};

/*
 * A spec: room, lead's display name, seed file (NULL: no artifact),
 * prune annotation.
 */
static char *
spec_text(const char *room, const char *lead, const char *seed, bool prune)
{
	char	*s, *arts;

	if (seed == NULL)
		arts = strdup("  artifacts: []\n");
	else if (asprintf(&arts, "  artifacts:\n"
	    "    - name: notes\n"
	    "      type: document\n"
	    "      workspace: shared\n"
	    "      seedFrom: %s\n", seed) < 0)
		arts = NULL;
	assert_non_null(arts);
	if (asprintf(&s,
	    "apiVersion: v1\n"
	    "kind: RoomSpec\n"
	    "metadata:\n"
	    "  name: %s\n"
	    "  version: 1\n"
	    "%s"
	    "spec:\n"
	    "  roomId: %s\n"
	    "  entities:\n"
	    "    - id: E-lead\n"
	    "      kind: human\n"
	    "      displayName: %s\n"
	    "    - id: E-bot\n"
	    "      kind: agent\n"
	    "      displayName: Bot\n"
	    "%s"
	    "  policies:\n"
	    "    dmVisibilityDefault: team\n",
	    room + 5, prune ? "  annotations:\n    roomops/prune: \"true\"\n" :
	    "", room, lead, arts) < 0)
		abort();
	free(arts);
	return s;
}

static void
write_spec(const char *dir, const char *file, const char *room,
    const char *lead, const char *seed, bool prune)
{
	char	*s = spec_text(room, lead, seed, prune);

	tu_write(dir, file, s);
	free(s);
}

static void
base_folder(struct fx *f)
{
	write_spec(f->root, "a.yaml", "room-watch-a", "Lead A", "seeds/shared.md",
	    false);
	write_spec(f->root, "b.yaml", "room-watch-b", "Lead B", "seeds/shared.md",
	    false);
	write_spec(f->root, "c.yaml", "room-watch-c", "Lead C", "seeds/own.md",
	    false);
	write_spec(f->root, "d.yaml", "room-watch-d", "Lead D", NULL, true);
	tu_write(f->root, "seeds/shared.md", "# shared notes\nversion one\n");
	tu_write(f->root, "seeds/own.md", "# c's own notes\n");
}

static void
start_agent(struct fx *f, const char *extra)
{
	const char	*args[16];
	size_t		 n = 0;
	int		 hold;

	args[n++] = "--watch";
	args[n++] = f->root;
	args[n++] = "--server";
	args[n++] = f->sim.url;
	args[n++] = "--state-dir";
	args[n++] = f->state;
	args[n++] = "--profile";
	args[n++] = "test";
	args[n++] = "--log-level";
	args[n++] = "debug";
	if (extra != NULL)
		args[n++] = extra;
	args[n] = NULL;
	hold = ac_queued_hold();
	assert_int_equal(ac_agent_start(&f->a, args), 0);
	if (!AC_WAIT(ac_ready(&f->a), AC_WAIT_MS)) {
		ac_queued_release(hold);
		ac_agent_dump(&f->a);
		fail_msg("the agent did not get ready");
	}
	ac_queued_release(hold);
}

static int
setup_with(void **state, const char *extra)
{
	struct fx	*f = calloc(1, sizeof(*f));
	int		 i;

	assert_non_null(f);
	f->sim = (struct simctl)SIMCTL_INIT;
	f->a = (struct agentctl)AGENTCTL_INIT;
	if (ac_sim_start(&f->sim, NULL) < 0)
		return -1;
	f->root = tu_tmpdir();
	f->state = tu_tmpdir();
	f->audit = tu_path(f->state, "audit.jsonl");
	base_folder(f);
	start_agent(f, extra);
	for (i = 0; i < ROOMS; i++)
		WAIT(f, ac_room_is(&f->a, rooms[i], "currentPhase",
		    "CONVERGED"));
	*state = f;
	return 0;
}

static int
setup(void **state)
{
	return setup_with(state, NULL);
}

static int
setup_prune(void **state)
{
	return setup_with(state, "--prune");
}

static int
teardown(void **state)
{
	struct fx	*f = *state;
	int		 st;

	if (f == NULL)
		return 0;
	st = ac_agent_stop(&f->a);
	if (st != 0) {
		ac_agent_dump(&f->a);
		fprintf(stderr, "agent exit status %d\n", st);
	}
	ac_agent_cleanup(&f->a);
	simctl_cleanup(&f->sim);
	tu_rmrf(f->root);
	tu_rmrf(f->state);
	free(f->root);
	free(f->state);
	free(f->audit);
	free(f);
	return st == 0 ? 0 : -1;
}

static int
room_index(const char *room)
{
	int	i;

	for (i = 0; i < ROOMS; i++)
		if (strcmp(rooms[i], room) == 0)
			return i;
	return -1;
}

static void
snap_take(struct fx *f, struct snap *s)
{
	int	i;

	for (i = 0; i < ROOMS; i++) {
		s->rev[i] = ac_sim_revision(&f->sim, rooms[i]);
		s->recs[i] = ac_audit_count(f->audit, rooms[i], NULL);
	}
	s->gets = ac_sim_agent_gets(&f->sim);
	s->muts = ac_sim_count(&f->sim, NULL, NULL, 0);
}

/*
 * After a change converged: let the agent settle, then check that every
 * room but `changed` (NULL: none) kept its revision and got no record.
 */
static void
snap_others_same(struct fx *f, const struct snap *before,
    const char *changed, struct snap *after)
{
	int	i, me = changed != NULL ? room_index(changed) : -1;

	ac_sleep_ms(SETTLE_MS);
	snap_take(f, after);
	for (i = 0; i < ROOMS; i++) {
		if (i == me)
			continue;
		if (after->rev[i] != before->rev[i] ||
		    after->recs[i] != before->recs[i]) {
			ac_agent_dump(&f->a);
			fail_msg("%s was touched: revision %ld -> %ld, records "
			    "%d -> %d", rooms[i], before->rev[i], after->rev[i],
			    before->recs[i], after->recs[i]);
		}
	}
	fprintf(stderr, "  %s: GET state +%ld, mutations +%ld\n",
	    changed != NULL ? changed : "(none)", after->gets - before->gets,
	    after->muts - before->muts);
}

/* The last record of room has this outcome and source watch. */
static void
last_record_is(struct fx *f, const char *room, const char *outcome)
{
	cJSON	*rec = ac_audit_last(f->audit, room);

	assert_non_null(rec);
	if (strcmp(ac_str(rec, "outcome"), outcome) != 0) {
		char *s = cJSON_PrintUnformatted(rec);

		fail_msg("last record of %s: %s (want %s)", room, s, outcome);
	}
	assert_string_equal(ac_str(rec, "source"), "watch");
	assert_true(strncmp(ac_str(rec, "rev"), "worktree", 8) == 0);
	cJSON_Delete(rec);
}

/* ------------------------------------------------------------------ */

/* Editing one spec converges that room with one update, nothing else. */
static void
test_edit(void **state)
{
	struct fx	*f = *state;
	struct snap	 b, a;
	int		 ia = room_index("room-watch-a");

	snap_take(f, &b);
	write_spec(f->root, "a.yaml", "room-watch-a", "Lead A v2",
	    "seeds/shared.md", false);
	WAIT(f, ac_sim_entity_is(&f->sim, "room-watch-a",
	    "E-lead", "displayName", "Lead A v2"));
	snap_others_same(f, &b, "room-watch-a", &a);
	assert_int_equal(a.rev[ia], b.rev[ia] + 1);	/* one PUT */
	assert_int_equal(a.recs[ia], b.recs[ia] + 1);
	assert_int_equal(a.muts - b.muts, 1);
	assert_int_equal(a.gets - b.gets, 2);		/* plan + verify */
	last_record_is(f, "room-watch-a", "applied");
	assert_true(ac_room_is(&f->a, "room-watch-a", "lastOutcome",
	    "applied"));
	assert_int_equal(ac_room_num(&f->a, "room-watch-a",
	    "cyclesSinceConverged"), 0);

	/* saved again without a change: nothing at all */
	snap_take(f, &b);
	write_spec(f->root, "a.yaml", "room-watch-a", "Lead A v2",
	    "seeds/shared.md", false);
	snap_others_same(f, &b, NULL, &a);
	assert_int_equal(a.gets, b.gets);
	assert_int_equal(a.muts, b.muts);
	assert_int_equal(a.recs[ia], b.recs[ia]);
}

/* An editor's atomic save (write a temp file, rename it over). */
static void
test_atomic_save(void **state)
{
	struct fx	*f = *state;
	struct snap	 b, a;
	char		*s;
	int		 ib = room_index("room-watch-b");

	snap_take(f, &b);
	s = spec_text("room-watch-b", "Lead B saved", "seeds/shared.md",
	    false);
	ac_write_atomic(f->root, "b.yaml", s);
	free(s);
	WAIT(f, ac_sim_entity_is(&f->sim, "room-watch-b",
	    "E-lead", "displayName", "Lead B saved"));
	snap_others_same(f, &b, "room-watch-b", &a);
	assert_int_equal(a.recs[ib], b.recs[ib] + 1);
	assert_int_equal(a.muts - b.muts, 1);
	assert_int_equal(a.gets - b.gets, 2);
	last_record_is(f, "room-watch-b", "applied");
	/* the temp file was never taken for a spec */
	assert_int_equal(ac_audit_count(f->audit, "", NULL), 0);
}

/* A new spec file creates its room. */
static void
test_create(void **state)
{
	struct fx	*f = *state;
	struct snap	 b, a;

	snap_take(f, &b);
	assert_int_equal(ac_sim_revision(&f->sim, "room-watch-e"), 0);
	write_spec(f->root, "e.yaml", "room-watch-e", "Lead E", "seeds/own.md",
	    false);
	WAIT(f, ac_sim_artifact_num(&f->sim, "room-watch-e",
	    "notes", "version") == 1 && ac_sim_count_of(&f->sim,
	    "room-watch-e", "entities") == 2);
	snap_others_same(f, &b, "room-watch-e", &a);
	/* two joins and a seed */
	assert_int_equal(a.muts - b.muts, 3);
	assert_int_equal(ac_audit_count(f->audit, "room-watch-e", "applied"),
	    1);
	WAIT(f, ac_room_is(&f->a, "room-watch-e", "currentPhase",
	    "CONVERGED"));
}

/*
 * Without --prune, a deleted spec leaves its room as it is; a spec with
 * the roomops/prune annotation is pruned all the same.
 */
static void
test_delete(void **state)
{
	struct fx	*f = *state;
	struct snap	 b, a;
	char		*p;
	int		 id = room_index("room-watch-d");

	snap_take(f, &b);
	p = tu_path(f->root, "b.yaml");
	assert_int_equal(unlink(p), 0);
	free(p);
	WAIT(f, ac_file_count(f->a.log, "room room-watch-b: "
	    "b.yaml deleted; pruning is off") == 1);
	snap_others_same(f, &b, NULL, &a);
	assert_int_equal(a.muts, b.muts);
	assert_int_equal(ac_sim_count_of(&f->sim, "room-watch-b", "entities"),
	    2);

	/* d.yaml says roomops/prune: "true" */
	snap_take(f, &b);
	p = tu_path(f->root, "d.yaml");
	assert_int_equal(unlink(p), 0);
	free(p);
	WAIT(f, ac_sim_count_of(&f->sim, "room-watch-d",
	    "entities") == 0);
	snap_others_same(f, &b, "room-watch-d", &a);
	assert_int_equal(a.muts - b.muts, 2);		/* two kicks */
	assert_int_equal(a.recs[id], b.recs[id] + 1);
	last_record_is(f, "room-watch-d", "applied");
}

/* With --prune a deleted spec empties its room; a renamed or moved spec
 * is the same room: nothing is removed, nothing changes. */
static void
test_delete_prune(void **state)
{
	struct fx	*f = *state;
	struct snap	 b, a;
	char		*p, *q;

	snap_take(f, &b);
	p = tu_path(f->root, "c.yaml");
	assert_int_equal(unlink(p), 0);
	free(p);
	WAIT(f, ac_sim_count_of(&f->sim, "room-watch-c",
	    "entities") == 0 && ac_sim_count_of(&f->sim, "room-watch-c",
	    "artifacts") == 0);
	snap_others_same(f, &b, "room-watch-c", &a);
	assert_int_equal(a.muts - b.muts, 3);	/* two kicks, one delete */
	last_record_is(f, "room-watch-c", "applied");

	/* rename in place, then into a new subfolder */
	snap_take(f, &b);
	p = tu_path(f->root, "a.yaml");
	q = tu_path(f->root, "a-renamed.yaml");
	assert_int_equal(rename(p, q), 0);
	free(p);
	WAIT(f, ac_room_is(&f->a, "room-watch-a", "file", q));
	snap_others_same(f, &b, NULL, &a);
	assert_int_equal(a.muts, b.muts);
	assert_int_equal(ac_sim_count_of(&f->sim, "room-watch-a", "entities"),
	    2);
	assert_int_equal(ac_audit_count(f->audit, NULL, "rejected"), 0);

	snap_take(f, &b);
	p = tu_path(f->root, "moved");
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	/* the seed path is relative to the spec's folder: make it valid */
	tu_write(f->root, "moved/seeds/shared.md",
	    "# shared notes\nversion one\n");
	p = tu_path(f->root, "moved/a.yaml");
	assert_int_equal(rename(q, p), 0);
	free(q);
	WAIT(f, ac_room_is(&f->a, "room-watch-a", "file", p));
	free(p);
	snap_others_same(f, &b, NULL, &a);
	assert_int_equal(a.muts, b.muts);
	assert_int_equal(ac_sim_count_of(&f->sim, "room-watch-a", "entities"),
	    2);
	assert_int_equal(ac_audit_count(f->audit, NULL, "rejected"), 0);
}

/* A rename without --prune: the room stays, and the new file is the one
 * followed afterwards. */
static void
test_rename(void **state)
{
	struct fx	*f = *state;
	struct snap	 b, a;
	char		*p, *q;

	snap_take(f, &b);
	p = tu_path(f->root, "c.yaml");
	q = tu_path(f->root, "c-new.yaml");
	assert_int_equal(rename(p, q), 0);
	free(p);
	WAIT(f, ac_room_is(&f->a, "room-watch-c", "file", q));
	free(q);
	snap_others_same(f, &b, NULL, &a);
	assert_int_equal(a.muts, b.muts);
	assert_int_equal(ac_audit_count(f->audit, NULL, "rejected"), 0);
	/* an edit of the new name is followed */
	write_spec(f->root, "c-new.yaml", "room-watch-c", "Lead C renamed",
	    "seeds/own.md", false);
	WAIT(f, ac_sim_entity_is(&f->sim, "room-watch-c", "E-lead",
	    "displayName", "Lead C renamed"));
	snap_others_same(f, &b, "room-watch-c", &a);
	last_record_is(f, "room-watch-c", "applied");
}

/* A seed file edit re-seeds the artifact of every spec using it. */
static void
test_seed_edit(void **state)
{
	struct fx	*f = *state;
	struct snap	 b, a;
	int		 ic = room_index("room-watch-c"), id;

	id = room_index("room-watch-d");
	snap_take(f, &b);
	assert_int_equal(ac_sim_artifact_num(&f->sim, "room-watch-a", "notes",
	    "version"), 1);
	tu_write(f->root, "seeds/shared.md", "# shared notes\nversion two\n");
	WAIT(f, ac_sim_artifact_num(&f->sim, "room-watch-a",
	    "notes", "version") == 2 && ac_sim_artifact_num(&f->sim,
	    "room-watch-b", "notes", "version") == 2);
	ac_sleep_ms(SETTLE_MS);
	snap_take(f, &a);
	assert_int_equal(a.rev[ic], b.rev[ic]);
	assert_int_equal(a.rev[id], b.rev[id]);
	assert_int_equal(a.recs[ic], b.recs[ic]);
	assert_int_equal(a.recs[id], b.recs[id]);
	assert_int_equal(a.muts - b.muts, 2);		/* two seeds */
	assert_int_equal(ac_sim_artifact_num(&f->sim, "room-watch-c", "notes",
	    "version"), 1);
	last_record_is(f, "room-watch-a", "applied");
	last_record_is(f, "room-watch-b", "applied");
}

/* A new subfolder with a spec in it is watched and its spec applied;
 * later edits in it are seen too. */
static void
test_subfolder(void **state)
{
	struct fx	*f = *state;
	struct snap	 b, a;
	char		*s, *p;

	snap_take(f, &b);
	p = tu_path(f->root, "team");
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	s = spec_text("room-watch-g", "Lead G", "../../seeds/own.md", false);
	tu_write(f->root, "team/nested/g.yaml", s);
	free(s);
	WAIT(f, ac_sim_count_of(&f->sim, "room-watch-g",
	    "entities") == 2 && ac_sim_artifact_num(&f->sim, "room-watch-g",
	    "notes", "version") == 1);
	snap_others_same(f, &b, "room-watch-g", &a);
	write_spec(f->root, "team/nested/g.yaml", "room-watch-g", "Lead G v2",
	    "../../seeds/own.md", false);
	WAIT(f, ac_sim_entity_is(&f->sim, "room-watch-g", "E-lead",
	    "displayName", "Lead G v2"));
	assert_int_equal(ac_sim_artifact_num(&f->sim, "room-watch-g", "notes",
	    "version"), 1);
	snap_others_same(f, &b, "room-watch-g", &a);
}

/*
 * A half-written file, then an invalid one: rejected (status errors, a
 * "rejected" record), the room keeps its last good state; completing
 * the file applies it. A new invalid file of no known room is reported
 * with a null room.
 */
static void
test_invalid(void **state)
{
	struct fx	*f = *state;
	struct snap	 b, a;
	char		*s, *cut;
	cJSON		*rm, *rec;
	int		 ia = room_index("room-watch-a");

	snap_take(f, &b);
	s = spec_text("room-watch-a", "Lead A v3", "seeds/shared.md", false);
	cut = strstr(s, "      kind: agent");
	assert_non_null(cut);
	cut[8] = '\0';			/* "      ki": a key with no ':' */
	tu_write(f->root, "a.yaml", s);
	WAIT(f, ac_audit_count(f->audit, "room-watch-a",
	    "rejected") == 1);
	rm = ac_room(&f->a, "room-watch-a");
	assert_non_null(rm);
	assert_string_equal(ac_str(rm, "lastOutcome"), "rejected");
	assert_true(ac_len(rm, "errors") >= 1);
	assert_true(tu_contains(cJSON_GetArrayItem(cJSON_GetObjectItem(rm,
	    "errors"), 0)->valuestring, "a.yaml"));
	cJSON_Delete(rm);
	rec = ac_audit_last(f->audit, "room-watch-a");
	assert_true(ac_len(rec, "errors") >= 1);
	cJSON_Delete(rec);
	snap_others_same(f, &b, "room-watch-a", &a);
	assert_int_equal(a.rev[ia], b.rev[ia]);	/* kept its state */
	assert_int_equal(a.muts, b.muts);
	assert_true(ac_sim_entity_is(&f->sim, "room-watch-a", "E-lead",
	    "displayName", "Lead A"));

	/* the rest of the file arrives */
	free(s);
	s = spec_text("room-watch-a", "Lead A v3", "seeds/shared.md", false);
	tu_write(f->root, "a.yaml", s);
	free(s);
	WAIT(f, ac_sim_entity_is(&f->sim, "room-watch-a",
	    "E-lead", "displayName", "Lead A v3"));
	WAIT(f, ac_room_is(&f->a, "room-watch-a", "lastOutcome",
	    "applied"));
	rm = ac_room(&f->a, "room-watch-a");
	assert_int_equal(ac_len(rm, "errors"), 0);
	cJSON_Delete(rm);

	/* valid YAML, invalid spec: a bad entity kind */
	snap_take(f, &b);
	s = spec_text("room-watch-a", "Lead A v4", "seeds/shared.md", false);
	cut = strstr(s, "kind: agent");
	memcpy(cut, "kind: robot", 11);
	tu_write(f->root, "a.yaml", s);
	free(s);
	WAIT(f, ac_audit_count(f->audit, "room-watch-a",
	    "rejected") == 2);
	snap_others_same(f, &b, "room-watch-a", &a);
	assert_int_equal(a.muts, b.muts);
	assert_true(ac_sim_entity_is(&f->sim, "room-watch-a", "E-lead",
	    "displayName", "Lead A v3"));

	/* a stray broken file of no known room */
	tu_write(f->root, "stray.yaml", "spec: [unclosed\n");
	WAIT(f, ac_audit_count(f->audit, "", "rejected") == 1);
	assert_true(ac_file_count(f->a.log, "stray.yaml: rejected") >= 1);
}

/* ------------------------------------------------------------------ */

static bool
burst_done(const struct simctl *sim, int round)
{
	char	room[32], want[32];
	int	i;

	snprintf(want, sizeof(want), "Lead v%d", round);
	for (i = 0; i < BURST_ROOMS; i++) {
		snprintf(room, sizeof(room), "room-burst-%03d", i);
		if (!ac_sim_entity_is(sim, room, "E-lead", "displayName",
		    want))
			return false;
	}
	return true;
}

/*
 * 100 rooms, each spec rewritten 20 times in a row: 2,000 file events
 * at once, written while the agent is stopped (SIGSTOP). Every room
 * converges to its last content. When this process may lower
 * fs.inotify.max_queued_events, the agent is started with a queue of 16
 * events, so the burst overflows it for real and the agent must recover
 * with a rescan; else the 2,000 events fit the default queue.
 */
static void
test_burst(void **state)
{
	struct fx	 f;
	struct ac_tweak	 t;
	const char	*args[] = { "--watch", NULL, "--server", NULL,
			    "--state-dir", NULL, "--profile", "test", NULL };
	char		 name[32], room[32], lead[32];
	bool		 forced;
	long long	 t0;
	int		 i, r, hold = -1;
	cJSON		*st;

	(void)state;
	memset(&f, 0, sizeof(f));
	f.sim = (struct simctl)SIMCTL_INIT;
	f.a = (struct agentctl)AGENTCTL_INIT;
	assert_int_equal(ac_sim_start(&f.sim, NULL), 0);
	f.root = tu_tmpdir();
	f.state = tu_tmpdir();
	f.audit = tu_path(f.state, "audit.jsonl");
	for (i = 0; i < BURST_ROOMS; i++) {
		snprintf(name, sizeof(name), "r%03d.yaml", i);
		snprintf(room, sizeof(room), "room-burst-%03d", i);
		write_spec(f.root, name, room, "Lead v0", NULL, false);
	}
	args[1] = f.root;
	args[3] = f.sim.url;
	args[5] = f.state;

	forced = ac_queued_begin(&t, 16);
	if (!forced)
		hold = ac_queued_hold();
	if (ac_agent_start(&f.a, args) < 0) {
		if (forced)
			ac_queued_end(&t);
		fail_msg("agent start");
	}
	/* the watcher exists once the first scan has queued a room */
	r = AC_WAIT((st = ac_get(f.a.url, "/status")) != NULL &&
	    ac_len(st, "rooms") > 0 ? (cJSON_Delete(st), true) :
	    (cJSON_Delete(st), false), AC_WAIT_MS);
	if (forced)
		ac_queued_end(&t);
	else
		ac_queued_release(hold);
	assert_true(r);
	fprintf(stderr, "burst: overflow %s\n", forced ? "FORCED (the agent's "
	    "inotify queue holds 16 events)" : "not forced (/proc/sys not "
	    "writable): 2,000 events in the default queue");
	assert_true(AC_WAIT(ac_ready(&f.a), BURST_WAIT_MS));
	assert_true(AC_WAIT(burst_done(&f.sim, 0), BURST_WAIT_MS));

	/* the agent reads nothing while the burst is written: with a queue
	 * of 16 the kernel must drop events (IN_Q_OVERFLOW) */
	ac_agent_pause(&f.a);
	t0 = ac_now_ms();
	for (r = 1; r <= BURST_ROUNDS; r++)
		for (i = 0; i < BURST_ROOMS; i++) {
			snprintf(name, sizeof(name), "r%03d.yaml", i);
			snprintf(room, sizeof(room), "room-burst-%03d", i);
			snprintf(lead, sizeof(lead), "Lead v%d", r);
			write_spec(f.root, name, room, lead, NULL, false);
		}
	ac_agent_resume(&f.a);
	if (!AC_WAIT(burst_done(&f.sim, BURST_ROUNDS), BURST_WAIT_MS)) {
		ac_agent_dump(&f.a);
		fail_msg("not every room converged after the burst");
	}
	fprintf(stderr, "burst: %d events, every room converged %lld ms after "
	    "the first write; %d audit records\n", BURST_ROOMS * BURST_ROUNDS,
	    ac_now_ms() - t0, ac_audit_count(f.audit, NULL, NULL));
	if (forced)
		assert_true(ac_file_count(f.a.log, "inotify queue overflow, "
		    "full rescan") >= 1);
	assert_int_equal(ac_audit_count(f.audit, NULL, "failed"), 0);
	/* still watching after all that */
	write_spec(f.root, "r000.yaml", "room-burst-000", "Lead after", NULL,
	    false);
	WAIT(&f, ac_sim_entity_is(&f.sim, "room-burst-000", "E-lead",
	    "displayName", "Lead after"));
	assert_int_equal(ac_agent_stop(&f.a), 0);
	ac_agent_cleanup(&f.a);
	simctl_cleanup(&f.sim);
	tu_rmrf(f.root);
	tu_rmrf(f.state);
	free(f.root);
	free(f.state);
	free(f.audit);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_edit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_atomic_save, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_prune, setup_prune,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seed_edit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_subfolder, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_invalid, setup, teardown),
		cmocka_unit_test(test_burst),
	};

	ac_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
