/*
 * test_watch.c: the folder watcher (agent/watch.c) on the real kernel
 * inotify, in a mktemp -d folder, driven by a small poll loop the way the
 * daemon's epoll loop drives it. Every wait is bounded (WAIT_MS).
 *
 * Overflow: forced with a tiny fs.inotify.max_queued_events when this
 * process can write it (restored at once), always also simulated through
 * ro_watch_feed(); the output says which ran. The watch limit is hit by
 * lowering fs.inotify.max_user_watches for a moment when writable, else
 * that case is skipped with a message.
 */
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "roomops/err.h"
#include "roomops/strv.h"
#include "watch.h"
#include "testutil.h"

#define DEBOUNCE_MS	100
#define WAIT_MS		5000	/* longest wait for anything */
#define SETTLE_MS	300	/* quiet time that ends a batch */

#define QUEUED_SYSCTL	"/proc/sys/fs/inotify/max_queued_events"
#define WATCHES_SYSCTL	"/proc/sys/fs/inotify/max_user_watches"
#define QUEUED_LOCK	"/tmp/roomops-test-max_queued_events.lock"
#define WATCHES_LOCK	"/tmp/roomops-test-max_user_watches.lock"

struct fx {
	char		*dir;
	struct ro_watch	*w;
};

struct got {
	struct ro_strv	 paths;
	unsigned	 flags;
	int		 takes;		/* takes that handed something over */
	long long	 first_ms;	/* time of the first of those */
	long long	 last_ms;
};

static long long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
got_release(struct got *g)
{
	ro_strv_release(&g->paths);
	memset(g, 0, sizeof(*g));
}

static size_t
count(const struct got *g, const char *path)
{
	size_t	i, n = 0;

	for (i = 0; i < g->paths.n; i++)
		if (strcmp(g->paths.v[i], path) == 0)
			n++;
	return n;
}

static void
dump(const char *what, const struct got *g)
{
	size_t	i;

	fprintf(stderr, "%s: %zu path(s), flags %#x, %d take(s):", what,
	    g->paths.n, g->flags, g->takes);
	for (i = 0; i < g->paths.n; i++)
		fprintf(stderr, " %s", g->paths.v[i]);
	fprintf(stderr, "\n");
}

/* One turn of the loop: wait for the fd or the watcher's timeout. */
static void
turn(struct ro_watch *w, struct got *g, long long until)
{
	struct pollfd	 pfd = { ro_watch_fd(w), POLLIN, 0 };
	struct ro_err	 err = RO_ERR_INIT;
	long long	 now = now_ms();
	long		 t = ro_watch_timeout_ms(w, now);
	unsigned	 flags;
	size_t		 before;
	int		 n;

	if (t < 0 || t > until - now)
		t = until - now > 0 ? (long)(until - now) : 0;
	n = poll(&pfd, 1, (int)t);
	assert_true(n >= 0 || errno == EINTR);
	now = now_ms();
	if (n > 0 && ro_watch_read(w, now, &err) != RO_OK)
		fail_msg("ro_watch_read: %s", err.msg);
	if (ro_watch_timeout_ms(w, now) != 0)
		return;
	before = g->paths.n;
	if (ro_watch_take(w, now, &g->paths, &flags, &err) != RO_OK)
		fail_msg("ro_watch_take: %s", err.msg);
	if (g->paths.n == before && flags == 0)
		return;
	if (g->takes++ == 0)
		g->first_ms = now;
	g->last_ms = now;
	g->flags |= flags;
}

/*
 * Run the loop until something was handed over and then SETTLE_MS passed
 * with nothing pending, or WAIT_MS in all.
 */
static void
collect(struct ro_watch *w, struct got *g)
{
	long long	deadline = now_ms() + WAIT_MS, now;

	while ((now = now_ms()) < deadline) {
		if (g->takes > 0 && ro_watch_timeout_ms(w, now) == -1 &&
		    now - g->last_ms >= SETTLE_MS)
			return;
		turn(w, g, g->takes > 0 ? now + SETTLE_MS : deadline);
	}
}

/* Run the loop for ms, whatever happens. */
static void
run_for(struct ro_watch *w, struct got *g, long ms)
{
	long long	until = now_ms() + ms;

	while (now_ms() < until)
		turn(w, g, until);
}

static void
sh(const char *fmt, ...)
{
	char	 cmd[2048];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof(cmd));
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

static void
do_rename(const char *dir, const char *from, const char *to)
{
	char	*a = tu_path(dir, from), *b = tu_path(dir, to);

	if (rename(a, b) != 0)
		fail_msg("rename %s %s: %s", a, b, strerror(errno));
	free(a);
	free(b);
}

static void
do_mkdir(const char *dir, const char *name)
{
	char	*p = tu_path(dir, name);

	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
}

static void
do_unlink(const char *dir, const char *name)
{
	char	*p = tu_path(dir, name);

	assert_int_equal(unlink(p), 0);
	free(p);
}

static struct ro_watch *
watch(const char *dir)
{
	struct ro_watch	*w = NULL;
	struct ro_err	 err = RO_ERR_INIT;

	if (ro_watch_new(&w, dir, DEBOUNCE_MS, &err) != RO_OK)
		fail_msg("ro_watch_new %s: %s", dir, err.msg);
	return w;
}

static int
setup(void **state)
{
	struct fx	*f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	f->dir = tu_tmpdir();
	tu_write(f->dir, "a.yaml", "roomId: a\n");
	tu_write(f->dir, "seeds/faq.md", "# faq\n");
	f->w = watch(f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*f = *state;

	ro_watch_free(f->w);
	tu_rmrf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* Names and arguments. */

static void
test_names(void **state)
{
	(void)state;
	assert_true(ro_watch_is_spec("a.yaml"));
	assert_true(ro_watch_is_spec("rooms/b.yml"));
	assert_false(ro_watch_is_spec(".yaml"));
	assert_false(ro_watch_is_spec("a.yaml~"));
	assert_false(ro_watch_is_spec(".a.yaml.swp"));
	assert_false(ro_watch_is_spec(".git/a.yaml"));
	assert_false(ro_watch_is_spec("x/.hidden/a.yaml"));
	assert_false(ro_watch_is_spec("rooms/"));
	assert_false(ro_watch_is_spec("a.yaml.tmp"));
	assert_false(ro_watch_is_spec("seeds/faq.md"));
	assert_false(ro_watch_is_spec(""));
	assert_false(ro_watch_is_spec("a//b.yaml"));
	assert_true(ro_watch_is_hidden("4913"));
	assert_true(ro_watch_is_hidden("foo~"));
	assert_true(ro_watch_is_hidden(".foo.swp"));
	assert_true(ro_watch_is_hidden("#a.yaml#"));
	assert_true(ro_watch_is_hidden("a.yaml___jb_tmp___"));
	assert_false(ro_watch_is_hidden("a.yaml"));
	assert_false(ro_watch_is_hidden("#notes"));
}

static void
test_bad_arguments(void **state)
{
	struct ro_watch	*w = NULL;
	struct ro_err	 err = RO_ERR_INIT;
	char		*dir = tu_tmpdir(), *missing = tu_path(dir, "nope");

	(void)state;
	tu_write(dir, "file", "x");
	assert_int_equal(ro_watch_new(&w, missing, 100, &err), RO_ENOTFOUND);
	assert_null(w);
	free(missing);
	missing = tu_path(dir, "file");
	assert_int_equal(ro_watch_new(&w, missing, 100, &err), RO_EINVALID);
	assert_true(tu_contains(err.msg, "not a folder"));
	assert_int_equal(ro_watch_new(&w, dir, -1, &err), RO_EINVALID);
	assert_int_equal(ro_watch_new(&w, dir, RO_WATCH_DEBOUNCE_MAX_MS + 1,
	    &err), RO_EINVALID);
	assert_null(w);
	ro_watch_free(NULL);
	free(missing);
	tu_rmrf(dir);
	free(dir);
}

static void
test_idle_and_fd(void **state)
{
	struct fx	*f = *state;
	int		 fl = fcntl(ro_watch_fd(f->w), F_GETFL);
	int		 fdfl = fcntl(ro_watch_fd(f->w), F_GETFD);

	assert_true(fl != -1 && (fl & O_NONBLOCK));
	assert_true(fdfl != -1 && (fdfl & FD_CLOEXEC));
	assert_int_equal(ro_watch_timeout_ms(f->w, now_ms()), -1);
	assert_int_equal(ro_watch_pending(f->w), 0);
	assert_int_equal(ro_watch_ndirs(f->w), 2);	/* root, seeds */
	assert_false(ro_watch_is_git(f->w));
	/* nothing to read: no blocking, no error */
	assert_int_equal(ro_watch_read(f->w, now_ms(), NULL), RO_OK);
}

/* Files. */

static void
test_edit(void **state)
{
	struct fx	*f = *state;
	struct got	 g = { 0 };

	tu_write(f->dir, "a.yaml", "roomId: a\nx: 1\n");
	collect(f->w, &g);
	dump("edit", &g);
	assert_int_equal(g.paths.n, 1);
	assert_int_equal(count(&g, "a.yaml"), 1);
	assert_int_equal(g.flags, 0);
	got_release(&g);

	tu_write(f->dir, "seeds/faq.md", "# faq v2\n");
	collect(f->w, &g);
	assert_int_equal(count(&g, "seeds/faq.md"), 1);
	assert_int_equal(g.paths.n, 1);
	got_release(&g);
}

static void
test_create_delete(void **state)
{
	struct fx	*f = *state;
	struct got	 g = { 0 };

	tu_write(f->dir, "b.yaml", "roomId: b\n");
	collect(f->w, &g);
	dump("create", &g);
	assert_int_equal(g.paths.n, 1);
	assert_int_equal(count(&g, "b.yaml"), 1);
	got_release(&g);

	do_unlink(f->dir, "b.yaml");
	collect(f->w, &g);
	dump("delete", &g);
	assert_int_equal(g.paths.n, 1);
	assert_int_equal(count(&g, "b.yaml"), 1);
	got_release(&g);
}

static void
test_rename(void **state)
{
	struct fx	*f = *state;
	struct got	 g = { 0 };

	do_rename(f->dir, "a.yaml", "c.yaml");
	collect(f->w, &g);
	dump("rename", &g);
	assert_int_equal(g.paths.n, 2);
	assert_int_equal(count(&g, "a.yaml"), 1);
	assert_int_equal(count(&g, "c.yaml"), 1);
	got_release(&g);
}

static void
test_atomic_save(void **state)
{
	struct fx	*f = *state;
	struct got	 g = { 0 };
	long long	 t0;

	/* ro_file_replace's way, then an editor's hidden temp file */
	tu_write(f->dir, "a.yaml.tmp", "roomId: a\nv: 2\n");
	t0 = now_ms();
	do_rename(f->dir, "a.yaml.tmp", "a.yaml");
	collect(f->w, &g);
	dump("atomic save", &g);
	assert_int_equal(g.paths.n, 1);
	assert_int_equal(count(&g, "a.yaml"), 1);
	assert_int_equal(g.takes, 1);
	assert_true(g.first_ms - t0 >= DEBOUNCE_MS);
	got_release(&g);

	tu_write(f->dir, ".a.yaml.XXXXXX", "roomId: a\nv: 3\n");
	do_rename(f->dir, ".a.yaml.XXXXXX", "a.yaml");
	collect(f->w, &g);
	assert_int_equal(g.paths.n, 1);
	assert_int_equal(count(&g, "a.yaml"), 1);
	got_release(&g);

	/* vim: move the original to a backup, write anew, drop the backup */
	do_rename(f->dir, "a.yaml", "a.yaml~");
	tu_write(f->dir, "4913", "");
	do_unlink(f->dir, "4913");
	tu_write(f->dir, "a.yaml", "roomId: a\nv: 4\n");
	do_unlink(f->dir, "a.yaml~");
	collect(f->w, &g);
	dump("vim save", &g);
	assert_int_equal(g.paths.n, 1);
	assert_int_equal(count(&g, "a.yaml"), 1);
	got_release(&g);
}

static void
test_burst(void **state)
{
	struct fx	*f = *state;
	struct got	 g = { 0 };
	char		 body[64];
	long long	 t0 = now_ms(), t1 = t0;
	int		 i;

	/* the loop runs between the writes: each one pushes the due time */
	for (i = 0; i < 50; i++) {
		snprintf(body, sizeof(body), "roomId: burst\nn: %d\n", i);
		tu_write(f->dir, "burst.yaml", body);
		t1 = now_ms();
		run_for(f->w, &g, DEBOUNCE_MS / 20);
	}
	collect(f->w, &g);
	dump("burst", &g);
	fprintf(stderr, "burst: 50 writes in %lld ms (debounce %d ms)\n",
	    t1 - t0, DEBOUNCE_MS);
	assert_true(t1 - t0 > DEBOUNCE_MS);
	assert_int_equal(g.paths.n, 1);
	assert_int_equal(count(&g, "burst.yaml"), 1);
	assert_int_equal(g.takes, 1);
	/* handed over a debounce after the last write, not the first */
	assert_true(g.first_ms - t1 >= DEBOUNCE_MS - 1);
	got_release(&g);
}

static void
test_hidden_ignored(void **state)
{
	struct fx	*f = *state;
	struct got	 g = { 0 };

	tu_write(f->dir, ".a.yaml.swp", "x");
	tu_write(f->dir, "b.yaml~", "x");
	tu_write(f->dir, "4913", "x");
	tu_write(f->dir, "#a.yaml#", "x");
	tu_write(f->dir, ".hidden/c.yaml", "x");
	tu_write(f->dir, ".git/config", "x");
	tu_write(f->dir, ".hidden/c.yaml", "y");
	do_unlink(f->dir, "4913");
	run_for(f->w, &g, 3 * DEBOUNCE_MS + SETTLE_MS);
	dump("hidden", &g);
	assert_int_equal(g.takes, 0);
	assert_int_equal(ro_watch_pending(f->w), 0);
	assert_int_equal(ro_watch_ndirs(f->w), 2);	/* .hidden unwatched */

	/* a temp file renamed to a visible name is seen, as that name */
	do_rename(f->dir, ".a.yaml.swp", "d.yaml");
	do_rename(f->dir, "b.yaml~", "seeds/notes.md");
	collect(f->w, &g);
	dump("temp renamed", &g);
	assert_int_equal(g.paths.n, 2);
	assert_int_equal(count(&g, "d.yaml"), 1);
	assert_int_equal(count(&g, "seeds/notes.md"), 1);
	got_release(&g);
}

/* Folders. */

static void
test_new_subfolder(void **state)
{
	struct fx	*f = *state;
	struct got	 g = { 0 };

	/* files made right after mkdir, before the watcher saw the folder */
	do_mkdir(f->dir, "rooms");
	tu_write(f->dir, "rooms/r1.yaml", "roomId: r1\n");
	tu_write(f->dir, "rooms/deep/er/r2.yml", "roomId: r2\n");
	collect(f->w, &g);
	dump("new subfolder", &g);
	assert_int_equal(count(&g, "rooms/r1.yaml"), 1);
	assert_int_equal(count(&g, "rooms/deep/er/r2.yml"), 1);
	assert_int_equal(g.paths.n, 2);
	assert_int_equal(ro_watch_ndirs(f->w), 5);
	got_release(&g);

	/* and the new folders are watched from now on */
	tu_write(f->dir, "rooms/deep/er/r3.yaml", "roomId: r3\n");
	collect(f->w, &g);
	assert_int_equal(g.paths.n, 1);
	assert_int_equal(count(&g, "rooms/deep/er/r3.yaml"), 1);
	got_release(&g);

	/* rm -rf: every file and the folder itself, watches dropped */
	sh("rm -rf '%s/rooms/deep'", f->dir);
	collect(f->w, &g);
	dump("rm -rf", &g);
	assert_int_equal(count(&g, "rooms/deep/"), 1);
	assert_int_equal(count(&g, "rooms/deep/er/r2.yml"), 1);
	assert_int_equal(count(&g, "rooms/deep/er/r3.yaml"), 1);
	assert_int_equal(ro_watch_ndirs(f->w), 3);
	got_release(&g);
}

static void
test_folder_moved_in_and_out(void **state)
{
	struct fx	*f = *state;
	struct got	 g = { 0 };
	char		*outside = tu_tmpdir(), *src, *dst;

	tu_write(outside, "pack/p1.yaml", "roomId: p1\n");
	tu_write(outside, "pack/sub/p2.yaml", "roomId: p2\n");
	tu_write(outside, "pack/.p3.yaml.swp", "x");
	src = tu_path(outside, "pack");
	dst = tu_path(f->dir, "pack");
	assert_int_equal(rename(src, dst), 0);
	collect(f->w, &g);
	dump("moved in", &g);
	assert_int_equal(g.paths.n, 2);
	assert_int_equal(count(&g, "pack/p1.yaml"), 1);
	assert_int_equal(count(&g, "pack/sub/p2.yaml"), 1);
	assert_int_equal(ro_watch_ndirs(f->w), 4);
	got_release(&g);

	tu_write(f->dir, "pack/sub/p4.yaml", "roomId: p4\n");
	collect(f->w, &g);
	assert_int_equal(g.paths.n, 1);
	assert_int_equal(count(&g, "pack/sub/p4.yaml"), 1);
	got_release(&g);

	/* moved within the tree: old folder gone, new files there */
	do_rename(f->dir, "pack", "seeds/pack2");
	collect(f->w, &g);
	dump("moved within", &g);
	assert_int_equal(count(&g, "pack/"), 1);
	assert_int_equal(count(&g, "seeds/pack2/p1.yaml"), 1);
	assert_int_equal(count(&g, "seeds/pack2/sub/p2.yaml"), 1);
	assert_int_equal(count(&g, "seeds/pack2/sub/p4.yaml"), 1);
	assert_int_equal(g.paths.n, 4);
	assert_int_equal(ro_watch_ndirs(f->w), 4);
	got_release(&g);

	/* moved out: reported as the folder, its watches dropped */
	free(dst);
	dst = tu_path(f->dir, "seeds/pack2");
	assert_int_equal(rename(dst, src), 0);
	collect(f->w, &g);
	dump("moved out", &g);
	assert_int_equal(g.paths.n, 1);
	assert_int_equal(count(&g, "seeds/pack2/"), 1);
	assert_int_equal(ro_watch_ndirs(f->w), 2);
	got_release(&g);
	tu_write(outside, "pack/sub/p5.yaml", "roomId: p5\n");
	run_for(f->w, &g, 2 * DEBOUNCE_MS + SETTLE_MS);
	assert_int_equal(g.takes, 0);

	free(src);
	free(dst);
	tu_rmrf(outside);
	free(outside);
}

static void
test_root_moved_away_and_back(void **state)
{
	struct fx	*f = *state;
	struct got	 g = { 0 };
	char		*away;

	if (asprintf(&away, "%s.away", f->dir) < 0)
		fail();
	assert_int_equal(rename(f->dir, away), 0);
	run_for(f->w, &g, DEBOUNCE_MS + SETTLE_MS);
	dump("root moved", &g);
	assert_true(g.flags & RO_WATCH_RESCAN);
	assert_int_equal(g.paths.n, 0);
	assert_int_equal(ro_watch_ndirs(f->w), 0);
	/* looked for again every RO_WATCH_ROOT_RETRY_MS */
	assert_true(ro_watch_timeout_ms(f->w, now_ms()) >= 0);
	got_release(&g);

	assert_int_equal(rename(away, f->dir), 0);
	collect(f->w, &g);
	dump("root back", &g);
	assert_true(g.flags & RO_WATCH_RESCAN);
	assert_int_equal(ro_watch_ndirs(f->w), 2);
	got_release(&g);

	tu_write(f->dir, "a.yaml", "roomId: a\nback: true\n");
	collect(f->w, &g);
	assert_int_equal(g.paths.n, 1);
	assert_int_equal(count(&g, "a.yaml"), 1);
	assert_int_equal(g.flags, 0);
	got_release(&g);
	free(away);
}

static void
test_configmap_swap(void **state)
{
	struct ro_watch	*w;
	struct got	 g = { 0 };
	char		*dir = tu_tmpdir();

	(void)state;
	/* kubelet's AtomicWriter layout and update */
	tu_write(dir, "..2024_a/a.yaml", "roomId: a\n");
	sh("cd '%s' && ln -s ..2024_a ..data && ln -s ..data/a.yaml a.yaml",
	    dir);
	w = watch(dir);
	tu_write(dir, "..2024_b/a.yaml", "roomId: a\nv: 2\n");
	sh("cd '%s' && ln -s ..2024_b ..data_tmp && mv -T ..data_tmp ..data "
	    "&& rm -rf ..2024_a", dir);
	collect(w, &g);
	dump("configmap swap", &g);
	assert_int_equal(g.flags, RO_WATCH_RESCAN);
	got_release(&g);
	ro_watch_free(w);
	tu_rmrf(dir);
	free(dir);
}

/* The root vanished while events were lost: found by the rescan. */
static void
test_root_gone_during_overflow(void **state)
{
	struct fx		*f = *state;
	struct got		 g = { 0 };
	struct inotify_event	 ev = { -1, IN_Q_OVERFLOW, 0, 0 };
	struct ro_err		 err = RO_ERR_INIT;
	char			*away;
	unsigned		 flags;
	long long		 now = now_ms();

	if (asprintf(&away, "%s.away", f->dir) < 0)
		fail();
	assert_int_equal(rename(f->dir, away), 0);
	/* the queue is not read: as if IN_MOVE_SELF had been dropped */
	assert_int_equal(ro_watch_feed(f->w, &ev, sizeof(ev), now, NULL),
	    RO_OK);
	now += DEBOUNCE_MS;
	assert_int_equal(ro_watch_take(f->w, now, &g.paths, &flags, &err),
	    RO_OK);
	assert_int_equal(flags, RO_WATCH_RESCAN);
	assert_int_equal(ro_watch_ndirs(f->w), 0);
	assert_int_equal(ro_watch_timeout_ms(f->w, now),
	    RO_WATCH_ROOT_RETRY_MS);
	assert_int_equal(rename(away, f->dir), 0);
	collect(f->w, &g);
	dump("root back after overflow", &g);
	assert_true(g.flags & RO_WATCH_RESCAN);
	assert_int_equal(ro_watch_ndirs(f->w), 2);
	got_release(&g);
	free(away);
}

/* Overflow and limits. */

static bool
sysctl_read(const char *path, long *v)
{
	FILE	*fp = fopen(path, "r");
	bool	 ok;

	if (fp == NULL)
		return false;
	ok = fscanf(fp, "%ld", v) == 1;
	fclose(fp);
	return ok;
}

static bool
sysctl_write(const char *path, long v)
{
	int	fd = open(path, O_WRONLY);
	char	s[32];
	int	n = snprintf(s, sizeof(s), "%ld\n", v);
	bool	ok;

	if (fd == -1)
		return false;
	ok = write(fd, s, (size_t)n) == n;
	if (close(fd) != 0)
		ok = false;
	return ok;
}

/*
 * Lowering a machine-wide sysctl for a moment. Concurrent runs of this
 * test (release and sanitizer builds, several build dirs) would read
 * each other's lowered value as "old" and never restore it: a lock file
 * per sysctl, machine-wide (in /tmp, whatever TMPDIR says), serialises
 * them, and holds the value to restore while it is lowered, so that the
 * next run repairs a run that died inside the window.
 */
struct tweak {
	const char	*path;
	int		 lockfd;
	long		 old;
};

static bool
tweak_begin(struct tweak *t, const char *path, const char *lock, long value)
{
	char		 saved[32];
	long		 v;
	long long	 deadline = now_ms() + WAIT_MS;
	ssize_t		 n;

	t->path = path;
	if (access(path, W_OK) == -1)
		return false;		/* read-only /proc/sys, not root */
	t->lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	assert_true(t->lockfd != -1);
	while (flock(t->lockfd, LOCK_EX | LOCK_NB) == -1) {
		assert_true(errno == EWOULDBLOCK && now_ms() < deadline);
		usleep(10 * 1000);
	}
	n = pread(t->lockfd, saved, sizeof(saved) - 1, 0);
	if (n > 0) {
		saved[n] = '\0';
		if (sscanf(saved, "%ld", &v) == 1) {
			fprintf(stderr, "%s: restoring %ld left by a run that "
			    "died\n", path, v);
			assert_true(sysctl_write(path, v));
		}
	}
	if (!sysctl_read(path, &t->old) || !sysctl_write(path, t->old)) {
		close(t->lockfd);
		return false;		/* not writable after all */
	}
	n = snprintf(saved, sizeof(saved), "%ld\n", t->old);
	assert_true(ftruncate(t->lockfd, 0) == 0);
	assert_true(pwrite(t->lockfd, saved, (size_t)n, 0) == n);
	assert_true(sysctl_write(path, value));
	return true;
}

static void
tweak_end(struct tweak *t)
{
	bool	ok = sysctl_write(t->path, t->old);

	if (ok && ftruncate(t->lockfd, 0) != 0)
		ok = false;
	close(t->lockfd);		/* unlocks */
	assert_true(ok);
}

/* After a rescan the watcher keeps working, new folders included. */
static void
check_alive_after_rescan(struct fx *f, const char *sub)
{
	struct got	 g = { 0 };
	char		 rel[64];

	snprintf(rel, sizeof(rel), "%s/after.yaml", sub);
	tu_write(f->dir, rel, "roomId: after\n");
	collect(f->w, &g);
	dump("after rescan", &g);
	assert_int_equal(count(&g, rel), 1);
	got_release(&g);
}

static void
test_overflow_forced(void **state)
{
	struct fx	*f = *state;
	struct got	 g = { 0 };
	struct ro_err	 err = RO_ERR_INIT;
	struct tweak	 t;
	char		 name[32], *outside, *src, *dst;
	int		 i, error;

	/* the queue size is taken when the instance is made: restore now */
	ro_watch_free(f->w);
	f->w = NULL;
	if (!tweak_begin(&t, QUEUED_SYSCTL, QUEUED_LOCK, 8)) {
		fprintf(stderr, "overflow: %s not writable here: the "
		    "simulated overflow test covers it\n", QUEUED_SYSCTL);
		skip();
	}
	error = ro_watch_new(&f->w, f->dir, DEBOUNCE_MS, &err);
	tweak_end(&t);
	if (error != RO_OK)
		fail_msg("ro_watch_new: %s", err.msg);
	fprintf(stderr, "overflow: FORCED with fs.inotify.max_queued_events=8 "
	    "(restored to %ld)\n", t.old);

	/* events nobody reads: far more than 8; a folder among them */
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "o%02d.yaml", i);
		tu_write(f->dir, name, "roomId: o\n");
	}
	tu_write(f->dir, "lost/inside.yaml", "roomId: lost\n");
	/* a folder moved away unseen: its watch must not linger */
	outside = tu_tmpdir();
	src = tu_path(f->dir, "seeds");
	dst = tu_path(outside, "seeds");
	assert_int_equal(rename(src, dst), 0);
	collect(f->w, &g);
	dump("forced overflow", &g);
	assert_true(g.flags & RO_WATCH_RESCAN);
	assert_int_equal(ro_watch_ndirs(f->w), 2);	/* root, lost/ */
	got_release(&g);
	tu_write(outside, "seeds/faq.md", "# elsewhere\n");
	run_for(f->w, &g, 2 * DEBOUNCE_MS + SETTLE_MS);
	dump("moved away unseen", &g);
	assert_int_equal(g.takes, 0);
	check_alive_after_rescan(f, "lost");
	tu_rmrf(outside);
	free(outside);
	free(src);
	free(dst);
}

static void
test_overflow_simulated(void **state)
{
	struct fx		*f = *state;
	struct got		 g = { 0 };
	struct inotify_event	 ev = { -1, IN_Q_OVERFLOW, 0, 0 };
	long long		 t0;

	fprintf(stderr, "overflow: SIMULATED by feeding IN_Q_OVERFLOW\n");
	/* a pending path, then the overflow: the rescan subsumes it */
	tu_write(f->dir, "a.yaml", "roomId: a\nv: 9\n");
	do_mkdir(f->dir, "quiet");
	usleep(50 * 1000);
	assert_int_equal(ro_watch_read(f->w, now_ms(), NULL), RO_OK);
	assert_true(ro_watch_pending(f->w) >= 1);
	t0 = now_ms();
	assert_int_equal(ro_watch_feed(f->w, &ev, sizeof(ev), t0, NULL),
	    RO_OK);
	assert_int_equal(ro_watch_pending(f->w), 0);
	assert_true(ro_watch_timeout_ms(f->w, t0) > 0);
	collect(f->w, &g);
	dump("simulated overflow", &g);
	assert_true(g.flags & RO_WATCH_RESCAN);
	assert_int_equal(g.paths.n, 0);
	assert_int_equal(g.takes, 1);
	got_release(&g);
	check_alive_after_rescan(f, "quiet");
}

static void
test_pending_bounded(void **state)
{
	struct fx	*f = *state;
	struct got	 g = { 0 };
	char		*buf;
	size_t		 rec = sizeof(struct inotify_event) + 16, i;
	long long	 now = now_ms();

	/* RO_WATCH_PENDING_MAX + 1 names on the root (wd 1: the first) */
	buf = calloc(RO_WATCH_PENDING_MAX + 1, rec);
	assert_non_null(buf);
	for (i = 0; i <= RO_WATCH_PENDING_MAX; i++) {
		struct inotify_event	ev = { 1, IN_CLOSE_WRITE, 0, 16 };

		memcpy(buf + i * rec, &ev, sizeof(ev));
		snprintf(buf + i * rec + sizeof(ev), 16, "f%07zu", i);
		if (i == 0) {
			assert_int_equal(ro_watch_feed(f->w, buf, rec, now,
			    NULL), RO_OK);
			assert_int_equal(ro_watch_pending(f->w), 1);
		}
	}
	assert_int_equal(ro_watch_feed(f->w, buf, rec * (RO_WATCH_PENDING_MAX +
	    1), now, NULL), RO_OK);
	free(buf);
	assert_int_equal(ro_watch_pending(f->w), 0);
	collect(f->w, &g);
	assert_true(g.flags & RO_WATCH_RESCAN);
	assert_int_equal(g.paths.n, 0);
	got_release(&g);
}

static void
test_watch_limit(void **state)
{
	struct ro_watch	*w = NULL;
	struct ro_err	 err = RO_ERR_INIT;
	struct tweak	 t;
	char		*dir = tu_tmpdir();
	int		 error;

	(void)state;
	tu_write(dir, "a/x.yaml", "x");
	tu_write(dir, "b/x.yaml", "x");
	tu_write(dir, "c/x.yaml", "x");
	/* for as short a time as possible: this limit is per user */
	if (!tweak_begin(&t, WATCHES_SYSCTL, WATCHES_LOCK, 1)) {
		fprintf(stderr, "watch limit: %s not writable here: case "
		    "skipped\n", WATCHES_SYSCTL);
		tu_rmrf(dir);
		free(dir);
		skip();
	}
	error = ro_watch_new(&w, dir, DEBOUNCE_MS, &err);
	tweak_end(&t);
	fprintf(stderr, "watch limit: fs.inotify.max_user_watches=1 for a "
	    "moment (restored to %ld): %s\n", t.old, err.msg);
	if (error == RO_OK) {
		ro_watch_free(w);
		tu_rmrf(dir);
		free(dir);
		fprintf(stderr, "watch limit: not enforced in this namespace: "
		    "case skipped\n");
		skip();
	}
	assert_int_equal(error, RO_ERROR);
	assert_null(w);
	assert_true(tu_contains(err.msg, "inotify watch limit reached; "
	    "raise fs.inotify.max_user_watches"));
	tu_rmrf(dir);
	free(dir);
}

/* Git work trees. */

#define GIT	"git -c user.name=t -c user.email=t@example.com " \
		"-c init.defaultBranch=main -c core.hooksPath=/dev/null"

static void
test_git_commit(void **state)
{
	struct ro_watch	*w;
	struct got	 g = { 0 };
	char		*dir = tu_tmpdir();
	size_t		 i;

	(void)state;
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	assert_false(ro_watch_is_git_worktree(dir));
	sh(GIT " init -q '%s'", dir);
	tu_write(dir, "a.yaml", "roomId: a\n");
	sh(GIT " -C '%s' add a.yaml && " GIT " -C '%s' commit -q -m one",
	    dir, dir);
	assert_true(ro_watch_is_git_worktree(dir));
	w = watch(dir);
	assert_true(ro_watch_is_git(w));

	/* an uncommitted edit is a path; staging it says nothing more */
	tu_write(dir, "a.yaml", "roomId: a\nv: 2\n");
	sh(GIT " -C '%s' add a.yaml", dir);
	collect(w, &g);
	dump("worktree edit", &g);
	assert_int_equal(g.paths.n, 1);
	assert_int_equal(count(&g, "a.yaml"), 1);
	assert_int_equal(g.flags, 0);
	got_release(&g);

	/* a commit moves the ref: one signal, no paths inside .git */
	sh(GIT " -C '%s' commit -q -m two", dir);
	collect(w, &g);
	dump("commit", &g);
	assert_int_equal(g.flags, RO_WATCH_REF_MOVED);
	for (i = 0; i < g.paths.n; i++)
		assert_true(strncmp(g.paths.v[i], ".git", 4) != 0);
	assert_int_equal(g.paths.n, 0);
	got_release(&g);

	/* a new branch with a slash, checked out: HEAD and refs/heads/x/ */
	sh(GIT " -C '%s' checkout -q -b feature/x", dir);
	collect(w, &g);
	dump("checkout", &g);
	assert_true(g.flags & RO_WATCH_REF_MOVED);
	got_release(&g);
	tu_write(dir, "b.yaml", "roomId: b\n");
	sh(GIT " -C '%s' add b.yaml && " GIT " -C '%s' commit -q -m three",
	    dir, dir);
	collect(w, &g);
	dump("commit on feature/x", &g);
	assert_true(g.flags & RO_WATCH_REF_MOVED);
	assert_int_equal(count(&g, "b.yaml"), 1);
	got_release(&g);

	/* packed refs: git pack-refs rewrites packed-refs */
	sh(GIT " -C '%s' pack-refs --all", dir);
	collect(w, &g);
	assert_true(g.flags & RO_WATCH_REF_MOVED);
	got_release(&g);

	/* back to main: no ref changes, only HEAD (and the files) */
	sh(GIT " -C '%s' checkout -q main", dir);
	collect(w, &g);
	dump("checkout main", &g);
	assert_true(g.flags & RO_WATCH_REF_MOVED);
	assert_int_equal(count(&g, "b.yaml"), 1);
	got_release(&g);

	ro_watch_free(w);
	tu_rmrf(dir);
	free(dir);
}

static void
test_git_linked_worktree(void **state)
{
	struct ro_watch	*w;
	struct got	 g = { 0 };
	char		*dir = tu_tmpdir(), *wt = tu_path(dir, "wt");
	char		*repo = tu_path(dir, "repo");

	(void)state;
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	sh(GIT " init -q '%s'", repo);
	tu_write(repo, "a.yaml", "roomId: a\n");
	sh(GIT " -C '%s' add a.yaml && " GIT " -C '%s' commit -q -m one",
	    repo, repo);
	sh(GIT " -C '%s' worktree add -q -b side '%s'", repo, wt);
	assert_true(ro_watch_is_git_worktree(wt));
	w = watch(wt);
	assert_true(ro_watch_is_git(w));

	tu_write(wt, "c.yaml", "roomId: c\n");
	sh(GIT " -C '%s' add c.yaml && " GIT " -C '%s' commit -q -m side",
	    wt, wt);
	collect(w, &g);
	dump("linked worktree commit", &g);
	assert_true(g.flags & RO_WATCH_REF_MOVED);
	assert_int_equal(count(&g, "c.yaml"), 1);
	assert_int_equal(g.paths.n, 1);
	got_release(&g);

	ro_watch_free(w);
	tu_rmrf(dir);
	free(dir);
	free(wt);
	free(repo);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test_setup_teardown(test_idle_and_fd, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_edit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_delete, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_atomic_save, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_burst, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hidden_ignored, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_new_subfolder, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_folder_moved_in_and_out,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_root_moved_away_and_back,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_root_gone_during_overflow,
		    setup, teardown),
		cmocka_unit_test(test_configmap_swap),
		cmocka_unit_test_setup_teardown(test_overflow_forced, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_overflow_simulated, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_pending_bounded, setup,
		    teardown),
		cmocka_unit_test(test_watch_limit),
		cmocka_unit_test(test_git_commit),
		cmocka_unit_test(test_git_linked_worktree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
