/*
 * git_front.c - the `strata` command without libgit2: a command that needs
 * git is handed over, whole, to strata-git.
 *
 * Most runs never touch git (a render of the working tree, check, diff of
 * two environments), and for them the dynamic loader is the largest fixed
 * cost left: mapping and relocating libc alone took 0.8 ms of a 10-11 ms
 * 100-application render here (docs/bench.md).  So the `strata` that is
 * built by default (CMake STRATA_STATIC_CLI) is linked static-pie, without
 * the dynamic loader and without libgit2, which cannot be linked
 * statically (Debian's archive needs GSSAPI, which has none) and which a
 * static program cannot dlopen safely (it would bring a second libc).
 *
 * strata-git is the same command built the other way: dynamic, libgit2
 * loaded on first use (src/lib/git_dl.c).  It is installed beside `strata`;
 * git's own commands hand transports to helper programs the same way.
 *
 * The hand-over is an exec of strata-git with this process's own argv, made
 * by each command as soon as its options say it will need git and before
 * it has read, written or printed anything (cli_git_needed(): main() for
 * publish, history and rollback, cmd_render for --rev, cmd_diff for a
 * revision, a published side or the patch format).  The environment,
 * working directory and file descriptors are inherited, so strata-git
 * runs exactly the command the user typed.
 *
 * This file also stands in for src/lib/git_dl.c: defining every symbol
 * git_dl.o defines, it keeps the linker from taking git_dl.o (and dlopen)
 * out of libstrata.a.  Should git be reached without a hand-over, that is
 * a bug in the command's cli_git_needed() call, and strata_git_init()
 * below says so instead of running git.
 */
#include "cli.h"
#include "strata/git.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* src/lib/git_dl.h's entry points (that header needs libgit2's) */
struct strata_git_fns;
int strata_git_init(strata_error *err);
const struct strata_git_fns *strata_git_fns(void);

/* CLI_HANDOFF_MARK, set in strata-git's environment (which drops it,
 * git_full.c): a strata-git that hands over again is not the strata built
 * with git, and would exec itself forever. */

#define NO_GIT_MSG "internal error: this strata has no libgit2 and did not " \
		   "hand the command over to strata-git"

/*
 * The directory this program was started from: /proc/self/exe (the file
 * itself, whatever PATH or symlink found it), else argv[0] when it names
 * a path.  Writes "<dir>/strata-git" to buf; -1 when neither says.
 */
static int sibling_path(char *buf, size_t size)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	const char *slash;
	int len;

	if (n > 0) {
		self[n] = '\0';
	} else if (cli_argv && cli_argv[0] && strchr(cli_argv[0], '/')) {
		if (snprintf(self, sizeof(self), "%s", cli_argv[0]) >= (int)sizeof(self))
			return -1;
	} else {
		return -1;
	}
	slash = strrchr(self, '/');
	len = snprintf(buf, size, "%.*s/strata-git", (int)(slash - self), self);
	return len < 0 || (size_t)len >= size ? -1 : 0;
}

void cli_git_start(void)
{
}

int cli_git_needed(void)
{
	char path[PATH_MAX + 16];
	int e;

	if (getenv(CLI_HANDOFF_MARK)) {
		fprintf(stderr, "strata: cannot run git commands: the strata-git "
			"beside this strata hands them back (it is not strata "
			"built with libgit2)\n");
		return EXIT_GIT;
	}
	if (!cli_argv || sibling_path(path, sizeof(path)) < 0) {
		fprintf(stderr, "strata: cannot run git commands: cannot find "
			"this program's directory (for strata-git)\n");
		return EXIT_GIT;
	}
	if (setenv(CLI_HANDOFF_MARK, "1", 1) != 0)
		return EXIT_INTERNAL;
	fflush(NULL);
	execv(path, cli_argv);
	e = errno;
	unsetenv(CLI_HANDOFF_MARK);
	fprintf(stderr, "strata: cannot run git commands: cannot run %s: %s\n",
		path, strerror(e));
	return EXIT_GIT;
}

int strata_git_init(strata_error *err)
{
	return strata_error_set(err, STRATA_EGIT, NULL, 0, 0, NO_GIT_MSG);
}

int strata_git_check(strata_error *err)
{
	return strata_git_init(err);
}

void strata_git_library(const char *file)
{
	(void)file;
}

const struct strata_git_fns *strata_git_fns(void)
{
	fputs("strata: " NO_GIT_MSG "\n", stderr);
	abort();
}
