/* test_specidx.c: the spec index shared by dirsrc and gitsrc. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/err.h"
#include "specidx.h"
#include "testutil.h"

static struct ro_specidx_ent *
put(struct ro_specidx *x, const char *path, const char *room,
    const char *seed1, const char *seed2)
{
	struct ro_specidx_ent	*e;
	struct ro_strv		 seeds = RO_STRV_INIT;

	assert_int_equal(ro_specidx_add(x, path, &e), RO_OK);
	assert_int_equal(ro_specidx_set_room(x, e, room), RO_OK);
	if (seed1 != NULL)
		assert_int_equal(ro_strv_push(&seeds, seed1), RO_OK);
	if (seed2 != NULL)
		assert_int_equal(ro_strv_push(&seeds, seed2), RO_OK);
	assert_int_equal(ro_specidx_set_seeds(x, e, &seeds), RO_OK);
	ro_strv_release(&seeds);
	return ro_specidx_path(x, path);
}

static size_t
users(struct ro_specidx *x, const char *seed, const char *want)
{
	struct ro_strv	out = RO_STRV_INIT;
	size_t		n;

	assert_int_equal(ro_specidx_seed_users(x, seed, &out), RO_OK);
	if (want != NULL)
		assert_true(ro_strv_contains(&out, want));
	n = out.n;
	ro_strv_release(&out);
	return n;
}

static void
test_path_room_seed(void **state)
{
	struct ro_specidx	 x = RO_SPECIDX_INIT;
	struct ro_specidx_ent	*e, *again;

	(void)state;
	assert_null(ro_specidx_path(&x, "a.yaml"));
	assert_null(ro_specidx_room(&x, "room-a"));
	assert_int_equal(users(&x, "seed/x.txt", NULL), 0);
	put(&x, "a.yaml", "room-a", "seed/x.txt", "seed/y.txt");
	put(&x, "b.yaml", "room-b", "seed/x.txt", NULL);
	/* a seed listed twice counts once */
	put(&x, "c.yaml", "room-c", "seed/z.txt", "seed/z.txt");
	assert_int_equal(x.n, 3);
	assert_string_equal(ro_specidx_room(&x, "room-b")->path, "b.yaml");
	assert_int_equal(users(&x, "seed/x.txt", "a.yaml"), 2);
	assert_int_equal(users(&x, "seed/x.txt", "b.yaml"), 2);
	assert_int_equal(users(&x, "seed/y.txt", "a.yaml"), 1);
	assert_int_equal(users(&x, "seed/z.txt", "c.yaml"), 1);
	assert_int_equal(ro_specidx_path(&x, "c.yaml")->seeds.n, 1);
	/* add is find-or-add */
	assert_int_equal(ro_specidx_add(&x, "a.yaml", &again), RO_OK);
	assert_ptr_equal(again, ro_specidx_path(&x, "a.yaml"));
	assert_int_equal(x.n, 3);
	/* new seeds and a new room replace the old ones */
	e = put(&x, "a.yaml", "room-a2", "seed/w.txt", NULL);
	assert_null(ro_specidx_room(&x, "room-a"));
	assert_ptr_equal(ro_specidx_room(&x, "room-a2"), e);
	assert_int_equal(users(&x, "seed/x.txt", "b.yaml"), 1);
	assert_int_equal(users(&x, "seed/y.txt", NULL), 0);
	assert_int_equal(users(&x, "seed/w.txt", "a.yaml"), 1);
	/* out keeps its entries, each path once */
	{
		struct ro_strv	out = RO_STRV_INIT;

		assert_int_equal(ro_strv_push(&out, "b.yaml"), RO_OK);
		assert_int_equal(ro_specidx_seed_users(&x, "seed/x.txt",
		    &out), RO_OK);
		assert_int_equal(out.n, 1);
		ro_strv_release(&out);
	}
	ro_specidx_release(&x);
	assert_int_equal(x.n, 0);
}

/* Removing an entry moves the last one into its place: every map still
 * finds every entry, and the removed one is gone from all three. */
static void
test_remove_and_detach(void **state)
{
	struct ro_specidx	 x = RO_SPECIDX_INIT;
	struct ro_specidx_ent	*e, gone;
	char			 path[32], room[32], seed[32];
	int			 i;

	(void)state;
	for (i = 0; i < 200; i++) {
		snprintf(path, sizeof(path), "s/%03d.yaml", i);
		snprintf(room, sizeof(room), "room-%03d", i);
		snprintf(seed, sizeof(seed), "seed/%d.txt", i % 7);
		put(&x, path, room, seed, "seed/all.txt");
	}
	assert_int_equal(users(&x, "seed/all.txt", "s/199.yaml"), 200);
	for (i = 0; i < 200; i += 2) {
		snprintf(path, sizeof(path), "s/%03d.yaml", i);
		ro_specidx_remove(&x, path);
		assert_null(ro_specidx_path(&x, path));
	}
	ro_specidx_remove(&x, "absent.yaml");
	assert_int_equal(x.n, 100);
	assert_int_equal(users(&x, "seed/all.txt", NULL), 100);
	for (i = 0; i < 200; i++) {
		snprintf(path, sizeof(path), "s/%03d.yaml", i);
		snprintf(room, sizeof(room), "room-%03d", i);
		e = ro_specidx_room(&x, room);
		if (i % 2 == 0) {
			assert_null(e);
			continue;
		}
		assert_non_null(e);
		assert_string_equal(e->path, path);
		assert_ptr_equal(ro_specidx_path(&x, path), e);
	}
	/* detach hands the strings over */
	e = ro_specidx_path(&x, "s/001.yaml");
	gone = ro_specidx_detach(&x, e);
	assert_string_equal(gone.path, "s/001.yaml");
	assert_string_equal(gone.room_id, "room-001");
	assert_true(ro_strv_contains(&gone.seeds, "seed/all.txt"));
	assert_null(ro_specidx_room(&x, "room-001"));
	assert_int_equal(users(&x, "seed/all.txt", NULL), 99);
	ro_specidx_ent_release(&gone);
	ro_specidx_release(&x);
}

/* Two files declaring one room: the room finds the latest, and removing
 * the earlier one keeps it. */
static void
test_room_latest(void **state)
{
	struct ro_specidx	x = RO_SPECIDX_INIT;

	(void)state;
	put(&x, "old.yaml", "room-1", NULL, NULL);
	put(&x, "new.yaml", "room-1", NULL, NULL);
	assert_string_equal(ro_specidx_room(&x, "room-1")->path, "new.yaml");
	ro_specidx_remove(&x, "old.yaml");
	assert_string_equal(ro_specidx_room(&x, "room-1")->path, "new.yaml");
	ro_specidx_remove(&x, "new.yaml");
	assert_null(ro_specidx_room(&x, "room-1"));
	ro_specidx_release(&x);
}

static void
test_spec_seeds(void **state)
{
	struct ro_spec		spec;
	struct ro_artifact	a[3];
	struct ro_strv		out = RO_STRV_INIT;

	(void)state;
	memset(&spec, 0, sizeof(spec));
	memset(a, 0, sizeof(a));
	a[0].seed_from = "../seeds/a.txt";
	a[1].seed_from = NULL;
	a[2].seed_from = "../../escape.txt";	/* leaves the root: left out */
	spec.artifacts = a;
	spec.n_artifacts = 3;
	assert_int_equal(ro_specidx_spec_seeds(&out, &spec, "rooms", ""),
	    RO_OK);
	assert_int_equal(out.n, 1);
	assert_string_equal(out.v[0], "seeds/a.txt");
	ro_strv_release(&out);
	assert_int_equal(ro_specidx_spec_seeds(&out, &spec, "rooms",
	    "deploy"), RO_OK);
	assert_int_equal(out.n, 1);
	assert_string_equal(out.v[0], "deploy/seeds/a.txt");
	ro_strv_release(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_room_seed),
		cmocka_unit_test(test_remove_and_detach),
		cmocka_unit_test(test_room_latest),
		cmocka_unit_test(test_spec_seeds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
