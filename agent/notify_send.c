/*
 * notify_send.c: one commit status (or signed webhook) sent to one host
 * with libcurl on the notify thread: the request notify_host.c builds,
 * bounded answers, Retry-After and rate-limit headers, the host's reason
 * for a refusal, logged once per provider and status, never the token.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "roomops/buf.h"
#include "roomops/clock.h"
#include "roomops/log.h"
#include "notify_host.h"
#include "notify_impl.h"

#include "../common/banned.h"

struct resp {
	struct ro_buf	 body;
	long		 retry_after_ms;	/* -1 none */
	bool		 limited;	/* rate limit: no requests left */
	long		 reset_ms;	/* until the limit resets, -1 */
	struct ro_notify *n;
};

static size_t
on_body(char *p, size_t sz, size_t nm, void *arg)
{
	struct resp	*r = arg;

	/* keep the start, swallow the rest */
	(void)ro_buf_add(&r->body, p, sz * nm);
	return sz * nm;
}

/* Seconds from now, as bounded milliseconds. */
static long
wait_ms(long s)
{
	if (s <= 0)
		return 0;
	return s > RO_NOTIFY_RETRY_AFTER_MAX_MS / 1000 ?
	    RO_NOTIFY_RETRY_AFTER_MAX_MS : s * 1000;
}

/* The value of header name in the line p[0..len), into out; false when
 * the line is another header (or too long). */
static bool
header_value(const char *p, size_t len, const char *name, char *out,
    size_t outsz)
{
	size_t	n = strlen(name);

	if (len <= n || len - n >= outsz || strncasecmp(p, name, n) != 0 ||
	    p[n] != ':')
		return false;
	memcpy(out, p + n + 1, len - n - 1);
	out[len - n - 1] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	return true;
}

/* Retry-After (seconds or an HTTP date), and the rate limit headers of
 * GitHub (X-RateLimit-*) and GitLab (RateLimit-*): a 403 with no
 * requests left is a rate limit, not a refusal. */
static size_t
on_header(char *p, size_t sz, size_t nm, void *arg)
{
	struct resp	*r = arg;
	size_t		 len = sz * nm;
	char		 v[128], *end;
	long		 n;
	time_t		 t;

	if (header_value(p, len, "Retry-After", v, sizeof(v))) {
		errno = 0;
		n = strtol(v, &end, 10);
		if (errno == 0 && end != v && *end == '\0' && n >= 0)
			r->retry_after_ms = wait_ms(n);
		else if ((t = curl_getdate(v + strspn(v, " "), NULL)) != -1)
			r->retry_after_ms = wait_ms((long)(t - time(NULL)));
	} else if (header_value(p, len, "X-RateLimit-Remaining", v,
	    sizeof(v)) || header_value(p, len, "RateLimit-Remaining", v,
	    sizeof(v))) {
		if (strtol(v, &end, 10) == 0 && end != v)
			r->limited = true;
	} else if (header_value(p, len, "X-RateLimit-Reset", v, sizeof(v)) ||
	    header_value(p, len, "RateLimit-Reset", v, sizeof(v))) {
		errno = 0;
		n = strtol(v, &end, 10);
		if (errno == 0 && end != v && n > 0)
			r->reset_ms = wait_ms(n - (long)time(NULL));
	}
	return len;
}

static int
on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	struct resp	*r = arg;

	return ro_notify_stopping(r->n) ? 1 : 0;
}

/* The host's reason: "message" of a JSON body, else the body's start,
 * printable ASCII only. */
static void
reason(const struct ro_buf *body, char *out, size_t len)
{
	cJSON		*o;
	const cJSON	*m;
	size_t		 i;

	out[0] = '\0';
	if (body->len == 0)
		return;
	if ((o = cJSON_ParseWithLength(body->ptr, body->len)) != NULL) {
		m = cJSON_GetObjectItem(o, "message");
		if (!cJSON_IsString(m))
			m = cJSON_GetObjectItem(o, "error");
		if (cJSON_IsString(m))
			snprintf(out, len, "%s", m->valuestring);
		cJSON_Delete(o);
	}
	if (out[0] == '\0')
		snprintf(out, len, "%.*s", (int)(body->len < len ? body->len :
		    len - 1), body->ptr);
	for (i = 0; out[i] != '\0'; i++)
		if ((unsigned char)out[i] < 0x20 || (unsigned char)out[i] > 0x7e)
			out[i] = ' ';
}

enum ro_notify_result
ro_notify_send(struct ro_notify *n, struct target *tg, const struct item *it,
    long *retry_after_ms)
{
	struct ro_notify_status	 st;
	struct ro_notify_req	 req;
	struct ro_err		 err = RO_ERR_INIT;
	struct curl_slist	*hdrs = NULL, *h;
	struct resp		 r;
	const char		*name = ro_notify_host_provider_name(
				    tg->t.provider);
	char			 errbuf[CURL_ERROR_SIZE] = "",
				 why[NOTIFY_REASON_MAX];
	enum ro_notify_result		 res = RO_NOTIFY_RETRY;
	CURLcode		 cc;
	long			 code = 0;
	size_t			 i;

	memset(&r, 0, sizeof(r));
	ro_buf_init(&r.body, NOTIFY_RESP_MAX);
	r.retry_after_ms = -1;
	r.reset_ms = -1;
	r.n = n;
	st.sha = it->sha;
	st.state = it->state;
	st.description = it->desc;
	st.context = n->context;
	st.target_url = it->target_url;
	st.records = it->records;
	if (ro_notify_host_request(&tg->t, &st, &req, &err) < 0) {
		log_warnx("notify: %s: status of %.12s not sent: %s", name,
		    it->sha, err.msg);
		ro_buf_release(&r.body);
		return RO_NOTIFY_PERMANENT;
	}
	for (i = 0; i < req.headers.n; i++) {
		if ((h = curl_slist_append(hdrs, req.headers.v[i])) == NULL)
			goto done;
		hdrs = h;
	}
	curl_easy_reset(n->curl);
	curl_easy_setopt(n->curl, CURLOPT_URL, req.url);
	curl_easy_setopt(n->curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(n->curl, CURLOPT_POSTFIELDS, ro_buf_cstr(&req.body));
	curl_easy_setopt(n->curl, CURLOPT_POSTFIELDSIZE, (long)req.body.len);
	curl_easy_setopt(n->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(n->curl, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(n->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(n->curl, CURLOPT_HEADERDATA, &r);
	curl_easy_setopt(n->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(n->curl, CURLOPT_XFERINFODATA, &r);
	curl_easy_setopt(n->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(n->curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(n->curl, CURLOPT_TIMEOUT_MS,
	    (long)RO_NOTIFY_TIMEOUT_MS);
	curl_easy_setopt(n->curl, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)RO_NOTIFY_TIMEOUT_MS / 2);
	curl_easy_setopt(n->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(n->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	cc = curl_easy_perform(n->curl);
	if (cc != CURLE_OK) {
		if (cc == CURLE_ABORTED_BY_CALLBACK)
			goto done;
		if (!tg->failing)
			log_warnx("notify: %s: status of %.12s: %s; retrying "
			    "(logged once until a status gets through)", name,
			    it->sha, errbuf[0] != '\0' ? errbuf :
			    curl_easy_strerror(cc));
		else
			log_debug("notify: %s: status of %.12s: %s", name,
			    it->sha, errbuf[0] != '\0' ? errbuf :
			    curl_easy_strerror(cc));
		tg->failing = true;
		goto done;
	}
	curl_easy_getinfo(n->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 200 && code < 300) {
		res = RO_NOTIFY_DELIVERED;
		if (tg->failing)
			log_info("notify: %s: statuses get through again",
			    name);
		tg->failing = false;
		log_debug("notify: %s: %s of %.12s delivered (%ld)", name,
		    ro_notify_host_state_name(tg->t.provider, it->state),
		    it->sha, code);
		goto done;
	}
	if (code == 429 || code >= 500 || code < 200 || (code == 403 &&
	    (r.retry_after_ms >= 0 || r.limited))) {
		*retry_after_ms = r.retry_after_ms >= 0 ? r.retry_after_ms :
		    r.limited ? r.reset_ms : -1;
		if (!tg->failing)
			log_warnx("notify: %s: status of %.12s: HTTP %ld; "
			    "retrying (logged once until a status gets "
			    "through)", name, it->sha, code);
		else
			log_debug("notify: %s: status of %.12s: HTTP %ld, "
			    "retrying", name, it->sha, code);
		tg->failing = true;
		goto done;
	}
	res = RO_NOTIFY_PERMANENT;
	if (code >= 400 && code < 500 && !tg->logged[code - 400]) {
		tg->logged[code - 400] = true;
		reason(&r.body, why, sizeof(why));
		log_warnx("notify: %s refused the status of %.12s: HTTP %ld%s%s "
		    "(not retried; further %ld answers are not logged)", name,
		    it->sha, code, why[0] != '\0' ? ": " : "", why, code);
	} else if (code < 400)
		log_warnx("notify: %s: status of %.12s: HTTP %ld (not "
		    "retried)", name, it->sha, code);
done:
	curl_slist_free_all(hdrs);
	ro_notify_req_release(&req);
	ro_buf_release(&r.body);
	return res;
}
