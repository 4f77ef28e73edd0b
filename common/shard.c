/* shard.c: room -> shard by jump consistent hash of SHA-256(roomId). */
#include <stdio.h>
#include <string.h>

#include <openssl/sha.h>

#include "roomops/shard.h"

#include "banned.h"

#define JUMP_MUL	2862933555777941757ULL	/* Lamping & Veach's LCG */

uint64_t
ro_shard_key(const char *room_id)
{
	unsigned char	md[SHA256_DIGEST_LENGTH];
	uint64_t	key = 0;
	size_t		i;

	RO_ASSERT(room_id != NULL);
	SHA256((const unsigned char *)room_id, strlen(room_id), md);
	for (i = 0; i < 8; i++)
		key = key << 8 | md[i];
	return key;
}

unsigned
ro_shard_jump(uint64_t key, unsigned n)
{
	int64_t	b = -1, j = 0;

	RO_ASSERT(n >= 1 && n <= RO_SHARD_MAX);
	/* terminates: j grows each round and the loop ends once j >= n */
	while (j < (int64_t)n) {
		b = j;
		key = key * JUMP_MUL + 1;
		j = (int64_t)((double)(b + 1) *
		    ((double)(1LL << 31) / (double)((key >> 33) + 1)));
	}
	return (unsigned)b;
}

int
ro_shard_of(const char *room_id, unsigned n)
{
	if (room_id == NULL || n < 1 || n > RO_SHARD_MAX ||
	    strnlen(room_id, RO_SHARD_ID_MAX + 1) > RO_SHARD_ID_MAX)
		return RO_EINVALID;
	return (int)ro_shard_jump(ro_shard_key(room_id), n);
}

bool
ro_shard_owns(const struct ro_shard *s, const char *room_id)
{
	int	shard;

	if (room_id == NULL)
		return false;
	if (s == NULL)
		return strnlen(room_id, RO_SHARD_ID_MAX + 1) <= RO_SHARD_ID_MAX;
	if ((shard = ro_shard_of(room_id, s->count)) < 0)
		return false;
	return (unsigned)shard == s->index;
}

/*
 * Strict decimal in p[0..len): digits only, no leading zero, at most
 * `max`. Returns 0, or -1 with *why set.
 */
static int
parse_num(const char *p, size_t len, unsigned max, unsigned *out,
    const char **why)
{
	unsigned long	v = 0;
	size_t		i;

	*why = NULL;
	if (len == 0)
		*why = "empty number";
	for (i = 0; *why == NULL && i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			*why = "not a decimal number";
		else if ((v = v * 10 + (unsigned long)(p[i] - '0')) > max)
			*why = "too large";
	}
	if (*why == NULL && len > 1 && p[0] == '0')
		*why = "leading zero";
	if (*why != NULL)
		return -1;
	*out = (unsigned)v;
	return 0;
}

int
ro_shard_parse(struct ro_shard *out, const char *s, struct ro_err *err)
{
	const char	*slash, *why = NULL;
	unsigned	 i, n;
	size_t		 len;

	if (s == NULL || *s == '\0')
		return ro_err_set(err, RO_EINVALID,
		    "shard: empty, expected I/N such as 0/3");
	if ((len = strnlen(s, RO_SHARD_STR_MAX)) >= RO_SHARD_STR_MAX)
		return ro_err_set(err, RO_EINVALID,
		    "shard '%.*s...': too long, expected I/N such as 0/3",
		    RO_SHARD_STR_MAX, s);
	if ((slash = strchr(s, '/')) == NULL)
		return ro_err_set(err, RO_EINVALID,
		    "shard '%s': expected I/N such as 0/3", s);
	if (parse_num(slash + 1, len - (size_t)(slash + 1 - s), RO_SHARD_MAX,
	    &n, &why) < 0)
		return ro_err_set(err, RO_EINVALID,
		    "shard '%s': count N: %s, must be 1..%d", s, why,
		    RO_SHARD_MAX);
	if (n == 0)
		return ro_err_set(err, RO_EINVALID,
		    "shard '%s': count N must be 1..%d", s, RO_SHARD_MAX);
	if (parse_num(s, (size_t)(slash - s), RO_SHARD_MAX, &i, &why) < 0)
		return ro_err_set(err, RO_EINVALID,
		    "shard '%s': index I: %s, must be 0..%u", s, why, n - 1);
	if (i >= n)
		return ro_err_set(err, RO_EINVALID,
		    "shard '%s': index I must be 0..%u (less than N)", s,
		    n - 1);
	out->index = i;
	out->count = n;
	return RO_OK;
}

int
ro_shard_from_env(struct ro_shard *out, const char *hostname,
    const char *env_value, struct ro_err *err)
{
	const char	*why = NULL, *dash, *p;
	unsigned	 i, n;
	size_t		 len, hlen;

	if (env_value == NULL || *env_value == '\0') {
		out->index = 0;
		out->count = 1;
		return RO_OK;
	}
	len = strnlen(env_value, RO_SHARD_STR_MAX);
	if (parse_num(env_value, len, RO_SHARD_MAX, &n, &why) < 0 || n == 0)
		return ro_err_set(err, RO_EINVALID,
		    "%s='%.*s': %s, must be 1..%d", RO_SHARD_ENV,
		    RO_SHARD_STR_MAX, env_value, why != NULL ? why : "zero",
		    RO_SHARD_MAX);
	if (hostname == NULL || *hostname == '\0')
		return ro_err_set(err, RO_EINVALID, "%s=%u but the host name "
		    "is empty; use --shard I/N", RO_SHARD_ENV, n);
	if ((hlen = strnlen(hostname, RO_SHARD_HOST_MAX + 1)) >
	    RO_SHARD_HOST_MAX)
		return ro_err_set(err, RO_EINVALID, "host name longer than "
		    "%d bytes; use --shard I/N", RO_SHARD_HOST_MAX);
	/* only the first label: pod names never contain dots */
	if ((p = memchr(hostname, '.', hlen)) != NULL)
		hlen = (size_t)(p - hostname);
	dash = NULL;
	for (p = hostname; p < hostname + hlen; p++)
		if (*p == '-')
			dash = p;
	if (dash == NULL || parse_num(dash + 1,
	    hlen - (size_t)(dash + 1 - hostname), RO_SHARD_MAX, &i, &why) < 0)
		return ro_err_set(err, RO_EINVALID, "%s=%u but host name "
		    "'%.*s' does not end in -ORDINAL as StatefulSet pods do; "
		    "use --shard I/N", RO_SHARD_ENV, n, (int)hlen, hostname);
	if (i >= n)
		return ro_err_set(err, RO_EINVALID, "host name '%.*s' has "
		    "ordinal %u but %s=%u: more replicas than shards",
		    (int)hlen, hostname, i, RO_SHARD_ENV, n);
	out->index = i;
	out->count = n;
	return RO_OK;
}

char *
ro_shard_str(char buf[RO_SHARD_STR_MAX], const struct ro_shard *s)
{
	snprintf(buf, RO_SHARD_STR_MAX, "%u/%u", s->index, s->count);
	return buf;
}
