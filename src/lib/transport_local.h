/*
 * transport_local.h - push to and fetch from repositories on this machine
 * through git's own receive-pack/upload-pack (see transport_local.c).
 */
#ifndef STRATA_TRANSPORT_LOCAL_H
#define STRATA_TRANSPORT_LOCAL_H

/*
 * URLs of the transport: STRATA_LOCAL_PREFIX + the absolute path with every
 * byte outside [A-Za-z0-9/._~-] written as %XX (libgit2 parses the URL, and its parser takes only letters in a scheme).
 */
#define STRATA_LOCAL_SCHEME "stratalocal://"
#define STRATA_LOCAL_PREFIX "stratalocal://localhost"

/* The URL for the absolute path; malloc'ed, NULL on out of memory. */
char *strata_transport_local_url(const char *path);

/*
 * Register the transport with libgit2 (once per process; libgit2 must be
 * initialised).  Returns 0 or a negative libgit2 error.
 */
int strata_transport_local_register(void);

#endif
