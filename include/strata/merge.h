/*
 * merge.h - strategic merge patch, as kubectl and kustomize apply it, with
 * the fixes strata promises (base order kept, retainKeys honoured, ports
 * keyed on containerPort+protocol with protocol defaulting to TCP).
 *
 * The list merge-key table lives in schema.c (src/lib/schema.h); kinds it
 * does not know get maps merged and lists replaced.
 */
#ifndef STRATA_MERGE_H
#define STRATA_MERGE_H

#include "doc.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Merge patch into target (a resource document of API group/kind) in place.
 * New nodes are copied into a, so patch is left untouched.  When a is
 * copy-on-write (doc.h) target must already be the caller's
 * (strata_node_own; else STRATA_EUSAGE): the maps and lists under it that
 * the patch changes are copied, the shared ones are never edited.
 * Directives: key: null deletes; `$patch: delete` on the document sets
 * *out_delete (the caller drops the resource), on a list item or map
 * deletes it; `$patch: replace` replaces a map or list;
 * `$setElementOrder/...` is accepted and ignored;
 * `$retainKeys` and the built-in retainKeys fields drop keys the patch
 * does not keep.  Returns 0, or STRATA_EPARSE for a malformed directive
 * (positioned at the patch node).
 */
int strata_merge_patch(strata_arena *a, strata_node *target,
		       const strata_node *patch, const char *group,
		       const char *kind, bool *out_delete, strata_error *err);

#ifdef __cplusplus
}
#endif
#endif
