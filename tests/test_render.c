/*
 * test_render.c - the pipeline as a whole: the base is read once per repo
 * however many environments render, layer order, --out paths, and atomic
 * output that never replaces a directory strata did not write.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_util.h"

#include "strata.h"


/* A source that counts reads per path, wrapping the filesystem source. */
typedef struct counting {
	strata_source base;
	strata_source *inner;
	int base_reads;
	int total_reads;
} counting;

static int c_list(strata_source *s, const char *dir, strata_source_entry **out,
		  size_t *n, strata_error *err)
{
	counting *c = (counting *)s;
	return c->inner->list(c->inner, dir, out, n, err);
}

static int c_read(strata_source *s, const char *path, char **out, size_t *len,
		  strata_error *err)
{
	counting *c = (counting *)s;
	c->total_reads++;
	if (!strncmp(path, "base/", 5))
		c->base_reads++;
	c->inner->max_file = s->max_file;
	return c->inner->read(c->inner, path, out, len, err);
}

static int c_stat(strata_source *s, const char *path, int *type, strata_error *err)
{
	counting *c = (counting *)s;
	return c->inner->stat(c->inner, path, type, err);
}

static void c_free(strata_source *s)
{
	(void)s; /* owned by the test */
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/strata-test-render-XXXXXX");
	assert_non_null(mkdtemp(root));
	put("strata.ini",
	    "[env \"dev\"]\nnamespace = dev\nname_prefix = dev-\nimage.nginx = nginx:9\n\n"
	    "[env \"prod\"]\nnamespace = prod\nlabel.env = prod\n\n"
	    "[env \"prod-eu\"]\ninherit = prod\nvar.REGION = eu\n");
	put("base/a/web.yaml",
	    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n"
	    "  replicas: 1\n  template:\n    spec:\n      containers:\n      - name: web\n"
	    "        image: nginx:1\n        env:\n        - name: REGION\n          value: ${REGION:-none}\n");
	put("base/b.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  k: v\n");
	put("overlays/prod/replicas.yaml",
	    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n");
	put("overlays/prod-eu/more.yaml",
	    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 5\n");
	put("overlays/prod/resources/pdb.yaml",
	    "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: web\n");
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

static strata_repo *open_repo(counting *c)
{
	strata_error err;
	strata_repo *repo;

	strata_error_clear(&err);
	memset(c, 0, sizeof(*c));
	assert_int_equal(strata_source_fs_open(&c->inner, root, &err), 0);
	c->base.list = c_list;
	c->base.read = c_read;
	c->base.stat = c_stat;
	c->base.free = c_free;
	assert_int_equal(strata_repo_open(&repo, &c->base, NULL, &err), 0);
	return repo;
}

static const char *render_text(strata_repo *repo, const char *env, strata_buf *b)
{
	strata_render *r;
	strata_error err;

	strata_error_clear(&err);
	b->len = 0;
	assert_int_equal(strata_render_env(&r, repo, env, &err), 0);
	assert_int_equal(strata_render_stream(b, r), 0);
	strata_render_free(r);
	return b->ptr;
}

static void test_render__base_parsed_once(void **state)
{
	counting c;
	strata_repo *repo = open_repo(&c);
	strata_buf b = STRATA_BUF_INIT;

	(void)state;
	render_text(repo, "dev", &b);
	render_text(repo, "prod", &b);
	render_text(repo, "prod-eu", &b);
	/* two base files, read once for three environments; the prod layer
	 * is read once although prod-eu inherits it */
	assert_int_equal(c.base_reads, 2);
	assert_int_equal(c.total_reads, 2 + 1 + 1 + 1 + 1); /* + strata.ini */
	strata_buf_free(&b);
	strata_repo_free(repo);
	c.inner->free(c.inner);
}

static void test_render__layers_in_order(void **state)
{
	counting c;
	strata_repo *repo = open_repo(&c);
	strata_buf b = STRATA_BUF_INIT;
	const char *t;

	(void)state;
	t = render_text(repo, "prod-eu", &b);
	assert_non_null(strstr(t, "replicas: 5\n"));  /* prod-eu's layer wins */
	assert_non_null(strstr(t, "value: eu\n"));
	assert_non_null(strstr(t, "kind: PodDisruptionBudget"));
	t = render_text(repo, "prod", &b);
	assert_non_null(strstr(t, "replicas: 3\n"));
	assert_non_null(strstr(t, "value: none\n"));
	t = render_text(repo, "dev", &b);
	assert_non_null(strstr(t, "name: dev-web\n  namespace: dev\n"));
	assert_null(strstr(t, "PodDisruptionBudget"));
	/* order: ConfigMap before Deployment */
	assert_true(strstr(t, "kind: ConfigMap") < strstr(t, "kind: Deployment"));
	strata_buf_free(&b);
	strata_repo_free(repo);
	c.inner->free(c.inner);
}

static void test_render__deterministic(void **state)
{
	counting c;
	strata_repo *repo = open_repo(&c);
	strata_buf b1 = STRATA_BUF_INIT, b2 = STRATA_BUF_INIT;

	(void)state;
	render_text(repo, "prod", &b1);
	render_text(repo, "prod", &b2);
	assert_int_equal(b1.len, b2.len);
	assert_memory_equal(b1.ptr, b2.ptr, b1.len);
	strata_buf_free(&b1);
	strata_buf_free(&b2);
	strata_repo_free(repo);
	c.inner->free(c.inner);
}

/*
 * Copies share scalar nodes with the base and the layers (doc.h), so a
 * transform that edited one in place would change what later renders of
 * the same repo see.  Every environment, rendered after the others in one
 * repo, must equal its render in a repo of its own.
 */
static void test_render__renders_do_not_leak_into_each_other(void **state)
{
	static const char *const order[] = { "dev", "prod-eu", "prod", "dev", "prod-eu" };
	counting c;
	strata_repo *repo;
	strata_buf want = STRATA_BUF_INIT, got = STRATA_BUF_INIT;

	(void)state;
	repo = open_repo(&c);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		counting fresh;
		strata_repo *alone = open_repo(&fresh);

		render_text(alone, order[i], &want);
		strata_repo_free(alone);
		fresh.inner->free(fresh.inner);
		render_text(repo, order[i], &got);
		assert_int_equal(got.len, want.len);
		assert_memory_equal(got.ptr, want.ptr, want.len);
	}
	/* the transforms did change these scalars in their own renders */
	render_text(repo, "dev", &got);
	assert_non_null(strstr(got.ptr, "image: nginx:9"));
	assert_non_null(strstr(got.ptr, "name: dev-web"));
	render_text(repo, "prod-eu", &got);
	assert_non_null(strstr(got.ptr, "value: eu"));
	assert_non_null(strstr(got.ptr, "image: nginx:1"));
	strata_buf_free(&want);
	strata_buf_free(&got);
	strata_repo_free(repo);
	c.inner->free(c.inner);
}

static void test_render__last_render_takes_base(void **state)
{
	counting c;
	strata_repo *repo = open_repo(&c);
	strata_buf b1 = STRATA_BUF_INIT, b2 = STRATA_BUF_INIT;
	strata_render *r;
	strata_error err;

	(void)state;
	render_text(repo, "prod-eu", &b1);
	strata_repo_last_render(repo);
	/* the render that takes the base gives the same bytes as a copy */
	render_text(repo, "prod-eu", &b2);
	assert_int_equal(b1.len, b2.len);
	assert_memory_equal(b1.ptr, b2.ptr, b1.len);
	/* after that the repo refuses to render instead of using edited trees */
	strata_error_clear(&err);
	assert_int_equal(strata_render_env(&r, repo, "prod", &err), STRATA_EUSAGE);
	strata_buf_free(&b1);
	strata_buf_free(&b2);
	strata_repo_free(repo);
	c.inner->free(c.inner);
}

static void test_render__trim_layers(void **state)
{
	counting c;
	strata_repo *repo = open_repo(&c);
	strata_buf b1 = STRATA_BUF_INIT, b2 = STRATA_BUF_INIT;
	const char *keep[] = { "prod" };
	strata_error err;
	int before;

	(void)state;
	render_text(repo, "prod-eu", &b1);
	before = c.total_reads;
	/* prod still needs overlays/prod: only overlays/prod-eu goes */
	strata_error_clear(&err);
	assert_int_equal(strata_repo_trim(repo, keep, 1, &err), 0);
	render_text(repo, "prod", &b2);
	assert_int_equal(c.total_reads, before);
	/* a dropped layer needed again is read again, same result */
	render_text(repo, "prod-eu", &b2);
	assert_int_equal(c.total_reads, before + 1);
	assert_int_equal(b1.len, b2.len);
	assert_memory_equal(b1.ptr, b2.ptr, b1.len);
	strata_buf_free(&b1);
	strata_buf_free(&b2);
	strata_repo_free(repo);
	c.inner->free(c.inner);
}

static void test_render__paths(void **state)
{
	strata_arena *a = strata_arena_new();
	strata_resource r;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.group = "apps"; r.kind = "Deployment"; r.ns = "shop"; r.name = "web";
	assert_string_equal(strata_render_path(a, &r), "shop/Deployment.apps_web.yaml");
	r.group = ""; r.kind = "ConfigMap"; r.ns = ""; r.name = "c";
	assert_string_equal(strata_render_path(a, &r), "_default/ConfigMap_c.yaml");
	r.group = "rbac.authorization.k8s.io"; r.kind = "ClusterRole"; r.name = "system:read";
	assert_string_equal(strata_render_path(a, &r),
			    "_cluster/ClusterRole.rbac.authorization.k8s.io_system%3Aread.yaml");
	r.group = ""; r.kind = "ConfigMap"; r.ns = "x"; r.name = "../../etc";
	assert_string_equal(strata_render_path(a, &r), "x/ConfigMap_%2E.%2F..%2Fetc.yaml");
	r.ns = "..";
	assert_string_equal(strata_render_path(a, &r), "%2E./ConfigMap_%2E.%2F..%2Fetc.yaml");
	strata_arena_free(a);
}

static void test_render__output_atomic(void **state)
{
	char out[400], path[600];
	strata_filelist files = { 0 };
	strata_error err;
	struct stat st;

	(void)state;
	snprintf(out, sizeof(out), "%s/out", root);
	assert_int_equal(strata_filelist_add(&files, "ns/A_x.yaml", strdup("a: 1\n"), 5), 0);
	strata_error_clear(&err);
	assert_int_equal(strata_output_write(out, &files, &err), 0);
	snprintf(path, sizeof(path), "%s/ns/A_x.yaml", out);
	assert_int_equal(stat(path, &st), 0);
	/* an earlier output is replaced: stale files go */
	strata_filelist_free(&files);
	assert_int_equal(strata_filelist_add(&files, "ns/B_y.yaml", strdup("b: 1\n"), 5), 0);
	assert_int_equal(strata_output_write(out, &files, &err), 0);
	assert_int_equal(stat(path, &st), -1);
	snprintf(path, sizeof(path), "%s/ns/B_y.yaml", out);
	assert_int_equal(stat(path, &st), 0);
	/* a directory strata did not write is refused and left alone */
	snprintf(out, sizeof(out), "%s/base", root);
	assert_int_equal(strata_output_write(out, &files, &err), STRATA_EREFUSED);
	snprintf(path, sizeof(path), "%s/base/b.yaml", root);
	assert_int_equal(stat(path, &st), 0);
	strata_filelist_free(&files);
}

static void test_render__unknown_env(void **state)
{
	counting c;
	strata_repo *repo = open_repo(&c);
	strata_render *r;
	strata_error err;

	(void)state;
	strata_error_clear(&err);
	assert_int_equal(strata_render_env(&r, repo, "prdo", &err), STRATA_ENOTFOUND);
	assert_non_null(strstr(err.msg, "did you mean 'prod'"));
	strata_repo_free(repo);
	c.inner->free(c.inner);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render__base_parsed_once),
		cmocka_unit_test(test_render__layers_in_order),
		cmocka_unit_test(test_render__deterministic),
		cmocka_unit_test(test_render__renders_do_not_leak_into_each_other),
		cmocka_unit_test(test_render__last_render_takes_base),
		cmocka_unit_test(test_render__trim_layers),
		cmocka_unit_test(test_render__paths),
		cmocka_unit_test(test_render__output_atomic),
		cmocka_unit_test(test_render__unknown_env),
	};
	return cmocka_run_group_tests_name("render", tests, setup, teardown);
}
