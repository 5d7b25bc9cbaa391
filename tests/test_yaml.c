/*
 * test_yaml.c - the YAML loader and emitter: round trips of tricky scalars
 * in every style, multi-document files, anchors and merge keys, the limits
 * (alias bombs, deep nesting, big scalars), the errors and their positions,
 * and the exact output format.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <libfyaml.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "strata/yaml.h"
#include "yaml_load.h"
#include "doc_pack.h"

/* ---- helpers ---- */

typedef struct fixture {
	strata_arena *a;
	strata_error err;
	strata_buf out;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	if (!f || !(f->a = strata_arena_new()))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	strata_buf_free(&f->out);
	strata_arena_free(f->a);
	free(f);
	return 0;
}

/* Load text that must parse; returns the docs, count in *n. */
static strata_yaml_doc *load_ok(fixture *f, const char *text, size_t *n)
{
	strata_yaml_doc *docs = NULL;
	int rc;

	strata_error_clear(&f->err);
	rc = strata_yaml_load(&docs, n, f->a, "t.yaml", text, strlen(text), NULL, &f->err);
	if (rc) {
		char m[2100];
		strata_error_format(&f->err, m, sizeof(m));
		print_error("load failed: %s\n--- input:\n%s\n", m, text);
	}
	assert_int_equal(rc, 0);
	return docs;
}

static strata_node *load_one(fixture *f, const char *text)
{
	size_t n = 0;
	strata_yaml_doc *docs = load_ok(f, text, &n);

	assert_int_equal(n, 1);
	return docs[0].root;
}

/* Load text that must fail with code; returns the formatted message. */
static const char *load_err(fixture *f, const char *text, size_t len, const strata_limits *lim,
			    int code)
{
	static char m[2100];
	strata_yaml_doc *docs = NULL;
	size_t n = 0;
	int rc;

	strata_error_clear(&f->err);
	rc = strata_yaml_load(&docs, &n, f->a, "t.yaml", text, len, lim, &f->err);
	strata_error_format(&f->err, m, sizeof(m));
	if (rc != code)
		print_error("expected %d, got %d: %s\n", code, rc, m);
	assert_int_equal(rc, code);
	assert_int_equal(f->err.code, code);
	return m;
}

static const char *emit(fixture *f, const strata_node *root)
{
	f->out.len = 0;
	assert_int_equal(strata_yaml_emit(&f->out, root), 0);
	return f->out.ptr;
}

static strata_node *scalar(fixture *f, const char *s, size_t len, strata_style st)
{
	strata_node *n = strata_node_scalar(f->a, s, len, st);

	assert_non_null(n);
	return n;
}

/* {k: value} */
static strata_node *map1(fixture *f, const char *k, strata_node *v)
{
	strata_node *m = strata_node_map(f->a);

	assert_non_null(m);
	assert_int_equal(strata_map_append(f->a, m, scalar(f, k, strlen(k), STRATA_STYLE_PLAIN), v), 0);
	return m;
}

/*
 * The same text through libfyaml's own document API: the emitted YAML must
 * mean the same thing to an independent reader, not just to our loader.
 */
static void fy_check_value(const char *yaml, const char *key, const char *text, size_t len)
{
	struct fy_parse_cfg cfg = { .flags = FYPCF_QUIET };
	struct fy_document *d = fy_document_build_from_string(&cfg, yaml, strlen(yaml));
	struct fy_node *v;
	const char *s;
	size_t l = 0;

	assert_non_null(d);
	v = fy_node_mapping_lookup_by_string(fy_document_root(d), key, strlen(key));
	assert_non_null(v);
	s = fy_node_get_scalar(v, &l);
	assert_non_null(s);
	if (l != len || memcmp(s, text, len))
		print_error("libfyaml read [%.*s], wanted [%.*s]\n%s", (int)l, s, (int)len, text, yaml);
	assert_int_equal(l, len);
	assert_memory_equal(s, text, len);
	fy_document_destroy(d);
}

/* ---- corpus ---- */

typedef struct ttext {
	const char *s;
	size_t len; /* 0: strlen */
} ttext;

static const ttext corpus[] = {
	{ "web", 0 }, { "yes", 0 }, { "Yes", 0 }, { "YES", 0 }, { "yEs", 0 }, { "no", 0 },
	{ "on", 0 }, { "OFF", 0 }, { "y", 0 }, { "N", 0 }, { "true", 0 }, { "False", 0 },
	{ "0777", 0 }, { "0x1F", 0 }, { "0b101", 0 }, { "0o17", 0 }, { "1_000", 0 },
	{ "190:20:30", 0 }, { "1.0", 0 }, { ".5", 0 }, { "1.", 0 }, { "1e3", 0 },
	{ "-1.5E-3", 0 }, { "+12", 0 }, { "-1", 0 }, { ".inf", 0 }, { "-.Inf", 0 },
	{ ".nan", 0 }, { "3", 0 }, { "null", 0 }, { "Null", 0 }, { "NULL", 0 }, { "~", 0 },
	{ "", 0 }, { " lead", 0 }, { "trail ", 0 }, { " ", 0 }, { "- x", 0 }, { "-", 0 },
	{ "-foo", 0 }, { "--", 0 }, { "---", 0 }, { "...", 0 }, { "--- x", 0 },
	{ "@at", 0 }, { "%p", 0 }, { "`b", 0 }, { "|p", 0 }, { ">g", 0 }, { "#x", 0 },
	{ "!tag", 0 }, { "&anchor", 0 }, { "*alias", 0 }, { "?q", 0 }, { ":colon", 0 },
	{ "[x]", 0 }, { "{x}", 0 }, { ",c", 0 }, { "a, b", 0 }, { "'q'", 0 }, { "\"dq\"", 0 },
	{ "a: b", 0 }, { "a:b", 0 }, { "a #b", 0 }, { "a#b", 0 }, { "end:", 0 },
	{ "<<", 0 }, { "=", 0 }, { "2001-12-14", 0 }, { "2001-12-14t21:59:43.10-05:00", 0 },
	{ "it's", 0 }, { "two''quotes", 0 }, { "''", 0 }, { "back\\slash", 0 }, { "tab\there", 0 }, { "\ttab", 0 },
	{ "bell\x07", 0 }, { "esc\x1b[0m", 0 }, { "del\x7f", 0 }, { "nul\0in", 7 },
	{ "cr\r\nlf", 0 }, { "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x99\x82", 0 },
	{ "nel\xc2\x85", 0 }, { "ls\xe2\x80\xa8x", 0 }, { "\xef\xbb\xbf" "bom", 0 },
	{ "line1\nline2", 0 }, { "line1\nline2\n", 0 }, { "line1\nline2\n\n\n", 0 },
	{ "\n", 0 }, { "\n\n", 0 }, { "\nlead-empty", 0 }, { "\n  lead-empty-space\n", 0 },
	{ "  indented first\nsecond\n", 0 }, { " x\n", 0 }, { "a\n  \nb", 0 },
	{ "trailing  \nspaces \n", 0 }, { "tab\tin\nblock\n", 0 }, { "\tleading tab\n", 0 },
	{ "# not a comment\n- not a seq\n", 0 }, { "---\n...\n", 0 },
	{ "key: value\n", 0 }, { "a\r\nb\n", 0 }, { "ctl\x01\nx", 0 },
};

static const strata_style all_styles[] = {
	STRATA_STYLE_PLAIN, STRATA_STYLE_SINGLE, STRATA_STYLE_DOUBLE,
	STRATA_STYLE_LITERAL, STRATA_STYLE_FOLDED, STRATA_STYLE_STRING,
};

static size_t tlen(const ttext *t)
{
	return t->len ? t->len : strlen(t->s);
}

/* The style the emitter is expected to keep, given the text. */
static bool style_kept(strata_style st, strata_style got)
{
	if (st == STRATA_STYLE_FOLDED)
		return got == STRATA_STYLE_LITERAL || got == STRATA_STYLE_DOUBLE;
	if (st == STRATA_STYLE_STRING)
		return got != STRATA_STYLE_SINGLE;
	return got == st || got == STRATA_STYLE_DOUBLE;
}

/* Emit {k: scalar}, [scalar] and {scalar: v}; all must read back the same. */
static void roundtrip_one(fixture *f, const char *s, size_t len, strata_style st)
{
	strata_node *v = scalar(f, s, len, st);
	strata_node *doc = map1(f, "k", v);
	strata_node *seq = strata_node_seq(f->a);
	strata_node *kdoc = strata_node_map(f->a);
	strata_node *back, *got;
	const char *yaml;

	/* as a map value */
	yaml = emit(f, doc);
	back = load_one(f, yaml);
	got = strata_map_get(back, "k");
	assert_non_null(got);
	if (!strata_node_equal(doc, back) || !style_kept(st, (strata_style)got->style))
		print_error("style %d text [%.*s] emitted as:\n%s", st, (int)len, s, yaml);
	assert_true(strata_node_equal(doc, back));
	assert_true(style_kept(st, (strata_style)got->style));
	if (st == STRATA_STYLE_STRING)
		assert_int_equal(strata_scalar_kind_of(got), STRATA_SCALAR_STR);
	if (!memchr(s, '\0', len) && (st != STRATA_STYLE_PLAIN || len))
		fy_check_value(yaml, "k", s, len);

	/* as a sequence item */
	assert_int_equal(strata_seq_append(f->a, seq, v), 0);
	yaml = emit(f, seq);
	back = load_one(f, yaml);
	if (!strata_node_equal(seq, back))
		print_error("style %d text [%.*s] emitted as:\n%s", st, (int)len, s, yaml);
	assert_true(strata_node_equal(seq, back));

	/* as a key (keys are never null: skip the plain empty key) */
	if (st == STRATA_STYLE_PLAIN && !len)
		return;
	assert_int_equal(strata_map_append(f->a, kdoc, scalar(f, s, len, st),
					   scalar(f, "v", 1, STRATA_STYLE_PLAIN)), 0);
	yaml = emit(f, kdoc);
	back = load_one(f, yaml);
	assert_int_equal(back->type, STRATA_NODE_MAP);
	assert_int_equal(back->u.map.n, 1);
	got = back->u.map.pairs[0].key;
	if (got->u.scalar.len != len || memcmp(got->u.scalar.str, s, len))
		print_error("key style %d text [%.*s] emitted as:\n%s", st, (int)len, s, yaml);
	assert_int_equal(got->u.scalar.len, len);
	assert_memory_equal(got->u.scalar.str, s, len);
}

static void test_yaml__roundtrip_created_scalars(void **state)
{
	fixture *f = *state;

	for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++)
		for (size_t k = 0; k < sizeof(all_styles) / sizeof(all_styles[0]); k++)
			roundtrip_one(f, corpus[i].s, tlen(&corpus[i]), all_styles[k]);
}

/* Deterministic pseudo-random text from pieces that trip emitters up. */
static uint32_t rnd(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 8) & 0xFFFFFF;
}

static strata_node *random_node(fixture *f, uint32_t *seed, int depth)
{
	static const char *const pieces[] = {
		" ", "  ", "\n", "\n\n", "\t", ":", ": ", "#", " #", "-", "- ", "?", "'", "\"",
		"\\", "a", "b", "1", "0", ".", "|", ">", "!", "&", "*", "[", "]", "{", "}", ",",
		"%", "@", "`", "\r", "\x01", "\xc3\xa9", "\xe2\x80\xa8", "y", "e", "x", "~",
		"---", "...", "<<", "null", "true", "0x", "1e", "_",
	};
	uint32_t kind = depth > 3 ? 0 : rnd(seed) % 4;

	if (kind < 2) {
		char text[64];
		size_t len = 0, n = rnd(seed) % 6;
		for (size_t i = 0; i < n; i++) {
			const char *p = pieces[rnd(seed) % (sizeof(pieces) / sizeof(pieces[0]))];
			size_t pl = strlen(p);
			memcpy(text + len, p, pl);
			len += pl;
		}
		return scalar(f, text, len, all_styles[rnd(seed) % 6]);
	}
	if (kind == 2) {
		strata_node *m = strata_node_map(f->a);
		size_t n = rnd(seed) % 4;
		for (size_t i = 0; i < n; i++) {
			strata_node *k = random_node(f, seed, 99);
			if (strata_map_getn(m, k->u.scalar.str, k->u.scalar.len) ||
			    (k->style == STRATA_STYLE_PLAIN && !k->u.scalar.len))
				continue;
			strata_map_append(f->a, m, k, random_node(f, seed, depth + 1));
		}
		return m;
	}
	{
		strata_node *q = strata_node_seq(f->a);
		size_t n = rnd(seed) % 4;
		for (size_t i = 0; i < n; i++)
			strata_seq_append(f->a, q, random_node(f, seed, depth + 1));
		return q;
	}
}

static void test_yaml__roundtrip_random_trees(void **state)
{
	fixture *f = *state;
	uint32_t seed = 42;

	for (int i = 0; i < 3000; i++) {
		strata_node *r = random_node(f, &seed, 0);
		const char *yaml = emit(f, r);
		strata_yaml_doc *docs = NULL;
		size_t n = 0;
		int rc;

		strata_error_clear(&f->err);
		rc = strata_yaml_load(&docs, &n, f->a, "t.yaml", yaml, strlen(yaml), NULL, &f->err);
		if (rc || (n == 1 && !strata_node_equal(r, docs[0].root)))
			print_error("case %d (%s) emitted as:\n%s", i, f->err.msg, yaml);
		assert_int_equal(rc, 0);
		/* a plain null root is an empty document */
		if (n == 0) {
			assert_int_equal(r->type, STRATA_NODE_SCALAR);
			continue;
		}
		assert_int_equal(n, 1);
		assert_true(strata_node_equal(r, docs[0].root));
	}
}

/* Pack and unpack t; the copy must be t, style by style: the same YAML. */
static strata_node *pack_back(fixture *f, const strata_node *t, strata_buf *b)
{
	strata_node *back = NULL;
	char *want;

	b->len = 0;
	assert_int_equal(strata_doc_pack(b, t), 0);
	assert_int_equal(strata_doc_unpack(f->a, b->ptr, b->len, &back), 0);
	assert_non_null(back);
	assert_true(strata_node_equal(t, back));
	want = strdup(emit(f, t));
	assert_non_null(want);
	assert_string_equal(emit(f, back), want);
	free(want);
	return back;
}

/*
 * Issue 6: a diff side kept out of memory is packed (doc_pack.h) and read
 * back by copying instead of parsing YAML.  What comes back must be the
 * tree that went in (every style, strata's STRING included, tags, flow
 * collections, keys shared), and damaged bytes must fail, never crash.
 */
static void test_yaml__pack_roundtrip(void **state)
{
	fixture *f = *state;
	strata_buf b = STRATA_BUF_INIT;
	uint32_t seed = 7;
	strata_node *t, *back;
	size_t n = 0;
	strata_yaml_doc *docs =
		load_ok(f, "kind: Secret\ndata: !!binary aGk=\nlist: [a, 'b', \"c\"]\n"
			   "map: {x: 1}\nblock: |\n  one\n  two\nfold: >\n  a\n  b\n"
			   "empty: []\nnone:\nnested:\n- - 1\n  - {y: [2]}\n"
			   "tagged: !custom\n  k: v\n", &n);

	assert_int_equal(n, 1);
	back = pack_back(f, docs[0].root, &b);
	assert_string_equal(strata_node_tag(strata_map_get(back, "data")), "!!binary");
	assert_true(strata_map_get(back, "list")->flags & STRATA_NODE_FLOW);
	assert_false(strata_map_get(back, "nested")->flags & STRATA_NODE_FLOW);
	/* keys are shared as the loader shares them */
	assert_ptr_equal(back->u.map.pairs[0].key,
			 strata_node_key(f->a, "kind", 4, STRATA_STYLE_PLAIN, NULL));
	/* strata's own scalars keep their style */
	t = map1(f, "port", scalar(f, "80", 2, STRATA_STYLE_STRING));
	back = pack_back(f, t, &b);
	assert_int_equal(strata_map_get(back, "port")->style, STRATA_STYLE_STRING);
	for (int i = 0; i < 3000; i++)
		pack_back(f, random_node(f, &seed, 0), &b);

	/* every cut of a packed document, and a byte more, is refused */
	pack_back(f, docs[0].root, &b);
	for (size_t len = 0; len < b.len; len++)
		assert_int_equal(strata_doc_unpack(f->a, b.ptr, len, &back), STRATA_EIO);
	assert_int_equal(strata_buf_putc(&b, 0), 0);
	assert_int_equal(strata_doc_unpack(f->a, b.ptr, b.len, &back), STRATA_EIO);
	b.len--;
	/* damaged bytes: a tree or a refusal, never a crash (ASan) */
	for (int i = 0; i < 2000; i++) {
		strata_buf d = STRATA_BUF_INIT;
		int rc;

		assert_int_equal(strata_buf_put(&d, b.ptr, b.len), 0);
		d.ptr[rnd(&seed) % d.len] = (char)rnd(&seed);
		rc = strata_doc_unpack(f->a, d.ptr, d.len, &back);
		assert_true(rc == 0 || rc == STRATA_EIO);
		strata_buf_free(&d);
	}
	strata_buf_free(&b);
}

static void test_yaml__roundtrip_long_strings(void **state)
{
	fixture *f = *state;
	size_t len = 200000;
	char *s = malloc(len + 1);

	assert_non_null(s);
	for (size_t i = 0; i < len; i++)
		s[i] = (char)('a' + i % 26);
	s[len] = '\0';
	for (size_t k = 0; k < sizeof(all_styles) / sizeof(all_styles[0]); k++)
		roundtrip_one(f, s, len, all_styles[k]);
	/* many lines, with spaces and quotes in them */
	for (size_t i = 0; i < len; i++)
		s[i] = i % 81 == 80 ? '\n' : i % 7 == 0 ? ' ' : i % 13 == 0 ? '"' : (char)('a' + i % 26);
	for (size_t k = 0; k < sizeof(all_styles) / sizeof(all_styles[0]); k++)
		roundtrip_one(f, s, len, all_styles[k]);
	free(s);
}

/* A created string must be written so that a YAML 1.1 reader sees a string. */
static void test_yaml__string_style_quoting(void **state)
{
	fixture *f = *state;
	static const struct {
		const char *text, *line;
	} cases[] = {
		{ "web", "k: web\n" },
		{ "nginx:1.25", "k: nginx:1.25\n" },
		{ "example.com/owner", "k: example.com/owner\n" },
		{ "yes", "k: \"yes\"\n" },
		{ "On", "k: \"On\"\n" },
		{ "0777", "k: \"0777\"\n" },
		{ "1.0", "k: \"1.0\"\n" },
		{ "1e3", "k: \"1e3\"\n" },
		{ "1.2.3", "k: \"1.2.3\"\n" },
		{ "v1.2.3", "k: v1.2.3\n" },
		{ "1.2.3-rc1", "k: 1.2.3-rc1\n" },
		{ "1_000", "k: \"1_000\"\n" },
		{ "190:20:30", "k: \"190:20:30\"\n" },
		{ "null", "k: \"null\"\n" },
		{ "~", "k: \"~\"\n" },
		{ "", "k: \"\"\n" },
		{ "-foo", "k: \"-foo\"\n" },
		{ "<<", "k: \"<<\"\n" },
		{ "2024-01-02", "k: \"2024-01-02\"\n" },
		{ "a: b", "k: \"a: b\"\n" },
		{ "say \"hi\"\\", "k: say \"hi\"\\\n" },
		{ "\"hi\"", "k: \"\\\"hi\\\"\"\n" },
		{ "two\nlines", "k: |-\n  two\n  lines\n" },
		{ "two\nlines\n", "k: |\n  two\n  lines\n" },
		{ "two\nlines\n\n", "k: |+\n  two\n  lines\n\n" },
		{ "  first\nsecond", "k: |2-\n    first\n  second\n" },
		{ "bell\x07\n", "k: \"bell\\a\\n\"\n" },
		{ "x\x01y", "k: \"x\\x01y\"\n" },
		{ "ls\xe2\x80\xa8", "k: \"ls\\u2028\"\n" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strata_node *doc = map1(f, "k", scalar(f, cases[i].text, strlen(cases[i].text),
						       STRATA_STYLE_STRING));
		assert_string_equal(emit(f, doc), cases[i].line);
	}
}

/*
 * Single-quoted scalars are decoded by strata (libfyaml 0.7.12 garbles two
 * '' escapes in a row): escapes, folding and empty lines per YAML 1.2.
 */
/*
 * The emitter remembers a scalar's output style in the node (it is
 * shared); a new text must not be written with the old text's style.
 */
static void test_yaml__emit_memo_follows_text(void **state)
{
	fixture *f = *state;
	strata_node *map = strata_node_map(f->a);
	strata_node *v = strata_node_scalar_str(f->a, "abc", STRATA_STYLE_STRING);
	strata_node *w;

	assert_non_null(map);
	assert_non_null(v);
	assert_int_equal(strata_map_set(f->a, map, "k", v), 0);
	assert_int_equal(strata_yaml_emit(&f->out, map), 0);
	assert_string_equal(f->out.ptr, "k: abc\n");
	/* the same node again: the remembered answer */
	f->out.len = 0;
	assert_int_equal(strata_yaml_emit(&f->out, map), 0);
	assert_string_equal(f->out.ptr, "k: abc\n");
	/* text that must be quoted: the memo goes with the old text */
	assert_int_equal(strata_scalar_set(f->a, v, "true", 4, -1), 0);
	f->out.len = 0;
	assert_int_equal(strata_yaml_emit(&f->out, map), 0);
	assert_string_equal(f->out.ptr, "k: \"true\"\n");
	/* a node made from a remembered one decides afresh */
	w = strata_scalar_with(f->a, v, "plain", 5, -1);
	assert_non_null(w);
	assert_int_equal(strata_map_set(f->a, map, "k", w), 0);
	f->out.len = 0;
	assert_int_equal(strata_yaml_emit(&f->out, map), 0);
	assert_string_equal(f->out.ptr, "k: plain\n");
	/* and the key "k" (shared by the arena) kept its own answer */
	assert_int_equal(strata_map_set(f->a, map, "2", strata_node_scalar_str(f->a, "x", STRATA_STYLE_STRING)), 0);
	f->out.len = 0;
	assert_int_equal(strata_yaml_emit(&f->out, map), 0);
	assert_string_equal(f->out.ptr, "k: plain\n\"2\": x\n");
}

static void test_yaml__single_quoted_decode(void **state)
{
	fixture *f = *state;
	static const struct {
		const char *src, *want;
	} cases[] = {
		{ "k: 'a''''b'\n", "a''b" },
		{ "k: '''''template'\n", "''template" },
		{ "k: '''''''''''''''''template'''''''\n", "''''''''template'''" },
		{ "k: ''''\n", "'" },
		{ "k: ''\n", "" },
		{ "k: 'it''s'\n", "it's" },
		{ "k: 'a  \n   b'\n", "a b" },
		{ "k: 'a\n\n  b'\n", "a\nb" },
		{ "k: 'a \t\n \n\n  b  '\n", "a\n\nb  " },
		{ "k: '  lead'\n", "  lead" },
		{ "k: 'x\r\n  y'\n", "x y" },
		{ "k: 'x ''\n  '' y'\n", "x ' ' y" },
		{ "- [ 'a''''b', 'c' ]\n", NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strata_node *root = load_one(f, cases[i].src);
		const strata_node *v;

		if (!cases[i].want) {
			v = root->u.seq.items[0]->u.seq.items[0];
			assert_string_equal(v->u.scalar.str, "a''b");
			continue;
		}
		v = strata_map_get(root, "k");
		assert_non_null(v);
		if (strcmp(v->u.scalar.str, cases[i].want))
			print_error("case %zu: got [%s] want [%s]\n", i, v->u.scalar.str,
				    cases[i].want);
		assert_string_equal(v->u.scalar.str, cases[i].want);
		assert_int_equal(v->u.scalar.len, strlen(cases[i].want));
		assert_int_equal(v->style, STRATA_STYLE_SINGLE);
	}
}

/* Source scalars keep their style and text through load -> emit -> load. */
static void test_yaml__roundtrip_source_styles(void **state)
{
	fixture *f = *state;
	static const char src[] =
		"plain: 3\n"
		"neg: -1\n"
		"flt: 1.5\n"
		"bool: yes\n"
		"nul:\n"
		"tilde: ~\n"
		"url: http://example.com/a#b\n"
		"dash: -foo\n"
		"sq: 'it''s'\n"
		"sqnum: '0777'\n"
		"dq: \"tab\\there \\u00e9 \\x01\"\n"
		"dqempty: \"\"\n"
		"lit: |\n"
		"  line one\n"
		"    indented\n"
		"litstrip: |-\n"
		"  no newline\n"
		"litkeep: |+\n"
		"  keep\n"
		"\n"
		"folded: >\n"
		"  folded\n"
		"  text\n"
		"\n"
		"  para\n"
		"indicator: |2\n"
		"   one space\n"
		"unicode: \"caf\xc3\xa9 \xe2\x82\xac\"\n"
		"binary: !!binary aGVsbG8=\n"
		"custom: !mytag {a: 1}\n"
		"flow: [a, 'b', \"c\", {d: e}]\n"
		"emptymap: {}\n"
		"emptyseq: []\n"
		"nested:\n"
		"- - a\n"
		"  - b\n"
		"- k: v\n"
		"  l:\n"
		"  - x\n";
	strata_node *a = load_one(f, src);
	strata_node *b = load_one(f, emit(f, a));

	assert_true(strata_node_equal(a, b));
	assert_int_equal(a->u.map.n, b->u.map.n);
	for (uint32_t i = 0; i < a->u.map.n; i++) {
		strata_node *x = a->u.map.pairs[i].value, *y = b->u.map.pairs[i].value;
		assert_string_equal(a->u.map.pairs[i].key->u.scalar.str,
				    b->u.map.pairs[i].key->u.scalar.str);
		if (x->type != STRATA_NODE_SCALAR)
			continue;
		if (x->style == STRATA_STYLE_FOLDED)
			assert_int_equal(y->style, STRATA_STYLE_LITERAL);
		else
			assert_int_equal(x->style, y->style);
		if (strata_node_tag(x))
			assert_string_equal(strata_node_tag(x), strata_node_tag(y));
	}
	assert_string_equal(strata_map_get(a, "folded")->u.scalar.str, "folded text\npara\n");
	assert_string_equal(strata_map_get(a, "indicator")->u.scalar.str, " one space\n");
	assert_string_equal(strata_node_tag(strata_map_get(a, "binary")), "!!binary");
	assert_string_equal(strata_node_tag(strata_map_get(b, "custom")), "!mytag");
	assert_int_equal(strata_scalar_kind_of(strata_map_get(b, "bool")), STRATA_SCALAR_BOOL);
	assert_int_equal(strata_scalar_kind_of(strata_map_get(b, "nul")), STRATA_SCALAR_NULL);
	assert_int_equal(strata_scalar_kind_of(strata_map_get(b, "neg")), STRATA_SCALAR_INT);
	assert_true(strata_map_get(a, "flow")->flags & STRATA_NODE_FLOW);
}

static void test_yaml__positions(void **state)
{
	fixture *f = *state;
	strata_node *r = load_one(f, "# c\na:\n  b: [x, \"y\"]\n  c: &z 1\n");
	strata_node *b = strata_node_at(r, "a", "b", NULL);

	assert_int_equal(r->line, 2);
	assert_int_equal(r->col, 1);
	assert_string_equal(strata_node_file(r), "t.yaml");
	assert_int_equal(b->line, 3);
	assert_int_equal(b->col, 6);
	assert_int_equal(b->u.seq.items[1]->line, 3);
	assert_int_equal(b->u.seq.items[1]->col, 10);
	assert_int_equal(strata_node_at(r, "a", "c", NULL)->col, 9);
}

static void test_yaml__multi_document(void **state)
{
	fixture *f = *state;
	size_t n = 0;
	strata_yaml_doc *d = load_ok(f,
		"# only a comment\n"
		"---\n"
		"a: 1\n"
		"---\n"
		"# empty\n"
		"---\n"
		"null\n"
		"---\n"
		"~\n"
		"--- &x\n"
		"b: 2\n"
		"...\n"
		"---\n"
		"- c\n"
		"--- plain\n",
		&n);

	assert_int_equal(n, 4);
	assert_string_equal(strata_map_get(d[0].root, "a")->u.scalar.str, "1");
	assert_int_equal(d[0].line, 3);
	assert_string_equal(strata_map_get(d[1].root, "b")->u.scalar.str, "2");
	assert_int_equal(d[1].line, 11);
	assert_int_equal(d[2].root->type, STRATA_NODE_SEQ);
	assert_int_equal(d[3].root->type, STRATA_NODE_SCALAR);
	assert_string_equal(d[3].root->u.scalar.str, "plain");

	load_ok(f, "", &n);
	assert_int_equal(n, 0);
	load_ok(f, "# nothing\n\n", &n);
	assert_int_equal(n, 0);
}

static void test_yaml__anchors_and_merge_keys(void **state)
{
	fixture *f = *state;
	strata_node *r = load_one(f,
		"base: &b {x: 1, y: 2}\n"
		"more: &m {y: 20, z: 30}\n"
		"one:\n"
		"  <<: *b\n"
		"  y: 3\n"
		"list:\n"
		"  w: 0\n"
		"  <<: [*b, *m]\n"
		"inline:\n"
		"  <<: {q: 1}\n"
		"copy: *b\n"
		"s: &s text\n"
		"t: *s\n"
		"quoted:\n"
		"  '<<': not a merge\n");
	strata_node *one = strata_map_get(r, "one"), *list = strata_map_get(r, "list");
	const char *yaml;

	assert_int_equal(one->u.map.n, 2);
	assert_string_equal(one->u.map.pairs[0].key->u.scalar.str, "x");
	assert_string_equal(strata_map_get(one, "y")->u.scalar.str, "3");
	/* explicit keys first in place, merged keys where << was, earlier maps win */
	assert_int_equal(list->u.map.n, 4);
	assert_string_equal(list->u.map.pairs[0].key->u.scalar.str, "w");
	assert_string_equal(list->u.map.pairs[1].key->u.scalar.str, "x");
	assert_string_equal(strata_map_get(list, "y")->u.scalar.str, "2");
	assert_string_equal(strata_map_get(list, "z")->u.scalar.str, "30");
	assert_string_equal(strata_map_get(strata_map_get(r, "inline"), "q")->u.scalar.str, "1");
	assert_true(strata_node_equal(strata_map_get(r, "copy"), strata_map_get(r, "base")));
	/* a copy, not a shared node */
	assert_ptr_not_equal(strata_map_get(r, "copy"), strata_map_get(r, "base"));
	assert_string_equal(strata_map_get(r, "t")->u.scalar.str, "text");
	assert_non_null(strata_map_get(strata_map_get(r, "quoted"), "<<"));

	yaml = emit(f, r);
	assert_null(strstr(yaml, "&"));
	assert_null(strstr(yaml, "*"));
	assert_non_null(strstr(yaml, "quoted:\n  '<<': not a merge\n"));
	assert_true(strata_node_equal(r, load_one(f, yaml)));

	/* anchors do not cross documents */
	load_err(f, "a: &x 1\n---\nb: *x\n", 18, NULL, STRATA_EPARSE);
	assert_string_equal(f->err.msg, "undefined alias 'x'");
	assert_int_equal(f->err.line, 3);
	/* an anchor may be redefined; later aliases see the new node */
	r = load_one(f, "a: &x 1\nb: *x\nc: &x 2\nd: *x\n");
	assert_string_equal(strata_map_get(r, "b")->u.scalar.str, "1");
	assert_string_equal(strata_map_get(r, "d")->u.scalar.str, "2");
	/* merging something that is not a map */
	load_err(f, "a: &a {x: 1}\nb:\n  <<: [*a, [1]]\n", 32, NULL, STRATA_EPARSE);
	assert_string_equal(f->err.msg, "merge key '<<' needs a map or a sequence of maps");
	assert_int_equal(f->err.line, 3);
	assert_int_equal(f->err.col, 12);

	load_err(f, "a: *nope\n", 9, NULL, STRATA_EPARSE);
	assert_string_equal(f->err.msg, "undefined alias 'nope'");
	assert_int_equal(f->err.line, 1);
	assert_int_equal(f->err.col, 4);
	load_err(f, "a: &a 1\nb:\n  <<: *a\n", 20, NULL, STRATA_EPARSE);
	assert_int_equal(f->err.line, 3);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_yaml__billion_laughs(void **state)
{
	fixture *f = *state;
	static const char bomb[] =
		"a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
		"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
		"c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
		"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
		"e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
		"f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
		"g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
		"h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
		"i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
	strata_limits lim;
	double t0 = now();
	const char *m = load_err(f, bomb, sizeof(bomb) - 1, NULL, STRATA_ELIMIT);

	assert_true(now() - t0 < 2.0);
	assert_non_null(strstr(m, "alias expansion exceeds 1000000 nodes"));
	assert_int_equal(f->err.line, 7); /* g: the first level past a million */
	/* bounded memory: the budget is checked before copying */
	assert_true(strata_arena_used(f->a) < ((size_t)200 << 20));

	/* a small budget trips early; merge keys count too */
	strata_limits_default(&lim);
	lim.max_alias_nodes = 20;
	load_err(f, bomb, sizeof(bomb) - 1, &lim, STRATA_ELIMIT);
	assert_int_equal(f->err.line, 2); /* the third *a would make 30 */
	assert_int_equal(f->err.col, 14);
	m = load_err(f, "a: &a {x: 1, y: 2, z: 3, w: 4, v: 5, u: 6, t: 7, s: 8, r: 9, q: 10, p: 11}\n"
			"b: {<<: *a}\n", 87, &lim, STRATA_ELIMIT);
	assert_string_equal(m, "t.yaml:2:9: alias expansion exceeds 20 nodes");
}

static void test_yaml__deep_nesting(void **state)
{
	fixture *f = *state;
	size_t n = 10000;
	char *s = malloc(2 * n + 2);
	strata_limits lim;
	const char *m;

	assert_non_null(s);
	memset(s, '[', n);
	memset(s + n, ']', n);
	s[2 * n] = '\n';
	m = load_err(f, s, 2 * n + 1, NULL, STRATA_ELIMIT);
	assert_string_equal(m, "t.yaml:1:201: nesting exceeds 200 levels");
	/* unclosed, too */
	load_err(f, s, n, NULL, STRATA_ELIMIT);

	/* block style */
	{
		strata_buf b = STRATA_BUF_INIT;
		for (int i = 0; i < 300; i++) {
			for (int k = 0; k < i; k++)
				strata_buf_putc(&b, ' ');
			strata_buf_puts(&b, "a:\n");
		}
		load_err(f, b.ptr, b.len, NULL, STRATA_ELIMIT);
		assert_int_equal(f->err.line, 201);
		strata_buf_free(&b);
	}

	/* exactly at the limit is fine */
	strata_limits_default(&lim);
	lim.max_depth = 5;
	load_err(f, "[[[[[x]]]]]", 11, &lim, 0);
	load_err(f, "[[[[[[x]]]]]]", 13, &lim, STRATA_ELIMIT);

	/* aliases cannot stack depth past the limit */
	load_err(f, "a: &a [[[1]]]\nb: [*a]\n", 22, &lim, 0);
	load_err(f, "a: &a [[[[1]]]]\nb: [*a]\n", 24, &lim, STRATA_ELIMIT);
	assert_string_equal(f->err.msg, "nesting exceeds 5 levels");
	assert_int_equal(f->err.line, 2);
	free(s);
}

static void test_yaml__duplicate_keys(void **state)
{
	fixture *f = *state;
	const char *m = load_err(f, "a: 1\nb:\n  c: 1\n  c: 2\n", 22, NULL, STRATA_EPARSE);
	strata_buf b = STRATA_BUF_INIT;

	assert_string_equal(m, "t.yaml:4:3: duplicate key 'c' (first at line 3)");
	load_err(f, "{x: 1, \"x\": 2}", 14, NULL, STRATA_EPARSE);
	assert_int_equal(f->err.col, 8);

	/* big maps use a hash table; the duplicate is still found */
	for (int i = 0; i < 500; i++)
		strata_buf_printf(&b, "key%d: %d\n", i, i);
	strata_buf_puts(&b, "key250: again\n");
	m = load_err(f, b.ptr, b.len, NULL, STRATA_EPARSE);
	assert_string_equal(m, "t.yaml:501:1: duplicate key 'key250' (first at line 251)");
	/* ...and a big map without duplicates loads */
	b.len -= strlen("key250: again\n");
	b.ptr[b.len] = '\0';
	{
		size_t n;
		strata_yaml_doc *d = load_ok(f, b.ptr, &n);
		assert_int_equal(d[0].root->u.map.n, 500);
		assert_string_equal(strata_map_get(d[0].root, "key499")->u.scalar.str, "499");
	}
	strata_buf_free(&b);
}

/*
 * The loader names the check rule of a duplicate key where it finds it, on
 * the small-map scan and the hash-table path alike; a syntax error names
 * none (check reports it as yaml-syntax).
 */
static void test_yaml__duplicate_key_names_its_rule(void **state)
{
	fixture *f = *state;
	strata_buf b = STRATA_BUF_INIT;

	load_err(f, "a:\n  b: 1\n  b: 2\n", 17, NULL, STRATA_EPARSE);
	assert_non_null(f->err.rule);
	assert_string_equal(f->err.rule, "duplicate-key");
	assert_int_equal(f->err.line, 3);
	for (int i = 0; i < 100; i++)
		strata_buf_printf(&b, "k%d: %d\n", i, i);
	strata_buf_puts(&b, "k7: again\n");
	load_err(f, b.ptr, b.len, NULL, STRATA_EPARSE);
	assert_non_null(f->err.rule);
	assert_string_equal(f->err.rule, "duplicate-key");
	assert_int_equal(f->err.line, 101);
	strata_buf_free(&b);

	load_err(f, "key: [unclosed\n", 15, NULL, STRATA_EPARSE);
	assert_null(f->err.rule);
}

static void test_yaml__bad_input_bytes(void **state)
{
	fixture *f = *state;
	const char *m;

	m = load_err(f, "a: 1\nb: x\xff\n", 10, NULL, STRATA_EPARSE);
	assert_string_equal(m, "t.yaml:2:5: invalid UTF-8 byte 0xff");
	m = load_err(f, "a: 1\nbc: \xc3\xa9\0x\n", 12, NULL, STRATA_EPARSE);
	assert_string_equal(m, "t.yaml:2:6: NUL byte is not allowed");
	m = load_err(f, "a: \x01\n", 5, NULL, STRATA_EPARSE);
	assert_string_equal(m, "t.yaml:1:4: control character U+0001 is not allowed");
	m = load_err(f, "a: \xc0\x80\n", 6, NULL, STRATA_EPARSE); /* overlong NUL */
	assert_string_equal(m, "t.yaml:1:4: invalid UTF-8 byte 0xc0");
	m = load_err(f, "a: \xed\xa0\x80\n", 7, NULL, STRATA_EPARSE); /* surrogate */
	assert_non_null(strstr(m, "U+D800"));
	m = load_err(f, "a: \xe2\x82\n", 6, NULL, STRATA_EPARSE); /* truncated */
	assert_string_equal(m, "t.yaml:1:4: invalid UTF-8 byte 0xe2");
	/* CRLF and a BOM are fine */
	load_one(f, "\xef\xbb\xbf" "a: 1\r\nb: 2\r\n");
}

/* Run fn with stderr redirected; returns what was written there. */
static size_t stderr_bytes_during(void (*fn)(fixture *), fixture *f)
{
	char path[] = "/tmp/strata-test-yaml-XXXXXX";
	int fd = mkstemp(path), saved;
	off_t size;

	assert_true(fd >= 0);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	fn(f);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	size = lseek(fd, 0, SEEK_END);
	close(fd);
	unlink(path);
	return (size_t)size;
}

static void syntax_errors(fixture *f)
{
	const char *m;

	m = load_err(f, "a: [1, 2\nb: c\n", 14, NULL, STRATA_EPARSE);
	assert_non_null(strstr(m, "t.yaml:"));
	assert_true(f->err.line > 0 && f->err.col > 0);
	m = load_err(f, "a: b\n c: d\n", 11, NULL, STRATA_EPARSE);
	assert_string_equal(m, "t.yaml:1:4: invalid multiline plain key");
	m = load_err(f, "a: 'unterminated\n", 17, NULL, STRATA_EPARSE);
	assert_true(f->err.line >= 1);
	/* libfyaml 0.7.12 crashes destroying the parser after this one */
	m = load_err(f, "? a:\t?\n", 7, NULL, STRATA_EPARSE);
	assert_string_equal(m, "t.yaml:1:5: cannot use tab for indentation of block entry");
	m = load_err(f, "- a\nb: c\n", 9, NULL, STRATA_EPARSE);
	assert_string_equal(m, "t.yaml:2:1: invalid scalar at the end of block sequence");
	(void)m;
}

/*
 * One parser kept from file to file (yaml_load.h, as load.c's threads do)
 * gives each file exactly what a fresh parser gives: documents, positions,
 * errors; nothing of a file (anchors, %TAG directives, an error) reaches
 * the next.
 */
static const char *const kept_texts[] = {
	"a: 1\nb: [x, y]\n",
	"%TAG !e! tag:example.com,2024:\n---\nk: !e!thing v\n",
	"k: !e!thing v\n",                       /* the %TAG above is gone */
	"base: &anc {x: 1}\nuse: *anc\n",
	"use: *anc\n",                           /* so is the anchor */
	"a: [1, 2\n",                            /* a syntax error */
	"x: 1\n---\ny: 2\n---\n# empty\n",
	"dup: 1\ndup: 2\n",                      /* strata's own error */
	"%YAML 1.1\n---\nold: yes\n",
	"? a:\t?\n",                             /* the parser that is not destroyed */
	"last: line\nno: newline",
	"",
	"k:\n  - a\n  - b: c\n    d: |\n      text\n",
};

static void load_emit(strata_yaml_parser *ps, const char *text, strata_buf *out,
		      strata_error *err)
{
	strata_arena *a = strata_arena_new();
	strata_yaml_doc *docs = NULL;
	size_t n = 0;
	int rc;

	strata_error_clear(err);
	rc = ps ? strata_yaml_load_with(ps, &docs, &n, a, "k.yaml", text, strlen(text), NULL, err)
		: strata_yaml_load(&docs, &n, a, "k.yaml", text, strlen(text), NULL, err);
	out->len = 0;
	assert_int_equal(strata_buf_printf(out, "rc %d n %zu\n", rc, n), 0);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(strata_buf_printf(out, "--- %u:%u\n", docs[i].line,
						   docs[i].col), 0);
		assert_int_equal(strata_yaml_emit(out, docs[i].root), 0);
	}
	strata_arena_free(a);
}

static void test_yaml__parser_kept_between_files(void **state)
{
	size_t k = sizeof(kept_texts) / sizeof(kept_texts[0]);
	strata_yaml_parser ps = { 0 };
	strata_buf fresh = STRATA_BUF_INIT, kept = STRATA_BUF_INIT;
	strata_error ef, ek;
	int failed = 0;

	(void)state;
	for (size_t r = 0; r < 3 * k; r++) {
		/* every order of neighbours: forwards, backwards, skipping */
		size_t i = r < k ? r : r < 2 * k ? 2 * k - 1 - r : (r * 5) % k;
		load_emit(NULL, kept_texts[i], &fresh, &ef);
		load_emit(&ps, kept_texts[i], &kept, &ek);
		if (fresh.len != kept.len || memcmp(fresh.ptr, kept.ptr, fresh.len) ||
		    ef.code != ek.code || ef.line != ek.line || ef.col != ek.col ||
		    strcmp(ef.msg, ek.msg)) {
			print_error("text %zu differs:\n%.*s%d %d:%d %s\n--- kept:\n%.*s%d %d:%d %s\n",
				    i, (int)fresh.len, fresh.ptr, ef.code, ef.line, ef.col, ef.msg,
				    (int)kept.len, kept.ptr, ek.code, ek.line, ek.col, ek.msg);
			failed++;
		}
	}
	/* the error cases did fail, the others parsed */
	load_emit(NULL, kept_texts[2], &fresh, &ef);
	assert_int_equal(ef.code, STRATA_EPARSE);
	load_emit(NULL, kept_texts[4], &fresh, &ef);
	assert_int_equal(ef.code, STRATA_EPARSE);
	load_emit(&ps, kept_texts[6], &kept, &ek);
	assert_int_equal(ek.code, 0);
	assert_non_null(ps.p); /* a clean file leaves its parser kept */
	strata_yaml_parser_free(&ps);
	assert_null(ps.p);
	strata_buf_free(&fresh);
	strata_buf_free(&kept);
	assert_int_equal(failed, 0);
}

static void test_yaml__syntax_errors_quiet(void **state)
{
	fixture *f = *state;

	assert_int_equal(stderr_bytes_during(syntax_errors, f), 0);
}

static void test_yaml__complex_keys_and_limits(void **state)
{
	fixture *f = *state;
	strata_limits lim;
	const char *m;

	m = load_err(f, "? [a, b]\n: c\n", 13, NULL, STRATA_EPARSE);
	assert_string_equal(m, "t.yaml:1:3: complex map keys are not supported");
	load_err(f, "{a: 1}: x\n", 10, NULL, STRATA_EPARSE);
	load_err(f, "k: &m {a: 1}\n*m : x\n", 20, NULL, STRATA_EPARSE);
	assert_int_equal(f->err.line, 2);
	/* a scalar alias as a key is fine */
	assert_non_null(strata_map_get(load_one(f, "a: &k key\n*k : v\n"), "key"));

	strata_limits_default(&lim);
	lim.max_scalar = 8;
	m = load_err(f, "a: 12345678\nb: 123456789\n", 25, &lim, STRATA_ELIMIT);
	assert_string_equal(m, "t.yaml:2:4: scalar exceeds 8 bytes");
	lim.max_file = 4;
	load_err(f, "a: 12345678\n", 12, &lim, STRATA_ELIMIT);
}

/* The exact output format, as kubectl prints a Deployment. */
static void test_yaml__golden_deployment(void **state)
{
	fixture *f = *state;
	static const char in[] =
		"apiVersion: apps/v1\n"
		"kind: Deployment\n"
		"metadata: {name: web, labels: {app: web, tier: 'front'}}\n"
		"spec:\n"
		"    replicas: 3\n"
		"    selector:\n"
		"        matchLabels: {app: web}\n"
		"    template:\n"
		"        metadata:\n"
		"            labels: {app: web}\n"
		"            annotations: {}\n"
		"        spec:\n"
		"            containers:\n"
		"                -   name: web\n"
		"                    image: \"nginx:1.25\"\n"
		"                    args: [--port, \"8080\"]\n"
		"                    env:\n"
		"                        - {name: MODE, value: \"on\"}\n"
		"                    ports: []\n"
		"                    command:\n"
		"                      - sh\n"
		"                      - -c\n"
		"                      - >\n"
		"                          echo start\n"
		"                          && run\n"
		"            volumes:\n"
		"                - name: data\n"
		"                  emptyDir: {}\n";
	static const char want[] =
		"apiVersion: apps/v1\n"
		"kind: Deployment\n"
		"metadata:\n"
		"  name: web\n"
		"  labels:\n"
		"    app: web\n"
		"    tier: 'front'\n"
		"    env: \"yes\"\n"
		"spec:\n"
		"  replicas: 3\n"
		"  selector:\n"
		"    matchLabels:\n"
		"      app: web\n"
		"  template:\n"
		"    metadata:\n"
		"      labels:\n"
		"        app: web\n"
		"      annotations: {}\n"
		"    spec:\n"
		"      containers:\n"
		"      - name: web\n"
		"        image: \"nginx:1.25\"\n"
		"        args:\n"
		"        - --port\n"
		"        - \"8080\"\n"
		"        env:\n"
		"        - name: MODE\n"
		"          value: \"on\"\n"
		"        ports: []\n"
		"        command:\n"
		"        - sh\n"
		"        - -c\n"
		"        - |\n"
		"          echo start && run\n"
		"      volumes:\n"
		"      - name: data\n"
		"        emptyDir: {}\n";
	strata_node *r = load_one(f, in);
	strata_node *labels = strata_node_at(r, "metadata", "labels", NULL);

	assert_int_equal(strata_map_set(f->a, labels, "env",
					strata_node_scalar_str(f->a, "yes", STRATA_STYLE_STRING)), 0);
	assert_string_equal(emit(f, r), want);
	assert_true(strata_node_equal(r, load_one(f, want)));
}

static void test_yaml__emit_shapes(void **state)
{
	fixture *f = *state;
	strata_node *r;

	/* sequences of sequences and maps, tags on containers, empty values */
	r = load_one(f, "a: [[1, 2], [], {}, {x: [y]}, !t [z], !u {k: v}, ~, '']\nb: !e {}\nc:\n");
	assert_string_equal(emit(f, r),
			    "a:\n"
			    "- - 1\n"
			    "  - 2\n"
			    "- []\n"
			    "- {}\n"
			    "- x:\n"
			    "  - y\n"
			    "- !t\n"
			    "  - z\n"
			    "- !u\n"
			    "  k: v\n"
			    "- ~\n"
			    "- ''\n"
			    "b: !e {}\n"
			    "c:\n");
	assert_true(strata_node_equal(r, load_one(f, f->out.ptr)));

	/* libfyaml cannot read "k:\n-\n": a sequence with a null entry is indented */
	r = load_one(f, "k: [~, '', null, a]\nl: [!!null , b]\n");
	assert_int_equal(strata_scalar_set(f->a, strata_map_get(r, "k")->u.seq.items[0], "", 0, -1), 0);
	assert_string_equal(emit(f, r), "k:\n  -\n  - ''\n  - null\n  - a\nl:\n- !!null\n- b\n");
	assert_true(strata_node_equal(r, load_one(f, f->out.ptr)));

	/* tags: named handles become verbatim tags (no directives are written) */
	r = load_one(f, "%TAG !e! tag:e.com,2000:\n---\nk: !e!foo x\nv: !<tag:x.org,1:y> 1\nn: ! 12\n");
	assert_string_equal(emit(f, r), "k: !<tag:e.com,2000:foo> x\nv: !<tag:x.org,1:y> 1\nn: ! 12\n");
	assert_true(strata_node_equal(r, load_one(f, f->out.ptr)));

	/* an escaped '>' or '<' stays escaped: decoded, it would end a verbatim
	 * tag, and a shorthand one cannot hold it (fuzz_yaml found the first) */
	r = load_one(f, "k: !!a%3Eb x\nv: !<tag:x.org,1:y%3E%3Cz> 1\n");
	assert_string_equal(emit(f, r), "k: !!a%3Eb x\nv: !<tag:x.org,1:y%3E%3Cz> 1\n");
	assert_true(strata_node_equal(r, load_one(f, f->out.ptr)));
	/* every byte, escaped in a !!, a ! and a verbatim tag, and every
	 * printable one as it is where libfyaml reads it: the output re-reads
	 * as the same tags (fuzz_yaml found '>' and then '#'); a byte of 0x80
	 * and up alone is not UTF-8 (refused), so "é" stands for them */
	for (unsigned c = 1; c < 128; c++) {
		char in[160], lit[8] = "";
		if (c > 0x20 && c < 0x7F && !strchr("\"#%<>\\^`{|}!,[]", (int)c))
			snprintf(lit, sizeof(lit), "%c", (int)c);
		snprintf(in, sizeof(in), "a: !!x%%%02Xy 1\nb: !x%%%02Xy 2\nc: !<tag:x%%%02Xy> 3\n"
			 "d: !!p%sq 4\ne: !p%sq 5\n", c, c, c, lit, lit);
		r = load_one(f, in);
		emit(f, r);
		assert_true(strata_node_equal(r, load_one(f, f->out.ptr)));
	}
	r = load_one(f, "a: !!x%C3%A9y 1\nc: !<tag:x%C3%A9y> 3\n");
	emit(f, r);
	assert_true(strata_node_equal(r, load_one(f, f->out.ptr)));

	/* a tagged block sequence under a key */
	r = load_one(f, "k: !t\n- a\n- b\n");
	assert_string_equal(emit(f, r), "k: !t\n- a\n- b\n");
	assert_string_equal(strata_node_tag(strata_map_get(load_one(f, f->out.ptr), "k")), "!t");

	/* roots: sequence, scalar, block scalar, empty containers, tagged map */
	assert_string_equal(emit(f, load_one(f, "[a, {b: c}]")), "- a\n- b: c\n");
	assert_string_equal(emit(f, load_one(f, "'x'")), "'x'\n");
	assert_string_equal(emit(f, load_one(f, "|\n  x\n")), "|\n  x\n");
	assert_string_equal(emit(f, load_one(f, "{}")), "{}\n");
	r = load_one(f, "--- !root\na: 1\n");
	assert_string_equal(emit(f, r), "!root\na: 1\n");
	assert_string_equal(strata_node_tag(load_one(f, f->out.ptr)), "!root");

	/* block scalars in sequences and sequences of maps keep their indentation */
	r = load_one(f, "- |2\n   sp\n- k: |2\n     sp\n  j: |-\n    x\n");
	assert_string_equal(emit(f, r), "- |2\n   sp\n- k: |2\n     sp\n  j: |-\n    x\n");
	assert_true(strata_node_equal(r, load_one(f, f->out.ptr)));

	/* a very long key becomes an explicit key */
	{
		char key[1500];
		strata_node *m = strata_node_map(f->a), *back;
		memset(key, 'k', sizeof(key) - 1);
		key[sizeof(key) - 1] = '\0';
		strata_map_set(f->a, m, key, strata_node_scalar_str(f->a, "v", STRATA_STYLE_PLAIN));
		back = load_one(f, emit(f, m));
		assert_true(strata_node_equal(m, back));
		assert_int_equal(strncmp(f->out.ptr, "? kkk", 5), 0);
		/* with a sequence and a map as values, nested in a map */
		r = strata_node_map(f->a);
		strata_map_set(f->a, m, key, load_one(f, "[a, b]"));
		strata_map_set(f->a, m, "short", load_one(f, "{c: d}"));
		strata_map_set(f->a, r, "outer", m);
		back = load_one(f, emit(f, r));
		assert_true(strata_node_equal(r, back));
	}
}

static void test_yaml__emit_inline(void **state)
{
	fixture *f = *state;
	const strata_node *back;
	static const struct {
		const char *text;
		strata_style st;
		const char *want;
	} cases[] = {
		{ "web", STRATA_STYLE_STRING, "web" },
		{ "yes", STRATA_STYLE_STRING, "\"yes\"" },
		{ "a,b", STRATA_STYLE_STRING, "\"a,b\"" },
		{ "3", STRATA_STYLE_PLAIN, "3" },
		{ "", STRATA_STYLE_PLAIN, "null" },
		{ "x", STRATA_STYLE_SINGLE, "'x'" },
		{ "two\nlines\n", STRATA_STYLE_LITERAL, "\"two\\nlines\\n\"" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f->out.len = 0;
		assert_int_equal(strata_yaml_emit_inline(&f->out,
			strata_node_scalar_str(f->a, cases[i].text, cases[i].st)), 0);
		assert_string_equal(f->out.ptr, cases[i].want);
	}
	f->out.len = 0;
	assert_int_equal(strata_yaml_emit_inline(&f->out, load_one(f, "{a: [1, 'x'], b: {}}")), 0);
	assert_string_equal(f->out.ptr, "{a: [1, 'x'], b: {}}");
	/* an empty plain key ("? " alone) is "" as the block emitter writes
	 * it, so the document emitted and read back shows the same */
	f->out.len = 0;
	assert_int_equal(strata_yaml_emit_inline(&f->out, load_one(f, "? \n: v\nw: ~\n")), 0);
	assert_string_equal(f->out.ptr, "{\"\": v, w: ~}");
	back = load_one(f, emit(f, load_one(f, "? \n: v\n")));
	f->out.len = 0;
	assert_int_equal(strata_yaml_emit_inline(&f->out, back), 0);
	assert_string_equal(f->out.ptr, "{\"\": v}");
}

/*
 * Copy-on-write (doc.h): an edit through a cursor copies the maps and
 * sequences above it once, even when another cursor made earlier reaches
 * the same node, and never changes what was loaded.  In an arena that is
 * not copy-on-write, the same calls edit in place.
 */
static void test_yaml__copy_on_write_cursors(void **state)
{
	fixture *f = *state;
	const char *text = "a:\n  b: {c: '1', d: '2'}\n  e: [x, y]\nf: {g: h}\n";
	strata_node *loaded = load_one(f, text), *root = loaded, **slot, *kept;
	strata_cur top, a, b1, b2, c, d, e, y, fc;
	strata_buf before = STRATA_BUF_INIT;

	assert_true(loaded->flags & STRATA_NODE_SHARED);
	assert_int_equal(strata_yaml_emit(&before, loaded), 0);
	strata_arena_set_cow(f->a, true);
	strata_cur_top(&top, &root);
	assert_non_null(strata_cur_map(&a, &top, "a"));
	assert_non_null(strata_cur_map(&b1, &a, "b"));
	assert_non_null(strata_cur_map(&b2, &a, "b"));
	assert_non_null(strata_cur_get(&c, &b1, "c"));
	assert_non_null(strata_cur_get(&d, &b2, "d"));
	assert_null(strata_cur_map(&fc, &a, "e")); /* a sequence, not a map */
	assert_null(strata_cur_get(&fc, NULL, "a"));
	kept = strata_map_get(loaded, "f");

	slot = strata_cur_slot(f->a, &c);
	assert_non_null(slot);
	*slot = strata_node_scalar_str(f->a, "one", STRATA_STYLE_STRING);
	assert_ptr_not_equal(root, loaded);          /* the top was copied */
	assert_false(root->flags & STRATA_NODE_SHARED);
	assert_ptr_equal(strata_map_get(root, "f"), kept); /* the rest is shared */
	/* b2 was made before the copy: it finds b1's copy, not a second one */
	slot = strata_cur_slot(f->a, &d);
	*slot = strata_node_scalar_str(f->a, "two", STRATA_STYLE_STRING);
	assert_ptr_equal(b1.node, b2.node);
	assert_ptr_equal(strata_node_at(root, "a", "b", NULL), b1.node);
	/* a sequence item, with room for one more item in the copy */
	assert_non_null(strata_cur_seq(&e, &a, "e"));
	assert_non_null(strata_cur_at(&y, &e, 1));
	assert_non_null(strata_cur_own(f->a, &e, 1));
	assert_int_equal(e.node->u.seq.cap, 3);
	assert_int_equal(strata_seq_append(f->a, e.node,
					   strata_node_scalar_str(f->a, "z", STRATA_STYLE_PLAIN)), 0);
	assert_null(strata_cur_at(&fc, &e, 3));

	strata_buf_free(&f->out);
	assert_int_equal(strata_yaml_emit(&f->out, root), 0);
	assert_string_equal(f->out.ptr, "a:\n  b:\n    c: one\n    d: two\n  e:\n  - x\n"
					"  - y\n  - z\nf:\n  g: h\n");
	f->out.len = 0;
	assert_int_equal(strata_yaml_emit(&f->out, loaded), 0);
	assert_string_equal(f->out.ptr, before.ptr); /* as loaded */

	/* not copy-on-write: the same calls edit the loaded tree itself */
	strata_arena_set_cow(f->a, false);
	root = loaded;
	strata_cur_top(&top, &root);
	strata_cur_map(&a, &top, "a");
	assert_ptr_equal(strata_cur_own(f->a, &a, 4), strata_map_get(loaded, "a"));
	assert_ptr_equal(strata_node_own(f->a, &root, 0), loaded);
	strata_buf_free(&before);
}

static void test_yaml__plain_safe(void **state)
{
	(void)state;
	assert_true(strata_yaml_plain_safe("web", 3));
	assert_true(strata_yaml_plain_safe("-1", 2));
	assert_true(strata_yaml_plain_safe("a:b", 3));
	assert_true(strata_yaml_plain_safe("a#b", 3));
	assert_true(strata_yaml_plain_safe("caf\xc3\xa9", 5));
	assert_false(strata_yaml_plain_safe("", 0));
	assert_false(strata_yaml_plain_safe("- x", 3));
	assert_false(strata_yaml_plain_safe("-", 1));
	assert_false(strata_yaml_plain_safe("---", 3));
	assert_false(strata_yaml_plain_safe("...", 3));
	assert_false(strata_yaml_plain_safe("?x", 2));
	assert_false(strata_yaml_plain_safe(":x", 2));
	assert_false(strata_yaml_plain_safe("a: b", 4));
	assert_false(strata_yaml_plain_safe("a #b", 4));
	assert_false(strata_yaml_plain_safe("end:", 4));
	assert_false(strata_yaml_plain_safe(" x", 2));
	assert_false(strata_yaml_plain_safe("x ", 2));
	assert_false(strata_yaml_plain_safe("a\tb", 3));
	assert_false(strata_yaml_plain_safe("a\nb", 3));
	assert_false(strata_yaml_plain_safe("a\xff", 2));
	for (const char *p = "-?:,[]{}#&*!|>'\"%@`"; *p; p++) {
		char s[3] = { *p, ' ', 0 };
		assert_false(strata_yaml_plain_safe(s, 2));
	}
}

/*
 * The origin table (doc.c) keeps records in chunks that double in size
 * (256, 512, 1,024 ...): ids past several chunk boundaries read back the
 * file and tag they were made for, the same pair gives the same id, and
 * nodes made through the public calls agree.
 */
static void test_yaml__origins_across_chunks(void **state)
{
	enum { N = 5000 };
	static uint32_t ids[N];
	char file[64], tag[64];
	strata_node n;

	(void)state;
	for (int i = 0; i < N; i++) {
		snprintf(file, sizeof(file), "origins/%d.yaml", i);
		snprintf(tag, sizeof(tag), "!t%d", i % 7);
		ids[i] = strata_origin(file, i % 3 ? tag : NULL);
		assert_true(ids[i] != 0);
		for (int j = i - 1; j >= 0 && j >= i - 3; j--)
			assert_true(ids[j] != ids[i]);
	}
	for (int i = 0; i < N; i++) {
		memset(&n, 0, sizeof(n));
		n.origin = ids[i];
		snprintf(file, sizeof(file), "origins/%d.yaml", i);
		snprintf(tag, sizeof(tag), "!t%d", i % 7);
		assert_string_equal(strata_node_file(&n), file);
		if (i % 3)
			assert_string_equal(strata_node_tag(&n), tag);
		else
			assert_null(strata_node_tag(&n));
		assert_int_equal(strata_origin(file, i % 3 ? tag : NULL), ids[i]);
		/* a new tag on a node keeps its file */
		assert_int_equal(strata_node_set_tag(&n, "!other"), 0);
		assert_string_equal(strata_node_file(&n), file);
		assert_string_equal(strata_node_tag(&n), "!other");
	}
	assert_int_equal(strata_origin(NULL, NULL), 0);
}

/* The helpers' warm-up document (yaml_load.c) parses: two documents. */
static void test_yaml__warm_document_parses(void **state)
{
	(void)state;
	assert_int_equal(strata_yaml_warm(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_yaml__roundtrip_created_scalars, setup, teardown),
		cmocka_unit_test_setup_teardown(test_yaml__roundtrip_random_trees, setup, teardown),
		cmocka_unit_test_setup_teardown(test_yaml__pack_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_yaml__roundtrip_long_strings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_yaml__string_style_quoting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_yaml__roundtrip_source_styles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_yaml__positions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_yaml__multi_document, setup, teardown),
		cmocka_unit_test_setup_teardown(test_yaml__anchors_and_merge_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_yaml__billion_laughs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_yaml__deep_nesting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_yaml__duplicate_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_yaml__duplicate_key_names_its_rule, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_yaml__bad_input_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_yaml__syntax_errors_quiet, setup, teardown),
		cmocka_unit_test(test_yaml__parser_kept_between_files),
		cmocka_unit_test_setup_teardown(test_yaml__complex_keys_and_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_yaml__golden_deployment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_yaml__emit_shapes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_yaml__emit_inline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_yaml__plain_safe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_yaml__copy_on_write_cursors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_yaml__single_quoted_decode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_yaml__emit_memo_follows_text, setup, teardown),
		cmocka_unit_test(test_yaml__origins_across_chunks),
		cmocka_unit_test(test_yaml__warm_document_parses),
	};

	return cmocka_run_group_tests_name("yaml", tests, NULL, NULL);
}
