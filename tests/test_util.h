/*
 * test_util.h - what several cmocka programs share: a scratch repository
 * directory (root, made by each program's setup) and put(), which writes a
 * file below it, making its directories.  Include after <cmocka.h>.
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

#endif
