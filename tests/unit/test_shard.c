/*
 * test_shard.c: room -> shard assignment (include/roomops/shard.h).
 *
 * The pinned vectors were computed once with an independent Python
 * implementation of the function documented in shard.h (hashlib.sha256,
 * struct.unpack('>Q', digest[:8]), the paper's loop on Python floats);
 * the jump vectors are the published ones of other jump hash libraries.
 * If one of them changes, rooms move between replicas: that is a breaking
 * change, not a test to update.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/shard.h"
#include "testutil.h"

#define NROOMS	10000

static void
room_name(char *buf, size_t len, unsigned i)
{
	/* realistic ids: ^room-[A-Za-z0-9_-]{6,}$ with varied shapes */
	static const char *const teams[] = { "ai-lab", "platform", "ops",
	    "design_team", "Sales", "qa" };

	snprintf(buf, len, "room-%s-%05u", teams[i % RO_NELEM(teams)], i);
}

/* Published vectors of the bare jump function (key, buckets) -> bucket. */
static void
test_jump_published_vectors(void **state)
{
	(void)state;
	assert_int_equal(ro_shard_jump(256, 1024), 520);
	assert_int_equal(ro_shard_jump(2016238256797177309ULL, 11), 3);
	assert_int_equal(ro_shard_jump(10863919174838991ULL, 11), 6);
	assert_int_equal(ro_shard_jump(0, 1), 0);
	assert_int_equal(ro_shard_jump(UINT64_MAX, 1), 0);
}

struct vector {
	const char	*room;
	uint64_t	 key;
	int		 shard[6];	/* for n = 1, 2, 3, 4, 10, 1024 */
};

static const unsigned vector_n[6] = { 1, 2, 3, 4, 10, 1024 };

static const struct vector vectors[] = {
	{ "room-ai-lab-01", 0x32e165bbfb8eb16bULL, { 0, 1, 2, 3, 3, 264 } },
	{ "room-abcdef", 0x8ca27f61b208cbd3ULL, { 0, 0, 2, 3, 9, 867 } },
	{ "room-platform-team", 0xfc5eee1ec3a394acULL,
	    { 0, 1, 2, 3, 5, 172 } },
	{ "room-000001", 0x6e66ea2dfe85aa34ULL, { 0, 0, 0, 0, 0, 430 } },
	{ "room-Z_z-9-x", 0x122c8da981505f9aULL, { 0, 0, 0, 3, 6, 642 } },
	/* UTF-8 bytes are hashed as they are */
	{ "room-\xc3\xa9t\xc3\xa9-2024", 0xf1b07725f90ae5bcULL,
	    { 0, 0, 0, 3, 6, 584 } },
};

static void
test_stable_vectors(void **state)
{
	size_t		i, k;

	(void)state;
	for (i = 0; i < RO_NELEM(vectors); i++) {
		assert_true(ro_shard_key(vectors[i].room) == vectors[i].key);
		for (k = 0; k < RO_NELEM(vector_n); k++) {
			if (ro_shard_of(vectors[i].room, vector_n[k]) !=
			    vectors[i].shard[k])
				fail_msg("%s n=%u: got %d want %d",
				    vectors[i].room, vector_n[k],
				    ro_shard_of(vectors[i].room, vector_n[k]),
				    vectors[i].shard[k]);
		}
	}
}

static void
check_uniform(unsigned n, unsigned slack_pct)
{
	unsigned	count[RO_SHARD_MAX] = { 0 };
	unsigned	i, lo, hi, want = NROOMS / n;
	char		id[64];
	int		s;

	for (i = 0; i < NROOMS; i++) {
		room_name(id, sizeof(id), i);
		s = ro_shard_of(id, n);
		assert_true(s >= 0 && (unsigned)s < n);
		count[s]++;
	}
	lo = want - want * slack_pct / 100;
	hi = want + want * slack_pct / 100;
	for (i = 0; i < n; i++)
		if (count[i] < lo || count[i] > hi)
			fail_msg("n=%u: shard %u has %u of %u rooms, "
			    "band %u..%u", n, i, count[i], NROOMS, lo, hi);
}

/*
 * 10,000 ids over 3 shards: the standard deviation of a shard's count is
 * about 47, so +-5% (167 rooms) is a 3.5 sigma band; the ids are fixed, so
 * the result is deterministic, and a biased hash would fall outside.
 */
static void
test_uniform(void **state)
{
	(void)state;
	check_uniform(3, 5);
	check_uniform(4, 5);
	check_uniform(10, 10);
}

/*
 * Growing from n to n+1 moves about 1/(n+1) of the rooms, and only to the
 * new shard n; shrinking back moves only the rooms of the removed shard.
 */
static void
check_move(unsigned n, unsigned *moved_out)
{
	unsigned	i, moved = 0;
	char		id[64];
	int		a, b;

	for (i = 0; i < NROOMS; i++) {
		room_name(id, sizeof(id), i);
		a = ro_shard_of(id, n);
		b = ro_shard_of(id, n + 1);
		if (a == b)
			continue;
		moved++;
		if ((unsigned)b != n)
			fail_msg("%s moved %d -> %d going from %u to %u shards",
			    id, a, b, n, n + 1);
	}
	*moved_out = moved;
}

static void
test_movement(void **state)
{
	unsigned	n, moved;

	(void)state;
	/* 3 -> 4: about a quarter (2,500; sd ~43), all towards shard 3 */
	check_move(3, &moved);
	if (moved < 2250 || moved > 2750)
		fail_msg("3 -> 4 shards moved %u of %u rooms, want ~2500",
		    moved, NROOMS);
	/* every size up to 16: only towards the new shard, about 1/(n+1) */
	for (n = 1; n < 16; n++) {
		check_move(n, &moved);
		if (moved < NROOMS / (n + 1) * 85 / 100 ||
		    moved > NROOMS / (n + 1) * 115 / 100)
			fail_msg("%u -> %u shards moved %u rooms", n, n + 1,
			    moved);
	}
}

static void
test_owns_exactly_one(void **state)
{
	struct ro_shard	s;
	unsigned	i, owners;
	char		id[64];

	(void)state;
	for (i = 0; i < 1000; i++) {
		room_name(id, sizeof(id), i);
		owners = 0;
		for (s.count = 3, s.index = 0; s.index < 3; s.index++)
			owners += ro_shard_owns(&s, id);
		assert_int_equal(owners, 1);
		assert_true(ro_shard_owns(NULL, id));
	}
	s.index = 0;
	s.count = 1;
	assert_true(ro_shard_owns(&s, "room-anything"));
	assert_false(ro_shard_owns(&s, NULL));
	assert_false(ro_shard_owns(NULL, NULL));
}

static void
test_invalid_args(void **state)
{
	struct ro_shard	 s = { 0, 0 };	/* a zero count is never valid */
	char		*big;

	(void)state;
	assert_int_equal(ro_shard_of(NULL, 3), RO_EINVALID);
	assert_int_equal(ro_shard_of("room-abcdef", 0), RO_EINVALID);
	assert_int_equal(ro_shard_of("room-abcdef", RO_SHARD_MAX + 1),
	    RO_EINVALID);
	assert_true(ro_shard_of("room-abcdef", RO_SHARD_MAX) >= 0);
	assert_false(ro_shard_owns(&s, "room-abcdef"));

	big = malloc(RO_SHARD_ID_MAX + 2);
	assert_non_null(big);
	memset(big, 'a', RO_SHARD_ID_MAX + 1);
	big[RO_SHARD_ID_MAX + 1] = '\0';
	assert_int_equal(ro_shard_of(big, 3), RO_EINVALID);
	assert_false(ro_shard_owns(NULL, big));
	big[RO_SHARD_ID_MAX] = '\0';	/* exactly the limit is fine */
	assert_true(ro_shard_of(big, 3) >= 0);
	free(big);
}

static void
test_parse_ok(void **state)
{
	static const struct {
		const char	*in;
		unsigned	 i, n;
	} ok[] = {
		{ "0/1", 0, 1 }, { "2/3", 2, 3 }, { "0/3", 0, 3 },
		{ "9/10", 9, 10 }, { "1023/1024", 1023, 1024 },
		{ "0/1024", 0, 1024 },
	};
	struct ro_shard	s;
	struct ro_err	err = RO_ERR_INIT;
	size_t		k;

	(void)state;
	for (k = 0; k < RO_NELEM(ok); k++) {
		s.index = s.count = 99999;
		if (ro_shard_parse(&s, ok[k].in, &err) != RO_OK)
			fail_msg("'%s': %s", ok[k].in, err.msg);
		assert_int_equal(s.index, ok[k].i);
		assert_int_equal(s.count, ok[k].n);
	}
}

static void
test_parse_errors(void **state)
{
	static const struct {
		const char	*in;
		const char	*msg;	/* a part of the message */
	} bad[] = {
		{ "", "empty" },
		{ "3", "expected I/N" },
		{ "3/3", "must be 0..2" },
		{ "4/3", "must be 0..2" },
		{ "-1/3", "index I: not a decimal" },
		{ "+1/3", "index I: not a decimal" },
		{ "1/0", "count N must be 1..1024" },
		{ "0/1025", "count N: too large" },
		{ "0/99999999999999999999", "too long" },
		{ "01/3", "leading zero" },
		{ "1/03", "leading zero" },
		{ " 1/3", "not a decimal" },
		{ "1/3 ", "not a decimal" },
		{ "1//3", "not a decimal" },
		{ "1/3/4", "not a decimal" },
		{ "a/b", "not a decimal" },
		{ "1/", "empty number" },
		{ "/3", "empty number" },
		{ "0x1/3", "not a decimal" },
	};
	struct ro_shard	s;
	struct ro_err	err = RO_ERR_INIT;
	size_t		k;

	(void)state;
	for (k = 0; k < RO_NELEM(bad); k++) {
		s.index = 7;
		s.count = 8;
		ro_err_clear(&err);
		if (ro_shard_parse(&s, bad[k].in, &err) != RO_EINVALID)
			fail_msg("'%s' accepted as %u/%u", bad[k].in,
			    s.index, s.count);
		assert_int_equal(err.code, RO_EINVALID);
		if (strstr(err.msg, bad[k].msg) == NULL)
			fail_msg("'%s': message '%s' lacks '%s'", bad[k].in,
			    err.msg, bad[k].msg);
		/* the message names the input (when it is short) */
		if (strlen(bad[k].in) > 0 && strlen(bad[k].in) < 16)
			assert_non_null(strstr(err.msg, bad[k].in));
		/* out untouched on error */
		assert_int_equal(s.index, 7);
		assert_int_equal(s.count, 8);
	}
	assert_int_equal(ro_shard_parse(&s, NULL, NULL), RO_EINVALID);
}

static void
test_from_env(void **state)
{
	static const struct {
		const char	*host, *env;
		unsigned	 i, n;
	} ok[] = {
		{ "roomops-3", "4", 3, 4 },
		{ "roomops-0", "1", 0, 1 },
		{ "roomops-0.roomops.default.svc.cluster.local", "3", 0, 3 },
		{ "my-room-agent-2", "3", 2, 3 },
		{ "roomops-1.x-2", "3", 1, 3 },	/* first label only */
		{ "roomops-1023", "1024", 1023, 1024 },
		{ "no-ordinal-here", NULL, 0, 1 },	/* sharding off */
		{ NULL, "", 0, 1 },			/* sharding off */
	};
	static const struct {
		const char	*host, *env, *msg;
	} bad[] = {
		{ "roomops-3", "3", "more replicas than shards" },
		{ "roomops-7", "3", "ordinal 7" },
		{ "roomops", "3", "does not end in -ORDINAL" },
		{ "roomops-", "3", "does not end in -ORDINAL" },
		{ "roomops-x", "3", "does not end in -ORDINAL" },
		{ "roomops-01", "3", "does not end in -ORDINAL" },
		{ "", "3", "host name is empty" },
		{ NULL, "3", "host name is empty" },
		{ "roomops-1", "0", "ROOMOPS_SHARDS='0'" },
		{ "roomops-1", "three", "not a decimal" },
		{ "roomops-1", "1025", "too large" },
		{ "roomops-1", "3 ", "not a decimal" },
		{ "roomops-1", "03", "leading zero" },
	};
	struct ro_shard	s;
	struct ro_err	err = RO_ERR_INIT;
	char		host[RO_SHARD_HOST_MAX + 8];
	size_t		k;

	(void)state;
	for (k = 0; k < RO_NELEM(ok); k++) {
		s.index = s.count = 99999;
		if (ro_shard_from_env(&s, ok[k].host, ok[k].env, &err) !=
		    RO_OK)
			fail_msg("%s %s: %s", ok[k].host, ok[k].env, err.msg);
		assert_int_equal(s.index, ok[k].i);
		assert_int_equal(s.count, ok[k].n);
	}
	for (k = 0; k < RO_NELEM(bad); k++) {
		s.index = 7;
		s.count = 8;
		ro_err_clear(&err);
		if (ro_shard_from_env(&s, bad[k].host, bad[k].env, &err) !=
		    RO_EINVALID)
			fail_msg("%s %s accepted as %u/%u", bad[k].host,
			    bad[k].env, s.index, s.count);
		if (strstr(err.msg, bad[k].msg) == NULL)
			fail_msg("%s %s: message '%s' lacks '%s'", bad[k].host,
			    bad[k].env, err.msg, bad[k].msg);
		assert_int_equal(s.index, 7);
		assert_int_equal(s.count, 8);
	}
	memset(host, 'a', sizeof(host) - 4);
	memcpy(host + sizeof(host) - 4, "-1", 3);
	assert_int_equal(ro_shard_from_env(&s, host, "3", &err), RO_EINVALID);
	assert_true(tu_contains(err.msg, "longer than"));
}

static void
test_str(void **state)
{
	struct ro_shard	s = { 1023, 1024 };
	struct ro_shard	w = RO_SHARD_INIT;
	char		buf[RO_SHARD_STR_MAX];

	(void)state;
	assert_string_equal(ro_shard_str(buf, &s), "1023/1024");
	assert_string_equal(ro_shard_str(buf, &w), "0/1");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jump_published_vectors),
		cmocka_unit_test(test_stable_vectors),
		cmocka_unit_test(test_uniform),
		cmocka_unit_test(test_movement),
		cmocka_unit_test(test_owns_exactly_one),
		cmocka_unit_test(test_invalid_args),
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_from_env),
		cmocka_unit_test(test_str),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
