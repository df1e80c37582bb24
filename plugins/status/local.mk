if PLUGIN_STATUS
plugin_LTLIBRARIES += plugins/status.la
plugins_status_la_SOURCES = plugins/status/status.c
plugins_status_la_LDFLAGS = $(CL_MODULE_FLAGS)
endif
