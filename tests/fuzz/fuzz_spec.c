/*
 * fuzz_spec.c: libFuzzer target for the RoomSpec parser. Every input goes
 * to ro_spec_parse_yaml(), and to ro_spec_from_json() as well when it
 * parses as JSON. Besides the sanitizers, a few oracles abort on a wrong
 * answer: a spec comes back exactly when no error was reported, every
 * accepted spec obeys the rules, every message names its origin, and a
 * document accepted both as YAML and as JSON yields the same room.
 *
 *	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DRO_FUZZ=ON
 *	cmake --build build-fuzz --target fuzz_spec
 *	build-fuzz/tests/fuzz_spec -max_total_time=30 tests/fuzz/corpus/spec
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <yaml.h>

/*
 * The parser is compiled into this target, so that it carries the
 * fuzzer's coverage instrumentation: the RO_FUZZ compile flags are added
 * after ro_common is defined, so the library itself is not instrumented.
 * The library's copies of these four files are then never linked.
 */
#include "../../common/node.c"
#include "../../common/yaml.c"
#include "../../common/vctx.c"
#include "../../common/spec.c"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_accepted(const struct ro_spec *s)
{
	size_t	i;

	if (!ro_spec_valid_room_id(s->room_id) || s->version <= 0 ||
	    s->policies.dm_visibility_default == NULL ||
	    s->n_entities > RO_SPEC_ENTITIES_MAX ||
	    s->n_artifacts > RO_SPEC_ARTIFACTS_MAX ||
	    s->ann_keys.n != s->ann_values.n)
		abort();
	for (i = 0; i < s->n_entities; i++) {
		if (!ro_spec_valid_entity_id(s->entities[i].id) ||
		    ro_vctx_one_of(s->entities[i].kind, entity_kinds,
		    false) == NULL ||
		    ro_vctx_one_of(s->entities[i].visibility, visibilities,
		    false) == NULL ||
		    s->entities[i].policy.allow_commands_from == NULL)
			abort();
		if (strcmp(s->entities[i].visibility, "owner") == 0 &&
		    (s->entities[i].owner_user_id == NULL ||
		    s->entities[i].owner_user_id[0] == '\0'))
			abort();
	}
	for (i = 0; i < s->n_artifacts; i++) {
		if (s->artifacts[i].name == NULL ||
		    s->artifacts[i].name[0] == '\0' ||
		    s->artifacts[i].type == NULL ||
		    s->artifacts[i].workspace == NULL)
			abort();
		if ((s->artifacts[i].seed_from != NULL) !=
		    (s->artifacts[i].seed == RO_SEED_UNRESOLVED))
			abort();
	}
}

/* Parse one way; check the answer against the report. */
static struct ro_spec *
run(int rc, struct ro_spec *spec, const struct ro_diag *diag,
    const char *origin)
{
	size_t	i;

	if (rc == RO_ENOMEM)
		return spec;
	if ((rc == RO_OK) != (spec != NULL) ||
	    (rc == RO_OK) != (diag->errors.n == 0))
		abort();
	for (i = 0; i < diag->errors.n; i++)
		if (strncmp(diag->errors.v[i], origin, strlen(origin)) != 0)
			abort();
	if (spec != NULL)
		check_accepted(spec);
	return spec;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ro_spec	*ys = NULL, *js = NULL;
	struct ro_diag	 yd = RO_DIAG_INIT, jd = RO_DIAG_INIT;
	struct ro_err	 err = RO_ERR_INIT;
	cJSON		*json;
	int		 rc;

	rc = ro_spec_parse_yaml(&ys, "fuzz.yaml", (const char *)data, size,
	    &yd, &err);
	ys = run(rc, ys, &yd, "fuzz.yaml");
	if ((json = cJSON_ParseWithLength((const char *)data, size)) != NULL) {
		rc = ro_spec_from_json(&js, "<api>", json, &jd, &err);
		js = run(rc, js, &jd, "<api>");
		/* the same document accepted both ways: the same room */
		if (ys != NULL && js != NULL &&
		    (strcmp(ys->room_id, js->room_id) != 0 ||
		    ys->n_entities != js->n_entities ||
		    ys->n_artifacts != js->n_artifacts ||
		    ys->version != js->version))
			abort();
		cJSON_Delete(json);
	}
	ro_spec_free(ys);
	ro_spec_free(js);
	ro_diag_release(&yd);
	ro_diag_release(&jd);
	return 0;
}
