/*
 * resource.h - Kubernetes resources and the set a render works on.
 *
 * A resource is one YAML document with apiVersion, kind and metadata.name.
 * Its identity is (API group, kind, namespace, name); the set indexes
 * identities in hash tables so lookups and patch matching stay O(1) and a
 * render stays linear in the number of resources.
 */
#ifndef STRATA_RESOURCE_H
#define STRATA_RESOURCE_H

#include "doc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct strata_resource {
	strata_node *root;
	const char *file;       /* source path (repository-relative) */
	uint32_t line, col;     /* where the document starts */
	/* Identity, refreshed by strata_resource_refresh(); strings live in
	 * the document or the arena.  "" when absent (group of core kinds,
	 * namespace of unnamespaced resources). */
	const char *group;
	const char *version;
	const char *kind;
	const char *ns;
	const char *name;
	uint32_t index;         /* insertion order in its set */
	/* Set with the identity by strata_resource_init and _refresh (code
	 * that changes the fields above calls strata_resource_refresh): a set
	 * indexes and sorts 40,000 resources an environment without reading
	 * their strings, which lie all over the parsed documents. */
	uint32_t id_hash;       /* of (group, kind, ns, name) */
	uint32_t name_hash;     /* of (group, kind, name) */
	int16_t rank;           /* strata_kind_rank(kind) */
	bool deleted;           /* removed by $patch: delete */
	/* No scalar of the tree holds a '$', so the variables' pass skips it:
	 * set from the document's strata_yaml_doc.dollar_free where a
	 * resource is made from one (render.c), kept by a patch only when the
	 * patch's document is dollar-free too.  false (look) otherwise:
	 * strata_resource_init clears it. */
	bool dollar_free;
} strata_resource;

/*
 * Check root is a resource (a map with string apiVersion, kind and
 * metadata.name) and fill r.  STRATA_EPARSE with the position otherwise.
 */
int strata_resource_init(strata_resource *r, strata_arena *a, strata_node *root,
			 const char *file, uint32_t line, uint32_t col,
			 strata_error *err);
/* Re-read the identity fields after the document changed (the group is
 * copied into a when it changed). */
void strata_resource_refresh(strata_resource *r, strata_arena *a);
/* "apps/Deployment shop/web" style label for messages (arena string). */
const char *strata_resource_label(strata_arena *a, const strata_resource *r);

typedef struct strata_resset strata_resset;

strata_resset *strata_resset_new(strata_arena *a);
/*
 * Add a resource (copied into the set's arena).  STRATA_ECONFLICT when
 * one with the same identity is present (the message names both places).
 */
int strata_resset_add(strata_resset *s, const strata_resource *r,
		      strata_resource **out, strata_error *err);
size_t strata_resset_count(const strata_resset *s); /* including deleted */
strata_resource *strata_resset_at(const strata_resset *s, size_t i);
/* Exact lookup; ns "" for unnamespaced. */
strata_resource *strata_resset_find(const strata_resset *s, const char *group,
				    const char *kind, const char *ns,
				    const char *name);
/*
 * Find the one resource a patch targets: ns NULL matches any namespace.
 * STRATA_ENOTFOUND (with did-you-mean from the names of the same kind) or
 * STRATA_EAMBIGUOUS, positioned at the patch (file/line/col).
 */
int strata_resset_match(strata_resource **out, const strata_resset *s,
			const char *group, const char *kind, const char *ns,
			const char *name, const char *file, uint32_t line,
			uint32_t col, strata_error *err);
/*
 * Room for n resources in all, allocated at once (adding one at a time
 * doubles the arrays and tables, and an arena keeps every one it
 * outgrew).  0 or STRATA_ENOMEM.
 */
int strata_resset_reserve(strata_resset *s, size_t n);
/* Mark r deleted and drop it from the index. */
void strata_resset_delete(strata_resset *s, strata_resource *r);
/*
 * Rebuild the identity index after names/namespaces changed: every live
 * resource's identity is refreshed (strata_resource_refresh), then
 * indexed.  Two resources of one identity: STRATA_ECONFLICT, positioned
 * at the later one (the index is complete all the same).
 */
int strata_resset_reindex(strata_resset *s, strata_error *err);
/* The same when the caller refreshed every changed identity already. */
int strata_resset_reindex_fresh(strata_resset *s, strata_error *err);
/*
 * Output order: kustomize's legacy kind order, then group, version,
 * namespace, name.  Deleted resources are dropped.  The returned array is
 * arena memory of *n entries.
 */
strata_resource **strata_resset_sorted(const strata_resset *s, size_t *n);

/* kustomize's legacy order rank of a kind (lower first). */
int strata_kind_rank(const char *kind);
/* Kinds Kubernetes defines without a namespace. */
bool strata_kind_cluster_scoped(const char *group, const char *kind);

#ifdef __cplusplus
}
#endif
#endif
