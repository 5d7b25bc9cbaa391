/*
 * pages.h - arena chunks carved from 2 MiB transparent huge pages.
 *
 * A page fault costs 10-12 us on the machines strata is measured on (a
 * paravirtualised guest), and a render faulted in every 4 KiB page of its
 * document model one at a time: 3,500 faults, a quarter of the CPU of a
 * 4,000-resource render.  The arenas (common.c) take their chunks from
 * here instead: 2 MiB-aligned pages of address space that the kernel
 * backs with one huge page each where it can (madvise(MADV_HUGEPAGE)),
 * so one fault maps 2 MiB.  Where it cannot (THP off, memory fragmented),
 * the same memory works with 4 KiB pages, as malloc's would.
 *
 * A chunk is carved from the current page by a bump pointer and never
 * straddles two pages; a page is handed out again once every chunk carved
 * from it is freed.  Free pages beyond a small cache go back to the kernel
 * (MADV_DONTNEED), so a process that frees its renders and then does other
 * work (publish's packing) does not hold their memory.  Thread-safe: one
 * mutex, held for a few counter updates per chunk (chunks are 16 KiB or
 * more).
 */
#ifndef STRATA_PAGES_H
#define STRATA_PAGES_H

#include <stdbool.h>
#include <stddef.h>

/* a page: the largest chunk strata_pages_alloc hands out */
#define STRATA_PAGE_SIZE ((size_t)2 << 20)

/*
 * size bytes (a multiple of 64, at most STRATA_PAGE_SIZE), 64-byte
 * aligned, not zeroed.  NULL when the address space cannot be had (an
 * address-space limit, say): the caller falls back to malloc.
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

/* Off: strata_pages_alloc returns NULL from now on (tests, benchmarks). */
void strata_pages_enable(bool on);

typedef struct strata_pages_stats {
	size_t reserved;  /* pages of address space reserved */
	size_t in_use;    /* pages holding at least one live chunk, or current */
	size_t cached;    /* free pages kept mapped for the next chunk */
	size_t live;      /* bytes in live chunks */
} strata_pages_stats;

void strata_pages_stats_get(strata_pages_stats *out);

#endif
