/*
 * test_kill9.c: kill -9 of the agent at random points of 50 reconciles
 * (fault suite, Git mode).
 *
 * Each round commits a new generation of four rooms (a join, updates
 * and, from the third on, a kick in each), waits a random 0..600 ms and
 * kills the agent with SIGKILL: before the poll noticed the commit,
 * while fetching, while applying (every mutating request takes 20 ms in
 * the sim, so a room's apply spans ~100 ms), while writing the JSONL or
 * the note or the cursor, or after. Every third round the restarted
 * agent is killed again during its recovery. Then it is restarted and
 * must converge on the generation.
 *
 * At the end: each room of each commit has exactly one final record (any
 * outcome but failed/superseded), and the ledger is exact (faults.h): per
 * room the records' diffs add up to the changes the sim made, the sim's
 * 2xx mutating requests to the same sum, notes == JSONL, ids unique, no
 * intent left. FF_SEED=n replays a run (the seed is printed).
 */
#include "faults.h"

#define NROOMS	4
#define NBASE	2
#define ROUNDS	50

static void
start(struct ff *f)
{
	ff_agent_start(f, "--interval", "200ms", NULL);
}

static void
kill9(struct ff *f)
{
	ac_agent_signal(&f->a, SIGKILL);
	assert_int_equal(ac_agent_wait(&f->a, 10000), 128 + SIGKILL);
}

static void
test_kill9_rounds(void **state)
{
	struct ff	 f;
	char		 room[32], *revs[ROUNDS + 1];
	unsigned	 seed;
	cJSON		*recs;
	const cJSON	*o;
	long long	 t0 = ac_now_ms();
	int		 g, i, k, finals, killed_mid = 0;
	long		 before;

	(void)state;
	seed = getenv("FF_SEED") != NULL ? (unsigned)strtoul(getenv("FF_SEED"),
	    NULL, 10) : (unsigned)time(NULL) ^ (unsigned)getpid();
	fprintf(stderr, "kill -9 rounds: FF_SEED=%u\n", seed);
	srand(seed);
	ff_init(&f, true);
	ff_sim_start(&f, NULL);
	ac_sim_fault(&f.sim, "[{\"kind\": \"delay\", \"ms\": 20, "
	    "\"method\": \"POST\"}, {\"kind\": \"delay\", \"ms\": 20, "
	    "\"method\": \"PUT\"}, {\"kind\": \"delay\", \"ms\": 20, "
	    "\"method\": \"DELETE\"}]");
	ff_put_rooms(&f, NROOMS, 0, NBASE);
	revs[0] = strdup(gs_origin_rev(&f.r, "main"));
	start(&f);
	ff_wait_converged(&f, NROOMS, 0, NBASE, 30000);

	for (g = 1; g <= ROUNDS; g++) {
		ff_put_rooms(&f, NROOMS, g, NBASE);
		revs[g] = strdup(gs_origin_rev(&f.r, "main"));
		before = ff_sim_mut2xx(&f);
		ac_sleep_ms(rand() % 600);
		kill9(&f);
		/* mid-apply: some of the generation's changes were made */
		ff_sim_settle(&f);	/* requests in flight land */
		if (ff_sim_mut2xx(&f) > before &&
		    !ff_rooms_are(&f, NROOMS, g, NBASE))
			killed_mid++;
		start(&f);
		if (g % 3 == 0) {	/* and again, while it recovers */
			ac_sleep_ms(rand() % 300);
			kill9(&f);
			ff_sim_settle(&f);
			start(&f);
		}
		ff_wait_converged(&f, NROOMS, g, NBASE, 30000);
	}
	fprintf(stderr, "%d rounds in %lld ms, %d killed mid-apply\n", ROUNDS,
	    ac_now_ms() - t0, killed_mid);

	/* each room of each commit: exactly one final record */
	recs = ac_audit_all(f.audit);
	for (g = 0; g <= ROUNDS; g++) {
		for (i = 0; i < NROOMS; i++) {
			ff_room(room, sizeof(room), i);
			finals = 0;
			cJSON_ArrayForEach(o, recs) {
				const char *out = ac_str(o, "outcome");

				if (strcmp(ac_str(o, "rev"), revs[g]) != 0 ||
				    ac_str(o, "room") == NULL ||
				    strcmp(ac_str(o, "room"), room) != 0)
					continue;
				finals += strcmp(out, "failed") != 0 &&
				    strcmp(out, "superseded") != 0;
			}
			if (finals != 1) {
				ff_print_ledger(recs);
				fail_msg("%s at commit %.12s (round %d): %d final "
				    "records", room, revs[g], g, finals);
			}
		}
	}
	cJSON_Delete(recs);
	k = (int)ff_assert_ledger_n(&f, NROOMS);
	fprintf(stderr, "ledger exact: %d changes, each recorded once\n", k);
	for (g = 0; g <= ROUNDS; g++)
		free(revs[g]);
	ff_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill9_rounds),
	};

	FF_FILTER();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
