/*
 * metrics.h: the agent's metric registry, rendered as Prometheus text
 * (exposition format 0.0.4) for GET /metrics.
 *
 * Units are in the names: *_seconds are durations in seconds, *_bytes
 * sizes in bytes, *_total monotonic counters. Counters and gauges are
 * C11 atomics (relaxed: each value is exact, a render is not a snapshot
 * across series); each histogram has its own mutex, so that a render
 * always sees count == +Inf bucket == sum of the buckets.
 *
 * Thread-safe: every function may be called from any thread once
 * ro_metrics_init() returned, until ro_metrics_release().
 *
 * Series (HELP and TYPE lines are rendered for every family):
 *   room_operator_reconcile_attempts_total      counter
 *   room_operator_reconcile_successes_total     counter
 *   room_operator_reconcile_failures_total      counter
 *   room_operator_reconcile_duration_seconds    histogram
 *   room_operator_queued_requests               gauge
 *   room_operator_active_reconciliations        gauge
 *   roomops_detect_latency_seconds              histogram (change seen ->
 *                                               room converged)
 *   roomops_fetch_bytes_total                   counter
 *   roomops_poll_duration_seconds               histogram
 *   roomops_queue_depth                         gauge
 *   roomops_rooms{state}                        gauge, state = converged|
 *                                               pending|failed|blocked|
 *                                               suspended
 *   roomops_audit_write_errors_total            counter
 *   roomops_webhooks_total{source,result}       counter
 *   roomops_notify_total{provider,result}       counter (commit statuses)
 *   roomops_notify_queue_depth                  gauge
 *   roomops_notify_last_success_timestamp_seconds gauge (Unix time, 0 never)
 */
#ifndef RO_METRICS_H
#define RO_METRICS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roomops/buf.h"

enum ro_metrics_counter {
	RO_M_RECONCILE_ATTEMPTS,	/* room_operator_reconcile_attempts_total */
	RO_M_RECONCILE_SUCCESSES,	/* ..._successes_total */
	RO_M_RECONCILE_FAILURES,	/* ..._failures_total */
	RO_M_FETCH_BYTES,		/* roomops_fetch_bytes_total */
	RO_M_AUDIT_WRITE_ERRORS,	/* roomops_audit_write_errors_total */
	RO_M_COUNTER_MAX
};

enum ro_metrics_gauge {
	RO_M_QUEUED_REQUESTS,		/* room_operator_queued_requests */
	RO_M_ACTIVE_RECONCILIATIONS,	/* room_operator_active_reconciliations */
	RO_M_QUEUE_DEPTH,		/* roomops_queue_depth */
	RO_M_ROOMS_CONVERGED,		/* roomops_rooms{state="converged"} */
	RO_M_ROOMS_PENDING,		/* ...{state="pending"} */
	RO_M_ROOMS_FAILED,		/* ...{state="failed"} */
	RO_M_ROOMS_BLOCKED,		/* ...{state="blocked"} */
	RO_M_ROOMS_SUSPENDED,		/* ...{state="suspended"} */
	RO_M_NOTIFY_QUEUE_DEPTH,	/* roomops_notify_queue_depth */
	RO_M_NOTIFY_LAST_SUCCESS,	/* ..._last_success_timestamp_seconds */
	RO_M_GAUGE_MAX
};

enum ro_metrics_hist {
	RO_M_RECONCILE_DURATION,	/* room_operator_reconcile_duration_seconds */
	RO_M_DETECT_LATENCY,		/* roomops_detect_latency_seconds */
	RO_M_POLL_DURATION,		/* roomops_poll_duration_seconds */
	RO_M_HIST_MAX
};

/* The "result" label of roomops_webhooks_total. */
enum ro_metrics_hook_result {
	RO_M_HOOK_ACCEPTED,		/* authenticated, handed to the core */
	RO_M_HOOK_IGNORED,		/* authenticated, nothing to do (ping) */
	RO_M_HOOK_UNAUTHORIZED,		/* missing or wrong signature/token */
	RO_M_HOOK_RATE_LIMITED,		/* 429 */
	RO_M_HOOK_TOO_LARGE,		/* 413 */
	RO_M_HOOK_DISABLED,		/* no webhook secret configured */
	RO_M_HOOK_FAILED,		/* the core refused it */
	RO_M_HOOK_RESULT_MAX
};

/* Sources of the "source" label, in this order. */
#define RO_METRICS_HOOK_SOURCES	{ "github", "gitlab", "gitea", "generic" }
#define RO_METRICS_HOOK_SOURCE_MAX	4

/* The "result" label of roomops_notify_total. */
enum ro_metrics_notify_result {
	RO_M_NOTIFY_SUCCESS,		/* 2xx */
	RO_M_NOTIFY_RETRY,		/* transport error, 429 or 5xx: retried */
	RO_M_NOTIFY_REJECTED,		/* other 4xx: not retried */
	RO_M_NOTIFY_DROPPED,		/* queue full: oldest dropped */
	RO_M_NOTIFY_ABANDONED,		/* retries exhausted */
	RO_M_NOTIFY_RESULT_MAX
};

/* Providers of the "provider" label, in this order (notify.h). */
#define RO_METRICS_NOTIFY_PROVIDERS	{ "github", "gitlab", "gitea", \
	"webhook" }
#define RO_METRICS_NOTIFY_PROVIDER_MAX	4

#define RO_METRICS_BUCKETS_MAX	16	/* finite buckets per histogram */

struct ro_metrics_hist_data {
	pthread_mutex_t	 mu;
	uint64_t	 bucket[RO_METRICS_BUCKETS_MAX + 1]; /* last: > top */
	uint64_t	 count;
	double		 sum;		/* seconds */
};

/* Caller-owned; set up with ro_metrics_init(). Do not touch the fields. */
struct ro_metrics {
	_Atomic uint64_t	counter[RO_M_COUNTER_MAX];
	_Atomic int64_t		gauge[RO_M_GAUGE_MAX];
	_Atomic uint64_t	hook[RO_METRICS_HOOK_SOURCE_MAX]
				    [RO_M_HOOK_RESULT_MAX];
	_Atomic uint64_t	notify[RO_METRICS_NOTIFY_PROVIDER_MAX]
				    [RO_M_NOTIFY_RESULT_MAX];
	struct ro_metrics_hist_data hist[RO_M_HIST_MAX];
};

/* Every value 0. Cannot fail (aborts only if a mutex cannot be set up). */
void	ro_metrics_init(struct ro_metrics *m);
/* Free what init set up; m may be initialised again. */
void	ro_metrics_release(struct ro_metrics *m);

void	ro_metrics_add(struct ro_metrics *m, enum ro_metrics_counter c,
	    uint64_t n);
uint64_t ro_metrics_counter(struct ro_metrics *m, enum ro_metrics_counter c);

void	ro_metrics_set_gauge(struct ro_metrics *m, enum ro_metrics_gauge g,
	    int64_t v);
void	ro_metrics_add_gauge(struct ro_metrics *m, enum ro_metrics_gauge g,
	    int64_t delta);
int64_t	ro_metrics_gauge(struct ro_metrics *m, enum ro_metrics_gauge g);

/*
 * Record one observation in seconds. The bucket is the first whose upper
 * bound ("le") is >= seconds. NaN is ignored; a negative value (a clock
 * step) counts as 0.
 */
void	ro_metrics_observe(struct ro_metrics *m, enum ro_metrics_hist h,
	    double seconds);

/*
 * One reconcile cycle: begin counts an attempt and an active
 * reconciliation; done ends it (active - 1, success or failure + 1,
 * duration observed). Call them in pairs.
 */
void	ro_metrics_reconcile_begin(struct ro_metrics *m);
void	ro_metrics_reconcile_done(struct ro_metrics *m, double seconds,
	    bool success);

/* One webhook request from source ("github", "gitlab", "gitea" or
 * "generic"; any other name is not counted). */
void	ro_metrics_webhook(struct ro_metrics *m, const char *source,
	    enum ro_metrics_hook_result result);
uint64_t ro_metrics_webhooks(struct ro_metrics *m, const char *source,
	    enum ro_metrics_hook_result result);

/* One commit status delivery attempt (provider: index in
 * RO_METRICS_NOTIFY_PROVIDERS; out of range is not counted). */
void	ro_metrics_notify(struct ro_metrics *m, unsigned provider,
	    enum ro_metrics_notify_result result);
uint64_t ro_metrics_notifies(struct ro_metrics *m, unsigned provider,
	    enum ro_metrics_notify_result result);

/*
 * Append every series as Prometheus text to out.
 * @return RO_OK, RO_ETOOBIG (out's limit) or RO_ENOMEM
 */
int	ro_metrics_render(struct ro_metrics *m, struct ro_buf *out);

#endif
