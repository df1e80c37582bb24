/* run-remote: sends one command request to mcp-run, replays the output
 * and exits with the remote status (125 for any local, HTTP, transport
 * or protocol error). */
#include "config-host.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "args.h"
#include "http.h"
#include "ndjson.h"
#include "rr_util.h"
#include "url.h"

#define EXIT_LOCAL_ERROR 125

static volatile sig_atomic_t caught_signal;

/* Closing the connection is what stops the remote command: mcp-run
 * terminates the process group of a client that went away. */
static void on_signal(int signum)
{
  int fd = rr_http_socket;

  caught_signal = signum;
  if (fd >= 0)
    shutdown(fd, SHUT_RDWR);
}

static void install_signals(void)
{
  struct sigaction sa;

  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
}

static int report(const char *message)
{
  fprintf(stderr, "%s\n", message);
  return EXIT_LOCAL_ERROR;
}

/* Dies by the caught signal, as an interrupted program does. */
static void reraise_caught_signal(void)
{
  if (caught_signal == 0)
    return;
  signal(caught_signal, SIG_DFL);
  raise(caught_signal);
}

struct transport {
  char *socket_path;
  struct rr_url url;
  bool use_url;
};

static int setup_transport(struct transport *t, char **error)
{
  char *server = rr_getenv_trimmed("RUN_REMOTE_SERVER");
  char *socket_path = rr_getenv_trimmed("RUN_REMOTE_SOCKET");
  int rc = 0;

  memset(t, 0, sizeof(*t));
  if (server != NULL && socket_path != NULL) {
    *error = rr_xstrdup(
        "RUN_REMOTE_SERVER and RUN_REMOTE_SOCKET cannot both be set");
    rc = -1;
  } else if (socket_path != NULL) {
    if (socket_path[0] != '/') {
      *error = rr_asprintf("RUN_REMOTE_SOCKET must be an absolute path: %s",
                           socket_path);
      rc = -1;
    } else {
      t->socket_path = socket_path;
      socket_path = NULL;
    }
  } else if (server == NULL) {
    *error = rr_xstrdup("RUN_REMOTE_SERVER must be set");
    rc = -1;
  } else if (rr_url_parse(server, &t->url) < 0) {
    *error = rr_xstrdup("RUN_REMOTE_SERVER must be a full URL (example: "
                        "http://127.0.0.1:8000/raw)");
    rc = -1;
  } else {
    t->use_url = true;
  }
  free(server);
  free(socket_path);
  return rc;
}

static void transport_free(struct transport *t)
{
  free(t->socket_path);
  if (t->use_url)
    rr_url_free(&t->url);
}

static int compare_names(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads the --keep-env variables; all missing names are reported at
 * once, sorted. */
static json_t *read_env(const struct rr_args *args, char **error)
{
  json_t *env = json_object();
  char **names = rr_xmalloc((args->nkeep_env + 1) * sizeof(char *));
  char **missing = rr_xmalloc((args->nkeep_env + 1) * sizeof(char *));
  size_t nmissing = 0, i;

  /* The request lists env keys sorted. */
  for (i = 0; i < args->nkeep_env; i++)
    names[i] = args->keep_env[i];
  qsort(names, args->nkeep_env, sizeof(char *), compare_names);
  for (i = 0; i < args->nkeep_env; i++) {
    const char *value = getenv(names[i]);

    /* An empty value counts as set; one that is not UTF-8 as unset. */
    if (value == NULL || !rr_utf8_valid(value, strlen(value)))
      missing[nmissing++] = names[i];
    else
      json_object_set_new(env, names[i], json_string(value));
  }
  free(names);
  if (nmissing > 0) {
    size_t len = 0;
    char *list;

    for (i = 0; i < nmissing; i++)
      len += strlen(missing[i]) + 2;
    list = rr_xmalloc(len + 1);
    list[0] = '\0';
    for (i = 0; i < nmissing; i++) {
      if (i > 0)
        strcat(list, ", ");
      strcat(list, missing[i]);
    }
    *error = rr_asprintf("local environment variable(s) are not set: %s", list);
    free(list);
    json_decref(env);
    env = NULL;
  }
  free(missing);
  return env;
}

static char *build_payload(const struct rr_args *args, json_t *env,
                           char **error)
{
  json_t *doc = json_object();
  json_t *argv = json_array();
  char *cwd = getcwd(NULL, 0);
  char *text;
  size_t i;

  if (cwd == NULL) {
    *error = rr_asprintf("failed to determine current working directory: %s",
                         strerror(errno));
    json_decref(doc);
    json_decref(argv);
    json_decref(env);
    return NULL;
  }
  for (i = 0; i < args->nargs; i++)
    json_array_append_new(argv, rr_json_string_lossy(args->args[i]));
  json_object_set_new(doc, "executable",
                      rr_json_string_lossy(args->executable));
  json_object_set_new(doc, "args", argv);
  json_object_set_new(doc, "cwd", rr_json_string_lossy(cwd));
  json_object_set_new(doc, "env", env);
  free(cwd);
  text = json_dumps(doc, JSON_COMPACT);
  json_decref(doc);
  return text;
}

/* Responses. */

struct response {
  int status;
  bool check;
  struct ndjson_stream stream;
  char *body;
  size_t body_len;
};

static int write_all(int fd, const void *data, size_t len)
{
  const char *p = data;

  while (len > 0) {
    ssize_t n = write(fd, p, len);

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -errno;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static int write_output(void *ctx, int stream, const void *data, size_t len)
{
  return write_all(stream == 1 ? STDOUT_FILENO : STDERR_FILENO, data, len);
}

static int on_status(void *ctx, int status)
{
  struct response *r = ctx;

  r->status = status;
  return 0;
}

static int on_body(void *ctx, const char *data, size_t len)
{
  struct response *r = ctx;

  if (r->status >= 200 && r->status < 300 && !r->check)
    return ndjson_feed(&r->stream, data, len) == NDJSON_MORE ? 0 : 1;
  r->body = rr_xrealloc(r->body, r->body_len + len + 1);
  memcpy(r->body + r->body_len, data, len);
  r->body_len += len;
  r->body[r->body_len] = '\0';
  return 0;
}

static int rejection(const struct response *r)
{
  const char *body = r->body != NULL ? r->body : "";
  json_t *doc = json_loadb(body, r->body_len, 0, NULL);
  const char *error = json_string_value(json_object_get(doc, "error"));
  char *message =
      error != NULL ? rr_xstrdup(error) : rr_trim(body, r->body_len);

  fprintf(stderr, "server rejected request (%d %s): %s\n", r->status,
          rr_reason_phrase(r->status), message);
  free(message);
  json_decref(doc);
  return EXIT_LOCAL_ERROR;
}

static json_t *optional_string(json_t *decision, const char *key, bool *ok)
{
  json_t *value = json_object_get(decision, key);

  if (value == NULL || json_is_null(value))
    return json_null();
  if (!json_is_string(value)) {
    *ok = false;
    return json_null();
  }
  return json_incref(value);
}

/* Prints the decision of check mode in its fixed key order. */
static int print_decision(const struct response *r)
{
  json_error_t error;
  json_t *doc =
      json_loadb(r->body != NULL ? r->body : "", r->body_len, 0, &error);
  json_t *allowed = json_object_get(doc, "allowed");
  json_t *executable = json_object_get(doc, "executable");
  json_t *mode = json_object_get(doc, "policyMode");
  json_t *out;
  bool ok = true;
  char *text;
  int rc;

  if (doc == NULL || !json_is_object(doc) || !json_is_boolean(allowed) ||
      !json_is_string(executable) || !json_is_string(mode)) {
    fprintf(stderr, "stream protocol error: invalid decision JSON: %s\n",
            doc == NULL ? error.text
                        : "expected `allowed` (boolean), `executable` and "
                          "`policyMode` (strings)");
    json_decref(doc);
    return EXIT_LOCAL_ERROR;
  }
  out = json_object();
  json_object_set(out, "allowed", allowed);
  json_object_set_new(out, "reason", optional_string(doc, "reason", &ok));
  json_object_set(out, "executable", executable);
  json_object_set_new(out, "resolvedPath",
                      optional_string(doc, "resolvedPath", &ok));
  json_object_set_new(out, "hash", optional_string(doc, "hash", &ok));
  json_object_set_new(out, "cwd", optional_string(doc, "cwd", &ok));
  json_object_set(out, "policyMode", mode);
  if (!ok) {
    fprintf(stderr, "stream protocol error: invalid decision JSON: "
                    "`reason`, `resolvedPath`, `hash` and `cwd` must be "
                    "strings or null\n");
    json_decref(out);
    json_decref(doc);
    return EXIT_LOCAL_ERROR;
  }

  text = json_dumps(out, JSON_COMPACT);
  rc = write_all(STDOUT_FILENO, text, strlen(text));
  if (rc == 0)
    rc = write_all(STDOUT_FILENO, "\n", 1);
  free(text);
  if (rc < 0) {
    fprintf(stderr, "failed to write output: %s\n", strerror(-rc));
    rc = EXIT_LOCAL_ERROR;
  } else {
    rc = json_is_true(allowed) ? 0 : 1;
  }
  json_decref(out);
  json_decref(doc);
  return rc;
}

static int finish_stream(struct response *r, enum rr_http_result result)
{
  enum ndjson_result stream = NDJSON_MORE;

  if (r->stream.finished)
    stream = r->stream.error != NULL ? NDJSON_ERROR : NDJSON_EXIT;
  else if (result == RR_HTTP_COMPLETE)
    stream = ndjson_finish(&r->stream);
  if (stream == NDJSON_EXIT)
    return r->stream.exit_status;
  if (stream == NDJSON_ERROR)
    return report(r->stream.error);
  return EXIT_LOCAL_ERROR;
}

static int run(const struct rr_args *args, const struct transport *t,
               const char *payload)
{
  struct rr_response_handler handler;
  struct rr_target target;
  struct response r;
  enum rr_http_result result;
  char *request_target;
  char *error = NULL;
  int status;

  memset(&r, 0, sizeof(r));
  r.check = args->check;
  ndjson_init(&r.stream, write_output, NULL);
  memset(&target, 0, sizeof(target));
  if (t->use_url) {
    request_target =
        args->check ? rr_url_check_target(&t->url) : rr_url_target(&t->url);
    target.host = t->url.host;
    target.port = t->url.port;
    target.host_header = t->url.host_header;
  } else {
    request_target = rr_xstrdup(args->check ? "/check" : "/raw");
    target.socket_path = t->socket_path;
    target.host_header = "localhost";
  }
  target.request_target = request_target;
  handler.on_status = on_status;
  handler.on_body = on_body;
  handler.ctx = &r;

  result = rr_http_post(&target, payload, strlen(payload), &handler, &error);
  free(request_target);
  reraise_caught_signal();

  if (result == RR_HTTP_FAILED && !r.stream.finished) {
    status = report(error);
  } else if (r.status < 200 || r.status >= 300) {
    status = rejection(&r);
  } else if (args->check) {
    status = print_decision(&r);
  } else {
    status = finish_stream(&r, result);
  }
  free(error);
  free(r.body);
  ndjson_free(&r.stream);
  return status;
}

int main(int argc, char *argv[])
{
  struct rr_args args;
  struct transport t;
  char *error = NULL;
  char *payload;
  json_t *env;
  int status;

  install_signals();
  if (rr_parse_args(argc, argv, &args, &error) < 0) {
    status = report(error);
    free(error);
    return status;
  }
  if (setup_transport(&t, &error) < 0) {
    status = report(error);
    goto out;
  }
  env = read_env(&args, &error);
  payload = env != NULL ? build_payload(&args, env, &error) : NULL;
  if (payload == NULL) {
    status = report(error);
    transport_free(&t);
    goto out;
  }

  status = run(&args, &t, payload);
  free(payload);
  transport_free(&t);
out:
  free(error);
  rr_args_free(&args);
  return status;
}
