# The core: a convenience library with every service, so unit tests link the
# same code as the binary, and the `cladding` executable on top of it.
noinst_LTLIBRARIES += src/core/libclcore.la
src_core_libclcore_la_SOURCES = \
	src/core/checks.c src/core/checks.h \
	src/core/cli.c src/core/cli.h \
	src/core/context.h \
	src/core/log.c src/core/log.h \
	src/core/process.c src/core/process.h \
	src/core/project.c src/core/project.h \
	src/core/quote.c \
	src/core/registry.c src/core/registry.h \
	src/core/runtime_ops.c src/core/runtime_ops.h \
	src/core/services.c \
	src/core/util.c src/core/util.h \
	src/core/workdir.c \
	src/core/config.h src/core/mounts.h
nodist_src_core_libclcore_la_SOURCES = src/core/version.h
src_core_libclcore_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(LIBUV_CFLAGS)
src_core_libclcore_la_LIBADD = $(JANSSON_LIBS) $(LIBUV_LIBS) $(LTDL_LIBS)

bin_PROGRAMS += cladding
cladding_SOURCES = src/core/main.c
cladding_LDADD = src/core/libclcore.la

# The version comes from git at build time (build-aux/git-version); the file
# is rewritten only when the text changes, so a rebuild stays incremental.
BUILT_SOURCES += src/core/version.h
CLEANFILES += src/core/version.h
src/core/version.h: cl-version-check
	@$(MKDIR_P) src/core
	@v=`$(SHELL) $(top_srcdir)/build-aux/git-version $(top_srcdir) $(PACKAGE_VERSION)`; \
	printf '#define CL_VERSION "%s"\n' "$$v" > $@.tmp; \
	if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; fi
cl-version-check:
.PHONY: cl-version-check

dist-hook:
	$(SHELL) $(top_srcdir)/build-aux/git-version $(top_srcdir) $(PACKAGE_VERSION) > $(distdir)/.tarball-version
