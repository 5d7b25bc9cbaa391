/*
 * fuzz_ini.c - strata.ini parsing.  What parses must resolve every
 * environment (the parser already did so once), give each a valid name and
 * a branch, and keep control bytes out of every string: no carriage return
 * ever (a control byte in a line is refused), a line feed only from an
 * input that writes a double-quoted value's \n escape (README: strata.ini),
 * and never one in a branch (git's ref-name rules refuse it).
 */
#include "fuzz.h"

/* s is clean; escaped: the input has a "\n" escape, so s may hold a '\n'. */
static void clean(const char *s, bool escaped)
{
	if (!s)
		return;
	FUZZ_ASSERT(!strchr(s, '\r'));
	FUZZ_ASSERT(escaped || !strchr(s, '\n'));
}

static bool has_newline_escape(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i + 1 < size; i++)
		if (data[i] == '\\' && data[i + 1] == 'n')
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	strata_config *cfg = NULL;
	strata_error err;
	bool esc = has_newline_escape(data, size);

	strata_error_clear(&err);
	if (strata_config_parse(&cfg, "strata.ini", (const char *)data, size, &err) != 0) {
		FUZZ_ASSERT(cfg == NULL);
		FUZZ_ASSERT(err.code != 0 && err.msg[0]);
		FUZZ_ASSERT(!strchr(err.msg, '\n'));
		return 0;
	}
	clean(cfg->base, esc);
	clean(cfg->branch, false);
	for (size_t i = 0; i < cfg->n_envs; i++) {
		strata_env *env = NULL;
		char *branch;

		FUZZ_ASSERT(strata_env_name_valid(cfg->envs[i].name));
		strata_error_clear(&err);
		FUZZ_ASSERT(strata_config_env(&env, cfg, cfg->envs[i].name, &err) == 0);
		for (size_t k = 0; k < env->n_overlays; k++)
			clean(env->overlays[k], esc);
		for (size_t k = 0; k < env->vars.n; k++)
			clean(env->vars.items[k].value, esc);
		branch = strata_config_branch(cfg, env);
		FUZZ_ASSERT(branch != NULL);
		clean(branch, false);
		free(branch);
		strata_env_free(env);
	}
	strata_config_free(cfg);
	return 0;
}
