/* file.c: capped reads, atomic replacement, durable appends. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roomops/file.h"

#include "banned.h"

#define FILE_CHUNK	(64u << 10)	/* bytes per read(2) */

int
ro_file_read(const char *path, size_t max, struct ro_buf *out,
    struct ro_err *err)
{
	struct stat	st;
	ssize_t		n;
	size_t		start = out->len, chunk;
	int		fd, error = RO_OK;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return ro_err_errno(err, errno == ENOENT ? RO_ENOTFOUND :
		    RO_EIO, "%s", path);
	if (fstat(fd, &st) == -1) {
		error = ro_err_errno(err, RO_EIO, "%s", path);
		goto done;
	}
	if (S_ISDIR(st.st_mode)) {
		error = ro_err_set(err, RO_EIO, "%s: is a directory", path);
		goto done;
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max) {
		error = ro_err_set(err, RO_ETOOBIG, "%s: file is %jd bytes, "
		    "limit is %zu", path, (intmax_t)st.st_size, max);
		goto done;
	}
	for (;;) {
		/* read at most max + 1 bytes in all: one more tells "too big" */
		chunk = max + 1 - (out->len - start);
		if (chunk > FILE_CHUNK)
			chunk = FILE_CHUNK;
		if ((error = ro_buf_grow(out, chunk)) < 0) {
			ro_err_set(err, error, "%s: %s", path, error == RO_ETOOBIG ?
			    "larger than the buffer allows" : "out of memory");
			goto done;
		}
		n = read(fd, out->ptr + out->len, chunk);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			error = ro_err_errno(err, RO_EIO, "%s", path);
			goto done;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
		out->ptr[out->len] = '\0';
		if (out->len - start > max) {
			error = ro_err_set(err, RO_ETOOBIG, "%s: file is over "
			    "%zu bytes", path, max);
			goto done;
		}
	}
done:
	close(fd);
	if (error < 0 && out->ptr != NULL) {
		out->len = start;
		out->ptr[start] = '\0';
	}
	return error;
}

static int
write_all(int fd, const void *p, size_t n)
{
	const char	*c = p;
	ssize_t		 w;

	while (n > 0) {
		w = write(fd, c, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
fsync_dir_of(const char *path)
{
	char	copy[PATH_MAX];
	int	fd, rc;

	if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int
ro_file_replace(const char *path, const void *p, size_t n, struct ro_err *err)
{
	char	tmp[PATH_MAX];
	int	fd = -1, error = RO_OK;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return ro_err_set(err, RO_EINVALID, "%s: path too long", path);
	(void)unlink(tmp);	/* left over by a crash: never ours to keep */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1) {
		error = ro_err_errno(err, RO_EIO, "%s", tmp);
		goto done;
	}
	if (write_all(fd, p, n) == -1 || fsync(fd) == -1) {
		error = ro_err_errno(err, RO_EIO, "%s", tmp);
		goto done;
	}
	if (close(fd) == -1) {
		fd = -1;
		error = ro_err_errno(err, RO_EIO, "%s", tmp);
		goto done;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		error = ro_err_errno(err, RO_EIO, "rename %s", path);
		goto done;
	}
	if (fsync_dir_of(path) == -1)
		error = ro_err_errno(err, RO_EIO, "fsync directory of %s", path);
done:
	if (fd != -1)
		close(fd);
	if (error < 0)
		(void)unlink(tmp);
	return error;
}

int
ro_file_append_sync(const char *path, const void *p, size_t n,
    struct ro_err *err)
{
	int	fd, error = RO_OK;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0640)) == -1)
		return ro_err_errno(err, RO_EIO, "%s", path);
	if (write_all(fd, p, n) == -1 || fdatasync(fd) == -1)
		error = ro_err_errno(err, RO_EIO, "%s", path);
	if (close(fd) == -1 && error == RO_OK)
		error = ro_err_errno(err, RO_EIO, "%s", path);
	return error;
}

int
ro_file_mkdirs(const char *path, unsigned mode, struct ro_err *err)
{
	char	 copy[PATH_MAX];
	char	*p;

	if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy))
		return ro_err_set(err, RO_EINVALID, "%s: path too long", path);
	for (p = copy + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, mode) == -1 && errno != EEXIST)
			return ro_err_errno(err, RO_EIO, "mkdir %s", copy);
		*p = '/';
	}
	if (mkdir(copy, mode) == -1 && errno != EEXIST)
		return ro_err_errno(err, RO_EIO, "mkdir %s", copy);
	return RO_OK;
}

int
ro_file_mkdirs_parent(const char *path, unsigned mode, struct ro_err *err)
{
	char	dir[PATH_MAX];
	char	*slash;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return ro_err_set(err, RO_EINVALID, "%s: path too long", path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return RO_OK;
	*slash = '\0';
	return ro_file_mkdirs(dir, mode, err);
}
