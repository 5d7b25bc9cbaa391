/*
 * cmd_history.c - `strata history ENV`: what was published, from which
 * source commit.
 *
 * One line per commit of the environment branch (first parent, newest
 * first): the commit, its Strata-Source (or "-" for a commit strata did not
 * make), the commit date in UTC, and the subject.  Rollbacks say what they
 * restored.  Meant for people and for `awk '{print $2}'` alike.
 */
#include "cli.h"

#include "strata/git.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void history_usage(FILE *f)
{
	fprintf(f,
		"usage: strata history [options] ENV\n\n"
		"List the commits of ENV's branch, newest first:\n"
		"  COMMIT  SOURCE  DATE(UTC)  SUBJECT\n"
		"SOURCE is the config commit that was rendered ('worktree' when the\n"
		"working directory was, '-' for commits strata did not make).\n\n"
		"  -n, --max-count N   show at most N commits\n"
		"  -t, --target DIR    the repository holding the branches (default: the\n"
		"                      config repository)\n"
		"  -C, --repo DIR      the config repository (default: current directory)\n"
		"  -h, --help          show this help\n");
}

int cmd_history(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "max-count", required_argument, NULL, 'n' },
		{ "target", required_argument, NULL, 't' },
		{ "repo", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	strata_error err;
	strata_repo *repo = NULL;
	strata_history_entry *h = NULL;
	const char *dir = NULL, *target = NULL;
	size_t n = 0, max = 0;
	int c, rc, ret = EXIT_OK;

	strata_error_clear(&err);
	optind = 1;
	while ((c = getopt_long(argc, argv, "n:t:C:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*end || v < 0)
				return cli_usage_error("history", "invalid count '%s'", optarg);
			max = (size_t)v;
			if (v == 0)
				return EXIT_OK;
			break;
		}
		case 't': target = optarg; break;
		case 'C': dir = optarg; break;
		case 'h': history_usage(stdout); return EXIT_OK;
		default: history_usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		history_usage(stderr);
		return cli_usage_error("history", "give exactly one environment");
	}
	if (!dir)
		dir = cli_global_repo ? cli_global_repo : ".";
	rc = cli_open_repo(&repo, dir, &err);
	if (rc < 0)
		return cli_report(&err, rc);
	rc = strata_history(&h, &n, strata_repo_config(repo), argv[optind],
			    target ? target : dir, max, &err);
	if (rc < 0) {
		ret = cli_report(&err, rc);
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		char date[32];
		time_t t = (time_t)h[i].time;
		struct tm tm;
		const char *src = h[i].source[0] ? h[i].source : "-";

		if (!gmtime_r(&t, &tm) ||
		    !strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm))
			snprintf(date, sizeof(date), "-");
		printf("%s  %s  %s  %s", h[i].commit, src, date, h[i].subject);
		if (h[i].rollback_of[0])
			printf("  (rollback of %.12s)", h[i].rollback_of);
		printf("\n");
	}
	if (fflush(stdout) != 0)
		ret = EXIT_IO;
done:
	strata_history_free(h, n);
	strata_repo_free(repo);
	return ret;
}
