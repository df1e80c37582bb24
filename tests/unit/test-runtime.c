/* Unit tests of the runtime specification: names, labels, the pod and
 * container argv, socket directories, readiness items, required host paths
 * and the summary.  JSON texts use ' for " (see cl_test_load_config), and
 * @ROOT@ in expected values is replaced by ROOT. */
#include "config-host.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "context.h"
#include "project.h"
#include "runtime.h"
#include "testutil.h"
#include "util.h"

struct fixture {
  struct cl_test_project project;
  struct cl_config config;
  struct cl_error err;
  struct cl_test_capture capture;
  struct cl_runtime_spec spec;
};

static const struct cl_identity rootless = {
    .euid = 1000, .uid = 1000, .gid = 1000};
static const struct cl_identity rootful = {.euid = 0, .uid = 0, .gid = 0};

static int setup(void **state)
{
  struct fixture *f = cl_xcalloc(1, sizeof(*f));

  cl_test_project_create(&f->project);
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  struct fixture *f = *state;

  cl_runtime_spec_free(&f->spec);
  cl_config_free(&f->config);
  cl_error_clear(&f->err);
  cl_test_capture_free(&f->capture);
  cl_test_project_remove(&f->project);
  free(f);
  return 0;
}

static void load_ok(struct fixture *f, const char *json)
{
  int ret;

  cl_config_free(&f->config);
  memset(&f->config, 0, sizeof(f->config));
  ret =
      cl_test_load_config(&f->project, json, &f->config, &f->err, &f->capture);
  if (ret != 0)
    fail_msg("loading failed: %s%s", f->capture.err,
             f->err.message ? f->err.message : "");
  assert_string_equal(f->capture.err, "");
}

static void build(struct fixture *f, const struct cl_identity *id, bool selinux)
{
  cl_runtime_spec_free(&f->spec);
  cl_runtime_spec_build(&f->config, f->project.root, id, selinux, &f->spec);
}

static void build_from(struct fixture *f, const char *json,
                       const struct cl_identity *id)
{
  load_ok(f, json);
  build(f, id, false);
}

static size_t argv_length(char *const *argv)
{
  size_t n = 0;

  while (argv[n])
    n++;
  return n;
}

/* The case a loop is checking, named in failure messages, or "". */
static const char *current_case = "";

/* Compares `argv` with the NULL-terminated `expected`, with @ROOT@
 * replaced by `root`, and names the first element that differs. */
static void expect_argv_at(const char *root, char *const *argv,
                           const char *const *expected)
{
  size_t got_count = argv_length(argv);
  size_t want_count = 0;

  while (expected[want_count])
    want_count++;

  for (size_t i = 0; i < got_count && i < want_count; i++) {
    cleanup_free char *want = cl_test_replace(expected[i], "@ROOT@", root);

    if (strcmp(argv[i], want) != 0)
      fail_msg("%sargv[%zu]: got '%s', expected '%s'", current_case, i, argv[i],
               want);
  }
  if (got_count != want_count)
    fail_msg("%sargv has %zu elements, expected %zu (first extra: '%s')",
             current_case, got_count, want_count,
             got_count > want_count ? argv[want_count] : expected[got_count]);
}

static void expect_argv(const struct fixture *f, char *const *argv,
                        const char *const *expected)
{
  expect_argv_at(f->project.root, argv, expected);
}

static void expect_strv(const struct cl_strv *v, const char *const *expected)
{
  size_t count = 0;

  while (expected[count])
    count++;
  for (size_t i = 0; i < v->count && i < count; i++) {
    if (strcmp(v->items[i], expected[i]) != 0)
      fail_msg("item %zu: got '%s', expected '%s'", i, v->items[i],
               expected[i]);
  }
  if (v->count != count)
    fail_msg("got %zu items, expected %zu", v->count, count);
}

static const struct cl_container_spec *container(const struct fixture *f,
                                                 enum cl_container_role role)
{
  const struct cl_container_spec *c = cl_runtime_spec_container(&f->spec, role);

  if (c == NULL)
    fail_msg("no container for role %s", cl_container_role_name(role));
  return c;
}

/* Returns the index of the first `value` in `argv`, or -1. */
static int argv_index(char *const *argv, const char *value)
{
  for (int i = 0; argv[i]; i++) {
    if (strcmp(argv[i], value) == 0)
      return i;
  }
  return -1;
}

/* Collects the values that follow each `option` in `argv`. */
static void option_values(char *const *argv, const char *option,
                          struct cl_strv *out)
{
  for (size_t i = 0; argv[i]; i++) {
    if (strcmp(argv[i], option) == 0 && argv[i + 1])
      cl_strv_push(out, argv[i + 1]);
  }
}

#define CONFIG_ALL                                                             \
  "{'name': 'demo', 'agent': {}, 'nw_sandbox': {}, 'fs_sandbox': {}}"
#define LABELS(app)                                                            \
  "--label", "app=" app, "--label", "cladding=demo", "--label",                \
      "project_root=@ROOT@"
#define ENV_PATH                                                               \
  "--env", "PATH=/opt/tools/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:"     \
           "/usr/bin:/sbin:/bin"
#define ENV_PROXIES                                                            \
  "--env", "http_proxy=http://127.0.0.1:3128", "--env",                        \
      "https_proxy=http://127.0.0.1:3128", "--env",                            \
      "HTTP_PROXY=http://127.0.0.1:3128", "--env",                             \
      "HTTPS_PROXY=http://127.0.0.1:3128", "--env",                            \
      "no_proxy=localhost,127.0.0.1,::1", "--env",                             \
      "NO_PROXY=localhost,127.0.0.1,::1", "--env", "NODE_USE_ENV_PROXY=1"
#define AGENT_DEFAULT_VOLUMES                                                  \
  "--volume", "@ROOT@/config:/opt/config:ro", "--volume",                      \
      "@ROOT@/tools:/opt/tools:ro", "--volume", "@ROOT@/home:/home/user",      \
      "--volume", "@ROOT@/..:/home/user/workspace", "--volume",                \
      "@ROOT@/runtime/empty-mask:/home/user/workspace/.cladding:ro"
#define RUNSC_FLAGS                                                            \
  "--runtime", "runsc", "--runtime-flag", "ignore-cgroups", "--runtime-flag",  \
      "host-uds=all", "--runtime-flag", "network=none"

/* --- names and labels --- */

static void test_container_names(void **state)
{
  static const char *const names[] = {
      "demo-proxy-instance", "demo-proxy-bridge", "demo-agent-instance",
      "demo-nw-sandbox-instance", "demo-fs-sandbox-instance"};
  static const char *const components[] = {"proxy", "bridge", "agent",
                                           "nw-sandbox", "fs-sandbox"};
  static const char *const apps[] = {"proxy", "proxy", "agent", "nw-sandbox",
                                     "fs-sandbox"};

  (void)state;
  for (int role = 0; role < CL_CONTAINER_ROLE_COUNT; role++) {
    cleanup_free char *name = cl_container_name("demo", role);

    assert_string_equal(name, names[role]);
    assert_string_equal(cl_container_role_name(role), components[role]);
    assert_string_equal(cl_container_role_app(role), apps[role]);
  }
}

static void test_hostnames_and_pod(void **state)
{
  cleanup_free char *agent = cl_container_hostname("demo", CL_CONTAINER_AGENT);
  cleanup_free char *nw =
      cl_container_hostname("demo", CL_CONTAINER_NW_SANDBOX);
  cleanup_free char *fs =
      cl_container_hostname("demo", CL_CONTAINER_FS_SANDBOX);
  cleanup_free char *pod = cl_pod_name("demo");

  (void)state;
  assert_string_equal(agent, "demo-agent");
  assert_string_equal(nw, "demo-nw-sandbox");
  assert_string_equal(fs, "demo-fs-sandbox");
  assert_string_equal(pod, "demo-proxy");
}

static void test_label_args(void **state)
{
  struct cl_strv argv = {0};
  static const char *const expected[] = {"--label", "app=nw-sandbox",
                                         "--label", "cladding=demo",
                                         "--label", "project_root=/p/.cladding",
                                         NULL};

  (void)state;
  cl_label_args(&argv, "nw-sandbox", "demo", "/p/.cladding");
  expect_strv(&argv, expected);
  cl_strv_free(&argv);
}

static void test_expected_containers(void **state)
{
  struct fixture *f = *state;
  struct cl_strv names = {0};
  static const char *const all[] = {
      "demo-proxy-instance",      "demo-proxy-bridge",
      "demo-agent-instance",      "demo-nw-sandbox-instance",
      "demo-fs-sandbox-instance", NULL};
  static const char *const minimal[] = {
      "demo-proxy-instance", "demo-proxy-bridge", "demo-agent-instance", NULL};
  static const char *const fs_only[] = {
      "demo-proxy-instance", "demo-proxy-bridge", "demo-agent-instance",
      "demo-fs-sandbox-instance", NULL};

  load_ok(f, CONFIG_ALL);
  cl_expected_containers(&f->config, &names);
  expect_strv(&names, all);
  cl_strv_free(&names);

  load_ok(f, "{'name': 'demo', 'agent': {},"
             " 'nw_sandbox': {'enabled': false}}");
  cl_expected_containers(&f->config, &names);
  expect_strv(&names, minimal);
  cl_strv_free(&names);

  load_ok(f, "{'name': 'demo', 'agent': {}, 'fs_sandbox': {}}");
  cl_expected_containers(&f->config, &names);
  expect_strv(&names, fs_only);
  cl_strv_free(&names);
}

static void test_rm_argv(void **state)
{
  char **rm = cl_podman_rm_argv("demo-agent-instance");
  char **pod_rm = cl_podman_pod_rm_argv("demo-proxy");
  static const char *const rm_expected[] = {"podman", "rm", "-f",
                                            "demo-agent-instance", NULL};
  static const char *const pod_rm_expected[] = {"podman", "pod",        "rm",
                                                "-f",     "demo-proxy", NULL};

  (void)state;
  expect_argv_at("", rm, rm_expected);
  expect_argv_at("", pod_rm, pod_rm_expected);
  cl_argv_free(rm);
  cl_argv_free(pod_rm);
}

/* --- pod creation --- */

static void test_pod_create(void **state)
{
  struct fixture *f = *state;
  static const char *const expected[] = {
      "podman",        "pod",       "create",  "--name", "demo-proxy",
      LABELS("proxy"), "--network", "default", NULL};

  build_from(f, CONFIG_ALL, &rootless);
  expect_argv(f, f->spec.pod_create_argv, expected);
  assert_string_equal(f->spec.pod_name, "demo-proxy");
}

static void test_pod_create_add_host(void **state)
{
  struct fixture *f = *state;
  static const char *const expected[] = {
      "podman",     "pod",
      "create",     "--name",
      "demo-proxy", LABELS("proxy"),
      "--network",  "default",
      "--add-host", "zeta.internal:10.0.0.9",
      "--add-host", "alpha.internal:192.168.1.2",
      NULL};

  /* File order, not sorted. */
  build_from(f,
             "{'name': 'demo', 'agent': {}, 'proxy': {'hosts': "
             "{'zeta.internal': '10.0.0.9', "
             "'alpha.internal': '192.168.1.2'}}}",
             &rootless);
  expect_argv(f, f->spec.pod_create_argv, expected);
}

static void test_pod_create_without_runtime_flags(void **state)
{
  struct fixture *f = *state;
  static const char *const expected[] = {
      "podman",        "pod",       "create",  "--name", "demo-proxy",
      LABELS("proxy"), "--network", "default", NULL};

  build_from(f,
             "{'name': 'demo', 'use_runsc': true, 'agent': {},"
             " 'nw_sandbox': {}, 'fs_sandbox': {}}",
             &rootful);
  expect_argv(f, f->spec.pod_create_argv, expected);
  assert_int_equal(argv_index(f->spec.pod_create_argv, "--userns"), -1);
  assert_int_equal(argv_index(f->spec.pod_create_argv, "--user"), -1);
}

/* --- exact container argv --- */

static void test_full_rootless_argv(void **state)
{
  struct fixture *f = *state;
  static const char *const proxy[] = {
      "podman",
      "run",
      "-d",
      "--pod",
      "demo-proxy",
      LABELS("proxy"),
      "--name",
      "demo-proxy-instance",
      "--user",
      "proxy",
      "--env",
      "CLADDING_PROXY_NAME=demo-proxy",
      "--env",
      "CLADDING_AGENT_NAME=demo-agent",
      "--env",
      "CLADDING_SANDBOX_NAME=demo-nw-sandbox",
      "--volume",
      "@ROOT@/runtime/proxy:/opt/cladding/proxy:ro",
      "--expose",
      "3128",
      "--expose",
      "3129",
      "--entrypoint",
      "squid",
      "localhost/cladding-proxy:latest",
      "-N",
      "-f",
      "/opt/cladding/proxy/squid.conf",
      NULL,
  };
  static const char *const bridge[] = {
      "podman",
      "run",
      "-d",
      "--pod",
      "demo-proxy",
      LABELS("proxy"),
      "--name",
      "demo-proxy-bridge",
      "--volume",
      "@ROOT@/tools:/opt/tools:ro",
      "--volume",
      "@ROOT@/runtime/sockets/proxy/agent:/run/cladding/proxy/agent",
      "--volume",
      "@ROOT@/runtime/sockets/proxy/nw-sandbox:/run/cladding/proxy/nw-sandbox",
      "--entrypoint",
      "/opt/tools/bin/cladding-bridge",
      "localhost/cladding-proxy:latest",
      "--hold-eof",
      "--unix-to-tcp",
      "/run/cladding/proxy/agent/proxy.sock=127.0.0.1:3128",
      "--hold-eof",
      "--unix-to-tcp",
      "/run/cladding/proxy/nw-sandbox/proxy.sock=127.0.0.1:3129",
      NULL,
  };
  static const char *const agent[] = {
      "podman",
      "run",
      "-d",
      LABELS("agent"),
      "--network",
      "none",
      "--userns",
      "keep-id",
      "--cap-drop",
      "all",
      "--security-opt",
      "no-new-privileges",
      "--hostname",
      "demo-agent",
      "--name",
      "demo-agent-instance",
      "--workdir",
      "/home/user/workspace",
      "-i",
      "-t",
      ENV_PATH,
      "--env",
      "HOME=/home/user",
      "--env",
      "CLADDING_PROXY_NAME=demo-proxy",
      "--env",
      "CLADDING_AGENT_NAME=demo-agent",
      "--env",
      "CLADDING_SANDBOX_NAME=demo-nw-sandbox",
      ENV_PROXIES,
      "--env",
      "RUN_NW_SANDBOX_SOCKET=/run/cladding/run/nw-sandbox/run.sock",
      "--env",
      "RUN_FS_SANDBOX_SOCKET=/run/cladding/run/fs-sandbox/run.sock",
      AGENT_DEFAULT_VOLUMES,
      "--volume",
      "@ROOT@/runtime/sockets/agent/inject:/run/cladding/agent/inject",
      "--volume",
      "@ROOT@/runtime/sockets/agent/expose:/run/cladding/agent/expose",
      "--volume",
      "@ROOT@/runtime/sockets/proxy/agent:/run/cladding/proxy/agent",
      "--volume",
      "@ROOT@/runtime/sockets/run/nw-sandbox:/run/cladding/run/nw-sandbox",
      "--volume",
      "@ROOT@/runtime/sockets/run/fs-sandbox:/run/cladding/run/fs-sandbox",
      "--entrypoint",
      "/opt/tools/bin/cladding-bridge",
      "localhost/cladding-agent:latest",
      "--hold-eof",
      "--tcp-to-unix",
      "127.0.0.1:3128=/run/cladding/proxy/agent/proxy.sock",
      "--",
      "sleep",
      "infinity",
      NULL,
  };
  static const char *const nw[] = {
      "podman",
      "run",
      "-d",
      LABELS("nw-sandbox"),
      "--network",
      "none",
      "--userns",
      "keep-id",
      "--cap-drop",
      "all",
      "--security-opt",
      "no-new-privileges",
      "--hostname",
      "demo-nw-sandbox",
      "--name",
      "demo-nw-sandbox-instance",
      "--workdir",
      "/home/user/workspace",
      ENV_PATH,
      "--env",
      "HOME=/home/user",
      "--env",
      "MCP_BIND_UDS=/run/cladding/run/nw-sandbox/run.sock",
      "--env",
      "POLICY_DIR=/opt/config/nw_sandbox",
      "--env",
      "CLADDING_PROXY_NAME=demo-proxy",
      "--env",
      "CLADDING_AGENT_NAME=demo-agent",
      "--env",
      "CLADDING_SANDBOX_NAME=demo-nw-sandbox",
      ENV_PROXIES,
      AGENT_DEFAULT_VOLUMES,
      "--volume",
      "@ROOT@/runtime/sockets/proxy/nw-sandbox:/run/cladding/proxy/nw-sandbox",
      "--volume",
      "@ROOT@/runtime/sockets/run/nw-sandbox:/run/cladding/run/nw-sandbox",
      "--entrypoint",
      "/opt/tools/bin/cladding-bridge",
      "localhost/cladding-sandbox:latest",
      "--hold-eof",
      "--tcp-to-unix",
      "127.0.0.1:3128=/run/cladding/proxy/nw-sandbox/proxy.sock",
      "--",
      "mcp-run",
      NULL,
  };
  static const char *const fs[] = {
      "podman",
      "run",
      "-d",
      LABELS("fs-sandbox"),
      "--network",
      "none",
      "--userns",
      "keep-id",
      "--cap-drop",
      "all",
      "--security-opt",
      "no-new-privileges",
      "--hostname",
      "demo-fs-sandbox",
      "--name",
      "demo-fs-sandbox-instance",
      "--workdir",
      "/home/user/workspace",
      ENV_PATH,
      "--env",
      "HOME=/home/user",
      "--env",
      "MCP_BIND_UDS=/run/cladding/run/fs-sandbox/run.sock",
      "--env",
      "POLICY_DIR=/opt/config/fs_sandbox",
      "--volume",
      "@ROOT@/config:/opt/config:ro",
      "--volume",
      "@ROOT@/tools:/opt/tools:ro",
      "--volume",
      "@ROOT@/runtime/sockets/run/fs-sandbox:/run/cladding/run/fs-sandbox",
      "--entrypoint",
      "/opt/tools/bin/cladding-bridge",
      "localhost/cladding-sandbox:latest",
      "--",
      "mcp-run",
      NULL,
  };

  build_from(f, CONFIG_ALL, &rootless);
  assert_int_equal(f->spec.container_count, 5);
  expect_argv(f, container(f, CL_CONTAINER_PROXY)->argv, proxy);
  expect_argv(f, container(f, CL_CONTAINER_BRIDGE)->argv, bridge);
  expect_argv(f, container(f, CL_CONTAINER_AGENT)->argv, agent);
  expect_argv(f, container(f, CL_CONTAINER_NW_SANDBOX)->argv, nw);
  expect_argv(f, container(f, CL_CONTAINER_FS_SANDBOX)->argv, fs);
}

static void test_rootful_runsc_agent_argv(void **state)
{
  struct fixture *f = *state;
  static const char *const agent[] = {
      "podman",
      RUNSC_FLAGS,
      "run",
      "-d",
      LABELS("agent"),
      "--network",
      "none",
      "--user",
      "1000:100",
      "--cap-drop",
      "all",
      "--security-opt",
      "no-new-privileges",
      "--hostname",
      "demo-agent",
      "--name",
      "demo-agent-instance",
      "--workdir",
      "/home/user/workspace",
      "-i",
      "-t",
      ENV_PATH,
      "--env",
      "HOME=/home/user",
      "--env",
      "CLADDING_PROXY_NAME=demo-proxy",
      "--env",
      "CLADDING_AGENT_NAME=demo-agent",
      ENV_PROXIES,
      AGENT_DEFAULT_VOLUMES,
      "--volume",
      "@ROOT@/runtime/sockets/agent/inject:/run/cladding/agent/inject",
      "--volume",
      "@ROOT@/runtime/sockets/agent/expose:/run/cladding/agent/expose",
      "--volume",
      "@ROOT@/runtime/sockets/proxy/agent:/run/cladding/proxy/agent",
      "--entrypoint",
      "/opt/tools/bin/cladding-bridge",
      "localhost/my-agent:1",
      "--hold-eof",
      "--tcp-to-unix",
      "127.0.0.1:3128=/run/cladding/proxy/agent/proxy.sock",
      "--",
      "sleep",
      "infinity",
      NULL,
  };
  static const char *const proxy[] = {
      "podman",
      "run",
      "-d",
      "--pod",
      "demo-proxy",
      LABELS("proxy"),
      "--name",
      "demo-proxy-instance",
      "--user",
      "proxy",
      "--env",
      "CLADDING_PROXY_NAME=demo-proxy",
      "--env",
      "CLADDING_AGENT_NAME=demo-agent",
      "--volume",
      "@ROOT@/runtime/proxy:/opt/cladding/proxy:ro",
      "--expose",
      "3128",
      "--expose",
      "3129",
      "--entrypoint",
      "squid",
      "localhost/my-proxy:2",
      "-N",
      "-f",
      "/opt/cladding/proxy/squid.conf",
      NULL,
  };
  static const char *const bridge[] = {
      "podman",
      "run",
      "-d",
      "--pod",
      "demo-proxy",
      LABELS("proxy"),
      "--name",
      "demo-proxy-bridge",
      "--volume",
      "@ROOT@/tools:/opt/tools:ro",
      "--volume",
      "@ROOT@/runtime/sockets/proxy/agent:/run/cladding/proxy/agent",
      "--entrypoint",
      "/opt/tools/bin/cladding-bridge",
      "localhost/my-proxy:2",
      "--hold-eof",
      "--unix-to-tcp",
      "/run/cladding/proxy/agent/proxy.sock=127.0.0.1:3128",
      NULL,
  };
  const struct cl_identity sudo_like = {.euid = 0, .uid = 1000, .gid = 100};

  build_from(f,
             "{'name': 'demo', 'use_runsc': true,"
             " 'agent': {'image': 'localhost/my-agent:1'},"
             " 'proxy': {'image': 'localhost/my-proxy:2'}}",
             &sudo_like);
  assert_int_equal(f->spec.container_count, 3);
  expect_argv(f, container(f, CL_CONTAINER_AGENT)->argv, agent);
  expect_argv(f, container(f, CL_CONTAINER_PROXY)->argv, proxy);
  expect_argv(f, container(f, CL_CONTAINER_BRIDGE)->argv, bridge);
}

/* --- every combination, against argv assembled from the spec's table --- */

struct combo {
  bool nw, fs, runsc, rootless;
};

static void push_all(struct cl_strv *v, const char *const *items)
{
  for (; *items; items++)
    cl_strv_push(v, *items);
}

static void expected_prefix(struct cl_strv *v, const struct combo *c,
                            enum cl_container_role role)
{
  static const char *const runsc[] = {RUNSC_FLAGS, NULL};
  static const char *const hostnames[] = {NULL, NULL, "demo-agent",
                                          "demo-nw-sandbox", "demo-fs-sandbox"};
  static const char *const names[] = {
      "demo-proxy-instance", "demo-proxy-bridge", "demo-agent-instance",
      "demo-nw-sandbox-instance", "demo-fs-sandbox-instance"};
  bool standalone = role >= CL_CONTAINER_AGENT;

  cl_strv_push(v, "podman");
  if (standalone && c->runsc)
    push_all(v, runsc);
  cl_strv_push(v, "run");
  cl_strv_push(v, "-d");
  if (!standalone) {
    cl_strv_push(v, "--pod");
    cl_strv_push(v, "demo-proxy");
  }
  cl_label_args(v, cl_container_role_app(role), "demo", "@ROOT@");
  if (standalone) {
    static const char *const userns[] = {"--userns", "keep-id", NULL};
    static const char *const user[] = {"--user", "0:0", NULL};

    cl_strv_push(v, "--network");
    cl_strv_push(v, "none");
    push_all(v, c->rootless ? userns : user);
    cl_strv_push(v, "--cap-drop");
    cl_strv_push(v, "all");
    cl_strv_push(v, "--security-opt");
    cl_strv_push(v, "no-new-privileges");
    cl_strv_push(v, "--hostname");
    cl_strv_push(v, hostnames[role]);
  }
  cl_strv_push(v, "--name");
  cl_strv_push(v, names[role]);
  if (role == CL_CONTAINER_PROXY) {
    cl_strv_push(v, "--user");
    cl_strv_push(v, "proxy");
  }
  if (standalone) {
    cl_strv_push(v, "--workdir");
    cl_strv_push(v, "/home/user/workspace");
  }
  if (role == CL_CONTAINER_AGENT) {
    cl_strv_push(v, "-i");
    cl_strv_push(v, "-t");
  }
}

static void expected_rest(struct cl_strv *v, const struct combo *c,
                          enum cl_container_role role)
{
  static const char *const path[] = {ENV_PATH, "--env", "HOME=/home/user",
                                     NULL};
  static const char *const names[] = {"--env", "CLADDING_PROXY_NAME=demo-proxy",
                                      "--env", "CLADDING_AGENT_NAME=demo-agent",
                                      NULL};
  static const char *const sandbox_name[] = {
      "--env", "CLADDING_SANDBOX_NAME=demo-nw-sandbox", NULL};
  static const char *const proxies[] = {ENV_PROXIES, NULL};
  static const char *const agent_volumes[] = {AGENT_DEFAULT_VOLUMES, NULL};

  switch (role) {
  case CL_CONTAINER_PROXY: {
    static const char *const tail[] = {
        "--volume",
        "@ROOT@/runtime/proxy:/opt/cladding/proxy:ro",
        "--expose",
        "3128",
        "--expose",
        "3129",
        "--entrypoint",
        "squid",
        "localhost/cladding-proxy:latest",
        "-N",
        "-f",
        "/opt/cladding/proxy/squid.conf",
        NULL};

    push_all(v, names);
    if (c->nw)
      push_all(v, sandbox_name);
    push_all(v, tail);
    break;
  }
  case CL_CONTAINER_BRIDGE: {
    static const char *const head[] = {
        "--volume", "@ROOT@/tools:/opt/tools:ro", "--volume",
        "@ROOT@/runtime/sockets/proxy/agent:/run/cladding/proxy/agent", NULL};
    static const char *const nw_volume[] = {
        "--volume",
        "@ROOT@/runtime/sockets/proxy/nw-sandbox:/run/cladding/proxy/"
        "nw-sandbox",
        NULL};
    static const char *const command[] = {
        "--entrypoint",
        "/opt/tools/bin/cladding-bridge",
        "localhost/cladding-proxy:latest",
        "--hold-eof",
        "--unix-to-tcp",
        "/run/cladding/proxy/agent/proxy.sock=127.0.0.1:3128",
        NULL};
    static const char *const nw_listener[] = {
        "--hold-eof", "--unix-to-tcp",
        "/run/cladding/proxy/nw-sandbox/proxy.sock=127.0.0.1:3129", NULL};

    push_all(v, head);
    if (c->nw)
      push_all(v, nw_volume);
    push_all(v, command);
    if (c->nw)
      push_all(v, nw_listener);
    break;
  }
  case CL_CONTAINER_AGENT: {
    static const char *const sockets[] = {
        "--volume",
        "@ROOT@/runtime/sockets/agent/inject:/run/cladding/agent/inject",
        "--volume",
        "@ROOT@/runtime/sockets/agent/expose:/run/cladding/agent/expose",
        "--volume",
        "@ROOT@/runtime/sockets/proxy/agent:/run/cladding/proxy/agent",
        NULL};
    static const char *const command[] = {
        "--entrypoint",
        "/opt/tools/bin/cladding-bridge",
        "localhost/cladding-agent:latest",
        "--hold-eof",
        "--tcp-to-unix",
        "127.0.0.1:3128=/run/cladding/proxy/agent/proxy.sock",
        "--",
        "sleep",
        "infinity",
        NULL};

    push_all(v, path);
    push_all(v, names);
    if (c->nw)
      push_all(v, sandbox_name);
    push_all(v, proxies);
    if (c->nw) {
      cl_strv_push(v, "--env");
      cl_strv_push(
          v, "RUN_NW_SANDBOX_SOCKET=/run/cladding/run/nw-sandbox/run.sock");
    }
    if (c->fs) {
      cl_strv_push(v, "--env");
      cl_strv_push(
          v, "RUN_FS_SANDBOX_SOCKET=/run/cladding/run/fs-sandbox/run.sock");
    }
    push_all(v, agent_volumes);
    push_all(v, sockets);
    if (c->nw) {
      cl_strv_push(v, "--volume");
      cl_strv_push(
          v,
          "@ROOT@/runtime/sockets/run/nw-sandbox:/run/cladding/run/nw-sandbox");
    }
    if (c->fs) {
      cl_strv_push(v, "--volume");
      cl_strv_push(
          v,
          "@ROOT@/runtime/sockets/run/fs-sandbox:/run/cladding/run/fs-sandbox");
    }
    push_all(v, command);
    break;
  }
  case CL_CONTAINER_NW_SANDBOX: {
    static const char *const policy[] = {
        "--env", "MCP_BIND_UDS=/run/cladding/run/nw-sandbox/run.sock", "--env",
        "POLICY_DIR=/opt/config/nw_sandbox", NULL};
    static const char *const tail[] = {
        "--volume",
        "@ROOT@/runtime/sockets/proxy/nw-sandbox:/run/cladding/proxy/"
        "nw-sandbox",
        "--volume",
        "@ROOT@/runtime/sockets/run/nw-sandbox:/run/cladding/run/nw-sandbox",
        "--entrypoint",
        "/opt/tools/bin/cladding-bridge",
        "localhost/cladding-sandbox:latest",
        "--hold-eof",
        "--tcp-to-unix",
        "127.0.0.1:3128=/run/cladding/proxy/nw-sandbox/proxy.sock",
        "--",
        "mcp-run",
        NULL};

    push_all(v, path);
    push_all(v, policy);
    push_all(v, names);
    push_all(v, sandbox_name);
    push_all(v, proxies);
    push_all(v, agent_volumes);
    push_all(v, tail);
    break;
  }
  case CL_CONTAINER_FS_SANDBOX: {
    static const char *const policy[] = {
        "--env", "MCP_BIND_UDS=/run/cladding/run/fs-sandbox/run.sock", "--env",
        "POLICY_DIR=/opt/config/fs_sandbox", NULL};
    static const char *const tail[] = {
        "--volume",
        "@ROOT@/config:/opt/config:ro",
        "--volume",
        "@ROOT@/tools:/opt/tools:ro",
        "--volume",
        "@ROOT@/runtime/sockets/run/fs-sandbox:/run/cladding/run/fs-sandbox",
        "--entrypoint",
        "/opt/tools/bin/cladding-bridge",
        "localhost/cladding-sandbox:latest",
        "--",
        "mcp-run",
        NULL};

    push_all(v, path);
    push_all(v, policy);
    push_all(v, tail);
    break;
  }
  }
}

static void test_every_combination(void **state)
{
  struct fixture *f = *state;

  for (unsigned bits = 0; bits < 16; bits++) {
    struct combo c = {.nw = bits & 1,
                      .fs = bits & 2,
                      .runsc = bits & 4,
                      .rootless = bits & 8};
    cleanup_free char *json = cl_asprintf(
        "{'name': 'demo', 'use_runsc': %s, 'agent': {},"
        " 'nw_sandbox': {'enabled': %s}, 'fs_sandbox': {'enabled': %s}}",
        c.runsc ? "true" : "false", c.nw ? "true" : "false",
        c.fs ? "true" : "false");
    cleanup_free char *label = cl_asprintf(
        "nw=%d fs=%d runsc=%d rootless=%d: ", c.nw, c.fs, c.runsc, c.rootless);
    size_t index = 0;

    current_case = label;
    build_from(f, json, c.rootless ? &rootless : &rootful);
    assert_int_equal(f->spec.container_count, 3 + c.nw + c.fs);

    for (int role = 0; role < CL_CONTAINER_ROLE_COUNT; role++) {
      struct cl_strv expected = {0};

      if ((role == CL_CONTAINER_NW_SANDBOX && !c.nw) ||
          (role == CL_CONTAINER_FS_SANDBOX && !c.fs)) {
        assert_null(cl_runtime_spec_container(&f->spec, role));
        continue;
      }
      /* Containers come in start order. */
      assert_int_equal(f->spec.containers[index].role, role);
      index++;

      expected_prefix(&expected, &c, role);
      expected_rest(&expected, &c, role);
      expect_argv(f, container(f, role)->argv,
                  (const char *const *)expected.items);
      cl_strv_free(&expected);
    }
    current_case = "";
  }
}

/* --- properties the spec calls out --- */

static void test_container_fields(void **state)
{
  struct fixture *f = *state;
  static const char *const names[] = {
      "demo-proxy-instance", "demo-proxy-bridge", "demo-agent-instance",
      "demo-nw-sandbox-instance", "demo-fs-sandbox-instance"};
  static const char *const components[] = {"proxy", "bridge", "agent",
                                           "nw-sandbox", "fs-sandbox"};
  static const char *const images[] = {
      "localhost/cladding-proxy:latest", "localhost/cladding-proxy:latest",
      "localhost/cladding-agent:latest", "localhost/nw:1", "localhost/fs:2"};

  build_from(f,
             "{'name': 'demo', 'agent': {},"
             " 'nw_sandbox': {'image': 'localhost/nw:1'},"
             " 'fs_sandbox': {'image': 'localhost/fs:2'}}",
             &rootless);
  assert_int_equal(f->spec.container_count, 5);
  for (size_t i = 0; i < 5; i++) {
    const struct cl_container_spec *c = &f->spec.containers[i];

    assert_int_equal(c->role, (int)i);
    assert_string_equal(c->name, names[i]);
    assert_string_equal(c->component, components[i]);
    assert_string_equal(c->image, images[i]);
    assert_int_equal(c->pod_member, i < 2);
    assert_string_equal(c->argv[0], "podman");
  }
}

static void test_env_positions(void **state)
{
  struct fixture *f = *state;
  struct cl_strv env = {0};

  build_from(f, "{'name': 'demo', 'agent': {}, 'nw_sandbox': {}}", &rootless);
  option_values(container(f, CL_CONTAINER_AGENT)->argv, "--env", &env);
  assert_true(env.count > 4);
  assert_string_equal(env.items[4], "CLADDING_SANDBOX_NAME=demo-nw-sandbox");
  cl_strv_free(&env);

  option_values(container(f, CL_CONTAINER_PROXY)->argv, "--env", &env);
  assert_int_equal(env.count, 3);
  assert_string_equal(env.items[2], "CLADDING_SANDBOX_NAME=demo-nw-sandbox");
  cl_strv_free(&env);

  build_from(f, "{'name': 'demo', 'agent': {}}", &rootless);
  option_values(container(f, CL_CONTAINER_AGENT)->argv, "--env", &env);
  assert_string_equal(env.items[4], "http_proxy=http://127.0.0.1:3128");
  for (size_t i = 0; i < env.count; i++)
    assert_null(strstr(env.items[i], "CLADDING_SANDBOX_NAME"));
  cl_strv_free(&env);

  option_values(container(f, CL_CONTAINER_PROXY)->argv, "--env", &env);
  assert_int_equal(env.count, 2);
  cl_strv_free(&env);
}

static void test_no_tcp_server_variables(void **state)
{
  struct fixture *f = *state;

  build_from(f, CONFIG_ALL, &rootless);
  for (size_t i = 0; i < f->spec.container_count; i++) {
    char *const *argv = f->spec.containers[i].argv;

    for (size_t j = 0; argv[j]; j++) {
      assert_null(strstr(argv[j], "MCP_BIND_ADDR"));
      assert_false(cl_str_has_prefix(argv[j], "RUN_") &&
                   strstr(argv[j], "_SERVER") != NULL);
    }
  }
}

static void test_labels_on_everything(void **state)
{
  struct fixture *f = *state;
  static const char *const apps[] = {"proxy", "proxy", "agent", "nw-sandbox",
                                     "fs-sandbox"};

  build_from(f, CONFIG_ALL, &rootless);
  for (size_t i = 0; i < f->spec.container_count; i++) {
    struct cl_strv labels = {0};
    cleanup_free char *app = cl_asprintf("app=%s", apps[i]);
    cleanup_free char *root = cl_asprintf("project_root=%s", f->project.root);
    const char *const expected[] = {app, "cladding=demo", root, NULL};

    option_values(f->spec.containers[i].argv, "--label", &labels);
    expect_strv(&labels, expected);
    cl_strv_free(&labels);
  }
}

static void test_network_none_placement(void **state)
{
  struct fixture *f = *state;

  build_from(f,
             "{'name': 'demo', 'use_runsc': true, 'agent': {},"
             " 'nw_sandbox': {}, 'fs_sandbox': {}}",
             &rootless);
  for (size_t i = 0; i < f->spec.container_count; i++) {
    const struct cl_container_spec *c = &f->spec.containers[i];
    struct cl_strv networks = {0};

    option_values(c->argv, "--network", &networks);
    if (c->pod_member) {
      assert_int_equal(networks.count, 0);
      assert_int_equal(argv_index(c->argv, "--runtime"), -1);
      assert_int_equal(argv_index(c->argv, "--userns"), -1);
      assert_int_equal(argv_index(c->argv, "--hostname"), -1);
      assert_int_equal(argv_index(c->argv, "--pod") > 0, 1);
    } else {
      assert_int_equal(networks.count, 1);
      assert_string_equal(networks.items[0], "none");
      /* Runtime flags are global options, so they precede `run`. */
      assert_int_equal(argv_index(c->argv, "--runtime"), 1);
      assert_int_equal(argv_index(c->argv, "run"), 9);
      assert_int_equal(argv_index(c->argv, "--pod"), -1);
    }
    cl_strv_free(&networks);
  }
}

static void test_rootful_user_flags(void **state)
{
  struct fixture *f = *state;

  build_from(f, CONFIG_ALL, &rootful);
  for (size_t i = 0; i < f->spec.container_count; i++) {
    const struct cl_container_spec *c = &f->spec.containers[i];
    struct cl_strv users = {0};

    option_values(c->argv, "--user", &users);
    assert_int_equal(argv_index(c->argv, "--userns"), -1);
    if (c->role == CL_CONTAINER_PROXY) {
      assert_int_equal(users.count, 1);
      assert_string_equal(users.items[0], "proxy");
    } else if (c->role == CL_CONTAINER_BRIDGE) {
      assert_int_equal(users.count, 0);
    } else {
      assert_int_equal(users.count, 1);
      assert_string_equal(users.items[0], "0:0");
    }
    cl_strv_free(&users);
  }
}

static void test_custom_mounts_order(void **state)
{
  struct fixture *f = *state;
  struct cl_strv volumes = {0};
  static const char *const agent[] = {
      "/etc/myconfig:/opt/config:ro",
      "@ROOT@/tools:/opt/tools:ro",
      "@ROOT@/home:/home/user",
      "@ROOT@/..:/home/user/workspace",
      "@ROOT@/runtime/empty-mask:/home/user/workspace/.cladding:ro",
      "cladding-demo-agent-empty-workspace-tmp:/workspace/tmp:ro,nocopy",
      "demo-cache:/cache",
      "@ROOT@/runtime/sockets/agent/inject:/run/cladding/agent/inject",
      "@ROOT@/runtime/sockets/agent/expose:/run/cladding/agent/expose",
      "@ROOT@/runtime/sockets/proxy/agent:/run/cladding/proxy/agent",
      "@ROOT@/runtime/sockets/run/nw-sandbox:/run/cladding/run/nw-sandbox",
      NULL,
  };
  static const char *const nw[] = {
      "/etc/myconfig:/opt/config:ro",
      "@ROOT@/tools:/opt/tools:ro",
      "@ROOT@/home:/home/user",
      "@ROOT@/..:/home/user/workspace",
      "@ROOT@/runtime/empty-mask:/home/user/workspace/.cladding:ro",
      "cladding-demo-nw-sandbox-empty-workspace-tmp:/workspace/tmp:ro,nocopy",
      "demo-cache:/cache",
      "/x:/run/cladding/agent/inject",
      "@ROOT@/runtime/sockets/proxy/nw-sandbox:/run/cladding/proxy/nw-sandbox",
      "@ROOT@/runtime/sockets/run/nw-sandbox:/run/cladding/run/nw-sandbox",
      NULL,
  };

  build_from(f,
             "{'name': 'demo', 'agent': {}, 'nw_sandbox': {}, 'mounts': ["
             "{'mount': '/workspace/tmp'},"
             " {'mount': '/cache', 'volume': 'cache'},"
             " {'mount': '/opt/config', 'hostPath': '/etc/myconfig',"
             " 'readOnly': true},"
             " {'mount': '/run/cladding/agent/inject', 'hostPath': '/x'}]}",
             &rootless);

  /* The entry on the inject socket path is appended with the custom mounts,
   * and the real socket directory still follows it. */
  option_values(container(f, CL_CONTAINER_AGENT)->argv, "--volume", &volumes);
  {
    struct cl_strv expected = {0};

    for (size_t i = 0; agent[i]; i++) {
      cl_strv_push_owned(&expected,
                         cl_test_replace(agent[i], "@ROOT@", f->project.root));
      if (i == 6)
        cl_strv_push(&expected, "/x:/run/cladding/agent/inject");
    }
    expect_strv(&volumes, (const char *const *)expected.items);
    cl_strv_free(&expected);
  }
  cl_strv_free(&volumes);

  option_values(container(f, CL_CONTAINER_NW_SANDBOX)->argv, "--volume",
                &volumes);
  {
    struct cl_strv expected = {0};

    for (size_t i = 0; nw[i]; i++)
      cl_strv_push_owned(&expected,
                         cl_test_replace(nw[i], "@ROOT@", f->project.root));
    expect_strv(&volumes, (const char *const *)expected.items);
    cl_strv_free(&expected);
  }
  cl_strv_free(&volumes);
}

static void test_fs_sandbox_volumes(void **state)
{
  struct fixture *f = *state;
  struct cl_strv volumes = {0};

  build_from(f,
             "{'name': 'demo', 'agent': {}, 'fs_sandbox': {}, 'mounts': ["
             "{'mount': '/data', 'hostPath': '/srv/data'},"
             " {'mount': '/fsonly', 'hostPath': '/srv/fs',"
             " 'targets': ['fs-sandbox']}]}",
             &rootless);
  option_values(container(f, CL_CONTAINER_FS_SANDBOX)->argv, "--volume",
                &volumes);
  {
    cleanup_free char *config =
        cl_asprintf("%s/config:/opt/config:ro", f->project.root);
    cleanup_free char *tools =
        cl_asprintf("%s/tools:/opt/tools:ro", f->project.root);
    cleanup_free char *sockets = cl_asprintf(
        "%s/runtime/sockets/run/fs-sandbox:/run/cladding/run/fs-sandbox",
        f->project.root);
    const char *const expected[] = {config, tools, "/srv/fs:/fsonly", sockets,
                                    NULL};

    expect_strv(&volumes, expected);
  }
  for (size_t i = 0; i < volumes.count; i++) {
    assert_null(strstr(volumes.items[i], "/home/user"));
    assert_null(strstr(volumes.items[i], "/proxy/"));
  }
  cl_strv_free(&volumes);
}

static void test_selinux_relabel(void **state)
{
  struct fixture *f = *state;
  struct cl_strv volumes = {0};
  static const char *const bridge[] = {
      "@ROOT@/tools:/opt/tools:ro,z",
      "@ROOT@/runtime/sockets/proxy/agent:/run/cladding/proxy/agent:z", NULL};

  load_ok(f, "{'name': 'demo', 'agent': {}, 'mounts': ["
             "{'mount': '/a', 'hostPath': '/srv/a', 'relabel': false},"
             " {'mount': '/b', 'hostPath': '/srv/b', 'readOnly': true}]}");
  build(f, &rootless, true);

  option_values(container(f, CL_CONTAINER_BRIDGE)->argv, "--volume", &volumes);
  {
    struct cl_strv expected = {0};

    for (size_t i = 0; bridge[i]; i++)
      cl_strv_push_owned(&expected,
                         cl_test_replace(bridge[i], "@ROOT@", f->project.root));
    expect_strv(&volumes, (const char *const *)expected.items);
    cl_strv_free(&expected);
  }
  cl_strv_free(&volumes);

  option_values(container(f, CL_CONTAINER_AGENT)->argv, "--volume", &volumes);
  assert_int_equal(volumes.count, 10);
  assert_string_equal(volumes.items[5], "/srv/a:/a");
  assert_string_equal(volumes.items[6], "/srv/b:/b:ro,z");
  for (size_t i = 7; i < 10; i++)
    assert_true(cl_str_has_suffix(volumes.items[i], ":z"));
  cl_strv_free(&volumes);

  option_values(container(f, CL_CONTAINER_PROXY)->argv, "--volume", &volumes);
  assert_int_equal(volumes.count, 1);
  assert_true(cl_str_has_suffix(volumes.items[0],
                                "/runtime/proxy:/opt/cladding/proxy:ro,z"));
  cl_strv_free(&volumes);
}

/* A relative --project-root is made absolute before the spec is built, so
 * labels and mount sources are absolute.  A path with a space and a quote
 * stays one argv element. */
static void test_relative_project_root(void **state)
{
  struct fixture *f = *state;
  cleanup_free char *odd_proj = cl_path_join(f->project.tmp, "it's a dir");
  cleanup_free char *root = NULL;
  struct cl_strv volumes = {0};
  const struct cl_container_spec *agent;

  cl_test_mkdir(f->project.tmp, "it's a dir/.cladding");
  root = cl_absolute_path(f->project.tmp, "it's a dir/.cladding");
  assert_true(root[0] == '/');

  load_ok(f, "{'name': 'demo', 'agent': {}}");
  cl_runtime_spec_build(&f->config, root, &rootless, false, &f->spec);
  agent = container(f, CL_CONTAINER_AGENT);

  {
    cleanup_free char *label = cl_asprintf("project_root=%s", root);

    assert_int_equal(argv_index(agent->argv, label) > 0, 1);
    assert_int_equal(argv_index(f->spec.pod_create_argv, label) > 0, 1);
  }
  option_values(agent->argv, "--volume", &volumes);
  for (size_t i = 0; i < volumes.count; i++)
    assert_true(cl_str_has_prefix(volumes.items[i], root));
  {
    cleanup_free char *workspace =
        cl_asprintf("%s/..:/home/user/workspace", root);

    assert_string_equal(volumes.items[3], workspace);
  }
  cl_strv_free(&volumes);
  assert_string_equal(f->spec.project_dir, odd_proj);
}

static void test_trace_of_agent_argv(void **state)
{
  struct fixture *f = *state;
  cleanup_free char *quoted = NULL;

  build_from(f, "{'name': 'demo', 'agent': {}}", &rootless);
  quoted = cl_shell_quote_argv(
      (const char *const *)container(f, CL_CONTAINER_AGENT)->argv);
  assert_non_null(strstr(
      quoted,
      " --tcp-to-unix 127.0.0.1:3128=/run/cladding/proxy/agent/proxy.sock "
      "-- sleep infinity"));
  assert_true(cl_str_has_prefix(quoted, "podman run -d --label app=agent "));
}

/* --- socket directories, readiness, required paths, summary --- */

static void test_socket_dirs(void **state)
{
  struct fixture *f = *state;
  static const char *const minimal[] = {"agent/inject", "agent/expose",
                                        "proxy/agent", NULL};
  static const char *const nw[] = {"agent/inject",   "agent/expose",
                                   "proxy/agent",    "proxy/nw-sandbox",
                                   "run/nw-sandbox", NULL};
  static const char *const fs[] = {"agent/inject", "agent/expose",
                                   "proxy/agent", "run/fs-sandbox", NULL};
  static const char *const all[] = {
      "agent/inject",   "agent/expose",   "proxy/agent", "proxy/nw-sandbox",
      "run/nw-sandbox", "run/fs-sandbox", NULL};
  cleanup_free char *sockets_dir = NULL;

  build_from(f, "{'name': 'demo', 'agent': {}}", &rootless);
  expect_strv(&f->spec.socket_dirs, minimal);
  sockets_dir = cl_asprintf("%s/runtime/sockets", f->project.root);
  assert_string_equal(f->spec.sockets_dir, sockets_dir);

  build_from(f, "{'name': 'demo', 'agent': {}, 'nw_sandbox': {}}", &rootless);
  expect_strv(&f->spec.socket_dirs, nw);

  build_from(f, "{'name': 'demo', 'agent': {}, 'fs_sandbox': {}}", &rootless);
  expect_strv(&f->spec.socket_dirs, fs);

  build_from(f, CONFIG_ALL, &rootless);
  expect_strv(&f->spec.socket_dirs, all);
}

/* Every socket directory is mounted by some container, and every socket
 * mount of a container is in the set `up` creates. */
static void test_socket_dirs_match_mounts(void **state)
{
  struct fixture *f = *state;
  cleanup_free char *prefix = NULL;
  struct cl_strv mounted = {0};

  build_from(f, CONFIG_ALL, &rootless);
  prefix = cl_asprintf("%s/", f->spec.sockets_dir);
  for (size_t i = 0; i < f->spec.container_count; i++) {
    struct cl_strv volumes = {0};

    option_values(f->spec.containers[i].argv, "--volume", &volumes);
    for (size_t j = 0; j < volumes.count; j++) {
      const char *v = volumes.items[j];
      const char *colon;

      if (!cl_str_has_prefix(v, prefix))
        continue;
      colon = strchr(v + strlen(prefix), ':');
      assert_non_null(colon);
      cl_strv_push_owned(&mounted,
                         cl_xstrndup(v + strlen(prefix),
                                     (size_t)(colon - v - strlen(prefix))));
    }
    cl_strv_free(&volumes);
  }

  for (size_t i = 0; i < mounted.count; i++) {
    bool found = false;

    for (size_t j = 0; j < f->spec.socket_dirs.count; j++)
      found =
          found || strcmp(mounted.items[i], f->spec.socket_dirs.items[j]) == 0;
    if (!found)
      fail_msg("mounted socket dir %s is not created", mounted.items[i]);
  }
  for (size_t j = 0; j < f->spec.socket_dirs.count; j++) {
    bool found = false;

    for (size_t i = 0; i < mounted.count; i++)
      found =
          found || strcmp(mounted.items[i], f->spec.socket_dirs.items[j]) == 0;
    if (!found)
      fail_msg("socket dir %s is not mounted", f->spec.socket_dirs.items[j]);
  }
  cl_strv_free(&mounted);
}

static void test_readiness_items(void **state)
{
  struct fixture *f = *state;
  static const char *const minimal[] = {"proxy/agent/proxy.sock", NULL};
  static const char *const all[] = {
      "proxy/agent/proxy.sock", "proxy/nw-sandbox/proxy.sock",
      "run/nw-sandbox/run.sock", "run/fs-sandbox/run.sock", NULL};
  static const char *const fs[] = {"proxy/agent/proxy.sock",
                                   "run/fs-sandbox/run.sock", NULL};

  build_from(f, "{'name': 'demo', 'agent': {}}", &rootless);
  expect_strv(&f->spec.ready_sockets, minimal);
  assert_int_equal(f->spec.listener_count, 1);
  assert_int_equal(f->spec.listeners[0].port, 3128);
  assert_string_equal(f->spec.listeners[0].socket, "proxy/agent/proxy.sock");

  build_from(f, "{'name': 'demo', 'agent': {}, 'fs_sandbox': {}}", &rootless);
  expect_strv(&f->spec.ready_sockets, fs);
  assert_int_equal(f->spec.listener_count, 1);

  build_from(f, CONFIG_ALL, &rootless);
  expect_strv(&f->spec.ready_sockets, all);
  assert_int_equal(f->spec.listener_count, 2);
  assert_int_equal(f->spec.listeners[1].port, 3129);
  assert_string_equal(f->spec.listeners[1].socket,
                      "proxy/nw-sandbox/proxy.sock");
}

static void test_required_paths(void **state)
{
  struct fixture *f = *state;
  struct cl_strv expected = {0};
  static const char *const want[] = {
      "@ROOT@/config",
      "@ROOT@/tools",
      "@ROOT@/..",
      "/srv/data",
      "@ROOT@/runtime/sockets/user-data",
      "/srv/nw",
      NULL,
  };

  /* ROOT/home is ignored for both components, the hostPath that equals a
   * socket directory is generated, and a user path under runtime/sockets
   * is checked like any other.  cladding.json rejects a hostPath inside
   * ROOT, so the two entries get theirs after loading. */
  load_ok(f, "{'name': 'demo', 'agent': {}, 'nw_sandbox': {}, 'mounts': ["
             "{'mount': '/data', 'hostPath': '/srv/data'},"
             " {'mount': '/sock', 'hostPath': '/x'},"
             " {'mount': '/gen', 'hostPath': '/x'},"
             " {'mount': '/nw', 'hostPath': '/srv/nw',"
             " 'targets': ['nw-sandbox']},"
             " {'mount': '/home/user', 'ignore': true}]}");
  free(f->config.mounts[1].host_path);
  f->config.mounts[1].host_path =
      cl_path_join(f->project.root, "runtime/sockets/user-data");
  free(f->config.mounts[2].host_path);
  f->config.mounts[2].host_path =
      cl_path_join(f->project.root, "runtime/sockets/proxy/agent");
  build(f, &rootless, false);
  for (size_t i = 0; want[i]; i++)
    cl_strv_push_owned(&expected,
                       cl_test_replace(want[i], "@ROOT@", f->project.root));
  expect_strv(&f->spec.required_paths, (const char *const *)expected.items);
  cl_strv_free(&expected);
}

static void test_required_paths_ignored(void **state)
{
  struct fixture *f = *state;
  struct cl_strv expected = {0};
  static const char *const agent_only[] = {"@ROOT@/config", "@ROOT@/tools",
                                           "@ROOT@/home", NULL};
  static const char *const with_nw[] = {"@ROOT@/config", "@ROOT@/tools",
                                        "@ROOT@/home", "@ROOT@/..", NULL};

  build_from(f,
             "{'name': 'demo', 'agent': {}, 'mounts': ["
             "{'mount': '/home/user/workspace', 'ignore': true}]}",
             &rootless);
  for (size_t i = 0; agent_only[i]; i++)
    cl_strv_push_owned(
        &expected, cl_test_replace(agent_only[i], "@ROOT@", f->project.root));
  expect_strv(&f->spec.required_paths, (const char *const *)expected.items);
  cl_strv_free(&expected);

  /* The nw-sandbox still mounts the workspace. */
  build_from(f,
             "{'name': 'demo', 'agent': {}, 'nw_sandbox': {}, 'mounts': ["
             "{'mount': '/home/user/workspace', 'ignore': true,"
             " 'targets': ['agent']}]}",
             &rootless);
  for (size_t i = 0; with_nw[i]; i++)
    cl_strv_push_owned(&expected,
                       cl_test_replace(with_nw[i], "@ROOT@", f->project.root));
  expect_strv(&f->spec.required_paths, (const char *const *)expected.items);
  cl_strv_free(&expected);
}

static void test_summary_all(void **state)
{
  struct fixture *f = *state;
  cleanup_free char *canonical = NULL;
  cleanup_free char *first = NULL;
  cleanup_free char *agent = NULL;
  const char *const *lines;

  build_from(f, CONFIG_ALL, &rootless);
  canonical = realpath(f->project.root, NULL);
  first = cl_asprintf("running: demo (%s)", canonical);
  agent = cl_asprintf("  agent  demo-agent-instance  workspace %s",
                      f->project.proj);
  lines = (const char *const *)f->spec.summary.items;
  assert_int_equal(f->spec.summary.count, 6);
  assert_string_equal(lines[0], first);
  assert_string_equal(lines[1], "  proxy  demo-proxy-instance  squid "
                                "127.0.0.1:3128 (agent), 127.0.0.1:3129 "
                                "(nw-sandbox)");
  assert_string_equal(lines[2], "  bridge  demo-proxy-bridge  "
                                "proxy/agent/proxy.sock, "
                                "proxy/nw-sandbox/proxy.sock");
  assert_string_equal(lines[3], agent);
  assert_string_equal(lines[4], "  nw-sandbox  demo-nw-sandbox-instance  "
                                "run/nw-sandbox/run.sock");
  assert_string_equal(lines[5], "  fs-sandbox  demo-fs-sandbox-instance  "
                                "run/fs-sandbox/run.sock");
}

static void test_summary_minimal(void **state)
{
  struct fixture *f = *state;

  build_from(f, "{'name': 'demo', 'agent': {}}", &rootless);
  assert_int_equal(f->spec.summary.count, 4);
  assert_string_equal(f->spec.summary.items[1],
                      "  proxy  demo-proxy-instance  squid 127.0.0.1:3128 "
                      "(agent)");
  assert_string_equal(f->spec.summary.items[2],
                      "  bridge  demo-proxy-bridge  proxy/agent/proxy.sock");
}

/* The summary names the canonical ROOT, while labels keep ROOT as
 * given. */
static void test_summary_canonical_root(void **state)
{
  struct fixture *f = *state;
  cleanup_free char *link_dir = cl_path_join(f->project.tmp, "link");
  cleanup_free char *link_root = cl_path_join(link_dir, ".cladding");
  cleanup_free char *canonical = realpath(f->project.root, NULL);
  cleanup_free char *first = NULL;
  cleanup_free char *label = NULL;

  assert_int_equal(symlink(f->project.proj, link_dir), 0);
  load_ok(f, "{'name': 'demo', 'agent': {}}");
  cl_runtime_spec_build(&f->config, link_root, &rootless, false, &f->spec);

  first = cl_asprintf("running: demo (%s)", canonical);
  label = cl_asprintf("project_root=%s", link_root);
  assert_string_equal(f->spec.summary.items[0], first);
  assert_string_equal(f->spec.canonical_root, canonical);
  assert_string_equal(f->spec.root, link_root);
  assert_int_equal(argv_index(f->spec.pod_create_argv, label) > 0, 1);
}

static void test_identity_current(void **state)
{
  struct cl_identity id;

  (void)state;
  cl_identity_current(&id);
  assert_int_equal(id.euid, geteuid());
  assert_int_equal(id.uid, getuid());
  assert_int_equal(id.gid, getgid());
}

#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_container_names),
      cmocka_unit_test(test_hostnames_and_pod),
      cmocka_unit_test(test_label_args),
      TEST(test_expected_containers),
      cmocka_unit_test(test_rm_argv),
      TEST(test_pod_create),
      TEST(test_pod_create_add_host),
      TEST(test_pod_create_without_runtime_flags),
      TEST(test_full_rootless_argv),
      TEST(test_rootful_runsc_agent_argv),
      TEST(test_every_combination),
      TEST(test_container_fields),
      TEST(test_env_positions),
      TEST(test_no_tcp_server_variables),
      TEST(test_labels_on_everything),
      TEST(test_network_none_placement),
      TEST(test_rootful_user_flags),
      TEST(test_custom_mounts_order),
      TEST(test_fs_sandbox_volumes),
      TEST(test_selinux_relabel),
      TEST(test_relative_project_root),
      TEST(test_trace_of_agent_argv),
      TEST(test_socket_dirs),
      TEST(test_socket_dirs_match_mounts),
      TEST(test_readiness_items),
      TEST(test_required_paths),
      TEST(test_required_paths_ignored),
      TEST(test_summary_all),
      TEST(test_summary_minimal),
      TEST(test_summary_canonical_root),
      cmocka_unit_test(test_identity_current),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
