/*
 * watchpend.h: the debounce set of watch.c: paths that changed, each due
 * a fixed time after its last event. A strmap finds a path; a list holds
 * them in order of due time. Since every due time is "last event + the
 * same debounce", moving a touched path to the tail keeps the list
 * sorted: the head is always the next one due. A repeated event for a
 * pending path costs one lookup and no allocation.
 *
 * Ownership: the set owns its paths until ro_watchpend_take hands them
 * over. Not thread-safe: one owner (the watch's thread).
 */
#ifndef RO_WATCHPEND_H
#define RO_WATCHPEND_H

#include <stddef.h>

#include "roomops/strmap.h"
#include "roomops/strv.h"

struct ro_watchpend_ent;

struct ro_watchpend {
	struct ro_strmap		 by_path;	/* path -> entry */
	struct ro_watchpend_ent		*head, *tail;	/* due order */
	size_t				 max;		/* paths at most */
};

#define RO_WATCHPEND_INIT(max)	{ RO_STRMAP_INIT, NULL, NULL, (max) }

/* Paths pending. */
size_t	ro_watchpend_count(const struct ro_watchpend *ps);
/*
 * path is due at due (ms), moved behind every other path. RO_ETOOBIG when
 * the set holds max paths already, RO_ENOMEM; the set is unchanged then.
 */
int	ro_watchpend_touch(struct ro_watchpend *ps, const char *path,
	    long long due);
/* The due time of the next path, or -1 when none is pending. */
long long ro_watchpend_next_due(const struct ro_watchpend *ps);
/* Move every path due at now or before to out, oldest first. RO_ENOMEM
 * (the paths not handed over stay pending). */
int	ro_watchpend_take(struct ro_watchpend *ps, long long now,
	    struct ro_strv *out);
/* Drop every path (the set stays usable). */
void	ro_watchpend_clear(struct ro_watchpend *ps);

#endif
