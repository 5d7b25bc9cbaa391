/*
 * cli.h - what the subcommands share: the command table entry type, error
 * printing, and opening the config repository named by -C.
 */
#ifndef STRATA_CLI_H
#define STRATA_CLI_H

#include "exitcodes.h"
#include "strata.h"

#include <stdio.h>

int cmd_render(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_publish(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_rollback(int argc, char **argv);
int cmd_check(int argc, char **argv);

/* Print "strata: ..." style usage problems; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Print err as one line on stderr; returns the mapped exit code. */
int cli_report(const strata_error *err, int code);
/* Open the repository at dir (NULL = current directory). */
int cli_open_repo(strata_repo **out, const char *dir, strata_error *err);
/*
 * The environments a command works on: every one of strata.ini when all,
 * else argv[0..argc).  *out is malloc'ed (the caller frees it); returns
 * EXIT_OK, or an exit code after printing the problem.
 */
int cli_env_list(const char ***out, size_t *n, const strata_repo *repo,
		 bool all, int argc, char **argv, const char *cmd);
/* Write all of buf to stdout; EXIT_IO on failure. */
int cli_write_stdout(const char *data, size_t len);
/* $TMPDIR, else /tmp. */
const char *cli_tmp_dir(void);
/*
 * An unlinked temporary file in cli_tmp_dir() (name: what it is for, in
 * the file's name until it is unlinked), open for update; NULL with errno
 * set.  Where a command keeps output it writes only once it succeeded.
 */
FILE *cli_spill_open(const char *name);

/*
 * A command calls this as soon as its options say it will use git, before
 * it reads, writes or prints anything.  In `strata` built as the front
 * without libgit2 (git_front.c) it runs strata-git with this process's
 * argv instead, and returns only when that cannot be done (EXIT_GIT,
 * printed); in the strata that has git (git_full.c) it returns EXIT_OK.
 */
int cli_git_needed(void);
/* What the front sets in strata-git's environment (git_front.c). */
#define CLI_HANDOFF_MARK "STRATA_HANDED_OVER"
/*
 * First thing in main(): the strata that has git drops the mark the front
 * set for it (STRATA_HANDED_OVER), so a strata started from it could hand
 * over again; the front keeps it, to refuse a strata-git that hands back.
 */
void cli_git_start(void);
/* main()'s argv as it came (getopt reorders the one commands parse). */
extern char **cli_argv;

/* Directory given by a global -C before the subcommand (or NULL). */
extern const char *cli_global_repo;
/* Input limits: the defaults, changed by --limit NAME=VALUE. */
extern strata_limits cli_limits;
/* Apply one --limit NAME=VALUE to cli_limits; EXIT_USAGE (printed) on error. */
int cli_parse_limit(const char *cmd, const char *spec);
/*
 * Apply -j/--jobs N (1..64) to cli_limits.jobs; a subcommand's (cmd not
 * NULL) also restarts the helper threads with N.  EXIT_USAGE (printed) on
 * error.
 */
int cli_parse_jobs(const char *cmd, const char *s);

#endif
