/*
 * sshsig.c: the SSHSIG format (OpenSSH PROTOCOL.sshsig) parsed by hand,
 * and Ed25519 signatures checked natively with OpenSSL (sigverify.h).
 *
 * Why by hand: no library on Debian 12 exposes it (ssh-keygen -Y is a
 * program). Measured: one ssh-keygen run per commit costs about 5 ms,
 * the native check of an Ed25519 signature a few hundredths of that
 * (docs/performance.md). Other key types return "not handled" and go to
 * ssh-keygen. Pure functions of their input; any thread; fuzzed
 * (tests/fuzz/fuzz_sigssh.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "sigverify.h"

#include "../common/banned.h"

#define SSHSIG_MAGIC	"SSHSIG"
#define ED25519_PK_LEN	32	/* bytes */
#define ED25519_SIG_LEN	64	/* bytes */
#define SIGNED_MAX	256	/* bytes of the data signed (namespace and
				   hash algorithm are short) */

struct rd {
	const unsigned char	*p;
	size_t			 left;
};

static bool
get_string(struct rd *r, const unsigned char **s, size_t *n)
{
	uint32_t	len;

	if (r->left < 4)
		return false;
	len = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
	    (uint32_t)r->p[2] << 8 | r->p[3];
	if (len > r->left - 4)
		return false;
	*s = r->p + 4;
	*n = len;
	r->p += 4 + len;
	r->left -= 4 + len;
	return true;
}

static bool
is(const unsigned char *s, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(s, want, n) == 0;
}

static bool
put_string(unsigned char *buf, size_t cap, size_t *off,
    const unsigned char *s, size_t n)
{
	if (n > cap || *off > cap - n - 4)
		return false;
	buf[(*off)++] = (unsigned char)(n >> 24);
	buf[(*off)++] = (unsigned char)(n >> 16);
	buf[(*off)++] = (unsigned char)(n >> 8);
	buf[(*off)++] = (unsigned char)n;
	memcpy(buf + *off, s, n);
	*off += n;
	return true;
}

void
ro_sshsig_fingerprint(const unsigned char *key, size_t keylen, char *out,
    size_t outsz)
{
	unsigned char	md[SHA256_DIGEST_LENGTH];
	unsigned char	b64[4 * ((SHA256_DIGEST_LENGTH + 2) / 3) + 1];
	int		n;

	SHA256(key, keylen, md);
	n = EVP_EncodeBlock(b64, md, sizeof(md));
	while (n > 0 && b64[n - 1] == '=')
		n--;		/* as ssh-keygen prints it */
	snprintf(out, outsz, "SHA256:%.*s", n, (const char *)b64);
}

int
ro_sshsig_verify(const unsigned char *blob, size_t bloblen, const char *ns,
    const char *data, size_t datalen, bool *handled, bool *good)
{
	struct rd		 r = { blob, bloblen }, k, s;
	const unsigned char	*key, *sns, *res, *halg, *sig, *kt, *pk;
	const unsigned char	*st, *sb;
	size_t			 keyn, snsn, resn, halgn, sign, ktn, pkn;
	size_t			 stn, sbn, off = 0;
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned char		 signed_data[SIGNED_MAX];
	unsigned int		 mdlen = 0;
	const EVP_MD		*alg;
	EVP_PKEY		*pkey = NULL;
	EVP_MD_CTX		*ctx = NULL;

	*handled = *good = false;
	if (bloblen < 10 || memcmp(blob, SSHSIG_MAGIC, 6) != 0)
		return RO_EINVALID;
	r.p += 6;
	r.left -= 6;
	if (r.p[0] != 0 || r.p[1] != 0 || r.p[2] != 0 || r.p[3] != 1)
		return RO_EINVALID;		/* version 1 */
	r.p += 4;
	r.left -= 4;
	if (!get_string(&r, &key, &keyn) || !get_string(&r, &sns, &snsn) ||
	    !get_string(&r, &res, &resn) || !get_string(&r, &halg, &halgn) ||
	    !get_string(&r, &sig, &sign))
		return RO_EINVALID;
	k = (struct rd){ key, keyn };
	s = (struct rd){ sig, sign };
	if (!get_string(&k, &kt, &ktn) || !get_string(&s, &st, &stn))
		return RO_EINVALID;
	if (!is(kt, ktn, "ssh-ed25519"))
		return RO_OK;			/* not handled: ssh-keygen */
	*handled = true;
	if (!get_string(&k, &pk, &pkn) || pkn != ED25519_PK_LEN ||
	    k.left != 0 || !is(st, stn, "ssh-ed25519") ||
	    !get_string(&s, &sb, &sbn) || sbn != ED25519_SIG_LEN)
		return RO_EINVALID;
	if (!is(sns, snsn, ns))
		return RO_OK;			/* another namespace: bad */
	if (is(halg, halgn, "sha512"))
		alg = EVP_sha512();
	else if (is(halg, halgn, "sha256"))
		alg = EVP_sha256();
	else
		return RO_EINVALID;
	if (EVP_Digest(data, datalen, md, &mdlen, alg, NULL) != 1)
		return RO_ENOMEM;
	memcpy(signed_data, SSHSIG_MAGIC, 6);
	off = 6;
	if (!put_string(signed_data, sizeof(signed_data), &off, sns, snsn) ||
	    !put_string(signed_data, sizeof(signed_data), &off, res, resn) ||
	    !put_string(signed_data, sizeof(signed_data), &off, halg, halgn) ||
	    !put_string(signed_data, sizeof(signed_data), &off, md, mdlen))
		return RO_EINVALID;
	if ((pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pk,
	    pkn)) == NULL || (ctx = EVP_MD_CTX_new()) == NULL) {
		EVP_PKEY_free(pkey);
		return RO_ENOMEM;
	}
	*good = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
	    EVP_DigestVerify(ctx, sb, sbn, signed_data, off) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return RO_OK;
}
