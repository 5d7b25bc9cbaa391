/*
 * test_util.h - what several cmocka programs share: a scratch repository
 * directory (root, made by each program's setup, root_make() makes one),
 * put(), which writes a file below it, making its directories, and
 * root_teardown(), a group teardown removing it.  Include after <cmocka.h>.
 */
#ifndef STRATA_TEST_UTIL_H
#define STRATA_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>

static char root[256];

static void put(const char *rel, const char *text)
{
	char path[512], cmd[700];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	assert_int_equal(system(cmd), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Make root a fresh, empty directory /tmp/strata-test-<name>-XXXXXX. */
static inline void root_make(const char *name)
{
	snprintf(root, sizeof(root), "/tmp/strata-test-%s-XXXXXX", name);
	assert_non_null(mkdtemp(root));
}

/* A group teardown: remove root and everything below it. */
static inline int root_teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

#endif
