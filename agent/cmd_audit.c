/* cmd_audit.c: `roomops audit`: read audit records from the JSONL log. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "roomops/audit.h"
#include "cli.h"
#include "notes.h"

#include "../common/banned.h"

#define AUDIT_DEFAULT_STATE_DIR	".roomops"

static void
usage(FILE *f)
{
	fprintf(f, "usage: roomops audit [--repo DIR | --state-dir DIR | "
	    "--audit-log FILE]\n"
	    "                     [--room ID] [--rev REV] "
	    "[--output text|json]\n"
	    "\nPrint audit records, oldest first.\n"
	    "  --repo DIR          read the notes on refs/notes/roomops of the\n"
	    "                      Git repository DIR (a clone or the agent's\n"
	    "                      STATE_DIR/repo.git)\n"
	    "  --state-dir DIR     read DIR/audit.jsonl (default ./"
	    AUDIT_DEFAULT_STATE_DIR ")\n"
	    "  --audit-log FILE    read this JSON-lines file\n"
	    "  --room ID           only this room (exact roomId)\n"
	    "  --rev REV           only this revision, or a unique\n"
	    "                      abbreviation of it (4+ hex digits)\n"
	    "  --output text|json  (default text)\n");
}

struct notes_walk {
	git_repository		*repo;
	struct ro_audit_match	 m;
	cJSON			*arr;
	size_t			 bad;
	struct ro_err		*err;
};

static int
on_note(const git_oid *commit, void *arg)
{
	struct notes_walk	*w = arg;
	struct ro_strv		 lines = RO_STRV_INIT;
	cJSON			*o;
	size_t			 i;
	int			 error;

	if ((error = ro_notes_read(w->repo, NULL, commit, &lines, w->err)) < 0)
		return error;
	for (i = 0; i < lines.n; i++) {
		if ((o = cJSON_Parse(lines.v[i])) == NULL || !cJSON_IsObject(o)) {
			cJSON_Delete(o);
			w->bad++;
			continue;
		}
		if (ro_audit_match(&w->m, o))
			cJSON_AddItemToArray(w->arr, o);
		else
			cJSON_Delete(o);
	}
	ro_strv_release(&lines);
	return 0;
}

static int
by_ts(const void *a, const void *b)
{
	const cJSON	*x = *(const cJSON *const *)a;
	const cJSON	*y = *(const cJSON *const *)b;
	const cJSON	*tx = cJSON_GetObjectItemCaseSensitive(x, "ts");
	const cJSON	*ty = cJSON_GetObjectItemCaseSensitive(y, "ts");

	return strcmp(cJSON_IsString(tx) ? tx->valuestring : "",
	    cJSON_IsString(ty) ? ty->valuestring : "");
}

/* The records of the notes of repository dir that q asks for, oldest
 * first. */
static int
read_notes(const char *dir, const struct ro_audit_query *q, cJSON *arr,
    size_t *bad, struct ro_err *err)
{
	struct notes_walk	 w;
	git_repository		*repo = NULL;
	cJSON			**v = NULL;
	size_t			 n, i;
	int			 error;

	git_libgit2_init();
	if (git_repository_open_ext(&repo, dir, 0, NULL) < 0) {
		error = ro_err_set(err, RO_ENOTFOUND, "%s: not a Git "
		    "repository", dir);
		goto done;
	}
	memset(&w, 0, sizeof(w));
	w.repo = repo;
	ro_audit_match_init(&w.m, q);
	w.arr = arr;
	w.err = err;
	if ((error = ro_notes_foreach(repo, NULL, on_note, &w, err)) < 0 ||
	    (error = ro_audit_match_check(&w.m, err)) < 0)
		goto done;
	*bad = w.bad;
	/* notes come in commit order; records are read in time order */
	n = (size_t)cJSON_GetArraySize(arr);
	if (n > 1 && (v = calloc(n, sizeof(*v))) != NULL) {
		for (i = 0; i < n; i++)
			v[i] = cJSON_DetachItemFromArray(arr, 0);
		qsort(v, n, sizeof(*v), by_ts);
		for (i = 0; i < n; i++)
			cJSON_AddItemToArray(arr, v[i]);
	}
done:
	free(v);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return error;
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
	if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(rec, "signer")))
		printf("    signed by: %s\n", str(rec, "signer"));
	errs = cJSON_GetObjectItemCaseSensitive(rec, "errors");
	cJSON_ArrayForEach(v, errs)
		if (cJSON_IsString(v))
			printf("    error: %s\n", v->valuestring);
}

int
cmd_audit(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "repo", required_argument, NULL, 'g' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "audit-log", required_argument, NULL, 'a' },
		{ "room", required_argument, NULL, 'r' },
		{ "rev", required_argument, NULL, 'v' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*dir = AUDIT_DEFAULT_STATE_DIR, *log = NULL, *repo = NULL;
	struct ro_audit_query q = RO_AUDIT_QUERY_INIT;
	enum ro_output	 output = RO_OUTPUT_TEXT;
	struct ro_err	 err = RO_ERR_INIT;
	cJSON		*arr = NULL, *rec, *doc = NULL;
	char		*path = NULL, *json;
	size_t		 bad = 0;
	int		 ch, rc = RO_EXIT_ERROR;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'g': repo = optarg; break;
		case 'd': dir = optarg; break;
		case 'a': log = optarg; break;
		case 'r': q.room = optarg; break;
		case 'v': q.rev = optarg; break;
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
	if (repo != NULL) {
		if (read_notes(repo, &q, arr, &bad, &err) < 0)
			goto fail;
	} else if (ro_auditlog_read(log != NULL ? log : path, &q, arr, &bad,
	    &err) < 0)
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
