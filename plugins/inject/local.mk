# The inject plugin; it shares plugins/expose/forward_*.c with expose.
if PLUGIN_INJECT
plugin_LTLIBRARIES += plugins/inject.la
plugins_inject_la_SOURCES = plugins/inject/inject.c $(FORWARD_SHARED_SOURCES)
plugins_inject_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/expose
plugins_inject_la_LDFLAGS = $(CL_MODULE_FLAGS)
endif
