/* fingerprint.c: artifact fingerprints (roomspec.md) on OpenSSL. */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "roomops/fingerprint.h"
#include "roomops/hex.h"

#include "banned.h"

#define B64_CHUNK	3072u	/* input bytes per base64 step; multiple of 3 */

void
ro_sha256_hex(char out[RO_HEX_SHA256_LEN + 1], const void *p, size_t n)
{
	unsigned char	md[SHA256_DIGEST_LENGTH];

	SHA256(p, n, md);
	ro_hex_encode(out, md, sizeof(md));
}

static int
add_part(EVP_MD_CTX *ctx, const char *s, int sep)
{
	if (s != NULL && EVP_DigestUpdate(ctx, s, strlen(s)) != 1)
		return -1;
	return sep ? EVP_DigestUpdate(ctx, "|", 1) - 1 : 0;
}

int
ro_fingerprint(char out[RO_HEX_SHA256_LEN + 1], const char *name,
    const char *type, const char *workspace, const struct ro_strv *tags,
    const void *content, size_t len, struct ro_err *err)
{
	unsigned char	 md[SHA256_DIGEST_LENGTH];
	unsigned char	 b64[B64_CHUNK / 3 * 4 + 1];
	const unsigned char *c = content;
	EVP_MD_CTX	*ctx;
	size_t		 i, n;
	int		 error = RO_OK, outl;

	if (len > RO_ARTIFACT_MAX)
		return ro_err_set(err, RO_ETOOBIG, "artifact %s: %zu bytes, "
		    "limit is %u", name, len, RO_ARTIFACT_MAX);
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    add_part(ctx, name, 1) < 0 || add_part(ctx, type, 1) < 0 ||
	    add_part(ctx, workspace, 1) < 0)
		goto fail;
	for (i = 0; tags != NULL && i < tags->n; i++)
		if (add_part(ctx, i > 0 ? "," : NULL, 0) < 0 ||
		    add_part(ctx, tags->v[i], 0) < 0)
			goto fail;
	if (add_part(ctx, NULL, 1) < 0)
		goto fail;
	/* base64 in chunks that are multiples of 3: no padding in between */
	for (i = 0; i < len; i += n) {
		n = len - i < B64_CHUNK ? len - i : B64_CHUNK;
		outl = EVP_EncodeBlock(b64, c + i, (int)n);
		if (EVP_DigestUpdate(ctx, b64, (size_t)outl) != 1)
			goto fail;
	}
	if (EVP_DigestFinal_ex(ctx, md, NULL) != 1)
		goto fail;
	ro_hex_encode(out, md, sizeof(md));
	goto done;
fail:
	error = ro_err_set(err, RO_ERROR, "sha256 failed");
done:
	EVP_MD_CTX_free(ctx);
	return error;
}
