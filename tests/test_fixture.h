/*
 * test_fixture.h - what the transform and vars tests share: a resource
 * set in an arena (the fixture: setup makes it, teardown frees it), YAML
 * loaded into it as resources, a resource's document found by kind and
 * name, and a kvlist built by hand.  Include after <cmocka.h>.
 */
#ifndef STRATA_TEST_FIXTURE_H
#define STRATA_TEST_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "strata/resource.h"
#include "strata/yaml.h"
#include "test_kv.h"

typedef struct fixture {
	strata_arena *a;
	strata_resset *s;
	strata_error err;
	strata_kvlist kv; /* freed by teardown */
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->a = strata_arena_new();
	f->s = strata_resset_new(f->a);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

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

#endif
