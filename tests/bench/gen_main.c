/*
 * gen_main.c - strata-bench-gen: write the benchmark's synthetic config
 * repository (strata/ and kustomize/ layouts) without measuring anything,
 * to look at it or to profile strata on it by hand.
 */
#include "gen.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: strata-bench-gen [-n APPS] [-e ENVS] [--seed S] DIR\n\n"
		   "Write DIR/strata (a strata config repo of APPS applications,\n"
		   "4 resources each, and ENVS environments) and DIR/kustomize (the\n"
		   "equivalent kustomize layout).  Defaults: -n 100 -e 1 --seed 1.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "apps", required_argument, NULL, 'n' },
		{ "envs", required_argument, NULL, 'e' },
		{ "seed", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bench_gen_stats st;
	char msg[512];
	int n = 100, e = 1, c;
	unsigned long long seed = 1;

	while ((c = getopt_long(argc, argv, "n:e:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n': n = atoi(optarg); break;
		case 'e': e = atoi(optarg); break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return 2;
	}
	if (bench_gen(argv[optind], n, e, seed, &st, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "strata-bench-gen: %s\n", msg);
		return 1;
	}
	printf("%zu resources, %zu patches, %zu files; base %.2f MB, overlays %.2f MB\n",
	       st.n_resources, st.n_patches, st.n_files, st.base_bytes / 1e6,
	       st.overlay_bytes / 1e6);
	return 0;
}
