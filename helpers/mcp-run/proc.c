/* Spawning, watching and terminating child processes. */
#include "config-host.h"

#include "proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

/* How often a terminating group is checked for remaining members. */
#define TERMINATE_POLL_MS 20

struct proc {
  uv_loop_t *loop;
  const struct proc_callbacks *callbacks;
  void *data;
  pid_t pid;
  int pidfd;

  uv_pipe_t out;
  uv_pipe_t err;
  uv_poll_t exit_watch;
  uv_timer_t term_timer;
  bool out_open, err_open; /* still reading */
  bool watching_exit;
  bool paused;
  bool reaped;
  bool done;
  bool killed;
  uint64_t term_started;
  int open_handles;

  struct proc_status status;
  char read_buf[2][PROC_READ_SIZE];
};

static void env_set(json_t *env, const char *name, const char *value)
{
  if (value != NULL)
    json_object_set_new(env, name, json_string(value));
}

char **proc_build_env(const struct mr_config *config, const json_t *request)
{
  static const char *const removed[] = {
      "PATH",       "http_proxy",  "https_proxy", "no_proxy",
      "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY",    "NODE_USE_ENV_PROXY",
  };
  json_t *env = json_object();
  const char *key;
  json_t *value;
  char **envp;
  size_t i = 0, k;

  env_set(env, "HOME", config->home);
  env_set(env, "LANG", config->lang);
  json_object_foreach((json_t *)request, key, value)
      json_object_set(env, key, value);
  for (k = 0; k < sizeof(removed) / sizeof(removed[0]); k++)
    json_object_del(env, removed[k]);
  env_set(env, "PATH", config->path);
  /* The server's uppercase proxy variables are never read: its lowercase
   * values are given to the child under both names. */
  env_set(env, "http_proxy", config->http_proxy);
  env_set(env, "HTTP_PROXY", config->http_proxy);
  env_set(env, "https_proxy", config->https_proxy);
  env_set(env, "HTTPS_PROXY", config->https_proxy);
  env_set(env, "no_proxy", config->no_proxy);
  env_set(env, "NO_PROXY", config->no_proxy);
  env_set(env, "NODE_USE_ENV_PROXY", config->node_use_env_proxy);

  envp = mr_xcalloc(json_object_size(env) + 1, sizeof(char *));
  json_object_foreach(env, key, value)
  {
    size_t len = json_string_length(value);
    const char *text = json_string_value(value);

    if (memchr(text, '\0', len) != NULL) {
      envp[i] = NULL;
      proc_free_env(envp);
      json_decref(env);
      return NULL;
    }
    envp[i++] = mr_asprintf("%s=%s", key, text);
  }
  envp[i] = NULL;
  json_decref(env);
  return envp;
}

void proc_free_env(char **envp)
{
  size_t i;

  if (envp == NULL)
    return;
  for (i = 0; envp[i] != NULL; i++)
    free(envp[i]);
  free(envp);
}

/* Runs in the child between fork and exec: only async-signal-safe calls.
 * Reports errno through report_fd and exits on failure. */
static void child_exec(int report_fd, int null_fd, int out_fd, int err_fd,
                       int cwd_fd, int exe_fd, bool is_script, char **argv,
                       char **envp)
{
  struct sigaction dfl;
  sigset_t empty;
  int err, sig;

  if (setsid() < 0)
    goto fail;

  memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  for (sig = 1; sig < NSIG; sig++)
    sigaction(sig, &dfl, NULL);
  sigemptyset(&empty);

  if (dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
    goto fail;
  if (fchdir(cwd_fd) < 0)
    goto fail;

  /* Every descriptor above 2 closes at exec; a script's own descriptor
   * stays open because its interpreter opens it as /dev/fd/N. */
  if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
    for (int fd = 3; fd < 1024; fd++)
      fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  if (is_script && fcntl(exe_fd, F_SETFD, 0) < 0)
    goto fail;

  sigprocmask(SIG_SETMASK, &empty, NULL);
  syscall(SYS_execveat, exe_fd, "", argv, envp, AT_EMPTY_PATH);

fail:
  err = errno;
  while (write(report_fd, &err, sizeof(err)) < 0 && errno == EINTR) {
  }
  _exit(127);
}

/* Moves a descriptor above 2 so the dup2 calls in the child cannot
 * overwrite it. */
static int above_stdio(int fd)
{
  int moved;

  if (fd > 2)
    return fd;
  moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  close(fd);
  return moved;
}

static void close_pair(int fds[2])
{
  if (fds[0] >= 0)
    close(fds[0]);
  if (fds[1] >= 0)
    close(fds[1]);
  fds[0] = fds[1] = -1;
}

/* Forks and execs; returns the pid or a negative errno value, which is the
 * child's own when exec failed. */
static pid_t fork_exec(const struct authz *authz, char **argv, char **envp,
                       int out_pipe[2], int err_pipe[2])
{
  int report[2] = {-1, -1};
  sigset_t all, old;
  int null_fd, child_errno = 0;
  ssize_t n;
  pid_t pid;

  if (pipe2(report, O_CLOEXEC) < 0)
    return -errno;
  null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) {
    int err = errno;

    close_pair(report);
    return -err;
  }
  null_fd = above_stdio(null_fd);
  out_pipe[1] = above_stdio(out_pipe[1]);
  err_pipe[1] = above_stdio(err_pipe[1]);
  report[1] = above_stdio(report[1]);

  /* Signals stay blocked until the child has reset every handler, so no
   * handler of the server runs in the child. */
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &old);
  pid = fork();
  if (pid == 0)
    child_exec(report[1], null_fd, out_pipe[1], err_pipe[1], authz->cwd_fd,
               authz->exe_fd, authz->is_script, argv, envp);
  sigprocmask(SIG_SETMASK, &old, NULL);
  close(null_fd);
  if (pid < 0) {
    int err = errno;

    close_pair(report);
    return -err;
  }

  close(report[1]);
  do {
    n = read(report[0], &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  close(report[0]);
  if (n > 0) {
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
    return -(child_errno != 0 ? child_errno : EIO);
  }
  return pid;
}

static void on_handle_closed(uv_handle_t *handle)
{
  struct proc *proc = handle->data;

  if (--proc->open_handles == 0) {
    if (proc->pidfd >= 0)
      close(proc->pidfd);
    free(proc);
  }
}

static void close_handle(struct proc *proc, uv_handle_t *handle)
{
  if (!uv_is_closing(handle)) {
    proc->open_handles++;
    uv_close(handle, on_handle_closed);
  }
}

/* Ends the run: reports it, then closes every handle. */
static void finish(struct proc *proc)
{
  if (proc->done)
    return;
  proc->done = true;
  proc->callbacks->on_done(proc);

  /* open_handles counts pending close callbacks; one extra reference
   * keeps proc alive until all four are queued. */
  proc->open_handles++;
  close_handle(proc, (uv_handle_t *)&proc->out);
  close_handle(proc, (uv_handle_t *)&proc->err);
  close_handle(proc, (uv_handle_t *)&proc->exit_watch);
  close_handle(proc, (uv_handle_t *)&proc->term_timer);
  proc->open_handles--;
}

static void reap(struct proc *proc)
{
  int status;
  pid_t r;

  if (proc->reaped)
    return;
  do {
    r = waitpid(proc->pid, &status, 0);
  } while (r < 0 && errno == EINTR);
  proc->reaped = true;
  if (r < 0) {
    if (proc->status.wait_error == 0 && !proc->status.exited)
      proc->status.wait_error = errno;
    return;
  }
  proc->status.exited = true;
  if (WIFSIGNALED(status)) {
    proc->status.signaled = true;
    proc->status.code = WTERMSIG(status);
  } else {
    proc->status.signaled = false;
    proc->status.code = WEXITSTATUS(status);
  }
}

/* A normal run is over once the exit was observed and both pipes hit
 * EOF; a terminated run finishes in on_term_timer. */
static void maybe_finish(struct proc *proc)
{
  if (proc->term_started != 0 || proc->done)
    return;
  if ((proc->status.exited || proc->status.wait_error != 0) &&
      !proc->out_open && !proc->err_open) {
    reap(proc);
    finish(proc);
  }
}

static void observe_exit(struct proc *proc)
{
  siginfo_t info;
  int rc;

  memset(&info, 0, sizeof(info));
  /* WNOWAIT leaves the child a zombie, so its process group id cannot be
   * reused while the group may still be signalled. */
  rc = waitid(P_PID, (id_t)proc->pid, &info, WEXITED | WNOHANG | WNOWAIT);
  if (rc < 0) {
    if (errno == EINTR)
      return;
    proc->status.wait_error = errno;
  } else if (info.si_pid != proc->pid) {
    return;
  } else {
    proc->status.exited = true;
    proc->status.signaled = info.si_code != CLD_EXITED;
    proc->status.code = info.si_status;
  }
  if (proc->watching_exit) {
    uv_poll_stop(&proc->exit_watch);
    proc->watching_exit = false;
  }
  maybe_finish(proc);
}

static void on_exit_readable(uv_poll_t *handle, int status, int events)
{
  observe_exit(handle->data);
}

static uv_pipe_t *stream_pipe(struct proc *proc, int stream)
{
  return stream == 1 ? &proc->out : &proc->err;
}

static void stop_stream(struct proc *proc, int stream)
{
  uv_read_stop((uv_stream_t *)stream_pipe(proc, stream));
  if (stream == 1)
    proc->out_open = false;
  else
    proc->err_open = false;
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
  struct proc *proc = handle->data;
  int stream = handle == (uv_handle_t *)&proc->out ? 1 : 2;

  buf->base = proc->read_buf[stream - 1];
  buf->len = PROC_READ_SIZE;
}

static void on_read(uv_stream_t *handle, ssize_t nread, const uv_buf_t *buf)
{
  struct proc *proc = handle->data;
  int stream = handle == (uv_stream_t *)&proc->out ? 1 : 2;

  if (nread > 0) {
    if (proc->term_started == 0)
      proc->callbacks->on_output(proc, stream, buf->base, (size_t)nread);
    return;
  }
  if (nread == 0)
    return;

  stop_stream(proc, stream);
  if (nread != UV_EOF && proc->term_started == 0) {
    proc->status.failed_stream = stream;
    proc->status.read_error = (int)nread;
    proc_terminate(proc);
    return;
  }
  maybe_finish(proc);
}

/* Returns true when no live process (zombies aside) is left in the group.
 * kill(-pgid, 0) cannot tell, because the unreaped leader still counts. */
static bool group_gone(pid_t pgid)
{
  struct dirent *entry;
  DIR *d;
  bool gone = true;

  if (kill(-pgid, 0) < 0 && errno == ESRCH)
    return true;
  d = opendir("/proc");
  if (d == NULL)
    return false;
  while (gone && (entry = readdir(d)) != NULL) {
    char path[300], text[512], *close_paren, state;
    int pgrp, ppid;
    ssize_t n;
    int fd;

    if (entry->d_name[0] < '0' || entry->d_name[0] > '9')
      continue;
    snprintf(path, sizeof(path), "/proc/%s/stat", entry->d_name);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      continue;
    n = read(fd, text, sizeof(text) - 1);
    close(fd);
    if (n <= 0)
      continue;
    text[n] = '\0';
    /* "pid (comm) state ppid pgrp ...": comm may contain anything, so
     * parsing starts after its last ')'. */
    close_paren = strrchr(text, ')');
    if (close_paren == NULL ||
        sscanf(close_paren + 1, " %c %d %d", &state, &ppid, &pgrp) != 3)
      continue;
    if (pgrp == pgid && state != 'Z' && state != 'X')
      gone = false;
  }
  closedir(d);
  return gone;
}

static void on_term_timer(uv_timer_t *timer)
{
  struct proc *proc = timer->data;

  if (!proc->status.exited && proc->status.wait_error == 0)
    observe_exit(proc);
  if ((proc->status.exited || proc->status.wait_error != 0) &&
      group_gone(proc->pid)) {
    uv_timer_stop(timer);
    reap(proc);
    finish(proc);
    return;
  }
  if (!proc->killed &&
      uv_now(proc->loop) - proc->term_started >= (uint64_t)PROC_GRACE_MS) {
    kill(-proc->pid, SIGKILL);
    proc->killed = true;
  }
}

void proc_terminate(struct proc *proc)
{
  if (proc->done || proc->term_started != 0)
    return;
  proc->status.terminated = true;
  proc->term_started = uv_now(proc->loop);
  if (proc->term_started == 0)
    proc->term_started = 1;
  kill(-proc->pid, SIGTERM);
  /* Reading goes on, output discarded, so no process blocks on a full
   * pipe while it is being stopped. */
  proc_resume_output(proc);
  uv_timer_start(&proc->term_timer, on_term_timer, TERMINATE_POLL_MS,
                 TERMINATE_POLL_MS);
}

void proc_pause_output(struct proc *proc)
{
  if (proc->paused || proc->term_started != 0)
    return;
  proc->paused = true;
  if (proc->out_open)
    uv_read_stop((uv_stream_t *)&proc->out);
  if (proc->err_open)
    uv_read_stop((uv_stream_t *)&proc->err);
}

void proc_resume_output(struct proc *proc)
{
  if (!proc->paused)
    return;
  proc->paused = false;
  if (proc->out_open)
    uv_read_start((uv_stream_t *)&proc->out, on_alloc, on_read);
  if (proc->err_open)
    uv_read_start((uv_stream_t *)&proc->err, on_alloc, on_read);
}

static char **build_argv(const struct authz *authz,
                         const struct mr_request *req)
{
  char **argv = mr_xcalloc(req->nargs + 2, sizeof(char *));
  size_t i;

  argv[0] = authz->resolved_path;
  for (i = 0; i < req->nargs; i++) {
    if (memchr(req->args[i].data, '\0', req->args[i].len) != NULL) {
      free(argv);
      return NULL;
    }
    argv[i + 1] = req->args[i].data;
  }
  return argv;
}

static int attach_pipes(struct proc *proc, int out_fd, int err_fd)
{
  int rc;

  uv_pipe_init(proc->loop, &proc->out, 0);
  uv_pipe_init(proc->loop, &proc->err, 0);
  proc->out.data = proc->err.data = proc;
  rc = uv_pipe_open(&proc->out, out_fd);
  if (rc == 0)
    rc = uv_pipe_open(&proc->err, err_fd);
  if (rc == 0)
    rc = uv_read_start((uv_stream_t *)&proc->out, on_alloc, on_read);
  if (rc == 0)
    rc = uv_read_start((uv_stream_t *)&proc->err, on_alloc, on_read);
  return rc;
}

int proc_spawn(uv_loop_t *loop, const struct mr_config *config,
               const struct authz *authz, const struct mr_request *req,
               const struct proc_callbacks *callbacks, void *data,
               struct proc **out, char **error)
{
  int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
  struct proc *proc;
  char **argv, **envp;
  pid_t pid;
  int pidfd;

  *out = NULL;
  argv = build_argv(authz, req);
  envp = proc_build_env(config, req->env);
  if (argv == NULL || envp == NULL) {
    free(argv);
    proc_free_env(envp);
    *error = mr_xstrdup("argument or environment contains a nul byte");
    return -1;
  }

  if (pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0) {
    *error = mr_xstrdup(mr_strerror(errno));
    close_pair(out_pipe);
    close_pair(err_pipe);
    free(argv);
    proc_free_env(envp);
    return -1;
  }

  pid = fork_exec(authz, argv, envp, out_pipe, err_pipe);
  free(argv);
  proc_free_env(envp);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (pid < 0) {
    *error = mr_xstrdup(mr_strerror((int)-pid));
    close(out_pipe[0]);
    close(err_pipe[0]);
    return -1;
  }

  pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd < 0) {
    *error = mr_xstrdup(mr_strerror(errno));
    kill(-pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(out_pipe[0]);
    close(err_pipe[0]);
    return -1;
  }

  proc = mr_xcalloc(1, sizeof(*proc));
  proc->loop = loop;
  proc->callbacks = callbacks;
  proc->data = data;
  proc->pid = pid;
  proc->pidfd = pidfd;
  proc->out_open = proc->err_open = true;
  uv_timer_init(loop, &proc->term_timer);
  proc->term_timer.data = proc;
  uv_poll_init(loop, &proc->exit_watch, pidfd);
  proc->exit_watch.data = proc;
  uv_poll_start(&proc->exit_watch, UV_READABLE, on_exit_readable);
  proc->watching_exit = true;

  if (attach_pipes(proc, out_pipe[0], err_pipe[0]) < 0) {
    /* NOTE: libuv only fails here on exhausted resources; the child is
     * stopped like on a disconnect. */
    proc->status.failed_stream = 1;
    proc->status.read_error = UV_EIO;
    proc_terminate(proc);
  }
  *out = proc;
  return 0;
}

void *proc_data(const struct proc *proc)
{
  return proc->data;
}

const struct proc_status *proc_status(const struct proc *proc)
{
  return &proc->status;
}

pid_t proc_pid(const struct proc *proc)
{
  return proc->pid;
}
