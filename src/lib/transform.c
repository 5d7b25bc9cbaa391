/*
 * transform.c - the per-environment transforms that run after variables:
 * images, namespace, name prefix/suffix with reference fix-ups, and
 * labels/annotations.  Each one walks the resource set once; lookups go
 * through hash tables, so a render stays linear in the number of resources.
 *
 * Where kustomize (v5.5) has the same transform the results are the same;
 * the differences are documented at each function:
 *  - images: `ephemeralContainers` are updated too (kustomize skips them);
 *  - names: the deprecated pod field `serviceAccount` follows a renamed
 *    ServiceAccount like `serviceAccountName` (kustomize leaves it stale);
 *  - labels: selectors are never touched (kustomize's `labels` with
 *    includeSelectors: false, includeTemplates: true).
 *
 * Every scalar a transform writes must read back as a string, so a plain
 * scalar it rewrites or creates becomes STRATA_STYLE_STRING (the emitter
 * quotes it when a YAML 1.1 reader would see another type); a quoted one
 * keeps its quotes.
 */
#include "pipeline.h"
#include "strata/transform.h"

#include "arena_spare.h"
#include "pool.h"
#include "schema.h"
#include "slots.h"

#include <stdatomic.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GROUP_RBAC "rbac.authorization.k8s.io"

/* ---- small helpers ---- */

#define TRY(expr)                            \
	do {                                 \
		int rc_ = (expr);            \
		if (rc_ < 0)                 \
			return rc_;          \
	} while (0)


static bool is_kind(const strata_resource *r, const char *group, const char *kind)
{
	return r->kind[0] == kind[0] && !strcmp(r->kind, kind) && !strcmp(r->group, group);
}

/*
 * The transforms edit through cursors (doc.h): a render's arena is
 * copy-on-write, so a map or sequence it shares with the base is copied,
 * with the containers above it, just before an edit, and what is only
 * read stays shared.  Plain node pointers are for reading.
 */

static strata_node *scalar_child(const strata_node *map, const char *key)
{
	strata_node *n = strata_map_get(map, key);

	return strata_node_is_scalar(n) ? n : NULL;
}

/* The cursor of map[key] when that is a scalar, else NULL. */
static strata_cur *scalar_cur(strata_cur *out, strata_cur *map, const char *key)
{
	strata_cur *c = strata_cur_get(out, map, key);

	return c && strata_node_is_scalar(c->node) ? c : NULL;
}

/*
 * The map at in.keys[0].keys[1]... (keys NULL-terminated), one cursor of
 * cs[0..max) per step; NULL when a step is missing or not a map, or when
 * there are more steps than cursors.  in may be NULL.
 */
static strata_cur *cur_maps(strata_cur *cs, size_t max, strata_cur *in,
			    const char *const *keys)
{
	for (size_t i = 0; in && keys[i]; i++)
		in = i < max ? strata_cur_map(&cs[i], in, keys[i]) : NULL;
	return in && in->node->type == STRATA_NODE_MAP ? in : NULL;
}
#define CUR_MAPS(cs, in, ...)                                   \
	cur_maps(cs, sizeof(cs) / sizeof((cs)[0]), in,          \
		 (const char *const[]){ __VA_ARGS__, NULL })

/*
 * Put at c a scalar like the one there that reads back as the string s
 * (scalars in a tree are shared by copies, never edited: doc.h).
 */
static int set_string(strata_arena *a, strata_cur *c, const char *s, size_t len)
{
	int style = c->node->style == STRATA_STYLE_PLAIN ? STRATA_STYLE_STRING : -1;
	strata_node *n = strata_scalar_with(a, c->node, s, len, style);
	strata_node **slot = n ? strata_cur_slot(a, c) : NULL;

	if (!slot)
		return STRATA_ENOMEM;
	*slot = n;
	c->node = n;
	return 0;
}

/* map[key] = the string value: rewritten when present, appended otherwise. */
static int map_put_string(strata_arena *a, strata_cur *mc, const char *key,
			  const char *value)
{
	strata_node *map = strata_cur_own(a, mc, 1);
	strata_node **old, *v;

	if (!map)
		return STRATA_ENOMEM;
	old = strata_map_slot(map, key);
	if (old && !strata_node_is_scalar(*old))
		old = NULL;

	if (old) {
		v = strata_scalar_with(a, *old, value, strlen(value), STRATA_STYLE_STRING);
		if (!v)
			return STRATA_ENOMEM;
		*old = v;
		return 0;
	}
	v = strata_node_scalar_str(a, value, STRATA_STYLE_STRING);
	if (!v)
		return STRATA_ENOMEM;
	return strata_map_set(a, map, key, v);
}

/*
 * Set metadata.namespace; a new key goes right after metadata.name, where
 * people (and kubectl) expect to read it, instead of at the end.  A new
 * key gets *shared, one node for every resource of the run (scalars are
 * never edited in a tree, doc.h), made on first use; the pair array grows
 * by exactly one.
 */
static int put_namespace(strata_arena *a, strata_cur *mc, const char *ns,
			 strata_node **shared)
{
	long at = strata_map_index(mc->node, "name", 4);
	strata_node *meta;
	int rc;

	if (strata_map_get(mc->node, "namespace"))
		return map_put_string(a, mc, "namespace", ns);
	if (!(meta = strata_cur_own(a, mc, 1)))
		return STRATA_ENOMEM;
	if (!*shared &&
	    !(*shared = strata_node_scalar_str(a, ns, STRATA_STYLE_STRING)))
		return STRATA_ENOMEM;
	rc = strata_map_reserve(a, meta, 1);
	if (rc == 0)
		rc = strata_map_set(a, meta, "namespace", *shared);
	if (rc == 0 && at >= 0 && (uint32_t)at + 2 < meta->u.map.n) {
		strata_pair p = meta->u.map.pairs[meta->u.map.n - 1];
		memmove(&meta->u.map.pairs[at + 2], &meta->u.map.pairs[at + 1],
			(meta->u.map.n - (uint32_t)at - 2) * sizeof(strata_pair));
		meta->u.map.pairs[at + 1] = p;
	}
	return rc;
}

static int oom(strata_error *err)
{
	return strata_error_set(err, STRATA_ENOMEM, NULL, 0, 0, "out of memory");
}

/*
 * The map at map[key], created when missing or null.  NULL with
 * STRATA_EPARSE in err ("PATH.WHAT is not a map"; path may be NULL) when it
 * holds something else, or on out of memory.  The name is only formatted
 * for the error: this runs for every resource.
 */
static strata_cur *ensure_map(strata_arena *a, strata_cur *mc, const char *key,
			      const char *path, const char *what, strata_cur *out,
			      strata_error *err)
{
	strata_node *n = strata_map_get(mc->node, key), *map;

	if (n && n->type == STRATA_NODE_MAP)
		return strata_cur_map(out, mc, key);
	if (n && !(n->type == STRATA_NODE_SCALAR &&
		   strata_scalar_kind_of(n) == STRATA_SCALAR_NULL)) {
		strata_error_set(err, STRATA_EPARSE, strata_node_file(n), (int)n->line, (int)n->col,
				 "%s%s%s is not a map", path ? path : "", path ? "." : "", what);
		return NULL;
	}
	n = strata_node_map(a);
	map = n ? strata_cur_own(a, mc, 1) : NULL;
	if (!map || strata_map_set(a, map, key, n) < 0) {
		oom(err);
		return NULL;
	}
	return strata_cur_map(out, mc, key);
}

/*
 * A set of (a, b, c) string triples, b NULL standing for "any": (kind,
 * namespace, name) keys.  The strings are not copied: every caller adds
 * strings that outlive the set (a resource's identity, the environment's
 * namespace, literals).  Entries are dense; the open-addressing table holds
 * 1 + their index, so an empty slot costs 4 bytes (at 40,000 resources the
 * names set has 80,000 keys: 2.9 MB this way, 9.5 MB as copied keys in a
 * table of entries).
 */
typedef struct keyset {
	struct kentry {
		uint64_t h;
		const char *a, *b, *c;
	} *e;
	size_t n, cap;
	uint32_t *slots;
	size_t mask;
} keyset;

static void keyset_free(keyset *s)
{
	free(s->e);
	free(s->slots);
	memset(s, 0, sizeof(*s));
}

/*
 * Room for cap entries, and slots for them at most half full.  The fused
 * pass's sets are made at their size at once (two keys a resource):
 * grown by doubling, they touched about twice the memory, 13 fresh malloc
 * pages at 400 resources where one allocation each takes 8.
 */
static int keyset_grow(keyset *s, size_t cap)
{
	size_t size = s->slots ? s->mask + 1 : 128;
	struct kentry *e;
	uint32_t *slots;

	if (cap > s->cap) {
		e = realloc(s->e, cap * sizeof(*e));
		if (!e)
			return STRATA_ENOMEM;
		s->e = e;
		s->cap = cap;
	}
	while (size < 2 * (cap + 1))
		size *= 2;
	if (s->slots && size == s->mask + 1)
		return 0;
	if (cap >= UINT32_MAX - 1)
		return STRATA_ENOMEM;
	slots = calloc(size, sizeof(*slots));
	if (!slots)
		return STRATA_ENOMEM;
	for (size_t k = 0; k < s->n; k++)
		slots[strata_slot_empty(slots, size - 1, s->e[k].h)] = (uint32_t)k + 1;
	free(s->slots);
	s->slots = slots;
	s->mask = size - 1;
	return 0;
}

static uint64_t key_hash(const char *a, const char *b, const char *c)
{
	uint64_t h = strata_hash(a, strlen(a) + 1, STRATA_HASH_SEED);

	h = b ? strata_hash(b, strlen(b) + 1, h) : strata_hash("\001", 2, h);
	return strata_hash(c, strlen(c) + 1, h);
}

static bool key_same(const struct kentry *e, uint64_t h, const char *a,
		     const char *b, const char *c)
{
	return e->h == h && !strcmp(e->a, a) && !strcmp(e->c, c) &&
	       (b ? e->b && !strcmp(e->b, b) : !e->b);
}

/* The slot where (a, b, c) is, or the empty one where it would go. */
static size_t key_slot(const keyset *s, uint64_t h, const char *a, const char *b,
		       const char *c)
{
	size_t i = (size_t)h & s->mask;

	while (s->slots[i] && !key_same(&s->e[s->slots[i] - 1], h, a, b, c))
		i = (i + 1) & s->mask;
	return i;
}

static bool keyset_has(keyset *s, const char *a, const char *b, const char *c)
{
	if (!s->n)
		return false;
	return s->slots[key_slot(s, key_hash(a, b, c), a, b, c)] != 0;
}

static int keyset_add(keyset *s, const char *a, const char *b, const char *c)
{
	uint64_t h = key_hash(a, b, c);
	size_t i;

	if (s->n && s->slots[key_slot(s, h, a, b, c)])
		return 0;
	if (s->n == s->cap && keyset_grow(s, s->cap ? s->cap * 2 : 64) < 0)
		return STRATA_ENOMEM;
	i = key_slot(s, h, a, b, c);
	s->e[s->n] = (struct kentry){ h, a, b, c };
	s->slots[i] = (uint32_t)++s->n;
	return 0;
}

/* ---- images ---- */

/*
 * An image reference split into name, tag and digest:
 * "reg:5000/app:1.0@sha256:..." -> "reg:5000/app", "1.0", "sha256:...".
 * The digest follows the first '@'; the tag follows the last ':' only when
 * it comes after the last '/' (a registry port is not a tag).
 */
typedef struct image_ref {
	const char *name, *tag, *digest;
	size_t name_len, tag_len, digest_len;
	bool has_tag, has_digest;
} image_ref;

static void image_split(image_ref *out, const char *s, size_t len)
{
	const char *at = memchr(s, '@', len);
	size_t nlen = at ? (size_t)(at - s) : len;
	const char *colon = NULL, *slash = NULL;

	memset(out, 0, sizeof(*out));
	if (at) {
		out->has_digest = true;
		out->digest = at + 1;
		out->digest_len = len - nlen - 1;
	}
	for (size_t i = 0; i < nlen; i++) {
		if (s[i] == '/')
			slash = s + i;
		else if (s[i] == ':')
			colon = s + i;
	}
	if (colon && (!slash || colon > slash)) {
		out->has_tag = true;
		out->tag = colon + 1;
		out->tag_len = (size_t)(s + nlen - colon - 1);
		nlen = (size_t)(colon - s);
	}
	out->name = s;
	out->name_len = nlen;
}

typedef struct image_rule {
	const char *match;  /* image.NAME */
	image_ref to;       /* the value: name may be empty (keep the name) */
} image_rule;

/*
 * The new image for old under rule, following kustomize's `images:`:
 * a new tag drops the old digest, a new digest drops the old tag, both
 * give name:tag@digest; with neither, the old tag and digest are kept.
 */
static int image_rewrite(strata_buf *out, const image_ref *old, const image_rule *rule)
{
	const image_ref *to = &rule->to;
	int rc;

	out->len = 0;
	if (to->name_len)
		rc = strata_buf_put(out, to->name, to->name_len);
	else
		rc = strata_buf_put(out, old->name, old->name_len);
	if (rc < 0)
		return rc;
	if (to->has_tag || to->has_digest) {
		if (to->has_tag && ((rc = strata_buf_putc(out, ':')) < 0 ||
				    (rc = strata_buf_put(out, to->tag, to->tag_len)) < 0))
			return rc;
		if (to->has_digest && ((rc = strata_buf_putc(out, '@')) < 0 ||
				       (rc = strata_buf_put(out, to->digest, to->digest_len)) < 0))
			return rc;
		return 0;
	}
	if (old->has_tag && ((rc = strata_buf_putc(out, ':')) < 0 ||
			     (rc = strata_buf_put(out, old->tag, old->tag_len)) < 0))
		return rc;
	if (old->has_digest && ((rc = strata_buf_putc(out, '@')) < 0 ||
				(rc = strata_buf_put(out, old->digest, old->digest_len)) < 0))
		return rc;
	return 0;
}

typedef struct image_run {
	strata_arena *a;
	const image_rule *rules;
	size_t n;
	strata_buf buf;
	strata_error *err;
} image_run;

static int image_container(image_run *r, strata_cur *c)
{
	strata_cur img;
	image_ref old;

	if (!scalar_cur(&img, c, "image"))
		return 0;
	image_split(&old, img.node->u.scalar.str, img.node->u.scalar.len);
	for (size_t i = 0; i < r->n; i++) {
		const image_rule *rule = &r->rules[i];
		if (strlen(rule->match) != old.name_len ||
		    memcmp(rule->match, old.name, old.name_len))
			continue;
		if (image_rewrite(&r->buf, &old, rule) < 0 ||
		    set_string(r->a, &img, r->buf.ptr, r->buf.len) < 0)
			return oom(r->err);
		return 0;
	}
	return 0;
}

static bool is_container_field(const strata_node *key)
{
	for (const char *const *f = strata_schema_container_fields; *f; f++)
		if (strata_scalar_is(key, *f))
			return true;
	return false;
}

/*
 * Like kustomize, look for container lists anywhere in the document, so
 * pod templates of kinds strata does not know (Argo Rollouts, Knative,
 * operators' CRDs) get the new images too.
 */
static int image_walk(image_run *r, strata_cur *c)
{
	int rc;

	/* c->node is read again each time: an edit below may copy it */
	for (uint32_t i = 0;; i++) {
		strata_node *v = strata_node_child(c->node, i);
		const strata_node *key;
		strata_cur child;

		if (!v)
			return 0;
		key = c->node->type == STRATA_NODE_MAP ? c->node->u.map.pairs[i].key : NULL;
		if (v->type == STRATA_NODE_SCALAR || !strata_cur_at(&child, c, i))
			continue;
		if (key && v->type == STRATA_NODE_SEQ && is_container_field(key)) {
			for (uint32_t k = 0; k < child.node->u.seq.n; k++) {
				strata_cur item;

				if (strata_cur_at(&item, &child, k) &&
				    item.node->type == STRATA_NODE_MAP &&
				    (rc = image_container(r, &item)) < 0)
					return rc;
			}
		}
		if ((rc = image_walk(r, &child)) < 0)
			return rc;
	}
}

struct strata_image_rules {
	image_rule *rules;
	size_t n;
};

/*
 * image.NAME = VALUE, VALUE one of newName, newName:tag, newName@digest,
 * newName:tag@digest, :tag (keep the name, set the tag) or @digest (keep
 * the name, pin the digest).
 */
int strata_image_rules_new(strata_image_rules **out, const strata_kvlist *images,
			   strata_error *err)
{
	strata_image_rules *ir;

	*out = NULL;
	if (!images || !images->n)
		return 0;
	ir = calloc(1, sizeof(*ir));
	if (!ir || !(ir->rules = calloc(images->n, sizeof(*ir->rules)))) {
		free(ir);
		return oom(err);
	}
	ir->n = images->n;
	for (size_t i = 0; i < images->n; i++) {
		const strata_kv *kv = &images->items[i];
		const char *v = kv->value ? kv->value : "";
		image_ref *to = &ir->rules[i].to;

		ir->rules[i].match = kv->key;
		image_split(to, v, strlen(v));
		if (!kv->key[0] || (!to->name_len && !to->has_tag && !to->has_digest) ||
		    (to->has_tag && !to->tag_len) || (to->has_digest && !to->digest_len) ||
		    strpbrk(v, " \t\r\n")) {
			strata_image_rules_free(ir);
			return strata_error_set(err, STRATA_ECONFIG, STRATA_CONFIG_FILE,
						kv->line, kv->line ? 1 : 0,
						"invalid image value '%s' for 'image.%s' "
						"(want name, name:tag, name@digest, :tag or @digest)",
						v, kv->key);
		}
	}
	*out = ir;
	return 0;
}

void strata_image_rules_free(strata_image_rules *ir)
{
	if (!ir)
		return;
	free(ir->rules);
	free(ir);
}

static void image_run_init(image_run *r, strata_arena *a,
			   const strata_image_rules *ir, strata_error *err)
{
	memset(r, 0, sizeof(*r));
	r->a = a;
	r->rules = ir ? ir->rules : NULL;
	r->n = ir ? ir->n : 0;
	r->err = err;
}

/* One resource's images (the walk of its whole tree). */
static int image_resource(image_run *r, strata_resource *res)
{
	strata_cur top;

	strata_cur_top(&top, &res->root);
	return image_walk(r, &top);
}

int strata_transform_images(strata_arena *a, strata_resset *s,
			    const strata_kvlist *images, strata_error *err)
{
	strata_image_rules *ir;
	image_run r;
	int rc;

	if ((rc = strata_image_rules_new(&ir, images, err)) < 0 || !ir)
		return rc;
	image_run_init(&r, a, ir, err);
	for (size_t i = 0; i < strata_resset_count(s) && rc == 0; i++) {
		strata_resource *res = strata_resset_at(s, i);

		if (!res->deleted)
			rc = image_resource(&r, res);
	}
	strata_buf_free(&r.buf);
	strata_image_rules_free(ir);
	return rc;
}

/* ---- namespace ---- */

/* The namespace of a resource for reference matching: kustomize treats a
 * namespaced object without one as being in "default". */
static const char *ns_norm(const char *ns)
{
	return ns && ns[0] ? ns : "default";
}

static bool is_binding(const strata_resource *r)
{
	return is_kind(r, GROUP_RBAC, "RoleBinding") ||
	       is_kind(r, GROUP_RBAC, "ClusterRoleBinding");
}

/*
 * A reference that carries its own namespace (binding subjects, webhook
 * and APIService services, PersistentVolume claimRef) follows the object
 * it names into the new namespace when that object is in the set: it
 * matches by name and namespace as they were before the change (no
 * namespace on the object means "default"), or by name alone when the
 * reference has no namespace.  References to anything else stay.
 */
typedef struct ns_run {
	strata_arena *a;
	const char *ns;
	strata_node *ns_node; /* the new metadata.namespace values (put_namespace) */
	keyset objs;  /* (kind, old namespace, name) and (kind, any, name) */
	strata_error *err;
} ns_run;

static int ns_follow(ns_run *r, strata_cur *ref, const char *kind, bool always)
{
	strata_node *name, *rns;
	bool move;

	if (!ref || !(name = scalar_child(ref->node, "name")))
		return 0;
	rns = strata_map_get(ref->node, "namespace");
	if (always)
		move = true;
	else if (!rns)
		move = keyset_has(&r->objs, kind, NULL, name->u.scalar.str);
	else
		move = strata_node_is_scalar(rns) &&
		       keyset_has(&r->objs, kind, rns->u.scalar.str, name->u.scalar.str);
	if (move && map_put_string(r->a, ref, "namespace", r->ns) < 0)
		return oom(r->err);
	return 0;
}

static int ns_references(ns_run *r, strata_resource *res)
{
	strata_cur root, spec, c[4], *sp;

	strata_cur_top(&root, &res->root);
	sp = strata_cur_map(&spec, &root, "spec");
	if (is_binding(res)) {
		strata_cur subjects;
		for (uint32_t k = 0; strata_cur_seq(&subjects, &root, "subjects") &&
				     k < subjects.node->u.seq.n; k++) {
			strata_cur sub;
			if (!strata_cur_at(&sub, &subjects, k) ||
			    !strata_scalar_is(strata_map_get(sub.node, "kind"), "ServiceAccount"))
				continue;
			/* kustomize always moves the "default" ServiceAccount */
			TRY(ns_follow(r, &sub, "ServiceAccount",
				      strata_scalar_is(strata_map_get(sub.node, "name"),
						       "default")));
		}
	} else if (is_kind(res, "admissionregistration.k8s.io",
			   "ValidatingWebhookConfiguration") ||
		   is_kind(res, "admissionregistration.k8s.io",
			   "MutatingWebhookConfiguration")) {
		strata_cur hooks;
		for (uint32_t i = 0; strata_cur_seq(&hooks, &root, "webhooks") &&
				     i < hooks.node->u.seq.n; i++) {
			strata_cur hook;
			TRY(ns_follow(r, CUR_MAPS(c, strata_cur_at(&hook, &hooks, i),
						  "clientConfig", "service"),
				      "Service", false));
		}
	} else if (is_kind(res, "apiregistration.k8s.io", "APIService")) {
		TRY(ns_follow(r, CUR_MAPS(c, sp, "service"), "Service", false));
	} else if (is_kind(res, "apiextensions.k8s.io", "CustomResourceDefinition")) {
		TRY(ns_follow(r, CUR_MAPS(c, sp, "conversion", "webhook", "clientConfig",
					  "service"),
			      "Service", false));
	} else if (is_kind(res, "", "PersistentVolume")) {
		TRY(ns_follow(r, CUR_MAPS(c, sp, "claimRef"), "PersistentVolumeClaim",
			      false));
	}
	return 0;
}

/*
 * Set metadata.namespace on every namespaced resource (unknown kinds are
 * namespaced), never on cluster-scoped ones.  As kustomize does, a
 * Namespace object in the set is renamed to ns (two of them then collide:
 * STRATA_ECONFLICT), and references that carry a namespace follow the
 * objects of the set they name (ns_follow).  Unlike kustomize, an
 * APIService or CRD conversion webhook pointing at a Service outside the
 * set keeps its namespace, and an APIService without a service gets none.
 */
/* The objects references may follow, by their namespace before the change. */
static int ns_setup(ns_run *r, strata_arena *a, strata_resset *s, const char *ns,
		    strata_error *err)
{
	size_t n = strata_resset_count(s);

	memset(r, 0, sizeof(*r));
	r->a = a;
	r->ns = ns;
	r->err = err;
	/* at most two keys a resource: the arrays made once */
	if (n && keyset_grow(&r->objs, 2 * n) < 0)
		return oom(err);
	for (size_t i = 0; i < n; i++) {
		strata_resource *res = strata_resset_at(s, i);
		if (res->deleted || res->group[0] ||
		    (strcmp(res->kind, "ServiceAccount") && strcmp(res->kind, "Service") &&
		     strcmp(res->kind, "PersistentVolumeClaim")))
			continue;
		if (keyset_add(&r->objs, res->kind, ns_norm(res->ns), res->name) < 0 ||
		    keyset_add(&r->objs, res->kind, NULL, res->name) < 0)
			return oom(err);
	}
	return 0;
}

/* One resource: its namespace (or a Namespace's name), then its references. */
static int ns_resource(ns_run *r, strata_resource *res)
{
	strata_cur root, meta;

	strata_cur_top(&root, &res->root);
	if (!strata_cur_map(&meta, &root, "metadata"))
		return 0; /* not a resource: strata_resource_init refuses it */
	if (strata_kind_cluster_scoped(res->group, res->kind)) {
		if (is_kind(res, "", "Namespace") &&
		    map_put_string(r->a, &meta, "name", r->ns) < 0)
			return oom(r->err);
	} else if (put_namespace(r->a, &meta, r->ns, &r->ns_node) < 0) {
		return oom(r->err);
	}
	return ns_references(r, res);
}

static int namespace_run(strata_arena *a, strata_resset *s, const char *ns,
			 strata_error *err)
{
	ns_run r;
	size_t n = strata_resset_count(s);
	int rc = 0;

	if (!ns || !ns[0])
		return 0;
	if ((rc = ns_setup(&r, a, s, ns, err)) < 0)
		goto done;
	for (size_t i = 0; i < n; i++) {
		strata_resource *res = strata_resset_at(s, i);
		if (!res->deleted && (rc = ns_resource(&r, res)) < 0)
			goto done;
	}
	rc = strata_resset_reindex(s, err);
done:
	keyset_free(&r.objs);
	return rc;
}

int strata_transform_namespace(strata_arena *a, strata_resset *s, const char *ns,
			       strata_error *err)
{
	return namespace_run(a, s, ns, err);
}


/* ---- names ---- */

/*
 * Kinds kustomize never renames: their names are not free (a CRD's is
 * plural.group, an APIService's version.group) or are the namespace.
 */
static bool keeps_name(const strata_resource *r)
{
	return is_kind(r, "", "Namespace") ||
	       is_kind(r, "apiextensions.k8s.io", "CustomResourceDefinition") ||
	       is_kind(r, "apiregistration.k8s.io", "APIService");
}

typedef struct names_run {
	strata_arena *a;
	const char *prefix, *suffix;
	size_t plen, slen;
	keyset renamed;      /* (kind, namespace, old name); namespace "" for
			        cluster-scoped kinds, NULL entry for any */
	strata_buf buf;
	strata_error *err;
} names_run;

/* The namespace key of a referent of kind in the referrer's namespace. */
static const char *ref_ns(const char *kind, const char *referrer_ns)
{
	return strata_kind_cluster_scoped("", kind) ||
	       strata_kind_cluster_scoped(GROUP_RBAC, kind) ? "" : ns_norm(referrer_ns);
}

static int new_name(names_run *r, const char *old, size_t len)
{
	int rc;

	r->buf.len = 0;
	if ((rc = strata_buf_put(&r->buf, r->prefix, r->plen)) < 0 ||
	    (rc = strata_buf_put(&r->buf, old, len)) < 0 ||
	    (rc = strata_buf_put(&r->buf, r->suffix, r->slen)) < 0)
		return rc;
	return 0;
}

/*
 * If the scalar at c names an object of kind that was renamed (in
 * namespace ns; NULL: in any namespace), rewrite it to the new name.
 * c may be NULL (nothing there).
 */
static int fix(names_run *r, strata_cur *c, const char *kind, const char *ns)
{
	const strata_node *n = c ? c->node : NULL;

	if (!strata_node_is_scalar(n) || !n->u.scalar.len)
		return 0;
	if (!keyset_has(&r->renamed, kind, ns, n->u.scalar.str))
		return 0;
	if (new_name(r, n->u.scalar.str, n->u.scalar.len) < 0 ||
	    set_string(r->a, c, r->buf.ptr, r->buf.len) < 0)
		return oom(r->err);
	return 0;
}

/* map.field (map may be NULL). */
static int fix_field(names_run *r, strata_cur *map, const char *field,
		     const char *kind, const char *ns)
{
	strata_cur c;

	return fix(r, strata_cur_get(&c, map, field), kind, ns);
}

/* map.k1.field: fix when every step exists. */
static int fix_at(names_run *r, strata_cur *map, const char *k1,
		  const char *field, const char *kind, const char *ns)
{
	strata_cur c;

	return fix_field(r, strata_cur_map(&c, map, k1), field, kind, ns);
}

static int fix_containers(names_run *r, strata_cur *list, const char *ns)
{
	for (uint32_t i = 0; i < list->node->u.seq.n; i++) {
		strata_cur c, env, from;

		if (!strata_cur_at(&c, list, i))
			continue;
		for (uint32_t k = 0; strata_cur_seq(&env, &c, "env") &&
				     k < env.node->u.seq.n; k++) {
			strata_cur e, vf;
			strata_cur *v = strata_cur_map(&vf, strata_cur_at(&e, &env, k),
						       "valueFrom");
			TRY(fix_at(r, v, "configMapKeyRef", "name", "ConfigMap", ns));
			TRY(fix_at(r, v, "secretKeyRef", "name", "Secret", ns));
		}
		for (uint32_t k = 0; strata_cur_seq(&from, &c, "envFrom") &&
				     k < from.node->u.seq.n; k++) {
			strata_cur e;
			strata_cur *v = strata_cur_at(&e, &from, k);
			TRY(fix_at(r, v, "configMapRef", "name", "ConfigMap", ns));
			TRY(fix_at(r, v, "secretRef", "name", "Secret", ns));
		}
	}
	return 0;
}

static int fix_list_names(names_run *r, strata_cur *list, const char *kind,
			  const char *ns)
{
	for (uint32_t i = 0; list && i < list->node->u.seq.n; i++) {
		strata_cur item;
		TRY(fix_field(r, strata_cur_at(&item, list, i), "name", kind, ns));
	}
	return 0;
}

static int fix_volume(names_run *r, strata_cur *v, const char *ns)
{
	strata_cur c[2], sources;

	if (v->node->type != STRATA_NODE_MAP)
		return 0;
	TRY(fix_at(r, v, "configMap", "name", "ConfigMap", ns));
	TRY(fix_at(r, v, "secret", "secretName", "Secret", ns));
	TRY(fix_at(r, v, "persistentVolumeClaim", "claimName",
		   "PersistentVolumeClaim", ns));
	TRY(fix_at(r, v, "azureFile", "secretName", "Secret", ns));
	TRY(fix_field(r, CUR_MAPS(c, v, "csi", "nodePublishSecretRef"), "name",
		      "Secret", ns));
	/* cephfs, cinder, flexVolume, iscsi, rbd, scaleIO, storageos */
	for (uint32_t i = 0; i < v->node->u.map.n; i++) {
		strata_cur src;
		TRY(fix_at(r, strata_cur_at(&src, v, i), "secretRef", "name",
			   "Secret", ns));
	}
	if (!strata_cur_seq(&sources, strata_cur_map(&c[0], v, "projected"), "sources"))
		return 0;
	for (uint32_t i = 0; i < sources.node->u.seq.n; i++) {
		strata_cur src;
		if (!strata_cur_at(&src, &sources, i))
			continue;
		TRY(fix_at(r, &src, "configMap", "name", "ConfigMap", ns));
		TRY(fix_at(r, &src, "secret", "name", "Secret", ns));
	}
	return 0;
}

static int fix_podspec(names_run *r, strata_cur *spec, const char *ns)
{
	strata_cur list, vols;

	for (const char *const *f = strata_schema_container_fields; *f; f++)
		if (strata_cur_seq(&list, spec, *f))
			TRY(fix_containers(r, &list, ns));
	for (uint32_t i = 0; strata_cur_seq(&vols, spec, "volumes") &&
			     i < vols.node->u.seq.n; i++) {
		strata_cur v;
		if (strata_cur_at(&v, &vols, i))
			TRY(fix_volume(r, &v, ns));
	}
	TRY(fix_list_names(r, strata_cur_seq(&list, spec, "imagePullSecrets"),
			   "Secret", ns));
	TRY(fix_field(r, spec, "serviceAccountName", "ServiceAccount", ns));
	TRY(fix_field(r, spec, "serviceAccount", "ServiceAccount", ns));
	TRY(fix_field(r, spec, "priorityClassName", "PriorityClass", ""));
	return 0;
}

/* Role and ClusterRole rules[].resourceNames[]: ConfigMaps and Secrets,
 * as kustomize's nameReference does (a ClusterRole's match any namespace). */
static int fix_rules(names_run *r, strata_cur *root, const char *ns)
{
	strata_cur rules;

	for (uint32_t i = 0; strata_cur_seq(&rules, root, "rules") &&
			     i < rules.node->u.seq.n; i++) {
		strata_cur rule, names;

		if (!strata_cur_seq(&names, strata_cur_at(&rule, &rules, i),
				    "resourceNames"))
			continue;
		for (uint32_t k = 0; k < names.node->u.seq.n; k++) {
			strata_cur n;
			const strata_node *before;

			if (!strata_cur_at(&n, &names, k))
				continue;
			before = n.node;
			TRY(fix(r, &n, "ConfigMap", ns));
			if (n.node == before)
				TRY(fix(r, &n, "Secret", ns));
		}
	}
	return 0;
}

/* A service reference with its own namespace field (webhooks, APIService). */
static int fix_service_ref(names_run *r, strata_cur *svc)
{
	const strata_node *ns;

	if (!svc)
		return 0;
	ns = scalar_child(svc->node, "namespace");
	return fix_field(r, svc, "name", "Service",
			 strata_map_get(svc->node, "namespace")
				 ? ns_norm(ns ? ns->u.scalar.str : NULL) : NULL);
}

static int fix_ingress_backend(names_run *r, strata_cur *b, const char *ns)
{
	TRY(fix_at(r, b, "service", "name", "Service", ns));
	TRY(fix_field(r, b, "serviceName", "Service", ns)); /* v1beta1 */
	return 0;
}

static int fix_ingress(names_run *r, strata_cur *spec, const char *ns)
{
	strata_cur c, rules, tls;

	TRY(fix_ingress_backend(r, strata_cur_map(&c, spec, "defaultBackend"), ns));
	TRY(fix_ingress_backend(r, strata_cur_map(&c, spec, "backend"), ns));
	for (uint32_t i = 0; strata_cur_seq(&rules, spec, "rules") &&
			     i < rules.node->u.seq.n; i++) {
		strata_cur rule, http, paths;

		if (!strata_cur_seq(&paths, strata_cur_map(&http, strata_cur_at(&rule, &rules, i),
							   "http"), "paths"))
			continue;
		for (uint32_t k = 0; k < paths.node->u.seq.n; k++) {
			strata_cur p, b;
			TRY(fix_ingress_backend(r, strata_cur_map(&b, strata_cur_at(&p, &paths, k),
								  "backend"), ns));
		}
	}
	for (uint32_t i = 0; strata_cur_seq(&tls, spec, "tls") &&
			     i < tls.node->u.seq.n; i++) {
		strata_cur t;
		TRY(fix_field(r, strata_cur_at(&t, &tls, i), "secretName", "Secret", ns));
	}
	return 0;
}

static int fix_binding(names_run *r, strata_cur *root, const char *ns)
{
	strata_cur ref, subjects;
	const strata_node *kind;

	if (strata_cur_map(&ref, root, "roleRef")) {
		kind = scalar_child(ref.node, "kind");
		if (strata_scalar_is(kind, "Role"))
			TRY(fix_field(r, &ref, "name", "Role", ns));
		else if (strata_scalar_is(kind, "ClusterRole"))
			TRY(fix_field(r, &ref, "name", "ClusterRole", ""));
	}
	for (uint32_t i = 0; strata_cur_seq(&subjects, root, "subjects") &&
			     i < subjects.node->u.seq.n; i++) {
		strata_cur sub;
		const strata_node *sns;

		if (!strata_cur_at(&sub, &subjects, i) ||
		    !strata_scalar_is(strata_map_get(sub.node, "kind"), "ServiceAccount"))
			continue;
		sns = strata_map_get(sub.node, "namespace");
		/* no namespace: any ServiceAccount of that name (as kustomize) */
		TRY(fix_field(r, &sub, "name", "ServiceAccount",
			      !sns ? NULL
				   : ns_norm(strata_node_is_scalar(sns) ? sns->u.scalar.str
									: NULL)));
	}
	return 0;
}

/* Every reference res makes to a renamed object of the set. */
static int fix_resource(names_run *r, strata_resource *res)
{
	const char *ns = ns_norm(res->ns);
	const strata_pod_location *loc = strata_schema_pod_location(res->group, res->kind);
	strata_cur root, spec, c[8], *sp, *pod;

	strata_cur_top(&root, &res->root);
	sp = strata_cur_map(&spec, &root, "spec");
	pod = loc ? cur_maps(c, 8, &root, loc->spec_path) : NULL;
	if (pod)
		TRY(fix_podspec(r, pod, ns));
	if (is_kind(res, "apps", "StatefulSet")) {
		strata_cur vcts;
		TRY(fix_field(r, sp, "serviceName", "Service", ns));
		for (uint32_t i = 0; strata_cur_seq(&vcts, sp, "volumeClaimTemplates") &&
				     i < vcts.node->u.seq.n; i++) {
			strata_cur vct;
			TRY(fix_at(r, strata_cur_at(&vct, &vcts, i), "spec", "storageClassName",
				   "StorageClass", ""));
		}
	} else if (is_kind(res, "", "PersistentVolumeClaim")) {
		TRY(fix_field(r, sp, "storageClassName", "StorageClass", ""));
		TRY(fix_field(r, sp, "volumeName", "PersistentVolume", ""));
	} else if (is_kind(res, GROUP_RBAC, "Role")) {
		TRY(fix_rules(r, &root, ns));
	} else if (is_kind(res, GROUP_RBAC, "ClusterRole")) {
		TRY(fix_rules(r, &root, NULL));
	} else if (is_binding(res))
		TRY(fix_binding(r, &root, ns));
	else if (!strcmp(res->kind, "Ingress") &&
		 (!strcmp(res->group, "networking.k8s.io") ||
		  !strcmp(res->group, "extensions")))
		TRY(fix_ingress(r, sp, ns));
	else if (is_kind(res, "autoscaling", "HorizontalPodAutoscaler")) {
		strata_cur *t = strata_cur_map(&c[0], sp, "scaleTargetRef");
		const strata_node *kind = t ? scalar_child(t->node, "kind") : NULL;
		if (kind)
			TRY(fix_field(r, t, "name", kind->u.scalar.str,
				      ref_ns(kind->u.scalar.str, res->ns)));
	} else if (is_kind(res, "", "ServiceAccount")) {
		TRY(fix_list_names(r, strata_cur_seq(&c[0], &root, "secrets"), "Secret", ns));
		TRY(fix_list_names(r, strata_cur_seq(&c[0], &root, "imagePullSecrets"),
				   "Secret", ns));
	} else if (is_kind(res, "", "PersistentVolume")) {
		strata_cur *cr;
		TRY(fix_field(r, sp, "storageClassName", "StorageClass", ""));
		cr = strata_cur_map(&c[0], sp, "claimRef");
		if (cr) {
			const strata_node *cns = scalar_child(cr->node, "namespace");
			TRY(fix_field(r, cr, "name", "PersistentVolumeClaim",
				      strata_map_get(cr->node, "namespace")
					      ? ns_norm(cns ? cns->u.scalar.str : NULL) : NULL));
		}
	} else if (is_kind(res, "apiregistration.k8s.io", "APIService")) {
		TRY(fix_service_ref(r, CUR_MAPS(c, sp, "service")));
	} else if (is_kind(res, "apiextensions.k8s.io", "CustomResourceDefinition")) {
		TRY(fix_service_ref(r, CUR_MAPS(c, sp, "conversion", "webhook",
						"clientConfig", "service")));
	} else if (is_kind(res, "admissionregistration.k8s.io",
			   "ValidatingWebhookConfiguration") ||
		   is_kind(res, "admissionregistration.k8s.io",
			   "MutatingWebhookConfiguration")) {
		strata_cur hooks;
		for (uint32_t i = 0; strata_cur_seq(&hooks, &root, "webhooks") &&
				     i < hooks.node->u.seq.n; i++) {
			strata_cur hook;
			TRY(fix_service_ref(r, CUR_MAPS(c, strata_cur_at(&hook, &hooks, i),
							"clientConfig", "service")));
		}
	}
	return 0;
}

/*
 * Rename every resource but Namespace, CustomResourceDefinition and
 * APIService (the kinds kustomize skips), then rewrite the references to
 * renamed objects of the set (see fix_resource: pod specs' env, envFrom,
 * volumes, imagePullSecrets and service accounts; StatefulSet serviceName;
 * binding roleRefs and ServiceAccount subjects; Ingress backends and TLS
 * secrets; HPA scaleTargetRef; ServiceAccount secrets; PersistentVolume
 * claimRef; webhook, APIService and CRD conversion services; priority
 * classes, storage classes, a claim's volumeName; Role/ClusterRole
 * resourceNames naming a ConfigMap or Secret).  A
 * reference matches by kind, name and namespace (the referrer's, unless
 * the reference names one); references to objects outside the set stay.
 */
/*
 * The renamed objects, by kind, namespace and old name.  moved_to, when
 * set, is the namespace every namespaced resource is about to be given
 * (the fused pass below builds this set before the namespace step has
 * run); NULL: the resources' namespaces are already final.
 */
static int names_setup(names_run *r, strata_arena *a, strata_resset *s,
		       const char *prefix, const char *suffix,
		       const char *moved_to, strata_error *err)
{
	size_t n = strata_resset_count(s);

	memset(r, 0, sizeof(*r));
	r->a = a;
	r->prefix = prefix ? prefix : "";
	r->suffix = suffix ? suffix : "";
	r->plen = strlen(r->prefix);
	r->slen = strlen(r->suffix);
	r->err = err;
	/* two keys a resource: the arrays made once, at their size */
	if (n && keyset_grow(&r->renamed, 2 * n) < 0)
		return oom(err);
	for (size_t i = 0; i < n; i++) {
		strata_resource *res = strata_resset_at(s, i);
		const char *ns;

		if (res->deleted || keeps_name(res))
			continue;
		ns = strata_kind_cluster_scoped(res->group, res->kind) ? ""
			: ns_norm(moved_to ? moved_to : res->ns);
		if (keyset_add(&r->renamed, res->kind, ns, res->name) < 0 ||
		    keyset_add(&r->renamed, res->kind, NULL, res->name) < 0)
			return oom(err);
	}
	return 0;
}

/* Give one resource its new name (not its references: fix_resource). */
static int names_rename(names_run *r, strata_resource *res)
{
	strata_cur root, meta, name;

	if (keeps_name(res))
		return 0;
	strata_cur_top(&root, &res->root);
	if (!scalar_cur(&name, strata_cur_map(&meta, &root, "metadata"), "name"))
		return 0;
	if (new_name(r, name.node->u.scalar.str, name.node->u.scalar.len) < 0 ||
	    set_string(r->a, &name, r->buf.ptr, r->buf.len) < 0)
		return oom(r->err);
	return 0;
}

static void names_free(names_run *r)
{
	keyset_free(&r->renamed);
	strata_buf_free(&r->buf);
}

static int names_run_all(strata_arena *a, strata_resset *s, const char *prefix,
			 const char *suffix, strata_error *err)
{
	names_run r;
	size_t n = strata_resset_count(s);
	int rc = 0;

	if ((!prefix || !prefix[0]) && (!suffix || !suffix[0]))
		return 0;
	if ((rc = names_setup(&r, a, s, prefix, suffix, NULL, err)) < 0)
		goto done;
	for (size_t i = 0; i < n; i++) {
		strata_resource *res = strata_resset_at(s, i);
		if (!res->deleted && (rc = names_rename(&r, res)) < 0)
			goto done;
	}
	/*
	 * References are matched against the old names: res->name and
	 * res->ns still hold the identity from before the rename until the
	 * reindex below.
	 */
	for (size_t i = 0; i < n; i++) {
		strata_resource *res = strata_resset_at(s, i);
		if (!res->deleted && (rc = fix_resource(&r, res)) < 0)
			goto done;
	}
	rc = strata_resset_reindex(s, err);
done:
	names_free(&r);
	return rc;
}

int strata_transform_names(strata_arena *a, strata_resset *s, const char *prefix,
			   const char *suffix, strata_error *err)
{
	return names_run_all(a, s, prefix, suffix, err);
}


/* ---- labels and annotations ---- */

/*
 * The labels or annotations of one metadata transform: the value nodes are
 * made once and shared by every resource (the transform is the pipeline's
 * last edit, and a later put replaces the pair's value instead of editing
 * the node), which saves a node and its text per resource and label.
 */
typedef struct meta_kvs {
	const strata_kvlist *kvs;
	strata_node **vals;
} meta_kvs;

static int meta_kvs_init(strata_arena *a, meta_kvs *m, const strata_kvlist *kvs)
{
	m->kvs = kvs;
	m->vals = NULL;
	if (!kvs || !kvs->n)
		return 0;
	m->vals = strata_arena_alloc(a, kvs->n * sizeof(*m->vals));
	if (!m->vals)
		return STRATA_ENOMEM;
	for (size_t i = 0; i < kvs->n; i++) {
		m->vals[i] = strata_node_scalar_str(a, kvs->items[i].value ? kvs->items[i].value : "",
						    STRATA_STYLE_STRING);
		if (!m->vals[i])
			return STRATA_ENOMEM;
	}
	return 0;
}

static int put_all(strata_arena *a, strata_cur *parent, const char *field,
		   const meta_kvs *m, const char *path, const char *what,
		   strata_error *err)
{
	strata_cur mc;
	strata_node *map;

	if (!m || !m->kvs || !m->kvs->n || !parent)
		return 0;
	if (!ensure_map(a, parent, field, path, what, &mc, err))
		return err && err->code ? err->code : STRATA_ENOMEM;
	/* one exact array for all of them, not doublings left in the arena */
	if (m->kvs->n > UINT32_MAX ||
	    !(map = strata_cur_own(a, &mc, (uint32_t)m->kvs->n)) ||
	    strata_map_reserve(a, map, (uint32_t)m->kvs->n) < 0)
		return oom(err);
	for (size_t i = 0; i < m->kvs->n; i++)
		if (strata_map_set(a, map, m->kvs->items[i].key, m->vals[i]) < 0)
			return oom(err);
	return 0;
}

/* labels and annotations on the metadata map inside tmpl (a template) */
static int put_template(strata_arena *a, strata_cur *tmpl, const meta_kvs *labels,
			const meta_kvs *annotations, const char *path,
			strata_error *err)
{
	strata_cur meta;

	if (!tmpl || ((!labels || !labels->kvs || !labels->kvs->n) &&
		      (!annotations || !annotations->kvs || !annotations->kvs->n)))
		return 0;
	if (!ensure_map(a, tmpl, "metadata", path, "metadata", &meta, err))
		return err && err->code ? err->code : STRATA_ENOMEM;
	TRY(put_all(a, &meta, "labels", labels, path, "metadata.labels", err));
	TRY(put_all(a, &meta, "annotations", annotations, path, "metadata.annotations", err));
	return 0;
}

static int metadata_resource(strata_arena *a, strata_resource *r,
			     const meta_kvs *labels,
			     const meta_kvs *annotations, strata_error *err)
{
	const strata_pod_location *loc = strata_schema_pod_location(r->group, r->kind);
	strata_cur root, c[8], *tmpl;

	strata_cur_top(&root, &r->root);
	TRY(put_template(a, &root, labels, annotations, NULL, err));
	/* Pod: the template is the resource itself (an empty path) */
	tmpl = loc && loc->template_path[0] ? cur_maps(c, 8, &root, loc->template_path)
					    : NULL;
	if (tmpl)
		TRY(put_template(a, tmpl, labels, annotations, "pod template", err));
	if (is_kind(r, "batch", "CronJob"))
		TRY(put_template(a, CUR_MAPS(c, &root, "spec", "jobTemplate"),
				 labels, annotations, "spec.jobTemplate", err));
	if (is_kind(r, "apps", "StatefulSet") && labels->kvs && labels->kvs->n) {
		/* kustomize labels the claims too (annotations it does not) */
		strata_cur *vcts = strata_cur_seq(&c[1], strata_cur_map(&c[0], &root, "spec"),
						  "volumeClaimTemplates");
		for (uint32_t i = 0; vcts && i < vcts->node->u.seq.n; i++) {
			strata_cur vct;
			if (strata_cur_at(&vct, vcts, i) &&
			    vct.node->type == STRATA_NODE_MAP)
				TRY(put_template(a, &vct, labels, NULL,
						 "spec.volumeClaimTemplates[]", err));
		}
	}
	return 0;
}

/*
 * Labels go on metadata.labels of every resource and on the metadata of
 * pod templates (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job,
 * ReplicationController, PodTemplate: template; CronJob: jobTemplate and
 * its pod template) and StatefulSet volumeClaimTemplates, as kustomize's
 * `labels` with includeTemplates does; never on selectors.  Annotations
 * go on metadata.annotations and the same templates (not the claims), as
 * kustomize's commonAnnotations.  Values are strings (`yes` is quoted).
 */
int strata_transform_metadata(strata_arena *a, strata_resset *s,
			      const strata_kvlist *labels,
			      const strata_kvlist *annotations, strata_error *err)
{
	meta_kvs lab, ann;

	if ((!labels || !labels->n) && (!annotations || !annotations->n))
		return 0;
	if (meta_kvs_init(a, &lab, labels) || meta_kvs_init(a, &ann, annotations))
		return oom(err);
	for (size_t i = 0; i < strata_resset_count(s); i++) {
		strata_resource *r = strata_resset_at(s, i);
		if (!r->deleted)
			TRY(metadata_resource(a, r, &lab, &ann, err));
	}
	return 0;
}

/* ---- namespace, names and metadata in one pass ---- */

/*
 * Room in metadata, at once, for every key the pass will add to it
 * (namespace, labels, annotations): added one by one, the pair array
 * grew twice, and an arena keeps every array it outgrew (4 MB at 40,000
 * resources).
 */
static int metadata_room(strata_arena *a, strata_resource *res, bool ns,
			 const meta_kvs *lab, const meta_kvs *ann)
{
	strata_cur root, meta;
	uint32_t extra = 0;

	strata_cur_top(&root, &res->root);
	if (!strata_cur_map(&meta, &root, "metadata"))
		return 0;
	if (ns && !strata_kind_cluster_scoped(res->group, res->kind) &&
	    !strata_map_get(meta.node, "namespace"))
		extra++;
	if (lab->kvs && lab->kvs->n && !strata_map_get(meta.node, "labels"))
		extra++;
	if (ann->kvs && ann->kvs->n && !strata_map_get(meta.node, "annotations"))
		extra++;
	if (!extra)
		return 0;
	if (!strata_cur_own(a, &meta, extra) ||
	    strata_map_reserve(a, meta.node, extra) < 0)
		return STRATA_ENOMEM;
	return 0;
}

/*
 * The last three transforms of a render (pipeline.h), resource by
 * resource: each resource's tree is walked once while it is in the cache
 * instead of once per transform over the whole set, which at 40,000
 * resources is many times the cache.  The sets the namespace and names
 * steps match references against are built first, from the identities
 * alone: the namespace step's from the namespaces before it, the names
 * step's from those after it, which are known in advance (every namespaced
 * resource moves to ns).  The result is that of namespace_run,
 * names_run_all and strata_transform_metadata in a row.  Out of memory
 * aside, only the metadata step can fail (a metadata or labels that is not
 * a map); then every other resource still gets its labels, and the error
 * of the first resource in set order that failed is returned.
 *
 * With jobs > 1 and enough resources, the resources are shared out in
 * chunks on the helper threads (pool.h) or threads of the pass's own,
 * each with an arena of its own that a adopts at the end.  A resource's
 * pass reads only the sets built first and writes only its own tree, so
 * the result does not depend on which thread took it.
 */
#define FIN_CHUNK 64
/* 400 resources took 0.83 ms on one thread, 0.92 on two: a helper reads
 * trees the caller's cache holds, and wakes 0.1 ms late */
#define FIN_MIN_PER_JOB 512
#define FIN_MAX_JOBS 16

typedef struct fin_worker {
	strata_arena *a;
	image_run ir;
	ns_run nr;         /* a copy: the objs set shared, ns_node its own */
	names_run mr;      /* a copy: the renamed set shared, buf its own */
	strata_error err;  /* out of memory, in any step */
	strata_error meta_err; /* the first metadata failure */
	size_t meta_at;    /* the first resource its metadata failed on */
	int rc, meta_rc;
} fin_worker;

typedef struct fin_pass {
	strata_resset *s;
	size_t n;
	bool do_ns, do_names, do_meta;
	const meta_kvs *lab, *ann;
	atomic_size_t next;  /* the first resource of the next chunk */
	atomic_bool stop;    /* out of memory somewhere: everyone stops */
	fin_worker *ws;
} fin_pass;

/* One resource through all four steps; < 0 only when out of memory. */
static int fin_one(const fin_pass *p, fin_worker *w, size_t i)
{
	strata_resource *res = strata_resset_at(p->s, i);
	int rc;

	if (res->deleted)
		return 0;
	/* images first, as when they were a step of their own */
	if (w->ir.n && (rc = image_resource(&w->ir, res)) < 0)
		return rc;
	if ((p->do_ns || p->do_meta) &&
	    metadata_room(w->a, res, p->do_ns, p->lab, p->ann) < 0)
		return oom(&w->err);
	if (p->do_ns) {
		if ((rc = ns_resource(&w->nr, res)) < 0)
			return rc;
		/* the names step reads the referrer's new namespace,
		 * and refreshes the hashes after renaming */
		if (p->do_names)
			strata_resource_refresh_fields(res, w->a);
		else
			strata_resource_refresh(res, w->a);
	}
	if (p->do_names) {
		if ((rc = names_rename(&w->mr, res)) < 0)
			return rc;
		/* the new name, while the tree is in the cache: the
		 * caller's reindex need not read every tree again */
		strata_resource_refresh(res, w->a);
		if ((rc = fix_resource(&w->mr, res)) < 0)
			return rc;
	}
	if (p->do_meta) {
		/* a record of its own each time: after one resource failed,
		 * a later one's error (out of memory above all) must not meet
		 * a record already set, which keeps the first */
		strata_error me;

		strata_error_clear(&me);
		rc = metadata_resource(w->a, res, p->lab, p->ann, &me);
		if (rc == STRATA_ENOMEM)
			return oom(&w->err);
		/* chunks come in set order: a worker's first is its lowest */
		if (rc < 0 && !w->meta_rc) {
			w->meta_rc = rc;
			w->meta_at = i;
			w->meta_err = me;
		}
	}
	return 0;
}

/* strata_pool_step's view: chunks from the shared counter until none. */
static void fin_run(void *ctx, unsigned k)
{
	fin_pass *p = ctx;
	fin_worker *w = &p->ws[k];

	for (;;) {
		size_t i = atomic_fetch_add(&p->next, FIN_CHUNK);
		size_t end = i + FIN_CHUNK < p->n ? i + FIN_CHUNK : p->n;

		if (i >= p->n || atomic_load(&p->stop))
			return;
		for (; i < end; i++)
			if ((w->rc = fin_one(p, w, i)) < 0) {
				atomic_store(&p->stop, true);
				return;
			}
	}
}

static void fin_worker_init(fin_worker *w, strata_arena *a,
			    const strata_image_rules *images, const ns_run *nr,
			    const names_run *mr)
{
	memset(w, 0, sizeof(*w));
	w->a = a;
	image_run_init(&w->ir, a, images, &w->err);
	w->nr = *nr;
	w->nr.a = a;
	w->nr.ns_node = NULL;
	w->nr.err = &w->err;
	w->mr = *mr;
	w->mr.a = a;
	memset(&w->mr.buf, 0, sizeof(w->mr.buf));
	w->mr.err = &w->err;
	w->meta_at = SIZE_MAX;
}

int strata_transform_finish_unindexed(strata_arena *a, strata_resset *s,
				      const strata_image_rules *images,
				      const char *ns, const char *prefix,
				      const char *suffix,
				      const strata_kvlist *labels,
				      const strata_kvlist *annotations,
				      unsigned jobs, strata_error *err)
{
	fin_worker ws[FIN_MAX_JOBS];
	fin_pass p;
	ns_run nr;
	names_run mr;
	meta_kvs lab, ann;
	size_t n = strata_resset_count(s), ready = 1;
	const fin_worker *first = NULL;
	int rc = 0;

	memset(&p, 0, sizeof(p));
	p.s = s;
	p.n = n;
	p.do_ns = ns && ns[0];
	p.do_names = (prefix && prefix[0]) || (suffix && suffix[0]);
	p.do_meta = (labels && labels->n) || (annotations && annotations->n);
	p.lab = &lab;
	p.ann = &ann;
	p.ws = ws;
	atomic_init(&p.next, 0);
	atomic_init(&p.stop, false);
	memset(&nr, 0, sizeof(nr));
	memset(&mr, 0, sizeof(mr));
	memset(&lab, 0, sizeof(lab));
	memset(&ann, 0, sizeof(ann));
	if (p.do_ns && (rc = ns_setup(&nr, a, s, ns, err)) < 0)
		goto done;
	if (p.do_names &&
	    (rc = names_setup(&mr, a, s, prefix, suffix, p.do_ns ? ns : NULL, err)) < 0)
		goto done;
	if (p.do_meta && (meta_kvs_init(a, &lab, labels) || meta_kvs_init(a, &ann, annotations))) {
		rc = oom(err);
		goto done;
	}
	if (jobs > FIN_MAX_JOBS)
		jobs = FIN_MAX_JOBS;
	if (jobs > n / FIN_MIN_PER_JOB)
		jobs = (unsigned)(n / FIN_MIN_PER_JOB);
	fin_worker_init(&ws[0], a, images, &nr, &mr);
	for (; ready < jobs; ready++) {
		/* copy-on-write as a, and from a's spare chunks (render --all) */
		strata_arena *wa = strata_arena_new_like(a);
		if (!wa)
			break; /* fewer threads: the same result, later */
		fin_worker_init(&ws[ready], wa, images, &nr, &mr);
	}
	strata_pool_step((unsigned)ready, true, fin_run, &p);
	for (size_t k = 0; k < ready; k++) {
		fin_worker *w = &ws[k];
		if (k)
			strata_arena_adopt(a, w->a);
		strata_buf_free(&w->ir.buf);
		strata_buf_free(&w->mr.buf);
		if (w->rc < 0 && !rc) {
			rc = w->rc;
			if (!err->code)
				*err = w->err;
		}
		if (w->meta_rc && (!first || w->meta_at < first->meta_at))
			first = w;
	}
	if (!rc && first) {
		rc = first->meta_rc;
		if (!err->code)
			*err = first->meta_err;
	}
done:
	keyset_free(&nr.objs);
	names_free(&mr);
	return rc;
}
