/* notes.c: audit records as lines of Git notes on refs/notes/roomops. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>

#include "roomops/buf.h"
#include "roomops/lineset.h"
#include "roomops/log.h"

#include "notes.h"

#include "../common/banned.h"

#define SIG_NAME	"roomops"
#define SIG_EMAIL	"roomops@localhost"
#define MERGE_MSG	"Notes merged by roomops (union of lines)\n"

static int
git_err(struct ro_err *err, int code, const char *what)
{
	const git_error	*e = git_error_last();

	return ro_err_set(err, code, "%s: %s", what,
	    e != NULL && e->message != NULL ? e->message : "git error");
}

static int
signature(git_signature **sig, git_repository *repo, struct ro_err *err)
{
	if (git_signature_default(sig, repo) == 0)
		return RO_OK;
	if (git_signature_now(sig, SIG_NAME, SIG_EMAIL) == 0)
		return RO_OK;
	return git_err(err, RO_ERROR, "notes signature");
}

/* The tip of ref, or present = false. */
static int
tip_get(git_repository *repo, const char *ref, bool *present, git_oid *out,
    struct ro_err *err)
{
	int	rc;

	*present = false;
	rc = git_reference_name_to_id(out, repo, ref);
	if (rc == GIT_ENOTFOUND)
		return RO_OK;
	if (rc < 0)
		return git_err(err, RO_ERROR, ref);
	*present = true;
	return RO_OK;
}

/*
 * Move ref from old (absent when !had) to id, only if it still is old.
 * RO_ECONFLICT when it moved meanwhile.
 */
static int
tip_cas(git_repository *repo, const char *ref, bool had, const git_oid *old,
    const git_oid *id, const char *msg, struct ro_err *err)
{
	git_reference	*r = NULL;
	int		 rc;

	if (had)
		rc = git_reference_create_matching(&r, repo, ref, id, 1, old,
		    msg);
	else
		rc = git_reference_create(&r, repo, ref, id, 0, msg);
	git_reference_free(r);
	if (rc == GIT_EMODIFIED || rc == GIT_EEXISTS || rc == GIT_ELOCKED)
		return ro_err_set(err, RO_ECONFLICT, "%s moved meanwhile", ref);
	if (rc < 0)
		return git_err(err, RO_ERROR, ref);
	return RO_OK;
}

/* ---- append / read ---------------------------------------------------- */

/* Length of line without one trailing '\n'; refuses empty lines, line
 * breaks inside and lines over RO_NOTES_LINE_MAX. */
static int
line_check(const char *line, size_t *len, struct ro_err *err)
{
	size_t	n = line != NULL ? strlen(line) : 0;

	if (n > 0 && line[n - 1] == '\n')
		n--;
	if (n == 0 || memchr(line, '\n', n) != NULL || memchr(line, '\r', n) !=
	    NULL)
		return ro_err_set(err, RO_EINVALID,
		    "note line: empty or holding a line break");
	if (n > RO_NOTES_LINE_MAX)
		return ro_err_set(err, RO_ETOOBIG, "note line of %zu bytes "
		    "(limit %u)", n, RO_NOTES_LINE_MAX);
	*len = n;
	return RO_OK;
}

int
ro_notes_append_lines(git_repository *repo, const git_oid *commit,
    const char *const *lines, size_t nlines, struct ro_err *err)
{
	git_signature	*sig = NULL;
	git_commit	*parent = NULL;
	git_note	*note = NULL;
	struct ro_buf	 body = RO_BUF_INIT;
	const char	*old;
	git_oid		 tip, newc, blob;
	bool		 had;
	size_t		 i, n;
	unsigned	 attempt;
	int		 rc, error;

	ro_buf_init(&body, RO_NOTES_NOTE_MAX);
	if (nlines == 0)
		return RO_OK;
	for (i = 0; i < nlines; i++)
		if ((error = line_check(lines[i], &n, err)) < 0)
			return error;
	if ((error = signature(&sig, repo, err)) < 0)
		return error;
	for (attempt = 0; attempt < RO_NOTES_CAS_ATTEMPTS; attempt++) {
		git_commit_free(parent);
		parent = NULL;
		git_note_free(note);
		note = NULL;
		ro_buf_reset(&body);
		if ((error = tip_get(repo, RO_NOTES_REF, &had, &tip, err)) < 0)
			goto done;
		if (had && git_commit_lookup(&parent, repo, &tip) < 0) {
			error = git_err(err, RO_ERROR, RO_NOTES_REF);
			goto done;
		}
		if (parent != NULL) {
			rc = git_note_commit_read(&note, repo, parent, commit);
			if (rc < 0 && rc != GIT_ENOTFOUND) {
				error = git_err(err, RO_ERROR, "read note");
				goto done;
			}
		}
		old = note != NULL ? git_note_message(note) : NULL;
		if (old != NULL && old[0] != '\0') {
			if ((error = ro_buf_addstr(&body, old)) < 0 ||
			    (old[strlen(old) - 1] != '\n' &&
			    (error = ro_buf_addch(&body, '\n')) < 0))
				goto toobig;
		}
		for (i = 0; i < nlines; i++) {
			(void)line_check(lines[i], &n, NULL);
			if ((error = ro_buf_add(&body, lines[i], n)) < 0 ||
			    (error = ro_buf_addch(&body, '\n')) < 0)
				goto toobig;
		}
		if (git_note_commit_create(&newc, &blob, repo, parent, sig, sig,
		    commit, ro_buf_cstr(&body), 1) < 0) {
			error = git_err(err, RO_ERROR, "write note");
			goto done;
		}
		error = tip_cas(repo, RO_NOTES_REF, had, &tip, &newc,
		    "roomops: append note", err);
		if (error != RO_ECONFLICT)
			goto done;
	}
	goto done;
toobig:
	ro_err_set(err, error, "note over %u bytes", RO_NOTES_NOTE_MAX);
done:
	ro_buf_release(&body);
	git_note_free(note);
	git_commit_free(parent);
	git_signature_free(sig);
	return error;
}

int
ro_notes_append(git_repository *repo, const git_oid *commit,
    const char *line, struct ro_err *err)
{
	return ro_notes_append_lines(repo, commit, &line, 1, err);
}

/* Add the non-empty lines of s to out. */
static int
lines_add(struct ro_strv *out, const char *s, struct ro_err *err)
{
	const char	*nl;
	size_t		 n;
	char		*line;

	while (*s != '\0') {
		nl = strchr(s, '\n');
		n = nl != NULL ? (size_t)(nl - s) : strlen(s);
		if (n > 0) {
			if ((line = strndup(s, n)) == NULL ||
			    ro_strv_push_owned(out, line) < 0)
				return ro_err_set(err, RO_ENOMEM,
				    "out of memory");
		}
		s += n + (nl != NULL);
	}
	return RO_OK;
}

int
ro_notes_read(git_repository *repo, const char *ref, const git_oid *commit,
    struct ro_strv *out, struct ro_err *err)
{
	git_note	*note = NULL;
	const char	*msg;
	int		 rc, error;

	rc = git_note_read(&note, repo, ref != NULL ? ref : RO_NOTES_REF,
	    commit);
	if (rc == GIT_ENOTFOUND)
		return RO_OK;
	if (rc < 0)
		return git_err(err, RO_ERROR, "read note");
	msg = git_note_message(note);
	if (msg == NULL)
		error = RO_OK;
	else if (strlen(msg) > RO_NOTES_NOTE_MAX)
		error = ro_err_set(err, RO_ETOOBIG, "note over %u bytes",
		    RO_NOTES_NOTE_MAX);
	else
		error = lines_add(out, msg, err);
	git_note_free(note);
	return error;
}

struct foreach_ctx {
	ro_notes_cb	*cb;
	void		*arg;
	int		 rc;
};

static int
foreach_cb(const git_oid *blob, const git_oid *annotated, void *payload)
{
	struct foreach_ctx	*ctx = payload;

	(void)blob;
	ctx->rc = ctx->cb(annotated, ctx->arg);
	return ctx->rc != 0 ? GIT_EUSER : 0;
}

int
ro_notes_foreach(git_repository *repo, const char *ref, ro_notes_cb *cb,
    void *arg, struct ro_err *err)
{
	struct foreach_ctx	ctx = { cb, arg, 0 };
	int			rc;

	rc = git_note_foreach(repo, ref != NULL ? ref : RO_NOTES_REF,
	    foreach_cb, &ctx);
	if (rc == GIT_EUSER)
		return ctx.rc;
	if (rc == GIT_ENOTFOUND)
		return RO_OK;
	if (rc < 0)
		return git_err(err, RO_ERROR, "list notes");
	return RO_OK;
}

/* ---- merge ----------------------------------------------------------- */

struct entry {
	git_oid	annotated;
	git_oid	blob;
};

struct entries {
	struct entry	*v;
	size_t		 n;
	size_t		 cap;
};

static int
entries_load(struct entries *es, git_repository *repo, const git_oid *tip,
    struct ro_err *err)
{
	git_commit		*c = NULL;
	git_note_iterator	*it = NULL;
	struct entry		*v;
	git_oid			 blob, annotated;
	size_t			 cap;
	int			 rc, error = RO_OK;

	if (git_commit_lookup(&c, repo, tip) < 0) {
		error = git_err(err, RO_ERROR, "notes commit");
		goto done;
	}
	rc = git_note_commit_iterator_new(&it, c);
	if (rc == GIT_ENOTFOUND)
		goto done;
	if (rc < 0) {
		error = git_err(err, RO_ERROR, "notes iterator");
		goto done;
	}
	while ((rc = git_note_next(&blob, &annotated, it)) == 0) {
		if (es->n >= RO_NOTES_COUNT_MAX) {
			error = ro_err_set(err, RO_ETOOBIG,
			    "more than %u notes", RO_NOTES_COUNT_MAX);
			goto done;
		}
		if (es->n == es->cap) {
			cap = es->cap != 0 ? es->cap * 2 : 64;
			if ((v = realloc(es->v, cap * sizeof(*v))) == NULL) {
				error = ro_err_set(err, RO_ENOMEM,
				    "out of memory");
				goto done;
			}
			es->v = v;
			es->cap = cap;
		}
		git_oid_cpy(&es->v[es->n].annotated, &annotated);
		git_oid_cpy(&es->v[es->n].blob, &blob);
		es->n++;
	}
	if (rc != GIT_ITEROVER)
		error = git_err(err, RO_ERROR, "notes iterator");
done:
	git_note_iterator_free(it);
	git_commit_free(c);
	return error;
}

static int
entry_cmp(const void *a, const void *b)
{
	return git_oid_cmp(&((const struct entry *)a)->annotated,
	    &((const struct entry *)b)->annotated);
}

/* The union of two note blobs, written as a new blob. */
static int
blob_union(git_repository *repo, const git_oid *a, const git_oid *b,
    git_oid *out, struct ro_err *err)
{
	git_blob	*ba = NULL, *bb = NULL;
	struct ro_buf	 u = RO_BUF_INIT;
	size_t		 na, nb;
	int		 error;

	ro_buf_init(&u, RO_NOTES_NOTE_MAX);
	if (git_blob_lookup(&ba, repo, a) < 0 ||
	    git_blob_lookup(&bb, repo, b) < 0) {
		error = git_err(err, RO_ERROR, "note blob");
		goto done;
	}
	na = (size_t)git_blob_rawsize(ba);
	nb = (size_t)git_blob_rawsize(bb);
	if (na > RO_NOTES_NOTE_MAX || nb > RO_NOTES_NOTE_MAX) {
		error = ro_err_set(err, RO_ETOOBIG, "note over %u bytes",
		    RO_NOTES_NOTE_MAX);
		goto done;
	}
	if ((error = ro_lineset_union(git_blob_rawcontent(ba), na,
	    git_blob_rawcontent(bb), nb, &u, err)) < 0)
		goto done;
	if (git_blob_create_from_buffer(out, repo, u.ptr != NULL ? u.ptr : "",
	    u.len) < 0) {
		error = git_err(err, RO_ERROR, "write note blob");
		goto done;
	}
	error = RO_OK;
done:
	ro_buf_release(&u);
	git_blob_free(bb);
	git_blob_free(ba);
	return error;
}

static int
tb_put(git_treebuilder *tb, const git_oid *annotated, const git_oid *blob,
    struct ro_err *err)
{
	char	name[GIT_OID_HEXSZ + 1];

	git_oid_tostr(name, sizeof(name), annotated);
	if (git_treebuilder_insert(NULL, tb, name, blob, GIT_FILEMODE_BLOB) < 0)
		return git_err(err, RO_ERROR, "notes tree");
	return RO_OK;
}

/* Build the union tree of two notes commits; count notes unioned. */
static int
union_tree(git_repository *repo, const git_oid *ours, const git_oid *theirs,
    git_oid *tree_out, size_t *unioned, struct ro_err *err)
{
	struct entries	 a = { NULL, 0, 0 }, b = { NULL, 0, 0 };
	git_treebuilder	*tb = NULL;
	git_oid		 blob;
	size_t		 i = 0, j = 0;
	int		 c, error;

	*unioned = 0;
	if ((error = entries_load(&a, repo, ours, err)) < 0 ||
	    (error = entries_load(&b, repo, theirs, err)) < 0)
		goto done;
	if (a.n > 1)
		qsort(a.v, a.n, sizeof(*a.v), entry_cmp);
	if (b.n > 1)
		qsort(b.v, b.n, sizeof(*b.v), entry_cmp);
	if (git_treebuilder_new(&tb, repo, NULL) < 0) {
		error = git_err(err, RO_ERROR, "notes tree");
		goto done;
	}
	while (i < a.n || j < b.n) {
		c = i == a.n ? 1 : j == b.n ? -1 :
		    git_oid_cmp(&a.v[i].annotated, &b.v[j].annotated);
		if (c < 0) {
			error = tb_put(tb, &a.v[i].annotated, &a.v[i].blob,
			    err);
			i++;
		} else if (c > 0) {
			error = tb_put(tb, &b.v[j].annotated, &b.v[j].blob,
			    err);
			j++;
		} else {
			if (git_oid_equal(&a.v[i].blob, &b.v[j].blob))
				git_oid_cpy(&blob, &a.v[i].blob);
			else if ((error = blob_union(repo, &a.v[i].blob,
			    &b.v[j].blob, &blob, err)) < 0)
				goto done;
			else
				(*unioned)++;
			error = tb_put(tb, &a.v[i].annotated, &blob, err);
			i++;
			j++;
		}
		if (error < 0)
			goto done;
	}
	if (git_treebuilder_write(tree_out, tb) < 0) {
		error = git_err(err, RO_ERROR, "notes tree");
		goto done;
	}
	error = RO_OK;
done:
	git_treebuilder_free(tb);
	free(a.v);
	free(b.v);
	return error;
}

static int
merge_commit(git_repository *repo, const git_oid *ours, const git_oid *theirs,
    git_oid *out, size_t *unioned, struct ro_err *err)
{
	git_signature	*sig = NULL;
	git_commit	*pa = NULL, *pb = NULL;
	git_tree	*tree = NULL;
	git_oid		 tree_id;
	const git_commit *parents[2];
	int		 error;

	if ((error = union_tree(repo, ours, theirs, &tree_id, unioned,
	    err)) < 0 ||
	    (error = signature(&sig, repo, err)) < 0)
		goto done;
	if (git_tree_lookup(&tree, repo, &tree_id) < 0 ||
	    git_commit_lookup(&pa, repo, ours) < 0 ||
	    git_commit_lookup(&pb, repo, theirs) < 0) {
		error = git_err(err, RO_ERROR, "notes merge");
		goto done;
	}
	parents[0] = pa;
	parents[1] = pb;
	if (git_commit_create(out, repo, NULL, sig, sig, NULL, MERGE_MSG, tree,
	    2, parents) < 0) {
		error = git_err(err, RO_ERROR, "notes merge commit");
		goto done;
	}
	error = RO_OK;
done:
	git_tree_free(tree);
	git_commit_free(pb);
	git_commit_free(pa);
	git_signature_free(sig);
	return error;
}

int
ro_notes_merge(git_repository *repo, const char *theirs,
    struct ro_notes_merge_result *res, struct ro_err *err)
{
	struct ro_notes_merge_result	local;
	git_oid				ours_id, theirs_id, merged;
	bool				have_ours, have_theirs;
	unsigned			attempt;
	int				rc = 0, error = RO_OK;

	if (res == NULL)
		res = &local;
	memset(res, 0, sizeof(*res));
	if (theirs == NULL)
		theirs = RO_NOTES_TRACKING;
	for (attempt = 0; attempt < RO_NOTES_CAS_ATTEMPTS; attempt++) {
		memset(res, 0, sizeof(*res));
		if ((error = tip_get(repo, RO_NOTES_REF, &have_ours, &ours_id,
		    err)) < 0 ||
		    (error = tip_get(repo, theirs, &have_theirs, &theirs_id,
		    err)) < 0)
			return error;
		if (!have_theirs || (have_ours &&
		    git_oid_equal(&ours_id, &theirs_id)))
			return RO_OK;
		if (have_ours) {
			/* Theirs already in ours: nothing to do. */
			rc = git_graph_descendant_of(repo, &ours_id,
			    &theirs_id);
			if (rc < 0)
				return git_err(err, RO_ERROR, "notes ancestry");
			if (rc == 1)
				return RO_OK;
			rc = git_graph_descendant_of(repo, &theirs_id,
			    &ours_id);
			if (rc < 0)
				return git_err(err, RO_ERROR, "notes ancestry");
		}
		if (!have_ours || rc == 1) {
			res->fast_forward = true;
			git_oid_cpy(&merged, &theirs_id);
		} else {
			if ((error = merge_commit(repo, &ours_id, &theirs_id,
			    &merged, &res->notes_unioned, err)) < 0)
				return error;
			res->merged = true;
		}
		error = tip_cas(repo, RO_NOTES_REF, have_ours, &ours_id,
		    &merged, res->merged ? "roomops: merge notes" :
		    "roomops: fast-forward notes", err);
		if (error == RO_OK) {
			res->changed = true;
			return RO_OK;
		}
		if (error != RO_ECONFLICT)
			return error;
	}
	return error;
}

/* ---- push ------------------------------------------------------------ */

static void
pause_jittered(unsigned attempt)
{
	struct timespec	ts, now;
	uint64_t	seed;
	unsigned	ms;

	/* 50..250 ms times the attempt number, so writers drift apart. */
	clock_gettime(CLOCK_REALTIME, &now);
	seed = (uint64_t)now.tv_nsec ^ ((uint64_t)getpid() * 2654435761u) ^
	    (uint64_t)(uintptr_t)&now;
	seed ^= seed >> 17;
	ms = (50u + (unsigned)(seed % 200u)) * (attempt + 1u);
	ts.tv_sec = ms / 1000u;
	ts.tv_nsec = (long)(ms % 1000u) * 1000000L;
	nanosleep(&ts, NULL);
}

int
ro_notes_push(struct ro_gitrepo *r, unsigned max_attempts,
    struct ro_notes_push_result *res, struct ro_err *err)
{
	struct ro_notes_push_result	 local;
	struct ro_notes_merge_result	 mr;
	git_repository			*repo = ro_gitrepo_git(r);
	git_oid				 ours, tracked;
	bool				 have_ours, have_tracked;
	int				 error;

	if (res == NULL)
		res = &local;
	memset(res, 0, sizeof(*res));
	if (max_attempts == 0)
		max_attempts = RO_NOTES_PUSH_ATTEMPTS;
	while (res->attempts < max_attempts) {
		if ((error = tip_get(repo, RO_NOTES_REF, &have_ours, &ours,
		    err)) < 0 ||
		    (error = tip_get(repo, RO_NOTES_TRACKING, &have_tracked,
		    &tracked, err)) < 0)
			return error;
		if (!have_ours || (have_tracked &&
		    git_oid_equal(&ours, &tracked))) {
			res->up_to_date = !res->pushed;
			return RO_OK;
		}
		res->attempts++;
		error = ro_gitrepo_push(r, RO_NOTES_REF ":" RO_NOTES_REF, err);
		if (error == RO_OK) {
			res->pushed = true;
			return RO_OK;
		}
		if (error != RO_ECONFLICT)
			return error;
		log_debug("%s; merging the remote notes", err != NULL ?
		    err->msg : "notes push rejected");
		if ((error = ro_gitrepo_fetch(r, RO_GITREPO_FETCH_NOTES, NULL,
		    err)) < 0 ||
		    (error = ro_notes_merge(repo, RO_NOTES_TRACKING, &mr,
		    err)) < 0)
			return error;
		if (mr.merged)
			res->merges++;
		if (res->attempts < max_attempts)
			pause_jittered(res->attempts);
	}
	return ro_err_set(err, RO_ECONFLICT, "push %s to %s: still rejected "
	    "after %u attempts (notes kept locally)", RO_NOTES_REF,
	    ro_gitrepo_url(r), max_attempts);
}
