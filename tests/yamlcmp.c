/*
 * yamlcmp.c - compare two multi-document Kubernetes YAML streams by meaning.
 *
 * usage: yamlcmp [-s SKIPFILE] [-q] LEFT RIGHT
 *
 * Used by tests/kustomize_diff.sh to hold `strata render` against
 * `kubectl kustomize`, which prints the same data differently: keys sorted,
 * patched list items moved to the front, scalars re-quoted.  So documents
 * are paired by identity (API group, kind, namespace, name), map key order
 * is ignored, lists with a merge key (schema.h, the table strata merges
 * with) are paired by key, set lists (finalizers) compare as sets, other
 * lists in order, and scalars by what a reader gets: same type (null, bool,
 * int, float, string) and same value, so `true`/`yes`, `0x1F`/`31`, `1.0`/
 * `1.00` and 'x'/"x"/x are equal.
 *
 * Each difference is printed as one line:
 *     <identity> <path>: <left> -> <right>
 * e.g.  apps/Deployment shop/web .spec.template.spec.containers[name=web].image: a:1 -> a:2
 * A document on one side only prints "<identity>: <absent> -> <document>".
 *
 * SKIPFILE lists known divergences, one per line: a kind glob and a path
 * glob (fnmatch, '*' crosses dots), then an optional comment:
 *     CronJob .spec.jobTemplate.metadata*   kustomize adds ...
 * A difference whose kind and path match is not reported.  Lines starting
 * with '#' and blank lines are ignored.
 *
 * Exit status: 0 same, 1 different, 2 trouble (unreadable or invalid input).
 */
#include "strata.h"
#include "schema.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct skip_rule {
	char *kind;
	char *path;
} skip_rule;

typedef struct cmp_ctx {
	strata_arena *arena;
	skip_rule *skips;
	size_t n_skips;
	const char *label;   /* identity of the current document pair */
	const char *kind;
	size_t n_diffs;
	size_t n_skipped;
	bool quiet;
} cmp_ctx;

typedef struct side {
	strata_resource *res;
	size_t n;
	bool *used;
} side;

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	strata_buf b = STRATA_BUF_INIT;
	char chunk[65536];
	size_t got;

	if (!f) {
		fprintf(stderr, "yamlcmp: cannot open '%s': %s\n", path, strerror(errno));
		return NULL;
	}
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (strata_buf_put(&b, chunk, got) < 0) {
			fclose(f);
			strata_buf_free(&b);
			return NULL;
		}
	}
	fclose(f);
	if (!b.ptr) { /* empty file */
		*len = 0;
		return strdup("");
	}
	return strata_buf_detach(&b, len);
}

static int load_side(side *out, strata_arena *a, const char *path)
{
	strata_yaml_doc *docs = NULL;
	strata_error err;
	size_t n = 0, len = 0;
	char *buf = read_all(path, &len);
	int rc;

	strata_error_clear(&err);
	if (!buf)
		return -1;
	rc = strata_yaml_load(&docs, &n, a, path, buf, len, NULL, &err);
	free(buf);
	if (rc < 0)
		goto fail;
	out->res = strata_arena_alloc(a, (n ? n : 1) * sizeof(*out->res));
	out->used = strata_arena_alloc(a, (n ? n : 1) * sizeof(*out->used));
	if (!out->res || !out->used)
		return -1;
	out->n = n;
	for (size_t i = 0; i < n; i++) {
		rc = strata_resource_init(&out->res[i], a, docs[i].root, path,
					  docs[i].line, docs[i].col, &err);
		if (rc < 0)
			goto fail;
	}
	return 0;
fail:
	{
		char line[2200];
		strata_error_format(&err, line, sizeof(line));
		fprintf(stderr, "yamlcmp: %s\n", line);
	}
	return -1;
}

static int load_skips(cmp_ctx *c, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	size_t cap = 0;

	if (!f) {
		fprintf(stderr, "yamlcmp: cannot open '%s': %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL;
		char *kind = strtok_r(line, " \t\r\n", &save);
		char *p = kind ? strtok_r(NULL, " \t\r\n", &save) : NULL;
		if (!kind || kind[0] == '#')
			continue;
		if (!p) {
			fprintf(stderr, "yamlcmp: %s: a rule needs a kind and a path: '%s'\n",
				path, kind);
			fclose(f);
			return -1;
		}
		if (c->n_skips == cap) {
			/* arena memory cannot grow: copy the rules to a bigger array */
			skip_rule *bigger;
			cap = cap ? cap * 2 : 16;
			bigger = strata_arena_alloc(c->arena, cap * sizeof(*bigger));
			if (!bigger) {
				fclose(f);
				return -1;
			}
			if (c->n_skips)
				memcpy(bigger, c->skips, c->n_skips * sizeof(*bigger));
			c->skips = bigger;
		}
		c->skips[c->n_skips].kind = strata_arena_strdup(c->arena, kind);
		c->skips[c->n_skips].path = strata_arena_strdup(c->arena, p);
		c->n_skips++;
	}
	fclose(f);
	return 0;
}

/* A short inline picture of a node for the report. */
static const char *show(cmp_ctx *c, const strata_node *n)
{
	strata_buf b = STRATA_BUF_INIT;
	const char *s;

	if (!n)
		return "<absent>";
	if (n->type == STRATA_NODE_MAP)
		return strata_arena_printf(c->arena, "{map of %u}", n->u.map.n);
	if (n->type == STRATA_NODE_SEQ)
		return strata_arena_printf(c->arena, "[list of %u]", n->u.seq.n);
	if (strata_yaml_emit_inline(&b, n) < 0 || !b.ptr) {
		strata_buf_free(&b);
		return "?";
	}
	s = strata_arena_strndup(c->arena, b.ptr, b.len);
	strata_buf_free(&b);
	return s ? s : "?";
}

static void report(cmp_ctx *c, const char *path, const strata_node *l,
		   const strata_node *r)
{
	for (size_t i = 0; i < c->n_skips; i++) {
		if (fnmatch(c->skips[i].kind, c->kind, 0) == 0 &&
		    fnmatch(c->skips[i].path, path, 0) == 0) {
			c->n_skipped++;
			return;
		}
	}
	c->n_diffs++;
	if (!c->quiet)
		printf("%s%s%s: %s -> %s\n", c->label, path[0] ? " " : "", path,
		       show(c, l), show(c, r));
}

/* Canonical value of a scalar for comparison: kind plus normalised text. */
static const char *canon(cmp_ctx *c, const strata_node *n, strata_scalar_kind *kind)
{
	const char *s = n->u.scalar.str;

	*kind = strata_scalar_kind_of(n);
	switch (*kind) {
	case STRATA_SCALAR_NULL:
		return "";
	case STRATA_SCALAR_BOOL:
		return (!strcasecmp(s, "true") || !strcasecmp(s, "yes") ||
			!strcasecmp(s, "y") || !strcasecmp(s, "on")) ? "true" : "false";
	case STRATA_SCALAR_INT: {
		char *end;
		long long v;
		errno = 0;
		v = strtoll(s, &end, 0);
		if (errno || *end) /* too large or unusual: compare as written */
			return s;
		if (s[0] == '0' && s[1] >= '0' && s[1] <= '7') /* 0777: octal */
			v = strtoll(s, NULL, 8);
		return strata_arena_printf(c->arena, "%lld", v);
	}
	case STRATA_SCALAR_FLOAT: {
		char *end;
		double v = strtod(s, &end);
		if (*end)
			return s;
		return strata_arena_printf(c->arena, "%.17g", v);
	}
	default:
		return s;
	}
}

static bool scalar_equal(cmp_ctx *c, const strata_node *l, const strata_node *r)
{
	strata_scalar_kind kl, kr;
	const char *tl = canon(c, l, &kl), *tr = canon(c, r, &kr);

	return kl == kr && tl && tr && strcmp(tl, tr) == 0;
}

static void cmp_node(cmp_ctx *c, const char *path, const strata_node *l,
		     const strata_node *r, const strata_schema *schema);

static const char *key_segment(cmp_ctx *c, const strata_schema *ls,
			       const strata_schema_key *k)
{
	strata_buf b = STRATA_BUF_INIT;
	const char *s;

	strata_buf_putc(&b, '[');
	for (unsigned i = 0; i < ls->nkeys; i++)
		strata_buf_printf(&b, "%s%s=%.*s", i ? "," : "", ls->keys[i],
				  (int)k->len[i], k->v[i]);
	strata_buf_putc(&b, ']');
	s = strata_arena_strndup(c->arena, b.ptr ? b.ptr : "", b.len);
	strata_buf_free(&b);
	return s;
}

static void cmp_keyed(cmp_ctx *c, const char *path, const strata_node *l,
		      const strata_node *r, const strata_schema *ls)
{
	const strata_schema *item = strata_schema_item(ls);
	bool *used = strata_arena_alloc(c->arena, (r->u.seq.n ? r->u.seq.n : 1) * sizeof(bool));
	strata_schema_key kl, kr;

	for (uint32_t i = 0; i < l->u.seq.n; i++) {
		const strata_node *li = l->u.seq.items[i], *match = NULL;
		const char *seg;
		if (!strata_schema_item_key(ls, li, &kl, NULL)) {
			/* no key: fall back to the position */
			cmp_node(c, strata_arena_printf(c->arena, "%s[%u]", path, i), li,
				 i < r->u.seq.n ? r->u.seq.items[i] : NULL, item);
			if (i < r->u.seq.n)
				used[i] = true;
			continue;
		}
		for (uint32_t j = 0; j < r->u.seq.n; j++) {
			if (used[j] || !strata_schema_item_key(ls, r->u.seq.items[j], &kr, NULL))
				continue;
			if (strata_schema_key_equal(ls, &kl, &kr)) {
				used[j] = true;
				match = r->u.seq.items[j];
				break;
			}
		}
		seg = key_segment(c, ls, &kl);
		cmp_node(c, strata_arena_printf(c->arena, "%s%s", path, seg), li, match, item);
	}
	for (uint32_t j = 0; j < r->u.seq.n; j++) {
		const char *seg;
		if (used[j])
			continue;
		if (strata_schema_item_key(ls, r->u.seq.items[j], &kr, NULL))
			seg = key_segment(c, ls, &kr);
		else
			seg = strata_arena_printf(c->arena, "[%u]", j);
		report(c, strata_arena_printf(c->arena, "%s%s", path, seg), NULL,
		       r->u.seq.items[j]);
	}
}

static void cmp_set(cmp_ctx *c, const char *path, const strata_node *l,
		    const strata_node *r)
{
	for (int pass = 0; pass < 2; pass++) {
		const strata_node *a = pass ? r : l, *b = pass ? l : r;
		for (uint32_t i = 0; i < a->u.seq.n; i++) {
			bool found = false;
			for (uint32_t j = 0; j < b->u.seq.n && !found; j++)
				found = strata_node_equal(a->u.seq.items[i], b->u.seq.items[j]);
			if (!found)
				report(c, strata_arena_printf(c->arena, "%s[%s]", path,
							      show(c, a->u.seq.items[i])),
				       pass ? NULL : a->u.seq.items[i],
				       pass ? a->u.seq.items[i] : NULL);
		}
	}
}

static void cmp_node(cmp_ctx *c, const char *path, const strata_node *l,
		     const strata_node *r, const strata_schema *schema)
{
	if (!l || !r || l->type != r->type) {
		if (l || r)
			report(c, path, l, r);
		return;
	}
	switch (l->type) {
	case STRATA_NODE_SCALAR:
		if (!scalar_equal(c, l, r))
			report(c, path, l, r);
		break;
	case STRATA_NODE_MAP:
		for (uint32_t i = 0; i < l->u.map.n; i++) {
			const strata_pair *p = &l->u.map.pairs[i];
			const char *k = p->key->u.scalar.str;
			cmp_node(c, strata_arena_printf(c->arena, "%s.%s", path, k), p->value,
				 strata_map_getn(r, k, p->key->u.scalar.len),
				 strata_schema_fieldn(schema, k, p->key->u.scalar.len));
		}
		for (uint32_t i = 0; i < r->u.map.n; i++) {
			const strata_pair *p = &r->u.map.pairs[i];
			if (strata_map_getn(l, p->key->u.scalar.str, p->key->u.scalar.len))
				continue;
			report(c, strata_arena_printf(c->arena, "%s.%s", path, p->key->u.scalar.str),
			       NULL, p->value);
		}
		break;
	case STRATA_NODE_SEQ:
		if (schema && strata_schema_is_keyed(schema)) {
			cmp_keyed(c, path, l, r, schema);
		} else if (schema && strata_schema_is_set(schema)) {
			cmp_set(c, path, l, r);
		} else {
			uint32_t n = l->u.seq.n > r->u.seq.n ? l->u.seq.n : r->u.seq.n;
			for (uint32_t i = 0; i < n; i++)
				cmp_node(c, strata_arena_printf(c->arena, "%s[%u]", path, i),
					 i < l->u.seq.n ? l->u.seq.items[i] : NULL,
					 i < r->u.seq.n ? r->u.seq.items[i] : NULL,
					 strata_schema_item(schema));
		}
		break;
	}
}

static bool same_identity(const strata_resource *a, const strata_resource *b)
{
	return !strcmp(a->group, b->group) && !strcmp(a->kind, b->kind) &&
	       !strcmp(a->ns, b->ns) && !strcmp(a->name, b->name);
}

static void usage(void)
{
	fprintf(stderr, "usage: yamlcmp [-q] [-s SKIPFILE] LEFT RIGHT\n");
}

int main(int argc, char **argv)
{
	cmp_ctx c = { 0 };
	side left = { 0 }, right = { 0 };
	const char *skipfile = NULL;
	int i = 1, ret = 2;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-s") && i + 1 < argc)
			skipfile = argv[++i];
		else if (!strcmp(argv[i], "-q"))
			c.quiet = true;
		else {
			usage();
			return 2;
		}
	}
	if (argc - i != 2) {
		usage();
		return 2;
	}
	c.arena = strata_arena_new();
	if (!c.arena)
		return 2;
	if (skipfile && load_skips(&c, skipfile) < 0)
		goto done;
	if (load_side(&left, c.arena, argv[i]) < 0 ||
	    load_side(&right, c.arena, argv[i + 1]) < 0)
		goto done;

	for (size_t a = 0; a < left.n; a++) {
		strata_resource *l = &left.res[a], *r = NULL;
		for (size_t b = 0; b < right.n && !r; b++) {
			if (!right.used[b] && same_identity(l, &right.res[b])) {
				right.used[b] = true;
				r = &right.res[b];
			}
		}
		c.label = strata_resource_label(c.arena, l);
		c.kind = l->kind;
		if (r)
			cmp_node(&c, "", l->root, r->root, strata_schema_for(l->group, l->kind));
		else
			report(&c, "", l->root, NULL);
	}
	for (size_t b = 0; b < right.n; b++) {
		if (right.used[b])
			continue;
		c.label = strata_resource_label(c.arena, &right.res[b]);
		c.kind = right.res[b].kind;
		report(&c, "", NULL, right.res[b].root);
	}
	if (c.n_skipped && !c.quiet)
		printf("(%zu known divergence%s skipped)\n", c.n_skipped,
		       c.n_skipped == 1 ? "" : "s");
	ret = c.n_diffs ? 1 : 0;
done:
	strata_arena_free(c.arena);
	return ret;
}
