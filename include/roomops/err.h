/*
 * err.h: the one status enum and the error detail struct of RoomOps.
 *
 * Functions that can fail return an int: RO_OK (0) or a negative
 * enum ro_status. Detail goes into a caller-provided struct ro_err, set
 * once where the failure is detected and passed up unchanged. No
 * allocation; safe to use from any thread on distinct structs.
 */
#ifndef RO_ERR_H
#define RO_ERR_H

#include <stddef.h>

#define RO_PRINTF(f, a)	__attribute__((format(printf, f, a)))
#define RO_NORETURN	__attribute__((noreturn))

enum ro_status {
	RO_OK = 0,
	RO_ERROR = -1,		/* generic: details in struct ro_err */
	RO_ENOTFOUND = -2,
	RO_EINVALID = -3,	/* bad input: spec, JSON, argument */
	RO_ETIMEOUT = -4,
	RO_EAGAIN = -5,		/* transient: retry with backoff */
	RO_ENOMEM = -6,
	RO_ETOOBIG = -7,	/* an input exceeded its limit */
	RO_EIO = -8,		/* file system or network I/O */
	RO_ECONFLICT = -9	/* concurrent writer moved something */
};

#define RO_ERR_MSG_MAX	256	/* bytes, including NUL */

struct ro_err {
	int	code;
	char	msg[RO_ERR_MSG_MAX];
};

#define RO_ERR_INIT	{ RO_OK, "" }

/* Fill err (may be NULL) and return code; truncates long messages. */
int	ro_err_set(struct ro_err *err, int code, const char *fmt, ...)
	    RO_PRINTF(3, 4);
/* As ro_err_set, appending ": strerror(errno)". errno is preserved. */
int	ro_err_errno(struct ro_err *err, int code, const char *fmt, ...)
	    RO_PRINTF(3, 4);
void	ro_err_clear(struct ro_err *err);
/* Short constant name of a status, e.g. "EINVALID". */
const char *ro_status_str(int code);

#ifdef NDEBUG
#define RO_ASSERT(x)	((void)0)
#else
#include <assert.h>
#define RO_ASSERT(x)	assert(x)
#endif

#define RO_NELEM(a)	(sizeof(a) / sizeof((a)[0]))

#endif
