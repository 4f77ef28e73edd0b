/* test_auditread.c: ro_auditlog_read filters (room, rev, correlation id),
 * with the substring prefilter of plain values and the parse of every
 * line for other values. */
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
	cJSON		*arr = cJSON_CreateArray(), *o, *id;
	struct ro_err	 err = RO_ERR_INIT;
	size_t		 len = 0;

	assert_int_equal(ro_auditlog_read(path, &(struct ro_audit_query){
	    .room = room, .rev = rev, .cid = cid }, arr, bad, &err), RO_OK);
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

/* Short revisions: an abbreviation of one revision, and of two. */
static void
test_short_rev(void **state)
{
	struct fx	*f = *state;
	char		 ids[256];
	size_t		 bad;
	cJSON		*arr = cJSON_CreateArray();
	struct ro_err	 err = RO_ERR_INIT;

	read_ids(f->path, NULL, "aaaa", NULL, ids, sizeof(ids), &bad);
	assert_string_equal(ids, "c-1,c-2");
	read_ids(f->path, "room-alpha-1", "bbbbbbb", NULL, ids, sizeof(ids),
	    &bad);
	assert_string_equal(ids, "c-3");
	read_ids(f->path, NULL, "aaa", NULL, ids, sizeof(ids), &bad);
	assert_string_equal(ids, "");		/* too short to abbreviate */
	read_ids(f->path, "room-alpha", NULL, NULL, ids, sizeof(ids), &bad);
	assert_string_equal(ids, "");		/* rooms are exact */
	/* a revision that shares "aaaa" with REV_A */
	tu_write(f->dir, "two.jsonl", "{\"room\":\"room-alpha-1\",\"rev\":\""
	    REV_A "\"}\n{\"room\":\"room-alpha-1\",\"rev\":\"aaaab\"}\n");
	free(f->path);
	f->path = tu_path(f->dir, "two.jsonl");
	assert_int_equal(ro_auditlog_read(f->path, &(struct ro_audit_query){
	    .rev = "aaaa" }, arr, &bad, &err), RO_EINVALID);
	assert_true(tu_contains(err.msg, "ambiguous"));
	cJSON_Delete(arr);
	arr = cJSON_CreateArray();
	assert_int_equal(ro_auditlog_read(f->path, &(struct ro_audit_query){
	    .rev = "aaaab" }, arr, &bad, &err), RO_OK);
	assert_int_equal(cJSON_GetArraySize(arr), 1);
	cJSON_Delete(arr);
}

/* The newest count records, oldest first; a scan limit; a line longer
 * than RO_AUDIT_LINE_MAX skipped and counted, the lines around it read. */
static void
test_tail(void **state)
{
	struct fx	*f = *state;
	struct ro_err	 err = RO_ERR_INIT;
	FILE		*fp;
	cJSON		*arr, *o;
	size_t		 bad, i;
	char		 want[16];
	int		 k = 0;

	free(f->path);
	f->path = tu_path(f->dir, "big.jsonl");
	assert_non_null(fp = fopen(f->path, "w"));
	for (i = 0; i < 5000; i++) {
		fprintf(fp, "{\"room\":\"room-tail-%zu\",\"n\":%zu}\n", i % 3,
		    i);
		if (i == 2500) {	/* one line of RO_AUDIT_LINE_MAX + 10 */
			fputs("{\"room\":\"room-tail-0\",\"x\":\"", fp);
			for (size_t j = 0; j < RO_AUDIT_LINE_MAX; j++)
				fputc('x', fp);
			fputs("\"}\n", fp);
		}
	}
	assert_int_equal(fclose(fp), 0);
	arr = cJSON_CreateArray();
	assert_int_equal(ro_auditlog_read(f->path, &(struct ro_audit_query){
	    .room = "room-tail-1", .count = 4 }, arr, &bad, &err), RO_OK);
	assert_int_equal(cJSON_GetArraySize(arr), 4);
	cJSON_ArrayForEach(o, arr) {	/* 4990, 4993, 4996, 4999 */
		snprintf(want, sizeof(want), "%d", 4990 + 3 * k++);
		assert_int_equal(cJSON_GetObjectItem(o, "n")->valueint,
		    atoi(want));
	}
	cJSON_Delete(arr);
	arr = cJSON_CreateArray();
	assert_int_equal(ro_auditlog_read(f->path, &(struct ro_audit_query)
	    RO_AUDIT_QUERY_INIT, arr, &bad, &err), RO_OK);
	assert_int_equal(cJSON_GetArraySize(arr), 5000);
	assert_int_equal(bad, 1);		/* the long line */
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 0),
	    "n")->valueint, 0);
	cJSON_Delete(arr);
	arr = cJSON_CreateArray();
	assert_int_equal(ro_auditlog_read(f->path, &(struct ro_audit_query){
	    .scan_max = 1 }, arr, &bad, &err), RO_OK);
	i = (size_t)cJSON_GetArraySize(arr);	/* one block at most */
	assert_true(i > 0 && i < 5000);
	cJSON_Delete(arr);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escaped_value, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_short_rev, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tail, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
