/*
 * gitpush.h: pushing to a local origin.
 *
 * libgit2's local transport moves the remote ref with a forced write
 * after checking the fast-forward against the refs it read at connect
 * time, so two writers pushing at once both "succeed" and the first one's
 * commits are lost. ro_gitpush_local() copies the objects, then moves the
 * ref by compare-and-swap against the value it checked
 * (git_reference_create_matching locks the ref as git does): a concurrent
 * writer makes it RO_ECONFLICT, never a silent overwrite.
 *
 * Thread rules: as struct ro_gitrepo (one thread at a time).
 */
#ifndef RO_GITPUSH_H
#define RO_GITPUSH_H

#include "roomops/err.h"

struct ro_gitrepo;

/* The path of a local origin (file:// without %-escapes, or a plain
 * path) inside url, else NULL. */
const char	*ro_gitpush_local_path(const char *url);
/*
 * Push refspec (src:dst, no '+') of r's clone to the repository at path.
 * @return RO_OK (also when up to date), RO_ECONFLICT (not a fast-forward,
 *         or the ref moved meanwhile), RO_ERROR
 */
int		 ro_gitpush_local(struct ro_gitrepo *r, const char *path,
		    const char *refspec, struct ro_err *err);

#endif
