/*
 * optval.c: the one parser of option values, shared by the CLI verbs
 * (cli.c), the agent's flags, environment and config file (config.c) and
 * the HTTP API's listen address (api.c): booleans, counts, ratios,
 * durations and listen addresses. Strict: no spaces, no signs, no
 * leading zeros, nothing a second reader could take differently.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/err.h"
#include "optval.h"

#include "../common/banned.h"

const char ro_optval_too_large[] = "too large";

/* Durations */

int
ro_optval_duration(const char *s, uint64_t max_ms, uint64_t *out,
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
				*why = ro_optval_too_large;
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
			*why = ro_optval_too_large;
			return RO_EINVALID;
		}
		total += v * units[u].ms;
		last = u;
		first = false;
		p += ulen;
	}
	if (total > max_ms) {
		*why = ro_optval_too_large;
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

/* Scalar parsers: strict, no spaces, no signs */

bool
ro_optval_bool(const char *s, bool *out)
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
bool
ro_optval_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
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
bool
ro_optval_ratio(const char *s, double *out)
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

/* The numeric address (or localhost) of a listen value into ss. */
static bool
listen_sockaddr(const char *host, bool v6, unsigned port,
    struct sockaddr_storage *ss)
{
	struct sockaddr_in	*in = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (v6) {
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

int
ro_optval_listen(const char *s, char **host, unsigned *port,
    const char **why)
{
	struct sockaddr_storage	 ss;
	const char		*h, *hend, *colon;
	char			 addr[INET6_ADDRSTRLEN + 1];
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
	if (!ro_optval_uint(colon + 1, 0, 65535, &v)) {
		*why = "port must be a number 0..65535";
		return RO_EINVALID;
	}
	if ((size_t)(hend - h) >= sizeof(addr)) {
		*why = "not a numeric address";
		return RO_EINVALID;
	}
	memcpy(addr, h, (size_t)(hend - h));
	addr[hend - h] = '\0';
	if (!listen_sockaddr(addr, v6, (unsigned)v, &ss)) {
		*why = v6 ? "not a numeric IPv6 address" : "not a numeric "
		    "address (an IPv4 address or localhost; host names are "
		    "not resolved)";
		return RO_EINVALID;
	}
	if ((*host = strdup(addr)) == NULL)
		return RO_ENOMEM;
	*port = (unsigned)v;
	return RO_OK;
}

int
ro_optval_listen_addr(const char *host, unsigned port,
    struct sockaddr_storage *ss, bool *v6, struct ro_err *err)
{
	if (host == NULL || host[0] == '\0' || port > 65535)
		return ro_err_set(err, RO_EINVALID, "listen address is empty "
		    "or its port out of range");
	*v6 = strchr(host, ':') != NULL;
	if (!listen_sockaddr(host, *v6, port, ss))
		return ro_err_set(err, RO_EINVALID, "listen address \"%s\": "
		    "not a numeric address", host);
	return RO_OK;
}
