/*
 * configfile.c: the agent's YAML config file (--config FILE) read into a
 * layer of raw values: a mapping of option names to scalars, each value
 * type-checked against the option table, with its line and column kept
 * for messages. Merged with the other layers by config.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/buf.h"
#include "roomops/file.h"
#include "roomops/node.h"
#include "roomops/yaml.h"
#include "config.h"
#include "config_impl.h"

#include "../common/banned.h"

#define YAML_DEPTH	4	/* a mapping of scalars needs 2 */

/* Only blank lines and comments: an empty config file. */
static bool
only_comments(const char *p, size_t len)
{
	const char	*end = p + len;

	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
			p++;
		if (p < end && *p != '\n' && *p != '#')
			return false;
		while (p < end && *p != '\n')
			p++;
		if (p < end)
			p++;
	}
	return true;
}

static bool
file_type_ok(enum otype t, enum ro_node_type nt)
{
	switch (t) {
	case T_BOOL:
		return nt == RO_NODE_BOOL;
	case T_UINT:
		return nt == RO_NODE_INT;
	case T_RATIO:
		return nt == RO_NODE_INT || nt == RO_NODE_FLOAT;
	case T_DURATION:
		return nt == RO_NODE_STR || nt == RO_NODE_INT;
	case T_STR:
		return nt == RO_NODE_STR || nt == RO_NODE_INT ||
		    nt == RO_NODE_FLOAT;
	default:
		return nt == RO_NODE_STR;
	}
}

static const char *
file_type_want(enum otype t)
{
	switch (t) {
	case T_BOOL:		return "true or false";
	case T_UINT:		return "an integer";
	case T_RATIO:		return "a number from 0 to 1";
	case T_DURATION:	return "a duration such as 10s";
	default:		return "a string";
	}
}

int
ro_config_layer_from_file(struct ro_config_layer *l, const char *path,
    const char *from, struct ro_err *err)
{
	struct ro_buf		 b = RO_BUF_INIT, kname = RO_BUF_INIT;
	struct ro_node		 root = RO_NODE_INIT;
	struct ro_diag		 diag = RO_DIAG_INIT;
	struct ro_err		 e = RO_ERR_INIT;
	const struct ro_node	*k, *v;
	unsigned		 seen[RO_CONFIG_NOPTS] = { 0 };
	size_t			 i, o;
	int			 error;

	l->src = RO_CONFIG_SRC_FILE;
	if ((l->file = strdup(path)) == NULL)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	/* ro_file_read() enforces RO_CONFIG_FILE_MAX; b grows by chunks */
	ro_buf_init(&kname, 1024);
	if ((error = ro_file_read(path, RO_CONFIG_FILE_MAX, &b, &e)) < 0) {
		ro_err_set(err, error, "%s: %s", from, e.msg);
		goto done;
	}
	if (only_comments(b.ptr, b.len))
		goto done;
	if ((error = ro_yaml_parse(&root, path, b.ptr, b.len, YAML_DEPTH,
	    &diag)) < 0) {
		ro_err_set(err, error, "%s", diag.errors.n > 0 ?
		    diag.errors.v[0] : "out of memory");
		goto done;
	}
	if (root.type == RO_NODE_NULL)
		goto done;
	if (root.type != RO_NODE_MAP) {
		error = ro_err_set(err, RO_EINVALID, "%s:%u:%u: expected a "
		    "mapping of option names to values, not %s", path,
		    root.line, root.col, ro_node_type_name(root.type));
		goto done;
	}
	for (i = 0; i < ro_node_map_size(&root); i++) {
		k = ro_node_map_key(&root, i);
		v = ro_node_map_value(&root, i);
		ro_buf_reset(&kname);
		if ((error = ro_node_path_key(&kname, k->str != NULL ? k->str :
		    "", k->str != NULL ? k->len : 0)) < 0) {
			ro_err_set(err, error, "out of memory");
			goto done;
		}
		for (o = 0; o < RO_CONFIG_NOPTS; o++)
			if (k->str != NULL && strlen(k->str) == k->len &&
			    strcmp(k->str, ro_config_table[o].name) == 0)
				break;
		if (o == RO_CONFIG_NOPTS) {
			error = ro_err_set(err, RO_EINVALID, "%s:%u:%u: %s: "
			    "unknown option", path, k->line, k->col,
			    ro_buf_cstr(&kname));
			goto done;
		}
		if (ro_config_table[o].flags & F_NOFILE) {
			error = ro_err_set(err, RO_EINVALID, "%s:%u:%u: %s: "
			    "not allowed in a config file (use --%s or %s)",
			    path, k->line, k->col, ro_config_table[o].name,
			    ro_config_table[o].name, "ROOMOPS_CONFIG");
			goto done;
		}
		if (seen[o] != 0) {
			error = ro_err_set(err, RO_EINVALID, "%s:%u:%u: %s: "
			    "duplicate key (first at line %u)", path, k->line,
			    k->col, ro_config_table[o].name, seen[o]);
			goto done;
		}
		seen[o] = k->line > 0 ? k->line : 1;
		if (v->type == RO_NODE_NULL)
			continue;	/* "key: ~" = not set here */
		if (!file_type_ok(ro_config_table[o].type, v->type)) {
			error = ro_err_set(err, RO_EINVALID, "%s:%u:%u: %s: "
			    "expected %s, not %s", path, v->line, v->col,
			    ro_config_table[o].name,
			    file_type_want(ro_config_table[o].type),
			    ro_node_type_name(v->type));
			goto done;
		}
		if (strlen(v->str) != v->len) {
			error = ro_err_set(err, RO_EINVALID, "%s:%u:%u: %s: "
			    "contains a NUL byte", path, v->line, v->col,
			    ro_config_table[o].name);
			goto done;
		}
		if ((error = ro_config_layer_set(l, (enum ro_config_opt)o,
		    v->str,
		    err)) < 0)
			goto done;
		l->line[o] = v->line;
		l->col[o] = v->col;
	}
	error = RO_OK;
done:
	ro_node_release(&root);
	ro_diag_release(&diag);
	ro_buf_release(&kname);
	ro_buf_release(&b);
	return error;
}

