#!/usr/bin/env bash
# replay.sh - run the fuzz targets, built without libFuzzer
# (fuzz_replay_<target>), over the seed corpora made from fixtures/ and over
# fuzz/regressions/<target>/: every crash a fuzzer ever found stays a test.
#
# usage: fuzz/replay.sh BINDIR   (BINDIR holds fuzz_replay_<target>)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bindir=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/strata-replay.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$here/make-corpus.sh" "$work" >/dev/null
status=0
for bin in "$bindir"/fuzz_replay_*; do
	t=${bin##*/fuzz_replay_}
	dirs=()
	[ -d "$work/$t" ] && dirs+=("$work/$t")
	[ -d "$here/regressions/$t" ] && dirs+=("$here/regressions/$t")
	printf '%s: ' "$t"
	if ! "$bin" "${dirs[@]}"; then
		echo "FAIL $t"
		status=1
	fi
done
exit $status
