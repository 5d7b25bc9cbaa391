/*
 * render.c - the pipeline of one environment:
 *
 *   load (base, once per repo) -> overlay layers (patches, then
 *   resources/) -> variables -> images -> namespace -> name prefix/suffix
 *   -> labels/annotations -> sort -> emit
 *
 * The repo keeps the parsed base in its arena and every parsed overlay
 * layer in one of the layer's own, so `render --all` parses each file once
 * and can drop the layers no later environment uses (strata_repo_trim); an
 * environment shares the base copy-on-write (doc.h): what it edits is
 * copied into its own arena, freed in one go (the last render of a repo
 * may edit the base itself).
 *
 * In collecting mode (strata_render_env_opts with on_problem, for
 * `strata check`) recoverable problems go to the sink through recover()
 * and the pipeline steps over the file, document or patch at fault.  What
 * a collecting load skipped is remembered with the cache (base_err,
 * layer.err) so a later ordinary render fails instead of using it.
 */
#include "strata/render.h"
#include "strata/merge.h"
#include "strata/transform.h"

#include "arena_spare.h"
#include "load.h"
#include "pipeline.h"

#include <stdlib.h>
#include <string.h>

/* One parsed YAML file. */
typedef struct loaded_file {
	const char *path;
	strata_yaml_doc *docs;
	size_t n;
} loaded_file;

typedef struct loaded_dir {
	loaded_file *files;
	size_t n;
} loaded_dir;

/* A parsed overlay layer: patches and new resources. */
typedef struct layer {
	struct layer *next;
	const char *path;
	bool exists;
	strata_arena *arena;     /* what was parsed for it (see strata_repo_trim) */
	loaded_dir patches;
	loaded_dir resources;
	strata_error err;        /* first problem a collecting load skipped */
} layer;

struct strata_repo {
	strata_source *src;
	strata_config *cfg;
	strata_limits lim;
	strata_arena *arena;     /* base, layer structs, paths */
	strata_arena *load;      /* where the load in progress allocates */
	bool base_loaded;
	strata_resource *base;   /* base resources, in load order */
	size_t n_base;
	layer *layers;           /* cache of parsed layers */
	struct pending *pending; /* layers parsed with the base, not taken yet */
	size_t bytes_read;
	size_t files_read;
	strata_error base_err;   /* first problem a collecting load skipped */
	bool give_base;          /* the next render takes the base over */
	bool base_given;         /* ... and it did: no more renders */
	unsigned live;           /* renders not freed yet */
	const strata_render_opts *collect; /* during a collecting render */
	strata_error *keep;      /* where load problems are remembered */
	strata_spare spare;      /* chunks of freed renders and layers */
	bool reuse;              /* strata_repo_reuse_memory: use the spare */
};

struct strata_render {
	strata_repo *repo;
	strata_arena *arena;
	strata_env *env;
	strata_resource **sorted;
	size_t n;
	const strata_render_opts *collect;
};

/*
 * Collecting mode: hand the problem in err to the sink, remember the first
 * one in *keep, clear err and return 0 so the caller skips what caused it.
 * Otherwise (or for out of memory) return rc unchanged.
 */
static int recover(const strata_render_opts *c, strata_error *keep,
		   const char *rule, int rc, strata_error *err)
{
	if (!c || !c->on_problem || rc == STRATA_ENOMEM || !err || !err->code)
		return rc;
	c->on_problem(c->ctx, rule, err);
	if (keep && !keep->code)
		*keep = *err;
	strata_error_clear(err);
	return 0;
}

/* Replay a remembered problem into err (ordinary renders only). */
static int replay(const strata_error *kept, strata_error *err)
{
	return strata_error_set_rule(err, kept->rule, kept->code,
				     kept->file[0] ? kept->file : NULL,
				     kept->line, kept->col, "%s", kept->msg);
}

/* ---- loading ---- */

static bool is_yaml_name(const char *name)
{
	size_t len = strlen(name);

	return (len > 5 && !strcmp(name + len - 5, ".yaml")) ||
	       (len > 4 && !strcmp(name + len - 4, ".yml"));
}

static char *join(strata_arena *a, const char *dir, const char *name)
{
	if (!dir[0])
		return strata_arena_strdup(a, name);
	return strata_arena_printf(a, "%s/%s", dir, name);
}

/* Padding newlines a split may write in all (see load_split). */
#define SPLIT_BUDGET (16u << 20)

/*
 * Collecting mode, after a multi-document file failed to parse: parse it
 * again document by document ("---" lines), so the good documents are
 * kept and every bad one is reported.  Each piece is parsed behind as many
 * newlines as it has lines before it, so positions stay those of the file.
 * Returns 1 when the file was split, 0 when it was not worth it.
 */
static int load_split(strata_repo *repo, loaded_file *f, const char *buf,
		      size_t len, strata_error *err)
{
	size_t starts[1024], lines[1024], n = 1, line = 1, budget = 0;
	strata_yaml_doc *docs = NULL;
	size_t n_docs = 0, cap = 0;
	int rc;

	starts[0] = 0;
	lines[0] = 1;
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		line++;
		if (i + 3 < len + 0 && !memcmp(buf + i + 1, "---", 3) &&
		    (i + 4 == len || buf[i + 4] == ' ' || buf[i + 4] == '\t' ||
		     buf[i + 4] == '\n' || buf[i + 4] == '\r')) {
			if (n == sizeof(starts) / sizeof(starts[0]))
				return 0;
			starts[n] = i + 1;
			lines[n++] = line;
			budget += line;
			if (budget > SPLIT_BUDGET)
				return 0;
		}
	}
	if (n < 2)
		return 0;
	for (size_t k = 0; k < n; k++) {
		size_t end = k + 1 < n ? starts[k + 1] : len, pad = lines[k] - 1;
		size_t plen = pad + (end - starts[k]);
		char *piece = malloc(plen + 1);
		strata_yaml_doc *d = NULL;
		size_t nd = 0;

		if (!piece)
			return STRATA_ENOMEM;
		memset(piece, '\n', pad);
		memcpy(piece + pad, buf + starts[k], end - starts[k]);
		piece[plen] = '\0';
		rc = strata_yaml_load(&d, &nd, repo->load, f->path, piece, plen,
				      &repo->lim, err);
		free(piece);
		if (rc < 0) {
			if ((rc = recover(repo->collect, repo->keep, "yaml", rc, err)) < 0)
				return rc;
			continue;
		}
		if (n_docs + nd > cap) {
			size_t ncap = (n_docs + nd) * 2;
			strata_yaml_doc *nds = strata_arena_alloc(repo->load,
								 ncap * sizeof(*nds));
			if (!nds)
				return STRATA_ENOMEM;
			if (n_docs)
				memcpy(nds, docs, n_docs * sizeof(*nds));
			docs = nds;
			cap = ncap;
		}
		if (nd)
			memcpy(docs + n_docs, d, nd * sizeof(*d));
		n_docs += nd;
	}
	f->docs = docs;
	f->n = n_docs;
	return 1;
}

/*
 * What load_tree listed, in load order: files, and listing problems in
 * their place (path NULL, read_rc the error, err its text).
 */
typedef struct listing {
	strata_load_file *v;
	size_t n, cap;
} listing;

/*
 * An overlay's files, listed and parsed in one step with the base (see
 * load_base), waiting for load_layer to take their outcomes in order.
 */
typedef struct pending {
	struct pending *next;
	const char *path;        /* the overlay, as the environment names it */
	strata_arena *arena;     /* its documents: the layer's arena */
	listing patches;         /* the overlay minus resources/ */
	listing resources;       /* resources/ (empty when there is none) */
	bool has_resources;
} pending;

static strata_load_file *listing_add(listing *ls)
{
	if (ls->n == ls->cap) {
		size_t cap = ls->cap ? ls->cap * 2 : 64;
		strata_load_file *v = realloc(ls->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		ls->v = v;
		ls->cap = cap;
	}
	memset(&ls->v[ls->n], 0, sizeof(ls->v[0]));
	return &ls->v[ls->n++];
}

/* Put a listing problem in its place; 1 when listing must stop there. */
static int listing_problem(listing *ls, int rc, const strata_error *err,
			   bool go_on)
{
	strata_load_file *f = listing_add(ls);

	if (!f || !(f->err = malloc(sizeof(*f->err))))
		return STRATA_ENOMEM;
	*f->err = *err;
	f->read_rc = rc;
	return go_on ? 0 : 1;
}

static void listing_free(listing *ls)
{
	for (size_t i = 0; i < ls->n; i++)
		strata_load_file_release(&ls->v[i]);
	free(ls->v);
	ls->v = NULL;
	ls->n = ls->cap = 0;
}

static void pending_free(pending *p)
{
	listing_free(&p->patches);
	listing_free(&p->resources);
	strata_arena_free(p->arena);
	free(p);
}

static void pendings_free(strata_repo *repo)
{
	while (repo->pending) {
		pending *p = repo->pending;
		repo->pending = p->next;
		pending_free(p);
	}
}

/* Files [from, to) of a parsed listing as a listing of their own. */
static int listing_slice(listing *out, const listing *ls, size_t from, size_t to)
{
	memset(out, 0, sizeof(*out));
	if (from == to)
		return 0;
	out->v = malloc((to - from) * sizeof(*out->v));
	if (!out->v)
		return STRATA_ENOMEM;
	memcpy(out->v, ls->v + from, (to - from) * sizeof(*out->v));
	out->n = out->cap = to - from;
	return 0;
}

/* Every file done (read and parsed, or failed): none left by a stop. */
static bool listing_complete(const listing *ls)
{
	for (size_t i = 0; i < ls->n; i++)
		if (!ls->v[i].done)
			return false;
	return true;
}

/*
 * List every *.yaml / *.yml below dir, depth first in sorted name order.
 * Hidden entries (".git", ".cache.yaml") are skipped.  skip, when set, is a
 * subdirectory path not to descend into (an overlay's resources/).
 * Returns 0, 1 when a problem ended the listing (it is in ls, in its
 * place), or STRATA_ENOMEM.
 */
static int load_tree(strata_repo *repo, listing *ls, const char *dir,
		     const char *skip, strata_error *err)
{
	strata_source_entry *ents = NULL;
	size_t n = 0;
	int rc;

	rc = repo->src->list(repo->src, dir, &ents, &n, err);
	if (rc < 0) {
		/* a collecting load steps over a directory that leaves the repo */
		rc = rc == STRATA_ENOMEM ? rc
			: listing_problem(ls, rc, err,
					  rc == STRATA_EUNSAFE && repo->collect);
		strata_error_clear(err);
		return rc;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		char *path;
		if (ents[i].name[0] == '.')
			continue;
		path = join(repo->load, dir, ents[i].name);
		if (!path) {
			rc = STRATA_ENOMEM;
			break;
		}
		if (ents[i].type == STRATA_ENTRY_DIR) {
			if (skip && !strcmp(path, skip))
				continue;
			rc = load_tree(repo, ls, path, skip, err);
		} else if (ents[i].type == STRATA_ENTRY_FILE && is_yaml_name(ents[i].name)) {
			strata_load_file *f;
			if (++repo->files_read > repo->lim.max_files) {
				strata_error_set(err, STRATA_ELIMIT, path, 0, 0,
						 "too many files (limit %zu)",
						 repo->lim.max_files);
				rc = listing_problem(ls, STRATA_ELIMIT, err, false);
				strata_error_clear(err);
				break;
			}
			if (!(f = listing_add(ls))) {
				rc = STRATA_ENOMEM;
				break;
			}
			f->path = path;
		}
	}
	strata_source_entries_free(ents, n);
	return rc;
}

/*
 * The outcomes of a parsed listing, in list order (rc: the load's own
 * result); frees the listing.
 */
static int walk_listed(strata_repo *repo, loaded_dir *out, listing *ls, int rc,
		       strata_error *err)
{
	bool skipped = false;

	if (!ls->n) {
		listing_free(ls);
		return rc;
	}
	if (rc == 0 && !(out->files = strata_arena_alloc(repo->load,
							 ls->n * sizeof(*out->files))))
		rc = STRATA_ENOMEM;
	for (size_t i = 0; i < ls->n && rc == 0; i++) {
		strata_load_file *f = &ls->v[i];
		loaded_file *lf;

		if (f->read_rc < 0) {
			const char *rule = f->read_rc == STRATA_EUNSAFE ? "unsafe-path" : "yaml";
			if (!f->err) {
				rc = STRATA_ENOMEM;
				break;
			}
			*err = *f->err;
			/* a listing problem other than an unsafe link is fatal */
			rc = !f->path && f->read_rc != STRATA_EUNSAFE
				? f->read_rc
				: recover(repo->collect, repo->keep, rule, f->read_rc, err);
			continue;
		}
		if (!f->path)
			continue;
		repo->bytes_read += f->len;
		if (repo->bytes_read > repo->lim.max_total) {
			rc = strata_error_set(err, STRATA_ELIMIT, f->path, 0, 0,
					      "total input exceeds %zu bytes",
					      repo->lim.max_total);
			break;
		}
		if (!f->done) {
			skipped = true; /* never: a failure before it ends the walk */
			continue;
		}
		lf = &out->files[out->n];
		lf->path = f->path;
		lf->docs = f->docs;
		lf->n = f->n;
		if ((rc = f->rc) < 0) {
			if (!f->err) {
				rc = STRATA_ENOMEM;
				break;
			}
			*err = *f->err;
		}
		if (rc == STRATA_EPARSE && repo->collect) {
			strata_error first = *err;
			strata_error_clear(err);
			rc = load_split(repo, lf, f->buf, f->len, err);
			if (rc == 0)
				*err = first;
			rc = rc > 0 ? 0 : rc == 0 ? STRATA_EPARSE : rc;
		}
		if (rc < 0) {
			rc = recover(repo->collect, repo->keep, "yaml", rc, err);
			continue;
		}
		out->n++;
	}
	if (rc == 0 && skipped)
		rc = strata_error_set(err, STRATA_ERROR, NULL, 0, 0,
				      "internal error: a file was not loaded");
	listing_free(ls);
	return rc;
}

/* The load of the next files: into repo->load, after what was read. */
static strata_load_job load_job(const strata_repo *repo)
{
	strata_load_job job = {
		.src = repo->src, .lim = &repo->lim, .arena = repo->load,
		.bytes_before = repo->bytes_read, .keep_bad = repo->collect != NULL,
	};

	return job;
}

/*
 * Read and parse what load_tree listed (strata_load_files: on lim.jobs
 * threads), then take the outcomes in list order, so the first problem in
 * that order is the one reported, or, collecting, the problems reach the
 * sink in that order: the same as loading one file after the other.
 */
static int load_listed(strata_repo *repo, loaded_dir *out, listing *ls,
		       strata_error *err)
{
	strata_load_job job = load_job(repo);

	if (!ls->n)
		return 0;
	return walk_listed(repo, out, ls, strata_load_files(ls->v, ls->n, &job), err);
}

/* List dir (load_tree), then load what was listed. */
static int load_dir(strata_repo *repo, loaded_dir *out, const char *dir,
		    const char *skip, strata_error *err)
{
	listing ls = { 0 };
	int rc = load_tree(repo, &ls, dir, skip, err);

	if (rc < 0) {
		listing_free(&ls);
		return rc;
	}
	return load_listed(repo, out, &ls, err);
}

/*
 * List env's overlays after the base in ls, each overlay's files a group
 * of their own (prefetch): one parallel step then reads and parses them
 * with the base, instead of a step for each overlay after it (a step's
 * fixed costs, its parsers made anew, the helper's wake-up and the tail
 * of the base step with one thread idle: 0.9-1.1 ms of a 100-app render,
 * of which 50 small patch files need 0.5).  Only overlays that are
 * directories, not cached and not listed yet; the rest load_layer loads
 * as before.  Nothing here reports: a listing problem stays in its place
 * in ls, and load_layer meets it when it takes the overlay's outcomes,
 * in the order loading one directory after another would.  Returns 0 or
 * STRATA_ENOMEM.
 */
static int prefetch_overlays(strata_repo *repo, const strata_env *env, listing *ls,
			     strata_arena **arenas, size_t *group_end,
			     size_t *n_groups, pending **ps, size_t *seg)
{
	strata_error scratch;
	pending **tail = &repo->pending;
	int rc = 0;

	for (size_t i = 0; env && i < env->n_overlays; i++) {
		const char *path = env->overlays[i];
		char *res_dir;
		pending *p;
		int type = 0, res_type = 0;
		bool seen = false;

		if (*n_groups + 1 > STRATA_LOAD_MAX_GROUPS)
			break;
		for (layer *l = repo->layers; l && !seen; l = l->next)
			seen = !strcmp(l->path, path);
		for (pending *q = repo->pending; q && !seen; q = q->next)
			seen = !strcmp(q->path, path);
		if (seen)
			continue;
		strata_error_clear(&scratch);
		res_dir = join(repo->arena, path, "resources");
		if (!res_dir)
			return STRATA_ENOMEM;
		if (repo->src->stat(repo->src, path, &type, &scratch) < 0 ||
		    type != STRATA_ENTRY_DIR ||
		    repo->src->stat(repo->src, res_dir, &res_type, &scratch) < 0)
			continue; /* load_layer says what is wrong */
		p = calloc(1, sizeof(*p));
		if (!p || !(p->arena = strata_arena_new()) ||
		    !(p->path = strata_arena_strdup(repo->arena, path))) {
			if (p)
				strata_arena_free(p->arena);
			free(p);
			return STRATA_ENOMEM;
		}
		if (repo->reuse)
			strata_arena_use_spare(p->arena, &repo->spare);
		p->has_resources = res_type == STRATA_ENTRY_DIR;
		*tail = p;
		tail = &p->next;
		/* the listing's paths live with the layer, as load_layer's do */
		repo->load = p->arena;
		seg[2 * (*n_groups)] = ls->n;
		rc = load_tree(repo, ls, path, res_dir, &scratch);
		seg[2 * (*n_groups) + 1] = ls->n;
		if (rc >= 0 && p->has_resources)
			rc = load_tree(repo, ls, res_dir, NULL, &scratch);
		repo->load = repo->arena;
		if (rc < 0)
			return rc;
		arenas[*n_groups] = p->arena;
		ps[*n_groups] = p;
		group_end[(*n_groups)++] = ls->n;
	}
	return 0;
}

/*
 * The base's files and, in the same step, env's overlays' (see
 * prefetch_overlays); the base's outcomes in dir, each overlay's left
 * pending for load_layer.
 */
static int load_base_files(strata_repo *repo, const strata_env *env,
			   loaded_dir *dir, strata_error *err)
{
	listing ls = { 0 }, base_ls;
	strata_arena *arenas[STRATA_LOAD_MAX_GROUPS];
	size_t group_end[STRATA_LOAD_MAX_GROUPS], n_groups = 1;
	size_t seg[2 * STRATA_LOAD_MAX_GROUPS];
	pending *ps[STRATA_LOAD_MAX_GROUPS];
	strata_load_job job = load_job(repo);
	int rc;

	job.arenas = arenas;
	job.group_end = group_end;
	rc = load_tree(repo, &ls, repo->cfg->base, NULL, err);
	arenas[0] = repo->arena;
	group_end[0] = ls.n;
	if (rc >= 0)
		rc = prefetch_overlays(repo, env, &ls, arenas, group_end,
				       &n_groups, ps, seg);
	if (rc < 0)
		goto fail;
	job.n_groups = n_groups;
	rc = ls.n ? strata_load_files(ls.v, ls.n, &job) : 0;
	/*
	 * Each overlay's outcomes wait for load_layer, in listings of their
	 * own; from the last, so ls always owns [0, ls.n) and the pending
	 * overlays the rest.
	 */
	for (size_t g = n_groups - 1; g > 0 && rc == 0; g--) {
		pending *p = ps[g];
		rc = listing_slice(&p->patches, &ls, seg[2 * g], seg[2 * g + 1]);
		if (rc == 0)
			rc = listing_slice(&p->resources, &ls, seg[2 * g + 1],
					   group_end[g]);
		if (rc == 0)
			ls.n = seg[2 * g];
	}
	if (rc < 0)
		goto fail;
	base_ls = ls;
	base_ls.n = group_end[0];
	return walk_listed(repo, dir, &base_ls, 0, err);
fail:
	listing_free(&ls);
	pendings_free(repo);
	return rc;
}

static int load_base(strata_repo *repo, const strata_env *env, strata_error *err)
{
	loaded_dir dir = { 0 };
	strata_arena *scratch;
	strata_resset *seen;
	size_t total = 0, k = 0;
	int type = 0, rc;
	const char *base = repo->cfg->base;

	if (repo->base_given)
		return strata_error_set(err, STRATA_EUSAGE, NULL, 0, 0,
					"the repository's base was handed to an earlier render (open it again to render more)");
	if (repo->base_loaded)
		return repo->base_err.code && !repo->collect
			? replay(&repo->base_err, err) : 0;
	repo->keep = &repo->base_err;
	repo->load = repo->arena;
	rc = repo->src->stat(repo->src, base, &type, err);
	if (rc < 0)
		return rc;
	if (type != STRATA_ENTRY_DIR)
		return strata_error_set_rule(err, "missing-base", STRATA_ECONFIG, STRATA_CONFIG_FILE,
					repo->cfg->base_line, repo->cfg->base_line ? 1 : 0,
					"base directory '%s' %s", base,
					type ? "is not a directory" : "does not exist");
	rc = load_base_files(repo, env, &dir, err);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < dir.n; i++)
		total += dir.files[i].n;
	repo->base = strata_arena_alloc(repo->arena, (total ? total : 1) * sizeof(*repo->base));
	/* the duplicate check's set is needed only here: 5 MB at 40,000 */
	scratch = strata_arena_new();
	seen = scratch ? strata_resset_new(scratch) : NULL;
	if (!repo->base || !seen || strata_resset_reserve(seen, total) < 0) {
		strata_arena_free(scratch);
		return STRATA_ENOMEM;
	}
	rc = 0;
	for (size_t i = 0; i < dir.n && rc == 0; i++) {
		for (size_t j = 0; j < dir.files[i].n; j++) {
			strata_yaml_doc *d = &dir.files[i].docs[j];
			rc = strata_resource_init(&repo->base[k], repo->arena, d->root,
						  dir.files[i].path, d->line, d->col, err);
			if (rc < 0) {
				if ((rc = recover(repo->collect, repo->keep, "resource",
						  rc, err)) < 0)
					break;
				continue;
			}
			repo->base[k].dollar_free = d->dollar_free;
			/* two base documents with one identity are an error */
			rc = strata_resset_add(seen, &repo->base[k], NULL, err);
			if (rc < 0) {
				if ((rc = recover(repo->collect, repo->keep,
						  "duplicate-resource", rc, err)) < 0)
					break;
				continue;
			}
			k++;
		}
	}
	strata_arena_free(scratch);
	if (rc < 0)
		return rc;
	strata_arena_trim(repo->arena); /* the base is read-only from here */
	repo->n_base = k;
	repo->base_loaded = true;
	return 0;
}

/*
 * A layer from an overlay parsed with the base: its outcomes taken in
 * order, as load_layer takes a directory's after loading it.  Frees p.
 */
static int take_pending(layer **out, strata_repo *repo, pending *p,
			strata_error *err)
{
	layer *l = strata_arena_alloc(repo->arena, sizeof(*l));
	int rc;

	if (!l) {
		pending_free(p);
		return STRATA_ENOMEM;
	}
	memset(l, 0, sizeof(*l));
	l->path = p->path;
	l->exists = true;
	l->arena = p->arena;
	p->arena = NULL;
	repo->keep = &l->err;
	repo->load = l->arena;
	rc = walk_listed(repo, &l->patches, &p->patches, 0, err);
	if (rc >= 0 && p->has_resources)
		rc = walk_listed(repo, &l->resources, &p->resources, 0, err);
	pending_free(p);
	if (rc < 0) {
		/* not cached: a later render loads it again */
		strata_arena_free(l->arena);
		return rc;
	}
	strata_arena_trim(l->arena); /* cached, read-only from here */
	l->next = repo->layers;
	repo->layers = l;
	*out = l;
	return 0;
}

static int load_layer(layer **out, strata_repo *repo, const char *path,
		      bool explicit_path, const char *declared_by,
		      strata_error *err)
{
	layer *l;
	int type = 0, rc;
	char *res_dir;

	*out = NULL;
	for (l = repo->layers; l; l = l->next)
		if (!strcmp(l->path, path)) {
			*out = l;
			return l->err.code && !repo->collect ? replay(&l->err, err) : 0;
		}
	for (pending **pp = &repo->pending; *pp; pp = &(*pp)->next) {
		pending *p = *pp;

		if (strcmp(p->path, path))
			continue;
		*pp = p->next;
		/* a stop (a failure or the byte limit) left files undone:
		 * load it as if it had never been listed */
		if (!listing_complete(&p->patches) || !listing_complete(&p->resources)) {
			pending_free(p);
			break;
		}
		return take_pending(out, repo, p, err);
	}
	rc = repo->src->stat(repo->src, path, &type, err);
	if (rc < 0)
		return rc;
	if (type != STRATA_ENTRY_DIR && (explicit_path || type != 0)) {
		const strata_env_config *ec = strata_config_find(repo->cfg, declared_by);
		int line = ec ? (explicit_path ? ec->overlay_line : ec->line) : 0;
		rc = strata_error_set_rule(err, "missing-overlay", STRATA_ECONFIG, STRATA_CONFIG_FILE, line,
				      line ? 1 : 0,
				      "overlay '%s' of env '%s' %s", path, declared_by,
				      type ? "is not a directory" : "does not exist");
		/* collecting: *out stays NULL and the layer is left out */
		return recover(repo->collect, NULL, "missing-overlay", rc, err);
	}
	l = strata_arena_alloc(repo->arena, sizeof(*l));
	if (!l)
		return STRATA_ENOMEM;
	memset(l, 0, sizeof(*l));
	l->path = strata_arena_strdup(repo->arena, path);
	l->exists = type == STRATA_ENTRY_DIR;
	l->arena = strata_arena_new();
	if (!l->arena)
		return STRATA_ENOMEM;
	if (repo->reuse)
		strata_arena_use_spare(l->arena, &repo->spare);
	repo->keep = &l->err;
	repo->load = l->arena;
	if (l->exists) {
		res_dir = join(repo->arena, path, "resources");
		if (!res_dir || !l->path) {
			rc = STRATA_ENOMEM;
			goto fail;
		}
		rc = load_dir(repo, &l->patches, path, res_dir, err);
		if (rc < 0)
			goto fail;
		rc = repo->src->stat(repo->src, res_dir, &type, err);
		if (rc < 0)
			goto fail;
		if (type == STRATA_ENTRY_DIR) {
			rc = load_dir(repo, &l->resources, res_dir, NULL, err);
			if (rc < 0)
				goto fail;
		}
	}
	strata_arena_trim(l->arena); /* cached, read-only from here */
	l->next = repo->layers;
	repo->layers = l;
	*out = l;
	return 0;
fail:
	/* not cached: a later render loads it again */
	strata_arena_free(l->arena);
	return rc;
}

/* ---- repo ---- */

int strata_repo_open(strata_repo **out, strata_source *src,
		     const strata_limits *lim, strata_error *err)
{
	strata_config *cfg = NULL;
	strata_limits dl;
	char *buf = NULL;
	size_t len = 0;
	int type = 0, rc;

	*out = NULL;
	if (!lim) {
		strata_limits_default(&dl);
		lim = &dl;
	}
	src->max_file = lim->max_file;
	rc = src->stat(src, STRATA_CONFIG_FILE, &type, err);
	if (rc < 0)
		goto fail;
	if (type != STRATA_ENTRY_FILE) {
		rc = strata_error_set_rule(err, "no-config", STRATA_ECONFIG, STRATA_CONFIG_FILE, 0, 0,
				      "not a strata repository (no %s here; use -C DIR)",
				      STRATA_CONFIG_FILE);
		goto fail;
	}
	rc = src->read(src, STRATA_CONFIG_FILE, &buf, &len, err);
	if (rc < 0)
		goto fail;
	rc = strata_config_parse(&cfg, STRATA_CONFIG_FILE, buf, len, err);
	free(buf);
	if (rc < 0)
		goto fail;
	return strata_repo_open_config(out, src, cfg, lim, err);
fail:
	strata_source_free(src);
	return rc;
}

int strata_repo_open_config(strata_repo **out, strata_source *src,
			    strata_config *cfg, const strata_limits *lim,
			    strata_error *err)
{
	strata_repo *repo;

	(void)err;
	*out = NULL;
	repo = calloc(1, sizeof(*repo));
	if (!repo) {
		strata_source_free(src);
		strata_config_free(cfg);
		return STRATA_ENOMEM;
	}
	repo->src = src;
	repo->cfg = cfg;
	if (lim)
		repo->lim = *lim;
	else
		strata_limits_default(&repo->lim);
	src->max_file = repo->lim.max_file;
	repo->arena = strata_arena_new();
	if (!repo->arena) {
		strata_repo_free(repo);
		return STRATA_ENOMEM;
	}
	*out = repo;
	return 0;
}

void strata_repo_free(strata_repo *repo)
{
	if (!repo)
		return;
	for (layer *l = repo->layers; l; l = l->next)
		strata_arena_free(l->arena);
	pendings_free(repo);
	strata_spare_close(&repo->spare);
	strata_source_free(repo->src);
	strata_config_free(repo->cfg);
	strata_arena_free(repo->arena);
	free(repo);
}

void strata_repo_last_render(strata_repo *repo)
{
	repo->give_base = true;
}

void strata_repo_reuse_memory(strata_repo *repo, bool on)
{
	repo->reuse = on;
	if (on)
		repo->spare.closed = false;
	else
		strata_spare_close(&repo->spare);
}

void strata_repo_release(strata_repo *repo)
{
	if (!repo)
		return;
	/* what comes next (trees, packs, reports) is no render: give the
	 * spare chunks back; renders and layers freed later free theirs */
	strata_spare_close(&repo->spare);
	if (!repo->base_given || repo->live)
		return; /* a render alive points into the base: keep it */
	/* the layer structs live in repo->arena: walk them before it goes */
	for (layer *l = repo->layers; l; l = l->next)
		strata_arena_free(l->arena);
	repo->layers = NULL;
	pendings_free(repo);
	strata_arena_free(repo->arena);
	repo->arena = NULL;
	repo->load = NULL;
	repo->base = NULL;
	repo->n_base = 0;
}

int strata_repo_trim(strata_repo *repo, const char *const *envs, size_t n,
		     strata_error *err)
{
	strata_env **keep;
	layer **lp;
	int rc = 0;

	if (repo->live)
		return 0; /* a render alive may point into any layer */
	keep = calloc(n ? n : 1, sizeof(*keep));
	if (!keep)
		return STRATA_ENOMEM;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = strata_config_env(&keep[i], repo->cfg, envs[i], err);
	if (rc < 0)
		goto done;
	for (lp = &repo->layers; *lp;) {
		layer *l = *lp;
		bool used = false;

		for (size_t i = 0; i < n && !used; i++)
			for (size_t k = 0; k < keep[i]->n_overlays && !used; k++)
				used = !strcmp(keep[i]->overlays[k], l->path);
		if (used) {
			lp = &l->next;
			continue;
		}
		/* the struct stays in repo->arena: it is small */
		*lp = l->next;
		strata_arena_free(l->arena);
	}
	/* overlays parsed with the base and never taken (the render that
	 * wanted them failed): a later environment loads them again */
	pendings_free(repo);
	/*
	 * What the source caches for reads (the git source: libgit2's
	 * delta-base cache, cached trees, mapped packs) served environments
	 * that are done; the next one reads other overlays.  Kept, it grew
	 * publish --all's in-use heap by 1.2-1.7 MB an environment at 40,000
	 * resources.  Reopening costs a repository open and a tree lookup.
	 */
	if (repo->src->trim)
		repo->src->trim(repo->src);
done:
	for (size_t i = 0; i < n; i++)
		strata_env_free(keep[i]);
	free(keep);
	return rc;
}

const strata_config *strata_repo_config(const strata_repo *repo)
{
	return repo->cfg;
}

strata_source *strata_repo_source(const strata_repo *repo)
{
	return repo->src;
}

/* ---- render ---- */

static int patch_identity(strata_arena *a, const strata_yaml_doc *d,
			  const char *file, strata_resource *pr,
			  strata_error *err)
{
	int rc = strata_resource_init(pr, a, d->root, file, d->line, d->col, err);

	if (rc < 0)
		return rc;
	return 0;
}

static int apply_layer(strata_render *r, strata_resset *set, layer *l,
		       strata_error *err)
{
	bool moved = false;
	int rc;

	for (size_t i = 0; i < l->patches.n; i++) {
		const loaded_file *f = &l->patches.files[i];
		for (size_t j = 0; j < f->n; j++) {
			strata_resource pr, *target;
			strata_node *before;
			bool del = false;
			const char *old_ns;
			const strata_node *pns;

			rc = patch_identity(r->arena, &f->docs[j], f->path, &pr, err);
			if (rc < 0) {
				if ((rc = recover(r->collect, &l->err, "resource", rc,
						  err)) < 0)
					return rc;
				continue;
			}
			pns = strata_node_at(pr.root, "metadata", "namespace", NULL);
			rc = strata_resset_match(&target, set, pr.group, pr.kind,
						 pns ? pr.ns : NULL, pr.name, f->path,
						 pr.line, pr.col, err);
			if (rc < 0) {
				rc = recover(r->collect, NULL,
					     rc == STRATA_EAMBIGUOUS ? "patch-ambiguous"
								     : "patch-not-found",
					     rc, err);
				if (rc < 0)
					return rc;
				continue;
			}
			old_ns = target->ns;
			/* what the patch brings may hold variables */
			target->dollar_free = target->dollar_free && f->docs[j].dollar_free;
			/*
			 * Collecting, a patch the merge refuses is skipped whole:
			 * it merges into a copy, kept only when it succeeds (a
			 * merge that fails halfway has edited some of what it
			 * copied and some of what it owned).
			 */
			before = target->root;
			if (!(r->collect ? (target->root = strata_node_copy(r->arena, before))
					 : strata_node_own(r->arena, &target->root, 0)))
				return STRATA_ENOMEM;
			rc = strata_merge_patch(r->arena, target->root, pr.root,
						target->group, target->kind, &del, err);
			if (rc < 0) {
				if ((rc = recover(r->collect, NULL, "patch-invalid", rc, err)) < 0)
					return rc;
				target->root = before;
				continue;
			}
			if (del) {
				strata_resset_delete(set, target);
				continue;
			}
			strata_resource_refresh(target, r->arena);
			if (strcmp(old_ns, target->ns) != 0)
				moved = true;
		}
	}
	if (moved && (rc = strata_resset_reindex(set, err)) < 0 &&
	    (rc = recover(r->collect, NULL, "resource-collision", rc, err)) < 0)
		return rc;
	for (size_t i = 0; i < l->resources.n; i++) {
		const loaded_file *f = &l->resources.files[i];
		for (size_t j = 0; j < f->n; j++) {
			strata_resource res;
			strata_node *copy = strata_node_copy(r->arena, f->docs[j].root);
			if (!copy)
				return STRATA_ENOMEM;
			rc = strata_resource_init(&res, r->arena, copy, f->path,
						  f->docs[j].line, f->docs[j].col, err);
			if (rc < 0) {
				/* collecting: reported once per layer, not per env */
				if ((rc = recover(r->collect, &l->err, "resource", rc,
						  err)) < 0)
					return rc;
				continue;
			}
			res.dollar_free = f->docs[j].dollar_free;
			rc = strata_resset_add(set, &res, NULL, err);
			if ((rc = recover(r->collect, NULL, "resource-collision", rc,
					  err)) < 0)
				return rc;
		}
	}
	return 0;
}

/* ---- variables in collecting mode ---- */

static void kv_list_free(strata_kvlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].key);
		free(l->items[i].value);
	}
	free(l->items);
	memset(l, 0, sizeof(*l));
}

/* Append a malloc'ed copy of key = value (no duplicate check). */
static int kv_list_add(strata_kvlist *l, const char *key, const char *value)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		strata_kv *items = realloc(l->items, cap * sizeof(*items));
		if (!items)
			return STRATA_ENOMEM;
		l->items = items;
		l->cap = cap;
	}
	l->items[l->n].key = strdup(key);
	l->items[l->n].value = strdup(value ? value : "");
	l->items[l->n].line = 0;
	if (!l->items[l->n].key || !l->items[l->n].value) {
		free(l->items[l->n].key);
		free(l->items[l->n].value);
		return STRATA_ENOMEM;
	}
	l->n++;
	return 0;
}

static int kv_list_copy(strata_kvlist *out, const strata_kvlist *in)
{
	for (size_t i = 0; i < in->n; i++)
		if (kv_list_add(out, in->items[i].key, in->items[i].value) < 0)
			return STRATA_ENOMEM;
	return 0;
}

typedef struct var_walk {
	strata_render *r;
	strata_kvlist vars;      /* the env's variables, plus := definitions */
	strata_kvlist missing;   /* undefined names, each once, value "" */
	strata_buf out, undef;
} var_walk;

/* Report each undefined variable of one scalar value at the scalar. */
static int walk_scalar(var_walk *w, const strata_node *n)
{
	const strata_kvlist *env_vars = &w->r->env->vars;
	int rc;

	if (!memchr(n->u.scalar.str, '$', n->u.scalar.len))
		return 0;
	w->out.len = 0;
	w->undef.len = 0;
	rc = strata_vars_subst(&w->out, n->u.scalar.str, n->u.scalar.len, &w->vars,
			       NULL, &w->undef);
	if (rc == STRATA_ENOMEM)
		return rc;
	if (rc < 0) /* syntax: strata_transform_vars reports it with detail */
		return 0;
	for (size_t off = 0; off < w->undef.len; off += strlen(w->undef.ptr + off) + 1) {
		const char *name = w->undef.ptr + off;
		const char *names[64];
		const char *hint;
		size_t k = 0;
		strata_error e;

		/* once per scalar */
		for (size_t o = 0; o < off; o += strlen(w->undef.ptr + o) + 1)
			if (!strcmp(w->undef.ptr + o, name))
				goto next;
		for (size_t i = 0; i < env_vars->n && k < 64; i++)
			names[k++] = env_vars->items[i].key;
		hint = strata_suggest(name, names, k);
		strata_error_clear(&e);
		strata_error_set(&e, STRATA_EUNDEFVAR, strata_node_file(n), (int)n->line, (int)n->col,
				 "undefined variable '%s'%s%s%s", name,
				 hint ? " (did you mean '" : "", hint ? hint : "",
				 hint ? "'?)" : "");
		w->r->collect->on_problem(w->r->collect->ctx, "undefined-variable", &e);
		if (!strata_kvlist_get(&w->missing, name) &&
		    kv_list_add(&w->missing, name, "") < 0)
			return STRATA_ENOMEM;
next:;
	}
	return 0;
}

/* Values only, never keys, depth first: the order strata_transform_vars uses. */
static int walk_node(var_walk *w, const strata_node *n)
{
	int rc;

	switch (n->type) {
	case STRATA_NODE_SCALAR:
		return walk_scalar(w, n);
	case STRATA_NODE_MAP:
		for (uint32_t i = 0; i < n->u.map.n; i++)
			if ((rc = walk_node(w, n->u.map.pairs[i].value)) < 0)
				return rc;
		return 0;
	case STRATA_NODE_SEQ:
		for (uint32_t i = 0; i < n->u.seq.n; i++)
			if ((rc = walk_node(w, n->u.seq.items[i])) < 0)
				return rc;
		return 0;
	}
	return 0;
}

/*
 * Variables, collecting: every use of an undefined variable is reported on
 * its own, then the substitution runs with those variables empty so the
 * rest of the render sees the other values substituted.
 */
static int collect_vars(strata_render *r, strata_resset *set, strata_error *err)
{
	var_walk w;
	strata_kvlist vars = { 0 };
	int rc = 0;

	memset(&w, 0, sizeof(w));
	w.r = r;
	if ((rc = kv_list_copy(&w.vars, &r->env->vars)) < 0)
		goto done;
	for (size_t i = 0; i < strata_resset_count(set) && rc == 0; i++) {
		const strata_resource *res = strata_resset_at(set, i);
		if (!res->deleted)
			rc = walk_node(&w, res->root);
	}
	if (rc < 0)
		goto done;
	if ((rc = kv_list_copy(&vars, &r->env->vars)) < 0 ||
	    (rc = kv_list_copy(&vars, &w.missing)) < 0)
		goto done;
	rc = strata_transform_vars_unindexed(r->arena, set, &vars, err);
	if (rc < 0)
		rc = recover(r->collect, NULL,
			     rc == STRATA_EUNDEFVAR ? "undefined-variable"
						    : "variable-syntax", rc, err);
done:
	kv_list_free(&w.vars);
	kv_list_free(&w.missing);
	kv_list_free(&vars);
	strata_buf_free(&w.out);
	strata_buf_free(&w.undef);
	return rc;
}

int strata_render_env(strata_render **out, strata_repo *repo, const char *env,
		      strata_error *err)
{
	return strata_render_env_opts(out, repo, env, NULL, err);
}

/* A transform's failure: fatal, or reported and stepped over. */
#define TRANSFORM(r, call, rule)                                          \
	(((rc = (call)) < 0) ? (rc = recover((r)->collect, NULL, (rule), rc, e)) \
			     : 0)

/*
 * From this many base resources a render's arena starts with full-size
 * chunks (strata_arena_expect_big).  Grown through the small ones, it
 * took a block page past the few pages.c keeps huge once the load step
 * had several arenas growing (the base's and each overlay's, a thread
 * each): a 40,000-resource render faulted 5,595 times, 4,768 this way
 * (peak 128.7 -> 127.4 MB; diff of two environments 151.3 MB either
 * way).  Not lower: at 4,000 it saved 183 faults but a 2 MiB page a
 * render cost `diff --all` with ten environments 32.5 -> 34.9 MB, near
 * its limit (4 x input + 16 MB = 35.8).
 */
#define BIG_RENDER 8192

int strata_render_env_opts(strata_render **out, strata_repo *repo,
			   const char *env, const strata_render_opts *opts,
			   strata_error *err)
{
	strata_render *r;
	strata_resset *set;
	strata_error scratch, *e = err;
	strata_image_rules *images = NULL;
	bool take, last;
	int rc, fin;

	*out = NULL;
	/*
	 * The repo's last render takes the base over and edits it in place,
	 * unless an earlier render still looks at it (diff holds both sides).
	 */
	last = repo->give_base;
	take = last && !repo->live;
	repo->give_base = false;
	if (opts && !opts->on_problem)
		opts = NULL;
	if (opts) {
		/* problems pass through a private error so each can be cleared */
		strata_error_clear(&scratch);
		e = &scratch;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return STRATA_ENOMEM;
	r->collect = opts;
	repo->collect = opts;
	r->repo = repo;
	repo->live++;
	r->arena = strata_arena_new();
	if (!r->arena) {
		rc = STRATA_ENOMEM;
		goto fail;
	}
	if (repo->reuse)
		strata_arena_use_spare(r->arena, &repo->spare);
	strata_arena_set_cow(r->arena, !take);
	rc = strata_config_env(&r->env, repo->cfg, env, e);
	if (rc < 0)
		goto fail;
	rc = load_base(repo, r->env, e);
	if (rc < 0)
		goto fail;
	/* a big render's copies take megabytes: huge chunks from the start */
	if (repo->n_base >= BIG_RENDER)
		strata_arena_expect_big(r->arena);
	set = strata_resset_new(r->arena);
	if (!set || strata_resset_reserve(set, repo->n_base) < 0) {
		rc = STRATA_ENOMEM;
		goto fail;
	}
	/*
	 * The environment's resources start as the base's.  Its arena is
	 * copy-on-write (doc.h): an edit copies the maps and sequences on its
	 * path, the rest stays shared with the base and the other renders.
	 * The repo's last render edits the base itself instead, and the repo
	 * can render no more.  Taking it is safe because no node occurs twice
	 * in a parsed tree (aliases are expanded into copies).
	 */
	if (take)
		repo->base_given = true;
	for (size_t i = 0; i < repo->n_base; i++) {
		rc = strata_resset_add(set, &repo->base[i], NULL, e);
		if (rc < 0)
			goto fail;
	}
	for (size_t i = 0; i < r->env->n_overlays; i++) {
		layer *l = NULL;
		rc = load_layer(&l, repo, r->env->overlays[i],
				r->env->overlay_explicit[i], r->env->overlay_from[i],
				e);
		if (rc < 0)
			goto fail;
		if (!l) /* collecting: a missing overlay was reported */
			continue;
		rc = apply_layer(r, set, l, e);
		if (rc < 0)
			goto fail;
	}
	/* the repository's last render has read everything it will read */
	if (last && repo->src->trim)
		repo->src->trim(repo->src);
	if (opts)
		rc = collect_vars(r, set, e);
	else
		rc = strata_transform_vars_unindexed(r->arena, set, &r->env->vars, e);
	if (rc < 0)
		goto fail;
	/* rules that do not check out are a config error (or, collecting,
	 * reported and skipped: no image changes, the rest goes on) */
	if (TRANSFORM(r, strata_image_rules_new(&images, &r->env->images, e),
		      "transform") < 0)
		goto fail;
	/* images, namespace, names and labels/annotations: resource by resource */
	fin = TRANSFORM(r, strata_transform_finish_unindexed(r->arena, set, images,
							   r->env->namespace,
							   r->env->name_prefix,
							   r->env->name_suffix,
							   &r->env->labels,
							   &r->env->annotations,
							   repo->lim.jobs, e),
		      "transform");
	strata_image_rules_free(images);
	if (fin < 0)
		goto fail;
	/*
	 * The transforms leave the set's index stale (pipeline.h): one
	 * reindex here finds the resources the transforms made one.  Every
	 * step refreshed the identities it changed, unless a collecting
	 * render stepped over a failed one: then read them all again.
	 */
	if (TRANSFORM(r, opts ? strata_resset_reindex(set, e)
			      : strata_resset_reindex_fresh(set, e),
		      "resource-collision") < 0)
		goto fail;
	r->sorted = strata_resset_sorted(set, &r->n);
	if (!r->sorted) {
		rc = STRATA_ENOMEM;
		goto fail;
	}
	repo->collect = NULL;
	strata_arena_trim(r->arena); /* done growing */
	/*
	 * No render comes after this one: what the spare store still holds
	 * goes back to malloc for what the caller does next (diff's report,
	 * publish's trees); this render and its layers free theirs there too.
	 */
	if (last)
		strata_spare_close(&repo->spare);
	*out = r;
	return 0;
fail:
	if (last)
		strata_spare_close(&repo->spare);
	repo->collect = NULL;
	if (e != err && err && !err->code)
		*err = *e;
	strata_render_free(r);
	return rc;
}

void strata_render_free(strata_render *r)
{
	if (!r)
		return;
	if (r->repo)
		r->repo->live--;
	strata_env_free(r->env);
	strata_arena_free(r->arena);
	free(r);
}

const strata_env *strata_render_envconf(const strata_render *r)
{
	return r->env;
}

size_t strata_render_count(const strata_render *r)
{
	return r->n;
}

const strata_resource *strata_render_at(const strata_render *r, size_t i)
{
	return i < r->n ? r->sorted[i] : NULL;
}

int strata_render_resource_yaml(strata_buf *out, const strata_resource *res)
{
	return strata_yaml_emit(out, res->root);
}

int strata_render_stream(strata_buf *out, const strata_render *r)
{
	for (size_t i = 0; i < r->n; i++) {
		if (i && strata_buf_puts(out, "---\n") < 0)
			return STRATA_ENOMEM;
		if (strata_yaml_emit(out, r->sorted[i]->root) < 0)
			return STRATA_ENOMEM;
	}
	return 0;
}

/* ---- file layout ---- */

/*
 * Write s keeping [A-Za-z0-9.-] and %XX for the rest.  A leading '.' is
 * escaped too, so a namespace "." or ".." can never name a directory
 * outside the output tree.
 */
static int put_escaped(strata_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *start = s;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || (c == '.' && s != start)) {
			if (strata_buf_putc(b, (char)c) < 0)
				return STRATA_ENOMEM;
		} else {
			char esc[3] = { '%', hex[c >> 4], hex[c & 15] };
			if (strata_buf_put(b, esc, 3) < 0)
				return STRATA_ENOMEM;
		}
	}
	return 0;
}

const char *strata_render_path(strata_arena *a, const strata_resource *res)
{
	strata_buf b = STRATA_BUF_INIT;
	const char *out = NULL;
	int rc = 0;

	if (strata_kind_cluster_scoped(res->group, res->kind))
		rc = strata_buf_puts(&b, "_cluster");
	else if (!res->ns[0])
		rc = strata_buf_puts(&b, "_default");
	else
		rc = put_escaped(&b, res->ns);
	if (rc == 0)
		rc = strata_buf_putc(&b, '/');
	if (rc == 0)
		rc = put_escaped(&b, res->kind);
	if (rc == 0 && res->group[0]) {
		rc = strata_buf_putc(&b, '.');
		if (rc == 0)
			rc = put_escaped(&b, res->group);
	}
	if (rc == 0)
		rc = strata_buf_putc(&b, '_');
	if (rc == 0)
		rc = put_escaped(&b, res->name);
	if (rc == 0)
		rc = strata_buf_puts(&b, ".yaml");
	if (rc == 0)
		out = strata_arena_strndup(a, b.ptr, b.len);
	strata_buf_free(&b);
	return out;
}

int strata_filelist_add_kustomization(strata_filelist *l, const char *prefix,
				      size_t from)
{
	strata_buf b = STRATA_BUF_INIT;
	size_t plen = prefix ? strlen(prefix) : 0;
	char *data, *path;
	size_t len;
	int rc;

	rc = strata_buf_puts(&b,
			     "# Written by strata: every rendered resource, so that kubectl\n"
			     "# kustomize, Flux and Argo CD read this directory as it is.\n"
			     "apiVersion: kustomize.config.k8s.io/v1beta1\n"
			     "kind: Kustomization\n");
	if (rc == 0)
		rc = strata_buf_puts(&b, from < l->n ? "resources:\n" : "resources: []\n");
	/* paths are %XX-escaped by strata_render_path: no quote or backslash */
	for (size_t i = from; rc == 0 && i < l->n; i++)
		rc = strata_buf_printf(&b, "- \"%s\"\n", l->items[i].path + plen);
	if (rc < 0) {
		strata_buf_free(&b);
		return STRATA_ENOMEM;
	}
	data = strata_buf_detach(&b, &len);
	path = malloc(plen + sizeof(STRATA_KUSTOMIZATION_FILE));
	if (!path) {
		free(data);
		return STRATA_ENOMEM;
	}
	memcpy(path, prefix ? prefix : "", plen);
	memcpy(path + plen, STRATA_KUSTOMIZATION_FILE, sizeof(STRATA_KUSTOMIZATION_FILE));
	rc = strata_filelist_add(l, path, data, len);
	free(path);
	return rc;
}

int strata_render_files(strata_filelist *out, const strata_render *r,
			const char *prefix)
{
	size_t from = out->n;

	for (size_t i = 0; i < r->n; i++) {
		strata_buf doc = STRATA_BUF_INIT;
		const char *rel = strata_render_path(r->arena, r->sorted[i]);
		char *path;
		char *data;
		size_t len;
		int rc;

		if (!rel)
			return STRATA_ENOMEM;
		path = strata_arena_printf(r->arena, "%s%s", prefix ? prefix : "", rel);
		if (!path || strata_yaml_emit(&doc, r->sorted[i]->root) < 0) {
			strata_buf_free(&doc);
			return STRATA_ENOMEM;
		}
		data = strata_buf_detach(&doc, &len);
		rc = strata_filelist_add(out, path, data, len);
		if (rc < 0)
			return rc;
	}
	return strata_filelist_add_kustomization(out, prefix, from);
}
