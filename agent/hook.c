/* hook.c: webhook authenticity (HMAC, tokens) and the pushed ref. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "roomops/err.h"
#include "roomops/hex.h"
#include "hook.h"

#include "../common/banned.h"

_Static_assert(RO_HOOK_SHA_LEN == SHA256_DIGEST_LENGTH,
    "RO_HOOK_SHA_LEN is a SHA-256 digest");

void
ro_hook_key_set(struct ro_hook_key *k, const char *secret, size_t len)
{
	k->secret = secret;
	k->len = len;
	SHA256((const unsigned char *)secret, len, k->sha);
}

bool
ro_hook_secret_eq(const char *s, size_t n,
    const unsigned char want[RO_HOOK_SHA_LEN])
{
	unsigned char	got[SHA256_DIGEST_LENGTH];
	bool		ok;

	SHA256((const unsigned char *)s, n, got);
	ok = CRYPTO_memcmp(got, want, sizeof(got)) == 0;
	OPENSSL_cleanse(got, sizeof(got));
	return ok;
}

bool
ro_hook_bearer_eq(const char *h, const unsigned char want[RO_HOOK_SHA_LEN])
{
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	h += 7;
	while (*h == ' ')
		h++;
	return ro_hook_secret_eq(h, strlen(h), want);
}

bool
ro_hook_hex_digest(const char *s, unsigned char out[RO_HOOK_SHA_LEN])
{
	return ro_hex_decode(out, RO_HOOK_SHA_LEN, s);
}

bool
ro_hook_hmac_eq(const char *hex, const void *body, size_t len,
    const struct ro_hook_key *key)
{
	unsigned char	want[SHA256_DIGEST_LENGTH], got[EVP_MAX_MD_SIZE];
	unsigned int	n = 0;

	if (!ro_hook_hex_digest(hex, want))
		return false;
	if (HMAC(EVP_sha256(), key->secret, (int)key->len, body, len, got,
	    &n) == NULL || n != SHA256_DIGEST_LENGTH)
		return false;
	return CRYPTO_memcmp(got, want, SHA256_DIGEST_LENGTH) == 0;
}

const char *
ro_hook_header(enum ro_hook_kind kind)
{
	switch (kind) {
	case RO_HOOK_GITHUB:
		return "X-Hub-Signature-256";
	case RO_HOOK_GITLAB:
		return "X-Gitlab-Token";
	case RO_HOOK_GITEA:
		return "X-Gitea-Signature";
	case RO_HOOK_GENERIC:
		return "Authorization";
	}
	return "Authorization";
}

bool
ro_hook_authentic(enum ro_hook_kind kind, const char *v, const void *body,
    size_t len, const struct ro_hook_key *key)
{
	switch (kind) {
	case RO_HOOK_GITHUB:
		return v != NULL && strncmp(v, "sha256=", 7) == 0 &&
		    ro_hook_hmac_eq(v + 7, body, len, key);
	case RO_HOOK_GITLAB:
		return v != NULL && ro_hook_secret_eq(v, strlen(v), key->sha);
	case RO_HOOK_GITEA:
		return ro_hook_hmac_eq(v, body, len, key);
	case RO_HOOK_GENERIC:
		return ro_hook_bearer_eq(v, key->sha);
	}
	return false;
}

char *
ro_hook_form_decode(const char *s, size_t n)
{
	char	*d;

	return ro_hex_unescape(&d, s, n, true) == RO_OK ? d : NULL;
}

char *
ro_hook_ref(const char *body, size_t len)
{
	const char	*amp;
	char		*form = NULL, *ref = NULL;
	const cJSON	*v;
	cJSON		*doc;
	size_t		 i, n;

	doc = cJSON_ParseWithLength(body, len);
	if (doc == NULL && strncmp(body, "payload=", 8) == 0) {
		amp = strchr(body + 8, '&');
		n = amp != NULL ? (size_t)(amp - body - 8) : len - 8;
		if ((form = ro_hook_form_decode(body + 8, n)) != NULL)
			doc = cJSON_Parse(form);
	}
	v = cJSON_GetObjectItemCaseSensitive(doc, "ref");
	if (cJSON_IsString(v) && (n = strlen(v->valuestring)) > 0 &&
	    n <= RO_HOOK_REF_MAX) {
		for (i = 0; i < n; i++)
			if ((unsigned char)v->valuestring[i] <= 0x20 ||
			    v->valuestring[i] == 0x7f)
				break;
		if (i == n)
			ref = strdup(v->valuestring);
	}
	cJSON_Delete(doc);
	free(form);
	return ref;
}
