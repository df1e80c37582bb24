/* The request document shared by /raw, /check and the MCP tools. */
#include "config-host.h"

#include "request.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

json_t *mr_json_loadb(const char *text, size_t len, char **detail)
{
  json_error_t error;
  json_t *doc;

  /* NOTE: jansson 2.14 rejects \u0000 in object keys even with
   * JSON_ALLOW_NUL, so an env name with a NUL byte is a payload error
   * (400) here rather than a spawn failure. */
  doc = json_loadb(text, len,
                   JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY,
                   &error);
  if (doc == NULL)
    *detail = mr_asprintf("%s at line %d column %d", error.text, error.line,
                          error.column);
  return doc;
}

static void copy_string(const json_t *value, struct mr_string *out)
{
  out->len = json_string_length(value);
  out->data = mr_xmemdup0(json_string_value(value), out->len);
}

static int parse_args(const json_t *args, struct mr_request *req, char **detail)
{
  size_t i;

  if (!json_is_array(args)) {
    *detail = mr_xstrdup("invalid type for `args`: expected an array of "
                         "strings");
    return -1;
  }
  req->nargs = json_array_size(args);
  req->args = mr_xcalloc(req->nargs, sizeof(*req->args));
  for (i = 0; i < req->nargs; i++) {
    const json_t *arg = json_array_get(args, i);

    if (!json_is_string(arg)) {
      *detail =
          mr_asprintf("invalid type for `args[%zu]`: expected a string", i);
      return -1;
    }
    copy_string(arg, &req->args[i]);
  }
  return 0;
}

static int parse_env(const json_t *env, struct mr_request *req, char **detail)
{
  const char *key;
  json_t *value;

  if (env == NULL || json_is_null(env)) {
    req->env = json_object();
    return 0;
  }
  if (!json_is_object(env)) {
    *detail = mr_xstrdup("invalid type for `env`: expected an object of "
                         "strings");
    return -1;
  }
  json_object_foreach((json_t *)env, key, value)
  {
    if (!json_is_string(value)) {
      *detail =
          mr_asprintf("invalid type for `env.%s`: expected a string", key);
      return -1;
    }
  }
  req->env = json_deep_copy(env);
  return 0;
}

int request_from_json(const json_t *doc, struct mr_request *req, char **detail)
{
  const json_t *executable, *args, *cwd;

  memset(req, 0, sizeof(*req));
  if (!json_is_object(doc)) {
    *detail = mr_xstrdup("invalid type: expected a JSON object");
    return -1;
  }

  executable = json_object_get(doc, "executable");
  if (executable == NULL) {
    *detail = mr_xstrdup("missing field `executable`");
    return -1;
  }
  if (!json_is_string(executable)) {
    *detail = mr_xstrdup("invalid type for `executable`: expected a string");
    return -1;
  }
  copy_string(executable, &req->executable);

  args = json_object_get(doc, "args");
  if (args != NULL && parse_args(args, req, detail) < 0)
    return -1;

  cwd = json_object_get(doc, "cwd");
  if (cwd != NULL && !json_is_null(cwd)) {
    if (!json_is_string(cwd)) {
      *detail = mr_xstrdup("invalid type for `cwd`: expected a string or "
                           "null");
      return -1;
    }
    req->has_cwd = true;
    copy_string(cwd, &req->cwd);
  }

  return parse_env(json_object_get(doc, "env"), req, detail);
}

int request_parse(const char *body, size_t len, struct mr_request *req,
                  char **detail)
{
  json_t *doc = mr_json_loadb(body, len, detail);
  int rc;

  memset(req, 0, sizeof(*req));
  if (doc == NULL)
    return -1;
  rc = request_from_json(doc, req, detail);
  json_decref(doc);
  return rc;
}

void request_free(struct mr_request *req)
{
  size_t i;

  free(req->executable.data);
  for (i = 0; i < req->nargs; i++)
    free(req->args[i].data);
  free(req->args);
  free(req->cwd.data);
  json_decref(req->env);
  memset(req, 0, sizeof(*req));
}

bool request_is_json_type(const char *content_type)
{
  size_t len;
  const char *semicolon;

  if (content_type == NULL)
    return false;
  while (*content_type == ' ' || *content_type == '\t')
    content_type++;
  semicolon = strchr(content_type, ';');
  len = semicolon != NULL ? (size_t)(semicolon - content_type)
                          : strlen(content_type);
  while (len > 0 &&
         (content_type[len - 1] == ' ' || content_type[len - 1] == '\t'))
    len--;

  if (len < 12 || strncasecmp(content_type, "application/", 12) != 0)
    return false;
  if (len == 16 && strncasecmp(content_type + 12, "json", 4) == 0)
    return true;
  /* application/<subtype>+json with a non-empty subtype */
  return len > 17 && strncasecmp(content_type + len - 5, "+json", 5) == 0 &&
         memchr(content_type + 12, '/', len - 12) == NULL;
}
