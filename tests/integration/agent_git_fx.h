/*
 * agent_git_fx.h: the fixture of the end-to-end Git scenario tests
 * (test_agent_git.c, test_agent_git_transports.c): a bare origin with a
 * work clone (gitserv.h), a roomserver-sim (simctl.h), and the real
 * `roomops agent` binary ($RO_BIN) run as a child process, --once or as
 * a daemon. Every wait is bounded; a child that overstays is killed and
 * the test fails. Included by those two files only: every helper is
 * static (and marked unused, as each file uses a subset).
 */
#ifndef RO_AGENT_GIT_FX_H
#define RO_AGENT_GIT_FX_H

#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "roomops/buf.h"
#include "gitserv.h"
#include "simctl.h"
#include "testutil.h"

#define FX_UNUSED	__attribute__((unused))
#define FX_ARGS_MAX	64
#define FX_ONCE_MS	60000	/* one `roomops agent --once` */
#define FX_WAIT_MS	20000	/* a condition in daemon mode */
#define FX_LOG_MAX	(4u << 20)	/* bytes of a log read back */

struct fx {
	struct gs_repo	 r;
	struct simctl	 sim;
	char		*state;		/* r.root/state */
	char		*url;		/* --repo (file://...) */
	unsigned	 nlogs;		/* agent logs written so far */
};

/* One agent process. */
struct agent {
	pid_t	 pid;
	char	*log;		/* its stdout and stderr */
	unsigned port;		/* its API port (daemon mode) */
};

FX_UNUSED static long long
fx_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

FX_UNUSED static void
fx_nap(unsigned ms)
{
	struct timespec	ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ---- setup --------------------------------------------------------------- */

FX_UNUSED static void
fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	gs_repo_init(&f->r, "main");
	f->sim = (struct simctl)SIMCTL_INIT;
	assert_int_equal(simctl_start(&f->sim, NULL), 0);
	f->state = tu_path(f->r.root, "state");
	if (asprintf(&f->url, "file://%s", f->r.origin) < 0)
		abort();
}

FX_UNUSED static void
fx_free(struct fx *f)
{
	simctl_cleanup(&f->sim);
	free(f->state);
	free(f->url);
	gs_repo_free(&f->r);
}

/* cmocka set-up and tear-down of a test with one struct fx. */
FX_UNUSED static int
fx_setup(void **state)
{
	struct fx	*f = calloc(1, sizeof(*f));

	assert_non_null(f);
	fx_init(f);
	*state = f;
	return 0;
}

FX_UNUSED static int
fx_teardown(void **state)
{
	struct fx	*f = *state;

	fx_free(f);
	free(f);
	return 0;
}

FX_UNUSED static void
fx_set_url(struct fx *f, const char *url)
{
	free(f->url);
	if ((f->url = strdup(url)) == NULL)
		abort();
}

/* ---- files --------------------------------------------------------------- */

/* The whole file (malloc'd, NUL-terminated); "" when missing. */
FX_UNUSED static char *
fx_slurp(const char *path)
{
	struct ro_buf	b = RO_BUF_INIT;
	char		chunk[8192];
	ssize_t		n;
	int		fd;

	ro_buf_init(&b, FX_LOG_MAX);
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

FX_UNUSED static bool
fx_file_has(const char *path, const char *needle)
{
	char	*s = fx_slurp(path);
	bool	 ok = strstr(s, needle) != NULL;

	free(s);
	return ok;
}

FX_UNUSED static void
fx_dump(const char *what, const char *path)
{
	char	*s = fx_slurp(path);
	size_t	 n = strlen(s);

	fprintf(stderr, "---- %s (%s), last 6 KiB ----\n%s\n----\n", what,
	    path, n > 6144 ? s + n - 6144 : s);
	free(s);
}

/* ---- HTTP ---------------------------------------------------------------- */

FX_UNUSED static size_t
fx_on_body(char *p, size_t sz, size_t n, void *arg)
{
	return ro_buf_add(arg, p, sz * n) < 0 ? 0 : sz * n;
}

/* Status (0: no answer); the body appended to out (may be NULL). */
FX_UNUSED static long
fx_http(const char *method, const char *url, const char *json,
    struct ro_buf *out)
{
	CURL			*h = curl_easy_init();
	struct curl_slist	*hd = NULL;
	struct ro_buf		 sink = RO_BUF_INIT;
	long			 status = 0;

	assert_non_null(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fx_on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, out != NULL ? out : &sink);
	if (json != NULL) {
		hd = curl_slist_append(hd, "Content-Type: application/json");
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, json);
	}
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hd);
	curl_easy_cleanup(h);
	ro_buf_release(&sink);
	return status;
}

/* GET url as JSON (NULL when it does not answer 200 with JSON). */
FX_UNUSED static cJSON *
fx_get_json(const char *url)
{
	struct ro_buf	 b = RO_BUF_INIT;
	cJSON		*o = NULL;

	if (fx_http("GET", url, NULL, &b) == 200)
		o = cJSON_Parse(ro_buf_cstr(&b));
	ro_buf_release(&b);
	return o;
}

/* ---- the sim ------------------------------------------------------------- */

/*
 * Requests the sim served (its /metrics) with method (NULL: every
 * method but GET), on a route template containing route (NULL: any
 * room route), with status (NULL: any). /_sim and /metrics never count.
 */
static long
fx_sim_count_once(struct fx *f, const char *method, const char *route,
    const char *status)
{
	struct ro_buf	 b = RO_BUF_INIT;
	char		 url[128];
	const char	*p;
	long		 total = 0;

	snprintf(url, sizeof(url), "%s/metrics", f->sim.url);
	assert_int_equal(fx_http("GET", url, NULL, &b), 200);
	for (p = ro_buf_cstr(&b); p != NULL && *p != '\0';
	    p = strchr(p, '\n'), p = p != NULL ? p + 1 : NULL) {
		char	m[16] = "", r[128] = "", s[16] = "";
		long	v;

		if (sscanf(p, "roomserver_requests_total{method=\"%15[^\"]\","
		    "route=\"%127[^\"]\",status=\"%15[^\"]\"} %ld", m, r, s,
		    &v) != 4)
			continue;
		if (strncmp(r, "/room/", 6) != 0)
			continue;
		if (method == NULL ? strcmp(m, "GET") == 0 :
		    strcmp(m, method) != 0)
			continue;
		if (route != NULL && strstr(r, route) == NULL)
			continue;
		if (status != NULL && strcmp(s, status) != 0)
			continue;
		total += v;
	}
	ro_buf_release(&b);
	return total;
}

/*
 * The same, settled: the sim counts a request just after it queued the
 * answer, so a client that has exited may be a hair ahead of /metrics;
 * read until two reads 30 ms apart agree (at most 3 s).
 */
FX_UNUSED static long
fx_sim_count(struct fx *f, const char *method, const char *route,
    const char *status)
{
	long long	end = fx_now_ms() + 3000;
	long		a, b;

	a = fx_sim_count_once(f, method, route, status);
	for (;;) {
		fx_nap(30);
		b = fx_sim_count_once(f, method, route, status);
		if (a == b || fx_now_ms() > end)
			return b;
		a = b;
	}
}

/* Mutating requests (every method but GET) on room routes. */
FX_UNUSED static long
fx_mutations(struct fx *f)
{
	return fx_sim_count(f, NULL, NULL, NULL);
}

/* GET /room/{room}/state as read by the sim (never NULL). */
FX_UNUSED static cJSON *
fx_room(struct fx *f, const char *room)
{
	char	 url[256];
	cJSON	*o;

	snprintf(url, sizeof(url), "%s/room/%s/state", f->sim.url, room);
	o = fx_get_json(url);
	assert_non_null(o);
	return o;
}

FX_UNUSED static int
fx_room_entities(struct fx *f, const char *room)
{
	cJSON	*o = fx_room(f, room);
	int	 n = cJSON_GetArraySize(cJSON_GetObjectItem(o, "entities"));

	cJSON_Delete(o);
	return n;
}

/* displayName of entity id in room (malloc'd; NULL when absent). */
FX_UNUSED static char *
fx_entity_name(struct fx *f, const char *room, const char *id)
{
	cJSON	*o = fx_room(f, room), *e, *v;
	char	*name = NULL;

	cJSON_ArrayForEach(e, cJSON_GetObjectItem(o, "entities")) {
		v = cJSON_GetObjectItem(e, "id");
		if (!cJSON_IsString(v) || strcmp(v->valuestring, id) != 0)
			continue;
		v = cJSON_GetObjectItem(e, "displayName");
		name = strdup(cJSON_IsString(v) ? v->valuestring : "");
	}
	cJSON_Delete(o);
	return name;
}

FX_UNUSED static void
fx_assert_name(struct fx *f, const char *room, const char *id,
    const char *want)
{
	char	*got = fx_entity_name(f, room, id);

	if (got == NULL || strcmp(got, want) != 0)
		fail_msg("%s/%s: displayName \"%s\", want \"%s\"", room, id,
		    got != NULL ? got : "(no such entity)", want);
	free(got);
}

FX_UNUSED static void
fx_fault(struct fx *f, const char *json)
{
	char	url[128];

	snprintf(url, sizeof(url), "%s/_sim/faults", f->sim.url);
	if (json == NULL)
		assert_int_equal(fx_http("DELETE", url, NULL, NULL) / 100, 2);
	else
		assert_int_equal(fx_http("POST", url, json, NULL) / 100, 2);
}

/* ---- specs --------------------------------------------------------------- */

/*
 * A small spec: room, two entities E-<tag>-lead (displayName name) and
 * E-<tag>-bot, and extra lines appended under spec: (NULL: none).
 */
FX_UNUSED static char *
fx_spec(const char *room, const char *tag, const char *name,
    const char *annotations, const char *extra)
{
	char	*s;

	if (asprintf(&s,
	    "metadata:\n"
	    "  version: 1\n"
	    "%s%s"
	    "spec:\n"
	    "  roomId: %s\n"
	    "  entities:\n"
	    "    - {id: E-%s-lead, kind: human, displayName: \"%s\"}\n"
	    "    - {id: E-%s-bot, kind: agent, displayName: Bot}\n"
	    "%s",
	    annotations != NULL ? "  annotations:\n    " : "",
	    annotations != NULL ? annotations : "", room, tag, name, tag,
	    extra != NULL ? extra : "") < 0)
		abort();
	return s;
}

FX_UNUSED static void
fx_commit_spec(struct fx *f, const char *file, const char *room,
    const char *tag, const char *name, const char *msg)
{
	char	*s = fx_spec(room, tag, name, NULL, NULL);
	char	 path[256];

	snprintf(path, sizeof(path), "specs/%s", file);
	gs_commit_file(&f->r, path, s, msg);
	free(s);
}

/* ---- notes and the JSONL log --------------------------------------------- */

FX_UNUSED static void
fx_lines_json(const char *text, cJSON *arr)
{
	const char	*p = text, *nl;
	char		*line;
	cJSON		*o;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		line = strndup(p, nl != NULL ? (size_t)(nl - p) : strlen(p));
		if (line == NULL)
			abort();
		if (line[0] == '{') {
			if ((o = cJSON_Parse(line)) == NULL)
				fail_msg("not a JSON record: %s", line);
			cJSON_AddItemToArray(arr, o);
		}
		free(line);
		p = nl != NULL ? nl + 1 : p + strlen(p);
	}
}

/* The records in the note of rev on refs/notes/roomops of git_dir. */
FX_UNUSED static cJSON *
fx_note(const char *git_dir, const char *rev)
{
	cJSON	*arr = cJSON_CreateArray();
	char	*out;

	out = gs_sh_out("git --git-dir='%s' notes --ref=roomops show '%s' "
	    "2>/dev/null || true", git_dir, rev);
	fx_lines_json(out, arr);
	free(out);
	return arr;
}

/* The records of rev (a prefix; NULL: all) in STATE/audit.jsonl. */
FX_UNUSED static cJSON *
fx_jsonl(const char *state, const char *rev)
{
	cJSON	*all = cJSON_CreateArray(), *arr = cJSON_CreateArray(), *o;
	char	*path = tu_path(state, "audit.jsonl");
	char	*s = fx_slurp(path);

	fx_lines_json(s, all);
	while ((o = cJSON_DetachItemFromArray(all, 0)) != NULL) {
		cJSON	*v = cJSON_GetObjectItem(o, "rev");

		if (rev == NULL || (cJSON_IsString(v) &&
		    strncmp(v->valuestring, rev, strlen(rev)) == 0))
			cJSON_AddItemToArray(arr, o);
		else
			cJSON_Delete(o);
	}
	cJSON_Delete(all);
	free(s);
	free(path);
	return arr;
}

FX_UNUSED static bool
fx_str_is(const cJSON *o, const char *key, const char *want)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (want == NULL)
		return true;
	return cJSON_IsString(v) && strcmp(v->valuestring, want) == 0;
}

/* Records of room (NULL: any) with outcome (NULL: any). */
FX_UNUSED static int
fx_count(const cJSON *arr, const char *room, const char *outcome)
{
	const cJSON	*o;
	int		 n = 0;

	cJSON_ArrayForEach(o, arr)
		if (fx_str_is(o, "room", room) &&
		    fx_str_is(o, "outcome", outcome))
			n++;
	return n;
}

/* The first record of room (or NULL). */
FX_UNUSED static const cJSON *
fx_find(const cJSON *arr, const char *room, const char *outcome)
{
	const cJSON	*o;

	cJSON_ArrayForEach(o, arr)
		if (fx_str_is(o, "room", room) &&
		    fx_str_is(o, "outcome", outcome))
			return o;
	return NULL;
}

FX_UNUSED static void
fx_print_records(const char *what, const cJSON *arr)
{
	char	*s = cJSON_PrintUnformatted(arr);

	fprintf(stderr, "%s: %s\n", what, s != NULL ? s : "?");
	free(s);
}

/* ---- the agent ----------------------------------------------------------- */

/*
 * In a sanitizer build the agent leaks what libgit2 1.5 leaks (see
 * tests/lsan.supp): give it the suppressions, and the slow unwind that
 * lets them see libgit2's frames, unless the environment says otherwise.
 * Harmless in other builds.
 */
FX_UNUSED static void
fx_sanitizer_env(void)
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

/* Start $RO_BIN with argv (argv[0] ignored), output to a new log. */
FX_UNUSED static void
fx_spawn(struct fx *f, struct agent *a, const char **argv)
{
	const char	*bin = tu_env("RO_BIN", "build/roomops");
	char		*cargv[FX_ARGS_MAX], name[64];
	int		 fd, i;

	memset(a, 0, sizeof(*a));
	snprintf(name, sizeof(name), "agent-%u.log", f->nlogs++);
	a->log = tu_path(f->r.root, name);
	if ((a->pid = fork()) == -1)
		fail_msg("fork: %s", strerror(errno));
	if (a->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if ((fd = open(a->log, O_WRONLY | O_CREAT | O_APPEND, 0600)) ==
		    -1)
			_exit(127);
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
		setenv("HOME", f->r.root, 1);
		fx_sanitizer_env();
		unsetenv("ROOM_AUTH_TOKEN");
		unsetenv("ROOMOPS_CONFIG");
		argv[0] = bin;
		for (i = 0; argv[i] != NULL && i + 1 < FX_ARGS_MAX; i++)
			if ((cargv[i] = strdup(argv[i])) == NULL)
				_exit(127);
		cargv[i] = NULL;
		execv(bin, cargv);
		_exit(127);
	}
}

/* Exit status, waiting at most ms (then SIGKILL and fail). */
FX_UNUSED static int
fx_wait(struct agent *a, int ms)
{
	long long	end = fx_now_ms() + ms;
	int		st = 0;
	pid_t		w;

	for (;;) {
		w = waitpid(a->pid, &st, WNOHANG);
		if (w == a->pid)
			break;
		if (w == -1 && errno != EINTR)
			fail_msg("waitpid: %s", strerror(errno));
		if (fx_now_ms() > end) {
			kill(a->pid, SIGKILL);
			waitpid(a->pid, &st, 0);
			a->pid = 0;
			fx_dump("agent that overstayed", a->log);
			fail_msg("roomops agent did not exit within %d ms", ms);
		}
		fx_nap(10);
	}
	a->pid = 0;
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

FX_UNUSED static void
fx_agent_release(struct agent *a)
{
	int	st;

	if (a->pid > 0) {
		kill(a->pid, SIGKILL);
		waitpid(a->pid, &st, 0);
		a->pid = 0;
	}
	free(a->log);
	a->log = NULL;
}

/*
 * argv for `roomops agent` against f (repo, --path specs, the sim, the
 * state dir, a free API port), then the NULL-terminated extra args.
 */
FX_UNUSED static void
fx_argv(struct fx *f, const char *state, const char **argv, va_list ap)
{
	const char	*arg;
	size_t		 n = 0;

	argv[n++] = "roomops";
	argv[n++] = "agent";
	argv[n++] = "--repo";
	argv[n++] = f->url;
	argv[n++] = "--path";
	argv[n++] = "specs";
	argv[n++] = "--server";
	argv[n++] = f->sim.url;
	argv[n++] = "--state-dir";
	argv[n++] = state;
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--resync";
	argv[n++] = "0";
	while ((arg = va_arg(ap, const char *)) != NULL) {
		assert_true(n + 1 < FX_ARGS_MAX);
		argv[n++] = arg;
	}
	argv[n] = NULL;
}

/*
 * roomops agent --once with the extra args (NULL-terminated), in state
 * (NULL: f->state); the exit status must be want (the log is shown when
 * it is not). The log path is left in *log when log is not NULL.
 */
FX_UNUSED static void
fx_once_in(struct fx *f, const char *state, int want, char **log, ...)
{
	struct agent	 a;
	const char	*argv[FX_ARGS_MAX];
	va_list		 ap;
	int		 rc;

	va_start(ap, log);
	fx_argv(f, state != NULL ? state : f->state, argv, ap);
	va_end(ap);
	for (rc = 0; argv[rc] != NULL; rc++)
		;
	argv[rc++] = "--once";
	argv[rc] = NULL;
	fx_spawn(f, &a, argv);
	rc = fx_wait(&a, FX_ONCE_MS);
	if (rc != want) {
		fx_dump("agent log", a.log);
		fail_msg("roomops agent --once exited %d, want %d", rc, want);
	}
	if (log != NULL) {
		*log = a.log;
		a.log = NULL;
	}
	fx_agent_release(&a);
}

/* Start roomops agent --once with the extra args; fx_wait() for it. */
FX_UNUSED static void
fx_spawn_once(struct fx *f, const char *state, struct agent *a, ...)
{
	const char	*argv[FX_ARGS_MAX];
	va_list	 ap;
	int	 n;

	va_start(ap, a);
	fx_argv(f, state != NULL ? state : f->state, argv, ap);
	va_end(ap);
	for (n = 0; argv[n] != NULL; n++)
		;
	argv[n++] = "--once";
	argv[n] = NULL;
	fx_spawn(f, a, argv);
}

#define fx_once(f, want, ...)	fx_once_in((f), NULL, (want), NULL, \
				    __VA_ARGS__)

/* Start the daemon (no --once) and wait for its API port. */
FX_UNUSED static void
fx_daemon(struct fx *f, const char *state, struct agent *a, ...)
{
	static const char	 tag[] = "API on http://127.0.0.1:";
	const char		*argv[FX_ARGS_MAX];
	char			*log, *p;
	long long		 end;
	va_list			 ap;
	int			 st;

	va_start(ap, a);
	fx_argv(f, state != NULL ? state : f->state, argv, ap);
	va_end(ap);
	fx_spawn(f, a, argv);
	for (end = fx_now_ms() + FX_WAIT_MS; a->port == 0;) {
		log = fx_slurp(a->log);
		if ((p = strstr(log, tag)) != NULL)
			a->port = (unsigned)strtoul(p + strlen(tag), NULL, 10);
		free(log);
		if (a->port != 0)
			break;
		if (waitpid(a->pid, &st, WNOHANG) == a->pid) {
			a->pid = 0;
			fx_dump("agent log", a->log);
			fail_msg("the agent exited at start");
		}
		if (fx_now_ms() > end) {
			fx_dump("agent log", a->log);
			fail_msg("the agent API did not come up");
		}
		fx_nap(20);
	}
}

/* GET path on the agent's API as JSON (NULL: no 200). */
FX_UNUSED static cJSON *
fx_api(const struct agent *a, const char *path)
{
	char	url[256];

	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", a->port, path);
	return fx_get_json(url);
}

/* source.<key> of the agent's GET /status (malloc'd; NULL when null). */
FX_UNUSED static char *
fx_source(const struct agent *a, const char *key)
{
	cJSON	*o = fx_api(a, "/status"), *v;
	char	*s = NULL;

	if (o == NULL)
		return NULL;
	v = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "source"), key);
	if (cJSON_IsString(v))
		s = strdup(v->valuestring);
	cJSON_Delete(o);
	return s;
}

/* Wait (bounded) until the note of rev in git_dir has n records. */
FX_UNUSED static bool
fx_wait_note(const char *git_dir, const char *rev, int n, int ms)
{
	long long	end = fx_now_ms() + ms;
	cJSON		*arr;
	int		 got;

	do {
		arr = fx_note(git_dir, rev);
		got = cJSON_GetArraySize(arr);
		cJSON_Delete(arr);
		if (got >= n)
			return true;
		fx_nap(50);
	} while (fx_now_ms() < end);
	return false;
}

/*
 * `git log --notes=roomops -1 rev` in a fresh clone of origin that
 * fetches refs/notes/roomops through the documented one-line config.
 * malloc'd.
 */
FX_UNUSED static char *
fx_clone_log(struct fx *f, const char *rev)
{
	char	*out;

	gs_sh("rm -rf '%s/check'", f->r.root);
	out = gs_sh_out("git clone -q '%s' '%s/check' && cd '%s/check' && "
	    "git config --add remote.origin.fetch "
	    "'+refs/notes/roomops:refs/notes/roomops' && git fetch -q && "
	    "git log --notes=roomops -1 '%s'", f->r.origin, f->r.root,
	    f->r.root, rev);
	return out;
}

#endif
