/*
 * vctx.h: the RoomSpec validator's context (internal to common/spec.c and
 * common/vctx.c): the field path of the node in hand, messages held back
 * and reported in document order, typed values, and mappings checked for
 * duplicate and unknown keys (with a suggestion for a near miss).
 *
 * Thread rules: a context belongs to one validation, on one thread.
 */
#ifndef RO_VCTX_H
#define RO_VCTX_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "roomops/buf.h"
#include "roomops/diag.h"
#include "roomops/node.h"
#include "roomops/spec.h"
#include "roomops/strv.h"

#define SPEC_ORIGIN_DEFAULT	"<input>"
#define SPEC_PATH_MAX		(16u << 10)	/* bytes of a field path */
#define SPEC_MSG_MAX		(4u << 10)	/* bytes of one message */
#define SPEC_FIELDS_MAX		8		/* keys of one mapping */
#define SPEC_POLICY_MAX_MAX	INT_MAX		/* maxArtifactsPerEntity */
#define SPEC_NEAR_MAX		64		/* bytes of a key to suggest */
#define SPEC_ERRORS_KEPT	10000		/* errors sorted per document */

/* A known key of a mapping, with its optional alias (camelCase). */
struct field {
	const char	*name;
	const char	*alias;
};

/* An error held back until the document is done, to report in order. */
struct verror {
	unsigned	 line, col;
	size_t		 seq;		/* detection order, for ties */
	char		*field;
	char		*msg;
};

struct vctx {
	const char	*origin;
	struct ro_diag	*diag;
	struct ro_spec	*spec;
	struct ro_buf	 path;		/* field path of the current node */
	struct verror	*errs;		/* the first SPEC_ERRORS_KEPT */
	size_t		 nerr;		/* errors of this document */
	size_t		 errs_cap;
	bool		 oom;
};

/* For duplicate detection: a key and the index of its item. */
struct keyref {
	const char	*s;
	size_t		 len;
	size_t		 i;
};

size_t	ro_vctx_path_key(struct vctx *v, const char *key, size_t len);
/* The key as written when given, else the canonical name. */
size_t	ro_vctx_path_field(struct vctx *v, const struct ro_node *key,
	    const char *name);
/* ["key"], for the free-form keys of annotations. */
size_t	ro_vctx_path_bracket(struct vctx *v, const struct ro_node *key);
size_t	ro_vctx_path_index(struct vctx *v, size_t i);
void	ro_vctx_path_pop(struct vctx *v, size_t mark);
/* Record an error at a node, under the current field path. */
void	ro_vctx_err(struct vctx *v, const struct ro_node *at, const char *fmt,
	    ...) RO_PRINTF(3, 4);
/* Hand the held errors to the diag in file order, then free them. */
void	ro_vctx_flush(struct vctx *v);
/* A warning goes to the diag and, in the same words, to spec->warnings. */
void	ro_vctx_warn(struct vctx *v, const struct ro_node *at, const char *fmt,
	    ...) RO_PRINTF(3, 4);
/* "a list", "string \"x\"", "integer 12" ... into out. */
const char	*ro_vctx_describe(char *out, size_t size, const struct ro_node *n);
void	ro_vctx_type_err(struct vctx *v, const struct ro_node *at,
	    const struct ro_node *n, const char *want);
/* " (first at line 3)" or "" when positions are unknown. */
const char	*ro_vctx_first_at(char *out, size_t size,
	    const struct ro_node *first);
bool	ro_vctx_absent(const struct ro_node *n);
bool	ro_vctx_check_text(struct vctx *v, const struct ro_node *at,
	    const struct ro_node *n);
bool	ro_vctx_get_str(struct vctx *v, const struct ro_node *at,
	    const struct ro_node *n, char **out);
/* A required, non-empty string; parent is where a missing one is. */
bool	ro_vctx_get_required(struct vctx *v, const struct ro_node *parent,
	    const struct ro_node *at, const struct ro_node *n, char **out);
bool	ro_vctx_get_bool(struct vctx *v, const struct ro_node *at,
	    const struct ro_node *n, bool *out);
bool	ro_vctx_get_long(struct vctx *v, const struct ro_node *at,
	    const struct ro_node *n, long min, long max, const char *range,
	    long *out);
/* A list of strings; null is the empty list. */
void	ro_vctx_get_strv(struct vctx *v, const struct ro_node *at,
	    const struct ro_node *n, struct ro_strv *out);
const char * ro_vctx_one_of(const char *s, const char *const *set, bool icase);
/*
 * first[refs[k].i] = index of the first item with the same key, or
 * SIZE_MAX for first occurrences; first has nitems slots. Sorting keeps
 * this O(n log n) on hostile input.
 */
void	ro_vctx_find_dups(struct keyref *refs, size_t nrefs, size_t *first,
	    size_t nitems);
/* Report repeated keys of a map; annotation keys go in brackets. */
void	ro_vctx_check_dup_keys(struct vctx *v, const struct ro_node *map,
	    bool bracket);
/*
 * Match a mapping's keys against its fields: vals[i] and keys[i] get the
 * value and key of fields[i] (NULL when absent). Reports duplicate keys,
 * unknown keys, and a field given both by name and by alias.
 */
void	ro_vctx_map_fields(struct vctx *v, const struct ro_node *map,
	    const struct field *f, size_t nf, const struct ro_node **vals,
	    const struct ro_node **keys);

#endif
