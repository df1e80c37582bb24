/* Forwarding sessions: one socket directory, one agent-side helper and one
 * host listener per run, driven step by step on a private libuv loop. */
#include "config-host.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include "bridge.h"
#include "context.h"
#include "forward.h"
#include "process.h"
#include "util.h"

/* Interval of the pid file checks while a step waits for one. */
#define POLL_MS 50
/* Milliseconds a stop call may take before it is killed. */
#define STOP_CALL_MS 10000
/* Attempts to lock a lock file that a finishing run may be removing. */
#define LOCK_ATTEMPTS 5

/* A child process of the session with its stderr read through a pipe.
 * The flags `process_open` and `err_open` turn false in the close
 * callbacks, so the struct may be reused once both are false. */
struct child {
  uv_process_t process;
  uv_pipe_t err;
  bool started;      /* uv_spawn() succeeded */
  bool running;      /* started and not yet exited */
  bool process_open; /* the process handle is not closed yet */
  bool err_open;     /* the pipe is not closed yet */
  bool err_closing;  /* uv_close() was called on the pipe */
  bool relay;        /* stderr lines go to cladding's stderr as they come */
  int64_t exit_status;
  int term_signal;
  char *text; /* captured stderr, or the partial line of a relayed one */
  size_t len;
  size_t cap;
};

struct session {
  struct cladding_context *ctx;
  const struct cladding_forward_spec *spec;
  uv_loop_t loop;
  uv_signal_t signals[3];
  uv_timer_t timer;
  struct cl_bridge *bridge;
  struct child agent;
  struct child stop;
  int lock_fd;
  int dir_fd;        /* D, opened without following a link */
  int parent_fd;     /* the directory that contains D */
  char *parent_path; /* its path */
  char *dir_name;    /* the name of D in it */
  bool owns_dir;     /* the lock is held and the directory is ours to remove */
  char *socket_path;
  char *pid_path;
  char *lock_path;
  int caught;         /* the first SIGINT, SIGTERM or SIGHUP, or 0 */
  int listener_error; /* a failure of the host listener, or 0 */
};

/* Child processes. */

static void process_closed(uv_handle_t *handle)
{
  struct child *child = handle->data;

  child->process_open = false;
}

static void err_closed(uv_handle_t *handle)
{
  struct child *child = handle->data;

  child->err_open = false;
}

static void close_err(struct child *child)
{
  if (!child->err_open || child->err_closing)
    return;
  child->err_closing = true;
  uv_read_stop((uv_stream_t *)&child->err);
  uv_close((uv_handle_t *)&child->err, err_closed);
}

/* Tells whether a line of the agent-side helper reports a routine event
 * (its listener started or stopped, its shutdown), which is not shown. */
static bool routine_line(const char *line, size_t len)
{
  static const char *const events[] = {
      "cladding-bridge: event=listen ",
      "cladding-bridge: event=listener-stop ",
      "cladding-bridge: event=shutdown ",
  };

  for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
    size_t n = strlen(events[i]);

    if (len >= n && memcmp(line, events[i], n) == 0)
      return true;
  }
  return false;
}

/* Writes the complete lines of a relayed stderr, and the rest at `eof`. */
static void relay_lines(struct child *child, bool eof)
{
  FILE *out = cl_log_err_stream();
  size_t start = 0;

  for (size_t i = 0; i < child->len; i++) {
    if (child->text[i] != '\n')
      continue;
    if (!routine_line(child->text + start, i - start))
      fwrite(child->text + start, 1, i + 1 - start, out);
    start = i + 1;
  }
  if (eof && start < child->len) {
    if (!routine_line(child->text + start, child->len - start))
      fprintf(out, "%.*s\n", (int)(child->len - start), child->text + start);
    start = child->len;
  }
  fflush(out);
  memmove(child->text, child->text + start, child->len - start);
  child->len -= start;
}

static void err_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
  struct child *child = handle->data;

  (void)suggested;
  if (child->cap - child->len < 4096 + 1) {
    child->cap = child->cap ? child->cap * 2 : 8192;
    child->text = cl_xrealloc(child->text, child->cap);
  }
  /* The buffer may stay unread (EOF or an error comes next), and the text
   * is read as a string afterwards. */
  child->text[child->len] = '\0';
  buf->base = child->text + child->len;
  buf->len = child->cap - child->len - 1;
}

static void err_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
  struct child *child = stream->data;

  (void)buf;
  if (nread > 0) {
    child->len += (size_t)nread;
    child->text[child->len] = '\0';
    if (child->relay)
      relay_lines(child, false);
    return;
  }
  if (nread < 0) {
    if (child->relay && child->len > 0)
      relay_lines(child, true);
    close_err(child);
  }
}

static void child_exit(uv_process_t *process, int64_t exit_status,
                       int term_signal)
{
  struct child *child = process->data;

  child->running = false;
  child->exit_status = exit_status;
  child->term_signal = term_signal;
  uv_close((uv_handle_t *)process, process_closed);
}

/* Starts argv[0] with stdin from /dev/null, stdout on cladding's stderr
 * and stderr read into `child`, in a new session so that a Ctrl-C on the
 * terminal reaches only cladding.  Returns 0 or a negative libuv error. */
static int child_spawn(struct session *s, struct child *child,
                       const char *const *argv, bool relay)
{
  uv_process_options_t options;
  uv_stdio_container_t stdio[3];
  int ret;

  free(child->text);
  memset(child, 0, sizeof(*child));
  child->relay = relay;
  memset(&options, 0, sizeof(options));
  uv_pipe_init(&s->loop, &child->err, 0);
  child->err.data = child;
  child->err_open = true;
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = UV_INHERIT_FD;
  stdio[1].data.fd = 2;
  stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
  stdio[2].data.stream = (uv_stream_t *)&child->err;
  options.file = argv[0];
  options.args = (char **)argv;
  options.stdio = stdio;
  options.stdio_count = 3;
  options.exit_cb = child_exit;
  options.flags = UV_PROCESS_DETACHED;
  child->process.data = child;
  child->process_open = true;

  ret = uv_spawn(&s->loop, &child->process, &options);
  if (ret < 0) {
    uv_close((uv_handle_t *)&child->process, process_closed);
    close_err(child);
    return ret;
  }
  child->started = true;
  child->running = true;
  uv_read_start((uv_stream_t *)&child->err, err_alloc, err_read);
  return 0;
}

/* The exit status of a child as cladding reports it: a child killed by a
 * signal counts as 1. */
static int child_status(const struct child *child)
{
  if (child->term_signal != 0)
    return 1;
  return (int)child->exit_status;
}

/* Waiting. */

static void timer_tick(uv_timer_t *timer)
{
  (void)timer;
}

typedef bool (*done_fn)(struct session *s);

/* Runs the loop until `done` returns true or `timeout_ms` passes (0: no limit),
 * waking every POLL_MS for conditions that are not events, such as a file
 * appearing.  Returns the final value of `done`. */
static bool run_until(struct session *s, done_fn done, uint64_t timeout_ms,
                      bool poll)
{
  uint64_t deadline;

  uv_update_time(&s->loop);
  deadline = uv_now(&s->loop) + timeout_ms;
  if (poll)
    uv_timer_start(&s->timer, timer_tick, POLL_MS, POLL_MS);
  else if (timeout_ms > 0)
    uv_timer_start(&s->timer, timer_tick, timeout_ms, 0);
  while (!done(s)) {
    if (timeout_ms > 0 && uv_now(&s->loop) >= deadline)
      break;
    uv_run(&s->loop, UV_RUN_ONCE);
  }
  uv_timer_stop(&s->timer);
  return done(s);
}

static bool entry_exists(struct session *s, const char *name);

static bool stop_exited(struct session *s)
{
  return !s->stop.running;
}

static bool agent_exited(struct session *s)
{
  return !s->agent.running;
}

static bool stop_pipe_closed(struct session *s)
{
  return !s->stop.err_open;
}

static bool agent_pipe_closed(struct session *s)
{
  return !s->agent.err_open;
}

static bool stop_idle(struct session *s)
{
  return !s->stop.err_open && !s->stop.process_open;
}

static bool agent_idle(struct session *s)
{
  return !s->agent.err_open && !s->agent.process_open;
}

static bool pid_file_gone(struct session *s)
{
  return !entry_exists(s, s->spec->pid_name);
}

static bool agent_ready(struct session *s)
{
  return s->caught || !s->agent.running || entry_exists(s, s->spec->pid_name);
}

static bool session_over(struct session *s)
{
  return s->caught || !s->agent.running || s->listener_error;
}

static void signal_cb(uv_signal_t *handle, int signum)
{
  struct session *s = handle->data;

  if (s->caught == 0)
    s->caught = signum;
}

static void listener_failed(struct cl_bridge *bridge, int error, void *data)
{
  struct session *s = data;

  (void)bridge;
  if (s->listener_error == 0)
    s->listener_error = error;
}

/* Waits for a child that has exited to release its handles: the pipe
 * gets a second to reach EOF, then it is closed. */
static void child_release(struct session *s, struct child *child)
{
  if (!run_until(s, child == &s->stop ? stop_pipe_closed : agent_pipe_closed,
                 1000, false))
    close_err(child);
  run_until(s, child == &s->stop ? stop_idle : agent_idle, 0, false);
}

/* Runs the stop call once, bounded by STOP_CALL_MS; its failure is a
 * warning. */
static void run_stop_call(struct session *s)
{
  const char *command = s->spec->command;
  struct child *stop = &s->stop;
  cleanup_free char *trimmed = NULL;
  int ret = child_spawn(s, stop, s->spec->stop_argv, false);

  if (ret < 0) {
    run_until(s, stop_idle, 0, false);
    cl_log(CLADDING_LOG_WARNING,
           "failed to run %s to stop the %s agent side: %s",
           s->spec->stop_argv[0], command, uv_strerror(ret));
    return;
  }
  if (!run_until(s, stop_exited, STOP_CALL_MS, false)) {
    cl_log(CLADDING_LOG_WARNING,
           "the stop call of the %s agent side did not finish in %d s", command,
           STOP_CALL_MS / 1000);
    uv_process_kill(&stop->process, SIGKILL);
    run_until(s, stop_exited, 0, false);
  }
  child_release(s, stop);
  if (child_status(stop) == 0)
    return;
  if (stop->text) {
    struct cl_process_result view = {.err = stop->text};

    trimmed = cl_process_trimmed_err(&view);
  }
  cl_log(CLADDING_LOG_WARNING,
         "stopping the %s agent side failed (exit code %d)%s%s", command,
         child_status(stop), trimmed ? ": " : "", trimmed ? trimmed : "");
}

/* The socket directory.
 *
 * The directory D sits in a directory that the agent mounts, so processes
 * in the agent may replace D or its entries, for example with symbolic
 * links to host files.  Everything in D is therefore reached through a
 * descriptor of D opened without following a link, with *at() calls that
 * do not follow links either. */

static bool entry_exists(struct session *s, const char *name)
{
  struct stat st;

  return s->dir_fd >= 0 &&
         fstatat(s->dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Removes the entries of D (the agent may have added any), then D. */
static void remove_dir(struct session *s)
{
  DIR *dir;
  struct dirent *entry;
  int fd = fcntl(s->dir_fd, F_DUPFD_CLOEXEC, 3);

  dir = fd >= 0 ? fdopendir(fd) : NULL;
  if (dir == NULL) {
    if (fd >= 0)
      close(fd);
  } else {
    while ((entry = readdir(dir)) != NULL) {
      if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
        continue;
      if (unlinkat(s->dir_fd, entry->d_name, 0) < 0 &&
          (errno == EISDIR || errno == EPERM))
        unlinkat(s->dir_fd, entry->d_name, AT_REMOVEDIR);
    }
    closedir(dir);
  }
  if (unlinkat(s->parent_fd, s->dir_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    cl_log(CLADDING_LOG_WARNING, "failed to remove %s: %s", s->spec->dir,
           strerror(errno));
}

static int report_in_use(struct session *s)
{
  const char *command = s->spec->command;

  cl_log(CLADDING_LOG_ERROR, "%s socket already in use at %s", command,
         s->socket_path);
  cl_log(CLADDING_LOG_HINT,
         "stop the other 'cladding %s' for container port %d", command,
         s->spec->container_port);
  cl_log(CLADDING_LOG_PLAIN, "%s socket already in use", command);
  return 1;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Creates D if needed and opens it into s->dir_fd.  Returns 0 or -errno;
 * -ENOTDIR when D is anything but a directory. */
static int open_dir(struct session *s)
{
  if (mkdirat(s->parent_fd, s->dir_name, 0755) < 0 && errno != EEXIST)
    return -errno;
  s->dir_fd = openat(s->parent_fd, s->dir_name,
                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (s->dir_fd < 0)
    return errno == ELOOP ? -ENOTDIR : -errno;
  return 0;
}

/* Opens D and locks D/lock.  A run that is finishing removes the lock file
 * and D while it still holds the lock, so the lock counts only when the
 * locked file and D are still the ones at their paths.  Returns 0, 1 when
 * another run holds the lock, or -errno. */
static int take_lock(struct session *s)
{
  for (int attempt = 0; attempt < LOCK_ATTEMPTS; attempt++) {
    struct stat held, current, dir_held, dir_current;
    int ret = open_dir(s);
    int fd;

    if (ret < 0)
      return ret;
    fd = openat(s->dir_fd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
                0600);
    if (fd < 0 && errno != ENOENT)
      return -errno;
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {
      ret = errno;
      close(fd);
      return ret == EWOULDBLOCK ? 1 : -ret;
    }
    if (fd >= 0 && fstat(fd, &held) == 0 &&
        fstatat(s->dir_fd, "lock", &current, AT_SYMLINK_NOFOLLOW) == 0 &&
        same_file(&held, &current) && fstat(s->dir_fd, &dir_held) == 0 &&
        fstatat(s->parent_fd, s->dir_name, &dir_current, AT_SYMLINK_NOFOLLOW) ==
            0 &&
        same_file(&dir_held, &dir_current)) {
      s->lock_fd = fd;
      return 0;
    }
    if (fd >= 0)
      close(fd);
    close(s->dir_fd);
    s->dir_fd = -1;
  }
  return -EAGAIN;
}

/* Tells whether the socket `name` in D accepts a connection. */
static bool socket_accepts(struct session *s, const char *name)
{
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  int inode = openat(s->dir_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  int fd;
  bool ok;

  if (inode < 0)
    return false;
  snprintf(addr.sun_path, sizeof(addr.sun_path), "/proc/self/fd/%d", inode);
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ok = fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;
  if (fd >= 0)
    close(fd);
  close(inode);
  return ok;
}

/* Takes the socket directory and removes what a crashed run left in it:
 * the agent side of its pid file is stopped, a socket that refuses
 * connections is removed.  Returns 0 or the failure's status. */
static int claim_dir(struct session *s)
{
  const char *name = s->spec->socket_name;
  struct stat st;
  int ret = cl_mkdir_p(s->parent_path, 0755);

  if (ret == 0) {
    s->parent_fd = open(s->parent_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ret = s->parent_fd < 0 ? -errno : take_lock(s);
  }
  if (ret == 1)
    return report_in_use(s);
  if (ret < 0) {
    cl_log(CLADDING_LOG_ERROR, "failed to lock %s: %s", s->lock_path,
           strerror(-ret));
    /* Something in the agent may have replaced the directory or the lock
     * with another kind of file; removing it frees the port. */
    cl_log(CLADDING_LOG_HINT,
           "remove %s/%s if nothing uses it, or run 'cladding down', then "
           "'cladding up'",
           s->parent_path, s->dir_name);
    cl_log(CLADDING_LOG_PLAIN, "failed to lock %s", s->lock_path);
    return 1;
  }
  s->owns_dir = true;

  if (entry_exists(s, s->spec->pid_name)) {
    run_stop_call(s);
    run_until(s, pid_file_gone, CL_FORWARD_STOP_WAIT_MS, true);
    unlinkat(s->dir_fd, s->spec->pid_name, 0);
  }

  if (fstatat(s->dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISSOCK(st.st_mode) && socket_accepts(s, name)) {
      /* Someone listens there without holding the lock: not ours. */
      s->owns_dir = false;
      return report_in_use(s);
    }
    if (unlinkat(s->dir_fd, name, 0) < 0 && errno != ENOENT) {
      cl_log(CLADDING_LOG_ERROR, "failed to remove %s: %s", s->socket_path,
             strerror(errno));
      cl_log(CLADDING_LOG_PLAIN, "failed to remove %s", s->socket_path);
      return 1;
    }
    cl_log(CLADDING_LOG_WARNING, "removed stale socket %s", s->socket_path);
  }
  return 0;
}

/* The host listener. */

/* Writes ADDR:PORT with an IPv6 address in brackets. */
static char *host_port(const char *host, int port)
{
  if (strchr(host, ':'))
    return cl_asprintf("[%s]:%d", host, port);
  return cl_asprintf("%s:%d", host, port);
}

static int listen_host(struct session *s)
{
  const struct cladding_forward_spec *spec = s->spec;
  cleanup_free char *where = NULL;
  int ret;

  s->bridge = cl_bridge_new(&s->loop, spec->command);
  cl_bridge_set_error_cb(s->bridge, listener_failed, s);
  if (spec->kind == CLADDING_FORWARD_TCP_TO_UNIX) {
    where = host_port(spec->host, spec->port);
    ret = cl_bridge_listen_tcp(s->bridge, spec->host, spec->port, s->dir_fd,
                               spec->socket_name, s->socket_path);
  } else {
    where = cl_xstrdup(s->socket_path);
    ret = cl_bridge_listen_unix(s->bridge, s->dir_fd, spec->socket_name,
                                spec->host, spec->port);
  }
  if (ret == 0)
    return 0;
  cl_log(CLADDING_LOG_ERROR, "failed to listen on %s: %s", where,
         uv_strerror(ret));
  cl_log(CLADDING_LOG_PLAIN, "failed to listen on %s", where);
  return 1;
}

/* The agent side. */

static int start_agent(struct session *s)
{
  const char *command = s->spec->command;
  int ret = child_spawn(s, &s->agent, s->spec->agent_argv, true);

  if (ret < 0) {
    cl_log(CLADDING_LOG_ERROR, "failed to run %s: %s", s->spec->agent_argv[0],
           uv_strerror(ret));
    cl_log(CLADDING_LOG_PLAIN, "failed to run podman exec for %s", command);
    return 1;
  }
  if (run_until(s, agent_ready, CL_FORWARD_PIDFILE_WAIT_MS, true))
    return 0;
  cl_log(CLADDING_LOG_ERROR, "timed out after %d s waiting for %s",
         CL_FORWARD_PIDFILE_WAIT_MS / 1000, s->pid_path);
  cl_log(CLADDING_LOG_PLAIN, "%s agent listener did not start", command);
  return 1;
}

/* Prints the final messages for an agent side that exited by itself. */
static int report_agent_exit(struct session *s)
{
  int status = child_status(&s->agent);

  if (status == 0) {
    cl_log(CLADDING_LOG_PLAIN, "%s agent listener exited unexpectedly",
           s->spec->command);
    return 1;
  }
  cl_log(CLADDING_LOG_ERROR, "podman exec failed (exit code %d)", status);
  cl_log(CLADDING_LOG_PLAIN, "podman exec failed (exit code %d)", status);
  return status;
}

/* Stops both sides and removes the socket directory; problems are
 * warnings. */
static void cleanup(struct session *s)
{
  if (s->bridge) {
    cl_bridge_close(s->bridge);
    s->bridge = NULL;
  }
  if (s->agent.started &&
      (s->agent.running || entry_exists(s, s->spec->pid_name)))
    run_stop_call(s);
  if (s->agent.running &&
      !run_until(s, agent_exited, CL_FORWARD_STOP_WAIT_MS, false)) {
    uv_process_kill(&s->agent.process, SIGKILL);
    run_until(s, agent_exited, 0, false);
  }
  if (s->agent.started)
    child_release(s, &s->agent);
  if (s->owns_dir)
    remove_dir(s);
  if (s->lock_fd >= 0) {
    close(s->lock_fd);
    s->lock_fd = -1;
  }
}

static void session_init(struct session *s, struct cladding_context *ctx,
                         const struct cladding_forward_spec *spec)
{
  static const int signals[] = {SIGINT, SIGTERM, SIGHUP};

  memset(s, 0, sizeof(*s));
  s->ctx = ctx;
  s->spec = spec;
  s->lock_fd = -1;
  s->dir_fd = -1;
  s->parent_fd = -1;
  s->parent_path = cl_path_dirname(spec->dir);
  s->dir_name = cl_xstrdup(cl_path_basename(spec->dir));
  s->socket_path = cl_path_join(spec->dir, spec->socket_name);
  s->pid_path = cl_path_join(spec->dir, spec->pid_name);
  s->lock_path = cl_path_join(spec->dir, "lock");
  uv_loop_init(&s->loop);
  uv_timer_init(&s->loop, &s->timer);
  for (size_t i = 0; i < 3; i++) {
    uv_signal_init(&s->loop, &s->signals[i]);
    s->signals[i].data = s;
    uv_signal_start(&s->signals[i], signal_cb, signals[i]);
  }
}

static void session_close(struct session *s)
{
  for (size_t i = 0; i < 3; i++)
    uv_close((uv_handle_t *)&s->signals[i], NULL);
  uv_close((uv_handle_t *)&s->timer, NULL);
  uv_run(&s->loop, UV_RUN_DEFAULT);
  uv_loop_close(&s->loop);
  free(s->agent.text);
  free(s->stop.text);
  if (s->dir_fd >= 0)
    close(s->dir_fd);
  if (s->parent_fd >= 0)
    close(s->parent_fd);
  free(s->parent_path);
  free(s->dir_name);
  free(s->socket_path);
  free(s->pid_path);
  free(s->lock_path);
}

/* Runs the steps in the order of the session's kind.  Returns -1 once the
 * session runs, 0 when a signal or the agent side's exit ended it early,
 * or the status of a failure, whose messages are printed. */
static int start_session(struct session *s)
{
  bool tcp = s->spec->kind == CLADDING_FORWARD_TCP_TO_UNIX;
  int status = claim_dir(s);

  if (status != 0 || s->caught)
    return status;
  /* inject listens first, so no agent connection can arrive too early;
   * expose needs the agent's socket before its clients. */
  if (!tcp && (status = listen_host(s)) != 0)
    return status;
  if ((status = start_agent(s)) != 0 || s->caught || !s->agent.running)
    return status;
  if (tcp && (status = listen_host(s)) != 0)
    return status;
  cl_log(CLADDING_LOG_OUT, "%s", s->spec->ready_line);
  fflush(cl_log_out_stream());
  return -1;
}

int cl_forward_run(struct cladding_context *ctx,
                   const struct cladding_forward_spec *spec)
{
  struct sigaction ignore = {.sa_handler = SIG_IGN}, old_pipe;
  struct session s;
  int status;

  /* A client that disconnects must not kill cladding with SIGPIPE. */
  sigaction(SIGPIPE, &ignore, &old_pipe);
  session_init(&s, ctx, spec);

  status = start_session(&s);
  if (status < 0) {
    run_until(&s, session_over, 0, false);
    status = 0;
  }

  if (status == 0 && !s.caught && s.listener_error) {
    cleanup(&s);
    cl_log(CLADDING_LOG_PLAIN, "%s host listener failed: %s", spec->command,
           uv_strerror(s.listener_error));
    status = 1;
  } else if (status == 0 && !s.caught && s.agent.started && !s.agent.running) {
    cleanup(&s);
    status = report_agent_exit(&s);
  } else {
    cleanup(&s);
  }
  session_close(&s);
  sigaction(SIGPIPE, &old_pipe, NULL);
  return status;
}

/* Mounts. */

int cl_forward_inspect_has_mount(const char *json, const char *destination)
{
  json_t *root = json_loads(json, JSON_DECODE_ANY, NULL);
  json_t *item, *mounts, *mount;
  size_t index;
  int found = -1;

  item = json_is_array(root) ? json_array_get(root, 0) : root;
  mounts = json_is_object(item) ? json_object_get(item, "Mounts") : NULL;
  if (json_is_array(mounts)) {
    found = 0;
    json_array_foreach(mounts, index, mount)
    {
      const char *target =
          json_string_value(json_object_get(mount, "Destination"));

      if (target && strcmp(target, destination) == 0)
        found = 1;
    }
  }
  json_decref(root);
  return found;
}

int cl_forward_container_has_mount(struct cladding_context *ctx,
                                   const char *container,
                                   const char *destination, int *found,
                                   struct cl_error *err)
{
  const char *argv[] = {"podman", "container", "inspect", container, NULL};
  struct cl_process_result result;
  int ret = cl_context_run_captured(ctx, argv, &result);
  int status;

  *found = 0;
  if (ret < 0) {
    cl_log(CLADDING_LOG_ERROR, "failed to run podman container inspect: %s",
           strerror(-ret));
    return cl_fail(err, 1, "failed to run podman container inspect");
  }
  status = cl_process_status(&result);
  if (status != 0) {
    cleanup_free char *stderr_text = cl_process_trimmed_err(&result);

    cl_log(CLADDING_LOG_ERROR, "podman container inspect failed (exit code %d)",
           status);
    if (stderr_text)
      cl_log(CLADDING_LOG_PLAIN, "%s", stderr_text);
    cl_process_result_free(&result);
    return cl_fail(err, status,
                   "podman container inspect failed (exit code %d)", status);
  }
  ret = cl_forward_inspect_has_mount(result.out, destination);
  cl_process_result_free(&result);
  if (ret < 0) {
    cl_log(CLADDING_LOG_ERROR,
           "podman container inspect %s printed no Mounts list", container);
    return cl_fail(err, 1, "failed to parse podman container inspect output");
  }
  *found = ret;
  return 0;
}
