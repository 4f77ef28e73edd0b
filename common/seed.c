/*
 * seed.c: artifact seed content (seedFrom), confined to a source root.
 *
 * Two fences: ro_seed_normalize() refuses absolute paths and ".." that
 * climbs out of the root, before anything is read; ro_seed_read_fs()
 * resolves symbolic links with realpath(3) and refuses a file that ends
 * up outside the root, then opens the resolved path with O_NOFOLLOW.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roomops/fingerprint.h"
#include "roomops/node.h"
#include "roomops/seed.h"

#include "banned.h"

#define SEED_CHUNK	(64u << 10)	/* bytes per read(2) */
#define SEED_FIELD_MAX	64		/* "spec.artifacts[N].seedFrom" */

/* Append the parts of p to out, resolving "." and ".." lexically. */
static int
normalize_parts(struct ro_buf *out, const char *p, const char *seed_from,
    struct ro_err *err)
{
	const char	*end;
	char		*slash;
	char		 q[RO_NODE_QUOTE_SIZE];
	size_t		 n;
	int		 error;

	while (*p != '\0') {
		if ((end = strchr(p, '/')) == NULL)
			end = p + strlen(p);
		n = (size_t)(end - p);
		if (n == 0 || (n == 1 && p[0] == '.')) {
			/* nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (out->len == 0)
				return ro_err_set(err, RO_EINVALID, "%s leaves "
				    "the source root", ro_node_quote(q,
				    seed_from, strlen(seed_from)));
			slash = strrchr(out->ptr, '/');
			out->len = slash != NULL ? (size_t)(slash - out->ptr) : 0;
			out->ptr[out->len] = '\0';
		} else if ((out->len > 0 &&
		    (error = ro_buf_addch(out, '/')) < 0) ||
		    (error = ro_buf_add(out, p, n)) < 0)
			return ro_err_set(err, error, "%s: path too long",
			    ro_node_quote(q, seed_from, strlen(seed_from)));
		p = *end == '/' ? end + 1 : end;
	}
	return RO_OK;
}

int
ro_seed_normalize(struct ro_buf *out, const char *dir, const char *seed_from,
    struct ro_err *err)
{
	char	q[RO_NODE_QUOTE_SIZE];
	int	error;

	if (dir == NULL)
		dir = "";
	ro_buf_reset(out);
	if (seed_from == NULL || seed_from[0] == '\0')
		return ro_err_set(err, RO_EINVALID, "seedFrom is empty");
	if (seed_from[0] == '/')
		return ro_err_set(err, RO_EINVALID, "%s is an absolute path; "
		    "seedFrom must be relative to the spec file's folder",
		    ro_node_quote(q, seed_from, strlen(seed_from)));
	if (dir[0] == '/')
		return ro_err_set(err, RO_EINVALID, "spec folder %s is not "
		    "relative to the source root", ro_node_quote(q, dir,
		    strlen(dir)));
	/* the spec folder itself lies inside the root: check it too */
	if ((error = normalize_parts(out, dir, dir, err)) < 0 ||
	    (error = normalize_parts(out, seed_from, seed_from, err)) < 0) {
		ro_buf_reset(out);
		return error;
	}
	if (out->len == 0)
		return ro_err_set(err, RO_EINVALID, "%s names the source root "
		    "folder, not a file", ro_node_quote(q, seed_from,
		    strlen(seed_from)));
	return RO_OK;
}

static void
set_missing(struct ro_artifact *a, const char *relpath, int *oom)
{
	free(a->content);
	a->content = NULL;
	a->content_len = 0;
	a->fingerprint[0] = '\0';
	a->seed = RO_SEED_MISSING;
	free(a->seed_reason);
	if (asprintf(&a->seed_reason, "seed file %s not found", relpath) < 0) {
		a->seed_reason = NULL;
		*oom = 1;
	}
}

int
ro_seed_resolve(struct ro_spec *spec, const char *spec_dir,
    ro_seed_reader *reader, void *arg, struct ro_diag *diag,
    struct ro_err *err)
{
	struct ro_artifact	*a;
	struct ro_buf		 rel = RO_BUF_INIT, content = RO_BUF_INIT;
	struct ro_err		 lerr = RO_ERR_INIT, first = RO_ERR_INIT;
	char			 field[SEED_FIELD_MAX];
	size_t			 i, first_diag = diag->errors.n;
	int			 error = RO_OK, rc, oom = 0, nbad = 0, nio = 0;

	for (i = 0; i < spec->n_artifacts && !oom; i++) {
		a = &spec->artifacts[i];
		if (a->seed_from == NULL)
			continue;
		snprintf(field, sizeof(field), "spec.artifacts[%zu].seedFrom",
		    i);
		ro_err_clear(&lerr);
		ro_buf_release(&content);
		ro_buf_init(&content, RO_ARTIFACT_MAX);
		if ((rc = ro_seed_normalize(&rel, spec_dir, a->seed_from,
		    &lerr)) == RO_OK)
			rc = reader(arg, ro_buf_cstr(&rel), &content, &lerr);
		switch (rc) {
		case RO_OK:
			free(a->content);
			a->content = (unsigned char *)ro_buf_detach(&content,
			    &a->content_len);
			if (a->content == NULL) {
				oom = 1;
				break;
			}
			free(a->seed_reason);
			a->seed_reason = NULL;
			if ((rc = ro_fingerprint(a->fingerprint, a->name,
			    a->type, a->workspace, &a->tags, a->content,
			    a->content_len, &lerr)) == RO_OK) {
				a->seed = RO_SEED_OK;
				break;
			}
			if (rc == RO_ENOMEM) {
				oom = 1;
				break;
			}
			/* too big for a fingerprint */
			/* FALLTHROUGH */
		case RO_EINVALID:
		case RO_ETOOBIG:
			nbad++;
			if (first.code == RO_OK)
				first = lerr;
			if (ro_diag_error(diag, spec->path, a->seed_line,
			    a->seed_col, field, "%s", lerr.msg) < 0)
				oom = 1;
			break;
		case RO_ENOTFOUND:
			set_missing(a, ro_buf_cstr(&rel), &oom);
			break;
		case RO_ENOMEM:
			oom = 1;
			break;
		default:
			nio++;
			if (first.code == RO_OK)
				first = lerr;
			if (ro_diag_error(diag, spec->path, a->seed_line,
			    a->seed_col, field, "%s", lerr.msg) < 0)
				oom = 1;
			break;
		}
	}
	if (oom)
		error = ro_err_set(err, RO_ENOMEM, "%s: out of memory while "
		    "reading seed files", spec->path);
	else if (nbad > 0 && diag->errors.n > first_diag)
		error = ro_err_set(err, RO_EINVALID, "%s",
		    diag->errors.v[first_diag]);
	else if (nbad > 0)
		error = ro_err_set(err, RO_EINVALID, "%s: %s", spec->path,
		    first.msg);
	else if (nio > 0)
		error = ro_err_set(err, RO_EIO, "%s: %s", spec->path,
		    first.msg);
	ro_buf_release(&rel);
	ro_buf_release(&content);
	return error;
}

/* Does path lie strictly inside root (both canonical)? */
static int
inside_root(const char *path, const char *root)
{
	size_t	n = strlen(root);

	if (n == 1 && root[0] == '/')
		return path[0] == '/' && path[1] != '\0';
	return strncmp(path, root, n) == 0 && path[n] == '/' &&
	    path[n + 1] != '\0';
}

static int
has_dotdot(const char *p)
{
	const char	*s;

	for (s = p; (s = strstr(s, "..")) != NULL; s += 2)
		if ((s == p || s[-1] == '/') && (s[2] == '\0' || s[2] == '/'))
			return 1;
	return 0;
}

static int
read_capped(int fd, const char *relpath, struct ro_buf *out,
    struct ro_err *err)
{
	size_t	got = 0, want;
	ssize_t	n;
	char	probe;
	int	error;

	for (;;) {
		if (got == RO_ARTIFACT_MAX) {
			n = read(fd, &probe, 1);
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1)
				return ro_err_errno(err, RO_EIO, "seed file %s",
				    relpath);
			if (n > 0)
				return ro_err_set(err, RO_ETOOBIG, "seed file "
				    "%s is over %u bytes", relpath,
				    RO_ARTIFACT_MAX);
			return RO_OK;
		}
		want = RO_ARTIFACT_MAX - got < SEED_CHUNK ?
		    RO_ARTIFACT_MAX - got : SEED_CHUNK;
		if ((error = ro_buf_grow(out, want)) < 0)
			return ro_err_set(err, error, "seed file %s: %s",
			    relpath, error == RO_ENOMEM ? "out of memory" :
			    "too big");
		n = read(fd, out->ptr + out->len, want);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return ro_err_errno(err, RO_EIO, "seed file %s",
			    relpath);
		if (n == 0)
			return RO_OK;
		out->len += (size_t)n;
		out->ptr[out->len] = '\0';
		got += (size_t)n;
	}
}

int
ro_seed_read_fs(void *arg, const char *relpath, struct ro_buf *out,
    struct ro_err *err)
{
	const char	*root = arg;
	char		 rroot[PATH_MAX], full[PATH_MAX], real[PATH_MAX];
	struct stat	 st;
	size_t		 start = out->len;
	int		 fd = -1, error = RO_OK;

	if (relpath[0] == '\0' || relpath[0] == '/' || has_dotdot(relpath))
		return ro_err_set(err, RO_EINVALID, "seed path %s is not "
		    "normalised relative to the root", relpath);
	if (realpath(root, rroot) == NULL)
		return ro_err_errno(err, RO_EIO, "source root %s", root);
	if (snprintf(full, sizeof(full), "%s/%s", rroot, relpath) >=
	    (int)sizeof(full))
		return ro_err_set(err, RO_EINVALID, "seed file %s: path too "
		    "long", relpath);
	if (realpath(full, real) == NULL) {
		if (errno == ENOENT || errno == ENOTDIR)
			return ro_err_set(err, RO_ENOTFOUND, "seed file %s not "
			    "found", relpath);
		if (errno == ELOOP)
			return ro_err_set(err, RO_EINVALID, "seed file %s: "
			    "symbolic link loop", relpath);
		return ro_err_errno(err, RO_EIO, "seed file %s", relpath);
	}
	if (!inside_root(real, rroot))
		return ro_err_set(err, RO_EINVALID, "seed file %s leaves the "
		    "source root through a symbolic link", relpath);
	/* O_NONBLOCK: a FIFO planted as a seed must not hang the agent */
	if ((fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK)) == -1) {
		if (errno == ENOENT)
			return ro_err_set(err, RO_ENOTFOUND, "seed file %s not "
			    "found", relpath);
		if (errno == ELOOP)
			return ro_err_set(err, RO_EINVALID, "seed file %s "
			    "became a symbolic link", relpath);
		return ro_err_errno(err, RO_EIO, "seed file %s", relpath);
	}
	if (fstat(fd, &st) == -1) {
		error = ro_err_errno(err, RO_EIO, "seed file %s", relpath);
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		error = ro_err_set(err, RO_EINVALID, "seed file %s is not a "
		    "regular file", relpath);
		goto done;
	}
	if ((unsigned long long)st.st_size > RO_ARTIFACT_MAX) {
		error = ro_err_set(err, RO_ETOOBIG, "seed file %s is %lld "
		    "bytes, limit is %u", relpath, (long long)st.st_size,
		    RO_ARTIFACT_MAX);
		goto done;
	}
	error = read_capped(fd, relpath, out, err);
done:
	close(fd);
	if (error < 0 && out->ptr != NULL) {
		out->len = start;
		out->ptr[start] = '\0';
	}
	return error;
}

void
ro_seed_drop_content(struct ro_spec *spec)
{
	size_t	i;

	for (i = 0; i < spec->n_artifacts; i++) {
		free(spec->artifacts[i].content);
		spec->artifacts[i].content = NULL;
		spec->artifacts[i].content_len = 0;
	}
}
