/*
 * configlayer.c: the raw values of one source of options (a layer): the
 * command-line flags (getopt_long, exact names only: no abbreviations),
 * the ROOMOPS_* environment, copies for a reload, and freeing them. The
 * config file's layer is read by configfile.c; config.c merges them.
 *
 * Thread rules: ro_config_layer_from_argv() uses getopt_long(): main
 * thread, before other threads start.
 */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roomops/buf.h"
#include "roomops/node.h"
#include "config.h"
#include "config_impl.h"

#include "../common/banned.h"

void
ro_config_layer_release(struct ro_config_layer *l)
{
	size_t	i;

	if (l == NULL)
		return;
	for (i = 0; i < RO_CONFIG_NOPTS; i++)
		free(l->val[i]);
	free(l->file);
	memset(l, 0, sizeof(*l));
}

void
ro_config_layer_free(struct ro_config_layer *l)
{
	ro_config_layer_release(l);
	free(l);
}

int
ro_config_layer_set(struct ro_config_layer *l, enum ro_config_opt o,
    const char *v,
    struct ro_err *err)
{
	char	*s;

	if ((s = strdup(v)) == NULL)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	free(l->val[o]);
	l->val[o] = s;
	return RO_OK;
}

/* A repeated list flag: "old,v". */
static int
layer_append(struct ro_config_layer *l, enum ro_config_opt o, const char *v,
    struct ro_err *err)
{
	char	*s;

	if (asprintf(&s, "%s,%s", l->val[o], v) < 0)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	free(l->val[o]);
	l->val[o] = s;
	return RO_OK;
}

int
ro_config_layer_copy(struct ro_config_layer **out,
    const struct ro_config_layer *src, struct ro_err *err)
{
	struct ro_config_layer	*l;
	size_t			 i;
	int			 error = RO_OK;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	l->src = src->src;
	l->help = src->help;
	memcpy(l->line, src->line, sizeof(l->line));
	memcpy(l->col, src->col, sizeof(l->col));
	for (i = 0; i < RO_CONFIG_NOPTS && error == RO_OK; i++)
		if (src->val[i] != NULL)
			error = ro_config_layer_set(l, (enum ro_config_opt)i,
			    src->val[i], err);
	if (error == RO_OK && src->file != NULL &&
	    (l->file = strdup(src->file)) == NULL)
		error = ro_err_set(err, RO_ENOMEM, "out of memory");
	if (error < 0) {
		ro_config_layer_free(l);
		return error;
	}
	*out = l;
	return RO_OK;
}

/* Does arg ("name" or "name=value", after "--") name exactly `name`? */
static bool
exact_name(const char *arg, const char *name)
{
	size_t	n = strlen(name);

	return strncmp(arg, name, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

int
ro_config_layer_from_argv(struct ro_config_layer *l, int argc, char *argv[],
    struct ro_err *err)
{
	const struct opt	*opts = ro_config_table;
	struct option	 lo[RO_CONFIG_NOPTS + 2];
	char		 q[RO_NODE_QUOTE_SIZE];
	const char	*arg;
	size_t		 i;
	int		 ch, idx, prev, last_bool = -1, error;

	l->src = RO_CONFIG_SRC_FLAG;
	for (i = 0; i < RO_CONFIG_NOPTS; i++) {
		lo[i].name = opts[i].name;
		lo[i].has_arg = opts[i].type == T_BOOL ? optional_argument :
		    required_argument;
		lo[i].flag = NULL;
		lo[i].val = OPT_BASE + (int)i;
	}
	lo[i++] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[i] = (struct option){ NULL, 0, NULL, 0 };

	/* "+": no permutation, so argv[prev] is the option just parsed */
	optind = 0;
	opterr = 0;
	for (;;) {
		prev = optind == 0 ? 1 : optind;
		if ((ch = getopt_long(argc, argv, "+:h", lo, &idx)) == -1)
			break;
		arg = prev < argc ? argv[prev] : "";
		if (ch == '?' && optopt == 'h')
			return ro_err_set(err, RO_EINVALID, "--help takes no "
			    "value");
		if (ch == '?' && optopt != 0 && optopt < OPT_BASE)
			return ro_err_set(err, RO_EINVALID, "unknown option "
			    "-%c (see --help)", optopt);
		if (ch == '?')
			return ro_err_set(err, RO_EINVALID, "unknown option %s "
			    "(see --help)", ro_node_quote(q, arg,
			    strcspn(arg, "=")));
		if (ch == ':')
			return ro_err_set(err, RO_EINVALID, "--%s: missing "
			    "value", optopt >= OPT_BASE && optopt < OPT_BASE +
			    RO_CONFIG_NOPTS ? opts[optopt - OPT_BASE].name :
			    "?");
		if (ch == 'h') {
			l->help = true;
			continue;
		}
		/* getopt_long takes unique abbreviations; we do not */
		idx = ch - OPT_BASE;
		if (strncmp(arg, "--", 2) != 0 ||
		    !exact_name(arg + 2, opts[idx].name))
			return ro_err_set(err, RO_EINVALID, "unknown option %s "
			    "(did you mean --%s?)", ro_node_quote(q, arg,
			    strcspn(arg, "=")), opts[idx].name);
		if ((opts[idx].flags & F_LIST) && l->val[idx] != NULL &&
		    optarg != NULL) {
			if ((error = layer_append(l, (enum ro_config_opt)idx,
			    optarg, err)) < 0)
				return error;
		} else if ((error = ro_config_layer_set(l,
		    (enum ro_config_opt)idx,
		    optarg != NULL ? optarg : "true", err)) < 0)
			return error;
		last_bool = opts[idx].type == T_BOOL && optarg == NULL ?
		    idx : -1;
	}
	if (optind < argc) {
		arg = argv[optind];
		if (last_bool >= 0 && (strcmp(arg, "true") == 0 ||
		    strcmp(arg, "false") == 0))
			return ro_err_set(err, RO_EINVALID, "unexpected "
			    "argument \"%s\" (write --%s=%s)", arg,
			    opts[last_bool].name, arg);
		return ro_err_set(err, RO_EINVALID, "unexpected argument %s",
		    ro_node_quote(q, arg, strlen(arg)));
	}
	return RO_OK;
}

int
ro_config_layer_from_env(struct ro_config_layer *l, struct ro_err *err)
{
	char		 name[ENV_NAME_MAX];
	const char	*v;
	size_t		 i;
	int		 error;

	l->src = RO_CONFIG_SRC_ENV;
	for (i = 0; i < RO_CONFIG_NOPTS; i++) {
		v = getenv(ro_config_opt_env((enum ro_config_opt)i, name,
		    sizeof(name)));
		if (v == NULL || v[0] == '\0')
			continue;
		if ((error = ro_config_layer_set(l, (enum ro_config_opt)i, v,
		    err)) < 0)
			return error;
	}
	return RO_OK;
}
