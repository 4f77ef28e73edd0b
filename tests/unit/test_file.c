/* test_file.c: capped reads (also into small bounded buffers), atomic
 * replacement, durable appends. */
#include <sys/stat.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roomops/file.h"
#include "testutil.h"

static void
test_read_into_small_buffer(void **state)
{
	char		*dir = tu_tmpdir(), *path = tu_path(dir, "cursor");
	struct ro_buf	 b;

	(void)state;
	tu_write(dir, "cursor", "0123456789abcdef0123456789abcdef01234567\n");
	ro_buf_init(&b, 256);		/* far below one 64 KiB read */
	assert_int_equal(ro_file_read(path, 128, &b, NULL), RO_OK);
	assert_int_equal(b.len, 41);
	assert_string_equal(b.ptr,
	    "0123456789abcdef0123456789abcdef01234567\n");
	ro_buf_release(&b);
	tu_rmrf(dir);
	free(path);
	free(dir);
}

static void
test_read_limits(void **state)
{
	char		*dir = tu_tmpdir(), *path = tu_path(dir, "f");
	struct ro_buf	 b = RO_BUF_INIT;
	struct ro_err	 err = RO_ERR_INIT;

	(void)state;
	tu_write(dir, "f", "12345");
	assert_int_equal(ro_file_read(path, 5, &b, NULL), RO_OK);
	assert_int_equal(b.len, 5);
	ro_buf_reset(&b);
	assert_int_equal(ro_file_read(path, 4, &b, &err), RO_ETOOBIG);
	assert_int_equal(b.len, 0);
	assert_true(tu_contains(err.msg, path));
	assert_int_equal(ro_file_read("/nonexistent/x", 4, &b, &err),
	    RO_ENOTFOUND);
	assert_int_equal(ro_file_read(dir, 4, &b, &err), RO_EIO);
	/* a pipe-like file without a size: the cap still holds */
	ro_buf_reset(&b);
	assert_int_equal(ro_file_read("/dev/zero", 100, &b, &err), RO_ETOOBIG);
	ro_buf_release(&b);
	tu_rmrf(dir);
	free(path);
	free(dir);
}

static void
test_replace_and_append(void **state)
{
	char		*dir = tu_tmpdir(), *path = tu_path(dir, "state");
	char		*tmp = tu_path(dir, "state.tmp");
	struct ro_buf	 b = RO_BUF_INIT;
	struct stat	 st;

	(void)state;
	assert_int_equal(ro_file_replace(path, "one", 3, NULL), RO_OK);
	assert_int_equal(ro_file_replace(path, "two!", 4, NULL), RO_OK);
	assert_int_equal(ro_file_read(path, 100, &b, NULL), RO_OK);
	assert_string_equal(b.ptr, "two!");
	assert_int_equal(stat(tmp, &st), -1);	/* no temp file left */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(ro_file_append_sync(path, "+", 1, NULL), RO_OK);
	ro_buf_reset(&b);
	assert_int_equal(ro_file_read(path, 100, &b, NULL), RO_OK);
	assert_string_equal(b.ptr, "two!+");
	assert_int_equal(ro_file_replace("/nonexistent/dir/x", "a", 1, NULL),
	    RO_EIO);
	ro_buf_release(&b);
	tu_rmrf(dir);
	free(path);
	free(tmp);
	free(dir);
}

/* The folder of a file path, made with its parents; none for "x". */
static void
test_mkdirs_parent(void **state)
{
	char		*dir = tu_tmpdir(), *file = tu_path(dir, "a/b/c.jsonl");
	char		*made = tu_path(dir, "a/b");
	char		*gone = tu_path(dir, "a/b/c.jsonl");
	struct stat	 st;

	(void)state;
	assert_int_equal(ro_file_mkdirs_parent(file, 0750, NULL), RO_OK);
	assert_int_equal(stat(made, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(stat(gone, &st), -1);	/* the file is not made */
	assert_int_equal(ro_file_mkdirs_parent(file, 0750, NULL), RO_OK);
	assert_int_equal(ro_file_mkdirs_parent("audit.jsonl", 0750, NULL),
	    RO_OK);
	tu_rmrf(dir);
	free(file);
	free(made);
	free(gone);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_into_small_buffer),
		cmocka_unit_test(test_read_limits),
		cmocka_unit_test(test_replace_and_append),
		cmocka_unit_test(test_mkdirs_parent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
