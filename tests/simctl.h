/*
 * simctl.h: start and stop roomserver-sim from tests (tests only).
 *
 * The binary is $RO_SIM (set by CTest), else $RO_BUILD_DIR/roomserver-sim.
 * It listens on 127.0.0.1:0; simctl reads the port it prints. The child
 * gets SIGKILL if the test process dies first (PR_SET_PDEATHSIG), so a
 * crashed test leaves no server behind. Every wait is bounded
 * (SIMCTL_WAIT_MS). Not thread-safe: one owner per struct simctl.
 */
#ifndef RO_SIMCTL_H
#define RO_SIMCTL_H

#include <stdbool.h>
#include <sys/types.h>

#define SIMCTL_WAIT_MS	10000	/* for the port line and for the exit */

struct simctl {
	pid_t	 pid;		/* 0 when not running */
	unsigned port;
	char	 url[64];	/* "http://127.0.0.1:PORT", no trailing slash */
	char	*data_dir;	/* kept across restarts; NULL: made at start */
	bool	 own_dir;	/* made by simctl: removed by simctl_cleanup */
};

#define SIMCTL_INIT	{ 0, 0, "", NULL, false }

/*
 * Start the sim with --listen 127.0.0.1:0 --data-dir s->data_dir (a new
 * temporary directory when NULL) and extra_args (NULL-terminated; may be
 * NULL). On success s->url is the base URL and s->pid the child.
 * @return 0, or -1 with the reason on stderr
 */
int	simctl_start(struct simctl *s, const char *const *extra_args);
/* SIGTERM and wait; SIGKILL after SIMCTL_WAIT_MS. Exit status, or -1. */
int	simctl_stop(struct simctl *s);
/* SIGKILL and reap: a crash between two requests. 0 or -1. */
int	simctl_kill9(struct simctl *s);
/* Stop if running, remove the data dir if simctl made it, reset s. */
void	simctl_cleanup(struct simctl *s);

#endif
