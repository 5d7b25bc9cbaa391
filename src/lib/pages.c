/*
 * pages.c - arena chunks carved from 2 MiB transparent huge pages (see
 * pages.h for why).
 *
 * Address space is reserved in spans of SPAN_PAGES pages, 2 MiB-aligned,
 * MAP_NORESERVE, and marked MADV_HUGEPAGE; nothing is backed until it is
 * touched.  Each page has a descriptor outside it (so returning a page to
 * the kernel loses nothing) with its bump offset and the bytes of its live
 * chunks.  Pages are taken from, in order: the cache of free pages still
 * mapped, the list of pages given back to the kernel, the last span's
 * pages never used, a new span.
 */
#include "pages.h"
#include "poison.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#define SPAN_PAGES 32u  /* 64 MiB of address space a span */
#define CACHE_MAX 1u    /* free pages kept mapped: one page's worth of churn */
#define DISCARD_MIN ((size_t)64 * 1024) /* a page's unused end worth a system call */

enum { PG_EMPTY, PG_USED, PG_CACHED };

struct span;

struct page {
	struct page *next;      /* on the cache or the empty list */
	struct span *span;
	size_t bump, live;
	unsigned idx;
	unsigned char state;
	bool split;             /* part of it discarded: small pages now */
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
	struct page *cur;       /* the page chunks are carved from */
	struct page *cache, *empty;
	size_t reserved, in_use, cached, live;
	bool off, failed;
} P = { .lock = PTHREAD_MUTEX_INITIALIZER };

static char *page_base(const struct page *pg)
{
	return pg->span->base + (size_t)pg->idx * STRATA_PAGE_SIZE;
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

/* A page with nothing in it, from the cheapest place that has one. */
static struct page *take_page(void)
{
	struct page *pg;

	if ((pg = P.cache)) {
		P.cache = pg->next;
		P.cached--;
	} else if ((pg = P.empty)) {
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
	pg->next = NULL;
	pg->state = PG_USED;
	pg->bump = 0;
	pg->live = 0;
	P.in_use++;
	POISON(page_base(pg), STRATA_PAGE_SIZE);
	return pg;
}

/*
 * pg holds no live chunk and is not current: cache it or give it back.
 * A page given back is mapped anew rather than only discarded: once
 * split (strata_pages_discard), its range keeps a table of small pages,
 * and the next chunk there would fault them in one by one.
 */
static void release_page(struct page *pg)
{
	char *b = page_base(pg);

	P.in_use--;
	pg->bump = 0;
	if (!pg->split && P.cached < CACHE_MAX) {
		pg->state = PG_CACHED;
		pg->next = P.cache;
		P.cache = pg;
		P.cached++;
		return;
	}
	UNPOISON(b, STRATA_PAGE_SIZE);
	if (mmap(b, STRATA_PAGE_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) == b) {
#ifdef MADV_HUGEPAGE
		(void)madvise(b, STRATA_PAGE_SIZE, MADV_HUGEPAGE);
#endif
		pg->split = false;
	} else {
		(void)madvise(b, STRATA_PAGE_SIZE, MADV_DONTNEED);
	}
	pg->state = PG_EMPTY;
	pg->next = P.empty;
	P.empty = pg;
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
	struct page *pg;
	void *p = NULL;

	if (!size || size > STRATA_PAGE_SIZE || (size & 63))
		return NULL;
	pthread_mutex_lock(&P.lock);
	if (P.off)
		goto done;
	if (size == STRATA_PAGE_SIZE) {
		/* a whole page: its own, the current one keeps filling */
		pg = take_page();
		if (!pg)
			goto done;
		pg->bump = size;
		pg->live = size;
		P.live += size;
		p = page_base(pg);
		goto done;
	}
	pg = P.cur;
	if (!pg || STRATA_PAGE_SIZE - pg->bump < size) {
		struct page *next = take_page();
		if (!next)
			goto done;
		P.cur = next;
		if (pg && !pg->live)
			release_page(pg);
		else if (pg && STRATA_PAGE_SIZE - pg->bump >= DISCARD_MIN)
			/* nothing is carved there again until the page is free */
			discard(pg, (uintptr_t)page_base(pg) + pg->bump,
				(uintptr_t)page_base(pg) + STRATA_PAGE_SIZE);
		pg = next;
	}
	p = page_base(pg) + pg->bump;
	pg->bump += size;
	pg->live += size;
	P.live += size;
done:
	pthread_mutex_unlock(&P.lock);
	if (p)
		UNPOISON(p, size);
	return p;
}

void strata_pages_free(void *p, size_t size)
{
	struct page *pg;

	if (!p)
		return;
	POISON(p, size);
	pthread_mutex_lock(&P.lock);
	pg = page_of(p);
	if (pg && pg->state == PG_USED && pg->live >= size) {
		pg->live -= size;
		P.live -= size;
		if (!pg->live) {
			if (pg == P.cur)
				pg->bump = 0; /* carve it again from the start */
			else
				release_page(pg);
		}
	}
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
	out->cached = P.cached;
	out->live = P.live;
	pthread_mutex_unlock(&P.lock);
}
