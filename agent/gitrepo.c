/* gitrepo.c: the persistent bare clone and its network operations. */
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
#include "roomops/file.h"
#include "roomops/log.h"

#include "gitrepo.h"
#include "gitstream.h"
#include "knownhosts.h"

#include "../common/banned.h"

#define SYSTEM_CA_FILE	"/etc/ssl/certs/ca-certificates.crt"
#define SYSTEM_CA_DIR	"/etc/ssl/certs"
#define BACKOFF_MAX_MS	30000u

/* What the callbacks of one attempt saw. */
struct cbstate {
	struct ro_gitrepo *r;
	struct ro_err	 err;		/* set when a callback refused */
	int		 refused;	/* auth, certificate or host key */
	int		 timed_out;	/* deadline seen in a callback */
	unsigned	 userpass_calls;
	unsigned	 sshkey_calls;
	unsigned	 username_calls;
	char		 push_status[RO_ERR_MSG_MAX];	/* rejection text */
	size_t		 received_bytes;
	unsigned	 received_objects;
};

struct ro_gitrepo {
	git_repository		*repo;
	/*
	 * origin, looked up once per open: libgit2 1.5's lookup leaks a
	 * pcre2 match block per config entry (fixed in libgit2 1.6, PR
	 * 6382), so it must not run at every poll.
	 */
	git_remote		*remote;
	struct ro_gitrepo_opts	 opts;		/* strings point below */
	char			*url;
	char			*branch;
	char			*dir;
	char			*username;
	char			*password_file;
	char			*password_env;
	char			*ca_file;
	char			*ssh_key_file;
	char			*ssh_pubkey_file;
	char			*ssh_passphrase_file;
	char			*known_hosts_file;
	char			 url_redacted[RO_GITREPO_URL_MAX];
	char			*userinfo;	/* "user:pass" of the URL */
	char			*track_ref;	/* refs/remotes/origin/<b> */
	char			*fetch_branch;	/* +refs/heads/<b>:<track> */
	bool			 cloned;
	struct ro_gitrepo_stats	 stats;
	struct cbstate		 cb;
	char			 secret[RO_GITREPO_SECRET_MAX + 1];
};

static const char fetch_notes[] =
    "+" RO_GITREPO_NOTES_REF ":" RO_GITREPO_NOTES_TRACKING;

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
static int
ca_apply(struct ro_gitrepo *r, struct ro_err *err)
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

static bool
url_is_ssh(const char *url)
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

	if (!url_is_ssh(url))
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
static int
git_fail(struct ro_gitrepo *r, struct ro_err *err, int code,
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

static uint64_t
now_ms(void)
{
	return ro_gitstream_now_ms();
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

/*
 * Load the http(s) secret (first line of the file or the env var) into
 * r->secret. RO_ENOTFOUND when none is configured.
 */
static int
load_secret(struct ro_gitrepo *r, struct ro_err *err)
{
	struct ro_buf	 b = RO_BUF_INIT;
	const char	*v;
	size_t		 n;
	int		 error;

	r->secret[0] = '\0';
	if (r->password_file != NULL) {
		if ((error = ro_file_read(r->password_file,
		    RO_GITREPO_SECRET_MAX, &b, err)) < 0)
			goto done;
		v = ro_buf_cstr(&b);
	} else if (r->password_env != NULL) {
		if ((v = getenv(r->password_env)) == NULL || v[0] == '\0') {
			error = ro_err_set(err, RO_ENOTFOUND,
			    "environment variable %s is not set",
			    r->password_env);
			goto done;
		}
	} else {
		error = RO_ENOTFOUND;
		ro_err_set(err, error, "no password or token configured");
		goto done;
	}
	n = strcspn(v, "\r\n");
	if (n > RO_GITREPO_SECRET_MAX) {
		error = ro_err_set(err, RO_ETOOBIG, "password or token too long");
		goto done;
	}
	memcpy(r->secret, v, n);
	r->secret[n] = '\0';
	error = RO_OK;
done:
	ro_buf_release(&b);
	return error;
}

/* ---- libgit2 callbacks ------------------------------------------------ */

static int	cb_refuse(struct cbstate *, const char *, ...) RO_PRINTF(2, 3);

/* A callback refuses for good (credentials, certificate, host key). */
static int
cb_refuse(struct cbstate *cb, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(cb->err.msg, sizeof(cb->err.msg), fmt, ap);
	va_end(ap);
	cb->err.code = RO_ERROR;
	cb->refused = 1;
	return GIT_EUSER;
}

static const char *
user_for(struct ro_gitrepo *r, const char *from_url)
{
	if (r->username != NULL)
		return r->username;
	if (from_url != NULL && from_url[0] != '\0')
		return from_url;
	return "git";
}

static int
cb_credentials(git_credential **out, const char *url, const char *from_url,
    unsigned int allowed, void *payload)
{
	struct cbstate		*cb = payload;
	struct ro_gitrepo	*r = cb->r;
	struct ro_buf		 pass = RO_BUF_INIT;
	struct ro_err		 e = RO_ERR_INIT;
	const char		*user = user_for(r, from_url);
	int			 rc;

	(void)url;
	if ((allowed & GIT_CREDENTIAL_SSH_KEY) && r->ssh_key_file != NULL) {
		if (cb->sshkey_calls++ > 0)
			return cb_refuse(cb, "ssh key %s refused for user %s",
			    r->ssh_key_file, user);
		if (r->ssh_passphrase_file != NULL &&
		    ro_file_read(r->ssh_passphrase_file, 1024, &pass, &e) < 0)
			return cb_refuse(cb, "%s", e.msg);
		pass.len = strcspn(ro_buf_cstr(&pass), "\r\n");
		if (pass.ptr != NULL)
			pass.ptr[pass.len] = '\0';
		rc = git_credential_ssh_key_new(out, user, r->ssh_pubkey_file,
		    r->ssh_key_file, pass.ptr);
		ro_buf_release(&pass);
		return rc;
	}
	if (allowed & GIT_CREDENTIAL_USERNAME) {
		if (cb->username_calls++ > 2)
			return cb_refuse(cb, "authentication as %s failed",
			    user);
		return git_credential_username_new(out, user);
	}
	if (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) {
		if (cb->userpass_calls++ > 0)
			return cb_refuse(cb, "authentication as %s refused "
			    "(wrong user, password or token?)", user);
		if (load_secret(r, &e) < 0)
			return cb_refuse(cb,
			    "the server asks for a password: %s", e.msg);
		return git_credential_userpass_plaintext_new(out, user,
		    r->secret);
	}
	if (allowed & GIT_CREDENTIAL_SSH_KEY)
		return cb_refuse(cb,
		    "the server asks for an ssh key: none configured");
	return cb_refuse(cb,
	    "the server asks for credentials of a kind not supported");
}

static int
check_hostkey(struct cbstate *cb, const git_cert_hostkey *hk)
{
	struct ro_gitrepo	*r = cb->r;
	struct ro_knownhosts	*kh = NULL;
	struct ro_err		 e = RO_ERR_INIT;
	char			 host[256], path[PATH_MAX];
	const char		*file = r->known_hosts_file, *home;
	int			 port, rc;

	if (!(hk->type & GIT_CERT_SSH_RAW) || hk->hostkey == NULL)
		return cb_refuse(cb, "no raw host key to check");
	if (ro_gitrepo_ssh_hostport(r->url, host, sizeof(host), &port, &e) < 0)
		return cb_refuse(cb, "%s", e.msg);
	if (file == NULL) {
		if ((home = getenv("HOME")) == NULL)
			home = "/";
		snprintf(path, sizeof(path), "%s/.ssh/known_hosts", home);
		file = path;
	}
	rc = ro_knownhosts_load(&kh, file, &e);
	if (rc == RO_ENOTFOUND)
		kh = NULL;	/* no file: every host is unknown */
	else if (rc < 0)
		return cb_refuse(cb, "known_hosts: %s", e.msg);
	rc = ro_knownhosts_check(kh, host, port,
	    (const unsigned char *)hk->hostkey, hk->hostkey_len, &e);
	ro_knownhosts_free(kh);
	if (rc == RO_OK)
		return 0;
	if (rc == RO_ENOTFOUND && r->opts.ssh_allow_unknown_host) {
		log_warnx("%s: %s: accepted (unknown hosts allowed)",
		    r->url_redacted, e.msg);
		return 0;
	}
	return cb_refuse(cb, "%s (%s)", e.msg, file);
}

static int
cb_certificate(git_cert *cert, int valid, const char *host, void *payload)
{
	struct cbstate	*cb = payload;

	if (cert->cert_type == GIT_CERT_HOSTKEY_LIBSSH2)
		return check_hostkey(cb, (const git_cert_hostkey *)cert);
	if (valid)
		return 0;
	if (cb->r->opts.tls_insecure) {
		log_warnx("%s: TLS certificate of %s not verified "
		    "(verification disabled)", cb->r->url_redacted, host);
		return 0;
	}
	return cb_refuse(cb, "TLS certificate of %s is not trusted (CA: %s)",
	    host,
	    cb->r->ca_file != NULL ? cb->r->ca_file : "system");
}

static int
deadline_passed(struct cbstate *cb)
{
	uint64_t	d = ro_gitstream_deadline();

	if (d != 0 && now_ms() > d) {
		cb->timed_out = 1;
		return 1;
	}
	return 0;
}

static int
cb_transfer(const git_indexer_progress *st, void *payload)
{
	struct cbstate	*cb = payload;

	cb->received_bytes = st->received_bytes;
	cb->received_objects = st->received_objects;
	return deadline_passed(cb) ? -1 : 0;
}

static int
cb_sideband(const char *str, int len, void *payload)
{
	(void)str;
	(void)len;
	return deadline_passed(payload) ? -1 : 0;
}

static int
cb_push_transfer(unsigned int current, unsigned int total, size_t bytes,
    void *payload)
{
	(void)current;
	(void)total;
	(void)bytes;
	return deadline_passed(payload) ? -1 : 0;
}

static int
cb_push_update(const char *refname, const char *status, void *payload)
{
	struct cbstate	*cb = payload;

	if (status != NULL && cb->push_status[0] == '\0')
		snprintf(cb->push_status, sizeof(cb->push_status), "%s: %s",
		    refname, status);
	return 0;
}

static void
callbacks_init(struct ro_gitrepo *r, git_remote_callbacks *cbs)
{
	git_remote_init_callbacks(cbs, GIT_REMOTE_CALLBACKS_VERSION);
	cbs->credentials = cb_credentials;
	cbs->certificate_check = cb_certificate;
	cbs->transfer_progress = cb_transfer;
	cbs->sideband_progress = cb_sideband;
	cbs->push_transfer_progress = cb_push_transfer;
	cbs->push_update_reference = cb_push_update;
	cbs->payload = &r->cb;
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
	if (r->cb.timed_out || now_ms() >= deadline) {
		ro_err_set(err, RO_ETIMEOUT, "%s %s: timed out after %u ms",
		    what, r->url_redacted, r->opts.op_timeout_ms);
		return RO_ETIMEOUT;
	}
	if (gerr == GIT_EAUTH || gerr == GIT_ECERTIFICATE)
		return git_fail(r, err, RO_ERROR, what);
	if (gerr == GIT_ENONFASTFORWARD)
		return git_fail(r, err, RO_ECONFLICT, what);
	if (ro_gitstream_timed_out()) {
		*retry = true;
		return git_fail(r, err, RO_ETIMEOUT, what);
	}
	if (e != NULL && (e->klass == GIT_ERROR_NET ||
	    e->klass == GIT_ERROR_SSH || e->klass == GIT_ERROR_HTTP ||
	    e->klass == GIT_ERROR_OS || e->klass == GIT_ERROR_SSL)) {
		*retry = true;
		return git_fail(r, err, RO_EIO, what);
	}
	return git_fail(r, err, RO_ERROR, what);
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

	callbacks_init(r, &cbs);
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
	uint64_t	deadline = now_ms() + r->opts.op_timeout_ms;
	unsigned	attempt, backoff = r->opts.retry_backoff_ms;
	bool		retry;
	int		rc, error;

	if ((error = ca_apply(r, err)) < 0)
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
		    now_ms() + backoff >= deadline)
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
		return git_fail(r, err, RO_ERROR, refname);
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
	uint64_t			 t0 = now_ms();
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
		op.specs[op.nspecs++] = fetch_notes;
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
	res->duration_ms = now_ms() - t0;
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
		error = git_fail(r, err, RO_ERROR, "push");
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
			error = git_fail(r, err, RO_ERROR, "push");
			goto done;
		}
		git_reference *ref = NULL;
		rc = git_reference_create(&ref, r->repo, tracking.ptr, &id, 1,
		    "roomops: push");
		git_reference_free(ref);
		if (rc < 0) {
			error = git_fail(r, err, RO_ERROR, tracking.ptr);
			goto done;
		}
		git_buf_dispose(&tracking);
	}
done:
	git_buf_dispose(&tracking);
	git_refspec_free(spec);
	return error;
}

/*
 * The path of a local origin (file:// without %-escapes, or a plain
 * path), else NULL.
 */
static const char *
local_path(const char *url)
{
	if (strncmp(url, "file://", 7) == 0)
		return strchr(url + 7, '%') == NULL && url[7] == '/' ?
		    url + 7 : NULL;
	if (strstr(url, "://") != NULL || url_is_ssh(url))
		return NULL;
	return url;
}

struct packcopy {
	git_odb_writepack	*wp;
	git_indexer_progress	 st;
};

static int
packcopy_cb(void *buf, size_t size, void *payload)
{
	struct packcopy	*pc = payload;

	return pc->wp->append(pc->wp, buf, size, &pc->st);
}

/* Copy the objects of tip that have does not reach into to's odb. */
static int
local_copy(struct ro_gitrepo *r, git_repository *to, const git_oid *tip,
    const git_oid *have, struct ro_err *err)
{
	git_packbuilder	*pb = NULL;
	git_revwalk	*w = NULL;
	git_odb		*odb = NULL;
	struct packcopy	 pc;
	int		 error = RO_OK;

	memset(&pc, 0, sizeof(pc));
	if (git_packbuilder_new(&pb, r->repo) < 0 ||
	    git_revwalk_new(&w, r->repo) < 0 ||
	    git_revwalk_push(w, tip) < 0 ||
	    (have != NULL && git_revwalk_hide(w, have) < 0) ||
	    git_packbuilder_insert_walk(pb, w) < 0 ||
	    git_repository_odb(&odb, to) < 0 ||
	    git_odb_write_pack(&pc.wp, odb, NULL, NULL) < 0 ||
	    git_packbuilder_foreach(pb, packcopy_cb, &pc) < 0 ||
	    pc.wp->commit(pc.wp, &pc.st) < 0)
		error = git_fail(r, err, RO_ERROR, "push");
	if (pc.wp != NULL)
		pc.wp->free(pc.wp);
	git_odb_free(odb);
	git_revwalk_free(w);
	git_packbuilder_free(pb);
	return error;
}

/*
 * Push src:dst to a local origin. libgit2's local transport moves the
 * remote ref with a forced write after checking the fast-forward against
 * the refs it read at connect time, so two writers pushing at once both
 * "succeed" and the first one's commits are lost. Here the objects are
 * copied, then the ref moves by compare-and-swap against the value just
 * checked (git_reference_create_matching locks the ref as git does): a
 * concurrent writer makes it RO_ECONFLICT, never a silent overwrite.
 */
static int
local_push(struct ro_gitrepo *r, const char *path, const char *refspec,
    struct ro_err *err)
{
	git_repository	*to = NULL;
	git_reference	*ref = NULL;
	git_refspec	*spec = NULL;
	git_oid		 tip, cur;
	bool		 have = false;
	int		 rc, error = RO_OK;

	if (git_refspec_parse(&spec, refspec, 0) < 0 ||
	    git_reference_name_to_id(&tip, r->repo,
	    git_refspec_src(spec)) < 0 ||
	    git_repository_open_ext(&to, path, GIT_REPOSITORY_OPEN_NO_SEARCH,
	    NULL) < 0) {
		error = git_fail(r, err, RO_ERROR, "push");
		goto done;
	}
	rc = git_reference_name_to_id(&cur, to, git_refspec_dst(spec));
	if (rc < 0 && rc != GIT_ENOTFOUND) {
		error = git_fail(r, err, RO_ERROR, "push");
		goto done;
	}
	have = rc == 0;
	if (have && git_oid_equal(&cur, &tip))
		goto done;		/* up to date */
	/* an origin value we do not have is no ancestor of ours either */
	if (have && git_graph_descendant_of(r->repo, &tip, &cur) != 1) {
		error = ro_err_set(err, RO_ECONFLICT, "push %s: rejected %s "
		    "(not a fast-forward)", r->url_redacted,
		    git_refspec_dst(spec));
		goto done;
	}
	if ((error = local_copy(r, to, &tip, have ? &cur : NULL, err)) < 0)
		goto done;
	if (have)
		rc = git_reference_create_matching(&ref, to,
		    git_refspec_dst(spec), &tip, 1, &cur, "roomops: push");
	else
		rc = git_reference_create(&ref, to, git_refspec_dst(spec), &tip,
		    0, "roomops: push");
	if (rc == GIT_EMODIFIED || rc == GIT_EEXISTS || rc == GIT_ELOCKED)
		error = ro_err_set(err, RO_ECONFLICT, "push %s: rejected %s "
		    "(it moved meanwhile)", r->url_redacted,
		    git_refspec_dst(spec));
	else if (rc < 0)
		error = git_fail(r, err, RO_ERROR, "push");
done:
	git_reference_free(ref);
	git_repository_free(to);
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
	if ((path = local_path(r->url)) != NULL) {
		if ((error = local_push(r, path, refspec, err)) < 0)
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

/* ---- open / clone ------------------------------------------------------ */

static int
rmrf_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) == -1 && errno != ENOENT ? -1 : 0;
	return unlink(path) == -1 && errno != ENOENT ? -1 : 0;
}

static int
rmrf(const char *path, struct ro_err *err)
{
	if (nftw(path, rmrf_cb, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) == -1 &&
	    errno != ENOENT)
		return ro_err_errno(err, RO_EIO, "remove %s", path);
	return RO_OK;
}

/* Remove leftovers <dir>.tmp-* and <dir>.old-* of interrupted runs. */
static void
remove_leftovers(const char *dir)
{
	char		 parent[PATH_MAX], base[NAME_MAX + 1], path[PATH_MAX];
	const char	*slash = strrchr(dir, '/');
	struct dirent	*de;
	struct ro_err	 e = RO_ERR_INIT;
	DIR		*d;
	size_t		 bl;

	if (slash != NULL) {
		snprintf(parent, sizeof(parent), "%.*s",
		    (int)(slash - dir) > 0 ? (int)(slash - dir) : 1, dir);
		snprintf(base, sizeof(base), "%s", slash + 1);
	} else {
		snprintf(parent, sizeof(parent), ".");
		snprintf(base, sizeof(base), "%s", dir);
	}
	bl = strlen(base);
	if (bl == 0 || (d = opendir(parent)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, base, bl) != 0 ||
		    (strncmp(de->d_name + bl, ".tmp-", 5) != 0 &&
		    strncmp(de->d_name + bl, ".old-", 5) != 0))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", parent,
		    de->d_name) >= sizeof(path))
			continue;
		if (rmrf(path, &e) < 0)
			log_warnx("%s", e.msg);
	}
	closedir(d);
}

/* mkdir -p the folder that holds dir. */
static int
make_parent(const char *dir, struct ro_err *err)
{
	char		 parent[PATH_MAX];
	const char	*slash = strrchr(dir, '/');

	if (slash == NULL || slash == dir)
		return RO_OK;
	if ((size_t)(slash - dir) >= sizeof(parent))
		return ro_err_set(err, RO_EINVALID, "%s: path too long", dir);
	memcpy(parent, dir, (size_t)(slash - dir));
	parent[slash - dir] = '\0';
	return ro_file_mkdirs(parent, 0700, err);
}

/* Does dir exist, is it empty, does it look like a git dir? -1: error. */
static int
dir_state(const char *dir, bool *exists, bool *empty, bool *gitlike)
{
	struct dirent	*de;
	DIR		*d;

	*exists = *empty = *gitlike = false;
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : -1;
	*exists = true;
	*empty = true;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") ==
		    0)
			continue;
		*empty = false;
		if (strcmp(de->d_name, "HEAD") == 0 ||
		    strcmp(de->d_name, "objects") == 0 ||
		    strcmp(de->d_name, "refs") == 0)
			*gitlike = true;
	}
	closedir(d);
	return 0;
}

/* Point origin's fetch refspecs at our branch and the notes. */
static int
configure_remote(struct ro_gitrepo *r, struct ro_err *err)
{
	git_config	*cfg = NULL;
	git_reference	*head = NULL;
	int		 rc, error = RO_OK;

	if (git_repository_config(&cfg, r->repo) < 0) {
		error = git_fail(r, err, RO_ERROR, "config");
		goto done;
	}
	rc = git_config_delete_multivar(cfg, "remote.origin.fetch", ".*");
	if ((rc < 0 && rc != GIT_ENOTFOUND) ||
	    git_remote_add_fetch(r->repo, RO_GITREPO_REMOTE,
	    r->fetch_branch) < 0 ||
	    git_remote_add_fetch(r->repo, RO_GITREPO_REMOTE, fetch_notes) < 0) {
		error = git_fail(r, err, RO_ERROR, "configure remote");
		goto done;
	}
	/* HEAD follows the tracked branch, for git log in the clone. */
	if (git_reference_symbolic_create(&head, r->repo, "HEAD",
	    r->track_ref, 1, "roomops: track") < 0) {
		error = git_fail(r, err, RO_ERROR, "set HEAD");
		goto done;
	}
done:
	git_reference_free(head);
	git_config_free(cfg);
	return error;
}

/* Does the fetch configuration name exactly our two refspecs? */
static bool
remote_configured(git_remote *remote, const struct ro_gitrepo *r)
{
	git_strarray	specs = { NULL, 0 };
	bool		ok;

	if (git_remote_get_fetch_refspecs(&specs, remote) < 0)
		return false;
	ok = specs.count == 2 && strcmp(specs.strings[0], r->fetch_branch) ==
	    0 && strcmp(specs.strings[1], fetch_notes) == 0;
	git_strarray_dispose(&specs);
	return ok;
}

/* Can the tip of refname be read as a commit with its tree? */
static bool
ref_readable(git_repository *repo, const char *refname)
{
	git_oid		 id;
	git_commit	*c = NULL;
	git_tree	*t = NULL;
	int		 rc;

	rc = git_reference_name_to_id(&id, repo, refname);
	if (rc == GIT_ENOTFOUND)
		return true;
	if (rc < 0)
		return false;
	rc = git_commit_lookup(&c, repo, &id) == 0 &&
	    git_commit_tree(&t, c) == 0;
	git_tree_free(t);
	git_commit_free(c);
	return rc;
}

/* A local clone problem: name the folder, not the URL. */
static int
dir_fail(struct ro_gitrepo *r, struct ro_err *err, const char *what)
{
	const git_error	*e = git_error_last();

	return ro_err_set(err, RO_EIO, "%s: %s: %s", r->dir, what,
	    e != NULL && e->message != NULL ? e->message : "unknown error");
}

/* (Re)load r->remote from the configuration. */
static int
remote_load(struct ro_gitrepo *r, struct ro_err *err)
{
	git_remote_free(r->remote);
	r->remote = NULL;
	if (git_remote_lookup(&r->remote, r->repo, RO_GITREPO_REMOTE) < 0)
		return dir_fail(r, err, "cannot load remote origin");
	return RO_OK;
}

/*
 * Try the existing clone. RO_OK: usable (r->repo set); RO_ECONFLICT: a
 * clone of another URL; RO_EIO: broken (reason in err).
 */
static int
open_existing(struct ro_gitrepo *r, struct ro_err *err)
{
	git_repository	*repo = NULL;
	git_remote	*remote = NULL;
	char		 other[RO_GITREPO_URL_MAX];
	int		 error;

	if (git_repository_open_ext(&repo, r->dir,
	    GIT_REPOSITORY_OPEN_NO_SEARCH | GIT_REPOSITORY_OPEN_BARE,
	    NULL) < 0) {
		error = dir_fail(r, err, "cannot open the clone");
		goto done;
	}
	if (!git_repository_is_bare(repo)) {
		error = ro_err_set(err, RO_EIO, "%s: not a bare clone", r->dir);
		goto done;
	}
	if (git_remote_lookup(&remote, repo, RO_GITREPO_REMOTE) < 0) {
		error = dir_fail(r, err, "the clone has no origin");
		goto done;
	}
	if (git_remote_url(remote) == NULL ||
	    strcmp(git_remote_url(remote), r->url) != 0) {
		ro_gitrepo_redact_url(other, sizeof(other),
		    git_remote_url(remote));
		error = ro_err_set(err, RO_ECONFLICT,
		    "%s holds a clone of %s, not of %s: remove it or use "
		    "another state dir", r->dir, other, r->url_redacted);
		goto done;
	}
	if (!ref_readable(repo, r->track_ref) ||
	    !ref_readable(repo, RO_GITREPO_NOTES_REF) ||
	    !ref_readable(repo, RO_GITREPO_NOTES_TRACKING)) {
		error = dir_fail(r, err, "the clone is damaged");
		goto done;
	}
	r->repo = repo;
	repo = NULL;
	if (remote_configured(remote, r)) {
		r->remote = remote;
		remote = NULL;
	} else if ((error = configure_remote(r, err)) < 0 ||
	    (error = remote_load(r, err)) < 0)
		goto done;
	error = RO_OK;
done:
	git_remote_free(remote);
	git_repository_free(repo);
	return error;
}

/* Clone into a temporary sibling of r->dir, then rename it into place. */
static int
clone_fresh(struct ro_gitrepo *r, struct ro_err *err)
{
	git_repository_init_options	 io;
	git_remote			*remote = NULL;
	char				 tmp[PATH_MAX];
	struct ro_err			 e2 = RO_ERR_INIT;
	int				 error, n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", r->dir);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return ro_err_set(err, RO_EINVALID, "%s: path too long",
		    r->dir);
	if (mkdtemp(tmp) == NULL)
		return ro_err_errno(err, RO_EIO, "mkdtemp %s", tmp);
	git_repository_init_options_init(&io,
	    GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	io.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_NO_REINIT;
	if (git_repository_init_ext(&r->repo, tmp, &io) < 0) {
		error = git_fail(r, err, RO_EIO, "init clone at");
		goto fail;
	}
	if (git_remote_create_with_fetchspec(&remote, r->repo,
	    RO_GITREPO_REMOTE, r->url, r->fetch_branch) < 0) {
		error = git_fail(r, err, RO_ERROR, "create remote");
		goto fail;
	}
	git_remote_free(remote);
	remote = NULL;
	if ((error = configure_remote(r, err)) < 0 ||
	    (error = remote_load(r, err)) < 0 ||
	    (error = ro_gitrepo_fetch(r, RO_GITREPO_FETCH_BRANCH |
	    RO_GITREPO_FETCH_NOTES, NULL, err)) < 0)
		goto fail;
	git_remote_free(r->remote);
	r->remote = NULL;
	git_repository_free(r->repo);
	r->repo = NULL;
	if (rename(tmp, r->dir) == -1) {
		error = ro_err_errno(err, RO_EIO, "rename %s to %s", tmp,
		    r->dir);
		goto fail;
	}
	if (git_repository_open_ext(&r->repo, r->dir,
	    GIT_REPOSITORY_OPEN_NO_SEARCH | GIT_REPOSITORY_OPEN_BARE,
	    NULL) < 0)
		return dir_fail(r, err, "cannot open the new clone");
	if ((error = remote_load(r, err)) < 0)
		return error;
	r->cloned = true;
	return RO_OK;
fail:
	git_remote_free(remote);
	git_remote_free(r->remote);
	r->remote = NULL;
	git_repository_free(r->repo);
	r->repo = NULL;
	if (rmrf(tmp, &e2) < 0)
		log_warnx("%s", e2.msg);
	return error;
}

/* Move a broken clone aside, then remove it. */
static int
replace_dir(const char *dir, struct ro_err *err)
{
	char	old[PATH_MAX];
	int	n;

	n = snprintf(old, sizeof(old), "%s.old-%ld", dir, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(old))
		return ro_err_set(err, RO_EINVALID, "%s: path too long", dir);
	if (rename(dir, old) == -1)
		return ro_err_errno(err, RO_EIO, "rename %s to %s", dir, old);
	return rmrf(old, err);
}

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
	if ((error = make_parent(r->dir, err)) < 0)
		goto done;
	remove_leftovers(r->dir);
	if (dir_state(r->dir, &exists, &empty, &gitlike) < 0) {
		error = ro_err_errno(err, RO_EIO, "%s", r->dir);
		goto done;
	}
	if (exists && !empty) {
		error = open_existing(r, &why);
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
		if ((error = replace_dir(r->dir, err)) < 0)
			goto done;
	} else if (exists && rmdir(r->dir) == -1) {
		error = ro_err_errno(err, RO_EIO, "rmdir %s", r->dir);
		goto done;
	}
	error = clone_fresh(r, err);
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
