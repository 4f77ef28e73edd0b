/*
 * test_sim_contract.c: the RoomServer contract (roomserver-api.md), row
 * by row, over HTTP with libcurl.
 *
 * Runs against RO_ROOMSERVER_URL when set (any RoomServer; token from
 * RO_ROOMSERVER_TOKEN), else starts roomserver-sim ($RO_SIM) on
 * 127.0.0.1:0 with a temporary data dir and stops it at the end. Tests
 * that need the sim itself (restarts, auth on and off, faults, metrics)
 * are skipped against another server. Room ids carry the pid, so runs
 * never meet. Every request has a timeout; every loop a fixed count.
 */
#include <sys/types.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "roomops/buf.h"
#include "roomops/fingerprint.h"
#include "simctl.h"
#include "testutil.h"

#define REQ_TIMEOUT_MS	30000L
#define BODY_MAX	(64u << 20)	/* bytes of a response we keep */
#define WRITERS		8
#define JOINS_PER_WRITER 20

static struct simctl	 sim = SIMCTL_INIT;
static char		 base[256];
static char		 token[256];	/* "" when none */
static bool		 external;	/* RO_ROOMSERVER_URL given */
static bool		 custom_args;	/* the sim runs with a token or --fault */
static unsigned		 room_seq;
static __thread CURL	*tl_curl;	/* one keep-alive handle per thread */

struct http {
	CURLcode	 cc;
	long		 status;
	struct ro_buf	 body;
	char		 ctype[128];
	char		 retry_after[32];
	char		 www_auth[128];
	double		 secs;
};

/* ---- HTTP helpers ---------------------------------------------------- */

static size_t
on_body(char *p, size_t sz, size_t n, void *arg)
{
	struct http	*h = arg;

	return ro_buf_add(&h->body, p, sz * n) < 0 ? 0 : sz * n;
}

static void
header_value(char *dst, size_t size, const char *line, size_t len,
    const char *name)
{
	size_t	nl = strlen(name), vlen;

	if (len <= nl || strncasecmp(line, name, nl) != 0)
		return;
	line += nl;
	len -= nl;
	while (len > 0 && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	vlen = len < size - 1 ? len : size - 1;
	memcpy(dst, line, vlen);
	dst[vlen] = '\0';
}

static size_t
on_header(char *p, size_t sz, size_t n, void *arg)
{
	struct http	*h = arg;

	header_value(h->ctype, sizeof(h->ctype), p, sz * n, "Content-Type:");
	header_value(h->retry_after, sizeof(h->retry_after), p, sz * n,
	    "Retry-After:");
	header_value(h->www_auth, sizeof(h->www_auth), p, sz * n,
	    "WWW-Authenticate:");
	return sz * n;
}

static void
http_release(struct http *h)
{
	ro_buf_release(&h->body);
	memset(h, 0, sizeof(*h));
}

static void
http_thread_done(void)
{
	if (tl_curl != NULL)
		curl_easy_cleanup(tl_curl);
	tl_curl = NULL;
}

/*
 * One request to base + path. auth: NULL uses the configured token, ""
 * sends none, anything else is sent as the bearer token. mime (consumed)
 * replaces body. Returns the CURLcode; h->status is 0 on transport errors.
 */
static CURLcode
req_full(struct http *h, const char *method, const char *path,
    const char *ctype, const void *body, size_t len, curl_mime *mime,
    const char *auth)
{
	struct curl_slist *hdrs = NULL;
	char		 url[1024], line[512];
	const char	*tok = auth != NULL ? auth : token;

	memset(h, 0, sizeof(*h));
	ro_buf_init(&h->body, BODY_MAX);
	if (tl_curl == NULL && (tl_curl = curl_easy_init()) == NULL)
		fail_msg("curl_easy_init");
	curl_easy_reset(tl_curl);
	snprintf(url, sizeof(url), "%s%s", base, path);
	curl_easy_setopt(tl_curl, CURLOPT_URL, url);
	curl_easy_setopt(tl_curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(tl_curl, CURLOPT_TIMEOUT_MS, REQ_TIMEOUT_MS);
	curl_easy_setopt(tl_curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(tl_curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(tl_curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(tl_curl, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(tl_curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(tl_curl, CURLOPT_HEADERDATA, h);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(tl_curl, CURLOPT_NOBODY, 1L);
	if (tok[0] != '\0') {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", tok);
		hdrs = curl_slist_append(hdrs, line);
	}
	if (mime != NULL)
		curl_easy_setopt(tl_curl, CURLOPT_MIMEPOST, mime);
	else if (body != NULL) {
		snprintf(line, sizeof(line), "Content-Type: %s",
		    ctype != NULL ? ctype : "application/json");
		hdrs = curl_slist_append(hdrs, line);
		curl_easy_setopt(tl_curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(tl_curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)len);
	}
	curl_easy_setopt(tl_curl, CURLOPT_HTTPHEADER, hdrs);
	h->cc = curl_easy_perform(tl_curl);
	if (h->cc == CURLE_OK)
		curl_easy_getinfo(tl_curl, CURLINFO_RESPONSE_CODE, &h->status);
	curl_easy_getinfo(tl_curl, CURLINFO_TOTAL_TIME, &h->secs);
	curl_slist_free_all(hdrs);
	curl_mime_free(mime);
	return h->cc;
}

static void
req(struct http *h, const char *method, const char *path, const char *body)
{
	CURLcode	cc;

	cc = req_full(h, method, path, NULL, body, body != NULL ?
	    strlen(body) : 0, NULL, NULL);
	if (cc != CURLE_OK)
		fail_msg("%s %s: %s", method, path, curl_easy_strerror(cc));
}

static cJSON *
json_of(const struct http *h)
{
	cJSON	*o = cJSON_ParseWithLength(ro_buf_cstr(&h->body), h->body.len);

	if (o == NULL)
		fail_msg("not JSON: %s", ro_buf_cstr(&h->body));
	return o;
}

static void
expect_status(const struct http *h, long status)
{
	if (h->status != status)
		fail_msg("expected status %ld, got %ld: %s", status, h->status,
		    ro_buf_cstr(&h->body));
}

/* status and {"error": code, "message": string} */
static void
expect_error(const struct http *h, long status, const char *code)
{
	cJSON		*o;
	const cJSON	*e, *m;

	expect_status(h, status);
	o = json_of(h);
	e = cJSON_GetObjectItemCaseSensitive(o, "error");
	m = cJSON_GetObjectItemCaseSensitive(o, "message");
	if (!cJSON_IsString(e) || strcmp(e->valuestring, code) != 0)
		fail_msg("expected error %s: %s", code, ro_buf_cstr(&h->body));
	assert_true(cJSON_IsString(m));
	cJSON_Delete(o);
}

static void
new_room(char *out, size_t size)
{
	snprintf(out, size, "room-t%ld-%03u", (long)getpid(), ++room_seq);
}

static cJSON *
get_state(const char *room)
{
	struct http	 h;
	char		 path[512];
	cJSON		*o;

	snprintf(path, sizeof(path), "/room/%s/state", room);
	req(&h, "GET", path, NULL);
	expect_status(&h, 200);
	o = json_of(&h);
	http_release(&h);
	return o;
}

static long
revision(const char *room)
{
	cJSON	*o = get_state(room);
	long	 rev;

	rev = (long)cJSON_GetObjectItemCaseSensitive(o, "revision")->valuedouble;
	cJSON_Delete(o);
	return rev;
}

static const cJSON *
find_by(const cJSON *arr, const char *key, const char *value)
{
	const cJSON	*it, *v;

	cJSON_ArrayForEach(it, arr) {
		v = cJSON_GetObjectItemCaseSensitive(it, key);
		if (cJSON_IsString(v) && strcmp(v->valuestring, value) == 0)
			return it;
	}
	return NULL;
}

static bool
has_entity(const char *room, const char *id)
{
	cJSON	*o = get_state(room);
	bool	 found;

	found = find_by(cJSON_GetObjectItemCaseSensitive(o, "entities"), "id",
	    id) != NULL;
	cJSON_Delete(o);
	return found;
}

static void
join(struct http *h, const char *room, const char *body)
{
	char	path[512];

	snprintf(path, sizeof(path), "/room/%s/join", room);
	req(h, "POST", path, body);
}

static void
join_ok(const char *room, const char *id)
{
	struct http	h;
	char		body[512];

	snprintf(body, sizeof(body), "{\"roomId\":\"%s\",\"entityId\":\"%s\","
	    "\"kind\":\"agent\"}", room, id);
	join(&h, room, body);
	expect_status(&h, 201);
	http_release(&h);
}

/* Multipart seed; tags NULL leaves the field out; name NULL too. */
static CURLcode
seed_full(struct http *h, const char *room, const char *name,
    const char *type, const char *workspace, const char *tags,
    const void *content, size_t len, bool with_file)
{
	curl_mime	*m;
	curl_mimepart	*p;
	char		 path[512];

	if (tl_curl == NULL && (tl_curl = curl_easy_init()) == NULL)
		fail_msg("curl_easy_init");
	m = curl_mime_init(tl_curl);
	if (name != NULL) {
		p = curl_mime_addpart(m);
		curl_mime_name(p, "name");
		curl_mime_data(p, name, CURL_ZERO_TERMINATED);
	}
	if (type != NULL) {
		p = curl_mime_addpart(m);
		curl_mime_name(p, "type");
		curl_mime_data(p, type, CURL_ZERO_TERMINATED);
	}
	if (workspace != NULL) {
		p = curl_mime_addpart(m);
		curl_mime_name(p, "workspace");
		curl_mime_data(p, workspace, CURL_ZERO_TERMINATED);
	}
	if (tags != NULL) {
		p = curl_mime_addpart(m);
		curl_mime_name(p, "tags");
		curl_mime_data(p, tags, CURL_ZERO_TERMINATED);
	}
	if (with_file) {
		p = curl_mime_addpart(m);
		curl_mime_name(p, "file");
		curl_mime_filename(p, "content.bin");
		curl_mime_type(p, "application/octet-stream");
		curl_mime_data(p, content, len);
	}
	snprintf(path, sizeof(path), "/room/%s/artifacts/seed", room);
	return req_full(h, "POST", path, NULL, NULL, 0, m, NULL);
}

static void
seed(struct http *h, const char *room, const char *name, const char *tags,
    const void *content, size_t len)
{
	if (seed_full(h, room, name, "document", "shared", tags, content, len,
	    true) != CURLE_OK)
		fail_msg("seed: %s", curl_easy_strerror(h->cc));
}

/* Value of one roomserver_requests_total series, 0 when absent. */
static long
metric(const char *method, const char *route, const char *status)
{
	struct http	 h;
	char		 key[512];
	const char	*p;
	long		 v = 0;

	snprintf(key, sizeof(key), "roomserver_requests_total{method=\"%s\","
	    "route=\"%s\",status=\"%s\"} ", method, route, status);
	req(&h, "GET", "/metrics", NULL);
	expect_status(&h, 200);
	if ((p = strstr(ro_buf_cstr(&h.body), key)) != NULL)
		v = strtol(p + strlen(key), NULL, 10);
	http_release(&h);
	return v;
}

/* Restart the sim on the same data dir with extra arguments. */
static void
restart(const char *const *args)
{
	assert_int_equal(simctl_stop(&sim), 0);
	assert_int_equal(simctl_start(&sim, args), 0);
	custom_args = args != NULL;
	snprintf(base, sizeof(base), "%s", sim.url);
	http_thread_done();	/* the old keep-alive connection is gone */
}

/*
 * After each sim-only test, even a failed one: back to a plain sim
 * without faults, so one failure does not cascade into the next tests.
 */
static int
sim_reset(void **state)
{
	struct http	h;

	if (external)
		return 0;
	if (sim.pid == 0 || custom_args) {
		if (sim.pid != 0)
			simctl_stop(&sim);
		if (simctl_start(&sim, NULL) < 0)
			return -1;
		custom_args = false;
		snprintf(base, sizeof(base), "%s", sim.url);
		http_thread_done();
	}
	if (req_full(&h, "DELETE", "/_sim/faults", NULL, NULL, 0, NULL,
	    NULL) != CURLE_OK || h.status != 204) {
		http_release(&h);
		return -1;
	}
	http_release(&h);
	return 0;
}

/* ---- the contract table ---------------------------------------------- */

static void
test_health(void **state)
{
	struct http	 h;
	cJSON		*o;

	req(&h, "GET", "/health", NULL);
	expect_status(&h, 200);
	assert_non_null(strstr(h.ctype, "application/json"));
	o = json_of(&h);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(o,
	    "status")->valuestring, "healthy");
	cJSON_Delete(o);
	http_release(&h);
}

static void
test_state_unknown_room(void **state)
{
	char		 room[64];
	cJSON		*o, *pol;
	struct http	 h;

	new_room(room, sizeof(room));
	o = get_state(room);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(o,
	    "roomId")->valuestring, room);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(o,
	    "revision")->valuedouble, 0);
	assert_int_equal(cJSON_GetArraySize(
	    cJSON_GetObjectItemCaseSensitive(o, "entities")), 0);
	assert_int_equal(cJSON_GetArraySize(
	    cJSON_GetObjectItemCaseSensitive(o, "artifacts")), 0);
	pol = cJSON_GetObjectItemCaseSensitive(o, "policies");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(pol,
	    "dmVisibilityDefault")->valuestring, "team");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(pol,
	    "allowResourceCreation")));
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(pol,
	    "maxArtifactsPerEntity")->valuedouble, 100);
	cJSON_Delete(o);

	req(&h, "GET", "/room/room-abc/state", NULL);	/* 3 < 6 chars */
	expect_error(&h, 400, "INVALID_ROOM_ID");
	http_release(&h);
	req(&h, "GET", "/room/lobby-abcdef/state", NULL);
	expect_error(&h, 400, "INVALID_ROOM_ID");
	http_release(&h);
	req(&h, "GET", "/room/room-abc%21def/state", NULL);	/* '!' */
	expect_error(&h, 400, "INVALID_ROOM_ID");
	http_release(&h);
}

static void
test_join(void **state)
{
	struct http	 h;
	char		 room[64], body[1024];
	cJSON		*o;
	const cJSON	*e, *pol;

	new_room(room, sizeof(room));
	snprintf(body, sizeof(body), "{\"roomId\":\"%s\",\"entityId\":"
	    "\"E-agent-1\",\"kind\":\"agent\",\"displayName\":\"Research "
	    "Agent\",\"visibility\":\"team\",\"ownerUserId\":null,"
	    "\"capabilities\":[\"read_artifacts\"],\"policy\":{"
	    "\"allow_commands_from\":\"orchestrator\",\"sandbox_mode\":true,"
	    "\"env_whitelist\":[\"PATH\"],\"scopes\":[\"s1\"]}}", room);
	join(&h, room, body);
	expect_status(&h, 201);
	o = json_of(&h);
	e = find_by(cJSON_GetObjectItemCaseSensitive(o, "entities"), "id",
	    "E-agent-1");
	assert_non_null(e);
	cJSON_Delete(o);
	http_release(&h);
	assert_int_equal(revision(room), 1);

	o = get_state(room);
	e = find_by(cJSON_GetObjectItemCaseSensitive(o, "entities"), "id",
	    "E-agent-1");
	assert_non_null(e);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(e,
	    "kind")->valuestring, "agent");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(e,
	    "displayName")->valuestring, "Research Agent");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(e,
	    "visibility")->valuestring, "team");
	assert_string_equal(cJSON_GetArrayItem(
	    cJSON_GetObjectItemCaseSensitive(e, "capabilities"),
	    0)->valuestring, "read_artifacts");
	pol = cJSON_GetObjectItemCaseSensitive(e, "policy");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(pol,
	    "allow_commands_from")->valuestring, "orchestrator");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(pol,
	    "sandbox_mode")));
	assert_string_equal(cJSON_GetArrayItem(
	    cJSON_GetObjectItemCaseSensitive(pol, "env_whitelist"),
	    0)->valuestring, "PATH");
	cJSON_Delete(o);

	/* idempotent outcome: the same id again is 409, no change */
	join(&h, room, body);
	expect_error(&h, 409, "ENTITY_EXISTS");
	http_release(&h);
	assert_int_equal(revision(room), 1);

	join(&h, room, "{\"entityId\":\"E-\",\"kind\":\"agent\"}");
	expect_error(&h, 400, "INVALID_ENTITY_ID");
	http_release(&h);
	join(&h, room, "{\"entityId\":\"agent-2\",\"kind\":\"agent\"}");
	expect_error(&h, 400, "INVALID_ENTITY_ID");
	http_release(&h);
	join(&h, room, "{\"entityId\":\"E-a234567890123456789012345678901234"
	    "5678901234567890123456789012345\",\"kind\":\"agent\"}");
	expect_error(&h, 400, "INVALID_ENTITY_ID");	/* 65 characters */
	http_release(&h);
	join(&h, room, "{\"kind\":\"agent\"}");
	expect_error(&h, 400, "INVALID_ENTITY_ID");
	http_release(&h);
	join(&h, room, "{\"entityId\":\"E-robot\",\"kind\":\"robot\"}");
	expect_error(&h, 400, "INVALID_ENTITY_KIND");
	http_release(&h);
	join(&h, room, "{\"entityId\":\"E-nokind\"}");
	expect_error(&h, 400, "INVALID_ENTITY_KIND");
	http_release(&h);
	join(&h, room, "{\"entityId\":\"E-own\",\"kind\":\"human\","
	    "\"visibility\":\"owner\"}");
	expect_error(&h, 400, "OWNER_REQUIRED");
	http_release(&h);
	join(&h, room, "{\"entityId\":\"E-own\",\"kind\":\"human\","
	    "\"visibility\":\"owner\",\"ownerUserId\":\"\"}");
	expect_error(&h, 400, "OWNER_REQUIRED");
	http_release(&h);
	assert_int_equal(revision(room), 1);
	assert_false(has_entity(room, "E-own"));

	join(&h, room, "{\"entityId\":\"E-own\",\"kind\":\"human\","
	    "\"visibility\":\"owner\",\"ownerUserId\":\"user-123\"}");
	expect_status(&h, 201);
	http_release(&h);
	assert_int_equal(revision(room), 2);

	/* every kind of the contract */
	join(&h, room, "{\"entityId\":\"E-npc\",\"kind\":\"npc\"}");
	expect_status(&h, 201);
	http_release(&h);
	join(&h, room, "{\"entityId\":\"E-orc\",\"kind\":\"orchestrator\"}");
	expect_status(&h, 201);
	http_release(&h);
	assert_int_equal(revision(room), 4);

	req(&h, "POST", "/room/room-x/join",
	    "{\"entityId\":\"E-ab\",\"kind\":\"agent\"}");
	expect_error(&h, 400, "INVALID_ROOM_ID");
	http_release(&h);
}

static void
test_update_entity(void **state)
{
	struct http	 h;
	char		 room[64], path[256];
	cJSON		*o;
	const cJSON	*e;

	new_room(room, sizeof(room));
	join_ok(room, "E-upd");
	snprintf(path, sizeof(path), "/room/%s/entities/E-upd", room);
	req(&h, "PUT", path, "{\"entityId\":\"E-upd\",\"kind\":\"npc\","
	    "\"displayName\":\"Guide\",\"visibility\":\"public\","
	    "\"capabilities\":[\"talk\",\"walk\"]}");
	expect_status(&h, 200);
	o = json_of(&h);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(o,
	    "kind")->valuestring, "npc");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(o,
	    "displayName")->valuestring, "Guide");
	cJSON_Delete(o);
	http_release(&h);
	assert_int_equal(revision(room), 2);

	o = get_state(room);
	e = find_by(cJSON_GetObjectItemCaseSensitive(o, "entities"), "id",
	    "E-upd");
	assert_non_null(e);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(e,
	    "visibility")->valuestring, "public");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
	    e, "capabilities")), 2);
	cJSON_Delete(o);

	snprintf(path, sizeof(path), "/room/%s/entities/E-missing", room);
	req(&h, "PUT", path, "{\"kind\":\"npc\"}");
	expect_error(&h, 404, "ENTITY_NOT_FOUND");
	http_release(&h);
	snprintf(path, sizeof(path), "/room/%s/entities/E-upd", room);
	req(&h, "PUT", path, "{\"kind\":\"dragon\"}");
	expect_error(&h, 400, "INVALID_ENTITY_KIND");
	http_release(&h);
	req(&h, "PUT", path, "{\"kind\":\"human\",\"visibility\":\"owner\"}");
	expect_error(&h, 400, "OWNER_REQUIRED");
	http_release(&h);
	snprintf(path, sizeof(path), "/room/%s/entities/bad-id", room);
	req(&h, "PUT", path, "{\"kind\":\"npc\"}");
	expect_error(&h, 400, "INVALID_ENTITY_ID");
	http_release(&h);
	assert_int_equal(revision(room), 2);
}

static void
test_kick(void **state)
{
	struct http	h;
	char		room[64], path[256];

	new_room(room, sizeof(room));
	join_ok(room, "E-kick");
	join_ok(room, "E-stay");
	snprintf(path, sizeof(path), "/room/%s/entities/E-kick", room);
	req(&h, "DELETE", path, NULL);
	expect_status(&h, 204);
	assert_int_equal(h.body.len, 0);
	http_release(&h);
	assert_int_equal(revision(room), 3);
	assert_false(has_entity(room, "E-kick"));
	assert_true(has_entity(room, "E-stay"));

	req(&h, "DELETE", path, NULL);		/* idempotent outcome */
	expect_error(&h, 404, "ENTITY_NOT_FOUND");
	http_release(&h);
	assert_int_equal(revision(room), 3);

	new_room(room, sizeof(room));		/* a room never written */
	snprintf(path, sizeof(path), "/room/%s/entities/E-none", room);
	req(&h, "DELETE", path, NULL);
	expect_error(&h, 404, "ENTITY_NOT_FOUND");
	http_release(&h);
	assert_int_equal(revision(room), 0);
}

static void
test_seed_hash_get(void **state)
{
	static const char bin[] = "a\0b\r\n--not-a-boundary\r\n\xff\xfe end";
	struct http	 h;
	char		 room[64], path[256], sha[RO_HEX_SHA256_LEN + 1];
	cJSON		*o;
	const cJSON	*a;

	new_room(room, sizeof(room));
	seed(&h, room, "test-artifact", "tag1,tag2", "test content", 12);
	expect_status(&h, 201);
	o = json_of(&h);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(o,
	    "name")->valuestring, "test-artifact");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(o,
	    "type")->valuestring, "document");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(o,
	    "workspace")->valuestring, "shared");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
	    o, "tags")), 2);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(o,
	    "fingerprint")->valuestring,
	    "9a0a3c3661175e6a9e486b9fa0e94482fc9c1d4d5083cd6b2232f58b9709b22f");
	ro_sha256_hex(sha, "test content", 12);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(o,
	    "contentHash")->valuestring, sha);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(o,
	    "size")->valuedouble, 12);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(o,
	    "version")->valuedouble, 1);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o,
	    "isPromoted")));
	cJSON_Delete(o);
	http_release(&h);
	assert_int_equal(revision(room), 1);

	snprintf(path, sizeof(path), "/room/%s/artifacts/test-artifact/hash",
	    room);
	req(&h, "GET", path, NULL);
	expect_status(&h, 200);
	o = json_of(&h);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(o,
	    "hash")->valuestring,
	    "9a0a3c3661175e6a9e486b9fa0e94482fc9c1d4d5083cd6b2232f58b9709b22f");
	cJSON_Delete(o);
	http_release(&h);
	snprintf(path, sizeof(path), "/room/%s/artifacts/test-artifact", room);
	req(&h, "GET", path, NULL);
	expect_status(&h, 200);
	assert_int_equal(h.body.len, 12);
	assert_memory_equal(h.body.ptr, "test content", 12);
	http_release(&h);

	/* replacement: same name, new bytes, version 2 */
	seed(&h, room, "test-artifact", "tag1,tag2", bin, sizeof(bin));
	expect_status(&h, 201);
	o = json_of(&h);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(o,
	    "version")->valuedouble, 2);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(o,
	    "size")->valuedouble, sizeof(bin));
	cJSON_Delete(o);
	http_release(&h);
	assert_int_equal(revision(room), 2);
	req(&h, "GET", path, NULL);
	expect_status(&h, 200);
	assert_int_equal(h.body.len, sizeof(bin));
	assert_memory_equal(h.body.ptr, bin, sizeof(bin));
	http_release(&h);
	o = get_state(room);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
	    o, "artifacts")), 1);
	cJSON_Delete(o);

	/* the second vector: no tags, empty content */
	seed(&h, room, "x", "", "", 0);
	http_release(&h);
	if (seed_full(&h, room, "x", "t", "w", "", "", 0, true) != CURLE_OK)
		fail_msg("seed");
	expect_status(&h, 201);
	o = json_of(&h);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(o,
	    "fingerprint")->valuestring,
	    "249b4a014db3021bb0907f945f5521e85cafc59408733c133a01580faf71446d");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
	    o, "tags")), 0);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(o,
	    "version")->valuedouble, 2);
	cJSON_Delete(o);
	http_release(&h);

	o = get_state(room);
	a = find_by(cJSON_GetObjectItemCaseSensitive(o, "artifacts"), "name",
	    "x");
	assert_non_null(a);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(a,
	    "fingerprint")->valuestring,
	    "249b4a014db3021bb0907f945f5521e85cafc59408733c133a01580faf71446d");
	cJSON_Delete(o);

	snprintf(path, sizeof(path), "/room/%s/artifacts/nope/hash", room);
	req(&h, "GET", path, NULL);
	expect_error(&h, 404, "ARTIFACT_NOT_FOUND");
	http_release(&h);
	snprintf(path, sizeof(path), "/room/%s/artifacts/nope", room);
	req(&h, "GET", path, NULL);
	expect_status(&h, 404);
	http_release(&h);
}

static void
test_seed_errors(void **state)
{
	struct http	 h;
	char		 room[64], path[256];
	char		*big;
	size_t		 bigsz = (16u << 20) + 1;
	static const char bad[] = "--XYZ\r\nContent-Disposition: form-data; "
	    "name=\"name\"\r\n\r\nabc\r\n--XYZ\r\nContent-Disposition: form-"
	    "data; name=\"file\"\r\n\r\ntruncated without a closing delimiter";

	new_room(room, sizeof(room));
	seed(&h, room, "keep", "", "v1", 2);
	expect_status(&h, 201);
	http_release(&h);

	assert_int_equal(seed_full(&h, room, NULL, "t", "w", "", "x", 1, true),
	    CURLE_OK);
	expect_error(&h, 400, "MISSING_FIELD");
	http_release(&h);
	assert_int_equal(seed_full(&h, room, "n", NULL, "w", "", "x", 1, true),
	    CURLE_OK);
	expect_error(&h, 400, "MISSING_FIELD");
	http_release(&h);
	assert_int_equal(seed_full(&h, room, "n", "t", NULL, "", "x", 1, true),
	    CURLE_OK);
	expect_error(&h, 400, "MISSING_FIELD");
	http_release(&h);
	assert_int_equal(seed_full(&h, room, "n", "t", "w", "", NULL, 0,
	    false), CURLE_OK);
	expect_error(&h, 400, "MISSING_FIELD");
	http_release(&h);

	/* malformed multipart: no change */
	snprintf(path, sizeof(path), "/room/%s/artifacts/seed", room);
	assert_int_equal(req_full(&h, "POST", path,
	    "multipart/form-data; boundary=XYZ", bad, sizeof(bad) - 1, NULL,
	    NULL), CURLE_OK);
	expect_status(&h, 400);
	http_release(&h);
	assert_int_equal(req_full(&h, "POST", path, "application/json",
	    "{\"name\":\"n\"}", 12, NULL, NULL), CURLE_OK);
	expect_status(&h, 400);
	http_release(&h);
	assert_int_equal(req_full(&h, "POST", path,
	    "multipart/form-data; boundary=XYZ", "garbage", 7, NULL, NULL),
	    CURLE_OK);
	expect_status(&h, 400);
	http_release(&h);

	/* one byte over 16 MiB */
	big = calloc(1, bigsz);
	assert_non_null(big);
	memset(big, 'z', bigsz);
	seed(&h, room, "big", "", big, bigsz);
	expect_error(&h, 413, "TOO_LARGE");
	http_release(&h);
	free(big);

	assert_int_equal(revision(room), 1);
	snprintf(path, sizeof(path), "/room/%s/artifacts/keep", room);
	req(&h, "GET", path, NULL);
	expect_status(&h, 200);
	assert_memory_equal(h.body.ptr, "v1", 2);
	http_release(&h);
}

static void
test_seed_16mib(void **state)
{
	struct http	 h;
	char		 room[64], path[256];
	char		*big;
	size_t		 sz = 16u << 20;

	new_room(room, sizeof(room));
	big = malloc(sz);
	assert_non_null(big);
	memset(big, 'q', sz);
	big[sz - 1] = '!';
	seed(&h, room, "exactly-16mib", "", big, sz);
	expect_status(&h, 201);
	http_release(&h);
	snprintf(path, sizeof(path), "/room/%s/artifacts/exactly-16mib", room);
	req(&h, "GET", path, NULL);
	expect_status(&h, 200);
	assert_int_equal(h.body.len, sz);
	assert_memory_equal(h.body.ptr, big, sz);
	http_release(&h);
	free(big);
}

static void
test_promote(void **state)
{
	struct http	 h;
	char		 room[64], path[256];
	cJSON		*o;
	long		 rev;

	new_room(room, sizeof(room));
	seed(&h, room, "plan", "planning", "p", 1);
	expect_status(&h, 201);
	http_release(&h);
	snprintf(path, sizeof(path), "/room/%s/artifacts/plan/promote", room);
	req(&h, "POST", path, NULL);
	expect_status(&h, 200);
	o = json_of(&h);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o,
	    "isPromoted")));
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(o,
	    "name")->valuestring, "plan");
	cJSON_Delete(o);
	http_release(&h);
	rev = revision(room);
	assert_int_equal(rev, 2);

	req(&h, "POST", path, NULL);		/* promoting twice is 200 */
	expect_status(&h, 200);
	o = json_of(&h);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o,
	    "isPromoted")));
	cJSON_Delete(o);
	http_release(&h);
	if (!external)		/* the sim: a no-op is not a change */
		assert_int_equal(revision(room), rev);

	/* new content is not promoted until promoted again */
	seed(&h, room, "plan", "planning", "p2", 2);
	expect_status(&h, 201);
	o = json_of(&h);
	if (!external)
		assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o,
		    "isPromoted")));
	cJSON_Delete(o);
	http_release(&h);

	snprintf(path, sizeof(path), "/room/%s/artifacts/none/promote", room);
	req(&h, "POST", path, NULL);
	expect_status(&h, 404);
	http_release(&h);
}

static void
test_delete_artifact(void **state)
{
	struct http	h;
	char		room[64], path[256];

	new_room(room, sizeof(room));
	seed(&h, room, "gone", "", "bye", 3);
	expect_status(&h, 201);
	http_release(&h);
	seed(&h, room, "twin", "", "bye", 3);	/* same bytes, other name */
	expect_status(&h, 201);
	http_release(&h);
	snprintf(path, sizeof(path), "/room/%s/artifacts/gone", room);
	req(&h, "DELETE", path, NULL);
	expect_status(&h, 204);
	http_release(&h);
	assert_int_equal(revision(room), 3);
	req(&h, "DELETE", path, NULL);
	expect_status(&h, 404);
	http_release(&h);
	req(&h, "GET", path, NULL);
	expect_status(&h, 404);
	http_release(&h);
	assert_int_equal(revision(room), 3);
	snprintf(path, sizeof(path), "/room/%s/artifacts/twin", room);
	req(&h, "GET", path, NULL);		/* shared content survives */
	expect_status(&h, 200);
	assert_memory_equal(h.body.ptr, "bye", 3);
	http_release(&h);
}

static void
test_policies(void **state)
{
	struct http	 h;
	char		 room[64], path[256];
	cJSON		*o, *pol;

	new_room(room, sizeof(room));
	snprintf(path, sizeof(path), "/room/%s/policies", room);
	req(&h, "PUT", path, "{\"dmVisibilityDefault\":\"public\","
	    "\"allowResourceCreation\":true,\"maxArtifactsPerEntity\":5}");
	expect_status(&h, 200);
	o = json_of(&h);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(o,
	    "dmVisibilityDefault")->valuestring, "public");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o,
	    "allowResourceCreation")));
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(o,
	    "maxArtifactsPerEntity")->valuedouble, 5);
	cJSON_Delete(o);
	http_release(&h);
	assert_int_equal(revision(room), 1);

	req(&h, "PUT", path, "{\"dmVisibilityDefault\":\"owner\","
	    "\"allowResourceCreation\":true}");
	expect_error(&h, 400, "INVALID_POLICY");
	http_release(&h);
	req(&h, "PUT", path, "{\"dmVisibilityDefault\":\"everyone\","
	    "\"allowResourceCreation\":true,\"maxArtifactsPerEntity\":5}");
	expect_error(&h, 400, "INVALID_POLICY");
	http_release(&h);
	req(&h, "PUT", path, "{\"dmVisibilityDefault\":\"team\","
	    "\"allowResourceCreation\":\"yes\",\"maxArtifactsPerEntity\":5}");
	expect_error(&h, 400, "INVALID_POLICY");
	http_release(&h);
	req(&h, "PUT", path, "{\"dmVisibilityDefault\":\"team\","
	    "\"allowResourceCreation\":false,\"maxArtifactsPerEntity\":-1}");
	expect_error(&h, 400, "INVALID_POLICY");
	http_release(&h);
	assert_int_equal(revision(room), 1);

	/* the older form: one field */
	req(&h, "POST", path, "{\"policyName\":\"maxArtifactsPerEntity\","
	    "\"policyValue\":42}");
	expect_status(&h, 200);
	o = json_of(&h);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(o,
	    "maxArtifactsPerEntity")->valuedouble, 42);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(o,
	    "dmVisibilityDefault")->valuestring, "public");
	cJSON_Delete(o);
	http_release(&h);
	req(&h, "POST", path, "{\"policyName\":\"dmVisibilityDefault\","
	    "\"policyValue\":\"owner\"}");
	expect_status(&h, 200);
	http_release(&h);
	req(&h, "POST", path, "{\"policyName\":\"noSuchPolicy\","
	    "\"policyValue\":1}");
	expect_status(&h, 400);
	http_release(&h);
	req(&h, "POST", path, "{\"policyName\":\"allowResourceCreation\","
	    "\"policyValue\":7}");
	expect_status(&h, 400);
	http_release(&h);
	assert_int_equal(revision(room), 3);

	o = get_state(room);
	pol = cJSON_GetObjectItemCaseSensitive(o, "policies");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(pol,
	    "dmVisibilityDefault")->valuestring, "owner");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(pol,
	    "allowResourceCreation")));
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(pol,
	    "maxArtifactsPerEntity")->valuedouble, 42);
	cJSON_Delete(o);
}

static void
test_malformed_json(void **state)
{
	static const char *const bodies[] = {
		"{", "{\"entityId\":\"E-x1\",\"kind\":\"agent\"", "[]",
		"{\"entityId\":\"E-x1\",\"kind\":\"agent\"} trailing", "",
		"nul\x01l", "\"just a string\"",
	};
	struct http	 h;
	char		 room[64], path[256];
	size_t		 i;

	new_room(room, sizeof(room));
	join_ok(room, "E-base");
	for (i = 0; i < RO_NELEM(bodies); i++) {
		snprintf(path, sizeof(path), "/room/%s/join", room);
		req(&h, "POST", path, bodies[i]);
		expect_status(&h, 400);
		http_release(&h);
		snprintf(path, sizeof(path), "/room/%s/entities/E-base", room);
		req(&h, "PUT", path, bodies[i]);
		expect_status(&h, 400);
		http_release(&h);
		snprintf(path, sizeof(path), "/room/%s/policies", room);
		req(&h, "PUT", path, bodies[i]);
		expect_status(&h, 400);
		http_release(&h);
		req(&h, "POST", path, bodies[i]);
		expect_status(&h, 400);
		http_release(&h);
	}
	assert_int_equal(revision(room), 1);
	assert_false(has_entity(room, "E-x1"));
}

static void
test_percent_encoded_ids(void **state)
{
	struct http	 h;
	char		 room[64], enc[96], path[512];
	cJSON		*o;

	new_room(room, sizeof(room));
	/* "room-" spelled with escapes reaches the same room */
	snprintf(enc, sizeof(enc), "%%72oom%%2D%s", room + 5);
	snprintf(path, sizeof(path), "/room/%s/join", enc);
	req(&h, "POST", path, "{\"entityId\":\"E-enc\",\"kind\":\"agent\"}");
	expect_status(&h, 201);
	http_release(&h);
	assert_true(has_entity(room, "E-enc"));
	snprintf(path, sizeof(path), "/room/%s/entities/E%%2Denc", room);
	req(&h, "DELETE", path, NULL);
	expect_status(&h, 204);
	http_release(&h);

	/* an artifact name with a space and a slash is one path segment */
	seed(&h, room, "my doc/v1", "", "slash", 5);
	expect_status(&h, 201);
	http_release(&h);
	snprintf(path, sizeof(path), "/room/%s/artifacts/my%%20doc%%2Fv1",
	    room);
	req(&h, "GET", path, NULL);
	expect_status(&h, 200);
	assert_memory_equal(h.body.ptr, "slash", 5);
	http_release(&h);
	snprintf(path, sizeof(path), "/room/%s/artifacts/my%%20doc%%2Fv1/hash",
	    room);
	req(&h, "GET", path, NULL);
	expect_status(&h, 200);
	o = json_of(&h);
	assert_non_null(cJSON_GetObjectItemCaseSensitive(o, "hash"));
	cJSON_Delete(o);
	http_release(&h);
}

static void
test_unknown_routes(void **state)
{
	struct http	h;
	char		room[64], path[256];

	if (external)
		skip();		/* 404/405 bodies are the sim's choice */
	req(&h, "GET", "/no/such/thing", NULL);
	expect_error(&h, 404, "NOT_FOUND");
	http_release(&h);
	new_room(room, sizeof(room));
	snprintf(path, sizeof(path), "/room/%s/state", room);
	req(&h, "DELETE", path, NULL);
	expect_error(&h, 405, "METHOD_NOT_ALLOWED");
	http_release(&h);
	req(&h, "HEAD", path, NULL);
	expect_status(&h, 200);
	http_release(&h);
}

static void
test_body_limit(void **state)
{
	struct http	 h;
	char		 room[64], path[256];
	char		*big;
	size_t		 sz = (16u << 20) + 1;

	new_room(room, sizeof(room));
	big = malloc(sz);
	assert_non_null(big);
	memset(big, ' ', sz);
	snprintf(path, sizeof(path), "/room/%s/policies", room);
	assert_int_equal(req_full(&h, "PUT", path, NULL, big, sz, NULL, NULL),
	    CURLE_OK);
	expect_status(&h, 413);
	http_release(&h);
	free(big);
	assert_int_equal(revision(room), 0);
}

/* ---- concurrency ------------------------------------------------------ */

struct writer {
	const char	*room;
	int		 n;
	long		 ok;		/* successful mutations */
	long		 shared_201;
	int		 failed;
};

static void *
writer_main(void *arg)
{
	struct writer	*w = arg;
	struct http	 h;
	char		 path[256], body[256];
	int		 i;

	snprintf(path, sizeof(path), "/room/%s/join", w->room);
	for (i = 0; i < JOINS_PER_WRITER; i++) {
		snprintf(body, sizeof(body), "{\"entityId\":\"E-w%d-%d\","
		    "\"kind\":\"agent\"}", w->n, i);
		if (req_full(&h, "POST", path, NULL, body, strlen(body), NULL,
		    NULL) != CURLE_OK || h.status != 201)
			w->failed++;
		else
			w->ok++;
		http_release(&h);
	}
	/* everyone races for one id: exactly one 201, the rest 409 */
	snprintf(body, sizeof(body), "{\"entityId\":\"E-shared\","
	    "\"kind\":\"npc\"}");
	if (req_full(&h, "POST", path, NULL, body, strlen(body), NULL,
	    NULL) == CURLE_OK && h.status == 201) {
		w->ok++;
		w->shared_201++;
	} else if (h.status != 409)
		w->failed++;
	http_release(&h);
	/* kick every other own entity */
	for (i = 0; i < JOINS_PER_WRITER; i += 2) {
		snprintf(path, sizeof(path), "/room/%s/entities/E-w%d-%d",
		    w->room, w->n, i);
		if (req_full(&h, "DELETE", path, NULL, NULL, 0, NULL,
		    NULL) != CURLE_OK || h.status != 204)
			w->failed++;
		else
			w->ok++;
		http_release(&h);
	}
	http_thread_done();
	return NULL;
}

static void
test_concurrent_writers(void **state)
{
	struct writer	 w[WRITERS];
	pthread_t	 th[WRITERS];
	char		 room[64], id[64];
	cJSON		*o;
	const cJSON	*ents;
	long		 ok = 0, shared = 0;
	int		 i, j, expect_n;

	new_room(room, sizeof(room));
	for (i = 0; i < WRITERS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].room = room;
		w[i].n = i;
		assert_int_equal(pthread_create(&th[i], NULL, writer_main,
		    &w[i]), 0);
	}
	for (i = 0; i < WRITERS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].failed, 0);
		ok += w[i].ok;
		shared += w[i].shared_201;
	}
	assert_int_equal(shared, 1);
	assert_int_equal(ok, WRITERS * (JOINS_PER_WRITER +
	    JOINS_PER_WRITER / 2) + 1);
	o = get_state(room);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(o,
	    "revision")->valuedouble, ok);
	ents = cJSON_GetObjectItemCaseSensitive(o, "entities");
	expect_n = WRITERS * (JOINS_PER_WRITER / 2) + 1;
	assert_int_equal(cJSON_GetArraySize(ents), expect_n);
	for (i = 0; i < WRITERS; i++)
		for (j = 0; j < JOINS_PER_WRITER; j++) {
			snprintf(id, sizeof(id), "E-w%d-%d", i, j);
			assert_int_equal(find_by(ents, "id", id) != NULL,
			    j % 2 == 1);
		}
	assert_non_null(find_by(ents, "id", "E-shared"));
	cJSON_Delete(o);
}

/* ---- the sim itself: restarts, auth, faults, metrics ----------------- */

static void
test_restart_persistence(void **state)
{
	struct http	 h;
	char		 room[64], path[256];
	char		*before;
	size_t		 before_len;
	int		 i;

	if (external)
		skip();
	new_room(room, sizeof(room));
	join_ok(room, "E-p1");
	join_ok(room, "E-p2");
	seed(&h, room, "kept", "a,b", "persisted bytes", 15);
	expect_status(&h, 201);
	http_release(&h);
	snprintf(path, sizeof(path), "/room/%s/artifacts/kept/promote", room);
	req(&h, "POST", path, NULL);
	http_release(&h);
	snprintf(path, sizeof(path), "/room/%s/policies", room);
	req(&h, "POST", path, "{\"policyName\":\"allowResourceCreation\","
	    "\"policyValue\":true}");
	http_release(&h);
	snprintf(path, sizeof(path), "/room/%s/state", room);
	req(&h, "GET", path, NULL);
	expect_status(&h, 200);
	before = ro_buf_detach(&h.body, &before_len);
	http_release(&h);

	/* kill -9 between requests, twice, then a clean stop */
	for (i = 0; i < 3; i++) {
		if (i < 2)
			assert_int_equal(simctl_kill9(&sim), 0);
		else
			assert_int_equal(simctl_stop(&sim), 0);
		assert_int_equal(simctl_start(&sim, NULL), 0);
		snprintf(base, sizeof(base), "%s", sim.url);
		http_thread_done();
		snprintf(path, sizeof(path), "/room/%s/state", room);
		req(&h, "GET", path, NULL);
		expect_status(&h, 200);
		assert_int_equal(h.body.len, before_len);
		assert_memory_equal(h.body.ptr, before, before_len);
		http_release(&h);
	}
	free(before);
	snprintf(path, sizeof(path), "/room/%s/artifacts/kept", room);
	req(&h, "GET", path, NULL);
	expect_status(&h, 200);
	assert_memory_equal(h.body.ptr, "persisted bytes", 15);
	http_release(&h);
	assert_int_equal(revision(room), 5);
	join_ok(room, "E-p3");		/* revisions go on from there */
	assert_int_equal(revision(room), 6);
}

static void
test_auth(void **state)
{
	struct http	 h;
	static const char body[] = "{\"entityId\":\"E-auth\",\"kind\":\"agent\"}";
	char		*tokdir, *tokfile, room[64], path[256];
	const char	*args[3];
	cJSON		*o;

	if (external) {
		if (token[0] == '\0')
			skip();
		req_full(&h, "GET", "/room/room-authcheck/state", NULL, NULL, 0,
		    NULL, "");
		expect_error(&h, 401, "AUTH_REQUIRED");
		http_release(&h);
		return;
	}
	tokdir = tu_tmpdir();
	tu_write(tokdir, "token", "s3cret-token-value\n");
	tokfile = tu_path(tokdir, "token");
	args[0] = "--token-file";
	args[1] = tokfile;
	args[2] = NULL;
	restart(args);

	new_room(room, sizeof(room));
	snprintf(path, sizeof(path), "/room/%s/state", room);
	req_full(&h, "GET", path, NULL, NULL, 0, NULL, "");
	expect_error(&h, 401, "AUTH_REQUIRED");
	assert_non_null(strstr(h.www_auth, "Bearer"));
	http_release(&h);
	req_full(&h, "GET", path, NULL, NULL, 0, NULL, "s3cret-token-valuX");
	expect_error(&h, 401, "AUTH_REQUIRED");
	http_release(&h);
	req_full(&h, "GET", path, NULL, NULL, 0, NULL, "s3cret");
	expect_error(&h, 401, "AUTH_REQUIRED");
	http_release(&h);
	req_full(&h, "GET", path, NULL, NULL, 0, NULL, "s3cret-token-value");
	expect_status(&h, 200);
	http_release(&h);
	/* /health is open */
	req_full(&h, "GET", "/health", NULL, NULL, 0, NULL, "");
	expect_status(&h, 200);
	http_release(&h);
	/* everything else is not: metrics, faults, writes */
	req_full(&h, "GET", "/metrics", NULL, NULL, 0, NULL, "");
	expect_error(&h, 401, "AUTH_REQUIRED");
	http_release(&h);
	req_full(&h, "DELETE", "/_sim/faults", NULL, NULL, 0, NULL, "");
	expect_error(&h, 401, "AUTH_REQUIRED");
	http_release(&h);
	snprintf(path, sizeof(path), "/room/%s/join", room);
	req_full(&h, "POST", path, NULL, body, strlen(body), NULL, "");
	expect_error(&h, 401, "AUTH_REQUIRED");
	http_release(&h);
	req_full(&h, "POST", path, NULL, body, strlen(body), NULL,
	    "s3cret-token-value");
	expect_status(&h, 201);
	http_release(&h);
	snprintf(path, sizeof(path), "/room/%s/state", room);
	req_full(&h, "GET", path, NULL, NULL, 0, NULL, "s3cret-token-value");
	expect_status(&h, 200);
	o = json_of(&h);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(o,
	    "revision")->valuedouble, 1);
	cJSON_Delete(o);
	http_release(&h);

	/* and off again: no token needed */
	restart(NULL);
	req_full(&h, "GET", path, NULL, NULL, 0, NULL, "");
	expect_status(&h, 200);
	http_release(&h);
	tu_rmrf(tokdir);
	free(tokdir);
	free(tokfile);
}

/* POST a fault (JSON) and expect 201. */
static void
add_fault(const char *json)
{
	struct http	h;

	req(&h, "POST", "/_sim/faults", json);
	expect_status(&h, 201);
	http_release(&h);
}

static void
clear_faults(void)
{
	struct http	h;

	req(&h, "DELETE", "/_sim/faults", NULL);
	expect_status(&h, 204);
	http_release(&h);
}

static void
test_fault_delay(void **state)
{
	struct http	h;
	char		room[64], path[256];

	if (external)
		skip();
	new_room(room, sizeof(room));
	snprintf(path, sizeof(path), "/room/%s/state", room);
	add_fault("{\"kind\":\"delay\",\"ms\":300,\"route\":"
	    "\"/room/{roomId}/state\",\"method\":\"GET\"}");
	req(&h, "GET", path, NULL);
	expect_status(&h, 200);
	assert_true(h.secs >= 0.29);
	http_release(&h);
	req(&h, "GET", "/health", NULL);	/* other routes: no delay */
	expect_status(&h, 200);
	assert_true(h.secs < 0.29);
	http_release(&h);
	clear_faults();
	req(&h, "GET", path, NULL);
	expect_status(&h, 200);
	assert_true(h.secs < 0.29);
	http_release(&h);
}

static void
test_fault_status(void **state)
{
	struct http	 h;
	char		 room[64], path[256];
	int		 i, injected = 0;

	if (external)
		skip();
	new_room(room, sizeof(room));
	add_fault("{\"kind\":\"status\",\"status\":503,\"rate\":1,"
	    "\"route\":\"/room/{roomId}/join\",\"method\":\"POST\","
	    "\"retryAfter\":2}");
	snprintf(path, sizeof(path), "/room/%s/join", room);
	req(&h, "POST", path, "{\"entityId\":\"E-f1\",\"kind\":\"agent\"}");
	expect_error(&h, 503, "INJECTED_FAULT");
	assert_string_equal(h.retry_after, "2");
	http_release(&h);
	assert_int_equal(revision(room), 0);	/* not served, not changed */
	clear_faults();

	add_fault("{\"kind\":\"status\",\"status\":500,\"rate\":0,"
	    "\"route\":\"/health\"}");
	for (i = 0; i < 50; i++) {
		req(&h, "GET", "/health", NULL);
		expect_status(&h, 200);
		http_release(&h);
	}
	clear_faults();

	add_fault("{\"kind\":\"status\",\"status\":429,\"rate\":0.5,"
	    "\"route\":\"/health\"}");
	for (i = 0; i < 400; i++) {
		req(&h, "GET", "/health", NULL);
		if (h.status == 429)
			injected++;
		else
			expect_status(&h, 200);
		http_release(&h);
	}
	clear_faults();
	/* binomial(400, 0.5): 200 +- 10 sigma */
	assert_in_range(injected, 100, 300);
}

static void
test_fault_fail_next(void **state)
{
	struct http	 h;
	cJSON		*o;
	const cJSON	*f;
	int		 i;

	if (external)
		skip();
	add_fault("{\"kind\":\"fail_next\",\"count\":3,\"status\":502}");
	for (i = 0; i < 3; i++) {
		req(&h, "GET", "/health", NULL);
		expect_error(&h, 502, "INJECTED_FAULT");
		http_release(&h);
	}
	for (i = 0; i < 3; i++) {
		req(&h, "GET", "/health", NULL);
		expect_status(&h, 200);
		http_release(&h);
	}
	req(&h, "GET", "/_sim/faults", NULL);
	expect_status(&h, 200);
	o = json_of(&h);
	f = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "faults"),
	    0);
	assert_non_null(f);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(f,
	    "kind")->valuestring, "fail_next");
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(f,
	    "remaining")->valuedouble, 0);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(f,
	    "hits")->valuedouble, 3);
	cJSON_Delete(o);
	http_release(&h);
	clear_faults();
	req(&h, "GET", "/_sim/faults", NULL);
	o = json_of(&h);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o,
	    "faults")), 0);
	cJSON_Delete(o);
	http_release(&h);
}

static void
test_fault_drop(void **state)
{
	static const char body[] = "{\"entityId\":\"E-d1\",\"kind\":\"agent\"}";
	struct http	 h;
	char		 room[64], path[256];
	long		 dropped;

	if (external)
		skip();
	new_room(room, sizeof(room));
	dropped = metric("POST", "/room/{roomId}/join", "dropped");
	add_fault("{\"kind\":\"drop\",\"count\":1,\"route\":"
	    "\"/room/{roomId}/join\"}");
	snprintf(path, sizeof(path), "/room/%s/join", room);
	/*
	 * A fresh connection: on a reused keep-alive connection that closes
	 * without an answer, libcurl silently retries the request once.
	 */
	http_thread_done();
	assert_int_not_equal(req_full(&h, "POST", path, NULL, body,
	    strlen(body), NULL, NULL), CURLE_OK);
	assert_int_equal(h.cc, CURLE_GOT_NOTHING);
	http_release(&h);
	assert_int_equal(revision(room), 0);
	req(&h, "POST", path, body);
	expect_status(&h, 201);		/* count 1: the next one is served */
	http_release(&h);
	assert_int_equal(metric("POST", "/room/{roomId}/join", "dropped"),
	    dropped + 1);
	clear_faults();
}

static void
test_fault_api_errors(void **state)
{
	static const char *const bad[] = {
		"{\"kind\":\"explode\"}",
		"{\"kind\":\"delay\"}",
		"{\"kind\":\"delay\",\"ms\":-1}",
		"{\"kind\":\"status\"}",
		"{\"kind\":\"status\",\"status\":503,\"rate\":2}",
		"{\"kind\":\"drop\",\"route\":\"/nowhere\"}",
		"{\"kind\":\"drop\",\"method\":\"BREW\"}",
		"{\"kind\":\"drop\",\"typo\":1}",
		"[{\"kind\":\"drop\"},{\"kind\":\"nope\"}]",
		"{",
	};
	struct http	 h;
	cJSON		*o;
	size_t		 i;

	if (external)
		skip();
	for (i = 0; i < RO_NELEM(bad); i++) {
		req(&h, "POST", "/_sim/faults", bad[i]);
		expect_status(&h, 400);
		http_release(&h);
	}
	/* all or none: nothing was added */
	req(&h, "GET", "/_sim/faults", NULL);
	o = json_of(&h);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o,
	    "faults")), 0);
	cJSON_Delete(o);
	http_release(&h);
	/* one rule by id */
	add_fault("{\"faults\":[{\"kind\":\"delay\",\"ms\":1},"
	    "{\"kind\":\"delay\",\"ms\":2}]}");
	req(&h, "GET", "/_sim/faults", NULL);
	o = json_of(&h);
	i = (size_t)cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(
	    cJSON_GetObjectItemCaseSensitive(o, "faults"), 0), "id")->valuedouble;
	cJSON_Delete(o);
	http_release(&h);
	{
		char	path[64];

		snprintf(path, sizeof(path), "/_sim/faults/%zu", i);
		req(&h, "DELETE", path, NULL);
		expect_status(&h, 204);
		http_release(&h);
		req(&h, "DELETE", path, NULL);
		expect_error(&h, 404, "FAULT_NOT_FOUND");
		http_release(&h);
	}
	req(&h, "GET", "/_sim/faults", NULL);
	o = json_of(&h);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o,
	    "faults")), 1);
	cJSON_Delete(o);
	http_release(&h);
	clear_faults();
}

static void
test_fault_at_start(void **state)
{
	static const char *const args[] = {
		"--fault", "fail_next,count=2,status=502,route=/health",
		"--fault", "delay,ms=200,route=/room/{roomId}/state,method=GET",
		NULL
	};
	struct http	h;
	char		room[64], path[256];

	if (external)
		skip();
	restart(args);
	req(&h, "GET", "/health", NULL);
	expect_error(&h, 502, "INJECTED_FAULT");
	http_release(&h);
	req(&h, "GET", "/health", NULL);
	expect_status(&h, 502);
	http_release(&h);
	req(&h, "GET", "/health", NULL);
	expect_status(&h, 200);
	http_release(&h);
	new_room(room, sizeof(room));
	snprintf(path, sizeof(path), "/room/%s/state", room);
	req(&h, "GET", path, NULL);
	expect_status(&h, 200);
	assert_true(h.secs >= 0.19);
	http_release(&h);
	restart(NULL);
	req(&h, "GET", path, NULL);
	assert_true(h.secs < 0.19);
	http_release(&h);
}

static void
test_metrics(void **state)
{
	struct http	 h;
	char		 room[64], path[256];
	long		 j201, j409, s200;

	if (external)
		skip();
	new_room(room, sizeof(room));
	j201 = metric("POST", "/room/{roomId}/join", "201");
	j409 = metric("POST", "/room/{roomId}/join", "409");
	s200 = metric("GET", "/room/{roomId}/state", "200");
	join_ok(room, "E-m1");
	join_ok(room, "E-m2");
	snprintf(path, sizeof(path), "/room/%s/join", room);
	req(&h, "POST", path, "{\"entityId\":\"E-m1\",\"kind\":\"agent\"}");
	expect_status(&h, 409);
	http_release(&h);
	(void)revision(room);
	assert_int_equal(metric("POST", "/room/{roomId}/join", "201"),
	    j201 + 2);
	assert_int_equal(metric("POST", "/room/{roomId}/join", "409"),
	    j409 + 1);
	assert_int_equal(metric("GET", "/room/{roomId}/state", "200"),
	    s200 + 1);
	req(&h, "GET", "/metrics", NULL);
	assert_non_null(strstr(h.ctype, "text/plain"));
	assert_true(tu_contains(ro_buf_cstr(&h.body),
	    "# TYPE roomserver_requests_total counter"));
	http_release(&h);
}

static void
test_clean_shutdown(void **state)
{
	if (external)
		skip();
	/* SIGTERM: exit status 0, and a restart serves the same data */
	assert_int_equal(simctl_stop(&sim), 0);
	assert_int_equal(simctl_start(&sim, NULL), 0);
	snprintf(base, sizeof(base), "%s", sim.url);
	http_thread_done();
	test_health(state);
}

/* ---- setup ------------------------------------------------------------ */

static int
group_setup(void **state)
{
	const char	*url = getenv("RO_ROOMSERVER_URL");
	const char	*tok = getenv("RO_ROOMSERVER_TOKEN");

	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (url != NULL && url[0] != '\0') {
		external = true;
		snprintf(base, sizeof(base), "%s", url);
		if (base[strlen(base) - 1] == '/')
			base[strlen(base) - 1] = '\0';
		snprintf(token, sizeof(token), "%s", tok != NULL ? tok : "");
		return 0;
	}
	if (simctl_start(&sim, NULL) < 0)
		return -1;
	snprintf(base, sizeof(base), "%s", sim.url);
	return 0;
}

static int
group_teardown(void **state)
{
	http_thread_done();
	if (!external && sim.pid != 0 && simctl_stop(&sim) != 0) {
		fprintf(stderr, "roomserver-sim did not exit cleanly\n");
		simctl_cleanup(&sim);
		return -1;
	}
	simctl_cleanup(&sim);
	curl_global_cleanup();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_health),
		cmocka_unit_test(test_state_unknown_room),
		cmocka_unit_test(test_join),
		cmocka_unit_test(test_update_entity),
		cmocka_unit_test(test_kick),
		cmocka_unit_test(test_seed_hash_get),
		cmocka_unit_test(test_seed_errors),
		cmocka_unit_test(test_seed_16mib),
		cmocka_unit_test(test_promote),
		cmocka_unit_test(test_delete_artifact),
		cmocka_unit_test(test_policies),
		cmocka_unit_test(test_malformed_json),
		cmocka_unit_test(test_percent_encoded_ids),
		cmocka_unit_test(test_unknown_routes),
		cmocka_unit_test(test_body_limit),
		cmocka_unit_test(test_concurrent_writers),
		cmocka_unit_test_teardown(test_restart_persistence, sim_reset),
		cmocka_unit_test_teardown(test_auth, sim_reset),
		cmocka_unit_test_teardown(test_fault_delay, sim_reset),
		cmocka_unit_test_teardown(test_fault_status, sim_reset),
		cmocka_unit_test_teardown(test_fault_fail_next, sim_reset),
		cmocka_unit_test_teardown(test_fault_drop, sim_reset),
		cmocka_unit_test_teardown(test_fault_api_errors, sim_reset),
		cmocka_unit_test_teardown(test_fault_at_start, sim_reset),
		cmocka_unit_test_teardown(test_metrics, sim_reset),
		cmocka_unit_test_teardown(test_clean_shutdown, sim_reset),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
