/*
 * hash.h: the one string hash, 64-bit FNV-1a (offset basis
 * 0xcbf29ce484222325, prime 0x100000001b3), implemented in common/hash.c.
 * For in-memory tables only: no value is persisted or sent. Pure
 * functions, thread-safe.
 */
#ifndef RO_HASH_H
#define RO_HASH_H

#include <stddef.h>
#include <stdint.h>

#define RO_FNV1A64_BASIS	0xcbf29ce484222325ull
#define RO_FNV1A64_PRIME	0x100000001b3ull

/* FNV-1a of the NUL-terminated string s. */
uint64_t ro_hash_str(const char *s);
/* FNV-1a of len bytes at p. */
uint64_t ro_hash_mem(const void *p, size_t len);

#endif
