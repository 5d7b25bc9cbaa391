/*
 * yaml.h - reading YAML into the document model and writing it back out.
 *
 * The loader consumes libfyaml's event stream (the fastest way in, see
 * ../shared/DEPS.md) and builds strata_node trees in an arena.  Aliases are
 * expanded as they are met, under a node budget, so an alias bomb fails fast
 * with bounded memory.  `<<` merge keys are expanded the same way.
 *
 * The emitter is strata's own: block style, two-space indentation,
 * sequences under a key not indented (as kubectl prints them), and quoting
 * decided per scalar so that the output re-reads to exactly the same data.
 */
#ifndef STRATA_YAML_H
#define STRATA_YAML_H

#include "doc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct strata_limits {
	size_t max_alias_nodes;  /* nodes created by expanding aliases, per file */
	size_t max_depth;        /* nesting depth */
	size_t max_scalar;       /* bytes in one scalar */
	size_t max_file;         /* bytes in one file */
	size_t max_total;        /* bytes read in one load of a repository */
	size_t max_files;        /* files read in one load of a repository */
	/* Not a limit but a budget: how many threads a repository load may
	 * use to read and parse its files (1 = the caller's thread only).
	 * Results do not depend on it. */
	unsigned jobs;
} strata_limits;

/* The defaults: 1,000,000 alias nodes, depth 200, 16 MiB scalars,
 * 64 MiB files, 1 GiB total, 100,000 files; one job. */
void strata_limits_default(strata_limits *out);

/* One document of a multi-document file. */
typedef struct strata_yaml_doc {
	strata_node *root;   /* never NULL: empty documents are skipped */
	uint32_t line, col;  /* where the document starts (1-based) */
	/* No scalar of it can hold a '$' (its file has neither '$' nor a
	 * backslash): variables need not look (strata_resource.dollar_free) */
	bool dollar_free;
} strata_yaml_doc;

/*
 * Parse every document of buf[0..len) (named file in positions and errors)
 * into arena a.  Empty documents (nothing but comments, or an explicit
 * null) are skipped.  On success *out_docs is an arena array of *out_n docs.
 * On error returns STRATA_EPARSE (syntax, duplicate keys, complex keys,
 * invalid UTF-8, NUL bytes) or STRATA_ELIMIT, with the position in err.
 * lim may be NULL for the defaults.
 */
int strata_yaml_load(strata_yaml_doc **out_docs, size_t *out_n, strata_arena *a,
		     const char *file, const char *buf, size_t len,
		     const strata_limits *lim, strata_error *err);

/*
 * Append one document (without a "---" line) to out.  Output ends with a
 * newline.  Returns 0 or STRATA_ENOMEM.
 */
int strata_yaml_emit(strata_buf *out, const strata_node *root);

/*
 * Append a scalar as it would appear as a map value or key in flow-safe
 * single-line form (quoted when needed).  Used for messages and diffs.
 */
int strata_yaml_emit_inline(strata_buf *out, const strata_node *scalar);

/* True when text can be written as a plain scalar without changing its
 * structure (no indicators, no ": ", no " #", no leading/trailing space...). */
bool strata_yaml_plain_safe(const char *s, size_t len);

#ifdef __cplusplus
}
#endif
#endif
