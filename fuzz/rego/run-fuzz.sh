#!/bin/sh
# Builds the Rego fuzz target with clang (libFuzzer, ASan, UBSan) and runs
# it for SECONDS (default 60) on a copy of the corpus.  Any crash, leak or
# timeout makes the script fail.
# Usage: fuzz/rego/run-fuzz.sh [SECONDS] [BUILD_DIR]
set -eu
seconds=${1:-60}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${2:-$(mktemp -d)}
mkdir -p "$build/corpus"
cp "$here"/corpus/* "$build/corpus/"
clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
  -fno-sanitize-recover=undefined -I"$top/src/rego" \
  $(pkg-config --cflags jansson) \
  "$here/fuzz-rego.c" "$top"/src/rego/*.c \
  $(pkg-config --libs jansson) -lm -o "$build/fuzz-rego"
cd "$build"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1 \
  ./fuzz-rego -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -max_len=4096 corpus
