#!/bin/bash
# http_auth.sh - --push over HTTP with HTTP Basic auth: a small Python
# server on 127.0.0.1 that asks for credentials and runs `git http-backend`
# as CGI.  The token in STRATA_GIT_TOKEN (user STRATA_GIT_USER, default
# x-access-token) gets the push in; a wrong, missing or mis-paired token is
# refused after at most three offers, nothing lands, and no secret is ever
# printed; credentials in the URL are masked as ***@ in messages.
# Skips (exit 77) without python3 or git http-backend.
. "$(dirname "$0")/lib.sh"

BACKEND=$(git --exec-path 2>/dev/null)/git-http-backend
if ! command -v python3 >/dev/null 2>&1; then
	echo "SKIP: python3 not found (needed for the HTTP server)"
	exit 77
fi
if [ ! -x "$BACKEND" ]; then
	echo "SKIP: git http-backend not found at '$BACKEND'"
	exit 77
fi

TOKEN=tok-Zq81-sekrit-4711
SRV=$SANDBOX/srv
LOG=$SANDBOX/http.log
mkdir -p "$SRV"
git init -q --bare "$SRV/deploy.git"

# The server binds port 0 and writes the port it got: no race for a port.
# It logs one line per request: METHOD PATH none|bad|ok USER (never a
# password).
cat >"$SANDBOX/server.py" <<'PY'
import base64, http.server, os, subprocess, sys

backend, root, portfile, log = sys.argv[1:5]
USER, TOKEN = os.environ["AUTH_USER"], os.environ["AUTH_TOKEN"]


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                n = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if n == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(n)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def serve(self):
        data = self.body() if self.command == "POST" else b""
        auth = self.headers.get("Authorization") or ""
        user, ok = "-", False
        if auth.startswith("Basic "):
            try:
                user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                user, pw = "?", ""
            ok = user == USER and pw == TOKEN
        with open(log, "a") as f:
            f.write("%s %s %s %s\n" % (self.command, self.path,
                                       "ok" if ok else "bad" if auth else "none", user))
        if not ok:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="strata-test"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        path, _, query = self.path.partition("?")
        env = dict(os.environ, GIT_PROJECT_ROOT=root, GIT_HTTP_EXPORT_ALL="1",
                   REMOTE_USER=user, REMOTE_ADDR="127.0.0.1",
                   GATEWAY_INTERFACE="CGI/1.1", SERVER_PROTOCOL="HTTP/1.0",
                   REQUEST_METHOD=self.command, PATH_INFO=path,
                   QUERY_STRING=query, CONTENT_LENGTH=str(len(data)),
                   CONTENT_TYPE=self.headers.get("Content-Type", ""))
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        out = subprocess.run([backend], input=data, env=env,
                             stdout=subprocess.PIPE).stdout
        head, _, payload = out.partition(b"\r\n\r\n")
        status, headers = 200, []
        for line in head.decode("latin-1").split("\r\n"):
            k, _, v = line.partition(":")
            if k.lower() == "status":
                status = int(v.split()[0])
            elif k:
                headers.append((k, v.strip()))
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = serve


srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % srv.server_address[1])
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
PY

# lib.sh's cleanup kills $DAEMON_PID on exit.
AUTH_USER=x-access-token AUTH_TOKEN=$TOKEN python3 "$SANDBOX/server.py" \
	"$BACKEND" "$SRV" "$SANDBOX/port" "$LOG" 2>"$SANDBOX/server.err" &
DAEMON_PID=$!
for _ in $(seq 100); do
	[ -s "$SANDBOX/port" ] && break
	kill -0 "$DAEMON_PID" 2>/dev/null || fail "http server died: $(cat "$SANDBOX/server.err")"
	sleep 0.1
done
[ -s "$SANDBOX/port" ] || fail "http server did not start"
PORT=$(cat "$SANDBOX/port")
URL="http://127.0.0.1:$PORT/deploy.git"
R=$SRV/deploy.git

C=$SANDBOX/config
make_config "$C"
cd "$C" || exit 1

# no_secret WORD: WORD (or its Basic-auth encoding) is not in the output.
no_secret() {
	local b64
	b64=$(printf 'x-access-token:%s' "$1" | base64 -w0)
	! grep -qF -e "$1" -e "$b64" "$SANDBOX/out" "$SANDBOX/err" ||
		fail "a secret was printed: $(cat "$SANDBOX/out" "$SANDBOX/err")"
}

# 1. the right token: the push lands
STRATA_GIT_TOKEN=$TOKEN st publish --all --push="$URL" ||
	fail "push with the token: exit $?: $(cat "$SANDBOX/err")"
grep -Eq '^prod +env/prod +created ' "$SANDBOX/out" || fail "summary: $(cat "$SANDBOX/out")"
[ "$(git -C "$R" rev-parse env/prod)" = "$(git rev-parse env/prod)" ] || fail "served repo has env/prod"
[ "$(git -C "$R" rev-parse env/dev)" = "$(git rev-parse env/dev)" ] || fail "served repo has env/dev"
grep -q ' ok x-access-token$' "$LOG" || fail "the server never saw user x-access-token: $(cat "$LOG")"
no_secret "$TOKEN"
fsck_clean "$R"
ok "the token in STRATA_GIT_TOKEN pushes over http (user x-access-token)"

# 2. refused credentials: a wrong token, the right token for another user
# (STRATA_GIT_USER is what is sent), no token at all.  A prod change is
# waiting, so a push that got through would move the branch.
sed -i 's/256Mi/512Mi/' overlays/prod/web.yaml
commit_all "$C" "prod: 512Mi"
before=$(git -C "$R" rev-parse env/prod)
for how in wrong user none; do
	: >"$LOG"
	case $how in
	wrong) STRATA_GIT_TOKEN=not-$TOKEN st publish --push="$URL" prod ;;
	user) STRATA_GIT_TOKEN=$TOKEN STRATA_GIT_USER=oauth2 st publish --push="$URL" prod ;;
	none) env -u STRATA_GIT_TOKEN "$STRATA" publish --push="$URL" prod \
		>"$SANDBOX/out" 2>"$SANDBOX/err" ;;
	esac
	rc=$?
	# docs/publish.md: auth failures are git failures (exit 7); 9 is a
	# server's rejection of the push itself.
	[ $rc = 7 ] || fail "$how: exit $rc, want 7: $(cat "$SANDBOX/err")"
	if [ $how = none ]; then
		msg="the remote asks for credentials and none are available (set STRATA_GIT_TOKEN for https, or run an ssh agent)"
	else
		msg="authentication failed (credentials refused)"
	fi
	grep -qF "cannot fetch from '$URL': $msg" "$SANDBOX/err" ||
		fail "$how: message: $(cat "$SANDBOX/err")"
	grep -Eq '^prod +env/prod +failed ' "$SANDBOX/out" || fail "$how: failed row: $(cat "$SANDBOX/out")"
	[ "$(git -C "$R" rev-parse env/prod)" = "$before" ] || fail "$how: the served branch moved"
	grep -q ' ok ' "$LOG" && fail "$how: the server accepted a request: $(cat "$LOG")"
	offers=$(grep -c ' bad ' "$LOG")
	case $how in
	none) [ "$offers" = 0 ] || fail "none: $offers credentials offered: $(cat "$LOG")" ;;
	*) [ "$offers" -ge 1 ] && [ "$offers" -le 3 ] ||
		fail "$how: $offers credentials offered, want 1..3: $(cat "$LOG")" ;;
	esac
	if [ $how = user ]; then
		grep -q ' bad oauth2$' "$LOG" || fail "user: STRATA_GIT_USER not sent: $(cat "$LOG")"
	fi
	no_secret "$TOKEN"
done
ok "a wrong, mis-paired or missing token is refused (exit 7, at most 3 offers, nothing pushed, no secret printed)"

# 3. credentials in the URL are masked in messages
# A refused URL token falls back to the callback, which has no token.
MASKED="http://***@127.0.0.1:$PORT/deploy.git"
: >"$LOG"
env -u STRATA_GIT_TOKEN "$STRATA" publish \
	--push="http://x-access-token:url-Secret-99@127.0.0.1:$PORT/deploy.git" prod \
	>"$SANDBOX/out" 2>"$SANDBOX/err"
rc=$?
[ $rc = 7 ] || fail "wrong token in the URL: exit $rc: $(cat "$SANDBOX/err")"
grep -qF "cannot fetch from '$MASKED': the remote asks for credentials and none are available" \
	"$SANDBOX/err" || fail "URL not masked: $(cat "$SANDBOX/err")"
grep -q ' bad x-access-token$' "$LOG" || fail "the URL's credentials were not offered: $(cat "$LOG")"
no_secret url-Secret-99
[ "$(git -C "$R" rev-parse env/prod)" = "$before" ] || fail "the served branch moved"
env -u STRATA_GIT_TOKEN "$STRATA" publish \
	--push="http://x-access-token:$TOKEN@127.0.0.1:$PORT/deploy.git" prod \
	>"$SANDBOX/out" 2>"$SANDBOX/err" ||
	fail "right token in the URL: exit $?: $(cat "$SANDBOX/err")"
no_secret "$TOKEN"
[ "$(git -C "$R" rev-parse env/prod)" = "$(git rev-parse env/prod)" ] || fail "URL token push landed"
git -C "$R" show env/prod:web-prod/Deployment.apps_web.yaml | grep -q 512Mi || fail "pushed content"
fsck_clean "$R"
ok "credentials in the URL are used and masked as ***@"

echo "1..$TESTS"
