/*
 * git.h - strata and git: read a config repository at any revision, and
 * publish rendered environments to environment branches.
 *
 * The git source reads base, overlays and strata.ini straight from a
 * commit's tree (no checkout), so the working tree may be dirty or on
 * another branch.
 *
 * Publishing renders one environment, writes its files as blobs and trees
 * into the object database (no index, no worktree), and moves the
 * environment branch by compare-and-swap to a new commit whose message
 * records where it came from:
 *
 *   prod: render 1a2b3c4 <source subject>
 *
 *   Strata-Env: prod
 *   Strata-Source: <full source commit id | worktree>
 *   Strata-Version: 0.1.0
 *
 * Author and committer time are the source commit's committer time, so the
 * same source published onto the same tip gives the same commit id.  A
 * branch is never forced: locally the ref moves only from the tip read at
 * the start, remotely only by fast-forward.
 */
#ifndef STRATA_GIT_H
#define STRATA_GIT_H

#include "common.h"
#include "render.h"
#include "source.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A source reading the tree of revision rev ("HEAD", a branch, a commit id,
 * anything git rev-parse accepts that peels to a commit) in the git
 * repository at repo_path (discovered upwards like git does; when repo_path
 * is a subdirectory of the work tree, the source is rooted at that
 * directory's path in the commit's tree).  describe is
 * the full commit id.  Symlinks in the tree (mode 120000) are followed with
 * the filesystem source's confinement rules.  Fails with STRATA_EGIT when
 * the repository cannot be opened, STRATA_ENOTFOUND when rev does not name
 * a commit.
 */
int strata_source_git_open(strata_source **out, const char *repo_path,
			   const char *rev, strata_error *err);

/*
 * 0 when libgit2 can be used, loading it now if this build loads it on
 * demand (CMake STRATA_GIT_DLOPEN); STRATA_EGIT with the loader's reason
 * otherwise.  Every git operation checks this itself: call it to explain a
 * STRATA_EGIT that carried no message (strata_diff_format_report's).
 */
int strata_git_check(strata_error *err);

/*
 * Open libgit2 from this file, and only from it, instead of the library the
 * build found (a libgit2 of the same ABI elsewhere; NULL or "" restores the
 * default).  Only before the first git operation of the process: later it
 * changes nothing.  No effect when libgit2 is linked (STRATA_GIT_DLOPEN
 * off).  The CLI takes it from the environment variable STRATA_LIBGIT2.
 */
void strata_git_library(const char *file);

/* What publishing one environment did. */
typedef enum strata_publish_status {
	STRATA_PUBLISH_FAILED = 0,
	STRATA_PUBLISH_CREATED,   /* the branch did not exist */
	STRATA_PUBLISH_UPDATED,   /* a new commit on the branch */
	STRATA_PUBLISH_UNCHANGED, /* the tip already has this tree */
} strata_publish_status;

const char *strata_publish_status_name(int status);

typedef struct strata_publish_opts {
	/* The config repository (a git repository): source commit subject
	 * and time are read here.  Required. */
	const char *config_dir;
	/* Where the branches are written; NULL means config_dir. */
	const char *target_dir;
	/* Replaces the commit subject; NULL for the default. */
	const char *message;
	/* Push every branch written to this remote (a remote name, a URL or a
	 * path); NULL: no push. */
	const char *remote;
	/* Credentials for https remotes: user name (NULL: "x-access-token")
	 * and token (NULL: none).  The CLI reads them from the environment. */
	const char *https_user;
	const char *https_token;
	/* Write to a branch whose tip was not made by strata for this
	 * environment (no "Strata-Env: ENV" trailer). */
	bool adopt;
	/* Compare-and-swap and push attempts (0 = 10). */
	unsigned max_attempts;
} strata_publish_opts;

typedef struct strata_publish_result {
	int status;         /* strata_publish_status */
	char branch[256];   /* full ref name, "refs/heads/env/prod" */
	char commit[41];    /* the branch tip afterwards; "" when failed */
	bool pushed;        /* the remote has commit on branch */
	unsigned attempts;  /* compare-and-swap / push rounds used */
} strata_publish_result;

/*
 * Render env from repo (whose source is a git source or the worktree) and
 * commit it to the env's branch in opts->target_dir (or config_dir), then
 * push when opts->remote is set.  The layout is strata.ini's [strata]
 * layout: "files" (one file per resource, as `render --out`) or "stream"
 * (one manifests.yaml).  *out is filled also on error (status FAILED, the
 * branch when known).
 *
 * The rendered files go to an unlinked temporary file in the target's
 * objects directory, and the render is freed before the trees are built;
 * when it was the repo's last render (strata_repo_last_render), the repo's
 * parsed base is freed too (strata_repo_release), so no other render of
 * the repo may still be alive then.
 *
 * Errors: the render's own errors; STRATA_ECONFIG for an invalid branch
 * name; STRATA_EREFUSED for the checked-out branch or a branch not made by
 * strata for env (without adopt), or a held ref lock; STRATA_EREJECTED when
 * the remote refused the push; STRATA_EIO when the temporary file cannot
 * be created, written or read; STRATA_EGIT for other git failures.
 */
int strata_publish_env(strata_publish_result *out, strata_repo *repo,
		       const char *env, const strata_publish_opts *opts,
		       strata_error *err);

/*
 * Make a new commit on env's branch whose tree is the tree of the earlier
 * environment commit `to` (any revision that resolves to a commit on the
 * branch's history, e.g. an id from strata history).  The commit records
 * Strata-Rollback-Of: <id> and the restored commit's Strata-Source.
 * Pushes like publish when opts->remote is set.  cfg gives the branch
 * name and identity.  Refuses (STRATA_EREFUSED) a commit that is not on
 * the branch or was not made for env.
 */
int strata_rollback_env(strata_publish_result *out, const strata_config *cfg,
			const char *env, const char *to,
			const strata_publish_opts *opts, strata_error *err);

/* One commit of an environment branch. */
typedef struct strata_history_entry {
	char commit[41];
	char source[64];       /* Strata-Source trailer, "" when absent */
	char rollback_of[41];  /* Strata-Rollback-Of trailer, "" when absent */
	char env[64];          /* Strata-Env trailer, "" when absent */
	int64_t time;          /* committer time (seconds since the epoch) */
	int offset;            /* committer time zone, minutes east of UTC */
	char *subject;         /* malloc'ed */
} strata_history_entry;

/*
 * The first-parent history of env's branch in repo_dir, newest first, at
 * most max entries (0 = all); when repo_dir has no such local branch,
 * refs/remotes/origin/<branch> is read (a CI clone).  *out is malloc'ed; free it with
 * strata_history_free.  A branch that does not exist is STRATA_ENOTFOUND.
 */
int strata_history(strata_history_entry **out, size_t *n,
		   const strata_config *cfg, const char *env,
		   const char *repo_dir, size_t max, strata_error *err);
void strata_history_free(strata_history_entry *h, size_t n);

/*
 * The full ref name of env's branch ("refs/heads/" + the expanded
 * template), validated by git's ref-name rules and strata's stricter ones
 * (no leading '-', "..", ".lock", control characters; HEAD and refs/ other
 * than refs/heads/ refused).  out must hold 256 bytes.  STRATA_ENOTFOUND
 * for an unknown env, STRATA_ECONFIG for an invalid name.
 */
int strata_publish_branch(char out[256], const strata_config *cfg,
			  const char *env, strata_error *err);

#ifdef __cplusplus
}
#endif
#endif
