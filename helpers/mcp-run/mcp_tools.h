/* Fixed documents of the MCP endpoint: tool list and initialize result. */
#ifndef MCP_RUN_MCP_TOOLS_H
#define MCP_RUN_MCP_TOOLS_H

#include <jansson.h>

#define MCP_SERVER_INSTRUCTIONS                                                \
  "Use run_command to run a command that the policy allows and "               \
  "check_command to see the decision without running anything. Every "         \
  "request is checked against the Rego modules in POLICY_DIR."

/* Returns a new {"tools":[run_command, check_command]} document. */
json_t *mcp_tools_list(void);
/* Returns a new initialize result for the negotiated version. */
json_t *mcp_initialize_result(const char *version, const char *server_version);

#endif
