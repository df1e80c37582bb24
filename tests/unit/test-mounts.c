/* Unit tests of mount paths, mask fragments, the volumes of each component
 * and the required host paths.  JSON texts use ' for " (see
 * cl_test_load_config), and @ROOT@ in expected values is ROOT. */
#include "config-host.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "mounts.h"
#include "testutil.h"
#include "util.h"

struct fixture {
  struct cl_test_project project;
  struct cl_config config;
  struct cl_error err;
  struct cl_test_capture capture;
};

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

  cl_config_free(&f->config);
  cl_error_clear(&f->err);
  cl_test_capture_free(&f->capture);
  cl_test_project_remove(&f->project);
  free(f);
  return 0;
}

static void load_ok(struct fixture *f, const char *json)
{
  int ret =
      cl_test_load_config(&f->project, json, &f->config, &f->err, &f->capture);

  if (ret != 0)
    fail_msg("loading failed: %s%s", f->capture.err,
             f->err.message ? f->err.message : "");
  assert_string_equal(f->capture.err, "");
}

static char *expand_root(const struct fixture *f, const char *text)
{
  return cl_test_replace(text, "@ROOT@", f->project.root);
}

/* Sets the host path of loaded entry `index` to `path`, with @ROOT@
 * expanded.  cladding.json rejects a hostPath inside ROOT, so this is how
 * the tests reach the generated-path exclusion of cl_required_host_paths(),
 * which still guards such a path. */
static void set_host_path(struct fixture *f, size_t index, const char *path)
{
  assert_true(index < f->config.mount_count);
  free(f->config.mounts[index].host_path);
  f->config.mounts[index].host_path = expand_root(f, path);
}

/* Checks the formatted `--volume` values of `component`, in order, against
 * the NULL-terminated `expected`. */
static void expect_volumes(struct fixture *f, enum cladding_component component,
                           bool selinux, const char *const *expected)
{
  struct cl_volume_list list;
  size_t count = 0;

  while (expected[count])
    count++;

  cl_component_volumes(&f->config, f->project.root, component, selinux, &list);
  for (size_t i = 0; i < list.count && i < count; i++) {
    cleanup_free char *got = cl_volume_format(&list.items[i]);
    cleanup_free char *want = expand_root(f, expected[i]);

    if (strcmp(got, want) != 0) {
      cl_volume_list_free(&list);
      fail_msg("volume %zu: got '%s', expected '%s'", i, got, want);
    }
  }
  if (list.count != count) {
    size_t got = list.count;

    cl_volume_list_free(&list);
    fail_msg("got %zu volumes, expected %zu", got, count);
  }
  cl_volume_list_free(&list);
}

/* Checks cl_required_host_paths() against the NULL-terminated `expected`. */
static void expect_required(struct fixture *f, const char *const *expected)
{
  struct cl_strv paths = {0};
  size_t count = 0;

  while (expected[count])
    count++;

  cl_required_host_paths(&f->config, f->project.root, &paths);
  for (size_t i = 0; i < paths.count && i < count; i++) {
    cleanup_free char *want = expand_root(f, expected[i]);

    if (strcmp(paths.items[i], want) != 0) {
      cleanup_free char *got = cl_xstrdup(paths.items[i]);

      cl_strv_free(&paths);
      fail_msg("path %zu: got '%s', expected '%s'", i, got, want);
    }
  }
  if (paths.count != count) {
    size_t got = paths.count;

    cl_strv_free(&paths);
    fail_msg("got %zu paths, expected %zu", got, count);
  }
  cl_strv_free(&paths);
}

#define AGENT_DEFAULTS                                                         \
  "@ROOT@/config:/opt/config:ro", "@ROOT@/tools:/opt/tools:ro",                \
      "@ROOT@/home:/home/user", "@ROOT@/..:/home/user/workspace",              \
      "@ROOT@/runtime/empty-mask:/home/user/workspace/.cladding:ro"

#define CONFIG_ALL                                                             \
  "{'name': 'demo', 'agent': {}, 'nw_sandbox': {}, 'fs_sandbox': {}, "

/* --- paths and fragments --- */

static void test_normalize(void **state)
{
  static const char *const cases[][2] = {
      {"/data", "/data"},
      {"//data//x/", "/data/x"},
      {"/", "/"},
      {"///", "/"},
      {"/home/user/workspace/", "/home/user/workspace"},
      {"/a/.b/..c/...", "/a/.b/..c/..."},
      {"/with space//x", "/with space/x"},
  };

  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    cleanup_free char *got = cl_mount_normalize(cases[i][0]);

    assert_non_null(got);
    assert_string_equal(got, cases[i][1]);
  }
}

static void test_normalize_rejects_dots(void **state)
{
  static const char *const cases[] = {"/.",    "/..",    "/a/./b", "/a/../b",
                                      "/a/..", "/a//./", "/../"};

  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char *got = cl_mount_normalize(cases[i]);

    if (got != NULL) {
      free(got);
      fail_msg("'%s' was accepted", cases[i]);
    }
  }
}

static void test_fragment(void **state)
{
  static const char *const cases[][2] = {
      {"/workspace/tmp", "workspace-tmp"},
      {"/", "root"},
      {"/path/with spaces", "path-with-spaces"},
      {"/a.b_c-D9", "a.b_c-D9"},
      {"/home/user/.cache", "home-user-.cache"},
      {"/a:b,c", "a-b-c"},
      {"/donn\xc3\xa9"
       "es",
       "donn-es"},
      {"/\xe2\x82\xac\xe2\x82\xac", "--"},
  };

  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    cleanup_free char *got = cl_mount_fragment(cases[i][0]);

    assert_string_equal(got, cases[i][1]);
  }
}

static void test_volume_format(void **state)
{
  struct cl_volume plain = {"/src", "/dst", "", true};
  struct cl_volume read_only = {"/src", "/dst", "ro", true};
  struct cl_volume mask = {"cladding-demo-agent-empty-x", "/x", "ro,nocopy",
                           false};
  cleanup_free char *plain_text = cl_volume_format(&plain);
  cleanup_free char *read_only_text = cl_volume_format(&read_only);
  cleanup_free char *mask_text = cl_volume_format(&mask);

  (void)state;
  assert_string_equal(plain_text, "/src:/dst");
  assert_string_equal(read_only_text, "/src:/dst:ro");
  assert_string_equal(mask_text, "cladding-demo-agent-empty-x:/x:ro,nocopy");
}

/* --- default volumes --- */

static void test_agent_defaults(void **state)
{
  struct fixture *f = *state;
  static const char *const expected[] = {AGENT_DEFAULTS, NULL};

  load_ok(f, "{'name': 'demo', 'agent': {}}");
  expect_volumes(f, CLADDING_COMPONENT_AGENT, false, expected);
}

static void test_agent_defaults_selinux(void **state)
{
  struct fixture *f = *state;
  static const char *const expected[] = {
      "@ROOT@/config:/opt/config:ro,z",
      "@ROOT@/tools:/opt/tools:ro,z",
      "@ROOT@/home:/home/user:z",
      "@ROOT@/..:/home/user/workspace:z",
      "@ROOT@/runtime/empty-mask:/home/user/workspace/.cladding:ro,z",
      NULL,
  };

  load_ok(f, "{'name': 'demo', 'agent': {}}");
  expect_volumes(f, CLADDING_COMPONENT_AGENT, true, expected);
}

static void test_nw_sandbox_defaults(void **state)
{
  struct fixture *f = *state;
  static const char *const expected[] = {AGENT_DEFAULTS, NULL};

  load_ok(f, "{'name': 'demo', 'agent': {}, 'nw_sandbox': {}}");
  expect_volumes(f, CLADDING_COMPONENT_NW_SANDBOX, false, expected);
}

static void test_fs_sandbox_defaults(void **state)
{
  struct fixture *f = *state;
  static const char *const expected[] = {
      "@ROOT@/config:/opt/config:ro",
      "@ROOT@/tools:/opt/tools:ro",
      NULL,
  };
  static const char *const expected_selinux[] = {
      "@ROOT@/config:/opt/config:ro,z",
      "@ROOT@/tools:/opt/tools:ro,z",
      NULL,
  };

  load_ok(f, "{'name': 'demo', 'agent': {}, 'fs_sandbox': {}}");
  expect_volumes(f, CLADDING_COMPONENT_FS_SANDBOX, false, expected);
  expect_volumes(f, CLADDING_COMPONENT_FS_SANDBOX, true, expected_selinux);
}

static void test_proxy_volumes(void **state)
{
  struct fixture *f = *state;
  static const char *const expected[] = {
      "@ROOT@/runtime/proxy:/opt/cladding/proxy:ro", NULL};
  static const char *const expected_selinux[] = {
      "@ROOT@/runtime/proxy:/opt/cladding/proxy:ro,z", NULL};

  /* No entry reaches the proxy, whatever its targets. */
  load_ok(f, CONFIG_ALL "'mounts': [{'mount': '/opt/cladding/proxy',"
                        " 'hostPath': '/x', 'targets': ['agent',"
                        " 'nw-sandbox', 'fs-sandbox']}, {'mount': '/data'}]}");
  expect_volumes(f, CLADDING_COMPONENT_PROXY, false, expected);
  expect_volumes(f, CLADDING_COMPONENT_PROXY, true, expected_selinux);
}

/* --- custom entries --- */

static void test_root_masked_in_parent_mounts(void **state)
{
  struct fixture *f = *state;
  static const char *const fs_expected[] = {
      "@ROOT@/config:/opt/config:ro",
      "@ROOT@/tools:/opt/tools:ro",
      "@ROOT@/..:/home/user/workspace",
      "@ROOT@/runtime/empty-mask:/home/user/workspace/.cladding:ro",
      NULL,
  };
  static const char *const agent_expected[] = {
      AGENT_DEFAULTS,
      "@ROOT@/..:/data",
      "@ROOT@/runtime/empty-mask:/data/.cladding:ro",
      NULL,
  };

  /* A mount of a parent of ROOT, in any component, gets the empty mask
   * over ROOT's place, so no identity sees the others' sockets. */
  load_ok(f, "{'name': 'demo', 'agent': {}, 'fs_sandbox': {}, 'mounts': ["
             "{'mount': '/home/user/workspace', 'hostPath': '..',"
             " 'targets': ['fs-sandbox']},"
             " {'mount': '/data', 'hostPath': '..', 'targets': ['agent']}]}");
  expect_volumes(f, CLADDING_COMPONENT_FS_SANDBOX, false, fs_expected);
  expect_volumes(f, CLADDING_COMPONENT_AGENT, false, agent_expected);
}

static void test_override_keeps_position(void **state)
{
  struct fixture *f = *state;
  static const char *const expected[] = {
      "/etc/myconfig:/opt/config:ro",
      "@ROOT@/tools:/opt/tools:ro",
      "@ROOT@/home:/home/user",
      "@ROOT@/..:/home/user/workspace",
      "@ROOT@/runtime/empty-mask:/home/user/workspace/.cladding:ro",
      "demo-cache:/cache",
      NULL,
  };

  load_ok(f, "{'name': 'demo', 'agent': {}, 'mounts': ["
             "{'mount': '/cache', 'volume': 'cache'},"
             " {'mount': '/opt/config/', 'hostPath': '/etc/myconfig',"
             " 'readOnly': true}]}");
  expect_volumes(f, CLADDING_COMPONENT_AGENT, false, expected);
}

static void test_appended_in_config_order(void **state)
{
  struct fixture *f = *state;
  static const char *const expected[] = {
      AGENT_DEFAULTS,
      "@ROOT@/../data:/data",
      "cladding-demo-agent-empty-home-user-workspace-secrets:"
      "/home/user/workspace/secrets:ro,nocopy",
      "/srv/ref:/ref:ro",
      "demo-npm:/home/user/.npm",
      NULL,
  };

  load_ok(f, "{'name': 'demo', 'agent': {}, 'mounts': ["
             "{'mount': '/data', 'hostPath': '../data'},"
             " {'mount': '/home/user/workspace/secrets'},"
             " {'mount': '/ref', 'hostPath': '/srv/ref', 'readOnly': true},"
             " {'mount': '/home/user/.npm', 'volume': 'npm',"
             " 'readOnly': false}]}");
  expect_volumes(f, CLADDING_COMPONENT_AGENT, false, expected);
}

static void test_ignore_workspace_keeps_mask(void **state)
{
  struct fixture *f = *state;
  static const char *const expected[] = {
      "@ROOT@/config:/opt/config:ro",
      "@ROOT@/tools:/opt/tools:ro",
      "@ROOT@/home:/home/user",
      "@ROOT@/runtime/empty-mask:/home/user/workspace/.cladding:ro",
      NULL,
  };

  load_ok(f, "{'name': 'demo', 'agent': {}, 'mounts': ["
             "{'mount': '/home/user/workspace', 'ignore': true}]}");
  expect_volumes(f, CLADDING_COMPONENT_AGENT, false, expected);
}

static void test_replace_workspace_keeps_mask(void **state)
{
  struct fixture *f = *state;
  static const char *const expected[] = {
      "@ROOT@/config:/opt/config:ro",
      "@ROOT@/tools:/opt/tools:ro",
      "@ROOT@/home:/home/user",
      "@ROOT@/../src:/home/user/workspace",
      "@ROOT@/runtime/empty-mask:/home/user/workspace/.cladding:ro",
      NULL,
  };

  load_ok(f, "{'name': 'demo', 'agent': {}, 'mounts': ["
             "{'mount': '/home/user/workspace//', 'hostPath': '../src'}]}");
  expect_volumes(f, CLADDING_COMPONENT_AGENT, false, expected);
}

static void test_ignore_absent_path(void **state)
{
  struct fixture *f = *state;
  static const char *const expected[] = {AGENT_DEFAULTS, NULL};

  load_ok(f, "{'name': 'demo', 'agent': {}, 'mounts': ["
             "{'mount': '/not/mounted', 'ignore': true}]}");
  expect_volumes(f, CLADDING_COMPONENT_AGENT, false, expected);
}

static void test_mask_per_component(void **state)
{
  struct fixture *f = *state;
  static const char *const agent[] = {
      AGENT_DEFAULTS, "cladding-demo-agent-empty-root:/:ro,nocopy",
      "cladding-demo-agent-empty-path-with-spaces:/path/with spaces:ro,nocopy",
      NULL};
  static const char *const nw[] = {
      AGENT_DEFAULTS, "cladding-demo-nw-sandbox-empty-root:/:ro,nocopy",
      "cladding-demo-nw-sandbox-empty-path-with-spaces:/path/with "
      "spaces:ro,nocopy",
      NULL};
  static const char *const fs[] = {
      "@ROOT@/config:/opt/config:ro", "@ROOT@/tools:/opt/tools:ro",
      "cladding-demo-fs-sandbox-empty-root:/:ro,nocopy",
      "cladding-demo-fs-sandbox-empty-path-with-spaces:/path/with "
      "spaces:ro,nocopy",
      NULL};

  load_ok(f, CONFIG_ALL "'mounts': ["
                        "{'mount': '/', 'targets': ['agent', 'nw-sandbox',"
                        " 'fs-sandbox']},"
                        " {'mount': '/path/with spaces/', 'targets': "
                        "['fs-sandbox', 'nw-sandbox', 'agent']}]}");
  expect_volumes(f, CLADDING_COMPONENT_AGENT, false, agent);
  expect_volumes(f, CLADDING_COMPONENT_NW_SANDBOX, false, nw);
  expect_volumes(f, CLADDING_COMPONENT_FS_SANDBOX, false, fs);
}

/* Masks and named volumes are not bind mounts, so SELinux adds nothing. */
static void test_mask_no_relabel(void **state)
{
  struct fixture *f = *state;
  static const char *const fs[] = {
      "@ROOT@/config:/opt/config:ro,z", "@ROOT@/tools:/opt/tools:ro,z",
      "cladding-demo-fs-sandbox-empty-secret:/secret:ro,nocopy",
      "demo-shared:/shared", NULL};

  load_ok(f, CONFIG_ALL "'mounts': ["
                        "{'mount': '/secret', 'targets': ['fs-sandbox']},"
                        " {'mount': '/shared', 'volume': 'shared',"
                        " 'targets': ['fs-sandbox']}]}");
  expect_volumes(f, CLADDING_COMPONENT_FS_SANDBOX, true, fs);
}

static void test_volume_never_read_only(void **state)
{
  struct fixture *f = *state;
  static const char *const agent[] = {AGENT_DEFAULTS, "demo-data:/data", NULL};
  struct cl_volume_list list;

  load_ok(f, "{'name': 'demo', 'agent': {}, 'mounts': ["
             "{'mount': '/data', 'volume': 'data', 'readOnly': false}]}");
  expect_volumes(f, CLADDING_COMPONENT_AGENT, false, agent);

  cl_component_volumes(&f->config, f->project.root, CLADDING_COMPONENT_AGENT,
                       true, &list);
  assert_int_equal(list.count, 6);
  assert_false(list.items[5].bind);
  assert_string_equal(list.items[5].options, "");
  assert_true(list.items[0].bind);
  cl_volume_list_free(&list);
}

static void test_selinux_custom_bind(void **state)
{
  struct fixture *f = *state;
  static const char *const agent[] = {
      "@ROOT@/config:/opt/config:ro,z",
      "@ROOT@/tools:/opt/tools:ro,z",
      "@ROOT@/home:/home/user:z",
      "@ROOT@/..:/home/user/workspace:z",
      "@ROOT@/runtime/empty-mask:/home/user/workspace/.cladding:ro,z",
      "/srv/a:/a:ro,z",
      "/srv/b:/b:z",
      "/srv/c:/c:ro",
      "/srv/d:/d",
      NULL,
  };

  load_ok(f, "{'name': 'demo', 'agent': {}, 'mounts': ["
             "{'mount': '/a', 'hostPath': '/srv/a', 'readOnly': true},"
             " {'mount': '/b', 'hostPath': '/srv/b', 'relabel': true},"
             " {'mount': '/c', 'hostPath': '/srv/c', 'readOnly': true,"
             " 'relabel': false},"
             " {'mount': '/d', 'hostPath': '/srv/d', 'relabel': false}]}");
  expect_volumes(f, CLADDING_COMPONENT_AGENT, true, agent);
}

static void test_relabel_needs_selinux(void **state)
{
  struct fixture *f = *state;
  static const char *const agent[] = {AGENT_DEFAULTS, "/srv/b:/b", NULL};

  load_ok(f, "{'name': 'demo', 'agent': {}, 'mounts': ["
             "{'mount': '/b', 'hostPath': '/srv/b', 'relabel': true}]}");
  expect_volumes(f, CLADDING_COMPONENT_AGENT, false, agent);
}

static void test_fs_only_named_mounts(void **state)
{
  struct fixture *f = *state;
  static const char *const agent[] = {AGENT_DEFAULTS, "/srv/all:/all", NULL};
  static const char *const nw[] = {AGENT_DEFAULTS, "/srv/all:/all",
                                   "/srv/nw:/nw", NULL};
  static const char *const fs[] = {"@ROOT@/config:/opt/config:ro",
                                   "@ROOT@/tools:/opt/tools:ro",
                                   "/srv/fs:/fs:ro", NULL};

  load_ok(f, CONFIG_ALL "'mounts': ["
                        "{'mount': '/all', 'hostPath': '/srv/all'},"
                        " {'mount': '/nw', 'hostPath': '/srv/nw',"
                        " 'targets': ['nw-sandbox']},"
                        " {'mount': '/fs', 'hostPath': '/srv/fs',"
                        " 'readOnly': true, 'targets': ['fs-sandbox']},"
                        " {'mount': '/home/user', 'ignore': true,"
                        " 'targets': ['fs-sandbox']}]}");
  expect_volumes(f, CLADDING_COMPONENT_AGENT, false, agent);
  expect_volumes(f, CLADDING_COMPONENT_NW_SANDBOX, false, nw);
  expect_volumes(f, CLADDING_COMPONENT_FS_SANDBOX, false, fs);
}

/* --- required host paths --- */

static void test_required_defaults(void **state)
{
  struct fixture *f = *state;
  static const char *const expected[] = {"@ROOT@/config", "@ROOT@/tools",
                                         "@ROOT@/home", "@ROOT@/..", NULL};

  load_ok(f, CONFIG_ALL "'mounts': []}");
  expect_required(f, expected);
}

static void test_required_custom_paths(void **state)
{
  struct fixture *f = *state;
  static const char *const expected[] = {
      "@ROOT@/config",
      "@ROOT@/tools",
      "@ROOT@/home",
      "@ROOT@/..",
      "/srv/data",
      "@ROOT@/../cache",
      "@ROOT@/data/runtime/sockets/agent/inject",
      "@ROOT@/runtime/sockets",
      "@ROOT@/runtime/sockets/run/nw-sandbox",
      NULL,
  };

  load_ok(f, "{'name': 'demo', 'agent': {}, 'mounts': ["
             "{'mount': '/data', 'hostPath': '/srv/data'},"
             " {'mount': '/cache', 'hostPath': '../cache'},"
             " {'mount': '/v', 'volume': 'v'},"
             " {'mount': '/mask'},"
             " {'mount': '/dup', 'hostPath': '/srv/data'},"
             " {'mount': '/g1', 'hostPath': '/x'},"
             " {'mount': '/g2', 'hostPath': '/x'},"
             " {'mount': '/g3', 'hostPath': '/x'},"
             " {'mount': '/g4', 'hostPath': '/x'},"
             " {'mount': '/g5', 'hostPath': '/x'},"
             " {'mount': '/u1', 'hostPath': '/x'},"
             " {'mount': '/u2', 'hostPath': '/x'},"
             " {'mount': '/u3', 'hostPath': '/x'}]}");
  set_host_path(f, 5, "@ROOT@/runtime/proxy");
  set_host_path(f, 6, "@ROOT@/runtime/empty-mask");
  set_host_path(f, 7, "@ROOT@/runtime/sockets/agent/inject");
  set_host_path(f, 8, "@ROOT@/runtime/sockets/agent/expose");
  set_host_path(f, 9, "@ROOT@/runtime/sockets/proxy/agent");
  set_host_path(f, 10, "@ROOT@/data/runtime/sockets/agent/inject");
  set_host_path(f, 11, "@ROOT@/runtime/sockets");
  set_host_path(f, 12, "@ROOT@/runtime/sockets/run/nw-sandbox");
  expect_required(f, expected);
}

static void test_required_sandbox_socket_dirs_skipped(void **state)
{
  struct fixture *f = *state;
  static const char *const expected[] = {"@ROOT@/config", "@ROOT@/tools",
                                         "@ROOT@/home", "@ROOT@/..", NULL};

  /* With both sandboxes enabled, `up` creates their socket directories. */
  load_ok(f, CONFIG_ALL "'mounts': ["
                        "{'mount': '/a', 'hostPath': '/x'},"
                        " {'mount': '/b', 'hostPath': '/x'},"
                        " {'mount': '/c', 'hostPath': '/x'}]}");
  set_host_path(f, 0, "@ROOT@/runtime/sockets/run/nw-sandbox");
  set_host_path(f, 1, "@ROOT@/runtime/sockets/proxy/nw-sandbox");
  set_host_path(f, 2, "@ROOT@/runtime/sockets/run/fs-sandbox");
  expect_required(f, expected);
}

static void test_required_absolute_generated_path(void **state)
{
  struct fixture *f = *state;
  static const char *const expected[] = {
      "@ROOT@/config", "@ROOT@/tools",          "@ROOT@/home",
      "@ROOT@/..",     "@ROOT@/runtime//proxy", NULL};

  /* The comparison is on whole strings, so another spelling is checked. */
  load_ok(f, "{'name': 'demo', 'agent': {}, 'mounts': ["
             "{'mount': '/a', 'hostPath': '/x'},"
             " {'mount': '/b', 'hostPath': '/x'}]}");
  set_host_path(f, 0, "@ROOT@/runtime/proxy");
  set_host_path(f, 1, "@ROOT@/runtime//proxy");
  expect_required(f, expected);
}

static void test_required_skips_ignored(void **state)
{
  struct fixture *f = *state;
  static const char *const expected[] = {"@ROOT@/config", "@ROOT@/tools",
                                         "@ROOT@/home", NULL};

  load_ok(f, "{'name': 'demo', 'agent': {}, 'mounts': ["
             "{'mount': '/home/user/workspace', 'ignore': true}]}");
  expect_required(f, expected);
}

static void test_required_keeps_path_of_other_component(void **state)
{
  struct fixture *f = *state;
  static const char *const expected[] = {"@ROOT@/config", "@ROOT@/tools",
                                         "@ROOT@/home", "@ROOT@/..", NULL};

  /* The agent drops the workspace but the nw-sandbox still mounts it. */
  load_ok(f, "{'name': 'demo', 'agent': {}, 'nw_sandbox': {}, 'mounts': ["
             "{'mount': '/home/user/workspace', 'ignore': true,"
             " 'targets': ['agent']}]}");
  expect_required(f, expected);
}

static void test_required_overrides(void **state)
{
  struct fixture *f = *state;
  static const char *const expected[] = {"@ROOT@/config", "/srv/tools",
                                         "/srv/home",     "@ROOT@/..",
                                         "@ROOT@/tools",  NULL};

  /* The bridge keeps ROOT/tools required after the agent replaced it. */
  load_ok(f, "{'name': 'demo', 'agent': {}, 'mounts': ["
             "{'mount': '/opt/tools', 'hostPath': '/srv/tools'},"
             " {'mount': '/home/user', 'hostPath': '/srv/home'}]}");
  expect_required(f, expected);
}

static void test_required_inactive_entries(void **state)
{
  struct fixture *f = *state;
  static const char *const enabled[] = {
      "@ROOT@/config", "@ROOT@/tools", "@ROOT@/home", "@ROOT@/..",
      "/srv/nw",       "/srv/fs",      NULL};
  static const char *const disabled[] = {"@ROOT@/config", "@ROOT@/tools",
                                         "@ROOT@/home", "@ROOT@/..", NULL};

  load_ok(f, CONFIG_ALL "'mounts': ["
                        "{'mount': '/nw', 'hostPath': '/srv/nw',"
                        " 'targets': ['nw-sandbox']},"
                        " {'mount': '/fs', 'hostPath': '/srv/fs',"
                        " 'targets': ['fs-sandbox']}]}");
  expect_required(f, enabled);

  /* Entries that only target a disabled component are not active. */
  f->config.nw_sandbox.enabled = false;
  f->config.fs_sandbox.enabled = false;
  expect_required(f, disabled);
}

static void test_check_host_paths_missing(void **state)
{
  struct fixture *f = *state;
  cleanup_free char *want = NULL;
  int ret;

  cl_test_mkdir(f->project.root, "tools");
  load_ok(f, "{'name': 'demo', 'agent': {}, 'mounts': ["
             "{'mount': '/data', 'hostPath': '../data'}]}");

  cl_test_capture_start(&f->capture);
  ret = cl_check_host_paths(&f->config, f->project.root, &f->err);
  cl_test_capture_stop(&f->capture);

  want = expand_root(f, "missing: hostPath @ROOT@/config\n"
                        "hint: create or relink @ROOT@/config\n"
                        "missing: hostPath @ROOT@/home\n"
                        "hint: create or relink @ROOT@/home\n"
                        "missing: hostPath @ROOT@/../data\n"
                        "hint: create or relink @ROOT@/../data\n");
  assert_int_equal(ret, -1);
  assert_string_equal(f->capture.err, want);
  assert_string_equal(f->err.message, "missing host paths");
  assert_int_equal(f->err.status, 1);
}

static void test_check_host_paths_present(void **state)
{
  struct fixture *f = *state;
  int ret;

  cl_test_mkdir(f->project.root, "config");
  cl_test_mkdir(f->project.root, "tools");
  cl_test_mkdir(f->project.root, "home");
  cl_test_write_file(f->project.proj, "data", "a file works too\n");
  load_ok(f, "{'name': 'demo', 'agent': {}, 'mounts': ["
             "{'mount': '/data', 'hostPath': '../data'}]}");

  cl_test_capture_start(&f->capture);
  ret = cl_check_host_paths(&f->config, f->project.root, &f->err);
  cl_test_capture_stop(&f->capture);

  assert_int_equal(ret, 0);
  assert_string_equal(f->capture.err, "");
  assert_null(f->err.message);
}

/* --- SELinux detection --- */

static void test_selinux_enabled_at(void **state)
{
  struct fixture *f = *state;
  cleanup_free char *on = cl_path_join(f->project.tmp, "on");
  cleanup_free char *off = cl_path_join(f->project.tmp, "off");
  cleanup_free char *empty = cl_path_join(f->project.tmp, "empty");
  cleanup_free char *absent = cl_path_join(f->project.tmp, "absent");

  cl_test_write_file(f->project.tmp, "on", "1");
  cl_test_write_file(f->project.tmp, "off", "0");
  cl_test_write_file(f->project.tmp, "empty", "");
  assert_true(cl_selinux_enabled_at(on));
  assert_false(cl_selinux_enabled_at(off));
  assert_false(cl_selinux_enabled_at(empty));
  assert_false(cl_selinux_enabled_at(absent));
}

#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_normalize),
      cmocka_unit_test(test_normalize_rejects_dots),
      cmocka_unit_test(test_fragment),
      cmocka_unit_test(test_volume_format),
      TEST(test_agent_defaults),
      TEST(test_agent_defaults_selinux),
      TEST(test_nw_sandbox_defaults),
      TEST(test_fs_sandbox_defaults),
      TEST(test_proxy_volumes),
      TEST(test_root_masked_in_parent_mounts),
      TEST(test_override_keeps_position),
      TEST(test_appended_in_config_order),
      TEST(test_ignore_workspace_keeps_mask),
      TEST(test_replace_workspace_keeps_mask),
      TEST(test_ignore_absent_path),
      TEST(test_mask_per_component),
      TEST(test_mask_no_relabel),
      TEST(test_volume_never_read_only),
      TEST(test_selinux_custom_bind),
      TEST(test_relabel_needs_selinux),
      TEST(test_fs_only_named_mounts),
      TEST(test_required_defaults),
      TEST(test_required_custom_paths),
      TEST(test_required_sandbox_socket_dirs_skipped),
      TEST(test_required_absolute_generated_path),
      TEST(test_required_skips_ignored),
      TEST(test_required_keeps_path_of_other_component),
      TEST(test_required_overrides),
      TEST(test_required_inactive_entries),
      TEST(test_check_host_paths_missing),
      TEST(test_check_host_paths_present),
      TEST(test_selinux_enabled_at),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
