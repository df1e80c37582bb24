/* Fixed documents of the MCP endpoint. */
#include "config-host.h"

#include "mcp_tools.h"

#include <stdlib.h>

#include "util.h"

static const char input_schema[] =
    "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
    "\"title\":\"RunCommandInput\",\"type\":\"object\","
    "\"required\":[\"executable\"],"
    "\"properties\":{\"executable\":{\"type\":\"string\"},"
    "\"args\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},"
    "\"default\":[]},"
    "\"cwd\":{\"type\":\"string\",\"nullable\":true,\"default\":null},"
    "\"env\":{\"type\":\"object\",\"additionalProperties\":{\"type\":"
    "\"string\"},\"nullable\":true,\"default\":null}}}";

/* Output schemas name no $schema, so clients validate them with their
 * default JSON Schema draft. */
static const char run_output_schema[] =
    "{\"type\":\"object\",\"title\":\"RunCommandOutput\","
    "\"required\":[\"stdout\",\"stderr\",\"exitCode\"],"
    "\"properties\":{\"stdout\":{\"type\":\"string\"},"
    "\"stderr\":{\"type\":\"string\"},"
    "\"exitCode\":{\"type\":[\"integer\",\"null\"]}}}";

static const char check_output_schema[] =
    "{\"type\":\"object\",\"title\":\"CheckCommandOutput\","
    "\"required\":[\"allowed\",\"reason\",\"executable\",\"resolvedPath\","
    "\"hash\",\"cwd\",\"policyMode\"],"
    "\"properties\":{\"allowed\":{\"type\":\"boolean\"},"
    "\"reason\":{\"type\":[\"string\",\"null\"]},"
    "\"executable\":{\"type\":\"string\"},"
    "\"resolvedPath\":{\"type\":[\"string\",\"null\"]},"
    "\"hash\":{\"type\":[\"string\",\"null\"]},"
    "\"cwd\":{\"type\":[\"string\",\"null\"]},"
    "\"policyMode\":{\"type\":\"string\",\"enum\":[\"rego\",\"deny-all\"]}}}";

static json_t *parse_fixed(const char *text)
{
  json_t *doc = json_loads(text, 0, NULL);

  if (doc == NULL)
    abort();
  return doc;
}

static json_t *tool(const char *name, const char *description,
                    const char *output_schema)
{
  json_t *t = json_object();

  json_object_set_new(t, "name", json_string(name));
  json_object_set_new(t, "description", json_string(description));
  json_object_set_new(t, "inputSchema", parse_fixed(input_schema));
  json_object_set_new(t, "outputSchema", parse_fixed(output_schema));
  return t;
}

json_t *mcp_tools_list(void)
{
  json_t *tools = json_array();
  json_t *result = json_object();

  json_array_append_new(
      tools, tool("run_command",
                  "Run an allowlisted command directly, without a shell, and "
                  "return its output and exit code.",
                  run_output_schema));
  json_array_append_new(
      tools, tool("check_command",
                  "Report whether a command request would be allowed, "
                  "without running it.",
                  check_output_schema));
  json_object_set_new(result, "tools", tools);
  return result;
}

json_t *mcp_initialize_result(const char *version, const char *server_version)
{
  json_t *result = json_object();
  json_t *capabilities = json_object();
  json_t *info = json_object();

  json_object_set_new(capabilities, "tools", json_object());
  json_object_set_new(info, "name", json_string("mcp-run"));
  json_object_set_new(info, "title", json_string("mcp-run"));
  json_object_set_new(info, "version", json_string(server_version));
  json_object_set_new(
      info, "description",
      json_string("Policy-checked command runner; no shell is involved"));
  json_object_set_new(result, "protocolVersion", json_string(version));
  json_object_set_new(result, "capabilities", capabilities);
  json_object_set_new(result, "serverInfo", info);
  json_object_set_new(result, "instructions",
                      json_string(MCP_SERVER_INSTRUCTIONS));
  return result;
}
