/*
 * schema.c - the Kubernetes type tree strata merges, transforms and diffs
 * with: the list merge-key table, set lists, retainKeys unions and where
 * each kind keeps its pods.
 *
 * The tree is static data built bottom-up (leaves first), transcribed from
 * the patchMergeKey / patchStrategy / listMapKey tags of k8s.io/api.  Only
 * fields whose merge differs from the default (maps merge, lists replace)
 * or that lead to such fields are listed.  Lists the API marks atomic or
 * leaves untagged (tolerations, envFrom, readinessGates, affinity terms,
 * RBAC rules, ...) are deliberately absent: they replace.
 */
#include "schema.h"

#include <string.h>

#define END { NULL, NULL }

/* Shorthands for the table below. */
#define KEYED1(k, item_) \
	{ .type = STRATA_SCHEMA_LIST, .nkeys = 1, .keys = { k, NULL }, \
	  .item = item_ }
#define MAP(fields_) { .type = STRATA_SCHEMA_MAP, .fields = fields_ }

/* ---- metadata (every kind) ---- */

static const strata_schema finalizers_schema = {
	.type = STRATA_SCHEMA_LIST, .flags = STRATA_SCHEMA_SET,
};
static const strata_schema owner_refs_schema = KEYED1("uid", NULL);

static const strata_schema_entry meta_fields[] = {
	{ "finalizers", &finalizers_schema },
	{ "ownerReferences", &owner_refs_schema },
	END
};
static const strata_schema meta_schema = MAP(meta_fields);

/* ---- containers ---- */

static const strata_schema env_schema = KEYED1("name", NULL);
static const strata_schema volume_mounts_schema = KEYED1("mountPath", NULL);
static const strata_schema volume_devices_schema = KEYED1("devicePath", NULL);
/* patchMergeKey containerPort, listMapKeys containerPort + protocol; the
 * API server defaults protocol to TCP, so a missing one means TCP. */
static const strata_schema container_ports_schema = {
	.type = STRATA_SCHEMA_LIST, .nkeys = 2,
	.keys = { "containerPort", "protocol" },
	.key_defaults = { NULL, "TCP" },
};

static const strata_schema_entry container_fields[] = {
	{ "env", &env_schema },
	{ "volumeMounts", &volume_mounts_schema },
	{ "volumeDevices", &volume_devices_schema },
	{ "ports", &container_ports_schema },
	END
};
static const strata_schema container_schema = MAP(container_fields);
static const strata_schema containers_schema = KEYED1("name", &container_schema);

/* ---- pod spec ---- */

static const char *const name_only[] = { "name", NULL };

/* Volume: patchStrategy merge,retainKeys - a volume is a name plus one
 * source, and switching the source must drop the old one. */
static const strata_schema volume_schema = {
	.type = STRATA_SCHEMA_MAP, .flags = STRATA_SCHEMA_RETAIN_KEYS,
	.retain_always = name_only,
};
static const strata_schema volumes_schema = KEYED1("name", &volume_schema);

/* PodResourceClaim: merge,retainKeys as well (name plus one source). */
static const strata_schema resource_claim_schema = {
	.type = STRATA_SCHEMA_MAP, .flags = STRATA_SCHEMA_RETAIN_KEYS,
	.retain_always = name_only,
};
static const strata_schema resource_claims_schema =
	KEYED1("name", &resource_claim_schema);

static const strata_schema name_keyed_schema = KEYED1("name", NULL);
static const strata_schema host_aliases_schema = KEYED1("ip", NULL);
/* listMapKeys topologyKey + whenUnsatisfiable (both required fields). */
static const strata_schema topology_spread_schema = {
	.type = STRATA_SCHEMA_LIST, .nkeys = 2,
	.keys = { "topologyKey", "whenUnsatisfiable" },
};

static const strata_schema_entry pod_spec_fields[] = {
	{ "containers", &containers_schema },
	{ "initContainers", &containers_schema },
	{ "ephemeralContainers", &containers_schema },
	{ "volumes", &volumes_schema },
	{ "imagePullSecrets", &name_keyed_schema },
	{ "hostAliases", &host_aliases_schema },
	{ "topologySpreadConstraints", &topology_spread_schema },
	{ "resourceClaims", &resource_claims_schema },
	{ "schedulingGates", &name_keyed_schema },
	END
};
static const strata_schema pod_spec_schema = MAP(pod_spec_fields);

static const strata_schema_entry pod_template_fields[] = {
	{ "metadata", &meta_schema },
	{ "spec", &pod_spec_schema },
	END
};
static const strata_schema pod_template_schema = MAP(pod_template_fields);

/* ---- kinds ---- */

/* Any kind strata knows but has nothing special beyond metadata. */
static const strata_schema_entry object_fields[] = {
	{ "metadata", &meta_schema },
	END
};
static const strata_schema object_schema = MAP(object_fields);

/* Pod */
static const strata_schema_entry pod_fields[] = {
	{ "metadata", &meta_schema },
	{ "spec", &pod_spec_schema },
	END
};
static const strata_schema pod_schema = MAP(pod_fields);

/* PodTemplate: the template sits at the root's "template". */
static const strata_schema_entry podtemplate_fields[] = {
	{ "metadata", &meta_schema },
	{ "template", &pod_template_schema },
	END
};
static const strata_schema podtemplate_schema = MAP(podtemplate_fields);

/* StatefulSet, DaemonSet, ReplicaSet, Job: spec.template */
static const strata_schema_entry workload_spec_fields[] = {
	{ "template", &pod_template_schema },
	END
};
static const strata_schema workload_spec_schema = MAP(workload_spec_fields);
static const strata_schema_entry workload_fields[] = {
	{ "metadata", &meta_schema },
	{ "spec", &workload_spec_schema },
	END
};
static const strata_schema workload_schema = MAP(workload_fields);

/* Deployment: spec.template plus the retainKeys strategy. */
static const strata_schema deploy_strategy_schema = {
	.type = STRATA_SCHEMA_MAP, .flags = STRATA_SCHEMA_RETAIN_KEYS,
	.discriminator = "type", .discriminator_default = "RollingUpdate",
};
static const strata_schema_entry deploy_spec_fields[] = {
	{ "template", &pod_template_schema },
	{ "strategy", &deploy_strategy_schema },
	END
};
static const strata_schema deploy_spec_schema = MAP(deploy_spec_fields);
static const strata_schema_entry deploy_fields[] = {
	{ "metadata", &meta_schema },
	{ "spec", &deploy_spec_schema },
	END
};
static const strata_schema deploy_schema = MAP(deploy_fields);

/* CronJob: spec.jobTemplate.{metadata,spec.template} */
static const strata_schema_entry job_template_fields[] = {
	{ "metadata", &meta_schema },
	{ "spec", &workload_spec_schema },
	END
};
static const strata_schema job_template_schema = MAP(job_template_fields);
static const strata_schema_entry cronjob_spec_fields[] = {
	{ "jobTemplate", &job_template_schema },
	END
};
static const strata_schema cronjob_spec_schema = MAP(cronjob_spec_fields);
static const strata_schema_entry cronjob_fields[] = {
	{ "metadata", &meta_schema },
	{ "spec", &cronjob_spec_schema },
	END
};
static const strata_schema cronjob_schema = MAP(cronjob_fields);

/* Service: spec.ports keyed on port + protocol (default TCP). */
static const strata_schema service_ports_schema = {
	.type = STRATA_SCHEMA_LIST, .nkeys = 2,
	.keys = { "port", "protocol" },
	.key_defaults = { NULL, "TCP" },
};
static const strata_schema_entry service_spec_fields[] = {
	{ "ports", &service_ports_schema },
	END
};
static const strata_schema service_spec_schema = MAP(service_spec_fields);
static const strata_schema_entry service_fields[] = {
	{ "metadata", &meta_schema },
	{ "spec", &service_spec_schema },
	END
};
static const strata_schema service_schema = MAP(service_fields);

/* ServiceAccount: secrets merge by name (its imagePullSecrets replace). */
static const strata_schema_entry service_account_fields[] = {
	{ "metadata", &meta_schema },
	{ "secrets", &name_keyed_schema },
	END
};
static const strata_schema service_account_schema = MAP(service_account_fields);

/* Mutating/ValidatingWebhookConfiguration: webhooks merge by name. */
static const strata_schema_entry webhook_config_fields[] = {
	{ "metadata", &meta_schema },
	{ "webhooks", &name_keyed_schema },
	END
};
static const strata_schema webhook_config_schema = MAP(webhook_config_fields);

/* ---- pod locations ---- */

static const char *const path_root[] = { NULL };
static const char *const path_spec[] = { "spec", NULL };
static const char *const path_template[] = { "template", NULL };
static const char *const path_template_spec[] = { "template", "spec", NULL };
static const char *const path_spec_template[] = { "spec", "template", NULL };
static const char *const path_spec_template_spec[] = {
	"spec", "template", "spec", NULL
};
static const char *const path_cron_template[] = {
	"spec", "jobTemplate", "spec", "template", NULL
};
static const char *const path_cron_template_spec[] = {
	"spec", "jobTemplate", "spec", "template", "spec", NULL
};

static const strata_pod_location loc_pod = { path_root, path_spec };
static const strata_pod_location loc_podtemplate = {
	path_template, path_template_spec
};
static const strata_pod_location loc_workload = {
	path_spec_template, path_spec_template_spec
};
static const strata_pod_location loc_cronjob = {
	path_cron_template, path_cron_template_spec
};

const char *const strata_schema_container_fields[] = {
	"initContainers", "containers", "ephemeralContainers", NULL
};

/* ---- the kind table ---- */

typedef struct kind_entry {
	const char *group;
	const char *kind;
	const strata_schema *schema;
	const strata_pod_location *pods;
} kind_entry;

static const kind_entry kinds[] = {
	/* pod-bearing kinds */
	{ "", "Pod", &pod_schema, &loc_pod },
	{ "", "PodTemplate", &podtemplate_schema, &loc_podtemplate },
	{ "", "ReplicationController", &workload_schema, &loc_workload },
	{ "apps", "Deployment", &deploy_schema, &loc_workload },
	{ "extensions", "Deployment", &deploy_schema, &loc_workload },
	{ "apps", "StatefulSet", &workload_schema, &loc_workload },
	{ "extensions", "StatefulSet", &workload_schema, &loc_workload },
	{ "apps", "DaemonSet", &workload_schema, &loc_workload },
	{ "extensions", "DaemonSet", &workload_schema, &loc_workload },
	{ "apps", "ReplicaSet", &workload_schema, &loc_workload },
	{ "extensions", "ReplicaSet", &workload_schema, &loc_workload },
	{ "batch", "Job", &workload_schema, &loc_workload },
	{ "batch", "CronJob", &cronjob_schema, &loc_cronjob },
	/* Service */
	{ "", "Service", &service_schema, NULL },
	/* other built-in kinds: metadata rules only */
	{ "", "ConfigMap", &object_schema, NULL },
	{ "", "Secret", &object_schema, NULL },
	{ "", "ServiceAccount", &service_account_schema, NULL },
	{ "", "Namespace", &object_schema, NULL },
	{ "", "PersistentVolumeClaim", &object_schema, NULL },
	{ "", "PersistentVolume", &object_schema, NULL },
	{ "", "Endpoints", &object_schema, NULL },
	{ "", "LimitRange", &object_schema, NULL },
	{ "", "ResourceQuota", &object_schema, NULL },
	{ "rbac.authorization.k8s.io", "Role", &object_schema, NULL },
	{ "rbac.authorization.k8s.io", "ClusterRole", &object_schema, NULL },
	{ "rbac.authorization.k8s.io", "RoleBinding", &object_schema, NULL },
	{ "rbac.authorization.k8s.io", "ClusterRoleBinding", &object_schema, NULL },
	{ "networking.k8s.io", "Ingress", &object_schema, NULL },
	{ "networking.k8s.io", "IngressClass", &object_schema, NULL },
	{ "networking.k8s.io", "NetworkPolicy", &object_schema, NULL },
	{ "autoscaling", "HorizontalPodAutoscaler", &object_schema, NULL },
	{ "policy", "PodDisruptionBudget", &object_schema, NULL },
	{ "storage.k8s.io", "StorageClass", &object_schema, NULL },
	{ "scheduling.k8s.io", "PriorityClass", &object_schema, NULL },
	{ "apiextensions.k8s.io", "CustomResourceDefinition", &object_schema, NULL },
	{ "admissionregistration.k8s.io", "MutatingWebhookConfiguration",
	  &webhook_config_schema, NULL },
	{ "admissionregistration.k8s.io", "ValidatingWebhookConfiguration",
	  &webhook_config_schema, NULL },
	{ "coordination.k8s.io", "Lease", &object_schema, NULL },
};

static const kind_entry *kind_lookup(const char *group, const char *kind)
{
	size_t i;

	if (!kind)
		return NULL;
	if (!group)
		group = "";
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].kind[0] == kind[0] && strcmp(kinds[i].kind, kind) == 0 &&
		    strcmp(kinds[i].group, group) == 0)
			return &kinds[i];
	return NULL;
}

const strata_schema *strata_schema_for(const char *group, const char *kind)
{
	const kind_entry *e = kind_lookup(group, kind);

	return e ? e->schema : NULL;
}

const strata_schema *strata_schema_fieldn(const strata_schema *map_schema,
					  const char *field, size_t len)
{
	const strata_schema_entry *f;

	if (!map_schema || map_schema->type != STRATA_SCHEMA_MAP ||
	    !map_schema->fields || !field)
		return NULL;
	for (f = map_schema->fields; f->name; f++)
		if (strncmp(f->name, field, len) == 0 && f->name[len] == '\0')
			return f->schema;
	return NULL;
}

const strata_schema *strata_schema_field(const strata_schema *map_schema,
					 const char *field)
{
	return field ? strata_schema_fieldn(map_schema, field, strlen(field))
		     : NULL;
}

const strata_schema *strata_schema_item(const strata_schema *list_schema)
{
	if (!list_schema || list_schema->type != STRATA_SCHEMA_LIST)
		return NULL;
	return list_schema->item;
}

bool strata_schema_is_keyed(const strata_schema *list_schema)
{
	return list_schema && list_schema->type == STRATA_SCHEMA_LIST &&
	       list_schema->nkeys > 0;
}

bool strata_schema_is_set(const strata_schema *list_schema)
{
	return list_schema && list_schema->type == STRATA_SCHEMA_LIST &&
	       (list_schema->flags & STRATA_SCHEMA_SET);
}

bool strata_schema_item_key(const strata_schema *list_schema,
			    const strata_node *item, strata_schema_key *out,
			    const char **bad_key)
{
	unsigned i;

	memset(out, 0, sizeof(*out));
	if (!strata_schema_is_keyed(list_schema) || !item ||
	    item->type != STRATA_NODE_MAP) {
		if (bad_key)
			*bad_key = strata_schema_is_keyed(list_schema)
					   ? list_schema->keys[0] : NULL;
		return false;
	}
	for (i = 0; i < list_schema->nkeys; i++) {
		const char *k = list_schema->keys[i];
		const strata_node *v = strata_map_get(item, k);

		if (v && v->type == STRATA_NODE_SCALAR &&
		    strata_scalar_kind_of(v) != STRATA_SCALAR_NULL) {
			out->v[i] = v->u.scalar.str;
			out->len[i] = v->u.scalar.len;
		} else if ((!v || v->type == STRATA_NODE_SCALAR) &&
			   list_schema->key_defaults[i]) {
			out->v[i] = list_schema->key_defaults[i];
			out->len[i] = strlen(out->v[i]);
		} else {
			if (bad_key)
				*bad_key = k;
			return false;
		}
	}
	return true;
}

bool strata_schema_key_equal(const strata_schema *list_schema,
			     const strata_schema_key *a,
			     const strata_schema_key *b)
{
	unsigned i;

	for (i = 0; i < list_schema->nkeys; i++)
		if (a->len[i] != b->len[i] ||
		    memcmp(a->v[i], b->v[i], a->len[i]) != 0)
			return false;
	return true;
}

uint64_t strata_schema_key_hash(const strata_schema *list_schema,
				const strata_schema_key *k)
{
	uint64_t h = STRATA_HASH_SEED;
	unsigned i;

	for (i = 0; i < list_schema->nkeys; i++) {
		h = strata_hash(k->v[i], k->len[i], h);
		h = strata_hash("\0", 1, h); /* separator: ("ab","c") != ("a","bc") */
	}
	return h;
}

const strata_pod_location *strata_schema_pod_location(const char *group,
							const char *kind)
{
	const kind_entry *e = kind_lookup(group, kind);

	return e ? e->pods : NULL;
}

static strata_node *walk(const strata_node *root, const char *const *path)
{
	const strata_node *n = root;

	for (; n && *path; path++) {
		if (n->type != STRATA_NODE_MAP)
			return NULL;
		n = strata_map_get(n, *path);
	}
	return n && n->type == STRATA_NODE_MAP ? (strata_node *)n : NULL;
}

strata_node *strata_schema_pod_template(const strata_node *root,
					const char *group, const char *kind)
{
	const strata_pod_location *loc = strata_schema_pod_location(group, kind);

	return loc ? walk(root, loc->template_path) : NULL;
}

strata_node *strata_schema_pod_spec(const strata_node *root,
				    const char *group, const char *kind)
{
	const strata_pod_location *loc = strata_schema_pod_location(group, kind);

	return loc ? walk(root, loc->spec_path) : NULL;
}
