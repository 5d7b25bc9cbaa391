/*
 * cmd_diff.c - `strata diff`: what changes between two sides.
 *
 * A side is ENV (the work tree's render), ENV@REV (the render of a git
 * revision, read without a checkout) or ENV@published[:REMOTE] (the tree of
 * the environment branch).  Every revision is opened once: sides that
 * resolve to the same commit share one strata_repo, so its base is parsed
 * once for all of them; renders share it copy-on-write, and the last render
 * of each edits it in place when no other is alive (plan_renders counts
 * them first).  Two sides
 * that are the same environment of the same commit are one render.  Every
 * side is read under the same input limits (cli_limits: the global --limit
 * and diff's own).  Everything is computed before the report is written;
 * the exit code follows diff(1).  One comparison's report is written from
 * its models in pieces, never held whole.  Several comparisons are
 * formatted one by one as they are computed (strata_diff_parts) and their
 * sides freed; the report waits as text (in a temporary file beyond 8
 * MiB), and the json and markdown summaries of all comparisons go first.
 */
#include "cli.h"

#include "strata/diff.h"
#include "strata/git.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void diff_usage(FILE *f)
{
	fprintf(f,
		"usage: strata diff [options] ENV              (ENV@published -> ENV)\n"
		"       strata diff [options] OLD NEW\n"
		"       strata diff [options] --all [--rev BASE[..HEAD]]\n"
		"       strata diff [options] --rev BASE[..HEAD] ENV...\n\n"
		"Compare rendered environments resource by resource.  A side is\n"
		"  ENV                     the working tree's render of ENV\n"
		"  ENV@REV                 the render of git revision REV (no checkout)\n"
		"  ENV@published[:REMOTE]  what is on ENV's branch (or REMOTE's copy)\n\n"
		"  -a, --all               every environment (published -> working tree,\n"
		"                          or BASE -> working tree / HEAD with --rev)\n"
		"  -r, --rev BASE[..HEAD]  compare revisions: BASE -> working tree, or\n"
		"                          BASE -> HEAD\n"
		"      --exact             pair resources by raw identity only (by default\n"
		"                          each side's namespace and name prefix/suffix are\n"
		"                          removed first, so dev-web pairs with prod-web)\n"
		"      --ignore-order      do not report lists that only changed order\n"
		"  -i, --ignore RULE       ignore changes at [KIND[/NAME]:]PATH, e.g.\n"
		"                          'spec.replicas', 'metadata.labels.*' (repeatable;\n"
		"                          adds to [diff] ignore in strata.ini)\n"
		"      --show-secrets      print Secret data (default: keys and sizes only)\n"
		"  -f, --format FORMAT     text (default), patch, json or markdown\n"
		"      --color[=WHEN]      auto (default: on a terminal, unless NO_COLOR\n"
		"                          is set), always or never\n"
		"  -U, --unified N         context lines in patches and line diffs (3)\n"
		"  -L, --limit NAME=VALUE  raise or lower an input limit of every side:\n"
		"                          alias-nodes, depth, scalar, file, total, files\n"
		"                          (K/M/G suffixes; repeatable)\n"
		"  -j, --jobs N            threads that parse files (default: the number\n"
		"                          of CPUs, at most 8; the report never depends on it)\n"
		"  -q, --quiet             print nothing; only the exit status\n"
		"  -C, --repo DIR          the config repository (default: current directory)\n"
		"  -h, --help              show this help\n\n"
		"Exit status: 0 no differences, 1 differences, 2 and up trouble.\n");
}

/* One opened revision ("worktree" or a commit id). */
typedef struct opened {
	char *key;
	strata_repo *repo;
	size_t renders_left; /* renders still to come (plan_renders) */
} opened;

typedef struct dctx {
	const char *dir;     /* config repository directory */
	opened *repos;
	size_t n_repos;
	strata_error *err;
	/* the comparisons, and which one is being made (spill_new) */
	const struct sidespec *olds, *news;
	size_t n_cmp, cur;
	bool planned;        /* plan_renders counted every render */
	bool warned;         /* tmp_unusable said so */
} dctx;

static void dctx_free(dctx *c)
{
	for (size_t i = 0; i < c->n_repos; i++) {
		free(c->repos[i].key);
		strata_repo_free(c->repos[i].repo);
	}
	free(c->repos);
}

static int remember(dctx *c, const char *key, strata_repo *repo)
{
	opened *a = realloc(c->repos, (c->n_repos + 1) * sizeof(*a));

	if (!a)
		goto oom;
	c->repos = a;
	a[c->n_repos].key = strdup(key);
	if (!a[c->n_repos].key)
		goto oom;
	a[c->n_repos].renders_left = 0;
	a[c->n_repos++].repo = repo;
	return 0;
oom:
	strata_repo_free(repo);
	return strata_error_set(c->err, STRATA_ENOMEM, NULL, 0, 0, "out of memory");
}

/* The repo of rev (NULL: the working tree), opened at most once per commit. */
static int get_repo(dctx *c, const char *rev, strata_repo **out)
{
	strata_source *src = NULL;
	strata_repo *repo;
	const char *key;
	int rc;

	if (!rev) {
		for (size_t i = 0; i < c->n_repos; i++)
			if (!strcmp(c->repos[i].key, "worktree")) {
				*out = c->repos[i].repo;
				return 0;
			}
		rc = cli_open_repo(&repo, c->dir, c->err);
		if (rc < 0)
			return rc;
		rc = remember(c, "worktree", repo);
		*out = repo;
		return rc;
	}
	rc = strata_source_git_open(&src, c->dir, rev, c->err);
	if (rc < 0)
		return rc;
	key = src->describe;
	for (size_t i = 0; i < c->n_repos; i++)
		if (!strcmp(c->repos[i].key, key)) {
			strata_source_free(src);
			*out = c->repos[i].repo;
			return 0;
		}
	{
		char k[sizeof(src->describe)];
		memcpy(k, src->describe, sizeof(k));
		rc = strata_repo_open(&repo, src, &cli_limits, c->err);
		if (rc < 0)
			return rc;
		rc = remember(c, k, repo);
	}
	*out = repo;
	return rc;
}

/* A parsed side: ENV, ENV@REV, ENV@published[:REMOTE]. */
typedef struct sidespec {
	char *env;
	char *rev;         /* NULL: working tree */
	bool published;
	char *remote;      /* published only; NULL: local branch */
	char *label;
} sidespec;

static void spec_free(sidespec *s)
{
	free(s->env);
	free(s->rev);
	free(s->remote);
	free(s->label);
}

static int spec_parse(sidespec *s, const char *text)
{
	const char *at = strchr(text, '@');

	memset(s, 0, sizeof(*s));
	s->label = strdup(text);
	s->env = at ? strndup(text, (size_t)(at - text)) : strdup(text);
	if (!s->label || !s->env)
		return STRATA_ENOMEM;
	if (!s->env[0] || (at && !at[1]))
		return STRATA_EUSAGE;
	if (at) {
		const char *r = at + 1;
		if (!strcmp(r, "published")) {
			s->published = true;
		} else if (!strncmp(r, "published:", 10)) {
			s->published = true;
			if (!r[10])
				return STRATA_EUSAGE;
			s->remote = strdup(r + 10);
			if (!s->remote)
				return STRATA_ENOMEM;
		} else {
			s->rev = strdup(r);
			if (!s->rev)
				return STRATA_ENOMEM;
		}
	}
	return 0;
}

static int spec_make(sidespec *s, const char *env, const char *rev,
		     bool published)
{
	memset(s, 0, sizeof(*s));
	s->env = strdup(env);
	s->published = published;
	if (rev)
		s->rev = strdup(rev);
	if (published)
		s->label = malloc(strlen(env) + 11);
	else
		s->label = malloc(strlen(env) + (rev ? strlen(rev) + 2 : 1));
	if (!s->env || (rev && !s->rev) || !s->label)
		return STRATA_ENOMEM;
	if (published)
		sprintf(s->label, "%s@published", env);
	else if (rev)
		sprintf(s->label, "%s@%s", env, rev);
	else
		strcpy(s->label, env);
	return 0;
}

/*
 * Whether the comparisons read git: a side at a revision or published, or
 * the patch format (its blob ids) when the report is written.
 */
static bool needs_git(const sidespec *olds, const sidespec *news, size_t n,
		      const strata_diff_fmt *fmt, bool quiet)
{
	if (fmt->format == STRATA_DIFF_PATCH && !quiet)
		return true;
	for (size_t i = 0; i < n; i++)
		if (olds[i].rev || olds[i].published || news[i].rev ||
		    news[i].published)
			return true;
	return false;
}

/* One comparison and what it holds on to. */
typedef struct comparison {
	strata_diff_side *old_side, *new_side; /* may be one side (same_side) */
	/* inputs of sides with no strata_diff_side of their own: an env not
	 * defined there, or (old_empty) the new side's render shared */
	strata_diff_input old_empty, new_empty;
	strata_diff *diff;
} comparison;

static void comparison_free(comparison *cmp)
{
	strata_diff_free(cmp->diff);
	if (cmp->old_side != cmp->new_side)
		strata_diff_side_free(cmp->old_side);
	strata_diff_side_free(cmp->new_side);
	memset(cmp, 0, sizeof(*cmp));
}

static opened *find_opened(dctx *c, const strata_repo *repo)
{
	for (size_t i = 0; i < c->n_repos; i++)
		if (c->repos[i].repo == repo)
			return &c->repos[i];
	return NULL;
}

/*
 * The repository a render side renders from, or NULL (*out) when the side
 * is no render: published, or (allow_absent) an env its revision does not
 * define.
 */
static int render_repo(dctx *c, const sidespec *s, bool allow_absent,
		       strata_repo **out)
{
	strata_repo *repo;
	int rc;

	*out = NULL;
	if (s->published)
		return 0;
	rc = get_repo(c, s->rev, &repo);
	if (rc < 0)
		return rc;
	if (!allow_absent || strata_config_find(strata_repo_config(repo), s->env))
		*out = repo;
	return 0;
}

/* Both sides render the same environment from the same commit: one render
 * serves both (*same), so it is rendered and held once. */
static int same_side(dctx *c, const sidespec *o, const sidespec *n,
		     bool allow_absent, bool *same)
{
	strata_repo *ro, *rn;
	int rc;

	*same = false;
	if ((rc = render_repo(c, o, allow_absent, &ro)) < 0 ||
	    (rc = render_repo(c, n, allow_absent, &rn)) < 0)
		return rc;
	*same = ro && ro == rn && !strcmp(o->env, n->env);
	return 0;
}

/*
 * Open every revision a comparison renders from and count its renders, so
 * that each repository's last render can edit the parsed base in place
 * instead of copying what it edits (strata_repo_last_render; it does when
 * no other render of the repository is alive): `diff ENV` and `--all`
 * render from the working tree alone, `--rev` from two commits.
 */
static int plan_renders(dctx *c, const sidespec *olds, const sidespec *news,
			size_t n, bool allow_absent)
{
	for (size_t i = 0; i < n; i++) {
		strata_repo *ro, *rn;
		bool same;
		int rc;

		if ((rc = render_repo(c, &news[i], allow_absent, &rn)) < 0 ||
		    (rc = render_repo(c, &olds[i], allow_absent, &ro)) < 0 ||
		    (rc = same_side(c, &olds[i], &news[i], allow_absent, &same)) < 0)
			return rc;
		if (rn)
			find_opened(c, rn)->renders_left++;
		if (ro && !same)
			find_opened(c, ro)->renders_left++;
	}
	return 0;
}

/* A side kept packed keeps this much of it in memory, the rest in a
 * temporary file (strata_diff_side_spill). */
#define SIDE_MEM (1024 * 1024)

/*
 * A side could not be kept packed (its temporary file, STRATA_EIO): the
 * diff goes on with the side in memory, as before sides were kept out of
 * memory, and says so once.
 */
static void tmp_unusable(dctx *c)
{
	if (!c->warned)
		fprintf(stderr, "strata diff: warning: %s; keeping the sides in memory\n",
			c->err->msg);
	c->warned = true;
	strata_error_clear(c->err);
}

/*
 * Load a side.  A render side of an env its revision does not define is
 * empty (when allow_absent), so --all shows environments that come and go.
 * The last render of a repository (plan_renders) may edit the parsed base
 * in place (strata_repo_last_render); while a side rendered earlier is
 * alive it shares the base copy-on-write instead, as every other render.
 * A published side is read file by file and kept packed, never whole as
 * trees.
 */
static int load_side(dctx *c, const sidespec *s, const sidespec *other,
		     bool allow_absent, strata_diff_side **out,
		     strata_diff_input *empty, const strata_config **cfg_out)
{
	strata_repo *repo;
	opened *op;
	int rc;

	*out = NULL;
	if (s->published) {
		/* the config that names the branch: the other side's revision
		 * when it is a render, else the working tree's */
		rc = get_repo(c, other && !other->published ? other->rev : NULL, &repo);
		if (rc < 0)
			return rc;
		*cfg_out = strata_repo_config(repo);
		/* read file by file, kept packed: its trees are never all in memory */
		rc = strata_diff_side_published_text(out, c->dir, strata_repo_config(repo),
						     s->env, s->remote, s->label,
						     &cli_limits, cli_tmp_dir(), SIDE_MEM,
						     true, c->err);
		if (rc != STRATA_EIO)
			return rc;
		tmp_unusable(c);
		return strata_diff_side_published_limits(out, c->dir, strata_repo_config(repo),
							 s->env, s->remote, s->label,
							 &cli_limits, c->err);
	}
	rc = get_repo(c, s->rev, &repo);
	if (rc < 0)
		return rc;
	*cfg_out = strata_repo_config(repo);
	if (allow_absent && !strata_config_find(strata_repo_config(repo), s->env)) {
		memset(empty, 0, sizeof(*empty));
		empty->label = s->label;
		empty->env = s->env;
		empty->revision = s->rev ? strata_repo_source(repo)->describe : "worktree";
		empty->missing = true;
		return 0;
	}
	op = find_opened(c, repo);
	if (op->renders_left && --op->renders_left == 0)
		strata_repo_last_render(repo);
	return strata_diff_side_render(out, repo, s->env, s->label, c->err);
}

/*
 * Forget the overlay layers of repo that no render to come uses: this
 * comparison's old side and the later comparisons' sides (`diff --all`
 * renders every environment, and each one's patches would stay parsed).
 */
static int keep_layers(dctx *c, strata_repo *repo, bool allow_absent)
{
	const char **envs = calloc(2 * c->n_cmp + 1, sizeof(*envs));
	size_t n = 0;
	int rc = 0;

	if (!envs)
		return strata_error_set(c->err, STRATA_ENOMEM, NULL, 0, 0, "out of memory");
	for (size_t k = c->cur; k < c->n_cmp && rc == 0; k++) {
		const sidespec *specs[2] = { &c->olds[k], &c->news[k] };
		size_t m = k == c->cur ? 1 : 2; /* this one's new side is loaded */
		for (size_t j = 0; j < m && rc == 0; j++) {
			strata_repo *r;
			if ((rc = render_repo(c, specs[j], allow_absent, &r)) == 0 && r == repo)
				envs[n++] = specs[j]->env;
		}
	}
	if (rc == 0)
		rc = strata_repo_trim(repo, envs, n, c->err);
	free(envs);
	return rc;
}

/*
 * Before the old side is loaded, the new side's render is packed
 * (strata_diff_side_spill), so the two sides' trees are never in memory
 * at once: the old side's render, if it is its repository's last, then
 * edits the parsed base in place, and a repository none of whose renders
 * are to come lets its parsed base go.
 */
static int spill_new(dctx *c, comparison *cmp, const sidespec *o,
		     const sidespec *n, bool allow_absent)
{
	strata_repo *ro, *rn;
	opened *op;
	int rc;

	if ((rc = render_repo(c, o, allow_absent, &ro)) < 0)
		return rc;
	if (!o->published && !ro)
		return 0; /* the old side is empty */
	rc = strata_diff_side_spill(cmp->new_side, cli_tmp_dir(), SIDE_MEM, c->err);
	if (rc == STRATA_EIO) {
		tmp_unusable(c); /* the side is still its render */
		return 0;
	}
	if (rc < 0)
		return rc;
	if ((rc = render_repo(c, n, allow_absent, &rn)) < 0)
		return rc;
	op = rn ? find_opened(c, rn) : NULL;
	if (!op || !c->planned)
		return 0;
	if (!op->renders_left) {
		strata_repo_release(rn);
		return 0;
	}
	return keep_layers(c, rn, allow_absent);
}

static int compare(dctx *c, comparison *cmp, const sidespec *o, const sidespec *n,
		   bool allow_absent, const char *const *cli_ignore,
		   size_t n_cli_ignore, const strata_diff_opts *base_opts)
{
	const strata_config *ocfg = NULL, *ncfg = NULL, *cfg;
	const char **rules = NULL;
	strata_diff_opts opts = *base_opts;
	bool same;
	int rc;

	rc = load_side(c, n, o, allow_absent, &cmp->new_side, &cmp->new_empty, &ncfg);
	if (rc < 0)
		return rc;
	if ((rc = same_side(c, o, n, allow_absent, &same)) < 0)
		return rc;
	if (same) {
		/* one render, under the old side's own label */
		cmp->old_side = cmp->new_side;
		cmp->old_empty = *strata_diff_side_input(cmp->new_side);
		cmp->old_empty.label = o->label;
		ocfg = ncfg;
	} else {
		if (cmp->new_side && (rc = spill_new(c, cmp, o, n, allow_absent)) < 0)
			return rc;
		rc = load_side(c, o, n, allow_absent, &cmp->old_side, &cmp->old_empty, &ocfg);
		if (rc < 0)
			return rc;
	}
	/* [diff] ignore of the revision under review (the new side) */
	cfg = ncfg ? ncfg : ocfg;
	rules = calloc(n_cli_ignore + (cfg ? cfg->n_diff_ignore : 0) + 1, sizeof(*rules));
	if (!rules)
		return strata_error_set(c->err, STRATA_ENOMEM, NULL, 0, 0, "out of memory");
	opts.n_ignore = 0;
	for (size_t i = 0; cfg && i < cfg->n_diff_ignore; i++) {
		strata_error e;
		strata_error_clear(&e);
		if (strata_diff_ignore_check(cfg->diff_ignore[i], &e) < 0) {
			free(rules);
			return strata_error_set(c->err, STRATA_ECONFIG, STRATA_CONFIG_FILE, 0, 0,
						"[diff] ignore: %s", e.msg);
		}
		rules[opts.n_ignore++] = cfg->diff_ignore[i];
	}
	for (size_t i = 0; i < n_cli_ignore; i++)
		rules[opts.n_ignore++] = cli_ignore[i];
	opts.ignore = rules;
	rc = strata_diff_compute(&cmp->diff,
				 cmp->old_side && !same ? strata_diff_side_input(cmp->old_side)
							: &cmp->old_empty,
				 cmp->new_side ? strata_diff_side_input(cmp->new_side) : &cmp->new_empty,
				 &opts, c->err);
	free(rules);
	return rc;
}

/* The report is handed to stdout in pieces of this size. */
#define REPORT_PIECE (64 * 1024)
/* Formatted comparisons waiting for the report beyond this go to a file. */
#define REPORT_SPILL (8 * 1024 * 1024)

/*
 * Move what the report holds to *spill (made on first use): a patch
 * report of many environments can be hundreds of MB, and it is written
 * only once every comparison succeeded.
 */
static int spill_report(FILE **spill, strata_buf *report)
{
	if (!*spill && !(*spill = cli_spill_open("strata-diff")))
		return STRATA_EIO;
	if (fwrite(report->ptr, 1, report->len, *spill) != report->len)
		return STRATA_EIO;
	report->len = 0;
	return 0;
}

/* Where the report's parts wait: in memory, then in a file (spill_report). */
typedef struct held {
	strata_buf *report;
	FILE **spill;
} held;

/* strata_diff_parts_emit's write(): a piece of a part, held. */
static int hold_piece(void *ctx, const char *text, size_t len)
{
	held *h = ctx;

	if (strata_buf_put(h->report, text, len) < 0)
		return STRATA_ENOMEM;
	return h->report->len >= REPORT_SPILL ? spill_report(h->spill, h->report) : 0;
}

static int stdout_write(void *ctx, const char *text, size_t len);

/* Hand b's text to stdout in pieces. */
static int write_pieces(const strata_buf *b, int *wret)
{
	int rc = 0;

	for (size_t off = 0; rc == 0 && off < b->len;) {
		size_t len = b->len - off < REPORT_PIECE ? b->len - off : REPORT_PIECE;

		rc = stdout_write(wret, b->ptr + off, len);
		off += len;
	}
	return rc;
}

/* Hand the spilled part of the report to stdout. */
static int unspill_report(FILE *spill, int *wret)
{
	char buf[REPORT_PIECE];
	size_t got;
	int rc = 0;

	if (fflush(spill) != 0 || fseek(spill, 0, SEEK_SET) != 0)
		return STRATA_EIO;
	while (rc == 0 && (got = fread(buf, 1, sizeof(buf), spill)) > 0)
		rc = stdout_write(wret, buf, got);
	if (rc == 0 && ferror(spill))
		rc = STRATA_EIO;
	return rc;
}

/* strata_diff_format_emit's write(): the report's pieces, in order. */
static int stdout_write(void *ctx, const char *text, size_t len)
{
	int *ret = ctx;

	if (len && fwrite(text, 1, len, stdout) != len) {
		*ret = EXIT_IO;
		return STRATA_ERROR;
	}
	return 0;
}

static bool want_color(const char *when, int *bad)
{
	const char *nc;

	*bad = 0;
	if (!when || !strcmp(when, "auto")) {
		nc = getenv("NO_COLOR");
		return isatty(STDOUT_FILENO) && !(nc && nc[0]);
	}
	if (!strcmp(when, "always"))
		return true;
	if (!strcmp(when, "never"))
		return false;
	*bad = 1;
	return false;
}

int cmd_diff(int argc, char **argv)
{
	enum { OPT_EXACT = 256, OPT_IGNORE_ORDER, OPT_SHOW_SECRETS, OPT_COLOR, OPT_NO_COLOR };
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "rev", required_argument, NULL, 'r' },
		{ "exact", no_argument, NULL, OPT_EXACT },
		{ "ignore-order", no_argument, NULL, OPT_IGNORE_ORDER },
		{ "ignore", required_argument, NULL, 'i' },
		{ "show-secrets", no_argument, NULL, OPT_SHOW_SECRETS },
		{ "format", required_argument, NULL, 'f' },
		{ "color", optional_argument, NULL, OPT_COLOR },
		{ "colour", optional_argument, NULL, OPT_COLOR },
		{ "no-color", no_argument, NULL, OPT_NO_COLOR },
		{ "unified", required_argument, NULL, 'U' },
		{ "limit", required_argument, NULL, 'L' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "repo", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	strata_error err;
	dctx c = { 0 };
	strata_diff_opts dopts = { 0 };
	strata_diff_fmt fmt = { STRATA_DIFF_TEXT, false, false, -1 };
	const char **ignores = NULL;
	size_t n_ignores = 0;
	const char *rev = NULL, *color = NULL, *repodir = NULL;
	char *rev_old = NULL, *rev_new = NULL;
	bool all = false, quiet = false;
	strata_buf report = STRATA_BUF_INIT, head = STRATA_BUF_INIT, tail = STRATA_BUF_INIT;
	strata_diff_parts *parts = NULL;
	FILE *spill = NULL;
	sidespec *olds = NULL, *news = NULL;
	comparison *cmps = NULL;
	const strata_diff **diffs = NULL;
	size_t n_cmp = 0;
	int ch, rc, ret = EXIT_OK, wret = EXIT_OK, bad;

	strata_error_clear(&err);
	c.err = &err;
	ignores = calloc((size_t)argc + 1, sizeof(*ignores));
	if (!ignores)
		return EXIT_INTERNAL;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "ar:i:f:U:L:j:qC:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'a': all = true; break;
		case 'r': rev = optarg; break;
		case OPT_EXACT: dopts.exact = true; break;
		case OPT_IGNORE_ORDER: dopts.ignore_order = true; break;
		case 'i':
			if (strata_diff_ignore_check(optarg, &err) < 0) {
				ret = cli_usage_error("diff", "%s", err.msg);
				goto done;
			}
			ignores[n_ignores++] = optarg;
			break;
		case OPT_SHOW_SECRETS: fmt.show_secrets = true; break;
		case 'f':
			fmt.format = strata_diff_format_parse(optarg);
			if (fmt.format < 0) {
				ret = cli_usage_error("diff", "unknown format '%s' (text, patch, json, markdown)", optarg);
				goto done;
			}
			break;
		case OPT_COLOR: color = optarg ? optarg : "always"; break;
		case OPT_NO_COLOR: color = "never"; break;
		case 'U': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 0 || v > 100000) {
				ret = cli_usage_error("diff", "invalid context '%s'", optarg);
				goto done;
			}
			fmt.context = (int)v;
			break;
		}
		case 'L':
			if (cli_parse_limit("diff", optarg) != 0) {
				ret = EXIT_USAGE;
				goto done;
			}
			break;
		case 'j':
			if (cli_parse_jobs("diff", optarg) != 0) {
				ret = EXIT_USAGE;
				goto done;
			}
			break;
		case 'q': quiet = true; break;
		case 'C': repodir = optarg; break;
		case 'h': diff_usage(stdout); ret = EXIT_OK; goto done;
		default: diff_usage(stderr); ret = EXIT_USAGE; goto done;
		}
	}
	/* the sides' load() and text() read with pread(2): any thread may */
	dopts.jobs = cli_limits.jobs;
	fmt.color = want_color(color, &bad);
	if (bad) {
		ret = cli_usage_error("diff", "invalid --color '%s' (auto, always, never)", color);
		goto done;
	}
	if (fmt.format == STRATA_DIFF_JSON || fmt.format == STRATA_DIFF_MARKDOWN)
		fmt.color = false;
	c.dir = repodir ? repodir : cli_global_repo ? cli_global_repo : ".";
	if (rev) {
		const char *dots = strstr(rev, "..");
		if (dots) {
			rev_old = strndup(rev, (size_t)(dots - rev));
			rev_new = dots[2] ? strdup(dots + 2) : strdup("HEAD");
			if (!rev_old || !rev_new) {
				ret = EXIT_INTERNAL;
				goto done;
			}
			if (!rev_old[0]) {
				ret = cli_usage_error("diff", "--rev needs a base revision ('%s')", rev);
				goto done;
			}
		} else {
			rev_old = strdup(rev);
			if (!rev_old) {
				ret = EXIT_INTERNAL;
				goto done;
			}
		}
	}

	/* the comparisons to make */
	if (all || rev) {
		const char **envs = NULL;
		size_t n_envs = 0;
		/* each side at a revision or published */
		if ((ret = cli_git_needed()) != EXIT_OK)
			goto done;
		if (all && optind < argc) {
			ret = cli_usage_error("diff", "give environments or --all, not both");
			goto done;
		}
		if (!all && optind >= argc) {
			diff_usage(stderr);
			ret = cli_usage_error("diff", "no environment given");
			goto done;
		}
		if (all) {
			/* envs of the new side, then envs only the old side has */
			strata_repo *nr = NULL, *orr = NULL;
			const strata_config *ncfg, *ocfg = NULL;
			if ((rc = get_repo(&c, rev_new, &nr)) < 0 ||
			    (rev_old && (rc = get_repo(&c, rev_old, &orr)) < 0)) {
				ret = cli_report(&err, rc);
				goto done;
			}
			ncfg = strata_repo_config(nr);
			if (orr)
				ocfg = strata_repo_config(orr);
			envs = calloc(ncfg->n_envs + (ocfg ? ocfg->n_envs : 0) + 1, sizeof(*envs));
			if (!envs) {
				ret = EXIT_INTERNAL;
				goto done;
			}
			for (size_t i = 0; i < ncfg->n_envs; i++)
				envs[n_envs++] = ncfg->envs[i].name;
			for (size_t i = 0; ocfg && i < ocfg->n_envs; i++)
				if (!strata_config_find(ncfg, ocfg->envs[i].name))
					envs[n_envs++] = ocfg->envs[i].name;
			if (!n_envs) {
				free(envs);
				ret = cli_usage_error("diff", "strata.ini defines no environment");
				goto done;
			}
		} else {
			envs = calloc((size_t)(argc - optind) + 1, sizeof(*envs));
			if (!envs) {
				ret = EXIT_INTERNAL;
				goto done;
			}
			for (int i = optind; i < argc; i++) {
				if (strchr(argv[i], '@')) {
					free(envs);
					ret = cli_usage_error("diff", "with --rev give environment names, not '%s'", argv[i]);
					goto done;
				}
				envs[n_envs++] = argv[i];
			}
		}
		olds = calloc(n_envs, sizeof(*olds));
		news = calloc(n_envs, sizeof(*news));
		if (!olds || !news) {
			free(envs);
			ret = EXIT_INTERNAL;
			goto done;
		}
		for (size_t i = 0; i < n_envs; i++) {
			n_cmp++;
			if (spec_make(&olds[i], envs[i], rev_old, !rev_old) < 0 ||
			    spec_make(&news[i], envs[i], rev_new, false) < 0) {
				free(envs);
				ret = EXIT_INTERNAL;
				goto done;
			}
		}
		free(envs);
	} else {
		int nargs = argc - optind;
		if (nargs < 1 || nargs > 2) {
			diff_usage(stderr);
			ret = cli_usage_error("diff", nargs < 1 ? "no environment given"
						    : "too many arguments (give OLD and NEW)");
			goto done;
		}
		olds = calloc(1, sizeof(*olds));
		news = calloc(1, sizeof(*news));
		if (!olds || !news) {
			ret = EXIT_INTERNAL;
			goto done;
		}
		n_cmp = 1;
		if (nargs == 2) {
			rc = spec_parse(&olds[0], argv[optind]);
			if (rc == 0)
				rc = spec_parse(&news[0], argv[optind + 1]);
		} else {
			/* ENV: published -> ENV; ENV@X: ENV@X -> ENV */
			rc = spec_parse(&news[0], argv[optind]);
			if (rc == 0 && (news[0].rev || news[0].published)) {
				olds[0] = news[0];
				rc = spec_make(&news[0], olds[0].env, NULL, false);
			} else if (rc == 0) {
				rc = spec_make(&olds[0], news[0].env, NULL, true);
			}
		}
		if (rc == STRATA_EUSAGE) {
			ret = cli_usage_error("diff", "invalid side (expected ENV, ENV@REV or ENV@published[:REMOTE])");
			goto done;
		} else if (rc < 0) {
			ret = EXIT_INTERNAL;
			goto done;
		}
	}

	/* a revision, what is published, the patch format's blob ids */
	if (needs_git(olds, news, n_cmp, &fmt, quiet) &&
	    (ret = cli_git_needed()) != EXIT_OK)
		goto done;
	cmps = calloc(n_cmp, sizeof(*cmps));
	diffs = calloc(n_cmp, sizeof(*diffs));
	if (!cmps || !diffs) {
		ret = EXIT_INTERNAL;
		goto done;
	}
	c.olds = olds;
	c.news = news;
	c.n_cmp = n_cmp;
	rc = plan_renders(&c, olds, news, n_cmp, all);
	c.planned = rc == 0;
	if (rc < 0) {
		/*
		 * Not reported here: the comparisons meet it again, in their
		 * own order (the new side first), so a broken new side is
		 * still the error a bad old revision does not hide.  With no
		 * plan no render takes the base over: a count cut short could
		 * mark one as last too early.
		 */
		for (size_t i = 0; i < c.n_repos; i++)
			c.repos[i].renders_left = 0;
		strata_error_clear(&err);
	}
	/*
	 * Several comparisons: each is formatted as soon as it is computed
	 * and its sides freed (at N = 10,000 a side is 50 to 100 MB, the
	 * report's text a few MB); the report is still written only once
	 * every comparison succeeded.
	 */
	if (!quiet && n_cmp > 1 && !(parts = strata_diff_parts_new(n_cmp, &fmt))) {
		ret = EXIT_INTERNAL;
		goto done;
	}
	rc = 0;
	for (size_t i = 0; i < n_cmp && rc == 0; i++) {
		c.cur = i;
		rc = compare(&c, &cmps[i], &olds[i], &news[i], all, ignores,
			     n_ignores, &dopts);
		if (rc < 0) {
			ret = cli_report(&err, rc);
			goto done;
		}
		diffs[i] = cmps[i].diff;
		if (strata_diff_different(cmps[i].diff))
			ret = EXIT_DIFFERENT;
		if (parts) {
			held h = { &report, &spill };

			rc = strata_diff_parts_emit(parts, diffs[i], hold_piece, &h);
		}
		/* formatted, or never to be: its sides (and their files) go */
		if (parts || quiet) {
			comparison_free(&cmps[i]);
			diffs[i] = NULL;
		}
	}
	if (!quiet) {
		if (!parts)
			rc = strata_diff_format_emit(diffs, n_cmp, &fmt, stdout_write, &wret);
		else if (rc == 0)
			rc = strata_diff_parts_end(parts, &head, &tail);
		if (parts && rc == 0)
			rc = write_pieces(&head, &wret);
		if (parts && rc == 0 && spill)
			rc = unspill_report(spill, &wret);
		if (parts && rc == 0)
			rc = write_pieces(&report, &wret);
		if (parts && rc == 0)
			rc = write_pieces(&tail, &wret);
		if (rc < 0 && wret != EXIT_OK) {
			fprintf(stderr, "strata diff: cannot write to stdout\n");
			ret = EXIT_IO;
			goto done;
		}
		if (rc == STRATA_EGIT) { /* the patch format's blob ids */
			strata_error why;

			strata_error_clear(&why);
			strata_git_check(&why);
			fprintf(stderr, "strata diff: --format patch: %s\n",
				why.code ? why.msg : "libgit2 failed");
			ret = EXIT_GIT;
			goto done;
		}
		if (rc == STRATA_EIO) {
			/* the report's file, or a side's kept packed */
			fprintf(stderr, "strata diff: cannot write or read back a temporary file in '%s'\n",
				cli_tmp_dir());
			ret = EXIT_IO;
			goto done;
		}
		if (rc < 0) {
			fprintf(stderr, "strata diff: cannot format the report%s\n",
				rc == STRATA_ENOMEM ? ": out of memory" : "");
			ret = EXIT_INTERNAL;
			goto done;
		}
		if (cli_write_stdout(NULL, 0) != EXIT_OK) {
			fprintf(stderr, "strata diff: cannot write to stdout\n");
			ret = EXIT_IO;
		}
	}
done:
	for (size_t i = 0; cmps && i < n_cmp; i++)
		comparison_free(&cmps[i]);
	strata_buf_free(&report);
	strata_buf_free(&head);
	strata_buf_free(&tail);
	strata_diff_parts_free(parts);
	if (spill)
		fclose(spill);
	for (size_t i = 0; i < n_cmp; i++) {
		if (olds)
			spec_free(&olds[i]);
		if (news)
			spec_free(&news[i]);
	}
	free(cmps);
	free(diffs);
	free(olds);
	free(news);
	free(rev_old);
	free(rev_new);
	free(ignores);
	dctx_free(&c);
	return ret;
}
