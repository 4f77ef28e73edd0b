/*
 * node.h: a small document tree with source positions, shared by the YAML
 * (yaml.h) and JSON inputs of RoomSpecs, so that one validator (spec.c)
 * sees the same shape, types and field paths from either.
 *
 * A node owns everything below it. Scalars keep their text as written
 * (YAML) or as formatted from cJSON; typed access (integers, booleans) is
 * the validator's job. Maps keep their pairs in document order, duplicates
 * included, as items[0] key, items[1] value, items[2] key, ... Not
 * thread-safe; one owner.
 */
#ifndef RO_NODE_H
#define RO_NODE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "roomops/buf.h"
#include "roomops/diag.h"

enum ro_node_type {
	RO_NODE_NULL = 0,	/* YAML null, ~, empty; JSON null */
	RO_NODE_BOOL,		/* str is "true"/"false" as written */
	RO_NODE_INT,		/* str is a decimal integer, maybe signed */
	RO_NODE_FLOAT,		/* any other number */
	RO_NODE_STR,		/* text; may contain NUL bytes (YAML "\0") */
	RO_NODE_SEQ,
	RO_NODE_MAP
};

struct ro_node {
	enum ro_node_type type;
	unsigned	 line, col;	/* 1-based; 0 when unknown (JSON) */
	char		*str;		/* scalars: NUL-terminated text */
	size_t		 len;		/* scalars: bytes of str */
	struct ro_node	*items;		/* SEQ: items; MAP: key, value, ... */
	size_t		 n;		/* nodes in items (MAP: 2 per pair) */
	size_t		 cap;
};

#define RO_NODE_INIT	{ RO_NODE_NULL, 0, 0, NULL, 0, NULL, 0, 0 }

#define RO_NODE_QUOTE_MAX	64	/* bytes of user text in a message */
#define RO_NODE_QUOTE_SIZE	(RO_NODE_QUOTE_MAX * 4 + 8)	/* buffer */

/* Free everything below n and reset it to RO_NODE_INIT. */
void	ro_node_release(struct ro_node *n);

/*
 * Append a zeroed child to a SEQ or MAP node and return it in *child
 * (valid until the next append to the same parent). RO_ENOMEM.
 */
int	ro_node_append(struct ro_node *parent, struct ro_node **child);

/* Set a scalar's type and a copy of its text. RO_ENOMEM. */
int	ro_node_set_scalar(struct ro_node *n, enum ro_node_type type,
	    const char *s, size_t len);

/* Pairs of a MAP; key and value of pair i. */
size_t	ro_node_map_size(const struct ro_node *map);
const struct ro_node *ro_node_map_key(const struct ro_node *map, size_t i);
const struct ro_node *ro_node_map_value(const struct ro_node *map, size_t i);

/* "a string", "a list", ... for messages. */
const char *ro_node_type_name(enum ro_node_type type);

/*
 * Append one field-path step to path: ".key" (no dot at the start) when
 * key is a plain identifier, otherwise ["quoted"]; "[i]" for an index.
 * Keys are quoted with ro_node_quote(). RO_ETOOBIG, RO_ENOMEM.
 */
int	ro_node_path_key(struct ro_buf *path, const char *key, size_t len);
int	ro_node_path_index(struct ro_buf *path, size_t i);

/*
 * Quote user text for a message into out (RO_NODE_QUOTE_SIZE bytes):
 * double quotes, escapes for quotes, backslashes, control characters and
 * bytes that are not UTF-8, and "..." after RO_NODE_QUOTE_MAX bytes.
 * Returns out.
 */
const char *ro_node_quote(char *out, const char *s, size_t len);

/*
 * Is s[0..len) valid UTF-8 without NUL bytes? Overlong forms,
 * surrogates and code points past U+10FFFF are invalid. On failure *bad
 * (may be NULL) is the offset of the first bad byte.
 */
bool	ro_node_utf8_valid(const char *s, size_t len, size_t *bad);

/*
 * Convert a cJSON value into a tree (positions 0). Containers nested
 * deeper than max_depth are refused with an error in diag naming the
 * field path. Object members keep their order, duplicates included.
 * @return RO_OK, RO_EINVALID (see diag), RO_ENOMEM; out is released on
 *         error
 */
int	ro_node_from_json(struct ro_node *out, const cJSON *json,
	    unsigned max_depth, const char *origin, struct ro_diag *diag);

#endif
