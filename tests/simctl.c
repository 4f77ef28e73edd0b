/* simctl.c: start and stop roomserver-sim from tests. */
#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "roomops/clock.h"
#include "simctl.h"
#include "testutil.h"

#define ARGS_MAX	32
#define LINE_MAX_	256	/* bytes of the "listening on" line */

static const char *
sim_path(void)
{
	static char	path[4096];
	const char	*v = getenv("RO_SIM");

	if (v != NULL && v[0] != '\0')
		return v;
	snprintf(path, sizeof(path), "%s/roomserver-sim",
	    tu_env("RO_BUILD_DIR", "."));
	return path;
}

/* Wait for pid to exit for up to ms; its status or -1 (still running). */
static int
wait_exit(pid_t pid, long ms)
{
	long	deadline = (long)ro_now_ms() + ms;
	int	st;
	pid_t	r;

	for (;;) {
		r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) :
			    128 + WTERMSIG(st);
		if (r == -1 && errno != EINTR)
			return -1;
		if ((long)ro_now_ms() >= deadline)
			return -2;
		usleep(5000);
	}
}

/* Read the "listening on ADDR:PORT" line within SIMCTL_WAIT_MS. */
static int
read_port(int fd, unsigned *port)
{
	char		 line[LINE_MAX_];
	size_t		 n = 0;
	long		 deadline = (long)ro_now_ms() + SIMCTL_WAIT_MS, left;
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	const char	*colon;
	ssize_t		 r;

	while (n < sizeof(line) - 1) {
		if ((left = deadline - (long)ro_now_ms()) <= 0) {
			fprintf(stderr, "simctl: no port after %d ms\n",
			    SIMCTL_WAIT_MS);
			return -1;
		}
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		r = read(fd, line + n, sizeof(line) - 1 - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "simctl: the sim exited before "
			    "listening\n");
			return -1;
		}
		n += (size_t)r;
		line[n] = '\0';
		if (strchr(line, '\n') != NULL)
			break;
	}
	if (strncmp(line, "listening on 127.0.0.1:", 23) != 0 ||
	    (colon = strrchr(line, ':')) == NULL ||
	    sscanf(colon + 1, "%u", port) != 1 || *port == 0 ||
	    *port > 65535) {
		fprintf(stderr, "simctl: unexpected first line: %s\n", line);
		return -1;
	}
	return 0;
}

int
simctl_start(struct simctl *s, const char *const *extra_args)
{
	const char	*argv[ARGS_MAX + 8];
	size_t		 n = 0, i;
	int		 fds[2];
	pid_t		 pid;

	if (s->pid != 0) {
		fprintf(stderr, "simctl: already running\n");
		return -1;
	}
	if (s->data_dir == NULL) {
		s->data_dir = tu_tmpdir();
		s->own_dir = true;
	}
	argv[n++] = sim_path();
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--data-dir";
	argv[n++] = s->data_dir;
	for (i = 0; extra_args != NULL && extra_args[i] != NULL; i++) {
		if (i == ARGS_MAX) {
			fprintf(stderr, "simctl: more than %d arguments\n",
			    ARGS_MAX);
			return -1;
		}
		argv[n++] = extra_args[i];
	}
	argv[n] = NULL;
	if (pipe2(fds, O_CLOEXEC) == -1) {
		perror("simctl: pipe2");
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		perror("simctl: fork");
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (dup2(fds[1], STDOUT_FILENO) == -1)
			_exit(127);
		execv(argv[0], (char *const *)(uintptr_t)argv);
		fprintf(stderr, "simctl: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	s->pid = pid;
	if (read_port(fds[0], &s->port) < 0) {
		close(fds[0]);
		simctl_kill9(s);
		return -1;
	}
	close(fds[0]);
	snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%u", s->port);
	return 0;
}

int
simctl_stop(struct simctl *s)
{
	int	st;

	if (s->pid == 0)
		return -1;
	kill(s->pid, SIGTERM);
	if ((st = wait_exit(s->pid, SIMCTL_WAIT_MS)) == -2) {
		fprintf(stderr, "simctl: no exit %d ms after SIGTERM; "
		    "SIGKILL\n", SIMCTL_WAIT_MS);
		kill(s->pid, SIGKILL);
		(void)wait_exit(s->pid, SIMCTL_WAIT_MS);
		st = -1;
	}
	s->pid = 0;
	return st;
}

int
simctl_kill9(struct simctl *s)
{
	int	st;

	if (s->pid == 0)
		return -1;
	kill(s->pid, SIGKILL);
	st = wait_exit(s->pid, SIMCTL_WAIT_MS);
	s->pid = 0;
	return st == 128 + SIGKILL ? 0 : -1;
}

void
simctl_cleanup(struct simctl *s)
{
	if (s->pid != 0)
		simctl_stop(s);
	if (s->own_dir)
		tu_rmrf(s->data_dir);
	free(s->own_dir ? s->data_dir : NULL);
	s->data_dir = NULL;
	s->own_dir = false;
	s->port = 0;
	s->url[0] = '\0';
}
