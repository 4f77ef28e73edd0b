/* metrics.c: the metric registry and its Prometheus text rendering. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/err.h"
#include "roomops/log.h"
#include "metrics.h"

#include "../common/banned.h"

struct family {
	const char	*name;
	const char	*help;
};

static const struct family counters[RO_M_COUNTER_MAX] = {
	[RO_M_RECONCILE_ATTEMPTS] = { "room_operator_reconcile_attempts_total",
	    "Reconcile cycles started." },
	[RO_M_RECONCILE_SUCCESSES] = {
	    "room_operator_reconcile_successes_total",
	    "Reconcile cycles that ended converged or applied." },
	[RO_M_RECONCILE_FAILURES] = { "room_operator_reconcile_failures_total",
	    "Reconcile cycles that failed, partly or wholly." },
	[RO_M_FETCH_BYTES] = { "roomops_fetch_bytes_total",
	    "Bytes received by Git fetches." },
	[RO_M_AUDIT_WRITE_ERRORS] = { "roomops_audit_write_errors_total",
	    "Audit records that could not be written." },
};

/* Gauges sharing a family carry a label; the first of a family prints
 * HELP and TYPE. */
struct gauge_desc {
	const char	*name;
	const char	*help;
	const char	*label;		/* e.g. state="converged", or NULL */
};

static const struct gauge_desc gauges[RO_M_GAUGE_MAX] = {
	[RO_M_QUEUED_REQUESTS] = { "room_operator_queued_requests",
	    "Reconcile requests waiting for a worker.", NULL },
	[RO_M_ACTIVE_RECONCILIATIONS] = {
	    "room_operator_active_reconciliations",
	    "Reconcile cycles running now.", NULL },
	[RO_M_QUEUE_DEPTH] = { "roomops_queue_depth",
	    "Rooms queued for reconciliation.", NULL },
	[RO_M_ROOMS_CONVERGED] = { "roomops_rooms",
	    "Rooms by reconcile state.", "state=\"converged\"" },
	[RO_M_ROOMS_PENDING] = { "roomops_rooms", NULL, "state=\"pending\"" },
	[RO_M_ROOMS_FAILED] = { "roomops_rooms", NULL, "state=\"failed\"" },
	[RO_M_ROOMS_BLOCKED] = { "roomops_rooms", NULL, "state=\"blocked\"" },
	[RO_M_ROOMS_SUSPENDED] = { "roomops_rooms", NULL,
	    "state=\"suspended\"" },
	[RO_M_NOTIFY_QUEUE_DEPTH] = { "roomops_notify_queue_depth",
	    "Commit statuses waiting for delivery.", NULL },
	[RO_M_NOTIFY_LAST_SUCCESS] = {
	    "roomops_notify_last_success_timestamp_seconds",
	    "Unix time of the last commit status delivered (0: never).",
	    NULL },
};

struct hist_desc {
	const char	*name;
	const char	*help;
	const double	*le;		/* ascending upper bounds, seconds */
	size_t		 n;
};

static const double reconcile_le[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
    0.5, 1, 2.5, 5, 10, 30, 60, 120, 300 };
static const double detect_le[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60 };
static const double poll_le[] = { 0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25, 0.5, 1, 2.5, 5, 10, 30 };

static const struct hist_desc hists[RO_M_HIST_MAX] = {
	[RO_M_RECONCILE_DURATION] = {
	    "room_operator_reconcile_duration_seconds",
	    "Duration of one reconcile cycle.",
	    reconcile_le, RO_NELEM(reconcile_le) },
	[RO_M_DETECT_LATENCY] = { "roomops_detect_latency_seconds",
	    "From a change being detected to its room converged.",
	    detect_le, RO_NELEM(detect_le) },
	[RO_M_POLL_DURATION] = { "roomops_poll_duration_seconds",
	    "Duration of one poll of the Git source.",
	    poll_le, RO_NELEM(poll_le) },
};

static const char *const hook_sources[RO_METRICS_HOOK_SOURCE_MAX] =
    RO_METRICS_HOOK_SOURCES;

static const char *const hook_results[RO_M_HOOK_RESULT_MAX] = {
	[RO_M_HOOK_ACCEPTED] = "accepted",
	[RO_M_HOOK_IGNORED] = "ignored",
	[RO_M_HOOK_UNAUTHORIZED] = "unauthorized",
	[RO_M_HOOK_RATE_LIMITED] = "rate_limited",
	[RO_M_HOOK_TOO_LARGE] = "too_large",
	[RO_M_HOOK_DISABLED] = "disabled",
	[RO_M_HOOK_FAILED] = "failed",
};

static const char *const notify_providers[RO_METRICS_NOTIFY_PROVIDER_MAX] =
    RO_METRICS_NOTIFY_PROVIDERS;

static const char *const notify_results[RO_M_NOTIFY_RESULT_MAX] = {
	[RO_M_NOTIFY_SUCCESS] = "success",
	[RO_M_NOTIFY_RETRY] = "retry",
	[RO_M_NOTIFY_REJECTED] = "rejected",
	[RO_M_NOTIFY_DROPPED] = "dropped",
	[RO_M_NOTIFY_ABANDONED] = "abandoned",
};

void
ro_metrics_notify(struct ro_metrics *m, unsigned provider,
    enum ro_metrics_notify_result result)
{
	if (m == NULL || provider >= RO_METRICS_NOTIFY_PROVIDER_MAX ||
	    (unsigned)result >= RO_M_NOTIFY_RESULT_MAX)
		return;
	atomic_fetch_add_explicit(&m->notify[provider][result], 1,
	    memory_order_relaxed);
}

uint64_t
ro_metrics_notifies(struct ro_metrics *m, unsigned provider,
    enum ro_metrics_notify_result result)
{
	if (provider >= RO_METRICS_NOTIFY_PROVIDER_MAX ||
	    (unsigned)result >= RO_M_NOTIFY_RESULT_MAX)
		return 0;
	return atomic_load_explicit(&m->notify[provider][result],
	    memory_order_relaxed);
}

static int	family_head(struct ro_buf *, const char *, const char *,
		    const char *);

static int
render_notify(struct ro_metrics *m, struct ro_buf *out)
{
	static const char	name[] = "roomops_notify_total";
	size_t			i, j;
	int			error;

	if ((error = family_head(out, name, "Commit status deliveries by "
	    "provider and result.", "counter")) < 0)
		return error;
	for (i = 0; i < RO_METRICS_NOTIFY_PROVIDER_MAX; i++)
		for (j = 0; j < RO_M_NOTIFY_RESULT_MAX; j++)
			if ((error = ro_buf_printf(out, "%s{provider=\"%s\","
			    "result=\"%s\"} %llu\n", name, notify_providers[i],
			    notify_results[j], (unsigned long long)
			    atomic_load_explicit(&m->notify[i][j],
			    memory_order_relaxed))) < 0)
				return error;
	return RO_OK;
}

void
ro_metrics_init(struct ro_metrics *m)
{
	size_t	i, j;

	for (i = 0; i < RO_M_COUNTER_MAX; i++)
		atomic_init(&m->counter[i], 0);
	for (i = 0; i < RO_M_GAUGE_MAX; i++)
		atomic_init(&m->gauge[i], 0);
	for (i = 0; i < RO_METRICS_HOOK_SOURCE_MAX; i++)
		for (j = 0; j < RO_M_HOOK_RESULT_MAX; j++)
			atomic_init(&m->hook[i][j], 0);
	for (i = 0; i < RO_METRICS_NOTIFY_PROVIDER_MAX; i++)
		for (j = 0; j < RO_M_NOTIFY_RESULT_MAX; j++)
			atomic_init(&m->notify[i][j], 0);
	for (i = 0; i < RO_M_HIST_MAX; i++) {
		RO_ASSERT(hists[i].n <= RO_METRICS_BUCKETS_MAX);
		memset(m->hist[i].bucket, 0, sizeof(m->hist[i].bucket));
		m->hist[i].count = 0;
		m->hist[i].sum = 0;
		if (pthread_mutex_init(&m->hist[i].mu, NULL) != 0)
			fatalx("metrics: cannot initialise a mutex");
	}
}

void
ro_metrics_release(struct ro_metrics *m)
{
	size_t	i;

	for (i = 0; i < RO_M_HIST_MAX; i++)
		pthread_mutex_destroy(&m->hist[i].mu);
}

void
ro_metrics_add(struct ro_metrics *m, enum ro_metrics_counter c, uint64_t n)
{
	RO_ASSERT(c < RO_M_COUNTER_MAX);
	atomic_fetch_add_explicit(&m->counter[c], n, memory_order_relaxed);
}

uint64_t
ro_metrics_counter(struct ro_metrics *m, enum ro_metrics_counter c)
{
	RO_ASSERT(c < RO_M_COUNTER_MAX);
	return atomic_load_explicit(&m->counter[c], memory_order_relaxed);
}

void
ro_metrics_set_gauge(struct ro_metrics *m, enum ro_metrics_gauge g, int64_t v)
{
	RO_ASSERT(g < RO_M_GAUGE_MAX);
	atomic_store_explicit(&m->gauge[g], v, memory_order_relaxed);
}

void
ro_metrics_add_gauge(struct ro_metrics *m, enum ro_metrics_gauge g,
    int64_t delta)
{
	RO_ASSERT(g < RO_M_GAUGE_MAX);
	atomic_fetch_add_explicit(&m->gauge[g], delta, memory_order_relaxed);
}

int64_t
ro_metrics_gauge(struct ro_metrics *m, enum ro_metrics_gauge g)
{
	RO_ASSERT(g < RO_M_GAUGE_MAX);
	return atomic_load_explicit(&m->gauge[g], memory_order_relaxed);
}

void
ro_metrics_observe(struct ro_metrics *m, enum ro_metrics_hist h,
    double seconds)
{
	const struct hist_desc		*d;
	struct ro_metrics_hist_data	*hd;
	size_t				 i;

	RO_ASSERT(h < RO_M_HIST_MAX);
	if (isnan(seconds))
		return;
	if (seconds < 0)
		seconds = 0;
	d = &hists[h];
	hd = &m->hist[h];
	for (i = 0; i < d->n; i++)
		if (seconds <= d->le[i])
			break;
	pthread_mutex_lock(&hd->mu);
	hd->bucket[i]++;
	hd->count++;
	hd->sum += seconds;
	pthread_mutex_unlock(&hd->mu);
}

void
ro_metrics_reconcile_begin(struct ro_metrics *m)
{
	ro_metrics_add(m, RO_M_RECONCILE_ATTEMPTS, 1);
	ro_metrics_add_gauge(m, RO_M_ACTIVE_RECONCILIATIONS, 1);
}

void
ro_metrics_reconcile_done(struct ro_metrics *m, double seconds, bool success)
{
	ro_metrics_add_gauge(m, RO_M_ACTIVE_RECONCILIATIONS, -1);
	ro_metrics_add(m, success ? RO_M_RECONCILE_SUCCESSES :
	    RO_M_RECONCILE_FAILURES, 1);
	ro_metrics_observe(m, RO_M_RECONCILE_DURATION, seconds);
}

static int
hook_source_index(const char *source)
{
	size_t	i;

	if (source == NULL)
		return -1;
	for (i = 0; i < RO_METRICS_HOOK_SOURCE_MAX; i++)
		if (strcmp(source, hook_sources[i]) == 0)
			return (int)i;
	return -1;
}

void
ro_metrics_webhook(struct ro_metrics *m, const char *source,
    enum ro_metrics_hook_result result)
{
	int	i;

	RO_ASSERT(result < RO_M_HOOK_RESULT_MAX);
	if ((i = hook_source_index(source)) < 0)
		return;
	atomic_fetch_add_explicit(&m->hook[i][result], 1,
	    memory_order_relaxed);
}

uint64_t
ro_metrics_webhooks(struct ro_metrics *m, const char *source,
    enum ro_metrics_hook_result result)
{
	int	i;

	RO_ASSERT(result < RO_M_HOOK_RESULT_MAX);
	if ((i = hook_source_index(source)) < 0)
		return 0;
	return atomic_load_explicit(&m->hook[i][result],
	    memory_order_relaxed);
}

/* Shortest of %.15g / %.17g that reads back as v; "+Inf" for infinity. */
static void
fmt_double(char *buf, size_t len, double v)
{
	if (isinf(v)) {
		snprintf(buf, len, "%s", v > 0 ? "+Inf" : "-Inf");
		return;
	}
	snprintf(buf, len, "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, len, "%.17g", v);
}

static int
family_head(struct ro_buf *out, const char *name, const char *help,
    const char *type)
{
	return ro_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

static int
render_hist(struct ro_metrics *m, enum ro_metrics_hist h, struct ro_buf *out)
{
	const struct hist_desc		*d = &hists[h];
	struct ro_metrics_hist_data	*hd = &m->hist[h];
	uint64_t			 bucket[RO_METRICS_BUCKETS_MAX + 1];
	uint64_t			 count, cum = 0;
	double				 sum;
	char				 num[40];
	size_t				 i;
	int				 error;

	pthread_mutex_lock(&hd->mu);
	memcpy(bucket, hd->bucket, sizeof(bucket));
	count = hd->count;
	sum = hd->sum;
	pthread_mutex_unlock(&hd->mu);

	if ((error = family_head(out, d->name, d->help, "histogram")) < 0)
		return error;
	for (i = 0; i < d->n; i++) {
		cum += bucket[i];
		fmt_double(num, sizeof(num), d->le[i]);
		if ((error = ro_buf_printf(out, "%s_bucket{le=\"%s\"} %llu\n",
		    d->name, num, (unsigned long long)cum)) < 0)
			return error;
	}
	cum += bucket[d->n];
	RO_ASSERT(cum == count);
	fmt_double(num, sizeof(num), sum);
	return ro_buf_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n"
	    "%s_sum %s\n%s_count %llu\n", d->name, (unsigned long long)cum,
	    d->name, num, d->name, (unsigned long long)count);
}

static int
render_counter(struct ro_metrics *m, enum ro_metrics_counter c,
    struct ro_buf *out)
{
	int	error;

	if ((error = family_head(out, counters[c].name, counters[c].help,
	    "counter")) < 0)
		return error;
	return ro_buf_printf(out, "%s %llu\n", counters[c].name,
	    (unsigned long long)ro_metrics_counter(m, c));
}

static int
render_gauge(struct ro_metrics *m, enum ro_metrics_gauge g, struct ro_buf *out)
{
	const struct gauge_desc	*d = &gauges[g];
	int			 error;

	if (d->help != NULL &&
	    (error = family_head(out, d->name, d->help, "gauge")) < 0)
		return error;
	if (d->label != NULL)
		return ro_buf_printf(out, "%s{%s} %lld\n", d->name, d->label,
		    (long long)ro_metrics_gauge(m, g));
	return ro_buf_printf(out, "%s %lld\n", d->name,
	    (long long)ro_metrics_gauge(m, g));
}

static int
render_hooks(struct ro_metrics *m, struct ro_buf *out)
{
	static const char	name[] = "roomops_webhooks_total";
	size_t			i, j;
	int			error;

	if ((error = family_head(out, name, "Webhook requests by source and "
	    "result.", "counter")) < 0)
		return error;
	for (i = 0; i < RO_METRICS_HOOK_SOURCE_MAX; i++)
		for (j = 0; j < RO_M_HOOK_RESULT_MAX; j++)
			if ((error = ro_buf_printf(out, "%s{source=\"%s\","
			    "result=\"%s\"} %llu\n", name, hook_sources[i],
			    hook_results[j], (unsigned long long)
			    atomic_load_explicit(&m->hook[i][j],
			    memory_order_relaxed))) < 0)
				return error;
	return RO_OK;
}

int
ro_metrics_render(struct ro_metrics *m, struct ro_buf *out)
{
	int	error;

	/* The six RoomOperator series first, in its order. */
	if ((error = render_counter(m, RO_M_RECONCILE_ATTEMPTS, out)) < 0 ||
	    (error = render_counter(m, RO_M_RECONCILE_SUCCESSES, out)) < 0 ||
	    (error = render_counter(m, RO_M_RECONCILE_FAILURES, out)) < 0 ||
	    (error = render_hist(m, RO_M_RECONCILE_DURATION, out)) < 0 ||
	    (error = render_gauge(m, RO_M_QUEUED_REQUESTS, out)) < 0 ||
	    (error = render_gauge(m, RO_M_ACTIVE_RECONCILIATIONS, out)) < 0)
		return error;
	if ((error = render_hist(m, RO_M_DETECT_LATENCY, out)) < 0 ||
	    (error = render_counter(m, RO_M_FETCH_BYTES, out)) < 0 ||
	    (error = render_hist(m, RO_M_POLL_DURATION, out)) < 0 ||
	    (error = render_gauge(m, RO_M_QUEUE_DEPTH, out)) < 0 ||
	    (error = render_gauge(m, RO_M_ROOMS_CONVERGED, out)) < 0 ||
	    (error = render_gauge(m, RO_M_ROOMS_PENDING, out)) < 0 ||
	    (error = render_gauge(m, RO_M_ROOMS_FAILED, out)) < 0 ||
	    (error = render_gauge(m, RO_M_ROOMS_BLOCKED, out)) < 0 ||
	    (error = render_gauge(m, RO_M_ROOMS_SUSPENDED, out)) < 0 ||
	    (error = render_counter(m, RO_M_AUDIT_WRITE_ERRORS, out)) < 0 ||
	    (error = render_hooks(m, out)) < 0 ||
	    (error = render_notify(m, out)) < 0 ||
	    (error = render_gauge(m, RO_M_NOTIFY_QUEUE_DEPTH, out)) < 0 ||
	    (error = render_gauge(m, RO_M_NOTIFY_LAST_SUCCESS, out)) < 0)
		return error;
	return RO_OK;
}
