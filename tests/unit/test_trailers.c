/* test_trailers.c: Roomops-Confirm trailers of commit messages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "history.h"
#include "testutil.h"

static struct ro_strv
confirms(const char *msg)
{
	struct ro_strv	sv = RO_STRV_INIT;
	struct ro_err	err = RO_ERR_INIT;

	assert_int_equal(ro_history_parse_confirm(msg, &sv, &err), RO_OK);
	return sv;
}

static void
test_single_and_many(void **state)
{
	struct ro_strv	sv;

	(void)state;
	sv = confirms("Remove two entities\n\nBody text.\n\n"
	    "Roomops-Confirm: room-ai-lab-01\n");
	assert_int_equal(sv.n, 1);
	assert_string_equal(sv.v[0], "room-ai-lab-01");
	ro_strv_release(&sv);

	sv = confirms("Prune\n\n"
	    "Signed-off-by: A <a@example.invalid>\n"
	    "Roomops-Confirm: room-a\n"
	    "roomops-confirm: room-b\n"
	    "Roomops-Confirm: room-a\n"
	    "Roomops-Confirm:   all  \n");
	assert_int_equal(sv.n, 3);
	assert_string_equal(sv.v[0], "room-a");
	assert_string_equal(sv.v[1], "room-b");
	assert_string_equal(sv.v[2], "all");
	ro_strv_release(&sv);
}

static void
test_not_in_trailer_block(void **state)
{
	struct ro_strv	sv;

	(void)state;
	/* Only the last paragraph holds trailers. */
	sv = confirms("Subject\n\nRoomops-Confirm: room-x\n\n"
	    "A closing paragraph that is prose, not trailers.\n");
	assert_int_equal(sv.n, 0);
	ro_strv_release(&sv);
	/* A subject line alone is no trailer block. */
	sv = confirms("Roomops-Confirm: room-x\n");
	assert_int_equal(sv.n, 0);
	ro_strv_release(&sv);
	sv = confirms("");
	assert_int_equal(sv.n, 0);
	ro_strv_release(&sv);
}

static void
test_bad_values_ignored(void **state)
{
	struct ro_strv	 sv;
	char		*msg, big[300];

	(void)state;
	memset(big, 'r', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	if (asprintf(&msg, "Subject\n\n"
	    "Roomops-Confirm: two words\n"
	    "Roomops-Confirm: %s\n"
	    "Roomops-Confirm-Extra: room-y\n"
	    "Roomops-Confirm: room-ok\n", big) < 0)
		abort();
	sv = confirms(msg);
	assert_int_equal(sv.n, 1);
	assert_string_equal(sv.v[0], "room-ok");
	ro_strv_release(&sv);
	free(msg);
}

static void
test_other_trailers_untouched(void **state)
{
	struct ro_strv	sv;

	(void)state;
	sv = confirms("Subject\n\nReviewed-by: B <b@example.invalid>\n"
	    "Co-authored-by: C <c@example.invalid>\n");
	assert_int_equal(sv.n, 0);
	ro_strv_release(&sv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_and_many),
		cmocka_unit_test(test_not_in_trailer_block),
		cmocka_unit_test(test_bad_values_ignored),
		cmocka_unit_test(test_other_trailers_untouched),
	};
	int	rc;

	git_libgit2_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	git_libgit2_shutdown();
	return rc;
}
