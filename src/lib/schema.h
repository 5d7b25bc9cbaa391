/*
 * schema.h - the one place that knows how Kubernetes objects are shaped.
 *
 * A small static type tree, following the patchMergeKey / patchStrategy
 * tags of the Kubernetes API types: which lists merge by key (and on which
 * fields), which lists of scalars merge as sets, which maps are "retainKeys"
 * unions, and where pod templates live.  Only fields that need something
 * other than the default are described; everything else is "maps merge
 * recursively, lists replace", which is also what kinds strata does not know
 * (CRDs) get everywhere.
 *
 * Every pointer handed out here points into static, read-only data: it is
 * never freed and is safe to share between threads.
 *
 * Users: merge.c (strategic merge), the transforms (pod templates,
 * container lists) and the diff (keyed lists compared by key).
 */
#ifndef STRATA_SCHEMA_H
#define STRATA_SCHEMA_H

#include "strata/doc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum strata_schema_type {
	STRATA_SCHEMA_MAP = 1,  /* an object: named fields */
	STRATA_SCHEMA_LIST = 2, /* a list: merge keys or set semantics */
} strata_schema_type;

/* Flags */
/* map: a union whose members replace each other (see retain rules below) */
#define STRATA_SCHEMA_RETAIN_KEYS 0x01u
/* list of scalars merged as a set: union, base order, new items appended */
#define STRATA_SCHEMA_SET 0x02u

typedef struct strata_schema strata_schema;

typedef struct strata_schema_entry {
	const char *name;
	const strata_schema *schema;
} strata_schema_entry;

/* At most two merge keys (e.g. containerPort + protocol). */
#define STRATA_SCHEMA_MAX_KEYS 2

struct strata_schema {
	uint8_t type;   /* strata_schema_type */
	uint8_t flags;  /* STRATA_SCHEMA_* */

	/* --- STRATA_SCHEMA_MAP --- */
	/* Fields with a schema, terminated by { NULL, NULL }; may be NULL. */
	const strata_schema_entry *fields;
	/*
	 * retainKeys maps (STRATA_SCHEMA_RETAIN_KEYS).  When a patch switches
	 * the union to another member, base keys the patch does not give are
	 * dropped, except those in retain_always (NULL-terminated, may be
	 * NULL).  "Switches" means:
	 *  - with a discriminator (Deployment strategy: "type", default
	 *    "RollingUpdate"): the patch sets the discriminator to a value
	 *    other than the base's (a missing base value counts as the
	 *    default);
	 *  - without one (pod volumes: the source): the patch gives any key
	 *    outside retain_always.
	 */
	const char *discriminator;
	const char *discriminator_default;
	const char *const *retain_always;

	/* --- STRATA_SCHEMA_LIST --- */
	/*
	 * Merge keys: nkeys == 0 means "replace" unless STRATA_SCHEMA_SET.
	 * keys[0] is always required in a patch item; keys[i] with a non-NULL
	 * key_defaults[i] may be omitted on either side and then means the
	 * default (protocol: "TCP").
	 */
	uint8_t nkeys;
	const char *keys[STRATA_SCHEMA_MAX_KEYS];
	const char *key_defaults[STRATA_SCHEMA_MAX_KEYS];
	const strata_schema *item; /* schema of each item (may be NULL) */
};

/*
 * The schema of a resource's root (a map), or NULL for kinds strata does
 * not know (CRDs): callers then merge maps and replace lists everywhere.
 * group is the API group ("" or NULL for core, "apps", "batch", ...).
 * Deployment, StatefulSet, DaemonSet and ReplicaSet are accepted in both
 * "apps" and the old "extensions" group.
 */
const strata_schema *strata_schema_for(const char *group, const char *kind);

/* The schema of field in a map schema, or NULL (no schema: default
 * rules).  map_schema may be NULL or a list schema (then NULL). */
const strata_schema *strata_schema_field(const strata_schema *map_schema,
					 const char *field);
/* Same with a length-delimited field name. */
const strata_schema *strata_schema_fieldn(const strata_schema *map_schema,
					  const char *field, size_t len);

/* The item schema of a list schema, or NULL. */
const strata_schema *strata_schema_item(const strata_schema *list_schema);

/* True when list_schema merges by key (nkeys > 0). */
bool strata_schema_is_keyed(const strata_schema *list_schema);
/* True when list_schema is a set of scalars (finalizers). */
bool strata_schema_is_set(const strata_schema *list_schema);

/*
 * The merge-key values of one list item.  For each key i < list->nkeys,
 * v[i]/len[i] is the item's scalar text, or the key's default when the
 * item omits it.  Returns true when every key has a value; false when the
 * item is not a map, a key without default is missing, or a key's value is
 * not a scalar (then *bad_key names that key, when bad_key is non-NULL).
 */
typedef struct strata_schema_key {
	const char *v[STRATA_SCHEMA_MAX_KEYS];
	size_t len[STRATA_SCHEMA_MAX_KEYS];
} strata_schema_key;

bool strata_schema_item_key(const strata_schema *list_schema,
			    const strata_node *item, strata_schema_key *out,
			    const char **bad_key);
/* Two keys of the same list are equal. */
bool strata_schema_key_equal(const strata_schema *list_schema,
			     const strata_schema_key *a,
			     const strata_schema_key *b);
/* A hash of a key (strata_hash over the values). */
uint64_t strata_schema_key_hash(const strata_schema *list_schema,
				const strata_schema_key *k);

/*
 * Where a kind keeps its pods.  Paths are NULL-terminated arrays of map
 * keys from the resource root:
 *   template: the pod template (the map holding the pod's metadata and
 *             spec).  For Pod this is the empty path: the resource itself.
 *   spec:     the PodSpec (holding containers, volumes, ...).
 * Pod: spec; PodTemplate: template(.spec); Deployment, StatefulSet,
 * DaemonSet, ReplicaSet, Job: spec.template(.spec); CronJob:
 * spec.jobTemplate.spec.template(.spec).
 * Returns NULL for kinds without pods.
 */
typedef struct strata_pod_location {
	const char *const *template_path;
	const char *const *spec_path;
} strata_pod_location;

const strata_pod_location *strata_schema_pod_location(const char *group,
							const char *kind);

/* Convenience: the pod template / PodSpec node of a resource root, or
 * NULL when the kind has none or the document lacks it.  Borrowed. */
strata_node *strata_schema_pod_template(const strata_node *root,
					const char *group, const char *kind);
strata_node *strata_schema_pod_spec(const strata_node *root,
				    const char *group, const char *kind);

/* The PodSpec fields that hold containers, NULL-terminated:
 * "initContainers", "containers", "ephemeralContainers". */
extern const char *const strata_schema_container_fields[];

/* True when kind/group is a Kubernetes kind strata knows (has a schema). */
static inline bool strata_schema_known(const char *group, const char *kind)
{
	return strata_schema_for(group, kind) != NULL;
}

#ifdef __cplusplus
}
#endif
#endif
