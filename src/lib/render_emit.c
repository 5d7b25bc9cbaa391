/*
 * render_emit.c - a render's YAML stream, emitted on several threads.
 *
 * The resources are cut into blocks of er->block documents.  Threads take
 * blocks in order from one counter and emit each into a buffer of a ring;
 * the caller's thread hands finished buffers to write() in block order and
 * emits blocks itself when none is ready.  At most RING blocks are in
 * flight, so memory stays bounded whatever the render's size.  Emission
 * only reads the model (the emitter's style memo in a node's flags is
 * stored with relaxed atomics, and every thread stores the same bits).
 */
#include "strata/render.h"
#include "strata/yaml.h"
#include "pages.h"
#include "pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/*
 * Documents a block: each block costs a hand-over between threads and a
 * write() (`render --all` of 400,000 resources made 60,000 futex calls
 * and 45,000 write()s with blocks of 16, 8,600 and 13,000 with 64),
 * while the ring's buffers, a block each, are memory touched once
 * (blocks of 64 faulted in 77 more pages at 400 resources, of 290).
 * Small renders take small blocks, the rest big ones.
 *
 * A small render is emitted on the caller's thread alone.  A helper woke
 * too late to take more than a few of its blocks, emitted them from
 * documents whose memory the caller had just written (the fused pass),
 * and the caller then waited for them to write in order: 400 resources
 * took 0.7-0.9 ms on one thread and 1.0-1.15 on two.
 */
#define BLOCK_SMALL 16
#define BLOCK_BIG 64
#define SMALL_RENDER 1024 /* documents */
#define MAX_JOBS 64

/*
 * The ring's buffers start in one block of huge-page memory (pages.h),
 * this much a slot: blocks of 16 Deployments of the benchmark's take
 * 30-40 KiB.  Grown from malloc, the buffers faulted in their pages
 * 4 KiB at a time while the big documents at the end of the stream came
 * (28 faults at 400 resources, at 10-12 us each, and a helper's first
 * block took 0.1-0.8 ms); a block that needs more moves to malloc.
 */
#define SLOT_SMALL ((size_t)64 << 10)
#define SLOT_BIG ((size_t)256 << 10)

typedef struct slot {
	strata_buf buf;
	int rc;
	bool done;
} slot;

typedef struct emit_run {
	const strata_render *r;
	size_t n, block, blocks, ring;
	slot *slots;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	size_t next_take;  /* the next block a thread may take */
	size_t next_write; /* the next block to hand to write() */
	int stop;          /* a failure: 0 or its code */
} emit_run;

/*
 * Emit block k into `into` (no lock held); a block after the first starts
 * with the "---" that separates it from the one before.  The emitter
 * moves its buffer's length at every piece, so it works on a copy on this
 * thread's stack: the ring's slots share cache lines, and with the
 * buffers in them two threads emitting at once made each other's every
 * store a cache miss (at 4,000 resources a block took 2.3x its time on
 * one thread; 1.8x since).
 */
static int emit_block(emit_run *er, size_t k, strata_buf *into)
{
	size_t i0 = k * er->block, i1 = i0 + er->block < er->n ? i0 + er->block : er->n;
	strata_buf b = *into;
	int rc = 0;

	b.len = 0;
	for (size_t i = i0; i < i1 && rc == 0; i++) {
		if ((i && strata_buf_puts(&b, "---\n") < 0) ||
		    strata_render_resource_yaml(&b, strata_render_at(er->r, i)) < 0)
			rc = STRATA_ENOMEM;
	}
	*into = b;
	return rc;
}

/* Take a block when one may be taken (lock held); SIZE_MAX when none. */
static size_t take(emit_run *er)
{
	if (er->stop || er->next_take >= er->blocks ||
	    er->next_take >= er->next_write + er->ring)
		return SIZE_MAX;
	return er->next_take++;
}

static void finish(emit_run *er, size_t k, int rc)
{
	slot *s = &er->slots[k % er->ring];

	s->rc = rc;
	s->done = true;
	if (rc < 0 && !er->stop)
		er->stop = rc;
	pthread_cond_broadcast(&er->cond);
}

static void worker(emit_run *er)
{
	pthread_mutex_lock(&er->lock);
	for (;;) {
		size_t k = take(er);
		int rc;

		if (k == SIZE_MAX) {
			if (er->stop || er->next_take >= er->blocks)
				break;
			pthread_cond_wait(&er->cond, &er->lock);
			continue;
		}
		pthread_mutex_unlock(&er->lock);
		rc = emit_block(er, k, &er->slots[k % er->ring].buf);
		pthread_mutex_lock(&er->lock);
		finish(er, k, rc);
	}
	pthread_mutex_unlock(&er->lock);
}

/* The caller's thread: write what is ready in order, emit otherwise. */
static int drive(emit_run *er, int (*write)(void *, const char *, size_t),
		 void *ctx)
{
	int rc = 0;

	pthread_mutex_lock(&er->lock);
	while (er->next_write < er->blocks && !er->stop) {
		slot *s = &er->slots[er->next_write % er->ring];
		size_t k;

		if (s->done) {
			pthread_mutex_unlock(&er->lock);
			rc = s->buf.len ? write(ctx, s->buf.ptr, s->buf.len) : 0;
			pthread_mutex_lock(&er->lock);
			s->done = false;
			er->next_write++;
			if (rc < 0 && !er->stop)
				er->stop = rc;
			pthread_cond_broadcast(&er->cond);
			continue;
		}
		if ((k = take(er)) != SIZE_MAX) {
			pthread_mutex_unlock(&er->lock);
			rc = emit_block(er, k, &er->slots[k % er->ring].buf);
			pthread_mutex_lock(&er->lock);
			finish(er, k, rc);
			continue;
		}
		pthread_cond_wait(&er->cond, &er->lock);
	}
	rc = er->stop;
	er->stop = rc ? rc : 1; /* wake and end the workers either way */
	pthread_cond_broadcast(&er->cond);
	pthread_mutex_unlock(&er->lock);
	return rc;
}

/* strata_pool_step's view: k = 0 drives, the others are workers. */
typedef struct pooled {
	emit_run *er;
	int (*write)(void *, const char *, size_t);
	void *ctx;
	int rc;
} pooled;

static void run_pooled(void *ctx, unsigned k)
{
	pooled *pl = ctx;

	if (k)
		worker(pl->er);
	else
		pl->rc = drive(pl->er, pl->write, pl->ctx);
}

/* Documents a block of a render of n documents. */
static size_t block_of(size_t n)
{
	return n < SMALL_RENDER ? BLOCK_SMALL : BLOCK_BIG;
}

unsigned strata_render_emit_jobs(const strata_render *r, unsigned jobs)
{
	size_t n = strata_render_count(r), blocks = (n + block_of(n) - 1) / block_of(n);

	if (n < SMALL_RENDER || jobs < 1)
		return 1;
	if (jobs > MAX_JOBS)
		jobs = MAX_JOBS;
	if (jobs > blocks / 2)
		jobs = blocks / 2 ? (unsigned)(blocks / 2) : 1;
	return jobs;
}

int strata_render_emit(const strata_render *r, unsigned jobs,
		       int (*write)(void *ctx, const char *text, size_t len),
		       void *ctx)
{
	emit_run er;
	char *ring_mem;
	size_t slot_size, ring_size;
	int rc;

	memset(&er, 0, sizeof(er));
	er.r = r;
	er.n = strata_render_count(r);
	er.block = block_of(er.n);
	er.blocks = (er.n + er.block - 1) / er.block;
	jobs = strata_render_emit_jobs(r, jobs);
	er.ring = 2 * (size_t)jobs;
	er.slots = calloc(er.ring, sizeof(*er.slots));
	if (!er.slots)
		return STRATA_ENOMEM;
	if (pthread_mutex_init(&er.lock, NULL) != 0) {
		free(er.slots);
		return STRATA_ENOMEM;
	}
	if (pthread_cond_init(&er.cond, NULL) != 0) {
		pthread_mutex_destroy(&er.lock);
		free(er.slots);
		return STRATA_ENOMEM;
	}
	slot_size = er.block == BLOCK_SMALL ? SLOT_SMALL : SLOT_BIG;
	ring_size = er.ring * slot_size;
	ring_mem = ring_size <= STRATA_PAGE_SIZE ? strata_pages_alloc(ring_size) : NULL;
	if (ring_mem)
		for (size_t i = 0; i < er.ring; i++)
			strata_buf_over(&er.slots[i].buf, ring_mem + i * slot_size,
					slot_size);
	{
		pooled pl = { &er, write, ctx, 0 };
		strata_pool_step(jobs, true, run_pooled, &pl);
		rc = pl.rc;
	}
	pthread_cond_destroy(&er.cond);
	pthread_mutex_destroy(&er.lock);
	for (size_t i = 0; i < er.ring; i++)
		strata_buf_free(&er.slots[i].buf);
	strata_pages_free(ring_mem, ring_size);
	free(er.slots);
	return rc;
}
