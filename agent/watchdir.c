/*
 * watchdir.c: the watcher's folders by inotify watch descriptor (a
 * chained hash on wd; the string map takes string keys) and adding a
 * watch with its limits (ENOSPC names the sysctl).
 */
#include <sys/inotify.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roomops/log.h"
#include "roomops/strmap.h"
#include "watch_impl.h"

#include "../common/banned.h"

struct wdir *
ro_watchdir_find(const struct ro_watch *w, int wd)
{
	struct wdir	*d;

	if (w->ndbuckets == 0)
		return NULL;
	for (d = w->dirs[(size_t)wd & (w->ndbuckets - 1)]; d != NULL;
	    d = d->next)
		if (d->wd == wd)
			return d;
	return NULL;
}

static int
dir_grow(struct ro_watch *w)
{
	struct wdir	**nb, *d, *next;
	size_t		  n = w->ndbuckets != 0 ? w->ndbuckets * 2 :
			    DIR_BUCKETS_MIN, i, h;

	if ((nb = calloc(n, sizeof(*nb))) == NULL)
		return RO_ENOMEM;
	for (i = 0; i < w->ndbuckets; i++) {
		for (d = w->dirs[i]; d != NULL; d = next) {
			next = d->next;
			h = (size_t)d->wd & (n - 1);
			d->next = nb[h];
			nb[h] = d;
		}
	}
	free(w->dirs);
	w->dirs = nb;
	w->ndbuckets = n;
	return RO_OK;
}

/* Unlink and free d; rm: also remove its kernel watch. */
void
ro_watchdir_drop(struct ro_watch *w, struct wdir *d, bool rm)
{
	struct wdir	**pp;

	for (pp = &w->dirs[(size_t)d->wd & (w->ndbuckets - 1)]; *pp != NULL;
	    pp = &(*pp)->next) {
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	}
	if (rm)
		(void)inotify_rm_watch(w->fd, d->wd);	/* EINVAL: gone */
	if (d->wd == w->rootwd)
		w->rootwd = -1;
	w->ndirs--;
	free(d->path);
	free(d);
}

/* Drop the tree folder rel and every folder below it. */
void
ro_watchdir_drop_tree(struct ro_watch *w, const char *rel)
{
	struct wdir	*d, *next;
	size_t		 i, n = strlen(rel);

	for (i = 0; i < w->ndbuckets; i++) {
		for (d = w->dirs[i]; d != NULL; d = next) {
			next = d->next;
			if (d->kind == WK_TREE &&
			    strncmp(d->path, rel, n) == 0 &&
			    (d->path[n] == '\0' || d->path[n] == '/'))
				ro_watchdir_drop(w, d, true);
		}
	}
}

/* Drop every folder matching (all, or only those not marked). */
void
ro_watchdir_drop_all(struct ro_watch *w, bool unmarked_only)
{
	struct wdir	*d, *next;
	size_t		 i;

	for (i = 0; i < w->ndbuckets; i++) {
		for (d = w->dirs[i]; d != NULL; d = next) {
			next = d->next;
			if (!unmarked_only || !d->mark)
				ro_watchdir_drop(w, d, true);
		}
	}
}

void
ro_watchdir_unmark_all(struct ro_watch *w)
{
	struct wdir	*d;
	size_t		 i;

	for (i = 0; i < w->ndbuckets; i++)
		for (d = w->dirs[i]; d != NULL; d = d->next)
			d->mark = 0;
}

/*
 * Watch the folder in w->abs (length n). Returns the wd (> 0), 0 when
 * the folder is gone or unreadable (skipped; logged when unreadable), or
 * an error; for the root, a missing or unreadable folder is an error.
 */
int
ro_watchdir_add(struct ro_watch *w, size_t n, enum wkind kind, unsigned git,
    struct ro_err *err)
{
	struct wdir	*d;
	const char	*path;
	bool		 is_root = kind == WK_TREE && n == w->rootlen;
	size_t		 h;
	int		 wd;

	wd = inotify_add_watch(w->fd, w->abs, kind == WK_TREE ? TREE_MASK :
	    GIT_MASK);
	if (wd == -1) {
		switch (errno) {
		case ENOSPC:
			return ro_err_set(err, RO_ERROR, "%s: inotify watch "
			    "limit reached; raise fs.inotify.max_user_watches",
			    w->abs);
		case ENOMEM:
			return ro_err_set(err, RO_ENOMEM, "out of memory");
		case ENOENT:
		case ENOTDIR:
			if (is_root)
				return ro_err_errno(err, RO_ENOTFOUND, "%s",
				    w->abs);
			return 0;		/* raced away: nothing to do */
		case EACCES:
			if (is_root)
				return ro_err_errno(err, RO_EIO,
				    "%s: cannot watch", w->abs);
			log_warn("%s: not watched", w->abs);
			return 0;
		default:
			return ro_err_errno(err, RO_EIO, "inotify_add_watch %s",
			    w->abs);
		}
	}
	path = kind == WK_TREE ? (n > w->rootlen ? w->abs + w->rootlen + 1 :
	    "") : w->abs;
	if ((d = ro_watchdir_find(w, wd)) != NULL) {
		/* already watched (a rescan, or moved under our feet) */
		if (strcmp(d->path, path) != 0) {
			char	*p;

			if ((p = strdup(path)) == NULL)
				return ro_err_set(err, RO_ENOMEM,
				    "out of memory");
			free(d->path);
			d->path = p;
		}
		if (d->kind != kind)
			d->git = 0;
		d->kind = kind;
		d->git |= git;
		d->mark = 1;
		if (is_root)
			w->rootwd = wd;
		return wd;
	}
	if (w->ndirs >= RO_WATCH_DIRS_MAX) {
		(void)inotify_rm_watch(w->fd, wd);
		return ro_err_set(err, RO_ETOOBIG, "%s: more than %d folders "
		    "to watch", w->root, RO_WATCH_DIRS_MAX);
	}
	if ((w->ndirs >= w->ndbuckets && dir_grow(w) < 0) ||
	    (d = calloc(1, sizeof(*d))) == NULL) {
		(void)inotify_rm_watch(w->fd, wd);
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	}
	if ((d->path = strdup(path)) == NULL) {
		free(d);
		(void)inotify_rm_watch(w->fd, wd);
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	}
	d->wd = wd;
	d->kind = kind;
	d->git = git;
	d->mark = 1;
	h = (size_t)wd & (w->ndbuckets - 1);
	d->next = w->dirs[h];
	w->dirs[h] = d;
	w->ndirs++;
	if (is_root)
		w->rootwd = wd;
	return wd;
}
