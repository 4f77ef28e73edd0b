/* audit.c: audit records and the fsync'd JSON-lines log. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "roomops/audit.h"
#include "roomops/file.h"
#include "roomops/log.h"

#include "banned.h"

void
ro_uuid(char out[RO_UUID_LEN + 1])
{
	unsigned char	b[16];

	if (RAND_bytes(b, sizeof(b)) != 1) {
		struct timespec ts;	/* entropy failure: unique, not random */

		clock_gettime(CLOCK_REALTIME, &ts);
		memcpy(b, &ts, sizeof(ts) < sizeof(b) ? sizeof(ts) : sizeof(b));
	}
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, RO_UUID_LEN + 1, "%02x%02x%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4],
	    b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
	    b[15]);
}

void
ro_now_iso(char out[RO_TS_LEN + 1])
{
	struct timespec	ts;
	struct tm	tm;
	char		s[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, RO_TS_LEN + 1, "%.19s.%03uZ", s,
	    (unsigned)(ts.tv_nsec / 1000000) % 1000u);
}

long long
ro_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += log->retry_ms / 1000;
	ts.tv_nsec += (log->retry_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
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

static bool
match(const cJSON *o, const char *key, const char *want)
{
	const cJSON	*v;

	if (want == NULL)
		return true;
	v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) && strcmp(v->valuestring, want) == 0;
}

/*
 * A filter value that JSON writers copy verbatim (ro_buf_add_json_str
 * escapes none of these characters): a record whose field has the value
 * holds it as a substring, so a line without it cannot match and is not
 * parsed. Ids, revisions and room ids are all plain.
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

int
ro_auditlog_read(const char *path, const char *room, const char *rev,
    const char *cid, cJSON *arr, size_t *bad, struct ro_err *err)
{
	const char	*need[3];
	size_t		 nneed = 0, i;
	FILE		*f;
	char		*line = NULL;
	size_t		 cap = 0;
	ssize_t		 n;
	cJSON		*o;
	int		 error = RO_OK;

	*bad = 0;
	if (plain(room))
		need[nneed++] = room;
	if (plain(rev))
		need[nneed++] = rev;
	if (plain(cid))
		need[nneed++] = cid;
	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return RO_OK;
		return ro_err_errno(err, RO_EIO, "%s", path);
	}
	while ((n = getline(&line, &cap, f)) != -1) {
		if (n <= 1)
			continue;
		for (i = 0; i < nneed; i++)
			if (memmem(line, (size_t)n, need[i],
			    strlen(need[i])) == NULL)
				break;
		if (i < nneed)
			continue;	/* cannot match: not parsed */
		o = (size_t)n > RO_AUDIT_LINE_MAX ? NULL :
		    cJSON_ParseWithLength(line, (size_t)n);
		if (!cJSON_IsObject(o)) {
			cJSON_Delete(o);
			(*bad)++;
			continue;
		}
		if (match(o, "room", room) && match(o, "rev", rev) &&
		    match(o, "correlationId", cid))
			cJSON_AddItemToArray(arr, o);
		else
			cJSON_Delete(o);
	}
	if (ferror(f))
		error = ro_err_errno(err, RO_EIO, "%s", path);
	free(line);
	fclose(f);
	return error;
}
