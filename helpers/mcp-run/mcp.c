/* The MCP endpoint /mcp: Streamable HTTP transport, sessions, and the
 * run_command and check_command tools. */
#include "config-host.h"

#include "server.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include "mcp_tools.h"
#include "proc.h"
#include "src/core/version.h"

#define MCP_LATEST_VERSION "2025-06-18"
/* An SSE comment goes out this often while a tool runs. */
#define MCP_KEEPALIVE_MS 15000
/* run_command keeps this much of each stream. */
#define MCP_MAX_CAPTURE 1048576

struct mcp_call;

struct mcp_session {
  char id[37];
  char version[16];
  struct mcp_call *calls;
  struct mcp_session *next;
};

struct mcp_state {
  struct mcp_session *sessions;
};

/* An in-flight run_command. */
struct mcp_call {
  struct server *srv;
  struct mcp_session *session; /* NULL once the session ended */
  struct mcp_call *next;
  struct conn *conn; /* NULL once the connection is gone */
  json_t *id;
  bool sse;
  struct proc *proc;
  uv_timer_t keepalive;
  struct buf out, err;
  bool out_truncated, err_truncated;
  bool cancelled;
  uint64_t started_ns;
  char *command;
  size_t command_len;
  char *path;
  char *cwd;
};

/* A GET /mcp event stream that only carries keep-alive comments. */
struct mcp_listen_stream {
  struct conn *conn;
  uv_timer_t keepalive;
};

struct mcp_state *mcp_state_new(void)
{
  return mr_xcalloc(1, sizeof(struct mcp_state));
}

static bool supported_version(const char *version)
{
  return strcmp(version, "2025-03-26") == 0 ||
         strcmp(version, "2025-06-18") == 0;
}

static void new_session_id(char out[37])
{
  static const char hex[] = "0123456789abcdef";
  unsigned char bytes[16];
  size_t i, o = 0;

  if (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes)) {
    /* NOTE: getrandom only fails before the kernel's pool is ready; the
     * ids then still differ by time and address. */
    uint64_t t = uv_hrtime() ^ (uint64_t)(uintptr_t)out;

    memcpy(bytes, &t, sizeof(t));
    memcpy(bytes + 8, &t, sizeof(t));
  }
  bytes[6] = (unsigned char)((bytes[6] & 0x0f) | 0x40);
  bytes[8] = (unsigned char)((bytes[8] & 0x3f) | 0x80);
  for (i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      out[o++] = '-';
    out[o++] = hex[bytes[i] >> 4];
    out[o++] = hex[bytes[i] & 15];
  }
  out[o] = '\0';
}

static struct mcp_session *find_session(struct mcp_state *mcp, const char *id)
{
  struct mcp_session *s;

  for (s = mcp->sessions; s != NULL; s = s->next) {
    if (strcmp(s->id, id) == 0)
      return s;
  }
  return NULL;
}

/* Plain-text transport errors. */
static void respond_text(struct conn *conn, int status, const char *text)
{
  struct request_log entry = {0};

  entry.decision = "invalid";
  conn_log(conn, &entry);
  conn_respond(conn, status, "text/plain; charset=utf-8", NULL, text,
               strlen(text), false);
}

/* Splits an Accept header into media ranges without parameters. */
static bool accept_lists(const char *accept, const char *type)
{
  const char *p = accept;

  while (*p != '\0') {
    size_t len = strcspn(p, ",");
    size_t start = 0, end;

    while (start < len && (p[start] == ' ' || p[start] == '\t'))
      start++;
    end = start;
    while (end < len && p[end] != ';' && p[end] != ' ' && p[end] != '\t')
      end++;
    if (end - start == strlen(type) &&
        strncasecmp(p + start, type, end - start) == 0)
      return true;
    p += len;
    if (*p == ',')
      p++;
  }
  return false;
}

static bool accept_any_known(const char *accept)
{
  return accept_lists(accept, "application/json") ||
         accept_lists(accept, "text/event-stream") ||
         accept_lists(accept, "application/*") || accept_lists(accept, "*/*");
}

static bool is_json_content_type(const char *type)
{
  size_t len;

  if (type == NULL)
    return false;
  len = strcspn(type, ";");
  while (len > 0 && (type[len - 1] == ' ' || type[len - 1] == '\t'))
    len--;
  return len == 16 && strncasecmp(type, "application/json", 16) == 0;
}

/* JSON-RPC messages. */

static json_t *rpc_result(json_t *id, json_t *result)
{
  json_t *msg = json_object();

  json_object_set_new(msg, "jsonrpc", json_string("2.0"));
  json_object_set(msg, "id", id);
  json_object_set_new(msg, "result", result);
  return msg;
}

static json_t *rpc_error(json_t *id, int code, const char *message)
{
  json_t *msg = json_object();
  json_t *error = json_object();

  json_object_set_new(error, "code", json_integer(code));
  json_object_set_new(error, "message", json_string(message));
  json_object_set_new(msg, "jsonrpc", json_string("2.0"));
  json_object_set(msg, "id", id);
  json_object_set_new(msg, "error", error);
  return msg;
}

static void respond_json_message(struct conn *conn, json_t *msg,
                                 const char *extra_headers)
{
  size_t len;
  char *body = mr_json_dump(msg, &len);

  conn_respond(conn, 200, "application/json", extra_headers, body, len, false);
  free(body);
  json_decref(msg);
}

/* Writes one SSE event with msg as data; takes msg. */
static void write_sse_event(struct conn *conn, json_t *msg)
{
  struct buf event = {0};
  size_t len;
  char *text = mr_json_dump(msg, &len);

  buf_puts(&event, "event: message\ndata: ");
  buf_append(&event, text, len);
  buf_puts(&event, "\n\n");
  conn_stream_write(conn, event.data, event.len);
  buf_free(&event);
  free(text);
  json_decref(msg);
}

static void begin_sse(struct conn *conn)
{
  conn_stream_begin(conn, 200, "text/event-stream",
                    "Cache-Control: no-cache\r\n", false);
}

/* Sends the response of a tools/call: as one SSE event when the client accepts
 * event streams, else as a JSON body.  Takes msg. */
static void respond_tool_message(struct conn *conn, bool sse, json_t *msg)
{
  if (!sse) {
    respond_json_message(conn, msg, NULL);
    return;
  }
  begin_sse(conn);
  write_sse_event(conn, msg);
  conn_stream_end(conn);
}

static json_t *tool_error_result(const char *message, size_t len)
{
  json_t *result = json_object();
  json_t *content = json_array();
  json_t *text = json_object();

  json_object_set_new(text, "type", json_string("text"));
  json_object_set_new(text, "text", mr_json_string_lossy(message, len));
  json_array_append_new(content, text);
  json_object_set_new(result, "content", content);
  json_object_set_new(result, "isError", json_true());
  return result;
}

/* Takes structured. */
static json_t *tool_success_result(json_t *structured)
{
  json_t *result = json_object();
  json_t *content = json_array();
  json_t *text = json_object();
  char *dump = mr_json_dump(structured, NULL);

  json_object_set_new(text, "type", json_string("text"));
  json_object_set_new(text, "text", json_string(dump));
  free(dump);
  json_array_append_new(content, text);
  json_object_set_new(result, "content", content);
  json_object_set_new(result, "structuredContent", structured);
  json_object_set_new(result, "isError", json_false());
  return result;
}

static void log_tool(struct conn *conn, const char *route,
                     const struct mr_request *req, const struct authz *authz,
                     const char *decision)
{
  struct request_log entry = {0};

  entry.route = route;
  if (req != NULL) {
    entry.command = req->executable.data;
    entry.command_len = req->executable.len;
  }
  if (authz != NULL) {
    entry.path = authz->resolved_path;
    entry.cwd = authz->cwd_label;
  }
  entry.decision = decision;
  conn_log(conn, &entry);
}

/* run_command in flight. */

static void session_remove_call(struct mcp_call *call)
{
  struct mcp_call **p;

  if (call->session == NULL)
    return;
  for (p = &call->session->calls; *p != NULL; p = &(*p)->next) {
    if (*p == call) {
      *p = call->next;
      break;
    }
  }
  call->session = NULL;
  call->next = NULL;
}

static void call_free(uv_handle_t *handle)
{
  struct mcp_call *call = handle->data;

  json_decref(call->id);
  buf_free(&call->out);
  buf_free(&call->err);
  free(call->command);
  free(call->path);
  free(call->cwd);
  free(call);
}

static void capture(struct buf *b, bool *truncated, const char *data,
                    size_t len)
{
  size_t room = b->len < MCP_MAX_CAPTURE ? MCP_MAX_CAPTURE - b->len : 0;

  if (len > room) {
    *truncated = true;
    len = room;
  }
  buf_append(b, data, len);
}

static void call_on_output(struct proc *proc, int stream, const char *data,
                           size_t len)
{
  struct mcp_call *call = proc_data(proc);

  if (stream == 1)
    capture(&call->out, &call->out_truncated, data, len);
  else
    capture(&call->err, &call->err_truncated, data, len);
}

static json_t *captured_text(const struct buf *b, bool truncated)
{
  struct buf text = {0};
  json_t *value;

  mr_utf8_append_lossy(&text, b->data != NULL ? b->data : "", b->len);
  if (truncated)
    buf_puts(&text, "\n...truncated...");
  value = json_stringn(text.data != NULL ? text.data : "", text.len);
  buf_free(&text);
  return value;
}

static json_t *call_result(struct mcp_call *call,
                           const struct proc_status *status)
{
  char message[256];
  json_t *structured;

  if (status->failed_stream != 0) {
    snprintf(message, sizeof(message), "Failed to read %s: %s",
             status->failed_stream == 1 ? "stdout" : "stderr",
             uv_strerror(status->read_error));
    return tool_error_result(message, strlen(message));
  }
  if (status->wait_error != 0) {
    snprintf(message, sizeof(message), "Failed to wait for subprocess: %s",
             mr_strerror(status->wait_error));
    return tool_error_result(message, strlen(message));
  }
  structured = json_object();
  json_object_set_new(structured, "stdout",
                      captured_text(&call->out, call->out_truncated));
  json_object_set_new(structured, "stderr",
                      captured_text(&call->err, call->err_truncated));
  json_object_set_new(structured, "exitCode",
                      status->signaled ? json_null()
                                       : json_integer(status->code));
  return tool_success_result(structured);
}

/* Sends the call's response, or just ends its stream when cancelled. */
static void call_finish_response(struct mcp_call *call, json_t *result)
{
  struct conn *conn = call->conn;

  call->conn = NULL;
  conn_detach(conn);
  uv_timer_stop(&call->keepalive);
  if (call->sse) {
    if (result != NULL)
      write_sse_event(conn, rpc_result(call->id, result));
    conn_stream_end(conn);
  } else if (result != NULL) {
    respond_json_message(conn, rpc_result(call->id, result), NULL);
  } else {
    conn_close(conn);
  }
}

static void call_on_done(struct proc *proc)
{
  struct mcp_call *call = proc_data(proc);
  const struct proc_status *status = proc_status(proc);
  struct request_log entry = {0};
  char exit_text[32];

  /* The log line and the free slot come before the response, so a client
   * that reads the response sees both. */
  format_exit(exit_text, status->exited, status->signaled, status->code);
  entry.route = "/mcp:run_command";
  entry.command = call->command;
  entry.command_len = call->command_len;
  entry.path = call->path;
  entry.cwd = call->cwd;
  entry.decision = "allow";
  entry.exit = exit_text;
  log_request(&entry, call->started_ns);
  server_release_slot(call->srv);

  if (call->conn != NULL)
    call_finish_response(call,
                         call->cancelled ? NULL : call_result(call, status));
  session_remove_call(call);
  uv_close((uv_handle_t *)&call->keepalive, call_free);
}

static const struct proc_callbacks call_proc_callbacks = {
    .on_output = call_on_output,
    .on_done = call_on_done,
};

/* Stops the call without a response. */
static void call_cancel(struct mcp_call *call)
{
  if (call->cancelled)
    return;
  call->cancelled = true;
  if (call->conn != NULL)
    call_finish_response(call, NULL);
  proc_terminate(call->proc);
}

static void call_on_disconnect(struct conn *conn)
{
  struct mcp_call *call = conn->handler_data;

  conn_detach(conn);
  call->conn = NULL;
  call_cancel(call);
}

static void call_on_shutdown(struct conn *conn)
{
  struct mcp_call *call = conn->handler_data;
  static const char message[] = "Server shutting down";

  if (!call->cancelled) {
    call->cancelled = true;
    call_finish_response(call, tool_error_result(message, sizeof(message) - 1));
  }
  proc_terminate(call->proc);
}

static const struct conn_handler call_handler = {
    .on_disconnect = call_on_disconnect,
    .on_shutdown = call_on_shutdown,
    .discard_input = false,
};

static void on_call_keepalive(uv_timer_t *timer)
{
  struct mcp_call *call = timer->data;

  if (call->conn != NULL)
    conn_stream_write(call->conn, ": keep-alive\n\n", 14);
}

/* tools/call. */

static void start_run(struct conn *conn, struct mcp_session *session,
                      json_t *id, bool sse, struct mr_request *req,
                      struct authz *authz)
{
  struct server *srv = conn->srv;
  cleanup_free char *error = NULL;
  struct mcp_call *call;

  if (!server_take_slot(srv)) {
    static const char message[] = "too many concurrent executions";

    log_tool(conn, "/mcp:run_command", req, authz, "busy");
    respond_tool_message(
        conn, sse,
        rpc_result(id, tool_error_result(message, sizeof(message) - 1)));
    return;
  }

  call = mr_xcalloc(1, sizeof(*call));
  call->srv = srv;
  call->conn = conn;
  call->id = json_incref(id);
  call->sse = sse;
  call->started_ns = conn->req.started_ns;
  call->command = mr_xmemdup0(req->executable.data, req->executable.len);
  call->command_len = req->executable.len;
  call->path = mr_xstrdup(authz->resolved_path);
  call->cwd = mr_xstrdup(authz->cwd_label);
  uv_timer_init(srv->loop, &call->keepalive);
  call->keepalive.data = call;

  if (proc_spawn(srv->loop, &srv->config, authz, req, &call_proc_callbacks,
                 call, &call->proc, &error) < 0) {
    cleanup_free char *message =
        mr_asprintf("Failed to start subprocess: %s", error);

    server_release_slot(srv);
    log_tool(conn, "/mcp:run_command", req, authz, "allow");
    respond_tool_message(
        conn, sse, rpc_result(id, tool_error_result(message, strlen(message))));
    uv_close((uv_handle_t *)&call->keepalive, call_free);
    return;
  }

  call->session = session;
  call->next = session->calls;
  session->calls = call;
  conn_attach(conn, &call_handler, call);
  if (sse) {
    begin_sse(conn);
    uv_timer_start(&call->keepalive, on_call_keepalive, MCP_KEEPALIVE_MS,
                   MCP_KEEPALIVE_MS);
  }
}

static void tools_call(struct conn *conn, struct mcp_session *session,
                       json_t *id, json_t *params, bool sse)
{
  const char *name = json_string_value(json_object_get(params, "name"));
  json_t *arguments = json_object_get(params, "arguments");
  cleanup_free char *detail = NULL;
  struct mr_request req;
  struct authz authz;
  bool run;

  if (!json_is_object(params) || name == NULL) {
    log_tool(conn, NULL, NULL, NULL, "invalid");
    respond_tool_message(conn, sse,
                         rpc_error(id, -32602,
                                   "failed to deserialize parameters: "
                                   "missing field `name`"));
    return;
  }
  run = strcmp(name, "run_command") == 0;
  if (!run && strcmp(name, "check_command") != 0) {
    log_tool(conn, NULL, NULL, NULL, "invalid");
    respond_tool_message(conn, sse, rpc_error(id, -32602, "tool not found"));
    return;
  }

  if (arguments == NULL) {
    json_t *empty = json_object();

    request_from_json(empty, &req, &detail);
    json_decref(empty);
  } else {
    request_from_json(arguments, &req, &detail);
  }
  if (detail != NULL) {
    cleanup_free char *message =
        mr_asprintf("failed to deserialize parameters: %s", detail);

    request_free(&req);
    log_tool(conn, run ? "/mcp:run_command" : "/mcp:check_command", NULL, NULL,
             "invalid");
    respond_tool_message(conn, sse, rpc_error(id, -32602, message));
    return;
  }

  authz_run(&conn->srv->authz_env, &req, &authz);
  if (!run) {
    log_tool(conn, "/mcp:check_command", &req, &authz,
             authz.allowed ? "allow" : "deny");
    respond_tool_message(
        conn, sse,
        rpc_result(id, tool_success_result(authz_decision_json(&authz, &req))));
  } else if (!authz.allowed) {
    log_tool(conn, "/mcp:run_command", &req, &authz, "deny");
    respond_tool_message(
        conn, sse,
        rpc_result(id, tool_error_result(
                           authz.reason.data != NULL ? authz.reason.data : "",
                           authz.reason.len)));
  } else {
    start_run(conn, session, id, sse, &req, &authz);
  }
  authz_release(&authz);
  request_free(&req);
}

/* Other methods. */

static void cancel_request(struct mcp_session *session, json_t *params)
{
  json_t *request_id = json_object_get(params, "requestId");
  struct mcp_call *call, *next;

  if (request_id == NULL)
    return;
  for (call = session->calls; call != NULL; call = next) {
    next = call->next;
    if (json_equal(call->id, request_id)) {
      session_remove_call(call);
      call_cancel(call);
    }
  }
}

static void handle_request(struct conn *conn, struct mcp_session *session,
                           const char *method, json_t *id, json_t *params,
                           bool sse)
{
  struct request_log entry = {0};
  json_t *result;

  if (strcmp(method, "tools/call") == 0) {
    tools_call(conn, session, id, params, sse);
    return;
  }

  if (strcmp(method, "ping") == 0)
    result = json_object();
  else if (strcmp(method, "tools/list") == 0)
    result = mcp_tools_list();
  else if (strcmp(method, "resources/list") == 0)
    result = json_pack("{s:[]}", "resources");
  else if (strcmp(method, "resources/templates/list") == 0)
    result = json_pack("{s:[]}", "resourceTemplates");
  else if (strcmp(method, "prompts/list") == 0)
    result = json_pack("{s:[]}", "prompts");
  else if (strcmp(method, "completion/complete") == 0)
    result = json_pack("{s:{s:[]}}", "completion", "values");
  else
    result = NULL;

  conn_log(conn, &entry);
  if (result == NULL)
    respond_json_message(conn, rpc_error(id, -32601, "Method not found"), NULL);
  else
    respond_json_message(conn, rpc_result(id, result), NULL);
}

static void handle_initialize(struct conn *conn, struct mcp_session *session,
                              json_t *id, json_t *params)
{
  struct mcp_state *mcp = conn->srv->mcp;
  const char *asked =
      json_string_value(json_object_get(params, "protocolVersion"));
  const char *version =
      asked != NULL && supported_version(asked) ? asked : MCP_LATEST_VERSION;
  struct request_log entry = {0};
  cleanup_free char *header = NULL;

  if (session == NULL) {
    session = mr_xcalloc(1, sizeof(*session));
    new_session_id(session->id);
    session->next = mcp->sessions;
    mcp->sessions = session;
  }
  snprintf(session->version, sizeof(session->version), "%s", version);

  conn_log(conn, &entry);
  header = mr_asprintf("Mcp-Session-Id: %s\r\n", session->id);
  respond_json_message(
      conn, rpc_result(id, mcp_initialize_result(version, CL_VERSION)), header);
}

enum message_kind {
  MESSAGE_REQUEST,
  MESSAGE_NOTIFICATION,
  MESSAGE_RESPONSE,
};

/* Checks that doc is one JSON-RPC 2.0 message. */
static int classify(json_t *doc, enum message_kind *kind, char **detail)
{
  json_t *version, *method, *id;

  if (!json_is_object(doc)) {
    *detail = mr_xstrdup("expected one JSON-RPC message object");
    return -1;
  }
  version = json_object_get(doc, "jsonrpc");
  if (!json_is_string(version) ||
      strcmp(json_string_value(version), "2.0") != 0) {
    *detail = mr_xstrdup("missing or invalid `jsonrpc`, expected \"2.0\"");
    return -1;
  }
  method = json_object_get(doc, "method");
  id = json_object_get(doc, "id");
  if (id != NULL && !json_is_string(id) && !json_is_integer(id)) {
    *detail = mr_xstrdup("invalid `id`: expected a string or an integer");
    return -1;
  }
  if (method != NULL) {
    if (!json_is_string(method)) {
      *detail = mr_xstrdup("invalid `method`: expected a string");
      return -1;
    }
    *kind = id != NULL ? MESSAGE_REQUEST : MESSAGE_NOTIFICATION;
    return 0;
  }
  if (id != NULL && (json_object_get(doc, "result") != NULL ||
                     json_object_get(doc, "error") != NULL)) {
    *kind = MESSAGE_RESPONSE;
    return 0;
  }
  *detail = mr_xstrdup("not a JSON-RPC request, notification or response");
  return -1;
}

/* Checks the MCP-Protocol-Version header of a request in a session. */
static bool version_header_ok(struct conn *conn)
{
  const char *version = conn_header(conn, "mcp-protocol-version");

  return version == NULL || supported_version(version);
}

static void mcp_post(struct conn *conn)
{
  struct mcp_state *mcp = conn->srv->mcp;
  const char *accept = conn_header(conn, "accept");
  const char *session_id = conn_header(conn, "mcp-session-id");
  struct mcp_session *session = NULL;
  cleanup_free char *detail = NULL;
  enum message_kind kind;
  const char *method;
  bool sse = false;
  json_t *doc;

  if (accept != NULL && accept[0] != '\0') {
    if (!accept_any_known(accept)) {
      respond_text(conn, 406,
                   "Not Acceptable: Client must accept application/json or "
                   "text/event-stream");
      return;
    }
    sse = accept_lists(accept, "text/event-stream");
  }
  if (!is_json_content_type(conn_header(conn, "content-type"))) {
    respond_text(conn, 415,
                 "Unsupported Media Type: Content-Type must be "
                 "application/json");
    return;
  }

  doc = mr_json_loadb(conn->req.body.data != NULL ? conn->req.body.data : "",
                      conn->req.body.len, &detail);
  if (doc == NULL || classify(doc, &kind, &detail) < 0) {
    cleanup_free char *message =
        mr_asprintf("fail to deserialize request body: %s", detail);

    json_decref(doc);
    respond_text(conn, 415, message);
    return;
  }
  method = json_string_value(json_object_get(doc, "method"));

  if (session_id == NULL) {
    if (kind != MESSAGE_REQUEST || strcmp(method, "initialize") != 0) {
      json_decref(doc);
      respond_text(conn, 422, "Unexpected message, expect initialize request");
      return;
    }
  } else {
    session = find_session(mcp, session_id);
    if (session == NULL) {
      json_decref(doc);
      respond_text(conn, 404, "Session not found");
      return;
    }
    if (!version_header_ok(conn)) {
      json_decref(doc);
      respond_text(conn, 400, "Bad Request: Unsupported MCP-Protocol-Version");
      return;
    }
  }

  if (kind == MESSAGE_REQUEST && strcmp(method, "initialize") == 0) {
    handle_initialize(conn, session, json_object_get(doc, "id"),
                      json_object_get(doc, "params"));
  } else if (kind == MESSAGE_REQUEST) {
    handle_request(conn, session, method, json_object_get(doc, "id"),
                   json_object_get(doc, "params"), sse);
  } else {
    struct request_log entry = {0};

    if (kind == MESSAGE_NOTIFICATION &&
        strcmp(method, "notifications/cancelled") == 0)
      cancel_request(session, json_object_get(doc, "params"));
    conn_log(conn, &entry);
    conn_respond(conn, 202, NULL, NULL, "", 0, false);
  }
  json_decref(doc);
}

/* GET: a standalone stream with keep-alive comments only. */

static void listen_stream_free(uv_handle_t *handle)
{
  free(handle->data);
}

static void listen_on_disconnect(struct conn *conn)
{
  struct mcp_listen_stream *stream = conn->handler_data;

  conn_detach(conn);
  uv_close((uv_handle_t *)&stream->keepalive, listen_stream_free);
}

static void listen_on_shutdown(struct conn *conn)
{
  struct mcp_listen_stream *stream = conn->handler_data;

  conn_detach(conn);
  conn_stream_end(conn);
  uv_close((uv_handle_t *)&stream->keepalive, listen_stream_free);
}

static const struct conn_handler listen_handler = {
    .on_disconnect = listen_on_disconnect,
    .on_shutdown = listen_on_shutdown,
    .discard_input = true,
};

static void on_listen_keepalive(uv_timer_t *timer)
{
  struct mcp_listen_stream *stream = timer->data;

  conn_stream_write(stream->conn, ": keep-alive\n\n", 14);
}

static void mcp_get(struct conn *conn)
{
  const char *accept = conn_header(conn, "accept");
  const char *session_id = conn_header(conn, "mcp-session-id");
  struct mcp_listen_stream *stream;
  struct request_log entry = {0};

  if (accept == NULL || !accept_lists(accept, "text/event-stream")) {
    respond_text(conn, 406,
                 "Not Acceptable: Client must accept text/event-stream");
    return;
  }
  if (session_id == NULL) {
    respond_text(conn, 400, "Bad Request: Mcp-Session-Id header is required");
    return;
  }
  if (find_session(conn->srv->mcp, session_id) == NULL) {
    respond_text(conn, 404, "Session not found");
    return;
  }
  if (!version_header_ok(conn)) {
    respond_text(conn, 400, "Bad Request: Unsupported MCP-Protocol-Version");
    return;
  }

  conn_log(conn, &entry);
  stream = mr_xcalloc(1, sizeof(*stream));
  stream->conn = conn;
  uv_timer_init(conn->srv->loop, &stream->keepalive);
  stream->keepalive.data = stream;
  uv_timer_start(&stream->keepalive, on_listen_keepalive, MCP_KEEPALIVE_MS,
                 MCP_KEEPALIVE_MS);
  conn_stream_begin(conn, 200, "text/event-stream",
                    "Cache-Control: no-cache\r\n", false);
  conn_attach(conn, &listen_handler, stream);
}

/* Ends a session; its in-flight calls are cancelled. */
static void end_session(struct mcp_state *mcp, struct mcp_session *session)
{
  struct mcp_session **p;

  while (session->calls != NULL) {
    struct mcp_call *call = session->calls;

    session_remove_call(call);
    call_cancel(call);
  }
  for (p = &mcp->sessions; *p != NULL; p = &(*p)->next) {
    if (*p == session) {
      *p = session->next;
      break;
    }
  }
  free(session);
}

static void mcp_delete(struct conn *conn)
{
  const char *session_id = conn_header(conn, "mcp-session-id");
  struct mcp_session *session;
  struct request_log entry = {0};

  if (session_id == NULL) {
    respond_text(conn, 400, "Bad Request: Mcp-Session-Id header is required");
    return;
  }
  session = find_session(conn->srv->mcp, session_id);
  if (session == NULL) {
    respond_text(conn, 404, "Session not found");
    return;
  }
  end_session(conn->srv->mcp, session);
  conn_log(conn, &entry);
  conn_respond(conn, 202, NULL, NULL, "", 0, false);
}

void route_mcp(struct conn *conn)
{
  switch (conn->req.method) {
  case HTTP_POST:
    mcp_post(conn);
    break;
  case HTTP_GET:
    mcp_get(conn);
    break;
  case HTTP_DELETE:
    mcp_delete(conn);
    break;
  default: {
    struct request_log entry = {0};

    entry.decision = "invalid";
    conn_log(conn, &entry);
    conn_respond(conn, 405, "text/plain; charset=utf-8",
                 "Allow: GET, POST, DELETE\r\n", "Method Not Allowed", 18,
                 false);
    break;
  }
  }
}

void mcp_shutdown(struct mcp_state *mcp)
{
  /* In-flight calls get their response through their connection's on_shutdown;
   * calls whose connection is gone only need stopping. */
  struct mcp_session *s;
  struct mcp_call *call;

  for (s = mcp->sessions; s != NULL; s = s->next) {
    for (call = s->calls; call != NULL; call = call->next) {
      if (call->conn == NULL)
        proc_terminate(call->proc);
    }
  }
}

void mcp_state_free(struct mcp_state *mcp)
{
  if (mcp == NULL)
    return;
  while (mcp->sessions != NULL) {
    struct mcp_session *s = mcp->sessions;

    while (s->calls != NULL)
      session_remove_call(s->calls);
    mcp->sessions = s->next;
    free(s);
  }
  free(mcp);
}
