/*
 * test_load.c - loading files on several threads (load.c, and render.c's
 * walk over the outcomes) gives what loading one after the other gives:
 * the same output, the first problem in file order, problems reported in
 * that order, the same file where a limit is passed, also with an
 * overlay's files parsed in the base's step; a source without clones is
 * read by one thread at a time.  Each case runs many times with
 * 1 and 4 jobs so a race would show, once on threads each step starts and
 * once on the helper threads of threads.h.
 */
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_util.h"

#include "strata.h"
#include "strata/check.h"
#include "strata/threads.h"

#include "pool.h"

#define N_FILES 60
#define ROUNDS 25


static void put_app(int i, const char *extra)
{
	char rel[64], text[512];

	snprintf(rel, sizeof(rel), "base/app-%03d.yaml", i);
	snprintf(text, sizeof(text),
		 "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-%03d\n"
		 "data:\n  n: \"%d\"\n%s", i, i, extra ? extra : "");
	put(rel, text);
}

static void put_patch(int i, const char *extra)
{
	char rel[64], text[512];

	snprintf(rel, sizeof(rel), "overlays/dev/p-%03d.yaml", i);
	snprintf(text, sizeof(text),
		 "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-%03d\n"
		 "data:\n  patched: \"yes\"\n%s", i, extra ? extra : "");
	put(rel, text);
}

static bool has(const strata_buf *b, const char *s)
{
	return b->len && memmem(b->ptr, b->len, s, strlen(s)) != NULL;
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/strata-test-load-XXXXXX");
	assert_non_null(mkdtemp(root));
	put("strata.ini", "[env \"dev\"]\nnamespace = dev\nname_prefix = dev-\n");
	for (int i = 0; i < N_FILES; i++)
		put_app(i, NULL);
	for (int i = 0; i < N_FILES; i += 3)
		put_patch(i, NULL);
	return 0;
}

/* Every case starts from the good files. */
static int reset(void **state)
{
	(void)state;
	for (int i = 0; i < N_FILES; i++)
		put_app(i, NULL);
	for (int i = 0; i < N_FILES; i += 3)
		put_patch(i, NULL);
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

/* Render env dev with jobs threads: 0 and the stream, or the error. */
static int render(unsigned jobs, const strata_limits *base_lim, strata_buf *out,
		  strata_error *err)
{
	strata_limits lim;
	strata_source *src = NULL;
	strata_repo *repo = NULL;
	strata_render *r = NULL;
	int rc;

	if (base_lim)
		lim = *base_lim;
	else
		strata_limits_default(&lim);
	lim.jobs = jobs;
	strata_error_clear(err);
	rc = strata_source_fs_open(&src, root, err);
	assert_int_equal(rc, 0);
	rc = strata_repo_open(&repo, src, &lim, err);
	assert_int_equal(rc, 0);
	rc = strata_render_env(&r, repo, "dev", err);
	if (rc == 0)
		rc = strata_render_stream(out, r);
	strata_render_free(r);
	strata_repo_free(repo);
	return rc;
}

static void test_load__same_output(void **state)
{
	strata_buf one = { 0 }, many = { 0 };
	strata_error err;

	(void)state;
	assert_int_equal(render(1, NULL, &one, &err), 0);
	assert_true(one.len > 0);
	assert_non_null(has(&one, "name: dev-app-059"));
	assert_non_null(has(&one, "patched: \"yes\""));
	for (int k = 0; k < ROUNDS; k++) {
		many.len = 0;
		assert_int_equal(render(4, NULL, &many, &err), 0);
		assert_int_equal(many.len, one.len);
		assert_memory_equal(many.ptr, one.ptr, one.len);
	}
	strata_buf_free(&one);
	strata_buf_free(&many);
}

/*
 * One job's parse error is at file, and four jobs report the same one,
 * position and message included, every time.
 */
static void expect_parse_error(const char *file)
{
	strata_buf out = { 0 };
	strata_error err, first;

	assert_int_equal(render(1, NULL, &out, &first), STRATA_EPARSE);
	assert_string_equal(first.file, file);
	for (int k = 0; k < ROUNDS; k++) {
		assert_int_equal(render(4, NULL, &out, &err), STRATA_EPARSE);
		assert_string_equal(err.file, first.file);
		assert_int_equal(err.line, first.line);
		assert_int_equal(err.col, first.col);
		assert_string_equal(err.msg, first.msg);
	}
	strata_buf_free(&out);
}

/* Two bad files: the first in file order is reported, whatever the threads. */
static void test_load__first_error_wins(void **state)
{
	(void)state;
	put_app(7, "  bad: [unclosed\n");
	put_app(41, "  bad: {unclosed\n");
	expect_parse_error("base/app-007.yaml");
}

/* With 1 and 4 jobs, a render fails with a limit at file, saying what. */
static void expect_limit(const strata_limits *lim, const char *file, const char *what)
{
	strata_buf out = { 0 };
	strata_error err;

	for (unsigned jobs = 1; jobs <= 4; jobs += 3)
		for (int k = 0; k < ROUNDS / 5; k++) {
			assert_int_equal(render(jobs, lim, &out, &err), STRATA_ELIMIT);
			assert_string_equal(err.file, file);
			assert_non_null(strstr(err.msg, what));
		}
	strata_buf_free(&out);
}

/* max_total is passed at the same file with 1 or 4 threads. */
static void test_load__total_limit_same_file(void **state)
{
	strata_buf out = { 0 };
	strata_limits lim;
	strata_error err;
	char first[512];

	(void)state;
	strata_limits_default(&lim);
	lim.max_total = 30 * 80; /* each file is about 80 bytes */
	assert_int_equal(render(1, &lim, &out, &err), STRATA_ELIMIT);
	assert_non_null(strstr(err.msg, "total input exceeds"));
	snprintf(first, sizeof(first), "%s", err.file);
	assert_true(!strncmp(first, "base/app-0", 10));
	for (int k = 0; k < ROUNDS; k++) {
		assert_int_equal(render(4, &lim, &out, &err), STRATA_ELIMIT);
		assert_string_equal(err.file, first);
	}
	lim.max_total = (size_t)1 << 30;
	lim.max_files = 20;
	expect_limit(&lim, "base/app-020.yaml", "too many files");
	strata_buf_free(&out);
}


/*
 * The overlay's files are read and parsed in the base's step (render.c
 * prefetch_overlays): what is reported is still what loading the base
 * and then the overlay reports.  A problem in the overlay alone is
 * reported at its file; one in the base wins over it; with both
 * directories bad, 1 and 4 jobs agree.
 */
static void test_load__overlay_parsed_with_base(void **state)
{
	(void)state;
	put_patch(9, "  bad: [unclosed\n");
	put_patch(30, "  bad: {unclosed\n");
	expect_parse_error("overlays/dev/p-009.yaml");
	put_app(50, "  bad: [unclosed\n");
	expect_parse_error("base/app-050.yaml");
}

/* The file list order render.c loads in: the base, then the overlay. */
static void load_order(char names[][64], size_t *n)
{
	*n = 0;
	for (int i = 0; i < N_FILES; i++)
		snprintf(names[(*n)++], 64, "base/app-%03d.yaml", i);
	for (int i = 0; i < N_FILES; i += 3)
		snprintf(names[(*n)++], 64, "overlays/dev/p-%03d.yaml", i);
}

/*
 * The limits, passed inside the overlay: max_total at the file where the
 * bytes in load order pass it, max_files at the first file over the
 * count, with 1 and 4 jobs.
 */
static void test_load__limits_inside_overlay(void **state)
{
	char names[N_FILES * 2][64], path[sizeof(root) + 80];
	strata_limits lim;
	size_t n, sum = 0, at = 0;
	struct stat sb;

	(void)state;
	load_order(names, &n);
	strata_limits_default(&lim);
	/* halfway through the overlay's 20 files */
	for (size_t i = 0; i < N_FILES + 10; i++) {
		snprintf(path, sizeof(path), "%s/%.63s", root, names[i]);
		assert_int_equal(stat(path, &sb), 0);
		sum += (size_t)sb.st_size;
	}
	lim.max_total = sum;
	sum = 0;
	for (at = 0; at < n; at++) {
		snprintf(path, sizeof(path), "%s/%.63s", root, names[at]);
		assert_int_equal(stat(path, &sb), 0);
		sum += (size_t)sb.st_size;
		if (sum > lim.max_total)
			break;
	}
	assert_int_equal(at, N_FILES + 10);
	expect_limit(&lim, names[at], "total input exceeds");
	strata_limits_default(&lim);
	lim.max_files = N_FILES + 4;
	expect_limit(&lim, "overlays/dev/p-012.yaml", "too many files");
}

static strata_repo *open_repo(unsigned jobs)
{
	strata_limits lim;
	strata_source *src = NULL;
	strata_repo *repo = NULL;
	strata_error err;

	strata_limits_default(&lim);
	lim.jobs = jobs;
	assert_int_equal(strata_source_fs_open(&src, root, &err), 0);
	assert_int_equal(strata_repo_open(&repo, src, &lim, &err), 0);
	return repo;
}

/*
 * An environment's render fails in its first overlay, whose bad file
 * stops the step before the second overlay's files are parsed (one job:
 * always; four: sometimes).  A render of another environment of the same
 * repository that uses only the second overlay loads it whole: the same
 * stream as from a repository opened for it alone.
 */
static void test_load__failed_render_leaves_overlays_whole(void **state)
{
	static const char ini[] =
		"[env \"dev\"]\noverlay = overlays/a overlays/b\n"
		"[env \"qa\"]\noverlay = overlays/b\n";
	strata_buf want = { 0 }, got = { 0 };
	char rel[64], text[9000];

	(void)state;
	put("strata.ini", ini);
	put("overlays/a/bad.yaml", "kind: [unclosed\n");
	for (int i = 0; i < N_FILES; i += 2) {
		snprintf(rel, sizeof(rel), "overlays/b/q-%03d.yaml", i);
		snprintf(text, sizeof(text),
			 "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-%03d\n"
			 "data:\n  qa: \"%d\"\n", i, i);
		put(rel, text);
	}
	for (unsigned jobs = 1; jobs <= 4; jobs += 3)
		for (int k = 0; k < ROUNDS / 5; k++) {
			strata_repo *repo = open_repo(jobs);
			strata_render *r = NULL;
			strata_error err;

			/* qa alone */
			assert_int_equal(strata_render_env(&r, repo, "qa", &err), 0);
			want.len = 0;
			assert_int_equal(strata_render_stream(&want, r), 0);
			assert_non_null(has(&want, "qa: \"58\""));
			strata_render_free(r);
			strata_repo_free(repo);
			/* dev fails in overlays/a, then qa on the same repo */
			repo = open_repo(jobs);
			assert_int_equal(strata_render_env(&r, repo, "dev", &err), STRATA_EPARSE);
			assert_string_equal(err.file, "overlays/a/bad.yaml");
			assert_int_equal(strata_render_env(&r, repo, "qa", &err), 0);
			got.len = 0;
			assert_int_equal(strata_render_stream(&got, r), 0);
			assert_int_equal(got.len, want.len);
			assert_memory_equal(got.ptr, want.ptr, want.len);
			strata_render_free(r);
			strata_repo_free(repo);
		}
	put("strata.ini", "[env \"dev\"]\nnamespace = dev\nname_prefix = dev-\n");
	snprintf(text, sizeof(text), "rm -rf '%s/overlays/a' '%s/overlays/b'", root, root);
	assert_int_equal(system(text), 0);
	strata_buf_free(&want);
	strata_buf_free(&got);
}

/* strata check: every problem, in file order, the same with 4 threads. */
static void format_check(strata_buf *out, unsigned jobs)
{
	strata_check_result res;
	strata_limits lim;
	strata_source *src = NULL;
	strata_error err;
	const char *envs[] = { "dev" };

	strata_limits_default(&lim);
	lim.jobs = jobs;
	strata_error_clear(&err);
	strata_check_result_init(&res);
	assert_int_equal(strata_source_fs_open(&src, root, &err), 0);
	/* STRATA_ECHECK: it found errors */
	assert_int_equal(strata_check_repo(&res, src, envs, 1, &lim, &err), STRATA_ECHECK);
	out->len = 0;
	assert_int_equal(strata_check_format_text(out, &res), 0);
	strata_check_result_free(&res);
}

static void test_load__check_collects_in_order(void **state)
{
	strata_buf one = { 0 }, many = { 0 };

	(void)state;
	put_app(3, "  bad: [unclosed\n");
	put_app(30, "  x: 1\n  x: 2\n");
	put_app(52, "--- [\n");
	put_patch(21, "  y: 1\n  y: 2\n");
	format_check(&one, 1);
	assert_non_null(has(&one, "base/app-003.yaml"));
	assert_non_null(has(&one, "base/app-030.yaml"));
	assert_non_null(has(&one, "base/app-052.yaml"));
	/* the overlay's problem (its files parsed in the base's step) after
	 * the base's */
	assert_non_null(has(&one, "overlays/dev/p-021.yaml"));
	assert_true(strstr(one.ptr, "overlays/dev/p-021.yaml") >
		    strstr(one.ptr, "base/app-052.yaml"));
	for (int k = 0; k < ROUNDS; k++) {
		format_check(&many, 4);
		assert_int_equal(many.len, one.len);
		assert_memory_equal(many.ptr, one.ptr, one.len);
	}
	strata_buf_free(&one);
	strata_buf_free(&many);
}

/* strata_render_emit's write(): collect, or fail at call fail_at. */
typedef struct collect {
	strata_buf text;
	int calls, fail_at;
} collect;

static int collect_write(void *ctx, const char *text, size_t len)
{
	collect *c = ctx;

	if (++c->calls == c->fail_at)
		return STRATA_EIO;
	return strata_buf_put(&c->text, text, len);
}

/*
 * Emitting on threads hands on exactly strata_render_stream's text, in
 * small blocks (760 documents, on the caller's thread alone) and in big
 * ones (1,160: from 1,024 on, on threads), and with documents so big
 * (6 KB) that a block outgrows its slot of the ring (64 KiB) and moves to
 * malloc.
 */
static void test_load__emit_same_stream(void **state)
{
	static const int sizes[] = { 700, 1100, 100 };
	static char fat[6001];
	char doc[7000];

	(void)state;
	memset(fat, 'x', sizeof(fat) - 1);
	for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		strata_buf big = { 0 }, want = { 0 };
		strata_source *src = NULL;
		strata_repo *repo = NULL;
		strata_render *r = NULL;
		strata_error err;

		for (int i = 0; i < sizes[z]; i++) {
			snprintf(doc, sizeof(doc),
				 "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s-%04d\n"
				 "stringData:\n  k: \"%d\"\n%s%s\n", i, i * 7,
				 z == 2 ? "  fat: " : "", z == 2 ? fat : "");
			assert_int_equal(strata_buf_puts(&big, doc), 0);
		}
		/* a reference among many: the renamed set (transform.c),
		 * made at its size at once, holds two keys a resource */
		assert_int_equal(strata_buf_puts(&big,
			"---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: ref\n"
			"spec:\n  volumes:\n  - name: v\n    secret:\n"
			"      secretName: s-0042\n  containers:\n  - name: c\n"
			"    image: busybox\n"), 0);
		put("base/many.yaml", big.ptr);
		strata_error_clear(&err);
		assert_int_equal(strata_source_fs_open(&src, root, &err), 0);
		assert_int_equal(strata_repo_open(&repo, src, NULL, &err), 0);
		assert_int_equal(strata_render_env(&r, repo, "dev", &err), 0);
		assert_true(strata_render_count(r) > (size_t)sizes[z]);
		assert_int_equal(strata_render_stream(&want, r), 0);
		assert_true(has(&want, "secretName: dev-s-0042\n"));
		assert_true(has(&want, "name: dev-s-0099\n"));
		/* the threads it takes: one below 1,024 documents */
		assert_int_equal(strata_render_emit_jobs(r, 0), 1);
		assert_int_equal(strata_render_emit_jobs(r, 4), sizes[z] < 1000 ? 1 : 4);
		assert_int_equal(strata_render_emit_jobs(r, 64), sizes[z] < 1000 ? 1 : 9);
		for (unsigned jobs = 1; jobs <= 8; jobs++) {
			for (int k = 0; k < 5; k++) {
				collect c = { { 0 }, 0, 0 };
				assert_int_equal(strata_render_emit(r, jobs, collect_write, &c), 0);
				assert_int_equal(c.text.len, want.len);
				assert_memory_equal(c.text.ptr, want.ptr, want.len);
				/* more than one piece, so the order mattered */
				assert_true(c.calls > 1);
				strata_buf_free(&c.text);
			}
			/* a failing write stops the emission and its code comes back */
			{
				collect c = { { 0 }, 0, 3 };
				assert_int_equal(strata_render_emit(r, jobs, collect_write, &c), STRATA_EIO);
				assert_int_equal(c.calls, 3);
				assert_true(c.text.len < want.len);
				assert_memory_equal(c.text.ptr, want.ptr, c.text.len);
				strata_buf_free(&c.text);
			}
		}
		strata_render_free(r);
		strata_repo_free(repo);
		strata_buf_free(&big);
		strata_buf_free(&want);
		snprintf(doc, sizeof(doc), "%s/base/many.yaml", root);
		assert_int_equal(unlink(doc), 0);
	}
}

/*
 * A source wrapper that counts: reads in flight at once (the most seen),
 * reads in all, and clones made.  It offers clones only when asked to.
 */
typedef struct wstats {
	atomic_int in_flight, most, reads, clones;
	bool offer_clone;
} wstats;

typedef struct wrap {
	strata_source base;
	strata_source *inner;
	wstats *st;
} wrap;

static int w_clone(strata_source *s, strata_source **out, strata_error *err);

static int w_read(strata_source *s, const char *path, char **out, size_t *len,
		  strata_error *err)
{
	wrap *w = (wrap *)s;
	int now = atomic_fetch_add(&w->st->in_flight, 1) + 1, most, rc;

	while (now > (most = atomic_load(&w->st->most)) &&
	       !atomic_compare_exchange_weak(&w->st->most, &most, now))
		;
	usleep(300); /* widen the window in which a second reader would show */
	rc = w->inner->read(w->inner, path, out, len, err);
	atomic_fetch_add(&w->st->reads, 1);
	atomic_fetch_sub(&w->st->in_flight, 1);
	return rc;
}

static int w_list(strata_source *s, const char *dir, strata_source_entry **out,
		  size_t *n, strata_error *err)
{
	wrap *w = (wrap *)s;

	return w->inner->list(w->inner, dir, out, n, err);
}

static int w_stat(strata_source *s, const char *path, int *type,
		  strata_error *err)
{
	wrap *w = (wrap *)s;

	return w->inner->stat(w->inner, path, type, err);
}

static void w_free(strata_source *s)
{
	wrap *w = (wrap *)s;

	strata_source_free(w->inner);
	free(w);
}

static strata_source *wrap_new(strata_source *inner, wstats *st)
{
	wrap *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	w->base = *inner;
	w->base.read = w_read;
	w->base.list = w_list;
	w->base.stat = w_stat;
	w->base.free = w_free;
	w->base.clone = st->offer_clone ? w_clone : NULL;
	w->inner = inner;
	w->st = st;
	return &w->base;
}

static int w_clone(strata_source *s, strata_source **out, strata_error *err)
{
	wrap *w = (wrap *)s;
	strata_source *inner = NULL;
	int rc = w->inner->clone(w->inner, &inner, err);

	if (rc < 0)
		return rc;
	atomic_fetch_add(&w->st->clones, 1);
	*out = wrap_new(inner, w->st);
	return 0;
}

/* Render env dev through the wrapper with 4 jobs; the stream goes to out. */
static void render_wrapped(wstats *st, strata_buf *out)
{
	strata_limits lim;
	strata_source *src = NULL;
	strata_repo *repo = NULL;
	strata_render *r = NULL;
	strata_error err;

	strata_limits_default(&lim);
	lim.jobs = 4;
	strata_error_clear(&err);
	assert_int_equal(strata_source_fs_open(&src, root, &err), 0);
	src = wrap_new(src, st);
	assert_int_equal(strata_repo_open(&repo, src, &lim, &err), 0);
	assert_int_equal(strata_render_env(&r, repo, "dev", &err), 0);
	assert_int_equal(strata_render_stream(out, r), 0);
	strata_render_free(r);
	strata_repo_free(repo);
}

/*
 * A source without clones (git's) is read by one thread at a time; the
 * filesystem source's clones give each extra thread its own.  The stream
 * is the one-thread stream either way.
 */
static void test_load__reads_shared_or_cloned(void **state)
{
	strata_buf one = { 0 }, got = { 0 };
	strata_error err;

	(void)state;
	assert_int_equal(render(1, NULL, &one, &err), 0);
	for (int k = 0; k < 5; k++) {
		wstats serial = { .offer_clone = false };
		wstats cloned = { .offer_clone = true };

		got.len = 0;
		render_wrapped(&serial, &got);
		assert_int_equal(got.len, one.len);
		assert_memory_equal(got.ptr, one.ptr, one.len);
		assert_int_equal(atomic_load(&serial.most), 1);
		assert_int_equal(atomic_load(&serial.clones), 0);
		/* strata.ini, the base's files and the overlay's */
		assert_int_equal(atomic_load(&serial.reads), 1 + N_FILES + N_FILES / 3);

		got.len = 0;
		render_wrapped(&cloned, &got);
		assert_int_equal(got.len, one.len);
		assert_memory_equal(got.ptr, one.ptr, one.len);
		/* 3 extra threads for the one step that loads the base (60
		 * files) and the overlay (20) together */
		assert_int_equal(atomic_load(&cloned.clones), 3);
		assert_int_equal(atomic_load(&cloned.reads), 1 + N_FILES + N_FILES / 3);
	}
	strata_buf_free(&one);
	strata_buf_free(&got);
}

/*
 * Under a low open-file limit the filesystem source makes no clones (each
 * holds two fds) and the threads share it under the lock: same stream.
 */
static void test_load__few_fds_no_clones(void **state)
{
	strata_buf one = { 0 }, got = { 0 };
	struct rlimit was, low;
	wstats st = { .offer_clone = true };
	strata_error err;

	(void)state;
	assert_int_equal(render(1, NULL, &one, &err), 0);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &was), 0);
	low = was;
	low.rlim_cur = 200;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	render_wrapped(&st, &got);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &was), 0);
	assert_int_equal(got.len, one.len);
	assert_memory_equal(got.ptr, one.ptr, one.len);
	assert_int_equal(atomic_load(&st.clones), 0);
	assert_int_equal(atomic_load(&st.most), 1);
	strata_buf_free(&one);
	strata_buf_free(&got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_load__same_output, reset),
		cmocka_unit_test_setup(test_load__first_error_wins, reset),
		cmocka_unit_test_setup(test_load__total_limit_same_file, reset),
		cmocka_unit_test_setup(test_load__overlay_parsed_with_base, reset),
		cmocka_unit_test_setup(test_load__limits_inside_overlay, reset),
		cmocka_unit_test_setup(test_load__failed_render_leaves_overlays_whole, reset),
		cmocka_unit_test_setup(test_load__check_collects_in_order, reset),
		cmocka_unit_test_setup(test_load__emit_same_stream, reset),
		cmocka_unit_test_setup(test_load__reads_shared_or_cloned, reset),
		cmocka_unit_test_setup(test_load__few_fds_no_clones, reset),
	};
	int failed = cmocka_run_group_tests_name("own threads", tests, setup, teardown);

	/* again on the helper threads of threads.h: three wait, four jobs */
	if (strata_threads_start(4) != 0)
		return failed + 1;
	failed += cmocka_run_group_tests_name("helper threads", tests, setup, teardown);
	strata_threads_stop();
	/* they did take part (each case loads and emits on 4 jobs many times) */
	if (strata_pool_joins() == 0) {
		fprintf(stderr, "test_load: no helper thread ever joined a step\n");
		failed++;
	}
	return failed;
}
