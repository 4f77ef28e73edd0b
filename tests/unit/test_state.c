/* test_state.c: RoomState JSON decoding (valid and hostile) and encoding. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/state.h"
#include "testutil.h"

#define ROOM	"room-ai-lab-01"
#define FP	"9a0a3c3661175e6a9e486b9fa0e94482fc9c1d4d5083cd6b2232f58b9709b22f"
#define CH	"249b4a014db3021bb0907f945f5521e85cafc59408733c133a01580faf71446d"

/* The RoomState example of roomserver-api.md, minified (as we encode it). */
static const char example[] =
    "{\"roomId\":\"" ROOM "\",\"revision\":7,"
    "\"lastUpdated\":\"2026-11-23T10:00:00.000Z\","
    "\"entities\":[{\"id\":\"E-agent-1\",\"kind\":\"agent\","
    "\"displayName\":\"Research Agent\",\"visibility\":\"team\","
    "\"ownerUserId\":null,\"capabilities\":[\"read_artifacts\"],"
    "\"policy\":{\"allow_commands_from\":\"orchestrator\","
    "\"sandbox_mode\":true,\"env_whitelist\":[],\"scopes\":[]}}],"
    "\"artifacts\":[{\"name\":\"project-plan\",\"type\":\"document\","
    "\"workspace\":\"shared\",\"tags\":[\"planning\"],"
    "\"fingerprint\":\"" FP "\",\"contentHash\":\"" CH "\",\"size\":1059,"
    "\"version\":1,\"isPromoted\":false}],"
    "\"policies\":{\"dmVisibilityDefault\":\"team\","
    "\"allowResourceCreation\":false,\"maxArtifactsPerEntity\":100}}";

static int
parse(struct ro_state **out, const char *s, struct ro_err *err)
{
	return ro_state_parse_json(out, s, strlen(s), err);
}

/* JSON text of s, minified; free() it. */
static char *
encode(const struct ro_state *s)
{
	cJSON	*j = ro_state_to_json(s);
	char	*txt;

	assert_non_null(j);
	txt = cJSON_PrintUnformatted(j);
	assert_non_null(txt);
	cJSON_Delete(j);
	return txt;
}

static void
test_example(void **unused)
{
	struct ro_state		*s = NULL;
	struct ro_err		 err = RO_ERR_INIT;
	const struct ro_entity	*e;
	const struct ro_artifact *a;

	(void)unused;
	assert_int_equal(parse(&s, example, &err), RO_OK);
	assert_string_equal(s->room_id, ROOM);
	assert_int_equal(s->revision, 7);
	assert_string_equal(s->last_updated, "2026-11-23T10:00:00.000Z");
	assert_int_equal(s->n_entities, 1);
	e = &s->entities[0];
	assert_string_equal(e->id, "E-agent-1");
	assert_string_equal(e->kind, "agent");
	assert_string_equal(e->display_name, "Research Agent");
	assert_string_equal(e->visibility, "team");
	assert_null(e->owner_user_id);
	assert_int_equal(e->capabilities.n, 1);
	assert_string_equal(e->capabilities.v[0], "read_artifacts");
	assert_string_equal(e->policy.allow_commands_from, "orchestrator");
	assert_true(e->policy.sandbox_mode);
	assert_int_equal(e->policy.env_whitelist.n, 0);
	assert_int_equal(e->policy.scopes.n, 0);
	assert_int_equal(s->n_artifacts, 1);
	a = &s->artifacts[0];
	assert_string_equal(a->name, "project-plan");
	assert_string_equal(a->type, "document");
	assert_string_equal(a->workspace, "shared");
	assert_int_equal(a->tags.n, 1);
	assert_string_equal(a->tags.v[0], "planning");
	assert_string_equal(a->fingerprint, FP);
	assert_string_equal(a->content_hash, CH);
	assert_int_equal(a->size, 1059);
	assert_int_equal(a->version, 1);
	assert_false(a->is_promoted);
	assert_int_equal(a->seed, RO_SEED_NONE);
	assert_null(a->seed_from);
	assert_string_equal(s->policies.dm_visibility_default, "team");
	assert_false(s->policies.allow_resource_creation);
	assert_int_equal(s->policies.max_artifacts_per_entity, 100);
	ro_state_free(s);
}

/* Encoding gives exactly the shape of roomserver-api.md. */
static void
test_encode_exact_shape(void **unused)
{
	struct ro_state	*s = NULL;
	char		*txt;

	(void)unused;
	assert_int_equal(parse(&s, example, NULL), RO_OK);
	txt = encode(s);
	assert_string_equal(txt, example);
	free(txt);
	ro_state_free(s);
}

static void
test_round_trip(void **unused)
{
	static const char body[] =
	    "{\"roomId\":\"room-xyz123\",\"revision\":999999999999999,"
	    "\"entities\":[{\"id\":\"E-h1\",\"kind\":\"human\","
	    "\"displayName\":\"Ann \\\"A\\\" \\u00e9\\n\","
	    "\"visibility\":\"owner\",\"ownerUserId\":\"user-1\","
	    "\"capabilities\":[\"a\",\"b\"],\"policy\":{\"scopes\":[\"s1\"],"
	    "\"env_whitelist\":[\"PATH\"]}},{\"id\":\"E-n2\",\"kind\":\"npc\"}],"
	    "\"artifacts\":[{\"name\":\"a\",\"type\":\"t\",\"workspace\":\"w\","
	    "\"isPromoted\":true,\"size\":999999999999999,"
	    "\"version\":12},{\"name\":\"b\",\"type\":\"t\",\"workspace\":\"w\","
	    "\"fingerprint\":\"" FP "\"}],\"policies\":{\"dmVisibilityDefault\":"
	    "\"public\",\"allowResourceCreation\":true,"
	    "\"maxArtifactsPerEntity\":-3}}";
	struct ro_state	*s = NULL, *s2 = NULL;
	struct ro_err	 err = RO_ERR_INIT;
	char		*t1, *t2;

	(void)unused;
	assert_int_equal(parse(&s, body, &err), RO_OK);
	t1 = encode(s);
	assert_int_equal(parse(&s2, t1, &err), RO_OK);
	t2 = encode(s2);
	assert_string_equal(t1, t2);
	assert_int_equal(s2->revision, 999999999999999L);
	assert_int_equal(s2->artifacts[0].size, 999999999999999ULL);
	assert_string_equal(s2->entities[0].display_name, "Ann \"A\" \xc3\xa9\n");
	assert_string_equal(s2->entities[0].owner_user_id, "user-1");
	assert_true(s2->artifacts[0].is_promoted);
	assert_string_equal(s2->artifacts[1].fingerprint, FP);
	assert_string_equal(s2->artifacts[0].fingerprint, "");
	assert_int_equal(s2->policies.max_artifacts_per_entity, -3);
	assert_true(s2->policies.allow_resource_creation);
	assert_true(ro_entity_equal(&s->entities[0], &s2->entities[0]));
	assert_true(ro_entity_equal(&s->entities[1], &s2->entities[1]));
	assert_null(s2->last_updated);
	free(t1);
	free(t2);
	ro_state_free(s);
	ro_state_free(s2);
}

static void
test_defaults(void **unused)
{
	struct ro_state		*s = NULL;
	struct ro_err		 err = RO_ERR_INIT;
	const struct ro_entity	*e;
	const struct ro_artifact *a;

	(void)unused;
	assert_int_equal(parse(&s, "{\"roomId\":\"" ROOM "\",\"revision\":0,"
	    "\"lastUpdated\":null,\"entities\":[{\"id\":\"E-a1\",\"kind\":"
	    "\"agent\",\"displayName\":null}],\"artifacts\":[{\"name\":\"n\","
	    "\"type\":\"t\",\"workspace\":\"w\",\"contentHash\":null}]}", &err),
	    RO_OK);
	assert_int_equal(s->revision, 0);
	assert_null(s->last_updated);
	e = &s->entities[0];
	assert_null(e->display_name);
	assert_null(e->owner_user_id);
	assert_string_equal(e->visibility, "team");
	assert_int_equal(e->capabilities.n, 0);
	assert_string_equal(e->policy.allow_commands_from, "any");
	assert_false(e->policy.sandbox_mode);
	a = &s->artifacts[0];
	assert_int_equal(a->tags.n, 0);
	assert_string_equal(a->fingerprint, "");
	assert_string_equal(a->content_hash, "");
	assert_int_equal(a->size, 0);
	assert_int_equal(a->version, 0);
	assert_false(a->is_promoted);
	assert_string_equal(s->policies.dm_visibility_default, "team");
	assert_false(s->policies.allow_resource_creation);
	assert_int_equal(s->policies.max_artifacts_per_entity, 100);
	ro_state_free(s);

	/* no lists, no policies at all */
	assert_int_equal(parse(&s, "{\"roomId\":\"" ROOM "\",\"revision\":3}",
	    &err), RO_OK);
	assert_int_equal(s->n_entities, 0);
	assert_int_equal(s->n_artifacts, 0);
	assert_string_equal(s->policies.dm_visibility_default, "team");
	assert_int_equal(s->policies.max_artifacts_per_entity, 100);
	ro_state_free(s);
}

/* The server may add fields; they are ignored wherever they appear. */
static void
test_unknown_fields_ignored(void **unused)
{
	struct ro_state	*s = NULL;
	struct ro_err	 err = RO_ERR_INIT;

	(void)unused;
	assert_int_equal(parse(&s, "{\"x\":{\"y\":[1,{\"z\":null}]},"
	    "\"roomId\":\"" ROOM "\",\"revision\":1,\"Revision\":\"no\","
	    "\"entities\":[{\"id\":\"E-a1\",\"kind\":\"agent\",\"new\":[],"
	    "\"policy\":{\"future\":true,\"sandboxMode\":true}}],"
	    "\"artifacts\":[{\"name\":\"n\",\"type\":\"t\",\"workspace\":\"w\","
	    "\"createdAt\":\"x\"}],\"policies\":{\"newPolicy\":1}}", &err),
	    RO_OK);
	assert_int_equal(s->revision, 1);
	/* camelCase alias of a policy key */
	assert_true(s->entities[0].policy.sandbox_mode);
	ro_state_free(s);
}

static void
test_new_empty(void **unused)
{
	struct ro_state	*s = NULL;
	char		*txt;

	(void)unused;
	assert_int_equal(ro_state_new_empty(&s, "room-empty1", NULL), RO_OK);
	assert_int_equal(s->revision, 0);
	assert_int_equal(s->n_entities, 0);
	assert_int_equal(s->n_artifacts, 0);
	txt = encode(s);
	assert_string_equal(txt, "{\"roomId\":\"room-empty1\",\"revision\":0,"
	    "\"lastUpdated\":null,\"entities\":[],\"artifacts\":[],"
	    "\"policies\":{\"dmVisibilityDefault\":\"team\","
	    "\"allowResourceCreation\":false,\"maxArtifactsPerEntity\":100}}");
	free(txt);
	ro_state_free(s);
}

struct bad {
	const char	*body;
	int		 code;
	const char	*msg;	/* the whole message */
};

#define E1(x)	"{\"roomId\":\"" ROOM "\",\"revision\":1,\"entities\":[" x "]}"
#define A1(x)	"{\"roomId\":\"" ROOM "\",\"revision\":1,\"artifacts\":[" x "]}"
#define P1(x)	"{\"roomId\":\"" ROOM "\",\"revision\":1,\"policies\":" x "}"
#define ENT	"{\"id\":\"E-a1\",\"kind\":\"agent\"}"
#define ART	"{\"name\":\"a\",\"type\":\"t\",\"workspace\":\"w\""

static const struct bad bad[] = {
	{ "[]", RO_EINVALID, "RoomState: expected object, got array" },
	{ "\"x\"", RO_EINVALID, "RoomState: expected object, got string" },
	{ "{\"revision\":1}", RO_EINVALID, "roomId: missing" },
	{ "{\"roomId\":5,\"revision\":1}", RO_EINVALID,
	  "roomId: expected string, got number" },
	{ "{\"roomId\":\"\",\"revision\":1}", RO_EINVALID,
	  "roomId: must not be empty" },
	{ "{\"roomId\":\"" ROOM "\"}", RO_EINVALID, "revision: missing" },
	{ "{\"roomId\":\"" ROOM "\",\"revision\":\"7\"}", RO_EINVALID,
	  "revision: expected non-negative integer, got string" },
	{ "{\"roomId\":\"" ROOM "\",\"revision\":-1}", RO_EINVALID,
	  "revision: expected non-negative integer up to "
	  "999999999999999, got -1" },
	{ "{\"roomId\":\"" ROOM "\",\"revision\":1.5}", RO_EINVALID,
	  "revision: expected non-negative integer up to "
	  "999999999999999, got 1.5" },
	{ "{\"roomId\":\"" ROOM "\",\"revision\":1000000000000000}",
	  RO_EINVALID, "revision: expected non-negative integer up to "
	  "999999999999999, got 1e+15" },
	{ "{\"roomId\":\"" ROOM "\",\"revision\":1e300}", RO_EINVALID,
	  "revision: expected non-negative integer up to "
	  "999999999999999, got 1e+300" },
	{ "{\"roomId\":\"" ROOM "\",\"revision\":1,\"lastUpdated\":1}",
	  RO_EINVALID, "lastUpdated: expected string, got number" },
	{ "{\"roomId\":\"" ROOM "\",\"revision\":1,\"entities\":{}}",
	  RO_EINVALID, "entities: expected array, got object" },
	{ "{\"roomId\":\"" ROOM "\",\"revision\":1,\"artifacts\":null}",
	  RO_EINVALID, "artifacts: expected array, got null" },
	{ E1(ENT ",7"), RO_EINVALID, "entities[1]: expected object, got number" },
	{ E1("{\"kind\":\"agent\"}"), RO_EINVALID, "entities[0].id: missing" },
	{ E1("{\"id\":\"\",\"kind\":\"agent\"}"), RO_EINVALID,
	  "entities[0].id: must not be empty" },
	{ E1("{\"id\":\"E-a1\"}"), RO_EINVALID, "entities[0].kind: missing" },
	{ E1("{\"id\":\"E-a1\",\"kind\":null}"), RO_EINVALID,
	  "entities[0].kind: expected string, got null" },
	{ E1("{\"id\":\"E-a1\",\"kind\":\"agent\",\"visibility\":null}"),
	  RO_EINVALID, "entities[0].visibility: expected string, got null" },
	{ E1("{\"id\":\"E-a1\",\"kind\":\"agent\",\"displayName\":false}"),
	  RO_EINVALID, "entities[0].displayName: expected string, got boolean" },
	{ E1("{\"id\":\"E-a1\",\"kind\":\"agent\",\"ownerUserId\":[]}"),
	  RO_EINVALID, "entities[0].ownerUserId: expected string, got array" },
	{ E1("{\"id\":\"E-a1\",\"kind\":\"agent\",\"capabilities\":\"a\"}"),
	  RO_EINVALID,
	  "entities[0].capabilities: expected array of strings, got string" },
	{ E1("{\"id\":\"E-a1\",\"kind\":\"agent\",\"capabilities\":[\"a\",1]}"),
	  RO_EINVALID, "entities[0].capabilities[1]: expected string, got number" },
	{ E1("{\"id\":\"E-a1\",\"kind\":\"agent\",\"policy\":[]}"), RO_EINVALID,
	  "entities[0].policy: expected object, got array" },
	{ E1(ENT "," ENT), RO_EINVALID,
	  "entities[1].id: duplicate \"E-a1\" (also entities[0])" },
	{ E1("{\"id\":\"E-b1\",\"kind\":\"agent\"},{\"id\":\"E-a1\",\"kind\":"
	  "\"agent\"},{\"id\":\"E-c1\",\"kind\":\"agent\"},{\"id\":\"E-a1\","
	  "\"kind\":\"npc\"}"), RO_EINVALID,
	  "entities[3].id: duplicate \"E-a1\" (also entities[1])" },
	{ E1(ENT "," ENT "," ENT ",{\"id\":\"E-d1\",\"kind\":\"agent\","
	  "\"policy\":{\"sandbox_mode\":\"yes\"}}"), RO_EINVALID,
	  "entities[3].policy.sandbox_mode: expected boolean, got string" },
	{ E1("{\"id\":\"E-a1\",\"kind\":\"agent\",\"policy\":{\"sandboxMode\":1}}"),
	  RO_EINVALID, "entities[0].policy.sandboxMode: expected boolean, got number" },
	{ E1("{\"id\":\"E-a1\",\"kind\":\"agent\",\"policy\":"
	  "{\"allow_commands_from\":{}}}"), RO_EINVALID,
	  "entities[0].policy.allow_commands_from: expected string, got object" },
	{ E1("{\"id\":\"E-a1\",\"kind\":\"agent\",\"policy\":"
	  "{\"env_whitelist\":[null]}}"), RO_EINVALID,
	  "entities[0].policy.env_whitelist[0]: expected string, got null" },
	{ E1("{\"id\":\"E-a1\",\"kind\":\"agent\",\"policy\":"
	  "{\"scopes\":{}}}"), RO_EINVALID,
	  "entities[0].policy.scopes: expected array of strings, got object" },
	{ A1("{\"type\":\"t\",\"workspace\":\"w\"}"), RO_EINVALID,
	  "artifacts[0].name: missing" },
	{ A1("{\"name\":\"a\",\"workspace\":\"w\"}"), RO_EINVALID,
	  "artifacts[0].type: missing" },
	{ A1("{\"name\":\"a\",\"type\":\"t\"}"), RO_EINVALID,
	  "artifacts[0].workspace: missing" },
	{ A1(ART ",\"tags\":[[]]}"), RO_EINVALID,
	  "artifacts[0].tags[0]: expected string, got array" },
	{ A1(ART ",\"fingerprint\":\"9A0A3C3661175E6A9E486B9FA0E94482FC9C1D4D"
	  "5083CD6B2232F58B9709B22F\"}"), RO_EINVALID,
	  "artifacts[0].fingerprint: expected 64 lower-case hex digits or \"\"" },
	{ A1(ART ",\"fingerprint\":\"abc\"}"), RO_EINVALID,
	  "artifacts[0].fingerprint: expected 64 lower-case hex digits or \"\"" },
	{ A1(ART ",\"fingerprint\":\"" FP "0\"}"), RO_EINVALID,
	  "artifacts[0].fingerprint: expected 64 lower-case hex digits or \"\"" },
	{ A1(ART ",\"fingerprint\":\"g" CH "\"}"), RO_EINVALID,
	  "artifacts[0].fingerprint: expected 64 lower-case hex digits or \"\"" },
	{ A1(ART ",\"fingerprint\":1}"), RO_EINVALID,
	  "artifacts[0].fingerprint: expected string, got number" },
	{ A1(ART "}," ART ",\"contentHash\":\"xyz0000000000000000000000000000"
	  "000000000000000000000000000000000\"}"), RO_EINVALID,
	  "artifacts[1].contentHash: expected 64 lower-case hex digits or \"\"" },
	{ A1(ART ",\"size\":-1}"), RO_EINVALID,
	  "artifacts[0].size: expected non-negative integer up to "
	  "999999999999999, got -1" },
	{ A1(ART ",\"size\":\"12\"}"), RO_EINVALID,
	  "artifacts[0].size: expected non-negative integer, got string" },
	{ A1(ART ",\"version\":2.5}"), RO_EINVALID,
	  "artifacts[0].version: expected non-negative integer up to "
	  "999999999999999, got 2.5" },
	{ A1(ART ",\"isPromoted\":\"false\"}"), RO_EINVALID,
	  "artifacts[0].isPromoted: expected boolean, got string" },
	{ A1(ART "}," ART "}"), RO_EINVALID,
	  "artifacts[1].name: duplicate \"a\" (also artifacts[0])" },
	{ P1("[]"), RO_EINVALID, "policies: expected object, got array" },
	{ P1("{\"dmVisibilityDefault\":5}"), RO_EINVALID,
	  "policies.dmVisibilityDefault: expected string, got number" },
	{ P1("{\"allowResourceCreation\":0}"), RO_EINVALID,
	  "policies.allowResourceCreation: expected boolean, got number" },
	{ P1("{\"maxArtifactsPerEntity\":1.5}"), RO_EINVALID,
	  "policies.maxArtifactsPerEntity: expected integer up to "
	  "999999999999999, got 1.5" },
	{ P1("{\"maxArtifactsPerEntity\":true}"), RO_EINVALID,
	  "policies.maxArtifactsPerEntity: expected integer, got boolean" },
	/* not UTF-8: a lone byte, an overlong '/', a surrogate */
	{ E1("{\"id\":\"E-a1\",\"kind\":\"agent\",\"displayName\":\"\xff\"}"),
	  RO_EINVALID, "entities[0].displayName: invalid UTF-8" },
	{ E1("{\"id\":\"E-a1\",\"kind\":\"agent\",\"displayName\":\"\xc0\xaf\"}"),
	  RO_EINVALID, "entities[0].displayName: invalid UTF-8" },
	{ A1(ART ",\"tags\":[\"ok\",\"\xed\xa0\x80\"]}"), RO_EINVALID,
	  "artifacts[0].tags[1]: invalid UTF-8" },
	{ E1("{\"id\":\"E-a1\",\"kind\":\"agent\",\"displayName\":"
	  "\"\xf4\x90\x80\x80\"}"), RO_EINVALID,
	  "entities[0].displayName: invalid UTF-8" },	/* past U+10FFFF */
	{ E1("{\"id\":\"E-a1\",\"kind\":\"agent\",\"displayName\":"
	  "\"\xe2\x82\"}"), RO_EINVALID,
	  "entities[0].displayName: invalid UTF-8" },	/* cut short */
	{ A1(ART "},1"), RO_EINVALID, "artifacts[1]: expected object, got number" },
	/* syntax */
	{ "{\"roomId\":\"" ROOM "\",\"revision\":x}", RO_EINVALID,
	  "RoomState: invalid JSON near line 1, column 39" },
	{ "{\n  \"roomId\": \"" ROOM "\",\n  \"revision\": 1,,\n}", RO_EINVALID,
	  "RoomState: invalid JSON near line 3, column 18" },
	{ "{\"roomId\":\"" ROOM "\",\"revision\":1} {}", RO_EINVALID,
	  "RoomState: trailing data after JSON near line 1, column 42" },
	{ "{\"roomId\":\"" ROOM "\",\"revision\":1,\"entities\":[{\"id\":\"E-",
	  RO_EINVALID, "RoomState: truncated JSON (body ends inside a value)" },
	{ "   ", RO_EINVALID, "RoomState: invalid JSON near line 1, column 3" },
};

static void
test_hostile_bodies(void **unused)
{
	struct ro_state	*s;
	struct ro_err	 err;
	size_t		 i;
	int		 rc;

	(void)unused;
	for (i = 0; i < RO_NELEM(bad); i++) {
		s = (struct ro_state *)&err;	/* must stay untouched */
		ro_err_clear(&err);
		rc = parse(&s, bad[i].body, &err);
		if (rc != bad[i].code || strcmp(err.msg, bad[i].msg) != 0)
			fail_msg("case %zu: %s\n  got %d \"%s\"\n  want %d \"%s\"",
			    i, bad[i].body, rc, err.msg, bad[i].code,
			    bad[i].msg);
		assert_int_equal(err.code, bad[i].code);
		assert_ptr_equal(s, (struct ro_state *)&err);
	}
}

static void
test_empty_body(void **unused)
{
	struct ro_state	*s = NULL;
	struct ro_err	 err = RO_ERR_INIT;

	(void)unused;
	assert_int_equal(ro_state_parse_json(&s, "", 0, &err), RO_EINVALID);
	assert_string_equal(err.msg, "RoomState: empty body");
	assert_null(s);
}

/* Every proper prefix of a valid body is rejected, none crashes. */
static void
test_truncated_prefixes(void **unused)
{
	struct ro_state	*s = NULL;
	struct ro_err	 err;
	size_t		 n;

	(void)unused;
	for (n = 1; n < strlen(example); n++) {
		ro_err_clear(&err);
		assert_int_equal(ro_state_parse_json(&s, example, n, &err),
		    RO_EINVALID);
		assert_null(s);
		assert_true(tu_contains(err.msg, "RoomState: "));
	}
	assert_int_equal(ro_state_parse_json(&s, example, n, &err), RO_OK);
	ro_state_free(s);
}

static void
test_size_cap(void **unused)
{
	size_t		 n = (size_t)RO_STATE_JSON_MAX + 1;
	char		*buf = malloc(n);
	struct ro_state	*s = NULL;
	struct ro_err	 err = RO_ERR_INIT;

	(void)unused;
	assert_non_null(buf);
	memset(buf, ' ', n);
	assert_int_equal(ro_state_parse_json(&s, buf, n, &err), RO_ETOOBIG);
	assert_true(tu_contains(err.msg, "limit is 67108864"));
	assert_null(s);
	free(buf);
}

/* head, then n items pre<i as %05zu>post separated by ",", tail; free(). */
static char *
repeat(const char *head, const char *pre, const char *post, size_t n,
    const char *tail)
{
	struct ro_buf	b = RO_BUF_INIT;
	size_t		i;

	assert_int_equal(ro_buf_addstr(&b, head), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(ro_buf_printf(&b, "%s%s%05zu%s",
		    i > 0 ? "," : "", pre, i, post), 0);
	assert_int_equal(ro_buf_addstr(&b, tail), 0);
	return ro_buf_detach(&b, NULL);
}

static void
test_list_limits(void **unused)
{
	struct ro_state	*s = NULL;
	struct ro_err	 err = RO_ERR_INIT;
	char		*body;

	(void)unused;
	body = repeat("{\"roomId\":\"" ROOM "\",\"revision\":1,\"entities\":[",
	    "{\"id\":\"E-", "\",\"kind\":\"agent\"}", RO_SPEC_ENTITIES_MAX,
	    "]}");
	assert_int_equal(parse(&s, body, &err), RO_OK);
	assert_int_equal(s->n_entities, RO_SPEC_ENTITIES_MAX);
	assert_string_equal(s->entities[9999].id, "E-09999");
	ro_state_free(s);
	s = NULL;
	free(body);

	/* one more, even of junk, is refused before any item is read */
	body = repeat("{\"roomId\":\"" ROOM "\",\"revision\":1,\"entities\":[",
	    "\"", "\"", RO_SPEC_ENTITIES_MAX + 1, "]}");
	assert_int_equal(parse(&s, body, &err), RO_ETOOBIG);
	assert_string_equal(err.msg, "entities: 10001 items, limit is 10000");
	assert_null(s);
	free(body);

	body = repeat("{\"roomId\":\"" ROOM "\",\"revision\":1,\"artifacts\":[",
	    "{\"n\":\"", "\"}", RO_SPEC_ARTIFACTS_MAX + 1, "]}");
	assert_int_equal(parse(&s, body, &err), RO_ETOOBIG);
	assert_string_equal(err.msg, "artifacts: 10001 items, limit is 10000");
	free(body);

	/* a flood of tiny values is refused before cJSON builds a tree */
	body = repeat("{\"roomId\":\"" ROOM "\",\"revision\":1,\"junk\":[",
	    "", "", (1u << 21) + 10, "]}");
	assert_int_equal(parse(&s, body, &err), RO_ETOOBIG);
	assert_true(tu_contains(err.msg, "more than 2097152 values"));
	free(body);
}

static void
test_string_limit(void **unused)
{
	struct ro_state	*s = NULL;
	struct ro_err	 err = RO_ERR_INIT;
	char		 name[RO_SPEC_STRING_MAX + 2];
	char		*body;

	(void)unused;
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 2] = '\0';		/* exactly the limit */
	assert_true(asprintf(&body, E1("{\"id\":\"E-a1\",\"kind\":"
	    "\"agent\",\"displayName\":\"%s\"}"), name) > 0);
	assert_int_equal(parse(&s, body, &err), RO_OK);
	assert_int_equal(strlen(s->entities[0].display_name),
	    RO_SPEC_STRING_MAX);
	ro_state_free(s);
	s = NULL;
	free(body);

	name[sizeof(name) - 2] = 'x';		/* one byte over */
	name[sizeof(name) - 1] = '\0';
	assert_true(asprintf(&body, A1(ART ",\"tags\":[\"a\",\"%s\"]}"),
	    name) > 0);
	assert_int_equal(parse(&s, body, &err), RO_ETOOBIG);
	assert_string_equal(err.msg,
	    "artifacts[0].tags[1]: string of 4097 bytes, limit is 4096");
	assert_null(s);
	free(body);
}

/* Nesting: 32 levels pass (in an unknown field), 33 are refused. */
static void
test_nesting(void **unused)
{
	struct ro_state	*s = NULL;
	struct ro_err	 err = RO_ERR_INIT;
	char		 body[512];
	int		 depth, i;
	size_t		 n;

	(void)unused;
	for (depth = 32; depth <= 33; depth++) {
		n = (size_t)snprintf(body, sizeof(body),
		    "{\"roomId\":\"" ROOM "\",\"revision\":1,\"x\":");
		for (i = 1; i < depth; i++)
			body[n++] = '[';
		for (i = 1; i < depth; i++)
			body[n++] = ']';
		body[n++] = '}';
		body[n] = '\0';
		ro_err_clear(&err);
		if (depth == 32) {
			assert_int_equal(parse(&s, body, &err), RO_OK);
			ro_state_free(s);
			s = NULL;
		} else {
			assert_int_equal(parse(&s, body, &err), RO_ETOOBIG);
			assert_true(tu_contains(err.msg,
			    "nesting deeper than 32 levels"));
			assert_null(s);
		}
	}
	/* brackets inside strings do not count */
	n = (size_t)snprintf(body, sizeof(body), "{\"roomId\":\"" ROOM "\","
	    "\"revision\":1,\"x\":\"%s\"}",
	    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"[[[[");
	assert_int_equal(parse(&s, body, &err), RO_OK);
	ro_state_free(s);
}

static void
test_utf8_accepted(void **unused)
{
	struct ro_state	*s = NULL;
	struct ro_err	 err = RO_ERR_INIT;

	(void)unused;
	assert_int_equal(parse(&s, E1("{\"id\":\"E-a1\",\"kind\":\"agent\","
	    "\"displayName\":\"\xf0\x9f\x98\x80 \xe2\x82\xac \xc3\xa9 "
	    "\\ud83d\\ude00\"}"), &err), RO_OK);
	assert_string_equal(s->entities[0].display_name,
	    "\xf0\x9f\x98\x80 \xe2\x82\xac \xc3\xa9 \xf0\x9f\x98\x80");
	ro_state_free(s);
}

/*
 * strdup() of this executable stands in for libc's (the library is linked
 * in statically): fail the n-th call from now to test every ENOMEM exit.
 */
static int	strdup_fail_in = -1;

char *
strdup(const char *s)
{
	size_t	 n = strlen(s) + 1;
	char	*p;

	if (strdup_fail_in == 0) {
		strdup_fail_in = -1;
		return NULL;
	}
	if (strdup_fail_in > 0)
		strdup_fail_in--;
	if ((p = malloc(n)) != NULL)
		memcpy(p, s, n);
	return p;
}

/* Out of memory at each allocation: ENOMEM, out untouched, no leak. */
static void
test_enomem(void **unused)
{
	struct ro_state	*s;
	struct ro_err	 err;
	int		 n, rc;

	(void)unused;
	for (n = 0; n < 100; n++) {
		s = (struct ro_state *)&err;
		ro_err_clear(&err);
		strdup_fail_in = n;
		rc = parse(&s, example, &err);
		if (strdup_fail_in == -1 && rc == RO_OK)
			fail_msg("allocation %d failed unnoticed", n);
		strdup_fail_in = -1;
		if (rc == RO_OK) {
			ro_state_free(s);
			break;
		}
		assert_int_equal(rc, RO_ENOMEM);
		assert_string_equal(err.msg, "out of memory");
		assert_ptr_equal(s, (struct ro_state *)&err);
	}
	assert_true(n > 10 && n < 100);
	for (n = 0; n < 3; n++) {
		s = NULL;
		strdup_fail_in = n;
		rc = ro_state_new_empty(&s, ROOM, &err);
		strdup_fail_in = -1;
		if (rc == RO_OK) {
			ro_state_free(s);
			break;
		}
		assert_int_equal(rc, RO_ENOMEM);
		assert_null(s);
	}
	assert_int_equal(n, 2);
}

static void
test_from_json_not_object(void **unused)
{
	struct ro_state	*s = NULL;
	struct ro_err	 err = RO_ERR_INIT;
	cJSON		*j = cJSON_CreateNumber(3);

	(void)unused;
	assert_int_equal(ro_state_from_json(&s, j, &err), RO_EINVALID);
	assert_string_equal(err.msg, "RoomState: expected object, got number");
	assert_int_equal(ro_state_from_json(&s, NULL, &err), RO_EINVALID);
	assert_null(s);
	cJSON_Delete(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_encode_exact_shape),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_unknown_fields_ignored),
		cmocka_unit_test(test_new_empty),
		cmocka_unit_test(test_hostile_bodies),
		cmocka_unit_test(test_empty_body),
		cmocka_unit_test(test_truncated_prefixes),
		cmocka_unit_test(test_size_cap),
		cmocka_unit_test(test_list_limits),
		cmocka_unit_test(test_string_limit),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_utf8_accepted),
		cmocka_unit_test(test_enomem),
		cmocka_unit_test(test_from_json_not_object),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
