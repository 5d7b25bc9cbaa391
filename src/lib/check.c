/*
 * check.c - `strata check`: every problem of a config repository, not just
 * the first.
 *
 * Three sources of problems feed one list:
 *
 *  - strata.ini.  The parser stops at its first error; to find the next
 *    one the text is parsed again with the offending line blanked out (the
 *    whole section when the line is a section header), keeping every line
 *    number.  What finally parses is used to render, so YAML problems are
 *    found even when strata.ini has some.
 *  - The render of each environment in collecting mode (render.h), which
 *    reports parse errors, bad documents, patch and variable problems and
 *    steps over them.
 *  - Rules on the rendered result: plaintext Secrets, empty environments,
 *    overlay directories no environment uses.
 *
 * Rule ids come from the error itself: its maker names the rule
 * (strata_error.rule; config.c does for every strata.ini error, yaml_load.c
 * for duplicate keys and encoding, resource.c for documents that are not
 * resources).  A render-stage rule (render.h) is refined by the error's
 * rule and code only; message text is still read for errors that stop a
 * render or strata.ini errors that name no rule.  The list is
 * sorted by position and problems seen in several environments are merged.
 * No message ever holds a Secret value: the secret rule names keys only.
 */
#include "strata/check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Blank-and-reparse rounds for strata.ini before giving up. */
#define MAX_INI_ROUNDS 100
/* Larger files get fewer rounds: each round parses the whole file again. */
#define MAX_INI_ROUNDS_BIG 5
#define BIG_INI (1u << 20)
/* Keys named in one plaintext-secret message. */
#define MAX_SECRET_KEYS 5

/* ---- the result list ---- */

void strata_check_result_init(strata_check_result *r)
{
	memset(r, 0, sizeof(*r));
}

void strata_check_result_free(strata_check_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->items[i].file);
		free(r->items[i].msg);
		free(r->items[i].envs);
	}
	free(r->items);
	strata_check_result_init(r);
}

static int add_item(strata_check_result *r, int severity, const char *rule,
		    const char *file, int line, int col, const char *env,
		    const char *msg)
{
	strata_check_item *it;

	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		strata_check_item *items = realloc(r->items, cap * sizeof(*items));
		if (!items)
			return STRATA_ENOMEM;
		r->items = items;
		r->cap = cap;
	}
	it = &r->items[r->n];
	it->severity = severity;
	it->rule = rule;
	it->line = line;
	it->col = col;
	it->file = strdup(file ? file : "");
	it->msg = strdup(msg ? msg : "");
	it->envs = strdup(env ? env : "");
	if (!it->file || !it->msg || !it->envs) {
		free(it->file);
		free(it->msg);
		free(it->envs);
		return STRATA_ENOMEM;
	}
	r->n++;
	if (severity == STRATA_CHECK_ERROR)
		r->errors++;
	else
		r->warnings++;
	return 0;
}

int strata_check_add(strata_check_result *r, int severity, const char *rule,
		     const char *file, int line, int col, const char *env,
		     const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return add_item(r, severity, rule, file, line, col, env, msg);
}

/* Sort key: position, then what it says, then insertion order (stable). */
typedef struct sort_ent {
	strata_check_item *it;
	size_t idx;
} sort_ent;

static int cmp_item(const strata_check_item *a, const strata_check_item *b)
{
	int c;

	/* problems without a file (an unknown environment) come first */
	if ((c = strcmp(a->file, b->file)) != 0)
		return c;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	if (a->col != b->col)
		return a->col < b->col ? -1 : 1;
	if (a->severity != b->severity)
		return a->severity < b->severity ? -1 : 1;
	if ((c = strcmp(a->rule, b->rule)) != 0)
		return c;
	return strcmp(a->msg, b->msg);
}

static int cmp_sort(const void *x, const void *y)
{
	const sort_ent *a = x, *b = y;
	int c = cmp_item(a->it, b->it);

	if (c)
		return c;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Append env (when not listed yet) to the comma list *envs. */
static int join_env(char **envs, const char *env)
{
	size_t n = strlen(*envs), m = strlen(env);
	const char *p = *envs;
	char *s;

	if (!m)
		return 0;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == m && !memcmp(p, env, m))
			return 0;
		p += len + (end ? 1 : 0);
	}
	s = realloc(*envs, n + m + 2);
	if (!s)
		return STRATA_ENOMEM;
	if (n)
		s[n++] = ',';
	memcpy(s + n, env, m + 1);
	*envs = s;
	return 0;
}

int strata_check_result_finish(strata_check_result *r)
{
	sort_ent *ents;
	strata_check_item *items;
	size_t k = 0;
	int rc = 0;

	if (!r->n)
		return 0;
	ents = malloc(r->n * sizeof(*ents));
	items = malloc(r->n * sizeof(*items));
	if (!ents || !items) {
		free(ents);
		free(items);
		return STRATA_ENOMEM;
	}
	for (size_t i = 0; i < r->n; i++) {
		ents[i].it = &r->items[i];
		ents[i].idx = i;
	}
	qsort(ents, r->n, sizeof(*ents), cmp_sort);
	r->errors = r->warnings = 0;
	for (size_t i = 0; i < r->n; i++) {
		strata_check_item *it = ents[i].it;
		if (k && !cmp_item(&items[k - 1], it)) {
			if (rc == 0)
				rc = join_env(&items[k - 1].envs, it->envs);
			free(it->file);
			free(it->msg);
			free(it->envs);
			continue;
		}
		items[k++] = *it;
		if (it->severity == STRATA_CHECK_ERROR)
			r->errors++;
		else
			r->warnings++;
	}
	free(r->items);
	free(ents);
	r->items = items;
	r->n = k;
	r->cap = r->n ? r->n : 0;
	if (!r->n) {
		free(items);
		r->items = NULL;
	}
	return rc;
}

/* ---- rule ids ---- */

static bool has(const char *s, const char *what)
{
	return strstr(s, what) != NULL;
}

/*
 * A strata.ini error's rule: the one its maker named (config.c names one
 * for every error), else guessed from the message.
 */
static const char *ini_rule(const strata_error *e)
{
	const char *m = e->msg;

	if (e->code == STRATA_EUNSAFE)
		return "unsafe-path";
	if (e->code == STRATA_ELIMIT)
		return "limit";
	if (e->rule)
		return e->rule;
	/* fallback for errors that name no rule */
	if (has(m, "unknown section") || has(m, "takes no name"))
		return "ini-unknown-section";
	if (has(m, "unknown key") || has(m, "outside of any section"))
		return "ini-unknown-key";
	if (has(m, "line too long"))
		return "ini-line-too-long";
	if (has(m, "inherit cycle"))
		return "ini-inherit-cycle";
	if (has(m, "unknown parent environment"))
		return "ini-unknown-parent";
	if (has(m, "invalid environment name") || has(m, "needs a name: [env"))
		return "ini-env-name";
	if (has(m, "branch"))
		return "ini-branch";
	if (has(m, "invalid path"))
		return "ini-path";
	if (has(m, "duplicate"))
		return "ini-duplicate";
	if (has(m, "applied twice"))
		return "ini-overlay-twice";
	return "ini-syntax";
}

/* Refine a render-stage rule (render.h) from the error it came with. */
static const char *render_rule(const char *rule, const strata_error *e)
{
	if (e->code == STRATA_ELIMIT)
		return "limit";
	if (e->code == STRATA_EUNSAFE)
		return "unsafe-path";
	if (!strcmp(rule, "yaml")) {
		if (e->code == STRATA_EIO)
			return "io";
		/*
		 * yaml_load.c names duplicate-key and yaml-encoding.  What
		 * arrives without a rule is a syntax error by construction
		 * (libfyaml's diagnostics, complex keys, undefined aliases),
		 * so no message is looked at.
		 */
		return e->rule ? e->rule : "yaml-syntax";
	}
	if (!strcmp(rule, "resource")) {
		/*
		 * strata_resource_init (resource.c), the only maker of these,
		 * names not-a-mapping or missing-field for every error; the
		 * default only keeps a future unnamed error in the same class.
		 */
		return e->rule ? e->rule : "missing-field";
	}
	/* the rules render.h lists, as static strings of our own */
	static const char *const known[] = {
		"duplicate-resource", "resource-collision", "patch-not-found",
		"patch-ambiguous", "patch-invalid", "undefined-variable",
		"variable-syntax", "transform", "unsafe-path", "missing-overlay",
	};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(rule, known[i]))
			return known[i];
	return "render";
}

/*
 * The rule of an error that stopped a render: the one its maker named,
 * else one guessed from its code and message.
 */
static const char *fatal_rule(const strata_error *e)
{
	switch (e->code) {
	case STRATA_ECONFIG:
		if (e->rule)
			return e->rule;
		if (has(e->msg, "not a strata repository"))
			return "no-config";
		if (has(e->msg, "base directory"))
			return "missing-base";
		if (has(e->msg, "overlay '"))
			return "missing-overlay";
		return ini_rule(e);
	case STRATA_ENOTFOUND:
		if (e->rule)
			return e->rule;
		return has(e->msg, "environment") ? "unknown-env" : "render";
	case STRATA_EPARSE:
		return render_rule("yaml", e);
	case STRATA_ELIMIT:
		return "limit";
	case STRATA_EUNSAFE:
		return "unsafe-path";
	case STRATA_ECONFLICT:
		return "duplicate-resource";
	case STRATA_EUNDEFVAR:
		return "undefined-variable";
	case STRATA_EIO:
		return "io";
	default:
		return "render";
	}
}

static int add_error(strata_check_result *r, const char *rule,
		     const strata_error *e, const char *env)
{
	return add_item(r, STRATA_CHECK_ERROR, rule, e->file, e->line, e->col, env,
			e->msg[0] ? e->msg : "error");
}

/* ---- plaintext secrets ---- */

static bool sops_value(const strata_node *v)
{
	if (!v)
		return true;
	if (v->type != STRATA_NODE_SCALAR)
		return false;
	if (v->u.scalar.len == 0 || strata_scalar_kind_of(v) == STRATA_SCALAR_NULL)
		return true; /* nothing to leak */
	return v->u.scalar.len >= 4 && !memcmp(v->u.scalar.str, "ENC[", 4);
}

/* The first plaintext value of data/stringData map m, or NULL. */
static const strata_node *first_plain(const strata_node *m)
{
	if (!m || strata_scalar_kind_of(m) == STRATA_SCALAR_NULL)
		return NULL;
	if (m->type != STRATA_NODE_MAP)
		return m; /* not a map: do not guess, refuse */
	for (uint32_t i = 0; i < m->u.map.n; i++)
		if (!sops_value(m->u.map.pairs[i].value))
			return m->u.map.pairs[i].value;
	return NULL;
}

bool strata_check_secret_plaintext(const strata_resource *res,
				   const strata_node **where)
{
	const strata_node *p;

	if (where)
		*where = NULL;
	if (!res || !res->root || res->root->type != STRATA_NODE_MAP)
		return false;
	if (strcmp(res->kind ? res->kind : "", "Secret") != 0 ||
	    (res->group && res->group[0]))
		return false;
	if (strata_map_get(res->root, "sops"))
		return false;
	p = first_plain(strata_map_get(res->root, "data"));
	if (!p)
		p = first_plain(strata_map_get(res->root, "stringData"));
	if (where)
		*where = p;
	return p != NULL;
}

/* "data.a, stringData.b" (at most MAX_SECRET_KEYS): key names, never values. */
static void plain_keys(strata_buf *b, const strata_node *root)
{
	static const char *const fields[] = { "data", "stringData" };
	size_t shown = 0, more = 0;

	for (size_t f = 0; f < 2; f++) {
		const strata_node *m = strata_map_get(root, fields[f]);
		if (!m || m->type != STRATA_NODE_MAP)
			continue;
		for (uint32_t i = 0; i < m->u.map.n; i++) {
			const strata_node *k = m->u.map.pairs[i].key;
			if (sops_value(m->u.map.pairs[i].value))
				continue;
			if (shown == MAX_SECRET_KEYS) {
				more++;
				continue;
			}
			/* key text is shown only when it is tame */
			strata_buf_printf(b, "%s%s.", shown ? ", " : "", fields[f]);
			if (k->u.scalar.len <= 64 &&
			    strata_yaml_plain_safe(k->u.scalar.str, k->u.scalar.len))
				strata_buf_put(b, k->u.scalar.str, k->u.scalar.len);
			else
				strata_buf_puts(b, "<key>");
			shown++;
		}
	}
	if (more)
		strata_buf_printf(b, " and %zu more", more);
}

int strata_check_render(strata_check_result *out, const strata_render *r,
			strata_error *err)
{
	const strata_env *env = strata_render_envconf(r);
	strata_error first;
	size_t n = strata_render_count(r);
	int rc = 0;

	strata_error_clear(&first);
	for (size_t i = 0; i < n && rc == 0; i++) {
		const strata_resource *res = strata_render_at(r, i);
		const strata_node *where = NULL;
		strata_buf keys = STRATA_BUF_INIT;
		const char *file, *wf;
		int line, col;
		char msg[1400];

		if (env->allow_plaintext_secrets ||
		    !strata_check_secret_plaintext(res, &where))
			continue;
		plain_keys(&keys, res->root);
		/* neither env nor namespace: one line for every env */
		snprintf(msg, sizeof(msg),
			 "plaintext Secret '%s' (%s): encrypt the values with "
			 "SOPS or set allow_plaintext_secrets = true for the "
			 "environment", res->name,
			 keys.ptr ? keys.ptr : "value is not a mapping");
		strata_buf_free(&keys);
		wf = strata_node_file(where);
		file = wf ? wf : res->file;
		line = wf ? (int)where->line : (int)res->line;
		col = wf ? (int)where->col : (int)res->col;
		if (!first.code)
			strata_error_set(&first, STRATA_ECHECK, file, line, col,
					 "%s [plaintext-secret]", msg);
		if (out)
			rc = add_item(out, STRATA_CHECK_ERROR, "plaintext-secret", file,
				      line, col, env->name, msg);
	}
	if (rc == 0 && out && n == 0)
		rc = strata_check_add(out, STRATA_CHECK_WARNING, "empty-env",
				      STRATA_CONFIG_FILE, 0, 0, env->name,
				      "environment '%s' renders no resources", env->name);
	if (rc < 0)
		return rc;
	if (first.code)
		return strata_error_set(err, STRATA_ECHECK, first.file[0] ? first.file : NULL,
					first.line, first.col, "%s", first.msg);
	return 0;
}

/* ---- one environment ---- */

typedef struct sink {
	strata_check_result *res;
	const char *env;
	int rc;
} sink;

static void on_problem(void *ctx, const char *rule, const strata_error *e)
{
	sink *s = ctx;

	const char *r = render_rule(rule, e);
	/* what loading found does not depend on the environment */
	bool any_env = !strcmp(rule, "yaml") || !strcmp(rule, "resource") ||
		       !strcmp(rule, "unsafe-path") || !strcmp(rule, "missing-overlay") ||
		       !strcmp(rule, "duplicate-resource");

	if (s->rc == 0)
		s->rc = add_error(s->res, r, e, any_env ? NULL : s->env);
}

/* Collecting render + rules into res (never NULL here). */
static int check_env_into(strata_check_result *res, strata_repo *repo,
			  const char *env)
{
	strata_render_opts opts;
	strata_render *r = NULL;
	strata_error e;
	sink s = { res, env, 0 };
	int rc;

	opts.on_problem = on_problem;
	opts.ctx = &s;
	strata_error_clear(&e);
	rc = strata_render_env_opts(&r, repo, env, &opts, &e);
	if (s.rc < 0) {
		strata_render_free(r);
		return s.rc;
	}
	if (rc == STRATA_ENOMEM)
		return rc;
	if (rc < 0)
		return add_error(res, fatal_rule(&e), &e, env);
	res->envs_checked++;
	strata_error_clear(&e);
	rc = strata_check_render(res, r, &e);
	strata_render_free(r);
	return rc == STRATA_ECHECK ? 0 : rc;
}

/* STRATA_ECHECK with the first error of res in err, or 0. */
static int verdict(const strata_check_result *res, strata_error *err)
{
	for (size_t i = 0; i < res->n; i++) {
		const strata_check_item *it = &res->items[i];
		if (it->severity != STRATA_CHECK_ERROR)
			continue;
		strata_error_set(err, STRATA_ECHECK, it->file[0] ? it->file : NULL,
				 it->line, it->col, "%s [%s]%s", it->msg, it->rule,
				 res->errors > 1 ? " (and more: run strata check)" : "");
		return STRATA_ECHECK;
	}
	return 0;
}

int strata_check_env(strata_check_result *out, strata_repo *repo,
		     const char *env, strata_error *err)
{
	strata_check_result local;
	strata_check_result *res = out ? out : &local;
	int rc;

	if (!out)
		strata_check_result_init(&local);
	rc = check_env_into(res, repo, env);
	if (rc == 0)
		rc = strata_check_result_finish(res);
	if (rc == 0)
		rc = verdict(res, err);
	else
		strata_error_set(err, rc, NULL, 0, 0, "out of memory");
	if (!out)
		strata_check_result_free(&local);
	return rc;
}

/* ---- strata.ini ---- */

/*
 * Blank line `line` (1-based) of text, or from it to the next section
 * header when it is a header itself.  Returns false when there was nothing
 * left to blank (the line is already empty or does not exist).
 */
static bool blank_line(char *text, size_t len, int line)
{
	size_t i = 0, start;
	bool header, changed = false;

	for (int l = 1; l < line && i < len; l++) {
		const char *nl = memchr(text + i, '\n', len - i);
		if (!nl)
			return false;
		i = (size_t)(nl - text) + 1;
	}
	if (i >= len)
		return false;
	start = i;
	while (start < len && (text[start] == ' ' || text[start] == '\t'))
		start++;
	header = start < len && text[start] == '[';
	for (bool first = true; i < len; first = false) {
		size_t j = i;
		while (j < len && (text[j] == ' ' || text[j] == '\t'))
			j++;
		if (!first && (!header || (j < len && text[j] == '[')))
			break;
		for (; i < len && text[i] != '\n'; i++) {
			if (text[i] != ' ') {
				text[i] = ' ';
				changed = true;
			}
		}
		if (i < len)
			i++; /* the newline stays: line numbers do not move */
	}
	return changed;
}

/*
 * Parse strata.ini, collecting its errors.  *out is what parses after the
 * offending lines were blanked (NULL when that did not work).
 */
static int parse_ini(strata_config **out, strata_check_result *res,
		     const char *buf, size_t len)
{
	size_t rounds = len > BIG_INI ? MAX_INI_ROUNDS_BIG : MAX_INI_ROUNDS;
	char *text = malloc(len + 1);
	int rc = 0;

	*out = NULL;
	if (!text)
		return STRATA_ENOMEM;
	memcpy(text, buf, len);
	text[len] = '\0';
	for (size_t round = 0;; round++) {
		strata_error e;

		strata_error_clear(&e);
		rc = strata_config_parse(out, STRATA_CONFIG_FILE, text, len, &e);
		if (rc == 0 || rc == STRATA_ENOMEM)
			break;
		if (!e.file[0])
			snprintf(e.file, sizeof(e.file), "%s", STRATA_CONFIG_FILE);
		if ((rc = add_error(res, ini_rule(&e), &e, NULL)) < 0)
			break;
		rc = 0;
		if (round + 1 >= rounds || e.line <= 0 ||
		    !blank_line(text, len, e.line))
			break;
	}
	free(text);
	return rc;
}

/* ---- overlays nobody uses ---- */

static int unused_overlays(strata_check_result *res, strata_repo *repo)
{
	const strata_config *cfg = strata_repo_config(repo);
	strata_source *src = strata_repo_source(repo);
	strata_source_entry *ents = NULL;
	size_t n = 0;
	int type = 0, rc = 0;
	strata_error e;
	strata_env **envs;

	strata_error_clear(&e);
	if (src->stat(src, "overlays", &type, &e) < 0 || type != STRATA_ENTRY_DIR)
		return 0;
	if (src->list(src, "overlays", &ents, &n, &e) < 0)
		return 0; /* the render reported what is wrong there */
	envs = calloc(cfg->n_envs + 1, sizeof(*envs));
	if (!envs) {
		strata_source_entries_free(ents, n);
		return STRATA_ENOMEM;
	}
	for (size_t i = 0; i < cfg->n_envs; i++) {
		strata_error_clear(&e);
		strata_config_env(&envs[i], cfg, cfg->envs[i].name, &e);
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		char path[1024];
		bool used = false;

		if (ents[i].type != STRATA_ENTRY_DIR || ents[i].name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "overlays/%s", ents[i].name);
		for (size_t k = 0; k < cfg->n_envs && !used; k++) {
			for (size_t j = 0; envs[k] && j < envs[k]->n_overlays; j++) {
				const char *o = envs[k]->overlays[j];
				size_t pl = strlen(path);
				/* used when an overlay is it or lies below it */
				size_t ol = strlen(o);
				if ((!strncmp(o, path, pl) && (!o[pl] || o[pl] == '/')) ||
				    (!strncmp(path, o, ol) && path[ol] == '/')) {
					used = true;
					break;
				}
			}
		}
		if (!used)
			rc = strata_check_add(res, STRATA_CHECK_WARNING, "unused-overlay",
					      path, 0, 0, NULL,
					      "overlay directory '%s' is not used by any environment",
					      path);
	}
	for (size_t i = 0; i < cfg->n_envs; i++)
		strata_env_free(envs[i]);
	free(envs);
	strata_source_entries_free(ents, n);
	return rc;
}

/* ---- the whole repository ---- */

int strata_check_repo(strata_check_result *out, strata_source *src,
		      const char *const *envs, size_t n_envs,
		      const strata_limits *lim, strata_error *err)
{
	strata_check_result local;
	strata_check_result *res = out ? out : &local;
	strata_config *cfg = NULL;
	strata_repo *repo = NULL;
	strata_limits dl;
	strata_error e;
	char *buf = NULL;
	size_t len = 0;
	int type = 0, rc;

	if (!out)
		strata_check_result_init(&local);
	if (!lim) {
		strata_limits_default(&dl);
		lim = &dl;
	}
	src->max_file = lim->max_file;
	strata_error_clear(&e);
	rc = src->stat(src, STRATA_CONFIG_FILE, &type, &e);
	if (rc == 0 && type != STRATA_ENTRY_FILE)
		rc = strata_error_set_rule(&e, "no-config", STRATA_ECONFIG,
					   STRATA_CONFIG_FILE, 0, 0,
					   "not a strata repository (no %s here; use -C DIR)",
					   STRATA_CONFIG_FILE);
	if (rc == 0)
		rc = src->read(src, STRATA_CONFIG_FILE, &buf, &len, &e);
	if (rc < 0) {
		strata_source_free(src);
		if (rc != STRATA_ENOMEM)
			rc = add_error(res, fatal_rule(&e), &e, NULL);
		goto done;
	}
	rc = parse_ini(&cfg, res, buf, len);
	free(buf);
	if (rc < 0 || !cfg) {
		strata_source_free(src);
		goto done;
	}
	if (cfg->n_envs == 0 && !n_envs &&
	    (rc = strata_check_add(res, STRATA_CHECK_WARNING, "no-env",
				   STRATA_CONFIG_FILE, 0, 0, NULL,
				   "strata.ini defines no environment")) < 0) {
		strata_config_free(cfg);
		strata_source_free(src);
		goto done;
	}
	rc = strata_repo_open_config(&repo, src, cfg, lim, &e);
	if (rc < 0)
		goto done;
	if (n_envs) {
		for (size_t i = 0; i < n_envs && rc == 0; i++)
			rc = check_env_into(res, repo, envs[i]);
	} else {
		/* a copy of the names: cfg belongs to the repo */
		const strata_config *c = strata_repo_config(repo);
		for (size_t i = 0; i < c->n_envs && rc == 0; i++)
			rc = check_env_into(res, repo, c->envs[i].name);
		if (rc == 0)
			rc = unused_overlays(res, repo);
	}
done:
	strata_repo_free(repo);
	if (rc == 0)
		rc = strata_check_result_finish(res);
	if (rc == 0)
		rc = verdict(res, err);
	else
		strata_error_set(err, rc, NULL, 0, 0, "out of memory");
	if (!out)
		strata_check_result_free(&local);
	return rc;
}

/* ---- reports ---- */

static const char *severity_name(int s)
{
	return s == STRATA_CHECK_ERROR ? "error" : "warning";
}

static size_t count_envs(const char *envs)
{
	size_t n = *envs ? 1 : 0;

	for (; *envs; envs++)
		n += *envs == ',';
	return n;
}

int strata_check_format_text(strata_buf *out, const strata_check_result *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const strata_check_item *it = &r->items[i];
		int rc;

		if (it->file[0] && it->line > 0)
			rc = strata_buf_printf(out, "%s:%d:%d: ", it->file, it->line,
					       it->col > 0 ? it->col : 1);
		else if (it->file[0])
			rc = strata_buf_printf(out, "%s: ", it->file);
		else
			rc = 0;
		if (rc == 0)
			rc = strata_buf_printf(out, "%s: %s", severity_name(it->severity),
					       it->msg);
		/* name the environments unless it is all of them */
		if (rc == 0 && it->envs[0] && count_envs(it->envs) < r->envs_checked) {
			rc = strata_buf_puts(out, " (env ");
			for (const char *p = it->envs; rc == 0 && *p;) {
				size_t len = strcspn(p, ",");
				rc = strata_buf_printf(out, "%s'%.*s'", p == it->envs ? "" : ", ",
						       (int)len, p);
				p += len + (p[len] ? 1 : 0);
			}
			if (rc == 0)
				rc = strata_buf_putc(out, ')');
		}
		if (rc == 0)
			rc = strata_buf_printf(out, " [%s]\n", it->rule);
		if (rc < 0)
			return STRATA_ENOMEM;
	}
	return 0;
}

static int json_str(strata_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	int rc = strata_buf_putc(b, '"');

	for (; rc == 0 && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };
			rc = strata_buf_put(b, esc, 2);
		} else if (c == '\n') {
			rc = strata_buf_puts(b, "\\n");
		} else if (c == '\t') {
			rc = strata_buf_puts(b, "\\t");
		} else if (c < 0x20 || c == 0x7f) {
			char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			rc = strata_buf_put(b, esc, 6);
		} else {
			rc = strata_buf_putc(b, (char)c);
		}
	}
	if (rc == 0)
		rc = strata_buf_putc(b, '"');
	return rc;
}

int strata_check_format_json(strata_buf *out, const strata_check_result *r)
{
	int rc = strata_buf_printf(out, "{\"errors\":%zu,\"warnings\":%zu,"
				   "\"environments\":%zu,\"problems\":[",
				   r->errors, r->warnings, r->envs_checked);

	for (size_t i = 0; i < r->n && rc == 0; i++) {
		const strata_check_item *it = &r->items[i];
		const char *p = it->envs;

		rc = strata_buf_puts(out, i ? ",\n{\"file\":" : "\n{\"file\":");
		if (rc == 0)
			rc = json_str(out, it->file);
		if (rc == 0)
			rc = strata_buf_printf(out, ",\"line\":%d,\"col\":%d,\"severity\":\"%s\","
					       "\"rule\":", it->line, it->col,
					       severity_name(it->severity));
		if (rc == 0)
			rc = json_str(out, it->rule);
		if (rc == 0)
			rc = strata_buf_puts(out, ",\"message\":");
		if (rc == 0)
			rc = json_str(out, it->msg);
		if (rc == 0)
			rc = strata_buf_puts(out, ",\"envs\":[");
		for (bool first = true; rc == 0 && *p; first = false) {
			const char *end = strchr(p, ',');
			size_t len = end ? (size_t)(end - p) : strlen(p);
			char name[256];
			snprintf(name, sizeof(name), "%.*s", (int)len, p);
			rc = strata_buf_puts(out, first ? "" : ",");
			if (rc == 0)
				rc = json_str(out, name);
			p += len + (end ? 1 : 0);
		}
		if (rc == 0)
			rc = strata_buf_puts(out, "]}");
	}
	if (rc == 0)
		rc = strata_buf_puts(out, r->n ? "\n]}\n" : "]}\n");
	return rc < 0 ? STRATA_ENOMEM : 0;
}

/* ---- limits ---- */

int strata_limits_parse(strata_limits *lim, const char *spec, strata_error *err)
{
	static const struct {
		const char *name;
		size_t off;
	} names[] = {
		{ "alias-nodes", offsetof(strata_limits, max_alias_nodes) },
		{ "depth", offsetof(strata_limits, max_depth) },
		{ "scalar", offsetof(strata_limits, max_scalar) },
		{ "file", offsetof(strata_limits, max_file) },
		{ "total", offsetof(strata_limits, max_total) },
		{ "files", offsetof(strata_limits, max_files) },
	};
	const char *eq = strchr(spec, '=');
	const char *cands[sizeof(names) / sizeof(names[0])];
	unsigned long long v = 0, mul = 1;
	const char *p;
	size_t nlen;

	nlen = eq ? (size_t)(eq - spec) : strlen(spec);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		cands[i] = names[i].name;
		if (strlen(names[i].name) != nlen || memcmp(names[i].name, spec, nlen))
			continue;
		if (!eq || !eq[1])
			return strata_error_set(err, STRATA_EUSAGE, NULL, 0, 0,
						"limit '%s' needs a value: %s=N",
						names[i].name, names[i].name);
		for (p = eq + 1; *p >= '0' && *p <= '9'; p++) {
			if (v > (~0ULL - 9) / 10)
				goto bad;
			v = v * 10 + (unsigned)(*p - '0');
		}
		if (p == eq + 1)
			goto bad;
		if (*p == 'K' || *p == 'k')
			mul = 1024ULL, p++;
		else if (*p == 'M' || *p == 'm')
			mul = 1024ULL * 1024, p++;
		else if (*p == 'G' || *p == 'g')
			mul = 1024ULL * 1024 * 1024, p++;
		if (*p || v == 0 || v > (unsigned long long)SIZE_MAX / mul)
			goto bad;
		*(size_t *)((char *)lim + names[i].off) = (size_t)(v * mul);
		return 0;
bad:
		return strata_error_set(err, STRATA_EUSAGE, NULL, 0, 0,
					"invalid value '%.40s' for limit '%s' "
					"(a positive number, optionally with K, M or G)",
					eq + 1, names[i].name);
	}
	{
		char word[64];
		const char *hint;

		snprintf(word, sizeof(word), "%.*s", (int)(nlen < 63 ? nlen : 63), spec);
		hint = strata_suggest(word, cands, sizeof(cands) / sizeof(cands[0]));
		return strata_error_set(err, STRATA_EUSAGE, NULL, 0, 0,
					"unknown limit '%s'%s%s%s (known: alias-nodes, "
					"depth, scalar, file, total, files)", word,
					hint ? " (did you mean '" : "", hint ? hint : "",
					hint ? "'?)" : "");
	}
}
