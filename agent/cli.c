/* cli.c: helpers shared by the command-line verbs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/buf.h"
#include "roomops/file.h"
#include "roomops/guard.h"
#include "roomops/specset.h"
#include "cli.h"

#include "../common/banned.h"

bool
ro_cli_output(const char *s, enum ro_output *out)
{
	if (strcmp(s, "text") == 0)
		*out = RO_OUTPUT_TEXT;
	else if (strcmp(s, "json") == 0)
		*out = RO_OUTPUT_JSON;
	else {
		fprintf(stderr, "roomops: --output must be text or json, "
		    "not \"%s\"\n", s);
		return false;
	}
	return true;
}

int
ro_cli_secret(const char *file, const char *env, char **out,
    struct ro_err *err)
{
	struct ro_buf	 b = RO_BUF_INIT;
	const char	*v;
	int		 error;

	*out = NULL;
	if (file == NULL) {
		if (env == NULL || (v = getenv(env)) == NULL || v[0] == '\0')
			return RO_OK;
		if ((*out = strdup(v)) == NULL)
			return ro_err_set(err, RO_ENOMEM, "out of memory");
		return RO_OK;
	}
	/* ro_file_read() grows by 64 KiB reads and checks RO_SECRET_MAX
	 * itself: a buffer capped at the secret's size refused every file */
	ro_buf_init(&b, 0);
	if ((error = ro_file_read(file, RO_SECRET_MAX, &b, err)) < 0) {
		ro_buf_release(&b);
		return error;
	}
	while (b.len > 0 && (b.ptr[b.len - 1] == '\n' ||
	    b.ptr[b.len - 1] == '\r'))
		b.ptr[--b.len] = '\0';
	if (b.len == 0 || memchr(b.ptr, '\n', b.len) != NULL) {
		ro_cli_secret_free(ro_buf_detach(&b, NULL));
		return ro_err_set(err, RO_EINVALID, "%s: expected one line "
		    "with the secret", file);
	}
	*out = ro_buf_detach(&b, NULL);
	return RO_OK;
}

void
ro_cli_secret_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

bool
ro_cli_uint(const char *s, unsigned long max, unsigned long *out)
{
	char		*end;
	unsigned long	 v;

	if (s[0] < '0' || s[0] > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return false;
	*out = v;
	return true;
}

bool
ro_cli_ratio(const char *s, double *out)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0.0 && v <= 1.0))
		return false;
	*out = v;
	return true;
}

bool
ro_cli_bool(const char *s, bool *out)
{
	if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0 ||
	    strcmp(s, "yes") == 0)
		*out = true;
	else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0 ||
	    strcmp(s, "no") == 0)
		*out = false;
	else
		return false;
	return true;
}

int
ro_cli_guard_opt(int ch, const char *arg, struct ro_guard_opts *g)
{
	unsigned long	v;

	switch (ch) {
	case 1001:
		g->confirmed = true;
		return 1;
	case 1002:
	case 1003:
		if (!ro_cli_uint(arg, 1000000, &v)) {
			fprintf(stderr, "roomops: --%s: expected a count, not "
			    "\"%s\"\n", ch == 1002 ? "max-kicks" :
			    "max-artifact-deletes", arg);
			return -1;
		}
		if (ch == 1002)
			g->max_kicks = v;
		else
			g->max_deletes = v;
		return 1;
	case 1004:
		if (!ro_cli_ratio(arg, &g->threshold)) {
			fprintf(stderr, "roomops: --change-threshold: expected "
			    "a ratio from 0 to 1, not \"%s\"\n", arg);
			return -1;
		}
		return 1;
	case 1005:
		if (!ro_cli_bool(arg, &g->require_confirm)) {
			fprintf(stderr, "roomops: --require-confirm: expected "
			    "true or false, not \"%s\"\n", arg);
			return -1;
		}
		return 1;
	}
	return 0;
}

int
ro_cli_specset(struct ro_specset **out, char *const *paths, size_t n,
    bool keep_content, struct ro_err *err)
{
	const struct ro_diag	*d;
	size_t			 i;
	int			 error;

	if ((error = ro_specset_load(out, paths, n, true, keep_content,
	    err)) < 0)
		return error;
	d = &(*out)->diag;
	for (i = 0; i < d->errors.n; i++)
		fprintf(stderr, "error: %s\n", d->errors.v[i]);
	for (i = 0; i < d->warnings.n; i++)
		fprintf(stderr, "warning: %s\n", d->warnings.v[i]);
	return RO_OK;
}
