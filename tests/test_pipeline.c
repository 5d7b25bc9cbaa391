/*
 * test_pipeline.c - the fused last pass of a render
 * (strata_transform_finish_unindexed: images, namespace, names, labels and
 * annotations resource by resource) gives exactly what the public
 * transforms give one after the other, on a set with every kind of
 * reference the namespace and names steps rewrite; on one thread and,
 * with many copies of that set, on the helper threads (threads.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pipeline.h"
#include "pool.h"
#include "strata/resource.h"
#include "strata/threads.h"
#include "strata/transform.h"
#include "strata/yaml.h"

static const char input[] =
	"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: old\n"
	"---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: runner\n  namespace: old\n"
	"---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\n"
	"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n"
	"---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n"
	"---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n"
	"---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n"
	"---\napiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: pv1\n"
	"spec:\n  claimRef:\n    name: data\n    namespace: default\n"
	"---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels:\n    app: web\n"
	"spec:\n  selector:\n    matchLabels:\n      app: web\n  template:\n"
	"    metadata:\n      labels:\n        app: web\n    spec:\n"
	"      serviceAccountName: runner\n      containers:\n      - name: web\n"
	"        image: nginx\n        envFrom:\n        - configMapRef:\n            name: cfg\n"
	"        env:\n        - name: PW\n          valueFrom:\n            secretKeyRef:\n"
	"              name: creds\n              key: pw\n      volumes:\n"
	"      - name: d\n        persistentVolumeClaim:\n          claimName: data\n"
	"      - name: c\n        configMap:\n          name: cfg\n"
	"---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\n"
	"spec:\n  serviceName: web\n  template:\n    spec:\n      containers:\n      - name: db\n"
	"        image: pg\n  volumeClaimTemplates:\n  - metadata:\n      name: pgdata\n"
	"---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: reader\n"
	"rules:\n- apiGroups: ['']\n  resources: [configmaps, secrets]\n  resourceNames: [cfg, creds, other]\n"
	"---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: read\n"
	"roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: reader\n"
	"subjects:\n- kind: ServiceAccount\n  name: runner\n  namespace: old\n"
	"- kind: ServiceAccount\n  name: default\n  namespace: elsewhere\n"
	"- kind: ServiceAccount\n  name: stranger\n  namespace: elsewhere\n"
	"---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: admin\n"
	"---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: admins\n"
	"roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: admin\n"
	"subjects:\n- kind: ServiceAccount\n  name: runner\n  namespace: old\n"
	"---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\n"
	"metadata:\n  name: hook\nwebhooks:\n- name: h.example.com\n  clientConfig:\n"
	"    service:\n      name: web\n      namespace: default\n"
	"---\napiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: nightly\nspec:\n"
	"  schedule: '@daily'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n"
	"          containers:\n          - name: j\n            image: busybox\n";

/*
 * The input, copies times: every value after "name: " or "Name: " (names
 * and the references to them alike) gets the suffix -<copy>, so each copy
 * is a set of its own identities that refer among themselves.  The copies
 * leave out the Namespace, which the namespace step names ns: one only.
 */
static char *input_copies(int copies)
{
	strata_buf b = STRATA_BUF_INIT;

	for (int c = 0; c < copies; c++) {
		const char *p = input;
		if (c)
			p = strstr(input, "---\n");
		while (*p) {
			const char *nl = strchr(p, '\n');
			size_t len = nl ? (size_t)(nl - p) : strlen(p);
			const char *at = memmem(p, len, "ame: ", 5);
			assert_int_equal(strata_buf_put(&b, p, len), 0);
			if (at && copies > 1)
				assert_int_equal(strata_buf_printf(&b, "-%d", c), 0);
			assert_int_equal(strata_buf_putc(&b, '\n'), 0);
			p += len + (nl ? 1 : 0);
		}
	}
	return strata_buf_detach(&b, NULL);
}

static strata_resset *load_text(strata_arena *a, const char *text)
{
	strata_yaml_doc *docs;
	strata_resset *s = strata_resset_new(a);
	strata_error err;
	size_t n;

	strata_error_clear(&err);
	assert_non_null(s);
	assert_int_equal(strata_yaml_load(&docs, &n, a, "in.yaml", text, strlen(text),
					  NULL, &err), 0);
	for (size_t i = 0; i < n; i++) {
		strata_resource r;
		assert_int_equal(strata_resource_init(&r, a, docs[i].root, "in.yaml",
						      docs[i].line, docs[i].col, &err), 0);
		assert_int_equal(strata_resset_add(s, &r, NULL, &err), 0);
	}
	return s;
}

static strata_resset *load(strata_arena *a)
{
	return load_text(a, input);
}

static void emit_sorted(strata_buf *out, strata_resset *s)
{
	size_t n;
	strata_resource **v = strata_resset_sorted(s, &n);

	assert_non_null(v);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(strata_yaml_emit(out, v[i]->root), 0);
}

static void kv_set(strata_kvlist *l, strata_kv *items, size_t n)
{
	memset(l, 0, sizeof(*l));
	l->items = items;
	l->n = l->cap = n;
}

/*
 * The fused pass leaves every identity as strata_resource_refresh reads it
 * from the tree, which lets render.c skip that in its reindex
 * (strata_resset_reindex_fresh).
 */
static void identities_fresh(strata_resset *s, strata_arena *a)
{
	for (size_t i = 0; i < strata_resset_count(s); i++) {
		strata_resource *r = strata_resset_at(s, i), now = *r;

		strata_resource_refresh(&now, a);
		assert_string_equal(now.group, r->group);
		assert_string_equal(now.kind, r->kind);
		assert_string_equal(now.ns, r->ns);
		assert_string_equal(now.name, r->name);
	}
}

/*
 * The three public transforms in a row, then the fused pass (in place,
 * then copy-on-write as a render runs it): same text.
 */
static void same_as_three_once(const char *ns, const char *prefix,
			       const char *suffix, bool with_meta, bool with_images,
			       bool cow, int copies, unsigned jobs)
{
	char *text = input_copies(copies);
	strata_arena *a = strata_arena_new(), *b = strata_arena_new();
	strata_resset *s1, *s2;
	strata_buf one = STRATA_BUF_INIT, fused = STRATA_BUF_INIT;
	strata_kv lab_items[] = { { "env", "prod", 3 }, { "team", "yes", 4 } };
	strata_kv ann_items[] = { { "owner", "platform", 5 } };
	/* a new tag, a new name keeping the tag, a digest */
	strata_kv img_items[] = { { "nginx", ":1.27", 6 }, { "pg", "reg.local/pg", 7 },
				  { "busybox", "@sha256:abc", 8 } };
	strata_kvlist labels, annotations, images;
	strata_image_rules *rules = NULL;
	strata_error err;

	strata_error_clear(&err);
	kv_set(&labels, lab_items, with_meta ? 2 : 0);
	kv_set(&annotations, ann_items, with_meta ? 1 : 0);
	kv_set(&images, img_items, with_images ? 3 : 0);
	s1 = load_text(a, text);
	assert_int_equal(strata_transform_images(a, s1, &images, &err), 0);
	if (ns)
		assert_int_equal(strata_transform_namespace(a, s1, ns, &err), 0);
	if (prefix || suffix)
		assert_int_equal(strata_transform_names(a, s1, prefix, suffix, &err), 0);
	assert_int_equal(strata_transform_metadata(a, s1, &labels, &annotations, &err), 0);
	emit_sorted(&one, s1);

	s2 = load_text(b, text);
	strata_arena_set_cow(b, cow);
	assert_int_equal(strata_image_rules_new(&rules, &images, &err), 0);
	assert_true(with_images == (rules != NULL));
	assert_int_equal(strata_transform_finish_unindexed(b, s2, rules, ns, prefix, suffix,
							   &labels, &annotations, jobs, &err), 0);
	strata_image_rules_free(rules);
	identities_fresh(s2, b);
	assert_int_equal(strata_resset_reindex_fresh(s2, &err), 0);
	emit_sorted(&fused, s2);

	assert_int_equal(fused.len, one.len);
	assert_memory_equal(fused.ptr, one.ptr, one.len);
	if (with_images) {
		assert_non_null(strstr(one.ptr, "image: nginx:1.27\n"));
		assert_non_null(strstr(one.ptr, "image: reg.local/pg\n"));
		assert_non_null(strstr(one.ptr, "image: busybox@sha256:abc\n"));
	}
	strata_buf_free(&one);
	strata_buf_free(&fused);
	strata_arena_free(a);
	strata_arena_free(b);
	free(text);
}

/* One set on one thread; 120 copies of it (2,160 resources) on four. */
static void same_as_three(const char *ns, const char *prefix, const char *suffix,
			  bool with_meta)
{
	for (int images = 0; images < 2; images++) {
		for (int cow = 0; cow < 2; cow++) {
			same_as_three_once(ns, prefix, suffix, with_meta, images, cow, 1, 1);
			same_as_three_once(ns, prefix, suffix, with_meta, images, cow, 120, 4);
		}
	}
}

static void test_pipeline__fused_equals_three(void **state)
{
	(void)state;
	same_as_three("prod", "p-", "-v2", true);
	same_as_three("prod", NULL, NULL, true);
	same_as_three(NULL, "p-", NULL, true);
	same_as_three("prod", "p-", NULL, false);
	same_as_three(NULL, NULL, NULL, true);
}

/* The fused pass did rewrite what the steps rewrite (not a no-op twice). */
static void test_pipeline__fused_rewrites(void **state)
{
	strata_arena *a = strata_arena_new();
	strata_resset *s = load(a);
	strata_buf out = STRATA_BUF_INIT;
	strata_kv lab_items[] = { { "env", "prod", 3 } };
	strata_kvlist labels, none;
	strata_error err;

	(void)state;
	strata_error_clear(&err);
	kv_set(&labels, lab_items, 1);
	kv_set(&none, NULL, 0);
	assert_int_equal(strata_transform_finish_unindexed(a, s, NULL, "prod", "p-", NULL, &labels,
							   &none, 1, &err), 0);
	assert_int_equal(strata_resset_reindex(s, &err), 0);
	emit_sorted(&out, s);
	/* configMapRef, secretKeyRef, claimName, serviceAccountName, subjects */
	assert_non_null(strstr(out.ptr, "name: p-cfg"));
	assert_non_null(strstr(out.ptr, "name: p-creds"));
	assert_non_null(strstr(out.ptr, "claimName: p-data"));
	assert_non_null(strstr(out.ptr, "serviceAccountName: p-runner"));
	assert_non_null(strstr(out.ptr, "  name: p-runner\n  namespace: prod\n"));
	/* a subject outside the set keeps its namespace and name */
	assert_non_null(strstr(out.ptr, "name: stranger\n  namespace: elsewhere\n"));
	assert_non_null(strstr(out.ptr, "namespace: prod"));
	assert_non_null(strstr(out.ptr, "env: prod"));
	strata_buf_free(&out);
	strata_arena_free(a);
}

/*
 * The keys the pass adds to metadata (namespace, labels, annotations) go
 * into one array sized once, in place and copy-on-write: no array left
 * behind half used.
 */
static void test_pipeline__metadata_sized_once(void **state)
{
	static const char doc[] =
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  uid: u\n";
	strata_kv lab_items[] = { { "env", "prod", 3 } };
	strata_kv ann_items[] = { { "owner", "platform", 4 } };
	strata_kvlist labels, annotations;

	(void)state;
	kv_set(&labels, lab_items, 1);
	kv_set(&annotations, ann_items, 1);
	for (int cow = 0; cow < 2; cow++) {
		strata_arena *a = strata_arena_new();
		strata_resset *s = strata_resset_new(a);
		strata_yaml_doc *docs;
		strata_resource r;
		strata_error err;
		const strata_node *meta;
		size_t n;

		strata_error_clear(&err);
		assert_int_equal(strata_yaml_load(&docs, &n, a, "c.yaml", doc, strlen(doc),
						  NULL, &err), 0);
		assert_int_equal(strata_resource_init(&r, a, docs[0].root, "c.yaml", 1, 1,
						      &err), 0);
		assert_int_equal(strata_resset_add(s, &r, NULL, &err), 0);
		strata_arena_set_cow(a, cow);
		assert_int_equal(strata_transform_finish_unindexed(a, s, NULL, "prod", NULL, NULL,
								   &labels, &annotations,
								   1, &err), 0);
		meta = strata_map_get(strata_resset_at(s, 0)->root, "metadata");
		assert_int_equal(meta->u.map.n, 5);
		assert_int_equal(meta->u.map.cap, 5);
		assert_string_equal(meta->u.map.pairs[1].key->u.scalar.str, "namespace");
		strata_arena_free(a);
	}
}

/*
 * Two resources whose labels are not a map: each fails alone, every other
 * one gets its labels, and the error is the first in set order's, on one
 * thread or four.
 */
static void test_pipeline__metadata_failure_first_in_order(void **state)
{
	strata_buf text = STRATA_BUF_INIT, out[2] = { STRATA_BUF_INIT, STRATA_BUF_INIT };
	strata_kv lab_items[] = { { "env", "prod", 3 } };
	strata_kvlist labels, none;
	strata_error err[2];

	(void)state;
	kv_set(&labels, lab_items, 1);
	kv_set(&none, NULL, 0);
	for (int i = 0; i < 1200; i++)
		assert_int_equal(strata_buf_printf(&text, "---\napiVersion: v1\nkind: ConfigMap\n"
						   "metadata:\n  name: c-%04d\n%s", i,
						   i == 300 || i == 900 ? "  labels: [x]\n" : ""), 0);
	for (int t = 0; t < 2; t++) {
		strata_arena *a = strata_arena_new();
		strata_resset *s = load_text(a, text.ptr);
		int rc;

		strata_error_clear(&err[t]);
		rc = strata_transform_finish_unindexed(a, s, NULL, "prod", NULL, NULL, &labels,
						       &none, t ? 4 : 1, &err[t]);
		assert_true(rc < 0);
		assert_int_equal(err[t].code, rc);
		/* c-0300's labels: document 301, the line after its name */
		assert_int_equal(err[t].line, 300 * 5 + 5 + 1);
		emit_sorted(&out[t], s);
		strata_arena_free(a);
	}
	assert_string_equal(err[0].msg, err[1].msg);
	assert_int_equal(err[0].col, err[1].col);
	assert_int_equal(out[0].len, out[1].len);
	assert_memory_equal(out[0].ptr, out[1].ptr, out[0].len);
	/* the resources after the first failure got their labels too */
	assert_non_null(strstr(out[0].ptr, "name: c-0301\n  namespace: prod\n  labels:\n    env: prod\n"));
	assert_non_null(strstr(out[0].ptr, "name: c-1199\n  namespace: prod\n  labels:\n    env: prod\n"));
	strata_buf_free(&text);
	strata_buf_free(&out[0]);
	strata_buf_free(&out[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipeline__fused_equals_three),
		cmocka_unit_test(test_pipeline__fused_rewrites),
		cmocka_unit_test(test_pipeline__metadata_sized_once),
		cmocka_unit_test(test_pipeline__metadata_failure_first_in_order),
	};
	unsigned long joins;
	int failed = cmocka_run_group_tests_name("one thread", tests, NULL, NULL);

	/* again, the large sets shared out on three helper threads */
	if (strata_threads_start(4) != 0)
		return failed + 1;
	joins = strata_pool_joins();
	failed += cmocka_run_group_tests_name("helper threads", tests, NULL, NULL);
	strata_threads_stop();
	if (strata_pool_joins() == joins) {
		fprintf(stderr, "test_pipeline: no helper thread ever joined the pass\n");
		failed++;
	}
	return failed;
}
