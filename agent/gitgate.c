/*
 * gitgate.c: signed commits (--verify-signatures, docs/security.md): a
 * commit is applied only when its signature verifies; one that does not
 * gets a rejected record for each room of this shard it touches, once.
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

	if (g->have_cursor && (error = ro_gitspecs_ensure_index(g, &g->cursor,
	    err)) < 0)
		return error;
	ro_buf_init(&blob, RO_SPEC_FILE_MAX + 1);
	for (i = 0; i < paths->n && error == RO_OK; i++)
		if (!ro_specset_is_spec_name(paths->v[i]))
			error = ro_gitspecs_seed_users(g, paths->v[i], &specs);
		else if (!ro_strv_contains(&specs, paths->v[i]))
			error = ro_strv_push(&specs, paths->v[i]);
	for (i = 0; i < specs.n && error == RO_OK; i++) {
		ro_buf_reset(&blob);
		room = NULL;
		if (ro_history_read(ro_gitrepo_git(g->repo), commit, specs.v[i],
		    RO_SPEC_FILE_MAX, &blob, NULL) == RO_OK)
			room = ro_gitspecs_declared_room(specs.v[i], &blob);
		if (room == NULL && (si = ro_gitspecs_find_path(g,
		    specs.v[i])) != NULL &&
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
int
ro_gitgate_check(struct ro_gitsrc *g, const git_oid *commit,
    const struct ro_strv *paths,
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
	ro_gitbatch_init(&b);
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
		error = ro_gitbatch_record(g, &b, commit, NULL, "rejected",
		    &why, err);
	for (i = 0; i < rooms.n && error == RO_OK; i++) {
		ro_rooms_rejected(g->o.rooms, rooms.v[i], rev, &why);
		error = ro_gitbatch_record(g, &b, commit, rooms.v[i],
		    "rejected", &why,
		    err);
	}
	if (error == RO_OK && b.lines.n > 0)
		error = ro_gitbatch_write_notes(g, &b, commit, err);
done:
	ro_gitbatch_release(&b);
	ro_strv_release(&note);
	ro_strv_release(&why);
	ro_strv_release(&rooms);
	return error;
}

/* ro_gitgate_check() for the whole tree of commit (first start,
    rewritten history). */
int
ro_gitgate_full(struct ro_gitsrc *g, const git_oid *commit, bool *ok,
    struct ro_err *err)
{
	struct ro_strv	specs = RO_STRV_INIT;
	int		error;

	*ok = true;
	if (g->o.verify == NULL)
		return RO_OK;
	if ((error = ro_history_list_specs(ro_gitrepo_git(g->repo), commit,
	    g->o.path, &specs, err)) == RO_OK)
		error = ro_gitgate_check(g, commit, &specs, ok, err);
	ro_strv_release(&specs);
	return error;
}
