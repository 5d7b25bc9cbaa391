/*
 * publish_cred.h - which credential a push or fetch offers the remote
 * (private to publish.c; declared here so tests/test_publish.c can check
 * the decision without an ssh server).
 *
 * libgit2 calls publish.c's credentials callback with the credential types
 * the transport accepts, again after every refusal; the callback asks
 * strata_publish_cred_choose what to make and only then builds it.
 */
#ifndef STRATA_PUBLISH_CRED_H
#define STRATA_PUBLISH_CRED_H

#include "strata/git.h"

/* Credentials offered per connection before giving up (docs/publish.md). */
#define STRATA_PUBLISH_CRED_TRIES 3

typedef enum strata_publish_cred_kind {
	STRATA_PUBLISH_CRED_REFUSE,   /* offer nothing: fail with message */
	STRATA_PUBLISH_CRED_AGENT,    /* ssh key from the agent, as user */
	STRATA_PUBLISH_CRED_USERPASS, /* user + token (https) */
	STRATA_PUBLISH_CRED_USERNAME, /* user name only (ssh's first round) */
} strata_publish_cred_kind;

typedef struct strata_publish_cred {
	strata_publish_cred_kind kind;
	const char *user;    /* AGENT, USERPASS, USERNAME; borrowed */
	const char *token;   /* USERPASS only; borrowed from opts */
	const char *message; /* REFUSE only; a static string */
} strata_publish_cred;

/*
 * Decide the credential for attempt `tries` (1 for the first call of this
 * connection) given libgit2's `allowed` GIT_CREDENTIAL_* bits, the user
 * name in the URL (may be NULL) and opts' https user and token.  Past
 * STRATA_PUBLISH_CRED_TRIES, or when nothing allowed can be made, the
 * answer is REFUSE with the message to report.  Pointers in *out are
 * borrowed from the arguments or static.
 */
void strata_publish_cred_choose(strata_publish_cred *out, unsigned allowed,
				const char *username_from_url,
				const strata_publish_opts *opts,
				unsigned tries);

#endif
