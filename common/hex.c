/* hex.c: hex digits, digests as text and %XX unescaping. */
#include <stdlib.h>
#include <string.h>

#include "roomops/err.h"
#include "roomops/hex.h"

#include "banned.h"

int
ro_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void
ro_hex_encode(char *out, const void *p, size_t n)
{
	static const char	 digits[] = "0123456789abcdef";
	const unsigned char	*b = p;
	size_t			 i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 0xf];
	}
	out[2 * n] = '\0';
}

bool
ro_hex_decode(unsigned char *out, size_t n, const char *s)
{
	size_t	i;
	int	hi, lo;

	if (s == NULL || strlen(s) != 2 * n)
		return false;
	for (i = 0; i < n; i++) {
		if ((hi = ro_hex_digit((unsigned char)s[2 * i])) < 0 ||
		    (lo = ro_hex_digit((unsigned char)s[2 * i + 1])) < 0)
			return false;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return true;
}

int
ro_hex_unescape(char **out, const char *s, size_t n, bool form)
{
	char	*d;
	size_t	 i, j = 0;
	int	 hi, lo;

	*out = NULL;
	if ((d = malloc(n + 1)) == NULL)
		return RO_ENOMEM;
	for (i = 0; i < n; i++) {
		if (s[i] != '%') {
			d[j++] = form && s[i] == '+' ? ' ' : s[i];
			continue;
		}
		if (n - i < 3 ||
		    (hi = ro_hex_digit((unsigned char)s[i + 1])) < 0 ||
		    (lo = ro_hex_digit((unsigned char)s[i + 2])) < 0 ||
		    (hi == 0 && lo == 0)) {
			free(d);
			return RO_EINVALID;
		}
		d[j++] = (char)(hi << 4 | lo);
		i += 2;
	}
	d[j] = '\0';
	*out = d;
	return RO_OK;
}
