/*
 * fuzz_vars.c - variable substitution.  The input's lines before the first
 * empty line define variables (NAME=value); the rest is the string to
 * substitute, twice: collecting undefined names, and failing on them.
 * Both runs must agree, and a string without "$" comes back unchanged.
 */
#include "fuzz.h"
#include "../tests/test_kv.h"

static void copy_vars(strata_kvlist *dst, const strata_kvlist *src)
{
	for (size_t i = 0; i < src->n; i++)
		kv_append(dst, src->items[i].key, strlen(src->items[i].key),
			  src->items[i].value, strlen(src->items[i].value), 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *end = s + size;
	strata_kvlist vars = { 0 }, v1 = { 0 }, v2 = { 0 };
	strata_buf out = STRATA_BUF_INIT, out2 = STRATA_BUF_INIT, undef = STRATA_BUF_INIT;
	bool changed = false, changed2 = false;
	int rc1, rc2;

	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *eq;
		size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);

		if (!nl || len == 0) {
			s = nl ? nl + 1 : s;
			break;
		}
		eq = memchr(s, '=', len);
		if (eq && !memchr(s, '\0', len))
			kv_append(&vars, s, (size_t)(eq - s), eq + 1,
				  len - (size_t)(eq - s) - 1, 0);
		s = nl + 1;
	}
	copy_vars(&v1, &vars);
	copy_vars(&v2, &vars);
	rc1 = strata_vars_subst(&out, s, (size_t)(end - s), &v1, &changed, &undef);
	rc2 = strata_vars_subst(&out2, s, (size_t)(end - s), &v2, &changed2, NULL);
	FUZZ_ASSERT(rc1 == 0 || rc1 == STRATA_EPARSE || rc1 == STRATA_ENOMEM);
	if (rc1 == 0 && undef.len == 0) {
		/* nothing undefined: both runs give the same text */
		FUZZ_ASSERT(rc2 == 0);
		FUZZ_ASSERT(out.len == out2.len && (!out.len || !memcmp(out.ptr, out2.ptr, out.len)));
	}
	if (rc1 == 0 && undef.len)
		FUZZ_ASSERT(rc2 == STRATA_EUNDEFVAR);
	if (rc1 == 0 && !memchr(s, '$', (size_t)(end - s))) {
		FUZZ_ASSERT(!changed);
		FUZZ_ASSERT(out.len == (size_t)(end - s) && (!out.len || !memcmp(out.ptr, s, out.len)));
	}
	strata_buf_free(&out);
	strata_buf_free(&out2);
	strata_buf_free(&undef);
	kv_free(&vars);
	kv_free(&v1);
	kv_free(&v2);
	return 0;
}
