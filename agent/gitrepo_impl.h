/*
 * gitrepo_impl.h: the clone's state, shared by gitrepo.c (open, fetch,
 * push), gitclone.c (the clone's folder), gitcred.c (the libgit2
 * callbacks) and gitpush.c (local push). Internal to those files.
 *
 * Thread rules: a struct ro_gitrepo is used by one thread at a time (the
 * Git source's worker), as gitrepo.h says.
 */
#ifndef RO_GITREPO_IMPL_H
#define RO_GITREPO_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include <git2.h>

#include "roomops/err.h"
#include "gitrepo.h"

/* The fetch refspec of the notes (origin's notes into the tracking ref). */
#define RO_GITREPO_NOTES_REFSPEC \
	"+" RO_GITREPO_NOTES_REF ":" RO_GITREPO_NOTES_TRACKING

/* What the callbacks of one attempt saw. */
struct cbstate {
	struct ro_gitrepo *r;
	struct ro_err	 err;		/* set when a callback refused */
	int		 refused;	/* auth, certificate or host key */
	int		 timed_out;	/* deadline seen in a callback */
	unsigned	 userpass_calls;
	unsigned	 sshkey_calls;
	unsigned	 username_calls;
	char		 push_status[RO_ERR_MSG_MAX];	/* rejection text */
	size_t		 received_bytes;
	unsigned	 received_objects;
};

struct ro_gitrepo {
	git_repository		*repo;
	/*
	 * origin, looked up once per open: libgit2 1.5's lookup leaks a
	 * pcre2 match block per config entry (fixed in libgit2 1.6, PR
	 * 6382), so it must not run at every poll.
	 */
	git_remote		*remote;
	struct ro_gitrepo_opts	 opts;		/* strings point below */
	char			*url;
	char			*branch;
	char			*dir;
	char			*username;
	char			*password_file;
	char			*password_env;
	char			*ca_file;
	char			*ssh_key_file;
	char			*ssh_pubkey_file;
	char			*ssh_passphrase_file;
	char			*known_hosts_file;
	char			 url_redacted[RO_GITREPO_URL_MAX];
	char			*userinfo;	/* "user:pass" of the URL */
	char			*track_ref;	/* refs/remotes/origin/<b> */
	char			*fetch_branch;	/* +refs/heads/<b>:<track> */
	bool			 cloned;
	struct ro_gitrepo_stats	 stats;
	struct cbstate		 cb;
	char			 secret[RO_GITREPO_SECRET_MAX + 1];
};

/* gitrepo.c */
/* Set err from the last libgit2 error, naming what and the URL (secrets
 * scrubbed); returns code. */
int	ro_gitrepo_fail(struct ro_gitrepo *r, struct ro_err *err, int code,
	    const char *what);
/* Make libgit2's process-wide CA setting the one r wants. */
int	ro_gitrepo_ca_apply(struct ro_gitrepo *r, struct ro_err *err);
/* ssh://, git+ssh://, ssh+git:// or scp-like [user@]host:path? */
bool	ro_gitrepo_url_is_ssh(const char *url);

/* gitcred.c */
/* Set up the callbacks of one operation on r (payload: &r->cb). */
void	ro_gitcred_callbacks(struct ro_gitrepo *r, git_remote_callbacks *cbs);

#endif
