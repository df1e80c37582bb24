/* Startup, listener, signals and shutdown of mcp-run. */
#include "config-host.h"

#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "exe.h"
#include "log.h"
#include "proc.h"
#include "src/core/version.h"

#define LISTEN_BACKLOG 511
/* Past the grace period of the last run, shutdown waits this much for
 * clients to take their last bytes before it exits anyway. */
#define SHUTDOWN_MARGIN_MS 1000

static void startup_error(const char *message)
{
  fprintf(stderr, "Error: %s\n", message);
}

bool server_take_slot(struct server *srv)
{
  if (srv->running >= srv->config.max_concurrent)
    return false;
  srv->running++;
  return true;
}

void server_release_slot(struct server *srv)
{
  if (srv->running > 0)
    srv->running--;
  server_maybe_exit(srv);
}

/* Removes the socket file only when the path still names the socket this
 * process created, so a newer server's socket is left alone. */
static void remove_socket_file(struct server *srv)
{
  struct stat st;

  if (!srv->socket_created)
    return;
  srv->socket_created = false;
  if (lstat(srv->config.bind_uds, &st) == 0 && S_ISSOCK(st.st_mode) &&
      st.st_dev == srv->socket_dev && st.st_ino == srv->socket_ino)
    unlink(srv->config.bind_uds);
}

static int prepare_socket_path(const char *path, char **error)
{
  struct stat st;

  if (lstat(path, &st) < 0) {
    if (errno == ENOENT)
      return 0;
    *error = mr_asprintf("failed to inspect MCP_BIND_UDS path: %s",
                         mr_strerror(errno));
    return -1;
  }
  if (!S_ISSOCK(st.st_mode)) {
    *error = mr_asprintf("MCP_BIND_UDS path exists but is not a unix "
                         "socket: %s",
                         path);
    return -1;
  }
  /* A stale socket, or one another server still uses: access control
   * comes from the directory and the socket mode, not from a probe. */
  if (unlink(path) < 0) {
    *error = mr_asprintf("failed to remove stale MCP_BIND_UDS socket: %s",
                         mr_strerror(errno));
    return -1;
  }
  return 0;
}

/* Binds the Unix socket itself rather than with uv_pipe_bind, because
 * libuv unlinks a path it bound when the handle closes, whoever owns the
 * path by then. */
static int bind_unix(struct server *srv, char **error)
{
  const char *path = srv->config.bind_uds;
  struct sockaddr_un addr;
  struct stat st;
  mode_t old_mask;
  int fd, rc, err;

  if (prepare_socket_path(path, error) < 0)
    return -1;
  memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof(addr.sun_path)) {
    *error =
        mr_asprintf("failed to bind '%s': %s", path, mr_strerror(ENAMETOOLONG));
    return -1;
  }
  memcpy(addr.sun_path, path, strlen(path));

  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = mr_asprintf("failed to bind '%s': %s", path, mr_strerror(errno));
    return -1;
  }
  /* A socket is created with mode 0777 less the umask, so 0177 gives
   * 0600 with no window in which others could connect. */
  old_mask = umask(0177);
  rc = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
  err = errno;
  umask(old_mask);
  if (rc < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
    if (rc == 0)
      err = errno;
    close(fd);
    *error = mr_asprintf("failed to bind '%s': %s", path, mr_strerror(err));
    return -1;
  }
  if (stat(path, &st) == 0) {
    srv->socket_created = true;
    srv->socket_dev = st.st_dev;
    srv->socket_ino = st.st_ino;
  }

  uv_pipe_init(srv->loop, &srv->listener.pipe, 0);
  rc = uv_pipe_open(&srv->listener.pipe, fd);
  if (rc == 0)
    rc = uv_listen(&srv->listener.stream, LISTEN_BACKLOG, conn_on_connection);
  if (rc < 0) {
    *error = mr_asprintf("failed to bind '%s': %s", path, mr_strerror(-rc));
    return -1;
  }
  return 0;
}

static void format_address(const struct sockaddr_storage *addr, char *out,
                           size_t size)
{
  char host[64] = "";

  if (addr->ss_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;

    uv_ip6_name(in6, host, sizeof(host));
    snprintf(out, size, "[%s]:%u", host, ntohs(in6->sin6_port));
  } else {
    const struct sockaddr_in *in4 = (const struct sockaddr_in *)addr;

    uv_ip4_name(in4, host, sizeof(host));
    snprintf(out, size, "%s:%u", host, ntohs(in4->sin_port));
  }
}

static int bind_tcp(struct server *srv, char *bound, size_t size, char **error)
{
  struct sockaddr_storage actual;
  int len = sizeof(actual);
  int rc;

  /* libuv sets SO_REUSEADDR on TCP sockets it binds. */
  uv_tcp_init(srv->loop, &srv->listener.tcp);
  rc = uv_tcp_bind(&srv->listener.tcp,
                   (const struct sockaddr *)&srv->config.bind_addr, 0);
  if (rc == 0)
    rc = uv_listen(&srv->listener.stream, LISTEN_BACKLOG, conn_on_connection);
  if (rc < 0) {
    *error = mr_asprintf("failed to bind '%s': %s", srv->config.bind_addr_text,
                         mr_strerror(-rc));
    return -1;
  }
  if (uv_tcp_getsockname(&srv->listener.tcp, (struct sockaddr *)&actual,
                         &len) == 0)
    format_address(&actual, bound, size);
  return 0;
}

static int start_listener(struct server *srv, char **error)
{
  char bound[128];
  int rc;

  snprintf(bound, sizeof(bound), "%s",
           srv->config.bind_uds != NULL ? srv->config.bind_uds
                                        : srv->config.bind_addr_text);
  if (srv->config.bind_uds != NULL)
    rc = bind_unix(srv, error);
  else
    rc = bind_tcp(srv, bound, sizeof(bound), error);
  if (rc < 0)
    return -1;
  srv->listener.handle.data = srv;
  srv->listening = true;
  log_event("listen", "address", bound);
  return 0;
}

static void on_closed_quietly(uv_handle_t *handle)
{
}

void server_maybe_exit(struct server *srv)
{
  if (!srv->shutting_down || srv->conns != NULL || srv->running > 0)
    return;
  if (!uv_is_closing((uv_handle_t *)&srv->sigterm)) {
    uv_close((uv_handle_t *)&srv->sigterm, on_closed_quietly);
    uv_close((uv_handle_t *)&srv->sigint, on_closed_quietly);
    uv_close((uv_handle_t *)&srv->shutdown_deadline, on_closed_quietly);
  }
}

static void on_shutdown_deadline(uv_timer_t *timer)
{
  struct server *srv = timer->data;

  /* A process that survives SIGKILL (stuck in the kernel) or a client
   * that never reads must not keep the server alive. */
  remove_socket_file(srv);
  log_event("exit", "status", "0");
  _exit(0);
}

static void begin_shutdown(struct server *srv, const char *signal_name)
{
  struct conn *conn, *next;

  if (srv->shutting_down)
    return;
  srv->shutting_down = true;
  log_event("shutdown", "signal", signal_name);

  if (srv->listening) {
    uv_close(&srv->listener.handle, on_closed_quietly);
    srv->listening = false;
  }
  remove_socket_file(srv);
  uv_timer_start(&srv->shutdown_deadline, on_shutdown_deadline,
                 PROC_GRACE_MS + SHUTDOWN_MARGIN_MS, 0);

  mcp_shutdown(srv->mcp);
  for (conn = srv->conns; conn != NULL; conn = next) {
    next = conn->next;
    if (conn->handler != NULL && conn->handler->on_shutdown != NULL)
      conn->handler->on_shutdown(conn);
    else if (conn->state == CONN_READING)
      conn_close(conn);
  }
  server_maybe_exit(srv);
}

static void on_signal(uv_signal_t *handle, int signum)
{
  begin_shutdown(handle->data, signum == SIGINT ? "SIGINT" : "SIGTERM");
}

/* Makes sure descriptors 0 to 2 are open, so no socket or pipe of the
 * server can take their numbers. */
static void open_standard_fds(void)
{
  int fd;

  for (fd = 0; fd < 3; fd++) {
    if (fcntl(fd, F_GETFD) < 0) {
      int null_fd = open("/dev/null", O_RDWR);

      if (null_fd >= 0 && null_fd != fd) {
        dup2(null_fd, fd);
        close(null_fd);
      }
    }
  }
}

static int server_init(struct server *srv)
{
  char *error = NULL;

  if (config_load(&srv->config, &error) < 0) {
    startup_error(error);
    free(error);
    return -1;
  }
  srv->loop = uv_default_loop();
  log_event("start", "version", CL_VERSION);

  srv->policy = policy_new(srv->config.policy_dir);
  srv->authz_env.policy = srv->policy;
  srv->authz_env.default_cwd = srv->config.default_cwd;
  srv->authz_env.search_path = srv->config.path;
  srv->mcp = mcp_state_new();

  uv_signal_init(srv->loop, &srv->sigterm);
  uv_signal_init(srv->loop, &srv->sigint);
  uv_timer_init(srv->loop, &srv->shutdown_deadline);
  srv->sigterm.data = srv->sigint.data = srv->shutdown_deadline.data = srv;

  if (start_listener(srv, &error) < 0) {
    startup_error(error);
    free(error);
    return -1;
  }
  uv_signal_start(&srv->sigterm, on_signal, SIGTERM);
  uv_signal_start(&srv->sigint, on_signal, SIGINT);
  return 0;
}

static void close_any(uv_handle_t *handle, void *arg)
{
  if (!uv_is_closing(handle))
    uv_close(handle, on_closed_quietly);
}

static void server_cleanup(struct server *srv)
{
  if (srv->loop != NULL) {
    uv_walk(srv->loop, close_any, NULL);
    uv_run(srv->loop, UV_RUN_DEFAULT);
    uv_loop_close(srv->loop);
  }
  remove_socket_file(srv);
  mcp_state_free(srv->mcp);
  policy_free(srv->policy);
  config_free(&srv->config);
  exe_cache_clear();
}

int mcp_run_main(void)
{
  static struct server srv;
  int status = 0;

  open_standard_fds();
  signal(SIGPIPE, SIG_IGN);
  /* Children are reaped by mcp-run; an inherited SIG_IGN would make the
   * kernel reap them first. */
  signal(SIGCHLD, SIG_DFL);

  if (server_init(&srv) < 0) {
    status = 1;
  } else {
    uv_run(srv.loop, UV_RUN_DEFAULT);
    log_event("exit", "status", "0");
  }
  server_cleanup(&srv);
  return status;
}
