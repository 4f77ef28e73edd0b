/* applybody.c: the JSON body of POST /apply into a validated spec. */
#include <string.h>

#include <cjson/cJSON.h>

#include "roomops/spec.h"
#include "applybody.h"

#include "../common/banned.h"

int
ro_applybody_parse(const char *body, size_t len, size_t max,
    struct ro_spec **out, struct ro_diag *diag, struct ro_err *err)
{
	const char	*end = NULL;
	const cJSON	*sj;
	cJSON		*doc = NULL;
	int		 error;

	if (len > max) {
		error = ro_err_set(err, RO_ETOOBIG, "body over %zu bytes", max);
		goto done;
	}
	if (len == 0) {
		error = ro_err_set(err, RO_EINVALID, "empty body: expected "
		    "{\"spec\": RoomSpec}");
		goto done;
	}
	if (memchr(body, '\0', len) != NULL) {
		error = ro_err_set(err, RO_EINVALID, "malformed JSON: NUL byte "
		    "in the body");
		goto done;
	}
	/* length + 1: the terminating NUL, so that trailing garbage fails */
	if ((doc = cJSON_ParseWithLengthOpts(body, len + 1, &end, 1)) == NULL) {
		error = ro_err_set(err, RO_EINVALID, "malformed JSON at byte %zu",
		    end != NULL && end >= body ? (size_t)(end - body) : 0);
		goto done;
	}
	if (!cJSON_IsObject(doc)) {
		error = ro_err_set(err, RO_EINVALID, "the body must be a JSON "
		    "object {\"spec\": RoomSpec}");
		goto done;
	}
	sj = cJSON_GetObjectItemCaseSensitive(doc, "spec");
	if (sj == NULL || cJSON_IsNull(sj)) {
		error = ro_err_set(err, RO_EINVALID, "spec: required field is "
		    "missing");
		goto done;
	}
	error = ro_spec_from_json(out, "<api>", sj, diag, err);
	if (error < 0 && error != RO_ENOMEM && err != NULL &&
	    err->msg[0] == '\0')
		ro_err_set(err, error, "invalid spec");
done:
	cJSON_Delete(doc);
	return error;
}
