/* The HTTP server of mcp-run: listener, connections, routes. */
#ifndef MCP_RUN_SERVER_H
#define MCP_RUN_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <http_parser.h>
#include <uv.h>

#include "authz.h"
#include "config.h"
#include "policy.h"
#include "util.h"

/* Limits of one request; the responses are 431, 413 and 408. */
#define MR_MAX_HEAD_BYTES 16384
#define MR_MAX_BODY_BYTES 1048576
#define MR_REQUEST_TIMEOUT_MS 10000
/* A streaming response stops reading the child's pipes while more than
 * this many bytes wait to be written to the client. */
#define MR_WRITE_HIGH_WATER 262144

struct conn;
struct mcp_state;

struct server {
  uv_loop_t *loop;
  struct mr_config config;
  struct policy *policy;
  struct authz_env authz_env;

  union {
    uv_tcp_t tcp;
    uv_pipe_t pipe;
    uv_stream_t stream;
    uv_handle_t handle;
  } listener;
  bool listening;
  bool socket_created; /* the Unix socket file is ours to remove */
  dev_t socket_dev;
  ino_t socket_ino;

  uv_signal_t sigterm;
  uv_signal_t sigint;
  uv_timer_t shutdown_deadline;
  bool shutting_down;

  struct conn *conns; /* every open connection */
  unsigned running;   /* execution slots in use */
  struct mcp_state *mcp;
};

struct http_header {
  char *name; /* lowercase */
  char *value;
};

struct http_request {
  enum http_method method;
  char *url;
  char *path; /* without the query */
  struct http_header *headers;
  size_t nheaders;
  struct buf body;
  bool keep_alive;
  uint64_t started_ns; /* first byte, for duration_ms */
};

/* Callbacks of a route that sends its response after dispatch returns. */
struct conn_handler {
  /* The client closed or reset the connection, or a write failed.  The
   * handler must detach (conn_detach) before returning. */
  void (*on_disconnect)(struct conn *conn);
  /* The queued output fell below the high-water mark again. */
  void (*on_drain)(struct conn *conn);
  /* The server is shutting down: end the response and stop any run. */
  void (*on_shutdown)(struct conn *conn);
  /* Bytes the client sends meanwhile are discarded instead of kept as a
   * further request. */
  bool discard_input;
};

enum conn_state {
  CONN_READING, /* waiting for or receiving a request */
  CONN_BUSY,    /* a route is sending its response */
  CONN_CLOSING,
};

struct conn {
  union {
    uv_tcp_t tcp;
    uv_pipe_t pipe;
    uv_stream_t stream;
    uv_handle_t handle;
  } h;
  struct server *srv;
  struct conn *next, *prev;
  enum conn_state state;
  int open_handles;

  http_parser parser;
  uv_timer_t timer;
  uv_timer_t linger;
  struct http_request req;
  struct buf header_field;
  struct buf header_value;
  bool in_value;
  bool message_done;
  int reject_status; /* a limit hit inside a parser callback */
  size_t head_bytes; /* head bytes of the current request */
  int head_state;
  bool head_done;
  bool any_byte;      /* a byte of the current request arrived */
  unsigned served;    /* responses completed */
  struct buf pending; /* bytes received after a complete request */
  bool read_eof;
  bool shut_down; /* the write side was shut down */
  bool draining;  /* inside drain_pending */
  bool shutdown_complete;
  uv_shutdown_t shutdown_req;

  const struct conn_handler *handler;
  void *handler_data;
  bool chunked;     /* a chunked response is open */
  bool close_after; /* close when the response ends */
};

/* Connections (conn.c). */
void conn_on_connection(uv_stream_t *listener, int status);
int conn_accept(struct server *srv);
/* Serves a connected Unix stream socket, as the fuzz target does. */
int conn_adopt(struct server *srv, int fd);
const char *conn_header(const struct conn *conn, const char *name);
void conn_attach(struct conn *conn, const struct conn_handler *handler,
                 void *data);
void conn_detach(struct conn *conn);
/* A whole response.  extra_headers contains complete "Name: value\r\n"
 * lines or is NULL.  The connection then reads the next request, unless
 * the request or force_close asks to close it. */
void conn_respond(struct conn *conn, int status, const char *content_type,
                  const char *extra_headers, const char *body, size_t len,
                  bool force_close);
/* A JSON body {"error":"<message>"}. */
void conn_respond_error(struct conn *conn, int status, const char *message,
                        size_t len, bool force_close);
/* A response with chunked transfer coding, then its chunks. */
void conn_stream_begin(struct conn *conn, int status, const char *content_type,
                       const char *extra_headers, bool force_close);
void conn_stream_write(struct conn *conn, const char *data, size_t len);
void conn_stream_end(struct conn *conn);
size_t conn_write_queue(const struct conn *conn);
/* Closes at once, notifying an attached handler. */
void conn_close(struct conn *conn);
/* The time since the request began, in whole milliseconds. */
long long conn_elapsed_ms(const struct conn *conn);

/* One log line of a request, in the fixed key order. */
struct request_log {
  const char *route;
  const char *command; /* may contain NUL bytes: command_len */
  size_t command_len;
  const char *path;
  const char *cwd;
  const char *decision;
  const char *exit;
};
void conn_log(const struct conn *conn, const struct request_log *entry);
/* The same for a request whose connection may be gone; route must be
 * set. */
void log_request(const struct request_log *entry, uint64_t started_ns);

/* Routes (routes.c, mcp.c). */
void route_check(struct conn *conn);
void route_raw(struct conn *conn);
void route_mcp(struct conn *conn);
struct mcp_state *mcp_state_new(void);
/* Ends every session: in-flight calls get "Server shutting down". */
void mcp_shutdown(struct mcp_state *mcp);
void mcp_state_free(struct mcp_state *mcp);

/* Execution slots. */
bool server_take_slot(struct server *srv);
void server_release_slot(struct server *srv);
/* Called when a connection or a run ends during shutdown. */
void server_maybe_exit(struct server *srv);

/* Every "exit" log value: a status, signal:<n> or "-". */
void format_exit(char out[32], bool exited, bool signaled, int code);

int mcp_run_main(void);

#endif
