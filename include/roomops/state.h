/*
 * state.h: RoomState JSON (roomserver-api.md) decoding and encoding.
 * Decoding checks types, sizes and limits as carefully as the spec loader:
 * a malformed or hostile body is RO_EINVALID with a field path, never a
 * crash. Thread-safe: no shared state.
 */
#ifndef RO_STATE_H
#define RO_STATE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "roomops/buf.h"
#include "roomops/model.h"

/*
 * @param[out] out  new state (ro_state_free); untouched on error
 * @return RO_OK, RO_EINVALID (err names the field), RO_ETOOBIG (over
 *         RO_STATE_JSON_MAX or the entity/artifact limits), RO_ENOMEM
 */
int	ro_state_parse_json(struct ro_state **out, const char *buf, size_t len,
	    struct ro_err *err);
int	ro_state_from_json(struct ro_state **out, const cJSON *obj,
	    struct ro_err *err);
/* An empty state for room_id (revision 0, default policies). */
int	ro_state_new_empty(struct ro_state **out, const char *room_id,
	    struct ro_err *err);
/* RoomState object; NULL on ENOMEM. */
cJSON	*ro_state_to_json(const struct ro_state *s);

#endif
