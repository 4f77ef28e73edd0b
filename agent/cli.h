/*
 * cli.h: the command table of the roomops binary and helpers shared by
 * the verbs (exit codes, output format, secrets from files).
 */
#ifndef RO_CLI_H
#define RO_CLI_H

#include <stdbool.h>

#include "roomops/err.h"

/* Exit codes of agent.md. */
#define RO_EXIT_OK	0	/* valid / converged */
#define RO_EXIT_CHANGES	1	/* invalid / changes pending / partial */
#define RO_EXIT_ERROR	2	/* usage, I/O, server errors */

#define RO_SECRET_MAX	4096	/* bytes of a token file */

enum ro_output { RO_OUTPUT_TEXT, RO_OUTPUT_JSON };

struct ro_cmd {
	const char	*name;
	int		(*fn)(int argc, char *argv[]);
	const char	*summary;
};

int	cmd_validate(int argc, char *argv[]);
int	cmd_plan(int argc, char *argv[]);
int	cmd_apply(int argc, char *argv[]);
int	cmd_audit(int argc, char *argv[]);
int	cmd_agent(int argc, char *argv[]);
int	cmd_status(int argc, char *argv[]);
int	cmd_confirm(int argc, char *argv[]);

/* "text" or "json" into *out; false (with a message) otherwise. */
bool	ro_cli_output(const char *s, enum ro_output *out);
/*
 * A secret from a file (trailing newline stripped, ≤ RO_SECRET_MAX), or
 * from the environment variable env when file is NULL. *out is NULL when
 * neither is set. Free with ro_cli_secret_free().
 */
int	ro_cli_secret(const char *file, const char *env, char **out,
	    struct ro_err *err);
void	ro_cli_secret_free(char *s);

/* Guardrail options shared by plan, apply and agent (long options only). */
#define RO_CLI_GUARD_OPTIONS \
	{ "confirm", no_argument, NULL, 1001 }, \
	{ "max-kicks", required_argument, NULL, 1002 }, \
	{ "max-artifact-deletes", required_argument, NULL, 1003 }, \
	{ "change-threshold", required_argument, NULL, 1004 }, \
	{ "require-confirm", required_argument, NULL, 1005 }
#define RO_CLI_GUARD_HELP \
	"  --confirm                 confirm removals above the threshold\n" \
	"  --max-kicks N             kicks per room per cycle (default 5)\n" \
	"  --max-artifact-deletes N  deletes per room per cycle (default 10)\n" \
	"  --change-threshold R      removal ratio needing confirmation (0.5)\n" \
	"  --require-confirm BOOL    apply the ratio rule (default true)\n"

struct ro_guard_opts;
struct ro_specset;
/* Load the specs under paths (seeds read; content kept when keep_content)
 * and print every error and warning to stderr. As ro_specset_load(). */
int	ro_cli_specset(struct ro_specset **out, char *const *paths, size_t n,
	    bool keep_content, struct ro_err *err);
/* Handle one of the options above: 1 handled, 0 not ours, -1 bad value. */
int	ro_cli_guard_opt(int ch, const char *arg, struct ro_guard_opts *g);

#endif
