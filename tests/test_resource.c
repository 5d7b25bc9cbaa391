/*
 * test_resource.c - identities, the hashed resource set, patch matching
 * with did-you-mean, deletion, reindexing and the output order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "strata/resource.h"
#include "strata/yaml.h"

static strata_resource load_one(strata_arena *a, const char *yaml)
{
	strata_yaml_doc *docs;
	size_t n;
	strata_error err;
	strata_resource r;

	strata_error_clear(&err);
	assert_int_equal(strata_yaml_load(&docs, &n, a, "t.yaml", yaml, strlen(yaml), NULL, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(strata_resource_init(&r, a, docs[0].root, "t.yaml", docs[0].line,
					      docs[0].col, &err), 0);
	return r;
}

static void add(strata_resset *s, strata_arena *a, const char *kind_av,
		const char *kind, const char *ns, const char *name)
{
	char yaml[512];
	strata_resource r;
	strata_error err;

	snprintf(yaml, sizeof(yaml), "apiVersion: %s\nkind: %s\nmetadata:\n  name: %s\n%s%s%s",
		 kind_av, kind, name, ns ? "  namespace: " : "", ns ? ns : "", ns ? "\n" : "");
	r = load_one(a, yaml);
	strata_error_clear(&err);
	assert_int_equal(strata_resset_add(s, &r, NULL, &err), 0);
}

static void test_resource__identity(void **state)
{
	strata_arena *a = strata_arena_new();
	strata_resource r = load_one(a, "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\n");

	(void)state;
	assert_string_equal(r.group, "apps");
	assert_string_equal(r.version, "v1");
	assert_string_equal(r.kind, "Deployment");
	assert_string_equal(r.ns, "shop");
	assert_string_equal(r.name, "web");
	r = load_one(a, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n");
	assert_string_equal(r.group, "");
	assert_string_equal(r.ns, "");
	strata_arena_free(a);
}

/*
 * The hashes and the rank kept with the identity follow a refresh after
 * the document changed, interned kind and group or not: a resource edited
 * into another identity equals one loaded with it, and the set finds it
 * by its new identity after a reindex, not by its old one.
 */
static void test_resource__refresh_keeps_hashes(void **state)
{
	static const char *const to[][2] = {
		{ "v1", "Service" },                 /* both interned */
		{ "example.com/v1", "Widget" },      /* neither */
		{ "apps/v1", "Widget" },
		{ "example.com/v2", "Deployment" },
		{ "rbac.authorization.k8s.io/v1", "ClusterRole" },
	};
	strata_arena *a = strata_arena_new();
	strata_resset *s = strata_resset_new(a);
	strata_resource *in;
	strata_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(to) / sizeof(to[0]); i++) {
		char yaml[256];
		strata_resource r = load_one(a, "apiVersion: apps/v1\nkind: Deployment\n"
					     "metadata:\n  name: web\n  namespace: shop\n"), fresh;
		strata_node *av = strata_map_get(r.root, "apiVersion");
		strata_node *kind = strata_map_get(r.root, "kind");

		assert_int_equal(r.rank, strata_kind_rank("Deployment"));
		/* edit the document as a transform would, then refresh */
		*strata_map_slot(r.root, "apiVersion") =
			strata_scalar_with(a, av, to[i][0], strlen(to[i][0]), -1);
		*strata_map_slot(r.root, "kind") =
			strata_scalar_with(a, kind, to[i][1], strlen(to[i][1]), -1);
		strata_resource_refresh(&r, a);
		snprintf(yaml, sizeof(yaml), "apiVersion: %s\nkind: %s\nmetadata:\n"
			 "  name: web\n  namespace: shop\n", to[i][0], to[i][1]);
		fresh = load_one(a, yaml);
		assert_string_equal(r.kind, to[i][1]);
		assert_string_equal(r.group, fresh.group);
		assert_int_equal(r.id_hash, fresh.id_hash);
		assert_int_equal(r.name_hash, fresh.name_hash);
		assert_int_equal(r.rank, strata_kind_rank(to[i][1]));
	}
	/* in a set: found by the identity it has after the reindex */
	{
		strata_resource r = load_one(a, "apiVersion: v1\nkind: ConfigMap\n"
					     "metadata:\n  name: old\n");
		strata_node *name;

		strata_error_clear(&err);
		assert_int_equal(strata_resset_add(s, &r, &in, &err), 0);
		name = strata_map_get(strata_map_get(in->root, "metadata"), "name");
		*strata_map_slot(strata_map_get(in->root, "metadata"), "name") =
			strata_scalar_with(a, name, "new", 3, -1);
		strata_resource_refresh(in, a);
		assert_int_equal(strata_resset_reindex_fresh(s, &err), 0);
		assert_ptr_equal(strata_resset_find(s, "", "ConfigMap", "", "new"), in);
		assert_null(strata_resset_find(s, "", "ConfigMap", "", "old"));
	}
	strata_arena_free(a);
}

static void test_resource__invalid(void **state)
{
	strata_arena *a = strata_arena_new();
	strata_yaml_doc *docs;
	size_t n;
	strata_error err;
	strata_resource r;
	const char *y = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: {}\n";

	(void)state;
	strata_error_clear(&err);
	assert_int_equal(strata_yaml_load(&docs, &n, a, "x.yaml", y, strlen(y), NULL, &err), 0);
	assert_int_equal(strata_resource_init(&r, a, docs[0].root, "x.yaml", 1, 1, &err),
			 STRATA_EPARSE);
	assert_string_equal(err.msg, "resource has no metadata.name");
	assert_int_equal(err.line, 4);
	strata_arena_free(a);
}

/* The error of a document that is no resource, with its rule for check. */
static const strata_error *init_err(strata_arena *a, const char *yaml, strata_error *err)
{
	strata_yaml_doc *docs;
	size_t n;
	strata_resource r;

	strata_error_clear(err);
	assert_int_equal(strata_yaml_load(&docs, &n, a, "x.yaml", yaml, strlen(yaml), NULL, err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(strata_resource_init(&r, a, docs[0].root, "x.yaml", docs[0].line,
					      docs[0].col, err), STRATA_EPARSE);
	assert_int_equal(err->code, STRATA_EPARSE);
	assert_non_null(err->rule);
	return err;
}

static void test_resource__errors_name_their_rule(void **state)
{
	static const struct {
		const char *yaml, *rule, *msg;
		int line;
	} cases[] = {
		{ "just text\n", "not-a-mapping", "document is not a mapping", 1 },
		{ "- a\n- b\n", "not-a-mapping", "document is not a mapping", 1 },
		{ "apiVersion: v1\nmetadata:\n  name: a\n", "missing-field",
		  "resource has no kind", 1 },
		{ "kind: ConfigMap\nmetadata:\n  name: a\n", "missing-field",
		  "resource has no apiVersion", 1 },
		{ "apiVersion: ''\nkind: ConfigMap\nmetadata:\n  name: a\n", "missing-field",
		  "apiVersion must be a non-empty string", 1 },
		{ "apiVersion: v1\nkind: [ConfigMap]\nmetadata:\n  name: a\n", "missing-field",
		  "kind must be a non-empty string", 2 },
		{ "apiVersion: v1\nkind: ConfigMap\n", "missing-field",
		  "resource has no metadata mapping", 1 },
		{ "apiVersion: v1\nkind: ConfigMap\nmetadata: x\n", "missing-field",
		  "resource has no metadata mapping", 3 },
		{ "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: {}\n", "missing-field",
		  "resource has no metadata.name", 4 },
		{ "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: 7\n", "missing-field",
		  "metadata.name must be a non-empty string", 4 },
		{ "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: {}\n",
		  "missing-field", "metadata.namespace must be a string", 5 },
	};
	strata_arena *a = strata_arena_new();
	strata_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const strata_error *e = init_err(a, cases[i].yaml, &err);
		assert_string_equal(e->rule, cases[i].rule);
		assert_string_equal(e->msg, cases[i].msg);
		assert_string_equal(e->file, "x.yaml");
		assert_int_equal(e->line, cases[i].line);
	}
	strata_arena_free(a);
}

static void test_resource__duplicate(void **state)
{
	strata_arena *a = strata_arena_new();
	strata_resset *s = strata_resset_new(a);
	strata_resource r = load_one(a, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n");
	strata_error err;

	(void)state;
	strata_error_clear(&err);
	assert_int_equal(strata_resset_add(s, &r, NULL, &err), 0);
	assert_int_equal(strata_resset_add(s, &r, NULL, &err), STRATA_ECONFLICT);
	assert_non_null(strstr(err.msg, "duplicate resource ConfigMap 'c'"));
	strata_arena_free(a);
}

static void test_resource__match(void **state)
{
	strata_arena *a = strata_arena_new();
	strata_resset *s = strata_resset_new(a);
	strata_resource *out;
	strata_error err;

	(void)state;
	add(s, a, "apps/v1", "Deployment", "shop", "web");
	add(s, a, "apps/v1", "Deployment", "shop", "api");
	add(s, a, "apps/v1", "Deployment", "one", "twin");
	add(s, a, "apps/v1", "Deployment", "two", "twin");
	strata_error_clear(&err);
	assert_int_equal(strata_resset_match(&out, s, "apps", "Deployment", NULL, "web",
					     "p.yaml", 3, 4, &err), 0);
	assert_string_equal(out->name, "web");
	assert_int_equal(strata_resset_match(&out, s, "apps", "Deployment", "shop", "web",
					     "p.yaml", 3, 4, &err), 0);
	assert_int_equal(strata_resset_match(&out, s, "apps", "Deployment", "other", "web",
					     "p.yaml", 3, 4, &err), STRATA_ENOTFOUND);
	strata_error_clear(&err);
	assert_int_equal(strata_resset_match(&out, s, "apps", "Deployment", NULL, "webb",
					     "p.yaml", 3, 4, &err), STRATA_ENOTFOUND);
	assert_string_equal(err.msg, "patch target not found: apps/Deployment 'webb' (did you mean 'web'?)");
	assert_string_equal(err.file, "p.yaml");
	assert_int_equal(err.line, 3);
	assert_int_equal(err.col, 4);
	strata_error_clear(&err);
	assert_int_equal(strata_resset_match(&out, s, "apps", "Deployment", NULL, "twin",
					     "p.yaml", 1, 1, &err), STRATA_EAMBIGUOUS);
	strata_error_clear(&err);
	assert_int_equal(strata_resset_match(&out, s, "apps", "Deployment", "two", "twin",
					     "p.yaml", 1, 1, &err), 0);
	assert_string_equal(out->ns, "two");
	/* a different group is a different identity */
	assert_int_equal(strata_resset_match(&out, s, "extensions", "Deployment", NULL, "web",
					     "p.yaml", 1, 1, &err), STRATA_ENOTFOUND);
	strata_arena_free(a);
}

static void test_resource__delete_and_reindex(void **state)
{
	strata_arena *a = strata_arena_new();
	strata_resset *s = strata_resset_new(a);
	strata_resource *r;
	strata_error err;

	(void)state;
	add(s, a, "v1", "ConfigMap", NULL, "a");
	add(s, a, "v1", "ConfigMap", NULL, "b");
	r = strata_resset_find(s, "", "ConfigMap", "", "a");
	assert_non_null(r);
	strata_resset_delete(s, r);
	assert_null(strata_resset_find(s, "", "ConfigMap", "", "a"));
	/* the identity is free again */
	add(s, a, "v1", "ConfigMap", NULL, "a");
	assert_non_null(strata_resset_find(s, "", "ConfigMap", "", "a"));
	/* a rename that makes two resources one identity is a conflict */
	r = strata_resset_find(s, "", "ConfigMap", "", "b");
	strata_scalar_set(a, strata_node_at(r->root, "metadata", "name", NULL), "a", 1, -1);
	strata_error_clear(&err);
	assert_int_equal(strata_resset_reindex(s, &err), STRATA_ECONFLICT);
	strata_arena_free(a);
}

/* 20,000 in one set: grown one at a time, or reserved first. */
static void many(bool reserve)
{
	strata_arena *a = strata_arena_new();
	strata_resset *s = strata_resset_new(a);
	char name[32];

	if (reserve) {
		assert_int_equal(strata_resset_reserve(s, 20000), 0);
		assert_int_equal(strata_resset_reserve(s, 100), 0); /* no-op */
	}
	for (int i = 0; i < 20000; i++) {
		strata_resource r;
		strata_node *root = strata_node_map(a), *meta = strata_node_map(a);
		strata_error err;
		snprintf(name, sizeof(name), "cm-%d", i);
		strata_map_set(a, root, "apiVersion", strata_node_scalar_str(a, "v1", STRATA_STYLE_PLAIN));
		strata_map_set(a, root, "kind", strata_node_scalar_str(a, "ConfigMap", STRATA_STYLE_PLAIN));
		strata_map_set(a, meta, "name", strata_node_scalar_str(a, name, STRATA_STYLE_PLAIN));
		strata_map_set(a, root, "metadata", meta);
		strata_error_clear(&err);
		assert_int_equal(strata_resource_init(&r, a, root, "g.yaml", 1, 1, &err), 0);
		assert_int_equal(strata_resset_add(s, &r, NULL, &err), 0);
	}
	for (int i = 0; i < 20000; i += 997) {
		snprintf(name, sizeof(name), "cm-%d", i);
		assert_non_null(strata_resset_find(s, "", "ConfigMap", "", name));
	}
	assert_null(strata_resset_find(s, "", "ConfigMap", "", "cm-20000"));
	assert_int_equal(strata_resset_count(s), 20000);
	if (reserve) {
		/* one more goes past the reservation and still works */
		add(s, a, "v1", "ConfigMap", NULL, "extra");
		assert_non_null(strata_resset_find(s, "", "ConfigMap", "", "extra"));
		assert_non_null(strata_resset_find(s, "", "ConfigMap", "", "cm-0"));
	}
	strata_arena_free(a);
}

static void test_resource__many(void **state)
{
	(void)state;
	many(false);
	many(true);
}

static void test_resource__order(void **state)
{
	strata_arena *a = strata_arena_new();
	strata_resset *s = strata_resset_new(a);
	strata_resource **sorted;
	size_t n;
	const char *want[] = {
		"Namespace", "ServiceAccount", "ConfigMap", "ConfigMap", "Service",
		"Deployment", "Ingress", "Pod", "ValidatingWebhookConfiguration",
	};

	(void)state;
	add(s, a, "admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", NULL, "v");
	add(s, a, "v1", "Pod", "x", "p");
	add(s, a, "networking.k8s.io/v1", "Ingress", "x", "i");
	add(s, a, "apps/v1", "Deployment", "x", "d");
	add(s, a, "v1", "Service", "x", "s");
	add(s, a, "v1", "ConfigMap", "x", "b");
	add(s, a, "v1", "ConfigMap", "x", "a");
	add(s, a, "v1", "ServiceAccount", "x", "sa");
	add(s, a, "v1", "Namespace", NULL, "x");
	sorted = strata_resset_sorted(s, &n);
	assert_int_equal(n, 9);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(sorted[i]->kind, want[i]);
	/* same kind: by name */
	assert_string_equal(sorted[2]->name, "a");
	assert_string_equal(sorted[3]->name, "b");
	strata_arena_free(a);
}

/* The field-by-field order strata_resset_sorted must give (kustomize's). */
static int ref_field(const char *a, const char *b, const char *empty)
{
	return strcmp(a[0] ? a : empty, b[0] ? b : empty);
}

static int ref_cmp(const strata_resource *a, const strata_resource *b)
{
	int c, ra = strata_kind_rank(a->kind), rb = strata_kind_rank(b->kind);

	if (ra != rb)
		return ra < rb ? -1 : 1;
	if ((c = ref_field(a->group, b->group, "~G")) ||
	    (c = ref_field(a->version, b->version, "~V")) ||
	    (c = strcmp(a->kind, b->kind)) ||
	    (c = ref_field(a->ns, b->ns, "[noNs]")) ||
	    (c = strcmp(a->name, b->name)))
		return c;
	return a->index < b->index ? -1 : a->index > b->index;
}

/*
 * Same rank, fields that are prefixes of each other, empty group and
 * namespace (placeholders), bytes above 0x7f: the sorted set is in
 * ref_cmp's order, pair by pair.
 */
static void test_resource__order_fields(void **state)
{
	static const char *const av[] = { "v1", "a.io/v1", "a.io.x/v1", "ab.io/v1",
					  "b.io/v1beta1", "example.com/v2" };
	static const char *const kinds[] = { "Widget", "Gadget", "WidgetX" };
	static const char *const nss[] = { NULL, "a", "Zed", "a-b", "\xc3\xa9t\xc3\xa9" };
	static const char *const names[] = { "web", "web-1", "we", "z", "\xc3\xa9", "web0" };
	strata_arena *a = strata_arena_new();
	strata_resset *s = strata_resset_new(a);
	strata_resource **sorted;
	size_t n, k = 0;

	(void)state;
	/* a fixed shuffle of every combination: i * 7 mod the count */
	const size_t total = 6 * 3 * 5 * 6;
	for (size_t j = 0; j < total; j++) {
		size_t i = (j * 7) % total;
		add(s, a, av[i % 6], kinds[(i / 6) % 3], nss[(i / 18) % 5],
		    names[(i / 90) % 6]);
		k++;
	}
	sorted = strata_resset_sorted(s, &n);
	assert_int_equal(n, k);
	for (size_t i = 0; i + 1 < n; i++)
		assert_true(ref_cmp(sorted[i], sorted[i + 1]) < 0);
	strata_arena_free(a);
}

static void test_resource__scope(void **state)
{
	(void)state;
	assert_true(strata_kind_cluster_scoped("", "Namespace"));
	assert_true(strata_kind_cluster_scoped("rbac.authorization.k8s.io", "ClusterRole"));
	assert_false(strata_kind_cluster_scoped("rbac.authorization.k8s.io", "Role"));
	assert_false(strata_kind_cluster_scoped("example.com", "Widget"));
	assert_true(strata_kind_rank("Namespace") < strata_kind_rank("Deployment"));
	assert_true(strata_kind_rank("Widget") > strata_kind_rank("PodDisruptionBudget"));
	assert_true(strata_kind_rank("Widget") < strata_kind_rank("MutatingWebhookConfiguration"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resource__identity),
		cmocka_unit_test(test_resource__refresh_keeps_hashes),
		cmocka_unit_test(test_resource__invalid),
		cmocka_unit_test(test_resource__errors_name_their_rule),
		cmocka_unit_test(test_resource__duplicate),
		cmocka_unit_test(test_resource__match),
		cmocka_unit_test(test_resource__delete_and_reindex),
		cmocka_unit_test(test_resource__many),
		cmocka_unit_test(test_resource__order_fields),
		cmocka_unit_test(test_resource__order),
		cmocka_unit_test(test_resource__scope),
	};
	return cmocka_run_group_tests_name("resource", tests, NULL, NULL);
}
