/* watchname.c: which names the watcher reports (see watch.h). */
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include "roomops/specset.h"
#include "watch.h"

#include "../common/banned.h"

static bool
ends_with(const char *s, size_t n, const char *suffix)
{
	size_t	m = strlen(suffix);

	return n > m && memcmp(s + n - m, suffix, m) == 0;
}

bool
ro_watch_ends_with(const char *name, const char *suffix)
{
	return ends_with(name, strlen(name), suffix);
}

bool
ro_watch_is_hidden(const char *name)
{
	size_t	n = strlen(name);

	if (n == 0 || name[0] == '.')
		return true;
	if (name[0] == '#' && name[n - 1] == '#')
		return true;
	if (name[n - 1] == '~' || strcmp(name, "4913") == 0)
		return true;
	return ends_with(name, n, ".swp") || ends_with(name, n, ".swx") ||
	    ends_with(name, n, ".tmp") || ends_with(name, n, "___jb_tmp___") ||
	    ends_with(name, n, "___jb_old___");
}

bool
ro_watch_is_spec(const char *relpath)
{
	char		 part[NAME_MAX + 1];
	const char	*p = relpath, *slash;
	size_t		 n;

	if (relpath == NULL || relpath[0] == '\0')
		return false;
	for (;;) {
		slash = strchr(p, '/');
		n = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || n > NAME_MAX)
			return false;	/* "a//b", "dir/", absurd names */
		memcpy(part, p, n);
		part[n] = '\0';
		if (ro_watch_is_hidden(part))
			return false;
		if (slash == NULL)
			break;
		p = slash + 1;
	}
	return ro_specset_is_spec_name(part);
}

