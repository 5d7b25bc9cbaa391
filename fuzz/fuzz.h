/*
 * fuzz.h - what the libFuzzer targets share: the entry point every target
 * defines, the limits they load with, and a crash that says which
 * invariant broke.  Each target is also built without libFuzzer (with
 * standalone.c) to replay corpora and regressions in ordinary test runs.
 */
#ifndef STRATA_FUZZ_H
#define STRATA_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Small enough that one input never takes long, large enough for real YAML. */
static inline void fuzz_limits(strata_limits *lim)
{
	strata_limits_default(lim);
	lim->max_alias_nodes = 20000;
	lim->max_scalar = 1 << 20;
	lim->max_file = 4 << 20;
}

/* An invariant broke: say which and crash (libFuzzer saves the input). */
#define FUZZ_ASSERT(cond)                                                        \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, \
				__LINE__, #cond);                                \
			abort();                                                 \
		}                                                                \
	} while (0)

/*
 * Split data at the first "\n---%\n" line (a separator no real YAML
 * document uses) into two parts; *b is NULL when there is none.
 */
static inline void fuzz_split(const uint8_t *data, size_t size, const char **a,
			      size_t *alen, const char **b, size_t *blen)
{
	static const char sep[] = "\n---%\n";
	const size_t sl = sizeof(sep) - 1;

	*a = (const char *)data;
	*alen = size;
	*b = NULL;
	*blen = 0;
	for (size_t i = 0; i + sl <= size; i++) {
		if (data[i] == '\n' && !memcmp(data + i, sep, sl)) {
			*alen = i + 1;
			*b = (const char *)data + i + sl;
			*blen = size - i - sl;
			return;
		}
	}
}

#endif
