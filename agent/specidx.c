/* specidx.c: the spec files of a source by path, by room and by seed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/err.h"
#include "specidx.h"

#include "../common/banned.h"

#define SPECIDX_MIN	64	/* entries of the first allocation */

static int
map_put(struct ro_strmap *m, const char *key, size_t i)
{
	return ro_strmap_put(m, key, (void *)(uintptr_t)(i + 1));
}

static size_t
at(const struct ro_strmap *m, const char *key)
{
	return (size_t)(uintptr_t)ro_strmap_get(m, key);
}

struct ro_specidx_ent *
ro_specidx_path(const struct ro_specidx *x, const char *path)
{
	size_t	i = at(&x->by_path, path);

	return i != 0 ? &x->v[i - 1] : NULL;
}

struct ro_specidx_ent *
ro_specidx_room(const struct ro_specidx *x, const char *room)
{
	size_t	i = at(&x->by_room, room);

	return i != 0 ? &x->v[i - 1] : NULL;
}

const struct ro_strv *
ro_specidx_seed(const struct ro_specidx *x, const char *seed)
{
	return ro_strmap_get(&x->by_seed, seed);
}

int
ro_specidx_add(struct ro_specidx *x, const char *path,
    struct ro_specidx_ent **out)
{
	struct ro_specidx_ent	*e, *v;
	size_t			 cap;

	if ((*out = ro_specidx_path(x, path)) != NULL)
		return RO_OK;
	if (x->n == x->cap) {
		cap = x->cap != 0 ? x->cap * 2 : SPECIDX_MIN;
		if ((v = reallocarray(x->v, cap, sizeof(*v))) == NULL)
			return RO_ENOMEM;
		x->v = v;
		x->cap = cap;
	}
	e = &x->v[x->n];
	memset(e, 0, sizeof(*e));
	if ((e->path = strdup(path)) == NULL ||
	    map_put(&x->by_path, path, x->n) < 0) {
		free(e->path);
		return RO_ENOMEM;
	}
	x->n++;
	*out = e;
	return RO_OK;
}

int
ro_specidx_set_room(struct ro_specidx *x, struct ro_specidx_ent *e,
    const char *room)
{
	size_t	i = (size_t)(e - x->v);
	char	*r;

	if (e->room_id != NULL && strcmp(e->room_id, room) == 0)
		return map_put(&x->by_room, room, i);
	if ((r = strdup(room)) == NULL)
		return RO_ENOMEM;
	if (e->room_id != NULL && at(&x->by_room, e->room_id) == i + 1)
		ro_strmap_del(&x->by_room, e->room_id);
	free(e->room_id);
	e->room_id = r;
	return map_put(&x->by_room, room, i);
}

/* Drop path from the list of seed. */
static void
seed_del(struct ro_specidx *x, const char *seed, const char *path)
{
	struct ro_strv	*sv = ro_strmap_get(&x->by_seed, seed);
	size_t		 i;

	if (sv == NULL)
		return;
	for (i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], path) == 0) {
			free(sv->v[i]);
			sv->v[i] = sv->v[--sv->n];
			break;
		}
	if (sv->n == 0) {
		ro_strmap_del(&x->by_seed, seed);
		ro_strv_release(sv);
		free(sv);
	}
}

static int
seed_add(struct ro_specidx *x, const char *seed, const char *path)
{
	struct ro_strv	*sv = ro_strmap_get(&x->by_seed, seed);

	if (sv == NULL) {
		if ((sv = calloc(1, sizeof(*sv))) == NULL)
			return RO_ENOMEM;
		if (ro_strmap_put(&x->by_seed, seed, sv) < 0) {
			free(sv);
			return RO_ENOMEM;
		}
	}
	if (ro_strv_contains(sv, path))
		return RO_OK;
	return ro_strv_push(sv, path) < 0 ? RO_ENOMEM : RO_OK;
}

int
ro_specidx_set_seeds(struct ro_specidx *x, struct ro_specidx_ent *e,
    struct ro_strv *seeds)
{
	size_t	i;

	for (i = 0; i < e->seeds.n; i++)
		seed_del(x, e->seeds.v[i], e->path);
	ro_strv_release(&e->seeds);
	e->seeds = *seeds;
	memset(seeds, 0, sizeof(*seeds));
	for (i = 0; i < e->seeds.n; i++)
		if (seed_add(x, e->seeds.v[i], e->path) < 0)
			return RO_ENOMEM;
	return RO_OK;
}

struct ro_specidx_ent
ro_specidx_detach(struct ro_specidx *x, struct ro_specidx_ent *e)
{
	struct ro_specidx_ent	out = *e;
	size_t			i = (size_t)(e - x->v), last = x->n - 1, k;

	for (k = 0; k < e->seeds.n; k++)
		seed_del(x, e->seeds.v[k], e->path);
	ro_strmap_del(&x->by_path, e->path);
	if (e->room_id != NULL && at(&x->by_room, e->room_id) == i + 1)
		ro_strmap_del(&x->by_room, e->room_id);
	if (i != last) {
		x->v[i] = x->v[last];
		/* keys exist already: no allocation, cannot fail */
		(void)map_put(&x->by_path, x->v[i].path, i);
		if (x->v[i].room_id != NULL &&
		    at(&x->by_room, x->v[i].room_id) == last + 1)
			(void)map_put(&x->by_room, x->v[i].room_id, i);
	}
	x->n--;
	return out;
}

void
ro_specidx_remove(struct ro_specidx *x, const char *path)
{
	struct ro_specidx_ent	*e, out;

	if ((e = ro_specidx_path(x, path)) == NULL)
		return;
	out = ro_specidx_detach(x, e);
	ro_specidx_ent_release(&out);
}

void
ro_specidx_ent_release(struct ro_specidx_ent *e)
{
	free(e->path);
	free(e->room_id);
	ro_strv_release(&e->seeds);
	e->path = e->room_id = NULL;
}

void
ro_specidx_release(struct ro_specidx *x)
{
	size_t	i, k;

	for (i = 0; i < x->n; i++) {
		for (k = 0; k < x->v[i].seeds.n; k++)
			seed_del(x, x->v[i].seeds.v[k], x->v[i].path);
		ro_specidx_ent_release(&x->v[i]);
	}
	free(x->v);
	ro_strmap_release(&x->by_path);
	ro_strmap_release(&x->by_room);
	ro_strmap_release(&x->by_seed);
	memset(x, 0, sizeof(*x));
}
