/*
 * test_agent_signed.c: --verify-signatures end to end, with real tools:
 * OpenPGP keys made by `gpg --batch --quick-gen-key`, SSH keys by
 * `ssh-keygen`, commits signed by `git commit -S` in both formats, the
 * real `roomops agent` against a roomserver-sim (agent_git_fx.h).
 *
 * Scenarios: a trusted signature applies (signer in the JSONL log and the
 * note); unsigned, untrusted, expired, revoked and corrupted signatures
 * are rejected with the room untouched; a signed commit after rejected
 * ones applies the whole difference; a force push to unsigned history is
 * rejected; more than max-pending commits with unsigned ones among them;
 * key rotation by SIGHUP; a webhook-triggered fetch; SSH signatures.
 *
 * The keys live in a private GNUPGHOME (never ~/.gnupg) that the agent
 * inherits in its environment: it must not use it (the untrusted key has
 * its secret there).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "agent_git_fx.h"

#define ROOM	"room-signed-01"
#define SKIP_RC	77
#define HOOK_SECRET	"hook-secret-for-signed-tests"

/* Keys shared by every test of the run (made once: key generation and
 * the agent's imports are the slow part). */
static struct {
	char	*dir;		/* private temp dir */
	char	*gnupg;		/* GNUPGHOME of the signers */
	char	*alice, *bob;	/* OpenPGP fingerprints: trusted, not */
	char	*carol, *dave;	/* expired, revoked */
	char	*alice_asc;	/* trusted keyring file: alice only */
	char	*both_asc;	/* alice and bob */
	char	*expired_asc;	/* alice and carol (expired) */
	char	*revoked_asc;	/* alice and dave (revoked) */
	char	*ssh_erin, *ssh_frank;	/* private key files */
	char	*signers;	/* allowed signers: erin only */
} K;

static char *
must_out(const char *what, char *s)
{
	size_t	n;

	if (s == NULL || s[0] == '\0')
		fail_msg("%s: no output", what);
	n = strlen(s);
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

static char *
gen_pgp(const char *name)
{
	if (gs_sh("gpg --batch --passphrase '' --quick-gen-key '%s <%s@example."
	    "com>' ed25519 sign 0 >/dev/null 2>&1", name, name) != 0)
		fail_msg("gpg --quick-gen-key %s failed", name);
	return must_out(name, gs_sh_out("gpg --list-keys --with-colons "
	    "'%s@example.com' | awk -F: '/^fpr/ { print $10; exit }'", name));
}

static int
group_setup(void **state)
{
	(void)state;
	if (gs_sh("command -v gpg && command -v ssh-keygen && command -v "
	    "gpg-agent") != 0) {
		fprintf(stderr, "SKIP: gpg, gpg-agent or ssh-keygen missing\n");
		exit(SKIP_RC);
	}
	K.dir = tu_tmpdir();
	K.gnupg = tu_path(K.dir, "gnupg");
	gs_sh("mkdir -m 700 '%s'", K.gnupg);
	setenv("GNUPGHOME", K.gnupg, 1);
	K.alice = gen_pgp("alice");
	K.bob = gen_pgp("bob");
	K.carol = gen_pgp("carol");
	K.dave = gen_pgp("dave");
	K.alice_asc = tu_path(K.dir, "alice.asc");
	K.both_asc = tu_path(K.dir, "both.asc");
	K.expired_asc = tu_path(K.dir, "expired.asc");
	K.revoked_asc = tu_path(K.dir, "revoked.asc");
	gs_sh("gpg --armor --export %s > '%s'", K.alice, K.alice_asc);
	gs_sh("gpg --armor --export %s %s > '%s'", K.alice, K.bob, K.both_asc);
	K.ssh_erin = tu_path(K.dir, "erin");
	K.ssh_frank = tu_path(K.dir, "frank");
	K.signers = tu_path(K.dir, "allowed_signers");
	if (gs_sh("ssh-keygen -q -t ed25519 -N '' -C erin -f '%s' && "
	    "ssh-keygen -q -t ed25519 -N '' -C frank -f '%s' && "
	    "printf '# team\\nerin@example.com %%s\\n' \"$(cat '%s.pub')\" "
	    "> '%s'", K.ssh_erin, K.ssh_frank, K.ssh_erin, K.signers) != 0)
		fail_msg("ssh-keygen failed");
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	gs_sh("gpgconf --homedir '%s' --kill all >/dev/null 2>&1", K.gnupg);
	tu_rmrf(K.dir);
	return 0;
}

/* The next commits of the work clone: signed with key (an OpenPGP
 * fingerprint or an SSH key file) in format, or unsigned (NULL). */
static void
sign_as(struct fx *f, const char *format, const char *key)
{
	if (key == NULL)
		gs_sh("cd '%s' && git config commit.gpgsign false", f->r.work);
	else if (gs_sh("cd '%s' && git config commit.gpgsign true && git "
	    "config gpg.format %s && git config user.signingkey '%s'",
	    f->r.work, format, key) != 0)
		fail_msg("git config failed");
}

static void
commit_name(struct fx *f, const char *name, const char *msg)
{
	fx_commit_spec(f, "room.yaml", ROOM, "s", name, msg);
}

static char *
head(struct fx *f)
{
	char	*s = strdup(gs_rev(&f->r, "HEAD"));

	assert_non_null(s);
	return s;
}

/* The one record of rev in the JSONL log with outcome: must exist. */
static void
want_record(struct fx *f, const char *rev, const char *outcome,
    const char *signer, const char *reason)
{
	cJSON		*arr = fx_jsonl(f->state, rev), *note;
	const cJSON	*rec = fx_find(arr, ROOM, outcome), *e;
	char		*errs;

	if (rec == NULL) {
		fx_print_records("records", arr);
		fail_msg("%.12s: no %s record of %s", rev, outcome, ROOM);
	}
	if (signer != NULL && !fx_str_is(rec, "signer", signer)) {
		fx_print_records("records", arr);
		fail_msg("%.12s: signer is not %s", rev, signer);
	}
	if (signer == NULL && cJSON_GetObjectItem(rec, "signer") != NULL)
		fail_msg("%.12s: a %s record with a signer", rev, outcome);
	if (reason != NULL) {
		e = cJSON_GetObjectItem(rec, "errors");
		errs = cJSON_PrintUnformatted(e);
		if (errs == NULL || strstr(errs, reason) == NULL)
			fail_msg("%.12s: errors %s, want \"%s\"", rev,
			    errs != NULL ? errs : "-", reason);
		free(errs);
	}
	/* the note carries the same records */
	note = fx_note(f->r.origin, rev);
	if (fx_find(note, ROOM, outcome) == NULL) {
		fx_print_records("note", note);
		fail_msg("%.12s: no %s record in the note", rev, outcome);
	}
	cJSON_Delete(note);
	cJSON_Delete(arr);
}

#define PGP(f)	"--verify-signatures", "openpgp", "--trusted-keys", (f), \
		"--push-notes"

/* A signed base commit, applied: the room is "Base". */
static char *
base(struct fx *f, const char *keys)
{
	char	*rev;

	sign_as(f, "openpgp", K.alice);
	commit_name(f, "Base", "base");
	gs_push(&f->r, false);
	rev = head(f);
	fx_once(f, 0, PGP(keys), NULL);
	fx_assert_name(f, ROOM, "E-s-lead", "Base");
	want_record(f, rev, "applied", K.alice, NULL);
	return rev;
}

static void
test_pgp_trusted_applies(void **state)
{
	struct fx	*f = *state;
	char		*rev = base(f, K.alice_asc), *log;

	/* the agent's keyring is its own, in the state dir */
	if (gs_sh("test -d '%s/gnupg'", f->state) != 0)
		fail_msg("no private keyring in the state dir");
	/* the signer is in `git log --notes=roomops` of a fresh clone */
	log = fx_clone_log(f, rev);
	if (strstr(log, K.alice) == NULL)
		fail_msg("the note does not name the signer:\n%s", log);
	free(log);
	/* and in `roomops audit` */
	log = gs_sh_out("'%s' audit --repo '%s' --rev %s", tu_env("RO_BIN",
	    "roomops"), f->r.origin, rev);
	if (strstr(log, "signed by: ") == NULL ||
	    strstr(log, K.alice) == NULL)
		fail_msg("roomops audit does not show the signer:\n%s", log);
	free(log);
	free(rev);
}

/* Unsigned, then a signed commit: the first is rejected (room as it
 * was), the second applies both changes. A second run adds nothing. */
static void
test_pgp_unsigned_then_signed(void **state)
{
	struct fx	*f = *state;
	char		*r0 = base(f, K.alice_asc), *r1, *r2;
	cJSON		*arr;
	long		 muts;

	sign_as(f, NULL, NULL);
	commit_name(f, "Unsigned", "unsigned change");
	gs_push(&f->r, false);
	r1 = head(f);
	muts = fx_mutations(f);
	fx_once(f, 2, PGP(K.alice_asc), NULL);
	fx_assert_name(f, ROOM, "E-s-lead", "Base");
	assert_int_equal(fx_mutations(f), muts);
	want_record(f, r1, "rejected", NULL, "signature: unsigned commit");
	/* checked again, still rejected, not recorded twice */
	fx_once(f, 2, PGP(K.alice_asc), NULL);
	arr = fx_jsonl(f->state, r1);
	assert_int_equal(fx_count(arr, ROOM, "rejected"), 1);
	cJSON_Delete(arr);

	/* a signed commit touching another file: the room gets the whole
	 * difference from the last applied commit (the unsigned name) */
	sign_as(f, "openpgp", K.alice);
	gs_commit_file(&f->r, "specs/README.txt", "notes\n", "docs");
	gs_push(&f->r, false);
	r2 = head(f);
	fx_once(f, 0, PGP(K.alice_asc), NULL);
	fx_assert_name(f, ROOM, "E-s-lead", "Unsigned");
	want_record(f, r2, "applied", K.alice, NULL);
	free(r0);
	free(r1);
	free(r2);
}

/* A commit signed with key and then rejected for reason. */
static void
rejected_by(struct fx *f, const char *keys, const char *key,
    const char *reason)
{
	char	*r0 = base(f, keys), *r1;

	sign_as(f, "openpgp", key);
	commit_name(f, "Changed", "change");
	gs_push(&f->r, false);
	r1 = head(f);
	fx_once(f, 2, PGP(keys), NULL);
	fx_assert_name(f, ROOM, "E-s-lead", "Base");
	want_record(f, r1, "rejected", NULL, reason);
	free(r0);
	free(r1);
}

static void
test_pgp_untrusted(void **state)
{
	rejected_by(*state, K.alice_asc, K.bob, "signed by an unknown key");
}

static void
test_pgp_expired(void **state)
{
	struct fx	*f = *state;
	char		*r0, *r1;

	/* carol signs while her key is valid, then it expires */
	gs_sh("gpg --armor --export %s %s > '%s'", K.alice, K.carol,
	    K.expired_asc);
	r0 = base(f, K.expired_asc);
	sign_as(f, "openpgp", K.carol);
	commit_name(f, "Changed", "change");
	gs_push(&f->r, false);
	r1 = head(f);
	if (gs_sh("gpg --batch --passphrase '' --pinentry-mode loopback "
	    "--quick-set-expire %s seconds=1 >/dev/null 2>&1", K.carol) != 0)
		fail_msg("gpg --quick-set-expire failed");
	fx_nap(2100);
	gs_sh("gpg --armor --export %s %s > '%s'", K.alice, K.carol,
	    K.expired_asc);
	fx_once(f, 2, PGP(K.expired_asc), NULL);
	fx_assert_name(f, ROOM, "E-s-lead", "Base");
	want_record(f, r1, "rejected", NULL, "expired key");
	free(r0);
	free(r1);
}

static void
test_pgp_revoked(void **state)
{
	struct fx	*f = *state;
	char		*r0, *r1;

	gs_sh("gpg --armor --export %s %s > '%s'", K.alice, K.dave,
	    K.revoked_asc);
	r0 = base(f, K.revoked_asc);
	sign_as(f, "openpgp", K.dave);
	commit_name(f, "Changed", "change");
	gs_push(&f->r, false);
	r1 = head(f);
	/* the revocation certificate gpg made with the key */
	if (gs_sh("sed 's/^:-----/-----/' '%s/openpgp-revocs.d/%s.rev' | "
	    "gpg --batch --import >/dev/null 2>&1 && gpg --armor --export %s "
	    "%s > '%s'", K.gnupg, K.dave, K.alice, K.dave, K.revoked_asc) != 0)
		fail_msg("revoking dave's key failed");
	fx_once(f, 2, PGP(K.revoked_asc), NULL);
	fx_assert_name(f, ROOM, "E-s-lead", "Base");
	want_record(f, r1, "rejected", NULL, "revoked key");
	free(r0);
	free(r1);
}

/* A signed commit whose signature header was altered (one character of
 * the signature, the commit otherwise the same). */
static void
test_pgp_corrupted(void **state)
{
	struct fx	*f = *state;
	char		*r0 = base(f, K.alice_asc), *bad;

	sign_as(f, "openpgp", K.alice);
	commit_name(f, "Changed", "change");
	bad = must_out("corrupt", gs_sh_out("cd '%s' && git cat-file commit "
	    "HEAD | awk '/^ -----END PGP/ { n = 0 } n == 2 { $0 = \" \" "
	    "(substr($0, 2, 1) == \"A\" ? \"B\" : \"A\") substr($0, 3) } "
	    "n > 0 { n++ } /^gpgsig -----BEGIN/ { n = 1 } { print }' | "
	    "git hash-object -t commit -w --stdin", f->r.work));
	gs_reset(&f->r, bad);
	gs_push(&f->r, false);
	fx_once(f, 2, PGP(K.alice_asc), NULL);
	fx_assert_name(f, ROOM, "E-s-lead", "Base");
	want_record(f, bad, "rejected", NULL, "signature: ");
	free(bad);
	free(r0);
}

/* History rewritten to an unsigned commit: rejected, no history-
 * rewritten record yet, the room as it was. */
static void
test_force_push_unsigned(void **state)
{
	struct fx	*f = *state;
	char		*r0 = base(f, K.alice_asc), *r1;
	cJSON		*arr;

	sign_as(f, NULL, NULL);
	gs_sh("cd '%s' && git commit -q --amend -m 'rewritten'", f->r.work);
	commit_name(f, "Forced", "forced");
	gs_push(&f->r, true);
	r1 = head(f);
	fx_once(f, 2, PGP(K.alice_asc), NULL);
	fx_assert_name(f, ROOM, "E-s-lead", "Base");
	want_record(f, r1, "rejected", NULL, "unsigned commit");
	arr = fx_jsonl(f->state, r1);
	assert_null(fx_find(arr, NULL, "history-rewritten"));
	cJSON_Delete(arr);
	free(r0);
	free(r1);
}

/* More than max-pending commits: the newest verified one is applied,
 * verified ones before it superseded, the unsigned ones rejected. */
static void
test_pending_mixed(void **state)
{
	struct fx	*f = *state;
	char		*r0 = base(f, K.alice_asc), *r[4];
	int		 i;

	for (i = 0; i < 4; i++) {
		char	name[32];

		sign_as(f, "openpgp", i % 2 == 0 ? K.alice : NULL);
		if (i % 2 != 0)
			sign_as(f, NULL, NULL);
		snprintf(name, sizeof(name), "Step %d", i);
		commit_name(f, name, name);
		r[i] = head(f);
	}
	gs_push(&f->r, false);
	fx_once(f, 2, PGP(K.alice_asc), "--max-pending", "2", NULL);
	fx_assert_name(f, ROOM, "E-s-lead", "Step 2");
	want_record(f, r[0], "superseded", NULL, NULL);
	want_record(f, r[1], "rejected", NULL, "unsigned commit");
	want_record(f, r[2], "applied", K.alice, NULL);
	want_record(f, r[3], "rejected", NULL, "unsigned commit");
	for (i = 0; i < 4; i++)
		free(r[i]);
	free(r0);
}

static bool
wait_name(struct fx *f, const char *want, int ms)
{
	long long	 end = fx_now_ms() + ms;
	char		*got;
	bool		 ok;

	do {
		got = fx_entity_name(f, ROOM, "E-s-lead");
		ok = got != NULL && strcmp(got, want) == 0;
		free(got);
		if (ok)
			return true;
		fx_nap(50);
	} while (fx_now_ms() < end);
	return false;
}

static bool
wait_record(struct fx *f, const char *rev, const char *outcome, int ms)
{
	long long	 end = fx_now_ms() + ms;
	cJSON		*arr;
	bool		 ok;

	do {
		arr = fx_jsonl(f->state, rev);
		ok = fx_find(arr, ROOM, outcome) != NULL;
		cJSON_Delete(arr);
		if (ok)
			return true;
		fx_nap(50);
	} while (fx_now_ms() < end);
	return false;
}

/* A daemon's record of rev with outcome, in the JSONL log and in the
 * origin's note (pushed at the end of the pass, after the room changed):
 * bounded wait. */
static bool
wait_both(struct fx *f, const char *rev, const char *outcome, int ms)
{
	long long	 end = fx_now_ms() + ms;
	cJSON		*arr, *note;
	bool		 ok;

	do {
		arr = fx_jsonl(f->state, rev);
		note = fx_note(f->r.origin, rev);
		ok = fx_find(arr, ROOM, outcome) != NULL &&
		    fx_find(note, ROOM, outcome) != NULL;
		cJSON_Delete(arr);
		cJSON_Delete(note);
		if (ok)
			return true;
		fx_nap(50);
	} while (fx_now_ms() < end);
	return false;
}

/* Bob's commit is rejected until his key is trusted; SIGHUP reads the
 * keys again and the pending commit is applied. */
static void
test_key_rotation_sighup(void **state)
{
	struct fx	*f = *state;
	struct agent	 a;
	char		*keys = tu_path(f->r.root, "trusted.asc");
	char		*r0, *r1;

	gs_sh("cp '%s' '%s'", K.alice_asc, keys);
	r0 = base(f, keys);
	sign_as(f, "openpgp", K.bob);
	commit_name(f, "Bob", "bob's change");
	gs_push(&f->r, false);
	r1 = head(f);
	fx_daemon(f, NULL, &a, PGP(keys), "--interval", "100ms", NULL);
	if (!wait_record(f, r1, "rejected", FX_WAIT_MS))
		fail_msg("bob's commit was not rejected");
	fx_assert_name(f, ROOM, "E-s-lead", "Base");
	gs_sh("cp '%s' '%s'", K.both_asc, keys);
	kill(a.pid, SIGHUP);
	if (!wait_name(f, "Bob", FX_WAIT_MS) ||
	    !wait_both(f, r1, "applied", FX_WAIT_MS)) {
		fx_dump("agent log", a.log);
		fail_msg("bob's commit not applied after SIGHUP");
	}
	want_record(f, r1, "applied", K.bob, NULL);
	kill(a.pid, SIGTERM);
	assert_int_equal(fx_wait(&a, FX_WAIT_MS), 0);
	fx_agent_release(&a);
	free(keys);
	free(r0);
	free(r1);
}

static long
hook(const struct agent *a)
{
	CURL			*h = curl_easy_init();
	struct curl_slist	*hd = NULL;
	char			 url[128];
	long			 status = 0;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/hooks/generic",
	    a->port);
	hd = curl_slist_append(hd, "Authorization: Bearer " HOOK_SECRET);
	hd = curl_slist_append(hd, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, "{}");
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hd);
	curl_easy_cleanup(h);
	return status;
}

/* No polling: a webhook triggers the fetch, through the same check. */
static void
test_webhook_checked(void **state)
{
	struct fx	*f = *state;
	struct agent	 a;
	char		*secret = tu_path(f->r.root, "hook.secret");
	char		*r0, *r1, *r2;

	tu_write(f->r.root, "hook.secret", HOOK_SECRET "\n");
	r0 = base(f, K.alice_asc);
	fx_daemon(f, NULL, &a, PGP(K.alice_asc), "--interval", "0",
	    "--webhook-secret-file", secret, NULL);
	sign_as(f, NULL, NULL);
	commit_name(f, "Hooked", "unsigned via hook");
	gs_push(&f->r, false);
	r1 = head(f);
	assert_true(hook(&a) / 100 == 2);
	if (!wait_record(f, r1, "rejected", FX_WAIT_MS)) {
		fx_dump("agent log", a.log);
		fail_msg("the hooked unsigned commit was not rejected");
	}
	fx_assert_name(f, ROOM, "E-s-lead", "Base");
	sign_as(f, "openpgp", K.alice);
	commit_name(f, "Hooked signed", "signed via hook");
	gs_push(&f->r, false);
	r2 = head(f);
	assert_true(hook(&a) / 100 == 2);
	if (!wait_name(f, "Hooked signed", FX_WAIT_MS) ||
	    !wait_both(f, r2, "applied", FX_WAIT_MS))
		fail_msg("the hooked signed commit was not applied");
	want_record(f, r2, "applied", K.alice, NULL);
	kill(a.pid, SIGTERM);
	assert_int_equal(fx_wait(&a, FX_WAIT_MS), 0);
	fx_agent_release(&a);
	free(secret);
	free(r0);
	free(r1);
	free(r2);
}

#define SSH(f)	"--verify-signatures", "ssh", "--trusted-keys", (f), \
		"--push-notes"

/* SSH: erin (allowed) applies with her principal; frank (not allowed)
 * and an unsigned commit are rejected; an OpenPGP signature is not
 * accepted when only SSH is trusted. */
static void
test_ssh(void **state)
{
	struct fx	*f = *state;
	char		*r0, *r1, *r2;

	sign_as(f, "ssh", K.ssh_erin);
	commit_name(f, "Erin", "erin");
	gs_push(&f->r, false);
	r0 = head(f);
	fx_once(f, 0, SSH(K.signers), NULL);
	fx_assert_name(f, ROOM, "E-s-lead", "Erin");
	want_record(f, r0, "applied", "erin@example.com", NULL);

	sign_as(f, "ssh", K.ssh_frank);
	commit_name(f, "Frank", "frank");
	gs_push(&f->r, false);
	r1 = head(f);
	fx_once(f, 2, SSH(K.signers), NULL);
	fx_assert_name(f, ROOM, "E-s-lead", "Erin");
	want_record(f, r1, "rejected", NULL, "unknown SSH key SHA256:");

	sign_as(f, "openpgp", K.alice);
	commit_name(f, "Alice", "alice");
	gs_push(&f->r, false);
	r2 = head(f);
	fx_once(f, 2, SSH(K.signers), NULL);
	fx_assert_name(f, ROOM, "E-s-lead", "Erin");
	want_record(f, r2, "rejected", NULL, "OpenPGP signature");

	/* erin's signature altered (checked natively: Ed25519) */
	sign_as(f, "ssh", K.ssh_erin);
	commit_name(f, "Tampered", "tampered");
	free(r2);
	r2 = must_out("tamper", gs_sh_out("cd '%s' && git cat-file commit "
	    "HEAD | awk '/^ -----END SSH/ { n = 0 } n == 4 { $0 = \" \" "
	    "(substr($0, 2, 1) == \"A\" ? \"B\" : \"A\") substr($0, 3) } "
	    "n > 0 { n++ } /^gpgsig -----BEGIN SSH/ { n = 1 } { print }' | "
	    "git hash-object -t commit -w --stdin", f->r.work));
	gs_reset(&f->r, r2);
	gs_push(&f->r, true);
	fx_once(f, 2, SSH(K.signers), NULL);
	fx_assert_name(f, ROOM, "E-s-lead", "Erin");
	want_record(f, r2, "rejected", NULL, "signature: ");
	free(r0);
	free(r1);
	free(r2);
}

/* valid-before in the future applies, in the past (an expired key) is
 * rejected; a wildcard principal goes through ssh-keygen (find-principals,
 * then -Y verify), as git does. */
static void
test_ssh_keygen_options(void **state)
{
	struct fx	*f = *state;
	char		*ok = tu_path(f->r.root, "ok_signers");
	char		*old = tu_path(f->r.root, "old_signers");
	char		*r0, *r1;

	gs_sh("printf 'erin@example.com valid-before=\"20991231\" %%s\\n' "
	    "\"$(cat '%s.pub')\" > '%s'", K.ssh_erin, ok);
	gs_sh("printf 'erin@example.com valid-before=\"20200101\" %%s\\n' "
	    "\"$(cat '%s.pub')\" > '%s'", K.ssh_erin, old);
	sign_as(f, "ssh", K.ssh_erin);
	commit_name(f, "Erin", "erin");
	gs_push(&f->r, false);
	r0 = head(f);
	fx_once(f, 0, SSH(ok), NULL);
	fx_assert_name(f, ROOM, "E-s-lead", "Erin");
	want_record(f, r0, "applied", "erin@example.com", NULL);
	commit_name(f, "Erin again", "erin again");
	gs_push(&f->r, false);
	r1 = head(f);
	fx_once(f, 2, SSH(old), NULL);
	fx_assert_name(f, ROOM, "E-s-lead", "Erin");
	want_record(f, r1, "rejected", NULL, "expired (valid-before)");
	gs_sh("printf '*@example.com %%s\\n' \"$(cat '%s.pub')\" > '%s'",
	    K.ssh_erin, ok);
	fx_once(f, 0, SSH(ok), NULL);
	fx_assert_name(f, ROOM, "E-s-lead", "Erin again");
	want_record(f, r1, "applied", "*@example.com", NULL);
	free(ok);
	free(old);
	free(r0);
	free(r1);
}

/* any: a folder of OpenPGP keys with an allowed_signers file; both
 * formats apply, each naming its signer; an unknown key is rejected. */
static void
test_any(void **state)
{
	struct fx	*f = *state;
	char		*dir = tu_path(f->r.root, "trusted"), *r0, *r1, *r2;

	gs_sh("mkdir -p '%s' && cp '%s' '%s/alice.asc' && cp '%s' "
	    "'%s/allowed_signers'", dir, K.alice_asc, dir, K.signers, dir);
	sign_as(f, "openpgp", K.alice);
	commit_name(f, "Alice", "alice");
	gs_push(&f->r, false);
	r0 = head(f);
	fx_once(f, 0, "--verify-signatures", "any", "--trusted-keys", dir,
	    "--push-notes", NULL);
	want_record(f, r0, "applied", K.alice, NULL);
	sign_as(f, "ssh", K.ssh_erin);
	commit_name(f, "Erin", "erin");
	gs_push(&f->r, false);
	r1 = head(f);
	fx_once(f, 0, "--verify-signatures", "any", "--trusted-keys", dir,
	    "--push-notes", NULL);
	fx_assert_name(f, ROOM, "E-s-lead", "Erin");
	want_record(f, r1, "applied", "erin@example.com", NULL);
	sign_as(f, "openpgp", K.bob);
	commit_name(f, "Bob", "bob");
	gs_push(&f->r, false);
	r2 = head(f);
	fx_once(f, 2, "--verify-signatures", "any", "--trusted-keys", dir,
	    "--push-notes", NULL);
	fx_assert_name(f, ROOM, "E-s-lead", "Erin");
	want_record(f, r2, "rejected", NULL, "unknown key");
	free(dir);
	free(r0);
	free(r1);
	free(r2);
}

/* A bad trusted-keys file is a start-up error, not a silent "trust
 * nothing". */
static void
test_bad_keys_startup(void **state)
{
	struct fx	*f = *state;
	char		*junk = tu_path(f->r.root, "junk.asc"), *log;

	tu_write(f->r.root, "junk.asc", "not a key\n");
	sign_as(f, "openpgp", K.alice);
	commit_name(f, "Base", "base");
	gs_push(&f->r, false);
	fx_once_in(f, NULL, 2, &log, PGP(junk), NULL);
	if (!fx_file_has(log, "junk.asc"))
		fail_msg("the start-up error does not name the key file");
	fx_once(f, 2, SSH(junk), NULL);
	unlink(log);
	free(log);
	/* a secret key is refused: trusted keys are public keys */
	gs_sh("gpg --batch --pinentry-mode loopback --passphrase '' --armor "
	    "--export-secret-keys %s > '%s'", K.alice, junk);
	fx_once_in(f, NULL, 2, &log, PGP(junk), NULL);
	if (!fx_file_has(log, "holds a secret key"))
		fail_msg("a secret key file was not refused");
	unlink(log);
	free(log);
	free(junk);
}

int
main(void)
{
#define T(t)	cmocka_unit_test_setup_teardown(t, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_pgp_trusted_applies),
		T(test_pgp_unsigned_then_signed),
		T(test_pgp_untrusted),
		T(test_pgp_expired),
		T(test_pgp_revoked),
		T(test_pgp_corrupted),
		T(test_force_push_unsigned),
		T(test_pending_mixed),
		T(test_key_rotation_sighup),
		T(test_webhook_checked),
		T(test_ssh),
		T(test_ssh_keygen_options),
		T(test_any),
		T(test_bad_keys_startup),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
