/* audit.c: audit records and the fsync'd JSON-lines log. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
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

/* Filter */

void
ro_audit_filter_release(struct ro_audit_filter *f)
{
	free(f->rev_hit);
	f->rev_hit = NULL;
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

int
ro_audit_filter_match(struct ro_audit_filter *f, const cJSON *rec,
    struct ro_err *err)
{
	const cJSON	*v;
	size_t		 n;

	if (!cJSON_IsObject(rec) || !ro_audit_rec_is(rec, "room", f->room) ||
	    !ro_audit_rec_is(rec, "correlationId", f->cid) ||
	    !ro_audit_rec_is(rec, "id", f->id))
		return 0;
	if (f->rev == NULL)
		return 1;
	v = cJSON_GetObjectItemCaseSensitive(rec, "rev");
	n = strlen(f->rev);
	if (!cJSON_IsString(v) || strncmp(v->valuestring, f->rev, n) != 0)
		return 0;
	if (f->rev_hit == NULL) {
		if ((f->rev_hit = strdup(v->valuestring)) == NULL)
			return ro_err_set(err, RO_ENOMEM, "out of memory");
		return 1;
	}
	if (strcmp(f->rev_hit, v->valuestring) != 0)
		return ro_err_set(err, RO_EINVALID, "revision %s is ambiguous: "
		    "%.40s and %.40s both start with it", f->rev, f->rev_hit,
		    v->valuestring);
	return 1;
}

/*
 * A filter value that JSON writers copy verbatim (ro_buf_add_json_str
 * escapes none of these characters): a record whose field has the value
 * (or, for a revision, starts with it) holds it as a substring, so a line
 * without it cannot match and is not parsed. Ids, revisions and room ids
 * are all plain.
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

bool
ro_audit_filter_may_match(const struct ro_audit_filter *f, const char *p,
    size_t n)
{
	const char *const	need[] = { f->room, f->rev, f->cid, f->id };
	size_t			i;

	for (i = 0; i < RO_NELEM(need); i++)
		if (plain(need[i]) &&
		    memmem(p, n, need[i], strlen(need[i])) == NULL)
			return false;
	return true;
}

/* Reader: the log backwards, from its end, in blocks */

struct tail {
	struct ro_audit_filter	*f;
	cJSON			*found;		/* newest first */
	size_t			 nfound;
	size_t			 bad;
	int			 error;		/* of the filter */
	struct ro_err		*err;
};

/* One line (not NUL-terminated): blank lines are skipped; malformed or
 * over-long ones counted when they could hold a match. */
static void
tail_line(struct tail *t, const char *p, size_t n)
{
	cJSON	*o;
	int	 rc;

	if (n == 0 || t->error < 0 || !ro_audit_filter_may_match(t->f, p, n))
		return;
	o = n > RO_AUDIT_LINE_MAX ? NULL : cJSON_ParseWithLength(p, n);
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		t->bad++;
		return;
	}
	if ((rc = ro_audit_filter_match(t->f, o, t->err)) <= 0) {
		cJSON_Delete(o);
		t->error = rc;
		return;
	}
	cJSON_AddItemToArray(t->found, o);
	t->nfound++;
}

/* pread n bytes at pos into b. */
static int
read_at(int fd, char *b, size_t n, off_t pos, const char *path,
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
		if (r <= 0)
			return r == 0 ? ro_err_set(err, RO_EIO, "audit log %s: "
			    "shorter than it was", path) : ro_err_errno(err,
			    RO_EIO, "audit log %s", path);
	}
	return RO_OK;
}

/* Read backwards until count records were found or scan_max bytes read. */
static int
tail_scan(struct tail *t, int fd, off_t size, size_t count,
    unsigned long long scan_max, const char *path)
{
	const size_t		 cap = RO_AUDIT_BLOCK + RO_AUDIT_LINE_MAX;
	unsigned long long	 scanned = 0;
	char			*b, *nl;
	size_t			 len = 0, n;
	off_t			 pos = size;
	bool			 skipping = false;
	int			 error = RO_OK;

	if ((b = malloc(cap)) == NULL)
		return ro_err_set(t->err, RO_ENOMEM, "out of memory");
	for (;;) {
		/* the complete lines: each one after a newline */
		while ((count == 0 || t->nfound < count) && t->error == 0 &&
		    (nl = memrchr(b, '\n', len)) != NULL) {
			tail_line(t, nl + 1, len - (size_t)(nl + 1 - b));
			len = (size_t)(nl - b);
		}
		if (t->error < 0 || (count > 0 && t->nfound >= count))
			break;
		if (pos == 0) {			/* the file's first line */
			if (!skipping)
				tail_line(t, b, len);
			break;
		}
		if (scan_max > 0 && scanned >= scan_max)
			break;
		n = pos < (off_t)RO_AUDIT_BLOCK ? (size_t)pos : RO_AUDIT_BLOCK;
		if (len + n > cap) {	/* over RO_AUDIT_LINE_MAX: skipped */
			len = 0;
			skipping = true;
			t->bad++;
		}
		memmove(b + n, b, len);
		pos -= (off_t)n;
		if ((error = read_at(fd, b, n, pos, path, t->err)) < 0)
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
	error = t->error < 0 ? t->error : RO_OK;
done:
	free(b);
	return error;
}

int
ro_auditlog_read(const char *path, struct ro_audit_filter *f, size_t count,
    unsigned long long scan_max, cJSON *arr, size_t *bad, struct ro_err *err)
{
	struct ro_audit_filter	 any = RO_AUDIT_FILTER_INIT;
	struct tail		 t;
	struct stat		 st;
	cJSON			*item;
	size_t			 n;
	int			 fd, error = RO_OK;

	memset(&t, 0, sizeof(t));
	t.f = f != NULL ? f : &any;
	t.err = err;
	if (bad != NULL)
		*bad = 0;
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
	if ((t.found = cJSON_CreateArray()) == NULL) {
		error = ro_err_set(err, RO_ENOMEM, "out of memory");
		goto done;
	}
	if ((error = tail_scan(&t, fd, st.st_size, count, scan_max,
	    path)) < 0)
		goto done;
	/* found is newest first */
	while ((n = (size_t)cJSON_GetArraySize(t.found)) > 0 &&
	    (item = cJSON_DetachItemFromArray(t.found, (int)n - 1)) != NULL)
		cJSON_AddItemToArray(arr, item);
	if (bad != NULL)
		*bad = t.bad;
done:
	close(fd);
	cJSON_Delete(t.found);
	return error;
}
