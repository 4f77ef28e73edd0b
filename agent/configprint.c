/*
 * configprint.c: the agent's configuration as text: --print-config (every
 * value with its source, URL passwords masked), --help (from the option
 * table) and the YAML form of one value (also used by reload to compare).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/buf.h"
#include "roomops/shard.h"
#include "config.h"
#include "config_impl.h"
#include "optval.h"

#include "../common/banned.h"

#define PRINT_COLUMN	40	/* where --print-config comments start */
#define USAGE_COLUMN	34	/* where --help texts start */

/*
 * s with the userinfo of a URL masked: the password of user:password@
 * becomes "***", and so does a lone user (often a token) before '@'.
 */
static int
add_masked_url(struct ro_buf *out, const char *s)
{
	struct ro_buf	 m = RO_BUF_INIT;
	const char	*auth, *end, *at, *colon;
	int		 error;

	if ((auth = strstr(s, "://")) == NULL)
		return ro_buf_add_json_str(out, s);
	auth += 3;
	end = auth + strcspn(auth, "/?#");
	at = NULL;
	for (colon = auth; colon < end; colon++)
		if (*colon == '@')
			at = colon;
	if (at == NULL)
		return ro_buf_add_json_str(out, s);
	colon = memchr(auth, ':', (size_t)(at - auth));
	if ((error = ro_buf_add(&m, s, (size_t)(auth - s))) < 0 ||
	    (colon != NULL &&
	    (error = ro_buf_add(&m, auth, (size_t)(colon + 1 - auth))) < 0) ||
	    (error = ro_buf_addstr(&m, "***")) < 0 ||
	    (error = ro_buf_addstr(&m, at)) < 0)
		goto done;
	error = ro_buf_add_json_str(out, ro_buf_cstr(&m));
done:
	ro_buf_release(&m);
	return error;
}

/* Shortest text that reads back as the same double. */
static void
format_ratio(double d, char *buf, size_t len)
{
	int	prec;

	for (prec = 1; prec < 17; prec++) {
		snprintf(buf, len, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	if (prec == 17)
		snprintf(buf, len, "%.17g", d);
	/* %g may write 1e-05; the ratio parser wants plain decimals */
	if (strchr(buf, 'e') != NULL)
		snprintf(buf, len, "%.17f", d);
}

/* The value of o as YAML; masked: URL passwords hidden (printing). */
int
ro_config_format_value(const struct ro_config *cfg, enum ro_config_opt o,
    bool masked,
    struct ro_buf *out)
{
	const struct opt *op = &ro_config_table[o];
	const char	*s;
	char		 tmp[64];

	switch (op->type) {
	case T_STR:
	case T_LISTEN:
		if ((s = *(char *const *)ro_config_cfield(cfg, o)) == NULL)
			return ro_buf_addstr(out, "~");
		if (masked && (op->flags & F_URL))
			return add_masked_url(out, s);
		return ro_buf_add_json_str(out, s);
	case T_DURATION:
		return ro_buf_addstr(out, ro_optval_format_duration(
		    *(const uint64_t *)ro_config_cfield(cfg, o), tmp,
		    sizeof(tmp)));
	case T_BOOL:
		return ro_buf_addstr(out, *(const bool *)ro_config_cfield(cfg,
		    o) ?
		    "true" : "false");
	case T_UINT:
		return ro_buf_printf(out, "%u",
		    *(const unsigned *)ro_config_cfield(cfg, o));
	case T_RATIO:
		format_ratio(*(const double *)ro_config_cfield(cfg, o), tmp,
		    sizeof(tmp));
		return ro_buf_addstr(out, tmp);
	case T_LOGFMT:
		return ro_buf_addstr(out,
		    ro_config_log_formats[*(const enum ro_log_format *)
		    ro_config_cfield(cfg, o)]);
	case T_LOGLEVEL:
		return ro_buf_addstr(out,
		    ro_config_log_levels[*(const enum ro_log_level *)
		    ro_config_cfield(cfg, o)]);
	case T_PROFILE:
		return ro_buf_addstr(out, ro_config_profiles[
		    *(const enum ro_config_profile *)ro_config_cfield(cfg, o)]);
	case T_SHARD:
		return ro_buf_printf(out, "\"%s\"", ro_shard_str(tmp,
		    (const struct ro_shard *)ro_config_cfield(cfg, o)));
	}
	return RO_OK;
}

/* Output */

static int
print_source(const struct ro_config *cfg, enum ro_config_opt o,
    struct ro_buf *out)
{
	char	env[ENV_NAME_MAX];

	switch (cfg->source[o]) {
	case RO_CONFIG_SRC_FLAG:
		return ro_buf_printf(out, "flag --%s", ro_config_table[o].name);
	case RO_CONFIG_SRC_ENV:
		return ro_buf_printf(out, "env %s",
		    ro_config_opt_env(o, env, sizeof(env)));
	case RO_CONFIG_SRC_FILE:
		return ro_buf_printf(out, "file %s:%u", cfg->config_file,
		    cfg->line[o]);
	case RO_CONFIG_SRC_PROFILE:
		return ro_buf_addstr(out, "profile test");
	case RO_CONFIG_SRC_DERIVED:
		if (o == RO_CONFIG_SHARD)
			return ro_buf_printf(out, "env %s and host name",
			    RO_SHARD_ENV);
		return ro_buf_addstr(out, "default: state-dir/audit.jsonl");
	case RO_CONFIG_SRC_DEFAULT:
		break;
	}
	return ro_buf_addstr(out, "default");
}

int
ro_config_print(const struct ro_config *cfg, struct ro_buf *out)
{
	size_t	o, start;
	int	error;

	if ((error = ro_buf_printf(out, "# roomops agent: effective "
	    "configuration\n# precedence: flags > environment (ROOMOPS_*) > "
	    "config file > defaults\n")) < 0)
		return error;
	if (cfg->config_file != NULL) {
		if ((error = ro_buf_addstr(out, "# config file: ")) < 0 ||
		    (error = ro_buf_add_json_str(out, cfg->config_file)) < 0 ||
		    (error = ro_buf_addstr(out, " (")) < 0 ||
		    (error = print_source(cfg, RO_CONFIG_CONFIG, out)) < 0 ||
		    (error = ro_buf_addstr(out, ")\n")) < 0)
			return error;
	} else if ((error = ro_buf_addstr(out, "# config file: none\n")) < 0)
		return error;
	if ((error = ro_buf_printf(out, "# %s: %s\n", RO_CONFIG_TOKEN_ENV,
	    cfg->token_env ? "(set)" : "(unset)")) < 0)
		return error;
	for (o = 0; o < RO_CONFIG_NOPTS; o++) {
		if (ro_config_table[o].flags & F_NOFILE)
			continue;
		start = out->len;
		if ((error = ro_buf_printf(out, "%s: ",
		    ro_config_table[o].name)) < 0 ||
		    (error = ro_config_format_value(cfg, (enum ro_config_opt)o,
		    true,
		    out)) < 0)
			return error;
		do {
			if ((error = ro_buf_addch(out, ' ')) < 0)
				return error;
		} while (out->len - start < PRINT_COLUMN);
		if ((error = ro_buf_addstr(out, "# ")) < 0 ||
		    (error = print_source(cfg, (enum ro_config_opt)o,
		    out)) < 0 ||
		    (error = ro_buf_addch(out, '\n')) < 0)
			return error;
	}
	return RO_OK;
}

int
ro_config_usage(struct ro_buf *out)
{
	size_t	o, start;
	int	error;

	if ((error = ro_buf_addstr(out, "usage: roomops agent [options]\n"
	    "Each option is also ROOMOPS_<NAME> in the environment and <name>"
	    " in the\nconfig file; flags > environment > config file > "
	    "defaults.\n")) < 0)
		return error;
	for (o = 0; o < RO_CONFIG_NOPTS; o++) {
		start = out->len;
		if ((error = ro_buf_printf(out,
		    ro_config_table[o].type == T_BOOL ?
		    "  --%s[=%s]" : "  --%s %s", ro_config_table[o].name,
		    ro_config_table[o].arg)) < 0)
			return error;
		do {
			if ((error = ro_buf_addch(out, ' ')) < 0)
				return error;
		} while (out->len - start < USAGE_COLUMN);
		if ((error = ro_buf_addstr(out, ro_config_table[o].help)) < 0 ||
		    (ro_config_table[o].def != NULL &&
		    ro_config_table[o].def[0] != '\0' &&
		    strcmp(ro_config_table[o].def, "false") != 0 &&
		    (error = ro_buf_printf(out, " (%s)",
		    ro_config_table[o].def)) < 0) ||
		    (error = ro_buf_addch(out, '\n')) < 0)
			return error;
	}
	return ro_buf_printf(out, "  %-*s%s\n", USAGE_COLUMN - 2, "-h, --help",
	    "this text");
}

