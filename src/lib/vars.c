/*
 * vars.c - variable substitution, the first transform of an environment.
 *
 * ${NAME} is replaced by the value of var.NAME; ${NAME:-default} uses the
 * default when NAME is unset or empty (as the shell does); ${NAME:=default}
 * does the same and also defines NAME for every later use in this render
 * (resources in set order, each document depth-first).  Defaults may
 * themselves contain references.  $${X} is the escape for a literal ${X};
 * a `$` not followed by `{` is literal.
 *
 * Only scalar values are substituted, never map keys.  A scalar keeps its
 * style, as Flux's post-build substitution does: a plain `${REPLICAS}`
 * becomes the plain (integer) 3, a quoted one stays a string; the emitter
 * quotes a result that cannot be written in the original style.
 *
 * Undefined variables are collected over the whole set before failing, so
 * a single error lists every place each one is used.  This pass visits
 * every scalar of every resource: scalars without a `$` are skipped with
 * one memchr.
 */
#include "pipeline.h"
#include "strata/transform.h"

#include "slots.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nesting of ${A:-${B:-...}} defaults; deeper is an error, not a crash. */
#define MAX_DEFAULT_DEPTH 32
/* Places listed per undefined variable before "and N more". */
#define MAX_PLACES 20
/* Undefined variables described in one message before "and N more". */
#define MAX_NAMES 10

/* Where the substitution reads and writes variables. */
typedef struct vctx {
	strata_kvlist *vars;  /* the environment's variables */
	strata_kvlist *defs;  /* ${X:=...} definitions; may be vars itself */
} vctx;

/* A syntax problem inside one string. */
typedef struct vsyntax {
	size_t off;        /* offset of the bad reference */
	const char *what;  /* "unterminated", "invalid" */
} vsyntax;

static bool name_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9');
}

static const char *kv_lookup(const strata_kvlist *l, const char *name, size_t len)
{
	if (!l)
		return NULL;
	for (size_t i = 0; i < l->n; i++) {
		const char *k = l->items[i].key;
		if (k && strlen(k) == len && memcmp(k, name, len) == 0)
			return l->items[i].value ? l->items[i].value : "";
	}
	return NULL;
}

static const char *lookup(const vctx *c, const char *name, size_t len)
{
	const char *v = NULL;

	if (c->defs != c->vars)
		v = kv_lookup(c->defs, name, len);
	return v ? v : kv_lookup(c->vars, name, len);
}

/*
 * Define name = value in l (malloc'ed strings, replacing in place when the
 * key exists), the way strata_config fills its lists.
 */
static int kv_define(strata_kvlist *l, const char *name, size_t len,
		     const char *value, size_t vlen)
{
	char *v = malloc(vlen + 1);

	if (!v)
		return STRATA_ENOMEM;
	memcpy(v, value, vlen);
	v[vlen] = '\0';
	for (size_t i = 0; i < l->n; i++) {
		const char *k = l->items[i].key;
		if (k && strlen(k) == len && memcmp(k, name, len) == 0) {
			free(l->items[i].value);
			l->items[i].value = v;
			return 0;
		}
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		strata_kv *items = realloc(l->items, cap * sizeof(*items));
		if (!items) {
			free(v);
			return STRATA_ENOMEM;
		}
		l->items = items;
		l->cap = cap;
	}
	l->items[l->n].key = malloc(len + 1);
	if (!l->items[l->n].key) {
		free(v);
		return STRATA_ENOMEM;
	}
	memcpy(l->items[l->n].key, name, len);
	l->items[l->n].key[len] = '\0';
	l->items[l->n].value = v;
	l->items[l->n].line = 0;
	l->n++;
	return 0;
}

/*
 * The end of a default: the offset of the '}' closing a reference whose
 * default starts at s[i], counting nested "${" openings; len when there is
 * none.
 */
static size_t default_end(const char *s, size_t i, size_t len)
{
	size_t depth = 0;

	for (; i < len; i++) {
		if (s[i] == '$' && i + 1 < len && s[i + 1] == '{') {
			depth++;
			i++;
		} else if (s[i] == '}') {
			if (!depth)
				return i;
			depth--;
		}
	}
	return len;
}

/*
 * Substitute s[0..len) into out.  Undefined names are appended to undef
 * (NUL-terminated each) when it is non-NULL, and are STRATA_EUNDEFVAR
 * otherwise.  STRATA_EPARSE fills *syn.  base is the offset of s in the
 * outermost string (for positions in nested defaults).
 */
static int subst(strata_buf *out, const char *s, size_t len, size_t base,
		 vctx *c, bool *changed, strata_buf *undef, vsyntax *syn,
		 int depth)
{
	size_t i = 0;
	int rc;

	if (depth > MAX_DEFAULT_DEPTH) {
		syn->off = base;
		syn->what = "too deeply nested";
		return STRATA_EPARSE;
	}
	while (i < len) {
		const char *d = memchr(s + i, '$', len - i);
		size_t at, j, name, name_len;

		if (!d)
			return strata_buf_put(out, s + i, len - i);
		at = (size_t)(d - s);
		if ((rc = strata_buf_put(out, s + i, at - i)) < 0)
			return rc;
		if (at + 2 < len && s[at + 1] == '$' && s[at + 2] == '{') {
			/* $${X}: a literal ${ */
			if ((rc = strata_buf_put(out, "${", 2)) < 0)
				return rc;
			*changed = true;
			i = at + 3;
			continue;
		}
		if (at + 1 >= len || s[at + 1] != '{') {
			if ((rc = strata_buf_putc(out, '$')) < 0)
				return rc;
			i = at + 1;
			continue;
		}
		*changed = true;
		name = j = at + 2;
		if (j >= len) {
			syn->off = base + at;
			syn->what = "unterminated";
			return STRATA_EPARSE;
		}
		if (!name_start(s[j])) {
			syn->off = base + at;
			syn->what = "invalid";
			return STRATA_EPARSE;
		}
		while (j < len && name_char(s[j]))
			j++;
		name_len = j - name;
		if (j >= len) {
			syn->off = base + at;
			syn->what = "unterminated";
			return STRATA_EPARSE;
		}
		if (s[j] == '}') {
			const char *v = lookup(c, s + name, name_len);
			if (v) {
				if ((rc = strata_buf_puts(out, v)) < 0)
					return rc;
			} else if (undef) {
				if ((rc = strata_buf_put(undef, s + name, name_len)) < 0 ||
				    (rc = strata_buf_putc(undef, '\0')) < 0)
					return rc;
			} else {
				return STRATA_EUNDEFVAR;
			}
			i = j + 1;
			continue;
		}
		if (s[j] == ':' && j + 1 < len && (s[j + 1] == '-' || s[j + 1] == '=')) {
			bool assign = s[j + 1] == '=';
			size_t dstart = j + 2, dend = default_end(s, dstart, len);
			const char *v = lookup(c, s + name, name_len);

			if (dend >= len) {
				syn->off = base + at;
				syn->what = "unterminated";
				return STRATA_EPARSE;
			}
			if (v && *v) {
				if ((rc = strata_buf_puts(out, v)) < 0)
					return rc;
			} else {
				strata_buf tmp = STRATA_BUF_INIT;
				size_t undef_before = undef ? undef->len : 0;

				rc = subst(&tmp, s + dstart, dend - dstart, base + dstart,
					   c, changed, undef, syn, depth + 1);
				if (rc == 0)
					rc = strata_buf_put(out, tmp.ptr ? tmp.ptr : "", tmp.len);
				/* Only a fully resolved default defines the name. */
				if (rc == 0 && assign && (!undef || undef->len == undef_before))
					rc = kv_define(c->defs, s + name, name_len,
						       tmp.ptr ? tmp.ptr : "", tmp.len);
				strata_buf_free(&tmp);
				if (rc < 0)
					return rc;
			}
			i = dend + 1;
			continue;
		}
		syn->off = base + at;
		syn->what = "invalid";
		return STRATA_EPARSE;
	}
	/* An empty input still leaves out NUL-terminated. */
	return strata_buf_grow(out, 0);
}

int strata_vars_subst(strata_buf *out, const char *s, size_t len,
		      strata_kvlist *vars, bool *changed, strata_buf *undefined)
{
	vctx c = { vars, vars };
	vsyntax syn = { 0, NULL };
	bool dummy = false;

	if (!changed)
		changed = &dummy;
	*changed = false;
	return subst(out, s, len, 0, &c, changed, undefined, &syn, 0);
}

/* ---- the transform over a resource set ---- */

typedef struct place {
	const char *file;
	uint32_t line, col;
} place;

/* One undefined variable and where it is used. */
typedef struct undef_var {
	char *name;
	uint64_t hash;
	place places[MAX_PLACES];
	size_t n;                 /* all uses (places holds the first ones) */
	const strata_node *last;  /* the scalar of the last use recorded */
} undef_var;

typedef struct vrun {
	strata_arena *arena;
	vctx ctx;
	strata_error *err;
	strata_buf out, undef;
	undef_var *vars;          /* in order of first use */
	size_t n, cap;
	uint32_t *table;          /* 1 + index into vars, 0 empty */
	size_t mask;
	bool changed;             /* the current resource changed */
} vrun;

static int table_grow(vrun *r)
{
	size_t size = r->mask ? (r->mask + 1) * 2 : 64;
	uint32_t *t = calloc(size, sizeof(*t));

	if (!t)
		return STRATA_ENOMEM;
	for (size_t i = 0; i < r->n; i++)
		t[strata_slot_empty(t, size - 1, r->vars[i].hash)] = (uint32_t)i + 1;
	free(r->table);
	r->table = t;
	r->mask = size - 1;
	return 0;
}

static int record_undefined(vrun *r, const char *name, const strata_node *n)
{
	size_t len = strlen(name), k;
	uint64_t h = strata_hash(name, len, STRATA_HASH_SEED);
	undef_var *v = NULL;

	if (r->table) {
		for (k = (size_t)h & r->mask; r->table[k]; k = (k + 1) & r->mask) {
			undef_var *e = &r->vars[r->table[k] - 1];
			if (e->hash == h && !strcmp(e->name, name)) {
				v = e;
				break;
			}
		}
	}
	if (!v) {
		if ((r->n + 1) * 2 > (r->table ? r->mask + 1 : 0) && table_grow(r) < 0)
			return STRATA_ENOMEM;
		if (r->n == r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 8;
			undef_var *vs = realloc(r->vars, cap * sizeof(*vs));
			if (!vs)
				return STRATA_ENOMEM;
			r->vars = vs;
			r->cap = cap;
		}
		v = &r->vars[r->n];
		memset(v, 0, sizeof(*v));
		v->name = strdup(name);
		if (!v->name)
			return STRATA_ENOMEM;
		v->hash = h;
		for (k = (size_t)h & r->mask; r->table[k]; k = (k + 1) & r->mask)
			;
		r->table[k] = (uint32_t)++r->n;
	}
	if (v->last == n)
		return 0; /* one scalar using it twice is one place */
	v->last = n;
	if (v->n < MAX_PLACES) {
		v->places[v->n].file = strata_node_file(n);
		v->places[v->n].line = n->line;
		v->places[v->n].col = n->col;
	}
	v->n++;
	return 0;
}

static int visit_scalar(vrun *r, strata_cur *c)
{
	strata_node *n = c->node, **slot;
	vsyntax syn = { 0, NULL };
	bool changed = false;
	int rc;

	if (!memchr(n->u.scalar.str, '$', n->u.scalar.len))
		return 0;
	r->out.len = 0;
	r->undef.len = 0;
	rc = subst(&r->out, n->u.scalar.str, n->u.scalar.len, 0, &r->ctx, &changed,
		   &r->undef, &syn, 0);
	if (rc == STRATA_EPARSE) {
		size_t show = n->u.scalar.len - syn.off;
		const char *close = memchr(n->u.scalar.str + syn.off, '}', show);
		if (close)
			show = (size_t)(close - (n->u.scalar.str + syn.off)) + 1;
		if (show > 60)
			show = 60;
		return strata_error_set(r->err, STRATA_EPARSE, strata_node_file(n), (int)n->line,
					(int)n->col, "%s variable reference '%.*s' (write $${ for a literal ${)",
					syn.what, (int)show, n->u.scalar.str + syn.off);
	}
	if (rc < 0)
		return strata_error_set(r->err, rc, NULL, 0, 0, "out of memory");
	if (r->undef.len) {
		for (size_t off = 0; off < r->undef.len;
		     off += strlen(r->undef.ptr + off) + 1)
			if (record_undefined(r, r->undef.ptr + off, n) < 0)
				return strata_error_set(r->err, STRATA_ENOMEM, NULL, 0, 0,
							"out of memory");
		return 0;
	}
	if (!changed)
		return 0;
	r->changed = true;
	/*
	 * A new node in the slot (scalars in a tree are shared by copies),
	 * its containers made the render's first (copy-on-write, doc.h).
	 */
	n = strata_scalar_with(r->arena, n, r->out.ptr ? r->out.ptr : "", r->out.len, -1);
	slot = n ? strata_cur_slot(r->arena, c) : NULL;
	if (!slot)
		return strata_error_set(r->err, STRATA_ENOMEM, NULL, 0, 0, "out of memory");
	*slot = n;
	c->node = n;
	return 0;
}

static int visit(vrun *r, strata_cur *c)
{
	int rc;

	if (c->node->type == STRATA_NODE_SCALAR)
		return visit_scalar(r, c);
	/* c->node is read again each time: an edit below may copy it */
	for (uint32_t i = 0;; i++) {
		strata_node *v = strata_node_child(c->node, i);
		strata_cur child;

		if (!v)
			return 0;
		/* most scalars have no '$': no cursor for them */
		if (v->type == STRATA_NODE_SCALAR &&
		    !memchr(v->u.scalar.str, '$', v->u.scalar.len))
			continue;
		if (strata_cur_at(&child, c, i) && (rc = visit(r, &child)) < 0)
			return rc;
	}
}

/* The message for every undefined variable, positioned at the first use. */
static int report_undefined(vrun *r)
{
	strata_buf m = STRATA_BUF_INIT;
	const place *first = &r->vars[0].places[0];
	int rc;

	for (size_t i = 0; i < r->n && i < MAX_NAMES; i++) {
		const undef_var *v = &r->vars[i];
		size_t shown = v->n < MAX_PLACES ? v->n : MAX_PLACES;

		strata_buf_printf(&m, "%sundefined variable '%s' (used at ",
				  i ? "; " : "", v->name);
		for (size_t k = 0; k < shown; k++)
			strata_buf_printf(&m, "%s%s:%u:%u", k ? ", " : "",
					  v->places[k].file ? v->places[k].file : "?",
					  v->places[k].line, v->places[k].col);
		if (v->n > shown)
			strata_buf_printf(&m, " and %zu more", v->n - shown);
		strata_buf_putc(&m, ')');
	}
	if (r->n > MAX_NAMES)
		strata_buf_printf(&m, "; and %zu more undefined variables",
				  r->n - MAX_NAMES);
	rc = strata_error_set(r->err, STRATA_EUNDEFVAR, first->file, (int)first->line,
			      (int)first->col, "%s", m.ptr ? m.ptr : "undefined variable");
	strata_buf_free(&m);
	return rc;
}

static int vars_run(strata_arena *a, strata_resset *s, strata_kvlist *vars,
		    bool index, strata_error *err)
{
	strata_kvlist defs = { NULL, 0, 0 };
	vrun r;
	bool reindex = false;
	int rc = 0;

	memset(&r, 0, sizeof(r));
	r.arena = a;
	r.err = err;
	r.ctx.vars = vars;
	/*
	 * ${X:=...} definitions go to a list of our own: the environment's
	 * settings stay as configured, so rendering it again gives the same
	 * result.
	 */
	r.ctx.defs = &defs;

	for (size_t i = 0; i < strata_resset_count(s); i++) {
		strata_resource *res = strata_resset_at(s, i);

		/* dollar_free: no '$' anywhere in it, so no reference (resource.h) */
		if (res->deleted || res->dollar_free)
			continue;
		strata_cur top;

		r.changed = false;
		strata_cur_top(&top, &res->root);
		if ((rc = visit(&r, &top)) < 0)
			goto done;
		/* a variable in apiVersion, kind or metadata may move the identity */
		if (r.changed) {
			reindex = true;
			if (!index)
				strata_resource_refresh(res, a);
		}
	}
	if (r.n) {
		rc = report_undefined(&r);
		goto done;
	}
	if (reindex && index)
		rc = strata_resset_reindex(s, err);

done:
	for (size_t i = 0; i < r.n; i++)
		free(r.vars[i].name);
	free(r.vars);
	free(r.table);
	strata_buf_free(&r.out);
	strata_buf_free(&r.undef);
	for (size_t i = 0; i < defs.n; i++) {
		free(defs.items[i].key);
		free(defs.items[i].value);
	}
	free(defs.items);
	return rc;
}

int strata_transform_vars(strata_arena *a, strata_resset *s, strata_kvlist *vars,
			  strata_error *err)
{
	return vars_run(a, s, vars, true, err);
}

int strata_transform_vars_unindexed(strata_arena *a, strata_resset *s,
				    strata_kvlist *vars, strata_error *err)
{
	return vars_run(a, s, vars, false, err);
}
