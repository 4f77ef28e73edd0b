/*
 * test_agent_signals.c: signals to `roomops agent` end to end (the real
 * binary against roomserver-sim, API-only mode).
 *
 * - SIGTERM during a slow apply (the sim delays every join): the room in
 *   flight finishes, its audit record is written and its client gets its
 *   answer; an apply still queued behind it is answered 503; exit 0.
 * - SIGINT on an idle agent: exit 0.
 * - SIGHUP with a changed config file: max-kicks and log-level are
 *   applied live (seen in the reconcile cycles and in the log), changes
 *   that need a restart (concurrency; prune, which the sources read at
 *   start) are logged as such, and a broken file is refused with the
 *   running configuration kept.
 */
#include <pthread.h>

#include "agentctl.h"

struct fx {
	struct simctl	 sim;
	struct agentctl	 a;
	char		*tmp;
	char		*state;
	char		*audit;
	char		*config;
};

#define WAIT(f, cond)	AC_WAIT_AGENT(&(f)->a, cond)

static char *
body(const char *room, int n)
{
	struct ro_buf	 b = RO_BUF_INIT;
	char		*s;
	int		 i;

	ro_buf_printf(&b, "{\"spec\": {\"apiVersion\": \"v1\", \"kind\": "
	    "\"RoomSpec\", \"metadata\": {\"name\": \"sig\", \"version\": 1}, "
	    "\"spec\": {\"roomId\": \"%s\", \"entities\": [", room);
	for (i = 0; i < n; i++)
		ro_buf_printf(&b, "%s{\"id\": \"E-s%d\", \"kind\": \"agent\"}",
		    i > 0 ? ", " : "", i);
	ro_buf_printf(&b, "], \"artifacts\": []}}}");
	s = strdup(ro_buf_cstr(&b));
	ro_buf_release(&b);
	return s;
}

struct bg {
	char		 url[128];
	char		*body;
	const char	*const *headers;
	pthread_t	 tid;
	long		 st;
	cJSON		*ans;
};

static void *
bg_run(void *arg)
{
	struct bg	*g = arg;

	g->ans = ac_json("POST", g->url, g->body, g->headers, &g->st);
	return NULL;
}

static void
bg_start(struct bg *g, struct fx *f, char *b)
{
	memset(g, 0, sizeof(*g));
	snprintf(g->url, sizeof(g->url), "%s/apply", f->a.url);
	g->body = b;
	assert_int_equal(pthread_create(&g->tid, NULL, bg_run, g), 0);
}

static void
bg_join(struct bg *g)
{
	pthread_join(g->tid, NULL);
	free(g->body);
}

static cJSON *
apply(struct fx *f, const char *b, const char *const *headers, long *st)
{
	char	u[128];

	snprintf(u, sizeof(u), "%s/apply", f->a.url);
	return ac_json("POST", u, b, headers, st);
}

static void
start(struct fx *f, const char *const *extra)
{
	const char	*args[24];
	size_t		 n = 0, i;

	args[n++] = "--server";
	args[n++] = f->sim.url;
	args[n++] = "--state-dir";
	args[n++] = f->state;
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	assert_int_equal(ac_agent_start(&f->a, args), 0);
	WAIT(f, ac_ready(&f->a));
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
	f->state = tu_path(f->tmp, "state");
	f->audit = tu_path(f->state, "audit.jsonl");
	f->config = tu_path(f->tmp, "roomops.yaml");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*f = *state;

	ac_agent_cleanup(&f->a);
	simctl_cleanup(&f->sim);
	tu_rmrf(f->tmp);
	free(f->tmp);
	free(f->state);
	free(f->audit);
	free(f->config);
	free(f);
	return 0;
}

static bool
reconciling(struct fx *f, const char *room)
{
	cJSON	*o = ac_room(&f->a, room);
	bool	 on = ac_bool(o, "isReconciling");

	cJSON_Delete(o);
	return on;
}

static void
test_sigterm_drains(void **state)
{
	struct fx	*f = *state;
	struct bg	 inflight, queued;
	cJSON		*rec, *doc;
	long long	 t_sig, t_exit;
	int		 st;

	start(f, NULL);
	/* two joins of 700 ms each: the apply takes about 1.4 s */
	ac_sim_fault(&f->sim, "{\"kind\": \"delay\", \"ms\": 700, "
	    "\"route\": \"/room/{roomId}/join\"}");
	bg_start(&inflight, f, body("room-sig-drain", 2));
	WAIT(f, reconciling(f, "room-sig-drain"));
	/* a second apply of the same room waits behind the first */
	bg_start(&queued, f, body("room-sig-drain", 3));
	WAIT(f, (doc = ac_get(f->a.url, "/status")) != NULL &&
	    ac_num(doc, "queuedRequests", 0) >= 1 ? (cJSON_Delete(doc), true) :
	    (cJSON_Delete(doc), false));
	assert_int_equal(ac_audit_count(f->audit, "room-sig-drain", NULL), 0);

	t_sig = ac_now_ms();
	ac_agent_signal(&f->a, SIGTERM);
	st = ac_agent_wait(&f->a, AC_WAIT_MS);
	t_exit = ac_now_ms();
	bg_join(&inflight);
	bg_join(&queued);
	fprintf(stderr, "SIGTERM: exit %d after %lld ms\n", st,
	    t_exit - t_sig);
	if (st != 0)
		ac_agent_dump(&f->a);
	assert_int_equal(st, 0);

	/* the room in flight finished: answered, audited, converged */
	assert_int_equal(inflight.st, 200);
	assert_true(ac_bool(inflight.ans, "success"));
	assert_int_equal(ac_len(cJSON_GetObjectItem(inflight.ans, "diff"),
	    "toJoin"), 2);
	rec = ac_audit_last(f->audit, "room-sig-drain");
	assert_non_null(rec);
	assert_string_equal(ac_str(rec, "outcome"), "applied");
	assert_string_equal(ac_str(rec, "correlationId"),
	    ac_str(inflight.ans, "correlationId"));
	cJSON_Delete(rec);
	assert_int_equal(ac_audit_count(f->audit, "room-sig-drain", NULL), 1);
	ac_sim_fault(&f->sim, NULL);
	assert_int_equal(ac_sim_count_of(&f->sim, "room-sig-drain",
	    "entities"), 2);
	/* the queued one was not started: told to retry */
	assert_int_equal(queued.st, 503);
	cJSON_Delete(inflight.ans);
	cJSON_Delete(queued.ans);
	assert_true(ac_file_count(f->a.log, "finishing rooms in flight") == 1);
}

static void
test_sigint_idle(void **state)
{
	struct fx	*f = *state;

	start(f, NULL);
	ac_agent_signal(&f->a, SIGINT);
	assert_int_equal(ac_agent_wait(&f->a, AC_WAIT_MS), 0);
}

/* Cycles an apply of 4 -> 1 entities takes (X-Confirm), on a fresh room. */
static int
kick_cycles(struct fx *f, const char *room)
{
	const char	*conf[] = { "X-Confirm: true", NULL };
	char		*b;
	cJSON		*ans;
	long		 st;
	int		 cycles;

	b = body(room, 4);
	ans = apply(f, b, NULL, &st);
	assert_int_equal(st, 200);
	cJSON_Delete(ans);
	free(b);
	b = body(room, 1);
	ans = apply(f, b, conf, &st);
	assert_int_equal(st, 200);
	assert_true(ac_bool(ans, "converged"));
	cycles = (int)ac_num(ans, "cycles", -1);
	cJSON_Delete(ans);
	free(b);
	assert_int_equal(ac_sim_count_of(&f->sim, room, "entities"), 1);
	return cycles;
}

static void
test_sighup_reload(void **state)
{
	struct fx	*f = *state;
	const char	*extra[] = { "--config", f->config, NULL };
	char		*log;
	int		 n, before;

	tu_write(f->tmp, "roomops.yaml", "max-kicks: 1\nlog-level: info\n"
	    "concurrency: 8\n");
	start(f, extra);
	/* max-kicks 1: three kicks take three cycles */
	n = kick_cycles(f, "room-sig-hup-1");
	assert_int_equal(n, 3);
	assert_int_equal(ac_audit_count(f->audit, "room-sig-hup-1", NULL), 4);
	assert_true(ac_file_count(f->a.log, "room room-sig-hup-1: applied") >=
	    1);

	/* live: max-kicks, log-level; needs a restart: concurrency */
	tu_write(f->tmp, "roomops.yaml", "max-kicks: 10\nlog-level: warn\n"
	    "concurrency: 2\nprune: true\n");
	ac_agent_signal(&f->a, SIGHUP);
	WAIT(f, ac_file_count(f->a.log, "reload: applied") == 1);
	/* prune is read by the sources at start: not claimed as applied */
	WAIT(f, ac_file_count(f->a.log, "reload: these changes need a "
	    "restart: prune, concurrency") == 1);
	log = ac_slurp(f->a.log);
	assert_true(tu_contains(strstr(log, "reload: applied"), "max-kicks"));
	assert_true(tu_contains(strstr(log, "reload: applied"), "log-level"));
	free(log);
	before = ac_file_count(f->a.log, "roomops info:");
	n = kick_cycles(f, "room-sig-hup-2");
	assert_int_equal(n, 1);
	/* warn: the info lines of those two applies are gone */
	assert_int_equal(ac_file_count(f->a.log, "roomops info:"), before);
	assert_int_equal(ac_file_count(f->a.log, "room room-sig-hup-2: "
	    "applied"), 0);

	/* a broken file: refused, the running configuration stays */
	tu_write(f->tmp, "roomops.yaml", "max-kicks: lots\n");
	ac_agent_signal(&f->a, SIGHUP);
	WAIT(f, ac_file_count(f->a.log, "reload refused") == 1);
	assert_true(ac_ready(&f->a));
	n = kick_cycles(f, "room-sig-hup-3");
	assert_int_equal(n, 1);
	assert_int_equal(ac_agent_stop(&f->a), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sigterm_drains, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sigint_idle, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sighup_reload, setup,
		    teardown),
	};

	ac_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
