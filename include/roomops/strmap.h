/*
 * strmap.h: a hash map from C strings (copied) to caller-owned pointers.
 * Open hashing with chains; grows by doubling. Not thread-safe.
 */
#ifndef RO_STRMAP_H
#define RO_STRMAP_H

#include <stddef.h>

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
/* Free the map's own memory (not the values). */
void	 ro_strmap_release(struct ro_strmap *m);

#endif
