/*
 * applybody.h: the body of POST /apply (agent.md "HTTP API"):
 * {"spec": RoomSpec} as JSON, parsed and validated into a spec. A pure
 * function of the bytes (no I/O, no shared state): api.c calls it, and
 * tests/fuzz/fuzz_apply.c fuzzes it.
 */
#ifndef RO_APPLYBODY_H
#define RO_APPLYBODY_H

#include <stddef.h>

#include "roomops/diag.h"
#include "roomops/model.h"

/*
 * Parse body[0..len) (body[len] must be '\0', as struct ro_buf keeps it).
 *
 * @param max       bytes allowed (RO_API_APPLY_MAX in the API)
 * @param[out] out  new spec (ro_spec_free), seeds unresolved; untouched
 *                  on error
 * @param diag      the spec's errors and warnings; may not be NULL
 * @param err       one line for the client: always set on error
 * @return RO_OK; RO_ETOOBIG (over max); RO_EINVALID (empty, a NUL byte,
 *         malformed JSON, not an object, no "spec", or an invalid spec:
 *         diag then has every error); RO_ENOMEM
 */
int	ro_applybody_parse(const char *body, size_t len, size_t max,
	    struct ro_spec **out, struct ro_diag *diag, struct ro_err *err);

#endif
