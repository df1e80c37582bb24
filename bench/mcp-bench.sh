#!/bin/sh
# Measures mcp-run over its Unix socket: /check latency with 1 and 16
# concurrent clients, the /raw round trip of `true`, and the resident
# memory (VmRSS) idle and after the load (VmHWM, the peak).
#   bench/mcp-bench.sh BUILDDIR
# Uses the build's helpers/mcp-run/mcp-run (static in a default build).
set -eu
builddir=$(cd "${1:?usage: bench/mcp-bench.sh BUILDDIR}" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)
mcp_run=$builddir/helpers/mcp-run/mcp-run
work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || :
    wait "$server_pid" 2>/dev/null || :
  fi
  rm -rf "$work"
}
trap cleanup EXIT

cc -O2 -pthread -o "$work/mcp-bench" "$top/bench/mcp-bench.c"
sh_path=$(command -v sh)
true_path=$(command -v true)
mkdir "$work/policy" "$work/run"
cat >"$work/policy/main.rego" <<REGO
package sandbox.main

default allow := false

allowed := {"$sh_path": true, "$true_path": true}

allow if allowed[input.command]
REGO

(cd "$work" && POLICY_DIR="$work/policy" MCP_BIND_UDS="$work/run/run.sock" \
  exec "$mcp_run" 2>"$work/mcp-run.log") &
server_pid=$!
while ! grep -q 'event=listen' "$work/mcp-run.log" 2>/dev/null; do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "error: mcp-run did not start:" >&2
    cat "$work/mcp-run.log" >&2
    exit 1
  fi
  sleep 0.05
done
sleep 0.5

rss() {
  sed -n "s/^$1:[[:space:]]*//p" "/proc/$server_pid/status"
}
echo "binary: $(file -b "$mcp_run" | grep -o "statically linked\|dynamically linked")"
echo "idle VmRSS: $(rss VmRSS)"
sock=$work/run/run.sock
"$work/mcp-bench" "$sock" check 1 200 "$sh_path" >/dev/null # warm-up
"$work/mcp-bench" "$sock" check 1 20000 "$sh_path"
"$work/mcp-bench" "$sock" check 16 2000 "$sh_path"
"$work/mcp-bench" "$sock" raw 2000 "$true_path"
echo "after load VmRSS: $(rss VmRSS), peak VmHWM: $(rss VmHWM)"
