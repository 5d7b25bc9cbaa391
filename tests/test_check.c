/*
 * test_check.c - strata check: every problem is reported (not just the
 * first), with its position and rule; strata.ini errors are collected and
 * the environments still rendered; plaintext Secrets fail without their
 * values ever reaching a message; the collecting render never lets a later
 * ordinary render use what it skipped.
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
#include "strata/check.h"


static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/strata-test-check-XXXXXX");
	assert_non_null(mkdtemp(root));
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

/* Check the whole repository at root into res; returns the check's rc. */
static int run_check(strata_check_result *res, const char *const *envs, size_t n,
		     strata_error *err)
{
	strata_source *src = NULL;

	strata_error_clear(err);
	strata_check_result_init(res);
	assert_int_equal(strata_source_fs_open(&src, root, err), 0);
	return strata_check_repo(res, src, envs, n, NULL, err);
}

/* The item with rule at file:line, or NULL. */
static const strata_check_item *find(const strata_check_result *res,
				     const char *rule, const char *file, int line)
{
	for (size_t i = 0; i < res->n; i++) {
		const strata_check_item *it = &res->items[i];
		if (!strcmp(it->rule, rule) && !strcmp(it->file, file) &&
		    (line < 0 || it->line == line))
			return it;
	}
	return NULL;
}

static void test_check__reports_every_problem(void **state)
{
	strata_check_result res;
	strata_error err;
	const strata_check_item *it;

	(void)state;
	put("strata.ini", "[env \"dev\"]\n\n[env \"prod\"]\nvar.TAG = 1\n");
	put("base/a.yaml",
	    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  x: ${TAG}\n"
	    "---\n- not a map\n"
	    "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  nam: b\n"
	    "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: 1\n  k: 2\n");
	put("base/b.yaml", "key: [unclosed\n");
	put("base/c.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n");
	put("overlays/prod/p.yaml",
	    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aa\ndata:\n  y: z\n");
	put("overlays/prod/resources/r.yaml",
	    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n");

	assert_int_equal(run_check(&res, NULL, 0, &err), STRATA_ECHECK);
	assert_int_equal(err.code, STRATA_ECHECK);
	assert_non_null(strstr(err.msg, "[")); /* the rule id travels along */
	assert_non_null(find(&res, "not-a-mapping", "base/a.yaml", 8));
	assert_non_null(find(&res, "missing-field", "base/a.yaml", -1));
	assert_non_null(find(&res, "duplicate-key", "base/a.yaml", 21));
	assert_non_null(find(&res, "yaml-syntax", "base/b.yaml", -1));
	assert_non_null(find(&res, "duplicate-resource", "base/c.yaml", 1));
	it = find(&res, "patch-not-found", "overlays/prod/p.yaml", 1);
	assert_non_null(it);
	assert_non_null(strstr(it->msg, "did you mean 'a'"));
	assert_non_null(find(&res, "resource-collision", "overlays/prod/resources/r.yaml", 1));
	/* TAG is defined in prod only: reported for dev, at the scalar */
	it = find(&res, "undefined-variable", "base/a.yaml", 6);
	assert_non_null(it);
	assert_int_equal(it->col, 6);
	assert_string_equal(it->envs, "dev");
	assert_int_equal(res.envs_checked, 2);
	assert_int_equal(res.errors, 8);
	assert_int_equal(res.warnings, 0);
	/* sorted by position */
	for (size_t i = 1; i < res.n; i++) {
		int c = strcmp(res.items[i - 1].file, res.items[i].file);
		assert_true(c < 0 || (c == 0 && res.items[i - 1].line <= res.items[i].line));
	}
	strata_check_result_free(&res);
}

static void test_check__ini_errors_are_collected_and_envs_still_render(void **state)
{
	strata_check_result res;
	strata_error err;

	(void)state;
	put("strata.ini",
	    "[env \"dev\"]\ncolour = blue\n\n"
	    "[bogus]\nx = 1\ny = 2\n\n"
	    "[env \"prod\"]\nnmespace = prod\ninherit = prod\n");
	put("base/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
			   "data:\n  x: ${NOPE}\n");
	assert_int_equal(run_check(&res, NULL, 0, &err), STRATA_ECHECK);
	assert_non_null(find(&res, "ini-unknown-key", "strata.ini", 2));
	assert_non_null(find(&res, "ini-unknown-section", "strata.ini", 4));
	assert_non_null(find(&res, "ini-unknown-key", "strata.ini", 9));
	assert_non_null(find(&res, "ini-inherit-cycle", "strata.ini", 10));
	/* the section was blanked whole: its keys are not reported on their own */
	assert_null(find(&res, "ini-unknown-key", "strata.ini", 5));
	/* and both environments were rendered from what was left */
	assert_int_equal(res.envs_checked, 2);
	assert_non_null(find(&res, "undefined-variable", "base/a.yaml", 6));
	strata_check_result_free(&res);
}

/*
 * Rules come from the error, not from its words: these messages quote
 * "branch" and "unknown key", which the old message matching took for
 * ini-branch and ini-unknown-key.
 */
static void test_check__ini_rule_is_the_errors_own(void **state)
{
	strata_check_result res;
	strata_error err;

	(void)state;
	put("strata.ini",
	    "[strata]\nbranch = a/{env}\nbranch = b/{env}\n\n"
	    "[env \"dev\"]\nlabel.app = unknown key\nnamespace = branch_x\n");
	put("base/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n");
	assert_int_equal(run_check(&res, NULL, 0, &err), STRATA_ECHECK);
	assert_non_null(find(&res, "ini-duplicate", "strata.ini", 3));
	assert_non_null(find(&res, "ini-syntax", "strata.ini", 6));
	assert_non_null(find(&res, "ini-syntax", "strata.ini", 7));
	assert_int_equal(res.errors, 3);
	strata_check_result_free(&res);
}

/* What a collecting render hands its sink: the render-stage rule and the
 * error's own rule, by file:line. */
#define MAX_SEEN 16
static struct {
	char stage[32], rule[32], file[sizeof(((strata_error *)0)->file)];
	int line;
} seen[MAX_SEEN];
static size_t n_rules;

static void keep_rule(void *ctx, const char *rule, const strata_error *e)
{
	(void)ctx;
	assert_true(n_rules < MAX_SEEN);
	snprintf(seen[n_rules].stage, sizeof(seen[0].stage), "%s", rule);
	snprintf(seen[n_rules].rule, sizeof(seen[0].rule), "%s", e->rule ? e->rule : "");
	snprintf(seen[n_rules].file, sizeof(seen[0].file), "%s", e->file);
	seen[n_rules].line = e->line;
	n_rules++;
}

/* The error's own rule ("" for none) at file:line with the given stage. */
static const char *rule_seen(const char *stage, const char *file, int line)
{
	for (size_t i = 0; i < n_rules; i++)
		if (!strcmp(seen[i].stage, stage) && !strcmp(seen[i].file, file) &&
		    seen[i].line == line)
			return seen[i].rule;
	return "(not reported)";
}

/*
 * duplicate-key, not-a-mapping and missing-field are named where the error
 * is made (yaml_load.c, resource.c) and reach the sink and check with the
 * error, through the threaded loader and the per-document re-parse; check
 * no longer reads the message.  A syntax error names none: yaml-syntax.
 */
static void test_check__load_rules_are_the_errors_own(void **state)
{
	strata_source *src = NULL;
	strata_repo *repo = NULL;
	strata_render *r = NULL;
	strata_render_opts opts = { keep_rule, NULL };
	strata_check_result res;
	strata_error err;
	const strata_check_item *it;

	(void)state;
	put("strata.ini", "[env \"dev\"]\n\n[env \"prod\"]\n");
	put("base/a.yaml",
	    "- a list\n"                                          /* line 1 */
	    "---\njust a scalar\n"                                /* line 3 */
	    "---\napiVersion: v1\nmetadata:\n  name: k\n"         /* line 5 */
	    "---\napiVersion: v1\nkind: \"\"\nmetadata:\n  name: e\n" /* kind: 10 */
	    "---\napiVersion: v1\nkind: ConfigMap\nmetadata: [x]\n" /* metadata: 16 */
	    "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: badns\n"
	    "  namespace: [a]\n"                                  /* line 22 */
	    "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n");
	/* a syntax error makes the loader re-parse document by document */
	put("base/b.yaml",
	    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n"
	    "data:\n  not a mapping: 1\n  not a mapping: 2\n"   /* line 7 */
	    "---\nkey: [unclosed\n");
	put("overlays/prod/p.yaml", "42\n");
	put("overlays/prod/resources/r.yaml", "apiVersion: v1\nmetadata:\n  name: r\n");

	strata_error_clear(&err);
	assert_int_equal(strata_source_fs_open(&src, root, &err), 0);
	assert_int_equal(strata_repo_open(&repo, src, NULL, &err), 0);
	n_rules = 0;
	assert_int_equal(strata_render_env_opts(&r, repo, "prod", &opts, &err), 0);
	assert_string_equal(rule_seen("resource", "base/a.yaml", 1), "not-a-mapping");
	assert_string_equal(rule_seen("resource", "base/a.yaml", 3), "not-a-mapping");
	assert_string_equal(rule_seen("resource", "base/a.yaml", 5), "missing-field");
	assert_string_equal(rule_seen("resource", "base/a.yaml", 10), "missing-field");
	assert_string_equal(rule_seen("resource", "base/a.yaml", 16), "missing-field");
	assert_string_equal(rule_seen("resource", "base/a.yaml", 22), "missing-field");
	assert_string_equal(rule_seen("yaml", "base/b.yaml", 7), "duplicate-key");
	assert_string_equal(rule_seen("yaml", "base/b.yaml", 10), "");
	assert_string_equal(rule_seen("resource", "overlays/prod/p.yaml", 1), "not-a-mapping");
	assert_string_equal(rule_seen("resource", "overlays/prod/resources/r.yaml", 1),
			    "missing-field");
	assert_int_equal(n_rules, 10);
	assert_int_equal(strata_render_count(r), 1); /* only 'ok' */
	strata_render_free(r);
	strata_repo_free(repo);

	assert_int_equal(run_check(&res, NULL, 0, &err), STRATA_ECHECK);
	assert_non_null(find(&res, "not-a-mapping", "base/a.yaml", 1));
	assert_non_null(find(&res, "not-a-mapping", "base/a.yaml", 3));
	{
		static const struct {
			const char *rule, *file, *msg;
			int line;
		} want[] = {
			{ "missing-field", "base/a.yaml", "resource has no kind", 5 },
			{ "missing-field", "base/a.yaml", "kind must be a non-empty string", 10 },
			{ "missing-field", "base/a.yaml", "resource has no metadata mapping", 16 },
			{ "missing-field", "base/a.yaml", "metadata.namespace must be a string", 22 },
			/* the key quotes "not a mapping": the rule does not follow the words */
			{ "duplicate-key", "base/b.yaml",
			  "duplicate key 'not a mapping' (first at line 6)", 7 },
		};
		for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
			it = find(&res, want[i].rule, want[i].file, want[i].line);
			assert_non_null(it);
			assert_string_equal(it->msg, want[i].msg);
		}
	}
	assert_non_null(find(&res, "yaml-syntax", "base/b.yaml", 10));
	it = find(&res, "not-a-mapping", "overlays/prod/p.yaml", 1);
	assert_non_null(it);
	assert_string_equal(it->envs, ""); /* a load problem: every env */
	assert_non_null(find(&res, "missing-field", "overlays/prod/resources/r.yaml", 1));
	assert_int_equal(res.errors, 10);
	strata_check_result_free(&res);
}

static void test_check__plaintext_secrets(void **state)
{
	strata_check_result res;
	strata_error err;
	const strata_check_item *it;
	strata_buf out = STRATA_BUF_INIT;

	(void)state;
	put("strata.ini", "[env \"dev\"]\nallow_plaintext_secrets = true\n\n[env \"prod\"]\n");
	put("base/s.yaml",
	    /* plaintext: fails in prod */
	    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: plain\n"
	    "stringData:\n  password: hunter2-TOPSECRET\n"
	    /* every value SOPS-encrypted */
	    "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: enc\n"
	    "data:\n  a: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\n"
	    /* a sops block */
	    "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: sopsblock\n"
	    "data:\n  a: c2VjcmV0\nsops:\n  version: 3.8.1\n"
	    /* one encrypted, one not: fails */
	    "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: mixed\n"
	    "data:\n  a: ENC[AES256_GCM,data:x,type:str]\n  b: c2VjcmV0LVRPUFNFQ1JFVA==\n"
	    /* not core Secrets */
	    "---\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: sealed\n"
	    "spec:\n  encryptedData:\n    a: AgBy\n"
	    "---\napiVersion: external-secrets.io/v1beta1\nkind: ExternalSecret\nmetadata:\n"
	    "  name: ext\nspec:\n  data: []\n"
	    /* no data at all */
	    "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: empty\ntype: Opaque\n");
	assert_int_equal(run_check(&res, NULL, 0, &err), STRATA_ECHECK);
	assert_int_equal(res.errors, 2);
	it = find(&res, "plaintext-secret", "base/s.yaml", 6);
	assert_non_null(it);
	assert_string_equal(it->envs, "prod");
	assert_non_null(strstr(it->msg, "'plain'"));
	assert_non_null(strstr(it->msg, "stringData.password"));
	it = find(&res, "plaintext-secret", "base/s.yaml", 30);
	assert_non_null(it);
	assert_non_null(strstr(it->msg, "data.b"));
	assert_null(strstr(it->msg, "data.a"));
	/* values never appear, in any format */
	assert_int_equal(strata_check_format_text(&out, &res), 0);
	assert_int_equal(strata_check_format_json(&out, &res), 0);
	assert_null(strstr(out.ptr, "TOPSECRET"));
	assert_null(strstr(out.ptr, "hunter2"));
	assert_null(strstr(out.ptr, "c2VjcmV0"));
	assert_null(strstr(err.msg, "hunter2"));
	strata_buf_free(&out);
	strata_check_result_free(&res);

	/* only dev: allowed there */
	{
		const char *envs[] = { "dev" };
		assert_int_equal(run_check(&res, envs, 1, &err), 0);
		assert_int_equal(res.errors, 0);
		strata_check_result_free(&res);
	}
}

/*
 * A patch the merge refuses is skipped whole: none of what it merged
 * before failing stays, also where an earlier patch made the render's
 * own copies (edited in place from then on).  Here the patch would have
 * added a plaintext value first, then hit a bad directive; a
 * half-applied patch showed as a plaintext Secret.
 */
static void test_check__failed_patch_is_skipped_whole(void **state)
{
	strata_check_result res;
	strata_error err;
	const strata_check_item *it;

	(void)state;
	put("strata.ini", "[env \"a\"]\noverlay = o\n\n[env \"b\"]\noverlay = o\n");
	put("base/s.yaml",
	    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n"
	    "data:\n  a: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\n");
	/* p1 makes the render's own copies of the root and data first */
	put("o/p1.yaml",
	    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n"
	    "data:\n  b: ENC[AES256_GCM,data:y,iv:y,tag:z,type:str]\n");
	put("o/p2.yaml",
	    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n"
	    "data:\n  k: cGxhaW4tVE9QU0VDUkVU\n  m: {$patch: bogus}\n");
	assert_int_equal(run_check(&res, NULL, 0, &err), STRATA_ECHECK);
	it = find(&res, "patch-invalid", "o/p2.yaml", 7);
	assert_non_null(it);
	assert_string_equal(it->envs, "a,b");
	assert_null(find(&res, "plaintext-secret", "base/s.yaml", -1));
	assert_null(find(&res, "plaintext-secret", "o/p2.yaml", -1));
	assert_int_equal(res.errors, 1);
	strata_check_result_free(&res);
}

static void test_check__publish_hook_refuses_plaintext(void **state)
{
	strata_source *src = NULL;
	strata_repo *repo = NULL;
	strata_render *r = NULL;
	strata_error err;

	(void)state;
	put("strata.ini", "[env \"prod\"]\n");
	put("base/s.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n"
			   "data:\n  password: aHVudGVyMg==\n");
	strata_error_clear(&err);
	assert_int_equal(strata_source_fs_open(&src, root, &err), 0);
	assert_int_equal(strata_repo_open(&repo, src, NULL, &err), 0);
	assert_int_equal(strata_render_env(&r, repo, "prod", &err), 0);
	assert_int_equal(strata_check_render(NULL, r, &err), STRATA_ECHECK);
	assert_string_equal(err.file, "base/s.yaml");
	assert_int_equal(err.line, 6);
	assert_non_null(strstr(err.msg, "[plaintext-secret]"));
	assert_null(strstr(err.msg, "aHVudGVyMg"));
	strata_render_free(r);
	strata_error_clear(&err);
	assert_int_equal(strata_check_env(NULL, repo, "prod", &err), STRATA_ECHECK);
	strata_repo_free(repo);
}

static int n_seen;
static void count_problem(void *ctx, const char *rule, const strata_error *e)
{
	(void)ctx;
	(void)rule;
	(void)e;
	n_seen++;
}

/* What a collecting load skipped is not silently missing from a later
 * ordinary render of the same repo: it fails with the skipped problem. */
static void test_check__collecting_load_does_not_hide_problems(void **state)
{
	strata_source *src = NULL;
	strata_repo *repo = NULL;
	strata_render *r = NULL;
	strata_render_opts opts = { count_problem, NULL };
	strata_error err;

	(void)state;
	put("strata.ini", "[env \"dev\"]\n");
	put("base/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n");
	put("base/b.yaml", "a: [\n");
	strata_error_clear(&err);
	assert_int_equal(strata_source_fs_open(&src, root, &err), 0);
	assert_int_equal(strata_repo_open(&repo, src, NULL, &err), 0);
	n_seen = 0;
	assert_int_equal(strata_render_env_opts(&r, repo, "dev", &opts, &err), 0);
	assert_int_equal(n_seen, 1);
	assert_int_equal(strata_render_count(r), 1);
	assert_int_equal(err.code, 0);
	strata_render_free(r);
	r = NULL;
	assert_int_equal(strata_render_env(&r, repo, "dev", &err), STRATA_EPARSE);
	assert_null(r);
	assert_string_equal(err.file, "base/b.yaml");
	strata_repo_free(repo);
}

static void test_check__clean_repo_passes(void **state)
{
	strata_check_result res;
	strata_error err;
	strata_source *src = NULL;

	(void)state;
	strata_error_clear(&err);
	strata_check_result_init(&res);
	assert_int_equal(strata_source_fs_open(&src, STRATA_SOURCE_DIR "/examples/shop", &err), 0);
	assert_int_equal(strata_check_repo(&res, src, NULL, 0, NULL, &err), 0);
	assert_int_equal(res.errors, 0);
	assert_true(res.envs_checked >= 2);
	assert_int_equal(err.code, 0);
	strata_check_result_free(&res);
}

static void test_check__unknown_env_and_unused_overlay(void **state)
{
	strata_check_result res;
	strata_error err;
	const char *envs[] = { "prdo" };
	const strata_check_item *it;

	(void)state;
	put("strata.ini", "[env \"prod\"]\n");
	put("base/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n");
	put("overlays/old/p.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n");
	assert_int_equal(run_check(&res, envs, 1, &err), STRATA_ECHECK);
	it = find(&res, "unknown-env", "", -1);
	assert_non_null(it);
	assert_non_null(strstr(it->msg, "did you mean 'prod'"));
	strata_check_result_free(&res);

	assert_int_equal(run_check(&res, NULL, 0, &err), 0); /* warnings only */
	assert_int_equal(res.errors, 0);
	assert_non_null(find(&res, "unused-overlay", "overlays/old", 0));
	strata_check_result_free(&res);
}

static void test_check__text_and_json_format(void **state)
{
	strata_check_result res;
	strata_buf out = STRATA_BUF_INIT;

	(void)state;
	strata_check_result_init(&res);
	assert_int_equal(strata_check_add(&res, STRATA_CHECK_ERROR, "yaml-syntax", "b.yaml",
					  3, 7, NULL, "bad \"quote\"\tand\x01"), 0);
	assert_int_equal(strata_check_add(&res, STRATA_CHECK_WARNING, "unused-overlay",
					  "a", 0, 0, NULL, "w"), 0);
	assert_int_equal(strata_check_add(&res, STRATA_CHECK_ERROR, "undefined-variable",
					  "c.yaml", 1, 2, "dev", "u"), 0);
	assert_int_equal(strata_check_add(&res, STRATA_CHECK_ERROR, "undefined-variable",
					  "c.yaml", 1, 2, "qa", "u"), 0);
	assert_int_equal(strata_check_result_finish(&res), 0);
	res.envs_checked = 3;
	assert_int_equal(res.n, 3);
	assert_int_equal(res.errors, 2);
	assert_int_equal(strata_check_format_text(&out, &res), 0);
	assert_string_equal(out.ptr,
			    "a: warning: w [unused-overlay]\n"
			    "b.yaml:3:7: error: bad \"quote\"\tand\x01 [yaml-syntax]\n"
			    "c.yaml:1:2: error: u (env 'dev', 'qa') [undefined-variable]\n");
	out.len = 0;
	assert_int_equal(strata_check_format_json(&out, &res), 0);
	assert_string_equal(out.ptr,
			    "{\"errors\":2,\"warnings\":1,\"environments\":3,\"problems\":[\n"
			    "{\"file\":\"a\",\"line\":0,\"col\":0,\"severity\":\"warning\",\"rule\":\"unused-overlay\",\"message\":\"w\",\"envs\":[]},\n"
			    "{\"file\":\"b.yaml\",\"line\":3,\"col\":7,\"severity\":\"error\",\"rule\":\"yaml-syntax\",\"message\":\"bad \\\"quote\\\"\\tand\\u0001\",\"envs\":[]},\n"
			    "{\"file\":\"c.yaml\",\"line\":1,\"col\":2,\"severity\":\"error\",\"rule\":\"undefined-variable\",\"message\":\"u\",\"envs\":[\"dev\",\"qa\"]}\n"
			    "]}\n");
	strata_buf_free(&out);
	strata_check_result_free(&res);
}

static void test_check__limits_parse(void **state)
{
	strata_limits lim;
	strata_error err;

	(void)state;
	strata_limits_default(&lim);
	strata_error_clear(&err);
	assert_int_equal(strata_limits_parse(&lim, "file=128M", &err), 0);
	assert_int_equal(lim.max_file, (size_t)128 << 20);
	assert_int_equal(strata_limits_parse(&lim, "files=200000", &err), 0);
	assert_int_equal(lim.max_files, 200000);
	assert_int_equal(strata_limits_parse(&lim, "depht=1", &err), STRATA_EUSAGE);
	assert_non_null(strstr(err.msg, "did you mean 'depth'"));
	strata_error_clear(&err);
	assert_int_equal(strata_limits_parse(&lim, "depth=0", &err), STRATA_EUSAGE);
	strata_error_clear(&err);
	assert_int_equal(strata_limits_parse(&lim, "depth=99999999999999999999", &err),
			 STRATA_EUSAGE);
	strata_error_clear(&err);
	assert_int_equal(strata_limits_parse(&lim, "total=", &err), STRATA_EUSAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_check__reports_every_problem, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check__ini_errors_are_collected_and_envs_still_render,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_check__ini_rule_is_the_errors_own, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_check__load_rules_are_the_errors_own, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_check__plaintext_secrets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check__failed_patch_is_skipped_whole,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_check__publish_hook_refuses_plaintext, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_check__collecting_load_does_not_hide_problems,
						setup, teardown),
		cmocka_unit_test(test_check__clean_repo_passes),
		cmocka_unit_test_setup_teardown(test_check__unknown_env_and_unused_overlay, setup,
						teardown),
		cmocka_unit_test(test_check__text_and_json_format),
		cmocka_unit_test(test_check__limits_parse),
	};

	return cmocka_run_group_tests_name("check", tests, NULL, NULL);
}
