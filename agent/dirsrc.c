/* dirsrc.c: the local folder source: changed files to room jobs. */
#include <limits.h>
#include <malloc.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roomops/fingerprint.h"
#include "roomops/log.h"
#include "roomops/seed.h"
#include "roomops/spec.h"
#include "roomops/specset.h"
#include "roomops/strmap.h"
#include "dirsrc.h"
#include "specidx.h"

#include "../common/banned.h"

#define DIRSRC_DIGEST_LEN	12	/* hex characters in worktree:<h> */
#define DIRSRC_INFLIGHT_MAX	256	/* jobs queued at once: bounds memory */


struct ro_dirsrc {
	struct ro_dirsrc_opts	 o;
	char			*root;		/* o.root, no trailing '/' */
	pthread_t		 tid;
	bool			 started;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct ro_strv		 changed;	/* under mu */
	bool			 rescan;	/* under mu */
	bool			 force;		/* under mu: resync */
	bool			 stop;		/* under mu */
	long long		 detected_ms;	/* under mu */
	size_t			 outstanding;	/* jobs in the queue, under mu */
	bool			 scan_failed;	/* under mu */
	bool			 idle_pending;	/* call idle when drained */
	/* thread only */
	struct ro_specidx	 idx;		/* the spec files seen */
	struct ro_specidx_ent	*gone;		/* deleted in this batch */
	size_t			 ngone, gonecap;
	struct ro_strv		 dups;		/* rejected: room declared by
						   another file */
};

static struct ro_specidx_ent *
find_path(struct ro_dirsrc *d, const char *path)
{
	return ro_specidx_path(&d->idx, path);
}

static struct ro_specidx_ent *
find_room(struct ro_dirsrc *d, const char *room, const char *not_path)
{
	struct ro_specidx_ent	*e = ro_specidx_room(&d->idx, room);

	return e != NULL && strcmp(e->path, not_path) != 0 ? e : NULL;
}

/* The content that matters: what the plan compares. */
static int
digest(const struct ro_spec *spec, char out[RO_HEX_SHA256_LEN + 1])
{
	cJSON	*o, *a;
	char	*s;
	size_t	 i;

	if ((o = cJSON_CreateObject()) == NULL)
		return RO_ENOMEM;
	cJSON_AddStringToObject(o, "roomId", spec->room_id);
	a = cJSON_AddArrayToObject(o, "entities");
	for (i = 0; a != NULL && i < spec->n_entities; i++)
		cJSON_AddItemToArray(a, ro_entity_to_json(&spec->entities[i],
		    NULL));
	a = cJSON_AddArrayToObject(o, "artifacts");
	for (i = 0; a != NULL && i < spec->n_artifacts; i++) {
		cJSON *art = ro_artifact_to_json(&spec->artifacts[i]);

		cJSON_AddBoolToObject(art, "promoteAfterSeed",
		    spec->artifacts[i].promote_after_seed);
		cJSON_AddNumberToObject(art, "seed", spec->artifacts[i].seed);
		cJSON_AddItemToArray(a, art);
	}
	cJSON_AddItemToObject(o, "policies", ro_policies_to_json(
	    &spec->policies));
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (s == NULL)
		return RO_ENOMEM;
	ro_sha256_hex(out, s, strlen(s));
	cJSON_free(s);
	return RO_OK;
}

static void
job_done(void *arg, const struct ro_job *job,
    const struct ro_reconcile_result *res, int error, const struct ro_err *err)
{
	struct ro_dirsrc *d = arg;

	(void)job;
	(void)err;
	pthread_mutex_lock(&d->mu);
	if (error < 0 || res == NULL || res->failed || res->partial)
		d->scan_failed = true;
	d->outstanding--;
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

static int
queue(struct ro_dirsrc *d, struct ro_spec *spec, const char *dg,
    long long detected_ms, struct ro_err *err)
{
	struct ro_job	*job;
	char		 rev[32];

	snprintf(rev, sizeof(rev), "worktree:%.*s", DIRSRC_DIGEST_LEN, dg);
	ro_rooms_add(d->o.rooms, spec->room_id, spec->path);
	if ((job = ro_job_new(spec, "watch", rev, NULL)) == NULL)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	job->coalesce = true;
	job->dry_run = d->o.dry_run;
	job->detected_ms = detected_ms;
	job->done = job_done;
	job->done_arg = d;
	pthread_mutex_lock(&d->mu);
	while (d->outstanding >= DIRSRC_INFLIGHT_MAX && !d->stop)
		pthread_cond_wait(&d->cv, &d->mu);	/* workers catch up */
	d->outstanding++;
	pthread_mutex_unlock(&d->mu);
	if (ro_workq_push(d->o.q, job, err) < 0) {
		pthread_mutex_lock(&d->mu);
		d->outstanding--;
		pthread_mutex_unlock(&d->mu);
		return err->code;
	}
	return RO_OK;
}

static void
reject(struct ro_dirsrc *d, const char *path, const struct ro_strv *errors)
{
	struct ro_reconcile_opts o = d->o.audit;
	struct ro_specidx_ent	*e = find_path(d, path);
	const char	*room = e != NULL ? e->room_id : NULL;
	struct ro_err	 err = RO_ERR_INIT;

	log_warnx("%s: rejected, the room keeps its last good state: %s",
	    path, errors->n > 0 ? errors->v[0] : "invalid");
	if (room != NULL)
		ro_rooms_rejected(d->o.rooms, room, NULL, errors);
	if (d->o.dry_run)
		return;
	o.source = "watch";
	o.rev = "worktree";
	if (ro_reconcile_audit_only(&o, room, "rejected", errors, &err) < 0)
		log_warnx("%s: audit: %s", path, err.msg);
}

/* A spec just loaded: remember it and queue it when it changed. */
static int
take_spec(struct ro_dirsrc *d, const char *rel, struct ro_spec *spec,
    bool force, long long detected_ms, struct ro_err *err)
{
	struct ro_specidx_ent	*e, *other;
	struct ro_strv		 errs = RO_STRV_INIT, seeds = RO_STRV_INIT;
	struct ro_buf		 norm = RO_BUF_INIT;
	char			 dg[RO_HEX_SHA256_LEN + 1], dir[PATH_MAX];
	const char		*slash, *pr;
	size_t			 i;
	bool			 moved = false;
	int			 error;

	if ((other = find_room(d, spec->room_id, rel)) != NULL) {
		ro_strv_pushf(&errs, "%s: spec.roomId: room %s is also "
		    "declared by %s; the room is left as it is", rel,
		    spec->room_id, other->path);
		reject(d, rel, &errs);
		ro_strv_release(&errs);
		ro_spec_free(spec);
		/* looked at again if the other file goes away */
		if (!ro_strv_contains(&d->dups, rel) &&
		    ro_strv_push(&d->dups, rel) < 0)
			return ro_err_set(err, RO_ENOMEM, "out of memory");
		return RO_OK;
	}
	if ((error = digest(spec, dg)) < 0)
		goto fail;
	/* renamed or moved in this batch, content unchanged: follow it */
	for (i = 0; !force && find_path(d, rel) == NULL && i < d->ngone; i++)
		if (strcmp(d->gone[i].room_id, spec->room_id) == 0 &&
		    strcmp(d->gone[i].digest, dg) == 0)
			moved = true;
	if ((e = find_path(d, rel)) == NULL) {
		if ((error = ro_specidx_add(&d->idx, rel, &e)) < 0)
			goto fail;
	} else if (!force && strcmp(e->digest, dg) == 0 &&
	    strcmp(e->room_id, spec->room_id) == 0) {
		ro_spec_free(spec);	/* saved without a change */
		return RO_OK;
	}
	if ((error = ro_specidx_set_room(&d->idx, e, spec->room_id)) < 0)
		goto fail;
	memcpy(e->digest, dg, sizeof(e->digest));
	e->prune = (pr = ro_spec_annotation(spec, "roomops/prune")) != NULL &&
	    strcmp(pr, "true") == 0;
	slash = strrchr(rel, '/');
	snprintf(dir, sizeof(dir), "%.*s", slash != NULL ? (int)(slash - rel) :
	    0, rel);
	for (i = 0; i < spec->n_artifacts; i++) {
		ro_buf_reset(&norm);
		if (spec->artifacts[i].seed_from != NULL &&
		    ro_seed_normalize(&norm, dir, spec->artifacts[i].seed_from,
		    NULL) == RO_OK)
			ro_strv_push(&seeds, ro_buf_cstr(&norm));
	}
	ro_buf_release(&norm);
	if ((error = ro_specidx_set_seeds(&d->idx, e, &seeds)) < 0)
		goto fail;
	if (moved && ro_shard_owns(&d->o.shard, spec->room_id))
		ro_rooms_add(d->o.rooms, spec->room_id, spec->path);
	if (moved || !ro_shard_owns(&d->o.shard, spec->room_id)) {
		ro_spec_free(spec);
		return RO_OK;
	}
	return queue(d, spec, dg, detected_ms, err);
fail:
	ro_strv_release(&seeds);
	ro_buf_release(&norm);
	ro_spec_free(spec);
	return ro_err_set(err, error, "out of memory");
}

static int
load_one(struct ro_dirsrc *d, const char *rel, bool force,
    long long detected_ms, struct ro_err *err)
{
	struct ro_diag		 diag = RO_DIAG_INIT;
	struct ro_spec		*spec = NULL;
	char			 path[PATH_MAX], dir[PATH_MAX];
	const char		*slash;
	struct ro_specidx_ent	*e;
	int			 error;

	snprintf(path, sizeof(path), "%s/%s", d->o.root, rel);
	error = ro_spec_load_file(&spec, path, &diag, err);
	if (error == RO_ENOTFOUND) {
		ro_diag_release(&diag);
		(void)ro_strv_remove(&d->dups, rel);
		if ((e = find_path(d, rel)) == NULL)
			return RO_OK;
		/* decided once the whole batch is loaded: a rename or a
		 * move is not a deletion (settle_gone) */
		if (d->ngone == d->gonecap) {
			size_t			 cap = d->gonecap != 0 ?
						    d->gonecap * 2 : 16;
			struct ro_specidx_ent	*v = reallocarray(d->gone,
						    cap, sizeof(*v));

			if (v == NULL)
				return ro_err_set(err, RO_ENOMEM,
				    "out of memory");
			d->gone = v;
			d->gonecap = cap;
		}
		d->gone[d->ngone++] = ro_specidx_detach(&d->idx, e);
		return RO_OK;
	}
	if (error == RO_OK) {
		slash = strrchr(rel, '/');
		snprintf(dir, sizeof(dir), "%.*s", slash != NULL ?
		    (int)(slash - rel) : 0, rel);
		error = ro_seed_resolve(spec, dir, ro_seed_read_fs,
		    d->root, &diag, err);
	}
	if (error == RO_ENOMEM)
		goto done;
	if (error < 0) {
		if (diag.errors.n == 0)
			ro_strv_pushf(&diag.errors, "%s", err->msg);
		reject(d, rel, &diag.errors);
		error = RO_OK;
		goto done;
	}
	error = take_spec(d, rel, spec, force, detected_ms, err);
	spec = NULL;
done:
	ro_spec_free(spec);
	ro_diag_release(&diag);
	return error;
}

/*
 * The spec files deleted in the batch just loaded. A room that another
 * file declares now was renamed or moved: nothing is removed. A file
 * refused earlier because it declared the same room is loaded again (it
 * may take over). Else the room is pruned when prune is on (flag or the
 * deleted file's annotation), or left as it is.
 */
static int
settle_gone(struct ro_dirsrc *d, long long detected_ms, struct ro_err *err)
{
	struct ro_strv		 retry = RO_STRV_INIT;
	struct ro_spec		*spec;
	struct ro_specidx_ent	*e, *now;
	char			 path[PATH_MAX];
	size_t			 i;
	int			 error = RO_OK, rc;

	if (d->ngone == 0)
		return RO_OK;
	retry = d->dups;
	memset(&d->dups, 0, sizeof(d->dups));
	for (i = 0; i < retry.n && error == RO_OK; i++)
		error = load_one(d, retry.v[i], false, detected_ms, err);
	ro_strv_release(&retry);
	for (i = 0; i < d->ngone; i++) {
		e = &d->gone[i];
		rc = RO_OK;
		if ((now = find_room(d, e->room_id, "")) != NULL)
			log_info("room %s: %s moved to %s", e->room_id,
			    e->path, now->path);
		else if (d->o.prune || e->prune) {
			log_info("room %s: %s deleted, pruning", e->room_id,
			    e->path);
			snprintf(path, sizeof(path), "%s/%s", d->o.root,
			    e->path);
			if ((spec = calloc(1, sizeof(*spec))) == NULL ||
			    (spec->room_id = strdup(e->room_id)) == NULL ||
			    (spec->path = strdup(path)) == NULL ||
			    ro_policies_default(&spec->policies) < 0) {
				ro_spec_free(spec);
				rc = ro_err_set(err, RO_ENOMEM, "out of memory");
			} else {
				spec->prune = true;
				spec->version = 1;
				if (ro_shard_owns(&d->o.shard, spec->room_id))
					rc = queue(d, spec, e->digest,
					    detected_ms, err);
				else
					ro_spec_free(spec);
			}
		} else
			log_info("room %s: %s deleted; pruning is off, the room "
			    "is left as it is", e->room_id, e->path);
		if (error == RO_OK)
			error = rc;
		ro_specidx_ent_release(e);
	}
	d->ngone = 0;
	return error;
}

static int
scan(struct ro_dirsrc *d, bool force, long long detected_ms,
    struct ro_err *err)
{
	struct ro_strv		 files = RO_STRV_INIT, gone = RO_STRV_INIT;
	struct ro_strmap	 present = RO_STRMAP_INIT;
	struct ro_diag		 diag = RO_DIAG_INIT;
	size_t			 i;
	int			 error, rc;

	/* the list only: specs are loaded one at a time below, so memory
	 * does not grow with the number of rooms */
	if ((error = ro_specset_list(&files, d->root, &diag, err)) < 0)
		goto done;
	for (i = 0; i < diag.errors.n; i++)
		log_warnx("watch %s: %s", d->root, diag.errors.v[i]);
	for (i = 0; i < files.n; i++)
		if (ro_strmap_put(&present, files.v[i], files.v[i]) < 0) {
			error = ro_err_set(err, RO_ENOMEM, "out of memory");
			goto done;
		}
	/* specs that are gone: settled after the batch (a move is no loss) */
	for (i = 0; i < d->idx.n; i++)
		if (ro_strmap_get(&present, d->idx.v[i].path) == NULL &&
		    ro_strv_push(&gone, d->idx.v[i].path) < 0) {
			error = ro_err_set(err, RO_ENOMEM, "out of memory");
			goto done;
		}
	for (i = 0; i < gone.n && error == RO_OK; i++)
		error = load_one(d, gone.v[i], force, detected_ms, err);
	for (i = 0; i < files.n && error == RO_OK; i++)
		error = load_one(d, files.v[i], force, detected_ms, err);
	rc = settle_gone(d, detected_ms, err);
	if (error == RO_OK)
		error = rc;
done:
	ro_strmap_release(&present);
	ro_strv_release(&files);
	ro_strv_release(&gone);
	ro_diag_release(&diag);
	return error;
}

static int
apply_changes(struct ro_dirsrc *d, const struct ro_strv *paths,
    long long detected_ms, struct ro_err *err)
{
	struct ro_strv		 todo = RO_STRV_INIT;
	const struct ro_strv	*readers;
	char			 path[PATH_MAX];
	size_t		i, j, len;
	int		error = RO_OK, rc, pass;

	for (i = 0; i < paths->n; i++) {
		const char *p = paths->v[i];

		len = strlen(p);
		if (len > 0 && p[len - 1] == '/')	/* a folder went away */
			for (j = 0; j < d->idx.n; j++) {
				if (strncmp(d->idx.v[j].path, p, len) == 0 &&
				    !ro_strv_contains(&todo, d->idx.v[j].path))
					ro_strv_push(&todo, d->idx.v[j].path);
			}
		else if (ro_specset_is_spec_name(p)) {
			if (!ro_strv_contains(&todo, p))
				ro_strv_push(&todo, p);
		} else if ((readers = ro_specidx_seed(&d->idx, p)) != NULL)
			for (j = 0; j < readers->n; j++)
				if (!ro_strv_contains(&todo, readers->v[j]))
					ro_strv_push(&todo, readers->v[j]);
	}
	/* files that are gone first: a file renamed within the batch must
	 * not be refused as a second declaration of its own room */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < todo.n && error == RO_OK; i++) {
			snprintf(path, sizeof(path), "%s/%s", d->o.root,
			    todo.v[i]);
			if ((access(path, F_OK) == 0) == (pass == 0))
				continue;
			error = load_one(d, todo.v[i], false, detected_ms,
			    err);
		}
	rc = settle_gone(d, detected_ms, err);
	if (error == RO_OK)
		error = rc;
	ro_strv_release(&todo);
	return error;
}

static void *
run(void *arg)
{
	struct ro_dirsrc	*d = arg;
	struct ro_strv		 paths = RO_STRV_INIT;
	struct ro_err		 err = RO_ERR_INIT;
	bool			 rescan, force, failed;
	long long		 detected;
	int			 error;

	pthread_mutex_lock(&d->mu);
	for (;;) {
		while (!d->stop && d->changed.n == 0 && !d->rescan &&
		    !(d->idle_pending && d->outstanding == 0))
			pthread_cond_wait(&d->cv, &d->mu);
		if (d->stop)
			break;
		if (d->idle_pending && d->outstanding == 0 &&
		    d->changed.n == 0 && !d->rescan) {
			d->idle_pending = false;
			failed = d->scan_failed;
			d->scan_failed = false;
			pthread_mutex_unlock(&d->mu);
			malloc_trim(0);	/* a full scan's peak: give it back */
			if (d->o.idle != NULL)
				d->o.idle(d->o.idle_arg, failed);
			pthread_mutex_lock(&d->mu);
			continue;
		}
		paths = d->changed;
		memset(&d->changed, 0, sizeof(d->changed));
		rescan = d->rescan;
		force = d->force;
		detected = d->detected_ms;
		d->rescan = d->force = false;
		d->detected_ms = 0;
		pthread_mutex_unlock(&d->mu);
		ro_err_clear(&err);
		if (detected == 0)
			detected = ro_now_ms();
		error = rescan ? scan(d, force, detected, &err) :
		    apply_changes(d, &paths, detected, &err);
		if (error < 0)
			log_warnx("watch %s: %s", d->o.root, err.msg);
		ro_strv_release(&paths);
		pthread_mutex_lock(&d->mu);
		if (error < 0)
			d->scan_failed = true;
		if (rescan)
			d->idle_pending = true;
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

int
ro_dirsrc_start(struct ro_dirsrc **out, const struct ro_dirsrc_opts *o,
    struct ro_err *err)
{
	struct ro_dirsrc	*d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	d->o = *o;
	if ((d->root = strdup(o->root)) == NULL) {
		free(d);
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	}
	while (strlen(d->root) > 1 && d->root[strlen(d->root) - 1] == '/')
		d->root[strlen(d->root) - 1] = '\0';
	d->o.root = d->root;
	d->rescan = true;	/* the first pass is a full scan */
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cv, NULL);
	if (pthread_create(&d->tid, NULL, run, d) != 0) {
		ro_dirsrc_free(d);
		return ro_err_set(err, RO_ERROR, "cannot start the watch thread");
	}
	d->started = true;
	*out = d;
	return RO_OK;
}

void
ro_dirsrc_changed(struct ro_dirsrc *d, struct ro_strv *paths, bool rescan,
    long long detected_ms)
{
	size_t	i;

	pthread_mutex_lock(&d->mu);
	for (i = 0; i < paths->n; i++)
		if (ro_strv_push_owned(&d->changed, paths->v[i]) < 0)
			d->rescan = true;	/* lost one: look at all */
	free(paths->v);
	memset(paths, 0, sizeof(*paths));
	if (rescan)
		d->rescan = true;
	if (d->detected_ms == 0 || (detected_ms != 0 &&
	    detected_ms < d->detected_ms))
		d->detected_ms = detected_ms;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

void
ro_dirsrc_resync(struct ro_dirsrc *d)
{
	pthread_mutex_lock(&d->mu);
	d->rescan = d->force = true;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

void
ro_dirsrc_request_stop(struct ro_dirsrc *d)
{
	if (d == NULL)
		return;
	pthread_mutex_lock(&d->mu);
	d->stop = true;
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

void
ro_dirsrc_free(struct ro_dirsrc *d)
{
	size_t	i;

	if (d == NULL)
		return;
	ro_dirsrc_request_stop(d);
	if (d->started)
		pthread_join(d->tid, NULL);
	ro_specidx_release(&d->idx);
	for (i = 0; i < d->ngone; i++)
		ro_specidx_ent_release(&d->gone[i]);
	free(d->gone);
	ro_strv_release(&d->dups);
	ro_strv_release(&d->changed);
	free(d->root);
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mu);
	free(d);
}
