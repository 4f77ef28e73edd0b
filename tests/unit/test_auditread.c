/*
 * test_auditread.c: the one filter of audit records and the one reader
 * of the JSONL log (ro_auditlog_read): room, rev and correlation id, the
 * substring prefilter of plain values and the parse of every line for
 * other values; rooms match exactly (room-1 is not room-10), a revision
 * by a unique prefix (an ambiguous one is an error); the newest count
 * records oldest first, the scan limit, over-long lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/audit.h"
#include "roomops/buf.h"
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

#define REV_P	"a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
#define REV_Q	"a1b2ffffffffffffffffffffffffffffffffffff"
#define REV_R	"c0ffee0000000000000000000000000000000000"

/* Rooms whose ids prefix each other; revisions sharing a prefix. */
static const char filter_text[] =
    "{\"id\":\"i-1\",\"room\":\"room-1\",\"rev\":\"" REV_P "\","
    "\"correlationId\":\"c-1\"}\n"
    "{\"id\":\"i-2\",\"room\":\"room-10\",\"rev\":\"" REV_P "\","
    "\"correlationId\":\"c-2\"}\n"
    "{\"id\":\"i-3\",\"room\":\"room-11\",\"rev\":\"" REV_Q "\","
    "\"correlationId\":\"c-3\"}\n"
    "{\"id\":\"i-4\",\"room\":\"room-1\",\"rev\":\"" REV_R "\","
    "\"correlationId\":\"c-4\"}\n"
    "{\"id\":\"i-5\",\"room\":\"room-2\",\"rev\":\"api\","
    "\"correlationId\":\"c-5\"}\n";

struct fx {
	char	*dir;
	char	*path;
	char	*path2;	/* filter_text */
};

static int
setup(void **state)
{
	struct fx	*f = calloc(1, sizeof(*f));

	f->dir = tu_tmpdir();
	tu_write(f->dir, "audit.jsonl", log_text);
	tu_write(f->dir, "filter.jsonl", filter_text);
	f->path = tu_path(f->dir, "audit.jsonl");
	f->path2 = tu_path(f->dir, "filter.jsonl");
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
	free(f->path2);
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

/* The record ids read ("i-1,i-4"), or the error code as "E<code>". */
static void
read_rids(const char *path, const char *room, const char *rev, size_t count,
    unsigned long long scan_max, char *out, size_t outsz)
{
	struct ro_audit_filter	 f = RO_AUDIT_FILTER_INIT;
	struct ro_err		 err = RO_ERR_INIT;
	cJSON			*arr = cJSON_CreateArray(), *o, *id;
	size_t			 len = 0, bad;
	int			 error;

	f.room = room;
	f.rev = rev;
	error = ro_auditlog_read(path, &f, count, scan_max, arr, &bad, &err);
	ro_audit_filter_release(&f);
	out[0] = '\0';
	if (error < 0) {
		snprintf(out, outsz, "E%d", error);
		assert_true(err.msg[0] != '\0');
		cJSON_Delete(arr);
		return;
	}
	cJSON_ArrayForEach(o, arr) {
		id = cJSON_GetObjectItemCaseSensitive(o, "id");
		assert_true(cJSON_IsString(id));
		len += (size_t)snprintf(out + len, outsz - len, "%s%s",
		    len > 0 ? "," : "", id->valuestring);
		assert_true(len < outsz);
	}
	cJSON_Delete(arr);
}

/* room-1 is room-1 only, not room-10 or room-11 */
static void
test_exact_room(void **state)
{
	struct fx	*f = *state;
	char		 ids[256];

	read_rids(f->path2, "room-1", NULL, 0, 0, ids, sizeof(ids));
	assert_string_equal(ids, "i-1,i-4");
	read_rids(f->path2, "room-", NULL, 0, 0, ids, sizeof(ids));
	assert_string_equal(ids, "");
	read_rids(f->path2, "room-10", NULL, 0, 0, ids, sizeof(ids));
	assert_string_equal(ids, "i-2");
}

/* a revision by its unique prefix; an ambiguous prefix is an error */
static void
test_rev_prefix(void **state)
{
	struct fx	*f = *state;
	char		 ids[256], want[16];

	read_rids(f->path2, NULL, REV_P, 0, 0, ids, sizeof(ids));
	assert_string_equal(ids, "i-1,i-2");
	read_rids(f->path2, NULL, "a1b2c3d", 0, 0, ids, sizeof(ids));
	assert_string_equal(ids, "i-1,i-2");
	read_rids(f->path2, NULL, "c0ffee", 0, 0, ids, sizeof(ids));
	assert_string_equal(ids, "i-4");
	read_rids(f->path2, "room-1", "c0ff", 0, 0, ids, sizeof(ids));
	assert_string_equal(ids, "i-4");
	read_rids(f->path2, NULL, "api", 0, 0, ids, sizeof(ids));
	assert_string_equal(ids, "i-5");
	read_rids(f->path2, NULL, "deadbeef", 0, 0, ids, sizeof(ids));
	assert_string_equal(ids, "");
	/* a1b2 starts REV_P and REV_Q */
	snprintf(want, sizeof(want), "E%d", RO_EINVALID);
	read_rids(f->path2, NULL, "a1b2", 0, 0, ids, sizeof(ids));
	assert_string_equal(ids, want);
	/* within room-1, a1b2 names one revision */
	read_rids(f->path2, "room-1", "a1b2", 0, 0, ids, sizeof(ids));
	assert_string_equal(ids, "i-1");
}

/* the same filter on a parsed record (the notes reader) */
static void
test_filter_match(void **state)
{
	struct ro_audit_filter	 f = RO_AUDIT_FILTER_INIT;
	struct ro_err		 err = RO_ERR_INIT;
	cJSON			*a, *b, *c;

	(void)state;
	a = cJSON_Parse("{\"room\":\"room-1\",\"rev\":\"" REV_P "\"}");
	b = cJSON_Parse("{\"room\":\"room-10\",\"rev\":\"" REV_P "\"}");
	c = cJSON_Parse("{\"room\":\"room-1\",\"rev\":\"" REV_Q "\"}");
	f.room = "room-1";
	f.rev = "a1b2";
	assert_int_equal(ro_audit_filter_match(&f, a, &err), 1);
	assert_int_equal(ro_audit_filter_match(&f, b, &err), 0);
	assert_int_equal(ro_audit_filter_match(&f, a, &err), 1);
	assert_int_equal(ro_audit_filter_match(&f, c, &err), RO_EINVALID);
	assert_true(tu_contains(err.msg, "ambiguous"));
	ro_audit_filter_release(&f);
	ro_audit_filter_release(&f);	/* twice is fine */
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(c);
}

/* the newest count records, oldest first; the scan limit stops early */
static void
test_tail(void **state)
{
	struct fx	*f = *state;
	char		 ids[256];

	read_rids(f->path2, NULL, NULL, 2, 0, ids, sizeof(ids));
	assert_string_equal(ids, "i-4,i-5");
	read_rids(f->path2, "room-1", NULL, 1, 0, ids, sizeof(ids));
	assert_string_equal(ids, "i-4");
	read_rids(f->path2, NULL, NULL, 0, 0, ids, sizeof(ids));
	assert_string_equal(ids, "i-1,i-2,i-3,i-4,i-5");
	/* one block holds the whole file: a limit below it still reads one */
	read_rids(f->path2, NULL, NULL, 0, 1, ids, sizeof(ids));
	assert_string_equal(ids, "i-1,i-2,i-3,i-4,i-5");
}

/* A log larger than many blocks, with an over-long line in the middle:
 * every record is found, the long line is counted and skipped, and the
 * scan limit bounds what is read. */
static void
test_large_log(void **state)
{
	struct fx		*f = *state;
	struct ro_buf		 b = RO_BUF_INIT;
	struct ro_audit_filter	 flt = RO_AUDIT_FILTER_INIT;
	struct ro_err		 err = RO_ERR_INIT;
	cJSON			*arr;
	const size_t		 n = 4000;
	size_t			 i, bad;
	char			*path;

	ro_buf_init(&b, 64u << 20);
	for (i = 0; i < n; i++) {
		if (i == n / 2) {
			assert_int_equal(ro_buf_addstr(&b, "{\"room\":\"room-9\","
			    "\"x\":\""), RO_OK);
			while (b.len < RO_AUDIT_LINE_MAX + 4 * RO_AUDIT_BLOCK)
				assert_int_equal(ro_buf_addch(&b, 'x'), RO_OK);
			assert_int_equal(ro_buf_addstr(&b, "\"}\n"), RO_OK);
		}
		assert_int_equal(ro_buf_printf(&b, "{\"id\":\"n-%zu\","
		    "\"room\":\"room-%zu\",\"rev\":\"r%zu\"}\n", i, i % 7, i),
		    RO_OK);
	}
	tu_write(f->dir, "big.jsonl", b.ptr);
	path = tu_path(f->dir, "big.jsonl");

	arr = cJSON_CreateArray();
	flt.room = "room-3";
	assert_int_equal(ro_auditlog_read(path, &flt, 0, 0, arr, &bad, &err),
	    RO_OK);
	assert_int_equal(cJSON_GetArraySize(arr), (int)((n + 3) / 7));
	assert_int_equal(bad, 1);		/* the long line */
	cJSON_Delete(arr);

	/* the scan limit: a block or two from the end, never all */
	arr = cJSON_CreateArray();
	assert_int_equal(ro_auditlog_read(path, NULL, 0, RO_AUDIT_BLOCK, arr,
	    &bad, &err), RO_OK);
	assert_true(cJSON_GetArraySize(arr) > 0);
	assert_true((size_t)cJSON_GetArraySize(arr) < n / 2);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(arr,
	    cJSON_GetArraySize(arr) - 1), "id")->valuestring, "n-3999");
	cJSON_Delete(arr);

	ro_audit_filter_release(&flt);
	ro_buf_release(&b);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escaped_value, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_exact_room, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rev_prefix, setup,
		    teardown),
		cmocka_unit_test(test_filter_match),
		cmocka_unit_test_setup_teardown(test_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_log, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
