/*
 * artifacts.c: seed (multipart upload), raw bytes, hash, promote and
 * delete of /room/{roomId}/artifacts. Contents are blobs named by their
 * sha256 (store.c); the fingerprint is computed with ro_fingerprint, the
 * agent's own function, so both sides agree byte for byte.
 */
#include <stdlib.h>
#include <string.h>

#include "roomops/fingerprint.h"
#include "sim.h"

#include "../common/banned.h"

/* A text field of the upload: present, non-empty, UTF-8, bounded. */
static int
text_field(char **out, const struct multipart_part *parts, size_t n,
    const char *name, size_t max, bool may_be_empty, struct sim_resp *rs)
{
	const struct multipart_part *p = multipart_find(parts, n, name);

	*out = NULL;
	if (p == NULL || (p->len == 0 && !may_be_empty))
		return reply_error(rs, 400, "MISSING_FIELD", "the upload has "
		    "no %s", name);
	if (!validate_text(p->data, p->len, max))
		return reply_error(rs, 400, "INVALID_FIELD", "%s: not UTF-8 "
		    "text of at most %zu bytes", name, max);
	if ((*out = strndup(p->data, p->len)) == NULL)
		return reply_error(rs, 500, "INTERNAL", "out of memory");
	return RO_OK;
}

/* "a,b" into [a, b]; empty items are dropped ("" is no tag). */
static int
split_tags(struct ro_strv *tags, const char *s, struct sim_resp *rs)
{
	const char	*p = s, *q;

	while (*p != '\0') {
		q = p + strcspn(p, ",");
		if (q > p) {
			if (tags->n == SIM_LIST_MAX)
				return reply_error(rs, 400, "INVALID_FIELD",
				    "tags: more than %d", SIM_LIST_MAX);
			if (ro_strv_push_owned(tags, strndup(p,
			    (size_t)(q - p))) < 0)
				return reply_error(rs, 500, "INTERNAL",
				    "out of memory");
		}
		p = *q == ',' ? q + 1 : q;
	}
	return RO_OK;
}

/* The artifact of the upload, fingerprinted; content stays in the body. */
static int
parse_seed(struct ro_artifact *a, const struct multipart_part **file,
    struct sim_req *rq, struct sim_resp *rs)
{
	struct multipart_part parts[MULTIPART_PARTS_MAX];
	struct ro_err	 err = RO_ERR_INIT;
	char		*tags = NULL;
	size_t		 n;
	int		 error;

	if (multipart_parse(rq->ctype, rq->body.ptr != NULL ? rq->body.ptr :
	    "", rq->body.len, parts, RO_NELEM(parts), &n, &err) < 0)
		return reply_error(rs, 400, "INVALID_MULTIPART", "%s", err.msg);
	if ((error = text_field(&a->name, parts, n, "name",
	    SIM_ARTIFACT_NAME_MAX, false, rs)) < 0 ||
	    (error = text_field(&a->type, parts, n, "type", SIM_STRING_MAX,
	    false, rs)) < 0 ||
	    (error = text_field(&a->workspace, parts, n, "workspace",
	    SIM_STRING_MAX, false, rs)) < 0)
		return error;
	if (multipart_find(parts, n, "tags") != NULL &&
	    ((error = text_field(&tags, parts, n, "tags", SIM_STRING_MAX,
	    true, rs)) < 0 || (error = split_tags(&a->tags, tags, rs)) < 0))
		goto done;
	if ((*file = multipart_find(parts, n, "file")) == NULL) {
		error = reply_error(rs, 400, "MISSING_FIELD", "the upload has "
		    "no file");
		goto done;
	}
	if ((*file)->len > RO_ARTIFACT_MAX) {
		error = reply_error(rs, 413, "TOO_LARGE", "%s: %zu bytes, the "
		    "limit is %u", a->name, (*file)->len, RO_ARTIFACT_MAX);
		goto done;
	}
	if ((error = ro_fingerprint(a->fingerprint, a->name, a->type,
	    a->workspace, &a->tags, (*file)->data, (*file)->len, &err)) < 0) {
		reply_error(rs, 500, "INTERNAL", "%s", err.msg);
		goto done;
	}
	ro_sha256_hex(a->content_hash, (*file)->data, (*file)->len);
	a->size = (*file)->len;
done:
	free(tags);
	return error;
}

void
artifacts_seed(struct sim *sim, struct sim_req *rq, struct sim_resp *rs)
{
	struct ro_err	 err = RO_ERR_INIT;
	struct ro_artifact a, *cur;
	const struct multipart_part *file = NULL;
	struct store_room *r;
	char		 old_hash[RO_HEX_SHA256_LEN + 1] = "";
	long		 i;
	int		 error;

	memset(&a, 0, sizeof(a));
	if (rooms_check_id(rq, rs) < 0 || parse_seed(&a, &file, rq, rs) < 0)
		goto done;
	if ((error = store_lock(sim->store, rq->room, true, &r, &err)) < 0) {
		reply_store_error(rs, error, &err);
		goto done;
	}
	i = store_artifact_find(r, a.name);
	if (i < 0 && store_state(r)->n_artifacts >= RO_SPEC_ARTIFACTS_MAX) {
		reply_error(rs, 400, "LIMIT_EXCEEDED", "%s has %d artifacts, "
		    "the limit", rq->room, RO_SPEC_ARTIFACTS_MAX);
		goto unlock;
	}
	if ((error = store_blob_write(r, a.content_hash, file->data,
	    file->len, &err)) < 0) {
		reply_store_error(rs, error, &err);
		goto unlock;
	}
	a.is_promoted = false;		/* new content is not promoted */
	if (i >= 0) {
		cur = &store_state(r)->artifacts[i];
		memcpy(old_hash, cur->content_hash, sizeof(old_hash));
		a.version = cur->version + 1;
		ro_artifact_release(cur);
		*cur = a;
		memset(&a, 0, sizeof(a));
	} else {
		a.version = 1;
		if ((error = store_artifact_add(r, &a)) < 0) {
			reply_error(rs, 500, "INTERNAL", "out of memory");
			goto unlock;
		}
		i = (long)store_state(r)->n_artifacts - 1;
	}
	if ((error = store_commit(r, &err)) < 0) {
		reply_store_error(rs, error, &err);
		goto unlock;
	}
	cur = &store_state(r)->artifacts[i];
	if (old_hash[0] != '\0' && strcmp(old_hash, cur->content_hash) != 0)
		store_blob_gc(r, old_hash);
	reply_json(rs, 201, ro_artifact_to_json(cur));
unlock:
	store_unlock(r);
done:
	ro_artifact_release(&a);
}

/* Lock the room and find the artifact; 404 ARTIFACT_NOT_FOUND when not. */
static int
find_artifact(struct sim *sim, struct sim_req *rq, struct sim_resp *rs,
    struct store_room **r, long *i)
{
	struct ro_err	err = RO_ERR_INIT;
	int		error;

	if (rooms_check_id(rq, rs) < 0)
		return RO_EINVALID;
	error = store_lock(sim->store, rq->room, false, r, &err);
	if (error == RO_ENOTFOUND)
		return reply_error(rs, 404, "ARTIFACT_NOT_FOUND", "%.300s is "
		    "not in %s", rq->item, rq->room);
	if (error < 0)
		return reply_store_error(rs, error, &err);
	if ((*i = store_artifact_find(*r, rq->item)) < 0) {
		store_unlock(*r);
		return reply_error(rs, 404, "ARTIFACT_NOT_FOUND", "%.300s is "
		    "not in %s", rq->item, rq->room);
	}
	return RO_OK;
}

void
artifacts_get(struct sim *sim, struct sim_req *rq, struct sim_resp *rs)
{
	struct ro_err	 err = RO_ERR_INIT;
	struct store_room *r;
	uint64_t	 size;
	long		 i;
	int		 error, fd;

	if (find_artifact(sim, rq, rs, &r, &i) < 0)
		return;
	error = store_blob_open(r, store_state(r)->artifacts[i].content_hash,
	    &fd, &size, &err);
	store_unlock(r);
	if (error < 0) {
		/* a blob the state names is gone: the data dir was damaged */
		reply_error(rs, 500, "STORAGE_ERROR", "%s", err.msg);
		return;
	}
	reply_release(rs);
	rs->status = 200;
	rs->ctype = "application/octet-stream";
	rs->fd = fd;
	rs->fd_len = size;
}

void
artifacts_hash(struct sim *sim, struct sim_req *rq, struct sim_resp *rs)
{
	struct store_room *r;
	cJSON		*o;
	long		 i;

	if (find_artifact(sim, rq, rs, &r, &i) < 0)
		return;
	if ((o = cJSON_CreateObject()) != NULL &&
	    cJSON_AddStringToObject(o, "hash",
	    store_state(r)->artifacts[i].fingerprint) == NULL) {
		cJSON_Delete(o);
		o = NULL;
	}
	store_unlock(r);
	reply_json(rs, 200, o);
}

void
artifacts_promote(struct sim *sim, struct sim_req *rq, struct sim_resp *rs)
{
	struct ro_err	 err = RO_ERR_INIT;
	struct store_room *r;
	long		 i;
	int		 error;

	if (find_artifact(sim, rq, rs, &r, &i) < 0)
		return;
	if (!store_state(r)->artifacts[i].is_promoted) {	/* else no-op */
		store_state(r)->artifacts[i].is_promoted = true;
		if ((error = store_commit(r, &err)) < 0) {
			reply_store_error(rs, error, &err);
			store_unlock(r);
			return;
		}
	}
	reply_json(rs, 200, ro_artifact_to_json(&store_state(r)->artifacts[i]));
	store_unlock(r);
}

void
artifacts_delete(struct sim *sim, struct sim_req *rq, struct sim_resp *rs)
{
	struct ro_err	 err = RO_ERR_INIT;
	struct store_room *r;
	char		 hash[RO_HEX_SHA256_LEN + 1];
	long		 i;
	int		 error;

	if (find_artifact(sim, rq, rs, &r, &i) < 0)
		return;
	memcpy(hash, store_state(r)->artifacts[i].content_hash, sizeof(hash));
	store_artifact_remove(r, (size_t)i);
	if ((error = store_commit(r, &err)) < 0)
		reply_store_error(rs, error, &err);
	else {
		store_blob_gc(r, hash);
		reply_release(rs);
		rs->status = 204;
	}
	store_unlock(r);
}
