/*
 * hex.h: the one hexadecimal helper (common/hex.c): digit values,
 * lower-case encoding, exact-length decoding and %XX (URL) decoding.
 * Pure functions, thread-safe; only ro_hex_pct_decode allocates.
 */
#ifndef RO_HEX_H
#define RO_HEX_H

#include <stdbool.h>
#include <stddef.h>

#define RO_HEX_PLUS_SPACE	0x1	/* form encoding: '+' is a space */

/* The value of hex digit c (either case), or -1. */
int	ro_hex_val(int c);
/* The n bytes at p as 2n lower-case digits and a NUL (out: 2n + 1). */
void	ro_hex_encode(char *out, const void *p, size_t n);
/* Decode s, exactly 2n hex digits (either case), into out[n]. false when
 * s is NULL, of another length or holds a non-digit. */
bool	ro_hex_decode(unsigned char *out, size_t n, const char *s);
/*
 * Decode the %XX escapes of s[0..n) into a new NUL-terminated string
 * (*out, freed by the caller); flags RO_HEX_PLUS_SPACE. RO_EINVALID on a
 * short or bad escape or on %00, RO_ENOMEM.
 */
int	ro_hex_pct_decode(char **out, const char *s, size_t n, int flags);

#endif
