#!/usr/bin/env bash
# git_dl.sh - libgit2 is mapped only by the commands that use git.
#
# usage: git_dl.sh STRATA SOURCE_DIR
#
# strata built with STRATA_GIT_DLOPEN (the default) must not load libgit2
# for a render from the working tree, check, or a diff of two environments
# (src/lib/git_dl.h: that load is 2.5 ms of a 15 ms render), and must load
# it, and work, for every command that reads or writes git.  The dynamic
# loader's own trace (LD_DEBUG=files) says which libraries a process
# mapped.  Exits 77 (skipped) when the binary links libgit2 (DLOPEN off).
set -u
strata=$1
top=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/strata-gitdl.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

if LD_DEBUG=files "$strata" --version 2>&1 >/dev/null |
	grep -q 'file=[^ ]*libgit2[^ ]* .*needed by'; then
	echo "strata links libgit2 (STRATA_GIT_DLOPEN=OFF): skipped"
	exit 77
fi

shop="$work/shop"
cp -a "$top/examples/shop" "$shop"
(cd "$shop" && git init -q -b main . && git add -A . &&
	git -c user.name=t -c user.email=t@example.com commit -q -m shop) || exit 1

failed=0
# expect WANT_CODE LOADS(yes|no) ARGS...: the exit code, and whether the
# process mapped libgit2.
expect() {
	local want=$1 loads=$2 code got=no
	shift 2
	LD_DEBUG=files LD_DEBUG_OUTPUT="$work/ld" "$strata" "$@" \
		>"$work/out" 2>"$work/err"
	code=$?
	if cat "$work"/ld.* 2>/dev/null | grep -q 'file=[^ ]*libgit2'; then
		got=yes
	fi
	rm -f "$work"/ld.*
	if [ "$code" != "$want" ] || [ "$got" != "$loads" ]; then
		echo "FAIL strata $*: exit $code (want $want), libgit2 loaded: $got (want $loads)"
		sed -e 's/^/    /' "$work/err" | head -20
		failed=$((failed + 1))
	else
		echo "ok   strata $* (libgit2 loaded: $got)"
	fi
}

expect 0 no --version
expect 0 no -C "$shop" render prod
expect 0 no -C "$shop" render --all --out "$work/out.d"
expect 0 no -C "$shop" check
expect 1 no -C "$shop" diff dev prod
expect 1 no -C "$shop" diff --format json dev prod
expect 5 no -C "$shop" render nope
# git's commands load it on demand and work
expect 0 yes -C "$shop" render --rev HEAD prod
expect 1 yes -C "$shop" diff --format patch dev prod
expect 0 yes -C "$shop" publish dev
expect 0 yes -C "$shop" history dev
expect 0 yes -C "$shop" diff dev@HEAD dev

# Without libgit2 (STRATA_LIBGIT2 names the one file to open): each git
# command fails with exit 7 and one line naming the cause; the others work.
missing="$work/no-such-libgit2.so"
nogit() {
	local want=$1 code
	shift
	STRATA_LIBGIT2=$missing "$strata" "$@" >"$work/out" 2>"$work/err"
	code=$?
	if [ "$code" != "$want" ]; then
		echo "FAIL (no libgit2) strata $*: exit $code (want $want)"
		sed -e 's/^/    /' "$work/err" | head -5
		failed=$((failed + 1))
	elif [ "$want" = 7 ] && { [ "$(wc -l <"$work/err")" != 1 ] ||
		! grep -q "cannot load libgit2: .*no-such-libgit2.so" "$work/err"; }; then
		echo "FAIL (no libgit2) strata $*: want one 'cannot load libgit2' line, got:"
		sed -e 's/^/    /' "$work/err" | head -5
		failed=$((failed + 1))
	else
		echo "ok   (no libgit2) strata $*: exit $code"
	fi
}
nogit 0 -C "$shop" render prod
nogit 0 -C "$shop" check
nogit 1 -C "$shop" diff dev prod
nogit 7 -C "$shop" render --rev HEAD prod
nogit 7 -C "$shop" diff --format patch dev prod
nogit 7 -C "$shop" diff dev@HEAD dev
nogit 7 -C "$shop" publish dev
nogit 7 -C "$shop" history dev
# a name too long to keep is refused, not cut short (which could name a
# file that exists)
long=$(printf '%s' "$(dirname "$(command -v sh)")/" && printf './%.0s' $(seq 2100) && printf 'sh')
STRATA_LIBGIT2=$long "$strata" -C "$shop" render --rev HEAD prod >"$work/out" 2>"$work/err"
code=$?
if [ "$code" = 7 ] && grep -q "too long" "$work/err"; then
	echo "ok   (long STRATA_LIBGIT2) refused: exit 7"
else
	echo "FAIL (long STRATA_LIBGIT2): exit $code, $(head -c 200 "$work/err")"
	failed=$((failed + 1))
fi

[ $failed -eq 0 ] && echo "git_dl: ok" || echo "git_dl: $failed failed"
[ $failed -eq 0 ]
