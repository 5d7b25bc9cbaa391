/*
 * render.h - the pipeline: load -> layers -> variables -> transforms -> emit.
 *
 * A strata_repo holds a source, its strata.ini and the parsed base (parsed
 * once per process and shared by every environment rendered from it).
 * strata_render_env() starts from the base (shared copy-on-write: doc.h),
 * applies the environment's overlay
 * layers (patches, then resources/), then variables, images, namespace,
 * name prefix/suffix and labels/annotations, and returns the resources in
 * output order.
 */
#ifndef STRATA_RENDER_H
#define STRATA_RENDER_H

#include "config.h"
#include "resource.h"
#include "source.h"
#include "yaml.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct strata_repo strata_repo;

/*
 * Open a config repository from src (ownership passes to the repo, also on
 * error).  Reads and parses strata.ini; the base is loaded lazily on the
 * first render.  lim may be NULL for the defaults.
 */
int strata_repo_open(strata_repo **out, strata_source *src,
		     const strata_limits *lim, strata_error *err);
void strata_repo_free(strata_repo *repo);
const strata_config *strata_repo_config(const strata_repo *repo);
strata_source *strata_repo_source(const strata_repo *repo);

typedef struct strata_render strata_render;

/* Render one environment.  Errors carry the source position. */
int strata_render_env(strata_render **out, strata_repo *repo, const char *env,
		      strata_error *err);
void strata_render_free(strata_render *r);

/*
 * Collecting mode, for `strata check`.  With on_problem set, problems the
 * render can step over are handed to on_problem(ctx, rule, problem) and
 * the render goes on without what caused them:
 *
 *   "yaml"                a file that cannot be read or parsed (skipped)
 *   "resource"            a document that is not a resource (skipped)
 *   "duplicate-resource"  two base documents with one identity (the
 *                         second skipped)
 *   "resource-collision"  a resources/ document colliding with another, or
 *                         two resources with one identity after a patch
 *                         or a transform
 *   "patch-not-found"     a patch matching nothing (skipped)
 *   "patch-ambiguous"     a patch matching several resources (skipped)
 *   "patch-invalid"       a patch the merge refuses (skipped)
 *   "undefined-variable"  one per variable and place (substituted as "")
 *   "variable-syntax"     a malformed ${...} (variables left as written)
 *   "transform"           images/namespace/names/labels failed (skipped)
 *   "unsafe-path"         a directory listing refused (the directory skipped)
 *   "missing-overlay"     an explicit overlay that does not exist
 *
 * Errors that stop the render (unknown environment, inherit problems,
 * missing base, total size and file-count limits, out of memory) are
 * still returned.  A render that reported problems is incomplete: check
 * it, never publish it.  Parsed files are cached in the repo; a later
 * strata_render_env() on the same repo fails with the first problem the
 * collecting load skipped, so nothing is silently lost.
 */
typedef struct strata_render_opts {
	void (*on_problem)(void *ctx, const char *rule, const strata_error *problem);
	void *ctx;
} strata_render_opts;

/* strata_render_env() with options; opts NULL behaves like it. */
int strata_render_env_opts(strata_render **out, strata_repo *repo,
			   const char *env, const strata_render_opts *opts,
			   strata_error *err);

/*
 * Say the next render is the repo's last.  Renders share the parsed base
 * copy-on-write (doc.h): each copies the maps and lists on the paths it
 * edits.  The last one edits the base itself instead, which saves those
 * copies, unless an earlier render of the repo is still alive (diff
 * holds both sides): then it shares the base like the others.  It also
 * trims the source once its overlays are read.  `strata render` calls it
 * before its only or last environment.  After a render that took the
 * base (even a failed one, once it got as far as the base) the repo
 * renders no more: strata_render_env*() fail with STRATA_EUSAGE.  Open the
 * repository again to render more.  A render refers to the repo's memory:
 * free it before the repo, as always.
 */
void strata_repo_last_render(strata_repo *repo);

/*
 * For renders that follow one another with little between them (render
 * --all): the memory of each render and overlay layer freed is kept for
 * the next one's instead of going back to malloc, which gives it back to
 * the kernel, so the next environment does not fault it in again (at
 * 40,000 resources 10,000 page faults an environment).  Off by default:
 * a caller that does other work between renders (diff's sides and
 * reports, publish's trees) would hold that memory idle beside its own.
 * The repo's last render, strata_repo_release and turning it off give
 * what is kept back.
 */
void strata_repo_reuse_memory(strata_repo *repo, bool on);

/*
 * Free the parsed base and the cached overlay layers of a repo whose base
 * was handed to its last render (strata_repo_last_render), so a caller
 * that keeps the repo for its config and source (publish, which builds
 * trees and a pack after the render) does not keep the parsed input too.
 * Every render of the repo must have been freed first: the last one edited
 * the base in place and its resources point into the repo's memory.  The
 * config and the source stay usable; renders keep failing with
 * STRATA_EUSAGE, as after any last render.  A no-op when the base was not
 * given away (the repo can still render), while a render of it is not
 * freed yet, and for NULL.
 */
void strata_repo_release(strata_repo *repo);

/*
 * Forget the parsed overlay layers that none of the n environments envs
 * uses, so rendering many environments one after the other does not keep
 * every one's overlays.  Renders made from the repo until now must have
 * been freed already (their resources point into the layers): while one
 * is alive this does nothing.  A layer
 * dropped and needed again is read again (and counted again against the
 * file and total limits).  The source's read caches go too (its trim(),
 * when it has one): the next read rebuilds them.
 */
int strata_repo_trim(strata_repo *repo, const char *const *envs, size_t n,
		     strata_error *err);

/*
 * Like strata_repo_open() with a strata.ini already parsed (cfg is taken
 * over, also on error).  `strata check` uses it to go on rendering after
 * reporting strata.ini problems.
 */
int strata_repo_open_config(strata_repo **out, strata_source *src,
			    strata_config *cfg, const strata_limits *lim,
			    strata_error *err);

const strata_env *strata_render_envconf(const strata_render *r);
/* Resources in output order. */
size_t strata_render_count(const strata_render *r);
const strata_resource *strata_render_at(const strata_render *r, size_t i);

/* All documents, separated by "---\n" lines (none before the first). */
int strata_render_stream(strata_buf *out, const strata_render *r);
/* One document. */
int strata_render_resource_yaml(strata_buf *out, const strata_resource *res);

/*
 * The same stream as strata_render_stream, emitted on up to jobs threads
 * and handed to write() in consecutive pieces, in order, on the caller's
 * thread (so the whole text is never held at once).  write returns 0 or a
 * negative code, which stops the emission and is returned.  Returns 0 or
 * STRATA_ENOMEM.
 */
int strata_render_emit(const strata_render *r, unsigned jobs,
		       int (*write)(void *ctx, const char *text, size_t len),
		       void *ctx);
/*
 * The threads strata_render_emit(r, jobs, ...) emits on, the caller's
 * included: 1 for a render of fewer than 1,024 documents (on one thread
 * they took 0.7-0.9 ms at 400, on two 1.0-1.15), else up to jobs, at
 * most one for every two blocks of 64 documents.
 */
unsigned strata_render_emit_jobs(const strata_render *r, unsigned jobs);

/*
 * The file a resource is written to by --out and publish:
 * "<namespace>/<Kind>[.<group>]_<name>.yaml", "_cluster/" for cluster-scoped
 * kinds and "_default/" for namespaced resources without a namespace.
 * Characters outside [A-Za-z0-9.-], and a leading '.', are written as
 * %XX.  Arena string.
 */
const char *strata_render_path(strata_arena *a, const strata_resource *res);

/* A set of files to write: paths relative to the output root. */
typedef struct strata_file {
	char *path;
	char *data;
	size_t len;
} strata_file;

typedef struct strata_filelist {
	strata_file *items;
	size_t n, cap;
} strata_filelist;

int strata_filelist_add(strata_filelist *l, const char *path, char *data,
			size_t len); /* takes data (malloc'ed) */
void strata_filelist_free(strata_filelist *l);

#define STRATA_KUSTOMIZATION_FILE "kustomization.yaml"

/*
 * Append r's files under prefix ("" or "prod/"): one per resource, then
 * prefix + kustomization.yaml listing them, so `kubectl kustomize`, Flux
 * and Argo CD read the directory (or env branch) as it is.
 */
int strata_render_files(strata_filelist *out, const strata_render *r,
			const char *prefix);
/* Append prefix + kustomization.yaml naming l's items [from, n) relative
 * to prefix (which every one of them starts with). */
int strata_filelist_add_kustomization(strata_filelist *l, const char *prefix,
				      size_t from);

/*
 * Write files under dir atomically: they go to a temporary directory beside
 * dir, which replaces dir with rename(2).  An existing dir is replaced only
 * when it is empty or a previous strata output (it holds .strata-render);
 * otherwise STRATA_EREFUSED.  On error nothing is left behind.
 */
int strata_output_write(const char *dir, const strata_filelist *files,
			strata_error *err);

#ifdef __cplusplus
}
#endif
#endif
