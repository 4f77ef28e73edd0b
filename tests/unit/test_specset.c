/*
 * test_specset.c: loading every spec under files and folders: walk order,
 * hidden entries, broken files among good ones, duplicate roomIds across
 * files, seed roots, links, limits.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roomops/specset.h"
#include "testutil.h"

static char *
doc(const char *room, const char *extra)
{
	char	*s;

	assert_true(asprintf(&s, "metadata: {version: 1}\n"
	    "spec:\n"
	    "  roomId: %s\n"
	    "  policies: {dmVisibilityDefault: team}\n"
	    "%s", room, extra != NULL ? extra : "") > 0);
	return s;
}

static void
put(const char *dir, const char *name, const char *room, const char *extra)
{
	char	*s = doc(room, extra);

	tu_write(dir, name, s);
	free(s);
}

static char *
joined(const struct ro_strv *sv)
{
	char	*s = ro_strv_join(sv, "\n");

	assert_non_null(s);
	return s;
}

static struct ro_specset *
load(char *const *paths, size_t n, bool seeds, bool keep)
{
	struct ro_specset	*set = NULL;
	struct ro_err		 err = RO_ERR_INIT;
	int			 rc;

	rc = ro_specset_load(&set, paths, n, seeds, keep, &err);
	if (rc != RO_OK)
		fprintf(stderr, "ro_specset_load: %s\n", err.msg);
	assert_int_equal(rc, RO_OK);
	assert_non_null(set);
	return set;
}

/* One broken file among good ones: the good ones still load. */
static void
test_broken_among_good(void **state)
{
	struct ro_specset	*set;
	char			*dir = tu_tmpdir(), *errors, *bad;
	char			*want;

	(void)state;
	put(dir, "c.yml", "room-cccccc", NULL);
	put(dir, "a.yaml", "room-aaaaaa", NULL);
	put(dir, "b.yaml", "room-bbbbbb",
	    "  entities:\n    - id: E-a1\n      kind: robot\n");
	put(dir, "sub/deeper/d.yaml", "room-dddddd", NULL);
	put(dir, ".git/x.yaml", "bad-room", NULL);
	put(dir, ".hidden.yaml", "bad-room", NULL);
	put(dir, "sub/.hidden/e.yaml", "bad-room", NULL);
	tu_write(dir, "notes.txt", "not yaml: [");
	tu_write(dir, "README.md", "# readme");

	set = load(&dir, 1, false, false);
	assert_int_equal(set->n, 3);
	/* byte order of names: a.yaml, b.yaml, c.yml, sub/ */
	assert_string_equal(set->specs[0]->room_id, "room-aaaaaa");
	assert_string_equal(set->specs[1]->room_id, "room-cccccc");
	assert_string_equal(set->specs[2]->room_id, "room-dddddd");
	assert_int_equal(set->bad_files.n, 1);
	assert_true(asprintf(&bad, "%s/b.yaml", dir) > 0);
	assert_string_equal(set->bad_files.v[0], bad);
	assert_int_equal(set->bad_rooms.n, 0);
	errors = joined(&set->diag.errors);
	assert_true(asprintf(&want, "%s:7:7: spec.entities[0].kind: invalid "
	    "entity kind \"robot\"", bad) > 0);
	assert_true(tu_contains(errors, want));
	assert_int_equal(set->diag.errors.n, 1);
	assert_ptr_equal(ro_specset_find(set, "room-cccccc"), set->specs[1]);
	assert_null(ro_specset_find(set, "room-bbbbbb"));
	ro_specset_free(set);
	free(errors);
	free(want);
	free(bad);
	tu_rmrf(dir);
	free(dir);
}

/* Two files, one roomId: both are errors and both are left out. */
static void
test_duplicate_room_ids(void **state)
{
	struct ro_specset	*set;
	char			*dir = tu_tmpdir(), *errors, *x, *y, *want;

	(void)state;
	put(dir, "x.yaml", "room-dupdup", NULL);
	put(dir, "nested/y.yaml", "room-dupdup", NULL);
	put(dir, "z.yaml", "room-zzzzzz", NULL);
	set = load(&dir, 1, false, false);
	assert_int_equal(set->n, 1);
	assert_string_equal(set->specs[0]->room_id, "room-zzzzzz");
	assert_null(ro_specset_find(set, "room-dupdup"));
	assert_int_equal(set->bad_rooms.n, 1);
	assert_string_equal(set->bad_rooms.v[0], "room-dupdup");
	assert_int_equal(set->bad_files.n, 2);
	x = tu_path(dir, "x.yaml");
	y = tu_path(dir, "nested/y.yaml");
	assert_true(ro_strv_contains(&set->bad_files, x));
	assert_true(ro_strv_contains(&set->bad_files, y));
	errors = joined(&set->diag.errors);
	assert_int_equal(set->diag.errors.n, 2);
	assert_true(asprintf(&want, "%s: spec.roomId: roomId \"room-dupdup\" "
	    "is also declared in %s; both files are left out", x, y) > 0);
	assert_true(tu_contains(errors, want));
	free(want);
	assert_true(asprintf(&want, "%s: spec.roomId: roomId \"room-dupdup\" "
	    "is also declared in %s", y, x) > 0);
	assert_true(tu_contains(errors, want));
	free(want);
	ro_specset_free(set);
	free(errors);
	free(x);
	free(y);
	tu_rmrf(dir);
	free(dir);
}

/* Seeds are read relative to the spec's folder, rooted at the argument. */
static void
test_seeds_from_folder_root(void **state)
{
	struct ro_specset	*set;
	char			*dir = tu_tmpdir();
	const char		*seeded = "  artifacts:\n"
				    "    - name: test-artifact\n"
				    "      type: document\n"
				    "      workspace: shared\n"
				    "      tags: [tag1, tag2]\n"
				    "      seedFrom: ../seeds/plan.md\n";

	(void)state;
	put(dir, "specs/lab.yaml", "room-lablab", seeded);
	tu_write(dir, "seeds/plan.md", "test content");

	set = load(&dir, 1, true, false);
	assert_int_equal(set->n, 1);
	assert_int_equal(set->specs[0]->artifacts[0].seed, RO_SEED_OK);
	assert_string_equal(set->specs[0]->artifacts[0].fingerprint,
	    "9a0a3c3661175e6a9e486b9fa0e94482fc9c1d4d5083cd6b2232f58b9709b22f");
	assert_null(set->specs[0]->artifacts[0].content);	/* dropped */
	ro_specset_free(set);

	set = load(&dir, 1, true, true);
	assert_int_equal(set->specs[0]->artifacts[0].content_len, 12);
	ro_specset_free(set);

	/* without resolve_seeds nothing is read */
	set = load(&dir, 1, false, false);
	assert_int_equal(set->specs[0]->artifacts[0].seed, RO_SEED_UNRESOLVED);
	ro_specset_free(set);
	tu_rmrf(dir);
	free(dir);
}

/* A file argument: its folder is the root, so ../ leaves it. */
static void
test_file_argument_root(void **state)
{
	struct ro_specset	*set;
	char			*dir = tu_tmpdir(), *file, *errors, *want;

	(void)state;
	put(dir, "specs/lab.yaml", "room-lablab", "  artifacts:\n"
	    "    - name: a\n      type: t\n      workspace: w\n"
	    "      seedFrom: ../seeds/plan.md\n");
	put(dir, "specs/ok.yaml", "room-okokok", "  artifacts:\n"
	    "    - name: a\n      type: t\n      workspace: w\n"
	    "      seedFrom: plan.md\n");
	tu_write(dir, "seeds/plan.md", "x");
	tu_write(dir, "specs/plan.md", "y");

	file = tu_path(dir, "specs/lab.yaml");
	set = load(&file, 1, true, false);
	assert_int_equal(set->n, 0);
	assert_int_equal(set->bad_files.n, 1);
	errors = joined(&set->diag.errors);
	assert_true(asprintf(&want, "%s:9:7: spec.artifacts[0].seedFrom: "
	    "\"../seeds/plan.md\" leaves the source root", file) > 0);
	assert_true(tu_contains(errors, want));
	ro_specset_free(set);
	free(errors);
	free(want);
	free(file);

	file = tu_path(dir, "specs/ok.yaml");
	set = load(&file, 1, true, true);
	assert_int_equal(set->n, 1);
	assert_memory_equal(set->specs[0]->artifacts[0].content, "y", 1);
	ro_specset_free(set);
	free(file);
	tu_rmrf(dir);
	free(dir);
}

/* A hostile seedFrom makes its file bad; a missing seed does not. */
static void
test_seed_problems(void **state)
{
	struct ro_specset	*set;
	char			*dir = tu_tmpdir(), *errors;

	(void)state;
	put(dir, "evil.yaml", "room-evilev", "  artifacts:\n"
	    "    - name: a\n      type: t\n      workspace: w\n"
	    "      seedFrom: ../../etc/passwd\n");
	put(dir, "gone.yaml", "room-gonego", "  artifacts:\n"
	    "    - name: a\n      type: t\n      workspace: w\n"
	    "      seedFrom: seeds/gone.md\n");
	set = load(&dir, 1, true, false);
	assert_int_equal(set->n, 1);
	assert_string_equal(set->specs[0]->room_id, "room-gonego");
	assert_int_equal(set->specs[0]->artifacts[0].seed, RO_SEED_MISSING);
	assert_string_equal(set->specs[0]->artifacts[0].seed_reason,
	    "seed file seeds/gone.md not found");
	assert_int_equal(set->bad_files.n, 1);
	assert_true(tu_contains(set->bad_files.v[0], "evil.yaml"));
	errors = joined(&set->diag.errors);
	assert_true(tu_contains(errors, "evil.yaml:9:7: spec.artifacts[0]."
	    "seedFrom: \"../../etc/passwd\" leaves the source root"));
	free(errors);
	ro_specset_free(set);
	tu_rmrf(dir);
	free(dir);
}

static void
test_not_found(void **state)
{
	struct ro_specset	*set = NULL;
	struct ro_err		 err = RO_ERR_INIT;
	char			*dir = tu_tmpdir(), *paths[2];

	(void)state;
	paths[0] = dir;
	paths[1] = tu_path(dir, "missing");
	assert_int_equal(ro_specset_load(&set, paths, 2, false, false, &err),
	    RO_ENOTFOUND);
	assert_null(set);
	assert_true(tu_contains(err.msg, paths[1]));
	free(paths[1]);
	tu_rmrf(dir);
	free(dir);
}

static void
test_empty_folder(void **state)
{
	struct ro_specset	*set;
	char			*dir = tu_tmpdir();

	(void)state;
	set = load(&dir, 1, true, false);
	assert_int_equal(set->n, 0);
	assert_int_equal(set->bad_files.n, 0);
	ro_specset_free(set);
	tu_rmrf(dir);
	free(dir);
}

/* Links to spec files: followed inside the root, skipped when leaving. */
static void
test_linked_specs(void **state)
{
	struct ro_specset	*set;
	char			*dir = tu_tmpdir(), *outside = tu_tmpdir();
	char			*target, *link, *inlink, *warnings;

	(void)state;
	put(outside, "o.yaml", "room-outside", NULL);
	put(dir, "real/a.yaml", "room-aaaaaa", NULL);
	target = tu_path(outside, "o.yaml");
	link = tu_path(dir, "out.yaml");
	inlink = tu_path(dir, "in.yaml");
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(symlink("real/a.yaml", inlink), 0);
	set = load(&dir, 1, false, false);
	/* in.yaml and real/a.yaml are one file: loaded once, no duplicate */
	assert_int_equal(set->n, 1);
	assert_string_equal(set->specs[0]->room_id, "room-aaaaaa");
	assert_int_equal(set->bad_files.n, 0);
	assert_null(ro_specset_find(set, "room-outside"));
	warnings = joined(&set->diag.warnings);
	assert_true(tu_contains(warnings, "out.yaml: skipped: symbolic link"));
	free(warnings);
	ro_specset_free(set);
	free(target);
	free(link);
	free(inlink);
	tu_rmrf(dir);
	tu_rmrf(outside);
	free(dir);
	free(outside);
}

/* The same file through two arguments is one file. */
static void
test_same_file_twice(void **state)
{
	struct ro_specset	*set;
	char			*dir = tu_tmpdir(), *paths[2];

	(void)state;
	put(dir, "a.yaml", "room-aaaaaa", NULL);
	paths[0] = dir;
	paths[1] = tu_path(dir, "a.yaml");
	set = load(paths, 2, false, false);
	assert_int_equal(set->n, 1);
	assert_int_equal(set->bad_rooms.n, 0);
	ro_specset_free(set);
	free(paths[1]);
	tu_rmrf(dir);
	free(dir);
}

static void
test_big_file_in_set(void **state)
{
	struct ro_specset	*set;
	char			*dir = tu_tmpdir(), *big, *errors;
	FILE			*f;

	(void)state;
	put(dir, "a.yaml", "room-aaaaaa", NULL);
	big = tu_path(dir, "big.yaml");
	assert_non_null(f = fopen(big, "w"));
	assert_int_equal(ftruncate(fileno(f), 2 << 20), 0);
	fclose(f);
	set = load(&dir, 1, false, false);
	assert_int_equal(set->n, 1);
	assert_int_equal(set->bad_files.n, 1);
	assert_string_equal(set->bad_files.v[0], big);
	errors = joined(&set->diag.errors);
	assert_true(tu_contains(errors, "big.yaml: file is 2097152 bytes, "
	    "limit is 1048576"));
	free(errors);
	ro_specset_free(set);
	free(big);
	tu_rmrf(dir);
	free(dir);
}

/* A scratch folder in memory when there is one: 100,001 files on a
 * disk cost tens of seconds, on tmpfs about one. */
static char *
fast_tmpdir(void)
{
	char	*path;

	if (access("/dev/shm", W_OK) != 0)
		return tu_tmpdir();
	if ((path = strdup("/dev/shm/roomops-test.XXXXXX")) == NULL)
		abort();
	if (mkdtemp(path) == NULL) {
		free(path);
		return tu_tmpdir();
	}
	return path;
}

/* RO_SPECSET_FILES_MAX bounds the walk (empty files: cheap to make). */
static void
test_too_many_files(void **state)
{
	struct ro_specset	*set = NULL;
	struct ro_err		 err = RO_ERR_INIT;
	char			*dir = fast_tmpdir(), *sub, name[64];
	int			 i, j, fd;

	(void)state;
	for (i = 0; i <= RO_SPECSET_FILES_MAX / 1000; i++) {
		snprintf(name, sizeof(name), "d%03d", i);
		sub = tu_path(dir, name);
		assert_int_equal(mkdir(sub, 0755), 0);
		for (j = 0; j < 1000; j++) {
			snprintf(name, sizeof(name), "%s/%03d.yaml", sub, j);
			assert_true((fd = open(name, O_WRONLY | O_CREAT,
			    0644)) >= 0);
			close(fd);
		}
		free(sub);
	}
	assert_int_equal(ro_specset_load(&set, &dir, 1, false, false, &err),
	    RO_ETOOBIG);
	assert_null(set);
	assert_true(tu_contains(err.msg, "more than 100000 spec files"));
	tu_rmrf(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_broken_among_good),
		cmocka_unit_test(test_duplicate_room_ids),
		cmocka_unit_test(test_seeds_from_folder_root),
		cmocka_unit_test(test_file_argument_root),
		cmocka_unit_test(test_seed_problems),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_empty_folder),
		cmocka_unit_test(test_linked_specs),
		cmocka_unit_test(test_same_file_twice),
		cmocka_unit_test(test_big_file_in_set),
		cmocka_unit_test(test_too_many_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
