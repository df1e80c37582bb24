#include "config-host.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "process.h"
#include "util.h"

/* One growing capture buffer for a pipe. */
struct capture {
  uv_pipe_t pipe;
  char *data;
  size_t len;
  size_t cap;
  int open;
};

struct child {
  uv_process_t process;
  struct capture out;
  struct capture err;
  uv_signal_t signals[3];
  int signal_count;
  int exited;
  int64_t exit_status;
  int term_signal;
  cl_signal_cb on_signal;
  void *data;
};

static void alloc_cb(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
  struct capture *capture = handle->data;

  if (capture->cap - capture->len < 4096) {
    capture->cap = capture->cap ? capture->cap * 2 : 8192;
    capture->data = cl_xrealloc(capture->data, capture->cap);
  }
  buf->base = capture->data + capture->len;
  buf->len = capture->cap - capture->len - 1;
}

static void close_noop(uv_handle_t *handle)
{
}

static void read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
  struct capture *capture = stream->data;

  if (nread > 0) {
    capture->len += (size_t)nread;
    return;
  }
  if (nread < 0) {
    uv_read_stop(stream);
    uv_close((uv_handle_t *)stream, close_noop);
    capture->open = 0;
  }
}

static void exit_cb(uv_process_t *process, int64_t exit_status, int term_signal)
{
  struct child *child = process->data;

  child->exited = 1;
  child->exit_status = exit_status;
  child->term_signal = term_signal;
  for (int i = 0; i < child->signal_count; i++)
    uv_close((uv_handle_t *)&child->signals[i], close_noop);
  uv_close((uv_handle_t *)process, close_noop);
}

static void signal_cb(uv_signal_t *handle, int signum)
{
  struct child *child = handle->data;

  if (child->exited)
    return;
  child->on_signal(signum, child->process.pid, child->data);
}

static void setup_capture(uv_loop_t *loop, struct capture *capture,
                          uv_stdio_container_t *stdio, int fd)
{
  uv_pipe_init(loop, &capture->pipe, 0);
  capture->pipe.data = capture;
  capture->open = 1;
  stdio->flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
  stdio->data.stream = (uv_stream_t *)&capture->pipe;
  (void)fd;
}

static char *finish_capture(struct capture *capture, size_t *len)
{
  if (capture->data == NULL)
    capture->data = cl_xmalloc(1);
  capture->data[capture->len] = '\0';
  *len = capture->len;
  return capture->data;
}

int cl_process_run(const char *const *argv, unsigned flags,
                   cl_signal_cb on_signal, void *data,
                   struct cl_process_result *result)
{
  static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP};
  uv_stdio_container_t stdio[3];
  uv_process_options_t options;
  struct child child;
  uv_loop_t loop;
  int ret;

  memset(result, 0, sizeof(*result));
  memset(&child, 0, sizeof(child));
  memset(&options, 0, sizeof(options));
  if (uv_loop_init(&loop) < 0)
    return -ENOMEM;

  stdio[0].flags = UV_INHERIT_FD;
  stdio[0].data.fd = 0;
  if (flags & CL_PROCESS_NULL_STDIN)
    stdio[0].flags = UV_IGNORE;
  stdio[1].flags = UV_INHERIT_FD;
  stdio[1].data.fd = 1;
  stdio[2].flags = UV_INHERIT_FD;
  stdio[2].data.fd = 2;
  if (flags & CL_PROCESS_CAPTURE_OUT)
    setup_capture(&loop, &child.out, &stdio[1], 1);
  if (flags & CL_PROCESS_CAPTURE_ERR)
    setup_capture(&loop, &child.err, &stdio[2], 2);

  options.file = argv[0];
  options.args = (char **)argv;
  options.exit_cb = exit_cb;
  options.stdio = stdio;
  options.stdio_count = 3;
  child.process.data = &child;
  child.on_signal = on_signal;
  child.data = data;

  ret = uv_spawn(&loop, &child.process, &options);
  if (ret < 0) {
    /* uv_spawn initialised the process handle; the pipes need closing. */
    uv_close((uv_handle_t *)&child.process, close_noop);
    if (child.out.open)
      uv_close((uv_handle_t *)&child.out.pipe, close_noop);
    if (child.err.open)
      uv_close((uv_handle_t *)&child.err.pipe, close_noop);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    free(child.out.data);
    free(child.err.data);
    return ret;
  }

  if (on_signal != NULL) {
    for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++) {
      uv_signal_t *handle = &child.signals[child.signal_count];

      uv_signal_init(&loop, handle);
      handle->data = &child;
      if (uv_signal_start(handle, signal_cb, forwarded[i]) == 0)
        child.signal_count++;
      else
        uv_close((uv_handle_t *)handle, close_noop);
    }
  }
  if (child.out.open)
    uv_read_start((uv_stream_t *)&child.out.pipe, alloc_cb, read_cb);
  if (child.err.open)
    uv_read_start((uv_stream_t *)&child.err.pipe, alloc_cb, read_cb);

  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);

  result->exit_status = (int)child.exit_status;
  result->term_signal = child.term_signal;
  if (flags & CL_PROCESS_CAPTURE_OUT)
    result->out = finish_capture(&child.out, &result->out_len);
  if (flags & CL_PROCESS_CAPTURE_ERR)
    result->err = finish_capture(&child.err, &result->err_len);
  return 0;
}

/* Starts one captured child of cl_process_run_all on `loop`. */
static int start_captured(uv_loop_t *loop, struct child *child,
                          const char *const *argv)
{
  uv_stdio_container_t stdio[3];
  uv_process_options_t options;
  int ret;

  memset(&options, 0, sizeof(options));
  stdio[0].flags = UV_IGNORE;
  setup_capture(loop, &child->out, &stdio[1], 1);
  setup_capture(loop, &child->err, &stdio[2], 2);
  options.file = argv[0];
  options.args = (char **)argv;
  options.exit_cb = exit_cb;
  options.stdio = stdio;
  options.stdio_count = 3;
  child->process.data = child;

  ret = uv_spawn(loop, &child->process, &options);
  if (ret < 0) {
    uv_close((uv_handle_t *)&child->process, close_noop);
    uv_close((uv_handle_t *)&child->out.pipe, close_noop);
    uv_close((uv_handle_t *)&child->err.pipe, close_noop);
    child->out.open = child->err.open = 0;
    return ret;
  }
  uv_read_start((uv_stream_t *)&child->out.pipe, alloc_cb, read_cb);
  uv_read_start((uv_stream_t *)&child->err.pipe, alloc_cb, read_cb);
  return 0;
}

int cl_process_run_all(const char *const *const *argvs, size_t count,
                       struct cl_process_result *results)
{
  struct child *children = cl_xcalloc(count, sizeof(*children));
  uv_loop_t loop;
  int first_error = 0;

  memset(results, 0, count * sizeof(*results));
  if (uv_loop_init(&loop) < 0) {
    free(children);
    return -ENOMEM;
  }
  for (size_t i = 0; i < count; i++) {
    int ret = start_captured(&loop, &children[i], argvs[i]);

    if (ret < 0 && first_error == 0)
      first_error = ret;
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);

  for (size_t i = 0; i < count; i++) {
    if (first_error == 0) {
      results[i].exit_status = (int)children[i].exit_status;
      results[i].term_signal = children[i].term_signal;
      results[i].out = finish_capture(&children[i].out, &results[i].out_len);
      results[i].err = finish_capture(&children[i].err, &results[i].err_len);
    } else {
      free(children[i].out.data);
      free(children[i].err.data);
    }
  }
  free(children);
  return first_error;
}

void cl_process_result_free(struct cl_process_result *result)
{
  free(result->out);
  free(result->err);
  memset(result, 0, sizeof(*result));
}

int cl_process_status(const struct cl_process_result *result)
{
  if (result->term_signal != 0)
    return 128 + result->term_signal;
  return result->exit_status;
}

char *cl_process_trimmed_err(const struct cl_process_result *result)
{
  const char *start = result->err;
  size_t len;

  if (start == NULL)
    return NULL;
  while (*start && isspace((unsigned char)*start))
    start++;
  len = strlen(start);
  while (len > 0 && isspace((unsigned char)start[len - 1]))
    len--;
  if (len == 0)
    return NULL;
  return cl_xstrndup(start, len);
}
