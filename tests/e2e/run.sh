#!/usr/bin/env bash
# End-to-end tests of an installed cladding on real Podman, real Squid and
# real images. They build the images from the local base image
# (contrib/make-base-image), start origin servers as containers on Podman's
# default network, name them for the proxy through cladding.json
# `proxy.hosts`, and check what the agent and the sandboxes can reach.
#
#   tests/e2e/run.sh [--full-agent]
#
# CLADDING (default: cladding on PATH) is the installed binary under test.
# With --full-agent the agent image is also built with the agent CLIs and
# checked. Traffic goes only to containers this script starts. The last line
# is "N passed, N failed".
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cladding=${CLADDING:-cladding}
base=localhost/cladding-base:bookworm
full_agent=0
[ "${1-}" = --full-agent ] && full_agent=1

passed=0
failed=0
work=$(mktemp -d "${TMPDIR:-/tmp}/cladding-e2e-XXXXXX")
proj=$work/e2e
origin=cladding-e2e-origin
label=cladding-e2e=1

log() { printf '\n== %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }

pass() {
  passed=$((passed + 1))
  printf 'ok   %s\n' "$1"
}

fail() {
  failed=$((failed + 1))
  printf 'FAIL %s\n' "$1"
  shift
  [ $# -eq 0 ] || printf '     %s\n' "$@"
}

# expect NAME EXPECTED ACTUAL
expect() {
  if [ "$2" = "$3" ]; then
    pass "$1"
  else
    fail "$1" "expected: $2" "actual:   $3"
  fi
}

# expect_match NAME PATTERN TEXT (grep -E)
expect_match() {
  if printf '%s' "$3" | grep -qE -- "$2"; then
    pass "$1"
  else
    fail "$1" "expected to match: $2" "actual: $(printf '%s' "$3" | head -c 600)"
  fi
}

cl() { (cd "$proj" && "$cladding" "$@"); }

# The HTTP status the agent gets for a request through its proxy.
agent_status() {
  cl run curl -s -o /dev/null -w '%{http_code}' --max-time 20 "$@" 2>/dev/null
}

cleanup() {
  log "cleaning up"
  (cd "$proj" 2>/dev/null && "$cladding" down >/dev/null 2>&1)
  podman rm -f -t 0 "$origin" >/dev/null 2>&1
  podman ps -a --filter "label=$label" --format '{{.Names}}' |
    xargs -r podman rm -f -t 0 >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

finish() {
  printf '\n%d passed, %d failed\n' "$passed" "$failed"
  [ "$failed" -eq 0 ]
  exit
}

write_config() {
  cat >"$proj/.cladding/cladding.json"
}

log "podman configuration"
"$top/contrib/make-base-image" --ca-file /etc/ssl/certs/ca-certificates.crt || { fail "base image"; finish; }
# shellcheck source=/dev/null
. "$top/contrib/podman-env" || { fail "podman can start a container"; finish; }

log "building images"
mkdir -p "$proj/sub/dir"
cl init >/dev/null || { fail "init"; finish; }
cl build --agents none --base "$base" >"$work/build.log" 2>&1 ||
  { fail "build" "$(tail -n 20 "$work/build.log")"; finish; }
pass "build with --agents none from the local base"

log "starting the origin servers"
podman run -d --name "$origin" --label "$label" \
  -v "$here/origin.py:/srv/origin.py:ro" --entrypoint sh \
  localhost/cladding-sandbox:latest -c '
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=secure.test \
      -keyout /srv/key.pem -out /srv/cert.pem 2>/dev/null &&
    exec python3 /srv/origin.py 80 3000 8443:tls 443:tls' >/dev/null ||
  { fail "origin container starts"; finish; }
ip=$(podman inspect -f '{{.NetworkSettings.IPAddress}}' "$origin")
for _ in $(seq 50); do
  podman logs "$origin" 2>&1 | grep -q 'listening on' && break
  sleep 0.2
done
expect_match "origin container has an address" '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$' "$ip"

write_config <<JSON
{
  "name": "e2e",
  "agent": {},
  "nw_sandbox": {"enabled": true},
  "fs_sandbox": {"enabled": true},
  "mounts": [
    {"mount": "/home/user/workspace", "hostPath": "..", "targets": ["fs-sandbox"]}
  ],
  "proxy": {"hosts": {
    "demo.test": "$ip", "x.demo.test": "$ip", "a.wild.test": "$ip",
    "wild.test": "$ip", "secure.test": "$ip", "nw.test": "$ip",
    "host.containers.internal": "$ip"
  }}
}
JSON
cat >"$proj/.cladding/config/agent/domains.lst" <<'LIST'
# e2e allowlist of the agent
demo.test
.wild.test
secure.test
LIST
printf '3000\n' >"$proj/.cladding/config/agent/host_ports.lst"
printf 'nw.test\n' >"$proj/.cladding/config/nw_sandbox/domains.lst"
printf 'read by the fs-sandbox\n' >"$proj/sub/dir/file.txt"
# Policies of this test: curl of nw.test in the nw-sandbox, and cat of one
# workspace file from the workspace root in the fs-sandbox.
cat >"$proj/.cladding/config/nw_sandbox/curl.rego" <<'REGO'
package sandbox.curl

import rego.v1

default allow := false

default allow_env := false

allow if {
	input.path == "/usr/bin/curl"
	input.args == ["-s", "--max-time", "20", "http://nw.test/"]
}
REGO
cat >"$proj/.cladding/config/fs_sandbox/cat.rego" <<'REGO'
package sandbox.cat

import rego.v1

default allow := false

allow if {
	input.path == "/usr/bin/cat"
	input.args == ["sub/dir/file.txt"]
	input.cwd == "/home/user/workspace"
}
REGO

log "invalid allowlist line stops up"
printf 'demo.test\nnot a host!\n' >"$work/bad.lst"
cp "$proj/.cladding/config/agent/domains.lst" "$work/good.lst"
cp "$work/bad.lst" "$proj/.cladding/config/agent/domains.lst"
out=$(cl up 2>&1)
status=$?
cp "$work/good.lst" "$proj/.cladding/config/agent/domains.lst"
expect "up with an invalid line exits 1" 1 "$status"
expect_match "up names file and line" \
  "error: $proj/.cladding/config/agent/domains.lst:2: invalid domain entry 'not a host!'" "$out"
expect "nothing started after the invalid line" "" \
  "$(podman ps -a --filter label=cladding=e2e --format '{{.Names}}')"

log "a failure in the middle of up leaves nothing"
podman run -d --name e2e-agent-instance --label "$label" "$base" sleep 600 >/dev/null
out=$(cl up --quiet 2>&1)
status=$?
podman rm -f -t 0 e2e-agent-instance >/dev/null
expect_match "up fails at the agent" 'error: up failed at: starting e2e-agent-instance' "$out"
[ "$status" -ne 0 ] && pass "up exits non-zero after a failed podman run" ||
  fail "up exits non-zero after a failed podman run"
expect "rollback removed the containers" "" \
  "$(podman ps -a --filter label=cladding=e2e --format '{{.Names}}')"
expect "rollback removed the pod" "" \
  "$(podman pod ps --filter label=cladding=e2e --format '{{.Name}}')"
[ ! -e "$proj/.cladding/runtime/sockets" ] && pass "rollback removed the sockets" ||
  fail "rollback removed the sockets"

log "up"
out=$(cl up 2>&1)
status=$?
expect "up exits 0" 0 "$status"
expect_match "up prints the summary" 'running: e2e \(' "$out"
expect_match "up lists the fs-sandbox" 'fs-sandbox  e2e-fs-sandbox-instance' "$out"
if [ "$status" -ne 0 ]; then
  printf '%s\n' "$out"
  finish
fi
expect "second up reports already running" "already running: e2e ($(realpath "$proj/.cladding"))" \
  "$(cl up --quiet 2>/dev/null)"
expect "sockets directory is private" 700 "$(stat -c %a "$proj/.cladding/runtime/sockets")"

log "agent egress"
expect "allowed domain over HTTP" "origin demo.test port 80" \
  "$(cl run curl -s --max-time 20 http://demo.test/)"
expect "allowed domain over CONNECT (TLS)" "origin secure.test port 443" \
  "$(cl run curl -sk --max-time 20 https://secure.test/)"
expect "CONNECT to port 80 of a listed domain" "origin demo.test port 80" \
  "$(cl run curl -s -p --max-time 20 http://demo.test/)"
expect "unlisted domain gets 403" 403 "$(agent_status http://unlisted.test/)"
# The pod's /etc/hosts names the origin's address demo.test; a reverse
# lookup must not turn a request for the bare address into a listed name.
expect "an address whose name is listed gets 403" 403 "$(agent_status "http://$ip/")"
expect "CONNECT to an address whose name is listed is denied" 403 \
  "$(cl run curl -sk -o /dev/null -w '%{http_connect}' --max-time 20 "https://$ip/" 2>/dev/null)"
expect "subdomain of an exact entry gets 403" 403 "$(agent_status http://x.demo.test/)"
expect "subdomain of a .domain entry passes" 200 "$(agent_status http://a.wild.test/)"
expect "the .domain entry covers the domain itself" 200 "$(agent_status http://wild.test/)"
expect "CONNECT to port 8443 of a listed domain is denied" 403 \
  "$(cl run curl -sk -o /dev/null -w '%{http_connect}' --max-time 20 https://secure.test:8443/ 2>/dev/null)"
expect "host.containers.internal on a listed port" 200 \
  "$(agent_status http://host.containers.internal:3000/)"
expect "host.containers.internal on an unlisted port" 403 \
  "$(agent_status http://host.containers.internal:80/)"
expect "the nw-sandbox list does not apply to the agent" 403 "$(agent_status http://nw.test/)"
cl run curl -s --max-time 5 --noproxy '*' "http://$ip/" >/dev/null 2>&1
status=$?
[ "$status" -ne 0 ] && pass "direct connection without the proxy fails (curl $status)" ||
  fail "direct connection without the proxy fails"
expect "agent has only loopback" "lo" \
  "$(cl run sh -c "awk -F: 'NR>2 {gsub(/ /, \"\", \$1); print \$1}' /proc/net/dev" | tr '\n' ' ' | sed 's/ $//')"
expect "agent cannot see the nw-sandbox proxy socket" "absent" \
  "$(cl run sh -c 'test -e /run/cladding/proxy/nw-sandbox && echo present || echo absent')"
expect "agent cannot see cladding state" "" \
  "$(cl run ls -A /home/user/workspace/.cladding)"

log "logs"
logs=$(cl logs proxy 2>&1)
expect_match "proxy log shows an allowed request" 'TCP_MISS/200 .* GET http://demo.test/' "$logs"
expect_match "proxy log shows a denied request" 'TCP_DENIED/403 .* GET http://unlisted.test/' "$logs"
expect_match "proxy log shows the CONNECT" 'CONNECT secure.test:443' "$logs"
expect_match "bridge logs its listeners" 'event=listen' "$(cl logs bridge 2>&1)"

log "run"
expect "run maps the project directory" /home/user/workspace "$(cl run pwd)"
expect "run maps a subdirectory" /home/user/workspace/sub/dir \
  "$(cd "$proj/sub/dir" && "$cladding" run pwd)"
cl run sh -c 'exit 7' 2>"$work/err"
expect "run passes exit code 7" 7 "$?"
expect "run final line" "podman exec failed (exit code 7)" "$(cat "$work/err")"
expect "run passes --env" "bar" "$(cl run --env FOO=bar sh -c 'echo $FOO')"
expect "run --env KEY copies the host value" "from-host" \
  "$(cd "$proj" && FROMHOST=from-host "$cladding" run --env FROMHOST sh -c 'echo $FROMHOST')"
(cd "$proj" && exec "$cladding" run sleep 300 </dev/null >/dev/null 2>&1) &
runner=$!
for _ in $(seq 50); do
  podman exec e2e-agent-instance sh -c 'ps -eo args | grep -q "^sleep 300"' && break
  sleep 0.2
done
kill -TERM "$runner"
wait "$runner"
expect "SIGTERM to run exits 143" 143 "$?"
expect "SIGTERM stopped the command in the container" "" \
  "$(podman exec e2e-agent-instance sh -c 'ps -eo args | grep "^sleep 300"')"

log "sandboxes"
expect "nw-sandbox reaches its own list" "origin nw.test port 80" \
  "$(cl run-with-scissors curl -s --max-time 20 http://nw.test/)"
expect "nw-sandbox cannot use the agent list" 403 \
  "$(cl run-with-scissors curl -s -o /dev/null -w '%{http_code}' --max-time 20 http://demo.test/)"
expect "fs-sandbox has no proxy variables" "" \
  "$(cl run-with-scissors --target fs-sandbox sh -c 'env | grep -i _proxy')"
cl run-with-scissors --target fs-sandbox curl -s --max-time 5 "http://$ip/" >/dev/null 2>&1
status=$?
[ "$status" -ne 0 ] && pass "fs-sandbox has no route (curl $status)" ||
  fail "fs-sandbox has no route"
expect "fs-sandbox cannot see cladding state through its workspace" "" \
  "$(cl run-with-scissors --target fs-sandbox ls -A /home/user/workspace/.cladding)"
expect "fs-sandbox sees the workspace mount" "present" \
  "$(cl run-with-scissors --target fs-sandbox sh -c 'test -d /home/user/workspace/sub/dir && echo present')"
expect "run-in-nw-sandbox runs an allowed curl through its proxy" "origin nw.test port 80" \
  "$(cl run run-in-nw-sandbox -- curl -s --max-time 20 http://nw.test/ 2>"$work/err")"
cl run run-in-nw-sandbox -- curl -s --max-time 20 http://demo.test/ >/dev/null 2>"$work/err"
expect "run-in-nw-sandbox refuses a denied command with 125" 125 "$?"
expect_match "the refusal gives the policy's reason" '[Pp]olicy|denied|not allowed' "$(cat "$work/err")"
expect "run-in-fs-sandbox runs an allowed command in the workspace" "read by the fs-sandbox" \
  "$(cl run run-in-fs-sandbox -- cat sub/dir/file.txt 2>"$work/err")"
expect "the wrappers reach both sandboxes through their sockets" "run.sock run.sock" \
  "$(cl run sh -c 'basename "$RUN_NW_SANDBOX_SOCKET"; basename "$RUN_FS_SANDBOX_SOCKET"' | tr '\n' ' ' | sed 's/ $//')"

log "reload-proxy"
expect "before reload nw.test is denied to the agent" 403 "$(agent_status http://nw.test/)"
started=$(podman inspect -f '{{.State.StartedAt}}' e2e-proxy-instance)
printf 'nw.test\n' >>"$proj/.cladding/config/agent/domains.lst"
out=$(cl reload-proxy 2>&1)
expect "reload-proxy reports success" "reloaded proxy configuration: e2e" "$out"
expect "after reload nw.test is allowed" 200 "$(agent_status http://nw.test/)"
expect "the proxy was not restarted" "$started" \
  "$(podman inspect -f '{{.State.StartedAt}}' e2e-proxy-instance)"

log "ps"
expect_match "ps shows the running project" "e2e  $(realpath "$proj/.cladding")  running" "$(cl ps)"
expect_match "ps json" '"state": "running"' "$(cl ps --format json)"

log "fail closed"
podman kill e2e-proxy-bridge >/dev/null
sleep 1
expect "egress fails without the proxy bridge" 000 "$(agent_status http://demo.test/)"
out=$(cl up 2>&1)
status=$?
expect "up refuses an incomplete runtime" 1 "$status"
expect_match "up reports the incomplete runtime" "has an incomplete runtime" "$out"
expect_match "up names the stopped bridge" "e2e-proxy-bridge: exited" "$out"

log "down"
cl down
expect "down exits 0" 0 "$?"
expect "down removed the containers" "" \
  "$(podman ps -a --filter label=cladding=e2e --format '{{.Names}}')"
expect "down removed the pod" "" "$(podman pod ps --filter label=cladding=e2e --format '{{.Name}}')"
[ ! -e "$proj/.cladding/runtime/sockets" ] && pass "down removed the sockets" ||
  fail "down removed the sockets"
cl down
expect "down is idempotent" 0 "$?"

log "down after a sandbox is disabled"
cl up --quiet >/dev/null 2>&1 || fail "up again"
sed -i 's/"fs_sandbox": {"enabled": true}/"fs_sandbox": {"enabled": false}/; s/"targets": \["fs-sandbox"\]/"targets": ["agent"]/' \
  "$proj/.cladding/cladding.json"
cl down
expect "down with fs disabled exits 0" 0 "$?"
expect "down removed the disabled sandbox" "" \
  "$(podman ps -a --filter label=cladding=e2e --format '{{.Names}}')"

log "an agent image without a shell"
# Only a static busybox as /bin/sleep and /bin/busybox, and an empty /tmp:
# no shell, socat or pkill, which the runtime must not need.
bare=$work/bare
mkdir -p "$bare/tmp"
cp /bin/busybox "$bare/sleep"
cp /bin/busybox "$bare/busybox"
printf 'FROM scratch\nCOPY sleep /bin/sleep\nCOPY busybox /bin/busybox\nCOPY tmp /tmp\n' \
  >"$bare/Containerfile"
podman build -q -t localhost/cladding-e2e-bare:latest "$bare" >/dev/null ||
  fail "build the shell-less image"
cp "$proj/.cladding/cladding.json" "$work/saved.json"
write_config <<JSON
{"name": "e2e", "agent": {"image": "localhost/cladding-e2e-bare:latest"},
 "proxy": {"hosts": {"demo.test": "$ip"}}}
JSON
out=$(cl up --quiet 2>&1)
expect "up starts a shell-less agent" 0 "$?"
expect "run works in a shell-less agent" "bare-ok" "$(cl run /bin/busybox echo bare-ok 2>&1)"
cl run /bin/busybox sh -c 'exit 5' 2>/dev/null
expect "exit codes pass through in a shell-less agent" 5 "$?"
expect "the proxy works for a shell-less agent" "origin demo.test port 80" \
  "$(cl run /bin/busybox wget -q -O - http://demo.test/ 2>&1)"
podman exec e2e-agent-instance /bin/busybox kill -TERM 1
sleep 2
expect "stopping the agent's bridge stops the agent" "exited" \
  "$(podman inspect -f '{{.State.Status}}' e2e-agent-instance)"
cl down >/dev/null
cp "$work/saved.json" "$proj/.cladding/cladding.json"
podman rmi -f localhost/cladding-e2e-bare:latest >/dev/null 2>&1

if [ "$full_agent" -eq 1 ]; then
  log "full agent image"
  cl build --base "$base" >"$work/build-full.log" 2>&1 ||
    fail "build with the agent CLIs" "$(tail -n 20 "$work/build-full.log")"
  cl up --quiet >/dev/null 2>&1 || fail "up with the full agent"
  for tool in codex claude gemini pi; do
    out=$(cl run "$tool" --version 2>&1)
    expect_match "$tool --version" '[0-9]+\.[0-9]+' "$out"
  done
  expect "node fetch through the proxy" "origin demo.test port 80" \
    "$(cl run node -e 'fetch("http://demo.test/").then(r => r.text()).then(t => process.stdout.write(t))')"
  cl down
fi

finish
