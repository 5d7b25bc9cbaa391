#!/bin/bash
# refuse.sh - bad input never reaches git: invalid branch names, a
# protected branch without --adopt, the checked-out branch, an unknown
# environment, a held ref lock; --all goes on past a failure.
. "$(dirname "$0")/lib.sh"

C=$SANDBOX/config
make_config "$C"
cd "$C" || exit 1
git init -q --bare "$SANDBOX/deploy.git"

set_branch() { # TEMPLATE: the [strata] branch of the committed config
	sed -i '/^branch = /d' strata.ini
	sed -i "s|^base = base\$|base = base\nbranch = $1|" strata.ini
	commit_all "$C" "branch $1"
}
refs_before=$(git for-each-ref | sort)

for bad in '--upload-pack=x' '../HEAD' 'a..b' 'x.lock' 'env/{env}.lock' '-x' 'a b' 'a~1' 'refs/tags/{env}' 'HEAD'; do
	set_branch "$bad"
	st publish prod
	rc=$?
	[ $rc = 3 ] || fail "branch '$bad': exit $rc, want 3: $(cat "$SANDBOX/err")"
	grep -q "branch" "$SANDBOX/err" || fail "branch '$bad': message: $(cat "$SANDBOX/err")"
	git -C "$SANDBOX/deploy.git" for-each-ref | grep -q . && fail "a ref was written for '$bad'"
done
[ "$(git for-each-ref | grep -v refs/heads/main | sort)" = "$(echo "$refs_before" | grep -v refs/heads/main)" ] || fail "refs changed"
ok "invalid branch names are rejected before any git call"

# main, checked out: refused
set_branch 'env/{env}'
sed -i 's/^\[env "prod"\]$/[env "prod"]\nbranch = main/' strata.ini
commit_all "$C" "prod on main"
st publish prod
[ $? = 8 ] || fail "checked-out main: $(cat "$SANDBOX/err")"
grep -q "checked out" "$SANDBOX/err" || fail "checked-out message: $(cat "$SANDBOX/err")"
st publish --adopt prod
[ $? = 8 ] || fail "--adopt never allows the checked-out branch"
ok "the checked-out branch is refused, even with --adopt"

# main in a separate repository: refused without --adopt, allowed with it
git clone -q --bare "$C" "$SANDBOX/other.git"
main_before=$(git -C "$SANDBOX/other.git" rev-parse main)
st publish --target "$SANDBOX/other.git" prod
[ $? = 8 ] || fail "foreign main: $(cat "$SANDBOX/err")"
grep -q "adopt" "$SANDBOX/err" || fail "refusal names --adopt: $(cat "$SANDBOX/err")"
[ "$(git -C "$SANDBOX/other.git" rev-parse main)" = "$main_before" ] || fail "main moved"
st publish --target "$SANDBOX/other.git" --adopt prod || fail "--adopt: $(cat "$SANDBOX/err")"
[ "$(git -C "$SANDBOX/other.git" rev-parse main^)" = "$main_before" ] || fail "adopted on top of main"
st publish --target "$SANDBOX/other.git" prod || fail "after adoption strata owns it: $(cat "$SANDBOX/err")"
grep -q unchanged "$SANDBOX/out" || fail "unchanged after adopt"
fsck_clean "$SANDBOX/other.git"
ok "a branch strata did not make needs --adopt"

# a branch made for another environment is foreign too
sed -i 's/^branch = main$/branch = env\/prod/' strata.ini
commit_all "$C" "prod back on env/prod"
st publish --target "$SANDBOX/deploy.git" dev || fail "dev: $(cat "$SANDBOX/err")"
git -C "$SANDBOX/deploy.git" update-ref refs/heads/env/prod refs/heads/env/dev
st publish --target "$SANDBOX/deploy.git" prod
[ $? = 8 ] || fail "env/prod holding dev's commit must be refused: $(cat "$SANDBOX/err")"
ok "a tip made for another environment is refused"
git -C "$SANDBOX/deploy.git" update-ref -d refs/heads/env/prod

# unknown environment, with a suggestion; --all-style independence
st publish --target "$SANDBOX/deploy.git" prdo
[ $? = 5 ] || fail "unknown env: exit $?: $(cat "$SANDBOX/err")"
grep -q "prod" "$SANDBOX/err" || fail "did-you-mean: $(cat "$SANDBOX/err")"
st publish --target "$SANDBOX/deploy.git" nope prod
[ $? = 5 ] || fail "one unknown env fails the run"
grep -Eq '^prod +env/prod +created ' "$SANDBOX/out" || fail "prod still published: $(cat "$SANDBOX/out")"
grep -Eq '^nope +- +failed +-$' "$SANDBOX/out" || fail "nope failed row: $(cat "$SANDBOX/out")"
ok "unknown environment fails alone, the others are published"

# a held lock: clear error, lock left alone, branch unchanged
sed -i 's/256Mi/1Gi/' overlays/prod/web.yaml
commit_all "$C" "more memory"
tip=$(git -C "$SANDBOX/deploy.git" rev-parse env/prod)
echo "held" >"$SANDBOX/deploy.git/refs/heads/env/prod.lock"
st publish --target "$SANDBOX/deploy.git" prod
[ $? = 7 ] || fail "held lock: exit $?: $(cat "$SANDBOX/err")"
grep -q "env/prod.lock" "$SANDBOX/err" || fail "lock message: $(cat "$SANDBOX/err")"
[ "$(cat "$SANDBOX/deploy.git/refs/heads/env/prod.lock")" = held ] || fail "lock touched"
[ "$(git -C "$SANDBOX/deploy.git" rev-parse env/prod)" = "$tip" ] || fail "branch moved under a lock"
rm "$SANDBOX/deploy.git/refs/heads/env/prod.lock"
st publish --target "$SANDBOX/deploy.git" prod || fail "after the lock is gone: $(cat "$SANDBOX/err")"
grep -q updated "$SANDBOX/out" || fail "updated after lock"
fsck_clean "$SANDBOX/deploy.git"
ok "a held ref lock is a clear error and is left in place"

# a plaintext Secret in prod: strata check's rules run first, nothing is written
mkdir -p overlays/prod/resources
cat >overlays/prod/resources/secret.yaml <<'YAML'
apiVersion: v1
kind: Secret
metadata:
  name: db
stringData:
  password: hunter2-do-not-print
YAML
commit_all "$C" "plaintext secret"
tip=$(git -C "$SANDBOX/deploy.git" rev-parse env/prod)
st publish --target "$SANDBOX/deploy.git" prod
[ $? = 10 ] || fail "plaintext secret: exit $?: $(cat "$SANDBOX/err")"
grep -q "plaintext-secret" "$SANDBOX/err" || fail "secret message: $(cat "$SANDBOX/err")"
grep -q "hunter2" "$SANDBOX/err" "$SANDBOX/out" && fail "the secret value was printed"
[ "$(git -C "$SANDBOX/deploy.git" rev-parse env/prod)" = "$tip" ] || fail "branch moved with a plaintext secret"
git rm -q overlays/prod/resources/secret.yaml
commit_all "$C" "no secret"
ok "a plaintext Secret is refused before anything is written"

# usage errors
st publish
[ $? = 2 ] || fail "no env: usage"
st publish --all prod
[ $? = 2 ] || fail "--all with env: usage"
st publish --rev HEAD --worktree prod
[ $? = 2 ] || fail "--rev with --worktree: usage"
st publish --rev=--output=x prod
[ $? = 2 ] || fail "option-like revision"
st publish --rev no-such-rev prod
[ $? = 5 ] || fail "unknown revision: $? $(cat "$SANDBOX/err")"
ok "usage errors"

echo "1..$TESTS"
