/*
 * floor.c - the benchmark's floor (floor.h): read the files a render
 * reads, and parse them with libfyaml's event parser alone.
 */
#define _XOPEN_SOURCE 700
#include "floor.h"

#include <libfyaml.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static blobset *walk_target;

static int walk_cb(const char *path, const struct stat *sb, int type,
		   struct FTW *ftw)
{
	size_t len = strlen(path);
	blobset *s = walk_target;
	FILE *f;

	(void)ftw;
	if (type != FTW_F)
		return 0;
	if (!(len > 5 && !strcmp(path + len - 5, ".yaml")) &&
	    !(len > 4 && !strcmp(path + len - 4, ".yml")))
		return 0;
	if (s->n == s->cap) {
		size_t ncap = s->cap ? 2 * s->cap : 1024;
		blob *ni = realloc(s->items, ncap * sizeof(*ni));

		if (!ni)
			return -1;
		s->items = ni;
		s->cap = ncap;
	}
	blob *b = &s->items[s->n];
	b->len = (size_t)sb->st_size;
	b->data = malloc(b->len + 1);
	if (!b->data || !(f = fopen(path, "rb"))) {
		free(b->data);
		return -1;
	}
	if (fread(b->data, 1, b->len, f) != b->len) {
		fclose(f);
		free(b->data);
		return -1;
	}
	fclose(f);
	s->n++;
	s->bytes += b->len;
	return 0;
}

int blobset_add_dir(blobset *s, const char *dir)
{
	walk_target = s;
	return nftw(dir, walk_cb, 32, FTW_PHYS);
}

void blobset_free(blobset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->items[i].data);
	free(s->items);
	memset(s, 0, sizeof(*s));
}

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double parse_once(const blobset *s, size_t *events, double *cpu)
{
	struct fy_parse_cfg cfg = { .flags = FYPCF_QUIET | FYPCF_JSON_NONE };
	double t0 = bench_now(), c0 = cpu_now();

	*events = 0;
	for (size_t i = 0; i < s->n; i++) {
		struct fy_parser *p = fy_parser_create(&cfg);
		struct fy_event *e;

		if (!p || fy_parser_set_string(p, s->items[i].data, s->items[i].len)) {
			fy_parser_destroy(p);
			return -1;
		}
		while ((e = fy_parser_parse(p))) {
			(*events)++;
			fy_parser_event_free(p, e);
		}
		if (fy_parser_get_stream_error(p)) {
			fy_parser_destroy(p);
			return -1;
		}
		fy_parser_destroy(p);
	}
	*cpu = cpu_now() - c0;
	return bench_now() - t0;
}
