/*
 * faults.c: fault injection rules of roomserver-sim.
 *
 * A rule has a kind and optional filters (route template, method), a rate
 * (the fraction of matching requests it fires for, default 1) and a count
 * (how many times it may fire; absent is unlimited):
 *   delay      wait ms milliseconds, then answer normally (or as another
 *              rule says)
 *   status     answer status instead of serving the request
 *   fail_next  the same with count (default 1) and status (default 503)
 *   drop       close the connection without an answer
 * For each request every delay rule that fires adds its time; among the
 * other rules the first that fires, in the order they were added, decides
 * the answer. Rules are written as JSON (POST /_sim/faults) or as
 * "kind,key=value,..." (--fault), which is turned into the same JSON.
 * One mutex guards the table; a request with no rules takes no lock.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"

#include "../common/banned.h"

#define SPEC_MAX	1024	/* bytes of one --fault SPEC */
#define COUNT_MAX	1000000000L
#define RETRY_AFTER_MAX	3600	/* seconds */

enum rule_kind { K_DELAY, K_STATUS, K_FAIL_NEXT, K_DROP };

static const char *const kind_names[] = {
	"delay", "status", "fail_next", "drop"
};

struct rule {
	unsigned	 id;
	enum rule_kind	 kind;
	unsigned	 ms;
	int		 status;
	double		 rate;
	long		 remaining;	/* -1: unlimited */
	int		 tmpl;		/* -1: any route */
	int		 method;	/* -1: any method */
	int		 retry_after;	/* seconds; -1: no header */
	uint64_t	 hits;
};

struct faults {
	pthread_mutex_t	 lock;
	struct rule	 rules[SIM_FAULTS_MAX];
	size_t		 n;
	atomic_size_t	 active;	/* n, read without the lock */
	unsigned	 next_id;
	uint64_t	 rng;
	uint64_t	 n_delay, n_status, n_drop;
};

int
faults_new(struct faults **out)
{
	struct faults	*f;
	struct timespec	 ts;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return RO_ENOMEM;
	if (pthread_mutex_init(&f->lock, NULL) != 0) {
		free(f);
		return RO_ENOMEM;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	f->rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^
	    ((uint64_t)getpid() << 40) ^ 0x9e3779b97f4a7c15ull;
	f->next_id = 1;
	*out = f;
	return RO_OK;
}

void
faults_free(struct faults *f)
{
	if (f == NULL)
		return;
	pthread_mutex_destroy(&f->lock);
	free(f);
}

/* xorshift64*: uniform in [0, 1). Caller holds the lock. */
static double
rand01(struct faults *f)
{
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return (double)((f->rng * 2685821657736338717ull) >> 11) * 0x1.0p-53;
}

static int
num(const cJSON *o, const char *key, double min, double max, bool integral,
    double *out, struct ro_err *err)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (v == NULL)
		return RO_ENOTFOUND;
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
	    v->valuedouble < min || v->valuedouble > max ||
	    (integral && v->valuedouble != floor(v->valuedouble)))
		return ro_err_set(err, RO_EINVALID, "%s: not a%s number in "
		    "%g..%g", key, integral ? "n integer" : "", min, max);
	*out = v->valuedouble;
	return RO_OK;
}

static int
rule_from_json(struct rule *r, const cJSON *o, struct ro_err *err)
{
	static const char *const keys[] = {
		"kind", "ms", "status", "rate", "count", "route", "method",
		"retryAfter"
	};
	const cJSON	*v, *it;
	double		 d = 0;
	size_t		 i;
	int		 error;

	memset(r, 0, sizeof(*r));
	r->rate = 1.0;
	r->remaining = -1;
	r->tmpl = r->method = r->retry_after = -1;
	if (!cJSON_IsObject(o))
		return ro_err_set(err, RO_EINVALID, "a fault is not an object");
	cJSON_ArrayForEach(it, o) {
		for (i = 0; i < RO_NELEM(keys); i++)
			if (strcmp(it->string, keys[i]) == 0)
				break;
		if (i == RO_NELEM(keys))
			return ro_err_set(err, RO_EINVALID, "unknown key "
			    "\"%.64s\" (kind ms status rate count route "
			    "method retryAfter)", it->string);
	}
	v = cJSON_GetObjectItemCaseSensitive(o, "kind");
	for (i = 0; cJSON_IsString(v) && i < RO_NELEM(kind_names); i++)
		if (strcmp(v->valuestring, kind_names[i]) == 0 ||
		    (i == K_FAIL_NEXT && strcmp(v->valuestring,
		    "fail-next") == 0))
			break;
	if (!cJSON_IsString(v) || i == RO_NELEM(kind_names))
		return ro_err_set(err, RO_EINVALID, "kind: one of delay, "
		    "status, fail_next, drop");
	r->kind = (enum rule_kind)i;

	error = num(o, "ms", 0, SIM_DELAY_MS_MAX, true, &d, err);
	if (error == RO_OK && r->kind != K_DELAY)
		return ro_err_set(err, RO_EINVALID, "ms: only for delay");
	if (error == RO_ENOTFOUND && r->kind == K_DELAY)
		return ro_err_set(err, RO_EINVALID, "ms: required for delay");
	if (error < 0 && error != RO_ENOTFOUND)
		return error;
	r->ms = error == RO_OK ? (unsigned)d : 0;

	error = num(o, "status", 200, 599, true, &d, err);
	if (error == RO_OK && (r->kind == K_DELAY || r->kind == K_DROP))
		return ro_err_set(err, RO_EINVALID, "status: only for status "
		    "and fail_next");
	if (error == RO_ENOTFOUND && r->kind == K_STATUS)
		return ro_err_set(err, RO_EINVALID, "status: required");
	if (error < 0 && error != RO_ENOTFOUND)
		return error;
	r->status = error == RO_OK ? (int)d : 503;

	if ((error = num(o, "rate", 0, 1, false, &d, err)) == RO_OK)
		r->rate = d;
	else if (error != RO_ENOTFOUND)
		return error;
	if ((error = num(o, "count", 1, COUNT_MAX, true, &d, err)) == RO_OK)
		r->remaining = (long)d;
	else if (error != RO_ENOTFOUND)
		return error;
	else if (r->kind == K_FAIL_NEXT)
		r->remaining = 1;
	error = num(o, "retryAfter", 0, RETRY_AFTER_MAX, true, &d, err);
	if (error == RO_OK && (r->kind == K_DELAY || r->kind == K_DROP))
		return ro_err_set(err, RO_EINVALID, "retryAfter: only for "
		    "status and fail_next");
	if (error == RO_OK)
		r->retry_after = (int)d;
	else if (error != RO_ENOTFOUND)
		return error;

	v = cJSON_GetObjectItemCaseSensitive(o, "route");
	if (v != NULL && !(cJSON_IsString(v) &&
	    strcmp(v->valuestring, "*") == 0)) {
		if (!cJSON_IsString(v) ||
		    (r->tmpl = routes_tmpl_parse(v->valuestring)) < 0)
			return ro_err_set(err, RO_EINVALID, "route: not a route "
			    "template such as /room/{roomId}/join");
	}
	v = cJSON_GetObjectItemCaseSensitive(o, "method");
	if (v != NULL && !(cJSON_IsString(v) &&
	    strcmp(v->valuestring, "*") == 0)) {
		if (!cJSON_IsString(v) ||
		    (r->method = (int)routes_method_parse(v->valuestring)) ==
		    SIM_OTHER)
			return ro_err_set(err, RO_EINVALID, "method: GET, HEAD, "
			    "POST, PUT or DELETE");
	}
	return RO_OK;
}

static int
add_rules(struct faults *f, const struct rule *rs, size_t n,
    struct ro_err *err)
{
	size_t	i;
	int	error = RO_OK;

	pthread_mutex_lock(&f->lock);
	if (n > SIM_FAULTS_MAX - f->n)
		error = ro_err_set(err, RO_ETOOBIG, "more than %d fault rules",
		    SIM_FAULTS_MAX);
	for (i = 0; error == RO_OK && i < n; i++) {
		f->rules[f->n] = rs[i];
		f->rules[f->n].id = f->next_id++;
		f->n++;
	}
	atomic_store(&f->active, f->n);
	pthread_mutex_unlock(&f->lock);
	return error;
}

int
faults_add_json(struct faults *f, const cJSON *o, struct ro_err *err)
{
	struct rule	 rs[SIM_FAULTS_MAX];
	const cJSON	*list = o, *it;
	size_t		 n = 0;
	int		 error;

	if (cJSON_IsObject(o) &&
	    cJSON_GetObjectItemCaseSensitive(o, "faults") != NULL)
		list = cJSON_GetObjectItemCaseSensitive(o, "faults");
	if (cJSON_IsObject(list))
		return (error = rule_from_json(&rs[0], list, err)) < 0 ? error :
		    add_rules(f, rs, 1, err);
	if (!cJSON_IsArray(list))
		return ro_err_set(err, RO_EINVALID, "expected a fault, a list "
		    "of faults or {\"faults\": [...]}");
	cJSON_ArrayForEach(it, list) {
		if (n == SIM_FAULTS_MAX)
			return ro_err_set(err, RO_ETOOBIG, "more than %d fault "
			    "rules", SIM_FAULTS_MAX);
		if ((error = rule_from_json(&rs[n], it, err)) < 0)
			return error;
		n++;
	}
	return add_rules(f, rs, n, err);
}

/* "kind,key=value,..." into {"kind": kind, key: value, ...}. */
int
faults_add_spec(struct faults *f, const char *spec, struct ro_err *err)
{
	char	 copy[SPEC_MAX + 1];
	char	*item, *save = NULL, *eq, *end;
	cJSON	*o;
	double	 d;
	int	 error = RO_OK;

	if (strlen(spec) > SPEC_MAX)
		return ro_err_set(err, RO_ETOOBIG, "--fault: over %d bytes",
		    SPEC_MAX);
	snprintf(copy, sizeof(copy), "%s", spec);
	if ((o = cJSON_CreateObject()) == NULL)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	for (item = strtok_r(copy, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		if ((eq = strchr(item, '=')) == NULL) {
			if (cJSON_GetObjectItemCaseSensitive(o, "kind") !=
			    NULL) {
				error = ro_err_set(err, RO_EINVALID, "--fault "
				    "%s: \"%s\" is not key=value", spec, item);
				goto done;
			}
			if (!cJSON_AddStringToObject(o, "kind", item))
				goto nomem;
			continue;
		}
		*eq++ = '\0';
		if (cJSON_GetObjectItemCaseSensitive(o, item) != NULL) {
			error = ro_err_set(err, RO_EINVALID, "--fault %s: %s "
			    "given twice", spec, item);
			goto done;
		}
		errno = 0;
		d = strtod(eq, &end);
		if (strcmp(item, "route") != 0 && strcmp(item, "method") != 0 &&
		    strcmp(item, "kind") != 0) {
			if (errno != 0 || end == eq || *end != '\0') {
				error = ro_err_set(err, RO_EINVALID, "--fault "
				    "%s: %s: not a number", spec, item);
				goto done;
			}
			if (!cJSON_AddNumberToObject(o, item, d))
				goto nomem;
		} else if (!cJSON_AddStringToObject(o, item, eq))
			goto nomem;
	}
	if ((error = faults_add_json(f, o, err)) < 0 && err != NULL) {
		char	why[RO_ERR_MSG_MAX];

		snprintf(why, sizeof(why), "%s", err->msg);
		ro_err_set(err, error, "--fault %s: %s", spec, why);
	}
	goto done;
nomem:
	error = ro_err_set(err, RO_ENOMEM, "out of memory");
done:
	cJSON_Delete(o);
	return error;
}

void
faults_clear(struct faults *f)
{
	pthread_mutex_lock(&f->lock);
	f->n = 0;
	atomic_store(&f->active, 0);
	pthread_mutex_unlock(&f->lock);
}

int
faults_remove(struct faults *f, unsigned id)
{
	size_t	i;
	int	error = RO_ENOTFOUND;

	pthread_mutex_lock(&f->lock);
	for (i = 0; i < f->n; i++)
		if (f->rules[i].id == id) {
			memmove(&f->rules[i], &f->rules[i + 1],
			    (f->n - i - 1) * sizeof(f->rules[0]));
			f->n--;
			error = RO_OK;
			break;
		}
	atomic_store(&f->active, f->n);
	pthread_mutex_unlock(&f->lock);
	return error;
}

static cJSON *
rule_to_json(const struct rule *r)
{
	cJSON	*o;

	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	if (!cJSON_AddNumberToObject(o, "id", r->id) ||
	    !cJSON_AddStringToObject(o, "kind", kind_names[r->kind]) ||
	    (r->kind == K_DELAY &&
	    !cJSON_AddNumberToObject(o, "ms", r->ms)) ||
	    ((r->kind == K_STATUS || r->kind == K_FAIL_NEXT) &&
	    !cJSON_AddNumberToObject(o, "status", r->status)) ||
	    (r->retry_after >= 0 &&
	    !cJSON_AddNumberToObject(o, "retryAfter", r->retry_after)) ||
	    !cJSON_AddNumberToObject(o, "rate", r->rate) ||
	    !cJSON_AddStringToObject(o, "route", r->tmpl >= 0 ?
	    routes_tmpl_str((enum sim_tmpl)r->tmpl) : "*") ||
	    !cJSON_AddStringToObject(o, "method", r->method >= 0 ?
	    routes_method_str((enum sim_method)r->method) : "*") ||
	    (r->remaining >= 0 ?
	    !cJSON_AddNumberToObject(o, "remaining", (double)r->remaining) :
	    !cJSON_AddNullToObject(o, "remaining")) ||
	    !cJSON_AddNumberToObject(o, "hits", (double)r->hits)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

cJSON *
faults_to_json(struct faults *f)
{
	cJSON	*o, *arr;
	size_t	 i;

	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	if ((arr = cJSON_AddArrayToObject(o, "faults")) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	pthread_mutex_lock(&f->lock);
	for (i = 0; i < f->n; i++)
		if (!cJSON_AddItemToArray(arr, rule_to_json(&f->rules[i]))) {
			cJSON_Delete(o);
			o = NULL;
			break;
		}
	pthread_mutex_unlock(&f->lock);
	return o;
}

void
faults_eval(struct faults *f, enum sim_tmpl t, enum sim_method m,
    struct faults_outcome *out)
{
	struct rule	*r;
	size_t		 i;

	out->delay_ms = 0;
	out->action = FAULTS_NONE;
	out->status = 0;
	out->retry_after = -1;
	if (atomic_load(&f->active) == 0)
		return;
	pthread_mutex_lock(&f->lock);
	for (i = 0; i < f->n; i++) {
		r = &f->rules[i];
		if (r->remaining == 0 ||
		    (r->tmpl >= 0 && r->tmpl != (int)t) ||
		    (r->method >= 0 && r->method != (int)m) ||
		    (r->kind != K_DELAY && out->action != FAULTS_NONE))
			continue;
		if (r->rate < 1.0 && rand01(f) >= r->rate)
			continue;
		r->hits++;
		if (r->remaining > 0)
			r->remaining--;
		switch (r->kind) {
		case K_DELAY:
			out->delay_ms += r->ms;
			if (out->delay_ms > SIM_DELAY_MS_MAX)
				out->delay_ms = SIM_DELAY_MS_MAX;
			f->n_delay++;
			break;
		case K_STATUS:
		case K_FAIL_NEXT:
			out->action = FAULTS_STATUS;
			out->status = r->status;
			out->retry_after = r->retry_after;
			f->n_status++;
			break;
		case K_DROP:
			out->action = FAULTS_DROP;
			f->n_drop++;
			break;
		}
	}
	pthread_mutex_unlock(&f->lock);
}

void
faults_counts(struct faults *f, uint64_t *delays, uint64_t *statuses,
    uint64_t *drops)
{
	pthread_mutex_lock(&f->lock);
	*delays = f->n_delay;
	*statuses = f->n_status;
	*drops = f->n_drop;
	pthread_mutex_unlock(&f->lock);
}
