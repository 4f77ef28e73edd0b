/*
 * plandiff.h: the rooms a pull request touches, for `roomops plan
 * --git-diff BASE..HEAD [PATH...]` (docs/ci.md): the spec files added,
 * changed or deleted between two revisions, and the specs whose seed
 * files changed, read from blobs (never from a work tree) with libgit2.
 *
 * - added or changed: the spec at HEAD, seeds resolved from HEAD's blobs
 *   (root: the PATH folder holding the spec, as the agent's --path);
 *   invalid: no spec, the diagnostics in errors;
 * - deleted: an empty "prune" spec for the room its BASE version
 *   declared (what a prune would remove), with a note saying whether the
 *   agent would prune it (--prune, or roomops/prune: "true" at BASE);
 * - a deleted spec whose room another spec of the diff declares (a
 *   rename or a move) is "moved": nothing is planned for it, as the agent
 *   does not prune a room that is still declared; two specs of the diff
 *   declaring one room: the later one (by path) is invalid;
 * - the Roomops-Confirm trailers of the commits BASE..HEAD (first
 *   parents) are collected: the plan shows their removals as confirmed;
 * - "BASE...HEAD" (three dots) diffs from the merge base, as git does.
 *
 * PATHs are folders from the repository root (default: the root). The
 * repository is the one around the current directory, or --repo: a local
 * path, or a URL cloned (bare, without credentials) into a temporary
 * folder that is removed afterwards.
 *
 * Thread rules: libgit2 is initialised and used on the caller's thread;
 * meant for the CLI.
 */
#ifndef RO_PLANDIFF_H
#define RO_PLANDIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "roomops/err.h"
#include "roomops/model.h"
#include "roomops/strv.h"

#define RO_PLANDIFF_MAX	10000u	/* rooms one diff may plan */

struct ro_plandiff_opts {
	const char		*repo;		/* NULL: around the cwd */
	const char		*base;		/* revision */
	const char		*head;		/* revision */
	bool			 merge_base;	/* BASE...HEAD */
	const char *const	*paths;		/* spec folders */
	size_t			 n_paths;	/* 0: the root */
	bool			 prune;		/* --prune given */
};

struct ro_plandiff_item {
	char		*path;		/* from the repository root */
	const char	*change;	/* "added", "changed", "deleted" */
	struct ro_spec	*spec;		/* to plan; NULL when invalid */
	char		*room_id;	/* NULL when unknown */
	struct ro_strv	 errors;	/* invalid: why */
	char		*note;		/* NULL or one line */
	bool		 moved;		/* deleted, but another spec of the
					   diff declares its room: nothing
					   to plan (spec is NULL) */
};

struct ro_plandiff {
	struct ro_plandiff_item	*v;
	size_t			 n, cap;
	char			 base[41];	/* resolved commit ids */
	char			 head[41];
	struct ro_strv		 confirms;	/* Roomops-Confirm trailers of
						   the commits base..head:
						   room ids or "all" */
};

#define RO_PLANDIFF_INIT	{ NULL, 0, 0, "", "", RO_STRV_INIT }

/*
 * @param[out] out  RO_PLANDIFF_INIT; filled on success, sorted by path;
 *                  release it in any case
 * @return RO_OK, RO_ENOTFOUND (no repository, unknown revision),
 *         RO_ETOOBIG, RO_ENOMEM, RO_ERROR
 */
int	ro_plandiff_load(struct ro_plandiff *out,
	    const struct ro_plandiff_opts *o, struct ro_err *err);
void	ro_plandiff_release(struct ro_plandiff *d);

#endif
