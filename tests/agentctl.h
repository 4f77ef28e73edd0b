/*
 * agentctl.h: end-to-end test helpers (tests only): run `roomops agent`
 * ($RO_BIN) as a child process against a roomserver-sim started with
 * simctl.h, and talk to both over HTTP on 127.0.0.1.
 *
 * Header-only, static functions: tests/CMakeLists.txt builds one
 * executable per tests/integration/test_*.c and links only testutil.c,
 * simctl.c and gitserv.c, so each test_agent_*.c includes this once.
 *
 * The agent's stdout and stderr go to files in its own temporary folder
 * (a->dir): the API port is read from the "API on http://..." line, and
 * tests look for log lines in a->log. The child gets SIGKILL when the
 * test dies (PR_SET_PDEATHSIG). Every wait is bounded: AC_WAIT_MS unless
 * told otherwise; AC_WAIT() polls a condition with a deadline.
 *
 * Not thread-safe, except ac_http() and the functions built on it, which
 * any thread may call (curl_global_init is done by ac_init()).
 */
#ifndef RO_AGENTCTL_H
#define RO_AGENTCTL_H

#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "roomops/buf.h"
#include "roomops/file.h"
#include "simctl.h"
#include "testutil.h"

#define AC_FN		static __attribute__((unused))
#define AC_WAIT_MS	15000		/* longest wait for anything */
#define AC_POLL_MS	20		/* between two looks */
#define AC_ARGS_MAX	48
#define AC_BODY_MAX	(32u << 20)	/* bytes of an answer kept */
#define AC_FILE_MAX	(64u << 20)	/* bytes of a log read back */

/* fs.inotify.max_queued_events and the lock test_watch.c takes while it
 * lowers it for a moment (the value to restore is in the lock file). */
#define AC_QUEUED_SYSCTL "/proc/sys/fs/inotify/max_queued_events"
#define AC_QUEUED_LOCK	"/tmp/roomops-test-max_queued_events.lock"

struct agentctl {
	pid_t	 pid;		/* 0 when not running */
	int	 status;	/* exit status once reaped (128+sig: killed) */
	char	 url[64];	/* "http://127.0.0.1:PORT" */
	char	*dir;		/* own temp folder: out, log */
	char	*out;		/* stdout file */
	char	*log;		/* stderr file */
};

/* GET /room/{roomId}/state requests this test made itself, per sim
 * port (a slot is reused by a later sim on the same port: reset there). */
#define AC_SIMS_MAX	16
static struct {
	atomic_uint	port;
	atomic_long	gets;
} ac_own[AC_SIMS_MAX];

#define AGENTCTL_INIT	{ 0, -1, "", NULL, NULL, NULL }

/* Poll cond (an expression, evaluated again and again) every AC_POLL_MS
 * until true or ms passed; the value is the last result. */
#define AC_WAIT(cond, ms) __extension__ ({				\
	long long _ac_deadline = ac_now_ms() + (ms);			\
	bool _ac_ok;							\
	while (!(_ac_ok = (cond)) && ac_now_ms() < _ac_deadline)	\
		usleep(AC_POLL_MS * 1000);				\
	_ac_ok;								\
})

/* Wait for cond (AC_WAIT_MS at most); on time-out show the agent's log
 * (struct agentctl *a) and fail the test naming the condition. */
#define AC_WAIT_AGENT(a, cond) do {					\
	if (!AC_WAIT(cond, AC_WAIT_MS)) {				\
		ac_agent_dump(a);					\
		fail_msg("timed out waiting for %s", #cond);		\
	}								\
} while (0)

AC_FN long long
ac_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

AC_FN void
ac_sleep_ms(long ms)
{
	struct timespec	ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * Call first, before any thread. In a sanitizer build the agent leaks
 * what libgit2 1.5 leaks (tests/lsan.supp): its children get the
 * suppressions, and the slow unwind that lets them see the library
 * frames, unless the environment already says otherwise. Harmless in
 * other builds.
 */
AC_FN void
ac_init(void)
{
	const char	*asan = getenv("ASAN_OPTIONS");
	char		*v;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	signal(SIGPIPE, SIG_IGN);
	if (asan == NULL || strstr(asan, "fast_unwind_on_malloc") == NULL) {
		if (asprintf(&v, "%s%sfast_unwind_on_malloc=0", asan != NULL ?
		    asan : "", asan != NULL && asan[0] != '\0' ? ":" : "") < 0)
			abort();
		setenv("ASAN_OPTIONS", v, 1);
		free(v);
	}
	if (getenv("LSAN_OPTIONS") == NULL) {
		if (asprintf(&v, "suppressions=%s/tests/lsan.supp:"
		    "print_suppressions=0", tu_env("RO_SOURCE_DIR", ".")) < 0)
			abort();
		setenv("LSAN_OPTIONS", v, 1);
		free(v);
	}
}

/* --- files ----------------------------------------------------------- */

/* The whole file as a malloc'd string ("" when missing). */
AC_FN char *
ac_slurp(const char *path)
{
	struct ro_buf	 b = RO_BUF_INIT;
	char		*s;

	ro_buf_init(&b, AC_FILE_MAX);
	if (ro_file_read(path, AC_FILE_MAX, &b, NULL) < 0)
		ro_buf_reset(&b);
	s = strdup(ro_buf_cstr(&b));
	ro_buf_release(&b);
	assert_non_null(s);
	return s;
}

/* Occurrences of needle in the file. */
AC_FN int
ac_file_count(const char *path, const char *needle)
{
	char		*s = ac_slurp(path);
	const char	*p = s;
	int		 n = 0;

	while ((p = strstr(p, needle)) != NULL) {
		n++;
		p += strlen(needle);
	}
	free(s);
	return n;
}

/* Write s to path through a temp file renamed over it (an editor's
 * atomic save). */
AC_FN void
ac_write_atomic(const char *dir, const char *name, const char *s)
{
	char	tmp[64];
	char	*path = tu_path(dir, name), *tpath;

	snprintf(tmp, sizeof(tmp), ".roomops-save-%d.tmp", (int)getpid());
	tu_write(dir, tmp, s);
	tpath = tu_path(dir, tmp);
	assert_int_equal(rename(tpath, path), 0);
	free(tpath);
	free(path);
}

/* --- HTTP ------------------------------------------------------------ */

static size_t
ac_on_body(char *p, size_t sz, size_t n, void *arg)
{
	return ro_buf_add(arg, p, sz * n) < 0 ? 0 : sz * n;
}

/*
 * One request. body may be NULL (none); len SIZE_MAX: strlen(body).
 * headers: NULL-terminated "Name: value" lines, or NULL. The answer's
 * body is appended to out (may be NULL). Status, or 0 when no answer.
 */
AC_FN long
ac_http(const char *method, const char *url, const char *body, size_t len,
    const char *const *headers, struct ro_buf *out)
{
	CURL			*h = curl_easy_init();
	struct curl_slist	*hd = NULL;
	struct ro_buf		 sink = RO_BUF_INIT;
	long			 status = 0;
	size_t			 i;

	assert_non_null(h);
	ro_buf_init(&sink, AC_BODY_MAX);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)AC_WAIT_MS * 2);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, ac_on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, out != NULL ? out : &sink);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	for (i = 0; headers != NULL && headers[i] != NULL; i++)
		hd = curl_slist_append(hd, headers[i]);
	if (body != NULL) {
		hd = curl_slist_append(hd, "Content-Type: application/json");
		hd = curl_slist_append(hd, "Expect:");
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)
		    (len == SIZE_MAX ? strlen(body) : len));
	} else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hd);
	curl_easy_cleanup(h);
	ro_buf_release(&sink);
	return status;
}

/* A request whose answer is JSON: the parsed document (NULL when not
 * JSON) and the status in *status. */
AC_FN cJSON *
ac_json(const char *method, const char *url, const char *body,
    const char *const *headers, long *status)
{
	struct ro_buf	 b = RO_BUF_INIT;
	cJSON		*doc;
	long		 st;

	ro_buf_init(&b, AC_BODY_MAX);
	st = ac_http(method, url, body, SIZE_MAX, headers, &b);
	doc = cJSON_Parse(ro_buf_cstr(&b));
	if (status != NULL)
		*status = st;
	ro_buf_release(&b);
	return doc;
}

/* GET base + path as JSON; NULL unless 200. */
AC_FN cJSON *
ac_get(const char *base, const char *path)
{
	char	 url[512];
	long	 st;
	cJSON	*doc;

	snprintf(url, sizeof(url), "%s%s", base, path);
	doc = ac_json("GET", url, NULL, NULL, &st);
	if (st != 200) {
		cJSON_Delete(doc);
		return NULL;
	}
	return doc;
}

AC_FN const char *
ac_str(const cJSON *o, const char *key)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

AC_FN double
ac_num(const cJSON *o, const char *key, double fallback)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : fallback;
}

AC_FN bool
ac_bool(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* Size of the array o[key]; -1 when it is not an array. */
AC_FN int
ac_len(const cJSON *o, const char *key)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsArray(v) ? cJSON_GetArraySize(v) : -1;
}

/* --- the agent ------------------------------------------------------- */

static const char *
ac_bin(void)
{
	static char	 path[4096];
	const char	*v = getenv("RO_BIN");

	if (v != NULL && v[0] != '\0')
		return v;
	snprintf(path, sizeof(path), "%s/roomops", tu_env("RO_BUILD_DIR", "."));
	return path;
}

/* Reap the agent if it exited; true when it is gone. */
AC_FN bool
ac_agent_exited(struct agentctl *a)
{
	int	st;
	pid_t	r;

	if (a->pid == 0)
		return true;
	r = waitpid(a->pid, &st, WNOHANG);
	if (r != a->pid)
		return false;
	a->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	a->pid = 0;
	return true;
}

/* Print the agent's log to stderr (on failures). */
AC_FN void
ac_agent_dump(const struct agentctl *a)
{
	char	*s;

	if (a->log == NULL)
		return;
	s = ac_slurp(a->log);
	fprintf(stderr, "---- agent log %s ----\n%s---- end ----\n", a->log, s);
	free(s);
}

/*
 * Start `roomops agent --listen 127.0.0.1:0 ARGS...` (args NULL-
 * terminated; the environment is inherited) and wait for its API line.
 * @return 0, or -1 with the log on stderr
 */
AC_FN int
ac_agent_start(struct agentctl *a, const char *const *args)
{
	const char	*argv[AC_ARGS_MAX + 8];
	const char	*p;
	char		*s;
	size_t		 n = 0, i;
	unsigned	 port = 0;
	long long	 deadline;
	int		 fd;
	pid_t		 pid;

	if (a->dir == NULL) {
		a->dir = tu_tmpdir();
		a->out = tu_path(a->dir, "agent.out");
		a->log = tu_path(a->dir, "agent.log");
	}
	argv[n++] = ac_bin();
	argv[n++] = "agent";
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	for (i = 0; args != NULL && args[i] != NULL; i++) {
		assert_true(i < AC_ARGS_MAX);
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	unlink(a->out);
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if ((fd = open(a->out, O_WRONLY | O_CREAT | O_TRUNC, 0600)) ==
		    -1 || dup2(fd, STDOUT_FILENO) == -1)
			_exit(127);
		if ((fd = open(a->log, O_WRONLY | O_CREAT | O_APPEND,
		    0600)) == -1 || dup2(fd, STDERR_FILENO) == -1)
			_exit(127);
		execv(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	a->pid = pid;
	a->status = -1;
	deadline = ac_now_ms() + AC_WAIT_MS;
	for (;;) {
		s = ac_slurp(a->out);
		if ((p = strstr(s, "API on http://127.0.0.1:")) != NULL)
			sscanf(p + strlen("API on http://127.0.0.1:"), "%u",
			    &port);
		free(s);
		if (port != 0)
			break;
		if (ac_agent_exited(a) || ac_now_ms() > deadline) {
			fprintf(stderr, "agentctl: no API line (exit %d)\n",
			    a->status);
			ac_agent_dump(a);
			return -1;
		}
		ac_sleep_ms(AC_POLL_MS);
	}
	snprintf(a->url, sizeof(a->url), "http://127.0.0.1:%u", port);
	return 0;
}

AC_FN void
ac_agent_signal(struct agentctl *a, int sig)
{
	if (a->pid != 0)
		kill(a->pid, sig);
}

/* SIGSTOP the agent and wait until it is stopped (nothing it watches is
 * read meanwhile: kernel queues fill up); ac_agent_resume() continues. */
AC_FN void
ac_agent_pause(struct agentctl *a)
{
	int	st;

	assert_true(a->pid != 0);
	assert_int_equal(kill(a->pid, SIGSTOP), 0);
	assert_int_equal(waitpid(a->pid, &st, WUNTRACED), a->pid);
	assert_true(WIFSTOPPED(st));
}

AC_FN void
ac_agent_resume(struct agentctl *a)
{
	assert_int_equal(kill(a->pid, SIGCONT), 0);
}

/* Wait up to ms for the agent to exit: its status, or -1 (still up). */
AC_FN int
ac_agent_wait(struct agentctl *a, long ms)
{
	if (!AC_WAIT(ac_agent_exited(a), ms))
		return -1;
	return a->status;
}

/* SIGTERM and wait (SIGKILL after AC_WAIT_MS): the exit status. */
AC_FN int
ac_agent_stop(struct agentctl *a)
{
	int	st;

	if (a->pid == 0)
		return a->status;
	kill(a->pid, SIGTERM);
	if ((st = ac_agent_wait(a, AC_WAIT_MS)) == -1) {
		fprintf(stderr, "agentctl: no exit %d ms after SIGTERM\n",
		    AC_WAIT_MS);
		kill(a->pid, SIGKILL);
		(void)ac_agent_wait(a, AC_WAIT_MS);
		ac_agent_dump(a);
		return -1;
	}
	return st;
}

/* Stop if running and remove its folder; a sanitizer report in its log
 * fails the test. */
AC_FN void
ac_agent_cleanup(struct agentctl *a)
{
	bool	reported;

	if (a->pid != 0)
		(void)ac_agent_stop(a);
	reported = a->log != NULL && (ac_file_count(a->log,
	    "runtime error:") > 0 || ac_file_count(a->log, "Sanitizer") > 0);
	if (reported)
		ac_agent_dump(a);
	tu_rmrf(a->dir);
	free(a->dir);
	free(a->out);
	free(a->log);
	memset(a, 0, sizeof(*a));
	a->status = -1;
	if (reported)
		fail_msg("the agent's log has a sanitizer report");
}

/* GET /status/rooms/{room}; NULL when 404. */
AC_FN cJSON *
ac_room(const struct agentctl *a, const char *room)
{
	char	path[256];

	snprintf(path, sizeof(path), "/status/rooms/%s", room);
	return ac_get(a->url, path);
}

/* A string field of GET base+path equals want (NULL: is null). */
AC_FN bool
ac_get_is(const char *base, const char *path, const char *key,
    const char *want)
{
	cJSON		*o = ac_get(base, path);
	const char	*v = ac_str(o, key);
	bool		 ok;

	ok = o != NULL && (want == NULL ? cJSON_IsNull(
	    cJSON_GetObjectItemCaseSensitive(o, key)) : v != NULL &&
	    strcmp(v, want) == 0);
	cJSON_Delete(o);
	return ok;
}

/* A string field of /status/rooms/{room} equals want (NULL: is null). */
AC_FN bool
ac_room_is(const struct agentctl *a, const char *room, const char *key,
    const char *want)
{
	char	path[256];

	snprintf(path, sizeof(path), "/status/rooms/%s", room);
	return ac_get_is(a->url, path, key, want);
}

AC_FN double
ac_room_num(const struct agentctl *a, const char *room, const char *key)
{
	cJSON	*o = ac_room(a, room);
	double	 v = ac_num(o, key, -1);

	cJSON_Delete(o);
	return v;
}

AC_FN bool
ac_ready(const struct agentctl *a)
{
	char	url[128];

	snprintf(url, sizeof(url), "%s/ready", a->url);
	return ac_http("GET", url, NULL, 0, NULL, NULL) == 200;
}

/* A sample of the agent's /metrics: the value of the first line that
 * starts with series (name plus labels, e.g. "x_total" or
 * "roomops_rooms{state=\"converged\"}"); -1 when absent. */
AC_FN double
ac_metric(const struct agentctl *a, const char *series)
{
	struct ro_buf	 b = RO_BUF_INIT;
	char		 url[128];
	const char	*p;
	double		 v = -1;
	size_t		 n = strlen(series);

	snprintf(url, sizeof(url), "%s/metrics", a->url);
	ro_buf_init(&b, AC_BODY_MAX);
	if (ac_http("GET", url, NULL, 0, NULL, &b) == 200)
		for (p = ro_buf_cstr(&b); p != NULL && *p != '\0';
		    p = strchr(p, '\n'), p = p != NULL ? p + 1 : NULL)
			if (strncmp(p, series, n) == 0 && p[n] == ' ') {
				v = strtod(p + n + 1, NULL);
				break;
			}
	ro_buf_release(&b);
	return v;
}

/* --- the audit log (JSONL) ------------------------------------------ */

/* Every record of the log as a JSON array (lines that do not parse are
 * a test failure). */
AC_FN cJSON *
ac_audit_all(const char *path)
{
	char	*s = ac_slurp(path), *line, *nl;
	cJSON	*all = cJSON_CreateArray(), *rec;

	for (line = s; *line != '\0'; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL)
			fail_msg("%s: last line not terminated", path);
		*nl = '\0';
		if ((rec = cJSON_Parse(line)) == NULL)
			fail_msg("%s: not JSON: %s", path, line);
		cJSON_AddItemToArray(all, rec);
	}
	free(s);
	return all;
}

/* Does rec match room (NULL: any; "" : a null room) and outcome (NULL:
 * any)? */
static bool
ac_rec_matches(const cJSON *rec, const char *room, const char *outcome)
{
	const char	*r = ac_str(rec, "room"), *o = ac_str(rec, "outcome");

	if (room != NULL && (room[0] == '\0' ? r != NULL : r == NULL ||
	    strcmp(r, room) != 0))
		return false;
	return outcome == NULL || (o != NULL && strcmp(o, outcome) == 0);
}

AC_FN int
ac_audit_count(const char *path, const char *room, const char *outcome)
{
	cJSON		*all = ac_audit_all(path);
	const cJSON	*rec;
	int		 n = 0;

	cJSON_ArrayForEach(rec, all)
		n += ac_rec_matches(rec, room, outcome);
	cJSON_Delete(all);
	return n;
}

/* The newest record of room (NULL: any room), or NULL. */
AC_FN cJSON *
ac_audit_last(const char *path, const char *room)
{
	cJSON	*all = ac_audit_all(path), *rec, *last = NULL;

	cJSON_ArrayForEach(rec, all)
		if (ac_rec_matches(rec, room, NULL))
			last = rec;
	if (last != NULL)
		last = cJSON_Duplicate(last, true);
	cJSON_Delete(all);
	return last;
}

/* --- the sim --------------------------------------------------------- */

/* Add n to the own GET count of the sim on port; its value before. */
static long
ac_own_count(unsigned port, long n)
{
	unsigned	zero;
	size_t		i;

	for (i = 0; i < AC_SIMS_MAX; i++) {
		zero = 0;
		if (atomic_load(&ac_own[i].port) == port ||
		    atomic_compare_exchange_strong(&ac_own[i].port, &zero,
		    port))
			return atomic_fetch_add(&ac_own[i].gets, n);
	}
	fail_msg("agentctl: more than %d sims", AC_SIMS_MAX);
	return 0;
}


/*
 * Requests the sim served, from its /metrics, summed over statuses:
 * method NULL counts every request that may change something (not GET or
 * HEAD); route is a substring of the route template (NULL: any; the
 * sim's own /_sim, /metrics and /health are never counted); status 0:
 * any.
 */
AC_FN long
ac_sim_count(const struct simctl *s, const char *method, const char *route,
    int status)
{
	struct ro_buf	 b = RO_BUF_INIT;
	char		 url[128];
	const char	*p;
	long		 total = 0;

	snprintf(url, sizeof(url), "%s/metrics", s->url);
	ro_buf_init(&b, AC_BODY_MAX);
	assert_int_equal(ac_http("GET", url, NULL, 0, NULL, &b), 200);
	for (p = ro_buf_cstr(&b); p != NULL && *p != '\0';
	    p = strchr(p, '\n'), p = p != NULL ? p + 1 : NULL) {
		char	m[16] = "", r[128] = "", st[16] = "";
		long	v;

		if (sscanf(p, "roomserver_requests_total{method=\"%15[^\"]\","
		    "route=\"%127[^\"]\",status=\"%15[^\"]\"} %ld", m, r, st,
		    &v) != 4)
			continue;
		if (strncmp(r, "/room/", 6) != 0)
			continue;
		if (method == NULL ? strcmp(m, "GET") == 0 ||
		    strcmp(m, "HEAD") == 0 : strcmp(m, method) != 0)
			continue;
		if (route != NULL && strstr(r, route) == NULL)
			continue;
		if (status != 0 && strtol(st, NULL, 10) != status)
			continue;
		total += v;
	}
	ro_buf_release(&b);
	return total;
}

/* GET /room/{roomId}/state requests the agent made (the sim's count less
 * this test's own). */
AC_FN long
ac_sim_agent_gets(const struct simctl *s)
{
	long	own = ac_own_count(s->port, 0);

	return ac_sim_count(s, "GET", "/state", 0) - own;
}

/* Add a fault rule (JSON object), or clear them all (NULL). */
AC_FN void
ac_sim_fault(const struct simctl *s, const char *json)
{
	char	url[128];
	long	st;

	snprintf(url, sizeof(url), "%s/_sim/faults", s->url);
	st = json != NULL ? ac_http("POST", url, json, SIZE_MAX, NULL, NULL) :
	    ac_http("DELETE", url, NULL, 0, NULL, NULL);
	assert_int_equal(st / 100, 2);
}

/* simctl_start(), and a fresh own GET count for its port. */
AC_FN int
ac_sim_start(struct simctl *s, const char *const *args)
{
	size_t	i;

	if (simctl_start(s, args) < 0)
		return -1;
	for (i = 0; i < AC_SIMS_MAX; i++)
		if (atomic_load(&ac_own[i].port) == s->port)
			atomic_store(&ac_own[i].gets, 0);
	return 0;
}

/* The room's state as the sim serves it (an unknown room is empty). */
AC_FN cJSON *
ac_sim_state(const struct simctl *s, const char *room)
{
	char	 path[256];
	cJSON	*st;

	ac_own_count(s->port, 1);
	snprintf(path, sizeof(path), "/room/%s/state", room);
	st = ac_get(s->url, path);
	assert_non_null(st);
	return st;
}

AC_FN long
ac_sim_revision(const struct simctl *s, const char *room)
{
	cJSON	*st = ac_sim_state(s, room);
	long	 v = (long)ac_num(st, "revision", -1);

	cJSON_Delete(st);
	return v;
}

/* The element of state[list] whose key field is id (borrowed). */
static const cJSON *
ac_find(const cJSON *state, const char *list, const char *key,
    const char *id)
{
	const cJSON	*a = cJSON_GetObjectItemCaseSensitive(state, list), *e;

	cJSON_ArrayForEach(e, a) {
		const char *v = ac_str(e, key);

		if (v != NULL && strcmp(v, id) == 0)
			return e;
	}
	return NULL;
}

/* Number of entities (list "entities") or artifacts ("artifacts"). */
AC_FN int
ac_sim_count_of(const struct simctl *s, const char *room, const char *list)
{
	cJSON	*st = ac_sim_state(s, room);
	int	 n = ac_len(st, list);

	cJSON_Delete(st);
	return n;
}

/* Does the room have entity id with field == want (want NULL: at all)? */
AC_FN bool
ac_sim_entity_is(const struct simctl *s, const char *room, const char *id,
    const char *field, const char *want)
{
	cJSON		*st = ac_sim_state(s, room);
	const cJSON	*e = ac_find(st, "entities", "id", id);
	const char	*v;
	bool		 ok;

	v = e != NULL && field != NULL ? ac_str(e, field) : NULL;
	ok = e != NULL && (want == NULL || (v != NULL && strcmp(v, want) ==
	    0));
	cJSON_Delete(st);
	return ok;
}

/* A numeric field of artifact name (e.g. "version"); -1 when absent. */
AC_FN double
ac_sim_artifact_num(const struct simctl *s, const char *room,
    const char *name, const char *field)
{
	cJSON		*st = ac_sim_state(s, room);
	const cJSON	*e = ac_find(st, "artifacts", "name", name);
	double		 v = e != NULL ? ac_num(e, field, -1) : -1;

	cJSON_Delete(st);
	return v;
}

/* --- fs.inotify.max_queued_events ------------------------------------ */

/*
 * Lower the queue size of new inotify instances for a moment, with the
 * protocol of test_watch.c (lock file, old value kept in it). false when
 * /proc/sys is not writable here. ac_queued_end() restores it.
 */
struct ac_tweak {
	int	lockfd;
	long	old;
};

static bool
ac_sysctl(const char *path, long *get, long set)
{
	char	buf[32];
	int	fd, n;
	bool	ok;

	if (get != NULL) {
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			return false;
		n = (int)read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			return false;
		buf[n] = '\0';
		return sscanf(buf, "%ld", get) == 1;
	}
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		return false;
	n = snprintf(buf, sizeof(buf), "%ld\n", set);
	ok = write(fd, buf, (size_t)n) == n;
	return close(fd) == 0 && ok;
}

AC_FN bool
ac_queued_begin(struct ac_tweak *t, long value)
{
	char		 saved[32];
	long		 v;
	long long	 deadline = ac_now_ms() + AC_WAIT_MS;
	ssize_t		 n;

	if (access(AC_QUEUED_SYSCTL, W_OK) == -1)
		return false;
	t->lockfd = open(AC_QUEUED_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	assert_true(t->lockfd != -1);
	while (flock(t->lockfd, LOCK_EX | LOCK_NB) == -1) {
		assert_true(errno == EWOULDBLOCK && ac_now_ms() < deadline);
		ac_sleep_ms(10);
	}
	n = pread(t->lockfd, saved, sizeof(saved) - 1, 0);
	if (n > 0) {
		saved[n] = '\0';
		if (sscanf(saved, "%ld", &v) == 1)
			assert_true(ac_sysctl(AC_QUEUED_SYSCTL, NULL, v));
	}
	if (!ac_sysctl(AC_QUEUED_SYSCTL, &t->old, 0)) {
		close(t->lockfd);
		return false;
	}
	n = snprintf(saved, sizeof(saved), "%ld\n", t->old);
	assert_true(ftruncate(t->lockfd, 0) == 0);
	assert_true(pwrite(t->lockfd, saved, (size_t)n, 0) == n);
	assert_true(ac_sysctl(AC_QUEUED_SYSCTL, NULL, value));
	return true;
}

AC_FN void
ac_queued_end(struct ac_tweak *t)
{
	bool	ok = ac_sysctl(AC_QUEUED_SYSCTL, NULL, t->old);

	if (ok && ftruncate(t->lockfd, 0) != 0)
		ok = false;
	close(t->lockfd);
	assert_true(ok);
}

/*
 * Hold the lock shared while an agent creates its watcher, so that it
 * never starts while another test has the queue size lowered. -1 when
 * there is no such lock to take.
 */
AC_FN int
ac_queued_hold(void)
{
	long long	deadline = ac_now_ms() + AC_WAIT_MS;
	int		fd;

	if ((fd = open(AC_QUEUED_LOCK, O_RDWR | O_CREAT | O_CLOEXEC,
	    0600)) == -1)
		return -1;
	while (flock(fd, LOCK_SH | LOCK_NB) == -1 && ac_now_ms() < deadline)
		ac_sleep_ms(10);
	return fd;
}

AC_FN void
ac_queued_release(int fd)
{
	if (fd != -1)
		close(fd);
}

#endif
