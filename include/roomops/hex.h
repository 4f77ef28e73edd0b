/*
 * hex.h: the one hex codec: digests to text, text to bytes, and %XX
 * unescaping of URL paths, queries and form bodies (common/hex.c).
 * Pure functions: any thread.
 */
#ifndef RO_HEX_H
#define RO_HEX_H

#include <stdbool.h>
#include <stddef.h>

/* The value of hex digit c (either case), or -1. */
int	ro_hex_digit(int c);
/* n bytes of p as 2n lower-case hex digits and a NUL into out. */
void	ro_hex_encode(char *out, const void *p, size_t n);
/* Exactly 2n hex digits of s (then its end) into n bytes of out. */
bool	ro_hex_decode(unsigned char *out, size_t n, const char *s);
/*
 * s[0..n) with its %XX escapes decoded (and '+' as a space when form)
 * into a new NUL-terminated string *out. RO_EINVALID on a bad or cut
 * escape or an escaped NUL (%00); RO_ENOMEM.
 */
int	ro_hex_unescape(char **out, const char *s, size_t n, bool form);

#endif
