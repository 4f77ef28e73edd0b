/*
 * strv.h: a growable vector of owned C strings.
 * Not thread-safe. RO_STRV_INIT is usable at once.
 */
#ifndef RO_STRV_H
#define RO_STRV_H

#include <stdbool.h>
#include <stddef.h>

struct ro_strv {
	char	**v;
	size_t	  n;
	size_t	  cap;
};

#define RO_STRV_INIT	{ NULL, 0, 0 }

/* Copy s and append it. RO_ENOMEM. */
int	ro_strv_push(struct ro_strv *sv, const char *s);
/* Append s, taking ownership (s freed on failure too). */
int	ro_strv_push_owned(struct ro_strv *sv, char *s);
int	ro_strv_pushf(struct ro_strv *sv, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	ro_strv_copy(struct ro_strv *dst, const struct ro_strv *src);
bool	ro_strv_eq(const struct ro_strv *a, const struct ro_strv *b);
bool	ro_strv_contains(const struct ro_strv *sv, const char *s);
/* Remove the first s (order is not kept); false when absent. */
bool	ro_strv_remove(struct ro_strv *sv, const char *s);
/* Join with sep into a new string (free()), "" for empty. NULL on ENOMEM. */
char	*ro_strv_join(const struct ro_strv *sv, const char *sep);
void	ro_strv_release(struct ro_strv *sv);

#endif
