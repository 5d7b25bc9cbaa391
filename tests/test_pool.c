/*
 * test_pool.c - the helper threads (threads.h, pool.c): a step runs on the
 * caller and the threads that come while it runs, every piece of work
 * exactly once; a thread that comes late is turned away; a busy pool, or
 * one too small, says so and runs nothing; start and stop pair up any
 * number of times; retired helpers take no step; strata_pool_spawn runs
 * its function; strata_pool_step falls back to threads of its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <time.h>

#include <cmocka.h>

#include "pool.h"
#include "strata/threads.h"

#define ITEMS 5000

typedef struct step {
	atomic_uint next;           /* the next item to take */
	atomic_uchar done[ITEMS];   /* each item taken once */
	atomic_uint calls[8];       /* fn(ctx, k) per k */
	atomic_uint arrived;        /* threads other than the caller */
	unsigned wait_for;          /* k = 0 waits for this many others */
	atomic_bool returned;       /* strata_pool_run returned */
	atomic_uint late;           /* calls made after it returned */
} step;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void work(void *ctx, unsigned k)
{
	step *s = ctx;
	unsigned i;

	if (atomic_load(&s->returned))
		atomic_fetch_add(&s->late, 1);
	if (k < 8)
		atomic_fetch_add(&s->calls[k], 1);
	if (k)
		atomic_fetch_add(&s->arrived, 1);
	else if (s->wait_for) {
		double until = now() + 20;
		while (atomic_load(&s->arrived) < s->wait_for && now() < until)
			;
	}
	while ((i = atomic_fetch_add(&s->next, 1)) < ITEMS)
		atomic_fetch_add(&s->done[i], 1);
}

static void step_init(step *s, unsigned wait_for)
{
	atomic_init(&s->next, 0);
	for (size_t i = 0; i < ITEMS; i++)
		atomic_init(&s->done[i], 0);
	for (size_t k = 0; k < 8; k++)
		atomic_init(&s->calls[k], 0);
	atomic_init(&s->arrived, 0);
	atomic_init(&s->returned, false);
	atomic_init(&s->late, 0);
	s->wait_for = wait_for;
}

static void assert_each_item_once(step *s)
{
	for (size_t i = 0; i < ITEMS; i++)
		assert_int_equal(atomic_load(&s->done[i]), 1);
}

static step steps[64];

static void test_pool__off_without_threads(void **state)
{
	(void)state;
	step_init(&steps[0], 0);
	/* nothing started: the caller starts threads of its own */
	assert_false(strata_pool_run(2, work, &steps[0]));
	assert_int_equal(strata_threads_start(1), 0); /* one job: no thread */
	assert_false(strata_pool_run(2, work, &steps[0]));
	strata_threads_stop();
	strata_threads_stop(); /* a second stop is a no-op */
	assert_int_equal(atomic_load(&steps[0].next), 0);
}

/* The caller waits until every thread came: each k once, each item once. */
static void test_pool__every_thread_joins(void **state)
{
	(void)state;
	assert_int_equal(strata_threads_start(4), 0);
	for (int r = 0; r < 20; r++) {
		step *s = &steps[r];
		step_init(s, 3);
		assert_true(strata_pool_run(4, work, s));
		assert_int_equal(atomic_load(&s->arrived), 3);
		for (unsigned k = 0; k < 4; k++)
			assert_int_equal(atomic_load(&s->calls[k]), 1);
		assert_int_equal(atomic_load(&s->calls[4]), 0);
		assert_each_item_once(s);
	}
	/* fewer wanted than there are threads: k stays below want */
	step_init(&steps[20], 1);
	assert_true(strata_pool_run(2, work, &steps[20]));
	assert_int_equal(atomic_load(&steps[20].calls[1]), 1);
	assert_int_equal(atomic_load(&steps[20].calls[2]), 0);
	assert_int_equal(atomic_load(&steps[20].calls[3]), 0);
	assert_each_item_once(&steps[20]);
	strata_threads_stop();
}

/* The caller does not wait: whoever comes late never runs. */
static void test_pool__late_threads_turned_away(void **state)
{
	unsigned late = 0;

	(void)state;
	assert_int_equal(strata_threads_start(3), 0);
	for (int r = 0; r < 2000; r++) {
		step *s = &steps[r % 64];
		step_init(s, 0);
		assert_true(strata_pool_run(3, work, s));
		atomic_store(&s->returned, true);
		assert_int_equal(atomic_load(&s->calls[0]), 1);
		assert_each_item_once(s);
	}
	strata_threads_stop();
	for (int i = 0; i < 64; i++)
		late += atomic_load(&steps[i].late);
	assert_int_equal(late, 0);
}

typedef struct nested {
	step inner;
	bool inner_ran;
} nested;

static void *try_inner(void *arg)
{
	nested *n = arg;

	n->inner_ran = strata_pool_run(2, work, &n->inner);
	return NULL;
}

static nested nest;

static void outer(void *ctx, unsigned k)
{
	(void)ctx;
	if (k == 0) {
		pthread_t t;
		/* another thread, while this step holds the pool */
		assert_int_equal(pthread_create(&t, NULL, try_inner, &nest), 0);
		assert_int_equal(pthread_join(t, NULL), 0);
	}
}

/* A step meets a busy pool, or one too small: false, nothing run. */
static void test_pool__busy_or_small_says_so(void **state)
{
	(void)state;
	assert_int_equal(strata_threads_start(3), 0);
	step_init(&nest.inner, 0);
	nest.inner_ran = true;
	assert_true(strata_pool_run(3, outer, NULL));
	assert_false(nest.inner_ran);
	assert_int_equal(atomic_load(&nest.inner.next), 0);
	/* two threads: a step wanting four starts its own */
	step_init(&steps[0], 0);
	assert_false(strata_pool_run(4, work, &steps[0]));
	assert_false(strata_pool_run(1, work, &steps[0]));
	assert_int_equal(atomic_load(&steps[0].next), 0);
	/* and the pool still works afterwards */
	step_init(&steps[1], 2);
	assert_true(strata_pool_run(3, work, &steps[1]));
	assert_each_item_once(&steps[1]);
	strata_threads_stop();
}

static void test_pool__start_stop_pairs(void **state)
{
	(void)state;
	for (int r = 0; r < 30; r++) {
		step *s = &steps[r];
		assert_int_equal(strata_threads_start(2), 0);
		assert_int_equal(strata_threads_start(8), 0); /* no-op */
		step_init(s, 1);
		assert_true(strata_pool_run(2, work, s));
		/* the second start did not add threads */
		assert_false(strata_pool_run(3, work, s));
		assert_each_item_once(s);
		strata_threads_stop();
		assert_false(strata_pool_run(2, work, s));
	}
}

/*
 * strata_pool_step: with no pool, or told not to use it, the step runs on
 * threads of its own, every k once; with the helpers allowed and able, on
 * them (the join count moves); want 1 is the caller alone.
 */
static void test_pool__step_own_threads_or_helpers(void **state)
{
	unsigned long joins;

	(void)state;
	for (int r = 0; r < 10; r++) {
		step_init(&steps[r], 3);
		strata_pool_step(4, true, work, &steps[r]); /* no pool started */
		assert_int_equal(atomic_load(&steps[r].arrived), 3);
		for (unsigned k = 0; k < 4; k++)
			assert_int_equal(atomic_load(&steps[r].calls[k]), 1);
		assert_each_item_once(&steps[r]);
	}
	assert_int_equal(strata_threads_start(3), 0);
	joins = strata_pool_joins();
	step_init(&steps[10], 2);
	strata_pool_step(3, false, work, &steps[10]); /* not on the helpers */
	assert_int_equal(atomic_load(&steps[10].arrived), 2);
	assert_int_equal(strata_pool_joins(), joins);
	assert_each_item_once(&steps[10]);
	step_init(&steps[11], 2);
	strata_pool_step(3, true, work, &steps[11]); /* on them */
	assert_int_equal(atomic_load(&steps[11].arrived), 2);
	assert_int_equal(strata_pool_joins(), joins + 2);
	assert_each_item_once(&steps[11]);
	step_init(&steps[12], 0);
	strata_pool_step(1, true, work, &steps[12]);
	assert_int_equal(atomic_load(&steps[12].calls[0]), 1);
	assert_int_equal(atomic_load(&steps[12].arrived), 0);
	assert_each_item_once(&steps[12]);
	strata_threads_stop();
}

/*
 * Retired, the helpers exit and the pool takes no step: one asked for
 * runs on threads of its own, every k once (the join count stays), and
 * stop still pairs with start; retire without a pool is a no-op.
 */
static void test_pool__retired_helpers_take_no_step(void **state)
{
	unsigned long joins;

	(void)state;
	strata_threads_retire(); /* nothing started */
	for (int r = 0; r < 10; r++) {
		step *s = &steps[20 + r];

		assert_int_equal(strata_threads_start(3), 0);
		step_init(s, 2);
		assert_true(strata_pool_run(3, work, s)); /* before: on them */
		assert_each_item_once(s);
		strata_threads_retire();
		strata_threads_retire(); /* twice is once */
		joins = strata_pool_joins();
		assert_false(strata_pool_run(2, work, s));
		step_init(s, 2);
		strata_pool_step(3, true, work, s);
		assert_int_equal(strata_pool_joins(), joins);
		assert_int_equal(atomic_load(&s->arrived), 2);
		for (unsigned k = 0; k < 3; k++)
			assert_int_equal(atomic_load(&s->calls[k]), 1);
		assert_each_item_once(s);
		strata_threads_stop();
	}
	/* started again after the stop, the pool works as before */
	assert_int_equal(strata_threads_start(2), 0);
	step_init(&steps[30], 1);
	assert_true(strata_pool_run(2, work, &steps[30]));
	assert_each_item_once(&steps[30]);
	strata_threads_stop();
}

static void *echo(void *arg)
{
	return arg;
}

static void test_pool__spawn_runs_its_function(void **state)
{
	int x = 0;

	(void)state;
	for (int r = 0; r < 50; r++) {
		pthread_t t;
		void *got = NULL;
		assert_int_equal(strata_pool_spawn(&t, echo, &x), 0);
		assert_int_equal(pthread_join(t, &got), 0);
		assert_ptr_equal(got, &x);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pool__off_without_threads),
		cmocka_unit_test(test_pool__every_thread_joins),
		cmocka_unit_test(test_pool__late_threads_turned_away),
		cmocka_unit_test(test_pool__busy_or_small_says_so),
		cmocka_unit_test(test_pool__start_stop_pairs),
		cmocka_unit_test(test_pool__step_own_threads_or_helpers),
		cmocka_unit_test(test_pool__retired_helpers_take_no_step),
		cmocka_unit_test(test_pool__spawn_runs_its_function),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
