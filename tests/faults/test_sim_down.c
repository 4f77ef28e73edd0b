/*
 * test_sim_down.c: the RoomServer goes away (fault suite).
 *
 * - down at start: the agent starts on a folder of specs with no
 *   RoomServer listening; /health is 200 and /ready 503; the sim comes
 *   up on the same port: the agent converges on its own (no file
 *   touched, no resync timer) and /ready turns 200.
 * - down mid-apply: a multi-room commit is being applied (Git mode) when
 *   the sim is killed (SIGKILL: answers in flight are lost); it comes back
 *   on the same port and data dir 1.5 s later: the agent converges. A
 *   request the sim carried out but never answered is found done by
 *   state (VERIFY, or the room's next reconcile through the intent) and
 *   counted once.
 * Both end with the ledger (faults.h): per room, the records' diff counts
 * add up to the room's revision, ids unique, notes == JSONL.
 */
#include "faults.h"

#define NBASE	10

static void
test_down_at_start(void **state)
{
	struct ff	f;
	char		url[128];

	(void)state;
	ff_init(&f, false);
	ff_put_rooms(&f, 3, 0, NBASE);
	ff_agent_start(&f, NULL);
	/* every room was tried and failed: recorded as failed, no change */
	if (!AC_WAIT(ff_count(&f, NULL, "failed") >= 3, 20000)) {
		ac_agent_dump(&f.a);
		fail_msg("no failed records while the RoomServer is down");
	}
	snprintf(url, sizeof(url), "%s/health", f.a.url);
	assert_int_equal(ac_http("GET", url, NULL, 0, NULL, NULL), 200);
	assert_false(ac_ready(&f.a));

	ff_sim_start(&f, NULL);
	ff_wait_converged(&f, 3, 0, NBASE, 30000);
	if (!AC_WAIT(ac_ready(&f.a), 15000))
		fail_msg("/ready is not 200 once the RoomServer is up");
	assert_int_equal(ff_assert_ledger_n(&f, 3), 3 * (NBASE + 1));
	ff_free(&f);
}

static void
test_down_mid_apply(void **state)
{
	struct ff	f;
	long		muts;

	(void)state;
	ff_init(&f, true);
	ff_sim_start(&f, NULL);
	ff_agent_start(&f, NULL);
	/* 6 rooms x 11 joins at 40 ms each, in parallel: ~0.5 s of apply */
	ac_sim_fault(&f.sim, "{\"kind\": \"delay\", \"ms\": 40, "
	    "\"route\": \"/room/{roomId}/join\"}");
	ff_put_rooms(&f, 6, 0, NBASE);
	if (!AC_WAIT(ff_sim_mut2xx(&f) >= 8, 20000)) {
		ac_agent_dump(&f.a);
		fail_msg("the apply did not start");
	}
	ff_sim_stop(&f, true);
	muts = f.mut_before;
	if (muts >= 6 * (NBASE + 1))
		fail_msg("the sim stopped too late (%ld changes made)", muts);
	ac_sleep_ms(1500);
	ff_sim_start(&f, NULL);
	ff_wait_converged(&f, 6, 0, NBASE, 40000);
	assert_int_equal(ff_assert_ledger_n(&f, 6), 6 * (NBASE + 1));
	/* a request the sim made but could not answer is settled by state */
	fprintf(stderr, "down mid-apply: %d request(s) in doubt found done\n",
	    ac_file_count(f.a.log, "yet the room shows it done"));
	/* a second generation goes through normally */
	ff_put_rooms(&f, 6, 1, NBASE);
	ff_wait_converged(&f, 6, 1, NBASE, 30000);
	assert_int_equal(ff_assert_ledger_n(&f, 6), 2 * 6 * (NBASE + 1));
	ff_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_down_at_start),
		cmocka_unit_test(test_down_mid_apply),
	};

	FF_FILTER();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
