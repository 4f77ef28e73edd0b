/* rooms.c: the table of room status, a hash map under one mutex. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/audit.h"
#include "roomops/strmap.h"
#include "rooms.h"

#include "../common/banned.h"


struct room {
	char		*id;
	char		*file;
	char		*last_rev;
	char		*confirm_rev;	/* confirmed revision, "*" any */
	char		 last_ts[RO_TS_LEN + 1];
	const char	*outcome;	/* static string */
	enum ro_phase	 phase;
	bool		 reconciling;
	bool		 suspended;
	bool		 converged;
	bool		 failed;
	unsigned long	 cycles_unconverged;
	cJSON		*pending;	/* diff not yet applied */
	struct ro_strv	 blocked;
	struct ro_strv	 errors;
};

struct ro_rooms {
	pthread_mutex_t	  mu;
	struct ro_strmap  by_id;	/* roomId -> struct room */
	struct room	**order;	/* insertion order */
	size_t		  n, cap;
	ro_rooms_notify_fn *notify;	/* set before sharing */
	void		 *notify_arg;
};

static void
notify(struct ro_rooms *r, const char *room_id)
{
	if (r->notify != NULL)
		r->notify(r->notify_arg, room_id);
}

int
ro_rooms_new(struct ro_rooms **out, struct ro_err *err)
{
	struct ro_rooms	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	pthread_mutex_init(&r->mu, NULL);
	*out = r;
	return RO_OK;
}

static void
room_free(struct room *rm)
{
	free(rm->id);
	free(rm->file);
	free(rm->last_rev);
	free(rm->confirm_rev);
	cJSON_Delete(rm->pending);
	ro_strv_release(&rm->blocked);
	ro_strv_release(&rm->errors);
	free(rm);
}

void
ro_rooms_free(struct ro_rooms *r)
{
	size_t	i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++)
		room_free(r->order[i]);
	free(r->order);
	ro_strmap_release(&r->by_id);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

static struct room *
find(struct ro_rooms *r, const char *id)
{
	return ro_strmap_get(&r->by_id, id);
}

static int
add_locked(struct ro_rooms *r, const char *id, const char *file,
    struct room **out)
{
	struct room	*rm, **order;
	size_t		 cap;

	if ((rm = find(r, id)) != NULL) {
		if (file != NULL && (rm->file == NULL ||
		    strcmp(rm->file, file) != 0)) {
			free(rm->file);
			rm->file = strdup(file);
		}
		*out = rm;
		return RO_OK;
	}
	if (r->n >= RO_ROOMS_MAX)
		return RO_ETOOBIG;
	if (r->n == r->cap) {
		cap = r->cap != 0 ? r->cap * 2 : 64;
		if ((order = reallocarray(r->order, cap, sizeof(*order))) ==
		    NULL)
			return RO_ENOMEM;
		r->order = order;
		r->cap = cap;
	}
	if ((rm = calloc(1, sizeof(*rm))) == NULL ||
	    (rm->id = strdup(id)) == NULL ||
	    (file != NULL && (rm->file = strdup(file)) == NULL) ||
	    ro_strmap_put(&r->by_id, id, rm) < 0) {
		if (rm != NULL)
			room_free(rm);
		return RO_ENOMEM;
	}
	rm->outcome = "unknown";
	r->order[r->n++] = rm;
	*out = rm;
	return RO_OK;
}

int
ro_rooms_add(struct ro_rooms *r, const char *room_id, const char *file)
{
	struct room	*rm;
	int		 error;

	pthread_mutex_lock(&r->mu);
	error = add_locked(r, room_id, file, &rm);
	pthread_mutex_unlock(&r->mu);
	return error;
}

bool
ro_rooms_known(struct ro_rooms *r, const char *room_id)
{
	bool	known;

	pthread_mutex_lock(&r->mu);
	known = find(r, room_id) != NULL;
	pthread_mutex_unlock(&r->mu);
	return known;
}

void
ro_rooms_remove(struct ro_rooms *r, const char *room_id)
{
	struct room	*rm;
	size_t		 i;

	pthread_mutex_lock(&r->mu);
	rm = ro_strmap_del(&r->by_id, room_id);
	for (i = 0; rm != NULL && i < r->n; i++)
		if (r->order[i] == rm) {
			memmove(&r->order[i], &r->order[i + 1],
			    (r->n - i - 1) * sizeof(*r->order));
			r->n--;
			break;
		}
	pthread_mutex_unlock(&r->mu);
	if (rm != NULL) {
		notify(r, room_id);	/* room_id may be rm->id */
		room_free(rm);
	}
}

void
ro_rooms_begin(struct ro_rooms *r, const char *room_id)
{
	struct room	*rm;

	pthread_mutex_lock(&r->mu);
	if (add_locked(r, room_id, NULL, &rm) == RO_OK) {
		rm->reconciling = true;
		rm->phase = RO_PHASE_PLANNING;
	}
	pthread_mutex_unlock(&r->mu);
	notify(r, room_id);
}

void
ro_rooms_end(struct ro_rooms *r, const char *room_id, const char *rev,
    const struct ro_reconcile_result *res, int error)
{
	struct room	*rm;

	pthread_mutex_lock(&r->mu);
	if (add_locked(r, room_id, NULL, &rm) != RO_OK)
		goto done;
	rm->reconciling = false;
	ro_now_iso(rm->last_ts);
	if (rev != NULL) {
		free(rm->last_rev);
		rm->last_rev = strdup(rev);
	}
	ro_strv_release(&rm->errors);
	ro_strv_release(&rm->blocked);
	cJSON_Delete(rm->pending);
	rm->pending = NULL;
	if (error < 0) {
		rm->failed = true;
		rm->converged = false;
		rm->outcome = "failed";
		rm->cycles_unconverged++;
		goto done;
	}
	rm->phase = res->phase;
	rm->outcome = res->outcome != NULL ? res->outcome : "unknown";
	rm->failed = res->failed;
	rm->converged = res->converged && !res->partial && !res->failed;
	ro_strv_copy(&rm->errors, &res->errors);
	ro_strv_copy(&rm->blocked, &res->blocked);
	if (rm->converged && rm->blocked.n == 0)
		rm->cycles_unconverged = 0;
	else
		rm->cycles_unconverged++;
done:
	pthread_mutex_unlock(&r->mu);
	notify(r, room_id);
}

void
ro_rooms_rejected(struct ro_rooms *r, const char *room_id, const char *rev,
    const struct ro_strv *errors)
{
	struct room	*rm;

	pthread_mutex_lock(&r->mu);
	if (add_locked(r, room_id, NULL, &rm) == RO_OK) {
		rm->outcome = "rejected";
		ro_now_iso(rm->last_ts);
		ro_strv_release(&rm->errors);
		ro_strv_copy(&rm->errors, errors);
		if (rev != NULL) {
			free(rm->last_rev);
			rm->last_rev = strdup(rev);
		}
	}
	pthread_mutex_unlock(&r->mu);
	notify(r, room_id);
}

void
ro_rooms_pending(struct ro_rooms *r, const char *room_id, const cJSON *diff)
{
	struct room	*rm;

	pthread_mutex_lock(&r->mu);
	if ((rm = find(r, room_id)) != NULL) {	/* a dry run adds no room */
		cJSON_Delete(rm->pending);
		rm->pending = diff != NULL ? cJSON_Duplicate(diff, true) : NULL;
	}
	pthread_mutex_unlock(&r->mu);
	notify(r, room_id);
}

int
ro_rooms_suspend(struct ro_rooms *r, const char *room_id, bool on)
{
	struct room	*rm;
	int		 error = RO_OK;

	pthread_mutex_lock(&r->mu);
	if ((rm = find(r, room_id)) == NULL)
		error = RO_ENOTFOUND;
	else
		rm->suspended = on;
	pthread_mutex_unlock(&r->mu);
	if (error == RO_OK)
		notify(r, room_id);
	return error;
}

bool
ro_rooms_suspended(struct ro_rooms *r, const char *room_id)
{
	struct room	*rm;
	bool		 on;

	pthread_mutex_lock(&r->mu);
	on = (rm = find(r, room_id)) != NULL && rm->suspended;
	pthread_mutex_unlock(&r->mu);
	return on;
}

int
ro_rooms_confirm(struct ro_rooms *r, const char *room_id, const char *rev)
{
	struct room	*rm;
	int		 error;

	pthread_mutex_lock(&r->mu);
	if ((error = add_locked(r, room_id, NULL, &rm)) == RO_OK) {
		free(rm->confirm_rev);
		if ((rm->confirm_rev = strdup(rev)) == NULL)
			error = RO_ENOMEM;
	}
	pthread_mutex_unlock(&r->mu);
	if (error == RO_OK)
		notify(r, room_id);
	return error;
}

bool
ro_rooms_confirmed(struct ro_rooms *r, const char *room_id, const char *rev)
{
	struct room	*rm;
	bool		 ok = false;

	pthread_mutex_lock(&r->mu);
	if ((rm = find(r, room_id)) != NULL && rm->confirm_rev != NULL)
		ok = strcmp(rm->confirm_rev, "*") == 0 ||
		    (rev != NULL && strcmp(rm->confirm_rev, rev) == 0);
	pthread_mutex_unlock(&r->mu);
	return ok;
}

static const char *const statuses[RO_ROOMS_NSTATUS] = RO_ROOMS_STATUSES;

/* Index into statuses[] (docs/dashboard.md "Statuses"). */
static size_t
room_status(const struct room *rm)
{
	if (rm->reconciling)
		return 2;			/* applying */
	if (strcmp(rm->outcome, "rejected") == 0)
		return 5;
	if (rm->failed)
		return 6;
	if (rm->blocked.n > 0)
		return 4;			/* held for confirmation */
	if (strcmp(rm->outcome, "partial") == 0)
		return 3;
	if (rm->converged)
		return 0;
	return 1;				/* pending */
}

static cJSON *
room_json(const struct room *rm)
{
	cJSON	*o;

	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "roomId", rm->id);
	cJSON_AddStringToObject(o, "currentPhase", rm->reconciling ?
	    ro_phase_name(rm->phase) : rm->converged ? "CONVERGED" :
	    ro_phase_name(rm->phase));
	cJSON_AddBoolToObject(o, "isReconciling", rm->reconciling);
	cJSON_AddStringToObject(o, "status", statuses[room_status(rm)]);
	if (rm->last_ts[0] != '\0')
		cJSON_AddStringToObject(o, "lastReconcile", rm->last_ts);
	else
		cJSON_AddNullToObject(o, "lastReconcile");
	if (rm->last_rev != NULL)
		cJSON_AddStringToObject(o, "lastRevision", rm->last_rev);
	else
		cJSON_AddNullToObject(o, "lastRevision");
	cJSON_AddStringToObject(o, "lastOutcome", rm->outcome);
	if (rm->pending != NULL)
		cJSON_AddItemToObject(o, "pendingDiff",
		    cJSON_Duplicate(rm->pending, true));
	else
		cJSON_AddNullToObject(o, "pendingDiff");
	cJSON_AddItemToObject(o, "blocked", ro_strv_to_json(&rm->blocked));
	cJSON_AddItemToObject(o, "errors", ro_strv_to_json(&rm->errors));
	cJSON_AddNumberToObject(o, "cyclesSinceConverged",
	    (double)rm->cycles_unconverged);
	cJSON_AddBoolToObject(o, "suspended", rm->suspended);
	if (rm->file != NULL)
		cJSON_AddStringToObject(o, "file", rm->file);
	return o;
}

cJSON *
ro_rooms_json(struct ro_rooms *r, const char *room_id)
{
	struct room	*rm;
	cJSON		*o = NULL;

	pthread_mutex_lock(&r->mu);
	if ((rm = find(r, room_id)) != NULL)
		o = room_json(rm);
	pthread_mutex_unlock(&r->mu);
	return o;
}

cJSON *
ro_rooms_json_all(struct ro_rooms *r)
{
	cJSON	*a;
	size_t	 i;

	if ((a = cJSON_CreateArray()) == NULL)
		return NULL;
	pthread_mutex_lock(&r->mu);
	for (i = 0; i < r->n; i++)
		cJSON_AddItemToArray(a, room_json(r->order[i]));
	pthread_mutex_unlock(&r->mu);
	return a;
}

void
ro_rooms_counts(struct ro_rooms *r, struct ro_rooms_counts *c)
{
	const struct room *rm;
	size_t		 i;

	memset(c, 0, sizeof(*c));
	pthread_mutex_lock(&r->mu);
	for (i = 0; i < r->n; i++) {
		rm = r->order[i];
		if (rm->suspended)
			c->suspended++;
		else if (rm->failed)
			c->failed++;
		else if (rm->converged && rm->blocked.n == 0)
			c->converged++;
		else if (rm->blocked.n > 0)
			c->blocked++;
		else
			c->pending++;
	}
	c->total = r->n;
	pthread_mutex_unlock(&r->mu);
}

int
ro_rooms_ids(struct ro_rooms *r, struct ro_strv *out)
{
	size_t	i;
	int	error = RO_OK;

	pthread_mutex_lock(&r->mu);
	for (i = 0; i < r->n && error == RO_OK; i++)
		error = ro_strv_push(out, r->order[i]->id);
	pthread_mutex_unlock(&r->mu);
	return error;
}

void
ro_rooms_set_notify(struct ro_rooms *r, ro_rooms_notify_fn *fn, void *arg)
{
	r->notify = fn;
	r->notify_arg = arg;
}

/* Items of the pending diff (every list of it). */
static size_t
drift(const struct room *rm)
{
	const cJSON	*it;
	size_t		 n = 0;

	if (rm->pending == NULL)
		return 0;
	cJSON_ArrayForEach(it, rm->pending)
		if (cJSON_IsArray(it) && strcmp(it->string, "blocked") != 0)
			n += (size_t)cJSON_GetArraySize(it);
	return n;
}

static cJSON *
row_json(const struct room *rm)
{
	cJSON	*o;

	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	if (cJSON_AddStringToObject(o, "roomId", rm->id) == NULL ||
	    cJSON_AddStringToObject(o, "status",
	    statuses[room_status(rm)]) == NULL ||
	    cJSON_AddBoolToObject(o, "suspended", rm->suspended) == NULL ||
	    (rm->last_rev != NULL ? cJSON_AddStringToObject(o, "lastRevision",
	    rm->last_rev) : cJSON_AddNullToObject(o, "lastRevision")) ==
	    NULL ||
	    cJSON_AddStringToObject(o, "lastOutcome", rm->outcome) == NULL ||
	    (rm->last_ts[0] != '\0' ? cJSON_AddStringToObject(o,
	    "lastReconcile", rm->last_ts) : cJSON_AddNullToObject(o,
	    "lastReconcile")) == NULL ||
	    cJSON_AddNumberToObject(o, "drift", (double)drift(rm)) == NULL ||
	    cJSON_AddNumberToObject(o, "errors", (double)rm->errors.n) ==
	    NULL ||
	    (rm->file != NULL ? cJSON_AddStringToObject(o, "file", rm->file) :
	    cJSON_AddNullToObject(o, "file")) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

cJSON *
ro_rooms_row(struct ro_rooms *r, const char *room_id)
{
	struct room	*rm;
	cJSON		*o = NULL;

	pthread_mutex_lock(&r->mu);
	if ((rm = find(r, room_id)) != NULL)
		o = row_json(rm);
	pthread_mutex_unlock(&r->mu);
	return o;
}

static bool
matches(const struct room *rm, const struct ro_rooms_query *q, size_t st)
{
	if (q->status != NULL) {
		if (strcmp(q->status, "suspended") == 0) {
			if (!rm->suspended)
				return false;
		} else if (strcmp(q->status, statuses[st]) != 0)
			return false;
	}
	if (q->q == NULL || q->q[0] == '\0')
		return true;
	return strcasestr(rm->id, q->q) != NULL ||
	    (rm->file != NULL && strcasestr(rm->file, q->q) != NULL);
}

cJSON *
ro_rooms_page(struct ro_rooms *r, const struct ro_rooms_query *q)
{
	size_t		 counts[RO_ROOMS_NSTATUS] = { 0 }, nsusp = 0;
	size_t		 i, st, matched = 0, limit;
	const struct room *rm;
	cJSON		*o, *rows, *c;
	bool		 ok = true;

	limit = q->limit > RO_ROOMS_PAGE_MAX ? RO_ROOMS_PAGE_MAX : q->limit;
	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	if ((rows = cJSON_AddArrayToObject(o, "rooms")) == NULL)
		goto oom;
	pthread_mutex_lock(&r->mu);
	for (i = 0; i < r->n; i++) {
		rm = r->order[i];
		st = room_status(rm);
		counts[st]++;
		if (rm->suspended)
			nsusp++;
		if (!matches(rm, q, st))
			continue;
		if (matched >= q->offset && matched - q->offset < limit && ok)
			ok = cJSON_AddItemToArray(rows, row_json(rm));
		matched++;
	}
	i = r->n;
	pthread_mutex_unlock(&r->mu);
	if (!ok ||
	    cJSON_AddNumberToObject(o, "total", (double)i) == NULL ||
	    cJSON_AddNumberToObject(o, "matched", (double)matched) == NULL ||
	    cJSON_AddNumberToObject(o, "offset", (double)q->offset) == NULL ||
	    cJSON_AddNumberToObject(o, "limit", (double)limit) == NULL ||
	    (c = cJSON_AddObjectToObject(o, "counts")) == NULL)
		goto oom;
	for (st = 0; st < RO_ROOMS_NSTATUS; st++)
		if (cJSON_AddNumberToObject(c, statuses[st],
		    (double)counts[st]) == NULL)
			goto oom;
	if (cJSON_AddNumberToObject(c, "suspended", (double)nsusp) == NULL)
		goto oom;
	return o;
oom:
	cJSON_Delete(o);
	return NULL;
}
