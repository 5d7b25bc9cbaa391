/*
 * test_transform.c - images, namespace, name prefix/suffix with reference
 * fix-ups, labels and annotations; the expectations follow what
 * `kubectl kustomize` (v5.5) produces for the same inputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "strata/resource.h"
#include "strata/transform.h"
#include "strata/yaml.h"

#include "test_fixture.h"

static void load(fixture *f, const char *yaml)
{
	load_file(f, "in.yaml", yaml);
}

/* Text of the scalar at a path of keys; "[N]" steps index a sequence. */
static const char *at(const strata_node *n, ...)
{
	va_list ap;
	const char *k;

	va_start(ap, n);
	while (n && (k = va_arg(ap, const char *)) != NULL) {
		if (k[0] == '[') {
			unsigned i = (unsigned)atoi(k + 1);
			n = n->type == STRATA_NODE_SEQ && i < n->u.seq.n ? n->u.seq.items[i] : NULL;
		} else {
			n = strata_map_get(n, k);
		}
	}
	va_end(ap);
	return n ? strata_scalar_str(n) : NULL;
}

/* ---- images ---- */

static const char *images_yaml =
	"apiVersion: apps/v1\n"
	"kind: Deployment\n"
	"metadata: {name: d}\n"
	"spec:\n"
	"  template:\n"
	"    spec:\n"
	"      containers:\n"
	"      - {name: a, image: nginx}\n"
	"      - {name: b, image: \"nginx:1.0\"}\n"
	"      - {name: c, image: \"nginx@sha256:zzz\"}\n"
	"      - {name: d, image: \"docker.io/nginx:1.0\"}\n"
	"      - {name: e, image: \"redis:7\"}\n"
	"      - {name: f, image: \"busybox:1@sha256:old\"}\n"
	"      - {name: g, image: \"localhost:5000/foo\"}\n"
	"      - {name: h, image: \"foo:1.0@sha256:x\"}\n"
	"      - {name: i, image: \"localhost:5000/app:2\"}\n"
	"      - {name: j, image: \"alpine:3\"}\n"
	"      initContainers:\n"
	"      - {name: i, image: nginx}\n"
	"---\n"
	"apiVersion: example.com/v1\n"
	"kind: Widget\n"
	"metadata: {name: w}\n"
	"spec:\n"
	"  deep:\n"
	"    x:\n"
	"      containers:\n"
	"      - {name: a, image: nginx}\n"
	"    image: nginx\n"
	"---\n"
	"apiVersion: v1\n"
	"kind: Pod\n"
	"metadata: {name: p}\n"
	"spec:\n"
	"  ephemeralContainers:\n"
	"  - {name: a, image: nginx}\n";

static void test_transform__images(void **state)
{
	fixture *f = *state;
	strata_node *d, *w, *p;

	load(f, images_yaml);
	kv_add(&f->kv, "nginx", "reg.example.com/nginx:1.25");
	kv_add(&f->kv, "redis", "@sha256:abc");
	kv_add(&f->kv, "busybox", ":2@sha256:def");
	kv_add(&f->kv, "foo", "bar");
	kv_add(&f->kv, "localhost:5000/app", ":3");
	kv_add(&f->kv, "alpine", "mirror/alpine@sha256:pin");
	assert_int_equal(strata_transform_images(f->a, f->s, &f->kv, &f->err), 0);
	d = doc(f, "Deployment", "d");
#define IMG(i) at(d, "spec", "template", "spec", "containers", "[" #i "]", "image", NULL)
	assert_string_equal(IMG(0), "reg.example.com/nginx:1.25");
	assert_string_equal(IMG(1), "reg.example.com/nginx:1.25");
	assert_string_equal(IMG(2), "reg.example.com/nginx:1.25"); /* new tag drops digest */
	assert_string_equal(IMG(3), "docker.io/nginx:1.0");        /* other name */
	assert_string_equal(IMG(4), "redis@sha256:abc");           /* digest drops tag */
	assert_string_equal(IMG(5), "busybox:2@sha256:def");
	assert_string_equal(IMG(6), "localhost:5000/foo");         /* port is not a tag */
	assert_string_equal(IMG(7), "bar:1.0@sha256:x");           /* name only: keep rest */
	assert_string_equal(IMG(8), "localhost:5000/app:3");
	assert_string_equal(IMG(9), "mirror/alpine@sha256:pin");
#undef IMG
	assert_string_equal(at(d, "spec", "template", "spec", "initContainers", "[0]",
			       "image", NULL),
			    "reg.example.com/nginx:1.25");
	/* container lists anywhere (as kustomize), but not other image fields */
	w = doc(f, "Widget", "w");
	assert_string_equal(at(w, "spec", "deep", "x", "containers", "[0]", "image", NULL),
			    "reg.example.com/nginx:1.25");
	assert_string_equal(at(w, "spec", "deep", "image", NULL), "nginx");
	p = doc(f, "Pod", "p");
	assert_string_equal(at(p, "spec", "ephemeralContainers", "[0]", "image", NULL),
			    "reg.example.com/nginx:1.25");
}

static void test_transform__images_bad_value(void **state)
{
	fixture *f = *state;

	load(f, images_yaml);
	kv_add(&f->kv, "nginx", "ok:1");
	kv_add(&f->kv, "redis", "redis:");
	assert_int_equal(strata_transform_images(f->a, f->s, &f->kv, &f->err),
			 STRATA_ECONFIG);
	assert_string_equal(f->err.file, "strata.ini");
	assert_int_equal(f->err.line, 8);
	assert_non_null(strstr(f->err.msg, "invalid image value 'redis:' for 'image.redis'"));
	/* nothing changed */
	assert_string_equal(at(doc(f, "Deployment", "d"), "spec", "template", "spec",
			       "containers", "[0]", "image", NULL), "nginx");
}

/* ---- namespace ---- */

static void test_transform__namespace(void **state)
{
	fixture *f = *state;
	strata_node *rb, *crb;

	load(f,
	     "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa1}\n---\n"
	     "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa2, namespace: other}\n---\n"
	     "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: rb}\n"
	     "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}\n"
	     "subjects:\n"
	     "- {kind: ServiceAccount, name: sa1}\n"                        /* 0 in set */
	     "- {kind: ServiceAccount, name: sa1, namespace: default}\n"    /* 1 in set */
	     "- {kind: ServiceAccount, name: outside, namespace: default}\n" /* 2 */
	     "- {kind: ServiceAccount, name: outside2}\n"                   /* 3 */
	     "- {kind: ServiceAccount, name: sa2, namespace: other}\n"      /* 4 in set */
	     "- {kind: User, name: sa1}\n"                                  /* 5 */
	     "- {kind: ServiceAccount, name: sa1, namespace: xyz}\n"        /* 6 */
	     "- {kind: ServiceAccount, name: default, namespace: foo}\n"    /* 7 */
	     "---\n"
	     "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\n"
	     "metadata: {name: crb}\n"
	     "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: r}\n"
	     "subjects:\n"
	     "- {kind: ServiceAccount, name: sa1, namespace: default}\n"
	     "- {kind: ServiceAccount, name: outside, namespace: default}\n"
	     "---\n"
	     "apiVersion: v1\nkind: Namespace\nmetadata: {name: foo}\n---\n"
	     "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n---\n"
	     "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
	     "metadata: {name: widgets.example.com}\n---\n"
	     "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: cr}\n"
	     "---\n"
	     "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: fast}\n");
	assert_int_equal(strata_transform_namespace(f->a, f->s, "shop", &f->err), 0);

	/* namespaced kinds, unknown kinds included */
	assert_string_equal(at(doc(f, "ServiceAccount", "sa1"), "metadata", "namespace", NULL),
			    "shop");
	assert_string_equal(at(doc(f, "ServiceAccount", "sa2"), "metadata", "namespace", NULL),
			    "shop");
	assert_string_equal(at(doc(f, "Widget", "w"), "metadata", "namespace", NULL), "shop");
	assert_non_null(strata_resset_find(f->s, "example.com", "Widget", "shop", "w"));
	/* never cluster-scoped ones */
	assert_null(at(doc(f, "ClusterRole", "cr"), "metadata", "namespace", NULL));
	assert_null(at(doc(f, "ClusterRoleBinding", "crb"), "metadata", "namespace", NULL));
	assert_null(at(doc(f, "StorageClass", "fast"), "metadata", "namespace", NULL));
	assert_null(at(doc(f, "CustomResourceDefinition", "widgets.example.com"), "metadata",
		       "namespace", NULL));
	/* kustomize renames the Namespace object itself */
	assert_null(at(doc(f, "Namespace", "shop"), "metadata", "namespace", NULL));

	rb = doc(f, "RoleBinding", "rb");
	assert_string_equal(at(rb, "subjects", "[0]", "namespace", NULL), "shop");
	assert_string_equal(at(rb, "subjects", "[1]", "namespace", NULL), "shop");
	assert_string_equal(at(rb, "subjects", "[2]", "namespace", NULL), "default");
	assert_null(at(rb, "subjects", "[3]", "namespace", NULL));
	assert_string_equal(at(rb, "subjects", "[4]", "namespace", NULL), "shop");
	assert_null(at(rb, "subjects", "[5]", "namespace", NULL));
	assert_string_equal(at(rb, "subjects", "[6]", "namespace", NULL), "xyz");
	assert_string_equal(at(rb, "subjects", "[7]", "namespace", NULL), "shop");
	crb = doc(f, "ClusterRoleBinding", "crb");
	assert_string_equal(at(crb, "subjects", "[0]", "namespace", NULL), "shop");
	assert_string_equal(at(crb, "subjects", "[1]", "namespace", NULL), "default");

	/* a new metadata.namespace is one node for every resource, added with
	 * an exact array (no doubling left behind in the arena) */
	{
		strata_node *m1 = strata_map_get(doc(f, "ServiceAccount", "sa1"), "metadata");
		strata_node *m2 = strata_map_get(doc(f, "Widget", "w"), "metadata");

		assert_ptr_equal(strata_map_get(m1, "namespace"),
				 strata_map_get(m2, "namespace"));
		assert_int_equal(m1->u.map.cap, m1->u.map.n);
	}
}

/* strata_map_reserve: exact room once, then appends stay in place. */
static void test_transform__map_reserve(void **state)
{
	fixture *f = *state;
	strata_node *m = strata_node_map(f->a), *k[3], *v;
	strata_pair *before;

	v = strata_node_scalar_str(f->a, "x", STRATA_STYLE_STRING);
	assert_non_null(m);
	assert_non_null(v);
	assert_int_equal(strata_map_set(f->a, m, "a", v), 0);
	assert_int_equal(strata_map_reserve(f->a, m, 3), 0);
	assert_int_equal(m->u.map.cap, 4);
	before = m->u.map.pairs;
	for (int i = 0; i < 3; i++) {
		char name[2] = { (char)('b' + i), 0 };

		k[i] = strata_node_key(f->a, name, 1, STRATA_STYLE_PLAIN, NULL);
		assert_non_null(k[i]);
		assert_int_equal(strata_map_append(f->a, m, k[i], v), 0);
	}
	assert_ptr_equal(m->u.map.pairs, before);
	assert_int_equal(m->u.map.n, 4);
	assert_string_equal(m->u.map.pairs[0].key->u.scalar.str, "a");
	assert_string_equal(m->u.map.pairs[3].key->u.scalar.str, "d");
	/* enough room already: nothing moves */
	assert_int_equal(strata_map_reserve(f->a, m, 0), 0);
	assert_ptr_equal(m->u.map.pairs, before);
}

static void test_transform__namespace_value_is_a_string(void **state)
{
	fixture *f = *state;
	strata_buf out = STRATA_BUF_INIT;

	load(f, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: old}\n");
	assert_int_equal(strata_transform_namespace(f->a, f->s, "yes", &f->err), 0);
	assert_int_equal(strata_scalar_kind_of(strata_node_at(doc(f, "ConfigMap", "c"),
							      "metadata", "namespace", NULL)),
			 STRATA_SCALAR_STR);
	assert_int_equal(strata_yaml_emit(&out, doc(f, "ConfigMap", "c")), 0);
	assert_non_null(strstr(out.ptr, "namespace: \"yes\"") ? out.ptr
			: strstr(out.ptr, "namespace: 'yes'"));
	strata_buf_free(&out);
}

static void test_transform__namespace_collision(void **state)
{
	fixture *f = *state;

	load(f, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: a}\n---\n"
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: b}\n");
	assert_int_equal(strata_transform_namespace(f->a, f->s, "shop", &f->err),
			 STRATA_ECONFLICT);
}

static void test_transform__namespace_moves_references_into_the_set(void **state)
{
	fixture *f = *state;
	strata_node *vwc;

	load(f,
	     "apiVersion: v1\nkind: Service\nmetadata: {name: svc, namespace: other}\n---\n"
	     "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: pvc}\n---\n"
	     "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\n"
	     "metadata: {name: vwc}\n"
	     "webhooks:\n"
	     "- {name: a.x, clientConfig: {service: {name: svc}}}\n"
	     "- {name: b.x, clientConfig: {service: {name: svc, namespace: other}}}\n"
	     "- {name: c.x, clientConfig: {service: {name: ext, namespace: elsewhere}}}\n"
	     "- {name: d.x, clientConfig: {url: \"https://x\"}}\n"
	     "---\n"
	     "apiVersion: apiregistration.k8s.io/v1\nkind: APIService\n"
	     "metadata: {name: v1.local.com}\nspec: {group: local.com}\n---\n"
	     "apiVersion: apiregistration.k8s.io/v1\nkind: APIService\n"
	     "metadata: {name: v1.ext.com}\n"
	     "spec: {group: ext.com, service: {name: ext, namespace: elsewhere}}\n---\n"
	     "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv}\n"
	     "spec: {claimRef: {name: pvc, namespace: default}}\n");
	assert_int_equal(strata_transform_namespace(f->a, f->s, "shop", &f->err), 0);
	vwc = doc(f, "ValidatingWebhookConfiguration", "vwc");
	assert_string_equal(at(vwc, "webhooks", "[0]", "clientConfig", "service", "namespace",
			       NULL), "shop");
	assert_string_equal(at(vwc, "webhooks", "[1]", "clientConfig", "service", "namespace",
			       NULL), "shop");
	assert_string_equal(at(vwc, "webhooks", "[2]", "clientConfig", "service", "namespace",
			       NULL), "elsewhere");
	/* a URL webhook gets no service */
	assert_null(strata_map_get(strata_map_get(strata_node_at(vwc, "webhooks", NULL)
							  ->u.seq.items[3], "clientConfig"),
				   "service"));
	/* kustomize invents spec.service.namespace here (an invalid object): not strata */
	assert_null(strata_node_at(doc(f, "APIService", "v1.local.com"), "spec", "service",
				   NULL));
	/* a service outside the set keeps its namespace (kustomize moves it) */
	assert_string_equal(at(doc(f, "APIService", "v1.ext.com"), "spec", "service",
			       "namespace", NULL), "elsewhere");
	/* the claim a PersistentVolume is bound to moves with it */
	assert_string_equal(at(doc(f, "PersistentVolume", "pv"), "spec", "claimRef",
			       "namespace", NULL), "shop");
}

/* ---- names ---- */

static const char *names_yaml =
	"apiVersion: v1\nkind: Namespace\nmetadata: {name: foo}\n---\n"
	"apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
	"metadata: {name: widgets.example.com}\n---\n"
	"apiVersion: apiregistration.k8s.io/v1\nkind: APIService\n"
	"metadata: {name: v1.example.com}\n"
	"spec: {service: {name: svc, namespace: default}}\n---\n"
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: cr}\n---\n"
	"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n---\n"
	"apiVersion: v1\nkind: Secret\nmetadata: {name: sec}\n---\n"
	"apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa}\n"
	"secrets: [{name: sec}]\n---\n"
	"apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: pvc}\n---\n"
	"apiVersion: v1\nkind: Service\nmetadata: {name: svc}\n"
	"spec: {selector: {app: web}}\n---\n"
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: role}\n---\n"
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: rb}\n"
	"roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: role}\n"
	"subjects:\n"
	"- {kind: ServiceAccount, name: sa}\n"
	"- {kind: ServiceAccount, name: sa, namespace: other}\n"
	"- {kind: ServiceAccount, name: ext}\n"
	"---\n"
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: rb2}\n"
	"roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cr}\n"
	"---\n"
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\n"
	"metadata: {name: crb}\n"
	"roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cr}\n"
	"subjects:\n"
	"- {kind: ServiceAccount, name: sa, namespace: default}\n"
	"---\n"
	"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"
	"spec:\n"
	"  selector: {matchLabels: {app: web}}\n"
	"  template:\n"
	"    spec:\n"
	"      serviceAccountName: sa\n"
	"      serviceAccount: sa\n"
	"      imagePullSecrets: [{name: sec}, {name: extsec}]\n"
	"      containers:\n"
	"      - name: a\n"
	"        image: x\n"
	"        env:\n"
	"        - {name: A, valueFrom: {configMapKeyRef: {name: cm, key: k}}}\n"
	"        - {name: B, valueFrom: {secretKeyRef: {name: sec, key: k}}}\n"
	"        - {name: C, valueFrom: {configMapKeyRef: {name: extcm, key: k}}}\n"
	"        - {name: D, value: cm}\n"
	"        envFrom:\n"
	"        - configMapRef: {name: cm}\n"
	"        - secretRef: {name: sec}\n"
	"      initContainers:\n"
	"      - {name: i, image: x, envFrom: [{configMapRef: {name: cm}}]}\n"
	"      volumes:\n"
	"      - {name: v1, configMap: {name: cm}}\n"
	"      - {name: v2, secret: {secretName: sec}}\n"
	"      - {name: v3, persistentVolumeClaim: {claimName: pvc}}\n"
	"      - name: v4\n"
	"        projected:\n"
	"          sources:\n"
	"          - configMap: {name: cm}\n"
	"          - secret: {name: sec}\n"
	"      - {name: v5, csi: {driver: d, nodePublishSecretRef: {name: sec}}}\n"
	"      - {name: v6, cephfs: {monitors: [m], secretRef: {name: sec}}}\n"
	"---\n"
	"apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: st}\n"
	"spec:\n"
	"  serviceName: svc\n"
	"  template: {spec: {containers: [{name: a, image: x}]}}\n"
	"---\n"
	"apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: ing}\n"
	"spec:\n"
	"  defaultBackend: {service: {name: svc, port: {number: 80}}}\n"
	"  tls: [{secretName: sec}]\n"
	"  rules:\n"
	"  - http:\n"
	"      paths:\n"
	"      - {path: /, backend: {service: {name: svc, port: {number: 80}}}}\n"
	"      - {path: /x, backend: {service: {name: ext, port: {number: 80}}}}\n"
	"---\n"
	"apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: hpa}\n"
	"spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}}\n"
	"---\n"
	"apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: hpa2}\n"
	"spec: {scaleTargetRef: {apiVersion: apps/v1, kind: StatefulSet, name: web}}\n"
	"---\n"
	"apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: cj}\n"
	"spec:\n"
	"  jobTemplate:\n"
	"    spec:\n"
	"      template:\n"
	"        spec:\n"
	"          serviceAccountName: sa\n"
	"          containers: [{name: a, image: x, envFrom: [{configMapRef: {name: cm}}]}]\n"
	"---\n"
	"apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\n"
	"metadata: {name: vwc}\n"
	"webhooks:\n"
	"- name: a.example.com\n"
	"  clientConfig: {service: {name: svc, namespace: default}}\n"
	"- name: b.example.com\n"
	"  clientConfig: {service: {name: svc, namespace: elsewhere}}\n"
	"---\n"
	"apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n"
	"spec: {configMapName: cm}\n";

static void test_transform__names_and_references(void **state)
{
	fixture *f = *state;
	strata_node *d, *pod, *c0, *rb, *ing, *vwc;

	load(f, names_yaml);
	assert_int_equal(strata_transform_names(f->a, f->s, "p-", "-s", &f->err), 0);

	/* the kinds kustomize never renames */
	doc(f, "Namespace", "foo");
	doc(f, "CustomResourceDefinition", "widgets.example.com");
	doc(f, "APIService", "v1.example.com");
	/* everything else, cluster-scoped kinds and unknown kinds included */
	doc(f, "ClusterRole", "p-cr-s");
	doc(f, "Widget", "p-w-s");
	assert_non_null(strata_resset_find(f->s, "", "ConfigMap", "", "p-cm-s"));
	assert_null(strata_resset_find(f->s, "", "ConfigMap", "", "cm"));

	d = doc(f, "Deployment", "p-web-s");
	pod = strata_node_at(d, "spec", "template", "spec", NULL);
	c0 = strata_node_at(pod, "containers", NULL)->u.seq.items[0];
	assert_string_equal(at(pod, "serviceAccountName", NULL), "p-sa-s");
	assert_string_equal(at(pod, "serviceAccount", NULL), "p-sa-s");
	assert_string_equal(at(pod, "imagePullSecrets", "[0]", "name", NULL), "p-sec-s");
	assert_string_equal(at(pod, "imagePullSecrets", "[1]", "name", NULL), "extsec");
	assert_string_equal(at(c0, "env", "[0]", "valueFrom", "configMapKeyRef", "name", NULL),
			    "p-cm-s");
	assert_string_equal(at(c0, "env", "[1]", "valueFrom", "secretKeyRef", "name", NULL),
			    "p-sec-s");
	assert_string_equal(at(c0, "env", "[2]", "valueFrom", "configMapKeyRef", "name", NULL),
			    "extcm");
	assert_string_equal(at(c0, "env", "[3]", "value", NULL), "cm");
	assert_string_equal(at(c0, "envFrom", "[0]", "configMapRef", "name", NULL), "p-cm-s");
	assert_string_equal(at(c0, "envFrom", "[1]", "secretRef", "name", NULL), "p-sec-s");
	assert_string_equal(at(pod, "initContainers", "[0]", "envFrom", "[0]", "configMapRef",
			       "name", NULL), "p-cm-s");
	assert_string_equal(at(pod, "volumes", "[0]", "configMap", "name", NULL), "p-cm-s");
	assert_string_equal(at(pod, "volumes", "[0]", "name", NULL), "v1");
	assert_string_equal(at(pod, "volumes", "[1]", "secret", "secretName", NULL), "p-sec-s");
	assert_string_equal(at(pod, "volumes", "[2]", "persistentVolumeClaim", "claimName",
			       NULL), "p-pvc-s");
	assert_string_equal(at(pod, "volumes", "[3]", "projected", "sources", "[0]",
			       "configMap", "name", NULL), "p-cm-s");
	assert_string_equal(at(pod, "volumes", "[3]", "projected", "sources", "[1]",
			       "secret", "name", NULL), "p-sec-s");
	assert_string_equal(at(pod, "volumes", "[4]", "csi", "nodePublishSecretRef", "name",
			       NULL), "p-sec-s");
	assert_string_equal(at(pod, "volumes", "[5]", "cephfs", "secretRef", "name", NULL),
			    "p-sec-s");
	/* selectors are not references */
	assert_string_equal(at(d, "spec", "selector", "matchLabels", "app", NULL), "web");

	assert_string_equal(at(doc(f, "StatefulSet", "p-st-s"), "spec", "serviceName", NULL),
			    "p-svc-s");
	assert_string_equal(at(doc(f, "ServiceAccount", "p-sa-s"), "secrets", "[0]", "name",
			       NULL), "p-sec-s");

	rb = doc(f, "RoleBinding", "p-rb-s");
	assert_string_equal(at(rb, "roleRef", "name", NULL), "p-role-s");
	assert_string_equal(at(rb, "subjects", "[0]", "name", NULL), "p-sa-s");
	assert_string_equal(at(rb, "subjects", "[1]", "name", NULL), "sa"); /* other ns */
	assert_string_equal(at(rb, "subjects", "[2]", "name", NULL), "ext");
	assert_string_equal(at(doc(f, "RoleBinding", "p-rb2-s"), "roleRef", "name", NULL),
			    "p-cr-s");
	assert_string_equal(at(doc(f, "ClusterRoleBinding", "p-crb-s"), "subjects", "[0]",
			       "name", NULL), "p-sa-s");
	assert_string_equal(at(doc(f, "ClusterRoleBinding", "p-crb-s"), "roleRef", "name",
			       NULL), "p-cr-s");

	ing = doc(f, "Ingress", "p-ing-s");
	assert_string_equal(at(ing, "spec", "defaultBackend", "service", "name", NULL),
			    "p-svc-s");
	assert_string_equal(at(ing, "spec", "tls", "[0]", "secretName", NULL), "p-sec-s");
	assert_string_equal(at(ing, "spec", "rules", "[0]", "http", "paths", "[0]", "backend",
			       "service", "name", NULL), "p-svc-s");
	assert_string_equal(at(ing, "spec", "rules", "[0]", "http", "paths", "[1]", "backend",
			       "service", "name", NULL), "ext");

	assert_string_equal(at(doc(f, "HorizontalPodAutoscaler", "p-hpa-s"), "spec",
			       "scaleTargetRef", "name", NULL), "p-web-s");
	/* no StatefulSet named web in the set */
	assert_string_equal(at(doc(f, "HorizontalPodAutoscaler", "p-hpa2-s"), "spec",
			       "scaleTargetRef", "name", NULL), "web");
	assert_string_equal(at(doc(f, "CronJob", "p-cj-s"), "spec", "jobTemplate", "spec",
			       "template", "spec", "serviceAccountName", NULL), "p-sa-s");
	assert_string_equal(at(doc(f, "APIService", "v1.example.com"), "spec", "service",
			       "name", NULL), "p-svc-s");
	vwc = doc(f, "ValidatingWebhookConfiguration", "p-vwc-s");
	assert_string_equal(at(vwc, "webhooks", "[0]", "clientConfig", "service", "name", NULL),
			    "p-svc-s");
	assert_string_equal(at(vwc, "webhooks", "[1]", "clientConfig", "service", "name", NULL),
			    "svc");
	/* unknown kinds' fields are not references */
	assert_string_equal(at(doc(f, "Widget", "p-w-s"), "spec", "configMapName", NULL), "cm");
}

static void test_transform__names_cluster_scoped_references(void **state)
{
	fixture *f = *state;
	strata_node *st, *role, *pvc;

	load(f,
	     "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: high}\n---\n"
	     "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: fast}\n---\n"
	     "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv}\n"
	     "spec: {storageClassName: fast}\n---\n"
	     "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: pvc}\n"
	     "spec: {storageClassName: fast, volumeName: pv}\n---\n"
	     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n---\n"
	     "apiVersion: v1\nkind: Secret\nmetadata: {name: sec}\n---\n"
	     "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: role}\n"
	     "rules: [{apiGroups: [\"\"], resources: [configmaps, secrets],"
	     " resourceNames: [cm, sec, other]}]\n---\n"
	     "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: st}\n"
	     "spec:\n"
	     "  serviceName: headless\n"
	     "  volumeClaimTemplates: [{metadata: {name: data}, spec: {storageClassName: fast}}]\n"
	     "  template: {spec: {priorityClassName: high, runtimeClassName: rc,"
	     " containers: [{name: a, image: x}]}}\n");
	assert_int_equal(strata_transform_names(f->a, f->s, "p-", NULL, &f->err), 0);
	st = doc(f, "StatefulSet", "p-st");
	assert_string_equal(at(st, "spec", "serviceName", NULL), "headless"); /* not in set */
	assert_string_equal(at(st, "spec", "volumeClaimTemplates", "[0]", "spec",
			       "storageClassName", NULL), "p-fast");
	assert_string_equal(at(st, "spec", "volumeClaimTemplates", "[0]", "metadata", "name",
			       NULL), "data");
	assert_string_equal(at(st, "spec", "template", "spec", "priorityClassName", NULL),
			    "p-high");
	assert_string_equal(at(st, "spec", "template", "spec", "runtimeClassName", NULL), "rc");
	pvc = doc(f, "PersistentVolumeClaim", "p-pvc");
	assert_string_equal(at(pvc, "spec", "storageClassName", NULL), "p-fast");
	assert_string_equal(at(pvc, "spec", "volumeName", NULL), "p-pv");
	assert_string_equal(at(doc(f, "PersistentVolume", "p-pv"), "spec", "storageClassName",
			       NULL), "p-fast");
	role = doc(f, "Role", "p-role");
	assert_string_equal(at(role, "rules", "[0]", "resourceNames", "[0]", NULL), "p-cm");
	assert_string_equal(at(role, "rules", "[0]", "resourceNames", "[1]", NULL), "p-sec");
	assert_string_equal(at(role, "rules", "[0]", "resourceNames", "[2]", NULL), "other");
}

static void test_transform__names_follow_namespaces(void **state)
{
	fixture *f = *state;
	strata_node *da, *db;

	/* the same name in two namespaces: each reference finds its own */
	load(f,
	     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: a}\n---\n"
	     "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: a}\n"
	     "spec: {template: {spec: {containers: [{name: c, image: x,"
	     " envFrom: [{configMapRef: {name: cfg}}]}]}}}\n---\n"
	     "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: b}\n"
	     "spec: {template: {spec: {containers: [{name: c, image: x,"
	     " envFrom: [{configMapRef: {name: cfg}}]}]}}}\n");
	assert_int_equal(strata_transform_names(f->a, f->s, "x-", NULL, &f->err), 0);
	da = strata_resset_find(f->s, "apps", "Deployment", "a", "x-web")->root;
	db = strata_resset_find(f->s, "apps", "Deployment", "b", "x-web")->root;
	assert_string_equal(at(da, "spec", "template", "spec", "containers", "[0]", "envFrom",
			       "[0]", "configMapRef", "name", NULL), "x-cfg");
	assert_string_equal(at(db, "spec", "template", "spec", "containers", "[0]", "envFrom",
			       "[0]", "configMapRef", "name", NULL), "cfg");
}

static void test_transform__names_noop_without_prefix(void **state)
{
	fixture *f = *state;

	load(f, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n");
	assert_int_equal(strata_transform_names(f->a, f->s, "", NULL, &f->err), 0);
	doc(f, "ConfigMap", "c");
	assert_int_equal(strata_transform_names(f->a, f->s, NULL, "-1", &f->err), 0);
	/* a rewritten name always reads back as a string */
	assert_int_equal(strata_scalar_kind_of(strata_node_at(doc(f, "ConfigMap", "c-1"),
							      "metadata", "name", NULL)),
			 STRATA_SCALAR_STR);
}

/* ---- labels and annotations ---- */

static void test_transform__labels_and_annotations(void **state)
{
	fixture *f = *state;
	strata_kvlist ann = { 0 };
	strata_node *d, *st, *cj, *svc, *pod, *w;

	load(f,
	     "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, labels: {app: web}}\n"
	     "spec:\n"
	     "  selector: {matchLabels: {app: web}}\n"
	     "  template:\n"
	     "    metadata: {labels: {app: web}}\n"
	     "    spec: {containers: [{name: a, image: x}]}\n"
	     "---\n"
	     "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: st}\n"
	     "spec:\n"
	     "  selector: {matchLabels: {app: st}}\n"
	     "  volumeClaimTemplates: [{metadata: {name: data}}]\n"
	     "  template: {spec: {containers: [{name: a, image: x}]}}\n"
	     "---\n"
	     "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: cj}\n"
	     "spec: {jobTemplate: {spec: {template: {spec: {containers: [{name: a, image: x}]}}}}}\n"
	     "---\n"
	     "apiVersion: v1\nkind: Service\nmetadata: {name: svc, labels: null}\n"
	     "spec: {selector: {app: web}}\n"
	     "---\n"
	     "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a, image: x}]}\n"
	     "---\n"
	     "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n"
	     "spec: {template: {metadata: {}}}\n");
	kv_add(&f->kv, "env", "prod");
	kv_add(&f->kv, "example.com/yes", "yes");
	kv_add(&f->kv, "app", "override");
	kv_add(&ann, "owner", "a");
	kv_add(&ann, "example.com/on", "on");
	assert_int_equal(strata_transform_metadata(f->a, f->s, &f->kv, &ann, &f->err), 0);

	d = doc(f, "Deployment", "web");
	assert_string_equal(at(d, "metadata", "labels", "env", NULL), "prod");
	assert_string_equal(at(d, "metadata", "labels", "app", NULL), "override");
	assert_string_equal(at(d, "metadata", "annotations", "owner", NULL), "a");
	assert_string_equal(at(d, "spec", "template", "metadata", "labels", "env", NULL), "prod");
	assert_string_equal(at(d, "spec", "template", "metadata", "annotations", "example.com/on",
			       NULL), "on");
	assert_int_equal(strata_scalar_kind_of(strata_node_at(d, "spec", "template", "metadata",
							      "annotations", "example.com/on",
							      NULL)),
			 STRATA_SCALAR_STR);
	assert_int_equal(strata_scalar_kind_of(strata_node_at(d, "metadata", "labels",
							      "example.com/yes", NULL)),
			 STRATA_SCALAR_STR);
	/* selectors untouched */
	assert_int_equal(strata_node_at(d, "spec", "selector", "matchLabels", NULL)->u.map.n, 1);
	assert_string_equal(at(d, "spec", "selector", "matchLabels", "app", NULL), "web");

	st = doc(f, "StatefulSet", "st");
	assert_string_equal(at(st, "spec", "template", "metadata", "labels", "env", NULL), "prod");
	assert_string_equal(at(st, "spec", "volumeClaimTemplates", "[0]", "metadata", "labels",
			       "env", NULL), "prod");
	assert_null(at(st, "spec", "volumeClaimTemplates", "[0]", "metadata", "annotations",
		       "owner", NULL));
	assert_int_equal(strata_node_at(st, "spec", "selector", "matchLabels", NULL)->u.map.n, 1);

	cj = doc(f, "CronJob", "cj");
	assert_string_equal(at(cj, "spec", "jobTemplate", "metadata", "labels", "env", NULL),
			    "prod");
	assert_string_equal(at(cj, "spec", "jobTemplate", "spec", "template", "metadata",
			       "labels", "env", NULL), "prod");
	assert_string_equal(at(cj, "spec", "jobTemplate", "spec", "template", "metadata",
			       "annotations", "owner", NULL), "a");

	svc = doc(f, "Service", "svc");
	assert_string_equal(at(svc, "metadata", "labels", "env", NULL), "prod");
	assert_int_equal(strata_node_at(svc, "spec", "selector", NULL)->u.map.n, 1);

	pod = doc(f, "Pod", "p");
	assert_string_equal(at(pod, "metadata", "labels", "env", NULL), "prod");
	assert_null(strata_node_at(pod, "spec", "metadata", NULL));

	/* unknown kinds: only their own metadata */
	w = doc(f, "Widget", "w");
	assert_string_equal(at(w, "metadata", "labels", "env", NULL), "prod");
	assert_int_equal(strata_node_at(w, "spec", "template", "metadata", NULL)->u.map.n, 0);
	kv_free(&ann);
}

static void test_transform__labels_not_a_map(void **state)
{
	fixture *f = *state;

	load(f, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels: [a]\n");
	kv_add(&f->kv, "env", "prod");
	assert_int_equal(strata_transform_metadata(f->a, f->s, &f->kv, NULL, &f->err),
			 STRATA_EPARSE);
	assert_string_equal(f->err.msg, "metadata.labels is not a map");
	assert_int_equal(f->err.line, 5);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_transform__images),
		T(test_transform__images_bad_value),
		T(test_transform__namespace),
		T(test_transform__map_reserve),
		T(test_transform__namespace_value_is_a_string),
		T(test_transform__namespace_collision),
		T(test_transform__namespace_moves_references_into_the_set),
		T(test_transform__names_and_references),
		T(test_transform__names_cluster_scoped_references),
		T(test_transform__names_follow_namespaces),
		T(test_transform__names_noop_without_prefix),
		T(test_transform__labels_and_annotations),
		T(test_transform__labels_not_a_map),
	};
#undef T

	return fixture_run("transform", tests);
}
