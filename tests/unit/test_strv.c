/* test_strv.c: string vectors: remove. */
#include <stdlib.h>
#include <string.h>

#include "roomops/err.h"
#include "roomops/strv.h"
#include "testutil.h"

static void
test_remove(void **state)
{
	struct ro_strv	sv = RO_STRV_INIT;

	(void)state;
	assert_false(ro_strv_remove(&sv, "a"));		/* empty */
	assert_int_equal(ro_strv_push(&sv, "a"), RO_OK);
	assert_int_equal(ro_strv_push(&sv, "b"), RO_OK);
	assert_int_equal(ro_strv_push(&sv, "a"), RO_OK);
	assert_int_equal(ro_strv_push(&sv, "c"), RO_OK);
	assert_true(ro_strv_remove(&sv, "a"));		/* the first only */
	assert_int_equal(sv.n, 3);
	assert_true(ro_strv_contains(&sv, "a"));
	assert_true(ro_strv_contains(&sv, "b"));
	assert_true(ro_strv_contains(&sv, "c"));
	assert_false(ro_strv_remove(&sv, "x"));
	assert_int_equal(sv.n, 3);
	assert_true(ro_strv_remove(&sv, "a"));
	assert_true(ro_strv_remove(&sv, "c"));
	assert_true(ro_strv_remove(&sv, "b"));
	assert_int_equal(sv.n, 0);
	assert_false(ro_strv_remove(&sv, "b"));
	ro_strv_release(&sv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_remove),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
