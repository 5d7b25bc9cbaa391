/*
 * slots.h - the open-addressing tables of 1 + index ids (0 = empty) that
 * doc.c (origins), transform.c (key sets) and vars.c (undefined names)
 * keep beside dense arrays of entries: where an id goes when a table is
 * filled anew at a new size.
 */
#ifndef STRATA_SLOTS_H
#define STRATA_SLOTS_H

#include <stddef.h>
#include <stdint.h>

/* The first empty slot for hash h, probing linearly (mask: size - 1). */
static inline size_t strata_slot_empty(const uint32_t *slots, size_t mask,
				       uint64_t h)
{
	size_t j = (size_t)h & mask;

	while (slots[j])
		j = (j + 1) & mask;
	return j;
}

#endif
