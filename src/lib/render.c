/*
 * render.c - the pipeline of one environment:
 *
 *   load (base, once per repo) -> copy -> overlay layers (patches, then
 *   resources/) -> variables -> images -> namespace -> name prefix/suffix
 *   -> labels/annotations -> sort -> emit
 *
 * The repo keeps the parsed base and every parsed overlay layer in its own
 * arena, so `render --all` parses each file once; an environment works on
 * deep copies in its own arena and frees them in one go.
 */
#include "strata/render.h"
#include "strata/merge.h"
#include "strata/transform.h"

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
	size_t n, cap;
} loaded_dir;

/* A parsed overlay layer: patches and new resources. */
typedef struct layer {
	struct layer *next;
	const char *path;
	bool exists;
	loaded_dir patches;
	loaded_dir resources;
} layer;

struct strata_repo {
	strata_source *src;
	strata_config *cfg;
	strata_limits lim;
	strata_arena *arena;     /* base, layers, paths */
	bool base_loaded;
	strata_resource *base;   /* base resources, in load order */
	size_t n_base;
	layer *layers;           /* cache of parsed layers */
	size_t bytes_read;
	size_t files_read;
};

struct strata_render {
	strata_arena *arena;
	strata_env *env;
	strata_resource **sorted;
	size_t n;
};

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

static int load_file(strata_repo *repo, loaded_dir *out, const char *path,
		     strata_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;
	loaded_file *f;

	if (++repo->files_read > repo->lim.max_files)
		return strata_error_set(err, STRATA_ELIMIT, path, 0, 0,
					"too many files (limit %zu)", repo->lim.max_files);
	rc = repo->src->read(repo->src, path, &buf, &len, err);
	if (rc < 0)
		return rc;
	repo->bytes_read += len;
	if (repo->bytes_read > repo->lim.max_total) {
		free(buf);
		return strata_error_set(err, STRATA_ELIMIT, path, 0, 0,
					"total input exceeds %zu bytes", repo->lim.max_total);
	}
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 16;
		loaded_file *files = strata_arena_alloc(repo->arena, cap * sizeof(*files));
		if (!files) {
			free(buf);
			return STRATA_ENOMEM;
		}
		if (out->n)
			memcpy(files, out->files, out->n * sizeof(*files));
		out->files = files;
		out->cap = cap;
	}
	f = &out->files[out->n];
	f->path = path;
	rc = strata_yaml_load(&f->docs, &f->n, repo->arena, path, buf, len,
			      &repo->lim, err);
	free(buf);
	if (rc < 0)
		return rc;
	out->n++;
	return 0;
}

/*
 * Load every *.yaml / *.yml below dir, depth first in sorted name order.
 * Hidden entries (".git", ".cache.yaml") are skipped.  skip, when set, is a
 * subdirectory path not to descend into (an overlay's resources/).
 */
static int load_tree(strata_repo *repo, loaded_dir *out, const char *dir,
		     const char *skip, strata_error *err)
{
	strata_source_entry *ents = NULL;
	size_t n = 0;
	int rc;

	rc = repo->src->list(repo->src, dir, &ents, &n, err);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char *path;
		if (ents[i].name[0] == '.')
			continue;
		path = join(repo->arena, dir, ents[i].name);
		if (!path) {
			rc = STRATA_ENOMEM;
			break;
		}
		if (ents[i].type == STRATA_ENTRY_DIR) {
			if (skip && !strcmp(path, skip))
				continue;
			rc = load_tree(repo, out, path, skip, err);
		} else if (ents[i].type == STRATA_ENTRY_FILE && is_yaml_name(ents[i].name)) {
			rc = load_file(repo, out, path, err);
		}
	}
	strata_source_entries_free(ents, n);
	return rc;
}

static int load_base(strata_repo *repo, strata_error *err)
{
	loaded_dir dir = { 0 };
	strata_resset *seen;
	size_t total = 0, k = 0;
	int type = 0, rc;
	const char *base = repo->cfg->base;

	if (repo->base_loaded)
		return 0;
	rc = repo->src->stat(repo->src, base, &type, err);
	if (rc < 0)
		return rc;
	if (type != STRATA_ENTRY_DIR)
		return strata_error_set(err, STRATA_ECONFIG, STRATA_CONFIG_FILE,
					repo->cfg->base_line, repo->cfg->base_line ? 1 : 0,
					"base directory '%s' %s", base,
					type ? "is not a directory" : "does not exist");
	rc = load_tree(repo, &dir, base, NULL, err);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < dir.n; i++)
		total += dir.files[i].n;
	repo->base = strata_arena_alloc(repo->arena, (total ? total : 1) * sizeof(*repo->base));
	seen = strata_resset_new(repo->arena);
	if (!repo->base || !seen)
		return STRATA_ENOMEM;
	for (size_t i = 0; i < dir.n; i++) {
		for (size_t j = 0; j < dir.files[i].n; j++) {
			strata_yaml_doc *d = &dir.files[i].docs[j];
			rc = strata_resource_init(&repo->base[k], repo->arena, d->root,
						  dir.files[i].path, d->line, d->col, err);
			if (rc < 0)
				return rc;
			/* two base documents with one identity are an error */
			rc = strata_resset_add(seen, &repo->base[k], NULL, err);
			if (rc < 0)
				return rc;
			k++;
		}
	}
	repo->n_base = k;
	repo->base_loaded = true;
	return 0;
}

static int load_layer(layer **out, strata_repo *repo, const char *path,
		      bool explicit_path, const char *declared_by,
		      strata_error *err)
{
	layer *l;
	int type = 0, rc;
	char *res_dir;

	for (l = repo->layers; l; l = l->next)
		if (!strcmp(l->path, path)) {
			*out = l;
			return 0;
		}
	rc = repo->src->stat(repo->src, path, &type, err);
	if (rc < 0)
		return rc;
	if (type != STRATA_ENTRY_DIR && (explicit_path || type != 0)) {
		const strata_env_config *ec = strata_config_find(repo->cfg, declared_by);
		int line = ec ? (explicit_path ? ec->overlay_line : ec->line) : 0;
		return strata_error_set(err, STRATA_ECONFIG, STRATA_CONFIG_FILE, line,
					line ? 1 : 0,
					"overlay '%s' of env '%s' %s", path, declared_by,
					type ? "is not a directory" : "does not exist");
	}
	l = strata_arena_alloc(repo->arena, sizeof(*l));
	if (!l)
		return STRATA_ENOMEM;
	l->path = strata_arena_strdup(repo->arena, path);
	l->exists = type == STRATA_ENTRY_DIR;
	if (l->exists) {
		res_dir = join(repo->arena, path, "resources");
		if (!res_dir || !l->path)
			return STRATA_ENOMEM;
		rc = load_tree(repo, &l->patches, path, res_dir, err);
		if (rc < 0)
			return rc;
		rc = repo->src->stat(repo->src, res_dir, &type, err);
		if (rc < 0)
			return rc;
		if (type == STRATA_ENTRY_DIR) {
			rc = load_tree(repo, &l->resources, res_dir, NULL, err);
			if (rc < 0)
				return rc;
		}
	}
	l->next = repo->layers;
	repo->layers = l;
	*out = l;
	return 0;
}

/* ---- repo ---- */

int strata_repo_open(strata_repo **out, strata_source *src,
		     const strata_limits *lim, strata_error *err)
{
	strata_repo *repo;
	char *buf = NULL;
	size_t len = 0;
	int type = 0, rc;

	*out = NULL;
	repo = calloc(1, sizeof(*repo));
	if (!repo) {
		strata_source_free(src);
		return STRATA_ENOMEM;
	}
	repo->src = src;
	if (lim)
		repo->lim = *lim;
	else
		strata_limits_default(&repo->lim);
	src->max_file = repo->lim.max_file;
	repo->arena = strata_arena_new();
	if (!repo->arena) {
		rc = STRATA_ENOMEM;
		goto fail;
	}
	rc = src->stat(src, STRATA_CONFIG_FILE, &type, err);
	if (rc < 0)
		goto fail;
	if (type != STRATA_ENTRY_FILE) {
		rc = strata_error_set(err, STRATA_ECONFIG, STRATA_CONFIG_FILE, 0, 0,
				      "not a strata repository (no %s here; use -C DIR)",
				      STRATA_CONFIG_FILE);
		goto fail;
	}
	rc = src->read(src, STRATA_CONFIG_FILE, &buf, &len, err);
	if (rc < 0)
		goto fail;
	rc = strata_config_parse(&repo->cfg, STRATA_CONFIG_FILE, buf, len, err);
	free(buf);
	if (rc < 0)
		goto fail;
	*out = repo;
	return 0;
fail:
	strata_repo_free(repo);
	return rc;
}

void strata_repo_free(strata_repo *repo)
{
	if (!repo)
		return;
	strata_source_free(repo->src);
	strata_config_free(repo->cfg);
	strata_arena_free(repo->arena);
	free(repo);
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

static int apply_layer(strata_render *r, strata_resset *set, const layer *l,
		       strata_error *err)
{
	bool moved = false;
	int rc;

	for (size_t i = 0; i < l->patches.n; i++) {
		const loaded_file *f = &l->patches.files[i];
		for (size_t j = 0; j < f->n; j++) {
			strata_resource pr, *target;
			bool del = false;
			const char *old_ns;
			const strata_node *pns;

			rc = patch_identity(r->arena, &f->docs[j], f->path, &pr, err);
			if (rc < 0)
				return rc;
			pns = strata_node_at(pr.root, "metadata", "namespace", NULL);
			rc = strata_resset_match(&target, set, pr.group, pr.kind,
						 pns ? pr.ns : NULL, pr.name, f->path,
						 pr.line, pr.col, err);
			if (rc < 0)
				return rc;
			old_ns = target->ns;
			rc = strata_merge_patch(r->arena, target->root, pr.root,
						target->group, target->kind, &del, err);
			if (rc < 0)
				return rc;
			if (del) {
				strata_resset_delete(set, target);
				continue;
			}
			strata_resource_refresh(target, r->arena);
			if (strcmp(old_ns, target->ns) != 0)
				moved = true;
		}
	}
	if (moved && (rc = strata_resset_reindex(set, err)) < 0)
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
			if (rc < 0)
				return rc;
			rc = strata_resset_add(set, &res, NULL, err);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

int strata_render_env(strata_render **out, strata_repo *repo, const char *env,
		      strata_error *err)
{
	strata_render *r;
	strata_resset *set;
	int rc;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return STRATA_ENOMEM;
	r->arena = strata_arena_new();
	if (!r->arena) {
		rc = STRATA_ENOMEM;
		goto fail;
	}
	rc = strata_config_env(&r->env, repo->cfg, env, err);
	if (rc < 0)
		goto fail;
	rc = load_base(repo, err);
	if (rc < 0)
		goto fail;
	set = strata_resset_new(r->arena);
	if (!set) {
		rc = STRATA_ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < repo->n_base; i++) {
		strata_resource res = repo->base[i];
		res.root = strata_node_copy(r->arena, repo->base[i].root);
		if (!res.root) {
			rc = STRATA_ENOMEM;
			goto fail;
		}
		rc = strata_resset_add(set, &res, NULL, err);
		if (rc < 0)
			goto fail;
	}
	for (size_t i = 0; i < r->env->n_overlays; i++) {
		layer *l = NULL;
		rc = load_layer(&l, repo, r->env->overlays[i],
				r->env->overlay_explicit[i], r->env->overlay_from[i],
				err);
		if (rc < 0)
			goto fail;
		rc = apply_layer(r, set, l, err);
		if (rc < 0)
			goto fail;
	}
	if ((rc = strata_transform_vars(r->arena, set, &r->env->vars, err)) < 0)
		goto fail;
	if (r->env->images.n &&
	    (rc = strata_transform_images(r->arena, set, &r->env->images, err)) < 0)
		goto fail;
	if (r->env->namespace && r->env->namespace[0] &&
	    (rc = strata_transform_namespace(r->arena, set, r->env->namespace, err)) < 0)
		goto fail;
	if (((r->env->name_prefix && r->env->name_prefix[0]) ||
	     (r->env->name_suffix && r->env->name_suffix[0])) &&
	    (rc = strata_transform_names(r->arena, set, r->env->name_prefix,
					 r->env->name_suffix, err)) < 0)
		goto fail;
	if ((r->env->labels.n || r->env->annotations.n) &&
	    (rc = strata_transform_metadata(r->arena, set, &r->env->labels,
					    &r->env->annotations, err)) < 0)
		goto fail;
	if ((rc = strata_resset_reindex(set, err)) < 0)
		goto fail;
	r->sorted = strata_resset_sorted(set, &r->n);
	if (!r->sorted) {
		rc = STRATA_ENOMEM;
		goto fail;
	}
	*out = r;
	return 0;
fail:
	strata_render_free(r);
	return rc;
}

void strata_render_free(strata_render *r)
{
	if (!r)
		return;
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

int strata_render_files(strata_filelist *out, const strata_render *r,
			const char *prefix)
{
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
	return 0;
}
