/*
 * doc.h - strata's YAML document model.
 *
 * libfyaml parses; strata owns the tree.  Nodes live in a strata_arena and
 * remember where they came from (file, line, column) so every later step can
 * point at the source in its errors.  A scalar is text plus the style it was
 * written in: strata never guesses types while merging, and the emitter
 * (yaml.h) decides quoting from the style and the text.
 *
 * Maps keep their keys in source order.  Keys are scalar nodes (Kubernetes
 * only uses string keys); the loader rejects complex keys.
 */
#ifndef STRATA_DOC_H
#define STRATA_DOC_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum strata_node_type {
	STRATA_NODE_SCALAR = 1,
	STRATA_NODE_MAP = 2,
	STRATA_NODE_SEQ = 3,
} strata_node_type;

typedef enum strata_style {
	STRATA_STYLE_PLAIN = 0,  /* as written, unquoted: type resolved by readers */
	STRATA_STYLE_SINGLE,     /* 'single quoted' */
	STRATA_STYLE_DOUBLE,     /* "double quoted" */
	STRATA_STYLE_LITERAL,    /* | block */
	STRATA_STYLE_FOLDED,     /* > block (emitted as a literal block) */
	STRATA_STYLE_STRING,     /* created by strata: must read back as a string;
				    the emitter picks plain when that is safe for a
				    YAML 1.1 reader, otherwise quotes */
} strata_style;

/* Node flags */
#define STRATA_NODE_FLOW 0x0001u /* was written in flow style ([..] / {..}) */
/* A map or sequence the loader made: several renders may see it, so a
 * copy-on-write arena copies it before an edit (strata_node_own).  Copies
 * and nodes made by strata are not marked. */
#define STRATA_NODE_SHARED 0x0002u
/* The emitter's memo of how a scalar is written, per position (yaml_emit.c);
 * strata_scalar_set clears it, and whoever changes a scalar's text or style
 * otherwise must clear it too. */
#define STRATA_NODE_EMIT_MEMO 0x3F00u

typedef struct strata_node strata_node;

typedef struct strata_pair {
	strata_node *key;   /* always a scalar */
	strata_node *value;
} strata_pair;

struct strata_node {
	uint8_t type;       /* strata_node_type */
	uint8_t style;      /* strata_style, scalars only */
	uint16_t flags;
	uint32_t line;      /* 1-based source line, 0 when created by strata */
	uint32_t col;       /* 1-based source column */
	uint32_t origin;    /* file and tag: strata_node_file(), strata_node_tag() */
	union {
		struct {
			const char *str; /* NUL-terminated; may contain NULs before len */
			size_t len;
		} scalar;
		struct {
			strata_pair *pairs;
			uint32_t n, cap;
		} map;
		struct {
			strata_node **items;
			uint32_t n, cap;
		} seq;
	} u;
};

/* Creation.  All return NULL on out of memory.  Text is copied. */
strata_node *strata_node_scalar(strata_arena *a, const char *s, size_t len,
				strata_style style);
strata_node *strata_node_scalar_str(strata_arena *a, const char *s,
				    strata_style style);
strata_node *strata_node_map(strata_arena *a);
strata_node *strata_node_seq(strata_arena *a);
/*
 * Where a node came from: its repository-relative file (NULL when strata
 * made it) and its explicit tag as written ("!!binary", NULL when none).
 * Both live in a process-wide table (a node holds a 32-bit id):
 * strata_origin() returns the id of a (file, tag) pair, 0 for (NULL, NULL)
 * and, when memory runs out, for any pair.
 */
const char *strata_node_file(const strata_node *n);
const char *strata_node_tag(const strata_node *n);
uint32_t strata_origin(const char *file, const char *tag);
/* Give n the tag (NULL: none), keeping its file.  0 or STRATA_ENOMEM. */
int strata_node_set_tag(strata_node *n, const char *tag);

/*
 * The arena's shared key node for (s[0..len), style): map keys are never
 * edited in place, so every map in an arena points at one node per key.
 * *created (may be NULL) tells whether the node is new, so the first user
 * can give it a position.  NULL on out of memory.
 */
strata_node *strata_node_key(strata_arena *a, const char *s, size_t len,
			     strata_style style, bool *created);
/*
 * Copy into arena a (positions and styles kept): maps and sequences are
 * copied deeply (and not marked STRATA_NODE_SHARED), scalar nodes are
 * shared with n.  Scalars are therefore never edited once they are in a
 * tree: to change one, put a new node in its slot (strata_scalar_with,
 * strata_cur_slot).  Copy-on-write (below) shares maps and sequences
 * too.
 */
strata_node *strata_node_copy(strata_arena *a, const strata_node *n);

/*
 * Copy-on-write.  A repository's parsed base is seen by every environment
 * rendered from it, and only the environments' edits differ.  A render
 * whose arena is copy-on-write (strata_arena_set_cow) therefore never
 * edits a map or sequence marked STRATA_NODE_SHARED: it first puts a
 * shallow copy (the same keys and children, room for extra more) in the
 * node's slot, and edits the copy.  Only the maps and sequences on the
 * path to an edit are copied; the rest of the tree stays shared.  In an
 * arena that is not copy-on-write, or for a node already copied, these
 * return the node itself.
 *
 * strata_node_own: the node in *slot (a tree's top, e.g. a resource's
 * root), made editable.  NULL on out of memory.
 */
strata_node *strata_node_own(strata_arena *a, strata_node **slot, uint32_t extra);

/*
 * A cursor: a node and the way down to it, so an edit deep in a tree can
 * make every container above it editable first.  Cursors live on the
 * caller's stack, each pointing at its container's cursor.  A cursor
 * stays valid while no pair or item is inserted into or removed from
 * the containers above it (replacing values is fine).
 */
typedef struct strata_cur {
	strata_node *node;
	struct strata_cur *up;  /* the container's cursor; NULL at the top */
	strata_node **top;      /* at the top: where the tree is kept */
	uint32_t idx;           /* node's pair (map) or item (seq) in up */
} strata_cur;

/* The value of pair i of a map, or item i of a sequence; NULL past the end
 * (and for a scalar). */
static inline strata_node *strata_node_child(const strata_node *n, uint32_t i)
{
	if (n->type == STRATA_NODE_MAP)
		return i < n->u.map.n ? n->u.map.pairs[i].value : NULL;
	if (n->type == STRATA_NODE_SEQ)
		return i < n->u.seq.n ? n->u.seq.items[i] : NULL;
	return NULL;
}

/* A cursor at the top of the tree in *slot. */
void strata_cur_top(strata_cur *c, strata_node **slot);
/*
 * The value of key in the map at *map (or of item/pair i of the
 * sequence or map at *in) as a cursor in *out; NULL (out untouched) when
 * there is none.  `in` may be NULL, which gives NULL: lookups chain.
 */
strata_cur *strata_cur_get(strata_cur *out, strata_cur *map, const char *key);
strata_cur *strata_cur_at(strata_cur *out, strata_cur *in, uint32_t i);
/* strata_cur_get when the value is a map (a sequence), else NULL. */
strata_cur *strata_cur_map(strata_cur *out, strata_cur *map, const char *key);
strata_cur *strata_cur_seq(strata_cur *out, strata_cur *map, const char *key);
/*
 * Make the cursor's node editable (copied, with room for extra more
 * pairs or items, when it is shared in a copy-on-write arena, and the
 * containers above it first) and return it; NULL on out of memory.
 */
strata_node *strata_cur_own(strata_arena *a, strata_cur *c, uint32_t extra);
/*
 * Where the cursor's node is kept (its container made editable first),
 * to put another node there (a new scalar: scalars are never edited).
 * NULL on out of memory.
 */
strata_node **strata_cur_slot(strata_arena *a, strata_cur *c);

/* Scalars */
static inline bool strata_node_is_scalar(const strata_node *n)
{
	return n && n->type == STRATA_NODE_SCALAR;
}
/* True when n is a scalar whose text equals s. */
bool strata_scalar_is(const strata_node *n, const char *s);
/* The scalar's text, or NULL when n is not a scalar. */
const char *strata_scalar_str(const strata_node *n);
/*
 * Replace a scalar's text (copied into a); style is kept unless style >= 0.
 * Only for a scalar the caller just made: one in a tree may be shared by
 * copies (strata_node_copy); use strata_scalar_with for those.
 */
int strata_scalar_set(strata_arena *a, strata_node *n, const char *s, size_t len,
		      int style);
/*
 * A new scalar like n (position, origin, flags; style kept unless
 * style >= 0) with the text s (copied into a), for n's slot.  NULL on out
 * of memory.
 */
strata_node *strata_scalar_with(strata_arena *a, const strata_node *n,
				const char *s, size_t len, int style);

/*
 * The type a reader gives a scalar.  Quoted and block scalars are strings;
 * plain ones resolve with the YAML 1.2 core schema plus the YAML 1.1
 * booleans Kubernetes also accepts (yes/no/on/off/y/n).
 */
typedef enum strata_scalar_kind {
	STRATA_SCALAR_STR = 0,
	STRATA_SCALAR_NULL,
	STRATA_SCALAR_BOOL,
	STRATA_SCALAR_INT,
	STRATA_SCALAR_FLOAT,
} strata_scalar_kind;
strata_scalar_kind strata_scalar_kind_of(const strata_node *n);
/* How a plain scalar with this text would be read (same rules as above). */
strata_scalar_kind strata_plain_kind(const char *s, size_t len);

/* Maps.  Lookups compare key text. */
strata_node *strata_map_get(const strata_node *map, const char *key);
strata_node *strata_map_getn(const strata_node *map, const char *key, size_t len);
/* Where map keeps key's value (to put a new node there), or NULL. */
strata_node **strata_map_slot(const strata_node *map, const char *key);
/* Index of key in map->u.map.pairs, or -1. */
long strata_map_index(const strata_node *map, const char *key, size_t len);
/* Set key to value: replace in place when present, append otherwise. */
int strata_map_set(strata_arena *a, strata_node *map, const char *key,
		   strata_node *value);
/* Append a pair without checking for duplicates. */
int strata_map_append(strata_arena *a, strata_node *map, strata_node *key,
		      strata_node *value);
/*
 * Room for extra more pairs, allocated exactly (appends double the
 * array, and an arena keeps every array it outgrew): for a caller about
 * to append several.  0 or STRATA_ENOMEM.
 */
int strata_map_reserve(strata_arena *a, strata_node *map, uint32_t extra);
/* Remove key; returns true when it was present.  Order of the rest is kept. */
bool strata_map_remove(strata_node *map, const char *key);
/* Walk a path of map keys: strata_node_at(root, "spec", "template", NULL). */
strata_node *strata_node_at(const strata_node *root, ...);
/* Like strata_node_at but creates missing maps along the way. */
strata_node *strata_node_ensure_map(strata_arena *a, strata_node *root, ...);

/* Sequences */
int strata_seq_append(strata_arena *a, strata_node *seq, strata_node *item);
void strata_seq_remove(strata_node *seq, uint32_t index);

/*
 * Data equality: same shape, same keys with equal values (key order
 * ignored), equal sequences in order, scalars equal when they have the
 * same kind (strata_scalar_kind_of) and the same text.
 */
bool strata_node_equal(const strata_node *a, const strata_node *b);

/* A 64-bit FNV-1a hash of bytes, shared by every hash table in strata. */
uint64_t strata_hash(const void *data, size_t len, uint64_t seed);
#define STRATA_HASH_SEED 0xcbf29ce484222325ULL

#ifdef __cplusplus
}
#endif
#endif
