/*
 * specidx.h: the index of the spec files a source knows (the folder
 * source, dirsrc.c, and the Git source, gitsrc.c): one entry per spec
 * file with its room, the seed files it reads and its prune annotation,
 * found by path, by room and by seed file instead of by linear scans.
 *
 * Entries live in one array (v[0..n)); pointers into it are valid until
 * the next add or remove. Ownership: the index owns every string. Not
 * thread-safe: each source uses its own index on its own thread.
 */
#ifndef RO_SPECIDX_H
#define RO_SPECIDX_H

#include <stdbool.h>
#include <stddef.h>

#include "roomops/model.h"
#include "roomops/strmap.h"
#include "roomops/strv.h"

struct ro_specidx_ent {
	char		*path;		/* the source's spec path */
	char		*room_id;	/* NULL until set */
	struct ro_strv	 seeds;		/* seed files it reads (normalised) */
	bool		 prune;		/* roomops/prune: "true" */
	char		 digest[RO_HEX_SHA256_LEN + 1];	/* dirsrc: content */
};

struct ro_specidx {
	struct ro_specidx_ent	*v;
	size_t			 n, cap;
	struct ro_strmap	 by_path;	/* path -> index + 1 */
	struct ro_strmap	 by_room;	/* roomId -> index + 1
						   (the latest) */
	struct ro_strmap	 by_seed;	/* seed -> struct ro_strv * of
						   spec paths */
};

#define RO_SPECIDX_INIT	{ NULL, 0, 0, RO_STRMAP_INIT, RO_STRMAP_INIT, \
	RO_STRMAP_INIT }

/* The entry of path, or NULL. */
struct ro_specidx_ent *ro_specidx_path(const struct ro_specidx *x,
	    const char *path);
/* The entry that last declared room, or NULL. */
struct ro_specidx_ent *ro_specidx_room(const struct ro_specidx *x,
	    const char *room);
/* The spec paths that read seed file seed, or NULL. */
const struct ro_strv *ro_specidx_seed(const struct ro_specidx *x,
	    const char *seed);
/* The entry of path, added (empty) when there is none. RO_ENOMEM. */
int	ro_specidx_add(struct ro_specidx *x, const char *path,
	    struct ro_specidx_ent **out);
/* Set e's room. RO_ENOMEM. */
int	ro_specidx_set_room(struct ro_specidx *x, struct ro_specidx_ent *e,
	    const char *room);
/* Replace e's seeds by those of seeds (moved: seeds is left empty).
 * RO_ENOMEM. */
int	ro_specidx_set_seeds(struct ro_specidx *x, struct ro_specidx_ent *e,
	    struct ro_strv *seeds);
/* Take e out of the index; its strings move to the returned entry
 * (release it with ro_specidx_ent_release). The last entry takes its
 * place. */
struct ro_specidx_ent ro_specidx_detach(struct ro_specidx *x,
	    struct ro_specidx_ent *e);
/* Remove the entry of path, if any. */
void	ro_specidx_remove(struct ro_specidx *x, const char *path);
void	ro_specidx_ent_release(struct ro_specidx_ent *e);
void	ro_specidx_release(struct ro_specidx *x);

#endif
