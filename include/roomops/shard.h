/*
 * shard.h: which agent replica owns a room (horizontal sharding).
 *
 * N agents ("shards") share one repository; each reconciles only the
 * rooms it owns. A room belongs to exactly one shard, computed from its
 * roomId alone, so every replica agrees without talking to the others.
 *
 * The function, exactly (so that other implementations can reproduce it):
 *
 *   key   = the first 8 bytes of SHA-256(roomId as UTF-8 bytes, no NUL),
 *           read as a big-endian unsigned 64-bit integer;
 *   shard = jump consistent hash (Lamping & Veach, 2014) of key into N
 *           buckets:
 *
 *             b = -1; j = 0
 *             while j < N:
 *                 b = j
 *                 key = key * 2862933555777941757 + 1     (mod 2^64)
 *                 j = floor((b + 1) * (2^31 / ((key >> 33) + 1)))
 *             return b
 *
 *           where the division and multiplication are IEEE-754 double
 *           precision, as in the paper's reference code.
 *
 * Jump hash moves the fewest rooms when N changes: growing from N to N+1
 * moves about 1/(N+1) of the rooms, all of them to the new shard N;
 * shrinking moves only the rooms of the removed shard. Shards are
 * numbered 0..N-1 with no gaps, which is what a StatefulSet gives.
 *
 * Pure functions and a plain value struct: thread-safe, no allocation.
 */
#ifndef RO_SHARD_H
#define RO_SHARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roomops/err.h"

#define RO_SHARD_MAX		1024	/* largest shard count N */
#define RO_SHARD_ID_MAX		4096	/* bytes of a roomId we hash */
#define RO_SHARD_HOST_MAX	253	/* bytes of a host name */
#define RO_SHARD_STR_MAX	16	/* "1023/1024" plus NUL, rounded up */
#define RO_SHARD_ENV		"ROOMOPS_SHARDS"

/* Shard `index` of `count`; 0 <= index < count <= RO_SHARD_MAX. */
struct ro_shard {
	unsigned	index;
	unsigned	count;
};

/* Not sharded: one shard owns every room. */
#define RO_SHARD_INIT	{ 0, 1 }

/* The 64-bit key of a roomId (see above). room_id must not be NULL. */
uint64_t ro_shard_key(const char *room_id);

/* Jump consistent hash of key into n buckets; n must be 1..RO_SHARD_MAX. */
unsigned ro_shard_jump(uint64_t key, unsigned n);

/*
 * The shard, 0..n-1, that owns room_id among n shards.
 *
 * @return the shard index, or RO_EINVALID when room_id is NULL or longer
 *         than RO_SHARD_ID_MAX bytes, or n is not 1..RO_SHARD_MAX
 */
int	ro_shard_of(const char *room_id, unsigned n);

/*
 * Does shard s own room_id? A NULL s means "not sharded" (true for every
 * room). A NULL or over-long room_id is owned by no shard (false).
 */
bool	ro_shard_owns(const struct ro_shard *s, const char *room_id);

/*
 * Parse "I/N" (the --shard option): two decimal numbers without sign,
 * spaces or leading zeros, 0 <= I < N <= RO_SHARD_MAX.
 *
 * @param[out] out  set on success; untouched on error
 * @return RO_OK or RO_EINVALID (err names the input and the rule broken)
 */
int	ro_shard_parse(struct ro_shard *out, const char *s, struct ro_err *err);

/*
 * Shard from a StatefulSet pod: I is the ordinal after the last '-' of the
 * host name's first label ("roomops-3" or "roomops-3.roomops.ns.svc" give
 * 3), N is env_value, the value of ROOMOPS_SHARDS (a decimal 1..1024).
 *
 * When env_value is NULL or empty, sharding is off: out becomes 0/1 and
 * the host name is not looked at.
 *
 * @param[out] out  set on success; untouched on error
 * @return RO_OK or RO_EINVALID (bad ROOMOPS_SHARDS, a host name without
 *         an ordinal, or an ordinal >= N: more replicas than shards)
 */
int	ro_shard_from_env(struct ro_shard *out, const char *hostname,
	    const char *env_value, struct ro_err *err);

/*
 * "I/N" of s into buf (the "shard" field of audit records).
 * @return buf
 */
char	*ro_shard_str(char buf[RO_SHARD_STR_MAX], const struct ro_shard *s);

#endif
