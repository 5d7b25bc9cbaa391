/*
 * source.h - where strata reads a config repository from.
 *
 * Everything the loader reads goes through this small interface: list a
 * directory, read a file.  Paths are repository-relative, '/'-separated,
 * without a leading '/' ("" is the root).  Implementations refuse any path
 * that would leave the repository: "..", absolute paths, and symlinks whose
 * target (or any hop) lies outside.  Symlinks inside are followed up to
 * STRATA_SYMLINK_HOPS hops; loops are errors.  Errors name the
 * repository-relative path only, never a symlink's target.
 *
 * Two implementations: the filesystem (source_fs.c) and a git tree at any
 * revision (source_git.c), so render, publish and diff can read any commit
 * without a checkout.
 */
#ifndef STRATA_SOURCE_H
#define STRATA_SOURCE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define STRATA_SYMLINK_HOPS 16

typedef enum strata_entry_type {
	STRATA_ENTRY_FILE = 1,
	STRATA_ENTRY_DIR = 2,
} strata_entry_type;

typedef struct strata_source_entry {
	char *name;  /* base name, malloc'ed */
	int type;    /* strata_entry_type, after following symlinks */
} strata_source_entry;

typedef struct strata_source strata_source;

struct strata_source {
	/*
	 * List dir's entries sorted by name (bytewise), "." and ".." excluded.
	 * Entries whose symlinks leave the repository make the call fail with
	 * STRATA_EUNSAFE.  *out is malloc'ed; free with strata_source_entries_free.
	 */
	int (*list)(strata_source *s, const char *dir, strata_source_entry **out,
		    size_t *n, strata_error *err);
	/* Read a whole file (malloc'ed, NUL-terminated beyond *len). */
	int (*read)(strata_source *s, const char *path, char **out, size_t *len,
		    strata_error *err);
	/* Stat: *type is 0 when path does not exist (that is not an error). */
	int (*stat)(strata_source *s, const char *path, int *type,
		    strata_error *err);
	void (*free)(strata_source *s);
	/*
	 * Optional (NULL: not offered).  A second source on the same tree,
	 * for another thread: a source is not safe to share between threads,
	 * but a source and its clones are independent.  The loader gives each
	 * of its threads one, and serialises reads through one source when
	 * there is no clone.
	 */
	int (*clone)(strata_source *s, strata_source **out, strata_error *err);
	/*
	 * Optional (NULL: nothing to drop).  Release what the source can
	 * rebuild (caches, open handles, mapped files) because no read is
	 * expected soon; a later call rebuilds it.  A render calls it once it
	 * has read everything, when it is its repository's last: the git
	 * source's libgit2 repository (delta-base cache, mapped packs, cached
	 * trees) then no longer adds to the render's peak.  strata_repo_trim
	 * (between the environments of --all) calls it too.
	 */
	void (*trim)(strata_source *s);
	/* What was read: "worktree" or a full commit id. */
	char describe[64];
	/* Per-file size cap applied by read() (0 = no cap). */
	size_t max_file;
};

void strata_source_entries_free(strata_source_entry *e, size_t n);
void strata_source_free(strata_source *s); /* NULL is a no-op */

/*
 * A source reading the directory root of the filesystem.  Files are opened
 * component by component with openat(O_NOFOLLOW), so a file swapped for a
 * symlink after it was listed is still refused.
 */
int strata_source_fs_open(strata_source **out, const char *root,
			  strata_error *err);

/*
 * Normalize a repository-relative path: collapse "a//b" and "./", resolve
 * "..".  Fails with STRATA_EUNSAFE when the path is absolute or climbs out.
 * out must hold strlen(path)+1 bytes.
 */
int strata_path_normalize(char *out, const char *path, strata_error *err);

#ifdef __cplusplus
}
#endif
#endif
