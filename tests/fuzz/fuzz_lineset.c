/*
 * fuzz_lineset.c: libFuzzer target for ro_lineset_union.
 *
 * The input is two line sets separated by the first NUL byte (all of it
 * is a when there is none). Any input must merge or fail cleanly, and a
 * merge u = union(a, b) must be:
 *   - commutative:   union(b, a) == u
 *   - a fixed point: union(u, "") == u, union(u, a) == u, union(u, b) == u
 *   - exact:         every line of u is a line of a or b, and every
 *                    non-empty line of a and b is in u, once.
 * Seed corpus: tests/fuzz/corpus/lineset/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/lineset.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OUT_MAX	(1u << 20)	/* bytes: keeps each run fast */

static int
merge(const char *a, size_t alen, const char *b, size_t blen,
    struct ro_buf *out)
{
	struct ro_err	err = RO_ERR_INIT;
	int		rc;

	ro_buf_init(out, OUT_MAX);
	rc = ro_lineset_union(a, alen, b, blen, out, &err);
	if (rc != RO_OK) {
		/* only limits may fail, and they say so */
		if ((rc != RO_ETOOBIG && rc != RO_ENOMEM) || err.code != rc ||
		    err.msg[0] == '\0')
			abort();
	}
	return rc;
}

static void
same(const struct ro_buf *x, const struct ro_buf *y, const char *what)
{
	if (x->len != y->len || (x->len > 0 && memcmp(x->ptr, y->ptr,
	    x->len) != 0)) {
		fprintf(stderr, "%s differs:\n%s\n--\n%s\n", what,
		    ro_buf_cstr(x), ro_buf_cstr(y));
		abort();
	}
}

/* Is the line [p, p+n) a line of s[0..len)? */
static int
has_line(const char *s, size_t len, const char *p, size_t n)
{
	const char	*q = s, *end = s + len, *nl;
	size_t		 m;

	while (q < end) {
		nl = memchr(q, '\n', (size_t)(end - q));
		m = nl != NULL ? (size_t)(nl - q) : (size_t)(end - q);
		if (m == n && memcmp(q, p, n) == 0)
			return 1;
		q = nl != NULL ? nl + 1 : end;
	}
	return 0;
}

/* Every non-empty line of s is in u exactly once. */
static void
covered(const char *s, size_t len, const struct ro_buf *u)
{
	const char	*q = s, *end = s + len, *nl, *hit;
	size_t		 m;
	int		 count;

	while (q < end) {
		nl = memchr(q, '\n', (size_t)(end - q));
		m = nl != NULL ? (size_t)(nl - q) : (size_t)(end - q);
		if (m > 0) {
			count = 0;
			for (hit = u->ptr; hit != NULL && hit < u->ptr + u->len;
			    hit = memchr(hit, '\n', (size_t)(u->ptr + u->len -
			    hit)), hit = hit != NULL ? hit + 1 : NULL) {
				if ((size_t)(u->ptr + u->len - hit) > m &&
				    memcmp(hit, q, m) == 0 && hit[m] == '\n')
					count++;
			}
			if (count != 1)
				abort();
		}
		q = nl != NULL ? nl + 1 : end;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ro_buf	 u, v, w;
	const char	*a = (const char *)data, *b, *sep, *p, *nl;
	size_t		 alen, blen;

	if (size > (64u << 10))		/* bytes: keep the checks quadratic-safe */
		return 0;
	sep = memchr(a, '\0', size);
	alen = sep != NULL ? (size_t)(sep - a) : size;
	b = sep != NULL ? sep + 1 : a + size;
	blen = sep != NULL ? size - alen - 1 : 0;

	if (merge(a, alen, b, blen, &u) != RO_OK) {
		ro_buf_release(&u);
		return 0;
	}
	if (merge(b, blen, a, alen, &v) != RO_OK)
		abort();
	same(&u, &v, "union(b, a)");
	ro_buf_release(&v);
	if (merge(u.ptr, u.len, "", 0, &v) != RO_OK)
		abort();
	same(&u, &v, "union(u, \"\")");
	ro_buf_release(&v);
	if (merge(u.ptr, u.len, a, alen, &v) != RO_OK ||
	    merge(b, blen, u.ptr, u.len, &w) != RO_OK)
		abort();
	same(&u, &v, "union(u, a)");
	same(&u, &w, "union(b, u)");
	ro_buf_release(&v);
	ro_buf_release(&w);

	/* Every output line comes from an input; every input line is there. */
	for (p = u.ptr; p != NULL && p < u.ptr + u.len; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(u.ptr + u.len - p));
		if (nl == NULL || nl == p)
			abort();	/* lines end in '\n' and are not empty */
		if (!has_line(a, alen, p, (size_t)(nl - p)) &&
		    !has_line(b, blen, p, (size_t)(nl - p)))
			abort();
	}
	covered(a, alen, &u);
	covered(b, blen, &u);
	ro_buf_release(&u);
	return 0;
}
