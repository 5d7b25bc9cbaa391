#!/usr/bin/env bash
# run_diff_golden.sh - end-to-end golden tests of `strata diff`.
#
# usage: run_diff_golden.sh STRATA FIXTURES_DIR [CASE...]
#
# Every directory FIXTURES_DIR/<case>/ (names starting with '_' excepted) is
# one case:
#
#   repo/ or uses   the config repository: repo/ itself, or `uses` naming a
#                   shared one under FIXTURES_DIR/_repos/<name>/
#   setup           optional bash script run inside the sandbox copy of the
#                   repository before strata: builds the git history the
#                   case needs (revisions, published branches, remotes).
#                   $STRATA is the strata command; helpers:
#                     commit MSG       git add -A && git commit (fixed dates)
#                     git_init         git init -b main && commit "initial"
#                   Git runs without the user's configuration, with a fixed
#                   identity and fixed dates, so commit ids are the same on
#                   every run.
#   args            one line: the arguments after `strata -C <repo>`, split
#                   on white space.  @REPO@ is the repository copy.
#   env             optional lines NAME=VALUE exported for strata only
#   expected.out    stdout, byte for byte (absent: stdout must be empty).
#                   A setup may write ../expected.out instead (beside the
#                   repository copy): then that is the expected stdout - git's
#                   own output for the same change, for instance.
#   expected.err    stderr, byte for byte (absent: stderr must be empty)
#   expected.code   the exit code (absent: 0): 0 same, 1 different, 2+ trouble
#   forbidden       optional: strings (one a line) that must not appear in
#                   stdout or stderr - Secret values, for instance
#
# The sandbox path is replaced by @REPO@ in stdout and stderr before
# comparing.  Nothing is written into the source tree.
#
# STRATA_GOLDEN_WRAPPER, when set, is put in front of the strata command.
# STRATA_GOLDEN_UPDATE=1 rewrites expected.out/.err/.code from the actual
# results (review the diff before committing).
#
# Prints one line per case, then "N passed, N failed"; exits 1 when a case
# failed, 2 on bad usage.  On failure the case's lines show what differs:
# the exit code, a unified diff of expected and actual output (80 lines at
# most), the setup's log when the setup failed.
#
# To add a case: make FIXTURES_DIR/<case>/ with repo/ (or uses), setup if it
# needs history, and args; run `STRATA_GOLDEN_UPDATE=1 run_diff_golden.sh
# STRATA FIXTURES_DIR <case>` to write expected.*, read them, then run it
# again without the variable (ctest: golden_diff).  The shared plumbing
# (arguments, work directory, tally) is in runner_lib.sh.

set -u
. "$(dirname "$0")/runner_lib.sh"

runner_init strata-diff-golden "$@"
shift 2
if ! command -v git >/dev/null 2>&1; then
	echo "$0: git is needed" >&2
	exit 2
fi
runner_skip='_*'      # _repos/: repositories shared by cases, not a case
runner_diff_lines=80  # keep a failing case's report short

# shellcheck disable=SC2206
wrapper=(${STRATA_GOLDEN_WRAPPER:-})

# git: no user or system configuration, fixed identity and time
export GIT_CONFIG_NOSYSTEM=1
export GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME="Strata Test" GIT_AUTHOR_EMAIL="test@example.com"
export GIT_COMMITTER_NAME="Strata Test" GIT_COMMITTER_EMAIL="test@example.com"
export GIT_AUTHOR_DATE="2024-01-01T12:00:00Z" GIT_COMMITTER_DATE="2024-01-01T12:00:00Z"
unset NO_COLOR GIT_DIR GIT_WORK_TREE

run_case() {
	local dir=$1 name=$2
	local -a argv=() envs=()
	local code want_code=0 i src line

	problems=()
	sandbox="$work/$name"
	mkdir -p "$sandbox"

	if [ -d "$dir/repo" ]; then
		src="$dir/repo"
	elif [ -f "$dir/uses" ]; then
		src="$fixtures/_repos/$(tr -d ' \n' <"$dir/uses")"
	else
		problems+=("case needs repo/ or uses")
		return
	fi
	if [ ! -d "$src" ] || [ ! -f "$dir/args" ]; then
		problems+=("case needs a repository and args")
		return
	fi
	cp -a "$src" "$sandbox/repo"
	if [ -f "$dir/setup" ]; then
		if ! (cd "$sandbox/repo" && STRATA="$strata" bash -e -c '
			commit() { git add -A && git commit -q -m "$1"; }
			git_init() { git init -q -b main && commit initial; }
			. "$0"' "$dir/setup") >"$sandbox/setup.log" 2>&1; then
			problems+=("setup failed:")
			problems+=("$(sed -e 's/^/    /' "$sandbox/setup.log" | head -20)")
			return
		fi
	fi
	read -r -a argv <"$dir/args"
	for i in "${!argv[@]}"; do
		argv[$i]=${argv[$i]//@REPO@/$sandbox/repo}
	done
	if [ -f "$dir/env" ]; then
		while IFS= read -r line; do
			[ -n "$line" ] && envs+=("$line")
		done <"$dir/env"
	fi
	[ -f "$dir/expected.code" ] && want_code=$(tr -d ' \n' <"$dir/expected.code")

	(cd "$sandbox" && env "${envs[@]}" "${wrapper[@]}" "$strata" -C "$sandbox/repo" "${argv[@]}") \
		>"$sandbox/stdout" 2>"$sandbox/stderr"
	code=$?

	normalise "$sandbox/stdout" "$sandbox/repo" @REPO@
	normalise "$sandbox/stderr" "$sandbox/repo" @REPO@
	if [ "${STRATA_GOLDEN_UPDATE:-}" = 1 ]; then
		if [ -f "$sandbox/expected.out" ]; then :; elif [ -s "$sandbox/stdout" ]; then cp "$sandbox/stdout" "$dir/expected.out"; else rm -f "$dir/expected.out"; fi
		if [ -s "$sandbox/stderr" ]; then cp "$sandbox/stderr" "$dir/expected.err"; else rm -f "$dir/expected.err"; fi
		if [ "$code" != 0 ]; then echo "$code" >"$dir/expected.code"; else rm -f "$dir/expected.code"; fi
		want_code=$code
	fi
	if [ "$code" != "$want_code" ]; then
		problems+=("exit code $code, expected $want_code")
	fi
	if [ -f "$sandbox/expected.out" ]; then
		check_stream "$sandbox/expected.out" "$sandbox/stdout" stdout
	else
		check_stream "$dir/expected.out" "$sandbox/stdout" stdout
	fi
	check_stream "$dir/expected.err" "$sandbox/stderr" stderr
	if [ -f "$dir/forbidden" ]; then
		while IFS= read -r line; do
			[ -z "$line" ] && continue
			if grep -qF -- "$line" "$sandbox/stdout" "$sandbox/stderr"; then
				problems+=("output contains the forbidden string '$line'")
			fi
		done <"$dir/forbidden"
	fi
}

runner_cases "$@"
runner_run_cases run_case
runner_summary
