/*
 * daemonui.c: the daemon's side of the dashboard (docs/dashboard.md): the
 * read-only operations behind GET /status/rooms, /rooms/{id}/spec and
 * /plan/{id}, and the "room" events of /events (one per change of a
 * room's status, from ro_rooms' change callback).
 *
 * A room's spec file comes from its source: a file of the watched folder
 * (it must resolve inside --watch) is read on the calling API thread; a
 * file of the Git source is read from the bare clone at the last
 * processed commit by the Git source thread (libgit2 stays on it), which
 * answers through a callback between its passes.
 *
 * Thread rules: API threads (operations) and any thread that changes the
 * room table (events); nothing here blocks beyond reading one file.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "roomops/diag.h"
#include "roomops/file.h"
#include "roomops/log.h"
#include "roomops/seed.h"
#include "roomops/spec.h"
#include "daemon_impl.h"
#include "gitsrc.h"
#include "rooms.h"

#include "../common/banned.h"

static cJSON *
op_rooms_page(void *arg, size_t offset, size_t limit, const char *status,
    const char *q)
{
	struct daemon		*d = arg;
	struct ro_rooms_query	 rq;

	rq.offset = offset;
	rq.limit = limit;
	rq.status = status;
	rq.q = q;
	return ro_rooms_page(d->rooms, &rq);
}

/*
 * The room's status document (for its file and errors; owned by the
 * caller) and, when its spec file is in the watched folder, that file's
 * path and the path relative to the folder (both checked to resolve
 * inside it). *rel is NULL for a file that is not there (Git source).
 */
static int
room_file(struct daemon *d, const char *room_id, char path[PATH_MAX],
    const char **rel, cJSON **doc, struct ro_err *err)
{
	char		 root[PATH_MAX];
	const cJSON	*f;
	size_t		 n;

	*rel = NULL;
	if ((*doc = ro_rooms_json(d->rooms, room_id)) == NULL)
		return ro_err_set(err, RO_ENOTFOUND, "room %s not found",
		    room_id);
	f = cJSON_GetObjectItemCaseSensitive(*doc, "file");
	if (!cJSON_IsString(f) || strcmp(f->valuestring, "api") == 0)
		return ro_err_set(err, RO_ENOTFOUND, "room %s came by POST "
		    "/apply: no spec file", room_id);
	/* the folder source names its files WATCH/REL */
	if (d->watch_dir == NULL)
		return RO_OK;
	n = strlen(d->watch_dir);
	while (n > 1 && d->watch_dir[n - 1] == '/')
		n--;
	if (strncmp(f->valuestring, d->watch_dir, n) != 0 ||
	    f->valuestring[n] != '/' || realpath(d->watch_dir, root) == NULL)
		return RO_OK;		/* not a file of the folder */
	if (realpath(f->valuestring, path) == NULL)
		return ro_err_set(err, RO_ENOTFOUND, "spec file of room %s "
		    "is gone", room_id);
	n = strlen(root);
	if (strncmp(path, root, n) != 0 || path[n] != '/')
		return ro_err_set(err, RO_ENOTFOUND, "the spec of room %s is "
		    "not in the watched folder", room_id);
	*rel = path + n + 1;
	return RO_OK;
}

/* {"roomId", "file", "revision", "text", "truncated", "errors"}; errors
 * is taken. NULL on ENOMEM. */
static cJSON *
spec_doc(const char *room_id, const char *file, const char *rev,
    const struct ro_buf *text, bool truncated, cJSON *errors)
{
	cJSON	*o;

	if ((o = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(o, "roomId", room_id) == NULL ||
	    cJSON_AddStringToObject(o, "file", file) == NULL ||
	    (rev != NULL && rev[0] != '\0' ? cJSON_AddStringToObject(o,
	    "revision", rev) : cJSON_AddNullToObject(o, "revision")) == NULL ||
	    cJSON_AddStringToObject(o, "text", text != NULL ?
	    ro_buf_cstr(text) : "") == NULL ||
	    cJSON_AddBoolToObject(o, "truncated", truncated) == NULL ||
	    !cJSON_AddItemToObject(o, "errors", errors != NULL ? errors :
	    cJSON_CreateArray())) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* A file of the watched folder, read now on the calling thread. */
static int
folder_spec(struct daemon *d, const char *room_id, const char *path,
    const char *rel, bool parse, cJSON *st, ro_api_spec_cb *cb,
    void *cb_arg, struct ro_err *err)
{
	struct ro_diag	 diag = RO_DIAG_INIT;
	struct ro_buf	 text = RO_BUF_INIT;
	struct ro_spec	*spec = NULL;
	char		 dir[PATH_MAX], root[PATH_MAX];
	const char	*slash;
	bool		 truncated = false;
	cJSON		*doc;
	int		 error;

	if (!parse) {
		error = ro_file_read(path, RO_SPEC_FILE_MAX, &text, err);
		if (error == RO_ETOOBIG) {
			ro_buf_reset(&text);
			truncated = true;
			error = RO_OK;
		}
		if (error < 0)
			goto done;
		if ((doc = spec_doc(room_id, path, NULL, &text, truncated,
		    cJSON_DetachItemFromObjectCaseSensitive(st, "errors"))) ==
		    NULL) {
			error = ro_err_set(err, RO_ENOMEM, "out of memory");
			goto done;
		}
		cb(cb_arg, RO_OK, NULL, doc, NULL);
		goto done;
	}
	if ((error = ro_spec_load_file(&spec, path, &diag, err)) < 0)
		goto done;
	if (strcmp(spec->room_id, room_id) != 0) {
		error = ro_err_set(err, RO_EINVALID, "%s now declares room %s",
		    path, spec->room_id);
		goto done;
	}
	slash = strrchr(rel, '/');
	snprintf(dir, sizeof(dir), "%.*s", slash != NULL ?
	    (int)(slash - rel) : 0, rel);
	if (realpath(d->watch_dir, root) == NULL) {
		error = ro_err_errno(err, RO_EIO, "%s", d->watch_dir);
		goto done;
	}
	if ((error = ro_seed_resolve(spec, dir, ro_seed_read_fs, root, &diag,
	    err)) < 0)
		goto done;
	cb(cb_arg, RO_OK, NULL, NULL, spec);
	spec = NULL;
done:
	if (error == RO_EINVALID && diag.errors.n > 0)
		ro_err_set(err, RO_EINVALID, "%s", diag.errors.v[0]);
	ro_spec_free(spec);
	ro_diag_release(&diag);
	ro_buf_release(&text);
	return error;
}

/* A read handed to the Git source. */
struct gitask {
	ro_api_spec_cb	*cb;
	void		*cb_arg;
	bool		 parse;
	char		*room_id;
	char		*file;
	cJSON		*errors;
};

static void
gitask_free(struct gitask *a)
{
	free(a->room_id);
	free(a->file);
	cJSON_Delete(a->errors);
	free(a);
}

/* ro_gitsrc_read_cb: on the Git thread (or at shutdown). */
static void
git_answered(void *arg, int error, const struct ro_err *err, const char *rev,
    const struct ro_buf *text, struct ro_spec *spec)
{
	struct gitask	*a = arg;
	cJSON		*doc;

	if (error < 0)
		a->cb(a->cb_arg, error, err->msg, NULL, NULL);
	else if (a->parse)
		a->cb(a->cb_arg, RO_OK, NULL, NULL, spec);
	else {
		ro_spec_free(spec);
		doc = spec_doc(a->room_id, a->file, rev, text, false,
		    a->errors);
		a->errors = NULL;
		if (doc != NULL)
			a->cb(a->cb_arg, RO_OK, NULL, doc, NULL);
		else
			a->cb(a->cb_arg, RO_ENOMEM, "out of memory", NULL,
			    NULL);
	}
	gitask_free(a);
}

static int
op_room_spec(void *arg, const char *room_id, bool parse, ro_api_spec_cb *cb,
    void *cb_arg, struct ro_err *err)
{
	struct daemon	*d = arg;
	struct gitask	*a = NULL;
	char		 path[PATH_MAX];
	const char	*rel;
	cJSON		*st = NULL;
	int		 error;

	if ((error = room_file(d, room_id, path, &rel, &st, err)) < 0)
		goto done;
	if (rel != NULL) {
		error = folder_spec(d, room_id, path, rel, parse, st, cb,
		    cb_arg, err);
		goto done;
	}
	if (d->git == NULL) {
		error = ro_err_set(err, RO_ENOTFOUND, "the spec file of room "
		    "%s is not in a source of this agent", room_id);
		goto done;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->room_id = strdup(room_id)) == NULL ||
	    (a->file = strdup(cJSON_GetObjectItemCaseSensitive(st,
	    "file")->valuestring)) == NULL) {
		error = ro_err_set(err, RO_ENOMEM, "out of memory");
		goto done;
	}
	a->cb = cb;
	a->cb_arg = cb_arg;
	a->parse = parse;
	a->errors = cJSON_DetachItemFromObjectCaseSensitive(st, "errors");
	if ((error = ro_gitsrc_read_spec(d->git, a->file, parse, git_answered,
	    a, err)) < 0)
		goto done;
	a = NULL;		/* the Git source answers */
done:
	if (a != NULL)
		gitask_free(a);
	cJSON_Delete(st);
	return error;
}

void
ro_daemonui_init(struct ro_api_ops *ops)
{
	ops->rooms_page = op_rooms_page;
	ops->room_spec = op_room_spec;
}

void
ro_daemonui_room_changed(void *arg, const char *room_id)
{
	struct daemon	*d = arg;
	cJSON		*row;
	char		*s;

	if (d->api == NULL)
		return;
	if ((row = ro_rooms_row(d->rooms, room_id)) == NULL) {
		/* forgotten: {"roomId", "removed": true} */
		if ((row = cJSON_CreateObject()) == NULL ||
		    cJSON_AddStringToObject(row, "roomId", room_id) == NULL ||
		    cJSON_AddBoolToObject(row, "removed", true) == NULL) {
			cJSON_Delete(row);
			return;
		}
	}
	if ((s = cJSON_PrintUnformatted(row)) != NULL)
		ro_api_publish_event(d->api, "room", s, strlen(s));
	cJSON_free(s);
	cJSON_Delete(row);
}
