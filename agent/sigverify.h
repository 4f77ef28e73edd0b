/*
 * sigverify.h: who signed a commit, and may the agent apply it?
 * (--verify-signatures, --trusted-keys; docs/security.md).
 *
 * The signature block and the signed payload come from libgit2
 * (git_commit_extract_signature, the "gpgsig" header). An OpenPGP block
 * ("-----BEGIN PGP SIGNATURE-----") is checked by gpgme against a keyring
 * private to the agent (STATE_DIR/gnupg, never the user's), an SSH block
 * ("-----BEGIN SSH SIGNATURE-----") against the allowed-signers file read
 * at load time: Ed25519 natively with OpenSSL (sshsig.c), other keys by
 * `ssh-keygen -Y verify -n git` on a snapshot of the file
 * (STATE_DIR/allowed_signers), as `git verify-commit` does. The trusted
 * keys are read at ro_sigverify_new() and again on the first
 * verification after ro_sigverify_reload() (SIGHUP).
 *
 * A commit is verified when it carries a signature of the configured
 * format that matches its payload and was made by a trusted key that is
 * neither expired nor revoked. Anything else is "not verified", with a
 * one-line reason naming the problem and the key id when there is one.
 *
 * Thread rules: ro_sigverify_commit() from one thread at a time (the Git
 * source thread); ro_sigverify_reload() from any thread.
 */
#ifndef RO_SIGVERIFY_H
#define RO_SIGVERIFY_H

#include <stdbool.h>
#include <stddef.h>

#include <git2.h>

#include "roomops/err.h"

#define RO_SIGVERIFY_SIGNER_MAX	256	/* bytes: fingerprint or principal */
#define RO_SIGVERIFY_REASON_MAX	200	/* bytes of a reason */
#define RO_SIGVERIFY_SIG_MAX	(64u << 10)	/* bytes of a signature block */
#define RO_SIGVERIFY_KEYS_MAX	(4u << 20)	/* bytes of one trusted-keys
						   file */
#define RO_SIGVERIFY_FILES_MAX	1000	/* files in a trusted-keys folder */
#define RO_SIGVERIFY_TIMEOUT_MS	10000	/* one ssh-keygen run */

enum ro_sigverify_mode {
	RO_SIGVERIFY_OFF = 0,
	RO_SIGVERIFY_OPENPGP = 0x1,
	RO_SIGVERIFY_SSH = 0x2,
	RO_SIGVERIFY_ANY = 0x3
};

enum ro_sigverify_format {
	RO_SIG_NONE = 0,	/* no gpgsig header */
	RO_SIG_OPENPGP,
	RO_SIG_SSH,
	RO_SIG_UNKNOWN		/* a header that is neither (e.g. x509) */
};

struct ro_sigverify_result {
	bool			 verified;
	enum ro_sigverify_format format;
	char			 signer[RO_SIGVERIFY_SIGNER_MAX];  /* OpenPGP:
				   fingerprint of the signing key; SSH: the
				   principal of the allowed-signers file */
	char			 keyid[RO_SIGVERIFY_SIGNER_MAX];   /* OpenPGP:
				   key id; SSH: SHA256:... of the key */
	char			 reason[RO_SIGVERIFY_REASON_MAX]; /* why not */
};

struct ro_sigverify_opts {
	enum ro_sigverify_mode	 mode;
	const char		*trusted_keys;	/* file or folder (see
						   docs/security.md) */
	const char		*state_dir;	/* gnupg/ and the snapshot */
	unsigned		 timeout_ms;	/* 0: RO_SIGVERIFY_TIMEOUT_MS */
};

struct ro_sigverify;

/* "off", "openpgp", "ssh", "any" -> mode. RO_EINVALID otherwise. */
int	ro_sigverify_parse_mode(const char *s, enum ro_sigverify_mode *out);

/*
 * Read the trusted keys (the start-up check: an unreadable path, a file
 * with no key in it, a keyring gpg refuses is an error).
 *
 * @param[out] out  new verifier (ro_sigverify_free()); untouched on error
 * @return RO_OK, RO_EINVALID (no usable key), RO_ENOTFOUND, RO_EIO,
 *         RO_ENOMEM, RO_ERROR (gpgme cannot be set up)
 */
int	ro_sigverify_new(struct ro_sigverify **out,
	    const struct ro_sigverify_opts *o, struct ro_err *err);
/* Read the trusted keys again before the next verification; when that
 * fails, the keys read before stay in use (logged). */
void	ro_sigverify_reload(struct ro_sigverify *v);
/* A number that changes whenever the trusted keys may have changed
 * (applies a requested reload first). Same thread as _commit(). */
unsigned long ro_sigverify_generation(struct ro_sigverify *v);
/*
 * Verify commit id of repo. RO_OK with res filled (verified or not, and
 * why); an error only when the check itself could not run (ssh-keygen
 * timed out or is missing, gpg failed): RO_EAGAIN, RO_ERROR, RO_ENOMEM.
 */
int	ro_sigverify_commit(struct ro_sigverify *v, git_repository *repo,
	    const git_oid *id, struct ro_sigverify_result *res,
	    struct ro_err *err);
/* Same, for a signature block and its payload (tests, benchmark); when
 * (the commit time) is not used: validity is judged at the time of the
 * check. */
int	ro_sigverify_buf(struct ro_sigverify *v, const char *sig, size_t siglen,
	    const char *data, size_t datalen, long long when,
	    struct ro_sigverify_result *res, struct ro_err *err);
void	ro_sigverify_free(struct ro_sigverify *v);

/* The format of a signature block (by its armor line). */
enum ro_sigverify_format ro_sigverify_format_of(const char *sig, size_t len);

/* Backends (sigpgp.c, sigssh.c); called by sigverify.c only. */
struct ro_sigpgp;
int	ro_sigpgp_new(struct ro_sigpgp **out, const char *home,
	    struct ro_err *err);
int	ro_sigpgp_load(struct ro_sigpgp *p, const char *keys, struct ro_err *err);
int	ro_sigpgp_verify(struct ro_sigpgp *p, const char *sig, size_t siglen,
	    const char *data, size_t datalen, struct ro_sigverify_result *res,
	    struct ro_err *err);
void	ro_sigpgp_free(struct ro_sigpgp *p);

struct ro_sigssh;
int	ro_sigssh_new(struct ro_sigssh **out, const char *state_dir,
	    unsigned timeout_ms, struct ro_err *err);
int	ro_sigssh_load(struct ro_sigssh *s, const char *allowed,
	    struct ro_err *err);
int	ro_sigssh_verify(struct ro_sigssh *s, const char *sig, size_t siglen,
	    const char *data, size_t datalen, long long when,
	    struct ro_sigverify_result *res, struct ro_err *err);
void	ro_sigssh_free(struct ro_sigssh *s);
/*
 * Check the text of an allowed-signers file (git's
 * gpg.ssh.allowedSignersFile, ssh-keygen(1) "ALLOWED SIGNERS"): every
 * line that is not blank or a comment has principals, optional options
 * and a key type with a base64 key. Sets *keys to the number of keys.
 * RO_EINVALID naming the line otherwise. Pure (fuzzed).
 */
int	ro_sigssh_check_allowed(const char *text, size_t len, size_t *keys,
	    struct ro_err *err);
/*
 * The public key blob inside an armored SSHSIG block (PROTOCOL.sshsig:
 * "SSHSIG", uint32 version 1, string publickey, ...): *key points into
 * *blob (malloc'd, the decoded block). RO_EINVALID when malformed,
 * RO_ENOMEM. Pure (fuzzed).
 */
int	ro_sigssh_sig_key(const char *sig, size_t siglen, unsigned char **blob,
	    size_t *bloblen, const unsigned char **key, size_t *keylen);

/* sshsig.c: "SHA256:..." of a public key blob, as ssh-keygen prints it. */
void	ro_sshsig_fingerprint(const unsigned char *key, size_t keylen,
	    char *out, size_t outsz);
/*
 * Check a decoded SSHSIG blob over data for namespace ns, natively:
 * Ed25519 only (*handled false for other key types: use ssh-keygen).
 * *good when the signature matches. Says nothing of who may sign.
 * RO_OK, RO_EINVALID (malformed), RO_ENOMEM.
 */
int	ro_sshsig_verify(const unsigned char *blob, size_t bloblen,
	    const char *ns, const char *data, size_t datalen, bool *handled,
	    bool *good);

#endif
