/* libFuzzer target: the HTTP request path of mcp-run.  Each input is the
 * byte stream a client sends on one connection; the server parses it with
 * its limits and routes /raw, /check and /mcp.  The policy is deny-all, so
 * no input runs a command. */
#include "config-host.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "server.h"

static struct server srv;

static void setup(void)
{
  const char *path = getenv("PATH");

  srv.loop = uv_default_loop();
  srv.config.default_cwd = mr_xstrdup("/");
  srv.config.path = mr_xstrdup(path != NULL ? path : "/usr/bin:/bin");
  srv.config.max_concurrent = 64;
  srv.config.bind_uds = mr_xstrdup("/nonexistent/fuzz.sock");
  log_set_output(-1);
  srv.policy = policy_new(NULL);
  srv.authz_env.policy = srv.policy;
  srv.authz_env.default_cwd = srv.config.default_cwd;
  srv.authz_env.search_path = srv.config.path;
  srv.mcp = mcp_state_new();
}

struct client {
  uv_pipe_t pipe;
  uv_write_t write;
  uv_shutdown_t shutdown;
  char buffer[65536];
};

static void on_client_closed(uv_handle_t *handle)
{
}

static void on_client_alloc(uv_handle_t *handle, size_t suggested,
                            uv_buf_t *buf)
{
  struct client *c = handle->data;

  buf->base = c->buffer;
  buf->len = sizeof(c->buffer);
}

static void on_client_read(uv_stream_t *stream, ssize_t nread,
                           const uv_buf_t *buf)
{
  if (nread < 0)
    uv_close((uv_handle_t *)stream, on_client_closed);
}

static void on_client_written(uv_write_t *req, int status)
{
}

static void on_client_shutdown(uv_shutdown_t *req, int status)
{
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static bool ready;
  struct client client;
  uv_buf_t buf;
  int fds[2];

  if (!ready) {
    setup();
    ready = true;
  }
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
    abort();
  if (conn_adopt(&srv, fds[0]) < 0)
    abort();

  memset(&client, 0, sizeof(client));
  uv_pipe_init(srv.loop, &client.pipe, 0);
  client.pipe.data = &client;
  uv_pipe_open(&client.pipe, fds[1]);
  buf = uv_buf_init((char *)data, (unsigned)size);
  uv_write(&client.write, (uv_stream_t *)&client.pipe, &buf, 1,
           on_client_written);
  uv_shutdown(&client.shutdown, (uv_stream_t *)&client.pipe,
              on_client_shutdown);
  uv_read_start((uv_stream_t *)&client.pipe, on_client_alloc, on_client_read);
  uv_run(srv.loop, UV_RUN_DEFAULT);
  return 0;
}
