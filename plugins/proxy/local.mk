if PLUGIN_PROXY
plugin_LTLIBRARIES += plugins/proxy.la
plugins_proxy_la_SOURCES = plugins/proxy/proxy.c
plugins_proxy_la_LDFLAGS = $(CL_MODULE_FLAGS)
endif
