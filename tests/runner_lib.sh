# runner_lib.sh - what the fixture runners share (run_golden.sh,
# run_diff_golden.sh, run_adversarial.sh; kustomize_diff.sh uses the work
# directory and the tally).  Sourced, never run by itself.
#
# A runner keeps its own header (what a case is and how to add one) and its
# own run_case, which fills the array `problems` (left empty: the case
# passed).  The rest is:
#
#   . "$(dirname "$0")/runner_lib.sh"
#   runner_init strata-NAME "$@"   # STRATA FIXTURES_DIR [CASE...]
#   shift 2
#   runner_cases "$@"              # -> cases
#   runner_run_cases run_case      # one "ok"/"FAIL" line per case
#   runner_summary                 # "N passed, N failed"; the exit status
#
# Globals: strata and fixtures (absolute paths), work (a temporary directory
# removed on exit), cases, problems, passed, failed; runner_skip and
# runner_diff_lines may be set by the runner (see below).
# shellcheck shell=bash

# The path $1 made absolute (without resolving symlinks): cases run from
# their sandbox, not from the caller's directory.
abspath() {
	case "$1" in
	/*) printf '%s\n' "$1" ;;
	*) printf '%s/%s\n' "$(pwd)" "$1" ;;
	esac
}

# runner_workdir TAG: make the work directory $work (TMPDIR/TAG.XXXXXX,
# removed on exit) and zero the tally.  Exits 2 when it cannot.
runner_workdir() {
	work=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || exit 2
	trap 'rm -rf "$work"' EXIT
	passed=0
	failed=0
}

# runner_init TAG STRATA FIXTURES_DIR [CASE...]: check the arguments, set
# strata and fixtures, then runner_workdir TAG.  Exits 2 on bad usage; the
# caller shifts the two paths off its own arguments.
runner_init() {
	local tag=$1
	shift
	if [ $# -lt 2 ]; then
		echo "usage: $0 STRATA FIXTURES_DIR [CASE...]" >&2
		exit 2
	fi
	strata=$(abspath "$1")
	fixtures=$(abspath "$2")
	if [ ! -x "$strata" ]; then
		echo "$0: '$strata' is not an executable" >&2
		exit 2
	fi
	if [ ! -d "$fixtures" ]; then
		echo "$0: '$fixtures' is not a directory" >&2
		exit 2
	fi
	runner_workdir "$tag"
}

# runner_cases [CASE...]: set cases to the CASEs named or, when none is,
# every directory of $fixtures whose name does not match the glob
# $runner_skip (default: none is skipped).
runner_cases() {
	local d b
	if [ $# -gt 0 ]; then
		cases=("$@")
		return
	fi
	cases=()
	for d in "$fixtures"/*/; do
		[ -d "$d" ] || continue
		b=$(basename "$d")
		# shellcheck disable=SC2053  # unquoted: runner_skip is a glob
		if [ -n "${runner_skip:-}" ] && [[ $b == $runner_skip ]]; then
			continue
		fi
		cases+=("$b")
	done
}

# runner_pass LABEL, runner_fail MESSAGE: print one result line and count it.
runner_pass() {
	echo "ok   $1"
	passed=$((passed + 1))
}
runner_fail() {
	echo "FAIL $1"
	failed=$((failed + 1))
}

# runner_report LABEL: the result of the case just run, from `problems`:
# "ok   LABEL", or "FAIL LABEL" followed by each problem, indented.
runner_report() {
	local p
	if [ ${#problems[@]} -eq 0 ]; then
		runner_pass "$1"
	else
		runner_fail "$1"
		for p in "${problems[@]}"; do
			printf '  %s\n' "$p"
		done
	fi
}

# runner_run_cases FUNC: FUNC CASE_DIR NAME for every name in cases, each
# reported; a name without a directory fails as "no such case".
runner_run_cases() {
	local fn=$1 name dir
	for name in "${cases[@]}"; do
		dir="$fixtures/$name"
		if [ ! -d "$dir" ]; then
			runner_fail "$name: no such case"
			continue
		fi
		"$fn" "$dir" "$name"
		runner_report "$name"
	done
}

# runner_summary: the closing "N passed, N failed" line; returns non-zero
# when a case failed, so that a runner can end with it.
runner_summary() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

# normalise FILE [PATH PLACEHOLDER]...: replace every PATH (a sandbox path)
# by its PLACEHOLDER in FILE, in place, so that expected output does not
# depend on where the sandbox was made.
normalise() {
	local f=$1 tmp="$1.norm"
	local -a expr=()
	shift
	while [ $# -ge 2 ]; do
		# sed with | as delimiter: sandbox paths never contain |
		expr+=(-e "s|$1|$2|g")
		shift 2
	done
	sed "${expr[@]}" "$f" >"$tmp" && mv "$tmp" "$f"
}

# check_stream EXPECTED ACTUAL WHAT: add to `problems` when the file ACTUAL
# differs from EXPECTED (absent: ACTUAL must be empty), with a unified diff
# of the two (at most $runner_diff_lines lines when that is set).
check_stream() {
	local exp=$1 act=$2 what=$3 max=${runner_diff_lines:-}
	if [ -f "$exp" ]; then
		if ! cmp -s "$exp" "$act"; then
			problems+=("$what differs (--- expected, +++ actual):")
			problems+=("$(diff -u "$exp" "$act" | sed -e '1,2d' -e 's/^/    /' |
				if [ -n "$max" ]; then head -n "$max"; else cat; fi)")
		fi
	elif [ -s "$act" ]; then
		problems+=("unexpected $what:")
		problems+=("$(sed -e 's/^/    /' "$act" | head -20)")
	fi
}
