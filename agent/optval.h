/*
 * optval.h: the one parser of option values (flags of every verb,
 * ROOMOPS_* environment variables, the config file): one syntax and one
 * error message per kind of value, so that a value accepted in one place
 * is accepted everywhere.
 *
 * at names where the value came from ("--max-kicks", "ROOMOPS_PRUNE",
 * "/etc/roomops.yaml:4:11: prune"); messages read
 *   --prune: invalid boolean "yes" (expected true or false)
 *
 * Thread rules: none (pure functions).
 */
#ifndef RO_OPTVAL_H
#define RO_OPTVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "roomops/err.h"

/* true or false. RO_EINVALID otherwise. */
int	ro_optval_bool(const char *at, const char *raw, bool *out,
	    struct ro_err *err);
/* Decimal digits without sign or leading zero, within min..max. */
int	ro_optval_uint(const char *at, const char *raw, uint64_t min,
	    uint64_t max, uint64_t *out, struct ro_err *err);
/* DIGITS[.DIGITS] from 0 to 1. */
int	ro_optval_ratio(const char *at, const char *raw, double *out,
	    struct ro_err *err);
/* "0" or <digits><unit> parts (h, m, s, ms), largest first; ms out. */
int	ro_optval_duration(const char *at, const char *raw, uint64_t max_ms,
	    uint64_t *out, struct ro_err *err);
/*
 * "HOST:PORT" or "[IPV6]:PORT", port 0..65535 (0: any free port); HOST
 * is an IPv4 address or localhost, the bracketed form an IPv6 address.
 * Names are not resolved. *host is a new string without brackets (free
 * it).
 * @return RO_OK, RO_EINVALID, RO_ENOMEM
 */
int	ro_optval_listen(const char *at, const char *raw, char **host,
	    unsigned *port, struct ro_err *err);
/* The socket address of a host and port that ro_optval_listen() gave.
 * RO_EINVALID for anything it would refuse. */
int	ro_optval_sockaddr(const char *host, unsigned port,
	    struct sockaddr_storage *ss, struct ro_err *err);

/*
 * The duration syntax alone: *why says what is wrong (a static string;
 * RO_OPTVAL_TOO_LARGE when over max_ms). RO_OK or RO_EINVALID.
 */
int	ro_optval_parse_duration(const char *s, uint64_t max_ms, uint64_t *out,
	    const char **why);
extern const char RO_OPTVAL_TOO_LARGE[];
/* ms as "1h30m", "100ms" or "0" in buf; returns buf. */
const char *ro_optval_format_duration(uint64_t ms, char *buf, size_t len);

#endif
