/*
 * git_dl.c - load libgit2 on first use (see git_dl.h for why).
 *
 * The library is opened by the SONAME of the one the build found
 * (STRATA_GIT_SONAME, e.g. "libgit2.so.1.5"), so the ABI is the one the
 * headers describe: first at the path where the build found it
 * (STRATA_GIT_PATH: a libgit2 in another prefix is the one used, as linking
 * it would have made it), then wherever the dynamic loader looks.
 * strata_git_library() names the one file to open instead (the CLI's
 * STRATA_LIBGIT2; tests use a missing file to reach the failure path).
 * The handle is never closed:
 * libgit2 keeps global state (its init count, registered transports) for
 * the life of the process, and a handle kept open is what linking it would
 * have done anyway.
 */
#define STRATA_GIT_DL_TABLE
#include "git_dl.h"
#include "strata/git.h"

#ifdef STRATA_GIT_DLOPEN

#ifndef STRATA_GIT_PATH
#define STRATA_GIT_PATH ""
#endif

#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct strata_git_fns table;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static atomic_int state;         /* 0 not tried, 1 loaded, -1 failed */
static char why[512];            /* the failure, written once under `once` */
static char chosen[4096];        /* strata_git_library(), before `once` */
static bool chosen_too_long;     /* ... which did not fit: opens nothing */

void strata_git_library(const char *file)
{
	if (atomic_load(&state) != 0)
		return;
	if (!file)
		file = "";
	/* cut short, the name could be another file that exists */
	chosen_too_long = strlen(file) >= sizeof(chosen);
	snprintf(chosen, sizeof(chosen), "%s", chosen_too_long ? "" : file);
}

static void load(void)
{
	const char *name = chosen[0] ? chosen : STRATA_GIT_SONAME;
	void *h = NULL;
	void *sym;

	if (chosen_too_long) {
		snprintf(why, sizeof(why), "cannot load libgit2: the file name "
			 "given (STRATA_LIBGIT2) is too long");
		atomic_store(&state, -1);
		return;
	}
	if (chosen[0]) {
		h = dlopen(chosen, RTLD_NOW | RTLD_LOCAL);
	} else {
		if (STRATA_GIT_PATH[0])
			h = dlopen(STRATA_GIT_PATH, RTLD_NOW | RTLD_LOCAL);
		if (!h)
			h = dlopen(STRATA_GIT_SONAME, RTLD_NOW | RTLD_LOCAL);
	}
	if (!h) {
		const char *e = dlerror();

		snprintf(why, sizeof(why), "cannot load libgit2: %.400s",
			 e ? e : name);
		atomic_store(&state, -1);
		return;
	}
	/* memcpy: ISO C has no conversion from void * to a function pointer. */
#define STRATA_GIT_RESOLVE(f)                                                  \
	if (!(sym = dlsym(h, #f))) {                                           \
		snprintf(why, sizeof(why), "cannot load libgit2: %.300s has no %s", \
			 name, #f);                                            \
		atomic_store(&state, -1);                                      \
		return;                                                        \
	}                                                                      \
	memcpy(&table.f, &sym, sizeof(sym));
	STRATA_GIT_FUNCTIONS(STRATA_GIT_RESOLVE)
#undef STRATA_GIT_RESOLVE
	atomic_store(&state, 1);
}

int strata_git_init(strata_error *err)
{
	pthread_once(&once, load);
	if (atomic_load(&state) < 0)
		return strata_error_set(err, STRATA_EGIT, NULL, 0, 0, "%s", why);
	table.git_libgit2_init();
	return 0;
}

int strata_git_check(strata_error *err)
{
	int rc = strata_git_init(err);

	if (rc == 0)
		table.git_libgit2_shutdown();
	return rc;
}

const struct strata_git_fns *strata_git_fns(void)
{
	if (atomic_load_explicit(&state, memory_order_acquire) != 1) {
		fputs("strata: internal error: libgit2 called before "
		      "strata_git_init()\n", stderr);
		abort();
	}
	return &table;
}

#else /* linked with -lgit2 */

int strata_git_init(strata_error *err)
{
	(void)err;
	git_libgit2_init();
	return 0;
}

int strata_git_check(strata_error *err)
{
	(void)err;
	return 0;
}

void strata_git_library(const char *file)
{
	(void)file;
}

#endif
