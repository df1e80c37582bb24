#!/bin/sh
# Evaluates the shipped template policies and the example policies on
# synthetic inputs (tests/rego/cases/*.json), allowed and denied.
top_srcdir=${CLADDING_SRCDIR:-$(dirname "$0")/../..}
top_builddir=${CLADDING_BUILDDIR:-.}
exec "$top_builddir/tests/rego/rego-cases" "$top_srcdir/tests/rego/cases"
