/* test_strmap.c: the string hash map. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/strmap.h"
#include "testutil.h"

static void
test_put_get_del_many(void **state)
{
	struct ro_strmap	m = RO_STRMAP_INIT;
	static int		vals[20000];
	char			key[32];
	int			i;

	(void)state;
	assert_null(ro_strmap_get(&m, "absent"));
	assert_null(ro_strmap_del(&m, "absent"));
	for (i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "room-%05d", i);
		assert_int_equal(ro_strmap_put(&m, key, &vals[i]), 0);
	}
	assert_int_equal(m.n, 20000);
	for (i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "room-%05d", i);
		assert_ptr_equal(ro_strmap_get(&m, key), &vals[i]);
	}
	assert_int_equal(ro_strmap_put(&m, "room-00007", &vals[1]), 0);
	assert_ptr_equal(ro_strmap_get(&m, "room-00007"), &vals[1]);
	assert_int_equal(m.n, 20000);
	for (i = 0; i < 20000; i += 2) {
		snprintf(key, sizeof(key), "room-%05d", i);
		assert_non_null(ro_strmap_del(&m, key));
	}
	assert_int_equal(m.n, 10000);
	assert_null(ro_strmap_get(&m, "room-00002"));
	assert_ptr_equal(ro_strmap_get(&m, "room-00003"), &vals[3]);
	ro_strmap_release(&m);
	assert_int_equal(m.n, 0);
}

/* The published 64-bit FNV-1a test vectors (offset basis
 * 14695981039346656037, prime 1099511628211). */
static void
test_fnv1a_vectors(void **state)
{
	(void)state;
	assert_true(ro_strmap_hash("") == 0xcbf29ce484222325ull);
	assert_true(ro_strmap_hash("a") == 0xaf63dc4c8601ec8cull);
	assert_true(ro_strmap_hash("foobar") == 0x85944171f73967e8ull);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_del_many),
		cmocka_unit_test(test_fnv1a_vectors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
