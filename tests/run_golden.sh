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
# failed, 2 on bad usage.  On failure the case's lines show what differs:
# the exit code, a unified diff of expected and actual output, `diff -r` of
# the tree.
#
# To add a case: make FIXTURES_DIR/<case>/ with repo/ and args, write the
# expected.* files (checked by hand, not copied blindly from a run), and run
# `run_golden.sh STRATA FIXTURES_DIR <case>` (ctest: golden_render, and
# golden_check for fixtures/check).  The shared plumbing (arguments, work
# directory, tally) is in runner_lib.sh.

set -u
. "$(dirname "$0")/runner_lib.sh"

runner_init strata-golden "$@"
shift 2

# shellcheck disable=SC2206
wrapper=(${STRATA_GOLDEN_WRAPPER:-})

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

	normalise "$sandbox/stdout" "$sandbox/repo" @REPO@ "$out" @OUT@
	normalise "$sandbox/stderr" "$sandbox/repo" @REPO@ "$out" @OUT@
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

runner_cases "$@"
runner_run_cases run_case
runner_summary
