/*
 * test_pages.c - arena chunks from huge pages (pages.c) and the arena on
 * top of them (common.c): chunks are buddy blocks, split from a page and
 * merged back, and never overlap, not even from four threads at once; a
 * freed chunk is the next one of its size; a page whose chunks are all
 * freed is given back and taken again instead of new address space; a
 * discarded end reads as zeros and the rest of the chunk keeps its bytes;
 * trimming gives back free blocks, which stay free to take; switched off,
 * the allocator says no and arenas fall back to malloc with the same
 * contents; a trimmed arena keeps every byte it handed out; a buffer
 * over a chunk fills it and moves to malloc when it outgrows it.
 *
 * The allocator is process-wide: each test leaves every chunk it took
 * freed, so the next starts with no page in use.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include <cmocka.h>

#include "pages.h"
#include "strata/common.h"

#define KB ((size_t)1024)
#define PAGE STRATA_PAGE_SIZE

static uintptr_t page_of(const void *p)
{
	return (uintptr_t)p & ~(uintptr_t)(PAGE - 1);
}

static strata_pages_stats stats(void)
{
	strata_pages_stats s;

	strata_pages_stats_get(&s);
	return s;
}

/* a page of its own for the test, so what came before does not matter */
static void *fresh_whole_page(void)
{
	void *p = strata_pages_alloc(PAGE);

	assert_non_null(p);
	assert_int_equal((uintptr_t)p & (PAGE - 1), 0);
	return p;
}

static void test_pages__block_sizes(void **state)
{
	(void)state;
	assert_int_equal(strata_pages_block(0), 0);
	assert_int_equal(strata_pages_block(1), 32 * KB);
	assert_int_equal(strata_pages_block(32 * KB), 32 * KB);
	assert_int_equal(strata_pages_block(32 * KB + 1), 64 * KB);
	assert_int_equal(strata_pages_block(PAGE), PAGE);
	assert_int_equal(strata_pages_block(PAGE + 1), 0);
	assert_null(strata_pages_alloc(0));
	assert_null(strata_pages_alloc(PAGE + 64));    /* more than a page */
	strata_pages_free(NULL, 64);                   /* a no-op */
	assert_int_equal(stats().live, 0);             /* every test frees all */
}

static void test_pages__split_and_merge(void **state)
{
	strata_pages_stats s0 = stats();
	unsigned char *a, *b, *c, *d, *e;

	(void)state;
	assert_int_equal(s0.in_use, 0);
	a = strata_pages_alloc(32 * KB);
	assert_non_null(a);
	assert_int_equal(page_of(a), (uintptr_t)a); /* a new page's first block */
	b = strata_pages_alloc(20 * KB);            /* a 32 KiB block too */
	c = strata_pages_alloc(64 * KB);
	d = strata_pages_alloc(1024 * KB);
	assert_ptr_equal(b, a + 32 * KB);
	assert_ptr_equal(c, a + 64 * KB);
	assert_ptr_equal(d, a + 1024 * KB);
	assert_int_equal(stats().in_use, 1);
	assert_int_equal(stats().live, (32 + 32 + 64 + 1024) * KB);
	memset(a, 1, 32 * KB);
	memset(b, 2, 20 * KB);
	memset(c, 3, 64 * KB);
	memset(d, 4, 1024 * KB);
	/* a and b merge into the 64 KiB block that comes next */
	strata_pages_free(a, 32 * KB);
	strata_pages_free(b, 20 * KB);
	e = strata_pages_alloc(64 * KB);
	assert_ptr_equal(e, a);
	assert_int_equal(c[64 * KB - 1], 3);
	assert_int_equal(d[0], 4);
	strata_pages_free(e, 64 * KB);
	strata_pages_free(c, 64 * KB);
	assert_int_equal(stats().in_use, 1);
	strata_pages_free(d, 1024 * KB); /* the page is whole again: given back */
	assert_int_equal(stats().in_use, 0);
	assert_int_equal(stats().live, 0);
}

static void test_pages__freed_chunk_is_next(void **state)
{
	strata_pages_stats s0, s1;
	unsigned char *keep, *p, *first;

	(void)state;
	keep = strata_pages_alloc(32 * KB); /* keeps the page in use */
	assert_non_null(keep);
	first = strata_pages_alloc(32 * KB);
	strata_pages_free(first, 32 * KB);
	s0 = stats();
	for (int i = 0; i < 1000; i++) {
		p = strata_pages_alloc(32 * KB);
		assert_ptr_equal(p, first);
		memset(p, i & 0xff, 32 * KB);
		strata_pages_free(p, 32 * KB);
	}
	s1 = stats();
	assert_int_equal(s1.in_use, s0.in_use);
	assert_int_equal(s1.reserved, s0.reserved);
	strata_pages_free(keep, 32 * KB);
	assert_int_equal(stats().in_use, 0);
}

static void test_pages__free_pages_are_reused(void **state)
{
	void *p[8];
	strata_pages_stats s0, s1, s2;

	(void)state;
	/* warm: enough address space for 8 pages, then count again */
	for (int i = 0; i < 8; i++)
		p[i] = fresh_whole_page();
	for (int i = 0; i < 8; i++)
		strata_pages_free(p[i], PAGE);
	s0 = stats();
	assert_int_equal(s0.in_use, 0);
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 8; i++)
			p[i] = fresh_whole_page();
		s1 = stats();
		assert_int_equal(s1.in_use, 8);
		for (int i = 0; i < 8; i++)
			strata_pages_free(p[i], PAGE);
		s2 = stats();
		/* no new address space: freed pages came back */
		assert_int_equal(s2.reserved, s0.reserved);
		assert_int_equal(s2.in_use, 0);
	}
}

static void test_pages__trim_discards_free_blocks(void **state)
{
	unsigned char *a, *b, *c;

	(void)state;
	a = strata_pages_alloc(256 * KB);
	b = strata_pages_alloc(256 * KB);
	assert_ptr_equal(b, a + 256 * KB);
	memset(a, 0x11, 256 * KB);
	memset(b, 0x22, 256 * KB);
	strata_pages_free(b, 256 * KB);
	strata_pages_trim();
	for (size_t j = 0; j < 256 * KB; j += 1021)
		assert_int_equal(a[j], 0x11); /* live: untouched */
	c = strata_pages_alloc(256 * KB);
	assert_ptr_equal(c, b);              /* still free to take ... */
	for (size_t j = 0; j < 256 * KB; j += 1021)
		assert_int_equal(c[j], 0);     /* ... and given back meanwhile */
	strata_pages_free(c, 256 * KB);
	strata_pages_free(a, 256 * KB);
	assert_int_equal(stats().in_use, 0);
}

static void test_pages__discard_reads_zeros(void **state)
{
	unsigned char *p;
	size_t n = 1024 * KB;

	(void)state;
	p = strata_pages_alloc(n);
	assert_non_null(p);
	memset(p, 0xab, n);
	strata_pages_discard(p + 300 * KB, n - 300 * KB);
	for (size_t j = 0; j < 300 * KB; j += 511)
		assert_int_equal(p[j], 0xab);
	/* inward to whole 4 KiB pages: zeros from the first page boundary
	 * at or after 300 KiB to the last one before the end */
	for (size_t j = 304 * KB; j < n - 4 * KB; j += 509)
		assert_int_equal(p[j], 0);
	memset(p + 300 * KB, 0xcd, n - 300 * KB); /* still the chunk's */
	assert_int_equal(p[n - 1], 0xcd);
	assert_int_equal(p[300 * KB - 1], 0xab);
	strata_pages_free(p, n);
}

/* An arena with its chunks from malloc and one from the pages hold the same bytes. */
static void fill_arena(strata_arena *a, unsigned char **ptrs, size_t *lens, size_t n)
{
	uint32_t x = 12345;

	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		lens[i] = 1 + (x >> 8) % (i % 97 == 0 ? 300000 : 3000);
		ptrs[i] = strata_arena_alloc(a, lens[i]);
		assert_non_null(ptrs[i]);
		for (size_t j = 0; j < lens[i]; j++)
			assert_int_equal(ptrs[i][j], 0); /* zeroed */
		memset(ptrs[i], (int)(i * 7 + 1) & 0xff, lens[i]);
	}
}

static void check_arena(unsigned char **ptrs, size_t *lens, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(ptrs[i][0], (i * 7 + 1) & 0xff);
		assert_int_equal(ptrs[i][lens[i] - 1], (i * 7 + 1) & 0xff);
		assert_int_equal(ptrs[i][lens[i] / 2], (i * 7 + 1) & 0xff);
	}
}

#define ALLOCS 6000

static void test_pages__arena_off_falls_back(void **state)
{
	static unsigned char *ptrs[ALLOCS];
	static size_t lens[ALLOCS];
	strata_pages_stats s0;
	strata_arena *a;

	(void)state;
	strata_pages_enable(false);
	assert_null(strata_pages_alloc(64 * KB));
	s0 = stats();
	a = strata_arena_new();
	assert_non_null(a);
	fill_arena(a, ptrs, lens, ALLOCS);
	check_arena(ptrs, lens, ALLOCS);
	assert_int_equal(stats().live, s0.live); /* all from malloc */
	strata_arena_trim(a);
	check_arena(ptrs, lens, ALLOCS);
	strata_arena_free(a);
	strata_pages_enable(true);
	assert_non_null(ptrs[0] = strata_pages_alloc(64 * KB));
	strata_pages_free(ptrs[0], 64 * KB);
}

static void test_pages__arena_trim_keeps_data(void **state)
{
	static unsigned char *ptrs[ALLOCS];
	static size_t lens[ALLOCS];
	strata_pages_stats s0 = stats();
	strata_arena *a, *b;
	unsigned char *p;

	(void)state;
	a = strata_arena_new();
	b = strata_arena_new();
	assert_non_null(a);
	assert_non_null(b);
	/* several MB: full-size chunks from the pages, and big ones */
	fill_arena(a, ptrs, lens, ALLOCS);
	assert_true(stats().live > s0.live);
	strata_arena_trim(a);
	check_arena(ptrs, lens, ALLOCS);
	/* the arena goes on after a trim: zeroed memory, the old intact */
	for (int i = 0; i < 200; i++) {
		p = strata_arena_alloc(a, 1000);
		assert_non_null(p);
		for (int j = 0; j < 1000; j++)
			assert_int_equal(p[j], 0);
		memset(p, 0xee, 1000);
	}
	check_arena(ptrs, lens, ALLOCS);
	/* adopted chunks (trimmed on the way) keep theirs too */
	p = strata_arena_alloc(b, 5000);
	assert_non_null(p);
	memset(p, 0x5a, 5000);
	strata_arena_adopt(a, b);
	assert_int_equal(p[0], 0x5a);
	assert_int_equal(p[4999], 0x5a);
	check_arena(ptrs, lens, ALLOCS);
	strata_arena_free(a);
	assert_int_equal(stats().live, s0.live);
}

/*
 * An arena's first chunk is the pages' smallest block (32 KiB: from
 * malloc its fresh heap pages faulted one by one), and the next ones grow
 * 64 KiB, 128 KiB...; told to expect megabytes, it takes full pages from
 * the start.
 */
static void test_pages__arena_expect_big(void **state)
{
	strata_pages_stats s0 = stats(), s1;
	strata_arena *a = strata_arena_new(), *b = strata_arena_new();
	unsigned char *p;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	strata_arena_expect_big(a);
	assert_non_null(strata_arena_alloc(b, 10));
	assert_int_equal(stats().live - s0.live, 32 * KB);
	/* past the first chunk in both */
	for (int i = 0; i < 40; i++) {
		assert_non_null(strata_arena_alloc(a, 1000));
		assert_non_null(strata_arena_alloc(b, 1000));
	}
	s1 = stats();
	/* a: 2 MiB; b: 32 KiB, then 64 KiB */
	assert_int_equal(s1.live - s0.live, PAGE + 32 * KB + 64 * KB);
	p = strata_arena_alloc(a, 1000);
	assert_non_null(p);
	for (int j = 0; j < 1000; j++)
		assert_int_equal(p[j], 0);
	strata_arena_free(a);
	strata_arena_free(b);
	assert_int_equal(stats().live, s0.live);
}

#define THREADS 4
#define ROUNDS 3000
#define HELD 24

static void *churn(void *arg)
{
	uintptr_t id = (uintptr_t)arg;
	uint32_t x = (uint32_t)id * 2654435761u + 1;
	unsigned char *held[HELD] = { 0 };
	size_t len[HELD] = { 0 };
	unsigned char mark[HELD] = { 0 };
	int bad = 0;

	for (int r = 0; r < ROUNDS; r++) {
		int k = r % HELD;
		x = x * 1103515245u + 12345u;
		if (held[k]) {
			/* nobody else wrote into it while it was ours */
			for (size_t j = 0; j < len[k]; j += 997)
				bad |= held[k][j] != mark[k];
			bad |= held[k][len[k] - 1] != mark[k];
			strata_pages_free(held[k], len[k]);
		}
		len[k] = (size_t)(1 + (x >> 10) % 64) * 4 * KB;
		if (len[k] == 256 * KB && (x & 1))
			len[k] = PAGE;
		held[k] = strata_pages_alloc(len[k]);
		if (!held[k])
			return (void *)1;
		mark[k] = (unsigned char)(id * 16 + (unsigned)k + 1);
		memset(held[k], mark[k], len[k]);
	}
	for (int k = 0; k < HELD; k++)
		strata_pages_free(held[k], len[k]);
	return (void *)(uintptr_t)bad;
}

static void test_pages__threads_never_overlap(void **state)
{
	pthread_t t[THREADS];
	strata_pages_stats s0 = stats(), s1;

	(void)state;
	for (uintptr_t i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, churn, (void *)i), 0);
	for (int i = 0; i < THREADS; i++) {
		void *rv;
		assert_int_equal(pthread_join(t[i], &rv), 0);
		assert_null(rv);
	}
	s1 = stats();
	assert_int_equal(s1.live, s0.live);
	assert_int_equal(s1.in_use, 0);
}

/*
 * A strata_buf over a chunk (strata_buf_over, as render_emit's ring uses):
 * puts fill the chunk in place; one that needs more moves the text to
 * malloc'ed memory and leaves the chunk's bytes as they were; free and
 * detach never free the chunk, and detach hands back malloc'ed memory.
 */
static void test_pages__buffer_over_a_chunk(void **state)
{
	const size_t size = 32 * KB;
	char *mem = strata_pages_alloc(size), *d;
	strata_buf b = STRATA_BUF_INIT;
	size_t len;

	(void)state;
	assert_non_null(mem);
	strata_buf_over(&b, mem, size);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.ptr, "");
	for (int i = 0; i < 1000; i++)
		assert_int_equal(strata_buf_printf(&b, "line %04d\n", i), 0);
	/* 10,000 bytes: still the chunk */
	assert_ptr_equal(b.ptr, mem);
	assert_int_equal(b.len, 10000);
	assert_memory_equal(b.ptr + 9990, "line 0999\n", 10);
	/* past it: malloc'ed, the text carried over, the chunk untouched */
	for (int i = 1000; i < 5000; i++)
		assert_int_equal(strata_buf_printf(&b, "line %04d\n", i), 0);
	assert_true(b.ptr != mem);
	assert_int_equal(b.len, 50000);
	assert_memory_equal(b.ptr, "line 0000\n", 10);
	assert_memory_equal(b.ptr + 49990, "line 4999\n", 10);
	assert_memory_equal(mem + 9990, "line 0999\n", 10);
	strata_buf_free(&b); /* frees the malloc'ed text only */
	/* free and detach over the chunk leave it to its owner */
	strata_buf_over(&b, mem, size);
	assert_int_equal(strata_buf_puts(&b, "kept"), 0);
	strata_buf_free(&b);
	assert_null(b.ptr);
	strata_buf_over(&b, mem, size);
	assert_int_equal(strata_buf_puts(&b, "handed over"), 0);
	d = strata_buf_detach(&b, &len);
	assert_true(d != mem);
	assert_int_equal(len, 11);
	assert_string_equal(d, "handed over");
	free(d);
	assert_null(b.ptr);
	/* the buffer is a plain one again */
	assert_int_equal(strata_buf_puts(&b, "plain"), 0);
	assert_string_equal(b.ptr, "plain");
	strata_buf_free(&b);
	strata_pages_free(mem, size);
	assert_int_equal(stats().in_use, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pages__block_sizes),
		cmocka_unit_test(test_pages__split_and_merge),
		cmocka_unit_test(test_pages__freed_chunk_is_next),
		cmocka_unit_test(test_pages__free_pages_are_reused),
		cmocka_unit_test(test_pages__trim_discards_free_blocks),
		cmocka_unit_test(test_pages__discard_reads_zeros),
		cmocka_unit_test(test_pages__arena_off_falls_back),
		cmocka_unit_test(test_pages__arena_trim_keeps_data),
		cmocka_unit_test(test_pages__arena_expect_big),
		cmocka_unit_test(test_pages__threads_never_overlap),
		cmocka_unit_test(test_pages__buffer_over_a_chunk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
