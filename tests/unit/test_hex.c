/* test_hex.c: hex digits, encode/decode and %XX decoding. */
#include <stdlib.h>
#include <string.h>

#include "roomops/err.h"
#include "roomops/hex.h"
#include "testutil.h"

static void
test_val(void **state)
{
	(void)state;
	assert_int_equal(ro_hex_val('0'), 0);
	assert_int_equal(ro_hex_val('9'), 9);
	assert_int_equal(ro_hex_val('a'), 10);
	assert_int_equal(ro_hex_val('F'), 15);
	assert_int_equal(ro_hex_val('g'), -1);
	assert_int_equal(ro_hex_val('/'), -1);
	assert_int_equal(ro_hex_val(':'), -1);
	assert_int_equal(ro_hex_val(0xe9), -1);
}

static void
test_encode_decode(void **state)
{
	const unsigned char	in[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
	unsigned char		out[sizeof(in)];
	char			s[2 * sizeof(in) + 1];

	(void)state;
	ro_hex_encode(s, in, sizeof(in));
	assert_string_equal(s, "00017f80abff");
	assert_true(ro_hex_decode(out, sizeof(out), s));
	assert_memory_equal(out, in, sizeof(in));
	assert_true(ro_hex_decode(out, sizeof(out), "00017F80ABFF"));
	assert_memory_equal(out, in, sizeof(in));
	assert_false(ro_hex_decode(out, sizeof(out), "00017f80abf"));
	assert_false(ro_hex_decode(out, sizeof(out), "00017f80abff0"));
	assert_false(ro_hex_decode(out, sizeof(out), "00017f80abfg"));
	assert_false(ro_hex_decode(out, sizeof(out), NULL));
	ro_hex_encode(s, in, 0);
	assert_string_equal(s, "");
}

static void
test_pct_decode(void **state)
{
	char	*d;

	(void)state;
	assert_int_equal(ro_hex_pct_decode(&d, "a%2Fb+c%7e", 10, 0), RO_OK);
	assert_string_equal(d, "a/b+c~");
	free(d);
	assert_int_equal(ro_hex_pct_decode(&d, "a%2Fb+c", 7,
	    RO_HEX_PLUS_SPACE), RO_OK);
	assert_string_equal(d, "a/b c");
	free(d);
	/* only n bytes are read */
	assert_int_equal(ro_hex_pct_decode(&d, "ab%41zz", 5, 0), RO_OK);
	assert_string_equal(d, "abA");
	free(d);
	assert_int_equal(ro_hex_pct_decode(&d, "", 0, 0), RO_OK);
	assert_string_equal(d, "");
	free(d);
	assert_int_equal(ro_hex_pct_decode(&d, "%00", 3, 0), RO_EINVALID);
	assert_null(d);
	assert_int_equal(ro_hex_pct_decode(&d, "x%4", 3, 0), RO_EINVALID);
	assert_int_equal(ro_hex_pct_decode(&d, "%41%4", 5, 0), RO_EINVALID);
	assert_int_equal(ro_hex_pct_decode(&d, "%zz", 3, 0), RO_EINVALID);
	assert_int_equal(ro_hex_pct_decode(&d, "%", 1, 0), RO_EINVALID);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_val),
		cmocka_unit_test(test_encode_decode),
		cmocka_unit_test(test_pct_decode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
