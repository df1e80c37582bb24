/* The Rego policy of mcp-run: the modules under POLICY_DIR, compiled into
 * a snapshot that decides data.sandbox.main.allow, reloaded when their
 * fingerprint (sorted path, size and mtime of every module) changes.  A
 * policy that cannot be loaded puts the server in deny-all mode. */
#ifndef MCP_RUN_POLICY_H
#define MCP_RUN_POLICY_H

#include <stdbool.h>

#include <jansson.h>

#define POLICY_QUERY "data.sandbox.main.allow"

enum policy_mode {
  POLICY_MODE_REGO,
  POLICY_MODE_DENY_ALL,
};

enum policy_decision {
  POLICY_ALLOW,
  POLICY_DENY,        /* the query returned false */
  POLICY_DENY_ALL,    /* detail: the deny-all reason */
  POLICY_EVAL_FAILED, /* detail: the engine's message */
};

struct policy;

/* Creates the policy and loads it once; dir NULL means permanent
 * deny-all.  Never fails: a broken policy only means deny-all. */
struct policy *policy_new(const char *dir);
void policy_free(struct policy *policy);

enum policy_mode policy_mode(const struct policy *policy);
const char *policy_mode_name(enum policy_mode mode);
/* The deny-all reason, NULL in rego mode. */
const char *policy_deny_reason(const struct policy *policy);

/* Loads the modules again whatever their fingerprint. */
void policy_reload(struct policy *policy);
/* Reloads when the fingerprint differs from the active snapshot's. */
void policy_check_reload(struct policy *policy);

/* Evaluates the query on input (not stolen).  *detail is set (malloc()ed)
 * for POLICY_DENY_ALL and POLICY_EVAL_FAILED. */
enum policy_decision policy_evaluate(struct policy *policy, json_t *input,
                                     char **detail);

#endif
