#!/usr/bin/env bash
# run_valgrind.sh - the strata command end to end under valgrind: no
# memory errors and no definite or indirect leaks, on success and on the
# error paths.
#
# usage: run_valgrind.sh STRATA SOURCE_DIR
#
# STRATA must be built without sanitizers (valgrind and ASan do not mix).
# Exits 77 (skipped) when valgrind is not installed.
set -u
strata=$1
top=$2
if ! command -v valgrind >/dev/null 2>&1; then
	echo "valgrind not installed: skipped"
	exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/strata-valgrind.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
vg=(valgrind -q --error-exitcode=99 --leak-check=full
    --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect)

failed=0
# run WANT_CODE ARGS...: the exit code must be WANT_CODE (99 = valgrind found
# something), stderr is kept for the report.
run() {
	local want=$1 code
	shift
	"${vg[@]}" "$strata" "$@" >"$work/out" 2>"$work/err"
	code=$?
	if [ "$code" != "$want" ]; then
		echo "FAIL (exit $code, expected $want): strata $*"
		sed -e 's/^/    /' "$work/err" | head -40
		failed=$((failed + 1))
	else
		echo "ok   strata $*"
	fi
}

shop="$work/shop"
cp -a "$top/examples/shop" "$shop"
(cd "$shop" && git init -q -b main . && git add -A . &&
	git -c user.name=vg -c user.email=vg@example.com commit -q -m shop) || exit 1

run 0 -C "$shop" render --all
run 0 -C "$shop" render --all --out "$work/out.d"
run 0 -C "$shop" render prod
run 0 -C "$shop" check
run 0 -C "$shop" check --format json prod dev
run 1 -C "$shop" diff dev prod
run 0 -C "$shop" publish dev prod
run 0 -C "$shop" history prod
# error paths
run 10 -C "$top/fixtures/check/many/repo" check
run 5 -C "$shop" render nope
run 2 -C "$shop" render --bogus
cp -a "$top/fixtures/render/error-alias-bomb/repo" "$work/bomb"
run 4 -C "$work/bomb" render dev
cp -a "$top/fixtures/render/error-patch-not-found/repo" "$work/nf"
run 5 -C "$work/nf" render prod

[ $failed -eq 0 ] && echo "valgrind: clean" || echo "valgrind: $failed failed"
[ $failed -eq 0 ]
