/*
 * specset.c: every RoomSpec under a list of files and folders.
 *
 * Folders are walked recursively in byte order of names (so results do
 * not depend on the file system or the locale), hidden entries are
 * skipped, symbolic links to folders are not followed (no cycles), and
 * symbolic links to spec files are taken only when they stay inside the
 * argument folder. A file reached twice (two arguments) is loaded once.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/seed.h"
#include "roomops/spec.h"
#include "roomops/specset.h"

#include "banned.h"

#define WALK_DEPTH_MAX		64		/* folder levels */
#define WALK_ENTRIES_MAX	(10 * RO_SPECSET_FILES_MAX)	/* names read */

struct sfile {
	char		*path;		/* as walked: argument + relative path */
	char		*root;		/* seed root: the argument folder */
	char		*dir;		/* spec folder relative to root */
	dev_t		 dev;
	ino_t		 ino;
	size_t		 order;
	bool		 skip;		/* same file as an earlier one */
};

struct walk {
	struct sfile	*files;
	size_t		 n, cap;
	size_t		 entries;
	struct ro_diag	*diag;
};

static void
sfile_release(struct sfile *f)
{
	free(f->path);
	free(f->root);
	free(f->dir);
}

static int
add_file(struct walk *w, const char *path, const char *root, const char *dir,
    const struct stat *st, struct ro_err *err)
{
	struct sfile	*v, *f;
	size_t		 cap;

	if (w->n >= RO_SPECSET_FILES_MAX)
		return ro_err_set(err, RO_ETOOBIG, "more than %d spec files",
		    RO_SPECSET_FILES_MAX);
	if (w->n == w->cap) {
		cap = w->cap != 0 ? w->cap * 2 : 16;
		if ((v = reallocarray(w->files, cap, sizeof(*v))) == NULL)
			return ro_err_set(err, RO_ENOMEM, "out of memory");
		w->files = v;
		w->cap = cap;
	}
	f = &w->files[w->n];
	memset(f, 0, sizeof(*f));
	f->path = strdup(path);
	f->root = strdup(root);
	f->dir = strdup(dir);
	f->dev = st->st_dev;
	f->ino = st->st_ino;
	f->order = w->n;
	if (f->path == NULL || f->root == NULL || f->dir == NULL) {
		sfile_release(f);
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	}
	w->n++;
	return RO_OK;
}

bool
ro_specset_is_spec_name(const char *name)
{
	size_t	n = strlen(name);

	return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
	    (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Is the target of a link inside the (canonical) root? */
static bool
link_inside(const char *path, const char *rroot)
{
	char	real[PATH_MAX];
	size_t	n = strlen(rroot);

	if (realpath(path, real) == NULL)
		return false;
	if (n == 1 && rroot[0] == '/')
		return true;
	return strncmp(real, rroot, n) == 0 && real[n] == '/';
}

static int
walk_dir(struct walk *w, const char *root, const char *rroot,
    const char *dirpath, const char *rel, unsigned depth, struct ro_err *err)
{
	struct ro_strv	 names = RO_STRV_INIT;
	struct dirent	*de;
	struct stat	 st, tst;
	DIR		*d;
	char		*child = NULL, *crel = NULL;
	size_t		 i;
	int		 error = RO_OK;

	if ((d = opendir(dirpath)) == NULL)
		return ro_err_errno(err, errno == ENOENT ? RO_ENOTFOUND :
		    RO_EIO, "%s", dirpath);
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0)
				error = ro_err_errno(err, RO_EIO, "%s", dirpath);
			break;
		}
		if (de->d_name[0] == '.')
			continue;	/* ., .., .git and other hidden ones */
		if (++w->entries > WALK_ENTRIES_MAX) {
			error = ro_err_set(err, RO_ETOOBIG, "%s: more than %d "
			    "entries walked", root, WALK_ENTRIES_MAX);
			break;
		}
		if (ro_strv_push(&names, de->d_name) < 0) {
			error = ro_err_set(err, RO_ENOMEM, "out of memory");
			break;
		}
	}
	closedir(d);
	if (error < 0)
		goto done;
	if (names.n > 1)
		qsort(names.v, names.n, sizeof(*names.v), name_cmp);
	for (i = 0; i < names.n; i++) {
		free(child);
		free(crel);
		crel = NULL;
		if (asprintf(&child, "%s/%s", dirpath, names.v[i]) < 0 ||
		    asprintf(&crel, "%s%s%s", rel, rel[0] != '\0' ? "/" : "",
		    names.v[i]) < 0) {
			child = crel = NULL;
			error = ro_err_set(err, RO_ENOMEM, "out of memory");
			goto done;
		}
		if (lstat(child, &st) == -1)
			continue;	/* gone since readdir: not ours */
		if (S_ISDIR(st.st_mode)) {
			if (depth + 1 > WALK_DEPTH_MAX) {
				if (ro_diag_warn(w->diag, child, 0, 0, NULL,
				    "skipped: more than %d folder levels",
				    WALK_DEPTH_MAX) < 0) {
					error = RO_ENOMEM;
					goto done;
				}
				continue;
			}
			if ((error = walk_dir(w, root, rroot, child, crel,
			    depth + 1, err)) < 0)
				goto done;
		} else if (ro_specset_is_spec_name(names.v[i]) && S_ISREG(st.st_mode)) {
			if ((error = add_file(w, child, root, rel, &st,
			    err)) < 0)
				goto done;
		} else if (ro_specset_is_spec_name(names.v[i]) && S_ISLNK(st.st_mode)) {
			if (stat(child, &tst) == 0 && S_ISREG(tst.st_mode) &&
			    link_inside(child, rroot)) {
				if ((error = add_file(w, child, root, rel,
				    &tst, err)) < 0)
					goto done;
			} else if (ro_diag_warn(w->diag, child, 0, 0, NULL,
			    "skipped: symbolic link to something that is not "
			    "a spec file inside %s", root) < 0) {
				error = RO_ENOMEM;
				goto done;
			}
		}
	}
done:
	free(child);
	free(crel);
	ro_strv_release(&names);
	return error;
}

/* One argument: a folder (walked) or a file (its folder is the root). */
static int
walk_arg(struct walk *w, const char *arg, struct ro_err *err)
{
	struct stat	 st;
	char		 rroot[PATH_MAX];
	char		*root = NULL, *slash;
	size_t		 n;
	int		 error;

	if (stat(arg, &st) == -1)
		return ro_err_errno(err, errno == ENOENT || errno == ENOTDIR ?
		    RO_ENOTFOUND : RO_EIO, "%s", arg);
	if ((root = strdup(arg)) == NULL)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	n = strlen(root);
	while (n > 1 && root[n - 1] == '/')
		root[--n] = '\0';
	if (S_ISDIR(st.st_mode)) {
		if (realpath(root, rroot) == NULL)
			error = ro_err_errno(err, RO_EIO, "%s", root);
		else
			error = walk_dir(w, root, rroot, root, "", 1, err);
	} else if (S_ISREG(st.st_mode)) {
		slash = strrchr(root, '/');
		if (slash == NULL) {
			error = add_file(w, arg, ".", "", &st, err);
		} else {
			if (slash == root)
				slash[1] = '\0';
			else
				*slash = '\0';
			error = add_file(w, arg, root, "", &st, err);
		}
	} else
		error = ro_err_set(err, RO_EIO, "%s: not a file or folder",
		    arg);
	free(root);
	return error;
}

static int
inode_cmp(const void *pa, const void *pb)
{
	const struct sfile	*a = *(const struct sfile *const *)pa;
	const struct sfile	*b = *(const struct sfile *const *)pb;

	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	if (a->ino != b->ino)
		return a->ino < b->ino ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

/* Mark files reached twice; the first in walk order is kept. */
static int
mark_same_files(struct walk *w)
{
	struct sfile	**idx;
	size_t		  i;

	if (w->n < 2)
		return RO_OK;
	if ((idx = calloc(w->n, sizeof(*idx))) == NULL)
		return RO_ENOMEM;
	for (i = 0; i < w->n; i++)
		idx[i] = &w->files[i];
	qsort(idx, w->n, sizeof(*idx), inode_cmp);
	for (i = 1; i < w->n; i++)
		if (idx[i]->dev == idx[i - 1]->dev &&
		    idx[i]->ino == idx[i - 1]->ino)
			idx[i]->skip = true;
	free(idx);
	return RO_OK;
}

/* Copy a file's messages into the set's diag (which caps them). */
static int
merge_diag(struct ro_diag *dst, const struct ro_diag *src)
{
	size_t	i;

	for (i = 0; i < src->errors.n; i++)
		if (ro_diag_error(dst, NULL, 0, 0, NULL, "%s",
		    src->errors.v[i]) < 0)
			return RO_ENOMEM;
	for (i = 0; i < src->warnings.n; i++)
		if (ro_diag_warn(dst, NULL, 0, 0, NULL, "%s",
		    src->warnings.v[i]) < 0)
			return RO_ENOMEM;
	return RO_OK;
}

/* Load, validate and (maybe) seed one file; a bad file is not an error. */
static int
load_one(struct ro_specset *set, const struct sfile *f, bool resolve_seeds,
    bool keep_content, struct ro_spec **specs, struct ro_err *err)
{
	struct ro_diag	 fdiag = RO_DIAG_INIT;
	struct ro_err	 ferr = RO_ERR_INIT;
	struct ro_spec	*spec = NULL;
	int		 rc, error = RO_OK;

	rc = ro_spec_load_file(&spec, f->path, &fdiag, &ferr);
	if (rc == RO_OK && resolve_seeds) {
		rc = ro_seed_resolve(spec, f->dir, ro_seed_read_fs, f->root,
		    &fdiag, &ferr);
		if (rc == RO_OK && !keep_content)
			ro_seed_drop_content(spec);
	}
	if (rc == RO_ENOMEM) {
		error = ro_err_set(err, RO_ENOMEM, "%s", ferr.msg);
		goto done;
	}
	if (rc < 0 && fdiag.errors.n == 0 &&
	    ro_diag_error(&fdiag, NULL, 0, 0, NULL, "%s", ferr.msg) < 0) {
		error = ro_err_set(err, RO_ENOMEM, "out of memory");
		goto done;
	}
	if (merge_diag(&set->diag, &fdiag) < 0 ||
	    (rc < 0 && ro_strv_push(&set->bad_files, f->path) < 0)) {
		error = ro_err_set(err, RO_ENOMEM, "out of memory");
		goto done;
	}
	if (rc == RO_OK) {
		specs[set->n++] = spec;
		spec = NULL;
	}
done:
	ro_spec_free(spec);
	ro_diag_release(&fdiag);
	return error;
}

struct roomref {
	struct ro_spec	*spec;
	size_t		 i;		/* index in set->specs */
};

static int
room_cmp(const void *pa, const void *pb)
{
	const struct roomref	*a = pa, *b = pb;
	int			 c;

	if ((c = strcmp(a->spec->room_id, b->spec->room_id)) != 0)
		return c;
	return a->i < b->i ? -1 : a->i > b->i;
}

/*
 * Leave out every spec whose roomId another file declares too: an error
 * for each of those files, and the roomId goes to bad_rooms once.
 */
static int
drop_duplicate_rooms(struct ro_specset *set, struct ro_err *err)
{
	struct roomref	*idx = NULL;
	struct ro_spec	*other;
	bool		*dup = NULL;
	size_t		 i, k, r, kept;
	int		 error = RO_OK;

	if (set->n < 2)
		return RO_OK;
	idx = calloc(set->n, sizeof(*idx));
	dup = calloc(set->n, sizeof(*dup));
	if (idx == NULL || dup == NULL) {
		error = ro_err_set(err, RO_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < set->n; i++) {
		idx[i].spec = set->specs[i];
		idx[i].i = i;
	}
	qsort(idx, set->n, sizeof(*idx), room_cmp);
	for (r = 0; r < set->n; r = k) {
		for (k = r + 1; k < set->n && strcmp(idx[k].spec->room_id,
		    idx[r].spec->room_id) == 0; k++)
			;
		if (k - r < 2)
			continue;
		if (ro_strv_push(&set->bad_rooms, idx[r].spec->room_id) < 0) {
			error = ro_err_set(err, RO_ENOMEM, "out of memory");
			goto done;
		}
		for (i = r; i < k; i++) {
			dup[idx[i].i] = true;
			other = idx[i == r ? r + 1 : r].spec;
			if (ro_diag_error(&set->diag, idx[i].spec->path, 0, 0,
			    "spec.roomId", "roomId \"%s\" is also declared in "
			    "%s%s; both files are left out",
			    idx[i].spec->room_id, other->path,
			    k - r > 2 ? " and others" : "") < 0) {
				error = ro_err_set(err, RO_ENOMEM,
				    "out of memory");
				goto done;
			}
		}
	}
	/* compact in path order; bad_files gets them in path order too */
	for (i = 0, kept = 0; i < set->n; i++) {
		if (!dup[i]) {
			set->specs[kept++] = set->specs[i];
			continue;
		}
		if (ro_strv_push(&set->bad_files, set->specs[i]->path) < 0) {
			error = ro_err_set(err, RO_ENOMEM, "out of memory");
			/* the rest stays owned by the set */
			memmove(&set->specs[kept], &set->specs[i],
			    (set->n - i) * sizeof(*set->specs));
			set->n = kept + (set->n - i);
			goto done;
		}
		ro_spec_free(set->specs[i]);
	}
	set->n = kept;
done:
	free(idx);
	free(dup);
	return error;
}

int
ro_specset_load(struct ro_specset **out, char *const *paths, size_t n_paths,
    bool resolve_seeds, bool keep_content, struct ro_err *err)
{
	struct ro_specset	*set = NULL;
	struct walk		 w;
	size_t			 i;
	int			 error = RO_OK;

	memset(&w, 0, sizeof(w));
	if ((set = calloc(1, sizeof(*set))) == NULL)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	w.diag = &set->diag;
	for (i = 0; i < n_paths; i++)
		if ((error = walk_arg(&w, paths[i], err)) < 0)
			goto done;
	if ((error = mark_same_files(&w)) < 0) {
		ro_err_set(err, error, "out of memory");
		goto done;
	}
	if (w.n > 0 && (set->specs = calloc(w.n, sizeof(*set->specs))) ==
	    NULL) {
		error = ro_err_set(err, RO_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < w.n; i++)
		if (!w.files[i].skip && (error = load_one(set, &w.files[i],
		    resolve_seeds, keep_content, set->specs, err)) < 0)
			goto done;
	if ((error = drop_duplicate_rooms(set, err)) < 0)
		goto done;
	*out = set;
	set = NULL;
done:
	for (i = 0; i < w.n; i++)
		sfile_release(&w.files[i]);
	free(w.files);
	ro_specset_free(set);
	return error;
}

int
ro_specset_list(struct ro_strv *out, const char *root, struct ro_diag *diag,
    struct ro_err *err)
{
	struct walk	 w;
	size_t		 i, n = strlen(root);
	const char	*rel;
	int		 error;

	memset(&w, 0, sizeof(w));
	w.diag = diag;
	while (n > 1 && root[n - 1] == '/')
		n--;
	if ((error = walk_arg(&w, root, err)) < 0)
		goto done;
	if ((error = mark_same_files(&w)) < 0) {
		ro_err_set(err, error, "out of memory");
		goto done;
	}
	for (i = 0; i < w.n; i++) {
		if (w.files[i].skip)
			continue;
		rel = w.files[i].path;
		if (strncmp(rel, root, n) == 0 && rel[n] == '/')
			rel += n + 1;
		if ((error = ro_strv_push(out, rel)) < 0) {
			ro_err_set(err, error, "out of memory");
			goto done;
		}
	}
done:
	for (i = 0; i < w.n; i++)
		sfile_release(&w.files[i]);
	free(w.files);
	return error;
}

struct ro_spec *
ro_specset_find(const struct ro_specset *set, const char *room_id)
{
	size_t	i;

	for (i = 0; i < set->n; i++)
		if (strcmp(set->specs[i]->room_id, room_id) == 0)
			return set->specs[i];
	return NULL;
}

void
ro_specset_free(struct ro_specset *set)
{
	size_t	i;

	if (set == NULL)
		return;
	for (i = 0; i < set->n; i++)
		ro_spec_free(set->specs[i]);
	free(set->specs);
	ro_strv_release(&set->bad_files);
	ro_strv_release(&set->bad_rooms);
	ro_diag_release(&set->diag);
	free(set);
}
