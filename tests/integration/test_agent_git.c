/*
 * test_agent_git.c: `roomops agent --repo` end to end (issue 5), the real
 * binary against roomserver-sim and a file:// origin: one commit plans
 * one room (seed files too), three commits make three notes in order,
 * 30 commits are superseded but the newest, broken specs are rejected
 * with file:line:field, deleted specs with and without prune (flag,
 * annotation, Roomops-Confirm trailer), force push and revert, a warm
 * restart (no re-clone, nothing re-applied), a lost cursor and a lost
 * state dir recovered from the notes, kill -9 during an apply, and two
 * shards pushing notes to one origin. The transports, and an origin
 * that goes away, are in test_agent_git_transports.c.
 */
#include "agent_git_fx.h"

#include "roomops/shard.h"

#define ALPHA	"room-alpha-01"
#define BRAVO	"room-bravo-01"
#define CHARLIE	"room-charlie-01"

/* alpha and bravo plain; charlie with an artifact seeded from a file. */
static void
commit_three(struct fx *f)
{
	char	*s;

	fx_commit_spec(f, "alpha.yaml", ALPHA, "a", "Alpha Lead", "alpha");
	fx_commit_spec(f, "bravo.yaml", BRAVO, "b", "Bravo Lead", "bravo");
	gs_commit_file(&f->r, "specs/seeds/charlie.md", "# charlie v1\n",
	    "seed");
	s = fx_spec(CHARLIE, "c", "Charlie Lead", NULL,
	    "  artifacts:\n"
	    "    - {name: handbook, type: document, workspace: shared,\n"
	    "       seedFrom: seeds/charlie.md}\n");
	gs_commit_file(&f->r, "specs/charlie.yaml", s, "charlie");
	free(s);
	gs_push(&f->r, false);
}

/* Three plain rooms. */
static void
commit_plain(struct fx *f)
{
	fx_commit_spec(f, "alpha.yaml", ALPHA, "a", "Alpha Lead", "alpha");
	fx_commit_spec(f, "bravo.yaml", BRAVO, "b", "Bravo Lead", "bravo");
	fx_commit_spec(f, "charlie.yaml", CHARLIE, "c", "Charlie Lead",
	    "charlie");
	gs_push(&f->r, false);
}

/* Each room of the note of rev has exactly one record, with outcome. */
static void
assert_note_rooms(const char *git_dir, const char *rev, const char *outcome,
    const char *const *rooms, int n)
{
	cJSON	*note = fx_note(git_dir, rev);
	int	 i;

	for (i = 0; i < n; i++)
		if (fx_count(note, rooms[i], outcome) != 1) {
			fx_print_records(rev, note);
			fail_msg("note of %.12s: want one '%s' record of %s",
			    rev, outcome, rooms[i]);
		}
	if (cJSON_GetArraySize(note) != n) {
		fx_print_records(rev, note);
		fail_msg("note of %.12s: %d records, want %d", rev,
		    cJSON_GetArraySize(note), n);
	}
	cJSON_Delete(note);
}

static char *
dup_rev(struct fx *f, const char *rev)
{
	char	*s = strdup(gs_origin_rev(&f->r, rev));

	assert_non_null(s);
	return s;
}

/* Commits on refs/notes/roomops of the agent's clone. */
static int
notes_commits(struct fx *f)
{
	char	*out;
	int	 n;

	out = gs_sh_out("git --git-dir='%s/repo.git' rev-list --count "
	    "refs/notes/roomops", f->state);
	n = (int)strtol(out, NULL, 10);
	free(out);
	return n;
}

/* ---- first apply, one commit, a seed file -------------------------------- */

static void
test_one_commit(void **state)
{
	struct fx		*f = *state;
	static const char *const all[] = { ALPHA, BRAVO, CHARLIE };
	static const char *const b[] = { BRAVO };
	static const char *const c[] = { CHARLIE };
	cJSON			*note, *rec;
	char			*h1, *h2, *h3;
	long			 gets, muts;

	commit_three(f);
	fx_once(f, 0, "--push-notes", NULL);
	assert_int_equal(fx_room_entities(f, ALPHA), 2);
	assert_int_equal(fx_room_entities(f, BRAVO), 2);
	assert_int_equal(fx_room_entities(f, CHARLIE), 2);
	h1 = dup_rev(f, "main");
	assert_note_rooms(f->r.origin, h1, "applied", all, 3);
	/* the three records went into one notes commit */
	assert_int_equal(notes_commits(f), 1);

	/* One spec changed: only that room is planned and recorded. */
	gets = fx_sim_count(f, "GET", "/state", NULL);
	muts = fx_mutations(f);
	fx_commit_spec(f, "bravo.yaml", BRAVO, "b", "Bravo Lead II",
	    "rename bravo's lead");
	gs_push(&f->r, false);
	fx_once(f, 0, "--push-notes", NULL);
	h2 = dup_rev(f, "main");
	assert_note_rooms(f->r.origin, h2, "applied", b, 1);
	assert_int_equal(notes_commits(f), 2);
	note = fx_jsonl(f->state, h2);
	assert_int_equal(cJSON_GetArraySize(note), 1);
	cJSON_Delete(note);
	/* plan and verify of bravo only; one PUT (before our own GETs) */
	assert_int_equal(fx_sim_count(f, "GET", "/state", NULL) - gets, 2);
	assert_int_equal(fx_mutations(f) - muts, 1);
	fx_assert_name(f, BRAVO, "E-b-lead", "Bravo Lead II");

	/* Only the seed file changed: the room that seeds from it. */
	gets = fx_sim_count(f, "GET", "/state", NULL);
	gs_commit_file(&f->r, "specs/seeds/charlie.md", "# charlie v2\n",
	    "new handbook");
	gs_push(&f->r, false);
	fx_once(f, 0, "--push-notes", NULL);
	h3 = dup_rev(f, "main");
	assert_note_rooms(f->r.origin, h3, "applied", c, 1);
	note = fx_note(f->r.origin, h3);
	rec = cJSON_GetObjectItem(fx_find(note, CHARLIE, NULL), "diff");
	assert_int_equal(cJSON_GetObjectItem(rec, "seed")->valueint, 1);
	cJSON_Delete(note);
	assert_int_equal(fx_sim_count(f, "GET", "/state", NULL) - gets, 2);
	free(h1);
	free(h2);
	free(h3);
}

/* ---- three commits pushed at once ---------------------------------------- */

static void
test_three_commits(void **state)
{
	struct fx		*f = *state;
	static const char *const rooms[] = { ALPHA, BRAVO, CHARLIE };
	static const char *const files[] = { "alpha.yaml", "bravo.yaml",
	    "charlie.yaml" };
	static const char *const tags[] = { "a", "b", "c" };
	char			*rev[3], *ts[3], *cursor, *path;
	cJSON			*note;
	int			 i;

	commit_plain(f);
	fx_once(f, 0, "--push-notes", NULL);
	for (i = 0; i < 3; i++) {
		fx_commit_spec(f, files[i], rooms[i], tags[i], "Renamed",
		    "rename one lead");
		rev[i] = strdup(gs_rev(&f->r, "HEAD"));
	}
	gs_push(&f->r, false);
	fx_once(f, 0, "--push-notes", NULL);
	for (i = 0; i < 3; i++) {
		const char *one[] = { rooms[i] };

		assert_note_rooms(f->r.origin, rev[i], "applied", one, 1);
		note = fx_note(f->r.origin, rev[i]);
		ts[i] = strdup(cJSON_GetObjectItem(cJSON_GetArrayItem(note, 0),
		    "ts")->valuestring);
		cJSON_Delete(note);
		fx_assert_name(f, rooms[i], i == 0 ? "E-a-lead" : i == 1 ?
		    "E-b-lead" : "E-c-lead", "Renamed");
	}
	/* processed oldest first */
	assert_true(strcmp(ts[0], ts[1]) <= 0);
	assert_true(strcmp(ts[1], ts[2]) <= 0);
	path = tu_path(f->state, "cursor");
	cursor = fx_slurp(path);
	assert_memory_equal(cursor, rev[2], 40);
	free(cursor);
	free(path);
	for (i = 0; i < 3; i++) {
		free(rev[i]);
		free(ts[i]);
	}
}

/* ---- 30 commits, --max-pending 20 ---------------------------------------- */

static void
test_thirty_superseded(void **state)
{
	struct fx		*f = *state;
	static const char *const rooms[] = { ALPHA, BRAVO, CHARLIE };
	static const char *const files[] = { "alpha.yaml", "bravo.yaml",
	    "charlie.yaml" };
	static const char *const tags[] = { "a", "b", "c" };
	char			*rev[30], name[32];
	cJSON			*note;
	long			 muts;
	int			 i, superseded = 0;

	commit_plain(f);
	fx_once(f, 0, NULL);
	muts = fx_mutations(f);
	for (i = 0; i < 30; i++) {
		snprintf(name, sizeof(name), "N%d", i);
		fx_commit_spec(f, files[i % 3], rooms[i % 3], tags[i % 3], name,
		    "rename");
		rev[i] = strdup(gs_rev(&f->r, "HEAD"));
	}
	gs_push(&f->r, false);
	fx_once(f, 0, "--max-pending", "20", "--push-notes", NULL);
	for (i = 0; i < 29; i++) {
		const char *one[] = { rooms[i % 3] };

		assert_note_rooms(f->r.origin, rev[i], "superseded", one, 1);
		superseded++;
	}
	assert_int_equal(superseded, 29);
	/* the newest applies what the 30 commits changed, once */
	assert_note_rooms(f->r.origin, rev[29], "applied", rooms, 3);
	fx_assert_name(f, ALPHA, "E-a-lead", "N27");
	fx_assert_name(f, BRAVO, "E-b-lead", "N28");
	fx_assert_name(f, CHARLIE, "E-c-lead", "N29");
	assert_int_equal(fx_mutations(f) - muts, 3);
	note = fx_jsonl(f->state, NULL);
	assert_int_equal(fx_count(note, NULL, "superseded"), 29);
	cJSON_Delete(note);
	for (i = 0; i < 30; i++)
		free(rev[i]);
}

/* ---- broken specs -------------------------------------------------------- */

static void
test_broken_yaml(void **state)
{
	struct fx		*f = *state;
	const cJSON		*rec, *e;
	cJSON			*note;
	char			*rev, *bravo, *msg;
	long			 muts;

	commit_three(f);
	fx_once(f, 0, "--push-notes", NULL);

	/* A YAML syntax error in alpha, a good change in bravo. */
	gs_commit_file(&f->r, "specs/alpha.yaml",
	    "metadata:\n  version: 1\nspec:\n  roomId: " ALPHA "\n"
	    "  entities: [\n    {id: E-a-lead, kind: human\n", "break alpha");
	bravo = fx_spec(BRAVO, "b", "Bravo Fixed", NULL, NULL);
	gs_commit_file(&f->r, "specs/bravo.yaml", bravo, "fix bravo");
	free(bravo);
	gs_sh("cd '%s' && git reset -q --soft HEAD~2 && git commit -q -m "
	    "'two specs in one commit'", f->r.work);
	gs_push(&f->r, false);
	muts = fx_mutations(f);
	fx_once(f, 2, "--push-notes", NULL);
	rev = dup_rev(f, "main");
	note = fx_note(f->r.origin, rev);
	if (fx_count(note, ALPHA, "rejected") != 1 ||
	    fx_count(note, BRAVO, "applied") != 1 ||
	    cJSON_GetArraySize(note) != 2) {
		fx_print_records(rev, note);
		fail_msg("want alpha rejected and bravo applied");
	}
	rec = fx_find(note, ALPHA, "rejected");
	e = cJSON_GetArrayItem(cJSON_GetObjectItem(rec, "errors"), 0);
	assert_true(cJSON_IsString(e));
	assert_true(tu_contains(e->valuestring, "specs/alpha.yaml:"));
	assert_true(e->valuestring[strlen("specs/alpha.yaml:")] >= '1' &&
	    e->valuestring[strlen("specs/alpha.yaml:")] <= '9');
	cJSON_Delete(note);
	free(rev);
	/* nothing removed from alpha; bravo's PUT is the only change */
	assert_int_equal(fx_room_entities(f, ALPHA), 2);
	fx_assert_name(f, ALPHA, "E-a-lead", "Alpha Lead");
	fx_assert_name(f, BRAVO, "E-b-lead", "Bravo Fixed");
	assert_int_equal(fx_sim_count(f, "DELETE", NULL, NULL), 0);
	assert_int_equal(fx_mutations(f) - muts, 1);

	/* Valid YAML, invalid spec: file:line:col: field. */
	gs_commit_file(&f->r, "specs/alpha.yaml",
	    "metadata:\n  version: 1\nspec:\n  roomId: " ALPHA "\n"
	    "  entities:\n    - {id: E-a-lead, kind: robot}\n", "robot");
	gs_push(&f->r, false);
	fx_once(f, 2, "--push-notes", NULL);
	rev = dup_rev(f, "main");
	note = fx_note(f->r.origin, rev);
	rec = fx_find(note, ALPHA, "rejected");
	if (rec == NULL)
		fx_print_records(rev, note);
	assert_non_null(rec);
	msg = cJSON_PrintUnformatted(cJSON_GetObjectItem(rec, "errors"));
	assert_true(tu_contains(msg, "specs/alpha.yaml:6:"));
	assert_true(tu_contains(msg, "spec.entities[0].kind"));
	free(msg);
	cJSON_Delete(note);
	free(rev);
	assert_int_equal(fx_room_entities(f, ALPHA), 2);
	assert_int_equal(fx_sim_count(f, "DELETE", NULL, NULL), 0);
}

/* ---- deleted specs ------------------------------------------------------- */

static void
test_delete_without_prune(void **state)
{
	struct fx	*f = *state;
	cJSON		*note;
	char		*log, *rev;
	long		 muts;

	commit_three(f);
	fx_once(f, 0, NULL);
	muts = fx_mutations(f);
	gs_commit_rm(&f->r, "specs/alpha.yaml", "drop alpha's spec");
	gs_push(&f->r, false);
	fx_once_in(f, NULL, 0, &log, NULL);
	assert_true(fx_file_has(log, "pruning is off"));
	free(log);
	assert_int_equal(fx_room_entities(f, ALPHA), 2);
	assert_int_equal(fx_mutations(f), muts);
	rev = dup_rev(f, "main");
	note = fx_jsonl(f->state, rev);
	assert_int_equal(cJSON_GetArraySize(note), 0);
	cJSON_Delete(note);
	free(rev);
}

static void
test_prune_confirm(void **state)
{
	struct fx		*f = *state;
	static const char *const a[] = { ALPHA };
	const cJSON		*rec;
	cJSON			*note;
	char			*rev, *blocked;

	commit_three(f);
	fx_once(f, 0, "--prune", "--push-notes", NULL);

	/* Pruning a room removes everything: ratio 1.0, held. */
	gs_commit_rm(&f->r, "specs/alpha.yaml", "drop alpha");
	gs_push(&f->r, false);
	fx_once(f, 1, "--prune", "--push-notes", NULL);
	rev = dup_rev(f, "main");
	assert_note_rooms(f->r.origin, rev, "blocked", a, 1);
	note = fx_note(f->r.origin, rev);
	rec = fx_find(note, ALPHA, "blocked");
	blocked = cJSON_PrintUnformatted(cJSON_GetObjectItem(rec, "blocked"));
	assert_true(tu_contains(blocked, "awaiting confirmation"));
	free(blocked);
	cJSON_Delete(note);
	free(rev);
	assert_int_equal(fx_room_entities(f, ALPHA), 2);
	assert_int_equal(fx_sim_count(f, "DELETE", NULL, NULL), 0);

	/* Back, then deleted with the trailer: removed. */
	fx_commit_spec(f, "alpha.yaml", ALPHA, "a", "Alpha Lead", "alpha back");
	gs_push(&f->r, false);
	fx_once(f, 0, "--prune", "--push-notes", NULL);
	gs_commit_rm(&f->r, "specs/alpha.yaml", "drop alpha, really\n\n"
	    "Roomops-Confirm: " ALPHA "\n");
	gs_push(&f->r, false);
	fx_once(f, 0, "--prune", "--push-notes", NULL);
	rev = dup_rev(f, "main");
	assert_note_rooms(f->r.origin, rev, "applied", a, 1);
	note = fx_note(f->r.origin, rev);
	rec = cJSON_GetObjectItem(fx_find(note, ALPHA, NULL), "diff");
	assert_int_equal(cJSON_GetObjectItem(rec, "kick")->valueint, 2);
	cJSON_Delete(note);
	free(rev);
	assert_int_equal(fx_room_entities(f, ALPHA), 0);
	assert_int_equal(fx_room_entities(f, BRAVO), 2);
}

static void
test_prune_annotation(void **state)
{
	struct fx		*f = *state;
	static const char *const a[] = { ALPHA };
	static const char *const c[] = { CHARLIE };
	char			*s, *rev;

	s = fx_spec(ALPHA, "a", "Alpha Lead", "roomops/prune: \"true\"\n",
	    NULL);
	gs_commit_file(&f->r, "specs/alpha.yaml", s, "alpha, prunable");
	free(s);
	s = fx_spec(CHARLIE, "c", "Charlie Lead", "roomops/prune: \"true\"\n",
	    NULL);
	gs_commit_file(&f->r, "specs/charlie.yaml", s, "charlie, prunable");
	free(s);
	fx_commit_spec(f, "bravo.yaml", BRAVO, "b", "Bravo Lead", "bravo");
	gs_push(&f->r, false);
	fx_once(f, 0, "--push-notes", NULL);

	/* No --prune: the annotated room is held, the other left alone. */
	gs_sh("cd '%s' && git rm -q specs/alpha.yaml specs/bravo.yaml && "
	    "git commit -q -m 'drop alpha and bravo'", f->r.work);
	gs_push(&f->r, false);
	fx_once(f, 1, "--push-notes", NULL);
	rev = dup_rev(f, "main");
	assert_note_rooms(f->r.origin, rev, "blocked", a, 1);
	free(rev);
	assert_int_equal(fx_room_entities(f, ALPHA), 2);
	assert_int_equal(fx_room_entities(f, BRAVO), 2);

	/* Roomops-Confirm: all on the deleting commit. */
	gs_commit_rm(&f->r, "specs/charlie.yaml", "drop charlie\n\n"
	    "Roomops-Confirm: all\n");
	gs_push(&f->r, false);
	fx_once(f, 0, "--push-notes", NULL);
	rev = dup_rev(f, "main");
	assert_note_rooms(f->r.origin, rev, "applied", c, 1);
	free(rev);
	assert_int_equal(fx_room_entities(f, CHARLIE), 0);
	assert_int_equal(fx_room_entities(f, ALPHA), 2);
	assert_int_equal(fx_room_entities(f, BRAVO), 2);
}

/* A spec moved to another file, in both path orders, with prune on and
 * no confirmation required: the room is updated, never pruned nor
 * rejected as declared twice. */
static void
test_rename_spec(void **state)
{
	struct fx		*f = *state;
	static const char *const a[] = { ALPHA };
	char			*rev;

	commit_plain(f);
	fx_once(f, 0, "--prune", "--require-confirm=false",
	    "--push-notes", NULL);
	/* the new path sorts after the old one */
	assert_int_equal(gs_sh("cd '%s' && git mv specs/alpha.yaml "
	    "specs/zz-alpha.yaml && git commit -q -m 'move alpha'",
	    f->r.work), 0);
	fx_commit_spec(f, "zz-alpha.yaml", ALPHA, "a", "Moved Once", "edit");
	gs_sh("cd '%s' && git reset -q --soft HEAD~2 && git commit -q -m "
	    "'move and edit alpha'", f->r.work);
	gs_push(&f->r, false);
	fx_once(f, 0, "--prune", "--require-confirm=false",
	    "--push-notes", NULL);
	rev = dup_rev(f, "main");
	assert_note_rooms(f->r.origin, rev, "applied", a, 1);
	free(rev);
	assert_int_equal(fx_room_entities(f, ALPHA), 2);
	fx_assert_name(f, ALPHA, "E-a-lead", "Moved Once");

	/* the new path sorts before the old one (after a restart) */
	assert_int_equal(gs_sh("cd '%s' && git mv specs/zz-alpha.yaml "
	    "specs/a-alpha.yaml && git commit -q -m 'move alpha back'",
	    f->r.work), 0);
	fx_commit_spec(f, "a-alpha.yaml", ALPHA, "a", "Moved Twice", "edit");
	gs_sh("cd '%s' && git reset -q --soft HEAD~2 && git commit -q -m "
	    "'move and edit alpha again'", f->r.work);
	gs_push(&f->r, false);
	fx_once(f, 0, "--prune", "--require-confirm=false",
	    "--push-notes", NULL);
	rev = dup_rev(f, "main");
	assert_note_rooms(f->r.origin, rev, "applied", a, 1);
	free(rev);
	assert_int_equal(fx_room_entities(f, ALPHA), 2);
	fx_assert_name(f, ALPHA, "E-a-lead", "Moved Twice");
	assert_int_equal(fx_sim_count(f, "DELETE", NULL, NULL), 0);
}

/* ---- force push, revert -------------------------------------------------- */

static void
test_force_push_and_revert(void **state)
{
	struct fx		*f = *state;
	static const char *const a[] = { ALPHA };
	cJSON			*note;
	char			*rev;

	commit_three(f);
	fx_once(f, 0, "--push-notes", NULL);
	fx_commit_spec(f, "alpha.yaml", ALPHA, "a", "Wrong Turn", "oops");
	gs_push(&f->r, false);
	fx_once(f, 0, "--push-notes", NULL);
	fx_assert_name(f, ALPHA, "E-a-lead", "Wrong Turn");

	/* Rewrite: drop that commit, put another in its place. */
	gs_reset(&f->r, "HEAD~1");
	fx_commit_spec(f, "alpha.yaml", ALPHA, "a", "Right Turn", "better");
	gs_push(&f->r, true);
	fx_once(f, 0, "--push-notes", NULL);
	rev = dup_rev(f, "main");
	note = fx_note(f->r.origin, rev);
	if (fx_count(note, NULL, "history-rewritten") != 1 ||
	    fx_count(note, ALPHA, "applied") != 1) {
		fx_print_records(rev, note);
		fail_msg("want a history-rewritten record and alpha applied");
	}
	cJSON_Delete(note);
	free(rev);
	fx_assert_name(f, ALPHA, "E-a-lead", "Right Turn");

	/* A revert commit: the room goes back. */
	assert_int_equal(gs_sh("cd '%s' && git revert --no-edit HEAD",
	    f->r.work), 0);
	gs_push(&f->r, false);
	fx_once(f, 0, "--push-notes", NULL);
	rev = dup_rev(f, "main");
	assert_note_rooms(f->r.origin, rev, "applied", a, 1);
	free(rev);
	fx_assert_name(f, ALPHA, "E-a-lead", "Alpha Lead");
}

/* ---- warm restart, lost cursor, lost state dir --------------------------- */

static void
file_id(const char *path, ino_t *ino, struct timespec *mtime)
{
	struct stat	sb;

	if (stat(path, &sb) != 0)
		fail_msg("%s: %s", path, strerror(errno));
	*ino = sb.st_ino;
	*mtime = sb.st_mtim;
}

static void
test_warm_restart(void **state)
{
	struct fx	*f = *state;
	struct timespec	 m0, m1, pm0, pm1;
	cJSON		*recs;
	char		*log, *repo, *pack, *out;
	ino_t		 i0, i1, pi0, pi1;
	long		 muts, gets;
	int		 nrec;

	commit_three(f);
	fx_once_in(f, NULL, 0, &log, NULL);
	assert_true(fx_file_has(log, "git: cloned into"));
	free(log);
	repo = tu_path(f->state, "repo.git");
	out = gs_sh_out("ls '%s'/objects/pack/*.pack | head -n 1", repo);
	out[strcspn(out, "\n")] = '\0';
	assert_true(out[0] == '/');
	pack = out;
	file_id(repo, &i0, &m0);
	file_id(pack, &pi0, &pm0);
	recs = fx_jsonl(f->state, NULL);
	nrec = cJSON_GetArraySize(recs);
	cJSON_Delete(recs);
	muts = fx_mutations(f);
	gets = fx_sim_count(f, "GET", NULL, NULL);

	fx_once_in(f, NULL, 0, &log, NULL);
	assert_true(fx_file_has(log, "git: reusing the clone at"));
	assert_false(fx_file_has(log, "cloned into"));
	assert_false(fx_file_has(log, "planned"));
	free(log);
	file_id(repo, &i1, &m1);
	file_id(pack, &pi1, &pm1);
	assert_true(i0 == i1);
	assert_true(pi0 == pi1);
	assert_true(pm0.tv_sec == pm1.tv_sec && pm0.tv_nsec == pm1.tv_nsec);
	assert_int_equal(fx_mutations(f), muts);
	assert_int_equal(fx_sim_count(f, "GET", NULL, NULL), gets);
	recs = fx_jsonl(f->state, NULL);
	assert_int_equal(cJSON_GetArraySize(recs), nrec);
	cJSON_Delete(recs);

	/* A new commit after the restart: fetched into the same clone. */
	fx_commit_spec(f, "alpha.yaml", ALPHA, "a", "Warm", "warm");
	gs_push(&f->r, false);
	fx_once_in(f, NULL, 0, &log, NULL);
	assert_true(fx_file_has(log, "git: reusing the clone at"));
	free(log);
	file_id(repo, &i1, &m1);
	assert_true(i0 == i1);
	fx_assert_name(f, ALPHA, "E-a-lead", "Warm");
	assert_int_equal(fx_mutations(f) - muts, 1);
	free(pack);
	free(repo);
}

static void
test_lost_cursor(void **state)
{
	struct fx	*f = *state;
	cJSON		*recs;
	char		*path, *log;
	long		 muts;
	int		 nrec;

	commit_three(f);
	fx_once(f, 0, "--push-notes", NULL);
	muts = fx_mutations(f);
	recs = fx_jsonl(f->state, NULL);
	nrec = cJSON_GetArraySize(recs);
	cJSON_Delete(recs);

	/* No cursor: the head is gone through in full, and every room
	 * already has this shard's record in its note. */
	path = tu_path(f->state, "cursor");
	assert_int_equal(unlink(path), 0);
	fx_once(f, 0, "--push-notes", NULL);
	assert_int_equal(fx_mutations(f), muts);
	recs = fx_jsonl(f->state, NULL);
	assert_int_equal(cJSON_GetArraySize(recs), nrec);
	cJSON_Delete(recs);

	/* A damaged cursor: said so, and the same. */
	tu_write(f->state, "cursor", "not a commit id\n");
	fx_once_in(f, NULL, 0, &log, "--push-notes", NULL);
	assert_true(fx_file_has(log, "reconciling the branch head in full"));
	free(log);
	assert_int_equal(fx_mutations(f), muts);

	/* No state dir at all: a new clone brings the notes from origin. */
	tu_rmrf(f->state);
	fx_once(f, 0, "--push-notes", NULL);
	assert_int_equal(fx_mutations(f), muts);
	recs = fx_jsonl(f->state, NULL);
	assert_int_equal(cJSON_GetArraySize(recs), 0);
	cJSON_Delete(recs);
	assert_true(fx_file_has(path, gs_origin_rev(&f->r, "main")));
	free(path);
}

/* ---- kill -9 during an apply --------------------------------------------- */

/* One commit (the first) making three rooms of four entities each. */
static char *
commit_three_of_four(struct fx *f)
{
	static const char *const rooms[] = { ALPHA, BRAVO, CHARLIE };
	static const char *const tags[] = { "a", "b", "c" };
	char			*s, extra[256], file[32];
	int			 i;

	for (i = 0; i < 3; i++) {
		snprintf(extra, sizeof(extra),
		    "    - {id: E-%s-x1, kind: npc}\n"
		    "    - {id: E-%s-x2, kind: npc}\n", tags[i], tags[i]);
		s = fx_spec(rooms[i], tags[i], "Lead", NULL, extra);
		snprintf(file, sizeof(file), "specs/%s.yaml", tags[i]);
		gs_commit_file(&f->r, file, s, "room");
		free(s);
	}
	assert_int_equal(gs_sh("cd '%s' && git reset -q --soft HEAD~2 && "
	    "git commit -q --amend -m 'three rooms of four'", f->r.work), 0);
	gs_push(&f->r, false);
	return dup_rev(f, "main");
}

/* Wait (bounded) until the sim has answered n joins. */
static void
wait_joins(struct fx *f, struct agent *a, long n)
{
	long long	end = fx_now_ms() + FX_WAIT_MS;

	while (fx_sim_count_once(f, "POST", "/join", NULL) < n) {
		if (fx_now_ms() > end) {
			fx_dump("agent log", a->log);
			fail_msg("fewer than %ld joins reached the sim", n);
		}
		fx_nap(10);
	}
}

static void
test_kill9_mid_apply(void **state)
{
	struct fx		*f = *state;
	static const char *const rooms[] = { ALPHA, BRAVO, CHARLIE };
	struct agent		 a;
	cJSON			*jl, *note, *o;
	char			*rev;
	long			 joins, muts0;
	int			 i;

	rev = commit_three_of_four(f);
	muts0 = fx_mutations(f);

	/* 12 joins at 300 ms each, 8 in parallel: kill in the middle. */
	fx_fault(f, "{\"kind\": \"delay\", \"ms\": 300, "
	    "\"route\": \"/room/{roomId}/join\"}");
	fx_daemon(f, NULL, &a, "--interval", "0", "--push-notes", NULL);
	wait_joins(f, &a, 2);
	kill(a.pid, SIGKILL);
	assert_int_equal(fx_wait(&a, 5000), 128 + SIGKILL);
	fx_nap(700);		/* requests in flight finish in the sim */
	fx_fault(f, NULL);
	joins = fx_sim_count(f, "POST", "/join", NULL);
	if (joins >= 12)
		fail_msg("the kill came too late (%ld joins done)", joins);
	jl = fx_jsonl(f->state, rev);
	if (cJSON_GetArraySize(jl) >= 3)
		fail_msg("every room was done before the kill");
	cJSON_Delete(jl);

	fx_once(f, 0, "--push-notes", NULL);
	for (i = 0; i < 3; i++)
		assert_int_equal(fx_room_entities(f, rooms[i]), 4);
	/* each entity joined exactly once: nothing done twice */
	assert_int_equal(fx_sim_count(f, "POST", "/join", NULL), 12);
	assert_int_equal(fx_sim_count(f, "POST", "/join", "409"), 0);
	assert_int_equal(fx_sim_count(f, "PUT", NULL, NULL), 0);
	assert_int_equal(fx_sim_count(f, "DELETE", NULL, NULL), 0);
	assert_int_equal(fx_mutations(f) - muts0, 12);
	/* the audit is complete: one final record per room, in both */
	jl = fx_jsonl(f->state, rev);
	note = fx_note(f->r.origin, rev);
	for (i = 0; i < 3; i++) {
		if (fx_count(jl, rooms[i], NULL) != 1 ||
		    fx_count(note, rooms[i], NULL) != 1 ||
		    fx_count(jl, rooms[i], "applied") +
		    fx_count(jl, rooms[i], "converged") != 1) {
			fx_print_records("jsonl", jl);
			fx_print_records("note", note);
			fail_msg("%s: want exactly one applied record",
			    rooms[i]);
		}
	}
	assert_int_equal(cJSON_GetArraySize(note), 3);
	cJSON_ArrayForEach(o, note) {
		const char *id = cJSON_GetObjectItem(o, "id")->valuestring;
		const cJSON *p;
		bool found = false;

		cJSON_ArrayForEach(p, jl)
			if (strcmp(cJSON_GetObjectItem(p, "id")->valuestring,
			    id) == 0)
				found = true;
		assert_true(found);	/* the same records */
	}
	cJSON_Delete(jl);
	cJSON_Delete(note);
	fx_agent_release(&a);
	free(rev);
}

/* ---- SIGTERM during an apply --------------------------------------------- */

static void
test_sigterm_mid_apply(void **state)
{
	struct fx		*f = *state;
	static const char *const rooms[] = { ALPHA, BRAVO, CHARLIE };
	struct agent		 a;
	cJSON			*jl, *note;
	const cJSON		*done;
	char			*rev, *cursor, *repo;
	const char		*room;
	int			 i;

	rev = commit_three_of_four(f);
	fx_fault(f, "{\"kind\": \"delay\", \"ms\": 200, "
	    "\"route\": \"/room/{roomId}/join\"}");
	/* one room at a time: SIGTERM finds one in flight, two waiting */
	fx_daemon(f, NULL, &a, "--interval", "0", "--concurrency", "1",
	    "--push-notes", NULL);
	wait_joins(f, &a, 1);
	kill(a.pid, SIGTERM);
	assert_int_equal(fx_wait(&a, 15000), 0);
	fx_fault(f, NULL);
	assert_true(fx_file_has(a.log, "finishing rooms in flight"));

	/* the room in flight finished, with its record, and nothing else */
	jl = fx_jsonl(f->state, rev);
	if (cJSON_GetArraySize(jl) != 1 ||
	    (done = fx_find(jl, NULL, "applied")) == NULL) {
		fx_print_records("jsonl", jl);
		fail_msg("want one applied record after SIGTERM");
	}
	room = cJSON_GetObjectItem(done, "room")->valuestring;
	assert_int_equal(fx_room_entities(f, room), 4);
	for (i = 0; i < 3; i++)
		if (strcmp(rooms[i], room) != 0)
			assert_int_equal(fx_room_entities(f, rooms[i]), 0);
	repo = tu_path(f->state, "repo.git");
	note = fx_note(repo, rev);	/* written, not pushed yet */
	assert_int_equal(fx_count(note, room, "applied"), 1);
	assert_int_equal(cJSON_GetArraySize(note), 1);
	cJSON_Delete(note);
	free(repo);
	cursor = tu_path(f->state, "cursor");
	assert_false(fx_file_has(cursor, rev));	/* not done yet */

	/* the next start finishes the commit without redoing that room */
	fx_once(f, 0, "--push-notes", NULL);
	assert_true(fx_file_has(cursor, rev));
	assert_int_equal(fx_sim_count(f, "POST", "/join", NULL), 12);
	note = fx_note(f->r.origin, rev);
	for (i = 0; i < 3; i++)
		if (fx_count(note, rooms[i], "applied") != 1) {
			fx_print_records(rev, note);
			fail_msg("%s: want one applied record", rooms[i]);
		}
	assert_int_equal(cJSON_GetArraySize(note), 3);
	cJSON_Delete(note);
	cJSON_Delete(jl);
	fx_agent_release(&a);
	free(cursor);
	free(rev);
}

/* ---- two shards, one origin ---------------------------------------------- */

/*
 * Shards 0/2 and 1/2 in two state dirs push notes of the same commits
 * to one origin. In turn, the second push is refused and merged; at the
 * same time, the pushes race (libgit2's local transport used to force
 * the ref and lose a shard's records about one round in six, hence the
 * rounds). Every round's note must hold the six records.
 */

#define NROOMS	6
#define ROUNDS	10	/* 2 in turn, then at the same time */

static void
test_two_agents_notes(void **state)
{
	struct fx	*f = *state;
	struct agent	 a0, a1;
	char		*rooms[NROOMS], *files[NROOMS], tag[8], *s0, *s1;
	char		*rev, name[32], *out, *spec;
	cJSON		*note, *all;
	unsigned	 owner[NROOMS], n0 = 0;
	int		 i, round, total = 0;

	for (i = 0; i < NROOMS; i++) {
		if (asprintf(&rooms[i], "room-shard-%02d", i) < 0 ||
		    asprintf(&files[i], "specs/r%d.yaml", i) < 0)
			abort();
		owner[i] = ro_shard_jump(ro_shard_key(rooms[i]), 2);
		n0 += owner[i] == 0;
	}
	assert_true(n0 > 0 && n0 < NROOMS);	/* both shards own rooms */
	s0 = tu_path(f->r.root, "state0");
	s1 = tu_path(f->r.root, "state1");
	for (round = 0; round < ROUNDS; round++) {
		for (i = 0; i < NROOMS; i++) {
			snprintf(tag, sizeof(tag), "s%d", i);
			snprintf(name, sizeof(name), "Round %d", round);
			spec = fx_spec(rooms[i], tag, name, NULL, NULL);
			tu_write(f->r.work, files[i], spec);
			free(spec);
		}
		/* one commit changing the six rooms */
		assert_int_equal(gs_sh("cd '%s' && git add -A && git commit -q "
		    "-m 'round %d'", f->r.work, round), 0);
		gs_push(&f->r, false);
		rev = dup_rev(f, "main");
		if (round < 2) {
			/* in turn: the second push is refused, merged */
			fx_once_in(f, s0, 0, NULL, "--shard", "0/2",
			    "--push-notes", NULL);
			fx_once_in(f, s1, 0, NULL, "--shard", "1/2",
			    "--push-notes", NULL);
		} else {
			/* at the same time */
			fx_spawn_once(f, s0, &a0, "--shard", "0/2",
			    "--push-notes", "--log-level", "debug", NULL);
			fx_spawn_once(f, s1, &a1, "--shard", "1/2",
			    "--push-notes", "--log-level", "debug", NULL);
			assert_int_equal(fx_wait(&a0, FX_ONCE_MS), 0);
			assert_int_equal(fx_wait(&a1, FX_ONCE_MS), 0);
			fx_agent_release(&a0);
			fx_agent_release(&a1);
		}
		note = fx_note(f->r.origin, rev);
		for (i = 0; i < NROOMS; i++) {
			const cJSON *rec = fx_find(note, rooms[i], "applied");
			char want[8];

			snprintf(want, sizeof(want), "%u/2", owner[i]);
			if (rec == NULL ||
			    fx_count(note, rooms[i], NULL) != 1 ||
			    !fx_str_is(rec, "shard", want)) {
				fx_print_records(rev, note);
				fail_msg("round %d: %s: want one record of "
				    "shard %s", round, rooms[i], want);
			}
		}
		assert_int_equal(cJSON_GetArraySize(note), NROOMS);
		cJSON_Delete(note);
		free(rev);
	}
	/* roomops audit --repo over the origin sees all of them */
	out = gs_sh_out("'%s' audit --repo '%s' --output json",
	    tu_env("RO_BIN", "build/roomops"), f->r.origin);
	all = cJSON_Parse(out);
	assert_non_null(all);
	total = cJSON_GetArraySize(cJSON_GetObjectItem(all, "entries"));
	assert_int_equal(total, ROUNDS * NROOMS);
	cJSON_Delete(all);
	free(out);
	for (i = 0; i < NROOMS; i++) {
		free(rooms[i]);
		free(files[i]);
	}
	free(s0);
	free(s1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_commit, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_three_commits, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_thirty_superseded,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_broken_yaml, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_delete_without_prune,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_prune_confirm, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_prune_annotation, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_rename_spec, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_force_push_and_revert,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_warm_restart, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_lost_cursor, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_kill9_mid_apply, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_sigterm_mid_apply,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_two_agents_notes, fx_setup,
		    fx_teardown),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
