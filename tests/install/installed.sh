#!/bin/sh
# Checks an installed cladding: every plugin loads, a product command whose
# plugin file is moved away reports that it is not installed, and a module
# built for another ABI is skipped with one warning while the rest work.
#   installed.sh PREFIX PLUGINDIR WRONG_ABI_MODULE
# PLUGINDIR is the directory the installed binary was configured with.
set -eu
prefix=$1
plugindir=$2
wrong_abi=$3
cladding=$prefix/bin/cladding
work=$(mktemp -d "${TMPDIR:-/tmp}/cladding-installed-XXXXXX")
moved=

cleanup() {
  if [ -n "$moved" ]; then
    mv "$work/init.so" "$plugindir/init.so"
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

version=$(env -u CLADDING_PLUGIN_PATH "$cladding" --version)
echo "$version" | grep -q '^plugin init ' || fail "--version does not list init: $version"
echo "$version" | grep -q '^plugin build ' || fail "--version does not list build: $version"

# A wrong-ABI module is skipped with one warning; init still works.
mkdir "$work/extra" "$work/proj"
cp "$wrong_abi" "$work/extra/"
(cd "$work/proj" && CLADDING_PLUGIN_PATH="$work/extra" "$cladding" init \
  >"$work/out" 2>"$work/err") || fail "init failed next to a wrong-ABI plugin"
[ -f "$work/proj/.cladding/cladding.json" ] || fail "init wrote no cladding.json"
grep -q "^warning: skipping plugin $work/extra/wrong_abi.so: plugin ABI major version 2, this cladding supports 1\$" \
  "$work/err" || fail "unexpected warnings: $(cat "$work/err")"
[ "$(wc -l <"$work/err")" -eq 1 ] || fail "expected one warning: $(cat "$work/err")"

# Without init.so, `cladding init` is not installed.
mv "$plugindir/init.so" "$work/init.so"
moved=yes
set +e
(cd "$work/proj" && env -u CLADDING_PLUGIN_PATH "$cladding" init \
  >"$work/out" 2>"$work/err")
status=$?
set -e
[ "$status" -eq 1 ] || fail "init without its plugin exited with $status"
expected="error: 'init' is not installed (no plugin in $plugindir provides it)
'init' is not installed"
[ "$(cat "$work/err")" = "$expected" ] || fail "unexpected output: $(cat "$work/err")"

echo "PASS: installed cladding loads its plugins and reports a missing one"
