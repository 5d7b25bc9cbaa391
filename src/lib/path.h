/*
 * path.h - path helpers shared by the two sources (source_fs.c,
 * source_git.c): the lexical splice of a symlink target into a
 * repository-relative path, under the same confinement rule for both.
 */
#ifndef STRATA_PATH_H
#define STRATA_PATH_H

#include "strata/source.h"

/*
 * Normalise path (NULL = "") into a malloc'ed copy in *out
 * (strata_path_normalize's rules).
 */
int strata_path_normalized_dup(const char *path, char **out, strata_error *err);

/*
 * Replace the symlink at (*path)[link_start..link_end) by target[0..tlen):
 * dirname(link) + "/" + target + rest, normalised lexically.  An absolute,
 * empty or NUL-holding target, or any climb above the root, refuses the
 * link with STRATA_EUNSAFE "symlink leaves the repository" naming linkpath
 * only (never the target).  On success *path is replaced (the old string
 * freed).
 */
int strata_path_splice_link(char **path, size_t link_start, size_t link_end,
			    const char *target, size_t tlen,
			    const char *linkpath, strata_error *err);

#endif
