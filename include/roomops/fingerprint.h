/*
 * fingerprint.h: artifact fingerprints and SHA-256 (OpenSSL).
 * Pure functions; thread-safe.
 */
#ifndef RO_FINGERPRINT_H
#define RO_FINGERPRINT_H

#include <stddef.h>

#include "roomops/model.h"

/* Lower-case hex SHA-256 of p[0..n) into out (65 bytes with NUL). */
void	ro_sha256_hex(char out[RO_HEX_SHA256_LEN + 1], const void *p, size_t n);

/*
 * Fingerprint of roomspec.md: hex SHA-256 of
 * "name|type|workspace|tag1,tag2|base64(content)".
 * @return RO_OK, RO_ENOMEM, RO_ETOOBIG (content over RO_ARTIFACT_MAX)
 */
int	ro_fingerprint(char out[RO_HEX_SHA256_LEN + 1], const char *name,
	    const char *type, const char *workspace, const struct ro_strv *tags,
	    const void *content, size_t len, struct ro_err *err);

#endif
