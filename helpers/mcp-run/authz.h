/* The authorization pipeline shared by /raw, /check and the MCP tools:
 * trusted cwd, executable resolution, hashing of the descriptor that will
 * run, then the policy.  The first failing step gives the reason. */
#ifndef MCP_RUN_AUTHZ_H
#define MCP_RUN_AUTHZ_H

#include <stdbool.h>

#include <jansson.h>

#include "policy.h"
#include "request.h"
#include "util.h"

struct authz_env {
  struct policy *policy;
  const char *default_cwd;
  const char *search_path; /* mcp-run's PATH, NULL when unset */
};

struct authz {
  bool allowed;
  struct buf reason; /* empty when allowed; may contain NUL bytes */
  char *resolved_path;
  bool has_hash;
  char hash[65];
  char *cwd_label;
  enum policy_mode mode_at_start;
  /* Kept open until the spawn or the end of the request. */
  int cwd_fd;
  int exe_fd;
  bool is_script;
};

/* Runs every step and fills result; never fails as a function. */
void authz_run(const struct authz_env *env, const struct mr_request *req,
               struct authz *result);
/* Closes the descriptors and frees the strings. */
void authz_release(struct authz *result);

/* The decision document of /check and check_command, in its fixed key
 * order: allowed, reason, executable, resolvedPath, hash, cwd,
 * policyMode. */
json_t *authz_decision_json(const struct authz *result,
                            const struct mr_request *req);

/* The policy input: exactly command, path, hash, args, env, cwd. */
json_t *authz_policy_input(const struct mr_request *req, const char *path,
                           const char *hash, const char *cwd_label);

#endif
