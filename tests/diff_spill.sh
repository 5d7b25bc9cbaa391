#!/usr/bin/env bash
# diff_spill.sh - a report of several comparisons bigger than diff keeps
# in memory (8 MiB, src/cli/cmd_diff.c) goes through a temporary file (in
# $TMPDIR) and still comes out whole and in order.
#
# usage: diff_spill.sh STRATA STRATA_BENCH_GEN
#
# `diff --all --format patch` of a generated repository where no
# environment is published is every rendered file as a new file (16 MB
# for 1,000 applications and 3 environments).  Applied with git apply to
# an empty directory it must give exactly what `render --all --out`
# writes (but kustomization.yaml, which diff does not compare); and a
# write error at the end is exit 6, as any other.  `diff ENV1 ENV2` keeps
# its first side as text (strata_diff_side_spill), past 1 MiB in a file in
# $TMPDIR too, and a published side is read as text; when that file
# cannot be made, the sides stay in memory (a warning, the same report).
set -u
strata=$1
gen=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/strata-diffspill.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$gen" -n 1000 -e 3 "$work/g" >/dev/null || fail "generator"
repo="$work/g/strata"
(cd "$repo" && git init -q -b main . && git add -A . &&
	git -c user.name=t -c user.email=t@example.com commit -q -m bench) ||
	fail "git commit"

"$strata" -C "$repo" diff --all --format patch >"$work/all.patch"
rc=$?
[ "$rc" = 1 ] || fail "diff --all exit $rc (want 1: different)"
size=$(wc -c <"$work/all.patch")
[ "$size" -gt $((8 * 1024 * 1024)) ] ||
	fail "report of $size bytes does not reach the 8 MiB spill"

mkdir "$work/applied" && (cd "$work/applied" && git init -q . &&
	git apply "$work/all.patch") || fail "git apply"
"$strata" -C "$repo" render --all --out "$work/out" || fail "render --all --out"
find "$work/out" -name kustomization.yaml -delete
rm -f "$work/out/.strata-render"
diff -r -x .git "$work/applied" "$work/out" >"$work/d" ||
	fail "applied report differs from render --out: $(head -5 "$work/d")"

# the text report of the same comparisons, formatted part by part
"$strata" -C "$repo" diff --all >"$work/all.txt"
[ $? = 1 ] || fail "text diff --all"
for e in env-00 env-01 env-02; do
	grep -q "^--- $e@published (refs/heads/env/$e does not exist yet)" "$work/all.txt" ||
		fail "text report lacks $e's block"
done
[ "$(tail -n 3 "$work/all.txt" | grep -c ' → ')" = 3 ] ||
	fail "text report does not end with three summary lines"

# the spill file cannot be made (TMPDIR missing): exit 6, one error line
# (after the warning that the sides stay in memory), no report
TMPDIR="$work/missing" "$strata" -C "$repo" diff --all --format patch \
	>"$work/none" 2>"$work/err"
rc=$?
[ "$rc" = 6 ] || fail "spill in a missing TMPDIR: exit $rc (want 6)"
[ "$(grep -vc ': warning: ' "$work/err")" = 1 ] ||
	fail "not one error line: $(cat "$work/err")"
grep -q "temporary file in '$work/missing'" "$work/err" ||
	fail "the error does not name TMPDIR: $(cat "$work/err")"
[ ! -s "$work/none" ] || fail "a partial report was written"

# diff of two environments keeps its first side as text, past 1 MiB in a
# file in $TMPDIR; a missing TMPDIR keeps the sides in memory instead, with
# one warning line naming it, and the same report
"$strata" -C "$repo" diff env-00 env-01 >"$work/two" 2>"$work/err"
rc=$?
[ "$rc" = 1 ] || fail "diff env-00 env-01: exit $rc (want 1)"
TMPDIR="$work/missing" "$strata" -C "$repo" diff env-00 env-01 \
	>"$work/mem" 2>"$work/err"
rc=$?
[ "$rc" = 1 ] || fail "first side in a missing TMPDIR: exit $rc (want 1)"
[ "$(wc -l <"$work/err")" = 1 ] || fail "not one warning line: $(cat "$work/err")"
grep -q "warning: .*$work/missing.*keeping the sides in memory" "$work/err" ||
	fail "the warning does not name TMPDIR: $(cat "$work/err")"
cmp -s "$work/two" "$work/mem" || fail "the report in memory differs"
# the same comparison with the sides the other way round is its mirror
"$strata" -C "$repo" diff --format json env-01 env-00 >"$work/back.json"
[ $? = 1 ] || fail "diff env-01 env-00"
grep -q '"changed": 4000' "$work/back.json" || fail "not every resource changed: $(head -c 600 "$work/back.json")"

# a published side is read as text too, file by file: env-00 published
# and compared with its render, both sides through temporary files, is
# no difference at all; a missing TMPDIR keeps it in memory as well
"$strata" -C "$repo" publish env-00 >/dev/null 2>"$work/err" ||
	fail "publish env-00: $(cat "$work/err")"
"$strata" -C "$repo" diff env-00 >"$work/same" 2>"$work/err"
rc=$?
[ "$rc" = 0 ] || fail "diff env-00 after publishing it: exit $rc: $(head -c 400 "$work/same") $(cat "$work/err")"
"$strata" -C "$repo" diff env-01 env-00@published >"$work/pub" 2>"$work/err"
[ $? = 1 ] || fail "diff env-01 env-00@published: $(cat "$work/err")"
TMPDIR="$work/missing" "$strata" -C "$repo" diff env-01 env-00@published \
	>"$work/mem" 2>"$work/err"
rc=$?
[ "$rc" = 1 ] || fail "published side in a missing TMPDIR: exit $rc (want 1)"
[ "$(wc -l <"$work/err")" = 1 ] || fail "not one warning line: $(cat "$work/err")"
grep -q "env-00@published" "$work/err" || fail "the warning does not name the side: $(cat "$work/err")"
cmp -s "$work/pub" "$work/mem" || fail "the report in memory differs"

# a full stdout: exit 6, one line
if [ -w /dev/full ]; then
	"$strata" -C "$repo" diff --all --format patch >/dev/full 2>"$work/err"
	rc=$?
	[ "$rc" = 6 ] || fail "write to a full stdout: exit $rc (want 6)"
	[ "$(wc -l <"$work/err")" = 1 ] || fail "more than one line: $(cat "$work/err")"
fi
echo "ok   diff --all --format patch through the spill ($size bytes)"
