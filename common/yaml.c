/* yaml.c: libyaml events -> node tree, refusing what roomspec.md forbids. */
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "roomops/buf.h"
#include "roomops/err.h"
#include "roomops/yaml.h"

#include "banned.h"

struct ybuild {
	const char	 *origin;
	struct ro_diag	 *diag;
	const char	 *buf;
	size_t		  len;
	unsigned	  max_depth;
	struct ro_node	**stack;	/* open containers, max_depth deep */
	size_t		  depth;
	struct ro_node	 *root;
	bool		  have_root;
};

static unsigned
pos(size_t zero_based)
{
	return zero_based >= UINT_MAX - 1 ? UINT_MAX : (unsigned)zero_based + 1;
}

/* Field path of the node the parser is at: from the open containers. */
static void
build_path(const struct ybuild *b, struct ro_buf *path)
{
	const struct ro_node	*c, *key;
	size_t			 k;

	for (k = 0; k < b->depth; k++) {
		c = b->stack[k];
		key = NULL;
		if (k + 1 < b->depth) {
			/* the open child is c's last item */
			if (c->type == RO_NODE_SEQ)
				ro_node_path_index(path, c->n - 1);
			else if (c->n >= 2)
				key = &c->items[c->n - 2];
		} else if (c->type == RO_NODE_SEQ)
			ro_node_path_index(path, c->n);
		else if (c->n % 2 == 1)
			key = &c->items[c->n - 1];
		if (key != NULL)
			ro_node_path_key(path, key->str, key->len);
	}
}

static int
yerr(struct ybuild *b, size_t line, size_t col, const char *fmt, ...)
	RO_PRINTF(4, 5);

/* Report at 0-based line/col; returns RO_EINVALID (or RO_ENOMEM). */
static int
yerr(struct ybuild *b, size_t line, size_t col, const char *fmt, ...)
{
	struct ro_buf	path = RO_BUF_INIT, msg = RO_BUF_INIT;
	va_list		ap;
	int		error;

	ro_buf_init(&path, 16u << 10);
	ro_buf_init(&msg, 4u << 10);
	build_path(b, &path);
	va_start(ap, fmt);
	ro_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	error = ro_diag_error(b->diag, b->origin, pos(line), pos(col),
	    ro_buf_cstr(&path), "%s", ro_buf_cstr(&msg));
	ro_buf_release(&path);
	ro_buf_release(&msg);
	return error < 0 ? error : RO_EINVALID;
}

static bool
is_digits(const char *s, size_t len)
{
	size_t	i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static bool
word_in(const char *s, size_t len, const char *const *words)
{
	for (; *words != NULL; words++)
		if (strlen(*words) == len && memcmp(s, *words, len) == 0)
			return true;
	return false;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? and .inf/.nan */
static bool
is_float(const char *s, size_t len)
{
	static const char *const special[] = { ".inf", ".Inf", ".INF",
	    ".nan", ".NaN", ".NAN", NULL };
	size_t	i = 0, mant = 0, e;

	if (len > 0 && (s[0] == '-' || s[0] == '+'))
		i++;
	if (word_in(s + i, len - i, special))
		return true;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++, mant++;
	if (i < len && s[i] == '.') {
		i++;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++, mant++;
	}
	if (mant == 0)
		return false;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '-' || s[i] == '+'))
			i++;
		for (e = 0; i < len && s[i] >= '0' && s[i] <= '9'; e++)
			i++;
		if (e == 0)
			return false;
	}
	return i == len;
}

/* YAML 1.2 core schema, decimal integers only. */
static enum ro_node_type
plain_type(const char *s, size_t len)
{
	static const char *const nulls[] = { "~", "null", "Null", "NULL",
	    NULL };
	static const char *const bools[] = { "true", "True", "TRUE", "false",
	    "False", "FALSE", NULL };

	if (len == 0 || word_in(s, len, nulls))
		return RO_NODE_NULL;
	if (word_in(s, len, bools))
		return RO_NODE_BOOL;
	if (is_digits(s, len) || (len > 1 && (s[0] == '-' || s[0] == '+') &&
	    is_digits(s + 1, len - 1)))
		return RO_NODE_INT;
	if (is_float(s, len))
		return RO_NODE_FLOAT;
	return RO_NODE_STR;
}

/* A new node at the parser's position: the root, a list item, a key or a
 * value. Keys must be scalars. */
static int
add_node(struct ybuild *b, const yaml_mark_t *m, bool container,
    struct ro_node **out)
{
	struct ro_node	*parent;
	int		 error;

	if (b->depth == 0) {
		RO_ASSERT(!b->have_root);
		b->have_root = true;
		*out = b->root;
	} else {
		parent = b->stack[b->depth - 1];
		if (container && parent->type == RO_NODE_MAP &&
		    parent->n % 2 == 0)
			return yerr(b, m->line, m->column, "mapping keys must "
			    "be plain text, not lists or mappings");
		if ((error = ro_node_append(parent, out)) < 0)
			return error;
	}
	(*out)->line = pos(m->line);
	(*out)->col = pos(m->column);
	return RO_OK;
}

static bool
at_key(const struct ybuild *b)
{
	const struct ro_node	*top;

	if (b->depth == 0)
		return false;
	top = b->stack[b->depth - 1];
	return top->type == RO_NODE_MAP && top->n % 2 == 0;
}

static int
on_props(struct ybuild *b, const yaml_event_t *ev, const yaml_char_t *anchor,
    const yaml_char_t *tag)
{
	char	q[RO_NODE_QUOTE_SIZE];

	if (anchor != NULL)
		return yerr(b, ev->start_mark.line, ev->start_mark.column,
		    "YAML anchors are not allowed (found &%s)",
		    ro_node_quote(q, (const char *)anchor,
		    strlen((const char *)anchor)));
	if (tag != NULL)
		return yerr(b, ev->start_mark.line, ev->start_mark.column,
		    "YAML tags are not allowed (found %s)",
		    ro_node_quote(q, (const char *)tag,
		    strlen((const char *)tag)));
	return RO_OK;
}

static int
on_scalar(struct ybuild *b, const yaml_event_t *ev)
{
	const char		*s = (const char *)ev->data.scalar.value;
	size_t			 len = ev->data.scalar.length;
	enum ro_node_type	 type = RO_NODE_STR;
	struct ro_node		*n;
	int			 error;

	if ((error = on_props(b, ev, ev->data.scalar.anchor,
	    ev->data.scalar.tag)) < 0)
		return error;
	if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !at_key(b))
		type = plain_type(s, len);
	if ((error = add_node(b, &ev->start_mark, false, &n)) < 0)
		return error;
	return ro_node_set_scalar(n, type, s, len);
}

static int
on_start(struct ybuild *b, const yaml_event_t *ev, enum ro_node_type type)
{
	const yaml_char_t	*anchor, *tag;
	struct ro_node		*n;
	int			 error;

	if (type == RO_NODE_SEQ) {
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
	} else {
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
	}
	if ((error = on_props(b, ev, anchor, tag)) < 0)
		return error;
	if (b->depth >= b->max_depth)
		return yerr(b, ev->start_mark.line, ev->start_mark.column,
		    "nested deeper than %u levels", b->max_depth);
	if ((error = add_node(b, &ev->start_mark, true, &n)) < 0)
		return error;
	n->type = type;
	b->stack[b->depth++] = n;
	return RO_OK;
}

static int
on_parse_error(struct ybuild *b, const yaml_parser_t *p)
{
	size_t	off, i, line = 0, col = 0;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return RO_ENOMEM;
	case YAML_READER_ERROR:
		/* the reader decodes ahead of the parser: no field path */
		b->depth = 0;
		off = p->problem_offset < b->len ? p->problem_offset : b->len;
		for (i = 0; i < off; i++) {
			if (b->buf[i] == '\n') {
				line++;
				col = 0;
			} else
				col++;
		}
		if (p->problem_value != -1)
			return yerr(b, line, col, "invalid input: %s "
			    "(value 0x%X); the file must be UTF-8 text",
			    p->problem, (unsigned)p->problem_value);
		return yerr(b, line, col, "invalid input: %s; the file must "
		    "be UTF-8 text", p->problem);
	case YAML_SCANNER_ERROR:
	case YAML_PARSER_ERROR:
		if (p->context != NULL)
			return yerr(b, p->problem_mark.line,
			    p->problem_mark.column, "YAML syntax error: %s "
			    "(%s at line %u)", p->problem, p->context,
			    pos(p->context_mark.line));
		return yerr(b, p->problem_mark.line, p->problem_mark.column,
		    "YAML syntax error: %s", p->problem);
	default:
		return yerr(b, p->problem_mark.line, p->problem_mark.column,
		    "YAML error: %s",
		    p->problem != NULL ? p->problem : "unknown");
	}
}

int
ro_yaml_parse(struct ro_node *out, const char *origin, const char *buf,
    size_t len, unsigned max_depth, struct ro_diag *diag)
{
	struct ybuild	b;
	yaml_parser_t	p;
	yaml_event_t	ev;
	size_t		events = 0, max_events;
	int		docs = 0, error = RO_OK, have_ev = 0, done = 0;
	char		q[RO_NODE_QUOTE_SIZE];

	memset(out, 0, sizeof(*out));
	memset(&b, 0, sizeof(b));
	b.origin = origin;
	b.diag = diag;
	b.buf = buf;
	b.len = len;
	b.max_depth = max_depth;
	b.root = out;
	if ((b.stack = calloc(max_depth + 1, sizeof(*b.stack))) == NULL)
		return RO_ENOMEM;
	if (!yaml_parser_initialize(&p)) {
		free(b.stack);
		return RO_ENOMEM;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);
	/* every event consumes input: this only guards against a bug */
	max_events = len < SIZE_MAX / 8 ? len * 4 + 64 : SIZE_MAX;
	while (!done) {
		if (++events > max_events) {
			error = yerr(&b, 0, 0, "too many YAML events");
			goto done;
		}
		if (!yaml_parser_parse(&p, &ev)) {
			error = on_parse_error(&b, &p);
			goto done;
		}
		have_ev = 1;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				error = yerr(&b, ev.start_mark.line,
				    ev.start_mark.column, "a second YAML "
				    "document; a file holds exactly one "
				    "RoomSpec");
				goto done;
			}
			break;
		case YAML_ALIAS_EVENT:
			error = yerr(&b, ev.start_mark.line,
			    ev.start_mark.column, "YAML aliases are not "
			    "allowed (found *%s)", ro_node_quote(q,
			    (const char *)ev.data.alias.anchor,
			    strlen((const char *)ev.data.alias.anchor)));
			goto done;
		case YAML_SCALAR_EVENT:
			if ((error = on_scalar(&b, &ev)) < 0)
				goto done;
			break;
		case YAML_SEQUENCE_START_EVENT:
			if ((error = on_start(&b, &ev, RO_NODE_SEQ)) < 0)
				goto done;
			break;
		case YAML_MAPPING_START_EVENT:
			if ((error = on_start(&b, &ev, RO_NODE_MAP)) < 0)
				goto done;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			RO_ASSERT(b.depth > 0);
			if (b.depth > 0)
				b.depth--;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
		have_ev = 0;
	}
	if (docs == 0)
		error = yerr(&b, 0, 0, "the file is empty; it must hold one "
		    "RoomSpec document");
done:
	if (have_ev)
		yaml_event_delete(&ev);
	yaml_parser_delete(&p);
	free(b.stack);
	if (error < 0)
		ro_node_release(out);
	return error;
}
