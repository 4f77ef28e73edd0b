/* cmd_audit.c: `roomops audit`: read audit records from the JSONL log. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/audit.h"
#include "cli.h"

#include "../common/banned.h"

#define AUDIT_DEFAULT_STATE_DIR	".roomops"

static void
usage(FILE *f)
{
	fprintf(f, "usage: roomops audit [--state-dir DIR | --audit-log FILE] "
	    "[--room ID] [--rev REV]\n"
	    "                     [--output text|json]\n"
	    "Print audit records, oldest first.\n"
	    "  --state-dir DIR     read DIR/audit.jsonl (default ./"
	    AUDIT_DEFAULT_STATE_DIR ")\n"
	    "  --audit-log FILE    read this JSON-lines file\n"
	    "  --room ID           only this room\n"
	    "  --rev REV           only this revision\n"
	    "  --output text|json  (default text)\n");
}

static const char *
str(const cJSON *o, const char *key)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : "-";
}

static void
print_text(const cJSON *rec)
{
	static const char *const keys[] = { "join", "update", "kick", "seed",
	    "promote", "delete", "policies" };
	const cJSON	*diff, *v, *errs;
	size_t		 i;

	printf("%s  %-22s %-11s %-21.21s", str(rec, "ts"), str(rec, "room"),
	    str(rec, "outcome"), str(rec, "rev"));
	diff = cJSON_GetObjectItemCaseSensitive(rec, "diff");
	for (i = 0; i < RO_NELEM(keys); i++) {
		v = cJSON_GetObjectItemCaseSensitive(diff, keys[i]);
		if (cJSON_IsNumber(v) && v->valuedouble > 0)
			printf(" %s=%.0f", keys[i], v->valuedouble);
	}
	printf("\n");
	errs = cJSON_GetObjectItemCaseSensitive(rec, "errors");
	cJSON_ArrayForEach(v, errs)
		if (cJSON_IsString(v))
			printf("    error: %s\n", v->valuestring);
}

int
cmd_audit(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "state-dir", required_argument, NULL, 'd' },
		{ "audit-log", required_argument, NULL, 'a' },
		{ "room", required_argument, NULL, 'r' },
		{ "rev", required_argument, NULL, 'v' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*dir = AUDIT_DEFAULT_STATE_DIR, *log = NULL;
	const char	*room = NULL, *rev = NULL;
	enum ro_output	 output = RO_OUTPUT_TEXT;
	struct ro_err	 err = RO_ERR_INIT;
	cJSON		*arr = NULL, *rec, *doc = NULL;
	char		*path = NULL, *json;
	size_t		 bad = 0;
	int		 ch, rc = RO_EXIT_ERROR;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': dir = optarg; break;
		case 'a': log = optarg; break;
		case 'r': room = optarg; break;
		case 'v': rev = optarg; break;
		case 'o':
			if (!ro_cli_output(optarg, &output))
				return RO_EXIT_ERROR;
			break;
		case 'h': usage(stdout); return RO_EXIT_OK;
		default: usage(stderr); return RO_EXIT_ERROR;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return RO_EXIT_ERROR;
	}
	if (log == NULL && asprintf(&path, "%s/audit.jsonl", dir) < 0) {
		path = NULL;
		goto oom;
	}
	if ((arr = cJSON_CreateArray()) == NULL)
		goto oom;
	if (ro_auditlog_read(log != NULL ? log : path, room, rev, NULL, arr,
	    &bad, &err) < 0)
		goto fail;
	if (bad > 0)
		fprintf(stderr, "warning: %zu malformed line%s skipped\n", bad,
		    bad == 1 ? "" : "s");
	if (output == RO_OUTPUT_JSON) {
		if ((doc = cJSON_CreateObject()) == NULL ||
		    !cJSON_AddItemToObject(doc, "entries", arr))
			goto oom;
		arr = NULL;
		if ((json = cJSON_Print(doc)) == NULL)
			goto oom;
		printf("%s\n", json);
		cJSON_free(json);
	} else
		cJSON_ArrayForEach(rec, arr)
			print_text(rec);
	rc = RO_EXIT_OK;
	goto done;
oom:
	ro_err_set(&err, RO_ENOMEM, "out of memory");
fail:
	fprintf(stderr, "roomops: %s\n", err.msg);
done:
	cJSON_Delete(arr);
	cJSON_Delete(doc);
	free(path);
	return rc;
}
