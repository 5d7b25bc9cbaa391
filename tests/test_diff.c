/*
 * test_diff.c - pairing, field comparison (keyed lists, order-only
 * changes, plain lists, multi-line strings), Secret masking in every
 * format, ignore rules, the Myers diff, the input limits of a published
 * side (its branch made with the git CLI in a mktemp directory), and the
 * memory-saving paths (a side that took the parsed base over, one render
 * on both sides, the report handed on in pieces) against the plain ones.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "strata/diff.h"

/* A side built from YAML text. */
typedef struct side {
	strata_arena *a;
	const strata_resource **res;
	size_t n;
	strata_diff_input in;
} side;

static void side_load(side *s, const char *env, const char *ns,
		      const char *prefix, const char *yaml)
{
	strata_yaml_doc *docs;
	size_t n;
	strata_error err;

	memset(s, 0, sizeof(*s));
	strata_error_clear(&err);
	s->a = strata_arena_new();
	assert_non_null(s->a);
	assert_int_equal(strata_yaml_load(&docs, &n, s->a, "t.yaml", yaml,
					  strlen(yaml), NULL, &err), 0);
	s->res = strata_arena_alloc(s->a, (n + 1) * sizeof(*s->res));
	for (size_t i = 0; i < n; i++) {
		strata_resource *r = strata_arena_alloc(s->a, sizeof(*r));
		assert_int_equal(strata_resource_init(r, s->a, docs[i].root, "t.yaml",
						      docs[i].line, docs[i].col, &err), 0);
		s->res[i] = r;
	}
	s->n = n;
	s->in.label = env;
	s->in.env = env;
	s->in.res = s->res;
	s->in.n = n;
	s->in.ns = ns;
	s->in.prefix = prefix;
}

static void side_free(side *s)
{
	strata_arena_free(s->a);
}

static strata_diff *run(side *o, side *n, const strata_diff_opts *opts)
{
	strata_diff *d = NULL;
	strata_error err;

	strata_error_clear(&err);
	assert_int_equal(strata_diff_compute(&d, &o->in, &n->in, opts, &err), 0);
	assert_non_null(d);
	return d;
}

static char *report(const strata_diff *d, int format, bool show)
{
	strata_buf b = STRATA_BUF_INIT;
	strata_diff_fmt f = { format, false, show, -1 };
	const strata_diff *ds[1] = { d };

	assert_int_equal(strata_diff_format_report(&b, ds, 1, &f), 0);
	if (!b.ptr)
		strata_buf_puts(&b, "");
	return strata_buf_detach(&b, NULL);
}

/*
 * Load old_yaml and new_yaml as two revisions of one environment "a" (no
 * namespace, no name prefix) and diff them under opts.
 */
static strata_diff *diff_a(side *o, side *n, const strata_diff_opts *opts,
			   const char *old_yaml, const char *new_yaml)
{
	side_load(o, "a", NULL, NULL, old_yaml);
	side_load(n, "a", NULL, NULL, new_yaml);
	return run(o, n, opts);
}

/* Free the diff and both its sides. */
static void free_all(strata_diff *d, side *o, side *n)
{
	strata_diff_free(d);
	side_free(o);
	side_free(n);
}

/* The change at path in entry e, or NULL. */
static const strata_diff_change *find(const strata_diff_entry *e, const char *path)
{
	for (size_t i = 0; i < e->n_changes; i++)
		if (!strcmp(e->changes[i].path, path))
			return &e->changes[i];
	return NULL;
}

#define DEPLOY(name, ns, image, replicas)                                      \
	"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: " name     \
	"\n  namespace: " ns "\nspec:\n  replicas: " replicas "\n"            \
	"  template:\n    spec:\n      serviceAccountName: " name "\n"        \
	"      containers:\n      - name: main\n        image: " image "\n"

static void test_diff__pairs_across_environments(void **state)
{
	side o, n;
	strata_diff *d;
	strata_diff_opts exact = { .exact = true };

	(void)state;
	side_load(&o, "dev", "shop-dev", "dev-", DEPLOY("dev-web", "shop-dev", "nginx:1.0", "1"));
	side_load(&n, "prod", "shop-prod", "prod-", DEPLOY("prod-web", "shop-prod", "nginx:1.1", "3"));
	d = run(&o, &n, NULL);
	assert_int_equal(d->n, 1);
	assert_int_equal(d->changed, 1);
	assert_int_equal(d->added + d->removed, 0);
	assert_int_equal(d->entries[0].status, STRATA_DIFF_CHANGED);
	/* the environments' own naming is not reported, the rest is */
	assert_null(find(&d->entries[0], "metadata.name"));
	assert_null(find(&d->entries[0], "metadata.namespace"));
	assert_null(find(&d->entries[0], "spec.template.spec.serviceAccountName"));
	assert_non_null(find(&d->entries[0], "spec.replicas"));
	assert_non_null(find(&d->entries[0],
			     "spec.template.spec.containers[name=main].image"));
	assert_int_equal(d->entries[0].n_changes, 2);
	strata_diff_free(d);

	d = run(&o, &n, &exact);
	assert_int_equal(d->added, 1);
	assert_int_equal(d->removed, 1);
	assert_int_equal(d->changed, 0);
	free_all(d, &o, &n);
}

static void test_diff__same_env_reports_namespace_moves(void **state)
{
	side o, n;
	strata_diff *d;
	const strata_diff_change *c;

	(void)state;
	/* one environment across revisions: a namespace change is real */
	side_load(&o, "prod", "shop", NULL, DEPLOY("web", "shop", "nginx:1.0", "1"));
	side_load(&n, "prod", "shop-prod", NULL, DEPLOY("web", "shop-prod", "nginx:1.0", "1"));
	d = run(&o, &n, NULL);
	assert_int_equal(d->changed, 1);
	c = find(&d->entries[0], "metadata.namespace");
	assert_non_null(c);
	assert_int_equal(c->op, STRATA_CHANGE_MODIFY);
	assert_string_equal(strata_scalar_str(c->old_value), "shop");
	assert_string_equal(strata_scalar_str(c->new_value), "shop-prod");
	free_all(d, &o, &n);
}

static void test_diff__added_removed_unchanged(void **state)
{
	side o, n;
	strata_diff *d;

	(void)state;
	d = diff_a(&o, &n, NULL,
		   "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: same}\ndata: {a: '1'}\n"
		   "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: gone}\n",
		   "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: new}\n"
		   "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: same}\ndata: {a: '1'}\n");
	assert_int_equal(d->added, 1);
	assert_int_equal(d->removed, 1);
	assert_int_equal(d->changed, 0);
	assert_int_equal(d->unchanged, 1);
	assert_true(strata_diff_different(d));
	/* output order: kind rank, then name */
	assert_int_equal(d->n, 2);
	assert_string_equal(d->entries[0].old_res->name, "gone");
	/* regression: a removed entry once kept an unchanged pair's new side */
	assert_null(d->entries[0].new_res);
	assert_string_equal(d->entries[1].new_res->name, "new");
	free_all(d, &o, &n);
}

#define POD_HEAD "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"

static void test_diff__keyed_list_by_merge_key(void **state)
{
	side o, n;
	strata_diff *d;
	const strata_diff_entry *e;
	const strata_diff_change *c;

	(void)state;
	d = diff_a(&o, &n, NULL,
		   POD_HEAD
		   "  - {name: main, image: 'nginx:1.0', ports: [{containerPort: 80}, {containerPort: 443}]}\n"
		   "  - {name: old, image: busybox}\n"
		   "  - {name: sidecar, image: 'envoy:1'}\n",
		   POD_HEAD
		   "  - {name: sidecar, image: 'envoy:1'}\n"
		   "  - {name: main, image: 'nginx:1.1', ports: [{containerPort: 443}, {containerPort: 80, protocol: UDP}]}\n"
		   "  - {name: new, image: alpine}\n");
	assert_int_equal(d->changed, 1);
	e = &d->entries[0];
	c = find(e, "spec.containers[name=main].image");
	assert_non_null(c);
	assert_int_equal(c->op, STRATA_CHANGE_MODIFY);
	assert_string_equal(strata_scalar_str(c->old_value), "nginx:1.0");
	assert_string_equal(strata_scalar_str(c->new_value), "nginx:1.1");
	c = find(e, "spec.containers[name=old]");
	assert_non_null(c);
	assert_int_equal(c->op, STRATA_CHANGE_REMOVE);
	c = find(e, "spec.containers[name=new]");
	assert_non_null(c);
	assert_int_equal(c->op, STRATA_CHANGE_ADD);
	/* ports key on (containerPort, protocol): 80/UDP is a new port */
	c = find(e, "spec.containers[name=main].ports[containerPort=80,protocol=TCP]");
	assert_non_null(c);
	assert_int_equal(c->op, STRATA_CHANGE_REMOVE);
	c = find(e, "spec.containers[name=main].ports[containerPort=80,protocol=UDP]");
	assert_non_null(c);
	assert_int_equal(c->op, STRATA_CHANGE_ADD);
	/* main and sidecar swapped places */
	c = find(e, "spec.containers");
	assert_non_null(c);
	assert_int_equal(c->op, STRATA_CHANGE_ORDER);
	assert_non_null(c->order);
	assert_int_equal(c->order->n_keys, 2);
	assert_string_equal(c->order->old_keys[0], "name=main");
	assert_string_equal(c->order->old_keys[1], "name=sidecar");
	assert_string_equal(c->order->new_keys[0], "name=sidecar");
	assert_string_equal(c->order->new_keys[1], "name=main");
	/* op and secret in one word, then four pointers: 40 bytes on 64-bit */
	assert_true(sizeof(strata_diff_change) <= 8 + 4 * sizeof(void *));
	/* nothing else: sidecar itself did not change */
	assert_null(find(e, "spec.containers[name=sidecar].image"));
	free_all(d, &o, &n);
}

static void test_diff__order_only(void **state)
{
	side o, n;
	strata_diff *d;
	char *text;
	strata_diff_opts io = { .ignore_order = true };

	(void)state;
	d = diff_a(&o, &n, NULL,
		   POD_HEAD
		   "  - name: main\n    args: [a, b, c]\n    env: [{name: A, value: '1'}, {name: B, value: '2'}]\n",
		   POD_HEAD
		   "  - name: main\n    args: [c, a, b]\n    env: [{name: B, value: '2'}, {name: A, value: '1'}]\n");
	assert_int_equal(d->changed, 1);
	assert_int_equal(d->entries[0].n_changes, 2);
	assert_int_equal(find(&d->entries[0], "spec.containers[name=main].args")->op,
			 STRATA_CHANGE_ORDER);
	assert_int_equal(find(&d->entries[0], "spec.containers[name=main].env")->op,
			 STRATA_CHANGE_ORDER);
	text = report(d, STRATA_DIFF_TEXT, false);
	assert_non_null(strstr(text, "spec.containers[name=main].env: order changed: [name=A, name=B] → [name=B, name=A]"));
	assert_non_null(strstr(text, "spec.containers[name=main].args: order changed: [a, b, c] → [c, a, b]"));
	free(text);
	/* a keyed list's order as its keys, a plain list's as its values */
	text = report(d, STRATA_DIFF_JSON, false);
	assert_non_null(strstr(text, "\"old_order\": [\"name=A\", \"name=B\"], "
				     "\"new_order\": [\"name=B\", \"name=A\"]"));
	assert_null(find(&d->entries[0], "spec.containers[name=main].args")->order);
	free(text);
	strata_diff_free(d);

	d = run(&o, &n, &io);
	assert_false(strata_diff_different(d));
	assert_int_equal(d->unchanged, 1);
	free_all(d, &o, &n);
}

static void test_diff__plain_list_items(void **state)
{
	side o, n;
	strata_diff *d;
	const strata_diff_entry *e;

	(void)state;
	d = diff_a(&o, &n, NULL,
		   POD_HEAD
		   "  - name: main\n    args: [--a, --b, --c, --d]\n",
		   POD_HEAD
		   "  - name: main\n    args: [--a, --x, --c, --d, --e]\n");
	e = &d->entries[0];
	assert_int_equal(e->n_changes, 2);
	assert_int_equal(find(e, "spec.containers[name=main].args[1]")->op, STRATA_CHANGE_MODIFY);
	assert_string_equal(strata_scalar_str(find(e, "spec.containers[name=main].args[1]")->new_value), "--x");
	assert_int_equal(find(e, "spec.containers[name=main].args[4]")->op, STRATA_CHANGE_ADD);
	free_all(d, &o, &n);
}

static void test_diff__multiline_strings_as_line_diffs(void **state)
{
	side o, n;
	strata_diff *d;
	char *text;

	(void)state;
	d = diff_a(&o, &n, NULL,
		   "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n"
		   "  nginx.conf: |\n    server {\n      listen 80;\n      root /srv;\n    }\n",
		   "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n"
		   "  nginx.conf: |\n    server {\n      listen 8080;\n      root /srv;\n    }\n");
	text = report(d, STRATA_DIFF_TEXT, false);
	assert_string_equal(text,
		"--- a\n+++ a\n"
		"~ ConfigMap c\n"
		"    data[\"nginx.conf\"]:\n"
		"      @@ -1,4 +1,4 @@\n"
		"       server {\n"
		"      -  listen 80;\n"
		"      +  listen 8080;\n"
		"         root /srv;\n"
		"       }\n"
		"\n"
		"a → a: 0 added, 0 removed, 1 changed\n");
	free(text);
	free_all(d, &o, &n);
}

#define SECRET(pw, extra)                                                      \
	"apiVersion: v1\nkind: Secret\nmetadata: {name: db}\ntype: Opaque\n"  \
	"data:\n  password: " pw "\n" extra "stringData:\n  token: tok-" pw "\n"

static void test_diff__secret_values_are_masked(void **state)
{
	static const int formats[] = { STRATA_DIFF_TEXT, STRATA_DIFF_PATCH,
				       STRATA_DIFF_JSON, STRATA_DIFF_MARKDOWN };
	side o, n;
	strata_diff *d;
	const strata_diff_change *c;

	(void)state;
	/* base64 "hunter2" -> "correcthorse" */
	d = diff_a(&o, &n, NULL,
		   SECRET("aHVudGVyMg==", ""),
		   SECRET("Y29ycmVjdGhvcnNl", "  apikey: c2VjcmV0a2V5\n"));
	c = find(&d->entries[0], "data.password");
	assert_non_null(c);
	assert_true(c->secret);
	assert_true(find(&d->entries[0], "data.apikey")->secret);
	assert_true(find(&d->entries[0], "stringData.token")->secret);
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		char *out = report(d, formats[i], false);
		assert_null(strstr(out, "aHVudGVyMg"));
		assert_null(strstr(out, "Y29ycmVjdGhvcnNl"));
		assert_null(strstr(out, "c2VjcmV0a2V5"));
		assert_null(strstr(out, "tok-"));
		assert_non_null(strstr(out, "password"));
		assert_non_null(strstr(out, "apikey"));
		free(out);
	}
	{
		char *text = report(d, STRATA_DIFF_TEXT, false);
		assert_non_null(strstr(text, "    data.password: (hidden, 7 bytes → 12 bytes)\n"));
		assert_non_null(strstr(text, "  + data.apikey: (hidden, 9 bytes)\n"));
		assert_non_null(strstr(text, "    stringData.token: (hidden, 16 bytes → 20 bytes)\n"));
		free(text);
	}
	{
		char *json = report(d, STRATA_DIFF_JSON, false);
		assert_non_null(strstr(json, "{\"op\": \"modify\", \"path\": \"data.password\", "
					     "\"secret\": true, \"old_size\": 7, \"new_size\": 12}"));
		free(json);
	}
	{
		char *shown = report(d, STRATA_DIFF_TEXT, true);
		assert_non_null(strstr(shown, "data.password: aHVudGVyMg== → Y29ycmVjdGhvcnNl"));
		free(shown);
	}
	free_all(d, &o, &n);
}

static void test_diff__added_secret_is_masked(void **state)
{
	side o, n;
	strata_diff *d;
	char *patch, *md;

	(void)state;
	d = diff_a(&o, &n, NULL,
		   "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
		   "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\n"
		   SECRET("aHVudGVyMg==", ""));
	patch = report(d, STRATA_DIFF_PATCH, false);
	assert_null(strstr(patch, "aHVudGVyMg"));
	assert_non_null(strstr(patch, "+  password: <hidden, 7 bytes>\n"));
	md = report(d, STRATA_DIFF_MARKDOWN, false);
	assert_null(strstr(md, "aHVudGVyMg"));
	assert_null(strstr(md, "tok-"));
	free(patch);
	free(md);
	free_all(d, &o, &n);
}

static void test_diff__ignore_rules(void **state)
{
	static const char *const rules[] = {
		"spec.replicas",
		"metadata.labels.*",
		"Deployment/web:spec.template.spec.containers[*].image",
		"metadata.annotations[\"example.com/build-*\"]",
	};
	strata_diff_opts opts = { .ignore = rules, .n_ignore = 4 };
	side o, n;
	strata_diff *d;
	strata_error err;

	(void)state;
	d = diff_a(&o, &n, &opts,
		   "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
		   "  labels: {a: '1'}\n  annotations: {example.com/build-id: '1', keep: x}\n"
		   "spec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n"
		   "      - {name: main, image: 'a:1'}\n",
		   "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
		   "  labels: {a: '2', b: '3'}\n  annotations: {example.com/build-id: '2', keep: x}\n"
		   "spec:\n  replicas: 4\n  template:\n    spec:\n      containers:\n"
		   "      - {name: main, image: 'a:2'}\n");
	assert_false(strata_diff_different(d));
	assert_int_equal(d->ignored, 5);
	assert_int_equal(d->unchanged, 1);
	strata_diff_free(d);

	/* the selector limits a rule to its kind/name */
	{
		static const char *const r2[] = { "Deployment/other:spec.template.spec.containers[*].image" };
		strata_diff_opts o2 = { .ignore = r2, .n_ignore = 1 };
		d = run(&o, &n, &o2);
		assert_true(strata_diff_different(d));
		assert_non_null(find(&d->entries[0], "spec.template.spec.containers[name=main].image"));
		strata_diff_free(d);
	}

	strata_error_clear(&err);
	assert_int_equal(strata_diff_ignore_check("spec..replicas", &err), STRATA_EUSAGE);
	assert_non_null(strstr(err.msg, "invalid ignore rule 'spec..replicas'"));
	strata_error_clear(&err);
	assert_int_equal(strata_diff_ignore_check("spec.x[", &err), STRATA_EUSAGE);
	assert_int_equal(strata_diff_ignore_check("data[\"a.b\"]", NULL), 0);
	assert_int_equal(strata_diff_ignore_check("*", NULL), 0);
	side_free(&o);
	side_free(&n);
}

/* LCS length by dynamic programming, to check Myers against. */
static size_t lcs_dp(const uint64_t *a, size_t na, const uint64_t *b, size_t nb)
{
	size_t *row = calloc((nb + 1) * (na + 1), sizeof(*row));
	size_t r;

	for (size_t i = 1; i <= na; i++)
		for (size_t j = 1; j <= nb; j++) {
			size_t *c = &row[i * (nb + 1) + j];
			if (a[i - 1] == b[j - 1])
				*c = row[(i - 1) * (nb + 1) + j - 1] + 1;
			else {
				size_t u = row[(i - 1) * (nb + 1) + j], l = row[i * (nb + 1) + j - 1];
				*c = u > l ? u : l;
			}
		}
	r = row[na * (nb + 1) + nb];
	free(row);
	return r;
}

static void test_diff__myers_is_minimal(void **state)
{
	uint64_t a[64], b[64];
	bool del[64], ins[64];
	unsigned seed = 12345;

	(void)state;
	for (int round = 0; round < 500; round++) {
		size_t na, nb, kept_a = 0, kept_b = 0;
		seed = seed * 1103515245u + 12345u;
		na = (seed >> 8) % 40;
		seed = seed * 1103515245u + 12345u;
		nb = (seed >> 8) % 40;
		for (size_t i = 0; i < na; i++) {
			seed = seed * 1103515245u + 12345u;
			a[i] = (seed >> 16) % 4;
		}
		for (size_t i = 0; i < nb; i++) {
			seed = seed * 1103515245u + 12345u;
			b[i] = (seed >> 16) % 4;
		}
		assert_int_equal(strata_diff_myers(a, na, b, nb, NULL, NULL, del, ins), 0);
		/* the kept items are the same sequence on both sides... */
		{
			size_t i = 0, j = 0;
			for (;;) {
				while (i < na && del[i])
					i++;
				while (j < nb && ins[j])
					j++;
				if (i == na || j == nb)
					break;
				assert_true(a[i] == b[j]);
				i++;
				j++;
				kept_a++;
			}
			while (i < na && del[i])
				i++;
			while (j < nb && ins[j])
				j++;
			assert_int_equal(i, na);
			assert_int_equal(j, nb);
		}
		for (size_t j = 0; j < nb; j++)
			kept_b += !ins[j];
		assert_int_equal(kept_a, kept_b);
		/* ...and as long as possible */
		assert_int_equal(kept_a, lcs_dp(a, na, b, nb));
	}
}

static void test_diff__patch_headers(void **state)
{
	side o, n;
	strata_diff *d;
	char *patch;

	(void)state;
	d = diff_a(&o, &n, NULL,
		   "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: ns}\ndata: {a: '1'}\n"
		   "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: gone, namespace: ns}\n",
		   "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: ns}\ndata: {a: '2'}\n");
	patch = report(d, STRATA_DIFF_PATCH, false);
	assert_string_equal(patch,
		"diff --git a/ns/ConfigMap_c.yaml b/ns/ConfigMap_c.yaml\n"
		"index 1aa56d8..cec3a09 100644\n"
		"--- a/ns/ConfigMap_c.yaml\n"
		"+++ b/ns/ConfigMap_c.yaml\n"
		"@@ -4,4 +4,4 @@ metadata:\n"
		"   name: c\n"
		"   namespace: ns\n"
		" data:\n"
		"-  a: '1'\n"
		"+  a: '2'\n"
		"diff --git a/ns/ConfigMap_gone.yaml b/ns/ConfigMap_gone.yaml\n"
		"deleted file mode 100644\n"
		"index a9d425b..0000000\n"
		"--- a/ns/ConfigMap_gone.yaml\n"
		"+++ /dev/null\n"
		"@@ -1,5 +0,0 @@\n"
		"-apiVersion: v1\n"
		"-kind: ConfigMap\n"
		"-metadata:\n"
		"-  name: gone\n"
		"-  namespace: ns\n");
	free(patch);
	free_all(d, &o, &n);
}

/* A published side under limits: a git repository whose env/prod branch
 * holds cm.yaml and web.yaml (nested 5 levels deep). */
static const char PUB_CM[] =
	"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  k: v\n";
static const char PUB_WEB[] =
	"apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: web\n"
	"spec:\n  a:\n    b:\n      c:\n        d: deep\n";

static void write_file(const char *dir, const char *name, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Commit dir's files as branch env/prod of a new git repository there;
 * the config of a repository whose one env is prod. */
static strata_config *publish_dir(const char *dir)
{
	static const char ini[] = "[strata]\nbase = base\n\n[env \"prod\"]\n";
	strata_config *cfg = NULL;
	strata_error err;
	char cmd[512];

	snprintf(cmd, sizeof(cmd),
		 "cd %s && git init -q -b env/prod && git add -A && git -c user.name=T"
		 " -c user.email=t@example.com -c commit.gpgsign=false commit -q -m p",
		 dir);
	assert_int_equal(system(cmd), 0);
	strata_error_clear(&err);
	assert_int_equal(strata_config_parse(&cfg, "strata.ini", ini, strlen(ini), &err), 0);
	return cfg;
}

/* Load prod@published under lim; returns the rc, fills err, counts *n. */
static int published(const char *dir, const strata_config *cfg,
		     const strata_limits *lim, size_t *n, strata_error *err)
{
	strata_diff_side *s = NULL;
	int rc;

	strata_error_clear(err);
	rc = strata_diff_side_published_limits(&s, dir, cfg, "prod", NULL, NULL,
					       lim, err);
	*n = s ? strata_diff_side_input(s)->n : 0;
	if (rc < 0)
		assert_null(s);
	strata_diff_side_free(s);
	return rc;
}

static void test_diff__published_side_limits(void **state)
{
	char dir[] = "/tmp/strata-test-diff-XXXXXX";
	char cmd[512];
	strata_config *cfg = NULL;
	strata_diff_side *s = NULL;
	strata_limits lim;
	strata_error err;
	size_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	write_file(dir, "cm.yaml", PUB_CM);
	write_file(dir, "web.yaml", PUB_WEB);
	cfg = publish_dir(dir);
	strata_error_clear(&err);

	/* the defaults: the old entry point and a NULL lim are the same */
	assert_int_equal(strata_diff_side_published(&s, dir, cfg, "prod", NULL, NULL, &err), 0);
	assert_int_equal(strata_diff_side_input(s)->n, 2);
	strata_diff_side_free(s);
	assert_int_equal(published(dir, cfg, NULL, &n, &err), 0);
	assert_int_equal(n, 2);

	/* depth: the parser's error, with the position in the blob */
	strata_limits_default(&lim);
	lim.max_depth = 4;
	assert_int_equal(published(dir, cfg, &lim, &n, &err), STRATA_ELIMIT);
	assert_string_equal(err.file, "env/prod:web.yaml");
	assert_true(err.line > 0 && err.col > 0);
	assert_string_equal(err.msg, "nesting exceeds 4 levels");
	lim.max_depth = 5;
	assert_int_equal(published(dir, cfg, &lim, &n, &err), 0);
	assert_int_equal(n, 2);

	/* one file's size: cm.yaml is read first (tree order) */
	strata_limits_default(&lim);
	lim.max_file = sizeof(PUB_CM) - 2;
	assert_int_equal(published(dir, cfg, &lim, &n, &err), STRATA_ELIMIT);
	assert_string_equal(err.file, "env/prod:cm.yaml");
	assert_non_null(strstr(err.msg, "file too large"));

	/* the bytes of all files, and their number */
	strata_limits_default(&lim);
	lim.max_total = sizeof(PUB_CM) + sizeof(PUB_WEB) - 3;
	assert_int_equal(published(dir, cfg, &lim, &n, &err), STRATA_ELIMIT);
	assert_string_equal(err.file, "env/prod:web.yaml");
	assert_non_null(strstr(err.msg, "total input exceeds"));
	lim.max_total = sizeof(PUB_CM) + sizeof(PUB_WEB) - 2;
	assert_int_equal(published(dir, cfg, &lim, &n, &err), 0);

	strata_limits_default(&lim);
	lim.max_files = 1;
	assert_int_equal(published(dir, cfg, &lim, &n, &err), STRATA_ELIMIT);
	assert_string_equal(err.file, "env/prod:web.yaml");
	assert_string_equal(err.msg, "too many files (limit 1)");
	lim.max_files = 2;
	assert_int_equal(published(dir, cfg, &lim, &n, &err), 0);

	strata_config_free(cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* ---- the memory-saving paths give the same reports ---- */

static void reports(const strata_diff_input *o, const strata_diff_input *n,
		    char *out[4]);
static void same_reports(char *a[4], char *b[4]);

/*
 * A published side read as text (strata_diff_side_published_text, as the
 * CLI reads it), in memory or in a file, reports what the side read as
 * trees does: a stream file of several documents, a Secret, the
 * kustomization.yaml publish writes (skipped), and a file whose
 * apiVersion ("/v1") its identity would not give back (kept as trees).
 * The file failing is STRATA_EIO and no side.
 */
static void test_diff__published_side_as_text(void **state)
{
	static const char stream[] =
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  k: v\n"
		"---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n"
		"data:\n  a: YQ==\n  b: Yg==\n";
	static const char odd[] =
		"apiVersion: /v1\nkind: ConfigMap\nmetadata:\n  name: odd\ndata:\n  x: \"1\"\n";
	static const char now[] =
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  k: w\n"
		"---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n"
		"data:\n  a: YQ==\n  b: Yw==\n"
		"---\napiVersion: /v1\nkind: ConfigMap\nmetadata:\n  name: odd\ndata:\n  x: \"2\"\n"
		"---\napiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: web\n"
		"spec:\n  a:\n    b:\n      c:\n        d: deeper\n";
	char dir[] = "/tmp/strata-test-diff-XXXXXX";
	char cmd[512], *want[4], *got[4];
	strata_config *cfg = NULL;
	strata_diff_side *live = NULL, *text = NULL;
	strata_error err;
	side n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	write_file(dir, "stream.yaml", stream);
	write_file(dir, "web.yaml", PUB_WEB);
	write_file(dir, "odd.yaml", odd);
	write_file(dir, "kustomization.yaml",
		   "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
		   "resources:\n- stream.yaml\n");
	cfg = publish_dir(dir);
	strata_error_clear(&err);
	side_load(&n, "prod", NULL, NULL, now);

	assert_int_equal(strata_diff_side_published_limits(&live, dir, cfg, "prod", NULL,
							   NULL, NULL, &err), 0);
	assert_int_equal(strata_diff_side_input(live)->n, 4);
	reports(strata_diff_side_input(live), &n.in, want);
	assert_non_null(strstr(want[STRATA_DIFF_JSON], "\"apiVersion\": \"/v1\""));
	for (int in_file = 0; in_file < 2; in_file++) {
		const strata_diff_input *in;
		char *w[4];
		size_t trees = 0;

		assert_int_equal(strata_diff_side_published_text(&text, dir, cfg, "prod", NULL,
								 NULL, NULL, in_file ? dir : NULL,
								 0, true, &err), 0);
		assert_true(strata_diff_side_spilled(text));
		in = strata_diff_side_input(text);
		assert_int_equal(in->n, 4);
		for (size_t i = 0; i < in->n; i++)
			if (in->res[i]->root) {
				trees++;
				assert_string_equal(in->res[i]->name, "odd");
			}
		assert_int_equal(trees, 1);
		reports(in, &n.in, got);
		for (int f = 0; f < 4; f++)
			w[f] = strdup(want[f]);
		same_reports(got, w);
		strata_diff_side_free(text);
		text = NULL;
	}
	assert_int_equal(strata_diff_side_published_text(&text, dir, cfg, "prod", NULL, NULL,
							 NULL, "/nonexistent-strata-dir", 0,
							 true, &err), STRATA_EIO);
	assert_null(text);
	assert_non_null(strstr(err.msg, "/nonexistent-strata-dir"));
	for (int f = 0; f < 4; f++)
		free(want[f]);
	strata_diff_side_free(live);
	side_free(&n);
	strata_config_free(cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

#define N_APPS 150

/* A config repo of N_APPS apps (Deployment, Service, ConfigMap) and two
 * environments whose overlays patch and add resources: its reports are
 * several pieces of strata_diff_format_emit long. */
static void write_repo(const char *dir)
{
	char p[512], cmd[600];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "mkdir -p %s/base %s/overlays/dev/resources "
		 "%s/overlays/prod", dir, dir, dir);
	assert_int_equal(system(cmd), 0);
	write_file(dir, "strata.ini",
		   "[strata]\nbase = base\n\n"
		   "[env \"dev\"]\nnamespace = shop-dev\nname_prefix = dev-\n"
		   "label.env = dev\nannotation.example.com/owner = team-dev\n"
		   "image.nginx = nginx:1.25.3\n\n"
		   "[env \"prod\"]\nnamespace = shop-prod\nname_prefix = prod-\n"
		   "label.env = prod\nimage.nginx = nginx:1.25.9\n");
	snprintf(p, sizeof(p), "%s/base/apps.yaml", dir);
	f = fopen(p, "w");
	assert_non_null(f);
	for (int i = 0; i < N_APPS; i++)
		fprintf(f, "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
			"  name: app-%03d\n  labels:\n    app: app-%03d\nspec:\n"
			"  replicas: 1\n  selector:\n    matchLabels:\n"
			"      app: app-%03d\n  template:\n    metadata:\n      labels:\n"
			"        app: app-%03d\n    spec:\n      containers:\n"
			"      - name: app\n        image: nginx\n        env:\n"
			"        - name: LEVEL\n          value: \"%d\"\n"
			"        envFrom:\n        - configMapRef:\n"
			"            name: app-%03d\n"
			"---\napiVersion: v1\nkind: Service\nmetadata:\n  name: app-%03d\n"
			"spec:\n  selector:\n    app: app-%03d\n  ports:\n  - port: 80\n"
			"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-%03d\n"
			"data:\n  mode: base\n  note: |\n    line one\n    line %d\n",
			i, i, i, i, i, i, i, i, i, i);
	fclose(f);
	snprintf(p, sizeof(p), "%s/overlays/prod/patches.yaml", dir);
	f = fopen(p, "w");
	assert_non_null(f);
	for (int i = 0; i < N_APPS; i += 3)
		fprintf(f, "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
			"  name: app-%03d\nspec:\n  replicas: 3\n"
			"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-%03d\n"
			"data:\n  note: |\n    line one\n    line %d in prod\n",
			i, i, i);
	fclose(f);
	write_file(dir, "overlays/dev/resources/debug.yaml",
		   "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: debug\n"
		   "data:\n  level: verbose\n---\n"
		   "apiVersion: v1\nkind: Secret\nmetadata:\n  name: debug-token\n"
		   "stringData:\n  token: dev-only-token\n");
	/* a Secret in both, one value changed by prod: masked with a mark */
	write_file(dir, "base/creds.yaml",
		   "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n"
		   "data:\n  user: YWRtaW4=\n  pass: c2VjcmV0\n");
	write_file(dir, "overlays/prod/creds.yaml",
		   "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n"
		   "data:\n  pass: bmV3LXNlY3JldA==\n");
}

static strata_repo *open_repo(const char *dir)
{
	strata_source *src = NULL;
	strata_repo *repo = NULL;
	strata_error err;

	strata_error_clear(&err);
	assert_int_equal(strata_source_fs_open(&src, dir, &err), 0);
	assert_int_equal(strata_repo_open(&repo, src, NULL, &err), 0);
	return repo;
}

static strata_diff_side *render_side(strata_repo *repo, const char *env,
				     const char *label, bool last)
{
	strata_diff_side *s = NULL;
	strata_error err;

	strata_error_clear(&err);
	if (last)
		strata_repo_last_render(repo);
	assert_int_equal(strata_diff_side_render(&s, repo, env, label, &err), 0);
	return s;
}

/* strata_diff_format_emit's write(): appends to a buffer, counts pieces. */
typedef struct pieces {
	strata_buf b;
	size_t n;
} pieces;

static int collect(void *ctx, const char *text, size_t len)
{
	pieces *p = ctx;

	p->n++;
	return strata_buf_put(&p->b, text, len) < 0 ? STRATA_ENOMEM : 0;
}

static int refuse(void *ctx, const char *text, size_t len)
{
	(void)ctx;
	(void)text;
	(void)len;
	return STRATA_ERROR;
}

/*
 * Every format of old -> new, the report (format_report) and the emitted
 * pieces checked equal; out[f] the report of format f (caller frees).
 */
static void reports(const strata_diff_input *o, const strata_diff_input *n,
		    char *out[4])
{
	strata_diff *d = NULL;
	strata_error err;

	strata_error_clear(&err);
	assert_int_equal(strata_diff_compute(&d, o, n, NULL, &err), 0);
	for (int f = STRATA_DIFF_TEXT; f <= STRATA_DIFF_MARKDOWN; f++) {
		strata_diff_fmt fmt = { f, f == STRATA_DIFF_TEXT, false, -1 };
		const strata_diff *ds[1] = { d };
		strata_buf b = STRATA_BUF_INIT;
		pieces p = { STRATA_BUF_INIT, 0 };

		assert_int_equal(strata_diff_format_report(&b, ds, 1, &fmt), 0);
		assert_int_equal(strata_diff_format_emit(ds, 1, &fmt, collect, &p), 0);
		assert_int_equal(p.b.len, b.len);
		assert_true(!b.len || !memcmp(p.b.ptr, b.ptr, b.len));
		/* big reports go in several pieces; a write error stops them */
		if (b.len > 2 * 65536) {
			assert_true(p.n > 1);
			assert_int_equal(strata_diff_format_emit(ds, 1, &fmt, refuse, NULL),
					 STRATA_ERROR);
		}
		strata_buf_free(&p.b);
		if (!b.ptr)
			strata_buf_puts(&b, "");
		out[f] = strata_buf_detach(&b, NULL);
	}
	strata_diff_free(d);
}

static void same_reports(char *a[4], char *b[4])
{
	for (int f = 0; f < 4; f++) {
		assert_string_equal(a[f], b[f]);
		free(a[f]);
		free(b[f]);
	}
}

/*
 * Issue 6: a diff renders its second side by taking the parsed base over
 * (the first one copied it; both share its scalars).  If that side's
 * in-place edits reached the first side, or the shared render of one env
 * on both sides differed from two renders, these reports would differ
 * from those of sides rendered from repositories of their own.
 */
static void test_diff__shared_base_same_reports(void **state)
{
	char dir[] = "/tmp/strata-test-diff-XXXXXX";
	char cmd[300], *shared[4], *alone[4];
	strata_repo *one, *r1, *r2;
	strata_diff_side *dev, *prod, *dev2, *prod2;
	strata_diff_input again;

	(void)state;
	assert_non_null(mkdtemp(dir));
	write_repo(dir);

	/* both sides from one repo: dev copies the base, prod takes it over */
	one = open_repo(dir);
	dev = render_side(one, "dev", NULL, false);
	prod = render_side(one, "prod", NULL, true);
	/* each side from a repo of its own */
	r1 = open_repo(dir);
	r2 = open_repo(dir);
	dev2 = render_side(r1, "dev", NULL, true);
	prod2 = render_side(r2, "prod", NULL, true);

	reports(strata_diff_side_input(dev), strata_diff_side_input(prod), shared);
	reports(strata_diff_side_input(dev2), strata_diff_side_input(prod2), alone);
	assert_non_null(strstr(shared[STRATA_DIFF_JSON], "\"path\": \"spec.replicas\""));
	/* patch and json are several pieces long */
	assert_true(strlen(shared[STRATA_DIFF_PATCH]) > 2 * 65536);
	assert_true(strlen(shared[STRATA_DIFF_JSON]) > 2 * 65536);
	same_reports(shared, alone);
	reports(strata_diff_side_input(prod), strata_diff_side_input(dev), shared);
	reports(strata_diff_side_input(prod2), strata_diff_side_input(dev2), alone);
	same_reports(shared, alone);

	/* one render on both sides (`diff prod@A prod@B`, A and B one commit)
	 * against two renders of prod, the old side's label its own */
	again = *strata_diff_side_input(prod);
	again.label = "prod@main";
	reports(&again, strata_diff_side_input(prod), shared);
	again = *strata_diff_side_input(prod2);
	again.label = "prod@main";
	reports(&again, strata_diff_side_input(prod), alone);
	assert_non_null(strstr(shared[STRATA_DIFF_JSON], "\"prod@main\""));
	assert_non_null(strstr(shared[STRATA_DIFF_JSON], "\"different\": false"));
	same_reports(shared, alone);

	strata_diff_side_free(dev);
	strata_diff_side_free(prod);
	strata_diff_side_free(dev2);
	strata_diff_side_free(prod2);
	strata_repo_free(one);
	strata_repo_free(r1);
	strata_repo_free(r2);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* A render side of env spilled (strata_diff_side_spill) into tmpdir. */
static strata_diff_side *spilled_side(strata_repo *repo, const char *env,
				      const char *tmpdir, size_t mem_max)
{
	strata_diff_side *s = render_side(repo, env, NULL, false);
	strata_error err;

	strata_error_clear(&err);
	assert_int_equal(strata_diff_side_spill(s, tmpdir, mem_max, &err), 0);
	assert_true(strata_diff_side_spilled(s));
	assert_null(strata_diff_side_input(s)->res[0]->root);
	return s;
}

/*
 * Issue 6: `strata diff` keeps its first side as text (in memory or in a
 * temporary file) so two renders' trees are never held at once.  Spilled
 * on either side or both, in memory or in a file, each report in every
 * format must be the report of the live renders: what a spilled side's
 * documents are parsed back into, the values the result copies before
 * they go, the patch's file text handed on as it is, a changed Secret's
 * masking (which parses both documents again), an added Secret's.
 */
static void test_diff__spilled_side_same_reports(void **state)
{
	char dir[] = "/tmp/strata-test-diff-XXXXXX";
	char cmd[300], *got[4], *want[4];
	static const char *const envs[2][2] = { { "dev", "prod" }, { "prod", "dev" } };

	(void)state;
	assert_non_null(mkdtemp(dir));
	write_repo(dir);
	for (int dir_i = 0; dir_i < 2; dir_i++) {
		const char *oe = envs[dir_i][0], *ne = envs[dir_i][1];
		strata_repo *r1 = open_repo(dir), *r2 = open_repo(dir);
		strata_diff_side *o = render_side(r1, oe, NULL, true);
		strata_diff_side *n = render_side(r2, ne, NULL, true);

		for (int f = 0; f < 4; f++)
			want[f] = NULL;
		reports(strata_diff_side_input(o), strata_diff_side_input(n), want);
		assert_non_null(strstr(want[STRATA_DIFF_TEXT], "creds"));
		strata_diff_side_free(o);
		strata_diff_side_free(n);
		strata_repo_free(r1);
		strata_repo_free(r2);

		/* which: 1 the new side spilled (as the CLI does), 2 the old, 3 both;
		 * in a file (mem_max 0) and in memory */
		for (int which = 1; which <= 3; which++)
			for (int in_file = 0; in_file < 2; in_file++) {
				strata_repo *one = open_repo(dir);
				const char *tmp = in_file ? dir : NULL;
				size_t mem = in_file ? 0 : SIZE_MAX;
				char *w[4];

				n = which & 1 ? spilled_side(one, ne, tmp, mem)
					      : render_side(one, ne, NULL, false);
				o = which & 2 ? spilled_side(one, oe, tmp, mem)
					      : render_side(one, oe, NULL, true);
				reports(strata_diff_side_input(o), strata_diff_side_input(n), got);
				for (int f = 0; f < 4; f++)
					w[f] = strdup(want[f]);
				same_reports(got, w);
				strata_diff_side_free(o);
				strata_diff_side_free(n);
				strata_repo_free(one);
			}
		for (int f = 0; f < 4; f++)
			free(want[f]);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/*
 * A spill that cannot make its file fails with STRATA_EIO and one message,
 * and leaves the side a live render that still reports the same; Secrets
 * never go to the file, so a side of Secrets only needs none.
 */
static void test_diff__spill_failure_keeps_the_side(void **state)
{
	char dir[] = "/tmp/strata-test-diff-XXXXXX";
	char sdir[] = "/tmp/strata-test-diff-XXXXXX";
	char cmd[300], *got[4], *want[4];
	strata_repo *repo, *sr;
	strata_diff_side *o, *n, *s;
	strata_error err;

	(void)state;
	assert_non_null(mkdtemp(dir));
	write_repo(dir);
	repo = open_repo(dir);
	o = render_side(repo, "dev", NULL, false);
	n = render_side(repo, "prod", NULL, false);
	reports(strata_diff_side_input(o), strata_diff_side_input(n), want);
	strata_error_clear(&err);
	assert_int_equal(strata_diff_side_spill(n, "/nonexistent-strata-dir", 0, &err),
			 STRATA_EIO);
	assert_non_null(strstr(err.msg, "/nonexistent-strata-dir"));
	assert_non_null(strstr(err.msg, "prod"));
	assert_false(strata_diff_side_spilled(n));
	assert_non_null(strata_diff_side_input(n)->res[0]->root);
	reports(strata_diff_side_input(o), strata_diff_side_input(n), got);
	same_reports(got, want);
	strata_diff_side_free(o);
	strata_diff_side_free(n);
	strata_repo_free(repo);

	/* Secrets only: everything stays in memory, no file is needed */
	assert_non_null(mkdtemp(sdir));
	write_file(sdir, "strata.ini", "[strata]\nbase = base\n\n[env \"a\"]\n");
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/base", sdir);
	assert_int_equal(system(cmd), 0);
	write_file(sdir, "base/s.yaml",
		   "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n"
		   "stringData:\n  k: plain-secret\n");
	sr = open_repo(sdir);
	s = render_side(sr, "a", NULL, true);
	strata_error_clear(&err);
	assert_int_equal(strata_diff_side_spill(s, "/nonexistent-strata-dir", 0, &err), 0);
	assert_true(strata_diff_side_spilled(s));
	strata_diff_side_free(s);
	strata_repo_free(sr);
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", dir, sdir);
	assert_int_equal(system(cmd), 0);
}

/*
 * The report of several comparisons part by part (strata_diff_parts), the
 * body handed on and emptied between parts as the CLI does, is the
 * report of all of them in every format: text (a comparison without
 * changes has no block but a summary line), patch (paths get the
 * environment), json (its head says whether any differs) and markdown
 * (its table first; the last comparison is big enough to go past the
 * size budget, so which entries fit is decided at the end).
 */
static void test_diff__parts_make_the_report(void **state)
{
	static const char *const a = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: v\n";
	static const char *const b = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: w\n";
	strata_buf big_o = STRATA_BUF_INIT, big_n = STRATA_BUF_INIT;
	side o[4], n[4];
	const strata_diff *ds[4];
	strata_diff *d[4];

	(void)state;
	for (int i = 0; i < 400; i++) {
		strata_buf_printf(&big_o, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n"
				  "  name: cm-%03d\ndata:\n  key: old-value-%d\n", i, i);
		strata_buf_printf(&big_n, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n"
				  "  name: cm-%03d\ndata:\n  key: new-value-%d\n", i, i);
	}
	/* changed, unchanged, changed, big */
	side_load(&o[0], "x", NULL, NULL, a);
	side_load(&n[0], "x", NULL, NULL, b);
	side_load(&o[1], "y", NULL, NULL, a);
	side_load(&n[1], "y", NULL, NULL, a);
	side_load(&o[2], "z", NULL, NULL, b);
	side_load(&n[2], "z", NULL, NULL, a);
	side_load(&o[3], "w", NULL, NULL, big_o.ptr);
	side_load(&n[3], "w", NULL, NULL, big_n.ptr);
	for (int i = 0; i < 4; i++)
		ds[i] = d[i] = run(&o[i], &n[i], NULL);
	for (int f = STRATA_DIFF_TEXT; f <= STRATA_DIFF_MARKDOWN; f++) {
		for (size_t cnt = 3; cnt <= 4; cnt++) {
			strata_diff_fmt fmt = { f, f == STRATA_DIFF_TEXT, false, -1 };
			strata_buf all = STRATA_BUF_INIT, got = STRATA_BUF_INIT;
			strata_buf body = STRATA_BUF_INIT, head = STRATA_BUF_INIT;
			strata_buf tail = STRATA_BUF_INIT;
			strata_diff_parts *p = strata_diff_parts_new(cnt, &fmt);

			assert_non_null(p);
			assert_int_equal(strata_diff_format_report(&all, ds, cnt, &fmt), 0);
			for (size_t i = 0; i < cnt; i++) {
				assert_int_equal(strata_diff_parts_add(p, &body, ds[i]), 0);
				if (body.len)
					assert_int_equal(strata_buf_put(&got, body.ptr, body.len), 0);
				body.len = 0;
			}
			assert_int_equal(strata_diff_parts_end(p, &head, &tail), 0);
			if (tail.len)
				assert_int_equal(strata_buf_put(&got, tail.ptr, tail.len), 0);
			if (head.len)
				assert_int_equal(strata_buf_put(&head, got.ptr ? got.ptr : "",
								got.len), 0);
			else
				head = got, got = (strata_buf)STRATA_BUF_INIT;
			assert_non_null(all.ptr);
			assert_non_null(head.ptr);
			assert_string_equal(head.ptr, all.ptr);
			/* handed on in pieces (strata_diff_parts_emit), as the CLI does */
			{
				strata_diff_parts *q = strata_diff_parts_new(cnt, &fmt);
				pieces pc = { STRATA_BUF_INIT, 0 };
				strata_buf h2 = STRATA_BUF_INIT, t2 = STRATA_BUF_INIT;

				assert_non_null(q);
				for (size_t i = 0; i < cnt; i++)
					assert_int_equal(strata_diff_parts_emit(q, ds[i], collect, &pc), 0);
				assert_int_equal(strata_diff_parts_end(q, &h2, &t2), 0);
				if (pc.b.len)
					assert_int_equal(strata_buf_put(&h2, pc.b.ptr, pc.b.len), 0);
				if (t2.len)
					assert_int_equal(strata_buf_put(&h2, t2.ptr, t2.len), 0);
				assert_non_null(h2.ptr);
				assert_string_equal(h2.ptr, all.ptr);
				/* the big patch and json parts come in several pieces */
				if (cnt == 4 && (f == STRATA_DIFF_PATCH || f == STRATA_DIFF_JSON))
					assert_true(pc.n > 1);
				if (cnt == 4 && f != STRATA_DIFF_MARKDOWN)
					assert_int_equal(strata_diff_parts_emit(q, ds[0], refuse, NULL),
							 STRATA_ERROR);
				strata_diff_parts_free(q);
				strata_buf_free(&pc.b);
				strata_buf_free(&h2);
				strata_buf_free(&t2);
			}
			if (f == STRATA_DIFF_MARKDOWN && cnt == 4)
				assert_non_null(strstr(all.ptr, "too long for one comment"));
			strata_diff_parts_free(p);
			strata_buf_free(&all);
			strata_buf_free(&got);
			strata_buf_free(&body);
			strata_buf_free(&head);
			strata_buf_free(&tail);
		}
	}
	for (int i = 0; i < 4; i++)
		free_all(d[i], &o[i], &n[i]);
	strata_buf_free(&big_o);
	strata_buf_free(&big_n);
}

/* Many resources for the threaded comparison: variant 1 changes some,
 * reorders some containers, drops some and adds others. */
static char *many_yaml(int variant)
{
	strata_buf b = STRATA_BUF_INIT;

	for (int i = 0; i < 300; i++) {
		bool swap = variant && i % 7 == 0;
		const char *c1 = swap ? "sidecar" : "main", *c2 = swap ? "main" : "sidecar";

		if (variant && i % 37 == 5)
			continue; /* removed */
		assert_int_equal(strata_buf_printf(&b,
			"---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
			"  name: app-%03d\n  labels:\n    tier: t%d\nspec:\n  replicas: %d\n"
			"  template:\n    spec:\n      containers:\n"
			"      - name: %s\n        image: %s-%03d:%s\n"
			"      - name: %s\n        image: proxy:%s\n",
			i, variant && i % 11 == 0 ? 9 : i % 4,
			variant && i % 5 == 0 ? 3 : 2, c1, c1, i,
			variant && i % 3 == 0 ? "v2" : "v1", c2,
			variant && i % 13 == 0 ? "2" : "1"), 0);
		if (i % 10 == 0)
			assert_int_equal(strata_buf_printf(&b,
				"---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s-%03d\n"
				"data:\n  k: %s\n", i,
				variant && i % 20 == 0 ? "Yg==" : "YQ=="), 0);
		assert_int_equal(strata_buf_printf(&b,
			"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%03d\n"
			"data:\n  conf: |\n    line one\n    line %s\n    line three\n",
			i, variant && i % 4 == 0 ? "two changed" : "two"), 0);
		if (variant && i % 41 == 7)
			assert_int_equal(strata_buf_printf(&b,
				"---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n"
				"  name: extra-%03d\n", i), 0);
	}
	return strata_buf_detach(&b, NULL);
}

/* A side whose documents are loaded on demand (strata_diff_input.load),
 * failing for the resources named in fail. */
typedef struct lazy {
	side *from;
	strata_resource *res;
	const strata_resource **ptrs;
	const char *const *fail;
} lazy;

static int lazy_load(void *ctx, const strata_resource *r, strata_arena *a,
		     strata_node **root, strata_error *err)
{
	lazy *l = ctx;
	size_t i = (size_t)(r - l->res);

	(void)a;
	for (const char *const *f = l->fail; f && *f; f++)
		if (!strcmp(r->name, *f))
			return strata_error_set(err, STRATA_EIO, r->file, r->line, r->col,
						"cannot load %s", r->name);
	*root = l->from->res[i]->root;
	return 0;
}

static void lazy_init(lazy *l, side *from, const char *const *fail)
{
	l->from = from;
	l->fail = fail;
	l->res = calloc(from->n + 1, sizeof(*l->res));
	l->ptrs = calloc(from->n + 1, sizeof(*l->ptrs));
	assert_non_null(l->res);
	assert_non_null(l->ptrs);
	for (size_t i = 0; i < from->n; i++) {
		l->res[i] = *from->res[i];
		l->res[i].root = NULL;
		l->ptrs[i] = &l->res[i];
	}
}

/*
 * Issue 6: the paired resources are compared on several threads
 * (strata_diff_opts.jobs).  The result must be one thread's, entry by
 * entry and in every format, and a failure must be the first one in the
 * new side's order whichever thread meets it first.
 */
static void test_diff__threads_same_result(void **state)
{
	static const char *const fail[] = { "app-150", "app-040", "app-041", NULL };
	char *oy = many_yaml(0), *ny = many_yaml(1);
	side o, n;
	lazy ln;
	strata_diff_input lin;

	(void)state;
	side_load(&o, "a", NULL, NULL, oy);
	side_load(&n, "a", NULL, NULL, ny);
	lazy_init(&ln, &n, NULL);
	lin = n.in;
	lin.res = ln.ptrs;
	lin.load = lazy_load;
	lin.load_ctx = &ln;
	for (int lazy_side = 0; lazy_side < 2; lazy_side++) {
		const strata_diff_input *ni = lazy_side ? &lin : &n.in;
		strata_diff_opts one = { .jobs = 1 }, four = { .jobs = 4 };
		strata_diff *d1 = NULL, *d4 = NULL;
		strata_error err;

		strata_error_clear(&err);
		assert_int_equal(strata_diff_compute(&d1, &o.in, ni, &one, &err), 0);
		assert_int_equal(strata_diff_compute(&d4, &o.in, ni, &four, &err), 0);
		assert_true(d1->changed > 100);
		assert_true(d1->unchanged > 50);
		assert_true(d1->added > 0 && d1->removed > 0);
		assert_int_equal(d4->n, d1->n);
		assert_int_equal(d4->added, d1->added);
		assert_int_equal(d4->removed, d1->removed);
		assert_int_equal(d4->changed, d1->changed);
		assert_int_equal(d4->unchanged, d1->unchanged);
		for (size_t k = 0; k < d1->n; k++) {
			const strata_diff_entry *a = &d1->entries[k], *b = &d4->entries[k];
			assert_int_equal(a->status, b->status);
			assert_ptr_equal(a->old_res, b->old_res);
			assert_ptr_equal(a->new_res, b->new_res);
			assert_int_equal(a->n_changes, b->n_changes);
			for (size_t c = 0; c < a->n_changes; c++) {
				assert_int_equal(a->changes[c].op, b->changes[c].op);
				assert_string_equal(a->changes[c].path, b->changes[c].path);
			}
		}
		for (int f = STRATA_DIFF_TEXT; f <= STRATA_DIFF_MARKDOWN; f++) {
			char *r1 = report(d1, f, false), *r4 = report(d4, f, false);
			assert_string_equal(r1, r4);
			free(r1);
			free(r4);
		}
		strata_diff_free(d1);
		strata_diff_free(d4);
	}
	/* the first failure in order, every time */
	ln.fail = fail;
	for (int i = 0; i < 20; i++) {
		strata_diff_opts opts = { .jobs = 1 + (unsigned)i % 4 };
		strata_diff *d = NULL;
		strata_error err;

		strata_error_clear(&err);
		assert_int_equal(strata_diff_compute(&d, &o.in, &lin, &opts, &err), STRATA_EIO);
		assert_null(d);
		assert_string_equal(err.msg, "cannot load app-040");
	}
	free(ln.res);
	free(ln.ptrs);
	side_free(&o);
	side_free(&n);
	free(oy);
	free(ny);
}

/* Application i's published file: a Deployment and a ConfigMap. */
static void app_yaml(strata_buf *b, int i, int variant)
{
	assert_int_equal(strata_buf_printf(b,
		"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-%03d\n"
		"spec:\n  replicas: %d\n  template:\n    spec:\n      containers:\n"
		"      - name: main\n        image: app:%s\n"
		"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%03d\n"
		"data:\n  conf: |\n    one\n    %s\n", i,
		variant && i % 5 == 0 ? 3 : 2, variant && i % 3 == 0 ? "v2" : "v1",
		i, variant && i % 4 == 0 ? "two" : "2"), 0);
}

/* Load prod@published of dir kept packed on jobs threads. */
static int published_packed(strata_diff_side **s, const char *dir,
			    const strata_config *cfg, unsigned jobs,
			    size_t max_file, strata_error *err)
{
	strata_limits lim;

	strata_limits_default(&lim);
	lim.jobs = jobs;
	if (max_file)
		lim.max_file = max_file;
	strata_error_clear(err);
	return strata_diff_side_published_text(s, dir, cfg, "prod", NULL, NULL, &lim,
					       dir, 4096, true, err);
}

/*
 * Issue 6: a published tree kept packed has its files parsed on the -j
 * threads, a batch at a time.  The side must be the one-thread side
 * (resources, order, a file that keeps its trees, the reports), and a
 * failure the first in the tree's order: a parse error in an early batch
 * before a later one, and before a limit met by a later file.
 */
static void test_diff__published_side_on_threads(void **state)
{
	char dir[] = "/tmp/strata-test-diff-XXXXXX";
	char cmd[512], name[64], *want[4], *got[4];
	strata_buf b = STRATA_BUF_INIT;
	strata_config *cfg;
	strata_diff_side *one = NULL, *four = NULL;
	strata_error err;
	side n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (int i = 0; i < 300; i++) {
		b.len = 0;
		app_yaml(&b, i, 0);
		if (i == 150) /* its apiVersion keeps the file's trees */
			strata_buf_puts(&b, "---\napiVersion: /v1\nkind: ConfigMap\n"
				       "metadata:\n  name: odd\n");
		snprintf(name, sizeof(name), "f%03d.yaml", i);
		write_file(dir, name, b.ptr);
	}
	cfg = publish_dir(dir);
	b.len = 0;
	for (int i = 0; i < 300; i++) {
		if (i)
			strata_buf_puts(&b, "---\n");
		app_yaml(&b, i, 1);
	}
	side_load(&n, "prod", NULL, NULL, b.ptr);
	assert_int_equal(published_packed(&one, dir, cfg, 1, 0, &err), 0);
	assert_int_equal(published_packed(&four, dir, cfg, 4, 0, &err), 0);
	{
		const strata_diff_input *a = strata_diff_side_input(one);
		const strata_diff_input *c = strata_diff_side_input(four);
		size_t trees = 0;

		assert_int_equal(a->n, 601);
		assert_int_equal(c->n, a->n);
		for (size_t i = 0; i < a->n; i++) {
			assert_string_equal(a->res[i]->name, c->res[i]->name);
			assert_string_equal(a->res[i]->kind, c->res[i]->kind);
			assert_string_equal(a->res[i]->file, c->res[i]->file);
			trees += c->res[i]->root != NULL;
		}
		assert_int_equal(trees, 3);
		reports(a, &n.in, want);
		reports(c, &n.in, got);
		assert_non_null(strstr(want[STRATA_DIFF_TEXT], "app-000"));
		same_reports(got, want);
	}
	strata_diff_side_free(one);
	strata_diff_side_free(four);

	/* the first failure in order, whatever the threads did */
	write_file(dir, "f040.yaml", "apiVersion: v1\nkind: [\n");
	write_file(dir, "f250.yaml", "apiVersion: v1\nkind: {\n");
	b.len = 0;
	for (int i = 0; i < 400; i++)
		strata_buf_puts(&b, "# padding past the limit below\n");
	write_file(dir, "f100.yaml", b.ptr);
	snprintf(cmd, sizeof(cmd), "cd %s && git add -A && git -c user.name=T "
		 "-c user.email=t@example.com commit -q -m bad", dir);
	assert_int_equal(system(cmd), 0);
	for (int round = 0; round < 6; round++) {
		unsigned jobs = 1 + (unsigned)round % 4;
		assert_true(published_packed(&four, dir, cfg, jobs, round < 3 ? 0 : 4000,
					     &err) < 0);
		assert_null(four);
		assert_string_equal(err.file, "env/prod:f040.yaml");
	}
	write_file(dir, "f040.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n");
	write_file(dir, "f250.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: y\n");
	assert_int_equal(system(cmd), 0);
	assert_int_equal(published_packed(&four, dir, cfg, 4, 4000, &err), STRATA_ELIMIT);
	assert_string_equal(err.file, "env/prod:f100.yaml");

	strata_buf_free(&b);
	side_free(&n);
	strata_config_free(cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diff__pairs_across_environments),
		cmocka_unit_test(test_diff__same_env_reports_namespace_moves),
		cmocka_unit_test(test_diff__added_removed_unchanged),
		cmocka_unit_test(test_diff__keyed_list_by_merge_key),
		cmocka_unit_test(test_diff__order_only),
		cmocka_unit_test(test_diff__plain_list_items),
		cmocka_unit_test(test_diff__multiline_strings_as_line_diffs),
		cmocka_unit_test(test_diff__secret_values_are_masked),
		cmocka_unit_test(test_diff__added_secret_is_masked),
		cmocka_unit_test(test_diff__ignore_rules),
		cmocka_unit_test(test_diff__myers_is_minimal),
		cmocka_unit_test(test_diff__patch_headers),
		cmocka_unit_test(test_diff__published_side_limits),
		cmocka_unit_test(test_diff__shared_base_same_reports),
		cmocka_unit_test(test_diff__parts_make_the_report),
		cmocka_unit_test(test_diff__spilled_side_same_reports),
		cmocka_unit_test(test_diff__published_side_as_text),
		cmocka_unit_test(test_diff__spill_failure_keeps_the_side),
		cmocka_unit_test(test_diff__threads_same_result),
		cmocka_unit_test(test_diff__published_side_on_threads),
	};

	return cmocka_run_group_tests_name("diff", tests, NULL, NULL);
}
