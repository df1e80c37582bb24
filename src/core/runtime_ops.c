#include "config-host.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "context.h"
#include "inventory.h"
#include "mounts.h"
#include "process.h"
#include "proxyconf.h"
#include "runtime.h"
#include "runtime_ops.h"
#include "util.h"

const struct cl_runtime_spec *cl_context_spec(struct cladding_context *ctx)
{
  struct cl_identity id;

  if (!ctx->spec_ready) {
    cl_identity_current(&id);
    cl_runtime_spec_build(&ctx->config, ctx->project_root, &id,
                          cl_selinux_enabled(), &ctx->spec);
    ctx->spec_ready = true;
  }
  return &ctx->spec;
}

int cl_context_run_captured(struct cladding_context *ctx,
                            const char *const *argv,
                            struct cl_process_result *result)
{
  if (ctx->trace) {
    cleanup_free char *line = cl_shell_quote_argv(argv);

    cl_log(CLADDING_LOG_PLAIN, "+ %s", line);
  }
  return cl_process_run(argv,
                        CL_PROCESS_CAPTURE_OUT | CL_PROCESS_CAPTURE_ERR |
                            CL_PROCESS_NULL_STDIN,
                        NULL, NULL, result);
}

/* Checks one listing of the inventory and parses it into ctx->inventory. */
static int parse_listing(struct cladding_context *ctx,
                         struct cl_process_result *result, bool pods,
                         struct cl_error *err)
{
  const char *what = pods ? "podman pod ps" : "podman ps";
  int ret;

  if (cl_process_status(result) != 0) {
    cleanup_free char *stderr_text = cl_process_trimmed_err(result);
    int status = cl_process_status(result);

    cl_log(CLADDING_LOG_ERROR, "%s failed (exit code %d)", what, status);
    if (stderr_text)
      cl_log(CLADDING_LOG_PLAIN, "%s", stderr_text);
    return cl_fail(err, status, "%s failed (exit code %d)", what, status);
  }
  ret = pods ? cl_inventory_parse_pods(&ctx->inventory, result->out, err)
             : cl_inventory_parse_containers(&ctx->inventory, result->out, err);
  return ret;
}

/* Takes the container listing and, with `with_pods`, the pod listing, both
 * at once, since each podman call costs tens of milliseconds. */
static int take_listings(struct cladding_context *ctx, bool with_pods,
                         struct cl_error *err)
{
  const char *const *argvs[] = {cl_inventory_ps_argv, cl_inventory_pod_ps_argv};
  struct cl_process_result results[2];
  size_t count = with_pods ? 2 : 1;
  int ret;

  if (ctx->inventory_ready) {
    cl_inventory_free(&ctx->inventory);
    ctx->inventory_ready = false;
  }
  memset(&ctx->inventory, 0, sizeof(ctx->inventory));
  ctx->inventory_ready = true;

  for (size_t i = 0; ctx->trace && i < count; i++) {
    cleanup_free char *line = cl_shell_quote_argv(argvs[i]);

    cl_log(CLADDING_LOG_PLAIN, "+ %s", line);
  }
  ret = cl_process_run_all(argvs, count, results);
  if (ret < 0) {
    cl_log(CLADDING_LOG_ERROR, "failed to run podman ps: %s", strerror(-ret));
    return cl_fail(err, 1, "failed to run podman ps");
  }
  ret = parse_listing(ctx, &results[0], false, err);
  if (ret == 0 && count == 2)
    ret = parse_listing(ctx, &results[1], true, err);
  for (size_t i = 0; i < count; i++)
    cl_process_result_free(&results[i]);
  return ret;
}

static int take_inventory(struct cladding_context *ctx, struct cl_error *err)
{
  return take_listings(ctx, true, err);
}

/* Resolves the project state from ctx->inventory. */
static int resolve_state(struct cladding_context *ctx,
                         enum cladding_project_state *state,
                         struct cl_error *err)
{
  const struct cl_runtime_spec *spec = cl_context_spec(ctx);
  struct cl_strv expected = {0};

  if (ctx->status_ready)
    cl_project_status_free(&ctx->status);
  cl_expected_containers(&ctx->config, &expected);
  cl_project_status_resolve(&ctx->inventory, ctx->config.name,
                            spec->canonical_root, &expected, &ctx->status);
  ctx->status_ready = true;
  cl_strv_free(&expected);

  switch (ctx->status.state) {
  case CL_PROJECT_CONFLICT:
    return cl_project_status_fail_conflict(&ctx->status, err);
  case CL_PROJECT_RUNNING:
    *state = CLADDING_PROJECT_RUNNING;
    break;
  case CL_PROJECT_STOPPED:
    *state = CLADDING_PROJECT_STOPPED;
    break;
  case CL_PROJECT_INCOMPLETE:
    *state = CLADDING_PROJECT_INCOMPLETE;
    break;
  }
  return 0;
}

int cl_ops_project_state(struct cladding_context *ctx,
                         enum cladding_project_state *state,
                         struct cl_error *err)
{
  if (take_inventory(ctx, err) < 0)
    return -1;
  return resolve_state(ctx, state, err);
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
  return remove(path) < 0 ? -errno : 0;
}

/* Removes a file or a directory tree; 0 or a negative errno. */
static int remove_tree(const char *path)
{
  struct stat st;
  int ret;

  if (lstat(path, &st) < 0)
    return errno == ENOENT ? 0 : -errno;
  if (!S_ISDIR(st.st_mode))
    return unlink(path) < 0 ? -errno : 0;
  ret = nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  if (ret < 0)
    return -errno;
  return ret;
}

int cl_ops_prepare_dirs(struct cladding_context *ctx, struct cl_error *err)
{
  const struct cl_runtime_spec *spec = cl_context_spec(ctx);
  cleanup_free char *mask =
      cl_path_join(ctx->project_root, "runtime/empty-mask");
  int ret = remove_tree(spec->sockets_dir);

  if (ret < 0) {
    cl_log(CLADDING_LOG_ERROR, "failed to remove %s: %s", spec->sockets_dir,
           strerror(-ret));
    return cl_fail(err, 1, "failed to remove %s", spec->sockets_dir);
  }
  ret = cl_mkdir_p(spec->sockets_dir, 0755);
  if (ret == 0 && chmod(spec->sockets_dir, 0700) < 0)
    ret = -errno;
  for (size_t i = 0; ret == 0 && i < spec->socket_dirs.count; i++) {
    cleanup_free char *dir =
        cl_path_join(spec->sockets_dir, spec->socket_dirs.items[i]);

    ret = cl_mkdir_p(dir, 0755);
  }
  if (ret == 0)
    ret = cl_mkdir_p(mask, 0755);
  if (ret < 0) {
    cl_log(CLADDING_LOG_ERROR,
           "failed to create runtime directories under %s: %s",
           spec->sockets_dir, strerror(-ret));
    return cl_fail(err, 1, "failed to create runtime directories");
  }
  return 0;
}

int cl_ops_proxy_write(struct cladding_context *ctx, struct cl_error *err)
{
  char generation[CL_PROXY_GENERATION_SIZE];
  struct cl_proxy_lists lists;
  int ret;

  memset(&lists, 0, sizeof(lists));
  if (cl_proxy_generation_new(generation) < 0) {
    cl_log(CLADDING_LOG_ERROR, "failed to generate a random proxy generation");
    return cl_fail(err, 1, "failed to generate squid.conf");
  }
  ret = cl_proxy_lists_load(ctx->project_root, ctx->config.nw_sandbox.enabled,
                            &lists, err);
  if (ret == 0)
    ret = cl_proxy_write_runtime(ctx->project_root, ctx->config.name,
                                 generation, &lists, err);
  cl_proxy_lists_free(&lists);
  return ret;
}

/* Connects to the Unix socket at `path` without following a symbolic link
 * in its last component, and returns the connected descriptor or -1.  The
 * socket directories are writable from inside the containers, so a link
 * planted there must not lead cladding to another socket on the host.  The
 * socket inode is opened with O_PATH and reached through /proc/self/fd,
 * so it cannot be swapped between the check and the connect. */
static int connect_socket_nofollow(const char *path)
{
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  cleanup_close int inode = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  int fd;

  if (inode < 0 || fstat(inode, &st) < 0 || !S_ISSOCK(st.st_mode))
    return -1;
  snprintf(addr.sun_path, sizeof(addr.sun_path), "/proc/self/fd/%d", inode);
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int cl_ops_socket_accepts(const char *path)
{
  int fd = connect_socket_nofollow(path);

  if (fd < 0)
    return 0;
  close(fd);
  return 1;
}

int cl_ops_probe_proxy(const char *path, const char *host, int timeout_ms)
{
  cleanup_free char *request = cl_asprintf("GET http://%s/ HTTP/1.1\r\n"
                                           "Host: %s\r\n"
                                           "Connection: close\r\n\r\n",
                                           host, host);
  char reply[64];
  size_t used = 0;
  int fd, status = 0;

  fd = connect_socket_nofollow(path);
  if (fd < 0)
    return -1;
  if (send(fd, request, strlen(request), MSG_NOSIGNAL) < 0) {
    close(fd);
    return -1;
  }
  while (used < sizeof(reply) - 1) {
    struct pollfd pfd = {fd, POLLIN, 0};
    ssize_t n;

    if (poll(&pfd, 1, timeout_ms) <= 0)
      break;
    n = recv(fd, reply + used, sizeof(reply) - 1 - used, 0);
    if (n <= 0)
      break;
    used += (size_t)n;
    if (used >= 12)
      break;
  }
  close(fd);
  reply[used] = '\0';
  /* "HTTP/1.x NNN" */
  if (used >= 12 && strncmp(reply, "HTTP/1.", 7) == 0 && reply[8] == ' ' &&
      reply[9] >= '0' && reply[9] <= '9' && reply[10] >= '0' &&
      reply[10] <= '9' && reply[11] >= '0' && reply[11] <= '9')
    status =
        (reply[9] - '0') * 100 + (reply[10] - '0') * 10 + (reply[11] - '0');
  return status;
}

static double now_seconds(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_log_tail(struct cladding_context *ctx, const char *container)
{
  const char *argv[] = {"podman", "logs", "--tail", "20", container, NULL};
  struct cl_process_result result;

  cl_log(CLADDING_LOG_PLAIN, "--- podman logs --tail 20 %s ---", container);
  if (cl_context_run_captured(ctx, argv, &result) < 0)
    return;
  if (result.out && *result.out)
    fputs(result.out, cl_log_err_stream());
  if (result.err && *result.err)
    fputs(result.err, cl_log_err_stream());
  fflush(cl_log_err_stream());
  cl_process_result_free(&result);
}

/* The container whose socket `rel` is: the one that listens on it. */
static const char *owner_of_socket(const struct cl_runtime_spec *spec,
                                   const char *rel)
{
  enum cl_container_role role = CL_CONTAINER_BRIDGE;
  const struct cl_container_spec *c;

  if (strcmp(rel, "run/nw-sandbox/run.sock") == 0)
    role = CL_CONTAINER_NW_SANDBOX;
  else if (strcmp(rel, "run/fs-sandbox/run.sock") == 0)
    role = CL_CONTAINER_FS_SANDBOX;
  c = cl_runtime_spec_container(spec, role);
  return c ? c->name : NULL;
}

int cl_ops_wait_ready(struct cladding_context *ctx, int timeout,
                      struct cl_error *err)
{
  const struct cl_runtime_spec *spec = cl_context_spec(ctx);
  double deadline = now_seconds() + timeout;
  struct cl_strv missing = {0};
  struct cl_strv logs = {0};
  bool ready = false;

  for (;;) {
    cl_strv_free(&missing);
    cl_strv_free(&logs);
    for (size_t i = 0; i < spec->ready_sockets.count; i++) {
      const char *rel = spec->ready_sockets.items[i];
      cleanup_free char *path = cl_path_join(spec->sockets_dir, rel);

      if (!cl_ops_socket_accepts(path)) {
        const char *owner = owner_of_socket(spec, rel);

        cl_strv_push_owned(&missing, cl_asprintf("socket %s", rel));
        if (owner)
          cl_strv_push(&logs, owner);
      }
    }
    for (size_t i = 0; missing.count == 0 && i < spec->listener_count; i++) {
      cleanup_free char *path =
          cl_path_join(spec->sockets_dir, spec->listeners[i].socket);

      if (cl_ops_probe_proxy(path, "cladding-probe.invalid", 2000) <= 0) {
        cl_strv_push_owned(&missing, cl_asprintf("squid listener %d",
                                                 spec->listeners[i].port));
        cl_strv_push(&logs, spec->containers[0].name);
      }
    }
    if (missing.count == 0) {
      ready = true;
      break;
    }
    if (cl_ops_interrupted(ctx) || now_seconds() >= deadline)
      break;
    usleep(100 * 1000);
    if (cl_ops_interrupted(ctx))
      break;
  }

  if (ready) {
    enum cladding_project_state state;

    /* Every expected container must still run: an agent whose listener
     * failed has exited by now.  The pod listing does not change the result. */
    if (take_listings(ctx, false, err) < 0 ||
        resolve_state(ctx, &state, err) < 0)
      return -1;
    for (size_t i = 0; i < ctx->status.expected.count; i++) {
      const char *state_text = ctx->status.expected_states.items[i];

      if (strcmp(state_text, "running") == 0)
        continue;
      cl_strv_push_owned(&missing, cl_asprintf("container %s (%s)",
                                               ctx->status.expected.items[i],
                                               state_text));
      cl_strv_push(&logs, ctx->status.expected.items[i]);
    }
    if (missing.count == 0)
      return 0;
  }

  if (cl_ops_interrupted(ctx)) {
    cl_strv_free(&missing);
    cl_strv_free(&logs);
    return cl_fail(err, 128 + cl_ops_interrupted(ctx), "interrupted");
  }
  {
    size_t len = 1;
    char *items;

    for (size_t i = 0; i < missing.count; i++)
      len += strlen(missing.items[i]) + 2;
    items = cl_xcalloc(1, len);
    for (size_t i = 0; i < missing.count; i++) {
      if (i)
        strcat(items, ", ");
      strcat(items, missing.items[i]);
    }
    cl_log(CLADDING_LOG_ERROR, "timed out after %d s waiting for %s", timeout,
           items);
    free(items);
  }
  for (size_t i = 0; i < logs.count; i++) {
    bool seen = false;

    for (size_t j = 0; j < i; j++)
      seen = seen || strcmp(logs.items[i], logs.items[j]) == 0;
    if (!seen)
      print_log_tail(ctx, logs.items[i]);
  }
  cl_strv_free(&missing);
  cl_strv_free(&logs);
  return cl_fail(err, 1, "timed out waiting for the runtime to become ready");
}

/* Runs a removal; returns 0 when done or already gone, else the status. */
static int remove_resource(struct cladding_context *ctx, char **argv,
                           char **stderr_text)
{
  struct cl_process_result result;
  int ret = cl_context_run_captured(ctx, (const char *const *)argv, &result);
  int status;

  *stderr_text = NULL;
  if (ret < 0) {
    *stderr_text = cl_xstrdup(strerror(-ret));
    return 1;
  }
  status = cl_process_status(&result);
  if (status != 0 && result.err && cl_podman_reports_missing(result.err))
    status = 0;
  if (status != 0)
    *stderr_text = cl_process_trimmed_err(&result);
  cl_process_result_free(&result);
  return status;
}

int cl_ops_down(struct cladding_context *ctx, struct cl_error *err)
{
  const struct cl_runtime_spec *spec = cl_context_spec(ctx);
  struct cl_strv containers = {0}, pods = {0};
  size_t failed = 0, total;
  int ret;

  if (take_inventory(ctx, err) < 0)
    return -1;
  cl_down_targets(&ctx->inventory, ctx->config.name, spec->canonical_root,
                  &containers, &pods);
  total = containers.count + pods.count + 1;

  for (size_t i = 0; i < containers.count + pods.count; i++) {
    bool is_pod = i >= containers.count;
    const char *name =
        is_pod ? pods.items[i - containers.count] : containers.items[i];
    char **argv =
        is_pod ? cl_podman_pod_rm_argv(name) : cl_podman_rm_argv(name);
    cleanup_free char *stderr_text = NULL;
    int status = remove_resource(ctx, argv, &stderr_text);

    cl_argv_free(argv);
    if (status == 0)
      continue;
    failed++;
    cl_log(CLADDING_LOG_ERROR, "%s failed for %s (exit code %d)",
           is_pod ? "podman pod rm" : "podman rm", name, status);
    if (stderr_text)
      cl_log(CLADDING_LOG_PLAIN, "%s", stderr_text);
  }

  ret = remove_tree(spec->sockets_dir);
  if (ret < 0) {
    failed++;
    cl_log(CLADDING_LOG_ERROR, "failed to remove %s: %s", spec->sockets_dir,
           strerror(-ret));
  }
  cl_strv_free(&containers);
  cl_strv_free(&pods);
  if (failed)
    return cl_fail(err, 1,
                   "down incomplete: %zu of %zu items could not be "
                   "removed",
                   failed, total);
  return 0;
}

void cl_ops_rollback(struct cladding_context *ctx,
                     const char *const *containers, const char *pod)
{
  const struct cl_runtime_spec *spec = cl_context_spec(ctx);
  cleanup_free char *proxy_dir =
      cl_path_join(ctx->project_root, "runtime/proxy");
  const char *dirs[] = {spec->sockets_dir, proxy_dir};
  bool hinted = false;
  size_t count = 0;

  while (containers && containers[count])
    count++;
  for (size_t i = count + 1; i > 0; i--) {
    bool is_pod = i == count + 1;
    const char *name = is_pod ? pod : containers[i - 1];
    char **argv;
    cleanup_free char *stderr_text = NULL;

    if (name == NULL)
      continue;
    argv = is_pod ? cl_podman_pod_rm_argv(name) : cl_podman_rm_argv(name);
    if (remove_resource(ctx, argv, &stderr_text) != 0) {
      cl_log(CLADDING_LOG_WARNING, "rollback could not remove %s: %s", name,
             stderr_text ? stderr_text : "unknown error");
      hinted = true;
    }
    cl_argv_free(argv);
  }
  for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
    int ret = remove_tree(dirs[i]);

    if (ret < 0) {
      cl_log(CLADDING_LOG_WARNING, "rollback could not remove %s: %s", dirs[i],
             strerror(-ret));
      hinted = true;
    }
  }
  if (hinted)
    cl_log(CLADDING_LOG_HINT, "run 'cladding down'");
}

static volatile sig_atomic_t caught_signal;

static void record_signal(int signum)
{
  caught_signal = signum;
}

void cl_ops_catch_signals(struct cladding_context *ctx, int on)
{
  static const int signals[] = {SIGINT, SIGTERM, SIGHUP};
  struct sigaction action;

  memset(&action, 0, sizeof(action));
  action.sa_handler = on ? record_signal : SIG_DFL;
  sigemptyset(&action.sa_mask);
  for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
    sigaction(signals[i], &action, NULL);
  if (!on && caught_signal && !ctx->interrupted)
    ctx->interrupted = caught_signal;
}

int cl_ops_interrupted(struct cladding_context *ctx)
{
  return ctx->interrupted ? ctx->interrupted : caught_signal;
}

int cl_ops_ps(struct cladding_context *ctx, int json, struct cl_error *err)
{
  cleanup_free char *text = NULL;

  if (take_inventory(ctx, err) < 0)
    return -1;
  text = json ? cl_ps_render_json(&ctx->inventory)
              : cl_ps_render_text(&ctx->inventory);
  fputs(text, cl_log_out_stream());
  fflush(cl_log_out_stream());
  return 0;
}

/* Runs `podman exec <proxy> squid -k parse` on the next/ configuration. */
static int squid_parse_next(struct cladding_context *ctx, const char *proxy,
                            struct cl_error *err)
{
  const char *argv[] = {"podman", "exec",  proxy, "squid",
                        "-k",     "parse", "-f",  CL_PROXY_NEXT_SQUID_CONF,
                        NULL};
  struct cl_process_result result;
  int ret = cl_context_run_captured(ctx, argv, &result);
  int status;

  if (ret < 0) {
    cl_log(CLADDING_LOG_ERROR, "failed to run podman exec: %s", strerror(-ret));
    return cl_fail(err, 1, "failed to run podman exec");
  }
  status = cl_process_status(&result);
  if (status != 0) {
    cleanup_free char *stderr_text = cl_process_trimmed_err(&result);

    cl_log(CLADDING_LOG_ERROR, "squid rejected the generated configuration");
    if (stderr_text)
      cl_log(CLADDING_LOG_PLAIN, "%s", stderr_text);
    cl_process_result_free(&result);
    return cl_fail(err, status, "squid -k parse failed (exit code %d)", status);
  }
  cl_process_result_free(&result);
  return 0;
}

static int signal_squid(struct cladding_context *ctx, const char *proxy,
                        struct cl_error *err)
{
  const char *argv[] = {"podman", "kill", "--signal", "HUP", proxy, NULL};
  struct cl_process_result result;
  int ret = cl_context_run_captured(ctx, argv, &result);
  int status;

  if (ret < 0) {
    cl_log(CLADDING_LOG_ERROR, "failed to run podman kill: %s", strerror(-ret));
    return cl_fail(err, 1, "failed to run podman kill");
  }
  status = cl_process_status(&result);
  if (status != 0) {
    cleanup_free char *stderr_text = cl_process_trimmed_err(&result);

    cl_log(CLADDING_LOG_ERROR, "podman kill failed (exit code %d)", status);
    if (stderr_text)
      cl_log(CLADDING_LOG_PLAIN, "%s", stderr_text);
  }
  cl_process_result_free(&result);
  if (status != 0)
    return cl_fail(err, status, "podman kill failed (exit code %d)", status);
  return 0;
}

/* Waits until every bridged listener resets the probe of `generation`. */
static int wait_generation(struct cladding_context *ctx, const char *proxy,
                           const char *generation, int timeout,
                           struct cl_error *err)
{
  const struct cl_runtime_spec *spec = cl_context_spec(ctx);
  cleanup_free char *host = cl_proxy_probe_host(generation);
  double deadline = now_seconds() + timeout;
  const char *unreachable = NULL;

  for (;;) {
    bool live = true;

    unreachable = NULL;
    for (size_t i = 0; live && i < spec->listener_count; i++) {
      cleanup_free char *path =
          cl_path_join(spec->sockets_dir, spec->listeners[i].socket);
      int reply = cl_ops_probe_proxy(path, host, 2000);

      live = reply == 0;
      if (reply < 0)
        unreachable = spec->listeners[i].socket;
    }
    if (live)
      return 0;
    if (now_seconds() >= deadline)
      break;
    usleep(100 * 1000);
  }
  /* A socket that accepts no connection cannot show whether Squid reloaded. */
  if (unreachable != NULL) {
    cl_log(CLADDING_LOG_ERROR,
           "socket %s did not accept connections within %d s, so the new "
           "configuration could not be confirmed",
           unreachable, timeout);
    cl_log(CLADDING_LOG_HINT, "run 'cladding down', then 'cladding up'");
    return cl_fail(err, 1, "could not confirm the new proxy configuration");
  }
  cl_log(CLADDING_LOG_ERROR,
         "squid did not load the new configuration within %d s", timeout);
  print_log_tail(ctx, proxy);
  return cl_fail(err, 1, "squid did not load the new configuration");
}

int cl_ops_proxy_reload(struct cladding_context *ctx, int timeout,
                        struct cl_error *err)
{
  const struct cl_container_spec *proxy =
      cl_runtime_spec_container(cl_context_spec(ctx), CL_CONTAINER_PROXY);
  char generation[CL_PROXY_GENERATION_SIZE];
  struct cl_proxy_lists lists;
  struct cl_error ignored = {0};
  int ret;

  memset(&lists, 0, sizeof(lists));
  ret = cl_proxy_lists_load(ctx->project_root, ctx->config.nw_sandbox.enabled,
                            &lists, err);
  if (ret == 0 && cl_proxy_generation_new(generation) < 0) {
    cl_log(CLADDING_LOG_ERROR, "failed to generate a random proxy generation");
    ret = cl_fail(err, 1, "failed to generate squid.conf");
  }
  if (ret == 0)
    ret = cl_proxy_write_next(ctx->project_root, ctx->config.name, generation,
                              &lists, err);
  cl_proxy_lists_free(&lists);
  if (ret < 0)
    return -1;

  if (squid_parse_next(ctx, proxy->name, err) < 0) {
    cl_proxy_remove_next(ctx->project_root, &ignored);
    cl_error_clear(&ignored);
    return -1;
  }
  if (cl_proxy_commit_next(ctx->project_root, ctx->config.name, generation,
                           err) < 0)
    return -1;
  if (signal_squid(ctx, proxy->name, err) < 0)
    return -1;
  if (wait_generation(ctx, proxy->name, generation, timeout, err) < 0)
    return -1;
  cl_log(CLADDING_LOG_OUT, "reloaded proxy configuration: %s",
         ctx->config.name);
  return 0;
}

static enum cl_container_role role_of(enum cladding_component component)
{
  switch (component) {
  case CLADDING_COMPONENT_AGENT:
    return CL_CONTAINER_AGENT;
  case CLADDING_COMPONENT_NW_SANDBOX:
    return CL_CONTAINER_NW_SANDBOX;
  case CLADDING_COMPONENT_FS_SANDBOX:
    return CL_CONTAINER_FS_SANDBOX;
  case CLADDING_COMPONENT_PROXY:
    break;
  }
  return CL_CONTAINER_PROXY;
}

int cl_ops_require_running(struct cladding_context *ctx,
                           enum cladding_component component,
                           struct cl_error *err)
{
  enum cladding_project_state state;
  const struct cl_inv_container *found;
  cleanup_free char *name = NULL;
  const char *word = cl_component_word(component);

  /* A running target container means the project is running or
   * incomplete, which the container listing alone decides.  The pod
   * listing only separates a stopped project from leftover pods.  Skipping it
   * saves one podman call on every run. */
  name = cl_container_name(ctx->config.name, role_of(component));
  if (take_listings(ctx, false, err) < 0)
    return -1;
  found = cl_inventory_find_container(&ctx->inventory, name,
                                      cl_context_spec(ctx)->canonical_root);
  if ((found == NULL || strcmp(found->state, "running") != 0) &&
      take_listings(ctx, true, err) < 0)
    return -1;
  if (resolve_state(ctx, &state, err) < 0)
    return -1;
  if (state == CLADDING_PROJECT_STOPPED) {
    cl_log(CLADDING_LOG_ERROR, "cladding project '%s' is not running",
           ctx->config.name);
    cl_log(CLADDING_LOG_HINT, "run 'cladding up'");
    return cl_fail(err, 1, "project is not running");
  }

  found = cl_inventory_find_container(&ctx->inventory, name,
                                      cl_context_spec(ctx)->canonical_root);
  if (found == NULL) {
    cl_log(CLADDING_LOG_ERROR,
           "target container '%s' is missing for project '%s'", name,
           ctx->config.name);
    cl_log(CLADDING_LOG_HINT, "run 'cladding down', then 'cladding up'");
    return cl_fail(err, 1, "missing %s container", word);
  }
  if (strcmp(found->state, "running") != 0) {
    cl_log(CLADDING_LOG_ERROR,
           "target container '%s' is not running (state %s) for project '%s'",
           name, found->state, ctx->config.name);
    cl_log(CLADDING_LOG_HINT, "run 'cladding down', then 'cladding up'");
    return cl_fail(err, 1, "%s container is not running", word);
  }
  if (state == CLADDING_PROJECT_INCOMPLETE)
    cl_log(CLADDING_LOG_WARNING,
           "cladding project '%s' has an incomplete runtime", ctx->config.name);
  return 0;
}

/* State of a spawn whose first SIGINT or SIGTERM runs a stop command. */
struct stop_request {
  const char *const *stop_argv;
  bool done;
};

static void run_stop_command(int signum, int pid, void *data)
{
  struct stop_request *request = data;
  struct cl_process_result result;

  caught_signal = signum;
  if (signum == SIGHUP || request->done)
    return;
  request->done = true;
  if (cl_process_run(request->stop_argv,
                     CL_PROCESS_CAPTURE_OUT | CL_PROCESS_CAPTURE_ERR |
                         CL_PROCESS_NULL_STDIN,
                     NULL, NULL, &result) < 0) {
    cl_log(CLADDING_LOG_WARNING, "failed to run %s to stop the command",
           request->stop_argv[0]);
    return;
  }
  if (cl_process_status(&result) != 0) {
    cleanup_free char *stderr_text = cl_process_trimmed_err(&result);

    cl_log(CLADDING_LOG_WARNING,
           "stopping the command failed (exit code %d)%s%s",
           cl_process_status(&result), stderr_text ? ": " : "",
           stderr_text ? stderr_text : "");
  }
  cl_process_result_free(&result);
}

int cl_ops_spawn_with_stop(const char *const *argv,
                           const char *const *stop_argv,
                           struct cl_process_result *result)
{
  struct stop_request request = {stop_argv, false};

  return cl_process_run(argv, 0, run_stop_command, &request, result);
}
