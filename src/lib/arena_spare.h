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
 * Only the thread that owns the store may use arenas attached to it.
 */
#ifndef STRATA_ARENA_SPARE_H
#define STRATA_ARENA_SPARE_H

#include "strata/common.h"

typedef struct strata_spare {
	void *head;     /* struct arena_chunk list (common.c) */
	size_t n;
	bool closed;    /* freed: arenas free their chunks as before */
} strata_spare;

/* a takes its chunks from s first and gives them back to s when freed */
void strata_arena_use_spare(strata_arena *a, strata_spare *s);
/* Free the chunks kept; arenas attached to s keep working without it. */
void strata_spare_close(strata_spare *s);

#endif
