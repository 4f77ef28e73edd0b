/*
 * fuzz_hook.c: libFuzzer target for the webhook checks (agent/hook.c).
 *
 * Input: byte 0 picks the source (low 2 bits) and a hex position to
 * mutate (the rest), byte 1 the secret's length (1..32), byte 2 the
 * presented header value's length; then the secret, the header value and
 * the body, in that order.
 *
 * Oracles, besides ASan/UBSan:
 * - the right proof (the HMAC computed here, independently, or the
 *   secret/token) is accepted, also with upper-case hex digits;
 * - the right HMAC with one hex digit changed to another value is
 *   refused, and so is it for the wrong secret;
 * - the fuzzed header value is accepted exactly when it carries the right
 *   proof, decided here from first principles;
 * - ro_hook_ref() never crashes and returns NULL or 1..RO_HOOK_REF_MAX
 *   bytes with no control character or space; ro_hook_form_decode()
 *   never crashes.
 *
 *	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DRO_FUZZ=ON \
 *	    -DRO_TESTS=OFF && cmake --build build-fuzz --target fuzz_hook
 *	build-fuzz/fuzz_hook -max_total_time=60 tests/fuzz/corpus/hook
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "hook.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SECRET_MAX	32

static void
check(bool ok, const char *what, enum ro_hook_kind kind)
{
	if (!ok) {
		fprintf(stderr, "fuzz_hook: %s (kind %d)\n", what, (int)kind);
		abort();
	}
}

static int
nibble(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Does s hold exactly the 64 hex digits of digest (either case)? */
static bool
is_digest(const char *s, const unsigned char digest[32])
{
	size_t	i;
	int	hi, lo;

	if (strlen(s) != 64)
		return false;
	for (i = 0; i < 32; i++) {
		if ((hi = nibble((unsigned char)s[2 * i])) < 0 ||
		    (lo = nibble((unsigned char)s[2 * i + 1])) < 0 ||
		    (unsigned char)(hi << 4 | lo) != digest[i])
			return false;
	}
	return true;
}

/* What the header value should get, decided without hook.c. */
static bool
oracle(enum ro_hook_kind kind, const char *v, const char *secret,
    const unsigned char digest[32])
{
	switch (kind) {
	case RO_HOOK_GITHUB:
		return strncmp(v, "sha256=", 7) == 0 && is_digest(v + 7, digest);
	case RO_HOOK_GITEA:
		return is_digest(v, digest);
	case RO_HOOK_GITLAB:
		return strcmp(v, secret) == 0;
	case RO_HOOK_GENERIC:
		if (strncasecmp(v, "Bearer ", 7) != 0)
			return false;
		v += 7;
		while (*v == ' ')
			v++;
		return strcmp(v, secret) == 0;
	}
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char	 hexd[] = "0123456789abcdef";
	enum ro_hook_kind	 kind;
	struct ro_hook_key	 key, wrong;
	unsigned char		 digest[EVP_MAX_MD_SIZE];
	unsigned int		 dlen = 0;
	char			 secret[SECRET_MAX + 1], other[SECRET_MAX + 2];
	char			 hex[65], proof[128], *value, *body, *ref, *form;
	size_t			 slen, vlen, blen, i, pos, step;
	int			 c;

	if (size < 3)
		return 0;
	kind = (enum ro_hook_kind)(data[0] & 3);
	pos = (size_t)(data[0] >> 2) % 64;
	step = 1 + (size_t)data[0] % 15;	/* 1..15: another digit */
	slen = 1 + data[1] % SECRET_MAX;
	vlen = data[2];
	data += 3;
	size -= 3;
	if (size < slen)
		return 0;
	/* a secret as a file holds it: no NUL, and (for Bearer) no leading
	 * space, which the header parser skips */
	for (i = 0; i < slen; i++)
		secret[i] = data[i] == '\0' || (i == 0 && data[i] == ' ') ?
		    'x' : (char)data[i];
	secret[slen] = '\0';
	data += slen;
	size -= slen;
	if (vlen > size)
		vlen = size;
	if ((value = strndup((const char *)data, vlen)) == NULL)
		abort();
	data += vlen;
	size -= vlen;
	blen = size;
	if ((body = malloc(blen + 1)) == NULL)
		abort();
	memcpy(body, data, blen);
	body[blen] = '\0';

	ro_hook_key_set(&key, secret, slen);
	if (HMAC(EVP_sha256(), secret, (int)slen, (const unsigned char *)body,
	    blen, digest, &dlen) == NULL || dlen != 32)
		abort();
	for (i = 0; i < 32; i++) {
		hex[2 * i] = hexd[digest[i] >> 4];
		hex[2 * i + 1] = hexd[digest[i] & 15];
	}
	hex[64] = '\0';

	/* the right proof is accepted */
	switch (kind) {
	case RO_HOOK_GITHUB:
		snprintf(proof, sizeof(proof), "sha256=%s", hex);
		break;
	case RO_HOOK_GITEA:
		snprintf(proof, sizeof(proof), "%s", hex);
		break;
	case RO_HOOK_GITLAB:
		snprintf(proof, sizeof(proof), "%s", secret);
		break;
	case RO_HOOK_GENERIC:
		snprintf(proof, sizeof(proof), "Bearer %s", secret);
		break;
	}
	check(ro_hook_authentic(kind, proof, body, blen, &key),
	    "the right proof was refused", kind);
	check(!ro_hook_authentic(kind, NULL, body, blen, &key),
	    "no header was accepted", kind);

	if (kind == RO_HOOK_GITHUB || kind == RO_HOOK_GITEA) {
		size_t	off = kind == RO_HOOK_GITHUB ? 7 : 0;

		/* either case of hex digits is the same digest */
		for (i = off; proof[i] != '\0'; i++)
			proof[i] = (char)toupper((unsigned char)proof[i]);
		check(ro_hook_authentic(kind, proof, body, blen, &key),
		    "upper-case hex was refused", kind);
		/* one digit changed to another value: refused */
		snprintf(proof + off, sizeof(proof) - off, "%s", hex);
		c = nibble((unsigned char)proof[off + pos]);
		proof[off + pos] = hexd[((size_t)c + step) & 15];
		check(!ro_hook_authentic(kind, proof, body, blen, &key),
		    "a mutated signature was accepted", kind);
		/* and the right signature under another secret */
		snprintf(other, sizeof(other), "%sy", secret);
		ro_hook_key_set(&wrong, other, slen + 1);
		snprintf(proof + off, sizeof(proof) - off, "%s", hex);
		check(!ro_hook_authentic(kind, proof, body, blen, &wrong),
		    "a signature made with another secret was accepted", kind);
		/* truncated or extended */
		proof[off + 63] = '\0';
		check(!ro_hook_authentic(kind, proof, body, blen, &key),
		    "63 hex digits were accepted", kind);
	} else {
		snprintf(other, sizeof(other), "%sy", secret);
		snprintf(proof, sizeof(proof), "%s%s", kind == RO_HOOK_GENERIC ?
		    "Bearer " : "", other);
		check(!ro_hook_authentic(kind, proof, body, blen, &key),
		    "a longer token was accepted", kind);
	}

	/* the fuzzed header value gets exactly what it deserves */
	check(ro_hook_authentic(kind, value, body, blen, &key) ==
	    oracle(kind, value, secret, digest),
	    "the fuzzed header value got the wrong answer", kind);

	/* the pushed ref */
	if ((ref = ro_hook_ref(body, blen)) != NULL) {
		size_t n = strlen(ref);

		check(n > 0 && n <= RO_HOOK_REF_MAX, "ref length", kind);
		for (i = 0; i < n; i++)
			check((unsigned char)ref[i] > 0x20 && ref[i] != 0x7f,
			    "control character or space in a ref", kind);
		free(ref);
	}
	form = ro_hook_form_decode(body, blen);
	free(form);
	free(value);
	free(body);
	return 0;
}
