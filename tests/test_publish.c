/*
 * test_publish.c - the git-tree source and the publish library API.
 *
 * Fixture repositories are made with the git CLI in a mktemp directory:
 * a config repository whose committed tree holds links of every hostile
 * kind, then a dirty working tree that the git source must not see.  The
 * end-to-end behaviour of the commands (push, races, kills) is covered by
 * the scripts in tests/publish/ (http_auth.sh: the token over HTTP); the
 * ssh-agent choice, which needs an sshd end to end, is checked here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "strata/git.h"
#include "strata/render.h"

#include "publish_cred.h"

#include <git2.h>

static char sandbox[64];
static char repo[128];
static char head_id[41];

static void sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("setup command failed: %s", cmd);
}

static void put(const char *rel, const char *text)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", repo, rel);
	f = fopen(p, "w");
	if (!f)
		fail_msg("cannot write %s", p);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	FILE *f;

	(void)state;
	snprintf(sandbox, sizeof(sandbox), "/tmp/strata-test-publish-XXXXXX");
	if (!mkdtemp(sandbox))
		return -1;
	snprintf(repo, sizeof(repo), "%s/repo", sandbox);
	sh("mkdir -p %s/base %s/overlays/prod %s/sub/inner", repo, repo, repo);
	put("strata.ini", "[strata]\nbase = base\n\n[env \"prod\"]\nnamespace = shop\n");
	put("base/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  k: committed\n");
	put("overlays/prod/.keep", "");
	put("sub/inner/strata.ini", "[strata]\nbase = base\n\n[env \"x\"]\n");
	put("sub/inner/file", "inner\n");
	put("big", "0123456789012345678901234567890123456789\n");
	sh("cd %s && ln -s cm.yaml base/link.yaml && ln -s base linkdir"
	   " && ln -s ../../etc/passwd base/out.yaml && ln -s /etc/passwd abs"
	   " && ln -s loop2 loop1 && ln -s loop1 loop2 && ln -s missing dangling",
	   repo);
	sh("cd %s && git init -q && git add -A && git -c user.name=T"
	   " -c user.email=t@example.com commit -q -m 'config subject'",
	   repo);
	/* A dirty worktree: the git source must read the commit, not this. */
	put("base/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  k: dirty\n");
	sh("cd %s && git rev-parse HEAD > %s/head", repo, sandbox);
	{
		char p[256];

		snprintf(p, sizeof(p), "%s/head", sandbox);
		f = fopen(p, "r");
		if (!f || !fgets(head_id, sizeof(head_id), f))
			return -1;
		fclose(f);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sh("rm -rf %s", sandbox);
	return 0;
}

/*
 * sandbox/name: a clone of the config without its hostile links (they fail
 * a load), committed with the subject 'config subject'.
 */
static void clean_clone(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", sandbox, name);
	sh("git clone -q %s %s && cd %s && git rm -q base/out.yaml base/link.yaml abs loop1"
	   " loop2 dangling && git -c user.name=T -c user.email=t@example.com"
	   " commit -q -m 'config subject'",
	   repo, out, out);
}

static strata_source *open_src(const char *path)
{
	strata_source *s = NULL;
	strata_error err;

	strata_error_clear(&err);
	assert_int_equal(strata_source_git_open(&s, path, "HEAD", &err), 0);
	return s;
}

static void test_publish__git_source_reads_the_commit(void **state)
{
	strata_source *s = open_src(repo);
	strata_error err;
	char *buf = NULL;
	size_t len = 0;
	int type = -1;

	(void)state;
	strata_error_clear(&err);
	assert_string_equal(s->describe, head_id);
	assert_int_equal(s->read(s, "base/cm.yaml", &buf, &len, &err), 0);
	assert_non_null(strstr(buf, "k: committed"));
	assert_int_equal(len, strlen(buf));
	free(buf);
	/* a link inside the tree is followed, also through a directory link */
	assert_int_equal(s->read(s, "base/link.yaml", &buf, &len, &err), 0);
	assert_non_null(strstr(buf, "committed"));
	free(buf);
	assert_int_equal(s->read(s, "linkdir/cm.yaml", &buf, &len, &err), 0);
	free(buf);
	assert_int_equal(s->stat(s, "linkdir", &type, &err), 0);
	assert_int_equal(type, STRATA_ENTRY_DIR);
	assert_int_equal(s->stat(s, "nope/x", &type, &err), 0);
	assert_int_equal(type, 0);
	assert_int_equal(s->stat(s, "big/x", &type, &err), 0);
	assert_int_equal(type, 0);
	strata_source_free(s);
}

/*
 * trim() closes the repository; the next call opens it again, at the same
 * tree (here a subdirectory's), and a repository's last render, which
 * trims its source once everything is read, renders what a copy renders.
 */
static void test_publish__git_source_trim_reopens(void **state)
{
	strata_source *s;
	strata_repo *r = NULL;
	strata_render *one = NULL, *last = NULL;
	strata_buf a = STRATA_BUF_INIT, b = STRATA_BUF_INIT;
	strata_error err;
	char p[256], *buf = NULL;
	size_t len = 0;
	int type = -1;

	(void)state;
	snprintf(p, sizeof(p), "%s/sub/inner", repo);
	s = open_src(p);
	strata_error_clear(&err);
	assert_non_null(s->trim);
	s->trim(s);
	s->trim(s); /* twice is harmless */
	assert_int_equal(s->read(s, "file", &buf, &len, &err), 0);
	assert_string_equal(buf, "inner\n");
	free(buf);
	s->trim(s);
	assert_int_equal(s->stat(s, "strata.ini", &type, &err), 0);
	assert_int_equal(type, STRATA_ENTRY_FILE);
	strata_source_free(s);

	clean_clone(p, sizeof(p), "trim");
	s = open_src(p);
	assert_int_equal(strata_repo_open(&r, s, NULL, &err), 0);
	assert_int_equal(strata_render_env(&one, r, "prod", &err), 0);
	assert_int_equal(strata_render_stream(&a, one), 0);
	strata_repo_last_render(r);
	assert_int_equal(strata_render_env(&last, r, "prod", &err), 0);
	assert_int_equal(strata_render_stream(&b, last), 0);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.ptr, b.ptr, a.len);
	assert_non_null(strstr(b.ptr, "k: committed"));
	/* the source was trimmed and still reads */
	assert_int_equal(s->read(s, "base/cm.yaml", &buf, &len, &err), 0);
	assert_non_null(strstr(buf, "k: committed"));
	free(buf);
	strata_render_free(one);
	strata_render_free(last);
	strata_buf_free(&a);
	strata_buf_free(&b);
	strata_repo_free(r);
}

static void test_publish__git_source_confines_links(void **state)
{
	strata_source *s = open_src(repo);
	strata_error err;
	char *buf = NULL;
	size_t len;
	int type;

	(void)state;
	strata_error_clear(&err);
	assert_int_equal(s->read(s, "base/out.yaml", &buf, &len, &err),
			 STRATA_EUNSAFE);
	assert_string_equal(err.file, "base/out.yaml");
	assert_null(strstr(err.msg, "passwd")); /* never the target */
	strata_error_clear(&err);
	assert_int_equal(s->read(s, "abs", &buf, &len, &err), STRATA_EUNSAFE);
	strata_error_clear(&err);
	assert_int_equal(s->stat(s, "loop1", &type, &err), STRATA_EUNSAFE);
	assert_non_null(strstr(err.msg, "too many levels"));
	strata_error_clear(&err);
	assert_int_equal(s->read(s, "../x", &buf, &len, &err), STRATA_EUNSAFE);
	strata_error_clear(&err);
	/* listing a directory with a link leaving the tree fails */
	{
		strata_source_entry *e = NULL;
		size_t n = 0;

		assert_int_equal(s->list(s, "base", &e, &n, &err),
				 STRATA_EUNSAFE);
		strata_source_entries_free(e, n);
	}
	strata_source_free(s);
}

static void test_publish__git_source_lists_sorted(void **state)
{
	strata_source *s = open_src(repo);
	strata_source_entry *e = NULL;
	strata_error err;
	size_t n = 0;

	(void)state;
	strata_error_clear(&err);
	assert_int_equal(s->list(s, "sub", &e, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(e[0].name, "inner");
	assert_int_equal(e[0].type, STRATA_ENTRY_DIR);
	strata_source_entries_free(e, n);
	assert_int_equal(s->list(s, "overlays", &e, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(e[0].name, "prod");
	strata_source_entries_free(e, n);
	strata_source_free(s);
}

static void test_publish__git_source_max_file(void **state)
{
	strata_source *s = open_src(repo);
	strata_error err;
	char *buf = NULL;
	size_t len;

	(void)state;
	strata_error_clear(&err);
	s->max_file = 10;
	assert_int_equal(s->read(s, "big", &buf, &len, &err), STRATA_ELIMIT);
	assert_null(buf);
	assert_non_null(strstr(err.msg, "too large"));
	strata_source_free(s);
}

static void test_publish__git_source_subdirectory_and_revisions(void **state)
{
	strata_source *s = NULL;
	strata_error err;
	char p[256], *buf = NULL;
	size_t len;

	(void)state;
	snprintf(p, sizeof(p), "%s/sub/inner", repo);
	s = open_src(p);
	strata_error_clear(&err);
	assert_int_equal(s->read(s, "file", &buf, &len, &err), 0);
	assert_string_equal(buf, "inner\n");
	free(buf);
	strata_source_free(s);
	s = NULL;
	assert_int_equal(strata_source_git_open(&s, repo, "no-such-rev", &err),
			 STRATA_ENOTFOUND);
	assert_null(s);
	strata_error_clear(&err);
	assert_int_equal(strata_source_git_open(&s, repo, "--upload-pack=x", &err),
			 STRATA_EUSAGE);
	assert_null(s);
}

static strata_config *parse(const char *ini)
{
	strata_config *cfg = NULL;
	strata_error err;

	strata_error_clear(&err);
	if (strata_config_parse(&cfg, "strata.ini", ini, strlen(ini), &err) < 0)
		fail_msg("config: %s", err.msg);
	return cfg;
}

static void test_publish__branch_names(void **state)
{
	strata_config *cfg;
	strata_error err;
	char b[256];

	(void)state;
	cfg = parse("[strata]\nbase = base\nbranch = deploy/{env}\n\n"
		    "[env \"prod\"]\n[env \"dev\"]\nbranch = refs/heads/dev-env\n"
		    "[env \"tag\"]\nbranch = refs/tags/tag\n");
	strata_error_clear(&err);
	assert_int_equal(strata_publish_branch(b, cfg, "prod", &err), 0);
	assert_string_equal(b, "refs/heads/deploy/prod");
	assert_int_equal(strata_publish_branch(b, cfg, "dev", &err), 0);
	assert_string_equal(b, "refs/heads/dev-env");
	assert_int_equal(strata_publish_branch(b, cfg, "tag", &err),
			 STRATA_ECONFIG);
	assert_string_equal(b, "");
	strata_error_clear(&err);
	assert_int_equal(strata_publish_branch(b, cfg, "prdo", &err),
			 STRATA_ENOTFOUND);
	strata_config_free(cfg);
}

static void test_publish__publish_and_history(void **state)
{
	strata_publish_opts o;
	strata_publish_result res;
	strata_history_entry *h = NULL;
	strata_repo *r = NULL;
	strata_source *s;
	strata_error err;
	char commit[41], clean[256];
	size_t n = 0;

	(void)state;
	clean_clone(clean, sizeof(clean), "clean");
	s = open_src(clean);
	memset(&o, 0, sizeof(o));
	o.config_dir = clean;
	strata_error_clear(&err);
	assert_int_equal(strata_repo_open(&r, s, NULL, &err), 0);
	assert_int_equal(strata_publish_env(&res, r, "prod", &o, &err), 0);
	assert_int_equal(res.status, STRATA_PUBLISH_CREATED);
	assert_string_equal(res.branch, "refs/heads/env/prod");
	assert_int_equal(strlen(res.commit), 40);
	memcpy(commit, res.commit, sizeof(commit));
	assert_int_equal(strata_publish_env(&res, r, "prod", &o, &err), 0);
	assert_int_equal(res.status, STRATA_PUBLISH_UNCHANGED);
	assert_string_equal(res.commit, commit);
	/* an unknown environment fails and says so in the result too */
	assert_int_equal(strata_publish_env(&res, r, "nope", &o, &err),
			 STRATA_ENOTFOUND);
	assert_int_equal(res.status, STRATA_PUBLISH_FAILED);
	strata_error_clear(&err);

	assert_int_equal(strata_history(&h, &n, strata_repo_config(r), "prod",
					clean, 0, &err),
			 0);
	assert_int_equal(n, 1);
	assert_string_equal(h[0].commit, commit);
	assert_string_equal(h[0].source, s->describe);
	assert_string_equal(h[0].env, "prod");
	assert_string_equal(h[0].rollback_of, "");
	assert_non_null(strstr(h[0].subject, "prod: render "));
	assert_non_null(strstr(h[0].subject, "config subject"));
	strata_history_free(h, n);
	strata_repo_free(r);
	assert_string_equal(strata_publish_status_name(STRATA_PUBLISH_UPDATED),
			    "updated");
}

/* The first line of sandbox/name, without its newline. */
static void read_line(char *out, size_t n, const char *name)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", sandbox, name);
	f = fopen(p, "r");
	if (!f || !fgets(out, (int)n, f))
		fail_msg("cannot read %s", p);
	fclose(f);
	out[strcspn(out, "\n")] = '\0';
}

/*
 * The branch's tree is the tree of what `render --out` writes, also when
 * the spill (the unlinked file the rendered text waits in while the render
 * and the parsed base are freed) is written in many pieces: 3000 small
 * files, whose text and index fill the write buffers several times, and
 * one of 300 KB, written past them.  The render is the repo's last, so
 * publish frees the repo's base too; the repo's config stays usable.
 */
static void test_publish__tree_is_render_out(void **state)
{
	strata_publish_opts o;
	strata_publish_result res;
	strata_filelist files = { 0 };
	strata_render *rd = NULL;
	strata_repo *r = NULL;
	strata_error err;
	char clean[256], out[256], want[64], got[64];

	(void)state;
	clean_clone(clean, sizeof(clean), "spill");
	sh("cd %s && awk 'BEGIN { for (i = 0; i < 3000; i++)"
	   " printf \"---\\napiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n"
	   "  name: cm-%%04d\\ndata:\\n  k: \\\"value %%d\\\"\\n\", i, i }'"
	   " >base/many.yaml && awk 'BEGIN { printf \"apiVersion: rbac.authorization.k8s.io/v1\\n"
	   "kind: ClusterRole\\nmetadata:\\n  name: big\\n  annotations:\\n    blob: \";"
	   " for (i = 0; i < 300000; i++) printf \"x\"; printf \"\\n\" }' >base/big.yaml"
	   " && git add -A && git -c user.name=T -c user.email=t@example.com"
	   " commit -q -m spill",
	   clean);
	strata_error_clear(&err);

	/* what `render --out` writes, as a tree */
	assert_int_equal(strata_repo_open(&r, open_src(clean), NULL, &err), 0);
	assert_int_equal(strata_render_env(&rd, r, "prod", &err), 0);
	assert_int_equal(strata_render_files(&files, rd, ""), 0);
	assert_int_equal(files.n, 3003); /* cm, many, big, kustomization */
	snprintf(out, sizeof(out), "%s/spill-out", sandbox);
	assert_int_equal(strata_output_write(out, &files, &err), 0);
	strata_filelist_free(&files);
	strata_render_free(rd);
	strata_repo_free(r);
	/* (in a repository of its own: the target must lack the blobs, so
	 * that the pack is made of what the spill gives back) */
	sh("cd %s && rm .strata-render && git init -q && git add -A ."
	   " && git write-tree >%s/want", out, sandbox);

	/* publish, from a repo whose last render it is */
	assert_int_equal(strata_repo_open(&r, open_src(clean), NULL, &err), 0);
	memset(&o, 0, sizeof(o));
	o.config_dir = clean;
	strata_repo_last_render(r);
	assert_int_equal(strata_publish_env(&res, r, "prod", &o, &err), 0);
	assert_int_equal(res.status, STRATA_PUBLISH_CREATED);
	sh("git -C %s rev-parse 'env/prod^{tree}' >%s/got", clean, sandbox);
	read_line(want, sizeof(want), "want");
	read_line(got, sizeof(got), "got");
	assert_string_equal(got, want);
	sh("git -C %s fsck --strict --no-progress 2>/dev/null", clean);
	/* nothing is left beside the objects */
	sh("test -z \"$(ls -A %s/.git/objects | grep -Ev '^([0-9a-f]{2}|info|pack)$')\"",
	   clean);

	/* the base went with the render: no more renders, the config stays */
	assert_int_equal(strata_render_env(&rd, r, "prod", &err), STRATA_EUSAGE);
	strata_error_clear(&err);
	assert_non_null(strata_repo_config(r)->base);
	strata_repo_free(r);
}

/* The credentials callback's decision (publish_cred.h), round by round. */
static void test_publish__credential_choice(void **state)
{
	const unsigned ssh = GIT_CREDENTIAL_SSH_KEY | GIT_CREDENTIAL_USERNAME;
	const unsigned https = GIT_CREDENTIAL_USERPASS_PLAINTEXT;
	strata_publish_opts o;
	strata_publish_cred c;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.https_token = "tok-123";

	/* ssh: the agent, as the URL's user or "git"; never the token */
	strata_publish_cred_choose(&c, ssh, "deploy", &o, 1);
	assert_int_equal(c.kind, STRATA_PUBLISH_CRED_AGENT);
	assert_string_equal(c.user, "deploy");
	assert_null(c.token);
	strata_publish_cred_choose(&c, GIT_CREDENTIAL_SSH_KEY, NULL, &o, 2);
	assert_int_equal(c.kind, STRATA_PUBLISH_CRED_AGENT);
	assert_string_equal(c.user, "git");
	/* ssh's first round may ask for a user name only */
	strata_publish_cred_choose(&c, GIT_CREDENTIAL_USERNAME, NULL, &o, 1);
	assert_int_equal(c.kind, STRATA_PUBLISH_CRED_USERNAME);
	assert_string_equal(c.user, "git");

	/* https with a token: the token as password, default user... */
	strata_publish_cred_choose(&c, https, "ignored", &o, 1);
	assert_int_equal(c.kind, STRATA_PUBLISH_CRED_USERPASS);
	assert_string_equal(c.user, "x-access-token");
	assert_string_equal(c.token, "tok-123");
	/* ...or the configured one, on every allowed round */
	o.https_user = "oauth2";
	strata_publish_cred_choose(&c, https, NULL, &o,
				   STRATA_PUBLISH_CRED_TRIES);
	assert_int_equal(c.kind, STRATA_PUBLISH_CRED_USERPASS);
	assert_string_equal(c.user, "oauth2");
	assert_string_equal(c.token, "tok-123");

	/* past the cap: refused, whatever is allowed */
	strata_publish_cred_choose(&c, https, NULL, &o,
				   STRATA_PUBLISH_CRED_TRIES + 1);
	assert_int_equal(c.kind, STRATA_PUBLISH_CRED_REFUSE);
	assert_string_equal(c.message,
			    "authentication failed (credentials refused)");
	strata_publish_cred_choose(&c, ssh, NULL, &o,
				   STRATA_PUBLISH_CRED_TRIES + 1);
	assert_int_equal(c.kind, STRATA_PUBLISH_CRED_REFUSE);
	assert_string_equal(c.message,
			    "authentication failed (credentials refused)");

	/* https without a token: nothing to offer, and it says what to set */
	o.https_token = NULL;
	strata_publish_cred_choose(&c, https, NULL, &o, 1);
	assert_int_equal(c.kind, STRATA_PUBLISH_CRED_REFUSE);
	assert_null(c.token);
	assert_string_equal(c.message,
			    "the remote asks for credentials and none are available (set STRATA_GIT_TOKEN for https, or run an ssh agent)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_publish__git_source_reads_the_commit),
		cmocka_unit_test(test_publish__git_source_trim_reopens),
		cmocka_unit_test(test_publish__git_source_confines_links),
		cmocka_unit_test(test_publish__git_source_lists_sorted),
		cmocka_unit_test(test_publish__git_source_max_file),
		cmocka_unit_test(test_publish__git_source_subdirectory_and_revisions),
		cmocka_unit_test(test_publish__branch_names),
		cmocka_unit_test(test_publish__publish_and_history),
		cmocka_unit_test(test_publish__tree_is_render_out),
		cmocka_unit_test(test_publish__credential_choice),
	};

	return cmocka_run_group_tests_name("publish", tests, setup, teardown);
}
