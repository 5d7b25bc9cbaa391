/*
 * parse_main.c - strata-bench-parse: the floor as a process.  It reads
 * every *.yaml / *.yml below each DIR and parses it once with libfyaml's
 * event parser, and does nothing else: what any command-line tool that
 * reads these files must at least pay, process start included.
 * strata-bench runs it the way it runs strata (fork + exec), beside each
 * timed render, so a render can be compared with a process and not only
 * with passes inside the benchmark's own warm process.
 */
#include "floor.h"

#include <stdio.h>

int main(int argc, char **argv)
{
	blobset s = { 0 };
	size_t events;
	double cpu;
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: strata-bench-parse DIR...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++)
		if (blobset_add_dir(&s, argv[i])) {
			fprintf(stderr, "strata-bench-parse: cannot read %s\n", argv[i]);
			blobset_free(&s);
			return 1;
		}
	if (parse_once(&s, &events, &cpu) < 0) {
		fprintf(stderr, "strata-bench-parse: a file does not parse\n");
		rc = 1;
	}
	blobset_free(&s);
	return rc;
}
