/* RUN_REMOTE_SERVER URLs. */
#include "config-host.h"

#include "url.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rr_util.h"

static bool valid_name(const char *host)
{
  size_t i;

  if (host[0] == '\0')
    return false;
  for (i = 0; host[i] != '\0'; i++) {
    unsigned char c = (unsigned char)host[i];

    if (!isalnum(c) && c != '-' && c != '.' && c != '_')
      return false;
  }
  return true;
}

static bool valid_port(const char *port)
{
  unsigned long value = 0;
  size_t i;

  if (port[0] == '\0' || strlen(port) > 5)
    return false;
  for (i = 0; port[i] != '\0'; i++) {
    if (port[i] < '0' || port[i] > '9')
      return false;
    value = value * 10 + (unsigned long)(port[i] - '0');
  }
  return value <= 65535;
}

/* Splits "host[:port]" with the host possibly in brackets. */
static int parse_authority(const char *text, size_t len, struct rr_url *url)
{
  char *authority = rr_xmemdup0(text, len);
  char *port = NULL;
  int rc = -1;

  if (authority[0] == '[') {
    char *close = strchr(authority, ']');
    struct in6_addr addr;

    if (close == NULL || (close[1] != '\0' && close[1] != ':'))
      goto out;
    url->host = rr_xmemdup0(authority + 1, (size_t)(close - authority - 1));
    if (inet_pton(AF_INET6, url->host, &addr) != 1)
      goto out;
    if (close[1] == ':')
      port = close + 2;
  } else {
    char *colon = strchr(authority, ':');

    if (colon != NULL) {
      *colon = '\0';
      port = colon + 1;
    }
    url->host = rr_xstrdup(authority);
    if (!valid_name(url->host))
      goto out;
  }
  if (port != NULL && port[0] != '\0' && !valid_port(port))
    goto out;
  url->port = rr_xstrdup(port != NULL && port[0] != '\0' ? port : "80");
  url->host_header = rr_xmemdup0(text, len);
  rc = 0;
out:
  free(authority);
  return rc;
}

int rr_url_parse(const char *text, struct rr_url *url)
{
  const char *authority, *end, *query;

  memset(url, 0, sizeof(*url));
  if (strncasecmp(text, "http://", 7) != 0)
    return -1;
  authority = text + 7;
  end = authority + strcspn(authority, "/?#");
  if (parse_authority(authority, (size_t)(end - authority), url) < 0) {
    rr_url_free(url);
    return -1;
  }

  query = strchr(end, '?');
  if (query != NULL) {
    url->path = rr_xmemdup0(end, (size_t)(query - end));
    url->query = rr_xmemdup0(query + 1, strcspn(query + 1, "#"));
  } else {
    url->path = rr_xmemdup0(end, strcspn(end, "#"));
  }
  if (strchr(url->path, '#') != NULL || strchr(url->path, ' ') != NULL) {
    rr_url_free(url);
    return -1;
  }
  return 0;
}

static char *with_query(const char *path, const char *query)
{
  if (query == NULL)
    return rr_xstrdup(path);
  return rr_asprintf("%s?%s", path, query);
}

char *rr_url_target(const struct rr_url *url)
{
  return with_query(url->path[0] != '\0' ? url->path : "/", url->query);
}

char *rr_url_check_target(const struct rr_url *url)
{
  /* An absent path is "/", whose only segment is empty. */
  const char *segments = url->path[0] == '/' ? url->path + 1 : url->path;
  const char *last = strrchr(segments, '/');
  const char *last_segment = last != NULL ? last + 1 : segments;
  size_t keep = (size_t)(last_segment - segments);
  char *path, *target;

  if (strcmp(last_segment, "raw") == 0)
    path = rr_asprintf("/%.*scheck", (int)keep, segments);
  else
    path = rr_asprintf("/%s/check", segments);
  target = with_query(path, url->query);
  free(path);
  return target;
}

void rr_url_free(struct rr_url *url)
{
  free(url->host);
  free(url->host_header);
  free(url->port);
  free(url->path);
  free(url->query);
  memset(url, 0, sizeof(*url));
}
