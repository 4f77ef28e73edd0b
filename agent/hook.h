/*
 * hook.h: the checks of push webhooks (agent.md "HTTP API"): is a request
 * authentic, and which ref did it push. Pure functions of the header
 * values, the raw body and the secret: no I/O, no shared state, so any
 * thread may call them and tests/fuzz/fuzz_hook.c fuzzes them directly.
 *
 * Authenticity per source:
 *   github   X-Hub-Signature-256: "sha256=" + hex HMAC-SHA256(secret, body)
 *   gitea    X-Gitea-Signature:   hex HMAC-SHA256(secret, body)
 *   gitlab   X-Gitlab-Token:      the secret itself
 *   generic  Authorization:       "Bearer " + the secret
 * Secrets are compared as SHA-256 digests with CRYPTO_memcmp (fixed
 * length, constant time); HMACs with CRYPTO_memcmp. Hex digits may be in
 * either case; anything but exactly 64 of them is refused.
 */
#ifndef RO_HOOK_H
#define RO_HOOK_H

#include <stdbool.h>
#include <stddef.h>

#define RO_HOOK_SHA_LEN	32	/* bytes of a SHA-256 digest */
#define RO_HOOK_REF_MAX	1024	/* bytes of a pushed ref */

/* The order of RO_METRICS_HOOK_SOURCES (metrics.h). */
enum ro_hook_kind {
	RO_HOOK_GITHUB,
	RO_HOOK_GITLAB,
	RO_HOOK_GITEA,
	RO_HOOK_GENERIC
};

/* The webhook secret: its bytes (HMAC key) and its SHA-256 (token
 * comparisons). Filled by ro_hook_key_set(); borrowed, not copied. */
struct ro_hook_key {
	const char	*secret;
	size_t		 len;
	unsigned char	 sha[RO_HOOK_SHA_LEN];
};

void	ro_hook_key_set(struct ro_hook_key *k, const char *secret, size_t len);

/* Does SHA-256(s[0..n)) equal want? Constant time in the digest. */
bool	ro_hook_secret_eq(const char *s, size_t n,
	    const unsigned char want[RO_HOOK_SHA_LEN]);
/* Is authorization ("Bearer <token>", scheme case-insensitive, spaces
 * after it skipped) a token whose SHA-256 is want? NULL: false. */
bool	ro_hook_bearer_eq(const char *authorization,
	    const unsigned char want[RO_HOOK_SHA_LEN]);
/* Exactly 64 hex digits (either case) into out; false otherwise. */
bool	ro_hook_hex_digest(const char *s, unsigned char out[RO_HOOK_SHA_LEN]);
/* Is hex the HMAC-SHA256 of body[0..len) with key->secret? */
bool	ro_hook_hmac_eq(const char *hex, const void *body, size_t len,
	    const struct ro_hook_key *key);

/* The header that carries the proof for kind ("Authorization", ...). */
const char *ro_hook_header(enum ro_hook_kind kind);
/*
 * Is a request of kind authentic? value is the ro_hook_header(kind)
 * header (NULL when absent), body the raw body. An unknown kind is false.
 */
bool	ro_hook_authentic(enum ro_hook_kind kind, const char *value,
	    const void *body, size_t len, const struct ro_hook_key *key);

/*
 * Decode an application/x-www-form-urlencoded value s[0..n) ('+' is a
 * space, %XX an escape). NULL on a bad escape, %00, or ENOMEM; else a
 * malloc'd string.
 */
char	*ro_hook_form_decode(const char *s, size_t n);
/*
 * The "ref" of a push payload: JSON, or GitHub's form-encoded
 * "payload=<JSON>[&...]". body[len] must be '\0' (a NUL-terminated copy
 * of the body, as struct ro_buf keeps it). A malloc'd string of 1 to
 * RO_HOOK_REF_MAX bytes without control characters or spaces, or NULL
 * when there is none (or ENOMEM).
 */
char	*ro_hook_ref(const char *body, size_t len);

#endif
