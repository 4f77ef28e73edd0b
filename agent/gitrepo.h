/*
 * gitrepo.h: the agent's persistent bare clone of the spec repository
 * (libgit2), and every network operation on it: the cheap remote head
 * check, fetch, push.
 *
 * Layout of the clone (a bare repository at opts->dir):
 *   remote "origin", url = opts->url, fetch refspecs
 *     +refs/heads/<branch>:refs/remotes/origin/<branch>
 *     +refs/notes/roomops:refs/notes/origin/roomops
 *   refs/remotes/origin/<branch>   the fetched branch head
 *   refs/notes/roomops             the agent's audit notes (notes.h)
 *   refs/notes/origin/roomops      the notes last fetched from origin
 * Nothing is ever checked out; specs are read from blobs (history.h).
 *
 * Transports: file:// URLs and plain paths, git://, http(s):// (basic
 * auth: user + password or token read from a file or an environment
 * variable at each connection; TLS verified against the system CAs or
 * opts->ca_file), ssh:// and scp-like user@host:path (private key file;
 * the server's host key must be in opts->known_hosts_file unless
 * opts->ssh_allow_unknown_host).
 *
 * Errors name the URL with any user:password@ part replaced by "***@";
 * credentials never appear in messages or logs.
 *
 * Threads: libgit2 is initialised once per process (ro_gitrepo_global_init,
 * also called by ro_gitrepo_open). One struct ro_gitrepo must be used by
 * one thread at a time (the agent's git worker); distinct repos may be
 * used by distinct threads. The CA file is a process-wide libgit2
 * setting: all repos of one process must use the same one.
 */
#ifndef RO_GITREPO_H
#define RO_GITREPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <git2.h>

#include "roomops/err.h"

#define RO_GITREPO_REMOTE		"origin"
#define RO_GITREPO_TRACK_PREFIX		"refs/remotes/origin/"
#define RO_GITREPO_NOTES_REF		"refs/notes/roomops"
#define RO_GITREPO_NOTES_TRACKING	"refs/notes/origin/roomops"
#define RO_GITREPO_DEFAULT_BRANCH	"main"
#define RO_GITREPO_SECRET_MAX		4096	/* bytes of a password/token */
#define RO_GITREPO_URL_MAX		2048	/* bytes */

struct ro_gitrepo_opts {
	const char	*url;		/* required: URL or local path */
	const char	*branch;	/* NULL: "main" */
	const char	*dir;		/* required: where the bare clone lives */

	/* http(s) and ssh user name; NULL: the URL's, else "git" */
	const char	*username;
	/* http(s) password or token: first line of a file, or an env var */
	const char	*password_file;
	const char	*password_env;
	const char	*ca_file;	/* PEM bundle instead of the system CAs */
	bool		 tls_insecure;	/* accept any TLS certificate (tests) */

	const char	*ssh_key_file;		/* private key */
	const char	*ssh_pubkey_file;	/* NULL: <key>.pub when present */
	const char	*ssh_passphrase_file;	/* NULL: unencrypted key */
	const char	*known_hosts_file;	/* NULL: $HOME/.ssh/known_hosts */
	bool		 ssh_allow_unknown_host; /* accept (and log) new hosts */

	unsigned	 connect_timeout_ms;	/* one TCP connect */
	unsigned	 io_timeout_ms;		/* one read or write */
	unsigned	 op_timeout_ms;		/* one operation, retries included */
	unsigned	 retries;		/* extra attempts when transient */
	unsigned	 retry_backoff_ms;	/* first pause, doubled each time */
	/* An existing clone of another URL: re-clone instead of failing. */
	bool		 replace_mismatch;
};

#define RO_GITREPO_OPTS_INIT {						\
	.connect_timeout_ms = 10000, .io_timeout_ms = 60000,		\
	.op_timeout_ms = 300000, .retries = 2, .retry_backoff_ms = 500 }

struct ro_gitrepo;

/* What the remote advertises, against the local tracking refs. */
struct ro_gitrepo_remote {
	bool	head_present;	/* the remote has refs/heads/<branch> */
	git_oid	head;
	bool	local_present;	/* refs/remotes/origin/<branch> exists */
	git_oid	local;
	bool	moved;		/* head_present and head != local (a branch
				 * deleted on the remote is not a move: the
				 * last fetched head stays) */
	bool	notes_present;	/* the remote has refs/notes/roomops */
	git_oid	notes;
	bool	notes_moved;	/* differs from refs/notes/origin/roomops */
};

/* Flags of ro_gitrepo_fetch(). */
#define RO_GITREPO_FETCH_BRANCH	0x1u
#define RO_GITREPO_FETCH_NOTES	0x2u

struct ro_gitrepo_fetch_result {
	bool	head_before_present, head_present;
	git_oid	head_before, head;	/* refs/remotes/origin/<branch> */
	bool	head_moved;
	bool	notes_moved;		/* refs/notes/origin/roomops moved */
	size_t	received_bytes;		/* git_indexer_progress */
	unsigned received_objects;
	uint64_t duration_ms;
};

/* Counters since ro_gitrepo_open (for /metrics and tests). */
struct ro_gitrepo_stats {
	uint64_t	remote_checks;	/* ro_gitrepo_remote_head calls done */
	uint64_t	fetches;	/* fetches done (clone included) */
	uint64_t	pushes;		/* pushes accepted */
	uint64_t	bytes_received;	/* over all fetches */
	uint64_t	retries;	/* attempts repeated after a failure */
};

/*
 * Initialise libgit2 and register the bounded socket stream. Idempotent
 * and thread-safe; libgit2 stays initialised until exit.
 * @return RO_OK or RO_ERROR
 */
int	ro_gitrepo_global_init(struct ro_err *err);

/*
 * Open the clone at opts->dir, or make it. An existing clone is reused
 * when it opens, is bare, its origin URL equals opts->url and its
 * tracking branch (if any) resolves to a readable commit; the fetch
 * refspecs are rewritten when the branch changed. A missing directory,
 * an empty one, or a broken repository (a folder holding HEAD or
 * objects/ that does not open or check out) is (re)cloned: into a
 * temporary sibling, then renamed into place, so a crash never leaves a
 * half clone at opts->dir. Cloning fetches the branch and the notes.
 * Strings of opts are copied.
 *
 * @param[out] out  new handle (ro_gitrepo_free()); untouched on error
 * @return RO_OK; RO_EINVALID (bad options; dir is a non-empty folder that
 *         is no git repository: never removed); RO_ECONFLICT (dir holds a
 *         clone of another URL and !opts->replace_mismatch); the codes of
 *         ro_gitrepo_fetch() when cloning; RO_EIO; RO_ENOMEM
 */
int	ro_gitrepo_open(struct ro_gitrepo **out,
	    const struct ro_gitrepo_opts *opts, struct ro_err *err);

/* NULL is a no-op. */
void	ro_gitrepo_free(struct ro_gitrepo *r);

/* The libgit2 repository (owned by r; valid until ro_gitrepo_free). */
git_repository *ro_gitrepo_git(struct ro_gitrepo *r);
/* The branch name, and the URL with credentials masked. */
const char *ro_gitrepo_branch(const struct ro_gitrepo *r);
const char *ro_gitrepo_url(const struct ro_gitrepo *r);
/* Did ro_gitrepo_open make a new clone (false: reused)? */
bool	ro_gitrepo_cloned(const struct ro_gitrepo *r);
void	ro_gitrepo_stats(const struct ro_gitrepo *r,
	    struct ro_gitrepo_stats *out);

/*
 * The local tracking head refs/remotes/origin/<branch>.
 * @return RO_OK, RO_ENOTFOUND (never fetched, or empty remote), RO_ERROR
 */
int	ro_gitrepo_head(struct ro_gitrepo *r, git_oid *out, struct ro_err *err);

/*
 * The cheap check: connect, read the advertised refs (git_remote_ls),
 * disconnect, and compare with the local tracking refs. Downloads no
 * objects and changes no ref; when out->moved (or out->notes_moved) is
 * false there is nothing to fetch.
 * @return RO_OK; RO_EIO (remote unreachable or failing, after retries);
 *         RO_ETIMEOUT; RO_ERROR (authentication, TLS certificate or SSH
 *         host key refused: retrying will not help)
 */
int	ro_gitrepo_remote_head(struct ro_gitrepo *r,
	    struct ro_gitrepo_remote *out, struct ro_err *err);

/*
 * Fetch the branch and/or the notes (flags RO_GITREPO_FETCH_*) into the
 * tracking refs (forced: a rewritten branch is taken as it is; history.h
 * tells rewrites). res (may be NULL) gets the heads before and after and
 * the bytes received. A ref missing on the remote is not an error.
 * @return as ro_gitrepo_remote_head
 */
int	ro_gitrepo_fetch(struct ro_gitrepo *r, unsigned flags,
	    struct ro_gitrepo_fetch_result *res, struct ro_err *err);

/*
 * Push one refspec ("src:dst", no '+': never forced) to origin, and on
 * success move the matching tracking ref. A local origin (file:// or a
 * path) is written directly: objects copied, then the ref moved by
 * compare-and-swap, as receive-pack does (libgit2's local transport
 * would force it, losing a concurrent writer's update).
 * @return RO_OK; RO_ECONFLICT (rejected: not a fast-forward, or the
 *         remote ref moved meanwhile: fetch, merge and push again);
 *         otherwise as ro_gitrepo_remote_head
 */
int	ro_gitrepo_push(struct ro_gitrepo *r, const char *refspec,
	    struct ro_err *err);

/*
 * Copy url into out with any "user[:password]@" of a URL replaced by
 * "***@". Always NUL-terminates (truncating).
 */
void	ro_gitrepo_redact_url(char *out, size_t outsz, const char *url);

/*
 * Host and port of an ssh URL ("ssh://[user@]host[:port]/path" or
 * "[user@]host:path"), as known_hosts looks them up.
 * @return RO_OK or RO_EINVALID (not an ssh URL)
 */
int	ro_gitrepo_ssh_hostport(const char *url, char *host, size_t hostsz,
	    int *port, struct ro_err *err);

#endif
