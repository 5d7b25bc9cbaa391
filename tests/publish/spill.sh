#!/bin/bash
# spill.sh - the spill, the unlinked temporary file in the target's objects
# directory that the rendered files wait in while the render is freed:
# publish --all (the last environment's render takes the parsed base, which
# is freed before its trees) builds the trees one-by-one publishes build;
# a spill that cannot be created or written fails the environment with
# exit 6 and one line, moves no ref and leaves nothing in objects/.
. "$(dirname "$0")/lib.sh"

C=$SANDBOX/config
make_config "$C"
cd "$C" || exit 1
# enough resources that the spill is written in several pieces
awk 'BEGIN { for (i = 0; i < 2000; i++)
	printf "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%04d\ndata:\n  k: \"%d\"\n", i, i }' \
	>base/many.yaml
commit_all "$C" "many config maps"

# Nothing in objects/ but objects (fan-out dirs, info, pack).
objects_clean() { # GITDIR
	local extra
	extra=$(ls -A "$1/objects" | grep -Ev '^([0-9a-f]{2}|info|pack)$')
	[ -z "$extra" ] || fail "left in $1/objects: $extra"
}

# 1. --all equals one publish per environment, and equals render --out
git init -q --bare "$SANDBOX/one.git"
git init -q --bare "$SANDBOX/all.git"
for e in dev prod; do
	st publish --target "$SANDBOX/one.git" "$e" || fail "publish $e: $(cat "$SANDBOX/err")"
done
st publish --target "$SANDBOX/all.git" --all || fail "publish --all: $(cat "$SANDBOX/err")"
for e in dev prod; do
	grep -Eq "^$e +env/$e +created " "$SANDBOX/out" || fail "--all summary: $(cat "$SANDBOX/out")"
	one=$(git -C "$SANDBOX/one.git" rev-parse "env/$e")
	all=$(git -C "$SANDBOX/all.git" rev-parse "env/$e")
	[ "$one" = "$all" ] || fail "$e: --all made $all, a single publish $one"
	"$STRATA" render --out "$SANDBOX/rendered" "$e" 2>"$SANDBOX/err" || fail "render --out $e: $(cat "$SANDBOX/err")"
	branch_files "$SANDBOX/all.git" "env/$e" "$SANDBOX/branch"
	diff -r -x .strata-render "$SANDBOX/rendered" "$SANDBOX/branch" >/dev/null ||
		fail "$e: branch differs from render --out"
done
fsck_clean "$SANDBOX/all.git"
objects_clean "$SANDBOX/all.git"
[ "$(ls "$SANDBOX/all.git/objects/pack" | grep -c '\.pack$')" = 2 ] || fail "one pack per environment: $(ls "$SANDBOX/all.git/objects/pack")"
st publish --target "$SANDBOX/all.git" --all || fail "republish --all: $(cat "$SANDBOX/err")"
[ "$(grep -c unchanged "$SANDBOX/out")" = 2 ] || fail "republish --all: $(cat "$SANDBOX/out")"
ok "publish --all builds the trees of single publishes and of render --out"

# 1b. the pack is delta-compressed: the packbuilder's own config (publish.c
# pbconf) bounds the delta cache, and libgit2 reads its big file threshold
# from the same key, so the value must not exclude every file from deltas
deltas=0
for idx in "$SANDBOX"/all.git/objects/pack/*.idx; do
	n=$(git verify-pack -v "$idx" | grep -c '^chain length')
	deltas=$((deltas + n))
done
[ "$deltas" -gt 0 ] || fail "no object of the packs is a delta: $(du -sk "$SANDBOX/all.git/objects/pack")"
ok "the packs have deltas"

# 2. a spill that cannot be written: no room left in the file (ulimit -f;
# SIGXFSZ ignored, so write(2) fails with EFBIG instead of killing; stderr
# goes through a pipe, which the limit does not apply to)
git init -q --bare "$SANDBOX/full.git"
(trap '' XFSZ; ulimit -f 0
 exec "$STRATA" publish --target "$SANDBOX/full.git" prod 2>&1 >/dev/null) |
	cat >"$SANDBOX/err"
rc=${PIPESTATUS[0]}
[ $rc = 6 ] || fail "spill write failure: exit $rc, want 6: $(cat "$SANDBOX/err")"
[ "$(wc -l <"$SANDBOX/err")" = 1 ] || fail "one line: $(cat "$SANDBOX/err")"
grep -q "^strata publish: prod: .*/objects: cannot write a temporary file: " "$SANDBOX/err" ||
	fail "message: $(cat "$SANDBOX/err")"
[ -z "$(git -C "$SANDBOX/full.git" for-each-ref)" ] || fail "a ref moved"
objects_clean "$SANDBOX/full.git"
ok "a spill that cannot be written: exit 6, one line, no ref, nothing left"

# 3. a spill that cannot be created: objects/ not writable (for root,
# which writes anywhere, immutable)
git init -q --bare "$SANDBOX/ro.git"
st publish --target "$SANDBOX/ro.git" dev || fail "publish dev: $(cat "$SANDBOX/err")"
dev_tip=$(git -C "$SANDBOX/ro.git" rev-parse env/dev)
sed -i 's/256Mi/512Mi/' overlays/prod/web.yaml
sed -i 's/hello dev/hi dev/' overlays/dev/config.yaml
commit_all "$C" "both change"
RO=$SANDBOX/ro.git/objects
locked=
if [ "$(id -u)" = 0 ]; then
	chattr +i "$RO" 2>/dev/null && locked=chattr
else
	chmod a-w "$RO" && locked=chmod
fi
if [ -z "$locked" ]; then
	echo "# skip: a spill that cannot be created (no way to lock objects/ here)"
else
	unlock() {
		if [ "$locked" = chattr ]; then chattr -i "$RO"; else chmod u+w "$RO"; fi
	}
	trap 'unlock; cleanup' EXIT
	st publish --target "$SANDBOX/ro.git" dev prod
	rc=$?
	unlock
	trap cleanup EXIT
	[ $rc = 6 ] || fail "spill create failure: exit $rc, want 6: $(cat "$SANDBOX/err")"
	[ "$(grep -c "cannot create a temporary file" "$SANDBOX/err")" = 2 ] ||
		fail "message per environment: $(cat "$SANDBOX/err")"
	grep -q "^strata publish: dev: $RO: cannot create a temporary file: " "$SANDBOX/err" ||
		fail "message: $(cat "$SANDBOX/err")"
	[ "$(git -C "$SANDBOX/ro.git" rev-parse env/dev)" = "$dev_tip" ] || fail "env/dev moved"
	git -C "$SANDBOX/ro.git" rev-parse -q --verify env/prod >/dev/null && fail "env/prod made"
	objects_clean "$SANDBOX/ro.git"
	st publish --target "$SANDBOX/ro.git" dev prod || fail "after unlocking: $(cat "$SANDBOX/err")"
	fsck_clean "$SANDBOX/ro.git"
	ok "a spill that cannot be created: exit 6, no ref moved"
fi

echo "1..$TESTS"
