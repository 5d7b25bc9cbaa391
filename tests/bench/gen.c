/*
 * gen.c - writes the benchmark's synthetic config repository.
 *
 * Every application is one multi-document file in the base (Deployment
 * with two containers, Service, ConfigMap with a multi-line value,
 * ServiceAccount), written byte-identically into strata/base/apps/ and
 * kustomize/base/apps/.  Each environment patches about half of the
 * Deployments (replicas, an env var, a container's memory limit), one
 * file per patch, again identical in both layouts; strata.ini and the
 * kustomization.yaml files express the same namespace, prefix, labels,
 * annotations and images.  A splitmix64 generator seeded by the caller
 * makes every choice, so the output is reproducible byte for byte.
 */
#include "gen.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct sbuf {
	char *p;
	size_t n, cap;
	int oom;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void sb_printf(sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int len;

	if (b->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->n;

		va_start(ap, fmt);
		len = vsnprintf(b->p ? b->p + b->n : NULL, room, fmt, ap);
		va_end(ap);
		if (len < 0) {
			b->oom = 1;
			return;
		}
		if ((size_t)len < room) {
			b->n += (size_t)len;
			return;
		}
		size_t ncap = b->cap ? b->cap * 2 : 4096;
		while (ncap < b->n + (size_t)len + 1)
			ncap *= 2;
		char *np = realloc(b->p, ncap);
		if (!np) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned rng_below(uint64_t *s, unsigned n)
{
	return (unsigned)(rng_next(s) % n);
}

const char *bench_env_name(int i)
{
	static char name[32];

	snprintf(name, sizeof(name), "env-%02d", i);
	return name;
}

/* mkdir -p for the parent directories of path. */
static int mkparents(const char *path)
{
	char tmp[4096];
	size_t len = strlen(path);

	if (len >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0777) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

typedef struct gen_ctx {
	const char *dir;
	char *msg;
	size_t msglen;
	bench_gen_stats *st;
	int failed;
} gen_ctx;

/* Write b to dir/rel; count it when counter is not NULL. */
static void put(gen_ctx *g, const char *rel, const sbuf *b, size_t *counter)
{
	char path[4096];
	FILE *f;

	if (g->failed)
		return;
	if (b->oom) {
		snprintf(g->msg, g->msglen, "out of memory");
		errno = ENOMEM;
		g->failed = 1;
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", g->dir, rel);
	if (mkparents(path) < 0 || !(f = fopen(path, "w"))) {
		snprintf(g->msg, g->msglen, "cannot create '%s': %s", path,
			 strerror(errno));
		g->failed = 1;
		return;
	}
	if (fwrite(b->p, 1, b->n, f) != b->n || fclose(f) != 0) {
		snprintf(g->msg, g->msglen, "cannot write '%s': %s", path,
			 strerror(errno));
		g->failed = 1;
		return;
	}
	if (counter)
		*counter += b->n;
}

static const char *const tiers[] = { "backend", "frontend", "worker" };

static void gen_app(sbuf *b, int i, uint64_t *rng)
{
	char name[32];
	int team = i % 20;
	const char *tier = tiers[rng_below(rng, 3)];
	unsigned minor = rng_below(rng, 10), patch = rng_below(rng, 40);
	unsigned replicas = 1 + rng_below(rng, 3);
	unsigned cpu = 50 * (1 + rng_below(rng, 8));
	unsigned mem = 64u << rng_below(rng, 4);
	unsigned pool = 4 + rng_below(rng, 60);
	unsigned long long rev = (unsigned long long)rng_next(rng) & 0xffffffffffULL;

	snprintf(name, sizeof(name), "app-%05d", i);
	sb_printf(b,
		  "apiVersion: apps/v1\n"
		  "kind: Deployment\n"
		  "metadata:\n"
		  "  name: %s\n"
		  "  labels:\n"
		  "    app.kubernetes.io/name: %s\n"
		  "    app.kubernetes.io/part-of: bench\n"
		  "    tier: %s\n"
		  "  annotations:\n"
		  "    example.com/revision: \"%010llx\"\n"
		  "spec:\n"
		  "  replicas: %u\n"
		  "  revisionHistoryLimit: 5\n"
		  "  selector:\n"
		  "    matchLabels:\n"
		  "      app.kubernetes.io/name: %s\n"
		  "  strategy:\n"
		  "    type: RollingUpdate\n"
		  "    rollingUpdate:\n"
		  "      maxSurge: 25%%\n"
		  "      maxUnavailable: 0\n"
		  "  template:\n"
		  "    metadata:\n"
		  "      labels:\n"
		  "        app.kubernetes.io/name: %s\n"
		  "        tier: %s\n"
		  "      annotations:\n"
		  "        prometheus.io/scrape: \"true\"\n"
		  "        prometheus.io/port: \"9090\"\n"
		  "    spec:\n"
		  "      serviceAccountName: %s\n"
		  "      terminationGracePeriodSeconds: 30\n"
		  "      containers:\n"
		  "      - name: app\n"
		  "        image: example.com/team-%02d/api:1.%u.%u\n"
		  "        imagePullPolicy: IfNotPresent\n"
		  "        args:\n"
		  "        - --config=/etc/app/app.properties\n"
		  "        - --port=8080\n"
		  "        ports:\n"
		  "        - name: http\n"
		  "          containerPort: 8080\n"
		  "          protocol: TCP\n"
		  "        - name: metrics\n"
		  "          containerPort: 9090\n"
		  "          protocol: TCP\n"
		  "        env:\n"
		  "        - name: LOG_LEVEL\n"
		  "          value: info\n"
		  "        - name: APP_NAME\n"
		  "          value: %s\n"
		  "        - name: GOMAXPROCS\n"
		  "          value: \"2\"\n"
		  "        - name: DB_HOST\n"
		  "          valueFrom:\n"
		  "            configMapKeyRef:\n"
		  "              name: %s-config\n"
		  "              key: DB_HOST\n"
		  "        envFrom:\n"
		  "        - configMapRef:\n"
		  "            name: %s-config\n"
		  "        volumeMounts:\n"
		  "        - name: config\n"
		  "          mountPath: /etc/app\n"
		  "          readOnly: true\n"
		  "        - name: cache\n"
		  "          mountPath: /var/cache/app\n"
		  "        resources:\n"
		  "          requests:\n"
		  "            cpu: %um\n"
		  "            memory: %uMi\n"
		  "          limits:\n"
		  "            cpu: %um\n"
		  "            memory: %uMi\n"
		  "        readinessProbe:\n"
		  "          httpGet:\n"
		  "            path: /healthz\n"
		  "            port: http\n"
		  "          periodSeconds: 10\n"
		  "      - name: proxy\n"
		  "        image: nginx:1.25.2\n"
		  "        ports:\n"
		  "        - name: proxy\n"
		  "          containerPort: 8443\n"
		  "          protocol: TCP\n"
		  "        env:\n"
		  "        - name: UPSTREAM\n"
		  "          value: 127.0.0.1:8080\n"
		  "        volumeMounts:\n"
		  "        - name: cache\n"
		  "          mountPath: /var/cache/nginx\n"
		  "        resources:\n"
		  "          requests:\n"
		  "            cpu: 50m\n"
		  "            memory: 32Mi\n"
		  "          limits:\n"
		  "            cpu: 200m\n"
		  "            memory: 64Mi\n"
		  "      volumes:\n"
		  "      - name: config\n"
		  "        configMap:\n"
		  "          name: %s-config\n"
		  "      - name: cache\n"
		  "        emptyDir: {}\n",
		  name, name, tier, rev, replicas, name, name, tier, name,
		  team, minor, patch, name, name, name, cpu, mem, cpu * 4,
		  mem * 2, name);
	sb_printf(b,
		  "---\n"
		  "apiVersion: v1\n"
		  "kind: Service\n"
		  "metadata:\n"
		  "  name: %s\n"
		  "  labels:\n"
		  "    app.kubernetes.io/name: %s\n"
		  "spec:\n"
		  "  type: ClusterIP\n"
		  "  selector:\n"
		  "    app.kubernetes.io/name: %s\n"
		  "  ports:\n"
		  "  - name: http\n"
		  "    port: 80\n"
		  "    targetPort: http\n"
		  "    protocol: TCP\n"
		  "  - name: metrics\n"
		  "    port: 9090\n"
		  "    targetPort: metrics\n"
		  "    protocol: TCP\n",
		  name, name, name);
	sb_printf(b,
		  "---\n"
		  "apiVersion: v1\n"
		  "kind: ConfigMap\n"
		  "metadata:\n"
		  "  name: %s-config\n"
		  "  labels:\n"
		  "    app.kubernetes.io/name: %s\n"
		  "data:\n"
		  "  DB_HOST: db-%d.example.internal\n"
		  "  CACHE_TTL: \"%u\"\n"
		  "  app.properties: |\n"
		  "    # %s settings\n"
		  "    server.port=8080\n"
		  "    server.shutdown=graceful\n"
		  "    db.pool.max=%u\n"
		  "    db.pool.idle-timeout=30s\n"
		  "    cache.enabled=true\n"
		  "    feature.flags=alpha,beta\n"
		  "    tracing.sample-rate=0.%02u\n",
		  name, name, team, 60 * (1 + rng_below(rng, 10)), name, pool,
		  rng_below(rng, 100));
	sb_printf(b,
		  "---\n"
		  "apiVersion: v1\n"
		  "kind: ServiceAccount\n"
		  "metadata:\n"
		  "  name: %s\n"
		  "  labels:\n"
		  "    app.kubernetes.io/name: %s\n"
		  "automountServiceAccountToken: false\n",
		  name, name);
}

static void gen_patch(sbuf *b, int i, int env, uint64_t *rng)
{
	sb_printf(b,
		  "apiVersion: apps/v1\n"
		  "kind: Deployment\n"
		  "metadata:\n"
		  "  name: app-%05d\n"
		  "spec:\n"
		  "  replicas: %u\n"
		  "  template:\n"
		  "    spec:\n"
		  "      containers:\n"
		  "      - name: app\n"
		  "        env:\n"
		  "        - name: LOG_LEVEL\n"
		  "          value: debug\n"
		  "        - name: ENVIRONMENT\n"
		  "          value: %s\n"
		  "        resources:\n"
		  "          limits:\n"
		  "            memory: %uMi\n",
		  i, 2 + rng_below(rng, 6), bench_env_name(env),
		  256u << rng_below(rng, 3));
}

int bench_gen(const char *dir, int n_apps, int n_envs, uint64_t seed,
	      bench_gen_stats *stats, char *msg, size_t msglen)
{
	gen_ctx g = { dir, msg, msglen, stats, 0 };
	sbuf b = { 0 }, kb = { 0 }, ini = { 0 };
	uint64_t rng = seed;
	char rel[256];

	memset(stats, 0, sizeof(*stats));
	if (n_apps < 1 || n_apps > 99999 || n_envs < 1 || n_envs > 99) {
		snprintf(msg, msglen, "sizes out of range");
		errno = EINVAL;
		return -1;
	}
	/* Base: one multi-document file per application, in both layouts. */
	sb_printf(&kb, "apiVersion: kustomize.config.k8s.io/v1beta1\n"
		       "kind: Kustomization\n"
		       "resources:\n");
	for (int i = 0; i < n_apps && !g.failed; i++) {
		b.n = 0;
		gen_app(&b, i, &rng);
		snprintf(rel, sizeof(rel), "strata/base/apps/app-%05d.yaml", i);
		put(&g, rel, &b, &stats->base_bytes);
		snprintf(rel, sizeof(rel), "kustomize/base/apps/app-%05d.yaml", i);
		put(&g, rel, &b, NULL);
		sb_printf(&kb, "- apps/app-%05d.yaml\n", i);
		stats->n_resources += 4;
		stats->n_files++;
	}
	put(&g, "kustomize/base/kustomization.yaml", &kb, NULL);

	sb_printf(&ini, "; generated by strata-bench: %d applications, %d "
			"environments, seed %llu\n"
			"[strata]\nbase = base\n",
		  n_apps, n_envs, (unsigned long long)seed);
	for (int e = 0; e < n_envs && !g.failed; e++) {
		const char *env = bench_env_name(e);
		int team = e % 20;
		unsigned tag = 3 + (unsigned)e;

		sb_printf(&ini,
			  "\n[env \"%s\"]\n"
			  "namespace = bench-%s\n"
			  "name_prefix = e%02d-\n"
			  "label.env = %s\n"
			  "label.app.kubernetes.io/managed-by = strata-bench\n"
			  "annotation.example.com/owner = team-%02d\n"
			  "annotation.example.com/oncall = ops-%02d@example.com\n"
			  "image.nginx = registry.example.com/mirror/nginx:1.25.%u\n"
			  "image.example.com/team-%02d/api = registry.example.com/team-%02d/api:2.0.%u\n",
			  env, env, e, env, team, e, tag, team, team, tag);

		kb.n = 0;
		sb_printf(&kb,
			  "apiVersion: kustomize.config.k8s.io/v1beta1\n"
			  "kind: Kustomization\n"
			  "resources:\n"
			  "- ../../base\n"
			  "namespace: bench-%s\n"
			  "namePrefix: e%02d-\n"
			  "labels:\n"
			  "- pairs:\n"
			  "    env: %s\n"
			  "    app.kubernetes.io/managed-by: strata-bench\n"
			  "  includeTemplates: true\n"
			  "commonAnnotations:\n"
			  "  example.com/owner: team-%02d\n"
			  "  example.com/oncall: ops-%02d@example.com\n"
			  "images:\n"
			  "- name: nginx\n"
			  "  newName: registry.example.com/mirror/nginx\n"
			  "  newTag: 1.25.%u\n"
			  "- name: example.com/team-%02d/api\n"
			  "  newName: registry.example.com/team-%02d/api\n"
			  "  newTag: 2.0.%u\n"
			  "patches:\n",
			  env, e, env, team, e, tag, team, team, tag);
		for (int i = 0; i < n_apps && !g.failed; i++) {
			if (!(rng_next(&rng) & 1))
				continue;
			b.n = 0;
			gen_patch(&b, i, e, &rng);
			snprintf(rel, sizeof(rel),
				 "strata/overlays/%s/patches/app-%05d.yaml", env, i);
			put(&g, rel, &b, &stats->overlay_bytes);
			if (e == 0)
				stats->env0_overlay_bytes += b.n;
			snprintf(rel, sizeof(rel),
				 "kustomize/overlays/%s/patches/app-%05d.yaml", env, i);
			put(&g, rel, &b, NULL);
			sb_printf(&kb, "- path: patches/app-%05d.yaml\n", i);
			stats->n_patches++;
			stats->n_files++;
		}
		snprintf(rel, sizeof(rel), "kustomize/overlays/%s/kustomization.yaml",
			 env);
		put(&g, rel, &kb, NULL);
	}
	put(&g, "strata/strata.ini", &ini, NULL);
	stats->n_files++;

	free(b.p);
	free(kb.p);
	free(ini.p);
	return g.failed ? -1 : 0;
}
