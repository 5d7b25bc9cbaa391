/*
 * exitcodes.h - the exit codes of the strata command, in one place.
 * README.md documents them; keep the two in step.
 *
 * diff follows diff(1): 0 no differences, 1 differences, 2 and up trouble.
 */
#ifndef STRATA_CLI_EXITCODES_H
#define STRATA_CLI_EXITCODES_H

enum {
	EXIT_OK = 0,
	EXIT_DIFFERENT = 1,  /* diff: the sides differ */
	EXIT_USAGE = 2,      /* bad command line */
	EXIT_CONFIG = 3,     /* strata.ini is invalid or names a missing path */
	EXIT_INPUT = 4,      /* YAML that does not parse or is not a resource,
				a limit exceeded, a path leaving the repository */
	EXIT_RENDER = 5,     /* unknown environment, patch target not found or
				ambiguous, duplicate resource, undefined variable */
	EXIT_IO = 6,         /* reading or writing files failed */
	EXIT_GIT = 7,        /* a git operation failed */
	EXIT_REFUSED = 8,    /* refused to overwrite something strata does not own */
	EXIT_PUSH = 9,       /* the remote rejected a push */
	EXIT_CHECK = 10,     /* strata check found errors */
	EXIT_INTERNAL = 70,  /* out of memory or a bug */
};

/* Map a libstrata error code to an exit code. */
int exit_code_for(int strata_code);

#endif
