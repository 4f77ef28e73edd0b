/*
 * history.h: what changed in the spec repository, read from commits and
 * blobs (never from a working tree): the first-parent commits to process,
 * history rewrites, the files a commit changed under the spec folder,
 * blob reads (also as a ro_seed_reader), the spec files of a commit, and
 * the Roomops-Confirm trailers of a commit message.
 *
 * Any git_repository works (the agent passes ro_gitrepo_git()). Same
 * thread rules as libgit2: one repository, one thread at a time.
 *
 * Folder arguments ("--path"): relative to the repository root, without
 * leading or trailing '/'; NULL, "" and "." mean the root.
 */
#ifndef RO_HISTORY_H
#define RO_HISTORY_H

#include <stdbool.h>
#include <stddef.h>

#include <git2.h>

#include "roomops/buf.h"
#include "roomops/err.h"
#include "roomops/strv.h"

#define RO_HISTORY_MAX		100000u	/* commits one range may list */
#define RO_HISTORY_CHANGES_MAX	100000u	/* paths one commit may change */
#define RO_HISTORY_SPECS_MAX	100000u	/* spec files under a folder */
#define RO_HISTORY_PATH_MAX	4096u	/* bytes of a path in the repo */
#define RO_HISTORY_TRAILER	"Roomops-Confirm"
#define RO_HISTORY_CONFIRM_ALL	"all"
#define RO_HISTORY_CONFIRM_MAX	256u	/* trailers kept per commit */

/* First-parent commits, oldest first. */
struct ro_history {
	git_oid	*ids;
	size_t	 n;
	size_t	 total;		/* commits in the range (n plus dropped) */
	bool	 truncated;	/* total > max: the oldest were dropped */
};

#define RO_HISTORY_INIT	{ NULL, 0, 0, false }

void	ro_history_release(struct ro_history *h);

/*
 * The commits on the first-parent line of `to` that `from` cannot reach
 * (git rev-list --first-parent from..to): `from` excluded, `to`
 * included, oldest first. from == NULL lists the whole first-parent
 * line. At most max (0: RO_HISTORY_MAX) are kept: the newest ones, with
 * truncated set. When from equals to, or is a descendant of it, the list
 * is empty.
 * @param[out] out  filled on success (release it); left empty on error
 * @return RO_OK, RO_ENOTFOUND (an id is not a commit here), RO_ENOMEM,
 *         RO_ERROR
 */
int	ro_history_range(git_repository *repo, const git_oid *from,
	    const git_oid *to, size_t max, struct ro_history *out,
	    struct ro_err *err);

/*
 * Was the history rewritten: is old_head no longer an ancestor of (or
 * equal to) new_head? A commit unknown to the repository counts as
 * rewritten.
 * @return RO_OK or RO_ERROR
 */
int	ro_history_rewritten(git_repository *repo, const git_oid *old_head,
	    const git_oid *new_head, bool *rewritten, struct ro_err *err);

/* One path a commit changed. */
enum ro_history_status {
	RO_HISTORY_ADDED = 'A',
	RO_HISTORY_MODIFIED = 'M',
	RO_HISTORY_DELETED = 'D',
	RO_HISTORY_TYPECHANGE = 'T'	/* e.g. a file became a symlink */
};

struct ro_history_change {
	char			 *path;	/* from the repository root */
	enum ro_history_status	  status;
};

struct ro_history_changes {
	struct ro_history_change *v;
	size_t			  n;
	size_t			  cap;
};

#define RO_HISTORY_CHANGES_INIT	{ NULL, 0, 0 }

void	ro_history_changes_release(struct ro_history_changes *c);

/*
 * The files commit changed against its first parent (against the empty
 * tree for a root commit), restricted to folder, sorted by path. A tree
 * diff (git_diff_tree_to_tree with the folder as a literal pathspec,
 * renames not detected: a rename is a delete and an add); when the
 * folder's subtree is the same object in both commits, nothing is
 * compared at all. Cost follows the size of the folder, not of the
 * repository.
 * @return RO_OK, RO_ENOTFOUND (not a commit), RO_ETOOBIG (over
 *         RO_HISTORY_CHANGES_MAX paths), RO_ENOMEM, RO_ERROR
 */
int	ro_history_changes(git_repository *repo, const git_oid *commit,
	    const char *folder, struct ro_history_changes *out,
	    struct ro_err *err);

/*
 * Read the regular file at path (from the repository root) in commit
 * into out (appended), at most max bytes (0: RO_ARTIFACT_MAX).
 * Symlinks (120000), submodules (160000) and folders are refused, as are
 * absolute paths and "." or ".." parts.
 * @return RO_OK, RO_ENOTFOUND (no such path), RO_EINVALID (not a regular
 *         file, or a bad path), RO_ETOOBIG, RO_ENOMEM, RO_EIO
 */
int	ro_history_read(git_repository *repo, const git_oid *commit,
	    const char *path, size_t max, struct ro_buf *out,
	    struct ro_err *err);

/* Argument of ro_history_seed_reader: a commit and the seed root. */
struct ro_history_source {
	git_repository	*repo;
	git_oid		 commit;
	const char	*root;	/* folder relpaths are relative to */
};

/*
 * A ro_seed_reader (roomops/seed.h) over the blobs of one commit: arg is
 * a struct ro_history_source *; reads root/relpath with ro_history_read
 * and RO_ARTIFACT_MAX.
 */
int	ro_history_seed_reader(void *arg, const char *relpath,
	    struct ro_buf *out, struct ro_err *err);

/*
 * Every *.yaml and *.yml regular file under folder (recursive) in
 * commit, as paths from the repository root, in git's tree order. A
 * missing folder gives an empty list.
 * @return RO_OK, RO_ENOTFOUND (not a commit), RO_EINVALID (folder is a
 *         file), RO_ETOOBIG (over RO_HISTORY_SPECS_MAX), RO_ENOMEM,
 *         RO_ERROR
 */
int	ro_history_list_specs(git_repository *repo, const git_oid *commit,
	    const char *folder, struct ro_strv *out, struct ro_err *err);

/*
 * The values of the Roomops-Confirm trailers of a commit message
 * (git's trailer rules: the last paragraph, "Key: value" lines; the key
 * is matched case-insensitively), in order, without duplicates: room
 * ids, or "all". Values holding blanks or control characters, or longer
 * than 256 bytes, are ignored; at most RO_HISTORY_CONFIRM_MAX are kept.
 * @return RO_OK, RO_ENOMEM, RO_ERROR
 */
int	ro_history_parse_confirm(const char *message, struct ro_strv *out,
	    struct ro_err *err);

/* The same for a commit. RO_ENOTFOUND when it is not one. */
int	ro_history_confirms(git_repository *repo, const git_oid *commit,
	    struct ro_strv *out, struct ro_err *err);

#endif
