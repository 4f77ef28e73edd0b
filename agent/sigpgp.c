/* sigpgp.c: OpenPGP commit signatures through gpgme, against a keyring
 * private to the agent (STATE_DIR/gnupg), never the user's (sigverify.h). */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gpgme.h>

#include "roomops/buf.h"
#include "roomops/file.h"
#include "roomops/log.h"
#include "sigverify.h"

#include "../common/banned.h"

/* no key server, no trust database (the keyring holds trusted keys
 * only), no gpg-agent (public keys need none) */
#define PGP_CONF	"no-auto-key-retrieve\nno-auto-key-locate\n" \
			"trust-model always\nno-greeting\nno-autostart\n"
#define PGP_FD_MAX	16	/* nftw descriptors */

struct ro_sigpgp {
	char		*home;		/* STATE_DIR/gnupg */
	gpgme_ctx_t	 ctx;		/* on home */
};

static pthread_once_t	pgp_once = PTHREAD_ONCE_INIT;
static const char	*pgp_version;

static void
pgp_init(void)
{
	pgp_version = gpgme_check_version(NULL);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

/* rm -rf path (our own folders only). */
static int
rm_tree(const char *path)
{
	struct stat	st;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	return nftw(path, rm_one, PGP_FD_MAX, FTW_DEPTH | FTW_PHYS);
}

static int
pgp_ctx(gpgme_ctx_t *out, const char *home, struct ro_err *err)
{
	gpgme_ctx_t	ctx = NULL;
	gpgme_error_t	ge;

	if ((ge = gpgme_new(&ctx)) != 0 ||
	    (ge = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP)) != 0 ||
	    (ge = gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, NULL,
	    home)) != 0) {
		gpgme_release(ctx);
		return ro_err_set(err, RO_ERROR, "gpgme: %s", gpgme_strerror(ge));
	}
	gpgme_set_offline(ctx, 1);
	*out = ctx;
	return RO_OK;
}

int
ro_sigpgp_new(struct ro_sigpgp **out, const char *home, struct ro_err *err)
{
	struct ro_sigpgp	*p;
	gpgme_error_t		 ge;
	int			 error;

	pthread_once(&pgp_once, pgp_init);
	if (pgp_version == NULL)
		return ro_err_set(err, RO_ERROR, "gpgme: library too old");
	if ((ge = gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP)) != 0)
		return ro_err_set(err, RO_ERROR, "gpgme: no usable gpg (install "
		    "gpg): %s", gpgme_strerror(ge));
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->home = strdup(home)) == NULL) {
		free(p);
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	}
	if ((error = ro_file_mkdirs(home, 0700, err)) < 0 ||
	    (error = pgp_ctx(&p->ctx, home, err)) < 0) {
		ro_sigpgp_free(p);
		return error;
	}
	*out = p;
	return RO_OK;
}

/* Import one armored or binary key file into ctx. */
static int
import_file(gpgme_ctx_t ctx, const char *path, size_t *keys,
    struct ro_err *err)
{
	struct ro_buf		 b = RO_BUF_INIT;
	gpgme_data_t		 d = NULL;
	gpgme_import_result_t	 r;
	gpgme_error_t		 ge;
	int			 error;

	if ((error = ro_file_read(path, RO_SIGVERIFY_KEYS_MAX, &b, err)) < 0)
		goto done;
	if (b.len > 0 && memmem(b.ptr, b.len, "PRIVATE KEY BLOCK", 17) != NULL) {
		error = ro_err_set(err, RO_EINVALID, "%s: holds a secret key; "
		    "trust public keys only (gpg --armor --export)", path);
		goto done;
	}
	if ((ge = gpgme_data_new_from_mem(&d, b.ptr != NULL ? b.ptr : "",
	    b.len, 0)) != 0 || (ge = gpgme_op_import(ctx, d)) != 0) {
		error = ro_err_set(err, RO_EINVALID, "%s: %s", path,
		    gpgme_strerror(ge));
		goto done;
	}
	if ((r = gpgme_op_import_result(ctx)) == NULL || r->considered == 0) {
		error = ro_err_set(err, RO_EINVALID, "%s: no OpenPGP key in it",
		    path);
		goto done;
	}
	if (r->not_imported > 0) {
		error = ro_err_set(err, RO_EINVALID, "%s: %d of %d keys not "
		    "imported", path, r->not_imported, r->considered);
		goto done;
	}
	if (r->secret_read > 0)
		log_warnx("%s: holds secret keys; only the public keys are "
		    "needed", path);
	*keys += (size_t)r->considered;
done:
	gpgme_data_release(d);
	ro_buf_release(&b);
	return error;
}

/* Every regular, not hidden file of a folder; a file itself. */
static int
import_path(gpgme_ctx_t ctx, const char *keys, size_t *n, struct ro_err *err)
{
	struct dirent	**names = NULL;
	struct stat	  st;
	char		  path[PATH_MAX];
	int		  i, count, len, error = RO_OK;

	if (stat(keys, &st) == -1)
		return ro_err_errno(err, RO_ENOTFOUND, "trusted-keys %s", keys);
	if (!S_ISDIR(st.st_mode))
		return import_file(ctx, keys, n, err);
	if ((count = scandir(keys, &names, NULL, alphasort)) < 0)
		return ro_err_errno(err, RO_EIO, "trusted-keys %s", keys);
	if (count > RO_SIGVERIFY_FILES_MAX + 2) {
		error = ro_err_set(err, RO_ETOOBIG, "trusted-keys %s: more than "
		    "%d files", keys, RO_SIGVERIFY_FILES_MAX);
		goto done;
	}
	for (i = 0; i < count && error == RO_OK; i++) {
		if (names[i]->d_name[0] == '.' ||
		    strcmp(names[i]->d_name, "allowed_signers") == 0)
			continue;
		len = snprintf(path, sizeof(path), "%s/%s", keys,
		    names[i]->d_name);
		if (len < 0 || (size_t)len >= sizeof(path) ||
		    stat(path, &st) == -1 || !S_ISREG(st.st_mode))
			continue;
		error = import_file(ctx, path, n, err);
	}
	if (error == RO_OK && *n == 0)
		error = ro_err_set(err, RO_EINVALID, "trusted-keys %s: no key "
		    "file in the folder", keys);
done:
	for (i = 0; i < count; i++)
		free(names[i]);
	free(names);
	return error;
}

/*
 * Import into a fresh keyring beside the one in use, then swap them: a
 * key removed from the trusted keys is gone after a reload, and a
 * failed reload leaves the old keyring as it was.
 */
int
ro_sigpgp_load(struct ro_sigpgp *p, const char *keys, struct ro_err *err)
{
	gpgme_ctx_t	ctx = NULL;
	char		fresh[PATH_MAX], old[PATH_MAX], conf[PATH_MAX];
	size_t		n = 0;
	int		error;

	if (snprintf(fresh, sizeof(fresh), "%s.new", p->home) >=
	    (int)sizeof(fresh) || snprintf(old, sizeof(old), "%s.old",
	    p->home) >= (int)sizeof(old) || snprintf(conf, sizeof(conf),
	    "%s/gpg.conf", fresh) >= (int)sizeof(conf))
		return ro_err_set(err, RO_EINVALID, "state dir path too long");
	if (rm_tree(fresh) < 0 || rm_tree(old) < 0)
		return ro_err_errno(err, RO_EIO, "%s", fresh);
	if ((error = ro_file_mkdirs(fresh, 0700, err)) < 0 ||
	    (error = ro_file_replace(conf, PGP_CONF, sizeof(PGP_CONF) - 1,
	    err)) < 0 || (error = pgp_ctx(&ctx, fresh, err)) < 0 ||
	    (error = import_path(ctx, keys, &n, err)) < 0)
		goto done;
	gpgme_release(ctx);
	ctx = NULL;
	if ((rename(p->home, old) == -1 && errno != ENOENT) ||
	    rename(fresh, p->home) == -1) {
		error = ro_err_errno(err, RO_EIO, "%s", p->home);
		goto done;
	}
	(void)rm_tree(old);
	log_info("%zu OpenPGP key%s trusted (%s)", n, n == 1 ? "" : "s", keys);
done:
	gpgme_release(ctx);
	if (error < 0)
		(void)rm_tree(fresh);
	return error;
}

static void
keyid_of(const char *fpr, char *out, size_t outsz)
{
	size_t	len = fpr != NULL ? strlen(fpr) : 0;

	snprintf(out, outsz, "%s", len > 16 ? fpr + len - 16 : len > 0 ? fpr :
	    "unknown");
}

int
ro_sigpgp_verify(struct ro_sigpgp *p, const char *sig, size_t siglen,
    const char *data, size_t datalen, struct ro_sigverify_result *res,
    struct ro_err *err)
{
	gpgme_data_t		 ds = NULL, dd = NULL;
	gpgme_verify_result_t	 vr;
	gpgme_signature_t	 s;
	gpgme_error_t		 ge;
	const char		*why = NULL;

	(void)err;
	if ((ge = gpgme_data_new_from_mem(&ds, sig, siglen, 0)) != 0 ||
	    (ge = gpgme_data_new_from_mem(&dd, data != NULL ? data : "",
	    datalen, 0)) != 0 ||
	    (ge = gpgme_op_verify(p->ctx, ds, dd, NULL)) != 0) {
		snprintf(res->reason, sizeof(res->reason), "corrupted OpenPGP "
		    "signature: %s", gpgme_strerror(ge));
		goto done;
	}
	vr = gpgme_op_verify_result(p->ctx);
	if (vr == NULL || (s = vr->signatures) == NULL) {
		snprintf(res->reason, sizeof(res->reason), "corrupted OpenPGP "
		    "signature: no signature in the block");
		goto done;
	}
	keyid_of(s->fpr, res->keyid, sizeof(res->keyid));
	switch (gpgme_err_code(s->status)) {
	case GPG_ERR_NO_ERROR:
		if (s->summary & GPGME_SIGSUM_KEY_REVOKED)
			why = "signed by a revoked key";
		else if (s->summary & GPGME_SIGSUM_KEY_EXPIRED)
			why = "signed by an expired key";
		else if (s->summary & (GPGME_SIGSUM_SIG_EXPIRED |
		    GPGME_SIGSUM_RED))
			why = "signature not valid";
		break;
	case GPG_ERR_BAD_SIGNATURE:
		why = "signature does not match the commit";
		break;
	case GPG_ERR_NO_PUBKEY:
		why = "signed by an unknown key";
		break;
	case GPG_ERR_KEY_EXPIRED:
		why = "signed by an expired key";
		break;
	case GPG_ERR_CERT_REVOKED:
		why = "signed by a revoked key";
		break;
	case GPG_ERR_SIG_EXPIRED:
		why = "signature expired";
		break;
	default:
		snprintf(res->reason, sizeof(res->reason), "OpenPGP signature "
		    "not valid: %s (key %.64s)", gpgme_strerror(s->status),
		    res->keyid);
		goto done;
	}
	if (why != NULL) {
		snprintf(res->reason, sizeof(res->reason), "%s (OpenPGP key %.64s)",
		    why, res->keyid);
		goto done;
	}
	if (s->next != NULL) {
		snprintf(res->reason, sizeof(res->reason), "more than one "
		    "OpenPGP signature (key %.64s)", res->keyid);
		goto done;
	}
	snprintf(res->signer, sizeof(res->signer), "%s", s->fpr);
	res->verified = true;
done:
	gpgme_data_release(ds);
	gpgme_data_release(dd);
	return RO_OK;
}

void
ro_sigpgp_free(struct ro_sigpgp *p)
{
	if (p == NULL)
		return;
	gpgme_release(p->ctx);
	free(p->home);
	free(p);
}
