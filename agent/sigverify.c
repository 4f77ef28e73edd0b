/* sigverify.c: commit signatures: extract, pick the backend, apply the
 * policy (sigverify.h). */
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "roomops/log.h"
#include "sigverify.h"

#include "../common/banned.h"

#define SIG_PGP_ARMOR	"-----BEGIN PGP SIGNATURE-----"
#define SIG_SSH_ARMOR	"-----BEGIN SSH SIGNATURE-----"
#define SIG_ANY_SIGNERS	"allowed_signers"	/* in the folder of "any" */

struct ro_sigverify {
	struct ro_sigverify_opts o;
	char			*keys;		/* copy of o.trusted_keys */
	struct ro_sigpgp	*pgp;
	struct ro_sigssh	*ssh;
	atomic_bool		 reload;
	unsigned long		 gen;		/* loads so far */
};

int
ro_sigverify_parse_mode(const char *s, enum ro_sigverify_mode *out)
{
	static const struct {
		const char		*name;
		enum ro_sigverify_mode	 mode;
	} modes[] = {
		{ "off", RO_SIGVERIFY_OFF }, { "openpgp", RO_SIGVERIFY_OPENPGP },
		{ "ssh", RO_SIGVERIFY_SSH }, { "any", RO_SIGVERIFY_ANY }
	};
	size_t	i;

	for (i = 0; s != NULL && i < RO_NELEM(modes); i++)
		if (strcmp(s, modes[i].name) == 0) {
			*out = modes[i].mode;
			return RO_OK;
		}
	return RO_EINVALID;
}

enum ro_sigverify_format
ro_sigverify_format_of(const char *sig, size_t len)
{
	if (sig == NULL || len == 0)
		return RO_SIG_NONE;
	while (len > 0 && (*sig == '\n' || *sig == '\r' || *sig == ' ')) {
		sig++;
		len--;
	}
	if (len >= sizeof(SIG_PGP_ARMOR) - 1 &&
	    memcmp(sig, SIG_PGP_ARMOR, sizeof(SIG_PGP_ARMOR) - 1) == 0)
		return RO_SIG_OPENPGP;
	if (len >= sizeof(SIG_SSH_ARMOR) - 1 &&
	    memcmp(sig, SIG_SSH_ARMOR, sizeof(SIG_SSH_ARMOR) - 1) == 0)
		return RO_SIG_SSH;
	return RO_SIG_UNKNOWN;
}

/* Read the keys of the configured formats into the backends. */
static int
load(struct ro_sigverify *v, struct ro_err *err)
{
	struct stat	st;
	char		path[PATH_MAX];
	bool		dir;
	int		n, error;

	if (stat(v->keys, &st) == -1)
		return ro_err_errno(err, RO_ENOTFOUND, "trusted-keys %s",
		    v->keys);
	dir = S_ISDIR(st.st_mode);
	if (v->o.mode == RO_SIGVERIFY_ANY && !dir)
		return ro_err_set(err, RO_EINVALID, "trusted-keys %s: with "
		    "verify-signatures any, a folder of OpenPGP keys and an "
		    "%s file", v->keys, SIG_ANY_SIGNERS);
	if (v->o.mode == RO_SIGVERIFY_SSH && dir)
		return ro_err_set(err, RO_EINVALID, "trusted-keys %s: a "
		    "folder; ssh needs an allowed-signers file", v->keys);
	if (v->pgp != NULL && (error = ro_sigpgp_load(v->pgp, v->keys,
	    err)) < 0)
		return error;
	if (v->ssh == NULL)
		return RO_OK;
	if (!dir)
		return ro_sigssh_load(v->ssh, v->keys, err);
	n = snprintf(path, sizeof(path), "%s/%s", v->keys, SIG_ANY_SIGNERS);
	if (n < 0 || (size_t)n >= sizeof(path))
		return ro_err_set(err, RO_EINVALID, "trusted-keys: path too "
		    "long");
	return ro_sigssh_load(v->ssh, path, err);
}

int
ro_sigverify_new(struct ro_sigverify **out, const struct ro_sigverify_opts *o,
    struct ro_err *err)
{
	struct ro_sigverify	*v;
	char			 home[PATH_MAX];
	int			 n, error;

	if (o->mode == RO_SIGVERIFY_OFF || o->trusted_keys == NULL)
		return ro_err_set(err, RO_EINVALID, "signature verification "
		    "needs a mode and trusted keys");
	if ((v = calloc(1, sizeof(*v))) == NULL ||
	    (v->keys = strdup(o->trusted_keys)) == NULL) {
		error = ro_err_set(err, RO_ENOMEM, "out of memory");
		goto fail;
	}
	v->o = *o;
	v->o.trusted_keys = v->keys;
	atomic_init(&v->reload, false);
	if (o->mode & RO_SIGVERIFY_OPENPGP) {
		n = snprintf(home, sizeof(home), "%s/gnupg", o->state_dir);
		if (n < 0 || (size_t)n >= sizeof(home)) {
			error = ro_err_set(err, RO_EINVALID, "state dir path "
			    "too long");
			goto fail;
		}
		if ((error = ro_sigpgp_new(&v->pgp, home, err)) < 0)
			goto fail;
	}
	if ((o->mode & RO_SIGVERIFY_SSH) && (error = ro_sigssh_new(&v->ssh,
	    o->state_dir, o->timeout_ms != 0 ? o->timeout_ms :
	    RO_SIGVERIFY_TIMEOUT_MS, err)) < 0)
		goto fail;
	if ((error = load(v, err)) < 0)
		goto fail;
	*out = v;
	return RO_OK;
fail:
	ro_sigverify_free(v);
	return error;
}

void
ro_sigverify_reload(struct ro_sigverify *v)
{
	if (v != NULL)
		atomic_store(&v->reload, true);
}

static void
reload_now(struct ro_sigverify *v)
{
	struct ro_err	err = RO_ERR_INIT;

	if (!atomic_exchange(&v->reload, false))
		return;
	v->gen++;
	if (load(v, &err) < 0)
		log_warnx("trusted keys not reloaded, the keys read before "
		    "stay in use: %s", err.msg);
	else
		log_info("trusted keys reloaded from %s", v->keys);
}

int
ro_sigverify_buf(struct ro_sigverify *v, const char *sig, size_t siglen,
    const char *data, size_t datalen, long long when,
    struct ro_sigverify_result *res, struct ro_err *err)
{
	memset(res, 0, sizeof(*res));
	reload_now(v);
	res->format = ro_sigverify_format_of(sig, siglen);
	switch (res->format) {
	case RO_SIG_NONE:
		snprintf(res->reason, sizeof(res->reason), "unsigned commit");
		return RO_OK;
	case RO_SIG_UNKNOWN:
		snprintf(res->reason, sizeof(res->reason), "signature of an "
		    "unknown format");
		return RO_OK;
	case RO_SIG_OPENPGP:
		if (v->pgp == NULL)
			break;
		return ro_sigpgp_verify(v->pgp, sig, siglen, data, datalen,
		    res, err);
	case RO_SIG_SSH:
		if (v->ssh == NULL)
			break;
		return ro_sigssh_verify(v->ssh, sig, siglen, data, datalen,
		    when, res, err);
	}
	snprintf(res->reason, sizeof(res->reason), "%s signature, but only "
	    "%s signatures are trusted", res->format == RO_SIG_SSH ? "SSH" :
	    "OpenPGP", v->pgp != NULL ? "OpenPGP" : "SSH");
	return RO_OK;
}

int
ro_sigverify_commit(struct ro_sigverify *v, git_repository *repo,
    const git_oid *id, struct ro_sigverify_result *res, struct ro_err *err)
{
	git_buf		 sig = { 0 }, data = { 0 };
	git_commit	*c = NULL;
	long long	 when = 0;
	char		 hex[GIT_OID_HEXSZ + 1];
	git_oid		 oid = *id;	/* libgit2 1.5 takes it non-const */
	int		 rc, error;

	memset(res, 0, sizeof(*res));
	git_oid_tostr(hex, sizeof(hex), id);
	rc = git_commit_extract_signature(&sig, &data, repo, &oid, NULL);
	if (rc == GIT_ENOTFOUND) {
		reload_now(v);
		snprintf(res->reason, sizeof(res->reason), "unsigned commit");
		error = RO_OK;
		goto done;
	}
	if (rc < 0) {
		error = ro_err_set(err, RO_ERROR, "commit %.12s: %s", hex,
		    git_error_last() != NULL ? git_error_last()->message :
		    "cannot read the signature");
		goto done;
	}
	if (sig.size > RO_SIGVERIFY_SIG_MAX) {
		reload_now(v);
		res->format = RO_SIG_UNKNOWN;
		snprintf(res->reason, sizeof(res->reason), "signature of %zu "
		    "bytes (limit %u)", sig.size, RO_SIGVERIFY_SIG_MAX);
		error = RO_OK;
		goto done;
	}
	if (git_commit_lookup(&c, repo, id) == 0)
		when = (long long)git_commit_time(c);
	error = ro_sigverify_buf(v, sig.ptr, sig.size, data.ptr, data.size,
	    when, res, err);
done:
	git_commit_free(c);
	git_buf_dispose(&sig);
	git_buf_dispose(&data);
	return error;
}

unsigned long
ro_sigverify_generation(struct ro_sigverify *v)
{
	reload_now(v);
	return v->gen;
}

void
ro_sigverify_free(struct ro_sigverify *v)
{
	if (v == NULL)
		return;
	ro_sigpgp_free(v->pgp);
	ro_sigssh_free(v->ssh);
	free(v->keys);
	free(v);
}
