/*
 * delay.c: injected delays without blocking a server thread. The request
 * is suspended (MHD_suspend_connection) and this file's one thread
 * resumes it when its time has come; other connections of the same
 * server thread are served meanwhile. A binary heap ordered by deadline,
 * with one slot per possible connection, holds what is waiting.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include <microhttpd.h>

#include "sim.h"

#include "../common/banned.h"

#define DELAY_SLOTS	(SIM_CONNECTIONS_MAX + 16)

struct pending {
	struct timespec		 due;	/* CLOCK_MONOTONIC */
	struct MHD_Connection	*conn;
};

struct delay {
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	pthread_t	 thread;
	struct pending	 heap[DELAY_SLOTS];
	size_t		 n;
	bool		 stop;
};

static bool
before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	    (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static void
heap_push(struct delay *d, const struct pending *p)
{
	size_t		i = d->n++, up;
	struct pending	tmp;

	d->heap[i] = *p;
	while (i > 0 && before(&d->heap[i].due, &d->heap[up = (i - 1) / 2].due)) {
		tmp = d->heap[i];
		d->heap[i] = d->heap[up];
		d->heap[up] = tmp;
		i = up;
	}
}

static struct MHD_Connection *
heap_pop(struct delay *d)
{
	struct MHD_Connection *c = d->heap[0].conn;
	struct pending	tmp;
	size_t		i = 0, l, m;

	d->heap[0] = d->heap[--d->n];
	for (;;) {
		l = 2 * i + 1;
		m = i;
		if (l < d->n && before(&d->heap[l].due, &d->heap[m].due))
			m = l;
		if (l + 1 < d->n && before(&d->heap[l + 1].due, &d->heap[m].due))
			m = l + 1;
		if (m == i)
			break;
		tmp = d->heap[i];
		d->heap[i] = d->heap[m];
		d->heap[m] = tmp;
		i = m;
	}
	return c;
}

static void *
delay_main(void *arg)
{
	struct delay		*d = arg;
	struct timespec		 now;
	struct MHD_Connection	*c;

	pthread_mutex_lock(&d->lock);
	while (!d->stop) {
		if (d->n == 0) {
			pthread_cond_wait(&d->cond, &d->lock);
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (before(&now, &d->heap[0].due)) {
			pthread_cond_timedwait(&d->cond, &d->lock,
			    &d->heap[0].due);
			continue;
		}
		c = heap_pop(d);
		pthread_mutex_unlock(&d->lock);
		MHD_resume_connection(c);
		pthread_mutex_lock(&d->lock);
	}
	while (d->n > 0)		/* stopping: nobody waits any longer */
		MHD_resume_connection(heap_pop(d));
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

int
delay_start(struct delay **out, struct ro_err *err)
{
	pthread_condattr_t	 ca;
	struct delay		*d;
	int			 rc;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	pthread_mutex_init(&d->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->cond, &ca);
	pthread_condattr_destroy(&ca);
	if ((rc = pthread_create(&d->thread, NULL, delay_main, d)) != 0) {
		errno = rc;
		pthread_cond_destroy(&d->cond);
		pthread_mutex_destroy(&d->lock);
		free(d);
		return ro_err_errno(err, RO_ERROR, "pthread_create");
	}
	*out = d;
	return RO_OK;
}

bool
delay_add(struct delay *d, struct MHD_Connection *conn, unsigned ms)
{
	struct pending	p;
	bool		ok = false;

	clock_gettime(CLOCK_MONOTONIC, &p.due);
	p.due.tv_sec += ms / 1000;
	p.due.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (p.due.tv_nsec >= 1000000000L) {
		p.due.tv_sec++;
		p.due.tv_nsec -= 1000000000L;
	}
	p.conn = conn;
	pthread_mutex_lock(&d->lock);
	if (!d->stop && d->n < DELAY_SLOTS) {
		heap_push(d, &p);
		pthread_cond_signal(&d->cond);
		ok = true;
	}
	pthread_mutex_unlock(&d->lock);
	return ok;
}

void
delay_stop(struct delay *d)
{
	pthread_mutex_lock(&d->lock);
	if (d->stop) {
		pthread_mutex_unlock(&d->lock);
		return;
	}
	d->stop = true;
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->thread, NULL);
}

void
delay_free(struct delay *d)
{
	if (d == NULL)
		return;
	pthread_cond_destroy(&d->cond);
	pthread_mutex_destroy(&d->lock);
	free(d);
}
