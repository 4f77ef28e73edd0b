/*
 * apicall.h: one HTTP request from a CLI verb to a running agent's API
 * (`roomops status`, `roomops confirm`). Blocking; for the CLI only.
 */
#ifndef RO_APICALL_H
#define RO_APICALL_H

#include "roomops/buf.h"

#define RO_APICALL_DEFAULT	"http://127.0.0.1:8080"
#define RO_APICALL_BODY_MAX	(16u << 20)	/* bytes */
#define RO_APICALL_TIMEOUT_MS	10000

/* method to base+path with an optional bearer token; the answer's body
 * into out. Returns the HTTP status, or a negative status code (err). */
long	ro_apicall(const char *method, const char *base, const char *path,
	    const char *token, struct ro_buf *out, struct ro_err *err);

#endif
