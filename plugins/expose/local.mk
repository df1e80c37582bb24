# The expose plugin.  forward_args.c and forward_common.c hold what expose
# and inject share; the inject plugin compiles them too.
FORWARD_SHARED_SOURCES = \
	plugins/expose/forward_args.c plugins/expose/forward_args.h \
	plugins/expose/forward_common.c plugins/expose/forward_common.h

if PLUGIN_EXPOSE
plugin_LTLIBRARIES += plugins/expose.la
plugins_expose_la_SOURCES = plugins/expose/expose.c $(FORWARD_SHARED_SOURCES)
plugins_expose_la_LDFLAGS = $(CL_MODULE_FLAGS)
endif

# Unit tests of the grammar and paths, and of the core's bridge service on
# real sockets; flow tests of both commands against a fake podman that runs
# the built cladding-bridge on the host.
check_PROGRAMS += tests/unit/test-endpoint tests/unit/test-expose-bridge
TESTS += tests/unit/test-endpoint tests/unit/test-expose-bridge
tests_unit_test_endpoint_SOURCES = tests/unit/test-endpoint.c \
	plugins/expose/forward_args.c plugins/expose/forward_args.h
tests_unit_test_endpoint_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/plugins/expose
tests_unit_test_endpoint_LDADD = $(CMOCKA_LIBS)

tests_unit_test_expose_bridge_SOURCES = tests/unit/test-expose-bridge.c
tests_unit_test_expose_bridge_CFLAGS = $(TEST_CFLAGS) $(LIBUV_CFLAGS)
tests_unit_test_expose_bridge_LDADD = src/core/libclcore.la \
	tests/unit/libharness.la $(LIBUV_LIBS) \
	$(CMOCKA_LIBS) -lpthread

if PLUGIN_EXPOSE
if PLUGIN_INJECT
check_PROGRAMS += tests/unit/test-expose-flow
TESTS += tests/unit/test-expose-flow
endif
endif
tests_unit_test_expose_flow_SOURCES = tests/unit/test-expose-flow.c
tests_unit_test_expose_flow_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_expose_flow_LDADD = tests/unit/libharness.la $(CMOCKA_LIBS) \
	-lpthread
EXTRA_DIST += tests/e2e/expose-inject.sh bench/expose.sh bench/expose-load.c
