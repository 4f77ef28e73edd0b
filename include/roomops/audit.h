/*
 * audit.h: audit records (agent.md "Audit record") and the JSON-lines log.
 *
 * A record is one JSON object on one line, identical in the JSONL log and
 * in the Git note. The log is appended with O_APPEND in one write and
 * fdatasync'd before the outcome is reported anywhere else; a failed
 * append is an error the caller must act on (stop applying), never a
 * silent loss. struct ro_auditlog is thread-safe (one mutex).
 */
#ifndef RO_AUDIT_H
#define RO_AUDIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "roomops/buf.h"
#include "roomops/clock.h"	/* ro_uuid, ro_now_*: records use them */
#include "roomops/plan.h"	/* enum ro_op */
#include "roomops/err.h"
#include "roomops/strv.h"

#define RO_AUDIT_LINE_MAX	(256u << 10)	/* bytes per record */

/* Counts of the diff (applied, or planned for rejected/blocked). */
struct ro_audit_diff {
	size_t	join, kick, update, seed, promote, del, policies;
};

struct ro_audit_rec {
	char		 ts[RO_TS_LEN + 1];
	char		 id[RO_UUID_LEN + 1];
	char		 cid[RO_UUID_LEN + 1];	/* correlationId */
	const char	*room;
	const char	*rev;		/* commit sha, "worktree:<hash>", "api" */
	const char	*source;	/* git|watch|api */
	const char	*outcome;	/* applied|converged|partial|... */
	struct ro_audit_diff diff;
	struct ro_strv	 errors;
	struct ro_strv	 warnings;
	struct ro_strv	 blocked;	/* "kick E-x: awaiting confirmation" */
	struct ro_strv	 rollback;	/* what was / was not undone */
	long		 duration_ms;
	const char	*agent;		/* version */
	const char	*shard;		/* "I/N" */
	const char	*signer;	/* verified signer of the commit
					   (fingerprint or SSH principal);
					   NULL: no "signer" field */
};

/* Count one item of operation op in d. */
void	ro_audit_diff_count(struct ro_audit_diff *d, enum ro_op op);
/* Fill ts and id (and cid when empty) of a zeroed record. */
void	ro_audit_rec_init(struct ro_audit_rec *r);
void	ro_audit_rec_release(struct ro_audit_rec *r);
/* Append the record as one JSON line with "\n". RO_ETOOBIG, RO_ENOMEM. */
int	ro_audit_format(const struct ro_audit_rec *r, struct ro_buf *out);

/*
 * Group commit: appenders write under the mutex, then wait until one
 * fdatasync covers their line; one sync serves every line written before
 * it started. A short write (disk full) is truncated away, so the file
 * never holds a torn line.
 *
 * Holding records (the daemon: ro_auditlog_set_retry): when a write
 * fails (disk full, quota, I/O error), the appender keeps its line and
 * tries again every retry_ms until it is written or the log is
 * cancelled; meanwhile the log is "blocked" (ro_auditlog_blocked), which
 * the agent takes as "apply nothing new". Without a retry period a
 * failed write is returned at once (roomops apply).
 */
struct ro_auditlog {
	char		*path;
	int		 fd;
	pthread_mutex_t	 mu;
	pthread_cond_t	 synced;
	unsigned long	 written;	/* lines written */
	unsigned long	 durable;	/* lines covered by a finished sync */
	bool		 syncing;
	int		 sync_error;	/* errno of the last failed sync */
	unsigned long	 write_errors;	/* appends that failed */
	long		 retry_ms;	/* > 0: hold and retry failed writes */
	bool		 blocked;	/* a held record waits for a retry */
	bool		 cancelled;	/* no more retries (shutting down) */
	unsigned	 held;		/* appenders holding a record */
	pthread_cond_t	 writable;	/* blocked went false, or cancelled */
};

/* Open (create, mode 0640) path for appending. RO_EIO. */
int	ro_auditlog_open(struct ro_auditlog *log, const char *path,
	    struct ro_err *err);
/* Append one formatted line; return once it is on disk. With a retry
 * period, a failed write blocks the caller (holding the line) until it is
 * written. RO_EIO when the write fails without a retry period or after
 * ro_auditlog_cancel() (nothing of the line is left in the file; the line
 * is logged at error level), or when the sync fails (the line may reach
 * the disk later; the caller treats it as lost). */
int	ro_auditlog_append(struct ro_auditlog *log, const char *line,
	    size_t len, struct ro_err *err);
/* Hold and retry failed writes every ms (0: fail at once). */
void	ro_auditlog_set_retry(struct ro_auditlog *log, long ms);
/* Is a record held, waiting for the file system? */
bool	ro_auditlog_blocked(struct ro_auditlog *log);
/* Appends (attempts) that failed so far. */
unsigned long ro_auditlog_errors(struct ro_auditlog *log);
/* Wait while the log is blocked. RO_EIO when cancelled meanwhile. */
int	ro_auditlog_wait(struct ro_auditlog *log, struct ro_err *err);
/* Stop retrying: held and later failing appends return RO_EIO at once
 * (shutdown). Wakes every waiter. */
void	ro_auditlog_cancel(struct ro_auditlog *log);
void	ro_auditlog_close(struct ro_auditlog *log);

/*
 * Which records a reader wants: every filter NULL means any. One rule for
 * every reader (the daemon's GET /audit, `roomops audit` over the JSONL
 * log or the notes, the Git source's recovery): room and correlationId
 * match exactly; rev matches a record's revision exactly, or as an
 * abbreviation (RO_AUDIT_REV_PREFIX_MIN or more lower-case hex digits)
 * that must name one revision only, as git's short revisions do.
 */
struct ro_audit_query {
	const char		*room;
	const char		*rev;
	const char		*cid;		/* correlationId */
	size_t			 count;		/* the newest count matches;
						   0: all */
	unsigned long long	 scan_max;	/* bytes of the log read back
						   from its end; 0: all */
	const char		*id;		/* the record's own id
						   (intent.c), exact */
};
#define RO_AUDIT_QUERY_INIT	{ NULL, NULL, NULL, 0, 0, NULL }
#define RO_AUDIT_REV_PREFIX_MIN	4	/* hex digits of a short revision */
#define RO_AUDIT_REV_MAX	128	/* bytes of a revision */
#define RO_AUDIT_READ_BLOCK	(64u << 10)	/* bytes per read of the log */

/* Is rec's string field key want (NULL: any)? */
bool	ro_audit_rec_is(const cJSON *rec, const char *key, const char *want);

/* A query applied to records one by one (the notes reader uses it). */
struct ro_audit_match {
	const struct ro_audit_query *q;
	bool	 prefix;			/* q->rev may abbreviate */
	char	 rev[RO_AUDIT_REV_MAX];		/* the first it abbreviated */
	char	 other[RO_AUDIT_REV_MAX];	/* a second one: ambiguous */
};

/* q must outlive m. */
void	ro_audit_match_init(struct ro_audit_match *m,
	    const struct ro_audit_query *q);
/* Does rec (a parsed record) match? Notes which revisions an abbreviation
 * stood for. */
bool	ro_audit_match(struct ro_audit_match *m, const cJSON *rec);
/* RO_EINVALID (err names both revisions) when an abbreviation matched
 * records of two revisions, else RO_OK. */
int	ro_audit_match_check(const struct ro_audit_match *m,
	    struct ro_err *err);

/*
 * Read the records of a JSONL log that match q (a missing file has
 * none), backwards from its end: the newest q->count (all when 0), within
 * the last q->scan_max bytes (all when 0). They are added to arr (a cJSON
 * array) oldest first. Malformed and over-long lines are counted in *bad
 * (bad may be NULL) and skipped; a line without a plain filter value
 * (ids, revisions, room ids) is skipped unparsed. Memory: one block and
 * one line, plus the records returned.
 * @return RO_OK, RO_EINVALID (an ambiguous short revision), RO_EIO,
 *         RO_ENOMEM
 */
int	ro_auditlog_read(const char *path, const struct ro_audit_query *q,
	    cJSON *arr, size_t *bad, struct ro_err *err);

#endif
