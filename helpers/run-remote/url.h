/* RUN_REMOTE_SERVER URLs: http://host[:port][/path][?query]. */
#ifndef RUN_REMOTE_URL_H
#define RUN_REMOTE_URL_H

struct rr_url {
  char *host;        /* without brackets */
  char *host_header; /* host[:port] as written, for the Host header */
  char *port;        /* decimal, "80" by default */
  char *path;        /* as written, "" when absent */
  char *query;       /* without '?', NULL when absent */
};

/* Parses a URL.  Returns 0, or -1 when it is not a full http URL. */
int rr_url_parse(const char *text, struct rr_url *url);
/* The request target of the URL as given: path (or "/") and query. */
char *rr_url_target(const struct rr_url *url);
/* The target of the derived check route: a last path segment "raw"
 * becomes "check", otherwise "check" is appended. */
char *rr_url_check_target(const struct rr_url *url);
void rr_url_free(struct rr_url *url);

#endif
