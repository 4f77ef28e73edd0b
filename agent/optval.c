/*
 * optval.c: the one parser of option values, for every verb's flags, the
 * ROOMOPS_* environment and the config file (config.c), so that a value
 * means the same wherever it is given: booleans are true or false;
 * integers plain decimals within a range, without sign or leading zero;
 * ratios DIGITS[.DIGITS] from 0 to 1; durations <digits><unit> parts
 * (h, m, s, ms) largest first; listen addresses HOST:PORT or [V6]:PORT.
 * Errors name where the value came from ("--max-kicks", an environment
 * variable, "file:line:col: key") and quote the value.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/node.h"
#include "optval.h"

#include "../common/banned.h"

const char RO_OPTVAL_TOO_LARGE[] = "too large";

int
ro_optval_parse_duration(const char *s, uint64_t max_ms, uint64_t *out,
    const char **why)
{
	static const struct {
		const char	*unit;
		uint64_t	 ms;
	} units[] = {	/* largest first; "ms" before "m" when matching */
		{ "h", 3600000 }, { "m", 60000 }, { "s", 1000 }, { "ms", 1 }
	};
	const char	*p = s;
	uint64_t	 total = 0, v;
	size_t		 u, last = 0, ulen;
	bool		 first = true;

	*why = NULL;
	if (*s == '\0') {
		*why = "empty";
		return RO_EINVALID;
	}
	if (strcmp(s, "0") == 0) {
		*out = 0;
		return RO_OK;
	}
	/* one round per <digits><unit>; p advances every round */
	while (*p != '\0') {
		if (*p == '-') {
			*why = "negative";
			return RO_EINVALID;
		}
		if (*p < '0' || *p > '9') {
			*why = *p == '+' ? "no sign allowed" :
			    "expected a number followed by ms, s, m or h";
			return RO_EINVALID;
		}
		for (v = 0; *p >= '0' && *p <= '9'; p++) {
			if (v > (UINT64_MAX - 9) / 10) {
				*why = RO_OPTVAL_TOO_LARGE;
				return RO_EINVALID;
			}
			v = v * 10 + (uint64_t)(*p - '0');
		}
		if (*p == '.') {
			*why = "no fractions; use a smaller unit (1500ms)";
			return RO_EINVALID;
		}
		for (ulen = 0; p[ulen] >= 'a' && p[ulen] <= 'z'; ulen++)
			;
		if (ulen == 0) {
			*why = "missing unit (ms, s, m or h)";
			return RO_EINVALID;
		}
		for (u = 0; u < RO_NELEM(units); u++)
			if (strlen(units[u].unit) == ulen &&
			    memcmp(p, units[u].unit, ulen) == 0)
				break;
		if (u == RO_NELEM(units)) {
			*why = "unknown unit (ms, s, m or h)";
			return RO_EINVALID;
		}
		if (!first && u <= last) {
			*why = "units must be given once, largest first (1h30m)";
			return RO_EINVALID;
		}
		if (v > (UINT64_MAX - total) / units[u].ms) {
			*why = RO_OPTVAL_TOO_LARGE;
			return RO_EINVALID;
		}
		total += v * units[u].ms;
		last = u;
		first = false;
		p += ulen;
	}
	if (total > max_ms) {
		*why = RO_OPTVAL_TOO_LARGE;
		return RO_EINVALID;
	}
	*out = total;
	return RO_OK;
}

const char *
ro_optval_format_duration(uint64_t ms, char *buf, size_t len)
{
	static const struct {
		const char	*unit;
		uint64_t	 ms;
	} units[] = { { "h", 3600000 }, { "m", 60000 }, { "s", 1000 },
	    { "ms", 1 } };
	size_t		 u, o = 0;
	int		 n;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (ms == 0) {
		snprintf(buf, len, "0");
		return buf;
	}
	for (u = 0; u < RO_NELEM(units) && o < len; u++) {
		if (ms / units[u].ms == 0)
			continue;
		n = snprintf(buf + o, len - o, "%ju%s",
		    (uintmax_t)(ms / units[u].ms), units[u].unit);
		if (n < 0)
			break;
		o += (size_t)n;
		ms %= units[u].ms;
	}
	return buf;
}

/* Scalars: strict, no spaces, no signs */

static bool
parse_bool(const char *s, bool *out)
{
	if (strcmp(s, "true") == 0)
		*out = true;
	else if (strcmp(s, "false") == 0)
		*out = false;
	else
		return false;
	return true;
}

/* Decimal digits without leading zeros, within min..max. */
static bool
parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t	v = 0;
	const char	*p;

	if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
		return false;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* DIGITS[.DIGITS] within 0..1. */
static bool
parse_ratio(const char *s, double *out)
{
	const char	*p = s;
	char		*end;
	double		 v;

	while (*p >= '0' && *p <= '9')
		p++;
	if (p == s)
		return false;
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return false;
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	}
	if (*p != '\0' || p - s > 64)
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !(v >= 0.0 && v <= 1.0))
		return false;
	*out = v;
	return true;
}

/*
 * Fill ss from a listen host (without brackets) and port: an IPv4
 * address, "localhost" (127.0.0.1) or an IPv6 address. Names are not
 * resolved: a listener binds addresses, and a name that resolves at start
 * but not at the next would be a failure found too late.
 */
static bool
to_sockaddr(const char *host, unsigned port, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*in = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (port > 65535)
		return false;
	if (strchr(host, ':') != NULL) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		return inet_pton(AF_INET6, host, &in6->sin6_addr) == 1;
	}
	in->sin_family = AF_INET;
	in->sin_port = htons((uint16_t)port);
	if (strcmp(host, "localhost") == 0) {
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return true;
	}
	return inet_pton(AF_INET, host, &in->sin_addr) == 1;
}

/* "HOST:PORT" or "[V6]:PORT"; *host is a new string without brackets. */
static int
parse_listen(const char *s, char **host, unsigned *port, const char **why)
{
	struct sockaddr_storage	 ss;
	const char		*h, *hend, *colon;
	uint64_t		 v;
	bool			 v6 = s[0] == '[';

	*why = NULL;
	if (v6) {
		h = s + 1;
		if ((hend = strchr(h, ']')) == NULL || hend[1] != ':') {
			*why = "expected [IPV6]:PORT";
			return RO_EINVALID;
		}
		colon = hend + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL) {
			*why = "missing :PORT";
			return RO_EINVALID;
		}
		h = s;
		hend = colon;
		if (memchr(h, ':', (size_t)(hend - h)) != NULL) {
			*why = "put an IPv6 address in brackets ([::1]:8080)";
			return RO_EINVALID;
		}
	}
	if (hend == h) {
		*why = "empty address";
		return RO_EINVALID;
	}
	if (!parse_uint(colon + 1, 0, 65535, &v)) {
		*why = "port must be a number 0..65535";
		return RO_EINVALID;
	}
	if ((*host = strndup(h, (size_t)(hend - h))) == NULL)
		return RO_ENOMEM;
	if (!to_sockaddr(*host, (unsigned)v, &ss)) {
		free(*host);
		*host = NULL;
		*why = v6 ? "not an IPv6 address" : "expected an IPv4 address "
		    "or localhost (names are not resolved; 0.0.0.0 listens "
		    "on every address)";
		return RO_EINVALID;
	}
	*port = (unsigned)v;
	return RO_OK;
}

int
ro_optval_bool(const char *at, const char *raw, bool *out,
    struct ro_err *err)
{
	char	q[RO_NODE_QUOTE_SIZE];

	if (parse_bool(raw, out))
		return RO_OK;
	return ro_err_set(err, RO_EINVALID, "%s: invalid boolean %s (expected "
	    "true or false)", at, ro_node_quote(q, raw, strlen(raw)));
}

int
ro_optval_uint(const char *at, const char *raw, uint64_t min, uint64_t max,
    uint64_t *out, struct ro_err *err)
{
	char	q[RO_NODE_QUOTE_SIZE];

	if (parse_uint(raw, min, max, out))
		return RO_OK;
	return ro_err_set(err, RO_EINVALID, "%s: invalid integer %s (expected "
	    "%ju..%ju)", at, ro_node_quote(q, raw, strlen(raw)),
	    (uintmax_t)min, (uintmax_t)max);
}

int
ro_optval_ratio(const char *at, const char *raw, double *out,
    struct ro_err *err)
{
	char	q[RO_NODE_QUOTE_SIZE];

	if (parse_ratio(raw, out))
		return RO_OK;
	return ro_err_set(err, RO_EINVALID, "%s: invalid ratio %s (expected a "
	    "decimal from 0 to 1, such as 0.5)", at,
	    ro_node_quote(q, raw, strlen(raw)));
}

int
ro_optval_duration(const char *at, const char *raw, uint64_t max_ms,
    uint64_t *out, struct ro_err *err)
{
	char		 q[RO_NODE_QUOTE_SIZE], dur[32];
	const char	*why;

	if (ro_optval_parse_duration(raw, max_ms, out, &why) == RO_OK)
		return RO_OK;
	ro_node_quote(q, raw, strlen(raw));
	if (why == RO_OPTVAL_TOO_LARGE)
		return ro_err_set(err, RO_EINVALID, "%s: invalid duration %s: "
		    "too large (at most %s)", at, q,
		    ro_optval_format_duration(max_ms, dur, sizeof(dur)));
	return ro_err_set(err, RO_EINVALID, "%s: invalid duration %s: %s", at,
	    q, why);
}

int
ro_optval_listen(const char *at, const char *raw, char **host,
    unsigned *port, struct ro_err *err)
{
	char		 q[RO_NODE_QUOTE_SIZE];
	const char	*why;
	int		 error;

	if ((error = parse_listen(raw, host, port, &why)) == RO_OK)
		return RO_OK;
	if (error == RO_ENOMEM)
		return ro_err_set(err, error, "out of memory");
	return ro_err_set(err, error, "%s: invalid address %s: %s", at,
	    ro_node_quote(q, raw, strlen(raw)), why);
}

int
ro_optval_sockaddr(const char *host, unsigned port,
    struct sockaddr_storage *ss, struct ro_err *err)
{
	if (host == NULL || !to_sockaddr(host, port, ss))
		return ro_err_set(err, RO_EINVALID, "listen address %s:%u: "
		    "expected an IPv4 address, localhost or an IPv6 address, "
		    "and a port 0..65535", host != NULL ? host : "(none)",
		    port);
	return RO_OK;
}
