/*
 * fuzz_diff.c - resource-aware diff of two documents sets: the input is
 * the old and the new side separated by a "---%" line.  The last byte
 * picks options (pairing across environments, exact, ignore order, colour,
 * context).  Every report format must be produced, and a side compared
 * with itself must show no difference.
 */
#include "fuzz.h"
#include "strata/diff.h"

/* Resources of the documents that are resources (others are skipped). */
static size_t load_side(strata_arena *a, const char *file, const char *s, size_t len,
			const strata_resource *const **out)
{
	strata_yaml_doc *docs = NULL;
	size_t n = 0, k = 0;
	strata_limits lim;
	strata_error err;
	strata_resource *res;
	const strata_resource **ptrs;

	*out = NULL;
	fuzz_limits(&lim);
	strata_error_clear(&err);
	if (strata_yaml_load(&docs, &n, a, file, s, len, &lim, &err) != 0 || !n)
		return 0;
	res = strata_arena_alloc(a, n * sizeof(*res));
	ptrs = strata_arena_alloc(a, n * sizeof(*ptrs));
	if (!res || !ptrs)
		return 0;
	for (size_t i = 0; i < n; i++) {
		strata_error_clear(&err);
		if (strata_resource_init(&res[k], a, docs[i].root, file, docs[i].line,
					 docs[i].col, &err) == 0) {
			ptrs[k] = &res[k];
			k++;
		}
	}
	*out = ptrs;
	return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	strata_arena *a = strata_arena_new();
	const char *as, *bs;
	size_t alen, blen;
	strata_diff_input old_side, new_side;
	strata_diff_opts opts;
	strata_diff *d = NULL, *same = NULL;
	strata_error err;
	uint8_t flags = size ? data[size - 1] : 0;

	if (!a)
		return 0;
	fuzz_split(data, size, &as, &alen, &bs, &blen);
	if (!bs)
		goto done;
	memset(&old_side, 0, sizeof(old_side));
	memset(&new_side, 0, sizeof(new_side));
	memset(&opts, 0, sizeof(opts));
	old_side.label = "old";
	new_side.label = "new";
	old_side.n = load_side(a, "old.yaml", as, alen, &old_side.res);
	new_side.n = load_side(a, "new.yaml", bs, blen, &new_side.res);
	if (flags & 1) {
		old_side.ns = "prod";
		new_side.ns = "staging";
		old_side.prefix = "p-";
		new_side.suffix = "-s";
	}
	opts.exact = flags & 2;
	opts.ignore_order = flags & 4;
	strata_error_clear(&err);
	if (strata_diff_compute(&d, &old_side, &new_side, &opts, &err) != 0)
		goto done;
	for (int fmt = STRATA_DIFF_TEXT; fmt <= STRATA_DIFF_MARKDOWN; fmt++) {
		strata_diff_fmt f = { fmt, (flags & 8) != 0, false, (flags >> 4) - 1 };
		strata_buf out = STRATA_BUF_INIT;
		const strata_diff *const ds[] = { d };

		FUZZ_ASSERT(strata_diff_format_report(&out, ds, 1, &f) == 0);
		strata_buf_free(&out);
	}
	/* a side against itself */
	if (strata_diff_compute(&same, &old_side, &old_side, &opts, &err) == 0) {
		FUZZ_ASSERT(!strata_diff_different(same));
		strata_diff_free(same);
	}
	strata_diff_free(d);
done:
	strata_arena_free(a);
	return 0;
}
