/*
 * specidx.h: the spec index of a source (dirsrc.c, gitsrc.c): one entry
 * per spec file (path, roomId, seed files, prune annotation, digest),
 * found by path, by room (the latest entry to declare it) and by seed
 * file (the specs that read it), all through strmaps: no linear scans.
 *
 * Ownership: the index owns its entries and their strings. Entry pointers
 * are valid until the next add or remove (the array grows and the last
 * entry fills a removed one's place). Not thread-safe: one owner thread.
 */
#ifndef RO_SPECIDX_H
#define RO_SPECIDX_H

#include <stdbool.h>
#include <stddef.h>

#include "roomops/fingerprint.h"
#include "roomops/spec.h"
#include "roomops/strmap.h"
#include "roomops/strv.h"

struct ro_specidx_ent {
	char		*path;		/* the key, as the source names it */
	char		*room_id;	/* NULL until set */
	struct ro_strv	 seeds;		/* normalised seed files it reads */
	bool		 prune;		/* roomops/prune: "true" */
	char		 digest[RO_HEX_SHA256_LEN + 1];	/* for the source */
};

struct ro_specidx {
	struct ro_specidx_ent	*e;
	size_t			 n, cap;
	struct ro_strmap	 by_path;	/* path -> index + 1 */
	struct ro_strmap	 by_room;	/* roomId -> index + 1, the
						   latest to declare it */
	struct ro_strmap	 by_seed;	/* seed -> struct ro_strv * of
						   spec paths */
};

#define RO_SPECIDX_INIT	{ NULL, 0, 0, RO_STRMAP_INIT, RO_STRMAP_INIT, \
	RO_STRMAP_INIT }

void	ro_specidx_release(struct ro_specidx *x);
/* Free an entry's strings (one taken out by ro_specidx_detach). */
void	ro_specidx_ent_release(struct ro_specidx_ent *e);

/* The entry of path, or NULL. */
struct ro_specidx_ent *ro_specidx_path(const struct ro_specidx *x,
	    const char *path);
/* The latest entry to declare room, or NULL. */
struct ro_specidx_ent *ro_specidx_room(const struct ro_specidx *x,
	    const char *room);
/* The entry of path, added empty (no room, no seeds) when absent.
 * RO_ENOMEM (nothing added). */
int	ro_specidx_add(struct ro_specidx *x, const char *path,
	    struct ro_specidx_ent **out);
/* e now declares room (it becomes the room's latest entry). RO_ENOMEM:
 * e has no room then. */
int	ro_specidx_set_room(struct ro_specidx *x, struct ro_specidx_ent *e,
	    const char *room);
/* e now reads the seed files in seeds (copied). RO_ENOMEM: e may have
 * part of them. */
int	ro_specidx_set_seeds(struct ro_specidx *x, struct ro_specidx_ent *e,
	    const struct ro_strv *seeds);
/* Take e out of the index; its strings move to the returned copy. */
struct ro_specidx_ent ro_specidx_detach(struct ro_specidx *x,
	    struct ro_specidx_ent *e);
/* Remove the entry of path, if any. */
void	ro_specidx_remove(struct ro_specidx *x, const char *path);
/* Append to out (once each) the paths of the specs reading seed. */
int	ro_specidx_seed_users(const struct ro_specidx *x, const char *seed,
	    struct ro_strv *out);
/*
 * The seed files of spec into out: each artifact's seedFrom normalised
 * against dir (the spec's folder), prefixed with prefix and '/' when
 * prefix is not empty. Unusable seedFrom values are left out (the spec
 * is rejected for them elsewhere). RO_ENOMEM.
 */
int	ro_specidx_spec_seeds(struct ro_strv *out, const struct ro_spec *spec,
	    const char *dir, const char *prefix);

#endif
