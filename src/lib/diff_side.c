/*
 * diff_side.c - the two things a diff side can be: a render (of the work
 * tree or of a revision, whatever source the repo was opened on), or what
 * is published on an environment branch.
 *
 * The published side reads the branch's tree straight from the object
 * database with libgit2 (no checkout): every *.yaml / *.yml blob, so both
 * publish layouts - one file per resource, or one manifests.yaml - load
 * the same way.  A branch that does not exist yet is an empty side: then
 * `strata diff prod` shows everything a first publish would add.
 */
#include "strata/diff.h"

#include "git_dl.h"

#include <stdlib.h>
#include <string.h>

struct strata_diff_side {
	strata_diff_input in;
	strata_render *render;      /* render sides */
	strata_env *env;            /* published sides: for ns/prefix/suffix */
	strata_arena *arena;        /* published sides: documents, strings */
	const strata_resource **res;
};

static int oom(strata_error *err)
{
	return strata_error_set(err, STRATA_ENOMEM, NULL, 0, 0, "out of memory");
}

static int git_fail(strata_error *err, const char *what)
{
	const git_error *e = git_error_last();

	return strata_error_set(err, STRATA_EGIT, NULL, 0, 0, "%s: %s", what,
				e && e->message ? e->message : "unknown git error");
}

int strata_diff_side_render(strata_diff_side **out, strata_repo *repo,
			    const char *env, const char *label,
			    strata_error *err)
{
	strata_diff_side *s;
	const strata_env *ec;
	size_t n;
	int rc;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return oom(err);
	s->arena = strata_arena_new();
	if (!s->arena) {
		rc = oom(err);
		goto fail;
	}
	rc = strata_render_env(&s->render, repo, env, err);
	if (rc < 0)
		goto fail;
	n = strata_render_count(s->render);
	s->res = strata_arena_alloc(s->arena, (n + 1) * sizeof(*s->res));
	if (!s->res) {
		rc = oom(err);
		goto fail;
	}
	for (size_t i = 0; i < n; i++)
		s->res[i] = strata_render_at(s->render, i);
	ec = strata_render_envconf(s->render);
	s->in.label = strata_arena_strdup(s->arena, label ? label : env);
	s->in.env = ec->name;
	s->in.revision = strata_arena_strdup(s->arena, strata_repo_source(repo)->describe);
	s->in.res = s->res;
	s->in.n = n;
	s->in.ns = ec->namespace;
	s->in.prefix = ec->name_prefix;
	s->in.suffix = ec->name_suffix;
	if (!s->in.label || !s->in.revision) {
		rc = oom(err);
		goto fail;
	}
	*out = s;
	return 0;
fail:
	strata_diff_side_free(s);
	return rc;
}

static bool yaml_name(const char *name)
{
	size_t len = strlen(name);

	return name[0] != '.' &&
	       ((len > 5 && !strcmp(name + len - 5, ".yaml")) ||
		(len > 4 && !strcmp(name + len - 4, ".yml")));
}

typedef struct loader {
	strata_diff_side *s;
	git_repository *repo;
	strata_limits lim;
	const char *branch; /* short name, for file names in errors */
	size_t total;       /* bytes read, against lim.max_total */
	size_t files;       /* files read, against lim.max_files */
	size_t cap;
	strata_error *err;
	int rc;
} loader;

static int add_res(loader *L, strata_resource *r)
{
	strata_diff_side *s = L->s;

	if (s->in.n == L->cap) {
		size_t cap = L->cap ? L->cap * 2 : 64;
		const strata_resource **a = strata_arena_alloc(s->arena, cap * sizeof(*a));
		if (!a)
			return oom(L->err);
		if (s->in.n)
			memcpy(a, s->res, s->in.n * sizeof(*a));
		s->res = a;
		L->cap = cap;
	}
	s->res[s->in.n++] = r;
	return 0;
}

static int walk_cb(const char *root, const git_tree_entry *te, void *payload)
{
	loader *L = payload;
	strata_diff_side *s = L->s;
	git_blob *blob = NULL;
	strata_yaml_doc *docs = NULL;
	size_t n = 0;
	const char *name = git_tree_entry_name(te);
	char *path;
	size_t size;
	int rc;

	if (git_tree_entry_type(te) == GIT_OBJECT_TREE)
		return name[0] == '.' ? 1 : 0; /* skip hidden directories */
	if (git_tree_entry_type(te) != GIT_OBJECT_BLOB || !yaml_name(name) ||
	    git_tree_entry_filemode(te) == GIT_FILEMODE_LINK)
		return 0;
	/* the kustomization.yaml publish writes for pull agents is no resource */
	if (!root[0] && (!strcmp(name, "kustomization.yaml") ||
			 !strcmp(name, "kustomization.yml")))
		return 0;
	/* named as git names a revision's file: "env/prod:shop/x.yaml" */
	path = strata_arena_printf(s->arena, "%s:%s%s", L->branch, root, name);
	if (!path) {
		L->rc = oom(L->err);
		return -1;
	}
	if (git_blob_lookup(&blob, L->repo, git_tree_entry_id(te)) < 0) {
		L->rc = git_fail(L->err, "cannot read published file");
		return -1;
	}
	/* the limits a render of the same files would apply (render.c) */
	size = (size_t)git_blob_rawsize(blob);
	if (++L->files > L->lim.max_files)
		L->rc = strata_error_set(L->err, STRATA_ELIMIT, path, 0, 0,
					 "too many files (limit %zu)", L->lim.max_files);
	else if (size > L->lim.max_file)
		L->rc = strata_error_set(L->err, STRATA_ELIMIT, path, 0, 0,
					 "file too large (%zu bytes, limit %zu)",
					 size, L->lim.max_file);
	else if ((L->total += size) > L->lim.max_total)
		L->rc = strata_error_set(L->err, STRATA_ELIMIT, path, 0, 0,
					 "total input exceeds %zu bytes", L->lim.max_total);
	if (L->rc < 0) {
		git_blob_free(blob);
		return -1;
	}
	rc = strata_yaml_load(&docs, &n, s->arena, path, git_blob_rawcontent(blob),
			      size, &L->lim, L->err);
	git_blob_free(blob);
	if (rc < 0) {
		L->rc = rc;
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const char *av = strata_scalar_str(strata_map_get(docs[i].root, "apiVersion"));
		strata_resource *r;
		if (av && !strncmp(av, "kustomize.config.k8s.io/", 24))
			continue;
		r = strata_arena_alloc(s->arena, sizeof(*r));
		if (!r) {
			L->rc = oom(L->err);
			return -1;
		}
		rc = strata_resource_init(r, s->arena, docs[i].root, path,
					  docs[i].line, docs[i].col, L->err);
		if (rc < 0 || (rc = add_res(L, r)) < 0) {
			L->rc = rc;
			return -1;
		}
	}
	return 0;
}

int strata_diff_side_published(strata_diff_side **out, const char *repo_dir,
			       const strata_config *cfg, const char *env,
			       const char *remote, const char *label,
			       strata_error *err)
{
	return strata_diff_side_published_limits(out, repo_dir, cfg, env, remote,
						 label, NULL, err);
}

int strata_diff_side_published_limits(strata_diff_side **out,
				      const char *repo_dir,
				      const strata_config *cfg, const char *env,
				      const char *remote, const char *label,
				      const strata_limits *lim,
				      strata_error *err)
{
	strata_diff_side *s;
	git_repository *repo = NULL;
	git_reference *ref = NULL;
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	char *branch = NULL, *refname = NULL;
	char oid[GIT_OID_HEXSZ + 1];
	loader L;
	int rc = 0, grc;

	*out = NULL;
	rc = strata_git_init(err);
	if (rc < 0)
		return rc;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->arena = strata_arena_new())) {
		rc = oom(err);
		goto done;
	}
	rc = strata_config_env(&s->env, cfg, env, err);
	if (rc < 0)
		goto done;
	branch = strata_config_branch(cfg, s->env);
	if (!branch) {
		rc = oom(err);
		goto done;
	}
	if (remote)
		refname = strata_arena_printf(s->arena, "refs/remotes/%s/%s", remote, branch);
	else
		refname = strata_arena_printf(s->arena, "refs/heads/%s", branch);
	s->in.label = strata_arena_strdup(s->arena, label ? label : env);
	s->in.env = s->env->name;
	s->in.ns = s->env->namespace;
	s->in.prefix = s->env->name_prefix;
	s->in.suffix = s->env->name_suffix;
	s->in.branch = refname;
	s->in.res = NULL;
	if (!refname || !s->in.label) {
		rc = oom(err);
		goto done;
	}
	if (git_repository_open_ext(&repo, repo_dir ? repo_dir : ".", 0, NULL) < 0) {
		const git_error *e = git_error_last();
		rc = strata_error_set(err, STRATA_EGIT, NULL, 0, 0,
				      "cannot read what is published for '%s': %s", env,
				      e && e->message ? e->message : "not a git repository");
		goto done;
	}
	grc = git_reference_lookup(&ref, repo, refname);
	if (grc == GIT_ENOTFOUND) {
		s->in.missing = true;
		goto done;
	}
	if (grc < 0 || git_reference_peel((git_object **)&commit, ref, GIT_OBJECT_COMMIT) < 0) {
		rc = git_fail(err, "cannot read the published branch");
		goto done;
	}
	git_oid_tostr(oid, sizeof(oid), git_commit_id(commit));
	s->in.revision = strata_arena_strdup(s->arena, oid);
	if (!s->in.revision) {
		rc = oom(err);
		goto done;
	}
	if (git_commit_tree(&tree, commit) < 0) {
		rc = git_fail(err, "cannot read the published tree");
		goto done;
	}
	memset(&L, 0, sizeof(L));
	L.s = s;
	L.repo = repo;
	L.err = err;
	L.branch = branch;
	if (lim)
		L.lim = *lim;
	else
		strata_limits_default(&L.lim);
	if (git_tree_walk(tree, GIT_TREEWALK_PRE, walk_cb, &L) < 0) {
		rc = L.rc ? L.rc : git_fail(err, "cannot walk the published tree");
		goto done;
	}
done:
	if (rc == 0) {
		s->in.res = s->res;
		*out = s;
		s = NULL;
	}
	strata_diff_side_free(s);
	git_tree_free(tree);
	git_commit_free(commit);
	git_reference_free(ref);
	git_repository_free(repo);
	free(branch);
	git_libgit2_shutdown();
	return rc;
}

const strata_diff_input *strata_diff_side_input(const strata_diff_side *s)
{
	return &s->in;
}

void strata_diff_side_free(strata_diff_side *s)
{
	if (!s)
		return;
	strata_render_free(s->render);
	strata_env_free(s->env);
	strata_arena_free(s->arena);
	free(s);
}
