/* mcp-run's configuration, read once from the environment at startup. */
#ifndef MCP_RUN_CONFIG_H
#define MCP_RUN_CONFIG_H

#include <stdbool.h>
#include <sys/socket.h>

#define MR_DEFAULT_BIND_ADDR "127.0.0.1:8000"
#define MR_DEFAULT_MAX_CONCURRENT 64

struct mr_config {
  char *bind_uds;       /* MCP_BIND_UDS, or NULL for TCP */
  char *bind_addr_text; /* MCP_BIND_ADDR or the default */
  struct sockaddr_storage bind_addr;
  unsigned max_concurrent; /* MCP_MAX_CONCURRENT */
  char *policy_dir;        /* POLICY_DIR, NULL when unset */
  char *default_cwd;       /* getcwd() at startup */
  /* Copied to children (trimmed), NULL when unset. */
  char *path;
  char *home;
  char *lang;
  char *http_proxy;
  char *https_proxy;
  char *no_proxy;
  char *node_use_env_proxy;
};

/* Each step returns 0, or -1 with a malloc()ed one-line message in *error
 * (the text after "Error: "). */
int config_check_bind_uds(const char *path, char **error);
int config_parse_bind_addr(const char *text, struct sockaddr_storage *addr,
                           char **error);
int config_parse_max_concurrent(const char *text, unsigned *value,
                                char **error);
int config_check_default_cwd(const char *cwd, char **error);

/* Reads and checks the environment in the order of the startup steps. */
int config_load(struct mr_config *config, char **error);
void config_free(struct mr_config *config);

#endif
