/* node.c: the position-carrying document tree, its text helpers, and the
 * cJSON -> tree conversion. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/err.h"
#include "roomops/hex.h"
#include "roomops/node.h"

#include "banned.h"

#define NODE_JSON_ITEMS_MAX	(1u << 24)	/* members of one container */
#define NODE_KEY_PLAIN_MAX	64		/* bytes of an unquoted path key */

void
ro_node_release(struct ro_node *n)
{
	size_t	i;

	if (n == NULL)
		return;
	for (i = 0; i < n->n; i++)
		ro_node_release(&n->items[i]);
	free(n->items);
	free(n->str);
	memset(n, 0, sizeof(*n));
}

int
ro_node_append(struct ro_node *parent, struct ro_node **child)
{
	struct ro_node	*items;
	size_t		 cap;

	RO_ASSERT(parent->type == RO_NODE_SEQ || parent->type == RO_NODE_MAP);
	if (parent->n == parent->cap) {
		cap = parent->cap != 0 ? parent->cap * 2 : 4;
		if ((items = reallocarray(parent->items, cap,
		    sizeof(*items))) == NULL)
			return RO_ENOMEM;
		parent->items = items;
		parent->cap = cap;
	}
	*child = &parent->items[parent->n++];
	memset(*child, 0, sizeof(**child));
	return RO_OK;
}

int
ro_node_set_scalar(struct ro_node *n, enum ro_node_type type, const char *s,
    size_t len)
{
	char	*p;

	if ((p = malloc(len + 1)) == NULL)
		return RO_ENOMEM;
	if (len > 0)
		memcpy(p, s, len);
	p[len] = '\0';
	free(n->str);
	n->type = type;
	n->str = p;
	n->len = len;
	return RO_OK;
}

size_t
ro_node_map_size(const struct ro_node *map)
{
	return map->type == RO_NODE_MAP ? map->n / 2 : 0;
}

const struct ro_node *
ro_node_map_key(const struct ro_node *map, size_t i)
{
	return &map->items[2 * i];
}

const struct ro_node *
ro_node_map_value(const struct ro_node *map, size_t i)
{
	return &map->items[2 * i + 1];
}

const char *
ro_node_type_name(enum ro_node_type type)
{
	switch (type) {
	case RO_NODE_NULL:	return "null";
	case RO_NODE_BOOL:	return "a boolean";
	case RO_NODE_INT:	return "an integer";
	case RO_NODE_FLOAT:	return "a number";
	case RO_NODE_STR:	return "a string";
	case RO_NODE_SEQ:	return "a list";
	case RO_NODE_MAP:	return "a mapping";
	}
	return "an unknown value";
}

/* Length of the valid UTF-8 sequence at p (n bytes left), or 0. */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char	lo = 0x80, hi = 0xbf;
	size_t		need, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		need = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		need = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (p[0] == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		need = 4;
		if (p[0] == 0xf0)
			lo = 0x90;	/* overlong */
		else if (p[0] == 0xf4)
			hi = 0x8f;	/* past U+10FFFF */
	} else
		return 0;		/* continuation, C0, C1, F5.. */
	if (n < need || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < need; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return need;
}

bool
ro_node_utf8_valid(const char *s, size_t len, size_t *bad)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, k;

	while (i < len) {
		if (p[i] == '\0' || (k = utf8_seq(p + i, len - i)) == 0) {
			if (bad != NULL)
				*bad = i;
			return false;
		}
		i += k;
	}
	return true;
}

const char *
ro_node_quote(char *out, const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, o = 0, k;
	char			 h[3];

	out[o++] = '"';
	while (i < len && i < RO_NODE_QUOTE_MAX) {
		if (p[i] == '"' || p[i] == '\\') {
			out[o++] = '\\';
			out[o++] = (char)p[i++];
		} else if (p[i] == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
			i++;
		} else if (p[i] == '\t') {
			out[o++] = '\\';
			out[o++] = 't';
			i++;
		} else if (p[i] >= 0x20 && p[i] < 0x7f) {
			out[o++] = (char)p[i++];
		} else if (p[i] >= 0x80 && (k = utf8_seq(p + i, len - i)) > 0) {
			memcpy(out + o, p + i, k);
			o += k;
			i += k;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			ro_hex_encode(h, &p[i], 1);
			out[o++] = h[0];
			out[o++] = h[1];
			i++;
		}
	}
	out[o++] = '"';
	if (i < len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

static bool
key_is_plain(const char *key, size_t len)
{
	size_t	i;

	if (len == 0 || len > NODE_KEY_PLAIN_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!((key[i] >= 'a' && key[i] <= 'z') ||
		    (key[i] >= 'A' && key[i] <= 'Z') ||
		    (key[i] >= '0' && key[i] <= '9') ||
		    key[i] == '_' || key[i] == '-'))
			return false;
	return true;
}

int
ro_node_path_key(struct ro_buf *path, const char *key, size_t len)
{
	char	q[RO_NODE_QUOTE_SIZE];
	int	error;

	if (key_is_plain(key, len)) {
		if (path->len > 0 && (error = ro_buf_addch(path, '.')) < 0)
			return error;
		return ro_buf_add(path, key, len);
	}
	return ro_buf_printf(path, "[%s]", ro_node_quote(q, key, len));
}

int
ro_node_path_index(struct ro_buf *path, size_t i)
{
	return ro_buf_printf(path, "[%zu]", i);
}

/* JSON conversion: recursion is bounded by max_depth. */
struct json_conv {
	unsigned	 max_depth;
	const char	*origin;
	struct ro_diag	*diag;
	struct ro_buf	 path;
};

static int
json_number(struct ro_node *out, double d)
{
	char	num[64];

	/* Integral values below 2^63 print exactly; the validator ranges. */
	if (isfinite(d) && d > -9.2e18 && d < 9.2e18 &&
	    d == (double)(long long)d) {
		snprintf(num, sizeof(num), "%lld", (long long)d);
		return ro_node_set_scalar(out, RO_NODE_INT, num, strlen(num));
	}
	snprintf(num, sizeof(num), "%.17g", d);
	return ro_node_set_scalar(out, RO_NODE_FLOAT, num, strlen(num));
}

static int
json_value(struct json_conv *c, struct ro_node *out, const cJSON *j,
    unsigned depth)
{
	const cJSON	*it;
	struct ro_node	*kid;
	size_t		 mark, i, count = 0;
	int		 error;

	if (cJSON_IsNull(j))
		return ro_node_set_scalar(out, RO_NODE_NULL, "", 0);
	if (cJSON_IsBool(j))
		return cJSON_IsTrue(j) ?
		    ro_node_set_scalar(out, RO_NODE_BOOL, "true", 4) :
		    ro_node_set_scalar(out, RO_NODE_BOOL, "false", 5);
	if (cJSON_IsNumber(j))
		return json_number(out, j->valuedouble);
	if (cJSON_IsString(j))
		return ro_node_set_scalar(out, RO_NODE_STR, j->valuestring,
		    strlen(j->valuestring));
	if (!cJSON_IsArray(j) && !cJSON_IsObject(j)) {
		error = ro_diag_error(c->diag, c->origin, 0, 0,
		    ro_buf_cstr(&c->path), "unsupported JSON value");
		return error < 0 ? error : RO_EINVALID;
	}
	if (depth > c->max_depth) {
		error = ro_diag_error(c->diag, c->origin, 0, 0,
		    ro_buf_cstr(&c->path), "nested deeper than %u levels",
		    c->max_depth);
		return error < 0 ? error : RO_EINVALID;
	}
	out->type = cJSON_IsArray(j) ? RO_NODE_SEQ : RO_NODE_MAP;
	for (it = j->child; it != NULL; it = it->next)
		if (++count > NODE_JSON_ITEMS_MAX) {
			error = ro_diag_error(c->diag, c->origin, 0, 0,
			    ro_buf_cstr(&c->path), "more than %u members",
			    NODE_JSON_ITEMS_MAX);
			return error < 0 ? error : RO_EINVALID;
		}
	for (it = j->child, i = 0; it != NULL; it = it->next, i++) {
		mark = c->path.len;
		if (out->type == RO_NODE_MAP) {
			const char	*key = it->string != NULL ?
			    it->string : "";

			if ((error = ro_node_append(out, &kid)) < 0 ||
			    (error = ro_node_set_scalar(kid, RO_NODE_STR, key,
			    strlen(key))) < 0 ||
			    (error = ro_node_path_key(&c->path, key,
			    strlen(key))) < 0)
				return error;
		} else if ((error = ro_node_path_index(&c->path, i)) < 0)
			return error;
		if ((error = ro_node_append(out, &kid)) < 0 ||
		    (error = json_value(c, kid, it, depth + 1)) < 0)
			return error;
		c->path.len = mark;
		c->path.ptr[mark] = '\0';
	}
	return RO_OK;
}

int
ro_node_from_json(struct ro_node *out, const cJSON *json, unsigned max_depth,
    const char *origin, struct ro_diag *diag)
{
	struct json_conv	c;
	int			error;

	memset(out, 0, sizeof(*out));
	c.max_depth = max_depth;
	c.origin = origin;
	c.diag = diag;
	ro_buf_init(&c.path, 64u << 10);
	if (json == NULL) {
		error = ro_diag_error(diag, origin, 0, 0, NULL,
		    "no JSON value");
		error = error < 0 ? error : RO_EINVALID;
	} else
		error = json_value(&c, out, json, 1);
	/* a path past its cap is only a shorter message */
	if (error == RO_ETOOBIG)
		error = RO_EINVALID;
	if (error < 0)
		ro_node_release(out);
	ro_buf_release(&c.path);
	return error;
}
