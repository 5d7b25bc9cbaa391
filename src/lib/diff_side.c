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

#include "doc_pack.h"
#include "git_dl.h"
#include "pool.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A spilled side's resource: its identity, and where its packed document
 * is (doc_pack.h). */
typedef struct spilled {
	strata_resource r;  /* first: the loader gets &r; root is NULL */
	uint64_t off;       /* in the side's text, or in its file */
	size_t len;
	bool in_file;
} spilled;

struct strata_diff_side {
	strata_diff_input in;
	strata_render *render;      /* render sides, until spilled */
	strata_env *env;            /* published sides: for ns/prefix/suffix */
	strata_arena *arena;        /* documents, strings, spilled resources */
	const strata_resource **res;
	/* spilled sides (strata_diff_side_spill) */
	bool spilled;
	strata_buf text;            /* packed documents kept in memory */
	int fd;                     /* the rest, or -1 (only when spilled) */
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

typedef struct spill_w spill_w;
/* Where a side's documents go, packed (doc_pack.h): memory, then a
 * temporary file. */
struct spill_w {
	strata_arena *a;      /* the resources' identities */
	const char *tmpdir;   /* NULL: everything in memory */
	size_t mem_max;
	const char *label;    /* the side, for errors */
	strata_buf text;      /* what stays in memory */
	strata_buf block;     /* waiting for the file */
	strata_buf doc;
	int fd;
	uint64_t file_off;    /* bytes written to the file */
};

static void spill_w_init(spill_w *w, strata_arena *a, const char *tmpdir,
			 size_t mem_max, const char *label);
static void spill_w_free(spill_w *w);
static int spill_doc(spill_w *w, spilled *sp, const strata_resource *r,
		     strata_error *err);
static int spill_put(spill_w *w, spilled *sp, const strata_resource *r,
		     const char *bytes, size_t len, strata_error *err);
static int spill_finish(spill_w *w, strata_diff_side *s, strata_error *err);
static bool api_version_kept(const strata_resource *r);

typedef struct pbatch pbatch;

typedef struct loader {
	strata_diff_side *s;
	spill_w *w;         /* each file's resources kept packed, or NULL */
	pbatch *b;          /* ... parsed a batch at a time (with w) */
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

/* A published pull-agent file (kustomization.yaml's kind), not a resource. */
static bool agent_doc(const strata_node *root)
{
	const char *av = strata_scalar_str(strata_map_get(root, "apiVersion"));

	return av && !strncmp(av, "kustomize.config.k8s.io/", 24);
}

/* A published file's resources with their trees, in the side's arena. */
static int add_trees(loader *L, const char *path, const char *text, size_t size)
{
	strata_diff_side *s = L->s;
	strata_yaml_doc *docs = NULL;
	size_t n = 0;
	int rc;

	rc = strata_yaml_load(&docs, &n, s->arena, path, text, size, &L->lim, L->err);
	for (size_t i = 0; i < n && rc == 0; i++) {
		strata_resource *r;
		if (agent_doc(docs[i].root))
			continue;
		if (!(r = strata_arena_alloc(s->arena, sizeof(*r))))
			return oom(L->err);
		rc = strata_resource_init(r, s->arena, docs[i].root, path,
					  docs[i].line, docs[i].col, L->err);
		if (rc == 0)
			rc = add_res(L, r);
	}
	return rc;
}

/*
 * A published tree whose resources are kept packed (L->w) has its files
 * parsed on the -j threads, a batch at a time: the walk (libgit2, on the
 * caller's thread alone) copies each file's bytes into the batch, and
 * when the batch holds PUB_BATCH_FILES files or PUB_BATCH_BYTES bytes the
 * threads parse and pack them, each file into a slot of its own, its
 * trees dropped as soon as they are packed.  The caller then keeps the
 * slots in walk order, so the side, its spill and the first error are
 * those of one thread.  A batch bounds the memory the parses hold.
 */
#define PUB_BATCH_FILES 128
#define PUB_BATCH_BYTES (1u << 20)

typedef struct pdoc {
	strata_resource r;  /* identity, root NULL; its strings are in the
			       file's ids, at these offsets, until kept */
	size_t s_group, s_version, s_kind, s_ns, s_name;
	size_t off, len;    /* its packed document in the file's packed bytes */
} pdoc;

typedef struct pfile {
	const char *path;   /* the side's arena */
	char *text;         /* the blob's bytes */
	size_t size;
	strata_buf packed;  /* its resources' documents, packed */
	strata_buf ids;     /* their identities' strings */
	pdoc *docs;
	size_t n;
	/* 0; 1: a document whose apiVersion its identity would not give back
	 * exactly (then the file keeps its trees); or a negative code */
	int rc;
	strata_error *err;  /* with rc < 0: why */
} pfile;

struct pbatch {
	pfile f[PUB_BATCH_FILES];
	size_t n, bytes;
	const strata_limits *lim;
	atomic_size_t next;
};

/* Put s (with its NUL) in b; its offset, or SIZE_MAX when out of memory. */
static size_t id_put(strata_buf *b, const char *s)
{
	size_t at = b->len;

	if (strata_buf_put(b, s ? s : "", s ? strlen(s) + 1 : 1) < 0)
		return SIZE_MAX;
	return at;
}

/* Parse file f, pack its resources' documents, drop the trees. */
static void parse_file(const pbatch *b, pfile *f)
{
	strata_arena *pa = strata_arena_new();
	strata_yaml_doc *docs = NULL;
	strata_error err;
	size_t n = 0;
	int rc;

	strata_error_clear(&err);
	if (!pa) {
		rc = oom(&err);
		goto done;
	}
	rc = strata_yaml_load(&docs, &n, pa, f->path, f->text, f->size, b->lim, &err);
	if (rc == 0 && !(f->docs = calloc(n + 1, sizeof(*f->docs))))
		rc = oom(&err);
	for (size_t i = 0; i < n && rc == 0; i++) {
		pdoc *d = &f->docs[f->n];

		if (agent_doc(docs[i].root))
			continue;
		rc = strata_resource_init(&d->r, pa, docs[i].root, f->path,
					  docs[i].line, docs[i].col, &err);
		if (rc < 0)
			break;
		if (!api_version_kept(&d->r)) {
			rc = 1;
			break;
		}
		d->off = f->packed.len;
		if (strata_doc_pack(&f->packed, d->r.root) < 0) {
			rc = oom(&err);
			break;
		}
		d->len = f->packed.len - d->off;
		d->r.root = NULL;
		d->s_group = id_put(&f->ids, d->r.group);
		d->s_version = id_put(&f->ids, d->r.version);
		d->s_kind = id_put(&f->ids, d->r.kind);
		d->s_ns = id_put(&f->ids, d->r.ns);
		d->s_name = id_put(&f->ids, d->r.name);
		if (d->s_group == SIZE_MAX || d->s_version == SIZE_MAX ||
		    d->s_kind == SIZE_MAX || d->s_ns == SIZE_MAX || d->s_name == SIZE_MAX)
			rc = oom(&err);
		else
			f->n++;
	}
done:
	strata_arena_free(pa);
	if (rc < 0 && (f->err = malloc(sizeof(*f->err))))
		*f->err = err;
	f->rc = rc;
}

/* strata_pool_step's view: files from the shared counter until none. */
static void parse_run(void *ctx, unsigned k)
{
	pbatch *b = ctx;

	(void)k;
	for (;;) {
		size_t i = atomic_fetch_add(&b->next, 1);
		if (i >= b->n)
			return;
		parse_file(b, &b->f[i]);
	}
}

static void pfile_free(pfile *f)
{
	free(f->text);
	strata_buf_free(&f->packed);
	strata_buf_free(&f->ids);
	free(f->docs);
	free(f->err);
	memset(f, 0, sizeof(*f));
}

/* Parse the batch's files and keep them, in walk order; the batch is
 * empty after, whatever happened. */
static int flush_batch(loader *L)
{
	pbatch *b = L->b;
	unsigned jobs = L->lim.jobs < 1 ? 1 : L->lim.jobs;
	int rc = 0;

	if (!b || !b->n)
		return 0;
	atomic_store(&b->next, 0);
	strata_pool_step(b->n < jobs ? (unsigned)b->n : jobs, true, parse_run, b);
	for (size_t i = 0; i < b->n; i++) {
		pfile *f = &b->f[i];

		if (rc == 0 && f->rc < 0) {
			rc = f->rc;
			if (!f->err)
				oom(L->err);
			else if (L->err)
				*L->err = *f->err;
		} else if (rc == 0 && f->rc == 1) {
			rc = add_trees(L, f->path, f->text, f->size);
		} else {
			for (size_t k = 0; k < f->n && rc == 0; k++) {
				pdoc *d = &f->docs[k];
				spilled *sp = strata_arena_alloc(L->s->arena, sizeof(*sp));

				d->r.group = f->ids.ptr + d->s_group;
				d->r.version = f->ids.ptr + d->s_version;
				d->r.kind = f->ids.ptr + d->s_kind;
				d->r.ns = f->ids.ptr + d->s_ns;
				d->r.name = f->ids.ptr + d->s_name;
				if (!sp)
					rc = oom(L->err);
				else if ((rc = spill_put(L->w, sp, &d->r, f->packed.ptr + d->off,
							 d->len, L->err)) == 0)
					rc = add_res(L, &sp->r);
			}
		}
		pfile_free(f);
	}
	b->n = 0;
	b->bytes = 0;
	return rc;
}

/* walk_cb's failure rc at this file: the batch's files come before it,
 * and a failure among them is the one reported. */
static int fail_here(loader *L, int rc)
{
	int brc = flush_batch(L);

	L->rc = brc < 0 ? brc : rc;
	return -1;
}

static int walk_cb(const char *root, const git_tree_entry *te, void *payload)
{
	loader *L = payload;
	strata_diff_side *s = L->s;
	git_blob *blob = NULL;
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
	if (!path)
		return fail_here(L, oom(L->err));
	if (git_blob_lookup(&blob, L->repo, git_tree_entry_id(te)) < 0)
		return fail_here(L, git_fail(L->err, "cannot read published file"));
	/* the limits a render of the same files would apply (render.c) */
	size = (size_t)git_blob_rawsize(blob);
	if (++L->files > L->lim.max_files)
		rc = strata_error_set(L->err, STRATA_ELIMIT, path, 0, 0,
				      "too many files (limit %zu)", L->lim.max_files);
	else if (size > L->lim.max_file)
		rc = strata_error_set(L->err, STRATA_ELIMIT, path, 0, 0,
				      "file too large (%zu bytes, limit %zu)",
				      size, L->lim.max_file);
	else if ((L->total += size) > L->lim.max_total)
		rc = strata_error_set(L->err, STRATA_ELIMIT, path, 0, 0,
				      "total input exceeds %zu bytes", L->lim.max_total);
	else
		rc = 0;
	if (rc < 0) {
		git_blob_free(blob);
		return fail_here(L, rc);
	}
	if (L->b) {
		pfile *f = &L->b->f[L->b->n];

		f->path = path;
		f->size = size;
		f->text = malloc(size ? size : 1);
		if (!f->text) {
			git_blob_free(blob);
			return fail_here(L, oom(L->err));
		}
		memcpy(f->text, git_blob_rawcontent(blob), size);
		git_blob_free(blob);
		L->b->n++;
		L->b->bytes += size;
		if (L->b->n == PUB_BATCH_FILES || L->b->bytes >= PUB_BATCH_BYTES) {
			rc = flush_batch(L);
			if (rc < 0) {
				L->rc = rc;
				return -1;
			}
		}
		return 0;
	}
	rc = add_trees(L, path, git_blob_rawcontent(blob), size);
	git_blob_free(blob);
	if (rc < 0) {
		L->rc = rc;
		return -1;
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
	return strata_diff_side_published_text(out, repo_dir, cfg, env, remote,
					       label, lim, NULL, 0, false, err);
}

int strata_diff_side_published_text(strata_diff_side **out,
				    const char *repo_dir,
				    const strata_config *cfg, const char *env,
				    const char *remote, const char *label,
				    const strata_limits *lim, const char *tmpdir,
				    size_t mem_max, bool as_text,
				    strata_error *err)
{
	spill_w w;
	bool have_w = false;
	strata_diff_side *s;
	git_repository *repo = NULL;
	git_reference *ref = NULL;
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	char *branch = NULL, *refname = NULL;
	char oid[GIT_OID_HEXSZ + 1];
	loader L = { 0 };
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
	if (as_text) {
		spill_w_init(&w, s->arena, tmpdir, mem_max, s->in.label);
		have_w = true;
		L.w = &w;
		if (!(L.b = calloc(1, sizeof(*L.b)))) {
			rc = oom(err);
			goto done;
		}
		L.b->lim = &L.lim;
	}
	if (git_tree_walk(tree, GIT_TREEWALK_PRE, walk_cb, &L) < 0) {
		rc = L.rc ? L.rc : git_fail(err, "cannot walk the published tree");
		if (!L.rc && (grc = flush_batch(&L)) < 0)
			rc = grc; /* a file before where the walk failed */
		goto done;
	}
	if (as_text && (rc = flush_batch(&L)) == 0)
		rc = spill_finish(&w, s, err);
done:
	if (L.b) {
		for (size_t i = 0; i < L.b->n; i++)
			pfile_free(&L.b->f[i]);
		free(L.b);
	}
	if (have_w)
		spill_w_free(&w);
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
	if (s->spilled && s->fd >= 0)
		close(s->fd);
	strata_buf_free(&s->text);
	strata_render_free(s->render);
	strata_env_free(s->env);
	strata_arena_free(s->arena);
	free(s);
}

/* ---- spilled sides ---- */

/* Text for the file is written in blocks of about this. */
#define SPILL_BLOCK (1024 * 1024)

bool strata_diff_side_spilled(const strata_diff_side *s)
{
	return s && s->spilled;
}

/* r's packed document: in the side's memory, or read into buf. */
static int spilled_bytes(const strata_diff_side *s, const spilled *sp,
			 strata_buf *buf, const char **out)
{
	if (!sp->in_file) {
		*out = s->text.ptr + sp->off;
		return 0;
	}
	buf->len = 0;
	if (strata_buf_grow(buf, sp->len + 1) < 0)
		return STRATA_ENOMEM;
	if (strata_pread_all(s->fd, buf->ptr, sp->len, sp->off) < 0)
		return STRATA_EIO;
	buf->len = sp->len;
	*out = buf->ptr;
	return 0;
}

/* r's document made in a from its packed bytes. */
static int spilled_tree(const strata_diff_side *s, const spilled *sp,
			strata_arena *a, strata_node **root, strata_error *err)
{
	strata_buf buf = STRATA_BUF_INIT;
	const char *bytes = NULL, *why = NULL;
	int rc = spilled_bytes(s, sp, &buf, &bytes);

	if (rc == STRATA_EIO)
		why = strerror(errno);
	if (rc == 0 && (rc = strata_doc_unpack(a, bytes, sp->len, root)) == STRATA_EIO)
		why = "a temporary file does not hold what was written to it";
	strata_buf_free(&buf);
	if (rc == STRATA_ENOMEM)
		return oom(err);
	if (rc < 0)
		return strata_error_set(err, STRATA_EIO, NULL, 0, 0,
					"cannot read back diff side %s: %s",
					s->in.label, why);
	return 0;
}

/* strata_diff_input.load of a spilled side: r's document into a. */
static int spilled_load(void *ctx, const strata_resource *r, strata_arena *a,
			strata_node **root, strata_error *err)
{
	*root = NULL;
	return spilled_tree(ctx, (const spilled *)r, a, root, err);
}

/* strata_diff_input.text of a spilled side: append r's text to out. */
static int spilled_text(void *ctx, const strata_resource *r, strata_buf *out)
{
	strata_arena *a = strata_arena_new();
	strata_node *root = NULL;
	strata_error err;
	int rc;

	if (!a)
		return STRATA_ENOMEM;
	strata_error_clear(&err);
	rc = spilled_tree(ctx, (const spilled *)r, a, &root, &err);
	if (rc == 0 && strata_yaml_emit(out, root) < 0)
		rc = STRATA_ENOMEM;
	strata_arena_free(a);
	return rc;
}

/* strata_diff_input.same of spilled sides: the same packed bytes. */
static int spilled_same(void *ctx, const strata_resource *r, void *other_ctx,
			const strata_resource *other, strata_buf scratch[2],
			bool *same)
{
	const spilled *a = (const spilled *)r, *b = (const spilled *)other;
	const char *pa = NULL, *pb = NULL;
	int rc;

	*same = false;
	if (a->len != b->len)
		return 0;
	if ((rc = spilled_bytes(ctx, a, &scratch[0], &pa)) < 0 ||
	    (rc = spilled_bytes(other_ctx, b, &scratch[1], &pb)) < 0)
		return rc;
	*same = !a->len || !memcmp(pa, pb, a->len);
	return 0;
}

/* The apiVersion the json report gives a spilled resource is rebuilt from
 * its group and version: spill only when that is exact. */
static bool api_version_kept(const strata_resource *r)
{
	const char *av = strata_scalar_str(strata_map_get(r->root, "apiVersion"));
	size_t gl = strlen(r->group);

	if (!av)
		return false;
	if (!gl)
		return !strchr(av, '/') && !strcmp(av, r->version);
	return !strncmp(av, r->group, gl) && av[gl] == '/' &&
	       !strcmp(av + gl + 1, r->version);
}

static const char *sdup(strata_arena *a, const char *s, bool *bad)
{
	const char *d = s ? strata_arena_strdup(a, s) : NULL;

	if (s && !d)
		*bad = true;
	return d;
}

/* Strings many resources share (kind, namespace, file...), kept once. */
static const char *sintern(strata_arena *a, const char *s, bool *bad)
{
	const strata_node *k = strata_node_key(a, s, strlen(s), STRATA_STYLE_PLAIN, NULL);

	if (!k) {
		*bad = true;
		return NULL;
	}
	return k->u.scalar.str;
}

static bool is_secret(const strata_resource *r)
{
	return !strcmp(r->kind, "Secret") && !r->group[0];
}


static void spill_w_init(spill_w *w, strata_arena *a, const char *tmpdir,
			 size_t mem_max, const char *label)
{
	memset(w, 0, sizeof(*w));
	w->a = a;
	w->tmpdir = tmpdir;
	w->mem_max = mem_max;
	w->label = label;
	w->fd = -1;
}

static void spill_w_free(spill_w *w)
{
	if (w->fd >= 0)
		close(w->fd);
	strata_buf_free(&w->text);
	strata_buf_free(&w->block);
	strata_buf_free(&w->doc);
}

static int io_fail(const spill_w *w, const char *what, strata_error *err)
{
	return strata_error_set(err, STRATA_EIO, NULL, 0, 0,
				"cannot %s a temporary file in '%s' for diff side %s: %s",
				what, w->tmpdir, w->label, strerror(errno));
}

/*
 * Make sp the stand-in (root NULL) of r, whose document packed is
 * bytes[0..len), and keep the bytes in w.
 */
static int spill_put(spill_w *w, spilled *sp, const strata_resource *r,
		     const char *bytes, size_t len, strata_error *err)
{
	bool bad = false, mem;

	memset(sp, 0, sizeof(*sp));
	sp->r = *r;
	sp->r.root = NULL;
	sp->r.file = r->file ? sintern(w->a, r->file, &bad) : NULL;
	sp->r.group = sintern(w->a, r->group, &bad);
	sp->r.version = sintern(w->a, r->version, &bad);
	sp->r.kind = sintern(w->a, r->kind, &bad);
	sp->r.ns = sintern(w->a, r->ns, &bad);
	sp->r.name = sdup(w->a, r->name, &bad);
	sp->len = len;
	if (bad)
		return oom(err);
	/* Secrets never go to a file */
	mem = !w->tmpdir || is_secret(r) ||
	      (w->fd < 0 && len <= w->mem_max && w->text.len <= w->mem_max - len);
	if (mem) {
		sp->off = w->text.len;
		if (strata_buf_put(&w->text, bytes, len) < 0)
			return oom(err);
		return 0;
	}
	if (w->fd < 0 && (w->fd = strata_tmpfile(w->tmpdir, "strata-diff")) < 0)
		return io_fail(w, "make", err);
	sp->in_file = true;
	sp->off = w->file_off + w->block.len;
	if (strata_buf_put(&w->block, bytes, len) < 0)
		return oom(err);
	if (w->block.len < SPILL_BLOCK)
		return 0;
	if (strata_write_all(w->fd, w->block.ptr, w->block.len) < 0)
		return io_fail(w, "write", err);
	w->file_off += w->block.len;
	w->block.len = 0;
	return 0;
}

/* Pack r's document into w and make sp its stand-in (root NULL). */
static int spill_doc(spill_w *w, spilled *sp, const strata_resource *r,
		     strata_error *err)
{
	w->doc.len = 0;
	if (strata_doc_pack(&w->doc, r->root) < 0)
		return oom(err);
	return spill_put(w, sp, r, w->doc.ptr ? w->doc.ptr : "", w->doc.len, err);
}

/* The last block to the file, and the text to s, which reads it back. */
static int spill_finish(spill_w *w, strata_diff_side *s, strata_error *err)
{
	if (w->block.len && strata_write_all(w->fd, w->block.ptr, w->block.len) < 0)
		return io_fail(w, "write", err);
	w->block.len = 0;
	s->text = w->text;
	w->text = (strata_buf)STRATA_BUF_INIT;
	s->fd = w->fd;
	w->fd = -1;
	s->in.load = spilled_load;
	s->in.text = spilled_text;
	s->in.same = spilled_same;
	s->in.load_ctx = s;
	s->spilled = true;
	return 0;
}

int strata_diff_side_spill(strata_diff_side *s, const char *tmpdir,
			   size_t mem_max, strata_error *err)
{
	size_t n = s->in.n;
	strata_arena *a = NULL;
	spilled *sp = NULL;
	const strata_resource **res = NULL;
	strata_diff_input in = s->in;
	spill_w w;
	int rc = 0;
	bool bad = false;

	if (!s->render || s->spilled)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!api_version_kept(s->in.res[i]))
			return 0; /* keep the trees: rare, and exact */
	a = strata_arena_new();
	spill_w_init(&w, a, tmpdir, mem_max, s->in.label);
	sp = a ? strata_arena_alloc(a, (n + 1) * sizeof(*sp)) : NULL;
	res = a ? strata_arena_alloc(a, (n + 1) * sizeof(*res)) : NULL;
	if (!sp || !res) {
		rc = oom(err);
		goto done;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		rc = spill_doc(&w, &sp[i], s->in.res[i], err);
		res[i] = &sp[i].r;
	}
	if (rc)
		goto done;
	/* what the side says of itself outlives the render */
	in.label = sdup(a, s->in.label, &bad);
	in.env = sdup(a, s->in.env, &bad);
	in.revision = sdup(a, s->in.revision, &bad);
	in.ns = sdup(a, s->in.ns, &bad);
	in.prefix = sdup(a, s->in.prefix, &bad);
	in.suffix = sdup(a, s->in.suffix, &bad);
	in.branch = sdup(a, s->in.branch, &bad);
	if (bad) {
		rc = oom(err);
		goto done;
	}
	/* the last write may fail: the render goes only after it */
	if (w.block.len && strata_write_all(w.fd, w.block.ptr, w.block.len) < 0) {
		rc = io_fail(&w, "write", err);
		goto done;
	}
	w.block.len = 0;
	strata_render_free(s->render);
	s->render = NULL;
	strata_arena_free(s->arena);
	s->arena = a;
	a = NULL;
	s->res = res;
	s->in = in;
	s->in.res = s->res;
	rc = spill_finish(&w, s, err);
done:
	spill_w_free(&w);
	strata_arena_free(a);
	return rc;
}
