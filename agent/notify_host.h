/*
 * notify_host.h: what a commit status looks like on each Git host, as
 * pure functions (no I/O, no shared state; any thread):
 *
 *   github   POST {base}/repos/{owner}/{repo}/statuses/{sha}
 *            Authorization: Bearer TOKEN; {"state": pending|success|
 *            failure|error, "description", "context", "target_url"}
 *   gitlab   POST {base}/api/v4/projects/{id}/statuses/{sha}
 *            PRIVATE-TOKEN: TOKEN; {"state": pending|running|success|
 *            failed, "description", "name", "target_url"}
 *   gitea    POST {base}/api/v1/repos/{owner}/{repo}/statuses/{sha}
 *            Authorization: token TOKEN; {"state": pending|success|
 *            failure|error, "description", "context", "target_url"}
 *            (Forgejo is the same API)
 *   webhook  POST {url}; {"sha", "state", "description", "context",
 *            "target_url", "records": [audit records]};
 *            X-Roomops-Signature-256: "sha256=" + hex HMAC-SHA256(secret,
 *            body), as GitHub signs its hooks
 *
 * The summary of a commit (ro_notify_host_summary) turns its audit
 * records into one state and a description of at most
 * RO_NOTIFY_DESC_MAX bytes.
 */
#ifndef RO_NOTIFY_HOST_H
#define RO_NOTIFY_HOST_H

#include <stdbool.h>
#include <stddef.h>

#include "roomops/buf.h"
#include "roomops/err.h"
#include "roomops/strv.h"

#define RO_NOTIFY_DESC_MAX	140	/* bytes: GitHub's limit */
#define RO_NOTIFY_SHA_MAX	64	/* hex digits (SHA-256 repositories) */
#define RO_NOTIFY_CONTEXT_MAX	64	/* bytes */
#define RO_NOTIFY_BODY_MAX	(1u << 20)	/* bytes of a request body */

/* The order of RO_METRICS_NOTIFY_PROVIDERS (metrics.h). */
enum ro_notify_provider {
	RO_NOTIFY_GITHUB,
	RO_NOTIFY_GITLAB,
	RO_NOTIFY_GITEA,
	RO_NOTIFY_WEBHOOK,
	RO_NOTIFY_PROVIDER_MAX
};

enum ro_notify_state {
	RO_NOTIFY_PENDING,
	RO_NOTIFY_SUCCESS,
	RO_NOTIFY_FAILURE,
	RO_NOTIFY_ERROR
};

/* Where statuses of one provider go. Strings borrowed. */
struct ro_notify_target {
	enum ro_notify_provider	 provider;
	const char		*base;	/* API base, no trailing '/';
					   webhook: its URL */
	const char		*repo;	/* "owner/name"; GitLab: the
					   project id or its encoded path */
	const char		*token;	/* webhook: the HMAC secret */
	size_t			 token_len;
};

/* One status of one commit. Strings borrowed. */
struct ro_notify_status {
	const char		*sha;
	enum ro_notify_state	 state;
	const char		*description;
	const char		*context;
	const char		*target_url;	/* NULL or "" for none */
	const char		*records;	/* JSON array text; NULL: [] */
};

/* A request to send: owned; ro_notify_req_release(). */
struct ro_notify_req {
	char		*url;
	struct ro_strv	 headers;	/* "Name: value" (one holds the
					   token: never log them) */
	struct ro_buf	 body;
};

/* "github" ... "webhook"; -1 for anything else. */
int	ro_notify_host_provider(const char *name, size_t len);
const char *ro_notify_host_provider_name(enum ro_notify_provider p);
/* The provider's word for state ("failed" on GitLab). */
const char *ro_notify_host_state_name(enum ro_notify_provider p,
	    enum ro_notify_state s);

/*
 * Build the request for one status.
 * @return RO_OK, RO_EINVALID (no repo for a Git host, bad sha),
 *         RO_ENOMEM, RO_ETOOBIG
 */
int	ro_notify_host_request(const struct ro_notify_target *t,
	    const struct ro_notify_status *s, struct ro_notify_req *out,
	    struct ro_err *err);
void	ro_notify_req_release(struct ro_notify_req *r);

/*
 * From a remote URL (https://host/owner/name.git, ssh://git@host:22/o/n,
 * git@host:o/n.git, git://host/o/n), the host and the repository path for
 * p: "owner/name" (the last two segments) for GitHub and Gitea, the whole
 * path URL-encoded ("group%2Fsub%2Fname") for GitLab. A repo given as
 * OWNER/NAME (the --notify-repo value) is encoded the same way for GitLab;
 * a number is a GitLab project id and kept.
 * @return RO_OK or RO_EINVALID (a local path, no owner/name)
 */
int	ro_notify_host_repo(enum ro_notify_provider p, const char *remote,
	    struct ro_buf *host, struct ro_buf *repo, struct ro_err *err);
int	ro_notify_host_repo_arg(enum ro_notify_provider p, const char *arg,
	    struct ro_buf *repo, struct ro_err *err);
/* The default API base of p on host ("https://api.github.com" for
 * github.com, "https://HOST/api/v3" for GitHub Enterprise,
 * "https://HOST" for GitLab and Gitea). */
int	ro_notify_host_default_base(enum ro_notify_provider p, const char *host,
	    struct ro_buf *out);

/*
 * Sum up a commit's audit records: the last record per room of
 * lines[0..n) whose "shard" is shard (NULL: any) and "rev" is sha. Success
 * when every room is applied, converged or superseded (or there is none);
 * failure when any is rejected, failed, blocked, partial or rolled-back.
 * desc gets counts in a fixed order and the first failing room's first
 * error without its "file:line:col: " prefix:
 * "3 applied, 1 rejected: room-lab: spec.entities[2].kind: ...",
 * cut to RO_NOTIFY_DESC_MAX bytes on a UTF-8 boundary. first_room gets
 * the first failing room (else the first room, else ""). records, when
 * not NULL, gets the selected records as a JSON array.
 * @return RO_OK or RO_ENOMEM
 */
int	ro_notify_host_summary(const char *const *lines, size_t n,
	    const char *sha, const char *shard, enum ro_notify_state *state,
	    char desc[RO_NOTIFY_DESC_MAX + 1], struct ro_buf *first_room,
	    struct ro_buf *records);

/* Cut s to at most max bytes without splitting a UTF-8 sequence. */
void	ro_notify_host_cut(char *s, size_t max);

#endif
