/*
 * arena_spare.h - full-size arena chunks kept for the next arena.
 *
 * render --all renders one environment after another: each render's arena
 * and each overlay layer's fill tens of MB at N = 10,000 and are freed
 * before the next.  Handed back to
 * malloc, that memory went back to the kernel (glibc trims the heap top
 * and unmaps big blocks), and the next environment faulted it in again,
 * zeroed page by page: 10,000 page faults an environment, 7% of
 * `render --all`.  An arena attached to a store takes its chunks from it
 * first and gives its full-size chunks back to it when freed; the store's
 * owner frees it when no more arenas will come (strata_spare_close).  A
 * repo attaches its renders and layers when asked to
 * (strata_repo_reuse_memory): diff and publish do other work between
 * renders, which malloc would give the memory kept here (diff env-00
 * env-09 at N = 10,000 peaked 2 MB higher with the store, diff --all 14
 * MB).
 *
 * Arenas attached to one store may be used on several threads at once
 * (the fused pass's, transform.c): taking and giving chunks back holds the
 * store's lock, a spin lock, as it is held for a few pointer moves only.
 * Zeroed memory is an open store with no chunks.
 */
#ifndef STRATA_ARENA_SPARE_H
#define STRATA_ARENA_SPARE_H

#include "strata/common.h"

#include <stdatomic.h>

typedef struct strata_spare {
	void *head;     /* struct arena_chunk list (common.c) */
	size_t n;
	bool closed;    /* freed: arenas free their chunks as before */
	atomic_bool lock;
} strata_spare;

/* a takes its chunks from s first and gives them back to s when freed */
void strata_arena_use_spare(strata_arena *a, strata_spare *s);
/* Free the chunks kept; arenas attached to s keep working without it. */
void strata_spare_close(strata_spare *s);
/* A new arena like a: copy-on-write as a is, attached to a's store. */
strata_arena *strata_arena_new_like(const strata_arena *a);

#endif
