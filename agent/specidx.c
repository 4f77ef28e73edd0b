/* specidx.c: the spec index of dirsrc and gitsrc (path, room, seed). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/buf.h"
#include "roomops/err.h"
#include "roomops/seed.h"

#include "specidx.h"

#include "../common/banned.h"

#define SPECIDX_MIN_CAP	64	/* entries */

static int
map_put(struct ro_strmap *m, const char *key, size_t i)
{
	return ro_strmap_put(m, key, (void *)(uintptr_t)(i + 1));
}

static bool
map_is(const struct ro_strmap *m, const char *key, size_t i)
{
	return (uintptr_t)ro_strmap_get(m, key) == i + 1;
}

void
ro_specidx_ent_release(struct ro_specidx_ent *e)
{
	free(e->path);
	free(e->room_id);
	ro_strv_release(&e->seeds);
	e->path = e->room_id = NULL;
}

/* Drop path from the users of each of e's seeds. */
static void
seeds_unindex(struct ro_specidx *x, const struct ro_specidx_ent *e)
{
	struct ro_strv	*users;
	size_t		 i;

	for (i = 0; i < e->seeds.n; i++) {
		if ((users = ro_strmap_get(&x->by_seed, e->seeds.v[i])) == NULL)
			continue;
		(void)ro_strv_remove(users, e->path);
		if (users->n == 0) {
			ro_strmap_del(&x->by_seed, e->seeds.v[i]);
			ro_strv_release(users);
			free(users);
		}
	}
}

struct ro_specidx_ent *
ro_specidx_path(const struct ro_specidx *x, const char *path)
{
	uintptr_t	v = (uintptr_t)ro_strmap_get(&x->by_path, path);

	return v != 0 ? &x->e[v - 1] : NULL;
}

struct ro_specidx_ent *
ro_specidx_room(const struct ro_specidx *x, const char *room)
{
	uintptr_t	v = (uintptr_t)ro_strmap_get(&x->by_room, room);

	return v != 0 ? &x->e[v - 1] : NULL;
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
		cap = x->cap != 0 ? x->cap * 2 : SPECIDX_MIN_CAP;
		if ((v = reallocarray(x->e, cap, sizeof(*v))) == NULL)
			return RO_ENOMEM;
		x->e = v;
		x->cap = cap;
	}
	e = &x->e[x->n];
	memset(e, 0, sizeof(*e));
	if ((e->path = strdup(path)) == NULL ||
	    map_put(&x->by_path, path, x->n) < 0) {
		free(e->path);
		e->path = NULL;
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
	size_t	i = (size_t)(e - x->e);

	if (e->room_id != NULL && map_is(&x->by_room, e->room_id, i))
		ro_strmap_del(&x->by_room, e->room_id);
	free(e->room_id);
	if ((e->room_id = strdup(room)) == NULL)
		return RO_ENOMEM;
	return map_put(&x->by_room, room, i);
}

int
ro_specidx_set_seeds(struct ro_specidx *x, struct ro_specidx_ent *e,
    const struct ro_strv *seeds)
{
	struct ro_strv	*users;
	size_t		 i;

	seeds_unindex(x, e);
	ro_strv_release(&e->seeds);
	for (i = 0; i < seeds->n; i++) {
		if (ro_strv_contains(&e->seeds, seeds->v[i]))
			continue;
		if ((users = ro_strmap_get(&x->by_seed, seeds->v[i])) == NULL) {
			if ((users = calloc(1, sizeof(*users))) == NULL)
				return RO_ENOMEM;
			if (ro_strmap_put(&x->by_seed, seeds->v[i],
			    users) < 0) {
				free(users);
				return RO_ENOMEM;
			}
		}
		/* e->seeds only lists seeds whose users hold e->path */
		if (ro_strv_push(users, e->path) < 0)
			return RO_ENOMEM;
		if (ro_strv_push(&e->seeds, seeds->v[i]) < 0) {
			(void)ro_strv_remove(users, e->path);
			return RO_ENOMEM;
		}
	}
	return RO_OK;
}

struct ro_specidx_ent
ro_specidx_detach(struct ro_specidx *x, struct ro_specidx_ent *e)
{
	struct ro_specidx_ent	out = *e;
	size_t			i = (size_t)(e - x->e), last = x->n - 1;

	seeds_unindex(x, e);
	ro_strmap_del(&x->by_path, e->path);
	if (e->room_id != NULL && map_is(&x->by_room, e->room_id, i))
		ro_strmap_del(&x->by_room, e->room_id);
	if (i != last) {
		x->e[i] = x->e[last];
		/* keys exist already: no allocation, cannot fail */
		(void)map_put(&x->by_path, x->e[i].path, i);
		if (x->e[i].room_id != NULL &&
		    map_is(&x->by_room, x->e[i].room_id, last))
			(void)map_put(&x->by_room, x->e[i].room_id, i);
	}
	x->n--;
	return out;
}

void
ro_specidx_remove(struct ro_specidx *x, const char *path)
{
	struct ro_specidx_ent	*e, gone;

	if ((e = ro_specidx_path(x, path)) == NULL)
		return;
	gone = ro_specidx_detach(x, e);
	ro_specidx_ent_release(&gone);
}

int
ro_specidx_seed_users(const struct ro_specidx *x, const char *seed,
    struct ro_strv *out)
{
	const struct ro_strv	*users;
	size_t			 i;
	int			 error;

	if ((users = ro_strmap_get(&x->by_seed, seed)) == NULL)
		return RO_OK;
	for (i = 0; i < users->n; i++)
		if (!ro_strv_contains(out, users->v[i]) &&
		    (error = ro_strv_push(out, users->v[i])) < 0)
			return error;
	return RO_OK;
}

int
ro_specidx_spec_seeds(struct ro_strv *out, const struct ro_spec *spec,
    const char *dir, const char *prefix)
{
	struct ro_buf	norm = RO_BUF_INIT;
	size_t		i;
	int		error = RO_OK;

	for (i = 0; i < spec->n_artifacts && error == RO_OK; i++) {
		if (spec->artifacts[i].seed_from == NULL)
			continue;
		ro_buf_reset(&norm);
		if (ro_seed_normalize(&norm, dir, spec->artifacts[i].seed_from,
		    NULL) < 0)
			continue;
		error = ro_strv_pushf(out, "%s%s%s", prefix,
		    prefix[0] != '\0' ? "/" : "", ro_buf_cstr(&norm));
	}
	ro_buf_release(&norm);
	return error;
}

void
ro_specidx_release(struct ro_specidx *x)
{
	size_t	i;

	for (i = 0; i < x->n; i++) {
		seeds_unindex(x, &x->e[i]);
		ro_specidx_ent_release(&x->e[i]);
	}
	free(x->e);
	x->e = NULL;
	x->n = x->cap = 0;
	ro_strmap_release(&x->by_path);
	ro_strmap_release(&x->by_room);
	ro_strmap_release(&x->by_seed);
}
