/* A blocking HTTP/1.1 client for one POST over TCP or a Unix socket. */
#ifndef RUN_REMOTE_HTTP_H
#define RUN_REMOTE_HTTP_H

#include <stddef.h>

struct rr_target {
  const char *socket_path; /* Unix socket, or NULL for TCP */
  const char *host;        /* TCP host */
  const char *port;        /* TCP port */
  const char *host_header;
  const char *request_target; /* path and query */
};

/* Receives the response: the status once the head is read, then the body
 * in pieces.  A callback returns 0 to go on, 1 to stop reading. */
struct rr_response_handler {
  int (*on_status)(void *ctx, int status);
  int (*on_body)(void *ctx, const char *data, size_t len);
  void *ctx;
};

enum rr_http_result {
  RR_HTTP_COMPLETE, /* the whole response was read */
  RR_HTTP_STOPPED,  /* a callback stopped reading */
  RR_HTTP_FAILED,   /* error contains "request failed: ..." */
};

/* The descriptor of the open connection, for a signal handler; -1 when
 * none. */
extern volatile int rr_http_socket;

enum rr_http_result rr_http_post(const struct rr_target *target,
                                 const char *body, size_t len,
                                 const struct rr_response_handler *handler,
                                 char **error);

/* The standard reason phrase of a status code. */
const char *rr_reason_phrase(int status);

#endif
