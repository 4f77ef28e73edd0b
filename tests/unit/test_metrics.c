/*
 * test_metrics.c: the metric registry (agent/metrics.h): Prometheus text
 * format, histogram bucket math, and exact totals under concurrent
 * updates while another thread renders.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "testutil.h"

static char *
render(struct ro_metrics *m)
{
	struct ro_buf	out = RO_BUF_INIT;
	char		*s;

	assert_int_equal(ro_metrics_render(m, &out), RO_OK);
	s = ro_buf_detach(&out, NULL);
	assert_non_null(s);
	return s;
}

/* Value of the sample line starting with "key " (key includes labels);
 * fails the test when absent. */
static double
sample(const char *text, const char *key)
{
	const char	*p = text;
	size_t		 n = strlen(key);

	while (p != NULL && *p != '\0') {
		if (strncmp(p, key, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	fail_msg("no sample \"%s\" in:\n%s", key, text);
	return NAN;
}

static bool
family_type(const char *types, const char *name)
{
	char	 want[160];

	snprintf(want, sizeof(want), "\n%.150s\n", name);
	return strstr(types, want) != NULL;
}

/*
 * Every sample belongs to a family announced with HELP and TYPE before
 * it; histograms have _bucket (with le, ascending, cumulative, ending in
 * +Inf == _count), _sum and _count.
 */
static void
check_format(const char *text)
{
	char		 types[8192] = "\n", line[512], name[160], last[160] = "";
	const char	*p = text, *nl;
	double		 prev = -1, v;
	size_t		 len;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		assert_non_null(nl);		/* every line ends in \n */
		len = (size_t)(nl - p);
		assert_true(len > 0 && len < sizeof(line));
		memcpy(line, p, len);
		line[len] = '\0';
		p = nl + 1;
		if (strncmp(line, "# HELP ", 7) == 0) {
			assert_int_equal(sscanf(line + 7, "%159s", name), 1);
			assert_true(strlen(line) > 8 + strlen(name));
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			char type[32];

			assert_int_equal(sscanf(line + 7, "%159s %31s", name,
			    type), 2);
			assert_true(strcmp(type, "counter") == 0 ||
			    strcmp(type, "gauge") == 0 ||
			    strcmp(type, "histogram") == 0);
			assert_true(strlen(types) + strlen(name) + 2 <
			    sizeof(types));
			if (strcmp(type, "counter") == 0)
				assert_non_null(strstr(name, "_total"));
			if (strcmp(type, "histogram") == 0)
				assert_non_null(strstr(name, "_seconds"));
			len = strlen(types);
			snprintf(types + len, sizeof(types) - len, "%s\n",
			    name);
			continue;
		}
		assert_true(line[0] != '#');
		len = strcspn(line, "{ ");
		assert_true(len < sizeof(name));
		memcpy(name, line, len);
		name[len] = '\0';
		v = strtod(strrchr(line, ' ') + 1, NULL);
		assert_false(isnan(v));
		if (family_type(types, name))
			continue;
		/* a histogram series */
		if (len > 7 && strcmp(name + len - 7, "_bucket") == 0) {
			name[len - 7] = '\0';
			assert_true(family_type(types, name));
			if (strcmp(name, last) != 0) {
				snprintf(last, sizeof(last), "%s", name);
				prev = -1;
			}
			assert_non_null(strstr(line, "{le=\""));
			assert_true(v >= prev);		/* cumulative */
			prev = v;
			continue;
		}
		if (len > 4 && strcmp(name + len - 4, "_sum") == 0) {
			name[len - 4] = '\0';
			assert_true(family_type(types, name));
			continue;
		}
		assert_true(len > 6 && strcmp(name + len - 6, "_count") == 0);
		name[len - 6] = '\0';
		assert_true(family_type(types, name));
		assert_true(v == prev);		/* == the +Inf bucket */
	}
}

static void
test_render_empty(void **state)
{
	static const char *const families[] = {
		"room_operator_reconcile_attempts_total counter",
		"room_operator_reconcile_successes_total counter",
		"room_operator_reconcile_failures_total counter",
		"room_operator_reconcile_duration_seconds histogram",
		"room_operator_queued_requests gauge",
		"room_operator_active_reconciliations gauge",
		"roomops_detect_latency_seconds histogram",
		"roomops_fetch_bytes_total counter",
		"roomops_poll_duration_seconds histogram",
		"roomops_queue_depth gauge",
		"roomops_rooms gauge",
		"roomops_audit_write_errors_total counter",
		"roomops_webhooks_total counter",
	};
	struct ro_metrics	m;
	char			*text, want[160];
	size_t			 i;

	(void)state;
	ro_metrics_init(&m);
	text = render(&m);
	check_format(text);
	for (i = 0; i < RO_NELEM(families); i++) {
		snprintf(want, sizeof(want), "# TYPE %s\n", families[i]);
		assert_true(tu_contains(text, want));
	}
	assert_true(sample(text, "room_operator_reconcile_attempts_total") ==
	    0);
	assert_true(sample(text, "roomops_rooms{state=\"suspended\"}") == 0);
	assert_true(sample(text, "roomops_webhooks_total{source=\"gitea\","
	    "result=\"unauthorized\"}") == 0);
	assert_true(sample(text, "roomops_poll_duration_seconds_bucket"
	    "{le=\"+Inf\"}") == 0);
	assert_true(sample(text, "roomops_poll_duration_seconds_sum") == 0);
	/* HELP and TYPE once per family, even with labels */
	assert_int_equal(strstr(strstr(text, "# TYPE roomops_rooms ") + 1,
	    "# TYPE roomops_rooms ") == NULL, 1);
	free(text);
	ro_metrics_release(&m);
}

static void
test_histogram_math(void **state)
{
	struct ro_metrics	m;
	char			*text;
	const char		*h = "room_operator_reconcile_duration_seconds";
	char			 key[160];

	(void)state;
	ro_metrics_init(&m);
	ro_metrics_observe(&m, RO_M_RECONCILE_DURATION, 0.005); /* == le */
	ro_metrics_observe(&m, RO_M_RECONCILE_DURATION, 0.0051);
	ro_metrics_observe(&m, RO_M_RECONCILE_DURATION, 1000);	/* > top */
	ro_metrics_observe(&m, RO_M_RECONCILE_DURATION, -1);	/* as 0 */
	ro_metrics_observe(&m, RO_M_RECONCILE_DURATION, NAN);	/* ignored */
	ro_metrics_observe(&m, RO_M_RECONCILE_DURATION, 2.5);
	text = render(&m);
	check_format(text);
#define B(le)	(snprintf(key, sizeof(key), "%s_bucket{le=\"%s\"}", h, le), \
	    sample(text, key))
	assert_true(B("0.005") == 2);
	assert_true(B("0.01") == 3);
	assert_true(B("1") == 3);
	assert_true(B("2.5") == 4);
	assert_true(B("300") == 4);
	assert_true(B("+Inf") == 5);
#undef B
	snprintf(key, sizeof(key), "%s_count", h);
	assert_true(sample(text, key) == 5);
	snprintf(key, sizeof(key), "%s_sum", h);
	assert_true(fabs(sample(text, key) - 1002.5101) < 1e-9);
	/* other histograms untouched */
	assert_true(sample(text, "roomops_detect_latency_seconds_count") == 0);
	free(text);

	/* the sum is printed so that it reads back exactly */
	ro_metrics_observe(&m, RO_M_POLL_DURATION, 0.1);
	ro_metrics_observe(&m, RO_M_POLL_DURATION, 0.2);
	text = render(&m);
	assert_true(tu_contains(text, "roomops_poll_duration_seconds_sum "
	    "0.30000000000000004\n"));
	assert_true(tu_contains(text, "roomops_poll_duration_seconds_bucket"
	    "{le=\"0.001\"} 0\n"));
	free(text);
	ro_metrics_release(&m);
}

static void
test_reconcile_and_gauges(void **state)
{
	struct ro_metrics	m;
	char			*text;

	(void)state;
	ro_metrics_init(&m);
	ro_metrics_reconcile_begin(&m);
	ro_metrics_reconcile_begin(&m);
	ro_metrics_reconcile_begin(&m);
	assert_int_equal(ro_metrics_gauge(&m, RO_M_ACTIVE_RECONCILIATIONS), 3);
	ro_metrics_reconcile_done(&m, 0.2, true);
	ro_metrics_reconcile_done(&m, 0.3, true);
	ro_metrics_reconcile_done(&m, 7, false);
	ro_metrics_set_gauge(&m, RO_M_QUEUED_REQUESTS, 4);
	ro_metrics_set_gauge(&m, RO_M_QUEUE_DEPTH, 12);
	ro_metrics_set_gauge(&m, RO_M_ROOMS_PENDING, 5);
	ro_metrics_add_gauge(&m, RO_M_ROOMS_PENDING, -2);
	ro_metrics_set_gauge(&m, RO_M_ROOMS_BLOCKED, 1);
	ro_metrics_add(&m, RO_M_FETCH_BYTES, 4096);
	ro_metrics_add(&m, RO_M_FETCH_BYTES, 1);
	ro_metrics_add(&m, RO_M_AUDIT_WRITE_ERRORS, 1);
	text = render(&m);
	check_format(text);
	assert_true(sample(text, "room_operator_reconcile_attempts_total") ==
	    3);
	assert_true(sample(text, "room_operator_reconcile_successes_total") ==
	    2);
	assert_true(sample(text, "room_operator_reconcile_failures_total") ==
	    1);
	assert_true(sample(text, "room_operator_active_reconciliations") == 0);
	assert_true(sample(text, "room_operator_queued_requests") == 4);
	assert_true(sample(text,
	    "room_operator_reconcile_duration_seconds_count") == 3);
	assert_true(sample(text, "room_operator_reconcile_duration_seconds_"
	    "bucket{le=\"0.25\"}") == 1);
	assert_true(sample(text, "room_operator_reconcile_duration_seconds_"
	    "bucket{le=\"5\"}") == 2);
	assert_true(sample(text, "room_operator_reconcile_duration_seconds_"
	    "bucket{le=\"10\"}") == 3);
	assert_true(sample(text, "roomops_queue_depth") == 12);
	assert_true(sample(text, "roomops_rooms{state=\"pending\"}") == 3);
	assert_true(sample(text, "roomops_rooms{state=\"blocked\"}") == 1);
	assert_true(sample(text, "roomops_rooms{state=\"converged\"}") == 0);
	assert_true(sample(text, "roomops_fetch_bytes_total") == 4097);
	assert_true(sample(text, "roomops_audit_write_errors_total") == 1);
	free(text);
	ro_metrics_release(&m);
}

static void
test_webhooks(void **state)
{
	struct ro_metrics	m;
	char			*text;

	(void)state;
	ro_metrics_init(&m);
	ro_metrics_webhook(&m, "github", RO_M_HOOK_ACCEPTED);
	ro_metrics_webhook(&m, "github", RO_M_HOOK_ACCEPTED);
	ro_metrics_webhook(&m, "gitlab", RO_M_HOOK_UNAUTHORIZED);
	ro_metrics_webhook(&m, "generic", RO_M_HOOK_RATE_LIMITED);
	ro_metrics_webhook(&m, "bitbucket", RO_M_HOOK_ACCEPTED); /* ignored */
	ro_metrics_webhook(&m, NULL, RO_M_HOOK_ACCEPTED);
	assert_int_equal(ro_metrics_webhooks(&m, "github",
	    RO_M_HOOK_ACCEPTED), 2);
	assert_int_equal(ro_metrics_webhooks(&m, "bitbucket",
	    RO_M_HOOK_ACCEPTED), 0);
	text = render(&m);
	check_format(text);
	assert_true(sample(text, "roomops_webhooks_total{source=\"github\","
	    "result=\"accepted\"}") == 2);
	assert_true(sample(text, "roomops_webhooks_total{source=\"gitlab\","
	    "result=\"unauthorized\"}") == 1);
	assert_true(sample(text, "roomops_webhooks_total{source=\"generic\","
	    "result=\"rate_limited\"}") == 1);
	assert_true(sample(text, "roomops_webhooks_total{source=\"gitea\","
	    "result=\"accepted\"}") == 0);
	free(text);
	ro_metrics_release(&m);
}

static void
test_render_limit(void **state)
{
	struct ro_metrics	m;
	struct ro_buf		out = RO_BUF_INIT;

	(void)state;
	ro_metrics_init(&m);
	ro_buf_init(&out, 512);
	assert_int_equal(ro_metrics_render(&m, &out), RO_ETOOBIG);
	assert_true(out.len <= 512);
	ro_buf_release(&out);
	ro_metrics_release(&m);
}

#define NTHREADS	8
#define NITER		20000

struct race {
	struct ro_metrics	*m;
	_Atomic int		 running;
	int			 renders;
};

static void *
updater(void *arg)
{
	struct race	*r = arg;
	int		 i;

	for (i = 0; i < NITER; i++) {
		ro_metrics_reconcile_begin(r->m);
		ro_metrics_add(r->m, RO_M_FETCH_BYTES, 3);
		ro_metrics_add_gauge(r->m, RO_M_QUEUE_DEPTH, 1);
		ro_metrics_observe(r->m, RO_M_DETECT_LATENCY,
		    (double)(i % 8) * 0.25);	/* exact in binary */
		ro_metrics_webhook(r->m, "gitea", RO_M_HOOK_ACCEPTED);
		ro_metrics_add_gauge(r->m, RO_M_QUEUE_DEPTH, -1);
		ro_metrics_reconcile_done(r->m, 0.001, i % 2 == 0);
	}
	r->running--;
	return NULL;
}

static void *
renderer(void *arg)
{
	struct race	*r = arg;
	char		*text;
	int		 n;

	/* bounded: stops when the updaters are done, or after 100000 */
	for (n = 0; n < 100000 && r->running > 0; n++) {
		text = render(r->m);
		check_format(text);	/* cumulative, +Inf == count */
		free(text);
	}
	r->renders = n;
	return NULL;
}

static void
test_concurrent_updates(void **state)
{
	struct ro_metrics	m;
	struct race		r;
	pthread_t		t[NTHREADS], rt;
	char			*text;
	double			 want_sum;
	int			 i;

	(void)state;
	ro_metrics_init(&m);
	r.m = &m;
	r.running = NTHREADS;
	r.renders = 0;
	assert_int_equal(pthread_create(&rt, NULL, renderer, &r), 0);
	for (i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, updater, &r), 0);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	pthread_join(rt, NULL);
	assert_true(r.renders > 0);

	assert_int_equal(ro_metrics_counter(&m, RO_M_RECONCILE_ATTEMPTS),
	    NTHREADS * NITER);
	assert_int_equal(ro_metrics_counter(&m, RO_M_RECONCILE_SUCCESSES),
	    NTHREADS * NITER / 2);
	assert_int_equal(ro_metrics_counter(&m, RO_M_RECONCILE_FAILURES),
	    NTHREADS * NITER / 2);
	assert_int_equal(ro_metrics_counter(&m, RO_M_FETCH_BYTES),
	    3 * NTHREADS * NITER);
	assert_int_equal(ro_metrics_gauge(&m, RO_M_QUEUE_DEPTH), 0);
	assert_int_equal(ro_metrics_gauge(&m, RO_M_ACTIVE_RECONCILIATIONS), 0);
	assert_int_equal(ro_metrics_webhooks(&m, "gitea", RO_M_HOOK_ACCEPTED),
	    NTHREADS * NITER);
	text = render(&m);
	check_format(text);
	assert_true(sample(text, "roomops_detect_latency_seconds_count") ==
	    NTHREADS * NITER);
	/* values 0, 0.25 ... 1.75, NITER / 8 times each per thread */
	want_sum = 7.0 * NTHREADS * NITER / 8;
	assert_true(sample(text, "roomops_detect_latency_seconds_sum") ==
	    want_sum);
	/* 0 goes to le=0.001; 0.25 to le=0.25; 0.5 to 0.5; 0.75 and 1 to 1 */
	assert_true(sample(text, "roomops_detect_latency_seconds_bucket"
	    "{le=\"0.001\"}") == NTHREADS * NITER / 8);
	assert_true(sample(text, "roomops_detect_latency_seconds_bucket"
	    "{le=\"1\"}") == 5 * NTHREADS * NITER / 8);
	assert_true(sample(text, "roomops_detect_latency_seconds_bucket"
	    "{le=\"2.5\"}") == NTHREADS * NITER);
	free(text);
	ro_metrics_release(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_empty),
		cmocka_unit_test(test_histogram_math),
		cmocka_unit_test(test_reconcile_and_gauges),
		cmocka_unit_test(test_webhooks),
		cmocka_unit_test(test_render_limit),
		cmocka_unit_test(test_concurrent_updates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
