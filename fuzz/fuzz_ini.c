/*
 * fuzz_ini.c - strata.ini parsing.  What parses must resolve every
 * environment (the parser already did so once), give each a valid name and
 * a branch, and keep every string free of NUL and newline bytes.
 */
#include "fuzz.h"

static void clean(const char *s)
{
	if (s)
		FUZZ_ASSERT(!strchr(s, '\n') && !strchr(s, '\r'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	strata_config *cfg = NULL;
	strata_error err;

	strata_error_clear(&err);
	if (strata_config_parse(&cfg, "strata.ini", (const char *)data, size, &err) != 0) {
		FUZZ_ASSERT(cfg == NULL);
		FUZZ_ASSERT(err.code != 0 && err.msg[0]);
		FUZZ_ASSERT(!strchr(err.msg, '\n'));
		return 0;
	}
	clean(cfg->base);
	clean(cfg->branch);
	for (size_t i = 0; i < cfg->n_envs; i++) {
		strata_env *env = NULL;
		char *branch;

		FUZZ_ASSERT(strata_env_name_valid(cfg->envs[i].name));
		strata_error_clear(&err);
		FUZZ_ASSERT(strata_config_env(&env, cfg, cfg->envs[i].name, &err) == 0);
		for (size_t k = 0; k < env->n_overlays; k++)
			clean(env->overlays[k]);
		for (size_t k = 0; k < env->vars.n; k++)
			clean(env->vars.items[k].value);
		branch = strata_config_branch(cfg, env);
		FUZZ_ASSERT(branch != NULL);
		clean(branch);
		free(branch);
		strata_env_free(env);
	}
	strata_config_free(cfg);
	return 0;
}
