if PLUGIN_LOGS
plugin_LTLIBRARIES += plugins/logs.la
plugins_logs_la_SOURCES = plugins/logs/logs.c
plugins_logs_la_LDFLAGS = $(CL_MODULE_FLAGS)
endif
