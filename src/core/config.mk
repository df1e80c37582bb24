# cladding.json loading and the volumes of each component, with their unit
# tests.
src_core_libclcore_la_SOURCES += src/core/config.c src/core/mounts.c

check_PROGRAMS += tests/unit/test-config tests/unit/test-mounts
TESTS += tests/unit/test-config tests/unit/test-mounts

tests_unit_test_config_SOURCES = tests/unit/test-config.c \
	tests/unit/testutil.c tests/unit/testutil.h
tests_unit_test_config_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) \
	-I$(top_srcdir)/src/core
tests_unit_test_config_LDADD = src/core/libclcore.la $(CMOCKA_LIBS)

tests_unit_test_mounts_SOURCES = tests/unit/test-mounts.c \
	tests/unit/testutil.c tests/unit/testutil.h
tests_unit_test_mounts_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) \
	-I$(top_srcdir)/src/core
tests_unit_test_mounts_LDADD = src/core/libclcore.la $(CMOCKA_LIBS)
