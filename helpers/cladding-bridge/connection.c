/* One forwarded connection: the accepted client socket and the outgoing
 * server socket, with bytes copied both ways.
 *
 * Half-close: an EOF read from one side becomes a shutdown(SHUT_WR) of the
 * other side once the bytes queued for it are written, and the connection
 * closes when both directions have ended.  With --hold-eof the client's EOF
 * is not passed on, and the connection ends when the server's EOF has been
 * passed to the client.
 *
 * Backpressure: a side stops being read while its peer has more than
 * QUEUE_LIMIT bytes waiting to be written, and is read again once that
 * queue falls to QUEUE_RESUME, so one connection buffers at most
 * QUEUE_LIMIT + CHUNK_SIZE bytes per direction. */
#include "config-host.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "forward.h"

#define CHUNK_SIZE (256 * 1024)
#define QUEUE_LIMIT (1024 * 1024)
#define QUEUE_RESUME (QUEUE_LIMIT / 2)

/* Released chunks kept for reuse, so steady copying does not call malloc. */
#define CHUNK_CACHE_MAX 16

struct connection;

struct side {
  union stream_handle h;
  struct connection *connection;
  struct side *peer;
  uv_shutdown_t shutdown_request;
  bool open;       /* initialised and not yet passed to uv_close() */
  bool read_eof;   /* this side sent EOF */
  bool write_shut; /* the shutdown of this side's write half completed */
  bool paused;     /* not read because the peer's write queue is full */
};

struct connection {
  struct side client; /* accepted by the listener */
  struct side server; /* connected to the listener's target */
  struct listener *listener;
  struct connection *prev;
  struct connection *next;
  uv_connect_t connect_request;
  int pending_closes; /* uv_close() calls whose callback has not run */
  bool closing;
  bool tried_ipv6; /* a "localhost" target fell back to [::1] */
};

/* A read buffer that becomes the write request of the same bytes. */
struct chunk {
  uv_write_t request;
  struct chunk *next_free;
  char data[CHUNK_SIZE];
};

static struct chunk *chunk_cache;
static size_t chunk_cache_size;

static struct chunk *chunk_get(void)
{
  struct chunk *chunk = chunk_cache;

  if (chunk == NULL)
    return malloc(sizeof(*chunk));
  chunk_cache = chunk->next_free;
  chunk_cache_size--;
  return chunk;
}

static void chunk_put(struct chunk *chunk)
{
  if (chunk == NULL)
    return;
  if (chunk_cache_size >= CHUNK_CACHE_MAX) {
    free(chunk);
    return;
  }
  chunk->next_free = chunk_cache;
  chunk_cache = chunk;
  chunk_cache_size++;
}

void connection_release_cache(void)
{
  while (chunk_cache != NULL) {
    struct chunk *next = chunk_cache->next_free;

    free(chunk_cache);
    chunk_cache = next;
  }
  chunk_cache_size = 0;
}

static struct bridge *connection_bridge(struct connection *connection)
{
  return connection->listener->bridge;
}

static void connection_free(struct connection *connection)
{
  struct bridge *bridge = connection_bridge(connection);

  if (connection->prev != NULL)
    connection->prev->next = connection->next;
  else
    bridge->connections = connection->next;
  if (connection->next != NULL)
    connection->next->prev = connection->prev;
  free(connection);
}

static void on_side_closed(uv_handle_t *handle)
{
  struct side *side = handle->data;
  struct connection *connection = side->connection;

  connection->pending_closes--;
  if (connection->closing && connection->pending_closes == 0)
    connection_free(connection);
}

static void side_close(struct side *side, uv_close_cb callback)
{
  if (!side->open)
    return;
  side->open = false;
  side->connection->pending_closes++;
  uv_close(&side->h.handle, callback);
}

static void connection_close(struct connection *connection)
{
  if (connection->closing)
    return;
  connection->closing = true;
  side_close(&connection->client, on_side_closed);
  side_close(&connection->server, on_side_closed);
  if (connection->pending_closes == 0)
    connection_free(connection);
}

void connection_close_all(struct bridge *bridge)
{
  struct connection *connection = bridge->connections;

  /* connection_close() frees a connection without open handles at once,
   * so read `next` first. */
  while (connection != NULL) {
    struct connection *next = connection->next;

    connection_close(connection);
    connection = next;
  }
}

/* Closes the connection once both directions have ended. */
static void connection_check_done(struct connection *connection)
{
  bool hold_eof = connection->listener->spec->hold_eof;

  if (!connection->client.read_eof || !connection->server.read_eof)
    return;
  if (!connection->client.write_shut)
    return;
  if (!hold_eof && !connection->server.write_shut)
    return;
  connection_close(connection);
}

static void on_alloc(uv_handle_t *handle, size_t suggested_size, uv_buf_t *buf)
{
  struct chunk *chunk = chunk_get();

  (void)handle;
  (void)suggested_size;
  /* An empty buffer makes libuv report UV_ENOBUFS to on_read. */
  if (chunk == NULL) {
    *buf = uv_buf_init(NULL, 0);
    return;
  }
  *buf = uv_buf_init(chunk->data, CHUNK_SIZE);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

static int side_start_reading(struct side *side)
{
  side->paused = false;
  return uv_read_start(&side->h.stream, on_alloc, on_read);
}

static void on_write(uv_write_t *request, int status)
{
  struct chunk *chunk = (struct chunk *)request;
  struct side *target = request->handle->data;
  struct side *reader = target->peer;
  struct connection *connection = target->connection;

  chunk_put(chunk);
  if (connection->closing)
    return;
  if (status < 0) {
    connection_close(connection);
    return;
  }

  if (reader->paused &&
      uv_stream_get_write_queue_size(&target->h.stream) <= QUEUE_RESUME) {
    if (side_start_reading(reader) < 0)
      connection_close(connection);
  }
}

static void on_shutdown(uv_shutdown_t *request, int status)
{
  struct side *side = request->handle->data;
  struct connection *connection = side->connection;

  if (connection->closing)
    return;
  if (status < 0) {
    connection_close(connection);
    return;
  }
  side->write_shut = true;
  connection_check_done(connection);
}

static void side_forward(struct side *side, struct chunk *chunk, size_t length)
{
  struct side *peer = side->peer;
  uv_buf_t buf = uv_buf_init(chunk->data, (unsigned int)length);

  if (uv_write(&chunk->request, &peer->h.stream, &buf, 1, on_write) < 0) {
    chunk_put(chunk);
    connection_close(side->connection);
    return;
  }

  if (uv_stream_get_write_queue_size(&peer->h.stream) > QUEUE_LIMIT) {
    uv_read_stop(&side->h.stream);
    side->paused = true;
  }
}

static void side_eof(struct side *side)
{
  struct connection *connection = side->connection;
  struct side *peer = side->peer;

  side->read_eof = true;
  uv_read_stop(&side->h.stream);

  if (side == &connection->client && connection->listener->spec->hold_eof) {
    connection_check_done(connection);
    return;
  }

  /* uv_shutdown() waits for the writes queued before it. */
  if (uv_shutdown(&peer->shutdown_request, &peer->h.stream, on_shutdown) < 0)
    connection_close(connection);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
  struct side *side = stream->data;
  struct chunk *chunk = NULL;

  if (buf->base != NULL)
    chunk = (struct chunk *)(buf->base - offsetof(struct chunk, data));

  if (nread > 0) {
    side_forward(side, chunk, (size_t)nread);
    return;
  }

  chunk_put(chunk);
  if (nread == 0)
    return;
  if (nread == UV_EOF) {
    side_eof(side);
    return;
  }
  /* A reset or another read error ends both directions at once. */
  connection_close(side->connection);
}

static int connection_connect(struct connection *connection);

/* Closes the refused IPv4 handle of a "localhost" target and retries on
 * [::1] from the close callback, because a libuv handle cannot connect
 * twice. */
static void on_retry_closed(uv_handle_t *handle)
{
  struct side *side = handle->data;
  struct connection *connection = side->connection;
  int error;

  connection->pending_closes--;
  if (connection->closing) {
    if (connection->pending_closes == 0)
      connection_free(connection);
    return;
  }

  error = connection_connect(connection);
  if (error < 0) {
    listener_log_connect_error(connection->listener, error);
    connection_close(connection);
  }
}

/* Starts copying once the outgoing connection is established. */
static void connection_start(struct connection *connection)
{
  if (side_start_reading(&connection->client) < 0 ||
      side_start_reading(&connection->server) < 0)
    connection_close(connection);
}

/* Completes the outgoing TCP connect. */
static void on_connect(uv_connect_t *request, int status)
{
  struct connection *connection = request->data;
  const struct listener_spec *spec = connection->listener->spec;

  if (connection->closing)
    return;

  if (status == UV_ECONNREFUSED && spec->tcp.localhost &&
      !connection->tried_ipv6) {
    connection->tried_ipv6 = true;
    side_close(&connection->server, on_retry_closed);
    return;
  }
  if (status < 0) {
    listener_log_connect_error(connection->listener, status);
    connection_close(connection);
    return;
  }

  uv_tcp_nodelay(&connection->server.h.tcp, 1);
  connection_start(connection);
}

/* Connects to the listener's Unix socket at once.  On a Unix stream socket
 * connect(2) completes or fails without waiting, because a full backlog gives
 * EAGAIN (which uv_pipe_connect() also reports as a failure).  Doing it here
 * saves the loop iteration that uv_pipe_connect() spends on POLLOUT. */
static int connection_connect_unix(struct connection *connection)
{
  const char *path = connection->listener->spec->path;
  uv_loop_t *loop = &connection_bridge(connection)->loop;
  struct side *server = &connection->server;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  int error;
  int fd;

  memcpy(addr.sun_path, path, strlen(path) + 1);
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -errno;
  if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
    error = -errno;
    close(fd);
    return error;
  }

  error = uv_pipe_init(loop, &server->h.pipe, 0);
  if (error < 0) {
    close(fd);
    return error;
  }
  server->open = true;
  error = uv_pipe_open(&server->h.pipe, fd);
  if (error < 0) {
    close(fd);
    return error;
  }
  connection_start(connection);
  return 0;
}

/* Starts the outgoing connection.  A TCP connect that fails later reports
 * to on_connect. */
static int connection_connect(struct connection *connection)
{
  const struct listener_spec *spec = connection->listener->spec;
  uv_loop_t *loop = &connection_bridge(connection)->loop;
  struct side *server = &connection->server;
  struct sockaddr_in6 loopback6 = {0};
  const struct sockaddr *target = (const struct sockaddr *)&spec->tcp.addr;
  int error;

  connection->connect_request.data = connection;

  if (spec->kind == LISTENER_TCP_TO_UNIX)
    return connection_connect_unix(connection);

  if (connection->tried_ipv6) {
    loopback6.sin6_family = AF_INET6;
    loopback6.sin6_addr = in6addr_loopback;
    loopback6.sin6_port = ((const struct sockaddr_in *)target)->sin_port;
    target = (const struct sockaddr *)&loopback6;
  }
  error = uv_tcp_init(loop, &server->h.tcp);
  if (error < 0)
    return error;
  server->open = true;
  return uv_tcp_connect(&connection->connect_request, &server->h.tcp, target,
                        on_connect);
}

/* Links a side to its connection.  libuv never changes handle->data, so
 * it stays valid across uv_tcp_init() and uv_pipe_init(). */
static void side_init(struct connection *connection, struct side *side,
                      struct side *peer)
{
  side->connection = connection;
  side->peer = peer;
  side->h.handle.data = side;
}

/* Creates the handle of the accepted side, the one the listener's kind
 * names first. */
static int client_init(struct connection *connection)
{
  uv_loop_t *loop = &connection_bridge(connection)->loop;
  struct side *client = &connection->client;
  int error;

  if (connection->listener->spec->kind == LISTENER_TCP_TO_UNIX)
    error = uv_tcp_init(loop, &client->h.tcp);
  else
    error = uv_pipe_init(loop, &client->h.pipe, 0);
  if (error < 0)
    return error;
  client->open = true;
  return 0;
}

void connection_accept(struct listener *listener)
{
  struct bridge *bridge = listener->bridge;
  struct connection *connection = calloc(1, sizeof(*connection));
  int error;

  if (connection == NULL) {
    bridge_stop(bridge, 1, "out-of-memory");
    return;
  }
  connection->listener = listener;
  side_init(connection, &connection->client, &connection->server);
  side_init(connection, &connection->server, &connection->client);

  connection->next = bridge->connections;
  if (bridge->connections != NULL)
    bridge->connections->prev = connection;
  bridge->connections = connection;

  error = client_init(connection);
  if (error == 0)
    error = uv_accept(&listener->server.stream, &connection->client.h.stream);
  if (error < 0) {
    listener_log_connect_error(listener, error);
    connection_close(connection);
    return;
  }
  if (listener->spec->kind == LISTENER_TCP_TO_UNIX)
    uv_tcp_nodelay(&connection->client.h.tcp, 1);

  error = connection_connect(connection);
  if (error < 0) {
    listener_log_connect_error(listener, error);
    connection_close(connection);
  }
}
