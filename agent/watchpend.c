/* watchpend.c: the debounce set of the watcher (strmap + due list). */
#include <stdlib.h>
#include <string.h>

#include "roomops/err.h"

#include "watchpend.h"

#include "../common/banned.h"

struct ro_watchpend_ent {
	struct ro_watchpend_ent	*prev, *next;	/* due order, oldest first */
	long long		 due;		/* ms */
	char			*path;
};

static void
list_unlink(struct ro_watchpend *ps, struct ro_watchpend_ent *p)
{
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		ps->head = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	else
		ps->tail = p->prev;
	p->prev = p->next = NULL;
}

static void
list_append(struct ro_watchpend *ps, struct ro_watchpend_ent *p)
{
	p->prev = ps->tail;
	p->next = NULL;
	if (ps->tail != NULL)
		ps->tail->next = p;
	else
		ps->head = p;
	ps->tail = p;
}

size_t
ro_watchpend_count(const struct ro_watchpend *ps)
{
	return ps->by_path.n;
}

int
ro_watchpend_touch(struct ro_watchpend *ps, const char *path, long long due)
{
	struct ro_watchpend_ent	*p;

	if ((p = ro_strmap_get(&ps->by_path, path)) != NULL) {
		p->due = due;
		if (p != ps->tail) {
			list_unlink(ps, p);
			list_append(ps, p);
		}
		return RO_OK;
	}
	if (ps->by_path.n >= ps->max)
		return RO_ETOOBIG;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return RO_ENOMEM;
	if ((p->path = strdup(path)) == NULL ||
	    ro_strmap_put(&ps->by_path, path, p) < 0) {
		free(p->path);
		free(p);
		return RO_ENOMEM;
	}
	p->due = due;
	list_append(ps, p);
	return RO_OK;
}

long long
ro_watchpend_next_due(const struct ro_watchpend *ps)
{
	return ps->head != NULL ? ps->head->due : -1;
}

int
ro_watchpend_take(struct ro_watchpend *ps, long long now, struct ro_strv *out)
{
	struct ro_watchpend_ent	*p;

	while ((p = ps->head) != NULL && p->due <= now) {
		if (ro_strv_push(out, p->path) < 0)
			return RO_ENOMEM;
		list_unlink(ps, p);
		(void)ro_strmap_del(&ps->by_path, p->path);
		free(p->path);
		free(p);
	}
	return RO_OK;
}

void
ro_watchpend_clear(struct ro_watchpend *ps)
{
	struct ro_watchpend_ent	*p, *next;

	for (p = ps->head; p != NULL; p = next) {
		next = p->next;
		free(p->path);
		free(p);
	}
	ps->head = ps->tail = NULL;
	ro_strmap_release(&ps->by_path);
}
