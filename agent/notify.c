/*
 * notify.c: the commit status queue, its thread, retries and the marker
 * of the last final status; one request to one host is notify_send.c.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/rand.h>

#include "roomops/clock.h"
#include "roomops/file.h"
#include "roomops/log.h"
#include "cli.h"
#include "notify.h"
#include "notify_impl.h"

#include "../common/banned.h"

#define NOTIFY_MARKER_MAX	(4u << 20)	/* bytes of notify.json */
#define NOTIFY_VALUE_MAX	4096	/* bytes of one list value */

static void
item_free(struct item *it)
{
	if (it == NULL)
		return;
	free(it->sha);
	free(it->desc);
	free(it->target_url);
	free(it->records);
	memset(it, 0, sizeof(*it));
}

/* --- "[P=]VALUE,..." lists ------------------------------------------ */

/* The entry of list for p: "p=v" wins over an unprefixed "v". */
static bool
list_get(const char *list, enum ro_notify_provider p, char *out, size_t len)
{
	const char	*s = list, *e, *eq;
	bool		 found = false;
	int		 k;

	if (list == NULL)
		return false;
	while (*s != '\0') {
		e = s + strcspn(s, ",");
		eq = memchr(s, '=', (size_t)(e - s));
		k = eq != NULL ? ro_notify_host_provider(s, (size_t)(eq - s)) :
		    -1;
		if (k == (int)p) {
			snprintf(out, len, "%.*s", (int)(e - eq - 1), eq + 1);
			return true;
		}
		if (k < 0 && !found && e > s) {
			snprintf(out, len, "%.*s", (int)(e - s), s);
			found = true;
		}
		s = *e == ',' ? e + 1 : e;
	}
	return found;
}

static int
target_setup(struct ro_notify *n, enum ro_notify_provider p,
    const struct ro_notify_opts *o, struct ro_err *err)
{
	struct target	*tg = &n->tg[n->ntg];
	struct ro_buf	 host = RO_BUF_INIT, repo = RO_BUF_INIT,
			 base = RO_BUF_INIT;
	const char	*name = ro_notify_host_provider_name(p);
	char		 v[NOTIFY_VALUE_MAX];
	size_t		 i;
	int		 error;

	for (i = 0; i < n->ntg; i++)
		if (n->tg[i].t.provider == p)
			return ro_err_set(err, RO_EINVALID, "--notify: %s given "
			    "twice", name);
	memset(tg, 0, sizeof(*tg));
	tg->t.provider = p;
	if (!list_get(o->token_files, p, v, sizeof(v)))
		return ro_err_set(err, RO_EINVALID, "--notify %s: no "
		    "--notify-token-file", name);
	if ((error = ro_cli_secret(v, NULL, &tg->token, err)) < 0)
		return error;
	if (tg->token == NULL || tg->token[0] == '\0' ||
	    strpbrk(tg->token, "\r\n") != NULL) {
		error = ro_err_set(err, RO_EINVALID, "--notify %s: %s: empty "
		    "or more than one line", name, v);
		goto done;
	}
	tg->t.token = tg->token;
	tg->t.token_len = strlen(tg->token);
	if (p != RO_NOTIFY_WEBHOOK) {
		if (o->repo != NULL && o->repo[0] != '\0')
			error = ro_notify_host_repo_arg(p, o->repo, &repo, err);
		else if (o->remote != NULL)
			error = ro_notify_host_repo(p, o->remote, &host, &repo,
			    err);
		else
			error = ro_err_set(err, RO_EINVALID, "--notify %s: no "
			    "--notify-repo and no --repo to derive it from",
			    name);
		if (error < 0)
			goto done;
	}
	if (list_get(o->urls, p, v, sizeof(v))) {
		if (strncmp(v, "http://", 7) != 0 &&
		    strncmp(v, "https://", 8) != 0) {
			error = ro_err_set(err, RO_EINVALID, "--notify-url: "
			    "not an http(s) URL: %.200s", v);
			goto done;
		}
		i = strlen(v);
		while (i > 8 && v[i - 1] == '/' && p != RO_NOTIFY_WEBHOOK)
			v[--i] = '\0';
		error = ro_buf_addstr(&base, v);
	} else if (p == RO_NOTIFY_WEBHOOK) {
		error = ro_err_set(err, RO_EINVALID, "--notify webhook: no "
		    "--notify-url");
		goto done;
	} else if (host.len > 0)
		error = ro_notify_host_default_base(p, ro_buf_cstr(&host),
		    &base);
	else {
		error = ro_err_set(err, RO_EINVALID, "--notify %s: no "
		    "--notify-url", name);
		goto done;
	}
	if (error < 0) {
		error = ro_err_set(err, RO_ENOMEM, "out of memory");
		goto done;
	}
	tg->base = ro_buf_detach(&base, NULL);
	tg->t.base = tg->base;
	if (p != RO_NOTIFY_WEBHOOK) {
		tg->repo = ro_buf_detach(&repo, NULL);
		tg->t.repo = tg->repo;
	}
	if (tg->base == NULL || (p != RO_NOTIFY_WEBHOOK && tg->repo == NULL)) {
		error = ro_err_set(err, RO_ENOMEM, "out of memory");
		goto done;
	}
	log_info("notify: %s statuses to %s%s%s", name, tg->base,
	    tg->repo != NULL ? " for " : "", tg->repo != NULL ? tg->repo : "");
	n->ntg++;
	error = RO_OK;
done:
	if (error < 0) {
		ro_cli_secret_free(tg->token);
		free(tg->base);
		free(tg->repo);
		memset(tg, 0, sizeof(*tg));
	}
	ro_buf_release(&host);
	ro_buf_release(&repo);
	ro_buf_release(&base);
	return error;
}

/* --- the queue ------------------------------------------------------ */

static void
set_depth(struct ro_notify *n)
{
	if (n->metrics != NULL)
		ro_metrics_set_gauge(n->metrics, RO_M_NOTIFY_QUEUE_DEPTH,
		    (int64_t)n->qlen);
}

/* Takes it (freed on failure). */
static void
enqueue(struct ro_notify *n, struct item *it)
{
	struct item	*old;
	size_t		 i;

	pthread_mutex_lock(&n->mu);
	if (n->qlen == n->qcap) {
		old = &n->q[n->qhead];
		/* the first drop and every 100th: a host down for long
		 * must not flood the log */
		if (n->dropped++ % 100 == 0)
			log_warnx("notify: queue full (%zu statuses), the "
			    "oldest dropped (%.12s); %llu dropped so far",
			    n->qcap, old->sha, (unsigned long long)n->dropped);
		for (i = 0; i < n->ntg; i++)
			ro_metrics_notify(n->metrics, n->tg[i].t.provider,
			    RO_M_NOTIFY_DROPPED);
		item_free(old);
		n->qhead = (n->qhead + 1) % n->qcap;
		n->qlen--;
	}
	it->seq = ++n->seq;
	n->q[(n->qhead + n->qlen) % n->qcap] = *it;
	n->qlen++;
	set_depth(n);
	pthread_cond_signal(&n->cv);
	pthread_mutex_unlock(&n->mu);
	memset(it, 0, sizeof(*it));
}

/* Expand the target URL template. */
static char *
expand_target(const struct ro_notify *n, const char *sha, const char *room)
{
	struct ro_buf	 b = RO_BUF_INIT;
	const char	*s;
	int		 error = RO_OK;

	if (n->target_url == NULL)
		return NULL;
	ro_buf_init(&b, NOTIFY_VALUE_MAX);
	for (s = n->target_url; *s != '\0' && error == RO_OK; s++) {
		if (strncmp(s, "{sha}", 5) == 0) {
			error = ro_buf_addstr(&b, sha);
			s += 4;
		} else if (strncmp(s, "{shard}", 7) == 0) {
			error = ro_buf_addstr(&b, n->shard_url);
			s += 6;
		} else if (strncmp(s, "{room}", 6) == 0) {
			error = ro_buf_addstr(&b, room);
			s += 5;
		} else
			error = ro_buf_addch(&b, *s);
	}
	if (error < 0) {
		ro_buf_release(&b);
		return NULL;
	}
	return ro_buf_detach(&b, NULL);
}

void
ro_notify_pending(struct ro_notify *n, const char *sha)
{
	struct item	it;

	if (n == NULL)
		return;
	memset(&it, 0, sizeof(it));
	it.state = RO_NOTIFY_PENDING;
	if ((it.sha = strdup(sha)) == NULL ||
	    (it.desc = strdup("queued by the agent")) == NULL) {
		item_free(&it);
		log_warnx("notify: out of memory");
		return;
	}
	it.target_url = expand_target(n, sha, "");
	enqueue(n, &it);
}

void
ro_notify_final(struct ro_notify *n, const char *sha,
    const char *const *lines, size_t nlines)
{
	struct ro_buf	 room = RO_BUF_INIT, rec = RO_BUF_INIT;
	struct item	 it;
	char		 desc[RO_NOTIFY_DESC_MAX + 1];

	if (n == NULL)
		return;
	memset(&it, 0, sizeof(it));
	ro_buf_init(&rec, RO_NOTIFY_BODY_MAX / 2);
	if (ro_notify_host_summary(lines, nlines, sha, n->shard_str,
	    &it.state, desc, &room, &rec) < 0 ||
	    (it.sha = strdup(sha)) == NULL ||
	    (it.desc = strdup(desc)) == NULL) {
		log_warnx("notify: status of %.12s: out of memory or too "
		    "many records", sha);
		goto done;
	}
	it.records = ro_buf_detach(&rec, NULL);
	it.target_url = expand_target(n, sha, ro_buf_cstr(&room));
	enqueue(n, &it);
done:
	item_free(&it);
	ro_buf_release(&room);
	ro_buf_release(&rec);
}

/* --- the marker ----------------------------------------------------- */

static void
marker_write(struct ro_notify *n, const struct item *it, bool delivered)
{
	struct ro_err	 err = RO_ERR_INIT;
	cJSON		*o;
	char		*txt = NULL;

	if ((o = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(o, "sha", it->sha) == NULL ||
	    cJSON_AddStringToObject(o, "state", ro_notify_host_state_name(
	    RO_NOTIFY_GITHUB, it->state)) == NULL ||
	    cJSON_AddStringToObject(o, "description", it->desc) == NULL ||
	    cJSON_AddStringToObject(o, "target_url", it->target_url != NULL ?
	    it->target_url : "") == NULL ||
	    cJSON_AddRawToObject(o, "records", it->records != NULL ?
	    it->records : "[]") == NULL ||
	    cJSON_AddBoolToObject(o, "delivered", delivered) == NULL ||
	    (txt = cJSON_PrintUnformatted(o)) == NULL)
		log_warnx("notify: %s: out of memory", n->marker);
	else if (ro_file_replace(n->marker, txt, strlen(txt), &err) < 0)
		log_warnx("notify: %s", err.msg);
	cJSON_free(txt);
	cJSON_Delete(o);
}

/* At start: an unconfirmed final status goes out again. */
static void
marker_load(struct ro_notify *n)
{
	struct ro_buf	 b = RO_BUF_INIT;
	struct ro_err	 err = RO_ERR_INIT;
	struct item	 it;
	cJSON		*o = NULL, *v;
	const char	*st;
	int		 error;

	memset(&it, 0, sizeof(it));
	if ((error = ro_file_read(n->marker, NOTIFY_MARKER_MAX, &b,
	    &err)) < 0) {
		if (error != RO_ENOTFOUND)
			log_warnx("notify: %s", err.msg);
		goto done;
	}
	if ((o = cJSON_ParseWithLength(b.ptr, b.len)) == NULL ||
	    !cJSON_IsString(cJSON_GetObjectItem(o, "sha")) ||
	    !cJSON_IsString(cJSON_GetObjectItem(o, "state")) ||
	    !cJSON_IsString(cJSON_GetObjectItem(o, "description"))) {
		log_warnx("notify: %s: not a status record; ignored",
		    n->marker);
		goto done;
	}
	if (cJSON_IsTrue(cJSON_GetObjectItem(o, "delivered")))
		goto done;
	st = cJSON_GetObjectItem(o, "state")->valuestring;
	it.state = strcmp(st, "success") == 0 ? RO_NOTIFY_SUCCESS :
	    strcmp(st, "failure") == 0 ? RO_NOTIFY_FAILURE :
	    strcmp(st, "pending") == 0 ? RO_NOTIFY_PENDING : RO_NOTIFY_ERROR;
	v = cJSON_GetObjectItem(o, "target_url");
	if ((it.sha = strdup(cJSON_GetObjectItem(o, "sha")->valuestring)) ==
	    NULL || (it.desc = strdup(cJSON_GetObjectItem(o,
	    "description")->valuestring)) == NULL ||
	    (cJSON_IsString(v) && v->valuestring[0] != '\0' &&
	    (it.target_url = strdup(v->valuestring)) == NULL))
		goto done;
	v = cJSON_GetObjectItem(o, "records");
	it.records = cJSON_IsArray(v) ? cJSON_PrintUnformatted(v) : NULL;
	log_info("notify: final status of %.12s not confirmed before the "
	    "restart; sending it again", it.sha);
	enqueue(n, &it);
done:
	item_free(&it);
	cJSON_Delete(o);
	ro_buf_release(&b);
}

/* --- delivery ------------------------------------------------------- */


/* Stopped, and the time to drain the queue is over. Under mu. */
static bool
halted_locked(struct ro_notify *n)
{
	return n->stop && ro_now_ms() >= n->drain_until;
}

bool
ro_notify_stopping(struct ro_notify *n)
{
	bool	s;

	pthread_mutex_lock(&n->mu);
	s = halted_locked(n);
	pthread_mutex_unlock(&n->mu);
	return s;
}

/* Sleep ms unless halted (then true). */
static bool
nap(struct ro_notify *n, long ms)
{
	struct timespec	ts;
	long long	end = ro_now_ms() + ms, until;
	bool		s;

	pthread_mutex_lock(&n->mu);
	while (!(s = halted_locked(n)) && ro_now_ms() < end) {
		until = n->stop && n->drain_until < end ? n->drain_until : end;
		ts.tv_sec = (time_t)(until / 1000);
		ts.tv_nsec = (long)(until % 1000) * 1000000L;
		(void)pthread_cond_timedwait(&n->cv, &n->mu, &ts);
	}
	pthread_mutex_unlock(&n->mu);
	return s;
}

static long
backoff(const struct ro_notify *n, unsigned attempt)
{
	long		d = n->backoff_ms;
	uint32_t	rnd = 0;

	while (attempt-- > 0 && d < RO_NOTIFY_BACKOFF_MAX_MS)
		d *= 2;
	if (d > RO_NOTIFY_BACKOFF_MAX_MS)
		d = RO_NOTIFY_BACKOFF_MAX_MS;
	/* equal jitter: half fixed, half random */
	(void)RAND_bytes((unsigned char *)&rnd, sizeof(rnd));
	return d / 2 + (long)(rnd % (uint32_t)(d / 2 + 1));
}

/* Keep the newest final status waiting in the marker (delivered: false),
 * so that a restart sends it even if it never left the queue. */
static void
mark_newest(struct ro_notify *n)
{
	struct item	 it, *q, *newest = NULL;
	size_t		 i;

	memset(&it, 0, sizeof(it));
	pthread_mutex_lock(&n->mu);
	for (i = 0; i < n->qlen; i++) {
		q = &n->q[(n->qhead + i) % n->qcap];
		if (q->state != RO_NOTIFY_PENDING)
			newest = q;
	}
	if (newest != NULL && newest->seq > n->marked) {
		it.state = newest->state;
		it.seq = newest->seq;
		it.sha = strdup(newest->sha);
		it.desc = strdup(newest->desc);
		it.target_url = newest->target_url != NULL ?
		    strdup(newest->target_url) : NULL;
		it.records = newest->records != NULL ?
		    strdup(newest->records) : NULL;
	}
	pthread_mutex_unlock(&n->mu);
	if (it.sha != NULL && it.desc != NULL) {
		marker_write(n, &it, false);
		n->marked = it.seq;
	}
	item_free(&it);
}

/* Deliver one status to every provider. True when all settled. */
static bool
deliver_all(struct ro_notify *n, const struct item *it)
{
	unsigned	done = 0, attempt;
	long		ra, wait;
	size_t		i;
	enum ro_notify_result	r;

	for (attempt = 0; attempt < RO_NOTIFY_ATTEMPTS; attempt++) {
		ra = -1;
		for (i = 0; i < n->ntg; i++) {
			if (done & (1u << i))
				continue;
			r = ro_notify_send(n, &n->tg[i], it, &ra);
			if (ro_notify_stopping(n))
				return false;
			if (r == RO_NOTIFY_RETRY) {
				ro_metrics_notify(n->metrics,
				    n->tg[i].t.provider, RO_M_NOTIFY_RETRY);
				continue;
			}
			done |= 1u << i;
			ro_metrics_notify(n->metrics, n->tg[i].t.provider,
			    r == RO_NOTIFY_DELIVERED ? RO_M_NOTIFY_SUCCESS :
			    RO_M_NOTIFY_REJECTED);
			if (r == RO_NOTIFY_DELIVERED && n->metrics != NULL)
				ro_metrics_set_gauge(n->metrics,
				    RO_M_NOTIFY_LAST_SUCCESS,
				    (int64_t)time(NULL));
		}
		if (done == (1u << n->ntg) - 1)
			return true;
		if (attempt + 1 == RO_NOTIFY_ATTEMPTS)
			break;
		wait = backoff(n, attempt);
		if (ra > wait)
			wait = ra;
		mark_newest(n);
		if (nap(n, wait))
			return false;
	}
	for (i = 0; i < n->ntg; i++)
		if (!(done & (1u << i))) {
			ro_metrics_notify(n->metrics, n->tg[i].t.provider,
			    RO_M_NOTIFY_ABANDONED);
			log_warnx("notify: %s: status of %.12s given up after "
			    "%d attempts", ro_notify_host_provider_name(
			    n->tg[i].t.provider), it->sha, RO_NOTIFY_ATTEMPTS);
		}
	return false;
}

static void *
run(void *arg)
{
	struct ro_notify	*n = arg;
	struct item		 it;
	bool			 ok;

	for (;;) {
		pthread_mutex_lock(&n->mu);
		while (!n->stop && n->qlen == 0)
			pthread_cond_wait(&n->cv, &n->mu);
		if (halted_locked(n) || (n->stop && n->qlen == 0)) {
			pthread_mutex_unlock(&n->mu);
			mark_newest(n);
			break;
		}
		pthread_mutex_unlock(&n->mu);
		mark_newest(n);

		pthread_mutex_lock(&n->mu);
		if (n->qlen == 0) {
			pthread_mutex_unlock(&n->mu);
			continue;
		}
		it = n->q[n->qhead];
		memset(&n->q[n->qhead], 0, sizeof(it));
		n->qhead = (n->qhead + 1) % n->qcap;
		n->qlen--;
		set_depth(n);
		pthread_mutex_unlock(&n->mu);

		ok = deliver_all(n, &it);
		if (ok && it.seq == n->marked)
			marker_write(n, &it, true);
		item_free(&it);
	}
	return NULL;
}

/* --- set-up --------------------------------------------------------- */

int
ro_notify_start(struct ro_notify **out, const struct ro_notify_opts *o,
    struct ro_err *err)
{
	struct ro_notify	*n;
	pthread_condattr_t	 ca;
	const char		*s, *e;
	char			 shard[RO_SHARD_STR_MAX];
	int			 k, error;

	*out = NULL;
	if (o->providers == NULL || o->providers[0] == '\0')
		return RO_OK;
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	pthread_mutex_init(&n->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&n->cv, &ca);
	pthread_condattr_destroy(&ca);
	n->metrics = o->metrics;
	n->backoff_ms = o->backoff_ms > 0 ? o->backoff_ms :
	    RO_NOTIFY_BACKOFF_MS;
	n->qcap = o->queue_max > 0 ? o->queue_max : RO_NOTIFY_QUEUE_MAX;
	if ((n->q = calloc(n->qcap, sizeof(*n->q))) == NULL)
		goto oom;
	ro_shard_str(shard, &o->shard);
	snprintf(n->shard_str, sizeof(n->shard_str), "%s", shard);
	snprintf(n->shard_url, sizeof(n->shard_url), "%u-of-%u",
	    o->shard.index, o->shard.count);
	if (o->shard.count > 1)
		snprintf(n->context, sizeof(n->context),
		    "roomops/shard-%u-of-%u", o->shard.index, o->shard.count);
	else
		snprintf(n->context, sizeof(n->context), "roomops");
	for (s = o->providers; *s != '\0'; s = *e == ',' ? e + 1 : e) {
		e = s + strcspn(s, ",");
		if (e == s)
			continue;
		if ((k = ro_notify_host_provider(s, (size_t)(e - s))) < 0) {
			error = ro_err_set(err, RO_EINVALID, "--notify: unknown "
			    "provider \"%.*s\" (expected github, gitlab, gitea "
			    "or webhook)", (int)(e - s > 64 ? 64 : e - s), s);
			goto fail;
		}
		if ((error = target_setup(n, (enum ro_notify_provider)k, o,
		    err)) < 0)
			goto fail;
	}
	if (n->ntg == 0) {
		error = ro_err_set(err, RO_EINVALID, "--notify: no provider");
		goto fail;
	}
	if (o->target_url != NULL && o->target_url[0] != '\0' &&
	    (n->target_url = strdup(o->target_url)) == NULL)
		goto oom;
	if (asprintf(&n->marker, "%s/%s", o->state_dir, RO_NOTIFY_FILE) < 0) {
		n->marker = NULL;
		goto oom;
	}
	if ((n->curl = curl_easy_init()) == NULL) {
		error = ro_err_set(err, RO_ERROR, "curl_easy_init failed");
		goto fail;
	}
	marker_load(n);
	if (pthread_create(&n->tid, NULL, run, n) != 0) {
		error = ro_err_set(err, RO_ERROR, "notify thread not started");
		goto fail;
	}
	n->started = true;
	*out = n;
	return RO_OK;
oom:
	error = ro_err_set(err, RO_ENOMEM, "out of memory");
fail:
	ro_notify_free(n);
	return error;
}

void
ro_notify_free(struct ro_notify *n)
{
	size_t	i;

	if (n == NULL)
		return;
	if (n->started) {
		pthread_mutex_lock(&n->mu);
		n->stop = true;
		n->drain_until = ro_now_ms() + RO_NOTIFY_DRAIN_MS;
		pthread_cond_broadcast(&n->cv);
		pthread_mutex_unlock(&n->mu);
		pthread_join(n->tid, NULL);
	}
	for (i = 0; i < n->qlen; i++)
		item_free(&n->q[(n->qhead + i) % n->qcap]);
	free(n->q);
	for (i = 0; i < n->ntg; i++) {
		ro_cli_secret_free(n->tg[i].token);
		free(n->tg[i].base);
		free(n->tg[i].repo);
	}
	if (n->curl != NULL)
		curl_easy_cleanup(n->curl);
	free(n->target_url);
	free(n->marker);
	pthread_cond_destroy(&n->cv);
	pthread_mutex_destroy(&n->mu);
	free(n);
}
