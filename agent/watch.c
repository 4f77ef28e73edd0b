/*
 * watch.c: a recursive inotify watcher of a spec folder (see watch.h and
 * docs/watch.md).
 *
 * Two tables: watched folders by watch descriptor (a strmap keyed by the
 * wd in decimal, the folders also on a list to visit them all), and the
 * pending paths (watchpend.c: the debounce set). The Git directories of
 * a work tree are found by libgit2 (watchgit.c).
 */
#include <sys/inotify.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roomops/buf.h"
#include "roomops/file.h"
#include "roomops/log.h"
#include "roomops/specset.h"
#include "roomops/strmap.h"
#include "watch.h"
#include "watchgit.h"
#include "watchpend.h"

#include "../common/banned.h"

#define TREE_MASK	(IN_CREATE | IN_CLOSE_WRITE | IN_ATTRIB | \
	    IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE | IN_DELETE_SELF | \
	    IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)
#define GIT_MASK	(IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_FROM | \
	    IN_MOVED_TO | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | \
	    IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)
#define FILE_EVENTS	(IN_CREATE | IN_CLOSE_WRITE | IN_ATTRIB | \
	    IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE)

/*
 * ConfigMap and Secret volumes: every visible file is a symbolic link
 * through "..data", itself a link renamed over at each update.
 */
#define K8S_DATA	"..data"

#define WD_KEY_SIZE	16		/* "%d" of a wd, and its NUL */

enum wkind {
	WK_TREE,			/* a folder of the watched tree */
	WK_GITDIR,			/* the git dir: HEAD, packed-refs */
	WK_GITREFS			/* refs/heads and folders below */
};

#define WG_HEAD		0x1u		/* WK_GITDIR: HEAD lives here */
#define WG_PACKED	0x2u		/* WK_GITDIR: packed-refs lives here */

struct wdir {
	struct wdir	*prev, *next;	/* every folder */
	int		 wd;
	unsigned char	 kind;		/* enum wkind */
	unsigned char	 git;		/* WG_* */
	unsigned char	 mark;		/* seen by the current rescan */
	char		*path;		/* tree: relative, root ""; git: abs */
};

struct ro_watch {
	int		 fd;
	int		 debounce;	/* ms */
	char		*root;		/* canonical, no trailing slash */
	size_t		 rootlen;
	long long	 now;		/* ms, of the current call */

	struct ro_strmap dirs;		/* wd in decimal -> struct wdir */
	struct wdir	*dlist;		/* every folder */
	int		 rootwd;	/* -1: not watched */

	struct ro_watchpend pend;	/* changed paths, by due time */

	bool		 rescan;	/* a rescan is scheduled ... */
	long long	 rescan_due;	/* ... for then */
	bool		 refmoved;
	long long	 ref_due;
	bool		 root_lost;
	long long	 root_retry;
	bool		 limit_logged;	/* limit warned since the last rescan */
	bool		 path_logged;	/* over-long path warned */

	bool		 git;
	char		*gitdir;	/* canonical: HEAD */
	char		*commondir;	/* canonical: refs/heads, packed-refs */

	char		 abs[PATH_MAX];	/* scratch: absolute path being built */
	char		 buf[RO_WATCH_READ_BYTES] __attribute__((
			    aligned(__alignof__(struct inotify_event))));
};

static int	walk(struct ro_watch *, size_t, enum wkind, unsigned, bool,
		    struct ro_err *);

/* The folder table. */

static void
wd_key(char key[WD_KEY_SIZE], int wd)
{
	snprintf(key, WD_KEY_SIZE, "%d", wd);
}

static struct wdir *
dir_find(const struct ro_watch *w, int wd)
{
	char	key[WD_KEY_SIZE];

	wd_key(key, wd);
	return ro_strmap_get(&w->dirs, key);
}

/* Unlink and free d; rm: also remove its kernel watch. */
static void
dir_drop(struct ro_watch *w, struct wdir *d, bool rm)
{
	char		key[WD_KEY_SIZE];

	wd_key(key, d->wd);
	(void)ro_strmap_del(&w->dirs, key);
	if (d->prev != NULL)
		d->prev->next = d->next;
	else
		w->dlist = d->next;
	if (d->next != NULL)
		d->next->prev = d->prev;
	if (rm)
		(void)inotify_rm_watch(w->fd, d->wd);	/* EINVAL: gone */
	if (d->wd == w->rootwd)
		w->rootwd = -1;
	free(d->path);
	free(d);
}

/* Drop the tree folder rel and every folder below it. */
static void
dir_drop_tree(struct ro_watch *w, const char *rel)
{
	struct wdir	*d, *next;
	size_t		 n = strlen(rel);

	for (d = w->dlist; d != NULL; d = next) {
		next = d->next;
		if (d->kind == WK_TREE && strncmp(d->path, rel, n) == 0 &&
		    (d->path[n] == '\0' || d->path[n] == '/'))
			dir_drop(w, d, true);
	}
}

/* Drop every folder matching (all, or only those not marked). */
static void
dir_drop_all(struct ro_watch *w, bool unmarked_only)
{
	struct wdir	*d, *next;

	for (d = w->dlist; d != NULL; d = next) {
		next = d->next;
		if (!unmarked_only || !d->mark)
			dir_drop(w, d, true);
	}
}

static void
dir_unmark_all(struct ro_watch *w)
{
	struct wdir	*d;

	for (d = w->dlist; d != NULL; d = d->next)
		d->mark = 0;
}

/*
 * Watch the folder in w->abs (length n). Returns the wd (> 0), 0 when
 * the folder is gone or unreadable (skipped; logged when unreadable), or
 * an error; for the root, a missing or unreadable folder is an error.
 */
static int
add_watch(struct ro_watch *w, size_t n, enum wkind kind, unsigned git,
    struct ro_err *err)
{
	struct wdir	*d;
	const char	*path;
	bool		 is_root = kind == WK_TREE && n == w->rootlen;
	char		 key[WD_KEY_SIZE];
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
	if ((d = dir_find(w, wd)) != NULL) {
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
	if (w->dirs.n >= RO_WATCH_DIRS_MAX) {
		(void)inotify_rm_watch(w->fd, wd);
		return ro_err_set(err, RO_ETOOBIG, "%s: more than %d folders "
		    "to watch", w->root, RO_WATCH_DIRS_MAX);
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		(void)inotify_rm_watch(w->fd, wd);
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	}
	wd_key(key, wd);
	if ((d->path = strdup(path)) == NULL ||
	    ro_strmap_put(&w->dirs, key, d) < 0) {
		free(d->path);
		free(d);
		(void)inotify_rm_watch(w->fd, wd);
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	}
	d->wd = wd;
	d->kind = kind;
	d->git = git;
	d->mark = 1;
	d->next = w->dlist;
	if (w->dlist != NULL)
		w->dlist->prev = d;
	w->dlist = d;
	if (is_root)
		w->rootwd = wd;
	return wd;
}

/* The pending paths. */

/* Everything pending is subsumed by a rescan at now + debounce. */
static void
schedule_rescan(struct ro_watch *w)
{
	ro_watchpend_clear(&w->pend);
	w->rescan = true;
	w->rescan_due = w->now + w->debounce;
}

static void
schedule_ref(struct ro_watch *w)
{
	w->refmoved = true;
	w->ref_due = w->now + w->debounce;
}

/* Record an event on rel: due debounce ms from now. */
static int
pend(struct ro_watch *w, const char *rel, struct ro_err *err)
{
	int	error;

	if (w->rescan)
		return RO_OK;		/* the rescan will cover it */
	error = ro_watchpend_touch(&w->pend, rel, w->now + w->debounce);
	if (error == RO_ETOOBIG) {
		log_warnx("%s: more than %d changed paths pending, full rescan",
		    w->root, RO_WATCH_PENDING_MAX);
		schedule_rescan(w);
		return RO_OK;
	}
	if (error < 0) {
		schedule_rescan(w);
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	}
	return RO_OK;
}

/* Walking folders. */

static void
warn_long(struct ro_watch *w, const char *dir, const char *name)
{
	if (w->path_logged)
		return;
	w->path_logged = true;
	log_warnx("%s/%s: path too long, not watched", dir, name);
}

/*
 * Watch the folder in w->abs (length n) and every folder below it, of
 * the given kind; report: record every visible file found (a folder that
 * appeared after its parent's events were read). w->abs is restored.
 */
static int
walk(struct ro_watch *w, size_t n, enum wkind kind, unsigned depth,
    bool report, struct ro_err *err)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*dir;
	size_t		 len;
	bool		 isdir;
	int		 wd, error = RO_OK;

	if ((wd = add_watch(w, n, kind, 0, err)) <= 0)
		return wd;
	if ((dir = opendir(w->abs)) == NULL) {
		if (errno == ENOENT || errno == ENOTDIR)
			return RO_OK;	/* raced away; its parent says so */
		log_warn("%s: not read", w->abs);
		return RO_OK;
	}
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (kind == WK_TREE ? ro_watch_is_hidden(de->d_name) :
		    de->d_name[0] == '.')
			continue;
		len = strlen(de->d_name);
		if (n + 1 + len >= sizeof(w->abs)) {
			w->abs[n] = '\0';
			warn_long(w, w->abs, de->d_name);
			continue;
		}
		w->abs[n] = '/';
		memcpy(w->abs + n + 1, de->d_name, len + 1);
		if (de->d_type == DT_UNKNOWN)
			isdir = lstat(w->abs, &st) == 0 && S_ISDIR(st.st_mode);
		else
			isdir = de->d_type == DT_DIR;
		if (isdir) {
			if (depth + 1 > RO_WATCH_DEPTH_MAX) {
				w->abs[n] = '\0';
				warn_long(w, w->abs, de->d_name);
			} else if ((error = walk(w, n + 1 + len, kind,
			    depth + 1, report, err)) < 0) {
				w->abs[n] = '\0';
				break;
			}
		} else if (report && kind == WK_TREE &&
		    (error = pend(w, w->abs + w->rootlen + 1, err)) < 0) {
			w->abs[n] = '\0';
			break;
		}
		w->abs[n] = '\0';
	}
	closedir(dir);
	return error;
}

static int
set_abs(struct ro_watch *w, const char *a, const char *b, size_t *n)
{
	int	k;

	k = snprintf(w->abs, sizeof(w->abs), "%s%s%s", a, b[0] != '\0' ?
	    "/" : "", b);
	if (k < 0 || (size_t)k >= sizeof(w->abs))
		return -1;
	*n = (size_t)k;
	return 0;
}

/* Watch HEAD, packed-refs and refs/heads of the work tree. */
static int
git_watch(struct ro_watch *w, struct ro_err *err)
{
	size_t	n;
	int	wd;
	bool	same = strcmp(w->gitdir, w->commondir) == 0;

	if (set_abs(w, w->gitdir, "", &n) < 0)
		return ro_err_set(err, RO_ETOOBIG, "%s: path too long",
		    w->gitdir);
	if ((wd = add_watch(w, n, WK_GITDIR, WG_HEAD | (same ? WG_PACKED : 0),
	    err)) < 0)
		return wd;
	if (!same) {
		if (set_abs(w, w->commondir, "", &n) < 0)
			return ro_err_set(err, RO_ETOOBIG, "%s: path too long",
			    w->commondir);
		if ((wd = add_watch(w, n, WK_GITDIR, WG_PACKED, err)) < 0)
			return wd;
	}
	if (set_abs(w, w->commondir, "refs/heads", &n) < 0)
		return ro_err_set(err, RO_ETOOBIG, "%s: path too long",
		    w->commondir);
	return walk(w, n, WK_GITREFS, 0, false, err);
}

/* A limit hit outside ro_watch_new: warn once, fall back to rescans. */
static void
warn_limit(struct ro_watch *w, const struct ro_err *err)
{
	if (w->limit_logged)
		return;
	w->limit_logged = true;
	log_warnx("%s; changes below it are found by rescans only", err->msg);
}

/*
 * Watch (and for the tree, report the files of) a folder that appeared.
 * A limit hit is warned about and turns into a rescan; only running out
 * of memory is an error (a rescan is scheduled too).
 */
static int
walk_new(struct ro_watch *w, size_t n, enum wkind kind, unsigned depth,
    struct ro_err *err)
{
	struct ro_err	e = RO_ERR_INIT;
	int		error;

	if ((error = walk(w, n, kind, depth, kind == WK_TREE, &e)) >= 0)
		return RO_OK;
	schedule_rescan(w);
	if (error == RO_ENOMEM)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	warn_limit(w, &e);
	return RO_OK;
}

/*
 * Re-establish every watch: mark, walk the tree and the Git dirs, sweep
 * folders not seen. The root being gone is not an error: it is retried.
 */
static int
do_rescan(struct ro_watch *w, struct ro_err *err)
{
	struct ro_err	 e = RO_ERR_INIT;
	bool		 was_lost = w->root_lost;
	int		 error;

	w->limit_logged = false;
	dir_unmark_all(w);
	w->rootwd = -1;			/* set again when the root is there */
	memcpy(w->abs, w->root, w->rootlen + 1);
	error = walk(w, w->rootlen, WK_TREE, 0, false, &e);
	if (error == RO_ENOMEM)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	if (error < 0 && w->rootwd != -1)
		warn_limit(w, &e);
	if (w->rootwd == -1) {
		if (!was_lost)
			log_warnx("%s: watched folder is gone (%s); looking "
			    "for it every %d ms", w->root, e.msg,
			    RO_WATCH_ROOT_RETRY_MS);
		w->root_lost = true;
		w->root_retry = w->now + RO_WATCH_ROOT_RETRY_MS;
		dir_drop_all(w, false);
		return RO_OK;
	}
	if (was_lost)
		log_info("%s: watched folder is back", w->root);
	w->root_lost = false;
	if (w->git) {
		ro_err_clear(&e);
		if ((error = git_watch(w, &e)) == RO_ENOMEM)
			return ro_err_set(err, RO_ENOMEM, "out of memory");
		if (error < 0)
			log_warnx("%s: git refs not watched: %s", w->root,
			    e.msg);
	}
	dir_drop_all(w, true);
	return RO_OK;
}

/* The root moved, was deleted or unmounted: drop everything, rescan. */
static void
root_gone(struct ro_watch *w, const char *why)
{
	if (!w->root_lost)
		log_warnx("%s: watched folder %s; looking for it again",
		    w->root, why);
	w->root_lost = true;
	w->root_retry = w->now;
	dir_drop_all(w, false);
	schedule_rescan(w);
}

/* Events. */

static int
git_event(struct ro_watch *w, struct wdir *d, uint32_t mask,
    const char *name, struct ro_err *err)
{
	size_t	n;
	int	error;

	if (mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
		schedule_ref(w);
		return RO_OK;
	}
	if (name[0] == '\0')
		return RO_OK;
	if (d->kind == WK_GITDIR) {
		if (((d->git & WG_HEAD) && strcmp(name, "HEAD") == 0) ||
		    ((d->git & WG_PACKED) && strcmp(name, "packed-refs") == 0))
			schedule_ref(w);
		return RO_OK;
	}
	/* WK_GITREFS: a branch ref; lock files are not refs yet */
	if (name[0] == '.' || ro_watch_ends_with(name, ".lock"))
		return RO_OK;
	if ((mask & IN_ISDIR) && (mask & (IN_CREATE | IN_MOVED_TO))) {
		if (set_abs(w, d->path, name, &n) < 0)
			return RO_OK;
		if ((error = walk_new(w, n, WK_GITREFS, 1, err)) < 0)
			return error;
	}
	schedule_ref(w);
	return RO_OK;
}

static unsigned
depth_of(const char *rel)
{
	unsigned	n = 1;

	while (*rel != '\0')
		if (*rel++ == '/')
			n++;
	return n;
}

static int
handle(struct ro_watch *w, int wd, uint32_t mask, const char *name,
    struct ro_err *err)
{
	struct wdir	*d;
	const char	*rel;
	size_t		 n;

	if (mask & IN_Q_OVERFLOW) {
		log_warnx("%s: inotify queue overflow, full rescan", w->root);
		schedule_rescan(w);
		return RO_OK;
	}
	if ((d = dir_find(w, wd)) == NULL)
		return RO_OK;		/* a watch we dropped already */
	if (mask & IN_IGNORED) {
		/* the kernel removed the watch: deleted, unmounted */
		if (wd == w->rootwd) {
			dir_drop(w, d, false);
			root_gone(w, "was removed");
		} else {
			if (d->kind != WK_TREE)
				schedule_ref(w);
			dir_drop(w, d, false);
		}
		return RO_OK;
	}
	if (mask & IN_UNMOUNT) {
		if (wd == w->rootwd)
			root_gone(w, "was unmounted");
		else
			schedule_rescan(w);
		return RO_OK;
	}
	if (d->kind != WK_TREE)
		return git_event(w, d, mask, name, err);
	if (mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
		if (wd == w->rootwd)
			root_gone(w, mask & IN_MOVE_SELF ? "was moved" :
			    "was deleted");
		return RO_OK;		/* other folders: the parent tells */
	}
	if (name[0] == '\0')
		return RO_OK;
	if (strcmp(name, K8S_DATA) == 0 && (mask & (IN_CREATE | IN_MOVED_TO))) {
		/* a Kubernetes volume swapped every file at once */
		log_debug("%s: %s/%s replaced, full rescan", w->root,
		    d->path, name);
		schedule_rescan(w);
		return RO_OK;
	}
	if (ro_watch_is_hidden(name))
		return RO_OK;
	if (set_abs(w, w->root, d->path, &n) < 0 ||
	    n + 2 + strlen(name) >= sizeof(w->abs)) {
		warn_long(w, w->root, name);
		schedule_rescan(w);
		return RO_OK;
	}
	w->abs[n] = '/';
	memcpy(w->abs + n + 1, name, strlen(name) + 1);
	n += 1 + strlen(name);
	rel = w->abs + w->rootlen + 1;
	if (!(mask & IN_ISDIR))
		return (mask & FILE_EVENTS) ? pend(w, rel, err) : RO_OK;
	if (mask & (IN_CREATE | IN_MOVED_TO)) {
		/* watch it, then list it: files made before the watch count */
		if (depth_of(rel) > RO_WATCH_DEPTH_MAX) {
			warn_long(w, w->root, rel);
			return RO_OK;
		}
		return walk_new(w, n, WK_TREE, depth_of(rel), err);
	}
	if (mask & (IN_DELETE | IN_MOVED_FROM)) {
		/* moved away: its watches would report under a stale name */
		if (mask & IN_MOVED_FROM)
			dir_drop_tree(w, rel);
		w->abs[n] = '/';
		w->abs[n + 1] = '\0';
		return pend(w, rel, err);
	}
	return RO_OK;
}

/* The interface. */

int
ro_watch_new(struct ro_watch **out, const char *root, int debounce_ms,
    struct ro_err *err)
{
	struct ro_watch	*w = NULL;
	struct stat	 st;
	char		 real[PATH_MAX];
	int		 error;

	if (root == NULL || root[0] == '\0')
		return ro_err_set(err, RO_EINVALID, "watch: no folder given");
	if (debounce_ms < 0 || debounce_ms > RO_WATCH_DEBOUNCE_MAX_MS)
		return ro_err_set(err, RO_EINVALID, "%s: debounce %d ms not in "
		    "0..%d", root, debounce_ms, RO_WATCH_DEBOUNCE_MAX_MS);
	if (realpath(root, real) == NULL)
		return ro_err_errno(err, errno == ENOENT ? RO_ENOTFOUND :
		    RO_EIO, "%s", root);
	if (stat(real, &st) == -1)
		return ro_err_errno(err, RO_EIO, "%s", real);
	if (!S_ISDIR(st.st_mode))
		return ro_err_set(err, RO_EINVALID, "%s: not a folder", root);
	if (strcmp(real, "/") == 0)
		return ro_err_set(err, RO_EINVALID, "refusing to watch /");
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	w->fd = -1;
	w->rootwd = -1;
	w->pend.max = RO_WATCH_PENDING_MAX;
	w->debounce = debounce_ms;
	if ((w->root = strdup(real)) == NULL) {
		error = ro_err_set(err, RO_ENOMEM, "out of memory");
		goto done;
	}
	w->rootlen = strlen(real);
	if ((w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		if (errno == EMFILE)
			error = ro_err_set(err, RO_ERROR, "%s: too many "
			    "inotify instances; raise "
			    "fs.inotify.max_user_instances (or the open file "
			    "limit)", w->root);
		else
			error = ro_err_errno(err, errno == ENOMEM ? RO_ENOMEM :
			    RO_ERROR, "%s: inotify_init1", w->root);
		goto done;
	}
	if (ro_watch_is_git_worktree(w->root)) {
		struct ro_err	e = RO_ERR_INIT;

		if ((error = ro_watchgit_dirs(w->root, &w->gitdir,
		    &w->commondir, &e)) == RO_ENOMEM) {
			error = ro_err_set(err, RO_ENOMEM, "out of memory");
			goto done;
		}
		if (error < 0)
			log_warnx("%s: not watched as a Git work tree: %s",
			    w->root, e.msg);
		w->git = error == RO_OK;
	}
	memcpy(w->abs, w->root, w->rootlen + 1);
	if ((error = walk(w, w->rootlen, WK_TREE, 0, false, err)) < 0 ||
	    (w->git && (error = git_watch(w, err)) < 0))
		goto done;
	*out = w;
	w = NULL;
	error = RO_OK;
done:
	ro_watch_free(w);
	return error;
}

void
ro_watch_free(struct ro_watch *w)
{
	struct wdir	*d, *next;

	if (w == NULL)
		return;
	for (d = w->dlist; d != NULL; d = next) {
		next = d->next;
		free(d->path);
		free(d);
	}
	ro_strmap_release(&w->dirs);
	ro_watchpend_clear(&w->pend);
	if (w->fd != -1)
		close(w->fd);		/* drops every watch */
	free(w->gitdir);
	free(w->commondir);
	free(w->root);
	free(w);
}

int
ro_watch_fd(const struct ro_watch *w)
{
	return w->fd;
}

const char *
ro_watch_root(const struct ro_watch *w)
{
	return w->root;
}

bool
ro_watch_is_git(const struct ro_watch *w)
{
	return w->git;
}

size_t
ro_watch_pending(const struct ro_watch *w)
{
	return ro_watchpend_count(&w->pend);
}

size_t
ro_watch_ndirs(const struct ro_watch *w)
{
	return w->dirs.n;
}

int
ro_watch_feed(struct ro_watch *w, const void *buf, size_t len,
    long long now_ms, struct ro_err *err)
{
	struct inotify_event	 ev;
	const char		*p = buf, *end = p + len, *name;
	int			 error, first = RO_OK;

	w->now = now_ms;
	while ((size_t)(end - p) >= sizeof(ev)) {
		memcpy(&ev, p, sizeof(ev));	/* buf may be unaligned */
		if (ev.len > (size_t)(end - p) - sizeof(ev)) {
			log_warnx("%s: truncated inotify event, full rescan",
			    w->root);
			schedule_rescan(w);
			break;
		}
		name = p + sizeof(ev);
		if (ev.len == 0)
			name = "";
		else if (memchr(name, '\0', ev.len) == NULL) {
			p += sizeof(ev) + ev.len;
			continue;	/* not from the kernel */
		}
		if ((error = handle(w, ev.wd, ev.mask, name, err)) < 0 &&
		    first == RO_OK)
			first = error;
		p += sizeof(ev) + ev.len;
	}
	return first;
}

int
ro_watch_read(struct ro_watch *w, long long now_ms, struct ro_err *err)
{
	ssize_t	n;
	int	i, error, first = RO_OK;

	for (i = 0; i < RO_WATCH_READS_MAX; i++) {
		n = read(w->fd, w->buf, sizeof(w->buf));
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			return ro_err_errno(err, RO_EIO, "%s: inotify read",
			    w->root);
		}
		if (n == 0)
			break;
		if ((error = ro_watch_feed(w, w->buf, (size_t)n, now_ms,
		    err)) < 0 && first == RO_OK)
			first = error;
		/* a short read means the queue is drained: save a syscall */
		if ((size_t)n < sizeof(w->buf) - sizeof(struct inotify_event) -
		    NAME_MAX - 1)
			break;
	}
	return first;
}

long
ro_watch_timeout_ms(const struct ro_watch *w, long long now_ms)
{
	long long	next = -1;

	next = ro_watchpend_next_due(&w->pend);
	if (w->rescan && (next == -1 || w->rescan_due < next))
		next = w->rescan_due;
	if (w->refmoved && (next == -1 || w->ref_due < next))
		next = w->ref_due;
	if (w->root_lost && (next == -1 || w->root_retry < next))
		next = w->root_retry;
	if (next == -1)
		return -1;
	if (next <= now_ms)
		return 0;
	return next - now_ms > LONG_MAX ? LONG_MAX : (long)(next - now_ms);
}

int
ro_watch_take(struct ro_watch *w, long long now_ms, struct ro_strv *paths,
    unsigned *flags, struct ro_err *err)
{
	bool		 scheduled;
	int		 error;

	*flags = 0;
	w->now = now_ms;
	if ((w->rescan && w->rescan_due <= now_ms) ||
	    (w->root_lost && !w->rescan && w->root_retry <= now_ms)) {
		scheduled = w->rescan;
		w->rescan = false;
		ro_watchpend_clear(&w->pend);
		if ((error = do_rescan(w, err)) < 0) {
			schedule_rescan(w);
			return error;
		}
		/* a retry that finds no root again has nothing new to say */
		if (scheduled || !w->root_lost) {
			*flags |= RO_WATCH_RESCAN;
			if (w->git) {
				*flags |= RO_WATCH_REF_MOVED;
				w->refmoved = false;
			}
		}
	}
	if (w->refmoved && w->ref_due <= now_ms) {
		*flags |= RO_WATCH_REF_MOVED;
		w->refmoved = false;
	}
	if (ro_watchpend_take(&w->pend, now_ms, paths) < 0) {
		schedule_rescan(w);
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	}
	return RO_OK;
}
