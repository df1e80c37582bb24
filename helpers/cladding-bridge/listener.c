/* Listeners: binding, accepting and their log lines. */
#include "config-host.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "forward.h"

/* Mode 0600 for the Unix sockets the helper creates: only their owner may
 * connect. */
#define SOCKET_UMASK 0177

static const char *listener_kind_name(const struct listener_spec *spec)
{
  return spec->kind == LISTENER_TCP_TO_UNIX ? "tcp" : "unix";
}

void listener_log_describe(struct log_line *line,
                           const struct listener *listener)
{
  const struct listener_spec *spec = listener->spec;

  log_add(line, "kind", listener_kind_name(spec));
  if (spec->kind == LISTENER_TCP_TO_UNIX) {
    log_add(line, "addr",
            listener->address[0] != '\0' ? listener->address : spec->tcp.text);
    log_add(line, "target", spec->path);
  } else {
    log_add(line, "path", spec->path);
    log_add(line, "target", spec->tcp.text);
  }
  if (spec->hold_eof)
    log_add(line, "hold_eof", "yes");
}

/* Returns whether a line may be written now, and counts it when not. */
static bool rate_limit_allow(struct rate_limit *limit, uint64_t now_ms)
{
  if (limit->logged && now_ms - limit->last_ms < 1000) {
    limit->suppressed++;
    return false;
  }
  limit->logged = true;
  limit->last_ms = now_ms;
  return true;
}

static void log_rate_limited(struct listener *listener,
                             struct rate_limit *limit, const char *event,
                             int error)
{
  struct log_line line;

  if (!rate_limit_allow(limit, uv_now(&listener->bridge->loop)))
    return;
  log_start(&line, event);
  listener_log_describe(&line, listener);
  log_add_error(&line, error);
  if (limit->suppressed > 0)
    log_add_int(&line, "suppressed", (long long)limit->suppressed);
  log_emit(&line);
  limit->suppressed = 0;
}

void listener_log_connect_error(struct listener *listener, int error)
{
  log_rate_limited(listener, &listener->connect_errors, "connect-error", error);
}

/* Errors of accept(2) that come from a shortage of descriptors or memory.
 * The listener keeps running after them.
 * NOTE: when accept(2) fails with EMFILE, libuv (1.44) frees a reserved
 * descriptor and accepts and closes the waiting connections.  It calls
 * on_connection only if that fails too, so those drops are not logged. */
static bool accept_error_is_transient(int error)
{
  return error == UV_EMFILE || error == UV_ENFILE || error == UV_ENOBUFS ||
         error == UV_ENOMEM || error == UV_ECONNABORTED || error == UV_EAGAIN ||
         error == UV_EINTR;
}

static void on_connection(uv_stream_t *server, int status)
{
  struct listener *listener = server->data;
  struct log_line line;

  if (status == 0) {
    connection_accept(listener);
    return;
  }
  if (accept_error_is_transient(status)) {
    log_rate_limited(listener, &listener->accept_errors, "accept-error",
                     status);
    return;
  }

  log_start(&line, "listener-error");
  listener_log_describe(&line, listener);
  log_add_error(&line, status);
  log_emit(&line);
  bridge_stop(listener->bridge, 1, "listener-error");
}

static void log_listen_error(const struct listener *listener,
                             const char *reason)
{
  struct log_line line;

  log_start(&line, "listen-error");
  listener_log_describe(&line, listener);
  log_add(&line, "error", reason);
  log_emit(&line);
}

/* Removes a socket left at `path` by an earlier run.  Returns 0, or -1
 * after logging when `path` is another type of file or cannot be removed. */
static int remove_stale_socket(const struct listener *listener)
{
  const char *path = listener->spec->path;
  struct stat st;
  char reason[256];

  if (lstat(path, &st) < 0) {
    if (errno == ENOENT)
      return 0;
    snprintf(reason, sizeof(reason), "cannot inspect the existing file: %s",
             uv_strerror(-errno));
    log_listen_error(listener, reason);
    return -1;
  }
  if (!S_ISSOCK(st.st_mode)) {
    log_listen_error(listener, "the path exists and is not a socket, so it "
                               "was left alone: remove it or choose another "
                               "path");
    return -1;
  }
  if (unlink(path) < 0 && errno != ENOENT) {
    snprintf(reason, sizeof(reason), "cannot remove the stale socket: %s",
             uv_strerror(-errno));
    log_listen_error(listener, reason);
    return -1;
  }
  return 0;
}

static bool parent_directory_exists(const char *path)
{
  char directory[BRIDGE_UNIX_PATH_MAX + 1];
  char *slash;
  struct stat st;

  snprintf(directory, sizeof(directory), "%s", path);
  slash = strrchr(directory, '/');
  if (slash == NULL)
    return true;
  if (slash == directory)
    slash[1] = '\0';
  else
    slash[0] = '\0';
  return stat(directory, &st) == 0 && S_ISDIR(st.st_mode);
}

static int bind_unix(struct listener *listener)
{
  mode_t old_umask;
  int error;

  if (remove_stale_socket(listener) < 0)
    return -1;

  error = uv_pipe_init(&listener->bridge->loop, &listener->server.pipe, 0);
  if (error < 0)
    goto failed;
  listener->open = true;

  /* The socket file gets its mode from the umask at bind(2) time.  The
   * process is single-threaded, so no other file is created meanwhile. */
  old_umask = umask(SOCKET_UMASK);
  error = uv_pipe_bind(&listener->server.pipe, listener->spec->path);
  umask(old_umask);
  /* libuv (1.44) reports ENOENT from bind(2) as EACCES. */
  if (error == UV_EACCES && !parent_directory_exists(listener->spec->path))
    error = UV_ENOENT;
  if (error < 0)
    goto failed;
  error = uv_listen(&listener->server.stream, SOMAXCONN, on_connection);
  if (error < 0)
    goto failed;
  return 0;

failed:
  log_listen_error(listener, uv_strerror(error));
  return -1;
}

/* Stores the bound address, so a listener on port 0 logs its real port. */
static void store_bound_address(struct listener *listener)
{
  struct sockaddr_storage addr;
  int length = sizeof(addr);
  char host[64];

  if (uv_tcp_getsockname(&listener->server.tcp, (struct sockaddr *)&addr,
                         &length) < 0)
    return;
  if (addr.ss_family == AF_INET6) {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&addr;

    uv_ip6_name(in6, host, sizeof(host));
    snprintf(listener->address, sizeof(listener->address), "[%s]:%d", host,
             ntohs(in6->sin6_port));
  } else {
    struct sockaddr_in *in4 = (struct sockaddr_in *)&addr;

    uv_ip4_name(in4, host, sizeof(host));
    snprintf(listener->address, sizeof(listener->address), "%s:%d", host,
             ntohs(in4->sin_port));
  }
}

static int bind_tcp(struct listener *listener)
{
  const struct sockaddr *addr =
      (const struct sockaddr *)&listener->spec->tcp.addr;
  int error;

  error = uv_tcp_init(&listener->bridge->loop, &listener->server.tcp);
  if (error < 0)
    goto failed;
  listener->open = true;

  /* libuv reports EADDRINUSE from uv_listen(), not from uv_tcp_bind(). */
  error = uv_tcp_bind(&listener->server.tcp, addr, 0);
  if (error < 0)
    goto failed;
  error = uv_listen(&listener->server.stream, SOMAXCONN, on_connection);
  if (error < 0)
    goto failed;
  store_bound_address(listener);
  return 0;

failed:
  log_listen_error(listener, uv_strerror(error));
  return -1;
}

int forward_start(struct bridge *bridge)
{
  const struct bridge_options *options = bridge->options;
  size_t i;

  if (options->n_listeners == 0)
    return 0;
  bridge->listeners = calloc(options->n_listeners, sizeof(*bridge->listeners));
  if (bridge->listeners == NULL) {
    log_message("error: out of memory");
    return -1;
  }
  bridge->n_listeners = options->n_listeners;

  for (i = 0; i < options->n_listeners; i++) {
    struct listener *listener = &bridge->listeners[i];
    struct log_line line;
    int rc;

    listener->spec = &options->listeners[i];
    listener->bridge = bridge;
    listener->server.handle.data = listener;

    if (listener->spec->kind == LISTENER_TCP_TO_UNIX)
      rc = bind_tcp(listener);
    else
      rc = bind_unix(listener);
    if (rc < 0)
      return -1;
    listener->listening = true;

    log_start(&line, "listen");
    listener_log_describe(&line, listener);
    log_emit(&line);
  }
  return 0;
}

static void on_listener_closed(uv_handle_t *handle)
{
  (void)handle;
}

void forward_stop(struct bridge *bridge)
{
  size_t i;

  for (i = 0; i < bridge->n_listeners; i++) {
    struct listener *listener = &bridge->listeners[i];
    struct log_line line;
    unsigned long suppressed;

    if (!listener->open)
      continue;
    listener->open = false;
    uv_close(&listener->server.handle, on_listener_closed);
    if (!listener->listening)
      continue;

    log_start(&line, "listener-stop");
    listener_log_describe(&line, listener);
    suppressed = listener->connect_errors.suppressed +
                 listener->accept_errors.suppressed;
    if (suppressed > 0)
      log_add_int(&line, "suppressed", (long long)suppressed);
    log_emit(&line);
  }
  connection_close_all(bridge);
}

void forward_free(struct bridge *bridge)
{
  free(bridge->listeners);
  bridge->listeners = NULL;
  bridge->n_listeners = 0;
  connection_release_cache();
}
