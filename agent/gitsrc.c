/*
 * gitsrc.c: the Git source thread: poll, fetch, walk the first-parent
 * commits, run a pass per commit (the spec files in gitspecs.c, the batch
 * of room jobs and its note in gitbatch.c, signed commits in gitgate.c),
 * and serve the dashboard's reads between passes.
 */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/file.h"
#include "roomops/log.h"
#include "roomops/seed.h"
#include "roomops/spec.h"
#include "roomops/specset.h"
#include "roomops/strmap.h"
#include "roomops/yaml.h"
#include "gitsrc.h"
#include "gitsrc_impl.h"
#include "specidx.h"
#include "history.h"
#include "notes.h"

#include "../common/banned.h"


void
ro_gitsrc_set_error(struct ro_gitsrc *g, const char *msg)
{
	pthread_mutex_lock(&g->mu);
	snprintf(g->last_error, sizeof(g->last_error), "%s", msg);
	pthread_mutex_unlock(&g->mu);
}

bool
ro_gitsrc_stopping(struct ro_gitsrc *g)
{
	bool	s;

	pthread_mutex_lock(&g->mu);
	s = g->stop;
	pthread_mutex_unlock(&g->mu);
	return s;
}

/*
 * Reconcile the rooms of paths (spec or seed files, from the repository
 * root) at commit, wait for them, write the note, advance the cursor.
 */
static int
process(struct ro_gitsrc *g, const git_oid *commit, const git_oid *prev,
    const struct ro_strv *paths, bool full, bool resync, struct ro_err *err)
{
	git_repository	*repo = ro_gitrepo_git(g->repo);
	struct batch	 b;
	struct pass	 p;
	struct ro_strv	 todo = RO_STRV_INIT;
	char		 rev[GITSRC_OID_HEX];
	size_t		 i;
	int		 error = RO_OK;

	ro_gitbatch_init(&b);
	b.drop_converged = resync;
	memset(&p, 0, sizeof(p));
	p.g = g;
	p.b = &b;
	p.commit = commit;
	p.prev = prev;
	git_oid_tostr(rev, sizeof(rev), commit);
	/* a resync is a drift check of every room at the head: the records
	 * the head's note already has must not exempt its rooms (recovery
	 * after a crash is for catching up only) */
	if ((error = ro_history_confirms(repo, commit, &p.confirms, err)) < 0 ||
	    (!resync && (error = ro_gitbatch_recover(g, &b, commit, err)) < 0))
		goto done;
	for (i = 0; i < paths->n; i++) {
		if (ro_specset_is_spec_name(paths->v[i])) {
			if (!ro_strv_contains(&todo, paths->v[i]) &&
			    (error = ro_strv_push(&todo, paths->v[i])) < 0)
				goto oom;
			continue;
		}
		if (!full && (error = ro_gitspecs_ensure_index(g,
		    prev != NULL ? prev :
		    commit, err)) < 0)
			goto done;
		if ((error = ro_gitspecs_seed_users(g, paths->v[i], &todo)) < 0)
			goto oom;
	}
	if (!full && (error = ro_gitspecs_deleted_last(g, commit, &todo)) < 0)
		goto oom;
	for (i = 0; i < todo.n && !ro_gitsrc_stopping(g); i++)
		if ((error = ro_gitspecs_handle_spec(&p, todo.v[i], err)) < 0) {
			if (error == RO_ENOMEM || error == RO_EAGAIN ||
			    error == RO_EIO)
				break;
			log_warnx("%s: %s", todo.v[i], err->msg);
			error = RO_OK;
		}
	ro_gitbatch_wait(&b);
	if (b.lines.n > 0) {
		struct ro_err ne = RO_ERR_INIT;

		if (ro_gitbatch_write_notes(g, &b, commit, &ne) < 0) {
			log_warnx("note of %.12s: %s", rev, ne.msg);
			ro_gitsrc_set_error(g, ne.msg);
		}
	}
	if (error < 0)
		goto done;
	if (b.dropped || ro_gitsrc_stopping(g)) {
		error = ro_err_set(err, RO_EAGAIN, "stopped before %.12s was "
		    "complete", rev);
		goto done;
	}
	if (!resync)
		ro_gitbatch_notify_final(g, &b, commit);
	if (full)
		g->idx_built = true;
	if (b.retry) {
		error = ro_err_set(err, RO_EAGAIN, "commit %.12s: some rooms "
		    "could not be reconciled; retrying on the next pass", rev);
		goto done;
	}
	log_info("commit %.12s: %zu room%s planned (%zu spec%s to look at)%s",
	    rev, p.planned, p.planned == 1 ? "" : "s", todo.n, todo.n == 1 ?
	    "" : "s", b.failed ? ", not all converged" : "");
	error = ro_gitbatch_save_cursor(g, commit, err);
	goto done;
oom:
	error = ro_err_set(err, RO_ENOMEM, "out of memory");
done:
	ro_strv_release(&todo);
	ro_strv_release(&p.confirms);
	ro_gitbatch_release(&b);
	return error;
}

static int
process_full(struct ro_gitsrc *g, const git_oid *head, bool resync,
    struct ro_err *err)
{
	struct ro_strv	specs = RO_STRV_INIT;
	bool		ok = true;
	int		error;

	if (!resync)
		ro_gitbatch_notify_pending(g, head);
	if ((error = ro_history_list_specs(ro_gitrepo_git(g->repo), head,
	    g->o.path, &specs, err)) == RO_OK &&
	    (error = ro_gitgate_check(g, head, &specs, &ok,
	    err)) == RO_OK && ok)
		error = process(g, head, NULL, &specs, true, resync, err);
	ro_strv_release(&specs);
	return error;
}

static int
changed_paths(struct ro_gitsrc *g, const git_oid *commit, struct ro_strv *out,
    struct ro_err *err)
{
	struct ro_history_changes c = RO_HISTORY_CHANGES_INIT;
	size_t		i;
	int		error;

	if ((error = ro_history_changes(ro_gitrepo_git(g->repo), commit,
	    g->o.path, &c, err)) < 0)
		goto done;
	for (i = 0; i < c.n; i++)
		if (!ro_strv_contains(out, c.v[i].path) &&
		    (error = ro_strv_push(out, c.v[i].path)) < 0) {
			ro_err_set(err, error, "out of memory");
			break;
		}
done:
	ro_history_changes_release(&c);
	return error;
}

/* Superseded records for the rooms an intermediate commit changed. */
static int
supersede(struct ro_gitsrc *g, const git_oid *commit, struct ro_err *err)
{
	git_repository	*repo = ro_gitrepo_git(g->repo);
	struct ro_strv	 paths = RO_STRV_INIT;
	struct ro_buf	 blob = RO_BUF_INIT;
	struct ro_diag	 diag = RO_DIAG_INIT;
	struct ro_spec	*spec;
	struct ro_specidx_ent	*si;
	struct batch	 b;
	const char	*room;
	size_t		 i;
	int		 error;

	ro_gitbatch_init(&b);
	ro_buf_init(&blob, RO_SPEC_FILE_MAX + 1);
	if ((error = ro_notes_read(repo, RO_NOTES_REF, commit, &b.lines,
	    err)) < 0 && error != RO_ENOTFOUND)
		goto done;
	for (i = 0; i < b.lines.n; i++)
		if (ro_gitbatch_line_is(b.lines.v[i], strlen(b.lines.v[i]),
		    "outcome",
		    "superseded", "shard", g->shard_str))
			goto done;	/* done before a restart */
	ro_strv_release(&b.lines);
	if ((error = changed_paths(g, commit, &paths, err)) < 0)
		goto done;
	for (i = 0; i < paths.n && error == RO_OK; i++) {
		if (!ro_specset_is_spec_name(paths.v[i]))
			continue;
		spec = NULL;
		ro_buf_reset(&blob);
		if (ro_history_read(repo, commit, paths.v[i], RO_SPEC_FILE_MAX,
		    &blob, NULL) == RO_OK)
			(void)ro_spec_parse_yaml(&spec, paths.v[i],
			    ro_buf_cstr(&blob), blob.len, &diag, NULL);
		if (spec == NULL && g->have_cursor &&
		    (error = ro_gitspecs_ensure_index(g, &g->cursor,
		    err)) < 0) {
			ro_diag_release(&diag);
			break;
		}
		si = ro_gitspecs_find_path(g, paths.v[i]);
		room = spec != NULL ? spec->room_id : si != NULL ? si->room_id :
		    NULL;
		if (room == NULL || ro_shard_owns(&g->o.shard, room))
			error = ro_gitbatch_record(g, &b, commit, room,
			    "superseded", NULL, err);
		ro_spec_free(spec);
		ro_diag_release(&diag);
	}
	if (error == RO_OK && b.lines.n > 0)
		error = ro_gitbatch_write_notes(g, &b, commit, err);
	if (error == RO_OK)
		ro_gitbatch_notify_final(g, &b, commit);
done:
	ro_strv_release(&paths);
	ro_buf_release(&blob);
	ro_gitbatch_release(&b);
	return error;
}

/* --- the range of commits to apply (signed ones only, gitgate.c) --- */

/* The changed paths of commit (in own) added to the pending ones. */
static int
add_changed(struct ro_gitsrc *g, const git_oid *commit, struct ro_strv *own,
    struct ro_strv *pending, struct ro_err *err)
{
	size_t	i;
	int	error = RO_OK;

	ro_strv_release(own);
	if ((error = changed_paths(g, commit, own, err)) < 0)
		return error;
	for (i = 0; i < own->n && error == RO_OK; i++)
		if (!ro_strv_contains(pending, own->v[i]))
			error = ro_strv_push(pending, own->v[i]);
	if (error < 0)
		ro_err_set(err, error, "out of memory");
	return error;
}

/* Walk cursor..head and process what is new. */
static int
catch_up(struct ro_gitsrc *g, const git_oid *head, struct ro_err *err)
{
	git_repository	*repo = ro_gitrepo_git(g->repo);
	struct ro_history h = RO_HISTORY_INIT;
	struct ro_strv	 paths = RO_STRV_INIT, own = RO_STRV_INIT;
	struct batch	 b;
	unsigned	 k = g->o.max_pending != 0 ? g->o.max_pending :
			    RO_GITSRC_MAX_PENDING;
	git_oid		 prev;
	bool		 rewritten = false, *ok = NULL;
	size_t		 i, last = 0;
	int		 error;

	if (g->o.verify != NULL && g->stuck &&
	    git_oid_equal(&g->stuck_head, head) &&
	    git_oid_equal(&g->stuck_cursor, &g->cursor) &&
	    g->stuck_gen == ro_sigverify_generation(g->o.verify))
		return RO_OK;
	if (!g->have_cursor)
		return process_full(g, head, false, err);
	if (git_oid_equal(&g->cursor, head))
		return RO_OK;
	if ((error = ro_history_rewritten(repo, &g->cursor, head, &rewritten,
	    err)) < 0)
		return error;
	if (rewritten) {
		char	old[GITSRC_OID_HEX];
		bool	fine;

		/* a force push to unverified history: rejected the same
		 * way, the rooms keep the last verified state */
		if ((error = ro_gitgate_full(g, head, &fine, err)) < 0 || !fine)
			return error;
		git_oid_tostr(old, sizeof(old), &g->cursor);
		log_warnx("history rewritten: %.12s is no longer an ancestor of "
		    "the branch head; reconciling the new head", old);
		ro_gitbatch_init(&b);
		if ((error = ro_strv_pushf(&paths, "previous head %s is not an "
		    "ancestor of the new head", old)) == RO_OK &&
		    (error = ro_gitbatch_record(g, &b, head, NULL,
		    "history-rewritten", &paths, err)) == RO_OK)
			error = ro_gitbatch_write_notes(g, &b, head, err);
		ro_gitbatch_release(&b);
		ro_strv_release(&paths);
		if (error < 0)
			return error;
		return process_full(g, head, false, err);
	}
	if ((error = ro_history_range(repo, &g->cursor, head, 100000, &h,
	    err)) < 0)
		goto done;
	for (i = 0; i < h.n; i++)
		ro_gitbatch_notify_pending(g, &h.ids[i]);
	prev = g->cursor;
	if (h.n > k) {
		/* the newest verified commit is applied; the verified ones
		 * before it are superseded,
		    the others rejected (ro_gitgate_check) */
		if ((ok = calloc(h.n, sizeof(*ok))) == NULL) {
			error = ro_err_set(err, RO_ENOMEM, "out of memory");
			goto done;
		}
		for (i = 0; i < h.n && !ro_gitsrc_stopping(g); i++) {
			ok[i] = true;
			if (g->o.verify != NULL && ((error = add_changed(g,
			    &h.ids[i], &own, &paths, err)) < 0 ||
			    (error = ro_gitgate_check(g, &h.ids[i], &own,
			    &ok[i], err)) < 0))
				goto done;
			if (ok[i])
				last = i + 1;
		}
		if (last == 0 || ro_gitsrc_stopping(g))
			goto done;
		log_info("%zu commits pending (more than %u): %zu superseded",
		    h.n, k, last - 1);
		ro_strv_release(&paths);
		g->signer[0] = '\0';	/* superseded: not applied */
		for (i = 0; i < last && !ro_gitsrc_stopping(g); i++) {
			if ((i + 1 < last && ok[i] &&
			    (error = supersede(g, &h.ids[i], err)) < 0) ||
			    (error = add_changed(g, &h.ids[i], &own, &paths,
			    err)) < 0)
				goto done;
		}
		/* the newest verified: checked again for its signer */
		if ((error = ro_gitgate_check(g, &h.ids[last - 1], &own,
		    &ok[last - 1],
		    err)) < 0 || !ok[last - 1])
			goto done;
		error = process(g, &h.ids[last - 1], &prev, &paths, false,
		    false, err);
		goto done;
	}
	for (i = 0; i < h.n && !ro_gitsrc_stopping(g); i++) {
		bool	verified;

		/* paths pile up over rejected commits: the next verified
		 * one applies the whole difference from the last applied */
		if ((error = add_changed(g, &h.ids[i], &own, &paths, err)) < 0 ||
		    (error = ro_gitgate_check(g, &h.ids[i], &own, &verified,
		    err)) < 0)
			goto done;
		if (!verified)
			continue;
		if ((error = process(g, &h.ids[i], &prev, &paths, false, false,
		    err)) < 0)
			goto done;
		prev = h.ids[i];
		ro_strv_release(&paths);
	}
done:
	g->signer[0] = '\0';
	free(ok);
	ro_strv_release(&own);
	ro_strv_release(&paths);
	ro_history_release(&h);
	return error;
}

/* One pass: check the remote, fetch, catch up, push notes. */
static int
pass(struct ro_gitsrc *g, bool resync, bool fetch_now, struct ro_err *err)
{
	struct ro_gitrepo_remote	 rem;
	struct ro_gitrepo_fetch_result	 fr;
	struct ro_notes_push_result	 pr;
	struct ro_notes_merge_result	 mr;
	struct ro_err			 me = RO_ERR_INIT;
	git_oid				 head;
	long long			 t0 = ro_now_ms();
	char				 hex[GITSRC_OID_HEX];
	int				 error;

	memset(&fr, 0, sizeof(fr));
	memset(&rem, 0, sizeof(rem));
	/* a webhook already said the branch moved: the head check would
	 * cost a connection for nothing, so fetch at once */
	if (!fetch_now) {
		if ((error = ro_gitrepo_remote_head(g->repo, &rem, err)) < 0)
			return error;
		ro_metrics_observe(g->o.metrics, RO_M_POLL_DURATION,
		    (ro_now_ms() - t0) / 1000.0);
	}
	if (fetch_now || rem.moved || !rem.local_present) {
		g->detected_ms = ro_now_ms();
		if ((error = ro_gitrepo_fetch(g->repo, RO_GITREPO_FETCH_BRANCH |
		    RO_GITREPO_FETCH_NOTES, &fr, err)) < 0)
			return error;
		ro_metrics_add(g->o.metrics, RO_M_FETCH_BYTES,
		    fr.received_bytes);
		pthread_mutex_lock(&g->mu);
		ro_now_iso(g->last_fetch);
		pthread_mutex_unlock(&g->mu);
		log_info("fetched %zu bytes in %llu ms", fr.received_bytes,
		    (unsigned long long)fr.duration_ms);
	}
	/* The notes origin holds (as fetched or cloned) into ours first:
	 * records written before a lost state dir, or by other shards,
	 * settle their rooms (ro_gitbatch_recover) instead of being redone. */
	if ((error = ro_notes_merge(ro_gitrepo_git(g->repo), NULL, &mr,
	    &me)) < 0)
		log_warnx("notes from origin not merged: %s", me.msg);
	else if (mr.changed)
		log_debug("notes from origin merged (%s)", mr.merged ?
		    "union" : "fast-forward");
	if ((error = ro_gitrepo_head(g->repo, &head, err)) < 0)
		return error;
	git_oid_tostr(hex, sizeof(hex), &head);
	pthread_mutex_lock(&g->mu);
	memcpy(g->head, hex, sizeof(g->head));
	pthread_mutex_unlock(&g->mu);
	if ((error = catch_up(g, &head, err)) < 0)
		return error;
	/* --once fails while the head is not applied for want of a
	 * verified signature (rejected now or in an earlier run) */
	g->stuck = false;
	if (g->o.verify != NULL && (!g->have_cursor ||
	    !git_oid_equal(&g->cursor, &head)) && !ro_gitsrc_stopping(g)) {
		g->rejected = g->stuck = true;
		g->stuck_head = head;
		if (g->have_cursor)
			g->stuck_cursor = g->cursor;
		g->stuck_gen = ro_sigverify_generation(g->o.verify);
	}
	/* with signed commits, the drift check is at the last applied
	 * (verified) commit, never at an unverified head */
	if (resync && (g->o.verify == NULL || g->have_cursor) &&
	    (error = process_full(g, g->o.verify != NULL ? &g->cursor : &head,
	    true, err)) < 0)
		return error;
	if (g->o.push_notes && (error = ro_notes_push(g->repo, 0, &pr,
	    err)) < 0)
		return error;
	return RO_OK;
}

/* Serve one dashboard read at the cursor (Git thread). */
static void
serve_read(struct ro_gitsrc *g, struct gitread *rd)
{
	struct ro_history_source src;
	struct ro_err		 err = RO_ERR_INIT;
	struct ro_diag		 diag = RO_DIAG_INIT;
	struct ro_buf		 blob = RO_BUF_INIT;
	struct ro_spec		*spec = NULL;
	char			 dir[PATH_MAX], rev[GITSRC_OID_HEX] = "";
	int			 error;

	if (g->repo == NULL || !g->have_cursor) {
		error = ro_err_set(&err, RO_ENOTFOUND, "the Git source has "
		    "not processed a commit yet");
		goto done;
	}
	git_oid_tostr(rev, sizeof(rev), &g->cursor);
	ro_buf_init(&blob, RO_SPEC_FILE_MAX + 1);
	if ((error = ro_history_read(ro_gitrepo_git(g->repo), &g->cursor,
	    rd->path, RO_SPEC_FILE_MAX, &blob, &err)) < 0 || !rd->parse)
		goto done;
	error = ro_spec_parse_yaml(&spec, rd->path, ro_buf_cstr(&blob),
	    blob.len, &diag, &err);
	if (error == RO_OK) {
		ro_gitspecs_spec_dir(g, rd->path, dir, sizeof(dir));
		src.repo = ro_gitrepo_git(g->repo);
		src.commit = g->cursor;
		src.root = g->o.path;
		error = ro_seed_resolve(spec, dir, ro_history_seed_reader, &src,
		    &diag, &err);
	}
	if (error == RO_EINVALID && diag.errors.n > 0)
		ro_err_set(&err, RO_EINVALID, "%s", diag.errors.v[0]);
done:
	rd->cb(rd->arg, error, &err, rev, error == RO_OK ? &blob : NULL,
	    error == RO_OK ? spec : NULL);
	if (error != RO_OK)
		ro_spec_free(spec);
	ro_diag_release(&diag);
	ro_buf_release(&blob);
	free(rd->path);
}

int
ro_gitsrc_read_spec(struct ro_gitsrc *g, const char *path, bool parse,
    ro_gitsrc_read_cb *cb, void *arg, struct ro_err *err)
{
	struct gitread	*rd;
	int		 error = RO_OK;

	pthread_mutex_lock(&g->mu);
	if (g->stop)
		error = ro_err_set(err, RO_EAGAIN, "the agent is shutting down");
	else if (g->nreads == RO_GITSRC_READS_MAX)
		error = ro_err_set(err, RO_EAGAIN, "too many reads of the Git "
		    "source at once");
	else {
		rd = &g->reads[g->nreads];
		if ((rd->path = strdup(path)) == NULL)
			error = ro_err_set(err, RO_ENOMEM, "out of memory");
		else {
			rd->parse = parse;
			rd->cb = cb;
			rd->arg = arg;
			g->nreads++;
			pthread_cond_signal(&g->cv);
		}
	}
	pthread_mutex_unlock(&g->mu);
	return error;
}

static void *
run(void *arg)
{
	struct ro_gitsrc	*g = arg;
	struct ro_err		 err = RO_ERR_INIT;
	unsigned		 what;
	bool			 first = true;
	int			 error;
	struct gitread		 reads[RO_GITSRC_READS_MAX];
	size_t			 nreads, i;

	for (;;) {
		pthread_mutex_lock(&g->mu);
		while (!g->stop && g->triggers == 0 && g->nreads == 0 &&
		    !first)
			pthread_cond_wait(&g->cv, &g->mu);
		what = first ? RO_GITSRC_CHECK : g->triggers;
		g->triggers = 0;
		/* all of them; when stopping, ro_gitsrc_free() answers */
		nreads = g->stop ? 0 : g->nreads;
		memcpy(reads, g->reads, nreads * sizeof(*reads));
		g->nreads -= nreads;
		pthread_mutex_unlock(&g->mu);
		for (i = 0; i < nreads; i++)
			serve_read(g, &reads[i]);
		if (ro_gitsrc_stopping(g))
			break;
		if (what == 0)
			continue;	/* reads only */
		ro_err_clear(&err);
		if (g->repo == NULL) {
			if ((error = ro_gitrepo_open(&g->repo, &g->o.repo,
			    &err)) < 0) {
				log_warnx("git: %s", err.msg);
				ro_gitsrc_set_error(g, err.msg);
				if (g->o.idle != NULL)
					g->o.idle(g->o.idle_arg, true);
				first = false;
				continue;
			}
			/* after the open that worked, not only the first */
			log_info("git: %s %s (branch %s)", ro_gitrepo_cloned(
			    g->repo) ? "cloned into" : "reusing the clone at",
			    g->o.repo.dir, ro_gitrepo_branch(g->repo));
			ro_gitbatch_load_cursor(g);
		}
		g->rejected = false;
		error = pass(g, (what & RO_GITSRC_RESYNC) != 0,
		    (what & RO_GITSRC_FETCH) != 0, &err);
		malloc_trim(0);		/* a big pass's peak: give it back */
		if (error < 0) {
			log_warnx("git: %s", err.msg);
			ro_gitsrc_set_error(g, err.msg);
		} else {
			ro_gitsrc_set_error(g, "");
			pthread_mutex_lock(&g->mu);
			g->passed = true;
			pthread_mutex_unlock(&g->mu);
		}
		first = false;
		if (g->o.idle != NULL && !ro_gitsrc_stopping(g))
			g->o.idle(g->o.idle_arg, error < 0 || g->rejected);
	}
	return NULL;
}

int
ro_gitsrc_start(struct ro_gitsrc **out, const struct ro_gitsrc_opts *o,
    struct ro_err *err)
{
	struct ro_gitsrc	*g;
	int			 error;

	if ((error = ro_gitrepo_global_init(err)) < 0)
		return error;
	/*
	 * libgit2 caches no tree over 4 KiB by default, so every spec read
	 * (ro_history_read, path lookups) inflated and parsed the spec
	 * folder's tree again: quadratic in the number of specs (10,000
	 * rooms: 114 s for a commit touching all, 12 s with this). Keep
	 * trees up to GITSRC_TREE_CACHE_OBJ cached, and bound the whole
	 * cache below libgit2's 256 MiB default so memory stays small.
	 */
	if (git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_TREE,
	    (size_t)GITSRC_TREE_CACHE_OBJ) < 0 ||
	    git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE,
	    (ssize_t)GITSRC_CACHE_MAX) < 0)
		log_warnx("git: cannot size the object cache; large spec "
		    "folders will be slow");
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	g->o = *o;
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	ro_shard_str(g->shard_str, &o->shard);
	if (pthread_create(&g->tid, NULL, run, g) != 0) {
		ro_gitsrc_free(g);
		return ro_err_set(err, RO_ERROR, "cannot start the git thread");
	}
	g->started = true;
	*out = g;
	return RO_OK;
}

void
ro_gitsrc_trigger(struct ro_gitsrc *g, unsigned what)
{
	pthread_mutex_lock(&g->mu);
	g->triggers |= what;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

void
ro_gitsrc_info(struct ro_gitsrc *g, cJSON *source)
{
	char	url[RO_GITREPO_URL_MAX];

	ro_gitrepo_redact_url(url, sizeof(url), g->o.repo.url);
	pthread_mutex_lock(&g->mu);
	cJSON_AddStringToObject(source, "repo", url);
	cJSON_AddStringToObject(source, "branch", g->o.repo.branch != NULL ?
	    g->o.repo.branch : "main");
	if (g->head[0] != '\0')
		cJSON_AddStringToObject(source, "head", g->head);
	else
		cJSON_AddNullToObject(source, "head");
	if (g->last_fetch[0] != '\0')
		cJSON_AddStringToObject(source, "lastFetch", g->last_fetch);
	else
		cJSON_AddNullToObject(source, "lastFetch");
	if (g->last_error[0] != '\0')
		cJSON_AddStringToObject(source, "lastError", g->last_error);
	else
		cJSON_AddNullToObject(source, "lastError");
	pthread_mutex_unlock(&g->mu);
}

bool
ro_gitsrc_synced(struct ro_gitsrc *g)
{
	bool	yes;

	pthread_mutex_lock(&g->mu);
	yes = g->passed;
	pthread_mutex_unlock(&g->mu);
	return yes;
}

void
ro_gitsrc_request_stop(struct ro_gitsrc *g)
{
	if (g == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	g->stop = true;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

void
ro_gitsrc_free(struct ro_gitsrc *g)
{
	size_t	i;

	if (g == NULL)
		return;
	ro_gitsrc_request_stop(g);
	if (g->started)
		pthread_join(g->tid, NULL);
	for (i = 0; i < g->nreads; i++) {	/* never served */
		struct ro_err	e = RO_ERR_INIT;

		ro_err_set(&e, RO_EAGAIN, "the agent is shutting down");
		g->reads[i].cb(g->reads[i].arg, RO_EAGAIN, &e, "", NULL, NULL);
		free(g->reads[i].path);
	}
	ro_gitrepo_free(g->repo);
	ro_specidx_release(&g->idx);
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	free(g);
}
