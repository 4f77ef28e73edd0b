/* test_auditread.c: ro_auditlog_read filters (room, rev, correlation
 * id), with the substring prefilter of plain values and the parse of
 * every line for other values (exact rooms, revision prefixes and the
 * backward tail: test_audit_filter). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/audit.h"
#include "testutil.h"

#define REV_A	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define REV_B	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

/* Records of two revisions and three rooms, a malformed line, a record
 * naming another room in an error, and a room id JSON must escape. */
static const char log_text[] =
    "{\"room\":\"room-alpha-1\",\"rev\":\"" REV_A "\","
    "\"correlationId\":\"c-1\",\"outcome\":\"applied\"}\n"
    "{\"room\":\"room-beta-22\",\"rev\":\"" REV_A "\","
    "\"correlationId\":\"c-2\",\"outcome\":\"converged\"}\n"
    "{\"room\":\"room-alpha-1\",\"rev\":\"" REV_B "\","
    "\"correlationId\":\"c-3\",\"outcome\":\"applied\"}\n"
    "{\"room\":\"room-alpha-1\",\"rev\":\n"
    "{\"room\":\"room-gamma-3\",\"rev\":\"" REV_B "\","
    "\"correlationId\":\"c-4\",\"outcome\":\"failed\","
    "\"errors\":[\"room-alpha-1 " REV_A " c-1 is busy\"]}\n"
    "{\"room\":\"room \\\"q\\\"\",\"rev\":\"api\","
    "\"correlationId\":\"c-5\",\"outcome\":\"applied\"}\n"
    "\n";

struct fx {
	char	*dir;
	char	*path;
};

static int
setup(void **state)
{
	struct fx	*f = calloc(1, sizeof(*f));

	f->dir = tu_tmpdir();
	tu_write(f->dir, "audit.jsonl", log_text);
	f->path = tu_path(f->dir, "audit.jsonl");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*f = *state;

	tu_rmrf(f->dir);
	free(f->dir);
	free(f->path);
	free(f);
	return 0;
}

/* The correlation ids of the records read, in file order: "c-1,c-3". */
static void
read_ids(const char *path, const char *room, const char *rev,
    const char *cid, char *out, size_t outsz, size_t *bad)
{
	struct ro_audit_filter	 f = RO_AUDIT_FILTER_INIT;
	cJSON			*arr = cJSON_CreateArray(), *o, *id;
	struct ro_err		 err = RO_ERR_INIT;
	size_t			 len = 0;

	f.room = room;
	f.rev = rev;
	f.cid = cid;
	assert_int_equal(ro_auditlog_read(path, &f, 0, 0, arr, bad, &err),
	    RO_OK);
	ro_audit_filter_release(&f);
	out[0] = '\0';
	cJSON_ArrayForEach(o, arr) {
		id = cJSON_GetObjectItemCaseSensitive(o, "correlationId");
		assert_true(cJSON_IsString(id));
		len += (size_t)snprintf(out + len, outsz - len, "%s%s",
		    len > 0 ? "," : "", id->valuestring);
		assert_true(len < outsz);
	}
	cJSON_Delete(arr);
}

static void
test_filters(void **state)
{
	struct fx	*f = *state;
	char		 ids[256];
	size_t		 bad;

	read_ids(f->path, NULL, NULL, NULL, ids, sizeof(ids), &bad);
	assert_string_equal(ids, "c-1,c-2,c-3,c-4,c-5");
	assert_int_equal(bad, 1);
	read_ids(f->path, NULL, REV_A, NULL, ids, sizeof(ids), &bad);
	assert_string_equal(ids, "c-1,c-2");	/* not c-4: only its error */
	read_ids(f->path, "room-alpha-1", NULL, NULL, ids, sizeof(ids), &bad);
	assert_string_equal(ids, "c-1,c-3");
	assert_int_equal(bad, 1);		/* the torn line names it */
	read_ids(f->path, "room-alpha-1", REV_B, NULL, ids, sizeof(ids), &bad);
	assert_string_equal(ids, "c-3");
	read_ids(f->path, NULL, NULL, "c-4", ids, sizeof(ids), &bad);
	assert_string_equal(ids, "c-4");
	assert_int_equal(bad, 0);		/* skipped unparsed */
	read_ids(f->path, "room-delta-4", NULL, NULL, ids, sizeof(ids), &bad);
	assert_string_equal(ids, "");
}

/* A value JSON escapes is matched after parsing every line. */
static void
test_escaped_value(void **state)
{
	struct fx	*f = *state;
	char		 ids[256];
	size_t		 bad;

	read_ids(f->path, "room \"q\"", NULL, NULL, ids, sizeof(ids), &bad);
	assert_string_equal(ids, "c-5");
	assert_int_equal(bad, 1);
	read_ids(f->path, NULL, "api", NULL, ids, sizeof(ids), &bad);
	assert_string_equal(ids, "c-5");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escaped_value, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
