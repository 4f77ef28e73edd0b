/*
 * faults.h: the fixture of the fault suite (tests/faults/test_*.c, label
 * faults): the real `roomops agent` (agentctl.h) against roomserver-sim
 * on a fixed port (so that it can be stopped and started again on the
 * same port and data dir), with a Git origin (gitserv.h) or a watched
 * folder, and the ledger checks every scenario ends with.
 *
 * The ledger (ff_assert_ledger):
 * - every line of the JSONL log is a record, every record id is unique;
 * - per room, the diff counts of its records add up to the room's
 *   revision in the sim: the sim adds exactly one to a room's revision
 *   per change, and keeps it on disk across restarts, so this is "every
 *   applied change has exactly one record, and no record claims a change
 *   that did not happen", whatever happened to the connections;
 * - when the sim ran as one process, the same sum equals the mutating
 *   requests it answered 2xx (its /metrics);
 * - in Git mode, the notes (refs/notes/roomops of the agent's clone) and
 *   the JSONL hold the same records: each note record is in the JSONL,
 *   each non-"converged" git record of the JSONL is in exactly one note,
 *   the note of its rev (converged records of a resync stay out of the
 *   notes by design: gitsrc.h);
 * - no write-ahead intent is left in STATE/intent (reconcile.c removes
 *   each once its record is on disk).
 *
 * Header-only (static functions), included once per test file.
 */
#ifndef RO_FAULTS_H
#define RO_FAULTS_H

#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <pthread.h>
#include <stdarg.h>

#include "agentctl.h"
#include "gitserv.h"

#define FF_FN		static __attribute__((unused))
#define FF_ARGS_MAX	40
#define FF_CONVERGE_MS	60000	/* longest wait for convergence */

struct ff {
	char		*root;		/* private temp dir, removed at the end */
	char		*state;		/* root/state: --state-dir */
	char		*audit;		/* state/audit.jsonl */
	char		*specs;		/* root/specs (folder mode) */
	struct gs_repo	 r;		/* origin + work clone (Git mode) */
	bool		 git;
	char		*repo_url;	/* --repo (file:// unless changed) */
	struct simctl	 sim;
	int		 sim_port;
	char		 server[64];	/* http://127.0.0.1:sim_port */
	long		 mut_before;	/* 2xx mutations of earlier sims */
	bool		 sim_restarted;	/* the /metrics sum is not exact */
	struct agentctl	 a;
};

FF_FN void
ff_init(struct ff *f, bool git)
{
	memset(f, 0, sizeof(*f));
	ac_init();
	f->root = tu_tmpdir();
	f->state = tu_path(f->root, "state");
	f->audit = tu_path(f->state, "audit.jsonl");
	f->specs = tu_path(f->root, "specs");
	assert_int_equal(mkdir(f->specs, 0755), 0);
	f->git = git;
	if (git) {
		gs_repo_init(&f->r, "main");
		if (asprintf(&f->repo_url, "file://%s", f->r.origin) < 0)
			abort();
	}
	f->sim = (struct simctl)SIMCTL_INIT;
	f->sim.data_dir = tu_path(f->root, "sim");
	f->sim_port = gs_free_port();
	snprintf(f->server, sizeof(f->server), "http://127.0.0.1:%d",
	    f->sim_port);
	f->a = (struct agentctl)AGENTCTL_INIT;
}

FF_FN void
ff_free(struct ff *f)
{
	char	*data_dir = f->sim.data_dir;	/* simctl_cleanup resets it */
	int	 st;

	/* a clean exit after SIGTERM: drained, and (sanitizer builds) no
	 * error or leak found at exit */
	if (f->a.pid != 0 && (st = ac_agent_stop(&f->a)) != 0) {
		ac_agent_dump(&f->a);
		fail_msg("the agent exited %d after SIGTERM", st);
	}
	ac_agent_cleanup(&f->a);
	simctl_cleanup(&f->sim);
	free(data_dir);
	if (f->git)
		gs_repo_free(&f->r);
	tu_rmrf(f->root);
	free(f->repo_url);
	free(f->root);
	free(f->state);
	free(f->audit);
	free(f->specs);
}

/* FF_ONLY=pattern runs the matching tests only (development aid). */
#define FF_FILTER()	do {						\
	if (getenv("FF_ONLY") != NULL)					\
		cmocka_set_test_filter(getenv("FF_ONLY"));		\
} while (0)

/* ---- the sim ------------------------------------------------------- */

/* Mutating requests on room routes the running sim answered 2xx. */
FF_FN long
ff_sim_mut2xx(struct ff *f)
{
	struct ro_buf	 b = RO_BUF_INIT;
	char		 url[128];
	const char	*p;
	long		 total = 0;

	snprintf(url, sizeof(url), "%s/metrics", f->sim.url);
	ro_buf_init(&b, AC_BODY_MAX);
	assert_int_equal(ac_http("GET", url, NULL, 0, NULL, &b), 200);
	for (p = ro_buf_cstr(&b); p != NULL && *p != '\0';
	    p = strchr(p, '\n'), p = p != NULL ? p + 1 : NULL) {
		char	m[16] = "", r[128] = "", st[16] = "";
		long	v;

		if (sscanf(p, "roomserver_requests_total{method=\"%15[^\"]\","
		    "route=\"%127[^\"]\",status=\"%15[^\"]\"} %ld", m, r,
		    st, &v) != 4 || strncmp(r, "/room/", 6) != 0 ||
		    strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 ||
		    st[0] != '2')
			continue;
		total += v;
	}
	ro_buf_release(&b);
	return total;
}

/*
 * After a kill -9: wait until the requests the dead agent had sent have
 * all been answered by the sim (its count of mutating 2xx answers holds
 * still for FF_SETTLE_MS), so that none lands after the next agent read
 * the room's state: such a late write would be answered 2xx and change
 * nothing (the next agent already wrote it), which the ledger would count
 * as a request without a change. Bounded: FF_SETTLE_ROUNDS rounds.
 */
#define FF_SETTLE_MS		150
#define FF_SETTLE_ROUNDS	40
FF_FN void
ff_sim_settle(struct ff *f)
{
	long	prev = ff_sim_mut2xx(f), cur;
	int	i;

	for (i = 0; i < FF_SETTLE_ROUNDS; i++) {
		ac_sleep_ms(FF_SETTLE_MS);
		if ((cur = ff_sim_mut2xx(f)) == prev)
			return;
		prev = cur;
	}
}

/* Start the sim on f->sim_port with its data dir; extra args may be
 * NULL. Retries while the port is still held by the previous process. */
FF_FN void
ff_sim_start(struct ff *f, const char *const *extra)
{
	const char	*args[16];
	char		 listen[32];
	size_t		 n = 0, i;
	int		 try;

	snprintf(listen, sizeof(listen), "127.0.0.1:%d", f->sim_port);
	args[n++] = "--listen";
	args[n++] = listen;
	for (i = 0; extra != NULL && extra[i] != NULL && n + 1 < 16; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	for (try = 0; try < 50; try++) {
		if (simctl_start(&f->sim, args) == 0)
			return;
		ac_sleep_ms(100);
	}
	fail_msg("the sim did not start on port %d", f->sim_port);
}

/* Stop the sim (SIGTERM; kill9: SIGKILL), keeping its data dir. */
FF_FN void
ff_sim_stop(struct ff *f, bool kill9)
{
	/* requests may be served between this look and the end: from now
	 * on only the revisions are exact */
	f->mut_before += ff_sim_mut2xx(f);
	f->sim_restarted = true;
	if (kill9)
		assert_int_equal(simctl_kill9(&f->sim), 0);
	else
		(void)simctl_stop(&f->sim);
}

/* The room's state as the sim serves it; retried while injected faults
 * (status, drop) hit this test's own reads. */
FF_FN cJSON *
ff_state(struct ff *f, const char *room)
{
	char	 path[256];
	cJSON	*st = NULL;
	int	 try;

	snprintf(path, sizeof(path), "/room/%s/state", room);
	for (try = 0; try < 100 && st == NULL; try++)
		if ((st = ac_get(f->sim.url, path)) == NULL)
			ac_sleep_ms(10);
	if (st == NULL)
		fail_msg("GET %s%s: no answer in 100 tries", f->sim.url, path);
	return st;
}

FF_FN long
ff_revision(struct ff *f, const char *room)
{
	cJSON	*st = ff_state(f, room);
	long	 v = (long)ac_num(st, "revision", -1);

	cJSON_Delete(st);
	return v;
}

/* ---- specs ----------------------------------------------------------- */

/*
 * The spec of room at generation gen: n_base entities E-b<i> whose
 * displayName is "gen <gen>" (an update each generation), and two
 * rotating ones, E-g<gen> and E-g<gen-1> (a join and a kick each
 * generation). malloc'd.
 */
FF_FN char *
ff_spec(const char *room, int gen, int n_base)
{
	struct ro_buf	 b = RO_BUF_INIT;
	int		 i;

	ro_buf_init(&b, 1u << 20);
	assert_int_equal(ro_buf_printf(&b, "metadata:\n  version: %d\n"
	    "spec:\n  roomId: %s\n  entities:\n", gen + 1, room), 0);
	for (i = 0; i < n_base; i++)
		assert_int_equal(ro_buf_printf(&b, "    - {id: E-b%d, kind: "
		    "agent, displayName: \"gen %d\"}\n", i, gen), 0);
	assert_int_equal(ro_buf_printf(&b, "    - {id: E-g%d, kind: npc}\n",
	    gen), 0);
	if (gen > 0)
		assert_int_equal(ro_buf_printf(&b, "    - {id: E-g%d, kind: "
		    "npc}\n", gen - 1), 0);
	return ro_buf_detach(&b, NULL);
}

/* Room names "room-fault-NN". */
FF_FN void
ff_room(char *out, size_t len, int i)
{
	snprintf(out, len, "room-fault-%02d", i);
}

/* Does the sim hold room exactly as ff_spec(room, gen, n_base) says? */
FF_FN bool
ff_room_is(struct ff *f, const char *room, int gen, int n_base)
{
	cJSON		*st = ff_state(f, room);
	const cJSON	*e;
	char		 id[32], name[32];
	int		 i, want = n_base + (gen > 0 ? 2 : 1);
	bool		 ok;

	ok = ac_len(st, "entities") == want;
	snprintf(name, sizeof(name), "gen %d", gen);
	for (i = 0; ok && i < n_base; i++) {
		snprintf(id, sizeof(id), "E-b%d", i);
		e = ac_find(st, "entities", "id", id);
		ok = e != NULL && ac_str(e, "displayName") != NULL &&
		    strcmp(ac_str(e, "displayName"), name) == 0;
	}
	snprintf(id, sizeof(id), "E-g%d", gen);
	ok = ok && ac_find(st, "entities", "id", id) != NULL;
	if (gen > 0) {
		snprintf(id, sizeof(id), "E-g%d", gen - 1);
		ok = ok && ac_find(st, "entities", "id", id) != NULL;
	}
	cJSON_Delete(st);
	return ok;
}

/* Every one of n rooms (ff_room names) is at gen. */
FF_FN bool
ff_rooms_are(struct ff *f, int n, int gen, int n_base)
{
	char	room[32];
	int	i;

	for (i = 0; i < n; i++) {
		ff_room(room, sizeof(room), i);
		if (!ff_room_is(f, room, gen, n_base))
			return false;
	}
	return true;
}

/* Write the spec of each of n rooms at gen into the folder (atomic
 * saves), or into the work clone and commit them in one commit (Git
 * mode; not pushed). */
FF_FN void
ff_commit_rooms(struct ff *f, int n, int gen, int n_base)
{
	char	room[32], file[64], msg[64];
	char	*s;
	int	i;

	for (i = 0; i < n; i++) {
		ff_room(room, sizeof(room), i);
		s = ff_spec(room, gen, n_base);
		if (f->git) {
			snprintf(file, sizeof(file), "specs/%s.yaml", room);
			tu_write(f->r.work, file, s);
		} else {
			snprintf(file, sizeof(file), "%s.yaml", room);
			ac_write_atomic(f->specs, file, s);
		}
		free(s);
	}
	if (f->git) {
		snprintf(msg, sizeof(msg), "generation %d", gen);
		assert_int_equal(gs_sh("cd '%s' && git add -A && git commit -q "
		    "-m '%s'", f->r.work, msg), 0);
	}
}

/* ff_commit_rooms, then push (Git mode). */
FF_FN void
ff_put_rooms(struct ff *f, int n, int gen, int n_base)
{
	ff_commit_rooms(f, n, gen, n_base);
	if (f->git)
		gs_push(&f->r, false);
}

/* ---- the agent ---------------------------------------------------------- */

/*
 * Start the agent: Git mode (--repo, --path specs) or folder mode
 * (--watch), the sim, the state dir, poll every second, no resync, the
 * test profile; then the NULL-terminated extra args.
 */
FF_FN void
ff_agent_start(struct ff *f, ...)
{
	const char	*args[FF_ARGS_MAX];
	const char	*arg;
	size_t		 n = 0;
	va_list		 ap;

	if (f->git) {
		args[n++] = "--repo";
		args[n++] = f->repo_url;
		args[n++] = "--path";
		args[n++] = "specs";
		args[n++] = "--interval";
		args[n++] = "1s";
	} else {
		args[n++] = "--watch";
		args[n++] = f->specs;
	}
	args[n++] = "--server";
	args[n++] = f->server;
	args[n++] = "--state-dir";
	args[n++] = f->state;
	args[n++] = "--resync";
	args[n++] = "0";
	args[n++] = "--profile";
	args[n++] = "test";
	va_start(ap, f);
	while ((arg = va_arg(ap, const char *)) != NULL) {
		assert_true(n + 1 < FF_ARGS_MAX);
		args[n++] = arg;
	}
	va_end(ap);
	args[n] = NULL;
	if (ac_agent_start(&f->a, args) < 0)
		fail_msg("the agent did not start");
}

/* The agent has nothing queued or running. */
FF_FN bool
ff_agent_idle(struct ff *f)
{
	cJSON	*st = ac_get(f->a.url, "/status");
	bool	 idle;

	idle = st != NULL && ac_num(st, "queuedRequests", -1) == 0 &&
	    ac_num(st, "activeReconciliations", -1) == 0;
	cJSON_Delete(st);
	return idle;
}

/* The cursor of the Git source (STATE/cursor) is the origin's head. */
FF_FN bool
ff_cursor_at_head(struct ff *f)
{
	char	*path = tu_path(f->state, "cursor");
	char	*s = ac_slurp(path);
	bool	 ok;

	ok = strlen(s) >= 40 && strncmp(s, gs_origin_rev(&f->r, "main"),
	    40) == 0;
	free(s);
	free(path);
	return ok;
}

/* Wait for n rooms at gen, then for a quiet agent (cursor at the head
 * in Git mode). Fails with the log on timeout. */
FF_FN void
ff_wait_converged(struct ff *f, int n, int gen, int n_base, long ms)
{
	if (!AC_WAIT(ff_rooms_are(f, n, gen, n_base), ms)) {
		ac_agent_dump(&f->a);
		fail_msg("rooms not at generation %d after %ld ms", gen, ms);
	}
	if (!AC_WAIT((!f->git || ff_cursor_at_head(f)) && ff_agent_idle(f),
	    ms)) {
		ac_agent_dump(&f->a);
		fail_msg("the agent did not settle after %ld ms", ms);
	}
}

/* ---- the ledger ------------------------------------------------------- */

FF_FN long
ff_diff_sum(const cJSON *rec)
{
	static const char *const keys[] = { "join", "kick", "update", "seed",
	    "promote", "delete", "policies" };
	const cJSON	*d = cJSON_GetObjectItemCaseSensitive(rec, "diff");
	long		 sum = 0;
	size_t		 i;

	for (i = 0; i < RO_NELEM(keys); i++)
		sum += (long)ac_num(d, keys[i], 0);
	return sum;
}

/* Every record of every note in the agent's clone, each with the
 * note's commit added as "_commit". */
FF_FN cJSON *
ff_notes(struct ff *f)
{
	char	*repo = tu_path(f->state, "repo.git");
	char	*out, *line, *nl, *notes_txt, commit[64] = "";
	cJSON	*all = cJSON_CreateArray(), *rec;

	/* per note a line "NOTE:<path>", then its lines (%(rest) is what
	 * follows the blob id on the input line); through a file, as
	 * gs_sh_out() keeps 64 KiB only */
	assert_int_equal(gs_sh("git --git-dir='%s' ls-tree -r "
	    "refs/notes/roomops 2>/dev/null | awk '{print $3, \"NOTE:\" $4}' "
	    "| git --git-dir='%s' cat-file --batch='%%(rest)' > '%s/notes.txt' "
	    "2>/dev/null || true", repo, repo, f->root), 0);
	notes_txt = tu_path(f->root, "notes.txt");
	out = ac_slurp(notes_txt);
	free(notes_txt);
	for (line = out; *line != '\0'; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL)
			break;
		*nl = '\0';
		if (strncmp(line, "NOTE:", 5) == 0) {
			size_t	j = 0;
			char	*p;

			for (p = line + 5; *p != '\0' && j + 1 < sizeof(commit);
			    p++)
				if (*p != '/')
					commit[j++] = *p;
			commit[j] = '\0';
			continue;
		}
		if (line[0] != '{')
			continue;
		if ((rec = cJSON_Parse(line)) == NULL)
			fail_msg("a note line is not JSON: %s", line);
		cJSON_AddStringToObject(rec, "_commit", commit);
		cJSON_AddItemToArray(all, rec);
	}
	free(out);
	free(repo);
	return all;
}

FF_FN int
ff_count_id(const cJSON *arr, const char *id)
{
	const cJSON	*o;
	int		 n = 0;

	cJSON_ArrayForEach(o, arr) {
		const char *v = ac_str(o, "id");

		n += v != NULL && strcmp(v, id) == 0;
	}
	return n;
}

/* A short account of the records, for failures. */
FF_FN void
ff_print_ledger(const cJSON *all)
{
	const cJSON	*o;

	cJSON_ArrayForEach(o, all)
		fprintf(stderr, "  %s %.12s %-8s %-18s diff %ld%s%s\n",
		    ac_str(o, "room") != NULL ? ac_str(o, "room") : "(none)",
		    ac_str(o, "rev") != NULL ? ac_str(o, "rev") : "-",
		    ac_str(o, "source") != NULL ? ac_str(o, "source") : "-",
		    ac_str(o, "outcome") != NULL ? ac_str(o, "outcome") : "-",
		    ff_diff_sum(o), ac_len(o, "errors") > 0 ? " errors: " : "",
		    ac_len(o, "errors") > 0 ? cJSON_GetArrayItem(
		    cJSON_GetObjectItem(o, "errors"), 0)->valuestring : "");
}

/*
 * The ledger checks of the header comment for rooms[0..n): returns the
 * number of changes recorded (the sum of every diff).
 */
FF_FN long
ff_assert_ledger(struct ff *f, const char *const *rooms, size_t n)
{
	cJSON		*all = ac_audit_all(f->audit), *notes = NULL;
	const cJSON	*o;
	long		 total = 0, sum, rev, mut;
	size_t		 i;
	bool		 bad = false;

	/* unique ids */
	cJSON_ArrayForEach(o, all) {
		const char *id = ac_str(o, "id");

		if (id == NULL || ff_count_id(all, id) != 1) {
			fprintf(stderr, "ledger: record id %s not unique\n",
			    id != NULL ? id : "(none)");
			bad = true;
		}
	}
	/* per room: changes recorded == changes made */
	for (i = 0; i < n; i++) {
		sum = 0;
		cJSON_ArrayForEach(o, all) {
			const char *r = ac_str(o, "room");

			if (r != NULL && strcmp(r, rooms[i]) == 0)
				sum += ff_diff_sum(o);
		}
		rev = ff_revision(f, rooms[i]);
		if (sum != rev) {
			fprintf(stderr, "ledger: %s: records claim %ld "
			    "changes, the sim made %ld\n", rooms[i], sum, rev);
			bad = true;
		}
		total += sum;
	}
	/* no record for a room outside the list */
	cJSON_ArrayForEach(o, all) {
		const char *r = ac_str(o, "room");
		bool known = r == NULL;

		for (i = 0; !known && i < n; i++)
			known = strcmp(r, rooms[i]) == 0;
		if (!known && ff_diff_sum(o) != 0) {
			fprintf(stderr, "ledger: changes claimed in unknown "
			    "room %s\n", r);
			bad = true;
		}
	}
	/* the sim's own count */
	mut = f->mut_before + ff_sim_mut2xx(f);
	if (!f->sim_restarted && mut != total) {
		fprintf(stderr, "ledger: records claim %ld changes, the sim "
		    "answered %ld mutating requests 2xx\n", total, mut);
		bad = true;
	}
	/* notes and JSONL hold the same records */
	if (f->git) {
		notes = ff_notes(f);
		cJSON_ArrayForEach(o, notes) {
			if (ff_count_id(all, ac_str(o, "id")) != 1) {
				fprintf(stderr, "ledger: note record %s not "
				    "in the JSONL\n", ac_str(o, "id"));
				bad = true;
			}
			if (ac_str(o, "rev") == NULL || strcmp(ac_str(o, "rev"),
			    ac_str(o, "_commit")) != 0) {
				fprintf(stderr, "ledger: record of %s in the "
				    "note of %s\n", ac_str(o, "rev"),
				    ac_str(o, "_commit"));
				bad = true;
			}
		}
		cJSON_ArrayForEach(o, all) {
			const char *src = ac_str(o, "source");
			int in = ff_count_id(notes, ac_str(o, "id"));

			if (src == NULL || strcmp(src, "git") != 0)
				continue;
			if (in > 1 || (in == 0 && strcmp(ac_str(o, "outcome"),
			    "converged") != 0)) {
				fprintf(stderr, "ledger: record %s (%s) in %d "
				    "notes\n", ac_str(o, "id"),
				    ac_str(o, "outcome"), in);
				bad = true;
			}
		}
	}
	/* a settled agent has no write-ahead intent left (intent.h) */
	{
		char	*idir = tu_path(f->state, "intent");
		char	*ls = gs_sh_out("ls -A '%s' 2>/dev/null || true", idir);

		if (ls[0] != '\0') {
			fprintf(stderr, "ledger: intents left in %s: %s\n",
			    idir, ls);
			bad = true;
		}
		free(ls);
		free(idir);
	}
	if (bad) {
		fprintf(stderr, "ledger: the JSONL records:\n");
		ff_print_ledger(all);
		ac_agent_dump(&f->a);
		fail_msg("the audit ledger does not match the changes made");
	}
	cJSON_Delete(notes);
	cJSON_Delete(all);
	return total;
}

/* ff_assert_ledger for rooms 0..n-1 (ff_room names). */
FF_FN long
ff_assert_ledger_n(struct ff *f, int n)
{
	char		 names[64][32];
	const char	*rooms[64];
	int		 i;

	assert_true(n <= 64);
	for (i = 0; i < n; i++) {
		ff_room(names[i], sizeof(names[i]), i);
		rooms[i] = names[i];
	}
	return ff_assert_ledger(f, rooms, (size_t)n);
}

/* Records with outcome (NULL: any) of room (NULL: any). */
FF_FN int
ff_count(struct ff *f, const char *room, const char *outcome)
{
	return ac_audit_count(f->audit, room, outcome);
}

#endif
