/*
 * test_audit_cli.c: `roomops audit` filters the same way over the notes
 * of a real Git repository (--repo) and over a JSON-lines log
 * (--audit-log): --room is an exact roomId (room-abcdef-1 is not
 * room-abcdef-10), --rev is a revision or a unique abbreviation of one,
 * and an ambiguous abbreviation is an error that names both revisions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "gitserv.h"
#include "testutil.h"

struct fx {
	struct gs_repo	 r;
	char		*log;		/* the same records as a JSONL file */
	char		 rev[3][41];	/* three commits */
};

/* Three commits, each noted with records of room-abcdef-1 and
 * room-abcdef-10 (the second commit also room-abcdef-11). */
static int
setup(void **state)
{
	struct fx	*f = calloc(1, sizeof(*f));
	FILE		*fp;
	char		 rec[512];
	const char	*rooms[] = { "room-abcdef-1", "room-abcdef-10",
	    "room-abcdef-11" };
	int		 c, i, n;

	gs_repo_init(&f->r, "main");
	f->log = tu_path(f->r.root, "audit.jsonl");
	fp = fopen(f->log, "w");
	assert_non_null(fp);
	for (c = 0; c < 3; c++) {
		char name[32];

		snprintf(name, sizeof(name), "f%d.txt", c);
		gs_commit_file(&f->r, name, name, "commit");
		snprintf(f->rev[c], sizeof(f->rev[c]), "%s",
		    gs_rev(&f->r, "HEAD"));
		n = c == 1 ? 3 : 2;
		for (i = 0; i < n; i++) {
			snprintf(rec, sizeof(rec), "{\"ts\":\"2026-12-04T0%d:00:"
			    "0%d.000Z\",\"room\":\"%s\",\"rev\":\"%s\","
			    "\"source\":\"git\",\"outcome\":\"applied\"}", c, i,
			    rooms[i], f->rev[c]);
			assert_int_equal(gs_sh("git -C '%s' notes --ref=roomops "
			    "append -m '%s' %s", f->r.work, rec, f->rev[c]), 0);
			fprintf(fp, "%s\n", rec);
		}
	}
	assert_int_equal(fclose(fp), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*f = *state;

	free(f->log);
	gs_repo_free(&f->r);
	free(f);
	return 0;
}

/* Run `roomops audit SOURCE ARGS --output json`; the entries' count, or
 * -1 when it failed (its stderr is in *errout when asked). */
static int
audit(const char *source, const char *args, char **errout)
{
	char	*out, *err_path = NULL, *err;
	cJSON	*doc;
	int	 n = -1;

	err_path = tu_path(tu_env("TMPDIR", "/tmp"), "ro-audit-cli.err");
	out = gs_sh_out("'%s' audit %s %s --output json 2>'%s'",
	    tu_env("RO_BIN", "build/roomops"), source, args, err_path);
	if ((doc = cJSON_Parse(out)) != NULL)
		n = cJSON_GetArraySize(cJSON_GetObjectItem(doc, "entries"));
	cJSON_Delete(doc);
	if (errout != NULL) {
		err = gs_sh_out("cat '%s'", err_path);
		*errout = err;
	}
	unlink(err_path);
	free(err_path);
	free(out);
	return n;
}

static void
both(struct fx *f, const char *args, int want)
{
	char	src[1024];

	snprintf(src, sizeof(src), "--repo '%s'", f->r.work);
	if (audit(src, args, NULL) != want)
		fail_msg("audit --repo %s: want %d records", args, want);
	snprintf(src, sizeof(src), "--audit-log '%s'", f->log);
	if (audit(src, args, NULL) != want)
		fail_msg("audit --audit-log %s: want %d records", args, want);
}

static void
test_exact_room(void **state)
{
	struct fx	*f = *state;

	both(f, "", 7);
	both(f, "--room room-abcdef-1", 3);	/* not -10, not -11 */
	both(f, "--room room-abcdef-10", 3);
	both(f, "--room room-abcdef-11", 1);
	both(f, "--room room-abcdef", 0);
}

static void
test_short_rev(void **state)
{
	struct fx	*f = *state;
	char		 args[128];
	size_t		 len;

	snprintf(args, sizeof(args), "--rev %s", f->rev[1]);
	both(f, args, 3);
	/* the shortest abbreviation that is unique among the three */
	for (len = 4; len < 40; len++) {
		if (strncmp(f->rev[1], f->rev[0], len) != 0 &&
		    strncmp(f->rev[1], f->rev[2], len) != 0)
			break;
	}
	snprintf(args, sizeof(args), "--rev %.*s", (int)len, f->rev[1]);
	both(f, args, 3);
	snprintf(args, sizeof(args), "--rev %.*s --room room-abcdef-11",
	    (int)len, f->rev[1]);
	both(f, args, 1);
	both(f, "--rev api", 0);
}

/*
 * A record of a revision that shares rev[0]'s first six digits (in the
 * log, and in the note of the first commit): a six-digit abbreviation
 * then names two revisions and is refused by both readers; seven digits
 * name one.
 */
static void
test_ambiguous_rev(void **state)
{
	struct fx	*f = *state;
	char		 src[1024], args[128], rec[512], other[41], *err;
	FILE		*fp;
	int		 k;

	snprintf(other, sizeof(other), "%.6s%s", f->rev[0],
	    "0000000000000000000000000000000000");
	other[6] = f->rev[0][6] == '0' ? '1' : '0';
	snprintf(rec, sizeof(rec), "{\"ts\":\"2026-12-04T09:00:00.000Z\","
	    "\"room\":\"room-abcdef-1\",\"rev\":\"%s\",\"outcome\":"
	    "\"applied\"}", other);
	assert_non_null(fp = fopen(f->log, "a"));
	fprintf(fp, "%s\n", rec);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(gs_sh("git -C '%s' notes --ref=roomops append -m '%s' "
	    "%s", f->r.work, rec, f->rev[0]), 0);
	for (k = 0; k < 2; k++) {
		if (k == 0)
			snprintf(src, sizeof(src), "--repo '%s'", f->r.work);
		else
			snprintf(src, sizeof(src), "--audit-log '%s'", f->log);
		snprintf(args, sizeof(args), "--rev %.6s", f->rev[0]);
		err = NULL;
		assert_int_equal(audit(src, args, &err), -1);
		if (err == NULL || !tu_contains(err, "ambiguous"))
			fail_msg("%s %s: no ambiguity error: %s", src, args,
			    err != NULL ? err : "(none)");
		free(err);
		snprintf(args, sizeof(args), "--rev %.7s", f->rev[0]);
		assert_int_equal(audit(src, args, NULL), 2);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exact_room, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_short_rev, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ambiguous_rev, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
