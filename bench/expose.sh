#!/usr/bin/env bash
# Benchmark of `cladding expose` against the path it replaces, in one run:
#
#   new: client -> cladding (libuv, in-process) -> agent.sock ->
#        cladding-bridge in the agent -> server
#   old: client -> host socat (fork per connection) -> podman exec -i AGENT
#        socat STDIO TCP:127.0.0.1:PORT -> server
#
# Both reach the same server, bench/expose-load.c built statically and run
# inside the agent, on 127.0.0.1:9000. Connection setup is timed from
# connect() to the first reply byte; throughput moves BYTES through one
# connection in each direction.
#
# Usage: bench/expose.sh [BYTES [SETUP_NEW [SETUP_OLD]]]
#   BYTES      bytes per throughput run (default 1 GiB)
#   SETUP_NEW  connections timed through expose (default 2000)
#   SETUP_OLD  connections timed through the old path (default 50)
#
# CLADDING (default: cladding on PATH) is the installed binary to measure.
# Needs Podman, the local base image (contrib/make-base-image), socat on the
# host and a C compiler. The script creates and removes its own project
# `xbench`; all traffic stays on 127.0.0.1 and inside the agent.
set -euo pipefail

bytes=${1:-1073741824}
setup_new=${2:-2000}
setup_old=${3:-50}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cladding=${CLADDING:-cladding}
base=localhost/cladding-base:bookworm
work=$(mktemp -d "${TMPDIR:-/tmp}/cladding-xbench-XXXXXX")
proj=$work/xbench
agent=xbench-agent-instance
pids=()

command -v socat >/dev/null || {
  echo "socat not found: install the Debian package socat" >&2
  exit 1
}

cleanup() {
  for pid in "${pids[@]}"; do
    kill -INT -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  (cd "$proj" 2>/dev/null && "$cladding" down >/dev/null 2>&1) || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

cl() { (cd "$proj" && "$cladding" "$@"); }

# shellcheck source=/dev/null
. "$top/contrib/podman-env" >/dev/null 2>&1
mkdir -p "$proj"
cl init >/dev/null
cl build --agents none --base "$base" >"$work/build.log" 2>&1
printf '{"name": "xbench", "agent": {}, "nw_sandbox": {"enabled": false}}\n' \
  >"$proj/.cladding/cladding.json"
cl up --quiet >/dev/null

load=$proj/expose-load
${CC:-cc} -O2 -static -o "$load" "$here/expose-load.c"
podman exec -d "$agent" /home/user/workspace/expose-load serve 9000 >/dev/null

new_port=19100
old_port=19101
(cd "$proj" && exec setsid "$cladding" expose 9000 "$new_port" >"$work/expose.out" 2>&1) &
pids+=($!)
# socat's EXEC address cannot contain the ':' of TCP:ADDR:PORT, so a
# two-line script runs the podman exec of each connection.
printf '#!/bin/sh\nexec podman exec -i %s socat STDIO TCP:127.0.0.1:9000\n' \
  "$agent" >"$work/old-path"
chmod +x "$work/old-path"
socat "TCP-LISTEN:$old_port,bind=127.0.0.1,reuseaddr,fork" \
  "EXEC:$work/old-path" 2>"$work/socat.log" &
pids+=($!)
for _ in $(seq 100); do
  [ -s "$work/expose.out" ] && break
  sleep 0.1
done
sleep 0.5

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr)"
echo "podman: $(podman --version), date: $(date -u '+%Y-%m-%d %H:%M UTC'), load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bytes: $bytes, setup connections: new $setup_new, old $setup_old"
echo
echo "setup new (expose): $("$load" setup "$new_port" "$setup_new")"
echo "setup old (socat + podman exec): $("$load" setup "$old_port" "$setup_old")"
echo "download new (expose): $("$load" download "$new_port" "$bytes")"
echo "download old (socat + podman exec): $("$load" download "$old_port" "$bytes")"
echo "upload new (expose): $("$load" upload "$new_port" "$bytes")"
echo "upload old (socat + podman exec): $("$load" upload "$old_port" "$bytes")"
if [ -s "$work/socat.log" ]; then
  echo
  echo "socat stderr (first lines):"
  head -n 5 "$work/socat.log"
fi
