/*
 * spec.h: RoomSpec loading and validation (roomspec.md), from YAML
 * (libyaml) and from JSON (cJSON, for POST /apply).
 *
 * Every rule and limit of roomspec.md is checked here; all errors of a
 * document are collected in the diag, each naming origin, line, column
 * and field path. seedFrom is checked for form only (relative, inside the
 * root lexically); reading the content is seed.h's job.
 * Thread-safe: no shared state.
 */
#ifndef RO_SPEC_H
#define RO_SPEC_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "roomops/diag.h"
#include "roomops/model.h"

/*
 * Parse and validate one YAML document held in buf.
 *
 * @param[out] out  new spec on success (ro_spec_free); untouched on error
 * @param origin    name used in messages (the file path)
 * @param diag      receives every error and warning; may not be NULL
 * @param err       first error, one line; may be NULL
 * @return RO_OK, RO_EINVALID (diag has the errors), RO_ETOOBIG (over
 *         RO_SPEC_FILE_MAX), RO_ENOMEM
 */
int	ro_spec_parse_yaml(struct ro_spec **out, const char *origin,
	    const char *buf, size_t len, struct ro_diag *diag,
	    struct ro_err *err);

/* Read a file (≤ RO_SPEC_FILE_MAX) and ro_spec_parse_yaml() it. RO_EIO,
 * RO_ENOTFOUND besides the above. */
int	ro_spec_load_file(struct ro_spec **out, const char *path,
	    struct ro_diag *diag, struct ro_err *err);

/* The same model from a JSON object (the "spec" of POST /apply). Line
 * numbers are 0; field paths are given. Return codes as above. */
int	ro_spec_from_json(struct ro_spec **out, const char *origin,
	    const cJSON *obj, struct ro_diag *diag, struct ro_err *err);

/* Is id a well-formed roomId (^room-[A-Za-z0-9_-]{6,}$)? */
int	ro_spec_valid_room_id(const char *id);
/* Is id a well-formed entity id (^E-[A-Za-z0-9_-]{2,64}$)? */
int	ro_spec_valid_entity_id(const char *id);

#endif
