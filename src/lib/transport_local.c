/*
 * transport_local.c - talk to a repository on this machine the way git
 * does: through `git receive-pack` / `git upload-pack`.
 *
 * libgit2's built-in local transport (used for a plain path or file://)
 * writes the remote's refs directly and unconditionally: no compare-and-
 * swap against the old value, no hooks.  Two publishers racing onto one
 * bare repository would silently lose a commit, and a pre-receive hook
 * would never run.  So for local remotes strata plugs a "stateful smart
 * subtransport" into libgit2 (the mechanism its ssh transport uses) whose
 * stream is a socket to a child `git receive-pack PATH` (or upload-pack).
 * The remote end is then real git: it checks the old value of every ref it
 * updates under its lock, runs the hooks, and reports rejections through
 * the normal report-status and side-band channels.
 *
 * A socket pair rather than pipes: send(MSG_NOSIGNAL) turns a dead child
 * into an error instead of a SIGPIPE that would kill the caller.
 */
#include "transport_local.h"

#include "git_dl.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

typedef struct lsub lsub;

typedef struct lstream {
	git_smart_subtransport_stream parent;
	lsub *owner;
	int fd;
	pid_t pid;
} lstream;

struct lsub {
	git_smart_subtransport parent;
	lstream *cur;
};

static int ls_read(git_smart_subtransport_stream *s, char *buf, size_t size,
		   size_t *bytes_read)
{
	lstream *st = (lstream *)s;
	ssize_t n;

	do
		n = recv(st->fd, buf, size, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		git_error_set_str(GIT_ERROR_NET, "cannot read from git");
		return -1;
	}
	*bytes_read = (size_t)n;
	return 0;
}

static int ls_write(git_smart_subtransport_stream *s, const char *buf,
		    size_t len)
{
	lstream *st = (lstream *)s;

	while (len) {
		ssize_t n = send(st->fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			git_error_set_str(GIT_ERROR_NET,
					  "the remote git process hung up");
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void ls_free(git_smart_subtransport_stream *s)
{
	lstream *st = (lstream *)s;
	int status;

	if (st->owner && st->owner->cur == st)
		st->owner->cur = NULL;
	if (st->fd >= 0)
		close(st->fd); /* the child sees EOF and ends */
	if (st->pid > 0)
		while (waitpid(st->pid, &status, 0) < 0 && errno == EINTR)
			;
	free(st);
}

/* Start `git SERVICE PATH` with its stdin/stdout on one end of a socket. */
static int spawn_service(lstream *st, const char *service, const char *path)
{
	posix_spawn_file_actions_t fa;
	char *argv[4];
	int sv[2], devnull, rc;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		git_error_set_str(GIT_ERROR_OS, "cannot create a socket pair");
		return -1;
	}
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 1);
	/*
	 * The child's stderr would bypass the caller (the library never
	 * prints); what matters (hook output, rejections) comes through the
	 * protocol's side band.
	 */
	if (devnull >= 0)
		posix_spawn_file_actions_adddup2(&fa, devnull, 2);
	argv[0] = (char *)"git";
	argv[1] = (char *)service;
	argv[2] = (char *)path;
	argv[3] = NULL;
	rc = posix_spawnp(&st->pid, "git", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (devnull >= 0)
		close(devnull);
	close(sv[1]);
	if (rc != 0) {
		close(sv[0]);
		st->pid = 0;
		git_error_set_str(GIT_ERROR_OS,
				  "cannot run git (is it installed?)");
		return -1;
	}
	st->fd = sv[0];
	return 0;
}

static bool keep_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || strchr("/._~-", c);
}

char *strata_transport_local_url(const char *path)
{
	size_t pl = strlen(STRATA_LOCAL_PREFIX), n = strlen(path);
	char *url = malloc(pl + 3 * n + 1), *o;

	if (!url)
		return NULL;
	memcpy(url, STRATA_LOCAL_PREFIX, pl);
	o = url + pl;
	for (const unsigned char *c = (const unsigned char *)path; *c; c++) {
		if (keep_byte(*c))
			*o++ = (char)*c;
		else
			o += sprintf(o, "%%%02X", *c);
	}
	*o = '\0';
	return url;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The path of a strata_transport_local_url (malloc'ed), or NULL. */
static char *decode_path(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;

	if (!out)
		return NULL;
	while (*s) {
		if (*s == '%') {
			int hi = hexval(s[1]), lo = hi < 0 ? -1 : hexval(s[2]);

			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				free(out);
				return NULL;
			}
			*o++ = (char)(hi * 16 + lo);
			s += 3;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	if (out[0] != '/') {
		free(out);
		return NULL;
	}
	return out;
}

static int lsub_action(git_smart_subtransport_stream **out,
		       git_smart_subtransport *t, const char *url,
		       git_smart_service_t action)
{
	lsub *sub = (lsub *)t;
	const char *service;
	char *path;
	lstream *st;
	int rc;

	*out = NULL;
	/* The stateful protocol continues on the stream of the listing. */
	if ((action == GIT_SERVICE_UPLOADPACK ||
	     action == GIT_SERVICE_RECEIVEPACK) &&
	    sub->cur) {
		*out = &sub->cur->parent;
		return 0;
	}
	if (strncmp(url, STRATA_LOCAL_PREFIX, strlen(STRATA_LOCAL_PREFIX)) ||
	    !(path = decode_path(url + strlen(STRATA_LOCAL_PREFIX)))) {
		git_error_set_str(GIT_ERROR_INVALID, "not a stratalocal url");
		return -1;
	}
	service = action == GIT_SERVICE_RECEIVEPACK_LS ||
				  action == GIT_SERVICE_RECEIVEPACK ?
			  "receive-pack" :
			  "upload-pack";
	st = calloc(1, sizeof(*st));
	if (!st) {
		free(path);
		git_error_set_oom();
		return -1;
	}
	st->fd = -1;
	st->owner = sub;
	st->parent.subtransport = t;
	st->parent.read = ls_read;
	st->parent.write = ls_write;
	st->parent.free = ls_free;
	rc = spawn_service(st, service, path);
	free(path);
	if (rc < 0) {
		free(st);
		return -1;
	}
	sub->cur = st;
	*out = &st->parent;
	return 0;
}

static int lsub_close(git_smart_subtransport *t)
{
	lsub *sub = (lsub *)t;

	/* The smart transport frees its stream itself; just forget it. */
	if (sub->cur)
		sub->cur->owner = NULL;
	sub->cur = NULL;
	return 0;
}

static void lsub_free(git_smart_subtransport *t)
{
	lsub_close(t);
	free(t);
}

static int lsub_new(git_smart_subtransport **out, git_transport *owner,
		    void *param)
{
	lsub *sub;

	(void)owner;
	(void)param;
	sub = calloc(1, sizeof(*sub));
	if (!sub) {
		git_error_set_oom();
		return -1;
	}
	sub->parent.action = lsub_action;
	sub->parent.close = lsub_close;
	sub->parent.free = lsub_free;
	*out = &sub->parent;
	return 0;
}

static int local_transport(git_transport **out, git_remote *owner,
			   void *param)
{
	static git_smart_subtransport_definition def = { lsub_new, 0, NULL };

	(void)param;
	return git_transport_smart(out, owner, &def);
}

int strata_transport_local_register(void)
{
	int rc;

	/*
	 * Registered on every use: libgit2's registry does not outlive a
	 * full git_libgit2_shutdown, and a second registration is harmless.
	 * libgit2 1.5 appends "://" to the scheme itself.
	 */
	rc = git_transport_register("stratalocal", local_transport, NULL);
	return rc == GIT_EEXISTS ? 0 : rc;
}
