/*
 * check.h - `strata check`: load strata.ini and every YAML file, render
 * every environment (or the ones named) and report all problems, not just
 * the first, each with a position and a rule id:
 *
 *   path:line:col: error|warning: message [rule-id]
 *
 * The rules are listed in docs/check.md.  strata.ini problems are
 * collected by re-parsing with each offending line (a whole section for a
 * bad section header) blanked out, so later problems are found too and the
 * environments can still be rendered from what is left.  Rendering uses
 * the collecting mode of render.h.  Secret values are never printed.
 *
 * publish runs strata_check_render() on what it is about to write and
 * refuses (STRATA_ECHECK) when it finds an error.
 */
#ifndef STRATA_CHECK_H
#define STRATA_CHECK_H

#include "render.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum strata_check_severity {
	STRATA_CHECK_ERROR = 1,
	STRATA_CHECK_WARNING = 2,
} strata_check_severity;

typedef struct strata_check_item {
	int severity;      /* strata_check_severity */
	const char *rule;  /* rule id (static string): "plaintext-secret" */
	char *file;        /* repository-relative path, "" when unknown */
	int line, col;     /* 1-based, 0 when unknown */
	char *msg;         /* one line, never a secret value */
	char *envs;        /* environments it was found in, comma-separated;
			      "" when it does not depend on one */
} strata_check_item;

typedef struct strata_check_result {
	strata_check_item *items; /* sorted by file, line, column after a check */
	size_t n, cap;
	size_t errors, warnings;
	size_t envs_checked;      /* environments rendered */
} strata_check_result;

void strata_check_result_init(strata_check_result *r);
void strata_check_result_free(strata_check_result *r);  /* keeps r usable */

/*
 * Add a problem (strings are copied; env may be NULL).  Returns 0 or
 * STRATA_ENOMEM.
 */
int strata_check_add(strata_check_result *r, int severity, const char *rule,
		     const char *file, int line, int col, const char *env,
		     const char *fmt, ...) __attribute__((format(printf, 8, 9)));

/*
 * Sort by file, line, column, and merge identical problems found in
 * several environments into one item (their envs joined).  Recounts
 * errors and warnings.
 */
int strata_check_result_finish(strata_check_result *r);

/*
 * Check the repository read by src (taken over, also on error): strata.ini,
 * every YAML file under base and the overlays, and a render of each of
 * envs[0..n_envs) (all environments when n_envs is 0).  lim may be NULL.
 * Problems go to out (which may be NULL).
 *
 * Returns 0 when no error was found (warnings allowed), STRATA_ECHECK when
 * at least one was (err then holds the first, "... [rule-id]"), another
 * negative code when the check itself could not run (out of memory).
 */
int strata_check_repo(strata_check_result *out, strata_source *src,
		      const char *const *envs, size_t n_envs,
		      const strata_limits *lim, strata_error *err);

/*
 * Check one environment of an open repository: a collecting render plus
 * the rules on its result.  Returns like strata_check_repo.
 */
int strata_check_env(strata_check_result *out, strata_repo *repo,
		     const char *env, strata_error *err);

/*
 * The rules that look at a finished render (plaintext Secrets, an empty
 * environment).  For publish, after strata_render_env() succeeded:
 * STRATA_ECHECK with the first error in err when the render must not be
 * published, else 0.  out may be NULL.
 */
int strata_check_render(strata_check_result *out, const strata_render *r,
			strata_error *err);

/*
 * True when res is a core Secret (group "", kind Secret) with data or
 * stringData values that are not SOPS-encrypted: neither a top-level
 * `sops:` block nor every value starting with "ENC[".  Empty values do
 * not count.  When where is non-NULL it gets the first plaintext value's
 * node (for its position; never print its text).
 */
bool strata_check_secret_plaintext(const strata_resource *res,
				   const strata_node **where);

/* Text ("path:line:col: error: msg [rule]" lines) and JSON reports. */
int strata_check_format_text(strata_buf *out, const strata_check_result *r);
int strata_check_format_json(strata_buf *out, const strata_check_result *r);

/*
 * Set one limit from "NAME=VALUE": alias-nodes, depth, scalar, file,
 * total, files; VALUE a number with an optional K, M or G suffix (1024
 * based).  STRATA_EUSAGE with a message otherwise.
 */
int strata_limits_parse(strata_limits *lim, const char *spec, strata_error *err);

#ifdef __cplusplus
}
#endif
#endif
