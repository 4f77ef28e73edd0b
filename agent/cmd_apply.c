/* cmd_apply.c: `roomops apply`: one reconcile of every room, then exit. */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roomops/audit.h"
#include "roomops/file.h"
#include "roomops/guard.h"
#include "roomops/specset.h"
#include "cli.h"
#include "optval.h"
#include "reconcile.h"
#include "runner.h"

#include "../common/banned.h"

#define APPLY_AUDIT_DEFAULT	".roomops/audit.jsonl"
#define APPLY_PROGRESS_MIN	5	/* rooms before [k/n] progress shows */

struct apply_run {
	enum ro_output	 output;
	bool		 quiet;
	bool		 dry_run;
	size_t		 total;
	size_t		 done;
	size_t		 converged, partial, failed, blocked;
	cJSON		*rooms;		/* JSON output */
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: roomops apply --server URL [options] PATH...\n"
	    "Reconcile every room under PATH once against RoomServer, then "
	    "exit.\n"
	    "  --server URL              RoomServer base URL (required)\n"
	    "  --dry-run                 plan and pre-check only; change nothing\n"
	    "  --audit-log FILE          JSON-lines audit log (default "
	    APPLY_AUDIT_DEFAULT ")\n"
	    "  --token-file F            RoomServer bearer token (default: env\n"
	    "                            ROOM_AUTH_TOKEN)\n"
	    "  --cacert F                CA bundle for an https server\n"
	    "  --rollback                undo a room's cycle when an item fails\n"
	    "  --concurrency N           rooms reconciled at once (default 8)\n"
	    "  --output text|json        (default text)\n"
	    "  --quiet                   summary line only\n"
	    RO_CLI_GUARD_HELP
	    "Exit: 0 converged, 1 partial or blocked, 2 error (a room failed,\n"
	    "a spec was rejected, or usage/I/O).\n");
}

static void
print_counts(const struct ro_audit_diff *d)
{
	if (d->join)	 printf(" +%zu join", d->join);
	if (d->update)	 printf(" ~%zu update", d->update);
	if (d->kick)	 printf(" -%zu kick", d->kick);
	if (d->seed)	 printf(" +%zu seed", d->seed);
	if (d->promote)	 printf(" *%zu promote", d->promote);
	if (d->del)	 printf(" -%zu delete", d->del);
	if (d->policies) printf(" ~policies");
}

/* Called under the runner's lock, once per room. */
static void
on_done(void *arg, size_t index, const struct ro_spec *spec,
    const struct ro_reconcile_result *res, int error, const struct ro_err *err)
{
	struct apply_run *run = arg;
	const char	*outcome = error < 0 ? "error" : res->outcome != NULL ?
			    res->outcome : "unknown";
	size_t		 i;
	cJSON		*o;

	(void)index;
	run->done++;
	if (error < 0 || res->failed)
		run->failed++;
	else if (res->partial)
		run->partial++;
	else if (!res->converged || res->blocked.n > 0)
		run->blocked++;
	else
		run->converged++;
	if (run->output == RO_OUTPUT_JSON) {
		if ((o = cJSON_CreateObject()) == NULL)
			return;
		cJSON_AddItemToArray(run->rooms, o);
		cJSON_AddStringToObject(o, "roomId", spec->room_id);
		cJSON_AddStringToObject(o, "file", spec->path);
		cJSON_AddStringToObject(o, "outcome", outcome);
		cJSON_AddBoolToObject(o, "converged", error == 0 &&
		    res->converged);
		cJSON_AddStringToObject(o, "correlationId", res->cid);
		cJSON_AddNumberToObject(o, "cycles", res->cycles);
		cJSON_AddNumberToObject(o, "durationMs",
		    (double)res->duration_ms);
		if (res->diff != NULL)
			cJSON_AddItemToObject(o, "diff",
			    cJSON_Duplicate(res->diff, true));
		cJSON *errs = cJSON_AddArrayToObject(o, "errors");
		for (i = 0; errs != NULL && i < res->errors.n; i++)
			cJSON_AddItemToArray(errs,
			    cJSON_CreateString(res->errors.v[i]));
		if (error < 0 && errs != NULL)
			cJSON_AddItemToArray(errs, cJSON_CreateString(err->msg));
		return;
	}
	if (run->quiet)
		return;
	if (run->total >= APPLY_PROGRESS_MIN)
		printf("[%zu/%zu] ", run->done, run->total);
	printf("%s: %s", spec->room_id, outcome);
	if (run->dry_run && error == 0)
		printf(" (dry run)");
	print_counts(&res->applied);
	printf(" (%ld ms)\n", res->duration_ms);
	for (i = 0; i < res->errors.n; i++)
		printf("    error: %s\n", res->errors.v[i]);
	for (i = 0; i < res->blocked.n; i++)
		printf("    blocked: %s\n", res->blocked.v[i]);
	if (error < 0)
		printf("    error: %s\n", err->msg);
	fflush(stdout);
}

int
cmd_apply(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "audit-log", required_argument, NULL, 'a' },
		{ "token-file", required_argument, NULL, 't' },
		{ "cacert", required_argument, NULL, 'c' },
		{ "rollback", no_argument, NULL, 'r' },
		{ "concurrency", required_argument, NULL, 'j' },
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		RO_CLI_GUARD_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	struct ro_reconcile_opts ropts = { .guard = RO_GUARD_OPTS_INIT };
	struct ro_runner_opts	 run_opts;
	struct ro_client_opts	 copts;
	struct ro_auditlog	 audit;
	struct apply_run	 run;
	struct ro_specset	*set = NULL;
	struct ro_err		 err = RO_ERR_INIT;
	struct ro_strv		 rejected = RO_STRV_INIT;
	const char		*server = NULL, *token_file = NULL;
	const char		*audit_path = APPLY_AUDIT_DEFAULT;
	uint64_t		 conc = RO_RUNNER_CONCURRENCY;
	char			*token = NULL, *json;
	bool			 audit_open = false;
	cJSON			*out = NULL;
	size_t			 i;
	int			 ch, r, rc = RO_EXIT_ERROR, error;

	memset(&run, 0, sizeof(run));
	memset(&copts, 0, sizeof(copts));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if ((r = ro_cli_guard_opt(ch, optarg, &ropts.guard)) != 0) {
			if (r < 0)
				return RO_EXIT_ERROR;
			continue;
		}
		switch (ch) {
		case 's': server = optarg; break;
		case 'n': run.dry_run = true; break;
		case 'a': audit_path = optarg; break;
		case 't': token_file = optarg; break;
		case 'c': copts.cacert = optarg; break;
		case 'r': ropts.rollback = true; break;
		case 'q': run.quiet = true; break;
		case 'j':
			if (ro_optval_uint("--concurrency", optarg, 1,
			    RO_RUNNER_CONCURRENCY_MAX, &conc, &err) < 0) {
				fprintf(stderr, "roomops: %s\n", err.msg);
				return RO_EXIT_ERROR;
			}
			break;
		case 'o':
			if (!ro_cli_output(optarg, &run.output))
				return RO_EXIT_ERROR;
			break;
		case 'h': usage(stdout); return RO_EXIT_OK;
		default: usage(stderr); return RO_EXIT_ERROR;
		}
	}
	if (optind >= argc || server == NULL) {
		usage(stderr);
		return RO_EXIT_ERROR;
	}
	if (ro_cli_secret(token_file, "ROOM_AUTH_TOKEN", &token, &err) < 0 ||
	    ro_client_global_init(&err) < 0)
		goto fail;
	copts.base_url = server;
	copts.token = token;
	if (!run.dry_run) {
		/* the audit log's folder, when it is the default one */
		if (ro_file_mkdirs_parent(audit_path, 0750, &err) < 0 ||
		    ro_auditlog_open(&audit, audit_path, &err) < 0)
			goto fail;
		audit_open = true;
		ropts.audit = &audit;
	}
	ropts.dry_run = run.dry_run;
	ropts.source = "cli";
	ropts.rev = "cli";
	if (ro_cli_specset(&set, argv + optind, (size_t)(argc - optind),
	    true, &err) < 0)
		goto fail;
	/* A rejected spec is audited and changes nothing. */
	for (i = 0; i < set->diag.errors.n; i++)
		if (ro_strv_push(&rejected, set->diag.errors.v[i]) < 0)
			goto oom;
	if (rejected.n > 0 && ro_reconcile_audit_only(&ropts, NULL, "rejected",
	    &rejected, &err) < 0)
		goto fail;
	if ((out = cJSON_CreateObject()) == NULL ||
	    (run.rooms = cJSON_AddArrayToObject(out, "rooms")) == NULL)
		goto oom;
	run.total = set->n;
	memset(&run_opts, 0, sizeof(run_opts));
	run_opts.client = &copts;
	run_opts.reconcile = &ropts;
	run_opts.concurrency = (unsigned)conc;
	run_opts.done = on_done;
	run_opts.arg = &run;
	if ((error = ro_runner_run(set->specs, set->n, &run_opts, &err)) < 0)
		goto fail;
	if (run.output == RO_OUTPUT_JSON) {
		cJSON *errs = cJSON_AddArrayToObject(out, "errors");

		for (i = 0; errs != NULL && i < rejected.n; i++)
			cJSON_AddItemToArray(errs,
			    cJSON_CreateString(rejected.v[i]));
		if ((json = cJSON_Print(out)) == NULL)
			goto oom;
		printf("%s\n", json);
		cJSON_free(json);
	} else
		printf("%zu room%s: %zu converged, %zu partial, %zu blocked, "
		    "%zu failed, %zu file%s rejected\n", set->n,
		    set->n == 1 ? "" : "s", run.converged, run.partial,
		    run.blocked, run.failed, set->bad_files.n,
		    set->bad_files.n == 1 ? "" : "s");
	if (run.failed > 0 || set->bad_files.n > 0)
		rc = RO_EXIT_ERROR;
	else if (run.partial > 0 || run.blocked > 0)
		rc = RO_EXIT_CHANGES;
	else
		rc = RO_EXIT_OK;
	goto done;
oom:
	ro_err_set(&err, RO_ENOMEM, "out of memory");
fail:
	fprintf(stderr, "roomops: %s\n", err.msg);
done:
	cJSON_Delete(out);
	ro_strv_release(&rejected);
	ro_specset_free(set);
	if (audit_open)
		ro_auditlog_close(&audit);
	ro_cli_secret_free(token);
	return rc;
}
