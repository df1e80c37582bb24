# The Rego policy engine: a static convenience library (jansson and libc
# only, so the static helpers can link it), its case runner and tests.
noinst_LIBRARIES += src/rego/librego.a
src_rego_librego_a_SOURCES = \
	src/rego/rego.h \
	src/rego/ast.h \
	src/rego/engine.h \
	src/rego/eval.h \
	src/rego/lexer.h \
	src/rego/program.h \
	src/rego/text.h \
	src/rego/value.h \
	src/rego/builtins.c \
	src/rego/compile.c \
	src/rego/engine.c \
	src/rego/eval.c \
	src/rego/lexer.c \
	src/rego/parser.c \
	src/rego/text.c \
	src/rego/value.c
src_rego_librego_a_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS)
src_rego_librego_a_CFLAGS = $(AM_CFLAGS) -std=gnu11

REGO_LIBS = src/rego/librego.a $(JANSSON_LIBS) -lm

# Case runner: the shared cases come from REGO_CASES_DIR; without it, the
# folder beside the source tree is used when it exists.
check_PROGRAMS += tests/rego/rego-cases
tests_rego_rego_cases_SOURCES = tests/rego/rego-cases.c
tests_rego_rego_cases_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS) \
	-I$(top_srcdir)/src/rego \
	-DREGO_CASES_FALLBACK='"$(abs_top_srcdir)/../shared/rego-cases"' \
	-DREGO_SRCDIR='"$(abs_top_srcdir)"'
tests_rego_rego_cases_LDADD = $(REGO_LIBS)


TESTS += tests/rego/rego-cases tests/rego/policies.sh

# Example policies, installed under $(pkgdatadir)/examples/policies/.
nobase_dist_pkgdata_DATA += \
	examples/policies/cargo/cargo.rego \
	examples/policies/cargo/main.rego \
	examples/policies/npm/main.rego \
	examples/policies/npm/npm.rego \
	examples/policies/uv/main.rego \
	examples/policies/uv/uv.rego \
	examples/policies/jj/main.rego \
	examples/policies/jj/real_jj.rego \
	examples/policies/jj/jj_workspace.rego \
	examples/policies/jj/jj_commands.rego

EXTRA_DIST += \
	tests/rego/cases \
	fuzz/rego \
	bench/rego-bench.c \
	tests/rego/policies.sh \
	docs/rego.md

# Benchmark: built by make check, run by hand (see bench/RESULTS.md).
check_PROGRAMS += bench/rego-bench
bench_rego_bench_SOURCES = bench/rego-bench.c
bench_rego_bench_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS) \
	-I$(top_srcdir)/src/rego -DREGO_SRCDIR='"$(abs_top_srcdir)"'
bench_rego_bench_LDADD = $(REGO_LIBS)
