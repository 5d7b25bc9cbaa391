/*
 * diff_format.c - the four ways a diff is written out.
 *
 *   text      for people at a terminal: one line per field change,
 *             "path: old → new", line diffs for multi-line strings,
 *             optional ANSI colour (the caller decides: tty, NO_COLOR)
 *   patch     a unified diff of the per-resource files (the paths of
 *             `render --out` and publish), as `git diff` shows the
 *             environment branch change
 *   json      a stable schema for programs (docs/diff.md)
 *   markdown  for a pull-request comment: a summary table, then one
 *             collapsible section per resource
 *
 * Secret values never reach the output unless show_secrets: the fields of
 * a Secret's data and stringData are written as their sizes (and, in
 * patches, with a "changed" mark), in every format.
 */
#include "strata/diff.h"

#include "git_dl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define C_RESET "\033[m"
#define C_BOLD "\033[1m"
#define C_RED "\033[31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_CYAN "\033[36m"

/* Markdown stops adding sections past this size (GitHub comments hold
 * 65,536 characters). */
#define MD_BUDGET 60000
/* Inline values longer than this are written as YAML blocks. */
#define INLINE_MAX 72

/* strata_diff_format_emit hands the report on in pieces of this size, so
 * a report of many megabytes is never held whole (issue 6: a diff's
 * report is as big as a tenth of its input). */
#define EMIT_PIECE 65536

typedef struct fmtctx {
	strata_buf *out;
	const strata_diff_fmt *f;
	int context;
	int rc;
	/* emitting: out is a piece, handed to write() when full */
	int (*write)(void *ctx, const char *text, size_t len);
	void *wctx;
	size_t handed;     /* bytes handed to write() so far */
} fmtctx;

static void hand_on(fmtctx *x)
{
	int rc;

	if (!x->out->len)
		return;
	rc = x->write(x->wctx, x->out->ptr, x->out->len);
	x->handed += x->out->len;
	x->out->len = 0;
	if (rc < 0 && !x->rc)
		x->rc = rc;
}

static void put(fmtctx *x, const char *s)
{
	if (!x->rc && strata_buf_puts(x->out, s) < 0)
		x->rc = STRATA_ENOMEM;
	if (x->write && x->out->len >= EMIT_PIECE && !x->rc)
		hand_on(x);
}

static void putn(fmtctx *x, const char *s, size_t n)
{
	if (!x->rc && strata_buf_put(x->out, s, n) < 0)
		x->rc = STRATA_ENOMEM;
	if (x->write && x->out->len >= EMIT_PIECE && !x->rc)
		hand_on(x);
}

/* Bytes of the report so far, handed on or not. */
static size_t report_len(const fmtctx *x)
{
	return x->handed + x->out->len;
}

static void col(fmtctx *x, const char *code)
{
	if (x->f->color)
		put(x, code);
}

__attribute__((format(printf, 2, 3)))
static void putf(fmtctx *x, const char *fmt, ...)
{
	va_list ap;
	strata_buf tmp = STRATA_BUF_INIT;
	char small[512];
	int n;

	if (x->rc)
		return;
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		x->rc = STRATA_ERROR;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		putn(x, small, (size_t)n);
		return;
	}
	if (strata_buf_grow(&tmp, (size_t)n + 1) < 0) {
		x->rc = STRATA_ENOMEM;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(tmp.ptr, (size_t)n + 1, fmt, ap);
	va_end(ap);
	putn(x, tmp.ptr, (size_t)n);
	strata_buf_free(&tmp);
}

/* ---- shared helpers ---- */

static const char *op_name(int op)
{
	switch (op) {
	case STRATA_CHANGE_ADD: return "add";
	case STRATA_CHANGE_REMOVE: return "remove";
	case STRATA_CHANGE_ORDER: return "order";
	default: return "modify";
	}
}

static const char *status_name(int st)
{
	switch (st) {
	case STRATA_DIFF_ADDED: return "added";
	case STRATA_DIFF_REMOVED: return "removed";
	default: return "changed";
	}
}

/* "apps/Deployment" or "ConfigMap" */
static void put_gk(strata_buf *b, const strata_resource *r)
{
	if (r->group[0])
		strata_buf_printf(b, "%s/", r->group);
	strata_buf_puts(b, r->kind);
}

static void put_nsname(strata_buf *b, const strata_resource *r)
{
	if (r->ns[0])
		strata_buf_printf(b, "%s/%s", r->ns, r->name);
	else
		strata_buf_puts(b, r->name);
}

/* "apps/Deployment shop/web", or with a pairing across names
 * "apps/Deployment shop-dev/dev-web → shop-prod/prod-web".  malloc'ed. */
static char *entry_label(const strata_diff_entry *e)
{
	strata_buf b = STRATA_BUF_INIT;
	const strata_resource *r = e->new_res ? e->new_res : e->old_res;

	put_gk(&b, r);
	strata_buf_putc(&b, ' ');
	if (e->old_res && e->new_res &&
	    (strcmp(e->old_res->ns, e->new_res->ns) ||
	     strcmp(e->old_res->name, e->new_res->name))) {
		put_nsname(&b, e->old_res);
		strata_buf_puts(&b, " → ");
	}
	put_nsname(&b, r);
	return strata_buf_detach(&b, NULL);
}

/* Bytes a Secret value stands for: base64-decoded for data. */
static size_t secret_size(const strata_node *v, bool b64)
{
	size_t n = 0;

	/* base64: 4 characters carry 3 bytes; padding carries none */
	if (!v || v->type != STRATA_NODE_SCALAR)
		return 0;
	if (!b64)
		return v->u.scalar.len;
	for (size_t i = 0; i < v->u.scalar.len; i++) {
		char c = v->u.scalar.str[i];
		if (c != '=' && c != '\n' && c != ' ' && c != '\r' && c != '\t')
			n++;
	}
	return n * 3 / 4;
}

static bool path_is_data(const char *path)
{
	return !strncmp(path, "data", 4) && (path[4] == '.' || path[4] == '[' || !path[4]);
}

/* "(hidden, 12 bytes)" / "(hidden, keys: a, b)" for a masked value. */
static void put_hidden(strata_buf *b, const strata_node *v, bool b64)
{
	if (v && v->type == STRATA_NODE_MAP) {
		strata_buf_puts(b, "(hidden, keys: ");
		for (uint32_t i = 0; i < v->u.map.n; i++) {
			if (i)
				strata_buf_puts(b, ", ");
			strata_buf_put(b, v->u.map.pairs[i].key->u.scalar.str,
				       v->u.map.pairs[i].key->u.scalar.len);
		}
		strata_buf_puts(b, ")");
	} else if (v && v->type == STRATA_NODE_SCALAR) {
		strata_buf_printf(b, "(hidden, %zu bytes)", secret_size(v, b64));
	} else {
		strata_buf_puts(b, "(hidden)");
	}
}

static bool masked(const fmtctx *x, const strata_diff_change *c)
{
	return c->secret && !x->f->show_secrets;
}

static bool multiline(const strata_node *n)
{
	return n && n->type == STRATA_NODE_SCALAR &&
	       memchr(n->u.scalar.str, '\n', n->u.scalar.len) != NULL;
}

/* ---- line diffs ---- */

typedef struct lines {
	const char **p;
	size_t *len;
	uint64_t *h;
	size_t n;
} lines;

static void lines_free(lines *l)
{
	free(l->p);
	free(l->len);
	free(l->h);
}

static int lines_split(lines *l, const char *s, size_t len)
{
	size_t cap = 1;

	memset(l, 0, sizeof(*l));
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\n')
			cap++;
	l->p = malloc(cap * sizeof(*l->p));
	l->len = malloc(cap * sizeof(*l->len));
	l->h = malloc(cap * sizeof(*l->h));
	if (!l->p || !l->len || !l->h) {
		lines_free(l);
		return STRATA_ENOMEM;
	}
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(s + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - s) : len;
		l->p[l->n] = s + i;
		l->len[l->n] = e - i;
		l->h[l->n] = strata_hash(s + i, e - i, STRATA_HASH_SEED);
		l->n++;
		i = e + 1;
	}
	return 0;
}

typedef struct lines_pair {
	const lines *a, *b;
} lines_pair;

static bool lines_eq(size_t i, size_t j, void *ctx)
{
	const lines_pair *lp = ctx;

	return lp->a->len[i] == lp->b->len[j] &&
	       !memcmp(lp->a->p[i], lp->b->p[j], lp->a->len[i]);
}

static void put_range(fmtctx *x, size_t start, size_t count)
{
	/* git: "-3,2", "-3" for one line, "-2,0" (the line before) for none */
	if (count == 1)
		putf(x, "%zu", start + 1);
	else
		putf(x, "%zu,%zu", count ? start + 1 : start, count);
}

/*
 * git's default hunk header context: the nearest line above the hunk that
 * starts with a letter, '_' or '$', cut to 79 bytes, trailing blanks
 * dropped (xdiff's def_ff).
 */
static void put_funcname(fmtctx *x, const lines *a, size_t start)
{
	for (size_t i = start; i-- > 0;) {
		const char *p = a->p[i];
		size_t len = a->len[i];
		if (len && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    *p == '_' || *p == '$')) {
			if (len > 79)
				len = 79;
			while (len && (p[len - 1] == ' ' || p[len - 1] == '\t' ||
				       p[len - 1] == '\r'))
				len--;
			put(x, " ");
			putn(x, p, len);
			return;
		}
	}
}

/*
 * Write unified hunks of a -> b.  Each line starts with indent; with
 * md the '-'/'+' marks go first (a ```diff block colours them).
 */
static void unified(fmtctx *x, const lines *a, const lines *b,
		    const char *indent, bool md, bool funcname)
{
	bool *del = calloc(a->n + 1, 1), *ins = calloc(b->n + 1, 1);
	lines_pair lp = { a, b };
	size_t ctxn = (size_t)x->context;
	/* positions of each change: walk both sequences together */
	size_t *ai = NULL, *bj = NULL;
	char *kind = NULL; /* ' ', '-', '+' */
	size_t n = 0, cap = a->n + b->n + 1;

	if (!del || !ins)
		goto oom;
	if (strata_diff_myers(a->h, a->n, b->h, b->n, lines_eq, &lp, del, ins) < 0)
		goto oom;
	ai = malloc(cap * sizeof(*ai));
	bj = malloc(cap * sizeof(*bj));
	kind = malloc(cap);
	if (!ai || !bj || !kind)
		goto oom;
	for (size_t i = 0, j = 0; i < a->n || j < b->n;) {
		if (i < a->n && del[i]) {
			ai[n] = i; bj[n] = j; kind[n++] = '-'; i++;
		} else if (j < b->n && ins[j]) {
			ai[n] = i; bj[n] = j; kind[n++] = '+'; j++;
		} else {
			ai[n] = i; bj[n] = j; kind[n++] = ' '; i++; j++;
		}
	}
	for (size_t k = 0; k < n && !x->rc;) {
		size_t start, end, last, na = 0, nb = 0;
		if (kind[k] == ' ') {
			k++;
			continue;
		}
		/* a hunk: from ctxn lines before k to ctxn after the last
		 * change that is within 2*ctxn of the next */
		start = k > ctxn ? k - ctxn : 0;
		last = k;
		for (size_t m = k; m < n; m++) {
			if (kind[m] != ' ') {
				if (m - last > 2 * ctxn)
					break;
				last = m;
			}
		}
		end = last + ctxn + 1 < n ? last + ctxn + 1 : n;
		for (size_t m = start; m < end; m++) {
			if (kind[m] != '+')
				na++;
			if (kind[m] != '-')
				nb++;
		}
		put(x, indent);
		col(x, C_CYAN);
		put(x, "@@ -");
		put_range(x, ai[start], na);
		put(x, " +");
		put_range(x, bj[start], nb);
		put(x, " @@");
		col(x, C_RESET);
		if (funcname)
			put_funcname(x, a, ai[start]);
		put(x, "\n");
		for (size_t m = start; m < end; m++) {
			const char *s = kind[m] == '+' ? b->p[bj[m]] : a->p[ai[m]];
			size_t l = kind[m] == '+' ? b->len[bj[m]] : a->len[ai[m]];
			if (md) {
				putn(x, &kind[m], 1);
				put(x, indent);
			} else {
				put(x, indent);
				if (kind[m] != ' ')
					col(x, kind[m] == '-' ? C_RED : C_GREEN);
				putn(x, &kind[m], 1);
			}
			putn(x, s, l);
			if (kind[m] != ' ' && !md)
				col(x, C_RESET);
			put(x, "\n");
		}
		k = end;
	}
	goto done;
oom:
	x->rc = STRATA_ENOMEM;
done:
	free(del);
	free(ins);
	free(ai);
	free(bj);
	free(kind);
}

/* ---- text and markdown field changes ---- */

static char *inline_value(const strata_node *v)
{
	strata_buf b = STRATA_BUF_INIT;

	if (strata_yaml_emit_inline(&b, v) < 0) {
		strata_buf_free(&b);
		return NULL;
	}
	if (!b.ptr)
		strata_buf_puts(&b, "");
	return strata_buf_detach(&b, NULL);
}

/*
 * One value line "SIGN path: value", or a block when the value is big:
 * "SIGN path:" then the YAML, each line "SIGN     ...".  lead is what
 * starts every line ("  + " in text, "+ " in markdown).
 */
static void put_value_lines(fmtctx *x, const char *lead, const char *color,
			    const char *path, const strata_node *v,
			    bool hide, bool b64)
{
	char *inl = NULL;

	if (hide) {
		strata_buf h = STRATA_BUF_INIT;
		put_hidden(&h, v, b64);
		col(x, color);
		putf(x, "%s%s: %s", lead, path, h.ptr ? h.ptr : "");
		col(x, C_RESET);
		put(x, "\n");
		strata_buf_free(&h);
		return;
	}
	inl = inline_value(v);
	if (!inl) {
		x->rc = STRATA_ENOMEM;
		return;
	}
	if (strlen(inl) <= INLINE_MAX && !multiline(v)) {
		col(x, color);
		putf(x, "%s%s: %s", lead, path, inl);
		col(x, C_RESET);
		put(x, "\n");
	} else {
		strata_buf y = STRATA_BUF_INIT;
		if (strata_yaml_emit(&y, v) < 0) {
			x->rc = STRATA_ENOMEM;
		} else {
			col(x, color);
			putf(x, "%s%s:", lead, path);
			col(x, C_RESET);
			put(x, "\n");
			for (size_t i = 0; i < y.len;) {
				const char *nl = memchr(y.ptr + i, '\n', y.len - i);
				size_t e = nl ? (size_t)(nl - y.ptr) : y.len;
				col(x, color);
				put(x, lead);
				put(x, "    ");
				putn(x, y.ptr + i, e - i);
				col(x, C_RESET);
				put(x, "\n");
				i = e + 1;
			}
		}
		strata_buf_free(&y);
	}
	free(inl);
}

static void put_order(fmtctx *x, const strata_diff_change *c, bool md)
{
	put(x, md ? "! " : "    ");
	col(x, C_YELLOW);
	putf(x, "%s: order changed", c->path);
	col(x, C_RESET);
	if (c->order && c->order->n_keys) {
		const strata_diff_order *o = c->order;
		put(x, ": [");
		for (size_t i = 0; i < o->n_keys; i++)
			putf(x, "%s%s", i ? ", " : "", o->old_keys[i]);
		put(x, "] → [");
		for (size_t i = 0; i < o->n_keys; i++)
			putf(x, "%s%s", i ? ", " : "", o->new_keys[i]);
		put(x, "]");
	} else {
		char *a = inline_value(c->old_value), *b = inline_value(c->new_value);
		if (a && b && strlen(a) + strlen(b) <= 2 * INLINE_MAX)
			putf(x, ": %s → %s", a, b);
		free(a);
		free(b);
	}
	put(x, "\n");
}

static void put_string_diff(fmtctx *x, const strata_diff_change *c, bool md)
{
	const strata_node *o = c->old_value, *n = c->new_value;
	lines a, b;

	if (md) {
		putf(x, "@@ %s @@\n", c->path);
	} else {
		putf(x, "    %s:\n", c->path);
	}
	if (lines_split(&a, o->u.scalar.str, o->u.scalar.len) < 0) {
		x->rc = STRATA_ENOMEM;
		return;
	}
	if (lines_split(&b, n->u.scalar.str, n->u.scalar.len) < 0) {
		lines_free(&a);
		x->rc = STRATA_ENOMEM;
		return;
	}
	if (a.n == b.n && o->u.scalar.len != n->u.scalar.len) {
		bool same = true;
		for (size_t i = 0; i < a.n && same; i++)
			same = a.len[i] == b.len[i] && !memcmp(a.p[i], b.p[i], a.len[i]);
		if (same) {
			put(x, md ? "! " : "      ");
			put(x, "(only the final newline differs)\n");
		}
	}
	unified(x, &a, &b, md ? " " : "      ", md, false);
	lines_free(&a);
	lines_free(&b);
}

static void put_change(fmtctx *x, const strata_diff_change *c, bool md)
{
	bool hide = masked(x, c), b64 = path_is_data(c->path);
	const char *plus = md ? "+ " : "  + ", *minus = md ? "- " : "  - ";

	switch (c->op) {
	case STRATA_CHANGE_ADD:
		put_value_lines(x, plus, C_GREEN, c->path, c->new_value, hide, b64);
		return;
	case STRATA_CHANGE_REMOVE:
		put_value_lines(x, minus, C_RED, c->path, c->old_value, hide, b64);
		return;
	case STRATA_CHANGE_ORDER:
		put_order(x, c, md);
		return;
	default:
		break;
	}
	/* modify */
	if (hide) {
		size_t a = secret_size(c->old_value, b64), b = secret_size(c->new_value, b64);
		bool scal = c->old_value->type == STRATA_NODE_SCALAR &&
			    c->new_value->type == STRATA_NODE_SCALAR;
		put(x, md ? "! " : "    ");
		if (scal && a != b)
			putf(x, "%s: (hidden, %zu bytes → %zu bytes)\n", c->path, a, b);
		else if (scal)
			putf(x, "%s: (hidden, %zu bytes, changed)\n", c->path, a);
		else
			putf(x, "%s: (hidden, changed)\n", c->path);
		return;
	}
	if (c->old_value->type == STRATA_NODE_SCALAR &&
	    c->new_value->type == STRATA_NODE_SCALAR) {
		char *a, *b;
		if (multiline(c->old_value) || multiline(c->new_value)) {
			put_string_diff(x, c, md);
			return;
		}
		a = inline_value(c->old_value);
		b = inline_value(c->new_value);
		if (!a || !b) {
			x->rc = STRATA_ENOMEM;
		} else if (md) {
			putf(x, "- %s: %s\n+ %s: %s\n", c->path, a, c->path, b);
		} else {
			putf(x, "    %s: ", c->path);
			col(x, C_RED);
			put(x, a);
			col(x, C_RESET);
			put(x, " → ");
			col(x, C_GREEN);
			put(x, b);
			col(x, C_RESET);
			put(x, "\n");
		}
		free(a);
		free(b);
		return;
	}
	/* the type changed (a map became a list, ...): old out, new in */
	put_value_lines(x, minus, C_RED, c->path, c->old_value, false, false);
	put_value_lines(x, plus, C_GREEN, c->path, c->new_value, false, false);
}

static void put_summary_counts(fmtctx *x, const strata_diff *d)
{
	if (!strata_diff_different(d))
		put(x, "no differences");
	else
		putf(x, "%zu added, %zu removed, %zu changed", d->added, d->removed,
		     d->changed);
	if (d->ignored)
		putf(x, " (%zu ignored change%s)", d->ignored, d->ignored == 1 ? "" : "s");
}

static const char *side_name(const strata_diff_input *s)
{
	return s->label && s->label[0] ? s->label : (s->env ? s->env : "?");
}

/* ---- text ---- */

static void put_missing(fmtctx *x, const strata_diff_input *s)
{
	if (!s->missing)
		return;
	if (s->branch)
		putf(x, " (%s does not exist yet)", s->branch);
	else
		putf(x, " (environment '%s' not defined there)", s->env ? s->env : "?");
}

/* One comparison's block of the text report (nothing when no change):
 * an empty line first when an earlier block was written. */
static void text_block(fmtctx *x, const strata_diff *d, bool *first)
{
	if (!strata_diff_different(d))
		return;
	if (!*first)
		put(x, "\n");
	*first = false;
	col(x, C_BOLD);
	putf(x, "--- %s", side_name(&d->old_side));
	put_missing(x, &d->old_side);
	put(x, "\n");
	putf(x, "+++ %s", side_name(&d->new_side));
	put_missing(x, &d->new_side);
	col(x, C_RESET);
	put(x, "\n");
	for (size_t k = 0; k < d->n && !x->rc; k++) {
		const strata_diff_entry *e = &d->entries[k];
		char *label = entry_label(e);
		const char *sign = e->status == STRATA_DIFF_ADDED ? "+" :
				   e->status == STRATA_DIFF_REMOVED ? "-" : "~";
		if (!label) {
			x->rc = STRATA_ENOMEM;
			break;
		}
		col(x, e->status == STRATA_DIFF_ADDED ? C_GREEN :
		       e->status == STRATA_DIFF_REMOVED ? C_RED : C_YELLOW);
		col(x, C_BOLD);
		putf(x, "%s %s", sign, label);
		col(x, C_RESET);
		if (e->n_ignored)
			putf(x, " (%zu ignored)", e->n_ignored);
		put(x, "\n");
		free(label);
		for (size_t c = 0; c < e->n_changes; c++)
			put_change(x, &e->changes[c], false);
	}
}

/* One comparison's line of the text report's closing summary. */
static void text_summary(fmtctx *x, const strata_diff *d)
{
	putf(x, "%s → %s: ", side_name(&d->old_side), side_name(&d->new_side));
	put_summary_counts(x, d);
	put(x, "\n");
}

/* The blocks of the comparisons with changes, then one summary line each. */
static void format_text(fmtctx *x, const strata_diff *const *diffs, size_t n)
{
	bool first = true;

	for (size_t i = 0; i < n && !x->rc; i++)
		text_block(x, diffs[i], &first);
	if (!first)
		put(x, "\n");
	for (size_t i = 0; i < n && !x->rc; i++)
		text_summary(x, diffs[i]);
}

/* ---- patch ---- */

/*
 * r's document: the side's own, or, for a side that does not hold it
 * (strata_diff_side_spill), parsed again into a.  NULL with x->rc set
 * when that fails.
 */
static const strata_node *res_root(fmtctx *x, const strata_diff_input *side,
				   const strata_resource *r, strata_arena *a)
{
	strata_node *root;
	strata_error e;
	int rc;

	if (r->root || !side->load)
		return r->root;
	strata_error_clear(&e);
	rc = side->load(side->load_ctx, r, a, &root, &e);
	if (rc < 0) {
		if (!x->rc)
			x->rc = rc;
		return NULL;
	}
	return root;
}

/* A copy of root (r's document) with a Secret's values replaced by their
 * sizes; values that differ from the other side's (oroot) get a "changed"
 * mark. */
static strata_node *mask_secret(strata_arena *a, const strata_resource *r,
				const strata_node *rroot, const strata_node *oroot)
{
	static const char *const fields[] = { "data", "stringData", NULL };
	strata_node *root;

	if (strcmp(r->kind, "Secret") || r->group[0])
		return (strata_node *)rroot;
	root = strata_node_copy(a, rroot);
	if (!root)
		return NULL;
	for (int f = 0; fields[f]; f++) {
		strata_node *m = strata_map_get(root, fields[f]);
		const strata_node *om = oroot ? strata_map_get(oroot, fields[f]) : NULL;
		if (!m || m->type != STRATA_NODE_MAP)
			continue;
		for (uint32_t i = 0; i < m->u.map.n; i++) {
			strata_pair *p = &m->u.map.pairs[i];
			const strata_node *ov = om && om->type == STRATA_NODE_MAP ?
				strata_map_getn(om, p->key->u.scalar.str, p->key->u.scalar.len) : NULL;
			bool changed = ov && !strata_node_equal(ov, p->value);
			char *txt = strata_arena_printf(a, "<hidden, %zu bytes%s>",
							secret_size(p->value, f == 0),
							changed ? ", changed" : "");
			if (!txt)
				return NULL;
			p->value = strata_node_scalar_str(a, txt, STRATA_STYLE_STRING);
			if (!p->value)
				return NULL;
		}
	}
	return root;
}

/*
 * r's document (on side) as a report shows it whole: a Secret's values
 * masked unless show_secrets, other being the same resource on oside
 * (or NULL).  A spilled side hands its text on (text(): its packed
 * document emitted), and is read back into a for a Secret's masking.
 * 0 or a negative code.
 */
static int resource_text(strata_buf *out, strata_arena *a, fmtctx *x,
			 const strata_diff_input *side, const strata_resource *r,
			 const strata_diff_input *oside, const strata_resource *other)
{
	bool mask = !x->f->show_secrets && !strcmp(r->kind, "Secret") && !r->group[0];
	const strata_node *root, *oroot = NULL;

	if (!mask && r->root)
		return strata_yaml_emit(out, r->root);
	if (!mask && side->text)
		return side->text(side->load_ctx, r, out);
	root = res_root(x, side, r, a);
	if (root && mask && other)
		oroot = res_root(x, oside, other, a);
	if (x->rc)
		return x->rc;
	if (mask)
		root = mask_secret(a, r, root, oroot);
	if (!root)
		return STRATA_ENOMEM;
	return strata_yaml_emit(out, root);
}

/* git's blob id of data, abbreviated as git diff's index line shows it. */
static void blob_abbrev(char out[8], const strata_buf *b, bool exists)
{
	git_oid id;
	char hex[GIT_OID_HEXSZ + 1];

	if (!exists ||
	    git_odb_hash(&id, b->ptr ? b->ptr : "", b->len, GIT_OBJECT_BLOB) < 0) {
		memcpy(out, "0000000", 8);
		return;
	}
	git_oid_tostr(hex, sizeof(hex), &id);
	memcpy(out, hex, 7);
	out[7] = '\0';
}

typedef struct pfile {
	const strata_diff_entry *e;
	const char *op, *np; /* old and new path, NULL when absent */
} pfile;

static int cmp_pfile(const void *pa, const void *pb)
{
	const pfile *a = pa, *b = pb;

	return strcmp(a->np ? a->np : a->op, b->np ? b->np : b->op);
}

static void patch_file(fmtctx *x, strata_arena *a, const strata_diff *d,
		       const pfile *pf)
{
	const strata_diff_entry *e = pf->e;
	strata_buf ob = STRATA_BUF_INIT, nb = STRATA_BUF_INIT;
	char oid_a[8], oid_b[8];
	lines la, lb;
	/* a spilled side's documents are parsed again for this file only */
	strata_arena *sa = NULL;
	int rc = 0;

	if ((e->old_res && !e->old_res->root) || (e->new_res && !e->new_res->root)) {
		if (!(sa = strata_arena_new())) {
			x->rc = STRATA_ENOMEM;
			return;
		}
		a = sa;
	}
	if (e->old_res)
		rc = resource_text(&ob, a, x, &d->old_side, e->old_res,
				   &d->new_side, e->new_res);
	if (e->new_res && rc == 0)
		rc = resource_text(&nb, a, x, &d->new_side, e->new_res,
				   &d->old_side, e->old_res);
	if (rc < 0 && !x->rc)
		x->rc = rc;
	if (x->rc || (ob.len == nb.len && (!ob.len || !memcmp(ob.ptr, nb.ptr, ob.len))))
		goto done;
	blob_abbrev(oid_a, &ob, e->old_res != NULL);
	blob_abbrev(oid_b, &nb, e->new_res != NULL);
	col(x, C_BOLD);
	putf(x, "diff --git a/%s b/%s\n", pf->op ? pf->op : pf->np, pf->np ? pf->np : pf->op);
	if (!pf->op)
		put(x, "new file mode 100644\n");
	if (!pf->np)
		put(x, "deleted file mode 100644\n");
	if (pf->op && pf->np)
		putf(x, "index %s..%s 100644\n", oid_a, oid_b);
	else
		putf(x, "index %s..%s\n", oid_a, oid_b);
	if (pf->op)
		putf(x, "--- a/%s\n", pf->op);
	else
		put(x, "--- /dev/null\n");
	if (pf->np)
		putf(x, "+++ b/%s\n", pf->np);
	else
		put(x, "+++ /dev/null\n");
	col(x, C_RESET);
	if (lines_split(&la, ob.ptr ? ob.ptr : "", ob.len) < 0) {
		x->rc = STRATA_ENOMEM;
		goto done;
	}
	if (lines_split(&lb, nb.ptr ? nb.ptr : "", nb.len) < 0) {
		lines_free(&la);
		x->rc = STRATA_ENOMEM;
		goto done;
	}
	unified(x, &la, &lb, "", false, true);
	lines_free(&la);
	lines_free(&lb);
done:
	strata_buf_free(&ob);
	strata_buf_free(&nb);
	strata_arena_free(sa);
}

/*
 * Files in path order, as git lists a tree change; with several
 * environments each path starts with "<env>/" like `render --all --out`.
 */
/* several: part of a report of several comparisons (paths get the env) */
static void format_patch(fmtctx *x, const strata_diff *const *diffs, size_t n,
			 bool several)
{
	strata_arena *a = strata_arena_new();

	if (!a) {
		x->rc = STRATA_ENOMEM;
		return;
	}
	x->rc = strata_git_init(NULL); /* blob ids: the hash backend */
	if (x->rc) {
		strata_arena_free(a);
		return;
	}
	for (size_t i = 0; i < n && !x->rc; i++) {
		const strata_diff *d = diffs[i];
		pfile *files = calloc(d->n + 1, sizeof(*files));
		if (!files) {
			x->rc = STRATA_ENOMEM;
			break;
		}
		for (size_t k = 0; k < d->n && !x->rc; k++) {
			const strata_diff_entry *e = &d->entries[k];
			pfile *pf = &files[k];
			pf->e = e;
			if (e->old_res) {
				const char *p = strata_render_path(a, e->old_res);
				pf->op = p && several ? strata_arena_printf(a, "%s/%s", d->old_side.env ? d->old_side.env : "", p) : p;
				if (!pf->op)
					x->rc = STRATA_ENOMEM;
			}
			if (e->new_res) {
				const char *p = strata_render_path(a, e->new_res);
				pf->np = p && several ? strata_arena_printf(a, "%s/%s", d->new_side.env ? d->new_side.env : "", p) : p;
				if (!pf->np)
					x->rc = STRATA_ENOMEM;
			}
		}
		if (!x->rc)
			qsort(files, d->n, sizeof(*files), cmp_pfile);
		for (size_t k = 0; k < d->n && !x->rc; k++)
			patch_file(x, a, d, &files[k]);
		free(files);
	}
	git_libgit2_shutdown();
	strata_arena_free(a);
}

/* ---- json ---- */

static void json_str(fmtctx *x, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	put(x, "\"");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': put(x, "\\\""); break;
		case '\\': put(x, "\\\\"); break;
		case '\n': put(x, "\\n"); break;
		case '\r': put(x, "\\r"); break;
		case '\t': put(x, "\\t"); break;
		default:
			if (c < 0x20 || c == 0x7f) {
				char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
				putn(x, e, 6);
			} else {
				putn(x, (const char *)&c, 1);
			}
		}
	}
	put(x, "\"");
}

static void json_cstr(fmtctx *x, const char *s)
{
	if (!s)
		put(x, "null");
	else
		json_str(x, s, strlen(s));
}

static bool json_number_text(const char *s, size_t len)
{
	size_t i = 0;

	if (i < len && s[i] == '-')
		i++;
	if (i >= len || s[i] < '0' || s[i] > '9')
		return false;
	if (s[i] == '0' && i + 1 < len && s[i + 1] >= '0' && s[i + 1] <= '9')
		return false;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	if (i < len && s[i] == '.') {
		i++;
		if (i >= len || s[i] < '0' || s[i] > '9')
			return false;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= len || s[i] < '0' || s[i] > '9')
			return false;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	return i == len;
}

/* The node as JSON, typed the way a Kubernetes reader types it. */
static void json_node(fmtctx *x, const strata_node *n)
{
	if (!n) {
		put(x, "null");
		return;
	}
	switch (n->type) {
	case STRATA_NODE_SCALAR: {
		const char *s = n->u.scalar.str;
		size_t len = n->u.scalar.len;
		switch (strata_scalar_kind_of(n)) {
		case STRATA_SCALAR_NULL:
			put(x, "null");
			return;
		case STRATA_SCALAR_BOOL:
			put(x, (s[0] == 't' || s[0] == 'T' || s[0] == 'y' || s[0] == 'Y' ||
				((s[0] == 'o' || s[0] == 'O') && len == 2 && (s[1] == 'n' || s[1] == 'N')))
				       ? "true" : "false");
			return;
		case STRATA_SCALAR_INT:
			if (json_number_text(s, len)) {
				putn(x, s, len);
			} else if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
				putf(x, "%lld", strtoll(s + 2, NULL, s[1] == 'x' ? 16 : 8));
			} else {
				putf(x, "%lld", strtoll(s, NULL, 10));
			}
			return;
		case STRATA_SCALAR_FLOAT:
			if (json_number_text(s, len)) {
				putn(x, s, len);
				return;
			}
			break;
		default:
			break;
		}
		json_str(x, s, len);
		return;
	}
	case STRATA_NODE_MAP:
		put(x, "{");
		for (uint32_t i = 0; i < n->u.map.n; i++) {
			if (i)
				put(x, ", ");
			json_str(x, n->u.map.pairs[i].key->u.scalar.str,
				 n->u.map.pairs[i].key->u.scalar.len);
			put(x, ": ");
			json_node(x, n->u.map.pairs[i].value);
		}
		put(x, "}");
		return;
	default:
		put(x, "[");
		for (uint32_t i = 0; i < n->u.seq.n; i++) {
			if (i)
				put(x, ", ");
			json_node(x, n->u.seq.items[i]);
		}
		put(x, "]");
	}
}

static void json_side(fmtctx *x, const strata_diff_input *s)
{
	put(x, "{\"label\": ");
	json_cstr(x, side_name(s));
	put(x, ", \"env\": ");
	json_cstr(x, s->env);
	put(x, ", \"revision\": ");
	json_cstr(x, s->revision);
	put(x, ", \"branch\": ");
	json_cstr(x, s->branch);
	putf(x, ", \"missing\": %s}", s->missing ? "true" : "false");
}

static void json_res(fmtctx *x, strata_arena *a, const strata_resource *r,
		     bool several, const char *env)
{
	const char *p;

	if (!r) {
		put(x, "null");
		return;
	}
	p = strata_render_path(a, r);
	put(x, "{\"apiVersion\": ");
	if (r->root)
		json_cstr(x, strata_scalar_str(strata_map_get(r->root, "apiVersion")));
	else if (r->group[0]) /* spilled: strata_diff_side_spill checked it is exact */
		json_cstr(x, strata_arena_printf(a, "%s/%s", r->group, r->version));
	else
		json_cstr(x, r->version);
	put(x, ", \"namespace\": ");
	json_cstr(x, r->ns);
	put(x, ", \"name\": ");
	json_cstr(x, r->name);
	put(x, ", \"path\": ");
	if (p && several && env)
		p = strata_arena_printf(a, "%s/%s", env, p);
	json_cstr(x, p);
	put(x, "}");
}

static void json_secret_size(fmtctx *x, const char *key, const strata_node *v,
			     bool b64)
{
	if (!v)
		return;
	if (v->type == STRATA_NODE_SCALAR)
		putf(x, ", \"%s\": %zu", key, secret_size(v, b64));
	else if (v->type == STRATA_NODE_MAP) {
		putf(x, ", \"%s\": [", key);
		for (uint32_t i = 0; i < v->u.map.n; i++) {
			if (i)
				put(x, ", ");
			json_str(x, v->u.map.pairs[i].key->u.scalar.str,
				 v->u.map.pairs[i].key->u.scalar.len);
		}
		put(x, "]");
	}
}

static void json_change(fmtctx *x, const strata_diff_change *c)
{
	bool hide = masked(x, c), b64 = path_is_data(c->path);

	put(x, "{\"op\": ");
	json_cstr(x, op_name(c->op));
	put(x, ", \"path\": ");
	json_cstr(x, c->path);
	if (c->secret)
		put(x, ", \"secret\": true");
	if (hide) {
		json_secret_size(x, c->old_value && c->old_value->type == STRATA_NODE_MAP ?
				 "old_keys" : "old_size", c->old_value, b64);
		json_secret_size(x, c->new_value && c->new_value->type == STRATA_NODE_MAP ?
				 "new_keys" : "new_size", c->new_value, b64);
	} else if (c->op == STRATA_CHANGE_ORDER && c->order && c->order->n_keys) {
		const strata_diff_order *o = c->order;
		put(x, ", \"old_order\": [");
		for (size_t i = 0; i < o->n_keys; i++) {
			if (i)
				put(x, ", ");
			json_cstr(x, o->old_keys[i]);
		}
		put(x, "], \"new_order\": [");
		for (size_t i = 0; i < o->n_keys; i++) {
			if (i)
				put(x, ", ");
			json_cstr(x, o->new_keys[i]);
		}
		put(x, "]");
	} else {
		if (c->op != STRATA_CHANGE_ADD) {
			put(x, ", \"old\": ");
			json_node(x, c->old_value);
		}
		if (c->op != STRATA_CHANGE_REMOVE) {
			put(x, ", \"new\": ");
			json_node(x, c->new_value);
		}
	}
	put(x, "}");
}

/* Comparison i's object in the "comparisons" array (several: of more
 * than one comparison, so paths get the environment). */
static void json_comparison(fmtctx *x, strata_arena *a, const strata_diff *d,
			    size_t i, bool several)
{
	put(x, i ? ",\n    {\n" : "\n    {\n");
	put(x, "      \"old\": ");
	json_side(x, &d->old_side);
	put(x, ",\n      \"new\": ");
	json_side(x, &d->new_side);
	putf(x, ",\n      \"summary\": {\"added\": %zu, \"removed\": %zu, "
		"\"changed\": %zu, \"unchanged\": %zu, \"ignored_changes\": %zu},\n",
	     d->added, d->removed, d->changed, d->unchanged, d->ignored);
	put(x, "      \"resources\": [");
	for (size_t k = 0; k < d->n && !x->rc; k++) {
		const strata_diff_entry *e = &d->entries[k];
		const strata_resource *r = e->new_res ? e->new_res : e->old_res;
		put(x, k ? ",\n        {" : "\n        {");
		put(x, "\"status\": ");
		json_cstr(x, status_name(e->status));
		put(x, ", \"group\": ");
		json_cstr(x, r->group);
		put(x, ", \"kind\": ");
		json_cstr(x, r->kind);
		put(x, ",\n         \"old\": ");
		json_res(x, a, e->old_res, several, d->old_side.env);
		put(x, ",\n         \"new\": ");
		json_res(x, a, e->new_res, several, d->new_side.env);
		putf(x, ",\n         \"ignored_changes\": %zu", e->n_ignored);
		put(x, ",\n         \"changes\": [");
		for (size_t c = 0; c < e->n_changes; c++) {
			put(x, c ? ",\n           " : "\n           ");
			json_change(x, &e->changes[c]);
		}
		put(x, e->n_changes ? "\n         ]}" : "]}");
	}
	put(x, d->n ? "\n      ]\n    }" : "]\n    }");
}

static void json_head(fmtctx *x, bool different)
{
	putf(x, "{\n  \"version\": 1,\n  \"different\": %s,\n  \"comparisons\": [",
	     different ? "true" : "false");
}

static void json_end(fmtctx *x, size_t n)
{
	put(x, n ? "\n  ]\n}\n" : "]\n}\n");
}

static void format_json(fmtctx *x, const strata_diff *const *diffs, size_t n)
{
	strata_arena *a = strata_arena_new();
	bool different = false;

	if (!a) {
		x->rc = STRATA_ENOMEM;
		return;
	}
	for (size_t i = 0; i < n; i++)
		different |= strata_diff_different(diffs[i]);
	json_head(x, different);
	for (size_t i = 0; i < n && !x->rc; i++)
		json_comparison(x, a, diffs[i], i, n > 1);
	json_end(x, n);
	strata_arena_free(a);
}

/* ---- markdown ---- */

static void md_escape(fmtctx *x, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': put(x, "&lt;"); break;
		case '>': put(x, "&gt;"); break;
		case '&': put(x, "&amp;"); break;
		case '|': put(x, "\\|"); break;
		case '`': put(x, "&#96;"); break;
		default: putn(x, s, 1);
		}
	}
}

static const char *md_env(const strata_diff *d, strata_buf *b)
{
	const char *o = d->old_side.env, *n = d->new_side.env;

	b->len = 0;
	if (o && n && strcmp(o, n))
		strata_buf_printf(b, "%s → %s", o, n);
	else
		strata_buf_puts(b, n ? n : o ? o : "?");
	return b->ptr ? b->ptr : "";
}

/* The longest run of backticks in s, so a fence can be longer. */
static size_t longest_ticks(const char *s, size_t len)
{
	size_t best = 0, run = 0;

	for (size_t i = 0; i < len; i++) {
		run = s[i] == '`' ? run + 1 : 0;
		if (run > best)
			best = run;
	}
	return best;
}

static void md_fenced(fmtctx *x, const char *lang, const char *body, size_t len)
{
	size_t ticks = longest_ticks(body, len) + 1;

	if (ticks < 3)
		ticks = 3;
	for (size_t i = 0; i < ticks; i++)
		put(x, "`");
	putf(x, "%s\n", lang);
	putn(x, body, len);
	if (len && body[len - 1] != '\n')
		put(x, "\n");
	for (size_t i = 0; i < ticks; i++)
		put(x, "`");
	put(x, "\n");
}

static void md_entry(fmtctx *x, const strata_diff *d, const strata_diff_entry *e,
		     const char *env, strata_arena *a)
{
	strata_buf body = STRATA_BUF_INIT;
	fmtctx bx = { &body, x->f, x->context, 0, NULL, NULL, 0 };
	char *label = entry_label(e);
	const char *sign = e->status == STRATA_DIFF_ADDED ? "+" :
			   e->status == STRATA_DIFF_REMOVED ? "-" : "~";

	if (!label) {
		x->rc = STRATA_ENOMEM;
		return;
	}
	put(x, "<details>\n<summary><b>");
	md_escape(x, env);
	put(x, "</b>: <code>");
	md_escape(x, sign);
	put(x, " ");
	md_escape(x, label);
	put(x, "</code> ");
	if (e->status == STRATA_DIFF_CHANGED)
		putf(x, "(%zu change%s)", e->n_changes, e->n_changes == 1 ? "" : "s");
	else
		put(x, e->status == STRATA_DIFF_ADDED ? "(added)" : "(removed)");
	put(x, "</summary>\n\n");
	if (e->status == STRATA_DIFF_CHANGED) {
		for (size_t c = 0; c < e->n_changes; c++)
			put_change(&bx, &e->changes[c], true);
	} else {
		const strata_resource *r = e->new_res ? e->new_res : e->old_res;
		strata_buf y = STRATA_BUF_INIT;
		char mark = e->new_res ? '+' : '-';
		/* a spilled side's document is parsed again for this entry only */
		strata_arena *sa = r->root ? NULL : strata_arena_new();
		int rc = !r->root && !sa ? STRATA_ENOMEM :
			 resource_text(&y, sa ? sa : a, &bx,
				       e->new_res ? &d->new_side : &d->old_side,
				       r, NULL, NULL);
		if (rc < 0) {
			if (!bx.rc)
				bx.rc = rc;
		} else {
			for (size_t i = 0; i < y.len;) {
				const char *nl = memchr(y.ptr + i, '\n', y.len - i);
				size_t end = nl ? (size_t)(nl - y.ptr) : y.len;
				putn(&bx, &mark, 1);
				put(&bx, " ");
				putn(&bx, y.ptr + i, end - i);
				put(&bx, "\n");
				i = end + 1;
			}
		}
		strata_buf_free(&y);
		strata_arena_free(sa);
	}
	if (bx.rc)
		x->rc = bx.rc;
	md_fenced(x, "diff", body.ptr ? body.ptr : "", body.len);
	put(x, "\n</details>\n\n");
	strata_buf_free(&body);
	free(label);
}

static void md_head(fmtctx *x)
{
	put(x, "### strata diff\n\n");
	put(x, "| Environment | Compared | Added | Changed | Removed |\n");
	put(x, "|---|---|--:|--:|--:|\n");
}

static void md_row(fmtctx *x, const strata_diff *d, strata_buf *envb)
{
	put(x, "| ");
	md_escape(x, md_env(d, envb));
	put(x, " | <code>");
	md_escape(x, side_name(&d->old_side));
	put(x, "</code> → <code>");
	md_escape(x, side_name(&d->new_side));
	putf(x, "</code> | %zu | %zu | %zu |\n", d->added, d->changed, d->removed);
}

static void md_ignored(fmtctx *x, const strata_diff *d, strata_buf *envb)
{
	if (d->ignored)
		putf(x, "%s: %zu ignored change%s not shown.\n", md_env(d, envb),
		     d->ignored, d->ignored == 1 ? "" : "s");
}

static void md_skipped(fmtctx *x, size_t skipped)
{
	if (skipped)
		putf(x, "… and %zu more resource%s (too long for one comment; run `strata diff` locally).\n",
		     skipped, skipped == 1 ? "" : "s");
}

/* Markdown is never coloured: x's settings without colour, in *plain. */
static fmtctx *md_plain(fmtctx *x, fmtctx *plain, strata_diff_fmt *nocolor)
{
	*nocolor = *x->f;
	nocolor->color = false;
	*plain = *x;
	plain->f = nocolor;
	return plain;
}

static void format_markdown(fmtctx *x, const strata_diff *const *diffs, size_t n)
{
	strata_buf envb = STRATA_BUF_INIT;
	strata_arena *a = strata_arena_new();
	size_t start = report_len(x), skipped = 0;
	bool any = false;
	fmtctx plain, *orig = x;
	strata_diff_fmt nocolor;

	if (!a) {
		x->rc = STRATA_ENOMEM;
		return;
	}
	x = md_plain(x, &plain, &nocolor);
	md_head(x);
	for (size_t i = 0; i < n; i++) {
		md_row(x, diffs[i], &envb);
		any |= strata_diff_different(diffs[i]);
	}
	put(x, "\n");
	if (!any)
		put(x, "No differences.\n");
	for (size_t i = 0; i < n && !x->rc; i++) {
		const strata_diff *d = diffs[i];
		const char *env = md_env(d, &envb);
		char *envc = strdup(env);
		if (!envc) {
			x->rc = STRATA_ENOMEM;
			break;
		}
		for (size_t k = 0; k < d->n && !x->rc; k++) {
			if (report_len(x) - start > MD_BUDGET) {
				skipped++;
				continue;
			}
			md_entry(x, d, &d->entries[k], envc, a);
		}
		free(envc);
	}
	for (size_t i = 0; i < n; i++)
		md_ignored(x, diffs[i], &envb);
	md_skipped(x, skipped);
	if (plain.rc)
		orig->rc = plain.rc;
	strata_buf_free(&envb);
	strata_arena_free(a);
}

static int format(fmtctx *x, const strata_diff *const *diffs, size_t n)
{
	switch (x->f->format) {
	case STRATA_DIFF_PATCH:
		format_patch(x, diffs, n, n > 1);
		break;
	case STRATA_DIFF_JSON:
		format_json(x, diffs, n);
		break;
	case STRATA_DIFF_MARKDOWN:
		format_markdown(x, diffs, n);
		break;
	default:
		format_text(x, diffs, n);
		break;
	}
	return x->rc;
}

int strata_diff_format_report(strata_buf *out, const strata_diff *const *diffs,
			      size_t n, const strata_diff_fmt *fmt)
{
	fmtctx x = { out, fmt, fmt->context < 0 ? 3 : fmt->context, 0, NULL, NULL, 0 };

	return format(&x, diffs, n);
}

int strata_diff_format_emit(const strata_diff *const *diffs, size_t n,
			    const strata_diff_fmt *fmt,
			    int (*write)(void *ctx, const char *text, size_t len),
			    void *ctx)
{
	strata_buf piece = STRATA_BUF_INIT;
	fmtctx x = { &piece, fmt, fmt->context < 0 ? 3 : fmt->context, 0,
		     write, ctx, 0 };

	if (format(&x, diffs, n) == 0)
		hand_on(&x);
	strata_buf_free(&piece);
	return x.rc;
}

/* ---- the report part by part ---- */

struct strata_diff_parts {
	strata_diff_fmt fmt;
	strata_diff_fmt nocolor;  /* markdown */
	size_t n, i;              /* comparisons in all, added so far */
	bool blocks;              /* text: a block was written */
	bool different;           /* json, markdown: some comparison differs */
	strata_buf tail;          /* text: summary lines; markdown: ignored */
	strata_buf envb;
	/* markdown: the table's rows, and the entries that may fit the
	 * budget (each one's length): which do is known at the end */
	strata_buf rows, entries;
	size_t *ent_len, n_ent, cap_ent;
	size_t unbuffered;        /* entries past the budget in any case */
};

strata_diff_parts *strata_diff_parts_new(size_t n, const strata_diff_fmt *fmt)
{
	strata_diff_parts *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->fmt = *fmt;
	p->nocolor = *fmt;
	p->nocolor.color = false;
	p->n = n;
	return p;
}

void strata_diff_parts_free(strata_diff_parts *p)
{
	if (!p)
		return;
	strata_buf_free(&p->tail);
	strata_buf_free(&p->envb);
	strata_buf_free(&p->rows);
	strata_buf_free(&p->entries);
	free(p->ent_len);
	free(p);
}

/* Markdown: the row, and the entries that may fit (md_entry each). */
static void md_part(fmtctx *x, strata_diff_parts *p, const strata_diff *d,
		    strata_arena *a)
{
	fmtctx ex = *x;
	char *env;

	x->out = &p->rows;
	md_row(x, d, &p->envb);
	env = strdup(md_env(d, &p->envb));
	if (!env) {
		x->rc = STRATA_ENOMEM;
		return;
	}
	ex.out = &p->entries;
	for (size_t k = 0; k < d->n && !ex.rc; k++) {
		size_t before = p->entries.len;

		/* the report has at least these bytes before the entry */
		if (p->entries.len > MD_BUDGET) {
			p->unbuffered++;
			continue;
		}
		if (p->n_ent == p->cap_ent) {
			size_t cap = p->cap_ent ? p->cap_ent * 2 : 64;
			size_t *v = realloc(p->ent_len, cap * sizeof(*v));
			if (!v) {
				ex.rc = STRATA_ENOMEM;
				break;
			}
			p->ent_len = v;
			p->cap_ent = cap;
		}
		md_entry(&ex, d, &d->entries[k], env, a);
		p->ent_len[p->n_ent++] = p->entries.len - before;
	}
	free(env);
	if (ex.rc)
		x->rc = ex.rc;
	x->out = &p->tail;
	md_ignored(x, d, &p->envb);
}

/* Comparison d's part to body, handed to write in pieces (write: NULL to
 * keep it all in body). */
static int parts_add(strata_diff_parts *p, strata_buf *body, const strata_diff *d,
		     int (*write)(void *ctx, const char *text, size_t len),
		     void *ctx)
{
	const strata_diff_fmt *f = p->fmt.format == STRATA_DIFF_MARKDOWN ? &p->nocolor
									 : &p->fmt;
	fmtctx x = { body, f, f->context < 0 ? 3 : f->context, 0, write, ctx, 0 };
	strata_arena *a = NULL;
	size_t i = p->i++;
	bool first = !p->blocks;

	p->different |= strata_diff_different(d);
	switch (p->fmt.format) {
	case STRATA_DIFF_TEXT:
		text_block(&x, d, &first);
		p->blocks = !first;
		if (write && !x.rc)
			hand_on(&x);
		x.write = NULL; /* the summary lines wait for the end */
		x.out = &p->tail;
		text_summary(&x, d);
		break;
	case STRATA_DIFF_PATCH:
		format_patch(&x, &d, 1, p->n > 1);
		break;
	case STRATA_DIFF_JSON:
	case STRATA_DIFF_MARKDOWN:
		if (!(a = strata_arena_new()))
			return STRATA_ENOMEM;
		if (p->fmt.format == STRATA_DIFF_JSON) {
			json_comparison(&x, a, d, i, p->n > 1);
		} else {
			x.write = NULL; /* markdown's part waits for the end */
			md_part(&x, p, d, a);
		}
		strata_arena_free(a);
		break;
	default:
		return STRATA_EUSAGE;
	}
	if (x.write && !x.rc)
		hand_on(&x);
	return x.rc;
}

int strata_diff_parts_add(strata_diff_parts *p, strata_buf *body,
			  const strata_diff *d)
{
	return parts_add(p, body, d, NULL, NULL);
}

int strata_diff_parts_emit(strata_diff_parts *p, const strata_diff *d,
			   int (*write)(void *ctx, const char *text, size_t len),
			   void *ctx)
{
	strata_buf piece = STRATA_BUF_INIT;
	int rc = parts_add(p, &piece, d, write, ctx);

	strata_buf_free(&piece);
	return rc;
}

int strata_diff_parts_end(strata_diff_parts *p, strata_buf *head, strata_buf *tail)
{
	fmtctx x = { head, &p->nocolor, 3, 0, NULL, NULL, 0 };
	size_t skipped = 0, off = 0;

	switch (p->fmt.format) {
	case STRATA_DIFF_TEXT:
		x.out = tail;
		if (p->blocks)
			put(&x, "\n");
		if (p->tail.len)
			putn(&x, p->tail.ptr, p->tail.len);
		break;
	case STRATA_DIFF_JSON:
		json_head(&x, p->different);
		x.out = tail;
		json_end(&x, p->n);
		break;
	case STRATA_DIFF_MARKDOWN:
		/* format_markdown's bytes: the budget counts from the top */
		md_head(&x);
		if (p->rows.len)
			putn(&x, p->rows.ptr, p->rows.len);
		put(&x, "\n");
		if (!p->different)
			put(&x, "No differences.\n");
		for (size_t k = 0; k < p->n_ent; off += p->ent_len[k++]) {
			if (head->len > MD_BUDGET) {
				skipped++;
				continue;
			}
			putn(&x, p->entries.ptr + off, p->ent_len[k]);
		}
		if (p->tail.len)
			putn(&x, p->tail.ptr, p->tail.len);
		md_skipped(&x, skipped + p->unbuffered);
		break;
	default:
		break;
	}
	return x.rc;
}

int strata_diff_format_parse(const char *name)
{
	if (!strcmp(name, "text"))
		return STRATA_DIFF_TEXT;
	if (!strcmp(name, "patch"))
		return STRATA_DIFF_PATCH;
	if (!strcmp(name, "json"))
		return STRATA_DIFF_JSON;
	if (!strcmp(name, "markdown") || !strcmp(name, "md"))
		return STRATA_DIFF_MARKDOWN;
	return -1;
}
