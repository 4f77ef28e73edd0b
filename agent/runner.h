/*
 * runner.h: reconcile many rooms in parallel with bounded concurrency.
 *
 * Rooms are independent: each worker thread owns one RoomServer client
 * and takes the next room from a shared cursor; one room's failure never
 * delays or fails another. The done callback runs on a worker thread,
 * under the runner's lock (so it may print without interleaving).
 */
#ifndef RO_RUNNER_H
#define RO_RUNNER_H

#include "roomops/client.h"
#include "roomops/model.h"
#include "reconcile.h"

#define RO_RUNNER_CONCURRENCY	8	/* rooms at once, default */
#define RO_RUNNER_CONCURRENCY_MAX 256

typedef void ro_runner_done(void *arg, size_t index, const struct ro_spec *spec,
	    const struct ro_reconcile_result *res, int error,
	    const struct ro_err *err);

struct ro_runner_opts {
	const struct ro_client_opts	*client;
	const struct ro_reconcile_opts	*reconcile;
	unsigned			 concurrency;	/* 0: default */
	ro_runner_done			*done;
	void				*arg;
};

/*
 * Reconcile specs[0..n). Returns RO_OK when every room was attempted,
 * RO_EIO when the audit log failed (remaining rooms are not started: no
 * change is ever made without its record), RO_ENOMEM, or the client
 * creation error.
 */
int	ro_runner_run(struct ro_spec *const *specs, size_t n,
	    const struct ro_runner_opts *opts, struct ro_err *err);

#endif
