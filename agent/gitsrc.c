/* gitsrc.c: the Git source thread: poll, fetch, walk commits, queue room
 * jobs, and write each commit's audit records into its note. */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
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
#include "roomops/strmap.h"
#include "roomops/yaml.h"
#include "gitsrc.h"
#include "specidx.h"
#include "history.h"
#include "notes.h"

#include "../common/banned.h"

#define GITSRC_CURSOR		"cursor"	/* file in the state dir */
#define GITSRC_OID_HEX		(GIT_OID_HEXSZ + 1)
#define GITSRC_INFLIGHT_MAX	256	/* jobs of a commit queued at once */
#define GITSRC_TREE_CACHE_OBJ	(4u << 20)	/* bytes: largest tree cached */
#define GITSRC_CACHE_MAX	(32u << 20)	/* bytes: libgit2 object cache */


/* The jobs of one commit and the audit lines for its note. */
struct batch {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	size_t		 pending;
	struct ro_strv	 lines;
	struct ro_strv	 done_rooms;	/* rooms with a record already */
	bool		 failed;	/* some room not converged */
	bool		 retry;		/* some room could not be reached */
	bool		 dropped;	/* a job was dropped (shutdown) */
	bool		 drop_converged;	/* resync: note only changes */
};

/* A dashboard read (ro_gitsrc_read_spec), served between passes. */
struct gitread {
	char			*path;
	bool			 parse;
	ro_gitsrc_read_cb	*cb;
	void			*arg;
};

struct ro_gitsrc {
	struct ro_gitsrc_opts	 o;
	struct ro_gitrepo	*repo;
	pthread_t		 tid;
	bool			 started;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	unsigned		 triggers;
	bool			 stop;
	struct gitread		 reads[RO_GITSRC_READS_MAX];	/* under mu */
	size_t			 nreads;
	/* under mu, for /status */
	char			 head[GITSRC_OID_HEX];
	char			 last_fetch[RO_TS_LEN + 1];
	char			 last_error[RO_ERR_MSG_MAX];
	bool			 passed;	/* a pass ended without error */
	/* Git thread only */
	git_oid			 cursor;
	bool			 have_cursor;
	bool			 recovered;	/* JSONL recovery done */
	struct ro_specidx	 idx;		/* the specs at the last
						   processed commit */
	bool			 idx_built;
	char			 shard_str[RO_SHARD_STR_MAX];
	long long		 detected_ms;
	bool			 rejected;	/* in this pass (--once: exit 2) */
	char			 signer[RO_SIGVERIFY_SIGNER_MAX]; /* of the
					   commit in hand, "" if none */
	/* the head was left unapplied for want of a verified signature:
	 * nothing to look at again until the head, the cursor or the
	 * keys change (a pass per poll would verify it all again) */
	bool			 stuck;
	git_oid			 stuck_head, stuck_cursor;
	unsigned long		 stuck_gen;
};

static void
set_error(struct ro_gitsrc *g, const char *msg)
{
	pthread_mutex_lock(&g->mu);
	snprintf(g->last_error, sizeof(g->last_error), "%s", msg);
	pthread_mutex_unlock(&g->mu);
}

static bool
stopping(struct ro_gitsrc *g)
{
	bool	s;

	pthread_mutex_lock(&g->mu);
	s = g->stop;
	pthread_mutex_unlock(&g->mu);
	return s;
}

/* --- the spec index ------------------------------------------------ */

static struct ro_specidx_ent *
idx_find_path(struct ro_gitsrc *g, const char *path)
{
	return ro_specidx_path(&g->idx, path);
}

/* Is there a file at path in commit? (false on any error) */
static bool
path_at(struct ro_gitsrc *g, const git_oid *commit, const char *path)
{
	git_commit	*c = NULL;
	git_tree	*t = NULL;
	git_tree_entry	*e = NULL;
	bool		 ok;

	ok = git_commit_lookup(&c, ro_gitrepo_git(g->repo), commit) == 0 &&
	    git_commit_tree(&t, c) == 0 && git_tree_entry_bypath(&e, t,
	    path) == 0;
	git_tree_entry_free(e);
	git_tree_free(t);
	git_commit_free(c);
	return ok;
}

/*
 * Another spec file that declares room and still exists at commit. A
 * spec moved to another file in one commit is a delete and an add: the
 * old path's entry is stale, not a duplicate, and the room is not pruned.
 */
static struct ro_specidx_ent *
idx_find_live_room(struct ro_gitsrc *g, const char *room, const char *not_path,
    const git_oid *commit)
{
	struct ro_specidx_ent	*si = ro_specidx_room(&g->idx, room);
	size_t			 i;

	if (si == NULL)
		return NULL;
	if (strcmp(si->path, not_path) == 0) {
		/* rare: look for an older entry of the room elsewhere */
		for (i = 0; i < g->idx.n; i++)
			if (strcmp(g->idx.v[i].room_id, room) == 0 &&
			    strcmp(g->idx.v[i].path, not_path) != 0 &&
			    path_at(g, commit, g->idx.v[i].path))
				return &g->idx.v[i];
		return NULL;
	}
	return path_at(g, commit, si->path) ? si : NULL;
}

/* Folder of path relative to the spec root (for seed resolution). */
static void
spec_dir(const struct ro_gitsrc *g, const char *path, char *out, size_t outsz)
{
	const char	*root = g->o.path != NULL ? g->o.path : "";
	size_t		 rl = strlen(root);
	const char	*rel = path, *slash;

	if (rl > 0 && strncmp(path, root, rl) == 0 && path[rl] == '/')
		rel = path + rl + 1;
	slash = strrchr(rel, '/');
	snprintf(out, outsz, "%.*s", slash != NULL ? (int)(slash - rel) : 0,
	    rel);
}

static int
idx_put(struct ro_gitsrc *g, const char *path, const struct ro_spec *spec)
{
	struct ro_specidx_ent	*si;
	struct ro_strv		 seeds = RO_STRV_INIT;
	struct ro_buf		 norm = RO_BUF_INIT;
	const char		*root = g->o.path != NULL ? g->o.path : "";
	const char		*pr;
	char			 dir[PATH_MAX];
	size_t			 i;
	int			 error;

	if ((error = ro_specidx_add(&g->idx, path, &si)) < 0 ||
	    (error = ro_specidx_set_room(&g->idx, si, spec->room_id)) < 0)
		goto done;
	si->prune = (pr = ro_spec_annotation(spec, "roomops/prune")) != NULL &&
	    strcmp(pr, "true") == 0;
	spec_dir(g, path, dir, sizeof(dir));
	for (i = 0; i < spec->n_artifacts; i++) {
		if (spec->artifacts[i].seed_from == NULL)
			continue;
		ro_buf_reset(&norm);
		if (ro_seed_normalize(&norm, dir, spec->artifacts[i].seed_from,
		    NULL) < 0)
			continue;
		if (ro_strv_pushf(&seeds, "%s%s%s", root, root[0] ? "/" :
		    "", ro_buf_cstr(&norm)) < 0) {
			error = RO_ENOMEM;
			goto done;
		}
	}
	error = ro_specidx_set_seeds(&g->idx, si, &seeds);
done:
	ro_strv_release(&seeds);
	ro_buf_release(&norm);
	return error;
}

/* --- batches ------------------------------------------------------- */

static void
batch_init(struct batch *b)
{
	memset(b, 0, sizeof(*b));
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
}

static void
batch_release(struct batch *b)
{
	ro_strv_release(&b->lines);
	ro_strv_release(&b->done_rooms);
	pthread_cond_destroy(&b->cv);
	pthread_mutex_destroy(&b->mu);
}

/* Is the audit record line (JSON) one with key = want (and key2 =
 * want2 when key2 is not NULL)? */
static bool
line_is(const char *line, size_t len, const char *key, const char *want,
    const char *key2, const char *want2)
{
	cJSON	*o = cJSON_ParseWithLength(line, len);
	bool	 yes;

	yes = cJSON_IsObject(o) && ro_audit_rec_is(o, key, want) &&
	    (key2 == NULL || ro_audit_rec_is(o, key2, want2));
	cJSON_Delete(o);
	return yes;
}

static int
batch_sink(void *arg, const char *room, const char *line, size_t len,
    struct ro_err *err)
{
	struct batch	*b = arg;
	int		 error = RO_OK;

	(void)room;
	if (b->drop_converged && line_is(line, len, "outcome", "converged",
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

static void
batch_done(void *arg, const struct ro_job *job,
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

static void
batch_wait(struct batch *b)
{
	pthread_mutex_lock(&b->mu);
	while (b->pending > 0)
		pthread_cond_wait(&b->cv, &b->mu);
	pthread_mutex_unlock(&b->mu);
}

/* An audit record that is not a reconcile (rejected, superseded, ...). */
static int
batch_record(struct ro_gitsrc *g, struct batch *b, const git_oid *commit,
    const char *room, const char *outcome, const struct ro_strv *errors,
    struct ro_err *err)
{
	struct ro_reconcile_opts	o = g->o.audit;
	char				rev[GITSRC_OID_HEX];

	git_oid_tostr(rev, sizeof(rev), commit);
	o.source = "git";
	o.rev = rev;
	o.cid = NULL;
	o.sink = batch_sink;
	o.sink_arg = b;
	o.signer = g->signer[0] != '\0' ? g->signer : NULL;
	if (strcmp(outcome, "rejected") == 0)
		b->failed = g->rejected = true;
	return ro_reconcile_audit_only(&o, room, outcome, errors, err);
}

#define GITSRC_SIG_PREFIX	"signature: "	/* errors[0] of the records of
						   an unverified commit */

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
static int
batch_recover(struct ro_gitsrc *g, struct batch *b, const git_oid *commit,
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

static int
write_notes(struct ro_gitsrc *g, struct batch *b, const git_oid *commit,
    struct ro_err *err)
{
	/* one notes commit for all the records of the commit */
	return ro_notes_append_lines(ro_gitrepo_git(g->repo), commit,
	    (const char *const *)b->lines.v, b->lines.n, err);
}

/* The final commit status: the commit's note holds every record of
 * it (this pass's and earlier ones'); b's lines if it cannot be read. */
static void
notify_final(struct ro_gitsrc *g, struct batch *b, const git_oid *commit)
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

static void
notify_pending(struct ro_gitsrc *g, const git_oid *commit)
{
	char	rev[GITSRC_OID_HEX];

	if (g->o.notify == NULL)
		return;
	git_oid_tostr(rev, sizeof(rev), commit);
	ro_notify_pending(g->o.notify, rev);
}

static int
save_cursor(struct ro_gitsrc *g, const git_oid *commit, struct ro_err *err)
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

static void
load_cursor(struct ro_gitsrc *g)
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

/* --- one spec file at one commit ----------------------------------- */

static int	ensure_index(struct ro_gitsrc *, const git_oid *,
		    struct ro_err *);

struct pass {
	struct ro_gitsrc	*g;
	struct batch		*b;
	const git_oid		*commit;
	const git_oid		*prev;		/* for deleted specs, or NULL */
	struct ro_strv		 confirms;	/* Roomops-Confirm trailers */
	size_t			 planned;	/* rooms queued (this shard's) */
};

static int
queue_spec(struct pass *p, struct ro_spec *spec, struct ro_err *err)
{
	struct ro_gitsrc	*g = p->g;
	struct ro_job		*job;
	char			 rev[GITSRC_OID_HEX];

	git_oid_tostr(rev, sizeof(rev), p->commit);
	if ((job = ro_job_new(spec, "git", rev, NULL)) == NULL)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	job->coalesce = false;
	job->confirm = ro_strv_contains(&p->confirms, job->room_id) ||
	    ro_strv_contains(&p->confirms, RO_HISTORY_CONFIRM_ALL);
	job->detected_ms = g->detected_ms;
	job->sink = batch_sink;
	job->sink_arg = p->b;
	if (g->signer[0] != '\0' && (job->signer = strdup(g->signer)) == NULL) {
		ro_job_free(job);
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	}
	job->done = batch_done;
	job->done_arg = p->b;
	ro_rooms_add(g->o.rooms, job->room_id, job->spec->path);
	pthread_mutex_lock(&p->b->mu);
	while (p->b->pending >= GITSRC_INFLIGHT_MAX)
		pthread_cond_wait(&p->b->cv, &p->b->mu);  /* workers catch up */
	p->b->pending++;
	pthread_mutex_unlock(&p->b->mu);
	if (ro_workq_push(g->o.q, job, err) < 0) {
		pthread_mutex_lock(&p->b->mu);
		p->b->pending--;
		p->b->dropped = true;
		pthread_mutex_unlock(&p->b->mu);
		return err != NULL ? err->code : RO_EAGAIN;
	}
	p->planned++;
	return RO_OK;
}

static int
handle_deleted(struct pass *p, const char *path, struct ro_err *err)
{
	struct ro_gitsrc	*g = p->g;
	struct ro_specidx_ent	*si, *other;
	struct ro_spec		*spec;
	struct ro_strv		 why = RO_STRV_INIT;
	int			 error = RO_OK;

	if ((error = ensure_index(g, p->prev, err)) < 0)
		return error;
	if ((si = idx_find_path(g, path)) == NULL) {
		log_info("%s: deleted; its room is not known here", path);
		return RO_OK;
	}
	if (!ro_shard_owns(&g->o.shard, si->room_id) ||
	    ro_strv_contains(&p->b->done_rooms, si->room_id))
		goto forget;	/* not ours, or done before a crash */
	if ((other = idx_find_live_room(g, si->room_id, path,
	    p->commit)) != NULL) {
		log_info("room %s: spec %s deleted; the room is declared by %s "
		    "now, not pruned", si->room_id, path, other->path);
		goto forget;
	}
	if (!g->o.prune && !si->prune) {
		log_info("room %s: spec %s deleted; pruning is off, the room "
		    "is left as it is", si->room_id, path);
		goto forget;
	}
	if ((spec = calloc(1, sizeof(*spec))) == NULL ||
	    (spec->room_id = strdup(si->room_id)) == NULL ||
	    (spec->path = strdup(path)) == NULL ||
	    ro_policies_default(&spec->policies) < 0) {
		ro_spec_free(spec);
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	}
	spec->prune = true;
	spec->version = 1;
	log_info("room %s: spec %s deleted, pruning", si->room_id, path);
	error = queue_spec(p, spec, err);
forget:
	ro_strv_release(&why);
	ro_specidx_remove(&g->idx, path);
	return error;
}

/*
 * Did path declare room at commit? A spec modified without changing its
 * room cannot make a new duplicate, so the index is not needed for it.
 */
static bool
same_room_at(struct ro_gitsrc *g, const git_oid *commit, const char *path,
    const char *room)
{
	struct ro_buf	 blob = RO_BUF_INIT;
	struct ro_diag	 diag = RO_DIAG_INIT;
	struct ro_spec	*spec = NULL;
	bool		 same;

	ro_buf_init(&blob, RO_SPEC_FILE_MAX + 1);
	same = ro_history_read(ro_gitrepo_git(g->repo), commit, path,
	    RO_SPEC_FILE_MAX, &blob, NULL) == RO_OK &&
	    ro_spec_parse_yaml(&spec, path, ro_buf_cstr(&blob), blob.len,
	    &diag, NULL) == RO_OK && strcmp(spec->room_id, room) == 0;
	ro_spec_free(spec);
	ro_diag_release(&diag);
	ro_buf_release(&blob);
	return same;
}

/* spec.roomId as the YAML of an invalid spec names it (malloc'd), or
 * NULL (no YAML, or no well-formed roomId). */
static char *
declared_room(const char *path, const struct ro_buf *blob)
{
	struct ro_node		 root = RO_NODE_INIT;
	struct ro_diag		 diag = RO_DIAG_INIT;
	const struct ro_node	*k, *v, *spec = NULL;
	char			*room = NULL;
	size_t			 i;

	if (blob->len == 0 || ro_yaml_parse(&root, path, blob->ptr, blob->len,
	    RO_SPEC_DEPTH_MAX, &diag) != RO_OK || root.type != RO_NODE_MAP)
		goto done;
	for (i = 0; i < ro_node_map_size(&root); i++) {
		k = ro_node_map_key(&root, i);
		if (k->type == RO_NODE_STR && strcmp(k->str, "spec") == 0)
			spec = ro_node_map_value(&root, i);
	}
	if (spec == NULL || spec->type != RO_NODE_MAP)
		goto done;
	for (i = 0; i < ro_node_map_size(spec) && room == NULL; i++) {
		k = ro_node_map_key(spec, i);
		v = ro_node_map_value(spec, i);
		if (k->type == RO_NODE_STR && strcmp(k->str, "roomId") == 0 &&
		    v->type == RO_NODE_STR && ro_spec_valid_room_id(v->str))
			room = strdup(v->str);
	}
done:
	ro_node_release(&root);
	ro_diag_release(&diag);
	return room;
}

static int
handle_spec(struct pass *p, const char *path, struct ro_err *err)
{
	struct ro_gitsrc	*g = p->g;
	git_repository		*repo = ro_gitrepo_git(g->repo);
	struct ro_history_source src;
	struct ro_diag		 diag = RO_DIAG_INIT;
	struct ro_buf		 blob = RO_BUF_INIT;
	struct ro_spec		*spec = NULL;
	struct ro_specidx_ent	*si, *other;
	char			 dir[PATH_MAX], *declared = NULL;
	const char		*room;
	int			 error;

	ro_buf_init(&blob, RO_SPEC_FILE_MAX + 1);
	error = ro_history_read(repo, p->commit, path, RO_SPEC_FILE_MAX, &blob,
	    err);
	if (error == RO_ENOTFOUND) {
		error = handle_deleted(p, path, err);
		goto done;
	}
	if (error == RO_OK)
		error = ro_spec_parse_yaml(&spec, path, ro_buf_cstr(&blob),
		    blob.len, &diag, err);
	else
		ro_diag_error(&diag, path, 0, 0, NULL, "%s", err->msg);
	if (error == RO_ENOMEM)
		goto done;
	if (error == RO_OK) {
		spec_dir(g, path, dir, sizeof(dir));
		src.repo = repo;
		src.commit = *p->commit;
		src.root = g->o.path;
		error = ro_seed_resolve(spec, dir, ro_history_seed_reader, &src,
		    &diag, err);
		if (error == RO_ENOMEM)
			goto done;
	}
	/* the duplicate check and the room of a rejected spec need the
	 * index: after a restart it is built once, at the previous commit */
	if (!g->idx_built && p->prev != NULL && (spec == NULL ||
	    !same_room_at(g, p->prev, path, spec->room_id))) {
		struct ro_err	ie = RO_ERR_INIT;
		int		rc;

		if ((rc = ensure_index(g, p->prev, &ie)) < 0) {
			error = ro_err_set(err, rc, "%s", ie.msg);
			goto done;
		}
	}
	if (error == RO_OK && (other = idx_find_live_room(g, spec->room_id,
	    path, p->commit)) != NULL) {
		ro_diag_error(&diag, path, 0, 0, "spec.roomId", "room %s is "
		    "also declared by %s; the room is left as it is",
		    spec->room_id, other->path);
		error = RO_EINVALID;
	}
	if (error < 0) {
		/* rejected: nothing is removed; other rooms go on. Its
		 * room: the spec's, else the one the index knows for the
		 * file, else the roomId the YAML names (e.g. an invalid
		 * spec after a restart, its previous version invalid too) */
		si = idx_find_path(g, path);
		if (spec == NULL && si == NULL)
			declared = declared_room(path, &blob);
		room = spec != NULL ? spec->room_id : si != NULL ? si->room_id :
		    declared;
		if (room != NULL && !ro_shard_owns(&g->o.shard, room))
			goto ok;
		log_warnx("%s: rejected: %s", path, diag.errors.n > 0 ?
		    diag.errors.v[0] : err->msg);
		if (room != NULL)
			ro_rooms_rejected(g->o.rooms, room, NULL, &diag.errors);
		if (room != NULL && ro_strv_contains(&p->b->done_rooms, room))
			goto ok;
		error = batch_record(g, p->b, p->commit, room, "rejected",
		    &diag.errors, err);
		goto done;
	}
	if ((error = idx_put(g, path, spec)) < 0) {
		ro_err_set(err, error, "out of memory");
		goto done;
	}
	if (!ro_shard_owns(&g->o.shard, spec->room_id) ||
	    ro_strv_contains(&p->b->done_rooms, spec->room_id))
		goto ok;
	error = queue_spec(p, spec, err);
	spec = NULL;
	goto done;
ok:
	error = RO_OK;
done:
	free(declared);
	ro_spec_free(spec);
	ro_diag_release(&diag);
	ro_buf_release(&blob);
	return error;
}

/* Specs whose seeds include path, added to out. */
static int
seed_users(struct ro_gitsrc *g, const char *path, struct ro_strv *out)
{
	const struct ro_strv	*readers = ro_specidx_seed(&g->idx, path);
	size_t			 i;
	int			 error;

	for (i = 0; readers != NULL && i < readers->n; i++)
		if (!ro_strv_contains(out, readers->v[i]) &&
		    (error = ro_strv_push(out, readers->v[i])) < 0)
			return error;
	return RO_OK;
}

/* Every spec at commit into the index (after a restart). */
static int
build_index(struct ro_gitsrc *g, const git_oid *commit, struct ro_err *err)
{
	git_repository	*repo = ro_gitrepo_git(g->repo);
	struct ro_strv	 specs = RO_STRV_INIT;
	struct ro_buf	 blob = RO_BUF_INIT;
	struct ro_diag	 diag = RO_DIAG_INIT;
	struct ro_spec	*spec;
	size_t		 i;
	int		 error;

	g->idx_built = true;
	if ((error = ro_history_list_specs(repo, commit, g->o.path, &specs,
	    err)) < 0)
		goto done;
	ro_buf_init(&blob, RO_SPEC_FILE_MAX + 1);
	for (i = 0; i < specs.n; i++) {
		if (idx_find_path(g, specs.v[i]) != NULL)
			continue;	/* newer: put by the commit in hand */
		ro_buf_reset(&blob);
		spec = NULL;
		if (ro_history_read(repo, commit, specs.v[i], RO_SPEC_FILE_MAX,
		    &blob, NULL) == RO_OK && ro_spec_parse_yaml(&spec,
		    specs.v[i], ro_buf_cstr(&blob), blob.len, &diag,
		    NULL) == RO_OK && idx_put(g, specs.v[i], spec) < 0)
			error = ro_err_set(err, RO_ENOMEM, "out of memory");
		ro_spec_free(spec);
		ro_diag_release(&diag);
		if (error < 0)
			break;
	}
done:
	ro_strv_release(&specs);
	ro_buf_release(&blob);
	return error;
}

/*
 * Order paths with the specs present at commit first and the deleted
 * ones last: a spec moved to another file is seen at its new path
 * before its old path is taken as a deleted room.
 */
static int
deleted_last(struct ro_gitsrc *g, const git_oid *commit, struct ro_strv *paths)
{
	struct ro_strv	ord = RO_STRV_INIT, gone = RO_STRV_INIT;
	size_t		i;
	int		error = RO_OK;

	for (i = 0; i < paths->n && error == RO_OK; i++)
		error = ro_strv_push(path_at(g, commit, paths->v[i]) ? &ord :
		    &gone, paths->v[i]);
	for (i = 0; i < gone.n && error == RO_OK; i++)
		error = ro_strv_push(&ord, gone.v[i]);
	if (error == RO_OK) {
		ro_strv_release(paths);
		*paths = ord;
		ord = (struct ro_strv)RO_STRV_INIT;
	}
	ro_strv_release(&ord);
	ro_strv_release(&gone);
	return error;
}

/*
 * The index as of commit (the last one processed), built once after a
 * start: deleted specs, seed files, duplicate rooms and the room of a
 * spec that no longer parses are looked up in it.
 */
static int
ensure_index(struct ro_gitsrc *g, const git_oid *commit, struct ro_err *err)
{
	if (g->idx_built || commit == NULL)
		return RO_OK;
	return build_index(g, commit, err);
}

/*
 * Reconcile the rooms of paths (spec or seed files, from the repository
 * root) at commit, wait for them, write the note, advance the cursor.
 */
static int
process(struct ro_gitsrc *g, const git_oid *commit, const git_oid *prev,
    const struct ro_strv *paths, bool full, bool resync, struct ro_err *err)
{
	git_repository	*repo = ro_gitrepo_git(g->repo);
	struct batch	 b;
	struct pass	 p;
	struct ro_strv	 todo = RO_STRV_INIT;
	char		 rev[GITSRC_OID_HEX];
	size_t		 i;
	int		 error = RO_OK;

	batch_init(&b);
	b.drop_converged = resync;
	memset(&p, 0, sizeof(p));
	p.g = g;
	p.b = &b;
	p.commit = commit;
	p.prev = prev;
	git_oid_tostr(rev, sizeof(rev), commit);
	/* a resync is a drift check of every room at the head: the records
	 * the head's note already has must not exempt its rooms (recovery
	 * after a crash is for catching up only) */
	if ((error = ro_history_confirms(repo, commit, &p.confirms, err)) < 0 ||
	    (!resync && (error = batch_recover(g, &b, commit, err)) < 0))
		goto done;
	for (i = 0; i < paths->n; i++) {
		if (ro_specset_is_spec_name(paths->v[i])) {
			if (!ro_strv_contains(&todo, paths->v[i]) &&
			    (error = ro_strv_push(&todo, paths->v[i])) < 0)
				goto oom;
			continue;
		}
		if (!full && (error = ensure_index(g, prev != NULL ? prev :
		    commit, err)) < 0)
			goto done;
		if ((error = seed_users(g, paths->v[i], &todo)) < 0)
			goto oom;
	}
	if (!full && (error = deleted_last(g, commit, &todo)) < 0)
		goto oom;
	for (i = 0; i < todo.n && !stopping(g); i++)
		if ((error = handle_spec(&p, todo.v[i], err)) < 0) {
			if (error == RO_ENOMEM || error == RO_EAGAIN ||
			    error == RO_EIO)
				break;
			log_warnx("%s: %s", todo.v[i], err->msg);
			error = RO_OK;
		}
	batch_wait(&b);
	if (b.lines.n > 0) {
		struct ro_err ne = RO_ERR_INIT;

		if (write_notes(g, &b, commit, &ne) < 0) {
			log_warnx("note of %.12s: %s", rev, ne.msg);
			set_error(g, ne.msg);
		}
	}
	if (error < 0)
		goto done;
	if (b.dropped || stopping(g)) {
		error = ro_err_set(err, RO_EAGAIN, "stopped before %.12s was "
		    "complete", rev);
		goto done;
	}
	if (!resync)
		notify_final(g, &b, commit);
	if (full)
		g->idx_built = true;
	if (b.retry) {
		error = ro_err_set(err, RO_EAGAIN, "commit %.12s: some rooms "
		    "could not be reconciled; retrying on the next pass", rev);
		goto done;
	}
	log_info("commit %.12s: %zu room%s planned (%zu spec%s to look at)%s",
	    rev, p.planned, p.planned == 1 ? "" : "s", todo.n, todo.n == 1 ?
	    "" : "s", b.failed ? ", not all converged" : "");
	error = save_cursor(g, commit, err);
	goto done;
oom:
	error = ro_err_set(err, RO_ENOMEM, "out of memory");
done:
	ro_strv_release(&todo);
	ro_strv_release(&p.confirms);
	batch_release(&b);
	return error;
}

static int	gate(struct ro_gitsrc *, const git_oid *,
		    const struct ro_strv *, bool *, struct ro_err *);

static int
process_full(struct ro_gitsrc *g, const git_oid *head, bool resync,
    struct ro_err *err)
{
	struct ro_strv	specs = RO_STRV_INIT;
	bool		ok = true;
	int		error;

	if (!resync)
		notify_pending(g, head);
	if ((error = ro_history_list_specs(ro_gitrepo_git(g->repo), head,
	    g->o.path, &specs, err)) == RO_OK &&
	    (error = gate(g, head, &specs, &ok, err)) == RO_OK && ok)
		error = process(g, head, NULL, &specs, true, resync, err);
	ro_strv_release(&specs);
	return error;
}

static int
changed_paths(struct ro_gitsrc *g, const git_oid *commit, struct ro_strv *out,
    struct ro_err *err)
{
	struct ro_history_changes c = RO_HISTORY_CHANGES_INIT;
	size_t		i;
	int		error;

	if ((error = ro_history_changes(ro_gitrepo_git(g->repo), commit,
	    g->o.path, &c, err)) < 0)
		goto done;
	for (i = 0; i < c.n; i++)
		if (!ro_strv_contains(out, c.v[i].path) &&
		    (error = ro_strv_push(out, c.v[i].path)) < 0) {
			ro_err_set(err, error, "out of memory");
			break;
		}
done:
	ro_history_changes_release(&c);
	return error;
}

/* Superseded records for the rooms an intermediate commit changed. */
static int
supersede(struct ro_gitsrc *g, const git_oid *commit, struct ro_err *err)
{
	git_repository	*repo = ro_gitrepo_git(g->repo);
	struct ro_strv	 paths = RO_STRV_INIT;
	struct ro_buf	 blob = RO_BUF_INIT;
	struct ro_diag	 diag = RO_DIAG_INIT;
	struct ro_spec	*spec;
	struct ro_specidx_ent	*si;
	struct batch	 b;
	const char	*room;
	size_t		 i;
	int		 error;

	batch_init(&b);
	ro_buf_init(&blob, RO_SPEC_FILE_MAX + 1);
	if ((error = ro_notes_read(repo, RO_NOTES_REF, commit, &b.lines,
	    err)) < 0 && error != RO_ENOTFOUND)
		goto done;
	for (i = 0; i < b.lines.n; i++)
		if (line_is(b.lines.v[i], strlen(b.lines.v[i]), "outcome",
		    "superseded", "shard", g->shard_str))
			goto done;	/* done before a restart */
	ro_strv_release(&b.lines);
	if ((error = changed_paths(g, commit, &paths, err)) < 0)
		goto done;
	for (i = 0; i < paths.n && error == RO_OK; i++) {
		if (!ro_specset_is_spec_name(paths.v[i]))
			continue;
		spec = NULL;
		ro_buf_reset(&blob);
		if (ro_history_read(repo, commit, paths.v[i], RO_SPEC_FILE_MAX,
		    &blob, NULL) == RO_OK)
			(void)ro_spec_parse_yaml(&spec, paths.v[i],
			    ro_buf_cstr(&blob), blob.len, &diag, NULL);
		if (spec == NULL && g->have_cursor &&
		    (error = ensure_index(g, &g->cursor, err)) < 0) {
			ro_diag_release(&diag);
			break;
		}
		si = idx_find_path(g, paths.v[i]);
		room = spec != NULL ? spec->room_id : si != NULL ? si->room_id :
		    NULL;
		if (room == NULL || ro_shard_owns(&g->o.shard, room))
			error = batch_record(g, &b, commit, room, "superseded",
			    NULL, err);
		ro_spec_free(spec);
		ro_diag_release(&diag);
	}
	if (error == RO_OK && b.lines.n > 0)
		error = write_notes(g, &b, commit, err);
	if (error == RO_OK)
		notify_final(g, &b, commit);
done:
	ro_strv_release(&paths);
	ro_buf_release(&blob);
	batch_release(&b);
	return error;
}

/* --- signed commits (--verify-signatures, docs/security.md) ------- */

/* The rooms of this shard whose spec or seed files are in paths, as the
 * commit (or, for deleted and invalid specs, the index) names them. */
static int
touched_rooms(struct ro_gitsrc *g, const git_oid *commit,
    const struct ro_strv *paths, struct ro_strv *rooms, struct ro_err *err)
{
	struct ro_strv	 specs = RO_STRV_INIT;
	struct ro_buf	 blob = RO_BUF_INIT;
	struct ro_specidx_ent	*si;
	char		*room;
	size_t		 i;
	int		 error = RO_OK;

	if (g->have_cursor && (error = ensure_index(g, &g->cursor, err)) < 0)
		return error;
	ro_buf_init(&blob, RO_SPEC_FILE_MAX + 1);
	for (i = 0; i < paths->n && error == RO_OK; i++)
		if (!ro_specset_is_spec_name(paths->v[i]))
			error = seed_users(g, paths->v[i], &specs);
		else if (!ro_strv_contains(&specs, paths->v[i]))
			error = ro_strv_push(&specs, paths->v[i]);
	for (i = 0; i < specs.n && error == RO_OK; i++) {
		ro_buf_reset(&blob);
		room = NULL;
		if (ro_history_read(ro_gitrepo_git(g->repo), commit, specs.v[i],
		    RO_SPEC_FILE_MAX, &blob, NULL) == RO_OK)
			room = declared_room(specs.v[i], &blob);
		if (room == NULL && (si = idx_find_path(g, specs.v[i])) != NULL &&
		    (room = strdup(si->room_id)) == NULL)
			error = RO_ENOMEM;
		if (room != NULL && ro_shard_owns(&g->o.shard, room) &&
		    !ro_strv_contains(rooms, room))
			error = ro_strv_push(rooms, room);
		free(room);
	}
	if (error < 0)
		ro_err_set(err, error, "out of memory");
	ro_strv_release(&specs);
	ro_buf_release(&blob);
	return error;
}

/*
 * May commit be applied? Verified: *ok, and g->signer names the signer
 * for its records. Not: "rejected" records for the rooms paths touch
 * (once per commit and shard: the commit stays pending, and is checked
 * again on every pass, until a verified commit comes after it).
 */
static int
gate(struct ro_gitsrc *g, const git_oid *commit, const struct ro_strv *paths,
    bool *ok, struct ro_err *err)
{
	git_repository	*repo = ro_gitrepo_git(g->repo);
	struct ro_sigverify_result res;
	struct ro_strv	 rooms = RO_STRV_INIT, why = RO_STRV_INIT;
	struct ro_strv	 note = RO_STRV_INIT;
	struct batch	 b;
	char		 rev[GITSRC_OID_HEX], mine[RO_SHARD_STR_MAX + 16];
	size_t		 i;
	int		 error;

	*ok = true;
	g->signer[0] = '\0';
	if (g->o.verify == NULL)
		return RO_OK;
	git_oid_tostr(rev, sizeof(rev), commit);
	if ((error = ro_sigverify_commit(g->o.verify, repo, commit, &res,
	    err)) < 0)
		return error;
	if (res.verified) {
		snprintf(g->signer, sizeof(g->signer), "%s", res.signer);
		log_info("commit %.12s: signed by %s", rev, res.signer);
		return RO_OK;
	}
	*ok = false;
	batch_init(&b);
	snprintf(mine, sizeof(mine), "\"shard\":\"%s\"", g->shard_str);
	if ((error = ro_notes_read(repo, RO_NOTES_REF, commit, &note,
	    err)) < 0 && error != RO_ENOTFOUND)
		goto done;
	error = RO_OK;
	for (i = 0; i < note.n; i++)
		if (strstr(note.v[i], "\"outcome\":\"rejected\"") != NULL &&
		    strstr(note.v[i], mine) != NULL &&
		    strstr(note.v[i], "\"" GITSRC_SIG_PREFIX) != NULL)
			goto done;	/* said before */
	log_warnx("commit %.12s rejected: %s", rev, res.reason);
	if ((error = ro_strv_pushf(&why, GITSRC_SIG_PREFIX "%s",
	    res.reason)) < 0) {
		ro_err_set(err, error, "out of memory");
		goto done;
	}
	if ((error = touched_rooms(g, commit, paths, &rooms, err)) < 0)
		goto done;
	if (rooms.n == 0)
		error = batch_record(g, &b, commit, NULL, "rejected", &why, err);
	for (i = 0; i < rooms.n && error == RO_OK; i++) {
		ro_rooms_rejected(g->o.rooms, rooms.v[i], rev, &why);
		error = batch_record(g, &b, commit, rooms.v[i], "rejected", &why,
		    err);
	}
	if (error == RO_OK && b.lines.n > 0)
		error = write_notes(g, &b, commit, err);
done:
	batch_release(&b);
	ro_strv_release(&note);
	ro_strv_release(&why);
	ro_strv_release(&rooms);
	return error;
}

/* gate() for the whole tree of commit (first start, rewritten history). */
static int
gate_full(struct ro_gitsrc *g, const git_oid *commit, bool *ok,
    struct ro_err *err)
{
	struct ro_strv	specs = RO_STRV_INIT;
	int		error;

	*ok = true;
	if (g->o.verify == NULL)
		return RO_OK;
	if ((error = ro_history_list_specs(ro_gitrepo_git(g->repo), commit,
	    g->o.path, &specs, err)) == RO_OK)
		error = gate(g, commit, &specs, ok, err);
	ro_strv_release(&specs);
	return error;
}

/* The changed paths of commit (in own) added to the pending ones. */
static int
add_changed(struct ro_gitsrc *g, const git_oid *commit, struct ro_strv *own,
    struct ro_strv *pending, struct ro_err *err)
{
	size_t	i;
	int	error = RO_OK;

	ro_strv_release(own);
	if ((error = changed_paths(g, commit, own, err)) < 0)
		return error;
	for (i = 0; i < own->n && error == RO_OK; i++)
		if (!ro_strv_contains(pending, own->v[i]))
			error = ro_strv_push(pending, own->v[i]);
	if (error < 0)
		ro_err_set(err, error, "out of memory");
	return error;
}

/* Walk cursor..head and process what is new. */
static int
catch_up(struct ro_gitsrc *g, const git_oid *head, struct ro_err *err)
{
	git_repository	*repo = ro_gitrepo_git(g->repo);
	struct ro_history h = RO_HISTORY_INIT;
	struct ro_strv	 paths = RO_STRV_INIT, own = RO_STRV_INIT;
	struct batch	 b;
	unsigned	 k = g->o.max_pending != 0 ? g->o.max_pending :
			    RO_GITSRC_MAX_PENDING;
	git_oid		 prev;
	bool		 rewritten = false, *ok = NULL;
	size_t		 i, last = 0;
	int		 error;

	if (g->o.verify != NULL && g->stuck &&
	    git_oid_equal(&g->stuck_head, head) &&
	    git_oid_equal(&g->stuck_cursor, &g->cursor) &&
	    g->stuck_gen == ro_sigverify_generation(g->o.verify))
		return RO_OK;
	if (!g->have_cursor)
		return process_full(g, head, false, err);
	if (git_oid_equal(&g->cursor, head))
		return RO_OK;
	if ((error = ro_history_rewritten(repo, &g->cursor, head, &rewritten,
	    err)) < 0)
		return error;
	if (rewritten) {
		char	old[GITSRC_OID_HEX];
		bool	fine;

		/* a force push to unverified history: rejected the same
		 * way, the rooms keep the last verified state */
		if ((error = gate_full(g, head, &fine, err)) < 0 || !fine)
			return error;
		git_oid_tostr(old, sizeof(old), &g->cursor);
		log_warnx("history rewritten: %.12s is no longer an ancestor of "
		    "the branch head; reconciling the new head", old);
		batch_init(&b);
		if ((error = ro_strv_pushf(&paths, "previous head %s is not an "
		    "ancestor of the new head", old)) == RO_OK &&
		    (error = batch_record(g, &b, head, NULL,
		    "history-rewritten", &paths, err)) == RO_OK)
			error = write_notes(g, &b, head, err);
		batch_release(&b);
		ro_strv_release(&paths);
		if (error < 0)
			return error;
		return process_full(g, head, false, err);
	}
	if ((error = ro_history_range(repo, &g->cursor, head, 100000, &h,
	    err)) < 0)
		goto done;
	for (i = 0; i < h.n; i++)
		notify_pending(g, &h.ids[i]);
	prev = g->cursor;
	if (h.n > k) {
		/* the newest verified commit is applied; the verified ones
		 * before it are superseded, the others rejected (gate) */
		if ((ok = calloc(h.n, sizeof(*ok))) == NULL) {
			error = ro_err_set(err, RO_ENOMEM, "out of memory");
			goto done;
		}
		for (i = 0; i < h.n && !stopping(g); i++) {
			ok[i] = true;
			if (g->o.verify != NULL && ((error = add_changed(g,
			    &h.ids[i], &own, &paths, err)) < 0 ||
			    (error = gate(g, &h.ids[i], &own, &ok[i], err)) < 0))
				goto done;
			if (ok[i])
				last = i + 1;
		}
		if (last == 0 || stopping(g))
			goto done;
		log_info("%zu commits pending (more than %u): %zu superseded",
		    h.n, k, last - 1);
		ro_strv_release(&paths);
		g->signer[0] = '\0';	/* superseded: not applied */
		for (i = 0; i < last && !stopping(g); i++) {
			if ((i + 1 < last && ok[i] &&
			    (error = supersede(g, &h.ids[i], err)) < 0) ||
			    (error = add_changed(g, &h.ids[i], &own, &paths,
			    err)) < 0)
				goto done;
		}
		/* the newest verified: gate() again for its signer */
		if ((error = gate(g, &h.ids[last - 1], &own, &ok[last - 1],
		    err)) < 0 || !ok[last - 1])
			goto done;
		error = process(g, &h.ids[last - 1], &prev, &paths, false,
		    false, err);
		goto done;
	}
	for (i = 0; i < h.n && !stopping(g); i++) {
		bool	verified;

		/* paths pile up over rejected commits: the next verified
		 * one applies the whole difference from the last applied */
		if ((error = add_changed(g, &h.ids[i], &own, &paths, err)) < 0 ||
		    (error = gate(g, &h.ids[i], &own, &verified, err)) < 0)
			goto done;
		if (!verified)
			continue;
		if ((error = process(g, &h.ids[i], &prev, &paths, false, false,
		    err)) < 0)
			goto done;
		prev = h.ids[i];
		ro_strv_release(&paths);
	}
done:
	g->signer[0] = '\0';
	free(ok);
	ro_strv_release(&own);
	ro_strv_release(&paths);
	ro_history_release(&h);
	return error;
}

/* One pass: check the remote, fetch, catch up, push notes. */
static int
pass(struct ro_gitsrc *g, bool resync, bool fetch_now, struct ro_err *err)
{
	struct ro_gitrepo_remote	 rem;
	struct ro_gitrepo_fetch_result	 fr;
	struct ro_notes_push_result	 pr;
	struct ro_notes_merge_result	 mr;
	struct ro_err			 me = RO_ERR_INIT;
	git_oid				 head;
	long long			 t0 = ro_now_ms();
	char				 hex[GITSRC_OID_HEX];
	int				 error;

	memset(&fr, 0, sizeof(fr));
	memset(&rem, 0, sizeof(rem));
	/* a webhook already said the branch moved: the head check would
	 * cost a connection for nothing, so fetch at once */
	if (!fetch_now) {
		if ((error = ro_gitrepo_remote_head(g->repo, &rem, err)) < 0)
			return error;
		ro_metrics_observe(g->o.metrics, RO_M_POLL_DURATION,
		    (ro_now_ms() - t0) / 1000.0);
	}
	if (fetch_now || rem.moved || !rem.local_present) {
		g->detected_ms = ro_now_ms();
		if ((error = ro_gitrepo_fetch(g->repo, RO_GITREPO_FETCH_BRANCH |
		    RO_GITREPO_FETCH_NOTES, &fr, err)) < 0)
			return error;
		ro_metrics_add(g->o.metrics, RO_M_FETCH_BYTES,
		    fr.received_bytes);
		pthread_mutex_lock(&g->mu);
		ro_now_iso(g->last_fetch);
		pthread_mutex_unlock(&g->mu);
		log_info("fetched %zu bytes in %llu ms", fr.received_bytes,
		    (unsigned long long)fr.duration_ms);
	}
	/* The notes origin holds (as fetched or cloned) into ours first:
	 * records written before a lost state dir, or by other shards,
	 * settle their rooms (batch_recover) instead of being redone. */
	if ((error = ro_notes_merge(ro_gitrepo_git(g->repo), NULL, &mr,
	    &me)) < 0)
		log_warnx("notes from origin not merged: %s", me.msg);
	else if (mr.changed)
		log_debug("notes from origin merged (%s)", mr.merged ?
		    "union" : "fast-forward");
	if ((error = ro_gitrepo_head(g->repo, &head, err)) < 0)
		return error;
	git_oid_tostr(hex, sizeof(hex), &head);
	pthread_mutex_lock(&g->mu);
	memcpy(g->head, hex, sizeof(g->head));
	pthread_mutex_unlock(&g->mu);
	if ((error = catch_up(g, &head, err)) < 0)
		return error;
	/* --once fails while the head is not applied for want of a
	 * verified signature (rejected now or in an earlier run) */
	g->stuck = false;
	if (g->o.verify != NULL && (!g->have_cursor ||
	    !git_oid_equal(&g->cursor, &head)) && !stopping(g)) {
		g->rejected = g->stuck = true;
		g->stuck_head = head;
		if (g->have_cursor)
			g->stuck_cursor = g->cursor;
		g->stuck_gen = ro_sigverify_generation(g->o.verify);
	}
	/* with signed commits, the drift check is at the last applied
	 * (verified) commit, never at an unverified head */
	if (resync && (g->o.verify == NULL || g->have_cursor) &&
	    (error = process_full(g, g->o.verify != NULL ? &g->cursor : &head,
	    true, err)) < 0)
		return error;
	if (g->o.push_notes && (error = ro_notes_push(g->repo, 0, &pr,
	    err)) < 0)
		return error;
	return RO_OK;
}

/* Serve one dashboard read at the cursor (Git thread). */
static void
serve_read(struct ro_gitsrc *g, struct gitread *rd)
{
	struct ro_history_source src;
	struct ro_err		 err = RO_ERR_INIT;
	struct ro_diag		 diag = RO_DIAG_INIT;
	struct ro_buf		 blob = RO_BUF_INIT;
	struct ro_spec		*spec = NULL;
	char			 dir[PATH_MAX], rev[GITSRC_OID_HEX] = "";
	int			 error;

	if (g->repo == NULL || !g->have_cursor) {
		error = ro_err_set(&err, RO_ENOTFOUND, "the Git source has "
		    "not processed a commit yet");
		goto done;
	}
	git_oid_tostr(rev, sizeof(rev), &g->cursor);
	ro_buf_init(&blob, RO_SPEC_FILE_MAX + 1);
	if ((error = ro_history_read(ro_gitrepo_git(g->repo), &g->cursor,
	    rd->path, RO_SPEC_FILE_MAX, &blob, &err)) < 0 || !rd->parse)
		goto done;
	error = ro_spec_parse_yaml(&spec, rd->path, ro_buf_cstr(&blob),
	    blob.len, &diag, &err);
	if (error == RO_OK) {
		spec_dir(g, rd->path, dir, sizeof(dir));
		src.repo = ro_gitrepo_git(g->repo);
		src.commit = g->cursor;
		src.root = g->o.path;
		error = ro_seed_resolve(spec, dir, ro_history_seed_reader, &src,
		    &diag, &err);
	}
	if (error == RO_EINVALID && diag.errors.n > 0)
		ro_err_set(&err, RO_EINVALID, "%s", diag.errors.v[0]);
done:
	rd->cb(rd->arg, error, &err, rev, error == RO_OK ? &blob : NULL,
	    error == RO_OK ? spec : NULL);
	if (error != RO_OK)
		ro_spec_free(spec);
	ro_diag_release(&diag);
	ro_buf_release(&blob);
	free(rd->path);
}

int
ro_gitsrc_read_spec(struct ro_gitsrc *g, const char *path, bool parse,
    ro_gitsrc_read_cb *cb, void *arg, struct ro_err *err)
{
	struct gitread	*rd;
	int		 error = RO_OK;

	pthread_mutex_lock(&g->mu);
	if (g->stop)
		error = ro_err_set(err, RO_EAGAIN, "the agent is shutting down");
	else if (g->nreads == RO_GITSRC_READS_MAX)
		error = ro_err_set(err, RO_EAGAIN, "too many reads of the Git "
		    "source at once");
	else {
		rd = &g->reads[g->nreads];
		if ((rd->path = strdup(path)) == NULL)
			error = ro_err_set(err, RO_ENOMEM, "out of memory");
		else {
			rd->parse = parse;
			rd->cb = cb;
			rd->arg = arg;
			g->nreads++;
			pthread_cond_signal(&g->cv);
		}
	}
	pthread_mutex_unlock(&g->mu);
	return error;
}

static void *
run(void *arg)
{
	struct ro_gitsrc	*g = arg;
	struct ro_err		 err = RO_ERR_INIT;
	unsigned		 what;
	bool			 first = true;
	int			 error;
	struct gitread		 reads[RO_GITSRC_READS_MAX];
	size_t			 nreads, i;

	for (;;) {
		pthread_mutex_lock(&g->mu);
		while (!g->stop && g->triggers == 0 && g->nreads == 0 &&
		    !first)
			pthread_cond_wait(&g->cv, &g->mu);
		what = first ? RO_GITSRC_CHECK : g->triggers;
		g->triggers = 0;
		/* all of them; when stopping, ro_gitsrc_free() answers */
		nreads = g->stop ? 0 : g->nreads;
		memcpy(reads, g->reads, nreads * sizeof(*reads));
		g->nreads -= nreads;
		pthread_mutex_unlock(&g->mu);
		for (i = 0; i < nreads; i++)
			serve_read(g, &reads[i]);
		if (stopping(g))
			break;
		if (what == 0)
			continue;	/* reads only */
		ro_err_clear(&err);
		if (g->repo == NULL) {
			if ((error = ro_gitrepo_open(&g->repo, &g->o.repo,
			    &err)) < 0) {
				log_warnx("git: %s", err.msg);
				set_error(g, err.msg);
				if (g->o.idle != NULL)
					g->o.idle(g->o.idle_arg, true);
				first = false;
				continue;
			}
			/* after the open that worked, not only the first */
			log_info("git: %s %s (branch %s)", ro_gitrepo_cloned(
			    g->repo) ? "cloned into" : "reusing the clone at",
			    g->o.repo.dir, ro_gitrepo_branch(g->repo));
			load_cursor(g);
		}
		g->rejected = false;
		error = pass(g, (what & RO_GITSRC_RESYNC) != 0,
		    (what & RO_GITSRC_FETCH) != 0, &err);
		malloc_trim(0);		/* a big pass's peak: give it back */
		if (error < 0) {
			log_warnx("git: %s", err.msg);
			set_error(g, err.msg);
		} else {
			set_error(g, "");
			pthread_mutex_lock(&g->mu);
			g->passed = true;
			pthread_mutex_unlock(&g->mu);
		}
		first = false;
		if (g->o.idle != NULL && !stopping(g))
			g->o.idle(g->o.idle_arg, error < 0 || g->rejected);
	}
	return NULL;
}

int
ro_gitsrc_start(struct ro_gitsrc **out, const struct ro_gitsrc_opts *o,
    struct ro_err *err)
{
	struct ro_gitsrc	*g;
	int			 error;

	if ((error = ro_gitrepo_global_init(err)) < 0)
		return error;
	/*
	 * libgit2 caches no tree over 4 KiB by default, so every spec read
	 * (ro_history_read, path lookups) inflated and parsed the spec
	 * folder's tree again: quadratic in the number of specs (10,000
	 * rooms: 114 s for a commit touching all, 12 s with this). Keep
	 * trees up to GITSRC_TREE_CACHE_OBJ cached, and bound the whole
	 * cache below libgit2's 256 MiB default so memory stays small.
	 */
	if (git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_TREE,
	    (size_t)GITSRC_TREE_CACHE_OBJ) < 0 ||
	    git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE,
	    (ssize_t)GITSRC_CACHE_MAX) < 0)
		log_warnx("git: cannot size the object cache; large spec "
		    "folders will be slow");
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	g->o = *o;
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	ro_shard_str(g->shard_str, &o->shard);
	if (pthread_create(&g->tid, NULL, run, g) != 0) {
		ro_gitsrc_free(g);
		return ro_err_set(err, RO_ERROR, "cannot start the git thread");
	}
	g->started = true;
	*out = g;
	return RO_OK;
}

void
ro_gitsrc_trigger(struct ro_gitsrc *g, unsigned what)
{
	pthread_mutex_lock(&g->mu);
	g->triggers |= what;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

void
ro_gitsrc_info(struct ro_gitsrc *g, cJSON *source)
{
	char	url[RO_GITREPO_URL_MAX];

	ro_gitrepo_redact_url(url, sizeof(url), g->o.repo.url);
	pthread_mutex_lock(&g->mu);
	cJSON_AddStringToObject(source, "repo", url);
	cJSON_AddStringToObject(source, "branch", g->o.repo.branch != NULL ?
	    g->o.repo.branch : "main");
	if (g->head[0] != '\0')
		cJSON_AddStringToObject(source, "head", g->head);
	else
		cJSON_AddNullToObject(source, "head");
	if (g->last_fetch[0] != '\0')
		cJSON_AddStringToObject(source, "lastFetch", g->last_fetch);
	else
		cJSON_AddNullToObject(source, "lastFetch");
	if (g->last_error[0] != '\0')
		cJSON_AddStringToObject(source, "lastError", g->last_error);
	else
		cJSON_AddNullToObject(source, "lastError");
	pthread_mutex_unlock(&g->mu);
}

bool
ro_gitsrc_synced(struct ro_gitsrc *g)
{
	bool	yes;

	pthread_mutex_lock(&g->mu);
	yes = g->passed;
	pthread_mutex_unlock(&g->mu);
	return yes;
}

void
ro_gitsrc_request_stop(struct ro_gitsrc *g)
{
	if (g == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	g->stop = true;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

void
ro_gitsrc_free(struct ro_gitsrc *g)
{
	size_t	i;

	if (g == NULL)
		return;
	ro_gitsrc_request_stop(g);
	if (g->started)
		pthread_join(g->tid, NULL);
	for (i = 0; i < g->nreads; i++) {	/* never served */
		struct ro_err	e = RO_ERR_INIT;

		ro_err_set(&e, RO_EAGAIN, "the agent is shutting down");
		g->reads[i].cb(g->reads[i].arg, RO_EAGAIN, &e, "", NULL, NULL);
		free(g->reads[i].path);
	}
	ro_gitrepo_free(g->repo);
	ro_specidx_release(&g->idx);
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	free(g);
}
