/*
 * benchtool.c: the measuring half of tests/bench/run. Each subcommand
 * does one timed thing the shell cannot do precisely, and prints
 * "key value" lines for the script to pick up:
 *
 *   save   atomic saves of spec files in a watched folder; per save, the
 *          time until the agent's audit log has the room's record, and
 *          until `inotifywait` (started here, same saves) reports it
 *   push   commits pushed to a Git remote (optionally followed by a
 *          webhook POST); per push, the time until the audit log has
 *          the record of that commit
 *   relay  an inetd-style TCP front for a command (git daemon --inetd)
 *          that counts connections and bytes in each direction
 *   run    run a command N times: wall and CPU time (wait4 rusage);
 *          its stdout is dropped, its stderr may go to a file
 *   idle   CPU time, context switches and RSS of a process over a window
 *
 * Times come from CLOCK_MONOTONIC in microseconds; every wait is bounded.
 * No library beyond libc: it is built by one add_executable line.
 */
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../common/banned.h"

#define TAIL_BUF	(4u << 20)	/* bytes of audit log held at once */
#define SPEC_MAX	(1u << 20)	/* bytes of one spec template */
#define RELAY_CONNS	16		/* connections relayed at once */
#define RELAY_CHUNK	65536		/* bytes per read */
#define FILES_MAX	64		/* spec files per save run */
#define WAIT_TICK_MS	50		/* re-read period when no event */

static void
die(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	fputs("benchtool: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static long long
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
sleep_ms(long ms)
{
	struct timespec	ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (ms > 0 && nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static long
num(const char *s, long lo, long hi, const char *what)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		die("%s: bad number '%s' (%ld..%ld)", what, s, lo, hi);
	return v;
}

/* --- series of samples --------------------------------------------------- */

struct series {
	double	*v;
	size_t	 n, cap;
};

static void
series_add(struct series *s, double x)
{
	double	*v;

	if (s->n == s->cap) {
		s->cap = s->cap != 0 ? s->cap * 2 : 64;
		if ((v = realloc(s->v, s->cap * sizeof(*v))) == NULL)
			die("out of memory");
		s->v = v;
	}
	s->v[s->n++] = x;
}

static int
dcmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[0..n). */
static double
pct(const double *v, size_t n, double p)
{
	size_t	k;

	if (n == 0)
		return 0;
	k = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

/* "NAME n=.. p50=.. p90=.. p99=.. max=.. mean=.." (values in ms); the
 * samples are freed. */
static void
series_print(const char *name, struct series *s)
{
	double	sum = 0;
	size_t	i;

	qsort(s->v, s->n, sizeof(*s->v), dcmp);
	for (i = 0; i < s->n; i++)
		sum += s->v[i];
	printf("%s n=%zu p50=%.1f p90=%.1f p99=%.1f max=%.1f mean=%.1f\n",
	    name, s->n, pct(s->v, s->n, 50), pct(s->v, s->n, 90),
	    pct(s->v, s->n, 99), s->n > 0 ? s->v[s->n - 1] : 0,
	    s->n > 0 ? sum / (double)s->n : 0);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* --- commands ------------------------------------------------------------ */

/* Run argv; its stdout into out (NUL-terminated, may be NULL), stderr
 * kept. Returns the exit status, or -1. */
static int
run_capture(char *const argv[], char *out, size_t outsz)
{
	int	p[2], st;
	pid_t	pid;
	size_t	len = 0;
	ssize_t	n;

	if (out != NULL && pipe2(p, O_CLOEXEC) == -1)
		die("pipe: %s", strerror(errno));
	if ((pid = fork()) == -1)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		if (out != NULL)
			dup2(p[1], 1);
		else if (devnull != -1)
			dup2(devnull, 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (out != NULL) {
		close(p[1]);
		while ((n = read(p[0], out + len, outsz - 1 - len)) > 0 ||
		    (n == -1 && errno == EINTR))
			if (n > 0 && (len += (size_t)n) == outsz - 1)
				break;
		out[len] = '\0';
		close(p[0]);
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* --- tailing the audit log ----------------------------------------------- */

struct tail {
	int	 fd;
	int	 ino;		/* inotify: IN_MODIFY of the log */
	char	*buf;
	size_t	 len;
	bool	 skipping;	/* inside an over-long line */
};

static void
tail_open(struct tail *t, const char *path, long wait_ms)
{
	long long	deadline = now_us() + wait_ms * 1000LL;

	memset(t, 0, sizeof(*t));
	while ((t->fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno != ENOENT || now_us() > deadline)
			die("%s: %s", path, strerror(errno));
		sleep_ms(20);
	}
	if (lseek(t->fd, 0, SEEK_END) == -1)
		die("%s: seek: %s", path, strerror(errno));
	if ((t->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1 ||
	    inotify_add_watch(t->ino, path, IN_MODIFY) == -1)
		die("inotify %s: %s", path, strerror(errno));
	if ((t->buf = malloc(TAIL_BUF)) == NULL)
		die("out of memory");
}

static void
tail_close(struct tail *t)
{
	close(t->fd);
	close(t->ino);
	free(t->buf);
}

static void
drain(int fd)
{
	char	b[4096];

	while (read(fd, b, sizeof(b)) > 0)
		;
}

typedef bool tail_match(const char *line, void *arg);

/*
 * Read what the log has now; return true with the first matching line
 * copied into out (NUL-terminated) and consumed. Lines read before it
 * are dropped.
 */
static bool
tail_scan(struct tail *t, tail_match *m, void *arg, char *out, size_t outsz)
{
	ssize_t	 n;
	char	*nl, *p;
	size_t	 used;

	drain(t->ino);
	for (;;) {
		while ((n = read(t->fd, t->buf + t->len, TAIL_BUF - 1 -
		    t->len)) > 0)
			t->len += (size_t)n;
		p = t->buf;
		while ((nl = memchr(p, '\n', t->len - (size_t)(p - t->buf))) !=
		    NULL) {
			*nl = '\0';
			if (!t->skipping && m(p, arg)) {
				snprintf(out, outsz, "%s", p);
				p = nl + 1;
				used = (size_t)(p - t->buf);
				memmove(t->buf, p, t->len - used);
				t->len -= used;
				return true;
			}
			t->skipping = false;
			p = nl + 1;
		}
		used = (size_t)(p - t->buf);
		memmove(t->buf, p, t->len - used);
		t->len -= used;
		if (t->len < TAIL_BUF - 1)
			return false;
		t->len = 0;		/* a line longer than the buffer */
		t->skipping = true;
	}
}

/* A string field of a one-line JSON record, or "" (no unescaping). */
static void
json_field(const char *line, const char *key, char *out, size_t outsz)
{
	char		 pat[64];
	const char	*p, *e;

	out[0] = '\0';
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	if ((p = strstr(line, pat)) == NULL)
		return;
	p += strlen(pat);
	if (*p == '"') {
		p++;
		if ((e = strchr(p, '"')) == NULL)
			return;
	} else
		for (e = p; *e != '\0' && *e != ',' && *e != '}'; e++)
			;
	snprintf(out, outsz, "%.*s", (int)(e - p), p);
}

/* --- spec edits ---------------------------------------------------------- */

struct spec_file {
	char	 path[PATH_MAX];
	char	 tmp[PATH_MAX];
	char	 name[NAME_MAX + 1];
	char	 room[160];
	char	*text;
	size_t	 len;
	size_t	 mark_end;	/* just after the marker */
	size_t	 eol;		/* end of the marker's line */
};

static void
spec_load(struct spec_file *f, const char *dir, const char *rel,
    const char *marker)
{
	char		*p, *q;
	const char	*base;
	ssize_t		 n;
	int		 fd;

	memset(f, 0, sizeof(*f));
	snprintf(f->path, sizeof(f->path), "%s/%s", dir, rel);
	base = strrchr(f->path, '/') != NULL ? strrchr(f->path, '/') + 1 :
	    f->path;
	if (strlen(base) >= sizeof(f->name))
		die("%s: name too long", f->path);
	memcpy(f->name, base, strlen(base) + 1);
	snprintf(f->tmp, sizeof(f->tmp), "%.*s.%s.bench~",
	    (int)(base - f->path), f->path, f->name);
	if ((fd = open(f->path, O_RDONLY | O_CLOEXEC)) == -1)
		die("%s: %s", f->path, strerror(errno));
	if ((f->text = malloc(SPEC_MAX + 1)) == NULL)
		die("out of memory");
	while ((n = read(fd, f->text + f->len, SPEC_MAX - f->len)) > 0)
		f->len += (size_t)n;
	close(fd);
	f->text[f->len] = '\0';
	if ((p = strstr(f->text, marker)) == NULL)
		die("%s: no '%s' to edit", f->path, marker);
	f->mark_end = (size_t)(p - f->text) + strlen(marker);
	q = strchr(p, '\n');
	f->eol = q != NULL ? (size_t)(q - f->text) : f->len;
	if ((p = strstr(f->text, "roomId:")) == NULL)
		die("%s: no roomId", f->path);
	p += strlen("roomId:");
	while (*p == ' ' || *p == '"' || *p == '\'')
		p++;
	for (q = p; *q != '\0' && *q != '\n' && *q != '"' && *q != '\'' &&
	    *q != ' '; q++)
		;
	snprintf(f->room, sizeof(f->room), "%.*s", (int)(q - p), p);
}

/* Write the spec with the marker's line ending in tag; atomically when
 * atomic (temp file, then rename). Returns the time of the visible save. */
static long long
spec_save(struct spec_file *f, const char *tag, bool atomic)
{
	const char	*dst = atomic ? f->tmp : f->path;
	FILE		*out;
	long long	 t;

	if ((out = fopen(dst, "we")) == NULL)
		die("%s: %s", dst, strerror(errno));
	if (fwrite(f->text, 1, f->mark_end, out) != f->mark_end ||
	    fprintf(out, " %s", tag) < 0 ||
	    fwrite(f->text + f->eol, 1, f->len - f->eol, out) !=
	    f->len - f->eol)
		die("%s: write failed", dst);
	if (!atomic) {
		t = now_us();
		if (fclose(out) != 0)
			die("%s: %s", dst, strerror(errno));
		return t;
	}
	if (fclose(out) != 0)
		die("%s: %s", dst, strerror(errno));
	t = now_us();
	if (rename(f->tmp, f->path) == -1)
		die("rename %s: %s", f->path, strerror(errno));
	return t;
}

struct room_match {
	const char	*room;
	const char	*rev;		/* or NULL */
};

static bool
match_room(const char *line, void *arg)
{
	struct room_match	*m = arg;
	char			 v[256];

	json_field(line, "room", v, sizeof(v));
	if (strcmp(v, m->room) != 0)
		return false;
	if (m->rev == NULL)
		return true;
	json_field(line, "rev", v, sizeof(v));
	return strcmp(v, m->rev) == 0;
}

/* --- save ---------------------------------------------------------------- */

struct inw {
	pid_t	pid;
	int	out;		/* its stdout, non-blocking */
	char	buf[8192];
	size_t	len;
};

static void
inw_start(struct inw *w, const char *dir)
{
	int		 o[2], e[2];
	char		 line[512] = "";
	size_t		 len = 0;
	ssize_t		 n;
	long long	 deadline = now_us() + 10000000LL;
	struct pollfd	 pfd;

	memset(w, 0, sizeof(*w));
	if (pipe2(o, O_CLOEXEC) == -1 || pipe2(e, O_CLOEXEC) == -1)
		die("pipe: %s", strerror(errno));
	if ((w->pid = fork()) == -1)
		die("fork: %s", strerror(errno));
	if (w->pid == 0) {
		dup2(o[1], 1);
		dup2(e[1], 2);
		execlp("inotifywait", "inotifywait", "-m", "-e",
		    "moved_to,close_write", "--format", "%f", dir,
		    (char *)NULL);
		_exit(127);
	}
	close(o[1]);
	close(e[1]);
	w->out = o[0];
	fcntl(w->out, F_SETFL, O_NONBLOCK);
	/* "Watches established." on stderr: it sees events from now on */
	pfd.fd = e[0];
	pfd.events = POLLIN;
	while (strstr(line, "Watches established") == NULL || len == 0) {
		if (now_us() > deadline)
			die("inotifywait did not start");
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if ((n = read(e[0], line + len, sizeof(line) - 1 - len)) <= 0)
			die("inotifywait exited");
		len += (size_t)n;
		line[len] = '\0';
		if (len == sizeof(line) - 1)
			len = 0;
	}
	close(e[0]);
}

/* True when a line naming name arrived (earlier lines dropped). */
static bool
inw_seen(struct inw *w, const char *name)
{
	ssize_t	 n;
	char	*nl, *p;
	bool	 seen = false;

	while ((n = read(w->out, w->buf + w->len, sizeof(w->buf) - 1 -
	    w->len)) > 0)
		w->len += (size_t)n;
	p = w->buf;
	while ((nl = memchr(p, '\n', w->len - (size_t)(p - w->buf))) != NULL) {
		*nl = '\0';
		if (strcmp(p, name) == 0)
			seen = true;
		p = nl + 1;
		if (seen)
			break;
	}
	w->len -= (size_t)(p - w->buf);
	memmove(w->buf, p, w->len);
	if (w->len == sizeof(w->buf) - 1)
		w->len = 0;
	return seen;
}

static void
inw_stop(struct inw *w)
{
	if (w->pid <= 0)
		return;
	kill(w->pid, SIGTERM);
	waitpid(w->pid, NULL, 0);
	close(w->out);
}

static int
cmd_save(int argc, char **argv)
{
	struct spec_file	*files;
	struct series		 conv = { 0 }, inwait = { 0 };
	struct tail		 t;
	struct inw		 w;
	struct room_match	 m, none = { "", NULL };
	struct pollfd		 pfd[2];
	const char		*dir = NULL, *audit = NULL;
	const char		*marker = "Agent one";
	char			 line[65536], tag[64], outcome[64];
	long			 count = 10, gap = 30, timeout = 10000;
	long long		 t0, tc, ti, deadline;
	bool			 use_inw = true, atomic = true;
	size_t			 nfiles = 0, other = 0, timeouts = 0;
	int			 i, k;

	if ((files = calloc(FILES_MAX, sizeof(*files))) == NULL)
		die("out of memory");
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strcmp(argv[i], "--audit") == 0 && i + 1 < argc)
			audit = argv[++i];
		else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
			count = num(argv[++i], 1, 100000, "--count");
		else if (strcmp(argv[i], "--gap-ms") == 0 && i + 1 < argc)
			gap = num(argv[++i], 0, 60000, "--gap-ms");
		else if (strcmp(argv[i], "--timeout-ms") == 0 && i + 1 < argc)
			timeout = num(argv[++i], 1, 600000, "--timeout-ms");
		else if (strcmp(argv[i], "--marker") == 0 && i + 1 < argc)
			marker = argv[++i];
		else if (strcmp(argv[i], "--no-inotifywait") == 0)
			use_inw = false;
		else if (strcmp(argv[i], "--in-place") == 0)
			atomic = false;
		else if (argv[i][0] == '-')
			die("save: unknown option %s", argv[i]);
		else if (dir == NULL)
			die("save: --dir first");
		else if (nfiles == FILES_MAX)
			die("save: more than %d files", FILES_MAX);
		else
			spec_load(&files[nfiles++], dir, argv[i], marker);
	}
	if (dir == NULL || audit == NULL || nfiles == 0)
		die("usage: save --dir D --audit F [--count N] [--gap-ms G] "
		    "[--timeout-ms T] [--marker S] [--no-inotifywait] "
		    "[--in-place] FILE...");
	tail_open(&t, audit, 10000);
	if (use_inw)
		inw_start(&w, dir);
	for (k = 0; k < count; k++) {
		struct spec_file *f = &files[(size_t)k % nfiles];

		snprintf(tag, sizeof(tag), "s%d-%lld", k, (long long)getpid());
		/* drop earlier records (no room is "") */
		(void)tail_scan(&t, match_room, &none, line, sizeof(line));
		t0 = spec_save(f, tag, atomic);
		deadline = t0 + timeout * 1000LL;
		tc = ti = 0;
		if (!use_inw)
			ti = t0;
		m.room = f->room;
		m.rev = NULL;
		while ((tc == 0 || ti == 0) && now_us() < deadline) {
			if (ti == 0 && inw_seen(&w, f->name))
				ti = now_us();
			if (tc == 0 && tail_scan(&t, match_room, &m, line,
			    sizeof(line))) {
				tc = now_us();
				json_field(line, "outcome", outcome,
				    sizeof(outcome));
				if (strcmp(outcome, "applied") != 0) {
					other++;
					fprintf(stderr, "save %d: %s: outcome "
					    "%s\n", k, f->room, outcome);
				}
			}
			if (tc != 0 && ti != 0)
				break;
			pfd[0].fd = t.ino;
			pfd[0].events = POLLIN;
			pfd[1].fd = use_inw ? w.out : -1;
			pfd[1].events = POLLIN;
			(void)poll(pfd, 2, WAIT_TICK_MS);
		}
		if (tc == 0 || ti == 0) {
			timeouts++;
			fprintf(stderr, "save %d: %s: no %s within %ld ms\n", k,
			    f->room, tc == 0 ? "audit record" : "inotifywait "
			    "line", timeout);
		}
		if (tc != 0)
			series_add(&conv, (double)(tc - t0) / 1000.0);
		if (use_inw && ti != 0)
			series_add(&inwait, (double)(ti - t0) / 1000.0);
		sleep_ms(gap);
	}
	if (use_inw)
		inw_stop(&w);
	series_print("save.converged_ms", &conv);
	if (use_inw)
		series_print("save.inotifywait_ms", &inwait);
	printf("save.other_outcomes %zu\nsave.timeouts %zu\n", other, timeouts);
	tail_close(&t);
	for (i = 0; i < (int)nfiles; i++)
		free(files[i].text);
	free(files);
	return timeouts > 0 ? 1 : 0;
}

/* --- push ---------------------------------------------------------------- */

/* POST an empty JSON push payload with a bearer token; the status. */
static int
http_post(const char *url, const char *token, const char *body)
{
	struct sockaddr_in	 sa;
	char			 host[64], req[2048], resp[512];
	const char		*p, *path;
	int			 fd, status = -1, port, one = 1;
	size_t			 len = 0, off = 0;
	ssize_t			 n;

	if (strncmp(url, "http://", 7) != 0)
		die("%s: only http:// URLs", url);
	p = url + 7;
	if ((path = strchr(p, '/')) == NULL)
		path = "/";
	snprintf(host, sizeof(host), "%.*s", (int)(path - p), p);
	if ((p = strchr(host, ':')) == NULL)
		die("%s: no port", url);
	port = (int)num(p + 1, 1, 65535, "port");
	host[p - host] = '\0';
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		die("%s: not an IPv4 address", host);
	len = (size_t)snprintf(req, sizeof(req), "POST %s HTTP/1.1\r\n"
	    "Host: %s:%d\r\nAuthorization: Bearer %s\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n%s", path, host, port, token,
	    strlen(body), body);
	if (len >= sizeof(req))
		die("request too long");
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		die("socket: %s", strerror(errno));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		goto done;
	while (off < len) {
		if ((n = write(fd, req + off, len - off)) <= 0)
			goto done;
		off += (size_t)n;
	}
	len = 0;
	while (len < sizeof(resp) - 1 &&
	    (n = read(fd, resp + len, sizeof(resp) - 1 - len)) > 0) {
		len += (size_t)n;
		resp[len] = '\0';
		if (strstr(resp, "\r\n") != NULL)
			break;
	}
	resp[len] = '\0';
	if (strncmp(resp, "HTTP/1.", 7) == 0 && len > 12)
		status = (int)strtol(resp + 9, NULL, 10);
done:
	close(fd);
	return status;
}

static void
read_secret(const char *path, char *out, size_t outsz)
{
	FILE	*f;
	size_t	 n;

	if ((f = fopen(path, "re")) == NULL)
		die("%s: %s", path, strerror(errno));
	n = fread(out, 1, outsz - 1, f);
	fclose(f);
	out[n] = '\0';
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r' ||
	    out[n - 1] == ' '))
		out[--n] = '\0';
}

static int
cmd_push(int argc, char **argv)
{
	struct spec_file	 f;
	struct series		 conv = { 0 }, recon = { 0 };
	struct tail		 t;
	struct room_match	 m, none = { "", NULL };
	char			*work = NULL;
	const char		*file = NULL, *audit = NULL;
	const char		*hook = NULL, *secret_file = NULL;
	const char		*marker = "Agent one";
	char			 line[65536], tag[64], sha[128], msg[96];
	char			 v[64];
	char			 secret[512];
	long			 count = 5, maxdelay = 0, timeout = 30000;
	long long		 t0, tc, deadline;
	size_t			 timeouts = 0, other = 0;
	int			 i, k, status;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--work") == 0 && i + 1 < argc)
			work = argv[++i];
		else if (strcmp(argv[i], "--file") == 0 && i + 1 < argc)
			file = argv[++i];
		else if (strcmp(argv[i], "--audit") == 0 && i + 1 < argc)
			audit = argv[++i];
		else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
			count = num(argv[++i], 1, 100000, "--count");
		else if (strcmp(argv[i], "--max-delay-ms") == 0 && i + 1 < argc)
			maxdelay = num(argv[++i], 0, 600000, "--max-delay-ms");
		else if (strcmp(argv[i], "--timeout-ms") == 0 && i + 1 < argc)
			timeout = num(argv[++i], 1, 600000, "--timeout-ms");
		else if (strcmp(argv[i], "--hook-url") == 0 && i + 1 < argc)
			hook = argv[++i];
		else if (strcmp(argv[i], "--secret-file") == 0 && i + 1 < argc)
			secret_file = argv[++i];
		else if (strcmp(argv[i], "--marker") == 0 && i + 1 < argc)
			marker = argv[++i];
		else
			die("push: unknown argument %s", argv[i]);
	}
	if (work == NULL || file == NULL || audit == NULL ||
	    (hook != NULL && secret_file == NULL))
		die("usage: push --work DIR --file REL --audit F [--count N] "
		    "[--max-delay-ms D] [--timeout-ms T] [--hook-url URL "
		    "--secret-file F] [--marker S]");
	if (hook != NULL)
		read_secret(secret_file, secret, sizeof(secret));
	spec_load(&f, work, file, marker);
	tail_open(&t, audit, 10000);
	srand((unsigned)now_us());
	for (k = 0; k < count; k++) {
		char *commit[] = { "git", "-C", work, "-c",
		    "user.name=bench", "-c", "user.email=bench@localhost",
		    "commit", "-q", "-a", "-m", msg, NULL };
		char *push[] = { "git", "-C", work, "push", "-q",
		    "origin", "HEAD", NULL };
		char *head[] = { "git", "-C", work, "rev-parse", "HEAD",
		    NULL };

		if (maxdelay > 0)
			sleep_ms(rand() % (maxdelay + 1));
		snprintf(tag, sizeof(tag), "p%d-%lld", k, (long long)getpid());
		snprintf(msg, sizeof(msg), "bench: %s", tag);
		(void)spec_save(&f, tag, true);
		if (run_capture(commit, NULL, 0) != 0 ||
		    run_capture(head, sha, sizeof(sha)) != 0)
			die("git commit in %s failed", work);
		sha[strcspn(sha, "\n")] = '\0';
		(void)tail_scan(&t, match_room, &none, line, sizeof(line));
		if (run_capture(push, NULL, 0) != 0)
			die("git push in %s failed", work);
		t0 = now_us();
		if (hook != NULL && (status = http_post(hook, secret,
		    "{\"ref\":\"refs/heads/main\"}")) != 202)
			die("webhook %s: status %d", hook, status);
		deadline = t0 + timeout * 1000LL;
		m.room = f.room;
		m.rev = sha;
		tc = 0;
		while (now_us() < deadline) {
			struct pollfd pfd = { t.ino, POLLIN, 0 };

			if (tail_scan(&t, match_room, &m, line, sizeof(line))) {
				tc = now_us();
				break;
			}
			(void)poll(&pfd, 1, WAIT_TICK_MS);
		}
		if (tc == 0) {
			timeouts++;
			fprintf(stderr, "push %d: %.12s: no record within "
			    "%ld ms\n", k, sha, timeout);
			continue;
		}
		series_add(&conv, (double)(tc - t0) / 1000.0);
		json_field(line, "durationMs", v, sizeof(v));
		series_add(&recon, strtod(v, NULL));
		json_field(line, "outcome", v, sizeof(v));
		if (strcmp(v, "applied") != 0) {
			other++;
			fprintf(stderr, "push %d: outcome %s\n", k, v);
		}
	}
	series_print("push.converged_ms", &conv);
	series_print("push.reconcile_ms", &recon);
	printf("push.other_outcomes %zu\npush.timeouts %zu\n", other, timeouts);
	tail_close(&t);
	free(f.text);
	return timeouts > 0 ? 1 : 0;
}

/* --- relay --------------------------------------------------------------- */

static volatile sig_atomic_t	want_quit;

static void
on_quit(int sig)
{
	(void)sig;
	want_quit = 1;
}

struct conn {
	int	cfd, sfd;	/* client socket, command's socket */
	pid_t	pid;
	bool	c_eof, s_eof;
};

struct relay_stats {
	unsigned long long	conns, c2s, s2c;
};

static void
stats_write(const char *path, const struct relay_stats *st)
{
	char	tmp[PATH_MAX];
	FILE	*f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "we")) == NULL)
		return;
	fprintf(f, "conns %llu\nc2s %llu\ns2c %llu\n", st->conns, st->c2s,
	    st->s2c);
	if (fclose(f) == 0)
		(void)rename(tmp, path);
}

/* Copy what is readable from `from` to `to`; false at EOF or error. */
static bool
pump(int from, int to, unsigned long long *count)
{
	char	buf[RELAY_CHUNK];
	ssize_t	n, w;
	size_t	off = 0;

	if ((n = read(from, buf, sizeof(buf))) <= 0)
		return n == -1 && (errno == EINTR || errno == EAGAIN);
	*count += (unsigned long long)n;
	while (off < (size_t)n) {
		if ((w = write(to, buf + off, (size_t)n - off)) == -1) {
			if (errno == EINTR)
				continue;
			return false;
		}
		off += (size_t)w;
	}
	return true;
}

static int
cmd_relay(int argc, char **argv)
{
	struct conn		 conns[RELAY_CONNS];
	struct relay_stats	 st = { 0, 0, 0 };
	struct pollfd		 pfd[1 + 2 * RELAY_CONNS];
	struct sockaddr_in	 sa;
	socklen_t		 salen = sizeof(sa);
	const char		*port_file = NULL, *stats = NULL;
	char			**cmd = NULL;
	int			 lfd, i, j, n, sv[2];
	size_t			 nc = 0;
	FILE			*f;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--port-file") == 0 && i + 1 < argc)
			port_file = argv[++i];
		else if (strcmp(argv[i], "--stats") == 0 && i + 1 < argc)
			stats = argv[++i];
		else if (strcmp(argv[i], "--") == 0 && i + 1 < argc) {
			cmd = &argv[i + 1];
			break;
		} else
			die("relay: unknown argument %s", argv[i]);
	}
	if (port_file == NULL || stats == NULL || cmd == NULL)
		die("usage: relay --port-file F --stats F -- CMD [ARG...]");
	signal(SIGTERM, on_quit);
	signal(SIGINT, on_quit);
	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(lfd, 16) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &salen) == -1)
		die("relay: listen: %s", strerror(errno));
	stats_write(stats, &st);
	if ((f = fopen(port_file, "we")) == NULL)
		die("%s: %s", port_file, strerror(errno));
	fprintf(f, "%u\n", (unsigned)ntohs(sa.sin_port));
	fclose(f);
	while (!want_quit) {
		pfd[0].fd = nc < RELAY_CONNS ? lfd : -1;
		pfd[0].events = POLLIN;
		for (j = 0; j < (int)nc; j++) {
			pfd[1 + 2 * j].fd = conns[j].c_eof ? -1 : conns[j].cfd;
			pfd[1 + 2 * j].events = POLLIN;
			pfd[2 + 2 * j].fd = conns[j].s_eof ? -1 : conns[j].sfd;
			pfd[2 + 2 * j].events = POLLIN;
		}
		if ((n = poll(pfd, 1 + 2 * nc, 1000)) <= 0)
			continue;
		for (j = 0; j < (int)nc; j++) {
			struct conn *c = &conns[j];

			if (!c->c_eof && pfd[1 + 2 * j].revents != 0 &&
			    !pump(c->cfd, c->sfd, &st.c2s)) {
				c->c_eof = true;
				shutdown(c->sfd, SHUT_WR);
			}
			if (!c->s_eof && pfd[2 + 2 * j].revents != 0 &&
			    !pump(c->sfd, c->cfd, &st.s2c)) {
				c->s_eof = true;
				shutdown(c->cfd, SHUT_WR);
			}
		}
		for (j = 0; j < (int)nc; j++) {
			if (!conns[j].c_eof || !conns[j].s_eof)
				continue;
			close(conns[j].cfd);
			close(conns[j].sfd);
			waitpid(conns[j].pid, NULL, 0);
			st.conns++;
			stats_write(stats, &st);
			conns[j--] = conns[--nc];
		}
		if (pfd[0].fd == -1 || !(pfd[0].revents & POLLIN))
			continue;
		if ((i = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
			continue;
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
		    sv) == -1) {
			close(i);
			continue;
		}
		conns[nc].cfd = i;
		conns[nc].sfd = sv[0];
		conns[nc].c_eof = conns[nc].s_eof = false;
		if ((conns[nc].pid = fork()) == 0) {
			dup2(sv[1], 0);
			dup2(sv[1], 1);
			signal(SIGPIPE, SIG_DFL);
			execvp(cmd[0], cmd);
			_exit(127);
		}
		close(sv[1]);
		if (conns[nc].pid == -1) {
			close(i);
			close(sv[0]);
			continue;
		}
		nc++;
	}
	for (j = 0; j < (int)nc; j++) {
		close(conns[j].cfd);
		close(conns[j].sfd);
		kill(conns[j].pid, SIGTERM);
		waitpid(conns[j].pid, NULL, 0);
	}
	stats_write(stats, &st);
	return 0;
}

/* --- run ----------------------------------------------------------------- */

static int
cmd_run(int argc, char **argv)
{
	struct series	 wall = { 0 }, cpu = { 0 };
	struct rusage	 ru;
	char		**cmd = NULL;
	const char	*log = NULL;
	long		 count = 5;
	long long	 t0;
	pid_t		 pid;
	int		 i, st, failed = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
			count = num(argv[++i], 1, 100000, "--count");
		else if (strcmp(argv[i], "--log") == 0 && i + 1 < argc)
			log = argv[++i];
		else if (strcmp(argv[i], "--") == 0 && i + 1 < argc) {
			cmd = &argv[i + 1];
			break;
		} else
			die("run: unknown argument %s", argv[i]);
	}
	if (cmd == NULL)
		die("usage: run [--count N] [--log FILE] -- CMD [ARG...]");
	for (i = 0; i < count; i++) {
		t0 = now_us();
		if ((pid = fork()) == -1)
			die("fork: %s", strerror(errno));
		if (pid == 0) {
			int devnull = open("/dev/null", O_RDWR), lfd;

			if (devnull != -1)
				dup2(devnull, 1);
			if (log != NULL && (lfd = open(log, O_WRONLY | O_CREAT |
			    O_APPEND | O_CLOEXEC, 0644)) != -1)
				dup2(lfd, 2);
			execvp(cmd[0], cmd);
			_exit(127);
		}
		while (wait4(pid, &st, 0, &ru) == -1)
			if (errno != EINTR)
				die("wait4: %s", strerror(errno));
		series_add(&wall, (double)(now_us() - t0) / 1000.0);
		series_add(&cpu, (double)(ru.ru_utime.tv_sec +
		    ru.ru_stime.tv_sec) * 1000.0 +
		    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) /
		    1000.0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "run: %s exited with %d\n", cmd[0],
			    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
			failed = 1;
		}
	}
	series_print("run.wall_ms", &wall);
	series_print("run.cpu_ms", &cpu);
	return failed;
}

/* --- idle ---------------------------------------------------------------- */

struct snap {
	unsigned long long	switches;	/* voluntary + involuntary */
	unsigned long long	cpu_ns;
	long			rss_kb, hwm_kb;
	int			threads;
};

static long
status_kb(const char *text, const char *key)
{
	const char	*p = strstr(text, key);

	return p != NULL ? strtol(p + strlen(key), NULL, 10) : -1;
}

static int
snap_take(pid_t pid, struct snap *s)
{
	char		 path[PATH_MAX], text[4096];
	struct dirent	*de;
	DIR		*d;
	FILE		*f;
	size_t		 n;
	unsigned long long ns;

	memset(s, 0, sizeof(*s));
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/status",
		    (int)pid, de->d_name);
		if ((f = fopen(path, "re")) == NULL)
			continue;
		n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
		text[n] = '\0';
		s->switches += (unsigned long long)
		    status_kb(text, "\nvoluntary_ctxt_switches:") +
		    (unsigned long long)status_kb(text,
		    "\nnonvoluntary_ctxt_switches:");
		snprintf(path, sizeof(path), "/proc/%d/task/%s/schedstat",
		    (int)pid, de->d_name);
		if ((f = fopen(path, "re")) != NULL) {
			if (fscanf(f, "%llu", &ns) == 1)
				s->cpu_ns += ns;
			fclose(f);
		}
		s->threads++;
	}
	closedir(d);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	s->rss_kb = status_kb(text, "\nVmRSS:");
	s->hwm_kb = status_kb(text, "\nVmHWM:");
	return 0;
}

static int
cmd_idle(int argc, char **argv)
{
	struct snap	a, b;
	pid_t		pid = 0;
	long		ms = 10000;
	int		i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--pid") == 0 && i + 1 < argc)
			pid = (pid_t)num(argv[++i], 1, INT_MAX, "--pid");
		else if (strcmp(argv[i], "--ms") == 0 && i + 1 < argc)
			ms = num(argv[++i], 0, 3600000, "--ms");
		else
			die("idle: unknown argument %s", argv[i]);
	}
	if (pid == 0)
		die("usage: idle --pid PID [--ms WINDOW]");
	if (snap_take(pid, &a) < 0)
		die("no process %d", (int)pid);
	sleep_ms(ms);
	if (snap_take(pid, &b) < 0)
		die("process %d went away", (int)pid);
	printf("idle.window_ms %ld\nidle.switches %llu\nidle.cpu_ms %.3f\n"
	    "idle.rss_kb %ld\nidle.hwm_kb %ld\nidle.threads %d\n", ms,
	    b.switches - a.switches, (double)(b.cpu_ns - a.cpu_ns) / 1e6,
	    b.rss_kb, b.hwm_kb, b.threads);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char	*name;
		int		(*fn)(int, char **);
	} cmds[] = {
		{ "save", cmd_save },
		{ "push", cmd_push },
		{ "relay", cmd_relay },
		{ "run", cmd_run },
		{ "idle", cmd_idle },
	};
	size_t	i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; argc > 1 && i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "usage: benchtool save|push|relay|run|idle ...\n");
	return 2;
}
