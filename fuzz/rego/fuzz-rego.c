/* libFuzzer target: parses, compiles and evaluates one module.  The input
 * is a module text; the query is data.x (all rules of package x) with a
 * small fixed input, under tight step and depth limits. */
#include "rego.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct rego_error err;
  struct rego_engine *e =
      rego_engine_new(size > 0 && data[0] & 1 ? REGO_V1 : REGO_V0);
  struct rego_limits limits = {
      .max_steps = 20000, .max_depth = 300, .max_input_bytes = 4096};
  rego_engine_set_limits(e, &limits);
  rego_engine_set_strict(e, size > 1 && data[1] & 1);
  if (rego_engine_add_module(e, "fuzz.rego", (const char *)data, size, &err) ==
      0) {
    json_t *input = json_pack("{s:s, s:[s,s], s:{s:s}}", "command", "curl",
                              "args", "-I", "example.com", "env", "K", "V");
    rego_engine_set_input(e, input, &err);
    json_t *out = NULL;
    if (rego_engine_eval(e, "data.x", &out, &err) == 1)
      json_decref(out);
    if (rego_engine_eval(e, "data", &out, &err) == 1)
      json_decref(out);
    json_decref(input);
  }
  rego_engine_free(e);
  return 0;
}
