/*
 * poison.h - mark memory unusable under AddressSanitizer.
 *
 * Memory strata keeps for reuse instead of freeing (arena chunks in a
 * spare store, free huge pages) is poisoned while it waits, so a read
 * through a freed render still fails as it would after free().  Without
 * ASan the macros do nothing.
 */
#ifndef STRATA_POISON_H
#define STRATA_POISON_H

#if defined(__SANITIZE_ADDRESS__)
#define STRATA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STRATA_ASAN 1
#endif
#endif

#ifdef STRATA_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#endif
