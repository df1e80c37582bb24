/* Flow tests of `cladding expose` and `cladding inject` against a fake
 * podman: tests/cli/fake-podman logs each call and replays the inventory
 * and `container inspect`, and an exec of the helper runs the built
 * cladding-bridge on the host with /run/cladding/agent mapped to the
 * project's socket directory.  So the agent side's target, localhost:PORT,
 * is the host's loopback, where the tests run their servers.
 *
 * The project directory is named "it's a proj", so its path contains a space
 * and a quote, and no shell may be involved on either side. */
#include "config-host.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define AGENT "demo-agent-instance"

/* The podman on PATH of the tests. */
static const char fake_podman[] =
    "#!/usr/bin/env bash\n"
    "\"$FAKE_PODMAN_SCRIPT\" \"$@\" || exit\n"
    "if [ \"${1-}\" = exec ] && "
    "[ \"${3-}\" = /opt/tools/bin/cladding-bridge ]; then\n"
    "  shift 3\n"
    "  exec \"$FAKE_BRIDGE\" "
    "\"${@//\\/run\\/cladding\\/agent/$FAKE_AGENT_DIR}\"\n"
    "fi\n";

struct fixture {
  char *top;
  char *proj;
  char *root;
  char *agent_dir; /* ROOT/runtime/sockets/agent */
  char *canned;
  char *log;
  char *bridge;
  char *env[8];
};

static char *fmt(const char *format, ...) __attribute__((format(printf, 1, 2)));

static char *fmt(const char *format, ...)
{
  char *out = NULL;
  va_list ap;

  va_start(ap, format);
  assert_true(vasprintf(&out, format, ap) >= 0);
  va_end(ap);
  return out;
}

static void write_canned(struct fixture *f, const char *name, const char *text)
{
  char *path = fmt("%s/%s", f->canned, name);

  harness_write(path, text);
  free(path);
}

static const char inspect_both_mounts[] =
    "[{\"Name\": \"demo-agent-instance\", \"Mounts\": ["
    "{\"Destination\": \"/run/cladding/agent/inject\"},"
    "{\"Destination\": \"/run/cladding/agent/expose\"},"
    "{\"Destination\": \"/run/cladding/proxy/agent\"}]}]\n";

static int setup(void **state)
{
  struct fixture *f = calloc(1, sizeof(*f));
  char *script = harness_srcdir_path("tests/cli/fake-podman");
  char *podman, *config, *canonical, *ps;

  f->top = harness_mkdtemp();
  f->proj = fmt("%s/it's a proj", f->top);
  f->root = fmt("%s/.cladding", f->proj);
  f->agent_dir = fmt("%s/runtime/sockets/agent", f->root);
  f->canned = fmt("%s/canned", f->top);
  f->log = fmt("%s/podman.log", f->top);
  f->bridge = harness_builddir_path("helpers/cladding-bridge/cladding-bridge");

  config = fmt("%s/cladding.json", f->root);
  harness_write(config, "{\"name\": \"demo\", \"agent\": {}, "
                        "\"nw_sandbox\": {\"enabled\": false}}\n");
  canonical = realpath(f->root, NULL);
  assert_non_null(canonical);
  {
    static const char *const names[] = {"demo-proxy-instance",
                                        "demo-proxy-bridge", AGENT};
    static const char *const apps[] = {"proxy", "proxy", "agent"};
    char *items[3];

    for (size_t i = 0; i < 3; i++)
      items[i] = fmt("{\"Names\": [\"%s\"], \"State\": \"running\", "
                     "\"Labels\": {\"app\": \"%s\", \"cladding\": \"demo\", "
                     "\"project_root\": \"%s\"}}",
                     names[i], apps[i], canonical);
    ps = fmt("[%s, %s, %s]\n", items[0], items[1], items[2]);
    for (size_t i = 0; i < 3; i++)
      free(items[i]);
  }
  write_canned(f, "ps_-a_--filter_label=cladding_--format_json.out", ps);
  write_canned(f, "pod_ps_--filter_label=cladding_--format_json.out", "[]\n");
  write_canned(f, "container_inspect_demo-agent-instance.out",
               inspect_both_mounts);
  podman = fmt("%s/bin/podman", f->top);
  harness_write(podman, fake_podman);
  assert_int_equal(chmod(podman, 0755), 0);

  f->env[0] = fmt("PATH=%s/bin:%s", f->top, getenv("PATH"));
  f->env[1] = fmt("FAKE_PODMAN_LOG=%s", f->log);
  f->env[2] = fmt("FAKE_PODMAN_DIR=%s", f->canned);
  f->env[3] = fmt("FAKE_PODMAN_SCRIPT=%s", script);
  f->env[4] = fmt("FAKE_BRIDGE=%s", f->bridge);
  f->env[5] = fmt("FAKE_AGENT_DIR=%s", f->agent_dir);
  f->env[6] = NULL;
  /* The socket directories as `up` leaves them. */
  {
    char *expose = fmt("%s/expose", f->agent_dir);
    char *inject = fmt("%s/inject", f->agent_dir);
    char *keep = fmt("%s/.keep", expose);
    char *keep2 = fmt("%s/.keep", inject);

    harness_write(keep, "");
    harness_write(keep2, "");
    unlink(keep);
    unlink(keep2);
    free(expose);
    free(inject);
    free(keep);
    free(keep2);
  }
  free(canonical);
  free(config);
  free(podman);
  free(ps);
  free(script);
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  struct fixture *f = *state;

  harness_rmtree(f->top);
  free(f->top);
  free(f->proj);
  free(f->root);
  free(f->agent_dir);
  free(f->canned);
  free(f->log);
  free(f->bridge);
  for (size_t i = 0; f->env[i]; i++)
    free(f->env[i]);
  free(f);
  return 0;
}

/* Running cladding. */

static void run_sync(struct fixture *f, struct run_result *r,
                     const char *const *argv)
{
  harness_run(r, f->proj, (const char *const *)f->env, argv);
}

struct background {
  pid_t pid;
  char *out_path;
  char *err_path;
};

/* Starts cladding in a new session, as a shell starts a job, so that a
 * signal to its process group acts like Ctrl-C on a terminal. */
static void run_background(struct fixture *f, struct background *bg,
                           const char *const *args)
{
  char *binary = harness_builddir_path("cladding");
  const char *argv[8] = {"cladding"};
  size_t n = 1;

  for (size_t i = 0; args[i] && n < 7; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  bg->out_path = fmt("%s/bg.out", f->top);
  bg->err_path = fmt("%s/bg.err", f->top);
  bg->pid = fork();
  assert_true(bg->pid >= 0);
  if (bg->pid == 0) {
    int out = open(bg->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = open(bg->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    setsid();
    for (size_t i = 0; f->env[i]; i++)
      putenv(f->env[i]);
    if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 ||
        chdir(f->proj) < 0)
      _exit(127);
    execv(binary, (char **)argv);
    _exit(127);
  }
  free(binary);
}

/* Waits at most 20 s for a complete first line on stdout. */
static char *wait_line(struct background *bg)
{
  for (int i = 0; i < 400; i++) {
    char *text = harness_read(bg->out_path);

    if (text && strchr(text, '\n'))
      return text;
    free(text);
    if (waitpid(bg->pid, NULL, WNOHANG) == bg->pid) {
      bg->pid = -1;
      break;
    }
    poll(NULL, 0, 50);
  }
  {
    char *err = harness_read(bg->err_path);

    fail_msg("no line on stdout; stderr: %s", err ? err : "");
  }
  return NULL;
}

/* Sends `signum` to the process group and returns the exit status. */
static int stop_background(struct background *bg, int signum)
{
  int status = 0;

  assert_int_equal(kill(-bg->pid, signum), 0);
  for (int i = 0; i < 400; i++) {
    if (waitpid(bg->pid, &status, WNOHANG) == bg->pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    poll(NULL, 0, 50);
  }
  kill(-bg->pid, SIGKILL);
  waitpid(bg->pid, &status, 0);
  fail_msg("cladding did not stop within 20 s");
  return -1;
}

static void background_free(struct background *bg)
{
  free(bg->out_path);
  free(bg->err_path);
}

/* Sockets. */

static int free_port(void)
{
  struct sockaddr_in addr = {.sin_family = AF_INET};
  socklen_t len = sizeof(addr);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int port;

  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
  assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
  port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

static int listen_tcp(int port)
{
  struct sockaddr_in addr = {.sin_family = AF_INET};
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;

  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  addr.sin_port = htons((uint16_t)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
  assert_int_equal(listen(fd, 16), 0);
  return fd;
}

/* Binds a Unix socket at `path`; listens when `listening`. */
static int bind_unix(const char *path, bool listening)
{
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  assert_true(strlen(path) < sizeof(addr.sun_path));
  strcpy(addr.sun_path, path);
  assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
  if (listening)
    assert_int_equal(listen(fd, 16), 0);
  return fd;
}

/* An echo server on 127.0.0.1 for one connection, in a thread: it copies
 * what it reads until EOF, then closes. */
struct echo {
  int fd;
  pthread_t thread;
};

static void *echo_main(void *arg)
{
  struct echo *e = arg;
  int fd = accept(e->fd, NULL, NULL);
  char buf[4096];
  ssize_t n;

  if (fd < 0)
    return NULL;
  while ((n = read(fd, buf, sizeof(buf))) > 0) {
    if (write(fd, buf, (size_t)n) != n)
      break;
  }
  close(fd);
  return NULL;
}

static void echo_start(struct echo *e, int port)
{
  e->fd = listen_tcp(port);
  pthread_create(&e->thread, NULL, echo_main, e);
}

static void echo_stop(struct echo *e)
{
  shutdown(e->fd, SHUT_RDWR);
  pthread_join(e->thread, NULL);
  close(e->fd);
}

/* Sends "hello" to 127.0.0.1:`port`, half-closes, and returns the reply
 * read until EOF. */
static char *round_trip(int port)
{
  struct sockaddr_in addr = {.sin_family = AF_INET};
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  char *reply = calloc(1, 64);
  size_t got = 0;
  ssize_t n;

  addr.sin_port = htons((uint16_t)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
  assert_int_equal(write(fd, "hello", 5), 5);
  shutdown(fd, SHUT_WR);
  while (got < 63 && (n = read(fd, reply + got, 63 - got)) > 0)
    got += (size_t)n;
  close(fd);
  return reply;
}

/* The fake podman's log line of an argv. */
static char *log_line(const char *const *argv)
{
  char *line = strdup("'podman'");

  for (size_t i = 1; argv[i]; i++) {
    char *next = fmt("%s '%s'", line, argv[i]);

    free(line);
    line = next;
  }
  return line;
}

static char *expected_agent_call(const char *command, int port)
{
  bool expose = strcmp(command, "expose") == 0;
  char *pidfile = fmt("/run/cladding/agent/%s/%d/bridge.pid", command, port);
  char *listener =
      expose ? fmt("/run/cladding/agent/expose/%d/agent.sock=localhost:%d",
                   port, port)
             : fmt("127.0.0.1:%d=/run/cladding/agent/inject/%d/host.sock", port,
                   port);
  const char *argv[] = {"podman",
                        "exec",
                        AGENT,
                        "/opt/tools/bin/cladding-bridge",
                        "--pidfile",
                        pidfile,
                        expose ? "--unix-to-tcp" : "--tcp-to-unix",
                        listener,
                        NULL};
  char *line = log_line(argv);

  free(pidfile);
  free(listener);
  return line;
}

static char *expected_stop_call(const char *command, int port)
{
  char *pidfile = fmt("/run/cladding/agent/%s/%d/bridge.pid", command, port);
  const char *argv[] = {
      "podman",   "exec", AGENT,       "/opt/tools/bin/cladding-bridge",
      "--signal", "TERM", "--pidfile", pidfile,
      NULL};
  char *line = log_line(argv);

  free(pidfile);
  return line;
}

/* Returns the position of `line` as a whole line of the log, or -1. */
static long find_call(struct fixture *f, const char *line)
{
  char *log = harness_read(f->log);
  char *needle = fmt("%s\n", line);
  long position = -1;

  for (char *p = log; p && (p = strstr(p, needle)) != NULL; p++) {
    if (p == log || p[-1] == '\n') {
      position = p - log;
      break;
    }
  }
  free(needle);
  free(log);
  return position;
}

static bool log_has_exec(struct fixture *f)
{
  char *log = harness_read(f->log);
  bool found = log && strstr(log, "'podman' 'exec'") != NULL;

  free(log);
  return found;
}

static char *session_dir(struct fixture *f, const char *command, int port)
{
  return fmt("%s/%s/%d", f->agent_dir, command, port);
}

/* Tests. */

static void expose_forwards_then_stops(void **state)
{
  struct fixture *f = *state;
  int port = free_port(), host_port = free_port();
  char *port_text = fmt("%d", port), *host_text = fmt("%d", host_port);
  const char *args[] = {"expose", port_text, host_text, NULL};
  char *expected =
      fmt("expose: 127.0.0.1:%d -> " AGENT " 127.0.0.1:%d (Ctrl-C to stop)\n",
          host_port, port);
  char *dir = session_dir(f, "expose", port);
  char *agent_call = expected_agent_call("expose", port);
  char *stop_call = expected_stop_call("expose", port);
  struct background bg;
  struct echo echo;
  char *line, *reply, *out, *err;

  echo_start(&echo, port);
  run_background(f, &bg, args);
  line = wait_line(&bg);
  assert_string_equal(line, expected);
  reply = round_trip(host_port);
  assert_string_equal(reply, "hello");

  assert_int_equal(stop_background(&bg, SIGINT), 0);
  out = harness_read(bg.out_path);
  err = harness_read(bg.err_path);
  assert_string_equal(out, expected);
  assert_string_equal(err, "");
  assert_false(harness_exists(dir));
  assert_true(find_call(f, "'podman' 'container' 'inspect' '" AGENT "'") >= 0);
  assert_true(find_call(f, agent_call) >= 0);
  assert_true(find_call(f, stop_call) > find_call(f, agent_call));

  echo_stop(&echo);
  background_free(&bg);
  free(line);
  free(reply);
  free(out);
  free(err);
  free(expected);
  free(dir);
  free(agent_call);
  free(stop_call);
  free(port_text);
  free(host_text);
}

static void inject_forwards_then_stops(void **state)
{
  struct fixture *f = *state;
  int port = free_port(), container_port = free_port();
  char *endpoint = fmt("127.0.0.1:%d", port);
  char *container_text = fmt("%d", container_port);
  const char *args[] = {"inject", endpoint, container_text, NULL};
  char *expected = fmt("inject: " AGENT " 127.0.0.1:%d -> 127.0.0.1:%d "
                       "(Ctrl-C to stop)\n",
                       container_port, port);
  char *dir = session_dir(f, "inject", container_port);
  char *agent_call = expected_agent_call("inject", container_port);
  char *stop_call = expected_stop_call("inject", container_port);
  struct background bg;
  struct echo echo;
  char *line, *reply, *err;

  echo_start(&echo, port);
  run_background(f, &bg, args);
  line = wait_line(&bg);
  assert_string_equal(line, expected);
  /* The fake agent side listens on the host's 127.0.0.1. */
  reply = round_trip(container_port);
  assert_string_equal(reply, "hello");

  assert_int_equal(stop_background(&bg, SIGTERM), 0);
  err = harness_read(bg.err_path);
  assert_string_equal(err, "");
  assert_false(harness_exists(dir));
  assert_true(find_call(f, agent_call) >= 0);
  assert_true(find_call(f, stop_call) > find_call(f, agent_call));

  echo_stop(&echo);
  background_free(&bg);
  free(line);
  free(reply);
  free(err);
  free(expected);
  free(dir);
  free(agent_call);
  free(stop_call);
  free(endpoint);
  free(container_text);
}

static void held_lock_in_use(void **state)
{
  struct fixture *f = *state;
  char *dir = session_dir(f, "expose", 3000);
  char *lock = fmt("%s/lock", dir);
  char *expected = fmt("error: expose socket already in use at %s/agent.sock\n"
                       "hint: stop the other 'cladding expose' for container "
                       "port 3000\n"
                       "expose socket already in use\n",
                       dir);
  const char *argv[] = {"expose", "3000", NULL};
  struct run_result r;
  int fd;

  harness_write(lock, "");
  fd = open(lock, O_RDWR);
  assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
  run_sync(f, &r, argv);
  assert_int_equal(r.status, 1);
  assert_string_equal(r.err, expected);
  assert_false(log_has_exec(f));
  assert_true(harness_exists(lock));

  close(fd);
  harness_result_free(&r);
  free(dir);
  free(lock);
  free(expected);
}

static void refused_socket_removed(void **state)
{
  struct fixture *f = *state;
  int port = free_port();
  char *port_text = fmt("%d", port);
  char *dir = session_dir(f, "inject", port);
  char *sock = fmt("%s/host.sock", dir);
  char *keep = fmt("%s/.keep", dir);
  char *warning = fmt("warning: removed stale socket %s\n", sock);
  const char *args[] = {"inject", port_text, NULL};
  struct background bg;
  char *line, *err;

  harness_write(keep, "");
  unlink(keep);
  /* Bound but not listening: connections are refused, as after a crash. */
  close(bind_unix(sock, false));
  run_background(f, &bg, args);
  line = wait_line(&bg);
  err = harness_read(bg.err_path);
  assert_string_equal(err, warning);
  assert_int_equal(stop_background(&bg, SIGINT), 0);
  assert_false(harness_exists(dir));

  background_free(&bg);
  free(line);
  free(err);
  free(port_text);
  free(dir);
  free(sock);
  free(keep);
  free(warning);
}

static void live_socket_in_use(void **state)
{
  struct fixture *f = *state;
  char *dir = session_dir(f, "inject", 5432);
  char *sock = fmt("%s/host.sock", dir);
  char *keep = fmt("%s/.keep", dir);
  char *expected = fmt("error: inject socket already in use at %s\n"
                       "hint: stop the other 'cladding inject' for container "
                       "port 5432\n"
                       "inject socket already in use\n",
                       sock);
  const char *argv[] = {"inject", "db.internal:5432", NULL};
  struct run_result r;
  int fd;

  harness_write(keep, "");
  unlink(keep);
  fd = bind_unix(sock, true);
  run_sync(f, &r, argv);
  assert_int_equal(r.status, 1);
  assert_string_equal(r.err, expected);
  assert_false(log_has_exec(f));
  assert_true(harness_exists(sock));

  close(fd);
  harness_result_free(&r);
  free(dir);
  free(sock);
  free(keep);
  free(expected);
}

static void leftover_pidfile_stopped(void **state)
{
  struct fixture *f = *state;
  int port = free_port(), host_port = free_port();
  char *port_text = fmt("%d", port), *host_text = fmt("%d", host_port);
  char *dir = session_dir(f, "expose", port);
  char *pidfile = fmt("%s/bridge.pid", dir);
  char *agent_call = expected_agent_call("expose", port);
  char *stop_call = expected_stop_call("expose", port);
  const char *args[] = {"expose", port_text, host_text, NULL};
  struct background bg;
  char *line, *pid_text;
  pid_t leftover;
  int status;

  /* A process group that plays the helper of a crashed run. */
  leftover = fork();
  assert_true(leftover >= 0);
  if (leftover == 0) {
    setpgid(0, 0);
    execlp("sleep", "sleep", "30", (char *)NULL);
    _exit(127);
  }
  setpgid(leftover, leftover);
  pid_text = fmt("%d\n", (int)leftover);
  harness_write(pidfile, pid_text);

  run_background(f, &bg, args);
  line = wait_line(&bg);
  assert_int_equal(waitpid(leftover, &status, 0), leftover);
  assert_true(WIFSIGNALED(status));
  assert_int_equal(WTERMSIG(status), SIGTERM);
  assert_true(find_call(f, stop_call) >= 0);
  assert_true(find_call(f, stop_call) < find_call(f, agent_call));
  assert_int_equal(stop_background(&bg, SIGINT), 0);

  background_free(&bg);
  free(line);
  free(pid_text);
  free(port_text);
  free(host_text);
  free(dir);
  free(pidfile);
  free(agent_call);
  free(stop_call);
}

static void busy_host_port(void **state)
{
  struct fixture *f = *state;
  int port = free_port(), host_port = free_port();
  int busy = listen_tcp(host_port);
  char *port_text = fmt("%d", port), *host_text = fmt("%d", host_port);
  char *dir = session_dir(f, "expose", port);
  char *stop_call = expected_stop_call("expose", port);
  char *expected = fmt("error: failed to listen on 127.0.0.1:%d: address "
                       "already in use\n"
                       "failed to listen on 127.0.0.1:%d\n",
                       host_port, host_port);
  const char *argv[] = {"expose", port_text, host_text, NULL};
  struct run_result r;

  run_sync(f, &r, argv);
  assert_int_equal(r.status, 1);
  assert_string_equal(r.out, "");
  assert_string_equal(r.err, expected);
  assert_true(find_call(f, stop_call) >= 0);
  assert_false(harness_exists(dir));

  close(busy);
  harness_result_free(&r);
  free(port_text);
  free(host_text);
  free(dir);
  free(stop_call);
  free(expected);
}

static void symlinked_dir_not_followed(void **state)
{
  struct fixture *f = *state;
  char *dir = session_dir(f, "expose", 3000);
  char *elsewhere = fmt("%s/elsewhere", f->top);
  char *planted = fmt("%s/lock", elsewhere);
  const char *argv[] = {"expose", "3000", NULL};
  struct run_result r;

  /* The agent may replace its socket directory with a link to a host
   * directory: cladding must create nothing there. */
  assert_int_equal(mkdir(elsewhere, 0700), 0);
  assert_int_equal(symlink(elsewhere, dir), 0);
  run_sync(f, &r, argv);
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "Not a directory"));
  assert_false(harness_exists(planted));
  assert_false(log_has_exec(f));

  harness_result_free(&r);
  free(dir);
  free(elsewhere);
  free(planted);
}

static void missing_mount(void **state)
{
  struct fixture *f = *state;
  const char *expose[] = {"expose", "3000", NULL};
  const char *inject[] = {"inject", "5432", NULL};
  struct run_result r;

  write_canned(f, "container_inspect_demo-agent-instance.out",
               "[{\"Mounts\": [{\"Destination\": "
               "\"/run/cladding/proxy/agent\"}]}]\n");
  run_sync(f, &r, expose);
  assert_int_equal(r.status, 1);
  assert_string_equal(r.err,
                      "error: target container '" AGENT
                      "' is missing /run/cladding/agent/expose for project "
                      "'demo'\n"
                      "hint: run 'cladding down', then 'cladding up'\n"
                      "missing expose mount\n");
  harness_result_free(&r);
  run_sync(f, &r, inject);
  assert_int_equal(r.status, 1);
  assert_string_equal(r.err,
                      "error: target container '" AGENT
                      "' is missing /run/cladding/agent/inject for project "
                      "'demo'\n"
                      "hint: run 'cladding down', then 'cladding up'\n"
                      "missing inject mount\n");
  assert_false(log_has_exec(f));
  harness_result_free(&r);
}

static void agent_side_exits(void **state)
{
  struct fixture *f = *state;
  const char *argv[] = {"expose", "3000", NULL};
  char *dir = session_dir(f, "expose", 3000);
  struct run_result r;

  free(f->env[4]);
  f->env[4] = strdup("FAKE_BRIDGE=/bin/false");
  run_sync(f, &r, argv);
  assert_int_equal(r.status, 1);
  assert_string_equal(r.err, "error: podman exec failed (exit code 1)\n"
                             "podman exec failed (exit code 1)\n");
  assert_false(harness_exists(dir));
  harness_result_free(&r);

  free(f->env[4]);
  f->env[4] = strdup("FAKE_BRIDGE=/bin/true");
  run_sync(f, &r, argv);
  assert_int_equal(r.status, 1);
  assert_string_equal(r.err, "expose agent listener exited unexpectedly\n");
  assert_false(harness_exists(dir));
  harness_result_free(&r);
  free(dir);
}

static void not_running(void **state)
{
  struct fixture *f = *state;
  const char *argv[] = {"inject", "5432", NULL};
  struct run_result r;

  write_canned(f, "ps_-a_--filter_label=cladding_--format_json.out", "[]\n");
  run_sync(f, &r, argv);
  assert_int_equal(r.status, 1);
  assert_string_equal(r.err, "error: cladding project 'demo' is not running\n"
                             "hint: run 'cladding up'\n"
                             "project is not running\n");
  assert_false(log_has_exec(f));
  harness_result_free(&r);
}

/* A usage error: exit 2, the message and the usage line, no podman. */
static void check_usage(struct fixture *f, const char *const *argv,
                        const char *message, const char *usage)
{
  char *expected = fmt("error: %s\nusage: %s\n", message, usage);
  struct run_result r;

  run_sync(f, &r, argv);
  assert_int_equal(r.status, 2);
  assert_string_equal(r.err, expected);
  assert_false(harness_exists(f->log));
  harness_result_free(&r);
  free(expected);
}

static void usage_errors(void **state)
{
  struct fixture *f = *state;
  const char *expose_usage =
      "cladding expose [--bind ADDR] CONTAINERPORT [HOSTPORT]";
  const char *inject_usage = "cladding inject HOST-ENDPOINT [CONTAINERPORT]";
  const char *no_port[] = {"expose", NULL};
  const char *zero[] = {"expose", "0", NULL};
  const char *big[] = {"expose", "3000", "65536", NULL};
  const char *list[] = {"expose", "list", NULL};
  const char *stop[] = {"expose", "stop", "9000", NULL};
  const char *bind[] = {"expose", "--bind", "localhost", "3000", NULL};
  const char *three[] = {"expose", "1", "2", "3", NULL};
  const char *inject_list[] = {"inject", "list", NULL};
  const char *inject_stop[] = {"inject", "stop", "9000", NULL};
  const char *inject_bad[] = {"inject", "db.internal:5432:1", NULL};
  const char *inject_empty[] = {"inject", "", NULL};
  const char *inject_port[] = {"inject", "5432", "0", NULL};

  check_usage(f, no_port, "missing argument CONTAINERPORT", expose_usage);
  check_usage(f, zero,
              "invalid value '0' for 'CONTAINERPORT': expected an integer "
              "from 1 to 65535",
              expose_usage);
  check_usage(f, big,
              "invalid value '65536' for 'HOSTPORT': expected an integer "
              "from 1 to 65535",
              expose_usage);
  check_usage(f, list,
              "invalid value 'list' for 'CONTAINERPORT': expected an integer "
              "from 1 to 65535",
              expose_usage);
  check_usage(f, stop,
              "invalid value 'stop' for 'CONTAINERPORT': expected an integer "
              "from 1 to 65535",
              expose_usage);
  check_usage(f, bind,
              "invalid value 'localhost' for '--bind': expected a numeric "
              "IPv4 or IPv6 address",
              expose_usage);
  check_usage(f, three, "unexpected argument '3'", expose_usage);
  check_usage(f, inject_list,
              "invalid value 'list' for 'HOST-ENDPOINT': invalid inject host "
              "endpoint 'list'",
              inject_usage);
  check_usage(f, inject_stop,
              "invalid value 'stop' for 'HOST-ENDPOINT': invalid inject host "
              "endpoint 'stop'",
              inject_usage);
  check_usage(f, inject_bad,
              "invalid value 'db.internal:5432:1' for 'HOST-ENDPOINT': "
              "invalid inject host endpoint 'db.internal:5432:1'",
              inject_usage);
  check_usage(f, inject_empty,
              "invalid value '' for 'HOST-ENDPOINT': inject host endpoint "
              "cannot be empty",
              inject_usage);
  check_usage(f, inject_port,
              "invalid value '0' for 'CONTAINERPORT': expected an integer "
              "from 1 to 65535",
              inject_usage);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(expose_forwards_then_stops, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(inject_forwards_then_stops, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(held_lock_in_use, setup, teardown),
      cmocka_unit_test_setup_teardown(refused_socket_removed, setup, teardown),
      cmocka_unit_test_setup_teardown(live_socket_in_use, setup, teardown),
      cmocka_unit_test_setup_teardown(leftover_pidfile_stopped, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(busy_host_port, setup, teardown),
      cmocka_unit_test_setup_teardown(symlinked_dir_not_followed, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(missing_mount, setup, teardown),
      cmocka_unit_test_setup_teardown(agent_side_exits, setup, teardown),
      cmocka_unit_test_setup_teardown(not_running, setup, teardown),
      cmocka_unit_test_setup_teardown(usage_errors, setup, teardown),
  };

  /* The tests send signals to process groups they create. */
  signal(SIGPIPE, SIG_IGN);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
