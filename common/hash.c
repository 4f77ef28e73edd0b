/* hash.c: 64-bit FNV-1a, the one string hash of the tree. */
#include <stddef.h>
#include <stdint.h>

#include "roomops/hash.h"

#include "banned.h"

uint64_t
ro_hash_str(const char *s)
{
	uint64_t	h = RO_FNV1A64_BASIS;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * RO_FNV1A64_PRIME;
	return h;
}

uint64_t
ro_hash_mem(const void *p, size_t len)
{
	const unsigned char	*b = p;
	uint64_t		 h = RO_FNV1A64_BASIS;
	size_t			 i;

	for (i = 0; i < len; i++)
		h = (h ^ b[i]) * RO_FNV1A64_PRIME;
	return h;
}
