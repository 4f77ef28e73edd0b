/*
 * apisse.c: GET /events, Server-Sent Events of audit records.
 *
 * Each subscriber has a bounded queue (RO_API_SSE_QUEUE_MAX); a record is
 * framed once and appended to every queue; a subscriber whose queue would
 * overflow is dropped, so a slow reader never holds up the publisher.
 * MHD pulls from the queue through sse_read(); an empty queue suspends
 * the connection until the next record, the ticker's ping (every
 * RO_API_SSE_PING_S) or the stop resumes it. Lock: api->sse_mu.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "roomops/log.h"
#include "api_impl.h"

#include "../common/banned.h"

/* Append bytes to a subscriber's queue, under sse_mu; drop it when it
 * is full. Wakes it when suspended. */
static void
sub_push(struct sub *s, const char *p, size_t n)
{
	struct ro_buf	*q = &s->q;

	if (s->dropped)
		return;
	if (s->qoff > 0) {
		memmove(q->ptr, q->ptr + s->qoff, q->len - s->qoff);
		q->len -= s->qoff;
		q->ptr[q->len] = '\0';
		s->qoff = 0;
	}
	if (ro_buf_add(q, p, n) < 0) {
		s->dropped = true;
		ro_buf_release(q);
		log_warnx("api: /events subscriber too slow (%u bytes "
		    "queued), dropped", RO_API_SSE_QUEUE_MAX);
	}
	if (s->suspended) {
		s->suspended = false;
		MHD_resume_connection(s->conn);
	}
}

static ssize_t
sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sub	*s = cls;
	struct ro_api	*api = s->api;
	ssize_t		 n;

	pthread_mutex_lock(&api->sse_mu);
	if (s->dropped)
		n = MHD_CONTENT_READER_END_WITH_ERROR;
	else if (s->qoff < s->q.len) {
		n = (ssize_t)(s->q.len - s->qoff < max ? s->q.len - s->qoff :
		    max);
		memcpy(buf, s->q.ptr + s->qoff, (size_t)n);
		s->qoff += (size_t)n;
		if (s->qoff == s->q.len) {
			ro_buf_reset(&s->q);
			s->qoff = 0;
		}
	} else if (api->sse_closing)
		n = MHD_CONTENT_READER_END_OF_STREAM;
	else {
		/* nothing to send: park until publish, a ping or stop */
		s->suspended = true;
		MHD_suspend_connection(s->conn);
		n = 0;
	}
	pthread_mutex_unlock(&api->sse_mu);
	return n;
}

static void
sse_free(void *cls)
{
	struct sub	*s = cls;
	struct ro_api	*api = s->api;
	size_t		 i;

	pthread_mutex_lock(&api->sse_mu);
	for (i = 0; i < api->nsubs; i++)
		if (api->subs[i] == s) {
			api->subs[i] = api->subs[--api->nsubs];
			break;
		}
	pthread_mutex_unlock(&api->sse_mu);
	ro_buf_release(&s->q);
	free(s);
}

enum MHD_Result
ro_apisse_events(struct req *r)
{
	static const char	 hello[] = ": connected\n\n";
	struct ro_api		*api = r->api;
	struct MHD_Response	*resp;
	struct sub		*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return ro_apireply_oom(r);
	s->api = api;
	s->conn = r->conn;
	ro_buf_init(&s->q, RO_API_SSE_QUEUE_MAX);
	if (ro_buf_add(&s->q, hello, sizeof(hello) - 1) < 0) {
		free(s);
		return ro_apireply_oom(r);
	}
	pthread_mutex_lock(&api->sse_mu);
	if (api->sse_closing || api->nsubs == RO_API_SSE_MAX) {
		pthread_mutex_unlock(&api->sse_mu);
		ro_buf_release(&s->q);
		free(s);
		return ro_apireply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    api->sse_closing ? "the agent is shutting down" :
		    "too many /events subscribers (at most %d)",
		    RO_API_SSE_MAX);
	}
	api->subs[api->nsubs++] = s;
	pthread_mutex_unlock(&api->sse_mu);

	/* from here on, sse_free() owns s */
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN,
	    API_SSE_BLOCK, sse_read, s, sse_free);
	if (resp == NULL) {
		sse_free(s);
		return ro_apireply_oom(r);
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/event-stream");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-cache");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	return ro_apireply_queue(r, MHD_HTTP_OK, resp);
}

static void *
sse_ticker(void *arg)
{
	static const char	 ping[] = ": ping\n\n";
	struct ro_api		*api = arg;
	struct timespec		 deadline;
	size_t			 i;
	int			 rc;

	pthread_mutex_lock(&api->sse_mu);
	while (!api->sse_closing) {
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += RO_API_SSE_PING_S;
		rc = 0;
		while (!api->sse_closing && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&api->sse_tick,
			    &api->sse_mu, &deadline);
		if (api->sse_closing)
			break;
		for (i = 0; i < api->nsubs; i++)
			sub_push(api->subs[i], ping, sizeof(ping) - 1);
	}
	pthread_mutex_unlock(&api->sse_mu);
	return NULL;
}

void
ro_apisse_publish(struct ro_api *api, const char *line, size_t len)
{
	ro_apisse_publish_event(api, NULL, line, len);
}

void
ro_apisse_publish_event(struct ro_api *api, const char *type,
    const char *line, size_t len)
{
	struct ro_buf	 frame = RO_BUF_INIT;
	const char	*p, *nl, *end;
	size_t		 i, n;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len > RO_API_SSE_RECORD_MAX) {
		log_warnx("api: audit record of %zu bytes not sent to /events "
		    "(limit %u)", len, RO_API_SSE_RECORD_MAX);
		return;
	}
	/* one "data:" field per line of the record, then a blank line */
	ro_buf_init(&frame, RO_API_SSE_RECORD_MAX * 2);
	if (type != NULL && (ro_buf_add(&frame, "event: ", 7) < 0 ||
	    ro_buf_add(&frame, type, strlen(type)) < 0 ||
	    ro_buf_addch(&frame, '\n') < 0))
		goto oom;
	for (p = line, end = line + len; p <= end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (ro_buf_add(&frame, "data: ", 6) < 0 ||
		    ro_buf_add(&frame, p, n) < 0 ||
		    ro_buf_addch(&frame, '\n') < 0)
			goto oom;
	}
	if (ro_buf_addch(&frame, '\n') < 0)
		goto oom;
	pthread_mutex_lock(&api->sse_mu);
	for (i = 0; i < api->nsubs; i++)
		sub_push(api->subs[i], frame.ptr, frame.len);
	pthread_mutex_unlock(&api->sse_mu);
	ro_buf_release(&frame);
	return;
oom:
	log_warnx("api: out of memory; audit record not sent to /events");
	ro_buf_release(&frame);
}

int
ro_apisse_start(struct ro_api *api, struct ro_err *err)
{
	if (pthread_create(&api->ticker, NULL, sse_ticker, api) != 0)
		return ro_err_set(err, RO_ERROR, "api: cannot start a thread");
	api->ticker_started = true;
	return RO_OK;
}

void
ro_apisse_stop(struct ro_api *api)
{
	size_t	i;

	pthread_mutex_lock(&api->sse_mu);
	api->sse_closing = true;
	for (i = 0; i < api->nsubs; i++)
		if (api->subs[i]->suspended) {
			api->subs[i]->suspended = false;
			MHD_resume_connection(api->subs[i]->conn);
		}
	pthread_cond_broadcast(&api->sse_tick);
	pthread_mutex_unlock(&api->sse_mu);
	if (api->ticker_started)
		pthread_join(api->ticker, NULL);
	api->ticker_started = false;
}
