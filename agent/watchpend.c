/*
 * watchpend.c: the watcher's pending paths, by name (the string map) and
 * threaded on a list in order of due time. Every path's due time is its
 * last event plus the same debounce, so moving a touched path to the tail
 * keeps the list sorted: the head is always the next one due, and a
 * repeated event costs one lookup and no allocation. Rescans and moved
 * git refs are scheduled here too.
 */
#include <sys/inotify.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roomops/log.h"
#include "roomops/strmap.h"
#include "watch_impl.h"

#include "../common/banned.h"

void
ro_watchpend_list_unlink(struct ro_watch *w, struct pend *p)
{
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		w->head = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	else
		w->tail = p->prev;
	p->prev = p->next = NULL;
}

static void
list_append(struct ro_watch *w, struct pend *p)
{
	p->prev = w->tail;
	p->next = NULL;
	if (w->tail != NULL)
		w->tail->next = p;
	else
		w->head = p;
	w->tail = p;
}

void
ro_watchpend_unhash(struct ro_watch *w, struct pend *p)
{
	ro_strmap_del(&w->pmap, p->path);
	w->npend--;
}

void
ro_watchpend_clear(struct ro_watch *w)
{
	struct pend	*p, *next;

	for (p = w->head; p != NULL; p = next) {
		next = p->next;
		free(p->path);
		free(p);
	}
	w->head = w->tail = NULL;
	w->npend = 0;
	ro_strmap_release(&w->pmap);
}

/* Everything pending is subsumed by a rescan at now + debounce. */
void
ro_watchpend_schedule_rescan(struct ro_watch *w)
{
	ro_watchpend_clear(w);
	w->rescan = true;
	w->rescan_due = w->now + w->debounce;
}

void
ro_watchpend_schedule_ref(struct ro_watch *w)
{
	w->refmoved = true;
	w->ref_due = w->now + w->debounce;
}

/* Record an event on rel: due debounce ms from now. */
int
ro_watchpend_add(struct ro_watch *w, const char *rel, struct ro_err *err)
{
	struct pend	*p;

	if (w->rescan)
		return RO_OK;		/* the rescan will cover it */
	if ((p = ro_strmap_get(&w->pmap, rel)) != NULL) {
		p->due = w->now + w->debounce;
		if (p != w->tail) {
			ro_watchpend_list_unlink(w, p);
			list_append(w, p);
		}
		return RO_OK;
	}
	if (w->npend >= RO_WATCH_PENDING_MAX) {
		log_warnx("%s: more than %d changed paths pending, full rescan",
		    w->root, RO_WATCH_PENDING_MAX);
		ro_watchpend_schedule_rescan(w);
		return RO_OK;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		goto nomem;
	if ((p->path = strdup(rel)) == NULL ||
	    ro_strmap_put(&w->pmap, rel, p) < 0) {
		free(p->path);
		free(p);
		goto nomem;
	}
	p->due = w->now + w->debounce;
	w->npend++;
	list_append(w, p);
	return RO_OK;
nomem:
	ro_watchpend_schedule_rescan(w);
	return ro_err_set(err, RO_ENOMEM, "out of memory");
}
