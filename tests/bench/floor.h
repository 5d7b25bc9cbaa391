/*
 * floor.h - the benchmark's floor: libfyaml's event parse of the bytes a
 * render reads, and nothing else.  Shared by strata-bench (in-process
 * passes) and strata-bench-parse (the same pass as a process of its own).
 */
#ifndef STRATA_BENCH_FLOOR_H
#define STRATA_BENCH_FLOOR_H

#include <stddef.h>

typedef struct blob {
	char *data;
	size_t len;
} blob;

typedef struct blobset {
	blob *items;
	size_t n, cap;
	size_t bytes;
} blobset;

/* CLOCK_MONOTONIC in seconds. */
double bench_now(void);

/* Read every *.yaml / *.yml file below dir into s; 0 or -1. */
int blobset_add_dir(blobset *s, const char *dir);
void blobset_free(blobset *s);

/*
 * One pass of the bare event parser over every blob (a parser per blob,
 * as strata has one per file); returns seconds, with the CPU seconds in
 * *cpu and the events in *events, or a negative value when a blob does
 * not parse.
 */
double parse_once(const blobset *s, size_t *events, double *cpu);

#endif
