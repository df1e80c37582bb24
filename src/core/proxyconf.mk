# The proxy configuration: allowlist validation, squid.conf generation and
# the files under ROOT/runtime/proxy.
src_core_libclcore_la_SOURCES += \
	src/core/proxyconf.h \
	src/core/proxyconf.c \
	src/core/allowlist.c \
	src/core/squidconf.c

check_PROGRAMS += tests/unit/test-proxyconf
TESTS += tests/unit/test-proxyconf
tests_unit_test_proxyconf_SOURCES = tests/unit/test-proxyconf.c
tests_unit_test_proxyconf_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) \
	-I$(top_srcdir)/src/core
tests_unit_test_proxyconf_LDADD = src/core/libclcore.la $(CMOCKA_LIBS)
