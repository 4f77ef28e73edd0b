/*
 * watch.h: a recursive inotify watcher of a local spec folder, made to
 * live inside one single-threaded epoll loop (STYLE.md habits 9 and 12).
 *
 * The loop adds ro_watch_fd() with EPOLLIN (level-triggered), calls
 * ro_watch_read() when it is readable, sleeps at most
 * ro_watch_timeout_ms(), and calls ro_watch_take() when that time has
 * come. Nothing here blocks on the network or sleeps; read() does bounded
 * work per call (the rest stays queued and the fd stays readable); folder
 * walks (a new subfolder, a rescan) read directories on the calling
 * thread.
 *
 * What is reported, as paths relative to the root ("a.yaml",
 * "rooms/b.yml", "seeds/faq.md"):
 *   - a file created, written and closed, deleted, renamed (both names),
 *     or whose attributes changed (touch, chmod);
 *   - a folder deleted or moved away: its path with a trailing slash
 *     ("old/"): everything below it is gone or changed;
 *   - a folder created or moved in: every file inside it (it is walked
 *     and watched at once, so files created before its watch existed are
 *     not lost).
 * Hidden entries (ro_watch_is_hidden: .git, dot-files, editor temp and
 * backup files) are never reported and hidden folders are not watched;
 * a rename of a temp file onto a visible name reports the visible name.
 * Each path has its own debounce: it is due debounce_ms after its last
 * event, so a burst of writes or an atomic save is handed over once.
 *
 * Signals (flags of ro_watch_take):
 *   RO_WATCH_RESCAN     inotify lost events (queue overflow, too many
 *                       pending paths, the root moved away or came back,
 *                       a folder that could not be watched): re-read the
 *                       whole folder. Watches were re-established first.
 *                       Pending paths are dropped: the rescan covers them.
 *                       When the root itself is gone, it stays RESCAN and
 *                       the root is looked for again every
 *                       RO_WATCH_ROOT_RETRY_MS; an unreadable root is an
 *                       error for the consumer, never an empty folder.
 *   RO_WATCH_REF_MOVED  in a Git work tree (ro_watch_is_git), HEAD, a
 *                       branch ref (refs/heads/...) or packed-refs
 *                       changed: a commit, a checkout, a reset. A hint:
 *                       compare with the last reconciled commit. Set with
 *                       every RESCAN of a work tree too.
 *
 * inotify is a hint, not a ledger: events are lost on overflow, on
 * watch-limit hits, and for changes behind symbolic links. The daemon
 * keeps its periodic full reconcile. See docs/watch.md.
 *
 * Time: every now_ms is CLOCK_MONOTONIC in milliseconds, never
 * decreasing between calls.
 *
 * Threads: one struct ro_watch belongs to one thread (the loop's).
 */
#ifndef RO_WATCH_H
#define RO_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "roomops/err.h"
#include "roomops/strv.h"

#define RO_WATCH_DEBOUNCE_MS	100	/* default per-file debounce */
#define RO_WATCH_DEBOUNCE_MAX_MS 60000	/* ms */
#define RO_WATCH_PENDING_MAX	100000	/* paths waiting; beyond: rescan */
#define RO_WATCH_DIRS_MAX	100000	/* watched folders */
#define RO_WATCH_DEPTH_MAX	64	/* folder levels below the root */
#define RO_WATCH_READ_BYTES	(64u << 10)	/* one read(2) */
#define RO_WATCH_READS_MAX	16	/* read(2) calls per ro_watch_read */
#define RO_WATCH_ROOT_RETRY_MS	1000	/* look for a vanished root */

#define RO_WATCH_RESCAN		0x1u
#define RO_WATCH_REF_MOVED	0x2u

struct ro_watch;

/*
 * Watch the folder root and every visible folder below it (and, when
 * root is a Git work tree, its HEAD, refs/heads/ and packed-refs). The
 * initial tree is not reported: the caller loads it itself.
 *
 * @param[out] out    new watcher, freed with ro_watch_free(); untouched
 *                    on error
 * @param root        the folder; kept as its canonical path (realpath)
 * @param debounce_ms 0..RO_WATCH_DEBOUNCE_MAX_MS
 * @return RO_OK, RO_ENOTFOUND (no root), RO_EINVALID (not a folder, bad
 *         debounce), RO_ETOOBIG (more than RO_WATCH_DIRS_MAX folders),
 *         RO_ENOMEM, or RO_ERROR: the message names the sysctl to raise
 *         when a kernel limit was hit ("inotify watch limit reached;
 *         raise fs.inotify.max_user_watches", fs.inotify.max_user_instances)
 */
int	ro_watch_new(struct ro_watch **out, const char *root, int debounce_ms,
	    struct ro_err *err);
/* Close the inotify fd and free everything. NULL is a no-op. */
void	ro_watch_free(struct ro_watch *w);

/* The inotify fd (non-blocking, close-on-exec) to add to epoll. */
int	ro_watch_fd(const struct ro_watch *w);
/* The canonical root. */
const char *ro_watch_root(const struct ro_watch *w);
/* Is the root watched as a Git work tree (ref moves are reported)? */
bool	ro_watch_is_git(const struct ro_watch *w);

/*
 * Drain the events available now (at most RO_WATCH_READS_MAX reads) and
 * record what changed; never blocks. New folders are watched and walked
 * here. A watch-limit hit on a new folder is logged with the sysctl to
 * raise and turns into a rescan.
 * @return RO_OK, RO_ENOMEM (an event was lost: a rescan is scheduled),
 *         RO_EIO (read(2) failed)
 */
int	ro_watch_read(struct ro_watch *w, long long now_ms, struct ro_err *err);

/*
 * Process a buffer of struct inotify_event records exactly as if read
 * from the fd: for tests (a simulated IN_Q_OVERFLOW) and benchmarks.
 * len must cover whole records. Same returns as ro_watch_read.
 */
int	ro_watch_feed(struct ro_watch *w, const void *buf, size_t len,
	    long long now_ms, struct ro_err *err);

/*
 * Milliseconds until the next ro_watch_take has something to hand over:
 * 0 when something is due now, -1 when nothing is pending.
 */
long	ro_watch_timeout_ms(const struct ro_watch *w, long long now_ms);

/*
 * Hand over what is due at now_ms: every path whose debounce expired is
 * appended to paths (owned by the caller) and removed from the pending
 * set; *flags gets RO_WATCH_RESCAN and/or RO_WATCH_REF_MOVED (0 when
 * none). A due rescan re-walks the tree (re-adding lost watches,
 * dropping stale ones) before it is reported.
 * @return RO_OK or RO_ENOMEM (paths may be partly filled; a rescan is
 *         scheduled so that nothing is lost)
 */
int	ro_watch_take(struct ro_watch *w, long long now_ms,
	    struct ro_strv *paths, unsigned *flags, struct ro_err *err);

/* Number of paths waiting for their debounce (for status and tests). */
size_t	ro_watch_pending(const struct ro_watch *w);
/* Number of folders watched, Git ones included. */
size_t	ro_watch_ndirs(const struct ro_watch *w);

/*
 * Is one path component hidden: ".*" (.git, .foo.swp, .#lock), "#*#"
 * (emacs), "*~", "4913" (vim's probe), "*.swp", "*.swx", "*.tmp",
 * "*___jb_tmp___", "*___jb_old___" (JetBrains)?
 */
bool	ro_watch_is_hidden(const char *name);
/*
 * Is relpath a spec file: ends in ".yaml" or ".yml" (with a name before
 * it) and no component is hidden?
 */
bool	ro_watch_is_spec(const char *relpath);
/* Is root a Git work tree: has root/.git as a folder or a "gitdir:" file? */
bool	ro_watch_is_git_worktree(const char *root);

#endif
