/* mcp-run's configuration from the environment. */
#include "config-host.h"

#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

int config_check_bind_uds(const char *path, char **error)
{
  cleanup_free char *parent = NULL;
  const char *slash;
  struct stat st;

  if (path[0] != '/') {
    *error = mr_asprintf("MCP_BIND_UDS must be an absolute path: '%s'", path);
    return -1;
  }

  slash = strrchr(path, '/');
  parent = slash == path ? mr_xstrdup("/")
                         : mr_xmemdup0(path, (size_t)(slash - path));
  if (stat(parent, &st) < 0 || !S_ISDIR(st.st_mode)) {
    *error =
        mr_asprintf("MCP_BIND_UDS parent directory does not exist: '%s'", path);
    return -1;
  }
  return 0;
}

/* Parses PORT: 1 to 5 decimal digits, at most 65535. */
static bool parse_port(const char *text, in_port_t *port)
{
  unsigned long value = 0;
  size_t i;

  if (text[0] == '\0' || strlen(text) > 5)
    return false;
  for (i = 0; text[i] != '\0'; i++) {
    if (text[i] < '0' || text[i] > '9')
      return false;
    value = value * 10 + (unsigned long)(text[i] - '0');
  }
  if (value > 65535)
    return false;
  *port = htons((uint16_t)value);
  return true;
}

static bool parse_addr(const char *text, struct sockaddr_storage *addr)
{
  cleanup_free char *host = NULL;
  const char *colon;

  memset(addr, 0, sizeof(*addr));
  if (text[0] == '[') {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)addr;
    const char *close = strchr(text, ']');

    if (close == NULL || close[1] != ':')
      return false;
    host = mr_xmemdup0(text + 1, (size_t)(close - text - 1));
    in6->sin6_family = AF_INET6;
    return inet_pton(AF_INET6, host, &in6->sin6_addr) == 1 &&
           parse_port(close + 2, &in6->sin6_port);
  }

  colon = strrchr(text, ':');
  if (colon == NULL)
    return false;
  host = mr_xmemdup0(text, (size_t)(colon - text));
  {
    struct sockaddr_in *in4 = (struct sockaddr_in *)addr;

    in4->sin_family = AF_INET;
    /* localhost is the one host name accepted, always as IPv4 loopback. */
    if (strcmp(host, "localhost") == 0)
      in4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else if (inet_pton(AF_INET, host, &in4->sin_addr) != 1)
      return false;
    return parse_port(colon + 1, &in4->sin_port);
  }
}

int config_parse_bind_addr(const char *text, struct sockaddr_storage *addr,
                           char **error)
{
  if (!parse_addr(text, addr)) {
    *error = mr_asprintf(
        "invalid MCP_BIND_ADDR '%s': invalid socket address syntax", text);
    return -1;
  }
  return 0;
}

int config_parse_max_concurrent(const char *text, unsigned *value, char **error)
{
  unsigned long long n = 0;
  size_t i;

  for (i = 0; text[i] != '\0'; i++) {
    if (text[i] < '0' || text[i] > '9' || n > UINT_MAX)
      break;
    n = n * 10 + (unsigned long long)(text[i] - '0');
  }
  if (i == 0 || text[i] != '\0' || n < 1 || n > INT_MAX) {
    *error = mr_asprintf(
        "invalid MCP_MAX_CONCURRENT '%s': expected a positive integer", text);
    return -1;
  }
  *value = (unsigned)n;
  return 0;
}

int config_check_default_cwd(const char *cwd, char **error)
{
  if (cwd[0] != '/') {
    *error = mr_asprintf("default cwd must be absolute: %s", cwd);
    return -1;
  }
  return 0;
}

static int read_default_cwd(struct mr_config *config, char **error)
{
  char *cwd = getcwd(NULL, 0);

  if (cwd == NULL) {
    *error = mr_asprintf("failed to get current working directory: %s",
                         mr_strerror(errno));
    return -1;
  }
  config->default_cwd = cwd;
  return config_check_default_cwd(cwd, error);
}

int config_load(struct mr_config *config, char **error)
{
  cleanup_free char *max_concurrent = NULL;

  memset(config, 0, sizeof(*config));
  config->bind_uds = mr_getenv_trimmed("MCP_BIND_UDS");
  config->bind_addr_text = mr_getenv_trimmed("MCP_BIND_ADDR");

  if (config->bind_uds != NULL && config->bind_addr_text != NULL) {
    *error = mr_xstrdup("MCP_BIND_ADDR and MCP_BIND_UDS cannot both be set");
    return -1;
  }
  if (config->bind_uds != NULL) {
    if (config_check_bind_uds(config->bind_uds, error) < 0)
      return -1;
  } else {
    if (config->bind_addr_text == NULL)
      config->bind_addr_text = mr_xstrdup(MR_DEFAULT_BIND_ADDR);
    if (config_parse_bind_addr(config->bind_addr_text, &config->bind_addr,
                               error) < 0)
      return -1;
  }

  config->max_concurrent = MR_DEFAULT_MAX_CONCURRENT;
  max_concurrent = mr_getenv_trimmed("MCP_MAX_CONCURRENT");
  if (max_concurrent != NULL &&
      config_parse_max_concurrent(max_concurrent, &config->max_concurrent,
                                  error) < 0)
    return -1;

  config->policy_dir = mr_getenv_trimmed("POLICY_DIR");
  if (read_default_cwd(config, error) < 0)
    return -1;

  config->path = mr_getenv_trimmed("PATH");
  config->home = mr_getenv_trimmed("HOME");
  config->lang = mr_getenv_trimmed("LANG");
  config->http_proxy = mr_getenv_trimmed("http_proxy");
  config->https_proxy = mr_getenv_trimmed("https_proxy");
  config->no_proxy = mr_getenv_trimmed("no_proxy");
  config->node_use_env_proxy = mr_getenv_trimmed("NODE_USE_ENV_PROXY");
  return 0;
}

void config_free(struct mr_config *config)
{
  free(config->bind_uds);
  free(config->bind_addr_text);
  free(config->policy_dir);
  free(config->default_cwd);
  free(config->path);
  free(config->home);
  free(config->lang);
  free(config->http_proxy);
  free(config->https_proxy);
  free(config->no_proxy);
  free(config->node_use_env_proxy);
  memset(config, 0, sizeof(*config));
}
