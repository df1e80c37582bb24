/* Benchmark of the Rego engine: decisions per second of the nw_sandbox
 * router with the curl module on a typical input, and the time to load and
 * compile 100 modules.  Usage: rego-bench [SECONDS] (default 2). */
#include "rego.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *read_file(const char *rel, size_t *len)
{
  char path[4096];
  const char *top = getenv("CLADDING_SRCDIR");
  snprintf(path, sizeof(path), "%s/%s", top && *top ? top : REGO_SRCDIR, rel);
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "rego-bench: cannot open %s\n", path);
    exit(1);
  }
  char *buf = malloc(1 << 20);
  *len = fread(buf, 1, (1 << 20) - 1, f);
  buf[*len] = 0;
  fclose(f);
  return buf;
}

int main(int argc, char **argv)
{
  double seconds = argc > 1 ? atof(argv[1]) : 2.0;
  struct rego_error err;
  struct rego_engine *e = rego_engine_new(REGO_V1);
  const char *files[] = {"config-template/nw_sandbox/main.rego",
                         "config-template/nw_sandbox/curl.rego"};
  for (int i = 0; i < 2; i++) {
    size_t len;
    char *text = read_file(files[i], &len);
    if (rego_engine_add_module(e, files[i], text, len, &err) < 0) {
      fprintf(stderr, "rego-bench: %s\n", err.message);
      return 1;
    }
    free(text);
  }
  json_t *input = json_pack(
      "{s:s, s:s, s:s, s:[s,s], s:{}, s:s}", "command", "curl", "path",
      "/usr/bin/curl", "hash",
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
      "args", "-I", "example.com", "env", "cwd", "/home/user/workspace");

  /* Each decision sets the input and evaluates the query, as mcp-run does
   * per request. */
  long n = 0;
  double start = now(), end;
  do {
    for (int i = 0; i < 1000; i++) {
      json_t *out;
      if (rego_engine_set_input(e, input, &err) < 0 ||
          rego_engine_eval(e, "data.sandbox.main.allow", &out, &err) != 1 ||
          !json_is_true(out)) {
        fprintf(stderr, "rego-bench: unexpected result: %s\n", err.message);
        return 1;
      }
      json_decref(out);
    }
    n += 1000;
    end = now();
  } while (end - start < seconds);
  double per = (end - start) / (double)n;
  printf("decision: %ld decisions in %.2f s: %.0f per second, %.2f us each\n",
         n, end - start, (double)n / (end - start), per * 1e6);

  /* Load and compile 100 modules. */
  double t0 = now();
  struct rego_engine *big = rego_engine_new(REGO_V1);
  for (int i = 0; i < 100; i++) {
    char text[512], name[64];
    snprintf(name, sizeof(name), "m%d.rego", i);
    int len = snprintf(text, sizeof(text),
                       "package sandbox.cmd%d\n\nimport rego.v1\n\n"
                       "default allow := false\n\n"
                       "allow if {\n\tinput.path == \"/usr/bin/cmd%d\"\n"
                       "\tinput.args == [\"-v\", \"x\"]\n"
                       "\tstartswith(input.cwd, \"/home/user/\")\n}\n",
                       i, i);
    if (rego_engine_add_module(big, name, text, (size_t)len, &err) < 0) {
      fprintf(stderr, "rego-bench: %s\n", err.message);
      return 1;
    }
  }
  if (rego_engine_compile(big, &err) < 0) {
    fprintf(stderr, "rego-bench: %s\n", err.message);
    return 1;
  }
  printf("load: 100 modules parsed and compiled in %.2f ms\n",
         (now() - t0) * 1e3);
  rego_engine_free(big);
  rego_engine_free(e);
  json_decref(input);
  return 0;
}
