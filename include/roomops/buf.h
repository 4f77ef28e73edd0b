/*
 * buf.h: the one growable, bounded byte buffer (after git's strbuf).
 *
 * Invariants: ptr is NUL-terminated whenever it is not NULL, len < cap,
 * and len never exceeds max (0 means RO_BUF_DEFAULT_MAX). A buffer from
 * RO_BUF_INIT is usable at once. Not thread-safe; one owner at a time.
 */
#ifndef RO_BUF_H
#define RO_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "roomops/err.h"

#define RO_BUF_DEFAULT_MAX	(64u << 20)	/* bytes */

struct ro_buf {
	char	*ptr;
	size_t	 len;
	size_t	 cap;
	size_t	 max;		/* bytes; 0 = RO_BUF_DEFAULT_MAX */
};

#define RO_BUF_INIT	{ NULL, 0, 0, 0 }

void	ro_buf_init(struct ro_buf *b, size_t max);
/* Free contents; the buffer is left as RO_BUF_INIT with the same max. */
void	ro_buf_release(struct ro_buf *b);
/* len = 0, memory kept. */
void	ro_buf_reset(struct ro_buf *b);
/* Ensure room for n more bytes. RO_ETOOBIG past max, RO_ENOMEM. */
int	ro_buf_grow(struct ro_buf *b, size_t n);
int	ro_buf_add(struct ro_buf *b, const void *p, size_t n);
int	ro_buf_addstr(struct ro_buf *b, const char *s);
int	ro_buf_addch(struct ro_buf *b, char c);
int	ro_buf_printf(struct ro_buf *b, const char *fmt, ...) RO_PRINTF(2, 3);
int	ro_buf_vprintf(struct ro_buf *b, const char *fmt, va_list ap);
/* Append s as a JSON string literal (quotes included). */
int	ro_buf_add_json_str(struct ro_buf *b, const char *s);
/* Hand the contents to the caller (free() them); b is reset to empty. */
char	*ro_buf_detach(struct ro_buf *b, size_t *len);
/* Contents as a C string; "" when empty. Valid until the next change. */
const char *ro_buf_cstr(const struct ro_buf *b);

#endif
