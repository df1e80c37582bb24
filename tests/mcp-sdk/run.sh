#!/bin/sh
# Runs the MCP SDK client against mcp-run over TCP, once accepting event
# streams and once JSON only.  Needs Node.js and `npm ci` run in this
# folder; without them the test is skipped (status 77).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
builddir=${CLADDING_BUILDDIR:?CLADDING_BUILDDIR must be set to the build tree}
mcp_run=${MCP_RUN_BIN:-$builddir/helpers/mcp-run/mcp-run}

if ! command -v node >/dev/null 2>&1; then
  echo "SKIP: node not found; install Node.js to run the MCP SDK test"
  exit 77
fi
if [ ! -d "$here/node_modules/@modelcontextprotocol/sdk" ]; then
  echo "SKIP: the MCP SDK is not installed; run 'npm ci' in $here"
  exit 77
fi

tmp=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || :
    wait "$server_pid" 2>/dev/null || :
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

env_path=$(command -v env)
mkdir "$tmp/policy"
cat >"$tmp/policy/main.rego" <<REGO
package sandbox.main

default allow := false

allow if input.command == "$env_path"
REGO

: >"$tmp/mcp-run.log"
(cd "$tmp" && POLICY_DIR="$tmp/policy" MCP_BIND_ADDR=127.0.0.1:0 \
  exec "$mcp_run" 2>>"$tmp/mcp-run.log") &
server_pid=$!

address=
tries=0
while [ -z "$address" ]; do
  address=$(sed -n 's/.*event=listen address=\([^ ]*\).*/\1/p' "$tmp/mcp-run.log" || :)
  tries=$((tries + 1))
  if [ "$tries" -gt 600 ]; then
    echo "mcp-run did not start:"
    cat "$tmp/mcp-run.log"
    exit 1
  fi
  [ -n "$address" ] || sleep 0.1
done

status=0
for mode in sse json; do
  if ! node "$here/sdk-client.mjs" "http://$address/mcp" "$env_path" "$mode"; then
    status=1
  fi
done
if [ "$status" -ne 0 ]; then
  echo "mcp-run log:"
  cat "$tmp/mcp-run.log"
fi
exit $status
