#!/bin/sh
# Checks that the shipped cladding-bridge is statically linked, so it runs in
# any container image.  make check runs this only when configure links the
# helpers statically (the default; sanitizer builds turn it off).
set -eu

binary="${CLADDING_BRIDGE:-$CLADDING_BUILDDIR/helpers/cladding-bridge/cladding-bridge}"

if command -v file >/dev/null 2>&1; then
  description=$(file -b "$binary")
  case "$description" in
  *"statically linked"*)
    echo "PASS: $binary: $description"
    exit 0
    ;;
  esac
  echo "FAIL: $binary is not statically linked: $description" >&2
  exit 1
fi

# Without file(1): a static executable has no program interpreter.
if readelf -l "$binary" | grep -q 'INTERP'; then
  echo "FAIL: $binary has a program interpreter, so it is dynamically linked" >&2
  exit 1
fi
echo "PASS: $binary has no program interpreter"
