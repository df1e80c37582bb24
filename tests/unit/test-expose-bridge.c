/* Tests of the core's bridge service on real sockets: TCP on 127.0.0.1 and
 * Unix sockets in a temporary directory.  The bridge runs on a libuv loop
 * in the main thread; servers and clients are threads with blocking
 * sockets.
 *
 * Each exchange sends a pattern from the client, half-closes, and reads
 * the server's reply: the count of pattern bytes it received intact, then
 * a pattern of its own, then EOF.  The server reads to EOF before it
 * writes, so the client's half-close must cross the bridge. */
#include "config-host.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include <cmocka.h>

#include "bridge.h"
#include "harness.h"
#include "log.h"

#define MIB (1024 * 1024)

static unsigned char pattern_byte(uint64_t offset, unsigned seed)
{
  return (unsigned char)((offset * 131 + seed + (offset >> 16)) & 0xff);
}

/* Fills `buf` with the pattern from `offset`. */
static void pattern_fill(unsigned char *buf, size_t len, uint64_t offset,
                         unsigned seed)
{
  for (size_t i = 0; i < len; i++)
    buf[i] = pattern_byte(offset + i, seed);
}

static int write_all(int fd, const void *data, size_t len)
{
  const char *p = data;

  while (len > 0) {
    ssize_t n = write(fd, p, len);

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Sockets. */

static int connect_tcp(int port)
{
  struct sockaddr_in addr = {.sin_family = AF_INET};
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  addr.sin_port = htons((uint16_t)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
    if (fd >= 0)
      close(fd);
    return -1;
  }
  return fd;
}

/* Connects to the Unix socket at `path`, of any length, through a
 * descriptor of its inode. */
static int connect_unix(const char *path)
{
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  int inode = open(path, O_PATH | O_CLOEXEC);
  int fd = -1;

  if (inode < 0)
    return -1;
  snprintf(addr.sun_path, sizeof(addr.sun_path), "/proc/self/fd/%d", inode);
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
    close(fd);
    fd = -1;
  }
  close(inode);
  return fd;
}

/* Listens on 127.0.0.1 at a port the kernel picks; sets `port`. */
static int listen_tcp(int *port)
{
  struct sockaddr_in addr = {.sin_family = AF_INET};
  socklen_t len = sizeof(addr);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_true(fd >= 0);
  assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
  assert_int_equal(listen(fd, 128), 0);
  assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
  *port = ntohs(addr.sin_port);
  return fd;
}

static int listen_unix(const char *path)
{
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  assert_true(strlen(path) < sizeof(addr.sun_path));
  strcpy(addr.sun_path, path);
  assert_true(fd >= 0);
  assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
  assert_int_equal(listen(fd, 128), 0);
  return fd;
}

/* The server side of exchanges. */

struct server {
  int listen_fd;
  int connections;   /* to accept */
  size_t reply_size; /* pattern bytes sent after the count */
  int hold_fd;       /* the server reads a byte here before reading its
                      * connection, or -1 */
  pthread_t thread;
};

struct server_connection {
  struct server *server;
  int fd;
};

static void *serve_connection(void *arg)
{
  struct server_connection *sc = arg;
  unsigned char *buf = malloc(MIB), *reply = malloc(MIB);
  uint64_t received = 0, intact = 1, header[2];
  size_t sent = 0;
  char go;

  if (sc->server->hold_fd >= 0 && read(sc->server->hold_fd, &go, 1) != 1)
    intact = 0;
  for (;;) {
    ssize_t n = read(sc->fd, buf, MIB);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    for (ssize_t i = 0; i < n; i++) {
      if (buf[i] != pattern_byte(received + (uint64_t)i, 1))
        intact = 0;
    }
    received += (uint64_t)n;
  }
  header[0] = received;
  header[1] = intact;
  if (write_all(sc->fd, header, sizeof(header)) == 0) {
    while (sent < sc->server->reply_size) {
      size_t chunk = sc->server->reply_size - sent;

      if (chunk > MIB)
        chunk = MIB;
      pattern_fill(reply, chunk, sent, 2);
      if (write_all(sc->fd, reply, chunk) < 0)
        break;
      sent += chunk;
    }
  }
  close(sc->fd);
  free(buf);
  free(reply);
  free(sc);
  return NULL;
}

static void *server_main(void *arg)
{
  struct server *server = arg;
  pthread_t *threads = calloc((size_t)server->connections, sizeof(*threads));

  for (int i = 0; i < server->connections; i++) {
    struct server_connection *sc = calloc(1, sizeof(*sc));

    sc->server = server;
    sc->fd = accept(server->listen_fd, NULL, NULL);
    if (sc->fd < 0) {
      free(sc);
      threads[i] = 0;
      continue;
    }
    pthread_create(&threads[i], NULL, serve_connection, sc);
  }
  for (int i = 0; i < server->connections; i++) {
    if (threads[i])
      pthread_join(threads[i], NULL);
  }
  free(threads);
  return NULL;
}

static void server_start(struct server *server, int listen_fd, int connections,
                         size_t reply_size)
{
  server->listen_fd = listen_fd;
  server->connections = connections;
  server->reply_size = reply_size;
  pthread_create(&server->thread, NULL, server_main, server);
}

static void server_join(struct server *server)
{
  pthread_join(server->thread, NULL);
  close(server->listen_fd);
}

/* The client side. */

struct exchange {
  int fd;           /* a connected socket */
  size_t send_size; /* pattern bytes to send */
  size_t reply_size;
  /* Results. */
  uint64_t server_received;
  uint64_t server_intact;
  size_t reply_received;
  bool reply_intact;
};

/* Sends, half-closes and reads the reply; closes the socket. */
static void exchange_run(struct exchange *x)
{
  unsigned char *buf = malloc(MIB);
  uint64_t header[2];
  size_t sent = 0, got = 0;

  x->reply_intact = true;
  while (sent < x->send_size) {
    size_t chunk = x->send_size - sent;

    if (chunk > MIB)
      chunk = MIB;
    pattern_fill(buf, chunk, sent, 1);
    if (write_all(x->fd, buf, chunk) < 0)
      break;
    sent += chunk;
  }
  shutdown(x->fd, SHUT_WR);
  while (got < sizeof(header)) {
    ssize_t n = read(x->fd, (char *)header + got, sizeof(header) - got);

    if (n <= 0)
      break;
    got += (size_t)n;
  }
  if (got == sizeof(header)) {
    x->server_received = header[0];
    x->server_intact = header[1];
  }
  for (;;) {
    ssize_t n = read(x->fd, buf, MIB);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    for (ssize_t i = 0; i < n; i++) {
      if (buf[i] != pattern_byte(x->reply_received + (size_t)i, 2))
        x->reply_intact = false;
    }
    x->reply_received += (size_t)n;
  }
  close(x->fd);
  free(buf);
}

static void check_exchange(const struct exchange *x)
{
  assert_int_equal(x->server_received, x->send_size);
  assert_int_equal(x->server_intact, 1);
  assert_int_equal(x->reply_received, x->reply_size);
  assert_true(x->reply_intact);
}

/* The loop in the main thread, stopped by a scenario thread. */

struct fixture {
  char *dir;
  int dir_fd;
  uv_loop_t loop;
  uv_async_t done;
  struct cl_bridge *bridge;
  struct cl_bridge *extra; /* a second bridge, closed with the first */
  void (*scenario)(struct fixture *f, void *arg);
  void *arg;
  pthread_t thread;
};

static void done_cb(uv_async_t *async)
{
  struct fixture *f = async->data;

  cl_bridge_close(f->bridge);
  f->bridge = NULL;
  if (f->extra) {
    cl_bridge_close(f->extra);
    f->extra = NULL;
  }
  uv_close((uv_handle_t *)async, NULL);
}

static void *scenario_main(void *arg)
{
  struct fixture *f = arg;

  f->scenario(f, f->arg);
  uv_async_send(&f->done);
  return NULL;
}

/* Runs `scenario` in a thread while the loop runs here, then closes the
 * bridge and waits for every handle to close. */
static void run_scenario(struct fixture *f,
                         void (*scenario)(struct fixture *f, void *arg),
                         void *arg)
{
  f->scenario = scenario;
  f->arg = arg;
  uv_async_init(&f->loop, &f->done, done_cb);
  f->done.data = f;
  pthread_create(&f->thread, NULL, scenario_main, f);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  pthread_join(f->thread, NULL);
}

static int setup(void **state)
{
  struct fixture *f = calloc(1, sizeof(*f));

  f->dir = harness_mkdtemp();
  f->dir_fd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_true(f->dir_fd >= 0);
  assert_int_equal(uv_loop_init(&f->loop), 0);
  f->bridge = cl_bridge_new(&f->loop, "test");
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  struct fixture *f = *state;

  if (f->bridge) {
    cl_bridge_close(f->bridge);
    uv_run(&f->loop, UV_RUN_DEFAULT);
  }
  assert_int_equal(uv_loop_close(&f->loop), 0);
  close(f->dir_fd);
  harness_rmtree(f->dir);
  free(f->dir);
  free(f);
  cl_log_set_streams(NULL, NULL);
  return 0;
}

static char *path_in(struct fixture *f, const char *name)
{
  char *path = NULL;

  assert_true(asprintf(&path, "%s/%s", f->dir, name) > 0);
  return path;
}

/* Scenarios. */

struct clients {
  int count;
  int tcp_port;     /* clients connect here, or */
  const char *path; /* to this Unix socket */
  size_t send_size;
  size_t reply_size;
  struct exchange *exchanges;
};

static void *client_main(void *arg)
{
  exchange_run(arg);
  return NULL;
}

static void run_clients(struct fixture *f, void *arg)
{
  struct clients *c = arg;
  pthread_t *threads = calloc((size_t)c->count, sizeof(*threads));

  (void)f;
  c->exchanges = calloc((size_t)c->count, sizeof(*c->exchanges));
  for (int i = 0; i < c->count; i++) {
    struct exchange *x = &c->exchanges[i];

    x->fd = c->path ? connect_unix(c->path) : connect_tcp(c->tcp_port);
    x->send_size = c->send_size;
    x->reply_size = c->reply_size;
    if (x->fd >= 0)
      pthread_create(&threads[i], NULL, client_main, x);
  }
  for (int i = 0; i < c->count; i++) {
    if (c->exchanges[i].fd >= 0)
      pthread_join(threads[i], NULL);
  }
  free(threads);
}

static void check_clients(struct clients *c)
{
  for (int i = 0; i < c->count; i++) {
    assert_true(c->exchanges[i].fd >= 0);
    check_exchange(&c->exchanges[i]);
  }
  free(c->exchanges);
}

static void tcp_to_unix_half_close(void **state)
{
  struct fixture *f = *state;
  char *target = path_in(f, "agent.sock");
  struct server server = {.hold_fd = -1};
  struct clients c = {.count = 1, .send_size = 4 * MIB, .reply_size = 3 * MIB};

  server_start(&server, listen_unix(target), 1, c.reply_size);
  assert_int_equal(cl_bridge_listen_tcp(f->bridge, "127.0.0.1", 0, f->dir_fd,
                                        "agent.sock", target),
                   0);
  c.tcp_port = cl_bridge_tcp_port(f->bridge);
  assert_true(c.tcp_port > 0);
  run_scenario(f, run_clients, &c);
  server_join(&server);
  check_clients(&c);
  free(target);
}

static void unix_to_tcp_half_close(void **state)
{
  struct fixture *f = *state;
  char *path = path_in(f, "host.sock");
  struct server server = {.hold_fd = -1};
  struct clients c = {.count = 1, .send_size = 3 * MIB, .reply_size = 4 * MIB};
  int port, fd = listen_tcp(&port);
  struct stat st;

  server_start(&server, fd, 1, c.reply_size);
  /* "localhost" may resolve to [::1] first, where nothing listens: the
   * next address must be tried. */
  assert_int_equal(cl_bridge_listen_unix(f->bridge, f->dir_fd, "host.sock",
                                         "localhost", port),
                   0);
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  c.path = path;
  run_scenario(f, run_clients, &c);
  server_join(&server);
  check_clients(&c);
  free(path);
}

static void parallel_connections(void **state)
{
  struct fixture *f = *state;
  char *target = path_in(f, "agent.sock");
  struct server server = {.hold_fd = -1};
  struct clients c = {
      .count = 50, .send_size = 256 * 1024, .reply_size = 1 * MIB};

  server_start(&server, listen_unix(target), c.count, c.reply_size);
  assert_int_equal(cl_bridge_listen_tcp(f->bridge, "127.0.0.1", 0, f->dir_fd,
                                        "agent.sock", target),
                   0);
  c.tcp_port = cl_bridge_tcp_port(f->bridge);
  run_scenario(f, run_clients, &c);
  server_join(&server);
  check_clients(&c);
  free(target);
}

struct pressure {
  int tcp_port;
  int release_fd;  /* a byte written here lets the server read */
  size_t accepted; /* bytes the client could write while the server slept */
  struct exchange exchange;
};

/* Writes without blocking until nothing more is accepted for 300 ms, then
 * lets the server read and finishes the exchange. */
static void fill_until_blocked(struct fixture *f, void *arg)
{
  struct pressure *p = arg;
  unsigned char *buf = malloc(64 * 1024);
  int fd = connect_tcp(p->tcp_port);
  int idle_ms = 0, flags;

  (void)f;
  if (fd < 0) {
    /* Let the server go on; the main thread sees nothing accepted. */
    if (write(p->release_fd, "g", 1) != 1)
      abort();
    free(buf);
    return;
  }
  flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  while (idle_ms < 300 && p->accepted < 64 * MIB) {
    ssize_t n;

    pattern_fill(buf, 64 * 1024, p->accepted, 1);
    n = write(fd, buf, 64 * 1024);
    if (n > 0) {
      p->accepted += (size_t)n;
      idle_ms = 0;
      continue;
    }
    if (n < 0 && errno != EAGAIN)
      break;
    poll(NULL, 0, 10);
    idle_ms += 10;
  }
  fcntl(fd, F_SETFL, flags);
  if (write(p->release_fd, "g", 1) != 1)
    abort();
  p->exchange.fd = fd;
  p->exchange.send_size = 0;
  exchange_run(&p->exchange);
  free(buf);
}

static void backpressure_bounds_memory(void **state)
{
  struct fixture *f = *state;
  char *target = path_in(f, "agent.sock");
  struct server server = {.hold_fd = -1};
  struct pressure p = {0};
  int pipe_fds[2];

  assert_int_equal(pipe(pipe_fds), 0);
  server.hold_fd = pipe_fds[0];
  p.release_fd = pipe_fds[1];
  server_start(&server, listen_unix(target), 1, 0);
  assert_int_equal(cl_bridge_listen_tcp(f->bridge, "127.0.0.1", 0, f->dir_fd,
                                        "agent.sock", target),
                   0);
  p.tcp_port = cl_bridge_tcp_port(f->bridge);
  run_scenario(f, fill_until_blocked, &p);
  server_join(&server);
  /* Socket buffers plus the bridge's queue, far below what an unbounded
   * forwarder would take in. */
  assert_true(p.accepted > 0);
  assert_true(p.accepted < 24 * MIB);
  assert_int_equal(p.exchange.server_received, p.accepted);
  assert_int_equal(p.exchange.server_intact, 1);
  close(pipe_fds[0]);
  close(pipe_fds[1]);
  free(target);
}

struct refused {
  const char *path;
  ssize_t first_read;
};

static void read_from_refused(struct fixture *f, void *arg)
{
  struct refused *r = arg;
  char byte;
  int fd = connect_unix(r->path);

  (void)f;
  if (fd < 0)
    return;
  r->first_read = read(fd, &byte, 1);
  close(fd);
}

static void failed_connect_closes_client(void **state)
{
  struct fixture *f = *state;
  char *path = path_in(f, "host.sock");
  struct refused r = {.path = path, .first_read = -2};
  char *log_text = NULL;
  size_t log_len = 0;
  FILE *log = open_memstream(&log_text, &log_len);
  int port, fd = listen_tcp(&port);

  /* A port that was just closed refuses connections. */
  close(fd);
  cl_log_set_streams(log, log);
  assert_int_equal(cl_bridge_listen_unix(f->bridge, f->dir_fd, "host.sock",
                                         "127.0.0.1", port),
                   0);
  run_scenario(f, read_from_refused, &r);
  cl_log_set_streams(NULL, NULL);
  fclose(log);
  assert_int_equal(r.first_read, 0);
  assert_non_null(strstr(log_text, "warning: test: failed to connect to "
                                   "127.0.0.1:"));
  assert_non_null(strstr(log_text, ": connection refused\n"));
  free(log_text);
  free(path);
}

static void long_socket_paths(void **state)
{
  struct fixture *f = *state;
  char *deep = path_in(f, "a-directory-name-that-makes-the-socket-path-longer"
                          "-than-sun-path-allows-on-linux-0123456789");
  char *path;
  struct cl_bridge *front = cl_bridge_new(&f->loop, "front");
  struct server server = {.hold_fd = -1};
  struct clients c = {.count = 1, .send_size = 100000, .reply_size = 100000};
  int port, deep_fd;

  assert_int_equal(mkdir(deep, 0700), 0);
  assert_true(asprintf(&path, "%s/host.sock", deep) > 0);
  assert_true(strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path));

  /* client -> front (TCP to the long Unix path) -> bridge (the long Unix
   * path to TCP) -> server */
  server_start(&server, listen_tcp(&port), 1, c.reply_size);
  deep_fd = open(deep, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_int_equal(
      cl_bridge_listen_unix(f->bridge, deep_fd, "host.sock", "127.0.0.1", port),
      0);
  assert_int_equal(
      cl_bridge_listen_tcp(front, "127.0.0.1", 0, deep_fd, "host.sock", path),
      0);
  close(deep_fd);
  c.tcp_port = cl_bridge_tcp_port(front);
  f->extra = front;
  run_scenario(f, run_clients, &c);
  server_join(&server);
  check_clients(&c);
  free(path);
  free(deep);
}

static void busy_port_fails(void **state)
{
  struct fixture *f = *state;
  char *target = path_in(f, "agent.sock");
  int port, fd = listen_tcp(&port);

  assert_int_equal(cl_bridge_listen_tcp(f->bridge, "127.0.0.1", port, f->dir_fd,
                                        "agent.sock", target),
                   UV_EADDRINUSE);
  close(fd);
  free(target);
}

struct idle_client {
  int tcp_port;
  int fd;
  bool wrote;
  ssize_t first_read;
};

/* Connects and reads: the first read returns 0 once the bridge closes the
 * client. */
static void connect_and_read(struct fixture *f, void *arg)
{
  struct idle_client *ic = arg;
  char byte;

  (void)f;
  ic->first_read = -2;
  ic->fd = connect_tcp(ic->tcp_port);
  if (ic->fd < 0)
    return;
  ic->first_read = read(ic->fd, &byte, 1);
  close(ic->fd);
}

static void connect_and_wait(struct fixture *f, void *arg)
{
  struct idle_client *ic = arg;

  (void)f;
  ic->fd = connect_tcp(ic->tcp_port);
  if (ic->fd >= 0 && write(ic->fd, "x", 1) == 1)
    ic->wrote = true;
  /* The bridge passes the byte on to a server that never accepts. */
  poll(NULL, 0, 200);
}

static void close_with_open_connections(void **state)
{
  struct fixture *f = *state;
  char *target = path_in(f, "agent.sock");
  int server_fd = listen_unix(target);
  struct idle_client ic = {0};
  unsigned char byte;

  assert_int_equal(cl_bridge_listen_tcp(f->bridge, "127.0.0.1", 0, f->dir_fd,
                                        "agent.sock", target),
                   0);
  ic.tcp_port = cl_bridge_tcp_port(f->bridge);
  run_scenario(f, connect_and_wait, &ic);
  assert_true(ic.fd >= 0);
  assert_true(ic.wrote);
  /* Closing the bridge closed the client's connection. */
  assert_true(read(ic.fd, &byte, 1) <= 0);
  close(ic.fd);
  close(server_fd);
  free(target);
}

static void symlink_target_not_followed(void **state)
{
  struct fixture *f = *state;
  char *elsewhere = path_in(f, "elsewhere.sock");
  char *link = path_in(f, "agent.sock");
  struct idle_client ic = {0};
  char *log_text = NULL;
  size_t log_len = 0;
  FILE *log = open_memstream(&log_text, &log_len);
  int server_fd = listen_unix(elsewhere);
  struct pollfd pending = {.fd = server_fd, .events = POLLIN};

  /* A container that may write to the directory plants a link to a host
   * socket; the bridge must not connect through it. */
  assert_int_equal(symlink(elsewhere, link), 0);
  cl_log_set_streams(log, log);
  assert_int_equal(cl_bridge_listen_tcp(f->bridge, "127.0.0.1", 0, f->dir_fd,
                                        "agent.sock", link),
                   0);
  ic.tcp_port = cl_bridge_tcp_port(f->bridge);
  run_scenario(f, connect_and_read, &ic);
  cl_log_set_streams(NULL, NULL);
  fclose(log);
  assert_int_equal(ic.first_read, 0);
  assert_int_equal(poll(&pending, 1, 0), 0);
  assert_non_null(strstr(log_text, "warning: test: failed to connect to "));
  assert_non_null(strstr(log_text, "agent.sock: socket operation on "
                                   "non-socket\n"));
  close(server_fd);
  free(log_text);
  free(elsewhere);
  free(link);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(tcp_to_unix_half_close, setup, teardown),
      cmocka_unit_test_setup_teardown(unix_to_tcp_half_close, setup, teardown),
      cmocka_unit_test_setup_teardown(parallel_connections, setup, teardown),
      cmocka_unit_test_setup_teardown(backpressure_bounds_memory, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(failed_connect_closes_client, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(long_socket_paths, setup, teardown),
      cmocka_unit_test_setup_teardown(symlink_target_not_followed, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(busy_port_fails, setup, teardown),
      cmocka_unit_test_setup_teardown(close_with_open_connections, setup,
                                      teardown),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
