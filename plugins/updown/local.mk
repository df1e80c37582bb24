if PLUGIN_UPDOWN
plugin_LTLIBRARIES += plugins/updown.la
plugins_updown_la_SOURCES = plugins/updown/updown.c
plugins_updown_la_LDFLAGS = $(CL_MODULE_FLAGS)
endif
