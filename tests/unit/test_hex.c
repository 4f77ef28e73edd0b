/* test_hex.c: the one hex codec (common/hex.c). */
#include <stdlib.h>
#include <string.h>

#include "roomops/err.h"
#include "roomops/hex.h"
#include "testutil.h"

static void
test_encode_decode(void **state)
{
	const unsigned char	in[] = { 0x00, 0x1f, 0xa0, 0xff };
	unsigned char		back[4];
	char			hex[9];

	(void)state;
	ro_hex_encode(hex, in, sizeof(in));
	assert_string_equal(hex, "001fa0ff");
	assert_true(ro_hex_decode(back, sizeof(back), "001FA0ff"));
	assert_memory_equal(back, in, sizeof(in));
	assert_false(ro_hex_decode(back, sizeof(back), "001fa0f"));
	assert_false(ro_hex_decode(back, sizeof(back), "001fa0ff0"));
	assert_false(ro_hex_decode(back, sizeof(back), "001fa0fg"));
	assert_false(ro_hex_decode(back, sizeof(back), NULL));
	assert_int_equal(ro_hex_digit('F'), 15);
	assert_int_equal(ro_hex_digit('g'), -1);
}

static void
test_unescape(void **state)
{
	static const struct {
		const char	*in;
		bool		 form;
		const char	*out;	/* NULL: RO_EINVALID */
	} cases[] = {
		{ "a%20b", false, "a b" }, { "a+b", false, "a+b" },
		{ "a+b", true, "a b" }, { "%2Fx%2f", false, "/x/" },
		{ "%41", false, "A" }, { "", false, "" },
		{ "%", false, NULL }, { "%4", false, NULL },
		{ "x%4", false, NULL }, { "%zz", false, NULL },
		{ "%00", false, NULL }, { "%00", true, NULL },
	};
	char	*out;
	size_t	 i;

	(void)state;
	for (i = 0; i < RO_NELEM(cases); i++) {
		if (cases[i].out == NULL) {
			assert_int_equal(ro_hex_unescape(&out, cases[i].in,
			    strlen(cases[i].in), cases[i].form), RO_EINVALID);
			assert_null(out);
			continue;
		}
		assert_int_equal(ro_hex_unescape(&out, cases[i].in,
		    strlen(cases[i].in), cases[i].form), RO_OK);
		assert_string_equal(out, cases[i].out);
		free(out);
	}
	/* only n bytes are read */
	assert_int_equal(ro_hex_unescape(&out, "ab%41", 2, false), RO_OK);
	assert_string_equal(out, "ab");
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_decode),
		cmocka_unit_test(test_unescape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
