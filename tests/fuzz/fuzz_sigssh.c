/*
 * fuzz_sigssh.c: libFuzzer target for the SSH signature pieces written by
 * hand (agent/sigssh.c, agent/sshsig.c): the allowed-signers check, the
 * extraction of the public key from an armored SSHSIG block, and the
 * native parse and Ed25519 check of the whole block.
 *
 * The input is an allowed-signers text and a signature block separated by
 * the first NUL byte (all of it is both when there is none). Any input
 * must be accepted or refused cleanly: a refusal says why; a key found
 * lies inside the decoded block. Seed corpus: tests/fuzz/corpus/sigssh/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sigverify.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*p = (const char *)data, *nul;
	const unsigned char	*key;
	unsigned char		*blob = NULL;
	struct ro_err		 err = RO_ERR_INIT;
	size_t			 alen, keys, bloblen, keylen;
	int			 rc;

	nul = memchr(p, '\0', size);
	alen = nul != NULL ? (size_t)(nul - p) : size;
	rc = ro_sigssh_check_allowed(p, alen, &keys, &err);
	if (rc != RO_OK && (err.code != rc || err.msg[0] == '\0'))
		abort();
	if (nul != NULL) {
		p = nul + 1;
		size -= alen + 1;
	}
	rc = ro_sigssh_sig_key(p, size, &blob, &bloblen, &key, &keylen);
	if (rc == RO_OK) {
		bool	handled, good;

		if (blob == NULL || key < blob || key + keylen > blob + bloblen ||
		    memcmp(blob, "SSHSIG", 6) != 0)
			abort();
		/* the native check: parses all of the block */
		rc = ro_sshsig_verify(blob, bloblen, "git", "data\n", 5,
		    &handled, &good);
		if ((rc != RO_OK && rc != RO_EINVALID && rc != RO_ENOMEM) ||
		    (good && !handled))
			abort();
		free(blob);
	} else if (rc != RO_EINVALID && rc != RO_ENOMEM)
		abort();
	return 0;
}
