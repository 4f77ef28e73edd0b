/* client.c: RoomServer REST client on libcurl, with bounded retries. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/rand.h>

#include "roomops/client.h"
#include "roomops/log.h"
#include "roomops/state.h"

#include "banned.h"

#define CLIENT_URL_MAX		4096	/* bytes */
#define CLIENT_RETRY_AFTER_MAX_S 60	/* never sleep longer on a hint */

struct ro_client {
	CURL		*curl;
	char		*base_url;
	char		*auth_header;	/* "Authorization: Bearer ..." */
	char		*cacert;
	long		 timeout_ms;
	long		 connect_timeout_ms;
	int		 max_attempts;
	long		 backoff_ms;
	long		 backoff_cap_ms;
	long		 last_status;
	long		 retry_after_s;	/* from the last response, -1 none */
	struct ro_buf	 body;
	char		 errbuf[CURL_ERROR_SIZE];
	struct ro_client_stats stats;
};

/* What a 404 or 409 means for a request. */
enum idem {
	IDEM_NONE,
	IDEM_409_DONE,		/* join: already there */
	IDEM_404_DONE,		/* kick, delete: already gone */
	IDEM_404_405_NOTFOUND	/* PUT entity: report, never force */
};

struct req {
	const char	*method;
	char		 what[160];	/* for messages: "join E-x" */
	char		 url[CLIENT_URL_MAX];
	const char	*json;		/* body or NULL */
	curl_mime	*mime;		/* multipart body or NULL */
	enum idem	 idem;
	bool		 mutating;
	size_t		 max;		/* response cap, bytes */
};

int
ro_client_global_init(struct ro_err *err)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return ro_err_set(err, RO_ERROR, "curl_global_init failed");
	return RO_OK;
}

static size_t
on_body(char *p, size_t sz, size_t n, void *arg)
{
	struct ro_buf	*b = arg;

	return ro_buf_add(b, p, sz * n) < 0 ? 0 : sz * n;	/* 0 aborts */
}

static size_t
on_header(char *p, size_t sz, size_t n, void *arg)
{
	struct ro_client *c = arg;
	size_t		 len = sz * n;
	char		 line[128], *end;
	long		 v;

	if (len < 13 || len >= sizeof(line) ||
	    strncasecmp(p, "Retry-After:", 12) != 0)
		return len;
	memcpy(line, p + 12, len - 12);
	line[len - 12] = '\0';
	errno = 0;
	v = strtol(line, &end, 10);
	if (errno == 0 && end != line && v >= 0)
		c->retry_after_s = v < CLIENT_RETRY_AFTER_MAX_S ? v :
		    CLIENT_RETRY_AFTER_MAX_S;
	return len;
}

int
ro_client_new(struct ro_client **out, const struct ro_client_opts *o,
    struct ro_err *err)
{
	struct ro_client *c;
	size_t		 len;
	int		 error = RO_OK;

	if (o->base_url == NULL || (strncmp(o->base_url, "http://", 7) != 0 &&
	    strncmp(o->base_url, "https://", 8) != 0))
		return ro_err_set(err, RO_EINVALID, "server URL must start "
		    "with http:// or https://: %s", o->base_url != NULL ?
		    o->base_url : "(none)");
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	ro_buf_init(&c->body, RO_CLIENT_BODY_MAX);
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : RO_CLIENT_TIMEOUT_MS;
	c->connect_timeout_ms = o->connect_timeout_ms > 0 ?
	    o->connect_timeout_ms : RO_CLIENT_CONNECT_MS;
	c->max_attempts = o->max_attempts > 0 ? o->max_attempts :
	    RO_CLIENT_ATTEMPTS;
	c->backoff_ms = o->backoff_ms > 0 ? o->backoff_ms : RO_CLIENT_BACKOFF_MS;
	c->backoff_cap_ms = o->backoff_cap_ms > 0 ? o->backoff_cap_ms :
	    RO_CLIENT_BACKOFF_CAP_MS;
	if ((c->base_url = strdup(o->base_url)) == NULL ||
	    (o->cacert != NULL && (c->cacert = strdup(o->cacert)) == NULL) ||
	    (o->token != NULL && asprintf(&c->auth_header,
	    "Authorization: Bearer %s", o->token) < 0) ||
	    (c->curl = curl_easy_init()) == NULL) {
		c->auth_header = NULL;
		error = ro_err_set(err, RO_ENOMEM, "out of memory");
		goto done;
	}
	len = strlen(c->base_url);
	while (len > 0 && c->base_url[len - 1] == '/')
		c->base_url[--len] = '\0';
	*out = c;
	c = NULL;
done:
	ro_client_free(c);
	return error;
}

void
ro_client_free(struct ro_client *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	if (c->auth_header != NULL)
		explicit_bzero(c->auth_header, strlen(c->auth_header));
	free(c->auth_header);
	free(c->base_url);
	free(c->cacert);
	ro_buf_release(&c->body);
	free(c);
}

const struct ro_client_stats *
ro_client_stats(const struct ro_client *c)
{
	return &c->stats;
}

long
ro_client_last_status(const struct ro_client *c)
{
	return c->last_status;
}

/* Build base + "/room/" + esc(room) + suffix [+ esc(name) + tail]. */
static int
build_url(struct ro_client *c, struct req *r, const char *room,
    const char *mid, const char *name, const char *tail, struct ro_err *err)
{
	char	*er = NULL, *en = NULL;
	int	 n, error = RO_OK;

	if ((er = curl_easy_escape(c->curl, room, 0)) == NULL ||
	    (name != NULL && (en = curl_easy_escape(c->curl, name, 0)) == NULL)) {
		error = ro_err_set(err, RO_ENOMEM, "out of memory");
		goto done;
	}
	n = snprintf(r->url, sizeof(r->url), "%s/room/%s%s%s%s", c->base_url,
	    er, mid, en != NULL ? en : "", tail != NULL ? tail : "");
	if (n < 0 || (size_t)n >= sizeof(r->url))
		error = ro_err_set(err, RO_ETOOBIG, "%s: URL too long", r->what);
done:
	curl_free(er);
	curl_free(en);
	return error;
}

static long
backoff_delay_ms(const struct ro_client *c, int attempt)
{
	long		 d = c->backoff_ms;
	unsigned char	 rnd[2];
	double		 jitter;
	int		 i;

	for (i = 1; i < attempt && d < c->backoff_cap_ms; i++)
		d *= 2;
	if (d > c->backoff_cap_ms)
		d = c->backoff_cap_ms;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		rnd[0] = rnd[1] = 0x80;
	jitter = ((rnd[0] << 8 | rnd[1]) / 65535.0 - 0.5) * 0.4;  /* ±20 % */
	d += (long)(d * jitter);
	if (c->retry_after_s >= 0 && c->retry_after_s * 1000 > d)
		d = c->retry_after_s * 1000;
	return d;
}

static void
sleep_ms(long ms)
{
	struct timespec	ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* The "error" code of a RoomServer error body, or "". */
static void
error_code(const struct ro_buf *body, char *out, size_t outsz)
{
	cJSON		*o, *e;

	out[0] = '\0';
	if (body->len == 0 || (o = cJSON_ParseWithLength(body->ptr,
	    body->len)) == NULL)
		return;
	if ((e = cJSON_GetObjectItemCaseSensitive(o, "error")) != NULL &&
	    cJSON_IsString(e))
		snprintf(out, outsz, "%s", e->valuestring);
	cJSON_Delete(o);
}

static int
perform(struct ro_client *c, struct req *r, struct ro_err *err)
{
	struct curl_slist *hdrs = NULL;
	CURLcode	 cc;
	char		 code[64];
	int		 attempt, error = RO_OK;
	long		 delay;
	bool		 transient;

	if (c->auth_header != NULL)
		hdrs = curl_slist_append(hdrs, c->auth_header);
	if (r->json != NULL)
		hdrs = curl_slist_append(hdrs,
		    "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (hdrs == NULL)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	for (attempt = 1; ; attempt++) {
		curl_easy_reset(c->curl);
		ro_buf_reset(&c->body);
		c->body.max = r->max;
		c->last_status = 0;
		c->retry_after_s = -1;
		c->errbuf[0] = '\0';
		curl_easy_setopt(c->curl, CURLOPT_URL, r->url);
		curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, r->method);
		curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &c->body);
		curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, c);
		curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->errbuf);
		curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, c->timeout_ms);
		curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS,
		    c->connect_timeout_ms);
		curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(c->curl, CURLOPT_TCP_NODELAY, 1L);
		if (c->cacert != NULL)
			curl_easy_setopt(c->curl, CURLOPT_CAINFO, c->cacert);
		if (strcmp(r->method, "GET") == 0)
			curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
		if (r->json != NULL)
			curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, r->json);
		else if (r->mime != NULL)
			curl_easy_setopt(c->curl, CURLOPT_MIMEPOST, r->mime);
		else if (strcmp(r->method, "POST") == 0)
			curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, "");
		c->stats.requests++;
		cc = curl_easy_perform(c->curl);
		if (cc == CURLE_OK)
			curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE,
			    &c->last_status);
		if (cc == CURLE_WRITE_ERROR && c->body.len >= r->max - 1) {
			error = ro_err_set(err, RO_ETOOBIG, "%s: response over "
			    "%zu bytes", r->what, r->max);
			goto done;
		}
		transient = cc != CURLE_OK || c->last_status == 429 ||
		    c->last_status >= 500;
		if (!transient)
			break;
		if (attempt >= c->max_attempts) {
			if (cc != CURLE_OK)
				error = ro_err_set(err, RO_EAGAIN, "%s: %s "
				    "(after %d attempts)", r->what,
				    c->errbuf[0] != '\0' ? c->errbuf :
				    curl_easy_strerror(cc), attempt);
			else
				error = ro_err_set(err, RO_EAGAIN, "%s: HTTP "
				    "%ld (after %d attempts)", r->what,
				    c->last_status, attempt);
			goto done;
		}
		delay = backoff_delay_ms(c, attempt);
		log_debug("%s: %s, retry %d in %ld ms", r->what,
		    cc != CURLE_OK ? curl_easy_strerror(cc) : "server error",
		    attempt, delay);
		c->stats.retries++;
		sleep_ms(delay);
	}
	if (c->last_status >= 200 && c->last_status < 300) {
		if (r->mutating)
			c->stats.mutations++;
		goto done;
	}
	if ((c->last_status == 409 && r->idem == IDEM_409_DONE) ||
	    (c->last_status == 404 && r->idem == IDEM_404_DONE))
		goto done;
	error_code(&c->body, code, sizeof(code));
	if (c->last_status == 404 || (c->last_status == 405 &&
	    r->idem == IDEM_404_405_NOTFOUND))
		error = ro_err_set(err, RO_ENOTFOUND, "%s: HTTP %ld%s%s",
		    r->what, c->last_status, code[0] ? " " : "", code);
	else if (c->last_status == 413)
		error = ro_err_set(err, RO_ETOOBIG, "%s: HTTP 413%s%s",
		    r->what, code[0] ? " " : "", code);
	else
		error = ro_err_set(err, RO_EINVALID, "%s: HTTP %ld%s%s",
		    r->what, c->last_status, code[0] ? " " : "", code);
done:
	curl_slist_free_all(hdrs);
	return error;
}

static void
req_init(struct req *r, const char *method, const char *what, const char *id,
    enum idem idem)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	snprintf(r->what, sizeof(r->what), "%s%s%.120s", what,
	    id != NULL ? " " : "", id != NULL ? id : "");
	r->idem = idem;
	r->mutating = strcmp(method, "GET") != 0;
	r->max = RO_CLIENT_BODY_MAX;
}

int
ro_client_health(struct ro_client *c, struct ro_err *err)
{
	struct req	r;
	int		n;

	req_init(&r, "GET", "health", NULL, IDEM_NONE);
	n = snprintf(r.url, sizeof(r.url), "%s/health", c->base_url);
	if (n < 0 || (size_t)n >= sizeof(r.url))
		return ro_err_set(err, RO_ETOOBIG, "health: URL too long");
	return perform(c, &r, err);
}

int
ro_client_get_state(struct ro_client *c, const char *room_id,
    struct ro_state **out, struct ro_err *err)
{
	struct req	r;
	int		error;

	req_init(&r, "GET", "get state", room_id, IDEM_NONE);
	r.max = RO_STATE_JSON_MAX;
	if ((error = build_url(c, &r, room_id, "/state", NULL, NULL, err)) < 0 ||
	    (error = perform(c, &r, err)) < 0)
		return error;
	return ro_state_parse_json(out, c->body.ptr != NULL ? c->body.ptr : "",
	    c->body.len, err);
}

static int
send_entity(struct ro_client *c, const char *method, const char *what,
    enum idem idem, const char *room_id, const struct ro_entity *e,
    struct ro_err *err)
{
	struct req	 r;
	cJSON		*o = NULL;
	char		*json = NULL;
	int		 error;

	req_init(&r, method, what, e->id, idem);
	if (strcmp(method, "POST") == 0)
		error = build_url(c, &r, room_id, "/join", NULL, NULL, err);
	else
		error = build_url(c, &r, room_id, "/entities/", e->id, NULL,
		    err);
	if (error < 0)
		goto done;
	if ((o = ro_entity_to_json(e, room_id)) == NULL ||
	    (json = cJSON_PrintUnformatted(o)) == NULL) {
		error = ro_err_set(err, RO_ENOMEM, "out of memory");
		goto done;
	}
	r.json = json;
	error = perform(c, &r, err);
done:
	cJSON_Delete(o);
	free(json);
	return error;
}

int
ro_client_join(struct ro_client *c, const char *room_id,
    const struct ro_entity *e, struct ro_err *err)
{
	return send_entity(c, "POST", "join", IDEM_409_DONE, room_id, e, err);
}

int
ro_client_update(struct ro_client *c, const char *room_id,
    const struct ro_entity *e, struct ro_err *err)
{
	return send_entity(c, "PUT", "update", IDEM_404_405_NOTFOUND, room_id,
	    e, err);
}

/* A request without a body: build the URL, send, map the outcome. */
static int
simple(struct ro_client *c, const char *method, const char *what,
    const char *room_id, const char *mid, const char *name, const char *tail,
    enum idem idem, struct ro_err *err)
{
	struct req	r;
	int		error;

	req_init(&r, method, what, name, idem);
	if ((error = build_url(c, &r, room_id, mid, name, tail, err)) < 0)
		return error;
	return perform(c, &r, err);
}

int
ro_client_kick(struct ro_client *c, const char *room_id,
    const char *entity_id, struct ro_err *err)
{
	return simple(c, "DELETE", "kick", room_id, "/entities/", entity_id,
	    NULL, IDEM_404_DONE, err);
}

int
ro_client_seed(struct ro_client *c, const char *room_id,
    const struct ro_artifact *a, struct ro_err *err)
{
	struct req	 r;
	curl_mime	*mime = NULL;
	curl_mimepart	*part;
	char		*tags = NULL;
	int		 error;

	req_init(&r, "POST", "seed", a->name, IDEM_NONE);
	if ((error = build_url(c, &r, room_id, "/artifacts/seed", NULL, NULL,
	    err)) < 0)
		goto done;
	if ((tags = ro_strv_join(&a->tags, ",")) == NULL ||
	    (mime = curl_mime_init(c->curl)) == NULL) {
		error = ro_err_set(err, RO_ENOMEM, "out of memory");
		goto done;
	}
	if ((part = curl_mime_addpart(mime)) == NULL ||
	    curl_mime_name(part, "name") != CURLE_OK ||
	    curl_mime_data(part, a->name, CURL_ZERO_TERMINATED) != CURLE_OK ||
	    (part = curl_mime_addpart(mime)) == NULL ||
	    curl_mime_name(part, "type") != CURLE_OK ||
	    curl_mime_data(part, a->type, CURL_ZERO_TERMINATED) != CURLE_OK ||
	    (part = curl_mime_addpart(mime)) == NULL ||
	    curl_mime_name(part, "workspace") != CURLE_OK ||
	    curl_mime_data(part, a->workspace, CURL_ZERO_TERMINATED) !=
	    CURLE_OK ||
	    (part = curl_mime_addpart(mime)) == NULL ||
	    curl_mime_name(part, "tags") != CURLE_OK ||
	    curl_mime_data(part, tags, CURL_ZERO_TERMINATED) != CURLE_OK ||
	    (part = curl_mime_addpart(mime)) == NULL ||
	    curl_mime_name(part, "file") != CURLE_OK ||
	    curl_mime_filename(part, a->name) != CURLE_OK ||
	    curl_mime_type(part, "application/octet-stream") != CURLE_OK ||
	    curl_mime_data(part, a->content != NULL ? (const char *)a->content :
	    "", a->content_len) != CURLE_OK) {
		error = ro_err_set(err, RO_ENOMEM, "seed %s: multipart failed",
		    a->name);
		goto done;
	}
	r.mime = mime;
	error = perform(c, &r, err);
done:
	curl_mime_free(mime);
	free(tags);
	return error;
}

int
ro_client_promote(struct ro_client *c, const char *room_id, const char *name,
    struct ro_err *err)
{
	return simple(c, "POST", "promote", room_id, "/artifacts/", name,
	    "/promote", IDEM_NONE, err);
}

int
ro_client_delete_artifact(struct ro_client *c, const char *room_id,
    const char *name, struct ro_err *err)
{
	return simple(c, "DELETE", "delete", room_id, "/artifacts/", name,
	    NULL, IDEM_404_DONE, err);
}

int
ro_client_get_artifact(struct ro_client *c, const char *room_id,
    const char *name, struct ro_buf *out, struct ro_err *err)
{
	struct req	r;
	int		error;

	req_init(&r, "GET", "get artifact", name, IDEM_NONE);
	r.max = RO_ARTIFACT_MAX + 1;
	if ((error = build_url(c, &r, room_id, "/artifacts/", name, NULL,
	    err)) < 0 || (error = perform(c, &r, err)) < 0)
		return error;
	if ((error = ro_buf_add(out, c->body.ptr != NULL ? c->body.ptr : "",
	    c->body.len)) < 0)
		return ro_err_set(err, error, "get artifact %s: %s", name,
		    ro_status_str(error));
	return RO_OK;
}

int
ro_client_put_policies(struct ro_client *c, const char *room_id,
    const struct ro_policies *p, struct ro_err *err)
{
	struct req	 r;
	cJSON		*o = NULL;
	char		*json = NULL;
	int		 error;

	req_init(&r, "PUT", "policies", NULL, IDEM_NONE);
	if ((error = build_url(c, &r, room_id, "/policies", NULL, NULL,
	    err)) < 0)
		goto done;
	if ((o = ro_policies_to_json(p)) == NULL ||
	    (json = cJSON_PrintUnformatted(o)) == NULL) {
		error = ro_err_set(err, RO_ENOMEM, "out of memory");
		goto done;
	}
	r.json = json;
	error = perform(c, &r, err);
done:
	cJSON_Delete(o);
	free(json);
	return error;
}
