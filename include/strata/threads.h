/*
 * threads.h - helper threads kept for the library's parallel steps.
 *
 * Parsing a directory's files (strata_limits.jobs), the last transforms
 * of a render and emitting it (strata_render_emit) run on several
 * threads.  Without this call each of those steps starts its threads and
 * joins them at its end.
 *
 * strata_threads_start(jobs) starts jobs - 1 threads at once, to be shared
 * by every later step that wants at most jobs threads (the caller's own
 * thread is always one of them); between steps they sleep, and a render
 * starts no thread of its own.  Each one parses a small built-in YAML
 * document as it starts (a fraction of a millisecond of its own time),
 * so its first real file finds the parser warm.  A step that wants more threads than were
 * started, or finds them busy with another step (two library users on two
 * threads), starts its own as before.  Output never depends on which
 * threads ran.
 *
 * Call start before the steps and stop after them, from one thread, while
 * no other thread is inside the library (the pool's size is read without
 * a lock).  A second start without a stop is a no-op; start again after a
 * stop to change the number.  The helpers read through a source's clones
 * (strata_source.clone), so a clone must not keep state per thread that
 * outlives its read.
 */
#ifndef STRATA_THREADS_H
#define STRATA_THREADS_H

#ifdef __cplusplus
extern "C" {
#endif

/* 0 (also when jobs < 2: nothing to start), or STRATA_ENOMEM. */
int strata_threads_start(unsigned jobs);
/*
 * No more steps for the helpers: they exit now, while the caller finishes
 * alone (a 100-app render's emission, on the caller's thread), instead of
 * being woken to exit at stop.  A step that comes anyway starts threads of
 * its own.  A no-op when none were started; stop still joins them.
 */
void strata_threads_retire(void);
/* Stop and join the threads; a no-op when none were started. */
void strata_threads_stop(void);

#ifdef __cplusplus
}
#endif

#endif
