/*
 * test_spec.c: RoomSpec parsing and validation (roomspec.md), one test per
 * rule and limit. Every error test checks the whole message prefix:
 * file, line, column and field path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "roomops/buf.h"
#include "roomops/spec.h"
#include "testutil.h"

#define ORIGIN	"specs/lab.yaml"

/* Lines 1-4 of most documents below; tests append from line 5. */
#define HEAD	"metadata:\n  version: 1\nspec:\n  roomId: room-abcdef\n"

static const char full_yaml[] =
    "apiVersion: v1\n"					/* 1 */
    "kind: RoomSpec\n"
    "metadata:\n"
    "  name: ai-lab\n"
    "  version: 4\n"					/* 5 */
    "  annotations:\n"
    "    roomops/prune: \"true\"\n"
    "spec:\n"
    "  roomId: room-ai-lab-01\n"
    "  entities:\n"					/* 10 */
    "    - id: E-agent-1\n"
    "      kind: Agent\n"
    "      displayName: Research Agent\n"
    "      visibility: owner\n"
    "      ownerUserId: user-123\n"			/* 15 */
    "      capabilities: [read_artifacts, write_artifacts]\n"
    "      policy:\n"
    "        allow_commands_from: orchestrator\n"
    "        sandboxMode: true\n"
    "        env_whitelist: [HOME]\n"			/* 20 */
    "        scopes: [a, b]\n"
    "    - id: E-human-1\n"
    "      kind: human\n"
    "  artifacts:\n"
    "    - name: project-plan\n"			/* 25 */
    "      type: document\n"
    "      workspace: shared\n"
    "      tags: [planning, q3]\n"
    "      seedFrom: seeds/project-plan.md\n"
    "      promoteAfterSeed: true\n"			/* 30 */
    "    - name: notes\n"
    "      type: document\n"
    "      workspace: shared\n"
    "  policies:\n"
    "    dmVisibilityDefault: owner\n"		/* 35 */
    "    allowResourceCreation: true\n"
    "    maxArtifactsPerEntity: 7\n";

static const char full_json[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"RoomSpec\","
    "\"metadata\":{\"name\":\"ai-lab\",\"version\":4,"
    "\"annotations\":{\"roomops/prune\":\"true\"}},"
    "\"spec\":{\"roomId\":\"room-ai-lab-01\",\"entities\":["
    "{\"id\":\"E-agent-1\",\"kind\":\"Agent\","
    "\"displayName\":\"Research Agent\",\"visibility\":\"owner\","
    "\"ownerUserId\":\"user-123\","
    "\"capabilities\":[\"read_artifacts\",\"write_artifacts\"],"
    "\"policy\":{\"allow_commands_from\":\"orchestrator\","
    "\"sandboxMode\":true,\"env_whitelist\":[\"HOME\"],"
    "\"scopes\":[\"a\",\"b\"]}},"
    "{\"id\":\"E-human-1\",\"kind\":\"human\"}],"
    "\"artifacts\":[{\"name\":\"project-plan\",\"type\":\"document\","
    "\"workspace\":\"shared\",\"tags\":[\"planning\",\"q3\"],"
    "\"seedFrom\":\"seeds/project-plan.md\",\"promoteAfterSeed\":true},"
    "{\"name\":\"notes\",\"type\":\"document\",\"workspace\":\"shared\"}],"
    "\"policies\":{\"dmVisibilityDefault\":\"owner\","
    "\"allowResourceCreation\":true,\"maxArtifactsPerEntity\":7}}}";

struct res {
	int		 rc;
	struct ro_spec	*spec;
	struct ro_diag	 diag;
	struct ro_err	 err;
	char		*errors;	/* diag errors joined by newlines */
	char		*warnings;
	double		 secs;
};

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
finish(struct res *r, double t0)
{
	r->secs = now() - t0;
	r->errors = ro_strv_join(&r->diag.errors, "\n");
	r->warnings = ro_strv_join(&r->diag.warnings, "\n");
	assert_non_null(r->errors);
	assert_non_null(r->warnings);
}

static void
parse_n(struct res *r, const char *buf, size_t len)
{
	double	t0 = now();

	memset(r, 0, sizeof(*r));
	r->rc = ro_spec_parse_yaml(&r->spec, ORIGIN, buf, len, &r->diag,
	    &r->err);
	finish(r, t0);
}

static void
parse(struct res *r, const char *yaml)
{
	parse_n(r, yaml, strlen(yaml));
}

static void
parse_json(struct res *r, const char *text)
{
	cJSON	*j = cJSON_Parse(text);
	double	 t0 = now();

	assert_non_null(j);
	memset(r, 0, sizeof(*r));
	r->rc = ro_spec_from_json(&r->spec, "<api>", j, &r->diag, &r->err);
	finish(r, t0);
	cJSON_Delete(j);
}

static void
res_free(struct res *r)
{
	ro_spec_free(r->spec);
	ro_diag_release(&r->diag);
	free(r->errors);
	free(r->warnings);
}

/* The document is refused and one error contains want. */
static void
expect_error(const char *yaml, const char *want)
{
	struct res	r;

	parse(&r, yaml);
	assert_int_equal(r.rc, RO_EINVALID);
	assert_null(r.spec);
	assert_int_equal(r.err.code, RO_EINVALID);
	assert_true(r.diag.errors.n >= 1);
	assert_true(tu_contains(r.errors, want));
	res_free(&r);
}

static void
expect_ok(struct res *r, const char *yaml)
{
	parse(r, yaml);
	if (r->rc != RO_OK)
		fprintf(stderr, "unexpected errors:\n%s\n", r->errors);
	assert_int_equal(r->rc, RO_OK);
	assert_non_null(r->spec);
}

static char *
repeat(const char *s, size_t n)
{
	struct ro_buf	b = RO_BUF_INIT;
	size_t		i;

	for (i = 0; i < n; i++)
		assert_int_equal(ro_buf_addstr(&b, s), 0);
	return ro_buf_detach(&b, NULL);
}

/* --- the model -------------------------------------------------------- */

static void
test_full_model(void **state)
{
	struct res		 r;
	struct ro_spec		*s;
	struct ro_entity	*e;
	struct ro_artifact	*a;

	(void)state;
	expect_ok(&r, full_yaml);
	s = r.spec;
	assert_string_equal(s->path, ORIGIN);
	assert_string_equal(s->name, "ai-lab");
	assert_int_equal(s->version, 4);
	assert_string_equal(ro_spec_annotation(s, "roomops/prune"), "true");
	assert_string_equal(s->room_id, "room-ai-lab-01");
	assert_int_equal(s->n_entities, 2);
	e = &s->entities[0];
	assert_string_equal(e->id, "E-agent-1");
	assert_string_equal(e->kind, "agent");	/* lower-case out */
	assert_string_equal(e->display_name, "Research Agent");
	assert_string_equal(e->visibility, "owner");
	assert_string_equal(e->owner_user_id, "user-123");
	assert_int_equal(e->capabilities.n, 2);
	assert_string_equal(e->capabilities.v[1], "write_artifacts");
	assert_string_equal(e->policy.allow_commands_from, "orchestrator");
	assert_true(e->policy.sandbox_mode);
	assert_int_equal(e->policy.env_whitelist.n, 1);
	assert_int_equal(e->policy.scopes.n, 2);
	assert_int_equal(e->line, 11);
	assert_int_equal(e->col, 7);
	e = &s->entities[1];
	assert_string_equal(e->kind, "human");
	assert_null(e->display_name);
	assert_null(e->owner_user_id);
	assert_int_equal(s->n_artifacts, 2);
	a = &s->artifacts[0];
	assert_string_equal(a->name, "project-plan");
	assert_string_equal(a->type, "document");
	assert_string_equal(a->workspace, "shared");
	assert_int_equal(a->tags.n, 2);
	assert_string_equal(a->tags.v[0], "planning");
	assert_string_equal(a->seed_from, "seeds/project-plan.md");
	assert_int_equal(a->seed, RO_SEED_UNRESOLVED);
	assert_int_equal(a->seed_line, 29);
	assert_int_equal(a->seed_col, 7);
	assert_true(a->promote_after_seed);
	assert_null(a->content);
	a = &s->artifacts[1];
	assert_int_equal(a->seed, RO_SEED_NONE);
	assert_false(a->promote_after_seed);
	assert_string_equal(s->policies.dm_visibility_default, "owner");
	assert_true(s->policies.allow_resource_creation);
	assert_int_equal(s->policies.max_artifacts_per_entity, 7);
	assert_int_equal(s->warnings.n, 0);
	assert_int_equal(r.diag.warnings.n, 0);
	res_free(&r);
}

static void
test_defaults(void **state)
{
	struct res		 r;
	struct ro_entity	*e;
	struct ro_artifact	*a;
	const char		*want = ORIGIN ":4:3: spec.policies."
				    "dmVisibilityDefault: not set; using "
				    "\"team\"";

	(void)state;
	expect_ok(&r, HEAD
	    "  entities:\n"
	    "    - id: E-a1\n"
	    "      kind: npc\n"
	    "  artifacts:\n"
	    "    - {name: n, type: t, workspace: w}\n");
	assert_null(r.spec->name);
	assert_int_equal(r.spec->ann_keys.n, 0);
	e = &r.spec->entities[0];
	assert_string_equal(e->visibility, "team");
	assert_string_equal(e->policy.allow_commands_from, "any");
	assert_false(e->policy.sandbox_mode);
	assert_int_equal(e->policy.env_whitelist.n, 0);
	assert_int_equal(e->policy.scopes.n, 0);
	assert_int_equal(e->capabilities.n, 0);
	a = &r.spec->artifacts[0];
	assert_int_equal(a->tags.n, 0);
	assert_false(a->promote_after_seed);
	assert_null(a->seed_from);
	assert_string_equal(r.spec->policies.dm_visibility_default, "team");
	assert_false(r.spec->policies.allow_resource_creation);
	assert_int_equal(r.spec->policies.max_artifacts_per_entity, 100);
	/* the mandatory policy: a warning in both places */
	assert_int_equal(r.spec->warnings.n, 1);
	assert_string_equal(r.spec->warnings.v[0], want);
	assert_true(tu_contains(r.warnings, want));
	res_free(&r);
}

static void
test_dm_visibility_empty_warns(void **state)
{
	struct res	r;

	(void)state;
	expect_ok(&r, HEAD
	    "  policies:\n"
	    "    dmVisibilityDefault: \"\"\n"
	    "    maxArtifactsPerEntity: 0\n");
	assert_string_equal(r.spec->policies.dm_visibility_default, "team");
	assert_int_equal(r.spec->policies.max_artifacts_per_entity, 0);
	assert_int_equal(r.spec->warnings.n, 1);
	assert_true(tu_contains(r.spec->warnings.v[0], ORIGIN ":6:5: "
	    "spec.policies.dmVisibilityDefault: empty; using \"team\""));
	assert_true(tu_contains(r.warnings, "empty; using"));
	res_free(&r);
	/* present in policies but absent as a key: warned too */
	expect_ok(&r, HEAD "  policies:\n    allowResourceCreation: true\n");
	assert_true(tu_contains(r.warnings, ORIGIN ":6:5: spec.policies."
	    "dmVisibilityDefault: not set"));
	res_free(&r);
}

static void
test_policies_invalid(void **state)
{
	(void)state;
	expect_error(HEAD "  policies:\n    dmVisibilityDefault: everyone\n",
	    ORIGIN ":6:5: spec.policies.dmVisibilityDefault: invalid "
	    "visibility \"everyone\"");
	expect_error(HEAD "  policies:\n    allowResourceCreation: \"yes\"\n",
	    ORIGIN ":6:5: spec.policies.allowResourceCreation: expected a "
	    "boolean (true or false), got string \"yes\"");
	expect_error(HEAD "  policies:\n    maxArtifactsPerEntity: -1\n",
	    ORIGIN ":6:5: spec.policies.maxArtifactsPerEntity: must be an "
	    "integer from 0 to 2147483647, got integer -1");
	expect_error(HEAD "  policies:\n    maxArtifactsPerEntity: 2.5\n",
	    ORIGIN ":6:5: spec.policies.maxArtifactsPerEntity: expected an "
	    "integer, got number 2.5");
	expect_error(HEAD "  policies: [team]\n",
	    ORIGIN ":5:3: spec.policies: expected a mapping, got a list");
}

/* --- apiVersion, kind, unknown keys ----------------------------------- */

static void
test_api_version(void **state)
{
	struct res	r;

	(void)state;
	expect_error("apiVersion: v2\n" HEAD, ORIGIN ":1:1: apiVersion: "
	    "unsupported apiVersion \"v2\" (expected \"v1\")");
	expect_error("apiVersion: 1\n" HEAD, ORIGIN ":1:1: apiVersion: "
	    "expected a string, got integer 1");
	expect_ok(&r, "apiVersion: v1\n" HEAD);
	res_free(&r);
}

static void
test_kind(void **state)
{
	struct res	r;

	(void)state;
	expect_error("kind: Room\n" HEAD, ORIGIN ":1:1: kind: unsupported "
	    "kind \"Room\" (expected \"RoomSpec\")");
	expect_error("kind: roomspec\n" HEAD, ORIGIN ":1:1: kind: "
	    "unsupported kind \"roomspec\"");
	expect_ok(&r, "kind: RoomSpec\n" HEAD);
	res_free(&r);
}

/* Unknown keys everywhere, all reported in one pass. */
static void
test_unknown_keys(void **state)
{
	struct res	r;

	(void)state;
	parse(&r, HEAD
	    "  entities:\n"				/* 5 */
	    "    - id: E-a1\n"
	    "      kind: agent\n"
	    "      polcy: {}\n"
	    "      policy: {sandbox: true}\n"
	    "  artifacts:\n"				/* 10 */
	    "    - {name: a, type: t, workspace: w, seed_from: x}\n"
	    "  policies: {dmVisibilityDefault: team, color: red}\n"
	    "  RoomId: x\n"
	    "status: {}\n");
	assert_int_equal(r.rc, RO_EINVALID);
	assert_int_equal(r.diag.errors.n, 6);
	assert_true(tu_contains(r.errors, ORIGIN ":8:7: spec.entities[0]."
	    "polcy: unknown key (did you mean \"policy\"?)"));
	assert_true(tu_contains(r.errors, ORIGIN ":9:16: spec.entities[0]."
	    "policy.sandbox: unknown key (did you mean \"sandbox_mode\"?)"));
	assert_true(tu_contains(r.errors, ORIGIN ":11:40: spec.artifacts[0]."
	    "seed_from: unknown key (did you mean \"seedFrom\"?)"));
	assert_true(tu_contains(r.errors, ORIGIN ":12:41: spec.policies."
	    "color: unknown key (expected one of: dmVisibilityDefault, "
	    "allowResourceCreation, maxArtifactsPerEntity)"));
	assert_true(tu_contains(r.errors, ORIGIN ":13:3: spec.RoomId: "
	    "unknown key (did you mean \"roomId\"?)"));
	assert_true(tu_contains(r.errors, ORIGIN ":14:1: status: unknown "
	    "key"));
	/* err carries the first and the count */
	assert_true(tu_contains(r.err.msg, "(and 5 more errors)"));
	res_free(&r);
}

/* Errors come out in file order, whatever order they were found in. */
static void
test_errors_in_file_order(void **state)
{
	struct res	r;
	size_t		i;
	unsigned	line, prev = 0;
	static const char *const want[] = {
		":5:3: metadata.version:",
		":7:3: spec.roomId:",
		":11:7: spec.entities[1].id: duplicate entity id",
		":12:7: spec.entities[1].kind:",
		":13:7: spec.entities[1].ownerUserId:",
		":14:7: spec.entities[1].polcy: unknown key",
	};

	(void)state;
	parse(&r, "apiVersion: v1\n"
	    "kind: RoomSpec\n"
	    "metadata:\n"
	    "  name: ai-lab\n"
	    "  version: 0\n"				/* 5 */
	    "spec:\n"
	    "  roomId: lab-01\n"
	    "  entities:\n"
	    "    - id: E-agent-1\n"
	    "      kind: agent\n"			/* 10 */
	    "    - id: E-agent-1\n"
	    "      kind: robot\n"
	    "      visibility: owner\n"
	    "      polcy: {}\n");
	assert_int_equal(r.rc, RO_EINVALID);
	assert_int_equal(r.diag.errors.n, RO_NELEM(want));
	for (i = 0; i < RO_NELEM(want); i++) {
		assert_true(tu_contains(r.diag.errors.v[i], want[i]));
		assert_int_equal(sscanf(r.diag.errors.v[i] + strlen(ORIGIN),
		    ":%u:", &line), 1);
		assert_true(line >= prev);
		prev = line;
	}
	assert_true(tu_contains(r.err.msg, ORIGIN ":5:3: metadata.version: "
	    "must be an integer greater than 0, got integer 0 (and 5 more "
	    "errors)"));
	res_free(&r);
}

/* Annotations are the one free-form map: string keys, string values. */
static void
test_annotations(void **state)
{
	struct res	r;

	(void)state;
	expect_ok(&r, "metadata:\n  version: 2\n  annotations:\n"
	    "    roomops/prune: \"true\"\n"
	    "    example.com/any key: \"x\"\n"
	    "spec: {roomId: room-abcdef}\n");
	assert_int_equal(r.spec->ann_keys.n, 2);
	assert_string_equal(ro_spec_annotation(r.spec, "example.com/any key"),
	    "x");
	res_free(&r);
	expect_error("metadata:\n  version: 2\n  annotations:\n"
	    "    roomops/prune: true\nspec: {roomId: room-abcdef}\n",
	    ORIGIN ":4:5: metadata.annotations[\"roomops/prune\"]: expected "
	    "a string, got boolean true (put it in quotes to use it as "
	    "text)");
	expect_error("metadata:\n  version: 2\n  annotations: [a]\n"
	    "spec: {roomId: room-abcdef}\n", ORIGIN ":3:3: "
	    "metadata.annotations: expected a mapping of strings to strings");
	expect_error("metadata:\n  version: 2\n  annotations: {a: x, a: y}\n"
	    "spec: {roomId: room-abcdef}\n", ORIGIN ":3:23: "
	    "metadata.annotations[\"a\"]: duplicate key (first at line 3)");
}

/* --- metadata ----------------------------------------------------------- */

static void
test_metadata_version(void **state)
{
	(void)state;
	expect_error("metadata:\n  name: x\nspec: {roomId: room-abcdef}\n",
	    ORIGIN ":2:3: metadata.version: required field is missing");
	expect_error("metadata:\n  version: 0\nspec: {roomId: room-abcdef}\n",
	    ORIGIN ":2:3: metadata.version: must be an integer greater than "
	    "0, got integer 0");
	expect_error("metadata:\n  version: -3\nspec: {roomId: room-abcdef}\n",
	    ORIGIN ":2:3: metadata.version: must be an integer greater than "
	    "0, got integer -3");
	expect_error("metadata:\n  version: \"4\"\n"
	    "spec: {roomId: room-abcdef}\n", ORIGIN ":2:3: metadata.version: "
	    "expected an integer, got string \"4\"");
	expect_error("metadata:\n  version: 1.5\n"
	    "spec: {roomId: room-abcdef}\n", ORIGIN ":2:3: metadata.version: "
	    "expected an integer, got number 1.5");
	expect_error("metadata:\n  version: 99999999999999999999999\n"
	    "spec: {roomId: room-abcdef}\n", ORIGIN ":2:3: metadata.version: "
	    "must be an integer greater than 0, got integer 9999");
	expect_error("metadata:\n  version:\nspec: {roomId: room-abcdef}\n",
	    ORIGIN ":2:3: metadata.version: required field is missing");
}

static void
test_metadata_missing(void **state)
{
	(void)state;
	expect_error("spec:\n  roomId: room-abcdef\n", ORIGIN ":1:1: "
	    "metadata: required field is missing");
	expect_error("metadata: [1]\nspec:\n  roomId: room-abcdef\n",
	    ORIGIN ":1:1: metadata: expected a mapping, got a list");
}

static void
test_spec_missing(void **state)
{
	(void)state;
	expect_error("metadata: {version: 1}\n", ORIGIN ":1:1: spec: "
	    "required field is missing");
	expect_error("metadata: {version: 1}\nspec: room-abcdef\n",
	    ORIGIN ":2:1: spec: expected a mapping, got string");
}

/* --- roomId ------------------------------------------------------------- */

static void
test_room_id(void **state)
{
	struct res	r;

	(void)state;
	expect_error("metadata: {version: 1}\nspec:\n  entities: []\n",
	    ORIGIN ":3:3: spec.roomId: required field is missing");
	expect_error("metadata: {version: 1}\nspec:\n  roomId: bad-room\n",
	    ORIGIN ":3:3: spec.roomId: invalid roomId \"bad-room\"");
	expect_error("metadata: {version: 1}\nspec:\n  roomId: room-abcde\n",
	    ORIGIN ":3:3: spec.roomId: invalid roomId \"room-abcde\"");
	expect_error("metadata: {version: 1}\nspec:\n  roomId: room-abc.def\n",
	    ORIGIN ":3:3: spec.roomId: invalid roomId");
	expect_error("metadata: {version: 1}\nspec:\n  roomId: [room-abcdef]\n",
	    ORIGIN ":3:3: spec.roomId: expected a string, got a list");
	expect_ok(&r, "metadata: {version: 1}\nspec:\n  roomId: room-a_B-9z\n");
	res_free(&r);
}

static void
test_id_validators(void **state)
{
	char	id[80];

	(void)state;
	assert_true(ro_spec_valid_room_id("room-abcdef"));
	assert_true(ro_spec_valid_room_id("room-ai-lab-01"));
	assert_false(ro_spec_valid_room_id("room-abcde"));
	assert_false(ro_spec_valid_room_id("Room-abcdef"));
	assert_false(ro_spec_valid_room_id("room-abc def"));
	assert_false(ro_spec_valid_room_id(""));
	assert_false(ro_spec_valid_room_id(NULL));
	assert_true(ro_spec_valid_entity_id("E-ab"));
	assert_false(ro_spec_valid_entity_id("E-a"));
	assert_false(ro_spec_valid_entity_id("e-ab"));
	assert_false(ro_spec_valid_entity_id("E-a.b"));
	memset(id, 'x', sizeof(id));
	memcpy(id, "E-", 2);
	id[66] = '\0';		/* 64 after the prefix */
	assert_true(ro_spec_valid_entity_id(id));
	id[66] = 'x';
	id[67] = '\0';		/* 65 */
	assert_false(ro_spec_valid_entity_id(id));
}

/* --- entities ----------------------------------------------------------- */

static void
test_entity_id(void **state)
{
	(void)state;
	expect_error(HEAD "  entities:\n    - kind: agent\n",
	    ORIGIN ":6:7: spec.entities[0].id: required field is missing");
	expect_error(HEAD "  entities:\n    - id: agent-1\n      kind: agent\n",
	    ORIGIN ":6:7: spec.entities[0].id: invalid entity id "
	    "\"agent-1\"");
	expect_error(HEAD "  entities:\n    - id: E-a\n      kind: agent\n",
	    ORIGIN ":6:7: spec.entities[0].id: invalid entity id \"E-a\"");
	expect_error(HEAD "  entities:\n    - id: \"\"\n      kind: agent\n",
	    ORIGIN ":6:7: spec.entities[0].id: must not be empty");
}

static void
test_entity_id_unique(void **state)
{
	struct res	r;

	(void)state;
	expect_error(HEAD "  entities:\n"
	    "    - {id: E-ab, kind: agent}\n"
	    "    - {id: E-cd, kind: agent}\n"
	    "    - {id: E-ab, kind: npc}\n",
	    ORIGIN ":8:8: spec.entities[2].id: duplicate entity id \"E-ab\"; "
	    "item [0] has it already (first at line 6)");
	/* case-sensitive: E-ab and E-AB are two entities */
	expect_ok(&r, HEAD "  entities:\n"
	    "    - {id: E-ab, kind: agent}\n"
	    "    - {id: E-AB, kind: agent}\n");
	assert_int_equal(r.spec->n_entities, 2);
	res_free(&r);
}

static void
test_entity_kind(void **state)
{
	struct res	r;

	(void)state;
	/* the example of roomspec.md, to the column */
	expect_error(HEAD
	    "  entities:\n"				/* 5 */
	    "    - id: E-a1\n"
	    "      kind: agent\n"
	    "      displayName: A\n"
	    "      capabilities:\n"
	    "        - x\n"				/* 10 */
	    "    - id: E-b2\n"
	    "      kind: robot\n",
	    "specs/lab.yaml:12:7: spec.entities[1].kind: invalid entity kind "
	    "\"robot\"");
	expect_error(HEAD "  entities:\n    - id: E-a1\n",
	    ORIGIN ":6:7: spec.entities[0].kind: required field is missing");
	/* case-insensitive in, lower-case out */
	expect_ok(&r, HEAD "  entities:\n"
	    "    - {id: E-a1, kind: AGENT}\n"
	    "    - {id: E-a2, kind: Orchestrator}\n"
	    "    - {id: E-a3, kind: hUmAn}\n");
	assert_string_equal(r.spec->entities[0].kind, "agent");
	assert_string_equal(r.spec->entities[1].kind, "orchestrator");
	assert_string_equal(r.spec->entities[2].kind, "human");
	res_free(&r);
}

static void
test_entity_visibility(void **state)
{
	struct res	r;

	(void)state;
	expect_error(HEAD "  entities:\n"
	    "    - {id: E-a1, kind: agent, visibility: private}\n",
	    ORIGIN ":6:31: spec.entities[0].visibility: invalid visibility "
	    "\"private\" (expected public, team or owner)");
	expect_error(HEAD "  entities:\n"
	    "    - {id: E-a1, kind: agent, visibility: Team}\n",
	    ORIGIN ":6:31: spec.entities[0].visibility: invalid visibility "
	    "\"Team\"");
	expect_error(HEAD "  entities:\n"
	    "    - id: E-a1\n      kind: agent\n      visibility: owner\n",
	    ORIGIN ":8:7: spec.entities[0].ownerUserId: required when "
	    "visibility is owner");
	expect_error(HEAD "  entities:\n"
	    "    - id: E-a1\n      kind: agent\n      visibility: owner\n"
	    "      ownerUserId: \"\"\n",
	    ORIGIN ":9:7: spec.entities[0].ownerUserId: must not be empty "
	    "when visibility is owner");
	expect_ok(&r, HEAD "  entities:\n"
	    "    - {id: E-a1, kind: agent, visibility: public}\n"
	    "    - {id: E-a2, kind: agent, visibility: owner, "
	    "ownerUserId: u-1}\n");
	assert_string_equal(r.spec->entities[0].visibility, "public");
	assert_string_equal(r.spec->entities[1].owner_user_id, "u-1");
	res_free(&r);
}

/* snake_case keys with camelCase aliases give the same policy. */
static void
test_entity_policy_aliases(void **state)
{
	struct res		 r;
	struct ro_entity	*a, *b;

	(void)state;
	expect_ok(&r, HEAD "  entities:\n"
	    "    - id: E-a1\n      kind: agent\n      policy:\n"
	    "        allow_commands_from: orchestrator\n"
	    "        sandbox_mode: true\n"
	    "        env_whitelist: [A, B]\n"
	    "        scopes: [s]\n"
	    "    - id: E-a2\n      kind: agent\n      policy:\n"
	    "        allowCommandsFrom: orchestrator\n"
	    "        sandboxMode: true\n"
	    "        envWhitelist: [A, B]\n"
	    "        scopes: [s]\n");
	a = &r.spec->entities[0];
	b = &r.spec->entities[1];
	assert_true(ro_entity_equal(a, b));
	assert_string_equal(b->policy.allow_commands_from, "orchestrator");
	assert_true(b->policy.sandbox_mode);
	assert_string_equal(b->policy.env_whitelist.v[1], "B");
	res_free(&r);
	expect_error(HEAD "  entities:\n"
	    "    - id: E-a1\n      kind: agent\n      policy:\n"
	    "        sandbox_mode: true\n"
	    "        sandboxMode: false\n",
	    ORIGIN ":10:9: spec.entities[0].policy.sandboxMode: same setting "
	    "as sandbox_mode (first at line 9); give only one");
	expect_error(HEAD "  entities:\n"
	    "    - id: E-a1\n      kind: agent\n      policy:\n"
	    "        sandbox_mode: \"true\"\n",
	    ORIGIN ":9:9: spec.entities[0].policy.sandbox_mode: expected a "
	    "boolean (true or false), got string \"true\"");
	expect_error(HEAD "  entities:\n"
	    "    - id: E-a1\n      kind: agent\n      policy: strict\n",
	    ORIGIN ":8:7: spec.entities[0].policy: expected a mapping, got "
	    "string \"strict\"");
}

/* --- artifacts ---------------------------------------------------------- */

static void
test_artifact_required(void **state)
{
	(void)state;
	expect_error(HEAD "  artifacts:\n    - type: t\n      workspace: w\n",
	    ORIGIN ":6:7: spec.artifacts[0].name: required field is missing");
	expect_error(HEAD "  artifacts:\n    - name: n\n      workspace: w\n",
	    ORIGIN ":6:7: spec.artifacts[0].type: required field is missing");
	expect_error(HEAD "  artifacts:\n    - name: n\n      type: t\n",
	    ORIGIN ":6:7: spec.artifacts[0].workspace: required field is "
	    "missing");
	expect_error(HEAD "  artifacts:\n    - name: \"\"\n      type: t\n"
	    "      workspace: w\n",
	    ORIGIN ":6:7: spec.artifacts[0].name: must not be empty");
}

static void
test_artifact_name_unique(void **state)
{
	(void)state;
	expect_error(HEAD "  artifacts:\n"
	    "    - {name: plan, type: t, workspace: w}\n"
	    "    - {name: plan, type: u, workspace: w}\n",
	    ORIGIN ":7:8: spec.artifacts[1].name: duplicate artifact name "
	    "\"plan\"; item [0] has it already (first at line 6)");
}

static void
test_artifact_tags_and_promote(void **state)
{
	struct res	r;

	(void)state;
	expect_ok(&r, HEAD "  artifacts:\n"
	    "    - name: n\n      type: t\n      workspace: w\n"
	    "      tags: [zeta, alpha, mid, alpha]\n"
	    "      promoteAfterSeed: false\n");
	assert_int_equal(r.spec->artifacts[0].tags.n, 4);
	assert_string_equal(r.spec->artifacts[0].tags.v[0], "zeta");
	assert_string_equal(r.spec->artifacts[0].tags.v[1], "alpha");
	assert_string_equal(r.spec->artifacts[0].tags.v[2], "mid");
	assert_false(r.spec->artifacts[0].promote_after_seed);
	res_free(&r);
	expect_error(HEAD "  artifacts:\n"
	    "    - {name: n, type: t, workspace: w, promoteAfterSeed: 1}\n",
	    ORIGIN ":6:40: spec.artifacts[0].promoteAfterSeed: expected a "
	    "boolean (true or false), got integer 1");
	expect_error(HEAD "  artifacts:\n"
	    "    - {name: n, type: t, workspace: w, tags: planning}\n",
	    ORIGIN ":6:40: spec.artifacts[0].tags: expected a list of "
	    "strings, got string \"planning\"");
}

static void
test_artifact_seed_from(void **state)
{
	struct res	r;

	(void)state;
	expect_error(HEAD "  artifacts:\n"
	    "    - name: n\n      type: t\n      workspace: w\n"
	    "      seedFrom: /etc/passwd\n",
	    ORIGIN ":9:7: spec.artifacts[0].seedFrom: seedFrom "
	    "\"/etc/passwd\" is an absolute path");
	expect_error(HEAD "  artifacts:\n"
	    "    - name: n\n      type: t\n      workspace: w\n"
	    "      seedFrom: \"\"\n",
	    ORIGIN ":9:7: spec.artifacts[0].seedFrom: must not be empty");
	/* escapes depend on the root; ro_seed_resolve() refuses them */
	expect_ok(&r, HEAD "  artifacts:\n"
	    "    - name: n\n      type: t\n      workspace: w\n"
	    "      seedFrom: ../seeds/n.md\n");
	assert_int_equal(r.spec->artifacts[0].seed, RO_SEED_UNRESOLVED);
	assert_int_equal(r.spec->artifacts[0].seed_line, 9);
	assert_int_equal(r.spec->artifacts[0].seed_col, 7);
	res_free(&r);
}

/* --- types -------------------------------------------------------------- */

static void
test_type_errors(void **state)
{
	struct res	r;

	(void)state;
	parse(&r, HEAD
	    "  entities:\n"				/* 5 */
	    "    - id: E-a1\n"
	    "      kind: [agent]\n"
	    "      displayName: {first: a}\n"
	    "      capabilities: read\n"
	    "    - id: E-a2\n"				/* 10 */
	    "      kind: agent\n"
	    "      displayName: 42\n"
	    "      capabilities: [read, 5, [x]]\n"
	    "    - just-a-string\n"
	    "  artifacts: {name: x}\n");		/* 15 */
	assert_int_equal(r.rc, RO_EINVALID);
	assert_true(tu_contains(r.errors, ORIGIN ":7:7: spec.entities[0]."
	    "kind: expected a string, got a list"));
	assert_true(tu_contains(r.errors, ORIGIN ":8:7: spec.entities[0]."
	    "displayName: expected a string, got a mapping"));
	assert_true(tu_contains(r.errors, ORIGIN ":9:7: spec.entities[0]."
	    "capabilities: expected a list of strings, got string \"read\""));
	assert_true(tu_contains(r.errors, ORIGIN ":12:7: spec.entities[1]."
	    "displayName: expected a string, got integer 42 (put it in "
	    "quotes to use it as text)"));
	assert_true(tu_contains(r.errors, ORIGIN ":13:28: spec.entities[1]."
	    "capabilities[1]: expected a string, got integer 5"));
	assert_true(tu_contains(r.errors, ORIGIN ":13:31: spec.entities[1]."
	    "capabilities[2]: expected a string, got a list"));
	assert_true(tu_contains(r.errors, ORIGIN ":14:7: spec.entities[2]: "
	    "expected a mapping (an entity), got string \"just-a-string\""));
	assert_true(tu_contains(r.errors, ORIGIN ":15:3: spec.artifacts: "
	    "expected a list of artifacts, got a mapping"));
	assert_int_equal(r.diag.errors.n, 8);
	res_free(&r);
}

/* null (~, empty) is the same as leaving an optional field out. */
static void
test_null_is_absent(void **state)
{
	struct res	r;

	(void)state;
	expect_ok(&r, HEAD "  entities:\n"
	    "    - id: E-a1\n      kind: agent\n      displayName: ~\n"
	    "      capabilities:\n      policy: null\n"
	    "  artifacts:\n  policies:\n");
	assert_null(r.spec->entities[0].display_name);
	assert_int_equal(r.spec->entities[0].capabilities.n, 0);
	assert_string_equal(r.spec->entities[0].policy.allow_commands_from,
	    "any");
	assert_int_equal(r.spec->n_artifacts, 0);
	res_free(&r);
}

/* --- limits and hostile input ------------------------------------------ */

static void
test_limit_file_size(void **state)
{
	struct res	 r;
	size_t		 big = 2u << 20, head = strlen(HEAD);
	char		*buf = malloc(big);

	(void)state;
	/* 2 MiB: refused before parsing */
	memset(buf, '#', big);
	memcpy(buf, HEAD, head);
	parse_n(&r, buf, big);
	assert_int_equal(r.rc, RO_ETOOBIG);
	assert_null(r.spec);
	assert_true(tu_contains(r.errors, ORIGIN ": file is 2097152 bytes, "
	    "limit is 1048576"));
	assert_true(tu_contains(r.err.msg, ORIGIN));
	assert_true(r.secs < 1.0);
	res_free(&r);
	/* exactly 1 MiB is allowed: a valid spec padded with a comment */
	memset(buf, ' ', RO_SPEC_FILE_MAX);
	memcpy(buf, HEAD, head);
	buf[head] = '#';
	parse_n(&r, buf, RO_SPEC_FILE_MAX);
	assert_int_equal(r.rc, RO_OK);
	res_free(&r);
	parse_n(&r, buf, RO_SPEC_FILE_MAX + 1);
	assert_int_equal(r.rc, RO_ETOOBIG);
	res_free(&r);
	free(buf);
}

static char *
nested_caps(size_t depth)
{
	struct ro_buf	 b = RO_BUF_INIT;
	char		*open = repeat("[", depth), *close = repeat("]", depth);

	assert_int_equal(ro_buf_printf(&b, HEAD "  entities:\n"
	    "    - id: E-a1\n      kind: agent\n      capabilities: %s%s\n",
	    open, close), 0);
	free(open);
	free(close);
	return ro_buf_detach(&b, NULL);
}

static void
test_limit_depth(void **state)
{
	struct res	 r;
	char		*doc;

	(void)state;
	/* 100 levels: stopped at level 33, with the path to it */
	doc = nested_caps(100);
	parse(&r, doc);
	assert_int_equal(r.rc, RO_EINVALID);
	assert_int_equal(r.diag.errors.n, 1);
	assert_true(tu_contains(r.errors, ORIGIN ":8:49: spec.entities[0]."
	    "capabilities[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]"
	    "[0][0][0][0][0][0][0][0][0][0][0]: nested deeper than 32 "
	    "levels"));
	assert_true(r.secs < 1.0);
	res_free(&r);
	free(doc);
	/* root, spec, entities, item: 4 levels; capabilities 28 more = 32 */
	doc = nested_caps(28);
	parse(&r, doc);
	assert_int_equal(r.rc, RO_EINVALID);
	assert_null(strstr(r.errors, "nested deeper"));
	assert_true(tu_contains(r.errors, "capabilities[0]: expected a "
	    "string, got a list"));
	res_free(&r);
	free(doc);
	doc = nested_caps(29);
	expect_error(doc, "nested deeper than 32 levels");
	free(doc);
}

static void
test_alias_bomb(void **state)
{
	struct res	r;
	static const char bomb[] =
	    "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
	    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
	    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
	    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
	    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
	    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
	    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
	    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
	    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
	    "metadata: {version: 1}\n"
	    "spec: {roomId: room-abcdef, entities: *i}\n";

	(void)state;
	parse(&r, bomb);
	assert_int_equal(r.rc, RO_EINVALID);
	assert_int_equal(r.diag.errors.n, 1);
	assert_true(tu_contains(r.errors, ORIGIN ":1:4: a: YAML anchors are "
	    "not allowed (found &\"a\")"));
	assert_true(r.secs < 0.5);
	res_free(&r);
	/* an alias alone (no anchor) is refused as well */
	expect_error(HEAD "  entities: *x\n", ORIGIN ":5:13: spec.entities: "
	    "YAML aliases are not allowed (found *\"x\")");
	/* anchors on mappings and scalars too */
	expect_error(HEAD "  policies: &p {}\n", ORIGIN ":5:13: spec.policies: "
	    "YAML anchors are not allowed");
	expect_error("metadata: {version: &v 1}\nspec: {roomId: room-abcdef}\n",
	    ORIGIN ":1:21: metadata.version: YAML anchors are not allowed");
}

static void
test_tags_refused(void **state)
{
	(void)state;
	expect_error("metadata: {version: 1}\nspec:\n  roomId: !!str room-abcdef\n",
	    ORIGIN ":3:11: spec.roomId: YAML tags are not allowed (found "
	    "\"tag:yaml.org,2002:str\")");
	expect_error("metadata: !custom {version: 1}\n", ORIGIN ":1:11: "
	    "metadata: YAML tags are not allowed");
}

static void
test_invalid_utf8(void **state)
{
	(void)state;
	/* overlong "/" */
	expect_error(HEAD "  entities:\n    - id: E-a1\n      kind: agent\n"
	    "      displayName: x\xc0\xaf\n", ORIGIN ":8:21: invalid input: ");
	/* a surrogate, encoded */
	expect_error(HEAD "  entities:\n    - id: E-a1\n      kind: agent\n"
	    "      displayName: \xed\xa0\x80\n", ORIGIN ":8:20: invalid "
	    "input: ");
	/* past U+10FFFF */
	expect_error(HEAD "# \xf4\x90\x80\x80\n", ORIGIN ":5:3: invalid input: ");
	/* a lone continuation byte, in a key */
	expect_error("metadata: {version: 1}\n\x80: x\n", ORIGIN ":2:1: "
	    "invalid input: ");
	/* not UTF-16 either: no BOM sniffing */
	expect_error("\xff\xfem\x00", ORIGIN ":1:1: invalid input: ");
}

/* Escapes can smuggle what raw input cannot: NUL, surrogates. */
static void
test_escaped_text(void **state)
{
	struct res	r;

	(void)state;
	expect_error(HEAD "  entities:\n    - id: E-a1\n      kind: agent\n"
	    "      displayName: \"a\\0b\"\n", ORIGIN ":8:7: spec.entities[0]."
	    "displayName: text contains a NUL character (byte 1)");
	expect_error(HEAD "  entities:\n    - id: E-a1\n      kind: agent\n"
	    "      displayName: \"\\ud800\"\n", ORIGIN ":8:23: spec.entities[0]."
	    "displayName: YAML syntax error: found invalid Unicode "
	    "character escape code");
	expect_ok(&r, HEAD "  entities:\n    - id: E-a1\n      kind: agent\n"
	    "      displayName: \"caf\\u00e9 \\U0001F600\"\n");
	assert_string_equal(r.spec->entities[0].display_name,
	    "caf\xc3\xa9 \xf0\x9f\x98\x80");
	res_free(&r);
}

static void
test_limit_string(void **state)
{
	struct res	 r;
	struct ro_buf	 b = RO_BUF_INIT;
	char		*s = repeat("x", RO_SPEC_STRING_MAX);

	(void)state;
	assert_int_equal(ro_buf_printf(&b, HEAD "  entities:\n"
	    "    - id: E-a1\n      kind: agent\n      displayName: %s\n", s),
	    0);
	expect_ok(&r, ro_buf_cstr(&b));
	assert_int_equal(strlen(r.spec->entities[0].display_name),
	    RO_SPEC_STRING_MAX);
	res_free(&r);
	ro_buf_reset(&b);
	assert_int_equal(ro_buf_printf(&b, HEAD "  entities:\n"
	    "    - id: E-a1\n      kind: agent\n      displayName: %sy\n", s),
	    0);
	expect_error(ro_buf_cstr(&b), ORIGIN ":8:7: spec.entities[0]."
	    "displayName: text is 4097 bytes long, limit is 4096");
	ro_buf_release(&b);
	free(s);
}

static char *
many_items(bool entities, size_t n)
{
	struct ro_buf	b = RO_BUF_INIT;
	size_t		i;

	ro_buf_addstr(&b, HEAD);
	ro_buf_addstr(&b, entities ? "  entities:\n" : "  artifacts:\n");
	for (i = 0; i < n; i++)
		assert_int_equal(entities ?
		    ro_buf_printf(&b, "    - {id: E-%05zu, kind: agent}\n", i) :
		    ro_buf_printf(&b, "    - {name: a%05zu, type: t, "
		    "workspace: w}\n", i), 0);
	return ro_buf_detach(&b, NULL);
}

static void
test_limit_entities(void **state)
{
	struct res	 r;
	char		*doc;

	(void)state;
	doc = many_items(true, RO_SPEC_ENTITIES_MAX);
	expect_ok(&r, doc);
	assert_int_equal(r.spec->n_entities, RO_SPEC_ENTITIES_MAX);
	res_free(&r);
	free(doc);
	doc = many_items(true, RO_SPEC_ENTITIES_MAX + 1);
	parse(&r, doc);
	assert_int_equal(r.rc, RO_EINVALID);
	assert_int_equal(r.diag.errors.n, 1);
	assert_true(tu_contains(r.errors, ORIGIN ":5:3: spec.entities: 10001 "
	    "entities, limit is 10000"));
	res_free(&r);
	free(doc);
}

static void
test_limit_artifacts(void **state)
{
	struct res	 r;
	char		*doc;

	(void)state;
	doc = many_items(false, RO_SPEC_ARTIFACTS_MAX);
	expect_ok(&r, doc);
	assert_int_equal(r.spec->n_artifacts, RO_SPEC_ARTIFACTS_MAX);
	res_free(&r);
	free(doc);
	doc = many_items(false, RO_SPEC_ARTIFACTS_MAX + 1);
	expect_error(doc, ORIGIN ":5:3: spec.artifacts: 10001 artifacts, "
	    "limit is 10000");
	free(doc);
}

static void
test_two_documents(void **state)
{
	struct res	r;

	(void)state;
	parse(&r, "---\n" HEAD "---\n" HEAD);
	assert_int_equal(r.rc, RO_EINVALID);
	assert_int_equal(r.diag.errors.n, 1);
	assert_true(tu_contains(r.errors, ORIGIN ":6:1: a second YAML "
	    "document; a file holds exactly one RoomSpec"));
	res_free(&r);
	/* an explicit end marker and one document is fine */
	expect_ok(&r, "---\n" HEAD "...\n");
	res_free(&r);
}

static void
test_duplicate_keys(void **state)
{
	(void)state;
	expect_error(HEAD "spec:\n  roomId: room-other1\n", ORIGIN ":5:1: "
	    "spec: duplicate key (first at line 3)");
	expect_error(HEAD "  entities:\n"
	    "    - id: E-a1\n      kind: agent\n      kind: npc\n",
	    ORIGIN ":8:7: spec.entities[0].kind: duplicate key (first at "
	    "line 7)");
	expect_error("metadata: {version: 1, version: 2}\n"
	    "spec: {roomId: room-abcdef}\n", ORIGIN ":1:24: metadata.version: "
	    "duplicate key (first at line 1)");
}

static void
test_empty_and_not_a_mapping(void **state)
{
	(void)state;
	expect_error("", ORIGIN ":1:1: the file is empty");
	expect_error("# only a comment\n", ORIGIN ":1:1: the file is empty");
	expect_error("- a\n- b\n", ORIGIN ":1:1: a RoomSpec must be a mapping "
	    "with apiVersion, kind, metadata and spec; got a list");
	expect_error("just text\n", ORIGIN ":1:1: a RoomSpec must be a "
	    "mapping");
	expect_error("[{a: 1}]: x\n", ORIGIN ":1:1: mapping keys must be plain "
	    "text");
}

/* A syntax error stops the parse: no half-read model, one error. */
static void
test_syntax_error_stops(void **state)
{
	struct res	r;

	(void)state;
	parse(&r, "metadata:\n  version: 0\nspec:\n  roomId: [room-x\n"
	    "  entities: }\n");
	assert_int_equal(r.rc, RO_EINVALID);
	assert_int_equal(r.diag.errors.n, 1);
	assert_true(tu_contains(r.errors, ORIGIN ":5:"));
	assert_true(tu_contains(r.errors, "spec.roomId[1]: YAML syntax "
	    "error: "));
	res_free(&r);
	expect_error("metadata:\n  version: 1\n bad: indent\n",
	    ORIGIN ":3:2: YAML syntax error: did not find expected key");
}

/* Hostile text in keys and values is escaped in messages, and cut. */
static void
test_messages_escape_user_text(void **state)
{
	struct res	 r;
	char		*longkey = repeat("k", 300), *doc;

	(void)state;
	expect_error(HEAD "  \"a\\x01\\\"b\": 1\n", ORIGIN ":5:3: "
	    "spec[\"a\\x01\\\"b\"]: unknown key");
	assert_true(asprintf(&doc, HEAD "  %s: 1\n", longkey) > 0);
	parse(&r, doc);
	assert_int_equal(r.rc, RO_EINVALID);
	assert_true(tu_contains(r.errors, ORIGIN ":5:3: spec[\"kkkk"));
	assert_true(tu_contains(r.errors, "kkkk\"...]: unknown key"));
	assert_true(strlen(r.errors) < 600);
	res_free(&r);
	free(doc);
	free(longkey);
}

/* --- load_file ---------------------------------------------------------- */

static void
test_load_file(void **state)
{
	struct ro_spec	*spec = NULL;
	struct ro_diag	 diag = RO_DIAG_INIT;
	struct ro_err	 err = RO_ERR_INIT;
	char		*dir = tu_tmpdir(), *path, *missing, *big;
	FILE		*f;

	(void)state;
	tu_write(dir, "lab.yaml", full_yaml);
	path = tu_path(dir, "lab.yaml");
	assert_int_equal(ro_spec_load_file(&spec, path, &diag, &err), RO_OK);
	assert_string_equal(spec->path, path);
	assert_string_equal(spec->room_id, "room-ai-lab-01");
	ro_spec_free(spec);
	spec = NULL;

	missing = tu_path(dir, "nope.yaml");
	assert_int_equal(ro_spec_load_file(&spec, missing, &diag, &err),
	    RO_ENOTFOUND);
	assert_null(spec);
	assert_int_equal(diag.errors.n, 1);
	assert_true(tu_contains(diag.errors.v[0], missing));

	big = tu_path(dir, "big.yaml");
	assert_non_null(f = fopen(big, "w"));
	assert_int_equal(ftruncate(fileno(f), 2 << 20), 0);
	fclose(f);
	assert_int_equal(ro_spec_load_file(&spec, big, &diag, &err),
	    RO_ETOOBIG);
	assert_null(spec);
	assert_true(tu_contains(err.msg, big));
	assert_true(tu_contains(diag.errors.v[1], "limit is 1048576"));

	ro_diag_release(&diag);
	free(path);
	free(missing);
	free(big);
	tu_rmrf(dir);
	free(dir);
}

/* --- JSON --------------------------------------------------------------- */

static void
assert_str_same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void
assert_spec_same(const struct ro_spec *a, const struct ro_spec *b)
{
	size_t	i;

	assert_str_same(a->name, b->name);
	assert_int_equal(a->version, b->version);
	assert_true(ro_strv_eq(&a->ann_keys, &b->ann_keys));
	assert_true(ro_strv_eq(&a->ann_values, &b->ann_values));
	assert_string_equal(a->room_id, b->room_id);
	assert_int_equal(a->n_entities, b->n_entities);
	for (i = 0; i < a->n_entities; i++) {
		assert_string_equal(a->entities[i].id, b->entities[i].id);
		assert_true(ro_entity_equal(&a->entities[i], &b->entities[i]));
		assert_str_same(a->entities[i].display_name,
		    b->entities[i].display_name);
		assert_str_same(a->entities[i].owner_user_id,
		    b->entities[i].owner_user_id);
	}
	assert_int_equal(a->n_artifacts, b->n_artifacts);
	for (i = 0; i < a->n_artifacts; i++) {
		const struct ro_artifact *x = &a->artifacts[i];
		const struct ro_artifact *y = &b->artifacts[i];

		assert_string_equal(x->name, y->name);
		assert_string_equal(x->type, y->type);
		assert_string_equal(x->workspace, y->workspace);
		assert_true(ro_strv_eq(&x->tags, &y->tags));
		assert_str_same(x->seed_from, y->seed_from);
		assert_int_equal(x->seed, y->seed);
		assert_int_equal(x->promote_after_seed, y->promote_after_seed);
	}
	assert_int_equal(ro_policies_diff(&a->policies, &b->policies), 0);
	assert_int_equal(a->warnings.n, b->warnings.n);
}

static void
test_json_equivalence(void **state)
{
	struct res	y, j;

	(void)state;
	expect_ok(&y, full_yaml);
	parse_json(&j, full_json);
	assert_int_equal(j.rc, RO_OK);
	assert_spec_same(y.spec, j.spec);
	assert_string_equal(j.spec->path, "<api>");
	assert_int_equal(j.spec->entities[0].line, 0);
	res_free(&y);
	res_free(&j);

	/* minimal, with the defaults and the warning */
	expect_ok(&y, "metadata: {version: 3}\nspec: {roomId: room-abcdef, "
	    "entities: [{id: E-a1, kind: NPC}]}\n");
	parse_json(&j, "{\"metadata\":{\"version\":3},\"spec\":{\"roomId\":"
	    "\"room-abcdef\",\"entities\":[{\"id\":\"E-a1\",\"kind\":\"NPC\"}]}}");
	assert_int_equal(j.rc, RO_OK);
	assert_spec_same(y.spec, j.spec);
	assert_string_equal(j.spec->warnings.v[0], "<api>: spec.policies."
	    "dmVisibilityDefault: not set; using \"team\"");
	res_free(&y);
	res_free(&j);
}

/* The same mistakes give the same field paths from JSON (no positions). */
static void
test_json_errors(void **state)
{
	struct res	j;

	(void)state;
	parse_json(&j, "{\"apiVersion\":\"v2\",\"metadata\":{\"version\":0},"
	    "\"spec\":{\"roomId\":\"bad-room\",\"entities\":["
	    "{\"id\":\"E-a1\",\"kind\":\"agent\"},"
	    "{\"id\":\"E-a1\",\"kind\":\"robot\",\"polcy\":{}}],"
	    "\"artifacts\":[{\"name\":\"a\",\"type\":\"t\",\"workspace\":\"w\","
	    "\"seedFrom\":\"/etc/passwd\",\"promoteAfterSeed\":\"yes\"}],"
	    "\"policies\":{\"maxArtifactsPerEntity\":1.5}},\"extra\":1}");
	assert_int_equal(j.rc, RO_EINVALID);
	assert_null(j.spec);
	assert_true(tu_contains(j.errors, "<api>: extra: unknown key"));
	assert_true(tu_contains(j.errors, "<api>: apiVersion: unsupported "
	    "apiVersion \"v2\""));
	assert_true(tu_contains(j.errors, "<api>: metadata.version: must be "
	    "an integer greater than 0, got integer 0"));
	assert_true(tu_contains(j.errors, "<api>: spec.roomId: invalid roomId "
	    "\"bad-room\""));
	assert_true(tu_contains(j.errors, "<api>: spec.entities[1].polcy: "
	    "unknown key"));
	assert_true(tu_contains(j.errors, "<api>: spec.entities[1].kind: "
	    "invalid entity kind \"robot\""));
	assert_true(tu_contains(j.errors, "<api>: spec.entities[1].id: "
	    "duplicate entity id \"E-a1\"; item [0] has it already\n"));
	assert_true(tu_contains(j.errors, "<api>: spec.artifacts[0].seedFrom: "
	    "seedFrom \"/etc/passwd\" is an absolute path"));
	assert_true(tu_contains(j.errors, "<api>: spec.artifacts[0]."
	    "promoteAfterSeed: expected a boolean (true or false), got "
	    "string \"yes\""));
	assert_true(tu_contains(j.errors, "<api>: spec.policies."
	    "maxArtifactsPerEntity: expected an integer, got number 1.5"));
	assert_int_equal(j.diag.errors.n, 10);
	res_free(&j);

	/* duplicate keys survive cJSON and are refused */
	parse_json(&j, "{\"metadata\":{\"version\":1},\"spec\":{\"roomId\":"
	    "\"room-abcdef\",\"roomId\":\"room-zzzzzz\"}}");
	assert_int_equal(j.rc, RO_EINVALID);
	assert_true(tu_contains(j.errors, "<api>: spec.roomId: duplicate key"));
	res_free(&j);

	parse_json(&j, "[1, 2]");
	assert_int_equal(j.rc, RO_EINVALID);
	assert_true(tu_contains(j.errors, "<api>: a RoomSpec must be a "
	    "mapping"));
	res_free(&j);
}

static void
test_json_depth(void **state)
{
	struct res	 j;
	struct ro_buf	 b = RO_BUF_INIT;
	char		*open = repeat("[", 40), *close = repeat("]", 40);

	(void)state;
	assert_int_equal(ro_buf_printf(&b, "{\"metadata\":{\"version\":1},"
	    "\"spec\":{\"roomId\":\"room-abcdef\",\"entities\":[{\"id\":"
	    "\"E-a1\",\"kind\":\"agent\",\"capabilities\":%s%s}]}}", open,
	    close), 0);
	parse_json(&j, ro_buf_cstr(&b));
	assert_int_equal(j.rc, RO_EINVALID);
	assert_int_equal(j.diag.errors.n, 1);
	assert_true(tu_contains(j.errors, "<api>: spec.entities[0]."
	    "capabilities[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]"
	    "[0][0][0][0][0][0][0][0][0][0][0]: nested deeper than 32 "
	    "levels"));
	res_free(&j);
	ro_buf_release(&b);
	free(open);
	free(close);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_model),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_dm_visibility_empty_warns),
		cmocka_unit_test(test_policies_invalid),
		cmocka_unit_test(test_api_version),
		cmocka_unit_test(test_kind),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_errors_in_file_order),
		cmocka_unit_test(test_annotations),
		cmocka_unit_test(test_metadata_version),
		cmocka_unit_test(test_metadata_missing),
		cmocka_unit_test(test_spec_missing),
		cmocka_unit_test(test_room_id),
		cmocka_unit_test(test_id_validators),
		cmocka_unit_test(test_entity_id),
		cmocka_unit_test(test_entity_id_unique),
		cmocka_unit_test(test_entity_kind),
		cmocka_unit_test(test_entity_visibility),
		cmocka_unit_test(test_entity_policy_aliases),
		cmocka_unit_test(test_artifact_required),
		cmocka_unit_test(test_artifact_name_unique),
		cmocka_unit_test(test_artifact_tags_and_promote),
		cmocka_unit_test(test_artifact_seed_from),
		cmocka_unit_test(test_type_errors),
		cmocka_unit_test(test_null_is_absent),
		cmocka_unit_test(test_limit_file_size),
		cmocka_unit_test(test_limit_depth),
		cmocka_unit_test(test_alias_bomb),
		cmocka_unit_test(test_tags_refused),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_escaped_text),
		cmocka_unit_test(test_limit_string),
		cmocka_unit_test(test_limit_entities),
		cmocka_unit_test(test_limit_artifacts),
		cmocka_unit_test(test_two_documents),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_empty_and_not_a_mapping),
		cmocka_unit_test(test_syntax_error_stops),
		cmocka_unit_test(test_messages_escape_user_text),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_json_equivalence),
		cmocka_unit_test(test_json_errors),
		cmocka_unit_test(test_json_depth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
