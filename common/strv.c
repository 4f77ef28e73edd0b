/* strv.c: vectors of owned strings. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/buf.h"
#include "roomops/err.h"
#include "roomops/strv.h"

#include "banned.h"

int
ro_strv_push_owned(struct ro_strv *sv, char *s)
{
	char	**v;
	size_t	  cap;

	if (s == NULL)
		return RO_ENOMEM;
	if (sv->n == sv->cap) {
		cap = sv->cap != 0 ? sv->cap * 2 : 4;
		if ((v = reallocarray(sv->v, cap, sizeof(*v))) == NULL) {
			free(s);
			return RO_ENOMEM;
		}
		sv->v = v;
		sv->cap = cap;
	}
	sv->v[sv->n++] = s;
	return RO_OK;
}

int
ro_strv_push(struct ro_strv *sv, const char *s)
{
	return ro_strv_push_owned(sv, strdup(s));
}

int
ro_strv_pushf(struct ro_strv *sv, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return RO_ENOMEM;
	return ro_strv_push_owned(sv, s);
}

int
ro_strv_copy(struct ro_strv *dst, const struct ro_strv *src)
{
	size_t	i;
	int	error;

	for (i = 0; i < src->n; i++)
		if ((error = ro_strv_push(dst, src->v[i])) < 0)
			return error;
	return RO_OK;
}

bool
ro_strv_eq(const struct ro_strv *a, const struct ro_strv *b)
{
	size_t	i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return false;
	return true;
}

bool
ro_strv_contains(const struct ro_strv *sv, const char *s)
{
	size_t	i;

	for (i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return true;
	return false;
}

bool
ro_strv_remove(struct ro_strv *sv, const char *s)
{
	size_t	i;

	for (i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0) {
			free(sv->v[i]);
			sv->v[i] = sv->v[--sv->n];
			return true;
		}
	return false;
}

char *
ro_strv_join(const struct ro_strv *sv, const char *sep)
{
	struct ro_buf	b = RO_BUF_INIT;
	size_t		i;

	for (i = 0; i < sv->n; i++) {
		if ((i > 0 && ro_buf_addstr(&b, sep) < 0) ||
		    ro_buf_addstr(&b, sv->v[i]) < 0) {
			ro_buf_release(&b);
			return NULL;
		}
	}
	return ro_buf_detach(&b, NULL);
}

void
ro_strv_release(struct ro_strv *sv)
{
	size_t	i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}
