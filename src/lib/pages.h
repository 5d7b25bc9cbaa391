/*
 * pages.h - arena chunks from 2 MiB transparent huge pages.
 *
 * A page fault costs 10-12 us on the machines strata is measured on (a
 * paravirtualised guest), and a render faulted in every 4 KiB page of its
 * document model one at a time: 3,500 faults, a sixth of the time of a
 * 4,000-resource render.  The arenas (common.c) take their chunks from
 * here instead: 2 MiB-aligned pages of address space that the kernel
 * backs with one huge page each where it can (madvise(MADV_HUGEPAGE)),
 * so one fault maps 2 MiB.  Where it cannot (THP off, memory fragmented),
 * the same memory works with 4 KiB pages, as malloc's would.
 *
 * Chunks are buddy blocks of 32 KiB to 2 MiB inside the pages, so a freed
 * chunk is reused by the next of its size and a page is given back to the
 * kernel as soon as all its chunks are freed: a process that frees its
 * renders and then does other work (publish's packing) does not hold
 * their memory.  Thread-safe: one mutex, held for a few bit operations per
 * chunk (chunks are 32 KiB or more).
 */
#ifndef STRATA_PAGES_H
#define STRATA_PAGES_H

#include <stdbool.h>
#include <stddef.h>

/* a page: the largest chunk strata_pages_alloc hands out */
#define STRATA_PAGE_SIZE ((size_t)2 << 20)

/*
 * The block a chunk of size bytes takes: the power of two from 32 KiB up
 * that holds it; 0 when size is 0 or over a page.
 */
size_t strata_pages_block(size_t size);

/*
 * size bytes (at most STRATA_PAGE_SIZE; the whole block of
 * strata_pages_block(size) is taken), aligned to that block, not zeroed.
 * NULL when the address space cannot be had (an address-space limit,
 * say) or the allocator is off: the caller falls back to malloc.
 */
void *strata_pages_alloc(size_t size);

/* Give back a chunk from strata_pages_alloc, with the size it was asked for. */
void strata_pages_free(void *p, size_t size);

/*
 * The whole 4 KiB pages inside [p, p + size), part of a live chunk, back
 * to the kernel: they read as zeros when next touched.  For a chunk's
 * unused end; a huge page holding it is split.
 */
void strata_pages_discard(void *p, size_t size);

/*
 * The free blocks of 64 KiB and more inside pages still in use back to
 * the kernel, as malloc_trim does for the heap: for a pause between
 * environments.  They stay free to take, at the price of faulting them
 * in again in small pages.
 */
void strata_pages_trim(void);

/* Off: strata_pages_alloc returns NULL from now on (tests, benchmarks). */
void strata_pages_enable(bool on);

typedef struct strata_pages_stats {
	size_t reserved;  /* pages of address space reserved */
	size_t in_use;    /* pages holding at least one live chunk */
	size_t live;      /* bytes in live chunks' blocks */
} strata_pages_stats;

void strata_pages_stats_get(strata_pages_stats *out);

#endif
