/* plandiff.c: the rooms whose specs changed between two revisions. */
#include <sys/stat.h>

#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>

#include "roomops/seed.h"
#include "roomops/spec.h"
#include "roomops/specset.h"
#include "history.h"
#include "plandiff.h"

#include "../common/banned.h"

#define PLANDIFF_FOLDERS_MAX	64	/* PATH arguments */

struct ctx {
	const struct ro_plandiff_opts	*o;
	git_repository			*repo;
	git_oid				 base, head;
	char				*folders[PLANDIFF_FOLDERS_MAX];
	size_t				 nfolders;
	struct ro_strv			 seeds;	/* changed non-spec paths */
	struct ro_plandiff		*out;
};

static int
git_fail(struct ro_err *err, int code, const char *what)
{
	const git_error	*e = git_error_last();

	return ro_err_set(err, code, "%s: %s", what, e != NULL && e->message !=
	    NULL ? e->message : "libgit2 error");
}

void
ro_plandiff_release(struct ro_plandiff *d)
{
	size_t	i;

	for (i = 0; i < d->n; i++) {
		free(d->v[i].path);
		ro_spec_free(d->v[i].spec);
		free(d->v[i].room_id);
		ro_strv_release(&d->v[i].errors);
		free(d->v[i].note);
	}
	free(d->v);
	d->v = NULL;
	d->n = d->cap = 0;
	ro_strv_release(&d->confirms);
}

static struct ro_plandiff_item *
item_add(struct ro_plandiff *d, const char *path, const char *change)
{
	struct ro_plandiff_item	*v;
	size_t			 cap;

	if (d->n >= RO_PLANDIFF_MAX)
		return NULL;
	if (d->n == d->cap) {
		cap = d->cap > 0 ? 2 * d->cap : 16;
		if ((v = reallocarray(d->v, cap, sizeof(*v))) == NULL)
			return NULL;
		d->v = v;
		d->cap = cap;
	}
	v = &d->v[d->n];
	memset(v, 0, sizeof(*v));
	if ((v->path = strdup(path)) == NULL)
		return NULL;
	v->change = change;
	d->n++;
	return v;
}

static bool
item_has(const struct ro_plandiff *d, const char *path)
{
	size_t	i;

	for (i = 0; i < d->n; i++)
		if (strcmp(d->v[i].path, path) == 0)
			return true;
	return false;
}

/* The folder holding path (longest match), or NULL when outside. */
static const char *
folder_of(const struct ctx *c, const char *path)
{
	const char	*best = NULL;
	size_t		 i, n;

	for (i = 0; i < c->nfolders; i++) {
		n = strlen(c->folders[i]);
		if (n > 0 && (strncmp(path, c->folders[i], n) != 0 ||
		    path[n] != '/'))
			continue;
		if (best == NULL || n > strlen(best))
			best = c->folders[i];
	}
	return best;
}

/* The spec's folder relative to its root folder. */
static void
spec_dir(const char *root, const char *path, char *out, size_t len)
{
	size_t		 rl = strlen(root);
	const char	*rel = path, *slash;

	if (rl > 0)
		rel = path + rl + 1;
	slash = strrchr(rel, '/');
	snprintf(out, len, "%.*s", slash != NULL ? (int)(slash - rel) : 0,
	    rel);
}

/*
 * Parse path at commit (seeds resolved from the same commit). *spec is
 * NULL when it does not parse or validate (diag says why).
 */
static int
parse_at(struct ctx *c, const git_oid *commit, const char *path,
    struct ro_spec **spec, struct ro_diag *diag, struct ro_err *err)
{
	struct ro_history_source src;
	struct ro_buf		 blob = RO_BUF_INIT;
	const char		*root = folder_of(c, path);
	char			 dir[PATH_MAX];
	int			 error;

	*spec = NULL;
	ro_buf_init(&blob, RO_SPEC_FILE_MAX + 1);
	error = ro_history_read(c->repo, commit, path, RO_SPEC_FILE_MAX, &blob,
	    err);
	if (error == RO_ENOMEM)
		goto done;
	if (error < 0) {
		error = ro_diag_error(diag, path, 0, 0, NULL, "%s", err->msg);
		goto done;
	}
	error = ro_spec_parse_yaml(spec, path, ro_buf_cstr(&blob), blob.len,
	    diag, err);
	if (error == RO_OK) {
		spec_dir(root != NULL ? root : "", path, dir, sizeof(dir));
		src.repo = c->repo;
		src.commit = *commit;
		src.root = root != NULL ? root : "";
		error = ro_seed_resolve(*spec, dir, ro_history_seed_reader,
		    &src, diag, err);
		if (error < 0) {
			ro_spec_free(*spec);
			*spec = NULL;
		}
	}
	if (error != RO_ENOMEM)
		error = RO_OK;
done:
	ro_buf_release(&blob);
	return error;
}

/* A spec added or changed at HEAD. */
static int
take_head(struct ctx *c, const char *path, const char *change,
    struct ro_err *err)
{
	struct ro_plandiff_item	*it;
	struct ro_diag		 diag = RO_DIAG_INIT, bd = RO_DIAG_INIT;
	struct ro_spec		*spec = NULL, *old = NULL;
	int			 error;

	if ((error = parse_at(c, &c->head, path, &spec, &diag, err)) < 0)
		goto done;
	if ((it = item_add(c->out, path, change)) == NULL)
		goto oom;
	if (spec != NULL) {
		if ((it->room_id = strdup(spec->room_id)) == NULL)
			goto oom;
		it->spec = spec;
		spec = NULL;
		goto done;
	}
	/* invalid: its room from the BASE version, when that one is valid */
	if (strcmp(change, "changed") == 0 && (error = parse_at(c, &c->base,
	    path, &old, &bd, err)) < 0)
		goto done;
	if (old != NULL && (it->room_id = strdup(old->room_id)) == NULL)
		goto oom;
	if (ro_strv_copy(&it->errors, &diag.errors) < 0)
		goto oom;
	error = RO_OK;
	goto done;
oom:
	error = ro_err_set(err, RO_ENOMEM, "out of memory");
done:
	ro_spec_free(spec);
	ro_spec_free(old);
	ro_diag_release(&diag);
	ro_diag_release(&bd);
	return error;
}

/* A spec deleted at HEAD: what a prune of its room would remove. */
static int
take_deleted(struct ctx *c, const char *path, struct ro_err *err)
{
	struct ro_plandiff_item	*it;
	struct ro_diag		 diag = RO_DIAG_INIT;
	struct ro_spec		*old = NULL, *spec = NULL;
	const char		*pr;
	bool			 ann;
	int			 error;

	if ((error = parse_at(c, &c->base, path, &old, &diag, err)) < 0)
		goto done;
	if ((it = item_add(c->out, path, "deleted")) == NULL)
		goto oom;
	if (old == NULL) {
		if (ro_strv_push(&it->errors, "the deleted spec was not valid "
		    "at the base revision: its room is unknown") < 0 ||
		    ro_strv_copy(&it->errors, &diag.errors) < 0)
			goto oom;
		goto done;
	}
	ann = (pr = ro_spec_annotation(old, "roomops/prune")) != NULL &&
	    strcmp(pr, "true") == 0;
	if ((spec = calloc(1, sizeof(*spec))) == NULL ||
	    (spec->room_id = strdup(old->room_id)) == NULL ||
	    (spec->path = strdup(path)) == NULL ||
	    ro_policies_default(&spec->policies) < 0 ||
	    (it->room_id = strdup(old->room_id)) == NULL)
		goto oom;
	spec->prune = true;
	spec->version = 1;
	if (asprintf(&it->note, "Spec deleted: a prune would remove what "
	    "is listed below; the agent prunes %s.", c->o->prune ?
	    "it (--prune)" : ann ? "it (roomops/prune: \"true\" on its "
	    "last version)" : "only with --prune or roomops/prune: \"true\", "
	    "so it leaves this room as it is") < 0) {
		it->note = NULL;
		goto oom;
	}
	it->spec = spec;
	spec = NULL;
	error = RO_OK;
	goto done;
oom:
	error = ro_err_set(err, RO_ENOMEM, "out of memory");
done:
	ro_spec_free(old);
	ro_spec_free(spec);
	ro_diag_release(&diag);
	return error;
}

/* Specs at HEAD that seed from a changed file. */
static int
take_seed_users(struct ctx *c, struct ro_err *err)
{
	struct ro_strv		 specs = RO_STRV_INIT;
	struct ro_buf		 norm = RO_BUF_INIT, rel = RO_BUF_INIT;
	struct ro_diag		 diag = RO_DIAG_INIT;
	struct ro_plandiff_item	*it;
	struct ro_spec		*spec;
	const char		*root;
	char			 dir[PATH_MAX];
	size_t			 f, i, k;
	int			 error = RO_OK;

	for (f = 0; f < c->nfolders && error == RO_OK; f++) {
		ro_strv_release(&specs);
		if ((error = ro_history_list_specs(c->repo, &c->head,
		    c->folders[f], &specs, err)) < 0)
			break;
		for (i = 0; i < specs.n && error == RO_OK; i++) {
			if (item_has(c->out, specs.v[i]) ||
			    folder_of(c, specs.v[i]) != c->folders[f])
				continue;
			root = c->folders[f];
			if ((error = parse_at(c, &c->head, specs.v[i], &spec,
			    &diag, err)) < 0)
				break;
			ro_diag_release(&diag);
			if (spec == NULL)
				continue;
			spec_dir(root, specs.v[i], dir, sizeof(dir));
			for (k = 0; k < spec->n_artifacts; k++) {
				if (spec->artifacts[k].seed_from == NULL)
					continue;
				/* normalised from the root folder, then
				 * from the repository root */
				if (ro_seed_normalize(&rel, dir,
				    spec->artifacts[k].seed_from, NULL) < 0)
					continue;
				ro_buf_reset(&norm);
				if (ro_buf_printf(&norm, "%s%s%s", root,
				    root[0] != '\0' ? "/" : "",
				    ro_buf_cstr(&rel)) < 0)
					continue;
				if (ro_strv_contains(&c->seeds,
				    ro_buf_cstr(&norm)))
					break;
			}
			if (k == spec->n_artifacts) {
				ro_spec_free(spec);
				continue;
			}
			if ((it = item_add(c->out, specs.v[i], "changed")) ==
			    NULL || (it->room_id = strdup(spec->room_id)) ==
			    NULL || asprintf(&it->note, "Seed file changed: "
			    "`%s`.", ro_buf_cstr(&norm)) < 0) {
				ro_spec_free(spec);
				error = ro_err_set(err, RO_ENOMEM,
				    "out of memory");
				break;
			}
			it->spec = spec;
		}
	}
	ro_strv_release(&specs);
	ro_buf_release(&norm);
	ro_buf_release(&rel);
	ro_diag_release(&diag);
	return error;
}

static int
diff_folder(struct ctx *c, git_tree *bt, git_tree *ht, const char *folder,
    struct ro_err *err)
{
	git_diff		*diff = NULL;
	git_diff_options	 opts;
	const git_diff_delta	*d;
	const char		*path;
	char			*spec[1];
	size_t			 i, n;
	int			 error = RO_OK;

	git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	opts.flags |= GIT_DIFF_DISABLE_PATHSPEC_MATCH |
	    GIT_DIFF_INCLUDE_TYPECHANGE | GIT_DIFF_SKIP_BINARY_CHECK;
	if (folder[0] != '\0') {
		spec[0] = (char *)(uintptr_t)folder;
		opts.pathspec.strings = spec;
		opts.pathspec.count = 1;
	}
	if (git_diff_tree_to_tree(&diff, c->repo, bt, ht, &opts) < 0)
		return git_fail(err, RO_ERROR, "diff");
	n = git_diff_num_deltas(diff);
	for (i = 0; i < n && error == RO_OK; i++) {
		d = git_diff_get_delta(diff, i);
		path = d->status == GIT_DELTA_DELETED ? d->old_file.path :
		    d->new_file.path;
		if (item_has(c->out, path) || folder_of(c, path) != folder)
			continue;
		if (!ro_specset_is_spec_name(path)) {
			if (!ro_strv_contains(&c->seeds, path) &&
			    ro_strv_push(&c->seeds, path) < 0)
				error = ro_err_set(err, RO_ENOMEM,
				    "out of memory");
			continue;
		}
		switch (d->status) {
		case GIT_DELTA_ADDED:
			error = take_head(c, path, "added", err);
			break;
		case GIT_DELTA_DELETED:
			error = take_deleted(c, path, err);
			break;
		default:
			error = take_head(c, path, "changed", err);
			break;
		}
		if (error == RO_OK && c->out->n >= RO_PLANDIFF_MAX)
			error = ro_err_set(err, RO_ETOOBIG, "more than %u "
			    "rooms", RO_PLANDIFF_MAX);
	}
	git_diff_free(diff);
	return error;
}

/* Renames and duplicate rooms among the items (sorted by path). */
static int
settle_rooms(struct ro_plandiff *d, struct ro_err *err)
{
	struct ro_plandiff_item	*a, *b;
	size_t			 i, j;

	for (i = 0; i < d->n; i++) {
		a = &d->v[i];
		if (a->room_id == NULL || a->spec == NULL)
			continue;
		for (j = 0; j < d->n; j++) {
			b = &d->v[j];
			if (j == i || b->spec == NULL || b->room_id == NULL ||
			    strcmp(a->room_id, b->room_id) != 0)
				continue;
			if (strcmp(a->change, "deleted") == 0 &&
			    strcmp(b->change, "deleted") != 0) {
				free(a->note);
				if (asprintf(&a->note, "Spec deleted, but the "
				    "room is declared by `%s` now: nothing is "
				    "removed.", b->path) < 0) {
					a->note = NULL;
					goto oom;
				}
				ro_spec_free(a->spec);
				a->spec = NULL;
				a->moved = true;
				break;
			}
			if (strcmp(a->change, "deleted") != 0 &&
			    strcmp(b->change, "deleted") != 0 && j < i) {
				if (ro_strv_pushf(&a->errors, "%s: spec.roomId: "
				    "room %s is also declared by %s; the room "
				    "is left as it is", a->path, a->room_id,
				    b->path) < 0)
					goto oom;
				ro_spec_free(a->spec);
				a->spec = NULL;
				break;
			}
		}
	}
	return RO_OK;
oom:
	return ro_err_set(err, RO_ENOMEM, "out of memory");
}

static int
rev_commit(git_repository *repo, const char *rev, git_oid *out,
    struct ro_err *err)
{
	git_object	*o = NULL, *p = NULL;

	if (git_revparse_single(&o, repo, rev) < 0)
		return ro_err_set(err, RO_ENOTFOUND, "unknown revision "
		    "\"%.200s\"", rev);
	if (git_object_peel(&p, o, GIT_OBJECT_COMMIT) < 0) {
		git_object_free(o);
		return ro_err_set(err, RO_ENOTFOUND, "%.200s: not a commit",
		    rev);
	}
	git_oid_cpy(out, git_object_id(p));
	git_object_free(p);
	git_object_free(o);
	return RO_OK;
}

static int
rmrf_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 ? 0 : -1;
}

static int
open_repo(struct ctx *c, char *tmp, size_t tmplen, struct ro_err *err)
{
	git_clone_options	 co;
	struct stat		 sb;
	const char		*t;

	/* CI runs the plan in a container whose user does not own the
	 * checkout; the plan only reads objects (libgit2 runs no hooks or
	 * filters from the repository), so the owner check is off */
	(void)git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
	if (c->o->repo == NULL) {
		if (git_repository_open_ext(&c->repo, ".", 0, NULL) < 0)
			return git_fail(err, RO_ENOTFOUND, "not in a Git work "
			    "tree (or give --repo)");
		return RO_OK;
	}
	if (stat(c->o->repo, &sb) == 0) {
		if (git_repository_open_ext(&c->repo, c->o->repo, 0, NULL) < 0)
			return git_fail(err, RO_ENOTFOUND, c->o->repo);
		return RO_OK;
	}
	t = getenv("TMPDIR");
	snprintf(tmp, tmplen, "%s/roomops-plan.XXXXXX", t != NULL &&
	    t[0] != '\0' ? t : "/tmp");
	if (mkdtemp(tmp) == NULL) {
		tmp[0] = '\0';
		return ro_err_errno(err, RO_ERROR, "mkdtemp");
	}
	git_clone_options_init(&co, GIT_CLONE_OPTIONS_VERSION);
	co.bare = 1;
	if (git_clone(&c->repo, c->o->repo, tmp, &co) < 0)
		return git_fail(err, RO_ERROR, c->o->repo);
	return RO_OK;
}

static int
item_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ro_plandiff_item *)a)->path,
	    ((const struct ro_plandiff_item *)b)->path);
}

static int
norm_folder(const char *in, char **out, struct ro_err *err)
{
	size_t	n;

	while (in[0] == '.' && in[1] == '/')
		in += 2;
	while (in[0] == '/')
		in++;
	if (strcmp(in, ".") == 0)
		in = "";
	n = strlen(in);
	while (n > 0 && in[n - 1] == '/')
		n--;
	if (n > RO_HISTORY_PATH_MAX || strstr(in, "..") != NULL)
		return ro_err_set(err, RO_EINVALID, "bad folder \"%.200s\"",
		    in);
	if ((*out = strndup(in, n)) == NULL)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	return RO_OK;
}

int
ro_plandiff_load(struct ro_plandiff *out, const struct ro_plandiff_opts *o,
    struct ro_err *err)
{
	struct ctx	 c;
	git_commit	*bc = NULL, *hc = NULL;
	git_tree	*bt = NULL, *ht = NULL;
	git_oid		 mb;
	struct ro_history h = RO_HISTORY_INIT;
	struct ro_strv	 tr = RO_STRV_INIT;
	char		 tmp[PATH_MAX] = "";
	bool		 inited = false;
	size_t		 i, k;
	int		 error;

	memset(&c, 0, sizeof(c));
	c.o = o;
	c.out = out;
	if (o->n_paths > PLANDIFF_FOLDERS_MAX)
		return ro_err_set(err, RO_EINVALID, "more than %d folders",
		    PLANDIFF_FOLDERS_MAX);
	for (i = 0; i < (o->n_paths > 0 ? o->n_paths : 1); i++) {
		if ((error = norm_folder(o->n_paths > 0 ? o->paths[i] : "",
		    &c.folders[i], err)) < 0)
			goto done;
		c.nfolders++;
	}
	git_libgit2_init();
	inited = true;
	if ((error = open_repo(&c, tmp, sizeof(tmp), err)) < 0 ||
	    (error = rev_commit(c.repo, o->base, &c.base, err)) < 0 ||
	    (error = rev_commit(c.repo, o->head, &c.head, err)) < 0)
		goto done;
	if (o->merge_base) {
		if (git_merge_base(&mb, c.repo, &c.base, &c.head) < 0) {
			error = git_fail(err, RO_ENOTFOUND, "merge base");
			goto done;
		}
		c.base = mb;
	}
	git_oid_tostr(out->base, sizeof(out->base), &c.base);
	git_oid_tostr(out->head, sizeof(out->head), &c.head);
	if (git_commit_lookup(&bc, c.repo, &c.base) < 0 ||
	    git_commit_lookup(&hc, c.repo, &c.head) < 0 ||
	    git_commit_tree(&bt, bc) < 0 || git_commit_tree(&ht, hc) < 0) {
		error = git_fail(err, RO_ERROR, "trees");
		goto done;
	}
	if ((error = ro_history_range(c.repo, &c.base, &c.head, 0, &h,
	    err)) < 0)
		goto done;
	for (i = 0; i < h.n; i++) {
		ro_strv_release(&tr);
		if ((error = ro_history_confirms(c.repo, &h.ids[i], &tr,
		    err)) < 0)
			goto done;
		for (k = 0; k < tr.n; k++)
			if (!ro_strv_contains(&out->confirms, tr.v[k]) &&
			    ro_strv_push(&out->confirms, tr.v[k]) < 0) {
				error = ro_err_set(err, RO_ENOMEM,
				    "out of memory");
				goto done;
			}
	}
	for (i = 0; i < c.nfolders; i++)
		if ((error = diff_folder(&c, bt, ht, c.folders[i], err)) < 0)
			goto done;
	if (c.seeds.n > 0 && (error = take_seed_users(&c, err)) < 0)
		goto done;
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), item_cmp);
	error = settle_rooms(out, err);
done:
	ro_history_release(&h);
	ro_strv_release(&tr);
	git_tree_free(bt);
	git_tree_free(ht);
	git_commit_free(bc);
	git_commit_free(hc);
	git_repository_free(c.repo);
	if (tmp[0] != '\0')
		(void)nftw(tmp, rmrf_cb, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	for (i = 0; i < c.nfolders; i++)
		free(c.folders[i]);
	ro_strv_release(&c.seeds);
	if (inited)
		git_libgit2_shutdown();
	return error;
}
