/* test_specidx.c: the spec index of the sources (agent/specidx.c): by
 * path, by room (latest declaration), by seed, and after removals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/err.h"
#include "specidx.h"
#include "testutil.h"

static void
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
	assert_int_equal(seeds.n, 0);
}

static size_t
readers(const struct ro_specidx *x, const char *seed)
{
	const struct ro_strv	*sv = ro_specidx_seed(x, seed);

	return sv != NULL ? sv->n : 0;
}

static void
test_index(void **state)
{
	struct ro_specidx	 x = RO_SPECIDX_INIT;
	struct ro_specidx_ent	*e, out;
	char			 path[32];
	size_t			 i;

	(void)state;
	put(&x, "a.yaml", "room-a", "seeds/x.md", "seeds/y.md");
	put(&x, "b.yaml", "room-b", "seeds/x.md", NULL);
	put(&x, "c.yaml", "room-c", NULL, NULL);
	assert_int_equal(x.n, 3);
	assert_string_equal(ro_specidx_path(&x, "b.yaml")->room_id, "room-b");
	assert_null(ro_specidx_path(&x, "d.yaml"));
	assert_string_equal(ro_specidx_room(&x, "room-c")->path, "c.yaml");
	assert_int_equal(readers(&x, "seeds/x.md"), 2);
	assert_int_equal(readers(&x, "seeds/y.md"), 1);

	/* a.yaml reads other seeds and declares room-b too (latest) */
	put(&x, "a.yaml", "room-b", "seeds/z.md", NULL);
	assert_int_equal(x.n, 3);
	assert_int_equal(readers(&x, "seeds/x.md"), 1);
	assert_int_equal(readers(&x, "seeds/y.md"), 0);
	assert_int_equal(readers(&x, "seeds/z.md"), 1);
	assert_string_equal(ro_specidx_room(&x, "room-b")->path, "a.yaml");
	assert_null(ro_specidx_room(&x, "room-a"));

	/* detach the first entry: the last one takes its place */
	e = ro_specidx_path(&x, "a.yaml");
	out = ro_specidx_detach(&x, e);
	assert_string_equal(out.path, "a.yaml");
	ro_specidx_ent_release(&out);
	assert_int_equal(x.n, 2);
	assert_null(ro_specidx_path(&x, "a.yaml"));
	assert_int_equal(readers(&x, "seeds/z.md"), 0);
	assert_string_equal(ro_specidx_path(&x, "c.yaml")->room_id, "room-c");
	assert_string_equal(ro_specidx_room(&x, "room-c")->path, "c.yaml");
	ro_specidx_remove(&x, "b.yaml");
	ro_specidx_remove(&x, "b.yaml");	/* gone: a no-op */
	assert_int_equal(readers(&x, "seeds/x.md"), 0);
	assert_null(ro_specidx_room(&x, "room-b"));

	/* many: the maps follow the array as it grows and shrinks */
	for (i = 0; i < 500; i++) {
		snprintf(path, sizeof(path), "s/%zu.yaml", i);
		put(&x, path, path + 2, "seeds/all.md", NULL);
	}
	for (i = 0; i < 500; i += 2) {
		snprintf(path, sizeof(path), "s/%zu.yaml", i);
		ro_specidx_remove(&x, path);
	}
	assert_int_equal(readers(&x, "seeds/all.md"), 250);
	for (i = 1; i < 500; i += 2) {
		snprintf(path, sizeof(path), "s/%zu.yaml", i);
		assert_non_null(e = ro_specidx_path(&x, path));
		assert_string_equal(e->path, path);
		assert_ptr_equal(ro_specidx_room(&x, path + 2), e);
	}
	ro_specidx_release(&x);
	ro_specidx_release(&x);		/* released: fine again */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
