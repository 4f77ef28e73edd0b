/*
 * daemonui.c: the daemon's side of the dashboard (docs/dashboard.md): the
 * read-only operations behind GET /status/rooms, /rooms/{id}/spec and
 * /plan/{id}, and the "room" events of /events (one per change of a
 * room's status, from ro_rooms' change callback).
 *
 * Spec files are shown and planned for rooms of the watched folder only:
 * the file must resolve (realpath) inside --watch. Rooms of the Git
 * source live in the bare clone, which only the Git source thread may
 * read (libgit2); their page shows status and audit without the file.
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
 * The spec file of a room of the watched folder: its path and the path
 * relative to the folder (for seeds), both checked to resolve inside it.
 * *doc gets the room's status document (for its errors), owned by the
 * caller.
 */
static int
room_file(struct daemon *d, const char *room_id, char path[PATH_MAX],
    const char **rel, cJSON **doc, struct ro_err *err)
{
	char		 root[PATH_MAX];
	const cJSON	*f;
	size_t		 n;

	*doc = NULL;
	if ((*doc = ro_rooms_json(d->rooms, room_id)) == NULL)
		return ro_err_set(err, RO_ENOTFOUND, "room %s not found",
		    room_id);
	f = cJSON_GetObjectItemCaseSensitive(*doc, "file");
	if (!cJSON_IsString(f) || strcmp(f->valuestring, "api") == 0)
		return ro_err_set(err, RO_ENOTFOUND, "room %s came by POST "
		    "/apply: no spec file", room_id);
	if (d->watch_dir == NULL || realpath(d->watch_dir, root) == NULL)
		return ro_err_set(err, RO_ENOTFOUND, "the spec of room %s is "
		    "%s in the Git repository; the dashboard shows files of a "
		    "watched folder only", room_id, f->valuestring);
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

static int
op_room_spec(void *arg, const char *room_id, cJSON **out, struct ro_err *err)
{
	struct daemon	*d = arg;
	struct ro_buf	 text = RO_BUF_INIT;
	char		 path[PATH_MAX];
	const char	*rel;
	cJSON		*st = NULL, *o = NULL, *errs;
	bool		 truncated = false;
	int		 error;

	if ((error = room_file(d, room_id, path, &rel, &st, err)) < 0)
		goto done;
	error = ro_file_read(path, RO_SPEC_FILE_MAX, &text, err);
	if (error == RO_ETOOBIG) {
		ro_buf_reset(&text);
		truncated = true;
		error = RO_OK;
	}
	if (error < 0)
		goto done;
	errs = cJSON_DetachItemFromObjectCaseSensitive(st, "errors");
	if ((o = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(o, "roomId", room_id) == NULL ||
	    cJSON_AddStringToObject(o, "file", path) == NULL ||
	    cJSON_AddStringToObject(o, "text", ro_buf_cstr(&text)) == NULL ||
	    cJSON_AddBoolToObject(o, "truncated", truncated) == NULL ||
	    !cJSON_AddItemToObject(o, "errors", errs != NULL ? errs :
	    cJSON_CreateArray())) {
		error = ro_err_set(err, RO_ENOMEM, "out of memory");
		goto done;
	}
	*out = o;
	o = NULL;
done:
	cJSON_Delete(o);
	cJSON_Delete(st);
	ro_buf_release(&text);
	return error;
}

static int
op_plan_spec(void *arg, const char *room_id, struct ro_spec **out,
    struct ro_err *err)
{
	struct daemon	*d = arg;
	struct ro_diag	 diag = RO_DIAG_INIT;
	struct ro_spec	*spec = NULL;
	char		 path[PATH_MAX], dir[PATH_MAX], root[PATH_MAX];
	const char	*rel, *slash;
	cJSON		*st = NULL;
	int		 error;

	if ((error = room_file(d, room_id, path, &rel, &st, err)) < 0)
		goto done;
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
	*out = spec;
	spec = NULL;
done:
	if (error == RO_EINVALID && diag.errors.n > 0)
		ro_err_set(err, RO_EINVALID, "%s", diag.errors.v[0]);
	ro_spec_free(spec);
	ro_diag_release(&diag);
	cJSON_Delete(st);
	return error;
}

void
ro_daemonui_init(struct ro_api_ops *ops)
{
	ops->rooms_page = op_rooms_page;
	ops->room_spec = op_room_spec;
	ops->plan_spec = op_plan_spec;
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
