/*
 * yaml_load.h - strata_yaml_load (yaml.h) with a parser kept between
 * files.
 *
 * Creating a libfyaml parser and its diagnostics for every file cost 5 to
 * 9% of parsing the files of a render of 100 apps (a few hundred bytes to
 * a few KB each).  A loader that parses file after file on one thread
 * (load.c) keeps one strata_yaml_parser: a parser that finished a file
 * cleanly is reset (fy_parser_reset) and used for the next; one that
 * stopped on an error, or whose diagnostics collected anything, is
 * destroyed as before, and the next file gets a new one.
 */
#ifndef STRATA_YAML_LOAD_H
#define STRATA_YAML_LOAD_H

#include "strata/yaml.h"

struct fy_parser;
struct fy_diag;

typedef struct strata_yaml_parser {
	struct fy_parser *p;    /* NULL: none kept */
	struct fy_diag *diag;
} strata_yaml_parser;

/* strata_yaml_load, reusing and keeping *ps (zeroed to start; one thread). */
int strata_yaml_load_with(strata_yaml_parser *ps, strata_yaml_doc **out_docs,
			  size_t *out_n, strata_arena *a, const char *file,
			  const char *buf, size_t len, const strata_limits *lim,
			  strata_error *err);

/* Destroy what *ps keeps; it may be used again after. */
void strata_yaml_parser_free(strata_yaml_parser *ps);

/*
 * Parse a small built-in document and throw it away: a helper thread
 * does it when it starts (pool.c), while the caller still reads
 * strata.ini and lists the files, so the parser's code is mapped and the
 * thread's malloc arena made before its first file.  0 when the document
 * parsed (it always should: test_yaml checks).
 */
int strata_yaml_warm(void);

#endif
