/* The /check and /raw routes. */
#include "config-host.h"

#include "server.h"

#include <stdlib.h>
#include <string.h>

#include "proc.h"

/* Reads the request document of /raw or /check; sends 405 or 400 and
 * returns -1 when there is none. */
static int read_request(struct conn *conn, struct mr_request *req)
{
  struct request_log entry = {0};
  cleanup_free char *detail = NULL;
  cleanup_free char *message = NULL;

  memset(req, 0, sizeof(*req));
  entry.decision = "invalid";
  if (conn->req.method != HTTP_POST) {
    conn_log(conn, &entry);
    conn_respond(conn, 405, "application/json", "Allow: POST\r\n",
                 "{\"error\":\"method not allowed\"}", 30, false);
    return -1;
  }
  if (!request_is_json_type(conn_header(conn, "content-type"))) {
    detail = mr_xstrdup("Content-Type must be application/json");
  } else if (request_parse(conn->req.body.data != NULL ? conn->req.body.data
                                                       : "",
                           conn->req.body.len, req, &detail) == 0) {
    return 0;
  }

  request_free(req);
  conn_log(conn, &entry);
  message = mr_asprintf("Invalid request payload: %s", detail);
  conn_respond_error(conn, 400, message, strlen(message), false);
  return -1;
}

static void log_decision(struct conn *conn, const struct mr_request *req,
                         const struct authz *authz, const char *decision,
                         const char *exit)
{
  struct request_log entry = {0};

  entry.command = req->executable.data;
  entry.command_len = req->executable.len;
  entry.path = authz->resolved_path;
  entry.cwd = authz->cwd_label;
  entry.decision = decision;
  entry.exit = exit;
  conn_log(conn, &entry);
}

void route_check(struct conn *conn)
{
  struct mr_request req;
  struct authz authz;
  json_t *doc;
  char *body;
  size_t len;

  if (read_request(conn, &req) < 0)
    return;
  authz_run(&conn->srv->authz_env, &req, &authz);
  doc = authz_decision_json(&authz, &req);
  body = mr_json_dump(doc, &len);
  log_decision(conn, &req, &authz, authz.allowed ? "allow" : "deny", NULL);
  conn_respond(conn, 200, "application/json", NULL, body, len, false);
  free(body);
  json_decref(doc);
  authz_release(&authz);
  request_free(&req);
}

/* A /raw execution streaming NDJSON events. */
struct raw_run {
  struct server *srv;
  struct conn *conn; /* NULL once the client is gone */
  struct proc *proc;
  struct request_log log;
  uint64_t started_ns;
  char *command;
  size_t command_len;
  char *path;
  char *cwd;
};

static void raw_send_line(struct raw_run *run, json_t *event)
{
  struct buf line = {0};
  size_t len;
  char *text = mr_json_dump(event, &len);

  buf_append(&line, text, len);
  buf_append(&line, "\n", 1);
  conn_stream_write(run->conn, line.data, line.len);
  buf_free(&line);
  free(text);
  json_decref(event);
}

static void raw_send_error(struct raw_run *run, const char *message)
{
  json_t *event = json_object();

  json_object_set_new(event, "event", json_string("error"));
  json_object_set_new(event, "message", json_string(message));
  raw_send_line(run, event);
}

static void raw_on_output(struct proc *proc, int stream, const char *data,
                          size_t len)
{
  struct raw_run *run = proc_data(proc);
  struct buf line = {0};
  char *encoded;

  if (run->conn == NULL)
    return;
  encoded = mr_xmalloc(4 * ((len + 2) / 3) + 1);
  mr_base64_encode(data, len, encoded);
  buf_printf(&line, "{\"event\":\"%s\",\"data_b64\":\"%s\"}\n",
             stream == 1 ? "stdout" : "stderr", encoded);
  free(encoded);
  conn_stream_write(run->conn, line.data, line.len);
  buf_free(&line);
  /* Memory per run stays bounded: a slow client makes the child block on
   * its pipe. */
  if (run->conn != NULL && conn_write_queue(run->conn) > MR_WRITE_HIGH_WATER)
    proc_pause_output(proc);
}

static void raw_finish_stream(struct raw_run *run,
                              const struct proc_status *status)
{
  json_t *event = json_object();
  char message[256];

  if (status->failed_stream != 0) {
    snprintf(message, sizeof(message), "Failed reading %s: %s",
             status->failed_stream == 1 ? "stdout" : "stderr",
             uv_strerror(status->read_error));
    json_decref(event);
    raw_send_error(run, message);
  } else if (status->wait_error != 0) {
    snprintf(message, sizeof(message), "Runtime wait failure: %s",
             mr_strerror(status->wait_error));
    json_decref(event);
    raw_send_error(run, message);
  } else {
    json_object_set_new(event, "event", json_string("exit"));
    json_object_set_new(event, "exitCode",
                        status->signaled ? json_null()
                                         : json_integer(status->code));
    raw_send_line(run, event);
  }
  conn_stream_end(run->conn);
}

static void raw_on_done(struct proc *proc)
{
  struct raw_run *run = proc_data(proc);
  const struct proc_status *status = proc_status(proc);
  char exit_text[32];

  /* The log line and the free slot come before the terminal event, so a
   * client that reads it sees both. */
  format_exit(exit_text, status->exited, status->signaled, status->code);
  run->log.exit = exit_text;
  log_request(&run->log, run->started_ns);
  server_release_slot(run->srv);

  if (run->conn != NULL) {
    struct conn *conn = run->conn;

    conn_detach(conn);
    raw_finish_stream(run, status);
    run->conn = NULL;
  }
  free(run->command);
  free(run->path);
  free(run->cwd);
  free(run);
}

static const struct proc_callbacks raw_proc_callbacks = {
    .on_output = raw_on_output,
    .on_done = raw_on_done,
};

static void raw_on_disconnect(struct conn *conn)
{
  struct raw_run *run = conn->handler_data;

  conn_detach(conn);
  run->conn = NULL;
  proc_terminate(run->proc);
}

static void raw_on_drain(struct conn *conn)
{
  struct raw_run *run = conn->handler_data;

  proc_resume_output(run->proc);
}

static void raw_on_shutdown(struct conn *conn)
{
  struct raw_run *run = conn->handler_data;

  conn_detach(conn);
  raw_send_error(run, "Server shutting down");
  conn_stream_end(conn);
  run->conn = NULL;
  proc_terminate(run->proc);
}

static const struct conn_handler raw_handler = {
    .on_disconnect = raw_on_disconnect,
    .on_drain = raw_on_drain,
    .on_shutdown = raw_on_shutdown,
    .discard_input = true,
};

static void raw_start(struct conn *conn, struct mr_request *req,
                      struct authz *authz)
{
  struct server *srv = conn->srv;
  struct raw_run *run;
  cleanup_free char *error = NULL;
  struct proc *proc;

  if (!server_take_slot(srv)) {
    log_decision(conn, req, authz, "busy", NULL);
    conn_respond_error(conn, 503, "too many concurrent executions", 30, false);
    return;
  }

  run = mr_xcalloc(1, sizeof(*run));
  run->srv = srv;
  run->conn = conn;
  run->started_ns = conn->req.started_ns;
  run->command = mr_xmemdup0(req->executable.data, req->executable.len);
  run->command_len = req->executable.len;
  run->path = mr_xstrdup(authz->resolved_path);
  run->cwd = mr_xstrdup(authz->cwd_label);
  run->log.route = "/raw";
  run->log.command = run->command;
  run->log.command_len = run->command_len;
  run->log.path = run->path;
  run->log.cwd = run->cwd;
  run->log.decision = "allow";

  if (proc_spawn(srv->loop, &srv->config, authz, req, &raw_proc_callbacks, run,
                 &proc, &error) < 0) {
    cleanup_free char *message =
        mr_asprintf("Failed to start subprocess: %s", error);

    server_release_slot(srv);
    log_decision(conn, req, authz, "allow", NULL);
    conn_respond_error(conn, 500, message, strlen(message), false);
    free(run->command);
    free(run->path);
    free(run->cwd);
    free(run);
    return;
  }

  run->proc = proc;
  conn_stream_begin(conn, 200, "application/x-ndjson", NULL, true);
  conn_stream_write(conn, "{\"event\":\"start\"}\n", 18);
  conn_attach(conn, &raw_handler, run);
}

void route_raw(struct conn *conn)
{
  struct mr_request req;
  struct authz authz;

  if (read_request(conn, &req) < 0)
    return;
  authz_run(&conn->srv->authz_env, &req, &authz);
  if (!authz.allowed) {
    log_decision(conn, &req, &authz, "deny", NULL);
    conn_respond_error(conn, 403, authz.reason.data, authz.reason.len, false);
  } else {
    raw_start(conn, &req, &authz);
  }
  authz_release(&authz);
  request_free(&req);
}
