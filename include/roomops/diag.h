/*
 * diag.h: diagnostics collected while loading and validating input.
 * Every message is "origin:line:col: field.path: text" (line and col are
 * left out when unknown). Not thread-safe; one owner.
 */
#ifndef RO_DIAG_H
#define RO_DIAG_H

#include "roomops/strv.h"

struct ro_diag {
	struct ro_strv	errors;
	struct ro_strv	warnings;
};

#define RO_DIAG_INIT	{ RO_STRV_INIT, RO_STRV_INIT }
#define RO_DIAG_ERRORS_MAX	200	/* per diag; later ones are counted */

/* Add a message; line 0 leaves position out. RO_ENOMEM. */
int	ro_diag_error(struct ro_diag *d, const char *origin, unsigned line,
	    unsigned col, const char *field, const char *fmt, ...)
	    __attribute__((format(printf, 6, 7)));
int	ro_diag_warn(struct ro_diag *d, const char *origin, unsigned line,
	    unsigned col, const char *field, const char *fmt, ...)
	    __attribute__((format(printf, 6, 7)));
void	ro_diag_release(struct ro_diag *d);

#endif
