/*
 * apitls.h: the certificate and key of the HTTP API (--tls-cert,
 * --tls-key): read, checked with OpenSSL before libmicrohttpd (GnuTLS)
 * sees them, so a bad pair is a clear error naming the file, at start
 * and on SIGHUP.
 *
 * Thread rules: pure functions of their arguments; any thread.
 */
#ifndef RO_APITLS_H
#define RO_APITLS_H

#include <stdbool.h>

#include "roomops/err.h"

#define RO_APITLS_FILE_MAX	(1u << 20)	/* bytes of a PEM file */

/* Does this libmicrohttpd serve HTTPS (Debian's links GnuTLS)? */
bool	ro_apitls_supported(void);

/*
 * Read cert_file (PEM certificate, chain after it) and key_file (PEM
 * private key, not encrypted) and check that the key belongs to the
 * certificate. *cert and *key are malloc'd NUL-terminated PEM texts
 * (free the key with ro_apitls_free_key(): it is wiped).
 * @return RO_OK, RO_ENOTFOUND, RO_EIO, RO_ETOOBIG, RO_EINVALID, RO_ENOMEM
 */
int	ro_apitls_load(const char *cert_file, const char *key_file,
	    char **cert, char **key, struct ro_err *err);
void	ro_apitls_free_key(char *key);

#endif
