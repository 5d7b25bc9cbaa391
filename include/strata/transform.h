/*
 * transform.h - the per-environment transforms applied after the overlay
 * layers, in this order: variables, images, namespace, name prefix/suffix
 * (with reference fix-ups), labels and annotations.
 */
#ifndef STRATA_TRANSFORM_H
#define STRATA_TRANSFORM_H

#include "config.h"
#include "resource.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Substitute ${NAME}, ${NAME:-default}, ${NAME:=default} in string scalar
 * values (not keys) of every resource; $${X} is a literal ${X}.  A scalar
 * keeps its style; a result that cannot be written in that style is
 * quoted by the emitter.  Undefined variables: STRATA_EUNDEFVAR, and the
 * message lists every place (file:line:col) each one is used.
 * vars may be modified by ${X:=default}.
 */
int strata_transform_vars(strata_arena *a, strata_resset *s, strata_kvlist *vars,
			  strata_error *err);
/*
 * One string: substitute into out.  *changed is set when anything was
 * substituted.  Undefined names are appended (NUL-separated) to undefined
 * when it is non-NULL; otherwise they are an error.
 */
int strata_vars_subst(strata_buf *out, const char *s, size_t len,
		      strata_kvlist *vars, bool *changed, strata_buf *undefined);

/* image.NAME = newName[:tag][@digest] for containers/initContainers/
 * ephemeralContainers whose image name (without tag/digest) equals NAME. */
int strata_transform_images(strata_arena *a, strata_resset *s,
			    const strata_kvlist *images, strata_error *err);

/* Set metadata.namespace on every namespaced resource; fix ServiceAccount
 * subjects of (Cluster)RoleBindings that point at a ServiceAccount in the set. */
int strata_transform_namespace(strata_arena *a, strata_resset *s, const char *ns,
			       strata_error *err);

/* Prefix/suffix metadata.name (not Namespace, CustomResourceDefinition,
 * APIService) and rewrite references to renamed objects in the set. */
int strata_transform_names(strata_arena *a, strata_resset *s, const char *prefix,
			   const char *suffix, strata_error *err);

/* Labels: metadata.labels and pod-template labels, never selectors.
 * Annotations: metadata.annotations and pod-template annotations. */
int strata_transform_metadata(strata_arena *a, strata_resset *s,
			      const strata_kvlist *labels,
			      const strata_kvlist *annotations, strata_error *err);

#ifdef __cplusplus
}
#endif
#endif
