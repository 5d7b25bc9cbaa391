/*
 * doc_pack.c - a document tree as bytes and back (doc_pack.h).
 *
 * A node is one header byte (bits 0-1 the type, bit 2 flow style, bit 3
 * a tag follows, bits 4-6 the style), then the tag (length, text) when
 * there is one, then a scalar's text (length, bytes) or a collection's
 * count followed by its items (a map's as key, value, key, value ...), in
 * document order.  Lengths and counts are LEB128.
 */
#include "doc_pack.h"

#include <stdint.h>
#include <string.h>

#define PK_FLOW 0x04u
#define PK_TAG 0x08u
/* Keys up to this length share one node per arena, as the loader's do. */
#define PK_SHARED_KEY_MAX 128
/* Deeper than any tree the loader's depth limit lets through. */
#define PK_MAX_DEPTH 10000

static int put_len(strata_buf *b, size_t v)
{
	unsigned char t[10];
	size_t n = 0;

	do {
		t[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v)
			t[n] |= 0x80;
		n++;
	} while (v);
	return strata_buf_put(b, (const char *)t, n);
}

static int put_text(strata_buf *b, const char *s, size_t len)
{
	if (put_len(b, len) < 0)
		return -1;
	return len ? strata_buf_put(b, s, len) : 0;
}

static int pack_node(strata_buf *b, const strata_node *n)
{
	const char *tag = strata_node_tag(n);
	char h = (char)((n->type & 3u) | (n->flags & STRATA_NODE_FLOW ? PK_FLOW : 0) |
			(tag ? PK_TAG : 0) | ((n->style & 7u) << 4));

	if (strata_buf_put(b, &h, 1) < 0)
		return -1;
	if (tag && put_text(b, tag, strlen(tag)) < 0)
		return -1;
	switch (n->type) {
	case STRATA_NODE_SCALAR:
		return put_text(b, n->u.scalar.str, n->u.scalar.len);
	case STRATA_NODE_MAP:
		if (put_len(b, n->u.map.n) < 0)
			return -1;
		for (uint32_t i = 0; i < n->u.map.n; i++)
			if (pack_node(b, n->u.map.pairs[i].key) < 0 ||
			    pack_node(b, n->u.map.pairs[i].value) < 0)
				return -1;
		return 0;
	default:
		if (put_len(b, n->u.seq.n) < 0)
			return -1;
		for (uint32_t i = 0; i < n->u.seq.n; i++)
			if (pack_node(b, n->u.seq.items[i]) < 0)
				return -1;
		return 0;
	}
}

int strata_doc_pack(strata_buf *out, const strata_node *root)
{
	return pack_node(out, root) < 0 ? STRATA_ENOMEM : 0;
}

typedef struct unpacker {
	strata_arena *a;
	const unsigned char *p, *end;
	int rc;        /* the first failure */
	size_t depth;
} unpacker;

static strata_node *bad(unpacker *u)
{
	if (!u->rc)
		u->rc = STRATA_EIO;
	return NULL;
}

static strata_node *nomem(unpacker *u)
{
	if (!u->rc)
		u->rc = STRATA_ENOMEM;
	return NULL;
}

static bool get_len(unpacker *u, size_t *out)
{
	size_t v = 0;

	for (unsigned shift = 0; u->p < u->end && shift < 64; shift += 7) {
		unsigned char c = *u->p++;
		v |= (size_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*out = v;
			return true;
		}
	}
	return false;
}

/* A length followed by that many bytes: *s points at them. */
static bool get_text(unpacker *u, const char **s, size_t *len)
{
	if (!get_len(u, len) || *len > (size_t)(u->end - u->p))
		return false;
	*s = (const char *)u->p;
	u->p += *len;
	return true;
}

static strata_node *unpack_node(unpacker *u, bool key)
{
	const char *tag = NULL, *s;
	size_t tag_len = 0, len, cnt;
	unsigned h, type, style;
	strata_node *n;

	if (u->p >= u->end || ++u->depth > PK_MAX_DEPTH)
		return bad(u);
	h = *u->p++;
	type = h & 3u;
	style = (h >> 4) & 7u;
	if (!type || style > STRATA_STYLE_STRING || (h & 0x80u))
		return bad(u);
	if ((h & PK_TAG) && !get_text(u, &tag, &tag_len))
		return bad(u);
	if (type == STRATA_NODE_SCALAR) {
		if (!get_text(u, &s, &len))
			return bad(u);
		if (key && !tag && len <= PK_SHARED_KEY_MAX &&
		    (style == STRATA_STYLE_PLAIN || style == STRATA_STYLE_DOUBLE)) {
			n = strata_node_key(u->a, s, len, (strata_style)style, NULL);
			if (!n)
				return nomem(u);
			u->depth--;
			return n;
		}
		/* node and text in one allocation, as the loader makes them */
		n = strata_arena_alloc(u->a, sizeof(*n) + len + 1);
		if (!n)
			return nomem(u);
		memcpy((char *)(n + 1), s, len);
		n->u.scalar.str = (const char *)(n + 1);
		n->u.scalar.len = len;
	} else {
		/* every item takes a byte at least: a count beyond what is
		 * left is damage, not a reason to allocate */
		if (!get_len(u, &cnt) || cnt > UINT32_MAX ||
		    cnt > (size_t)(u->end - u->p) / (type == STRATA_NODE_MAP ? 2 : 1))
			return bad(u);
		n = strata_arena_alloc(u->a, sizeof(*n));
		if (!n)
			return nomem(u);
		/* as the loader marks what it parses (copy-on-write, doc.h) */
		n->flags = STRATA_NODE_SHARED | (h & PK_FLOW ? STRATA_NODE_FLOW : 0);
		if (type == STRATA_NODE_MAP && cnt) {
			n->u.map.pairs = strata_arena_alloc(u->a, cnt * sizeof(strata_pair));
			if (!n->u.map.pairs)
				return nomem(u);
			for (size_t i = 0; i < cnt; i++) {
				strata_pair *p = &n->u.map.pairs[i];
				if (!(p->key = unpack_node(u, true)) ||
				    !(p->value = unpack_node(u, false)))
					return NULL;
				if (p->key->type != STRATA_NODE_SCALAR)
					return bad(u);
			}
			n->u.map.n = n->u.map.cap = (uint32_t)cnt;
		} else if (type == STRATA_NODE_SEQ && cnt) {
			n->u.seq.items = strata_arena_alloc(u->a, cnt * sizeof(strata_node *));
			if (!n->u.seq.items)
				return nomem(u);
			for (size_t i = 0; i < cnt; i++)
				if (!(n->u.seq.items[i] = unpack_node(u, false)))
					return NULL;
			n->u.seq.n = n->u.seq.cap = (uint32_t)cnt;
		}
	}
	n->type = (uint8_t)type;
	n->style = (uint8_t)style;
	if (tag) {
		char *t = strata_arena_strndup(u->a, tag, tag_len);
		if (!t || strata_node_set_tag(n, t) < 0)
			return nomem(u);
	}
	u->depth--;
	return n;
}

int strata_doc_unpack(strata_arena *a, const void *p, size_t len,
		      strata_node **root)
{
	unpacker u = { a, p, (const unsigned char *)p + len, 0, 0 };
	strata_node *n = unpack_node(&u, false);

	*root = NULL;
	if (!n)
		return u.rc ? u.rc : STRATA_EIO;
	if (u.p != u.end)
		return STRATA_EIO;
	*root = n;
	return 0;
}
