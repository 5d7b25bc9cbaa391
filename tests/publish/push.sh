#!/bin/bash
# push.sh - --push to a bare repository by path and to git daemon over
# git:// on 127.0.0.1; a CI-style fresh clone re-parents onto the remote
# branch; a pre-receive hook's rejection is an error carrying its message.
. "$(dirname "$0")/lib.sh"

C=$SANDBOX/config
make_config "$C"
cd "$C" || exit 1

# 1. bare repository by path (named remote and plain path)
R=$SANDBOX/remote.git
git init -q --bare "$R"
git remote add origin "$R"
st publish --all --push || fail "push to origin: $(cat "$SANDBOX/err")"
grep -Eq '^dev +env/dev +created ' "$SANDBOX/out" || fail "summary: $(cat "$SANDBOX/out")"
[ "$(git -C "$R" rev-parse env/prod)" = "$(git rev-parse env/prod)" ] || fail "remote env/prod = local"
[ "$(git rev-parse refs/remotes/origin/env/prod)" = "$(git rev-parse env/prod)" ] || fail "tracking ref updated"
fsck_clean "$R"
st publish --all --push="$R" || fail "push by path: $(cat "$SANDBOX/err")"
[ "$(grep -c unchanged "$SANDBOX/out")" = 2 ] || fail "unchanged by path: $(cat "$SANDBOX/out")"
ok "push to a bare repository (remote name and path)"

# 2. CI: a fresh clone without local env branches publishes on top of the remote's
git push -q origin main
git clone -q "$R" "$SANDBOX/ci"
sed -i 's/256Mi/384Mi/' "$SANDBOX/ci/overlays/prod/web.yaml"
commit_all "$SANDBOX/ci" "prod memory"
old=$(git -C "$R" rev-parse env/prod)
(cd "$SANDBOX/ci" && st publish --all --push) || fail "CI publish: $(cat "$SANDBOX/err")"
grep -Eq '^prod +env/prod +updated ' "$SANDBOX/out" || fail "CI prod updated: $(cat "$SANDBOX/out")"
grep -Eq '^dev +env/dev +unchanged ' "$SANDBOX/out" || fail "CI dev unchanged: $(cat "$SANDBOX/out")"
[ "$(git -C "$R" rev-parse env/prod^)" = "$old" ] || fail "re-parented onto the remote tip"
fsck_clean "$R"
fsck_clean "$SANDBOX/ci"
ok "a fresh clone publishes on top of the remote branch"

# 3. the local branch is behind: the remote wins, nothing is forced
[ "$(git rev-parse env/prod)" != "$(git -C "$R" rev-parse env/prod)" ] || fail "local should be behind"
st publish --push prod || fail "stale local: $(cat "$SANDBOX/err")"
[ "$(git -C "$R" rev-parse env/prod)" = "$(git rev-parse env/prod)" ] || fail "local caught up"
git -C "$R" merge-base --is-ancestor "$old" env/prod || fail "remote history kept"
ok "a stale local branch is re-parented onto the remote"

# 4. git daemon: a real network transport
D=$SANDBOX/daemon
mkdir -p "$D"
git init -q --bare "$D/deploy.git"
start_daemon "$D"
URL="git://127.0.0.1:$PORT/deploy.git"
st publish --all --push="$URL" || fail "push to daemon: $(cat "$SANDBOX/err")"
[ "$(git -C "$D/deploy.git" rev-parse env/prod)" = "$(git rev-parse env/prod)" ] || fail "daemon has env/prod"
sed -i 's/256Mi/768Mi/' overlays/prod/web.yaml
commit_all "$C" "prod: 768Mi"
st publish --all --push="$URL" || fail "second push to daemon: $(cat "$SANDBOX/err")"
grep -Eq '^prod +env/prod +updated ' "$SANDBOX/out" || fail "daemon update: $(cat "$SANDBOX/out")"
git -C "$D/deploy.git" show env/prod:web-prod/Deployment.apps_web.yaml | grep -q 768Mi || fail "daemon content"
fsck_clean "$D/deploy.git"
ok "push over git:// to git daemon"

# push_rejected GITDIR REMOTE MEMORY REASON WHAT: change prod's memory,
# commit, publish --push=REMOTE: exit 9, REASON (a grep pattern) on stderr,
# the remote's env/prod (in GITDIR) unmoved.
push_rejected() {
	local before rc
	before=$(git --git-dir="$1" rev-parse env/prod)
	sed -i "s/memory: .*/memory: $3/" overlays/prod/web.yaml
	commit_all "$C" "prod: $3 ($5)"
	st publish --push="$2" prod
	rc=$?
	[ $rc = 9 ] || fail "$5: exit $rc: $(cat "$SANDBOX/err")"
	grep -q "$4" "$SANDBOX/err" || fail "$5: reason: $(cat "$SANDBOX/err")"
	[ "$(git --git-dir="$1" rev-parse env/prod)" = "$before" ] || fail "$5: remote moved"
}

# 5. a pre-receive hook that rejects: non-zero exit and the hook's message
n=0
for remote in "$URL" "$R"; do
	n=$((n + 1))
	case $remote in git://*) H=$D/deploy.git/hooks ;; *) H=$R/hooks ;; esac
	mkdir -p "$H"
	printf '#!/bin/sh\necho "deploys are frozen until monday" >&2\nexit 1\n' >"$H/pre-receive"
	chmod +x "$H/pre-receive"
	push_rejected "$H/.." "$remote" "${n}Gi" "deploys are frozen until monday" \
		"hook rejection via $remote"
	grep -q "rejected" "$SANDBOX/err" || fail "rejected: $(cat "$SANDBOX/err")"
	grep -Eq '^prod +env/prod +failed ' "$SANDBOX/out" || fail "failed row"
	rm "$H/pre-receive"
done
ok "a pre-receive hook's rejection fails with its message (git:// and path)"

# 6. the remote branch was made by someone else: refused without --adopt
git -C "$R" update-ref refs/heads/env/dev refs/heads/main
st publish --push prod dev
[ $? = 8 ] || fail "foreign remote branch: $(cat "$SANDBOX/err")"
grep -q "adopt" "$SANDBOX/err" || fail "adopt hint"
grep -Eq '^prod +env/prod +updated ' "$SANDBOX/out" || fail "prod still pushed: $(cat "$SANDBOX/out")"
ok "a remote branch strata did not make is refused"

# 7. an unknown remote
st publish --push=nosuchremote prod
[ $? = 7 ] || fail "unknown remote: $? $(cat "$SANDBOX/err")"
grep -q "nosuchremote" "$SANDBOX/err" || fail "message names the remote"
ok "an unknown remote is an error"

# 8. the remote ref is locked by another push (receive-pack: "failed to
# update ref"), and the remote has not moved yet: a lost race, retried.
# A pre-receive hook stands in for the other push: it lets go of the lock
# on the third push it sees.
H=$R/hooks
mkdir -p "$H"
: >"$SANDBOX/pushes"
{
	echo '#!/bin/sh'
	echo "echo x >>'$SANDBOX/pushes'"
	echo "[ \$(wc -l <'$SANDBOX/pushes') -ge 3 ] && rm -f '$R/refs/heads/env/prod.lock'"
	echo 'exit 0'
} >"$H/pre-receive"
chmod +x "$H/pre-receive"
: >"$R/refs/heads/env/prod.lock"
sed -i "s/memory: .*/memory: 3Gi/" overlays/prod/web.yaml
commit_all "$C" "prod: 3Gi (locked)"
st publish --push="$R" prod || fail "push past a released lock: $(cat "$SANDBOX/err")"
grep -Eq '^prod +env/prod +updated ' "$SANDBOX/out" || fail "locked: $(cat "$SANDBOX/out")"
[ "$(wc -l <"$SANDBOX/pushes")" -ge 3 ] || fail "the lock was never met: $(wc -l <"$SANDBOX/pushes") pushes"
git --git-dir="$R" show env/prod:web-prod/Deployment.apps_web.yaml | grep -q 3Gi || fail "locked: content"
ok "a ref locked by another push is retried until it is free"

# ... and a lock that never goes (a stale lock file): rejected, exit 9, with
# git's reason, the remote unmoved
rm "$H/pre-receive"
: >"$R/refs/heads/env/prod.lock"
push_rejected "$R" "$R" 4Gi "failed to update ref" "stale lock"
rm -f "$R/refs/heads/env/prod.lock"
ok "a stale lock on the remote ref is a rejection naming git's reason"

echo "1..$TESTS"
