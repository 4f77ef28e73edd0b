/* test_knownhosts.c: known_hosts parsing and host key checks. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "knownhosts.h"
#include "testutil.h"

#define K1 "AAAAC3NzaC1lZDI1NTE5AAAAIBzpjMZ17kIwxP4gc81wFbLBabpzKfylG1ynlopQenIb"
#define K2 "AAAAC3NzaC1lZDI1NTE5AAAAIKsS5Zyt6tF53B35ZPLnpcdZjDF3TfV+wx5NxFcEv8NC"
#define K3 "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBLb++mj4MZsAFnGj" \
	"XOWGQ5zoRmuIGQMZtW1BG7ETByndOGR6PfvKTAjqUe9vMosU8han1zauZUaoqTRWZt3rxds="

struct key {
	unsigned char	b[512];
	size_t		n;
};

static struct key
decode(const char *b64)
{
	struct key	k;
	int		n;
	size_t		len = strlen(b64), pad = 0;

	n = EVP_DecodeBlock(k.b, (const unsigned char *)b64, (int)len);
	assert_true(n > 0);
	while (len > 0 && b64[len - 1] == '=') {
		len--;
		pad++;
	}
	k.n = (size_t)n - pad;
	return k;
}

static struct ro_knownhosts *
parse(const char *text)
{
	struct ro_knownhosts	*kh = NULL;
	struct ro_err		 err = RO_ERR_INIT;

	assert_int_equal(ro_knownhosts_parse(&kh, text, strlen(text), "test",
	    &err), RO_OK);
	return kh;
}

static int
check(struct ro_knownhosts *kh, const char *host, int port, const char *b64,
    struct ro_err *err)
{
	struct key	k = decode(b64);

	return ro_knownhosts_check(kh, host, port, k.b, k.n, err);
}

static void
test_plain_entries(void **state)
{
	struct ro_knownhosts	*kh;
	struct ro_err		 err = RO_ERR_INIT;

	(void)state;
	kh = parse("# comment\n\n"
	    "git.example.com,10.0.0.1 ssh-ed25519 " K1 " some comment\n"
	    "[git.example.com]:2222 ssh-ed25519 " K2 "\r\n"
	    "other.example.com ecdsa-sha2-nistp256 " K3 "\n");
	assert_int_equal(ro_knownhosts_count(kh), 3);
	assert_int_equal(ro_knownhosts_skipped(kh), 0);
	assert_int_equal(check(kh, "git.example.com", 22, K1, &err), RO_OK);
	assert_int_equal(check(kh, "10.0.0.1", 22, K1, &err), RO_OK);
	/* Host names are case-insensitive. */
	assert_int_equal(check(kh, "GIT.example.COM", 22, K1, &err), RO_OK);
	/* Port 2222 is a different entry with a different key. */
	assert_int_equal(check(kh, "git.example.com", 2222, K2, &err), RO_OK);
	assert_int_equal(check(kh, "git.example.com", 2222, K1, &err),
	    RO_ECONFLICT);
	assert_true(tu_contains(err.msg, "[git.example.com]:2222"));
	assert_true(tu_contains(err.msg, "man-in-the-middle"));
	/* Known host, other key of the same type: a mismatch. */
	assert_int_equal(check(kh, "git.example.com", 22, K2, &err),
	    RO_ECONFLICT);
	/* Known host, but no key of this type: unknown, not a mismatch. */
	assert_int_equal(check(kh, "git.example.com", 22, K3, &err),
	    RO_ENOTFOUND);
	assert_int_equal(check(kh, "unknown.example.com", 22, K1, &err),
	    RO_ENOTFOUND);
	assert_true(tu_contains(err.msg, "not in known_hosts"));
	assert_true(tu_contains(err.msg,
	    "SHA256:mkzDRHHlkeRVobdaeuYFc2iRmmHeWkAZBwO9Cft7cog"));
	assert_int_equal(check(kh, "other.example.com", 22, K3, &err), RO_OK);
	ro_knownhosts_free(kh);
}

static void
test_hashed_entries(void **state)
{
	struct ro_knownhosts	*kh;
	struct ro_err		 err = RO_ERR_INIT;

	(void)state;
	/* ssh-keygen -H of "[git.example.com]:2222 K1", "host.example.org K2" */
	kh = parse("|1|I+P0I5QKK7cdCznEW4FffA6ApV8=|HERVmutbuxoLGsAcwTBeUNsUHEA="
	    " ssh-ed25519 " K1 "\n"
	    "|1|JRyx1OHSOg1bcD7MtmRFjCLN5uA=|6dqMEFn7Kmkc2hHoiZUcTukYttY="
	    " ssh-ed25519 " K2 "\n");
	assert_int_equal(ro_knownhosts_count(kh), 2);
	assert_int_equal(check(kh, "git.example.com", 2222, K1, &err), RO_OK);
	assert_int_equal(check(kh, "git.example.com", 22, K1, &err),
	    RO_ENOTFOUND);
	assert_int_equal(check(kh, "host.example.org", 22, K2, &err), RO_OK);
	assert_int_equal(check(kh, "host.example.org", 22, K1, &err),
	    RO_ECONFLICT);
	assert_int_equal(check(kh, "host.example.net", 22, K2, &err),
	    RO_ENOTFOUND);
	ro_knownhosts_free(kh);
}

static void
test_wildcards_and_negation(void **state)
{
	struct ro_knownhosts	*kh;
	struct ro_err		 err = RO_ERR_INIT;

	(void)state;
	kh = parse("*.example.com,!evil.example.com ssh-ed25519 " K1 "\n"
	    "[10.1.?.*]:2222 ssh-ed25519 " K2 "\n");
	assert_int_equal(check(kh, "a.example.com", 22, K1, &err), RO_OK);
	assert_int_equal(check(kh, "a.b.example.com", 22, K1, &err), RO_OK);
	assert_int_equal(check(kh, "evil.example.com", 22, K1, &err),
	    RO_ENOTFOUND);
	assert_int_equal(check(kh, "example.com", 22, K1, &err),
	    RO_ENOTFOUND);
	assert_int_equal(check(kh, "10.1.2.33", 2222, K2, &err), RO_OK);
	assert_int_equal(check(kh, "10.1.22.33", 2222, K2, &err),
	    RO_ENOTFOUND);
	ro_knownhosts_free(kh);
}

static void
test_markers_and_junk(void **state)
{
	struct ro_knownhosts	*kh;
	struct ro_err		 err = RO_ERR_INIT;

	(void)state;
	kh = parse("@cert-authority *.example.com ssh-ed25519 " K2 "\n"
	    "@revoked * ssh-ed25519 " K2 "\n"
	    "a.example.com ssh-ed25519 " K2 "\n"
	    "b.example.com ssh-ed25519 " K1 "\n"
	    "c.example.com ssh-ed25519 not!base64\n"
	    "d.example.com ssh-ed25519\n"
	    "e.example.com ssh-rsa " K1 "\n"	/* type differs from blob */
	    "|1|bad|hash ssh-ed25519 " K1 "\n"
	    "@weird x ssh-ed25519 " K1 "\n");
	assert_int_equal(ro_knownhosts_count(kh), 3);
	assert_int_equal(ro_knownhosts_skipped(kh), 6);
	/* A revoked key is refused even where it is listed as good. */
	assert_int_equal(check(kh, "a.example.com", 22, K2, &err),
	    RO_ECONFLICT);
	assert_true(tu_contains(err.msg, "@revoked"));
	assert_int_equal(check(kh, "b.example.com", 22, K1, &err), RO_OK);
	assert_int_equal(check(kh, "c.example.com", 22, K1, &err),
	    RO_ENOTFOUND);
	ro_knownhosts_free(kh);
}

static void
test_bad_key_blob_and_empty_set(void **state)
{
	struct ro_knownhosts	*kh;
	struct ro_err		 err = RO_ERR_INIT;
	unsigned char		 junk[3] = { 0, 0, 9 };

	(void)state;
	kh = parse("");
	assert_int_equal(ro_knownhosts_count(kh), 0);
	assert_int_equal(ro_knownhosts_check(kh, "h", 22, junk, sizeof(junk),
	    &err), RO_EINVALID);
	assert_int_equal(check(kh, "h", 22, K1, &err), RO_ENOTFOUND);
	ro_knownhosts_free(kh);
	/* A NULL set (no file) knows no host. */
	assert_int_equal(check(NULL, "h", 22, K1, &err), RO_ENOTFOUND);
}

static void
test_fingerprint_and_load(void **state)
{
	struct ro_knownhosts	*kh = NULL;
	struct ro_err		 err = RO_ERR_INIT;
	struct key		 k = decode(K3);
	char			 fp[64], *dir, *path;

	(void)state;
	ro_knownhosts_fingerprint(fp, sizeof(fp), k.b, k.n);
	assert_string_equal(fp,
	    "SHA256:0Z/cRCgIfk4P0LReISou6UIrb1CG/8tg7nKjXjsyJ1U");
	dir = tu_tmpdir();
	path = tu_path(dir, "known_hosts");
	assert_int_equal(ro_knownhosts_load(&kh, path, &err), RO_ENOTFOUND);
	tu_write(dir, "known_hosts", "h.example ecdsa-sha2-nistp256 " K3 "\n");
	assert_int_equal(ro_knownhosts_load(&kh, path, &err), RO_OK);
	assert_int_equal(check(kh, "h.example", 22, K3, &err), RO_OK);
	ro_knownhosts_free(kh);
	free(path);
	tu_rmrf(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_entries),
		cmocka_unit_test(test_hashed_entries),
		cmocka_unit_test(test_wildcards_and_negation),
		cmocka_unit_test(test_markers_and_junk),
		cmocka_unit_test(test_bad_key_blob_and_empty_set),
		cmocka_unit_test(test_fingerprint_and_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
