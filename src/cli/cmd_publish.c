/*
 * cmd_publish.c - `strata publish`: commit rendered environments to their
 * branches (and push them).
 *
 * Each environment is published on its own: a failure is reported and the
 * next one still runs, so one broken overlay never blocks the others and
 * no branch is ever half-moved (the library moves a ref only by one
 * compare-and-swap).  The summary table on stdout lists every environment;
 * the exit code is that of the first failure.
 */
#include "cli.h"

#include "strata/git.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Beyond this many environments, progress goes to stderr even in CI. */
#define PROGRESS_MIN_ENVS 4

static void publish_usage(FILE *f)
{
	fprintf(f,
		"usage: strata publish [options] ENV...\n"
		"       strata publish [options] --all\n\n"
		"Render environments and commit each one to its branch ([strata] branch,\n"
		"default env/{env}): one file per resource as `render --out` writes them,\n"
		"or one manifests.yaml with [strata] layout = stream.  A branch whose tip\n"
		"already has the rendered tree is left alone (unchanged).\n\n"
		"  ENV                 environment(s) from strata.ini\n"
		"  -a, --all           every environment, each one independently\n"
		"  -r, --rev REV       render this revision of the config (default HEAD);\n"
		"                      the working tree is not read\n"
		"  -w, --worktree      render the working directory instead (recorded as\n"
		"                      Strata-Source: worktree, commit time = now)\n"
		"  -t, --target DIR    write the branches into the git repository DIR\n"
		"                      instead of the config repository\n"
		"  -p, --push[=REMOTE] push every branch written (default remote: origin);\n"
		"                      REMOTE is a remote name, a URL or a path\n"
		"      --adopt         write to a branch strata did not create for this\n"
		"                      environment (no Strata-Env trailer on its tip)\n"
		"  -m, --message MSG   commit subject instead of '<env>: render <id> <subject>'\n"
		"  -L, --limit NAME=VALUE  raise or lower an input limit: alias-nodes,\n"
		"                      depth, scalar, file, total, files (K/M/G suffixes)\n"
		"  -j, --jobs N        threads that parse files and emit output (default:\n"
		"                      the number of CPUs, at most 8; never changes a commit)\n"
		"  -C, --repo DIR      the config repository (default: current directory)\n"
		"  -h, --help          show this help\n\n"
		"https remotes: the token in STRATA_GIT_TOKEN is sent as the password, with\n"
		"the user name in STRATA_GIT_USER (default x-access-token).  ssh remotes use\n"
		"the ssh agent.\n\n"
		"Exit status: 0 when every environment was published or unchanged, else\n"
		"the code of the first failure (7 git, 8 refused, 9 push rejected, ...).\n");
}

typedef struct row {
	const char *env;
	strata_publish_result res;
	int exit;
} row;

int cmd_publish(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "rev", required_argument, NULL, 'r' },
		{ "worktree", no_argument, NULL, 'w' },
		{ "target", required_argument, NULL, 't' },
		{ "push", optional_argument, NULL, 'p' },
		{ "adopt", no_argument, NULL, 'A' },
		{ "message", required_argument, NULL, 'm' },
		{ "limit", required_argument, NULL, 'L' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "repo", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	strata_publish_opts po;
	strata_error err;
	strata_source *src = NULL;
	strata_repo *repo = NULL;
	const char *rev = NULL, *dir = NULL;
	const char **envs = NULL;
	row *rows = NULL;
	size_t n_envs = 0, n_failed = 0;
	bool all = false, worktree = false, progress;
	int c, rc, ret = EXIT_OK;

	memset(&po, 0, sizeof(po));
	strata_error_clear(&err);
	optind = 1;
	while ((c = getopt_long(argc, argv, "ar:wt:p::m:L:j:C:h", opts, NULL)) !=
	       -1) {
		switch (c) {
		case 'a': all = true; break;
		case 'r': rev = optarg; break;
		case 'w': worktree = true; break;
		case 't': po.target_dir = optarg; break;
		case 'p': po.remote = optarg ? optarg : "origin"; break;
		case 'A': po.adopt = true; break;
		case 'm': po.message = optarg; break;
		case 'L':
			if (cli_parse_limit("publish", optarg) != 0)
				return EXIT_USAGE;
			break;
		case 'j':
			if (cli_parse_jobs("publish", optarg) != 0)
				return EXIT_USAGE;
			break;
		case 'C': dir = optarg; break;
		case 'h': publish_usage(stdout); return EXIT_OK;
		default: publish_usage(stderr); return EXIT_USAGE;
		}
	}
	if (all && optind < argc)
		return cli_usage_error("publish", "give environments or --all, not both");
	if (!all && optind >= argc) {
		publish_usage(stderr);
		return cli_usage_error("publish", "no environment given");
	}
	if (rev && worktree)
		return cli_usage_error("publish", "--rev and --worktree exclude each other");
	if (rev && rev[0] == '-')
		return cli_usage_error("publish", "invalid revision '%s'", rev);
	if (po.remote && (!po.remote[0] || po.remote[0] == '-'))
		return cli_usage_error("publish", "invalid remote '%s'", po.remote);
	if (po.message && !po.message[0])
		return cli_usage_error("publish", "empty --message");
	if (!dir)
		dir = cli_global_repo ? cli_global_repo : ".";
	po.config_dir = dir;
	po.https_token = getenv("STRATA_GIT_TOKEN");
	po.https_user = getenv("STRATA_GIT_USER");
	if (po.https_token && !po.https_token[0])
		po.https_token = NULL;
	if (po.https_user && !po.https_user[0])
		po.https_user = NULL;

	if (worktree)
		rc = strata_source_fs_open(&src, dir, &err);
	else
		rc = strata_source_git_open(&src, dir, rev ? rev : "HEAD", &err);
	if (rc < 0)
		return cli_report(&err, rc);
	rc = strata_repo_open(&repo, src, &cli_limits, &err);
	if (rc < 0)
		return cli_report(&err, rc);

	ret = cli_env_list(&envs, &n_envs, repo, all, argc - optind,
			   argv + optind, "publish");
	if (ret != EXIT_OK)
		goto done;
	rows = calloc(n_envs, sizeof(*rows));
	if (!rows) {
		ret = EXIT_INTERNAL;
		goto done;
	}
	progress = isatty(STDERR_FILENO) || n_envs >= PROGRESS_MIN_ENVS;

	for (size_t i = 0; i < n_envs; i++) {
		row *r = &rows[i];

		r->env = envs[i];
		strata_error_clear(&err);
		if (progress)
			fprintf(stderr, "strata publish: [%zu/%zu] %s ...\n",
				i + 1, n_envs, envs[i]);
		/* the last render may edit the parsed base in place */
		if (i + 1 == n_envs)
			strata_repo_last_render(repo);
		rc = strata_publish_env(&r->res, repo, envs[i], &po, &err);
		if (rc < 0) {
			char line[2200];

			strata_error_format(&err, line, sizeof(line));
			if (!err.code)
				snprintf(line, sizeof(line), "error %d", rc);
			fprintf(stderr, "strata publish: %s: %s\n", envs[i],
				line);
			r->exit = exit_code_for(err.code ? err.code : rc);
			if (ret == EXIT_OK)
				ret = r->exit;
			n_failed++;
		}
		/* the overlays only this environment used are not needed again */
		if (i + 1 < n_envs) {
			strata_error_clear(&err);
			rc = strata_repo_trim(repo, envs + i + 1, n_envs - i - 1, &err);
			if (rc < 0) {
				ret = cli_report(&err, rc);
				goto done;
			}
		}
	}

	/* The summary: one row per environment. */
	{
		int we = 3, wb = 6;

		for (size_t i = 0; i < n_envs; i++) {
			int le = (int)strlen(rows[i].env);
			int lb = rows[i].res.branch[0] ?
					 (int)strlen(rows[i].res.branch) - 11 :
					 1;

			if (le > we)
				we = le;
			if (lb > wb)
				wb = lb;
		}
		printf("%-*s  %-*s  %-9s  %s\n", we, "ENV", wb, "BRANCH",
		       "RESULT", "COMMIT");
		for (size_t i = 0; i < n_envs; i++) {
			const strata_publish_result *res = &rows[i].res;

			printf("%-*s  %-*s  %-9s  %s\n", we, rows[i].env, wb,
			       res->branch[0] ? res->branch + 11 : "-",
			       strata_publish_status_name(res->status),
			       res->commit[0] ? res->commit : "-");
		}
		if (fflush(stdout) != 0 && ret == EXIT_OK)
			ret = EXIT_IO;
	}
	if (n_failed && n_envs > 1)
		fprintf(stderr, "strata publish: %zu of %zu environments failed\n",
			n_failed, n_envs);
done:
	free(envs);
	free(rows);
	strata_repo_free(repo);
	return ret;
}
