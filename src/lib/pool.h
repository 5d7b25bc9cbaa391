/*
 * pool.h - run one parallel step on the threads strata_threads_start()
 * keeps waiting (include/strata/threads.h).
 */
#ifndef STRATA_POOL_H
#define STRATA_POOL_H

#include <pthread.h>
#include <stdbool.h>

typedef void (*strata_pool_fn)(void *ctx, unsigned k);

/*
 * Call fn(ctx, 0) on the caller's thread, and fn(ctx, k) for k = 1 ..
 * want - 1 on the pool's threads that arrive while fn(ctx, 0) runs: a
 * thread that arrives after it returned is turned away, so fn(ctx, 0)
 * must be able to do the whole step alone (threads take work from a
 * shared counter).  Returns true once every call made has returned.
 *
 * Returns false, calling nothing, when no pool runs, another step holds
 * it, or it has fewer than want - 1 threads; the caller then starts
 * threads of its own.
 */
bool strata_pool_run(unsigned want, strata_pool_fn fn, void *ctx);

/*
 * One parallel step on want threads, the caller's among them: on the
 * helpers when helpers is true and they can take it (strata_pool_run),
 * else on threads started for it (strata_pool_spawn) and joined at its
 * end.  Either way a k whose thread never came (a helper that arrived
 * late, a thread that could not start) is never called, so fn(ctx, 0)
 * must be able to do the whole step.  want < 2: fn(ctx, 0) alone.
 */
void strata_pool_step(unsigned want, bool helpers, strata_pool_fn fn, void *ctx);

/* Calls made on the pool's threads so far (for tests). */
unsigned long strata_pool_joins(void);

/*
 * pthread_create() that starts the thread on another CPU than the
 * caller's when it can (pool.c says why).  0 or -1.
 */
int strata_pool_spawn(pthread_t *tid, void *(*fn)(void *), void *arg);

#endif
