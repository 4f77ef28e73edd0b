/* planout.c: one room of `roomops plan` as Markdown or JSON. */
#include <stdio.h>
#include <string.h>

#include "planout.h"

#include "../common/banned.h"

bool
ro_planout_converged(const struct ro_planout_room *r)
{
	return r->status == RO_PLANOUT_PLANNED &&
	    ro_plan_converged(r->plan) && r->plan->n_blocked == 0;
}

/* Inline code, backticks in the text replaced (ids never hold any). */
static int
code(struct ro_buf *out, const char *s)
{
	int	error;

	if ((error = ro_buf_addch(out, '`')) < 0)
		return error;
	for (; *s != '\0'; s++)
		if ((error = ro_buf_addch(out, *s == '`' ? '\'' : *s)) < 0)
			return error;
	return ro_buf_addch(out, '`');
}

/* "- what (n): `a`, `b`, and 3 more" for a non-empty array of strings. */
static int
list(struct ro_buf *out, const char *what, const cJSON *arr)
{
	const cJSON	*v;
	int		 n = cJSON_GetArraySize(arr), i = 0, error;

	if (n == 0)
		return RO_OK;
	if ((error = ro_buf_printf(out, "- %s (%d): ", what, n)) < 0)
		return error;
	cJSON_ArrayForEach(v, arr) {
		if (!cJSON_IsString(v))
			continue;
		if (i == RO_PLANOUT_LIST_MAX)
			break;
		if ((i > 0 && (error = ro_buf_addstr(out, ", ")) < 0) ||
		    (error = code(out, v->valuestring)) < 0)
			return error;
		i++;
	}
	if (n > i && (error = ro_buf_printf(out, ", and %d more", n - i)) < 0)
		return error;
	return ro_buf_addch(out, '\n');
}

static int
blocked(struct ro_buf *out, const struct ro_plan *plan)
{
	size_t	i;
	int	error;

	if (plan->n_blocked == 0)
		return RO_OK;
	if ((error = ro_buf_printf(out, "- blocked (%zu): ",
	    plan->n_blocked)) < 0)
		return error;
	for (i = 0; i < plan->n_blocked && i < RO_PLANOUT_LIST_MAX; i++)
		if ((i > 0 && (error = ro_buf_addstr(out, ", ")) < 0) ||
		    (error = ro_buf_printf(out, "%s ",
		    ro_op_name(plan->blocked[i].op))) < 0 ||
		    (error = code(out, plan->blocked[i].id)) < 0 ||
		    (error = ro_buf_printf(out, " (%s)",
		    plan->blocked[i].reason)) < 0)
			return error;
	if (plan->n_blocked > i && (error = ro_buf_printf(out, ", and %zu "
	    "more", plan->n_blocked - i)) < 0)
		return error;
	return ro_buf_addch(out, '\n');
}

static int
errors(struct ro_buf *out, const struct ro_strv *errs)
{
	size_t	i, len;
	int	error;

	if (errs == NULL || errs->n == 0)
		return RO_OK;
	if ((error = ro_buf_addstr(out, "\n```\n")) < 0)
		return error;
	for (i = 0; i < errs->n && i < RO_PLANOUT_LIST_MAX; i++) {
		len = strcspn(errs->v[i], "\n`");
		if (len > RO_PLANOUT_LINE_MAX)
			len = RO_PLANOUT_LINE_MAX;
		if ((error = ro_buf_printf(out, "%.*s\n", (int)len,
		    errs->v[i])) < 0)
			return error;
	}
	if (errs->n > i && (error = ro_buf_printf(out, "(and %zu more)\n",
	    errs->n - i)) < 0)
		return error;
	return ro_buf_addstr(out, "```\n");
}

int
ro_planout_markdown(const struct ro_planout_room *r, struct ro_buf *out)
{
	cJSON	*d = NULL;
	int	 error;

	if ((error = ro_buf_addstr(out, "### ")) < 0 ||
	    (error = code(out, r->room_id != NULL ? r->room_id :
	    "(unknown room)")) < 0 ||
	    (error = ro_buf_printf(out, " (%s%s", r->change != NULL ?
	    r->change : "", r->change != NULL ? ": " : "")) < 0 ||
	    (error = code(out, r->file != NULL ? r->file : "?")) < 0 ||
	    (error = ro_buf_addstr(out, ")\n\n")) < 0)
		return error;
	if (r->note != NULL && (error = ro_buf_printf(out, "%s\n\n",
	    r->note)) < 0)
		return error;
	switch (r->status) {
	case RO_PLANOUT_INVALID:
		if ((error = ro_buf_addstr(out, "- **invalid spec**: nothing "
		    "would be applied to this room\n")) < 0)
			return error;
		if ((error = errors(out, r->errors)) < 0)
			return error;
		return ro_buf_addch(out, '\n');
	case RO_PLANOUT_ERROR:
		if ((error = ro_buf_addstr(out, "- **error**: not planned\n")) <
		    0 || (error = errors(out, r->errors)) < 0)
			return error;
		return ro_buf_addch(out, '\n');
	case RO_PLANOUT_SKIPPED:
		return ro_buf_addstr(out, "- nothing to do\n\n");
	case RO_PLANOUT_PLANNED:
		break;
	}
	if (ro_planout_converged(r))
		return ro_buf_addstr(out, "- no changes: the room already "
		    "matches\n\n");
	if ((d = ro_plan_to_json(r->plan)) == NULL)
		return RO_ENOMEM;
	if ((error = list(out, "join", cJSON_GetObjectItem(d, "toJoin"))) < 0 ||
	    (error = list(out, "kick", cJSON_GetObjectItem(d, "toKick"))) < 0 ||
	    (error = list(out, "update", cJSON_GetObjectItem(d,
	    "toUpdate"))) < 0 ||
	    (error = list(out, "seed", cJSON_GetObjectItem(d, "toSeed"))) < 0 ||
	    (error = list(out, "promote", cJSON_GetObjectItem(d,
	    "toPromote"))) < 0 ||
	    (error = list(out, "delete artifact", cJSON_GetObjectItem(d,
	    "toDeleteArtifacts"))) < 0 ||
	    (error = list(out, "policies", cJSON_GetObjectItem(d,
	    "toApply"))) < 0 ||
	    (error = blocked(out, r->plan)) < 0)
		goto done;
	if (r->guard->needs_confirm && (error = ro_buf_printf(out,
	    "- **needs confirmation**: removes %zu of %zu entities and "
	    "artifacts (removal ratio %.2f)\n", r->removals, r->present,
	    r->guard->ratio)) < 0)
		goto done;
	if (r->trailer && r->guard->ratio > 0 && (error = ro_buf_printf(out,
	    "- removals confirmed by a `Roomops-Confirm` trailer "
	    "(removal ratio %.2f)\n", r->guard->ratio)) < 0)
		goto done;
	if (r->guard->deferred > 0 && (error = ro_buf_printf(out,
	    "- **deferred by the per-cycle budgets**: %zu removal%s\n",
	    r->guard->deferred, r->guard->deferred == 1 ? "" : "s")) < 0)
		goto done;
	error = ro_buf_addch(out, '\n');
done:
	cJSON_Delete(d);
	return error;
}

cJSON *
ro_planout_json(const struct ro_planout_room *r)
{
	cJSON		*o, *arr, *diff;
	size_t		 i;
	static const char *const names[] = { "planned", "invalid", "error",
	    "skipped" };

	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	if ((r->room_id != NULL ? cJSON_AddStringToObject(o, "roomId",
	    r->room_id) : cJSON_AddNullToObject(o, "roomId")) == NULL ||
	    cJSON_AddStringToObject(o, "file", r->file != NULL ? r->file :
	    "") == NULL ||
	    (r->change != NULL && cJSON_AddStringToObject(o, "change",
	    r->change) == NULL) ||
	    cJSON_AddStringToObject(o, "status", names[r->status]) == NULL)
		goto oom;
	if (r->note != NULL && cJSON_AddStringToObject(o, "note", r->note) ==
	    NULL)
		goto oom;
	if (r->status == RO_PLANOUT_SKIPPED)
		return o;
	if (r->status != RO_PLANOUT_PLANNED) {
		if ((arr = cJSON_AddArrayToObject(o, "errors")) == NULL)
			goto oom;
		for (i = 0; r->errors != NULL && i < r->errors->n; i++)
			if (!cJSON_AddItemToArray(arr, cJSON_CreateString(
			    r->errors->v[i])))
				goto oom;
		return o;
	}
	if (cJSON_AddBoolToObject(o, "converged",
	    ro_plan_converged(r->plan)) == NULL ||
	    cJSON_AddNumberToObject(o, "changes",
	    (double)ro_plan_count(r->plan)) == NULL ||
	    cJSON_AddNumberToObject(o, "removalRatio", r->guard->ratio) ==
	    NULL ||
	    cJSON_AddBoolToObject(o, "needsConfirmation",
	    r->guard->needs_confirm) == NULL ||
	    cJSON_AddNumberToObject(o, "deferred",
	    (double)r->guard->deferred) == NULL ||
	    (r->trailer && cJSON_AddBoolToObject(o, "confirmedByTrailer",
	    true) == NULL) ||
	    (diff = ro_plan_to_json(r->plan)) == NULL)
		goto oom;
	if (!cJSON_AddItemToObject(o, "diff", diff)) {
		cJSON_Delete(diff);
		goto oom;
	}
	return o;
oom:
	cJSON_Delete(o);
	return NULL;
}
