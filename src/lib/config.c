/*
 * config.c - reading strata.ini and resolving an environment's settings.
 *
 * inih does the key/value splitting, trimming and inline comments, but it
 * is fed through our own line reader so that every handler call knows its
 * line number (inih 55 has none), and so that the reader can refuse what
 * inih would silently get wrong: over-long lines (Debian's build cuts them
 * at 200 bytes and parses the rest as a new line), NUL and control bytes,
 * continuation lines, and section headers (inih cuts section names at 49
 * characters).  Section headers never reach inih: the reader parses them
 * git-style ([env "NAME"]) and serves inih a placeholder.
 *
 * Parsing is strict.  An unknown section or key is an error with a
 * did-you-mean, and so is a key given twice in one section: inih would let
 * the later value win, which hides typos in long files (`ignore` in [diff]
 * is the one key meant to be repeated).  After the file is read, every
 * environment is resolved once so that unknown parents, inherit cycles and
 * clashing branches are reported at parse time, with their line.
 *
 * inih's knobs are process globals; they are set for the duration of one
 * parse and restored afterwards, so parsing is not thread-safe.
 */
#include "strata/config.h"

#include <ctype.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_BASE "base"
#define DEFAULT_BRANCH "env/{env}"
#define DEFAULT_LAYOUT "files"
#define ENV_NAME_MAX 63

/* Placeholder for ':' in key names while inih sees the line: inih also
 * splits on ':', and image names may hold a registry port. */
#define COLON_STANDIN '\x1f'
/* What inih sees as the value of a line whose value was "quoted": the
 * decoded text waits in parser.quoted. */
#define QUOTED_STANDIN "\x1e"

enum section_kind { SEC_NONE, SEC_STRATA, SEC_ENV, SEC_PUBLISH, SEC_DIFF };

/* Lines of the env keys that strata_env_config has no line field for. */
typedef struct env_lines {
	int ns, prefix, suffix, allow;
} env_lines;

typedef struct parser {
	const char *file;
	const char *buf;
	size_t len, pos;
	int line;           /* line last served to inih */
	int code;           /* 0, or the error recorded */
	strata_error *err;
	strata_config *cfg;
	size_t env_cap;
	env_lines *elines;  /* parallel to cfg->envs */
	enum section_kind sec;
	size_t env_idx;     /* current env when sec == SEC_ENV */
	char sec_text[96];  /* the current header, for messages */
	bool prev_key;      /* the previous non-blank line was key = value */
	char *quoted;       /* the decoded value of a "quoted" line, or NULL */
	int branch_line, layout_line, pub_name_line, pub_email_line;
} parser;

static const char *const section_names[] = { "strata", "env", "publish",
					     "diff" };
static const char *const strata_keys[] = { "base", "branch", "layout" };
static const char *const env_keys[] = {
	"inherit", "overlay", "namespace", "name_prefix", "name_suffix",
	"branch", "allow_plaintext_secrets", "label.", "annotation.",
	"image.", "var.",
};
static const char *const env_map_prefixes[] = { "label", "annotation",
						"image", "var" };
static const char *const publish_keys[] = { "name", "email" };
static const char *const diff_keys[] = { "ignore" };

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ */
/* errors */

/*
 * The `strata check` rule ids (docs/check.md) of strata.ini errors.  Every
 * error names its rule where it is made, so check never has to guess one
 * from the wording of a message.
 */
#define R_SYNTAX "ini-syntax"
#define R_UNKNOWN_SECTION "ini-unknown-section"
#define R_UNKNOWN_KEY "ini-unknown-key"
#define R_LINE_TOO_LONG "ini-line-too-long"
#define R_INHERIT_CYCLE "ini-inherit-cycle"
#define R_UNKNOWN_PARENT "ini-unknown-parent"
#define R_ENV_NAME "ini-env-name"
#define R_BRANCH "ini-branch"
#define R_PATH "ini-path"
#define R_DUPLICATE "ini-duplicate"
#define R_OVERLAY_TWICE "ini-overlay-twice"
#define R_UNKNOWN_ENV "unknown-env"

static int perr_at(parser *p, int code, int line, const char *rule,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int perr_at(parser *p, int code, int line, const char *rule,
		   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strata_error_vset_rule(p->err, rule, code, p->file, line, line ? 1 : 0,
			       fmt, ap);
	va_end(ap);
	if (!p->code)
		p->code = code;
	return code;
}

/* perr(p, RULE, fmt, ...): a strata.ini error at the current line */
#define perr(p, ...) perr_at((p), STRATA_ECONFIG, (p)->line, __VA_ARGS__)
#define poom(p) perr_at((p), STRATA_ENOMEM, (p)->line, NULL, "out of memory")

/* " (did you mean 'x'?)" or "" into out. pre is put before the suggestion. */
static void did_you_mean(char *out, size_t size, const char *word,
			 const char *const *cands, size_t n, const char *pre)
{
	const char *s = strata_suggest(word, cands, n);

	if (s)
		snprintf(out, size, " (did you mean '%s%s'?)", pre ? pre : "",
			 s);
	else if (size)
		out[0] = '\0';
}

/* ------------------------------------------------------------------ */
/* validation */

static bool is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

static bool is_lower_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool strata_env_name_valid(const char *name)
{
	size_t n;

	if (!name || !is_alnum((unsigned char)name[0]))
		return false;
	n = strlen(name);
	if (n > ENV_NAME_MAX)
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = name[i];
		if (!is_alnum((unsigned char)c) && c != '.' && c != '_' &&
		    c != '-')
			return false;
	}
	if (strstr(name, ".."))
		return false;
	/* env/{env} must stay a valid git ref: no trailing dot, no .lock */
	if (name[n - 1] == '.')
		return false;
	if (n >= 5 && strcmp(name + n - 5, ".lock") == 0)
		return false;
	return true;
}

/* RFC 1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63. */
static bool valid_dns_label(const char *s, size_t n)
{
	if (n == 0 || n > 63)
		return false;
	if (!is_lower_alnum((unsigned char)s[0]) ||
	    !is_lower_alnum((unsigned char)s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_lower_alnum((unsigned char)s[i]) && s[i] != '-')
			return false;
	return true;
}

/* RFC 1123 subdomain: dot-separated labels, at most 253 in all. */
static bool valid_dns_subdomain(const char *s, size_t n)
{
	size_t start = 0;

	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (!valid_dns_label(s + start, i - start))
				return false;
			start = i + 1;
		}
	}
	return true;
}

/* The name part of a Kubernetes qualified name. */
static bool valid_k8s_name(const char *s, size_t n)
{
	if (n == 0 || n > 63)
		return false;
	if (!is_alnum((unsigned char)s[0]) ||
	    !is_alnum((unsigned char)s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!is_alnum((unsigned char)c) && c != '-' && c != '_' &&
		    c != '.')
			return false;
	}
	return true;
}

/* Label and annotation keys: [DNS-subdomain "/"] name. */
static bool valid_qualified_name(const char *s)
{
	const char *slash = strchr(s, '/');

	if (!slash)
		return valid_k8s_name(s, strlen(s));
	if (strchr(slash + 1, '/'))
		return false;
	return valid_dns_subdomain(s, (size_t)(slash - s)) &&
	       valid_k8s_name(slash + 1, strlen(slash + 1));
}

static bool valid_label_value(const char *s)
{
	size_t n = strlen(s);
	return n == 0 || valid_k8s_name(s, n);
}

static bool valid_var_name(const char *s)
{
	if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')))
		return false;
	for (s++; *s; s++)
		if (!(*s == '_' || is_alnum((unsigned char)*s)))
			return false;
	return true;
}

static bool has_space(const char *s)
{
	for (; *s; s++)
		if (*s == ' ' || *s == '\t')
			return true;
	return false;
}

/* name_prefix / name_suffix end up inside object names (DNS subdomains). */
static bool valid_name_affix(const char *s)
{
	for (; *s; s++)
		if (!is_lower_alnum((unsigned char)*s) && *s != '-' && *s != '.')
			return false;
	return true;
}

/* NAME[:TAG][@DIGEST], :TAG or @DIGEST, the form the images transform
 * applies; a ':' or '@' must be followed by something. */
static bool valid_image_value(const char *v)
{
	const char *at = strchr(v, '@');
	size_t name_end = at ? (size_t)(at - v) : strlen(v);
	const char *slash, *colon = NULL;

	if (!*v || has_space(v))
		return false;
	if (at && (!at[1] || strchr(at + 1, '@')))
		return false;
	slash = memrchr(v, '/', name_end);
	colon = memrchr(v, ':', name_end);
	if (colon && (!slash || colon > slash)) {
		if ((size_t)(colon - v) + 1 == name_end)
			return false; /* "name:" */
	}
	return true;
}

/*
 * A repository-relative path as strata.ini may name it.  Returns NULL when
 * fine, else what is wrong with it.
 */
static const char *path_problem(const char *path)
{
	const char *p = path;

	if (!*path)
		return "is empty";
	if (path[0] == '/')
		return "is absolute (paths are relative to the repository)";
	if (strchr(path, '\\'))
		return "contains a backslash (use '/')";
	while (*p) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return "has a '..' component (paths must stay inside "
			       "the repository)";
		p += n;
		if (*p == '/')
			p++;
	}
	return NULL;
}

/* A subset of git check-ref-format, enough to catch broken templates. */
static bool valid_branch(const char *b)
{
	size_t n = strlen(b);
	const char *c;

	if (n == 0 || b[0] == '/' || b[0] == '-' || b[n - 1] == '/' ||
	    b[n - 1] == '.' || strcmp(b, "@") == 0)
		return false;
	if (strstr(b, "..") || strstr(b, "@{") || strstr(b, "//") ||
	    strstr(b, "/."))
		return false;
	if (b[0] == '.')
		return false;
	for (c = b; *c; c++) {
		unsigned char u = (unsigned char)*c;
		if (u <= ' ' || u == 0x7f || strchr("~^:?*[\\", u))
			return false;
	}
	for (c = b;;) {
		const char *end = strchr(c, '/');
		size_t len = end ? (size_t)(end - c) : strlen(c);
		if (len >= 5 && memcmp(c + len - 5, ".lock", 5) == 0)
			return false;
		if (!end)
			break;
		c = end + 1;
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* kv lists */

static ptrdiff_t kv_find(const strata_kvlist *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i].key, key) == 0)
			return (ptrdiff_t)i;
	return -1;
}

const char *strata_kvlist_get(const strata_kvlist *l, const char *key)
{
	ptrdiff_t i;

	if (!l || !key)
		return NULL;
	i = kv_find(l, key);
	return i < 0 ? NULL : l->items[i].value;
}

/* Set key: replace in place when present, else append.  0 or ENOMEM. */
static int kv_set(strata_kvlist *l, const char *key, const char *value,
		  int line)
{
	ptrdiff_t i = kv_find(l, key);
	char *v = strdup(value);

	if (!v)
		return STRATA_ENOMEM;
	if (i >= 0) {
		free(l->items[i].value);
		l->items[i].value = v;
		l->items[i].line = line;
		return 0;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		strata_kv *items = realloc(l->items, cap * sizeof(*items));
		if (!items)
			goto oom;
		l->items = items;
		l->cap = cap;
	}
	l->items[l->n].key = strdup(key);
	if (!l->items[l->n].key)
		goto oom;
	l->items[l->n].value = v;
	l->items[l->n].line = line;
	l->n++;
	return 0;
oom:
	free(v);
	return STRATA_ENOMEM;
}

static void kv_free(strata_kvlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].key);
		free(l->items[i].value);
	}
	free(l->items);
	memset(l, 0, sizeof(*l));
}

/* ------------------------------------------------------------------ */
/* string lists */

static void strv_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Append the space-separated words of value to *v.  0 or ENOMEM.  *v is
 * non-NULL afterwards even when value holds no word. */
static int strv_append_words(char ***v, size_t *n, const char *value)
{
	const char *s = value;

	if (!*v) {
		*v = calloc(1, sizeof(char *));
		if (!*v)
			return STRATA_ENOMEM;
	}
	for (;;) {
		size_t len;
		char **nv, *w;

		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			return 0;
		len = strcspn(s, " \t");
		w = strndup(s, len);
		if (!w)
			return STRATA_ENOMEM;
		nv = realloc(*v, (*n + 2) * sizeof(char *));
		if (!nv) {
			free(w);
			return STRATA_ENOMEM;
		}
		*v = nv;
		nv[(*n)++] = w;
		nv[*n] = NULL;
		s += len;
	}
}

/* ------------------------------------------------------------------ */
/* section headers (parsed here, never by inih) */

static strata_env_config *cur_env(parser *p)
{
	return &p->cfg->envs[p->env_idx];
}

static int add_env(parser *p, char *name)
{
	strata_config *cfg = p->cfg;
	strata_env_config *e;

	for (size_t i = 0; i < cfg->n_envs; i++) {
		if (strcmp(cfg->envs[i].name, name) == 0) {
			perr(p, R_DUPLICATE,
				"duplicate section [env \"%s\"] (first at line %d)",
			     name, cfg->envs[i].line);
			free(name);
			return STRATA_ECONFIG;
		}
	}
	if (cfg->n_envs == p->env_cap) {
		size_t cap = p->env_cap ? p->env_cap * 2 : 8;
		strata_env_config *envs = realloc(cfg->envs, cap * sizeof(*envs));
		env_lines *el;
		if (!envs)
			goto oom;
		cfg->envs = envs;
		el = realloc(p->elines, cap * sizeof(*el));
		if (!el)
			goto oom;
		p->elines = el;
		p->env_cap = cap;
	}
	e = &cfg->envs[cfg->n_envs];
	memset(e, 0, sizeof(*e));
	memset(&p->elines[cfg->n_envs], 0, sizeof(p->elines[0]));
	e->name = name;
	e->line = p->line;
	e->allow_plaintext_secrets = -1;
	p->env_idx = cfg->n_envs++;
	return 0;
oom:
	free(name);
	return poom(p);
}

static void skip_ws(const char *s, size_t n, size_t *i)
{
	while (*i < n && (s[*i] == ' ' || s[*i] == '\t'))
		(*i)++;
}

/*
 * s[0..n) is a header line from its '['.  Accepts [name] and
 * [name "sub"] with \" and \\ escapes, then an optional comment.
 */
static int parse_section(parser *p, const char *s, size_t n)
{
	size_t i = 1, name_start, name_len;
	char name[32], *sub = NULL, msg[96];
	size_t sub_len = 0;
	int rc = STRATA_ECONFIG;
	int shown = n > 80 ? 80 : (int)n;

	skip_ws(s, n, &i);
	name_start = i;
	while (i < n && (is_alnum((unsigned char)s[i]) || s[i] == '-' ||
			 s[i] == '_' || s[i] == '.'))
		i++;
	name_len = i - name_start;
	if (name_len == 0 || name_len >= sizeof(name)) {
		perr(p, R_SYNTAX, "invalid section header '%.*s' (expected [NAME] or "
			"[env \"NAME\"])", shown, s);
		goto done;
	}
	memcpy(name, s + name_start, name_len);
	name[name_len] = '\0';
	skip_ws(s, n, &i);
	if (i < n && s[i] == '"') {
		sub = malloc(n);
		if (!sub) {
			rc = poom(p);
			goto done;
		}
		for (i++; i < n && s[i] != '"'; i++) {
			if (s[i] == '\\' && i + 1 < n)
				i++;
			sub[sub_len++] = s[i];
		}
		if (i >= n) {
			perr(p, R_SYNTAX, "unterminated quote in section header '%.*s'",
			     shown, s);
			goto done;
		}
		sub[sub_len] = '\0';
		i++;
		skip_ws(s, n, &i);
	}
	if (i >= n || s[i] != ']') {
		perr(p, R_SYNTAX, "invalid section header '%.*s' (expected [NAME] or "
			"[env \"NAME\"])", shown, s);
		goto done;
	}
	i++;
	skip_ws(s, n, &i);
	if (i < n && s[i] != ';' && s[i] != '#') {
		perr(p, R_SYNTAX,
			"unexpected text after section header '%.*s'", shown, s);
		goto done;
	}

	if (strcmp(name, "env") == 0) {
		if (!sub) {
			perr(p, R_ENV_NAME,
				"section [env] needs a name: [env \"NAME\"]");
			goto done;
		}
		if (!strata_env_name_valid(sub)) {
			perr(p, R_ENV_NAME,
				"invalid environment name '%.200s' (letters, "
				"digits, '.', '_' and '-', starting with a letter "
				"or digit, at most %d characters, no '..', not "
				"ending in '.' or '.lock')",
			     sub, ENV_NAME_MAX);
			goto done;
		}
		snprintf(p->sec_text, sizeof(p->sec_text), "[env \"%s\"]", sub);
		rc = add_env(p, sub);
		sub = NULL;
		if (rc)
			goto done;
		p->sec = SEC_ENV;
		rc = 0;
		goto done;
	}
	if (strcmp(name, "strata") == 0)
		p->sec = SEC_STRATA;
	else if (strcmp(name, "publish") == 0)
		p->sec = SEC_PUBLISH;
	else if (strcmp(name, "diff") == 0)
		p->sec = SEC_DIFF;
	else {
		did_you_mean(msg, sizeof(msg), name, section_names,
			     N_OF(section_names), NULL);
		perr(p, R_UNKNOWN_SECTION, "unknown section '%s'%s", name, msg);
		goto done;
	}
	if (sub) {
		perr(p, R_UNKNOWN_SECTION,
			"section [%s] takes no name (found [%s \"%.100s\"])",
		     name, name, sub);
		goto done;
	}
	snprintf(p->sec_text, sizeof(p->sec_text), "[%s]", name);
	rc = 0;
done:
	free(sub);
	return rc;
}

/* ------------------------------------------------------------------ */
/* the line reader handed to inih */

/*
 * A value written in double quotes, as git-config allows: taken literally
 * (so " #" and " ;" are kept), with \" \\ \n \t escapes; only blanks or a
 * comment may follow the closing quote.  The decoded text goes to
 * p->quoted.  Returns 0, or -1 with the error recorded.
 */
static int decode_quoted(parser *p, const char *line, size_t n, size_t v)
{
	char *out = malloc(n + 1);
	size_t o = 0, k = v + 1;

	if (!out)
		return poom(p), -1;
	for (; k < n && line[k] != '"'; k++) {
		char c = line[k];
		if (c == '\\') {
			if (++k >= n)
				break;
			switch (line[k]) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case '"': case '\\': c = line[k]; break;
			default:
				free(out);
				strata_error_set_rule(
					p->err, R_SYNTAX, STRATA_ECONFIG, p->file,
					p->line, (int)k,
					"unknown escape '\\%c' in quoted value",
					line[k]);
				p->code = STRATA_ECONFIG;
				return -1;
			}
		}
		out[o++] = c;
	}
	if (k >= n) {
		free(out);
		strata_error_set_rule(p->err, R_SYNTAX, STRATA_ECONFIG, p->file,
				      p->line, (int)v + 1, "unterminated quoted value");
		p->code = STRATA_ECONFIG;
		return -1;
	}
	for (k++; k < n && (line[k] == ' ' || line[k] == '\t'); k++)
		;
	if (k < n && line[k] != ';' && line[k] != '#') {
		free(out);
		strata_error_set_rule(p->err, R_SYNTAX, STRATA_ECONFIG, p->file,
				      p->line, (int)k + 1,
				      "unexpected text after the closing quote");
		p->code = STRATA_ECONFIG;
		return -1;
	}
	out[o] = '\0';
	free(p->quoted);
	p->quoted = out;
	return 0;
}

/*
 * Serves exactly one line per call, so p->line is the line of the next
 * handler call.  Lines inih would misread are refused here: the error is
 * recorded and NULL ends the parse.
 */
static char *read_line(char *str, int num, void *stream)
{
	parser *p = stream;
	const char *line, *eol;
	size_t n, i = 0, next;

	if (p->code || p->pos >= p->len)
		return NULL;
	line = p->buf + p->pos;
	eol = memchr(line, '\n', p->len - p->pos);
	n = eol ? (size_t)(eol - line) : p->len - p->pos;
	next = p->pos + n + (eol ? 1 : 0);
	p->pos = next;
	p->line++;
	if (n && line[n - 1] == '\r')
		n--;
	if (p->line == 1 && n >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
		line += 3;
		n -= 3;
	}
	if (n > STRATA_CONFIG_MAX_LINE) {
		perr(p, R_LINE_TOO_LONG, "line too long (%zu bytes, limit %d)", n,
		     STRATA_CONFIG_MAX_LINE);
		return NULL;
	}
	for (size_t k = 0; k < n; k++) {
		unsigned char c = (unsigned char)line[k];
		if (c == 0) {
			strata_error_set_rule(p->err, R_SYNTAX, STRATA_ECONFIG, p->file,
					      p->line, (int)k + 1, "NUL byte in line");
			p->code = STRATA_ECONFIG;
			return NULL;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			strata_error_set_rule(p->err, R_SYNTAX, STRATA_ECONFIG, p->file,
					      p->line, (int)k + 1,
					      "control character 0x%02x in line", c);
			p->code = STRATA_ECONFIG;
			return NULL;
		}
	}
	if (num < 0 || n + 2 > (size_t)num) { /* cannot happen: see parse */
		perr(p, R_LINE_TOO_LONG,
			"line too long (%zu bytes, limit %d)", n, num - 2);
		return NULL;
	}

	skip_ws(line, n, &i);
	if (i == n || line[i] == ';' || line[i] == '#') {
		strcpy(str, "\n");
		return str;
	}
	if (line[i] == '[') {
		p->prev_key = false;
		if (parse_section(p, line + i, n - i))
			return NULL;
		strcpy(str, "[s]\n");
		return str;
	}

	{
		/* inih stops at an inline comment (';' or '#' after
		 * whitespace) before it looks for '=' */
		size_t cend = n, end;
		const char *eq;
		const char *q = memchr(line + i, '=', n - i);

		if (q) {
			size_t v = (size_t)(q - line) + 1;
			skip_ws(line, n, &v);
			if (v < n && line[v] == '"') {
				if (decode_quoted(p, line, n, v) < 0)
					return NULL;
				/* serve "key = <standin>" */
				memcpy(str, line, v);
				for (size_t k = i; k < (size_t)(q - line); k++)
					if (str[k] == ':')
						str[k] = COLON_STANDIN;
				strcpy(str + v, QUOTED_STANDIN "\n");
				p->prev_key = true;
				return str;
			}
		}
		for (size_t k = i + 1; k < n; k++) {
			if ((line[k] == ';' || line[k] == '#') &&
			    (line[k - 1] == ' ' || line[k - 1] == '\t')) {
				cend = k;
				break;
			}
		}
		eq = memchr(line + i, '=', cend - i);
		if (!eq) {
			end = n;
			while (end > i && (line[end - 1] == ' ' ||
					   line[end - 1] == '\t'))
				end--;
			if (i > 0 && p->prev_key)
				perr(p, R_SYNTAX,
					"continuation lines are not supported "
					"(write the whole value on one line)");
			else
				perr(p, R_SYNTAX,
					"expected 'key = value' or a [section] "
					"header, found '%.*s%s'",
				     end - i > 80 ? 80 : (int)(end - i), line + i,
				     end - i > 80 ? "..." : "");
			return NULL;
		}
		if (eq == line + i) {
			perr(p, R_SYNTAX, "missing key name before '='");
			return NULL;
		}
		memcpy(str, line, n);
		for (size_t k = i; k < (size_t)(eq - line); k++)
			if (str[k] == ':')
				str[k] = COLON_STANDIN;
		str[n] = '\n';
		str[n + 1] = '\0';
		p->prev_key = true;
		return str;
	}
}

/* ------------------------------------------------------------------ */
/* key handlers */

static int dup_key(parser *p, const char *key, int first)
{
	return perr(p, R_DUPLICATE,
		       "duplicate key '%s' in %s (first set at line %d)", key,
		    p->sec_text, first);
}

/* Set a single-valued string key; refuses a second assignment. */
static int set_once(parser *p, char **slot, int *line, const char *key,
		    const char *value)
{
	if (*line)
		return dup_key(p, key, *line);
	free(*slot);
	*slot = strdup(value);
	if (!*slot)
		return poom(p);
	*line = p->line;
	return 0;
}

static int check_path(parser *p, const char *key, const char *path)
{
	const char *why = path_problem(path);

	if (why)
		return perr(p, R_PATH,
			       "invalid path '%s' in '%s': it %s", path, key, why);
	return 0;
}

static int unknown_key(parser *p, const char *key, const char *const *keys,
		       size_t n)
{
	char msg[160];
	const char *dot = strchr(key, '.');

	msg[0] = '\0';
	if (p->sec == SEC_ENV && dot) {
		/* "lable.app" -> "label.app" */
		char head[64];
		size_t hl = (size_t)(dot - key);
		if (hl < sizeof(head)) {
			const char *s;
			memcpy(head, key, hl);
			head[hl] = '\0';
			s = strata_suggest(head, env_map_prefixes,
					   N_OF(env_map_prefixes));
			if (s)
				snprintf(msg, sizeof(msg),
					 " (did you mean '%s%.100s'?)", s, dot);
		}
	}
	if (!msg[0])
		did_you_mean(msg, sizeof(msg), key, keys, n, NULL);
	return perr(p, R_UNKNOWN_KEY,
		       "unknown key '%s' in %s%s", key, p->sec_text, msg);
}

static int handle_strata(parser *p, const char *key, const char *value)
{
	strata_config *cfg = p->cfg;
	int rc;

	if (strcmp(key, "base") == 0) {
		if ((rc = check_path(p, key, value)))
			return rc;
		return set_once(p, &cfg->base, &cfg->base_line, key, value);
	}
	if (strcmp(key, "branch") == 0) {
		if (!strstr(value, "{env}"))
			return perr(p, R_BRANCH,
				       "branch template '%s' must contain {env} "
				       "(each environment needs its own branch)",
				    value);
		return set_once(p, &cfg->branch, &p->branch_line, key, value);
	}
	if (strcmp(key, "layout") == 0) {
		if (strcmp(value, "files") && strcmp(value, "stream"))
			return perr(p, R_SYNTAX,
				       "invalid layout '%s' (expected 'files' "
				       "or 'stream')",
				    value);
		return set_once(p, &cfg->layout, &p->layout_line, key, value);
	}
	return unknown_key(p, key, strata_keys, N_OF(strata_keys));
}

static int parse_bool(const char *v)
{
	if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcmp(v, "1"))
		return 1;
	if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcmp(v, "0"))
		return 0;
	return -1;
}

/* label.K, annotation.K, image.NAME, var.NAME */
static int handle_env_map(parser *p, strata_env_config *e, const char *key,
			  const char *value, bool *handled)
{
	const char *dot = strchr(key, '.');
	const char *what, *k;
	strata_kvlist *l;
	ptrdiff_t i;

	*handled = false;
	if (!dot)
		return 0;
	k = dot + 1;
	if (!strncmp(key, "label.", 6)) {
		what = "label";
		l = &e->labels;
	} else if (!strncmp(key, "annotation.", 11)) {
		what = "annotation";
		l = &e->annotations;
	} else if (!strncmp(key, "image.", 6)) {
		what = "image";
		l = &e->images;
	} else if (!strncmp(key, "var.", 4)) {
		what = "var";
		l = &e->vars;
	} else {
		return 0;
	}
	*handled = true;
	if (!*k)
		return perr(p, R_SYNTAX,
			       "empty %s name in '%s' (write %s.NAME = value)",
			    what, key, what);
	if (l == &e->labels || l == &e->annotations) {
		if (!valid_qualified_name(k))
			return perr(p, R_SYNTAX,
				       "invalid %s key '%s': expected [PREFIX/]NAME, "
				       "NAME at most 63 letters, digits, '-', "
				       "'_' or '.' starting and ending with a "
				       "letter or digit, PREFIX a lowercase DNS "
				       "subdomain",
				    what, k);
		if (l == &e->labels && !valid_label_value(value))
			return perr(p, R_SYNTAX,
				       "invalid value '%s' for label '%s': at most "
				       "63 letters, digits, '-', '_' or '.', "
				       "starting and ending with a letter or "
				       "digit",
				    value, k);
	} else if (l == &e->images) {
		if (has_space(k) || strchr(k, '@'))
			return perr(p, R_SYNTAX,
				       "invalid image name '%s' in '%s'", k, key);
		if (!valid_image_value(value))
			return perr(p, R_SYNTAX,
				       "invalid image '%s' for '%s' (expected "
				       "NAME[:TAG][@DIGEST], :TAG or @DIGEST)",
				    value, key);
	} else if (!valid_var_name(k)) {
		return perr(p, R_SYNTAX, "invalid variable name '%s' (expected "
			       "[A-Za-z_][A-Za-z0-9_]*)",
			    k);
	}
	if ((i = kv_find(l, k)) >= 0)
		return dup_key(p, key, l->items[i].line);
	if (kv_set(l, k, value, p->line))
		return poom(p);
	return 0;
}

static int handle_env(parser *p, const char *key, const char *value)
{
	strata_env_config *e = cur_env(p);
	env_lines *el = &p->elines[p->env_idx];
	bool handled;
	int rc;

	rc = handle_env_map(p, e, key, value, &handled);
	if (handled)
		return rc;

	if (strcmp(key, "inherit") == 0) {
		if (!strata_env_name_valid(value))
			return perr(p, R_ENV_NAME, "invalid environment name '%s' in "
				       "'inherit'",
				    value);
		return set_once(p, &e->inherit, &e->inherit_line, key, value);
	}
	if (strcmp(key, "overlay") == 0) {
		if (e->overlay_line)
			return perr(p, R_DUPLICATE,
				       "duplicate key 'overlay' in %s (first set "
				       "at line %d; list several paths on one "
				       "line, separated by spaces)",
				    p->sec_text, e->overlay_line);
		if (strv_append_words(&e->overlays, &e->n_overlays, value))
			return poom(p);
		e->overlay_line = p->line;
		for (size_t i = 0; i < e->n_overlays; i++)
			if ((rc = check_path(p, key, e->overlays[i])))
				return rc;
		return 0;
	}
	if (strcmp(key, "namespace") == 0) {
		if (*value && !valid_dns_label(value, strlen(value)))
			return perr(p, R_SYNTAX, "invalid namespace '%s' (lowercase "
				       "letters, digits and '-', starting and "
				       "ending with a letter or digit, at most "
				       "63 characters)",
				    value);
		return set_once(p, &e->namespace, &el->ns, key, value);
	}
	if (strcmp(key, "name_prefix") == 0 || strcmp(key, "name_suffix") == 0) {
		bool pre = key[5] == 'p';
		if (!valid_name_affix(value))
			return perr(p, R_SYNTAX, "invalid %s '%s' (lowercase letters, "
				       "digits, '-' and '.')",
				    key, value);
		return set_once(p, pre ? &e->name_prefix : &e->name_suffix,
				pre ? &el->prefix : &el->suffix, key, value);
	}
	if (strcmp(key, "branch") == 0) {
		if (!*value)
			return perr(p, R_BRANCH, "empty value for 'branch'");
		return set_once(p, &e->branch, &e->branch_line, key, value);
	}
	if (strcmp(key, "allow_plaintext_secrets") == 0) {
		int b = parse_bool(value);
		if (b < 0)
			return perr(p, R_SYNTAX, "invalid boolean '%s' for "
				       "'allow_plaintext_secrets' (expected true, "
				       "false, yes, no, 1 or 0)",
				    value);
		if (el->allow)
			return dup_key(p, key, el->allow);
		el->allow = p->line;
		e->allow_plaintext_secrets = b;
		return 0;
	}
	if (!strcmp(key, "label") || !strcmp(key, "annotation") ||
	    !strcmp(key, "image") || !strcmp(key, "var"))
		return perr(p, R_SYNTAX,
			       "key '%s' needs a name: %s.NAME = value", key, key);
	return unknown_key(p, key, env_keys, N_OF(env_keys));
}

static int handle_publish(parser *p, const char *key, const char *value)
{
	strata_config *cfg = p->cfg;
	bool email = strcmp(key, "email") == 0;

	if (!email && strcmp(key, "name") != 0)
		return unknown_key(p, key, publish_keys, N_OF(publish_keys));
	if (!*value || strchr(value, '<') || strchr(value, '>'))
		return perr(p, R_SYNTAX, "invalid %s '%s' in [publish]", key, value);
	return set_once(p, email ? &cfg->publish_email : &cfg->publish_name,
			email ? &p->pub_email_line : &p->pub_name_line, key,
			value);
}

static int handle_diff(parser *p, const char *key, const char *value)
{
	strata_config *cfg = p->cfg;
	size_t before = cfg->n_diff_ignore;

	if (strcmp(key, "ignore") != 0)
		return unknown_key(p, key, diff_keys, N_OF(diff_keys));
	/* the one repeatable key: each line adds to the list */
	if (strv_append_words(&cfg->diff_ignore, &cfg->n_diff_ignore, value))
		return poom(p);
	if (cfg->n_diff_ignore == before)
		return perr(p, R_SYNTAX, "empty value for 'ignore'");
	for (size_t i = before; i < cfg->n_diff_ignore; i++) {
		int rc = check_path(p, key, cfg->diff_ignore[i]);
		if (rc)
			return rc;
	}
	return 0;
}

static int on_key(void *user, const char *section, const char *name,
		  const char *value)
{
	parser *p = user;
	char *key;
	int rc;

	(void)section; /* ours is in p->sec: inih's may be cut short */
	if (p->code)
		return 0;
	if (p->quoted && !strcmp(value, QUOTED_STANDIN))
		value = p->quoted;
	key = strdup(name);
	if (!key)
		return poom(p), 0;
	for (char *c = key; *c; c++)
		if (*c == COLON_STANDIN)
			*c = ':';
	switch (p->sec) {
	case SEC_STRATA:
		rc = handle_strata(p, key, value);
		break;
	case SEC_ENV:
		rc = handle_env(p, key, value);
		break;
	case SEC_PUBLISH:
		rc = handle_publish(p, key, value);
		break;
	case SEC_DIFF:
		rc = handle_diff(p, key, value);
		break;
	default:
		rc = perr(p, R_UNKNOWN_KEY,
			     "key '%s' outside of any section (put it under "
			     "[strata] or [env \"NAME\"])",
			  key);
		break;
	}
	free(key);
	return rc == 0;
}

/* ------------------------------------------------------------------ */
/* parse */

static void env_config_free(strata_env_config *e)
{
	free(e->name);
	free(e->inherit);
	strv_free(e->overlays, e->n_overlays);
	free(e->namespace);
	free(e->name_prefix);
	free(e->name_suffix);
	free(e->branch);
	kv_free(&e->labels);
	kv_free(&e->annotations);
	kv_free(&e->images);
	kv_free(&e->vars);
}

void strata_config_free(strata_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->base);
	free(cfg->branch);
	free(cfg->layout);
	free(cfg->publish_name);
	free(cfg->publish_email);
	strv_free(cfg->diff_ignore, cfg->n_diff_ignore);
	for (size_t i = 0; i < cfg->n_envs; i++)
		env_config_free(&cfg->envs[i]);
	free(cfg->envs);
	free(cfg);
}

const strata_env_config *strata_config_find(const strata_config *cfg,
					    const char *env)
{
	if (!cfg || !env)
		return NULL;
	for (size_t i = 0; i < cfg->n_envs; i++)
		if (strcmp(cfg->envs[i].name, env) == 0)
			return &cfg->envs[i];
	return NULL;
}

/* Replace every {env} in tmpl by name.  malloc'ed; NULL on no memory. */
static char *expand_branch(const char *tmpl, const char *name)
{
	strata_buf b = STRATA_BUF_INIT;
	const char *s = tmpl, *hit;

	while ((hit = strstr(s, "{env}"))) {
		if (strata_buf_put(&b, s, (size_t)(hit - s)) ||
		    strata_buf_puts(&b, name))
			goto oom;
		s = hit + 5;
	}
	if (strata_buf_puts(&b, s))
		goto oom;
	return strata_buf_detach(&b, NULL);
oom:
	strata_buf_free(&b);
	return NULL;
}

char *strata_config_branch(const strata_config *cfg, const strata_env *env)
{
	const char *tmpl = env->branch;

	if (!tmpl)
		tmpl = cfg && cfg->branch ? cfg->branch : DEFAULT_BRANCH;
	return expand_branch(tmpl, env->name);
}

/*
 * The checks that need the whole file: every env must resolve (parents
 * exist, no cycles, no layer twice), and every env needs a valid branch of
 * its own.
 */
static int check_envs(parser *p)
{
	strata_config *cfg = p->cfg;
	char **branches = NULL;
	size_t nb = 0;
	int rc = 0;

	branches = calloc(cfg->n_envs + 1, sizeof(char *));
	if (!branches)
		return poom(p);
	for (size_t i = 0; i < cfg->n_envs; i++) {
		strata_env_config *e = &cfg->envs[i];
		strata_env *env = NULL;
		int line = e->branch_line ? e->branch_line
					  : (p->branch_line ? p->branch_line
							    : e->line);

		rc = strata_config_env(&env, cfg, e->name, p->err);
		if (rc) {
			/* resolving names the default file; say which */
			if (p->err && p->err->line)
				snprintf(p->err->file, sizeof(p->err->file),
					 "%s", p->file);
			if (!p->code)
				p->code = rc;
			goto done;
		}
		branches[nb] = strata_config_branch(cfg, env);
		strata_env_free(env);
		if (!branches[nb]) {
			rc = poom(p);
			goto done;
		}
		if (!valid_branch(branches[nb])) {
			rc = perr_at(p, STRATA_ECONFIG, line, R_BRANCH,
				     "invalid branch name '%s' for environment "
				     "'%s'",
				     branches[nb], e->name);
			nb++;
			goto done;
		}
		for (size_t j = 0; j < nb; j++) {
			if (strcmp(branches[j], branches[nb]) == 0) {
				rc = perr_at(p, STRATA_ECONFIG, line, R_BRANCH,
					     "environments '%s' and '%s' both "
					     "publish to branch '%s'",
					     cfg->envs[j].name, e->name,
					     branches[nb]);
				nb++;
				goto done;
			}
		}
		nb++;
	}
done:
	strv_free(branches, nb);
	return rc;
}

int strata_config_parse(strata_config **out, const char *file, const char *buf,
			size_t len, strata_error *err)
{
	parser p;
	int rc;
	/* inih's process-wide knobs, restored on the way out */
	int old_max = ini_max_line;
	bool old_ml = ini_allow_multiline, old_ic = ini_allow_inline_comments;
	bool old_stop = ini_stop_on_first_error, old_stack = ini_use_stack;
	bool old_nv = ini_allow_no_value;
	char *old_inline = ini_inline_comment_prefixes;
	char *old_start = ini_start_comment_prefixes;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	p.file = file ? file : STRATA_CONFIG_FILE;
	p.buf = buf ? buf : "";
	p.len = buf ? len : 0;
	p.err = err;
	p.cfg = calloc(1, sizeof(*p.cfg));
	if (!p.cfg)
		return strata_error_set(err, STRATA_ENOMEM, p.file, 0, 0,
					"out of memory");

	/* room for the longest line we accept plus "\r\n\0"; the reader
	 * refuses longer lines itself, so inih never splits one */
	ini_max_line = STRATA_CONFIG_MAX_LINE + 64;
	ini_use_stack = true;
	ini_allow_multiline = false;
	ini_allow_inline_comments = true;
	ini_inline_comment_prefixes = (char *)";#";
	ini_start_comment_prefixes = (char *)";#";
	ini_stop_on_first_error = true;
	ini_allow_no_value = false;

	rc = ini_parse_stream(read_line, &p, on_key, &p);

	ini_max_line = old_max;
	ini_use_stack = old_stack;
	ini_allow_multiline = old_ml;
	ini_allow_inline_comments = old_ic;
	ini_inline_comment_prefixes = old_inline;
	ini_start_comment_prefixes = old_start;
	ini_stop_on_first_error = old_stop;
	ini_allow_no_value = old_nv;

	if (p.code) {
		rc = p.code;
		goto done;
	}
	if (rc == -2) {
		rc = strata_error_set(err, STRATA_ENOMEM, p.file, 0, 0,
				      "out of memory");
		goto done;
	}
	if (rc != 0) {
		rc = strata_error_set_rule(err, R_SYNTAX, STRATA_ECONFIG, p.file,
					   rc > 0 ? rc : 0, rc > 0 ? 1 : 0,
					   "invalid line (expected 'key = value')");
		goto done;
	}

	if (!p.cfg->base && !(p.cfg->base = strdup(DEFAULT_BASE)))
		goto oom;
	if (!p.cfg->branch && !(p.cfg->branch = strdup(DEFAULT_BRANCH)))
		goto oom;
	if (!p.cfg->layout && !(p.cfg->layout = strdup(DEFAULT_LAYOUT)))
		goto oom;
	rc = check_envs(&p);
	if (rc)
		goto done;
	*out = p.cfg;
	p.cfg = NULL;
	rc = 0;
	goto done;
oom:
	rc = strata_error_set(err, STRATA_ENOMEM, p.file, 0, 0, "out of memory");
done:
	free(p.elines);
	free(p.quoted);
	strata_config_free(p.cfg);
	return rc;
}

/* ------------------------------------------------------------------ */
/* inheritance */

void strata_env_free(strata_env *env)
{
	if (!env)
		return;
	free(env->name);
	strv_free(env->overlays, env->n_overlays);
	free(env->overlay_explicit);
	if (env->overlay_from)
		for (size_t i = 0; i < env->n_overlays; i++)
			free((char *)env->overlay_from[i]);
	free(env->overlay_from);
	free(env->namespace);
	free(env->name_prefix);
	free(env->name_suffix);
	free(env->branch);
	kv_free(&env->labels);
	kv_free(&env->annotations);
	kv_free(&env->images);
	kv_free(&env->vars);
	free(env);
}

/* Lexically tidy a checked relative path: no "." or empty components, no
 * trailing slash.  "." stays ".".  malloc'ed. */
static char *tidy_path(const char *in)
{
	strata_buf b = STRATA_BUF_INIT;
	const char *s = in;

	while (*s) {
		size_t n = strcspn(s, "/");
		if (n && !(n == 1 && s[0] == '.')) {
			if ((b.len && strata_buf_putc(&b, '/')) ||
			    strata_buf_put(&b, s, n))
				goto oom;
		}
		s += n;
		if (*s == '/')
			s++;
	}
	if (!b.len && strata_buf_puts(&b, "."))
		goto oom;
	return strata_buf_detach(&b, NULL);
oom:
	strata_buf_free(&b);
	return NULL;
}

static int add_layer(strata_env *env, size_t *cap, const char *path,
		     bool explicit_, const char *from)
{
	if (env->n_overlays == *cap) {
		size_t c = *cap ? *cap * 2 : 4;
		char **o = realloc(env->overlays, c * sizeof(*o));
		bool *x;
		const char **f;
		if (!o)
			return STRATA_ENOMEM;
		env->overlays = o;
		x = realloc(env->overlay_explicit, c * sizeof(*x));
		if (!x)
			return STRATA_ENOMEM;
		env->overlay_explicit = x;
		f = realloc(env->overlay_from, c * sizeof(*f));
		if (!f)
			return STRATA_ENOMEM;
		env->overlay_from = f;
		*cap = c;
	}
	env->overlays[env->n_overlays] = tidy_path(path);
	env->overlay_from[env->n_overlays] = strdup(from);
	env->overlay_explicit[env->n_overlays] = explicit_;
	env->n_overlays++;
	if (!env->overlays[env->n_overlays - 1] ||
	    !env->overlay_from[env->n_overlays - 1])
		return STRATA_ENOMEM;
	return 0;
}

static int replace_str(char **slot, const char *value)
{
	char *v;

	if (!value)
		return 0;
	v = strdup(value);
	if (!v)
		return STRATA_ENOMEM;
	free(*slot);
	*slot = v;
	return 0;
}

static int merge_kv(strata_kvlist *dst, const strata_kvlist *src)
{
	for (size_t i = 0; i < src->n; i++)
		if (kv_set(dst, src->items[i].key, src->items[i].value,
			   src->items[i].line))
			return STRATA_ENOMEM;
	return 0;
}

/* Merge one env's own settings over env (which holds its ancestors'). */
static int apply_env(strata_env *env, size_t *cap, const strata_env_config *e,
		     strata_error *err)
{
	if (e->overlays) {
		for (size_t i = 0; i < e->n_overlays; i++)
			if (add_layer(env, cap, e->overlays[i], true, e->name))
				return STRATA_ENOMEM;
	} else {
		char *def = malloc(strlen("overlays/") + strlen(e->name) + 1);
		int rc;
		if (!def)
			return STRATA_ENOMEM;
		strcpy(def, "overlays/");
		strcat(def, e->name);
		rc = add_layer(env, cap, def, false, e->name);
		free(def);
		if (rc)
			return rc;
	}
	/* a layer applied twice would add its resources/ twice */
	for (size_t i = 0; i + 1 < env->n_overlays; i++) {
		size_t j;
		for (j = i + 1; j < env->n_overlays; j++)
			if (strcmp(env->overlays[i], env->overlays[j]) == 0)
				break;
		if (j < env->n_overlays) {
			return strata_error_set_rule(
				err, R_OVERLAY_TWICE, STRATA_ECONFIG,
				STRATA_CONFIG_FILE,
				e->overlay_line ? e->overlay_line : e->line, 1,
				"overlay '%s' is applied twice in environment "
				"'%s' (declared by '%s' and '%s')",
				env->overlays[i], env->name, env->overlay_from[i],
				env->overlay_from[j]);
		}
	}
	if (replace_str(&env->namespace, e->namespace) ||
	    replace_str(&env->name_prefix, e->name_prefix) ||
	    replace_str(&env->name_suffix, e->name_suffix))
		return STRATA_ENOMEM;
	if (e->allow_plaintext_secrets >= 0)
		env->allow_plaintext_secrets = e->allow_plaintext_secrets == 1;
	if (merge_kv(&env->labels, &e->labels) ||
	    merge_kv(&env->annotations, &e->annotations) ||
	    merge_kv(&env->images, &e->images) || merge_kv(&env->vars, &e->vars))
		return STRATA_ENOMEM;
	return 0;
}

/* "" (set explicitly to clear an inherited value) reads as unset. */
static void empty_to_null(char **s)
{
	if (*s && !**s) {
		free(*s);
		*s = NULL;
	}
}

/* except: an env never suggested (the child itself, for a parent) */
static int env_not_found(const strata_config *cfg, const char *name,
			 const char *except, strata_error *err, int code,
			 const char *rule, int line, const char *what)
{
	const char **names = calloc(cfg->n_envs + 1, sizeof(*names));
	char msg[128] = "";

	if (names) {
		for (size_t i = 0; i < cfg->n_envs; i++)
			if (!except || strcmp(cfg->envs[i].name, except))
				names[i] = cfg->envs[i].name;
		did_you_mean(msg, sizeof(msg), name, names, cfg->n_envs, NULL);
		free(names);
	}
	return strata_error_set_rule(err, rule, code, line ? STRATA_CONFIG_FILE : NULL,
				     line, line ? 1 : 0, "%s '%s'%s", what, name, msg);
}

int strata_config_env(strata_env **out, const strata_config *cfg,
		      const char *name, strata_error *err)
{
	const strata_env_config **chain = NULL;
	const strata_env_config *e;
	strata_env *env = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	*out = NULL;
	if (!cfg || !name)
		return strata_error_set(err, STRATA_EUSAGE, NULL, 0, 0,
					"no environment given");
	e = strata_config_find(cfg, name);
	if (!e)
		return env_not_found(cfg, name, NULL, err, STRATA_ENOTFOUND,
				     R_UNKNOWN_ENV, 0, "unknown environment");
	chain = calloc(cfg->n_envs + 1, sizeof(*chain));
	if (!chain)
		goto oom;
	/* leaf first; at most n_envs long, or there is a cycle */
	for (;;) {
		const strata_env_config *parent;
		chain[n++] = e;
		if (!e->inherit)
			break;
		parent = strata_config_find(cfg, e->inherit);
		if (!parent) {
			rc = env_not_found(cfg, e->inherit, e->name, err,
					   STRATA_ECONFIG, R_UNKNOWN_PARENT,
					   e->inherit_line,
					   "unknown parent environment");
			goto done;
		}
		for (size_t i = 0; i < n; i++) {
			if (chain[i] == parent) {
				strata_buf b = STRATA_BUF_INIT;
				int bad = strata_buf_printf(&b, "%s", parent->name);
				/* in inherit order: chain[i] -> chain[i+1] ->
				 * ... -> chain[n-1] -> parent (== chain[i]) */
				for (size_t k = i; k < n && !bad; k++) {
					const strata_env_config *c = chain[k];
					bad = strata_buf_printf(&b, " -> %s",
								c->inherit);
				}
				rc = strata_error_set_rule(
					err, R_INHERIT_CYCLE, STRATA_ECONFIG,
					STRATA_CONFIG_FILE, parent->inherit_line, 1,
					"inherit cycle: %s",
					bad ? parent->name : b.ptr);
				strata_buf_free(&b);
				goto done;
			}
		}
		e = parent;
	}

	env = calloc(1, sizeof(*env));
	if (!env || !(env->name = strdup(name)))
		goto oom;
	for (size_t i = n; i-- > 0;) {
		rc = apply_env(env, &cap, chain[i], err);
		if (rc == STRATA_ENOMEM)
			goto oom;
		if (rc)
			goto done;
	}
	/* the branch is where this env's output goes: never inherited */
	if (chain[0]->branch && !(env->branch = strdup(chain[0]->branch)))
		goto oom;
	empty_to_null(&env->namespace);
	empty_to_null(&env->name_prefix);
	empty_to_null(&env->name_suffix);
	*out = env;
	env = NULL;
	goto done;
oom:
	rc = strata_error_set(err, STRATA_ENOMEM, NULL, 0, 0, "out of memory");
done:
	free(chain);
	strata_env_free(env);
	return rc;
}
