/* Unit tests of the argument grammar, socket paths and podman argv of
 * expose and inject (plugins/expose/forward_args.c). */
#include "config-host.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "forward_args.h"

static void ports_valid(void **state)
{
  assert_int_equal(forward_parse_port("1"), 1);
  assert_int_equal(forward_parse_port("3000"), 3000);
  assert_int_equal(forward_parse_port("65535"), 65535);
  assert_int_equal(forward_parse_port("08080"), 8080);
}

static void ports_invalid(void **state)
{
  static const char *const bad[] = {
      "",    "0",  "65536", "99999", "123456", "-1",   "+80",   " 80",
      "80 ", "8o", "list",  "stop",  "1e3",    "0x50", "00000",
  };

  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    if (forward_parse_port(bad[i]) != -1)
      fail_msg("port '%s' was accepted", bad[i]);
  }
}

static void bind_addresses(void **state)
{
  assert_true(forward_valid_bind("127.0.0.1"));
  assert_true(forward_valid_bind("0.0.0.0"));
  assert_true(forward_valid_bind("::1"));
  assert_true(forward_valid_bind("::"));
  assert_true(forward_valid_bind("fe80::1"));
  assert_false(forward_valid_bind("localhost"));
  assert_false(forward_valid_bind("[::1]"));
  assert_false(forward_valid_bind(""));
  assert_false(forward_valid_bind("127.0.0.1:80"));
  assert_false(forward_valid_bind("256.0.0.1"));
}

/* Parses `raw` and checks host and port. */
static void check_endpoint(const char *raw, const char *host, int port)
{
  struct forward_endpoint endpoint;
  char reason[256];

  if (forward_parse_endpoint(raw, &endpoint, reason, sizeof(reason)) != 0)
    fail_msg("endpoint '%s' was rejected: %s", raw, reason);
  assert_string_equal(endpoint.host, host);
  assert_int_equal(endpoint.port, port);
}

/* Checks that `raw` is rejected with `expected` as the reason. */
static void check_rejected(const char *raw, const char *expected)
{
  struct forward_endpoint endpoint;
  char reason[512];

  if (forward_parse_endpoint(raw, &endpoint, reason, sizeof(reason)) == 0)
    fail_msg("endpoint '%s' was accepted", raw);
  assert_string_equal(reason, expected);
}

static void endpoint_bare_port(void **state)
{
  check_endpoint("5432", "127.0.0.1", 5432);
  check_endpoint("1", "127.0.0.1", 1);
}

static void endpoint_host_port(void **state)
{
  check_endpoint("db.internal:5432", "db.internal", 5432);
  check_endpoint("host_name-1.example:80", "host_name-1.example", 80);
  check_endpoint("1.2.3.4:22", "1.2.3.4", 22);
  check_endpoint("localhost:65535", "localhost", 65535);
}

static void endpoint_empty(void **state)
{
  check_rejected("", "inject host endpoint cannot be empty");
}

static void endpoint_malformed(void **state)
{
  static const char *const bad[] = {
      "db.internal:5432:1",
      "db,internal:5432",
      "db internal:5432",
      ":5432",
      "[::1]:5432",
      "db.internal:0",
      "db.internal:65536",
      "db.internal:",
      "list",
      "stop",
      " 5432",
      "5432\t",
      "a:1:2",
      "db/internal:80",
      "db@internal:80",
  };

  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    char expected[128];

    snprintf(expected, sizeof(expected), "invalid inject host endpoint '%s'",
             bad[i]);
    check_rejected(bad[i], expected);
  }
}

static void endpoint_host_too_long(void **state)
{
  char raw[400], expected[450];

  memset(raw, 'a', 300);
  strcpy(raw + 300, ":80");
  snprintf(expected, sizeof(expected), "invalid inject host endpoint '%s'",
           raw);
  check_rejected(raw, expected);
}

/* Checks a NULL-terminated argv against the expected words. */
static void check_argv(const char *const *argv, const char *const *expected)
{
  size_t i;

  for (i = 0; expected[i] != NULL; i++) {
    assert_non_null(argv[i]);
    assert_string_equal(argv[i], expected[i]);
  }
  assert_null(argv[i]);
}

static void expose_plan_paths(void **state)
{
  struct forward_plan plan;
  const char *const agent[] = {
      "podman",
      "exec",
      "demo-agent-instance",
      "/opt/tools/bin/cladding-bridge",
      "--pidfile",
      "/run/cladding/agent/expose/3000/bridge.pid",
      "--unix-to-tcp",
      "/run/cladding/agent/expose/3000/agent.sock=localhost:3000",
      NULL,
  };
  const char *const stop[] = {
      "podman",
      "exec",
      "demo-agent-instance",
      "/opt/tools/bin/cladding-bridge",
      "--signal",
      "TERM",
      "--pidfile",
      "/run/cladding/agent/expose/3000/bridge.pid",
      NULL,
  };

  forward_plan_init(&plan, FORWARD_EXPOSE, "/home/u/proj/.cladding",
                    "demo-agent-instance", 3000);
  assert_string_equal(
      plan.dir, "/home/u/proj/.cladding/runtime/sockets/agent/expose/3000");
  assert_string_equal(plan.agent_dir, "/run/cladding/agent/expose/3000");
  assert_string_equal(plan.socket_name, "agent.sock");
  assert_string_equal(plan.pid_name, "bridge.pid");
  check_argv(plan.agent_argv, agent);
  check_argv(plan.stop_argv, stop);
  forward_plan_free(&plan);
}

static void inject_plan_paths(void **state)
{
  struct forward_plan plan;
  const char *const agent[] = {
      "podman",
      "exec",
      "demo-agent-instance",
      "/opt/tools/bin/cladding-bridge",
      "--pidfile",
      "/run/cladding/agent/inject/15432/bridge.pid",
      "--tcp-to-unix",
      "127.0.0.1:15432=/run/cladding/agent/inject/15432/host.sock",
      NULL,
  };
  const char *const stop[] = {
      "podman",
      "exec",
      "demo-agent-instance",
      "/opt/tools/bin/cladding-bridge",
      "--signal",
      "TERM",
      "--pidfile",
      "/run/cladding/agent/inject/15432/bridge.pid",
      NULL,
  };

  forward_plan_init(&plan, FORWARD_INJECT, "/p q/it's/.cladding",
                    "demo-agent-instance", 15432);
  assert_string_equal(plan.dir,
                      "/p q/it's/.cladding/runtime/sockets/agent/inject/15432");
  assert_string_equal(plan.agent_dir, "/run/cladding/agent/inject/15432");
  assert_string_equal(plan.socket_name, "host.sock");
  check_argv(plan.agent_argv, agent);
  check_argv(plan.stop_argv, stop);
  forward_plan_free(&plan);
}

static void printed_lines(void **state)
{
  struct forward_endpoint endpoint = {.host = "db.internal", .port = 5432};
  char *line;

  line = forward_expose_line("127.0.0.1", 3000, "demo-agent-instance", 3000);
  assert_string_equal(line, "expose: 127.0.0.1:3000 -> demo-agent-instance "
                            "127.0.0.1:3000 (Ctrl-C to stop)");
  free(line);
  line = forward_expose_line("::1", 8080, "demo-agent-instance", 3000);
  assert_string_equal(line, "expose: [::1]:8080 -> demo-agent-instance "
                            "127.0.0.1:3000 (Ctrl-C to stop)");
  free(line);
  line = forward_inject_line("demo-agent-instance", 15432, &endpoint);
  assert_string_equal(line, "inject: demo-agent-instance 127.0.0.1:15432 -> "
                            "db.internal:5432 (Ctrl-C to stop)");
  free(line);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(ports_valid),
      cmocka_unit_test(ports_invalid),
      cmocka_unit_test(bind_addresses),
      cmocka_unit_test(endpoint_bare_port),
      cmocka_unit_test(endpoint_host_port),
      cmocka_unit_test(endpoint_empty),
      cmocka_unit_test(endpoint_malformed),
      cmocka_unit_test(endpoint_host_too_long),
      cmocka_unit_test(expose_plan_paths),
      cmocka_unit_test(inject_plan_paths),
      cmocka_unit_test(printed_lines),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
