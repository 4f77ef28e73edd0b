/* audit.c: audit records and the fsync'd JSON-lines log. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "roomops/audit.h"
#include "roomops/file.h"
#include "roomops/log.h"

#include "banned.h"

void
ro_audit_rec_init(struct ro_audit_rec *r)
{
	ro_now_iso(r->ts);
	ro_uuid(r->id);
	if (r->cid[0] == '\0')
		ro_uuid(r->cid);
}

void
ro_audit_rec_release(struct ro_audit_rec *r)
{
	ro_strv_release(&r->errors);
	ro_strv_release(&r->warnings);
	ro_strv_release(&r->blocked);
	ro_strv_release(&r->rollback);
}

void
ro_audit_diff_count(struct ro_audit_diff *d, enum ro_op op)
{
	switch (op) {
	case RO_OP_JOIN:	d->join++; break;
	case RO_OP_UPDATE:	d->update++; break;
	case RO_OP_KICK:	d->kick++; break;
	case RO_OP_SEED:	d->seed++; break;
	case RO_OP_PROMOTE:	d->promote++; break;
	case RO_OP_DELETE:	d->del++; break;
	case RO_OP_POLICIES:	d->policies++; break;
	}
}

static int
add_strv(struct ro_buf *b, const char *key, const struct ro_strv *sv)
{
	size_t	i;
	int	error;

	if ((error = ro_buf_printf(b, ",\"%s\":[", key)) < 0)
		return error;
	for (i = 0; i < sv->n; i++)
		if ((i > 0 && (error = ro_buf_addch(b, ',')) < 0) ||
		    (error = ro_buf_add_json_str(b, sv->v[i])) < 0)
			return error;
	return ro_buf_addch(b, ']');
}

static int
add_field(struct ro_buf *b, const char *key, const char *v)
{
	int	error;

	if ((error = ro_buf_printf(b, ",\"%s\":", key)) < 0)
		return error;
	return v != NULL ? ro_buf_add_json_str(b, v) : ro_buf_addstr(b, "null");
}

int
ro_audit_format(const struct ro_audit_rec *r, struct ro_buf *out)
{
	struct ro_buf	b;
	int		error;

	ro_buf_init(&b, RO_AUDIT_LINE_MAX);
	if ((error = ro_buf_printf(&b, "{\"ts\":\"%s\",\"id\":\"%s\","
	    "\"correlationId\":\"%s\"", r->ts, r->id, r->cid)) < 0 ||
	    (error = add_field(&b, "room", r->room)) < 0 ||
	    (error = add_field(&b, "rev", r->rev)) < 0 ||
	    (error = add_field(&b, "source", r->source)) < 0 ||
	    (error = add_field(&b, "outcome", r->outcome)) < 0 ||
	    (error = ro_buf_printf(&b, ",\"diff\":{\"join\":%zu,\"kick\":%zu,"
	    "\"update\":%zu,\"seed\":%zu,\"promote\":%zu,\"delete\":%zu,"
	    "\"policies\":%zu}", r->diff.join, r->diff.kick, r->diff.update,
	    r->diff.seed, r->diff.promote, r->diff.del, r->diff.policies)) < 0 ||
	    (error = add_strv(&b, "errors", &r->errors)) < 0 ||
	    (error = add_strv(&b, "warnings", &r->warnings)) < 0 ||
	    (r->blocked.n > 0 &&
	    (error = add_strv(&b, "blocked", &r->blocked)) < 0) ||
	    (r->rollback.n > 0 &&
	    (error = add_strv(&b, "rollback", &r->rollback)) < 0) ||
	    (error = ro_buf_printf(&b, ",\"durationMs\":%ld", r->duration_ms)) <
	    0 || (error = add_field(&b, "agent", r->agent)) < 0 ||
	    (error = add_field(&b, "shard", r->shard)) < 0 ||
	    (r->signer != NULL &&
	    (error = add_field(&b, "signer", r->signer)) < 0) ||
	    (error = ro_buf_addstr(&b, "}\n")) < 0)
		goto done;
	error = ro_buf_add(out, b.ptr, b.len);
done:
	ro_buf_release(&b);
	return error;
}

int
ro_auditlog_open(struct ro_auditlog *log, const char *path, struct ro_err *err)
{
	memset(log, 0, sizeof(*log));
	if ((log->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0640)) == -1)
		return ro_err_errno(err, RO_EIO, "%s", path);
	if ((log->path = strdup(path)) == NULL) {
		close(log->fd);
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&log->mu, NULL);
	pthread_cond_init(&log->synced, NULL);
	pthread_cond_init(&log->writable, NULL);
	return RO_OK;
}

/* Write all of p at the end, or nothing: a short write is cut off. */
static int
append_whole(struct ro_auditlog *log, const char *p, size_t n)
{
	struct stat	st;
	size_t		done = 0;
	ssize_t		w;
	int		saved;

	if (fstat(log->fd, &st) == -1)
		return -1;
	while (done < n) {
		w = write(log->fd, p + done, n - done);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			saved = w == 0 ? ENOSPC : errno;
			if (done > 0 && ftruncate(log->fd, st.st_size) == -1)
				(void)0;	/* reported through saved */
			errno = saved;
			return -1;
		}
		done += (size_t)w;
	}
	return 0;
}

/* Under log->mu: wait retry_ms, or less when woken. */
static void
wait_retry(struct ro_auditlog *log)
{
	struct timespec	ts;

	ro_now_deadline(&ts, log->retry_ms);
	pthread_cond_timedwait(&log->writable, &log->mu, &ts);
}

/* Under log->mu: write the whole line, holding it and retrying while the
 * log has a retry period. */
static int
write_held(struct ro_auditlog *log, const char *line, size_t len,
    struct ro_err *err)
{
	bool	held = false;
	int	error = RO_OK;

	while (append_whole(log, line, len) == -1) {
		log->write_errors++;
		if (log->retry_ms <= 0 || log->cancelled) {
			error = ro_err_errno(err, RO_EIO, "audit log %s",
			    log->path);
			if (log->cancelled)
				log_errorx("audit log %s: record not written "
				    "(shutting down): %.*s", log->path,
				    (int)(len > 0 && line[len - 1] == '\n' ?
				    len - 1 : len), line);
			goto done;
		}
		if (!held) {
			held = true;
			log->held++;
		}
		if (!log->blocked) {
			log->blocked = true;
			log_warnx("audit log %s: %s: holding the record and "
			    "retrying every %ld ms; no change is applied until "
			    "it is written", log->path, strerror(errno),
			    log->retry_ms);
		}
		wait_retry(log);
	}
done:
	if (held)
		log->held--;
	if (error == RO_OK && log->blocked) {
		log->blocked = false;
		log_info("audit log %s: writable again (%lu failed appends so "
		    "far)", log->path, log->write_errors);
	}
	pthread_cond_broadcast(&log->writable);
	return error;
}

int
ro_auditlog_append(struct ro_auditlog *log, const char *line, size_t len,
    struct ro_err *err)
{
	unsigned long	mine, target;
	int		error = RO_OK, rc;

	pthread_mutex_lock(&log->mu);
	if ((error = write_held(log, line, len, err)) < 0)
		goto done;
	mine = ++log->written;
	while (log->durable < mine) {
		if (log->syncing) {
			pthread_cond_wait(&log->synced, &log->mu);
			continue;
		}
		log->syncing = true;
		target = log->written;
		pthread_mutex_unlock(&log->mu);
		rc = fdatasync(log->fd) == -1 ? errno : 0;
		pthread_mutex_lock(&log->mu);
		log->syncing = false;
		log->sync_error = rc;
		if (rc == 0)
			log->durable = target;
		pthread_cond_broadcast(&log->synced);
		if (rc != 0) {
			log->write_errors++;
			errno = rc;
			error = ro_err_errno(err, RO_EIO, "audit log %s: sync",
			    log->path);
			goto done;
		}
	}
done:
	pthread_mutex_unlock(&log->mu);
	return error;
}

void
ro_auditlog_set_retry(struct ro_auditlog *log, long ms)
{
	pthread_mutex_lock(&log->mu);
	log->retry_ms = ms;
	pthread_mutex_unlock(&log->mu);
}

bool
ro_auditlog_blocked(struct ro_auditlog *log)
{
	bool	b;

	pthread_mutex_lock(&log->mu);
	b = log->blocked;
	pthread_mutex_unlock(&log->mu);
	return b;
}

unsigned long
ro_auditlog_errors(struct ro_auditlog *log)
{
	unsigned long	n;

	pthread_mutex_lock(&log->mu);
	n = log->write_errors;
	pthread_mutex_unlock(&log->mu);
	return n;
}

int
ro_auditlog_wait(struct ro_auditlog *log, struct ro_err *err)
{
	int	error = RO_OK;

	pthread_mutex_lock(&log->mu);
	while (log->blocked && !log->cancelled)
		pthread_cond_wait(&log->writable, &log->mu);
	if (log->blocked)
		error = ro_err_set(err, RO_EIO, "audit log %s: not writable; "
		    "shutting down", log->path);
	pthread_mutex_unlock(&log->mu);
	return error;
}

void
ro_auditlog_cancel(struct ro_auditlog *log)
{
	if (log->path == NULL)
		return;
	pthread_mutex_lock(&log->mu);
	log->cancelled = true;
	pthread_cond_broadcast(&log->writable);
	pthread_mutex_unlock(&log->mu);
}

void
ro_auditlog_close(struct ro_auditlog *log)
{
	if (log->path == NULL)
		return;
	close(log->fd);
	pthread_cond_destroy(&log->synced);
	pthread_cond_destroy(&log->writable);
	pthread_mutex_destroy(&log->mu);
	free(log->path);
	log->path = NULL;
}

/*
 * A filter value that JSON writers copy verbatim (ro_buf_add_json_str
 * escapes none of these characters): a record whose field has the value
 * holds it as a substring, so a line without it cannot match and is not
 * parsed. Ids, revisions, their prefixes and room ids are all plain.
 */
static bool
plain(const char *v)
{
	const char	*p;

	if (v == NULL || v[0] == '\0')
		return false;
	for (p = v; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		    *p == '.' || *p == ':'))
			return false;
	return true;
}

/* May s stand for a longer revision: RO_AUDIT_REV_PREFIX_MIN or more
 * lower-case hex digits? */
static bool
rev_prefix(const char *s)
{
	size_t	n;

	for (n = 0; s[n] != '\0'; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' &&
		    s[n] <= 'f')))
			return false;
	return n >= RO_AUDIT_REV_PREFIX_MIN;
}

bool
ro_audit_rec_is(const cJSON *rec, const char *key, const char *want)
{
	const cJSON	*v;

	if (want == NULL)
		return true;
	v = cJSON_GetObjectItemCaseSensitive(rec, key);
	return cJSON_IsString(v) && strcmp(v->valuestring, want) == 0;
}

void
ro_audit_match_init(struct ro_audit_match *m, const struct ro_audit_query *q)
{
	memset(m, 0, sizeof(*m));
	m->q = q;
	m->prefix = q->rev != NULL && rev_prefix(q->rev);
}

bool
ro_audit_match(struct ro_audit_match *m, const cJSON *rec)
{
	const struct ro_audit_query	*q = m->q;
	const cJSON			*v;
	const char			*rev;

	if (!cJSON_IsObject(rec) || !ro_audit_rec_is(rec, "room", q->room) ||
	    !ro_audit_rec_is(rec, "correlationId", q->cid) ||
	    !ro_audit_rec_is(rec, "id", q->id))
		return false;
	if (q->rev == NULL)
		return true;
	v = cJSON_GetObjectItemCaseSensitive(rec, "rev");
	if (!cJSON_IsString(v))
		return false;
	rev = v->valuestring;
	if (strcmp(rev, q->rev) == 0)
		return true;
	if (!m->prefix || strncmp(rev, q->rev, strlen(q->rev)) != 0)
		return false;
	/* an abbreviation: it must name one revision only */
	if (m->rev[0] == '\0')
		snprintf(m->rev, sizeof(m->rev), "%s", rev);
	else if (strcmp(m->rev, rev) != 0 && m->other[0] == '\0')
		snprintf(m->other, sizeof(m->other), "%s", rev);
	return true;
}

int
ro_audit_match_check(const struct ro_audit_match *m, struct ro_err *err)
{
	if (m->other[0] == '\0')
		return RO_OK;
	return ro_err_set(err, RO_EINVALID, "revision %s is ambiguous: it "
	    "abbreviates %.12s... and %.12s... (give more digits)", m->q->rev,
	    m->rev, m->other);
}

/* One line of the log (not NUL-terminated): added to found (newest
 * first) when it is a record that matches; 1 then, else 0. */
static int
read_line(struct ro_audit_match *m, const char *const *need, size_t nneed,
    const char *p, size_t n, cJSON *found, size_t *bad)
{
	cJSON	*o;
	size_t	 i;

	if (n == 0 || (n == 1 && p[0] == '\r'))
		return 0;
	for (i = 0; i < nneed; i++)
		if (memmem(p, n, need[i], strlen(need[i])) == NULL)
			return 0;	/* cannot match: not parsed */
	o = n > RO_AUDIT_LINE_MAX ? NULL : cJSON_ParseWithLength(p, n);
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		(*bad)++;
		return 0;
	}
	if (!ro_audit_match(m, o)) {
		cJSON_Delete(o);
		return 0;
	}
	cJSON_AddItemToArray(found, o);
	return 1;
}

/* pread exactly n bytes at pos. */
static int
read_at(int fd, const char *path, char *b, size_t n, off_t pos,
    struct ro_err *err)
{
	size_t	got;
	ssize_t	r;

	for (got = 0; got < n; got += (size_t)r) {
		r = pread(fd, b + got, n - got, pos + (off_t)got);
		if (r == -1 && errno == EINTR) {
			r = 0;
			continue;
		}
		if (r == 0)
			return ro_err_set(err, RO_EIO, "audit log %s: shorter "
			    "than it was", path);
		if (r == -1)
			return ro_err_errno(err, RO_EIO, "audit log %s", path);
	}
	return RO_OK;
}

/*
 * The log only grows (months of records), so it is read backwards in
 * blocks from its end: the scan stops once q->count records matched or
 * q->scan_max bytes were read, and memory stays bounded by one block and
 * one line (a line over RO_AUDIT_LINE_MAX is skipped and counted bad).
 */
int
ro_auditlog_read(const char *path, const struct ro_audit_query *q,
    cJSON *arr, size_t *bad, struct ro_err *err)
{
	struct ro_audit_match	 m;
	struct stat		 st;
	const char		*need[4];
	cJSON			*found = NULL, *item;
	char			*b = NULL, *nl;
	const size_t		 cap = RO_AUDIT_READ_BLOCK + RO_AUDIT_LINE_MAX;
	size_t			 len = 0, n, nneed = 0, nfound = 0, nbad;
	size_t			 want = q->count != 0 ? q->count : SIZE_MAX;
	unsigned long long	 scanned = 0;
	off_t			 pos;
	bool			 skipping = false;
	int			 fd, error = RO_OK;

	if (bad == NULL)
		bad = &nbad;
	*bad = 0;
	ro_audit_match_init(&m, q);
	if (plain(q->room))
		need[nneed++] = q->room;
	if (plain(q->rev))
		need[nneed++] = q->rev;
	if (plain(q->cid))
		need[nneed++] = q->cid;
	if (plain(q->id))
		need[nneed++] = q->id;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? RO_OK : ro_err_errno(err, RO_EIO,
		    "audit log %s", path);
	if (fstat(fd, &st) == -1) {
		error = ro_err_errno(err, RO_EIO, "audit log %s", path);
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		error = ro_err_set(err, RO_EIO, "audit log %s: not a regular "
		    "file", path);
		goto done;
	}
	if ((found = cJSON_CreateArray()) == NULL ||
	    (b = malloc(cap)) == NULL) {
		error = ro_err_set(err, RO_ENOMEM, "out of memory");
		goto done;
	}
	pos = st.st_size;
	for (;;) {
		/* the complete lines: each one after a newline */
		while (nfound < want && (nl = memrchr(b, '\n', len)) != NULL) {
			nfound += (size_t)read_line(&m, need, nneed, nl + 1,
			    len - (size_t)(nl + 1 - b), found, bad);
			len = (size_t)(nl - b);
		}
		if (nfound >= want)
			break;
		if (pos == 0) {			/* the file's first line */
			if (!skipping)
				(void)read_line(&m, need, nneed, b, len, found,
				    bad);
			break;
		}
		if (q->scan_max != 0 && scanned >= q->scan_max)
			break;
		n = pos < (off_t)RO_AUDIT_READ_BLOCK ? (size_t)pos :
		    RO_AUDIT_READ_BLOCK;
		if (len + n > cap) {	/* over RO_AUDIT_LINE_MAX: skipped */
			len = 0;
			skipping = true;
			(*bad)++;
		}
		memmove(b + n, b, len);
		pos -= (off_t)n;
		if ((error = read_at(fd, path, b, n, pos, err)) < 0)
			goto done;
		scanned += n;
		len += n;
		if (skipping) {		/* the rest of the long line */
			if ((nl = memrchr(b, '\n', n)) == NULL)
				len = 0;
			else {
				len = (size_t)(nl - b);
				skipping = false;
			}
		}
	}
	if ((error = ro_audit_match_check(&m, err)) < 0)
		goto done;
	/* found is newest first */
	while ((n = (size_t)cJSON_GetArraySize(found)) > 0 &&
	    (item = cJSON_DetachItemFromArray(found, (int)n - 1)) != NULL)
		cJSON_AddItemToArray(arr, item);
done:
	close(fd);
	free(b);
	cJSON_Delete(found);
	return error;
}
