if PLUGIN_INIT
plugin_LTLIBRARIES += plugins/init.la
plugins_init_la_SOURCES = plugins/init/init.c
plugins_init_la_LDFLAGS = $(CL_MODULE_FLAGS)
endif
