#!/usr/bin/env bash
# End-to-end tests of `cladding expose` and `cladding inject` on real
# Podman: payloads through both directions, IPv6 loopback, leftovers of a
# killed run, Ctrl-C cleanup, clear errors, and an agent image without a
# shell.
#
#   tests/e2e/expose-inject.sh
#
# CLADDING (default: cladding on PATH) is the installed binary under test.
# The script creates its own project `xe2e` in a temporary directory and
# removes it, its containers and its image on exit. Traffic goes only to
# 127.0.0.1, [::1] and one container it starts. The shell-less image needs
# the static busybox of Debian's busybox-static package. The last line is
# "N passed, N failed".
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cladding=${CLADDING:-cladding}
base=localhost/cladding-base:bookworm
shellless=localhost/xe2e-shellless:latest

passed=0
failed=0
work=$(mktemp -d "${TMPDIR:-/tmp}/cladding-xe2e-XXXXXX")
proj=$work/xe2e
agent=xe2e-agent-instance
origin=xe2e-origin
label=cladding-xe2e=1
sockets=$proj/.cladding/runtime/sockets/agent
background=()

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

# start_bg NAME ARG...: starts cladding with ARGs in a new session, the way
# a shell starts a job, so a signal to its process group acts like Ctrl-C
# on a terminal. Output goes to $work/NAME.out and $work/NAME.err; bg_pid is
# the process id, which is also its process group id.
start_bg() {
  local name=$1
  shift
  (cd "$proj" && exec setsid "$cladding" "$@" >"$work/$name.out" 2>"$work/$name.err") &
  bg_pid=$!
  background+=("$bg_pid")
}

# wait_line NAME: waits at most 20 s for the first stdout line of NAME and
# prints it.
wait_line() {
  for _ in $(seq 200); do
    if [ -s "$work/$1.out" ]; then
      head -n 1 "$work/$1.out"
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# stop_bg PID SIGNAL: sends SIGNAL to the process group of PID, as Ctrl-C
# does, and sets `stopped` to the exit status (124 when it did not exit in
# 30 s). It must not run in a subshell, which cannot wait for PID.
stop_bg() {
  kill "-$2" -- "-$1" 2>/dev/null
  for _ in $(seq 300); do
    if ! kill -0 "$1" 2>/dev/null; then
      wait "$1"
      stopped=$?
      return
    fi
    sleep 0.1
  done
  kill -KILL "$1" 2>/dev/null
  wait "$1"
  stopped=124
}

# Agent-side helpers started for expose or inject, seen by `podman top`, so
# that no shell is needed in the image.
agent_helpers() {
  podman top "$agent" args 2>/dev/null | grep -c 'cladding-bridge --pidfile /run/cladding/agent/' || true
}

# Counts the files in DIR whose SHA-256 is SUM.
count_sum() {
  local n=0
  for f in "$1"/*; do
    [ -f "$f" ] || continue
    [ "$(sha256sum <"$f" | cut -d' ' -f1)" = "$2" ] && n=$((n + 1))
  done
  echo "$n"
}

# wait_http URL: waits at most 20 s until URL responds on the host.
wait_http() {
  for _ in $(seq 100); do
    curl -sg -o /dev/null -m 2 "$1" && return 0
    sleep 0.2
  done
  return 1
}

# wait_agent_port PORT: waits at most 20 s for a listener on 127.0.0.1 or
# [::1] at PORT inside the agent, read from /proc, so no shell is needed.
wait_agent_port() {
  local hex
  hex=$(printf ':%04X$' "$1")
  for _ in $(seq 100); do
    podman exec "$agent" /bin/cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
      awk '$4 == "0A" {print $2}' | grep -q -- "$hex" && return 0
    sleep 0.2
  done
  return 1
}

cleanup() {
  log "cleaning up"
  # cladding runs lead their process groups; the host server does not.
  for pid in "${background[@]}"; do
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
  done
  (cd "$proj" 2>/dev/null && "$cladding" down >/dev/null 2>&1)
  podman rm -f -t 0 "$origin" >/dev/null 2>&1
  podman ps -a --filter "label=$label" --format '{{.Names}}' |
    xargs -r podman rm -f -t 0 >/dev/null 2>&1
  podman image rm -f "$shellless" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

finish() {
  printf '\n%d passed, %d failed\n' "$passed" "$failed"
  [ "$failed" -eq 0 ]
  exit
}

log "setting up project xe2e"
"$top/contrib/make-base-image" --ca-file /etc/ssl/certs/ca-certificates.crt >/dev/null ||
  { fail "base image"; finish; }
# shellcheck source=/dev/null
. "$top/contrib/podman-env" || { fail "podman can start a container"; finish; }
mkdir -p "$proj/www" "$work/hostwww" "$work/dl"
cl init >/dev/null || { fail "init"; finish; }
cl build --agents none --base "$base" >"$work/build.log" 2>&1 ||
  { fail "build" "$(tail -n 20 "$work/build.log")"; finish; }
cat >"$proj/.cladding/cladding.json" <<'JSON'
{"name": "xe2e", "agent": {}, "nw_sandbox": {"enabled": false}}
JSON
head -c 1048576 /dev/urandom >"$proj/www/payload.bin"
payload_sum=$(sha256sum <"$proj/www/payload.bin" | cut -d' ' -f1)
head -c 1048576 /dev/urandom >"$work/hostwww/payload.bin"
host_sum=$(sha256sum <"$work/hostwww/payload.bin" | cut -d' ' -f1)
printf 'served by the host\n' >"$work/hostwww/hello.txt"
out=$(cl up --quiet 2>&1) || { fail "up" "$out"; finish; }
pass "up"

log "expose: 1 MiB over 50 parallel connections"
podman exec -d "$agent" python3 -m http.server 8000 --bind 127.0.0.1 \
  --directory /home/user/workspace/www >/dev/null
wait_agent_port 8000 || fail "server in the agent listens on 8000"
start_bg expose1 expose 8000 18000
expose1=$bg_pid
expect "expose prints what it forwards" \
  "expose: 127.0.0.1:18000 -> $agent 127.0.0.1:8000 (Ctrl-C to stop)" \
  "$(wait_line expose1)"
seq 50 | xargs -P 50 -I{} curl -s -m 120 -o "$work/dl/{}.bin" \
  http://127.0.0.1:18000/payload.bin
expect "50 parallel downloads arrive intact" 50 "$(count_sum "$work/dl" "$payload_sum")"
expect "one child process on the host, whatever the connections" 1 \
  "$(pgrep -c -P "$expose1")"
expect "one agent-side helper" 1 "$(agent_helpers)"

log "expose: a second expose and a busy host port"
out=$(cl expose 8000 18001 2>&1)
expect "a second expose of the port exits 1" 1 "$?"
expect_match "it names the socket in use" \
  "error: expose socket already in use at $sockets/expose/8000/agent.sock" "$out"
expect_match "it names the next step" \
  "hint: stop the other 'cladding expose' for container port 8000" "$out"
out=$(cl expose 8001 18000 2>&1)
expect "a busy host port exits 1" 1 "$?"
expect_match "it names the address" \
  'error: failed to listen on 127.0.0.1:18000: address already in use' "$out"
[ ! -e "$sockets/expose/8001" ] && pass "the failed expose removed its directory" ||
  fail "the failed expose removed its directory"
expect "the failed expose stopped its agent side" 1 "$(agent_helpers)"

log "expose: Ctrl-C"
stop_bg "$expose1" INT
expect "Ctrl-C exits 0" 0 "$stopped"
[ ! -e "$sockets/expose/8000" ] && pass "Ctrl-C removed the socket directory" ||
  fail "Ctrl-C removed the socket directory" "$(ls -la "$sockets/expose/8000" 2>&1)"
expect "Ctrl-C left no helper in the agent" 0 "$(agent_helpers)"

log "expose: SIGKILL, then a new run"
start_bg expose2 expose 8000 18000
expose2=$bg_pid
wait_line expose2 >/dev/null || fail "expose starts before the SIGKILL"
kill -KILL "$expose2"
wait "$expose2" 2>/dev/null
[ -S "$sockets/expose/8000/agent.sock" ] && pass "a killed expose leaves its socket" ||
  fail "a killed expose leaves its socket"
start_bg expose3 expose 8000 18000
expose3=$bg_pid
expect "expose starts after a SIGKILL" \
  "expose: 127.0.0.1:18000 -> $agent 127.0.0.1:8000 (Ctrl-C to stop)" \
  "$(wait_line expose3)"
curl -s -m 30 -o "$work/after-kill.bin" http://127.0.0.1:18000/payload.bin
expect "the new run forwards" "$payload_sum" "$(sha256sum <"$work/after-kill.bin" | cut -d' ' -f1)"
expect "the leftover helper was stopped" 1 "$(agent_helpers)"
stop_bg "$expose3" TERM
expect "SIGTERM exits 0" 0 "$stopped"
expect "no helper left after the restart" 0 "$(agent_helpers)"
for _ in $(seq 50); do
  pgrep -f "podman exec $agent /opt/tools/bin/cladding-bridge" >/dev/null || break
  sleep 0.1
done
expect "no podman exec left on the host" "" \
  "$(pgrep -af "podman exec $agent /opt/tools/bin/cladding-bridge")"

log "expose: a server bound only to [::1], and --bind ::1"
podman exec -d "$agent" python3 -m http.server 8001 --bind ::1 \
  --directory /home/user/workspace/www >/dev/null
wait_agent_port 8001 || fail "server in the agent listens on [::1]:8001"
start_bg expose4 expose 8001 18001
expose4=$bg_pid
wait_line expose4 >/dev/null
curl -s -m 30 -o "$work/v6.bin" http://127.0.0.1:18001/payload.bin
expect "a server on [::1] is reached" "$payload_sum" "$(sha256sum <"$work/v6.bin" | cut -d' ' -f1)"
stop_bg "$expose4" INT
expect "stop exits 0" 0 "$stopped"
start_bg expose5 expose --bind ::1 8000 18002
expose5=$bg_pid
expect "--bind ::1 is written in brackets" \
  "expose: [::1]:18002 -> $agent 127.0.0.1:8000 (Ctrl-C to stop)" "$(wait_line expose5)"
expect "the host reaches [::1]:18002" 200 \
  "$(curl -sg -m 30 -o /dev/null -w '%{http_code}' 'http://[::1]:18002/payload.bin')"
stop_bg "$expose5" INT
expect "stop exits 0" 0 "$stopped"

log "expose: HOSTPORT defaults to CONTAINERPORT"
podman exec -d "$agent" python3 -m http.server 18003 --bind 127.0.0.1 \
  --directory /home/user/workspace/www >/dev/null
wait_agent_port 18003 || fail "server in the agent listens on 18003"
start_bg expose7 expose 18003
expose7=$bg_pid
expect "expose 18003 listens on host port 18003" \
  "expose: 127.0.0.1:18003 -> $agent 127.0.0.1:18003 (Ctrl-C to stop)" "$(wait_line expose7)"
expect "the host reaches port 18003" 200 \
  "$(curl -s -m 30 -o /dev/null -w '%{http_code}' http://127.0.0.1:18003/payload.bin)"
stop_bg "$expose7" INT
expect "stop exits 0" 0 "$stopped"

log "inject: a server on the host's loopback"
python3 -m http.server 19000 --bind 127.0.0.1 --directory "$work/hostwww" \
  >/dev/null 2>&1 &
host_server=$!
background+=("$host_server")
wait_http http://127.0.0.1:19000/hello.txt || fail "host server answers"
start_bg inject1 inject 19000
inject1=$bg_pid
expect "inject prints what it forwards" \
  "inject: $agent 127.0.0.1:19000 -> 127.0.0.1:19000 (Ctrl-C to stop)" \
  "$(wait_line inject1)"
expect "the agent reaches the host server" "served by the host" \
  "$(cl run curl -s -m 20 --noproxy '*' http://127.0.0.1:19000/hello.txt)"
expect "1 MiB from the host arrives intact" "$host_sum  -" \
  "$(cl run sh -c "curl -s -m 60 --noproxy '*' http://127.0.0.1:19000/payload.bin | sha256sum")"
out=$(cl inject 19000 2>&1)
expect "a second inject of the port exits 1" 1 "$?"
expect_match "it names the socket in use" \
  "error: inject socket already in use at $sockets/inject/19000/host.sock" "$out"
stop_bg "$inject1" INT
expect "Ctrl-C exits 0" 0 "$stopped"
[ ! -e "$sockets/inject/19000" ] && pass "Ctrl-C removed the socket directory" ||
  fail "Ctrl-C removed the socket directory"
expect "Ctrl-C left no helper in the agent" 0 "$(agent_helpers)"

log "inject: SIGKILL, then a new run"
start_bg inject2 inject 19000
inject2=$bg_pid
wait_line inject2 >/dev/null || fail "inject starts before the SIGKILL"
kill -KILL "$inject2"
wait "$inject2" 2>/dev/null
start_bg inject3 inject 19000
inject3=$bg_pid
wait_line inject3 >/dev/null || fail "inject starts after a SIGKILL"
expect_match "the stale host socket is reported" \
  "warning: removed stale socket $sockets/inject/19000/host.sock" "$(cat "$work/inject3.err")"
expect "the new run forwards" "served by the host" \
  "$(cl run curl -s -m 20 --noproxy '*' http://127.0.0.1:19000/hello.txt)"
stop_bg "$inject3" TERM
expect "stop exits 0" 0 "$stopped"
expect "no helper left" 0 "$(agent_helpers)"

log "inject: a host:port endpoint in a test container"
podman run -d --name "$origin" --label "$label" -v "$work/hostwww:/srv:ro" \
  --entrypoint python3 localhost/cladding-sandbox:latest \
  -m http.server 8080 --directory /srv >/dev/null ||
  fail "the test container starts"
ip=$(podman inspect -f '{{.NetworkSettings.IPAddress}}' "$origin")
expect_match "the test container has an address" '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$' "$ip"
start_bg inject4 inject "$ip:8080" 18080
inject4=$bg_pid
expect "inject names the endpoint" \
  "inject: $agent 127.0.0.1:18080 -> $ip:8080 (Ctrl-C to stop)" "$(wait_line inject4)"
for _ in $(seq 50); do
  curl -s -o /dev/null -m 1 "http://$ip:8080/hello.txt" && break
  sleep 0.2
done
expect "the agent reaches the container" "served by the host" \
  "$(cl run curl -s -m 20 --noproxy '*' http://127.0.0.1:18080/hello.txt)"
stop_bg "$inject4" INT
expect "stop exits 0" 0 "$stopped"

log "inject: an unreachable endpoint"
start_bg inject5 inject 127.0.0.1:1 18081
inject5=$bg_pid
wait_line inject5 >/dev/null
cl run curl -s -m 10 --noproxy '*' http://127.0.0.1:18081/ >/dev/null 2>&1
[ "$?" -ne 0 ] && pass "the agent's connection fails" || fail "the agent's connection fails"
kill -0 "$inject5" 2>/dev/null && pass "inject keeps running" || fail "inject keeps running"
expect_match "inject logs the failed connect" \
  'warning: inject: failed to connect to 127.0.0.1:1: connection refused' "$(cat "$work/inject5.err")"
stop_bg "$inject5" INT
expect "stop exits 0" 0 "$stopped"

log "an agent image without a shell"
if file -L /bin/busybox 2>/dev/null | grep -q 'statically linked'; then
  mkdir -p "$work/image/tmp"
  cp /bin/busybox "$work/image/busybox"
  cat >"$work/image/Containerfile" <<'EOF'
FROM scratch
COPY busybox /bin/sleep
COPY busybox /bin/httpd
COPY busybox /bin/wget
COPY busybox /bin/cat
COPY tmp /tmp
EOF
  podman build -q -t "$shellless" "$work/image" >/dev/null ||
    fail "the shell-less image builds"
  cl down >/dev/null 2>&1
  cat >"$proj/.cladding/cladding.json" <<JSON
{"name": "xe2e", "agent": {"image": "$shellless"}, "nw_sandbox": {"enabled": false}}
JSON
  out=$(cl up --quiet 2>&1)
  expect "up with the shell-less agent" 0 "$?"
  podman exec -d "$agent" /bin/httpd -f -p 127.0.0.1:8000 -h /home/user/workspace/www >/dev/null
  wait_agent_port 8000 || fail "httpd in the agent listens on 8000"
  start_bg expose6 expose 8000 18000
  expose6=$bg_pid
  wait_line expose6 >/dev/null
  curl -s -m 30 -o "$work/shellless.bin" http://127.0.0.1:18000/payload.bin
  expect "expose works without a shell" "$payload_sum" \
    "$(sha256sum <"$work/shellless.bin" | cut -d' ' -f1)"
  stop_bg "$expose6" INT
  expect "stop exits 0" 0 "$stopped"
  start_bg inject6 inject 19000
  inject6=$bg_pid
  wait_line inject6 >/dev/null
  expect "inject works without a shell" "served by the host" \
    "$(podman exec "$agent" /bin/wget -q -Y off -O - http://127.0.0.1:19000/hello.txt)"
  stop_bg "$inject6" INT
  expect "stop exits 0" 0 "$stopped"
  expect "no helper left" 0 "$(agent_helpers)"
else
  fail "an agent image without a shell" \
    "/bin/busybox is not the static busybox: install busybox-static"
fi

log "missing agent container"
podman rm -f -t 0 "$agent" >/dev/null
out=$(cl expose 8000 2>&1)
expect "expose without the agent exits 1" 1 "$?"
expect_match "expose names the missing container" \
  "error: target container '$agent' is missing for project 'xe2e'" "$out"
expect_match "expose gives the next step" "hint: run 'cladding down', then 'cladding up'" "$out"
out=$(cl inject 19000 2>&1)
expect "inject without the agent exits 1" 1 "$?"
expect_match "inject ends with the missing container" 'missing agent container$' "$out"
cl down >/dev/null 2>&1

finish
