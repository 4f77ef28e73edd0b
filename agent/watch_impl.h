/*
 * watch_impl.h: the watcher's state, shared by watch.c (the watcher:
 * events, rescans, the git refs of a work tree), watchdir.c (watched
 * folders by watch descriptor) and watchpend.c (pending paths in order of
 * due time). Internal to those files.
 *
 * Thread rules: one thread (the daemon's loop) uses a watcher.
 */
#ifndef RO_WATCH_IMPL_H
#define RO_WATCH_IMPL_H

#include <sys/inotify.h>

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "roomops/err.h"
#include "roomops/strmap.h"
#include "watch.h"

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

#define GITFILE_MAX	4096		/* bytes of a .git file */
#define DIR_BUCKETS_MIN	64

enum wkind {
	WK_TREE,			/* a folder of the watched tree */
	WK_GITDIR,			/* the git dir: HEAD, packed-refs */
	WK_GITREFS			/* refs/heads and folders below */
};

#define WG_HEAD		0x1u		/* WK_GITDIR: HEAD lives here */
#define WG_PACKED	0x2u		/* WK_GITDIR: packed-refs lives here */

struct wdir {
	struct wdir	*next;		/* hash chain */
	int		 wd;
	unsigned char	 kind;		/* enum wkind */
	unsigned char	 git;		/* WG_* */
	unsigned char	 mark;		/* seen by the current rescan */
	char		*path;		/* tree: relative, root ""; git: abs */
};

struct pend {
	struct pend	*prev, *next;	/* due order, oldest first */
	long long	 due;		/* ms */
	char		*path;
};

struct ro_watch {
	int		 fd;
	int		 debounce;	/* ms */
	char		*root;		/* canonical, no trailing slash */
	size_t		 rootlen;
	long long	 now;		/* ms, of the current call */

	struct wdir	**dirs;		/* by wd */
	size_t		 ndbuckets;	/* power of two */
	size_t		 ndirs;
	int		 rootwd;	/* -1: not watched */

	struct ro_strmap pmap;		/* path -> struct pend */
	size_t		 npend;
	struct pend	*head, *tail;

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


/* watchdir.c */
struct wdir * ro_watchdir_find(const struct ro_watch *w, int wd);
/* Unlink and free d; rm: also remove its kernel watch. */
void	ro_watchdir_drop(struct ro_watch *w, struct wdir *d, bool rm);
/* Drop the tree folder rel and every folder below it. */
void	ro_watchdir_drop_tree(struct ro_watch *w, const char *rel);
/* Drop every folder matching (all, or only those not marked). */
void	ro_watchdir_drop_all(struct ro_watch *w, bool unmarked_only);
void	ro_watchdir_unmark_all(struct ro_watch *w);
/*
 * Watch the folder in w->abs (length n). Returns the wd (> 0), 0 when
 * the folder is gone or unreadable (skipped; logged when unreadable), or
 * an error; for the root, a missing or unreadable folder is an error.
 */
int	ro_watchdir_add(struct ro_watch *w, size_t n, enum wkind kind,
	    unsigned git, struct ro_err *err);

/* watchpend.c */
void	ro_watchpend_list_unlink(struct ro_watch *w, struct pend *p);
void	ro_watchpend_unhash(struct ro_watch *w, struct pend *p);
void	ro_watchpend_clear(struct ro_watch *w);
/* Everything pending is subsumed by a rescan at now + debounce. */
void	ro_watchpend_schedule_rescan(struct ro_watch *w);
void	ro_watchpend_schedule_ref(struct ro_watch *w);
/* Record an event on rel: due debounce ms from now. */
int	ro_watchpend_add(struct ro_watch *w, const char *rel,
	    struct ro_err *err);

#endif
