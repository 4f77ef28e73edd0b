/* err.c: error detail, set once where a failure is detected. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "roomops/err.h"

#include "banned.h"

int
ro_err_set(struct ro_err *err, int code, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

int
ro_err_errno(struct ro_err *err, int code, const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;
	size_t	len;

	if (err == NULL)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	len = strlen(err->msg);
	snprintf(err->msg + len, sizeof(err->msg) - len, ": %s",
	    strerror(saved));
	errno = saved;
	return code;
}

void
ro_err_clear(struct ro_err *err)
{
	if (err == NULL)
		return;
	err->code = RO_OK;
	err->msg[0] = '\0';
}

const char *
ro_status_str(int code)
{
	switch (code) {
	case RO_OK:		return "OK";
	case RO_ERROR:		return "ERROR";
	case RO_ENOTFOUND:	return "ENOTFOUND";
	case RO_EINVALID:	return "EINVALID";
	case RO_ETIMEOUT:	return "ETIMEOUT";
	case RO_EAGAIN:		return "EAGAIN";
	case RO_ENOMEM:		return "ENOMEM";
	case RO_ETOOBIG:	return "ETOOBIG";
	case RO_EIO:		return "EIO";
	case RO_ECONFLICT:	return "ECONFLICT";
	}
	return "EUNKNOWN";
}
