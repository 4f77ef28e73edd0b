/*
 * watch.c: a recursive inotify watcher of a spec folder (see watch.h and
 * docs/watch.md).
 *
 * Two tables: watched folders by watch descriptor (watchdir.c), and
 * pending paths by name threaded on a list in order of due time
 * (watchpend.c); this file reads the events, walks and rescans the tree,
 * and follows the git refs of a work tree.
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

#include <git2.h>

#include "roomops/buf.h"
#include "roomops/file.h"
#include "roomops/log.h"
#include "roomops/strmap.h"
#include "roomops/specset.h"
#include "watch.h"
#include "watch_impl.h"

#include "../common/banned.h"

static int	walk(struct ro_watch *, size_t, enum wkind, unsigned, bool,
		    struct ro_err *);

/* Names. */

static bool
ends_with(const char *s, size_t n, const char *suffix)
{
	size_t	m = strlen(suffix);

	return n > m && memcmp(s + n - m, suffix, m) == 0;
}

bool
ro_watch_is_hidden(const char *name)
{
	size_t	n = strlen(name);

	if (n == 0 || name[0] == '.')
		return true;
	if (name[0] == '#' && name[n - 1] == '#')
		return true;
	if (name[n - 1] == '~' || strcmp(name, "4913") == 0)
		return true;
	return ends_with(name, n, ".swp") || ends_with(name, n, ".swx") ||
	    ends_with(name, n, ".tmp") || ends_with(name, n, "___jb_tmp___") ||
	    ends_with(name, n, "___jb_old___");
}

bool
ro_watch_is_spec(const char *relpath)
{
	char		 part[NAME_MAX + 1];
	const char	*p = relpath, *slash;
	size_t		 n;

	if (relpath == NULL || relpath[0] == '\0')
		return false;
	for (;;) {
		slash = strchr(p, '/');
		n = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || n > NAME_MAX)
			return false;	/* "a//b", "dir/", absurd names */
		memcpy(part, p, n);
		part[n] = '\0';
		if (ro_watch_is_hidden(part))
			return false;
		if (slash == NULL)
			break;
		p = slash + 1;
	}
	return ro_specset_is_spec_name(part);
}

bool
ro_watch_is_git_worktree(const char *root)
{
	struct ro_buf	 b = RO_BUF_INIT;
	struct stat	 st;
	char		 path[PATH_MAX];
	bool		 yes = false;
	int		 n;

	n = snprintf(path, sizeof(path), "%s/.git", root);
	if (n < 0 || (size_t)n >= sizeof(path) || stat(path, &st) == -1)
		return false;
	if (S_ISDIR(st.st_mode))
		return true;
	if (S_ISREG(st.st_mode) && ro_file_read(path, GITFILE_MAX, &b,
	    NULL) == RO_OK)
		yes = strncmp(ro_buf_cstr(&b), "gitdir:", 7) == 0;
	ro_buf_release(&b);
	return yes;
}

/* A canonical copy of path (libgit2's ends in '/') in *out. */
static int
canonical(char **out, const char *path, struct ro_err *err)
{
	char	real[PATH_MAX];

	if (realpath(path, real) == NULL)
		return ro_err_errno(err, errno == ENOENT ? RO_ENOTFOUND :
		    RO_EIO, "%s", path);
	if ((*out = strdup(real)) == NULL)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	return RO_OK;
}

/*
 * Find the git dir (HEAD) and the common dir (refs) of the work tree,
 * through libgit2's repository discovery (a .git folder, a "gitdir:" file
 * of a linked work tree and its commondir), the root only, no search up.
 */
static int
git_resolve(struct ro_watch *w, struct ro_err *err)
{
	git_repository		*repo = NULL;
	const git_error		*ge;
	int			 error;

	git_libgit2_init();
	if (git_repository_open_ext(&repo, w->root,
	    GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
		ge = git_error_last();
		error = ro_err_set(err, RO_ENOTFOUND, "%s: %s", w->root,
		    ge != NULL ? ge->message : "not a Git repository");
		goto done;
	}
	if ((error = canonical(&w->gitdir, git_repository_path(repo),
	    err)) < 0)
		goto done;
	error = canonical(&w->commondir, git_repository_commondir(repo), err);
done:
	git_repository_free(repo);
	git_libgit2_shutdown();
	return error;
}

/* The folder table. */

/* The pending paths. */

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

	if ((wd = ro_watchdir_add(w, n, kind, 0, err)) <= 0)
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
		    (error = ro_watchpend_add(w, w->abs + w->rootlen + 1,
		    err)) < 0) {
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
	if ((wd = ro_watchdir_add(w, n, WK_GITDIR,
	    WG_HEAD | (same ? WG_PACKED : 0),
	    err)) < 0)
		return wd;
	if (!same) {
		if (set_abs(w, w->commondir, "", &n) < 0)
			return ro_err_set(err, RO_ETOOBIG, "%s: path too long",
			    w->commondir);
		if ((wd = ro_watchdir_add(w, n, WK_GITDIR, WG_PACKED, err)) < 0)
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
	ro_watchpend_schedule_rescan(w);
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
	ro_watchdir_unmark_all(w);
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
		ro_watchdir_drop_all(w, false);
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
	ro_watchdir_drop_all(w, true);
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
	ro_watchdir_drop_all(w, false);
	ro_watchpend_schedule_rescan(w);
}

/* Events. */

static int
git_event(struct ro_watch *w, struct wdir *d, uint32_t mask,
    const char *name, struct ro_err *err)
{
	size_t	n;
	int	error;

	if (mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
		ro_watchpend_schedule_ref(w);
		return RO_OK;
	}
	if (name[0] == '\0')
		return RO_OK;
	if (d->kind == WK_GITDIR) {
		if (((d->git & WG_HEAD) && strcmp(name, "HEAD") == 0) ||
		    ((d->git & WG_PACKED) && strcmp(name, "packed-refs") == 0))
			ro_watchpend_schedule_ref(w);
		return RO_OK;
	}
	/* WK_GITREFS: a branch ref; lock files are not refs yet */
	if (name[0] == '.' || ends_with(name, strlen(name), ".lock"))
		return RO_OK;
	if ((mask & IN_ISDIR) && (mask & (IN_CREATE | IN_MOVED_TO))) {
		if (set_abs(w, d->path, name, &n) < 0)
			return RO_OK;
		if ((error = walk_new(w, n, WK_GITREFS, 1, err)) < 0)
			return error;
	}
	ro_watchpend_schedule_ref(w);
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
		ro_watchpend_schedule_rescan(w);
		return RO_OK;
	}
	if ((d = ro_watchdir_find(w, wd)) == NULL)
		return RO_OK;		/* a watch we dropped already */
	if (mask & IN_IGNORED) {
		/* the kernel removed the watch: deleted, unmounted */
		if (wd == w->rootwd) {
			ro_watchdir_drop(w, d, false);
			root_gone(w, "was removed");
		} else {
			if (d->kind != WK_TREE)
				ro_watchpend_schedule_ref(w);
			ro_watchdir_drop(w, d, false);
		}
		return RO_OK;
	}
	if (mask & IN_UNMOUNT) {
		if (wd == w->rootwd)
			root_gone(w, "was unmounted");
		else
			ro_watchpend_schedule_rescan(w);
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
		ro_watchpend_schedule_rescan(w);
		return RO_OK;
	}
	if (ro_watch_is_hidden(name))
		return RO_OK;
	if (set_abs(w, w->root, d->path, &n) < 0 ||
	    n + 2 + strlen(name) >= sizeof(w->abs)) {
		warn_long(w, w->root, name);
		ro_watchpend_schedule_rescan(w);
		return RO_OK;
	}
	w->abs[n] = '/';
	memcpy(w->abs + n + 1, name, strlen(name) + 1);
	n += 1 + strlen(name);
	rel = w->abs + w->rootlen + 1;
	if (!(mask & IN_ISDIR))
		return (mask & FILE_EVENTS) ? ro_watchpend_add(w, rel,
		    err) : RO_OK;
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
			ro_watchdir_drop_tree(w, rel);
		w->abs[n] = '/';
		w->abs[n + 1] = '\0';
		return ro_watchpend_add(w, rel, err);
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

		if ((error = git_resolve(w, &e)) == RO_ENOMEM) {
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
	size_t		 i;

	if (w == NULL)
		return;
	for (i = 0; i < w->ndbuckets; i++) {
		for (d = w->dirs[i]; d != NULL; d = next) {
			next = d->next;
			free(d->path);
			free(d);
		}
	}
	free(w->dirs);
	ro_watchpend_clear(w);
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
	return w->npend;
}

size_t
ro_watch_ndirs(const struct ro_watch *w)
{
	return w->ndirs;
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
			ro_watchpend_schedule_rescan(w);
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

	if (w->head != NULL)
		next = w->head->due;
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
	struct pend	*p;
	char		*path;
	bool		 scheduled;
	int		 error;

	*flags = 0;
	w->now = now_ms;
	if ((w->rescan && w->rescan_due <= now_ms) ||
	    (w->root_lost && !w->rescan && w->root_retry <= now_ms)) {
		scheduled = w->rescan;
		w->rescan = false;
		ro_watchpend_clear(w);
		if ((error = do_rescan(w, err)) < 0) {
			ro_watchpend_schedule_rescan(w);
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
	while ((p = w->head) != NULL && p->due <= now_ms) {
		ro_watchpend_list_unlink(w, p);
		ro_watchpend_unhash(w, p);
		path = p->path;
		free(p);
		if (ro_strv_push_owned(paths, path) < 0) {
			ro_watchpend_schedule_rescan(w);
			return ro_err_set(err, RO_ENOMEM, "out of memory");
		}
	}
	return RO_OK;
}
