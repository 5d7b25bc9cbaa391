/*
 * test_merge.c - strategic merge patch: every rule and directive, the
 * places strata deliberately differs from kustomize, unknown kinds, and a
 * large keyed list that must merge in linear time.  Also the schema table
 * the merge is driven by.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "schema.h"
#include "strata/merge.h"
#include "strata/yaml.h"

/*
 * The suite runs twice: in place, then copy-on-write as a render merges
 * into the base it shares with other environments (doc.h).  Then every
 * merge (patch_into) also checks that the target as loaded is unchanged.
 */
static bool cow;

static int setup(void **state)
{
	*state = strata_arena_new();
	if (*state)
		strata_arena_set_cow(*state, cow);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	strata_arena_free(*state);
	return 0;
}

static strata_node *y(strata_arena *a, const char *text)
{
	strata_yaml_doc *docs = NULL;
	size_t n = 0;
	strata_error err = { 0 };
	int rc = strata_yaml_load(&docs, &n, a, "t.yaml", text, strlen(text),
				  NULL, &err);

	if (rc != 0)
		print_error("yaml: %d:%d: %s\n", err.line, err.col, err.msg);
	assert_int_equal(rc, 0);
	assert_int_equal(n, 1);
	return docs[0].root;
}

/* A compact one-line rendering of a tree, for failure messages and for
 * the order checks (strata_node_equal ignores map key order). */
static void dump(strata_buf *b, const strata_node *n)
{
	uint32_t i;

	switch (n->type) {
	case STRATA_NODE_SCALAR:
		strata_buf_put(b, n->u.scalar.str, n->u.scalar.len);
		break;
	case STRATA_NODE_MAP:
		strata_buf_putc(b, '{');
		for (i = 0; i < n->u.map.n; i++) {
			if (i)
				strata_buf_puts(b, ", ");
			dump(b, n->u.map.pairs[i].key);
			strata_buf_puts(b, ": ");
			dump(b, n->u.map.pairs[i].value);
		}
		strata_buf_putc(b, '}');
		break;
	case STRATA_NODE_SEQ:
		strata_buf_putc(b, '[');
		for (i = 0; i < n->u.seq.n; i++) {
			if (i)
				strata_buf_puts(b, ", ");
			dump(b, n->u.seq.items[i]);
		}
		strata_buf_putc(b, ']');
		break;
	}
}

static void assert_same(const strata_node *got, const strata_node *want)
{
	if (!strata_node_equal(got, want)) {
		strata_buf g = STRATA_BUF_INIT, w = STRATA_BUF_INIT;

		dump(&g, got);
		dump(&w, want);
		print_error("got:  %s\nwant: %s\n", g.ptr, w.ptr);
		strata_buf_free(&g);
		strata_buf_free(&w);
		fail();
	}
}

static void assert_dump(const strata_node *n, const char *want)
{
	strata_buf b = STRATA_BUF_INIT;

	dump(&b, n);
	if (strcmp(b.ptr, want) != 0)
		print_error("got:  %s\nwant: %s\n", b.ptr, want);
	assert_string_equal(b.ptr, want);
	strata_buf_free(&b);
}

/* strata_merge_patch into *b; copy-on-write, *b becomes the render's copy. */
static int patch_into(strata_arena *a, strata_node **b, const strata_node *p,
		      const char *group, const char *kind, bool *del,
		      strata_error *err)
{
	const strata_node *loaded = *b;
	strata_node *before = cow ? strata_node_copy(a, loaded) : NULL;
	int rc;

	if (cow)
		assert_non_null(strata_node_own(a, b, 0));
	rc = strata_merge_patch(a, *b, p, group, kind, del, err);
	if (cow) {
		assert_ptr_not_equal(*b, loaded);
		assert_same(loaded, before); /* edits went to copies only */
	}
	return rc;
}

/*
 * Merge patch into base as group/kind; check the result equals expect and
 * the patch was left untouched.  Returns the merged document.
 */
static strata_node *merge_ok(strata_arena *a, const char *group,
			     const char *kind, const char *base,
			     const char *patch, const char *expect)
{
	strata_node *b = y(a, base), *p = y(a, patch);
	strata_node *pcopy = strata_node_copy(a, p);
	strata_error err = { 0 };
	bool del = true;
	int rc = patch_into(a, &b, p, group, kind, &del, &err);

	if (rc != 0)
		print_error("merge: %d:%d: %s\n", err.line, err.col, err.msg);
	assert_int_equal(rc, 0);
	assert_false(del);
	assert_same(b, y(a, expect));
	assert_same(p, pcopy);
	return b;
}

static void merge_fails(strata_arena *a, const char *group, const char *kind,
			const char *base, const char *patch, int line,
			const char *msg_part)
{
	strata_node *b = y(a, base), *p = y(a, patch);
	strata_error err = { 0 };
	bool del = false;
	int rc = patch_into(a, &b, p, group, kind, &del, &err);

	assert_int_equal(rc, STRATA_EPARSE);
	assert_int_equal(err.code, STRATA_EPARSE);
	assert_string_equal(err.file, "t.yaml");
	assert_int_equal(err.line, line);
	if (!strstr(err.msg, msg_part))
		print_error("message: %s\n", err.msg);
	assert_non_null(strstr(err.msg, msg_part));
}

#define DEPLOY_HEAD "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"

/* ---- maps and scalars ---- */

static void test_merge__maps_merge_recursively(void **state)
{
	merge_ok(*state, "apps", "Deployment",
		 DEPLOY_HEAD "  labels: {a: '1', b: '2'}\nspec:\n  replicas: 1\n"
		 "  selector: {matchLabels: {app: web}}\n",
		 DEPLOY_HEAD "  labels: {b: '3', c: '4'}\nspec:\n  replicas: 3\n",
		 DEPLOY_HEAD "  labels: {a: '1', b: '3', c: '4'}\nspec:\n  replicas: 3\n"
		 "  selector: {matchLabels: {app: web}}\n");
}

static void test_merge__null_deletes_key(void **state)
{
	merge_ok(*state, "apps", "Deployment",
		 DEPLOY_HEAD "  labels: {a: '1', b: '2'}\nspec: {replicas: 1, paused: true}\n",
		 DEPLOY_HEAD "  labels: {a: null, zz: ~}\nspec:\n  paused:\n",
		 DEPLOY_HEAD "  labels: {b: '2'}\nspec: {replicas: 1}\n");
}

static void test_merge__quoted_null_is_a_value(void **state)
{
	merge_ok(*state, "", "ConfigMap",
		 "kind: ConfigMap\ndata: {a: x}\n",
		 "kind: ConfigMap\ndata: {a: 'null'}\n",
		 "kind: ConfigMap\ndata: {a: 'null'}\n");
}

static void test_merge__new_map_drops_nulls_and_directives(void **state)
{
	merge_ok(*state, "", "ConfigMap",
		 "kind: ConfigMap\n",
		 "kind: ConfigMap\nx: {a: null, b: 1, c: {$patch: delete}, "
		 "d: {$patch: replace, e: 2}}\n",
		 "kind: ConfigMap\nx: {b: 1, d: {e: 2}}\n");
}

static void test_merge__type_change_replaces(void **state)
{
	merge_ok(*state, "", "ConfigMap",
		 "kind: ConfigMap\na: {x: 1}\nb: [1]\nc: s\n",
		 "kind: ConfigMap\na: [1]\nb: {y: 2}\nc: {z: 3}\n",
		 "kind: ConfigMap\na: [1]\nb: {y: 2}\nc: {z: 3}\n");
}

static void test_merge__scalars_and_unkeyed_lists_replace(void **state)
{
	merge_ok(*state, "apps", "Deployment",
		 DEPLOY_HEAD "spec:\n  template:\n    spec:\n"
		 "      tolerations: [{key: a}, {key: b}]\n"
		 "      containers:\n      - name: app\n        image: a:1\n"
		 "        args: [x, y]\n        envFrom: [{configMapRef: {name: a}}]\n",
		 DEPLOY_HEAD "spec:\n  template:\n    spec:\n"
		 "      tolerations: [{key: c}]\n"
		 "      containers:\n      - name: app\n        image: a:2\n"
		 "        args: [z]\n        envFrom: [{secretRef: {name: s}}]\n",
		 DEPLOY_HEAD "spec:\n  template:\n    spec:\n"
		 "      tolerations: [{key: c}]\n"
		 "      containers:\n      - name: app\n        image: a:2\n"
		 "        args: [z]\n        envFrom: [{secretRef: {name: s}}]\n");
}

/* ---- keyed lists ---- */

static void test_merge__keyed_list_keeps_base_order(void **state)
{
	/* kustomize moves patched items to the front (issues 3912, 5904) */
	strata_node *r = merge_ok(*state, "apps", "Deployment",
		 DEPLOY_HEAD "spec:\n  template:\n    spec:\n      containers:\n"
		 "      - {name: a, image: a}\n      - {name: b, image: b}\n"
		 "      - {name: c, image: c}\n",
		 DEPLOY_HEAD "spec:\n  template:\n    spec:\n      containers:\n"
		 "      - {name: x, image: x}\n      - {name: c, image: c2}\n"
		 "      - {name: b, image: b2}\n      - {name: y, image: y}\n",
		 DEPLOY_HEAD "spec:\n  template:\n    spec:\n      containers:\n"
		 "      - {name: a, image: a}\n      - {name: b, image: b2}\n"
		 "      - {name: c, image: c2}\n      - {name: x, image: x}\n"
		 "      - {name: y, image: y}\n");

	assert_dump(strata_node_at(r, "spec", "template", "spec", "containers", NULL),
		    "[{name: a, image: a}, {name: b, image: b2}, {name: c, image: c2}, "
		    "{name: x, image: x}, {name: y, image: y}]");
}

static void test_merge__keyed_lists_everywhere_in_pod_spec(void **state)
{
	merge_ok(*state, "apps", "Deployment",
		 DEPLOY_HEAD "spec:\n  template:\n    spec:\n"
		 "      initContainers:\n      - {name: init, image: i}\n"
		 "      ephemeralContainers:\n      - {name: dbg, image: d}\n"
		 "      imagePullSecrets: [{name: r1}]\n"
		 "      hostAliases: [{ip: 1.2.3.4, hostnames: [a]}]\n"
		 "      volumes: [{name: data, emptyDir: {}}]\n"
		 "      containers:\n      - name: app\n"
		 "        env: [{name: A, value: '1'}, {name: B, value: '2'}]\n"
		 "        volumeMounts: [{name: data, mountPath: /data}]\n"
		 "        volumeDevices: [{name: blk, devicePath: /dev/a}]\n",
		 DEPLOY_HEAD "spec:\n  template:\n    spec:\n"
		 "      initContainers:\n      - {name: init, image: i2}\n"
		 "      ephemeralContainers:\n      - {name: dbg2, image: d}\n"
		 "      imagePullSecrets: [{name: r2}]\n"
		 "      hostAliases: [{ip: 1.2.3.4, hostnames: [b]}, {ip: 5.6.7.8, hostnames: [c]}]\n"
		 "      volumes: [{name: cache, emptyDir: {medium: Memory}}]\n"
		 "      containers:\n      - name: app\n"
		 "        env: [{name: B, value: '3'}, {name: C, value: '4'}]\n"
		 "        volumeMounts: [{name: data2, mountPath: /data}, {name: c, mountPath: /c}]\n"
		 "        volumeDevices: [{name: blk2, devicePath: /dev/a}]\n",
		 DEPLOY_HEAD "spec:\n  template:\n    spec:\n"
		 "      initContainers:\n      - {name: init, image: i2}\n"
		 "      ephemeralContainers:\n      - {name: dbg, image: d}\n      - {name: dbg2, image: d}\n"
		 "      imagePullSecrets: [{name: r1}, {name: r2}]\n"
		 "      hostAliases: [{ip: 1.2.3.4, hostnames: [b]}, {ip: 5.6.7.8, hostnames: [c]}]\n"
		 "      volumes: [{name: data, emptyDir: {}}, {name: cache, emptyDir: {medium: Memory}}]\n"
		 "      containers:\n      - name: app\n"
		 "        env: [{name: A, value: '1'}, {name: B, value: '3'}, {name: C, value: '4'}]\n"
		 "        volumeMounts: [{name: data2, mountPath: /data}, {name: c, mountPath: /c}]\n"
		 "        volumeDevices: [{name: blk2, devicePath: /dev/a}]\n");
}

static void test_merge__every_pod_bearing_kind(void **state)
{
	static const struct {
		const char *group, *kind, *head, *tail;
	} cases[] = {
		{ "", "Pod", "kind: Pod\nspec:\n", "" },
		{ "", "PodTemplate", "kind: PodTemplate\ntemplate:\n  spec:\n", "  " },
		{ "apps", "Deployment", "kind: Deployment\nspec:\n  template:\n    spec:\n", "    " },
		{ "extensions", "Deployment", "kind: Deployment\nspec:\n  template:\n    spec:\n", "    " },
		{ "apps", "StatefulSet", "kind: StatefulSet\nspec:\n  template:\n    spec:\n", "    " },
		{ "apps", "DaemonSet", "kind: DaemonSet\nspec:\n  template:\n    spec:\n", "    " },
		{ "apps", "ReplicaSet", "kind: ReplicaSet\nspec:\n  template:\n    spec:\n", "    " },
		{ "batch", "Job", "kind: Job\nspec:\n  template:\n    spec:\n", "    " },
		{ "batch", "CronJob", "kind: CronJob\nspec:\n  jobTemplate:\n    spec:\n"
		  "      template:\n        spec:\n", "        " },
	};
	strata_arena *a = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char base[512], patch[512], want[512];
		const char *ind = cases[i].tail;

		snprintf(base, sizeof(base),
			 "%s%s  containers:\n%s  - {name: a, image: a}\n%s  - {name: b, image: b}\n",
			 cases[i].head, ind, ind, ind);
		snprintf(patch, sizeof(patch),
			 "%s%s  containers:\n%s  - {name: a, image: a2}\n",
			 cases[i].head, ind, ind);
		snprintf(want, sizeof(want),
			 "%s%s  containers:\n%s  - {name: a, image: a2}\n%s  - {name: b, image: b}\n",
			 cases[i].head, ind, ind, ind);
		merge_ok(a, cases[i].group, cases[i].kind, base, patch, want);
	}
}

static void test_merge__delete_list_item(void **state)
{
	merge_ok(*state, "apps", "Deployment",
		 DEPLOY_HEAD "spec:\n  template:\n    spec:\n      containers:\n"
		 "      - name: app\n        env: [{name: A, value: '1'}, {name: B, value: '2'}, "
		 "{name: C, value: '3'}]\n",
		 DEPLOY_HEAD "spec:\n  template:\n    spec:\n      containers:\n"
		 "      - name: app\n        env: [{name: B, $patch: delete}, "
		 "{name: Z, $patch: delete}, {name: D, value: '4'}]\n",
		 DEPLOY_HEAD "spec:\n  template:\n    spec:\n      containers:\n"
		 "      - name: app\n        env: [{name: A, value: '1'}, {name: C, value: '3'}, "
		 "{name: D, value: '4'}]\n");
}

static void test_merge__delete_then_readd_same_key(void **state)
{
	merge_ok(*state, "", "Pod",
		 "kind: Pod\nspec:\n  containers:\n  - name: app\n"
		 "    env: [{name: A, value: '1'}, {name: B, value: '2'}]\n",
		 "kind: Pod\nspec:\n  containers:\n  - name: app\n"
		 "    env: [{name: A, $patch: delete}, {name: A, value: new}]\n",
		 "kind: Pod\nspec:\n  containers:\n  - name: app\n"
		 "    env: [{name: B, value: '2'}, {name: A, value: new}]\n");
}

static void test_merge__replace_list(void **state)
{
	merge_ok(*state, "", "Pod",
		 "kind: Pod\nspec:\n  containers:\n  - {name: a, image: a}\n  - {name: b, image: b}\n",
		 "kind: Pod\nspec:\n  containers:\n  - $patch: replace\n  - {name: c, image: c}\n",
		 "kind: Pod\nspec:\n  containers:\n  - {name: c, image: c}\n");
}

static void test_merge__replace_one_list_item(void **state)
{
	/* data plus `$patch: replace` replaces that item only (Kubernetes
	 * would replace the whole list, kustomize ignores the item) */
	merge_ok(*state, "", "Pod",
		 "kind: Pod\nspec:\n  containers:\n  - {name: a, image: a, args: [x]}\n"
		 "  - {name: b, image: b, args: [y]}\n",
		 "kind: Pod\nspec:\n  containers:\n  - {name: b, $patch: replace, image: b2}\n"
		 "  - {name: c, $patch: replace, image: c}\n",
		 "kind: Pod\nspec:\n  containers:\n  - {name: a, image: a, args: [x]}\n"
		 "  - {name: b, image: b2}\n  - {name: c, image: c}\n");
}

static void test_merge__replace_set_and_unkeyed_lists(void **state)
{
	strata_arena *a = *state;

	merge_ok(a, "", "Secret",
		 "kind: Secret\nmetadata:\n  finalizers: [a, b]\n",
		 "kind: Secret\nmetadata:\n  finalizers: [{$patch: replace}, c]\n",
		 "kind: Secret\nmetadata:\n  finalizers: [c]\n");
	/* an unkeyed list is replaced; directives never reach the output */
	merge_ok(a, "", "Pod",
		 "kind: Pod\nspec:\n  tolerations: [{key: a}, {key: b}]\n",
		 "kind: Pod\nspec:\n  tolerations:\n  - {$patch: replace}\n"
		 "  - {key: a, $patch: delete}\n  - {key: c, x: {$patch: replace, y: 1}}\n",
		 "kind: Pod\nspec:\n  tolerations: [{key: c, x: {y: 1}}]\n");
}

static void test_merge__delete_item_without_key_is_an_error(void **state)
{
	merge_fails(*state, "", "Pod",
		    "kind: Pod\nspec:\n  containers:\n  - {name: a, image: a}\n",
		    "kind: Pod\nspec:\n  containers:\n  - {$patch: delete}\n",
		    4, "missing merge key 'name'");
}

static void test_merge__null_inside_keyed_item(void **state)
{
	merge_ok(*state, "", "Pod",
		 "kind: Pod\nspec:\n  containers:\n  - name: a\n"
		 "    env: [{name: A, value: x}, {name: B, valueFrom: {fieldRef: {fieldPath: p}}}]\n",
		 "kind: Pod\nspec:\n  containers:\n  - name: a\n"
		 "    env: [{name: B, valueFrom: null, value: y}, {name: C, value: null}]\n",
		 "kind: Pod\nspec:\n  containers:\n  - name: a\n"
		 "    env: [{name: A, value: x}, {name: B, value: y}, {name: C}]\n");
}

static void test_merge__empty_patch_values_change_nothing(void **state)
{
	merge_ok(*state, "", "Pod",
		 "kind: Pod\nmetadata:\n  labels: {a: b}\nspec:\n  containers:\n  - {name: a}\n",
		 "kind: Pod\nmetadata:\n  labels: {}\nspec:\n  containers: []\n",
		 "kind: Pod\nmetadata:\n  labels: {a: b}\nspec:\n  containers:\n  - {name: a}\n");
}

static void test_merge__missing_merge_key_is_an_error(void **state)
{
	merge_fails(*state, "", "Pod",
		    "kind: Pod\nspec:\n  containers:\n  - {name: a, image: a}\n",
		    "kind: Pod\nspec:\n  containers:\n  - {name: a}\n  - {image: b}\n",
		    5, "list item in 'containers' is missing merge key 'name'");
}

/* No node is read while it is NULL, every element has to be there. */
static void assert_no_hole(const strata_node *n)
{
	assert_non_null(n);
	if (n->type == STRATA_NODE_MAP)
		for (uint32_t i = 0; i < n->u.map.n; i++) {
			assert_non_null(n->u.map.pairs[i].key);
			assert_no_hole(n->u.map.pairs[i].value);
		}
	else if (n->type == STRATA_NODE_SEQ)
		for (uint32_t i = 0; i < n->u.seq.n; i++)
			assert_no_hole(n->u.seq.items[i]);
}

/*
 * A patch that fails after it deleted a key or a list item leaves no
 * hole in the target: a collecting render (strata check) reports the
 * error and reads the tree on (it crashed on the NULL key).
 */
static void test_merge__failed_patch_leaves_no_hole(void **state)
{
	strata_arena *a = *state;
	strata_node *b = y(a, "kind: Pod\nsops: {v: 1}\ndata: {}\n"
			      "spec:\n  containers:\n  - {name: a}\n  - {name: b}\n");
	strata_node *p1 = y(a, "kind: Pod\nsops: null\nbad: {$patch: bogus}\n");
	strata_node *p2 = y(a, "kind: Pod\nspec:\n  containers:\n"
			       "  - {name: a, $patch: delete}\n  - {image: x}\n");
	strata_error err = { 0 };
	bool del = false;

	assert_int_equal(patch_into(a, &b, p1, "", "Pod", &del, &err), STRATA_EPARSE);
	assert_no_hole(b);
	assert_null(strata_map_get(b, "nothing"));
	memset(&err, 0, sizeof(err));
	b = y(a, "kind: Pod\nspec:\n  containers:\n  - {name: a}\n  - {name: b}\n");
	assert_int_equal(patch_into(a, &b, p2, "", "Pod", &del, &err), STRATA_EPARSE);
	assert_no_hole(b);
}

static void test_merge__scalar_item_in_keyed_list_is_an_error(void **state)
{
	merge_fails(*state, "", "Pod",
		    "kind: Pod\nspec:\n  containers:\n  - {name: a, image: a}\n",
		    "kind: Pod\nspec:\n  containers:\n  - a\n",
		    4, "list item in 'containers' must be a map with merge key 'name'");
}

/* ---- ports ---- */

static void test_merge__container_ports_protocol_defaults_to_tcp(void **state)
{
	/* kustomize drops fields when one side omits protocol (issues 3111, 3620) */
	merge_ok(*state, "", "Pod",
		 "kind: Pod\nspec:\n  containers:\n  - name: app\n    ports:\n"
		 "    - {containerPort: 80, name: http}\n"
		 "    - {containerPort: 53, protocol: UDP, name: dns}\n"
		 "    - {containerPort: 443, protocol: TCP, name: https}\n",
		 "kind: Pod\nspec:\n  containers:\n  - name: app\n    ports:\n"
		 "    - {containerPort: 80, protocol: TCP, hostPort: 8080}\n"
		 "    - {containerPort: 53, hostPort: 5353}\n"
		 "    - {containerPort: 443, hostPort: 8443}\n",
		 "kind: Pod\nspec:\n  containers:\n  - name: app\n    ports:\n"
		 "    - {containerPort: 80, name: http, protocol: TCP, hostPort: 8080}\n"
		 "    - {containerPort: 53, protocol: UDP, name: dns}\n"
		 "    - {containerPort: 443, protocol: TCP, name: https, hostPort: 8443}\n"
		 "    - {containerPort: 53, hostPort: 5353}\n");
}

static void test_merge__service_ports_keyed_on_port_and_protocol(void **state)
{
	merge_ok(*state, "", "Service",
		 "kind: Service\nspec:\n  ports:\n  - {port: 80, targetPort: 8080, name: http}\n"
		 "  - {port: 53, protocol: UDP, name: dns}\n",
		 "kind: Service\nspec:\n  ports:\n  - {port: 80, protocol: TCP, targetPort: 9090}\n"
		 "  - {port: 53, protocol: TCP, name: dns-tcp}\n",
		 "kind: Service\nspec:\n  ports:\n"
		 "  - {port: 80, targetPort: 9090, name: http, protocol: TCP}\n"
		 "  - {port: 53, protocol: UDP, name: dns}\n"
		 "  - {port: 53, protocol: TCP, name: dns-tcp}\n");
}

static void test_merge__missing_container_port_is_an_error(void **state)
{
	merge_fails(*state, "", "Pod",
		    "kind: Pod\nspec:\n  containers:\n  - name: app\n    ports: [{containerPort: 80}]\n",
		    "kind: Pod\nspec:\n  containers:\n  - name: app\n    ports:\n    - {protocol: UDP}\n",
		    6, "missing merge key 'containerPort'");
}

static void test_merge__topology_spread_two_keys(void **state)
{
	strata_arena *a = *state;

	merge_ok(a, "apps", "Deployment",
		 DEPLOY_HEAD "spec:\n  template:\n    spec:\n      topologySpreadConstraints:\n"
		 "      - {topologyKey: zone, whenUnsatisfiable: DoNotSchedule, maxSkew: 1}\n"
		 "      - {topologyKey: zone, whenUnsatisfiable: ScheduleAnyway, maxSkew: 2}\n",
		 DEPLOY_HEAD "spec:\n  template:\n    spec:\n      topologySpreadConstraints:\n"
		 "      - {topologyKey: zone, whenUnsatisfiable: ScheduleAnyway, maxSkew: 5}\n"
		 "      - {topologyKey: host, whenUnsatisfiable: DoNotSchedule, maxSkew: 1}\n",
		 DEPLOY_HEAD "spec:\n  template:\n    spec:\n      topologySpreadConstraints:\n"
		 "      - {topologyKey: zone, whenUnsatisfiable: DoNotSchedule, maxSkew: 1}\n"
		 "      - {topologyKey: zone, whenUnsatisfiable: ScheduleAnyway, maxSkew: 5}\n"
		 "      - {topologyKey: host, whenUnsatisfiable: DoNotSchedule, maxSkew: 1}\n");
	/* kustomize silently ignores such an item; strata says so */
	merge_fails(a, "apps", "Deployment",
		    DEPLOY_HEAD "spec:\n  template:\n    spec:\n      topologySpreadConstraints:\n"
		    "      - {topologyKey: zone, whenUnsatisfiable: DoNotSchedule}\n",
		    DEPLOY_HEAD "spec:\n  template:\n    spec:\n      topologySpreadConstraints:\n"
		    "      - {topologyKey: zone, maxSkew: 3}\n",
		    9, "missing merge key 'whenUnsatisfiable'");
}

/* ---- metadata ---- */

static void test_merge__finalizers_set_union(void **state)
{
	strata_node *r = merge_ok(*state, "apps", "Deployment",
		 DEPLOY_HEAD "  finalizers: [a, b]\n",
		 DEPLOY_HEAD "  finalizers: [c, a, d, c]\n",
		 DEPLOY_HEAD "  finalizers: [a, b, c, d]\n");

	assert_dump(strata_node_at(r, "metadata", "finalizers", NULL), "[a, b, c, d]");
}

static void test_merge__finalizers_set_union_large(void **state)
{
	strata_arena *a = *state;
	strata_buf base = STRATA_BUF_INIT, patch = STRATA_BUF_INIT, want = STRATA_BUF_INIT;

	strata_buf_puts(&base, "kind: Service\nmetadata:\n  finalizers:\n");
	strata_buf_puts(&patch, "kind: Service\nmetadata:\n  finalizers:\n");
	strata_buf_puts(&want, "kind: Service\nmetadata:\n  finalizers:\n");
	for (int i = 0; i < 100; i++)
		strata_buf_printf(&base, "  - f%d\n", i);
	for (int i = 50; i < 150; i++)
		strata_buf_printf(&patch, "  - f%d\n", i);
	for (int i = 0; i < 150; i++)
		strata_buf_printf(&want, "  - f%d\n", i);
	merge_ok(a, "", "Service", base.ptr, patch.ptr, want.ptr);
	strata_buf_free(&base);
	strata_buf_free(&patch);
	strata_buf_free(&want);
}

static void test_merge__delete_from_primitive_list(void **state)
{
	merge_ok(*state, "apps", "Deployment",
		 DEPLOY_HEAD "  finalizers: [a, b, c]\nspec:\n  template:\n    spec:\n"
		 "      containers:\n      - {name: app, args: [x, y, z]}\n",
		 DEPLOY_HEAD "  $deleteFromPrimitiveList/finalizers: [b, nope]\n"
		 "  $setElementOrder/finalizers: [c, a]\n"
		 "spec:\n  template:\n    spec:\n"
		 "      containers:\n      - {name: app, $deleteFromPrimitiveList/args: [y]}\n",
		 DEPLOY_HEAD "  finalizers: [a, c]\nspec:\n  template:\n    spec:\n"
		 "      containers:\n      - {name: app, args: [x, z]}\n");
}

static void test_merge__owner_references_by_uid(void **state)
{
	merge_ok(*state, "", "ConfigMap",
		 "kind: ConfigMap\nmetadata:\n  ownerReferences:\n  - {uid: u1, name: a}\n  - {uid: u2, name: b}\n",
		 "kind: ConfigMap\nmetadata:\n  ownerReferences:\n  - {uid: u2, name: b2}\n  - {uid: u3, name: c}\n",
		 "kind: ConfigMap\nmetadata:\n  ownerReferences:\n  - {uid: u1, name: a}\n"
		 "  - {uid: u2, name: b2}\n  - {uid: u3, name: c}\n");
}

static void test_merge__service_account_secrets_and_webhooks(void **state)
{
	strata_arena *a = *state;

	merge_ok(a, "", "ServiceAccount",
		 "kind: ServiceAccount\nsecrets: [{name: s1}]\nimagePullSecrets: [{name: p1}]\n",
		 "kind: ServiceAccount\nsecrets: [{name: s2}]\nimagePullSecrets: [{name: p2}]\n",
		 "kind: ServiceAccount\nsecrets: [{name: s1}, {name: s2}]\n"
		 "imagePullSecrets: [{name: p2}]\n");
	merge_ok(a, "admissionregistration.k8s.io", "MutatingWebhookConfiguration",
		 "kind: MutatingWebhookConfiguration\nwebhooks:\n"
		 "- {name: a, sideEffects: None}\n- {name: b, sideEffects: None}\n",
		 "kind: MutatingWebhookConfiguration\nwebhooks:\n- {name: b, timeoutSeconds: 5}\n",
		 "kind: MutatingWebhookConfiguration\nwebhooks:\n"
		 "- {name: a, sideEffects: None}\n- {name: b, sideEffects: None, timeoutSeconds: 5}\n");
	/* RBAC rules have no merge key: replaced */
	merge_ok(a, "rbac.authorization.k8s.io", "Role",
		 "kind: Role\nrules: [{verbs: [get]}]\n",
		 "kind: Role\nrules: [{verbs: [list]}]\n",
		 "kind: Role\nrules: [{verbs: [list]}]\n");
}

/* ---- directives ---- */

static void test_merge__patch_delete_document(void **state)
{
	strata_arena *a = *state;
	strata_node *b = y(a, DEPLOY_HEAD "spec: {replicas: 1}\n");
	strata_node *want = strata_node_copy(a, b);
	strata_node *p = y(a, DEPLOY_HEAD "$patch: delete\n");
	strata_error err = { 0 };
	bool del = false;

	assert_int_equal(patch_into(a, &b, p, "apps", "Deployment", &del, &err), 0);
	assert_true(del);
	assert_same(b, want);
}

static void test_merge__patch_delete_map(void **state)
{
	merge_ok(*state, "apps", "Deployment",
		 DEPLOY_HEAD "  annotations: {a: '1'}\n  labels: {l: '1'}\n",
		 DEPLOY_HEAD "  annotations:\n    $patch: delete\n",
		 DEPLOY_HEAD "  labels: {l: '1'}\n");
}

static void test_merge__patch_replace_map(void **state)
{
	merge_ok(*state, "apps", "Deployment",
		 DEPLOY_HEAD "  labels: {a: '1', b: '2'}\nspec:\n  template:\n    spec:\n"
		 "      nodeSelector: {disk: ssd, zone: a}\n",
		 DEPLOY_HEAD "  labels:\n    $patch: replace\n    c: '3'\nspec:\n  template:\n"
		 "    spec:\n      nodeSelector: {$patch: replace, zone: b}\n",
		 DEPLOY_HEAD "  labels: {c: '3'}\nspec:\n  template:\n    spec:\n"
		 "      nodeSelector: {zone: b}\n");
}

static void test_merge__patch_replace_document(void **state)
{
	merge_ok(*state, "", "ConfigMap",
		 "kind: ConfigMap\nmetadata: {name: a}\ndata: {x: '1'}\n",
		 "$patch: replace\nkind: ConfigMap\nmetadata: {name: a}\ndata: {y: '2'}\n",
		 "kind: ConfigMap\nmetadata: {name: a}\ndata: {y: '2'}\n");
}

static void test_merge__explicit_patch_merge_directive(void **state)
{
	merge_ok(*state, "", "ConfigMap",
		 "kind: ConfigMap\ndata: {x: '1'}\n",
		 "kind: ConfigMap\ndata: {$patch: merge, y: '2'}\n",
		 "kind: ConfigMap\ndata: {x: '1', y: '2'}\n");
}

static void test_merge__invalid_patch_directive(void **state)
{
	merge_fails(*state, "", "ConfigMap",
		    "kind: ConfigMap\ndata: {x: '1'}\n",
		    "kind: ConfigMap\ndata:\n  $patch: remove\n",
		    3, "invalid $patch directive 'remove'");
}

static void test_merge__explicit_retain_keys(void **state)
{
	merge_ok(*state, "", "ConfigMap",
		 "kind: ConfigMap\nspec: {a: 1, b: 2, c: 3}\n",
		 "kind: ConfigMap\nspec:\n  $retainKeys: [a, d]\n  d: 4\n",
		 "kind: ConfigMap\nspec: {a: 1, d: 4}\n");
	merge_fails(*state, "", "ConfigMap",
		    "kind: ConfigMap\nspec: {a: 1}\n",
		    "kind: ConfigMap\nspec:\n  $retainKeys: a\n",
		    3, "'$retainKeys' must be a list of field names");
}

static void test_merge__recreate_drops_rolling_update(void **state)
{
	strata_arena *a = *state;
	const char *base = DEPLOY_HEAD "spec:\n  strategy:\n    type: RollingUpdate\n"
			   "    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}\n";

	/* kustomize keeps rollingUpdate, which the API server rejects
	 * (issues 3981, 2037) */
	merge_ok(a, "apps", "Deployment", base,
		 DEPLOY_HEAD "spec:\n  strategy:\n    type: Recreate\n",
		 DEPLOY_HEAD "spec:\n  strategy:\n    type: Recreate\n");
	/* same type: a plain merge */
	merge_ok(a, "apps", "Deployment", base,
		 DEPLOY_HEAD "spec:\n  strategy:\n    type: RollingUpdate\n"
		 "    rollingUpdate: {maxSurge: 2}\n",
		 DEPLOY_HEAD "spec:\n  strategy:\n    type: RollingUpdate\n"
		 "    rollingUpdate: {maxSurge: 2, maxUnavailable: 0}\n");
	/* no type in the patch: a plain merge */
	merge_ok(a, "apps", "Deployment", base,
		 DEPLOY_HEAD "spec:\n  strategy:\n    rollingUpdate: {maxSurge: 3}\n",
		 DEPLOY_HEAD "spec:\n  strategy:\n    type: RollingUpdate\n"
		 "    rollingUpdate: {maxSurge: 3, maxUnavailable: 0}\n");
	/* the base's missing type means RollingUpdate */
	merge_ok(a, "apps", "Deployment",
		 DEPLOY_HEAD "spec:\n  strategy:\n    rollingUpdate: {maxSurge: 1}\n",
		 DEPLOY_HEAD "spec:\n  strategy:\n    type: Recreate\n",
		 DEPLOY_HEAD "spec:\n  strategy:\n    type: Recreate\n");
	/* switching back: the patch gives its own rollingUpdate */
	merge_ok(a, "apps", "Deployment",
		 DEPLOY_HEAD "spec:\n  strategy:\n    type: Recreate\n",
		 DEPLOY_HEAD "spec:\n  strategy:\n    type: RollingUpdate\n"
		 "    rollingUpdate: {maxSurge: 1}\n",
		 DEPLOY_HEAD "spec:\n  strategy:\n    type: RollingUpdate\n"
		 "    rollingUpdate: {maxSurge: 1}\n");
	/* StatefulSet's updateStrategy is not a retainKeys field */
	merge_ok(a, "apps", "StatefulSet",
		 "kind: StatefulSet\nspec:\n  updateStrategy:\n    type: RollingUpdate\n"
		 "    rollingUpdate: {partition: 1}\n",
		 "kind: StatefulSet\nspec:\n  updateStrategy:\n    type: OnDelete\n",
		 "kind: StatefulSet\nspec:\n  updateStrategy:\n    type: OnDelete\n"
		 "    rollingUpdate: {partition: 1}\n");
}

static void test_merge__volume_source_switch_drops_old_source(void **state)
{
	strata_arena *a = *state;

	/* kustomize keeps both sources (an invalid volume) */
	merge_ok(a, "apps", "Deployment",
		 DEPLOY_HEAD "spec:\n  template:\n    spec:\n      volumes:\n"
		 "      - {name: cfg, configMap: {name: app-config, defaultMode: 420}}\n"
		 "      - {name: tmp, emptyDir: {}}\n",
		 DEPLOY_HEAD "spec:\n  template:\n    spec:\n      volumes:\n"
		 "      - {name: cfg, secret: {secretName: app-secret}}\n",
		 DEPLOY_HEAD "spec:\n  template:\n    spec:\n      volumes:\n"
		 "      - {name: cfg, secret: {secretName: app-secret}}\n"
		 "      - {name: tmp, emptyDir: {}}\n");
	/* same source: merged */
	merge_ok(a, "", "Pod",
		 "kind: Pod\nspec:\n  volumes:\n"
		 "  - {name: cfg, configMap: {name: app-config, defaultMode: 420}}\n",
		 "kind: Pod\nspec:\n  volumes:\n  - {name: cfg, configMap: {name: other}}\n",
		 "kind: Pod\nspec:\n  volumes:\n"
		 "  - {name: cfg, configMap: {name: other, defaultMode: 420}}\n");
	/* only the name: nothing to switch */
	merge_ok(a, "", "Pod",
		 "kind: Pod\nspec:\n  volumes:\n  - {name: cfg, configMap: {name: c}}\n",
		 "kind: Pod\nspec:\n  volumes:\n  - {name: cfg}\n",
		 "kind: Pod\nspec:\n  volumes:\n  - {name: cfg, configMap: {name: c}}\n");
}

/* ---- unknown kinds ---- */

static void test_merge__unknown_kind_maps_merge_lists_replace(void **state)
{
	merge_ok(*state, "example.com", "Widget",
		 "kind: Widget\nmetadata:\n  name: w\n  finalizers: [a]\n"
		 "spec:\n  m: {a: 1, b: 2}\n"
		 "  containers:\n  - {name: a, image: a}\n  - {name: b, image: b}\n",
		 "kind: Widget\nmetadata:\n  name: w\n  finalizers: [b]\n"
		 "spec:\n  m: {b: null, c: 3}\n"
		 "  containers:\n  - {name: b, image: b2}\n",
		 "kind: Widget\nmetadata:\n  name: w\n  finalizers: [b]\n"
		 "spec:\n  m: {a: 1, c: 3}\n"
		 "  containers:\n  - {name: b, image: b2}\n");
}

/* ---- scale ---- */

static void test_merge__large_keyed_list_is_linear(void **state)
{
	strata_arena *a = *state;
	enum { N = 20000 };
	strata_buf base = STRATA_BUF_INIT, patch = STRATA_BUF_INIT;
	strata_node *b, *p, *env;
	strata_error err = { 0 };
	bool del = false;
	int i;

	strata_buf_puts(&base, "kind: Pod\nspec:\n  containers:\n  - name: app\n    env:\n");
	strata_buf_puts(&patch, "kind: Pod\nspec:\n  containers:\n  - name: app\n    env:\n");
	for (i = 0; i < N; i++)
		strata_buf_printf(&base, "    - {name: V%d, value: b%d}\n", i, i);
	/* update every odd one in reverse order, delete every 10th, add N/2 */
	for (i = N - 1; i >= 0; i--) {
		if (i % 10 == 0)
			strata_buf_printf(&patch, "    - {name: V%d, $patch: delete}\n", i);
		else if (i % 2)
			strata_buf_printf(&patch, "    - {name: V%d, value: p%d}\n", i, i);
	}
	for (i = N; i < N + N / 2; i++)
		strata_buf_printf(&patch, "    - {name: V%d, value: n%d}\n", i, i);
	b = y(a, base.ptr);
	p = y(a, patch.ptr);
	assert_int_equal(patch_into(a, &b, p, "", "Pod", &del, &err), 0);
	env = strata_node_at(b, "spec", NULL);
	env = strata_map_get(strata_map_get(env, "containers")->u.seq.items[0], "env");
	assert_int_equal(env->u.seq.n, N - N / 10 + N / 2);
	{
		uint32_t k = 0;
		char want[64];

		for (i = 0; i < N; i++) {
			strata_node *item = env->u.seq.items[k];

			if (i % 10 == 0)
				continue;
			snprintf(want, sizeof(want), "V%d", i);
			assert_true(strata_scalar_is(strata_map_get(item, "name"), want));
			snprintf(want, sizeof(want), "%c%d", i % 2 ? 'p' : 'b', i);
			assert_true(strata_scalar_is(strata_map_get(item, "value"), want));
			k++;
		}
		for (i = N; i < N + N / 2; i++, k++) {
			snprintf(want, sizeof(want), "V%d", i);
			assert_true(strata_scalar_is(strata_map_get(env->u.seq.items[k], "name"), want));
		}
	}
	strata_buf_free(&base);
	strata_buf_free(&patch);
}

static void test_merge__large_map(void **state)
{
	strata_arena *a = *state;
	strata_buf base = STRATA_BUF_INIT, patch = STRATA_BUF_INIT;
	strata_node *b, *p, *data;
	strata_error err = { 0 };
	bool del = false;

	strata_buf_puts(&base, "kind: ConfigMap\ndata:\n");
	strata_buf_puts(&patch, "kind: ConfigMap\ndata:\n");
	for (int i = 0; i < 5000; i++)
		strata_buf_printf(&base, "  k%d: b%d\n", i, i);
	for (int i = 2500; i < 7500; i++)
		strata_buf_printf(&patch, "  k%d: %s\n", i, i % 2 ? "null" : "p");
	b = y(a, base.ptr);
	p = y(a, patch.ptr);
	assert_int_equal(patch_into(a, &b, p, "", "ConfigMap", &del, &err), 0);
	data = strata_map_get(b, "data");
	/* 0..2499 kept, 2500..4999 even updated, 5000..7499 even added */
	assert_int_equal(data->u.map.n, 2500 + 1250 + 1250);
	assert_true(strata_scalar_is(data->u.map.pairs[0].value, "b0"));
	assert_true(strata_scalar_is(strata_map_get(data, "k2500"), "p"));
	assert_null(strata_map_get(data, "k2501"));
	assert_true(strata_scalar_is(data->u.map.pairs[data->u.map.n - 1].key, "k7498"));
	strata_buf_free(&base);
	strata_buf_free(&patch);
}

static void test_merge__large_new_values(void **state)
{
	strata_arena *a = *state;
	enum { N = 20000 };
	strata_buf patch = STRATA_BUF_INIT;
	strata_node *b, *p, *data, *env;
	strata_error err = { 0 };
	bool del = false;

	/* nothing in the base: the patch's values are cleaned into new
	 * nodes, which must be indexed as they grow */
	strata_buf_puts(&patch, "kind: Pod\ndata:\n");
	for (int i = 0; i < N; i++)
		strata_buf_printf(&patch, "  k%d: v%d\n", i, i);
	strata_buf_puts(&patch, "spec:\n  containers:\n  - name: app\n    env:\n");
	for (int i = 0; i < N; i++)
		strata_buf_printf(&patch, "    - {name: V%d, value: a}\n", i % (N / 2));
	b = y(a, "kind: Pod\n");
	p = y(a, patch.ptr);
	assert_int_equal(patch_into(a, &b, p, "", "Pod", &del, &err), 0);
	data = strata_map_get(b, "data");
	assert_int_equal(data->u.map.n, N);
	env = strata_node_at(b, "spec", NULL);
	env = strata_map_get(strata_map_get(env, "containers")->u.seq.items[0], "env");
	/* duplicate keys within the patch merge into one item */
	assert_int_equal(env->u.seq.n, N / 2);
	strata_buf_free(&patch);
}

/* ---- schema ---- */

static void test_merge__schema_table(void **state)
{
	const strata_schema *s, *c;
	const strata_pod_location *loc;
	strata_schema_key k1, k2;
	strata_arena *a = *state;
	strata_node *item;

	(void)state;
	assert_null(strata_schema_for("example.com", "Widget"));
	assert_null(strata_schema_for("", "Deployment"));
	assert_non_null(strata_schema_for("extensions", "DaemonSet"));
	assert_non_null(strata_schema_for(NULL, "Service"));
	s = strata_schema_for("batch", "CronJob");
	s = strata_schema_field(strata_schema_field(s, "spec"), "jobTemplate");
	s = strata_schema_field(strata_schema_field(s, "spec"), "template");
	s = strata_schema_field(s, "spec");
	c = strata_schema_field(s, "containers");
	assert_true(strata_schema_is_keyed(c));
	assert_string_equal(c->keys[0], "name");
	c = strata_schema_field(strata_schema_item(c), "ports");
	assert_int_equal(c->nkeys, 2);
	item = y(a, "{containerPort: 80}");
	assert_true(strata_schema_item_key(c, item, &k1, NULL));
	item = y(a, "{containerPort: 80, protocol: TCP}");
	assert_true(strata_schema_item_key(c, item, &k2, NULL));
	assert_true(strata_schema_key_equal(c, &k1, &k2));
	assert_true(strata_schema_key_hash(c, &k1) == strata_schema_key_hash(c, &k2));
	assert_null(strata_schema_field(s, "tolerations"));
	assert_true(strata_schema_is_set(strata_schema_field(
		strata_schema_field(strata_schema_for("", "Secret"), "metadata"),
		"finalizers")));

	loc = strata_schema_pod_location("batch", "CronJob");
	assert_non_null(loc);
	assert_string_equal(loc->template_path[3], "template");
	assert_null(loc->template_path[4]);
	assert_null(strata_schema_pod_location("", "Pod")->template_path[0]);
	assert_null(strata_schema_pod_location("", "Service"));

	item = y(a, "kind: Job\nspec:\n  template:\n    metadata: {labels: {a: b}}\n"
		    "    spec:\n      containers: []\n");
	assert_non_null(strata_map_get(strata_schema_pod_template(item, "batch", "Job"),
				       "metadata"));
	assert_non_null(strata_map_get(strata_schema_pod_spec(item, "batch", "Job"),
				       "containers"));
	assert_null(strata_schema_pod_spec(item, "batch", "CronJob"));
	assert_string_equal(strata_schema_container_fields[1], "containers");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_merge__maps_merge_recursively),
		T(test_merge__null_deletes_key),
		T(test_merge__quoted_null_is_a_value),
		T(test_merge__new_map_drops_nulls_and_directives),
		T(test_merge__type_change_replaces),
		T(test_merge__scalars_and_unkeyed_lists_replace),
		T(test_merge__keyed_list_keeps_base_order),
		T(test_merge__keyed_lists_everywhere_in_pod_spec),
		T(test_merge__every_pod_bearing_kind),
		T(test_merge__delete_list_item),
		T(test_merge__delete_then_readd_same_key),
		T(test_merge__replace_list),
		T(test_merge__replace_one_list_item),
		T(test_merge__replace_set_and_unkeyed_lists),
		T(test_merge__delete_item_without_key_is_an_error),
		T(test_merge__null_inside_keyed_item),
		T(test_merge__empty_patch_values_change_nothing),
		T(test_merge__missing_merge_key_is_an_error),
		T(test_merge__scalar_item_in_keyed_list_is_an_error),
		T(test_merge__failed_patch_leaves_no_hole),
		T(test_merge__container_ports_protocol_defaults_to_tcp),
		T(test_merge__service_ports_keyed_on_port_and_protocol),
		T(test_merge__missing_container_port_is_an_error),
		T(test_merge__topology_spread_two_keys),
		T(test_merge__finalizers_set_union),
		T(test_merge__finalizers_set_union_large),
		T(test_merge__delete_from_primitive_list),
		T(test_merge__owner_references_by_uid),
		T(test_merge__service_account_secrets_and_webhooks),
		T(test_merge__patch_delete_document),
		T(test_merge__patch_delete_map),
		T(test_merge__patch_replace_map),
		T(test_merge__patch_replace_document),
		T(test_merge__explicit_patch_merge_directive),
		T(test_merge__invalid_patch_directive),
		T(test_merge__explicit_retain_keys),
		T(test_merge__recreate_drops_rolling_update),
		T(test_merge__volume_source_switch_drops_old_source),
		T(test_merge__unknown_kind_maps_merge_lists_replace),
		T(test_merge__large_keyed_list_is_linear),
		T(test_merge__large_map),
		T(test_merge__large_new_values),
		T(test_merge__schema_table),
#undef T
	};

	cow = false;
	if (cmocka_run_group_tests_name("merge", tests, NULL, NULL))
		return 1;
	cow = true;
	return cmocka_run_group_tests_name("merge (copy-on-write)", tests, NULL, NULL);
}
