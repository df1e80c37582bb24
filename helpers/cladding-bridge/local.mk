# cladding-bridge: the TCP/Unix forwarder and PID-1 supervisor that runs in
# the containers.  The program is built inside its source folder, because a
# file cannot share the path of that folder.  It installs as
# $(pkglibexecdir)/cladding-bridge.
pkglibexec_PROGRAMS += helpers/cladding-bridge/cladding-bridge
helpers_cladding_bridge_cladding_bridge_SOURCES = \
	helpers/cladding-bridge/main.c \
	helpers/cladding-bridge/args.c helpers/cladding-bridge/args.h \
	helpers/cladding-bridge/bridge.h \
	helpers/cladding-bridge/connection.c \
	helpers/cladding-bridge/forward.h \
	helpers/cladding-bridge/listener.c \
	helpers/cladding-bridge/log.c helpers/cladding-bridge/log.h \
	helpers/cladding-bridge/pidfile.c helpers/cladding-bridge/pidfile.h \
	helpers/cladding-bridge/supervise.c helpers/cladding-bridge/supervise.h
helpers_cladding_bridge_cladding_bridge_CFLAGS = $(AM_CFLAGS) $(LIBUV_CFLAGS)
helpers_cladding_bridge_cladding_bridge_LDFLAGS = $(HELPER_LDFLAGS)
helpers_cladding_bridge_cladding_bridge_LDADD = $(HELPER_UV_LIBS)

# Integration tests: the real helper on loopback TCP and Unix sockets in a
# temporary directory.  They need python3; the PID-1 tests also need
# unshare(1) from util-linux and root, and skip without them.
cladding_bridge_tests = \
	tests/bridge/args.py \
	tests/bridge/forward.py \
	tests/bridge/pidfile.py \
	tests/bridge/supervise.py
TESTS += $(cladding_bridge_tests)
EXTRA_DIST += $(cladding_bridge_tests) tests/bridge/bridgetest.py \
	tests/bridge/static.sh
if STATIC_HELPERS
TESTS += tests/bridge/static.sh
endif
