if PLUGIN_RUN
plugin_LTLIBRARIES += plugins/run.la
plugins_run_la_SOURCES = plugins/run/run.c
plugins_run_la_LDFLAGS = $(CL_MODULE_FLAGS)
endif
