/* cmd_validate.c: `roomops validate PATH...`. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "roomops/specset.h"
#include "cli.h"

#include "../common/banned.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: roomops validate [--quiet] PATH...\n"
	    "Parse and validate RoomSpec files or folders (searched for\n"
	    "*.yaml and *.yml). Every error names file:line:col and field.\n"
	    "Exit: 0 valid, 1 invalid, 2 usage or I/O error.\n");
}

int
cmd_validate(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ro_specset	*set = NULL;
	struct ro_err		 err = RO_ERR_INIT;
	bool			 quiet = false;
	int			 ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'q': quiet = true; break;
		case 'h': usage(stdout); return RO_EXIT_OK;
		default: usage(stderr); return RO_EXIT_ERROR;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return RO_EXIT_ERROR;
	}
	if (ro_cli_specset(&set, argv + optind, (size_t)(argc - optind), false,
	    &err) < 0) {
		fprintf(stderr, "roomops: %s\n", err.msg);
		return RO_EXIT_ERROR;
	}
	rc = set->diag.errors.n > 0 || set->bad_files.n > 0 ? RO_EXIT_CHANGES :
	    RO_EXIT_OK;
	if (!quiet) {
		if (rc == RO_EXIT_OK)
			printf("%zu spec%s valid\n", set->n,
			    set->n == 1 ? "" : "s");
		else
			printf("%zu spec%s valid, %zu file%s invalid\n", set->n,
			    set->n == 1 ? "" : "s", set->bad_files.n,
			    set->bad_files.n == 1 ? "" : "s");
	}
	ro_specset_free(set);
	return rc;
}
