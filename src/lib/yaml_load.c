/*
 * yaml_load.c - YAML text into strata_node trees.
 *
 * This is the hot path of every render, so it reads libfyaml's event stream
 * (fy_parser_parse) rather than building libfyaml documents, and builds the
 * tree without recursion: open containers sit on an explicit frame stack and
 * their children on one shared item stack; when a container closes, its
 * children are copied once into an exact-size arena array.  Nodes and their
 * text share one arena allocation.
 *
 * libfyaml's event stream is permissive where Kubernetes is not, so this
 * file adds what it lacks: one up-front pass rejecting NUL bytes, invalid
 * UTF-8 and control characters (the set go-yaml rejects), duplicate and
 * complex map keys, a nesting limit checked before a frame is pushed, and
 * alias expansion under a node budget.  An anchor remembers how many nodes
 * and how many levels its subtree has, so an alias that would blow the
 * budget or the depth limit fails before a single node is copied: a
 * "billion laughs" file stops at the first level that is too big.
 */
#include "yaml_load.h"

#include <libfyaml.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

void strata_limits_default(strata_limits *out)
{
	out->max_alias_nodes = 1000000;
	out->max_depth = 200;
	out->max_scalar = (size_t)16 << 20;
	out->max_file = (size_t)64 << 20;
	out->max_total = (size_t)1 << 30;
	out->max_files = 100000;
	out->jobs = 1;
}

/* Maps with more keys than this get a hash table for duplicate checks. */
#define SMALL_MAP 16

typedef struct keyset {
	uint32_t *slots; /* pair index + 1, 0 = empty */
	size_t cap;      /* power of two */
} keyset;

typedef struct frame {
	strata_node *node;
	size_t start;       /* first child in the loader's item stack */
	size_t nodes_start; /* loader->nodes when the container opened */
	uint32_t height;    /* max height of the children so far */
	uint32_t merge_at;  /* pair index of the `<<` key + 1, 0 when none */
	const char *anchor; /* arena copy of the anchor name, or NULL */
	size_t anchor_len;
	keyset keys;        /* for maps past SMALL_MAP keys */
} frame;

typedef struct anchor {
	const char *name;
	size_t len;
	uint64_t hash;
	strata_node *node;
	size_t count;    /* nodes in the subtree */
	uint32_t height; /* container levels in the subtree (scalar: 0) */
} anchor;

typedef struct loader {
	strata_arena *a;
	const strata_limits *lim;
	strata_error *err;
	const char *file; /* arena copy, for messages */
	uint32_t origin;  /* strata_origin(file, NULL): every untagged node's */
	bool dollar_free; /* no '$' or '\\' in the file (check_input) */

	strata_node **items;
	uint32_t *lines; /* lines[i]: source line of items[i] (keys are shared) */
	size_t n_items, cap_items, cap_lines;
	frame *frames;
	size_t depth, cap_frames;
	size_t used_frames; /* frames[0..used_frames) have been initialised */

	anchor *anchors; /* open addressing, cap a power of two */
	size_t n_anchors, cap_anchors;

	strata_yaml_doc *docs;
	size_t n_docs, cap_docs;
	strata_node *root;

	size_t nodes;       /* nodes built so far (for anchor sizes) */
	size_t alias_nodes; /* nodes created by alias expansion */
	uint32_t line, col; /* last position seen, for events without a mark */
	const char *buf;    /* the input, for the block scalar check */
	size_t len;
} loader;

/* ---- input validation ---- */

/* Position of byte off: 1-based line and column (columns count characters). */
static void position_of(const unsigned char *s, size_t off, int *line, int *col)
{
	int l = 1, c = 1;

	for (size_t i = 0; i < off; i++) {
		if (s[i] == '\n') {
			l++;
			c = 1;
		} else if ((s[i] & 0xC0) != 0x80) {
			c++;
		}
	}
	*line = l;
	*col = c;
}

/*
 * 1 for the ASCII bytes a YAML stream may contain as they are, but for '$'
 * and '\\' (0x24, 0x5C): the check notes those (a variable reference is
 * written with '$', or with a double-quoted escape of it).
 */
static const unsigned char plain_ascii[256] = {
	['\t'] = 1, ['\n'] = 1, ['\r'] = 1,
#define R4(x) [x] = 1, [x + 1] = 1, [x + 2] = 1, [x + 3] = 1
#define R16(x) R4(x), R4(x + 4), R4(x + 8), R4(x + 12)
	R4(0x20), [0x25] = 1, [0x26] = 1, [0x27] = 1, R4(0x28), R4(0x2C),
	R16(0x30), R16(0x40),
	R4(0x50), R4(0x54), R4(0x58), [0x5D] = 1, [0x5E] = 1, [0x5F] = 1,
	R16(0x60),
	R4(0x70), R4(0x74), R4(0x78), [0x7C] = 1, [0x7D] = 1, [0x7E] = 1,
#undef R16
#undef R4
};

/*
 * Reject what YAML (and go-yaml, which Kubernetes uses) does not allow in a
 * stream but libfyaml lets through: NUL, other C0 controls except tab, LF
 * and CR, DEL, C1 controls except NEL, surrogates, U+FFFE/U+FFFF and
 * malformed UTF-8.  *dollar (when not NULL) says whether s holds a '$' or
 * a '\\': without either no scalar of it can hold a '$' (block, plain
 * and single-quoted scalars are the bytes; only a double-quoted escape
 * makes other characters).
 */
static int check_input(const char *file, const unsigned char *s, size_t len,
		       bool *dollar, strata_error *err)
{
	size_t i = 0;
	bool seen = false;
	const char *what = NULL;
	uint32_t cp = 0;
	int line, col;

	while (i < len) {
		unsigned c;
		size_t n;

		/* fast path: runs of printable ASCII, tab, LF, CR, 8 bytes a step */
		while (len - i >= 8 &&
		       (plain_ascii[s[i]] & plain_ascii[s[i + 1]] & plain_ascii[s[i + 2]] &
			plain_ascii[s[i + 3]] & plain_ascii[s[i + 4]] & plain_ascii[s[i + 5]] &
			plain_ascii[s[i + 6]] & plain_ascii[s[i + 7]]))
			i += 8;
		while (i < len && plain_ascii[s[i]])
			i++;
		if (i == len)
			break;
		c = s[i];
		if (c < 0x80) {
			if ((c >= 0x20 && c != 0x7F) || c == '\n' || c == '\t' || c == '\r') {
				seen |= c == '$' || c == '\\';
				i++;
				continue;
			}
			cp = c;
			what = c == 0 ? "NUL byte" : "control character";
			break;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			n = 2;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 3;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 4;
			cp = c & 0x07;
		} else {
			cp = c;
			what = "invalid UTF-8 byte";
			break;
		}
		if (len - i < n) {
			cp = c;
			what = "invalid UTF-8 byte";
			break;
		}
		for (size_t k = 1; k < n; k++) {
			if ((s[i + k] & 0xC0) != 0x80) {
				what = "invalid UTF-8 byte";
				break;
			}
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if (what) {
			cp = c;
			break;
		}
		if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
			cp = c;
			what = "invalid UTF-8 byte";
			break;
		}
		if ((cp >= 0x80 && cp < 0xA0 && cp != 0x85) || (cp >= 0xD800 && cp <= 0xDFFF) ||
		    cp == 0xFFFE || cp == 0xFFFF) {
			what = "non-printable character";
			break;
		}
		i += n;
	}
	if (dollar)
		*dollar = seen;
	if (!what)
		return 0;
	position_of(s, i, &line, &col);
	if (what[0] == 'i')
		return strata_error_set_rule(err, "yaml-encoding", STRATA_EPARSE, file, line, col,
					     "%s 0x%02x", what, (unsigned)cp);
	if (cp == 0)
		return strata_error_set_rule(err, "yaml-encoding", STRATA_EPARSE, file, line, col,
					     "NUL byte is not allowed");
	return strata_error_set_rule(err, "yaml-encoding", STRATA_EPARSE, file, line, col,
				     "%s U+%04X is not allowed", what, (unsigned)cp);
}

/* ---- scratch stacks ---- */

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap : 64;
	void *np;

	while (ncap < need)
		ncap *= 2;
	np = realloc(*p, ncap * elem);
	if (!np)
		return STRATA_ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

static int nomem(loader *L)
{
	return strata_error_set(L->err, STRATA_ENOMEM, L->file, 0, 0, "out of memory");
}

static int push_item(loader *L, strata_node *n, uint32_t line)
{
	if (L->n_items == L->cap_items &&
	    grow((void **)&L->items, &L->cap_items, L->n_items + 1, sizeof(*L->items)))
		return nomem(L);
	if (L->n_items == L->cap_lines &&
	    grow((void **)&L->lines, &L->cap_lines, L->n_items + 1, sizeof(*L->lines)))
		return nomem(L);
	L->lines[L->n_items] = line;
	L->items[L->n_items++] = n;
	return 0;
}

/* ---- positions ---- */

static void set_pos(loader *L, strata_node *n, const struct fy_mark *m)
{
	if (m) {
		L->line = (uint32_t)m->line + 1;
		L->col = (uint32_t)m->column + 1;
	}
	n->line = L->line;
	n->col = L->col;
	n->origin = L->origin;
}

static int error_at(loader *L, int code, const strata_node *n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int error_at(loader *L, int code, const strata_node *n, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = strata_error_vset(L->err, code, L->file, n ? (int)n->line : (int)L->line,
			       n ? (int)n->col : (int)L->col, fmt, ap);
	va_end(ap);
	return rc;
}

/* At most 60 bytes of a key for messages, with an ellipsis when cut. */
static int msg_len(size_t len)
{
	return len > 60 ? 60 : (int)len;
}

/* ---- anchors ---- */

static anchor *anchor_slot(loader *L, const char *name, size_t len, uint64_t h)
{
	size_t mask = L->cap_anchors - 1;

	for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
		anchor *s = &L->anchors[i];
		if (!s->name || (s->hash == h && s->len == len && !memcmp(s->name, name, len)))
			return s;
	}
}

static int anchor_define(loader *L, const char *name, size_t len, strata_node *n,
			 size_t count, uint32_t height)
{
	uint64_t h = strata_hash(name, len, STRATA_HASH_SEED);
	anchor *s;

	if ((L->n_anchors + 1) * 2 > L->cap_anchors) {
		size_t ncap = L->cap_anchors ? L->cap_anchors * 2 : 64;
		anchor *old = L->anchors;
		size_t ocap = L->cap_anchors;

		L->anchors = calloc(ncap, sizeof(*L->anchors));
		if (!L->anchors) {
			L->anchors = old;
			return nomem(L);
		}
		L->cap_anchors = ncap;
		for (size_t i = 0; i < ocap; i++)
			if (old[i].name)
				*anchor_slot(L, old[i].name, old[i].len, old[i].hash) = old[i];
		free(old);
	}
	s = anchor_slot(L, name, len, h);
	if (!s->name)
		L->n_anchors++;
	s->name = name;
	s->len = len;
	s->hash = h;
	s->node = n;
	s->count = count;
	s->height = height;
	return 0;
}

static const anchor *anchor_find(loader *L, const char *name, size_t len)
{
	const anchor *s;

	if (!L->n_anchors)
		return NULL;
	s = anchor_slot(L, name, len, strata_hash(name, len, STRATA_HASH_SEED));
	return s->name ? s : NULL;
}

/* ---- building ---- */

/*
 * Deep copy for alias expansion.  Recursion depth is the anchor's height,
 * which the caller checked against the depth limit.  Scalar text is shared:
 * the model never writes into a scalar's text in place.
 */
static strata_node *copy_tree(loader *L, const strata_node *n)
{
	strata_node *c = strata_arena_alloc(L->a, sizeof(*c));

	if (!c)
		return NULL;
	*c = *n;
	L->nodes++;
	if (n->type == STRATA_NODE_MAP && n->u.map.n) {
		c->u.map.pairs = strata_arena_alloc(L->a, n->u.map.n * sizeof(strata_pair));
		if (!c->u.map.pairs)
			return NULL;
		c->u.map.cap = n->u.map.n;
		for (uint32_t i = 0; i < n->u.map.n; i++) {
			c->u.map.pairs[i].key = copy_tree(L, n->u.map.pairs[i].key);
			c->u.map.pairs[i].value = copy_tree(L, n->u.map.pairs[i].value);
			if (!c->u.map.pairs[i].key || !c->u.map.pairs[i].value)
				return NULL;
		}
	} else if (n->type == STRATA_NODE_SEQ && n->u.seq.n) {
		c->u.seq.items = strata_arena_alloc(L->a, n->u.seq.n * sizeof(strata_node *));
		if (!c->u.seq.items)
			return NULL;
		c->u.seq.cap = n->u.seq.n;
		for (uint32_t i = 0; i < n->u.seq.n; i++)
			if (!(c->u.seq.items[i] = copy_tree(L, n->u.seq.items[i])))
				return NULL;
	}
	return c;
}

static bool key_eq(const strata_node *a, const strata_node *b)
{
	return a->u.scalar.len == b->u.scalar.len &&
	       !memcmp(a->u.scalar.str, b->u.scalar.str, a->u.scalar.len);
}

static uint64_t key_hash(const strata_node *k)
{
	return strata_hash(k->u.scalar.str, k->u.scalar.len, STRATA_HASH_SEED);
}

/* Insert pair index idx (key k) into ks; returns the clashing index + 1 or 0. */
static uint32_t keyset_insert(keyset *ks, strata_node **items, size_t start,
			      const strata_node *k, uint32_t idx)
{
	size_t mask = ks->cap - 1;

	for (size_t i = (size_t)key_hash(k) & mask;; i = (i + 1) & mask) {
		uint32_t s = ks->slots[i];
		if (!s) {
			ks->slots[i] = idx + 1;
			return 0;
		}
		if (key_eq(items[start + 2 * (s - 1)], k))
			return s;
	}
}

static int keyset_rebuild(loader *L, frame *f, uint32_t n_pairs)
{
	size_t cap = 64;

	while (cap < (size_t)n_pairs * 2 + 2)
		cap *= 2;
	free(f->keys.slots);
	f->keys.slots = calloc(cap, sizeof(*f->keys.slots));
	if (!f->keys.slots)
		return nomem(L);
	f->keys.cap = cap;
	for (uint32_t i = 0; i < n_pairs; i++)
		keyset_insert(&f->keys, L->items, f->start, L->items[f->start + 2 * i], i);
	return 0;
}

/* A new key k (written at pos) for the map of frame f, about to become pair idx. */
static int check_key(loader *L, frame *f, strata_node *k, const strata_node *pos, uint32_t idx)
{
	uint32_t clash = 0;

	if (k->type != STRATA_NODE_SCALAR)
		return error_at(L, STRATA_EPARSE, k, "complex map keys are not supported");
	if (k->style == STRATA_STYLE_PLAIN && !strata_node_tag(k) && k->u.scalar.len == 2 &&
	    k->u.scalar.str[0] == '<' && k->u.scalar.str[1] == '<' && !f->merge_at)
		f->merge_at = idx + 1;
	if (idx < SMALL_MAP) {
		for (uint32_t i = 0; i < idx; i++)
			if (key_eq(L->items[f->start + 2 * i], k)) {
				clash = i + 1;
				break;
			}
	} else {
		if (!f->keys.slots || (size_t)(idx + 1) * 2 > f->keys.cap) {
			int rc = keyset_rebuild(L, f, idx);
			if (rc)
				return rc;
		}
		clash = keyset_insert(&f->keys, L->items, f->start, k, idx);
	}
	if (clash) {
		uint32_t first = L->lines[f->start + 2 * (clash - 1)];
		return strata_error_set_rule(L->err, "duplicate-key", STRATA_EPARSE, L->file,
					     (int)pos->line, (int)pos->col,
					     "duplicate key '%.*s%s' (first at line %u)",
					     msg_len(k->u.scalar.len), k->u.scalar.str,
					     k->u.scalar.len > 60 ? "..." : "", first);
	}
	return 0;
}

/*
 * A finished node n of the given height: a child of the open frame, or the
 * root.  pos holds where it was written (n itself, except for shared keys).
 */
static int add_node_at(loader *L, strata_node *n, const strata_node *pos, uint32_t height)
{
	frame *f;
	size_t k;

	if (!L->depth) {
		L->root = n;
		return 0;
	}
	f = &L->frames[L->depth - 1];
	k = L->n_items - f->start;
	if (f->node->type == STRATA_NODE_MAP && !(k & 1)) {
		int rc;
		if (k / 2 >= UINT32_MAX - 1)
			return error_at(L, STRATA_ELIMIT, n, "map too large");
		rc = check_key(L, f, n, pos, (uint32_t)(k / 2));
		if (rc)
			return rc;
	}
	if (height > f->height)
		f->height = height;
	return push_item(L, n, pos->line);
}

static int add_node(loader *L, strata_node *n, uint32_t height)
{
	return add_node_at(L, n, n, height);
}

static const char *copy_anchor(loader *L, struct fy_token *t, size_t *len)
{
	const char *s = fy_token_get_text(t, len);

	if (!s)
		return NULL;
	return strata_arena_strndup(L->a, s, *len);
}

/*
 * The tag as it was written: "!!binary", "!local", "!" or, for verbatim
 * tags and tags using a %TAG handle, the verbatim form "!<full:tag>" (the
 * emitter writes no directives, so a named handle would not re-read).
 */
static const char *tag_text(loader *L, struct fy_token *t)
{
	size_t hl = 0, sl = 0, tl = 0;
	const char *h = fy_tag_token_handle(t, &hl);
	const char *s = fy_tag_token_suffix(t, &sl);
	const char *full;

	if (h && ((hl == 1 && h[0] == '!') || (hl == 2 && h[0] == '!' && h[1] == '!')))
		return strata_arena_printf(L->a, "%.*s%.*s", (int)hl, h, (int)sl, s ? s : "");
	full = fy_token_get_text(t, &tl);
	if (!full)
		return NULL;
	if (tl == 1 && full[0] == '!')
		return strata_arena_strdup(L->a, "!");
	return strata_arena_printf(L->a, "!<%.*s>", (int)tl, full);
}

static int set_tag(loader *L, strata_node *n, struct fy_token *t)
{
	const char *text = tag_text(L, t);

	return !text || strata_node_set_tag(n, text);
}

/*
 * libfyaml 0.7.12 misreads a block scalar whose content is not indented
 * more than the line holding its indicator ("key:\n  |\n  text\n   more",
 * "  key: |\n  text"): the text loses its last bytes, comes back empty, or
 * ends in bytes of uninitialised heap memory that would be published.
 * Found by fuzz/fuzz_yaml.c (fuzz/regressions/yaml/libfyaml-*).  Such a
 * scalar is refused; the usual "key: |" with deeper content reads fine.
 * Returns the header line's indentation + 1 (a column) when the scalar must
 * be refused, else 0.  The event's mark is the start of the line after the
 * header (libfyaml puts it there for block scalars).
 */
static uint32_t block_scalar_misread(const loader *L, const struct fy_mark *m)
{
	size_t pos, hs, hi = 0, i, ci;

	if (!m || !L->buf || m->column != 0 || m->input_pos == 0 ||
	    m->input_pos > L->len || L->buf[m->input_pos - 1] != '\n')
		return 0;
	pos = m->input_pos - 1;
	for (hs = pos; hs > 0 && L->buf[hs - 1] != '\n'; hs--)
		;
	while (hs + hi < pos && L->buf[hs + hi] == ' ')
		hi++;
	/* the first content line with something on it */
	for (i = m->input_pos; i < L->len;) {
		for (ci = 0; i + ci < L->len && L->buf[i + ci] == ' '; ci++)
			;
		i += ci;
		if (i < L->len && L->buf[i] != '\n' && L->buf[i] != '\r')
			return ci <= hi ? (uint32_t)hi + 1 : 0;
		while (i < L->len && L->buf[i] != '\n')
			i++;
		i++;
	}
	return 0;
}

/*
 * Second guard against the same libfyaml bugs, for the shapes the rule
 * above cannot know (the owning key's column is not on record): a block
 * scalar's text is its source lines less indentation, line breaks and, when
 * folded, with breaks turned to spaces.  So its non-blank bytes must be the
 * source's non-blank bytes from the content start on, in order.  Text
 * ending in heap garbage, or taken from anywhere else, fails.  Linear in
 * the scalar's size.  Returns true when the text is not the source's.
 */
static bool block_scalar_foreign(const loader *L, const struct fy_mark *m,
				 const char *text, size_t len)
{
	size_t i, j;

	if (!m || !L->buf || m->column != 0 || m->input_pos > L->len)
		return false; /* not the shape libfyaml reports: no opinion */
	j = m->input_pos;
	for (i = 0; i < len; i++) {
		char c = text[i];
		if (c == '\n' || c == ' ')
			continue;
		while (j < L->len && (L->buf[j] == ' ' || L->buf[j] == '\n' ||
				      L->buf[j] == '\r'))
			j++;
		if (j >= L->len || L->buf[j] != c)
			return true;
		j++;
	}
	return false;
}

/*
 * The same bug cutting a block scalar inside a character ("  -\xde\x81"
 * at the end of content indented no more than its key: the text ends in
 * "-\xde"): the source passed check_input, so text that does not was
 * misread.  Found by fuzz/fuzz_yaml.c (fuzz/regressions/yaml/
 * libfyaml-block-cut-utf8).  Linear in the scalar's size.
 */
static bool block_scalar_cut(const char *text, size_t len)
{
	strata_error scratch;

	strata_error_clear(&scratch);
	return check_input(NULL, (const unsigned char *)text, len, NULL, &scratch) != 0;
}

/*
 * A single-line plain scalar is exactly the input bytes between its token's
 * marks: plain scalars have no escapes, and only line folding (a line break
 * in the span) makes the text differ from the source.  Reading the span
 * directly spares fy_token_get_text, which formats a malloc'ed copy of every
 * scalar (7% of a render).  Returns NULL, and the caller asks libfyaml, for
 * anything else or when the marks do not make sense.
 */
static const char *plain_span(const loader *L, struct fy_token *v, size_t *len)
{
	const struct fy_mark *sm = fy_token_start_mark(v), *em = fy_token_end_mark(v);
	size_t a, b;

	if (!sm || !em || !L->buf)
		return NULL;
	a = sm->input_pos;
	b = em->input_pos;
	if (a > b || b > L->len || em->line != sm->line)
		return NULL;
	if (memchr(L->buf + a, '\n', b - a) || memchr(L->buf + a, '\r', b - a))
		return NULL;
	*len = b - a;
	return L->buf + a;
}

/*
 * libfyaml 0.7.12 decodes a single-quoted scalar with two '' escapes in a
 * row wrongly: 'a''''b' comes back as "a'''" and longer runs end in heap
 * bytes.  strata decodes every single-quoted scalar itself from the input
 * span between the quotes (the token's marks), which is also one copy less.
 * YAML 1.2 rules: '' is a quote; at a line break, white space around it is
 * dropped, a single break folds to a space and each further (empty) line
 * gives one line feed.  Writes at most n bytes to out; returns the length.
 */
static size_t squote_decode(const char *s, size_t n, char *out)
{
	size_t i = 0, o = 0;

	while (i < n) {
		char c = s[i];
		if (c == '\'' && i + 1 < n && s[i + 1] == '\'') {
			out[o++] = '\'';
			i += 2;
		} else if (c == '\n' || c == '\r') {
			size_t breaks = 0;
			while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == '\t'))
				o--;
			/* count line breaks, skipping white space between them */
			while (i < n) {
				if (s[i] == '\r') {
					i += (i + 1 < n && s[i + 1] == '\n') ? 2 : 1;
					breaks++;
				} else if (s[i] == '\n') {
					i++;
					breaks++;
				} else if (s[i] == ' ' || s[i] == '\t') {
					i++;
				} else {
					break;
				}
			}
			if (breaks == 1) {
				out[o++] = ' ';
			} else {
				for (size_t k = 1; k < breaks; k++)
					out[o++] = '\n';
			}
		} else {
			out[o++] = c;
			i++;
		}
	}
	return o;
}

/* The raw input between a quoted scalar's quotes, or NULL. */
static const char *quoted_span(const loader *L, struct fy_token *v, size_t *len)
{
	const struct fy_mark *sm = fy_token_start_mark(v), *em = fy_token_end_mark(v);

	if (!sm || !em || !L->buf || sm->input_pos > em->input_pos || em->input_pos > L->len)
		return NULL;
	*len = em->input_pos - sm->input_pos;
	return L->buf + sm->input_pos;
}

/* Map keys up to this length share one node per arena (strata_node_key). */
#define SHARED_KEY_MAX 128

/* The next node is a key of the open map. */
static bool key_position(const loader *L)
{
	const frame *f;

	if (!L->depth)
		return false;
	f = &L->frames[L->depth - 1];
	return f->node->type == STRATA_NODE_MAP && !((L->n_items - f->start) & 1);
}

/* A plain or double-quoted key without tag or anchor: the arena's shared node. */
static int on_key(loader *L, struct fy_event *e, const char *text, size_t len, strata_style st)
{
	strata_node pos = { 0 };
	bool created = false;
	strata_node *n;

	set_pos(L, &pos, fy_event_start_mark(e));
	if (st == STRATA_STYLE_DOUBLE && pos.col > 1)
		pos.col--; /* point at the opening quote */
	n = strata_node_key(L->a, text, len, st, &created);
	if (!n)
		return nomem(L);
	if (created) {
		n->line = pos.line;
		n->col = pos.col;
		n->origin = pos.origin;
	}
	L->nodes++;
	return add_node_at(L, n, &pos, 0);
}

static int on_scalar(loader *L, struct fy_event *e)
{
	struct fy_token *v = e->scalar.value;
	enum fy_scalar_style style = v ? fy_token_scalar_style(v) : FYSS_PLAIN;
	size_t len = 0;
	const char *text = NULL;
	const char *sq = NULL; /* single-quoted: the raw span, decoded here */
	size_t sqlen = 0;
	strata_node *n;
	char *str;

	if (v && style == FYSS_PLAIN)
		text = plain_span(L, v, &len);
	else if (v && style == FYSS_SINGLE_QUOTED && (sq = quoted_span(L, v, &sqlen)))
		len = sqlen; /* an upper bound; decoded below */
#ifdef STRATA_YAML_CHECK_SPAN
	/* -DSTRATA_YAML_CHECK_SPAN: abort when the span is not libfyaml's text */
	if (text) {
		size_t sl = 0;
		const char *slow = fy_token_get_text(v, &sl);
		if (!slow || sl != len || memcmp(slow, text, len))
			abort();
	}
#endif
	if (!text && !sq && v)
		text = fy_token_get_text(v, &len);
	if (!text && !sq)
		len = 0;
	if (len > L->lim->max_scalar) {
		strata_node pos = { 0 };
		set_pos(L, &pos, fy_event_start_mark(e));
		return error_at(L, STRATA_ELIMIT, &pos, "scalar exceeds %zu bytes",
				L->lim->max_scalar);
	}
	if (!sq && !e->scalar.tag && !e->scalar.anchor && len <= SHARED_KEY_MAX &&
	    (style == FYSS_PLAIN || style == FYSS_DOUBLE_QUOTED) && key_position(L))
		return on_key(L, e, text ? text : "", len,
			      style == FYSS_PLAIN ? STRATA_STYLE_PLAIN : STRATA_STYLE_DOUBLE);
	/* node and text in one allocation */
	n = strata_arena_alloc(L->a, sizeof(*n) + len + 1);
	if (!n)
		return nomem(L);
	str = (char *)(n + 1);
	if (sq)
		len = squote_decode(sq, sqlen, str);
	else if (len)
		memcpy(str, text, len);
	str[len] = '\0';
	n->type = STRATA_NODE_SCALAR;
	switch (style) {
	case FYSS_SINGLE_QUOTED: n->style = STRATA_STYLE_SINGLE; break;
	case FYSS_DOUBLE_QUOTED: n->style = STRATA_STYLE_DOUBLE; break;
	case FYSS_LITERAL: n->style = STRATA_STYLE_LITERAL; break;
	case FYSS_FOLDED: n->style = STRATA_STYLE_FOLDED; break;
	default: n->style = STRATA_STYLE_PLAIN; break;
	}
	n->u.scalar.str = str;
	n->u.scalar.len = len;
	set_pos(L, n, fy_event_start_mark(e));
	if (n->style == STRATA_STYLE_LITERAL || n->style == STRATA_STYLE_FOLDED) {
		uint32_t hcol = block_scalar_misread(L, fy_event_start_mark(e));
		if (!hcol && (block_scalar_foreign(L, fy_event_start_mark(e), str, len) ||
			      block_scalar_cut(str, len)))
			hcol = n->col ? n->col : 1;
		if (hcol) {
			n->line = n->line > 1 ? n->line - 1 : 1; /* the header line */
			n->col = hcol;
			return error_at(L, STRATA_EPARSE, n,
					"block scalar content must be indented more than the "
					"line of its '|' or '>' (libfyaml 0.7.12 misreads it)");
		}
	}
	/* libfyaml marks a quoted scalar's text; point at the opening quote */
	if ((n->style == STRATA_STYLE_SINGLE || n->style == STRATA_STYLE_DOUBLE) && n->col > 1)
		n->col--;
	if (e->scalar.tag && set_tag(L, n, e->scalar.tag))
		return nomem(L);
	L->nodes++;
	if (e->scalar.anchor) {
		size_t al;
		const char *an = copy_anchor(L, e->scalar.anchor, &al);
		int rc;
		if (!an)
			return nomem(L);
		if ((rc = anchor_define(L, an, al, n, 1, 0)))
			return rc;
	}
	return add_node(L, n, 0);
}

static int on_start(loader *L, struct fy_event *e, bool is_map)
{
	struct fy_token *tag = is_map ? e->mapping_start.tag : e->sequence_start.tag;
	struct fy_token *anc = is_map ? e->mapping_start.anchor : e->sequence_start.anchor;
	strata_node *n = strata_arena_alloc(L->a, sizeof(*n));
	frame *f;

	if (!n)
		return nomem(L);
	n->type = is_map ? STRATA_NODE_MAP : STRATA_NODE_SEQ;
	/* parsed trees may be seen by several renders: copy-on-write (doc.h) */
	n->flags = STRATA_NODE_SHARED;
	set_pos(L, n, fy_event_start_mark(e));
	if (fy_event_get_node_style(e) == FYNS_FLOW)
		n->flags |= STRATA_NODE_FLOW;
	if (L->depth) {
		frame *p = &L->frames[L->depth - 1];
		if (p->node->type == STRATA_NODE_MAP && !((L->n_items - p->start) & 1))
			return error_at(L, STRATA_EPARSE, n, "complex map keys are not supported");
	}
	if (L->depth >= L->lim->max_depth)
		return error_at(L, STRATA_ELIMIT, n, "nesting exceeds %zu levels",
				L->lim->max_depth);
	if (tag && set_tag(L, n, tag))
		return nomem(L);
	if (L->depth == L->cap_frames &&
	    grow((void **)&L->frames, &L->cap_frames, L->depth + 1, sizeof(*L->frames)))
		return nomem(L);
	f = &L->frames[L->depth++];
	if (L->depth > L->used_frames) {
		/* first use of this frame: the rest is set below */
		f->keys.slots = NULL;
		f->keys.cap = 0;
		L->used_frames = L->depth;
	}
	f->node = n;
	f->start = L->n_items;
	f->nodes_start = L->nodes;
	f->height = 0;
	f->merge_at = 0;
	f->anchor = NULL;
	L->nodes++;
	if (anc && !(f->anchor = copy_anchor(L, anc, &f->anchor_len)))
		return nomem(L);
	return 0;
}

/* Find a key in pairs[0..n) through the open-addressing table ks. */
static bool pairs_has(const keyset *ks, const strata_pair *pairs, const strata_node *k,
		      uint32_t *slot_out)
{
	size_t mask = ks->cap - 1;

	for (size_t i = (size_t)key_hash(k) & mask;; i = (i + 1) & mask) {
		uint32_t s = ks->slots[i];
		if (!s) {
			*slot_out = (uint32_t)i;
			return false;
		}
		if (key_eq(pairs[s - 1].key, k))
			return true;
	}
}

/*
 * Expand a `<<` merge key: the pairs of the merged map(s) take the place of
 * the `<<` pair, minus keys the map sets explicitly (explicit keys win) and
 * keys an earlier merged map already gave (earlier maps win, as in the
 * merge-key spec).  The merged nodes were already counted when their alias
 * was expanded.
 */
static int expand_merge(loader *L, frame *f, strata_node *map, size_t n_pairs)
{
	strata_node **it = L->items + f->start;
	uint32_t at = f->merge_at - 1;
	strata_node *src = it[2 * at + 1];
	strata_node *const *srcs = &src;
	size_t n_srcs = 1, total = n_pairs, cap = 64, n_out = 0;
	keyset ks = { NULL, 0 };
	strata_pair *out = NULL;
	int rc = 0;

	if (src->type == STRATA_NODE_SEQ) {
		srcs = src->u.seq.items;
		n_srcs = src->u.seq.n;
	}
	for (size_t i = 0; i < n_srcs; i++) {
		if (srcs[i]->type != STRATA_NODE_MAP) {
			rc = error_at(L, STRATA_EPARSE, srcs[i],
				      "merge key '<<' needs a map or a sequence of maps");
			goto done;
		}
		total += srcs[i]->u.map.n;
	}
	while (cap < total * 2 + 2)
		cap *= 2;
	ks.cap = cap;
	ks.slots = calloc(cap, sizeof(*ks.slots));
	out = strata_arena_alloc(L->a, total * sizeof(*out));
	if (!ks.slots || !out) {
		rc = nomem(L);
		goto done;
	}
	/* explicit keys first into the table, so they shadow merged ones */
	for (size_t i = 0; i < n_pairs; i++) {
		uint32_t slot;
		if (i == at)
			continue;
		if (!pairs_has(&ks, out, it[2 * i], &slot)) {
			out[n_out].key = it[2 * i];
			out[n_out].value = it[2 * i + 1];
			ks.slots[slot] = (uint32_t)++n_out;
		}
	}
	/* then rebuild the order: explicit before <<, merged, explicit after */
	{
		size_t n_before = at, n_expl = n_out, w;
		strata_pair *fin = strata_arena_alloc(L->a, total * sizeof(*fin));

		if (!fin) {
			rc = nomem(L);
			goto done;
		}
		memcpy(fin, out, n_before * sizeof(*fin));
		w = n_before;
		for (size_t s = 0; s < n_srcs; s++) {
			const strata_node *m = srcs[s];
			for (uint32_t i = 0; i < m->u.map.n; i++) {
				uint32_t slot;
				if (pairs_has(&ks, out, m->u.map.pairs[i].key, &slot))
					continue;
				/* remember it in out[] so later sources do not repeat it */
				out[n_out] = m->u.map.pairs[i];
				ks.slots[slot] = (uint32_t)++n_out;
				fin[w++] = m->u.map.pairs[i];
			}
		}
		memcpy(fin + w, out + n_before, (n_expl - n_before) * sizeof(*fin));
		w += n_expl - n_before;
		map->u.map.pairs = fin;
		map->u.map.n = (uint32_t)w;
		map->u.map.cap = (uint32_t)total;
	}
done:
	free(ks.slots);
	return rc;
}

static int on_end(loader *L)
{
	frame *f = &L->frames[L->depth - 1];
	strata_node *n = f->node;
	size_t k = L->n_items - f->start;
	uint32_t height = f->height + 1;
	int rc = 0;

	if (k > UINT32_MAX)
		return error_at(L, STRATA_ELIMIT, n, "collection too large");
	if (n->type == STRATA_NODE_MAP) {
		size_t np = k / 2;
		if (f->merge_at) {
			rc = expand_merge(L, f, n, np);
		} else if (np) {
			strata_pair *p = strata_arena_alloc(L->a, np * sizeof(*p));
			if (!p)
				return nomem(L);
			for (size_t i = 0; i < np; i++) {
				p[i].key = L->items[f->start + 2 * i];
				p[i].value = L->items[f->start + 2 * i + 1];
			}
			n->u.map.pairs = p;
			n->u.map.n = n->u.map.cap = (uint32_t)np;
		}
		if (f->keys.slots) {
			free(f->keys.slots);
			f->keys.slots = NULL;
			f->keys.cap = 0;
		}
		if (rc)
			return rc;
	} else if (k) {
		strata_node **items = strata_arena_alloc(L->a, k * sizeof(*items));
		if (!items)
			return nomem(L);
		memcpy(items, L->items + f->start, k * sizeof(*items));
		n->u.seq.items = items;
		n->u.seq.n = n->u.seq.cap = (uint32_t)k;
	}
	L->n_items = f->start;
	L->depth--;
	if (f->anchor &&
	    (rc = anchor_define(L, f->anchor, f->anchor_len, n, L->nodes - f->nodes_start, height)))
		return rc;
	return add_node(L, n, height);
}

static int on_alias(loader *L, struct fy_event *e)
{
	size_t len = 0;
	const char *name = fy_token_get_text(e->alias.anchor, &len);
	strata_node pos = { 0 };
	const anchor *an;
	strata_node *c;

	set_pos(L, &pos, fy_event_start_mark(e));
	if (pos.col > 1)
		pos.col--; /* libfyaml marks the name; point at the '*' */
	an = name ? anchor_find(L, name, len) : NULL;
	if (!an)
		return error_at(L, STRATA_EPARSE, &pos, "undefined alias '%.*s'",
				msg_len(len), name ? name : "");
	if (L->depth + an->height > L->lim->max_depth)
		return error_at(L, STRATA_ELIMIT, &pos, "nesting exceeds %zu levels",
				L->lim->max_depth);
	if (an->count > L->lim->max_alias_nodes - L->alias_nodes)
		return error_at(L, STRATA_ELIMIT, &pos, "alias expansion exceeds %zu nodes",
				L->lim->max_alias_nodes);
	L->alias_nodes += an->count;
	if (!(c = copy_tree(L, an->node)))
		return nomem(L);
	c->line = pos.line;
	c->col = pos.col;
	return add_node(L, c, an->height);
}

/* An empty document, or one that is nothing but a null. */
static bool is_null_doc(const strata_node *n)
{
	const char *s = n->u.scalar.str;
	size_t l = n->u.scalar.len;

	if (n->type != STRATA_NODE_SCALAR || n->style != STRATA_STYLE_PLAIN ||
	    (strata_node_tag(n) && strcmp(strata_node_tag(n), "!!null")))
		return false;
	return l == 0 || (l == 1 && s[0] == '~') ||
	       (l == 4 && (!memcmp(s, "null", 4) || !memcmp(s, "Null", 4) || !memcmp(s, "NULL", 4)));
}

static int on_doc_end(loader *L)
{
	strata_node *r = L->root;

	L->root = NULL;
	if (L->n_anchors)
		memset(L->anchors, 0, L->cap_anchors * sizeof(*L->anchors));
	L->n_anchors = 0;
	if (!r || is_null_doc(r))
		return 0;
	if (L->n_docs == L->cap_docs &&
	    grow((void **)&L->docs, &L->cap_docs, L->n_docs + 1, sizeof(*L->docs)))
		return nomem(L);
	L->docs[L->n_docs].root = r;
	L->docs[L->n_docs].line = r->line;
	L->docs[L->n_docs].col = r->col;
	L->docs[L->n_docs].dollar_free = L->dollar_free;
	L->n_docs++;
	return 0;
}

/*
 * libfyaml stopped: turn its first collected diagnostic into our error.
 * *poisoned is set when the parser must not be destroyed: after "cannot use
 * tab for indentation of block entry" inside an explicit key ("? a:\t?"),
 * libfyaml 0.7.12 corrupts its indent stack and fy_parser_destroy() then
 * crashes.  Leaking one parser on such a rejected file beats a segfault.
 */
static int parse_error(loader *L, struct fy_diag *diag, bool *poisoned)
{
	void *it = NULL;
	struct fy_diag_error *de;

	while ((de = fy_diag_errors_iterate(diag, &it))) {
		if (de->type < FYET_ERROR)
			continue;
		if (de->msg && strstr(de->msg, "cannot use tab for indentation"))
			*poisoned = true;
		return strata_error_set(L->err, STRATA_EPARSE, L->file, de->line, de->column,
					"%s", de->msg ? de->msg : "invalid YAML");
	}
	return error_at(L, STRATA_EPARSE, NULL, "invalid YAML");
}

/*
 * Parsers that must not be destroyed (see parse_error) are parked here so
 * they stay reachable: leak checkers (LSan, valgrind) then stay quiet about
 * what is a deliberate, bounded leak.  Past the last slot they are simply
 * dropped.
 */
#define QUARANTINE 16
static struct fy_parser *volatile quarantine[QUARANTINE]; /* volatile: never read */
static atomic_uint n_quarantined;

/*
 * fy_diag_cfg_default() asks isatty(stderr) (an ioctl) on every call; the
 * answer is overridden anyway, so it is asked once per process.
 */
static struct fy_diag_cfg diag_cfg_cached;
static pthread_once_t diag_cfg_once = PTHREAD_ONCE_INIT;

static void diag_cfg_init(void)
{
	fy_diag_cfg_default(&diag_cfg_cached);
}

static void diag_cfg_default(struct fy_diag_cfg *cfg)
{
	pthread_once(&diag_cfg_once, diag_cfg_init);
	*cfg = diag_cfg_cached;
}

static void diag_discard(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
	(void)diag;
	(void)user;
	(void)buf;
	(void)len;
}

void strata_yaml_parser_free(strata_yaml_parser *ps)
{
	if (ps->p)
		fy_parser_destroy(ps->p);
	if (ps->diag)
		fy_diag_destroy(ps->diag);
	ps->p = NULL;
	ps->diag = NULL;
}

/* A parser that ended a file cleanly, with nothing collected, may be kept. */
static bool keepable(struct fy_parser *p, struct fy_diag *diag)
{
	void *it = NULL;

	return !fy_parser_get_stream_error(p) && !fy_diag_got_error(diag) &&
	       !fy_diag_errors_iterate(diag, &it);
}

int strata_yaml_load(strata_yaml_doc **out_docs, size_t *out_n, strata_arena *a,
		     const char *file, const char *buf, size_t len,
		     const strata_limits *lim, strata_error *err)
{
	return strata_yaml_load_with(NULL, out_docs, out_n, a, file, buf, len, lim, err);
}

/* Kubernetes-shaped: block maps and lists, a flow list, quoted scalars,
 * a literal block, two documents. */
static const char warm_doc[] =
	"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: warm\n"
	"  labels:\n    app: warm\n  annotations:\n    a: \"1\"\n"
	"spec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n"
	"      - name: c\n        image: 'x/y:1.0'\n        args: [\"--a\", \"b\"]\n"
	"        env:\n        - name: K\n          value: v\n"
	"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: w\n"
	"data:\n  f: |\n    line one\n    line two\n";

int strata_yaml_warm(void)
{
	strata_arena *a = strata_arena_new();
	strata_yaml_doc *docs;
	size_t n = 0;
	int rc = STRATA_ENOMEM;

	if (a)
		rc = strata_yaml_load(&docs, &n, a, NULL, warm_doc,
				      sizeof(warm_doc) - 1, NULL, NULL);
	strata_arena_free(a);
	return rc == 0 && n == 2 ? 0 : rc < 0 ? rc : STRATA_ERROR;
}

int strata_yaml_load_with(strata_yaml_parser *ps, strata_yaml_doc **out_docs,
			  size_t *out_n, strata_arena *a, const char *file,
			  const char *buf, size_t len, const strata_limits *lim,
			  strata_error *err)
{
	strata_limits deflim;
	loader L;
	struct fy_diag_cfg dcfg;
	struct fy_diag *diag = NULL;
	struct fy_parser *p = NULL;
	struct fy_event *e;
	bool ended = false, poisoned = false, dollar = true;
	int rc = 0;

	*out_docs = NULL;
	*out_n = 0;
	if (!lim) {
		strata_limits_default(&deflim);
		lim = &deflim;
	}
	memset(&L, 0, sizeof(L));
	L.a = a;
	L.lim = lim;
	L.buf = buf;
	L.len = len;
	L.err = err;
	L.line = L.col = 1;
	if (file && (!(L.file = strata_arena_strdup(a, file)) || !(L.origin = strata_origin(file, NULL))))
		return strata_error_set(err, STRATA_ENOMEM, file, 0, 0, "out of memory");
	if (len > lim->max_file)
		return strata_error_set(err, STRATA_ELIMIT, file, 0, 0,
					"file exceeds %zu bytes", lim->max_file);
	if ((rc = check_input(L.file, (const unsigned char *)buf, len, &dollar, err)))
		return rc;
	L.dollar_free = !dollar;
	if (!len)
		return 0;

	if (ps && ps->p) {
		/* the last file's parser, which ended cleanly */
		p = ps->p;
		diag = ps->diag;
		ps->p = NULL;
		ps->diag = NULL;
		if (fy_parser_reset(p) != 0) {
			fy_parser_destroy(p);
			fy_diag_destroy(diag);
			p = NULL;
			diag = NULL;
		}
	}
	if (!p) {
		diag_cfg_default(&dcfg);
		dcfg.fp = NULL;
		dcfg.output_fn = diag_discard;
		dcfg.colorize = false;
		diag = fy_diag_create(&dcfg);
		if (!diag) {
			rc = nomem(&L);
			goto done;
		}
		fy_diag_set_collect_errors(diag, true);
		{
			struct fy_parse_cfg cfg = { .flags = FYPCF_QUIET | FYPCF_JSON_NONE,
						    .diag = diag };
			p = fy_parser_create(&cfg);
		}
	}
	if (!p || fy_parser_set_string(p, buf, len)) {
		rc = nomem(&L);
		goto done;
	}
	while (!rc && (e = fy_parser_parse(p))) {
		switch (e->type) {
		case FYET_SCALAR:
			rc = on_scalar(&L, e);
			break;
		case FYET_MAPPING_START:
			rc = on_start(&L, e, true);
			break;
		case FYET_SEQUENCE_START:
			rc = on_start(&L, e, false);
			break;
		case FYET_MAPPING_END:
		case FYET_SEQUENCE_END:
			rc = on_end(&L);
			break;
		case FYET_ALIAS:
			rc = on_alias(&L, e);
			break;
		case FYET_DOCUMENT_START:
			L.depth = 0;
			L.n_items = 0;
			L.root = NULL;
			break;
		case FYET_DOCUMENT_END:
			rc = on_doc_end(&L);
			break;
		case FYET_STREAM_END:
			ended = true;
			break;
		default:
			break;
		}
		fy_parser_event_free(p, e);
	}
	if (rc)
		goto done;
	if (!ended || fy_parser_get_stream_error(p) || fy_diag_got_error(diag)) {
		rc = parse_error(&L, diag, &poisoned);
		goto done;
	}
	if (L.n_docs) {
		*out_docs = strata_arena_alloc(a, L.n_docs * sizeof(**out_docs));
		if (!*out_docs) {
			rc = nomem(&L);
			goto done;
		}
		memcpy(*out_docs, L.docs, L.n_docs * sizeof(**out_docs));
		*out_n = L.n_docs;
	}
done:
	for (size_t i = 0; i < L.used_frames; i++)
		free(L.frames[i].keys.slots);
	free(L.frames);
	free(L.items);
	free(L.lines);
	free(L.anchors);
	free(L.docs);
	if (p && poisoned) {
		unsigned k = atomic_fetch_add(&n_quarantined, 1);
		if (k < QUARANTINE)
			quarantine[k] = p;
	} else if (p && ps && rc == 0 && ended && keepable(p, diag)) {
		ps->p = p; /* for the next file */
		ps->diag = diag;
		return rc;
	} else if (p) {
		fy_parser_destroy(p);
	}
	if (diag)
		fy_diag_destroy(diag);
	return rc;
}
