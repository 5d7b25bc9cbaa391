/*
 * test_fixture.h - what the transform and vars tests share: a resource
 * set in an arena (the fixture: setup makes it, teardown frees it), YAML
 * loaded into it as resources, a resource's document found by kind and
 * name, and a kvlist built by hand.  Include after <cmocka.h>.
 *
 * With fixture_cow set, the arena is copy-on-write (doc.h), as a render's
 * is: the tests then check the transforms' results in the copies, and
 * teardown checks that every loaded document is still what was loaded.
 * Each suite runs its tests both ways (fixture_run).
 */
#ifndef STRATA_TEST_FIXTURE_H
#define STRATA_TEST_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "strata/resource.h"
#include "strata/yaml.h"
#include "test_kv.h"

#define FIXTURE_MAX_DOCS 64

static bool fixture_cow;

typedef struct fixture {
	strata_arena *a;
	strata_resset *s;
	strata_error err;
	strata_kvlist kv; /* freed by teardown */
	/* copy-on-write: the loaded documents and their text as loaded */
	const strata_node *loaded[FIXTURE_MAX_DOCS];
	char *loaded_text[FIXTURE_MAX_DOCS];
	size_t n_loaded;
} fixture;

static char *fixture_emit(const strata_node *n)
{
	strata_buf b = STRATA_BUF_INIT;

	assert_int_equal(strata_yaml_emit(&b, n), 0);
	return strata_buf_detach(&b, NULL);
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->a = strata_arena_new();
	f->s = strata_resset_new(f->a);
	strata_arena_set_cow(f->a, fixture_cow);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	for (size_t i = 0; i < f->n_loaded; i++) {
		char *now = fixture_emit(f->loaded[i]);

		if (strcmp(now, f->loaded_text[i]))
			fail_msg("copy-on-write: a loaded document was edited:\n%s"
				 "--- now:\n%s", f->loaded_text[i], now);
		free(now);
		free(f->loaded_text[i]);
	}
	kv_free(&f->kv);
	strata_arena_free(f->a);
	free(f);
	return 0;
}

/* Add every document of yaml, read as the file `file`, to the set. */
static void load_file(fixture *f, const char *file, const char *yaml)
{
	strata_yaml_doc *docs;
	size_t n;

	assert_int_equal(strata_yaml_load(&docs, &n, f->a, file, yaml, strlen(yaml),
					  NULL, &f->err), 0);
	for (size_t i = 0; i < n; i++) {
		strata_resource r;
		if (fixture_cow) {
			assert_true(f->n_loaded < FIXTURE_MAX_DOCS);
			f->loaded[f->n_loaded] = docs[i].root;
			f->loaded_text[f->n_loaded++] = fixture_emit(docs[i].root);
		}
		assert_int_equal(strata_resource_init(&r, f->a, docs[i].root, file,
						      docs[i].line, docs[i].col, &f->err), 0);
		assert_int_equal(strata_resset_add(f->s, &r, NULL, &f->err), 0);
	}
}

/* The document of the live resource with this kind and (current) name. */
static strata_node *doc(fixture *f, const char *kind, const char *name)
{
	for (size_t i = 0; i < strata_resset_count(f->s); i++) {
		strata_resource *r = strata_resset_at(f->s, i);
		if (!r->deleted && !strcmp(r->kind, kind) && !strcmp(r->name, name))
			return r->root;
	}
	fail_msg("no %s '%s'", kind, name);
	return NULL;
}

/* Append k = v, as if strata.ini listed the pairs from line 7 on. */
static void kv_add(strata_kvlist *l, const char *k, const char *v)
{
	assert_int_equal(kv_append(l, k, strlen(k), v, strlen(v), (int)l->n + 7), 0);
}

/* Run the tests in place, then copy-on-write: the two must agree. */
#define fixture_run(name, tests)                                           \
	(fixture_cow = false,                                              \
	 cmocka_run_group_tests_name(name, tests, NULL, NULL) |            \
		 (fixture_cow = true,                                      \
		  cmocka_run_group_tests_name(name " (copy-on-write)", tests, \
					      NULL, NULL)))

#endif
