/*
 * test_config.c - strata.ini parsing, validation and inheritance.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strata/config.h"

/* Parse text that must be valid. */
static strata_config *parse_ok(const char *text)
{
	strata_config *cfg = NULL;
	strata_error err;
	char msg[2048];
	int rc;

	strata_error_clear(&err);
	rc = strata_config_parse(&cfg, "strata.ini", text, strlen(text), &err);
	if (rc) {
		strata_error_format(&err, msg, sizeof(msg));
		fail_msg("unexpected error %d: %s", rc, msg);
	}
	assert_non_null(cfg);
	return cfg;
}

/* Parse text that must fail with code; returns the formatted error. */
static void parse_fail_len(const char *text, size_t len, int code,
			   const char *expect)
{
	strata_config *cfg = (strata_config *)1;
	strata_error err;
	char msg[2048];
	int rc;

	strata_error_clear(&err);
	rc = strata_config_parse(&cfg, "strata.ini", text, len, &err);
	strata_error_format(&err, msg, sizeof(msg));
	if (rc != code)
		fail_msg("expected code %d, got %d (%s)", code, rc, msg);
	assert_null(cfg);
	assert_int_equal(err.code, code);
	if (strcmp(msg, expect) != 0)
		fail_msg("error mismatch:\n  got:    %s\n  wanted: %s", msg, expect);
}

static void parse_fail(const char *text, int code, const char *expect)
{
	parse_fail_len(text, strlen(text), code, expect);
}

static strata_env *env_ok(const strata_config *cfg, const char *name)
{
	strata_env *env = NULL;
	strata_error err;
	char msg[2048];

	strata_error_clear(&err);
	if (strata_config_env(&env, cfg, name, &err)) {
		strata_error_format(&err, msg, sizeof(msg));
		fail_msg("strata_config_env(%s): %s", name, msg);
	}
	assert_non_null(env);
	return env;
}

static void assert_kv(const strata_kvlist *l, size_t i, const char *k,
		      const char *v)
{
	assert_true(i < l->n);
	assert_string_equal(l->items[i].key, k);
	assert_string_equal(l->items[i].value, v);
}

static void test_config__every_key(void **state)
{
	(void)state;
	strata_config *cfg = parse_ok(
		"; strata.ini\n"
		"[strata]\n"
		"base = manifests/base\n"
		"branch = deploy/{env}\n"
		"layout = stream\n"
		"\n"
		"[env \"prod\"]\n"
		"overlay = overlays/prod overlays/prod-extra\n"
		"namespace = shop-prod\n"
		"name_prefix = prod-\n"
		"name_suffix = -v1\n"
		"branch = production\n"
		"allow_plaintext_secrets = yes\n"
		"label.env = prod\n"
		"label.app.kubernetes.io/part-of = shop\n"
		"annotation.example.com/owner = team a\n"
		"image.nginx = registry.example.com/nginx:1.25.3\n"
		"image.localhost:5000/app = registry.example.com/app@sha256:abc\n"
		"var.REPLICAS = 3\n"
		"var._x1 =\n"
		"[publish]\n"
		"name = Strata Bot\n"
		"email = bot@example.com\n"
		"[diff]\n"
		"ignore = a/b.yaml c/*.yaml\n"
		"ignore = d\n");
	const strata_env_config *e = strata_config_find(cfg, "prod");

	assert_string_equal(cfg->base, "manifests/base");
	assert_int_equal(cfg->base_line, 3);
	assert_string_equal(cfg->branch, "deploy/{env}");
	assert_string_equal(cfg->layout, "stream");
	assert_string_equal(cfg->publish_name, "Strata Bot");
	assert_string_equal(cfg->publish_email, "bot@example.com");
	assert_int_equal(cfg->n_diff_ignore, 3);
	assert_string_equal(cfg->diff_ignore[0], "a/b.yaml");
	assert_string_equal(cfg->diff_ignore[1], "c/*.yaml");
	assert_string_equal(cfg->diff_ignore[2], "d");
	assert_int_equal(cfg->n_envs, 1);

	assert_non_null(e);
	assert_string_equal(e->name, "prod");
	assert_int_equal(e->line, 7);
	assert_null(e->inherit);
	assert_int_equal(e->n_overlays, 2);
	assert_string_equal(e->overlays[0], "overlays/prod");
	assert_string_equal(e->overlays[1], "overlays/prod-extra");
	assert_int_equal(e->overlay_line, 8);
	assert_string_equal(e->namespace, "shop-prod");
	assert_string_equal(e->name_prefix, "prod-");
	assert_string_equal(e->name_suffix, "-v1");
	assert_string_equal(e->branch, "production");
	assert_int_equal(e->branch_line, 12);
	assert_int_equal(e->allow_plaintext_secrets, 1);
	assert_int_equal(e->labels.n, 2);
	assert_kv(&e->labels, 0, "env", "prod");
	assert_kv(&e->labels, 1, "app.kubernetes.io/part-of", "shop");
	assert_int_equal(e->labels.items[1].line, 15);
	assert_kv(&e->annotations, 0, "example.com/owner", "team a");
	assert_kv(&e->images, 0, "nginx", "registry.example.com/nginx:1.25.3");
	assert_kv(&e->images, 1, "localhost:5000/app",
		  "registry.example.com/app@sha256:abc");
	assert_kv(&e->vars, 0, "REPLICAS", "3");
	assert_kv(&e->vars, 1, "_x1", "");
	assert_string_equal(strata_kvlist_get(&e->vars, "REPLICAS"), "3");
	assert_null(strata_kvlist_get(&e->vars, "replicas"));
	assert_null(strata_config_find(cfg, "staging"));

	strata_env *env = env_ok(cfg, "prod");
	char *branch = strata_config_branch(cfg, env);
	assert_string_equal(branch, "production");
	assert_true(env->allow_plaintext_secrets);
	assert_int_equal(env->n_overlays, 2);
	assert_true(env->overlay_explicit[0]);
	assert_true(env->overlay_explicit[1]);
	free(branch);
	strata_env_free(env);
	strata_config_free(cfg);
}

static void test_config__defaults(void **state)
{
	(void)state;
	strata_config *cfg = parse_ok("[env \"dev\"]\n");
	strata_env *env = env_ok(cfg, "dev");
	char *branch = strata_config_branch(cfg, env);

	assert_string_equal(cfg->base, "base");
	assert_string_equal(cfg->branch, "env/{env}");
	assert_string_equal(cfg->layout, "files");
	assert_null(cfg->publish_name);
	assert_int_equal(cfg->n_diff_ignore, 0);
	assert_null(cfg->envs[0].overlays);
	assert_int_equal(cfg->envs[0].allow_plaintext_secrets, -1);

	assert_string_equal(env->name, "dev");
	assert_int_equal(env->n_overlays, 1);
	assert_string_equal(env->overlays[0], "overlays/dev");
	assert_false(env->overlay_explicit[0]);
	assert_string_equal(env->overlay_from[0], "dev");
	assert_null(env->namespace);
	assert_null(env->name_prefix);
	assert_null(env->branch);
	assert_false(env->allow_plaintext_secrets);
	assert_string_equal(branch, "env/dev");
	free(branch);
	strata_env_free(env);
	strata_config_free(cfg);

	/* an empty file is a valid config with no environments */
	cfg = parse_ok("");
	assert_int_equal(cfg->n_envs, 0);
	strata_config_free(cfg);
}

static void test_config__inherit_chain(void **state)
{
	(void)state;
	strata_config *cfg = parse_ok(
		"[strata]\n"
		"branch = env/{env}/{env}\n"
		"[env \"prod-eu\"]\n"
		"inherit = prod\n"
		"overlay = overlays/eu\n"
		"namespace = shop-eu\n"
		"label.region = eu\n"
		"label.tier = gold\n"
		"var.B = child\n"
		"image.nginx = eu/nginx:2\n"
		"[env \"base-env\"]\n"
		"namespace = shop\n"
		"name_prefix = x-\n"
		"allow_plaintext_secrets = true\n"
		"label.tier = bronze\n"
		"label.team = shop\n"
		"var.A = 1\n"
		"var.B = base\n"
		"[env \"prod\"]\n"
		"inherit = base-env\n"
		"name_prefix = prod-\n"
		"branch = production\n"
		"label.tier = silver\n"
		"annotation.a = 1\n"
		"image.nginx = nginx:1\n"
		"allow_plaintext_secrets = no\n");
	strata_env *env = env_ok(cfg, "prod-eu");
	char *branch;

	/* layers: base-env (default), prod (default), prod-eu (explicit) */
	assert_int_equal(env->n_overlays, 3);
	assert_string_equal(env->overlays[0], "overlays/base-env");
	assert_string_equal(env->overlays[1], "overlays/prod");
	assert_string_equal(env->overlays[2], "overlays/eu");
	assert_false(env->overlay_explicit[0]);
	assert_false(env->overlay_explicit[1]);
	assert_true(env->overlay_explicit[2]);
	assert_string_equal(env->overlay_from[0], "base-env");
	assert_string_equal(env->overlay_from[1], "prod");
	assert_string_equal(env->overlay_from[2], "prod-eu");

	/* scalars: nearest wins */
	assert_string_equal(env->namespace, "shop-eu");
	assert_string_equal(env->name_prefix, "prod-");
	assert_null(env->name_suffix);
	assert_false(env->allow_plaintext_secrets);

	/* maps: parent order kept, values replaced in place, new keys last */
	assert_int_equal(env->labels.n, 3);
	assert_kv(&env->labels, 0, "tier", "gold");
	assert_kv(&env->labels, 1, "team", "shop");
	assert_kv(&env->labels, 2, "region", "eu");
	assert_int_equal(env->vars.n, 2);
	assert_kv(&env->vars, 0, "A", "1");
	assert_kv(&env->vars, 1, "B", "child");
	assert_kv(&env->annotations, 0, "a", "1");
	assert_kv(&env->images, 0, "nginx", "eu/nginx:2");
	assert_int_equal(env->images.n, 1);

	/* the branch is not inherited: prod publishes to "production", its
	 * child gets the template's branch */
	assert_null(env->branch);
	branch = strata_config_branch(cfg, env);
	assert_string_equal(branch, "env/prod-eu/prod-eu");
	free(branch);
	strata_env_free(env);

	env = env_ok(cfg, "prod");
	assert_int_equal(env->n_overlays, 2);
	assert_kv(&env->labels, 0, "tier", "silver");
	assert_string_equal(env->namespace, "shop");
	branch = strata_config_branch(cfg, env);
	assert_string_equal(branch, "production");
	free(branch);
	strata_env_free(env);

	/* the parse result is untouched by resolving */
	assert_int_equal(strata_config_find(cfg, "prod")->labels.n, 1);
	strata_config_free(cfg);
}

static void test_config__empty_values_clear_inherited(void **state)
{
	(void)state;
	strata_config *cfg = parse_ok("[env \"a\"]\n"
				      "namespace = ns-a\n"
				      "name_prefix = a-\n"
				      "[env \"b\"]\n"
				      "inherit = a\n"
				      "namespace =\n"
				      "name_prefix =\n"
				      "overlay =\n");
	strata_env *env = env_ok(cfg, "b");

	assert_null(env->namespace);
	assert_null(env->name_prefix);
	/* "overlay =" is an explicit empty list: only a's default layer */
	assert_non_null(cfg->envs[1].overlays);
	assert_int_equal(cfg->envs[1].n_overlays, 0);
	assert_int_equal(env->n_overlays, 1);
	assert_string_equal(env->overlays[0], "overlays/a");
	strata_env_free(env);
	strata_config_free(cfg);
}

static void test_config__overlay_paths_tidied(void **state)
{
	(void)state;
	strata_config *cfg =
		parse_ok("[env \"x\"]\noverlay = ./ov//x/ ov/y/.\n");
	strata_env *env = env_ok(cfg, "x");

	assert_string_equal(cfg->envs[0].overlays[0], "./ov//x/");
	assert_int_equal(env->n_overlays, 2);
	assert_string_equal(env->overlays[0], "ov/x");
	assert_string_equal(env->overlays[1], "ov/y");
	strata_env_free(env);
	strata_config_free(cfg);
}

static void test_config__overlay_twice(void **state)
{
	(void)state;
	parse_fail("[env \"prod\"]\n"
		   "[env \"prod-eu\"]\n"
		   "inherit = prod\n"
		   "overlay = overlays/prod overlays/eu\n",
		   STRATA_ECONFIG,
		   "strata.ini:4:1: overlay 'overlays/prod' is applied twice in "
		   "environment 'prod-eu' (declared by 'prod' and 'prod-eu')");
}

static void test_config__inherit_cycle(void **state)
{
	(void)state;
	parse_fail("[env \"a\"]\n"
		   "inherit = b\n"
		   "[env \"b\"]\n"
		   "inherit = a\n",
		   STRATA_ECONFIG, "strata.ini:2:1: inherit cycle: a -> b -> a");
	parse_fail("[env \"x\"]\n"
		   "inherit = a\n"
		   "[env \"a\"]\n"
		   "inherit = b\n"
		   "[env \"b\"]\n"
		   "inherit = c\n"
		   "[env \"c\"]\n"
		   "inherit = a\n",
		   STRATA_ECONFIG,
		   "strata.ini:4:1: inherit cycle: a -> b -> c -> a");
	parse_fail("[env \"a\"]\n"
		   "inherit = a\n",
		   STRATA_ECONFIG, "strata.ini:2:1: inherit cycle: a -> a");
}

static void test_config__inherit_unknown_parent(void **state)
{
	(void)state;
	parse_fail("[env \"staging\"]\n"
		   "[env \"prod\"]\n"
		   "inherit = stagng\n",
		   STRATA_ECONFIG,
		   "strata.ini:3:1: unknown parent environment 'stagng' (did "
		   "you mean 'staging'?)");
	/* never suggest the env itself */
	parse_fail("[env \"prod-eu\"]\n"
		   "inherit = prod-e\n",
		   STRATA_ECONFIG,
		   "strata.ini:2:1: unknown parent environment 'prod-e'");
}

static void test_config__unknown_env(void **state)
{
	(void)state;
	strata_config *cfg = parse_ok("[env \"prod\"]\n[env \"dev\"]\n");
	strata_env *env = (strata_env *)1;
	strata_error err;
	char msg[2048];

	strata_error_clear(&err);
	assert_int_equal(strata_config_env(&env, cfg, "prd", &err),
			 STRATA_ENOTFOUND);
	assert_null(env);
	strata_error_format(&err, msg, sizeof(msg));
	assert_string_equal(msg,
			    "unknown environment 'prd' (did you mean 'prod'?)");

	strata_error_clear(&err);
	assert_int_equal(strata_config_env(&env, cfg, "zzzzzzzz", &err),
			 STRATA_ENOTFOUND);
	assert_string_equal(err.msg, "unknown environment 'zzzzzzzz'");
	strata_config_free(cfg);
}

static void test_config__unknown_key_did_you_mean(void **state)
{
	(void)state;
	parse_fail("[env \"prod\"]\n"
		   "namespace = a\n"
		   "namspace = shop\n",
		   STRATA_ECONFIG,
		   "strata.ini:3:1: unknown key 'namspace' in [env \"prod\"] "
		   "(did you mean 'namespace'?)");
	parse_fail("[env \"prod\"]\nlable.app = x\n", STRATA_ECONFIG,
		   "strata.ini:2:1: unknown key 'lable.app' in [env \"prod\"] "
		   "(did you mean 'label.app'?)");
	parse_fail("[strata]\nbsae = x\n", STRATA_ECONFIG,
		   "strata.ini:2:1: unknown key 'bsae' in [strata] (did you "
		   "mean 'base'?)");
	parse_fail("[strata]\ncompletely_different = x\n", STRATA_ECONFIG,
		   "strata.ini:2:1: unknown key 'completely_different' in "
		   "[strata]");
	parse_fail("[publish]\nmail = a@b\n", STRATA_ECONFIG,
		   "strata.ini:2:1: unknown key 'mail' in [publish] (did you "
		   "mean 'email'?)");
	parse_fail("[diff]\nignores = a\n", STRATA_ECONFIG,
		   "strata.ini:2:1: unknown key 'ignores' in [diff] (did you "
		   "mean 'ignore'?)");
	parse_fail("[env \"prod\"]\nlabel = x\n", STRATA_ECONFIG,
		   "strata.ini:2:1: key 'label' needs a name: label.NAME = "
		   "value");
	parse_fail("namespace = x\n", STRATA_ECONFIG,
		   "strata.ini:1:1: key 'namespace' outside of any section "
		   "(put it under [strata] or [env \"NAME\"])");
}

static void test_config__unknown_section(void **state)
{
	(void)state;
	parse_fail("[strata]\n\n[publsh]\n", STRATA_ECONFIG,
		   "strata.ini:3:1: unknown section 'publsh' (did you mean "
		   "'publish'?)");
	parse_fail("[environment \"x\"]\n", STRATA_ECONFIG,
		   "strata.ini:1:1: unknown section 'environment'");
	parse_fail("[env]\n", STRATA_ECONFIG,
		   "strata.ini:1:1: section [env] needs a name: [env \"NAME\"]");
	parse_fail("[strata \"x\"]\n", STRATA_ECONFIG,
		   "strata.ini:1:1: section [strata] takes no name (found "
		   "[strata \"x\"])");
	parse_fail("[env \"prod\"\n", STRATA_ECONFIG,
		   "strata.ini:1:1: invalid section header '[env \"prod\"' "
		   "(expected [NAME] or [env \"NAME\"])");
	parse_fail("[env \"prod]\n", STRATA_ECONFIG,
		   "strata.ini:1:1: unterminated quote in section header "
		   "'[env \"prod]'");
	parse_fail("[env \"prod\"] x\n", STRATA_ECONFIG,
		   "strata.ini:1:1: unexpected text after section header "
		   "'[env \"prod\"] x'");
}

static void test_config__long_env_name(void **state)
{
	(void)state;
	/* inih cuts section names at 49 characters: headers are ours */
	char name63[64], text[256];
	strata_config *cfg;

	memset(name63, 'a', 63);
	name63[63] = '\0';
	memcpy(name63, "a-very-long-environment-name", 28);
	snprintf(text, sizeof(text), "[env \"%s\"]\nnamespace = x\n", name63);
	cfg = parse_ok(text);
	assert_string_equal(cfg->envs[0].name, name63);
	assert_string_equal(cfg->envs[0].namespace, "x");
	strata_config_free(cfg);

	snprintf(text, sizeof(text), "[env \"%sb\"]\n", name63);
	strata_config *out = (strata_config *)1;
	strata_error err;
	strata_error_clear(&err);
	assert_int_equal(strata_config_parse(&out, "strata.ini", text,
					     strlen(text), &err),
			 STRATA_ECONFIG);
	assert_null(out);
	assert_int_equal(err.line, 1);
	assert_non_null(strstr(err.msg, "invalid environment name"));
	assert_non_null(strstr(err.msg, "at most 63 characters"));
}

static void test_config__long_lines(void **state)
{
	(void)state;
	/* 300 bytes: over Debian inih's default 200, which would cut the
	 * line and parse the rest as a new key */
	char *text = malloc(20000);
	char val[300 + 1], expect[128];
	strata_config *cfg;

	memset(val, 'v', 300);
	memcpy(val + 250, " x = injected", 13);
	val[300] = '\0';
	snprintf(text, 20000, "[env \"e\"]\nvar.LONG = %s\n", val);
	cfg = parse_ok(text);
	assert_int_equal(cfg->envs[0].vars.n, 1);
	assert_string_equal(strata_kvlist_get(&cfg->envs[0].vars, "LONG"), val);
	strata_config_free(cfg);

	/* 10,000 bytes: refused with its length */
	strcpy(text, "[env \"e\"]\n\nvar.LONG = ");
	size_t n = strlen(text);
	memset(text + n, 'x', 10000 - 11);
	text[n + 10000 - 11] = '\n';
	text[n + 10000 - 10] = '\0';
	parse_fail(text, STRATA_ECONFIG,
		   "strata.ini:3:1: line too long (10000 bytes, limit 8192)");

	/* the limit itself is accepted, one more byte is not */
	strcpy(text, "[env \"e\"]\nvar.X = ");
	n = strlen(text);
	memset(text + n, 'y', STRATA_CONFIG_MAX_LINE - 8);
	strcpy(text + n + STRATA_CONFIG_MAX_LINE - 8, "\r\n");
	cfg = parse_ok(text);
	assert_int_equal(strlen(strata_kvlist_get(&cfg->envs[0].vars, "X")),
			 STRATA_CONFIG_MAX_LINE - 8);
	strata_config_free(cfg);
	strcpy(text + n + STRATA_CONFIG_MAX_LINE - 8, "y");
	snprintf(expect, sizeof(expect),
		 "strata.ini:2:1: line too long (%d bytes, limit %d)",
		 STRATA_CONFIG_MAX_LINE + 1, STRATA_CONFIG_MAX_LINE);
	parse_fail(text, STRATA_ECONFIG, expect);
	free(text);
}

static void test_config__inline_comments(void **state)
{
	(void)state;
	strata_config *cfg = parse_ok(
		"# a comment\n"
		"; another\n"
		"  ; indented comment\n"
		"[env \"prod\"]   ; header comment\n"
		"namespace = shop-prod   ; the namespace\n"
		"name_prefix = prod-\t# tab then hash\n"
		"var.URL = http://x/#frag;y\n"
		"var.A = a;b#c\n");
	const strata_env_config *e = &cfg->envs[0];

	assert_string_equal(e->namespace, "shop-prod");
	assert_string_equal(e->name_prefix, "prod-");
	assert_string_equal(strata_kvlist_get(&e->vars, "URL"),
			    "http://x/#frag;y");
	assert_string_equal(strata_kvlist_get(&e->vars, "A"), "a;b#c");
	strata_config_free(cfg);
}

static void test_config__quoted_values(void **state)
{
	(void)state;
	strata_config *cfg = parse_ok(
		"[env \"prod\"]\n"
		"annotation.note = \"a: b # c ; d\"   ; a comment\n"
		"var.Q = \"say \\\"hi\\\" \\\\ \\t.\"\n"
		"var.E = \"\"\n"
		"image.localhost:5000/app = \"reg/app:1\"\n");
	const strata_env_config *e = &cfg->envs[0];

	assert_string_equal(strata_kvlist_get(&e->annotations, "note"), "a: b # c ; d");
	assert_string_equal(strata_kvlist_get(&e->vars, "Q"), "say \"hi\" \\ \t.");
	assert_string_equal(strata_kvlist_get(&e->vars, "E"), "");
	strata_config_free(cfg);
	parse_fail("[env \"prod\"]\nvar.A = \"open\n", STRATA_ECONFIG,
		   "strata.ini:2:9: unterminated quoted value");
	parse_fail("[env \"prod\"]\nvar.A = \"a\" b\n", STRATA_ECONFIG,
		   "strata.ini:2:13: unexpected text after the closing quote");
	parse_fail("[env \"prod\"]\nvar.A = \"\\q\"\n", STRATA_ECONFIG,
		   "strata.ini:2:10: unknown escape '\\q' in quoted value");
}

static void test_config__git_style_layout(void **state)
{
	(void)state;
	/* tab-indented keys, CRLF line ends and a UTF-8 BOM */
	strata_config *cfg = parse_ok("\xEF\xBB\xBF[env \"prod\"]\r\n"
				      "\tnamespace = shop\r\n"
				      "\tlabel.env = prod\r\n");
	assert_string_equal(cfg->envs[0].namespace, "shop");
	assert_kv(&cfg->envs[0].labels, 0, "env", "prod");
	assert_int_equal(cfg->envs[0].labels.items[0].line, 3);
	strata_config_free(cfg);
}

static void test_config__continuation_line(void **state)
{
	(void)state;
	parse_fail("[env \"prod\"]\n"
		   "overlay = overlays/a\n"
		   "  overlays/b\n",
		   STRATA_ECONFIG,
		   "strata.ini:3:1: continuation lines are not supported (write "
		   "the whole value on one line)");
	parse_fail("[env \"prod\"]\n"
		   "namespace\n",
		   STRATA_ECONFIG,
		   "strata.ini:2:1: expected 'key = value' or a [section] "
		   "header, found 'namespace'");
	parse_fail("[env \"prod\"]\nnamespace ; = x\n", STRATA_ECONFIG,
		   "strata.ini:2:1: expected 'key = value' or a [section] "
		   "header, found 'namespace ; = x'");
	parse_fail("[env \"prod\"]\n = x\n", STRATA_ECONFIG,
		   "strata.ini:2:1: missing key name before '='");
}

static void test_config__nul_byte(void **state)
{
	(void)state;
	static const char text[] = "[env \"prod\"]\nnamespace = a\0b\n";

	parse_fail_len(text, sizeof(text) - 1, STRATA_ECONFIG,
		       "strata.ini:2:14: NUL byte in line");
	parse_fail("[env \"prod\"]\nnamespace = a\x01\n", STRATA_ECONFIG,
		   "strata.ini:2:14: control character 0x01 in line");
}

static void test_config__label_keys(void **state)
{
	(void)state;
	strata_config *cfg = parse_ok(
		"[env \"e\"]\n"
		"label.app.kubernetes.io/part-of = shop\n"
		"label.example.com/a_b.c-d = x\n"
		"label.simple = \n"
		"annotation.example.com/owner = a b: c\n"
		"annotation.kubectl.kubernetes.io/last-applied = {}\n");
	const strata_env_config *e = &cfg->envs[0];

	assert_kv(&e->labels, 0, "app.kubernetes.io/part-of", "shop");
	assert_kv(&e->labels, 1, "example.com/a_b.c-d", "x");
	assert_kv(&e->labels, 2, "simple", "");
	assert_kv(&e->annotations, 0, "example.com/owner", "a b: c");
	assert_kv(&e->annotations, 1, "kubectl.kubernetes.io/last-applied",
		  "{}");
	strata_config_free(cfg);
}

static void test_config__invalid_label_keys(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"-bad", "bad-", "a/b/c", "Example.com/x", "/x", "x/",
		"a b", "exa_mple.com/x",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};
	char text[256];

	parse_fail("[env \"e\"]\nlabel. = x\n", STRATA_ECONFIG,
		   "strata.ini:2:1: empty label name in 'label.' (write "
		   "label.NAME = value)");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strata_config *out = (strata_config *)1;
		strata_error err;
		strata_error_clear(&err);
		snprintf(text, sizeof(text), "[env \"e\"]\nlabel.%s = x\n",
			 bad[i]);
		assert_int_equal(strata_config_parse(&out, "strata.ini", text,
						     strlen(text), &err),
				 STRATA_ECONFIG);
		assert_int_equal(err.line, 2);
		if (!strstr(err.msg, "invalid label key"))
			fail_msg("%s: %s", bad[i], err.msg);
		/* annotations share the key syntax */
		strata_error_clear(&err);
		snprintf(text, sizeof(text), "[env \"e\"]\nannotation.%s = x\n",
			 bad[i]);
		assert_int_equal(strata_config_parse(&out, "strata.ini", text,
						     strlen(text), &err),
				 STRATA_ECONFIG);
		if (!strstr(err.msg, "invalid annotation key"))
			fail_msg("%s: %s", bad[i], err.msg);
	}
	/* quotes are syntax ("prod" is prod); what is inside is checked */
	parse_fail("[env \"e\"]\nlabel.env = \"pr od\"\n", STRATA_ECONFIG,
		   "strata.ini:2:1: invalid value 'pr od' for label 'env': "
		   "at most 63 letters, digits, '-', '_' or '.', starting and "
		   "ending with a letter or digit");
}

static void test_config__vars_and_images(void **state)
{
	(void)state;
	parse_fail("[env \"e\"]\nvar. = 1\n", STRATA_ECONFIG,
		   "strata.ini:2:1: empty var name in 'var.' (write var.NAME = "
		   "value)");
	parse_fail("[env \"e\"]\nvar.1X = 1\n", STRATA_ECONFIG,
		   "strata.ini:2:1: invalid variable name '1X' (expected "
		   "[A-Za-z_][A-Za-z0-9_]*)");
	parse_fail("[env \"e\"]\nvar.A-B = 1\n", STRATA_ECONFIG,
		   "strata.ini:2:1: invalid variable name 'A-B' (expected "
		   "[A-Za-z_][A-Za-z0-9_]*)");
	parse_fail("[env \"e\"]\nimage.nginx =\n", STRATA_ECONFIG,
		   "strata.ini:2:1: invalid image '' for 'image.nginx' "
		   "(expected NAME[:TAG][@DIGEST], :TAG or @DIGEST)");
	parse_fail("[env \"e\"]\nimage.nginx = nginx:\n", STRATA_ECONFIG,
		   "strata.ini:2:1: invalid image 'nginx:' for 'image.nginx' "
		   "(expected NAME[:TAG][@DIGEST], :TAG or @DIGEST)");
	parse_fail("[env \"e\"]\nimage.nginx = nginx@\n", STRATA_ECONFIG,
		   "strata.ini:2:1: invalid image 'nginx@' for 'image.nginx' "
		   "(expected NAME[:TAG][@DIGEST], :TAG or @DIGEST)");

	strata_config *cfg = parse_ok(
		"[env \"e\"]\n"
		"image.a = new\n"
		"image.b = :1.2\n"
		"image.c = @sha256:0123\n"
		"image.d = reg:5000/x:2@sha256:0123\n"
		"image.e = reg:5000/x\n");
	assert_int_equal(cfg->envs[0].images.n, 5);
	assert_kv(&cfg->envs[0].images, 3, "d", "reg:5000/x:2@sha256:0123");
	strata_config_free(cfg);
}

static void test_config__env_names(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"--upload-pack=x", "../HEAD", "a..b", "x.lock", "", "-x",
		".x", "a/b", "a b", "x.", "a:b",
		"a234567890123456789012345678901234567890123456789012345678901234",
	};
	static const char *const good[] = {
		"prod", "prod-eu", "a.b", "A_1", "0", "x.locks",
		"a23456789012345678901234567890123456789012345678901234567890123",
	};
	char text[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strata_config *out = (strata_config *)1;
		strata_error err;
		if (strata_env_name_valid(bad[i]))
			fail_msg("'%s' accepted", bad[i]);
		strata_error_clear(&err);
		snprintf(text, sizeof(text), "[env \"%s\"]\n", bad[i]);
		assert_int_equal(strata_config_parse(&out, "strata.ini", text,
						     strlen(text), &err),
				 STRATA_ECONFIG);
		assert_null(out);
		assert_int_equal(err.line, 1);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!strata_env_name_valid(good[i]))
			fail_msg("'%s' refused", good[i]);
	assert_false(strata_env_name_valid(NULL));
	parse_fail("[env \"x.lock\"]\n", STRATA_ECONFIG,
		   "strata.ini:1:1: invalid environment name 'x.lock' (letters, "
		   "digits, '.', '_' and '-', starting with a letter or digit, "
		   "at most 63 characters, no '..', not ending in '.' or "
		   "'.lock')");
	parse_fail("[env \"a\"]\ninherit = ../HEAD\n", STRATA_ECONFIG,
		   "strata.ini:2:1: invalid environment name '../HEAD' in "
		   "'inherit'");
}

static void test_config__duplicates(void **state)
{
	(void)state;
	/* a key given twice is an error, not "later wins": in a long file the
	 * second one is usually a copy-paste slip */
	parse_fail("[env \"prod\"]\n"
		   "namespace = a\n"
		   "label.x = 1\n"
		   "namespace = b\n",
		   STRATA_ECONFIG,
		   "strata.ini:4:1: duplicate key 'namespace' in [env \"prod\"] "
		   "(first set at line 2)");
	parse_fail("[env \"prod\"]\n"
		   "label.x = 1\n"
		   "label.x = 2\n",
		   STRATA_ECONFIG,
		   "strata.ini:3:1: duplicate key 'label.x' in [env \"prod\"] "
		   "(first set at line 2)");
	parse_fail("[env \"prod\"]\n"
		   "overlay = a\n"
		   "overlay = b\n",
		   STRATA_ECONFIG,
		   "strata.ini:3:1: duplicate key 'overlay' in [env \"prod\"] "
		   "(first set at line 2; list several paths on one line, "
		   "separated by spaces)");
	parse_fail("[env \"prod\"]\n"
		   "allow_plaintext_secrets = 1\n"
		   "allow_plaintext_secrets = 0\n",
		   STRATA_ECONFIG,
		   "strata.ini:3:1: duplicate key 'allow_plaintext_secrets' in "
		   "[env \"prod\"] (first set at line 2)");
	/* [strata] may be repeated, its keys may not */
	parse_fail("[strata]\nbase = a\n[env \"x\"]\n[strata]\nbase = b\n",
		   STRATA_ECONFIG,
		   "strata.ini:5:1: duplicate key 'base' in [strata] (first set "
		   "at line 2)");
	parse_fail("[env \"prod\"]\n"
		   "[env \"dev\"]\n"
		   "[env \"prod\"]\n",
		   STRATA_ECONFIG,
		   "strata.ini:3:1: duplicate section [env \"prod\"] (first at "
		   "line 1)");
}

static void test_config__paths(void **state)
{
	(void)state;
	parse_fail("[strata]\nbase = /etc\n", STRATA_ECONFIG,
		   "strata.ini:2:1: invalid path '/etc' in 'base': it is "
		   "absolute (paths are relative to the repository)");
	parse_fail("[strata]\nbase = a/../../b\n", STRATA_ECONFIG,
		   "strata.ini:2:1: invalid path 'a/../../b' in 'base': it has a "
		   "'..' component (paths must stay inside the repository)");
	parse_fail("[env \"e\"]\noverlay = ok ../x\n", STRATA_ECONFIG,
		   "strata.ini:2:1: invalid path '../x' in 'overlay': it has a "
		   "'..' component (paths must stay inside the repository)");
	parse_fail("[env \"e\"]\noverlay = a/..\n", STRATA_ECONFIG,
		   "strata.ini:2:1: invalid path 'a/..' in 'overlay': it has a "
		   "'..' component (paths must stay inside the repository)");
	parse_fail("[strata]\nbase =\n", STRATA_ECONFIG,
		   "strata.ini:2:1: invalid path '' in 'base': it is empty");
}

static void test_config__values(void **state)
{
	(void)state;
	parse_fail("[strata]\nlayout = tree\n", STRATA_ECONFIG,
		   "strata.ini:2:1: invalid layout 'tree' (expected 'files' or "
		   "'stream')");
	parse_fail("[strata]\nbranch = main\n", STRATA_ECONFIG,
		   "strata.ini:2:1: branch template 'main' must contain {env} "
		   "(each environment needs its own branch)");
	parse_fail("[env \"e\"]\nallow_plaintext_secrets = maybe\n",
		   STRATA_ECONFIG,
		   "strata.ini:2:1: invalid boolean 'maybe' for "
		   "'allow_plaintext_secrets' (expected true, false, yes, no, 1 "
		   "or 0)");
	parse_fail("[env \"e\"]\nnamespace = Shop\n", STRATA_ECONFIG,
		   "strata.ini:2:1: invalid namespace 'Shop' (lowercase letters, "
		   "digits and '-', starting and ending with a letter or digit, "
		   "at most 63 characters)");
	parse_fail("[env \"e\"]\nname_prefix = Prod_\n", STRATA_ECONFIG,
		   "strata.ini:2:1: invalid name_prefix 'Prod_' (lowercase "
		   "letters, digits, '-' and '.')");

	strata_config *cfg = parse_ok("[env \"a\"]\nallow_plaintext_secrets = "
				      "FALSE\n[env \"b\"]\n"
				      "allow_plaintext_secrets = True\n");
	assert_int_equal(cfg->envs[0].allow_plaintext_secrets, 0);
	assert_int_equal(cfg->envs[1].allow_plaintext_secrets, 1);
	strata_config_free(cfg);
}

static void test_config__branches(void **state)
{
	(void)state;
	parse_fail("[env \"a\"]\nbranch = shared\n[env \"b\"]\nbranch = shared\n",
		   STRATA_ECONFIG,
		   "strata.ini:4:1: environments 'a' and 'b' both publish to "
		   "branch 'shared'");
	parse_fail("[env \"a\"]\nbranch = bad..name\n", STRATA_ECONFIG,
		   "strata.ini:2:1: invalid branch name 'bad..name' for "
		   "environment 'a'");
	parse_fail("[env \"a\"]\nbranch = x.lock/y\n", STRATA_ECONFIG,
		   "strata.ini:2:1: invalid branch name 'x.lock/y' for "
		   "environment 'a'");

	strata_config *cfg = parse_ok("[env \"a\"]\nbranch = release/{env}-{env}\n");
	strata_env *env = env_ok(cfg, "a");
	char *b = strata_config_branch(cfg, env);
	assert_string_equal(b, "release/a-a");
	free(b);
	strata_env_free(env);
	strata_config_free(cfg);
}

/* The check rule config.c names for the error text produces. */
static void assert_rule_len(const char *text, size_t len, const char *rule)
{
	strata_config *cfg = NULL;
	strata_error err;

	strata_error_clear(&err);
	assert_int_equal(strata_config_parse(&cfg, "strata.ini", text, len, &err),
			 STRATA_ECONFIG);
	assert_null(cfg);
	if (!err.rule || strcmp(err.rule, rule) != 0)
		fail_msg("%s: rule %s, wanted %s", err.msg,
			 err.rule ? err.rule : "(none)", rule);
}

static void assert_rule(const char *text, const char *rule)
{
	assert_rule_len(text, strlen(text), rule);
}

/*
 * Every strata.ini error names its `strata check` rule where it is made:
 * check used to guess it from the message, so rewording one (or a value
 * quoted in it) changed the rule users see.
 */
static void test_config__rule_ids(void **state)
{
	static const struct {
		const char *text, *rule;
	} cases[] = {
		{ "[strata]\nbsae = x\n", "ini-unknown-key" },
		{ "namespace = x\n", "ini-unknown-key" },
		{ "[publsh]\n", "ini-unknown-section" },
		{ "[strata \"x\"]\n", "ini-unknown-section" },
		{ "[env \"a\"]\ninherit = b\n[env \"b\"]\ninherit = a\n",
		  "ini-inherit-cycle" },
		{ "[env \"a\"]\ninherit = zz\n", "ini-unknown-parent" },
		{ "[env \"a..b\"]\n", "ini-env-name" },
		{ "[env]\n", "ini-env-name" },
		{ "[env \"a\"]\ninherit = -x\n", "ini-env-name" },
		{ "[strata]\nbranch = fixed\n", "ini-branch" },
		{ "[env \"a\"]\nbranch = s\n[env \"b\"]\nbranch = s\n", "ini-branch" },
		{ "[env \"a\"]\nbranch = bad..name\n", "ini-branch" },
		{ "[strata]\nbase = /abs\n", "ini-path" },
		{ "[diff]\nignore = a ../b\n", "ini-path" },
		{ "[env \"a\"]\nnamespace = x\nnamespace = y\n", "ini-duplicate" },
		{ "[env \"a\"]\n[env \"a\"]\n", "ini-duplicate" },
		{ "[env \"a\"]\noverlay = o o/\n", "ini-overlay-twice" },
		{ "[strata]\nlayout = tree\n", "ini-syntax" },
		{ "[env \"a\"]\nvar.A = \"open\n", "ini-syntax" },
		{ "[env \"a\"]\n = x\n", "ini-syntax" },
		{ "[env \"a\"\n", "ini-syntax" },
		/* messages whose words once picked another rule */
		{ "[strata]\nbranch = a/{env}\nbranch = b/{env}\n", "ini-duplicate" },
		{ "[env \"branch\"]\n[env \"branch\"]\n", "ini-duplicate" },
		{ "[env \"a\"]\noverlay = o\noverlay = p\n", "ini-duplicate" },
		{ "[env \"a\"]\nlabel.app = invalid path\n", "ini-syntax" },
		{ "[env \"a\"]\nlabel.app = unknown key\n", "ini-syntax" },
		{ "[env \"a\"]\nnamespace = branch_x\n", "ini-syntax" },
	};
	char nul[] = "[env \"a\"]\nnamespace = a\0b\n";
	char *longline;
	size_t n;
	strata_config *cfg;
	strata_env *env = NULL;
	strata_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_rule(cases[i].text, cases[i].rule);
	assert_rule_len(nul, sizeof(nul) - 1, "ini-syntax");

	longline = malloc(STRATA_CONFIG_MAX_LINE + 32);
	assert_non_null(longline);
	strcpy(longline, "[env \"a\"]\nvar.A = ");
	n = strlen(longline);
	memset(longline + n, 'x', STRATA_CONFIG_MAX_LINE);
	longline[n + STRATA_CONFIG_MAX_LINE] = '\0';
	assert_rule(longline, "ini-line-too-long");
	free(longline);

	/* resolving an environment the file does not define */
	cfg = parse_ok("[env \"prod\"]\n");
	strata_error_clear(&err);
	assert_int_equal(strata_config_env(&env, cfg, "prd", &err), STRATA_ENOTFOUND);
	assert_null(env);
	assert_non_null(err.rule);
	assert_string_equal(err.rule, "unknown-env");

	/* the first error keeps its rule; clearing forgets it */
	strata_error_set_rule(&err, "ini-syntax", STRATA_ECONFIG, NULL, 0, 0, "later");
	strata_error_set(&err, STRATA_ECONFIG, NULL, 0, 0, "later");
	assert_string_equal(err.rule, "unknown-env");
	assert_int_equal(err.code, STRATA_ENOTFOUND);
	strata_error_clear(&err);
	assert_null(err.rule);
	/* an error recorded without a rule does not take a later one's */
	strata_error_set(&err, STRATA_ECONFIG, NULL, 0, 0, "first");
	strata_error_set_rule(&err, "ini-syntax", STRATA_ECONFIG, NULL, 0, 0, "later");
	assert_null(err.rule);
	assert_string_equal(err.msg, "first");
	strata_config_free(cfg);
}

static void test_config__free_null(void **state)
{
	(void)state;
	strata_config_free(NULL);
	strata_env_free(NULL);
	assert_null(strata_kvlist_get(NULL, "x"));
	assert_null(strata_config_find(NULL, "x"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config__every_key),
		cmocka_unit_test(test_config__defaults),
		cmocka_unit_test(test_config__inherit_chain),
		cmocka_unit_test(test_config__empty_values_clear_inherited),
		cmocka_unit_test(test_config__overlay_paths_tidied),
		cmocka_unit_test(test_config__overlay_twice),
		cmocka_unit_test(test_config__inherit_cycle),
		cmocka_unit_test(test_config__inherit_unknown_parent),
		cmocka_unit_test(test_config__unknown_env),
		cmocka_unit_test(test_config__unknown_key_did_you_mean),
		cmocka_unit_test(test_config__unknown_section),
		cmocka_unit_test(test_config__long_env_name),
		cmocka_unit_test(test_config__long_lines),
		cmocka_unit_test(test_config__inline_comments),
		cmocka_unit_test(test_config__quoted_values),
		cmocka_unit_test(test_config__git_style_layout),
		cmocka_unit_test(test_config__continuation_line),
		cmocka_unit_test(test_config__nul_byte),
		cmocka_unit_test(test_config__label_keys),
		cmocka_unit_test(test_config__invalid_label_keys),
		cmocka_unit_test(test_config__vars_and_images),
		cmocka_unit_test(test_config__env_names),
		cmocka_unit_test(test_config__duplicates),
		cmocka_unit_test(test_config__paths),
		cmocka_unit_test(test_config__values),
		cmocka_unit_test(test_config__branches),
		cmocka_unit_test(test_config__rule_ids),
		cmocka_unit_test(test_config__free_null),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
