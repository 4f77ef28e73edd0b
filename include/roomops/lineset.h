/*
 * lineset.h: the union of two sets of text lines, as used to merge the
 * audit notes of two writers (git's cat_sort_uniq rule, ordered by the
 * JSON "ts" field of each line).
 *
 * Pure functions, no global state: thread-safe.
 */
#ifndef RO_LINESET_H
#define RO_LINESET_H

#include <stddef.h>

#include "roomops/buf.h"

#define RO_LINESET_LINES_MAX	1000000u	/* lines in a and b together */
#define RO_LINESET_LINE_MAX	(1u << 20)	/* bytes in one line */
#define RO_LINESET_TS_MAX	64u		/* bytes of a "ts" value */

/*
 * Merge the lines of a[0..alen) and b[0..blen) into out (appended).
 *
 * A line ends at '\n' or at the end of its input; the '\n' is not part of
 * the line, empty lines are dropped, every other byte (NUL and '\r'
 * included) is kept. The result holds every distinct line of a and b
 * exactly once, each followed by '\n', ordered by:
 *   1. lines whose top-level JSON object has a string "ts" of at most
 *      RO_LINESET_TS_MAX bytes first, by that string (byte order: ISO-8601
 *      UTC timestamps of one format sort by time), then by content;
 *   2. every other line after them, by content (byte order).
 * So the result does not depend on which input is a and which is b, and
 * merging a result again with either input changes nothing.
 *
 * @param out  appended to; on error it may hold part of the result
 * @param err  one-line reason on failure; may be NULL
 * @return RO_OK, RO_ETOOBIG (more than RO_LINESET_LINES_MAX lines, a line
 *         over RO_LINESET_LINE_MAX bytes, or out->max reached), RO_ENOMEM
 */
int	ro_lineset_union(const char *a, size_t alen, const char *b,
	    size_t blen, struct ro_buf *out, struct ro_err *err);

#endif
