if PLUGIN_BUILD
plugin_LTLIBRARIES += plugins/build.la
plugins_build_la_SOURCES = plugins/build/build.c
plugins_build_la_LDFLAGS = $(CL_MODULE_FLAGS)
endif
