/*
 * yaml.h: one YAML document into a node tree (node.h), with libyaml's
 * event API and the hostile-input rules of roomspec.md: exactly one
 * document, no anchors, aliases or tags (refused at the first one, so an
 * expansion bomb costs nothing), bounded nesting, UTF-8 input only.
 *
 * Plain scalars are typed with the YAML 1.2 core schema (null, true/false,
 * decimal integers, floats); every other scalar is a string. Mapping keys
 * must be scalars. Thread-safe: no shared state.
 */
#ifndef RO_YAML_H
#define RO_YAML_H

#include <stddef.h>

#include "roomops/diag.h"
#include "roomops/node.h"

/*
 * Parse buf[0..len) into out. Stops at the first syntax error or refused
 * construct, reported in diag as "origin:line:col: field.path: text"
 * (the path of the enclosing node, when there is one).
 * @return RO_OK, RO_EINVALID (one error in diag), RO_ENOMEM; out is
 *         released on error
 */
int	ro_yaml_parse(struct ro_node *out, const char *origin, const char *buf,
	    size_t len, unsigned max_depth, struct ro_diag *diag);

#endif
