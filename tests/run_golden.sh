#!/usr/bin/env bash
# run_golden.sh - end-to-end golden tests of the strata command.
#
# usage: run_golden.sh STRATA FIXTURES_DIR [CASE...]
#
# Every directory FIXTURES_DIR/<case>/ is one case (or only the CASEs named):
#
#   repo/           the config repository (strata.ini, base/, overlays/), or
#                   a symlink to one elsewhere in the source tree (its
#                   content is copied)
#   args            one line: the arguments after `strata -C <repo>`, split on
#                   white space (no quoting).  Placeholders:
#                     @OUT@   a path in a fresh temporary directory that does
#                             not exist yet (for --out)
#                     @REPO@  the path of the case's copy of repo/
#                   When the first word is @CWD@ it is dropped and strata runs
#                   without -C, from inside the repo copy (the default repo).
#   expected.out    stdout, byte for byte (absent: stdout must be empty)
#   expected.err    stderr, byte for byte (absent: stderr must be empty)
#   expected.code   the exit code (absent: 0); see src/cli/exitcodes.h
#   expected.tree/  for cases using @OUT@ that succeed: the tree strata must
#                   write there, compared with `diff -r`.  The marker file
#                   .strata-render must exist but its text is not compared.
#                   A failing case using @OUT@ must leave nothing behind:
#                   neither the output directory nor a temporary sibling.
#   kustomize/      optional, not used here: an equivalent kustomization for
#                   tests/kustomize_diff.sh
#
# Before comparing, the sandbox paths in stdout and stderr are replaced by
# @REPO@ and @OUT@.  The case is copied (cp -a, so symlinks stay symlinks) to
# a temporary directory first, as libgit2's sandboxes do: nothing is ever
# written into the source tree, and the script works from any directory.
#
# STRATA_GOLDEN_WRAPPER, when set, is put in front of the strata command,
# e.g. STRATA_GOLDEN_WRAPPER="valgrind -q --error-exitcode=99 --leak-check=full".
#
# Prints one line per case, then "N passed, N failed"; exits 1 when a case
# failed, 2 on bad usage.

set -u

if [ $# -lt 2 ]; then
	echo "usage: $0 STRATA FIXTURES_DIR [CASE...]" >&2
	exit 2
fi

abspath() {
	case "$1" in
	/*) printf '%s\n' "$1" ;;
	*) printf '%s/%s\n' "$(pwd)" "$1" ;;
	esac
}

strata=$(abspath "$1")
fixtures=$(abspath "$2")
shift 2

if [ ! -x "$strata" ]; then
	echo "$0: '$strata' is not an executable" >&2
	exit 2
fi
if [ ! -d "$fixtures" ]; then
	echo "$0: '$fixtures' is not a directory" >&2
	exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/strata-golden.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT

# shellcheck disable=SC2206
wrapper=(${STRATA_GOLDEN_WRAPPER:-})

passed=0
failed=0

# Replace sandbox paths in file $1 (in place).
normalise() {
	local f=$1 tmp="$1.norm"
	# sed with | as delimiter: sandbox paths never contain |
	sed -e "s|$sandbox/repo|@REPO@|g" -e "s|$out|@OUT@|g" "$f" >"$tmp" && mv "$tmp" "$f"
}

# Compare expected file $1 (may be absent = empty) with actual $2; label $3.
check_stream() {
	local exp=$1 act=$2 what=$3
	if [ -f "$exp" ]; then
		if ! cmp -s "$exp" "$act"; then
			problems+=("$what differs (--- expected, +++ actual):")
			problems+=("$(diff -u "$exp" "$act" | sed -e '1,2d' -e 's/^/    /')")
		fi
	elif [ -s "$act" ]; then
		problems+=("unexpected $what:")
		problems+=("$(sed -e 's/^/    /' "$act" | head -20)")
	fi
}

run_case() {
	local dir=$1 name=$2
	local -a argv=()
	local use_cwd=0 uses_out=0 code want_code=0 i

	problems=()
	sandbox="$work/$name"
	mkdir -p "$sandbox/out.d"
	out="$sandbox/out.d/out"

	if [ ! -d "$dir/repo" ] || [ ! -f "$dir/args" ]; then
		problems+=("case needs repo/ and args")
		return
	fi
	if [ -L "$dir/repo" ]; then
		# repo/ itself may link to a tree elsewhere in the source
		# (examples/shop): copy what it points at, keep inner symlinks
		mkdir "$sandbox/repo" && cp -a "$dir/repo/." "$sandbox/repo/"
	else
		cp -a "$dir/repo" "$sandbox/repo"
	fi
	read -r -a argv <"$dir/args"
	if [ ${#argv[@]} -gt 0 ] && [ "${argv[0]}" = "@CWD@" ]; then
		use_cwd=1
		argv=("${argv[@]:1}")
	fi
	for i in "${!argv[@]}"; do
		case "${argv[$i]}" in
		*@OUT@*) uses_out=1 ;;
		esac
		argv[$i]=${argv[$i]//@OUT@/$out}
		argv[$i]=${argv[$i]//@REPO@/$sandbox/repo}
	done
	[ -f "$dir/expected.code" ] && want_code=$(tr -d ' \n' <"$dir/expected.code")

	if [ $use_cwd = 1 ]; then
		(cd "$sandbox/repo" && "${wrapper[@]}" "$strata" "${argv[@]}") \
			>"$sandbox/stdout" 2>"$sandbox/stderr"
	else
		(cd "$sandbox" && "${wrapper[@]}" "$strata" -C "$sandbox/repo" "${argv[@]}") \
			>"$sandbox/stdout" 2>"$sandbox/stderr"
	fi
	code=$?

	normalise "$sandbox/stdout"
	normalise "$sandbox/stderr"
	if [ "$code" != "$want_code" ]; then
		problems+=("exit code $code, expected $want_code")
	fi
	check_stream "$dir/expected.out" "$sandbox/stdout" stdout
	check_stream "$dir/expected.err" "$sandbox/stderr" stderr

	if [ $uses_out = 1 ]; then
		if [ -d "$dir/expected.tree" ]; then
			if [ ! -d "$out" ]; then
				problems+=("output directory was not created")
			else
				[ -f "$out/.strata-render" ] ||
					problems+=("output has no .strata-render marker")
				if ! diff -r --exclude=.strata-render "$dir/expected.tree" "$out" >"$sandbox/tree.diff" 2>&1; then
					problems+=("output tree differs (< expected, > actual):")
					problems+=("$(sed -e 's/^/    /' "$sandbox/tree.diff" | head -60)")
				fi
			fi
			leftovers=$(cd "$sandbox/out.d" && ls -A | grep -vx out)
		else
			[ -e "$out" ] && problems+=("output directory exists after a failed render")
			leftovers=$(cd "$sandbox/out.d" && ls -A)
		fi
		[ -n "$leftovers" ] && problems+=("left behind beside the output: $leftovers")
	elif [ -d "$dir/expected.tree" ]; then
		problems+=("expected.tree/ given but args do not use @OUT@")
	fi
	# strata must not write into the repository it renders
	if ! diff -r "$dir/repo" "$sandbox/repo" >/dev/null 2>&1; then
		problems+=("the repository copy was modified")
	fi
}

if [ $# -gt 0 ]; then
	cases=("$@")
else
	cases=()
	for d in "$fixtures"/*/; do
		[ -d "$d" ] && cases+=("$(basename "$d")")
	done
fi

for name in "${cases[@]}"; do
	dir="$fixtures/$name"
	if [ ! -d "$dir" ]; then
		echo "FAIL $name: no such case"
		failed=$((failed + 1))
		continue
	fi
	run_case "$dir" "$name"
	if [ ${#problems[@]} -eq 0 ]; then
		echo "ok   $name"
		passed=$((passed + 1))
	else
		echo "FAIL $name"
		for p in "${problems[@]}"; do
			printf '  %s\n' "$p"
		done
		failed=$((failed + 1))
	fi
done

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
