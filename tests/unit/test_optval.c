/*
 * test_optval.c: one value parser for every verb. The guardrail options
 * that `roomops plan` and `roomops apply` take (ro_cli_guard_opt) accept
 * exactly what `roomops agent` accepts from a flag, the environment or
 * the config file (ro_config_load), with the same message; the real
 * binary refuses `apply --require-confirm=yes` as the agent does.
 */
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/guard.h"
#include "cli.h"
#include "config.h"
#include "optval.h"
#include "testutil.h"

struct val {
	int		 ch;		/* ro_cli_guard_opt's option */
	const char	*name;
	const char	*value;
};

static const struct val vals[] = {
	{ 1005, "require-confirm", "true" },
	{ 1005, "require-confirm", "false" },
	{ 1005, "require-confirm", "yes" },
	{ 1005, "require-confirm", "no" },
	{ 1005, "require-confirm", "1" },
	{ 1005, "require-confirm", "0" },
	{ 1005, "require-confirm", "TRUE" },
	{ 1005, "require-confirm", "" },
	{ 1002, "max-kicks", "5" },
	{ 1002, "max-kicks", "0" },
	{ 1002, "max-kicks", "05" },
	{ 1002, "max-kicks", "+5" },
	{ 1002, "max-kicks", "-1" },
	{ 1002, "max-kicks", "5x" },
	{ 1002, "max-kicks", " 5" },
	{ 1002, "max-kicks", "1000000" },
	{ 1002, "max-kicks", "1000001" },
	{ 1003, "max-artifact-deletes", "10" },
	{ 1003, "max-artifact-deletes", "0x10" },
	{ 1004, "change-threshold", "0.5" },
	{ 1004, "change-threshold", "1" },
	{ 1004, "change-threshold", ".5" },
	{ 1004, "change-threshold", "0.5e0" },
	{ 1004, "change-threshold", "1.01" },
	{ 1004, "change-threshold", "nan" },
	{ 1004, "change-threshold", "0." },
};

/* The agent's verdict on --name=value: RO_OK or the message in msg. */
static int
agent_verdict(const char *name, const char *value, char *msg, size_t len)
{
	struct ro_config	*cfg = NULL;
	struct ro_err		 err = RO_ERR_INIT;
	char			 flag[128];
	char			*argv[] = { "agent", "--server",
	    "http://127.0.0.1:1", flag, NULL };
	int			 error;

	snprintf(flag, sizeof(flag), "--%s=%s", name, value);
	error = ro_config_load(&cfg, 4, argv, &err);
	ro_config_free(cfg);
	snprintf(msg, len, "%s", err.msg);
	return error;
}

static void
test_same_verdict(void **state)
{
	struct ro_guard_opts	 g = RO_GUARD_OPTS_INIT;
	char			 amsg[RO_ERR_MSG_MAX], cli[RO_ERR_MSG_MAX];
	size_t			 i;
	int			 a, c;

	(void)state;
	for (i = 0; i < RO_NELEM(vals); i++) {
		a = agent_verdict(vals[i].name, vals[i].value, amsg,
		    sizeof(amsg));
		/* (a refusal prints "roomops: MSG" on stderr) */
		c = ro_cli_guard_opt(vals[i].ch, vals[i].value, &g);
		if ((a == RO_OK) != (c == 1))
			fail_msg("--%s=%s: agent %s, plan/apply %s",
			    vals[i].name, vals[i].value, a == RO_OK ?
			    "accepts" : "refuses", c == 1 ? "accept" :
			    "refuse");
		if (a != RO_OK) {
			struct ro_err	e = RO_ERR_INIT;
			uint64_t	u;
			double		d;
			bool		b;
			char		at[64];

			/* the message the CLI prints is the agent's */
			snprintf(at, sizeof(at), "--%s", vals[i].name);
			if (vals[i].ch == 1005)
				(void)ro_optval_bool(at, vals[i].value, &b,
				    &e);
			else if (vals[i].ch == 1004)
				(void)ro_optval_ratio(at, vals[i].value, &d,
				    &e);
			else
				(void)ro_optval_uint(at, vals[i].value, 0,
				    RO_CONFIG_COUNT_MAX, &u, &e);
			snprintf(cli, sizeof(cli), "%s", e.msg);
			if (strcmp(cli, amsg) != 0)
				fail_msg("--%s=%s: \"%s\" vs \"%s\"",
				    vals[i].name, vals[i].value, cli, amsg);
		}
	}
}

/* The binary: plan and apply refuse --require-confirm=yes with exit 2
 * and the agent's message, before contacting any server. */
static void
test_binary(void **state)
{
	const char	*bin = tu_env("RO_BIN", "build/roomops");
	const char	*src = tu_env("RO_SOURCE_DIR", ".");
	char		 cmd[2048], out[1024];
	const char	*verbs[] = { "apply", "plan" };
	FILE		*p;
	size_t		 i, n;
	int		 rc;

	(void)state;
	for (i = 0; i < RO_NELEM(verbs); i++) {
		snprintf(cmd, sizeof(cmd), "'%s' %s --server "
		    "http://127.0.0.1:9 --require-confirm=yes '%s/specs' "
		    "2>&1", bin, verbs[i], src);
		assert_non_null(p = popen(cmd, "r"));
		n = fread(out, 1, sizeof(out) - 1, p);
		out[n] = '\0';
		rc = pclose(p);
		assert_true(WIFEXITED(rc));
		assert_int_equal(WEXITSTATUS(rc), 2);
		if (!tu_contains(out, "--require-confirm: invalid boolean "
		    "\"yes\" (expected true or false)"))
			fail_msg("%s: %s", verbs[i], out);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_verdict),
		cmocka_unit_test(test_binary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
