# Unit tests of the core (cmocka) and the test plugins they load.
TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) -I$(top_srcdir)/src/core \
	-I$(top_srcdir)/tests/unit
TEST_PLUGIN_FLAGS = -module -avoid-version -shared -rpath /nowhere

check_LTLIBRARIES += \
	tests/plugins/hello.la \
	tests/plugins/other_greet.la \
	tests/plugins/wrong_abi.la \
	tests/plugins/no_symbol.la
tests_plugins_hello_la_SOURCES = tests/plugins/hello.c
tests_plugins_hello_la_LDFLAGS = $(TEST_PLUGIN_FLAGS)
tests_plugins_other_greet_la_SOURCES = tests/plugins/other_greet.c
tests_plugins_other_greet_la_LDFLAGS = $(TEST_PLUGIN_FLAGS)
tests_plugins_wrong_abi_la_SOURCES = tests/plugins/wrong_abi.c
tests_plugins_wrong_abi_la_LDFLAGS = $(TEST_PLUGIN_FLAGS)
tests_plugins_no_symbol_la_SOURCES = tests/plugins/no_symbol.c
tests_plugins_no_symbol_la_LDFLAGS = $(TEST_PLUGIN_FLAGS)

noinst_LTLIBRARIES += tests/unit/libharness.la
tests_unit_libharness_la_SOURCES = tests/unit/harness.c tests/unit/harness.h
tests_unit_libharness_la_CFLAGS = $(TEST_CFLAGS)

check_PROGRAMS += tests/unit/test-core tests/unit/test-cli tests/unit/test-init
TESTS += tests/unit/test-core tests/unit/test-cli tests/unit/test-init

tests_unit_test_core_SOURCES = tests/unit/test-core.c
tests_unit_test_core_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_core_LDADD = src/core/libclcore.la tests/unit/libharness.la \
	$(CMOCKA_LIBS)

tests_unit_test_cli_SOURCES = tests/unit/test-cli.c
tests_unit_test_cli_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_cli_LDADD = src/core/libclcore.la tests/unit/libharness.la \
	$(CMOCKA_LIBS)

tests_unit_test_init_SOURCES = tests/unit/test-init.c
tests_unit_test_init_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_init_LDADD = tests/unit/libharness.la $(CMOCKA_LIBS)

if PLUGIN_BUILD
check_PROGRAMS += tests/unit/test-build
TESTS += tests/unit/test-build
endif
tests_unit_test_build_SOURCES = tests/unit/test-build.c
tests_unit_test_build_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_build_LDADD = tests/unit/libharness.la $(CMOCKA_LIBS)
EXTRA_DIST += tests/cli/fake-podman
