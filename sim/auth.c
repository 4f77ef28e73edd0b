/*
 * auth.c: the bearer token of --token-file. The presented token and the
 * configured one are both hashed with SHA-256 and the digests compared
 * with CRYPTO_memcmp, so the time taken says nothing about the token,
 * not even its length.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "roomops/file.h"
#include "sim.h"

#include "../common/banned.h"

#define TOKEN_FILE_MAX	4096	/* bytes */
#define HEADER_MAX	8192	/* bytes of an Authorization value */

struct auth {
	unsigned char	digest[SHA256_DIGEST_LENGTH];
};

int
auth_load(struct auth **out, const char *path, struct ro_err *err)
{
	struct ro_buf	 b = RO_BUF_INIT;
	struct auth	*a = NULL;
	size_t		 i;
	int		 error;

	if ((error = ro_file_read(path, TOKEN_FILE_MAX, &b, err)) < 0)
		goto done;
	while (b.len > 0 && strchr(" \t\r\n", b.ptr[b.len - 1]) != NULL)
		b.ptr[--b.len] = '\0';
	if (b.len == 0) {
		error = ro_err_set(err, RO_EINVALID, "%s: empty token", path);
		goto done;
	}
	for (i = 0; i < b.len; i++)
		if ((unsigned char)b.ptr[i] <= 0x20 ||
		    (unsigned char)b.ptr[i] >= 0x7f) {
			error = ro_err_set(err, RO_EINVALID, "%s: the token "
			    "must be one line of printable ASCII", path);
			goto done;
		}
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		error = ro_err_set(err, RO_ENOMEM, "out of memory");
		goto done;
	}
	SHA256((const unsigned char *)b.ptr, b.len, a->digest);
	*out = a;
	a = NULL;
done:
	if (b.ptr != NULL)
		OPENSSL_cleanse(b.ptr, b.cap);
	ro_buf_release(&b);
	free(a);
	return error;
}

void
auth_free(struct auth *a)
{
	if (a != NULL)
		OPENSSL_cleanse(a, sizeof(*a));
	free(a);
}

bool
auth_check(const struct auth *a, const char *header)
{
	unsigned char	 d[SHA256_DIGEST_LENGTH];
	const char	*tok;
	size_t		 len;

	if (header == NULL || strncasecmp(header, "Bearer ", 7) != 0)
		return false;
	tok = header + 7;
	tok += strspn(tok, " ");
	len = strnlen(tok, HEADER_MAX + 1);
	while (len > 0 && tok[len - 1] == ' ')
		len--;
	if (len == 0 || len > HEADER_MAX)
		return false;
	SHA256((const unsigned char *)tok, len, d);
	return CRYPTO_memcmp(d, a->digest, sizeof(d)) == 0;
}
