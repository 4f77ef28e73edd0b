/* testutil.c: helpers shared by the cmocka tests. */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roomops/file.h"
#include "testutil.h"

char *
tu_tmpdir(void)
{
	const char	*base = tu_env("TMPDIR", "/tmp");
	char		*path;

	if (asprintf(&path, "%s/roomops-test.XXXXXX", base) < 0)
		abort();
	if (mkdtemp(path) == NULL)
		abort();
	return path;
}

void
tu_rmrf(const char *path)
{
	char	*cmd;

	if (path == NULL || strlen(path) < 8)
		return;
	if (asprintf(&cmd, "rm -rf '%s'", path) < 0)
		abort();
	if (system(cmd) != 0)
		fprintf(stderr, "warning: could not remove %s\n", path);
	free(cmd);
}

char *
tu_path(const char *dir, const char *name)
{
	char	*p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		abort();
	return p;
}

void
tu_write(const char *dir, const char *name, const char *s)
{
	char	*path = tu_path(dir, name);
	char	*parent = strdup(path);
	FILE	*f;

	assert_non_null(parent);
	*strrchr(parent, '/') = '\0';
	assert_int_equal(ro_file_mkdirs(parent, 0755, NULL), 0);
	free(parent);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(s, 1, strlen(s), f), strlen(s));
	assert_int_equal(fclose(f), 0);
	free(path);
}

const char *
tu_env(const char *name, const char *fallback)
{
	const char	*v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : fallback;
}

int
tu_contains(const char *haystack, const char *needle)
{
	if (haystack != NULL && strstr(haystack, needle) != NULL)
		return 1;
	fprintf(stderr, "expected to find:\n  %s\nin:\n  %s\n", needle,
	    haystack != NULL ? haystack : "(null)");
	return 0;
}
