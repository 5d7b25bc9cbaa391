/*
 * gen.h - the synthetic config repository the benchmark renders.
 *
 * bench_gen() writes, under one directory, a strata repository of N
 * applications and E environments ("strata/") and the equivalent kustomize
 * layout ("kustomize/": base/kustomization.yaml listing every application,
 * overlays/<env>/kustomization.yaml with namespace, namePrefix, labels,
 * commonAnnotations, images and patches).  The output depends only on
 * (n_apps, n_envs, seed): the same arguments give the same bytes.
 */
#ifndef STRATA_BENCH_GEN_H
#define STRATA_BENCH_GEN_H

#include <stddef.h>
#include <stdint.h>

typedef struct bench_gen_stats {
	size_t base_bytes;       /* YAML under strata/base */
	size_t overlay_bytes;    /* YAML under every strata/overlays/<env> */
	size_t env0_overlay_bytes; /* YAML under strata/overlays/<first env> */
	size_t n_resources;      /* resources in the base (4 per application) */
	size_t n_patches;        /* patch documents over all environments */
	size_t n_files;          /* files written in strata/ */
} bench_gen_stats;

/* The name of environment i ("env-00", ...). Static buffer. */
const char *bench_env_name(int i);

/*
 * Write the two layouts under dir (created when missing; existing files
 * are overwritten, nothing else removed: give an empty or fresh dir).
 * Returns 0, or -1 with errno set and a message in msg.
 */
int bench_gen(const char *dir, int n_apps, int n_envs, uint64_t seed,
	      bench_gen_stats *stats, char *msg, size_t msglen);

#endif
