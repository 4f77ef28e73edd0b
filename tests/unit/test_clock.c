/* test_clock.c: UUID v4, ISO timestamps, monotonic ms, deadlines. */
#include <ctype.h>
#include <string.h>
#include <time.h>

#include "roomops/clock.h"
#include "testutil.h"

static void
test_uuid(void **state)
{
	char	a[RO_UUID_LEN + 1], b[RO_UUID_LEN + 1];
	size_t	i;

	(void)state;
	ro_uuid(a);
	ro_uuid(b);
	assert_int_equal(strlen(a), RO_UUID_LEN);
	assert_string_not_equal(a, b);
	for (i = 0; i < RO_UUID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(a[i], '-');
		else
			assert_true(strchr("0123456789abcdef", a[i]) != NULL);
	}
	assert_int_equal(a[14], '4');			/* version 4 */
	assert_true(strchr("89ab", a[19]) != NULL);	/* RFC 4122 variant */
}

static void
test_iso(void **state)
{
	char	s[RO_TS_LEN + 1];
	size_t	i;

	(void)state;
	ro_now_iso(s);
	assert_int_equal(strlen(s), RO_TS_LEN);
	assert_int_equal(s[10], 'T');
	assert_int_equal(s[19], '.');
	assert_int_equal(s[23], 'Z');
	for (i = 0; i < RO_TS_LEN - 1; i++)
		if (i != 4 && i != 7 && i != 10 && i != 13 && i != 16 &&
		    i != 19)
			assert_true(s[i] >= '0' && s[i] <= '9');
	assert_true(strncmp(s, "2026", 4) >= 0);	/* a plausible year */
}

static void
test_monotonic_and_deadline(void **state)
{
	struct timespec	now, d;
	long long	a, b;

	(void)state;
	a = ro_now_ms();
	b = ro_now_ms();
	assert_true(a >= 0 && b >= a);
	clock_gettime(CLOCK_REALTIME, &now);
	ro_now_deadline(&d, 1999);
	assert_true(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L);
	/* at least 1.999 s after now, whatever the carry */
	assert_true((d.tv_sec - now.tv_sec) * 1000000000LL +
	    (d.tv_nsec - now.tv_nsec) >= 1999000000LL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uuid),
		cmocka_unit_test(test_iso),
		cmocka_unit_test(test_monotonic_and_deadline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
