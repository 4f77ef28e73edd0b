/* cli.c: helpers shared by the command-line verbs. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/buf.h"
#include "roomops/file.h"
#include "roomops/guard.h"
#include "roomops/specset.h"
#include "cli.h"
#include "config.h"
#include "optval.h"

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

int
ro_cli_guard_opt(int ch, const char *arg, struct ro_guard_opts *g)
{
	struct ro_err	err = RO_ERR_INIT;
	uint64_t	v;
	int		error = RO_OK;

	switch (ch) {
	case 1001:
		g->confirmed = true;
		return 1;
	case 1002:
		if ((error = ro_optval_uint("--max-kicks", arg, 0,
		    RO_CONFIG_COUNT_MAX, &v, &err)) == RO_OK)
			g->max_kicks = (size_t)v;
		break;
	case 1003:
		if ((error = ro_optval_uint("--max-artifact-deletes", arg, 0,
		    RO_CONFIG_COUNT_MAX, &v, &err)) == RO_OK)
			g->max_deletes = (size_t)v;
		break;
	case 1004:
		error = ro_optval_ratio("--change-threshold", arg,
		    &g->threshold, &err);
		break;
	case 1005:
		error = ro_optval_bool("--require-confirm", arg,
		    &g->require_confirm, &err);
		break;
	default:
		return 0;
	}
	if (error < 0) {
		fprintf(stderr, "roomops: %s\n", err.msg);
		return -1;
	}
	return 1;
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
