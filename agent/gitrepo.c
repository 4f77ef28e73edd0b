/*
 * gitrepo.c: the persistent bare clone and its network operations
 * (ls-remote, fetch, push) with deadlines and bounded retries. The
 * libgit2 callbacks (credentials, certificates, host keys, progress) are
 * in gitcred.c; the compare-and-swap push to a local origin in gitpush.c;
 * opening, cloning and replacing the clone's folder in gitclone.c.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>

#include "roomops/buf.h"
#include "roomops/clock.h"
#include "roomops/file.h"
#include "roomops/log.h"

#include "gitrepo.h"
#include "gitrepo_impl.h"
#include "gitclone.h"
#include "gitpush.h"
#include "gitstream.h"
#include "knownhosts.h"

#include "../common/banned.h"

#define SYSTEM_CA_FILE	"/etc/ssl/certs/ca-certificates.crt"
#define SYSTEM_CA_DIR	"/etc/ssl/certs"
#define BACKOFF_MAX_MS	30000u

/* ---- global init --------------------------------------------------- */

static pthread_once_t	init_once = PTHREAD_ONCE_INIT;
static struct ro_err	init_err = RO_ERR_INIT;
static pthread_mutex_t	ca_lock = PTHREAD_MUTEX_INITIALIZER;
static char		ca_current[PATH_MAX];	/* "" = system default */

static void
do_global_init(void)
{
	const git_error	*e;
	int		 rc;

	if ((rc = git_libgit2_init()) < 0) {
		e = git_error_last();
		ro_err_set(&init_err, RO_ERROR, "libgit2 init: %s",
		    e != NULL ? e->message : "unknown error");
		return;
	}
	(void)ro_gitstream_register(&init_err);
}

int
ro_gitrepo_global_init(struct ro_err *err)
{
	pthread_once(&init_once, do_global_init);
	if (init_err.code < 0)
		return ro_err_set(err, init_err.code, "%s", init_err.msg);
	return RO_OK;
}

/* Make libgit2's process-wide CA setting the one r wants. */
int
ro_gitrepo_ca_apply(struct ro_gitrepo *r, struct ro_err *err)
{
	const char	*want = r->ca_file != NULL ? r->ca_file : "";
	const git_error	*e;
	struct stat	 sb;
	int		 rc = 0, error = RO_OK;

	pthread_mutex_lock(&ca_lock);
	if (strcmp(ca_current, want) == 0)
		goto done;
	if (want[0] != '\0')
		rc = git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, want,
		    NULL);
	else if (stat(SYSTEM_CA_FILE, &sb) == 0)
		rc = git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS,
		    SYSTEM_CA_FILE, NULL);
	else
		rc = git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, NULL,
		    SYSTEM_CA_DIR);
	if (rc < 0) {
		e = git_error_last();
		error = ro_err_set(err, RO_EINVALID, "CA file %s: %s",
		    want[0] != '\0' ? want : SYSTEM_CA_FILE,
		    e != NULL ? e->message : "cannot load");
		goto done;
	}
	snprintf(ca_current, sizeof(ca_current), "%s", want);
done:
	pthread_mutex_unlock(&ca_lock);
	return error;
}

/* ---- URLs ----------------------------------------------------------- */

void
ro_gitrepo_redact_url(char *out, size_t outsz, const char *url)
{
	const char	*s, *auth, *at, *slash;

	if (outsz == 0)
		return;
	if (url == NULL) {
		snprintf(out, outsz, "(none)");
		return;
	}
	if ((s = strstr(url, "://")) == NULL) {
		snprintf(out, outsz, "%s", url);
		return;
	}
	auth = s + 3;
	slash = strchr(auth, '/');
	at = memchr(auth, '@', slash != NULL ? (size_t)(slash - auth) :
	    strlen(auth));
	/* The last '@' of the authority ends the user info. */
	while (at != NULL) {
		const char *next = memchr(at + 1, '@', slash != NULL ?
		    (size_t)(slash - at - 1) : strlen(at + 1));
		if (next == NULL)
			break;
		at = next;
	}
	/* A bare ssh user name is no secret; anything else may be one. */
	if (at == NULL || (strncmp(url, "ssh://", 6) == 0 &&
	    memchr(auth, ':', (size_t)(at - auth)) == NULL)) {
		snprintf(out, outsz, "%s", url);
		return;
	}
	snprintf(out, outsz, "%.*s***%s", (int)(auth - url), url, at);
}

bool
ro_gitrepo_url_is_ssh(const char *url)
{
	const char	*colon, *slash;

	if (strncmp(url, "ssh://", 6) == 0 || strncmp(url, "git+ssh://", 10) ==
	    0 || strncmp(url, "ssh+git://", 10) == 0)
		return true;
	if (strstr(url, "://") != NULL || url[0] == '/' || url[0] == '.')
		return false;
	/* scp-like: [user@]host:path, with no '/' before the ':' */
	colon = strchr(url, ':');
	slash = strchr(url, '/');
	return colon != NULL && colon != url && (slash == NULL || colon < slash);
}

int
ro_gitrepo_ssh_hostport(const char *url, char *host, size_t hostsz,
    int *port, struct ro_err *err)
{
	const char	*p, *end, *at, *hs, *he, *colon;
	char		*ep;
	long		 v;
	size_t		 n;

	if (!ro_gitrepo_url_is_ssh(url))
		return ro_err_set(err, RO_EINVALID, "not an ssh URL");
	*port = 22;
	if ((p = strstr(url, "://")) != NULL) {
		p += 3;
		end = p + strcspn(p, "/");
	} else {
		p = url;
		end = strchr(url, ':');
	}
	at = NULL;
	for (const char *q = p; q < end; q++)
		if (*q == '@')
			at = q;
	hs = at != NULL ? at + 1 : p;
	if (hs < end && *hs == '[') {
		he = memchr(hs, ']', (size_t)(end - hs));
		if (he == NULL)
			return ro_err_set(err, RO_EINVALID, "bad ssh host");
		colon = he + 1 < end && he[1] == ':' ? he + 1 : NULL;
		hs++;
	} else {
		colon = strstr(url, "://") != NULL ?
		    memchr(hs, ':', (size_t)(end - hs)) : NULL;
		he = colon != NULL ? colon : end;
	}
	if (colon != NULL && colon + 1 < end) {
		errno = 0;
		v = strtol(colon + 1, &ep, 10);
		if (errno != 0 || ep != end || v < 1 || v > 65535)
			return ro_err_set(err, RO_EINVALID, "bad ssh port");
		*port = (int)v;
	}
	n = (size_t)(he - hs);
	if (n == 0 || n >= hostsz)
		return ro_err_set(err, RO_EINVALID, "bad ssh host");
	memcpy(host, hs, n);
	host[n] = '\0';
	return RO_OK;
}

/* ---- small helpers ---------------------------------------------------- */

static char *
dup_or_null(const char *s, int *error)
{
	char	*p;

	if (s == NULL)
		return NULL;
	if ((p = strdup(s)) == NULL)
		*error = RO_ENOMEM;
	return p;
}

/* Replace every occurrence of needle in msg by "***" (in place). */
static void
scrub(char *msg, const char *needle)
{
	char	*p;
	size_t	 n = strlen(needle);

	if (n < 3)	/* shorter ones would mangle ordinary words */
		return;
	while ((p = strstr(msg, needle)) != NULL) {
		memcpy(p, "***", 3);
		memmove(p + 3, p + n, strlen(p + n) + 1);
	}
}

/* Set err from the last libgit2 error, naming what and the URL. */
int
ro_gitrepo_fail(struct ro_gitrepo *r, struct ro_err *err, int code,
    const char *what)
{
	const git_error	*e = git_error_last();

	ro_err_set(err, code, "%s %s: %s", what,
	    r != NULL ? r->url_redacted : "", e != NULL && e->message != NULL ?
	    e->message : "unknown error");
	if (err != NULL && r != NULL) {
		if (r->secret[0] != '\0')
			scrub(err->msg, r->secret);
		if (r->userinfo != NULL)
			scrub(err->msg, r->userinfo);
	}
	return code;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec	ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* ---- operations with bounded retries --------------------------------- */

enum op_kind { OP_LS, OP_FETCH, OP_PUSH };

struct op {
	enum op_kind		 kind;
	const char		*what;		/* "fetch", ... */
	const char		*specs[2];
	size_t			 nspecs;
	const git_remote_head	**heads;	/* OP_LS result (copied) */
	struct ro_gitrepo_remote *ls_out;
};

/* Classify a failed attempt: the status, and whether to try again. */
static int
op_classify(struct ro_gitrepo *r, int gerr, const char *what,
    uint64_t deadline, bool *retry, struct ro_err *err)
{
	const git_error	*e = git_error_last();

	*retry = false;
	if (r->cb.refused) {
		ro_err_set(err, r->cb.err.code, "%s %s: %s", what,
		    r->url_redacted, r->cb.err.msg);
		return r->cb.err.code;
	}
	if (r->cb.timed_out || (uint64_t)ro_now_ms() >= deadline) {
		ro_err_set(err, RO_ETIMEOUT, "%s %s: timed out after %u ms",
		    what, r->url_redacted, r->opts.op_timeout_ms);
		return RO_ETIMEOUT;
	}
	if (gerr == GIT_EAUTH || gerr == GIT_ECERTIFICATE)
		return ro_gitrepo_fail(r, err, RO_ERROR, what);
	if (gerr == GIT_ENONFASTFORWARD)
		return ro_gitrepo_fail(r, err, RO_ECONFLICT, what);
	if (ro_gitstream_timed_out()) {
		*retry = true;
		return ro_gitrepo_fail(r, err, RO_ETIMEOUT, what);
	}
	if (e != NULL && (e->klass == GIT_ERROR_NET ||
	    e->klass == GIT_ERROR_SSH || e->klass == GIT_ERROR_HTTP ||
	    e->klass == GIT_ERROR_OS || e->klass == GIT_ERROR_SSL)) {
		*retry = true;
		return ro_gitrepo_fail(r, err, RO_EIO, what);
	}
	return ro_gitrepo_fail(r, err, RO_ERROR, what);
}

static int
op_ls(struct ro_gitrepo *r, git_remote *remote, git_remote_callbacks *cbs,
    struct ro_gitrepo_remote *out)
{
	const git_remote_head	**refs;
	size_t			  n, i;
	int			  rc;

	if ((rc = git_remote_connect(remote, GIT_DIRECTION_FETCH, cbs, NULL,
	    NULL)) < 0)
		return rc;
	if ((rc = git_remote_ls(&refs, &n, remote)) < 0)
		goto done;
	out->head_present = false;
	out->notes_present = false;
	for (i = 0; i < n; i++) {
		if (strcmp(refs[i]->name, RO_GITREPO_NOTES_REF) == 0) {
			out->notes_present = true;
			git_oid_cpy(&out->notes, &refs[i]->oid);
		} else if (strncmp(refs[i]->name, "refs/heads/", 11) == 0 &&
		    strcmp(refs[i]->name + 11, r->branch) == 0) {
			out->head_present = true;
			git_oid_cpy(&out->head, &refs[i]->oid);
		}
	}
done:
	git_remote_disconnect(remote);
	return rc;
}

static int
op_once(struct ro_gitrepo *r, struct op *op)
{
	git_remote		*remote = r->remote;
	git_remote_callbacks	 cbs;
	git_fetch_options	 fo;
	git_push_options	 po;
	git_strarray		 specs;
	const git_indexer_progress *st;
	int			 rc = GIT_ERROR;

	ro_gitcred_callbacks(r, &cbs);
	specs.strings = (char **)(uintptr_t)op->specs;
	specs.count = op->nspecs;
	switch (op->kind) {
	case OP_LS:
		rc = op_ls(r, remote, &cbs, op->ls_out);
		break;
	case OP_FETCH:
		git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
		fo.callbacks = cbs;
		fo.prune = GIT_FETCH_NO_PRUNE;
		fo.update_fetchhead = 0;
		fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
		rc = git_remote_fetch(remote, &specs, &fo, "roomops: fetch");
		if ((st = git_remote_stats(remote)) != NULL) {
			r->cb.received_bytes = st->received_bytes;
			r->cb.received_objects = st->received_objects;
		}
		break;
	case OP_PUSH:
		git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
		po.callbacks = cbs;
		rc = git_remote_push(remote, &specs, &po);
		break;
	}
	if (git_remote_connected(remote))
		git_remote_disconnect(remote);
	return rc;
}

/* Run op with the deadline and the bounded retries of r->opts. */
static int
op_run(struct ro_gitrepo *r, struct op *op, struct ro_err *err)
{
	uint64_t	deadline = (uint64_t)ro_now_ms() + r->opts.op_timeout_ms;
	unsigned	attempt, backoff = r->opts.retry_backoff_ms;
	bool		retry;
	int		rc, error;

	if ((error = ro_gitrepo_ca_apply(r, err)) < 0)
		return error;
	for (attempt = 0;; attempt++) {
		memset(&r->cb, 0, sizeof(r->cb));
		r->cb.r = r;
		git_error_clear();
		ro_gitstream_clear_timeout();
		ro_gitstream_set_deadline(deadline);
		rc = op_once(r, op);
		ro_gitstream_set_deadline(0);
		if (rc >= 0 && (op->kind != OP_PUSH ||
		    r->cb.push_status[0] == '\0'))
			return RO_OK;
		if (rc >= 0)	/* the server refused the ref update */
			return ro_err_set(err, RO_ECONFLICT, "%s %s: rejected %s",
			    op->what, r->url_redacted, r->cb.push_status);
		error = op_classify(r, rc, op->what, deadline, &retry, err);
		if (!retry || attempt >= r->opts.retries ||
		    (uint64_t)ro_now_ms() + backoff >= deadline)
			return error;
		log_debug("%s; retrying in %u ms", err != NULL ? err->msg :
		    op->what, backoff);
		r->stats.retries++;
		sleep_ms(backoff);
		backoff = backoff > BACKOFF_MAX_MS / 2 ? BACKOFF_MAX_MS :
		    backoff * 2;
	}
}

/* ---- refs ------------------------------------------------------------ */

/* Resolve refname to an oid; *present false when it does not exist. */
static int
ref_get(struct ro_gitrepo *r, const char *refname, bool *present,
    git_oid *out, struct ro_err *err)
{
	int	rc;

	*present = false;
	rc = git_reference_name_to_id(out, r->repo, refname);
	if (rc == GIT_ENOTFOUND)
		return RO_OK;
	if (rc < 0)
		return ro_gitrepo_fail(r, err, RO_ERROR, refname);
	*present = true;
	return RO_OK;
}

int
ro_gitrepo_head(struct ro_gitrepo *r, git_oid *out, struct ro_err *err)
{
	bool	present;
	int	error;

	if ((error = ref_get(r, r->track_ref, &present, out, err)) < 0)
		return error;
	if (!present)
		return ro_err_set(err, RO_ENOTFOUND, "%s: no %s fetched yet",
		    r->url_redacted, r->track_ref);
	return RO_OK;
}

int
ro_gitrepo_remote_head(struct ro_gitrepo *r, struct ro_gitrepo_remote *out,
    struct ro_err *err)
{
	struct op	op;
	git_oid		tracked;
	bool		tracked_present;
	int		error;

	memset(out, 0, sizeof(*out));
	memset(&op, 0, sizeof(op));
	op.kind = OP_LS;
	op.what = "ls-remote";
	op.ls_out = out;
	if ((error = op_run(r, &op, err)) < 0)
		return error;
	r->stats.remote_checks++;
	if ((error = ref_get(r, r->track_ref, &out->local_present,
	    &out->local, err)) < 0 ||
	    (error = ref_get(r, RO_GITREPO_NOTES_TRACKING, &tracked_present,
	    &tracked, err)) < 0)
		return error;
	out->moved = out->head_present && (!out->local_present ||
	    !git_oid_equal(&out->head, &out->local));
	out->notes_moved = out->notes_present && (!tracked_present ||
	    !git_oid_equal(&out->notes, &tracked));
	return RO_OK;
}

int
ro_gitrepo_fetch(struct ro_gitrepo *r, unsigned flags,
    struct ro_gitrepo_fetch_result *res, struct ro_err *err)
{
	struct ro_gitrepo_fetch_result	 local;
	struct op			 op;
	git_oid				 nb, na;
	bool				 nbp, nap;
	uint64_t			 t0 = (uint64_t)ro_now_ms();
	int				 error;

	if (res == NULL)
		res = &local;
	memset(res, 0, sizeof(*res));
	memset(&op, 0, sizeof(op));
	op.kind = OP_FETCH;
	op.what = "fetch";
	if (flags & RO_GITREPO_FETCH_BRANCH)
		op.specs[op.nspecs++] = r->fetch_branch;
	if (flags & RO_GITREPO_FETCH_NOTES)
		op.specs[op.nspecs++] = RO_GITREPO_NOTES_REFSPEC;
	if (op.nspecs == 0)
		return ro_err_set(err, RO_EINVALID, "fetch: nothing asked");
	if ((error = ref_get(r, r->track_ref, &res->head_before_present,
	    &res->head_before, err)) < 0 ||
	    (error = ref_get(r, RO_GITREPO_NOTES_TRACKING, &nbp, &nb,
	    err)) < 0)
		return error;
	if ((error = op_run(r, &op, err)) < 0)
		return error;
	res->received_bytes = r->cb.received_bytes;
	res->received_objects = r->cb.received_objects;
	r->stats.fetches++;
	r->stats.bytes_received += res->received_bytes;
	if ((error = ref_get(r, r->track_ref, &res->head_present, &res->head,
	    err)) < 0 ||
	    (error = ref_get(r, RO_GITREPO_NOTES_TRACKING, &nap, &na,
	    err)) < 0)
		return error;
	res->head_moved = res->head_present != res->head_before_present ||
	    (res->head_present && !git_oid_equal(&res->head,
	    &res->head_before));
	res->notes_moved = nap != nbp || (nap && !git_oid_equal(&na, &nb));
	res->duration_ms = (uint64_t)ro_now_ms() - t0;
	return RO_OK;
}

/* After a push of src:dst, move the tracking ref that dst maps to. */
static int
track_pushed(struct ro_gitrepo *r, const char *refspec, struct ro_err *err)
{
	git_refspec	*spec = NULL;
	git_remote	*remote = r->remote;
	git_buf		 tracking = { NULL, 0, 0 };
	git_oid		 id;
	const git_refspec *fs;
	size_t		 i, n;
	int		 rc, error = RO_OK;

	if (git_refspec_parse(&spec, refspec, 0) < 0) {
		error = ro_gitrepo_fail(r, err, RO_ERROR, "push");
		goto done;
	}
	if (git_reference_name_to_id(&id, r->repo, git_refspec_src(spec)) < 0)
		goto done;	/* pushed a deletion or an oid: nothing to do */
	n = git_remote_refspec_count(remote);
	for (i = 0; i < n; i++) {
		fs = git_remote_get_refspec(remote, i);
		if (git_refspec_direction(fs) != GIT_DIRECTION_FETCH ||
		    !git_refspec_src_matches(fs, git_refspec_dst(spec)))
			continue;
		if (git_refspec_transform(&tracking, fs,
		    git_refspec_dst(spec)) < 0) {
			error = ro_gitrepo_fail(r, err, RO_ERROR, "push");
			goto done;
		}
		git_reference *ref = NULL;
		rc = git_reference_create(&ref, r->repo, tracking.ptr, &id, 1,
		    "roomops: push");
		git_reference_free(ref);
		if (rc < 0) {
			error = ro_gitrepo_fail(r, err, RO_ERROR, tracking.ptr);
			goto done;
		}
		git_buf_dispose(&tracking);
	}
done:
	git_buf_dispose(&tracking);
	git_refspec_free(spec);
	return error;
}

int
ro_gitrepo_push(struct ro_gitrepo *r, const char *refspec,
    struct ro_err *err)
{
	struct op	 op;
	const char	*path;
	int		 error;

	if (refspec == NULL || refspec[0] == '+' || strchr(refspec, ':') ==
	    NULL)
		return ro_err_set(err, RO_EINVALID,
		    "push: refspec must be src:dst without '+'");
	if ((path = ro_gitpush_local_path(r->url)) != NULL) {
		if ((error = ro_gitpush_local(r, path, refspec, err)) < 0)
			return error;
		r->stats.pushes++;
		return track_pushed(r, refspec, err);
	}
	memset(&op, 0, sizeof(op));
	op.kind = OP_PUSH;
	op.what = "push";
	op.specs[op.nspecs++] = refspec;
	if ((error = op_run(r, &op, err)) < 0)
		return error;
	r->stats.pushes++;
	return track_pushed(r, refspec, err);
}

/* ---- open ------------------------------------------------------------ */

/* The user info of a URL ("user:password"), or NULL. */
static char *
url_userinfo(const char *url)
{
	const char	*s, *end, *at = NULL, *q;

	if ((s = strstr(url, "://")) == NULL)
		return NULL;
	s += 3;
	end = s + strcspn(s, "/");
	for (q = s; q < end; q++)
		if (*q == '@')
			at = q;
	return at != NULL ? strndup(s, (size_t)(at - s)) : NULL;
}

static int
opts_copy(struct ro_gitrepo *r, const struct ro_gitrepo_opts *o)
{
	int	error = RO_OK;

	r->opts = *o;
	r->url = dup_or_null(o->url, &error);
	r->branch = dup_or_null(o->branch != NULL ? o->branch :
	    RO_GITREPO_DEFAULT_BRANCH, &error);
	r->dir = dup_or_null(o->dir, &error);
	r->username = dup_or_null(o->username, &error);
	r->password_file = dup_or_null(o->password_file, &error);
	r->password_env = dup_or_null(o->password_env, &error);
	r->ca_file = dup_or_null(o->ca_file, &error);
	r->ssh_key_file = dup_or_null(o->ssh_key_file, &error);
	r->ssh_pubkey_file = dup_or_null(o->ssh_pubkey_file, &error);
	r->ssh_passphrase_file = dup_or_null(o->ssh_passphrase_file, &error);
	r->known_hosts_file = dup_or_null(o->known_hosts_file, &error);
	if (error < 0)
		return error;
	if (r->ssh_pubkey_file == NULL && r->ssh_key_file != NULL &&
	    asprintf(&r->ssh_pubkey_file, "%s.pub", r->ssh_key_file) >= 0 &&
	    access(r->ssh_pubkey_file, R_OK) != 0) {
		free(r->ssh_pubkey_file);
		r->ssh_pubkey_file = NULL;
	}
	if (asprintf(&r->track_ref, "%s%s", RO_GITREPO_TRACK_PREFIX,
	    r->branch) < 0) {
		r->track_ref = NULL;
		return RO_ENOMEM;
	}
	if (asprintf(&r->fetch_branch, "+refs/heads/%s:%s", r->branch,
	    r->track_ref) < 0) {
		r->fetch_branch = NULL;
		return RO_ENOMEM;
	}
	return RO_OK;
}

int
ro_gitrepo_open(struct ro_gitrepo **out, const struct ro_gitrepo_opts *opts,
    struct ro_err *err)
{
	struct ro_gitrepo	*r = NULL;
	struct ro_err		 why = RO_ERR_INIT;
	char			 branchref[512];
	bool			 exists, empty, gitlike;
	int			 error, valid = 0;

	if ((error = ro_gitrepo_global_init(err)) < 0)
		return error;
	if (opts == NULL || opts->url == NULL || opts->url[0] == '\0' ||
	    opts->dir == NULL || opts->dir[0] == '\0')
		return ro_err_set(err, RO_EINVALID, "git: url and dir needed");
	if (strlen(opts->url) >= RO_GITREPO_URL_MAX)
		return ro_err_set(err, RO_EINVALID, "git: url too long");
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	if ((error = opts_copy(r, opts)) < 0) {
		ro_err_set(err, error, "out of memory");
		goto done;
	}
	ro_gitrepo_redact_url(r->url_redacted, sizeof(r->url_redacted),
	    r->url);
	r->userinfo = url_userinfo(r->url);
	snprintf(branchref, sizeof(branchref), "refs/heads/%s", r->branch);
	if (git_reference_name_is_valid(&valid, branchref) < 0 || !valid ||
	    strlen(r->branch) > 255) {
		error = ro_err_set(err, RO_EINVALID, "git: bad branch name '%s'",
		    r->branch);
		goto done;
	}
	if (r->opts.op_timeout_ms == 0)
		r->opts.op_timeout_ms = 300000;
	ro_gitstream_set_timeouts(r->opts.connect_timeout_ms,
	    r->opts.io_timeout_ms);
	if ((error = ro_gitclone_make_parent(r->dir, err)) < 0)
		goto done;
	ro_gitclone_remove_leftovers(r->dir);
	if (ro_gitclone_dir_state(r->dir, &exists, &empty, &gitlike) < 0) {
		error = ro_err_errno(err, RO_EIO, "%s", r->dir);
		goto done;
	}
	if (exists && !empty) {
		error = ro_gitclone_open_existing(r, &why);
		if (error == RO_OK)
			goto done;
		if (error == RO_ECONFLICT && !r->opts.replace_mismatch) {
			ro_err_set(err, error, "%s", why.msg);
			goto done;
		}
		if (error != RO_ECONFLICT && !gitlike) {
			error = ro_err_set(err, RO_EINVALID,
			    "%s is not a git repository and not empty: "
			    "refusing to touch it", r->dir);
			goto done;
		}
		git_remote_free(r->remote);
		r->remote = NULL;
		git_repository_free(r->repo);
		r->repo = NULL;
		if (error == RO_ECONFLICT)
			log_warnx("%s: %s holds a clone of another URL; "
			    "replacing it as configured", r->url_redacted,
			    r->dir);
		else
			log_warnx("%s; cloning again", why.msg);
		if ((error = ro_gitclone_replace_dir(r->dir, err)) < 0)
			goto done;
	} else if (exists && rmdir(r->dir) == -1) {
		error = ro_err_errno(err, RO_EIO, "rmdir %s", r->dir);
		goto done;
	}
	error = ro_gitclone_fresh(r, err);
done:
	if (error == RO_OK) {
		*out = r;
		r = NULL;
	}
	ro_gitrepo_free(r);
	return error;
}

void
ro_gitrepo_free(struct ro_gitrepo *r)
{
	if (r == NULL)
		return;
	git_remote_free(r->remote);
	git_repository_free(r->repo);
	free(r->url);
	free(r->branch);
	free(r->dir);
	free(r->username);
	free(r->password_file);
	free(r->password_env);
	free(r->ca_file);
	free(r->ssh_key_file);
	free(r->ssh_pubkey_file);
	free(r->ssh_passphrase_file);
	free(r->known_hosts_file);
	free(r->userinfo);
	free(r->track_ref);
	free(r->fetch_branch);
	explicit_bzero(r->secret, sizeof(r->secret));
	free(r);
}

git_repository *
ro_gitrepo_git(struct ro_gitrepo *r)
{
	return r->repo;
}

const char *
ro_gitrepo_branch(const struct ro_gitrepo *r)
{
	return r->branch;
}

const char *
ro_gitrepo_url(const struct ro_gitrepo *r)
{
	return r->url_redacted;
}

bool
ro_gitrepo_cloned(const struct ro_gitrepo *r)
{
	return r->cloned;
}

void
ro_gitrepo_stats(const struct ro_gitrepo *r, struct ro_gitrepo_stats *out)
{
	*out = r->stats;
}
