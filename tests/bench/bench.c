/*
 * bench.c - strata-bench: how fast strata renders, against its floor
 * (libfyaml's event parser on the same bytes) and against kustomize.
 *
 * For every size (N applications, E environments) it generates the
 * synthetic repository of gen.c, then runs the strata binary as a user
 * would (fork + exec; stdout to a file once to count it, to /dev/null when
 * timed) and takes the wall time, CPU time and the child's peak RSS from
 * wait4().  Each figure is the median of several
 * runs; slow commands get fewer runs so the whole benchmark stays
 * bounded.  Commands that do not exist yet in the binary (diff, publish)
 * are detected at run time and reported as "n/a".  The event-parse floor
 * is measured in-process: the same files, already in memory, fed to
 * fy_parser_parse()/fy_parser_event_free() and nothing else, one pass
 * just before each timed render (floor_pass).
 *
 * It prints markdown tables and a list of targets met or missed.  It
 * never fails because something is slow: only a broken setup (cannot
 * generate, no strata binary) gives a non-zero exit.
 */
#include "floor.h"
#include "gen.h"
#include "runner.h"

#include <libfyaml.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <spawn.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef STRATA_BENCH_CLI
#define STRATA_BENCH_CLI "strata"
#endif
#ifndef STRATA_BENCH_PARSE
#define STRATA_BENCH_PARSE "strata-bench-parse"
#endif
#ifndef STRATA_BENCH_RUNNER
#define STRATA_BENCH_RUNNER "strata-bench-runner"
#endif

extern char **environ;

#define MAX_SIZES 8
#define MAX_RUNS 50

/* ---- options ---- */

typedef struct options {
	int sizes[MAX_SIZES], n_sizes;
	int envs[MAX_SIZES], n_envs;
	int runs;              /* wanted runs per measurement */
	double budget;         /* seconds one measurement may take in total */
	int kubectl_max;       /* largest N given to kubectl kustomize */
	bool kubectl_all_envs; /* kustomize for every E, not only the first */
	bool no_diff, no_publish;
	const char *strata;
	const char *parse;     /* strata-bench-parse: the floor as a process */
	const char *workdir;
	unsigned long long seed;
	bool keep;
} options;

static double now(void)
{
	return bench_now();
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	if (n <= 0)
		return 0;
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- running a command ---- */

typedef struct run_result {
	double wall;     /* seconds */
	double cpu;      /* user + system seconds of the child */
	long rss_kb;     /* peak RSS of the child */
	int status;      /* exit code, or 128 + signal */
} run_result;

/*
 * Commands are started by strata-bench-runner (runner.c), a small process
 * started once, before this one grows: a child forked from this process
 * would report this process's resident set as its own peak (Linux keeps
 * ru_maxrss across exec) and pay for copying its page tables.
 */
static struct {
	pid_t pid;
	int req, rep; /* our ends of its stdin and stdout */
} runner = { -1, -1, -1 };

static void runner_start(const char *path)
{
	posix_spawn_file_actions_t fa;
	int to[2], from[2];
	char *argv[] = { (char *)path, NULL };

	if (pipe2(to, O_CLOEXEC) < 0)
		return;
	if (pipe2(from, O_CLOEXEC) < 0) {
		close(to[0]);
		close(to[1]);
		return;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, to[0], 0);
	posix_spawn_file_actions_adddup2(&fa, from[1], 1);
	if (posix_spawn(&runner.pid, path, &fa, NULL, argv, environ) != 0) {
		runner.pid = -1;
		close(to[1]);
		close(from[0]);
	} else {
		runner.req = to[1];
		runner.rep = from[0];
	}
	posix_spawn_file_actions_destroy(&fa);
	close(to[0]);
	close(from[1]);
}

static void runner_stop(void)
{
	if (runner.pid < 0)
		return;
	close(runner.req);
	close(runner.rep);
	waitpid(runner.pid, NULL, 0);
	runner.pid = -1;
}

/* One command through the runner: 0, or -1 when the runner is gone. */
static int runner_run(char *const argv[], const char *out_path,
		      const char *err_path, run_result *r)
{
	static char req[sizeof(uint32_t) + BENCH_REQUEST_MAX];
	const char *parts[2] = { out_path ? out_path : "", err_path ? err_path : "" };
	struct bench_reply rep;
	size_t len = 0;
	uint32_t n;

	for (int i = 0; i < 2 + 256 && (i < 2 || argv[i - 2]); i++) {
		const char *s = i < 2 ? parts[i] : argv[i - 2];
		size_t sl = strlen(s) + 1;

		if (len + sl > BENCH_REQUEST_MAX)
			return -1;
		memcpy(req + sizeof(n) + len, s, sl);
		len += sl;
	}
	n = (uint32_t)len;
	memcpy(req, &n, sizeof(n));
	if (bench_io_full(runner.req, req, sizeof(n) + len, true) < 0 ||
	    bench_io_full(runner.rep, &rep, sizeof(rep), false) < 0)
		return -1;
	r->wall = rep.wall;
	r->cpu = rep.cpu;
	r->rss_kb = rep.rss_kb;
	r->status = rep.status;
	return 0;
}

/*
 * Run argv with stdout to out_path (or /dev/null) and stderr to err_path
 * (or /dev/null).  Returns -1 when the process could not be started.
 * Through the runner when it is there, else forked from here (its peak
 * RSS then counts this process's; strata-bench says so at its start).
 */
static int run_cmd(char *const argv[], const char *out_path,
		   const char *err_path, run_result *r)
{
	struct rusage ru;
	double t0;
	pid_t pid;
	int st;

	if (runner.pid >= 0) {
		if (runner_run(argv, out_path, err_path, r) == 0)
			return 0;
		fprintf(stderr, "strata-bench: the runner stopped; forking from here\n");
		runner_stop();
	}
	fflush(stdout);
	fflush(stderr);
	t0 = now();
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(out_path ? out_path : "/dev/null",
			      O_WRONLY | O_CREAT | O_TRUNC, 0666);
		int efd = open(err_path ? err_path : "/dev/null",
			       O_WRONLY | O_CREAT | O_TRUNC, 0666);
		int nfd = open("/dev/null", O_RDONLY);

		if (fd < 0 || efd < 0 || nfd < 0)
			_exit(126);
		dup2(fd, 1);
		dup2(efd, 2);
		dup2(nfd, 0);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (wait4(pid, &st, 0, &ru) < 0)
		return -1;
	r->wall = now() - t0;
	r->rss_kb = ru.ru_maxrss;
	r->cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return 0;
}

/* Run quietly; true when it exited 0. */
static bool run_ok(char *const argv[])
{
	run_result r;

	return run_cmd(argv, NULL, NULL, &r) == 0 && r.status == 0;
}

static size_t file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (size_t)sb.st_size : 0;
}

/* Documents in a stream: "---" separator lines plus one, 0 when empty. */
static size_t count_docs(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[256];
	size_t n = 0, bytes = 0;
	bool bol = true;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);

		if (bol && !strcmp(line, "---\n"))
			n++;
		bytes += len;
		bol = len && line[len - 1] == '\n';
	}
	fclose(f);
	return bytes ? n + 1 : 0;
}

/* The first line of a file, for error reports. */
static void first_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	buf[0] = '\0';
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* One measured command: several runs, median wall time and RSS. */
typedef struct meas {
	int state;        /* 0 not measured, 1 measured, -1 failed */
	int runs;
	double med, min;
	double cpu;       /* median user + system seconds */
	long rss_kb;
	size_t out_bytes;
	size_t out_docs;
	int status;       /* the failing exit code */
	char why[200];    /* first stderr line of a failure */
} meas;

typedef int (*prepare_fn)(void *ctx, int run);

/*
 * Measure argv: one unmeasured warm-up run when warmup is set (it also
 * checks the exit code and counts the output in out_path; without a
 * warm-up the first measured run does that), then up to o->runs runs with
 * stdout to /dev/null:
 * at least 3 unless one run takes over a third of the budget; stop when
 * the budget is spent.  A command whose first run takes under FAST_RUN
 * gets at least FAST_RUNS runs: the median of three runs was hostage to
 * one slow moment of this machine (a 100-app render measured 16 ms in one
 * row and 11.2 by hand within the hour; a 1,000-app one 111 ms in a row
 * and 77-83 ms by hand), and fifteen cost a few seconds.  ok_max is the
 * largest exit code that is success (1 for diff).  prepare, when given,
 * runs untimed before every run.
 */
#define FAST_RUN 0.25 /* seconds */
#define FAST_RUNS 15
static void measure(meas *m, const options *o, char *const argv[],
		    const char *out_path, const char *err_path, bool warmup,
		    int ok_max, prepare_fn prepare, void *ctx)
{
	double walls[MAX_RUNS], cpus[MAX_RUNS], rss[MAX_RUNS], spent = 0;
	run_result r;
	int n = 0, want = o->runs;

	memset(m, 0, sizeof(*m));
	if (want > MAX_RUNS)
		want = MAX_RUNS;
	for (int i = warmup ? -1 : 0; i < want; i++) {
		if (prepare && prepare(ctx, i) < 0) {
			m->state = -1;
			snprintf(m->why, sizeof(m->why), "setup failed");
			return;
		}
		/* only the counted run writes a file: the others measure strata,
		 * not the file system, and go to /dev/null */
		bool counted = i < 0 || (!warmup && n == 0);

		if (run_cmd(argv, counted ? out_path : NULL, err_path, &r) < 0) {
			m->state = -1;
			snprintf(m->why, sizeof(m->why), "cannot run %s: %s",
				 argv[0], strerror(errno));
			return;
		}
		if (r.status > ok_max) {
			m->state = -1;
			m->status = r.status;
			first_line(err_path, m->why, sizeof(m->why));
			return;
		}
		if (counted) {
			m->out_bytes = out_path ? file_size(out_path) : 0;
			m->out_docs = out_path ? count_docs(out_path) : 0;
		}
		if (i < 0)
			continue;
		if (!n || r.wall < m->min)
			m->min = r.wall;
		walls[n] = r.wall;
		cpus[n] = r.cpu;
		rss[n] = (double)r.rss_kb;
		n++;
		spent += r.wall;
		if (n == 1 && r.wall < FAST_RUN && want < FAST_RUNS)
			want = FAST_RUNS;
		if (r.wall > o->budget / 3 && n >= 1)
			break;
		if (spent > o->budget && n >= 1)
			break;
	}
	m->state = 1;
	m->runs = n;
	fprintf(stderr, "      %.3f s median (%.3f s CPU), peak RSS %.1f MB, %d run%s\n",
		median(walls, n), median(cpus, n), median(rss, n) * 1024 / 1e6, n,
		n == 1 ? "" : "s");
	m->med = median(walls, n);
	m->cpu = median(cpus, n);
	m->rss_kb = (long)median(rss, n);
}

/* ---- the parse floor (floor.c) ---- */

/*
 * The floor is measured in the same moments as the render it is compared
 * with: measure() calls floor_pass() (as its prepare step) before every
 * run, the warm-up included, so each render run is paired with one floor
 * pass just before it.  This machine's speed drifts (a shared VM: the same
 * parse of 0.35 MB measured 31 MB/s and 55 MB/s in consecutive processes),
 * and a floor taken once, before all the runs, compared two different
 * machines.  Pairing does not remove the drift: docs/bench.md shows how
 * far the floor itself still moves.
 */
typedef struct floor_run {
	const blobset *s;
	double wall[MAX_RUNS], cpu[MAX_RUNS];
	int n;
	/* when set, strata-bench-parse on the same files, run (fork + exec,
	 * like strata) after each in-process pass: proc[] its wall times */
	char *const *proc_argv;
	double proc[MAX_RUNS];
	int n_proc;
} floor_run;

static int floor_pass(void *vctx, int run)
{
	floor_run *f = vctx;
	size_t events;
	double cpu, t = parse_once(f->s, &events, &cpu);
	run_result r;

	if (t < 0)
		return -1;
	if (run >= 0 && f->n < MAX_RUNS) { /* run -1 is the warm-up */
		f->wall[f->n] = t;
		f->cpu[f->n++] = cpu;
	}
	if (!f->proc_argv)
		return 0;
	if (run_cmd(f->proc_argv, NULL, NULL, &r) < 0 || r.status != 0) {
		fprintf(stderr, "strata-bench: %s failed; no process floor\n",
			f->proc_argv[0]);
		f->proc_argv = NULL;
		f->n_proc = 0;
		return 0;
	}
	if (run >= 0 && f->n_proc < MAX_RUNS)
		f->proc[f->n_proc++] = r.wall;
	return 0;
}

/*
 * The floor as it was measured before floor_pass(): passes back to back
 * after a warm-up, so the parser's and the input's cache lines stay hot
 * (0.35 MB fits in this machine's 1 MB L2).  Printed beside the paired
 * floor for comparison; the median of at least 3 passes, up to 7 in ~5 s.
 */
static double parse_warm(const blobset *s)
{
	double t[7], spent = 0, cpu;
	size_t events;
	int n = 0;

	if (parse_once(s, &events, &cpu) < 0)
		return -1;
	while (n < 7) {
		double x = parse_once(s, &events, &cpu);

		if (x < 0)
			return -1;
		t[n++] = x;
		spent += x;
		if (n >= 3 && spent > 5)
			break;
	}
	return median(t, n);
}

/* Median seconds (and CPU seconds) of the floor passes; at least three. */
static double floor_median(floor_run *f, double *cpu_med)
{
	while (f->n < 3)
		if (floor_pass(f, f->n) < 0)
			return -1;
	*cpu_med = median(f->cpu, f->n);
	return median(f->wall, f->n);
}

/* ---- one size ---- */

typedef struct row {
	int n, e;
	bench_gen_stats gen;
	size_t in_one, in_all;       /* bytes read by render ENV / --all */
	size_t in_diff;              /* bytes read by diff env-00 env-(E-1) */
	double parse_one, parse_all; /* libfyaml floor on those bytes, s */
	double parse_one_warm;       /* the same, passes back to back */
	double parse_one_proc;       /* the same as a process (parse_main.c) */
	double parse_one_cpu, parse_all_cpu;
	meas one, all, diff, publish, publish_all, kustomize;
	meas rev;                    /* render --rev HEAD ENV (the git source) */
	/* env-00 published into the config repository, then diff env-00
	 * (against it) and diff --all (every env against its branch) */
	meas diff_pub, diff_all;
	bool publish_fresh_target;
	/* linearity from alternating runs against the repo of n / 10 apps
	 * (measure_pairs): the median of the per-pair ratios, and their
	 * range, for render ENV [0] and render --all [1] */
	int n_pairs;
	double pair_med[2], pair_lo[2], pair_hi[2];
} row;

static int rm_cb(const char *path, const struct stat *sb, int type,
		 struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static void rm_rf(const char *path)
{
	struct stat sb;

	if (lstat(path, &sb) == 0)
		nftw(path, rm_cb, 32, FTW_DEPTH | FTW_PHYS);
}

typedef struct pub_ctx {
	const options *o;
	const char *sdir;
	char target[4300];
	int n_envs;
	bool fresh_target;
} pub_ctx;

/*
 * Before every publish run the previous result is removed, so each run
 * creates its branches from scratch: a new bare --target repository when
 * publish has --target, else the env branches are deleted.
 */
static int pub_prepare(void *vctx, int run)
{
	pub_ctx *c = vctx;

	(void)run;
	if (c->fresh_target) {
		char *init[] = { "git", "init", "-q", "--bare", c->target, NULL };

		rm_rf(c->target);
		return run_ok(init) ? 0 : -1;
	}
	for (int e = 0; e < c->n_envs; e++) {
		char ref[128];
		char *del[] = { "git", "-C", (char *)c->sdir, "update-ref", "-d",
				ref, NULL };

		snprintf(ref, sizeof(ref), "refs/heads/env/%s", bench_env_name(e));
		run_ok(del);
	}
	return 0;
}

/* Does `strata CMD --help` succeed, and does its help mention word? */
static bool has_command(const options *o, const char *cmd, const char *word,
			const char *tmp, bool *has_word)
{
	char *argv[] = { (char *)o->strata, (char *)cmd, "--help", NULL };
	run_result r;
	bool ok = run_cmd(argv, tmp, NULL, &r) == 0 && r.status == 0;

	if (has_word) {
		*has_word = false;
		if (ok && word) {
			FILE *f = fopen(tmp, "r");
			char line[512];

			while (f && fgets(line, sizeof(line), f))
				if (strstr(line, word))
					*has_word = true;
			if (f)
				fclose(f);
		}
	}
	return ok;
}


/*
 * env0 published into the config repository itself (untimed), then `diff
 * env0` (against that branch: no difference) and `diff --all` (env0
 * against its branch, every other environment against a branch that does
 * not exist: all added).  The published side is read from git as text,
 * file by file, beside a render.
 */
static void measure_diff_published(row *rw, const options *o, const char *sdir,
				   const char *env0, const char *out,
				   const char *err)
{
	char *pub[] = { (char *)o->strata, "-C", (char *)sdir, "publish",
			(char *)env0, NULL };
	char *one[] = { (char *)o->strata, "-C", (char *)sdir, "diff",
			(char *)env0, NULL };
	char *all[] = { (char *)o->strata, "-C", (char *)sdir, "diff", "--all",
			NULL };

	if (!run_ok(pub)) {
		rw->diff_pub.state = rw->diff_all.state = -1;
		snprintf(rw->diff_pub.why, sizeof(rw->diff_pub.why),
			 "strata publish %s into the config repository failed", env0);
		snprintf(rw->diff_all.why, sizeof(rw->diff_all.why), "%s",
			 rw->diff_pub.why);
		return;
	}
	fprintf(stderr, "   strata diff %s (against its published branch)\n", env0);
	measure(&rw->diff_pub, o, one, out, err, true, 1, NULL, NULL);
	fprintf(stderr, "   strata diff --all (%s published)\n", env0);
	measure(&rw->diff_all, o, all, out, err, true, 1, NULL, NULL);
}

/*
 * Linearity measured in pairs.  The size rows are measured one after the
 * other, minutes apart, and this machine's speed drifts over minutes (the
 * same parse went from 33 to 68 MB/s between runs of the benchmark): the
 * ratio of two medians taken in different phases measures the drift as
 * much as strata.  Here the repo of n / 10 apps is generated again (the
 * same seed: the same repo as its row) and the two sizes run alternately,
 * small-big then big-small, so each pair's ratio compares the sizes on
 * the same machine; the verdict takes the median of those ratios.  The
 * rows' own medians are still printed beside it.
 */
#define MIN_PAIRS 5

static int measure_pairs(row *rw, const options *o, const char *big_sdir,
			 const char *err)
{
	char dir[4096], sdir[4200], msg[512];
	const char *env0 = bench_env_name(0);
	double ratio[2][MAX_RUNS];
	bench_gen_stats st;
	int want = o->runs > MIN_PAIRS ? o->runs : MIN_PAIRS;

	if (want > MAX_RUNS)
		want = MAX_RUNS;
	snprintf(dir, sizeof(dir), "%s/n%d-e%d-pair", o->workdir, rw->n / 10,
		 rw->e);
	snprintf(sdir, sizeof(sdir), "%s/strata", dir);
	fprintf(stderr, "   linearity: render and render --all, N=%d and N=%d "
		"alternately, %d pairs\n", rw->n / 10, rw->n, want);
	rm_rf(dir);
	if (bench_gen(dir, rw->n / 10, rw->e, o->seed, &st, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "strata-bench: %s\n", msg);
		return -1;
	}
	for (int w = 0; w < 2; w++) {
		char *small[] = { (char *)o->strata, "-C", sdir, "render",
				  w ? "--all" : (char *)env0, NULL };
		char *big[] = { (char *)o->strata, "-C", (char *)big_sdir, "render",
				w ? "--all" : (char *)env0, NULL };
		run_result r;

		/* the small repo is new: one unmeasured run reads it in */
		if (run_cmd(small, NULL, err, &r) < 0 || r.status)
			goto fail;
		for (int k = 0; k < want; k++) {
			double t[2];

			for (int j = 0; j < 2; j++) {
				int which = (j + k) & 1; /* 0 small, 1 big */

				if (run_cmd(which ? big : small, NULL, err, &r) < 0 ||
				    r.status)
					goto fail;
				t[which] = r.wall;
			}
			ratio[w][k] = t[1] / t[0];
		}
		rw->pair_med[w] = median(ratio[w], want); /* sorts ratio[w] */
		rw->pair_lo[w] = ratio[w][0];
		rw->pair_hi[w] = ratio[w][want - 1];
		fprintf(stderr, "      %s: median ratio %.1fx (%.1f-%.1fx)\n",
			w ? "render --all" : "render", rw->pair_med[w],
			rw->pair_lo[w], rw->pair_hi[w]);
	}
	rw->n_pairs = want;
	if (!o->keep)
		rm_rf(dir);
	return 0;
fail:
	fprintf(stderr, "strata-bench: a paired render failed; no paired "
		"linearity for N=%d E=%d\n", rw->n, rw->e);
	if (!o->keep)
		rm_rf(dir);
	return 0; /* the sequential figures still stand */
}

static int bench_one(row *rw, const options *o, bool has_kubectl,
		     bool first_e)
{
	char dir[4096], sdir[4200], kdir[4200], out[4200], err[4200], tmp[4200];
	char path[4300], msg[512];
	blobset one = { 0 }, all = { 0 };
	const char *env0 = NULL;
	char env0b[32], envlast[32];
	bool has_diff, has_publish, pub_target = false;

	snprintf(dir, sizeof(dir), "%s/n%d-e%d", o->workdir, rw->n, rw->e);
	snprintf(sdir, sizeof(sdir), "%s/strata", dir);
	snprintf(kdir, sizeof(kdir), "%s/kustomize/overlays/%s", dir, bench_env_name(0));
	snprintf(out, sizeof(out), "%s/out.yaml", o->workdir);
	snprintf(err, sizeof(err), "%s/stderr.txt", o->workdir);
	snprintf(tmp, sizeof(tmp), "%s/help.txt", o->workdir);
	snprintf(env0b, sizeof(env0b), "%s", bench_env_name(0));
	snprintf(envlast, sizeof(envlast), "%s", bench_env_name(rw->e - 1));
	env0 = env0b;

	fprintf(stderr, "== N=%d E=%d: generating in %s\n", rw->n, rw->e, dir);
	rm_rf(dir);
	if (bench_gen(dir, rw->n, rw->e, o->seed, &rw->gen, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "strata-bench: %s\n", msg);
		return -1;
	}

	/* The floor: the bytes each render reads, parsed by libfyaml alone. */
	snprintf(path, sizeof(path), "%s/base", sdir);
	if (blobset_add_dir(&one, path) || blobset_add_dir(&all, path))
		goto nomem;
	snprintf(path, sizeof(path), "%s/overlays/%s", sdir, env0);
	if (blobset_add_dir(&one, path))
		goto nomem;
	snprintf(path, sizeof(path), "%s/overlays", sdir);
	if (blobset_add_dir(&all, path))
		goto nomem;
	rw->in_one = one.bytes;
	rw->in_all = all.bytes;
	/* diff reads the base once and each side's overlays */
	rw->in_diff = one.bytes;
	if (rw->e > 1) {
		blobset last = { 0 };

		snprintf(path, sizeof(path), "%s/overlays/%s", sdir, envlast);
		if (blobset_add_dir(&last, path)) {
			blobset_free(&last);
			goto nomem;
		}
		rw->in_diff += last.bytes;
		blobset_free(&last);
	}
	{
		char *argv[] = { (char *)o->strata, "-C", sdir, "render",
				 (char *)env0, NULL };
		char base[4300], ovl[4300];
		char *pargv[] = { (char *)o->parse, base, ovl, NULL };
		floor_run f = { .s = &one, .proc_argv = pargv };

		snprintf(base, sizeof(base), "%s/base", sdir);
		snprintf(ovl, sizeof(ovl), "%s/overlays/%s", sdir, env0);

		fprintf(stderr, "   strata render %s, each run after a libfyaml "
			"event parse of its %.2f MB\n", env0, one.bytes / 1e6);
		measure(&rw->one, o, argv, out, err, true, 0, floor_pass, &f);
		rw->parse_one = floor_median(&f, &rw->parse_one_cpu);
		rw->parse_one_warm = parse_warm(&one);
		rw->parse_one_proc = f.n_proc ? median(f.proc, f.n_proc) : 0;
	}
	{
		char *argv[] = { (char *)o->strata, "-C", sdir, "render", "--all",
				 NULL };
		floor_run f = { .s = &all };

		fprintf(stderr, "   strata render --all, each run after a libfyaml "
			"event parse of its %.2f MB\n", all.bytes / 1e6);
		measure(&rw->all, o, argv, out, err, true, 0, floor_pass, &f);
		rw->parse_all = floor_median(&f, &rw->parse_all_cpu);
	}
	blobset_free(&one);
	blobset_free(&all);
	for (int i = 0; i < o->n_sizes; i++) {
		if (rw->n % 10 || o->sizes[i] != rw->n / 10)
			continue;
		if (measure_pairs(rw, o, sdir, err) < 0)
			return -1;
		break; /* once, even when --sizes repeats a size */
	}

	has_diff = !o->no_diff && has_command(o, "diff", NULL, tmp, NULL);
	if (has_diff) {
		char *argv[] = { (char *)o->strata, "-C", sdir, "diff",
				 (char *)env0, envlast, NULL };

		fprintf(stderr, "   strata diff %s %s\n", env0, envlast);
		measure(&rw->diff, o, argv, out, err, true, 1, NULL, NULL);
	}

	has_publish = !o->no_publish &&
		has_command(o, "publish", "--target", tmp, &pub_target);
	if (has_publish) {
		char *init[] = { "git", "-C", sdir, "init", "-q", NULL };
		char *add[] = { "git", "-C", sdir, "add", "-A", NULL };
		char *commit[] = { "git", "-C", sdir, "-c", "user.name=strata-bench",
				   "-c", "user.email=bench@example.com", "-c",
				   "gc.auto=0", "commit", "-q", "-m", "bench", NULL };
		/*
		 * Packed, as a CI clone is, and before timing: the commit's
		 * `git gc --auto` would otherwise pack the 60,000 loose
		 * objects in the background while publish is being timed.
		 */
		char *repack[] = { "git", "-C", sdir, "repack", "-a", "-d", "-q",
				   NULL };
		pub_ctx pc = { o, sdir, { 0 }, rw->e, pub_target };

		snprintf(pc.target, sizeof(pc.target), "%s/published.git", dir);
		rw->publish_fresh_target = pub_target;
		if (!run_ok(init) || !run_ok(add) || !run_ok(commit) ||
		    !run_ok(repack)) {
			rw->publish.state = -1;
			snprintf(rw->publish.why, sizeof(rw->publish.why),
				 "git init/commit of the generated repo failed");
		} else {
			char *pone[] = { (char *)o->strata, "-C", sdir, "publish",
					(char *)env0, pub_target ? "--target" : NULL,
					pc.target, NULL };
			char *pall[] = { (char *)o->strata, "-C", sdir, "publish",
					 "--all", pub_target ? "--target" : NULL,
					 pc.target, NULL };

			char *rev[] = { (char *)o->strata, "-C", sdir, "render",
					"--rev", "HEAD", (char *)env0, NULL };

			fprintf(stderr, "   strata render --rev HEAD %s\n", env0);
			measure(&rw->rev, o, rev, out, err, true, 0, NULL, NULL);
			fprintf(stderr, "   strata publish %s%s\n", env0,
				pub_target ? " --target (fresh repo each run)" : "");
			measure(&rw->publish, o, pone, out, err, false, 0,
				pub_prepare, &pc);
			fprintf(stderr, "   strata publish --all\n");
			measure(&rw->publish_all, o, pall, out, err, false, 0,
				pub_prepare, &pc);
			if (has_diff)
				measure_diff_published(rw, o, sdir, env0, out, err);
		}
	}

	if (has_kubectl && rw->n <= o->kubectl_max &&
	    (first_e || o->kubectl_all_envs)) {
		char *argv[] = { "kubectl", "kustomize", kdir, NULL };

		fprintf(stderr, "   kubectl kustomize overlays/%s (slow)\n", env0);
		measure(&rw->kustomize, o, argv, out, err, false, 0, NULL, NULL);
	}

	if (!o->keep)
		rm_rf(dir);
	return 0;
nomem:
	fprintf(stderr, "strata-bench: cannot read the generated files: %s\n",
		strerror(errno));
	blobset_free(&one);
	blobset_free(&all);
	return -1;
}

/* ---- report ---- */

static const char *fmt_s(char *buf, size_t len, const meas *m)
{
	if (m->state == 0)
		return "n/a";
	if (m->state < 0) {
		snprintf(buf, len, "FAILED (exit %d)", m->status);
		return buf;
	}
	snprintf(buf, len, m->med < 1 ? "%.3f" : "%.2f", m->med);
	return buf;
}

#define MB(x) ((double)(x) / 1e6)
/* The memory target: 4 x input + 16 MB (RSS is in KiB, targets in MB). */
#define RSS_LIMIT_MB(in) (4 * MB(in) + 16)
#define RSS_MB(m) ((double)(m).rss_kb * 1024 / 1e6)

/* Peak RSS in MB (10^6 bytes), as every table and verdict prints it. */
static const char *fmt_mb(char *buf, size_t len, const meas *m)
{
	if (m->state <= 0)
		return "n/a";
	snprintf(buf, len, "%.1f", RSS_MB(*m));
	return buf;
}

static void report(const row *rows, int n_rows, const options *o)
{
	char a[64], b[64], c[64], d[64];

	printf("\n## strata render ENV (one environment)\n\n");
	printf("| N apps | E | resources | input MB | output MB | runs | median s | min s | CPU s | peak RSS MB | RSS limit MB | resources/s | out MB/s | in MB/s | libfyaml parse MB/s | render/parse | render/parse (CPU) | parse MB/s, warm | render/warm parse | parse process s | render/parse process |\n");
	printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (int i = 0; i < n_rows; i++) {
		const row *r = &rows[i];
		const meas *m = &r->one;
		double pmbs = r->parse_one > 0 ? MB(r->in_one) / r->parse_one : 0;
		double wmbs = r->parse_one_warm > 0 ?
			MB(r->in_one) / r->parse_one_warm : 0;

		if (m->state <= 0) {
			printf("| %d | %d | %zu | %.2f | | | %s | | | | %.1f | | | | %.1f | | | %.1f | | %.3f | |\n",
			       r->n, r->e, r->gen.n_resources, MB(r->in_one),
			       fmt_s(a, sizeof(a), m), RSS_LIMIT_MB(r->in_one), pmbs,
			       wmbs, r->parse_one_proc);
			continue;
		}
		printf("| %d | %d | %zu | %.2f | %.2f | %d | %s | %.3f | %.3f | %.1f | %.1f | %.0f | %.1f | %.1f | %.1f | %.2f | %.2f | %.1f | %.2f | %.3f | %.2f |\n",
		       r->n, r->e, m->out_docs, MB(r->in_one), MB(m->out_bytes),
		       m->runs, fmt_s(a, sizeof(a), m), m->min, m->cpu, RSS_MB(*m),
		       RSS_LIMIT_MB(r->in_one), m->out_docs / m->med,
		       MB(m->out_bytes) / m->med, MB(r->in_one) / m->med, pmbs,
		       r->parse_one > 0 ? r->parse_one / m->med : 0,
		       r->parse_one_cpu > 0 && m->cpu > 0 ?
		       r->parse_one_cpu / m->cpu : 0, wmbs,
		       r->parse_one_warm > 0 ? r->parse_one_warm / m->med : 0,
		       r->parse_one_proc,
		       r->parse_one_proc > 0 ? r->parse_one_proc / m->med : 0);
	}

	printf("\n## strata render --all\n\n");
	printf("| N apps | E | resources | input MB | output MB | runs | median s | CPU s | E x single s | --all / (E x single) | peak RSS MB | RSS limit MB | resources/s | out MB/s | in MB/s | render/parse |\n");
	printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (int i = 0; i < n_rows; i++) {
		const row *r = &rows[i];
		const meas *m = &r->all;
		double single = r->one.state > 0 ? r->e * r->one.med : 0;

		if (m->state <= 0) {
			printf("| %d | %d | | %.2f | | | %s | | | | | %.1f | | | | |\n",
			       r->n, r->e, MB(r->in_all), fmt_s(a, sizeof(a), m),
			       RSS_LIMIT_MB(r->in_all));
			continue;
		}
		printf("| %d | %d | %zu | %.2f | %.2f | %d | %s | %.3f | %.3f | %.2f | %.1f | %.1f | %.0f | %.1f | %.1f | %.2f |\n",
		       r->n, r->e, r->gen.n_resources * (size_t)r->e, MB(r->in_all),
		       MB(m->out_bytes), m->runs, fmt_s(a, sizeof(a), m), m->cpu,
		       single,
		       single > 0 ? m->med / single : 0, RSS_MB(*m),
		       RSS_LIMIT_MB(r->in_all),
		       (double)r->gen.n_resources * r->e / m->med,
		       MB(m->out_bytes) / m->med, MB(r->in_all) / m->med,
		       r->parse_all > 0 ? r->parse_all / m->med : 0);
	}

	printf("\n## strata diff and publish\n\n");
	printf("| N apps | E | diff input MB | diff env-00 env-(E-1) s | diff peak RSS MB | diff RSS limit MB | publish env-00 s | publish peak RSS MB | publish --all s | publish --all peak RSS MB |\n");
	printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (int i = 0; i < n_rows; i++) {
		const row *r = &rows[i];

		printf("| %d | %d | %.2f | %s | %s | %.1f | %s | %s |", r->n, r->e,
		       MB(r->in_diff), fmt_s(a, sizeof(a), &r->diff),
		       fmt_mb(b, sizeof(b), &r->diff), RSS_LIMIT_MB(r->in_diff),
		       fmt_s(c, sizeof(c), &r->publish),
		       fmt_mb(d, sizeof(d), &r->publish));
		printf(" %s | %s |\n", fmt_s(a, sizeof(a), &r->publish_all),
		       fmt_mb(b, sizeof(b), &r->publish_all));
	}
	printf("\ndiff input: the base and the overlays of both sides, each read "
	       "once (with E = 1 both sides are env-00); its RSS limit is 4 x that "
	       "+ 16 MB, as render's.\n");
	printf("\npublish renders from the git commit (HEAD) and writes one file per "
	       "resource into a fresh bare --target repository on every run; the "
	       "config repository is packed (git repack -a -d) before timing.\n");

	printf("\n## strata diff against what is published\n\n");
	printf("| N apps | E | diff env-00 s | peak RSS MB | RSS limit MB | diff --all s | peak RSS MB | RSS limit MB |\n");
	printf("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (int i = 0; i < n_rows; i++) {
		const row *r = &rows[i];

		printf("| %d | %d | %s | %s | %.1f |", r->n, r->e,
		       fmt_s(a, sizeof(a), &r->diff_pub),
		       fmt_mb(b, sizeof(b), &r->diff_pub), RSS_LIMIT_MB(r->in_one));
		printf(" %s | %s | %.1f |\n", fmt_s(a, sizeof(a), &r->diff_all),
		       fmt_mb(b, sizeof(b), &r->diff_all), RSS_LIMIT_MB(r->in_all));
	}
	printf("\nenv-00 is published into the config repository (one file per "
	       "resource) before these run: `diff env-00` finds no difference, "
	       "`diff --all` compares env-00 with it and every other environment "
	       "with a branch that does not exist yet.  The RSS limits count only "
	       "the config repository's input (render ENV's, render --all's), not "
	       "the published files also read.\n");

	printf("\n## strata render --rev HEAD env-00 (read from git, no checkout)\n\n");
	printf("| N apps | E | input MB | median s | peak RSS MB | RSS limit MB | render ENV s | render ENV peak RSS MB |\n");
	printf("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (int i = 0; i < n_rows; i++) {
		const row *r = &rows[i];

		printf("| %d | %d | %.2f | %s | %s | %.1f | %s | %s |\n", r->n,
		       r->e, MB(r->in_one), fmt_s(a, sizeof(a), &r->rev),
		       fmt_mb(b, sizeof(b), &r->rev), RSS_LIMIT_MB(r->in_one),
		       fmt_s(c, sizeof(c), &r->one), fmt_mb(d, sizeof(d), &r->one));
	}

	printf("\n## kubectl kustomize overlays/env-00 (same content)\n\n");
	printf("| N apps | E | resources | runs | kustomize s | kustomize peak RSS MB | strata s | strata speed-up |\n");
	printf("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (int i = 0; i < n_rows; i++) {
		const row *r = &rows[i];
		const meas *k = &r->kustomize;

		if (k->state <= 0) {
			printf("| %d | %d | | | %s | | | |\n", r->n, r->e,
			       k->state ? fmt_s(a, sizeof(a), k) :
			       r->n > o->kubectl_max ? "skipped (--kubectl-max)" :
			       r->e != o->envs[0] && !o->kubectl_all_envs ?
			       "skipped (first E only)" : "n/a");
			continue;
		}
		printf("| %d | %d | %zu%s | %d | %s | %.1f | %s | %.0fx |\n", r->n,
		       r->e, k->out_docs,
		       r->one.state > 0 && r->one.out_docs != k->out_docs ?
		       " (strata: differs)" : "",
		       k->runs, fmt_s(a, sizeof(a), k), RSS_MB(*k),
		       fmt_s(b, sizeof(b), &r->one),
		       r->one.state > 0 ? k->med / r->one.med : 0);
	}

	for (int i = 0; i < n_rows; i++) {
		const meas *ms[] = { &rows[i].one, &rows[i].all, &rows[i].diff,
				     &rows[i].publish, &rows[i].publish_all,
				     &rows[i].kustomize, &rows[i].diff_pub,
				     &rows[i].diff_all };
		const char *names[] = { "render ENV", "render --all", "diff",
					"publish ENV", "publish --all",
					"kubectl kustomize", "diff ENV (published)",
					"diff --all" };

		for (int j = 0; j < 8; j++)
			if (ms[j]->state < 0)
				printf("\nfailure: N=%d E=%d %s: exit %d: %s\n",
				       rows[i].n, rows[i].e, names[j], ms[j]->status,
				       ms[j]->why);
	}
}

static const row *find_row(const row *rows, int n_rows, int n, int e)
{
	for (int i = 0; i < n_rows; i++)
		if (rows[i].n == n && rows[i].e == e)
			return &rows[i];
	return NULL;
}

static void verdict(const char *what, bool known, bool met, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void verdict(const char *what, bool known, bool met, const char *fmt, ...)
{
	va_list ap;

	printf("- %s %s: ", known ? (met ? "**met**" : "**MISSED**") : "not measured",
	       what);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static void targets(const row *rows, int n_rows)
{
	const row *r1 = find_row(rows, n_rows, 1000, 1);

	printf("\n## Targets\n\n");
	if (r1 && r1->one.state > 0)
		verdict("render N=1000 under 0.3 s", true, r1->one.med < 0.3,
			"%.3f s", r1->one.med);
	else
		verdict("render N=1000 under 0.3 s", false, false, "-");
	if (r1 && r1->one.state > 0 && r1->kustomize.state > 0)
		verdict("render N=1000 at least 100x faster than kubectl kustomize",
			true, r1->kustomize.med / r1->one.med >= 100,
			"%.0fx (%.2f s vs %.3f s)", r1->kustomize.med / r1->one.med,
			r1->kustomize.med, r1->one.med);
	else
		verdict("render N=1000 at least 100x faster than kubectl kustomize",
			false, false, "-");
	for (int e = 1; e <= 99; e++) {
		const row *a = find_row(rows, n_rows, 1000, e);
		const row *b = find_row(rows, n_rows, 10000, e);

		if (!a || !b || a->one.state <= 0 || b->one.state <= 0)
			continue;
		/*
		 * The verdict takes the paired ratio when there is one
		 * (measure_pairs: both sizes in the same minutes), else the
		 * ratio of the rows' medians; both are printed.
		 */
		for (int w = 0; w < 2; w++) {
			const meas *ma = w ? &a->all : &a->one;
			const meas *mb = w ? &b->all : &b->one;
			const char *what = w ? "linear: render --all N=10000 no more than 12x N=1000"
					     : "linear: render N=10000 no more than 12x N=1000";
			double seq = mb->med / ma->med;

			if (ma->state <= 0 || mb->state <= 0)
				continue;
			if (b->n_pairs)
				verdict(what, true, b->pair_med[w] <= 12,
					"E=%d: %.1fx, median of %d alternating pairs "
					"(%.1f-%.1fx); the rows' medians: %.3f s / %.3f s = %.1fx",
					e, b->pair_med[w], b->n_pairs, b->pair_lo[w],
					b->pair_hi[w], mb->med, ma->med, seq);
			else
				verdict(what, true, seq <= 12, "E=%d: %.3f s / %.3f s = %.1fx",
					e, mb->med, ma->med, seq);
		}
	}
	for (int i = 0; i < n_rows; i++) {
		const row *r = &rows[i];

		if (r->e < 2 || r->all.state <= 0 || r->one.state <= 0)
			continue;
		verdict("render --all cheaper than E single renders", true,
			r->all.med < r->e * r->one.med,
			"N=%d E=%d: %.3f s vs %d x %.3f s = %.3f s (%.2f)", r->n, r->e,
			r->all.med, r->e, r->one.med, r->e * r->one.med,
			r->all.med / (r->e * r->one.med));
	}
	for (int i = 0; i < n_rows; i++) {
		const row *r = &rows[i];

		if (r->one.state <= 0 || r->parse_one <= 0)
			continue;
		verdict("render throughput at least half of libfyaml's event parse",
			true, r->parse_one / r->one.med >= 0.5,
			"N=%d E=%d: %.1f MB/s vs %.1f MB/s (%.2f; against "
			"back-to-back passes, %.1f MB/s: %.2f)", r->n, r->e,
			MB(r->in_one) / r->one.med, MB(r->in_one) / r->parse_one,
			r->parse_one / r->one.med,
			r->parse_one_warm > 0 ? MB(r->in_one) / r->parse_one_warm : 0,
			r->parse_one_warm > 0 ? r->parse_one_warm / r->one.med : 0);
		if (r->parse_one_proc > 0)
			printf("  - for scale: a process that only reads and parses "
			       "the same files (strata-bench-parse) took %.3f s, "
			       "%.2f of the in-process floor; the render took "
			       "%.2fx that process\n", r->parse_one_proc,
			       r->parse_one / r->parse_one_proc,
			       r->one.med / r->parse_one_proc);
	}
	for (int i = 0; i < n_rows; i++) {
		const row *r = &rows[i];

		if (r->one.state > 0)
			verdict("peak memory below 4x input + 16 MB (render ENV)", true,
				RSS_MB(r->one) < RSS_LIMIT_MB(r->in_one),
				"N=%d E=%d: %.1f MB vs %.1f MB", r->n, r->e,
				RSS_MB(r->one), RSS_LIMIT_MB(r->in_one));
		if (r->rev.state > 0)
			verdict("peak memory below 4x input + 16 MB (render --rev)",
				true, RSS_MB(r->rev) < RSS_LIMIT_MB(r->in_one),
				"N=%d E=%d: %.1f MB vs %.1f MB", r->n, r->e,
				RSS_MB(r->rev), RSS_LIMIT_MB(r->in_one));
		if (r->all.state > 0 && r->e > 1)
			verdict("peak memory below 4x input + 16 MB (render --all)",
				true, RSS_MB(r->all) < RSS_LIMIT_MB(r->in_all),
				"N=%d E=%d: %.1f MB vs %.1f MB", r->n, r->e,
				RSS_MB(r->all), RSS_LIMIT_MB(r->in_all));
		if (r->diff.state > 0)
			verdict("peak memory below 4x input + 16 MB (diff)", true,
				RSS_MB(r->diff) < RSS_LIMIT_MB(r->in_diff),
				"N=%d E=%d: %.1f MB vs %.1f MB", r->n, r->e,
				RSS_MB(r->diff), RSS_LIMIT_MB(r->in_diff));
		if (r->publish.state > 0)
			verdict("peak memory below 4x input + 16 MB (publish ENV)", true,
				RSS_MB(r->publish) < RSS_LIMIT_MB(r->in_one),
				"N=%d E=%d: %.1f MB vs %.1f MB", r->n, r->e,
				RSS_MB(r->publish), RSS_LIMIT_MB(r->in_one));
		if (r->publish_all.state > 0 && r->e > 1)
			verdict("peak memory below 4x input + 16 MB (publish --all)", true,
				RSS_MB(r->publish_all) < RSS_LIMIT_MB(r->in_all),
				"N=%d E=%d: %.1f MB vs %.1f MB", r->n, r->e,
				RSS_MB(r->publish_all), RSS_LIMIT_MB(r->in_all));
		if (r->diff_pub.state > 0)
			verdict("peak memory below 4x input + 16 MB (diff ENV, published)",
				true, RSS_MB(r->diff_pub) < RSS_LIMIT_MB(r->in_one),
				"N=%d E=%d: %.1f MB vs %.1f MB", r->n, r->e,
				RSS_MB(r->diff_pub), RSS_LIMIT_MB(r->in_one));
		if (r->diff_all.state > 0 && r->e > 1)
			verdict("peak memory below 4x input + 16 MB (diff --all)", true,
				RSS_MB(r->diff_all) < RSS_LIMIT_MB(r->in_all),
				"N=%d E=%d: %.1f MB vs %.1f MB", r->n, r->e,
				RSS_MB(r->diff_all), RSS_LIMIT_MB(r->in_all));
	}
}

/* ---- main ---- */

static int parse_list(int *out, int *n, const char *s)
{
	char *end;

	*n = 0;
	while (*s) {
		long v = strtol(s, &end, 10);

		if (end == s || v < 1 || v > 99999 || *n == MAX_SIZES)
			return -1;
		out[(*n)++] = (int)v;
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return -1;
	}
	return *n ? 0 : -1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: strata-bench [options]\n\n"
		"Generate synthetic config repos and time strata on them against\n"
		"libfyaml's event parser and kubectl kustomize.  Prints markdown.\n\n"
		"  --quick            N = 100,1000 only\n"
		"  --sizes LIST       applications per repo (default 100,1000,10000;\n"
		"                     each has 4 resources)\n"
		"  --envs LIST        environments per repo (default 1,10)\n"
		"  --runs K           runs per measurement, median reported (default 5;\n"
		"                     fewer when one run is slow, at least 15 when\n"
		"                     the first takes under 0.25 s)\n"
		"  --budget SECONDS   time one measurement may take (default 60)\n"
		"  --kubectl-max N    largest N given to kubectl kustomize (default 1000;\n"
		"                     0 disables it; kustomize is superlinear)\n"
		"  --kubectl-all-envs run kustomize for every E (default: the first\n"
		"                     E only; it renders one overlay either way)\n"
		"  --no-diff, --no-publish  skip those commands (publish is slow: one\n"
		"                     loose git object per resource)\n"
		"  --strata PATH      the strata binary (default %s)\n"
		"  --workdir DIR      where repos are generated (default /tmp/strata-bench)\n"
		"  --seed S           generator seed (default 1)\n"
		"  --keep             keep the generated repos\n",
		STRATA_BENCH_CLI);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "sizes", required_argument, NULL, 'n' },
		{ "envs", required_argument, NULL, 'e' },
		{ "runs", required_argument, NULL, 'r' },
		{ "budget", required_argument, NULL, 'b' },
		{ "kubectl-max", required_argument, NULL, 'k' },
		{ "kubectl-all-envs", no_argument, NULL, 'A' },
		{ "no-diff", no_argument, NULL, 'D' },
		{ "no-publish", no_argument, NULL, 'P' },
		{ "strata", required_argument, NULL, 's' },
		{ "workdir", required_argument, NULL, 'w' },
		{ "seed", required_argument, NULL, 'S' },
		{ "keep", no_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	options o = {
		.sizes = { 100, 1000, 10000 }, .n_sizes = 3,
		.envs = { 1, 10 }, .n_envs = 2,
		.runs = 5, .budget = 60, .kubectl_max = 1000,
		.strata = STRATA_BENCH_CLI, .parse = STRATA_BENCH_PARSE,
		.workdir = "/tmp/strata-bench",
		.seed = 1,
	};
	row *rows;
	int n_rows = 0, c;
	bool has_kubectl;
	char *kv[] = { "kubectl", "version", "--client", NULL };
	char *sv[] = { NULL, "--version", NULL };

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			o.sizes[0] = 100;
			o.sizes[1] = 1000;
			o.n_sizes = 2;
			break;
		case 'n':
			if (parse_list(o.sizes, &o.n_sizes, optarg) < 0) {
				fprintf(stderr, "strata-bench: bad --sizes '%s'\n", optarg);
				return 2;
			}
			break;
		case 'e':
			if (parse_list(o.envs, &o.n_envs, optarg) < 0 ) {
				fprintf(stderr, "strata-bench: bad --envs '%s'\n", optarg);
				return 2;
			}
			break;
		case 'r': o.runs = atoi(optarg) > 0 ? atoi(optarg) : 1; break;
		case 'b': o.budget = atof(optarg) > 0 ? atof(optarg) : 60; break;
		case 'k': o.kubectl_max = atoi(optarg); break;
		case 'A': o.kubectl_all_envs = true; break;
		case 'D': o.no_diff = true; break;
		case 'P': o.no_publish = true; break;
		case 's': o.strata = optarg; break;
		case 'w': o.workdir = optarg; break;
		case 'S': o.seed = strtoull(optarg, NULL, 0); break;
		case 'K': o.keep = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (mkdir(o.workdir, 0777) < 0 && errno != EEXIST) {
		fprintf(stderr, "strata-bench: cannot create '%s': %s\n", o.workdir,
			strerror(errno));
		return 1;
	}
	runner_start(STRATA_BENCH_RUNNER);
	if (runner.pid < 0)
		fprintf(stderr, "strata-bench: cannot start %s; forking commands "
				"from here (their peak RSS counts this process's)\n",
			STRATA_BENCH_RUNNER);
	sv[0] = (char *)o.strata;
	if (!run_ok(sv)) {
		fprintf(stderr, "strata-bench: '%s --version' does not run; build "
				"strata or give --strata PATH\n", o.strata);
		return 1;
	}
	has_kubectl = o.kubectl_max > 0 && run_ok(kv);
	if (!has_kubectl)
		fprintf(stderr, "strata-bench: no kubectl kustomize comparison\n");

	rows = calloc((size_t)(o.n_sizes * o.n_envs), sizeof(*rows));
	if (!rows)
		return 1;
	for (int i = 0; i < o.n_sizes; i++) {
		for (int j = 0; j < o.n_envs; j++) {
			row *r = &rows[n_rows];

			r->n = o.sizes[i];
			r->e = o.envs[j];
			if (bench_one(r, &o, has_kubectl, j == 0) < 0) {
				free(rows);
				runner_stop();
				return 1;
			}
			n_rows++;
		}
	}

	{
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

		printf("# strata-bench\n\n%s; %ld CPUs; seed %llu; median of %d "
		       "runs (at least %d for commands under %.2f s; fewer for slow "
		       "ones, budget %.0f s each); "
		       "1 MB = 10^6 bytes; libfyaml %s %s, linked into strata "
		       "and this floor alike; commands %s\n", o.strata, ncpu, o.seed,
		       o.runs, FAST_RUNS, FAST_RUN, o.budget, fy_library_version(),
		       STRATA_BENCH_FYAML_LINK,
		       runner.pid >= 0 ? "started with posix_spawn() by "
					 "strata-bench-runner, a small process"
				       : "forked from strata-bench (peak RSS "
					 "includes strata-bench's own)");
	}
	runner_stop();
	report(rows, n_rows, &o);
	targets(rows, n_rows);
	free(rows);
	if (!o.keep) {
		const char *tmpfiles[] = { "out.yaml", "stderr.txt", "help.txt" };

		for (size_t i = 0; i < 3; i++) {
			char p[4200];

			snprintf(p, sizeof(p), "%s/%s", o.workdir, tmpfiles[i]);
			unlink(p);
		}
		rmdir(o.workdir); /* only when empty */
	}
	return 0;
}
