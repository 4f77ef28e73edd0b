/*
 * config_impl.h: what config.c (the option table, layers, merging),
 * configfile.c (the YAML config file) and configprint.c (--print-config,
 * --help, value formatting) share. Not for other files.
 */
#ifndef RO_CONFIG_IMPL_H
#define RO_CONFIG_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roomops/buf.h"
#include "roomops/err.h"
#include "config.h"

#define ENV_NAME_MAX	64	/* bytes of ROOMOPS_<NAME> */

enum otype {
	T_STR,		/* char * */
	T_DURATION,	/* uint64_t milliseconds */
	T_BOOL,		/* bool */
	T_UINT,		/* unsigned, min..max */
	T_RATIO,	/* double, 0..1 */
	T_LOGFMT,	/* enum ro_log_format */
	T_LOGLEVEL,	/* enum ro_log_level */
	T_PROFILE,	/* enum ro_config_profile */
	T_SHARD,	/* struct ro_shard */
	T_LISTEN	/* char *listen, plus listen_host and listen_port */
};

#define F_LIVE		0x01	/* a running daemon applies a change */
#define F_EMPTY		0x02	/* "" is a valid value */
#define F_URL		0x04	/* mask the password of user:pass@ */
#define F_HTTP		0x08	/* must be an http(s) URL */
#define F_NOFILE	0x10	/* not a config file key */
#define F_LIST		0x20	/* T_STR: a repeated flag appends ",v" */

struct opt {
	const char	*name;
	enum otype	 type;
	size_t		 off;		/* field in struct ro_config */
	const char	*def;		/* default as text; NULL: unset */
	uint64_t	 min, max;	/* T_UINT; T_DURATION: max ms */
	unsigned	 flags;
	const char	*arg;		/* --help */
	const char	*help;
};

/* The option table (config.c), indexed by enum ro_config_opt. */
extern const struct opt *const ro_config_table;
#define OPT_BASE	1000	/* getopt_long value of option 0 */
extern const char *const ro_config_log_levels[];
extern const char *const ro_config_log_formats[];
extern const char *const ro_config_profiles[];

/* The raw values of one source. */
struct ro_config_layer {
	enum ro_config_source src;
	char		*file;			/* RO_CONFIG_SRC_FILE: path */
	bool		 help;			/* RO_CONFIG_SRC_FLAG: -h */
	char		*val[RO_CONFIG_NOPTS];	/* NULL: not set here */
	unsigned	 line[RO_CONFIG_NOPTS];	/* file positions, 1-based */
	unsigned	 col[RO_CONFIG_NOPTS];
};

/* The field of option o in cfg. */
const void *ro_config_cfield(const struct ro_config *cfg, enum ro_config_opt o);
/* configlayer.c: one source's raw values. */
/* Set option o of a layer to v (copied). RO_ENOMEM. */
int	ro_config_layer_set(struct ro_config_layer *l, enum ro_config_opt o,
	    const char *v, struct ro_err *err);
/* Free a layer's values (the struct stays usable, empty). */
void	ro_config_layer_release(struct ro_config_layer *l);
/* Release and free a heap layer; NULL is a no-op. */
void	ro_config_layer_free(struct ro_config_layer *l);
/* A heap copy of src into *out. RO_ENOMEM. */
int	ro_config_layer_copy(struct ro_config_layer **out,
	    const struct ro_config_layer *src, struct ro_err *err);
/* The flags of argv (getopt_long, main thread only). RO_EINVALID names
 * the bad flag; -h sets l->help. */
int	ro_config_layer_from_argv(struct ro_config_layer *l, int argc,
	    char *argv[], struct ro_err *err);
/* The ROOMOPS_* environment (empty values count as unset). */
int	ro_config_layer_from_env(struct ro_config_layer *l,
	    struct ro_err *err);
/* The value of o as YAML; masked: URL passwords hidden (configprint.c). */
int	ro_config_format_value(const struct ro_config *cfg,
	    enum ro_config_opt o, bool masked, struct ro_buf *out);
/* Read the YAML config file at path (named by from: "--config" or
 * "ROOMOPS_CONFIG" in messages) into l (configfile.c). */
int	ro_config_layer_from_file(struct ro_config_layer *l, const char *path,
	    const char *from, struct ro_err *err);

#endif
