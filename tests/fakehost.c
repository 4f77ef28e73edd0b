/* fakehost.c: the fake Git host of the notify tests (see fakehost.h). */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "roomops/buf.h"
#include "roomops/clock.h"
#include "fakehost.h"
#include "hook.h"

#define FH_BODY_MAX	(2u << 20)	/* bytes of a request body */

static size_t
fh_unescape_none(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

static char *
xstrdup(const char *s)
{
	char	*d = strdup(s != NULL ? s : "");

	if (d == NULL)
		abort();
	return d;
}

static bool
sha_ok(const char *s)
{
	return strlen(s) == 40 && strspn(s, "0123456789abcdef") == 40;
}

static bool
one_of(const char *s, const char *const *set)
{
	for (; *set != NULL; set++)
		if (strcmp(s, *set) == 0)
			return true;
	return false;
}

static const char *
jstr(const cJSON *o, const char *name)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Parse path into kind and sha; false when it is no API path. */
static bool
route(const char *path, enum fh_kind *kind, char *sha, size_t len)
{
	const char	*p, *s;
	int		 slashes = 0;

	if (strcmp(path, "/hook") == 0) {
		*kind = FH_WEBHOOK;
		sha[0] = '\0';
		return true;
	}
	if (strncmp(path, "/api/v4/projects/", 17) == 0) {
		*kind = FH_GITLAB;
		p = path + 17;
		/* one segment: a number or an encoded path */
		if ((s = strstr(p, "/statuses/")) == NULL || s == p ||
		    memchr(p, '/', (size_t)(s - p)) != NULL)
			return false;
	} else {
		if (strncmp(path, "/api/v1/repos/", 14) == 0) {
			*kind = FH_GITEA;
			p = path + 14;
		} else if (strncmp(path, "/repos/", 7) == 0) {
			*kind = FH_GITHUB;
			p = path + 7;
		} else
			return false;
		/* owner/repo: exactly one slash before /statuses/ */
		if ((s = strstr(p, "/statuses/")) == NULL)
			return false;
		for (const char *q = p; q < s; q++)
			if (*q == '/')
				slashes++;
		if (slashes != 1 || p[0] == '/' || s[-1] == '/')
			return false;
	}
	snprintf(sha, len, "%s", s + 10);
	return true;
}

struct conn {
	struct ro_buf	body;
};

static enum MHD_Result
reply(struct MHD_Connection *c, int status, const char *json,
    int retry_after)
{
	struct MHD_Response	*r;
	enum MHD_Result		 ret;
	char			 ra[32], *copy = xstrdup(json);

	r = MHD_create_response_from_buffer(strlen(copy), copy,
	    MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(copy);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "application/json");
	if (retry_after >= 0) {
		snprintf(ra, sizeof(ra), "%d", retry_after);
		MHD_add_response_header(r, "Retry-After", ra);
	}
	ret = MHD_queue_response(c, (unsigned)status, r);
	MHD_destroy_response(r);
	return ret;
}

/* The answer to one complete request; fills rec. */
static int
judge(struct fakehost *h, struct MHD_Connection *c, const char *method,
    const char *path, const struct ro_buf *body, struct fh_req *rec,
    const char **msg)
{
	static const char *const gh_states[] = { "pending", "success",
	    "failure", "error", NULL };
	static const char *const gl_states[] = { "pending", "running",
	    "success", "failed", "canceled", NULL };
	static const char *const gt_states[] = { "pending", "success",
	    "error", "failure", "warning", NULL };
	struct ro_hook_key	 key;
	const char		*v, *st;
	char			 sha[128], want[256];
	cJSON			*o;
	int			 status = 0;

	if (!route(path, &rec->kind, sha, sizeof(sha))) {
		rec->kind = FH_OTHER;
		*msg = "{\"message\":\"Not Found\"}";
		return 404;
	}
	rec->sha = xstrdup(sha);
	if (strcmp(method, "POST") != 0) {
		*msg = "{\"message\":\"Method Not Allowed\"}";
		return 405;
	}
	o = cJSON_ParseWithLength(body->ptr != NULL ? body->ptr : "",
	    body->len);
	if (cJSON_IsObject(o)) {
		rec->state = xstrdup(jstr(o, "state"));
		rec->description = xstrdup(jstr(o, "description"));
		rec->context = xstrdup(jstr(o, rec->kind == FH_GITLAB ?
		    "name" : "context"));
		rec->target_url = xstrdup(jstr(o, "target_url"));
	}
	switch (rec->kind) {
	case FH_GITHUB:
		snprintf(want, sizeof(want), "Bearer %s", h->token);
		v = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    "Authorization");
		if (v == NULL || strcmp(v, want) != 0) {
			*msg = "{\"message\":\"Bad credentials\"}";
			status = 401;
		}
		break;
	case FH_GITLAB:
		v = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    "PRIVATE-TOKEN");
		if (v == NULL || strcmp(v, h->token) != 0) {
			*msg = "{\"message\":\"401 Unauthorized\"}";
			status = 401;
		}
		break;
	case FH_GITEA:
		v = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    "Authorization");
		snprintf(want, sizeof(want), "token %s", h->token);
		if (v == NULL || strcmp(v, want) != 0) {
			snprintf(want, sizeof(want), "Bearer %s", h->token);
			if (v == NULL || strcmp(v, want) != 0) {
				*msg = "{\"message\":\"unauthorized\"}";
				status = 401;
			}
		}
		break;
	default:
		v = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    "X-Roomops-Signature-256");
		ro_hook_key_set(&key, h->secret, strlen(h->secret));
		if (v == NULL || strncmp(v, "sha256=", 7) != 0 ||
		    !ro_hook_hmac_eq(v + 7, body->ptr != NULL ? body->ptr : "",
		    body->len, &key)) {
			*msg = "{\"message\":\"bad signature\"}";
			status = 401;
		}
		break;
	}
	if (status == 0 && !cJSON_IsObject(o)) {
		*msg = "{\"message\":\"Problems parsing JSON\"}";
		status = 400;
	}
	if (status == 0 && rec->kind != FH_WEBHOOK && !sha_ok(sha)) {
		*msg = "{\"message\":\"No commit found for SHA\"}";
		status = 422;
	}
	st = rec->state != NULL ? rec->state : "";
	if (status == 0) {
		switch (rec->kind) {
		case FH_GITHUB:
			if (!one_of(st, gh_states) || (rec->description !=
			    NULL && strlen(rec->description) > 140)) {
				*msg = "{\"message\":\"Validation Failed\"}";
				status = 422;
			}
			break;
		case FH_GITLAB:
			if (!one_of(st, gl_states)) {
				*msg = "{\"error\":\"state does not have a "
				    "valid value\"}";
				status = 400;
			}
			break;
		case FH_GITEA:
			if (!one_of(st, gt_states)) {
				*msg = "{\"message\":\"invalid state\"}";
				status = 400;
			}
			break;
		default:
			if (!sha_ok(jstr(o, "sha") != NULL ? jstr(o, "sha") :
			    "") || !cJSON_IsArray(cJSON_GetObjectItem(o,
			    "records"))) {
				*msg = "{\"message\":\"bad payload\"}";
				status = 400;
			}
			free(rec->sha);
			rec->sha = xstrdup(jstr(o, "sha"));
			break;
		}
	}
	cJSON_Delete(o);
	if (status == 0) {
		*msg = "{\"id\":1}";
		status = rec->kind == FH_WEBHOOK ? 200 : 201;
	}
	return status;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct fakehost	*h = cls;
	struct conn	*cn = *con_cls;
	struct fh_req	 rec;
	const char	*msg = "{}";
	int		 status, ra = -1;

	(void)version;
	if (cn == NULL) {
		if ((cn = calloc(1, sizeof(*cn))) == NULL)
			return MHD_NO;
		ro_buf_init(&cn->body, FH_BODY_MAX);
		*con_cls = cn;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (ro_buf_add(&cn->body, upload, *upload_size) < 0)
			return MHD_NO;
		*upload_size = 0;
		return MHD_YES;
	}
	memset(&rec, 0, sizeof(rec));
	rec.path = xstrdup(url);
	rec.body = xstrdup(ro_buf_cstr(&cn->body));
	rec.at_ms = ro_now_ms();
	pthread_mutex_lock(&h->mu);
	if (h->fault_count != 0) {
		if (h->fault_count > 0)
			h->fault_count--;
		status = h->fault_status;
		ra = h->fault_retry_after;
		msg = "{\"message\":\"fault\"}";
		pthread_mutex_unlock(&h->mu);
		{
			char	sha[128] = "";

			if (!route(url, &rec.kind, sha, sizeof(sha)))
				rec.kind = FH_OTHER;
			rec.sha = xstrdup(sha);
		}
		if (rec.kind == FH_WEBHOOK) {
			cJSON *o = cJSON_Parse(rec.body);

			free(rec.sha);
			rec.sha = xstrdup(jstr(o, "sha"));
			cJSON_Delete(o);
		}
		rec.state = xstrdup(NULL);
	} else {
		pthread_mutex_unlock(&h->mu);
		status = judge(h, c, method, url, &cn->body, &rec, &msg);
	}
	rec.status = status;
	pthread_mutex_lock(&h->mu);
	if (h->n == h->cap) {
		h->cap = h->cap > 0 ? 2 * h->cap : 64;
		if ((h->req = realloc(h->req, h->cap * sizeof(*h->req))) ==
		    NULL)
			abort();
	}
	h->req[h->n++] = rec;
	pthread_mutex_unlock(&h->mu);
	return reply(c, status, msg, ra);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct conn	*cn = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (cn != NULL) {
		ro_buf_release(&cn->body);
		free(cn);
		*con_cls = NULL;
	}
}

static int
listen_on(struct fakehost *h, unsigned port)
{
	const union MHD_DaemonInfo	*info;
	struct sockaddr_in		 sa;
	struct MHD_Daemon		*d;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL,
	    (uint16_t)port, NULL, NULL, on_request, h,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
	    MHD_OPTION_UNESCAPE_CALLBACK, fh_unescape_none, NULL,
	    MHD_OPTION_CONNECTION_TIMEOUT, 10u,
	    MHD_OPTION_END);
	if (d == NULL)
		return -1;
	if (port == 0) {
		info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
		if (info == NULL) {
			MHD_stop_daemon(d);
			return -1;
		}
		port = info->port;
	}
	h->mhd = d;
	h->port = port;
	snprintf(h->url, sizeof(h->url), "http://127.0.0.1:%u", port);
	return 0;
}

int
fh_start(struct fakehost *h, const char *token, const char *secret)
{
	memset(h, 0, sizeof(*h));
	pthread_mutex_init(&h->mu, NULL);
	h->token = xstrdup(token);
	h->secret = xstrdup(secret);
	h->fault_retry_after = -1;
	return listen_on(h, 0);
}

void
fh_down(struct fakehost *h)
{
	if (h->mhd != NULL)
		MHD_stop_daemon(h->mhd);
	h->mhd = NULL;
}

int
fh_up(struct fakehost *h)
{
	int	i;

	/* the port may linger a moment after the stop */
	for (i = 0; i < 100; i++) {
		if (listen_on(h, h->port) == 0)
			return 0;
		nanosleep(&(struct timespec){ 0, 50000000L }, NULL);
	}
	return -1;
}

void
fh_fault(struct fakehost *h, int status, int count, int retry_after_s)
{
	pthread_mutex_lock(&h->mu);
	h->fault_status = status;
	h->fault_count = count;
	h->fault_retry_after = retry_after_s;
	pthread_mutex_unlock(&h->mu);
}

void
fh_req_release(struct fh_req *r)
{
	free(r->path);
	free(r->sha);
	free(r->state);
	free(r->description);
	free(r->context);
	free(r->target_url);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

void
fh_stop(struct fakehost *h)
{
	size_t	i;

	fh_down(h);
	for (i = 0; i < h->n; i++)
		fh_req_release(&h->req[i]);
	free(h->req);
	free(h->token);
	free(h->secret);
	pthread_mutex_destroy(&h->mu);
	memset(h, 0, sizeof(*h));
}

static bool
matches(const struct fh_req *r, enum fh_kind kind, const char *sha)
{
	return (kind == FH_OTHER || r->kind == kind) && (sha == NULL ||
	    (r->sha != NULL && strcmp(r->sha, sha) == 0));
}

size_t
fh_count(struct fakehost *h, enum fh_kind kind, const char *sha)
{
	size_t	i, n = 0;

	pthread_mutex_lock(&h->mu);
	for (i = 0; i < h->n; i++)
		if (matches(&h->req[i], kind, sha))
			n++;
	pthread_mutex_unlock(&h->mu);
	return n;
}

bool
fh_get(struct fakehost *h, enum fh_kind kind, const char *sha, size_t i,
    struct fh_req *out)
{
	size_t	k, n = 0;
	bool	found = false;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&h->mu);
	for (k = 0; k < h->n && !found; k++) {
		const struct fh_req *r = &h->req[k];

		if (!matches(r, kind, sha) || n++ != i)
			continue;
		out->kind = r->kind;
		out->path = xstrdup(r->path);
		out->sha = xstrdup(r->sha);
		out->state = xstrdup(r->state);
		out->description = xstrdup(r->description);
		out->context = xstrdup(r->context);
		out->target_url = xstrdup(r->target_url);
		out->body = xstrdup(r->body);
		out->status = r->status;
		out->at_ms = r->at_ms;
		found = true;
	}
	pthread_mutex_unlock(&h->mu);
	return found;
}
