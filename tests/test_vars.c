/*
 * test_vars.c - variable substitution: the forms, the escape, style
 * keeping, ${X:=...} definitions, and errors listing every place.
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

/* Substitute one string; returns the rc, result in *out (malloc'ed). */
static int sub(char **out, const char *s, strata_kvlist *vars, bool *changed,
	       strata_buf *undef)
{
	strata_buf b = STRATA_BUF_INIT;
	int rc = strata_vars_subst(&b, s, strlen(s), vars, changed, undef);

	*out = strata_buf_detach(&b, NULL);
	if (!*out)
		*out = strdup("");
	return rc;
}

static void expect(strata_kvlist *vars, const char *in, const char *want)
{
	char *got;
	bool changed;

	assert_int_equal(sub(&got, in, vars, &changed, NULL), 0);
	assert_string_equal(got, want);
	free(got);
}

static void test_vars__forms(void **state)
{
	strata_kvlist v = { 0 };

	(void)state;
	kv_add(&v, "A", "alpha");
	kv_add(&v, "EMPTY", "");
	kv_add(&v, "_x1", "u");
	expect(&v, "${A}", "alpha");
	expect(&v, "pre-${A}-post", "pre-alpha-post");
	expect(&v, "${A}${A}", "alphaalpha");
	expect(&v, "${_x1}", "u");
	expect(&v, "${EMPTY}", "");
	expect(&v, "${A:-d}", "alpha");
	expect(&v, "${NOPE:-d}", "d");
	expect(&v, "${EMPTY:-d}", "d");      /* empty counts as unset, like sh */
	expect(&v, "${NOPE:-}", "");
	expect(&v, "${NOPE:-a b: c}", "a b: c");
	expect(&v, "${NOPE:-${A}}", "alpha"); /* nested default */
	expect(&v, "${NOPE:-x${NOPE2:-y}z}", "xyz");
	kv_free(&v);
}

static void test_vars__literal_dollars(void **state)
{
	strata_kvlist v = { 0 };
	char *got;
	bool changed = true;

	(void)state;
	kv_add(&v, "A", "alpha");
	expect(&v, "$${A}", "${A}");
	expect(&v, "$${A} and ${A}", "${A} and alpha");
	expect(&v, "$A $ $$ a$", "$A $ $$ a$");
	expect(&v, "cost: 5$", "cost: 5$");
	expect(&v, "$${NOT_DEFINED}", "${NOT_DEFINED}");

	assert_int_equal(sub(&got, "no $ref here", &v, &changed, NULL), 0);
	assert_false(changed);
	free(got);
	assert_int_equal(sub(&got, "$${A}", &v, &changed, NULL), 0);
	assert_true(changed);
	free(got);
	kv_free(&v);
}

static void test_vars__assign_defines(void **state)
{
	strata_kvlist v = { 0 };

	(void)state;
	kv_add(&v, "EMPTY", "");
	expect(&v, "${X:=first}", "first");
	assert_string_equal(strata_kvlist_get(&v, "X"), "first");
	expect(&v, "${X}", "first");
	expect(&v, "${X:=second}", "first"); /* defined now: not reassigned */
	expect(&v, "${EMPTY:=filled}", "filled");
	expect(&v, "${EMPTY}", "filled");
	kv_free(&v);
}

static void test_vars__undefined_and_syntax(void **state)
{
	strata_kvlist v = { 0 };
	strata_buf undef = STRATA_BUF_INIT;
	char *got;
	bool changed;

	(void)state;
	assert_int_equal(sub(&got, "${NOPE}", &v, &changed, NULL), STRATA_EUNDEFVAR);
	free(got);
	assert_int_equal(sub(&got, "a${U1}b${U2}", &v, &changed, &undef), 0);
	free(got);
	assert_int_equal(undef.len, strlen("U1") + 1 + strlen("U2") + 1);
	assert_string_equal(undef.ptr, "U1");
	assert_string_equal(undef.ptr + 3, "U2");
	strata_buf_free(&undef);

	assert_int_equal(sub(&got, "${A", &v, &changed, NULL), STRATA_EPARSE);
	free(got);
	assert_int_equal(sub(&got, "x ${", &v, &changed, NULL), STRATA_EPARSE);
	free(got);
	assert_int_equal(sub(&got, "${}", &v, &changed, NULL), STRATA_EPARSE);
	free(got);
	assert_int_equal(sub(&got, "${1A}", &v, &changed, NULL), STRATA_EPARSE);
	free(got);
	assert_int_equal(sub(&got, "${A B}", &v, &changed, NULL), STRATA_EPARSE);
	free(got);
	assert_int_equal(sub(&got, "${A-x}", &v, &changed, NULL), STRATA_EPARSE);
	free(got);
	assert_int_equal(sub(&got, "${A:-x", &v, &changed, NULL), STRATA_EPARSE);
	free(got);
	kv_free(&v);
}

/* ---- over a resource set ---- */

static void test_vars__keeps_style(void **state)
{
	fixture *f = *state;
	strata_kvlist v = { 0 };
	strata_node *root, *n;
	strata_buf out = STRATA_BUF_INIT;

	kv_add(&v, "REPLICAS", "3");
	kv_add(&v, "FLAG", "yes");
	kv_add(&v, "TEXT", "a: b");
	kv_add(&v, "APP", "web");
	load_file(f, "base/web.yaml",
	          "apiVersion: apps/v1\n"
	          "kind: Deployment\n"
	          "metadata:\n"
	          "  name: ${APP}\n"
	          "  labels:\n"
	          "    ${APP}: key-not-substituted\n"
	          "spec:\n"
	          "  replicas: ${REPLICAS}\n"
	          "  quoted: \"${REPLICAS}\"\n"
	          "  single: '${REPLICAS}'\n"
	          "  flag: ${FLAG}\n"
	          "  text: ${TEXT}\n"
	          "  block: |\n"
	          "    line ${APP}\n"
	          "  list:\n"
	          "  - ${APP}\n"
	          "  - $${APP}\n");
	assert_int_equal(strata_transform_vars(f->a, f->s, &v, &f->err), 0);
	assert_int_equal(f->err.code, 0);
	root = doc(f, "Deployment", "web"); /* identity follows the rename */
	assert_non_null(strata_resset_find(f->s, "apps", "Deployment", "", "web"));

	n = strata_node_at(root, "spec", "replicas", NULL);
	assert_string_equal(strata_scalar_str(n), "3");
	assert_int_equal(strata_scalar_kind_of(n), STRATA_SCALAR_INT);
	n = strata_node_at(root, "spec", "quoted", NULL);
	assert_string_equal(strata_scalar_str(n), "3");
	assert_int_equal(strata_scalar_kind_of(n), STRATA_SCALAR_STR);
	assert_int_equal(n->style, STRATA_STYLE_DOUBLE);
	n = strata_node_at(root, "spec", "single", NULL);
	assert_int_equal(n->style, STRATA_STYLE_SINGLE);
	n = strata_node_at(root, "spec", "flag", NULL);
	assert_int_equal(strata_scalar_kind_of(n), STRATA_SCALAR_BOOL);
	n = strata_node_at(root, "spec", "text", NULL);
	assert_string_equal(strata_scalar_str(n), "a: b");
	assert_int_equal(n->style, STRATA_STYLE_PLAIN);
	n = strata_node_at(root, "spec", "block", NULL);
	assert_string_equal(strata_scalar_str(n), "line web\n");
	assert_int_equal(n->style, STRATA_STYLE_LITERAL);
	n = strata_node_at(root, "spec", "list", NULL);
	assert_string_equal(strata_scalar_str(n->u.seq.items[0]), "web");
	assert_string_equal(strata_scalar_str(n->u.seq.items[1]), "${APP}");
	/* keys are never substituted */
	assert_non_null(strata_node_at(root, "metadata", "labels", "${APP}", NULL));

	/* a plain result that is not plain-safe is quoted by the emitter,
	 * and still reads back as the same string */
	assert_int_equal(strata_yaml_emit(&out, root), 0);
	assert_non_null(strstr(out.ptr, "replicas: 3\n"));
	assert_non_null(strstr(out.ptr, "quoted: \"3\"\n"));
	assert_null(strstr(out.ptr, "text: a: b"));
	{
		strata_yaml_doc *docs;
		size_t nd;
		assert_int_equal(strata_yaml_load(&docs, &nd, f->a, "out", out.ptr, out.len,
						  NULL, &f->err), 0);
		assert_string_equal(strata_scalar_str(strata_node_at(docs[0].root, "spec",
								     "text", NULL)),
				    "a: b");
	}
	strata_buf_free(&out);
	kv_free(&v);
}

static void test_vars__undefined_lists_every_place(void **state)
{
	fixture *f = *state;
	strata_kvlist v = { 0 };

	load_file(f, "base/web.yaml",
	          "apiVersion: v1\n"
	          "kind: ConfigMap\n"
	          "metadata:\n"
	          "  name: web\n"
	          "data:\n"
	          "  a: ${REGION}\n"
	          "  b: x-${REGION}-${REGION}\n"
	          "  c: ${ZONE:-z}\n");
	load_file(f, "overlays/prod/x.yaml",
	          "apiVersion: v1\n"
	          "kind: ConfigMap\n"
	          "metadata:\n"
	          "  name: other\n"
	          "data:\n"
	          "  region: r-${REGION}\n"
	          "  zone: ${ZONE2}\n");
	assert_int_equal(strata_transform_vars(f->a, f->s, &v, &f->err), STRATA_EUNDEFVAR);
	assert_int_equal(f->err.code, STRATA_EUNDEFVAR);
	assert_string_equal(f->err.file, "base/web.yaml");
	assert_int_equal(f->err.line, 6);
	assert_int_equal(f->err.col, 6);
	assert_string_equal(f->err.msg,
			    "undefined variable 'REGION' (used at base/web.yaml:6:6, "
			    "base/web.yaml:7:6, overlays/prod/x.yaml:6:11); "
			    "undefined variable 'ZONE2' (used at overlays/prod/x.yaml:7:9)");
	kv_free(&v);
}

static void test_vars__undefined_list_is_capped(void **state)
{
	fixture *f = *state;
	strata_kvlist v = { 0 };
	strata_buf y = STRATA_BUF_INIT;

	strata_buf_puts(&y, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: m\ndata:\n");
	for (int i = 0; i < 25; i++)
		strata_buf_printf(&y, "  k%d: ${GONE}\n", i);
	load_file(f, "m.yaml", y.ptr);
	assert_int_equal(strata_transform_vars(f->a, f->s, &v, &f->err), STRATA_EUNDEFVAR);
	assert_non_null(strstr(f->err.msg, "m.yaml:25:8 and 5 more)"));
	assert_null(strstr(f->err.msg, "m.yaml:26:"));
	strata_buf_free(&y);
	kv_free(&v);
}

static void test_vars__assign_carries_to_later_resources(void **state)
{
	fixture *f = *state;
	strata_kvlist v = { 0 };

	kv_add(&v, "KEEP", "");
	load_file(f, "a.yaml",
	          "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
	          "data: {x: \"${TIER:=gold}\", y: \"${KEEP:=k}\"}\n"
	          "---\n"
	          "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n"
	          "data: {x: \"${TIER}\", y: \"${KEEP}\"}\n");
	assert_int_equal(strata_transform_vars(f->a, f->s, &v, &f->err), 0);
	assert_string_equal(strata_scalar_str(strata_node_at(doc(f, "ConfigMap", "b"),
							     "data", "x", NULL)), "gold");
	assert_string_equal(strata_scalar_str(strata_node_at(doc(f, "ConfigMap", "b"),
							     "data", "y", NULL)), "k");
	/* the environment's own list is left as configured */
	assert_null(strata_kvlist_get(&v, "TIER"));
	assert_string_equal(strata_kvlist_get(&v, "KEEP"), "");
	kv_free(&v);
}

static void test_vars__unterminated_is_positioned(void **state)
{
	fixture *f = *state;
	strata_kvlist v = { 0 };

	kv_add(&v, "A", "1");
	load_file(f, "base/cm.yaml",
	          "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n"
	          "  ok: ${A}\n"
	          "  bad: x ${A\n");
	assert_int_equal(strata_transform_vars(f->a, f->s, &v, &f->err), STRATA_EPARSE);
	assert_string_equal(f->err.file, "base/cm.yaml");
	assert_int_equal(f->err.line, 6);
	assert_int_equal(f->err.col, 8);
	assert_string_equal(f->err.msg, "unterminated variable reference '${A' "
			    "(write $${ for a literal ${)");

	strata_error_clear(&f->err);
	f->s = strata_resset_new(f->a);
	load_file(f, "base/cm2.yaml",
	          "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata:\n"
	          "  bad: ${A B}\n");
	assert_int_equal(strata_transform_vars(f->a, f->s, &v, &f->err), STRATA_EPARSE);
	assert_string_equal(f->err.file, "base/cm2.yaml");
	assert_int_equal(f->err.line, 5);
	assert_int_equal(f->err.col, 8);
	assert_string_equal(f->err.msg, "invalid variable reference '${A B}' "
			    "(write $${ for a literal ${)");
	kv_free(&v);
}

static void test_vars__skips_deleted_and_unchanged(void **state)
{
	fixture *f = *state;
	strata_kvlist v = { 0 };
	strata_node *before;

	load_file(f, "a.yaml",
	          "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: \"${GONE}\"}\n"
	          "---\n"
	          "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: {x: plain, y: $5}\n");
	strata_resset_delete(f->s, strata_resset_at(f->s, 0));
	before = strata_node_at(doc(f, "ConfigMap", "b"), "data", "y", NULL);
	const char *text = before->u.scalar.str;
	assert_int_equal(strata_transform_vars(f->a, f->s, &v, &f->err), 0);
	assert_ptr_equal(before->u.scalar.str, text); /* untouched, not rewritten */
	kv_free(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vars__forms),
		cmocka_unit_test(test_vars__literal_dollars),
		cmocka_unit_test(test_vars__assign_defines),
		cmocka_unit_test(test_vars__undefined_and_syntax),
		cmocka_unit_test_setup_teardown(test_vars__keeps_style, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vars__undefined_lists_every_place,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_vars__undefined_list_is_capped, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vars__assign_carries_to_later_resources,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_vars__unterminated_is_positioned, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vars__skips_deleted_and_unchanged, setup,
						teardown),
	};

	return fixture_run("vars", tests);
}
