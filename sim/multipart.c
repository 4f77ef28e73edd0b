/*
 * multipart.c: a bounded multipart/form-data parser (RFC 7578, RFC 2046
 * section 5.1) over a body already in memory. Parts point into the body;
 * nothing is copied but the part names. Anything unexpected is
 * RO_EINVALID with the reason: headers over MULTIPART_HEADERS_MAX, more
 * than max parts, a part without a name, a name used twice, a missing
 * closing delimiter.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sim.h"

#include "../common/banned.h"

#define BOUNDARY_MAX	70	/* bytes, RFC 2046 */

/* Boundary parameter of a multipart/form-data Content-Type. */
static int
get_boundary(char out[BOUNDARY_MAX + 1], const char *ctype,
    struct ro_err *err)
{
	const char	*p, *q;
	size_t		 n;

	if (ctype == NULL || strncasecmp(ctype, "multipart/form-data", 19) != 0)
		return ro_err_set(err, RO_EINVALID, "Content-Type is not "
		    "multipart/form-data");
	for (p = ctype + 19; (p = strchr(p, ';')) != NULL; ) {
		p++;
		p += strspn(p, " \t");
		if (strncasecmp(p, "boundary=", 9) != 0)
			continue;
		p += 9;
		if (*p == '"') {
			if ((q = strchr(++p, '"')) == NULL)
				break;
		} else
			q = p + strcspn(p, "; \t");
		n = (size_t)(q - p);
		if (n == 0 || n > BOUNDARY_MAX)
			break;
		memcpy(out, p, n);
		out[n] = '\0';
		return RO_OK;
	}
	return ro_err_set(err, RO_EINVALID, "Content-Type: no valid boundary");
}

/*
 * name="..." of a Content-Disposition value (p..end, one header line).
 * Parameters are split on ';' outside quotes, so filename= never matches.
 */
static int
disposition_name(char out[MULTIPART_NAME_MAX + 1], const char *p,
    const char *end)
{
	const char	*v;
	size_t		 n;

	if (end - p < 9 || strncasecmp(p, "form-data", 9) != 0)
		return -1;
	p += 9;
	while (p < end) {
		if (*p != ';')
			return -1;
		for (p++; p < end && (*p == ' ' || *p == '\t'); p++)
			;
		v = p;
		while (p < end && *p != '=' && *p != ';')
			p++;
		if (p == end || *p != '=')
			return -1;
		n = (size_t)(p - v);
		p++;
		if (p < end && *p == '"') {
			const char *s = ++p;

			while (p < end && *p != '"')
				p++;
			if (p == end)
				return -1;
			if (n == 4 && strncasecmp(v, "name", 4) == 0) {
				if ((size_t)(p - s) > MULTIPART_NAME_MAX ||
				    p == s)
					return -1;
				memcpy(out, s, (size_t)(p - s));
				out[p - s] = '\0';
			}
			p++;
		} else {
			const char *s = p;

			while (p < end && *p != ';' && *p != ' ' && *p != '\t')
				p++;
			if (n == 4 && strncasecmp(v, "name", 4) == 0) {
				if ((size_t)(p - s) > MULTIPART_NAME_MAX ||
				    p == s)
					return -1;
				memcpy(out, s, (size_t)(p - s));
				out[p - s] = '\0';
			}
		}
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
	}
	return out[0] != '\0' ? 0 : -1;
}

/* Headers of one part (h..end, CRLF-separated lines): its name. */
static int
part_headers(struct multipart_part *part, const char *h, const char *end,
    struct ro_err *err)
{
	const char	*eol, *v;

	part->name[0] = '\0';
	for (; h < end; h = eol + 2) {
		if ((eol = memmem(h, (size_t)(end - h), "\r\n", 2)) == NULL)
			eol = end;
		if ((size_t)(eol - h) >= 20 &&
		    strncasecmp(h, "Content-Disposition:", 20) == 0) {
			for (v = h + 20; v < eol && (*v == ' ' || *v == '\t');
			    v++)
				;
			if (disposition_name(part->name, v, eol) < 0)
				return ro_err_set(err, RO_EINVALID, "part "
				    "headers: bad Content-Disposition");
		}
		if (eol == end)
			break;
	}
	if (part->name[0] == '\0')
		return ro_err_set(err, RO_EINVALID, "a part has no "
		    "Content-Disposition name");
	return RO_OK;
}

/* After a delimiter: "--" ends the body, else padding and CRLF. */
static int
after_delimiter(const char **pp, const char *end, bool *last)
{
	const char	*p = *pp;

	if (end - p >= 2 && p[0] == '-' && p[1] == '-') {
		*last = true;
		return 0;
	}
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
		return -1;
	*pp = p + 2;
	*last = false;
	return 0;
}

int
multipart_parse(const char *ctype, const char *body, size_t len,
    struct multipart_part *parts, size_t max, size_t *n, struct ro_err *err)
{
	char		 boundary[BOUNDARY_MAX + 1];
	char		 delim[BOUNDARY_MAX + 5];	/* CRLF "--" boundary */
	const char	*p, *end = body + len, *hend, *next;
	size_t		 dlen, i;
	bool		 last = false;
	int		 error;

	*n = 0;
	if ((error = get_boundary(boundary, ctype, err)) < 0)
		return error;
	dlen = (size_t)snprintf(delim, sizeof(delim), "\r\n--%s", boundary);
	/* the first delimiter may open the body, without the CRLF */
	if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0)
		p = body + dlen - 2;
	else if ((p = memmem(body, len, delim, dlen)) != NULL)
		p += dlen;
	else
		return ro_err_set(err, RO_EINVALID, "no multipart delimiter");
	if (after_delimiter(&p, end, &last) < 0)
		return ro_err_set(err, RO_EINVALID, "bad delimiter line");
	while (!last) {
		if (*n == max)
			return ro_err_set(err, RO_EINVALID, "more than %zu "
			    "parts", max);
		if (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
			hend = p;	/* a part without headers */
		else if ((hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4)) ==
		    NULL || (size_t)(hend - p) > MULTIPART_HEADERS_MAX)
			return ro_err_set(err, RO_EINVALID, "part %zu: headers "
			    "missing or over %u bytes", *n,
			    MULTIPART_HEADERS_MAX);
		if ((error = part_headers(&parts[*n], p, hend, err)) < 0)
			return error;
		for (i = 0; i < *n; i++)
			if (strcmp(parts[i].name, parts[*n].name) == 0)
				return ro_err_set(err, RO_EINVALID, "part "
				    "\"%s\" appears twice", parts[i].name);
		p = hend + (hend == p ? 2 : 4);
		if ((next = memmem(p, (size_t)(end - p), delim, dlen)) == NULL)
			return ro_err_set(err, RO_EINVALID, "part \"%s\": no "
			    "closing delimiter", parts[*n].name);
		parts[*n].data = p;
		parts[*n].len = (size_t)(next - p);
		(*n)++;
		p = next + dlen;
		if (after_delimiter(&p, end, &last) < 0)
			return ro_err_set(err, RO_EINVALID, "bad delimiter "
			    "line");
	}
	return RO_OK;
}

const struct multipart_part *
multipart_find(const struct multipart_part *p, size_t n, const char *name)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(p[i].name, name) == 0)
			return &p[i];
	return NULL;
}
