/*
 * doc_pack.h - a document tree as bytes and back, for a diff side that
 * keeps its documents out of memory (diff_side.c, strata_diff_side_spill).
 *
 * Reading the bytes back is a copy, not a parse: several times faster than
 * parsing the YAML the emitter would write, and exact (styles, tags and
 * flow style come back as they were, strata's own STRATA_STYLE_STRING
 * included).  Positions and files are not kept: nodes come back at line 0
 * with no file (a comparison and its report use neither).  The bytes hold
 * pointers to nothing and mean something only to the process that packed
 * them: tags are kept as text.
 */
#ifndef STRATA_DOC_PACK_H
#define STRATA_DOC_PACK_H

#include "strata/doc.h"

/* Append root's tree to out.  0 or STRATA_ENOMEM. */
int strata_doc_pack(strata_buf *out, const strata_node *root);

/*
 * The tree packed in p[0..len), made in a (map keys shared as the loader
 * shares them, strata_node_key).  0, STRATA_ENOMEM, or STRATA_EIO when
 * the bytes are not one whole packed tree.
 */
int strata_doc_unpack(strata_arena *a, const void *p, size_t len,
		      strata_node **root);

#endif
