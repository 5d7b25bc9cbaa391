/*
 * doc.c - the document model: creating, reading and editing nodes.
 *
 * Everything is arena memory.  Arrays grow by doubling inside the arena
 * (the old block is simply abandoned); maps are small in Kubernetes, so key
 * lookup is a linear scan, while code that needs lookups in big lists
 * (keyed merges, identities) builds its own hash tables.
 */
#include "strata/doc.h"
#include "arena_keys.h"
#include "slots.h"

#include <stdarg.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static strata_node *node_new(strata_arena *a, int type)
{
	strata_node *n = strata_arena_alloc(a, sizeof(*n));

	if (n)
		n->type = (uint8_t)type;
	return n;
}

strata_node *strata_node_scalar(strata_arena *a, const char *s, size_t len,
				strata_style style)
{
	strata_node *n = node_new(a, STRATA_NODE_SCALAR);

	if (!n)
		return NULL;
	n->style = (uint8_t)style;
	n->u.scalar.str = strata_arena_strndup(a, s ? s : "", s ? len : 0);
	if (!n->u.scalar.str)
		return NULL;
	n->u.scalar.len = s ? len : 0;
	return n;
}

strata_node *strata_node_scalar_str(strata_arena *a, const char *s,
				    strata_style style)
{
	return strata_node_scalar(a, s, s ? strlen(s) : 0, style);
}

strata_node *strata_node_map(strata_arena *a)
{
	return node_new(a, STRATA_NODE_MAP);
}

strata_node *strata_node_seq(strata_arena *a)
{
	return node_new(a, STRATA_NODE_SEQ);
}

strata_node *strata_node_copy(strata_arena *a, const strata_node *n)
{
	strata_node *c;

	if (!n)
		return NULL;
	/* scalars are never edited in a tree (doc.h): copies share them */
	if (n->type == STRATA_NODE_SCALAR)
		return (strata_node *)n;
	c = strata_arena_alloc(a, sizeof(*c));
	if (!c)
		return NULL;
	*c = *n;
	c->flags &= (uint16_t)~STRATA_NODE_SHARED;
	switch (n->type) {
	case STRATA_NODE_MAP:
		c->u.map.pairs = NULL;
		c->u.map.cap = c->u.map.n = 0;
		if (n->u.map.n) {
			c->u.map.pairs = strata_arena_alloc(a, n->u.map.n * sizeof(strata_pair));
			if (!c->u.map.pairs)
				return NULL;
			c->u.map.cap = n->u.map.n;
			for (uint32_t i = 0; i < n->u.map.n; i++) {
				/* keys are scalars and never edited in place */
				c->u.map.pairs[i].key = n->u.map.pairs[i].key;
				c->u.map.pairs[i].value = strata_node_copy(a, n->u.map.pairs[i].value);
				if (!c->u.map.pairs[i].value)
					return NULL;
			}
			c->u.map.n = n->u.map.n;
		}
		break;
	case STRATA_NODE_SEQ:
		c->u.seq.items = NULL;
		c->u.seq.cap = c->u.seq.n = 0;
		if (n->u.seq.n) {
			c->u.seq.items = strata_arena_alloc(a, n->u.seq.n * sizeof(strata_node *));
			if (!c->u.seq.items)
				return NULL;
			c->u.seq.cap = n->u.seq.n;
			for (uint32_t i = 0; i < n->u.seq.n; i++) {
				c->u.seq.items[i] = strata_node_copy(a, n->u.seq.items[i]);
				if (!c->u.seq.items[i])
					return NULL;
			}
			c->u.seq.n = n->u.seq.n;
		}
		break;
	}
	return c;
}

/* ---- copy-on-write ---- */

static bool must_copy(strata_arena *a, const strata_node *n)
{
	return (n->flags & STRATA_NODE_SHARED) && n->type != STRATA_NODE_SCALAR &&
	       strata_arena_cow(a);
}

/* n's node and its array of pairs or items, with room for extra more. */
static strata_node *shallow_copy(strata_arena *a, const strata_node *n,
				 uint32_t extra)
{
	strata_node *c;
	uint32_t cnt = n->type == STRATA_NODE_MAP ? n->u.map.n : n->u.seq.n;
	size_t elem = n->type == STRATA_NODE_MAP ? sizeof(strata_pair)
						 : sizeof(strata_node *);
	void *arr = NULL;

	if (extra > UINT32_MAX - cnt)
		return NULL;
	if (cnt + extra) {
		arr = strata_arena_alloc(a, (size_t)(cnt + extra) * elem);
		if (!arr)
			return NULL;
		if (cnt) /* an empty node's array may be NULL */
			memcpy(arr, n->type == STRATA_NODE_MAP ? (void *)n->u.map.pairs
							       : (void *)n->u.seq.items,
			       (size_t)cnt * elem);
	}
	c = strata_arena_alloc(a, sizeof(*c));
	if (!c)
		return NULL;
	*c = *n;
	c->flags &= (uint16_t)~STRATA_NODE_SHARED;
	if (n->type == STRATA_NODE_MAP) {
		c->u.map.pairs = arr;
		c->u.map.cap = cnt + extra;
	} else {
		c->u.seq.items = arr;
		c->u.seq.cap = cnt + extra;
	}
	return c;
}

strata_node *strata_node_own(strata_arena *a, strata_node **slot, uint32_t extra)
{
	strata_node *c;

	if (!*slot || !must_copy(a, *slot))
		return *slot;
	c = shallow_copy(a, *slot, extra);
	if (c)
		*slot = c;
	return c;
}

void strata_cur_top(strata_cur *c, strata_node **slot)
{
	c->node = *slot;
	c->up = NULL;
	c->top = slot;
	c->idx = 0;
}

strata_cur *strata_cur_at(strata_cur *out, strata_cur *in, uint32_t i)
{
	strata_node *v = in && in->node ? strata_node_child(in->node, i) : NULL;

	if (!v)
		return NULL;
	out->node = v;
	out->up = in;
	out->top = NULL;
	out->idx = i;
	return out;
}

strata_cur *strata_cur_get(strata_cur *out, strata_cur *map, const char *key)
{
	long i;

	if (!map || !map->node || map->node->type != STRATA_NODE_MAP)
		return NULL;
	i = strata_map_index(map->node, key, strlen(key));
	return i < 0 ? NULL : strata_cur_at(out, map, (uint32_t)i);
}

strata_cur *strata_cur_map(strata_cur *out, strata_cur *map, const char *key)
{
	strata_cur *c = strata_cur_get(out, map, key);

	return c && c->node->type == STRATA_NODE_MAP ? c : NULL;
}

strata_cur *strata_cur_seq(strata_cur *out, strata_cur *map, const char *key)
{
	strata_cur *c = strata_cur_get(out, map, key);

	return c && c->node->type == STRATA_NODE_SEQ ? c : NULL;
}

/* Where c's node is kept in its container as that is now (c->top at the top). */
static strata_node **slot_in(const strata_cur *c)
{
	const strata_node *up = c->up ? c->up->node : NULL;

	if (!up)
		return c->top;
	return up->type == STRATA_NODE_MAP ? &up->u.map.pairs[c->idx].value
					   : &up->u.seq.items[c->idx];
}

/*
 * Point c at what its container holds now: another cursor may have
 * copied the container, or c's node, since c was made, and c must not
 * copy a node twice.
 */
static void cur_refresh(strata_cur *c)
{
	if (c->up)
		cur_refresh(c->up);
	c->node = *slot_in(c);
}

strata_node **strata_cur_slot(strata_arena *a, strata_cur *c)
{
	if (c->up && !strata_cur_own(a, c->up, 0))
		return NULL;
	return slot_in(c);
}

strata_node *strata_cur_own(strata_arena *a, strata_cur *c, uint32_t extra)
{
	strata_node **slot, *copy;

	if (!strata_arena_cow(a))
		return c->node;
	cur_refresh(c);
	if (!must_copy(a, c->node))
		return c->node;
	slot = strata_cur_slot(a, c);
	if (!slot)
		return NULL;
	copy = shallow_copy(a, c->node, extra);
	if (!copy)
		return NULL;
	*slot = copy;
	c->node = copy;
	return copy;
}

strata_node *strata_scalar_with(strata_arena *a, const strata_node *n,
				const char *s, size_t len, int style)
{
	strata_node *c;

	if (!n || n->type != STRATA_NODE_SCALAR)
		return NULL;
	c = strata_arena_alloc(a, sizeof(*c));
	if (!c)
		return NULL;
	*c = *n;
	if (strata_scalar_set(a, c, s, len, style) < 0)
		return NULL;
	return c;
}

bool strata_scalar_is(const strata_node *n, const char *s)
{
	size_t len;

	if (!n || n->type != STRATA_NODE_SCALAR)
		return false;
	len = strlen(s);
	return n->u.scalar.len == len && memcmp(n->u.scalar.str, s, len) == 0;
}

const char *strata_scalar_str(const strata_node *n)
{
	return n && n->type == STRATA_NODE_SCALAR ? n->u.scalar.str : NULL;
}

int strata_scalar_set(strata_arena *a, strata_node *n, const char *s, size_t len,
		      int style)
{
	char *copy;

	if (!n || n->type != STRATA_NODE_SCALAR)
		return STRATA_EUSAGE;
	copy = strata_arena_strndup(a, s, len);
	if (!copy)
		return STRATA_ENOMEM;
	n->u.scalar.str = copy;
	n->u.scalar.len = len;
	n->flags &= (uint16_t)~STRATA_NODE_EMIT_MEMO;
	if (style >= 0)
		n->style = (uint8_t)style;
	return 0;
}

/* ---- scalar types ---- */

static bool eq_any(const char *s, size_t len, const char *const *words)
{
	for (; *words; words++)
		if (strlen(*words) == len && memcmp(s, *words, len) == 0)
			return true;
	return false;
}

static bool all_digits(const char *s, size_t len, const char *set)
{
	if (!len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!strchr(set, s[i]) || s[i] == '\0')
			return false;
	return true;
}

/* [-+]?(digits)(.digits?)?([eE][-+]?digits)? or [-+]?.digits(...)? */
static bool is_float(const char *s, size_t len)
{
	size_t i = 0, d1 = 0, d2 = 0;

	if (i < len && (s[i] == '-' || s[i] == '+'))
		i++;
	while (i < len && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_')) {
		i++;
		d1++;
	}
	if (i < len && s[i] == '.') {
		i++;
		while (i < len && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_')) {
			i++;
			d2++;
		}
	} else if (i == len || (s[i] != 'e' && s[i] != 'E')) {
		return false;
	}
	if (!d1 && !d2)
		return false;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		size_t d3 = 0;
		i++;
		if (i < len && (s[i] == '-' || s[i] == '+'))
			i++;
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			i++;
			d3++;
		}
		if (!d3)
			return false;
	}
	return i == len;
}

static bool is_sexagesimal(const char *s, size_t len)
{
	/* YAML 1.1 base 60: [-+]?[1-9][0-9_]*(:[0-5]?[0-9])+ (ints) and
	 * with a fractional part (floats). */
	size_t i = 0;
	bool colon = false;

	if (i < len && (s[i] == '-' || s[i] == '+'))
		i++;
	if (i >= len || s[i] < '1' || s[i] > '9')
		return false;
	while (i < len && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
		i++;
	while (i < len && s[i] == ':') {
		size_t d = 0;
		colon = true;
		i++;
		while (i < len && s[i] >= '0' && s[i] <= '9' && d < 2) {
			i++;
			d++;
		}
		if (!d)
			return false;
	}
	if (colon && i < len && s[i] == '.') {
		i++;
		while (i < len && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			i++;
	}
	return colon && i == len;
}

strata_scalar_kind strata_plain_kind(const char *s, size_t len)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL", NULL };
	static const char *const bools[] = {
		"true", "True", "TRUE", "false", "False", "FALSE",
		"yes", "Yes", "YES", "no", "No", "NO",
		"on", "On", "ON", "off", "Off", "OFF",
		"y", "Y", "n", "N", NULL
	};
	static const char *const specials[] = {
		".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF",
		"-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN", NULL
	};
	size_t i = 0;

	/* Every other kind is empty or starts with one of these bytes (digits,
	 * signs, '.', '_', '~', first letters of the null and bool words), so
	 * most text is decided by its first byte: the emitter asks this for
	 * every plain scalar it writes. */
	if (len && !strchr("0123456789+-._~nNtTfFyYoO", s[0]))
		return STRATA_SCALAR_STR;
	/* no word in the lists is longer than 5 bytes */
	if (len <= 5 && eq_any(s, len, nulls))
		return STRATA_SCALAR_NULL;
	if (len <= 5 && eq_any(s, len, bools))
		return STRATA_SCALAR_BOOL;
	if (len <= 5 && eq_any(s, len, specials))
		return STRATA_SCALAR_FLOAT;
	if (len && (s[0] == '-' || s[0] == '+'))
		i = 1;
	if (len - i > 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X') &&
	    all_digits(s + i + 2, len - i - 2, "0123456789abcdefABCDEF_"))
		return STRATA_SCALAR_INT;
	if (len - i > 2 && s[i] == '0' && (s[i + 1] == 'o' || s[i + 1] == 'b') &&
	    all_digits(s + i + 2, len - i - 2, s[i + 1] == 'o' ? "01234567_" : "01_"))
		return STRATA_SCALAR_INT;
	if (len > i && all_digits(s + i, len - i, "0123456789_") && s[i] != '_')
		return STRATA_SCALAR_INT;
	if (is_sexagesimal(s, len))
		return STRATA_SCALAR_INT;
	if (is_float(s, len))
		return STRATA_SCALAR_FLOAT;
	return STRATA_SCALAR_STR;
}

strata_scalar_kind strata_scalar_kind_of(const strata_node *n)
{
	const char *tag;

	if (!n || n->type != STRATA_NODE_SCALAR)
		return STRATA_SCALAR_STR;
	tag = strata_node_tag(n);
	if (tag) {
		if (!strcmp(tag, "!!str") || !strcmp(tag, "!!binary"))
			return STRATA_SCALAR_STR;
		if (!strcmp(tag, "!!int"))
			return STRATA_SCALAR_INT;
		if (!strcmp(tag, "!!bool"))
			return STRATA_SCALAR_BOOL;
		if (!strcmp(tag, "!!float"))
			return STRATA_SCALAR_FLOAT;
		if (!strcmp(tag, "!!null"))
			return STRATA_SCALAR_NULL;
	}
	if (n->style != STRATA_STYLE_PLAIN)
		return STRATA_SCALAR_STR;
	return strata_plain_kind(n->u.scalar.str, n->u.scalar.len);
}

/* ---- origins: a node's file and tag ---- */

/*
 * A node names its file and tag through a 32-bit id into one process-wide,
 * append-only table, so a node is 32 bytes instead of 48 and a copy into
 * any arena keeps them.  A loaded file takes one id for all its untagged
 * nodes; each distinct (file, tag) pair takes one more.  Records live in
 * chunks that never move, so readers need no lock; writers take a mutex
 * (ids are made per file and per tag, not per node).  Chunk c holds
 * ORIGIN_FIRST << c records, so the first is small (6 KiB: its calloc
 * was 96 KiB, 24 fresh pages faulted in by a 100-file render's first
 * parse, 0.3 ms on its critical path) and 18 chunks hold 2^26 ids.  The
 * table is released at exit.
 */
#define ORIGIN_FIRST_BITS 8
#define ORIGIN_FIRST (1u << ORIGIN_FIRST_BITS)
#define ORIGIN_CHUNKS 18u
#define ORIGIN_MAX (ORIGIN_FIRST * ((1u << ORIGIN_CHUNKS) - 1))

struct origin {
	const char *file, *tag;
	uint64_t hash;
};

static struct origin *origin_chunks[ORIGIN_CHUNKS];
static uint32_t origin_n = 1; /* id 0: no file, no tag */
static uint32_t *origin_slots; /* open addressing over ids */
static size_t origin_cap;
static pthread_mutex_t origin_lock = PTHREAD_MUTEX_INITIALIZER;

/* Chunk c starts at id ORIGIN_FIRST * (2^c - 1). */
static unsigned origin_chunk_of(uint32_t id, uint32_t *at)
{
	uint32_t q = (id >> ORIGIN_FIRST_BITS) + 1;
	unsigned c = 31u - (unsigned)__builtin_clz(q);

	*at = id - ORIGIN_FIRST * ((1u << c) - 1);
	return c;
}

static const struct origin *origin_get(uint32_t id)
{
	uint32_t at;
	unsigned c = origin_chunk_of(id, &at);

	return &origin_chunks[c][at];
}

static bool str_same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static uint64_t origin_hash(const char *file, const char *tag)
{
	uint64_t h = strata_hash(file ? file : "", file ? strlen(file) + 1 : 0, STRATA_HASH_SEED);

	return strata_hash(tag ? tag : "", tag ? strlen(tag) + 1 : 0, h);
}

static int origin_rehash(void)
{
	size_t cap = origin_cap ? origin_cap * 2 : 1024;
	uint32_t *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -1;
	for (uint32_t id = 1; id < origin_n; id++)
		slots[strata_slot_empty(slots, cap - 1, origin_get(id)->hash)] = id;
	free(origin_slots);
	origin_slots = slots;
	origin_cap = cap;
	return 0;
}

uint32_t strata_origin(const char *file, const char *tag)
{
	uint64_t h;
	uint32_t id = 0;
	size_t j;

	if (!file && !tag)
		return 0;
	h = origin_hash(file, tag);
	pthread_mutex_lock(&origin_lock);
	if (((size_t)origin_n + 1) * 2 > origin_cap && origin_rehash())
		goto out;
	for (j = h & (origin_cap - 1); origin_slots[j]; j = (j + 1) & (origin_cap - 1)) {
		const struct origin *o = origin_get(origin_slots[j]);
		if (o->hash == h && str_same(o->file, file) && str_same(o->tag, tag)) {
			id = origin_slots[j];
			goto out;
		}
	}
	if (origin_n < ORIGIN_MAX) {
		uint32_t at;
		unsigned c = origin_chunk_of(origin_n, &at);
		struct origin *o;
		char *f = file ? strdup(file) : NULL, *t = tag ? strdup(tag) : NULL;
		if (!origin_chunks[c])
			origin_chunks[c] = calloc((size_t)ORIGIN_FIRST << c, sizeof(struct origin));
		if (!origin_chunks[c] || (file && !f) || (tag && !t)) {
			free(f);
			free(t);
			goto out;
		}
		o = &origin_chunks[c][at];
		o->file = f;
		o->tag = t;
		o->hash = h;
		id = origin_n++;
		origin_slots[j] = id;
	}
out:
	pthread_mutex_unlock(&origin_lock);
	return id;
}

const char *strata_node_file(const strata_node *n)
{
	return n && n->origin ? origin_get(n->origin)->file : NULL;
}

const char *strata_node_tag(const strata_node *n)
{
	return n && n->origin ? origin_get(n->origin)->tag : NULL;
}

int strata_node_set_tag(strata_node *n, const char *tag)
{
	const char *file = strata_node_file(n);
	uint32_t id = strata_origin(file, tag);

	if (!id && (file || tag))
		return STRATA_ENOMEM;
	n->origin = id;
	return 0;
}

__attribute__((destructor)) static void origin_release(void)
{
	for (uint32_t id = 1; id < origin_n; id++) {
		const struct origin *o = origin_get(id);
		free((char *)o->file);
		free((char *)o->tag);
	}
	for (uint32_t c = 0; c < ORIGIN_CHUNKS && origin_chunks[c]; c++) {
		free(origin_chunks[c]);
		origin_chunks[c] = NULL;
	}
	free(origin_slots);
	origin_slots = NULL;
	origin_cap = 0;
	origin_n = 1;
}

/* ---- shared keys ---- */

/*
 * An arena's map keys: one node per (text, style), shared by every map
 * that uses it.  Kubernetes repeats a few hundred keys millions of times,
 * so this halves the memory of a loaded tree.  Open addressing, cap a
 * power of two, at most half full; the block is freed with the arena.
 */
struct keytab {
	size_t cap, n;
	strata_node *slot[];
};

static uint64_t key_hash(const char *s, size_t len, strata_style style)
{
	return strata_hash(s, len, STRATA_HASH_SEED + (uint64_t)style);
}

static int keytab_grow(struct keytab **tp)
{
	struct keytab *t = *tp, *nt;
	size_t cap = t ? t->cap * 2 : 256;

	nt = calloc(1, sizeof(*nt) + cap * sizeof(nt->slot[0]));
	if (!nt)
		return -1;
	nt->cap = cap;
	for (size_t i = 0; t && i < t->cap; i++) {
		strata_node *k = t->slot[i];
		size_t j;
		if (!k)
			continue;
		j = key_hash(k->u.scalar.str, k->u.scalar.len, k->style) & (cap - 1);
		while (nt->slot[j])
			j = (j + 1) & (cap - 1);
		nt->slot[j] = k;
		nt->n++;
	}
	free(t);
	*tp = nt;
	return 0;
}

strata_node *strata_node_key(strata_arena *a, const char *s, size_t len,
			     strata_style style, bool *created)
{
	struct keytab **tp = (struct keytab **)strata_arena_keytab(a);
	struct keytab *t;
	strata_node *k;
	size_t j;

	if (created)
		*created = false;
	if (!*tp || ((*tp)->n + 1) * 2 > (*tp)->cap) {
		if (keytab_grow(tp))
			return NULL;
	}
	t = *tp;
	j = key_hash(s, len, style) & (t->cap - 1);
	for (; (k = t->slot[j]); j = (j + 1) & (t->cap - 1)) {
		if (k->style == style && k->u.scalar.len == len &&
		    memcmp(k->u.scalar.str, s, len) == 0)
			return k;
	}
	/* node and text in one allocation */
	k = strata_arena_alloc(a, sizeof(*k) + len + 1);
	if (!k)
		return NULL;
	k->type = STRATA_NODE_SCALAR;
	k->style = (uint8_t)style;
	memcpy((char *)(k + 1), s, len);
	k->u.scalar.str = (const char *)(k + 1);
	k->u.scalar.len = len;
	t->slot[j] = k;
	t->n++;
	if (created)
		*created = true;
	return k;
}

/* ---- maps ---- */

long strata_map_index(const strata_node *map, const char *key, size_t len)
{
	if (!map || map->type != STRATA_NODE_MAP)
		return -1;
	for (uint32_t i = 0; i < map->u.map.n; i++) {
		const strata_node *k = map->u.map.pairs[i].key;
		if (k->u.scalar.len == len && memcmp(k->u.scalar.str, key, len) == 0)
			return (long)i;
	}
	return -1;
}

strata_node **strata_map_slot(const strata_node *map, const char *key)
{
	long i = strata_map_index(map, key, strlen(key));

	return i < 0 ? NULL : &map->u.map.pairs[i].value;
}

strata_node *strata_map_getn(const strata_node *map, const char *key, size_t len)
{
	long i = strata_map_index(map, key, len);

	return i < 0 ? NULL : map->u.map.pairs[i].value;
}

strata_node *strata_map_get(const strata_node *map, const char *key)
{
	return strata_map_getn(map, key, strlen(key));
}

/*
 * A new array of cap elements of size bytes holding the n of old (the old
 * one stays in the arena), or NULL.
 */
static void *array_regrow(strata_arena *a, const void *old, uint32_t n,
			  uint32_t cap, size_t size)
{
	void *p = strata_arena_alloc(a, (size_t)cap * size);

	if (p && n)
		memcpy(p, old, (size_t)n * size);
	return p;
}

/* The map's pairs in a new array of cap entries. */
static int map_regrow(strata_arena *a, strata_node *map, uint32_t cap)
{
	strata_pair *p = array_regrow(a, map->u.map.pairs, map->u.map.n, cap,
				      sizeof(*p));

	if (!p)
		return STRATA_ENOMEM;
	map->u.map.pairs = p;
	map->u.map.cap = cap;
	return 0;
}

int strata_map_reserve(strata_arena *a, strata_node *map, uint32_t extra)
{
	if (!map || map->type != STRATA_NODE_MAP)
		return STRATA_EUSAGE;
	if (map->u.map.cap - map->u.map.n >= extra)
		return 0;
	if (extra > UINT32_MAX - map->u.map.n)
		return STRATA_ENOMEM;
	return map_regrow(a, map, map->u.map.n + extra);
}

int strata_map_append(strata_arena *a, strata_node *map, strata_node *key,
		      strata_node *value)
{
	if (!map || map->type != STRATA_NODE_MAP || !key || !value)
		return STRATA_EUSAGE;
	if (map->u.map.n == map->u.map.cap &&
	    map_regrow(a, map, map->u.map.cap ? map->u.map.cap * 2 : 4) < 0)
		return STRATA_ENOMEM;
	map->u.map.pairs[map->u.map.n].key = key;
	map->u.map.pairs[map->u.map.n].value = value;
	map->u.map.n++;
	return 0;
}

int strata_map_set(strata_arena *a, strata_node *map, const char *key,
		   strata_node *value)
{
	long i = strata_map_index(map, key, strlen(key));
	strata_node *k;

	if (i >= 0) {
		map->u.map.pairs[i].value = value;
		return 0;
	}
	k = strata_node_key(a, key, strlen(key), STRATA_STYLE_STRING, NULL);
	if (!k)
		return STRATA_ENOMEM;
	return strata_map_append(a, map, k, value);
}

bool strata_map_remove(strata_node *map, const char *key)
{
	long i = strata_map_index(map, key, strlen(key));

	if (i < 0)
		return false;
	memmove(&map->u.map.pairs[i], &map->u.map.pairs[i + 1],
		(map->u.map.n - (uint32_t)i - 1) * sizeof(strata_pair));
	map->u.map.n--;
	return true;
}

strata_node *strata_node_at(const strata_node *root, ...)
{
	va_list ap;
	const char *key;
	const strata_node *n = root;

	va_start(ap, root);
	while (n && (key = va_arg(ap, const char *)) != NULL)
		n = strata_map_get(n, key);
	va_end(ap);
	return (strata_node *)n;
}

strata_node *strata_node_ensure_map(strata_arena *a, strata_node *root, ...)
{
	va_list ap;
	const char *key;
	strata_node *n = root;

	va_start(ap, root);
	while (n && (key = va_arg(ap, const char *)) != NULL) {
		strata_node *next = strata_map_get(n, key);
		if (!next || next->type != STRATA_NODE_MAP) {
			/* a missing map, or `labels: null` / `labels:` */
			if (next && !(next->type == STRATA_NODE_SCALAR &&
				      strata_scalar_kind_of(next) == STRATA_SCALAR_NULL)) {
				n = NULL;
				break;
			}
			next = strata_node_map(a);
			if (!next || strata_map_set(a, n, key, next) < 0) {
				n = NULL;
				break;
			}
		}
		n = next;
	}
	va_end(ap);
	return n;
}

/* ---- sequences ---- */

int strata_seq_append(strata_arena *a, strata_node *seq, strata_node *item)
{
	if (!seq || seq->type != STRATA_NODE_SEQ || !item)
		return STRATA_EUSAGE;
	if (seq->u.seq.n == seq->u.seq.cap) {
		uint32_t cap = seq->u.seq.cap ? seq->u.seq.cap * 2 : 4;
		strata_node **p = array_regrow(a, seq->u.seq.items, seq->u.seq.n,
					       cap, sizeof(*p));
		if (!p)
			return STRATA_ENOMEM;
		seq->u.seq.items = p;
		seq->u.seq.cap = cap;
	}
	seq->u.seq.items[seq->u.seq.n++] = item;
	return 0;
}

void strata_seq_remove(strata_node *seq, uint32_t index)
{
	if (!seq || seq->type != STRATA_NODE_SEQ || index >= seq->u.seq.n)
		return;
	memmove(&seq->u.seq.items[index], &seq->u.seq.items[index + 1],
		(seq->u.seq.n - index - 1) * sizeof(strata_node *));
	seq->u.seq.n--;
}

/* ---- equality and hashing ---- */

bool strata_node_equal(const strata_node *a, const strata_node *b)
{
	if (a == b)
		return true;
	if (!a || !b || a->type != b->type)
		return false;
	switch (a->type) {
	case STRATA_NODE_SCALAR:
		return a->u.scalar.len == b->u.scalar.len &&
		       strata_scalar_kind_of(a) == strata_scalar_kind_of(b) &&
		       memcmp(a->u.scalar.str, b->u.scalar.str, a->u.scalar.len) == 0;
	case STRATA_NODE_SEQ:
		if (a->u.seq.n != b->u.seq.n)
			return false;
		for (uint32_t i = 0; i < a->u.seq.n; i++)
			if (!strata_node_equal(a->u.seq.items[i], b->u.seq.items[i]))
				return false;
		return true;
	case STRATA_NODE_MAP:
		if (a->u.map.n != b->u.map.n)
			return false;
		for (uint32_t i = 0; i < a->u.map.n; i++) {
			const strata_node *k = a->u.map.pairs[i].key;
			const strata_node *bv;
			/* same position first: the common case is same order */
			if (i < b->u.map.n && b->u.map.pairs[i].key->u.scalar.len == k->u.scalar.len &&
			    memcmp(b->u.map.pairs[i].key->u.scalar.str, k->u.scalar.str, k->u.scalar.len) == 0)
				bv = b->u.map.pairs[i].value;
			else
				bv = strata_map_getn(b, k->u.scalar.str, k->u.scalar.len);
			if (!bv || !strata_node_equal(a->u.map.pairs[i].value, bv))
				return false;
		}
		return true;
	}
	return false;
}

uint64_t strata_hash(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = seed;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}
