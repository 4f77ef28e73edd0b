/* test_fingerprint.c: the vectors of roomspec.md, byte for byte. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "roomops/fingerprint.h"
#include "testutil.h"

static void
test_vector_tags_content(void **state)
{
	struct ro_strv	tags = RO_STRV_INIT;
	char		fp[RO_HEX_SHA256_LEN + 1];

	(void)state;
	assert_int_equal(ro_strv_push(&tags, "tag1"), 0);
	assert_int_equal(ro_strv_push(&tags, "tag2"), 0);
	assert_int_equal(ro_fingerprint(fp, "test-artifact", "document",
	    "shared", &tags, "test content", 12, NULL), 0);
	assert_string_equal(fp,
	    "9a0a3c3661175e6a9e486b9fa0e94482fc9c1d4d5083cd6b2232f58b9709b22f");
	ro_strv_release(&tags);
}

static void
test_vector_empty(void **state)
{
	struct ro_strv	tags = RO_STRV_INIT;
	char		fp[RO_HEX_SHA256_LEN + 1];

	(void)state;
	assert_int_equal(ro_fingerprint(fp, "x", "t", "w", &tags, "", 0,
	    NULL), 0);
	assert_string_equal(fp,
	    "249b4a014db3021bb0907f945f5521e85cafc59408733c133a01580faf71446d");
}

/* Content longer than one base64 chunk must hash as one base64 string. */
static void
test_chunking_matches_one_shot(void **state)
{
	char		 fp[RO_HEX_SHA256_LEN + 1], want[RO_HEX_SHA256_LEN + 1];
	size_t		 n = 10007, i, b64len = (n + 2) / 3 * 4;
	unsigned char	*content = malloc(n);
	unsigned char	*pre = malloc(7 + b64len + 1);

	(void)state;
	for (i = 0; i < n; i++)
		content[i] = (unsigned char)(i * 131u);
	memcpy(pre, "a|b|c||", 7);
	assert_int_equal(EVP_EncodeBlock(pre + 7, content, (int)n),
	    (int)b64len);
	ro_sha256_hex(want, pre, 7 + b64len);
	assert_int_equal(ro_fingerprint(fp, "a", "b", "c", NULL, content, n,
	    NULL), 0);
	assert_string_equal(fp, want);
	free(pre);
	free(content);
}

static void
test_too_big(void **state)
{
	char		fp[RO_HEX_SHA256_LEN + 1];
	struct ro_err	err = RO_ERR_INIT;

	(void)state;
	assert_int_equal(ro_fingerprint(fp, "big", "t", "w", NULL, "",
	    (size_t)RO_ARTIFACT_MAX + 1, &err), RO_ETOOBIG);
	assert_true(tu_contains(err.msg, "big"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector_tags_content),
		cmocka_unit_test(test_vector_empty),
		cmocka_unit_test(test_chunking_matches_one_shot),
		cmocka_unit_test(test_too_big),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
