/* test_watchpend.c: the watcher's debounce set. */
#include <stdio.h>
#include <string.h>

#include "roomops/err.h"
#include "watchpend.h"
#include "testutil.h"

static void
test_due_order_and_retouch(void **state)
{
	struct ro_watchpend	ps = RO_WATCHPEND_INIT(100);
	struct ro_strv		out = RO_STRV_INIT;

	(void)state;
	assert_int_equal(ro_watchpend_next_due(&ps), -1);
	assert_int_equal(ro_watchpend_touch(&ps, "a.yaml", 100), RO_OK);
	assert_int_equal(ro_watchpend_touch(&ps, "b.yaml", 110), RO_OK);
	assert_int_equal(ro_watchpend_touch(&ps, "c.yaml", 120), RO_OK);
	/* a repeated event moves a.yaml behind the others */
	assert_int_equal(ro_watchpend_touch(&ps, "a.yaml", 130), RO_OK);
	assert_int_equal(ro_watchpend_count(&ps), 3);
	assert_int_equal(ro_watchpend_next_due(&ps), 110);
	assert_int_equal(ro_watchpend_take(&ps, 109, &out), RO_OK);
	assert_int_equal(out.n, 0);
	assert_int_equal(ro_watchpend_take(&ps, 125, &out), RO_OK);
	assert_int_equal(out.n, 2);
	assert_string_equal(out.v[0], "b.yaml");
	assert_string_equal(out.v[1], "c.yaml");
	assert_int_equal(ro_watchpend_count(&ps), 1);
	assert_int_equal(ro_watchpend_next_due(&ps), 130);
	assert_int_equal(ro_watchpend_take(&ps, 130, &out), RO_OK);
	assert_int_equal(out.n, 3);
	assert_string_equal(out.v[2], "a.yaml");
	assert_int_equal(ro_watchpend_count(&ps), 0);
	assert_int_equal(ro_watchpend_next_due(&ps), -1);
	ro_strv_release(&out);
	ro_watchpend_clear(&ps);
}

static void
test_limit_and_clear(void **state)
{
	struct ro_watchpend	ps = RO_WATCHPEND_INIT(50);
	struct ro_strv		out = RO_STRV_INIT;
	char			path[32];
	int			i;

	(void)state;
	for (i = 0; i < 50; i++) {
		snprintf(path, sizeof(path), "d/%d.yaml", i);
		assert_int_equal(ro_watchpend_touch(&ps, path, i), RO_OK);
	}
	assert_int_equal(ro_watchpend_touch(&ps, "one-more.yaml", 60),
	    RO_ETOOBIG);
	/* a pending path is still touched at the limit */
	assert_int_equal(ro_watchpend_touch(&ps, "d/0.yaml", 70), RO_OK);
	assert_int_equal(ro_watchpend_count(&ps), 50);
	assert_int_equal(ro_watchpend_next_due(&ps), 1);
	ro_watchpend_clear(&ps);
	assert_int_equal(ro_watchpend_count(&ps), 0);
	assert_int_equal(ro_watchpend_take(&ps, 1000, &out), RO_OK);
	assert_int_equal(out.n, 0);
	/* usable again after a clear */
	assert_int_equal(ro_watchpend_touch(&ps, "x.yaml", 5), RO_OK);
	assert_int_equal(ro_watchpend_take(&ps, 5, &out), RO_OK);
	assert_int_equal(out.n, 1);
	ro_strv_release(&out);
	ro_watchpend_clear(&ps);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_due_order_and_retouch),
		cmocka_unit_test(test_limit_and_clear),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
