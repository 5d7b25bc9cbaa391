/*
 * runner.h - what strata-bench and strata-bench-runner (runner.c) say to
 * each other: a request is a 4-byte length and NUL-terminated strings
 * (stdout path, stderr path, argv...); the reply is one bench_reply.
 */
#ifndef STRATA_BENCH_RUNNER_H
#define STRATA_BENCH_RUNNER_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <unistd.h>

#define BENCH_REQUEST_MAX 65536

struct bench_reply {
	double wall;  /* seconds from posix_spawn() to wait4() */
	double cpu;   /* user + system seconds of the command */
	long rss_kb;  /* its peak RSS */
	int status;   /* exit code, 128 + signal, 127 when it did not start */
	int started;  /* 1 when it ran */
};

/* Write (out) or read all of len bytes: 0, or -1 on an error or EOF. */
static inline int bench_io_full(int fd, void *buf, size_t len, bool out)
{
	char *p = buf;

	while (len) {
		ssize_t r = out ? write(fd, p, len) : read(fd, p, len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

#endif
