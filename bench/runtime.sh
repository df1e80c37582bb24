#!/usr/bin/env bash
# Times the runtime commands against the podman calls they wrap:
#   - `cladding run true` against `podman exec <agent> true`
#   - `cladding up` against a plain script that issues the same podman
#     commands (taken from `cladding up -v`) without readiness checks
# Needs an installed cladding (CLADDING, default: cladding on PATH),
# hyperfine, and the images (cladding build). Creates and removes its own
# project in a temp dir.
#   bench/runtime.sh
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cladding=${CLADDING:-cladding}
command -v hyperfine >/dev/null || {
  echo "error: hyperfine not found; install the Debian package hyperfine" >&2
  exit 1
}
# shellcheck source=/dev/null
. "$top/contrib/podman-env"

work=$(mktemp -d "${TMPDIR:-/tmp}/cladding-bench-XXXXXX")
proj=$work/bench
trap '(cd "$proj" && "$cladding" down >/dev/null 2>&1); rm -rf "$work"' EXIT
mkdir -p "$proj"
cd "$proj"
"$cladding" init >/dev/null
"$cladding" build --agents none --base localhost/cladding-base:bookworm >/dev/null 2>&1

# The podman calls of `up`, in order, as a plain script.
"$cladding" up -v --quiet >/dev/null 2>"$work/trace"
{
  echo 'set -e'
  echo "rm -rf '$proj/.cladding/runtime/sockets'"
  echo "mkdir -p -m 0700 '$proj/.cladding/runtime/sockets'"
  for dir in agent/inject agent/expose proxy/agent proxy/nw-sandbox run/nw-sandbox; do
    echo "mkdir -p '$proj/.cladding/runtime/sockets/$dir'"
  done
  sed -n 's/^+ //p' "$work/trace" | grep -v ' ps \| pod ps '
} >"$work/plain-up.sh"
"$cladding" down >/dev/null

echo "== cladding run true against podman exec true"
"$cladding" up --quiet >/dev/null
hyperfine --warmup 3 --runs 40 -N --export-json "$work/run.json" --export-markdown "$work/run.md" \
  "$cladding run true" \
  "podman exec bench-agent-instance true"
cat "$work/run.md"
python3 -c 'import json,sys; [print("median %s: %.1f ms" % (r["command"], r["median"]*1000)) for r in json.load(open(sys.argv[1]))["results"]]' "$work/run.json"
"$cladding" down >/dev/null

echo "== cladding up against the same podman calls in a script"
hyperfine --warmup 1 --runs 10 --export-json "$work/up.json" --export-markdown "$work/up.md" \
  --prepare "cd '$proj' && '$cladding' down >/dev/null 2>&1" \
  "cd '$proj' && '$cladding' up --quiet >/dev/null" \
  "bash '$work/plain-up.sh' >/dev/null"
cat "$work/up.md"
python3 -c 'import json,sys; [print("median %s: %.3f s" % (r["command"], r["median"])) for r in json.load(open(sys.argv[1]))["results"]]' "$work/up.json"
