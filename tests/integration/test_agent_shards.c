/*
 * test_agent_shards.c: horizontal sharding end to end. The real
 * `roomops agent` ($RO_BIN) runs as 3, then 4 processes on one file://
 * origin holding 300 generated rooms, against one roomserver-sim.
 *
 *  1. three shards (--once): each room is applied by exactly one shard,
 *     the one ro_shard_of(roomId, 3) names; together they cover all 300;
 *  2. resize to four (a commit touching every spec, 4 agents --once):
 *     only the rooms jump hash gives to the new shard 3 change owner
 *     (about a quarter), and each room has exactly one record for the
 *     commit (none applied twice in the move);
 *  3. four daemons, one killed with SIGKILL, then a commit changing every
 *     room: the killed shard's rooms wait (no records, same revision and
 *     content on the sim, no write beyond the other shards' rooms) and
 *     converge once it restarts on its state dir;
 *  4. the origin's notes hold the records of every shard for every
 *     commit, each room once (`roomops audit --repo`, and counted per
 *     shard with `git log --notes=roomops`);
 *  5. the StatefulSet derivation: the agent reads the ordinal only from
 *     gethostname(), so it runs in a user + UTS namespace (unshare -Uru)
 *     named roomops-2 with ROOMOPS_SHARDS=3 and must act as shard 2/3;
 *     roomops-3 must refuse to start. Skipped where unshare(1) cannot
 *     make namespaces (tests/unit/test_shard.c covers the parsing);
 *  6. shard strings are compared whole: a single agent ("0/1") that
 *     finds the superseded records of "0/10" in a note still writes its
 *     own (a substring match used to skip them).
 *
 * The steps build on each other (one fixture, run in order); a step
 * whose predecessor failed is skipped. Every wait is bounded. Figures
 * (owners per shard, rooms moved, RSS) are printed on stdout.
 * RO_KEEP_TMP=1 keeps a copy of the temporary folder (logs, state dirs,
 * origin) beside it, as <folder>.kept.
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "roomops/audit.h"
#include "roomops/buf.h"
#include "roomops/shard.h"
#include "gitserv.h"
#include "simctl.h"
#include "testutil.h"

#define NROOMS		300
#define NSHARDS_MAX	4
#define ONCE_MS		60000	/* one `roomops agent --once` */
#define WAIT_MS		30000	/* a condition in daemon mode */
#define POLL_MS		50
#define INTERVAL	"200ms"	/* --interval of the daemons */
#define KILLED		1	/* the shard killed in step 3 */
#define HTTP_MAX	(8u << 20)	/* bytes of a response read */
#define FILE_MAX	(16u << 20)	/* bytes of a file read back */

struct agent {
	pid_t		 pid;	/* 0: not running */
	unsigned	 port;	/* API port, once known */
	char		*log;	/* its stdout and stderr */
};

struct run {
	const char	*path;		/* --path; NULL: rooms */
	const char	*max_pending;	/* --max-pending, or NULL */
	const char	*shard;		/* --shard, or NULL */
	const char	*shards_env;	/* ROOMOPS_SHARDS, or NULL */
	const char	*hostname;	/* run under unshare with this name */
	bool		 once;
	bool		 push;		/* --push-notes */
};

struct fx {
	struct gs_repo	 r;
	struct simctl	 sim;
	char		*url;			/* file:// origin */
	char		*state[NSHARDS_MAX];
	char		 rev[4][41];		/* commits 1..3 */
	int		 owner3[NROOMS];	/* from the records of step 1 */
	int		 owner4[NROOMS];	/* ... of step 2 */
	struct agent	 daemon[NSHARDS_MAX];
	unsigned	 nlog;
	int		 done;			/* last step that passed */
};

static struct fx	F;

/* ---- small helpers ------------------------------------------------------ */

static long long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
nap(unsigned ms)
{
	struct timespec	ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void
room_id(unsigned i, char *buf, size_t sz)
{
	snprintf(buf, sz, "room-shard-%03u", i);
}

/* Index of a generated roomId, or -1. */
static int
room_index(const char *id)
{
	unsigned	i;
	char		tail;

	if (id == NULL || sscanf(id, "room-shard-%3u%c", &i, &tail) != 1 ||
	    i >= NROOMS)
		return -1;
	return (int)i;
}

/* The whole file, NUL-terminated (malloc'd); "" when missing. */
static char *
slurp(const char *path)
{
	struct ro_buf	b = RO_BUF_INIT;
	char		chunk[16384];
	ssize_t		n;
	int		fd;

	ro_buf_init(&b, FILE_MAX);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		while ((n = read(fd, chunk, sizeof(chunk))) > 0)
			if (ro_buf_add(&b, chunk, (size_t)n) < 0)
				break;
		close(fd);
	}
	if (ro_buf_addstr(&b, "") < 0)
		abort();
	return ro_buf_detach(&b, NULL);
}

static void
dump_log(const struct agent *a)
{
	char	*s = slurp(a->log);
	size_t	 n = strlen(s);

	fprintf(stderr, "---- %s (last 4 KiB) ----\n%s\n----\n", a->log,
	    n > 4096 ? s + n - 4096 : s);
	free(s);
}

/* ---- HTTP --------------------------------------------------------------- */

static size_t
on_body(char *p, size_t sz, size_t n, void *arg)
{
	return ro_buf_add(arg, p, sz * n) < 0 ? 0 : sz * n;
}

static long
http_get(const char *url, struct ro_buf *out)
{
	CURL	*h = curl_easy_init();
	long	 status = 0;

	assert_non_null(h);
	ro_buf_reset(out);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	return status;
}

static cJSON *
get_json(const char *url)
{
	struct ro_buf	 out = RO_BUF_INIT;
	cJSON		*doc = NULL;

	ro_buf_init(&out, HTTP_MAX);
	if (http_get(url, &out) == 200)
		doc = cJSON_Parse(ro_buf_cstr(&out));
	ro_buf_release(&out);
	return doc;
}

/* A room on the sim: its revision and the display name of its bot. */
struct roomstate {
	int	revision;
	char	bot[64];
};

static void
sim_room(unsigned i, struct roomstate *rs)
{
	char		 id[32], bot[32], url[160];
	cJSON		*doc, *e, *v;

	room_id(i, id, sizeof(id));
	snprintf(bot, sizeof(bot), "E-bot-%03u", i);
	snprintf(url, sizeof(url), "%s/room/%s/state", F.sim.url, id);
	memset(rs, 0, sizeof(*rs));
	doc = get_json(url);
	assert_non_null(doc);
	v = cJSON_GetObjectItemCaseSensitive(doc, "revision");
	assert_true(cJSON_IsNumber(v));
	rs->revision = v->valueint;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(doc,
	    "entities")) {
		v = cJSON_GetObjectItemCaseSensitive(e, "id");
		if (!cJSON_IsString(v) || strcmp(v->valuestring, bot) != 0)
			continue;
		v = cJSON_GetObjectItemCaseSensitive(e, "displayName");
		if (cJSON_IsString(v))
			snprintf(rs->bot, sizeof(rs->bot), "%s",
			    v->valuestring);
	}
	cJSON_Delete(doc);
}

/* Changing requests the sim served (every method but GET and HEAD). */
static long
sim_writes(void)
{
	struct ro_buf	 b = RO_BUF_INIT;
	char		 url[128];
	const char	*p;
	long		 total = 0;

	ro_buf_init(&b, HTTP_MAX);
	snprintf(url, sizeof(url), "%s/metrics", F.sim.url);
	assert_int_equal(http_get(url, &b), 200);
	for (p = ro_buf_cstr(&b); p != NULL && *p != '\0';
	    p = (p = strchr(p, '\n')) != NULL ? p + 1 : NULL) {
		char	m[16] = "", r[128] = "";
		long	v;

		if (sscanf(p, "roomserver_requests_total{method=\"%15[^\"]\","
		    "route=\"%127[^\"]\",status=\"%*[^\"]\"} %ld", m, r,
		    &v) != 3)
			continue;
		if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 ||
		    strncmp(r, "/_sim", 5) == 0)
			continue;
		total += v;
	}
	ro_buf_release(&b);
	return total;
}

/* ---- the repository ---------------------------------------------------- */

/*
 * Generation gen of every spec: 2 entities and policies; the bot's
 * display name carries gen, so each new generation changes every room
 * by one entity update.
 */
static void
commit_specs(unsigned gen, const char *msg, char rev[41])
{
	char		 name[64], body[512];
	unsigned	 i;

	for (i = 0; i < NROOMS; i++) {
		snprintf(name, sizeof(name), "rooms/shard-%03u.yaml", i);
		snprintf(body, sizeof(body),
		    "metadata: {name: shard-%03u, version: %u}\n"
		    "spec:\n"
		    "  roomId: room-shard-%03u\n"
		    "  entities:\n"
		    "    - {id: E-bot-%03u, kind: agent, displayName: "
		    "Bot %03u v%u}\n"
		    "    - {id: E-human-%03u, kind: human, displayName: "
		    "Human %03u}\n"
		    "  policies: {dmVisibilityDefault: team, "
		    "allowResourceCreation: false, maxArtifactsPerEntity: 10}\n",
		    i, gen, i, i, i, gen, i, i);
		tu_write(F.r.work, name, body);
	}
	assert_int_equal(gs_sh("cd '%s' && git add -A && git commit -q -m '%s'",
	    F.r.work, msg), 0);
	gs_push(&F.r, false);
	snprintf(rev, 41, "%s", gs_rev(&F.r, "HEAD"));
}

/* ---- agent processes ---------------------------------------------------- */

/*
 * In a sanitizer build the agent leaks what libgit2 1.5 leaks: give it
 * tests/lsan.supp and the slow unwind that lets the suppressions see
 * libgit2's frames, unless the environment says otherwise. Harmless in
 * other builds. Runs in the child, before exec.
 */
static void
sanitizer_env(void)
{
	const char	*asan = getenv("ASAN_OPTIONS");
	char		*v;

	if (asan == NULL || strstr(asan, "fast_unwind_on_malloc") == NULL) {
		if (asprintf(&v, "%s%sfast_unwind_on_malloc=0", asan != NULL ?
		    asan : "", asan != NULL && asan[0] != '\0' ? ":" : "") < 0)
			_exit(127);
		setenv("ASAN_OPTIONS", v, 1);
		free(v);
	}
	if (getenv("LSAN_OPTIONS") == NULL) {
		if (asprintf(&v, "suppressions=%s/tests/lsan.supp:"
		    "print_suppressions=0", tu_env("RO_SOURCE_DIR", ".")) < 0)
			_exit(127);
		setenv("LSAN_OPTIONS", v, 1);
		free(v);
	}
}

static void
agent_start(struct agent *a, const char *state, const struct run *o)
{
	const char	*argv[48];
	char		 name[64];
	size_t		 n = 0;
	pid_t		 pid;
	int		 fd;

	memset(a, 0, sizeof(*a));
	snprintf(name, sizeof(name), "logs/agent-%02u.log", F.nlog++);
	a->log = tu_path(F.r.root, name);
	tu_write(F.r.root, name, "");
	if (o->hostname != NULL) {
		argv[n++] = "unshare";
		argv[n++] = "-Uru";
		argv[n++] = "sh";
		argv[n++] = "-c";
		argv[n++] = "hostname \"$1\" && shift && exec \"$@\"";
		argv[n++] = "sh";
		argv[n++] = o->hostname;
	}
	argv[n++] = tu_env("RO_BIN", "roomops");
	argv[n++] = "agent";
	argv[n++] = "--repo";
	argv[n++] = F.url;
	argv[n++] = "--path";
	argv[n++] = o->path != NULL ? o->path : "rooms";
	argv[n++] = "--server";
	argv[n++] = F.sim.url;
	argv[n++] = "--state-dir";
	argv[n++] = state;
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--interval";
	argv[n++] = INTERVAL;
	argv[n++] = "--log-level";
	argv[n++] = "debug";
	if (o->shard != NULL) {
		argv[n++] = "--shard";
		argv[n++] = o->shard;
	}
	if (o->max_pending != NULL) {
		argv[n++] = "--max-pending";
		argv[n++] = o->max_pending;
	}
	if (o->push)
		argv[n++] = "--push-notes";
	if (o->once)
		argv[n++] = "--once";
	argv[n] = NULL;

	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if ((fd = open(a->log, O_WRONLY | O_APPEND | O_CLOEXEC)) == -1 ||
		    dup2(fd, 1) == -1 || dup2(fd, 2) == -1)
			_exit(126);
		unsetenv("ROOMOPS_SHARD");
		unsetenv(RO_SHARD_ENV);
		if (o->shards_env != NULL)
			setenv(RO_SHARD_ENV, o->shards_env, 1);
		sanitizer_env();
		execvp(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	a->pid = pid;
}

/* Exit status (128 + signal when killed); kills and fails after ms. */
static int
agent_wait(struct agent *a, unsigned ms)
{
	long long	deadline = now_ms() + ms;
	pid_t		r;
	int		st = 0;

	while ((r = waitpid(a->pid, &st, WNOHANG)) == 0 &&
	    now_ms() < deadline)
		nap(20);
	if (r == 0) {
		kill(a->pid, SIGKILL);
		waitpid(a->pid, &st, 0);
		a->pid = 0;
		dump_log(a);
		fail_msg("agent %s did not exit within %u ms", a->log, ms);
	}
	a->pid = 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void
agent_free(struct agent *a)
{
	if (a->pid > 0) {
		kill(a->pid, SIGKILL);
		waitpid(a->pid, NULL, 0);
		a->pid = 0;
	}
	free(a->log);
	a->log = NULL;
}

/* Run n agents --once at the same time; each must exit 0. */
static void
run_once_all(unsigned n, const char *const *shards)
{
	struct agent	a[NSHARDS_MAX];
	struct run	o;
	unsigned	i;
	int		rc;

	for (i = 0; i < n; i++) {
		memset(&o, 0, sizeof(o));
		o.shard = shards[i];
		o.once = true;
		o.push = true;
		agent_start(&a[i], F.state[i], &o);
	}
	for (i = 0; i < n; i++) {
		if ((rc = agent_wait(&a[i], ONCE_MS)) != 0) {
			dump_log(&a[i]);
			fail_msg("shard %s: exit %d", shards[i], rc);
		}
		agent_free(&a[i]);
	}
}

/* The API port the daemon printed ("API on http://127.0.0.1:PORT"). */
static unsigned
agent_port(struct agent *a)
{
	static const char	 pat[] = "API on http://127.0.0.1:";
	long long		 deadline = now_ms() + WAIT_MS;
	const char		*p;
	char			*s;

	while (a->port == 0 && now_ms() < deadline) {
		s = slurp(a->log);
		if ((p = strstr(s, pat)) != NULL)
			a->port = (unsigned)strtoul(p + sizeof(pat) - 1, NULL,
			    10);
		free(s);
		if (a->port == 0)
			nap(POLL_MS);
	}
	if (a->port == 0) {
		dump_log(a);
		fail_msg("%s: no API port", a->log);
	}
	return a->port;
}

static cJSON *
agent_status(struct agent *a)
{
	char	url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/status",
	    agent_port(a));
	return get_json(url);
}

static bool
cursor_is(const char *state, const char *rev)
{
	char	*path = tu_path(state, "cursor");
	char	*s = slurp(path);
	bool	 ok = strncmp(s, rev, 40) == 0;

	free(s);
	free(path);
	return ok;
}

/* Wait until the daemon's cursor is rev (the commit fully processed). */
static void
wait_cursor(struct agent *a, const char *state, const char *rev)
{
	long long	deadline = now_ms() + WAIT_MS;

	while (!cursor_is(state, rev) && now_ms() < deadline)
		nap(POLL_MS);
	if (!cursor_is(state, rev)) {
		dump_log(a);
		fail_msg("%s: cursor never reached %.12s", state, rev);
	}
}

static long
vmrss_kb(pid_t pid)
{
	char	 path[64], *s, *p;
	long	 kb = -1;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	s = slurp(path);
	if ((p = strstr(s, "VmRSS:")) != NULL)
		kb = strtol(p + 6, NULL, 10);
	free(s);
	return kb;
}

/* ---- audit records -------------------------------------------------------- */

/* The records of rev in a state dir's JSONL log (a cJSON array). */
static cJSON *
records(const char *state, const char *rev)
{
	struct ro_err	 err = RO_ERR_INIT;
	char		*path = tu_path(state, "audit.jsonl");
	cJSON		*arr = cJSON_CreateArray();
	size_t		 bad = 0;

	assert_non_null(arr);
	if (ro_auditlog_read(path, &(struct ro_audit_query){ .rev = rev },
	    arr, &bad, &err) < 0)
		fail_msg("%s: %s", path, err.msg);
	assert_int_equal(bad, 0);
	free(path);
	return arr;
}

static const char *
str(const cJSON *o, const char *key)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

/*
 * Count the records of rev per room from the JSONL logs of shards
 * 0..n-1, checking that each was written by the shard of that state dir
 * (shard "i/n") and that ro_shard_of() agrees. owner[] gets the shard.
 */
static void
count_records(unsigned n, const char *rev, int seen[NROOMS],
    int owner[NROOMS], unsigned per_shard[NSHARDS_MAX])
{
	const cJSON	*rec;
	cJSON		*arr;
	char		 want[32];
	unsigned	 i;
	int		 idx;

	memset(seen, 0, sizeof(int) * NROOMS);
	for (i = 0; i < n; i++) {
		per_shard[i] = 0;
		snprintf(want, sizeof(want), "%u/%u", i, n);
		arr = records(F.state[i], rev);
		cJSON_ArrayForEach(rec, arr) {
			idx = room_index(str(rec, "room"));
			if (idx < 0)
				fail_msg("record of an unknown room: %s",
				    str(rec, "room"));
			if (strcmp(str(rec, "shard"), want) != 0)
				fail_msg("%s: record of %s by shard %s in the "
				    "log of %s", rev, str(rec, "room"),
				    str(rec, "shard"), want);
			if (ro_shard_of(str(rec, "room"), n) != (int)i)
				fail_msg("%s applied by %s but ro_shard_of "
				    "gives %d", str(rec, "room"), want,
				    ro_shard_of(str(rec, "room"), n));
			seen[idx]++;
			owner[idx] = (int)i;
			per_shard[i]++;
		}
		cJSON_Delete(arr);
	}
}

static void
assert_each_once(const int seen[NROOMS], const char *what)
{
	char		id[32];
	unsigned	i;

	for (i = 0; i < NROOMS; i++)
		if (seen[i] != 1) {
			room_id(i, id, sizeof(id));
			fail_msg("%s: %s has %d records (want 1)", what, id,
			    seen[i]);
		}
}

/* ---- the origin's notes ------------------------------------------------- */

/*
 * Check the origin's notes (roomops audit --repo): for commits 1..upto
 * each room has exactly one record, written by its owner. false while
 * incomplete (a daemon may still be pushing); fails on a wrong record.
 */
static bool
origin_notes_complete(unsigned upto, bool report)
{
	const cJSON	*rec, *arr;
	cJSON		*doc;
	char		*out, *s, shard[32];
	int		 seen[4][NROOMS], idx;
	unsigned	 c, i, total = 0;
	bool		 ok = true;

	out = tu_path(F.r.root, "origin-audit.json");
	assert_int_equal(gs_sh("'%s' audit --repo '%s' --output json >'%s'",
	    tu_env("RO_BIN", "roomops"), F.r.origin, out), 0);
	s = slurp(out);
	doc = cJSON_Parse(s);
	free(s);
	free(out);
	arr = cJSON_GetObjectItemCaseSensitive(doc, "entries");
	assert_true(cJSON_IsArray(arr));
	memset(seen, 0, sizeof(seen));
	cJSON_ArrayForEach(rec, arr) {
		for (c = 1; c <= upto; c++)
			if (strcmp(str(rec, "rev"), F.rev[c]) == 0)
				break;
		if (c > upto)
			fail_msg("a note record of another commit: %s",
			    str(rec, "rev"));
		if ((idx = room_index(str(rec, "room"))) < 0)
			fail_msg("a note record of room %s", str(rec, "room"));
		snprintf(shard, sizeof(shard), "%d/%d", c == 1 ?
		    F.owner3[idx] : F.owner4[idx], c == 1 ? 3 : 4);
		if (strcmp(str(rec, "shard"), shard) != 0)
			fail_msg("note of %.12s: %s by shard %s, not %s",
			    F.rev[c], str(rec, "room"), str(rec, "shard"),
			    shard);
		seen[c][idx]++;
		total++;
	}
	cJSON_Delete(doc);
	for (c = 1; c <= upto; c++)
		for (i = 0; i < NROOMS; i++) {
			if (seen[c][i] > 1)
				fail_msg("note of %.12s: room %u recorded %d "
				    "times", F.rev[c], i, seen[c][i]);
			if (seen[c][i] == 0)
				ok = false;
		}
	if (report)
		printf("origin notes: %u records over %u commit%s (%s)\n",
		    total, upto, upto == 1 ? "" : "s", ok ?
		    "every room of every commit, once" : "incomplete");
	return ok;
}

/* Lines of the origin's notes naming shard (git log --notes=roomops). */
static long
git_note_lines(const char *shard)
{
	char	*out;
	long	 n;

	out = gs_sh_out("git --git-dir='%s' log --notes=roomops --format=%%N "
	    "main | grep -c '\"shard\":\"%s\"'", F.r.origin, shard);
	n = strtol(out, NULL, 10);
	free(out);
	return n;
}

/* The origin's records of rev (roomops audit --repo --rev), a cJSON
 * document whose "entries" is the array. */
static cJSON *
origin_audit(const char *rev)
{
	char	*out, *s;
	cJSON	*doc;

	out = tu_path(F.r.root, "origin-audit-rev.json");
	assert_int_equal(gs_sh("'%s' audit --repo '%s' --rev '%s' --output "
	    "json >'%s'", tu_env("RO_BIN", "roomops"), F.r.origin, rev, out),
	    0);
	s = slurp(out);
	doc = cJSON_Parse(s);
	free(s);
	free(out);
	assert_true(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc,
	    "entries")));
	return doc;
}

/* ---- fixture ---------------------------------------------------------------- */

static int
group_setup(void **state)
{
	char		name[32];
	unsigned	i;

	(void)state;
	memset(&F, 0, sizeof(F));
	curl_global_init(CURL_GLOBAL_DEFAULT);
	gs_repo_init(&F.r, "main");
	F.sim = (struct simctl)SIMCTL_INIT;
	if (simctl_start(&F.sim, NULL) != 0)
		return -1;
	if (asprintf(&F.url, "file://%s", F.r.origin) < 0)
		abort();
	for (i = 0; i < NSHARDS_MAX; i++) {
		snprintf(name, sizeof(name), "state-%u", i);
		F.state[i] = tu_path(F.r.root, name);
	}
	printf("shards: work folder %s\n", F.r.root);
	return 0;
}

static int
group_teardown(void **state)
{
	unsigned	i;

	(void)state;
	for (i = 0; i < NSHARDS_MAX; i++) {
		agent_free(&F.daemon[i]);
		free(F.state[i]);
	}
	simctl_cleanup(&F.sim);
	free(F.url);
	/* gitserv removes the work folder at exit in any case: copy it */
	if (getenv("RO_KEEP_TMP") != NULL && gs_sh("cp -a '%s' '%s.kept'",
	    F.r.root, F.r.root) == 0)
		printf("shards: kept a copy in %s.kept\n", F.r.root);
	gs_repo_free(&F.r);
	curl_global_cleanup();
	return 0;
}

static void
need_step(int n)
{
	if (F.done < n) {
		printf("shards: skipped (step %d did not pass)\n", n);
		skip();
	}
}

/* ---- 1. three shards ------------------------------------------------------- */

static void
test_three_shards(void **state)
{
	static const char *const shards[] = { "0/3", "1/3", "2/3" };
	unsigned	per[NSHARDS_MAX], expect[3] = { 0, 0, 0 };
	int		seen[NROOMS];
	char		id[32];
	unsigned	i;

	(void)state;
	commit_specs(1, "300 rooms", F.rev[1]);
	run_once_all(3, shards);
	count_records(3, F.rev[1], seen, F.owner3, per);
	assert_each_once(seen, "three shards");
	for (i = 0; i < NROOMS; i++) {
		room_id(i, id, sizeof(id));
		expect[ro_shard_of(id, 3)]++;
	}
	printf("three shards: %u + %u + %u = %u rooms applied, each by the "
	    "shard ro_shard_of names (%u/%u/%u)\n", per[0], per[1], per[2],
	    per[0] + per[1] + per[2], expect[0], expect[1], expect[2]);
	for (i = 0; i < 3; i++)
		assert_int_equal(per[i], expect[i]);
	/* applied, not merely looked at: the sim holds generation 1 */
	for (i = 0; i < NROOMS; i += 7) {
		struct roomstate rs;
		char		 want[64];

		sim_room(i, &rs);
		snprintf(want, sizeof(want), "Bot %03u v1", i);
		assert_string_equal(rs.bot, want);
	}
	/* every --once agent pushed its notes before exiting: the union is
	 * on the origin now, with nothing to wait for */
	if (!origin_notes_complete(1, true))
		fail_msg("records missing from the origin's notes after three "
		    "concurrent pushes");
	F.done = 1;
}

/* ---- 2. resize to four ----------------------------------------------------- */

static void
test_resize_to_four(void **state)
{
	static const char *const shards[] = { "0/4", "1/4", "2/4", "3/4" };
	struct roomstate rs;
	unsigned	 per[NSHARDS_MAX], moved = 0, expect_moved = 0, i;
	int		 seen[NROOMS], old_seen[NROOMS], old_owner[NROOMS];
	cJSON		*arr;
	char		 id[32], want[64];

	(void)state;
	need_step(1);
	commit_specs(2, "every room, generation 2", F.rev[2]);
	run_once_all(4, shards);
	count_records(4, F.rev[2], seen, F.owner4, per);
	assert_each_once(seen, "resize to four");
	for (i = 0; i < NROOMS; i++) {
		room_id(i, id, sizeof(id));
		if (ro_shard_of(id, 4) == 3)
			expect_moved++;
		if (F.owner4[i] == F.owner3[i])
			continue;
		moved++;
		if (F.owner4[i] != 3)
			fail_msg("%s moved from shard %d to %d: only moves to "
			    "the new shard 3 are allowed", id, F.owner3[i],
			    F.owner4[i]);
	}
	printf("resize 3 -> 4: %u of %u rooms changed owner, all to shard 3 "
	    "(jump hash: %u; per shard %u/%u/%u/%u)\n", moved, NROOMS,
	    expect_moved, per[0], per[1], per[2], per[3]);
	assert_int_equal(moved, expect_moved);
	/* about a quarter: 75 +- 30 (4 standard deviations) */
	assert_in_range(moved, NROOMS / 4 - 30, NROOMS / 4 + 30);
	/* the new shard did not redo the first commit */
	arr = records(F.state[3], F.rev[1]);
	assert_int_equal(cJSON_GetArraySize(arr), 0);
	cJSON_Delete(arr);
	/* and nothing of the first commit was written again elsewhere */
	count_records(3, F.rev[1], old_seen, old_owner, per);
	assert_each_once(old_seen, "first commit after the resize");
	for (i = 0; i < NROOMS; i++) {
		sim_room(i, &rs);
		snprintf(want, sizeof(want), "Bot %03u v2", i);
		assert_string_equal(rs.bot, want);
	}
	if (!origin_notes_complete(2, true))
		fail_msg("records missing from the origin's notes after four "
		    "concurrent pushes");
	F.done = 2;
}

/* ---- 3. a shard killed -------------------------------------------------------- */

static void
test_killed_shard_waits(void **state)
{
	struct roomstate rs, before[NROOMS];
	struct run	 o;
	unsigned	 per[NSHARDS_MAX], i, waiting = 0, others = 0;
	int		 seen[NROOMS], owner[NROOMS];
	long		 writes0, writes;
	cJSON		*st;
	char		 shard[32], want[64];
	long long	 deadline;
	int		 rc;

	(void)state;
	need_step(2);
	for (i = 0; i < NSHARDS_MAX; i++) {
		snprintf(shard, sizeof(shard), "%u/4", i);
		memset(&o, 0, sizeof(o));
		o.shard = shard;
		o.push = true;
		agent_start(&F.daemon[i], F.state[i], &o);
	}
	/* every daemon up and at the second commit */
	for (i = 0; i < NSHARDS_MAX; i++) {
		deadline = now_ms() + WAIT_MS;
		for (;;) {
			const cJSON *src, *head;

			st = agent_status(&F.daemon[i]);
			assert_non_null(st);
			src = cJSON_GetObjectItemCaseSensitive(st, "source");
			head = cJSON_GetObjectItemCaseSensitive(src, "head");
			snprintf(shard, sizeof(shard), "%u/4", i);
			assert_string_equal(str(st, "shard"), shard);
			if (cJSON_IsString(head) &&
			    strcmp(head->valuestring, F.rev[2]) == 0) {
				cJSON_Delete(st);
				break;
			}
			cJSON_Delete(st);
			if (now_ms() > deadline) {
				dump_log(&F.daemon[i]);
				fail_msg("shard %u/4 never saw %.12s", i,
				    F.rev[2]);
			}
			nap(POLL_MS);
		}
	}

	for (i = 0; i < NROOMS; i++) {
		sim_room(i, &before[i]);
		if (F.owner4[i] == KILLED)
			waiting++;
		else
			others++;
	}
	writes0 = sim_writes();
	assert_int_equal(kill(F.daemon[KILLED].pid, SIGKILL), 0);
	rc = agent_wait(&F.daemon[KILLED], WAIT_MS);
	assert_int_equal(rc, 128 + SIGKILL);

	commit_specs(3, "every room, generation 3", F.rev[3]);
	for (i = 0; i < NSHARDS_MAX; i++)
		if (i != KILLED)
			wait_cursor(&F.daemon[i], F.state[i], F.rev[3]);
	/* a few more polls: nobody picks the orphaned rooms up late */
	nap(1000);

	count_records(NSHARDS_MAX, F.rev[3], seen, owner, per);
	assert_int_equal(per[KILLED], 0);
	for (i = 0; i < NROOMS; i++) {
		sim_room(i, &rs);
		if (F.owner4[i] == KILLED) {
			if (seen[i] != 0)
				fail_msg("room %u of the killed shard has %d "
				    "records", i, seen[i]);
			assert_int_equal(rs.revision, before[i].revision);
			assert_string_equal(rs.bot, before[i].bot);
		} else {
			assert_int_equal(seen[i], 1);
			snprintf(want, sizeof(want), "Bot %03u v3", i);
			assert_string_equal(rs.bot, want);
		}
	}
	writes = sim_writes() - writes0;
	printf("kill -9 of shard %d/4: its %u rooms waited (no record, same "
	    "revision); the other shards applied %u rooms with %ld writes\n",
	    KILLED, waiting, others, writes);
	assert_int_equal(writes, (long)others);	/* one entity update each */
	for (i = 0; i < NSHARDS_MAX; i++) {
		if (i == KILLED)
			continue;
		st = agent_status(&F.daemon[i]);
		assert_non_null(st);
		printf("shard %u/4: ownedRooms %d, VmRSS %ld kB\n", i,
		    cJSON_GetObjectItemCaseSensitive(st,
		    "ownedRooms")->valueint, vmrss_kb(F.daemon[i].pid));
		assert_int_equal(cJSON_GetObjectItemCaseSensitive(st,
		    "ownedRooms")->valueint, per[i]);
		cJSON_Delete(st);
	}

	/* back on its state dir: it catches up, alone */
	snprintf(shard, sizeof(shard), "%u/4", KILLED);
	memset(&o, 0, sizeof(o));
	o.shard = shard;
	o.push = true;
	free(F.daemon[KILLED].log);
	agent_start(&F.daemon[KILLED], F.state[KILLED], &o);
	wait_cursor(&F.daemon[KILLED], F.state[KILLED], F.rev[3]);
	count_records(NSHARDS_MAX, F.rev[3], seen, owner, per);
	assert_each_once(seen, "third commit after the restart");
	assert_int_equal(per[KILLED], waiting);
	for (i = 0; i < NROOMS; i++) {
		sim_room(i, &rs);
		snprintf(want, sizeof(want), "Bot %03u v3", i);
		assert_string_equal(rs.bot, want);
	}
	printf("shard %d/4 restarted: its %u rooms converged\n", KILLED,
	    per[KILLED]);
	F.done = 3;
}

/* ---- 4. notes on the origin --------------------------------------------------- */

static void
test_notes_union(void **state)
{
	long long	deadline = now_ms() + WAIT_MS;
	unsigned	expect[2][NSHARDS_MAX], i;
	char		shard[32];
	int		rc;

	(void)state;
	need_step(3);
	while (!origin_notes_complete(3, false) && now_ms() < deadline)
		nap(200);
	if (!origin_notes_complete(3, true)) {
		for (i = 0; i < NSHARDS_MAX; i++)
			dump_log(&F.daemon[i]);
		fail_msg("records missing from the origin's notes");
	}
	/* the same by git itself, per shard */
	memset(expect, 0, sizeof(expect));
	for (i = 0; i < NROOMS; i++) {
		expect[0][F.owner3[i]]++;
		expect[1][F.owner4[i]] += 2;	/* commits 2 and 3 */
	}
	for (i = 0; i < 3; i++) {
		snprintf(shard, sizeof(shard), "%u/3", i);
		assert_int_equal(git_note_lines(shard), expect[0][i]);
	}
	for (i = 0; i < 4; i++) {
		snprintf(shard, sizeof(shard), "%u/4", i);
		assert_int_equal(git_note_lines(shard), expect[1][i]);
	}
	printf("git log --notes=roomops: %u/%u/%u lines of shards x/3, "
	    "%u/%u/%u/%u of shards x/4\n", expect[0][0], expect[0][1],
	    expect[0][2], expect[1][0], expect[1][1], expect[1][2],
	    expect[1][3]);
	for (i = 0; i < NSHARDS_MAX; i++) {
		assert_int_equal(kill(F.daemon[i].pid, SIGTERM), 0);
		if ((rc = agent_wait(&F.daemon[i], WAIT_MS)) != 0) {
			dump_log(&F.daemon[i]);
			fail_msg("shard %u/4: exit %d after SIGTERM", i, rc);
		}
	}
	F.done = 4;
}

/* ---- 5. the StatefulSet ordinal ------------------------------------------------ */

static void
test_statefulset_ordinal(void **state)
{
	struct agent	 a;
	struct run	 o;
	const cJSON	*rec;
	cJSON		*arr;
	char		*ss, *log;
	int		 seen[NROOMS], rc, idx;
	unsigned	 i, n = 0, expect = 0;

	(void)state;
	need_step(3);
	if (gs_sh("unshare -Uru sh -c 'hostname roomops-0' 2>/dev/null") != 0) {
		printf("shards: StatefulSet derivation skipped: unshare cannot "
		    "make a user and UTS namespace here; ro_shard_from_env is "
		    "covered by tests/unit/test_shard.c\n");
		skip();
	}
	ss = tu_path(F.r.root, "state-statefulset");
	memset(&o, 0, sizeof(o));
	o.hostname = "roomops-2";
	o.shards_env = "3";
	o.once = true;
	agent_start(&a, ss, &o);
	if ((rc = agent_wait(&a, ONCE_MS)) != 0) {
		dump_log(&a);
		fail_msg("roomops-2 with ROOMOPS_SHARDS=3: exit %d", rc);
	}
	agent_free(&a);
	memset(seen, 0, sizeof(seen));
	arr = records(ss, F.rev[3]);
	cJSON_ArrayForEach(rec, arr) {
		assert_string_equal(str(rec, "shard"), "2/3");
		idx = room_index(str(rec, "room"));
		assert_true(idx >= 0);
		seen[idx]++;
		n++;
	}
	cJSON_Delete(arr);
	for (i = 0; i < NROOMS; i++) {
		if (F.owner3[i] == 2) {
			expect++;
			assert_int_equal(seen[i], 1);
		} else
			assert_int_equal(seen[i], 0);
	}
	assert_int_equal(n, expect);
	printf("host name roomops-2, ROOMOPS_SHARDS=3: shard 2/3, %u rooms\n",
	    n);

	/* an ordinal beyond the shard count is refused */
	o.hostname = "roomops-3";
	agent_start(&a, ss, &o);
	rc = agent_wait(&a, ONCE_MS);
	log = slurp(a.log);
	if (rc == 0 || strstr(log, "more replicas than shards") == NULL) {
		dump_log(&a);
		fail_msg("roomops-3 with ROOMOPS_SHARDS=3: exit %d", rc);
	}
	printf("host name roomops-3, ROOMOPS_SHARDS=3: refused (exit %d)\n",
	    rc);
	free(log);
	agent_free(&a);
	free(ss);
	F.done = 5;
}

/* ---- 6. superseded records per shard ----------------------------------------- */

static void
solo_commit(const char *id, unsigned gen, char rev[41])
{
	char	body[512], msg[64];

	snprintf(body, sizeof(body),
	    "metadata: {name: solo, version: %u}\n"
	    "spec:\n"
	    "  roomId: %s\n"
	    "  entities:\n"
	    "    - {id: E-bot-solo, kind: agent, displayName: Solo v%u}\n"
	    "  policies: {dmVisibilityDefault: team}\n", gen, id, gen);
	snprintf(msg, sizeof(msg), "solo, generation %u", gen);
	gs_commit_file(&F.r, "solo/solo.yaml", body, msg);
	gs_push(&F.r, false);
	snprintf(rev, 41, "%s", gs_rev(&F.r, "HEAD"));
}

static void
once(const char *state, const struct run *o)
{
	struct agent	a;
	int		rc;

	agent_start(&a, state, o);
	if ((rc = agent_wait(&a, ONCE_MS)) != 0) {
		dump_log(&a);
		fail_msg("%s: exit %d", state, rc);
	}
	agent_free(&a);
}

/* Records of rev on the origin with this outcome and shard. */
static unsigned
origin_count(const char *rev, const char *outcome, const char *shard)
{
	const cJSON	*rec;
	cJSON		*doc = origin_audit(rev);
	unsigned	 n = 0;

	cJSON_ArrayForEach(rec, cJSON_GetObjectItemCaseSensitive(doc,
	    "entries"))
		if (strcmp(str(rec, "outcome"), outcome) == 0 &&
		    strcmp(str(rec, "shard"), shard) == 0)
			n++;
	cJSON_Delete(doc);
	return n;
}

/*
 * Shards are told apart by the whole shard string: an agent that finds
 * the superseded records of shard 0/10 (an earlier, larger fleet) in a
 * commit's note still writes its own as 0/1. One room in a folder of
 * its own (--path solo), owned by shard 0 of 10 and by the single agent.
 */
static void
test_superseded_per_shard(void **state)
{
	struct run	 ten, one;
	char		 id[32], rev[3][41];
	char		*st_ten, *st_one;
	unsigned	 i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		snprintf(id, sizeof(id), "room-solo-%03u", i);
		if (ro_shard_of(id, 10) == 0)
			break;
	}
	assert_true(i < 1000);
	st_ten = tu_path(F.r.root, "state-ten");
	st_one = tu_path(F.r.root, "state-one");
	memset(&ten, 0, sizeof(ten));
	ten.path = "solo";
	ten.shard = "0/10";
	ten.once = true;
	ten.push = true;
	one = ten;
	one.shard = NULL;

	solo_commit(id, 1, rev[0]);
	once(st_one, &one);
	once(st_ten, &ten);
	solo_commit(id, 2, rev[1]);
	solo_commit(id, 3, rev[2]);
	/* two commits pending, one kept: the first is superseded */
	ten.max_pending = "1";
	one.max_pending = "1";
	once(st_ten, &ten);
	once(st_one, &one);
	printf("superseded records of %.12s: %u by 0/10, %u by 0/1\n",
	    rev[1], origin_count(rev[1], "superseded", "0/10"),
	    origin_count(rev[1], "superseded", "0/1"));
	assert_int_equal(origin_count(rev[1], "superseded", "0/10"), 1);
	assert_int_equal(origin_count(rev[1], "superseded", "0/1"), 1);
	assert_int_equal(origin_count(rev[2], "applied", "0/10"), 1);
	assert_int_equal(origin_count(rev[2], "converged", "0/1"), 1);
	free(st_ten);
	free(st_one);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_three_shards),
		cmocka_unit_test(test_resize_to_four),
		cmocka_unit_test(test_killed_shard_waits),
		cmocka_unit_test(test_notes_union),
		cmocka_unit_test(test_statefulset_ordinal),
		cmocka_unit_test(test_superseded_per_shard),
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
