/*
 * cmd_check.c - `strata check`: report every problem of the config
 * repository, one per line, and exit non-zero when any is an error.
 *
 * Problems go to stdout (they are the command's output, text or JSON);
 * a one-line summary goes to stderr.
 */
#include "cli.h"
#include "strata/check.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void check_usage(FILE *f)
{
	fprintf(f,
		"usage: strata check [options] [ENV...]\n\n"
		"Load strata.ini and every YAML file, render every environment (or the\n"
		"ones named) and report all problems, one per line:\n"
		"  path:line:col: error|warning: message [rule-id]\n\n"
		"  ENV                   environment(s) to check (default: all)\n"
		"  -a, --all             every environment (the default)\n"
		"  --format text|json    output format (default: text)\n"
		"  --strict              warnings count as errors\n"
		"  --limit NAME=VALUE    raise or lower a limit: alias-nodes, depth,\n"
		"                        scalar, file, total, files (K/M/G suffixes)\n"
		"  -j, --jobs N          threads that parse files (default: the number\n"
		"                        of CPUs, at most 8; results never depend on it)\n"
		"  -C, --repo DIR        the config repository (default: current directory)\n"
		"  -h, --help            show this help\n\n"
		"Exit status: 0 no errors, 10 errors found, 2 bad usage.\n"
		"Rules and limits: docs/check.md.\n");
}

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "format", required_argument, NULL, 'f' },
		{ "strict", no_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'l' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "repo", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	strata_check_result res;
	strata_error err;
	strata_source *src = NULL;
	strata_buf out = STRATA_BUF_INIT;
	const char *repodir = NULL;
	bool json = false, strict = false, all = false;
	int c, rc, ret;

	strata_check_result_init(&res);
	strata_error_clear(&err);
	optind = 1;
	opterr = 0; /* one line of our own instead of getopt's and the usage */
	while ((c = getopt_long(argc, argv, ":aC:j:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (!strcmp(optarg, "json"))
				json = true;
			else if (!strcmp(optarg, "text"))
				json = false;
			else
				return cli_usage_error("check", "unknown format '%s' (expected text or json)",
						       optarg);
			break;
		case 's': strict = true; break;
		case 'a': all = true; break;
		case 'l':
			if (cli_parse_limit("check", optarg) != 0)
				return EXIT_USAGE;
			break;
		case 'j':
			if (cli_parse_jobs("check", optarg) != 0)
				return EXIT_USAGE;
			break;
		case 'C': repodir = optarg; break;
		case 'h': check_usage(stdout); return EXIT_OK;
		case ':':
			return cli_usage_error("check", "option '%s' needs a value",
					       argv[optind - 1]);
		default:
			return cli_usage_error("check", "unknown option '%s' (see 'strata check --help')",
					       argv[optind - 1]);
		}
	}
	if (all && optind < argc)
		return cli_usage_error("check", "give environments or --all, not both");
	if (!repodir)
		repodir = cli_global_repo ? cli_global_repo : ".";
	rc = strata_source_fs_open(&src, repodir, &err);
	if (rc < 0)
		return cli_report(&err, rc);
	rc = strata_check_repo(&res, src, (const char *const *)(argv + optind),
			       (size_t)(argc - optind), &cli_limits, &err);
	if (rc < 0 && rc != STRATA_ECHECK) {
		ret = cli_report(&err, rc);
		goto done;
	}
	rc = json ? strata_check_format_json(&out, &res)
		  : strata_check_format_text(&out, &res);
	if (rc < 0) {
		ret = EXIT_INTERNAL;
		goto done;
	}
	ret = cli_write_stdout(out.ptr, out.len);
	if (ret) {
		fprintf(stderr, "strata check: cannot write to stdout\n");
		goto done;
	}
	fprintf(stderr, "strata check: %zu error%s, %zu warning%s in %zu environment%s\n",
		res.errors, res.errors == 1 ? "" : "s", res.warnings,
		res.warnings == 1 ? "" : "s", res.envs_checked,
		res.envs_checked == 1 ? "" : "s");
	ret = res.errors || (strict && res.warnings) ? EXIT_CHECK : EXIT_OK;
done:
	strata_buf_free(&out);
	strata_check_result_free(&res);
	return ret;
}
