/* cmd_status.c: `roomops status` and `roomops confirm`: thin clients of a
 * running agent's API. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "apicall.h"
#include "cli.h"

#include "../common/banned.h"

static const char *
str(const cJSON *o, const char *key, const char *dflt)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : dflt;
}

static void
print_room(const cJSON *r)
{
	const cJSON	*b = cJSON_GetObjectItemCaseSensitive(r, "blocked");
	const cJSON	*n = cJSON_GetObjectItemCaseSensitive(r,
			    "cyclesSinceConverged");
	const cJSON	*v;

	printf("%-24s %-11s %-10s %-21.21s %s%s\n", str(r, "roomId", "-"),
	    str(r, "lastOutcome", "-"), str(r, "currentPhase", "-"),
	    str(r, "lastRevision", "-"), cJSON_IsTrue(cJSON_GetObjectItem(r,
	    "suspended")) ? "suspended " : "", cJSON_IsNumber(n) &&
	    n->valuedouble > 0 ? "unconverged" : "");
	cJSON_ArrayForEach(v, b)
		if (cJSON_IsString(v))
			printf("    blocked: %s\n", v->valuestring);
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(r, "errors"))
		if (cJSON_IsString(v))
			printf("    error: %s\n", v->valuestring);
}

int
cmd_status(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "api", required_argument, NULL, 'a' },
		{ "room", required_argument, NULL, 'r' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*api = RO_APICALL_DEFAULT, *room = NULL;
	enum ro_output	 output = RO_OUTPUT_TEXT;
	struct ro_buf	 body = RO_BUF_INIT;
	struct ro_err	 err = RO_ERR_INIT;
	cJSON		*doc = NULL, *r;
	char		 path[512], *esc;
	long		 status;
	int		 ch, rc = RO_EXIT_ERROR;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a': api = optarg; break;
		case 'r': room = optarg; break;
		case 'o':
			if (!ro_cli_output(optarg, &output))
				return RO_EXIT_ERROR;
			break;
		case 'h':
			printf("usage: roomops status [--api URL] [--room ID] "
			    "[--output text|json]\n"
			    "Show a running agent's rooms (GET /status).\n"
			    "  --api URL   the agent's API (default %s)\n",
			    RO_APICALL_DEFAULT);
			return RO_EXIT_OK;
		default: return RO_EXIT_ERROR;
		}
	}
	if (room != NULL) {
		if ((esc = curl_easy_escape(NULL, room, 0)) == NULL)
			return RO_EXIT_ERROR;
		snprintf(path, sizeof(path), "/status/rooms/%s", esc);
		curl_free(esc);
	} else
		snprintf(path, sizeof(path), "/status");
	if ((status = ro_apicall("GET", api, path, NULL, &body, &err)) < 0) {
		fprintf(stderr, "roomops: %s\n", err.msg);
		goto done;
	}
	if (status != 200 || output == RO_OUTPUT_JSON) {
		printf("%s\n", ro_buf_cstr(&body));
		rc = status == 200 ? RO_EXIT_OK : RO_EXIT_CHANGES;
		goto done;
	}
	if ((doc = cJSON_ParseWithLength(ro_buf_cstr(&body), body.len)) ==
	    NULL) {
		fprintf(stderr, "roomops: the agent's answer is not JSON\n");
		goto done;
	}
	if (room != NULL)
		print_room(doc);
	else {
		printf("health %s, shard %s, queued %.0f, source %s\n",
		    str(doc, "health", "-"), str(doc, "shard", "-"),
		    cJSON_GetNumberValue(cJSON_GetObjectItem(doc,
		    "queuedRequests")), str(cJSON_GetObjectItem(doc, "source"),
		    "repo", str(cJSON_GetObjectItem(doc, "source"), "watch",
		    "api")));
		cJSON_ArrayForEach(r, cJSON_GetObjectItem(doc, "rooms"))
			print_room(r);
	}
	rc = RO_EXIT_OK;
done:
	cJSON_Delete(doc);
	ro_buf_release(&body);
	return rc;
}

int
cmd_confirm(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "api", required_argument, NULL, 'a' },
		{ "api-token-file", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*api = RO_APICALL_DEFAULT, *token_file = NULL;
	struct ro_buf	 body = RO_BUF_INIT;
	struct ro_err	 err = RO_ERR_INIT;
	char		 path[1024], *er = NULL, *ev = NULL, *token = NULL;
	long		 status;
	int		 ch, rc = RO_EXIT_ERROR;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a': api = optarg; break;
		case 't': token_file = optarg; break;
		case 'h':
			printf("usage: roomops confirm [--api URL] "
			    "[--api-token-file F] ROOM REV\n"
			    "Confirm the held removals of ROOM for revision REV "
			    "(a commit sha, or \"*\" for any).\n");
			return RO_EXIT_OK;
		default: return RO_EXIT_ERROR;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "usage: roomops confirm [--api URL] ROOM REV\n");
		return RO_EXIT_ERROR;
	}
	if (ro_cli_secret(token_file, "ROOMOPS_API_TOKEN", &token, &err) < 0) {
		fprintf(stderr, "roomops: %s\n", err.msg);
		return RO_EXIT_ERROR;
	}
	if ((er = curl_easy_escape(NULL, argv[optind], 0)) == NULL ||
	    (ev = curl_easy_escape(NULL, argv[optind + 1], 0)) == NULL)
		goto done;
	snprintf(path, sizeof(path), "/rooms/%s/confirm?revision=%s", er, ev);
	if ((status = ro_apicall("POST", api, path, token, &body, &err)) < 0) {
		fprintf(stderr, "roomops: %s\n", err.msg);
		goto done;
	}
	if (status / 100 != 2) {
		fprintf(stderr, "roomops: HTTP %ld: %s\n", status,
		    ro_buf_cstr(&body));
		rc = RO_EXIT_CHANGES;
		goto done;
	}
	printf("confirmed removals of %s for %s\n", argv[optind],
	    argv[optind + 1]);
	rc = RO_EXIT_OK;
done:
	curl_free(er);
	curl_free(ev);
	ro_cli_secret_free(token);
	ro_buf_release(&body);
	return rc;
}
