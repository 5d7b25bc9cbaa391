/*
 * cmd_render.c - `strata render`: preview environments.
 *
 * Everything is rendered into memory first; only when every environment
 * succeeded is anything written, to stdout or atomically to --out, so an
 * error never leaves half an output behind.
 */
#include "cli.h"

#include "strata/git.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void render_usage(FILE *f)
{
	fprintf(f,
		"usage: strata render [options] ENV...\n"
		"       strata render [options] --all\n\n"
		"Render environments of the config repository: base, then each overlay\n"
		"layer, variables, images, namespace, name prefix/suffix, labels.\n\n"
		"  ENV              environment(s) from strata.ini\n"
		"  -a, --all        every environment, in strata.ini order\n"
		"  -o, --out DIR    write one file per resource under DIR/<namespace>/\n"
		"                   (DIR/<env>/<namespace>/ for several environments);\n"
		"                   DIR is replaced atomically and must be empty, absent\n"
		"                   or an earlier strata output\n"
		"  -r, --rev REV    render revision REV of the config repository (read\n"
		"                   from git, no checkout) instead of the working directory\n"
		"  -L, --limit NAME=VALUE  raise or lower an input limit: alias-nodes,\n"
		"                   depth, scalar, file, total, files (K/M/G suffixes)\n"
		"  -C, --repo DIR   the config repository (default: current directory)\n"
		"  -h, --help       show this help\n\n"
		"Without --out the documents go to stdout separated by '---'; with several\n"
		"environments each one starts with a '# env: NAME' comment.\n");
}

int cmd_render(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "out", required_argument, NULL, 'o' },
		{ "rev", required_argument, NULL, 'r' },
		{ "limit", required_argument, NULL, 'L' },
		{ "repo", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	strata_error err;
	strata_repo *repo = NULL;
	strata_buf out = STRATA_BUF_INIT;
	strata_filelist files = { 0 };
	const char *outdir = NULL, *repodir = NULL, *rev = NULL;
	const char **envs = NULL;
	size_t n_envs = 0;
	bool all = false;
	int c, rc, ret = EXIT_OK;

	strata_error_clear(&err);
	optind = 1;
	while ((c = getopt_long(argc, argv, "ao:r:C:L:h", opts, NULL)) != -1) {
		switch (c) {
		case 'a': all = true; break;
		case 'o': outdir = optarg; break;
		case 'r': rev = optarg; break;
		case 'L':
			if (cli_parse_limit("render", optarg) != 0)
				return EXIT_USAGE;
			break;
		case 'C': repodir = optarg; break;
		case 'h': render_usage(stdout); return EXIT_OK;
		default: render_usage(stderr); return EXIT_USAGE;
		}
	}
	if (all && optind < argc)
		return cli_usage_error("render", "give environments or --all, not both");
	if (!all && optind >= argc) {
		render_usage(stderr);
		return cli_usage_error("render", "no environment given");
	}
	if (rev) {
		strata_source *src = NULL;

		if (rev[0] == '-' || !rev[0])
			return cli_usage_error("render", "invalid revision '%s'", rev);
		rc = strata_source_git_open(&src,
					    repodir ? repodir :
					    cli_global_repo ? cli_global_repo : ".",
					    rev, &err);
		if (rc == 0)
			rc = strata_repo_open(&repo, src, &cli_limits, &err);
	} else {
		rc = cli_open_repo(&repo, repodir, &err);
	}
	if (rc < 0)
		return cli_report(&err, rc);
	if (all) {
		const strata_config *cfg = strata_repo_config(repo);
		envs = calloc(cfg->n_envs ? cfg->n_envs : 1, sizeof(*envs));
		if (!envs) {
			ret = EXIT_INTERNAL;
			goto done;
		}
		for (size_t i = 0; i < cfg->n_envs; i++)
			envs[n_envs++] = cfg->envs[i].name;
		if (!n_envs) {
			ret = cli_usage_error("render", "strata.ini defines no environment");
			goto done;
		}
	} else {
		envs = (const char **)(argv + optind);
		n_envs = (size_t)(argc - optind);
	}

	for (size_t i = 0; i < n_envs; i++) {
		strata_render *r = NULL;
		/* the last render may take the parsed base instead of copying it */
		if (i + 1 == n_envs)
			strata_repo_last_render(repo);
		rc = strata_render_env(&r, repo, envs[i], &err);
		if (rc < 0) {
			/* with several environments, say which one failed */
			if (n_envs > 1 && err.code) {
				size_t len = strlen(err.msg);
				snprintf(err.msg + len, sizeof(err.msg) - len,
					 " (env '%s')", envs[i]);
			}
			ret = cli_report(&err, rc);
			goto done;
		}
		if (outdir) {
			char prefix[300];
			snprintf(prefix, sizeof(prefix), "%s/", envs[i]);
			rc = strata_render_files(&files, r, n_envs > 1 ? prefix : "");
		} else {
			if (n_envs > 1)
				rc = strata_buf_printf(&out, "%s# env: %s\n", i ? "---\n" : "", envs[i]);
			if (rc == 0)
				rc = strata_render_stream(&out, r);
		}
		strata_render_free(r);
		if (rc < 0) {
			ret = EXIT_INTERNAL;
			goto done;
		}
	}
	if (outdir) {
		rc = strata_output_write(outdir, &files, &err);
		if (rc < 0)
			ret = cli_report(&err, rc);
	} else {
		ret = cli_write_stdout(out.ptr, out.len);
		if (ret)
			fprintf(stderr, "strata render: cannot write to stdout\n");
	}
done:
	if (all)
		free(envs);
	strata_filelist_free(&files);
	strata_buf_free(&out);
	strata_repo_free(repo);
	return ret;
}
