/*
 * gitclone.h: the folder of the persistent bare clone (gitrepo.c opens
 * it through these).
 *
 * Thread rules: as struct ro_gitrepo (one thread at a time); the folder
 * belongs to one agent (the state dir's lock).
 */
#ifndef RO_GITCLONE_H
#define RO_GITCLONE_H

#include <stdbool.h>

#include "roomops/err.h"

struct ro_gitrepo;

/* Remove leftovers <dir>.tmp-* and <dir>.old-* of interrupted runs. */
void	ro_gitclone_remove_leftovers(const char *dir);
/* mkdir -p the folder that holds dir (0700). RO_OK, RO_EINVALID, RO_EIO */
int	ro_gitclone_make_parent(const char *dir, struct ro_err *err);
/* Does dir exist, is it empty, does it look like a git dir? -1: error
 * (errno set). */
int	ro_gitclone_dir_state(const char *dir, bool *exists, bool *empty,
	    bool *gitlike);
/*
 * Open the existing clone in r->dir. RO_OK: usable (r->repo and
 * r->remote set); RO_ECONFLICT: a clone of another URL; RO_EIO: broken
 * (the reason in err).
 */
int	ro_gitclone_open_existing(struct ro_gitrepo *r, struct ro_err *err);
/* Clone into a temporary sibling of r->dir, then rename it into place. */
int	ro_gitclone_fresh(struct ro_gitrepo *r, struct ro_err *err);
/* Move a broken clone aside, then remove it. */
int	ro_gitclone_replace_dir(const char *dir, struct ro_err *err);

#endif
