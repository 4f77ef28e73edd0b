/*
 * test_api_concurrent.c: 100 concurrent POST /apply across 10 rooms, to
 * an API-only agent (fault suite). Every request gets its own spec (a
 * generation of faults.h's ff_spec, as JSON), all are released at once.
 *
 * Asserted:
 * - every call is answered 200 with a correlationId;
 * - one record per apply: each correlationId is in the JSONL exactly
 *   once (no budget deferral: at most two kicks per apply);
 * - per-room serialisation: the records of a room do not overlap in time
 *   (each spans [ts - durationMs, ts]);
 * - the room ends as the spec of its last record says (the last accepted
 *   apply wins; its correlationId names the request);
 * - the ledger (faults.h): each change recorded exactly once.
 */
#include "faults.h"

#define NREQ	100
#define NROOMS	10
#define NBASE	3

struct call {
	struct ff	*f;
	int		 i;		/* request number = generation */
	long		 status;
	char		 cid[64];
};

static pthread_barrier_t	go;

/* ff_spec(room, gen, NBASE) as the JSON body of /apply. */
static char *
body_json(const char *room, int gen)
{
	struct ro_buf	 b = RO_BUF_INIT;
	int		 i;

	ro_buf_init(&b, 1u << 20);
	assert_int_equal(ro_buf_printf(&b, "{\"spec\": {\"metadata\": "
	    "{\"version\": %d}, \"spec\": {\"roomId\": \"%s\", "
	    "\"entities\": [", gen + 1, room), 0);
	for (i = 0; i < NBASE; i++)
		assert_int_equal(ro_buf_printf(&b, "{\"id\": \"E-b%d\", "
		    "\"kind\": \"agent\", \"displayName\": \"gen %d\"}, ", i,
		    gen), 0);
	assert_int_equal(ro_buf_printf(&b, "{\"id\": \"E-g%d\", \"kind\": "
	    "\"npc\"}", gen), 0);
	if (gen > 0)
		assert_int_equal(ro_buf_printf(&b, ", {\"id\": \"E-g%d\", "
		    "\"kind\": \"npc\"}", gen - 1), 0);
	assert_int_equal(ro_buf_addstr(&b, "]}}}"), 0);
	return ro_buf_detach(&b, NULL);
}

static void *
post(void *arg)
{
	struct call	*c = arg;
	struct ro_buf	 out = RO_BUF_INIT;
	char		 url[128], room[32], *body;
	cJSON		*doc;

	ff_room(room, sizeof(room), c->i % NROOMS);
	body = body_json(room, c->i);
	snprintf(url, sizeof(url), "%s/apply", c->f->a.url);
	ro_buf_init(&out, 1u << 20);
	pthread_barrier_wait(&go);
	c->status = ac_http("POST", url, body, SIZE_MAX, NULL, &out);
	if ((doc = cJSON_Parse(ro_buf_cstr(&out))) != NULL &&
	    ac_str(doc, "correlationId") != NULL)
		snprintf(c->cid, sizeof(c->cid), "%s",
		    ac_str(doc, "correlationId"));
	cJSON_Delete(doc);
	ro_buf_release(&out);
	free(body);
	return NULL;
}

/* Milliseconds since the epoch of an audit "ts". */
static double
ts_ms(const char *ts)
{
	struct tm	tm;
	int		ms = 0;

	memset(&tm, 0, sizeof(tm));
	if (strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
		fail_msg("bad ts %s", ts);
	sscanf(ts + 20, "%d", &ms);
	return (double)timegm(&tm) * 1000 + ms;
}

static void
test_concurrent_apply(void **state)
{
	struct ff	 f;
	struct call	 calls[NREQ];
	pthread_t	 tids[NREQ];
	char		 room[32];
	cJSON		*all;
	const cJSON	*o, *p;
	int		 i, r, n, last;
	const char	*lastcid;

	(void)state;
	ff_init(&f, false);
	ff_sim_start(&f, NULL);
	/* API only: neither --repo nor --watch */
	ac_sim_fault(&f.sim, "{\"kind\": \"delay\", \"ms\": 5}");
	if (ac_agent_start(&f.a, (const char *[]){ "--server", f.server,
	    "--state-dir", f.state, "--profile", "test", NULL }) < 0)
		fail_msg("the agent did not start");
	assert_true(AC_WAIT(ac_ready(&f.a), 15000));

	assert_int_equal(pthread_barrier_init(&go, NULL, NREQ), 0);
	for (i = 0; i < NREQ; i++) {
		calls[i].f = &f;
		calls[i].i = i;
		calls[i].status = 0;
		calls[i].cid[0] = '\0';
		assert_int_equal(pthread_create(&tids[i], NULL, post,
		    &calls[i]), 0);
	}
	for (i = 0; i < NREQ; i++)
		pthread_join(tids[i], NULL);
	pthread_barrier_destroy(&go);
	for (i = 0; i < NREQ; i++)
		if (calls[i].status != 200 || calls[i].cid[0] == '\0')
			fail_msg("apply %d: status %ld, correlationId \"%s\"", i,
			    calls[i].status, calls[i].cid);

	all = ac_audit_all(f.audit);
	/* one record per apply */
	for (i = 0; i < NREQ; i++) {
		n = 0;
		cJSON_ArrayForEach(o, all)
			n += strcmp(ac_str(o, "correlationId"),
			    calls[i].cid) == 0;
		if (n != 1) {
			ff_print_ledger(all);
			fail_msg("apply %d (%s): %d records", i, calls[i].cid, n);
		}
	}
	assert_int_equal(cJSON_GetArraySize(all), NREQ);
	/* per room: no two records overlap; the last one's spec holds */
	for (r = 0; r < NROOMS; r++) {
		ff_room(room, sizeof(room), r);
		lastcid = NULL;
		cJSON_ArrayForEach(o, all) {
			double s1, e1, s2, e2;

			if (strcmp(ac_str(o, "room"), room) != 0)
				continue;
			lastcid = ac_str(o, "correlationId");
			e1 = ts_ms(ac_str(o, "ts"));
			s1 = e1 - ac_num(o, "durationMs", 0);
			cJSON_ArrayForEach(p, all) {
				if (p == o || strcmp(ac_str(p, "room"),
				    room) != 0)
					continue;
				e2 = ts_ms(ac_str(p, "ts"));
				s2 = e2 - ac_num(p, "durationMs", 0);
				/* 2 ms of slack: ts and durationMs are
				 * read from two clocks */
				if (s1 < e2 - 2 && s2 < e1 - 2)
					fail_msg("%s: records %s and %s "
					    "overlap", room, ac_str(o, "id"),
					    ac_str(p, "id"));
			}
		}
		assert_non_null(lastcid);
		for (last = -1, i = 0; i < NREQ; i++)
			if (strcmp(calls[i].cid, lastcid) == 0)
				last = i;
		assert_true(last >= 0 && last % NROOMS == r);
		if (!ff_room_is(&f, room, last, NBASE))
			fail_msg("%s is not as its last apply (%d) says", room,
			    last);
	}
	cJSON_Delete(all);
	ff_assert_ledger_n(&f, NROOMS);
	ff_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent_apply),
	};

	FF_FILTER();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
