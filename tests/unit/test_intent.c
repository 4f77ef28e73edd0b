/*
 * test_intent.c: the write-ahead intent of a reconcile cycle
 * (agent/intent.c): a plan with one item of every kind is saved and
 * loaded back; against the state before the apply nothing is done,
 * against the state after it every item is, item by item in between;
 * what an earlier stop carried is added; once its record is written only
 * the items in doubt count; the record scan finds an id across read
 * chunks; a damaged file is refused; remove is idempotent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/plan.h"
#include "roomops/seed.h"
#include "roomops/spec.h"
#include "roomops/state.h"
#include "intent.h"
#include "roomops/audit.h"
#include "testutil.h"

#define ROOM	"room-intent-01"

static const char spec_yaml[] =
    "metadata: {version: 2}\n"
    "spec:\n"
    "  roomId: " ROOM "\n"
    "  entities:\n"
    "    - {id: E-new, kind: agent}\n"
    "    - {id: E-upd, kind: human, displayName: After}\n"
    "  artifacts:\n"
    "    - {name: doc, type: document, workspace: shared,\n"
    "       seedFrom: seed.md, promoteAfterSeed: true}\n"
    "  policies: {dmVisibilityDefault: public}\n";

/* Before: E-upd drifted, E-old and art "gone" to remove, policies team. */
static const char before_json[] =
    "{\"roomId\": \"" ROOM "\", \"revision\": 7, \"entities\": ["
    "{\"id\": \"E-upd\", \"kind\": \"human\", \"displayName\": \"Before\"},"
    "{\"id\": \"E-old\", \"kind\": \"npc\"}],"
    "\"artifacts\": [{\"name\": \"gone\", \"type\": \"t\", "
    "\"workspace\": \"w\"}],"
    "\"policies\": {\"dmVisibilityDefault\": \"team\"}}";

struct fx {
	char		*dir;		/* root: seed.md, intents/, log */
	char		*idir;
	struct ro_spec	*spec;
	struct ro_state	*before;
	struct ro_plan	 plan;
};

static int
setup(void **state)
{
	struct fx	*f = calloc(1, sizeof(*f));
	struct ro_diag	 diag = RO_DIAG_INIT;
	struct ro_err	 err = RO_ERR_INIT;

	assert_non_null(f);
	f->dir = tu_tmpdir();
	f->idir = tu_path(f->dir, "intents");
	tu_write(f->dir, "seed.md", "# the plan\n");
	tu_write(f->dir, "intents/.keep", "");
	assert_int_equal(ro_spec_parse_yaml(&f->spec, "spec.yaml", spec_yaml,
	    strlen(spec_yaml), &diag, &err), RO_OK);
	assert_int_equal(ro_seed_resolve(f->spec, "", ro_seed_read_fs, f->dir,
	    &diag, &err), RO_OK);
	assert_int_equal(ro_state_parse_json(&f->before, before_json,
	    strlen(before_json), &err), RO_OK);
	assert_int_equal(ro_plan_build(&f->plan, f->spec, f->before, &err),
	    RO_OK);
	/* join, update, kick, seed, promote, delete, policies */
	assert_int_equal(ro_plan_count(&f->plan), 7);
	ro_diag_release(&diag);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*f = *state;

	ro_plan_release(&f->plan);
	ro_state_free(f->before);
	ro_spec_free(f->spec);
	tu_rmrf(f->dir);
	free(f->idir);
	free(f->dir);
	free(f);
	return 0;
}

/* The state after the whole plan: the spec's room. */
static struct ro_state *
after(struct fx *f, bool promoted)
{
	struct ro_state	*s;
	struct ro_err	 err = RO_ERR_INIT;
	char		 json[2048];

	snprintf(json, sizeof(json),
	    "{\"roomId\": \"" ROOM "\", \"revision\": 14, \"entities\": ["
	    "{\"id\": \"E-upd\", \"kind\": \"human\", \"displayName\": "
	    "\"After\"}, {\"id\": \"E-new\", \"kind\": \"agent\"}],"
	    "\"artifacts\": [{\"name\": \"doc\", \"type\": \"document\", "
	    "\"workspace\": \"shared\", \"fingerprint\": \"%s\", "
	    "\"isPromoted\": %s}],"
	    "\"policies\": {\"dmVisibilityDefault\": \"public\"}}",
	    f->spec->artifacts[0].fingerprint, promoted ? "true" : "false");
	assert_int_equal(ro_state_parse_json(&s, json, strlen(json), &err),
	    RO_OK);
	return s;
}

static size_t
total(const struct ro_audit_diff *d)
{
	return d->join + d->kick + d->update + d->seed + d->promote + d->del +
	    d->policies;
}

static void
test_round_trip(void **state)
{
	struct fx		*f = *state;
	struct ro_intent	*in = NULL;
	struct ro_audit_diff	 carry = { 0 }, d;
	struct ro_err		 err = RO_ERR_INIT;
	struct ro_state		*s;
	const char		*rec = "6f1c2a6e-9f3b-4c2d-8e1a-0b1c2d3e4f50";

	assert_int_equal(ro_intent_load(f->idir, ROOM, &in, &err),
	    RO_ENOTFOUND);
	assert_int_equal(ro_intent_save(f->idir, f->spec, &f->plan, rec,
	    &carry, NULL, 0, &err), RO_OK);
	assert_int_equal(ro_intent_load(f->idir, ROOM, &in, &err), RO_OK);
	assert_string_equal(ro_intent_record(in), rec);
	assert_int_equal(ro_intent_ndoubt(in), 0);

	/* nothing done yet */
	memset(&d, 0, sizeof(d));
	assert_int_equal(ro_intent_done(in, f->before, false, &d), 0);
	assert_int_equal(total(&d), 0);

	/* everything done */
	s = after(f, true);
	memset(&d, 0, sizeof(d));
	assert_int_equal(ro_intent_done(in, s, false, &d), 7);
	assert_true(d.join == 1 && d.update == 1 && d.kick == 1 &&
	    d.seed == 1 && d.promote == 1 && d.del == 1 && d.policies == 1);
	ro_state_free(s);

	/* all but the promotion */
	s = after(f, false);
	memset(&d, 0, sizeof(d));
	assert_int_equal(ro_intent_done(in, s, false, &d), 6);
	assert_int_equal(d.promote, 0);
	ro_state_free(s);
	ro_intent_free(in);

	assert_int_equal(ro_intent_remove(f->idir, ROOM, &err), RO_OK);
	assert_int_equal(ro_intent_remove(f->idir, ROOM, &err), RO_OK);
	assert_int_equal(ro_intent_load(f->idir, ROOM, &in, &err),
	    RO_ENOTFOUND);
}

/* Only the join and the update done: the entity checks are exact. */
static void
test_partly_done(void **state)
{
	struct fx		*f = *state;
	struct ro_intent	*in = NULL;
	struct ro_audit_diff	 carry = { .kick = 2, .seed = 1 }, d;
	struct ro_err		 err = RO_ERR_INIT;
	struct ro_state		*s;
	const char		*json =
	    "{\"roomId\": \"" ROOM "\", \"revision\": 9, \"entities\": ["
	    "{\"id\": \"E-upd\", \"kind\": \"human\", \"displayName\": "
	    "\"After\"}, {\"id\": \"E-old\", \"kind\": \"npc\"},"
	    "{\"id\": \"E-new\", \"kind\": \"agent\"}],"
	    "\"artifacts\": [{\"name\": \"gone\", \"type\": \"t\", "
	    "\"workspace\": \"w\"}],"
	    "\"policies\": {\"dmVisibilityDefault\": \"team\"}}";

	assert_int_equal(ro_intent_save(f->idir, f->spec, &f->plan,
	    "00000000-0000-4000-8000-000000000001", &carry, NULL, 0, &err),
	    RO_OK);
	assert_int_equal(ro_intent_load(f->idir, ROOM, &in, &err), RO_OK);
	assert_int_equal(ro_state_parse_json(&s, json, strlen(json), &err),
	    RO_OK);
	memset(&d, 0, sizeof(d));
	/* carried 3 + join + update */
	assert_int_equal(ro_intent_done(in, s, false, &d), 5);
	assert_true(d.join == 1 && d.update == 1 && d.kick == 2 &&
	    d.seed == 1 && d.promote == 0 && d.del == 0 && d.policies == 0);
	/* its record was written: only the items in doubt (none) count */
	memset(&d, 0, sizeof(d));
	assert_int_equal(ro_intent_done(in, s, true, &d), 0);
	ro_state_free(s);
	ro_intent_free(in);
}

/* After a written record, the items in doubt that the room shows. */
static void
test_doubt(void **state)
{
	struct fx		*f = *state;
	struct ro_intent	*in = NULL;
	struct ro_audit_diff	 carry = { .join = 5 }, d;
	struct ro_err		 err = RO_ERR_INIT;
	struct ro_state		*s;
	struct ro_intent_item	 doubt[] = { { RO_OP_JOIN, (char *)"E-new" },
	    { RO_OP_PROMOTE, (char *)"doc" } };

	assert_int_equal(ro_intent_save(f->idir, f->spec, &f->plan,
	    "00000000-0000-4000-8000-000000000002", &carry, doubt, 2, &err),
	    RO_OK);
	assert_int_equal(ro_intent_load(f->idir, ROOM, &in, &err), RO_OK);
	assert_int_equal(ro_intent_ndoubt(in), 2);
	s = after(f, false);
	memset(&d, 0, sizeof(d));
	/* the join shows, the promotion does not; nothing carried */
	assert_int_equal(ro_intent_done(in, s, true, &d), 1);
	assert_true(d.join == 1 && total(&d) == 1);
	/* the same items as a spec check */
	assert_true(ro_intent_effect(RO_OP_JOIN, "E-new", f->spec, s));
	assert_false(ro_intent_effect(RO_OP_PROMOTE, "doc", f->spec, s));
	assert_true(ro_intent_effect(RO_OP_KICK, "E-old", f->spec, s));
	assert_false(ro_intent_effect(RO_OP_KICK, "E-old", f->spec,
	    f->before));
	assert_true(ro_intent_effect(RO_OP_UPDATE, "E-upd", f->spec, s));
	assert_false(ro_intent_effect(RO_OP_UPDATE, "E-upd", f->spec,
	    f->before));
	ro_state_free(s);
	ro_intent_free(in);
}

/* The record scan (ro_auditlog_read, backwards from the end): a record
 * across a read block's boundary is found, as a JSON record only. */
static void
test_recorded(void **state)
{
	struct fx	*f = *state;
	struct ro_err	 err = RO_ERR_INIT;
	char		*path = tu_path(f->dir, "audit.jsonl");
	const char	*id = "abcdef01-2345-4678-9abc-def012345678";
	FILE		*fp;
	bool		 yes;
	size_t		 i;

	assert_int_equal(ro_intent_recorded(path, id, &yes, &err), RO_OK);
	assert_false(yes);		/* no log yet */
	assert_non_null(fp = fopen(path, "w"));
	fprintf(fp, "{\"id\":\"%s\",\"room\":\"room-a\"}\n", id);
	/* then records enough for many blocks, one line of them crossing
	 * each boundary */
	for (i = 0; i < 3 * RO_AUDIT_READ_BLOCK / 40; i++)
		fprintf(fp, "{\"id\":\"n-%06zu\",\"room\":\"room-b\"}\n", i);
	/* the id in a malformed line or as another field is no record */
	fprintf(fp, "\"id\":\"abcdef01-2345-4678-9abc-def012345679\"}\n");
	fprintf(fp, "{\"id\":\"x\",\"correlationId\":"
	    "\"abcdef01-2345-4678-9abc-def01234567a\"}\n");
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(ro_intent_recorded(path, id, &yes, &err), RO_OK);
	assert_true(yes);
	assert_int_equal(ro_intent_recorded(path, "n-000123", &yes, &err),
	    RO_OK);
	assert_true(yes);
	assert_int_equal(ro_intent_recorded(path,
	    "abcdef01-2345-4678-9abc-def012345679", &yes, &err), RO_OK);
	assert_false(yes);
	assert_int_equal(ro_intent_recorded(path,
	    "abcdef01-2345-4678-9abc-def01234567a", &yes, &err), RO_OK);
	assert_false(yes);
	free(path);
}

static void
test_damaged(void **state)
{
	struct fx		*f = *state;
	struct ro_intent	*in = NULL;
	struct ro_err		 err = RO_ERR_INIT;

	tu_write(f->idir, ROOM ".json", "{\"record\": \"short\"}");
	assert_int_equal(ro_intent_load(f->idir, ROOM, &in, &err),
	    RO_EINVALID);
	assert_null(in);
	tu_write(f->idir, ROOM ".json", "{\"v\":1,\"record\":"
	    "\"00000000-0000-4000-8000-000000000003\",\"items\":"
	    "[[\"explode\",\"E-x\"]],\"want\":{}}");
	assert_int_equal(ro_intent_load(f->idir, ROOM, &in, &err),
	    RO_EINVALID);
	assert_null(in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_partly_done, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_doubt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recorded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
