/*
 * file.h: whole-file reads with a size cap, atomic replacement, and
 * durable appends. Thread-safe on distinct paths.
 */
#ifndef RO_FILE_H
#define RO_FILE_H

#include <stddef.h>

#include "roomops/buf.h"

/*
 * Read path into out (appended; NUL-terminated). RO_ENOTFOUND when the
 * file does not exist, RO_ETOOBIG over max bytes, RO_EIO otherwise.
 */
int	ro_file_read(const char *path, size_t max, struct ro_buf *out,
	    struct ro_err *err);
/*
 * Replace path atomically: write <path>.tmp (O_EXCL, 0600), fsync, rename
 * over path, fsync the directory. The temp file is removed on error.
 */
int	ro_file_replace(const char *path, const void *p, size_t n,
	    struct ro_err *err);
/* Append n bytes to path with O_APPEND in one write, then fsync. */
int	ro_file_append_sync(const char *path, const void *p, size_t n,
	    struct ro_err *err);
/* mkdir -p with mode. */
int	ro_file_mkdirs(const char *path, unsigned mode, struct ro_err *err);
/* mkdir -p of the folder holding the file path (none: RO_OK). */
int	ro_file_mkdirs_parent(const char *path, unsigned mode,
	    struct ro_err *err);

#endif
