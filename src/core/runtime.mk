# The runtime specification and the inventory, with their unit tests.
src_core_libclcore_la_SOURCES += src/core/runtime.c src/core/runtime.h \
	src/core/inventory.c src/core/inventory.h

check_PROGRAMS += tests/unit/test-runtime tests/unit/test-inventory
TESTS += tests/unit/test-runtime tests/unit/test-inventory

tests_unit_test_runtime_SOURCES = tests/unit/test-runtime.c \
	tests/unit/testutil.c tests/unit/testutil.h
tests_unit_test_runtime_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) \
	-I$(top_srcdir)/src/core
tests_unit_test_runtime_LDADD = src/core/libclcore.la $(CMOCKA_LIBS)

tests_unit_test_inventory_SOURCES = tests/unit/test-inventory.c \
	tests/unit/testutil.c tests/unit/testutil.h
tests_unit_test_inventory_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) \
	-I$(top_srcdir)/src/core
tests_unit_test_inventory_LDADD = src/core/libclcore.la $(CMOCKA_LIBS)
