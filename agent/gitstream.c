/* gitstream.c: a libgit2 socket stream with connect and I/O timeouts. */
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>
#include <git2/sys/stream.h>

#include "roomops/clock.h"
#include "gitstream.h"

#include "../common/banned.h"

#define KEEPIDLE_S	30
#define KEEPINTVL_S	10
#define KEEPCNT		3

/* Layout shared with libgit2's git_socket_stream: see gitstream.h. */
struct ro_sock {
	git_stream	 parent;
	char		*host;
	char		*port;
	int		 s;
};

/*
 * The watchdog: sockets of threads with a deadline are listed here; a
 * background thread shuts down (shutdown(2), not close) those whose
 * deadline passed, which wakes whoever waits on them, libssh2 included.
 * Slots are added after connect and removed before close, under the
 * lock, so a reused descriptor is never touched.
 */
#define WATCH_MAX	64	/* sockets watched at once */
#define WATCH_TICK_MS	100

struct watch_slot {
	int		fd;	/* -1: free */
	uint64_t	deadline;
};

static pthread_mutex_t	 watch_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t	 watch_once = PTHREAD_ONCE_INIT;
static struct watch_slot watch[WATCH_MAX];
static int		 watch_running;

static atomic_uint connect_timeout = RO_GITSTREAM_CONNECT_TIMEOUT;
static atomic_uint io_timeout = RO_GITSTREAM_IO_TIMEOUT;
static _Thread_local uint64_t deadline_ms;
static _Thread_local int timed_out;

int
ro_gitstream_timed_out(void)
{
	return timed_out;
}

void
ro_gitstream_clear_timeout(void)
{
	timed_out = 0;
}

void
ro_gitstream_set_timeouts(unsigned connect_ms, unsigned io_ms)
{
	atomic_store(&connect_timeout, connect_ms != 0 ? connect_ms :
	    RO_GITSTREAM_CONNECT_TIMEOUT);
	atomic_store(&io_timeout, io_ms != 0 ? io_ms : RO_GITSTREAM_IO_TIMEOUT);
}

void
ro_gitstream_set_deadline(uint64_t mono_ms)
{
	deadline_ms = mono_ms;
}

uint64_t
ro_gitstream_deadline(void)
{
	return deadline_ms;
}

static void *
watchdog(void *arg)
{
	struct timespec	tick = { 0, WATCH_TICK_MS * 1000000L };
	uint64_t	now;
	size_t		i;

	(void)arg;
	for (;;) {
		nanosleep(&tick, NULL);
		now = (uint64_t)ro_now_ms();
		pthread_mutex_lock(&watch_lock);
		for (i = 0; i < WATCH_MAX; i++) {
			if (watch[i].fd < 0 || watch[i].deadline == 0 ||
			    now < watch[i].deadline)
				continue;
			(void)shutdown(watch[i].fd, SHUT_RDWR);
			watch[i].deadline = 0;	/* fired once */
		}
		pthread_mutex_unlock(&watch_lock);
	}
	return NULL;
}

static void
watch_start(void)
{
	pthread_attr_t	attr;
	pthread_t	tid;
	size_t		i;

	for (i = 0; i < WATCH_MAX; i++)
		watch[i].fd = -1;
	if (pthread_attr_init(&attr) != 0)
		return;
	(void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&tid, &attr, watchdog, NULL) == 0)
		watch_running = 1;
	pthread_attr_destroy(&attr);
}

/* Watch fd until watch_del when the calling thread has a deadline. */
static void
watch_add(int fd)
{
	size_t	i;

	if (deadline_ms == 0)
		return;
	pthread_once(&watch_once, watch_start);
	if (!watch_running)
		return;
	pthread_mutex_lock(&watch_lock);
	for (i = 0; i < WATCH_MAX; i++) {
		if (watch[i].fd < 0) {
			watch[i].fd = fd;
			watch[i].deadline = deadline_ms;
			break;
		}
	}
	pthread_mutex_unlock(&watch_lock);
}

static void
watch_del(int fd)
{
	size_t	i;

	if (!watch_running)
		return;
	pthread_mutex_lock(&watch_lock);
	for (i = 0; i < WATCH_MAX; i++)
		if (watch[i].fd == fd)
			watch[i].fd = -1;
	pthread_mutex_unlock(&watch_lock);
}

/* Wait budget in ms: the smaller of limit and the thread's deadline. */
static int
budget(unsigned limit)
{
	uint64_t	now, left;

	if (deadline_ms == 0)
		return (int)limit;
	now = (uint64_t)ro_now_ms();
	left = deadline_ms > now ? deadline_ms - now : 0;
	return (int)(left < limit ? left : limit);
}

static int
sock_wait(struct ro_sock *st, short events, unsigned limit, const char *what)
{
	struct pollfd	pfd;
	int		ms, n;

	for (;;) {
		ms = budget(limit);
		pfd.fd = st->s;
		pfd.events = events;
		pfd.revents = 0;
		n = ms > 0 ? poll(&pfd, 1, ms) : 0;
		if (n > 0)
			return 0;
		if (n == 0) {
			timed_out = 1;
			git_error_set(GIT_ERROR_NET,
			    "%s %s:%s timed out after %d ms", what, st->host,
			    st->port, ms > 0 ? ms : 0);
			return -1;
		}
		if (errno != EINTR) {
			git_error_set(GIT_ERROR_NET, "%s %s:%s: %s", what,
			    st->host, st->port, strerror(errno));
			return -1;
		}
	}
}

static void
sock_tune(int s)
{
	int		on = 1, idle = KEEPIDLE_S, intvl = KEEPINTVL_S;
	int		cnt = KEEPCNT;
	unsigned	uto = atomic_load(&io_timeout);

	/* Best effort: a failure here only loses an early warning. */
	(void)setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	(void)setsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	(void)setsockopt(s, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	(void)setsockopt(s, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	(void)setsockopt(s, IPPROTO_TCP, TCP_USER_TIMEOUT, &uto, sizeof(uto));
	(void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

static int
sock_connect_one(struct ro_sock *st, const struct addrinfo *ai)
{
	int		s, soerr = 0;
	socklen_t	len = sizeof(soerr);

	s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, ai->ai_protocol);
	if (s == -1)
		return -1;
	st->s = s;
	if (connect(s, ai->ai_addr, ai->ai_addrlen) == 0)
		return 0;
	if (errno != EINPROGRESS)
		goto fail;
	if (sock_wait(st, POLLOUT, atomic_load(&connect_timeout),
	    "connect to") < 0)
		goto fail_quiet;
	if (getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		goto fail;
	if (soerr != 0) {
		errno = soerr;
		goto fail;
	}
	return 0;
fail:
	git_error_set(GIT_ERROR_NET, "connect to %s:%s: %s", st->host,
	    st->port, strerror(errno));
fail_quiet:
	close(s);
	st->s = -1;
	return -1;
}

static int
sock_connect(git_stream *stream)
{
	struct ro_sock	*st = (struct ro_sock *)stream;
	struct addrinfo	 hints, *res = NULL, *ai;
	int		 rc, error = -1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(st->host, st->port, &hints, &res)) != 0) {
		git_error_set(GIT_ERROR_NET, "resolve %s: %s", st->host,
		    gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (sock_connect_one(st, ai) == 0) {
			error = 0;
			break;
		}
		if (budget(1) == 0)	/* deadline passed: stop trying */
			break;
	}
	freeaddrinfo(res);
	if (error == 0) {
		sock_tune(st->s);
		watch_add(st->s);
	}
	else if (git_error_last() == NULL)
		git_error_set(GIT_ERROR_NET, "connect to %s:%s failed",
		    st->host, st->port);
	return error;
}

static ssize_t
sock_read(git_stream *stream, void *data, size_t len)
{
	struct ro_sock	*st = (struct ro_sock *)stream;
	ssize_t		 n;

	for (;;) {
		n = recv(st->s, data, len, MSG_DONTWAIT);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			git_error_set(GIT_ERROR_NET, "read from %s:%s: %s",
			    st->host, st->port, strerror(errno));
			return -1;
		}
		if (sock_wait(st, POLLIN, atomic_load(&io_timeout),
		    "read from") < 0)
			return -1;
	}
}

static ssize_t
sock_write(git_stream *stream, const char *data, size_t len, int flags)
{
	struct ro_sock	*st = (struct ro_sock *)stream;
	size_t		 off = 0;
	ssize_t		 n;

	(void)flags;
	while (off < len) {
		n = send(st->s, data + off, len - off,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n >= 0) {
			off += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			git_error_set(GIT_ERROR_NET, "write to %s:%s: %s",
			    st->host, st->port, strerror(errno));
			return -1;
		}
		if (sock_wait(st, POLLOUT, atomic_load(&io_timeout),
		    "write to") < 0)
			return -1;
	}
	return (ssize_t)len;
}

static int
sock_close(git_stream *stream)
{
	struct ro_sock	*st = (struct ro_sock *)stream;
	int		 rc = 0;

	if (st->s != -1) {
		watch_del(st->s);
		rc = close(st->s);
	}
	st->s = -1;
	return rc == 0 ? 0 : -1;
}

static void
sock_free(git_stream *stream)
{
	struct ro_sock	*st = (struct ro_sock *)stream;

	if (st == NULL)
		return;
	if (st->s != -1) {
		watch_del(st->s);
		close(st->s);
	}
	free(st->host);
	free(st->port);
	free(st);
}

static int
sock_new(git_stream **out, const char *host, const char *port)
{
	struct ro_sock	*st;

	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->host = strdup(host)) == NULL ||
	    (st->port = strdup(port != NULL ? port : "")) == NULL) {
		if (st != NULL)
			free(st->host);
		free(st);
		git_error_set_oom();
		return -1;
	}
	st->s = -1;
	st->parent.version = GIT_STREAM_VERSION;
	st->parent.connect = sock_connect;
	st->parent.read = sock_read;
	st->parent.write = sock_write;
	st->parent.close = sock_close;
	st->parent.free = sock_free;
	*out = &st->parent;
	return 0;
}

static pthread_once_t	reg_once = PTHREAD_ONCE_INIT;
static int		reg_rc;
static char		reg_msg[RO_ERR_MSG_MAX];

static void
do_register(void)
{
	git_stream_registration	reg;
	const git_error		*e;

	memset(&reg, 0, sizeof(reg));
	reg.version = GIT_STREAM_VERSION;
	reg.init = sock_new;
	if ((reg_rc = git_stream_register(GIT_STREAM_STANDARD, &reg)) < 0) {
		e = git_error_last();
		snprintf(reg_msg, sizeof(reg_msg), "%s",
		    e != NULL ? e->message : "unknown error");
	}
}

int
ro_gitstream_register(struct ro_err *err)
{
	pthread_once(&reg_once, do_register);
	if (reg_rc < 0)
		return ro_err_set(err, RO_ERROR,
		    "cannot register the git socket stream: %s", reg_msg);
	return RO_OK;
}
