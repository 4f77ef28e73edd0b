/*
 * testutil.h: helpers shared by the cmocka tests (temp dirs, files,
 * environment). Tests only; not part of common/.
 */
#ifndef RO_TESTUTIL_H
#define RO_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* mkdtemp under $TMPDIR (or /tmp); returns a malloc'd path. */
char	*tu_tmpdir(void);
/* rm -rf path (best effort). */
void	 tu_rmrf(const char *path);
/* Write s to dir/name, creating parent folders. Fails the test on error. */
void	 tu_write(const char *dir, const char *name, const char *s);
/* Path join into a malloc'd string. */
char	*tu_path(const char *dir, const char *name);
/* Environment variable or fallback. */
const char *tu_env(const char *name, const char *fallback);
/* Does haystack contain needle? (prints both when not) */
int	 tu_contains(const char *haystack, const char *needle);

#endif
