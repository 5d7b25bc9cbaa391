/*
 * runner.c - strata-bench-runner: starts the commands strata-bench times,
 * from a process that stays small.
 *
 * Two things went wrong when strata-bench forked the commands itself:
 *
 * - Peak memory.  Linux keeps a process's peak RSS (ru_maxrss) across
 *   exec, and a child forked (or vforked) from the benchmark starts with
 *   the benchmark's whole resident set: /bin/true forked from a process
 *   holding 100 MB reported a 98 MB peak.  strata-bench holds the inputs
 *   it parses for its floor, so its own size leaked into every figure.
 * - Start-up time.  fork() copies the parent's page tables and the parent
 *   then takes a copy-on-write fault for each page it touches (10-12 us a
 *   fault on the VMs measured here): /bin/true took 3.4 ms forked from a
 *   small process and 7.7 ms from one holding 100 MB, against 2.4 and
 *   2.5 ms with posix_spawn().
 *
 * strata-bench starts this runner once, at its beginning, while it is
 * still small.  The runner reads one request at a time on stdin, starts
 * the command with posix_spawn() (as Python's subprocess and Rust's
 * Command do), waits for it with wait4(), and writes the wall time, CPU
 * time, peak RSS and exit status back on stdout.
 *
 * A request: a 4-byte length, then that many bytes of NUL-terminated
 * strings: the stdout path, the stderr path ("" for /dev/null), then the
 * argv.  The reply is a struct bench_reply.
 */
#include "runner.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_ARGS 256

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Start argv with its stdout and stderr as asked; fill r. */
static void run(char **argv, const char *out, const char *err,
		struct bench_reply *r)
{
	posix_spawn_file_actions_t fa;
	struct rusage ru;
	double t0;
	pid_t pid;
	int st, rc;

	memset(r, 0, sizeof(*r));
	if (posix_spawn_file_actions_init(&fa) != 0) {
		r->status = 126;
		return;
	}
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, *out ? out : "/dev/null",
					 O_WRONLY | O_CREAT | O_TRUNC, 0666);
	posix_spawn_file_actions_addopen(&fa, 2, *err ? err : "/dev/null",
					 O_WRONLY | O_CREAT | O_TRUNC, 0666);
	t0 = now();
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		r->status = 127;
		return;
	}
	while (wait4(pid, &st, 0, &ru) < 0)
		if (errno != EINTR) {
			r->status = 126;
			return;
		}
	r->wall = now() - t0;
	r->cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	r->rss_kb = ru.ru_maxrss;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r->started = 1;
}

int main(void)
{
	static char buf[BENCH_REQUEST_MAX + 1];

	for (;;) {
		char *argv[MAX_ARGS + 1], *p, *end, *out, *err;
		struct bench_reply r;
		uint32_t len;
		int n = 0;

		if (bench_io_full(0, &len, sizeof(len), false) < 0)
			return 0; /* the benchmark is done */
		if (len > BENCH_REQUEST_MAX || bench_io_full(0, buf, len, false) < 0)
			return 1;
		buf[len] = '\0';
		end = buf + len;
		out = buf;
		err = out + strlen(out) + 1;
		p = err < end ? err + strlen(err) + 1 : end;
		while (p < end && n < MAX_ARGS) {
			argv[n++] = p;
			p += strlen(p) + 1;
		}
		argv[n] = NULL;
		if (err >= end || n == 0) {
			memset(&r, 0, sizeof(r));
			r.status = 126;
		} else {
			run(argv, out, err, &r);
		}
		if (bench_io_full(1, &r, sizeof(r), true) < 0)
			return 1;
	}
}
