/*
 * notify_impl.h: the commit-status notifier's state, shared by notify.c
 * (the queue, its thread, retries, the marker) and notify_send.c (one
 * request to one host). Internal to those files.
 *
 * Thread rules: the queue's fields are under mu; the rest belongs to the
 * notify thread (the curl handle, the targets' logged-once flags).
 */
#ifndef RO_NOTIFY_IMPL_H
#define RO_NOTIFY_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>

#include "notify.h"

#define NOTIFY_REASON_MAX	200	/* bytes of a host's reason logged */
#define NOTIFY_RESP_MAX		(16u << 10)	/* bytes of a response kept */

/* One status for every provider. */
struct item {
	char			*sha;
	enum ro_notify_state	 state;
	char			*desc;
	char			*target_url;
	char			*records;	/* webhook: JSON array */
	uint64_t		 seq;
};

struct target {
	struct ro_notify_target	 t;
	char			*base;
	char			*repo;
	char			*token;
	bool			 logged[100];	/* 4xx logged once */
	bool			 failing;	/* retrying since the last
						   success (logged once) */
};

struct ro_notify {
	struct target		 tg[RO_NOTIFY_PROVIDER_MAX];
	size_t			 ntg;
	char			 context[RO_NOTIFY_CONTEXT_MAX];
	char			 shard_str[RO_SHARD_STR_MAX];
	char			 shard_url[RO_SHARD_STR_MAX + 8];
	char			*target_url;
	char			*marker;	/* STATE_DIR/notify.json */
	struct ro_metrics	*metrics;
	long			 backoff_ms;
	CURL			*curl;
	pthread_t		 tid;
	bool			 started;
	/* under mu */
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;	/* CLOCK_MONOTONIC */
	struct item		*q;	/* ring */
	size_t			 qcap, qhead, qlen;
	uint64_t		 seq;
	uint64_t		 dropped;
	bool			 stop;
	long long		 drain_until;	/* stop: deliver until */
	/* notify thread only */
	uint64_t		 marked;	/* seq in the marker, 0 none */
};


/* The outcome of one request. */
enum ro_notify_result {
	RO_NOTIFY_DELIVERED,
	RO_NOTIFY_PERMANENT,	/* 4xx but 429, or a request we cannot build */
	RO_NOTIFY_RETRY
};

/* notify.c: stopped, and the time to drain the queue is over? */
bool	ro_notify_stopping(struct ro_notify *n);

/*
 * notify_send.c: send it to tg once (bounded by the curl timeouts and
 * ro_notify_stopping()); 4xx other than 429 (and rate-limit 403s) is
 * permanent, logged once per provider and status.
 */
enum ro_notify_result ro_notify_send(struct ro_notify *n, struct target *tg, const struct item *it, long *retry_after_ms);

#endif
