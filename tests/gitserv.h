/*
 * gitserv.h: Git servers for the tests, on 127.0.0.1 only, started and
 * stopped by the tests: a bare origin made with the git CLI and a work
 * clone to commit through; git daemon (git://); git http-backend behind
 * lighttpd with a CA and a server certificate made by openssl (https://,
 * basic auth optional); sshd on a free high port with generated host and
 * client keys and a known_hosts file (ssh://).
 *
 * Every wait is bounded. A server whose binary is missing is reported by
 * gs_*_start() returning GS_MISSING (the caller skips with the message
 * from gs_missing()); any other failure fails the test.
 */
#ifndef RO_GITSERV_H
#define RO_GITSERV_H

#include <sys/types.h>

#include <stdbool.h>

#define GS_MISSING	(-2)
#define GS_START_MS	10000	/* bound on a server becoming ready */

/* A bare origin repository and a work clone of it. */
struct gs_repo {
	char	*root;		/* private temp dir, removed by gs_repo_free */
	char	*origin;	/* root/srv/origin.git (bare) */
	char	*work;		/* root/work */
	char	*branch;
};

/*
 * Make root, a bare origin with branch checked out as its HEAD, and a
 * work clone with a fixed identity. No commit yet.
 */
void	gs_repo_init(struct gs_repo *r, const char *branch);
void	gs_repo_free(struct gs_repo *r);

/* Write path (mkdir -p) in the work clone and commit it (no push). */
void	gs_commit_file(struct gs_repo *r, const char *path,
	    const char *content, const char *msg);
/* git rm path and commit. */
void	gs_commit_rm(struct gs_repo *r, const char *path, const char *msg);
/* An empty commit with a message (for trailers). */
void	gs_commit_empty(struct gs_repo *r, const char *msg);
/* git push origin HEAD:<branch> (force when asked). */
void	gs_push(struct gs_repo *r, bool force);
/* git reset --hard <rev> in the work clone. */
void	gs_reset(struct gs_repo *r, const char *rev);
/* Hex id of rev in the work clone (static buffer, next call overwrites). */
const char *gs_rev(struct gs_repo *r, const char *rev);
/* Hex id of rev in the origin. */
const char *gs_origin_rev(struct gs_repo *r, const char *rev);

/*
 * Run a shell command built from fmt (output to root/gs.log or stderr);
 * returns its exit status (-1 when it could not run).
 */
int	gs_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Run a command and capture its stdout (first 64 KiB; malloc'd). */
char	*gs_sh_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A running server. */
struct gs_server {
	pid_t	 pid;		/* process group leader */
	int	 port;
	char	*dir;		/* its private files (under the repo root) */
	char	*url;		/* URL of the origin through this server */
	/* https */
	char	*ca_file;	/* CA that signed the server certificate */
	char	*wrong_ca_file;	/* another CA */
	char	*password_file;	/* basic auth password (when auth on) */
	char	*user;
	/* ssh */
	char	*key_file;	/* client private key */
	char	*known_hosts;	/* plain entry for [127.0.0.1]:port */
	char	*known_hosts_hashed;	/* the same, hashed (ssh-keygen -H) */
	char	*known_hosts_other;	/* another host key for that host */
	char	*missing;	/* name of the missing binary */
};

/* git daemon --export-all --enable=receive-pack for r's srv folder. */
int	gs_daemon_start(struct gs_server *s, struct gs_repo *r);
/* The same on a given port (0: a free one), e.g. to restart a server. */
int	gs_daemon_start_port(struct gs_server *s, struct gs_repo *r,
	    int port);
/* lighttpd + git http-backend over TLS; user NULL: no auth. */
int	gs_http_start(struct gs_server *s, struct gs_repo *r, const char *user,
	    const char *password);
/* sshd with a generated host key, client key and known_hosts. */
int	gs_sshd_start(struct gs_server *s, struct gs_repo *r);
/* Stop (SIGTERM, then SIGKILL after 3 s) and free. Safe to call twice. */
void	gs_server_stop(struct gs_server *s);
/*
 * Stop every server still running and remove every repo root not freed
 * (what a failed test leaves). Also run at exit. As a cmocka teardown:
 * cmocka_unit_test_teardown(test, gs_teardown).
 */
void	gs_stop_all(void);
int	gs_teardown(void **state);
const char *gs_missing(const struct gs_server *s);

/* A free TCP port on 127.0.0.1 (bound and released). */
int	gs_free_port(void);
/* Wait (bounded by ms) until 127.0.0.1:port accepts connections. */
int	gs_wait_port(int port, int ms);

#endif
