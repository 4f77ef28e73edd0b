/* main.c: the roomops binary: the command table and dispatch. */
#include <stdio.h>
#include <string.h>

#include "roomops/log.h"
#include "cli.h"
#include "version.h"

#include "../common/banned.h"

static int	cmd_version(int, char *[]);

static const struct ro_cmd cmds[] = {
	{ "validate",	cmd_validate,	"parse and validate spec files or folders" },
	{ "plan",	cmd_plan,	"show what apply would change (dry run)" },
	{ "apply",	cmd_apply,	"reconcile every room once, then exit" },
	{ "agent",	cmd_agent,	"run the GitOps daemon" },
	{ "audit",	cmd_audit,	"read audit records" },
	{ "status",	cmd_status,	"show a running agent's rooms" },
	{ "confirm",	cmd_confirm,	"confirm held removals of a room" },
	{ "version",	cmd_version,	"print the version" },
};

static int
cmd_version(int argc, char *argv[])
{
	(void)argc;
	(void)argv;
	printf("roomops %s\n", ro_version());
	return RO_EXIT_OK;
}

static void
usage(FILE *f)
{
	size_t	i;

	fprintf(f, "usage: roomops <verb> [options] [args]\n\nverbs:\n");
	for (i = 0; i < RO_NELEM(cmds); i++)
		fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f, "\n`roomops <verb> --help` describes each verb.\n");
}

int
main(int argc, char *argv[])
{
	size_t	i;

	ro_log_init("roomops", RO_LOG_TEXT, RO_LOG_WARN);
	if (argc < 2) {
		usage(stderr);
		return RO_EXIT_ERROR;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return RO_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(0, NULL);
	for (i = 0; i < RO_NELEM(cmds); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "roomops: unknown verb \"%s\"\n\n", argv[1]);
	usage(stderr);
	return RO_EXIT_ERROR;
}
