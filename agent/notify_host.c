/* notify_host.c: commit status requests per Git host, remote URL parsing
 * and the summary of a commit's audit records. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "roomops/hex.h"
#include "notify_host.h"

#include "../common/banned.h"

static const char *const provider_names[RO_NOTIFY_PROVIDER_MAX] = {
	[RO_NOTIFY_GITHUB] = "github",
	[RO_NOTIFY_GITLAB] = "gitlab",
	[RO_NOTIFY_GITEA] = "gitea",
	[RO_NOTIFY_WEBHOOK] = "webhook",
};

int
ro_notify_host_provider(const char *name, size_t len)
{
	size_t	i;

	for (i = 0; i < RO_NOTIFY_PROVIDER_MAX; i++)
		if (strlen(provider_names[i]) == len &&
		    strncmp(provider_names[i], name, len) == 0)
			return (int)i;
	/* Forgejo speaks Gitea's API */
	if (len == 7 && strncmp(name, "forgejo", 7) == 0)
		return RO_NOTIFY_GITEA;
	return -1;
}

const char *
ro_notify_host_provider_name(enum ro_notify_provider p)
{
	return (unsigned)p < RO_NOTIFY_PROVIDER_MAX ? provider_names[p] : "?";
}

const char *
ro_notify_host_state_name(enum ro_notify_provider p, enum ro_notify_state s)
{
	switch (s) {
	case RO_NOTIFY_PENDING:
		return "pending";
	case RO_NOTIFY_SUCCESS:
		return "success";
	case RO_NOTIFY_FAILURE:
		return p == RO_NOTIFY_GITLAB ? "failed" : "failure";
	case RO_NOTIFY_ERROR:
		return p == RO_NOTIFY_GITLAB ? "failed" : "error";
	}
	return "error";
}

void
ro_notify_req_release(struct ro_notify_req *r)
{
	free(r->url);
	r->url = NULL;
	ro_strv_release(&r->headers);
	ro_buf_release(&r->body);
}

static bool
sha_ok(const char *sha)
{
	size_t	n = strspn(sha, "0123456789abcdef");

	return sha[n] == '\0' && (n == 40 || n == RO_NOTIFY_SHA_MAX);
}

static int
add_field(struct ro_buf *b, const char *name, const char *v, bool comma)
{
	int	error;

	if ((comma && (error = ro_buf_addch(b, ',')) < 0) ||
	    (error = ro_buf_add_json_str(b, name)) < 0 ||
	    (error = ro_buf_addch(b, ':')) < 0)
		return error;
	return ro_buf_add_json_str(b, v);
}

static int
hmac_header(const struct ro_notify_target *t, const struct ro_buf *body,
    struct ro_strv *headers)
{
	unsigned char	mac[EVP_MAX_MD_SIZE];
	unsigned int	len = 0;
	char		hex[2 * EVP_MAX_MD_SIZE + 1];

	if (HMAC(EVP_sha256(), t->token != NULL ? t->token : "",
	    (int)t->token_len, (const unsigned char *)body->ptr, body->len,
	    mac, &len) == NULL)
		return RO_ENOMEM;
	ro_hex_encode(hex, mac, len);
	return ro_strv_pushf(headers, "X-Roomops-Signature-256: sha256=%s",
	    hex);
}

int
ro_notify_host_request(const struct ro_notify_target *t,
    const struct ro_notify_status *s, struct ro_notify_req *out,
    struct ro_err *err)
{
	struct ro_buf	*b = &out->body;
	const char	*state = ro_notify_host_state_name(t->provider,
			    s->state);
	bool		 gitlab = t->provider == RO_NOTIFY_GITLAB;
	int		 error = RO_OK, n = -1;

	memset(out, 0, sizeof(*out));
	ro_buf_init(b, RO_NOTIFY_BODY_MAX);
	if (!sha_ok(s->sha))
		return ro_err_set(err, RO_EINVALID, "not a commit id: %.80s",
		    s->sha);
	if (t->provider != RO_NOTIFY_WEBHOOK &&
	    (t->repo == NULL || t->repo[0] == '\0'))
		return ro_err_set(err, RO_EINVALID, "%s: no repository",
		    ro_notify_host_provider_name(t->provider));
	switch (t->provider) {
	case RO_NOTIFY_GITHUB:
		n = asprintf(&out->url, "%s/repos/%s/statuses/%s", t->base,
		    t->repo, s->sha);
		break;
	case RO_NOTIFY_GITLAB:
		n = asprintf(&out->url, "%s/api/v4/projects/%s/statuses/%s",
		    t->base, t->repo, s->sha);
		break;
	case RO_NOTIFY_GITEA:
		n = asprintf(&out->url, "%s/api/v1/repos/%s/statuses/%s",
		    t->base, t->repo, s->sha);
		break;
	case RO_NOTIFY_WEBHOOK:
		if ((out->url = strdup(t->base)) != NULL)
			n = 0;
		break;
	default:
		return ro_err_set(err, RO_EINVALID, "unknown provider");
	}
	if (n < 0) {
		out->url = NULL;
		goto oom;
	}
	if ((error = ro_buf_addch(b, '{')) < 0)
		goto fail;
	if (t->provider == RO_NOTIFY_WEBHOOK &&
	    (error = add_field(b, "sha", s->sha, false)) < 0)
		goto fail;
	if ((error = add_field(b, "state", state,
	    t->provider == RO_NOTIFY_WEBHOOK)) < 0 ||
	    (error = add_field(b, "description", s->description != NULL ?
	    s->description : "", true)) < 0 ||
	    (error = add_field(b, gitlab ? "name" : "context", s->context,
	    true)) < 0)
		goto fail;
	if (s->target_url != NULL && s->target_url[0] != '\0' &&
	    (error = add_field(b, "target_url", s->target_url, true)) < 0)
		goto fail;
	if (t->provider == RO_NOTIFY_WEBHOOK &&
	    (error = ro_buf_printf(b, ",\"records\":%s", s->records != NULL ?
	    s->records : "[]")) < 0)
		goto fail;
	if ((error = ro_buf_addch(b, '}')) < 0)
		goto fail;

	if ((error = ro_strv_push(&out->headers,
	    "Content-Type: application/json")) < 0 ||
	    (error = ro_strv_push(&out->headers, "Accept: application/json")) <
	    0 || (error = ro_strv_pushf(&out->headers, "User-Agent: roomops/%s",
	    RO_VERSION)) < 0)
		goto fail;
	switch (t->provider) {
	case RO_NOTIFY_GITHUB:
		error = ro_strv_pushf(&out->headers, "Authorization: Bearer %s",
		    t->token);
		if (error == RO_OK)
			error = ro_strv_push(&out->headers,
			    "X-GitHub-Api-Version: 2022-11-28");
		break;
	case RO_NOTIFY_GITLAB:
		error = ro_strv_pushf(&out->headers, "PRIVATE-TOKEN: %s",
		    t->token);
		break;
	case RO_NOTIFY_GITEA:
		error = ro_strv_pushf(&out->headers, "Authorization: token %s",
		    t->token);
		break;
	default:
		if ((error = ro_strv_push(&out->headers,
		    "X-Roomops-Event: status")) == RO_OK)
			error = hmac_header(t, b, &out->headers);
		break;
	}
	if (error < 0)
		goto fail;
	return RO_OK;
fail:
	if (error == RO_ETOOBIG) {
		ro_notify_req_release(out);
		return ro_err_set(err, RO_ETOOBIG, "status body over %u bytes",
		    RO_NOTIFY_BODY_MAX);
	}
oom:
	ro_notify_req_release(out);
	return ro_err_set(err, RO_ENOMEM, "out of memory");
}

/* --- repositories --------------------------------------------------- */

static int
encode_path(struct ro_buf *out, const char *p, size_t n)
{
	size_t	i;
	int	error = RO_OK;

	for (i = 0; i < n && error == RO_OK; i++) {
		unsigned char c = (unsigned char)p[i];

		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
			error = ro_buf_addch(out, (char)c);
		else
			error = ro_buf_printf(out, "%%%02X", c);
	}
	return error;
}

/* path "a/b/c" (no leading '/', no ".git"): into repo for p. */
static int
repo_from_path(enum ro_notify_provider p, const char *path, size_t n,
    struct ro_buf *repo, struct ro_err *err)
{
	const char	*s, *cut = NULL;
	size_t		 slashes = 0, i;

	while (n > 0 && path[n - 1] == '/')
		n--;
	if (n > 4 && strncmp(path + n - 4, ".git", 4) == 0)
		n -= 4;
	while (n > 0 && path[0] == '/') {
		path++;
		n--;
	}
	for (i = 0; i < n; i++)
		if (path[i] == '/')
			slashes++;
	if (p == RO_NOTIFY_GITLAB) {
		if (n == 0)
			goto bad;
		if (strspn(path, "0123456789") == n)
			return ro_buf_add(repo, path, n) < 0 ? ro_err_set(err,
			    RO_ENOMEM, "out of memory") : RO_OK;
		if (slashes == 0)
			goto bad;
		return encode_path(repo, path, n) < 0 ? ro_err_set(err,
		    RO_ENOMEM, "out of memory") : RO_OK;
	}
	if (slashes == 0)
		goto bad;
	/* the last two segments: owner/name */
	for (s = path + n - 1; s > path; s--)
		if (*s == '/') {
			if (cut != NULL)
				break;
			cut = s;
		}
	if (*s == '/')
		s++;
	if (cut == NULL || cut == s || cut + 1 == path + n)
		goto bad;
	return ro_buf_add(repo, s, (size_t)(path + n - s)) < 0 ?
	    ro_err_set(err, RO_ENOMEM, "out of memory") : RO_OK;
bad:
	return ro_err_set(err, RO_EINVALID, "cannot tell the repository from "
	    "\"%.*s\" (use --notify-repo OWNER/NAME)", (int)(n > 200 ? 200 :
	    n), path);
}

int
ro_notify_host_repo_arg(enum ro_notify_provider p, const char *arg,
    struct ro_buf *repo, struct ro_err *err)
{
	return repo_from_path(p, arg, strlen(arg), repo, err);
}

int
ro_notify_host_repo(enum ro_notify_provider p, const char *remote,
    struct ro_buf *host, struct ro_buf *repo, struct ro_err *err)
{
	const char	*s, *h, *he, *path, *colon, *slash;

	if ((s = strstr(remote, "://")) != NULL) {
		h = s + 3;
		slash = strchr(h, '/');
		if (slash == NULL || strncmp(remote, "file:", 5) == 0)
			goto local;
		/* user@ before the host */
		for (s = h; s < slash; s++)
			if (*s == '@')
				h = s + 1;
		he = h;
		if (*he == '[')
			he = strchr(he, ']') != NULL ? strchr(he, ']') + 1 :
			    slash;
		while (he < slash && *he != ':')
			he++;
		path = slash + 1;
	} else if ((colon = strchr(remote, ':')) != NULL &&
	    ((slash = strchr(remote, '/')) == NULL || colon < slash)) {
		/* scp-like: [user@]host:path */
		h = remote;
		if ((s = memchr(remote, '@', (size_t)(colon - remote))) != NULL)
			h = s + 1;
		he = colon;
		path = colon + 1;
	} else
		goto local;
	if (he == h)
		goto local;
	if (host != NULL && ro_buf_add(host, h, (size_t)(he - h)) < 0)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	return repo_from_path(p, path, strlen(path), repo, err);
local:
	return ro_err_set(err, RO_EINVALID, "%.200s: not a remote URL: give "
	    "--notify-repo and --notify-url", remote);
}

int
ro_notify_host_default_base(enum ro_notify_provider p, const char *host,
    struct ro_buf *out)
{
	if (p == RO_NOTIFY_GITHUB && strcmp(host, "github.com") == 0)
		return ro_buf_addstr(out, "https://api.github.com");
	if (p == RO_NOTIFY_GITHUB)
		return ro_buf_printf(out, "https://%s/api/v3", host);
	return ro_buf_printf(out, "https://%s", host);
}

/* --- the summary ---------------------------------------------------- */

void
ro_notify_host_cut(char *s, size_t max)
{
	size_t	n = strlen(s);

	if (n <= max)
		return;
	n = max;
	/* back off continuation bytes (10xxxxxx) and the lead byte */
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	s[n] = '\0';
}

/* An error without its "file:line:col: " prefix: the room names the
 * file, and the description has 140 bytes. */
static const char *
no_location(const char *e)
{
	const char	*p = e;
	int		 k;

	for (k = 0; k < 2; k++) {
		if ((p = strchr(p, ':')) == NULL)
			return e;
		p++;
		if (strspn(p, "0123456789") == 0)
			return e;
		p += strspn(p, "0123456789");
		if (k == 0 && *p != ':')
			return e;
	}
	return p[0] == ':' && p[1] == ' ' ? p + 2 : e;
}

/* Outcomes in the order of a description. */
static const char *const outcomes[] = {
	"applied", "converged", "superseded", "rejected", "failed",
	"blocked", "partial", "rolled-back"
};
#define GOOD_OUTCOMES	3	/* the first three */

static const char *
str_item(const cJSON *o, const char *name)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int
ro_notify_host_summary(const char *const *lines, size_t n, const char *sha,
    const char *shard, enum ro_notify_state *state,
    char desc[RO_NOTIFY_DESC_MAX + 1], struct ro_buf *first_room,
    struct ro_buf *records)
{
	cJSON		*last = NULL, *o, *cur, *errs;
	struct ro_buf	 d = RO_BUF_INIT;
	const char	*room, *oc, *bad_room = NULL, *bad_err = NULL,
			*any_room = NULL, *s;
	size_t		 count[RO_NELEM(outcomes)] = { 0 }, i, k;
	bool		 failed = false;
	char		*txt;
	int		 error = RO_ENOMEM;

	*state = RO_NOTIFY_SUCCESS;
	desc[0] = '\0';
	/* the last record of each room, in first-seen order */
	if ((last = cJSON_CreateObject()) == NULL)
		goto done;
	for (i = 0; i < n; i++) {
		if ((o = cJSON_Parse(lines[i])) == NULL)
			continue;
		room = str_item(o, "room");
		s = str_item(o, "rev");
		if (room == NULL || str_item(o, "outcome") == NULL ||
		    (sha != NULL && (s == NULL || strcmp(s, sha) != 0)) ||
		    (shard != NULL && ((s = str_item(o, "shard")) == NULL ||
		    strcmp(s, shard) != 0))) {
			cJSON_Delete(o);
			continue;
		}
		if (cJSON_GetObjectItemCaseSensitive(last, room) != NULL) {
			if (!cJSON_ReplaceItemInObjectCaseSensitive(last, room,
			    o)) {
				cJSON_Delete(o);
				goto done;
			}
		} else if (!cJSON_AddItemToObject(last, room, o)) {
			cJSON_Delete(o);
			goto done;
		}
	}
	cJSON_ArrayForEach(cur, last) {
		room = cur->string;
		oc = str_item(cur, "outcome");
		if (any_room == NULL)
			any_room = room;
		for (k = 0; k < RO_NELEM(outcomes); k++)
			if (strcmp(oc, outcomes[k]) == 0)
				break;
		if (k == RO_NELEM(outcomes))
			continue;	/* history-rewritten, ... */
		count[k]++;
		if (k < GOOD_OUTCOMES)
			continue;
		failed = true;
		if (bad_room == NULL) {
			bad_room = room;
			errs = cJSON_GetObjectItemCaseSensitive(cur, "errors");
			if (!cJSON_IsArray(errs) || cJSON_GetArraySize(errs) ==
			    0)
				errs = cJSON_GetObjectItemCaseSensitive(cur,
				    "blocked");
			if (cJSON_IsArray(errs) && cJSON_IsString(
			    cJSON_GetArrayItem(errs, 0)))
				bad_err = cJSON_GetArrayItem(errs,
				    0)->valuestring;
		}
	}
	for (k = 0; k < RO_NELEM(outcomes); k++)
		if (count[k] > 0 && ro_buf_printf(&d, "%s%zu %s", d.len > 0 ?
		    ", " : "", count[k], outcomes[k]) < 0)
			goto done;
	if (d.len == 0 && ro_buf_addstr(&d, "no rooms changed") < 0)
		goto done;
	if (bad_room != NULL && ro_buf_printf(&d, ": %s%s%s", bad_room,
	    bad_err != NULL ? ": " : "", bad_err != NULL ?
	    no_location(bad_err) : "") < 0)
		goto done;
	snprintf(desc, RO_NOTIFY_DESC_MAX + 1, "%s", ro_buf_cstr(&d));
	ro_notify_host_cut(desc, RO_NOTIFY_DESC_MAX);
	*state = failed ? RO_NOTIFY_FAILURE : RO_NOTIFY_SUCCESS;
	if (first_room != NULL && (bad_room != NULL || any_room != NULL) &&
	    ro_buf_addstr(first_room, bad_room != NULL ? bad_room :
	    any_room) < 0)
		goto done;
	if (records != NULL) {
		if (ro_buf_addch(records, '[') < 0)
			goto done;
		i = 0;
		cJSON_ArrayForEach(cur, last) {
			if ((txt = cJSON_PrintUnformatted(cur)) == NULL)
				goto done;
			error = ro_buf_printf(records, "%s%s", i++ > 0 ? "," :
			    "", txt);
			cJSON_free(txt);
			if (error < 0)
				goto done;
		}
		if (ro_buf_addch(records, ']') < 0)
			goto done;
	}
	error = RO_OK;
done:
	ro_buf_release(&d);
	cJSON_Delete(last);
	return error;
}
