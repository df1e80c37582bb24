/* The authorization pipeline. */
#include "config-host.h"

#include "authz.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cwd.h"
#include "exe.h"

/* Appends "<prefix>'<value>': <detail>" with a value that may contain NUL
 * bytes. */
static void set_reason(struct authz *result, const char *prefix,
                       const struct mr_string *value, const char *detail)
{
  buf_reset(&result->reason);
  buf_puts(&result->reason, prefix);
  buf_append(&result->reason, "'", 1);
  buf_append(&result->reason, value->data, value->len);
  buf_append(&result->reason, "': ", 3);
  buf_puts(&result->reason, detail);
}

json_t *authz_policy_input(const struct mr_request *req, const char *path,
                           const char *hash, const char *cwd_label)
{
  json_t *input = json_object();
  json_t *args = json_array();
  size_t i;

  for (i = 0; i < req->nargs; i++)
    json_array_append_new(args,
                          json_stringn(req->args[i].data, req->args[i].len));
  json_object_set_new(input, "command",
                      json_stringn(req->executable.data, req->executable.len));
  json_object_set_new(input, "path", mr_json_string_lossy(path, strlen(path)));
  json_object_set_new(input, "hash", json_string(hash));
  json_object_set_new(input, "args", args);
  json_object_set(input, "env", req->env);
  json_object_set_new(input, "cwd",
                      mr_json_string_lossy(cwd_label, strlen(cwd_label)));
  return input;
}

static void evaluate(const struct authz_env *env, const struct mr_request *req,
                     struct authz *result)
{
  const struct mr_string *command = &req->executable;
  cleanup_free char *detail = NULL;
  json_t *input;

  policy_check_reload(env->policy);
  input = authz_policy_input(req, result->resolved_path, result->hash,
                             result->cwd_label);
  switch (policy_evaluate(env->policy, input, &detail)) {
  case POLICY_ALLOW:
    result->allowed = true;
    break;
  case POLICY_DENY:
    buf_puts(&result->reason, "Command not allowed: ");
    buf_append(&result->reason, command->data, command->len);
    break;
  case POLICY_DENY_ALL:
    buf_puts(&result->reason, "Policy deny-all is active: ");
    buf_puts(&result->reason, detail);
    break;
  case POLICY_EVAL_FAILED:
    set_reason(result, "Policy evaluation failed for ", command, detail);
    break;
  }
  json_decref(input);
}

void authz_run(const struct authz_env *env, const struct mr_request *req,
               struct authz *result)
{
  struct mr_string default_cwd;
  const struct mr_string *cwd;
  char *detail = NULL;

  memset(result, 0, sizeof(*result));
  result->cwd_fd = -1;
  result->exe_fd = -1;
  result->mode_at_start = policy_mode(env->policy);

  default_cwd.data = (char *)env->default_cwd;
  default_cwd.len = strlen(env->default_cwd);
  cwd = req->has_cwd ? &req->cwd : &default_cwd;
  if (cwd_resolve(cwd->data, cwd->len, &result->cwd_fd, &result->cwd_label,
                  &detail) < 0) {
    set_reason(result, "Failed to resolve cwd ", cwd, detail);
    free(detail);
    return;
  }

  if (exe_resolve(req->executable.data, req->executable.len, env->search_path,
                  env->default_cwd, &result->resolved_path, &detail) < 0) {
    set_reason(result, "Failed to resolve executable path for ",
               &req->executable, detail);
    free(detail);
    return;
  }

  if (exe_open_and_hash(result->resolved_path, &result->exe_fd, result->hash,
                        &result->is_script, &detail) < 0) {
    set_reason(result, "Failed to compute executable hash for ",
               &req->executable, detail);
    free(detail);
    return;
  }
  result->has_hash = true;

  evaluate(env, req, result);
}

void authz_release(struct authz *result)
{
  if (result->cwd_fd >= 0)
    close(result->cwd_fd);
  if (result->exe_fd >= 0)
    close(result->exe_fd);
  result->cwd_fd = -1;
  result->exe_fd = -1;
  buf_free(&result->reason);
  free(result->resolved_path);
  free(result->cwd_label);
  result->resolved_path = NULL;
  result->cwd_label = NULL;
}

json_t *authz_decision_json(const struct authz *result,
                            const struct mr_request *req)
{
  json_t *doc = json_object();
  const char *path = result->resolved_path;
  const char *label = result->cwd_label;

  json_object_set_new(doc, "allowed", json_boolean(result->allowed));
  json_object_set_new(doc, "reason",
                      result->allowed
                          ? json_null()
                          : mr_json_string_lossy(result->reason.data != NULL
                                                     ? result->reason.data
                                                     : "",
                                                 result->reason.len));
  json_object_set_new(doc, "executable",
                      json_stringn(req->executable.data, req->executable.len));
  json_object_set_new(doc, "resolvedPath",
                      path != NULL ? mr_json_string_lossy(path, strlen(path))
                                   : json_null());
  json_object_set_new(
      doc, "hash", result->has_hash ? json_string(result->hash) : json_null());
  json_object_set_new(doc, "cwd",
                      label != NULL ? mr_json_string_lossy(label, strlen(label))
                                    : json_null());
  json_object_set_new(doc, "policyMode",
                      json_string(policy_mode_name(result->mode_at_start)));
  return doc;
}
