/* main.c: the roomops binary: command table and dispatch. */
#include <stdio.h>
#include <string.h>

#include "roomops/log.h"

int
main(int argc, char *argv[])
{
	ro_log_init("roomops", RO_LOG_TEXT, RO_LOG_INFO);
	if (argc > 1 && strcmp(argv[1], "version") == 0) {
		printf("roomops %s\n", RO_VERSION);
		return 0;
	}
	fprintf(stderr, "usage: roomops <verb> [options]\n");
	return 2;
}
