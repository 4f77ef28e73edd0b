/*
 * gitbatch.c: the room jobs of one commit (a batch): their completions,
 * the audit lines for the commit's note (with the records a crash left
 * only in the JSONL log), the note itself, the commit's statuses on the
 * Git host (notify.c), and the cursor of the last commit done.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/file.h"
#include "roomops/log.h"
#include "roomops/seed.h"
#include "roomops/spec.h"
#include "roomops/specset.h"
#include "roomops/yaml.h"
#include "gitsrc_impl.h"
#include "history.h"
#include "notes.h"

#include "../common/banned.h"

void
ro_gitbatch_init(struct batch *b)
{
	memset(b, 0, sizeof(*b));
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
}

void
ro_gitbatch_release(struct batch *b)
{
	ro_strv_release(&b->lines);
	ro_strv_release(&b->done_rooms);
	pthread_cond_destroy(&b->cv);
	pthread_mutex_destroy(&b->mu);
}

/* Is the audit record line (JSON) one with key = want (and key2 =
 * want2 when key2 is not NULL)? */
bool
ro_gitbatch_line_is(const char *line, size_t len, const char *key,
    const char *want,
    const char *key2, const char *want2)
{
	cJSON	*o = cJSON_ParseWithLength(line, len);
	bool	 yes;

	yes = cJSON_IsObject(o) && ro_audit_rec_is(o, key, want) &&
	    (key2 == NULL || ro_audit_rec_is(o, key2, want2));
	cJSON_Delete(o);
	return yes;
}

int
ro_gitbatch_sink(void *arg, const char *room, const char *line, size_t len,
    struct ro_err *err)
{
	struct batch	*b = arg;
	int		 error = RO_OK;

	(void)room;
	if (b->drop_converged && ro_gitbatch_line_is(line, len, "outcome",
	    "converged",
	    NULL, NULL))
		return RO_OK;
	pthread_mutex_lock(&b->mu);
	while (len > 0 && line[len - 1] == '\n')
		len--;
	if (ro_strv_pushf(&b->lines, "%.*s", (int)len, line) < 0)
		error = ro_err_set(err, RO_ENOMEM, "out of memory");
	pthread_mutex_unlock(&b->mu);
	return error;
}

void
ro_gitbatch_done(void *arg, const struct ro_job *job,
    const struct ro_reconcile_result *res, int error, const struct ro_err *err)
{
	struct batch	*b = arg;

	(void)job;
	(void)err;
	pthread_mutex_lock(&b->mu);
	if (error == RO_EAGAIN)
		b->dropped = true;
	else if (error < 0 || res == NULL || res->failed)
		b->retry = b->failed = true;
	else if (!res->converged || res->partial)
		b->failed = true;
	b->pending--;
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->mu);
}

void
ro_gitbatch_wait(struct batch *b)
{
	pthread_mutex_lock(&b->mu);
	while (b->pending > 0)
		pthread_cond_wait(&b->cv, &b->mu);
	pthread_mutex_unlock(&b->mu);
}

/* An audit record that is not a reconcile (rejected, superseded, ...). */
int
ro_gitbatch_record(struct ro_gitsrc *g, struct batch *b, const git_oid *commit,
    const char *room, const char *outcome, const struct ro_strv *errors,
    struct ro_err *err)
{
	struct ro_reconcile_opts	o = g->o.audit;
	char				rev[GITSRC_OID_HEX];

	git_oid_tostr(rev, sizeof(rev), commit);
	o.source = "git";
	o.rev = rev;
	o.cid = NULL;
	o.sink = ro_gitbatch_sink;
	o.sink_arg = b;
	o.signer = g->signer[0] != '\0' ? g->signer : NULL;
	if (strcmp(outcome, "rejected") == 0)
		b->failed = g->rejected = true;
	return ro_reconcile_audit_only(&o, room, outcome, errors, err);
}

/* A record of this shard that settles its room for the commit: anything
 * but "failed" (the room could not be reached: try again), or a
 * signature rejection (the keys may change: checked again). */
static bool
final_record(const struct ro_gitsrc *g, const cJSON *o)
{
	const cJSON	*room, *shard, *outcome, *e;

	e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "errors"),
	    0);
	if (cJSON_IsString(e) && strncmp(e->valuestring, GITSRC_SIG_PREFIX,
	    sizeof(GITSRC_SIG_PREFIX) - 1) == 0)
		return false;

	room = cJSON_GetObjectItemCaseSensitive(o, "room");
	shard = cJSON_GetObjectItemCaseSensitive(o, "shard");
	outcome = cJSON_GetObjectItemCaseSensitive(o, "outcome");
	return cJSON_IsString(room) && cJSON_IsString(shard) &&
	    cJSON_IsString(outcome) &&
	    strcmp(shard->valuestring, g->shard_str) == 0 &&
	    strcmp(outcome->valuestring, "failed") != 0 &&
	    strcmp(outcome->valuestring, "superseded") != 0;
}

/* Records of this shard already in the commit's note or the JSONL log
 * (a crash between apply and cursor): those rooms are done. */
int
ro_gitbatch_recover(struct ro_gitsrc *g, struct batch *b, const git_oid *commit,
    struct ro_err *err)
{
	git_repository	*repo = ro_gitrepo_git(g->repo);
	struct ro_strv	 note = RO_STRV_INIT;
	struct ro_audit_query aq = RO_AUDIT_QUERY_INIT;
	char		 rev[GITSRC_OID_HEX];
	cJSON		*arr = NULL, *o, *room;
	size_t		 i;
	char		*line;
	int		 error;

	git_oid_tostr(rev, sizeof(rev), commit);
	if ((error = ro_notes_read(repo, RO_NOTES_REF, commit, &note, err)) < 0 &&
	    error != RO_ENOTFOUND)
		goto done;
	error = RO_OK;
	for (i = 0; i < note.n; i++) {
		if ((o = cJSON_Parse(note.v[i])) == NULL)
			continue;
		if (final_record(g, o))
			ro_strv_push(&b->done_rooms, cJSON_GetObjectItem(o,
			    "room")->valuestring);
		cJSON_Delete(o);
	}
	if (g->recovered || g->o.audit.audit == NULL)
		goto done;
	g->recovered = true;
	/* Records that reached the JSONL log but not the note. */
	aq.rev = rev;
	if ((arr = cJSON_CreateArray()) == NULL ||
	    (error = ro_auditlog_read(g->o.audit.audit->path, &aq, arr, NULL,
	    err)) < 0)
		goto done;
	cJSON_ArrayForEach(o, arr) {
		room = cJSON_GetObjectItemCaseSensitive(o, "room");
		if (!final_record(g, o) ||
		    ro_strv_contains(&b->done_rooms, room->valuestring))
			continue;
		if ((line = cJSON_PrintUnformatted(o)) == NULL)
			continue;
		log_info("room %s: record of %.12s recovered from the audit "
		    "log into the note", room->valuestring, rev);
		ro_strv_push(&b->lines, line);
		ro_strv_push(&b->done_rooms, room->valuestring);
		cJSON_free(line);
	}
done:
	cJSON_Delete(arr);
	ro_strv_release(&note);
	return error;
}

int
ro_gitbatch_write_notes(struct ro_gitsrc *g, struct batch *b,
    const git_oid *commit,
    struct ro_err *err)
{
	/* one notes commit for all the records of the commit */
	return ro_notes_append_lines(ro_gitrepo_git(g->repo), commit,
	    (const char *const *)b->lines.v, b->lines.n, err);
}

/* The final commit status: the commit's note holds every record of
 * it (this pass's and earlier ones'); b's lines if it cannot be read. */
void
ro_gitbatch_notify_final(struct ro_gitsrc *g, struct batch *b,
    const git_oid *commit)
{
	struct ro_strv	note = RO_STRV_INIT;
	char		rev[GITSRC_OID_HEX];

	if (g->o.notify == NULL)
		return;
	git_oid_tostr(rev, sizeof(rev), commit);
	if (ro_notes_read(ro_gitrepo_git(g->repo), RO_NOTES_REF, commit, &note,
	    NULL) == RO_OK && note.n > 0)
		ro_notify_final(g->o.notify, rev, (const char *const *)note.v,
		    note.n);
	else
		ro_notify_final(g->o.notify, rev, (const char *const *)
		    b->lines.v, b->lines.n);
	ro_strv_release(&note);
}

void
ro_gitbatch_notify_pending(struct ro_gitsrc *g, const git_oid *commit)
{
	char	rev[GITSRC_OID_HEX];

	if (g->o.notify == NULL)
		return;
	git_oid_tostr(rev, sizeof(rev), commit);
	ro_notify_pending(g->o.notify, rev);
}

int
ro_gitbatch_save_cursor(struct ro_gitsrc *g, const git_oid *commit,
    struct ro_err *err)
{
	char	path[PATH_MAX], hex[GITSRC_OID_HEX + 1];
	int	n;

	git_oid_tostr(hex, GITSRC_OID_HEX, commit);
	hex[GIT_OID_HEXSZ] = '\n';
	hex[GIT_OID_HEXSZ + 1] = '\0';
	n = snprintf(path, sizeof(path), "%s/%s", g->o.state_dir, GITSRC_CURSOR);
	if (n < 0 || (size_t)n >= sizeof(path))
		return ro_err_set(err, RO_EINVALID, "state dir path too long");
	if ((n = ro_file_replace(path, hex, GIT_OID_HEXSZ + 1, err)) < 0)
		return n;
	g->cursor = *commit;
	g->have_cursor = true;
	return RO_OK;
}

void
ro_gitbatch_load_cursor(struct ro_gitsrc *g)
{
	struct ro_buf	b = RO_BUF_INIT;
	struct ro_err	err = RO_ERR_INIT;
	char		path[PATH_MAX];
	int		error;

	/* no ro_buf_init with a small max: ro_file_read grows the buffer
	 * by whole read chunks and would fail; its own limit applies */
	snprintf(path, sizeof(path), "%s/%s", g->o.state_dir, GITSRC_CURSOR);
	if ((error = ro_file_read(path, 128, &b, &err)) == RO_OK &&
	    b.len >= GIT_OID_HEXSZ &&
	    git_oid_fromstrn(&g->cursor, b.ptr, GIT_OID_HEXSZ) == 0)
		g->have_cursor = true;
	else if (error != RO_ENOTFOUND)
		log_warnx("%s: %s; reconciling the branch head in full", path,
		    error < 0 ? err.msg : "not a commit id");
	ro_buf_release(&b);
}
