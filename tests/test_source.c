/*
 * test_source.c - the filesystem source and path normalisation.
 *
 * A sandbox under /tmp holds a config repository ("repo") next to a
 * directory it must never read from ("outside"), plus every kind of hostile
 * symlink a pull request could add: absolute, climbing, leaving and
 * re-entering, loops, long chains, directory links, and special files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "strata/source.h"

static char sandbox[64];    /* /tmp/strata-source-XXXXXX */
static char repo_root[128]; /* sandbox + "/repo" */

static void must(int ok, const char *what)
{
	if (!ok)
		fail_msg("setup: %s: %s", what, strerror(errno));
}

static void put_file(const char *rel, const char *text)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", sandbox, rel);
	f = fopen(p, "w");
	must(f != NULL, rel);
	fputs(text, f);
	fclose(f);
}

static void put_dir(const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", sandbox, rel);
	must(mkdir(p, 0755) == 0, rel);
}

static void put_link(const char *target, const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", sandbox, rel);
	must(symlink(target, p) == 0, rel);
}

static int setup_sandbox(void **state)
{
	char p[512];
	int fd;

	(void)state;
	snprintf(sandbox, sizeof(sandbox), "/tmp/strata-source-XXXXXX");
	must(mkdtemp(sandbox) != NULL, "mkdtemp");
	snprintf(repo_root, sizeof(repo_root), "%s/repo", sandbox);

	put_dir("outside");
	put_dir("outside/dir");
	put_file("outside/secret", "SECRET\n");
	put_file("outside/dir/x.yaml", "kind: Outside\n");

	put_dir("repo");
	put_dir("repo/base");
	put_dir("repo/base/sub");
	put_file("repo/base/x.yaml", "kind: A\n");
	put_file("repo/base/B.yaml", "kind: B\n");
	put_file("repo/base/_u.yaml", "kind: U\n");
	put_file("repo/base/.hidden", "h\n");
	put_file("repo/base/sub/y.yml", "kind: Y\n");

	/* Symlinks that stay inside: followed. */
	put_dir("repo/links");
	put_link("../base/x.yaml", "repo/links/inrepo.yaml");
	put_link("./../base//x.yaml", "repo/links/dotdot.yaml");
	put_link("../base/sub", "repo/links/dirlink");
	put_link("dirlink/y.yml", "repo/links/viadir.yaml");

	/* Symlinks that leave: refused, each in its own directory. */
	put_dir("repo/abs");
	put_link("/etc/passwd", "repo/abs/passwd.yaml");
	put_dir("repo/absself");
	snprintf(p, sizeof(p), "%s/base/x.yaml", repo_root);
	put_link(p, "repo/absself/x.yaml");
	put_dir("repo/climb");
	put_link("../../../../etc/hostname", "repo/climb/hostname.yaml");
	put_dir("repo/reenter");
	put_link("../../repo/base/x.yaml", "repo/reenter/x.yaml");
	put_dir("repo/sneaky");
	put_link("../links/dirlink/../../../outside/secret",
		 "repo/sneaky/s.yaml");
	put_dir("repo/outdir");
	put_link("../../outside/dir", "repo/outdir/ext");

	put_dir("repo/loop");
	put_link("b", "repo/loop/a");
	put_link("a", "repo/loop/b");

	/* h00 -> h01 -> ... -> h19 -> ../base/x.yaml: hNN is 20-NN hops. */
	put_dir("repo/chain");
	for (int i = 0; i < 20; i++) {
		char rel[64], target[64];

		snprintf(rel, sizeof(rel), "repo/chain/h%02d", i);
		if (i == 19)
			snprintf(target, sizeof(target), "../base/x.yaml");
		else
			snprintf(target, sizeof(target), "h%02d", i + 1);
		put_link(target, rel);
	}

	put_dir("repo/special");
	snprintf(p, sizeof(p), "%s/special/pipe", repo_root);
	must(mkfifo(p, 0644) == 0, "mkfifo");

	put_dir("repo/big");
	snprintf(p, sizeof(p), "%s/big/huge.yaml", repo_root);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	must(fd >= 0, "huge.yaml");
	must(ftruncate(fd, (off_t)1 << 30) == 0, "ftruncate");
	close(fd);

	put_dir("repo/dangling");
	put_link("nope.yaml", "repo/dangling/d.yaml");

	/* hidden links that dangle or leave: left out of listings */
	put_dir("repo/hidden");
	put_file("repo/hidden/a.yaml", "a: 1\n");
	put_link("root@host.4242:1700000000", "repo/hidden/.#a.yaml");
	put_link("/etc/passwd", "repo/hidden/.out.yaml");

	/* An in-repo directory link to its own parent: a walk must end. */
	put_dir("repo/cyc");
	put_link(".", "repo/cyc/self");

	put_dir("repo/swap");
	put_file("repo/swap/f.yaml", "kind: F\n");
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static int teardown_sandbox(void **state)
{
	(void)state;
	if (sandbox[0])
		nftw(sandbox, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static strata_source *open_repo(void)
{
	strata_source *s = NULL;
	strata_error err;

	strata_error_clear(&err);
	assert_int_equal(strata_source_fs_open(&s, repo_root, &err), 0);
	assert_non_null(s);
	return s;
}

/*
 * Check an error's code, file and message, and that the formatted line
 * carries no host path and no symlink target.
 */
static void check_err(const strata_error *err, int rc, int code,
		      const char *file, const char *msg)
{
	char line[2200];

	assert_int_equal(rc, code);
	assert_int_equal(err->code, code);
	assert_string_equal(err->file, file);
	assert_string_equal(err->msg, msg);
	strata_error_format(err, line, sizeof(line));
	assert_null(strstr(line, sandbox));
	assert_null(strstr(line, "/etc"));
	assert_null(strstr(line, "outside"));
	assert_null(strstr(line, "secret"));
	if (!strstr(msg, "path leaves the repository"))
		assert_null(strstr(line, "..")); /* no link target */
}

static void read_ok(strata_source *s, const char *path, const char *want)
{
	strata_error err;
	char *buf = NULL;
	size_t len = 0;

	strata_error_clear(&err);
	assert_int_equal(s->read(s, path, &buf, &len, &err), 0);
	assert_int_equal(err.code, 0);
	assert_non_null(buf);
	assert_string_equal(buf, want);
	assert_int_equal(len, strlen(want));
	free(buf);
}

static void read_fails(strata_source *s, const char *path, int code,
		       const char *file, const char *msg)
{
	strata_error err;
	char *buf = (char *)"untouched";
	size_t len = 99;
	int rc;

	strata_error_clear(&err);
	rc = s->read(s, path, &buf, &len, &err);
	check_err(&err, rc, code, file, msg);
	assert_null(buf);
}

static int stat_type(strata_source *s, const char *path)
{
	strata_error err;
	int type = -1;

	strata_error_clear(&err);
	assert_int_equal(s->stat(s, path, &type, &err), 0);
	assert_int_equal(err.code, 0);
	return type;
}

static void stat_fails(strata_source *s, const char *path, int code,
		       const char *file, const char *msg)
{
	strata_error err;
	int type = -1;

	strata_error_clear(&err);
	check_err(&err, s->stat(s, path, &type, &err), code, file, msg);
}

static void list_fails(strata_source *s, const char *dir, int code,
		       const char *file, const char *msg)
{
	strata_error err;
	strata_source_entry *e = NULL;
	size_t n = 7;

	strata_error_clear(&err);
	check_err(&err, s->list(s, dir, &e, &n, &err), code, file, msg);
	assert_null(e);
	assert_int_equal(n, 0);
}

/*
 * List dir and check every entry's name and type, in order (types NULL:
 * every entry is a directory).
 */
static void list_ok(strata_source *s, const char *dir,
		    const char *const *names, const int *types, size_t count)
{
	strata_source_entry *e = NULL;
	strata_error err;
	size_t n = 0;

	strata_error_clear(&err);
	assert_int_equal(s->list(s, dir, &e, &n, &err), 0);
	assert_int_equal(err.code, 0);
	assert_int_equal(n, count);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(e[i].name, names[i]);
		assert_int_equal(e[i].type, types ? types[i] : STRATA_ENTRY_DIR);
	}
	strata_source_entries_free(e, n);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/*
 * One request that must fail: op on path fails with code, naming file,
 * saying msg.  Left out, code is STRATA_EUNSAFE and file is path (what a
 * symlink leaving the repository gives).
 */
enum op { READ, STAT, LIST };
typedef struct refusal {
	enum op op;
	const char *path;
	const char *file;
	const char *msg;
	int code;
} refusal;

#define LEAVES "symlink leaves the repository"
#define TOO_MANY "too many levels of symbolic links"

static void refused(strata_source *s, const refusal *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const refusal *r = &cases[i];
		int code = r->code ? r->code : STRATA_EUNSAFE;
		const char *file = r->file ? r->file : r->path;

		if (r->op == READ)
			read_fails(s, r->path, code, file, r->msg);
		else if (r->op == STAT)
			stat_fails(s, r->path, code, file, r->msg);
		else
			list_fails(s, r->path, code, file, r->msg);
	}
}

/* A fresh source refuses every case. */
static void refused_fresh(const refusal *cases, size_t n)
{
	strata_source *s = open_repo();

	refused(s, cases, n);
	strata_source_free(s);
}

/* ---- normalisation ---- */

static void norm_ok(const char *in, const char *want)
{
	char out[256];
	strata_error err;

	strata_error_clear(&err);
	assert_int_equal(strata_path_normalize(out, in, &err), 0);
	assert_string_equal(out, want);
	assert_int_equal(err.code, 0);
}

static void norm_bad(const char *in, const char *msg)
{
	char out[256];
	strata_error err;

	strata_error_clear(&err);
	assert_int_equal(strata_path_normalize(out, in, &err), STRATA_EUNSAFE);
	assert_int_equal(err.code, STRATA_EUNSAFE);
	assert_string_equal(err.msg, msg);
}

static void test_source__normalize_collapses(void **state)
{
	(void)state;
	norm_ok("", "");
	norm_ok(".", "");
	norm_ok("./", "");
	norm_ok("a", "a");
	norm_ok("a//b", "a/b");
	norm_ok("./a/./b/", "a/b");
	norm_ok("a/../b", "b");
	norm_ok("a/b/../../c/d", "c/d");
	norm_ok("a/..", "");
	norm_ok("base///sub//./y.yml", "base/sub/y.yml");
	norm_ok("...", "...");
	norm_ok("a/..b/.c", "a/..b/.c");
}

static void test_source__normalize_refuses_escapes(void **state)
{
	char buf[32];
	strata_error err;

	(void)state;
	norm_bad("..", "path leaves the repository: '..'");
	norm_bad("../a", "path leaves the repository: '../a'");
	norm_bad("a/../../b", "path leaves the repository: 'a/../../b'");
	norm_bad("a/b/../../..", "path leaves the repository: 'a/b/../../..'");
	norm_bad("./..", "path leaves the repository: './..'");
	norm_bad("/etc/passwd", "absolute path not allowed: '/etc/passwd'");
	norm_bad("//x", "absolute path not allowed: '//x'");

	/* In place works, and the message still quotes the input. */
	snprintf(buf, sizeof(buf), "x/./y//z/..");
	strata_error_clear(&err);
	assert_int_equal(strata_path_normalize(buf, buf, &err), 0);
	assert_string_equal(buf, "x/y");
	snprintf(buf, sizeof(buf), "x/../../y");
	assert_int_equal(strata_path_normalize(buf, buf, &err), STRATA_EUNSAFE);
	assert_string_equal(err.msg, "path leaves the repository: 'x/../../y'");
}

/* ---- opening ---- */

static void test_source__open_describes_worktree(void **state)
{
	strata_source *s;
	strata_error err;
	char p[256];

	(void)state;
	s = open_repo();
	assert_string_equal(s->describe, "worktree");
	assert_int_equal(s->max_file, 0);
	assert_int_equal(stat_type(s, ""), STRATA_ENTRY_DIR);
	assert_int_equal(stat_type(s, "."), STRATA_ENTRY_DIR);
	strata_source_free(s);
	strata_source_free(NULL);
	strata_source_entries_free(NULL, 0);

	s = (strata_source *)&err; /* must be reset to NULL on failure */
	snprintf(p, sizeof(p), "%s/nope", sandbox);
	strata_error_clear(&err);
	assert_int_equal(strata_source_fs_open(&s, p, &err), STRATA_ENOTFOUND);
	assert_null(s);
	snprintf(p, sizeof(p), "%s/base/x.yaml", repo_root);
	strata_error_clear(&err);
	assert_int_equal(strata_source_fs_open(&s, p, &err), STRATA_EIO);
	assert_non_null(strstr(err.msg, "cannot open repository"));
}

/* ---- plain files and directories ---- */

static void test_source__list_sorted_bytewise_with_hidden(void **state)
{
	static const char *const names[] = { ".hidden", "B.yaml", "_u.yaml",
					     "sub", "x.yaml" };
	static const int types[] = { STRATA_ENTRY_FILE, STRATA_ENTRY_FILE,
				     STRATA_ENTRY_FILE, STRATA_ENTRY_DIR,
				     STRATA_ENTRY_FILE };
	strata_source *s = open_repo();

	(void)state;
	list_ok(s, "base", names, types, N(names));
	/* Same directory through another spelling. */
	list_ok(s, "./base/sub/..//", names, types, N(names));
	strata_source_free(s);
}

static void test_source__list_root(void **state)
{
	static const char *const names[] = {
		"abs",	  "absself", "base",   "big",	   "chain",
		"climb",  "cyc",     "dangling", "hidden", "links",   "loop",
		"outdir", "reenter", "sneaky",	 "special", "swap",
	};
	strata_source *s = open_repo();

	(void)state;
	list_ok(s, "", names, NULL, N(names));
	/* Listing twice gives the same answer (fresh directory handles). */
	list_ok(s, ".", names, NULL, N(names));
	strata_source_free(s);
}

static void test_source__read_nested_files(void **state)
{
	strata_source *s = open_repo();

	(void)state;
	read_ok(s, "base/x.yaml", "kind: A\n");
	read_ok(s, "base/sub/y.yml", "kind: Y\n");
	read_ok(s, "./base//sub/../x.yaml", "kind: A\n");
	read_ok(s, "base/.hidden", "h\n");
	assert_int_equal(stat_type(s, "base/x.yaml"), STRATA_ENTRY_FILE);
	assert_int_equal(stat_type(s, "base/sub"), STRATA_ENTRY_DIR);
	strata_source_free(s);
}

static void test_source__missing_paths(void **state)
{
	static const refusal cases[] = {
		{ READ, "base/nope.yaml", .code = STRATA_ENOTFOUND,
		  .msg = "no such file" },
		{ READ, "nope/x.yaml", .code = STRATA_ENOTFOUND,
		  .msg = "no such file" },
		{ LIST, "overlays/prod", .code = STRATA_ENOTFOUND,
		  .msg = "no such directory" },
		{ LIST, "base/x.yaml", .code = STRATA_EIO,
		  .msg = "not a directory" },
		{ READ, "base/sub", .code = STRATA_EIO, .msg = "is a directory" },
		{ READ, "", .file = ".", .code = STRATA_EIO,
		  .msg = "is a directory" },
	};
	strata_source *s = open_repo();

	(void)state;
	assert_int_equal(stat_type(s, "base/nope.yaml"), 0);
	assert_int_equal(stat_type(s, "nope/deeper/x.yaml"), 0);
	assert_int_equal(stat_type(s, "base/x.yaml/child"), 0);
	refused(s, cases, N(cases));
	strata_source_free(s);
}

static void test_source__unsafe_request_paths(void **state)
{
	strata_source *s = open_repo();
	strata_error err;
	char *buf = NULL;
	size_t len;

	(void)state;
	strata_error_clear(&err);
	assert_int_equal(s->read(s, "../repo/base/x.yaml", &buf, &len, &err),
			 STRATA_EUNSAFE);
	assert_string_equal(err.msg,
			    "path leaves the repository: '../repo/base/x.yaml'");
	assert_null(buf);
	strata_error_clear(&err);
	assert_int_equal(s->read(s, "/etc/passwd", &buf, &len, &err),
			 STRATA_EUNSAFE);
	assert_string_equal(err.msg, "absolute path not allowed: '/etc/passwd'");
	stat_fails(s, "base/../../x", STRATA_EUNSAFE, "",
		   "path leaves the repository: 'base/../../x'");
	list_fails(s, "..", STRATA_EUNSAFE, "",
		   "path leaves the repository: '..'");
	strata_source_free(s);
}

/* ---- symlinks that stay inside ---- */

static void test_source__in_repo_symlinks_followed(void **state)
{
	static const char *const names[] = { "dirlink", "dotdot.yaml",
					     "inrepo.yaml", "viadir.yaml" };
	static const int types[] = { STRATA_ENTRY_DIR, STRATA_ENTRY_FILE,
				     STRATA_ENTRY_FILE, STRATA_ENTRY_FILE };
	static const char *const sub_names[] = { "y.yml" };
	static const int sub_types[] = { STRATA_ENTRY_FILE };
	strata_source *s = open_repo();

	(void)state;
	read_ok(s, "links/inrepo.yaml", "kind: A\n");
	read_ok(s, "links/dotdot.yaml", "kind: A\n");
	read_ok(s, "links/dirlink/y.yml", "kind: Y\n");
	read_ok(s, "links/viadir.yaml", "kind: Y\n");
	assert_int_equal(stat_type(s, "links/dirlink"), STRATA_ENTRY_DIR);
	assert_int_equal(stat_type(s, "links/inrepo.yaml"), STRATA_ENTRY_FILE);
	list_ok(s, "links", names, types, N(names));
	/* A directory symlink inside can be listed like the real one. */
	list_ok(s, "links/dirlink", sub_names, sub_types, N(sub_names));
	strata_source_free(s);
}

/* ---- symlinks that leave ---- */

static void test_source__absolute_symlink_refused(void **state)
{
	static const refusal cases[] = {
		{ READ, "abs/passwd.yaml", .msg = LEAVES },
		{ STAT, "abs/passwd.yaml", .msg = LEAVES },
		{ LIST, "abs", .file = "abs/passwd.yaml", .msg = LEAVES },
		/* Absolute even though it names a file inside: still refused. */
		{ READ, "absself/x.yaml", .msg = LEAVES },
	};

	(void)state;
	refused_fresh(cases, N(cases));
}

static void test_source__climbing_symlink_refused(void **state)
{
	static const refusal cases[] = {
		{ READ, "climb/hostname.yaml", .msg = LEAVES },
		{ LIST, "climb", .file = "climb/hostname.yaml", .msg = LEAVES },
		/* Through an in-repo directory link, then ".." out of it. */
		{ READ, "sneaky/s.yaml", .msg = LEAVES },
	};

	(void)state;
	refused_fresh(cases, N(cases));
}

static void test_source__leave_and_reenter_refused(void **state)
{
	static const refusal cases[] = {
		{ READ, "reenter/x.yaml", .msg = LEAVES },
		{ STAT, "reenter/x.yaml", .msg = LEAVES },
	};

	(void)state;
	refused_fresh(cases, N(cases));
}

static void test_source__directory_symlink_outside_refused(void **state)
{
	static const refusal cases[] = {
		{ READ, "outdir/ext/x.yaml", .file = "outdir/ext", .msg = LEAVES },
		{ STAT, "outdir/ext", .msg = LEAVES },
		{ LIST, "outdir/ext", .msg = LEAVES },
		{ LIST, "outdir", .file = "outdir/ext", .msg = LEAVES },
	};

	(void)state;
	refused_fresh(cases, N(cases));
}

static void test_source__symlink_loop_refused(void **state)
{
	strata_source *s = open_repo();
	strata_error err;
	char *buf = NULL;
	size_t len;
	int rc;

	(void)state;
	strata_error_clear(&err);
	rc = s->read(s, "loop/a", &buf, &len, &err);
	assert_int_equal(rc, STRATA_EUNSAFE);
	assert_string_equal(err.msg, "too many levels of symbolic links");
	assert_true(!strcmp(err.file, "loop/a") || !strcmp(err.file, "loop/b"));
	strata_error_clear(&err);
	rc = s->list(s, "loop", &(strata_source_entry *){ NULL }, &len, &err);
	assert_int_equal(rc, STRATA_EUNSAFE);
	assert_string_equal(err.msg, "too many levels of symbolic links");
	strata_source_free(s);
}

static void test_source__symlink_hop_limit(void **state)
{
	/* h03: 17 hops; h00: 20. */
	static const refusal cases[] = {
		{ READ, "chain/h03", .file = "chain/h19", .msg = TOO_MANY },
		{ READ, "chain/h00", .file = "chain/h16", .msg = TOO_MANY },
		{ LIST, "chain", .file = "chain/h16", .msg = TOO_MANY },
	};
	strata_source *s = open_repo();

	(void)state;
	assert_int_equal(STRATA_SYMLINK_HOPS, 16);
	/* h04 .. h19: exactly 16 hops, the most allowed. */
	read_ok(s, "chain/h04", "kind: A\n");
	read_ok(s, "chain/h10", "kind: A\n");
	refused(s, cases, N(cases));
	strata_source_free(s);
}

static void test_source__dangling_symlink(void **state)
{
	static const refusal cases[] = {
		{ READ, "dangling/d.yaml", .code = STRATA_ENOTFOUND,
		  .msg = "no such file" },
		{ LIST, "dangling", .file = "dangling/d.yaml",
		  .code = STRATA_EIO, .msg = "dangling symlink" },
	};
	strata_source *s = open_repo();

	(void)state;
	assert_int_equal(stat_type(s, "dangling/d.yaml"), 0);
	refused(s, cases, N(cases));
	strata_source_free(s);
}

static void test_source__hidden_bad_links_left_out(void **state)
{
	static const char *const names[] = { "a.yaml" };
	static const int types[] = { STRATA_ENTRY_FILE };
	strata_source *s = open_repo();

	(void)state;
	list_ok(s, "hidden", names, types, N(names));
	/* reading one by name is still refused */
	read_fails(s, "hidden/.out.yaml", STRATA_EUNSAFE, "hidden/.out.yaml",
		   LEAVES);
	strata_source_free(s);
}

/*
 * A naive recursive walk (what the loader does) over a directory holding a
 * link to itself stops with an error once a lookup needs more than
 * STRATA_SYMLINK_HOPS hops, instead of recursing forever.
 */
static void test_source__self_link_walk_terminates(void **state)
{
	strata_source *s = open_repo();
	strata_source_entry *e = NULL;
	strata_error err;
	char path[256] = "cyc";
	size_t n = 0;
	int depth = 0, rc;

	(void)state;
	strata_error_clear(&err);
	for (;;) {
		rc = s->list(s, path, &e, &n, &err);
		if (rc < 0)
			break;
		assert_int_equal(n, 1);
		assert_string_equal(e[0].name, "self");
		assert_int_equal(e[0].type, STRATA_ENTRY_DIR);
		strata_source_entries_free(e, n);
		strncat(path, "/self", sizeof(path) - strlen(path) - 1);
		assert_true(++depth <= STRATA_SYMLINK_HOPS + 1);
	}
	assert_int_equal(rc, STRATA_EUNSAFE);
	assert_string_equal(err.msg, "too many levels of symbolic links");
	/* the listing at depth 16 fails typing its own "self" (17 hops) */
	assert_int_equal(depth, STRATA_SYMLINK_HOPS);
	strata_source_free(s);
}

/* Listed as a file, swapped for a symlink before it is read: refused. */
static void test_source__swapped_for_symlink_after_listing(void **state)
{
	static const char *const names[] = { "f.yaml" };
	static const int types[] = { STRATA_ENTRY_FILE };
	strata_source *s = open_repo();
	char p[256];

	(void)state;
	list_ok(s, "swap", names, types, N(names));

	snprintf(p, sizeof(p), "%s/swap/f.yaml", repo_root);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(symlink("/etc/passwd", p), 0);
	read_fails(s, "swap/f.yaml", STRATA_EUNSAFE, "swap/f.yaml", LEAVES);
	strata_source_free(s);
}

/* ---- special and large files ---- */

static void test_source__fifo_not_read(void **state)
{
	static const char *const names[] = { "pipe" };
	static const int types[] = { STRATA_ENTRY_FILE };
	strata_source *s = open_repo();

	(void)state;
	/* Would block forever if it were opened for reading. */
	read_fails(s, "special/pipe", STRATA_EIO, "special/pipe",
		   "not a regular file");
	assert_int_equal(stat_type(s, "special/pipe"), STRATA_ENTRY_FILE);
	list_ok(s, "special", names, types, N(names));
	strata_source_free(s);
}

static void test_source__max_file_checked_before_reading(void **state)
{
	strata_source *s = open_repo();
	struct timespec t0, t1;
	double secs;

	(void)state;
	s->max_file = 1 << 20;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	read_fails(s, "big/huge.yaml", STRATA_ELIMIT, "big/huge.yaml",
		   "file too large (1073741824 bytes, limit 1048576)");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_true(secs < 0.5);

	s->max_file = 7;
	read_fails(s, "base/x.yaml", STRATA_ELIMIT, "base/x.yaml",
		   "file too large (8 bytes, limit 7)");
	s->max_file = 8;
	read_ok(s, "base/x.yaml", "kind: A\n");
	strata_source_free(s);
}

/*
 * A directory bigger than the listing's buffer (32 KiB of entries: 3,000
 * names of 40 bytes take about 170 KiB) is read in several calls and
 * listed whole, sorted, each entry typed, by its path and through a
 * symlink to it; a file reads through that symlink in the middle of its
 * path.
 */
static void test_source__big_directory_listed_whole(void **state)
{
	enum { FILES = 3000 };
	strata_source_entry *e = NULL;
	strata_source *s;
	strata_error err;
	char rel[128];
	size_t n = 0;

	(void)state;
	put_dir("repo/many");
	put_dir("repo/many/d");
	for (int i = FILES - 1; i >= 0; i--) {
		snprintf(rel, sizeof(rel),
			 "repo/many/d/file-with-a-longish-name-%05d.yaml", i);
		put_file(rel, "kind: M\n");
	}
	put_dir("repo/many/d/zz-sub");
	put_link("d", "repo/many/via");
	s = open_repo();
	for (int pass = 0; pass < 2; pass++) {
		strata_error_clear(&err);
		assert_int_equal(s->list(s, pass ? "many/via" : "many/d", &e, &n, &err), 0);
		assert_int_equal(n, FILES + 1);
		for (int i = 0; i < FILES; i++) {
			snprintf(rel, sizeof(rel), "file-with-a-longish-name-%05d.yaml", i);
			assert_string_equal(e[i].name, rel);
			assert_int_equal(e[i].type, STRATA_ENTRY_FILE);
		}
		assert_string_equal(e[FILES].name, "zz-sub");
		assert_int_equal(e[FILES].type, STRATA_ENTRY_DIR);
		strata_source_entries_free(e, n);
		e = NULL;
	}
	/* and through the link in the middle of a path, a file reads */
	read_ok(s, "many/via/file-with-a-longish-name-02999.yaml", "kind: M\n");
	assert_int_equal(stat_type(s, "many/via/zz-sub"), STRATA_ENTRY_DIR);
	strata_source_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_source__normalize_collapses),
		cmocka_unit_test(test_source__normalize_refuses_escapes),
		cmocka_unit_test(test_source__open_describes_worktree),
		cmocka_unit_test(test_source__list_sorted_bytewise_with_hidden),
		cmocka_unit_test(test_source__list_root),
		cmocka_unit_test(test_source__read_nested_files),
		cmocka_unit_test(test_source__missing_paths),
		cmocka_unit_test(test_source__unsafe_request_paths),
		cmocka_unit_test(test_source__in_repo_symlinks_followed),
		cmocka_unit_test(test_source__absolute_symlink_refused),
		cmocka_unit_test(test_source__climbing_symlink_refused),
		cmocka_unit_test(test_source__leave_and_reenter_refused),
		cmocka_unit_test(test_source__directory_symlink_outside_refused),
		cmocka_unit_test(test_source__symlink_loop_refused),
		cmocka_unit_test(test_source__symlink_hop_limit),
		cmocka_unit_test(test_source__dangling_symlink),
		cmocka_unit_test(test_source__hidden_bad_links_left_out),
		cmocka_unit_test(test_source__self_link_walk_terminates),
		cmocka_unit_test(test_source__swapped_for_symlink_after_listing),
		cmocka_unit_test(test_source__fifo_not_read),
		cmocka_unit_test(test_source__max_file_checked_before_reading),
		cmocka_unit_test(test_source__big_directory_listed_whole),
	};

	return cmocka_run_group_tests_name("source", tests, setup_sandbox,
					   teardown_sandbox);
}
