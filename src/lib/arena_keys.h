/*
 * arena_keys.h - the slot where an arena keeps its table of shared map
 * keys (doc.c: strata_node_key).  The table is one malloc'ed block that
 * strata_arena_free() releases with free().
 */
#ifndef STRATA_ARENA_KEYS_H
#define STRATA_ARENA_KEYS_H

#include "strata/common.h"

void **strata_arena_keytab(strata_arena *a);

#endif
