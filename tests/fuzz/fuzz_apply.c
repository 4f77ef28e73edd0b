/*
 * fuzz_apply.c: libFuzzer target for the body of POST /apply
 * (agent/applybody.c: the size cap, the JSON parse, "spec", and
 * ro_spec_from_json), the exact path api.c takes before queueing a job.
 *
 * Oracles, besides ASan/UBSan: a failure always says why (err.msg set,
 * the code in err) and leaves out untouched; a success yields a spec
 * that obeys roomspec.md's rules (a well-formed roomId, well-formed and
 * unique entity ids, unique artifact names, a version > 0, policies
 * set, limits kept) with no errors in the diag; a deep copy of it is
 * equal in every count; a body over the cap is RO_ETOOBIG.
 *
 *	build-fuzz/fuzz_apply -max_total_time=60 tests/fuzz/corpus/apply
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/spec.h"
#include "applybody.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok, const char *what, const char *body)
{
	if (!ok) {
		fprintf(stderr, "fuzz_apply: %s\nbody: %.400s\n", what, body);
		abort();
	}
}

static void
check_spec(const struct ro_spec *s, const char *body)
{
	struct ro_spec	*copy = NULL;
	size_t		 i, j;

	check(ro_spec_valid_room_id(s->room_id), "bad roomId accepted", body);
	check(s->version > 0, "version <= 0 accepted", body);
	check(s->n_entities <= RO_SPEC_ENTITIES_MAX &&
	    s->n_artifacts <= RO_SPEC_ARTIFACTS_MAX, "limits", body);
	check(s->policies.dm_visibility_default != NULL,
	    "policies without defaults", body);
	for (i = 0; i < s->n_entities; i++) {
		check(ro_spec_valid_entity_id(s->entities[i].id),
		    "bad entity id accepted", body);
		check(s->entities[i].kind != NULL &&
		    s->entities[i].visibility != NULL, "entity defaults", body);
		for (j = 0; j < i; j++)
			check(strcmp(s->entities[i].id, s->entities[j].id) != 0,
			    "duplicate entity id accepted", body);
	}
	for (i = 0; i < s->n_artifacts; i++)
		for (j = 0; j < i; j++)
			check(strcmp(s->artifacts[i].name,
			    s->artifacts[j].name) != 0,
			    "duplicate artifact name accepted", body);
	check(ro_spec_copy(&copy, s) == RO_OK, "copy failed", body);
	check(copy->n_entities == s->n_entities &&
	    copy->n_artifacts == s->n_artifacts &&
	    strcmp(copy->room_id, s->room_id) == 0, "copy differs", body);
	ro_spec_free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ro_diag	 diag = RO_DIAG_INIT;
	struct ro_err	 err = RO_ERR_INIT;
	struct ro_spec	*spec = NULL;
	char		*body;
	int		 rc;

	if ((body = malloc(size + 1)) == NULL)
		return 0;
	memcpy(body, data, size);
	body[size] = '\0';	/* as struct ro_buf keeps a request body */

	rc = ro_applybody_parse(body, size, 1u << 20, &spec, &diag, &err);
	if (rc == RO_OK) {
		check(spec != NULL, "RO_OK without a spec", body);
		check(diag.errors.n == 0, "RO_OK with errors", body);
		check_spec(spec, body);
	} else {
		check(spec == NULL, "a failure left a spec", body);
		check(rc == RO_EINVALID || rc == RO_ETOOBIG || rc == RO_ENOMEM,
		    "unexpected code", body);
		check(err.code == rc && err.msg[0] != '\0',
		    "a failure without a reason", body);
	}
	ro_spec_free(spec);
	spec = NULL;
	ro_diag_release(&diag);

	/* the cap: one byte less than the body is refused as too big */
	if (size > 0) {
		ro_err_clear(&err);
		rc = ro_applybody_parse(body, size, size - 1, &spec, &diag,
		    &err);
		check(rc == RO_ETOOBIG && spec == NULL, "cap not enforced",
		    body);
		ro_diag_release(&diag);
	}
	free(body);
	return 0;
}
