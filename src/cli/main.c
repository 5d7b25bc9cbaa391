/*
 * main.c - the strata command: global options, then one subcommand from
 * the table below.  Each subcommand lives in its own cmd_<name>.c.
 */
#include "cli.h"
#include "strata/check.h"
#include "strata/git.h"
#include "strata/threads.h"

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *cli_global_repo;
strata_limits cli_limits;
char **cli_argv;

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *desc;
	bool threads; /* parses a repository: start the helper threads first */
	bool git;     /* always uses git (others call cli_git_needed() if they do) */
} commands[] = {
	{ "render", cmd_render, "render environments to stdout or a directory", true, false },
	{ "diff", cmd_diff, "show what changes between environments, revisions or what is published", true, false },
	{ "publish", cmd_publish, "commit rendered environments to their branches (and push)", true, true },
	{ "history", cmd_history, "list what was published to an environment branch", false, true },
	{ "rollback", cmd_rollback, "restore an earlier state of an environment branch", false, true },
	{ "check", cmd_check, "report every problem of the repository (exit 10 on errors)", true, false },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: strata [-C DIR] <command> [<args>]\n\n"
		   "strata renders Kubernetes base + overlay configuration into fully\n"
		   "resolved manifests per environment (GitOps rendered manifests).\n\n"
		   "commands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].desc);
	fprintf(f, "\noptions:\n"
		   "  -C, --repo DIR  run as if started in DIR (the config repository)\n"
		   "  --limit NAME=VALUE  raise or lower an input limit (alias-nodes, depth,\n"
		   "                  scalar, file, total, files; K/M/G suffixes)\n"
		   "  -j, --jobs N    threads that parse files and emit output (default:\n"
		   "                  the number of CPUs, at most 8; output never depends on it)\n"
		   "  -h, --help      show this help\n"
		   "  --version       show the version\n\n"
		   "'strata <command> --help' describes a command.\n");
}

int exit_code_for(int code)
{
	switch (code) {
	case 0: return EXIT_OK;
	case STRATA_EUSAGE: return EXIT_USAGE;
	case STRATA_ECONFIG: return EXIT_CONFIG;
	case STRATA_EPARSE:
	case STRATA_ELIMIT:
	case STRATA_EUNSAFE: return EXIT_INPUT;
	case STRATA_ENOTFOUND:
	case STRATA_EAMBIGUOUS:
	case STRATA_ECONFLICT:
	case STRATA_EUNDEFVAR: return EXIT_RENDER;
	case STRATA_EIO: return EXIT_IO;
	case STRATA_EGIT: return EXIT_GIT;
	case STRATA_EREFUSED: return EXIT_REFUSED;
	case STRATA_EREJECTED: return EXIT_PUSH;
	case STRATA_ECHECK: return EXIT_CHECK;
	default: return EXIT_INTERNAL;
	}
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "strata%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return EXIT_USAGE;
}

int cli_report(const strata_error *err, int code)
{
	char line[2200];

	if (err->code) {
		strata_error_format(err, line, sizeof(line));
		fprintf(stderr, "%s\n", line);
		return exit_code_for(err->code);
	}
	fprintf(stderr, "strata: error %d\n", code);
	return exit_code_for(code);
}

int cli_parse_limit(const char *cmd, const char *spec)
{
	strata_error err;

	strata_error_clear(&err);
	if (strata_limits_parse(&cli_limits, spec, &err) < 0)
		return cli_usage_error(cmd, "%s", err.msg);
	return 0;
}

int cli_env_list(const char ***out, size_t *n, const strata_repo *repo,
		 bool all, int argc, char **argv, const char *cmd)
{
	const strata_config *cfg = strata_repo_config(repo);
	size_t count = all ? cfg->n_envs : (size_t)argc;
	const char **envs = calloc(count ? count : 1, sizeof(*envs));

	*out = NULL;
	*n = 0;
	if (!envs)
		return EXIT_INTERNAL;
	for (size_t i = 0; i < count; i++)
		envs[i] = all ? cfg->envs[i].name : argv[i];
	if (!count) {
		free(envs);
		return cli_usage_error(cmd, "strata.ini defines no environment");
	}
	*out = envs;
	*n = count;
	return EXIT_OK;
}

int cli_open_repo(strata_repo **out, const char *dir, strata_error *err)
{
	strata_source *src;
	int rc;

	if (!dir)
		dir = cli_global_repo ? cli_global_repo : ".";
	rc = strata_source_fs_open(&src, dir, err);
	if (rc < 0)
		return rc;
	return strata_repo_open(out, src, &cli_limits, err);
}

const char *cli_tmp_dir(void)
{
	const char *dir = getenv("TMPDIR");

	return dir && dir[0] ? dir : "/tmp";
}

FILE *cli_spill_open(const char *name)
{
	int fd = strata_tmpfile(cli_tmp_dir(), name);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w+");

	if (fd >= 0 && !f)
		close(fd);
	return f;
}

int cli_write_stdout(const char *data, size_t len)
{
	if (len && fwrite(data, 1, len, stdout) != len)
		return EXIT_IO;
	if (fflush(stdout) != 0)
		return EXIT_IO;
	return EXIT_OK;
}

int cli_parse_jobs(const char *cmd, const char *s)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || n < 1 || n > 64)
		return cli_usage_error(cmd, "--jobs wants a number from 1 to 64, not '%s'", s);
	cli_limits.jobs = (unsigned)n;
	/*
	 * A subcommand's -j comes after main() started the helper threads
	 * for the default: start as many as this -j asks for instead, or
	 * every step would find the pool too small (or keep idle threads).
	 */
	if (cmd) {
		strata_threads_stop();
		(void)strata_threads_start(cli_limits.jobs);
	}
	return 0;
}

/*
 * The CPUs this process may run on: its affinity mask, which taskset and
 * cgroup cpusets narrow, unlike sysconf(_SC_NPROCESSORS_ONLN), which
 * counts every online CPU (and reads sysfs to do it: 0.1-0.6 ms of a
 * 15 ms render here, against one system call).
 */
static long cpus_usable(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		return CPU_COUNT(&set);
	return sysconf(_SC_NPROCESSORS_ONLN);
}

int main(int argc, char **argv)
{
	int i = 1;
	long cpus;

	cli_git_start();
	cpus = cpus_usable();
	strata_limits_default(&cli_limits);
	cli_limits.jobs = cpus < 1 ? 1 : cpus > 8 ? 8 : (unsigned)cpus;
	/* secure_getenv: a setuid caller's environment does not choose it */
	strata_git_library(secure_getenv("STRATA_LIBGIT2"));

	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "--version")) {
			printf("strata %s\n", STRATA_VERSION_STRING);
			return EXIT_OK;
		} else if ((!strcmp(argv[i], "-C") || !strcmp(argv[i], "--repo")) && i + 1 < argc) {
			cli_global_repo = argv[i + 1];
			i += 2;
		} else if (!strcmp(argv[i], "--limit") && i + 1 < argc) {
			if (cli_parse_limit(NULL, argv[i + 1]) != 0)
				return EXIT_USAGE;
			i += 2;
		} else if ((!strcmp(argv[i], "-j") || !strcmp(argv[i], "--jobs")) && i + 1 < argc) {
			if (cli_parse_jobs(NULL, argv[i + 1]) != 0)
				return EXIT_USAGE;
			i += 2;
		} else if (!strncmp(argv[i], "--jobs=", 7) || !strncmp(argv[i], "-j", 2)) {
			if (cli_parse_jobs(NULL, argv[i] + (argv[i][1] == 'j' ? 2 : 7)) != 0)
				return EXIT_USAGE;
			i++;
		} else if (!strncmp(argv[i], "--repo=", 7)) {
			cli_global_repo = argv[i] + 7;
			i++;
		} else {
			usage(stderr);
			return cli_usage_error(NULL, "unknown option '%s'", argv[i]);
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[i], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	for (size_t c = 0; c < N_COMMANDS; c++) {
		int ret;

		if (strcmp(argv[i], commands[c].name))
			continue;
		/* as given, for cli_git_needed(): the command's getopt reorders argv */
		cli_argv = malloc(((size_t)argc + 1) * sizeof(*cli_argv));
		if (!cli_argv)
			return EXIT_INTERNAL;
		memcpy(cli_argv, argv, ((size_t)argc + 1) * sizeof(*cli_argv));
		if (commands[c].git && (ret = cli_git_needed()) != EXIT_OK) {
			free(cli_argv);
			return ret;
		}
		/*
		 * Started now, the threads are running (asleep, waiting for a
		 * step) by the time the first files are parsed (threads.h);
		 * if they cannot start, each step starts its own.  A
		 * subcommand's -j starts them again (cli_parse_jobs).
		 */
		if (commands[c].threads)
			(void)strata_threads_start(cli_limits.jobs);
		ret = commands[c].fn(argc - i, argv + i);
		strata_threads_stop();
		free(cli_argv);
		return ret;
	}
	{
		const char *names[N_COMMANDS];
		const char *hint;
		for (size_t c = 0; c < N_COMMANDS; c++)
			names[c] = commands[c].name;
		hint = strata_suggest(argv[i], names, N_COMMANDS);
		if (hint)
			return cli_usage_error(NULL, "'%s' is not a strata command (did you mean '%s'?)",
					       argv[i], hint);
		return cli_usage_error(NULL, "'%s' is not a strata command; see 'strata --help'",
				       argv[i]);
	}
}
