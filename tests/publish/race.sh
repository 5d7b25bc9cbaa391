#!/bin/bash
# race.sh - concurrent publishers and a killed one.
#
# Four processes publishing one environment to one remote at once (by path
# and over git://) must all end in success or `unchanged`, with the remote
# history linear and every reported commit in it.  Four publishing the
# same source converge on one commit.  A publish killed with SIGKILL leaves
# the branch at the old or the new commit and the repository fsck-clean.
. "$(dirname "$0")/lib.sh"

N=4
C=$SANDBOX/config
make_config "$C"

# check_linear GITDIR BRANCH: no merge commits, no commit with 2+ parents
check_linear() {
	[ -z "$(git --git-dir="$1" rev-list --min-parents=2 "$2")" ] || fail "merge commits on $2"
}

# Each race's values are its own: a publisher whose render equalled the
# remote's tip (the last winner of the previous race, 1 chance in 50 when
# both drew the same number) reported `unchanged`, correctly, and the race
# then counted one new commit too few.
RACE=0
race_remote() { # URL GITDIR LABEL
	local url=$1 gd=$2 label=$3 i pids=() base
	RACE=$((RACE + 1))
	base=$(git --git-dir="$gd" rev-parse env/prod)
	for i in $(seq $N); do
		rm -rf "$SANDBOX/c$i"
		git clone -q "$C" "$SANDBOX/c$i"
		sed -i "s/256Mi/$((RACE * 1000 + i * 100 + RANDOM % 50))Mi/" "$SANDBOX/c$i/overlays/prod/web.yaml"
		commit_all "$SANDBOX/c$i" "change $i"
	done
	for i in $(seq $N); do
		(cd "$SANDBOX/c$i" && exec "$STRATA" publish --push="$url" prod >"$SANDBOX/o$i" 2>"$SANDBOX/e$i") &
		pids+=($!)
	done
	for i in $(seq $N); do
		wait "${pids[$((i - 1))]}" || fail "$label: publisher $i failed: $(cat "$SANDBOX/e$i")"
	done
	for i in $(seq $N); do
		grep -Eq '^prod +env/prod +(updated|unchanged) +[0-9a-f]{40}$' "$SANDBOX/o$i" || fail "$label: result $i: $(cat "$SANDBOX/o$i")"
		c=$(awk '/^prod /{print $4}' "$SANDBOX/o$i")
		git --git-dir="$gd" merge-base --is-ancestor "$c" env/prod || fail "$label: publisher $i's commit $c was lost"
		[ "$(git --git-dir="$gd" rev-parse "$c^{tree}")" = "$(git -C "$SANDBOX/c$i" rev-parse "env/prod^{tree}")" ] ||
			true # the clone's own branch may have been re-parented since; content checked below
		git --git-dir="$gd" show "$c:web-prod/Deployment.apps_web.yaml" | grep -q "memory: $(grep -o '[0-9]*Mi' "$SANDBOX/c$i/overlays/prod/web.yaml")" ||
			fail "$label: commit $c does not hold publisher $i's render"
	done
	check_linear "$gd" env/prod
	[ "$(git --git-dir="$gd" rev-list --count "$base..env/prod")" = $N ] || fail "$label: want $N new commits, got $(git --git-dir="$gd" rev-list --count "$base..env/prod")"
	fsck_clean "$gd"
}

# seed the remote
R=$SANDBOX/remote.git
git init -q --bare "$R"
(cd "$C" && "$STRATA" publish --push="$R" prod >/dev/null 2>&1) || fail "seed"

race_remote "$R" "$R" "path"
ok "$N concurrent publishers to a bare repository by path: all land, history linear"

D=$SANDBOX/daemon
mkdir -p "$D"
git clone -q --bare "$R" "$D/deploy.git"
start_daemon "$D"
race_remote "git://127.0.0.1:$PORT/deploy.git" "$D/deploy.git" "git://"
ok "$N concurrent publishers over git://: all land, history linear"

# the same source from N clones at once converges on one commit
rm -rf "$SANDBOX/same"
git clone -q "$C" "$SANDBOX/same"
sed -i 's/256Mi/999Mi/' "$SANDBOX/same/overlays/prod/web.yaml"
commit_all "$SANDBOX/same" "same change"
base=$(git -C "$R" rev-parse env/prod)
pids=()
for i in $(seq $N); do
	rm -rf "$SANDBOX/s$i"
	git clone -q "$SANDBOX/same" "$SANDBOX/s$i"
done
for i in $(seq $N); do
	(cd "$SANDBOX/s$i" && exec "$STRATA" publish --push="$R" prod >"$SANDBOX/o$i" 2>"$SANDBOX/e$i") &
	pids+=($!)
done
for i in $(seq $N); do
	wait "${pids[$((i - 1))]}" || fail "same source: publisher $i failed: $(cat "$SANDBOX/e$i")"
done
[ "$(git -C "$R" rev-list --count "$base..env/prod")" = 1 ] || fail "identical publishers made $(git -C "$R" rev-list --count "$base..env/prod") commits"
for i in $(seq $N); do
	[ "$(awk '/^prod /{print $4}' "$SANDBOX/o$i")" = "$(git -C "$R" rev-parse env/prod)" ] || fail "publisher $i reports another commit"
done
fsck_clean "$R"
ok "$N identical publishers converge on one commit"

# N processes in one repository, no push, two sources alternating
cd "$C" || exit 1
sed -i 's/256Mi/300Mi/' overlays/prod/web.yaml
commit_all "$C" "A"
sed -i 's/300Mi/310Mi/' overlays/prod/web.yaml
commit_all "$C" "B"
pids=()
for i in $(seq $((N * 2))); do
	rev=HEAD
	[ $((i % 2)) = 0 ] && rev=HEAD~1
	"$STRATA" publish --rev $rev prod >"$SANDBOX/o$i" 2>"$SANDBOX/e$i" &
	pids+=($!)
done
for i in $(seq $((N * 2))); do
	wait "${pids[$((i - 1))]}" || fail "local race: publisher $i: $(cat "$SANDBOX/e$i")"
	grep -Eq '^prod +env/prod +(created|updated|unchanged) ' "$SANDBOX/o$i" || fail "local race result $i"
done
check_linear "$C/.git" env/prod
fsck_clean "$C"
ok "$((N * 2)) concurrent publishers in one repository"

# SIGKILL in the middle: branch at old or new, fsck clean
K=$SANDBOX/big
make_config "$K"
for i in $(seq 1500); do
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\ndata:\n  k: "%d"\n---\n' "$i" "$i"
done >"$K/base/many.yaml"
commit_all "$K" "many"
cd "$K" || exit 1
"$STRATA" publish prod >/dev/null 2>&1 || fail "big publish"
killed=0
for d in 0.01 0.05 0.1 0.2 0.3 0.5 0.8; do
	old=$(git rev-parse env/prod)
	sed -i "s/^  k: \"1\"$/  k: \"1-$d\"/; s/^  k: \"1-.*\"$/  k: \"1-$d\"/" base/many.yaml
	commit_all "$K" "change $d"
	"$STRATA" publish prod >/dev/null 2>&1 &
	pid=$!
	sleep "$d"
	if kill -9 "$pid" 2>/dev/null; then killed=$((killed + 1)); fi
	wait "$pid" 2>/dev/null
	now=$(git rev-parse env/prod)
	if [ "$now" != "$old" ]; then
		[ "$(git rev-parse env/prod^)" = "$old" ] || fail "killed at $d: tip is neither old nor a child of it"
		git show env/prod:web-prod/ConfigMap_cm-1.yaml | grep -q "1-$d" || fail "killed at $d: new tip with wrong content"
	fi
	rm -f .git/refs/heads/env/prod.lock # a lock a killed process may leave, like git's own
	fsck_clean "$K"
	"$STRATA" publish prod >/dev/null 2>"$SANDBOX/err" || fail "publish after kill at $d: $(cat "$SANDBOX/err")"
	git show env/prod:web-prod/ConfigMap_cm-1.yaml | grep -q "1-$d" || fail "recovery after kill at $d"
done
[ $killed -gt 0 ] || echo "# note: every publish finished before the kill"
ok "SIGKILL mid-publish leaves the branch at the old or new commit, fsck clean ($killed killed)"

echo "1..$TESTS"
