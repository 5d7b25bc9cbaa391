#!/usr/bin/env bash
# run_adversarial.sh - hostile and broken config repositories against the
# strata command: every case must fail with a non-zero exit and one clear
# line, write nothing, move no branch, never hang, and never show what lies
# outside the repository.
#
# usage: run_adversarial.sh STRATA FIXTURES_DIR [CASE...]
#
# Every directory FIXTURES_DIR/<case>/ is one case:
#
#   repo/      the config repository (may be absent when setup makes it all)
#   setup      optional bash script run inside the case's copy of repo/ to make
#              what cannot be committed: symlinks to /etc, a 1 GiB (sparse)
#              file, 100,001 tiny files, a FIFO.  $STRATA_CASE_SANDBOX is the
#              directory holding the copy (repo/ is "$STRATA_CASE_SANDBOX/repo").
#   expect     one line per mode to run: "MODE CODE [ARGS...]".  MODE is
#                render   strata render ARGS --out @OUT@  (ARGS default: prod)
#                check    strata check ARGS                (ARGS default: prod)
#                publish  strata publish ARGS from a git commit of the repo
#                         (HEAD's tree; symlinks are committed as symlinks)
#                publish-worktree  strata publish --worktree ARGS
#                cli      strata ARGS (ARGS required; for option attacks)
#              CODE is the exit code wanted (see src/cli/exitcodes.h).
#   message    an extended regular expression the problem line must match
#              (render/publish/cli: stderr; check: stdout)
#   forbid     optional, extra fixed strings that must not appear in stdout
#              or stderr (always forbidden: the content of /etc/passwd and
#              /etc/hostname, "/etc/passwd", "/etc/hostname", the sandbox
#              path, "../..")
#
# Checks for every mode: the exit code; render and cli print exactly one line
# on stderr (a usage error, exit 2, may add the usage text) and nothing on
# stdout; publish prints exactly one line on stderr;
# check prints problem lines with "error:" on stdout and one summary line on
# stderr; --out is not created and nothing is left beside it; the files of
# the repository copy are unchanged; for publish every ref and HEAD are
# unchanged.  Every command runs under `timeout` (STRATA_ADV_TIMEOUT seconds,
# default 120): a hang is a failure.
#
# STRATA_ADV_WRAPPER, when set, is put in front of the strata command.
# Prints one line per case and mode, then "N passed, N failed"; exits 1 when
# a case failed, 2 on bad usage.  A failing mode lists each broken check,
# then the first 400 bytes of its stderr and stdout.
#
# To add a case: make FIXTURES_DIR/<case>/ with repo/ (or a setup), expect
# and message, and run `run_adversarial.sh STRATA FIXTURES_DIR <case>`
# (ctest: adversarial).  The shared plumbing (arguments, work directory,
# tally) is in runner_lib.sh.

set -u
. "$(dirname "$0")/runner_lib.sh"

runner_init strata-adv "$@"
shift 2
timeout_s=${STRATA_ADV_TIMEOUT:-120}
# shellcheck disable=SC2206
wrapper=(${STRATA_ADV_WRAPPER:-})

# Secrets of the machine that must never reach the output.
always_forbid=("/etc/passwd" "/etc/hostname" "../..")
if [ -r /etc/passwd ]; then
	first=$(head -n 1 /etc/passwd)
	[ -n "$first" ] && always_forbid+=("$first")
fi
if [ -r /etc/hostname ]; then
	host=$(head -n 1 /etc/hostname)
	# short host names could appear by chance in messages
	[ ${#host} -ge 8 ] && always_forbid+=("$host")
fi

# A listing of the files of dir (not .git): path, type, size, link target.
snapshot() {
	(cd "$1" && find . -path ./.git -prune -o -printf '%p %y %s %l\n' | LC_ALL=C sort)
}

git_refs() {
	(cd "$1" && git for-each-ref --format='%(refname) %(objectname)' && git symbolic-ref -q HEAD)
}

run_mode() {
	local dir=$1 name=$2 mode=$3 want=$4
	shift 4
	local -a args=("$@") cmd=()
	local sandbox="$work/$name.$mode" repo out code nerr nout before after refs_before refs_after

	problems=()
	mkdir -p "$sandbox/out.d"
	repo="$sandbox/repo"
	out="$sandbox/out.d/out"
	if [ -d "$dir/repo" ]; then
		cp -a "$dir/repo" "$repo"
	else
		mkdir -p "$repo"
	fi
	if [ -f "$dir/setup" ]; then
		if ! (cd "$repo" && STRATA_CASE_SANDBOX="$sandbox" bash "$dir/setup") </dev/null >"$sandbox/setup.log" 2>&1; then
			problems+=("setup failed: $(tail -3 "$sandbox/setup.log")")
			return
		fi
	fi
	case $mode in
	publish | publish-worktree)
		(cd "$repo" && git init -q -b main . && git add -A . &&
			git -c user.name=adv -c user.email=adv@example.com commit -q -m setup) \
			</dev/null >"$sandbox/git.log" 2>&1 || { problems+=("git setup failed: $(tail -3 "$sandbox/git.log")"); return; }
		refs_before=$(git_refs "$repo")
		;;
	esac
	[ ${#args[@]} -eq 0 ] && [ "$mode" != cli ] && args=(prod)
	case $mode in
	render) cmd=(render "${args[@]}" --out "$out") ;;
	check) cmd=(check "${args[@]}") ;;
	publish) cmd=(publish "${args[@]}") ;;
	publish-worktree) cmd=(publish --worktree "${args[@]}") ;;
	cli) cmd=("${args[@]}") ;;
	*) problems+=("unknown mode '$mode'"); return ;;
	esac
	before=$(snapshot "$repo")
	(cd "$repo" && timeout -k 5 "$timeout_s" "${wrapper[@]}" "$strata" -C "$repo" "${cmd[@]}") \
		</dev/null >"$sandbox/stdout" 2>"$sandbox/stderr"
	code=$?
	after=$(snapshot "$repo")

	[ "$code" = 124 ] && problems+=("timed out after ${timeout_s}s")
	[ "$code" = 0 ] && problems+=("exit code 0: the attack was not refused")
	[ "$code" != "$want" ] && problems+=("exit code $code, expected $want")
	nerr=$(wc -l <"$sandbox/stderr")
	nout=$(wc -l <"$sandbox/stdout")
	case $mode in
	render | cli)
		# a usage error (2) may be followed by the usage text
		[ "$nerr" = 1 ] || { [ "$want" = 2 ] && [ "$nerr" -gt 1 ]; } ||
			problems+=("stderr has $nerr lines, expected 1")
		[ "$nout" = 0 ] || problems+=("stdout is not empty")
		msgfile="$sandbox/stderr"
		;;
	publish | publish-worktree)
		[ "$nerr" = 1 ] || problems+=("stderr has $nerr lines, expected 1")
		msgfile="$sandbox/stderr"
		;;
	check)
		[ "$nerr" = 1 ] || problems+=("stderr has $nerr lines, expected the summary only")
		if [ "$want" = 10 ]; then
			grep -Eq '(^|: )error: ' "$sandbox/stdout" || problems+=("no error line on stdout")
			msgfile="$sandbox/stdout"
		else
			msgfile="$sandbox/stderr"
		fi
		;;
	esac
	if [ -f "$dir/message" ] && ! grep -Eq -f "$dir/message" "$msgfile"; then
		problems+=("message does not match $(cat "$dir/message")")
	fi
	local -a forbid=("${always_forbid[@]}" "$sandbox")
	if [ -f "$dir/forbid" ]; then
		while IFS= read -r f; do [ -n "$f" ] && forbid+=("$f"); done <"$dir/forbid"
	fi
	for f in "${forbid[@]}"; do
		if grep -qF -- "$f" "$sandbox/stdout" "$sandbox/stderr"; then
			problems+=("output shows '$f'")
		fi
	done
	[ -e "$out" ] && problems+=("--out was written")
	[ -n "$(ls -A "$sandbox/out.d")" ] && problems+=("left behind beside --out: $(ls -A "$sandbox/out.d")")
	[ "$before" = "$after" ] || problems+=("the repository was modified")
	case $mode in
	publish | publish-worktree)
		refs_after=$(git_refs "$repo")
		[ "$refs_before" = "$refs_after" ] || problems+=("a ref moved: $(diff <(echo "$refs_before") <(echo "$refs_after") | tail -n +2 | tr '\n' ' ')")
		;;
	esac
	if [ ${#problems[@]} -gt 0 ]; then
		problems+=("stderr: $(head -c 400 "$sandbox/stderr")")
		problems+=("stdout: $(head -c 400 "$sandbox/stdout")")
	fi
	rm -rf "$sandbox"
}

runner_cases "$@"
for name in "${cases[@]}"; do
	dir="$fixtures/$name"
	if [ ! -f "$dir/expect" ]; then
		runner_fail "$name: no expect file"
		continue
	fi
	while read -r -a line; do
		[ ${#line[@]} -ge 2 ] || continue
		case ${line[0]} in '#'*) continue ;; esac
		run_mode "$dir" "$name" "${line[@]}"
		runner_report "$name ${line[0]}"
	done <"$dir/expect"
done
runner_summary
