/* Unit tests of cladding.json loading: every message, its order and the
 * effective model.  JSON texts use ' for " (see cl_test_load_config). */
#include "config-host.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
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

static int load(struct fixture *f, const char *json)
{
  return cl_test_load_config(&f->project, json, &f->config, &f->err,
                             &f->capture);
}

/* Loads `json` and checks that it fails with exactly `expected` on stderr,
 * where @FILE@ stands for the path of cladding.json and @ROOT@ for ROOT, and
 * with `final` as the final line and exit status 1. */
static void expect_failure(struct fixture *f, const char *json,
                           const char *expected, const char *final)
{
  cleanup_free char *with_file =
      cl_test_replace(expected, "@FILE@", f->project.config_path);
  cleanup_free char *want =
      cl_test_replace(with_file, "@ROOT@", f->project.root);

  assert_int_equal(load(f, json), -1);
  assert_string_equal(f->capture.err, want);
  assert_string_equal(f->capture.out, "");
  assert_non_null(f->err.message);
  assert_string_equal(f->err.message, final);
  assert_int_equal(f->err.status, 1);
  /* A failed load leaves nothing to free. */
  assert_null(f->config.name);
  assert_null(f->config.mounts);
}

static void expect_invalid(struct fixture *f, const char *json,
                           const char *expected)
{
  expect_failure(f, json, expected, "invalid cladding.json");
}

static void expect_success(struct fixture *f, const char *json)
{
  assert_int_equal(load(f, json), 0);
  assert_string_equal(f->capture.err, "");
  assert_string_equal(f->capture.out, "");
  assert_null(f->err.message);
}

/* --- file and syntax --- */

static void test_missing_file(void **state)
{
  struct fixture *f = *state;

  expect_failure(f, NULL,
                 "missing: cladding.json (@FILE@)\n"
                 "hint: run cladding init\n",
                 "missing cladding.json");
}

static void test_read_failure(void **state)
{
  struct fixture *f = *state;
  cleanup_free char *final =
      cl_asprintf("failed to read %s", f->project.config_path);

  /* open() of a directory succeeds and read() fails with EISDIR. */
  cl_test_mkdir(f->project.root, "cladding.json");
  expect_failure(f, NULL, "", final);
}

static void test_syntax_truncated(void **state)
{
  struct fixture *f = *state;

  /* The parser stopped at the start of line 3, after the last newline. */
  expect_invalid(f,
                 "{\n"
                 "  'name': 'demo',\n",
                 "error: cladding.json is not valid JSON: string or '}' "
                 "expected near end of file\n"
                 "file: @FILE@:3:1\n");
}

static void test_syntax_truncated_mid_line(void **state)
{
  struct fixture *f = *state;

  /* The column is that of the last character read, the '{'. */
  expect_invalid(f,
                 "{\n"
                 "  'name': 'demo',\n"
                 "  'agent': {",
                 "error: cladding.json is not valid JSON: string or '}' "
                 "expected near end of file\n"
                 "file: @FILE@:3:12\n");
}

static void test_syntax_missing_comma(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f,
                 "{\n"
                 "  'name': 'demo'\n"
                 "  'agent': {}\n"
                 "}\n",
                 "error: cladding.json is not valid JSON: '}' expected near "
                 "'\"agent\"'\n"
                 "file: @FILE@:3:9\n");
}

static void test_syntax_bad_literal(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f, "{'name': tru}",
                 "error: cladding.json is not valid JSON: invalid token near "
                 "'tru'\n"
                 "file: @FILE@:1:12\n");
}

static void test_syntax_column_counts_characters(void **state)
{
  struct fixture *f = *state;

  /* "é" is two bytes and one column. */
  expect_invalid(f, "{'n\xc3\xa9': x}",
                 "error: cladding.json is not valid JSON: invalid token near "
                 "'x'\n"
                 "file: @FILE@:1:8\n");
}

static void test_syntax_empty_file(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f, "",
                 "error: cladding.json is not valid JSON: unexpected token "
                 "near end of file\n"
                 "file: @FILE@:1:1\n");
}

static void test_syntax_trailing_text(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f, "{'name': 'demo', 'agent': {}}\nx\n",
                 "error: cladding.json is not valid JSON: end of file "
                 "expected near 'x'\n"
                 "file: @FILE@:2:1\n");
}

static void test_top_level_not_object(void **state)
{
  struct fixture *f = *state;
  static const char *const texts[] = {"[]", "'demo'", "null", "5", "true"};

  for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
    expect_invalid(f, texts[i],
                   "error: cladding.json must be a JSON object\n"
                   "file: @FILE@\n");
    cl_error_clear(&f->err);
  }
}

/* --- top-level keys --- */

static void test_unknown_keys_in_file_order(void **state)
{
  struct fixture *f = *state;

  expect_invalid(
      f,
      "{'zeta': 1, 'name': 'demo', 'nw_sandbox_image': 'x', 'agent': {},"
      " 'subnet': '10.0.0.0/24', 'agent_image': 'a', 'sandbox_image': 's',"
      " 'cli_image': 'c', 'alpha': null}",
      "error: cladding.json unknown key: zeta\n"
      "file: @FILE@\n"
      "error: cladding.json unknown key: nw_sandbox_image\n"
      "hint: replace 'nw_sandbox_image' with 'nw_sandbox.image'\n"
      "file: @FILE@\n"
      "error: cladding.json unknown key: subnet\n"
      "file: @FILE@\n"
      "error: cladding.json unknown key: agent_image\n"
      "hint: replace 'agent_image' with 'agent.image'\n"
      "file: @FILE@\n"
      "error: cladding.json unknown key: sandbox_image\n"
      "hint: replace 'sandbox_image' with 'nw_sandbox.image'\n"
      "file: @FILE@\n"
      "error: cladding.json unknown key: cli_image\n"
      "hint: replace 'cli_image' with 'agent.image'\n"
      "file: @FILE@\n"
      "error: cladding.json unknown key: alpha\n"
      "file: @FILE@\n");
}

static void test_unknown_key_before_name_check(void **state)
{
  struct fixture *f = *state;

  /* The unknown keys fail the load before `name` is looked at. */
  expect_invalid(f, "{'subnet': 'x'}",
                 "error: cladding.json unknown key: subnet\n"
                 "file: @FILE@\n");
}

static void test_name_missing(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f, "{'agent': {}}",
                 "error: cladding.json must include string key: name\n"
                 "file: @FILE@\n");
}

static void test_name_not_string(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f, "{'name': 5, 'agent': {}}",
                 "error: cladding.json must include string key: name\n"
                 "file: @FILE@\n");
}

/* --- use_runsc --- */

static void test_use_runsc_default(void **state)
{
  struct fixture *f = *state;

  expect_success(f, "{'name': 'demo', 'agent': {}}");
  assert_false(f->config.use_runsc);
}

static void test_use_runsc_true(void **state)
{
  struct fixture *f = *state;

  expect_success(f, "{'name': 'demo', 'agent': {}, 'use_runsc': true}");
  assert_true(f->config.use_runsc);
}

static void test_use_runsc_false(void **state)
{
  struct fixture *f = *state;

  expect_success(f, "{'use_runsc': false, 'name': 'demo', 'agent': {}}");
  assert_false(f->config.use_runsc);
}

static void test_use_runsc_string_rejected(void **state)
{
  struct fixture *f = *state;

  /* The use_runsc error comes before the missing agent. */
  expect_invalid(f, "{'name': 'demo', 'use_runsc': 'yes'}",
                 "error: cladding.json invalid field 'use_runsc' (expected "
                 "boolean)\n"
                 "file: @FILE@\n");
}

static void test_use_runsc_null_rejected(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f, "{'name': 'demo', 'agent': {}, 'use_runsc': null}",
                 "error: cladding.json invalid field 'use_runsc' (expected "
                 "boolean)\n"
                 "file: @FILE@\n");
}

/* --- components --- */

static void test_minimal_config_defaults(void **state)
{
  struct fixture *f = *state;

  expect_success(f, "{'name': 'demo', 'agent': {}}");
  assert_string_equal(f->config.path, f->project.config_path);
  assert_string_equal(f->config.name, "demo");
  assert_true(f->config.agent.present);
  assert_true(f->config.agent.enabled);
  assert_string_equal(f->config.agent.image, CL_DEFAULT_AGENT_IMAGE);
  assert_false(f->config.nw_sandbox.present);
  assert_false(f->config.nw_sandbox.enabled);
  assert_string_equal(f->config.nw_sandbox.image, CL_DEFAULT_SANDBOX_IMAGE);
  assert_false(f->config.fs_sandbox.present);
  assert_false(f->config.fs_sandbox.enabled);
  assert_string_equal(f->config.fs_sandbox.image, CL_DEFAULT_SANDBOX_IMAGE);
  assert_string_equal(f->config.proxy_image, CL_DEFAULT_PROXY_IMAGE);
  assert_int_equal(f->config.proxy_host_count, 0);
  assert_null(f->config.base_image);
  assert_int_equal(f->config.mount_count, 0);
}

static void test_init_default_file(void **state)
{
  struct fixture *f = *state;

  expect_success(f, "{\n"
                    "  'name': 'demo',\n"
                    "  'agent': {\n"
                    "    'image': 'localhost/cladding-agent:latest'\n"
                    "  },\n"
                    "  'nw_sandbox': {\n"
                    "    'enabled': true,\n"
                    "    'image': 'localhost/cladding-sandbox:latest'\n"
                    "  }\n"
                    "}\n");
  assert_true(f->config.nw_sandbox.present);
  assert_true(f->config.nw_sandbox.enabled);
  assert_false(f->config.fs_sandbox.enabled);
}

static void test_custom_images(void **state)
{
  struct fixture *f = *state;

  expect_success(f, "{'name': 'demo', 'agent': {'image': 'a:1'},"
                    " 'nw_sandbox': {'image': 'n:2'},"
                    " 'fs_sandbox': {'image': 'f:3', 'enabled': true}}");
  assert_string_equal(f->config.agent.image, "a:1");
  assert_string_equal(f->config.nw_sandbox.image, "n:2");
  assert_string_equal(f->config.fs_sandbox.image, "f:3");
  assert_true(f->config.fs_sandbox.enabled);
}

static void test_sandbox_empty_object_enabled(void **state)
{
  struct fixture *f = *state;

  expect_success(f, "{'name': 'demo', 'agent': {}, 'nw_sandbox': {},"
                    " 'fs_sandbox': {}}");
  assert_true(f->config.nw_sandbox.present);
  assert_true(f->config.nw_sandbox.enabled);
  assert_string_equal(f->config.nw_sandbox.image, CL_DEFAULT_SANDBOX_IMAGE);
  assert_true(f->config.fs_sandbox.present);
  assert_true(f->config.fs_sandbox.enabled);
}

static void test_sandbox_disabled(void **state)
{
  struct fixture *f = *state;

  expect_success(f, "{'name': 'demo', 'agent': {},"
                    " 'nw_sandbox': {'enabled': false, 'image': 'x'}}");
  assert_true(f->config.nw_sandbox.present);
  assert_false(f->config.nw_sandbox.enabled);
  assert_string_equal(f->config.nw_sandbox.image, "x");
}

static void test_agent_missing(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f, "{'name': 'demo'}",
                 "error: cladding.json must include object key: agent\n"
                 "file: @FILE@\n");
}

static void test_component_not_object(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f, "{'name': 'demo', 'agent': null}",
                 "error: cladding.json field 'agent' must be an object\n"
                 "file: @FILE@\n");
}

static void test_nw_sandbox_null_not_object(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f, "{'name': 'demo', 'agent': {}, 'nw_sandbox': null}",
                 "error: cladding.json field 'nw_sandbox' must be an "
                 "object\n"
                 "file: @FILE@\n");
}

static void test_fs_sandbox_not_object(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f, "{'name': 'demo', 'agent': {}, 'fs_sandbox': true}",
                 "error: cladding.json field 'fs_sandbox' must be an "
                 "object\n"
                 "file: @FILE@\n");
}

static void test_component_unknown_keys(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f,
                 "{'name': 'demo', 'agent': {'tag': 1, 'image': 5,"
                 " 'cmd': 'x'}, 'nw_sandbox': {'foo': 1}}",
                 "error: cladding.json unknown key: agent.tag\n"
                 "file: @FILE@\n"
                 "error: cladding.json unknown key: agent.cmd\n"
                 "file: @FILE@\n");
}

static void test_sandbox_unknown_key(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f, "{'name': 'demo', 'agent': {}, 'fs_sandbox': {'foo': 1}}",
                 "error: cladding.json unknown key: fs_sandbox.foo\n"
                 "file: @FILE@\n");
}

static void test_component_image_not_string(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f, "{'name': 'demo', 'agent': {}, 'nw_sandbox': {'image': 1}}",
                 "error: cladding.json invalid field 'nw_sandbox.image' "
                 "(expected string)\n"
                 "file: @FILE@\n");
}

static void test_agent_image_not_string(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f, "{'name': 'demo', 'agent': {'image': null}}",
                 "error: cladding.json invalid field 'agent.image' (expected "
                 "string)\n"
                 "file: @FILE@\n");
}

static void test_agent_enabled_true_rejected(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f, "{'name': 'demo', 'agent': {'enabled': true}}",
                 "error: cladding.json invalid field 'agent.enabled' (agent "
                 "cannot be disabled)\n"
                 "hint: remove 'agent.enabled'\n"
                 "file: @FILE@\n");
}

static void test_agent_enabled_false_rejected(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f, "{'name': 'demo', 'agent': {'enabled': false}}",
                 "error: cladding.json invalid field 'agent.enabled' (agent "
                 "cannot be disabled)\n"
                 "hint: remove 'agent.enabled'\n"
                 "file: @FILE@\n");
}

static void test_sandbox_enabled_string_rejected(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f,
                 "{'name': 'demo', 'agent': {}, 'nw_sandbox': {'enabled': "
                 "'true'}}",
                 "error: cladding.json invalid field 'nw_sandbox.enabled' "
                 "(expected boolean)\n"
                 "file: @FILE@\n");
}

static void test_fs_enabled_null_rejected(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f,
                 "{'name': 'demo', 'agent': {}, 'fs_sandbox': {'enabled': "
                 "null}}",
                 "error: cladding.json invalid field 'fs_sandbox.enabled' "
                 "(expected boolean)\n"
                 "file: @FILE@\n");
}

/* --- proxy --- */

static void test_proxy_valid(void **state)
{
  struct fixture *f = *state;

  expect_success(f, "{'name': 'demo', 'agent': {}, 'proxy': {"
                    "'image': 'p:1', 'hosts': {"
                    "'host.containers.internal': '10.88.0.5',"
                    " 'db_1.example': '192.168.1.20',"
                    " 'a': '10.0.0.1'}}}");
  assert_string_equal(f->config.proxy_image, "p:1");
  assert_int_equal(f->config.proxy_host_count, 3);
  assert_string_equal(f->config.proxy_hosts[0].hostname,
                      "host.containers.internal");
  assert_string_equal(f->config.proxy_hosts[0].address, "10.88.0.5");
  assert_string_equal(f->config.proxy_hosts[1].hostname, "db_1.example");
  assert_string_equal(f->config.proxy_hosts[1].address, "192.168.1.20");
  assert_string_equal(f->config.proxy_hosts[2].hostname, "a");
  assert_string_equal(f->config.proxy_hosts[2].address, "10.0.0.1");
}

static void test_proxy_empty_object(void **state)
{
  struct fixture *f = *state;

  expect_success(f, "{'name': 'demo', 'agent': {}, 'proxy': {'hosts': {}}}");
  assert_string_equal(f->config.proxy_image, CL_DEFAULT_PROXY_IMAGE);
  assert_int_equal(f->config.proxy_host_count, 0);
}

static void test_proxy_not_object(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f, "{'name': 'demo', 'agent': {}, 'proxy': 'squid'}",
                 "error: cladding.json field 'proxy' must be an object\n"
                 "file: @FILE@\n");
}

static void test_proxy_null_not_object(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f, "{'name': 'demo', 'agent': {}, 'proxy': null}",
                 "error: cladding.json field 'proxy' must be an object\n"
                 "file: @FILE@\n");
}

static void test_proxy_unknown_keys(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f,
                 "{'name': 'demo', 'agent': {}, 'proxy': {'port': 3128,"
                 " 'image': 'p', 'allow': []}}",
                 "error: cladding.json unknown key: proxy.port\n"
                 "file: @FILE@\n"
                 "error: cladding.json unknown key: proxy.allow\n"
                 "file: @FILE@\n");
}

static void test_proxy_image_not_string(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f, "{'name': 'demo', 'agent': {}, 'proxy': {'image': []}}",
                 "error: cladding.json invalid field 'proxy.image' (expected "
                 "string)\n"
                 "file: @FILE@\n");
}

static void test_proxy_hosts_not_object(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f,
                 "{'name': 'demo', 'agent': {}, 'proxy': {'hosts': "
                 "['a=1.2.3.4']}}",
                 "error: cladding.json field 'proxy.hosts' must be an "
                 "object\n"
                 "file: @FILE@\n");
}

static void test_proxy_hosts_bad_value(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f,
                 "{'name': 'demo', 'agent': {}, 'proxy': {'hosts': "
                 "{'db.internal': '10.0.0.256'}}}",
                 "error: cladding.json invalid field 'proxy.hosts.db.internal' "
                 "(expected IPv4 address)\n"
                 "file: @FILE@\n");
}

static void test_proxy_hosts_all_bad_reported(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f,
                 "{'name': 'demo', 'agent': {}, 'proxy': {'hosts': {"
                 "'.example.com': '1.2.3.4', 'ok.example': '1.2.3.4',"
                 " 'db': 5, '-bad': 'x', '10.0.0.1': '10.0.0.2',"
                 " 'v6.example': '::1'}}}",
                 "error: cladding.json invalid key 'proxy.hosts..example.com' "
                 "(expected hostname)\n"
                 "file: @FILE@\n"
                 "error: cladding.json invalid field 'proxy.hosts.db' "
                 "(expected IPv4 address)\n"
                 "file: @FILE@\n"
                 "error: cladding.json invalid key 'proxy.hosts.-bad' "
                 "(expected hostname)\n"
                 "file: @FILE@\n"
                 "error: cladding.json invalid field 'proxy.hosts.-bad' "
                 "(expected IPv4 address)\n"
                 "file: @FILE@\n"
                 "error: cladding.json invalid key 'proxy.hosts.10.0.0.1' "
                 "(expected hostname)\n"
                 "file: @FILE@\n"
                 "error: cladding.json invalid field 'proxy.hosts.v6.example' "
                 "(expected IPv4 address)\n"
                 "file: @FILE@\n");
}

static void test_proxy_hosts_loopback(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f,
                 "{'name': 'demo', 'agent': {}, 'proxy': {'hosts': {"
                 "'host.containers.internal': '127.0.0.1',"
                 " 'ok.example': '10.0.0.1', 'b': '127.0.0.2',"
                 " 'c': '127.255.255.255', 'd': '0.0.0.0'}}}",
                 "error: cladding.json invalid field "
                 "'proxy.hosts.host.containers.internal' (loopback address)\n"
                 "hint: a loopback address names the proxy pod itself; use "
                 "'cladding inject' to reach a service on the host\n"
                 "file: @FILE@\n"
                 "error: cladding.json invalid field 'proxy.hosts.b' "
                 "(loopback address)\n"
                 "hint: a loopback address names the proxy pod itself; use "
                 "'cladding inject' to reach a service on the host\n"
                 "file: @FILE@\n"
                 "error: cladding.json invalid field 'proxy.hosts.c' "
                 "(loopback address)\n"
                 "hint: a loopback address names the proxy pod itself; use "
                 "'cladding inject' to reach a service on the host\n"
                 "file: @FILE@\n"
                 "error: cladding.json invalid field 'proxy.hosts.d' "
                 "(loopback address)\n"
                 "hint: a loopback address names the proxy pod itself; use "
                 "'cladding inject' to reach a service on the host\n"
                 "file: @FILE@\n");
}

static void test_proxy_hosts_loopback_with_bad_key(void **state)
{
  struct fixture *f = *state;

  /* Both problems of one entry are reported, the key first. */
  expect_invalid(f,
                 "{'name': 'demo', 'agent': {}, 'proxy': {'hosts': {"
                 "'-x': '127.0.0.1'}}}",
                 "error: cladding.json invalid key 'proxy.hosts.-x' "
                 "(expected hostname)\n"
                 "file: @FILE@\n"
                 "error: cladding.json invalid field 'proxy.hosts.-x' "
                 "(loopback address)\n"
                 "hint: a loopback address names the proxy pod itself; use "
                 "'cladding inject' to reach a service on the host\n"
                 "file: @FILE@\n");
}

static void test_proxy_hosts_near_loopback_accepted(void **state)
{
  struct fixture *f = *state;

  expect_success(f, "{'name': 'demo', 'agent': {}, 'proxy': {'hosts': {"
                    "'a': '10.0.0.1', 'b': '126.255.255.255',"
                    " 'c': '128.0.0.1', 'd': '0.0.0.1', 'e': '1.127.0.0'}}}");
  assert_int_equal(f->config.proxy_host_count, 5);
  assert_string_equal(f->config.proxy_hosts[0].address, "10.0.0.1");
  assert_string_equal(f->config.proxy_hosts[1].address, "126.255.255.255");
  assert_string_equal(f->config.proxy_hosts[2].address, "128.0.0.1");
  assert_string_equal(f->config.proxy_hosts[3].address, "0.0.0.1");
  assert_string_equal(f->config.proxy_hosts[4].address, "1.127.0.0");
}

/* --- images --- */

static void test_images_base(void **state)
{
  struct fixture *f = *state;

  expect_success(f, "{'name': 'demo', 'agent': {}, 'images': {'base': "
                    "'docker.io/library/debian:bookworm'}}");
  assert_string_equal(f->config.base_image,
                      "docker.io/library/debian:bookworm");
}

static void test_images_empty_object(void **state)
{
  struct fixture *f = *state;

  expect_success(f, "{'name': 'demo', 'agent': {}, 'images': {}}");
  assert_null(f->config.base_image);
}

static void test_images_not_object(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f, "{'name': 'demo', 'agent': {}, 'images': 'debian'}",
                 "error: cladding.json field 'images' must be an object\n"
                 "file: @FILE@\n");
}

static void test_images_unknown_keys(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f,
                 "{'name': 'demo', 'agent': {}, 'images': {'agent': 'a',"
                 " 'base': 'b', 'proxy': 'p'}}",
                 "error: cladding.json unknown key: images.agent\n"
                 "file: @FILE@\n"
                 "error: cladding.json unknown key: images.proxy\n"
                 "file: @FILE@\n");
}

static void test_images_base_not_string(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f, "{'name': 'demo', 'agent': {}, 'images': {'base': 1}}",
                 "error: cladding.json invalid field 'images.base' (expected "
                 "string)\n"
                 "file: @FILE@\n");
}

/* JSON texts with @IMAGE@ where an image name goes, and the field name
 * that messages use for it. */
static const struct {
  const char *json;
  const char *field;
} image_fields[] = {
    {"{'name': 'demo', 'agent': {'image': '@IMAGE@'}}", "agent.image"},
    {"{'name': 'demo', 'agent': {}, 'nw_sandbox': {'image': '@IMAGE@'}}",
     "nw_sandbox.image"},
    {"{'name': 'demo', 'agent': {}, 'fs_sandbox': {'image': '@IMAGE@'}}",
     "fs_sandbox.image"},
    {"{'name': 'demo', 'agent': {}, 'proxy': {'image': '@IMAGE@'}}",
     "proxy.image"},
    {"{'name': 'demo', 'agent': {}, 'images': {'base': '@IMAGE@'}}",
     "images.base"},
};
#define IMAGE_FIELD_COUNT (sizeof(image_fields) / sizeof(image_fields[0]))

static void test_image_not_reference(void **state)
{
  struct fixture *f = *state;
  /* The values are JSON text, so a backslash sequence such as "\\t" stands
   * for one control character in the loaded string. */
  static const char *const bad[] = {
      "",      "--help", "-q",        "a b",       " a",    "a ",
      "a\\tb", "a\\nb",  "a\\u0001b", "a\\u007fb", "a\\rb", "registry/x -q",
  };

  for (size_t i = 0; i < IMAGE_FIELD_COUNT; i++) {
    cleanup_free char *expected =
        cl_asprintf("error: cladding.json invalid field '%s' (expected an "
                    "image reference)\n"
                    "file: @FILE@\n",
                    image_fields[i].field);

    for (size_t j = 0; j < sizeof(bad) / sizeof(bad[0]); j++) {
      cleanup_free char *json =
          cl_test_replace(image_fields[i].json, "@IMAGE@", bad[j]);

      expect_invalid(f, json, expected);
      cl_error_clear(&f->err);
    }
  }
}

static void test_image_references_accepted(void **state)
{
  struct fixture *f = *state;
  static const char *const good[] = {
      "x",
      "localhost/cladding-agent:latest",
      "docker.io/library/debian:bookworm",
      "registry.example:5000/team/img-1:v1.2-rc",
      "quay.io/x/y@sha256:"
      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
  };

  for (size_t i = 0; i < IMAGE_FIELD_COUNT; i++) {
    for (size_t j = 0; j < sizeof(good) / sizeof(good[0]); j++) {
      cleanup_free char *json =
          cl_test_replace(image_fields[i].json, "@IMAGE@", good[j]);

      expect_success(f, json);
      cl_config_free(&f->config);
    }
  }
}

/* --- order between sections --- */

static void test_components_before_proxy(void **state)
{
  struct fixture *f = *state;

  /* The proxy comes first in the file but is checked after the agent. */
  expect_invalid(f, "{'proxy': 1, 'images': 1, 'name': 'demo'}",
                 "error: cladding.json must include object key: agent\n"
                 "file: @FILE@\n");
}

static void test_proxy_before_images(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f, "{'images': 1, 'proxy': 1, 'name': 'demo', 'agent': {}}",
                 "error: cladding.json field 'proxy' must be an object\n"
                 "file: @FILE@\n");
}

static void test_images_before_mounts(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f, "{'mounts': 1, 'images': 1, 'name': 'demo', 'agent': {}}",
                 "error: cladding.json field 'images' must be an object\n"
                 "file: @FILE@\n");
}

/* --- name pattern --- */

static void test_name_uppercase(void **state)
{
  struct fixture *f = *state;

  expect_failure(f,
                 "{'name': 'Demo', 'agent': {}, 'mounts': [{'mount': '/data',"
                 " 'volume': 'data'}]}",
                 "error: config key 'name' must be lowercase alphanumeric "
                 "([a-z0-9]+)\n"
                 "file: @FILE@\n",
                 "invalid name");
}

static void test_name_checked_after_mounts(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f, "{'name': 'Demo', 'agent': {}, 'mounts': [{'mount': 'x'}]}",
                 "error: cladding.json invalid field 'mounts[0].mount' (mount "
                 "path must be absolute)\n"
                 "file: @FILE@\n");
}

static void test_colon_in_mount_fields(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f,
                 "{'name': 'demo', 'agent': {}, 'mounts': [{'mount': '/a:b'}]}",
                 "error: cladding.json invalid field 'mounts[0].mount' (mount "
                 "path must not contain ':')\n"
                 "file: @FILE@\n");
  expect_invalid(
      f,
      "{'name': 'demo', 'agent': {}, 'mounts': [{'mount': '/a',"
      " 'hostPath': '/srv/x:ro'}]}",
      "error: cladding.json invalid field 'mounts[0].hostPath' (host "
      "path must not contain ':')\n"
      "file: @FILE@\n");
  expect_invalid(
      f,
      "{'name': 'demo', 'agent': {}, 'mounts': [{'mount': '/a',"
      " 'volume': 'v:ro'}]}",
      "error: cladding.json invalid field 'mounts[0].volume' (volume "
      "name must match [a-zA-Z0-9][a-zA-Z0-9_.-]*)\n"
      "file: @FILE@\n");
}

static void test_reserved_mask_path(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f,
                 "{'name': 'demo', 'agent': {}, 'mounts': [{'mount': "
                 "'/home/user/workspace/.cladding/', 'ignore': true}]}",
                 "error: cladding.json invalid field 'mounts[0].mount' "
                 "(/home/user/workspace/.cladding is reserved for the "
                 "built-in mask)\n"
                 "file: @FILE@\n");
}

static void test_name_patterns(void **state)
{
  struct fixture *f = *state;
  static const char *const bad[] = {"", "my-proj", "my_proj", "a b",
                                    "caf\xc3\xa9"};

  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    cleanup_free char *json =
        cl_asprintf("{'name': '%s', 'agent': {}}", bad[i]);

    expect_failure(f, json,
                   "error: config key 'name' must be lowercase alphanumeric "
                   "([a-z0-9]+)\n"
                   "file: @FILE@\n",
                   "invalid name");
    cl_error_clear(&f->err);
  }

  expect_success(f, "{'name': 'proj2024', 'agent': {}}");
  assert_string_equal(f->config.name, "proj2024");
}

/* --- mounts[] --- */

#define CONFIG_HEAD "{'name': 'demo', 'agent': {}, "
#define CONFIG_NW "{'name': 'demo', 'agent': {}, 'nw_sandbox': {}, "

static void test_mounts_not_array(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f, CONFIG_HEAD "'mounts': {'mount': '/data'}}",
                 "error: cladding.json field 'mounts' must be an array\n"
                 "file: @FILE@\n");
}

static void test_mounts_null_not_array(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f, CONFIG_HEAD "'mounts': null}",
                 "error: cladding.json field 'mounts' must be an array\n"
                 "file: @FILE@\n");
}

static void test_mounts_empty_array(void **state)
{
  struct fixture *f = *state;

  expect_success(f, CONFIG_HEAD "'mounts': []}");
  assert_int_equal(f->config.mount_count, 0);
}

static void test_mount_entry_not_object(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f, CONFIG_HEAD "'mounts': [{'mount': '/a'}, '/b']}",
                 "error: cladding.json field 'mounts[1]' must be an object\n"
                 "file: @FILE@\n");
}

static void test_mount_unknown_keys(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f,
                 CONFIG_HEAD "'mounts': [{'mount': '/a'}, {'nwSandboxOnly': "
                             "true, 'mount': '/b', 'sandboxOnly': true,"
                             " 'options': 'z'}]}",
                 "error: cladding.json unknown key: mounts[1].nwSandboxOnly\n"
                 "hint: replace 'nwSandboxOnly' with 'mounts[1].targets': "
                 "[\"nw-sandbox\"]\n"
                 "file: @FILE@\n"
                 "error: cladding.json unknown key: mounts[1].sandboxOnly\n"
                 "hint: replace 'sandboxOnly' with 'mounts[1].targets': "
                 "[\"nw-sandbox\"]\n"
                 "file: @FILE@\n"
                 "error: cladding.json unknown key: mounts[1].options\n"
                 "file: @FILE@\n");
}

static void test_mount_stops_at_first_bad_entry(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f, CONFIG_HEAD "'mounts': [{'mount': 'rel'}, {'x': 1}, 5]}",
                 "error: cladding.json invalid field 'mounts[0].mount' (mount "
                 "path must be absolute)\n"
                 "file: @FILE@\n");
}

static void test_mount_unknown_key_before_mount(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f, CONFIG_HEAD "'mounts': [{'path': '/a'}]}",
                 "error: cladding.json unknown key: mounts[0].path\n"
                 "file: @FILE@\n");
}

static void test_mount_missing(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f, CONFIG_HEAD "'mounts': [{'hostPath': '/srv'}]}",
                 "error: cladding.json invalid field 'mounts[0].mount' "
                 "(expected string)\n"
                 "file: @FILE@\n");
}

static void test_mount_not_string(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f, CONFIG_HEAD "'mounts': [{'mount': ['/a']}]}",
                 "error: cladding.json invalid field 'mounts[0].mount' "
                 "(expected string)\n"
                 "file: @FILE@\n");
}

static void test_mount_relative(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f, CONFIG_HEAD "'mounts': [{'mount': 'data/x'}]}",
                 "error: cladding.json invalid field 'mounts[0].mount' (mount "
                 "path must be absolute)\n"
                 "file: @FILE@\n");
}

static void test_mount_empty_is_relative(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f, CONFIG_HEAD "'mounts': [{'mount': ''}]}",
                 "error: cladding.json invalid field 'mounts[0].mount' (mount "
                 "path must be absolute)\n"
                 "file: @FILE@\n");
}

static void test_mount_dot_components(void **state)
{
  struct fixture *f = *state;
  static const char *const paths[] = {"/a/./b", "/a/..", "/.", "/../etc",
                                      "//x/../y/"};

  for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
    cleanup_free char *json =
        cl_asprintf(CONFIG_HEAD "'mounts': [{'mount': '%s'}]}", paths[i]);

    expect_invalid(f, json,
                   "error: cladding.json invalid field 'mounts[0].mount' "
                   "(mount path must not contain '.' or '..' components)\n"
                   "file: @FILE@\n");
    cl_error_clear(&f->err);
  }
}

static void test_mount_dot_names_accepted(void **state)
{
  struct fixture *f = *state;

  expect_success(f, CONFIG_HEAD "'mounts': [{'mount': '/a/.b/..c/...'}]}");
  assert_string_equal(f->config.mounts[0].mount, "/a/.b/..c/...");
}

static void test_mount_normalised(void **state)
{
  struct fixture *f = *state;

  expect_success(f, CONFIG_HEAD "'mounts': [{'mount': '//data//x/'},"
                                " {'mount': '///'}]}");
  assert_int_equal(f->config.mount_count, 2);
  assert_string_equal(f->config.mounts[0].mount, "/data/x");
  assert_string_equal(f->config.mounts[1].mount, "/");
}

static void test_host_path_not_string(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f, CONFIG_HEAD "'mounts': [{'mount': '/a', 'hostPath': 1}]}",
                 "error: cladding.json invalid field 'mounts[0].hostPath' "
                 "(expected string)\n"
                 "file: @FILE@\n");
}

static void test_host_path_relative_and_absolute(void **state)
{
  struct fixture *f = *state;
  cleanup_free char *relative = NULL;
  cleanup_free char *nested = NULL;

  expect_success(f, CONFIG_HEAD "'mounts': [{'mount': '/a', 'hostPath': "
                                "'../data'}, {'mount': '/b', 'hostPath': "
                                "'/srv//b/'}, {'mount': '/c', 'hostPath': "
                                "'../cache/./x'}]}");
  relative = cl_asprintf("%s/../data", f->project.root);
  nested = cl_asprintf("%s/../cache/./x", f->project.root);
  assert_string_equal(f->config.mounts[0].host_path, relative);
  assert_string_equal(f->config.mounts[1].host_path, "/srv//b/");
  assert_string_equal(f->config.mounts[2].host_path, nested);
  assert_false(f->config.mounts[0].read_only);
  assert_true(f->config.mounts[0].relabel);
  assert_null(f->config.mounts[0].volume);
}

static void test_volume_not_string(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f, CONFIG_HEAD "'mounts': [{'mount': '/a', 'volume': true}]}",
                 "error: cladding.json invalid field 'mounts[0].volume' "
                 "(expected string)\n"
                 "file: @FILE@\n");
}

static void test_host_path_checked_before_volume(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f,
                 CONFIG_HEAD "'mounts': [{'volume': 1, 'hostPath': 2,"
                             " 'mount': '/a'}]}",
                 "error: cladding.json invalid field 'mounts[0].hostPath' "
                 "(expected string)\n"
                 "file: @FILE@\n");
}

static void test_host_path_empty(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f, CONFIG_HEAD "'mounts': [{'mount': '/a', 'hostPath': ''}]}",
                 "error: cladding.json invalid field 'mounts[0].hostPath' "
                 "(host path must not be empty)\n"
                 "file: @FILE@\n");
}

#define INSIDE_ROOT_ERROR                                                      \
  "error: cladding.json invalid field 'mounts[0].hostPath' (host path must "   \
  "not be inside @ROOT@)\n"                                                    \
  "hint: the .cladding directory holds cladding's state and sockets; mount "   \
  "another directory\n"                                                        \
  "file: @FILE@\n"

/* Loads a single hostPath entry with `host_path`, in which @ROOT@ and @PROJ@
 * stand for ROOT and PROJ, and checks that it is rejected as inside ROOT. */
static void expect_inside_root(struct fixture *f, const char *host_path)
{
  cleanup_free char *with_root =
      cl_test_replace(host_path, "@ROOT@", f->project.root);
  cleanup_free char *value =
      cl_test_replace(with_root, "@PROJ@", f->project.proj);
  cleanup_free char *json = cl_asprintf(
      CONFIG_HEAD "'mounts': [{'mount': '/a', 'hostPath': '%s'}]}", value);

  expect_invalid(f, json, INSIDE_ROOT_ERROR);
  cl_error_clear(&f->err);
}

static void test_host_path_inside_root(void **state)
{
  struct fixture *f = *state;
  static const char *const inside[] = {
      ".",
      "./",
      "./x",
      "runtime",
      "runtime/sockets/proxy/nw-sandbox",
      "runtime/../runtime/sockets",
      "missing/../../.cladding",
      "../.cladding",
      "../.cladding/runtime",
      "..//./.cladding/",
      "@ROOT@",
      "@ROOT@/",
      "@ROOT@/runtime/sockets",
      "@ROOT@/missing/x/y",
      "@PROJ@/../proj/.cladding/runtime",
      "/../..@ROOT@/config",
  };

  for (size_t i = 0; i < sizeof(inside) / sizeof(inside[0]); i++)
    expect_inside_root(f, inside[i]);
}

static void test_host_path_outside_root_accepted(void **state)
{
  struct fixture *f = *state;
  cleanup_free char *sibling = cl_asprintf("%s2/x", f->project.root);
  cleanup_free char *json = cl_asprintf(
      CONFIG_HEAD "'mounts': ["
                  "{'mount': '/a', 'hostPath': '../data'},"
                  " {'mount': '/b', 'hostPath': '/srv/data'},"
                  " {'mount': '/c', 'hostPath': '..'},"
                  " {'mount': '/d', 'hostPath': '../.cladding2'},"
                  " {'mount': '/e', 'hostPath': '../.cladding-old/runtime'},"
                  " {'mount': '/f', 'hostPath': '%s'},"
                  " {'mount': '/g', 'hostPath': 'runtime/../../data'}]}",
      sibling);
  cleanup_free char *data = cl_asprintf("%s/../data", f->project.root);

  /* Names that merely start with ROOT's spelling are outside it. */
  expect_success(f, json);
  assert_int_equal(f->config.mount_count, 7);
  assert_string_equal(f->config.mounts[0].host_path, data);
  assert_string_equal(f->config.mounts[1].host_path, "/srv/data");
  assert_string_equal(f->config.mounts[5].host_path, sibling);
}

static void make_symlink(const char *target, const char *dir, const char *name)
{
  cleanup_free char *path = cl_path_join(dir, name);

  if (symlink(target, path) < 0)
    fail_msg("symlink %s -> %s: %s", path, target, strerror(errno));
}

static void test_host_path_symlink_into_root(void **state)
{
  struct fixture *f = *state;
  cleanup_free char *runtime = cl_path_join(f->project.root, "runtime");

  cl_test_mkdir(f->project.root, "runtime/sockets/agent/inject");
  make_symlink(runtime, f->project.proj, "abs-link");
  make_symlink(".cladding", f->project.proj, "rel-link");
  cl_test_mkdir(f->project.proj, "sub");
  make_symlink("../.cladding/runtime/sockets", f->project.proj, "sub/sockets");
  make_symlink(".cladding/runtime/sockets/agent/inject", f->project.proj,
               "deep");

  expect_inside_root(f, "../abs-link");
  expect_inside_root(f, "../abs-link/sockets");
  expect_inside_root(f, "../rel-link");
  expect_inside_root(f, "../rel-link/missing/x");
  expect_inside_root(f, "../sub/sockets");
  expect_inside_root(f, "@PROJ@/rel-link");
  /* Lexically "../deep/.." is PROJ, but the kernel follows the link first
   * and arrives at ROOT/runtime/sockets/agent. */
  expect_inside_root(f, "../deep/..");
}

static void test_host_path_root_through_symlink(void **state)
{
  struct fixture *f = *state;
  struct cl_test_project alias = {0};
  cleanup_free char *json = NULL;
  cleanup_free char *expected = NULL;
  cleanup_free char *want = NULL;

  /* ROOT spelled through TMP/alias, a link to PROJ, and a hostPath that
   * names the same directory through its real path. */
  make_symlink("proj", f->project.tmp, "alias");
  alias.root = cl_asprintf("%s/alias/.cladding", f->project.tmp);
  alias.config_path = cl_path_join(alias.root, "cladding.json");
  json = cl_asprintf(CONFIG_HEAD "'mounts': [{'mount': '/a', 'hostPath': "
                                 "'%s/runtime'}]}",
                     f->project.root);
  expected = cl_test_replace(INSIDE_ROOT_ERROR, "@FILE@", alias.config_path);
  want = cl_test_replace(expected, "@ROOT@", alias.root);

  assert_int_equal(
      cl_test_load_config(&alias, json, &f->config, &f->err, &f->capture), -1);
  assert_string_equal(f->capture.err, want);
  assert_string_equal(f->err.message, "invalid cladding.json");
  free(alias.root);
  free(alias.config_path);
}

static void test_host_path_symlink_outside_root_accepted(void **state)
{
  struct fixture *f = *state;

  cl_test_mkdir(f->project.proj, "data");
  make_symlink("data", f->project.proj, "data-link");
  make_symlink("/srv", f->project.proj, "srv-link");

  expect_success(f,
                 CONFIG_HEAD "'mounts': ["
                             "{'mount': '/a', 'hostPath': '../data-link'},"
                             " {'mount': '/b', 'hostPath': '../srv-link'}]}");
  assert_int_equal(f->config.mount_count, 2);
}

static void test_volume_name_invalid(void **state)
{
  struct fixture *f = *state;
  static const char *const bad[] = {
      "", "-v", "_v", ".v", "..", "v/x", "v x", "v:ro", "v,ro", "v\\u00e9",
  };

  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    cleanup_free char *json = cl_asprintf(
        CONFIG_HEAD "'mounts': [{'mount': '/a', 'volume': '%s'}]}", bad[i]);

    expect_invalid(f, json,
                   "error: cladding.json invalid field 'mounts[0].volume' "
                   "(volume name must match [a-zA-Z0-9][a-zA-Z0-9_.-]*)\n"
                   "file: @FILE@\n");
    cl_error_clear(&f->err);
  }
}

static void test_volume_names_accepted(void **state)
{
  struct fixture *f = *state;

  expect_success(f, CONFIG_HEAD "'mounts': ["
                                "{'mount': '/a', 'volume': 'v'},"
                                " {'mount': '/b', 'volume': '0'},"
                                " {'mount': '/c', 'volume': 'Cache_1.x-y'},"
                                " {'mount': '/d', 'volume': 'a-'}]}");
  assert_int_equal(f->config.mount_count, 4);
  assert_string_equal(f->config.mounts[2].volume, "Cache_1.x-y");
}

static void test_targets_not_array(void **state)
{
  struct fixture *f = *state;
  static const char *const values[] = {"'agent'", "[]", "['agent', 1]", "null",
                                       "{}"};

  for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
    cleanup_free char *json = cl_asprintf(
        CONFIG_HEAD "'mounts': [{'mount': '/a', 'targets': %s}]}", values[i]);

    expect_invalid(f, json,
                   "error: cladding.json invalid field 'mounts[0].targets' "
                   "(expected non-empty array of strings)\n"
                   "file: @FILE@\n");
    cl_error_clear(&f->err);
  }
}

static void test_targets_unknown(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f,
                 CONFIG_HEAD "'mounts': [{'mount': '/a', 'targets': "
                             "['agent', 'proxy', 'sandbox']}]}",
                 "error: cladding.json invalid field 'mounts[0].targets' "
                 "(unknown target 'proxy')\n"
                 "hint: valid targets are agent, nw-sandbox, and fs-sandbox\n"
                 "file: @FILE@\n");
}

static void test_targets_nw_disabled(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f,
                 CONFIG_HEAD "'mounts': [{'mount': '/a', 'targets': "
                             "['nw-sandbox']}]}",
                 "error: cladding.json invalid field 'mounts[0].targets' "
                 "(target 'nw-sandbox' is disabled)\n"
                 "hint: enable 'nw_sandbox' in cladding.json or remove this "
                 "target\n"
                 "file: @FILE@\n");
}

static void test_targets_fs_disabled(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f,
                 "{'name': 'demo', 'agent': {}, 'fs_sandbox': {'enabled': "
                 "false}, 'mounts': [{'mount': '/a', 'targets': ['agent', "
                 "'fs-sandbox']}]}",
                 "error: cladding.json invalid field 'mounts[0].targets' "
                 "(target 'fs-sandbox' is disabled)\n"
                 "hint: enable 'fs_sandbox' in cladding.json or remove this "
                 "target\n"
                 "file: @FILE@\n");
}

static void test_targets_first_bad_name_reported(void **state)
{
  struct fixture *f = *state;

  /* The disabled target comes before the unknown one in the array. */
  expect_invalid(f,
                 CONFIG_HEAD "'mounts': [{'mount': '/a', 'targets': "
                             "['fs-sandbox', 'bogus']}]}",
                 "error: cladding.json invalid field 'mounts[0].targets' "
                 "(target 'fs-sandbox' is disabled)\n"
                 "hint: enable 'fs_sandbox' in cladding.json or remove this "
                 "target\n"
                 "file: @FILE@\n");
}

static void test_targets_explicit(void **state)
{
  struct fixture *f = *state;

  expect_success(f, "{'name': 'demo', 'agent': {}, 'nw_sandbox': {},"
                    " 'fs_sandbox': {}, 'mounts': ["
                    "{'mount': '/a', 'targets': ['fs-sandbox']},"
                    " {'mount': '/b', 'targets': ['nw-sandbox', 'agent',"
                    " 'nw-sandbox']},"
                    " {'mount': '/c', 'targets': ['agent', 'agent']}]}");
  assert_int_equal(f->config.mounts[0].targets, CL_TARGET_FS_SANDBOX);
  assert_int_equal(f->config.mounts[1].targets,
                   CL_TARGET_AGENT | CL_TARGET_NW_SANDBOX);
  assert_int_equal(f->config.mounts[2].targets, CL_TARGET_AGENT);
}

static void test_default_targets_nw_enabled(void **state)
{
  struct fixture *f = *state;

  expect_success(f, CONFIG_NW "'fs_sandbox': {}, 'mounts': [{'mount': '/a'}]}");
  assert_int_equal(f->config.mounts[0].targets,
                   CL_TARGET_AGENT | CL_TARGET_NW_SANDBOX);
}

static void test_default_targets_nw_absent(void **state)
{
  struct fixture *f = *state;

  expect_success(f, CONFIG_HEAD "'mounts': [{'mount': '/a'}]}");
  assert_int_equal(f->config.mounts[0].targets, CL_TARGET_AGENT);
}

static void test_default_targets_nw_disabled(void **state)
{
  struct fixture *f = *state;

  expect_success(f, "{'name': 'demo', 'agent': {}, 'nw_sandbox': {'enabled':"
                    " false}, 'mounts': [{'mount': '/a'}]}");
  assert_int_equal(f->config.mounts[0].targets, CL_TARGET_AGENT);
}

static void test_duplicate_same_target(void **state)
{
  struct fixture *f = *state;

  expect_failure(f,
                 CONFIG_HEAD "'mounts': [{'mount': '/data', 'volume': 'a'},"
                             " {'mount': '/data', 'hostPath': '/srv'}]}",
                 "error: cladding.json duplicate mount path '/data' for "
                 "target 'agent'\n"
                 "file: @FILE@\n",
                 "duplicate mount path");
}

static void test_duplicate_after_normalisation(void **state)
{
  struct fixture *f = *state;

  expect_failure(f,
                 CONFIG_NW "'mounts': [{'mount': '/home/user/workspace'},"
                           " {'mount': '/home/user/workspace/'}]}",
                 "error: cladding.json duplicate mount path "
                 "'/home/user/workspace' for target 'agent'\n"
                 "file: @FILE@\n",
                 "duplicate mount path");
}

static void test_duplicate_names_shared_target(void **state)
{
  struct fixture *f = *state;

  expect_failure(f,
                 CONFIG_NW "'mounts': [{'mount': '/d', 'targets': "
                           "['nw-sandbox']}, {'mount': '//d'}]}",
                 "error: cladding.json duplicate mount path '/d' for target "
                 "'nw-sandbox'\n"
                 "file: @FILE@\n",
                 "duplicate mount path");
}

static void test_duplicate_includes_ignore(void **state)
{
  struct fixture *f = *state;

  expect_failure(f,
                 CONFIG_HEAD "'mounts': [{'mount': '/opt/config', 'ignore': "
                             "true}, {'mount': '/opt/config', 'hostPath': "
                             "'/etc'}]}",
                 "error: cladding.json duplicate mount path '/opt/config' for "
                 "target 'agent'\n"
                 "file: @FILE@\n",
                 "duplicate mount path");
}

static void test_duplicate_before_other_checks(void **state)
{
  struct fixture *f = *state;

  /* Duplicates are checked before hostPath/volume and readOnly. */
  expect_failure(f,
                 CONFIG_HEAD "'mounts': [{'mount': '/d'}, {'mount': '/d',"
                             " 'hostPath': '/x', 'volume': 'v', 'readOnly': "
                             "1}]}",
                 "error: cladding.json duplicate mount path '/d' for target "
                 "'agent'\n"
                 "file: @FILE@\n",
                 "duplicate mount path");
}

static void test_same_path_other_target(void **state)
{
  struct fixture *f = *state;

  expect_success(f, CONFIG_NW "'fs_sandbox': {}, 'mounts': ["
                              "{'mount': '/d', 'targets': ['agent']},"
                              " {'mount': '/d', 'targets': ['nw-sandbox']},"
                              " {'mount': '/d/', 'targets': ['fs-sandbox']}]}");
  assert_int_equal(f->config.mount_count, 3);
}

static void test_host_path_and_volume(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f,
                 CONFIG_HEAD "'mounts': [{'mount': '/a', 'hostPath': '/x',"
                             " 'volume': 'v', 'readOnly': 'no'}]}",
                 "error: cladding.json invalid field 'mounts[0].volume' "
                 "(hostPath and volume are mutually exclusive)\n"
                 "file: @FILE@\n");
}

static void test_read_only_not_boolean(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f,
                 CONFIG_HEAD "'mounts': [{'mount': '/a', 'hostPath': '/x',"
                             " 'readOnly': 'true', 'ignore': 1}]}",
                 "error: cladding.json invalid field 'mounts[0].readOnly' "
                 "(expected boolean)\n"
                 "file: @FILE@\n");
}

static void test_ignore_not_boolean(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f, CONFIG_HEAD "'mounts': [{'mount': '/a', 'ignore': null}]}",
                 "error: cladding.json invalid field 'mounts[0].ignore' "
                 "(expected boolean)\n"
                 "file: @FILE@\n");
}

static void test_relabel_not_boolean(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f,
                 CONFIG_HEAD "'mounts': [{'mount': '/a', 'hostPath': '/x',"
                             " 'relabel': 'no'}]}",
                 "error: cladding.json invalid field 'mounts[0].relabel' "
                 "(expected boolean)\n"
                 "file: @FILE@\n");
}

static void test_relabel_false(void **state)
{
  struct fixture *f = *state;

  expect_success(f, CONFIG_HEAD "'mounts': [{'mount': '/a', 'hostPath': '/x',"
                                " 'relabel': false, 'readOnly': true}]}");
  assert_false(f->config.mounts[0].relabel);
  assert_true(f->config.mounts[0].read_only);
}

static void test_volume_read_only_true(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f,
                 CONFIG_HEAD "'mounts': [{'mount': '/a', 'volume': 'v',"
                             " 'readOnly': true}]}",
                 "error: cladding.json invalid field 'mounts[0].readOnly' "
                 "(readOnly not supported for volume mounts)\n"
                 "file: @FILE@\n");
}

static void test_volume_read_only_false(void **state)
{
  struct fixture *f = *state;

  expect_success(f, CONFIG_HEAD "'mounts': [{'mount': '/a', 'volume': "
                                "'cache', 'readOnly': false}]}");
  assert_string_equal(f->config.mounts[0].volume, "cache");
  assert_null(f->config.mounts[0].host_path);
  assert_false(f->config.mounts[0].read_only);
}

static void test_ignore_with_host_path(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f,
                 CONFIG_HEAD "'mounts': [{'mount': '/a', 'hostPath': '/x',"
                             " 'ignore': true}]}",
                 "error: cladding.json invalid field 'mounts[0].ignore' "
                 "(ignore cannot be combined with hostPath or volume)\n"
                 "file: @FILE@\n");
}

static void test_ignore_with_volume(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f,
                 CONFIG_HEAD "'mounts': [{'mount': '/a', 'volume': 'v',"
                             " 'ignore': true}]}",
                 "error: cladding.json invalid field 'mounts[0].ignore' "
                 "(ignore cannot be combined with hostPath or volume)\n"
                 "file: @FILE@\n");
}

static void test_ignore_with_read_only(void **state)
{
  struct fixture *f = *state;

  expect_invalid(f,
                 CONFIG_HEAD "'mounts': [{'mount': '/a', 'ignore': true,"
                             " 'readOnly': false}]}",
                 "error: cladding.json invalid field 'mounts[0].ignore' "
                 "(ignore cannot be combined with readOnly)\n"
                 "file: @FILE@\n");
}

static void test_ignore_false_with_sources(void **state)
{
  struct fixture *f = *state;

  expect_success(f, CONFIG_HEAD "'mounts': [{'mount': '/a', 'hostPath': '/x',"
                                " 'ignore': false, 'readOnly': true}]}");
  assert_false(f->config.mounts[0].ignore);
  assert_true(f->config.mounts[0].read_only);
}

static void test_ignore_entry(void **state)
{
  struct fixture *f = *state;

  expect_success(f, CONFIG_HEAD "'mounts': [{'mount': '/home/user/workspace',"
                                " 'ignore': true}]}");
  assert_true(f->config.mounts[0].ignore);
  assert_null(f->config.mounts[0].host_path);
  assert_null(f->config.mounts[0].volume);
}

static void test_mask_forced_read_only(void **state)
{
  struct fixture *f = *state;

  expect_success(f, CONFIG_HEAD "'mounts': [{'mount': '/secret'},"
                                " {'mount': '/other', 'readOnly': false}]}");
  assert_true(f->config.mounts[0].read_only);
  assert_true(f->config.mounts[1].read_only);
  assert_false(f->config.mounts[0].ignore);
}

/* --- hostname and address grammar --- */

static void test_is_hostname(void **state)
{
  static const char *const good[] = {
      "a",
      "example.com",
      "host.containers.internal",
      "db_1.example",
      "x-y.z",
      "1a.example",
      "example.c0m",
      "xn--bcher-kva.example",
      "A.EXAMPLE",
  };
  static const char *const bad[] = {
      "",         ".example.com", "example.com.",
      "a..b",     "-a.example",   "a-.example",
      "a b",      "a/b",          "caf\xc3\xa9.example",
      "10.0.0.1", "host.123",     "a:80",
  };
  char long_label[65];
  char long_name[256];

  (void)state;
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    if (!cl_is_hostname(good[i]))
      fail_msg("expected hostname: '%s'", good[i]);
  }
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    if (cl_is_hostname(bad[i]))
      fail_msg("expected no hostname: '%s'", bad[i]);
  }

  memset(long_label, 'a', 64);
  long_label[64] = '\0';
  assert_false(cl_is_hostname(long_label));
  long_label[63] = '\0';
  assert_true(cl_is_hostname(long_label));

  /* Four labels of 63 plus 3 dots make 255 characters, over the maximum
   * of 253. */
  for (size_t i = 0; i < 255; i++)
    long_name[i] = i % 64 == 63 ? '.' : 'a';
  long_name[255] = '\0';
  assert_false(cl_is_hostname(long_name));
  long_name[253] = '\0';
  assert_true(cl_is_hostname(long_name));
}

static void test_is_ipv4(void **state)
{
  static const char *const good[] = {"0.0.0.0", "10.88.0.5", "255.255.255.255",
                                     "192.168.1.20"};
  static const char *const bad[] = {
      "",         "1.2.3",    "1.2.3.4.5",  "256.1.1.1", "1.2.3.04",
      "01.2.3.4", "1..2.3",   "1.2.3.4 ",   " 1.2.3.4",  "a.b.c.d",
      "::1",      "1.2.3.-4", "1.2.3.1000", "1.2.3.",
  };

  (void)state;
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    if (!cl_is_ipv4(good[i]))
      fail_msg("expected IPv4: '%s'", good[i]);
  }
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    if (cl_is_ipv4(bad[i]))
      fail_msg("expected no IPv4: '%s'", bad[i]);
  }
}

#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
  const struct CMUnitTest tests[] = {
      TEST(test_missing_file),
      TEST(test_read_failure),
      TEST(test_syntax_truncated),
      TEST(test_syntax_truncated_mid_line),
      TEST(test_syntax_missing_comma),
      TEST(test_syntax_bad_literal),
      TEST(test_syntax_column_counts_characters),
      TEST(test_syntax_empty_file),
      TEST(test_syntax_trailing_text),
      TEST(test_top_level_not_object),
      TEST(test_unknown_keys_in_file_order),
      TEST(test_unknown_key_before_name_check),
      TEST(test_name_missing),
      TEST(test_name_not_string),
      TEST(test_use_runsc_default),
      TEST(test_use_runsc_true),
      TEST(test_use_runsc_false),
      TEST(test_use_runsc_string_rejected),
      TEST(test_use_runsc_null_rejected),
      TEST(test_minimal_config_defaults),
      TEST(test_init_default_file),
      TEST(test_custom_images),
      TEST(test_sandbox_empty_object_enabled),
      TEST(test_sandbox_disabled),
      TEST(test_agent_missing),
      TEST(test_component_not_object),
      TEST(test_nw_sandbox_null_not_object),
      TEST(test_fs_sandbox_not_object),
      TEST(test_component_unknown_keys),
      TEST(test_sandbox_unknown_key),
      TEST(test_component_image_not_string),
      TEST(test_agent_image_not_string),
      TEST(test_agent_enabled_true_rejected),
      TEST(test_agent_enabled_false_rejected),
      TEST(test_sandbox_enabled_string_rejected),
      TEST(test_fs_enabled_null_rejected),
      TEST(test_proxy_valid),
      TEST(test_proxy_empty_object),
      TEST(test_proxy_not_object),
      TEST(test_proxy_null_not_object),
      TEST(test_proxy_unknown_keys),
      TEST(test_proxy_image_not_string),
      TEST(test_proxy_hosts_not_object),
      TEST(test_proxy_hosts_bad_value),
      TEST(test_proxy_hosts_all_bad_reported),
      TEST(test_proxy_hosts_loopback),
      TEST(test_proxy_hosts_loopback_with_bad_key),
      TEST(test_proxy_hosts_near_loopback_accepted),
      TEST(test_images_base),
      TEST(test_images_empty_object),
      TEST(test_images_not_object),
      TEST(test_images_unknown_keys),
      TEST(test_images_base_not_string),
      TEST(test_image_not_reference),
      TEST(test_image_references_accepted),
      TEST(test_components_before_proxy),
      TEST(test_proxy_before_images),
      TEST(test_images_before_mounts),
      TEST(test_name_uppercase),
      TEST(test_name_checked_after_mounts),
      TEST(test_name_patterns),
      TEST(test_colon_in_mount_fields),
      TEST(test_reserved_mask_path),
      TEST(test_mounts_not_array),
      TEST(test_mounts_null_not_array),
      TEST(test_mounts_empty_array),
      TEST(test_mount_entry_not_object),
      TEST(test_mount_unknown_keys),
      TEST(test_mount_stops_at_first_bad_entry),
      TEST(test_mount_unknown_key_before_mount),
      TEST(test_mount_missing),
      TEST(test_mount_not_string),
      TEST(test_mount_relative),
      TEST(test_mount_empty_is_relative),
      TEST(test_mount_dot_components),
      TEST(test_mount_dot_names_accepted),
      TEST(test_mount_normalised),
      TEST(test_host_path_not_string),
      TEST(test_host_path_relative_and_absolute),
      TEST(test_volume_not_string),
      TEST(test_host_path_checked_before_volume),
      TEST(test_host_path_empty),
      TEST(test_host_path_inside_root),
      TEST(test_host_path_outside_root_accepted),
      TEST(test_host_path_symlink_into_root),
      TEST(test_host_path_root_through_symlink),
      TEST(test_host_path_symlink_outside_root_accepted),
      TEST(test_volume_name_invalid),
      TEST(test_volume_names_accepted),
      TEST(test_targets_not_array),
      TEST(test_targets_unknown),
      TEST(test_targets_nw_disabled),
      TEST(test_targets_fs_disabled),
      TEST(test_targets_first_bad_name_reported),
      TEST(test_targets_explicit),
      TEST(test_default_targets_nw_enabled),
      TEST(test_default_targets_nw_absent),
      TEST(test_default_targets_nw_disabled),
      TEST(test_duplicate_same_target),
      TEST(test_duplicate_after_normalisation),
      TEST(test_duplicate_names_shared_target),
      TEST(test_duplicate_includes_ignore),
      TEST(test_duplicate_before_other_checks),
      TEST(test_same_path_other_target),
      TEST(test_host_path_and_volume),
      TEST(test_read_only_not_boolean),
      TEST(test_ignore_not_boolean),
      TEST(test_relabel_not_boolean),
      TEST(test_relabel_false),
      TEST(test_volume_read_only_true),
      TEST(test_volume_read_only_false),
      TEST(test_ignore_with_host_path),
      TEST(test_ignore_with_volume),
      TEST(test_ignore_with_read_only),
      TEST(test_ignore_false_with_sources),
      TEST(test_ignore_entry),
      TEST(test_mask_forced_read_only),
      cmocka_unit_test(test_is_hostname),
      cmocka_unit_test(test_is_ipv4),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
