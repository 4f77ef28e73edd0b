/*
 * test_seed.c: seedFrom normalisation, confinement (lexical and through
 * symbolic links), reading, fingerprints and seed states.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "roomops/fingerprint.h"
#include "roomops/seed.h"
#include "roomops/spec.h"
#include "testutil.h"

#define ORIGIN	"specs/lab.yaml"

/* One artifact whose seedFrom is on line 9, column 7. */
static struct ro_spec *
spec_with_seed(const char *seed_from)
{
	struct ro_spec	*spec = NULL;
	struct ro_diag	 diag = RO_DIAG_INIT;
	char		*doc;

	assert_true(asprintf(&doc, "metadata: {version: 1}\n"
	    "spec:\n"
	    "  roomId: room-abcdef\n"
	    "  artifacts:\n"
	    "    - name: test-artifact\n"
	    "      type: document\n"
	    "      workspace: shared\n"
	    "      tags: [tag1, tag2]\n"
	    "      seedFrom: \"%s\"\n"
	    "    - name: plain\n"
	    "      type: document\n"
	    "      workspace: shared\n", seed_from) > 0);
	assert_int_equal(ro_spec_parse_yaml(&spec, ORIGIN, doc, strlen(doc),
	    &diag, NULL), RO_OK);
	assert_int_equal(spec->artifacts[0].seed, RO_SEED_UNRESOLVED);
	assert_int_equal(spec->artifacts[1].seed, RO_SEED_NONE);
	ro_diag_release(&diag);
	free(doc);
	return spec;
}

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- normalisation ------------------------------------------------------ */

static void
test_normalize(void **state)
{
	static const struct {
		const char	*dir, *seed, *want;	/* want NULL: refused */
		const char	*why;
	} cases[] = {
		{ "", "seeds/a.md", "seeds/a.md", NULL },
		{ NULL, "a.md", "a.md", NULL },
		{ "specs", "../seeds/a.md", "seeds/a.md", NULL },
		{ "specs/x", "./a//b/../c.md", "specs/x/a/c.md", NULL },
		{ "specs/", "a/./b/", "specs/a/b", NULL },
		{ "a/b", "../../c", "c", NULL },
		{ "", "../../etc/passwd", NULL, "leaves the source root" },
		{ "specs", "../../x", NULL, "leaves the source root" },
		{ "specs", "a/../../../x", NULL, "leaves the source root" },
		{ "", "..", NULL, "leaves the source root" },
		{ "", "/etc/passwd", NULL, "is an absolute path" },
		{ "", "a/..", NULL, "names the source root folder" },
		{ "", ".", NULL, "names the source root folder" },
		{ "", "", NULL, "seedFrom is empty" },
		{ "../x", "a", NULL, "leaves the source root" },
		{ "/abs", "a", NULL, "is not relative to the source root" },
	};
	struct ro_buf	out = RO_BUF_INIT;
	struct ro_err	err;
	size_t		i;
	int		rc;

	(void)state;
	for (i = 0; i < RO_NELEM(cases); i++) {
		ro_err_clear(&err);
		rc = ro_seed_normalize(&out, cases[i].dir, cases[i].seed, &err);
		if (cases[i].want != NULL) {
			assert_int_equal(rc, RO_OK);
			assert_string_equal(ro_buf_cstr(&out), cases[i].want);
		} else {
			assert_int_equal(rc, RO_EINVALID);
			assert_true(tu_contains(err.msg, cases[i].why));
			assert_int_equal(out.len, 0);
		}
	}
	ro_buf_release(&out);
}

/* --- resolving from a folder ------------------------------------------- */

static void
test_resolve_ok(void **state)
{
	struct ro_spec	*spec = spec_with_seed("seeds/plan.md");
	struct ro_diag	 diag = RO_DIAG_INIT;
	struct ro_err	 err = RO_ERR_INIT;
	char		*root = tu_tmpdir();

	(void)state;
	tu_write(root, "seeds/plan.md", "test content");
	assert_int_equal(ro_seed_resolve(spec, "", ro_seed_read_fs, root,
	    &diag, &err), RO_OK);
	assert_int_equal(diag.errors.n, 0);
	assert_int_equal(spec->artifacts[0].seed, RO_SEED_OK);
	assert_int_equal(spec->artifacts[0].content_len, 12);
	assert_memory_equal(spec->artifacts[0].content, "test content", 12);
	/* the vector of roomspec.md */
	assert_string_equal(spec->artifacts[0].fingerprint,
	    "9a0a3c3661175e6a9e486b9fa0e94482fc9c1d4d5083cd6b2232f58b9709b22f");
	assert_null(spec->artifacts[0].seed_reason);
	/* without seedFrom: untouched */
	assert_int_equal(spec->artifacts[1].seed, RO_SEED_NONE);
	assert_null(spec->artifacts[1].content);

	/* relative to the spec's folder inside the root */
	ro_spec_free(spec);
	spec = spec_with_seed("../seeds/plan.md");
	assert_int_equal(ro_seed_resolve(spec, "specs", ro_seed_read_fs, root,
	    &diag, &err), RO_OK);
	assert_int_equal(spec->artifacts[0].seed, RO_SEED_OK);

	/* drop the bytes, keep the fingerprint */
	ro_seed_drop_content(spec);
	assert_null(spec->artifacts[0].content);
	assert_int_equal(spec->artifacts[0].content_len, 0);
	assert_string_equal(spec->artifacts[0].fingerprint,
	    "9a0a3c3661175e6a9e486b9fa0e94482fc9c1d4d5083cd6b2232f58b9709b22f");

	ro_spec_free(spec);
	ro_diag_release(&diag);
	tu_rmrf(root);
	free(root);
}

static void
test_resolve_empty_file(void **state)
{
	struct ro_spec	*spec = spec_with_seed("empty.md");
	struct ro_diag	 diag = RO_DIAG_INIT;
	char		*root = tu_tmpdir();
	char		 want[RO_HEX_SHA256_LEN + 1];
	struct ro_strv	 tags = RO_STRV_INIT;

	(void)state;
	tu_write(root, "empty.md", "");
	assert_int_equal(ro_seed_resolve(spec, "", ro_seed_read_fs, root,
	    &diag, NULL), RO_OK);
	assert_int_equal(spec->artifacts[0].seed, RO_SEED_OK);
	assert_int_equal(spec->artifacts[0].content_len, 0);
	ro_strv_push(&tags, "tag1");
	ro_strv_push(&tags, "tag2");
	assert_int_equal(ro_fingerprint(want, "test-artifact", "document",
	    "shared", &tags, "", 0, NULL), 0);
	assert_string_equal(spec->artifacts[0].fingerprint, want);
	ro_strv_release(&tags);
	ro_spec_free(spec);
	ro_diag_release(&diag);
	tu_rmrf(root);
	free(root);
}

/* A missing seed file blocks that artifact only: not an error. */
static void
test_resolve_missing(void **state)
{
	struct ro_spec	*spec = spec_with_seed("specs/../seeds/gone.md");
	struct ro_diag	 diag = RO_DIAG_INIT;
	char		*root = tu_tmpdir();

	(void)state;
	assert_int_equal(ro_seed_resolve(spec, "", ro_seed_read_fs, root,
	    &diag, NULL), RO_OK);
	assert_int_equal(diag.errors.n, 0);
	assert_int_equal(spec->artifacts[0].seed, RO_SEED_MISSING);
	assert_string_equal(spec->artifacts[0].seed_reason,
	    "seed file seeds/gone.md not found");
	assert_null(spec->artifacts[0].content);
	assert_string_equal(spec->artifacts[0].fingerprint, "");
	ro_spec_free(spec);
	ro_diag_release(&diag);
	tu_rmrf(root);
	free(root);
}

/* seedFrom: ../../etc/passwd is refused before anything is read. */
static void
test_resolve_escape(void **state)
{
	struct ro_spec	*spec = spec_with_seed("../../etc/passwd");
	struct ro_diag	 diag = RO_DIAG_INIT;
	struct ro_err	 err = RO_ERR_INIT;
	char		*root = tu_tmpdir();
	double		 t0 = now();

	(void)state;
	assert_int_equal(ro_seed_resolve(spec, "specs", ro_seed_read_fs, root,
	    &diag, &err), RO_EINVALID);
	assert_true(now() - t0 < 0.5);
	assert_int_equal(diag.errors.n, 1);
	assert_string_equal(diag.errors.v[0], ORIGIN ":9:7: "
	    "spec.artifacts[0].seedFrom: \"../../etc/passwd\" leaves the "
	    "source root");
	assert_true(tu_contains(err.msg, ORIGIN ":9:7: spec.artifacts[0]."
	    "seedFrom"));
	assert_null(spec->artifacts[0].content);
	assert_int_equal(spec->artifacts[0].seed, RO_SEED_UNRESOLVED);
	ro_spec_free(spec);
	ro_diag_release(&diag);
	tu_rmrf(root);
	free(root);
}

/* A symbolic link inside the root that points outside it. */
static void
test_symlink_leaving_root(void **state)
{
	struct ro_spec	*spec = spec_with_seed("seeds/evil.md");
	struct ro_diag	 diag = RO_DIAG_INIT;
	char		*root = tu_tmpdir(), *outside = tu_tmpdir();
	char		*target = tu_path(outside, "secret.txt");
	char		*link = tu_path(root, "seeds/evil.md");

	(void)state;
	tu_write(outside, "secret.txt", "secret");
	tu_write(root, "seeds/keep", "");
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(ro_seed_resolve(spec, "", ro_seed_read_fs, root,
	    &diag, NULL), RO_EINVALID);
	assert_int_equal(diag.errors.n, 1);
	assert_string_equal(diag.errors.v[0], ORIGIN ":9:7: "
	    "spec.artifacts[0].seedFrom: seed file seeds/evil.md leaves the "
	    "source root through a symbolic link");
	assert_null(spec->artifacts[0].content);
	ro_spec_free(spec);
	ro_diag_release(&diag);
	free(link);
	free(target);
	tu_rmrf(root);
	tu_rmrf(outside);
	free(root);
	free(outside);
}

/* A linked folder leaving the root, and a relative link climbing out. */
static void
test_symlink_dir_leaving_root(void **state)
{
	struct ro_buf	 out = RO_BUF_INIT;
	struct ro_err	 err = RO_ERR_INIT;
	char		*root = tu_tmpdir(), *outside = tu_tmpdir();
	char		*link = tu_path(root, "seeds");
	char		*up = tu_path(root, "up.md");

	(void)state;
	tu_write(outside, "x.md", "x");
	assert_int_equal(symlink(outside, link), 0);
	assert_int_equal(ro_seed_read_fs(root, "seeds/x.md", &out, &err),
	    RO_EINVALID);
	assert_true(tu_contains(err.msg, "leaves the source root"));
	assert_int_equal(symlink("../../../../../../../../../../etc/passwd",
	    up), 0);
	assert_int_equal(ro_seed_read_fs(root, "up.md", &out, &err),
	    RO_EINVALID);
	assert_int_equal(out.len, 0);
	ro_buf_release(&out);
	free(link);
	free(up);
	tu_rmrf(root);
	tu_rmrf(outside);
	free(root);
	free(outside);
}

/* Links that stay inside the root are followed. */
static void
test_symlink_inside_root(void **state)
{
	struct ro_buf	 out = RO_BUF_INIT;
	char		*root = tu_tmpdir(), *link = tu_path(root, "b/link.md");

	(void)state;
	tu_write(root, "a/real.md", "real");
	tu_write(root, "b/keep", "");
	assert_int_equal(symlink("../a/real.md", link), 0);
	assert_int_equal(ro_seed_read_fs(root, "b/link.md", &out, NULL),
	    RO_OK);
	assert_string_equal(ro_buf_cstr(&out), "real");
	ro_buf_release(&out);
	free(link);
	tu_rmrf(root);
	free(root);
}

static void
test_read_fs_refusals(void **state)
{
	struct ro_buf	 out = RO_BUF_INIT;
	struct ro_err	 err = RO_ERR_INIT;
	char		*root = tu_tmpdir(), *fifo = tu_path(root, "pipe.md");
	double		 t0;

	(void)state;
	tu_write(root, "dir/a.md", "a");
	/* the reader trusts nothing: not normalised means refused */
	assert_int_equal(ro_seed_read_fs(root, "dir/../dir/a.md", &out, &err),
	    RO_EINVALID);
	assert_int_equal(ro_seed_read_fs(root, "/etc/passwd", &out, &err),
	    RO_EINVALID);
	assert_int_equal(ro_seed_read_fs(root, "", &out, &err), RO_EINVALID);
	/* a folder is not a seed */
	assert_int_equal(ro_seed_read_fs(root, "dir", &out, &err),
	    RO_EINVALID);
	assert_true(tu_contains(err.msg, "not a regular file"));
	/* a FIFO must neither hang nor be read */
	assert_int_equal(mkfifo(fifo, 0600), 0);
	t0 = now();
	assert_int_equal(ro_seed_read_fs(root, "pipe.md", &out, &err),
	    RO_EINVALID);
	assert_true(now() - t0 < 1.0);
	/* missing, and missing below a file */
	assert_int_equal(ro_seed_read_fs(root, "nope.md", &out, &err),
	    RO_ENOTFOUND);
	assert_int_equal(ro_seed_read_fs(root, "dir/a.md/x", &out, &err),
	    RO_ENOTFOUND);
	assert_int_equal(out.len, 0);
	ro_buf_release(&out);
	free(fifo);
	tu_rmrf(root);
	free(root);
}

static void
test_seed_too_big(void **state)
{
	struct ro_spec	*spec = spec_with_seed("big.bin");
	struct ro_diag	 diag = RO_DIAG_INIT;
	struct ro_buf	 out = RO_BUF_INIT;
	char		*root = tu_tmpdir(), *big = tu_path(root, "big.bin");
	char		*max = tu_path(root, "max.bin");
	FILE		*f;

	(void)state;
	assert_non_null(f = fopen(big, "w"));
	assert_int_equal(ftruncate(fileno(f), (off_t)RO_ARTIFACT_MAX + 1), 0);
	fclose(f);
	assert_non_null(f = fopen(max, "w"));
	assert_int_equal(ftruncate(fileno(f), (off_t)RO_ARTIFACT_MAX), 0);
	fclose(f);
	assert_int_equal(ro_seed_read_fs(root, "big.bin", &out, NULL),
	    RO_ETOOBIG);
	assert_int_equal(ro_seed_read_fs(root, "max.bin", &out, NULL), RO_OK);
	assert_int_equal(out.len, RO_ARTIFACT_MAX);
	assert_int_equal(ro_seed_resolve(spec, "", ro_seed_read_fs, root,
	    &diag, NULL), RO_EINVALID);
	assert_int_equal(diag.errors.n, 1);
	assert_true(tu_contains(diag.errors.v[0], ORIGIN ":9:7: "
	    "spec.artifacts[0].seedFrom: seed file big.bin is 16777217 bytes, "
	    "limit is 16777216"));
	ro_buf_release(&out);
	ro_spec_free(spec);
	ro_diag_release(&diag);
	free(big);
	free(max);
	tu_rmrf(root);
	free(root);
}

/* --- any store through the reader callback (Git blobs) ---------------- */

struct fake_store {
	const char	*last;		/* last relpath asked for */
	int		 calls;
};

static int
fake_reader(void *arg, const char *relpath, struct ro_buf *out,
    struct ro_err *err)
{
	struct fake_store	*st = arg;

	st->calls++;
	st->last = relpath;
	if (strcmp(relpath, "seeds/a.md") == 0)
		return ro_buf_addstr(out, "blob a");
	if (strcmp(relpath, "seeds/link.md") == 0)
		return ro_err_set(err, RO_EINVALID, "seed file %s is a "
		    "symbolic link leaving the repository", relpath);
	if (strcmp(relpath, "seeds/io.md") == 0)
		return ro_err_set(err, RO_EIO, "seed file %s: odb read "
		    "failed", relpath);
	return ro_err_set(err, RO_ENOTFOUND, "not found");
}

static void
test_custom_reader(void **state)
{
	struct fake_store	 st = { NULL, 0 };
	struct ro_spec		*spec;
	struct ro_diag		 diag = RO_DIAG_INIT;
	struct ro_err		 err = RO_ERR_INIT;

	(void)state;
	spec = spec_with_seed("../seeds/./a.md");
	assert_int_equal(ro_seed_resolve(spec, "specs", fake_reader, &st,
	    &diag, &err), RO_OK);
	assert_int_equal(st.calls, 1);
	assert_int_equal(spec->artifacts[0].seed, RO_SEED_OK);
	assert_int_equal(spec->artifacts[0].content_len, 6);
	ro_spec_free(spec);

	spec = spec_with_seed("seeds/link.md");
	assert_int_equal(ro_seed_resolve(spec, "", fake_reader, &st, &diag,
	    &err), RO_EINVALID);
	assert_string_equal(diag.errors.v[0], ORIGIN ":9:7: "
	    "spec.artifacts[0].seedFrom: seed file seeds/link.md is a "
	    "symbolic link leaving the repository");
	ro_spec_free(spec);

	spec = spec_with_seed("seeds/io.md");
	assert_int_equal(ro_seed_resolve(spec, "", fake_reader, &st, &diag,
	    &err), RO_EIO);
	assert_true(tu_contains(err.msg, "odb read failed"));
	ro_spec_free(spec);

	/* an escape never reaches the reader */
	st.calls = 0;
	spec = spec_with_seed("../../../x");
	assert_int_equal(ro_seed_resolve(spec, "a", fake_reader, &st, &diag,
	    &err), RO_EINVALID);
	assert_int_equal(st.calls, 0);
	ro_spec_free(spec);
	ro_diag_release(&diag);
}

/* From JSON there are no positions; the field path is still given. */
static void
test_json_seed_escape(void **state)
{
	struct ro_spec	*spec = NULL;
	struct ro_diag	 diag = RO_DIAG_INIT;
	cJSON		*j;
	char		*root = tu_tmpdir();

	(void)state;
	j = cJSON_Parse("{\"metadata\":{\"version\":1},\"spec\":{\"roomId\":"
	    "\"room-abcdef\",\"artifacts\":[{\"name\":\"a\",\"type\":\"t\","
	    "\"workspace\":\"w\",\"seedFrom\":\"../x\"}]}}");
	assert_non_null(j);
	assert_int_equal(ro_spec_from_json(&spec, "<api>", j, &diag, NULL),
	    RO_OK);
	assert_int_equal(ro_seed_resolve(spec, "", ro_seed_read_fs, root,
	    &diag, NULL), RO_EINVALID);
	assert_string_equal(diag.errors.v[0], "<api>: spec.artifacts[0]."
	    "seedFrom: \"../x\" leaves the source root");
	cJSON_Delete(j);
	ro_spec_free(spec);
	ro_diag_release(&diag);
	tu_rmrf(root);
	free(root);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_resolve_ok),
		cmocka_unit_test(test_resolve_empty_file),
		cmocka_unit_test(test_resolve_missing),
		cmocka_unit_test(test_resolve_escape),
		cmocka_unit_test(test_symlink_leaving_root),
		cmocka_unit_test(test_symlink_dir_leaving_root),
		cmocka_unit_test(test_symlink_inside_root),
		cmocka_unit_test(test_read_fs_refusals),
		cmocka_unit_test(test_seed_too_big),
		cmocka_unit_test(test_custom_reader),
		cmocka_unit_test(test_json_seed_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
