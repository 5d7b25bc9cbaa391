/*
 * publish.c - commit rendered environments to their branches, push them,
 * roll them back, and read their history.
 *
 * The branch's tree is built straight in the object database: one blob per
 * rendered file, trees bottom-up with a treebuilder per directory (paths
 * sorted, so every directory's files are contiguous).  No index, no
 * worktree, nothing on disk but objects, so a dirty checkout is never
 * touched and a killed process leaves at most unreferenced objects.
 * The objects the target lacks reach it as ONE packfile, written before
 * any ref can point at them: a loose file per object made publish spend
 * most of its time creating inodes.  A rendered file's text is not kept
 * in memory: its blob id is hashed as it is emitted and the text goes to
 * the spill, an unlinked temporary file in the target's objects directory
 * (with an index of ids, lengths and paths beside it).  Then the render
 * and the repository's parsed base are freed, and the trees and the pack
 * are built from the spill alone, the packbuilder reading the blobs back
 * through an odb backend over it; so publish's peak is the render's.
 *
 * The only state that matters is the branch ref, and it moves in one place,
 * land(): read the tip, build a commit on it, then compare-and-swap the
 * ref from that tip (git_reference_create_matching).  If another process
 * moved it first, read again and re-parent the same tree, a bounded number
 * of times.  Pushing extends the same loop: the remote tip is fetched
 * first and becomes the parent; a push rejected because the remote moved
 * (non-fast-forward, or the server's ref lock saw another old value) goes
 * round again.  Nothing is ever forced.
 *
 * Commit time and identity come from the source commit and strata.ini, so
 * two jobs publishing the same source onto the same tip build the same
 * commit: their races converge instead of stacking duplicate commits.
 */
#include "strata/check.h"
#include "strata/git.h"

#include "publish_cred.h"
#include "transport_local.h"

#include "git_dl.h"
#include "pages.h"

#include <errno.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_ATTEMPTS 10
#define LOCK_TRIES 20        /* a ref lock held longer than ~2 s is stuck */
#define CRED_TRIES STRATA_PUBLISH_CRED_TRIES
#define SIDEBAND_MAX 2048
#define DEFAULT_NAME "strata"
#define DEFAULT_EMAIL "strata@localhost"
#define DEFAULT_HTTPS_USER "x-access-token"

/* Internal: the ref or the remote moved under us; go round again. */
#define RETRY 1

typedef struct pub {
	git_repository *repo; /* where the branch is written */
	const strata_publish_opts *opts;
	const char *env;
	const char *ref;      /* "refs/heads/..." */
	git_signature *sig;
	char *message;
	git_oid tree;
	strata_publish_result *res;
	strata_error *err;
	unsigned seed;

	/* push state */
	git_remote *remote;
	char *remote_desc;    /* what messages call it (no credentials) */
	char *tracking;       /* refs/remotes/<name>/<branch>, or NULL */
	unsigned cred_tries;
	bool ref_seen;
	bool moved;           /* the local ref no longer holds what we push */
	bool locked;          /* the last push found the remote ref locked */
	git_oid pushing;
	char *reject;         /* the server's status for our ref */
	strata_buf sideband;  /* what the server said on the side band */
} pub;

/* ---- small helpers ---- */

static int oom(strata_error *err)
{
	return strata_error_set(err, STRATA_ENOMEM, NULL, 0, 0,
				"out of memory");
}

/*
 * Copy s into out without URL credentials (the user:token@ part of
 * https://user:token@host/ becomes ***@) and without control characters.
 */
static void redact(char *out, size_t size, const char *s)
{
	size_t o = 0;

	while (*s && o + 1 < size) {
		const char *scheme = strstr(s, "://");

		if (scheme == s) {
			const char *at, *end;

			for (size_t k = 0; k < 3 && o + 1 < size; k++)
				out[o++] = *s++;
			end = s + strcspn(s, "/ \t\n'\"");
			at = memchr(s, '@', (size_t)(end - s));
			if (at) {
				const char *mask = "***";

				while (*mask && o + 1 < size)
					out[o++] = *mask++;
				s = at;
			}
			continue;
		}
		out[o++] = (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s;
		s++;
	}
	out[o] = '\0';
}

static int gitfail(strata_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Record "<what>: <libgit2's message>" with credentials masked. */
static int gitfail(strata_error *err, int code, const char *fmt, ...)
{
	const git_error *e = git_error_last();
	char what[512], msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	redact(msg, sizeof(msg),
	       e && e->message ? e->message : "unknown git error");
	return strata_error_set(err, code, NULL, 0, 0, "%s: %s", what, msg);
}

/* Sleep before attempt n (1-based): exponential, capped, with jitter. */
static void backoff(pub *p, unsigned n)
{
	long ms = 20L << (n < 6 ? n : 6); /* 40 ms .. 1.3 s */
	struct timespec ts;

	ms += (long)(rand_r(&p->seed) % (unsigned)(ms + 1));
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void short_id(char out[8], const git_oid *id)
{
	git_oid_tostr(out, 8, id);
}

const char *strata_publish_status_name(int status)
{
	switch (status) {
	case STRATA_PUBLISH_CREATED: return "created";
	case STRATA_PUBLISH_UPDATED: return "updated";
	case STRATA_PUBLISH_UNCHANGED: return "unchanged";
	default: return "failed";
	}
}

/* ---- branch names ---- */

/*
 * strata's own rules, stricter than git's and checked before the name
 * goes anywhere near git: it may reach a command line (push refspecs,
 * reflogs, a user's shell script), where "-x" is an option and ".." a
 * range.
 */
static bool branch_safe(const char *b)
{
	size_t n = strlen(b);

	if (n == 0 || n > 200 || b[0] == '-' || b[0] == '/' || b[0] == '.' ||
	    b[n - 1] == '/' || b[n - 1] == '.')
		return false;
	if (strstr(b, "..") || strstr(b, "//") || strstr(b, "/.") ||
	    strstr(b, "@{") || strstr(b, ".lock/") ||
	    (n >= 5 && !strcmp(b + n - 5, ".lock")))
		return false;
	for (const char *c = b; *c; c++) {
		unsigned char u = (unsigned char)*c;

		if (u < 0x20 || u == 0x7f || u == ' ' || strchr("~^:?*[\\", u))
			return false;
	}
	return true;
}

int strata_publish_branch(char out[256], const strata_config *cfg,
			  const char *env, strata_error *err)
{
	strata_env *e = NULL;
	char *b = NULL;
	int rc, valid = 0;

	out[0] = '\0';
	rc = strata_config_env(&e, cfg, env, err);
	if (rc < 0)
		return rc;
	b = strata_config_branch(cfg, e);
	strata_env_free(e);
	if (!b)
		return oom(err);
	if (!branch_safe(b)) {
		rc = strata_error_set(err, STRATA_ECONFIG, NULL, 0, 0,
				      "invalid branch name '%s' for environment '%s'",
				      b, env);
		goto done;
	}
	if (!strncmp(b, "refs/", 5)) {
		if (strncmp(b, "refs/heads/", 11) || !b[11]) {
			rc = strata_error_set(err, STRATA_ECONFIG, NULL, 0, 0,
					      "branch '%s' for environment '%s' is not under refs/heads/",
					      b, env);
			goto done;
		}
		snprintf(out, 256, "%s", b);
	} else {
		snprintf(out, 256, "refs/heads/%s", b);
	}
	if (!strcmp(out, "refs/heads/HEAD")) {
		rc = strata_error_set(err, STRATA_ECONFIG, NULL, 0, 0,
				      "invalid branch name '%s' for environment '%s'",
				      b, env);
		goto done;
	}
	rc = strata_git_init(err);
	if (rc < 0)
		goto done;
	if (git_reference_name_is_valid(&valid, out) < 0 || !valid)
		rc = strata_error_set(err, STRATA_ECONFIG, NULL, 0, 0,
				      "invalid branch name '%s' for environment '%s'",
				      b, env);
	git_libgit2_shutdown();
done:
	if (rc < 0)
		out[0] = '\0';
	free(b);
	return rc;
}

/* ---- trailers ---- */

/* Copy the value of trailer key from message into out ("" if absent). */
static void trailer(const char *message, const char *key, char *out,
		    size_t size)
{
	git_message_trailer_array arr = { 0 };

	out[0] = '\0';
	if (!message || git_message_trailers(&arr, message) < 0)
		return;
	for (size_t i = arr.count; i-- > 0;) {
		if (!strcmp(arr.trailers[i].key, key)) {
			snprintf(out, size, "%s", arr.trailers[i].value);
			break;
		}
	}
	git_message_trailer_array_free(&arr);
}

/* Refuse a tip that strata did not make for this environment. */
static int check_owned(pub *p, const git_oid *tip, const char *where)
{
	git_commit *c = NULL;
	char env[256], sid[8];
	int rc = 0;

	if (p->opts->adopt)
		return 0;
	if (git_commit_lookup(&c, p->repo, tip) < 0)
		return gitfail(p->err, STRATA_EGIT, "cannot read the tip of '%s'",
			       p->ref + 11);
	trailer(git_commit_message(c), "Strata-Env", env, sizeof(env));
	if (strcmp(env, p->env)) {
		short_id(sid, tip);
		rc = strata_error_set(
			p->err, STRATA_EREFUSED, NULL, 0, 0,
			"refusing to write %sbranch '%s': its tip %s was not made by strata for environment '%s' (no 'Strata-Env: %s' trailer); use --adopt to take it over",
			where, p->ref + 11, sid, p->env, p->env);
	}
	git_commit_free(c);
	return rc;
}

/* ---- the spill: the rendered files on disk ---- */

/*
 * The text of every file publish renders (one per resource, or the stream
 * layout's manifests.yaml) is written, as it is emitted, to an unlinked
 * file in the target's objects directory, and an index of them (blob id,
 * length and path per file, in render order) to a second one.  Nothing
 * but a write buffer stays in memory, so the render and the repository's
 * parsed base can be freed before the trees and the pack are built:
 * keeping the render until the pack was written put publish's peak 40 MB
 * above the render's at 40,000 resources.  The files are on the target's
 * disk, not in memory or tmpfs (whose pages would be the same memory
 * under another name), and are never mapped (mapped pages count as the
 * process's); they are unlinked from the start (O_TMPFILE, else mkstemp
 * and unlink), so they go with the process, however it ends.
 */
#define SPILL_CHUNK (128 * 1024)  /* writes of about this size */
#define SPILL_PATHS 1024          /* paths made in one arena, then it goes */

typedef struct spill {
	char *dir;               /* where the files are (for messages) */
	int fd;                  /* the texts, one after the other */
	int ifd;                 /* the index: per file id, length, path */
	uint64_t size, isize;    /* bytes in each, buffered or written */
	uint64_t max;            /* the longest file's length */
	size_t n;                /* files */
	strata_buf buf, ibuf;    /* what is not written yet */
} spill;

static void spill_init(spill *s)
{
	memset(s, 0, sizeof(*s));
	s->fd = s->ifd = -1;
}

static void spill_free(spill *s)
{
	if (s->fd >= 0)
		close(s->fd);
	if (s->ifd >= 0)
		close(s->ifd);
	free(s->dir);
	strata_buf_free(&s->buf);
	strata_buf_free(&s->ibuf);
	spill_init(s);
}

static int spill_fail(const spill *s, const char *what, int errnum,
		      strata_error *err)
{
	return strata_error_set(err, STRATA_EIO, s->dir, 0, 0,
				"cannot %s a temporary file: %s", what,
				strerror(errnum));
}

/* An unlinked file in s->dir (strata_tmpfile). */
static int spill_tmpfile(const spill *s, int *out, strata_error *err)
{
	int fd = strata_tmpfile(s->dir, "tmp_strata_spill");

	if (fd < 0)
		return errno == ENOMEM ? oom(err) : spill_fail(s, "create", errno, err);
	*out = fd;
	return 0;
}

/* Open the spill files in target's objects directory. */
static int spill_open(spill *s, git_repository *target, strata_error *err)
{
	const char *common = git_repository_commondir(target);
	int rc;

	if (!common)
		return gitfail(err, STRATA_EGIT, "cannot find the objects directory");
	s->dir = malloc(strlen(common) + sizeof("/objects"));
	if (!s->dir)
		return oom(err);
	/* the common dir ends with a '/' */
	sprintf(s->dir, "%s%sobjects", common,
		common[0] && common[strlen(common) - 1] == '/' ? "" : "/");
	rc = spill_tmpfile(s, &s->fd, err);
	if (rc == 0)
		rc = spill_tmpfile(s, &s->ifd, err);
	return rc;
}

/* Write b to fd once it holds min bytes or more. */
static int spill_flush(const spill *s, int fd, strata_buf *b, size_t min,
		       strata_error *err)
{
	if (b->len < min || b->len == 0)
		return 0;
	if (strata_write_all(fd, b->ptr, b->len) < 0)
		return spill_fail(s, "write", errno, err);
	b->len = 0;
	return 0;
}

/* Add a file: its blob id is hashed now, its text written out soon. */
static int spill_add(spill *s, const char *path, const char *text,
		     size_t len, strata_error *err)
{
	git_oid id;
	uint64_t len64 = len;
	size_t plen = strlen(path) + 1;
	int rc;

	if (git_odb_hash(&id, text, len, GIT_OBJECT_BLOB) < 0)
		return gitfail(err, STRATA_EGIT, "cannot hash '%s'", path);
	if (len >= SPILL_CHUNK) {
		/* a big text goes straight to the file, not through buf */
		rc = spill_flush(s, s->fd, &s->buf, 1, err);
		if (rc == 0 && strata_write_all(s->fd, text, len) < 0)
			rc = spill_fail(s, "write", errno, err);
	} else {
		rc = strata_buf_put(&s->buf, text, len) < 0 ? oom(err) :
			spill_flush(s, s->fd, &s->buf, SPILL_CHUNK, err);
	}
	if (rc < 0)
		return rc;
	s->size += len;
	if (len64 > s->max)
		s->max = len64;
	if (strata_buf_put(&s->ibuf, (const char *)&id, sizeof(id)) < 0 ||
	    strata_buf_put(&s->ibuf, (const char *)&len64, sizeof(len64)) < 0 ||
	    strata_buf_put(&s->ibuf, path, plen) < 0)
		return oom(err);
	s->isize += sizeof(id) + sizeof(len64) + plen;
	s->n++;
	return spill_flush(s, s->ifd, &s->ibuf, SPILL_CHUNK, err);
}

/*
 * Spill r's files as `strata render --out` writes them: one per resource,
 * or the stream layout's manifests.yaml (kustomization.yaml is made from
 * the index).  Afterwards everything is on disk.
 */
static int spill_render(spill *s, const strata_render *r, bool stream,
			strata_error *err)
{
	size_t n = stream ? 0 : strata_render_count(r);
	strata_buf text = STRATA_BUF_INIT;
	strata_arena *paths = NULL;
	int rc = 0;

	if (stream) {
		rc = strata_render_stream(&text, r) < 0 ? oom(err) :
			spill_add(s, "manifests.yaml", text.ptr ? text.ptr : "",
				  text.len, err);
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		const strata_resource *res = strata_render_at(r, i);
		const char *path;

		/* the paths are in the index: drop their arena now and then */
		if (i % SPILL_PATHS == 0) {
			strata_arena_free(paths);
			paths = strata_arena_new();
		}
		path = paths ? strata_render_path(paths, res) : NULL;
		text.len = 0;
		if (!path || strata_render_resource_yaml(&text, res) < 0)
			rc = oom(err);
		else
			rc = spill_add(s, path, text.ptr ? text.ptr : "",
				       text.len, err);
	}
	strata_arena_free(paths);
	strata_buf_free(&text);
	if (rc == 0)
		rc = spill_flush(s, s->fd, &s->buf, 1, err);
	if (rc == 0)
		rc = spill_flush(s, s->ifd, &s->ibuf, 1, err);
	/* the buffers' memory is not needed again */
	strata_buf_free(&s->buf);
	strata_buf_free(&s->ibuf);
	return rc;
}

/* ---- the tree ---- */

/* A file of the branch: its path and its blob's id. */
typedef struct tfile {
	const char *path;
	git_oid id;
} tfile;

static int cmp_tfile(const void *a, const void *b)
{
	return strcmp(((const tfile *)a)->path, ((const tfile *)b)->path);
}

/* A spilled file: where its text is in the spill. */
typedef struct rblob {
	git_oid id;
	uint64_t off;
	size_t len;
} rblob;

static int cmp_rblob(const void *a, const void *b)
{
	return git_oid_cmp(&((const rblob *)a)->id, &((const rblob *)b)->id);
}

/*
 * An object database backend over the spill: it serves each spilled
 * file's blob by reading its text back with pread(2), never mmap (mapped
 * pages would count as the process's memory again).  libgit2 checks every
 * object it reads against its id (strict hash verification), so a blob
 * read back is the blob that was hashed.  The packbuilder reads from
 * several threads; pread moves no file offset, so they need no lock.
 */
typedef struct rbackend {
	git_odb_backend parent;
	rblob *v;               /* sorted by id */
	size_t n;
	int fd;                 /* the spill's texts (the spill's to close) */
} rbackend;

static const rblob *rb_find(const rbackend *rb, const git_oid *id)
{
	size_t lo = 0, hi = rb->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = git_oid_cmp(&rb->v[mid].id, id);

		if (c == 0)
			return &rb->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int rb_read(void **out, size_t *len, git_object_t *type,
		   git_odb_backend *be, const git_oid *id)
{
	rbackend *rb = (rbackend *)be;
	const rblob *b = rb_find(rb, id);
	char *data, msg[256];

	if (!b)
		return GIT_ENOTFOUND;
	data = git_odb_backend_data_alloc(be, b->len + 1);
	if (!data) {
		git_error_set_oom();
		return -1;
	}
	if (strata_pread_all(rb->fd, data, b->len, b->off) < 0) {
		snprintf(msg, sizeof(msg), "cannot read a temporary file: %s",
			 strerror(errno));
		git_odb_backend_data_free(be, data);
		git_error_set_str(GIT_ERROR_OS, msg);
		return -1;
	}
	data[b->len] = '\0';
	*out = data;
	*len = b->len;
	*type = GIT_OBJECT_BLOB;
	return 0;
}

static int rb_read_header(size_t *len, git_object_t *type,
			  git_odb_backend *be, const git_oid *id)
{
	const rblob *b = rb_find((rbackend *)be, id);

	if (!b)
		return GIT_ENOTFOUND;
	*len = b->len;
	*type = GIT_OBJECT_BLOB;
	return 0;
}

static int rb_exists(git_odb_backend *be, const git_oid *id)
{
	return rb_find((rbackend *)be, id) != NULL;
}

static void rb_free(git_odb_backend *be)
{
	rbackend *rb = (rbackend *)be;

	free(rb->v);
	free(rb);
}

/*
 * Where the tree is built: a repository over an odb holding only the
 * spilled files' blobs (rbackend) and a mempack backend for everything
 * else (trees, kustomization.yaml), so no loose object is written and no
 * lookup miss rescans objects/pack.  The objects the target lacks are
 * queued in a packbuilder and streamed into the target's pack writer
 * (git_mempack_dump would not do: in libgit2 1.5 it packs only what is
 * reachable from commits in the mempack, and all of it).
 */
typedef struct builder {
	git_odb *odb;           /* the in-memory odb */
	rbackend *rb;           /* the spilled files' blobs */
	bool rb_added;          /* ... then owned by odb */
	git_odb_backend *mem;   /* the rest; owned by odb once added */
	git_repository *repo;   /* wraps odb */
	git_odb *target;        /* the target repository's odb */
	git_packbuilder *pb;    /* the objects the target does not have */
	strata_filelist files;  /* the files; data only for non-spilled ones */
	tfile *f;               /* the files, sorted by path */
} builder;

/* Queue id for the pack unless the target already has it. */
static int queue(builder *b, const git_oid *id, const char *name,
		 strata_error *err)
{
	if (git_odb_exists_ext(b->target, id, GIT_ODB_LOOKUP_NO_REFRESH))
		return 0;
	if (git_packbuilder_insert(b->pb, id, name) < 0)
		return gitfail(err, STRATA_EGIT, "cannot queue '%s' for the pack",
			       name[0] ? name : "a tree");
	return 0;
}

/* Build the tree of f[lo..hi), whose paths share the first off bytes. */
static int build_dir(builder *b, const tfile *f, size_t lo, size_t hi,
		     size_t off, git_oid *out, strata_error *err)
{
	git_treebuilder *tb = NULL;
	char *comp = NULL;
	int rc = 0;

	if (git_treebuilder_new(&tb, b->repo, NULL) < 0)
		return gitfail(err, STRATA_EGIT, "cannot build tree");
	for (size_t i = lo; i < hi;) {
		const char *name = f[i].path + off;
		const char *slash = strchr(name, '/');
		size_t clen = slash ? (size_t)(slash - name) : strlen(name);
		git_filemode_t mode;
		git_oid id;
		size_t j = i + 1;

		free(comp);
		comp = strndup(name, clen);
		if (!comp) {
			rc = oom(err);
			goto done;
		}
		if (!slash) {
			id = f[i].id;
			rc = queue(b, &id, comp, err);
			if (rc < 0)
				goto done;
			mode = GIT_FILEMODE_BLOB;
		} else {
			while (j < hi && !strncmp(f[j].path + off, name, clen + 1))
				j++;
			rc = build_dir(b, f, i, j, off + clen + 1, &id, err);
			if (rc < 0)
				goto done;
			mode = GIT_FILEMODE_TREE;
		}
		if (git_treebuilder_get(tb, comp)) {
			rc = strata_error_set(err, STRATA_ECONFLICT, NULL, 0, 0,
					      "two rendered files at '%.*s'",
					      (int)(off + clen), f[i].path);
			goto done;
		}
		if (git_treebuilder_insert(NULL, tb, comp, &id, mode) < 0) {
			rc = gitfail(err, STRATA_EGIT,
				     "cannot add '%.*s' to the tree",
				     (int)(off + clen), f[i].path);
			goto done;
		}
		i = j;
	}
	if (git_treebuilder_write(out, tb) < 0)
		rc = gitfail(err, STRATA_EGIT, "cannot write tree");
	else
		rc = queue(b, out, "", err);
done:
	free(comp);
	git_treebuilder_free(tb);
	return rc;
}

/*
 * The spilled files from s's index, in render order (their blobs served
 * by b->rb), then kustomization.yaml naming them.
 */
static int read_index(builder *b, const spill *s, strata_error *err)
{
	const size_t head = sizeof(git_oid) + sizeof(uint64_t);
	char *ix = malloc(s->isize ? (size_t)s->isize : 1);
	const char *p, *end;
	uint64_t off = 0;
	int rc = 0;

	b->rb->v = malloc((s->n ? s->n : 1) * sizeof(*b->rb->v));
	if (!ix || !b->rb->v) {
		rc = oom(err);
		goto done;
	}
	if (strata_pread_all(s->ifd, ix, (size_t)s->isize, 0) < 0) {
		rc = spill_fail(s, "read", errno, err);
		goto done;
	}
	p = ix;
	end = ix + s->isize;
	while (p < end) {
		rblob *rbl = &b->rb->v[b->rb->n];
		const char *path = p + head;
		const char *nul = (size_t)(end - p) > head && b->rb->n < s->n ?
			memchr(path, '\0', (size_t)(end - path)) : NULL;
		uint64_t len;

		if (!nul)
			break;
		memcpy(&rbl->id, p, sizeof(git_oid));
		memcpy(&len, p + sizeof(git_oid), sizeof(len));
		rbl->off = off;
		rbl->len = (size_t)len;
		off += len;
		if (strata_filelist_add(&b->files, path, NULL, rbl->len) < 0) {
			rc = oom(err);
			goto done;
		}
		b->rb->n++;
		p = nul + 1;
	}
	if (p != end || b->rb->n != s->n || off != s->size) {
		rc = strata_error_set(err, STRATA_EIO, s->dir, 0, 0,
				      "a temporary file does not hold what was written to it");
		goto done;
	}
	if (strata_filelist_add_kustomization(&b->files, "", 0) < 0)
		rc = oom(err);
done:
	free(ix);
	return rc;
}

/*
 * The packbuilder's settings.  libgit2 reads them from the config of the
 * repository it packs for; the in-memory one has none of its own, so the
 * user's global config would apply.  This config backend answers the one
 * setting strata wants and nothing else: pack.deltaCacheSize.  The cache
 * keeps the small deltas the delta search found until the pack is
 * written (up to 256 MiB by default): 12 to 15 MB of publish --all's peak
 * at 40,000 files.  Without any cache the deltas are computed again while
 * writing, 30% more time; 4 MiB keeps the time and most of the memory.
 *
 * libgit2 (1.5 and later, packbuilder_config) also reads its big file
 * threshold from pack.deltaCacheSize: an object bigger than it is never
 * a delta.  So the value is at least the longest spilled file's length
 * (1 made every object of the pack a whole one, twice the size): every
 * file stays a delta candidate.
 */
#define PB_DELTA_CACHE (4u * 1024u * 1024u) /* at least */

typedef struct pbconf {
	git_config_backend parent;
	git_config_entry entry;  /* pack.deltacachesize */
	uint64_t cache;
	char value[24];
} pbconf;

static void pb_entry_free(git_config_entry *entry)
{
	(void)entry; /* the backend's own: git_config_entry_free calls this */
}

static int pbconf_open(git_config_backend *be, git_config_level_t level,
		       const git_repository *repo)
{
	(void)be;
	(void)level;
	(void)repo;
	return 0;
}

static int pbconf_get(git_config_backend *be, const char *key,
		      git_config_entry **out)
{
	pbconf *pc = (pbconf *)be;

	if (strcmp(key, pc->entry.name))
		return GIT_ENOTFOUND;
	*out = &pc->entry;
	return 0;
}

static int pbconf_readonly(void)
{
	git_error_set_str(GIT_ERROR_CONFIG, "the packbuilder's config is read-only");
	return -1;
}

static int pbconf_set(git_config_backend *be, const char *key, const char *value)
{
	(void)be;
	(void)key;
	(void)value;
	return pbconf_readonly();
}

static int pbconf_set_multivar(git_config_backend *be, const char *name,
			       const char *regexp, const char *value)
{
	(void)be;
	(void)name;
	(void)regexp;
	(void)value;
	return pbconf_readonly();
}

static int pbconf_del(git_config_backend *be, const char *key)
{
	(void)be;
	(void)key;
	return pbconf_readonly();
}

static int pbconf_del_multivar(git_config_backend *be, const char *key,
			       const char *regexp)
{
	(void)be;
	(void)key;
	(void)regexp;
	return pbconf_readonly();
}

/* Iterating (which the packbuilder does not) sees nothing. */
static int pbconf_iter_next(git_config_entry **entry, git_config_iterator *it)
{
	(void)entry;
	(void)it;
	return GIT_ITEROVER;
}

static void pbconf_iter_free(git_config_iterator *it)
{
	free(it);
}

static int pbconf_iterator(git_config_iterator **out, git_config_backend *be)
{
	git_config_iterator *it = calloc(1, sizeof(*it));

	if (!it) {
		git_error_set_oom();
		return -1;
	}
	it->backend = be;
	it->next = pbconf_iter_next;
	it->free = pbconf_iter_free;
	*out = it;
	return 0;
}

static int pbconf_lock(git_config_backend *be)
{
	(void)be;
	return 0;
}

static int pbconf_unlock(git_config_backend *be, int success)
{
	(void)be;
	(void)success;
	return 0;
}

static void pbconf_free(git_config_backend *be)
{
	free(be);
}

static int pbconf_snapshot(git_config_backend **out, git_config_backend *be);

/* A backend answering pack.deltacachesize = cache (0: 1, as 0 is no limit). */
static git_config_backend *pbconf_new(uint64_t cache)
{
	pbconf *pc = calloc(1, sizeof(*pc));
	git_config_backend *be = pc ? &pc->parent : NULL;

	if (!be || git_config_init_backend(be, GIT_CONFIG_BACKEND_VERSION) < 0) {
		free(pc);
		return NULL;
	}
	pc->cache = cache ? cache : 1;
	snprintf(pc->value, sizeof(pc->value), "%llu", (unsigned long long)pc->cache);
	pc->entry.name = "pack.deltacachesize";
	pc->entry.value = pc->value;
	pc->entry.level = GIT_CONFIG_LEVEL_APP;
	pc->entry.free = pb_entry_free;
	be->readonly = 1;
	be->open = pbconf_open;
	be->get = pbconf_get;
	be->set = pbconf_set;
	be->set_multivar = pbconf_set_multivar;
	be->del = pbconf_del;
	be->del_multivar = pbconf_del_multivar;
	be->iterator = pbconf_iterator;
	be->snapshot = pbconf_snapshot;
	be->lock = pbconf_lock;
	be->unlock = pbconf_unlock;
	be->free = pbconf_free;
	return be;
}

/* A snapshot is another backend just like it (git_config frees each). */
static int pbconf_snapshot(git_config_backend **out, git_config_backend *be)
{
	*out = pbconf_new(((pbconf *)be)->cache);
	if (!*out) {
		git_error_set_oom();
		return -1;
	}
	return 0;
}

/* Give repo the packbuilder's config (above). */
static int pbconf_attach(git_repository *repo, uint64_t cache)
{
	git_config *cfg = NULL;
	git_config_backend *be;
	int rc = -1;

	if (git_config_new(&cfg) < 0)
		return -1;
	be = pbconf_new(cache);
	if (!be) {
		git_error_set_oom();
	} else if (git_config_add_backend(cfg, be, GIT_CONFIG_LEVEL_APP, repo, 0) < 0) {
		be->free(be);
	} else {
		rc = git_repository_set_config(repo, cfg);
	}
	git_config_free(cfg); /* the repository holds its own reference */
	return rc;
}

/*
 * Set up b's in-memory repository over the spill's texts in fd; no file
 * is longer than longest.
 */
static int builder_open(builder *b, git_repository *target, int fd,
			uint64_t longest, strata_error *err)
{
	b->rb = calloc(1, sizeof(*b->rb));
	if (!b->rb)
		return oom(err);
	b->rb->fd = fd;
	if (git_odb_init_backend(&b->rb->parent, GIT_ODB_BACKEND_VERSION) < 0)
		return gitfail(err, STRATA_EGIT, "cannot set up the object store");
	b->rb->parent.read = rb_read;
	b->rb->parent.read_header = rb_read_header;
	b->rb->parent.exists = rb_exists;
	b->rb->parent.free = rb_free;
	if (git_repository_odb(&b->target, target) < 0 ||
	    git_odb_new(&b->odb) < 0 ||
	    git_odb_add_backend(b->odb, &b->rb->parent, 1000) < 0)
		return gitfail(err, STRATA_EGIT, "cannot set up the object store");
	b->rb_added = true;
	if (git_mempack_new(&b->mem) < 0)
		return gitfail(err, STRATA_EGIT, "cannot set up the object store");
	if (git_odb_add_backend(b->odb, b->mem, 999) < 0) {
		b->mem->free(b->mem);
		b->mem = NULL;
		return gitfail(err, STRATA_EGIT, "cannot set up the object store");
	}
	if (git_repository_wrap_odb(&b->repo, b->odb) < 0 ||
	    pbconf_attach(b->repo, longest) < 0 ||
	    git_packbuilder_new(&b->pb, b->repo) < 0)
		return gitfail(err, STRATA_EGIT, "cannot set up the object store");
	git_packbuilder_set_threads(b->pb, 0); /* delta search on every CPU */
	return 0;
}

static void builder_free(builder *b)
{
	git_packbuilder_free(b->pb);
	git_repository_free(b->repo);
	if (b->mem)
		git_mempack_reset(b->mem);
	git_odb_free(b->odb);   /* frees the backends added to it */
	if (b->rb && !b->rb_added)
		rb_free(&b->rb->parent);
	git_odb_free(b->target);
	strata_filelist_free(&b->files);
	free(b->f);
}

/*
 * The packbuilder hands the pack over in pieces of a few bytes (each
 * object's header, then its data): gather them, so the pack writer gets
 * (and writes) large chunks.
 */
#define PACK_CHUNK (1024 * 1024)

typedef struct packsink {
	git_odb_writepack *wp;
	git_indexer_progress st;
	char *buf;
	size_t len;
} packsink;

static int sink_flush(packsink *s)
{
	int grc = s->len ? s->wp->append(s->wp, s->buf, s->len, &s->st) : 0;

	s->len = 0;
	return grc;
}

static int sink_put(void *data, size_t size, void *payload)
{
	packsink *s = payload;
	int grc;

	if (s->len + size > PACK_CHUNK && (grc = sink_flush(s)) < 0)
		return grc;
	if (size >= PACK_CHUNK)
		return s->wp->append(s->wp, data, size, &s->st);
	memcpy(s->buf + s->len, data, size);
	s->len += size;
	return 0;
}

/* Stream the queued objects into the target as one pack. */
static int write_pack(builder *b, strata_error *err)
{
	packsink s = { 0 };
	int rc = 0;

	if (git_packbuilder_object_count(b->pb) == 0)
		return 0;
	s.buf = malloc(PACK_CHUNK);
	if (!s.buf)
		return oom(err);
	if (git_odb_write_pack(&s.wp, b->target, NULL, NULL) < 0) {
		free(s.buf);
		return gitfail(err, STRATA_EGIT, "cannot write pack");
	}
	if (git_packbuilder_foreach(b->pb, sink_put, &s) < 0 ||
	    sink_flush(&s) < 0 || s.wp->commit(s.wp, &s.st) < 0)
		rc = gitfail(err, STRATA_EGIT, "cannot write pack");
	s.wp->free(s.wp);
	free(s.buf);
	return rc;
}

/*
 * Put the spilled files (and kustomization.yaml) into target's object
 * database (the objects it lacks, as one pack) and return the root tree's
 * id in out.  Nothing refers to them yet: a failure leaves at most an
 * unreferenced pack.
 */
static int build_tree(git_repository *target, const spill *s, git_oid *out,
		      strata_error *err)
{
	builder b = { 0 };
	size_t n;
	int rc;

	rc = builder_open(&b, target, s->fd,
			  s->max > PB_DELTA_CACHE ? s->max : PB_DELTA_CACHE, err);
	if (rc == 0)
		rc = read_index(&b, s, err);
	if (rc < 0)
		goto done;
	n = b.files.n;
	b.f = calloc(n ? n : 1, sizeof(*b.f));
	if (!b.f) {
		rc = oom(err);
		goto done;
	}
	/* the spilled files come first, in render order */
	for (size_t i = 0; i < b.rb->n; i++)
		b.f[i].id = b.rb->v[i].id;
	if (b.rb->n)
		qsort(b.rb->v, b.rb->n, sizeof(*b.rb->v), cmp_rblob);
	for (size_t i = 0; i < n; i++) {
		strata_file *fi = &b.files.items[i];

		b.f[i].path = fi->path;
		if (!fi->path[0] || fi->path[0] == '/' ||
		    strstr(fi->path, "//") ||
		    fi->path[strlen(fi->path) - 1] == '/') {
			rc = strata_error_set(err, STRATA_EUNSAFE, NULL, 0, 0,
					      "bad output path '%s'", fi->path);
			goto done;
		}
		if (i < b.rb->n)
			continue;
		if (git_blob_create_from_buffer(&b.f[i].id, b.repo,
						fi->data ? fi->data : "",
						fi->len) < 0) {
			rc = gitfail(err, STRATA_EGIT, "cannot write '%s'",
				     fi->path);
			goto done;
		}
		free(fi->data);   /* the mempack has it now */
		fi->data = NULL;
	}
	qsort(b.f, n, sizeof(*b.f), cmp_tfile);
	rc = build_dir(&b, b.f, 0, n, 0, out, err);
	if (rc == 0)
		rc = write_pack(&b, err);
done:
	builder_free(&b);
	return rc;
}

/* ---- refs ---- */

/* Read ref's target; *exists false when there is no such ref. */
static int read_ref(git_repository *repo, const char *ref, git_oid *out,
		    bool *exists, strata_error *err)
{
	git_reference *r = NULL, *res = NULL;
	int grc;

	*exists = false;
	grc = git_reference_lookup(&r, repo, ref);
	if (grc == GIT_ENOTFOUND)
		return 0;
	if (grc < 0)
		return gitfail(err, STRATA_EGIT, "cannot read '%s'", ref);
	grc = git_reference_resolve(&res, r);
	git_reference_free(r);
	if (grc < 0)
		return gitfail(err, STRATA_EGIT, "cannot resolve '%s'", ref);
	git_oid_cpy(out, git_reference_target(res));
	git_reference_free(res);
	*exists = true;
	return 0;
}

/* Refuse the branch that is checked out (in the main or any worktree). */
static int check_not_checked_out(pub *p)
{
	git_reference *head = NULL, *br = NULL;
	int rc = 0;

	if (git_repository_is_bare(p->repo))
		return 0;
	if (git_reference_lookup(&head, p->repo, "HEAD") == 0 &&
	    git_reference_type(head) == GIT_REFERENCE_SYMBOLIC &&
	    !strcmp(git_reference_symbolic_target(head), p->ref))
		rc = 1;
	if (!rc && git_reference_lookup(&br, p->repo, p->ref) == 0 &&
	    git_branch_is_checked_out(br) == 1)
		rc = 1;
	git_reference_free(head);
	git_reference_free(br);
	if (rc)
		return strata_error_set(
			p->err, STRATA_EREFUSED, NULL, 0, 0,
			"refusing to write branch '%s': it is checked out in the working tree",
			p->ref + 11);
	return 0;
}

/*
 * Move p->ref from expected (NULL: must not exist) to id.  RETRY when
 * another process moved or created it; a lock held by someone else is
 * waited for briefly, then reported and left alone.
 */
static int cas_local(pub *p, const git_oid *expected, const git_oid *id,
		     const char *logmsg)
{
	for (unsigned tries = 1;; tries++) {
		git_reference *r = NULL;
		int grc;

		if (expected)
			grc = git_reference_create_matching(
				&r, p->repo, p->ref, id, 1, expected, logmsg);
		else
			grc = git_reference_create(&r, p->repo, p->ref, id, 0,
						   logmsg);
		git_reference_free(r);
		if (grc == 0)
			return 0;
		if (grc == GIT_EMODIFIED || grc == GIT_EEXISTS)
			return RETRY;
		if (grc == GIT_ELOCKED && tries < LOCK_TRIES) {
			backoff(p, tries < 3 ? tries : 3);
			continue;
		}
		if (grc == GIT_ELOCKED)
			return strata_error_set(
				p->err, STRATA_EGIT, NULL, 0, 0,
				"cannot update branch '%s': '%s.lock' exists; another git process holds it, or one crashed (if no git process is running, remove the lock file)",
				p->ref + 11, p->ref);
		return gitfail(p->err, STRATA_EGIT, "cannot update branch '%s'",
			       p->ref + 11);
	}
}

/* ---- remotes ---- */

void strata_publish_cred_choose(strata_publish_cred *out, unsigned allowed,
				const char *username_from_url,
				const strata_publish_opts *opts,
				unsigned tries)
{
	const char *url_user = username_from_url ? username_from_url : "git";

	memset(out, 0, sizeof(*out));
	out->kind = STRATA_PUBLISH_CRED_REFUSE;
	if (tries > CRED_TRIES) {
		out->message = "authentication failed (credentials refused)";
	} else if (allowed & GIT_CREDENTIAL_SSH_KEY) {
		out->kind = STRATA_PUBLISH_CRED_AGENT;
		out->user = url_user;
	} else if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) &&
		   opts->https_token) {
		out->kind = STRATA_PUBLISH_CRED_USERPASS;
		out->user = opts->https_user ? opts->https_user :
					       DEFAULT_HTTPS_USER;
		out->token = opts->https_token;
	} else if (allowed & GIT_CREDENTIAL_USERNAME) {
		out->kind = STRATA_PUBLISH_CRED_USERNAME;
		out->user = url_user;
	} else {
		out->message = "the remote asks for credentials and none are available (set STRATA_GIT_TOKEN for https, or run an ssh agent)";
	}
}

static int cred_cb(git_credential **out, const char *url,
		   const char *username_from_url, unsigned int allowed,
		   void *payload)
{
	pub *p = payload;
	strata_publish_cred c;

	(void)url;
	strata_publish_cred_choose(&c, allowed, username_from_url, p->opts,
				   ++p->cred_tries);
	switch (c.kind) {
	case STRATA_PUBLISH_CRED_AGENT:
		return git_credential_ssh_key_from_agent(out, c.user);
	case STRATA_PUBLISH_CRED_USERPASS:
		return git_credential_userpass_plaintext_new(out, c.user,
							     c.token);
	case STRATA_PUBLISH_CRED_USERNAME:
		return git_credential_username_new(out, c.user);
	case STRATA_PUBLISH_CRED_REFUSE:
		break;
	}
	git_error_set_str(GIT_ERROR_NET, c.message);
	return GIT_EAUTH;
}

static int sideband_cb(const char *str, int len, void *payload)
{
	pub *p = payload;

	if (len > 0 && p->sideband.len < SIDEBAND_MAX)
		strata_buf_put(&p->sideband, str, (size_t)len);
	return 0;
}

static int update_ref_cb(const char *refname, const char *status,
			 void *payload)
{
	pub *p = payload;

	if (strcmp(refname, p->ref))
		return 0;
	p->ref_seen = true;
	if (status) {
		free(p->reject);
		p->reject = strdup(status);
	}
	return 0;
}

/*
 * libgit2 1.5 pushes refs, not object ids, so the local branch is what
 * goes out; make sure it still is the commit this process means to push
 * (another publisher in the same repository may have moved it since).
 */
static int negotiation_cb(const git_push_update **updates, size_t len,
			  void *payload)
{
	pub *p = payload;

	for (size_t i = 0; i < len; i++) {
		if (!strcmp(updates[i]->dst_refname, p->ref) &&
		    !git_oid_equal(&updates[i]->dst, &p->pushing)) {
			p->moved = true;
			git_error_set_str(GIT_ERROR_REFERENCE,
					  "the local branch moved");
			return GIT_EUSER;
		}
	}
	return 0;
}

static void callbacks(pub *p, git_remote_callbacks *cb)
{
	git_remote_init_callbacks(cb, GIT_REMOTE_CALLBACKS_VERSION);
	cb->credentials = cred_cb;
	cb->sideband_progress = sideband_cb;
	cb->push_update_reference = update_ref_cb;
	cb->push_negotiation = negotiation_cb;
	cb->payload = p;
}

/* A plain path or file:// URL: talk to it through git itself. */
static bool is_local_url(const char *url)
{
	const char *colon = strchr(url, ':');
	const char *slash = strchr(url, '/');

	if (!strncmp(url, "file://", 7))
		return true;
	if (strstr(url, "://"))
		return false;
	/* scp-like "host:path" has a ':' before any '/' */
	return !(colon && (!slash || colon < slash));
}

/*
 * Open p->opts->remote: a configured remote's (push) URL, or a URL/path.
 * Local paths are made absolute (relative ones are relative to the
 * target repository) and go through transport_local.c.
 */
static int open_remote(pub *p)
{
	const char *name = p->opts->remote;
	git_remote *named = NULL;
	const char *url = name;
	char *abs = NULL, *full = NULL;
	int rc = 0, grc;

	if (!name[0] || name[0] == '-')
		return strata_error_set(p->err, STRATA_EUSAGE, NULL, 0, 0,
					"invalid remote '%s'", name);
	grc = git_remote_lookup(&named, p->repo, name);
	if (grc == 0) {
		url = git_remote_pushurl(named) ? git_remote_pushurl(named) :
						   git_remote_url(named);
		if (!url) {
			rc = strata_error_set(p->err, STRATA_EGIT, NULL, 0, 0,
					      "remote '%s' has no url", name);
			goto done;
		}
		if (asprintf(&p->tracking, "refs/remotes/%s/%s", name,
			     p->ref + 11) < 0) {
			p->tracking = NULL;
			rc = oom(p->err);
			goto done;
		}
	} else if (grc != GIT_ENOTFOUND && grc != GIT_EINVALIDSPEC) {
		rc = gitfail(p->err, STRATA_EGIT, "cannot read remote '%s'",
			     name);
		goto done;
	} else if (strncmp(name, "file://", 7) && !strchr(name, '/') &&
		   !strchr(name, ':') && access(name, F_OK) != 0) {
		rc = strata_error_set(p->err, STRATA_EGIT, NULL, 0, 0,
				      "no such remote '%s'", name);
		goto done;
	}
	{
		char shown[600];

		redact(shown, sizeof(shown), named ? name : url);
		p->remote_desc = strdup(shown);
		if (!p->remote_desc) {
			rc = oom(p->err);
			goto done;
		}
	}
	if (is_local_url(url)) {
		const char *path = !strncmp(url, "file://", 7) ? url + 7 : url;
		struct stat st;

		if (path[0] != '/') {
			const char *base = git_repository_workdir(p->repo);

			if (!base)
				base = git_repository_path(p->repo);
			if (asprintf(&abs, "%s%s%s", base,
				     base[strlen(base) - 1] == '/' ? "" : "/",
				     path) < 0) {
				abs = NULL;
				rc = oom(p->err);
				goto done;
			}
			path = abs;
		}
		if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
			rc = strata_error_set(p->err, STRATA_EGIT, NULL, 0, 0,
					      "remote '%s' is not a git repository",
					      p->remote_desc);
			goto done;
		}
		if (strata_transport_local_register() < 0) {
			rc = gitfail(p->err, STRATA_EGIT,
				     "cannot set up the local transport");
			goto done;
		}
		full = strata_transport_local_url(path);
		if (!full) {
			rc = oom(p->err);
			goto done;
		}
		url = full;
	}
	/*
	 * Anonymous: a named remote's fetch refspecs would make libgit2
	 * rewrite remote-tracking refs inside push, where a concurrent
	 * publisher's lock turns a successful push into an error.
	 */
	if (git_remote_create_anonymous(&p->remote, p->repo, url) < 0)
		rc = gitfail(p->err, STRATA_EGIT, "cannot open remote '%s'",
			     p->remote_desc);
done:
	free(abs);
	free(full);
	git_remote_free(named);
	return rc;
}

/*
 * The remote's tip of p->ref (fetching its objects when missing here).
 * *exists false when the remote has no such branch.
 */
static int remote_tip(pub *p, git_oid *out, bool *exists)
{
	git_remote_callbacks cb;
	git_fetch_options fo;
	const git_remote_head **heads;
	size_t n;
	git_odb *odb = NULL;
	char *spec = (char *)p->ref;
	git_strarray specs = { &spec, 1 };
	int rc = 0;

	*exists = false;
	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	callbacks(p, &cb);
	p->cred_tries = 0;
	if (git_remote_connect(p->remote, GIT_DIRECTION_FETCH, &cb, NULL,
			       NULL) < 0)
		return gitfail(p->err, STRATA_EGIT, "cannot fetch from '%s'",
			       p->remote_desc);
	if (git_remote_ls(&heads, &n, p->remote) < 0) {
		rc = gitfail(p->err, STRATA_EGIT, "cannot list '%s'",
			     p->remote_desc);
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(heads[i]->name, p->ref)) {
			git_oid_cpy(out, &heads[i]->oid);
			*exists = true;
			break;
		}
	}
	if (!*exists)
		goto done;
	if (git_repository_odb(&odb, p->repo) < 0) {
		rc = gitfail(p->err, STRATA_EGIT, "cannot open object database");
		goto done;
	}
	if (!git_odb_exists(odb, out)) {
		fo.callbacks = cb;
		fo.update_fetchhead = 0;
		fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
		if (git_remote_download(p->remote, &specs, &fo) < 0) {
			rc = gitfail(p->err, STRATA_EGIT,
				     "cannot fetch '%s' from '%s'", p->ref + 11,
				     p->remote_desc);
			goto done;
		}
		git_odb_refresh(odb);
		if (!git_odb_exists(odb, out)) {
			rc = strata_error_set(p->err, STRATA_EGIT, NULL, 0, 0,
					      "fetching '%s' from '%s' did not bring its tip",
					      p->ref + 11, p->remote_desc);
			goto done;
		}
	}
done:
	git_odb_free(odb);
	git_remote_disconnect(p->remote);
	return rc;
}

/* The server's side-band text, flattened to one line (last part kept). */
static void sideband_text(pub *p, char *out, size_t size)
{
	char flat[SIDEBAND_MAX + 1];
	size_t o = 0;
	const char *s = p->sideband.ptr ? p->sideband.ptr : "";
	const char *start;

	for (size_t i = 0; i < p->sideband.len && o < SIDEBAND_MAX; i++) {
		char c = s[i];

		if (c == '\r' || c == '\n') {
			if (o && flat[o - 1] != ' ' && flat[o - 1] != ';') {
				flat[o++] = ';';
				flat[o++] = ' ';
			}
			continue;
		}
		if (o < SIDEBAND_MAX)
			flat[o++] = c;
	}
	while (o && (flat[o - 1] == ' ' || flat[o - 1] == ';'))
		o--;
	flat[o] = '\0';
	start = flat;
	if (o + 1 > size)
		start = flat + (o + 1 - size);
	redact(out, size, start);
}

/* Is a push's rejection git's word for a ref another process had locked? */
static bool lost_lock(const char *reason)
{
	return strstr(reason, "failed to update ref") ||
	       strstr(reason, "failed to lock") ||
	       strstr(reason, "cannot lock ref");
}

/*
 * Push id to p->ref on the remote, expecting the remote at old (NULL: no
 * branch).  RETRY when the remote moved meanwhile, or holds the ref locked.
 */
static int push(pub *p, const git_oid *id, const git_oid *old, bool had)
{
	git_push_options po;
	char *spec = NULL;
	git_strarray specs = { &spec, 1 };
	int grc, rc = 0;

	git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
	/* No leading '+': never forced. */
	if (asprintf(&spec, "%s:%s", p->ref, p->ref) < 0)
		return oom(p->err);
	callbacks(p, &po.callbacks);
	git_oid_cpy(&p->pushing, id);
	p->moved = false;
	p->locked = false;
	p->cred_tries = 0;
	p->ref_seen = false;
	free(p->reject);
	p->reject = NULL;
	p->sideband.len = 0;
	grc = git_remote_push(p->remote, &specs, &po);
	free(spec);
	if (grc == GIT_ENONFASTFORWARD || p->moved)
		return RETRY;
	if (grc < 0) {
		char said[600];

		sideband_text(p, said, sizeof(said));
		rc = gitfail(p->err, STRATA_EGIT, "push to '%s' failed%s%s%s",
			     p->remote_desc, said[0] ? " (remote: " : "", said,
			     said[0] ? ")" : "");
		return rc;
	}
	if (p->reject) {
		git_oid now;
		bool exists;
		char said[600], reason[300];

		sideband_text(p, said, sizeof(said));
		redact(reason, sizeof(reason), p->reject);
		/* Did the remote move?  Then it is a lost race, not a veto. */
		rc = remote_tip(p, &now, &exists);
		if (rc < 0)
			return rc;
		if (exists != had || (had && !git_oid_equal(&now, old)))
			return RETRY;
		/*
		 * Or is it still moving?  receive-pack answers "failed to
		 * update ref" when another push holds the ref's lock, and
		 * that push may not have renamed its lock into place when we
		 * look.  Retried like a move; land() names the reason if
		 * the last attempt ends this way (a stale lock file).
		 */
		if ((p->locked = lost_lock(p->reject)))
			return RETRY;
		return strata_error_set(p->err, STRATA_EREJECTED, NULL, 0, 0,
					"push to '%s' rejected: %s: %s%s%s%s",
					p->remote_desc, p->ref + 11, reason,
					said[0] ? " (remote: " : "", said,
					said[0] ? ")" : "");
	}
	return 0;
}

/* ---- landing a tree ---- */

static int tree_of(git_repository *repo, const git_oid *commit, git_oid *out,
		   strata_error *err)
{
	git_commit *c = NULL;

	if (git_commit_lookup(&c, repo, commit) < 0)
		return gitfail(err, STRATA_EGIT, "cannot read commit");
	git_oid_cpy(out, git_commit_tree_id(c));
	git_commit_free(c);
	return 0;
}

static int make_commit(pub *p, const git_oid *parent, git_oid *out)
{
	git_tree *tree = NULL;
	git_commit *pc = NULL;
	const git_commit *parents[1];
	int rc = 0;

	if (git_tree_lookup(&tree, p->repo, &p->tree) < 0)
		return gitfail(p->err, STRATA_EGIT, "cannot read tree");
	if (parent && git_commit_lookup(&pc, p->repo, parent) < 0) {
		rc = gitfail(p->err, STRATA_EGIT, "cannot read parent commit");
		goto done;
	}
	parents[0] = pc;
	if (git_commit_create(out, p->repo, NULL, p->sig, p->sig, NULL,
			      p->message, tree, pc ? 1 : 0, parents) < 0)
		rc = gitfail(p->err, STRATA_EGIT, "cannot write commit");
done:
	git_commit_free(pc);
	git_tree_free(tree);
	return rc;
}

/* Is a (or equal to) a descendant of b? */
static bool contains(git_repository *repo, const git_oid *a, const git_oid *b)
{
	return git_oid_equal(a, b) ||
	       git_graph_descendant_of(repo, a, b) == 1;
}

/*
 * Make p->tree the content of p->ref (and of the remote's p->ref when
 * pushing): a commit on the current tip, or nothing when the tip already
 * has this tree.  Compare-and-swap, retried when the ref moved.
 */
static int land(pub *p)
{
	unsigned max = p->opts->max_attempts ? p->opts->max_attempts :
					       DEFAULT_ATTEMPTS;
	char logmsg[300];
	int rc;

	snprintf(logmsg, sizeof(logmsg), "strata: publish %s", p->env);
	for (unsigned attempt = 1; attempt <= max; attempt++) {
		git_oid local, remote, parent, ptree, id;
		bool has_local, has_remote = false, has_parent, existed, changed;

		p->res->attempts = attempt;
		p->locked = false; /* says how *this* attempt ended */
		if (attempt > 1)
			backoff(p, attempt - 1);
		rc = read_ref(p->repo, p->ref, &local, &has_local, p->err);
		if (rc < 0)
			return rc;
		if (p->remote) {
			rc = remote_tip(p, &remote, &has_remote);
			if (rc < 0)
				return rc;
		}
		if (has_local && (rc = check_owned(p, &local, "")) < 0)
			return rc;
		if (has_remote &&
		    (!has_local || !git_oid_equal(&local, &remote)) &&
		    (rc = check_owned(p, &remote, "remote ")) < 0)
			return rc;

		/*
		 * The remote is the truth when pushing; local commits on top
		 * of it (an earlier publish whose push failed) are kept.
		 */
		has_parent = has_local || has_remote;
		if (has_remote && (!has_local || !contains(p->repo, &local,
							   &remote)))
			parent = remote;
		else if (has_local)
			parent = local;
		existed = p->remote ? has_remote : has_local;

		if (has_parent) {
			rc = tree_of(p->repo, &parent, &ptree, p->err);
			if (rc < 0)
				return rc;
		}
		if (has_parent && git_oid_equal(&ptree, &p->tree)) {
			id = parent;
		} else {
			rc = make_commit(p, has_parent ? &parent : NULL, &id);
			if (rc < 0)
				return rc;
		}

		if (!has_local || !git_oid_equal(&local, &id)) {
			rc = cas_local(p, has_local ? &local : NULL, &id,
				       logmsg);
			if (rc == RETRY)
				continue;
			if (rc < 0)
				return rc;
		}
		if (p->remote &&
		    (!has_remote || !git_oid_equal(&remote, &id))) {
			rc = push(p, &id, has_remote ? &remote : NULL,
				  has_remote);
			if (rc == RETRY)
				continue;
			if (rc < 0)
				return rc;
			if (p->tracking) {
				/* best effort: only a convenience for git log */
				git_reference *r = NULL;

				if (git_reference_create(&r, p->repo,
							 p->tracking, &id, 1,
							 logmsg) == 0)
					git_reference_free(r);
			}
		}
		if (p->remote)
			p->res->pushed = true;
		changed = p->remote ? (!has_remote || !git_oid_equal(&remote, &id))
				    : (!has_local || !git_oid_equal(&local, &id));
		p->res->status = !changed ? STRATA_PUBLISH_UNCHANGED :
				 existed  ? STRATA_PUBLISH_UPDATED :
					    STRATA_PUBLISH_CREATED;
		git_oid_tostr(p->res->commit, sizeof(p->res->commit), &id);
		return 0;
	}
	if (p->locked) { /* the last push, at least, found the ref locked */
		char reason[300];

		redact(reason, sizeof(reason), p->reject);
		return strata_error_set(p->err, STRATA_EREJECTED, NULL, 0, 0,
					"push to '%s' rejected: %s: %s (still so after %u attempts)",
					p->remote_desc, p->ref + 11, reason, max);
	}
	return strata_error_set(p->err, STRATA_EGIT, NULL, 0, 0,
				"branch '%s' kept moving; gave up after %u attempts",
				p->ref + 11, max);
}

/* ---- setting up ---- */

static int open_repo(git_repository **out, const char *dir, const char *what,
		     strata_error *err)
{
	if (git_repository_open_ext(out, dir ? dir : ".", 0, NULL) < 0)
		return gitfail(err, STRATA_EGIT, "cannot open %s '%s'", what,
			       dir ? dir : ".");
	return 0;
}

/* Identity: [publish] in strata.ini, else git config, else the default. */
static int signature(pub *p, const strata_config *cfg, git_time_t when,
		     int offset)
{
	git_config *gc = NULL;
	const char *name = cfg ? cfg->publish_name : NULL;
	const char *email = cfg ? cfg->publish_email : NULL;
	const char *gname = NULL, *gemail = NULL;
	int rc = 0;

	if ((!name || !email) &&
	    git_repository_config_snapshot(&gc, p->repo) == 0) {
		if (git_config_get_string(&gname, gc, "user.name") < 0)
			gname = NULL;
		if (git_config_get_string(&gemail, gc, "user.email") < 0)
			gemail = NULL;
	}
	if (!name)
		name = gname && gname[0] ? gname : DEFAULT_NAME;
	if (!email)
		email = gemail && gemail[0] ? gemail : DEFAULT_EMAIL;
	if (git_signature_new(&p->sig, name, email, when, offset) < 0)
		rc = gitfail(p->err, STRATA_EGIT,
			     "invalid identity '%s <%s>'", name, email);
	git_config_free(gc);
	return rc;
}

static void pub_free(pub *p)
{
	git_signature_free(p->sig);
	free(p->message);
	git_remote_free(p->remote);
	free(p->remote_desc);
	free(p->tracking);
	free(p->reject);
	strata_buf_free(&p->sideband);
	git_repository_free(p->repo);
}

static void pub_init(pub *p, strata_publish_result *res,
		     const strata_publish_opts *opts, const char *env,
		     strata_error *err)
{
	memset(p, 0, sizeof(*p));
	memset(res, 0, sizeof(*res));
	res->status = STRATA_PUBLISH_FAILED;
	p->res = res;
	p->opts = opts;
	p->env = env;
	p->ref = res->branch;
	p->err = err;
	p->seed = (unsigned)getpid() ^ (unsigned)time(NULL) ^
		  (unsigned)(uintptr_t)p;
}

/* Open the target, refuse a checked-out branch, open the remote. */
static int pub_open(pub *p, const strata_config *cfg)
{
	int rc;

	rc = strata_publish_branch(p->res->branch, cfg, p->env, p->err);
	if (rc < 0)
		return rc;
	rc = open_repo(&p->repo,
		       p->opts->target_dir ? p->opts->target_dir :
					     p->opts->config_dir,
		       p->opts->target_dir ? "target repository" : "repository",
		       p->err);
	if (rc < 0)
		return rc;
	rc = check_not_checked_out(p);
	if (rc < 0)
		return rc;
	if (p->opts->remote)
		rc = open_remote(p);
	return rc;
}

/* Strip trailing whitespace and refuse an empty subject. */
static int subject_of(const char *msg, strata_buf *b, strata_error *err)
{
	size_t n = strlen(msg);

	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' ' ||
		     msg[n - 1] == '\t' || msg[n - 1] == '\r'))
		n--;
	if (n == 0)
		return strata_error_set(err, STRATA_EUSAGE, NULL, 0, 0,
					"empty commit message");
	return strata_buf_put(b, msg, n) < 0 ? oom(err) : 0;
}

int strata_publish_env(strata_publish_result *out, strata_repo *repo,
		       const char *env, const strata_publish_opts *opts,
		       strata_error *err)
{
	const strata_config *cfg = strata_repo_config(repo);
	strata_source *src = strata_repo_source(repo);
	strata_render *r = NULL;
	git_repository *crepo = NULL;
	git_commit *scommit = NULL;
	strata_buf msg = STRATA_BUF_INIT;
	bool worktree = !strcmp(src->describe, "worktree");
	bool stream = cfg->layout && !strcmp(cfg->layout, "stream");
	git_time_t when;
	int offset = 0, rc;
	spill sp;
	pub p;

	spill_init(&sp);
	pub_init(&p, out, opts, env, err);
	rc = strata_git_init(err);
	if (rc < 0)
		return rc; /* pub_init left the status FAILED and owns nothing */

	/* The name is checked before anything else touches it. */
	rc = strata_publish_branch(out->branch, cfg, env, err);
	if (rc < 0)
		goto done;
	rc = strata_render_env(&r, repo, env, err);
	if (rc < 0)
		goto done;
	/*
	 * The checks of `strata check` before anything is written: the render
	 * above already failed on every error the pipeline can meet; what is
	 * left are the rules on the result (plaintext Secrets...).
	 */
	rc = strata_check_render(NULL, r, err);
	if (rc < 0)
		goto done;
	rc = pub_open(&p, cfg);
	if (rc < 0)
		goto done;

	/*
	 * The files go to the spill, then the render and (when it was the
	 * repo's last) the parsed base go: the trees and the pack are built
	 * from the spill alone.
	 */
	rc = spill_open(&sp, p.repo, err);
	if (rc == 0)
		rc = spill_render(&sp, r, stream, err);
	if (rc < 0)
		goto done;
	strata_render_free(r);
	r = NULL;
	strata_repo_release(repo);
#ifdef __GLIBC__
	malloc_trim(0); /* free blocks between live ones go back too */
#endif
	strata_pages_trim(); /* and the arenas' free blocks */

	/* Provenance: the source commit's subject and time. */
	if (worktree) {
		when = (git_time_t)time(NULL);
	} else {
		git_oid sid;

		if (git_oid_fromstr(&sid, src->describe) < 0) {
			rc = strata_error_set(err, STRATA_EGIT, NULL, 0, 0,
					      "bad source id '%s'",
					      src->describe);
			goto done;
		}
		rc = open_repo(&crepo, opts->config_dir, "repository", err);
		if (rc < 0)
			goto done;
		if (git_commit_lookup(&scommit, crepo, &sid) < 0) {
			rc = gitfail(err, STRATA_EGIT,
				     "cannot read source commit %s",
				     src->describe);
			goto done;
		}
		when = git_commit_time(scommit);
		offset = git_commit_time_offset(scommit);
	}
	if (opts->message) {
		rc = subject_of(opts->message, &msg, err);
		if (rc < 0)
			goto done;
	} else if (worktree) {
		strata_buf_printf(&msg, "%s: render worktree", env);
	} else {
		const char *subj = git_commit_summary(scommit);

		strata_buf_printf(&msg, "%s: render %.7s%s%s", env,
				  src->describe, subj && subj[0] ? " " : "",
				  subj ? subj : "");
	}
	if (strata_buf_printf(&msg,
			      "\n\nStrata-Env: %s\nStrata-Source: %s\nStrata-Version: %s\n",
			      env, worktree ? "worktree" : src->describe,
			      STRATA_VERSION_STRING) < 0) {
		rc = oom(err);
		goto done;
	}
	p.message = strata_buf_detach(&msg, NULL);
	rc = signature(&p, cfg, when, offset);
	if (rc < 0)
		goto done;
	rc = build_tree(p.repo, &sp, &p.tree, err);
	if (rc < 0)
		goto done;
	/* Landing (and pushing: another pack) needs only the target's odb. */
	spill_free(&sp);
	rc = land(&p);
done:
	if (rc < 0) {
		out->status = STRATA_PUBLISH_FAILED;
		out->commit[0] = '\0';
	}
	strata_buf_free(&msg);
	git_commit_free(scommit);
	git_repository_free(crepo);
	strata_render_free(r);
	spill_free(&sp);
	pub_free(&p);
	git_libgit2_shutdown();
#ifdef __GLIBC__
	/*
	 * What the trees and the pack freed (the delta search's windows
	 * and deltas among it) stays resident in malloc's heaps until
	 * trimmed, and publish --all's next environment would render on
	 * top of it: at 40,000 resources the main heap held 38-51 MB between
	 * environments, 11-16 MB trimmed, and the peak went 201 -> 184 MiB.
	 */
	malloc_trim(0);
#endif
	strata_pages_trim();
	return rc;
}

/* ---- rollback ---- */

int strata_rollback_env(strata_publish_result *out, const strata_config *cfg,
			const char *env, const char *to,
			const strata_publish_opts *opts, strata_error *err)
{
	git_object *obj = NULL;
	git_commit *target = NULL;
	strata_buf msg = STRATA_BUF_INIT;
	char tenv[256], tsrc[128], hex[GIT_OID_HEXSZ + 1], sid[8];
	git_oid tip;
	bool has_tip = false, on_branch;
	int rc;
	pub p;

	pub_init(&p, out, opts, env, err);
	rc = strata_git_init(err);
	if (rc < 0)
		return rc; /* pub_init left the status FAILED and owns nothing */
	rc = pub_open(&p, cfg);
	if (rc < 0)
		goto done;
	if (!to || !to[0] || to[0] == '-') {
		rc = strata_error_set(err, STRATA_EUSAGE, NULL, 0, 0,
				      "invalid revision '%s'", to ? to : "");
		goto done;
	}
	if (git_revparse_single(&obj, p.repo, to) < 0 ||
	    git_object_peel((git_object **)&target, obj, GIT_OBJECT_COMMIT) <
		    0) {
		rc = strata_error_set(err, STRATA_ENOTFOUND, NULL, 0, 0,
				      "unknown revision '%s'", to);
		goto done;
	}
	git_oid_tostr(hex, sizeof(hex), git_commit_id(target));
	short_id(sid, git_commit_id(target));

	/* The commit must be an earlier state of this environment's branch. */
	if (p.remote) {
		rc = remote_tip(&p, &tip, &has_tip);
		if (rc < 0)
			goto done;
	}
	if (!has_tip) {
		rc = read_ref(p.repo, p.ref, &tip, &has_tip, err);
		if (rc < 0)
			goto done;
	}
	if (!has_tip) {
		rc = strata_error_set(err, STRATA_ENOTFOUND, NULL, 0, 0,
				      "branch '%s' does not exist",
				      p.ref + 11);
		goto done;
	}
	on_branch = contains(p.repo, &tip, git_commit_id(target));
	trailer(git_commit_message(target), "Strata-Env", tenv, sizeof(tenv));
	if (!on_branch || (strcmp(tenv, env) && !opts->adopt)) {
		rc = strata_error_set(err, STRATA_EREFUSED, NULL, 0, 0,
				      "refusing to roll back to %s: it is not a commit of environment '%s' on branch '%s'",
				      sid, env, p.ref + 11);
		goto done;
	}
	trailer(git_commit_message(target), "Strata-Source", tsrc, sizeof(tsrc));
	git_oid_cpy(&p.tree, git_commit_tree_id(target));

	if (opts->message) {
		rc = subject_of(opts->message, &msg, err);
		if (rc < 0)
			goto done;
	} else {
		strata_buf_printf(&msg, "%s: roll back to %s", env, sid);
	}
	strata_buf_printf(&msg, "\n\nRestores the tree of %s (%s).\n", hex,
			  git_commit_summary(target) ? git_commit_summary(target) :
						       "");
	if (strata_buf_printf(&msg,
			      "\nStrata-Env: %s\nStrata-Source: %s\nStrata-Rollback-Of: %s\nStrata-Version: %s\n",
			      env, tsrc[0] ? tsrc : "unknown", hex,
			      STRATA_VERSION_STRING) < 0) {
		rc = oom(err);
		goto done;
	}
	p.message = strata_buf_detach(&msg, NULL);
	/* A rollback is an act at a point in time, not a render of a source. */
	rc = signature(&p, cfg, (git_time_t)time(NULL), 0);
	if (rc < 0)
		goto done;
	rc = land(&p);
done:
	if (rc < 0) {
		out->status = STRATA_PUBLISH_FAILED;
		out->commit[0] = '\0';
	}
	strata_buf_free(&msg);
	git_commit_free(target);
	git_object_free(obj);
	pub_free(&p);
	git_libgit2_shutdown();
	return rc;
}

/* ---- history ---- */

void strata_history_free(strata_history_entry *h, size_t n)
{
	if (!h)
		return;
	for (size_t i = 0; i < n; i++)
		free(h[i].subject);
	free(h);
}

int strata_history(strata_history_entry **out, size_t *n,
		   const strata_config *cfg, const char *env,
		   const char *repo_dir, size_t max, strata_error *err)
{
	char ref[256];
	git_repository *repo = NULL;
	git_revwalk *walk = NULL;
	strata_history_entry *v = NULL;
	size_t cnt = 0, cap = 0;
	git_oid tip, id;
	bool exists;
	int rc;

	*out = NULL;
	*n = 0;
	rc = strata_publish_branch(ref, cfg, env, err);
	if (rc < 0)
		return rc;
	rc = strata_git_init(err);
	if (rc < 0)
		return rc;
	rc = open_repo(&repo, repo_dir, "repository", err);
	if (rc < 0)
		goto done;
	rc = read_ref(repo, ref, &tip, &exists, err);
	if (rc == 0 && !exists) {
		/* A CI clone has the branch only as origin's. */
		char tracking[300];

		snprintf(tracking, sizeof(tracking), "refs/remotes/origin/%s",
			 ref + 11);
		rc = read_ref(repo, tracking, &tip, &exists, err);
	}
	if (rc < 0)
		goto done;
	if (!exists) {
		rc = strata_error_set(err, STRATA_ENOTFOUND, NULL, 0, 0,
				      "branch '%s' does not exist (nothing published for '%s' yet?)",
				      ref + 11, env);
		goto done;
	}
	if (git_revwalk_new(&walk, repo) < 0 ||
	    git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL) < 0 ||
	    git_revwalk_simplify_first_parent(walk) < 0 ||
	    git_revwalk_push(walk, &tip) < 0) {
		rc = gitfail(err, STRATA_EGIT, "cannot walk '%s'", ref + 11);
		goto done;
	}
	while ((max == 0 || cnt < max) && git_revwalk_next(&id, walk) == 0) {
		git_commit *c = NULL;
		const char *m, *s;
		strata_history_entry *e;

		if (git_commit_lookup(&c, repo, &id) < 0) {
			rc = gitfail(err, STRATA_EGIT, "cannot read commit");
			goto done;
		}
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			strata_history_entry *nv =
				realloc(v, ncap * sizeof(*nv));

			if (!nv) {
				git_commit_free(c);
				rc = oom(err);
				goto done;
			}
			v = nv;
			cap = ncap;
		}
		e = &v[cnt];
		memset(e, 0, sizeof(*e));
		git_oid_tostr(e->commit, sizeof(e->commit), &id);
		m = git_commit_message(c);
		trailer(m, "Strata-Source", e->source, sizeof(e->source));
		trailer(m, "Strata-Rollback-Of", e->rollback_of,
			sizeof(e->rollback_of));
		trailer(m, "Strata-Env", e->env, sizeof(e->env));
		e->time = (int64_t)git_commit_time(c);
		e->offset = git_commit_time_offset(c);
		s = git_commit_summary(c);
		e->subject = strdup(s ? s : "");
		git_commit_free(c);
		if (!e->subject) {
			rc = oom(err);
			goto done;
		}
		cnt++;
	}
	*out = v;
	*n = cnt;
	v = NULL;
	cnt = 0;
done:
	strata_history_free(v, cnt);
	git_revwalk_free(walk);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return rc;
}
