#!/usr/bin/env bash
# Times `cladding --version` with every plugin of a build tree loaded: the
# fixed cost of starting cladding (process start, libltdl, plugin loading).
#   bench/version.sh BUILDDIR
# Needs hyperfine (Debian package hyperfine).
set -euo pipefail
builddir=$(cd "${1:?usage: bench/version.sh BUILDDIR}" && pwd)
command -v hyperfine >/dev/null || {
  echo "error: hyperfine not found; install the Debian package hyperfine" >&2
  exit 1
}
export CLADDING_PLUGIN_PATH="$builddir/plugins"
"$builddir/cladding" --version
hyperfine --warmup 20 --runs 500 -N --export-markdown /dev/stdout \
  "$builddir/cladding --version"
