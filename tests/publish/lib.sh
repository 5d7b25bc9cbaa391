# lib.sh - shared helpers of the publish integration scripts.
#
# Every script gets the strata binary as $1, works in a fresh mktemp
# directory (removed on exit) and fails loudly with `fail MSG`.  Fixture
# repositories are built with the git CLI, never in the source tree.

set -u

STRATA=${1:?usage: $0 path/to/strata}
case $STRATA in /*) ;; *) STRATA=$PWD/$STRATA ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
# libgit2 1.5 leaks a pcre2 match block per failed regex match (config
# globs); not ours, so keep sanitizer builds quiet about it.
export LSAN_OPTIONS="suppressions=$HERE/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
# A known identity and no user config: results must not depend on the host.
export GIT_CONFIG_NOSYSTEM=1
export HOME=$(mktemp -d "${TMPDIR:-/tmp}/strata-home.XXXXXX")
git config --global user.name "Test Author"
git config --global user.email "test@example.com"
git config --global init.defaultBranch main
git config --global protocol.file.allow always

SANDBOX=$(mktemp -d "${TMPDIR:-/tmp}/strata-publish.XXXXXX")
DAEMON_PID=
cleanup() {
	if [ -n "$DAEMON_PID" ]; then
		kill "$DAEMON_PID" 2>/dev/null
		wait "$DAEMON_PID" 2>/dev/null
	fi
	rm -rf "$SANDBOX" "$HOME"
}
trap cleanup EXIT

TESTS=0
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
ok() {
	TESTS=$((TESTS + 1))
	echo "ok $TESTS - $*"
}

# strata, with stdout in $SANDBOX/out and stderr in $SANDBOX/err; $? kept.
st() {
	"$STRATA" "$@" >"$SANDBOX/out" 2>"$SANDBOX/err"
}

# Errors and warnings fail; dangling objects (a losing racer's commit) are
# normal git garbage, not corruption.
fsck_clean() {
	git -C "$1" fsck --strict --no-progress >"$SANDBOX/fsck" 2>&1 ||
		fail "git fsck in $1: $(cat "$SANDBOX/fsck")"
	if grep -Ev '^(notice:|dangling )' "$SANDBOX/fsck" | grep -q .; then
		fail "git fsck in $1 complained: $(cat "$SANDBOX/fsck")"
	fi
}

# make_config DIR: a config repository with a base and two environments.
make_config() {
	local d=$1
	mkdir -p "$d/base" "$d/overlays/prod" "$d/overlays/dev"
	cat >"$d/strata.ini" <<'INI'
[strata]
base = base

[env "dev"]
namespace = web-dev
var.REPLICAS = 1

[env "prod"]
namespace = web-prod
label.env = prod
var.REPLICAS = 3
INI
	cat >"$d/base/deployment.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: ${REPLICAS}
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports:
        - containerPort: 80
YAML
	cat >"$d/base/service.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - port: 80
YAML
	cat >"$d/base/namespace.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  greeting: hello
YAML
	cat >"$d/overlays/prod/web.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: web
        resources:
          limits:
            memory: 256Mi
YAML
	cat >"$d/overlays/dev/config.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  greeting: hello dev
YAML
	git -C "$d" init -q
	git -C "$d" add -A
	git -C "$d" commit -q -m "initial config"
}

# commit_all DIR MSG
commit_all() {
	git -C "$1" add -A
	git -C "$1" commit -q -m "$2"
}

# The tree of a branch, checked out into a directory.  It must equal
# `render --out` (kustomization.yaml included) but for the marker file.
branch_files() { # REPO BRANCH DIR
	rm -rf "$3"
	mkdir -p "$3"
	git -C "$1" archive "$2" | tar -x -C "$3"
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_daemon BASE: git daemon on 127.0.0.1, receive-pack on; sets PORT.
start_daemon() {
	local base=$1 i
	[ -d "$base/probe.git" ] || git init -q --bare "$base/probe.git"
	for i in 1 2 3 4 5; do
		PORT=$(free_port)
		git daemon --reuseaddr --listen=127.0.0.1 --port="$PORT" \
			--base-path="$base" --export-all --enable=receive-pack \
			--informative-errors "$base" >"$SANDBOX/daemon.log" 2>&1 &
		DAEMON_PID=$!
		for _ in $(seq 50); do
			if git ls-remote "git://127.0.0.1:$PORT/probe.git" >/dev/null 2>&1; then
				return 0
			fi
			kill -0 "$DAEMON_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill "$DAEMON_PID" 2>/dev/null
		wait "$DAEMON_PID" 2>/dev/null
		DAEMON_PID=
	done
	fail "git daemon did not start"
}
