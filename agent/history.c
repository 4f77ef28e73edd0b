/* history.c: commits, tree diffs, blobs and trailers of the spec repo. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <git2.h>

#include "roomops/model.h"

#include "history.h"

#include "../common/banned.h"

#define CONFIRM_VALUE_MAX	256	/* bytes */

static int
git_err(struct ro_err *err, int code, const char *what, const git_oid *id)
{
	const git_error	*e = git_error_last();
	char		 hex[GIT_OID_HEXSZ + 1] = "";

	if (id != NULL)
		git_oid_tostr(hex, sizeof(hex), id);
	return ro_err_set(err, code, "%s%s%s: %s", what, id != NULL ? " " : "",
	    hex, e != NULL && e->message != NULL ? e->message : "git error");
}

static int
commit_get(git_repository *repo, const git_oid *id, git_commit **out,
    struct ro_err *err)
{
	int	rc;

	if ((rc = git_commit_lookup(out, repo, id)) == 0)
		return RO_OK;
	return git_err(err, rc == GIT_ENOTFOUND || rc == GIT_EINVALIDSPEC ?
	    RO_ENOTFOUND : RO_ERROR, "commit", id);
}

/* ---- ranges ------------------------------------------------------------ */

void
ro_history_release(struct ro_history *h)
{
	free(h->ids);
	h->ids = NULL;
	h->n = 0;
	h->total = 0;
	h->truncated = false;
}

int
ro_history_range(git_repository *repo, const git_oid *from, const git_oid *to,
    size_t max, struct ro_history *out, struct ro_err *err)
{
	git_revwalk	*walk = NULL;
	git_commit	*c = NULL;
	git_oid		*ring = NULL, id;
	size_t		 total = 0, n, i, first;
	int		 rc, error;

	memset(out, 0, sizeof(*out));
	if (max == 0 || max > RO_HISTORY_MAX)
		max = RO_HISTORY_MAX;
	/* Both ends must be commits (hide would accept other objects). */
	if ((error = commit_get(repo, to, &c, err)) < 0)
		goto done;
	git_commit_free(c);
	c = NULL;
	if (from != NULL && (error = commit_get(repo, from, &c, err)) < 0)
		goto done;
	if (git_revwalk_new(&walk, repo) < 0 ||
	    git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL) < 0 ||
	    git_revwalk_simplify_first_parent(walk) < 0 ||
	    git_revwalk_push(walk, to) < 0 ||
	    (from != NULL && git_revwalk_hide(walk, from) < 0)) {
		error = git_err(err, RO_ERROR, "revwalk", to);
		goto done;
	}
	/* Newest first; keep the newest max in a ring. */
	while ((rc = git_revwalk_next(&id, walk)) == 0) {
		if (ring == NULL && (ring = calloc(max, sizeof(*ring))) ==
		    NULL) {
			error = ro_err_set(err, RO_ENOMEM, "out of memory");
			goto done;
		}
		if (total < max)
			git_oid_cpy(&ring[total], &id);
		total++;	/* past max: older ones, only counted */
	}
	if (rc != GIT_ITEROVER) {
		error = git_err(err, RO_ERROR, "revwalk", to);
		goto done;
	}
	n = total < max ? total : max;
	if (n > 0) {
		if ((out->ids = calloc(n, sizeof(*out->ids))) == NULL) {
			error = ro_err_set(err, RO_ENOMEM, "out of memory");
			goto done;
		}
		/* ring[0] is the newest: reverse into oldest first. */
		first = n - 1;
		for (i = 0; i < n; i++)
			git_oid_cpy(&out->ids[i], &ring[first - i]);
	}
	out->n = n;
	out->total = total;
	out->truncated = total > n;
	error = RO_OK;
done:
	free(ring);
	git_commit_free(c);
	git_revwalk_free(walk);
	return error;
}

int
ro_history_rewritten(git_repository *repo, const git_oid *old_head,
    const git_oid *new_head, bool *rewritten, struct ro_err *err)
{
	git_commit	*c = NULL;
	int		 rc;

	*rewritten = false;
	if (git_oid_equal(old_head, new_head))
		return RO_OK;
	rc = git_commit_lookup(&c, repo, old_head);
	git_commit_free(c);
	if (rc == GIT_ENOTFOUND) {
		*rewritten = true;	/* cannot prove it is an ancestor */
		return RO_OK;
	}
	if (rc < 0)
		return git_err(err, RO_ERROR, "commit", old_head);
	rc = git_graph_descendant_of(repo, new_head, old_head);
	if (rc < 0)
		return git_err(err, RO_ERROR, "ancestry of", new_head);
	*rewritten = rc == 0;
	return RO_OK;
}

/* ---- paths --------------------------------------------------------------- */

/*
 * Normalise a folder argument into buf: no leading "./" or '/', no
 * trailing '/'; "" for the root. RO_EINVALID for "." or ".." parts.
 */
static int
folder_norm(char *buf, size_t bufsz, const char *folder, struct ro_err *err)
{
	size_t	n;

	if (folder == NULL)
		folder = "";
	while (folder[0] == '.' && folder[1] == '/')
		folder += 2;
	while (folder[0] == '/')
		folder++;
	if (strcmp(folder, ".") == 0)
		folder = "";
	n = strlen(folder);
	while (n > 0 && folder[n - 1] == '/')
		n--;
	if (n >= bufsz || n > RO_HISTORY_PATH_MAX)
		return ro_err_set(err, RO_EINVALID, "folder too long");
	memcpy(buf, folder, n);
	buf[n] = '\0';
	if (strcmp(buf, "..") == 0 || strncmp(buf, "../", 3) == 0 ||
	    strstr(buf, "/../") != NULL || strstr(buf, "/./") != NULL ||
	    strstr(buf, "//") != NULL ||
	    (n >= 3 && strcmp(buf + n - 3, "/..") == 0) ||
	    (n >= 2 && strcmp(buf + n - 2, "/.") == 0))
		return ro_err_set(err, RO_EINVALID, "bad folder '%s'", buf);
	return RO_OK;
}

/* A relative path with no empty, "." or ".." part. */
static bool
path_ok(const char *path)
{
	const char	*p = path, *slash;
	size_t		 n;

	if (path == NULL || path[0] == '\0' || path[0] == '/' ||
	    strlen(path) > RO_HISTORY_PATH_MAX)
		return false;
	for (;;) {
		slash = strchr(p, '/');
		n = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (slash == NULL)
			return true;
		p = slash + 1;
	}
}

/* ---- changed paths --------------------------------------------------------- */

void
ro_history_changes_release(struct ro_history_changes *c)
{
	size_t	i;

	for (i = 0; i < c->n; i++)
		free(c->v[i].path);
	free(c->v);
	c->v = NULL;
	c->n = 0;
	c->cap = 0;
}

static int
changes_push(struct ro_history_changes *c, const char *path,
    enum ro_history_status st, struct ro_err *err)
{
	struct ro_history_change	*v;
	size_t				 cap;

	if (c->n >= RO_HISTORY_CHANGES_MAX)
		return ro_err_set(err, RO_ETOOBIG, "more than %u changed paths",
		    RO_HISTORY_CHANGES_MAX);
	if (c->n == c->cap) {
		cap = c->cap != 0 ? c->cap * 2 : 16;
		if ((v = realloc(c->v, cap * sizeof(*v))) == NULL)
			return ro_err_set(err, RO_ENOMEM, "out of memory");
		c->v = v;
		c->cap = cap;
	}
	if ((c->v[c->n].path = strdup(path)) == NULL)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	c->v[c->n].status = st;
	c->n++;
	return RO_OK;
}

/* Object id of folder in tree (the tree itself for the root). */
static int
subtree_id(git_tree *tree, const char *folder, bool *present, git_oid *out)
{
	git_tree_entry	*e = NULL;
	int		 rc;

	*present = false;
	if (tree == NULL)
		return 0;
	if (folder[0] == '\0') {
		git_oid_cpy(out, git_tree_id(tree));
		*present = true;
		return 0;
	}
	rc = git_tree_entry_bypath(&e, tree, folder);
	if (rc == GIT_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	git_oid_cpy(out, git_tree_entry_id(e));
	*present = true;
	git_tree_entry_free(e);
	return 0;
}

int
ro_history_changes(git_repository *repo, const git_oid *commit,
    const char *folder, struct ro_history_changes *out, struct ro_err *err)
{
	git_commit		*c = NULL, *parent = NULL;
	git_tree		*nt = NULL, *ot = NULL;
	git_diff		*diff = NULL;
	git_diff_options	 opts;
	const git_diff_delta	*d;
	char			 dir[RO_HISTORY_PATH_MAX + 1];
	char			*spec[1];
	git_oid			 oid_old, oid_new;
	bool			 has_old, has_new;
	enum ro_history_status	 st;
	size_t			 i, n;
	int			 error;

	memset(out, 0, sizeof(*out));
	if ((error = folder_norm(dir, sizeof(dir), folder, err)) < 0 ||
	    (error = commit_get(repo, commit, &c, err)) < 0)
		goto done;
	if (git_commit_tree(&nt, c) < 0 ||
	    (git_commit_parentcount(c) > 0 &&
	    (git_commit_parent(&parent, c, 0) < 0 ||
	    git_commit_tree(&ot, parent) < 0))) {
		error = git_err(err, RO_ERROR, "trees of", commit);
		goto done;
	}
	/* Same folder object on both sides: nothing changed in it. */
	if (subtree_id(ot, dir, &has_old, &oid_old) < 0 ||
	    subtree_id(nt, dir, &has_new, &oid_new) < 0) {
		error = git_err(err, RO_ERROR, "folder in", commit);
		goto done;
	}
	if (has_old == has_new && (!has_old ||
	    git_oid_equal(&oid_old, &oid_new))) {
		error = RO_OK;
		goto done;
	}
	git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	opts.flags |= GIT_DIFF_DISABLE_PATHSPEC_MATCH |
	    GIT_DIFF_INCLUDE_TYPECHANGE | GIT_DIFF_SKIP_BINARY_CHECK;
	if (dir[0] != '\0') {
		spec[0] = dir;
		opts.pathspec.strings = spec;
		opts.pathspec.count = 1;
	}
	if (git_diff_tree_to_tree(&diff, repo, ot, nt, &opts) < 0) {
		error = git_err(err, RO_ERROR, "diff of", commit);
		goto done;
	}
	n = git_diff_num_deltas(diff);
	for (i = 0; i < n; i++) {
		d = git_diff_get_delta(diff, i);
		switch (d->status) {
		case GIT_DELTA_ADDED:
			st = RO_HISTORY_ADDED;
			break;
		case GIT_DELTA_DELETED:
			st = RO_HISTORY_DELETED;
			break;
		case GIT_DELTA_TYPECHANGE:
			st = RO_HISTORY_TYPECHANGE;
			break;
		default:
			st = RO_HISTORY_MODIFIED;
			break;
		}
		if ((error = changes_push(out, st == RO_HISTORY_DELETED ?
		    d->old_file.path : d->new_file.path, st, err)) < 0)
			goto done;
	}
	error = RO_OK;
done:
	if (error < 0)
		ro_history_changes_release(out);
	git_diff_free(diff);
	git_tree_free(ot);
	git_tree_free(nt);
	git_commit_free(parent);
	git_commit_free(c);
	return error;
}

/* ---- blobs ------------------------------------------------------------------ */

static const char *
mode_name(git_filemode_t m)
{
	switch (m) {
	case GIT_FILEMODE_LINK:		return "a symlink";
	case GIT_FILEMODE_COMMIT:	return "a submodule";
	case GIT_FILEMODE_TREE:		return "a folder";
	default:			return "not a regular file";
	}
}

int
ro_history_read(git_repository *repo, const git_oid *commit,
    const char *path, size_t max, struct ro_buf *out, struct ro_err *err)
{
	git_commit	*c = NULL;
	git_tree	*t = NULL;
	git_tree_entry	*e = NULL;
	git_odb		*odb = NULL;
	git_blob	*blob = NULL;
	git_object_t	 type;
	git_filemode_t	 mode;
	size_t		 len;
	int		 rc, error;

	if (max == 0)
		max = RO_ARTIFACT_MAX;
	if (!path_ok(path))
		return ro_err_set(err, RO_EINVALID, "bad path '%s'",
		    path != NULL ? path : "(null)");
	if ((error = commit_get(repo, commit, &c, err)) < 0)
		goto done;
	if (git_commit_tree(&t, c) < 0) {
		error = git_err(err, RO_EIO, "tree of", commit);
		goto done;
	}
	if ((rc = git_tree_entry_bypath(&e, t, path)) == GIT_ENOTFOUND) {
		error = ro_err_set(err, RO_ENOTFOUND, "%s: not in the commit",
		    path);
		goto done;
	} else if (rc < 0) {
		error = git_err(err, RO_EIO, path, NULL);
		goto done;
	}
	mode = git_tree_entry_filemode(e);
	if (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE) {
		error = ro_err_set(err, RO_EINVALID, "%s: %s (mode %06o)",
		    path, mode_name(mode), (unsigned)mode);
		goto done;
	}
	/* Check the size from the object header before inflating it. */
	if (git_repository_odb(&odb, repo) < 0 ||
	    git_odb_read_header(&len, &type, odb, git_tree_entry_id(e)) < 0) {
		error = git_err(err, RO_EIO, path, NULL);
		goto done;
	}
	if (type != GIT_OBJECT_BLOB) {
		error = ro_err_set(err, RO_EINVALID, "%s: not a blob", path);
		goto done;
	}
	if (len > max) {
		error = ro_err_set(err, RO_ETOOBIG, "%s: %zu bytes (limit %zu)",
		    path, len, max);
		goto done;
	}
	if (git_blob_lookup(&blob, repo, git_tree_entry_id(e)) < 0) {
		error = git_err(err, RO_EIO, path, NULL);
		goto done;
	}
	len = (size_t)git_blob_rawsize(blob);
	if ((error = ro_buf_add(out, git_blob_rawcontent(blob), len)) < 0) {
		ro_err_set(err, error, "%s: %s", path, error == RO_ETOOBIG ?
		    "over the buffer limit" : "out of memory");
		goto done;
	}
	error = RO_OK;
done:
	git_blob_free(blob);
	git_odb_free(odb);
	git_tree_entry_free(e);
	git_tree_free(t);
	git_commit_free(c);
	return error;
}

int
ro_history_seed_reader(void *arg, const char *relpath, struct ro_buf *out,
    struct ro_err *err)
{
	struct ro_history_source	*src = arg;
	char				 dir[RO_HISTORY_PATH_MAX + 1];
	char				 path[2 * RO_HISTORY_PATH_MAX + 2];
	int				 error, n;

	if ((error = folder_norm(dir, sizeof(dir), src->root, err)) < 0)
		return error;
	if (relpath == NULL || !path_ok(relpath))
		return ro_err_set(err, RO_EINVALID, "bad seed path '%s'",
		    relpath != NULL ? relpath : "(null)");
	n = snprintf(path, sizeof(path), "%s%s%s", dir, dir[0] != '\0' ?
	    "/" : "", relpath);
	if (n < 0 || (size_t)n >= sizeof(path))
		return ro_err_set(err, RO_EINVALID, "seed path too long");
	return ro_history_read(src->repo, &src->commit, path, RO_ARTIFACT_MAX,
	    out, err);
}

/* ---- spec files -------------------------------------------------------------- */

struct specwalk {
	const char	*dir;
	struct ro_strv	*out;
	struct ro_err	*err;
	int		 error;
};

static bool
is_yaml(const char *name)
{
	size_t	n = strlen(name);

	return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
	    (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

static int
specwalk_cb(const char *root, const git_tree_entry *e, void *payload)
{
	struct specwalk	*w = payload;
	const char	*name = git_tree_entry_name(e);
	git_filemode_t	 mode = git_tree_entry_filemode(e);

	if (name[0] == '.')	/* hidden: skipped, folders with content */
		return mode == GIT_FILEMODE_TREE ? 1 : 0;
	if ((mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE)
	    || !is_yaml(name))
		return 0;
	if (w->out->n >= RO_HISTORY_SPECS_MAX) {
		w->error = ro_err_set(w->err, RO_ETOOBIG,
		    "more than %u spec files", RO_HISTORY_SPECS_MAX);
		return -1;
	}
	if (ro_strv_pushf(w->out, "%s%s%s%s", w->dir, w->dir[0] != '\0' ?
	    "/" : "", root, name) < 0) {
		w->error = ro_err_set(w->err, RO_ENOMEM, "out of memory");
		return -1;
	}
	return 0;
}

int
ro_history_list_specs(git_repository *repo, const git_oid *commit,
    const char *folder, struct ro_strv *out, struct ro_err *err)
{
	git_commit	*c = NULL;
	git_tree	*t = NULL, *sub = NULL;
	git_tree_entry	*e = NULL;
	char		 dir[RO_HISTORY_PATH_MAX + 1];
	struct specwalk	 w;
	int		 rc, error;

	if ((error = folder_norm(dir, sizeof(dir), folder, err)) < 0 ||
	    (error = commit_get(repo, commit, &c, err)) < 0)
		goto done;
	if (git_commit_tree(&t, c) < 0) {
		error = git_err(err, RO_ERROR, "tree of", commit);
		goto done;
	}
	if (dir[0] != '\0') {
		rc = git_tree_entry_bypath(&e, t, dir);
		if (rc == GIT_ENOTFOUND) {
			error = RO_OK;
			goto done;
		}
		if (rc < 0) {
			error = git_err(err, RO_ERROR, dir, NULL);
			goto done;
		}
		if (git_tree_entry_type(e) != GIT_OBJECT_TREE) {
			error = ro_err_set(err, RO_EINVALID,
			    "%s: not a folder", dir);
			goto done;
		}
		if (git_tree_lookup(&sub, repo, git_tree_entry_id(e)) < 0) {
			error = git_err(err, RO_ERROR, dir, NULL);
			goto done;
		}
	}
	w.dir = dir;
	w.out = out;
	w.err = err;
	w.error = RO_OK;
	rc = git_tree_walk(sub != NULL ? sub : t, GIT_TREEWALK_PRE,
	    specwalk_cb, &w);
	if (w.error < 0)
		error = w.error;
	else if (rc < 0)
		error = git_err(err, RO_ERROR, "walk of", commit);
	else
		error = RO_OK;
done:
	git_tree_entry_free(e);
	git_tree_free(sub);
	git_tree_free(t);
	git_commit_free(c);
	return error;
}

/* ---- trailers ------------------------------------------------------------------ */

/* Trim blanks into buf; false when the value is empty, too long or bad. */
static bool
confirm_value(char *buf, size_t bufsz, const char *v)
{
	size_t	n, i;

	while (*v == ' ' || *v == '\t')
		v++;
	n = strlen(v);
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t' ||
	    v[n - 1] == '\r'))
		n--;
	if (n == 0 || n > CONFIRM_VALUE_MAX || n >= bufsz)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] <= ' ' || v[i] == 0x7f)
			return false;
	memcpy(buf, v, n);
	buf[n] = '\0';
	return true;
}

int
ro_history_parse_confirm(const char *message, struct ro_strv *out,
    struct ro_err *err)
{
	git_message_trailer_array	arr;
	char				value[CONFIRM_VALUE_MAX + 1];
	size_t				i;
	int				error = RO_OK;

	memset(&arr, 0, sizeof(arr));
	if (message == NULL)
		return RO_OK;
	if (git_message_trailers(&arr, message) < 0)
		return git_err(err, RO_ERROR, "commit message trailers", NULL);
	for (i = 0; i < arr.count; i++) {
		if (strcasecmp(arr.trailers[i].key, RO_HISTORY_TRAILER) != 0 ||
		    !confirm_value(value, sizeof(value), arr.trailers[i].value) ||
		    ro_strv_contains(out, value))
			continue;
		if (out->n >= RO_HISTORY_CONFIRM_MAX)
			break;
		if (ro_strv_push(out, value) < 0) {
			error = ro_err_set(err, RO_ENOMEM, "out of memory");
			break;
		}
	}
	git_message_trailer_array_free(&arr);
	return error;
}

int
ro_history_confirms(git_repository *repo, const git_oid *commit,
    struct ro_strv *out, struct ro_err *err)
{
	git_commit	*c = NULL;
	int		 error;

	if ((error = commit_get(repo, commit, &c, err)) < 0)
		return error;
	error = ro_history_parse_confirm(git_commit_message(c), out, err);
	git_commit_free(c);
	return error;
}
