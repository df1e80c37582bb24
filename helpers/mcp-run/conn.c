/* HTTP/1.1 connections: request parsing with http-parser, the limits on
 * head, body and time, and response writing. */
#include "config-host.h"

#include "server.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"

/* A closing connection waits this long for the client's EOF, so bytes it
 * still sends do not turn the close into a reset that loses the end of
 * the response. */
#define LINGER_MS 2000
/* Bytes kept from a client that sends its next request early. */
#define MAX_PENDING (MR_MAX_HEAD_BYTES + MR_MAX_BODY_BYTES + 65536)

static char read_buffer[65536];

struct write_req {
  uv_write_t req;
  struct conn *conn;
  char data[];
};

static void drain_pending(struct conn *conn);
static void reject(struct conn *conn, int status, const char *message);

/* The standard reason phrase of each status mcp-run sends. */
static const char *reason_phrase(int status)
{
  switch (status) {
  case 100:
    return "Continue";
  case 200:
    return "OK";
  case 202:
    return "Accepted";
  case 400:
    return "Bad Request";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 406:
    return "Not Acceptable";
  case 408:
    return "Request Timeout";
  case 413:
    return "Payload Too Large";
  case 415:
    return "Unsupported Media Type";
  case 422:
    return "Unprocessable Entity";
  case 431:
    return "Request Header Fields Too Large";
  case 500:
    return "Internal Server Error";
  case 503:
    return "Service Unavailable";
  default:
    return "Unknown";
  }
}

static void request_reset(struct http_request *req)
{
  size_t i;

  for (i = 0; i < req->nheaders; i++) {
    free(req->headers[i].name);
    free(req->headers[i].value);
  }
  free(req->headers);
  free(req->url);
  free(req->path);
  buf_free(&req->body);
  memset(req, 0, sizeof(*req));
}

const char *conn_header(const struct conn *conn, const char *name)
{
  size_t i;

  for (i = 0; i < conn->req.nheaders; i++) {
    if (strcmp(conn->req.headers[i].name, name) == 0)
      return conn->req.headers[i].value;
  }
  return NULL;
}

long long conn_elapsed_ms(const struct conn *conn)
{
  return (long long)((uv_hrtime() - conn->req.started_ns) / 1000000);
}

void format_exit(char out[32], bool exited, bool signaled, int code)
{
  if (!exited)
    snprintf(out, 32, "-");
  else if (signaled)
    snprintf(out, 32, "signal:%d", code);
  else
    snprintf(out, 32, "%d", code);
}

void log_request(const struct request_log *entry, uint64_t started_ns)
{
  struct log_line line;

  log_begin(&line);
  log_add(&line, "route", entry->route);
  log_addn(&line, "command", entry->command, entry->command_len);
  log_add(&line, "path", entry->path);
  log_add(&line, "cwd", entry->cwd);
  log_add(&line, "decision", entry->decision);
  log_add(&line, "exit", entry->exit != NULL ? entry->exit : "-");
  log_add_int(&line, "duration_ms",
              (long long)((uv_hrtime() - started_ns) / 1000000));
  log_end(&line);
}

void conn_log(const struct conn *conn, const struct request_log *entry)
{
  struct request_log copy = *entry;

  if (copy.route == NULL)
    copy.route = conn->req.path != NULL ? conn->req.path : "-";
  log_request(&copy, conn->req.started_ns);
}

/* Closing. */

static void on_handle_closed(uv_handle_t *handle)
{
  struct conn *conn = handle->data;
  struct server *srv = conn->srv;

  if (--conn->open_handles > 0)
    return;
  request_reset(&conn->req);
  buf_free(&conn->header_field);
  buf_free(&conn->header_value);
  buf_free(&conn->pending);
  free(conn);
  server_maybe_exit(srv);
}

void conn_close(struct conn *conn)
{
  struct server *srv = conn->srv;

  if (conn->open_handles > 0 && uv_is_closing(&conn->h.handle))
    return;
  if (conn->handler != NULL)
    conn->handler->on_disconnect(conn);
  conn->handler = NULL;
  conn->state = CONN_CLOSING;

  if (conn->prev != NULL)
    conn->prev->next = conn->next;
  else
    srv->conns = conn->next;
  if (conn->next != NULL)
    conn->next->prev = conn->prev;
  conn->next = conn->prev = NULL;

  conn->open_handles = 3;
  uv_close(&conn->h.handle, on_handle_closed);
  uv_close((uv_handle_t *)&conn->timer, on_handle_closed);
  uv_close((uv_handle_t *)&conn->linger, on_handle_closed);
}

static void on_linger_timeout(uv_timer_t *timer)
{
  conn_close(timer->data);
}

static void on_shutdown_done(uv_shutdown_t *req, int status)
{
  struct conn *conn = req->data;

  if (status == UV_ECANCELED)
    return;
  conn->shutdown_complete = true;
  if (status < 0 || conn->read_eof)
    conn_close(conn);
}

/* Sends FIN after the queued writes, then waits for the client's EOF. */
static void close_gracefully(struct conn *conn)
{
  if (conn->state == CONN_CLOSING)
    return;
  conn->state = CONN_CLOSING;
  uv_timer_stop(&conn->timer);
  conn->shutdown_req.data = conn;
  if (uv_shutdown(&conn->shutdown_req, &conn->h.stream, on_shutdown_done) < 0) {
    conn_close(conn);
    return;
  }
  conn->shut_down = true;
  uv_timer_start(&conn->linger, on_linger_timeout, LINGER_MS, 0);
}

/* Writing. */

static void on_write_done(uv_write_t *req, int status)
{
  struct write_req *wr = (struct write_req *)req;
  struct conn *conn = wr->conn;

  free(wr);
  if (status == UV_ECANCELED || conn->state == CONN_CLOSING) {
    if (status < 0 && status != UV_ECANCELED)
      conn_close(conn);
    return;
  }
  if (status < 0) {
    /* A write to a vanished client (EPIPE, ECONNRESET) is a disconnect. */
    conn_close(conn);
    return;
  }
  if (conn->handler != NULL && conn->handler->on_drain != NULL &&
      conn_write_queue(conn) < MR_WRITE_HIGH_WATER)
    conn->handler->on_drain(conn);
}

static void write_bytes(struct conn *conn, const char *a, size_t alen,
                        const char *b, size_t blen, const char *c, size_t clen)
{
  struct write_req *wr;
  uv_buf_t buf;

  if (conn->shut_down || uv_is_closing(&conn->h.handle))
    return;
  wr = mr_xmalloc(sizeof(*wr) + alen + blen + clen);
  wr->conn = conn;
  memcpy(wr->data, a, alen);
  if (blen > 0)
    memcpy(wr->data + alen, b, blen);
  if (clen > 0)
    memcpy(wr->data + alen + blen, c, clen);
  buf = uv_buf_init(wr->data, (unsigned)(alen + blen + clen));
  if (uv_write(&wr->req, &conn->h.stream, &buf, 1, on_write_done) < 0) {
    free(wr);
    conn_close(conn);
  }
}

size_t conn_write_queue(const struct conn *conn)
{
  return uv_stream_get_write_queue_size(&conn->h.stream);
}

static void next_request(struct conn *conn);

static void response_done(struct conn *conn, bool keep)
{
  conn->served++;
  if (keep && conn->state == CONN_BUSY && !conn->srv->shutting_down &&
      !conn->read_eof)
    next_request(conn);
  else
    close_gracefully(conn);
}

static bool keep_alive(const struct conn *conn, bool force_close)
{
  return !force_close && conn->req.keep_alive && conn->parser.http_major == 1 &&
         conn->parser.http_minor >= 1 && !conn->srv->shutting_down;
}

static void write_head(struct conn *conn, int status, const char *content_type,
                       const char *extra_headers, const char *framing,
                       bool keep)
{
  struct buf head = {0};

  buf_printf(&head, "HTTP/1.1 %d %s\r\n", status, reason_phrase(status));
  if (content_type != NULL)
    buf_printf(&head, "Content-Type: %s\r\n", content_type);
  if (extra_headers != NULL)
    buf_puts(&head, extra_headers);
  buf_puts(&head, framing);
  if (!keep)
    buf_puts(&head, "Connection: close\r\n");
  buf_puts(&head, "\r\n");
  write_bytes(conn, head.data, head.len, NULL, 0, NULL, 0);
  buf_free(&head);
}

void conn_respond(struct conn *conn, int status, const char *content_type,
                  const char *extra_headers, const char *body, size_t len,
                  bool force_close)
{
  bool keep = keep_alive(conn, force_close);
  struct buf head = {0};

  buf_printf(&head, "HTTP/1.1 %d %s\r\n", status, reason_phrase(status));
  if (content_type != NULL)
    buf_printf(&head, "Content-Type: %s\r\n", content_type);
  if (extra_headers != NULL)
    buf_puts(&head, extra_headers);
  buf_printf(&head, "Content-Length: %zu\r\n", len);
  if (!keep)
    buf_puts(&head, "Connection: close\r\n");
  buf_puts(&head, "\r\n");
  write_bytes(conn, head.data, head.len, body, len, NULL, 0);
  buf_free(&head);
  response_done(conn, keep);
}

void conn_respond_error(struct conn *conn, int status, const char *message,
                        size_t len, bool force_close)
{
  json_t *doc = json_object();
  size_t body_len;
  char *body;

  json_object_set_new(doc, "error", mr_json_string_lossy(message, len));
  body = mr_json_dump(doc, &body_len);
  json_decref(doc);
  conn_respond(conn, status, "application/json", NULL, body, body_len,
               force_close);
  free(body);
}

void conn_stream_begin(struct conn *conn, int status, const char *content_type,
                       const char *extra_headers, bool force_close)
{
  bool keep = keep_alive(conn, force_close);

  write_head(conn, status, content_type, extra_headers,
             "Transfer-Encoding: chunked\r\n", keep);
  conn->chunked = true;
  conn->close_after = !keep;
}

void conn_stream_write(struct conn *conn, const char *data, size_t len)
{
  char size[32];
  int n;

  if (!conn->chunked || len == 0)
    return;
  n = snprintf(size, sizeof(size), "%zx\r\n", len);
  write_bytes(conn, size, (size_t)n, data, len, "\r\n", 2);
}

void conn_stream_end(struct conn *conn)
{
  if (!conn->chunked)
    return;
  conn->chunked = false;
  write_bytes(conn, "0\r\n\r\n", 5, NULL, 0, NULL, 0);
  response_done(conn, !conn->close_after);
}

void conn_attach(struct conn *conn, const struct conn_handler *handler,
                 void *data)
{
  conn->handler = handler;
  conn->handler_data = data;
}

void conn_detach(struct conn *conn)
{
  conn->handler = NULL;
  conn->handler_data = NULL;
}

/* Limits. */

static void reject(struct conn *conn, int status, const char *message)
{
  struct request_log entry = {0};

  conn->state = CONN_BUSY;
  uv_timer_stop(&conn->timer);
  entry.route = conn->req.path != NULL ? conn->req.path : "-";
  entry.decision = "invalid";
  conn_log(conn, &entry);
  conn_respond_error(conn, status, message, strlen(message), true);
}

static void on_request_timeout(uv_timer_t *timer)
{
  struct conn *conn = timer->data;

  if (conn->state != CONN_READING)
    return;
  /* An idle persistent connection is closed without a response. */
  if (conn->served > 0 && !conn->any_byte) {
    close_gracefully(conn);
    return;
  }
  reject(conn, 408, "request timeout");
}

/* Counts head bytes (request line, headers, blank line) the way
 * http-parser ends a head: at an empty line, CRLF or LF.  Empty lines
 * before the request line are skipped and not counted.  Returns false
 * once the head is over the limit. */
static bool scan_head(struct conn *conn, const char *data, size_t len)
{
  size_t i;

  for (i = 0; i < len && !conn->head_done; i++) {
    char c = data[i];

    if (conn->head_state == 0 && (c == '\r' || c == '\n'))
      continue;
    conn->head_bytes++;
    switch (conn->head_state) {
    case 0:
      conn->head_state = 1;
      break;
    case 1:
      if (c == '\n')
        conn->head_state = 2;
      break;
    case 2:
      if (c == '\n')
        conn->head_done = true;
      else
        conn->head_state = c == '\r' ? 3 : 1;
      break;
    default:
      if (c == '\n')
        conn->head_done = true;
      else
        conn->head_state = 1;
      break;
    }
  }
  return conn->head_bytes <= MR_MAX_HEAD_BYTES;
}

/* http-parser callbacks. */

static struct conn *parser_conn(http_parser *parser)
{
  return parser->data;
}

static void store_header(struct conn *conn)
{
  struct http_request *req = &conn->req;
  struct http_header *h;
  size_t i;

  if (conn->header_field.len == 0 && conn->header_value.len == 0)
    return;
  req->headers =
      mr_xrealloc(req->headers, (req->nheaders + 1) * sizeof(*req->headers));
  h = &req->headers[req->nheaders++];
  h->name = mr_xmemdup0(
      conn->header_field.data != NULL ? conn->header_field.data : "",
      conn->header_field.len);
  for (i = 0; h->name[i] != '\0'; i++)
    h->name[i] = (char)tolower((unsigned char)h->name[i]);
  h->value =
      mr_trim(conn->header_value.data != NULL ? conn->header_value.data : "",
              conn->header_value.len);
  buf_reset(&conn->header_field);
  buf_reset(&conn->header_value);
}

static int on_url(http_parser *parser, const char *at, size_t len)
{
  struct conn *conn = parser_conn(parser);
  struct buf url = {0};

  if (conn->req.url != NULL)
    buf_puts(&url, conn->req.url);
  buf_append(&url, at, len);
  free(conn->req.url);
  conn->req.url = buf_steal(&url);
  return 0;
}

static int on_header_field(http_parser *parser, const char *at, size_t len)
{
  struct conn *conn = parser_conn(parser);

  if (conn->in_value) {
    store_header(conn);
    conn->in_value = false;
  }
  buf_append(&conn->header_field, at, len);
  return 0;
}

static int on_header_value(http_parser *parser, const char *at, size_t len)
{
  struct conn *conn = parser_conn(parser);

  conn->in_value = true;
  buf_append(&conn->header_value, at, len);
  return 0;
}

static char *url_path(const char *url)
{
  struct http_parser_url u;

  if (url == NULL)
    return mr_xstrdup("/");
  if (url[0] == '/')
    return mr_xmemdup0(url, strcspn(url, "?#"));
  http_parser_url_init(&u);
  if (http_parser_parse_url(url, strlen(url), 0, &u) == 0 &&
      (u.field_set & (1 << UF_PATH)) != 0)
    return mr_xmemdup0(url + u.field_data[UF_PATH].off,
                       u.field_data[UF_PATH].len);
  return mr_xstrdup(url);
}

static int on_headers_complete(http_parser *parser)
{
  struct conn *conn = parser_conn(parser);
  const char *expect;

  if (conn->in_value)
    store_header(conn);
  conn->in_value = false;
  conn->req.method = (enum http_method)parser->method;
  conn->req.path = url_path(conn->req.url);

  if ((parser->flags & F_CHUNKED) == 0 &&
      parser->content_length != ULLONG_MAX &&
      parser->content_length > MR_MAX_BODY_BYTES) {
    conn->reject_status = 413;
    return -1;
  }
  expect = conn_header(conn, "expect");
  if (expect != NULL && strcasecmp(expect, "100-continue") == 0)
    write_bytes(conn, "HTTP/1.1 100 Continue\r\n\r\n", 25, NULL, 0, NULL, 0);
  return 0;
}

static int on_body(http_parser *parser, const char *at, size_t len)
{
  struct conn *conn = parser_conn(parser);

  if (conn->req.body.len + len > MR_MAX_BODY_BYTES) {
    conn->reject_status = 413;
    return -1;
  }
  buf_append(&conn->req.body, at, len);
  return 0;
}

static int on_message_complete(http_parser *parser)
{
  struct conn *conn = parser_conn(parser);

  conn->req.keep_alive = http_should_keep_alive(parser) != 0;
  conn->message_done = true;
  http_parser_pause(parser, 1);
  return 0;
}

static const http_parser_settings parser_settings = {
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* Routing. */

static void respond_not_found(struct conn *conn)
{
  struct request_log entry = {0};

  entry.decision = "invalid";
  conn_log(conn, &entry);
  conn_respond(conn, 404, NULL, NULL, "", 0, false);
}

static void dispatch(struct conn *conn)
{
  const char *path = conn->req.path;

  conn->state = CONN_BUSY;
  uv_timer_stop(&conn->timer);
  if (strcmp(path, "/raw") == 0)
    route_raw(conn);
  else if (strcmp(path, "/check") == 0)
    route_check(conn);
  else if (strcmp(path, "/mcp") == 0)
    route_mcp(conn);
  else
    respond_not_found(conn);
}

static void bad_request(struct conn *conn, enum http_errno err)
{
  cleanup_free char *message =
      mr_asprintf("invalid HTTP request: %s", http_errno_description(err));

  reject(conn, 400, message);
}

/* Feeds the kept input to the parser while a request is being read, and
 * dispatches each complete request. */
static void drain_pending(struct conn *conn)
{
  if (conn->draining)
    return;
  conn->draining = true;
  while (conn->state == CONN_READING && conn->pending.len > 0) {
    size_t len = conn->pending.len, n;
    enum http_errno err;

    if (!conn->any_byte) {
      conn->any_byte = true;
      conn->req.started_ns = uv_hrtime();
    }
    if (!scan_head(conn, conn->pending.data, len)) {
      reject(conn, 431, "request header fields too large");
      break;
    }

    n = http_parser_execute(&conn->parser, &parser_settings, conn->pending.data,
                            len);
    err = HTTP_PARSER_ERRNO(&conn->parser);
    memmove(conn->pending.data, conn->pending.data + n, len - n);
    conn->pending.len = len - n;

    if (conn->reject_status == 413) {
      reject(conn, 413, "request body too large");
      break;
    }
    if (conn->message_done) {
      dispatch(conn);
      continue;
    }
    if (err != HPE_OK) {
      bad_request(conn, err);
      break;
    }
    if (conn->parser.upgrade) {
      /* Protocol upgrades are not supported; HTTP/1.1 only. */
      bad_request(conn, HPE_INVALID_CONSTANT);
      break;
    }
  }
  conn->draining = false;
}

static void reset_request_state(struct conn *conn)
{
  request_reset(&conn->req);
  buf_reset(&conn->header_field);
  buf_reset(&conn->header_value);
  conn->in_value = false;
  conn->message_done = false;
  conn->reject_status = 0;
  conn->head_bytes = 0;
  conn->head_state = 0;
  conn->head_done = false;
  conn->any_byte = false;
  conn->chunked = false;
  conn->close_after = false;
  conn->req.started_ns = uv_hrtime();
}

static void next_request(struct conn *conn)
{
  reset_request_state(conn);
  conn->state = CONN_READING;
  http_parser_pause(&conn->parser, 0);
  uv_timer_start(&conn->timer, on_request_timeout, MR_REQUEST_TIMEOUT_MS, 0);
  drain_pending(conn);
}

/* Reading. */

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
  buf->base = read_buffer;
  buf->len = sizeof(read_buffer);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
  struct conn *conn = stream->data;

  if (nread > 0) {
    if (conn->state == CONN_CLOSING)
      return;
    if (conn->state == CONN_BUSY &&
        (conn->handler == NULL || conn->handler->discard_input))
      return;
    if (conn->pending.len + (size_t)nread <= MAX_PENDING)
      buf_append(&conn->pending, buf->base, (size_t)nread);
    if (conn->state == CONN_READING)
      drain_pending(conn);
    return;
  }
  if (nread == 0)
    return;

  /* EOF, a half-close included, or an error. */
  conn->read_eof = true;
  uv_read_stop(stream);
  if (conn->state == CONN_CLOSING) {
    /* A pending shutdown closes the connection once the writes are
     * done. */
    if (conn->shutdown_complete)
      conn_close(conn);
    return;
  }
  if (conn->handler != NULL || nread != UV_EOF) {
    conn_close(conn);
    return;
  }
  close_gracefully(conn);
}

void conn_on_connection(uv_stream_t *listener, int status)
{
  struct server *srv = listener->data;

  if (status == 0)
    status = conn_accept(srv);
  if (status < 0) {
    /* libuv keeps listening after a failed accept (EMFILE included). */
    log_event("accept-failed", "error", uv_strerror(status));
  }
}

/* Creates a connection around a stream handle type; is_pipe selects a
 * Unix socket (uv_pipe_t) or TCP (uv_tcp_t). */
static struct conn *conn_new(struct server *srv, bool is_pipe)
{
  struct conn *conn = mr_xcalloc(1, sizeof(*conn));

  conn->srv = srv;
  if (is_pipe)
    uv_pipe_init(srv->loop, &conn->h.pipe, 0);
  else
    uv_tcp_init(srv->loop, &conn->h.tcp);
  conn->h.handle.data = conn;
  uv_timer_init(srv->loop, &conn->timer);
  uv_timer_init(srv->loop, &conn->linger);
  conn->timer.data = conn->linger.data = conn;

  conn->next = srv->conns;
  if (srv->conns != NULL)
    srv->conns->prev = conn;
  srv->conns = conn;
  return conn;
}

static void conn_start(struct conn *conn)
{
  http_parser_init(&conn->parser, HTTP_REQUEST);
  conn->parser.data = conn;
  reset_request_state(conn);
  conn->state = CONN_READING;
  uv_timer_start(&conn->timer, on_request_timeout, MR_REQUEST_TIMEOUT_MS, 0);
  uv_read_start(&conn->h.stream, on_alloc, on_read);
}

int conn_accept(struct server *srv)
{
  bool is_pipe = srv->config.bind_uds != NULL;
  struct conn *conn = conn_new(srv, is_pipe);
  int rc;

  rc = uv_accept(&srv->listener.stream, &conn->h.stream);
  if (rc < 0) {
    conn_close(conn);
    return rc;
  }
  if (!is_pipe)
    uv_tcp_nodelay(&conn->h.tcp, 1);
  conn_start(conn);
  return 0;
}

int conn_adopt(struct server *srv, int fd)
{
  struct conn *conn = conn_new(srv, true);
  int rc = uv_pipe_open(&conn->h.pipe, fd);

  if (rc < 0) {
    conn_close(conn);
    return rc;
  }
  conn_start(conn);
  return 0;
}
