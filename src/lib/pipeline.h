/*
 * pipeline.h - the transforms as strata_render_env runs them, one after
 * the other on one resource set.
 *
 * The public transforms (transform.h) each finish with
 * strata_resset_reindex(), so a caller may look resources up right after
 * any of them.  Between transforms nothing looks anything up: each of
 * these variants only refreshes the identity fields (group, kind,
 * namespace, name) the next transform reads, and leaves the index stale.
 * The caller must call strata_resset_reindex() once after the last one,
 * before any lookup; that is also where two resources that became one
 * identity are reported.
 */
#ifndef STRATA_PIPELINE_H
#define STRATA_PIPELINE_H

#include "strata/transform.h"

int strata_transform_vars_unindexed(strata_arena *a, strata_resset *s,
				    strata_kvlist *vars, strata_error *err);
/* The environment's image.NAME rules, checked (STRATA_ECONFIG); *out
 * stays NULL when there are none. */
typedef struct strata_image_rules strata_image_rules;
int strata_image_rules_new(strata_image_rules **out, const strata_kvlist *images,
			   strata_error *err);
void strata_image_rules_free(strata_image_rules *ir);

/*
 * images, namespace, names (prefix/suffix) and labels/annotations, each
 * resource through all four before the next (transform.c): the same
 * resources as strata_transform_images, strata_transform_namespace,
 * strata_transform_names and strata_transform_metadata in a row, with each
 * tree walked while it is in the cache, on up to jobs threads (the
 * helper threads of threads.h, else threads of its own).  A resource whose
 * metadata cannot take the labels fails alone: the others still get
 * theirs, and the first failure in set order is returned.  Leaves the
 * index stale but every identity refreshed: the caller reindexes with
 * strata_resset_reindex_fresh.  NULL/empty arguments skip a step.
 */
int strata_transform_finish_unindexed(strata_arena *a, strata_resset *s,
				      const strata_image_rules *images,
				      const char *ns, const char *prefix,
				      const char *suffix,
				      const strata_kvlist *labels,
				      const strata_kvlist *annotations,
				      unsigned jobs, strata_error *err);

/*
 * strata_resource_refresh without the hashes kept with the identity, for
 * a step whose caller refreshes again before any set operation (the fused
 * pass reads the new namespace, then renames and refreshes).
 */
void strata_resource_refresh_fields(strata_resource *r, strata_arena *a);

#endif
