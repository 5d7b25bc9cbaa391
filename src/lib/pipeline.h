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
int strata_transform_namespace_unindexed(strata_arena *a, strata_resset *s,
					 const char *ns, strata_error *err);
/* Leaves res->name as it was before the rename (the reindex refreshes it). */
int strata_transform_names_unindexed(strata_arena *a, strata_resset *s,
				     const char *prefix, const char *suffix,
				     strata_error *err);

#endif
