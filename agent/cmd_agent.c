/* cmd_agent.c: `roomops agent`: configuration, then the daemon. */
#include <stdio.h>

#include "roomops/log.h"
#include "cli.h"
#include "config.h"
#include "daemon.h"

#include "../common/banned.h"

int
cmd_agent(int argc, char *argv[])
{
	struct ro_config	*cfg = NULL;
	struct ro_buf		 out = RO_BUF_INIT;
	struct ro_err		 err = RO_ERR_INIT;
	int			 rc;

	if (ro_config_load(&cfg, argc, argv, &err) < 0) {
		fprintf(stderr, "roomops agent: %s\n", err.msg);
		return RO_EXIT_ERROR;
	}
	if (cfg->help || cfg->print_config) {
		rc = cfg->help ? ro_config_usage(&out) : ro_config_print(cfg,
		    &out);
		fputs(ro_buf_cstr(&out), stdout);
		ro_buf_release(&out);
		ro_config_free(cfg);
		return rc < 0 ? RO_EXIT_ERROR : RO_EXIT_OK;
	}
	ro_log_init("roomops", cfg->log_format, cfg->log_level);
	return ro_daemon_run(cfg);
}
