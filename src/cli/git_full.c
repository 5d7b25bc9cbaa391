/*
 * git_full.c - the strata command that has git (strata-git, or `strata`
 * itself when it is not built as the front of git_front.c): it runs every
 * command itself, libgit2 loaded on first use by libstrata.
 */
#include "cli.h"

#include <stdlib.h>

void cli_git_start(void)
{
	unsetenv(CLI_HANDOFF_MARK);
}

int cli_git_needed(void)
{
	return EXIT_OK;
}
