/* cmd_plan.c: `roomops plan`: the diff of specs against a saved RoomState
 * file or a live RoomServer, without changing anything. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/client.h"
#include "roomops/file.h"
#include "roomops/guard.h"
#include "roomops/plan.h"
#include "roomops/specset.h"
#include "roomops/state.h"
#include "cli.h"
#include "plangit.h"
#include "planout.h"

#include "../common/banned.h"

struct plan_args {
	const char		*server;
	const char		*state_file;
	const char		*token_file;
	const char		*cacert;
	enum ro_output		 output;
	bool			 markdown;	/* --output markdown */
	struct ro_buf		 md;		/* its sections */
	struct ro_guard_opts	 guard;
};

/* The state of a room for --git-diff: the server or the state file. */
struct state_src {
	struct ro_client	*client;
	const cJSON		*states;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: roomops plan [--server URL | --state FILE] "
	    "[--output text|json|markdown] [options] PATH...\n"
	    "       roomops plan --git-diff BASE..HEAD [options] [PATH...]\n"
	    "       roomops plan --repo URL --base REV --head REV [options] "
	    "[PATH...]\n"
	    "Show what apply would change in each room, changing nothing.\n"
	    "With --git-diff (or --base/--head), only the rooms whose specs\n"
	    "(or seed files) changed between the two revisions of the Git\n"
	    "repository around the current folder (or --repo), PATHs being\n"
	    "spec folders from its root; BASE...HEAD diffs from the merge base.\n"
	    "  --git-diff BASE..HEAD     the revisions of a pull request\n"
	    "  --repo PATH|URL           repository (default: around the cwd)\n"
	    "  --base REV, --head REV    the revisions, one by one\n"
	    "  --prune                   say deleted specs are pruned\n"
	    "  --server URL              plan against a live RoomServer\n"
	    "  --state FILE              plan against saved RoomState JSON (an\n"
	    "                            object, an array, or {\"rooms\": [...]});\n"
	    "                            rooms not in it are empty\n"
	    "  --token-file F            RoomServer bearer token (default: env\n"
	    "                            ROOM_AUTH_TOKEN)\n"
	    "  --cacert F                CA bundle for an https server\n"
	    "  --output text|json|markdown (default text)\n"
	    RO_CLI_GUARD_HELP
	    "Exit: 0 converged, 1 changes pending, 2 error.\n");
}

/* Every RoomState of the file, as a cJSON array (caller frees). */
static int
load_states(const char *path, cJSON **out, struct ro_err *err)
{
	struct ro_buf	 b = RO_BUF_INIT;
	cJSON		*doc = NULL, *arr = NULL, *rooms;
	int		 error;

	ro_buf_init(&b, RO_STATE_JSON_MAX + 1);
	if ((error = ro_file_read(path, RO_STATE_JSON_MAX, &b, err)) < 0)
		goto done;
	if ((doc = cJSON_ParseWithLength(ro_buf_cstr(&b), b.len)) == NULL) {
		error = ro_err_set(err, RO_EINVALID, "%s: not valid JSON", path);
		goto done;
	}
	if (cJSON_IsArray(doc)) {
		arr = doc;
		doc = NULL;
	} else if (cJSON_IsObject(doc) && (rooms =
	    cJSON_GetObjectItemCaseSensitive(doc, "rooms")) != NULL &&
	    cJSON_IsArray(rooms)) {
		arr = cJSON_DetachItemViaPointer(doc, rooms);
	} else if (cJSON_IsObject(doc)) {
		if ((arr = cJSON_CreateArray()) == NULL) {
			error = ro_err_set(err, RO_ENOMEM, "out of memory");
			goto done;
		}
		cJSON_AddItemToArray(arr, doc);
		doc = NULL;
	} else {
		error = ro_err_set(err, RO_EINVALID, "%s: expected a RoomState "
		    "object or an array of them", path);
		goto done;
	}
	*out = arr;
	arr = NULL;
done:
	cJSON_Delete(doc);
	cJSON_Delete(arr);
	ro_buf_release(&b);
	return error;
}

static int
state_from_file(const cJSON *states, const char *room_id,
    struct ro_state **out, struct ro_err *err)
{
	const cJSON	*s, *id;
	int		 error;

	cJSON_ArrayForEach(s, states) {
		id = cJSON_GetObjectItemCaseSensitive(s, "roomId");
		if (!cJSON_IsString(id) || strcmp(id->valuestring, room_id) != 0)
			continue;
		if ((error = ro_state_from_json(out, s, err)) < 0)
			return ro_err_set(err, error, "state of %s: %.200s",
			    room_id, err != NULL ? err->msg : "");
		return RO_OK;
	}
	return ro_state_new_empty(out, room_id, err);
}

static int
print_room(struct plan_args *a, const struct ro_spec *spec,
    const struct ro_plan *plan, const struct ro_guard_result *g,
    size_t removals, cJSON *rooms)
{
	struct ro_buf	 text = RO_BUF_INIT;
	cJSON		*o, *diff;
	size_t		 n = ro_plan_count(plan);
	int		 error;

	if (a->markdown) {
		struct ro_planout_room	r;

		memset(&r, 0, sizeof(r));
		r.room_id = spec->room_id;
		r.file = spec->path;
		r.status = RO_PLANOUT_PLANNED;
		r.plan = plan;
		r.guard = g;
		r.removals = removals;
		r.present = plan->state->n_entities +
		    plan->state->n_artifacts;
		return ro_planout_markdown(&r, &a->md);
	}
	if (a->output == RO_OUTPUT_JSON) {
		if ((o = cJSON_CreateObject()) == NULL ||
		    !cJSON_AddItemToArray(rooms, o) ||
		    !cJSON_AddStringToObject(o, "roomId", spec->room_id) ||
		    !cJSON_AddStringToObject(o, "file", spec->path) ||
		    !cJSON_AddBoolToObject(o, "converged",
		    ro_plan_converged(plan)) ||
		    !cJSON_AddNumberToObject(o, "changes", (double)n) ||
		    !cJSON_AddNumberToObject(o, "removalRatio", g->ratio) ||
		    (diff = ro_plan_to_json(plan)) == NULL ||
		    !cJSON_AddItemToObject(o, "diff", diff))
			return RO_ENOMEM;
		return RO_OK;
	}
	if (n == 0 && plan->n_blocked == 0)
		printf("%s (%s): converged\n", spec->room_id, spec->path);
	else
		printf("%s (%s): %zu change%s%s\n", spec->room_id, spec->path,
		    n, n == 1 ? "" : "s", plan->n_blocked > 0 ?
		    ", some blocked" : "");
	if (n == 0 && plan->n_blocked == 0)
		return RO_OK;
	ro_buf_init(&text, 0);
	if ((error = ro_plan_format_text(plan, &text)) == RO_OK) {
		const char	*p = ro_buf_cstr(&text);
		size_t		 len;

		for (; *p != '\0'; p += len + (p[len] == '\n')) {
			len = strcspn(p, "\n");
			printf("    %.*s\n", (int)len, p);
		}
	}
	ro_buf_release(&text);
	return error;
}

static int
room_state(void *arg, const char *room_id, struct ro_state **out,
    struct ro_err *err)
{
	struct state_src	*ss = arg;

	if (ss->client != NULL)
		return ro_client_get_state(ss->client, room_id, out, err);
	return state_from_file(ss->states, room_id, out, err);
}

int
cmd_plan(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "state", required_argument, NULL, 'S' },
		{ "token-file", required_argument, NULL, 't' },
		{ "cacert", required_argument, NULL, 'c' },
		{ "output", required_argument, NULL, 'o' },
		{ "git-diff", required_argument, NULL, 'G' },
		{ "repo", required_argument, NULL, 'R' },
		{ "base", required_argument, NULL, 'B' },
		{ "head", required_argument, NULL, 'H' },
		{ "prune", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		RO_CLI_GUARD_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	struct plan_args	 a = { .guard = RO_GUARD_OPTS_INIT };
	struct ro_plangit_args	 ga;
	struct state_src	 ss;
	bool			 git = false;
	struct ro_specset	*set = NULL;
	struct ro_client	*client = NULL;
	struct ro_client_opts	 copts;
	struct ro_err		 err = RO_ERR_INIT;
	cJSON			*states = NULL, *out = NULL, *rooms = NULL;
	char			*token = NULL, *json;
	size_t			 i, pending = 0, failed = 0;
	int			 ch, r, rc = RO_EXIT_ERROR;

	memset(&ga, 0, sizeof(ga));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if ((r = ro_cli_guard_opt(ch, optarg, &a.guard)) != 0) {
			if (r < 0)
				return RO_EXIT_ERROR;
			continue;
		}
		switch (ch) {
		case 's': a.server = optarg; break;
		case 'S': a.state_file = optarg; break;
		case 't': a.token_file = optarg; break;
		case 'c': a.cacert = optarg; break;
		case 'o':
			if (strcmp(optarg, "markdown") == 0) {
				a.markdown = true;
				break;
			}
			a.markdown = false;
			if (!ro_cli_output(optarg, &a.output))
				return RO_EXIT_ERROR;
			break;
		case 'G':
			if (!ro_plangit_range(optarg, &ga.diff)) {
				fprintf(stderr, "roomops: --git-diff: expected "
				    "BASE..HEAD or BASE...HEAD\n");
				return RO_EXIT_ERROR;
			}
			git = true;
			break;
		case 'R': ga.diff.repo = optarg; break;
		case 'B': ga.diff.base = optarg; git = true; break;
		case 'H': ga.diff.head = optarg; git = true; break;
		case 'P': ga.diff.prune = true; break;
		case 'h': usage(stdout); return RO_EXIT_OK;
		default: usage(stderr); return RO_EXIT_ERROR;
		}
	}
	if ((optind >= argc && !git) || (a.server != NULL &&
	    a.state_file != NULL) || (git && (ga.diff.base == NULL ||
	    ga.diff.head == NULL)) || (!git && ga.diff.repo != NULL)) {
		usage(stderr);
		return RO_EXIT_ERROR;
	}
	if (a.state_file != NULL && load_states(a.state_file, &states,
	    &err) < 0)
		goto fail;
	if (a.server != NULL) {
		memset(&copts, 0, sizeof(copts));
		if (ro_cli_secret(a.token_file, "ROOM_AUTH_TOKEN", &token,
		    &err) < 0 || ro_client_global_init(&err) < 0)
			goto fail;
		copts.base_url = a.server;
		copts.token = token;
		copts.cacert = a.cacert;
		if (ro_client_new(&client, &copts, &err) < 0)
			goto fail;
	}
	if (git) {
		ss.client = client;
		ss.states = states;
		ga.diff.paths = (const char *const *)(argv + optind);
		ga.diff.n_paths = (size_t)(argc - optind);
		ga.output = a.markdown ? RO_PLANGIT_MARKDOWN :
		    a.output == RO_OUTPUT_JSON ? RO_PLANGIT_JSON :
		    RO_PLANGIT_TEXT;
		ga.guard = a.guard;
		ga.state = room_state;
		ga.state_arg = &ss;
		rc = ro_plangit_run(&ga);
		goto done;
	}
	if (ro_cli_specset(&set, argv + optind, (size_t)(argc - optind),
	    false, &err) < 0)
		goto fail;
	if ((out = cJSON_CreateObject()) == NULL ||
	    (rooms = cJSON_AddArrayToObject(out, "rooms")) == NULL)
		goto oom;
	for (i = 0; i < set->n; i++) {
		struct ro_spec		*spec = set->specs[i];
		struct ro_state		*st = NULL;
		struct ro_plan		 plan = RO_PLAN_INIT;
		struct ro_guard_result	 g;
		size_t			 removals = 0;
		int			 error;

		ro_err_clear(&err);
		if (client != NULL)
			error = ro_client_get_state(client, spec->room_id, &st,
			    &err);
		else
			error = state_from_file(states, spec->room_id, &st,
			    &err);
		if (error == RO_OK &&
		    (error = ro_plan_build(&plan, spec, st, &err)) == RO_OK) {
			removals = plan.kick.n + plan.del.n;
			if ((error = ro_guard_apply(&plan, &a.guard, &g,
			    &err)) == RO_OK)
				error = print_room(&a, spec, &plan, &g,
				    removals, rooms);
		}
		if (error < 0) {
			fprintf(stderr, "error: %s: %s\n", spec->room_id,
			    err.msg[0] != '\0' ? err.msg : ro_status_str(error));
			failed++;
		} else if (!ro_plan_converged(&plan) || plan.n_blocked > 0)
			pending++;
		ro_plan_release(&plan);
		ro_state_free(st);
	}
	if (a.markdown) {
		printf("## RoomOps plan\n\n%zu room%s: %zu converged, %zu with "
		    "changes%s.\n\n%s", set->n, set->n == 1 ? "" : "s",
		    set->n - pending - failed, pending, failed > 0 ?
		    ", some failed" : "", ro_buf_cstr(&a.md));
		for (i = 0; i < set->diag.errors.n; i++)
			printf("%s- invalid: `%s`\n", i == 0 ? "### Invalid "
			    "specs\n\n" : "", set->diag.errors.v[i]);
	} else if (a.output == RO_OUTPUT_JSON) {
		cJSON	*errs = cJSON_AddArrayToObject(out, "errors");

		for (i = 0; errs != NULL && i < set->diag.errors.n; i++)
			cJSON_AddItemToArray(errs,
			    cJSON_CreateString(set->diag.errors.v[i]));
		if (errs == NULL || (json = cJSON_Print(out)) == NULL)
			goto oom;
		printf("%s\n", json);
		cJSON_free(json);
	} else
		printf("\n%zu room%s: %zu converged, %zu with changes%s\n",
		    set->n, set->n == 1 ? "" : "s", set->n - pending - failed,
		    pending, failed > 0 ? ", some failed" : "");
	if (failed > 0 || set->bad_files.n > 0)
		rc = RO_EXIT_ERROR;
	else
		rc = pending > 0 ? RO_EXIT_CHANGES : RO_EXIT_OK;
	goto done;
oom:
	ro_err_set(&err, RO_ENOMEM, "out of memory");
fail:
	fprintf(stderr, "roomops: %s\n", err.msg);
done:
	cJSON_Delete(out);
	cJSON_Delete(states);
	ro_specset_free(set);
	ro_client_free(client);
	ro_cli_secret_free(token);
	ro_buf_release(&a.md);
	return rc;
}
