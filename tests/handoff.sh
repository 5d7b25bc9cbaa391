#!/usr/bin/env bash
# handoff.sh - `strata` without libgit2 hands git's commands to strata-git.
#
# usage: handoff.sh STRATA SOURCE_DIR STATIC(ON|OFF)
#
# STRATA is the front (src/cli/git_front.c), built beside strata-git;
# STATIC says whether CMake linked it static-pie.  Checks: how it is
# linked; that a git command run through the front prints exactly what
# strata-git prints itself, with awkward arguments (spaces, an option
# after the operands, which getopt moves); that the front alone still runs
# what needs no git and refuses the rest with one line and exit 7; that a
# strata-git which hands over again is refused, not run in a loop.
set -u
strata=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
top=$2
static=$3
git_cli="$(dirname "$strata")/strata-git"
work=$(mktemp -d "${TMPDIR:-/tmp}/strata-handoff.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

failed=0
ok() { echo "ok   $*"; }
fail() {
	echo "FAIL $*"
	failed=$((failed + 1))
}

# how the front is linked: a dynamic program lists what the loader maps
if LD_DEBUG=files "$strata" --version 2>&1 >/dev/null | grep -q 'file='; then
	linked=dynamic
else
	linked=static
fi
case $static in
ON | on | 1 | TRUE | true) want=static ;;
*) want=dynamic ;;
esac
[ "$linked" = "$want" ] && ok "strata is linked $linked" ||
	fail "strata is linked $linked, CMake said $want"
if LD_DEBUG=files "$strata" --version 2>&1 >/dev/null | grep -q 'file=[^ ]*libgit2'; then
	fail "strata maps libgit2 at start"
fi

shop="$work/the shop"
cp -a "$top/examples/shop" "$shop"
(cd "$shop" && git init -q -b main . && git add -A . &&
	git -c user.name=t -c user.email=t@example.com commit -q -m shop) || exit 1

# same WANT_CODE ARGS...: the front and strata-git give the same exit code,
# stdout and stderr
same() {
	local want=$1 a b
	shift
	"$strata" "$@" >"$work/f.out" 2>"$work/f.err"
	a=$?
	"$git_cli" "$@" >"$work/g.out" 2>"$work/g.err"
	b=$?
	if [ "$a" != "$want" ] || [ "$b" != "$want" ]; then
		fail "strata $*: exit $a, strata-git $b (want $want)"
		sed -e 's/^/    /' "$work/f.err" | head -5
	elif ! cmp -s "$work/f.out" "$work/g.out" || ! cmp -s "$work/f.err" "$work/g.err"; then
		fail "strata $*: output differs from strata-git's"
	elif [ "$want" = 0 ] && ! [ -s "$work/f.out" ]; then
		fail "strata $*: no output"
	else
		ok "strata $* (exit $a, as strata-git)"
	fi
}
same 0 -C "$shop" render --rev HEAD prod
same 0 -C "$shop" render prod --rev HEAD
same 0 -C "$shop" render -j1 --rev=HEAD dev prod
same 1 -C "$shop" diff --format patch dev prod
same 1 -C "$shop" diff dev@HEAD prod
same 2 -C "$shop" render --rev HEAD
same 5 -C "$shop" render --rev HEAD no-such-env
same 5 -C "$shop" render --rev no-such-rev prod
same 5 -C "$shop" history dev
same 0 -C "$shop" publish --help
# publish through the front: the branch is written
(cd "$shop" && "$strata" publish dev >"$work/pub.out" 2>"$work/pub.err")
code=$?
if [ $code = 0 ] && git -C "$shop" rev-parse -q --verify env/dev >/dev/null; then
	ok "strata publish dev (through strata-git): env/dev written"
else
	fail "strata publish dev: exit $code, env/dev $(git -C "$shop" rev-parse -q --verify env/dev)"
	sed -e 's/^/    /' "$work/pub.err" | head -5
fi
same 0 -C "$shop" history dev
same 0 -C "$shop" diff --format json dev

# The front alone: no strata-git beside it
alone="$work/alone"
mkdir "$alone"
cp "$strata" "$alone/strata"
expect_alone() {
	local want=$1 code
	shift
	"$alone/strata" "$@" >"$work/a.out" 2>"$work/a.err"
	code=$?
	if [ "$code" != "$want" ]; then
		fail "(alone) strata $*: exit $code (want $want)"
		sed -e 's/^/    /' "$work/a.err" | head -5
	elif [ "$want" = 7 ] && { [ "$(wc -l <"$work/a.err")" != 1 ] ||
		! grep -q "^strata: cannot run git commands: cannot run $alone/strata-git: " "$work/a.err"; }; then
		fail "(alone) strata $*: want one 'cannot run $alone/strata-git' line, got:"
		sed -e 's/^/    /' "$work/a.err" | head -5
	else
		ok "(alone) strata $*: exit $code"
	fi
}
expect_alone 0 -C "$shop" render prod
expect_alone 0 -C "$shop" check
expect_alone 1 -C "$shop" diff dev prod
expect_alone 7 -C "$shop" render --rev HEAD prod
expect_alone 7 -C "$shop" diff --format patch dev prod
expect_alone 7 -C "$shop" diff prod
expect_alone 7 -C "$shop" diff --all
expect_alone 7 -C "$shop" diff --rev HEAD prod
expect_alone 7 -C "$shop" publish dev
expect_alone 7 -C "$shop" history dev
expect_alone 7 -C "$shop" rollback dev
if git -C "$shop" rev-parse -q --verify env/prod >/dev/null; then
	fail "(alone) a branch was written"
fi
# --quiet needs no patch text, so no git
expect_alone 1 -C "$shop" diff --quiet --format patch dev prod

# A strata-git that is a front itself: refused, not an endless exec
cp "$strata" "$alone/strata-git"
"$alone/strata" -C "$shop" history dev >"$work/a.out" 2>"$work/a.err"
code=$?
if [ $code = 7 ] && [ "$(wc -l <"$work/a.err")" = 1 ] && grep -q "hands them back" "$work/a.err"; then
	ok "a strata-git that hands over again: refused, exit 7"
else
	fail "a strata-git that hands over again: exit $code, $(head -c 300 "$work/a.err")"
fi

[ $failed -eq 0 ] && echo "handoff: ok" || echo "handoff: $failed failed"
[ $failed -eq 0 ]
