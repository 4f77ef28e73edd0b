/*
 * test_hook.c: the webhook checks (agent/hook.c) on known inputs: GitHub's
 * documented HMAC test vector, each source's proof and near misses, the
 * form decoding of GitHub's payload=... bodies, and the pushed ref (the
 * fuzz target tests/fuzz/fuzz_hook.c covers the rest).
 */
#include <stdlib.h>
#include <string.h>

#include "hook.h"
#include "testutil.h"

/* docs.github.com, "Validating webhook deliveries": test values */
#define GH_SECRET	"It's a Secret to Everybody"
#define GH_BODY		"Hello, World!"
#define GH_SIG		"757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"

static void
test_github_vector(void **unused)
{
	struct ro_hook_key	k;
	const char		*b = GH_BODY;

	(void)unused;
	ro_hook_key_set(&k, GH_SECRET, strlen(GH_SECRET));
	assert_true(ro_hook_authentic(RO_HOOK_GITHUB, "sha256=" GH_SIG, b,
	    strlen(b), &k));
	assert_true(ro_hook_authentic(RO_HOOK_GITHUB, "sha256="
	    "757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17",
	    b, strlen(b), &k));
	assert_true(ro_hook_authentic(RO_HOOK_GITEA, GH_SIG, b, strlen(b),
	    &k));
	/* near misses */
	assert_false(ro_hook_authentic(RO_HOOK_GITHUB, GH_SIG, b, strlen(b),
	    &k));				/* no sha256= */
	assert_false(ro_hook_authentic(RO_HOOK_GITHUB, "sha1=" GH_SIG, b,
	    strlen(b), &k));
	assert_false(ro_hook_authentic(RO_HOOK_GITHUB, "sha256="
	    "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e18",
	    b, strlen(b), &k));		/* last digit */
	assert_false(ro_hook_authentic(RO_HOOK_GITHUB, "sha256=" GH_SIG "0",
	    b, strlen(b), &k));		/* 65 digits */
	assert_false(ro_hook_authentic(RO_HOOK_GITHUB, "sha256=" GH_SIG, b,
	    strlen(b) - 1, &k));	/* another body */
	assert_false(ro_hook_authentic(RO_HOOK_GITEA, "sha256=" GH_SIG, b,
	    strlen(b), &k));		/* Gitea has no prefix */
	assert_false(ro_hook_authentic(RO_HOOK_GITHUB, NULL, b, strlen(b),
	    &k));
	assert_false(ro_hook_authentic(RO_HOOK_GITEA, NULL, b, strlen(b),
	    &k));
}

static void
test_tokens(void **unused)
{
	struct ro_hook_key	k;

	(void)unused;
	ro_hook_key_set(&k, "t0ken", 5);
	assert_true(ro_hook_authentic(RO_HOOK_GITLAB, "t0ken", "", 0, &k));
	assert_false(ro_hook_authentic(RO_HOOK_GITLAB, "t0ke", "", 0, &k));
	assert_false(ro_hook_authentic(RO_HOOK_GITLAB, "t0ken ", "", 0, &k));
	assert_false(ro_hook_authentic(RO_HOOK_GITLAB, NULL, "", 0, &k));
	assert_true(ro_hook_authentic(RO_HOOK_GENERIC, "Bearer t0ken", "", 0,
	    &k));
	assert_true(ro_hook_authentic(RO_HOOK_GENERIC, "bearer   t0ken", "",
	    0, &k));
	assert_false(ro_hook_authentic(RO_HOOK_GENERIC, "Basic t0ken", "", 0,
	    &k));
	assert_false(ro_hook_authentic(RO_HOOK_GENERIC, "Bearer t0ken2", "",
	    0, &k));
	assert_false(ro_hook_authentic(RO_HOOK_GENERIC, "t0ken", "", 0, &k));
	assert_false(ro_hook_authentic((enum ro_hook_kind)7, "t0ken", "", 0,
	    &k));
	assert_string_equal(ro_hook_header(RO_HOOK_GITHUB),
	    "X-Hub-Signature-256");
	assert_string_equal(ro_hook_header(RO_HOOK_GITLAB), "X-Gitlab-Token");
	assert_string_equal(ro_hook_header(RO_HOOK_GITEA), "X-Gitea-Signature");
	assert_string_equal(ro_hook_header(RO_HOOK_GENERIC), "Authorization");
}

static void
test_form_decode(void **unused)
{
	char	*s;

	(void)unused;
	s = ro_hook_form_decode("a+b%2Bc%7B%7d", 13);
	assert_string_equal(s, "a b+c{}");
	free(s);
	assert_null(ro_hook_form_decode("%00", 3));	/* NUL */
	assert_null(ro_hook_form_decode("%4", 2));	/* short */
	assert_null(ro_hook_form_decode("%zz", 3));	/* not hex */
	s = ro_hook_form_decode("", 0);
	assert_string_equal(s, "");
	free(s);
}

static char *
ref_of(const char *body)
{
	return ro_hook_ref(body, strlen(body));
}

static void
test_ref(void **unused)
{
	char	*r, big[1100 + 16];

	(void)unused;
	r = ref_of("{\"ref\": \"refs/heads/main\", \"after\": \"abc\"}");
	assert_string_equal(r, "refs/heads/main");
	free(r);
	r = ref_of("payload=%7B%22ref%22%3A%22refs%2Fheads%2Fdev%22%7D&x=1");
	assert_string_equal(r, "refs/heads/dev");
	free(r);
	r = ref_of("payload=%7B%22ref%22%3A+%22refs%2Ftags%2Fv1%22%7D");
	assert_string_equal(r, "refs/tags/v1");
	free(r);
	assert_null(ref_of("{\"ref\": \"refs/heads/a b\"}"));	/* space */
	assert_null(ref_of("{\"ref\": \"\"}"));
	assert_null(ref_of("{\"ref\": 7}"));
	assert_null(ref_of("{\"zen\": \"ping\"}"));
	assert_null(ref_of("payload=%ZZ"));
	assert_null(ref_of("not json"));
	assert_null(ref_of(""));
	/* 1,024 bytes is the most */
	memcpy(big, "{\"ref\": \"", 9);
	memset(big + 9, 'r', 1025);
	memcpy(big + 9 + 1025, "\"}", 3);
	assert_null(ref_of(big));
	memcpy(big + 9 + 1024, "\"}", 3);
	r = ref_of(big);
	assert_non_null(r);
	assert_int_equal(strlen(r), RO_HOOK_REF_MAX);
	free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_github_vector),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_form_decode),
		cmocka_unit_test(test_ref),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
