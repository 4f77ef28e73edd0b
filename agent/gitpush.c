/*
 * gitpush.c: pushing to an origin on the local file system
 * (file:// or a path), by compare-and-swap of the ref.
 */
#include <string.h>

#include <git2.h>

#include "gitpush.h"
#include "gitrepo.h"
#include "gitrepo_impl.h"

#include "../common/banned.h"

/*
 * The path of a local origin (file:// without %-escapes, or a plain
 * path), else NULL.
 */
const char *
ro_gitpush_local_path(const char *url)
{
	if (strncmp(url, "file://", 7) == 0)
		return strchr(url + 7, '%') == NULL && url[7] == '/' ?
		    url + 7 : NULL;
	if (strstr(url, "://") != NULL || ro_gitrepo_url_is_ssh(url))
		return NULL;
	return url;
}

struct packcopy {
	git_odb_writepack	*wp;
	git_indexer_progress	 st;
};

static int
packcopy_cb(void *buf, size_t size, void *payload)
{
	struct packcopy	*pc = payload;

	return pc->wp->append(pc->wp, buf, size, &pc->st);
}

/* Copy the objects of tip that have does not reach into to's odb. */
static int
local_copy(struct ro_gitrepo *r, git_repository *to, const git_oid *tip,
    const git_oid *have, struct ro_err *err)
{
	git_packbuilder	*pb = NULL;
	git_revwalk	*w = NULL;
	git_odb		*odb = NULL;
	struct packcopy	 pc;
	int		 error = RO_OK;

	memset(&pc, 0, sizeof(pc));
	if (git_packbuilder_new(&pb, r->repo) < 0 ||
	    git_revwalk_new(&w, r->repo) < 0 ||
	    git_revwalk_push(w, tip) < 0 ||
	    (have != NULL && git_revwalk_hide(w, have) < 0) ||
	    git_packbuilder_insert_walk(pb, w) < 0 ||
	    git_repository_odb(&odb, to) < 0 ||
	    git_odb_write_pack(&pc.wp, odb, NULL, NULL) < 0 ||
	    git_packbuilder_foreach(pb, packcopy_cb, &pc) < 0 ||
	    pc.wp->commit(pc.wp, &pc.st) < 0)
		error = ro_gitrepo_fail(r, err, RO_ERROR, "push");
	if (pc.wp != NULL)
		pc.wp->free(pc.wp);
	git_odb_free(odb);
	git_revwalk_free(w);
	git_packbuilder_free(pb);
	return error;
}

/*
 * Push src:dst to a local origin. libgit2's local transport moves the
 * remote ref with a forced write after checking the fast-forward against
 * the refs it read at connect time, so two writers pushing at once both
 * "succeed" and the first one's commits are lost. Here the objects are
 * copied, then the ref moves by compare-and-swap against the value just
 * checked (git_reference_create_matching locks the ref as git does): a
 * concurrent writer makes it RO_ECONFLICT, never a silent overwrite.
 */
int
ro_gitpush_local(struct ro_gitrepo *r, const char *path, const char *refspec,
    struct ro_err *err)
{
	git_repository	*to = NULL;
	git_reference	*ref = NULL;
	git_refspec	*spec = NULL;
	git_oid		 tip, cur;
	bool		 have = false;
	int		 rc, error = RO_OK;

	if (git_refspec_parse(&spec, refspec, 0) < 0 ||
	    git_reference_name_to_id(&tip, r->repo,
	    git_refspec_src(spec)) < 0 ||
	    git_repository_open_ext(&to, path, GIT_REPOSITORY_OPEN_NO_SEARCH,
	    NULL) < 0) {
		error = ro_gitrepo_fail(r, err, RO_ERROR, "push");
		goto done;
	}
	rc = git_reference_name_to_id(&cur, to, git_refspec_dst(spec));
	if (rc < 0 && rc != GIT_ENOTFOUND) {
		error = ro_gitrepo_fail(r, err, RO_ERROR, "push");
		goto done;
	}
	have = rc == 0;
	if (have && git_oid_equal(&cur, &tip))
		goto done;		/* up to date */
	/* an origin value we do not have is no ancestor of ours either */
	if (have && git_graph_descendant_of(r->repo, &tip, &cur) != 1) {
		error = ro_err_set(err, RO_ECONFLICT, "push %s: rejected %s "
		    "(not a fast-forward)", r->url_redacted,
		    git_refspec_dst(spec));
		goto done;
	}
	if ((error = local_copy(r, to, &tip, have ? &cur : NULL, err)) < 0)
		goto done;
	if (have)
		rc = git_reference_create_matching(&ref, to,
		    git_refspec_dst(spec), &tip, 1, &cur, "roomops: push");
	else
		rc = git_reference_create(&ref, to, git_refspec_dst(spec), &tip,
		    0, "roomops: push");
	if (rc == GIT_EMODIFIED || rc == GIT_EEXISTS || rc == GIT_ELOCKED)
		error = ro_err_set(err, RO_ECONFLICT, "push %s: rejected %s "
		    "(it moved meanwhile)", r->url_redacted,
		    git_refspec_dst(spec));
	else if (rc < 0)
		error = ro_gitrepo_fail(r, err, RO_ERROR, "push");
done:
	git_reference_free(ref);
	git_repository_free(to);
	git_refspec_free(spec);
	return error;
}
