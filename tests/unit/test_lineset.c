/* test_lineset.c: the union of audit lines (cat_sort_uniq by "ts"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/lineset.h"
#include "testutil.h"

static char *
u(const char *a, const char *b)
{
	struct ro_buf	out = RO_BUF_INIT;
	struct ro_err	err = RO_ERR_INIT;
	char		*s;

	assert_int_equal(ro_lineset_union(a, strlen(a), b, strlen(b), &out,
	    &err), RO_OK);
	s = ro_buf_detach(&out, NULL);
	return s != NULL ? s : strdup("");
}

static void
test_sorted_by_ts_dups_removed(void **state)
{
	const char *a =
	    "{\"ts\":\"2026-11-23T10:00:02.000Z\",\"id\":\"a2\"}\n"
	    "{\"ts\":\"2026-11-23T10:00:00.000Z\",\"id\":\"a0\"}\n";
	const char *b =
	    "{\"ts\":\"2026-11-23T10:00:01.000Z\",\"id\":\"b1\"}\n"
	    "{\"ts\":\"2026-11-23T10:00:00.000Z\",\"id\":\"a0\"}\n";
	char	*s;

	(void)state;
	s = u(a, b);
	assert_string_equal(s,
	    "{\"ts\":\"2026-11-23T10:00:00.000Z\",\"id\":\"a0\"}\n"
	    "{\"ts\":\"2026-11-23T10:00:01.000Z\",\"id\":\"b1\"}\n"
	    "{\"ts\":\"2026-11-23T10:00:02.000Z\",\"id\":\"a2\"}\n");
	free(s);
}

static void
test_same_ts_by_content(void **state)
{
	char	*s;

	(void)state;
	s = u("{\"ts\":\"T1\",\"id\":\"z\"}\n", "{\"ts\":\"T1\",\"id\":\"a\"}\n");
	assert_string_equal(s,
	    "{\"ts\":\"T1\",\"id\":\"a\"}\n{\"ts\":\"T1\",\"id\":\"z\"}\n");
	free(s);
}

static void
test_lines_without_ts_last_by_content(void **state)
{
	char	*s;

	(void)state;
	s = u("zeta\n{\"id\":1}\n{\"ts\":\"T9\"}\n",
	    "alpha\n{\"ts\":5}\n{\"ts\":\"T0\"} trailing\n");
	/* ts must be a string; garbage after the object means no JSON. */
	assert_string_equal(s,
	    "{\"ts\":\"T9\"}\n"
	    "alpha\nzeta\n{\"id\":1}\n{\"ts\":\"T0\"} trailing\n{\"ts\":5}\n");
	free(s);
}

static void
test_commutative_and_idempotent(void **state)
{
	const char *a = "{\"ts\":\"3\"}\nx\n{\"ts\":\"1\",\"k\":1}\n\n\ny";
	const char *b = "y\n{\"ts\":\"2\"}\n{\"ts\":\"1\",\"k\":1}";
	char	*ab, *ba, *again;

	(void)state;
	ab = u(a, b);
	ba = u(b, a);
	assert_string_equal(ab, ba);
	again = u(ab, a);
	assert_string_equal(again, ab);
	free(again);
	again = u(ab, "");
	assert_string_equal(again, ab);
	assert_string_equal(ab, "{\"ts\":\"1\",\"k\":1}\n{\"ts\":\"2\"}\n"
	    "{\"ts\":\"3\"}\nx\ny\n");
	free(again);
	free(ab);
	free(ba);
}

static void
test_empty_and_blank(void **state)
{
	char	*s;

	(void)state;
	s = u("", "");
	assert_string_equal(s, "");
	free(s);
	s = u("\n\n", "\n");
	assert_string_equal(s, "");
	free(s);
	/* '\r' is content: "a\r" and "a" are two lines. */
	s = u("a\r\n", "a\n");
	assert_string_equal(s, "a\na\r\n");
	free(s);
}

static void
test_long_ts_is_no_ts(void **state)
{
	char	 line[RO_LINESET_TS_MAX + 32], *s, *want;

	(void)state;
	memset(line, 0, sizeof(line));
	memcpy(line, "{\"ts\":\"", 7);
	memset(line + 7, '0', RO_LINESET_TS_MAX + 1);
	strcat(line, "\"}");
	s = u(line, "{\"ts\":\"9\"}");
	if (asprintf(&want, "{\"ts\":\"9\"}\n%s\n", line) < 0)
		abort();
	assert_string_equal(s, want);
	free(want);
	free(s);
}

static void
test_limits(void **state)
{
	struct ro_buf	 out = RO_BUF_INIT;
	struct ro_err	 err = RO_ERR_INIT;
	size_t		 n = RO_LINESET_LINE_MAX + 1;
	char		*big = malloc(n);

	(void)state;
	memset(big, 'x', n);
	assert_int_equal(ro_lineset_union(big, n, "", 0, &out, &err),
	    RO_ETOOBIG);
	assert_true(tu_contains(err.msg, "line of"));
	ro_buf_release(&out);
	/* The output buffer's own bound is honoured. */
	ro_buf_init(&out, 8);
	assert_int_equal(ro_lineset_union("aaaa\nbbbb\n", 10, "", 0, &out,
	    &err), RO_ETOOBIG);
	ro_buf_release(&out);
	free(big);
}

static void
test_many_lines_sorted(void **state)
{
	struct ro_buf	 a = RO_BUF_INIT, b = RO_BUF_INIT, out = RO_BUF_INIT;
	struct ro_err	 err = RO_ERR_INIT;
	const char	*p, *prev = NULL, *nl;
	size_t		 i, count = 0;

	(void)state;
	for (i = 0; i < 2000; i++) {
		assert_int_equal(ro_buf_printf(i % 2 ? &a : &b,
		    "{\"ts\":\"2026-01-01T00:00:%02zu.%03zuZ\",\"i\":%zu}\n",
		    (i * 7919) % 60, i % 1000, i), 0);
	}
	assert_int_equal(ro_lineset_union(a.ptr, a.len, b.ptr, b.len, &out,
	    &err), RO_OK);
	for (p = out.ptr; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		assert_non_null(nl);
		if (prev != NULL)
			assert_true(strncmp(prev, p, 33) <= 0);
		prev = p;
		count++;
	}
	assert_int_equal(count, 2000);
	ro_buf_release(&a);
	ro_buf_release(&b);
	ro_buf_release(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sorted_by_ts_dups_removed),
		cmocka_unit_test(test_same_ts_by_content),
		cmocka_unit_test(test_lines_without_ts_last_by_content),
		cmocka_unit_test(test_commutative_and_idempotent),
		cmocka_unit_test(test_empty_and_blank),
		cmocka_unit_test(test_long_ts_is_no_ts),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_many_lines_sorted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
