/*
 * gitcred.c: the libgit2 remote callbacks of one network operation:
 * credentials (an ssh key, a user name, a password or token read from a
 * file or the environment, each offered once so that a refusal ends the
 * attempt instead of looping), the TLS certificate and the ssh host key
 * (checked against known_hosts by knownhosts.c), and the progress
 * callbacks that enforce the operation's deadline.
 *
 * Thread rules: called on the thread running the operation, with
 * r->cb reset for each attempt.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "roomops/buf.h"
#include "roomops/clock.h"
#include "roomops/file.h"
#include "roomops/log.h"

#include "gitrepo.h"
#include "gitrepo_impl.h"
#include "gitstream.h"
#include "knownhosts.h"

#include "../common/banned.h"

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
		error = ro_err_set(err, RO_ETOOBIG,
		    "password or token too long");
		goto done;
	}
	memcpy(r->secret, v, n);
	r->secret[n] = '\0';
	error = RO_OK;
done:
	ro_buf_release(&b);
	return error;
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

	if (d != 0 && (uint64_t)ro_now_ms() > d) {
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

void
ro_gitcred_callbacks(struct ro_gitrepo *r, git_remote_callbacks *cbs)
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
