/*
 * load.h - read and parse a list of files, on several threads.
 *
 * The caller lists the files (render.c, in the order that decides the
 * result) and then walks the outcomes in that order; this module only does
 * the work in between, the part that costs: read(2) and the YAML parse.
 * Outcomes are per file, so which error wins does not depend on which
 * thread got there first.
 */
#ifndef STRATA_LOAD_H
#define STRATA_LOAD_H

#include "strata/source.h"
#include "strata/yaml.h"

#include <stdbool.h>

typedef struct strata_load_file {
	const char *path;       /* in: repository path, NULL = skip this slot */
	/* out */
	bool done;              /* read, and parsed when the read worked */
	int read_rc;            /* the source's read(): 0 or an error */
	int rc;                 /* strata_yaml_load's result */
	size_t len;             /* bytes read */
	char *buf;              /* the bytes, kept only when keep_bad and rc ==
	                         * STRATA_EPARSE (a collecting re-parse) */
	strata_yaml_doc *docs;
	size_t n;
	strata_error *err;      /* malloc'ed when read_rc or rc < 0 */
} strata_load_file;

/* the most groups a job may have */
#define STRATA_LOAD_MAX_GROUPS 32

typedef struct strata_load_job {
	strata_source *src;
	const strata_limits *lim;
	strata_arena *arena;    /* where the documents go */
	size_t bytes_before;    /* bytes this repository load read already */
	bool keep_bad;          /* collecting: go on after a bad file */
	/*
	 * Optional groups: when n_groups > 0 the files [group_end[g - 1],
	 * group_end[g]) have their documents in arenas[g] (group_end[-1]
	 * is 0, group_end[n_groups - 1] is n) instead of in arena.  One
	 * step for several directories that are freed apart (the base and
	 * an environment's overlays).  At most STRATA_LOAD_MAX_GROUPS.
	 */
	strata_arena **arenas;
	const size_t *group_end;
	size_t n_groups;
} strata_load_job;

/*
 * Read and parse files[0..n) with up to lim->jobs threads (the caller's
 * one of them).  Files are taken in order and every file taken is done;
 * once one fails (unless keep_bad) or the bytes read pass lim->max_total,
 * no further file is started, so the files done are a prefix of the list
 * and the caller, walking in order, meets the failure (or the file where
 * the lengths in list order pass the limit) first.  Returns 0,
 * STRATA_ENOMEM when no thread could start at all, or STRATA_EUSAGE for
 * too many groups.
 */
int strata_load_files(strata_load_file *files, size_t n,
		      const strata_load_job *job);

/* Free what strata_load_files() left in f (buf, err). */
void strata_load_file_release(strata_load_file *f);

#endif
