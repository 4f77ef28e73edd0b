/* plangit.c: `roomops plan --git-diff`: plan the rooms of a pull request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "roomops/plan.h"
#include "roomops/state.h"
#include "cli.h"
#include "plangit.h"
#include "planout.h"

#include "../common/banned.h"

#define PLANGIT_OUT_MAX	(64u << 20)	/* bytes of Markdown */

bool
ro_plangit_range(char *range, struct ro_plandiff_opts *diff)
{
	char	*dots = strstr(range, "..");

	if (dots == NULL || dots == range)
		return false;
	*dots = '\0';
	diff->base = range;
	diff->merge_base = dots[2] == '.';
	diff->head = dots + (diff->merge_base ? 3 : 2);
	return diff->head[0] != '\0' && strstr(diff->head, "..") == NULL;
}

struct counts {
	size_t	added, changed, deleted;
	size_t	converged, pending, invalid, failed;
};

/* One room planned (or not), appended to the outputs. */
static int
one(const struct ro_plangit_args *a, const struct ro_plandiff *d,
    const struct ro_plandiff_item *it, struct counts *k, struct ro_buf *md,
    cJSON *rooms)
{
	struct ro_guard_opts	 gopts = a->guard;
	struct ro_planout_room	 r;
	struct ro_state		*st = NULL;
	struct ro_plan		 plan = RO_PLAN_INIT;
	struct ro_guard_result	 g;
	struct ro_strv		 errs = RO_STRV_INIT;
	struct ro_buf		 text = RO_BUF_INIT;
	struct ro_err		 err = RO_ERR_INIT;
	cJSON			*o;
	const char		*p;
	size_t			 i, len;
	int			 error = RO_OK;

	memset(&r, 0, sizeof(r));
	memset(&g, 0, sizeof(g));
	r.room_id = it->room_id;
	r.file = it->path;
	r.change = it->change;
	r.note = it->note;
	r.errors = &it->errors;
	if (strcmp(it->change, "added") == 0)
		k->added++;
	else if (strcmp(it->change, "deleted") == 0)
		k->deleted++;
	else
		k->changed++;
	if (it->moved) {
		r.status = RO_PLANOUT_SKIPPED;
		k->converged++;
	} else if (it->spec == NULL) {
		r.status = RO_PLANOUT_INVALID;
		k->invalid++;
	} else if ((error = a->state(a->state_arg, it->spec->room_id, &st,
	    &err)) < 0 || (error = ro_plan_build(&plan, it->spec, st,
	    &err)) < 0) {
		r.status = RO_PLANOUT_ERROR;
		if (ro_strv_push(&errs, err.msg[0] != '\0' ? err.msg :
		    ro_status_str(error)) < 0)
			goto oom;
		r.errors = &errs;
		k->failed++;
	} else {
		r.removals = plan.kick.n + plan.del.n;
		r.present = st->n_entities + st->n_artifacts;
		if (!gopts.confirmed && (ro_strv_contains(&d->confirms,
		    it->spec->room_id) || ro_strv_contains(&d->confirms,
		    "all")))
			gopts.confirmed = r.trailer = true;
		if ((error = ro_guard_apply(&plan, &gopts, &g, &err)) < 0)
			goto oom;
		r.status = RO_PLANOUT_PLANNED;
		r.plan = &plan;
		r.guard = &g;
		if (ro_planout_converged(&r))
			k->converged++;
		else
			k->pending++;
	}
	error = RO_OK;
	switch (a->output) {
	case RO_PLANGIT_MARKDOWN:
		error = ro_planout_markdown(&r, md);
		break;
	case RO_PLANGIT_JSON:
		if ((o = ro_planout_json(&r)) == NULL ||
		    !cJSON_AddItemToArray(rooms, o))
			goto oom;
		break;
	case RO_PLANGIT_TEXT:
		printf("%s (%s, %s): ", r.room_id != NULL ? r.room_id :
		    "(unknown room)", r.file, r.change);
		if (r.status == RO_PLANOUT_SKIPPED)
			printf("nothing to do\n");
		else if (r.status == RO_PLANOUT_INVALID)
			printf("invalid\n");
		else if (r.status == RO_PLANOUT_ERROR)
			printf("error\n");
		else if (ro_planout_converged(&r))
			printf("converged\n");
		else
			printf("%zu change%s%s\n", ro_plan_count(&plan),
			    ro_plan_count(&plan) == 1 ? "" : "s",
			    plan.n_blocked > 0 ? ", some blocked" : "");
		if (r.note != NULL)
			printf("    %s\n", r.note);
		for (i = 0; (r.status == RO_PLANOUT_INVALID || r.status ==
		    RO_PLANOUT_ERROR) && i < r.errors->n; i++)
			printf("    %s\n", r.errors->v[i]);
		if (r.status != RO_PLANOUT_PLANNED || ro_planout_converged(&r))
			break;
		ro_buf_init(&text, 0);
		if ((error = ro_plan_format_text(&plan, &text)) < 0)
			break;
		for (p = ro_buf_cstr(&text); *p != '\0'; p += len +
		    (p[len] == '\n')) {
			len = strcspn(p, "\n");
			printf("    %.*s\n", (int)len, p);
		}
		if (g.needs_confirm)
			printf("    needs confirmation: removes %zu of %zu "
			    "entities and artifacts\n", r.removals, r.present);
		break;
	}
	goto done;
oom:
	error = RO_ENOMEM;
done:
	ro_buf_release(&text);
	ro_strv_release(&errs);
	ro_plan_release(&plan);
	ro_state_free(st);
	return error;
}

int
ro_plangit_run(const struct ro_plangit_args *a)
{
	struct ro_plandiff	 d = RO_PLANDIFF_INIT;
	struct ro_err		 err = RO_ERR_INIT;
	struct ro_buf		 md = RO_BUF_INIT;
	struct counts		 k;
	cJSON			*out = NULL, *rooms = NULL, *sum;
	char			*json;
	size_t			 i;
	int			 error, rc = RO_EXIT_ERROR;

	memset(&k, 0, sizeof(k));
	ro_buf_init(&md, PLANGIT_OUT_MAX);
	if ((error = ro_plandiff_load(&d, &a->diff, &err)) < 0)
		goto fail;
	if ((out = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(out, "base", d.base) == NULL ||
	    cJSON_AddStringToObject(out, "head", d.head) == NULL ||
	    (rooms = cJSON_AddArrayToObject(out, "rooms")) == NULL)
		goto oom;
	for (i = 0; i < d.n; i++)
		if ((error = one(a, &d, &d.v[i], &k, &md, rooms)) < 0)
			goto oom;
	switch (a->output) {
	case RO_PLANGIT_MARKDOWN:
		printf("## RoomOps plan\n\n");
		if (d.n == 0)
			printf("No room specs changed between `%.12s` and "
			    "`%.12s`.\n", d.base, d.head);
		else
			printf("`%.12s..%.12s`: %zu room%s (%zu added, %zu "
			    "changed, %zu deleted): %zu with changes, %zu "
			    "converged, %zu invalid, %zu not planned.\n\n%s",
			    d.base, d.head, d.n, d.n == 1 ? "" : "s", k.added,
			    k.changed, k.deleted, k.pending, k.converged,
			    k.invalid, k.failed, ro_buf_cstr(&md));
		break;
	case RO_PLANGIT_JSON:
		if ((sum = cJSON_AddObjectToObject(out, "summary")) == NULL ||
		    cJSON_AddNumberToObject(sum, "rooms", (double)d.n) ==
		    NULL ||
		    cJSON_AddNumberToObject(sum, "added", (double)k.added) ==
		    NULL ||
		    cJSON_AddNumberToObject(sum, "changed",
		    (double)k.changed) == NULL ||
		    cJSON_AddNumberToObject(sum, "deleted",
		    (double)k.deleted) == NULL ||
		    cJSON_AddNumberToObject(sum, "withChanges",
		    (double)k.pending) == NULL ||
		    cJSON_AddNumberToObject(sum, "converged",
		    (double)k.converged) == NULL ||
		    cJSON_AddNumberToObject(sum, "invalid",
		    (double)k.invalid) == NULL ||
		    cJSON_AddNumberToObject(sum, "failed", (double)k.failed) ==
		    NULL || (json = cJSON_Print(out)) == NULL)
			goto oom;
		printf("%s\n", json);
		cJSON_free(json);
		break;
	case RO_PLANGIT_TEXT:
		printf("\n%.12s..%.12s: %zu room%s: %zu converged, %zu with "
		    "changes, %zu invalid%s\n", d.base, d.head, d.n, d.n == 1 ?
		    "" : "s", k.converged, k.pending, k.invalid, k.failed > 0 ?
		    ", some failed" : "");
		break;
	}
	fflush(stdout);
	rc = k.invalid > 0 || k.failed > 0 ? RO_EXIT_ERROR : k.pending > 0 ?
	    RO_EXIT_CHANGES : RO_EXIT_OK;
	goto done;
oom:
	ro_err_set(&err, RO_ENOMEM, "out of memory or output too large");
fail:
	fprintf(stderr, "roomops: %s\n", err.msg);
done:
	cJSON_Delete(out);
	ro_buf_release(&md);
	ro_plandiff_release(&d);
	return rc;
}
