/* A blocking HTTP/1.1 client for run-remote. */
#include "config-host.h"

#include "http.h"

#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <http_parser.h>

#include "rr_util.h"

volatile int rr_http_socket = -1;

const char *rr_reason_phrase(int status)
{
  switch (status) {
#define PHRASE(num, name, text)                                                \
  case num:                                                                    \
    return #text;
    HTTP_STATUS_MAP(PHRASE)
#undef PHRASE
  default:
    return "Unknown Status";
  }
}

static int connect_unix(const char *path, char **error)
{
  struct sockaddr_un addr;
  int fd;

  memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof(addr.sun_path)) {
    *error = rr_asprintf("request failed: cannot connect to '%s': %s", path,
                         strerror(ENAMETOOLONG));
    return -1;
  }
  memcpy(addr.sun_path, path, strlen(path));
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
    *error = rr_asprintf("request failed: cannot connect to '%s': %s", path,
                         strerror(errno));
    if (fd >= 0)
      close(fd);
    return -1;
  }
  return fd;
}

static int connect_tcp(const char *host, const char *port, char **error)
{
  struct addrinfo hints, *list = NULL, *ai;
  int fd = -1, err = 0, rc;

  memset(&hints, 0, sizeof(hints));
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_family = AF_UNSPEC;
  /* A numeric address needs no name service, which a static binary can
   * only load from the glibc it was built with. */
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  rc = getaddrinfo(host, port, &hints, &list);
  if (rc != 0) {
    hints.ai_flags = AI_NUMERICSERV;
    rc = getaddrinfo(host, port, &hints, &list);
  }
  if (rc != 0) {
    *error = rr_asprintf("request failed: cannot resolve '%s': %s", host,
                         gai_strerror(rc));
    return -1;
  }
  for (ai = list; ai != NULL; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
      break;
    err = errno;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(list);
  if (fd < 0)
    *error = rr_asprintf("request failed: cannot connect to %s:%s: %s", host,
                         port, strerror(err));
  return fd;
}

static int send_all(int fd, const char *data, size_t len)
{
  while (len > 0) {
    ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -errno;
    data += n;
    len -= (size_t)n;
  }
  return 0;
}

struct response_state {
  const struct rr_response_handler *handler;
  bool complete;
  bool stopped;
};

static int on_headers_complete(http_parser *parser)
{
  struct response_state *state = parser->data;

  /* run-remote sends no Expect header, so no interim 1xx response
   * comes before the final one. */
  if (state->handler->on_status(state->handler->ctx,
                                (int)parser->status_code) != 0) {
    state->stopped = true;
    return -1;
  }
  return 0;
}

static int on_body(http_parser *parser, const char *at, size_t len)
{
  struct response_state *state = parser->data;

  if (state->handler->on_body(state->handler->ctx, at, len) != 0) {
    state->stopped = true;
    return -1;
  }
  return 0;
}

static int on_message_complete(http_parser *parser)
{
  struct response_state *state = parser->data;

  state->complete = true;
  http_parser_pause(parser, 1);
  return 0;
}

static enum rr_http_result
read_response(int fd, const struct rr_response_handler *h, char **error)
{
  static const http_parser_settings settings = {
      .on_headers_complete = on_headers_complete,
      .on_body = on_body,
      .on_message_complete = on_message_complete,
  };
  struct response_state state = {h, false, false};
  http_parser parser;
  char buffer[65536];

  http_parser_init(&parser, HTTP_RESPONSE);
  parser.data = &state;
  for (;;) {
    ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    size_t parsed;

    if (n < 0 && errno == EINTR)
      return RR_HTTP_STOPPED;
    if (n < 0) {
      *error = rr_asprintf("request failed: %s", strerror(errno));
      return RR_HTTP_FAILED;
    }
    parsed = http_parser_execute(&parser, &settings, buffer, (size_t)n);
    if (state.stopped)
      return RR_HTTP_STOPPED;
    if (state.complete)
      return RR_HTTP_COMPLETE;
    if (HTTP_PARSER_ERRNO(&parser) != HPE_OK || parsed != (size_t)n) {
      *error = rr_asprintf("request failed: invalid HTTP response: %s",
                           http_errno_description(HTTP_PARSER_ERRNO(&parser)));
      return RR_HTTP_FAILED;
    }
    if (n == 0) {
      *error = rr_xstrdup("request failed: connection closed before the "
                          "response was complete");
      return RR_HTTP_FAILED;
    }
  }
}

enum rr_http_result rr_http_post(const struct rr_target *target,
                                 const char *body, size_t len,
                                 const struct rr_response_handler *handler,
                                 char **error)
{
  enum rr_http_result result;
  char *head;
  int fd, rc;

  if (target->socket_path != NULL)
    fd = connect_unix(target->socket_path, error);
  else
    fd = connect_tcp(target->host, target->port, error);
  if (fd < 0)
    return RR_HTTP_FAILED;
  rr_http_socket = fd;

  head = rr_asprintf("POST %s HTTP/1.1\r\n"
                     "Host: %s\r\n"
                     "Content-Type: application/json\r\n"
                     "Content-Length: %zu\r\n"
                     "Connection: close\r\n"
                     "\r\n",
                     target->request_target, target->host_header, len);
  rc = send_all(fd, head, strlen(head));
  if (rc == 0)
    rc = send_all(fd, body, len);
  free(head);
  if (rc < 0) {
    *error = rr_asprintf("request failed: %s", strerror(-rc));
    result = RR_HTTP_FAILED;
  } else {
    result = read_response(fd, handler, error);
  }

  rr_http_socket = -1;
  close(fd);
  return result;
}
