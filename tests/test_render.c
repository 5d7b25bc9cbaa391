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
#include <dirent.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_util.h"

#include "strata.h"
#include "arena_spare.h"
#include "strata/threads.h"
#include "gen.h"


/* A source that counts reads per path, wrapping the filesystem source. */
typedef struct counting {
	strata_source base;
	strata_source *inner;
	int base_reads;
	int total_reads;
	int trims;
	int reads_at_trim; /* total_reads when trim was last called */
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

static void c_trim(strata_source *s)
{
	counting *c = (counting *)s;
	c->trims++;
	c->reads_at_trim = c->total_reads;
}

static int setup(void **state)
{
	(void)state;
	root_make("render");
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
	c->base.trim = c_trim;
	assert_int_equal(strata_repo_open(&repo, &c->base, NULL, &err), 0);
	return repo;
}

static void close_repo(strata_repo *repo, counting *c)
{
	strata_repo_free(repo);
	c->inner->free(c->inner);
}

/* What most tests work on: the scratch repo, counted, and two outputs. */
typedef struct fixture {
	counting c;
	strata_repo *repo;
	strata_buf b1, b2;
} fixture;

static void fixture_open(fixture *f)
{
	static const strata_buf empty = STRATA_BUF_INIT;

	f->repo = open_repo(&f->c);
	f->b1 = empty;
	f->b2 = empty;
}

static void fixture_close(fixture *f)
{
	strata_buf_free(&f->b1);
	strata_buf_free(&f->b2);
	close_repo(f->repo, &f->c);
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

/* The two renders gave the same bytes. */
static void same_text(const strata_buf *x, const strata_buf *y)
{
	assert_int_equal(x->len, y->len);
	assert_memory_equal(x->ptr, y->ptr, x->len);
}

static void test_render__base_parsed_once(void **state)
{
	fixture f;

	(void)state;
	fixture_open(&f);
	render_text(f.repo, "dev", &f.b1);
	render_text(f.repo, "prod", &f.b1);
	render_text(f.repo, "prod-eu", &f.b1);
	/* two base files, read once for three environments; the prod layer
	 * is read once although prod-eu inherits it */
	assert_int_equal(f.c.base_reads, 2);
	assert_int_equal(f.c.total_reads, 2 + 1 + 1 + 1 + 1); /* + strata.ini */
	fixture_close(&f);
}

static void test_render__layers_in_order(void **state)
{
	fixture f;
	const char *t;

	(void)state;
	fixture_open(&f);
	t = render_text(f.repo, "prod-eu", &f.b1);
	assert_non_null(strstr(t, "replicas: 5\n"));  /* prod-eu's layer wins */
	assert_non_null(strstr(t, "value: eu\n"));
	assert_non_null(strstr(t, "kind: PodDisruptionBudget"));
	t = render_text(f.repo, "prod", &f.b1);
	assert_non_null(strstr(t, "replicas: 3\n"));
	assert_non_null(strstr(t, "value: none\n"));
	t = render_text(f.repo, "dev", &f.b1);
	assert_non_null(strstr(t, "name: dev-web\n  namespace: dev\n"));
	assert_null(strstr(t, "PodDisruptionBudget"));
	/* order: ConfigMap before Deployment */
	assert_true(strstr(t, "kind: ConfigMap") < strstr(t, "kind: Deployment"));
	fixture_close(&f);
}

static void test_render__deterministic(void **state)
{
	fixture f;

	(void)state;
	fixture_open(&f);
	render_text(f.repo, "prod", &f.b1);
	render_text(f.repo, "prod", &f.b2);
	same_text(&f.b1, &f.b2);
	fixture_close(&f);
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
	fixture f; /* b1: the render alone, b2: in the shared repo */

	(void)state;
	fixture_open(&f);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		counting fresh;
		strata_repo *alone = open_repo(&fresh);

		render_text(alone, order[i], &f.b1);
		close_repo(alone, &fresh);
		render_text(f.repo, order[i], &f.b2);
		same_text(&f.b2, &f.b1);
	}
	/* the transforms did change these scalars in their own renders */
	render_text(f.repo, "dev", &f.b2);
	assert_non_null(strstr(f.b2.ptr, "image: nginx:9"));
	assert_non_null(strstr(f.b2.ptr, "name: dev-web"));
	render_text(f.repo, "prod-eu", &f.b2);
	assert_non_null(strstr(f.b2.ptr, "value: eu"));
	assert_non_null(strstr(f.b2.ptr, "image: nginx:1"));
	fixture_close(&f);
}

/* One environment rendered alone, taking the repo's base: NULL on error. */
static char *render_alone(const char *dir, const char *env)
{
	strata_source *src;
	strata_repo *repo;
	strata_render *r;
	strata_error err;
	strata_buf b = STRATA_BUF_INIT;
	char *text = NULL;

	strata_error_clear(&err);
	if (strata_source_fs_open(&src, dir, &err) < 0)
		return NULL;
	if (strata_repo_open(&repo, src, NULL, &err) < 0)
		return NULL;
	strata_repo_last_render(repo);
	if (strata_render_env(&r, repo, env, &err) == 0) {
		if (strata_render_stream(&b, r) == 0)
			text = strata_buf_detach(&b, NULL);
		strata_render_free(r);
	}
	strata_buf_free(&b);
	strata_repo_free(repo);
	return text ? text : NULL;
}

/*
 * Renders of one repo share the parsed base copy-on-write (doc.h): a
 * transform or a merge that edited a shared map or list in place would
 * show in the renders made after it, or alive beside it.  Every golden
 * repo: each environment rendered twice in one repo, all the renders
 * alive at once (as diff holds its sides), must give the bytes of its
 * render alone, which edits a base of its own in place.
 */
static void check_shared_renders(const char *dir, size_t *n_checked)
{
	enum { MAX = 16 };
	strata_source *src;
	strata_repo *repo;
	strata_error err;
	strata_render *live[2 * MAX];
	char *alone[MAX];
	size_t n, n_live = 0;
	const strata_config *cfg;

	strata_error_clear(&err);
	if (strata_source_fs_open(&src, dir, &err) < 0 ||
	    strata_repo_open(&repo, src, NULL, &err) < 0)
		return; /* an error case's repo */
	cfg = strata_repo_config(repo);
	n = cfg->n_envs < MAX ? cfg->n_envs : MAX;
	for (size_t i = 0; i < n; i++)
		alone[i] = render_alone(dir, cfg->envs[i].name);
	for (size_t round = 0; round < 2; round++)
		for (size_t i = 0; i < n; i++) {
			strata_render *r;

			strata_error_clear(&err);
			if (strata_render_env(&r, repo, cfg->envs[i].name, &err) < 0) {
				assert_null(alone[i]); /* fails alone as well */
				continue;
			}
			assert_non_null(alone[i]);
			live[n_live++] = r;
		}
	/* emitted once every render is made: each must be as it was alone */
	for (size_t k = 0, i = 0; k < n_live; i = (i + 1) % n) {
		strata_buf b = STRATA_BUF_INIT;
		const char *name;

		if (!alone[i])
			continue;
		name = strata_render_envconf(live[k])->name;
		assert_string_equal(name, cfg->envs[i].name);
		assert_int_equal(strata_render_stream(&b, live[k]), 0);
		if (strcmp(b.ptr ? b.ptr : "", alone[i]))
			fail_msg("%s: env %s differs when renders share the base", dir, name);
		strata_buf_free(&b);
		strata_render_free(live[k++]);
		(*n_checked)++;
	}
	for (size_t i = 0; i < n; i++)
		free(alone[i]);
	strata_repo_free(repo);
}

/*
 * An arena attached to a spare store gives its full-size chunks back when
 * freed, the next one takes them first, zeroed as new memory is; once the
 * store is closed arenas free their chunks as before (a leak here shows
 * under ASan and valgrind).
 */
enum { SPARE_BIG = 10 << 20, SPARE_STEP = 4096 };

/*
 * Fill an arena attached to spare with SPARE_BIG bytes of 0xab, free it,
 * and return how many chunks the store kept (at least one: 32 KiB .. 1
 * MiB chunks first, then full-size ones of 2 MiB).
 */
static size_t spare_fill_and_free(strata_spare *spare)
{
	strata_arena *a = strata_arena_new();

	assert_non_null(a);
	strata_arena_use_spare(a, spare);
	for (size_t used = 0; used < SPARE_BIG; used += SPARE_STEP) {
		unsigned char *p = strata_arena_alloc(a, SPARE_STEP);
		assert_non_null(p);
		memset(p, 0xab, SPARE_STEP);
	}
	strata_arena_free(a);
	assert_true(spare->n >= 1);
	return spare->n;
}

static void test_render__spare_chunks_reused(void **state)
{
	enum { BIG = SPARE_BIG, STEP = SPARE_STEP };
	strata_spare spare = { 0 };
	strata_arena *b;

	(void)state;
	spare_fill_and_free(&spare);
	b = strata_arena_new();
	assert_non_null(b);
	strata_arena_use_spare(b, &spare);
	for (size_t used = 0; used < BIG; used += STEP) {
		unsigned char *p = strata_arena_alloc(b, STEP);
		assert_non_null(p);
		for (size_t i = 0; i < STEP; i += 512)
			assert_int_equal(p[i], 0);
	}
	assert_int_equal(spare.n, 0); /* taken once b is full-size */
	strata_spare_close(&spare);
	assert_true(spare.closed);
	strata_arena_free(b); /* after the close: freed, not kept */
	assert_int_equal(spare.n, 0);
	assert_null(spare.head);
}

/*
 * A small arena attached to a store grows from small chunks as any arena
 * does, and leaves the store's full-size chunks to arenas that have grown to
 * that size: an overlay layer of a few patches is cached for the repo's
 * life, and one spare chunk each pinned 4 MiB per layer (render --all of
 * 40 inheriting environments with one-patch overlays: 96 -> 251 MB).
 */
static void test_render__spare_small_arena_keeps_off(void **state)
{
	strata_spare spare = { 0 };
	strata_arena *small;
	size_t kept;

	(void)state;
	kept = spare_fill_and_free(&spare);
	small = strata_arena_new();
	assert_non_null(small);
	strata_arena_use_spare(small, &spare);
	for (size_t i = 0; i < 64; i++)
		assert_non_null(strata_arena_alloc(small, 100));
	assert_int_equal(spare.n, kept); /* nothing taken */
	strata_arena_free(small);        /* its 32 KiB chunk is not kept */
	assert_int_equal(spare.n, kept);
	strata_spare_close(&spare);
}

/*
 * Arenas on four threads share one store (the fused pass's, transform.c):
 * each fills arenas like the first, zeroed on taking, and frees them
 * back.  A chunk handed to two arenas at once, or lost, would show as a
 * nonzero byte taken, an ASan report, or a short store at the end.
 */
typedef struct spare_user {
	strata_spare *spare;
	strata_arena *like;
	int bad;
} spare_user;

static void *spare_churn(void *arg)
{
	spare_user *u = arg;

	for (int r = 0; r < 6; r++) {
		strata_arena *a = strata_arena_new_like(u->like);
		if (!a || strata_arena_cow(a) != true) {
			u->bad++;
			strata_arena_free(a);
			continue;
		}
		for (size_t used = 0; used < SPARE_BIG; used += SPARE_STEP) {
			unsigned char *p = strata_arena_alloc(a, SPARE_STEP);
			if (!p || p[0] || p[SPARE_STEP - 1]) {
				u->bad++;
				break;
			}
			memset(p, 0xcd, SPARE_STEP);
		}
		strata_arena_free(a);
	}
	return NULL;
}

static void test_render__spare_shared_by_threads(void **state)
{
	strata_spare spare = { 0 };
	strata_arena *like = strata_arena_new();
	spare_user u[4];
	pthread_t t[4];
	size_t kept;

	(void)state;
	assert_non_null(like);
	strata_arena_set_cow(like, true);
	strata_arena_use_spare(like, &spare);
	kept = spare_fill_and_free(&spare);
	for (int i = 0; i < 4; i++) {
		u[i] = (spare_user){ &spare, like, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, spare_churn, &u[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(u[i].bad, 0);
	}
	/*
	 * Every arena gave its full-size chunks back (as many as the first
	 * arena's, kept), and the store holds at most what four arenas held
	 * at once (the chunks waiting are poisoned: the list is not walked
	 * here).
	 */
	assert_true(kept >= 2);
	assert_true(spare.n >= kept && spare.n <= 4 * kept);
	strata_spare_close(&spare);
	assert_null(spare.head);
	strata_arena_free(like);
}

/*
 * A repository big enough that renders and layers fill full-size chunks:
 * its environments rendered one after another in one repo (each render's
 * chunks reused by the next, as render --all does, on four jobs) give the
 * bytes of each rendered alone (on one).  Under ASan a chunk waiting in
 * the store is poisoned.
 */
static void test_render__spare_renders_same_bytes(void **state)
{
	enum { APPS = 2000, ENVS = 3 };
	char dir[300], msg[256], saved[sizeof(root)];
	strata_limits lim;
	bench_gen_stats st;
	char *alone[ENVS];
	strata_source *src;
	strata_repo *repo;
	strata_error err;

	(void)state;
	memcpy(saved, root, sizeof(root)); /* the group's, removed at the end */
	root_make("spare");
	assert_int_equal(bench_gen(root, APPS, ENVS, 7, &st, msg, sizeof(msg)), 0);
	snprintf(dir, sizeof(dir), "%s/strata", root);
	for (int i = 0; i < ENVS; i++)
		assert_non_null(alone[i] = render_alone(dir, bench_env_name(i)));
	strata_error_clear(&err);
	/* four jobs on the helper threads: the fused pass's arenas share
	 * the store from two threads and more */
	strata_limits_default(&lim);
	lim.jobs = 4;
	assert_int_equal(strata_threads_start(4), 0);
	assert_int_equal(strata_source_fs_open(&src, dir, &err), 0);
	assert_int_equal(strata_repo_open(&repo, src, &lim, &err), 0);
	strata_repo_reuse_memory(repo, true);
	for (int i = 0; i < ENVS; i++) {
		strata_buf b = STRATA_BUF_INIT;
		strata_render *r;

		if (i == ENVS - 1)
			strata_repo_last_render(repo);
		assert_int_equal(strata_render_env(&r, repo, bench_env_name(i), &err), 0);
		assert_int_equal(strata_render_stream(&b, r), 0);
		assert_true(b.len > (size_t)APPS * 1000);
		if (strcmp(b.ptr, alone[i]))
			fail_msg("%s differs when rendered after others", bench_env_name(i));
		strata_buf_free(&b);
		strata_render_free(r);
		free(alone[i]);
	}
	strata_repo_free(repo);
	strata_threads_stop();
	assert_int_equal(root_teardown(NULL), 0);
	memcpy(root, saved, sizeof(root));
}

static void test_render__shared_base_copy_on_write(void **state)
{
	static const char *const roots[] = { "fixtures/render", "fixtures/check" };
	static const char *const repos[] = { "fixtures/diff/_repos/shop",
					     "examples/shop" };
	size_t checked = 0;
	char dir[4096];

	(void)state;
	for (size_t k = 0; k < sizeof(roots) / sizeof(roots[0]); k++) {
		DIR *d;
		struct dirent *e;

		snprintf(dir, sizeof(dir), "%s/%s", STRATA_SOURCE_DIR, roots[k]);
		d = opendir(dir);
		assert_non_null(d);
		while ((e = readdir(d))) {
			struct stat st;

			if (e->d_name[0] == '.')
				continue;
			snprintf(dir, sizeof(dir), "%s/%s/%s/repo", STRATA_SOURCE_DIR,
				 roots[k], e->d_name);
			if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
				check_shared_renders(dir, &checked);
		}
		closedir(d);
	}
	for (size_t k = 0; k < sizeof(repos) / sizeof(repos[0]); k++) {
		snprintf(dir, sizeof(dir), "%s/%s", STRATA_SOURCE_DIR, repos[k]);
		check_shared_renders(dir, &checked);
	}
	/* the golden repos hold dozens of environments: they were found */
	assert_true(checked >= 40);
}

static void test_render__last_render_takes_base(void **state)
{
	fixture f;
	strata_render *r;
	strata_error err;

	(void)state;
	fixture_open(&f);
	render_text(f.repo, "prod-eu", &f.b1);
	assert_int_equal(f.c.trims, 0); /* more renders may read */
	strata_repo_last_render(f.repo);
	/* the render that takes the base gives the same bytes as a copy */
	render_text(f.repo, "prod-eu", &f.b2);
	same_text(&f.b1, &f.b2);
	/* ... and trims the source once, after its last read */
	assert_int_equal(f.c.trims, 1);
	assert_int_equal(f.c.reads_at_trim, f.c.total_reads);
	/* after that the repo refuses to render instead of using edited trees */
	strata_error_clear(&err);
	assert_int_equal(strata_render_env(&r, f.repo, "prod", &err), STRATA_EUSAGE);
	fixture_close(&f);
}

static void test_render__release_after_last_render(void **state)
{
	fixture f;
	strata_render *r = NULL;
	strata_error err;

	(void)state;
	fixture_open(&f);
	/* the base not given away yet: release keeps it for the next render */
	render_text(f.repo, "prod", &f.b1);
	strata_repo_release(f.repo);
	render_text(f.repo, "prod-eu", &f.b1);
	strata_repo_last_render(f.repo);
	strata_error_clear(&err);
	assert_int_equal(strata_render_env(&r, f.repo, "prod", &err), 0);
	strata_render_free(r);
	/* given away: the base and the layers go, config and source stay */
	strata_repo_release(f.repo);
	strata_repo_release(f.repo);
	assert_non_null(strata_repo_config(f.repo)->base);
	assert_non_null(strata_repo_source(f.repo));
	strata_error_clear(&err);
	assert_int_equal(strata_render_env(&r, f.repo, "prod", &err), STRATA_EUSAGE);
	assert_null(r);
	strata_error_clear(&err);
	assert_int_equal(strata_repo_trim(f.repo, NULL, 0, &err), 0);
	fixture_close(&f);
	strata_repo_release(NULL);
}

static void test_render__trim_layers(void **state)
{
	fixture f;
	const char *keep[] = { "prod" };
	strata_error err;
	int before;

	(void)state;
	fixture_open(&f);
	render_text(f.repo, "prod-eu", &f.b1);
	before = f.c.total_reads;
	/* prod still needs overlays/prod: only overlays/prod-eu goes */
	strata_error_clear(&err);
	assert_int_equal(f.c.trims, 0);
	assert_int_equal(strata_repo_trim(f.repo, keep, 1, &err), 0);
	/* the source's read caches go too; the next read rebuilds them */
	assert_int_equal(f.c.trims, 1);
	render_text(f.repo, "prod", &f.b2);
	assert_int_equal(f.c.total_reads, before);
	/* a dropped layer needed again is read again, same result */
	render_text(f.repo, "prod-eu", &f.b2);
	assert_int_equal(f.c.total_reads, before + 1);
	same_text(&f.b1, &f.b2);
	fixture_close(&f);
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
	fixture f;
	strata_render *r;
	strata_error err;

	(void)state;
	fixture_open(&f);
	strata_error_clear(&err);
	assert_int_equal(strata_render_env(&r, f.repo, "prdo", &err), STRATA_ENOTFOUND);
	assert_non_null(strstr(err.msg, "did you mean 'prod'"));
	fixture_close(&f);
}

/*
 * The variables' pass skips a resource whose file has no '$' and no
 * backslash, unless a patch with one merged into it (resource.h
 * dollar_free): every other way a '$' reaches a scalar is still seen.
 */
static void test_render__vars_reach_every_scalar(void **state)
{
	char dir[300];
	strata_source *src;
	strata_repo *repo;
	strata_buf b = STRATA_BUF_INIT;
	strata_error err;
	const char *text, *p;
	int found = 0;

	(void)state;
	put("vars/strata.ini", "[env \"e\"]\nvar.R = eu\n");
	/* a double-quoted escape writes the '$': the file has none */
	put("vars/base/esc.yaml",
	    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: esc\ndata:\n"
	    "  r: \"\\x24{R}\"\n");
	/* clean in the base; the patch brings the reference */
	put("vars/base/clean.yaml",
	    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: clean\ndata:\n  k: v\n");
	put("vars/overlays/e/clean.yaml",
	    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: clean\ndata:\n  r: ${R}\n");
	/* the overlay's own resource */
	put("vars/overlays/e/resources/new.yaml",
	    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: new\ndata:\n  r: ${R}\n");
	/* two documents, the reference in the second only */
	put("vars/base/two.yaml",
	    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: two-a\ndata:\n  k: v\n---\n"
	    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: two-b\ndata:\n  r: ${R}\n");
	/* untouched and clean: skipped, and the same */
	put("vars/base/plain.yaml",
	    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\ndata:\n  k: v\n");

	strata_error_clear(&err);
	snprintf(dir, sizeof(dir), "%s/vars", root);
	assert_int_equal(strata_source_fs_open(&src, dir, &err), 0);
	assert_int_equal(strata_repo_open(&repo, src, NULL, &err), 0);
	text = render_text(repo, "e", &b);
	assert_null(strstr(text, "${"));
	assert_null(strstr(text, "x24"));
	for (p = text; (p = strstr(p, "r: eu\n")); p++)
		found++;
	assert_int_equal(found, 3);
	/* the escaped one keeps its double quotes */
	assert_non_null(strstr(text, "name: esc\ndata:\n  r: \"eu\"\n"));
	assert_non_null(strstr(text, "name: plain\ndata:\n  k: v\n"));
	strata_buf_free(&b);
	strata_repo_free(repo);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render__base_parsed_once),
		cmocka_unit_test(test_render__layers_in_order),
		cmocka_unit_test(test_render__deterministic),
		cmocka_unit_test(test_render__renders_do_not_leak_into_each_other),
		cmocka_unit_test(test_render__shared_base_copy_on_write),
		cmocka_unit_test(test_render__last_render_takes_base),
		cmocka_unit_test(test_render__release_after_last_render),
		cmocka_unit_test(test_render__trim_layers),
		cmocka_unit_test(test_render__paths),
		cmocka_unit_test(test_render__output_atomic),
		cmocka_unit_test(test_render__unknown_env),
		cmocka_unit_test(test_render__spare_chunks_reused),
		cmocka_unit_test(test_render__spare_small_arena_keeps_off),
		cmocka_unit_test(test_render__spare_shared_by_threads),
		cmocka_unit_test(test_render__spare_renders_same_bytes),
		cmocka_unit_test(test_render__vars_reach_every_scalar),
	};
	return cmocka_run_group_tests_name("render", tests, setup, root_teardown);
}
