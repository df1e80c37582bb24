# The bridge service (TCP and Unix socket forwarding on libuv) and the
# forwarding sessions of expose and inject, part of the core library.
src_core_libclcore_la_SOURCES += \
	src/core/bridge.c src/core/bridge.h \
	src/core/forward.c src/core/forward.h
