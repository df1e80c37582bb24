/* The core's bridge service: listeners on a libuv loop, each accepted
 * connection joined to a new outgoing connection, with bytes copied both
 * ways in the one process.
 *
 * Every connection has its own pair of streams.  An EOF read from one side
 * becomes a shutdown of the other side's write half once the bytes queued
 * for it are written, and the pair closes when both directions have ended
 * or either side fails.  A side is not read while more than
 * CL_BRIDGE_QUEUE_LIMIT bytes wait to be written to its peer. */
#ifndef CL_BRIDGE_H
#define CL_BRIDGE_H

#include <stddef.h>
#include <uv.h>

/* Bytes queued for one side before its peer stops being read. */
#define CL_BRIDGE_QUEUE_LIMIT (1024 * 1024)

struct cl_bridge;

/* Called once when a listener fails after it started (an accept error);
 * `error` is a negative libuv error code.  The listener is closed. */
typedef void (*cl_bridge_error_cb)(struct cl_bridge *bridge, int error,
                                   void *data);

/* Creates a bridge on `loop`.  `name` starts each diagnostic line
 * ("expose", "inject"). */
struct cl_bridge *cl_bridge_new(uv_loop_t *loop, const char *name);

void cl_bridge_set_error_cb(struct cl_bridge *bridge, cl_bridge_error_cb cb,
                            void *data);

/* Listens on TCP `address` (numeric IPv4 or IPv6) and `port`, and connects
 * each client to the Unix socket `name` in the directory `dir_fd`.  The
 * socket is opened for every connection without following a symbolic
 * link and must be a socket, because a container may write to that
 * directory.  `display` names the socket in messages.  The bridge keeps
 * its own copy of `dir_fd`.  Returns 0 or a negative libuv error code
 * (UV_EADDRINUSE for a busy port). */
int cl_bridge_listen_tcp(struct cl_bridge *bridge, const char *address,
                         int port, int dir_fd, const char *name,
                         const char *display);

/* Listens on the Unix socket `name` in the directory `dir_fd`, which must
 * not exist, with mode 0600, and connects each client to TCP
 * `host`:`port`.  `host` is resolved with uv_getaddrinfo() for every
 * connection and the addresses are tried in order.  Returns 0 or a
 * negative libuv error code. */
int cl_bridge_listen_unix(struct cl_bridge *bridge, int dir_fd,
                          const char *name, const char *host, int port);

/* The port of the first TCP listener (useful after listening on port 0),
 * or 0. */
int cl_bridge_tcp_port(const struct cl_bridge *bridge);

/* Connections currently open. */
size_t cl_bridge_connection_count(const struct cl_bridge *bridge);

/* Closes every listener and connection.  The handles finish closing while
 * the loop runs, and the bridge then frees itself: the caller must not use
 * it after this call. */
void cl_bridge_close(struct cl_bridge *bridge);

#endif
