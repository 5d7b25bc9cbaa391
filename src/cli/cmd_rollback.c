/*
 * cmd_rollback.c - `strata rollback ENV --to COMMIT`: restore an earlier
 * state of an environment branch with a new commit.
 *
 * History only moves forward: the branch gains a commit whose tree is the
 * tree of COMMIT (an earlier commit of the same branch, as listed by
 * `strata history`), with Strata-Rollback-Of: naming it.  The pull agent
 * sees an ordinary fast-forward.
 */
#include "cli.h"

#include "strata/git.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void rollback_usage(FILE *f)
{
	fprintf(f,
		"usage: strata rollback [options] ENV --to COMMIT\n\n"
		"Commit the tree of COMMIT, an earlier commit of ENV's branch, on top of\n"
		"the branch (nothing is rewritten).  Unchanged when the tip already has it.\n\n"
		"  --to COMMIT         the commit to restore (id or any revision)\n"
		"  -t, --target DIR    the repository holding the branches (default: the\n"
		"                      config repository)\n"
		"  -p, --push[=REMOTE] push the branch afterwards (default remote: origin)\n"
		"  -m, --message MSG   commit subject instead of '<env>: roll back to <id>'\n"
		"  -C, --repo DIR      the config repository (default: current directory)\n"
		"  -h, --help          show this help\n\n"
		"The author and committer come from [publish] in strata.ini, else git\n"
		"config, else strata <strata@localhost>; the time is now.\n");
}

int cmd_rollback(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 'T' },
		{ "target", required_argument, NULL, 't' },
		{ "push", optional_argument, NULL, 'p' },
		{ "message", required_argument, NULL, 'm' },
		{ "repo", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	strata_publish_opts po;
	strata_publish_result res;
	strata_error err;
	strata_repo *repo = NULL;
	const char *dir = NULL, *to = NULL, *env;
	int c, rc, ret = EXIT_OK;

	memset(&po, 0, sizeof(po));
	strata_error_clear(&err);
	optind = 1;
	while ((c = getopt_long(argc, argv, "t:p::m:C:h", opts, NULL)) != -1) {
		switch (c) {
		case 'T': to = optarg; break;
		case 't': po.target_dir = optarg; break;
		case 'p': po.remote = optarg ? optarg : "origin"; break;
		case 'm': po.message = optarg; break;
		case 'C': dir = optarg; break;
		case 'h': rollback_usage(stdout); return EXIT_OK;
		default: rollback_usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		rollback_usage(stderr);
		return cli_usage_error("rollback", "give exactly one environment");
	}
	env = argv[optind];
	if (!to) {
		rollback_usage(stderr);
		return cli_usage_error("rollback", "--to COMMIT is required");
	}
	if (to[0] == '-' || !to[0])
		return cli_usage_error("rollback", "invalid revision '%s'", to);
	if (po.remote && (!po.remote[0] || po.remote[0] == '-'))
		return cli_usage_error("rollback", "invalid remote '%s'", po.remote);
	if (!dir)
		dir = cli_global_repo ? cli_global_repo : ".";
	po.config_dir = dir;
	po.https_token = getenv("STRATA_GIT_TOKEN");
	po.https_user = getenv("STRATA_GIT_USER");
	rc = cli_open_repo(&repo, dir, &err);
	if (rc < 0)
		return cli_report(&err, rc);
	rc = strata_rollback_env(&res, strata_repo_config(repo), env, to, &po,
				 &err);
	if (rc < 0) {
		ret = cli_report(&err, rc);
		goto done;
	}
	printf("%s  %s  %s  %s\n", env, res.branch + 11,
	       strata_publish_status_name(res.status), res.commit);
	if (fflush(stdout) != 0)
		ret = EXIT_IO;
done:
	strata_repo_free(repo);
	return ret;
}
