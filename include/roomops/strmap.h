/*
 * strmap.h: a hash map from C strings (copied) to caller-owned pointers.
 * Open hashing with chains; grows by doubling. Not thread-safe.
 */
#ifndef RO_STRMAP_H
#define RO_STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct ro_strmap_ent;

struct ro_strmap {
	struct ro_strmap_ent	**b;
	size_t			  nb;
	size_t			  n;
};

#define RO_STRMAP_INIT	{ NULL, 0, 0 }

/* The value of key, or NULL. */
void	*ro_strmap_get(const struct ro_strmap *m, const char *key);
/* Set key to v (v not NULL), replacing any value. RO_OK, RO_ENOMEM. */
int	 ro_strmap_put(struct ro_strmap *m, const char *key, void *v);
/* Remove key; returns its value or NULL. */
void	*ro_strmap_del(struct ro_strmap *m, const char *key);
/*
 * The one string hash of the tree: 64-bit FNV-1a. Values live in memory
 * only (bucket indexes of this map, the watcher's and the sim's tables);
 * nothing persists or compares them across processes.
 */
uint64_t ro_strmap_hash(const char *s);
/* Free the map's own memory (not the values). */
void	 ro_strmap_release(struct ro_strmap *m);

#endif
