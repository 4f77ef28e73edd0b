/* strmap.c: string-keyed hash map (FNV-1a, chained, doubling). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/err.h"
#include "roomops/strmap.h"

#include "banned.h"

#define STRMAP_MIN_BUCKETS	64

struct ro_strmap_ent {
	struct ro_strmap_ent	*next;
	void			*v;
	char			 key[];
};

#define FNV1A_OFFSET	14695981039346656037ull	/* 64-bit offset basis */
#define FNV1A_PRIME	1099511628211ull

uint64_t
ro_strmap_hash(const char *s)
{
	uint64_t	h = FNV1A_OFFSET;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * FNV1A_PRIME;
	return h;
}

static struct ro_strmap_ent **
slot(const struct ro_strmap *m, const char *key)
{
	struct ro_strmap_ent	**pp;

	for (pp = &m->b[ro_strmap_hash(key) & (m->nb - 1)]; *pp != NULL;
	    pp = &(*pp)->next)
		if (strcmp((*pp)->key, key) == 0)
			break;
	return pp;
}

void *
ro_strmap_get(const struct ro_strmap *m, const char *key)
{
	struct ro_strmap_ent	*e;

	if (m->nb == 0)
		return NULL;
	return (e = *slot(m, key)) != NULL ? e->v : NULL;
}

static int
grow(struct ro_strmap *m)
{
	struct ro_strmap_ent	**b, *e, *next;
	size_t			  nb = m->nb != 0 ? m->nb * 2 : STRMAP_MIN_BUCKETS;
	size_t			  i;

	if ((b = calloc(nb, sizeof(*b))) == NULL)
		return RO_ENOMEM;
	for (i = 0; i < m->nb; i++)
		for (e = m->b[i]; e != NULL; e = next) {
			next = e->next;
			e->next = b[ro_strmap_hash(e->key) & (nb - 1)];
			b[ro_strmap_hash(e->key) & (nb - 1)] = e;
		}
	free(m->b);
	m->b = b;
	m->nb = nb;
	return RO_OK;
}

int
ro_strmap_put(struct ro_strmap *m, const char *key, void *v)
{
	struct ro_strmap_ent	**pp, *e;
	size_t			  len = strlen(key);

	if ((m->nb == 0 || m->n >= m->nb) && grow(m) < 0)
		return RO_ENOMEM;
	if ((e = *(pp = slot(m, key))) != NULL) {
		e->v = v;
		return RO_OK;
	}
	if ((e = malloc(sizeof(*e) + len + 1)) == NULL)
		return RO_ENOMEM;
	memcpy(e->key, key, len + 1);
	e->v = v;
	e->next = NULL;
	*pp = e;
	m->n++;
	return RO_OK;
}

void *
ro_strmap_del(struct ro_strmap *m, const char *key)
{
	struct ro_strmap_ent	**pp, *e;
	void			 *v;

	if (m->nb == 0 || (e = *(pp = slot(m, key))) == NULL)
		return NULL;
	*pp = e->next;
	v = e->v;
	free(e);
	m->n--;
	return v;
}

void
ro_strmap_release(struct ro_strmap *m)
{
	struct ro_strmap_ent	*e, *next;
	size_t			 i;

	for (i = 0; i < m->nb; i++)
		for (e = m->b[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	free(m->b);
	m->b = NULL;
	m->nb = m->n = 0;
}
