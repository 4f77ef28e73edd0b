/*
 * gitspecs.c: one spec file at one commit (parse, validate, queue its
 * room; a deleted spec's prune through the guardrails) and the spec index
 * at the last processed commit (specidx.c): which spec declares a room,
 * which specs read a seed file.
 */
#include <errno.h>
#include <limits.h>
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
#include "roomops/yaml.h"
#include "gitsrc_impl.h"
#include "history.h"
#include "notes.h"

#include "../common/banned.h"

struct ro_specidx_ent *
ro_gitspecs_find_path(struct ro_gitsrc *g, const char *path)
{
	return ro_specidx_path(&g->idx, path);
}

/* Is there a file at path in commit? (false on any error) */
static bool
path_at(struct ro_gitsrc *g, const git_oid *commit, const char *path)
{
	git_commit	*c = NULL;
	git_tree	*t = NULL;
	git_tree_entry	*e = NULL;
	bool		 ok;

	ok = git_commit_lookup(&c, ro_gitrepo_git(g->repo), commit) == 0 &&
	    git_commit_tree(&t, c) == 0 && git_tree_entry_bypath(&e, t,
	    path) == 0;
	git_tree_entry_free(e);
	git_tree_free(t);
	git_commit_free(c);
	return ok;
}

/*
 * Another spec file that declares room and still exists at commit. A
 * spec moved to another file in one commit is a delete and an add: the
 * old path's entry is stale, not a duplicate, and the room is not pruned.
 */
static struct ro_specidx_ent *
idx_find_live_room(struct ro_gitsrc *g, const char *room, const char *not_path,
    const git_oid *commit)
{
	struct ro_specidx_ent	*si = ro_specidx_room(&g->idx, room);
	size_t			 i;

	if (si == NULL)
		return NULL;
	if (strcmp(si->path, not_path) == 0) {
		/* rare: look for an older entry of the room elsewhere */
		for (i = 0; i < g->idx.n; i++)
			if (strcmp(g->idx.v[i].room_id, room) == 0 &&
			    strcmp(g->idx.v[i].path, not_path) != 0 &&
			    path_at(g, commit, g->idx.v[i].path))
				return &g->idx.v[i];
		return NULL;
	}
	return path_at(g, commit, si->path) ? si : NULL;
}

/* Folder of path relative to the spec root (for seed resolution). */
void
ro_gitspecs_spec_dir(const struct ro_gitsrc *g, const char *path, char *out,
    size_t outsz)
{
	const char	*root = g->o.path != NULL ? g->o.path : "";
	size_t		 rl = strlen(root);
	const char	*rel = path, *slash;

	if (rl > 0 && strncmp(path, root, rl) == 0 && path[rl] == '/')
		rel = path + rl + 1;
	slash = strrchr(rel, '/');
	snprintf(out, outsz, "%.*s", slash != NULL ? (int)(slash - rel) : 0,
	    rel);
}

static int
idx_put(struct ro_gitsrc *g, const char *path, const struct ro_spec *spec)
{
	struct ro_specidx_ent	*si;
	struct ro_strv		 seeds = RO_STRV_INIT;
	struct ro_buf		 norm = RO_BUF_INIT;
	const char		*root = g->o.path != NULL ? g->o.path : "";
	const char		*pr;
	char			 dir[PATH_MAX];
	size_t			 i;
	int			 error;

	if ((error = ro_specidx_add(&g->idx, path, &si)) < 0 ||
	    (error = ro_specidx_set_room(&g->idx, si, spec->room_id)) < 0)
		goto done;
	si->prune = (pr = ro_spec_annotation(spec, "roomops/prune")) != NULL &&
	    strcmp(pr, "true") == 0;
	ro_gitspecs_spec_dir(g, path, dir, sizeof(dir));
	for (i = 0; i < spec->n_artifacts; i++) {
		if (spec->artifacts[i].seed_from == NULL)
			continue;
		ro_buf_reset(&norm);
		if (ro_seed_normalize(&norm, dir, spec->artifacts[i].seed_from,
		    NULL) < 0)
			continue;
		if (ro_strv_pushf(&seeds, "%s%s%s", root, root[0] ? "/" :
		    "", ro_buf_cstr(&norm)) < 0) {
			error = RO_ENOMEM;
			goto done;
		}
	}
	error = ro_specidx_set_seeds(&g->idx, si, &seeds);
done:
	ro_strv_release(&seeds);
	ro_buf_release(&norm);
	return error;
}

static int
queue_spec(struct pass *p, struct ro_spec *spec, struct ro_err *err)
{
	struct ro_gitsrc	*g = p->g;
	struct ro_job		*job;
	char			 rev[GITSRC_OID_HEX];

	git_oid_tostr(rev, sizeof(rev), p->commit);
	if ((job = ro_job_new(spec, "git", rev, NULL)) == NULL)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	job->coalesce = false;
	job->confirm = ro_strv_contains(&p->confirms, job->room_id) ||
	    ro_strv_contains(&p->confirms, RO_HISTORY_CONFIRM_ALL);
	job->detected_ms = g->detected_ms;
	job->sink = ro_gitbatch_sink;
	job->sink_arg = p->b;
	if (g->signer[0] != '\0' && (job->signer = strdup(g->signer)) == NULL) {
		ro_job_free(job);
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	}
	job->done = ro_gitbatch_done;
	job->done_arg = p->b;
	ro_rooms_add(g->o.rooms, job->room_id, job->spec->path);
	pthread_mutex_lock(&p->b->mu);
	while (p->b->pending >= GITSRC_INFLIGHT_MAX)
		pthread_cond_wait(&p->b->cv, &p->b->mu);  /* workers catch up */
	p->b->pending++;
	pthread_mutex_unlock(&p->b->mu);
	if (ro_workq_push(g->o.q, job, err) < 0) {
		pthread_mutex_lock(&p->b->mu);
		p->b->pending--;
		p->b->dropped = true;
		pthread_mutex_unlock(&p->b->mu);
		return err != NULL ? err->code : RO_EAGAIN;
	}
	p->planned++;
	return RO_OK;
}

static int
handle_deleted(struct pass *p, const char *path, struct ro_err *err)
{
	struct ro_gitsrc	*g = p->g;
	struct ro_specidx_ent	*si, *other;
	struct ro_spec		*spec;
	struct ro_strv		 why = RO_STRV_INIT;
	int			 error = RO_OK;

	if ((error = ro_gitspecs_ensure_index(g, p->prev, err)) < 0)
		return error;
	if ((si = ro_gitspecs_find_path(g, path)) == NULL) {
		log_info("%s: deleted; its room is not known here", path);
		return RO_OK;
	}
	if (!ro_shard_owns(&g->o.shard, si->room_id) ||
	    ro_strv_contains(&p->b->done_rooms, si->room_id))
		goto forget;	/* not ours, or done before a crash */
	if ((other = idx_find_live_room(g, si->room_id, path,
	    p->commit)) != NULL) {
		log_info("room %s: spec %s deleted; the room is declared by %s "
		    "now, not pruned", si->room_id, path, other->path);
		goto forget;
	}
	if (!g->o.prune && !si->prune) {
		log_info("room %s: spec %s deleted; pruning is off, the room "
		    "is left as it is", si->room_id, path);
		goto forget;
	}
	if ((spec = calloc(1, sizeof(*spec))) == NULL ||
	    (spec->room_id = strdup(si->room_id)) == NULL ||
	    (spec->path = strdup(path)) == NULL ||
	    ro_policies_default(&spec->policies) < 0) {
		ro_spec_free(spec);
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	}
	spec->prune = true;
	spec->version = 1;
	log_info("room %s: spec %s deleted, pruning", si->room_id, path);
	error = queue_spec(p, spec, err);
forget:
	ro_strv_release(&why);
	ro_specidx_remove(&g->idx, path);
	return error;
}

/*
 * Did path declare room at commit? A spec modified without changing its
 * room cannot make a new duplicate, so the index is not needed for it.
 */
static bool
same_room_at(struct ro_gitsrc *g, const git_oid *commit, const char *path,
    const char *room)
{
	struct ro_buf	 blob = RO_BUF_INIT;
	struct ro_diag	 diag = RO_DIAG_INIT;
	struct ro_spec	*spec = NULL;
	bool		 same;

	ro_buf_init(&blob, RO_SPEC_FILE_MAX + 1);
	same = ro_history_read(ro_gitrepo_git(g->repo), commit, path,
	    RO_SPEC_FILE_MAX, &blob, NULL) == RO_OK &&
	    ro_spec_parse_yaml(&spec, path, ro_buf_cstr(&blob), blob.len,
	    &diag, NULL) == RO_OK && strcmp(spec->room_id, room) == 0;
	ro_spec_free(spec);
	ro_diag_release(&diag);
	ro_buf_release(&blob);
	return same;
}

/* spec.roomId as the YAML of an invalid spec names it (malloc'd), or
 * NULL (no YAML, or no well-formed roomId). */
char *
ro_gitspecs_declared_room(const char *path, const struct ro_buf *blob)
{
	struct ro_node		 root = RO_NODE_INIT;
	struct ro_diag		 diag = RO_DIAG_INIT;
	const struct ro_node	*k, *v, *spec = NULL;
	char			*room = NULL;
	size_t			 i;

	if (blob->len == 0 || ro_yaml_parse(&root, path, blob->ptr, blob->len,
	    RO_SPEC_DEPTH_MAX, &diag) != RO_OK || root.type != RO_NODE_MAP)
		goto done;
	for (i = 0; i < ro_node_map_size(&root); i++) {
		k = ro_node_map_key(&root, i);
		if (k->type == RO_NODE_STR && strcmp(k->str, "spec") == 0)
			spec = ro_node_map_value(&root, i);
	}
	if (spec == NULL || spec->type != RO_NODE_MAP)
		goto done;
	for (i = 0; i < ro_node_map_size(spec) && room == NULL; i++) {
		k = ro_node_map_key(spec, i);
		v = ro_node_map_value(spec, i);
		if (k->type == RO_NODE_STR && strcmp(k->str, "roomId") == 0 &&
		    v->type == RO_NODE_STR && ro_spec_valid_room_id(v->str))
			room = strdup(v->str);
	}
done:
	ro_node_release(&root);
	ro_diag_release(&diag);
	return room;
}

int
ro_gitspecs_handle_spec(struct pass *p, const char *path, struct ro_err *err)
{
	struct ro_gitsrc	*g = p->g;
	git_repository		*repo = ro_gitrepo_git(g->repo);
	struct ro_history_source src;
	struct ro_diag		 diag = RO_DIAG_INIT;
	struct ro_buf		 blob = RO_BUF_INIT;
	struct ro_spec		*spec = NULL;
	struct ro_specidx_ent	*si, *other;
	char			 dir[PATH_MAX], *declared = NULL;
	const char		*room;
	int			 error;

	ro_buf_init(&blob, RO_SPEC_FILE_MAX + 1);
	error = ro_history_read(repo, p->commit, path, RO_SPEC_FILE_MAX, &blob,
	    err);
	if (error == RO_ENOTFOUND) {
		error = handle_deleted(p, path, err);
		goto done;
	}
	if (error == RO_OK)
		error = ro_spec_parse_yaml(&spec, path, ro_buf_cstr(&blob),
		    blob.len, &diag, err);
	else
		ro_diag_error(&diag, path, 0, 0, NULL, "%s", err->msg);
	if (error == RO_ENOMEM)
		goto done;
	if (error == RO_OK) {
		ro_gitspecs_spec_dir(g, path, dir, sizeof(dir));
		src.repo = repo;
		src.commit = *p->commit;
		src.root = g->o.path;
		error = ro_seed_resolve(spec, dir, ro_history_seed_reader, &src,
		    &diag, err);
		if (error == RO_ENOMEM)
			goto done;
	}
	/* the duplicate check and the room of a rejected spec need the
	 * index: after a restart it is built once, at the previous commit */
	if (!g->idx_built && p->prev != NULL && (spec == NULL ||
	    !same_room_at(g, p->prev, path, spec->room_id))) {
		struct ro_err	ie = RO_ERR_INIT;
		int		rc;

		if ((rc = ro_gitspecs_ensure_index(g, p->prev, &ie)) < 0) {
			error = ro_err_set(err, rc, "%s", ie.msg);
			goto done;
		}
	}
	if (error == RO_OK && (other = idx_find_live_room(g, spec->room_id,
	    path, p->commit)) != NULL) {
		ro_diag_error(&diag, path, 0, 0, "spec.roomId", "room %s is "
		    "also declared by %s; the room is left as it is",
		    spec->room_id, other->path);
		error = RO_EINVALID;
	}
	if (error < 0) {
		/* rejected: nothing is removed; other rooms go on. Its
		 * room: the spec's, else the one the index knows for the
		 * file, else the roomId the YAML names (e.g. an invalid
		 * spec after a restart, its previous version invalid too) */
		si = ro_gitspecs_find_path(g, path);
		if (spec == NULL && si == NULL)
			declared = ro_gitspecs_declared_room(path, &blob);
		room = spec != NULL ? spec->room_id : si != NULL ? si->room_id :
		    declared;
		if (room != NULL && !ro_shard_owns(&g->o.shard, room))
			goto ok;
		log_warnx("%s: rejected: %s", path, diag.errors.n > 0 ?
		    diag.errors.v[0] : err->msg);
		if (room != NULL)
			ro_rooms_rejected(g->o.rooms, room, NULL, &diag.errors);
		if (room != NULL && ro_strv_contains(&p->b->done_rooms, room))
			goto ok;
		error = ro_gitbatch_record(g, p->b, p->commit, room, "rejected",
		    &diag.errors, err);
		goto done;
	}
	if ((error = idx_put(g, path, spec)) < 0) {
		ro_err_set(err, error, "out of memory");
		goto done;
	}
	if (!ro_shard_owns(&g->o.shard, spec->room_id) ||
	    ro_strv_contains(&p->b->done_rooms, spec->room_id))
		goto ok;
	error = queue_spec(p, spec, err);
	spec = NULL;
	goto done;
ok:
	error = RO_OK;
done:
	free(declared);
	ro_spec_free(spec);
	ro_diag_release(&diag);
	ro_buf_release(&blob);
	return error;
}

/* Specs whose seeds include path, added to out. */
int
ro_gitspecs_seed_users(struct ro_gitsrc *g, const char *path,
    struct ro_strv *out)
{
	const struct ro_strv	*readers = ro_specidx_seed(&g->idx, path);
	size_t			 i;
	int			 error;

	for (i = 0; readers != NULL && i < readers->n; i++)
		if (!ro_strv_contains(out, readers->v[i]) &&
		    (error = ro_strv_push(out, readers->v[i])) < 0)
			return error;
	return RO_OK;
}

/* Every spec at commit into the index (after a restart). */
static int
build_index(struct ro_gitsrc *g, const git_oid *commit, struct ro_err *err)
{
	git_repository	*repo = ro_gitrepo_git(g->repo);
	struct ro_strv	 specs = RO_STRV_INIT;
	struct ro_buf	 blob = RO_BUF_INIT;
	struct ro_diag	 diag = RO_DIAG_INIT;
	struct ro_spec	*spec;
	size_t		 i;
	int		 error;

	g->idx_built = true;
	if ((error = ro_history_list_specs(repo, commit, g->o.path, &specs,
	    err)) < 0)
		goto done;
	ro_buf_init(&blob, RO_SPEC_FILE_MAX + 1);
	for (i = 0; i < specs.n; i++) {
		if (ro_gitspecs_find_path(g, specs.v[i]) != NULL)
			continue;	/* newer: put by the commit in hand */
		ro_buf_reset(&blob);
		spec = NULL;
		if (ro_history_read(repo, commit, specs.v[i], RO_SPEC_FILE_MAX,
		    &blob, NULL) == RO_OK && ro_spec_parse_yaml(&spec,
		    specs.v[i], ro_buf_cstr(&blob), blob.len, &diag,
		    NULL) == RO_OK && idx_put(g, specs.v[i], spec) < 0)
			error = ro_err_set(err, RO_ENOMEM, "out of memory");
		ro_spec_free(spec);
		ro_diag_release(&diag);
		if (error < 0)
			break;
	}
done:
	ro_strv_release(&specs);
	ro_buf_release(&blob);
	return error;
}

/*
 * Order paths with the specs present at commit first and the deleted
 * ones last: a spec moved to another file is seen at its new path
 * before its old path is taken as a deleted room.
 */
int
ro_gitspecs_deleted_last(struct ro_gitsrc *g, const git_oid *commit,
    struct ro_strv *paths)
{
	struct ro_strv	ord = RO_STRV_INIT, gone = RO_STRV_INIT;
	size_t		i;
	int		error = RO_OK;

	for (i = 0; i < paths->n && error == RO_OK; i++)
		error = ro_strv_push(path_at(g, commit, paths->v[i]) ? &ord :
		    &gone, paths->v[i]);
	for (i = 0; i < gone.n && error == RO_OK; i++)
		error = ro_strv_push(&ord, gone.v[i]);
	if (error == RO_OK) {
		ro_strv_release(paths);
		*paths = ord;
		ord = (struct ro_strv)RO_STRV_INIT;
	}
	ro_strv_release(&ord);
	ro_strv_release(&gone);
	return error;
}

/*
 * The index as of commit (the last one processed), built once after a
 * start: deleted specs, seed files, duplicate rooms and the room of a
 * spec that no longer parses are looked up in it.
 */
int
ro_gitspecs_ensure_index(struct ro_gitsrc *g, const git_oid *commit,
    struct ro_err *err)
{
	if (g->idx_built || commit == NULL)
		return RO_OK;
	return build_index(g, commit, err);
}
