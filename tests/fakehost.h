/*
 * fakehost.h: a fake Git host for tests (libmicrohttpd on 127.0.0.1): the
 * commit status APIs of GitHub, GitLab and Gitea/Forgejo and a webhook
 * receiver, checked the way the hosts check them, with every request
 * recorded.
 *
 *   POST /repos/{owner}/{repo}/statuses/{sha}          GitHub
 *        Authorization: Bearer TOKEN (else 401 "Bad credentials");
 *        state pending|success|failure|error, description <= 140 bytes
 *        (else 422 "Validation Failed"); 201
 *   POST /api/v4/projects/{id}/statuses/{sha}          GitLab
 *        PRIVATE-TOKEN: TOKEN (else 401 "401 Unauthorized"); {id} a number
 *        or a URL-encoded path ("acme%2Frooms": the raw path is kept);
 *        state pending|running|success|failed|canceled (else 400); 201
 *   POST /api/v1/repos/{owner}/{repo}/statuses/{sha}   Gitea
 *        Authorization: token TOKEN (or Bearer) (else 401); state
 *        pending|success|error|failure|warning (else 400); 201
 *   POST /hook                                          webhook
 *        X-Roomops-Signature-256: sha256=HMAC(secret, body) (else 401);
 *        200
 * {sha} must be 40 hex digits (else 422); a body that is not a JSON object
 * is 400; other paths 404, other methods 405.
 *
 * Faults: fh_fault() answers the next count requests with a status (and
 * a Retry-After header when retry_after_s >= 0); fh_down() stops
 * listening, fh_up() listens again on the same port.
 *
 * Thread rules: the server runs on its own thread; every fh_* function
 * may be called from the test's thread while it runs.
 */
#ifndef RO_FAKEHOST_H
#define RO_FAKEHOST_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

enum fh_kind { FH_GITHUB, FH_GITLAB, FH_GITEA, FH_WEBHOOK, FH_OTHER };

struct fh_req {
	enum fh_kind	 kind;
	char		*path;		/* raw, as sent */
	char		*sha;		/* from the path ("" for the hook) */
	char		*state;		/* the body's "state" (or "") */
	char		*description;
	char		*context;	/* "context", or GitLab's "name" */
	char		*target_url;
	char		*body;
	int		 status;	/* what the fake answered */
	long long	 at_ms;		/* CLOCK_MONOTONIC */
};

struct fakehost {
	void		*mhd;		/* struct MHD_Daemon * */
	unsigned	 port;
	char		 url[64];	/* "http://127.0.0.1:PORT" */
	char		*token;
	char		*secret;
	pthread_mutex_t	 mu;
	struct fh_req	*req;
	size_t		 n, cap;
	int		 fault_status;
	int		 fault_count;
	int		 fault_retry_after;	/* seconds, -1 none */
};

/* Listen on a free port. 0 or -1. */
int	fh_start(struct fakehost *h, const char *token, const char *secret);
void	fh_stop(struct fakehost *h);	/* and free the records */
void	fh_down(struct fakehost *h);
int	fh_up(struct fakehost *h);
void	fh_fault(struct fakehost *h, int status, int count, int retry_after_s);

/* Requests recorded so far of kind (FH_OTHER: all) for sha (NULL: any). */
size_t	fh_count(struct fakehost *h, enum fh_kind kind, const char *sha);
/* A copy of request i of kind for sha (NULL: any); false when none.
 * Free with fh_req_release(). */
bool	fh_get(struct fakehost *h, enum fh_kind kind, const char *sha,
	    size_t i, struct fh_req *out);
void	fh_req_release(struct fh_req *r);

#endif
