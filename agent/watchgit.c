/* watchgit.c: a watched work tree's git dir and common dir (libgit2). */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "watch.h"
#include "watchgit.h"

#include "../common/banned.h"

/* Open the repository whose work tree's top is root (no search up). */
static int
open_top(git_repository **repo, const char *root, struct ro_err *err)
{
	const git_error	*e;
	int		 rc;

	rc = git_repository_open_ext(repo, root, GIT_REPOSITORY_OPEN_NO_SEARCH,
	    NULL);
	if (rc == GIT_ENOTFOUND)
		return ro_err_set(err, RO_ENOTFOUND, "%s: not a Git work tree",
		    root);
	if (rc < 0) {
		e = git_error_last();
		return ro_err_set(err, RO_EINVALID, "%s: %s", root,
		    e != NULL ? e->message : "not a usable Git repository");
	}
	if (git_repository_is_bare(*repo)) {
		git_repository_free(*repo);
		*repo = NULL;
		return ro_err_set(err, RO_ENOTFOUND, "%s: a bare repository, "
		    "not a work tree", root);
	}
	return RO_OK;
}

static int
canonical(char **out, const char *path, struct ro_err *err)
{
	char	real[PATH_MAX];

	if (realpath(path, real) == NULL)
		return ro_err_errno(err, errno == ENOENT ? RO_ENOTFOUND :
		    RO_EIO, "%s", path);
	if ((*out = strdup(real)) == NULL)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	return RO_OK;
}

int
ro_watchgit_dirs(const char *root, char **gitdir, char **commondir,
    struct ro_err *err)
{
	git_repository	*repo = NULL;
	int		 error;

	*gitdir = *commondir = NULL;
	if (git_libgit2_init() < 0)
		return ro_err_set(err, RO_ERROR, "libgit2 init failed");
	if ((error = open_top(&repo, root, err)) < 0 ||
	    (error = canonical(gitdir, git_repository_path(repo), err)) < 0 ||
	    (error = canonical(commondir, git_repository_commondir(repo),
	    err)) < 0)
		goto done;
done:
	if (error < 0) {
		free(*gitdir);
		free(*commondir);
		*gitdir = *commondir = NULL;
	}
	git_repository_free(repo);
	git_libgit2_shutdown();
	return error;
}

bool
ro_watch_is_git_worktree(const char *root)
{
	git_repository	*repo = NULL;
	bool		 yes;

	if (git_libgit2_init() < 0)
		return false;
	yes = open_top(&repo, root, NULL) == RO_OK;
	git_repository_free(repo);
	git_libgit2_shutdown();
	return yes;
}
