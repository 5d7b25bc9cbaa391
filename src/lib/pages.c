/*
 * pages.c - arena chunks from 2 MiB transparent huge pages (see pages.h
 * for why).
 *
 * Address space is reserved in spans of SPAN_PAGES pages, 2 MiB-aligned,
 * MAP_NORESERVE, and marked MADV_HUGEPAGE; nothing is backed until it is
 * touched.  Within a page, chunks are buddy blocks of 32 KiB to 2 MiB
 * (orders 0 to 6): a chunk takes the smallest free block that fits, the
 * lowest first, from the pages in use, oldest first, splitting a bigger
 * one when it must; a freed block merges with its free buddy.  So a chunk
 * freed is the next one of its size (diff's per-pair scratch arenas take
 * and free thousands), and pages stay dense.  Each page's descriptor, with
 * one bitmap of free blocks per order, lives outside it, so giving a page
 * back to the kernel loses nothing.  A page whose blocks are all free is
 * given back at once, and the next one comes from, in order: the pages
 * given back, the last span's pages never used, a new span.
 */
#include "pages.h"
#include "poison.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#define SPAN_PAGES 32u  /* 64 MiB of address space a span */
#define UNIT_SHIFT 15   /* order 0: 32 KiB */
#define ORDERS 7        /* ... order 6: 2 MiB, the page */
#define TOP (ORDERS - 1)
#define HUGE_BLOCK_PAGES 4u /* pages cut into blocks that may be huge: take_for() */

enum { PG_EMPTY, PG_USED };

struct span;

struct page {
	struct page *next;      /* on the used or the empty list */
	struct span *span;
	uint64_t free[ORDERS];  /* bit b: block b of that order is free */
	unsigned idx;
	unsigned char state;
	bool split;             /* part of it discarded: small pages now */
	bool small;             /* MADV_NOHUGEPAGE: see take_for() */
	bool huge_blocks;       /* a huge page cut into blocks (take_for) */
};

struct span {
	struct span *next;
	char *base;
	unsigned fresh;         /* pages from here on never handed out */
	struct page pg[SPAN_PAGES];
};

static struct {
	pthread_mutex_t lock;
	struct span *spans;     /* newest first */
	struct page *used, **used_tail; /* in the order they were taken */
	struct page *empty;
	size_t reserved, in_use, live;
	unsigned huge_blocks;   /* pages with huge_blocks in use */
	bool off, failed;
} P = { .lock = PTHREAD_MUTEX_INITIALIZER };

static char *page_base(const struct page *pg)
{
	return pg->span->base + (size_t)pg->idx * STRATA_PAGE_SIZE;
}

static char *block_at(const struct page *pg, unsigned order, unsigned b)
{
	return page_base(pg) + ((size_t)b << (UNIT_SHIFT + order));
}

/* The order of a size: the smallest block it fits, or -1 if none (0 too). */
static int order_of(size_t size)
{
	int k = 0;

	if (!size)
		return -1;
	while (k < ORDERS && ((size_t)1 << (UNIT_SHIFT + k)) < size)
		k++;
	return k < ORDERS ? k : -1;
}

size_t strata_pages_block(size_t size)
{
	int k = order_of(size);

	return k < 0 ? 0 : (size_t)1 << (UNIT_SHIFT + k);
}

static struct span *span_new(void)
{
	size_t len = SPAN_PAGES * STRATA_PAGE_SIZE;
	char *m, *b, *end;
	struct span *s;
	unsigned i;

	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	m = mmap(NULL, len + STRATA_PAGE_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED) {
		free(s);
		return NULL;
	}
	/* keep the 2 MiB-aligned middle, unmap the ends */
	b = (char *)(((uintptr_t)m + STRATA_PAGE_SIZE - 1) & ~(uintptr_t)(STRATA_PAGE_SIZE - 1));
	end = m + len + STRATA_PAGE_SIZE;
	if (b > m)
		munmap(m, (size_t)(b - m));
	if (end > b + len)
		munmap(b + len, (size_t)(end - (b + len)));
#ifdef MADV_HUGEPAGE
	/* advice only: without THP the span works with small pages */
	(void)madvise(b, len, MADV_HUGEPAGE);
#endif
	s->base = b;
	for (i = 0; i < SPAN_PAGES; i++) {
		s->pg[i].span = s;
		s->pg[i].idx = i;
	}
	return s;
}

/* A page with nothing in it, put at the end of the used list. */
static struct page *take_page(void)
{
	struct page *pg;

	if ((pg = P.empty)) {
		P.empty = pg->next;
	} else {
		struct span *s = P.spans;
		if (!s || s->fresh == SPAN_PAGES) {
			if (P.failed || !(s = span_new())) {
				P.failed = true; /* do not retry a failing mmap per chunk */
				return NULL;
			}
			s->next = P.spans;
			P.spans = s;
			P.reserved += SPAN_PAGES;
		}
		pg = &s->pg[s->fresh++];
	}
	for (int k = 0; k < TOP; k++)
		pg->free[k] = 0;
	pg->free[TOP] = 1;
	pg->state = PG_USED;
	pg->next = NULL;
	if (!P.used)
		P.used_tail = &P.used;
	*P.used_tail = pg;
	P.used_tail = &pg->next;
	P.in_use++;
	POISON(page_base(pg), STRATA_PAGE_SIZE);
	return pg;
}

/*
 * pg's blocks are all free: off the used list and back to the kernel.  It
 * is mapped anew rather than only discarded: once split (discard()), its
 * range keeps a table of small pages, and the next chunks there would
 * fault them in one by one.
 */
static void release_page(struct page *pg)
{
	char *b = page_base(pg);
	struct page **pp;

	for (pp = &P.used; *pp != pg; pp = &(*pp)->next)
		;
	*pp = pg->next;
	if (P.used_tail == &pg->next)
		P.used_tail = pp;
	P.in_use--;
	UNPOISON(b, STRATA_PAGE_SIZE);
	if (mmap(b, STRATA_PAGE_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) == b) {
#ifdef MADV_HUGEPAGE
		(void)madvise(b, STRATA_PAGE_SIZE, MADV_HUGEPAGE);
#endif
		pg->split = false;
		pg->small = false; /* the new mapping has the span's advice */
	} else {
		(void)madvise(b, STRATA_PAGE_SIZE, MADV_DONTNEED);
	}
	if (pg->huge_blocks) {
		P.huge_blocks--;
		pg->huge_blocks = false;
	}
	pg->state = PG_EMPTY;
	pg->next = P.empty;
	P.empty = pg;
}

/*
 * A new page for a block of order k.  A whole-page chunk (an arena grown
 * to full size, filled to its end but for the last) gets a huge page.
 * Pages cut into smaller blocks get one only while fewer than
 * HUGE_BLOCK_PAGES such pages have one: the first holds a small
 * command's whole model (400 resources), four hold most of the growing
 * arenas of a 4,000-resource render; past that, blocks of arenas still
 * growing, whose ends are not filled yet, would each pin 2 MiB where
 * small pages hold only what was touched.  diff --all at 4,000
 * resources, E = 10, peak RSS in KiB: 31,100-31,900 with one such page,
 * 31,000-33,200 with four, 34,000-35,400 with no bound (malloc:
 * 30,200-30,600; the limit, 4x input + 16 MB, is 34,960); render N =
 * 1,000: 100 ms with two, 93 with four or no bound.
 */
static struct page *take_for(int k)
{
	struct page *pg = take_page();
	bool small;

	if (!pg)
		return NULL;
	small = k < TOP && P.huge_blocks >= HUGE_BLOCK_PAGES;
	if (k < TOP && !small) {
		P.huge_blocks++;
		pg->huge_blocks = true;
	}
#ifdef MADV_NOHUGEPAGE
	if (small != pg->small) {
		(void)madvise(page_base(pg), STRATA_PAGE_SIZE,
			      small ? MADV_NOHUGEPAGE : MADV_HUGEPAGE);
		pg->small = small;
	}
#endif
	return pg;
}

/* [start, end) of the page pg, page-aligned inward, back to the kernel */
static void discard(struct page *pg, uintptr_t start, uintptr_t end)
{
	start = (start + 4095) & ~(uintptr_t)4095;
	end &= ~(uintptr_t)4095;
	if (end > start) {
		(void)madvise((void *)start, end - start, MADV_DONTNEED);
		pg->split = true;
	}
}

static struct page *page_of(const void *p)
{
	const char *c = p;
	struct span *s;

	for (s = P.spans; s; s = s->next)
		if (c >= s->base && c < s->base + SPAN_PAGES * STRATA_PAGE_SIZE)
			return &s->pg[(size_t)(c - s->base) / STRATA_PAGE_SIZE];
	return NULL;
}

void *strata_pages_alloc(size_t size)
{
	struct page *pg = NULL;
	void *p = NULL;
	int k = order_of(size), j;
	unsigned b;

	if (k < 0)
		return NULL;
	pthread_mutex_lock(&P.lock);
	if (P.off)
		goto done;
	/* the smallest free block that fits, in the oldest page that has one */
	for (j = k; j < ORDERS && !pg; j++)
		for (pg = P.used; pg && !pg->free[j]; pg = pg->next)
			;
	if (pg) {
		j--;
	} else {
		if (!(pg = take_for(k)))
			goto done;
		j = TOP;
	}
	b = (unsigned)__builtin_ctzll(pg->free[j]);
	pg->free[j] &= ~((uint64_t)1 << b);
	while (j > k) {
		/* keep the lower half, free the upper */
		j--;
		b *= 2;
		pg->free[j] |= (uint64_t)1 << (b + 1);
	}
	P.live += (size_t)1 << (UNIT_SHIFT + k);
	p = block_at(pg, (unsigned)k, b);
done:
	pthread_mutex_unlock(&P.lock);
	if (p)
		UNPOISON(p, size);
	return p;
}

void strata_pages_free(void *p, size_t size)
{
	struct page *pg;
	int k = order_of(size);
	unsigned b;

	if (!p || k < 0)
		return;
	POISON(p, (size_t)1 << (UNIT_SHIFT + k));
	pthread_mutex_lock(&P.lock);
	pg = page_of(p);
	if (!pg || pg->state != PG_USED)
		goto done;
	b = (unsigned)(((uintptr_t)p - (uintptr_t)page_base(pg)) >> (UNIT_SHIFT + k));
	P.live -= (size_t)1 << (UNIT_SHIFT + k);
	/* merge with the buddy while it is free */
	while (k < TOP && (pg->free[k] & ((uint64_t)1 << (b ^ 1)))) {
		pg->free[k] &= ~((uint64_t)1 << (b ^ 1));
		b /= 2;
		k++;
	}
	pg->free[k] |= (uint64_t)1 << b;
	if (k == TOP)
		release_page(pg);
done:
	pthread_mutex_unlock(&P.lock);
}

void strata_pages_discard(void *p, size_t size)
{
	struct page *pg;

	pthread_mutex_lock(&P.lock);
	pg = page_of(p);
	if (pg && pg->state == PG_USED)
		discard(pg, (uintptr_t)p, (uintptr_t)p + size);
	pthread_mutex_unlock(&P.lock);
}

void strata_pages_trim(void)
{
	pthread_mutex_lock(&P.lock);
	for (struct page *pg = P.used; pg; pg = pg->next)
		for (unsigned k = 1; k < TOP; k++)
			for (uint64_t m = pg->free[k]; m; m &= m - 1) {
				uintptr_t s = (uintptr_t)block_at(pg, k, (unsigned)__builtin_ctzll(m));
				discard(pg, s, s + ((uintptr_t)1 << (UNIT_SHIFT + k)));
			}
	pthread_mutex_unlock(&P.lock);
}

void strata_pages_enable(bool on)
{
	pthread_mutex_lock(&P.lock);
	P.off = !on;
	pthread_mutex_unlock(&P.lock);
}

void strata_pages_stats_get(strata_pages_stats *out)
{
	pthread_mutex_lock(&P.lock);
	out->reserved = P.reserved;
	out->in_use = P.in_use;
	out->live = P.live;
	pthread_mutex_unlock(&P.lock);
}
