/*
 * diff.c - pair the resources of two sides and compare each pair field by
 * field.
 *
 * Pairing hashes a key per resource: (group, kind, namespace, name), where
 * - across environments - a namespace equal to the side's own namespace
 * becomes a placeholder and the side's name prefix/suffix is cut off, so
 * dev-web in shop-dev meets prod-web in shop-prod.  Two resources of one
 * side that normalise to the same key (rare: "web" and "dev-web") keep
 * their raw identity instead, so nothing is paired twice.
 *
 * Comparing walks both trees at once.  Maps are compared by key (indexed
 * when large), lists the schema keys (containers, ports, env, volumes ...
 * from schema.h, the merge's own table) item by item under their merge key,
 * other lists by a Myers diff of item hashes: equal items are skipped,
 * replaced runs are compared position by position.  A list whose items are
 * all still there in another order gives one ORDER change.  Everything is
 * linear in the size of the documents except the Myers diff, which is
 * O((N+M)D) in time and linear in space.
 *
 * Changes matching an ignore rule are counted and dropped here, so every
 * output format and the exit code agree on what is ignored.
 */
#include "strata/diff.h"

#include "schema.h"
#include "pool.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- hashing ---- */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* A hash consistent with strata_node_equal: map key order does not count. */
static uint64_t node_hash(const strata_node *n)
{
	uint64_t h;

	if (!n)
		return 0x9e3779b97f4a7c15ULL;
	switch (n->type) {
	case STRATA_NODE_SCALAR: {
		unsigned char kind = (unsigned char)strata_scalar_kind_of(n);
		h = strata_hash(&kind, 1, STRATA_HASH_SEED);
		return strata_hash(n->u.scalar.str, n->u.scalar.len, h);
	}
	case STRATA_NODE_MAP:
		h = 0x6d6170ULL + n->u.map.n;
		for (uint32_t i = 0; i < n->u.map.n; i++) {
			const strata_node *k = n->u.map.pairs[i].key;
			uint64_t kh = strata_hash(k->u.scalar.str, k->u.scalar.len,
						  STRATA_HASH_SEED);
			h += mix64(kh ^ mix64(node_hash(n->u.map.pairs[i].value) + 1));
		}
		return mix64(h);
	default:
		h = 0x736571ULL + n->u.seq.n;
		for (uint32_t i = 0; i < n->u.seq.n; i++)
			h = mix64(h ^ node_hash(n->u.seq.items[i])) + i;
		return h;
	}
}

/*
 * A small open-addressing table of indexes, keyed by a 64-bit hash; the
 * caller compares the candidates.  slot value 0 is empty, else index + 1.
 */
typedef struct htab {
	uint64_t *h;
	size_t *v;
	size_t mask;
} htab;

static int htab_init(htab *t, size_t n)
{
	size_t cap = 16;

	while (cap < n * 2)
		cap <<= 1;
	t->h = calloc(cap, sizeof(*t->h));
	t->v = calloc(cap, sizeof(*t->v));
	t->mask = cap - 1;
	if (!t->h || !t->v) {
		free(t->h);
		free(t->v);
		t->h = NULL;
		t->v = NULL;
		return STRATA_ENOMEM;
	}
	return 0;
}

static void htab_free(htab *t)
{
	free(t->h);
	free(t->v);
}

static void htab_put(htab *t, uint64_t h, size_t idx)
{
	size_t p = (size_t)h & t->mask;

	while (t->v[p])
		p = (p + 1) & t->mask;
	t->h[p] = h;
	t->v[p] = idx + 1;
}

/* Iterate the candidates for h: start with *pos = (size_t)-1. */
static bool htab_next(const htab *t, uint64_t h, size_t *pos, size_t *idx)
{
	size_t p = *pos == (size_t)-1 ? ((size_t)h & t->mask) : ((*pos + 1) & t->mask);

	for (; t->v[p]; p = (p + 1) & t->mask) {
		if (t->h[p] == h) {
			*pos = p;
			*idx = t->v[p] - 1;
			return true;
		}
	}
	return false;
}

/* ---- Myers ---- */

typedef struct myers {
	const uint64_t *a, *b;
	bool (*eq)(size_t i, size_t j, void *ctx);
	void *ctx;
	bool *del, *ins;
	ptrdiff_t *vf, *vb; /* indexed by diagonal k, already offset */
} myers;

static bool same(const myers *m, size_t i, size_t j)
{
	return m->a[i] == m->b[j] && (!m->eq || m->eq(i, j, m->ctx));
}

/*
 * Find the middle snake of a[a0..a1) / b[b0..b1) (both non-empty, first
 * and last items different): on return the snake runs from (*x, *y) to
 * (*u, *v), absolute indexes.  Myers 1986, section 4b.
 */
static void middle_snake(const myers *m, size_t a0, size_t a1, size_t b0,
			 size_t b1, size_t *sx, size_t *sy, size_t *su,
			 size_t *sv)
{
	ptrdiff_t N = (ptrdiff_t)(a1 - a0), M = (ptrdiff_t)(b1 - b0);
	ptrdiff_t delta = N - M, maxd = (N + M + 1) / 2;
	bool odd = (delta & 1) != 0;
	ptrdiff_t *vf = m->vf, *vb = m->vb;

	vf[1] = 0;
	vb[delta - 1] = N;
	for (ptrdiff_t d = 0; d <= maxd; d++) {
		for (ptrdiff_t k = -d; k <= d; k += 2) {
			ptrdiff_t x, y, x0, y0;
			if (k == -d || (k != d && vf[k - 1] < vf[k + 1]))
				x = vf[k + 1];
			else
				x = vf[k - 1] + 1;
			y = x - k;
			x0 = x;
			y0 = y;
			while (x < N && y < M && same(m, a0 + (size_t)x, b0 + (size_t)y)) {
				x++;
				y++;
			}
			vf[k] = x;
			if (odd && k >= delta - (d - 1) && k <= delta + (d - 1) &&
			    vf[k] >= vb[k]) {
				*sx = a0 + (size_t)x0;
				*sy = b0 + (size_t)y0;
				*su = a0 + (size_t)x;
				*sv = b0 + (size_t)y;
				return;
			}
		}
		for (ptrdiff_t c = -d; c <= d; c += 2) {
			ptrdiff_t k = delta + c, x, y, x0, y0;
			if (c == d || (c != -d && vb[k - 1] < vb[k + 1]))
				x = vb[k - 1];
			else
				x = vb[k + 1] - 1;
			y = x - k;
			x0 = x;
			y0 = y;
			while (x > 0 && y > 0 && same(m, a0 + (size_t)x - 1, b0 + (size_t)y - 1)) {
				x--;
				y--;
			}
			vb[k] = x;
			if (!odd && k >= -d && k <= d && vb[k] <= vf[k]) {
				*sx = a0 + (size_t)x;
				*sy = b0 + (size_t)y;
				*su = a0 + (size_t)x0;
				*sv = b0 + (size_t)y0;
				return;
			}
		}
	}
	/* not reached for valid input; fall back to "replace everything" */
	*sx = *su = a1;
	*sy = *sv = b0;
}

static void lcs(const myers *m, size_t a0, size_t a1, size_t b0, size_t b1)
{
	size_t x, y, u, v;

	for (;;) {
		while (a0 < a1 && b0 < b1 && same(m, a0, b0)) {
			a0++;
			b0++;
		}
		while (a1 > a0 && b1 > b0 && same(m, a1 - 1, b1 - 1)) {
			a1--;
			b1--;
		}
		if (a0 == a1 || b0 == b1) {
			for (size_t i = a0; i < a1; i++)
				m->del[i] = true;
			for (size_t j = b0; j < b1; j++)
				m->ins[j] = true;
			return;
		}
		middle_snake(m, a0, a1, b0, b1, &x, &y, &u, &v);
		lcs(m, a0, x, b0, y);
		/* the second half iteratively: the recursion depth stays low */
		a0 = u;
		b0 = v;
	}
}

int strata_diff_myers(const uint64_t *a, size_t na, const uint64_t *b,
		      size_t nb, bool (*eq)(size_t i, size_t j, void *ctx),
		      void *ctx, bool *del, bool *ins)
{
	myers m = { a, b, eq, ctx, del, ins, NULL, NULL };
	/* diagonals reach delta +- (maxd + 1): within 2(N+M)+4 */
	size_t span = 2 * (na + nb) + 4;
	ptrdiff_t *vf, *vb;

	memset(del, 0, na * sizeof(*del));
	memset(ins, 0, nb * sizeof(*ins));
	vf = malloc((2 * span + 1) * sizeof(*vf));
	vb = malloc((2 * span + 1) * sizeof(*vb));
	if (!vf || !vb) {
		free(vf);
		free(vb);
		return STRATA_ENOMEM;
	}
	m.vf = vf + span;
	m.vb = vb + span;
	lcs(&m, 0, na, 0, nb);
	free(vf);
	free(vb);
	return 0;
}

/* ---- ignore rules ---- */

enum { SEG_KEY = 1, SEG_SEL = 2, SEG_ANY = 3 };

typedef struct rseg {
	int type;
	char *text; /* glob for KEY / SEL */
	size_t len;
} rseg;

typedef struct rule {
	char *kind, *name; /* globs, NULL when absent */
	rseg *segs;
	size_t n;
} rule;

static bool glob_match(const char *p, size_t pl, const char *s, size_t sl)
{
	size_t pi = 0, si = 0, star = (size_t)-1, mark = 0;

	while (si < sl) {
		if (pi < pl && p[pi] == '*') {
			star = pi++;
			mark = si;
		} else if (pi < pl && p[pi] == s[si]) {
			pi++;
			si++;
		} else if (star != (size_t)-1) {
			pi = star + 1;
			si = ++mark;
		} else {
			return false;
		}
	}
	while (pi < pl && p[pi] == '*')
		pi++;
	return pi == pl;
}

static void rule_clear(rule *r)
{
	free(r->kind);
	free(r->name);
	for (size_t j = 0; j < r->n; j++)
		free(r->segs[j].text);
	free(r->segs);
}

static void rules_free(rule *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		rule_clear(&r[i]);
	free(r);
}

static int add_rseg(rule *r, int type, const char *text, size_t len)
{
	rseg *s = realloc(r->segs, (r->n + 1) * sizeof(*s));
	char *t;

	if (!s)
		return STRATA_ENOMEM;
	r->segs = s;
	t = malloc(len + 1);
	if (!t)
		return STRATA_ENOMEM;
	memcpy(t, text, len);
	t[len] = '\0';
	s[r->n].type = type;
	s[r->n].text = t;
	s[r->n].len = len;
	r->n++;
	return 0;
}

/* Unescape a "..." string at p (p[0] == '"'); *end is past the quote. */
static int parse_quoted(const char *p, char *out, size_t *outlen,
			const char **end)
{
	size_t n = 0;

	for (p++; *p && *p != '"'; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			out[n++] = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
		} else {
			out[n++] = *p;
		}
	}
	if (*p != '"')
		return -1;
	*outlen = n;
	*end = p + 1;
	return 0;
}

static int parse_rule(rule *r, const char *text, strata_error *err)
{
	const char *p = text, *colon = NULL;
	char *tmp;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	tmp = malloc(strlen(text) + 1);
	if (!tmp)
		return STRATA_ENOMEM;
	/* "KIND[/NAME]:" selector: a ':' before any '.', '[' or '"' */
	for (const char *q = p; *q && *q != '.' && *q != '[' && *q != '"'; q++)
		if (*q == ':') {
			colon = q;
			break;
		}
	if (colon) {
		const char *slash = memchr(p, '/', (size_t)(colon - p));
		const char *kend = slash ? slash : colon;
		if (kend == p) {
			rc = -1;
			goto done;
		}
		r->kind = strndup(p, (size_t)(kend - p));
		if (slash)
			r->name = strndup(slash + 1, (size_t)(colon - slash - 1));
		if (!r->kind || (slash && !r->name)) {
			rc = STRATA_ENOMEM;
			goto done;
		}
		p = colon + 1;
	}
	if (!*p) {
		rc = -1;
		goto done;
	}
	while (*p) {
		if (*p == '[') {
			const char *q = p + 1;
			if (*q == '"') {
				size_t len;
				if (parse_quoted(q, tmp, &len, &q) < 0 || *q != ']') {
					rc = -1;
					goto done;
				}
				rc = add_rseg(r, SEG_KEY, tmp, len);
			} else {
				bool inq = false;
				while (*q && (inq || *q != ']')) {
					if (*q == '"')
						inq = !inq;
					else if (*q == '\\' && inq && q[1])
						q++;
					q++;
				}
				if (*q != ']' || q == p + 1) {
					rc = -1;
					goto done;
				}
				rc = add_rseg(r, SEG_SEL, p + 1, (size_t)(q - p - 1));
			}
			if (rc < 0)
				goto done;
			p = q + 1;
		} else {
			const char *q = p;
			if (*p == '"') {
				size_t len;
				if (parse_quoted(p, tmp, &len, &q) < 0) {
					rc = -1;
					goto done;
				}
				rc = add_rseg(r, SEG_KEY, tmp, len);
			} else {
				while (*q && *q != '.' && *q != '[')
					q++;
				if (q == p) {
					rc = -1;
					goto done;
				}
				if (q - p == 1 && *p == '*')
					rc = add_rseg(r, SEG_ANY, p, 1);
				else
					rc = add_rseg(r, SEG_KEY, p, (size_t)(q - p));
			}
			if (rc < 0)
				goto done;
			p = q;
		}
		if (*p == '.') {
			p++;
			if (!*p || *p == '.' || *p == '[') {
				rc = -1;
				goto done;
			}
		} else if (*p && *p != '[') {
			rc = -1;
			goto done;
		}
	}
done:
	free(tmp);
	if (rc == -1)
		rc = strata_error_set(err, STRATA_EUSAGE, NULL, 0, 0,
				      "invalid ignore rule '%s' (expected "
				      "[KIND[/NAME]:]PATH, e.g. "
				      "'spec.replicas' or "
				      "'Deployment:metadata.annotations[\"x.io/y\"]')",
				      text);
	return rc;
}

int strata_diff_ignore_check(const char *text, strata_error *err)
{
	rule r;
	int rc = parse_rule(&r, text, err);

	rule_clear(&r);
	return rc;
}

/* ---- comparing ---- */

typedef struct pseg {
	int type;           /* SEG_KEY or SEG_SEL */
	const char *key;    /* SEG_KEY: the key text (in a node) */
	size_t off, len;    /* SEG_SEL: inner text in the path buffer;
			       SEG_KEY: len of key */
	size_t mark;        /* path length before this segment */
} pseg;

typedef struct cmp {
	strata_diff *d;
	strata_arena *arena; /* where results go: d's, or a worker's (adopted) */
	const strata_diff_opts *opts;
	rule *rules;
	size_t n_rules;
	strata_buf path;
	pseg *segs;
	size_t depth, segcap;
	bool secret;        /* comparing a Secret */
	bool xenv;          /* two environments: their own naming is no change */
	const strata_resource *o, *n;
	const char *norm_name; /* paired name without prefix/suffix (not */
	size_t norm_len;       /* NUL-terminated: a piece of the new name) */
	strata_diff_change *ch;
	size_t n_ch, cap_ch;
	size_t n_ignored;
	int rc;
} cmp;

static bool key_plain(const char *s, size_t len)
{
	if (!len)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '/' ||
		      c == '$'))
			return false;
	}
	return true;
}

static int put_quoted(strata_buf *b, const char *s, size_t len)
{
	int rc = strata_buf_putc(b, '"');

	for (size_t i = 0; i < len && rc == 0; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			rc = strata_buf_putc(b, '\\');
			if (rc == 0)
				rc = strata_buf_putc(b, (char)c);
		} else if (c == '\n') {
			rc = strata_buf_puts(b, "\\n");
		} else if (c == '\t') {
			rc = strata_buf_puts(b, "\\t");
		} else if (c < 0x20) {
			rc = strata_buf_printf(b, "\\u%04x", c);
		} else {
			rc = strata_buf_putc(b, (char)c);
		}
	}
	if (rc == 0)
		rc = strata_buf_putc(b, '"');
	return rc < 0 ? STRATA_ENOMEM : 0;
}

static bool sel_value_plain(const char *s, size_t len)
{
	if (!len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] == ']' || s[i] == ',' || s[i] == '"' || s[i] == '=' ||
		    s[i] == '[' || (unsigned char)s[i] <= ' ')
			return false;
	return true;
}

static pseg *push_seg(cmp *c)
{
	if (c->depth == c->segcap) {
		size_t cap = c->segcap ? c->segcap * 2 : 32;
		pseg *s = realloc(c->segs, cap * sizeof(*s));
		if (!s) {
			c->rc = STRATA_ENOMEM;
			return NULL;
		}
		c->segs = s;
		c->segcap = cap;
	}
	c->segs[c->depth].mark = c->path.len;
	return &c->segs[c->depth++];
}

static void pop_seg(cmp *c)
{
	c->depth--;
	c->path.len = c->segs[c->depth].mark;
	if (c->path.ptr)
		c->path.ptr[c->path.len] = '\0';
}

static void push_key(cmp *c, const strata_node *key)
{
	const char *s = key->u.scalar.str;
	size_t len = key->u.scalar.len;
	pseg *sg = push_seg(c);
	int rc = 0;

	if (!sg)
		return;
	sg->type = SEG_KEY;
	sg->key = s;
	sg->len = len;
	if (key_plain(s, len)) {
		if (c->path.len)
			rc = strata_buf_putc(&c->path, '.');
		if (rc == 0)
			rc = strata_buf_put(&c->path, s, len);
	} else {
		rc = strata_buf_putc(&c->path, '[');
		if (rc == 0)
			rc = put_quoted(&c->path, s, len);
		if (rc == 0)
			rc = strata_buf_putc(&c->path, ']');
	}
	if (rc < 0)
		c->rc = STRATA_ENOMEM;
}

static void push_index(cmp *c, size_t i)
{
	pseg *sg = push_seg(c);

	if (!sg)
		return;
	sg->type = SEG_SEL;
	if (strata_buf_printf(&c->path, "[%zu]", i) < 0) {
		c->rc = STRATA_ENOMEM;
		return;
	}
	sg->off = sg->mark + 1;
	sg->len = c->path.len - sg->mark - 2;
}

/* "name=main" / "containerPort=80,protocol=TCP" into b. */
static int put_key_sel(strata_buf *b, const strata_schema *ls,
		       const strata_schema_key *k)
{
	int rc = 0;

	for (unsigned i = 0; i < ls->nkeys && rc == 0; i++) {
		if (i)
			rc = strata_buf_putc(b, ',');
		if (rc == 0)
			rc = strata_buf_printf(b, "%s=", ls->keys[i]);
		if (rc == 0) {
			if (sel_value_plain(k->v[i], k->len[i]))
				rc = strata_buf_put(b, k->v[i], k->len[i]);
			else
				rc = put_quoted(b, k->v[i], k->len[i]);
		}
	}
	return rc < 0 ? STRATA_ENOMEM : 0;
}

static void push_keysel(cmp *c, const strata_schema *ls,
			const strata_schema_key *k)
{
	pseg *sg = push_seg(c);

	if (!sg)
		return;
	sg->type = SEG_SEL;
	if (strata_buf_putc(&c->path, '[') < 0 ||
	    put_key_sel(&c->path, ls, k) < 0 ||
	    strata_buf_putc(&c->path, ']') < 0) {
		c->rc = STRATA_ENOMEM;
		return;
	}
	sg->off = sg->mark + 1;
	sg->len = c->path.len - sg->mark - 2;
}

static bool rule_matches(const cmp *c, const rule *r)
{
	if (r->n > c->depth)
		return false;
	if (r->kind) {
		const char *k = c->n ? c->n->kind : c->o->kind;
		if (!glob_match(r->kind, strlen(r->kind), k, strlen(k)))
			return false;
	}
	if (r->name) {
		size_t nl = strlen(r->name);
		bool any = false;
		if (c->o && glob_match(r->name, nl, c->o->name, strlen(c->o->name)))
			any = true;
		if (c->n && glob_match(r->name, nl, c->n->name, strlen(c->n->name)))
			any = true;
		if (c->norm_name &&
		    glob_match(r->name, nl, c->norm_name, c->norm_len))
			any = true;
		if (!any)
			return false;
	}
	for (size_t i = 0; i < r->n; i++) {
		const rseg *rs = &r->segs[i];
		const pseg *ps = &c->segs[i];
		if (rs->type == SEG_ANY)
			continue;
		if (rs->type != ps->type)
			return false;
		if (ps->type == SEG_KEY) {
			if (!glob_match(rs->text, rs->len, ps->key, ps->len))
				return false;
		} else if (!glob_match(rs->text, rs->len, c->path.ptr + ps->off, ps->len)) {
			return false;
		}
	}
	return true;
}

static bool is_secret_path(const cmp *c)
{
	const pseg *s0;

	if (!c->secret || c->depth == 0)
		return false;
	s0 = &c->segs[0];
	return s0->type == SEG_KEY &&
	       ((s0->len == 4 && !memcmp(s0->key, "data", 4)) ||
		(s0->len == 10 && !memcmp(s0->key, "stringData", 10)));
}

static strata_diff_change *add_change(cmp *c, int op, const strata_node *o,
				      const strata_node *n)
{
	strata_diff_change *ch;

	if (c->rc)
		return NULL;
	for (size_t i = 0; i < c->n_rules; i++)
		if (rule_matches(c, &c->rules[i])) {
			c->n_ignored++;
			return NULL;
		}
	if (c->n_ch == c->cap_ch) {
		size_t cap = c->cap_ch ? c->cap_ch * 2 : 16;
		strata_diff_change *a = realloc(c->ch, cap * sizeof(*a));
		if (!a) {
			c->rc = STRATA_ENOMEM;
			return NULL;
		}
		c->ch = a;
		c->cap_ch = cap;
	}
	ch = &c->ch[c->n_ch];
	memset(ch, 0, sizeof(*ch));
	ch->op = op;
	ch->old_value = o;
	ch->new_value = n;
	ch->secret = is_secret_path(c);
	/*
	 * Interned in the diff's arena like a shared key (strata_node_key): a
	 * few paths ("metadata.labels.env") change in thousands of resources,
	 * and one copy of each keeps a big comparison's result small.
	 */
	{
		const strata_node *k = strata_node_key(c->arena,
						       c->path.ptr ? c->path.ptr : "",
						       c->path.len, STRATA_STYLE_PLAIN,
						       NULL);
		ch->path = k ? k->u.scalar.str : NULL;
	}
	if (!ch->path) {
		c->rc = STRATA_ENOMEM;
		return NULL;
	}
	c->n_ch++;
	return ch;
}

static void cmp_node(cmp *c, const strata_node *o, const strata_node *n,
		     const strata_schema *sch);

/* An index of a map's keys, built only for big maps. */
typedef struct mapidx {
	const strata_node *map;
	htab t;
	bool built;
} mapidx;

#define MAP_INDEX_MIN 24

static int mapidx_init(mapidx *mi, const strata_node *map)
{
	mi->map = map;
	mi->built = false;
	if (map->u.map.n < MAP_INDEX_MIN)
		return 0;
	if (htab_init(&mi->t, map->u.map.n) < 0)
		return STRATA_ENOMEM;
	for (uint32_t i = 0; i < map->u.map.n; i++) {
		const strata_node *k = map->u.map.pairs[i].key;
		htab_put(&mi->t, strata_hash(k->u.scalar.str, k->u.scalar.len,
					     STRATA_HASH_SEED), i);
	}
	mi->built = true;
	return 0;
}

static const strata_node *mapidx_get(const mapidx *mi, const strata_node *key)
{
	const char *s = key->u.scalar.str;
	size_t len = key->u.scalar.len, pos = (size_t)-1, idx;
	uint64_t h;

	if (!mi->built)
		return strata_map_getn(mi->map, s, len);
	h = strata_hash(s, len, STRATA_HASH_SEED);
	while (htab_next(&mi->t, h, &pos, &idx)) {
		const strata_node *k = mi->map->u.map.pairs[idx].key;
		if (k->u.scalar.len == len && !memcmp(k->u.scalar.str, s, len))
			return mi->map->u.map.pairs[idx].value;
	}
	return NULL;
}

static void mapidx_free(mapidx *mi)
{
	if (mi->built)
		htab_free(&mi->t);
}

static void cmp_map(cmp *c, const strata_node *o, const strata_node *n,
		    const strata_schema *sch)
{
	mapidx io, in;

	if (mapidx_init(&io, o) < 0) {
		c->rc = STRATA_ENOMEM;
		return;
	}
	if (mapidx_init(&in, n) < 0) {
		mapidx_free(&io);
		c->rc = STRATA_ENOMEM;
		return;
	}
	for (uint32_t i = 0; i < o->u.map.n && !c->rc; i++) {
		const strata_pair *p = &o->u.map.pairs[i];
		const strata_node *nv = mapidx_get(&in, p->key);
		push_key(c, p->key);
		if (c->rc)
			break;
		if (nv)
			cmp_node(c, p->value, nv,
				 strata_schema_fieldn(sch, p->key->u.scalar.str,
						      p->key->u.scalar.len));
		else
			add_change(c, STRATA_CHANGE_REMOVE, p->value, NULL);
		pop_seg(c);
	}
	for (uint32_t i = 0; i < n->u.map.n && !c->rc; i++) {
		const strata_pair *p = &n->u.map.pairs[i];
		if (mapidx_get(&io, p->key))
			continue;
		push_key(c, p->key);
		if (c->rc)
			break;
		add_change(c, STRATA_CHANGE_ADD, NULL, p->value);
		pop_seg(c);
	}
	mapidx_free(&io);
	mapidx_free(&in);
}

/* Keys of every item; false when an item has none or two share one. */
static bool list_keys(const strata_schema *ls, const strata_node *seq,
		      strata_schema_key *keys, htab *t, int *rc)
{
	uint32_t n = seq->u.seq.n;

	if (htab_init(t, n) < 0) {
		*rc = STRATA_ENOMEM;
		return false;
	}
	for (uint32_t i = 0; i < n; i++) {
		uint64_t h;
		size_t pos = (size_t)-1, idx;
		if (!strata_schema_item_key(ls, seq->u.seq.items[i], &keys[i], NULL))
			goto fail;
		h = strata_schema_key_hash(ls, &keys[i]);
		while (htab_next(t, h, &pos, &idx))
			if (strata_schema_key_equal(ls, &keys[idx], &keys[i]))
				goto fail;
		htab_put(t, h, i);
	}
	return true;
fail:
	htab_free(t);
	return false;
}

static const char *key_text(cmp *c, const strata_schema *ls,
			    const strata_schema_key *k)
{
	strata_buf b = STRATA_BUF_INIT;
	const char *s = NULL;

	if (put_key_sel(&b, ls, k) == 0)
		s = strata_arena_strndup(c->arena, b.ptr ? b.ptr : "", b.len);
	strata_buf_free(&b);
	if (!s)
		c->rc = STRATA_ENOMEM;
	return s;
}

/* Compare a keyed list by merge key.  Returns false when the items cannot
 * be keyed (then the caller compares it as a plain list). */
static bool cmp_keyed(cmp *c, const strata_node *o, const strata_node *n,
		      const strata_schema *ls)
{
	uint32_t no = o->u.seq.n, nn = n->u.seq.n;
	strata_schema_key *ko = NULL, *kn = NULL;
	htab to = { 0 }, tn = { 0 };
	bool ok_o = false, ok_n = false, done = false;
	size_t *match = NULL;
	bool *matched = NULL;
	const strata_schema *item = strata_schema_item(ls);
	size_t last = 0, common = 0;
	bool reordered = false;

	ko = calloc(no ? no : 1, sizeof(*ko));
	kn = calloc(nn ? nn : 1, sizeof(*kn));
	match = calloc(nn ? nn : 1, sizeof(*match));
	matched = calloc(no ? no : 1, sizeof(*matched));
	if (!ko || !kn || !match || !matched) {
		c->rc = STRATA_ENOMEM;
		done = true;
		goto out;
	}
	ok_o = list_keys(ls, o, ko, &to, &c->rc);
	if (!ok_o)
		goto out;
	ok_n = list_keys(ls, n, kn, &tn, &c->rc);
	if (!ok_n)
		goto out;
	done = true;
	for (uint32_t j = 0; j < nn; j++) {
		uint64_t h = strata_schema_key_hash(ls, &kn[j]);
		size_t pos = (size_t)-1, idx;
		match[j] = (size_t)-1;
		while (htab_next(&to, h, &pos, &idx))
			if (strata_schema_key_equal(ls, &ko[idx], &kn[j])) {
				match[j] = idx;
				matched[idx] = true;
				break;
			}
		if (match[j] != (size_t)-1) {
			if (common && match[j] < last)
				reordered = true;
			last = match[j];
			common++;
		}
	}
	for (uint32_t i = 0; i < no && !c->rc; i++) {
		if (matched[i])
			continue;
		push_keysel(c, ls, &ko[i]);
		add_change(c, STRATA_CHANGE_REMOVE, o->u.seq.items[i], NULL);
		pop_seg(c);
	}
	for (uint32_t j = 0; j < nn && !c->rc; j++) {
		push_keysel(c, ls, &kn[j]);
		if (match[j] == (size_t)-1)
			add_change(c, STRATA_CHANGE_ADD, NULL, n->u.seq.items[j]);
		else
			cmp_node(c, o->u.seq.items[match[j]], n->u.seq.items[j], item);
		pop_seg(c);
	}
	if (reordered && !c->opts->ignore_order && !c->rc) {
		strata_diff_change *ch;
		const char **ok = strata_arena_alloc(c->arena, common * sizeof(*ok));
		const char **nk = strata_arena_alloc(c->arena, common * sizeof(*nk));
		strata_diff_order *ord = strata_arena_alloc(c->arena, sizeof(*ord));
		size_t a = 0, b = 0;
		if (!ok || !nk || !ord) {
			c->rc = STRATA_ENOMEM;
			goto out;
		}
		for (uint32_t i = 0; i < no; i++)
			if (matched[i])
				ok[a++] = key_text(c, ls, &ko[i]);
		for (uint32_t j = 0; j < nn; j++)
			if (match[j] != (size_t)-1)
				nk[b++] = key_text(c, ls, &kn[j]);
		ch = add_change(c, STRATA_CHANGE_ORDER, o, n);
		if (ch) {
			ord->old_keys = ok;
			ord->new_keys = nk;
			ord->n_keys = common;
			ch->order = ord;
		}
	}
out:
	if (ok_o)
		htab_free(&to);
	if (ok_n)
		htab_free(&tn);
	free(ko);
	free(kn);
	free(match);
	free(matched);
	return done;
}

typedef struct items_ctx {
	const strata_node *o, *n;
} items_ctx;

static bool items_eq(size_t i, size_t j, void *ctx)
{
	const items_ctx *x = ctx;

	return strata_node_equal(x->o->u.seq.items[i], x->n->u.seq.items[j]);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* A list without merge keys: Myers over item hashes. */
static void cmp_plain_list(cmp *c, const strata_node *o, const strata_node *n,
			   const strata_schema *item)
{
	uint32_t no = o->u.seq.n, nn = n->u.seq.n;
	uint64_t *ho = calloc(no + 1, sizeof(*ho)), *hn = calloc(nn + 1, sizeof(*hn));
	bool *del = calloc(no + 1, sizeof(*del)), *ins = calloc(nn + 1, sizeof(*ins));
	items_ctx ctx = { o, n };
	bool any = false;
	size_t i = 0, j = 0;

	if (!ho || !hn || !del || !ins) {
		c->rc = STRATA_ENOMEM;
		goto out;
	}
	for (uint32_t k = 0; k < no; k++)
		ho[k] = node_hash(o->u.seq.items[k]);
	for (uint32_t k = 0; k < nn; k++)
		hn[k] = node_hash(n->u.seq.items[k]);
	if (strata_diff_myers(ho, no, hn, nn, items_eq, &ctx, del, ins) < 0) {
		c->rc = STRATA_ENOMEM;
		goto out;
	}
	for (uint32_t k = 0; k < no; k++)
		any |= del[k];
	for (uint32_t k = 0; k < nn; k++)
		any |= ins[k];
	if (!any)
		goto out;
	if (no == nn) {
		/* the same items in another order? */
		qsort(ho, no, sizeof(*ho), cmp_u64);
		qsort(hn, nn, sizeof(*hn), cmp_u64);
		if (!memcmp(ho, hn, no * sizeof(*ho))) {
			if (!c->opts->ignore_order)
				add_change(c, STRATA_CHANGE_ORDER, o, n);
			goto out;
		}
	}
	while ((i < no || j < nn) && !c->rc) {
		size_t di, dj, paired;
		if (i < no && j < nn && !del[i] && !ins[j]) {
			i++;
			j++;
			continue;
		}
		di = i;
		dj = j;
		while (i < no && del[i])
			i++;
		while (j < nn && ins[j])
			j++;
		paired = (i - di) < (j - dj) ? (i - di) : (j - dj);
		for (size_t k = 0; k < paired && !c->rc; k++) {
			push_index(c, dj + k);
			cmp_node(c, o->u.seq.items[di + k], n->u.seq.items[dj + k], item);
			pop_seg(c);
		}
		for (size_t k = di + paired; k < i && !c->rc; k++) {
			push_index(c, k);
			add_change(c, STRATA_CHANGE_REMOVE, o->u.seq.items[k], NULL);
			pop_seg(c);
		}
		for (size_t k = dj + paired; k < j && !c->rc; k++) {
			push_index(c, k);
			add_change(c, STRATA_CHANGE_ADD, NULL, n->u.seq.items[k]);
			pop_seg(c);
		}
		if (i == di && j == dj) /* cannot happen; never loop forever */
			break;
	}
out:
	free(ho);
	free(hn);
	free(del);
	free(ins);
}

/* s without the side's name prefix/suffix, or the side's namespace as a
 * placeholder. */
static void env_norm(const strata_diff_input *side, const char **s, size_t *len)
{
	size_t pl = side->prefix ? strlen(side->prefix) : 0;
	size_t sl = side->suffix ? strlen(side->suffix) : 0;

	if (side->ns && side->ns[0] && *len == strlen(side->ns) &&
	    !memcmp(*s, side->ns, *len)) {
		*s = "\x01";
		*len = 1;
		return;
	}
	if (pl && *len > pl && !memcmp(*s, side->prefix, pl)) {
		*s += pl;
		*len -= pl;
	}
	if (sl && *len > sl && !memcmp(*s + *len - sl, side->suffix, sl))
		*len -= sl;
}

/*
 * Across environments, "dev-api" -> "api" or "shop-dev" -> "shop-prod" is
 * each environment's own naming (metadata, references the name transform
 * fixed up), not a difference worth a line: the resource header shows it.
 */
static bool env_equal(const cmp *c, const strata_node *o, const strata_node *n)
{
	const char *a = o->u.scalar.str, *b = n->u.scalar.str;
	size_t al = o->u.scalar.len, bl = n->u.scalar.len;

	if (strata_scalar_kind_of(o) != STRATA_SCALAR_STR ||
	    strata_scalar_kind_of(n) != STRATA_SCALAR_STR)
		return false;
	env_norm(&c->d->old_side, &a, &al);
	env_norm(&c->d->new_side, &b, &bl);
	return al == bl && !memcmp(a, b, al);
}

static void cmp_node(cmp *c, const strata_node *o, const strata_node *n,
		     const strata_schema *sch)
{
	/* one node: both sides share it with their base (copy-on-write) */
	if (c->rc || o == n)
		return;
	if (o->type != n->type) {
		add_change(c, STRATA_CHANGE_MODIFY, o, n);
		return;
	}
	switch (o->type) {
	case STRATA_NODE_SCALAR:
		if (!strata_node_equal(o, n) && !(c->xenv && env_equal(c, o, n)))
			add_change(c, STRATA_CHANGE_MODIFY, o, n);
		return;
	case STRATA_NODE_MAP:
		cmp_map(c, o, n, sch && sch->type == STRATA_SCHEMA_MAP ? sch : NULL);
		return;
	default:
		if (sch && sch->type != STRATA_SCHEMA_LIST)
			sch = NULL;
		if (sch && strata_schema_is_keyed(sch) && cmp_keyed(c, o, n, sch))
			return;
		if (c->rc)
			return;
		cmp_plain_list(c, o, n, strata_schema_item(sch));
		return;
	}
}

/* ---- pairing ---- */

typedef struct pkey {
	const char *ns, *name;  /* normalised; ns "\x01" = the side's own */
	size_t ns_len, name_len;
	bool raw;               /* normalising collided: raw identity */
	uint64_t h;
} pkey;

static uint64_t pkey_hash(const strata_resource *r, const pkey *k)
{
	uint64_t h = strata_hash(r->group, strlen(r->group) + 1, STRATA_HASH_SEED);

	h = strata_hash(r->kind, strlen(r->kind) + 1, h);
	h = strata_hash(k->ns, k->ns_len, h);
	h = strata_hash("", 1, h);
	h = strata_hash(k->name, k->name_len, h);
	return h + (k->raw ? 1 : 0);
}

static bool pkey_eq(const strata_resource *a, const pkey *ka,
		    const strata_resource *b, const pkey *kb)
{
	return ka->h == kb->h && ka->raw == kb->raw && ka->ns_len == kb->ns_len &&
	       ka->name_len == kb->name_len && !strcmp(a->group, b->group) &&
	       !strcmp(a->kind, b->kind) && !memcmp(ka->ns, kb->ns, ka->ns_len) &&
	       !memcmp(ka->name, kb->name, ka->name_len);
}

static void pkey_make(pkey *k, const strata_resource *r,
		      const strata_diff_input *side, bool exact, bool raw)
{
	const char *pre = side->prefix, *suf = side->suffix;
	size_t pl = pre ? strlen(pre) : 0, sl = suf ? strlen(suf) : 0;

	k->raw = raw;
	k->ns = r->ns;
	k->ns_len = strlen(r->ns);
	k->name = r->name;
	k->name_len = strlen(r->name);
	if (!exact && !raw) {
		if (side->ns && side->ns[0] && !strcmp(r->ns, side->ns)) {
			k->ns = "\x01";
			k->ns_len = 1;
		}
		if (pl && k->name_len > pl && !strncmp(k->name, pre, pl)) {
			k->name += pl;
			k->name_len -= pl;
		}
		if (sl && k->name_len > sl &&
		    !memcmp(k->name + k->name_len - sl, suf, sl))
			k->name_len -= sl;
	}
	k->h = pkey_hash(r, k);
}

/* Keys for one side; collisions fall back to the raw identity. */
static int side_keys(pkey *keys, htab *t, const strata_diff_input *side,
		     bool exact)
{
	if (htab_init(t, side->n) < 0)
		return STRATA_ENOMEM;
	for (size_t i = 0; i < side->n; i++) {
		const strata_resource *r = side->res[i];
		size_t pos = (size_t)-1, idx;
		bool dup = false;
		pkey_make(&keys[i], r, side, exact, false);
		while (htab_next(t, keys[i].h, &pos, &idx))
			if (pkey_eq(side->res[idx], &keys[idx], r, &keys[i])) {
				dup = true;
				break;
			}
		if (dup)
			pkey_make(&keys[i], r, side, exact, true);
		htab_put(t, keys[i].h, i);
	}
	return 0;
}

/*
 * The entries are sorted as their sequence numbers: the new resource's
 * index, or the new side's count plus the old one's (32 bits each, so the
 * sort's own copy stays small at 40,000 resources).  That is the order
 * the entries are found in, which breaks ties.
 */
typedef struct sortctx {
	const strata_diff_input *os, *ns;
	const pkey *ko, *kn;
} sortctx;

typedef struct sortent {
	const strata_resource *r; /* new, else old */
	const pkey *k;
	size_t seq;
} sortent;

static sortent sortent_of(const sortctx *x, uint32_t seq)
{
	sortent e;

	e.seq = seq;
	if (seq < x->ns->n) {
		e.r = x->ns->res[seq];
		e.k = &x->kn[seq];
	} else {
		e.r = x->os->res[seq - x->ns->n];
		e.k = &x->ko[seq - x->ns->n];
	}
	return e;
}

static int cmp_seq(const void *pa, const void *pb, void *ctx)
{
	sortent ea = sortent_of(ctx, *(const uint32_t *)pa);
	sortent eb = sortent_of(ctx, *(const uint32_t *)pb);
	const sortent *a = &ea, *b = &eb;
	int ra = strata_kind_rank(a->r->kind), rb = strata_kind_rank(b->r->kind);
	int c;
	size_t l;

	if (ra != rb)
		return ra < rb ? -1 : 1;
	if ((c = strcmp(a->r->group, b->r->group)))
		return c;
	if ((c = strcmp(a->r->kind, b->r->kind)))
		return c;
	l = a->k->ns_len < b->k->ns_len ? a->k->ns_len : b->k->ns_len;
	if ((c = memcmp(a->k->ns, b->k->ns, l)))
		return c;
	if (a->k->ns_len != b->k->ns_len)
		return a->k->ns_len < b->k->ns_len ? -1 : 1;
	l = a->k->name_len < b->k->name_len ? a->k->name_len : b->k->name_len;
	if ((c = memcmp(a->k->name, b->k->name, l)))
		return c;
	if (a->k->name_len != b->k->name_len)
		return a->k->name_len < b->k->name_len ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/*
 * A copy of n in a, scalars and keys too: a value a spilled side's
 * document held, kept by the result after the document is dropped.
 * Untagged scalars are interned in a like shared keys (strata_node_key):
 * "env-09" changes in every resource, and is kept once.
 */
static strata_node *copy_deep(strata_arena *a, const strata_node *n)
{
	strata_node *c;

	if (n->type == STRATA_NODE_SCALAR && !strata_node_tag(n))
		return strata_node_key(a, n->u.scalar.str, n->u.scalar.len,
				       (strata_style)n->style, NULL);
	if (!(c = strata_arena_alloc(a, sizeof(*c))))
		return NULL;
	*c = *n;
	c->flags &= (uint16_t)~STRATA_NODE_SHARED;
	switch (n->type) {
	case STRATA_NODE_SCALAR: {
		char *t = strata_arena_alloc(a, n->u.scalar.len + 1);
		if (!t)
			return NULL;
		memcpy(t, n->u.scalar.str, n->u.scalar.len);
		t[n->u.scalar.len] = '\0';
		c->u.scalar.str = t;
		c->flags &= (uint16_t)~STRATA_NODE_EMIT_MEMO;
		return c;
	}
	case STRATA_NODE_MAP:
		c->u.map.cap = n->u.map.n;
		c->u.map.pairs = strata_arena_alloc(a, (n->u.map.n + 1) * sizeof(strata_pair));
		if (!c->u.map.pairs)
			return NULL;
		for (uint32_t i = 0; i < n->u.map.n; i++) {
			c->u.map.pairs[i].key = copy_deep(a, n->u.map.pairs[i].key);
			c->u.map.pairs[i].value = copy_deep(a, n->u.map.pairs[i].value);
			if (!c->u.map.pairs[i].key || !c->u.map.pairs[i].value)
				return NULL;
		}
		return c;
	default:
		c->u.seq.cap = n->u.seq.n;
		c->u.seq.items = strata_arena_alloc(a, (n->u.seq.n + 1) * sizeof(strata_node *));
		if (!c->u.seq.items)
			return NULL;
		for (uint32_t i = 0; i < n->u.seq.n; i++)
			if (!(c->u.seq.items[i] = copy_deep(a, n->u.seq.items[i])))
				return NULL;
		return c;
	}
}

/* The documents of a pair, parsed again into *scratch (made here) for a
 * spilled side. */
static int pair_roots(const strata_diff_input *os, const strata_resource *o,
		      const strata_diff_input *ns, const strata_resource *n,
		      strata_arena **scratch, const strata_node **oroot,
		      const strata_node **nroot, strata_error *err)
{
	strata_node *r;
	int rc;

	*oroot = o->root;
	*nroot = n->root;
	if (!*oroot || !*nroot) {
		*scratch = strata_arena_new();
		if (!*scratch)
			return STRATA_ENOMEM;
	}
	if ((!*oroot && !os->load) || (!*nroot && !ns->load))
		return strata_error_set(err, STRATA_EUSAGE, NULL, 0, 0,
					"a resource without its document");
	if (!*oroot) {
		if ((rc = os->load(os->load_ctx, o, *scratch, &r, err)) < 0)
			return rc;
		*oroot = r;
	}
	if (!*nroot) {
		if ((rc = ns->load(ns->load_ctx, n, *scratch, &r, err)) < 0)
			return rc;
		*nroot = r;
	}
	return 0;
}

/*
 * Whether two documents both sides keep out of memory are known to be
 * equal without loading them: by the sides' same() (the same stored
 * bytes) when they share one, else by their text.  tb[0..1] are buffers
 * reused from pair to pair.
 */
static int known_same(const strata_diff_input *os, const strata_resource *o,
		      const strata_diff_input *ns, const strata_resource *n,
		      strata_buf tb[2], bool *same, strata_error *err)
{
	int rc = 0;

	*same = false;
	if (os->same && os->same == ns->same) {
		rc = os->same(os->load_ctx, o, ns->load_ctx, n, tb, same);
	} else if (os->text && ns->text) {
		tb[0].len = tb[1].len = 0;
		if ((rc = os->text(os->load_ctx, o, &tb[0])) == 0 &&
		    (rc = ns->text(ns->load_ctx, n, &tb[1])) == 0)
			*same = tb[0].len == tb[1].len &&
				(!tb[0].len || !memcmp(tb[0].ptr, tb[1].ptr, tb[0].len));
	}
	if (rc < 0)
		return strata_error_set(err, rc, NULL, 0, 0,
					"cannot read back a diff side's documents%s",
					rc == STRATA_ENOMEM ? ": out of memory" : "");
	return 0;
}

/* The changes' values from a document parsed again, copied into the
 * result before the document goes. */
static int keep_values(strata_arena *a, strata_diff_change *ch, size_t n,
		       bool old_parsed, bool new_parsed)
{
	for (size_t i = 0; i < n; i++) {
		if (old_parsed && ch[i].old_value &&
		    !(ch[i].old_value = copy_deep(a, ch[i].old_value)))
			return STRATA_ENOMEM;
		if (new_parsed && ch[i].new_value &&
		    !(ch[i].new_value = copy_deep(a, ch[i].new_value)))
			return STRATA_ENOMEM;
	}
	return 0;
}

static char *adup(strata_arena *a, const char *s)
{
	return s ? strata_arena_strdup(a, s) : NULL;
}

static int copy_side(strata_arena *a, strata_diff_input *dst,
		     const strata_diff_input *src)
{
	*dst = *src;
	dst->label = adup(a, src->label ? src->label : "");
	dst->env = adup(a, src->env);
	dst->revision = adup(a, src->revision);
	dst->ns = adup(a, src->ns);
	dst->prefix = adup(a, src->prefix);
	dst->suffix = adup(a, src->suffix);
	dst->branch = adup(a, src->branch);
	if (!dst->label || (src->env && !dst->env) ||
	    (src->revision && !dst->revision) || (src->ns && !dst->ns) ||
	    (src->prefix && !dst->prefix) || (src->suffix && !dst->suffix) ||
	    (src->branch && !dst->branch))
		return STRATA_ENOMEM;
	return 0;
}

/*
 * The comparison of the paired resources runs on up to opts->jobs threads
 * (pool.h), each taking PAIR_CHUNK pairs at a time from a shared counter
 * with a cmp of its own and an arena for what its results point to (the
 * diff's own for the caller's thread; the others' are adopted by it at
 * the end).  A pair's result goes to its own slot; the entries are then
 * made in the new side's order, as one thread would make them.
 */
#define PAIR_CHUNK 16
#define MAX_CMP_JOBS 16

typedef struct pairres {
	size_t old_idx;                    /* the old side's resource */
	const strata_diff_change *changes; /* NULL / 0 when unchanged */
	size_t n_changes, n_ignored;
} pairres;

typedef struct cworker {
	cmp c;
	strata_buf tbuf[2];
	strata_error err; /* its failure, for the pair fail_at */
	size_t fail_at;   /* SIZE_MAX: none */
	int rc;
} cworker;

typedef struct crun {
	const strata_diff_input *os, *ns;
	const size_t *pair_new; /* pair i compares new resource pair_new[i] */
	const pkey *kn;
	pairres *res;           /* one slot per pair */
	size_t n_pairs;
	cworker *w;
	atomic_size_t next;     /* the first pair of the next chunk */
	atomic_size_t fail_min; /* the first pair that failed, SIZE_MAX: none */
} crun;

/* What a worker holds for its comparisons (not its results). */
static void cmp_release(cworker *w)
{
	free(w->c.ch);
	free(w->c.segs);
	strata_buf_free(&w->c.path);
	strata_buf_free(&w->tbuf[0]);
	strata_buf_free(&w->tbuf[1]);
	w->c.ch = NULL;
	w->c.segs = NULL;
	w->c.n_ch = w->c.cap_ch = w->c.segcap = 0;
}

/* Compare the pair i into its slot, on worker w's cmp and arena. */
static int compare_pair(crun *cr, cworker *w, size_t i)
{
	cmp *c = &w->c;
	pairres *pr = &cr->res[i];
	size_t j = cr->pair_new[i];
	const strata_resource *nr = cr->ns->res[j];
	const strata_node *oroot, *nroot;
	strata_arena *scratch = NULL;
	int rc;

	c->o = cr->os->res[pr->old_idx];
	c->n = nr;
	/* both kept out of memory: the same bytes, or text, are the same document */
	if (!c->o->root && !nr->root) {
		bool same = false;
		if ((rc = known_same(cr->os, c->o, cr->ns, nr, w->tbuf, &same, &w->err)) < 0)
			return rc;
		if (same)
			return 0;
	}
	c->norm_name = cr->kn[j].name;
	c->norm_len = cr->kn[j].name_len;
	c->secret = !strcmp(nr->kind, "Secret") && !nr->group[0];
	c->n_ch = 0;
	c->n_ignored = 0;
	c->depth = 0;
	c->path.len = 0;
	rc = pair_roots(cr->os, c->o, cr->ns, nr, &scratch, &oroot, &nroot, &w->err);
	if (rc == 0) {
		cmp_node(c, oroot, nroot, strata_schema_for(nr->group, nr->kind));
		rc = c->rc;
	}
	if (rc == 0 && scratch)
		rc = keep_values(c->arena, c->ch, c->n_ch, oroot != c->o->root,
				 nroot != nr->root);
	strata_arena_free(scratch);
	if (rc < 0)
		return rc;
	pr->n_ignored = c->n_ignored;
	if (!c->n_ch)
		return 0;
	pr->changes = strata_arena_alloc(c->arena, c->n_ch * sizeof(*c->ch));
	if (!pr->changes)
		return STRATA_ENOMEM;
	memcpy((void *)pr->changes, c->ch, c->n_ch * sizeof(*c->ch));
	pr->n_changes = c->n_ch;
	return 0;
}

/* strata_pool_step's view: chunks from the shared counter until none.  A
 * pair after one that failed is skipped, one before it never is, so the
 * failure reported is the first in order, however the threads ran. */
static void compare_run(void *ctx, unsigned k)
{
	crun *cr = ctx;
	cworker *w = &cr->w[k];

	for (;;) {
		size_t i = atomic_fetch_add(&cr->next, PAIR_CHUNK);
		size_t end = i + PAIR_CHUNK < cr->n_pairs ? i + PAIR_CHUNK : cr->n_pairs;

		if (i >= cr->n_pairs)
			return;
		for (; i < end; i++) {
			size_t m = atomic_load(&cr->fail_min);
			int rc;

			if (i >= m)
				return;
			if ((rc = compare_pair(cr, w, i)) < 0) {
				w->rc = rc;
				w->fail_at = i;
				while (i < m && !atomic_compare_exchange_weak(&cr->fail_min, &m, i))
					;
				return;
			}
		}
	}
}

int strata_diff_compute(strata_diff **out, const strata_diff_input *old_side,
			const strata_diff_input *new_side,
			const strata_diff_opts *opts, strata_error *err)
{
	static const strata_diff_opts no_opts;
	strata_diff *d = NULL;
	pkey *ko = NULL, *kn = NULL;
	htab to = { 0 }, tn = { 0 };
	bool have_to = false, have_tn = false;
	bool *paired = NULL;
	size_t *pair_of = NULL, *pair_new = NULL; /* new resource -> pair + 1 */
	pairres *res = NULL;
	size_t n_pairs = 0;
	uint32_t *ents = NULL; /* sequence numbers (sortctx) */
	size_t n_ents = 0;
	cworker w[MAX_CMP_JOBS];
	unsigned jobs = opts && opts->jobs > 1 ? opts->jobs : 1;
	crun cr;
	rule *rules = NULL;
	size_t n_rules = 0;
	int rc = 0;

	*out = NULL;
	if (!opts)
		opts = &no_opts;
	if (jobs > MAX_CMP_JOBS)
		jobs = MAX_CMP_JOBS;
	memset(w, 0, sizeof(w));
	if (opts->n_ignore) {
		rules = calloc(opts->n_ignore, sizeof(*rules));
		if (!rules)
			return STRATA_ENOMEM;
		for (size_t i = 0; i < opts->n_ignore; i++) {
			rc = parse_rule(&rules[n_rules], opts->ignore[i], err);
			n_rules++;
			if (rc < 0)
				goto done;
		}
	}
	d = calloc(1, sizeof(*d));
	if (!d || !(d->arena = strata_arena_new())) {
		rc = STRATA_ENOMEM;
		goto done;
	}
	if ((rc = copy_side(d->arena, &d->old_side, old_side)) < 0 ||
	    (rc = copy_side(d->arena, &d->new_side, new_side)) < 0)
		goto done;
	ko = calloc(old_side->n + 1, sizeof(*ko));
	kn = calloc(new_side->n + 1, sizeof(*kn));
	paired = calloc(old_side->n + 1, sizeof(*paired));
	pair_of = calloc(new_side->n + 1, sizeof(*pair_of));
	pair_new = calloc(new_side->n + 1, sizeof(*pair_new));
	res = calloc(new_side->n + 1, sizeof(*res));
	if (!ko || !kn || !paired || !pair_of || !pair_new || !res) {
		rc = STRATA_ENOMEM;
		goto done;
	}
	if ((rc = side_keys(ko, &to, old_side, opts->exact)) < 0)
		goto done;
	have_to = true;
	if ((rc = side_keys(kn, &tn, new_side, opts->exact)) < 0)
		goto done;
	have_tn = true;

	/* pair the resources (new side's order: the first free match) */
	for (size_t j = 0; j < new_side->n; j++) {
		size_t pos = (size_t)-1, idx;

		while (htab_next(&to, kn[j].h, &pos, &idx))
			if (!paired[idx] &&
			    pkey_eq(old_side->res[idx], &ko[idx], new_side->res[j], &kn[j])) {
				paired[idx] = true;
				res[n_pairs].old_idx = idx;
				pair_new[n_pairs] = j;
				pair_of[j] = ++n_pairs;
				break;
			}
	}

	/* compare the pairs */
	if (jobs > n_pairs / PAIR_CHUNK)
		jobs = n_pairs / PAIR_CHUNK > 1 ? (unsigned)(n_pairs / PAIR_CHUNK) : 1;
	for (unsigned k = 0; k < jobs; k++) {
		cmp *c = &w[k].c;
		c->d = d;
		c->opts = opts;
		c->rules = rules;
		c->n_rules = n_rules;
		c->xenv = !opts->exact && old_side->env && new_side->env &&
			  strcmp(old_side->env, new_side->env) != 0;
		c->arena = k ? strata_arena_new() : d->arena;
		w[k].tbuf[0] = (strata_buf)STRATA_BUF_INIT;
		w[k].tbuf[1] = (strata_buf)STRATA_BUF_INIT;
		strata_error_clear(&w[k].err);
		w[k].fail_at = SIZE_MAX;
		if (!c->arena) {
			rc = STRATA_ENOMEM;
			goto done;
		}
	}
	memset(&cr, 0, sizeof(cr));
	cr.os = old_side;
	cr.ns = new_side;
	cr.pair_new = pair_new;
	cr.kn = kn;
	cr.res = res;
	cr.n_pairs = n_pairs;
	cr.w = w;
	atomic_init(&cr.next, 0);
	atomic_init(&cr.fail_min, SIZE_MAX);
	strata_pool_step(jobs, true, compare_run, &cr);
	if (atomic_load(&cr.fail_min) != SIZE_MAX) {
		for (unsigned k = 0; k < jobs; k++)
			if (w[k].fail_at == atomic_load(&cr.fail_min)) {
				rc = w[k].rc;
				if (w[k].err.code && err)
					*err = w[k].err;
			}
		goto done;
	}

	/* the entries: sorted, then made (ties in the new side's order, then
	 * the removed in the old side's) */
	for (unsigned k = 0; k < jobs; k++)
		cmp_release(&w[k]);
	free(pair_new);
	pair_new = NULL;
	for (size_t j = 0; j < new_side->n; j++)
		if (!pair_of[j] || res[pair_of[j] - 1].n_changes)
			n_ents++;
	for (size_t i = 0; i < old_side->n; i++)
		n_ents += !paired[i];
	if (new_side->n + old_side->n > UINT32_MAX) {
		rc = STRATA_ENOMEM;
		goto done;
	}
	ents = malloc((n_ents + 1) * sizeof(*ents));
	d->entries = strata_arena_alloc(d->arena, (n_ents + 1) * sizeof(*d->entries));
	if (!ents || !d->entries) {
		rc = STRATA_ENOMEM;
		goto done;
	}
	n_ents = 0;
	for (size_t j = 0; j < new_side->n; j++)
		if (!pair_of[j] || res[pair_of[j] - 1].n_changes)
			ents[n_ents++] = (uint32_t)j;
	for (size_t i = 0; i < old_side->n; i++)
		if (!paired[i])
			ents[n_ents++] = (uint32_t)(new_side->n + i);
	{
		sortctx x = { old_side, new_side, ko, kn };
		qsort_r(ents, n_ents, sizeof(*ents), cmp_seq, &x);
	}
	for (size_t j = 0; j < new_side->n; j++) {
		const pairres *pr = pair_of[j] ? &res[pair_of[j] - 1] : NULL;
		if (!pr)
			d->added++;
		else if (pr->n_changes)
			d->changed++;
		else
			d->unchanged++;
		if (pr)
			d->ignored += pr->n_ignored;
	}
	for (size_t k = 0; k < n_ents; k++) {
		strata_diff_entry *e = &d->entries[k];
		size_t seq = ents[k];
		const pairres *pr;

		memset(e, 0, sizeof(*e));
		if (seq >= new_side->n) {
			e->status = STRATA_DIFF_REMOVED;
			e->old_res = old_side->res[seq - new_side->n];
			d->removed++;
			continue;
		}
		e->new_res = new_side->res[seq];
		if (!pair_of[seq]) {
			e->status = STRATA_DIFF_ADDED;
			continue;
		}
		pr = &res[pair_of[seq] - 1];
		e->status = STRATA_DIFF_CHANGED;
		e->old_res = old_side->res[pr->old_idx];
		e->n_ignored = pr->n_ignored;
		e->n_changes = pr->n_changes;
		e->changes = pr->changes;
	}
	d->n = n_ents;
	*out = d;
	d = NULL;
done:
	if (rc == STRATA_ENOMEM)
		strata_error_set(err, rc, NULL, 0, 0, "out of memory");
	if (have_to)
		htab_free(&to);
	if (have_tn)
		htab_free(&tn);
	for (unsigned k = 0; k < MAX_CMP_JOBS; k++) {
		cmp *c = &w[k].c;
		/* a worker's results live on in the diff's arena */
		if (k && c->arena) {
			if (*out)
				strata_arena_adopt((*out)->arena, c->arena);
			else
				strata_arena_free(c->arena);
		}
		cmp_release(&w[k]);
	}
	free(ko);
	free(kn);
	free(paired);
	free(pair_of);
	free(pair_new);
	free(res);
	free(ents);
	rules_free(rules, n_rules);
	strata_diff_free(d);
	return rc;
}

void strata_diff_free(strata_diff *d)
{
	if (!d)
		return;
	strata_arena_free(d->arena);
	free(d);
}

bool strata_diff_different(const strata_diff *d)
{
	return d && (d->added || d->removed || d->changed);
}
