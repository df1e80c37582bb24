#!/bin/sh
# Checks that mcp-run and run-remote are statically linked, so they run in
# container images whose libraries cladding does not control.
set -eu
status=0
for program in helpers/mcp-run/mcp-run helpers/run-remote/run-remote; do
  path="${CLADDING_BUILDDIR:?CLADDING_BUILDDIR must be set}/$program"
  description=$(file -L "$path")
  case $description in
  *"statically linked"*) echo "ok: $program is statically linked" ;;
  *)
    echo "not ok: $program is not statically linked: $description"
    status=1
    ;;
  esac
done
exit $status
