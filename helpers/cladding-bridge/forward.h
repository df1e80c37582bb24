/* Listeners (listener.c) and byte forwarding between TCP and Unix stream
 * sockets (connection.c). */
#ifndef CLADDING_BRIDGE_FORWARD_H
#define CLADDING_BRIDGE_FORWARD_H

#include <stdint.h>

#include "bridge.h"
#include "log.h"

union stream_handle {
  uv_handle_t handle;
  uv_stream_t stream;
  uv_tcp_t tcp;
  uv_pipe_t pipe;
};

/* At most one log line per second for a repeated error; the lines left out
 * are counted and reported with the next one. */
struct rate_limit {
  uint64_t last_ms; /* uv_now() of the last line */
  bool logged;      /* a line was written before */
  unsigned long suppressed;
};

struct listener {
  union stream_handle server;
  const struct listener_spec *spec;
  struct bridge *bridge;
  bool open;        /* initialised and not yet passed to uv_close() */
  bool listening;   /* uv_listen() succeeded */
  char address[80]; /* the bound TCP address (with the kernel's port) */
  struct rate_limit connect_errors;
  struct rate_limit accept_errors;
};

/* Binds and starts every listener of bridge->options, logging one line per
 * listener.  Returns 0, or -1 after logging the failure; the listeners bound
 * so far stay open until forward_stop(). */
int forward_start(struct bridge *bridge);

/* Closes every listener (libuv removes a Unix listener's socket file when
 * it closes) and every connection.  The close callbacks release the memory
 * before uv_run() returns; forward_free() then releases the listener
 * array. */
void forward_stop(struct bridge *bridge);
void forward_free(struct bridge *bridge);

/* Adds kind, listen address and target of `listener` to a log line. */
void listener_log_describe(struct log_line *line,
                           const struct listener *listener);

/* Logs a failed outgoing connect, within the listener's rate limit. */
void listener_log_connect_error(struct listener *listener, int error);

/* Accepts the pending connection of `listener` and connects it to the
 * listener's target.  Failures close that connection only. */
void connection_accept(struct listener *listener);

/* Closes every open connection of `bridge`. */
void connection_close_all(struct bridge *bridge);

/* Frees the read buffers kept for reuse; call once no connection is left. */
void connection_release_cache(void);

#endif
