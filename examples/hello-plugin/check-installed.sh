#!/bin/sh
# Builds the example plugin out of tree against an installed cladding and
# checks that the installed binary loads it.
#   check-installed.sh PREFIX SRCDIR
# PREFIX is the installation prefix, whose lib/pkgconfig must contain
# cladding-plugin.pc. SRCDIR contains hello.c and the Makefile.
set -eu
prefix=$1
srcdir=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/cladding-hello-XXXXXX")
trap 'rm -rf "$work"' EXIT

cp "$srcdir/hello.c" "$srcdir/Makefile" "$work/"
# The .pc file names the configured prefix; a DESTDIR install moves it.
PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}" \
  make -s -C "$work" PKG_CONFIG="pkg-config --define-variable=prefix=$prefix"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

out=$(CLADDING_PLUGIN_PATH="$work" "$prefix/bin/cladding" hello Ada) ||
  fail "cladding hello exited with $?"
[ "$out" = "hello, Ada" ] || fail "unexpected output: $out"

out=$(CLADDING_PLUGIN_PATH="$work" "$prefix/bin/cladding" hello --shout Ada)
[ "$out" = "HELLO, Ada!" ] || fail "unexpected output: $out"

CLADDING_PLUGIN_PATH="$work" "$prefix/bin/cladding" --version |
  grep -qx 'plugin hello 1.0.0' || fail "--version does not list hello"

echo "PASS: example plugin builds against $prefix and adds 'cladding hello'"
