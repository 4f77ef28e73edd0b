/* runner.c: a bounded pool of worker threads over a list of rooms. */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/log.h"
#include "runner.h"

#include "../common/banned.h"

struct runner {
	struct ro_spec *const	*specs;
	size_t			 n;
	const struct ro_runner_opts *opts;
	pthread_mutex_t		 mu;
	size_t			 next;		/* cursor, under mu */
	bool			 stop;		/* audit failure: start no more */
	int			 error;		/* first fatal error */
	struct ro_err		 err;
};

static bool
take(struct runner *r, size_t *i)
{
	bool	ok;

	pthread_mutex_lock(&r->mu);
	ok = !r->stop && r->next < r->n;
	if (ok)
		*i = r->next++;
	pthread_mutex_unlock(&r->mu);
	return ok;
}

static void
fail(struct runner *r, int error, const struct ro_err *err)
{
	pthread_mutex_lock(&r->mu);
	if (r->error == RO_OK) {
		r->error = error;
		r->err = *err;
	}
	r->stop = true;
	pthread_mutex_unlock(&r->mu);
}

static void *
worker(void *arg)
{
	struct runner		*r = arg;
	struct ro_client	*c = NULL;
	struct ro_reconcile_result res;
	struct ro_err		 err = RO_ERR_INIT;
	size_t			 i;
	int			 error;

	if ((error = ro_client_new(&c, r->opts->client, &err)) < 0) {
		fail(r, error, &err);
		return NULL;
	}
	while (take(r, &i)) {
		ro_err_clear(&err);
		error = ro_reconcile_room(c, r->specs[i], r->opts->reconcile,
		    &res, &err);
		if (r->opts->done != NULL) {
			pthread_mutex_lock(&r->mu);
			r->opts->done(r->opts->arg, i, r->specs[i], &res, error,
			    &err);
			pthread_mutex_unlock(&r->mu);
		}
		ro_reconcile_result_release(&res);
		if (error < 0)
			fail(r, error, &err);
	}
	ro_client_free(c);
	return NULL;
}

int
ro_runner_run(struct ro_spec *const *specs, size_t n,
    const struct ro_runner_opts *opts, struct ro_err *err)
{
	struct runner	 r;
	pthread_t	*tids = NULL;
	unsigned	 want, started = 0, k;
	int		 error = RO_OK;

	memset(&r, 0, sizeof(r));
	r.specs = specs;
	r.n = n;
	r.opts = opts;
	pthread_mutex_init(&r.mu, NULL);
	want = opts->concurrency != 0 ? opts->concurrency :
	    RO_RUNNER_CONCURRENCY;
	if (want > RO_RUNNER_CONCURRENCY_MAX)
		want = RO_RUNNER_CONCURRENCY_MAX;
	if (want > n)
		want = (unsigned)n;
	if (want == 0)
		goto done;
	if ((tids = calloc(want, sizeof(*tids))) == NULL) {
		error = ro_err_set(err, RO_ENOMEM, "out of memory");
		goto done;
	}
	for (k = 0; k < want; k++) {
		if (pthread_create(&tids[k], NULL, worker, &r) != 0) {
			log_warn("pthread_create");
			break;
		}
		started++;
	}
	if (started == 0) {
		error = ro_err_set(err, RO_ERROR, "could not start workers");
		goto done;
	}
	for (k = 0; k < started; k++)
		pthread_join(tids[k], NULL);
	if (r.error < 0) {
		error = r.error;
		if (err != NULL)
			*err = r.err;
	}
done:
	free(tids);
	pthread_mutex_destroy(&r.mu);
	return error;
}
