#!/bin/bash
# basic.sh - publish into a fresh repository, republish, change an overlay,
# and check the branch against `strata render --out` and git fsck; also
# --rev, --worktree, --target, layout = stream, history, rollback and
# reproducible commit ids.
. "$(dirname "$0")/lib.sh"

C=$SANDBOX/config
make_config "$C"
cd "$C" || exit 1

# 1. fresh publish
st publish prod || fail "first publish: $(cat "$SANDBOX/err")"
grep -Eq '^prod +env/prod +created +[0-9a-f]{40}$' "$SANDBOX/out" || fail "summary: $(cat "$SANDBOX/out")"
tip1=$(git rev-parse env/prod)
grep -q "$tip1" "$SANDBOX/out" || fail "summary names the commit"
[ "$(git rev-list --count env/prod)" = 1 ] || fail "one commit"
fsck_clean "$C"
src1=$(git rev-parse HEAD)
msg=$(git log -1 --format=%B env/prod)
echo "$msg" | head -1 | grep -qx "prod: render ${src1:0:7} initial config" || fail "subject: $msg"
echo "$msg" | grep -qx "Strata-Env: prod" || fail "Strata-Env trailer"
echo "$msg" | grep -qx "Strata-Source: $src1" || fail "Strata-Source trailer"
echo "$msg" | grep -Eqx "Strata-Version: [0-9.]+" || fail "Strata-Version trailer"
[ "$(git log -1 --format=%ct env/prod)" = "$(git log -1 --format=%ct HEAD)" ] || fail "commit time = source time"
[ "$(git log -1 --format='%an <%ae>' env/prod)" = "Test Author <test@example.com>" ] || fail "identity from git config"
git status --porcelain | grep -q . && fail "worktree touched"
ok "fresh publish creates env/prod with provenance"

# branch files == render --out
"$STRATA" render --out "$SANDBOX/rendered" prod 2>"$SANDBOX/err" || fail "render --out: $(cat "$SANDBOX/err")"
branch_files "$C" env/prod "$SANDBOX/branch"
diff -r -x .strata-render "$SANDBOX/rendered" "$SANDBOX/branch" || fail "branch differs from render --out"
git show env/prod:kustomization.yaml | grep -q '^kind: Kustomization' || fail "kustomization.yaml"
git ls-tree -r --name-only env/prod | grep -q strata-render && fail "marker file on the branch"
if command -v kubectl >/dev/null; then
	git archive env/prod | (mkdir -p "$SANDBOX/k" && tar -x -C "$SANDBOX/k")
	kubectl kustomize "$SANDBOX/k" >"$SANDBOX/k.yaml" 2>"$SANDBOX/err" || fail "kubectl kustomize of the branch: $(cat "$SANDBOX/err")"
	[ "$(grep -c '^kind:' "$SANDBOX/k.yaml")" = "$(ls "$SANDBOX"/rendered/*/*.yaml | wc -l)" ] || fail "kustomize sees every resource"
fi
ok "branch files equal render --out; kubectl kustomize reads the branch"

# 2. unchanged
st publish prod || fail "republish: $(cat "$SANDBOX/err")"
grep -Eq '^prod +env/prod +unchanged +'"$tip1"'$' "$SANDBOX/out" || fail "unchanged: $(cat "$SANDBOX/out")"
[ "$(git rev-parse env/prod)" = "$tip1" ] || fail "tip moved"
fsck_clean "$C"
ok "republish is unchanged and makes no commit"

# a commit that does not change the render is unchanged too
echo "# notes" >README.md
commit_all "$C" "docs only"
st publish prod || fail "publish after docs"
grep -q unchanged "$SANDBOX/out" || fail "docs-only change: $(cat "$SANDBOX/out")"
ok "a source change that renders the same is unchanged"

# 3. overlay change: one new commit on top
sed -i 's/256Mi/512Mi/' overlays/prod/web.yaml
commit_all "$C" "prod: more memory"
st publish prod || fail "publish change: $(cat "$SANDBOX/err")"
grep -Eq '^prod +env/prod +updated ' "$SANDBOX/out" || fail "updated: $(cat "$SANDBOX/out")"
tip2=$(git rev-parse env/prod)
[ "$(git rev-parse env/prod^)" = "$tip1" ] || fail "parent is the old tip"
[ "$(git rev-list --count env/prod)" = 2 ] || fail "exactly one new commit"
git show env/prod:web-prod/Deployment.apps_web.yaml | grep -q 512Mi || fail "new content"
"$STRATA" render --out "$SANDBOX/rendered" prod || fail "render"
branch_files "$C" env/prod "$SANDBOX/branch"
diff -r -x .strata-render "$SANDBOX/rendered" "$SANDBOX/branch" || fail "branch differs from render after change"
fsck_clean "$C"
ok "overlay change makes one commit whose parent is the old tip"

# 4. --rev renders an older revision without touching the worktree
echo "dirty: yes" >>base/service.yaml   # a dirty worktree must not matter
st publish --rev HEAD~2 prod || fail "publish --rev: $(cat "$SANDBOX/err")"
[ "$(git rev-parse env/prod^{tree})" = "$(git rev-parse "$tip1^{tree}")" ] || fail "--rev HEAD~2 renders the old tree"
git log -1 --format=%B env/prod | grep -qx "Strata-Source: $src1" || fail "--rev source recorded"
"$STRATA" render --rev HEAD~2 prod >"$SANDBOX/r1" 2>"$SANDBOX/err" || fail "render --rev: $(cat "$SANDBOX/err")"
git checkout -q "$src1" -- . 2>/dev/null
"$STRATA" render prod >"$SANDBOX/r2" || fail "render worktree"
git checkout -q HEAD -- . && git checkout -q -- .
cmp -s "$SANDBOX/r1" "$SANDBOX/r2" || fail "render --rev differs from a checkout of that revision"
git checkout -q -- base/service.yaml
ok "--rev publishes and renders an old revision, dirty worktree ignored"

# 5. --worktree
sed -i 's/greeting: hello$/greeting: hi/' base/namespace.yaml
st publish --worktree prod || fail "publish --worktree: $(cat "$SANDBOX/err")"
git log -1 --format=%B env/prod | grep -qx "Strata-Source: worktree" || fail "worktree source"
git log -1 --format=%s env/prod | grep -qx "prod: render worktree" || fail "worktree subject"
git show env/prod:web-prod/ConfigMap_web-config.yaml | grep -q "greeting: hi" || fail "worktree content"
git checkout -q -- base/namespace.yaml
ok "--worktree renders the working directory and says so"

# 6. history lists source commits; rollback restores an old tree
st history prod || fail "history: $(cat "$SANDBOX/err")"
[ "$(wc -l <"$SANDBOX/out")" = "$(git rev-list --count env/prod)" ] || fail "history length"
head -1 "$SANDBOX/out" | grep -q "^$(git rev-parse env/prod)  worktree  " || fail "history head: $(head -1 "$SANDBOX/out")"
tail -1 "$SANDBOX/out" | grep -q "^$tip1  $src1  " || fail "history tail: $(tail -1 "$SANDBOX/out")"
before=$(git rev-parse env/prod)
st rollback prod --to "$tip1" || fail "rollback: $(cat "$SANDBOX/err")"
[ "$(git rev-parse env/prod^)" = "$before" ] || fail "rollback moves forward"
[ "$(git rev-parse env/prod^{tree})" = "$(git rev-parse "$tip1^{tree}")" ] || fail "rollback tree"
git log -1 --format=%B env/prod | grep -qx "Strata-Rollback-Of: $tip1" || fail "rollback trailer"
git log -1 --format=%B env/prod | grep -qx "Strata-Source: $src1" || fail "rollback keeps the source"
st rollback prod --to "$tip1" || fail "second rollback"
grep -q unchanged "$SANDBOX/out" || fail "second rollback unchanged"
st rollback prod --to "$(git rev-parse HEAD)"
[ $? = 8 ] || fail "rollback to a non-env commit must be refused (8)"
fsck_clean "$C"
ok "history and rollback"

# 7. reproducible: another clone publishing the same source gets the same id
git clone -q "$C" "$SANDBOX/clone"
git -C "$SANDBOX/clone" fetch -q "$C" "$tip1"
git -C "$SANDBOX/clone" branch -q -f env/prod "$tip1"
git -C "$C" branch -q -f env/prod "$tip1"
(cd "$SANDBOX/clone" && "$STRATA" publish prod >/dev/null 2>&1) || fail "publish in clone"
st publish prod || fail "publish again"
[ "$(git -C "$SANDBOX/clone" rev-parse env/prod)" = "$(git rev-parse env/prod)" ] || fail "same source + same tip = same commit id"
ok "reproducible commit ids"

# 8. --target writes into another repository; layout = stream
git init -q --bare "$SANDBOX/deploy.git"
st publish --target "$SANDBOX/deploy.git" dev prod || fail "--target: $(cat "$SANDBOX/err")"
git -C "$SANDBOX/deploy.git" rev-parse -q --verify env/dev >/dev/null || fail "env/dev in target"
git rev-parse -q --verify env/dev >/dev/null && fail "config repo untouched by --target"
fsck_clean "$SANDBOX/deploy.git"
sed -i 's/^base = base$/base = base\nlayout = stream/' strata.ini
commit_all "$C" "stream layout"
st publish --target "$SANDBOX/deploy.git" dev || fail "stream: $(cat "$SANDBOX/err")"
[ "$(git -C "$SANDBOX/deploy.git" ls-tree --name-only env/dev)" = "$(printf 'kustomization.yaml\nmanifests.yaml')" ] || fail "stream tree: $(git -C "$SANDBOX/deploy.git" ls-tree --name-only env/dev)"
"$STRATA" render dev >"$SANDBOX/stream"
git -C "$SANDBOX/deploy.git" show env/dev:manifests.yaml | cmp -s - "$SANDBOX/stream" || fail "manifests.yaml = render stream"
ok "--target and layout = stream"

# 9. [publish] identity, --message
printf '\n[publish]\nname = Deploy Bot\nemail = bot@example.com\n' >>strata.ini
commit_all "$C" "identity"
st publish --target "$SANDBOX/deploy.git" --message "release 42" prod || fail "message: $(cat "$SANDBOX/err")"
[ "$(git -C "$SANDBOX/deploy.git" log -1 --format='%an <%ae>|%cn|%s' env/prod)" = "Deploy Bot <bot@example.com>|Deploy Bot|release 42" ] ||
	fail "identity/message: $(git -C "$SANDBOX/deploy.git" log -1 --format='%an <%ae>|%cn|%s' env/prod)"
ok "[publish] identity and --message"

# 10. -j and --limit after the subcommand: same commit for every -j; a
# limit stops the publish before anything is written
for t in j1 j4 lim; do git init -q --bare "$SANDBOX/$t.git"; done
st publish --target "$SANDBOX/j1.git" -j 1 prod || fail "-j 1: $(cat "$SANDBOX/err")"
st publish --target "$SANDBOX/j4.git" --jobs=4 prod || fail "--jobs=4: $(cat "$SANDBOX/err")"
[ "$(git -C "$SANDBOX/j1.git" rev-parse env/prod)" = "$(git -C "$SANDBOX/j4.git" rev-parse env/prod)" ] ||
	fail "-j 1 and -j 4 give different commits"
st publish --target "$SANDBOX/lim.git" --limit files=1 prod
code=$?
[ "$code" = 4 ] || fail "--limit files=1: exit $code (want 4): $(cat "$SANDBOX/err")"
grep -q "too many files" "$SANDBOX/err" || fail "--limit message: $(cat "$SANDBOX/err")"
git -C "$SANDBOX/lim.git" rev-parse --verify -q env/prod >/dev/null && fail "branch written despite the limit"
st publish -j 0 prod
[ $? = 2 ] || fail "-j 0 is a usage error"
ok "-j and --limit after publish"

echo "1..$TESTS"
