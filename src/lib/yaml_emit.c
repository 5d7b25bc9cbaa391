/*
 * yaml_emit.c - strata_node trees back to YAML text.
 *
 * strata owns its emitter because libfyaml 0.7.12 cannot set scalar styles
 * and mis-quotes text it did not parse (see shared/DEPS.md).  The output is
 * block style with two-space indentation, sequences under a key not
 * indented and keys in stored order, as kubectl prints manifests.
 *
 * The heart of the file is the choice of how to write each scalar so that
 * it re-reads to the same text and the same type:
 *   - plain, single and double quoted scalars keep their style when the
 *     text allows it, otherwise they are double quoted;
 *   - block scalars (literal or folded) become literal blocks, with the
 *     chomping indicator their trailing newlines need and an indentation
 *     indicator when the first line starts with a space; text a literal
 *     block cannot carry (control characters, CR...) is double quoted;
 *   - scalars strata created (STRATA_STYLE_STRING) must re-read as strings
 *     for a YAML 1.1 reader (Kubernetes): they are plain only when nothing
 *     could read them as null, bool, int, float, timestamp or merge key.
 */
#include "strata/yaml.h"

#include <string.h>

/* Where a scalar is written; keys and inline text cannot be blocks. */
enum ctx { CTX_VALUE, CTX_KEY, CTX_INLINE };

/* How it is written. */
enum out_style { OUT_EMPTY, OUT_PLAIN, OUT_SINGLE, OUT_DOUBLE, OUT_LITERAL };

/* Implicit keys may not be longer than 1024 characters. */
#define MAX_IMPLICIT_KEY 1000

/* ---- character classes ---- */

enum cclass { C_OK, C_TAB, C_NL, C_BAD };

/*
 * Decode one character at s[i]; *n gets its length.  C_BAD covers what no
 * YAML scalar except a double-quoted one can carry: control characters,
 * CR, DEL, C1 controls, the Unicode line breaks, BOM, non-characters and
 * malformed UTF-8.
 */
static enum cclass char_class(const unsigned char *s, size_t len, size_t i, size_t *n,
			      uint32_t *cp_out)
{
	unsigned c = s[i];
	uint32_t cp;
	size_t k, m;

	*n = 1;
	*cp_out = c;
	if (c < 0x80) {
		if (c >= 0x20 && c != 0x7F)
			return C_OK;
		return c == '\t' ? C_TAB : c == '\n' ? C_NL : C_BAD;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		m = 2;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		m = 3;
		cp = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		m = 4;
		cp = c & 0x07;
	} else {
		return C_BAD;
	}
	if (len - i < m)
		return C_BAD;
	for (k = 1; k < m; k++) {
		if ((s[i + k] & 0xC0) != 0x80)
			return C_BAD;
		cp = (cp << 6) | (s[i + k] & 0x3F);
	}
	if ((m == 3 && cp < 0x800) || (m == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return C_BAD;
	*n = m;
	*cp_out = cp;
	if (cp < 0xA0 || cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF || cp == 0xFFFE ||
	    cp == 0xFFFF)
		return C_BAD;
	return C_OK;
}

/* True when every character is printable (tabs too), with no line break. */
static bool single_line_printable(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0, n; i < len; i += n) {
		uint32_t cp;
		if (u[i] >= 0x20 && u[i] < 0x7F) {
			n = 1;
			continue;
		}
		enum cclass c = char_class(u, len, i, &n, &cp);
		if (c != C_OK && c != C_TAB)
			return false;
	}
	return true;
}

/* 1 for the printable ASCII bytes a plain scalar takes anywhere (not ':' or '#') */
static const unsigned char plain_byte[256] = {
#define R4(x) [x] = 1, [x + 1] = 1, [x + 2] = 1, [x + 3] = 1
#define R16(x) R4(x), R4(x + 4), R4(x + 8), R4(x + 12)
	[0x20] = 1, [0x21] = 1, [0x22] = 1, /* '#' 0x23 */ R4(0x24), R4(0x28), R4(0x2C),
	R4(0x30), R4(0x34), [0x38] = 1, [0x39] = 1, /* ':' 0x3A */ [0x3B] = 1, R4(0x3C),
	R16(0x40), R16(0x50), R16(0x60),
	R4(0x70), R4(0x74), R4(0x78), [0x7C] = 1, [0x7D] = 1, [0x7E] = 1,
#undef R16
#undef R4
};

bool strata_yaml_plain_safe(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;

	if (!len || s[0] == ' ' || s[len - 1] == ' ' || s[len - 1] == ':')
		return false;
	switch (s[0]) {
	case '-':
		/* "-1" and "-foo" are plain scalars; "- x", "-" and "---" are not */
		if (len == 1 || s[1] == ' ' || (len >= 3 && s[1] == '-' && s[2] == '-'))
			return false;
		break;
	case '.':
		if (len >= 3 && s[1] == '.' && s[2] == '.')
			return false;
		break;
	case '?': case ':': case ',': case '[': case ']': case '{': case '}':
	case '#': case '&': case '*': case '!': case '|': case '>': case '\'':
	case '"': case '%': case '@': case '`':
		return false;
	default:
		break;
	}
	for (size_t i = 0, n; i < len; i += n) {
		uint32_t cp;
		unsigned c;

		/* runs of ordinary bytes, 8 a step */
		while (len - i >= 8 &&
		       (plain_byte[u[i]] & plain_byte[u[i + 1]] & plain_byte[u[i + 2]] &
			plain_byte[u[i + 3]] & plain_byte[u[i + 4]] & plain_byte[u[i + 5]] &
			plain_byte[u[i + 6]] & plain_byte[u[i + 7]]))
			i += 8;
		n = 1;
		if (i == len)
			break;
		c = u[i];
		if (plain_byte[c])
			continue;
		if (c == ':') {
			if (i + 1 < len && u[i + 1] == ' ')
				return false;
			continue;
		}
		if (c == '#') {
			if (i > 0 && u[i - 1] == ' ')
				return false;
			continue;
		}
		if (char_class(u, len, i, &n, &cp) != C_OK)
			return false;
	}
	return true;
}

/* No flow indicators: the text also stays one scalar inside [...] or {...}. */
static bool flow_safe(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == ',' || s[i] == '[' || s[i] == ']' || s[i] == '{' || s[i] == '}')
			return false;
	return true;
}

static bool ieq(const char *s, size_t len, const char *w)
{
	size_t wl = strlen(w);

	if (len != wl)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != w[i])
			return false;
	}
	return true;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Permissive number shapes of YAML 1.1 and 1.2: ints with _ separators,
 * 0x/0o/0b, leading-zero octals, sexagesimal 190:20:30, floats like 1.0,
 * .5, 1., 1e3, 1_000.5e-3, 1.2.3 (the 1.1 spec's float pattern allows
 * it), and .inf / .nan.  Over-matching only costs
 * quotes; under-matching would change a type.
 */
static bool looks_numeric(const char *s, size_t len)
{
	size_t i = 0;
	bool digit = false;

	if (i < len && (s[i] == '+' || s[i] == '-'))
		i++;
	if (i == len)
		return false;
	if (ieq(s + i, len - i, ".inf") || ieq(s + i, len - i, ".nan"))
		return true;
	if (len - i > 2 && s[i] == '0' && strchr("xXoObB", s[i + 1])) {
		for (size_t k = i + 2; k < len; k++) {
			char c = s[k];
			if (!(is_digit(c) || c == '_' || (c >= 'a' && c <= 'f') ||
			      (c >= 'A' && c <= 'F')))
				return false;
		}
		return true;
	}
	/* mantissa: digits, '_', ':' (sexagesimal) */
	while (i < len && (is_digit(s[i]) || s[i] == '_' || (s[i] == ':' && digit))) {
		digit |= is_digit(s[i]);
		i++;
	}
	if (i < len && s[i] == '.') {
		/* the YAML 1.1 float pattern allows more dots: 1.2.3 */
		i++;
		while (i < len && (is_digit(s[i]) || s[i] == '_' || s[i] == '.')) {
			digit |= is_digit(s[i]);
			i++;
		}
	}
	if (!digit)
		return false;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		bool exp = false;
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		while (i < len && is_digit(s[i])) {
			exp = true;
			i++;
		}
		if (!exp)
			return false;
	}
	return i == len;
}

/* YAML 1.1 timestamps: 2001-12-14, 2001-12-14t21:59:43.10-05:00 ... */
static bool looks_timestamp(const char *s, size_t len)
{
	size_t i = 0, k;

	for (k = 0; k < 4; k++, i++)
		if (i >= len || !is_digit(s[i]))
			return false;
	if (i >= len || s[i++] != '-')
		return false;
	for (k = 0; i < len && is_digit(s[i]) && k < 2; k++)
		i++;
	if (!k || i >= len || s[i++] != '-')
		return false;
	for (k = 0; i < len && is_digit(s[i]) && k < 2; k++)
		i++;
	if (!k)
		return false;
	return i == len || s[i] == 'T' || s[i] == 't' || s[i] == ' ' || s[i] == '\t';
}

/*
 * True when some YAML reader Kubernetes may use would read this text, written
 * plain, as something other than a string.
 */
static bool plain_not_string(const char *s, size_t len)
{
	static const char *const words[] = {
		"~", "null", "y", "n", "yes", "no", "true", "false", "on", "off", "<<", "=",
		NULL
	};

	if (strata_plain_kind(s, len) != STRATA_SCALAR_STR)
		return true;
	for (size_t i = 0; len <= 5 && words[i]; i++) /* the longest word has 5 bytes */
		if (ieq(s, len, words[i]))
			return true;
	return looks_numeric(s, len) || looks_timestamp(s, len);
}

/* ---- choosing a style ---- */

static bool has_newline(const char *s, size_t len)
{
	return len && memchr(s, '\n', len) != NULL;
}

/*
 * A literal block re-reads to exactly this text when it has some content
 * besides line breaks, only printable characters and tabs otherwise, and no
 * line made only of blanks: readers disagree on those (libfyaml reads a
 * last line of spaces as nothing), so such text is double quoted.
 */
static bool literal_ok(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	bool content = false, blank_line = true, line_empty = true;

	for (size_t i = 0, n; i < len; i += n) {
		uint32_t cp;
		enum cclass c;

		if (u[i] > 0x20 && u[i] < 0x7F) {
			/* printable ASCII other than space: the common case */
			n = 1;
			content = true;
			line_empty = blank_line = false;
			continue;
		}
		c = char_class(u, len, i, &n, &cp);
		if (c == C_BAD)
			return false;
		if (c == C_NL) {
			if (blank_line && !line_empty)
				return false;
			blank_line = line_empty = true;
			continue;
		}
		content = true;
		line_empty = false;
		if (c != C_TAB && u[i] != ' ')
			blank_line = false;
	}
	return content && !(blank_line && !line_empty);
}

static bool string_plain_ok(const char *s, size_t len, enum ctx ctx)
{
	if (!strata_yaml_plain_safe(s, len) || s[0] == '-' || plain_not_string(s, len))
		return false;
	return ctx != CTX_INLINE || flow_safe(s, len);
}

static enum out_style decide(const strata_node *n, enum ctx ctx)
{
	const char *s = n->u.scalar.str;
	size_t len = n->u.scalar.len;
	bool block_ok = ctx == CTX_VALUE;

	switch (n->style) {
	case STRATA_STYLE_PLAIN:
		if (!len)
			return ctx == CTX_KEY ? OUT_DOUBLE : OUT_EMPTY;
		if (!strata_yaml_plain_safe(s, len) || (ctx == CTX_INLINE && !flow_safe(s, len)))
			return OUT_DOUBLE;
		/* a plain << or = reads as a string here, but YAML 1.1 readers
		   give them special tags (merge, value) and may choke on them */
		if ((len == 2 && s[0] == '<' && s[1] == '<') || (len == 1 && s[0] == '='))
			return OUT_DOUBLE;
		return OUT_PLAIN;
	case STRATA_STYLE_SINGLE:
		/* libfyaml 0.7.12 misreads two escaped quotes in a row: 'a''''b' */
		if (!single_line_printable(s, len) || (len >= 2 && memmem(s, len, "''", 2)))
			return OUT_DOUBLE;
		return OUT_SINGLE;
	case STRATA_STYLE_LITERAL:
	case STRATA_STYLE_FOLDED:
		return block_ok && literal_ok(s, len) ? OUT_LITERAL : OUT_DOUBLE;
	case STRATA_STYLE_STRING:
		if (has_newline(s, len))
			return block_ok && literal_ok(s, len) ? OUT_LITERAL : OUT_DOUBLE;
		return string_plain_ok(s, len, ctx) ? OUT_PLAIN : OUT_DOUBLE;
	case STRATA_STYLE_DOUBLE:
	default:
		return OUT_DOUBLE;
	}
}

/*
 * The style is a function of the text, the style asked for and the
 * position, and scalars are shared (keys by every map of an arena, values
 * by the copies of every environment), so the answer for values and keys
 * is kept in the node's flags (STRATA_NODE_EMIT_MEMO): 3 bits each, the
 * style + 1, 0 = not known yet.  Scanning the text was a sixth of
 * `render --all`.  Emitters on other threads would store the same bits,
 * so the stores are relaxed atomics.
 */
#define MEMO_SHIFT(ctx) ((ctx) == CTX_VALUE ? 8 : 11)

static enum out_style choose(const strata_node *n, enum ctx ctx)
{
	uint16_t flags, memo;
	enum out_style st;

	if (ctx == CTX_INLINE)
		return decide(n, ctx);
	flags = __atomic_load_n(&n->flags, __ATOMIC_RELAXED);
	memo = (flags >> MEMO_SHIFT(ctx)) & 7u;
	if (memo)
		return (enum out_style)(memo - 1);
	st = decide(n, ctx);
	__atomic_fetch_or((uint16_t *)&n->flags,
			  (uint16_t)(((unsigned)st + 1u) << MEMO_SHIFT(ctx)),
			  __ATOMIC_RELAXED);
	return st;
}

/* ---- writing ---- */

/*
 * The output is written straight into out's memory: room() makes space,
 * the writers copy and advance out->len, and the NUL strata_buf keeps after
 * its text is put back once, when the document is done (finish()).  A
 * strata_buf_put per piece cost a call, a capacity check and a NUL store
 * for every few bytes: 10 M calls for 43 MB of output.
 */
typedef struct emitter {
	strata_buf *out;
	int rc;
} emitter;

/* Space for n more bytes at out->ptr + out->len, or NULL (E->rc set). */
static inline char *room(emitter *E, size_t n)
{
	strata_buf *b = E->out;

	if (E->rc)
		return NULL;
	/* strata_buf keeps one byte past the text for its NUL */
	if (b->cap - b->len <= n && strata_buf_grow(b, n) < 0) {
		E->rc = STRATA_ENOMEM;
		return NULL;
	}
	return b->ptr + b->len;
}

static inline void put(emitter *E, const char *s, size_t len)
{
	char *p = room(E, len);

	if (p && len) {
		memcpy(p, s, len);
		E->out->len += len;
	}
}

static inline void puts_(emitter *E, const char *s)
{
	put(E, s, strlen(s));
}

static inline void putc_(emitter *E, char c)
{
	char *p = room(E, 1);

	if (p) {
		*p = c;
		E->out->len++;
	}
}

/*
 * A tag as the loader kept it (its %XX escapes already decoded by
 * libfyaml): "!!suffix", "!suffix", "!" or the verbatim "!<body>".  The
 * handle and a verbatim tag's "!<" and ">" are written as they are; in the
 * suffix or body every byte but letters, digits and the URI characters
 * libfyaml 0.7.12 reads in a tag is written %XX again.  So a line feed
 * ("!!x%0ay") stays on its line, and neither '#', '<', '>' (libfyaml ends
 * a tag there), '!' (in a suffix it would make a named handle) nor, in a
 * suffix, a flow indicator comes out as it is (test_yaml tries every byte).
 */
static void put_tag(emitter *E, const char *tag)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t len = strlen(tag), from, to = len;
	bool verbatim = len >= 3 && !strncmp(tag, "!<", 2) && tag[len - 1] == '>';
	const char *ok = verbatim ? "-;/?:@&=+$_.~*'()!,[]" : "-;/?:@&=+$_.~*'()";

	if (verbatim) {
		from = 2;
		to = len - 1;
	} else {
		from = !strncmp(tag, "!!", 2) ? 2 : tag[0] == '!' ? 1 : 0;
	}
	put(E, tag, from);
	for (size_t i = from; i < to; i++) {
		unsigned char c = (unsigned char)tag[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || (c < 0x80 && c && strchr(ok, c)))
			putc_(E, (char)c);
		else {
			putc_(E, '%');
			putc_(E, hex[c >> 4]);
			putc_(E, hex[c & 15]);
		}
	}
	if (verbatim)
		putc_(E, '>');
}

static inline void indent(emitter *E, size_t n)
{
	char *p = room(E, n);

	if (p) {
		memset(p, ' ', n);
		E->out->len += n;
	}
}

/* Terminate the text as strata_buf does; returns the emitter's status. */
static int finish(emitter *E)
{
	if (E->out->ptr)
		E->out->ptr[E->out->len] = '\0';
	return E->rc;
}

static void write_double(emitter *E, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *u = (const unsigned char *)s;
	size_t run = 0; /* start of the pending run of bytes copied as they are */
	char esc[12];

	putc_(E, '"');
	for (size_t i = 0, n; i < len; i += n) {
		uint32_t cp;
		const char *e = NULL;
		size_t el = 0;
		enum cclass c;

		n = 1;
		if (u[i] >= 0x20 && u[i] < 0x7F && u[i] != '"' && u[i] != '\\')
			continue;
		c = char_class(u, len, i, &n, &cp);
		if (c == C_OK && u[i] >= 0x80)
			continue;
		switch (u[i]) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\n': e = "\\n"; break;
		case '\t': e = "\\t"; break;
		case '\r': e = "\\r"; break;
		case '\0': e = "\\0"; break;
		case 0x07: e = "\\a"; break;
		case 0x08: e = "\\b"; break;
		case 0x0B: e = "\\v"; break;
		case 0x0C: e = "\\f"; break;
		case 0x1B: e = "\\e"; break;
		default: break;
		}
		if (e) {
			el = 2;
		} else if (n == 1) {
			/* control byte, or a byte of malformed UTF-8 (best effort) */
			esc[0] = '\\';
			esc[1] = 'x';
			esc[2] = hex[u[i] >> 4];
			esc[3] = hex[u[i] & 15];
			e = esc;
			el = 4;
		} else {
			/* C1 controls, line/paragraph separators, BOM, non-characters */
			esc[0] = '\\';
			esc[1] = 'u';
			for (int k = 0; k < 4; k++)
				esc[2 + k] = hex[(cp >> (12 - 4 * k)) & 15];
			e = esc;
			el = 6;
		}
		put(E, s + run, i - run);
		put(E, e, el);
		run = i + n;
	}
	put(E, s + run, len - run);
	putc_(E, '"');
}

static void write_single(emitter *E, const char *s, size_t len)
{
	size_t run = 0;

	putc_(E, '\'');
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\'') {
			put(E, s + run, i + 1 - run);
			putc_(E, '\'');
			run = i + 1;
		}
	}
	put(E, s + run, len - run);
	putc_(E, '\'');
}

/*
 * A literal block whose lines sit at column ind (ind - parent indentation
 * is always 2, which is the indentation indicator when one is needed).
 */
static void write_literal(emitter *E, const char *s, size_t len, size_t ind)
{
	size_t trail = 0, i = 0;

	while (trail < len && s[len - 1 - trail] == '\n')
		trail++;
	putc_(E, '|');
	while (i < len && s[i] == '\n')
		i++;
	if (i < len && s[i] == ' ')
		putc_(E, '2');
	if (trail == 0)
		putc_(E, '-');
	else if (trail > 1)
		putc_(E, '+');
	putc_(E, '\n');
	for (i = 0; i < len;) {
		const char *nl = memchr(s + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - s) : len;
		if (end > i) {
			indent(E, ind);
			put(E, s + i, end - i);
		}
		putc_(E, '\n');
		i = end + 1;
	}
}

/*
 * The scalar after its position's lead ("key:", "-" or nothing): a space,
 * the tag, the text and, for values, the line's newline.  ind is the
 * column of block scalar lines.
 */
static void write_scalar(emitter *E, const strata_node *n, enum ctx ctx, size_t ind,
			 bool lead_space)
{
	enum out_style st = choose(n, ctx);
	const char *s = n->u.scalar.str;
	size_t len = n->u.scalar.len;
	const char *tag = strata_node_tag(n);

	if (tag) {
		if (lead_space)
			putc_(E, ' ');
		put_tag(E, tag);
		lead_space = true;
	}
	if (st != OUT_EMPTY && lead_space)
		putc_(E, ' ');
	switch (st) {
	case OUT_EMPTY:
		if (ctx == CTX_INLINE && !tag)
			puts_(E, "null");
		break;
	case OUT_PLAIN:
		put(E, s, len);
		break;
	case OUT_SINGLE:
		write_single(E, s, len);
		break;
	case OUT_DOUBLE:
		write_double(E, s, len);
		break;
	case OUT_LITERAL:
		write_literal(E, s, len, ind);
		return; /* ends with its own newline */
	}
	if (ctx == CTX_VALUE)
		putc_(E, '\n');
}

static void write_key(emitter *E, const strata_node *k, size_t col)
{
	size_t at = E->out->len;

	if (k->type != STRATA_NODE_SCALAR) {
		/* the model keeps scalar keys; never produce broken YAML */
		puts_(E, "\"\"");
	} else {
		write_scalar(E, k, CTX_KEY, 0, false);
	}
	if (!E->rc && E->out->len - at > MAX_IMPLICIT_KEY) {
		/* too long for an implicit key: "? key" then ":" on its own line */
		size_t klen = E->out->len - at;
		put(E, "  ", 2);
		if (E->rc)
			return;
		memmove(E->out->ptr + at + 2, E->out->ptr + at, klen);
		memcpy(E->out->ptr + at, "? ", 2);
		putc_(E, '\n');
		indent(E, col);
	}
	putc_(E, ':');
}

static void emit_map(emitter *E, const strata_node *m, size_t col, bool first_inline);
static void emit_seq(emitter *E, const strata_node *s, size_t col, bool first_inline);

static bool is_empty_container(const strata_node *n)
{
	return (n->type == STRATA_NODE_MAP && !n->u.map.n) ||
	       (n->type == STRATA_NODE_SEQ && !n->u.seq.n);
}

static void write_empty(emitter *E, const strata_node *n)
{
	putc_(E, ' ');
	if (strata_node_tag(n)) {
		put_tag(E, strata_node_tag(n));
		putc_(E, ' ');
	}
	puts_(E, n->type == STRATA_NODE_MAP ? "{}\n" : "[]\n");
}

/*
 * libfyaml 0.7.12 cannot read an entry with no content ("-" alone) in a
 * sequence that is not indented under its key ("k:\n-\n" fails), so such
 * sequences are indented.
 */
static bool has_empty_item(const strata_node *seq)
{
	for (uint32_t i = 0; i < seq->u.seq.n; i++) {
		const strata_node *it = seq->u.seq.items[i];
		if (it->type == STRATA_NODE_SCALAR && it->style == STRATA_STYLE_PLAIN &&
		    !it->u.scalar.len && !strata_node_tag(it))
			return true;
	}
	return false;
}

/* The value of a pair whose key sits at column col, after "key:". */
static void emit_value(emitter *E, const strata_node *v, size_t col)
{
	if (v->type == STRATA_NODE_SCALAR) {
		write_scalar(E, v, CTX_VALUE, col + 2, true);
		return;
	}
	if (is_empty_container(v)) {
		write_empty(E, v);
		return;
	}
	if (strata_node_tag(v)) {
		putc_(E, ' ');
		put_tag(E, strata_node_tag(v));
	}
	putc_(E, '\n');
	if (v->type == STRATA_NODE_MAP)
		emit_map(E, v, col + 2, false);
	else
		emit_seq(E, v, has_empty_item(v) ? col + 2 : col, false);
}

/* A sequence item after its "-" at column col. */
static void emit_item(emitter *E, const strata_node *v, size_t col)
{
	if (v->type == STRATA_NODE_SCALAR) {
		write_scalar(E, v, CTX_VALUE, col + 2, true);
		return;
	}
	if (is_empty_container(v)) {
		write_empty(E, v);
		return;
	}
	if (strata_node_tag(v)) {
		putc_(E, ' ');
		put_tag(E, strata_node_tag(v));
		putc_(E, '\n');
		if (v->type == STRATA_NODE_MAP)
			emit_map(E, v, col + 2, false);
		else
			emit_seq(E, v, col + 2, false);
		return;
	}
	putc_(E, ' ');
	if (v->type == STRATA_NODE_MAP)
		emit_map(E, v, col + 2, true);
	else
		emit_seq(E, v, col + 2, true);
}

static void emit_map(emitter *E, const strata_node *m, size_t col, bool first_inline)
{
	for (uint32_t i = 0; i < m->u.map.n && !E->rc; i++) {
		if (i || !first_inline)
			indent(E, col);
		write_key(E, m->u.map.pairs[i].key, col);
		emit_value(E, m->u.map.pairs[i].value, col);
	}
}

static void emit_seq(emitter *E, const strata_node *s, size_t col, bool first_inline)
{
	for (uint32_t i = 0; i < s->u.seq.n && !E->rc; i++) {
		if (i || !first_inline)
			indent(E, col);
		putc_(E, '-');
		emit_item(E, s->u.seq.items[i], col);
	}
}

int strata_yaml_emit(strata_buf *out, const strata_node *root)
{
	emitter E = { out, 0 };

	if (!root) {
		puts_(&E, "null\n");
		return finish(&E);
	}
	if (root->type == STRATA_NODE_SCALAR) {
		write_scalar(&E, root, CTX_VALUE, 2, false);
	} else if (is_empty_container(root)) {
		if (strata_node_tag(root)) {
			put_tag(&E, strata_node_tag(root));
			putc_(&E, ' ');
		}
		puts_(&E, root->type == STRATA_NODE_MAP ? "{}\n" : "[]\n");
	} else {
		if (strata_node_tag(root)) {
			put_tag(&E, strata_node_tag(root));
			putc_(&E, '\n');
		}
		if (root->type == STRATA_NODE_MAP)
			emit_map(&E, root, 0, false);
		else
			emit_seq(&E, root, 0, false);
	}
	return finish(&E);
}

static void emit_flow(emitter *E, const strata_node *n);

/*
 * A key in flow form.  An empty plain key (YAML's "? " alone) is written
 * "" as write_key writes it, not null: null names no key, and a document
 * emitted and read back (a diff side kept as text) has it double quoted,
 * so both would show the same key two ways.
 */
static void emit_flow_key(emitter *E, const strata_node *k)
{
	if (k->type != STRATA_NODE_SCALAR || k->style != STRATA_STYLE_PLAIN ||
	    k->u.scalar.len) {
		emit_flow(E, k);
		return;
	}
	if (strata_node_tag(k)) {
		put_tag(E, strata_node_tag(k));
		putc_(E, ' ');
	}
	puts_(E, "\"\"");
}

/* Flow form of any node, for messages: {a: 1, b: [x, y]}. */
static void emit_flow(emitter *E, const strata_node *n)
{
	if (n->type == STRATA_NODE_SCALAR) {
		write_scalar(E, n, CTX_INLINE, 0, false);
		return;
	}
	if (strata_node_tag(n)) {
		put_tag(E, strata_node_tag(n));
		putc_(E, ' ');
	}
	if (n->type == STRATA_NODE_MAP) {
		putc_(E, '{');
		for (uint32_t i = 0; i < n->u.map.n && !E->rc; i++) {
			if (i)
				puts_(E, ", ");
			emit_flow_key(E, n->u.map.pairs[i].key);
			puts_(E, ": ");
			emit_flow(E, n->u.map.pairs[i].value);
		}
		putc_(E, '}');
	} else {
		putc_(E, '[');
		for (uint32_t i = 0; i < n->u.seq.n && !E->rc; i++) {
			if (i)
				puts_(E, ", ");
			emit_flow(E, n->u.seq.items[i]);
		}
		putc_(E, ']');
	}
}

int strata_yaml_emit_inline(strata_buf *out, const strata_node *scalar)
{
	emitter E = { out, 0 };

	if (!scalar)
		puts_(&E, "null");
	else
		emit_flow(&E, scalar);
	return finish(&E);
}
