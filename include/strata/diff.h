/*
 * diff.h - resource-aware differences between two sets of rendered
 * resources: two environments, two revisions, or what is published on an
 * environment branch against what would be published now.
 *
 * A comparison pairs the resources of the two sides (by identity, or,
 * across environments, by identity after removing each side's own
 * namespace and name prefix/suffix), then compares each pair field by
 * field.  Lists the merge knows how to key (containers by name, ports by
 * containerPort and protocol, ... src/lib/schema.h) are compared item by
 * item under their key; other lists by a linear-space Myers diff of their
 * items.  Pairing and comparing are linear in the size of the input (hash
 * tables throughout).
 *
 * The result borrows the sides' nodes: keep the sides alive while the
 * strata_diff is used.  A side may instead keep its documents out of
 * memory (strata_diff_side_spill, packed): then the comparison reads each
 * document back when it needs it and drops it after, and the result holds
 * copies of the values it reports.
 */
#ifndef STRATA_DIFF_H
#define STRATA_DIFF_H

#include "render.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What happened to a resource. */
typedef enum strata_diff_status {
	STRATA_DIFF_ADDED = 1,    /* only on the new side */
	STRATA_DIFF_REMOVED = 2,  /* only on the old side */
	STRATA_DIFF_CHANGED = 3,  /* on both, with field changes */
} strata_diff_status;

/* What happened to a field. */
typedef enum strata_change_op {
	STRATA_CHANGE_ADD = 1,    /* new_value only */
	STRATA_CHANGE_REMOVE = 2, /* old_value only */
	STRATA_CHANGE_MODIFY = 3, /* old_value -> new_value */
	STRATA_CHANGE_ORDER = 4,  /* a list holds the same items in another order;
				     old_value and new_value are the two lists */
} strata_change_op;

/* For ORDER of a keyed list: the items' keys in old and new order,
 * rendered "name=main" (arena strings). */
typedef struct strata_diff_order {
	const char *const *old_keys;
	const char *const *new_keys;
	size_t n_keys;
} strata_diff_order;

/* 40 bytes: a big comparison keeps hundreds of thousands of them. */
typedef struct strata_diff_change {
	int op;                       /* strata_change_op */
	bool secret;                  /* a value of a Secret's data/stringData */
	const char *path;             /* "spec.template.spec.containers[name=main].image" */
	const strata_node *old_value; /* borrowed from the old side, or NULL */
	const strata_node *new_value; /* borrowed from the new side, or NULL */
	const strata_diff_order *order; /* ORDER of a keyed list, else NULL */
} strata_diff_change;

typedef struct strata_diff_entry {
	int status;                     /* strata_diff_status */
	const strata_resource *old_res; /* NULL when ADDED */
	const strata_resource *new_res; /* NULL when REMOVED */
	const strata_diff_change *changes; /* CHANGED: the reported changes */
	size_t n_changes;
	size_t n_ignored;               /* changes dropped by ignore rules */
} strata_diff_entry;

/* One side of a comparison (borrowed by strata_diff_compute). */
typedef struct strata_diff_input {
	const char *label;      /* how output names the side: "prod@published" */
	const char *env;        /* environment name, or NULL */
	const char *revision;   /* "worktree", a full commit id, or NULL */
	const strata_resource *const *res;
	size_t n;
	/* The environment's own namespace and name prefix/suffix (NULL or ""
	 * when unset): removed before pairing unless opts->exact. */
	const char *ns, *prefix, *suffix;
	/* Branch the side was read from ("refs/heads/env/prod"), or NULL. */
	const char *branch;
	/* The published branch does not exist (the side is empty). */
	bool missing;
	/*
	 * A side that does not hold its documents (strata_diff_side_spill):
	 * each resource's root is NULL, and load(load_ctx, r, a, &root, err)
	 * makes resource r's document in arena a, and text(load_ctx, r,
	 * out) appends it to out as strata_yaml_emit writes it (each 0 or a
	 * negative code).  NULL when every resource holds its root.
	 */
	int (*load)(void *load_ctx, const strata_resource *r, strata_arena *a,
		    strata_node **root, strata_error *err);
	int (*text)(void *load_ctx, const strata_resource *r, strata_buf *out);
	/*
	 * Optional, with load: *same true when r's document and other's (of
	 * a side with the same same()) are known to be equal without loading
	 * them (the same stored bytes); false tells nothing.  The call may use
	 * the two scratch buffers.  0 or a negative code.  Without it, two
	 * such documents are first compared by their text().
	 */
	int (*same)(void *load_ctx, const strata_resource *r, void *other_ctx,
		    const strata_resource *other, strata_buf scratch[2], bool *same);
	void *load_ctx;
} strata_diff_input;

typedef struct strata_diff_opts {
	bool exact;          /* pair by raw identity only */
	bool ignore_order;   /* do not report order-only changes */
	/* Ignore rules: "[KIND[/NAME]:]PATH", PATH segments separated by '.',
	 * "[...]" selectors, '*' matching within one segment (a lone '*' also
	 * matches any list selector).  A rule ignores the changes at or below
	 * the paths it matches.  Check them with strata_diff_ignore_check. */
	const char *const *ignore;
	size_t n_ignore;
	/* Compare the paired resources on up to jobs threads (0 or 1: the
	 * caller's alone); the result is the same.  With more than one, a
	 * side's load() and text() are called from several threads at once,
	 * on different resources. */
	unsigned jobs;
} strata_diff_opts;

typedef struct strata_diff {
	strata_arena *arena;
	strata_diff_input old_side, new_side; /* copies (strings in arena) */
	strata_diff_entry *entries;           /* in output order */
	size_t n;
	size_t added, removed, changed, unchanged;
	size_t ignored;                       /* ignored changes in all */
} strata_diff;

/*
 * Compare old -> new.  *out is the caller's (strata_diff_free).  Fails
 * with STRATA_ENOMEM, STRATA_EUSAGE (an invalid ignore rule), or what a
 * side's load() returns when a document kept out of memory cannot be read
 * back (STRATA_EIO; err says why).
 */
int strata_diff_compute(strata_diff **out, const strata_diff_input *old_side,
			const strata_diff_input *new_side,
			const strata_diff_opts *opts, strata_error *err);
void strata_diff_free(strata_diff *d);

/* True when d reports any (not ignored) difference. */
bool strata_diff_different(const strata_diff *d);

/* STRATA_EUSAGE with a message when rule is not a valid ignore rule. */
int strata_diff_ignore_check(const char *rule, strata_error *err);

/* Output formats */
typedef enum strata_diff_format {
	STRATA_DIFF_TEXT = 0,
	STRATA_DIFF_PATCH,
	STRATA_DIFF_JSON,
	STRATA_DIFF_MARKDOWN,
} strata_diff_format;

typedef struct strata_diff_fmt {
	int format;        /* strata_diff_format */
	bool color;        /* text only: ANSI colours */
	bool show_secrets; /* print Secret values instead of their sizes */
	int context;       /* patch and line diffs: context lines (< 0: 3) */
} strata_diff_fmt;

/*
 * Append the report of diffs[0..n) (one per environment compared) to out
 * in the chosen format.  Returns 0, STRATA_ENOMEM, or STRATA_EGIT when
 * the patch format's blob ids need libgit2 and it cannot be loaded
 * (strata_git_check() says why).
 */
int strata_diff_format_report(strata_buf *out, const strata_diff *const *diffs,
			      size_t n, const strata_diff_fmt *fmt);
/*
 * The report of several comparisons, part by part, so a caller can format
 * each comparison as soon as it is computed and free its sides before the
 * next.  strata_diff_parts_add(p, body, d) appends comparison d's part to
 * body (the caller may hand body's text on and empty it between calls),
 * for each of the n comparisons in order; strata_diff_parts_end gives what
 * goes before everything body received (head: json's and markdown's
 * summary of all comparisons) and after it (tail: text's summary lines,
 * json's end).  head, then the bodies, then tail are
 * strata_diff_format_report's bytes.  Markdown keeps only what fits its
 * size budget, so its parts stay small.  0 or STRATA_ENOMEM (STRATA_EGIT:
 * patch blob ids, as strata_diff_format_report).
 */
typedef struct strata_diff_parts strata_diff_parts;
strata_diff_parts *strata_diff_parts_new(size_t n, const strata_diff_fmt *fmt);
int strata_diff_parts_add(strata_diff_parts *p, strata_buf *body,
			  const strata_diff *d);
/*
 * strata_diff_parts_add, the part handed to write(ctx, text, len) in
 * pieces of about 64 KiB instead of appended to a buffer (a patch part
 * can be as big as an environment's render).  write returns 0 or a
 * negative code, which stops the part and is returned.
 */
int strata_diff_parts_emit(strata_diff_parts *p, const strata_diff *d,
			   int (*write)(void *ctx, const char *text, size_t len),
			   void *ctx);
int strata_diff_parts_end(strata_diff_parts *p, strata_buf *head, strata_buf *tail);
void strata_diff_parts_free(strata_diff_parts *p);

/*
 * The report strata_diff_format_report would append, handed to
 * write(ctx, text, len) in consecutive pieces of about 64 KiB, in order,
 * so it is never held whole.  write returns 0 or a negative code, which
 * stops the report and is returned.  Returns 0, STRATA_ENOMEM or
 * STRATA_EGIT as strata_diff_format_report; the patch format fails with
 * STRATA_EGIT before the first piece.  A report that fails part way has
 * handed on its first pieces.
 */
int strata_diff_format_emit(const strata_diff *const *diffs, size_t n,
			    const strata_diff_fmt *fmt,
			    int (*write)(void *ctx, const char *text, size_t len),
			    void *ctx);

/* Parse "text", "patch", "json", "markdown" (also "md"); -1 otherwise. */
int strata_diff_format_parse(const char *name);

/*
 * A linear-space Myers diff of two sequences of hashed lines/items.
 * Marks del[i] for items of a that are not in the common subsequence and
 * ins[j] for items of b.  eq(i, j, ctx) decides equality when hashes
 * match (may be NULL: hashes decide).  Returns 0 or STRATA_ENOMEM.
 */
int strata_diff_myers(const uint64_t *a, size_t na, const uint64_t *b,
		      size_t nb, bool (*eq)(size_t i, size_t j, void *ctx),
		      void *ctx, bool *del, bool *ins);

/* ---- sides ---- */

/* A loaded side: owns what its strata_diff_input points to. */
typedef struct strata_diff_side strata_diff_side;

/*
 * Render env from repo and describe it as a side called label (copied).
 * revision is "worktree" or the source's commit id (the source's
 * describe).  repo must outlive the side.  The input limits are the
 * repo's (the strata_limits given to strata_repo_open).
 */
int strata_diff_side_render(strata_diff_side **out, strata_repo *repo,
			    const char *env, const char *label,
			    strata_error *err);

/*
 * Read what is published for env: the tree of its branch (cfg's branch
 * template) in the git repository discovered from repo_dir, read through
 * libgit2 without a checkout: refs/heads/<branch>, or with remote
 * refs/remotes/<remote>/<branch>.  Every *.yaml / *.yml blob of the tree
 * is loaded (both the "files" and the "stream" layout).  A branch that does
 * not exist gives an empty side with missing set.  The env's namespace
 * and prefix/suffix for pairing come from cfg.
 */
int strata_diff_side_published(strata_diff_side **out, const char *repo_dir,
			       const strata_config *cfg, const char *env,
			       const char *remote, const char *label,
			       strata_error *err);

/*
 * strata_diff_side_published under the input limits lim (NULL: the
 * defaults, which is what strata_diff_side_published uses): every blob
 * counts against max_file, max_total and max_files, and is parsed under
 * the loader's limits (depth, scalar, alias nodes).  A blob over a limit
 * fails the side with STRATA_ELIMIT, the error naming "BRANCH:PATH" (with
 * line and column when the parser found it).
 */
int strata_diff_side_published_limits(strata_diff_side **out,
				      const char *repo_dir,
				      const strata_config *cfg, const char *env,
				      const char *remote, const char *label,
				      const strata_limits *lim,
				      strata_error *err);
/*
 * Keep a render side's documents packed and free the render, so the next
 * side can be loaded without this one's trees in memory (and the last
 * render of a repository can then edit the parsed base in place).  Each
 * resource's document is packed (src/lib/doc_pack.h: styles, tags and
 * flow style exact, no positions); the comparison copies it back when it
 * needs it (strata_diff_input.load: no parse), text() emits it as
 * `render` writes it, and same() compares two packed documents' bytes.
 * The first mem_max packed bytes stay in memory, and Secrets' always; the
 * rest goes to an unlinked file in tmpdir (NULL: all in memory).  A side that is no
 * render, or is already spilled, is left as it is, and so is one whose
 * apiVersions the json report could not give exactly (rare).  0,
 * STRATA_ENOMEM, or STRATA_EIO (the file could not be made or written;
 * err says why); on error the side is unchanged.
 */
int strata_diff_side_spill(strata_diff_side *s, const char *tmpdir,
			   size_t mem_max, strata_error *err);
/* True when s was spilled (strata_diff_side_spill). */
bool strata_diff_side_spilled(const strata_diff_side *s);
/*
 * strata_diff_side_published_limits; with as_text, each file's resources
 * are kept packed as soon as it is parsed, as strata_diff_side_spill
 * keeps a render's (mem_max bytes and Secrets in memory, the rest in an
 * unlinked file in tmpdir), so the published trees are never all in
 * memory.  A file with a document whose apiVersion its identity would not
 * give back exactly keeps its trees.  The temporary file failing is
 * STRATA_EIO.
 */
int strata_diff_side_published_text(strata_diff_side **out,
				    const char *repo_dir,
				    const strata_config *cfg, const char *env,
				    const char *remote, const char *label,
				    const strata_limits *lim, const char *tmpdir,
				    size_t mem_max, bool as_text,
				    strata_error *err);
const strata_diff_input *strata_diff_side_input(const strata_diff_side *s);
void strata_diff_side_free(strata_diff_side *s);

#ifdef __cplusplus
}
#endif
#endif
