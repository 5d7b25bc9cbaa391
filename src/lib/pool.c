/*
 * pool.c - the helper threads of threads.h, one step at a time on them
 * (pool.h), how every strata thread is started (strata_pool_spawn), and
 * a step on threads of its own when the helpers cannot take it
 * (strata_pool_step).
 *
 * One word, state, holds the step's generation (above bit 0) and whether
 * it is open (bit 0).  The caller publishes fn, ctx and want, then opens
 * the next generation; a thread that sees an open generation it has not
 * met counts itself active, and only then checks that state still reads
 * the same.  The caller closes the step before it waits for active to
 * reach zero, so either the caller sees the thread counted and waits for
 * it, or the thread sees the step closed (or a later one) and stays out.
 * All of it with sequentially consistent atomics.
 *
 * Waiting threads sleep on a condition variable; the caller opens a step
 * under the lock the sleepers check state under, so no wake-up is lost.
 * They do not spin between steps: woken on a CPU of their own, a thread
 * runs about 0.1 ms after the broadcast, and spinning measured no faster
 * (a render of 100 apps: 14.9 ms sleeping, 15.1-15.5 ms spinning 0.3 or
 * 2 ms) while it burns a CPU a container may be paying for.
 */
#include "pool.h"
#include "yaml_load.h"
#include "strata/common.h"
#include "strata/threads.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#define MAX_THREADS 63

/* ---- starting a thread on another CPU ---- */

typedef struct spawn {
	void *(*fn)(void *);
	void *arg;
	cpu_set_t all;  /* the affinity to go back to */
} spawn;

static void *spawned(void *v)
{
	spawn s = *(spawn *)v;

	free(v);
	/* placed away from its creator; from here on the scheduler decides */
	pthread_setaffinity_np(pthread_self(), sizeof(s.all), &s.all);
	return s.fn(s.arg);
}

/*
 * pthread_create, but the thread starts on a CPU other than the caller's.
 * Linux places a new thread on its creator's CPU when it can, and there
 * it waits until the creator is preempted or an idle CPU pulls it over:
 * on a two-CPU virtual machine, 1 to 4 ms into a render of 100 files that
 * takes 12.  Created with an affinity that leaves the creator's CPU out,
 * it starts at once elsewhere, then takes the whole mask back.  When the
 * CPU or the mask cannot be read, a plain pthread_create.
 */
int strata_pool_spawn(pthread_t *tid, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	cpu_set_t away;
	spawn *s;
	int cpu = sched_getcpu(), rc;

	s = malloc(sizeof(*s));
	if (!s)
		return -1;
	s->fn = fn;
	s->arg = arg;
	if (cpu < 0 || cpu >= CPU_SETSIZE ||
	    sched_getaffinity(0, sizeof(s->all), &s->all) != 0 ||
	    !CPU_ISSET(cpu, &s->all) || CPU_COUNT(&s->all) < 2 ||
	    pthread_attr_init(&attr) != 0) {
		free(s);
		return pthread_create(tid, NULL, fn, arg) == 0 ? 0 : -1;
	}
	away = s->all;
	CPU_CLR(cpu, &away);
	if (pthread_attr_setaffinity_np(&attr, sizeof(away), &away) == 0) {
		rc = pthread_create(tid, &attr, spawned, s); /* spawned() frees s */
		if (rc != 0)
			free(s);
	} else {
		free(s);
		rc = pthread_create(tid, NULL, fn, arg);
	}
	pthread_attr_destroy(&attr);
	return rc == 0 ? 0 : -1;
}

/* ---- the pool ---- */

typedef struct pool {
	pthread_mutex_t lock;
	pthread_cond_t wake;    /* threads: a new step, or quit */
	pthread_cond_t idle;    /* the caller: active fell to zero */
	pthread_t tids[MAX_THREADS];
	unsigned n;             /* threads running */
	bool started;           /* lock, conds initialised */
	atomic_uint state;      /* generation << 1 | open */
	atomic_uint active;     /* threads inside a step */
	atomic_uint next_k;     /* the next k to hand out */
	atomic_bool quit;
	atomic_flag busy;       /* a step holds the pool */
	strata_pool_fn fn;
	void *ctx;
	unsigned want;
} pool;

static pool the_pool = { .busy = ATOMIC_FLAG_INIT };
static atomic_ulong joins;

/* A step a thread that last met generation seen may join. */
static bool joinable(unsigned s, unsigned seen)
{
	return (s & 1) && (s >> 1) != seen;
}

/* Wait for a joinable step or quit; the state seen then. */
static unsigned wait_step(pool *p, unsigned seen)
{
	unsigned s;

	pthread_mutex_lock(&p->lock);
	while (!joinable(s = atomic_load(&p->state), seen) && !atomic_load(&p->quit))
		pthread_cond_wait(&p->wake, &p->lock);
	pthread_mutex_unlock(&p->lock);
	return s;
}

static void *thread_main(void *arg)
{
	pool *p = arg;
	unsigned seen = 0;

	/*
	 * The first step (a load) comes about a millisecond after the
	 * threads start; a helper's first file took 0.5-0.7 ms cold, its
	 * later ones 0.07.  Warmed here, a 100-app render took 0.2-0.3 ms
	 * less (two series of 200 alternating runs).
	 */
	(void)strata_yaml_warm();

	for (;;) {
		unsigned s = wait_step(p, seen);

		if (atomic_load(&p->quit))
			break;
		seen = s >> 1;
		atomic_fetch_add(&p->active, 1);
		if (atomic_load(&p->state) == s) {
			unsigned k = atomic_fetch_add(&p->next_k, 1);
			if (k < p->want) {
				atomic_fetch_add_explicit(&joins, 1, memory_order_relaxed);
				p->fn(p->ctx, k);
			}
		}
		if (atomic_fetch_sub(&p->active, 1) == 1) {
			pthread_mutex_lock(&p->lock);
			pthread_cond_signal(&p->idle);
			pthread_mutex_unlock(&p->lock);
		}
	}
	return NULL;
}

int strata_threads_start(unsigned jobs)
{
	pool *p = &the_pool;

	if (p->started || jobs < 2)
		return 0;
	if (jobs - 1 > MAX_THREADS)
		jobs = MAX_THREADS + 1;
	if (pthread_mutex_init(&p->lock, NULL) != 0)
		return STRATA_ENOMEM;
	if (pthread_cond_init(&p->wake, NULL) != 0) {
		pthread_mutex_destroy(&p->lock);
		return STRATA_ENOMEM;
	}
	if (pthread_cond_init(&p->idle, NULL) != 0) {
		pthread_cond_destroy(&p->wake);
		pthread_mutex_destroy(&p->lock);
		return STRATA_ENOMEM;
	}
	atomic_store(&p->quit, false);
	atomic_store(&p->state, 0);
	atomic_store(&p->active, 0);
	p->n = 0;
	p->started = true;
	for (unsigned t = 0; t + 1 < jobs; t++) {
		if (strata_pool_spawn(&p->tids[t], thread_main, p) != 0)
			break; /* fewer threads: steps wanting more start their own */
		p->n++;
	}
	return 0;
}

void strata_threads_retire(void)
{
	pool *p = &the_pool;

	if (!p->started)
		return;
	pthread_mutex_lock(&p->lock);
	atomic_store(&p->quit, true);
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
}

void strata_threads_stop(void)
{
	pool *p = &the_pool;

	if (!p->started)
		return;
	strata_threads_retire();
	for (unsigned t = 0; t < p->n; t++)
		pthread_join(p->tids[t], NULL);
	pthread_cond_destroy(&p->idle);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	p->n = 0;
	p->started = false;
}

bool strata_pool_run(unsigned want, strata_pool_fn fn, void *ctx)
{
	pool *p = &the_pool;

	if (want < 2 || !p->started || want - 1 > p->n || atomic_load(&p->quit))
		return false;
	if (atomic_flag_test_and_set(&p->busy))
		return false;
	p->fn = fn;
	p->ctx = ctx;
	p->want = want;
	atomic_store(&p->next_k, 1);
	pthread_mutex_lock(&p->lock);
	atomic_store(&p->state, ((atomic_load(&p->state) >> 1) + 1) << 1 | 1u);
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);

	fn(ctx, 0);

	atomic_fetch_and(&p->state, ~1u);
	if (atomic_load(&p->active)) {
		pthread_mutex_lock(&p->lock);
		while (atomic_load(&p->active))
			pthread_cond_wait(&p->idle, &p->lock);
		pthread_mutex_unlock(&p->lock);
	}
	atomic_flag_clear(&p->busy);
	return true;
}

unsigned long strata_pool_joins(void)
{
	return atomic_load(&joins);
}

/* ---- a step on the helpers, else on threads of its own ---- */

typedef struct step_thread {
	strata_pool_fn fn;
	void *ctx;
	unsigned k;
	pthread_t tid;
} step_thread;

static void *step_main(void *v)
{
	step_thread *t = v;

	t->fn(t->ctx, t->k);
	return NULL;
}

void strata_pool_step(unsigned want, bool helpers, strata_pool_fn fn, void *ctx)
{
	step_thread ts[MAX_THREADS];
	unsigned started = 0;

	if (want > MAX_THREADS + 1)
		want = MAX_THREADS + 1;
	if (want >= 2 && helpers && strata_pool_run(want, fn, ctx))
		return;
	for (unsigned k = 1; k < want; k++) {
		step_thread *t = &ts[started];
		t->fn = fn;
		t->ctx = ctx;
		t->k = k;
		if (strata_pool_spawn(&t->tid, step_main, t) != 0)
			break; /* fewer threads: the same result, later */
		started++;
	}
	fn(ctx, 0);
	for (unsigned i = 0; i < started; i++)
		pthread_join(ts[i].tid, NULL);
}
