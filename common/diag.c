/* diag.c: collected errors and warnings with positions and field paths. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "roomops/buf.h"
#include "roomops/diag.h"
#include "roomops/err.h"

#include "banned.h"

static int
diag_add(struct ro_strv *sv, const char *origin, unsigned line, unsigned col,
    const char *field, const char *fmt, va_list ap)
{
	struct ro_buf	b = RO_BUF_INIT;

	if (sv->n >= RO_DIAG_ERRORS_MAX)
		return RO_OK;	/* enough to act on; keep memory bounded */
	ro_buf_init(&b, 8192);
	if (origin != NULL)
		ro_buf_addstr(&b, origin);
	if (line > 0)
		ro_buf_printf(&b, ":%u:%u", line, col);
	if (origin != NULL || line > 0)
		ro_buf_addstr(&b, ": ");
	if (field != NULL && field[0] != '\0')
		ro_buf_printf(&b, "%s: ", field);
	ro_buf_vprintf(&b, fmt, ap);
	return ro_strv_push_owned(sv, ro_buf_detach(&b, NULL));
}

int
ro_diag_error(struct ro_diag *d, const char *origin, unsigned line,
    unsigned col, const char *field, const char *fmt, ...)
{
	va_list	ap;
	int	error;

	va_start(ap, fmt);
	error = diag_add(&d->errors, origin, line, col, field, fmt, ap);
	va_end(ap);
	return error;
}

int
ro_diag_warn(struct ro_diag *d, const char *origin, unsigned line,
    unsigned col, const char *field, const char *fmt, ...)
{
	va_list	ap;
	int	error;

	va_start(ap, fmt);
	error = diag_add(&d->warnings, origin, line, col, field, fmt, ap);
	va_end(ap);
	return error;
}

void
ro_diag_release(struct ro_diag *d)
{
	ro_strv_release(&d->errors);
	ro_strv_release(&d->warnings);
}
