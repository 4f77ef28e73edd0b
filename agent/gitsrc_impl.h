/*
 * gitsrc_impl.h: the Git source's state and the functions its files share:
 * gitsrc.c (the thread: poll, fetch, walk the commits, passes, reads for
 * the dashboard), gitspecs.c (one spec file at one commit, and the spec
 * index at the last processed commit), gitbatch.c (the room jobs of one
 * commit, their records into its note, commit statuses, the cursor) and
 * gitgate.c (signed commits: which commits may be applied).
 *
 * Thread rules: everything here runs on the Git source's thread, but for
 * what struct ro_gitsrc keeps under mu (triggers, reads, the /status
 * fields) and struct batch's own lock (worker callbacks).
 */
#ifndef RO_GITSRC_IMPL_H
#define RO_GITSRC_IMPL_H

#include <pthread.h>
#include <stdbool.h>

#include <git2.h>

#include "roomops/audit.h"
#include "roomops/buf.h"
#include "roomops/err.h"
#include "roomops/strv.h"
#include "gitsrc.h"
#include "specidx.h"
#include "workq.h"

#define GITSRC_CURSOR		"cursor"	/* file in the state dir */
#define GITSRC_OID_HEX		(GIT_OID_HEXSZ + 1)
#define GITSRC_INFLIGHT_MAX	256	/* jobs of a commit queued at once */
#define GITSRC_TREE_CACHE_OBJ	(4u << 20)	/* bytes: largest tree cached */
#define GITSRC_SIG_PREFIX	"signature: "	/* errors[0] of the records of
						   an unverified commit */
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

/* One pass over one commit's changed specs. */
struct pass {
	struct ro_gitsrc	*g;
	struct batch		*b;
	const git_oid		*commit;
	const git_oid		*prev;		/* for deleted specs, or NULL */
	struct ro_strv		 confirms;	/* Roomops-Confirm trailers */
	size_t			 planned;	/* rooms queued (this shard's) */
};

/* gitsrc.c */
void	ro_gitsrc_set_error(struct ro_gitsrc *g, const char *msg);
bool	ro_gitsrc_stopping(struct ro_gitsrc *g);

/* gitbatch.c */
void	ro_gitbatch_init(struct batch *b);
void	ro_gitbatch_release(struct batch *b);
/* Is the audit record line (JSON) one with key = want (and key2 =
 * want2 when key2 is not NULL)? */
bool	ro_gitbatch_line_is(const char *line, size_t len, const char *key,
	    const char *want, const char *key2, const char *want2);
int	ro_gitbatch_sink(void *arg, const char *room, const char *line,
	    size_t len, struct ro_err *err);
void	ro_gitbatch_done(void *arg, const struct ro_job *job,
	    const struct ro_reconcile_result *res, int error,
	    const struct ro_err *err);
void	ro_gitbatch_wait(struct batch *b);
/* An audit record that is not a reconcile (rejected, superseded, ...). */
int	ro_gitbatch_record(struct ro_gitsrc *g, struct batch *b,
	    const git_oid *commit, const char *room, const char *outcome,
	    const struct ro_strv *errors, struct ro_err *err);
/* Records of this shard already in the commit's note or the JSONL log
 * (a crash between apply and cursor): those rooms are done. */
int	ro_gitbatch_recover(struct ro_gitsrc *g, struct batch *b,
	    const git_oid *commit, struct ro_err *err);
int	ro_gitbatch_write_notes(struct ro_gitsrc *g, struct batch *b,
	    const git_oid *commit, struct ro_err *err);
/* The final commit status: the commit's note holds every record of
 * it (this pass's and earlier ones'); b's lines if it cannot be read. */
void	ro_gitbatch_notify_final(struct ro_gitsrc *g, struct batch *b,
	    const git_oid *commit);
void	ro_gitbatch_notify_pending(struct ro_gitsrc *g, const git_oid *commit);
int	ro_gitbatch_save_cursor(struct ro_gitsrc *g, const git_oid *commit,
	    struct ro_err *err);
void	ro_gitbatch_load_cursor(struct ro_gitsrc *g);

/* gitgate.c */
/*
 * May commit be applied? Verified: *ok, and g->signer names the signer
 * for its records. Not: "rejected" records for the rooms paths touch
 * (once per commit and shard: the commit stays pending, and is checked
 * again on every pass, until a verified commit comes after it).
 */
int	ro_gitgate_check(struct ro_gitsrc *g, const git_oid *commit,
	    const struct ro_strv *paths, bool *ok, struct ro_err *err);
/* ro_gitgate_check() for the whole tree of commit (first start, rewritten history). */
int	ro_gitgate_full(struct ro_gitsrc *g, const git_oid *commit,
	    bool *ok, struct ro_err *err);

/* gitspecs.c */
struct ro_specidx_ent * ro_gitspecs_find_path(struct ro_gitsrc *g,
	    const char *path);
/* Folder of path relative to the spec root (for seed resolution). */
void	ro_gitspecs_spec_dir(const struct ro_gitsrc *g, const char *path,
	    char *out, size_t outsz);
/* spec.roomId as the YAML of an invalid spec names it (malloc'd), or
 * NULL (no YAML, or no well-formed roomId). */
char *	ro_gitspecs_declared_room(const char *path, const struct ro_buf *blob);
int	ro_gitspecs_handle_spec(struct pass *p, const char *path,
	    struct ro_err *err);
/* Specs whose seeds include path, added to out. */
int	ro_gitspecs_seed_users(struct ro_gitsrc *g, const char *path,
	    struct ro_strv *out);
/*
 * Order paths with the specs present at commit first and the deleted
 * ones last: a spec moved to another file is seen at its new path
 * before its old path is taken as a deleted room.
 */
int	ro_gitspecs_deleted_last(struct ro_gitsrc *g, const git_oid *commit,
	    struct ro_strv *paths);
/*
 * The index as of commit (the last one processed), built once after a
 * start: deleted specs, seed files, duplicate rooms and the room of a
 * spec that no longer parses are looked up in it.
 */
int	ro_gitspecs_ensure_index(struct ro_gitsrc *g, const git_oid *commit,
	    struct ro_err *err);

#endif
