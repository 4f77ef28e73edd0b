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

#include "../common/banned.h"

struct plan_args {
	const char		*server;
	const char		*state_file;
	const char		*token_file;
	const char		*cacert;
	enum ro_output		 output;
	struct ro_guard_opts	 guard;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: roomops plan [--server URL | --state FILE] "
	    "[--output text|json] [options] PATH...\n"
	    "Show what apply would change in each room, changing nothing.\n"
	    "  --server URL              plan against a live RoomServer\n"
	    "  --state FILE              plan against saved RoomState JSON (an\n"
	    "                            object, an array, or {\"rooms\": [...]});\n"
	    "                            rooms not in it are empty\n"
	    "  --token-file F            RoomServer bearer token (default: env\n"
	    "                            ROOM_AUTH_TOKEN)\n"
	    "  --cacert F                CA bundle for an https server\n"
	    "  --output text|json        (default text)\n"
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
print_room(const struct plan_args *a, const struct ro_spec *spec,
    const struct ro_plan *plan, const struct ro_guard_result *g, cJSON *rooms)
{
	struct ro_buf	 text = RO_BUF_INIT;
	cJSON		*o, *diff;
	size_t		 n = ro_plan_count(plan);
	int		 error;

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

int
cmd_plan(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "state", required_argument, NULL, 'S' },
		{ "token-file", required_argument, NULL, 't' },
		{ "cacert", required_argument, NULL, 'c' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		RO_CLI_GUARD_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	struct plan_args	 a = { .guard = RO_GUARD_OPTS_INIT };
	struct ro_specset	*set = NULL;
	struct ro_client	*client = NULL;
	struct ro_client_opts	 copts;
	struct ro_err		 err = RO_ERR_INIT;
	cJSON			*states = NULL, *out = NULL, *rooms = NULL;
	char			*token = NULL, *json;
	size_t			 i, pending = 0, failed = 0;
	int			 ch, r, rc = RO_EXIT_ERROR;

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
			if (!ro_cli_output(optarg, &a.output))
				return RO_EXIT_ERROR;
			break;
		case 'h': usage(stdout); return RO_EXIT_OK;
		default: usage(stderr); return RO_EXIT_ERROR;
		}
	}
	if (optind >= argc || (a.server != NULL && a.state_file != NULL)) {
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
		int			 error;

		ro_err_clear(&err);
		if (client != NULL)
			error = ro_client_get_state(client, spec->room_id, &st,
			    &err);
		else
			error = state_from_file(states, spec->room_id, &st,
			    &err);
		if (error == RO_OK &&
		    (error = ro_plan_build(&plan, spec, st, &err)) == RO_OK &&
		    (error = ro_guard_apply(&plan, &a.guard, &g, &err)) == RO_OK)
			error = print_room(&a, spec, &plan, &g, rooms);
		if (error < 0) {
			fprintf(stderr, "error: %s: %s\n", spec->room_id,
			    err.msg[0] != '\0' ? err.msg : ro_status_str(error));
			failed++;
		} else if (!ro_plan_converged(&plan) || plan.n_blocked > 0)
			pending++;
		ro_plan_release(&plan);
		ro_state_free(st);
	}
	if (a.output == RO_OUTPUT_JSON) {
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
	return rc;
}
