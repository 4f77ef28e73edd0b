/* buf.c: the bounded growable buffer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/buf.h"
#include "roomops/hex.h"

#include "banned.h"

static size_t
buf_max(const struct ro_buf *b)
{
	return b->max != 0 ? b->max : RO_BUF_DEFAULT_MAX;
}

void
ro_buf_init(struct ro_buf *b, size_t max)
{
	b->ptr = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void
ro_buf_release(struct ro_buf *b)
{
	free(b->ptr);
	ro_buf_init(b, b->max);
}

void
ro_buf_reset(struct ro_buf *b)
{
	b->len = 0;
	if (b->ptr != NULL)
		b->ptr[0] = '\0';
}

int
ro_buf_grow(struct ro_buf *b, size_t n)
{
	size_t	 need, cap;
	char	*p;

	if (n > buf_max(b) || b->len > buf_max(b) - n)
		return RO_ETOOBIG;
	need = b->len + n + 1;
	if (need <= b->cap)
		return RO_OK;
	cap = b->cap != 0 ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if ((p = realloc(b->ptr, cap)) == NULL)
		return RO_ENOMEM;
	if (b->ptr == NULL)
		p[0] = '\0';
	b->ptr = p;
	b->cap = cap;
	return RO_OK;
}

int
ro_buf_add(struct ro_buf *b, const void *p, size_t n)
{
	int	error;

	if ((error = ro_buf_grow(b, n)) < 0)
		return error;
	if (n > 0)
		memcpy(b->ptr + b->len, p, n);
	b->len += n;
	b->ptr[b->len] = '\0';
	return RO_OK;
}

int
ro_buf_addstr(struct ro_buf *b, const char *s)
{
	return ro_buf_add(b, s, strlen(s));
}

int
ro_buf_addch(struct ro_buf *b, char c)
{
	return ro_buf_add(b, &c, 1);
}

/* vprintf-style: lets clang -Wformat-nonliteral accept fmt below */
int	ro_buf_vprintf(struct ro_buf *, const char *, va_list) RO_PRINTF(2, 0);

int
ro_buf_vprintf(struct ro_buf *b, const char *fmt, va_list ap)
{
	va_list	ap2;
	int	n, error;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return RO_ERROR;
	if ((error = ro_buf_grow(b, (size_t)n)) < 0)
		return error;
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return RO_OK;
}

int
ro_buf_printf(struct ro_buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	error;

	va_start(ap, fmt);
	error = ro_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return error;
}

int
ro_buf_add_json_str(struct ro_buf *b, const char *s)
{
	const unsigned char *p;
	int	error = RO_OK;

	if ((error = ro_buf_addch(b, '"')) < 0)
		return error;
	for (p = (const unsigned char *)s; *p != '\0' && error == RO_OK; p++) {
		switch (*p) {
		case '"':	error = ro_buf_add(b, "\\\"", 2); break;
		case '\\':	error = ro_buf_add(b, "\\\\", 2); break;
		case '\n':	error = ro_buf_add(b, "\\n", 2); break;
		case '\r':	error = ro_buf_add(b, "\\r", 2); break;
		case '\t':	error = ro_buf_add(b, "\\t", 2); break;
		default:
			if (*p < 0x20) {
				char	esc[7] = "\\u00";

				ro_hex_encode(esc + 4, p, 1);
				error = ro_buf_add(b, esc, 6);
			} else
				error = ro_buf_addch(b, (char)*p);
		}
	}
	if (error == RO_OK)
		error = ro_buf_addch(b, '"');
	return error;
}

char *
ro_buf_detach(struct ro_buf *b, size_t *len)
{
	char	*p = b->ptr;

	if (p == NULL)
		p = calloc(1, 1);
	if (len != NULL)
		*len = b->len;
	ro_buf_init(b, b->max);
	return p;
}

const char *
ro_buf_cstr(const struct ro_buf *b)
{
	return b->ptr != NULL ? b->ptr : "";
}
