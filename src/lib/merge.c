/*
 * merge.c - strategic merge patch over the document model.
 *
 * The rules are Kubernetes' (k8s.io/apimachinery strategicpatch), driven
 * by the type tree in schema.c: maps merge recursively, `key: null`
 * deletes, scalars and unkeyed lists are replaced, keyed lists merge item
 * by item and set lists (finalizers) take the union.  Where kustomize
 * differs from Kubernetes strata follows Kubernetes: keyed merges keep the
 * base order and append new items in patch order, retainKeys unions
 * (Deployment strategy, pod volumes) drop the member a patch switches away
 * from, and port keys default their protocol to TCP on both sides.
 *
 * The target is edited in place, or copy-on-write (doc.h) when the arena
 * says so: then only the maps and lists the patch changes are copied,
 * and the caller's tree gets them through the slots merge_value fills.
 * Everything taken from the patch is copied into the arena, so the patch
 * can be applied again.  Keyed lists and big
 * maps are indexed with a hash table, so a merge is linear in the size of
 * the documents: ten thousands of env entries must not take quadratic time.
 */
#include "strata/merge.h"

#include <stdlib.h>
#include <string.h>

#include "schema.h"

/* Lists/maps at or below this size are searched linearly. */
#define LINEAR_MAX 8

typedef struct merge_ctx {
	strata_arena *a;
	strata_error *err;
} merge_ctx;

/* ---- a small open-addressing index: slot holds position + 1 ---- */

typedef struct htab {
	uint32_t *slots;
	uint64_t *hashes;
	size_t mask;
} htab;

static int htab_init(htab *t, size_t n)
{
	size_t cap = 16;

	while (cap < n * 2)
		cap *= 2;
	t->slots = calloc(cap, sizeof(*t->slots));
	t->hashes = calloc(cap, sizeof(*t->hashes));
	t->mask = cap - 1;
	if (!t->slots || !t->hashes) {
		free(t->slots);
		free(t->hashes);
		t->slots = NULL;
		t->hashes = NULL;
		return STRATA_ENOMEM;
	}
	return 0;
}

static void htab_free(htab *t)
{
	free(t->slots);
	free(t->hashes);
	t->slots = NULL;
	t->hashes = NULL;
}

/*
 * Find the slot for hash h whose entry satisfies eq(pos, arg), or the
 * empty slot where it would go.  The table never fills: it is sized for
 * every entry that can be added.
 */
typedef bool (*htab_eq)(uint32_t pos, const void *arg);

static uint32_t *htab_find(htab *t, uint64_t h, htab_eq eq, const void *arg)
{
	size_t i = (size_t)h & t->mask;

	for (;;) {
		uint32_t *s = &t->slots[i];

		if (*s == 0)
			return s;
		if (t->hashes[i] == h && eq(*s - 1, arg))
			return s;
		i = (i + 1) & t->mask;
	}
}

static void htab_set(htab *t, uint32_t *slot, uint64_t h, uint32_t pos)
{
	*slot = pos + 1;
	t->hashes[slot - t->slots] = h;
}

/* ---- helpers ---- */

static bool is_null(const strata_node *n)
{
	return n && n->type == STRATA_NODE_SCALAR &&
	       strata_scalar_kind_of(n) == STRATA_SCALAR_NULL;
}

static bool key_is(const strata_node *k, const char *s)
{
	size_t len = strlen(s);

	return k->u.scalar.len == len && memcmp(k->u.scalar.str, s, len) == 0;
}

static bool key_has_prefix(const strata_node *k, const char *prefix)
{
	size_t len = strlen(prefix);

	return k->u.scalar.len > len && memcmp(k->u.scalar.str, prefix, len) == 0;
}

static bool is_directive(const strata_node *k)
{
	return key_is(k, "$patch") || key_is(k, "$retainKeys") ||
	       key_has_prefix(k, "$deleteFromPrimitiveList/") ||
	       key_has_prefix(k, "$setElementOrder/");
}

static bool in_strv(const char *const *v, const char *s, size_t len)
{
	for (; v && *v; v++)
		if (strlen(*v) == len && memcmp(*v, s, len) == 0)
			return true;
	return false;
}

static int err_at(merge_ctx *c, int code, const strata_node *at,
		  const char *fmt, const char *a1, const char *a2)
{
	return strata_error_set(c->err, code, at ? strata_node_file(at) : NULL,
				at ? (int)at->line : 0, at ? (int)at->col : 0,
				fmt, a1, a2);
}

/* A new empty node shaped like patch node p (position, tag and flags). */
static strata_node *empty_like(merge_ctx *c, const strata_node *p)
{
	strata_node *n = p->type == STRATA_NODE_MAP ? strata_node_map(c->a)
						     : strata_node_seq(c->a);

	if (n) {
		n->flags = p->flags & (uint16_t)~STRATA_NODE_SHARED;
		n->line = p->line;
		n->col = p->col;
		n->origin = p->origin; /* file and tag */
	}
	return n;
}

/*
 * The value of `$patch` in map m: 0 when absent, 'r'eplace, 'd'elete,
 * 'm'erge; -1 with the error set when it is something else.
 */
static int patch_directive(merge_ctx *c, const strata_node *m)
{
	const strata_node *v = strata_map_get(m, "$patch");

	if (!v)
		return 0;
	if (strata_scalar_is(v, "replace"))
		return 'r';
	if (strata_scalar_is(v, "delete"))
		return 'd';
	if (strata_scalar_is(v, "merge"))
		return 'm';
	err_at(c, STRATA_EPARSE, v,
	       "invalid $patch directive '%s'%s (expected replace, delete or merge)",
	       v->type == STRATA_NODE_SCALAR ? v->u.scalar.str : "", "");
	return -1;
}

static bool scalar_list(const strata_node *n)
{
	if (!n || n->type != STRATA_NODE_SEQ)
		return false;
	for (uint32_t i = 0; i < n->u.seq.n; i++)
		if (n->u.seq.items[i]->type != STRATA_NODE_SCALAR)
			return false;
	return true;
}

static int merge_value(merge_ctx *c, strata_node *base, const strata_node *patch,
		       const strata_schema *schema, const char *field,
		       strata_node **out);

/*
 * A list item that is only `{$patch: replace}` (directives, no data) asks
 * for the whole list to be replaced.  An item with data and `$patch:
 * replace` replaces just that item, which is what its author means
 * (Kubernetes would replace the whole list, kustomize ignores the item).
 */
static bool is_list_replace_item(const strata_node *p)
{
	if (p->type != STRATA_NODE_MAP ||
	    !strata_scalar_is(strata_map_get(p, "$patch"), "replace"))
		return false;
	for (uint32_t i = 0; i < p->u.map.n; i++)
		if (!is_directive(p->u.map.pairs[i].key))
			return false;
	return true;
}


/* ---- lists ---- */

/* Drop the NULL items left by deletions, keeping order. */
static void seq_compact(strata_node *seq)
{
	uint32_t i, j = 0;

	for (i = 0; i < seq->u.seq.n; i++)
		if (seq->u.seq.items[i])
			seq->u.seq.items[j++] = seq->u.seq.items[i];
	seq->u.seq.n = j;
}

/* A list without merge keys: the patch replaces it. */
static int list_replace(merge_ctx *c, const strata_node *patch,
			const strata_schema *item_schema, const char *field,
			strata_node **out)
{
	strata_node *res = empty_like(c, patch);
	int rc;

	if (!res)
		return STRATA_ENOMEM;
	for (uint32_t i = 0; i < patch->u.seq.n; i++) {
		const strata_node *p = patch->u.seq.items[i];
		strata_node *v;

		if (is_list_replace_item(p))
			continue;
		if ((rc = merge_value(c, NULL, p, item_schema, field, &v)) < 0)
			return rc;
		if (v && (rc = strata_seq_append(c->a, res, v)) < 0)
			return rc;
	}
	*out = res;
	return 0;
}

/* Set lists (finalizers): union, base order, new items appended. */
typedef struct set_arg {
	const strata_node *seq;
	const char *s;
	size_t len;
} set_arg;

static bool set_eq(uint32_t pos, const void *arg)
{
	const set_arg *sa = arg;
	const strata_node *n = sa->seq->u.seq.items[pos];

	return n && n->type == STRATA_NODE_SCALAR && n->u.scalar.len == sa->len &&
	       memcmp(n->u.scalar.str, sa->s, sa->len) == 0;
}

static int list_set(merge_ctx *c, strata_node *base, const strata_node *patch,
		    strata_node **out)
{
	htab t = { 0 };
	bool hashed = base->u.seq.n + patch->u.seq.n > LINEAR_MAX;
	int rc = 0;

	if (hashed) {
		if ((rc = htab_init(&t, base->u.seq.n + patch->u.seq.n)) < 0)
			goto done;
		for (uint32_t i = 0; i < base->u.seq.n; i++) {
			const strata_node *n = base->u.seq.items[i];
			set_arg sa = { base, NULL, 0 };
			uint64_t h;
			uint32_t *slot;

			if (n->type != STRATA_NODE_SCALAR)
				continue;
			sa.s = n->u.scalar.str;
			sa.len = n->u.scalar.len;
			h = strata_hash(sa.s, sa.len, STRATA_HASH_SEED);
			slot = htab_find(&t, h, set_eq, &sa);
			if (!*slot)
				htab_set(&t, slot, h, i);
		}
	}
	for (uint32_t i = 0; i < patch->u.seq.n; i++) {
		const strata_node *p = patch->u.seq.items[i];
		strata_node *v;
		bool found = false;
		uint32_t *slot = NULL;
		uint64_t h = 0;

		if (p->type == STRATA_NODE_SCALAR) {
			set_arg sa = { base, p->u.scalar.str, p->u.scalar.len };

			if (hashed) {
				h = strata_hash(sa.s, sa.len, STRATA_HASH_SEED);
				slot = htab_find(&t, h, set_eq, &sa);
				found = *slot != 0;
			} else {
				for (uint32_t j = 0; j < base->u.seq.n && !found; j++)
					found = set_eq(j, &sa);
			}
		} else if (is_list_replace_item(p)) {
			continue;
		}
		if (found)
			continue;
		if ((rc = merge_value(c, NULL, p, NULL, NULL, &v)) < 0)
			goto done;
		if (!v)
			continue;
		if ((rc = strata_seq_append(c->a, base, v)) < 0)
			goto done;
		if (slot)
			htab_set(&t, slot, h, base->u.seq.n - 1);
	}
	*out = base;
done:
	htab_free(&t);
	return rc;
}

/* Keyed lists */
typedef struct key_arg {
	const strata_node *seq;
	const strata_schema *schema;
	const strata_schema_key *key;
} key_arg;

static bool key_eq(uint32_t pos, const void *arg)
{
	const key_arg *ka = arg;
	const strata_node *n = ka->seq->u.seq.items[pos];
	strata_schema_key k;

	/* A deleted item matches nothing; probing goes on past its slot, so
	 * a later patch item with the same key is appended as new. */
	if (!n)
		return false;
	return strata_schema_item_key(ka->schema, n, &k, NULL) &&
	       strata_schema_key_equal(ka->schema, &k, ka->key);
}

static int list_keyed(merge_ctx *c, strata_node *base, const strata_node *patch,
		      const strata_schema *schema, const char *field,
		      strata_node **out)
{
	const strata_schema *item_schema = strata_schema_item(schema);
	htab t = { 0 };
	bool hashed = base->u.seq.n + patch->u.seq.n > LINEAR_MAX;
	bool deleted = false;
	int rc = 0;

	if (hashed) {
		if ((rc = htab_init(&t, base->u.seq.n + patch->u.seq.n)) < 0)
			goto done;
		for (uint32_t i = 0; i < base->u.seq.n; i++) {
			strata_schema_key k;
			key_arg ka = { base, schema, &k };
			uint64_t h;
			uint32_t *slot;

			/* base items without a key can't be patched; keep them */
			if (!strata_schema_item_key(schema, base->u.seq.items[i], &k, NULL))
				continue;
			h = strata_schema_key_hash(schema, &k);
			slot = htab_find(&t, h, key_eq, &ka);
			if (!*slot) /* duplicates: the first one is patched */
				htab_set(&t, slot, h, i);
		}
	}
	for (uint32_t i = 0; i < patch->u.seq.n; i++) {
		const strata_node *p = patch->u.seq.items[i];
		strata_schema_key k;
		key_arg ka = { base, schema, &k };
		const char *bad = NULL;
		uint32_t *slot = NULL;
		uint64_t h = 0;
		long pos = -1;
		int dir;
		strata_node *v;

		if (p->type != STRATA_NODE_MAP) {
			rc = err_at(c, STRATA_EPARSE, p,
				    "list item in '%s' must be a map with merge key '%s'",
				    field ? field : "", schema->keys[0]);
			goto done;
		}
		if ((dir = patch_directive(c, p)) < 0) {
			rc = STRATA_EPARSE;
			goto done;
		}
		if (is_list_replace_item(p))
			continue; /* handled by merge_list */
		if (!strata_schema_item_key(schema, p, &k, &bad)) {
			rc = err_at(c, STRATA_EPARSE, p,
				    "list item in '%s' is missing merge key '%s'",
				    field ? field : "", bad ? bad : schema->keys[0]);
			goto done;
		}
		if (hashed) {
			h = strata_schema_key_hash(schema, &k);
			slot = htab_find(&t, h, key_eq, &ka);
			if (*slot)
				pos = (long)(*slot - 1);
		} else {
			for (uint32_t j = 0; j < base->u.seq.n && pos < 0; j++)
				if (key_eq(j, &ka))
					pos = (long)j;
		}
		if (pos >= 0) {
			if ((rc = merge_value(c, base->u.seq.items[pos], p,
					      item_schema, field, &v)) < 0)
				goto done;
			base->u.seq.items[pos] = v;
			if (!v)
				deleted = true;
			continue;
		}
		if (dir == 'd')
			continue; /* deleting what is not there */
		if ((rc = merge_value(c, NULL, p, item_schema, field, &v)) < 0)
			goto done;
		if (!v)
			continue;
		if ((rc = strata_seq_append(c->a, base, v)) < 0)
			goto done;
		if (slot)
			htab_set(&t, slot, h, base->u.seq.n - 1);
	}
	*out = base;
done:
	/* on an error too: a collecting render (strata check) reads on */
	if (deleted)
		seq_compact(base);
	htab_free(&t);
	return rc;
}

static int merge_list(merge_ctx *c, strata_node *base, const strata_node *patch,
		      const strata_schema *schema, const char *field,
		      strata_node **out)
{
	bool replace = false;

	for (uint32_t i = 0; i < patch->u.seq.n; i++) {
		const strata_node *p = patch->u.seq.items[i];

		if (p->type != STRATA_NODE_MAP || !strata_map_get(p, "$patch"))
			continue;
		if (patch_directive(c, p) < 0)
			return STRATA_EPARSE;
		if (is_list_replace_item(p))
			replace = true;
	}
	if (strata_schema_is_set(schema) || strata_schema_is_keyed(schema)) {
		if (replace || !base) {
			base = empty_like(c, patch);
			if (!base)
				return STRATA_ENOMEM;
		} else if (!strata_node_own(c->a, &base, 0)) {
			return STRATA_ENOMEM; /* as in merge_map */
		}
		if (strata_schema_is_set(schema))
			return list_set(c, base, patch, out);
		return list_keyed(c, base, patch, schema, field, out);
	}
	return list_replace(c, patch, strata_schema_item(schema), field, out);
}

/* ---- maps ---- */

typedef struct mkey_arg {
	const strata_node *map;
	const char *s;
	size_t len;
} mkey_arg;

static bool mkey_eq(uint32_t pos, const void *arg)
{
	const mkey_arg *ma = arg;
	const strata_node *k = ma->map->u.map.pairs[pos].key;

	return k && k->u.scalar.len == ma->len &&
	       memcmp(k->u.scalar.str, ma->s, ma->len) == 0;
}

/* Drop pairs whose key was cleared, keeping order. */
static void map_compact(strata_node *map)
{
	uint32_t i, j = 0;

	for (i = 0; i < map->u.map.n; i++)
		if (map->u.map.pairs[i].key)
			map->u.map.pairs[j++] = map->u.map.pairs[i];
	map->u.map.n = j;
}

/* `$deleteFromPrimitiveList/<field>: [values]`: drop those scalars. */
static int delete_from_primitive_list(merge_ctx *c, strata_node *base,
				      const strata_node *k, const strata_node *v)
{
	const char *field = k->u.scalar.str + strlen("$deleteFromPrimitiveList/");
	size_t flen = k->u.scalar.len - strlen("$deleteFromPrimitiveList/");
	strata_node *list;
	uint32_t i, j, n = 0;
	long pos;

	if (!scalar_list(v))
		return err_at(c, STRATA_EPARSE, v, "'%s' must be a list of scalars%s",
			      k->u.scalar.str, "");
	pos = base ? strata_map_index(base, field, flen) : -1;
	list = pos >= 0 ? base->u.map.pairs[pos].value : NULL;
	if (!list || list->type != STRATA_NODE_SEQ)
		return 0;
	/* base is the caller's (merge_map owned it); the list may be shared */
	list = strata_node_own(c->a, &base->u.map.pairs[pos].value, 0);
	if (!list)
		return STRATA_ENOMEM;
	for (i = 0; i < list->u.seq.n; i++) {
		strata_node *item = list->u.seq.items[i];
		bool drop = false;

		for (j = 0; item->type == STRATA_NODE_SCALAR && j < v->u.seq.n && !drop; j++) {
			const strata_node *d = v->u.seq.items[j];

			drop = d->u.scalar.len == item->u.scalar.len &&
			       memcmp(d->u.scalar.str, item->u.scalar.str, d->u.scalar.len) == 0;
		}
		if (!drop)
			list->u.seq.items[n++] = item;
	}
	list->u.seq.n = n;
	return 0;
}

/*
 * Does patch switch the retainKeys union of base to another member?
 * See schema.h for the two flavours.
 */
static bool retain_triggered(const strata_schema *schema, const strata_node *base,
			     const strata_node *patch)
{
	if (!schema || !(schema->flags & STRATA_SCHEMA_RETAIN_KEYS) || !base)
		return false;
	if (schema->discriminator) {
		const strata_node *pv = strata_map_get(patch, schema->discriminator);
		const strata_node *bv = strata_map_get(base, schema->discriminator);
		const char *bs = schema->discriminator_default;
		size_t blen;

		if (!pv || pv->type != STRATA_NODE_SCALAR || is_null(pv))
			return false;
		if (bv && bv->type == STRATA_NODE_SCALAR && !is_null(bv))
			bs = bv->u.scalar.str;
		if (!bs)
			return true;
		blen = bv && bs == bv->u.scalar.str ? bv->u.scalar.len : strlen(bs);
		return pv->u.scalar.len != blen ||
		       memcmp(pv->u.scalar.str, bs, blen) != 0;
	}
	for (uint32_t i = 0; i < patch->u.map.n; i++) {
		const strata_node *k = patch->u.map.pairs[i].key;

		if (is_directive(k) || is_null(patch->u.map.pairs[i].value))
			continue;
		if (!in_strv(schema->retain_always, k->u.scalar.str, k->u.scalar.len))
			return true;
	}
	return false;
}

static int merge_map(merge_ctx *c, strata_node *base, const strata_node *patch,
		     const strata_schema *schema, strata_node **out)
{
	const strata_node *retain = NULL; /* explicit $retainKeys */
	bool retain_builtin;
	bool removed = false;
	htab t = { 0 };
	bool hashed;
	int dir, rc = 0;
	uint32_t i;

	if ((dir = patch_directive(c, patch)) < 0)
		return STRATA_EPARSE;
	if (dir == 'd') {
		*out = NULL;
		return 0;
	}
	if (dir == 'r' || !base) {
		base = empty_like(c, patch);
		if (!base)
			return STRATA_ENOMEM;
	} else if (!strata_node_own(c->a, &base, 0)) {
		/* copy-on-write: the caller puts the copy in base's slot */
		return STRATA_ENOMEM;
	}

	/* Directives first, as Kubernetes does. */
	for (i = 0; i < patch->u.map.n; i++) {
		const strata_node *k = patch->u.map.pairs[i].key;
		const strata_node *v = patch->u.map.pairs[i].value;

		if (key_is(k, "$retainKeys")) {
			if (!scalar_list(v))
				return err_at(c, STRATA_EPARSE, v,
					      "'%s' must be a list of field names%s",
					      "$retainKeys", "");
			retain = v;
		} else if (key_has_prefix(k, "$deleteFromPrimitiveList/")) {
			if ((rc = delete_from_primitive_list(c, base, k, v)) < 0)
				return rc;
		} else if (key_has_prefix(k, "$setElementOrder/")) {
			if (v->type != STRATA_NODE_SEQ)
				return err_at(c, STRATA_EPARSE, v,
					      "'%s' must be a list%s",
					      k->u.scalar.str, "");
		}
	}
	retain_builtin = retain_triggered(schema, base, patch);

	hashed = base->u.map.n + patch->u.map.n > LINEAR_MAX;
	if (hashed) {
		if ((rc = htab_init(&t, base->u.map.n + patch->u.map.n)) < 0)
			goto done;
		for (i = 0; i < base->u.map.n; i++) {
			const strata_node *k = base->u.map.pairs[i].key;
			mkey_arg ma = { base, k->u.scalar.str, k->u.scalar.len };
			uint64_t h = strata_hash(ma.s, ma.len, STRATA_HASH_SEED);
			uint32_t *slot = htab_find(&t, h, mkey_eq, &ma);

			if (!*slot)
				htab_set(&t, slot, h, i);
		}
	}

	for (i = 0; i < patch->u.map.n; i++) {
		const strata_node *k = patch->u.map.pairs[i].key;
		const strata_node *pv = patch->u.map.pairs[i].value;
		mkey_arg ma = { base, k->u.scalar.str, k->u.scalar.len };
		uint32_t *slot = NULL;
		uint64_t h = 0;
		long pos = -1;
		strata_node *v;

		if (is_directive(k))
			continue;
		if (hashed) {
			h = strata_hash(ma.s, ma.len, STRATA_HASH_SEED);
			slot = htab_find(&t, h, mkey_eq, &ma);
			if (*slot)
				pos = (long)(*slot - 1);
		} else {
			/* not strata_map_index: cleared keys are NULL here */
			for (uint32_t j = 0; j < base->u.map.n && pos < 0; j++)
				if (mkey_eq(j, &ma))
					pos = (long)j;
		}
		if (is_null(pv)) {
			v = NULL;
		} else {
			const strata_schema *fs = strata_schema_fieldn(schema, ma.s, ma.len);

			if ((rc = merge_value(c, pos >= 0 ? base->u.map.pairs[pos].value : NULL,
					      pv, fs, ma.s, &v)) < 0)
				goto done;
		}
		if (pos >= 0) {
			if (v) {
				base->u.map.pairs[pos].value = v;
			} else {
				/* a cleared key never matches again: mkey_eq */
				base->u.map.pairs[pos].key = NULL;
				removed = true;
			}
			continue;
		}
		if (!v)
			continue;
		{
			strata_node *kc = strata_node_copy(c->a, k);

			if (!kc) {
				rc = STRATA_ENOMEM;
				goto done;
			}
			if ((rc = strata_map_append(c->a, base, kc, v)) < 0)
				goto done;
			if (slot)
				htab_set(&t, slot, h, base->u.map.n - 1);
		}
	}

	/* retainKeys: drop what the patch does not keep */
	if (retain || retain_builtin) {
		for (i = 0; i < base->u.map.n; i++) {
			const strata_node *k = base->u.map.pairs[i].key;
			bool keep = true;

			if (!k)
				continue;
			if (retain) {
				keep = false;
				for (uint32_t j = 0; j < retain->u.seq.n && !keep; j++) {
					const strata_node *r = retain->u.seq.items[j];

					keep = r->u.scalar.len == k->u.scalar.len &&
					       memcmp(r->u.scalar.str, k->u.scalar.str,
						      k->u.scalar.len) == 0;
				}
			}
			if (keep && retain_builtin &&
			    !in_strv(schema->retain_always, k->u.scalar.str, k->u.scalar.len) &&
			    strata_map_index(patch, k->u.scalar.str, k->u.scalar.len) < 0)
				keep = false;
			if (!keep) {
				base->u.map.pairs[i].key = NULL;
				removed = true;
			}
		}
	}
	*out = base;
done:
	/* on an error too: a collecting render (strata check) reads on */
	if (removed)
		map_compact(base);
	htab_free(&t);
	return rc;
}

/*
 * Merge patch into base (NULL when the base has no value there) and put
 * the result in *out: base itself edited in place, a new node, or NULL
 * when the patch deletes the value.
 */
static int merge_value(merge_ctx *c, strata_node *base, const strata_node *patch,
		       const strata_schema *schema, const char *field,
		       strata_node **out)
{
	switch (patch->type) {
	case STRATA_NODE_MAP:
		if (schema && schema->type != STRATA_SCHEMA_MAP)
			schema = NULL;
		return merge_map(c, base && base->type == STRATA_NODE_MAP ? base : NULL,
				 patch, schema, out);
	case STRATA_NODE_SEQ:
		if (schema && schema->type != STRATA_SCHEMA_LIST)
			schema = NULL;
		return merge_list(c, base && base->type == STRATA_NODE_SEQ ? base : NULL,
				  patch, schema, field, out);
	default:
		*out = strata_node_copy(c->a, patch);
		return *out ? 0 : STRATA_ENOMEM;
	}
}

int strata_merge_patch(strata_arena *a, strata_node *target,
		       const strata_node *patch, const char *group,
		       const char *kind, bool *out_delete, strata_error *err)
{
	merge_ctx c = { a, err };
	strata_node *res = NULL;
	int rc;

	if (out_delete)
		*out_delete = false;
	if (!a || !target || !patch)
		return strata_error_set(err, STRATA_EUSAGE, NULL, 0, 0,
					"merge: missing target or patch");
	if (target->type != STRATA_NODE_MAP || patch->type != STRATA_NODE_MAP)
		return err_at(&c, STRATA_EPARSE,
			      patch->type != STRATA_NODE_MAP ? patch : target,
			      "a patch and its target must be maps%s%s", "", "");
	if ((target->flags & STRATA_NODE_SHARED) && strata_arena_cow(a))
		return strata_error_set(err, STRATA_EUSAGE, NULL, 0, 0,
					"merge: the target is shared (own it first)");
	rc = merge_map(&c, target, patch, strata_schema_for(group, kind), &res);
	if (rc < 0)
		return rc;
	if (!res) {
		if (out_delete)
			*out_delete = true;
	} else if (res != target) {
		/* `$patch: replace` on the document: its content replaces the
		 * target's, which keeps its identity for the caller */
		target->u.map = res->u.map;
	}
	return 0;
}
