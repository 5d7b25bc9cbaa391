/*
 * test_kv.h - building and freeing a strata_kvlist (what strata.ini's
 * image., label., var. ... keys become) by hand, for the tests and the
 * fuzz targets.  No cmocka here: the fuzz targets include it too.
 */
#ifndef STRATA_TEST_KV_H
#define STRATA_TEST_KV_H

#include <stdlib.h>
#include <string.h>

#include "strata/config.h"

/*
 * Append key[0..kl) = value[0..vl), from strata.ini line `line`.
 * Returns 0, or -1 (nothing appended) when out of memory.
 */
static inline int kv_append(strata_kvlist *l, const char *key, size_t kl,
			    const char *value, size_t vl, int line)
{
	strata_kv *kv;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		strata_kv *items = realloc(l->items, cap * sizeof(*items));

		if (!items)
			return -1;
		l->items = items;
		l->cap = cap;
	}
	kv = &l->items[l->n];
	kv->key = strndup(key, kl);
	kv->value = strndup(value, vl);
	if (!kv->key || !kv->value) {
		free(kv->key);
		free(kv->value);
		return -1;
	}
	kv->line = line;
	l->n++;
	return 0;
}

/* Free every pair and the list's array; *l is left empty. */
static inline void kv_free(strata_kvlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].key);
		free(l->items[i].value);
	}
	free(l->items);
	memset(l, 0, sizeof(*l));
}

#endif
