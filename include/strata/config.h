/*
 * config.h - strata.ini: the repository's description of its base and its
 * environments.
 *
 *   [strata]  base, branch, layout
 *   [env "NAME"]  inherit, overlay, namespace, name_prefix, name_suffix,
 *                 branch, allow_plaintext_secrets,
 *                 label.K, annotation.K, image.NAME, var.NAME
 *   [publish] name, email
 *   [diff]    ignore
 *
 * Parsing is strict: an unknown section or key is an error with its line and
 * a did-you-mean; over-long lines are an error, never silently split.
 * strata_config_env() resolves the inherit chain into the effective
 * settings of one environment.
 */
#ifndef STRATA_CONFIG_H
#define STRATA_CONFIG_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define STRATA_CONFIG_FILE "strata.ini"
#define STRATA_CONFIG_MAX_LINE 8192

/* An ordered key/value list; setting an existing key replaces its value in
 * place (so inheritance keeps the parent's order). */
typedef struct strata_kv {
	char *key;
	char *value;
	int line;  /* line in strata.ini */
} strata_kv;

typedef struct strata_kvlist {
	strata_kv *items;
	size_t n, cap;
} strata_kvlist;

const char *strata_kvlist_get(const strata_kvlist *l, const char *key);

typedef struct strata_env_config {
	char *name;
	int line;                 /* line of the [env "NAME"] header */
	char *inherit;            /* NULL when none */
	int inherit_line;
	char **overlays;          /* as written; NULL when overlay is not set */
	size_t n_overlays;
	int overlay_line;
	char *namespace;          /* NULL when unset */
	char *name_prefix;
	char *name_suffix;
	char *branch;             /* NULL: use [strata] branch */
	int branch_line;
	int allow_plaintext_secrets; /* -1 unset, 0 false, 1 true */
	strata_kvlist labels, annotations, images, vars;
} strata_env_config;

typedef struct strata_config {
	char *base;               /* default "base" */
	int base_line;
	char *branch;             /* default "env/{env}" */
	char *layout;             /* "files" (default) or "stream" */
	char *publish_name;       /* NULL when unset */
	char *publish_email;
	char **diff_ignore;
	size_t n_diff_ignore;
	strata_env_config *envs;  /* in file order */
	size_t n_envs;
} strata_config;

/*
 * Parse strata.ini text.  file names it in errors.  On error returns
 * STRATA_ECONFIG with line (and column 1) in err, and *out is NULL.
 */
int strata_config_parse(strata_config **out, const char *file, const char *buf,
			size_t len, strata_error *err);
void strata_config_free(strata_config *cfg);

const strata_env_config *strata_config_find(const strata_config *cfg,
					    const char *env);

/*
 * The effective settings of one environment after inheritance: the
 * parent's settings first, the child's override key by key; overlays are
 * the parent's layers followed by the child's.  overlays holds the
 * effective layer paths; overlay_explicit[i] says whether layer i was
 * written in strata.ini (a missing explicit layer is an error, a missing
 * default overlays/<env> just means no overlay).
 */
typedef struct strata_env {
	char *name;
	char **overlays;
	bool *overlay_explicit;
	const char **overlay_from;  /* name of the env that declared layer i */
	size_t n_overlays;
	char *namespace, *name_prefix, *name_suffix, *branch;
	bool allow_plaintext_secrets;
	strata_kvlist labels, annotations, images, vars;
} strata_env;

/* ENOTFOUND for an unknown env (with did-you-mean), ECONFIG for a cycle. */
int strata_config_env(strata_env **out, const strata_config *cfg,
		      const char *env, strata_error *err);
void strata_env_free(strata_env *env);

/* Expand the branch template ("env/{env}") for env. malloc'ed. */
char *strata_config_branch(const strata_config *cfg, const strata_env *env);

/* Validate an environment name: [A-Za-z0-9][A-Za-z0-9._-]*, no "..",
 * not ending in ".lock".  Returns true when valid. */
bool strata_env_name_valid(const char *name);

#ifdef __cplusplus
}
#endif
#endif
