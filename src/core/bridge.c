/* The bridge service: TCP to Unix socket and Unix socket to TCP forwarding
 * on one libuv loop, with no process per connection. */
#include "config-host.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "bridge.h"
#include "log.h"
#include "util.h"

/* Bytes read at once from a side; each read becomes one write request. */
#define CHUNK_SIZE (256 * 1024)
/* A paused side is read again once its peer's queue falls to this. */
#define QUEUE_RESUME (CL_BRIDGE_QUEUE_LIMIT / 2)
/* Released chunks kept for reuse, so steady copying does not call malloc. */
#define CHUNK_CACHE_MAX 16

union stream {
  uv_handle_t handle;
  uv_stream_t stream;
  uv_tcp_t tcp;
  uv_pipe_t pipe;
};

struct connection;

struct side {
  union stream h;
  struct connection *connection;
  struct side *peer;
  uv_shutdown_t shutdown_request;
  size_t queued;   /* bytes written to this side and not yet completed */
  bool open;       /* initialised and not yet passed to uv_close() */
  bool eof;        /* this side sent EOF */
  bool write_shut; /* the shutdown of this side's write half completed */
  bool paused;     /* not read while the peer's queue is full */
};

enum listener_kind { LISTEN_TCP, LISTEN_UNIX };

struct listener {
  union stream h;
  struct cl_bridge *bridge;
  struct listener *next;
  enum listener_kind kind;
  bool open;
  char *target;      /* Unix socket name in dir_fd, or TCP host */
  int dir_fd;        /* directory of the Unix socket, or -1 */
  char port_text[8]; /* TCP target port */
  char *description; /* the target as diagnostics write it */
  /* Rate limit of failed-connect lines: at most one per second. */
  uint64_t last_failure_ms;
  unsigned suppressed_failures;
};

struct connection {
  struct side client; /* accepted by the listener */
  struct side server; /* connected to the listener's target */
  struct listener *listener;
  struct connection *prev;
  struct connection *next;
  uv_connect_t connect_request;
  uv_getaddrinfo_t resolve_request;
  struct addrinfo *addresses; /* result of the resolve, tried in order */
  struct addrinfo *next_address;
  int last_error;    /* of the last failed connect attempt */
  int pending;       /* handles closing plus an unfinished resolve */
  bool resolving;    /* uv_getaddrinfo() has not called back */
  bool reconnecting; /* the server handle closes before the next address */
  bool closing;
};

struct chunk {
  uv_write_t request;
  struct chunk *next_free;
  size_t length;
  char data[CHUNK_SIZE];
};

struct cl_bridge {
  uv_loop_t *loop;
  char *name;
  struct listener *listeners;
  struct connection *connections;
  size_t connection_count;
  int closing_handles;
  bool closing;
  cl_bridge_error_cb on_error;
  void *error_data;
  struct chunk *chunk_cache;
  size_t chunk_cache_size;
};

static void connection_close(struct connection *c);
static void start_reading(struct side *side);
static void try_next_address(struct connection *c);

static struct chunk *chunk_get(struct cl_bridge *bridge)
{
  struct chunk *chunk = bridge->chunk_cache;

  if (chunk == NULL)
    return cl_xmalloc(sizeof(*chunk));
  bridge->chunk_cache = chunk->next_free;
  bridge->chunk_cache_size--;
  return chunk;
}

static void chunk_put(struct cl_bridge *bridge, struct chunk *chunk)
{
  if (bridge->chunk_cache_size >= CHUNK_CACHE_MAX) {
    free(chunk);
    return;
  }
  chunk->next_free = bridge->chunk_cache;
  bridge->chunk_cache = chunk;
  bridge->chunk_cache_size++;
}

static void listener_free(struct listener *listener);

static void bridge_free_if_done(struct cl_bridge *bridge)
{
  if (!bridge->closing || bridge->closing_handles > 0 ||
      bridge->connections != NULL)
    return;
  while (bridge->listeners != NULL) {
    struct listener *next = bridge->listeners->next;

    listener_free(bridge->listeners);
    bridge->listeners = next;
  }
  while (bridge->chunk_cache != NULL) {
    struct chunk *next = bridge->chunk_cache->next_free;

    free(bridge->chunk_cache);
    bridge->chunk_cache = next;
  }
  free(bridge->name);
  free(bridge);
}

/* Logs a failed outgoing connect, at most once per second per listener. */
static void log_connect_failure(struct listener *listener, const char *what,
                                int error)
{
  uint64_t now = uv_now(listener->bridge->loop);

  if (listener->last_failure_ms != 0 &&
      now - listener->last_failure_ms < 1000) {
    listener->suppressed_failures++;
    return;
  }
  if (listener->suppressed_failures > 0)
    cl_log(CLADDING_LOG_WARNING,
           "%s: failed to %s %s: %s (and %u more failures)",
           listener->bridge->name, what, listener->description,
           uv_strerror(error), listener->suppressed_failures);
  else
    cl_log(CLADDING_LOG_WARNING, "%s: failed to %s %s: %s",
           listener->bridge->name, what, listener->description,
           uv_strerror(error));
  listener->last_failure_ms = now ? now : 1;
  listener->suppressed_failures = 0;
}

/* Connections. */

static void connection_release(struct connection *c)
{
  struct cl_bridge *bridge = c->listener->bridge;

  if (c->pending > 0)
    return;
  if (c->prev)
    c->prev->next = c->next;
  else
    bridge->connections = c->next;
  if (c->next)
    c->next->prev = c->prev;
  bridge->connection_count--;
  if (c->addresses)
    uv_freeaddrinfo(c->addresses);
  free(c);
  bridge_free_if_done(bridge);
}

static void side_closed(uv_handle_t *handle)
{
  struct side *side = handle->data;
  struct connection *c = side->connection;

  c->pending--;
  if (side == &c->server && c->reconnecting && !c->closing) {
    c->reconnecting = false;
    try_next_address(c);
    return;
  }
  connection_release(c);
}

static void side_close(struct side *side)
{
  if (!side->open)
    return;
  side->open = false;
  side->connection->pending++;
  uv_close(&side->h.handle, side_closed);
}

static void connection_close(struct connection *c)
{
  if (c->closing)
    return;
  c->closing = true;
  side_close(&c->client);
  side_close(&c->server);
  if (c->resolving)
    uv_cancel((uv_req_t *)&c->resolve_request);
  connection_release(c);
}

/* Closes the pair once both directions have ended. */
static void check_finished(struct connection *c)
{
  if (c->client.eof && c->server.write_shut && c->server.eof &&
      c->client.write_shut)
    connection_close(c);
}

static void shutdown_cb(uv_shutdown_t *request, int status)
{
  struct side *side = request->data;
  struct connection *c = side->connection;

  if (c->closing)
    return;
  if (status < 0) {
    connection_close(c);
    return;
  }
  side->write_shut = true;
  check_finished(c);
}

static void write_cb(uv_write_t *request, int status)
{
  struct chunk *chunk = request->data;
  struct side *side = (struct side *)request->handle->data;
  struct connection *c = side->connection;
  struct cl_bridge *bridge = c->listener->bridge;

  side->queued -= chunk->length;
  chunk_put(bridge, chunk);
  if (c->closing)
    return;
  if (status < 0) {
    connection_close(c);
    return;
  }
  if (side->peer->paused && side->queued <= QUEUE_RESUME) {
    side->peer->paused = false;
    start_reading(side->peer);
  }
}

static void alloc_cb(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
  struct side *side = handle->data;
  struct chunk *chunk = chunk_get(side->connection->listener->bridge);

  (void)suggested;
  buf->base = chunk->data;
  buf->len = sizeof(chunk->data);
}

static void read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
  struct side *side = stream->data;
  struct side *peer = side->peer;
  struct connection *c = side->connection;
  struct cl_bridge *bridge = c->listener->bridge;
  struct chunk *chunk =
      buf->base ? (struct chunk *)(buf->base - offsetof(struct chunk, data))
                : NULL;
  uv_buf_t out;
  int ret;

  if (nread <= 0) {
    if (chunk)
      chunk_put(bridge, chunk);
    if (nread == 0)
      return;
    uv_read_stop(stream);
    if (nread != UV_EOF) {
      connection_close(c);
      return;
    }
    /* Pass the half-close on once the queued bytes are written. */
    side->eof = true;
    peer->shutdown_request.data = peer;
    ret = uv_shutdown(&peer->shutdown_request, &peer->h.stream, shutdown_cb);
    if (ret < 0)
      connection_close(c);
    return;
  }

  chunk->length = (size_t)nread;
  chunk->request.data = chunk;
  out = uv_buf_init(chunk->data, (unsigned)nread);
  ret = uv_write(&chunk->request, &peer->h.stream, &out, 1, write_cb);
  if (ret < 0) {
    chunk_put(bridge, chunk);
    connection_close(c);
    return;
  }
  peer->queued += (size_t)nread;
  if (peer->queued > CL_BRIDGE_QUEUE_LIMIT) {
    side->paused = true;
    uv_read_stop(stream);
  }
}

static void start_reading(struct side *side)
{
  if (side->eof || !side->open)
    return;
  if (uv_read_start(&side->h.stream, alloc_cb, read_cb) < 0)
    connection_close(side->connection);
}

/* Starts copying once the outgoing connection is up. */
static void connection_start(struct connection *c)
{
  start_reading(&c->client);
  if (!c->closing)
    start_reading(&c->server);
}

static void connect_cb(uv_connect_t *request, int status)
{
  struct connection *c = request->data;

  if (c->closing)
    return;
  if (status < 0) {
    if (c->listener->kind == LISTEN_UNIX) {
      /* Try the next resolved address with a new handle. */
      c->last_error = status;
      c->reconnecting = true;
      side_close(&c->server);
      return;
    }
    log_connect_failure(c->listener, "connect to", status);
    connection_close(c);
    return;
  }
  if (c->listener->kind == LISTEN_UNIX)
    uv_tcp_nodelay(&c->server.h.tcp, 1);
  connection_start(c);
}

static void try_next_address(struct connection *c)
{
  struct addrinfo *address = c->next_address;
  int ret;

  if (address == NULL) {
    log_connect_failure(c->listener, "connect to",
                        c->last_error ? c->last_error : UV_EADDRNOTAVAIL);
    connection_close(c);
    return;
  }
  c->next_address = address->ai_next;
  uv_tcp_init(c->listener->bridge->loop, &c->server.h.tcp);
  c->server.h.handle.data = &c->server;
  c->server.open = true;
  c->connect_request.data = c;
  ret = uv_tcp_connect(&c->connect_request, &c->server.h.tcp, address->ai_addr,
                       connect_cb);
  if (ret < 0) {
    c->last_error = ret;
    c->reconnecting = true;
    side_close(&c->server);
  }
}

static void resolve_cb(uv_getaddrinfo_t *request, int status,
                       struct addrinfo *result)
{
  struct connection *c = request->data;

  c->resolving = false;
  c->pending--;
  if (c->closing || status < 0) {
    if (result)
      uv_freeaddrinfo(result);
    if (!c->closing) {
      log_connect_failure(c->listener, "resolve", status);
      connection_close(c);
      return;
    }
    connection_release(c);
    return;
  }
  c->addresses = result;
  c->next_address = result;
  try_next_address(c);
}

static void side_init(struct connection *c, struct side *side,
                      struct side *peer)
{
  side->connection = c;
  side->peer = peer;
  side->h.handle.data = side;
}

static struct connection *connection_new(struct listener *listener)
{
  struct cl_bridge *bridge = listener->bridge;
  struct connection *c = cl_xcalloc(1, sizeof(*c));

  c->listener = listener;
  side_init(c, &c->client, &c->server);
  side_init(c, &c->server, &c->client);
  c->next = bridge->connections;
  if (c->next)
    c->next->prev = c;
  bridge->connections = c;
  bridge->connection_count++;
  return c;
}

/* Opens the target socket of a TCP listener without following a symbolic
 * link and writes a path that reaches it into `address`.  Returns the
 * descriptor to close after connecting, or a negative libuv error. */
static int open_target(struct listener *listener, char *address, size_t size)
{
  struct stat st;
  int fd = openat(listener->dir_fd, listener->target,
                  O_PATH | O_NOFOLLOW | O_CLOEXEC);

  if (fd < 0)
    return uv_translate_sys_error(errno);
  if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode)) {
    close(fd);
    return UV_ENOTSOCK;
  }
  snprintf(address, size, "/proc/self/fd/%d", fd);
  return fd;
}

/* Opens the outgoing side of a new connection. */
static void connection_dial(struct connection *c)
{
  struct listener *listener = c->listener;
  struct addrinfo hints;
  int ret;

  if (listener->kind == LISTEN_TCP) {
    char address[64];
    int fd = open_target(listener, address, sizeof(address));

    if (fd < 0) {
      log_connect_failure(listener, "connect to", fd);
      connection_close(c);
      return;
    }
    uv_pipe_init(listener->bridge->loop, &c->server.h.pipe, 0);
    c->server.h.handle.data = &c->server;
    c->server.open = true;
    c->connect_request.data = c;
    /* connect(2) on a Unix socket completes inside this call, so the
     * descriptor of the socket inode is not needed afterwards. */
    uv_pipe_connect(&c->connect_request, &c->server.h.pipe, address,
                    connect_cb);
    close(fd);
    return;
  }

  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  c->resolve_request.data = c;
  ret = uv_getaddrinfo(listener->bridge->loop, &c->resolve_request, resolve_cb,
                       listener->target, listener->port_text, &hints);
  if (ret < 0) {
    log_connect_failure(listener, "resolve", ret);
    connection_close(c);
    return;
  }
  c->resolving = true;
  c->pending++;
}

/* Listeners. */

static void listener_closed(uv_handle_t *handle)
{
  struct listener *listener = handle->data;
  struct cl_bridge *bridge = listener->bridge;

  bridge->closing_handles--;
  bridge_free_if_done(bridge);
}

static void listener_close(struct listener *listener)
{
  if (!listener->open)
    return;
  listener->open = false;
  listener->bridge->closing_handles++;
  uv_close(&listener->h.handle, listener_closed);
}

static void on_connection(uv_stream_t *server, int status)
{
  struct listener *listener = server->data;
  struct cl_bridge *bridge = listener->bridge;
  struct connection *c;

  if (status < 0) {
    listener_close(listener);
    if (bridge->on_error)
      bridge->on_error(bridge, status, bridge->error_data);
    return;
  }

  c = connection_new(listener);
  if (listener->kind == LISTEN_TCP)
    uv_tcp_init(bridge->loop, &c->client.h.tcp);
  else
    uv_pipe_init(bridge->loop, &c->client.h.pipe, 0);
  c->client.h.handle.data = &c->client;
  c->client.open = true;
  if (uv_accept(server, &c->client.h.stream) < 0) {
    connection_close(c);
    return;
  }
  if (listener->kind == LISTEN_TCP)
    uv_tcp_nodelay(&c->client.h.tcp, 1);
  connection_dial(c);
}

static struct listener *listener_new(struct cl_bridge *bridge,
                                     enum listener_kind kind)
{
  struct listener *listener = cl_xcalloc(1, sizeof(*listener));

  listener->bridge = bridge;
  listener->kind = kind;
  listener->dir_fd = -1;
  listener->h.handle.data = listener;
  return listener;
}

static void listener_free(struct listener *listener)
{
  if (listener->dir_fd >= 0)
    close(listener->dir_fd);
  free(listener->target);
  free(listener->description);
  free(listener);
}

/* Adds `listener`, whose handle is initialised, to the bridge.  After a
 * failed bind or listen its handle is closed at once; the memory goes with
 * the bridge. */
static int listener_add(struct cl_bridge *bridge, struct listener *listener,
                        int ret)
{
  listener->next = bridge->listeners;
  bridge->listeners = listener;
  listener->open = true;
  if (ret < 0)
    listener_close(listener);
  return ret;
}

int cl_bridge_listen_tcp(struct cl_bridge *bridge, const char *address,
                         int port, int dir_fd, const char *name,
                         const char *display)
{
  struct listener *listener;
  struct sockaddr_storage addr;
  int ret;

  if (strchr(address, ':'))
    ret = uv_ip6_addr(address, port, (struct sockaddr_in6 *)&addr);
  else
    ret = uv_ip4_addr(address, port, (struct sockaddr_in *)&addr);
  if (ret < 0)
    return ret;
  listener = listener_new(bridge, LISTEN_TCP);
  listener->dir_fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
  listener->target = cl_xstrdup(name);
  listener->description = cl_xstrdup(display);

  uv_tcp_init(bridge->loop, &listener->h.tcp);
  listener->h.handle.data = listener;
  ret = listener->dir_fd < 0 ? uv_translate_sys_error(errno) : 0;
  if (ret == 0)
    ret = uv_tcp_bind(&listener->h.tcp, (struct sockaddr *)&addr, 0);
  if (ret == 0)
    ret = uv_listen(&listener->h.stream, SOMAXCONN, on_connection);
  return listener_add(bridge, listener, ret);
}

int cl_bridge_listen_unix(struct cl_bridge *bridge, int dir_fd,
                          const char *name, const char *host, int port)
{
  struct listener *listener = listener_new(bridge, LISTEN_UNIX);
  char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
  mode_t old_umask;
  int ret;

  listener->target = cl_xstrdup(host);
  snprintf(listener->port_text, sizeof(listener->port_text), "%d", port);
  listener->description = cl_asprintf("%s:%d", host, port);

  uv_pipe_init(bridge->loop, &listener->h.pipe, 0);
  listener->h.handle.data = listener;
  /* The directory is reached through its descriptor, so neither a long
   * path nor a symbolic link planted on the way changes where the socket
   * is created.  bind(2) does not follow a link in the last component. */
  if ((size_t)snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dir_fd,
                       name) >= sizeof(path))
    return listener_add(bridge, listener, UV_ENAMETOOLONG);
  /* Only the owner may connect: the socket file gets its mode from the
   * umask at bind(2) time. */
  old_umask = umask(0177);
  ret = uv_pipe_bind(&listener->h.pipe, path);
  umask(old_umask);
  if (ret == 0)
    ret = uv_listen(&listener->h.stream, SOMAXCONN, on_connection);
  return listener_add(bridge, listener, ret);
}

struct cl_bridge *cl_bridge_new(uv_loop_t *loop, const char *name)
{
  struct cl_bridge *bridge = cl_xcalloc(1, sizeof(*bridge));

  bridge->loop = loop;
  bridge->name = cl_xstrdup(name);
  return bridge;
}

void cl_bridge_set_error_cb(struct cl_bridge *bridge, cl_bridge_error_cb cb,
                            void *data)
{
  bridge->on_error = cb;
  bridge->error_data = data;
}

int cl_bridge_tcp_port(const struct cl_bridge *bridge)
{
  for (struct listener *l = bridge->listeners; l; l = l->next) {
    struct sockaddr_storage addr;
    int len = sizeof(addr);

    if (l->kind != LISTEN_TCP || !l->open)
      continue;
    if (uv_tcp_getsockname(&l->h.tcp, (struct sockaddr *)&addr, &len) < 0)
      return 0;
    if (addr.ss_family == AF_INET6)
      return ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
    return ntohs(((struct sockaddr_in *)&addr)->sin_port);
  }
  return 0;
}

size_t cl_bridge_connection_count(const struct cl_bridge *bridge)
{
  return bridge->connection_count;
}

void cl_bridge_close(struct cl_bridge *bridge)
{
  bridge->closing = true;
  for (struct listener *l = bridge->listeners; l; l = l->next)
    listener_close(l);
  for (struct connection *c = bridge->connections; c;) {
    struct connection *next = c->next;

    connection_close(c);
    c = next;
  }
  bridge_free_if_done(bridge);
}
