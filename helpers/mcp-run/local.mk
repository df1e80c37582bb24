# mcp-run (the sandbox command server), run-remote (its client), the two
# wrapper scripts, and their tests.  The programs are built inside their
# source folders, because a file cannot share the path of a folder; they
# install as $(pkglibexecdir)/mcp-run and $(pkglibexecdir)/run-remote.

MCP_RUN_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src $(LIBUV_CFLAGS) \
	$(JANSSON_CFLAGS) $(LIBCRYPTO_CFLAGS)
MCP_RUN_LIBS = helpers/mcp-run/libmcprun.a src/rego/librego.a \
	$(HELPER_UV_LIBS) $(JANSSON_LIBS) $(HTTP_PARSER_LIBS) \
	$(LIBCRYPTO_LIBS) -lm

# Everything but main(), so the unit tests and the fuzz target link the
# same code as the program.
noinst_LIBRARIES += helpers/mcp-run/libmcprun.a
helpers_mcp_run_libmcprun_a_SOURCES = \
	helpers/mcp-run/authz.c helpers/mcp-run/authz.h \
	helpers/mcp-run/config.c helpers/mcp-run/config.h \
	helpers/mcp-run/conn.c \
	helpers/mcp-run/cwd.c helpers/mcp-run/cwd.h \
	helpers/mcp-run/exe.c helpers/mcp-run/exe.h \
	helpers/mcp-run/log.c helpers/mcp-run/log.h \
	helpers/mcp-run/mcp.c \
	helpers/mcp-run/mcp_tools.c helpers/mcp-run/mcp_tools.h \
	helpers/mcp-run/policy.c helpers/mcp-run/policy.h \
	helpers/mcp-run/proc.c helpers/mcp-run/proc.h \
	helpers/mcp-run/request.c helpers/mcp-run/request.h \
	helpers/mcp-run/routes.c \
	helpers/mcp-run/server.c helpers/mcp-run/server.h \
	helpers/mcp-run/util.c helpers/mcp-run/util.h
nodist_helpers_mcp_run_libmcprun_a_SOURCES = src/core/version.h
helpers_mcp_run_libmcprun_a_CPPFLAGS = $(MCP_RUN_CPPFLAGS)

pkglibexec_PROGRAMS += helpers/mcp-run/mcp-run
helpers_mcp_run_mcp_run_SOURCES = helpers/mcp-run/main.c
helpers_mcp_run_mcp_run_CPPFLAGS = $(MCP_RUN_CPPFLAGS)
helpers_mcp_run_mcp_run_LDFLAGS = $(HELPER_LDFLAGS)
helpers_mcp_run_mcp_run_LDADD = $(MCP_RUN_LIBS)

pkglibexec_PROGRAMS += helpers/run-remote/run-remote
helpers_run_remote_run_remote_SOURCES = \
	helpers/run-remote/main.c \
	helpers/run-remote/args.c helpers/run-remote/args.h \
	helpers/run-remote/http.c helpers/run-remote/http.h \
	helpers/run-remote/ndjson.c helpers/run-remote/ndjson.h \
	helpers/run-remote/rr_util.c helpers/run-remote/rr_util.h \
	helpers/run-remote/url.c helpers/run-remote/url.h
helpers_run_remote_run_remote_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS)
helpers_run_remote_run_remote_LDFLAGS = $(HELPER_LDFLAGS)
helpers_run_remote_run_remote_LDADD = $(JANSSON_LIBS) $(HTTP_PARSER_LIBS)

pkglibexec_SCRIPTS += helpers/run-in-nw-sandbox helpers/run-in-fs-sandbox
EXTRA_DIST += helpers/run-in-nw-sandbox helpers/run-in-fs-sandbox

# Unit tests of the pieces that integration tests cannot reach directly.
check_PROGRAMS += tests/mcp/test-mcp-units
tests_mcp_test_mcp_units_SOURCES = tests/mcp/test-mcp-units.c
tests_mcp_test_mcp_units_CPPFLAGS = $(MCP_RUN_CPPFLAGS) $(CMOCKA_CFLAGS) \
	-I$(top_srcdir)/helpers/mcp-run
tests_mcp_test_mcp_units_LDADD = $(MCP_RUN_LIBS) $(CMOCKA_LIBS)

# Integration tests: real processes on real sockets.  They find the
# programs through CLADDING_BUILDDIR and the wrappers through
# CLADDING_SRCDIR (AM_TESTS_ENVIRONMENT).
MCP_INTEGRATION_TESTS = \
	tests/mcp/test-config.py \
	tests/mcp/test-raw-check.py \
	tests/mcp/test-policy.py \
	tests/mcp/test-mcp.py \
	tests/mcp/test-limits.py \
	tests/mcp/test-lifecycle.py \
	tests/mcp/test-run-remote.py \
	tests/mcp/test-permissions.py
# The MCP SDK test skips itself unless `npm ci` ran in tests/mcp-sdk.
TESTS += tests/mcp/test-mcp-units $(MCP_INTEGRATION_TESTS) \
	tests/mcp-sdk/run.sh
EXTRA_DIST += $(MCP_INTEGRATION_TESTS) tests/mcp/mcptest.py \
	tests/mcp-sdk/package.json tests/mcp-sdk/package-lock.json \
	tests/mcp-sdk/sdk-client.mjs tests/mcp-sdk/run.sh \
	fuzz/mcp-run fuzz/run-remote \
	bench/mcp-bench.c bench/mcp-bench.sh

# The shipped helpers must run in any image: check the static link.
if STATIC_HELPERS
TESTS += tests/mcp/static-link.sh
endif
EXTRA_DIST += tests/mcp/static-link.sh
