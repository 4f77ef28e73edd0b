/*
 * watchgit.h: where the Git directories of a watched work tree live,
 * found by libgit2 (git_repository_open_ext on the root, no search
 * upwards): the git dir (HEAD; .git/worktrees/<name> for a linked work
 * tree) and the common dir (refs/heads, packed-refs). libgit2 reads the
 * ".git" file and "commondir" pointers and applies its owner check.
 *
 * Thread-safe (libgit2 is initialised and released around each call).
 */
#ifndef RO_WATCHGIT_H
#define RO_WATCHGIT_H

#include "roomops/err.h"

/*
 * The canonical git dir and common dir (malloc'd, no trailing '/') of the
 * work tree whose top folder is root. RO_ENOTFOUND (not the top of a work
 * tree, or a bare repository), RO_EINVALID (libgit2 refuses it: broken,
 * not owned by the current user), RO_EIO, RO_ENOMEM; *gitdir and
 * *commondir are NULL then.
 */
int	ro_watchgit_dirs(const char *root, char **gitdir, char **commondir,
	    struct ro_err *err);

#endif
