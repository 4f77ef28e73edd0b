/*
 * notes.h: the audit trail in Git notes, on refs/notes/roomops.
 *
 * The note of a commit holds one audit record (a JSON object) per line.
 * Lines are only ever added: ro_notes_append writes a new notes commit
 * whose note for that commit is the old note plus the new line. When two
 * writers diverge (two agents, or an agent and a person), their notes
 * histories are merged as the union of the lines of each note, sorted by
 * "ts" with duplicates removed (ro_lineset_union, git's cat_sort_uniq
 * rule), in a notes commit whose parents are both tips: no line is lost.
 *
 * Ref updates are compare-and-swap: a concurrent writer in the same
 * clone makes the update retry, never overwrite.
 *
 * Same thread rules as libgit2: one repository, one thread at a time.
 */
#ifndef RO_NOTES_H
#define RO_NOTES_H

#include <stdbool.h>
#include <stddef.h>

#include <git2.h>

#include "roomops/err.h"
#include "roomops/strv.h"

#include "gitrepo.h"

#define RO_NOTES_REF		RO_GITREPO_NOTES_REF
#define RO_NOTES_TRACKING	RO_GITREPO_NOTES_TRACKING
#define RO_NOTES_LINE_MAX	(256u << 10)	/* bytes of one record */
#define RO_NOTES_NOTE_MAX	(16u << 20)	/* bytes of one note */
#define RO_NOTES_COUNT_MAX	1000000u	/* notes merged at once */
#define RO_NOTES_CAS_ATTEMPTS	16		/* local ref races */
#define RO_NOTES_PUSH_ATTEMPTS	5		/* default of ro_notes_push */

/*
 * Append one line (no '\n' inside; one trailing '\n' is dropped) to the
 * note of commit on refs/notes/roomops: read the note, add the line,
 * write a new notes commit, move the ref if nobody else moved it
 * meanwhile (else start again, at most RO_NOTES_CAS_ATTEMPTS times).
 * The author is the repository's user.name/user.email, else
 * "roomops <roomops@localhost>".
 * @return RO_OK, RO_EINVALID (empty line, or a line break inside),
 *         RO_ETOOBIG (line or note over its limit), RO_ECONFLICT (the
 *         ref kept moving), RO_ENOMEM, RO_ERROR
 */
int	ro_notes_append(git_repository *repo, const git_oid *commit,
	    const char *line, struct ro_err *err);

/*
 * The same for nlines lines at once, in one notes commit (a commit's
 * records cost one notes commit, not one each). Every line is checked
 * before anything is written; nlines 0 writes nothing.
 * @return as ro_notes_append
 */
int	ro_notes_append_lines(git_repository *repo, const git_oid *commit,
	    const char *const *lines, size_t nlines, struct ro_err *err);

/*
 * The lines of the note of commit on ref (NULL: refs/notes/roomops),
 * appended to out; empty lines skipped. No note (or no ref) adds nothing.
 * @return RO_OK, RO_ETOOBIG (note over RO_NOTES_NOTE_MAX), RO_ENOMEM,
 *         RO_ERROR
 */
int	ro_notes_read(git_repository *repo, const char *ref,
	    const git_oid *commit, struct ro_strv *out, struct ro_err *err);

/* Called once per annotated commit; a non-zero return stops the walk. */
typedef int ro_notes_cb(const git_oid *commit, void *arg);

/*
 * Call cb for every commit that has a note on ref (NULL: ours). No ref:
 * no calls.
 * @return RO_OK, the callback's non-zero value (as given), RO_ERROR
 */
int	ro_notes_foreach(git_repository *repo, const char *ref,
	    ro_notes_cb *cb, void *arg, struct ro_err *err);

struct ro_notes_merge_result {
	bool	changed;	/* refs/notes/roomops moved */
	bool	fast_forward;	/* ... to theirs, without a merge commit */
	bool	merged;		/* a union merge commit was made */
	size_t	notes_unioned;	/* notes present on both sides, different */
};

/*
 * Bring the notes of `theirs` (NULL: refs/notes/origin/roomops, as the
 * last fetch left them) into refs/notes/roomops: nothing when theirs is
 * absent or already contained; a fast-forward when ours is absent or
 * contained in theirs; else a merge commit with parents (ours, theirs)
 * whose note for each commit is the union of both (ro_lineset_union).
 * res may be NULL.
 * @return RO_OK, RO_ETOOBIG (a note or the count over its limit),
 *         RO_ECONFLICT (our ref kept moving), RO_ENOMEM, RO_ERROR
 */
int	ro_notes_merge(git_repository *repo, const char *theirs,
	    struct ro_notes_merge_result *res, struct ro_err *err);

struct ro_notes_push_result {
	bool		pushed;		/* origin took our ref */
	bool		up_to_date;	/* origin had everything already */
	unsigned	attempts;	/* pushes tried */
	unsigned	merges;		/* merges after a rejected push */
};

/*
 * Push refs/notes/roomops to origin (never forced). When origin refuses
 * it because another writer moved its notes ref, fetch that ref, merge
 * it (ro_notes_merge) and push again, at most max_attempts pushes
 * (0: RO_NOTES_PUSH_ATTEMPTS), with a short randomised pause between
 * them. Nothing is pushed when origin already holds our notes (as of
 * the last fetch) or we have none. res may be NULL.
 * @return RO_OK; RO_ECONFLICT (still rejected after max_attempts: try
 *         again later, nothing is lost); the codes of ro_gitrepo_push,
 *         ro_gitrepo_fetch and ro_notes_merge
 */
int	ro_notes_push(struct ro_gitrepo *r, unsigned max_attempts,
	    struct ro_notes_push_result *res, struct ro_err *err);

#endif
