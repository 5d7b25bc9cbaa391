/*
 * fuzz_yaml.c - YAML load + emit round trip: whatever loads must emit to
 * YAML that loads again to the same model (strata_node_equal), and
 * emitting that must give the same bytes (the emitter is a fixed point).
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	strata_arena *a = strata_arena_new();
	strata_yaml_doc *docs = NULL, *again = NULL;
	size_t n = 0, n2 = 0;
	strata_limits lim;
	strata_error err;

	if (!a)
		return 0;
	fuzz_limits(&lim);
	strata_error_clear(&err);
	if (strata_yaml_load(&docs, &n, a, "fuzz.yaml", (const char *)data, size, &lim,
			     &err) == 0) {
		for (size_t i = 0; i < n; i++) {
			strata_buf out = STRATA_BUF_INIT, out2 = STRATA_BUF_INIT;
			int rc;

			FUZZ_ASSERT(docs[i].root != NULL);
			/*
			 * Documents are emitted without "---", and libfyaml 0.7.12
			 * cannot read a root scalar with a tag and a block style
			 * ("!t |") without one.  Resources are mappings; a root
			 * scalar is refused as "not a mapping" anyway.
			 */
			if (docs[i].root->type == STRATA_NODE_SCALAR)
				continue;
			FUZZ_ASSERT(strata_yaml_emit(&out, docs[i].root) == 0);
			/* expanded aliases may make the text larger than the input */
			lim.max_alias_nodes = 0;
			lim.max_file = out.len + 1;
			strata_error_clear(&err);
			rc = strata_yaml_load(&again, &n2, a, "emitted.yaml", out.ptr, out.len,
					      &lim, &err);
			if (rc != 0) {
				fprintf(stderr, "emitted YAML does not re-load: %s\n---\n%s",
					err.msg, out.ptr);
				FUZZ_ASSERT(rc == 0);
			}
			FUZZ_ASSERT(n2 == 1);
			if (!strata_node_equal(docs[i].root, again[0].root)) {
				fprintf(stderr, "re-loaded model differs:\n%s", out.ptr);
				FUZZ_ASSERT(strata_node_equal(docs[i].root, again[0].root));
			}
			FUZZ_ASSERT(strata_yaml_emit(&out2, again[0].root) == 0);
			FUZZ_ASSERT(out.len == out2.len && !memcmp(out.ptr, out2.ptr, out.len));
			strata_buf_free(&out);
			strata_buf_free(&out2);
			fuzz_limits(&lim);
		}
	}
	strata_arena_free(a);
	return 0;
}
