/*
 * test_inotify.c: the watcher's inotify queue overflows (fault suite,
 * folder mode).
 *
 * The agent is started while fs.inotify.max_queued_events is lowered to
 * 16 (the lock-file protocol of test_watch.c, agentctl.h's
 * ac_queued_begin: the value is restored as soon as the agent's watcher
 * exists; an inotify instance keeps the size it was made with). Then the
 * agent is stopped (SIGSTOP) while 30 specs are saved atomically (about
 * 150 events), so the queue overflows for sure, and continued: the
 * watcher logs the overflow and rescans; every room converges, each
 * change recorded exactly once (the ledger). A second round of edits
 * after that shows the watcher still works. Skipped where /proc/sys is
 * not writable (no way to force an overflow).
 */
#include "faults.h"

#define NROOMS	30
#define NBASE	1

static bool
has_rooms(struct ff *f)
{
	cJSON	*st = ac_get(f->a.url, "/status");
	bool	 yes = ac_len(st, "rooms") > 0;

	cJSON_Delete(st);
	return yes;
}

static void
test_overflow(void **state)
{
	struct ff	f;
	struct ac_tweak	t;
	bool		up;

	(void)state;
	ff_init(&f, false);
	ff_sim_start(&f, NULL);
	ff_put_rooms(&f, 1, 0, NBASE);	/* one room: the watcher is up */
	if (!ac_queued_begin(&t, 16)) {
		ff_free(&f);
		skip();
	}
	ff_agent_start(&f, NULL);
	up = AC_WAIT(has_rooms(&f), AC_WAIT_MS);
	ac_queued_end(&t);
	assert_true(up);
	ff_wait_converged(&f, 1, 0, NBASE, 30000);

	ac_agent_signal(&f.a, SIGSTOP);
	ff_put_rooms(&f, NROOMS, 0, NBASE);
	ac_agent_signal(&f.a, SIGCONT);
	ff_wait_converged(&f, NROOMS, 0, NBASE, 30000);
	assert_true(ac_file_count(f.a.log, "inotify queue overflow, full "
	    "rescan") >= 1);
	assert_int_equal(ff_count(&f, NULL, "failed"), 0);
	assert_int_equal(ff_assert_ledger_n(&f, NROOMS), NROOMS * (NBASE + 1));

	/* the watcher still sees edits, overflowing again */
	ac_agent_signal(&f.a, SIGSTOP);
	ff_put_rooms(&f, NROOMS, 1, NBASE);
	ac_agent_signal(&f.a, SIGCONT);
	ff_wait_converged(&f, NROOMS, 1, NBASE, 30000);
	assert_int_equal(ff_assert_ledger_n(&f, NROOMS),
	    2 * NROOMS * (NBASE + 1));
	ff_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overflow),
	};

	FF_FILTER();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
