# The core: a convenience library with every service, so unit tests link the
# same code as the binary, and the `cladding` executable on top of it.
noinst_LTLIBRARIES += src/core/libclcore.la
src_core_libclcore_la_SOURCES = \
	src/core/log.c src/core/log.h \
	src/core/util.c src/core/util.h \
	src/core/config.h src/core/mounts.h
src_core_libclcore_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(LIBUV_CFLAGS)
src_core_libclcore_la_LIBADD = $(JANSSON_LIBS) $(LIBUV_LIBS) $(LTDL_LIBS)

bin_PROGRAMS += cladding
cladding_SOURCES = src/core/main.c
cladding_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
cladding_LDADD = src/core/libclcore.la
