/*
 * source_git.c - the config repository read from a commit's tree.
 *
 * render --rev, publish and diff read a revision without checking it out:
 * every lookup walks the repository-relative path through the commit's
 * trees with libgit2, so the working tree may be dirty, on another branch
 * or absent (a bare repository).
 *
 * A tree is as untrusted as a directory: a symlink blob (mode 120000)
 * named base/x.yaml may point at ../../etc/passwd.  Git itself never
 * follows links inside a tree, but strata does, so that a repository
 * renders the same from a checkout and from git.  The rules are the
 * filesystem source's: the target is spliced into the path lexically,
 * relative to the link's directory; an absolute target or one climbing
 * above the root is refused; at most STRATA_SYMLINK_HOPS links per lookup
 * (which also ends loops).  Submodules (gitlinks) have no content here and
 * are skipped when listing.  Errors name the repository-relative path
 * only.
 */
#include "path.h"
#include "strata/git.h"

#include "git_dl.h"
#include "pages.h"
#include <stdio.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdlib.h>
#include <string.h>

/* Link targets longer than this are refused, like PATH_MAX on disk. */
#define LINK_MAX 4096

typedef struct git_source {
	strata_source base; /* first: a strata_source * is a git_source * */
	git_repository *repo; /* NULL after gs_trim, until reopen() */
	git_tree *root;
	char *repo_path;      /* as given to strata_source_git_open, to reopen */
	git_oid root_id;      /* root's id, to find it again */
} git_source;

typedef struct lookup {
	int type;           /* first (path.h): 0 (absent), _FILE or _DIR */
	git_object *obj;    /* the tree, for STRATA_WANT_DIR when type is _DIR */
	git_oid id;         /* the blob, when type is _FILE (not loaded) */
} lookup;

static int oom(strata_error *err)
{
	return strata_error_set(err, STRATA_ENOMEM, NULL, 0, 0,
				"out of memory");
}

static int git_fail(strata_error *err, const char *path, const char *what)
{
	const git_error *e = git_error_last();

	return strata_error_set(err, STRATA_EGIT,
				path && path[0] ? path : NULL, 0, 0, "%s: %s",
				what, e && e->message ? e->message :
							"unknown git error");
}

/* After gs_trim: open the repository and find the root tree again. */
static int reopen(git_source *gs, strata_error *err)
{
	if (gs->repo)
		return 0;
	if (git_repository_open_ext(&gs->repo, gs->repo_path, 0, NULL) < 0)
		return git_fail(err, NULL, "cannot open git repository");
	if (git_tree_lookup(&gs->root, gs->repo, &gs->root_id) < 0) {
		git_repository_free(gs->repo);
		gs->repo = NULL;
		return git_fail(err, NULL, "cannot read tree");
	}
	return 0;
}

/*
 * Walk path (normalised, "" = root) from the root tree, following links;
 * res is a lookup (a strata_path_resolve_fn).  res->obj is set (caller
 * frees) when want is STRATA_WANT_DIR and the path is a directory.
 */
static int resolve(strata_source *s, const char *path, enum strata_want want,
		   void *out, strata_error *err)
{
	git_source *gs = (git_source *)s;
	lookup *res = out;
	bool want_obj = want == STRATA_WANT_DIR;
	char *cur = NULL;
	git_tree *tree = NULL;
	int hops = 0, rc = 0;
	size_t start, end, len;

	res->type = 0;
	res->obj = NULL;
	if ((rc = reopen(gs, err)) < 0)
		return rc;
	cur = strdup(path);
	if (!cur)
		return oom(err);

restart:
	if (tree && tree != gs->root)
		git_tree_free(tree);
	tree = gs->root;
	len = strlen(cur);
	if (len == 0) {
		res->type = STRATA_ENTRY_DIR;
		if (want_obj &&
		    git_object_dup(&res->obj, (git_object *)gs->root) < 0)
			rc = git_fail(err, "", "cannot read tree");
		goto done;
	}
	for (start = 0; start < len; start = end + 1) {
		const git_tree_entry *te;
		git_filemode_t mode;
		bool last;
		char save;

		save = strata_path_cut(cur, start, &end);
		last = end == len;
		te = git_tree_entry_byname(tree, cur + start);
		if (!te) {
			cur[end] = save;
			goto done; /* absent */
		}
		mode = git_tree_entry_filemode(te);
		if (mode == GIT_FILEMODE_LINK) {
			git_blob *blob = NULL;
			git_object_size_t size;

			rc = strata_path_hop(&hops, cur, err);
			if (rc < 0)
				goto done;
			if (git_blob_lookup(&blob, gs->repo,
					    git_tree_entry_id(te)) < 0) {
				rc = git_fail(err, cur, "cannot read symlink");
				goto done;
			}
			size = git_blob_rawsize(blob);
			if (size > LINK_MAX) {
				git_blob_free(blob);
				rc = strata_error_set(err, STRATA_EUNSAFE, cur,
						      0, 0,
						      "symlink target too long");
				goto done;
			}
			rc = strata_path_follow_link(&cur, start, end, save,
						     git_blob_rawcontent(blob),
						     (size_t)size, err);
			git_blob_free(blob);
			if (rc < 0)
				goto done;
			goto restart;
		}
		if (mode == GIT_FILEMODE_TREE) {
			git_tree *sub = NULL;

			if (git_tree_lookup(&sub, gs->repo,
					    git_tree_entry_id(te)) < 0) {
				rc = git_fail(err, cur, "cannot read tree");
				goto done;
			}
			if (tree != gs->root)
				git_tree_free(tree);
			tree = sub;
			if (last) {
				res->type = STRATA_ENTRY_DIR;
				if (want_obj) {
					res->obj = (git_object *)tree;
					tree = NULL;
				}
				goto done;
			}
			cur[end] = save;
			continue;
		}
		if (mode == GIT_FILEMODE_COMMIT) {
			cur[end] = save;
			goto done; /* a submodule: no content here */
		}
		/* A blob: a file, unless more path follows ("file/x"). */
		if (!last) {
			cur[end] = save;
			goto done;
		}
		/* Only the id: read() judges the size before loading. */
		res->type = STRATA_ENTRY_FILE;
		git_oid_cpy(&res->id, git_tree_entry_id(te));
		goto done;
	}
done:
	if (tree && tree != gs->root)
		git_tree_free(tree);
	free(cur);
	return rc;
}

static int gs_stat(strata_source *s, const char *path, int *type,
		   strata_error *err)
{
	lookup res;

	return strata_path_lookup(s, path, STRATA_WANT_STAT, resolve, &res,
				  type, NULL, err);
}

static int gs_read(strata_source *s, const char *path, char **out,
		   size_t *len, strata_error *err)
{
	git_source *gs = (git_source *)s;
	char *norm = NULL, *buf = NULL;
	lookup res = { 0 };
	git_odb *odb = NULL;
	git_odb_object *raw = NULL;
	size_t size;
	git_object_t otype;
	int rc;

	*out = NULL;
	if (len)
		*len = 0;
	rc = strata_path_lookup(s, path, STRATA_WANT_FILE, resolve, &res, NULL,
				&norm, err);
	if (rc < 0)
		goto done;
	if (git_repository_odb(&odb, gs->repo) < 0) {
		rc = git_fail(err, norm, "cannot open object database");
		goto done;
	}
	if (git_odb_read_header(&size, &otype, odb,
				&res.id) < 0) {
		rc = git_fail(err, norm, "cannot read blob");
		goto done;
	}
	rc = strata_path_check_size(s, norm, size, err);
	if (rc < 0)
		goto done;
	if (git_odb_read(&raw, odb, &res.id) < 0) {
		rc = git_fail(err, norm, "cannot read blob");
		goto done;
	}
	size = git_odb_object_size(raw);
	buf = malloc(size + 1);
	if (!buf) {
		rc = oom(err);
		goto done;
	}
	if (size)
		memcpy(buf, git_odb_object_data(raw), size);
	buf[size] = '\0';
	*out = buf;
	buf = NULL;
	if (len)
		*len = size;
done:
	git_odb_object_free(raw);
	git_odb_free(odb);
	git_object_free(res.obj);
	free(buf);
	free(norm);
	return rc;
}

static int gs_list(strata_source *s, const char *dir,
		   strata_source_entry **out, size_t *count,
		   strata_error *err)
{
	strata_source_entry *v = NULL;
	size_t n = 0, cap, total;
	char *norm = NULL, *child = NULL;
	lookup res = { 0 };
	git_tree *tree;
	int rc;

	*out = NULL;
	*count = 0;
	rc = strata_path_lookup(s, dir, STRATA_WANT_DIR, resolve, &res, NULL,
				&norm, err);
	if (rc < 0)
		goto done;
	tree = (git_tree *)res.obj;
	total = git_tree_entrycount(tree);
	cap = total ? total : 1;
	v = calloc(cap, sizeof(*v));
	if (!v) {
		rc = oom(err);
		goto done;
	}
	for (size_t i = 0; i < total; i++) {
		const git_tree_entry *te = git_tree_entry_byindex(tree, i);
		const char *name = git_tree_entry_name(te);
		git_filemode_t mode = git_tree_entry_filemode(te);
		int type;

		if (mode == GIT_FILEMODE_COMMIT)
			continue;
		if (mode == GIT_FILEMODE_TREE) {
			type = STRATA_ENTRY_DIR;
		} else if (mode == GIT_FILEMODE_LINK) {
			lookup lres;

			free(child);
			rc = strata_path_join(norm, name, &child, err);
			if (rc < 0)
				goto done;
			rc = resolve(s, child, STRATA_WANT_STAT, &lres, err);
			if (rc < 0)
				goto done;
			if (lres.type == 0) {
				rc = strata_error_set(err, STRATA_EIO, child,
						      0, 0,
						      "dangling symlink");
				goto done;
			}
			type = lres.type;
		} else {
			type = STRATA_ENTRY_FILE;
		}
		v[n].name = strdup(name);
		if (!v[n].name) {
			rc = oom(err);
			goto done;
		}
		v[n].type = type;
		n++;
	}
	/*
	 * Git sorts tree entries as if directories ended in '/'; the
	 * interface promises plain bytewise order.
	 */
	for (size_t i = 1; i < n; i++) {
		strata_source_entry e = v[i];
		size_t j = i;

		while (j > 0 && strcmp(v[j - 1].name, e.name) > 0) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = e;
	}
	*out = v;
	*count = n;
	v = NULL;
	n = 0;
done:
	strata_source_entries_free(v, n);
	git_object_free(res.obj);
	free(child);
	free(norm);
	return rc;
}

/*
 * Close the repository: libgit2's delta-base cache (up to 16 MiB, not
 * configurable), the mapped pack windows and the cached trees go with it,
 * and the heap pages they held go back to the system (malloc_trim: the
 * allocator otherwise keeps free blocks that sit between live ones; the
 * close alone saved 6 MB of the 15).  At 40,000 resources that takes
 * `render --rev` from 173 to 156-158 MB (10^6 bytes).  libgit2 itself
 * stays initialised (the init count is gs_free's).
 */
static void gs_trim(strata_source *s)
{
	git_source *gs = (git_source *)s;

	if (!gs->repo)
		return;
	git_tree_free(gs->root);
	git_repository_free(gs->repo);
	gs->root = NULL;
	gs->repo = NULL;
#ifdef __GLIBC__
	malloc_trim(0);
#endif
	strata_pages_trim(); /* and the arenas' free blocks */
}

static void gs_free(strata_source *s)
{
	git_source *gs = (git_source *)s;

	git_tree_free(gs->root);
	git_repository_free(gs->repo);
	free(gs->repo_path);
	free(gs);
	git_libgit2_shutdown();
}

/*
 * A config repository may live in a subdirectory of the git work tree (a
 * monorepo): root the source at the same path in the commit's tree.
 */
static int subdir_root(git_source *gs, const char *repo_path, const char *rev,
		       strata_error *err)
{
	const char *wd = git_repository_workdir(gs->repo);
	char *rp = NULL, *wp = NULL;
	git_tree_entry *te = NULL;
	git_tree *sub = NULL;
	size_t wl;
	int rc = 0;

	if (!wd)
		return 0;
	rp = realpath(repo_path, NULL);
	wp = realpath(wd, NULL);
	if (!rp || !wp)
		goto done;
	wl = strlen(wp);
	if (strncmp(rp, wp, wl) || (rp[wl] != '/' && rp[wl] != '\0') ||
	    !rp[wl] || !rp[wl + 1])
		goto done; /* the top of the work tree (or outside it) */
	if (git_tree_entry_bypath(&te, gs->root, rp + wl + 1) < 0 ||
	    git_tree_entry_type(te) != GIT_OBJECT_TREE) {
		rc = strata_error_set(err, STRATA_ENOTFOUND, NULL, 0, 0,
				      "'%s' does not exist in revision '%s'",
				      rp + wl + 1, rev);
		goto done;
	}
	if (git_tree_lookup(&sub, gs->repo, git_tree_entry_id(te)) < 0) {
		rc = git_fail(err, NULL, "cannot read tree");
		goto done;
	}
	git_tree_free(gs->root);
	gs->root = sub;
done:
	git_tree_entry_free(te);
	free(rp);
	free(wp);
	return rc;
}

int strata_source_git_open(strata_source **out, const char *repo_path,
			   const char *rev, strata_error *err)
{
	git_source *gs = NULL;
	git_object *obj = NULL;
	git_commit *commit = NULL;
	int rc = 0, grc;

	*out = NULL;
	if (!rev || !rev[0])
		rev = "HEAD";
	if (rev[0] == '-')
		return strata_error_set(err, STRATA_EUSAGE, NULL, 0, 0,
					"invalid revision '%s'", rev);
	rc = strata_git_init(err);
	if (rc < 0)
		return rc;
	/*
	 * Every lookup walks its path from the root tree, so each directory's
	 * tree object is read once per file below it.  libgit2 caches trees
	 * only up to 4 KiB by default: a directory of 10,000 files was then
	 * inflated and hashed again for every one of them (26 s instead of
	 * 2 s at 40,000 resources).  Cache trees of any size.
	 */
	git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, (int)GIT_OBJECT_TREE,
			 (size_t)64 << 20);
	gs = calloc(1, sizeof(*gs));
	if (!gs) {
		git_libgit2_shutdown();
		return oom(err);
	}
	if (git_repository_open_ext(&gs->repo, repo_path, 0, NULL) < 0) {
		rc = git_fail(err, NULL, "cannot open git repository");
		goto done;
	}
	grc = git_revparse_single(&obj, gs->repo, rev);
	if (grc == GIT_ENOTFOUND || grc == GIT_EAMBIGUOUS ||
	    grc == GIT_EINVALIDSPEC) {
		rc = strata_error_set(err, STRATA_ENOTFOUND, NULL, 0, 0,
				      "unknown revision '%s'%s", rev,
				      git_repository_head_unborn(gs->repo) == 1 ?
					      " (no commit yet; commit the config, or read the working directory)" :
					      "");
		goto done;
	}
	if (grc < 0) {
		rc = git_fail(err, NULL, "cannot resolve revision");
		goto done;
	}
	if (git_object_peel((git_object **)&commit, obj, GIT_OBJECT_COMMIT) <
	    0) {
		rc = strata_error_set(err, STRATA_ENOTFOUND, NULL, 0, 0,
				      "revision '%s' is not a commit", rev);
		goto done;
	}
	if (git_commit_tree(&gs->root, commit) < 0) {
		rc = git_fail(err, NULL, "cannot read commit tree");
		goto done;
	}
	rc = subdir_root(gs, repo_path, rev, err);
	if (rc < 0)
		goto done;
	git_oid_tostr(gs->base.describe, sizeof(gs->base.describe),
		      git_commit_id(commit));
	git_oid_cpy(&gs->root_id, git_tree_id(gs->root));
	if (!(gs->repo_path = strdup(repo_path))) {
		rc = oom(err);
		goto done;
	}
	gs->base.list = gs_list;
	gs->base.read = gs_read;
	gs->base.stat = gs_stat;
	gs->base.free = gs_free;
	gs->base.trim = gs_trim;
	gs->base.max_file = 0;
	*out = &gs->base;
	gs = NULL;
done:
	git_commit_free(commit);
	git_object_free(obj);
	if (gs)
		gs_free(&gs->base);
	return rc;
}
