/* test_hash.c: FNV-1a test vectors, and strmap placing keys by it. */
#include <stdint.h>
#include <string.h>

#include "roomops/hash.h"
#include "roomops/strmap.h"
#include "testutil.h"

static void
test_vectors(void **state)
{
	(void)state;
	/* the published 64-bit FNV-1a vectors */
	assert_true(ro_hash_str("") == 0xcbf29ce484222325ull);
	assert_true(ro_hash_str("a") == 0xaf63dc4c8601ec8cull);
	assert_true(ro_hash_str("foobar") == 0x85944171f73967e8ull);
	assert_true(ro_hash_mem("foobar", 6) == 0x85944171f73967e8ull);
	assert_true(ro_hash_mem("", 0) == 0xcbf29ce484222325ull);
	/* bytes past a NUL count for _mem only */
	assert_true(ro_hash_mem("a\0b", 3) != ro_hash_str("a"));
}

/* strmap uses the one hash: a key sits in bucket hash & (buckets - 1).
 * The mistyped offset basis (1469598103934665603) placed "a" in 6, not
 * 12, "foobar" in 50, not 40, "" in 3, not 37 (64 buckets). */
static void
test_strmap_uses_it(void **state)
{
	static const char	*keys[] = { "", "a", "foobar", "room-1" };
	int			 v = 1;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		struct ro_strmap	m = RO_STRMAP_INIT;

		assert_int_equal(ro_strmap_put(&m, keys[i], &v), 0);
		assert_int_equal(m.nb, 64);
		assert_non_null(m.b[ro_hash_str(keys[i]) & (m.nb - 1)]);
		assert_ptr_equal(ro_strmap_get(&m, keys[i]), &v);
		ro_strmap_release(&m);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_strmap_uses_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
