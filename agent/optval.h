/*
 * optval.h: option values, parsed one way for every source: the verbs'
 * flags (cli.c), the agent's flags, ROOMOPS_* environment variables and
 * config file (config.c), and the HTTP API's listen address (api.c).
 *
 *   boolean   true | false
 *   count     decimal digits, no sign, no leading zero, within min..max
 *   ratio     DIGITS[.DIGITS] within 0..1
 *   duration  "0" or <digits><unit> parts, units h m s ms, largest first
 *   listen    IPV4:PORT, localhost:PORT or [IPV6]:PORT, numeric
 *             addresses only (host names are not resolved), port 0..65535
 *
 * Pure functions of their arguments: any thread.
 */
#ifndef RO_OPTVAL_H
#define RO_OPTVAL_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roomops/err.h"

/* The reason ro_optval_duration gives for a value over max_ms. */
extern const char ro_optval_too_large[];

bool	ro_optval_bool(const char *s, bool *out);
bool	ro_optval_uint(const char *s, uint64_t min, uint64_t max,
	    uint64_t *out);
bool	ro_optval_ratio(const char *s, double *out);
/* Milliseconds of s, at most max_ms. RO_EINVALID with *why set (a static
 * string; ro_optval_too_large when over max_ms). */
int	ro_optval_duration(const char *s, uint64_t max_ms, uint64_t *out,
	    const char **why);
/* ms in the canonical form ("1h30m", "0"); returns buf. */
const char *ro_optval_format_duration(uint64_t ms, char *buf, size_t len);
/*
 * "ADDR:PORT" or "[IPV6]:PORT" into *host (new string, no brackets; free
 * it) and *port. RO_EINVALID with *why set, RO_ENOMEM.
 */
int	ro_optval_listen(const char *s, char **host, unsigned *port,
	    const char **why);
/* A host and port ro_optval_listen gave into a socket address (*v6: an
 * IPv6 one). RO_EINVALID. */
int	ro_optval_listen_addr(const char *host, unsigned port,
	    struct sockaddr_storage *ss, bool *v6, struct ro_err *err);

#endif
