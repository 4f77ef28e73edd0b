/*
 * test_api.c: the HTTP API (agent/api.h) over real HTTP on 127.0.0.1.
 *
 * Each test starts the API on 127.0.0.1:0 with a fake core: it records
 * every call and answers applies through the done callback from its own
 * worker threads after a short delay, as the daemon does. libcurl drives
 * every endpoint and error path. Every loop is bounded in count and time.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "roomops/spec.h"
#include "api.h"
#include "optval.h"
#include "metrics.h"
#include "testutil.h"

#define TOKEN		"s3cret-api-token"
#define SECRET		"hook-secret-0123"
#define APPLY_DELAY_MS	20

#define VALID_SPEC \
	"{\"spec\": {\"apiVersion\": \"v1\", \"kind\": \"RoomSpec\", " \
	"\"metadata\": {\"name\": \"t\", \"version\": 1}, \"spec\": {" \
	"\"roomId\": \"room-test-01\", \"entities\": [{\"id\": " \
	"\"E-agent-1\", \"kind\": \"agent\"}], \"artifacts\": [], " \
	"\"policies\": {\"dmVisibilityDefault\": \"team\"}}}}"

/* ------------------------------------------------------------------ */
/* the fake core */

struct job {
	ro_api_done	*done;
	void		*arg;
	char		 room[128];
	bool		 dry, confirm;
	struct job	*next;
};

struct fake {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	struct job	*head, *tail;
	bool		 stop;
	pthread_t	 worker[2];
	unsigned	 delay_ms;
	/* knobs */
	bool		 ready;
	int		 apply_error;	/* returned by apply when < 0 */
	/* calls */
	int		 n_apply, n_status, n_room_status, n_audit;
	int		 n_reconcile, n_suspend, n_confirm, n_hook;
	int		 n_done;
	/* last arguments */
	char		 room[128];
	bool		 dry, confirm, suspend, room_null;
	char		 rev[160];
	char		 source[32];
	char		 ref[1100];
	bool		 ref_null;
	size_t		 count;
	char		 cid[160];
	char		 aroom[128];
	bool		 cid_null, aroom_null;
	struct ro_metrics metrics;
};

static void
copy(char *dst, size_t len, const char *s)
{
	snprintf(dst, len, "%s", s != NULL ? s : "");
}

static cJSON *
apply_doc(const struct job *j)
{
	cJSON	*doc = cJSON_CreateObject();

	cJSON_AddBoolToObject(doc, "success", 1);
	cJSON_AddStringToObject(doc, "roomId", j->room);
	cJSON_AddBoolToObject(doc, "dryRun", j->dry);
	cJSON_AddBoolToObject(doc, "confirm", j->confirm);
	cJSON_AddStringToObject(doc, "phase", j->dry ? "PRE_CHECKS" :
	    "VERIFY");
	return doc;
}

static void *
fake_worker(void *arg)
{
	struct fake	*f = arg;
	struct job	*j;
	struct timespec	 ts;

	pthread_mutex_lock(&f->mu);
	for (;;) {
		while (f->head == NULL && !f->stop)
			pthread_cond_wait(&f->cv, &f->mu);
		if ((j = f->head) == NULL)
			break;			/* stop, queue drained */
		if ((f->head = j->next) == NULL)
			f->tail = NULL;
		pthread_mutex_unlock(&f->mu);
		ts.tv_sec = f->delay_ms / 1000;
		ts.tv_nsec = (long)(f->delay_ms % 1000) * 1000000L;
		nanosleep(&ts, NULL);
		j->done(j->arg, 200, apply_doc(j));
		free(j);
		pthread_mutex_lock(&f->mu);
		f->n_done++;
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

static int
fake_apply(void *arg, struct ro_spec *spec, bool dry_run, bool confirm,
    ro_api_done *done, void *done_arg, struct ro_err *err)
{
	struct fake	*f = arg;
	struct job	*j;
	int		 error;

	pthread_mutex_lock(&f->mu);
	f->n_apply++;
	copy(f->room, sizeof(f->room), spec->room_id);
	f->dry = dry_run;
	f->confirm = confirm;
	if ((error = f->apply_error) < 0) {
		pthread_mutex_unlock(&f->mu);
		ro_spec_free(spec);
		return ro_err_set(err, error, "fake: refused (%s)",
		    ro_status_str(error));
	}
	j = calloc(1, sizeof(*j));
	assert_non_null(j);
	j->done = done;
	j->arg = done_arg;
	copy(j->room, sizeof(j->room), spec->room_id);
	j->dry = dry_run;
	j->confirm = confirm;
	if (f->tail != NULL)
		f->tail->next = j;
	else
		f->head = j;
	f->tail = j;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
	ro_spec_free(spec);
	return RO_OK;
}

static cJSON *
fake_status(void *arg)
{
	struct fake	*f = arg;
	cJSON		*doc = cJSON_CreateObject();

	pthread_mutex_lock(&f->mu);
	f->n_status++;
	pthread_mutex_unlock(&f->mu);
	cJSON_AddStringToObject(doc, "version", "test");
	cJSON_AddStringToObject(doc, "health", "Healthy");
	cJSON_AddArrayToObject(doc, "rooms");
	cJSON_AddNumberToObject(doc, "queuedRequests", 0);
	return doc;
}

static cJSON *
fake_room_status(void *arg, const char *room)
{
	struct fake	*f = arg;
	cJSON		*doc;

	pthread_mutex_lock(&f->mu);
	f->n_room_status++;
	copy(f->room, sizeof(f->room), room);
	pthread_mutex_unlock(&f->mu);
	if (strcmp(room, "room-known-01") != 0)
		return NULL;
	doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "roomId", room);
	cJSON_AddStringToObject(doc, "currentPhase", "VERIFY");
	cJSON_AddNumberToObject(doc, "cyclesSinceConverged", 0);
	return doc;
}

static bool
fake_ready(void *arg)
{
	struct fake	*f = arg;
	bool		 r;

	pthread_mutex_lock(&f->mu);
	r = f->ready;
	pthread_mutex_unlock(&f->mu);
	return r;
}

static int
fake_metrics(void *arg, struct ro_buf *out)
{
	struct fake	*f = arg;

	return ro_metrics_render(&f->metrics, out);
}

static int
fake_audit(void *arg, const struct ro_audit_query *q, cJSON *entries,
    struct ro_err *err)
{
	struct fake	*f = arg;
	size_t		 i, count = q->count;
	const char	*cid = q->cid, *room = q->room;
	cJSON		*e;

	pthread_mutex_lock(&f->mu);
	f->n_audit++;
	f->count = count;
	f->cid_null = cid == NULL;
	copy(f->cid, sizeof(f->cid), cid);
	f->aroom_null = room == NULL;
	copy(f->aroom, sizeof(f->aroom), room);
	pthread_mutex_unlock(&f->mu);
	for (i = 0; i < count && i < 3; i++) {
		e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "n", (double)i);
		cJSON_AddItemToArray(entries, e);
	}
	return RO_OK;
}

static int
fake_reconcile(void *arg, const char *room, struct ro_err *err)
{
	struct fake	*f = arg;

	pthread_mutex_lock(&f->mu);
	f->n_reconcile++;
	f->room_null = room == NULL;
	copy(f->room, sizeof(f->room), room);
	pthread_mutex_unlock(&f->mu);
	if (room != NULL && strcmp(room, "room-missing-01") == 0)
		return ro_err_set(err, RO_ENOTFOUND, "room %s is unknown",
		    room);
	return RO_OK;
}

static int
fake_suspend(void *arg, const char *room, bool suspend, struct ro_err *err)
{
	struct fake	*f = arg;

	pthread_mutex_lock(&f->mu);
	f->n_suspend++;
	copy(f->room, sizeof(f->room), room);
	f->suspend = suspend;
	pthread_mutex_unlock(&f->mu);
	return RO_OK;
}

static int
fake_confirm(void *arg, const char *room, const char *rev, struct ro_err *err)
{
	struct fake	*f = arg;

	pthread_mutex_lock(&f->mu);
	f->n_confirm++;
	copy(f->room, sizeof(f->room), room);
	copy(f->rev, sizeof(f->rev), rev);
	pthread_mutex_unlock(&f->mu);
	return RO_OK;
}

static int
fake_hook(void *arg, const char *source, const char *ref, struct ro_err *err)
{
	struct fake	*f = arg;

	pthread_mutex_lock(&f->mu);
	f->n_hook++;
	copy(f->source, sizeof(f->source), source);
	f->ref_null = ref == NULL;
	copy(f->ref, sizeof(f->ref), ref);
	pthread_mutex_unlock(&f->mu);
	return RO_OK;
}

static int
fake_get(struct fake *f, const int *field)
{
	int	v;

	pthread_mutex_lock(&f->mu);
	v = *field;
	pthread_mutex_unlock(&f->mu);
	return v;
}

/* ------------------------------------------------------------------ */
/* fixture */

struct ctx {
	struct fake	 fake;
	struct ro_api	*api;
	unsigned	 port;
	const char	*token;		/* what the client sends */
};

static int
start_api(struct ctx *c, const char *token, const char *secret)
{
	struct ro_api_ops	ops = {
		.arg = &c->fake,
		.apply = fake_apply,
		.status = fake_status,
		.room_status = fake_room_status,
		.ready = fake_ready,
		.metrics = fake_metrics,
		.audit = fake_audit,
		.reconcile = fake_reconcile,
		.suspend = fake_suspend,
		.confirm = fake_confirm,
		.hook = fake_hook,
	};
	struct ro_api_opts	opts = {
		.host = "127.0.0.1",
		.api_token = token,
		.webhook_secret = secret,
		.threads = 4,
		.metrics = &c->fake.metrics,
	};
	struct ro_err		err = RO_ERR_INIT;
	int			i;

	memset(&c->fake, 0, sizeof(c->fake));
	pthread_mutex_init(&c->fake.mu, NULL);
	pthread_cond_init(&c->fake.cv, NULL);
	c->fake.delay_ms = APPLY_DELAY_MS;
	ro_metrics_init(&c->fake.metrics);
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&c->fake.worker[i], NULL,
		    fake_worker, &c->fake), 0);
	if (ro_api_start(&c->api, &opts, &ops, &err) != RO_OK)
		fail_msg("ro_api_start: %s", err.msg);
	c->port = ro_api_port(c->api);
	assert_true(c->port > 0);
	c->token = token;
	return 0;
}

static int
setup(void **state)
{
	struct ctx	*c = calloc(1, sizeof(*c));

	assert_non_null(c);
	*state = c;
	return start_api(c, TOKEN, SECRET);
}

static int
setup_open(void **state)
{
	struct ctx	*c = calloc(1, sizeof(*c));

	assert_non_null(c);
	*state = c;
	return start_api(c, NULL, NULL);
}

static int
teardown(void **state)
{
	struct ctx	*c = *state;
	int		 i;

	ro_api_stop(c->api);		/* waits for the fake's answers */
	pthread_mutex_lock(&c->fake.mu);
	c->fake.stop = true;
	pthread_cond_broadcast(&c->fake.cv);
	pthread_mutex_unlock(&c->fake.mu);
	for (i = 0; i < 2; i++)
		pthread_join(c->fake.worker[i], NULL);
	ro_metrics_release(&c->fake.metrics);
	pthread_mutex_destroy(&c->fake.mu);
	pthread_cond_destroy(&c->fake.cv);
	free(c);
	return 0;
}

/* ------------------------------------------------------------------ */
/* HTTP client */

struct resp {
	long		 status;
	struct ro_buf	 body;
	char		 ctype[128];
	char		 allow[64];
	char		 retry_after[16];
	long		 connects;	/* new connections made */
	cJSON		*json;
};

static size_t
on_body(char *p, size_t sz, size_t n, void *arg)
{
	struct ro_buf	*b = arg;

	return ro_buf_add(b, p, sz * n) < 0 ? 0 : sz * n;
}

static void
hdr_value(char *dst, size_t len, const char *line, size_t n,
    const char *name)
{
	size_t	k = strlen(name), e = n;

	if (n <= k || strncasecmp(line, name, k) != 0)
		return;
	line += k;
	e -= k;
	while (e > 0 && *line == ' ') {
		line++;
		e--;
	}
	while (e > 0 && (line[e - 1] == '\r' || line[e - 1] == '\n'))
		e--;
	snprintf(dst, len, "%.*s", (int)e, line);
}

static size_t
on_header(char *p, size_t sz, size_t n, void *arg)
{
	struct resp	*r = arg;

	hdr_value(r->ctype, sizeof(r->ctype), p, sz * n, "Content-Type:");
	hdr_value(r->allow, sizeof(r->allow), p, sz * n, "Allow:");
	hdr_value(r->retry_after, sizeof(r->retry_after), p, sz * n,
	    "Retry-After:");
	return sz * n;
}

/* A generated body of `left` bytes of 'x' (chunked upload). */
struct gen {
	size_t	left;
};

static size_t
on_read(char *p, size_t sz, size_t n, void *arg)
{
	struct gen	*g = arg;
	size_t		 k = sz * n < g->left ? sz * n : g->left;

	memset(p, 'x', k);
	g->left -= k;
	return k;
}

static CURL *
easy(struct ctx *c, const char *method, const char *path,
    struct curl_slist *hdrs, const char *body, size_t len, struct resp *out)
{
	CURL	*h = curl_easy_init();
	char	 url[512];

	assert_non_null(h);
	memset(out, 0, sizeof(*out));
	ro_buf_init(&out->body, 32u << 20);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", c->port, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &out->body);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, out);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	else if (body != NULL) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)len);
		if (strcmp(method, "POST") != 0)
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	} else
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (hdrs != NULL)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	return h;
}

static void
finish(CURL *h, struct resp *out)
{
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
	curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &out->connects);
	if (out->body.len > 0)
		out->json = cJSON_ParseWithLength(out->body.ptr,
		    out->body.len);
}

static void
resp_release(struct resp *r)
{
	ro_buf_release(&r->body);
	cJSON_Delete(r->json);
	r->json = NULL;
}

/* One request; headers are "Name: value" strings, NULL-terminated. */
static void
http(struct ctx *c, const char *method, const char *path,
    const char *const *headers, const char *body, size_t len,
    struct resp *out)
{
	struct curl_slist	*hdrs = NULL;
	CURLcode		 rc;
	CURL			*h;

	for (; headers != NULL && *headers != NULL; headers++)
		hdrs = curl_slist_append(hdrs, *headers);
	h = easy(c, method, path, hdrs, body, len, out);
	if ((rc = curl_easy_perform(h)) != CURLE_OK)
		fail_msg("%s %s: %s", method, path, curl_easy_strerror(rc));
	finish(h, out);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
}

static void
get(struct ctx *c, const char *path, struct resp *out)
{
	http(c, "GET", path, NULL, NULL, 0, out);
}

/* POST with the configured API token. */
static void
post(struct ctx *c, const char *path, const char *body, struct resp *out)
{
	char		 auth[128];
	const char	*hdrs[] = { auth, NULL };

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
	    c->token != NULL ? c->token : "");
	http(c, "POST", path, c->token != NULL ? hdrs : NULL,
	    body != NULL ? body : "", body != NULL ? strlen(body) : 0, out);
}

static void
post_h(struct ctx *c, const char *path, const char *h1, const char *h2,
    const char *body, struct resp *out)
{
	char		 auth[128];
	const char	*hdrs[4] = { auth, h1, h2, NULL };

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
	    c->token != NULL ? c->token : "");
	http(c, "POST", path, hdrs, body, strlen(body), out);
}

static const char *
jstr(const cJSON *doc, const char *key)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(doc, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A JSON error answer: {"error": "..."} and the content type. */
static void
assert_error(struct resp *r, long status)
{
	if (r->status != status)
		fail_msg("status %ld, want %ld: %s", r->status, status,
		    ro_buf_cstr(&r->body));
	assert_true(tu_contains(r->ctype, "application/json"));
	assert_non_null(r->json);
	assert_non_null(jstr(r->json, "error"));
}

/* Exactly 400 {"errors": [at least one string], "warnings": [...]}. */
static void
assert_errors(struct resp *r)
{
	const cJSON	*e, *w;

	if (r->status != 400)
		fail_msg("status %ld, want 400: %s", r->status,
		    ro_buf_cstr(&r->body));
	assert_true(tu_contains(r->ctype, "application/json"));
	assert_non_null(r->json);
	e = cJSON_GetObjectItemCaseSensitive(r->json, "errors");
	w = cJSON_GetObjectItemCaseSensitive(r->json, "warnings");
	assert_true(cJSON_IsArray(e) && cJSON_IsArray(w));
	assert_true(cJSON_GetArraySize(e) >= 1);
	assert_true(cJSON_IsString(cJSON_GetArrayItem(e, 0)));
	assert_int_equal(cJSON_GetArraySize(r->json), 2);
}

static void
sleep_ms(unsigned ms)
{
	struct timespec	ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Wait (up to 5 s) for a fake counter to reach want; its value. */
static int
wait_count(struct fake *f, const int *field, int want)
{
	int	i, v = 0;

	for (i = 0; i < 500 && (v = fake_get(f, field)) < want; i++)
		sleep_ms(10);
	return v;
}

/* ------------------------------------------------------------------ */
/* tests: reads */

static void
test_health_ready(void **state)
{
	struct ctx	*c = *state;
	struct resp	 r;

	get(c, "/health", &r);
	assert_int_equal(r.status, 200);
	assert_true(tu_contains(r.ctype, "application/json"));
	assert_string_equal(jstr(r.json, "status"), "healthy");
	assert_non_null(jstr(r.json, "timestamp"));
	assert_int_equal(strlen(jstr(r.json, "timestamp")), 24);
	resp_release(&r);

	get(c, "/ready", &r);
	assert_int_equal(r.status, 503);
	assert_string_equal(jstr(r.json, "status"), "not ready");
	resp_release(&r);
	pthread_mutex_lock(&c->fake.mu);
	c->fake.ready = true;
	pthread_mutex_unlock(&c->fake.mu);
	get(c, "/ready", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(jstr(r.json, "status"), "ready");
	resp_release(&r);

	http(c, "HEAD", "/health", NULL, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, 0);
	resp_release(&r);
}

static void
test_status(void **state)
{
	struct ctx	*c = *state;
	struct resp	 r;

	get(c, "/status", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(jstr(r.json, "health"), "Healthy");
	resp_release(&r);

	get(c, "/status/rooms/room-known-01", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(jstr(r.json, "roomId"), "room-known-01");
	resp_release(&r);

	/* percent-decoded per segment */
	get(c, "/status/rooms/room%2Dknown%2d01", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(c->fake.room, "room-known-01");
	resp_release(&r);

	get(c, "/status/rooms/room-other-01", &r);
	assert_error(&r, 404);
	resp_release(&r);

	/* invalid roomIds never reach the core */
	c->fake.n_room_status = 0;
	get(c, "/status/rooms/bad-room", &r);
	assert_error(&r, 400);
	resp_release(&r);
	get(c, "/status/rooms/room-ab%2Fcdefg", &r);	/* "/" inside */
	assert_error(&r, 400);
	resp_release(&r);
	get(c, "/status/rooms/room-abc%zzdefg", &r);	/* bad escape */
	assert_error(&r, 400);
	resp_release(&r);
	get(c, "/status/rooms/room-abcdef%00gh", &r);	/* NUL, not cut */
	assert_error(&r, 400);
	resp_release(&r);
	get(c, "/status/rooms/room-abcdefg%", &r);	/* short escape */
	assert_error(&r, 400);
	resp_release(&r);
	assert_int_equal(fake_get(&c->fake, &c->fake.n_room_status), 0);
}

static void
test_routes(void **state)
{
	struct ctx	*c = *state;
	struct resp	 r;

	get(c, "/nope", &r);
	assert_error(&r, 404);
	resp_release(&r);
	get(c, "/", &r);
	assert_error(&r, 404);
	resp_release(&r);
	get(c, "/status/", &r);
	assert_error(&r, 404);
	resp_release(&r);
	get(c, "/a/b/c/d/e/f", &r);
	assert_error(&r, 404);
	resp_release(&r);

	get(c, "/apply", &r);
	assert_error(&r, 405);
	assert_string_equal(r.allow, "POST");
	resp_release(&r);
	post(c, "/status", "", &r);
	assert_error(&r, 405);
	assert_string_equal(r.allow, "GET, HEAD");
	resp_release(&r);
	http(c, "DELETE", "/rooms/room-abcdef/suspend", NULL, NULL, 0, &r);
	assert_error(&r, 405);
	resp_release(&r);
	http(c, "PUT", "/apply", NULL, "{}", 2, &r);
	assert_error(&r, 405);
	resp_release(&r);
	assert_int_equal(fake_get(&c->fake, &c->fake.n_apply), 0);
	assert_int_equal(fake_get(&c->fake, &c->fake.n_suspend), 0);
}

static void
test_keepalive(void **state)
{
	struct ctx	*c = *state;
	struct resp	 r1, r2;
	CURL		*h;

	h = easy(c, "GET", "/health", NULL, NULL, 0, &r1);
	assert_int_equal(curl_easy_perform(h), CURLE_OK);
	finish(h, &r1);
	assert_int_equal(r1.status, 200);
	assert_int_equal(r1.connects, 1);
	/* the same handle again: the connection is reused */
	ro_buf_reset(&r1.body);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &r2);
	memset(&r2, 0, sizeof(r2));
	assert_int_equal(curl_easy_perform(h), CURLE_OK);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r2.status);
	curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &r2.connects);
	assert_int_equal(r2.status, 200);
	assert_int_equal(r2.connects, 0);
	curl_easy_cleanup(h);
	resp_release(&r1);
}

static void
test_metrics_endpoint(void **state)
{
	struct ctx	*c = *state;
	struct resp	 r;

	ro_metrics_reconcile_begin(&c->fake.metrics);
	get(c, "/metrics", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.ctype,
	    "text/plain; version=0.0.4; charset=utf-8");
	assert_true(tu_contains(ro_buf_cstr(&r.body),
	    "\nroom_operator_reconcile_attempts_total 1\n"));
	assert_true(tu_contains(ro_buf_cstr(&r.body),
	    "# TYPE roomops_webhooks_total counter\n"));
	resp_release(&r);
}

static void
test_audit(void **state)
{
	struct ctx	*c = *state;
	struct resp	 r;
	static const char *const bad[] = { "abc", "-1", "0", "", "1e3",
	    "+5", "%20%35", "5x", "0x10" };
	char		 path[128];
	size_t		 i;

	get(c, "/audit", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r.json,
	    "entries")), 3);
	assert_int_equal(c->fake.count, 100);
	assert_true(c->fake.cid_null && c->fake.aroom_null);
	resp_release(&r);

	get(c, "/audit?count=2", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(c->fake.count, 2);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r.json,
	    "entries")), 2);
	resp_release(&r);

	get(c, "/audit?count=20000", &r);		/* capped */
	assert_int_equal(r.status, 200);
	assert_int_equal(c->fake.count, 10000);
	resp_release(&r);
	get(c, "/audit?count=99999999999999999999999999", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(c->fake.count, 10000);
	resp_release(&r);

	get(c, "/audit?count=7&correlationId=3f2a%2D9c&room=room-ai-lab-01",
	    &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(c->fake.count, 7);
	assert_string_equal(c->fake.cid, "3f2a-9c");
	assert_string_equal(c->fake.aroom, "room-ai-lab-01");
	resp_release(&r);

	c->fake.n_audit = 0;
	for (i = 0; i < RO_NELEM(bad); i++) {
		snprintf(path, sizeof(path), "/audit?count=%s", bad[i]);
		get(c, path, &r);
		assert_error(&r, 400);
		resp_release(&r);
	}
	get(c, "/audit?room=bad-room", &r);
	assert_error(&r, 400);
	resp_release(&r);
	get(c, "/audit?correlationId=a%22b", &r);
	assert_error(&r, 400);
	resp_release(&r);
	assert_int_equal(fake_get(&c->fake, &c->fake.n_audit), 0);
}

/* ------------------------------------------------------------------ */
/* tests: apply */

static void
test_apply_ok(void **state)
{
	struct ctx	*c = *state;
	struct resp	 r;

	post(c, "/apply", VALID_SPEC, &r);
	assert_int_equal(r.status, 200);
	assert_true(tu_contains(r.ctype, "application/json"));
	assert_string_equal(jstr(r.json, "roomId"), "room-test-01");
	assert_string_equal(jstr(r.json, "phase"), "VERIFY");
	assert_false(c->fake.dry);
	assert_false(c->fake.confirm);
	resp_release(&r);

	post_h(c, "/apply", "X-Dry-Run: true", "X-Confirm: true", VALID_SPEC,
	    &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(jstr(r.json, "phase"), "PRE_CHECKS");
	assert_true(c->fake.dry);
	assert_true(c->fake.confirm);
	resp_release(&r);

	/* the value must be exactly "true" */
	post_h(c, "/apply", "X-Dry-Run: True", "X-Confirm: 1", VALID_SPEC, &r);
	assert_int_equal(r.status, 200);
	assert_false(c->fake.dry);
	assert_false(c->fake.confirm);
	resp_release(&r);
	post_h(c, "/apply", "X-Dry-Run: yes", "X-Confirm: true", VALID_SPEC,
	    &r);
	assert_int_equal(r.status, 200);
	assert_false(c->fake.dry);
	assert_true(c->fake.confirm);
	resp_release(&r);
	assert_int_equal(fake_get(&c->fake, &c->fake.n_apply), 4);
}

static void
test_apply_bad(void **state)
{
	static const char *const bodies[] = {
		"",					/* empty */
		"{\"spec\": ",				/* malformed */
		"{\"spec\": {}} trailing",		/* garbage after */
		"[1, 2]",				/* not an object */
		"\"spec\"",
		"{}",					/* missing spec */
		"{\"spec\": null}",
		"{\"Spec\": {}}",
		"{\"spec\": 42}",
		"{\"spec\": {\"metadata\": {\"version\": 1}, \"spec\": "
		    "{\"entities\": []}}}",		/* missing roomId */
		"{\"spec\": {\"metadata\": {\"version\": 1}, \"spec\": "
		    "{\"roomId\": \"bad-room\"}}}",	/* invalid roomId */
		"{\"spec\": {\"metadata\": {\"version\": 1}, \"spec\": "
		    "{\"roomId\": \"room-\"}}}",
		"{\"spec\": {\"metadata\": {\"version\": 1}, \"spec\": "
		    "{\"roomId\": 7}}}",
		"{\"spec\": {\"metadata\": {\"version\": 0}, \"spec\": "
		    "{\"roomId\": \"room-test-01\"}}}",	/* version > 0 */
		"{\"spec\": {\"metadata\": {\"version\": 1}, \"spec\": "
		    "{\"roomId\": \"room-test-01\", \"entities\": [{\"id\": "
		    "\"E-x1\", \"kind\": \"robot\"}]}}}",	/* bad kind */
		"{\"spec\": {\"kind\": \"Other\", \"metadata\": {\"version\": "
		    "1}, \"spec\": {\"roomId\": \"room-test-01\"}}}",
		"{\"spec\": {\"metadata\": {\"version\": 1}, \"spec\": "
		    "{\"roomId\": \"room-test-01\", \"bogus\": 1}}}",
	};
	struct ctx	*c = *state;
	struct resp	 r;
	size_t		 i;

	for (i = 0; i < RO_NELEM(bodies); i++) {
		post(c, "/apply", bodies[i], &r);
		assert_errors(&r);
		resp_release(&r);
	}
	/* a NUL byte inside */
	{
		char		 auth[128];
		const char	*h[] = { auth, NULL };

		snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
		    TOKEN);
		http(c, "POST", "/apply", h, "{\"spec\"\0: {}}", 13, &r);
		assert_errors(&r);
		resp_release(&r);
	}
	/* deep nesting is refused, not a crash */
	{
		struct ro_buf	b = RO_BUF_INIT;

		ro_buf_addstr(&b, "{\"spec\": ");
		for (i = 0; i < 5000; i++)
			ro_buf_addch(&b, '[');
		for (i = 0; i < 5000; i++)
			ro_buf_addch(&b, ']');
		ro_buf_addch(&b, '}');
		post(c, "/apply", ro_buf_cstr(&b), &r);
		assert_errors(&r);
		resp_release(&r);
		ro_buf_release(&b);
	}
	assert_int_equal(fake_get(&c->fake, &c->fake.n_apply), 0);
}

static void
test_apply_too_big(void **state)
{
	struct ctx		*c = *state;
	struct resp		 r;
	struct curl_slist	*hdrs = NULL;
	struct gen		 g;
	char			*big, auth[128];
	size_t			 n = RO_API_APPLY_MAX + 1;
	CURL			*h;

	/* announced: refused before the body is sent */
	big = malloc(n);
	assert_non_null(big);
	memset(big, ' ', n);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", TOKEN);
	{
		const char *hh[] = { auth, NULL };

		http(c, "POST", "/apply", hh, big, n, &r);
	}
	assert_error(&r, 413);
	resp_release(&r);
	free(big);

	/* chunked, no Expect: read, dropped, then refused */
	hdrs = curl_slist_append(hdrs, auth);
	hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");
	hdrs = curl_slist_append(hdrs, "Expect:");
	h = easy(c, "POST", "/apply", hdrs, NULL, 0, &r);
	g.left = RO_API_APPLY_MAX + 4096;
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(h, CURLOPT_READDATA, &g);
	assert_int_equal(curl_easy_perform(h), CURLE_OK);
	finish(h, &r);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	assert_error(&r, 413);
	resp_release(&r);

	/* a body on an endpoint that takes none is capped too */
	hdrs = NULL;
	hdrs = curl_slist_append(hdrs, auth);
	hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");
	hdrs = curl_slist_append(hdrs, "Expect:");
	h = easy(c, "POST", "/reconcile", hdrs, NULL, 0, &r);
	g.left = 1u << 20;
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(h, CURLOPT_READDATA, &g);
	assert_int_equal(curl_easy_perform(h), CURLE_OK);
	finish(h, &r);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	assert_error(&r, 413);
	resp_release(&r);
	assert_int_equal(fake_get(&c->fake, &c->fake.n_apply), 0);
	assert_int_equal(fake_get(&c->fake, &c->fake.n_reconcile), 0);
}

static void
test_apply_core_refuses(void **state)
{
	struct ctx	*c = *state;
	struct resp	 r;

	c->fake.apply_error = RO_EAGAIN;
	post(c, "/apply", VALID_SPEC, &r);
	assert_error(&r, 503);
	assert_string_equal(r.retry_after, "1");
	resp_release(&r);
	c->fake.apply_error = RO_EINVALID;
	post(c, "/apply", VALID_SPEC, &r);
	assert_errors(&r);
	resp_release(&r);
	c->fake.apply_error = 0;
	post(c, "/apply", VALID_SPEC, &r);
	assert_int_equal(r.status, 200);
	resp_release(&r);
}

#define NCONC	50

static void
test_apply_concurrent(void **state)
{
	struct ctx		*c = *state;
	struct resp		 r[NCONC];
	struct curl_slist	*hdrs = NULL;
	CURL			*h[NCONC];
	CURLM			*m;
	char			 auth[128];
	int			 i, running = 1, loops;
	time_t			 t0 = time(NULL);

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", TOKEN);
	hdrs = curl_slist_append(hdrs, auth);
	m = curl_multi_init();
	for (i = 0; i < NCONC; i++) {
		h[i] = easy(c, "POST", "/apply", hdrs, VALID_SPEC,
		    strlen(VALID_SPEC), &r[i]);
		curl_multi_add_handle(m, h[i]);
	}
	for (loops = 0; running > 0 && loops < 100000 &&
	    time(NULL) - t0 < 60; loops++) {
		curl_multi_perform(m, &running);
		if (running > 0)
			curl_multi_poll(m, NULL, 0, 100, NULL);
	}
	assert_int_equal(running, 0);
	for (i = 0; i < NCONC; i++) {
		finish(h[i], &r[i]);
		assert_int_equal(r[i].status, 200);
		assert_string_equal(jstr(r[i].json, "roomId"), "room-test-01");
		curl_multi_remove_handle(m, h[i]);
		curl_easy_cleanup(h[i]);
		resp_release(&r[i]);
	}
	curl_multi_cleanup(m);
	curl_slist_free_all(hdrs);
	assert_int_equal(fake_get(&c->fake, &c->fake.n_apply), NCONC);
	assert_int_equal(wait_count(&c->fake, &c->fake.n_done, NCONC), NCONC);
}

struct bg {
	struct ctx	*c;
	struct resp	 r;
};

static void *
bg_apply(void *arg)
{
	struct bg	*b = arg;

	post(b->c, "/apply", VALID_SPEC, &b->r);
	return NULL;
}

/*
 * ro_api_stop() waits for the core's answer to an apply in flight, even
 * one slower than its 5 s bound for sending answers, and sends it.
 */
static void
test_stop_waits_for_apply(void **state)
{
	struct ctx	*c = *state;
	struct bg	 b = { .c = c };
	pthread_t	 t;
	int		 i;

	c->fake.delay_ms = 5600;
	assert_int_equal(pthread_create(&t, NULL, bg_apply, &b), 0);
	for (i = 0; i < 500 && fake_get(&c->fake, &c->fake.n_apply) == 0; i++)
		sleep_ms(10);
	assert_int_equal(fake_get(&c->fake, &c->fake.n_apply), 1);
	ro_api_stop(c->api);
	c->api = NULL;
	pthread_join(t, NULL);
	assert_int_equal(b.r.status, 200);
	assert_string_equal(jstr(b.r.json, "roomId"), "room-test-01");
	resp_release(&b.r);
}

/* ------------------------------------------------------------------ */
/* tests: mutating endpoints and auth */

static void
test_auth(void **state)
{
	static const char *const paths[] = { "/apply", "/reconcile",
	    "/reconcile/room-abcdef", "/rooms/room-abcdef/suspend",
	    "/rooms/room-abcdef/resume",
	    "/rooms/room-abcdef/confirm?revision=abc" };
	static const char *const wrong[] = { NULL, "Authorization: Bearer",
	    "Authorization: Bearer s3cret-api-toke",
	    "Authorization: Bearer s3cret-api-token2",
	    "Authorization: Basic czNjcmV0LWFwaS10b2tlbg==",
	    "Authorization: s3cret-api-token",
	    "X-Api-Token: s3cret-api-token" };
	struct ctx	*c = *state;
	struct resp	 r;
	const char	*h[2];
	size_t		 i, j;

	for (i = 0; i < RO_NELEM(paths); i++)
		for (j = 0; j < RO_NELEM(wrong); j++) {
			h[0] = wrong[j];
			h[1] = NULL;
			http(c, "POST", paths[i], h, VALID_SPEC,
			    strlen(VALID_SPEC), &r);
			assert_error(&r, 401);
			resp_release(&r);
		}
	assert_int_equal(fake_get(&c->fake, &c->fake.n_apply), 0);
	assert_int_equal(fake_get(&c->fake, &c->fake.n_reconcile), 0);
	assert_int_equal(fake_get(&c->fake, &c->fake.n_suspend), 0);
	assert_int_equal(fake_get(&c->fake, &c->fake.n_confirm), 0);

	/* reads need no token */
	get(c, "/status", &r);
	assert_int_equal(r.status, 200);
	resp_release(&r);

	/* the scheme is case-insensitive */
	h[0] = "Authorization: bearer " TOKEN;
	http(c, "POST", "/reconcile", h, "", 0, &r);
	assert_int_equal(r.status, 202);
	resp_release(&r);
	post(c, "/apply", VALID_SPEC, &r);
	assert_int_equal(r.status, 200);
	resp_release(&r);
}

static void
test_no_token_configured(void **state)
{
	struct ctx	*c = *state;
	struct resp	 r;

	post(c, "/apply", VALID_SPEC, &r);
	assert_int_equal(r.status, 200);
	resp_release(&r);
	post(c, "/rooms/room-abcdef/suspend", NULL, &r);
	assert_int_equal(r.status, 200);
	resp_release(&r);
}

static void
test_reconcile_suspend_confirm(void **state)
{
	struct ctx	*c = *state;
	struct resp	 r;
	const cJSON	*v;

	post(c, "/reconcile", NULL, &r);
	assert_int_equal(r.status, 202);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "queued")));
	assert_true(c->fake.room_null);
	resp_release(&r);

	post(c, "/reconcile/room-ai-lab-01", NULL, &r);
	assert_int_equal(r.status, 202);
	assert_false(c->fake.room_null);
	assert_string_equal(c->fake.room, "room-ai-lab-01");
	assert_string_equal(jstr(r.json, "roomId"), "room-ai-lab-01");
	resp_release(&r);

	post(c, "/reconcile/room-missing-01", NULL, &r);
	assert_error(&r, 404);
	resp_release(&r);

	post(c, "/rooms/room-ai-lab-01/suspend", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_true(c->fake.suspend);
	v = cJSON_GetObjectItem(r.json, "suspended");
	assert_true(cJSON_IsTrue(v));
	resp_release(&r);
	post(c, "/rooms/room-ai-lab-01/resume", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_false(c->fake.suspend);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "suspended")));
	resp_release(&r);

	post(c, "/rooms/room-ai-lab-01/confirm?revision=9fceb02d0ae598e95dc9"
	    "70b74767f19372d61af8", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(c->fake.rev,
	    "9fceb02d0ae598e95dc970b74767f19372d61af8");
	resp_release(&r);
	post(c, "/rooms/room-ai-lab-01/confirm?revision=worktree%3Aab12", NULL,
	    &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(c->fake.rev, "worktree:ab12");
	resp_release(&r);

	c->fake.n_confirm = c->fake.n_reconcile = c->fake.n_suspend = 0;
	post(c, "/rooms/room-ai-lab-01/confirm", NULL, &r);	/* no rev */
	assert_error(&r, 400);
	resp_release(&r);
	post(c, "/rooms/room-ai-lab-01/confirm?revision=", NULL, &r);
	assert_error(&r, 400);
	resp_release(&r);
	post(c, "/rooms/room-ai-lab-01/confirm?revision=a%20b", NULL, &r);
	assert_error(&r, 400);
	resp_release(&r);
	post(c, "/rooms/bad-room/suspend", NULL, &r);
	assert_error(&r, 400);
	resp_release(&r);
	post(c, "/reconcile/room-x", NULL, &r);			/* too short */
	assert_error(&r, 400);
	resp_release(&r);
	post(c, "/rooms/room-ai-lab-01/explode", NULL, &r);
	assert_error(&r, 404);
	resp_release(&r);
	assert_int_equal(fake_get(&c->fake, &c->fake.n_confirm), 0);
	assert_int_equal(fake_get(&c->fake, &c->fake.n_reconcile), 0);
	assert_int_equal(fake_get(&c->fake, &c->fake.n_suspend), 0);
}

/* ------------------------------------------------------------------ */
/* tests: webhooks */

static void
hmac_hex(const char *body, size_t len, char out[65])
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	n = 0, i;

	assert_non_null(HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET),
	    (const unsigned char *)body, len, md, &n));
	assert_int_equal(n, 32);
	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void
hook(struct ctx *c, const char *src, const char *h1, const char *h2,
    const char *body, size_t len, struct resp *r)
{
	const char	*hdrs[3] = { h1, h2, NULL };
	char		 path[64];

	snprintf(path, sizeof(path), "/hooks/%s", src);
	http(c, "POST", path, hdrs, body, len, r);
}

#define PUSH	"{\"ref\": \"refs/heads/main\", \"after\": \"9fceb02\"}"

static void
test_hooks(void **state)
{
	struct ctx	*c = *state;
	struct resp	 r;
	char		 hex[65], sig[128], bad[128];

	hmac_hex(PUSH, strlen(PUSH), hex);

	/* GitHub */
	snprintf(sig, sizeof(sig), "X-Hub-Signature-256: sha256=%s", hex);
	hook(c, "github", sig, NULL, PUSH, strlen(PUSH), &r);
	assert_int_equal(r.status, 202);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "queued")));
	assert_int_equal(c->fake.n_hook, 1);
	assert_string_equal(c->fake.source, "github");
	assert_string_equal(c->fake.ref, "refs/heads/main");
	resp_release(&r);
	/* upper-case hex is the same digest */
	{
		char	up[65];
		size_t	i;

		for (i = 0; i < 64; i++)
			up[i] = (hex[i] >= 'a' && hex[i] <= 'f') ?
			    (char)(hex[i] - 32) : hex[i];
		up[64] = '\0';
		snprintf(sig, sizeof(sig), "X-Hub-Signature-256: sha256=%s",
		    up);
		hook(c, "github", sig, NULL, PUSH, strlen(PUSH), &r);
		assert_int_equal(r.status, 202);
		resp_release(&r);
	}
	c->fake.n_hook = 0;
	/* wrong: other body, other digest, truncated, no prefix, missing,
	 * Gitea's header on GitHub */
	snprintf(sig, sizeof(sig), "X-Hub-Signature-256: sha256=%s", hex);
	hook(c, "github", sig, NULL, PUSH " ", strlen(PUSH) + 1, &r);
	assert_error(&r, 401);
	resp_release(&r);
	snprintf(bad, sizeof(bad), "X-Hub-Signature-256: sha256=%.63s0", hex);
	if (hex[63] == '0')
		bad[strlen(bad) - 1] = '1';
	hook(c, "github", bad, NULL, PUSH, strlen(PUSH), &r);
	assert_error(&r, 401);
	resp_release(&r);
	snprintf(bad, sizeof(bad), "X-Hub-Signature-256: sha256=%.62s", hex);
	hook(c, "github", bad, NULL, PUSH, strlen(PUSH), &r);
	assert_error(&r, 401);
	resp_release(&r);
	snprintf(bad, sizeof(bad), "X-Hub-Signature-256: %s", hex);
	hook(c, "github", bad, NULL, PUSH, strlen(PUSH), &r);
	assert_error(&r, 401);
	resp_release(&r);
	hook(c, "github", NULL, NULL, PUSH, strlen(PUSH), &r);
	assert_error(&r, 401);
	resp_release(&r);
	snprintf(bad, sizeof(bad), "X-Gitea-Signature: %s", hex);
	hook(c, "github", bad, NULL, PUSH, strlen(PUSH), &r);
	assert_error(&r, 401);
	resp_release(&r);
	assert_int_equal(fake_get(&c->fake, &c->fake.n_hook), 0);

	/* GitHub ping: authentic, nothing queued */
	snprintf(sig, sizeof(sig), "X-Hub-Signature-256: sha256=%s", hex);
	hook(c, "github", sig, "X-GitHub-Event: ping", PUSH, strlen(PUSH), &r);
	assert_int_equal(r.status, 200);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "queued")));
	resp_release(&r);
	assert_int_equal(fake_get(&c->fake, &c->fake.n_hook), 0);

	/* Gitea */
	snprintf(sig, sizeof(sig), "X-Gitea-Signature: %s", hex);
	hook(c, "gitea", sig, NULL, PUSH, strlen(PUSH), &r);
	assert_int_equal(r.status, 202);
	assert_string_equal(c->fake.source, "gitea");
	assert_string_equal(c->fake.ref, "refs/heads/main");
	resp_release(&r);
	snprintf(bad, sizeof(bad), "X-Gitea-Signature: sha256=%s", hex);
	hook(c, "gitea", bad, NULL, PUSH, strlen(PUSH), &r);
	assert_error(&r, 401);
	resp_release(&r);

	/* GitLab */
	hook(c, "gitlab", "X-Gitlab-Token: " SECRET, NULL, PUSH, strlen(PUSH),
	    &r);
	assert_int_equal(r.status, 202);
	assert_string_equal(c->fake.source, "gitlab");
	assert_string_equal(c->fake.ref, "refs/heads/main");
	resp_release(&r);
	hook(c, "gitlab", "X-Gitlab-Token: " SECRET "x", NULL, PUSH,
	    strlen(PUSH), &r);
	assert_error(&r, 401);
	resp_release(&r);
	hook(c, "gitlab", "X-Gitlab-Token: hook-secret-012", NULL, PUSH,
	    strlen(PUSH), &r);
	assert_error(&r, 401);
	resp_release(&r);

	/* generic: bearer, ref optional */
	hook(c, "generic", "Authorization: Bearer " SECRET, NULL, "{}", 2, &r);
	assert_int_equal(r.status, 202);
	assert_string_equal(c->fake.source, "generic");
	assert_true(c->fake.ref_null);
	resp_release(&r);
	hook(c, "generic", "Authorization: Bearer " SECRET, NULL, "", 0, &r);
	assert_int_equal(r.status, 202);
	assert_true(c->fake.ref_null);
	resp_release(&r);
	hook(c, "generic", "Authorization: Bearer " TOKEN, NULL, "{}", 2, &r);
	assert_error(&r, 401);
	resp_release(&r);
	assert_int_equal(fake_get(&c->fake, &c->fake.n_hook), 4);

	/* unknown source */
	hook(c, "bitbucket", "Authorization: Bearer " SECRET, NULL, "{}", 2,
	    &r);
	assert_error(&r, 404);
	resp_release(&r);
	assert_int_equal(fake_get(&c->fake, &c->fake.n_hook), 4);

	assert_int_equal(ro_metrics_webhooks(&c->fake.metrics, "github",
	    RO_M_HOOK_ACCEPTED), 2);
	assert_int_equal(ro_metrics_webhooks(&c->fake.metrics, "github",
	    RO_M_HOOK_UNAUTHORIZED), 6);
	assert_int_equal(ro_metrics_webhooks(&c->fake.metrics, "github",
	    RO_M_HOOK_IGNORED), 1);
	assert_int_equal(ro_metrics_webhooks(&c->fake.metrics, "gitlab",
	    RO_M_HOOK_UNAUTHORIZED), 2);
}

/* GitHub's application/x-www-form-urlencoded delivery: payload=<json> */
static void
test_hook_form_payload(void **state)
{
	static const char form[] = "payload=%7B%22ref%22%3A+%22refs%2Fheads%2F"
	    "dev%22%7D";
	struct ctx	*c = *state;
	struct resp	 r;
	char		 hex[65], sig[128];

	hmac_hex(form, strlen(form), hex);
	snprintf(sig, sizeof(sig), "X-Hub-Signature-256: sha256=%s", hex);
	hook(c, "github", sig, "Content-Type: application/x-www-form-"
	    "urlencoded", form, strlen(form), &r);
	assert_int_equal(r.status, 202);
	assert_string_equal(c->fake.ref, "refs/heads/dev");
	resp_release(&r);
}

static void
test_hook_body_limit(void **state)
{
	struct ctx		*c = *state;
	struct resp		 r;
	struct curl_slist	*hdrs = NULL;
	char			*body, hex[65], sig[128];
	size_t			 n = RO_API_BODY_MAX;
	struct gen		 g;
	CURL			*h;

	body = malloc(n + 1);
	assert_non_null(body);
	memset(body, ' ', n + 1);
	body[0] = '{';
	body[n - 1] = '}';
	/* exactly the limit: accepted */
	hmac_hex(body, n, hex);
	snprintf(sig, sizeof(sig), "X-Gitea-Signature: %s", hex);
	hook(c, "gitea", sig, NULL, body, n, &r);
	assert_int_equal(r.status, 202);
	resp_release(&r);
	/* one byte more, announced: 413 */
	hmac_hex(body, n + 1, hex);
	snprintf(sig, sizeof(sig), "X-Gitea-Signature: %s", hex);
	hook(c, "gitea", sig, NULL, body, n + 1, &r);
	assert_error(&r, 413);
	resp_release(&r);
	/* one byte more, sent without Expect: read, dropped, 413 */
	hdrs = curl_slist_append(hdrs, sig);
	hdrs = curl_slist_append(hdrs, "Expect:");
	h = easy(c, "POST", "/hooks/gitea", hdrs, body, n + 1, &r);
	assert_int_equal(curl_easy_perform(h), CURLE_OK);
	finish(h, &r);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	assert_error(&r, 413);
	resp_release(&r);
	/* chunked */
	hdrs = NULL;
	hdrs = curl_slist_append(hdrs, "Authorization: Bearer " SECRET);
	hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");
	hdrs = curl_slist_append(hdrs, "Expect:");
	h = easy(c, "POST", "/hooks/generic", hdrs, NULL, 0, &r);
	g.left = 3u << 20;
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(h, CURLOPT_READDATA, &g);
	assert_int_equal(curl_easy_perform(h), CURLE_OK);
	finish(h, &r);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	assert_error(&r, 413);
	resp_release(&r);
	free(body);
	assert_int_equal(fake_get(&c->fake, &c->fake.n_hook), 1);
	assert_true(ro_metrics_webhooks(&c->fake.metrics, "gitea",
	    RO_M_HOOK_TOO_LARGE) >= 2);
}

static void
test_hook_rate_limit(void **state)
{
	struct ctx	*c = *state;
	struct resp	 r;
	int		 i, ok = 0, limited = 0;

	for (i = 0; i < 40; i++) {
		hook(c, "generic", "Authorization: Bearer " SECRET, NULL,
		    "{\"ref\": \"refs/heads/main\"}", 26, &r);
		if (r.status == 202)
			ok++;
		else {
			assert_error(&r, 429);
			assert_string_equal(r.retry_after, "1");
			limited++;
		}
		resp_release(&r);
	}
	assert_true(ok >= RO_API_HOOK_RATE);
	assert_true(limited >= 1);
	assert_int_equal(fake_get(&c->fake, &c->fake.n_hook), ok);
	/* another source has its own bucket */
	hook(c, "gitlab", "X-Gitlab-Token: " SECRET, NULL, "{}", 2, &r);
	assert_int_equal(r.status, 202);
	resp_release(&r);
	/* wrong signatures do not use up tokens, and stay 401 */
	hook(c, "generic", "Authorization: Bearer nope", NULL, "{}", 2, &r);
	assert_error(&r, 401);
	resp_release(&r);
	/* the bucket refills */
	sleep_ms(1100);
	hook(c, "generic", "Authorization: Bearer " SECRET, NULL, "{}", 2, &r);
	assert_int_equal(r.status, 202);
	resp_release(&r);
}

static void
test_hooks_disabled(void **state)
{
	struct ctx	*c = *state;
	struct resp	 r;

	hook(c, "generic", "Authorization: Bearer " SECRET, NULL, "{}", 2, &r);
	assert_error(&r, 404);
	resp_release(&r);
	hook(c, "gitlab", "X-Gitlab-Token: ", NULL, "{}", 2, &r);
	assert_error(&r, 404);
	resp_release(&r);
	assert_int_equal(fake_get(&c->fake, &c->fake.n_hook), 0);
	assert_int_equal(ro_metrics_webhooks(&c->fake.metrics, "generic",
	    RO_M_HOOK_DISABLED), 1);
}

/* ------------------------------------------------------------------ */
/* tests: /events */

struct stream {
	CURLM		*m;
	CURL		*h;
	struct resp	 r;
};

static void
stream_open(struct ctx *c, struct stream *s)
{
	s->m = curl_multi_init();
	s->h = easy(c, "GET", "/events", NULL, NULL, 0, &s->r);
	curl_easy_setopt(s->h, CURLOPT_TIMEOUT, 0L);
	curl_multi_add_handle(s->m, s->h);
}

/* Drive the stream until its body contains needle (true) or ms pass. */
static bool
stream_wait(struct stream *s, const char *needle, unsigned ms)
{
	struct timespec	t0, t;
	int		running;
	long		el;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		curl_multi_perform(s->m, &running);
		if (strstr(ro_buf_cstr(&s->r.body), needle) != NULL)
			return true;
		clock_gettime(CLOCK_MONOTONIC, &t);
		el = (t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (el >= (long)ms || running == 0)
			return false;
		curl_multi_poll(s->m, NULL, 0, 50, NULL);
	}
}

static void
stream_close(struct stream *s)
{
	curl_multi_remove_handle(s->m, s->h);
	curl_easy_cleanup(s->h);
	curl_multi_cleanup(s->m);
	resp_release(&s->r);
}

static void
test_events(void **state)
{
	struct ctx	*c = *state;
	struct stream	 s1, s2;
	static const char rec[] = "{\"id\":\"1\",\"room\":\"room-test-01\","
	    "\"outcome\":\"applied\"}\n";

	stream_open(c, &s1);
	stream_open(c, &s2);
	assert_true(stream_wait(&s1, ": connected\n\n", 5000));
	assert_true(stream_wait(&s2, ": connected\n\n", 5000));
	assert_true(tu_contains(s1.r.ctype, "text/event-stream"));

	ro_api_publish(c->api, rec, strlen(rec));
	assert_true(stream_wait(&s1, "data: {\"id\":\"1\",\"room\":\"room-test-"
	    "01\",\"outcome\":\"applied\"}\n\n", 5000));
	assert_true(stream_wait(&s2, "\"outcome\":\"applied\"}\n\n", 5000));

	/* a line break inside a record: one data field per line */
	ro_api_publish(c->api, "{\"a\":\n1}", 8);
	assert_true(stream_wait(&s1, "data: {\"a\":\ndata: 1}\n\n", 5000));

	/* records in order */
	ro_api_publish(c->api, "{\"n\":2}", 7);
	ro_api_publish(c->api, "{\"n\":3}", 7);
	assert_true(stream_wait(&s2, "data: {\"n\":2}\n\ndata: {\"n\":3}\n\n",
	    5000));

	/* over the size limit: not sent */
	{
		size_t	 n = RO_API_SSE_RECORD_MAX + 1;
		char	*big = malloc(n);

		assert_non_null(big);
		memset(big, 'a', n);
		ro_api_publish(c->api, big, n);
		free(big);
		ro_api_publish(c->api, "{\"n\":4}", 7);
		assert_true(stream_wait(&s1, "data: {\"n\":4}\n\n", 5000));
		assert_null(strstr(ro_buf_cstr(&s1.r.body), "aaaa"));
	}

	/* a ping every RO_API_SSE_PING_S */
	assert_true(stream_wait(&s1, ": ping\n\n",
	    (RO_API_SSE_PING_S + 3) * 1000));
	assert_true(stream_wait(&s2, ": ping\n\n", 3000));

	/* a client that goes away is forgotten; the next one works */
	stream_close(&s2);
	ro_api_publish(c->api, "{\"n\":5}", 7);
	assert_true(stream_wait(&s1, "data: {\"n\":5}\n\n", 5000));
	stream_close(&s1);
}

/* A raw TCP client that sends GET /events and reads until ": connected". */
static int
raw_events(struct ctx *c)
{
	struct sockaddr_in	sa;
	char			buf[4096];
	size_t			got = 0;
	ssize_t			n;
	struct pollfd		pfd;
	int			fd, i;
	static const char	req[] = "GET /events HTTP/1.1\r\nHost: t\r\n\r\n";

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)c->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(write(fd, req, sizeof(req) - 1),
	    (ssize_t)sizeof(req) - 1);
	for (i = 0; i < 100; i++) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = read(fd, buf + got, sizeof(buf) - 1 - got);
		assert_true(n > 0);
		got += (size_t)n;
		buf[got] = '\0';
		if (strstr(buf, ": connected") != NULL)
			return fd;
		assert_true(got < sizeof(buf) - 1);
	}
	fail_msg("no ': connected' from /events");
	return -1;
}

/*
 * A subscriber that never reads is dropped once its queue is full; the
 * publisher never blocks and a reading subscriber gets everything.
 */
static void
test_events_slow_dropped(void **state)
{
	struct ctx	*c = *state;
	struct stream	 fast;
	struct timespec	 t0, t1;
	struct pollfd	 pfd;
	char		*rec, marker[64], buf[65536];
	size_t		 reclen = 60u << 10, total = 0;
	ssize_t		 n;
	int		 slow, i, eof = 0;
	double		 worst = 0, dt;

	slow = raw_events(c);
	stream_open(c, &fast);
	assert_true(stream_wait(&fast, ": connected\n\n", 5000));

	rec = malloc(reclen + 1);
	assert_non_null(rec);
	memset(rec, 'r', reclen);
	rec[reclen] = '\0';
	/* 600 x 60 KiB = 35 MiB: more than the slow socket's buffers and its
	 * queue can hold */
	for (i = 0; i < 600; i++) {
		snprintf(rec, 32, "{\"seq\":%06d,\"x\":\"", i);
		rec[strlen(rec)] = 'r';
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ro_api_publish(c->api, rec, reclen);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		dt = (double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		if (dt > worst)
			worst = dt;
		/* keep the fast reader current: it must never be dropped */
		snprintf(marker, sizeof(marker), "data: {\"seq\":%06d,", i);
		assert_true(stream_wait(&fast, marker, 10000));
		ro_buf_reset(&fast.r.body);	/* keep the search short */
	}
	free(rec);
	assert_true(worst < 0.5);		/* publishing never blocks */

	/* the slow one was dropped: after its buffered data, EOF */
	for (i = 0; i < 2000 && !eof; i++) {
		pfd.fd = slow;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 3000) <= 0)
			break;			/* silent: not closed */
		n = read(slow, buf, sizeof(buf));
		if (n <= 0)
			eof = 1;
		else
			total += (size_t)n;
	}
	assert_true(eof);
	assert_true(total < 600 * reclen);	/* it did not get everything */
	close(slow);

	/* the fast subscriber still works */
	ro_api_publish(c->api, "{\"after\":1}", 11);
	assert_true(stream_wait(&fast, "data: {\"after\":1}\n\n", 5000));
	stream_close(&fast);
}

static void
test_events_max_subscribers(void **state)
{
	struct ctx	*c = *state;
	struct resp	 r;
	struct stream	 s;
	int		 fds[RO_API_SSE_MAX], i;
	bool		 ok = false;

	for (i = 0; i < RO_API_SSE_MAX; i++)
		fds[i] = raw_events(c);
	get(c, "/events", &r);
	assert_error(&r, 503);
	resp_release(&r);
	/* one leaves, one more may come (once the server saw it go: it
	 * notices on its next write to that socket) */
	close(fds[0]);
	fds[0] = -1;
	for (i = 0; i < 50; i++) {
		ro_api_publish(c->api, "{}", 2);
		sleep_ms(100);
		stream_open(c, &s);
		ok = stream_wait(&s, ": connected\n\n", 1000);
		stream_close(&s);
		if (ok)
			break;
	}
	assert_true(ok);
	for (i = 1; i < RO_API_SSE_MAX; i++)
		close(fds[i]);
}

/* ------------------------------------------------------------------ */
/* tests: start-up */

static int
nop_apply(void *arg, struct ro_spec *spec, bool dry_run, bool confirm,
    ro_api_done *done, void *done_arg, struct ro_err *err)
{
	ro_spec_free(spec);
	return ro_err_set(err, RO_EAGAIN, "no");
}

/* Start an API on addr as the configuration gives it: parsed by the
 * one listen parser, then host and port handed to the API. */
static int
start_at(struct ro_api **a, struct ro_api_opts *opts,
    const struct ro_api_ops *ops, const char *addr, struct ro_err *err)
{
	char	*host = NULL;
	int	 error;

	if ((error = ro_optval_listen("--listen", addr, &host, &opts->port,
	    err)) < 0)
		return error;
	opts->host = host;
	error = ro_api_start(a, opts, ops, err);
	opts->host = NULL;
	free(host);
	return error;
}

static void
test_listen(void **state)
{
	static const char *const bad[] = { "", "127.0.0.1", "127.0.0.1:",
	    "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:8x", "::1:80",
	    "[::1]80", "[::1", ":8080", "example.com:80", "1.2.3:80",
	    "127.0.0.1:123456", "myhost:8080", "[fe80::zz]:80" };
	struct ro_api_ops	 ops = { .apply = nop_apply };
	struct ro_api_opts	 opts = { .host = NULL };
	struct ro_err		 err = RO_ERR_INIT;
	struct ro_api		*a = NULL, *b = NULL;
	char			 addr[64];
	size_t			 i;
	int			 error;

	(void)state;
	/* what the configuration refuses never reaches the API */
	for (i = 0; i < RO_NELEM(bad); i++) {
		assert_int_equal(start_at(&a, &opts, &ops, bad[i], &err),
		    RO_EINVALID);
		assert_true(tu_contains(err.msg, "--listen"));
		assert_null(a);
	}
	/* and the API refuses what the parser would */
	opts.host = "myhost";
	opts.port = 8080;
	assert_int_equal(ro_api_start(&a, &opts, &ops, &err), RO_EINVALID);
	opts.host = NULL;
	assert_int_equal(ro_api_start(&a, &opts, &ops, &err), RO_EINVALID);

	opts.host = "127.0.0.1";
	opts.port = 0;
	opts.api_token = "";
	assert_int_equal(ro_api_start(&a, &opts, &ops, &err), RO_EINVALID);
	opts.api_token = NULL;
	opts.webhook_secret = "";
	assert_int_equal(ro_api_start(&a, &opts, &ops, &err), RO_EINVALID);
	opts.webhook_secret = NULL;

	/* port 0: the kernel picks; that port is then taken */
	assert_int_equal(start_at(&a, &opts, &ops, "127.0.0.1:0", &err),
	    RO_OK);
	assert_true(ro_api_port(a) > 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", ro_api_port(a));
	assert_int_equal(start_at(&b, &opts, &ops, addr, &err), RO_EIO);
	assert_true(tu_contains(err.msg, addr));
	ro_api_stop(a);
	a = NULL;

	assert_int_equal(start_at(&a, &opts, &ops, "localhost:0", &err),
	    RO_OK);
	ro_api_stop(a);
	a = NULL;

	/* IPv6 loopback, when the host has it */
	error = start_at(&a, &opts, &ops, "[::1]:0", &err);
	assert_true(error == RO_OK || error == RO_EIO);
	if (error == RO_OK) {
		assert_true(ro_api_port(a) > 0);
		ro_api_stop(a);
	}
	ro_api_stop(NULL);
	assert_int_equal(ro_api_port(NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listen),
		cmocka_unit_test_setup_teardown(test_health_ready, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_routes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keepalive, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_metrics_endpoint, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_audit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_ok, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_apply_bad, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_apply_too_big, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_apply_core_refuses, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_apply_concurrent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stop_waits_for_apply,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_auth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_token_configured,
		    setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_reconcile_suspend_confirm,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_hooks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hook_form_payload, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hook_body_limit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hook_rate_limit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hooks_disabled,
		    setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_slow_dropped,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_max_subscribers,
		    setup, teardown),
	};
	int	rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
