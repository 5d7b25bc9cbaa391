/*
 * load.c - read and parse a list of files on up to lim->jobs threads.
 *
 * Threads take the next file from one counter, so the files taken are
 * always a prefix of the list; a thread finishes every file it took.  Each
 * extra thread parses into an arena of its own (one for each group of
 * files it takes from, made when it takes the first), adopted by the
 * group's arena at the end; the caller's thread parses into the group's
 * arena directly.  A job without groups is one group: the job's arena.
 * A source is not safe to share between threads (a directory cache,
 * libgit2 objects): when it offers clones (the filesystem source does),
 * each extra thread reads through its own, and nothing is locked; when it
 * does not (git), reads go through it one at a time under read_lock, and
 * only the parse runs in parallel.  With one lock per small file the
 * threads spent their time handing it over (futex waits and wake-ups: 104
 * of them for the 52 patch files of a small overlay).  The origin table
 * (doc.c) and libfyaml's diag defaults (yaml_load.c) are the only state
 * parses share, and both are guarded.
 */
#include "load.h"
#include "pool.h"
#include "yaml_load.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define MAX_JOBS 64

/* Below this many files per thread a thread costs more than it saves. */
#define FILES_PER_THREAD 4

typedef struct shared {
	strata_load_file *files;
	size_t n;
	const strata_load_job *job;
	atomic_size_t next;
	atomic_size_t bytes;
	atomic_bool stop;
	bool serial_reads;      /* the threads share job->src: read_lock it */
	pthread_mutex_t read_lock;
} shared;

#define MAX_GROUPS STRATA_LOAD_MAX_GROUPS

typedef struct worker {
	shared *sh;
	strata_source *src;     /* job->src, or this thread's clone of it */
	bool own;               /* an extra thread: arenas of its own */
	/* this thread's arena for each group, made when it takes the
	 * group's first file (NULL: it took none) */
	strata_arena *group[MAX_GROUPS];
	size_t g;               /* the group of the last file taken */
	int rc;
} worker;

static strata_error *keep_error(const strata_error *e)
{
	strata_error *copy = malloc(sizeof(*copy));

	if (copy)
		*copy = *e;
	return copy;
}

static void load_one(shared *sh, strata_load_file *f, strata_arena *arena,
		     strata_source *src, strata_yaml_parser *yp,
		     strata_error *scratch)
{
	const strata_load_job *job = sh->job;
	char *buf = NULL;
	size_t len = 0, total;

	strata_error_clear(scratch);
	if (sh->serial_reads)
		pthread_mutex_lock(&sh->read_lock);
	f->read_rc = src->read(src, f->path, &buf, &len, scratch);
	if (sh->serial_reads)
		pthread_mutex_unlock(&sh->read_lock);
	if (f->read_rc < 0) {
		f->err = keep_error(scratch);
		if (!job->keep_bad || f->read_rc == STRATA_ENOMEM)
			atomic_store(&sh->stop, true);
		f->done = true;
		return;
	}
	f->len = len;
	total = atomic_fetch_add(&sh->bytes, len) + len;
	/*
	 * Over the limit: no file is started after this one, but this one
	 * is finished like every file taken.  The caller, adding lengths
	 * in list order, passes the limit at one of the files taken (their
	 * sum is over), which need not be this one: threads read in another
	 * order than the list's, and a file left unparsed before the one
	 * where the list's sum passes would be a hole in the prefix (a
	 * base file read last, after the overlay files parsed in the same
	 * step, did that).  So at most one file a thread past the limit.
	 */
	if (total > job->lim->max_total)
		atomic_store(&sh->stop, true);
	f->rc = strata_yaml_load_with(yp, &f->docs, &f->n, arena, f->path, buf, len,
				      job->lim, scratch);
	if (f->rc < 0) {
		f->err = keep_error(scratch);
		if (!job->keep_bad || f->rc == STRATA_ENOMEM)
			atomic_store(&sh->stop, true);
	}
	if (f->rc == STRATA_EPARSE && job->keep_bad)
		f->buf = buf;
	else
		free(buf);
	f->done = true;
}

/*
 * The arena file i's documents go to: its group's, or this thread's own
 * for that group.  A thread takes files in increasing order, so its group
 * only moves forward.
 */
static strata_arena *group_arena(worker *w, size_t i)
{
	const strata_load_job *job = w->sh->job;

	while (w->g + 1 < job->n_groups && i >= job->group_end[w->g])
		w->g++;
	if (!w->own)
		return job->arenas[w->g];
	if (!w->group[w->g])
		w->group[w->g] = strata_arena_new();
	return w->group[w->g];
}

static void run(worker *w)
{
	shared *sh = w->sh;
	strata_error *scratch = malloc(sizeof(*scratch));
	strata_yaml_parser yp = { 0 }; /* one parser for every file this thread takes */

	if (!scratch) {
		atomic_store(&sh->stop, true);
		w->rc = STRATA_ENOMEM;
		return;
	}
	for (;;) {
		strata_arena *arena;
		size_t i;

		/* checked before taking: a file taken is always finished */
		if (atomic_load(&sh->stop))
			break;
		i = atomic_fetch_add(&sh->next, 1);
		if (i >= sh->n)
			break;
		if (!sh->files[i].path) {
			sh->files[i].done = true;
			continue;
		}
		if (!(arena = group_arena(w, i))) {
			atomic_store(&sh->stop, true);
			w->rc = STRATA_ENOMEM;
			break;
		}
		load_one(sh, &sh->files[i], arena, w->src, &yp, scratch);
	}
	strata_yaml_parser_free(&yp);
	free(scratch);
}

/* strata_pool_step's view: k = 0 is the caller, k > 0 ws[k - 1]. */
typedef struct pooled {
	worker *self;
	worker *ws;
} pooled;

static void run_pooled(void *ctx, unsigned k)
{
	pooled *pl = ctx;

	run(k ? &pl->ws[k - 1] : pl->self);
}

int strata_load_files(strata_load_file *files, size_t n,
		      const strata_load_job *job)
{
	worker ws[MAX_JOBS];
	shared sh;
	worker self = { .sh = &sh, .src = job->src };
	/* without groups, one: the job's arena for all n files */
	strata_load_job one;
	strata_arena *one_arena[1];
	size_t one_end[1];
	size_t jobs = job->lim->jobs ? job->lim->jobs : 1, ready = 0;
	int rc = 0;

	if (jobs > MAX_JOBS)
		jobs = MAX_JOBS;
	if (job->n_groups > MAX_GROUPS)
		return STRATA_EUSAGE;
	if (!job->n_groups) {
		one = *job;
		one_arena[0] = job->arena;
		one_end[0] = n;
		one.arenas = one_arena;
		one.group_end = one_end;
		one.n_groups = 1;
		job = &one;
	}
	if (jobs > n / FILES_PER_THREAD)
		jobs = n / FILES_PER_THREAD ? n / FILES_PER_THREAD : 1;
	memset(&sh, 0, sizeof(sh));
	sh.files = files;
	sh.n = n;
	sh.job = job;
	atomic_init(&sh.next, 0);
	atomic_init(&sh.bytes, job->bytes_before);
	atomic_init(&sh.stop, false);
	if (pthread_mutex_init(&sh.read_lock, NULL) != 0)
		return STRATA_ENOMEM;
	/*
	 * Clones first, all or none: a thread started on its own source must
	 * not meet one that shares the job's without the lock.
	 */
	for (size_t t = 0; t + 1 < jobs; t++)
		ws[t].src = NULL;
	for (size_t t = 0; t + 1 < jobs && !sh.serial_reads; t++)
		if (!job->src->clone ||
		    job->src->clone(job->src, &ws[t].src, NULL) < 0)
			sh.serial_reads = true;
	for (size_t t = 0; t + 1 < jobs; t++) {
		worker *w = &ws[t];
		strata_source *src = w->src;

		memset(w, 0, sizeof(*w));
		w->sh = &sh;
		w->own = true;
		w->src = src;
		if (sh.serial_reads) {
			strata_source_free(w->src);
			w->src = job->src;
		}
		ready++;
	}
	/*
	 * On the helpers of threads.h, else threads of its own; never the
	 * helpers for a source without clones (git): libgit2 keeps state
	 * per thread that only a thread's exit frees, and it must be gone
	 * before libgit2's last shutdown, which comes before they stop.
	 */
	{
		pooled pl = { &self, ws };
		strata_pool_step((unsigned)ready + 1, !sh.serial_reads, run_pooled, &pl);
	}
	rc = self.rc;
	for (size_t t = 0; t < ready; t++) {
		/* a thread that never came left its arena empty, its rc 0 */
		for (size_t g = 0; g < job->n_groups; g++)
			if (ws[t].group[g])
				strata_arena_adopt(job->arenas[g], ws[t].group[g]);
		if (ws[t].rc < 0 && rc == 0)
			rc = ws[t].rc;
	}
	for (size_t t = 0; t + 1 < jobs; t++)
		if (ws[t].src != job->src)
			strata_source_free(ws[t].src);
	pthread_mutex_destroy(&sh.read_lock);
	return rc;
}

void strata_load_file_release(strata_load_file *f)
{
	free(f->buf);
	free(f->err);
	f->buf = NULL;
	f->err = NULL;
}
