/*
 * knownhosts.h: OpenSSH known_hosts files, to check the host key an SSH
 * server presents (libgit2 1.5 hands the raw key to the certificate check
 * and checks nothing itself).
 *
 * Understood: host patterns with '*', '?' and '!' negation,
 * "[host]:port" for ports other than 22, hashed "|1|salt|hmac" entries
 * (HMAC-SHA1 of the host name, or of "[host]:port"), comments, blank
 * lines, and the @revoked marker. @cert-authority lines are skipped
 * (host certificates are not supported), as are lines that do not parse
 * (counted, not fatal, as ssh(1) does).
 *
 * A parsed set is immutable: ro_knownhosts_check() may run on several
 * threads at once.
 */
#ifndef RO_KNOWNHOSTS_H
#define RO_KNOWNHOSTS_H

#include <stddef.h>

#include "roomops/err.h"

#define RO_KNOWNHOSTS_FILE_MAX	(4u << 20)	/* bytes */
#define RO_KNOWNHOSTS_LINE_MAX	16384u		/* bytes */
#define RO_KNOWNHOSTS_KEY_MAX	16384u		/* bytes of a decoded key */

struct ro_knownhosts;

/*
 * Parse known_hosts text; name is used in messages only.
 * @param[out] out  new set (ro_knownhosts_free()); untouched on error
 * @return RO_OK, RO_ETOOBIG (over RO_KNOWNHOSTS_FILE_MAX), RO_ENOMEM
 */
int	ro_knownhosts_parse(struct ro_knownhosts **out, const char *text,
	    size_t len, const char *name, struct ro_err *err);

/*
 * Read and parse a known_hosts file.
 * @return as ro_knownhosts_parse, plus RO_ENOTFOUND (no such file) and
 *         RO_EIO
 */
int	ro_knownhosts_load(struct ro_knownhosts **out, const char *path,
	    struct ro_err *err);

void	ro_knownhosts_free(struct ro_knownhosts *kh);

/* Usable entries and skipped (unparsable or @cert-authority) lines. */
size_t	ro_knownhosts_count(const struct ro_knownhosts *kh);
size_t	ro_knownhosts_skipped(const struct ro_knownhosts *kh);

/*
 * Check the host key presented by host:port (port 22 looks up "host",
 * any other "[host]:port"). key is the raw SSH public key blob (the
 * decoded base64 of a known_hosts line, which starts with its type name).
 *
 * @return RO_OK        an entry for the host holds this very key;
 *         RO_ENOTFOUND no entry for the host has a key of this type
 *                      (an unknown host, or a new key type);
 *         RO_ECONFLICT the host is listed with a different key of this
 *                      type (possible man in the middle), or this key is
 *                      marked @revoked;
 *         RO_EINVALID  the key blob is malformed.
 * err names the host and the key's SHA256 fingerprint in every case but
 * RO_OK.
 */
int	ro_knownhosts_check(const struct ro_knownhosts *kh, const char *host,
	    int port, const unsigned char *key, size_t keylen,
	    struct ro_err *err);

/*
 * OpenSSH-style fingerprint of a key blob, "SHA256:<base64, no padding>",
 * into out (at least 51 bytes).
 */
void	ro_knownhosts_fingerprint(char *out, size_t outsz,
	    const unsigned char *key, size_t keylen);

#endif
