/*
 * path.h - what the two sources (source_fs.c, source_git.c) share: the
 * head of every lookup, and the lexical splice of a symlink target into a
 * repository-relative path, under the same confinement rule for both.
 */
#ifndef STRATA_PATH_H
#define STRATA_PATH_H

#include "strata/source.h"

#include <stdint.h>

/*
 * Normalise path (NULL = "") into a malloc'ed copy in *out
 * (strata_path_normalize's rules).
 */
int strata_path_normalized_dup(const char *path, char **out, strata_error *err);

/*
 * What a source lookup is for.  On disk it also says what the walk leaves
 * open (nothing, the file, the directory); in a git tree, whether the
 * directory's tree object is handed back.
 */
enum strata_want {
	STRATA_WANT_STAT, /* anything or nothing: report the type only */
	STRATA_WANT_FILE, /* a file: absent is ENOTFOUND, a directory EIO */
	STRATA_WANT_DIR,  /* a directory: absent is ENOTFOUND, a file EIO */
};

/*
 * A source's walk of one normalised path ("" = root), following symlinks
 * under the rules below.  res is the source's own result, whose first
 * member is `int type` (0 = absent, which is not an error).
 */
typedef int (*strata_path_resolve_fn)(strata_source *s, const char *norm,
				      enum strata_want want, void *res,
				      strata_error *err);

/*
 * The head of every source operation: normalise path, walk it with
 * resolve, and judge what was found against want (STRATA_ENOTFOUND "no
 * such file" / "no such directory", STRATA_EIO "is a directory" / "not a
 * directory").  *type gets the type found (may be NULL).  With norm NULL
 * the normalised path is freed here; otherwise *norm is it, malloc'ed, or
 * NULL, and the caller frees it on success and failure alike, and releases
 * what resolve left in res as after calling resolve itself.
 */
int strata_path_lookup(strata_source *s, const char *path,
		       enum strata_want want, strata_path_resolve_fn resolve,
		       void *res, int *type, char **norm, strata_error *err);

/*
 * Cut the component of path that begins at start: *end is set to where it
 * ends (the next '/' or the terminating NUL), path[*end] becomes NUL, and
 * the byte it held is returned so the caller can put it back.
 */
char strata_path_cut(char *path, size_t start, size_t *end);

/*
 * Count one more symlink hop for the link named linkpath: past
 * STRATA_SYMLINK_HOPS, STRATA_EUNSAFE "too many levels of symbolic links".
 */
int strata_path_hop(int *hops, const char *linkpath, strata_error *err);

/*
 * Follow the symlink at (*path)[link_start..link_end), with *path cut
 * there by strata_path_cut (save is the byte it returned): put the byte
 * back and splice target[0..tlen) in: dirname(link) + "/" + target + rest,
 * normalised lexically.  An absolute, empty or NUL-holding target, or any
 * climb above the root, refuses the link with STRATA_EUNSAFE "symlink
 * leaves the repository" naming the link's path only (never the target).
 * On success *path is replaced (the old string freed); on failure it is
 * left as it was, cut.
 */
int strata_path_follow_link(char **path, size_t link_start, size_t link_end,
			    char save, const char *target, size_t tlen,
			    strata_error *err);

/* "dir/name" (or "name" when dir is ""), malloc'ed into *out. */
int strata_path_join(const char *dir, const char *name, char **out,
		     strata_error *err);

/*
 * STRATA_ELIMIT "file too large (N bytes, limit M)" for the file path when
 * s caps files and size is over the cap; 0 otherwise.
 */
int strata_path_check_size(const strata_source *s, const char *path,
			   uintmax_t size, strata_error *err);

#endif
