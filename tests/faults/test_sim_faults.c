/*
 * test_sim_faults.c: a RoomServer that misbehaves but stays up (fault
 * suite, Git mode, roomserver-sim's fault injection).
 *
 * - slow: every request waits 2 s (a delay rule on every route): two
 *   rooms still converge, nothing is sent twice, no record is "failed";
 * - 5xx bursts: 30 % of requests answer 503, then a solid burst of 40
 *   answers 500: the rooms converge (retries, then the resync once the
 *   RoomServer answers again);
 * - connection resets: 25 % of connections are closed without an
 *   answer: the rooms converge.
 * Each ends with the ledger (faults.h), exact against the sim's 2xx
 * mutating requests: an injected 5xx or drop serves nothing, so a change
 * recorded once was made once.
 */
#include "faults.h"

static void
test_slow(void **state)
{
	struct ff	f;
	long long	t0;

	(void)state;
	ff_init(&f, true);
	ff_sim_start(&f, (const char *[]){ "--fault", "delay,ms=2000",
	    NULL });
	ff_agent_start(&f, NULL);
	t0 = ac_now_ms();
	ff_put_rooms(&f, 2, 0, 1);
	ff_wait_converged(&f, 2, 0, 1, 45000);
	/* state 2 s, two joins 2 s each, verify 2 s: at least 8 s */
	assert_true(ac_now_ms() - t0 >= 8000);
	assert_int_equal(ff_count(&f, NULL, "failed"), 0);
	assert_int_equal(ff_assert_ledger_n(&f, 2), 2 * 2);
	ff_free(&f);
}

static void
test_5xx_bursts(void **state)
{
	struct ff	f;

	(void)state;
	ff_init(&f, true);
	ff_sim_start(&f, NULL);
	ff_agent_start(&f, NULL);
	ac_sim_fault(&f.sim, "{\"kind\": \"status\", \"status\": 503, "
	    "\"rate\": 0.3}");
	ff_put_rooms(&f, 4, 0, 5);
	ff_wait_converged(&f, 4, 0, 5, 45000);
	ac_sim_fault(&f.sim, NULL);
	ac_sim_fault(&f.sim, "{\"kind\": \"fail_next\", \"count\": 40, "
	    "\"status\": 500}");
	ff_put_rooms(&f, 4, 1, 5);
	ff_wait_converged(&f, 4, 1, 5, 45000);
	assert_int_equal(ff_assert_ledger_n(&f, 4), 4 * 6 + 4 * 6);
	ff_free(&f);
}

static void
test_connection_resets(void **state)
{
	struct ff	f;

	(void)state;
	ff_init(&f, true);
	ff_sim_start(&f, NULL);
	ff_agent_start(&f, NULL);
	ac_sim_fault(&f.sim, "{\"kind\": \"drop\", \"rate\": 0.25}");
	ff_put_rooms(&f, 4, 0, 5);
	ff_wait_converged(&f, 4, 0, 5, 45000);
	ff_put_rooms(&f, 4, 1, 5);
	ff_wait_converged(&f, 4, 1, 5, 45000);
	ac_sim_fault(&f.sim, NULL);
	assert_int_equal(ff_assert_ledger_n(&f, 4), 4 * 6 + 4 * 6);
	ff_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slow),
		cmocka_unit_test(test_5xx_bursts),
		cmocka_unit_test(test_connection_resets),
	};

	FF_FILTER();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
