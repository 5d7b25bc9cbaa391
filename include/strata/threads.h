/*
 * threads.h - helper threads kept running for the library's parallel steps.
 *
 * Parsing a directory's files (strata_limits.jobs) and emitting a render
 * (strata_render_emit) run on several threads.  Without this call each of
 * those steps starts its threads and joins them at its end.  A thread
 * started that way may take milliseconds before it first runs (on a
 * virtual machine whose other CPU is idle, the time that CPU takes to wake
 * up), which at a hundred files is a large part of the whole render.
 *
 * strata_threads_start(jobs) starts jobs - 1 threads at once, to be shared
 * by every later step that wants at most jobs threads (the caller's own
 * thread is always one of them).  Between steps they wait briefly on the
 * CPU (about 2 ms) before they sleep, so a step that follows another
 * finds them awake.  A step that wants more threads than were started, or
 * finds them busy with another step (two library users on two threads),
 * starts its own as before.  Output never depends on which threads ran.
 *
 * Call start before the steps and stop after them, from one thread, not
 * while a step runs.  A second start without a stop is a no-op.
 */
#ifndef STRATA_THREADS_H
#define STRATA_THREADS_H

#ifdef __cplusplus
extern "C" {
#endif

/* 0 (also when jobs < 2: nothing to start), or STRATA_ENOMEM. */
int strata_threads_start(unsigned jobs);
/* Stop and join the threads; a no-op when none were started. */
void strata_threads_stop(void);

#ifdef __cplusplus
}
#endif

#endif
