/*
 * fuzz_merge.c - strategic merge of two documents: the input is a target
 * and a patch separated by a "---%" line.  The target's apiVersion/kind
 * choose the merge keys when it has them; otherwise the first byte picks a
 * kind the schema knows.  The merge must not crash, must leave the patch
 * untouched, and what it produces must emit to YAML that loads again.
 */
#include "fuzz.h"

static const struct {
	const char *group, *kind;
} kinds[] = {
	{ "apps", "Deployment" }, { "", "Service" }, { "", "ConfigMap" },
	{ "apps", "StatefulSet" }, { "batch", "CronJob" }, { "", "Pod" },
	{ "networking.k8s.io", "Ingress" }, { "example.com", "Widget" },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	strata_arena *a = strata_arena_new();
	strata_yaml_doc *t = NULL, *p = NULL, *back = NULL;
	size_t nt = 0, np = 0, nb = 0, alen, blen;
	const char *as, *bs, *group, *kind;
	strata_limits lim;
	strata_error err;
	bool del = false;

	if (!a)
		return 0;
	fuzz_split(data, size, &as, &alen, &bs, &blen);
	fuzz_limits(&lim);
	strata_error_clear(&err);
	if (!bs || strata_yaml_load(&t, &nt, a, "target.yaml", as, alen, &lim, &err) ||
	    strata_yaml_load(&p, &np, a, "patch.yaml", bs, blen, &lim, &err) || !nt || !np)
		goto done;
	{
		size_t k = size ? data[0] % (sizeof(kinds) / sizeof(kinds[0])) : 0;
		strata_resource r;
		strata_error e2;
		strata_node *patch_copy = strata_node_copy(a, p[0].root);

		group = kinds[k].group;
		kind = kinds[k].kind;
		strata_error_clear(&e2);
		if (strata_resource_init(&r, a, t[0].root, "target.yaml", 1, 1, &e2) == 0) {
			group = r.group;
			kind = r.kind;
		}
		FUZZ_ASSERT(patch_copy != NULL);
		if (strata_merge_patch(a, t[0].root, p[0].root, group, kind, &del, &err) == 0) {
			strata_buf out = STRATA_BUF_INIT;

			FUZZ_ASSERT(strata_yaml_emit(&out, t[0].root) == 0);
			lim.max_alias_nodes = 0;
			lim.max_file = out.len + 1;
			lim.max_depth = 100000;
			strata_error_clear(&err);
			if (strata_yaml_load(&back, &nb, a, "merged.yaml", out.ptr, out.len, &lim,
					     &err) != 0) {
				fprintf(stderr, "merged YAML does not re-load: %s\n%s", err.msg,
					out.ptr);
				abort();
			}
			strata_buf_free(&out);
		}
		/* the patch is read, never changed */
		FUZZ_ASSERT(strata_node_equal(patch_copy, p[0].root));
	}
done:
	strata_arena_free(a);
	return 0;
}
