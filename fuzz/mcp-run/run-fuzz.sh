#!/bin/sh
# Builds one libFuzzer target of mcp-run or run-remote with clang and runs
# it for a number of seconds:
#   fuzz/mcp-run/run-fuzz.sh mcp-run-http|run-remote-ndjson SECONDS [WORKDIR]
# Needs clang and libclang-rt-14-dev.  New inputs that reach more code go
# to WORKDIR/corpus; a crash leaves its input in WORKDIR and fails.
set -eu

usage="usage: fuzz/mcp-run/run-fuzz.sh mcp-run-http|run-remote-ndjson SECONDS [WORKDIR]"
target=${1:?$usage}
seconds=${2:?$usage}
top=$(cd "$(dirname "$0")/../.." && pwd)
work=${3:-$(mktemp -d)}
mkdir -p "$work/include/src/core" "$work/corpus"
: >"$work/include/config-host.h"
echo '#define CL_VERSION "fuzz"' >"$work/include/src/core/version.h"

cc=${CLANG:-clang}
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
  -D_GNU_SOURCE -I$work/include -I$top/include -I$top/src"

case $target in
mcp-run-http)
  sources=$(ls "$top"/helpers/mcp-run/*.c "$top"/src/rego/*.c |
    grep -v '/helpers/mcp-run/main\.c$')
  # shellcheck disable=SC2086
  $cc $flags -I"$top/helpers/mcp-run" -o "$work/fuzz-http" \
    "$top/fuzz/mcp-run/fuzz-http.c" $sources \
    -luv -ljansson -lhttp_parser -lcrypto -lm
  binary=$work/fuzz-http
  seeds=$top/fuzz/mcp-run/seeds
  ;;
run-remote-ndjson)
  # shellcheck disable=SC2086
  $cc $flags -I"$top/helpers/run-remote" -o "$work/fuzz-ndjson" \
    "$top/fuzz/run-remote/fuzz-ndjson.c" "$top/helpers/run-remote/ndjson.c" \
    "$top/helpers/run-remote/rr_util.c" -ljansson
  binary=$work/fuzz-ndjson
  seeds=$top/fuzz/run-remote/seeds
  ;;
*)
  echo "error: unknown fuzz target '$target'; use mcp-run-http or run-remote-ndjson" >&2
  exit 2
  ;;
esac

cd "$work"
"$binary" -max_total_time="$seconds" -max_len=65536 -timeout=30 \
  -rss_limit_mb=4096 -print_final_stats=1 "$work/corpus" "$seeds"
