/* Unit tests of mcp-run's configuration checks, hashing, UTF-8 handling
 * and policy loading, run on the library the program links. */
#include "config-host.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "cwd.h"
#include "exe.h"
#include "policy.h"
#include "proc.h"
#include "util.h"

/* Configuration. */

/* Checks a failed call; the macro evaluates the call before reading the
 * error it set. */
#define expect_error(call, error, expected)                                    \
  do {                                                                         \
    int rc_ = (call);                                                          \
    assert_int_equal(rc_, -1);                                                 \
    assert_non_null(error);                                                    \
    assert_string_equal(error, expected);                                      \
    free(error);                                                               \
    error = NULL;                                                              \
  } while (0)

static void config_default_cwd_relative(void **state)
{
  char *error = NULL;

  expect_error(config_check_default_cwd(".", &error), error,
               "default cwd must be absolute: .");
  assert_int_equal(config_check_default_cwd("/srv", &error), 0);
}

static void config_bind_uds_checks(void **state)
{
  char *error = NULL;

  expect_error(config_check_bind_uds("run.sock", &error), error,
               "MCP_BIND_UDS must be an absolute path: 'run.sock'");
  expect_error(config_check_bind_uds("/nonexistent-dir/run.sock", &error),
               error,
               "MCP_BIND_UDS parent directory does not exist: "
               "'/nonexistent-dir/run.sock'");
  assert_int_equal(config_check_bind_uds("/tmp/run.sock", &error), 0);
  assert_int_equal(config_check_bind_uds("/run.sock", &error), 0);
}

static void config_bind_addr_forms(void **state)
{
  static const char *const good[] = {"127.0.0.1:8000", "[::1]:8000",
                                     "localhost:8000", "0.0.0.0:0",
                                     "127.0.0.1:65535"};
  static const char *const bad[] = {
      "example.com:80", "localhost",      "127.0.0.1",      "127.0.0.1:65536",
      "::1:80",         "[::1]",          "127.0.0.1:-1",   "127.0.0.1:+80",
      "01.2.3.4:80",    "LOCALHOST:8000", "127.0.0.1:8000x"};
  struct sockaddr_storage addr;
  char *error = NULL;
  size_t i;

  for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
    assert_int_equal(config_parse_bind_addr(good[i], &addr, &error), 0);
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    char *expected = mr_asprintf(
        "invalid MCP_BIND_ADDR '%s': invalid socket address syntax", bad[i]);

    expect_error(config_parse_bind_addr(bad[i], &addr, &error), error,
                 expected);
    free(expected);
  }

  assert_int_equal(config_parse_bind_addr("localhost:9", &addr, &error), 0);
  assert_int_equal(addr.ss_family, AF_INET);
  assert_int_equal(((struct sockaddr_in *)&addr)->sin_addr.s_addr,
                   htonl(INADDR_LOOPBACK));
}

static void config_max_concurrent(void **state)
{
  static const char *const bad[] = {
      "0", "-1", "abc", "", "1.5", "+3", "99999999999999999999"};
  unsigned value = 0;
  char *error = NULL;
  size_t i;

  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    char *expected = mr_asprintf(
        "invalid MCP_MAX_CONCURRENT '%s': expected a positive integer", bad[i]);

    expect_error(config_parse_max_concurrent(bad[i], &value, &error), error,
                 expected);
    free(expected);
  }
  assert_int_equal(config_parse_max_concurrent("8", &value, &error), 0);
  assert_int_equal(value, 8);
}

static void env_values_trimmed(void **state)
{
  char *value;

  setenv("MCP_UNIT_TRIM", " \t\r\n\v\f value \f\v\n\r\t ", 1);
  value = mr_getenv_trimmed("MCP_UNIT_TRIM");
  assert_string_equal(value, "value");
  free(value);
  setenv("MCP_UNIT_TRIM", "  \t ", 1);
  assert_null(mr_getenv_trimmed("MCP_UNIT_TRIM"));
  unsetenv("MCP_UNIT_TRIM");
  assert_null(mr_getenv_trimmed("MCP_UNIT_TRIM"));
}

/* Hashing and encoding. */

static void sha256_of_abc(void **state)
{
  char hex[65];

  mr_sha256_hex("abc", 3, hex);
  assert_string_equal(
      hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void base64_padding(void **state)
{
  char out[16];

  mr_base64_encode("", 0, out);
  assert_string_equal(out, "");
  mr_base64_encode("\xff\x00", 2, out);
  assert_string_equal(out, "/wA=");
  mr_base64_encode("abc", 3, out);
  assert_string_equal(out, "YWJj");
  mr_base64_encode("a", 1, out);
  assert_string_equal(out, "YQ==");
}

static void utf8_lossy_maximal_subparts(void **state)
{
  struct buf b = {0};

  /* Each maximal ill-formed subsequence becomes one U+FFFD: the truncated
   * three-byte sequence E2 82 counts once, the lone C0 and 80 once each. */
  static const char mixed[] = "a\xe2\x82"
                              "b\xc0\x80"
                              "c\xf0\x9f\x98\x80";

  mr_utf8_append_lossy(&b, mixed, sizeof(mixed) - 1);
  assert_string_equal(b.data, "a\xef\xbf\xbd"
                              "b\xef\xbf\xbd\xef\xbf\xbd"
                              "c\xf0\x9f\x98\x80");
  buf_free(&b);

  /* Surrogates encoded in UTF-8 (ED A0 80) are three subparts. */
  mr_utf8_append_lossy(&b, "\xed\xa0\x80", 3);
  assert_int_equal(b.len, 9);
  buf_free(&b);
  assert_false(mr_utf8_valid("\xed\xa0\x80", 3));
  assert_true(mr_utf8_valid("\xe2\x82\xac", 3));
}

/* Policy loading. */

struct policy_dir {
  char path[64];
};

static void write_text(const char *dir, const char *name, const char *text)
{
  char *path = mr_asprintf("%s/%s", dir, name);
  FILE *f = fopen(path, "w");

  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  free(path);
}

static int dir_setup(void **state)
{
  struct policy_dir *d = mr_xcalloc(1, sizeof(*d));

  snprintf(d->path, sizeof(d->path), "/tmp/mcp-unit-XXXXXX");
  assert_non_null(mkdtemp(d->path));
  *state = d;
  return 0;
}

static int dir_teardown(void **state)
{
  struct policy_dir *d = *state;
  char *command = mr_asprintf("rm -rf '%s'", d->path);

  assert_int_equal(system(command), 0);
  free(command);
  free(d);
  return 0;
}

static const char allow_echo[] = "package sandbox.main\n\n"
                                 "default allow := false\n\n"
                                 "allow if input.command == \"echo\"\n";

static json_t *input_for(const char *command)
{
  return json_pack("{s:s,s:s,s:s,s:[],s:{},s:s}", "command", command, "path",
                   "/usr/bin/x", "hash", "0", "args", "env", "cwd", "/");
}

static enum policy_decision decide(struct policy *policy, const char *command,
                                   char **detail)
{
  json_t *input = input_for(command);
  enum policy_decision decision;

  *detail = NULL;
  decision = policy_evaluate(policy, input, detail);
  json_decref(input);
  return decision;
}

static void policy_without_dir_denies_all(void **state)
{
  struct policy *policy = policy_new(NULL);
  char *detail;

  assert_int_equal(policy_mode(policy), POLICY_MODE_DENY_ALL);
  assert_int_equal(decide(policy, "echo", &detail), POLICY_DENY_ALL);
  assert_string_equal(detail, "POLICY_DIR is not configured");
  free(detail);
  policy_free(policy);
}

static void policy_valid_dir_ignores_other_files(void **state)
{
  struct policy_dir *d = *state;
  struct policy *policy;
  char *detail;

  write_text(d->path, "main.rego", allow_echo);
  write_text(d->path, "domains.lst", "this is { not rego\n");
  write_text(d->path, "x.REGO", "garbage {\n");
  write_text(d->path, ".rego", "garbage {\n");
  policy = policy_new(d->path);
  assert_int_equal(policy_mode(policy), POLICY_MODE_REGO);
  assert_int_equal(decide(policy, "echo", &detail), POLICY_ALLOW);
  assert_int_equal(decide(policy, "printf", &detail), POLICY_DENY);
  policy_free(policy);
}

static void expect_deny_all(struct policy *policy, const char *prefix)
{
  const char *reason = policy_deny_reason(policy);

  assert_int_equal(policy_mode(policy), POLICY_MODE_DENY_ALL);
  assert_non_null(reason);
  if (strncmp(reason, prefix, strlen(prefix)) != 0)
    fail_msg("reason '%s' does not start with '%s'", reason, prefix);
}

static void policy_syntax_error_names_location(void **state)
{
  struct policy_dir *d = *state;
  struct policy *policy;
  char *expected;

  write_text(d->path, "main.rego", "package sandbox.main\nallow if");
  policy = policy_new(d->path);
  expected = mr_asprintf("rego policy load failed: failed compiling "
                         "'%s/main.rego': %s/main.rego:",
                         d->path, d->path);
  expect_deny_all(policy, expected);
  free(expected);
  policy_free(policy);
}

/* Modules the engine must refuse with a location: a Python-style slice,
 * a function body without "if" and recursion. */
static void policy_unsupported_forms(void **state)
{
  static const char *const modules[] = {
      "package sandbox.main\n\nallow if {\n  input.args[3:] == []\n}\n",
      "package sandbox.main\n\nall_pkgs(pkgs) {\n  count(pkgs) > 0\n}\n"
      "allow if all_pkgs(input.args)\n",
      "package sandbox.main\n\nf(i) if {\n  f(i + 1)\n}\n"
      "allow if f(1)\n",
  };
  struct policy_dir *d = *state;
  size_t i;

  for (i = 0; i < sizeof(modules) / sizeof(modules[0]); i++) {
    char *file = mr_asprintf("%s/main.rego", d->path);
    char *prefix = mr_asprintf(
        "rego policy load failed: failed compiling '%s': %s:", file, file);
    struct policy *policy;
    const char *reason;
    int line = 0, column = 0;

    write_text(d->path, "main.rego", modules[i]);
    policy = policy_new(d->path);
    expect_deny_all(policy, prefix);
    reason = policy_deny_reason(policy) + strlen(prefix);
    assert_int_equal(sscanf(reason, "%d:%d:", &line, &column), 2);
    assert_true(line >= 1);
    assert_true(column >= 1);
    policy_free(policy);
    free(prefix);
    free(file);
  }
}

static void policy_checks_every_input_key(void **state)
{
  struct policy_dir *d = *state;
  struct policy *policy;
  enum policy_decision decision;
  json_t *input;
  char *detail = NULL;

  write_text(d->path, "main.rego",
             "package sandbox.main\n\n"
             "default allow := false\n\n"
             "allow if {\n"
             "  input.command == \"tool\"\n"
             "  input.args[0] == \"--flag\"\n"
             "  input.env.FLAG == \"1\"\n"
             "  input.hash == \"abc\"\n"
             "  input.cwd == \"/work\"\n"
             "  startswith(input.path, \"/\")\n"
             "}\n");
  policy = policy_new(d->path);
  input = json_pack("{s:s,s:s,s:s,s:[s],s:{s:s},s:s}", "command", "tool",
                    "path", "/opt/tool", "hash", "abc", "args", "--flag", "env",
                    "FLAG", "1", "cwd", "/work");
  assert_int_equal(policy_evaluate(policy, input, &detail), POLICY_ALLOW);
  json_object_set_new(input, "command", json_string("/usr/bin/echo"));
  decision = policy_evaluate(policy, input, &detail);
  assert_int_equal(decision, POLICY_DENY);
  json_decref(input);
  policy_free(policy);
}

static void policy_undefined_result(void **state)
{
  struct policy_dir *d = *state;
  struct policy *policy;
  char *detail;

  write_text(d->path, "main.rego",
             "package sandbox.main\n\nallow if input.command == \"x\"\n");
  policy = policy_new(d->path);
  assert_int_equal(decide(policy, "echo", &detail), POLICY_EVAL_FAILED);
  assert_string_equal(detail, "query did not produce any values");
  free(detail);
  write_text(d->path, "main.rego", "package other\n\nallow := true\n");
  policy_reload(policy);
  assert_int_equal(decide(policy, "echo", &detail), POLICY_EVAL_FAILED);
  assert_string_equal(detail, "query did not produce any values");
  free(detail);
  policy_free(policy);
}

static void policy_explicit_reload(void **state)
{
  struct policy_dir *d = *state;
  struct policy *policy;
  char *detail;

  write_text(d->path, "main.rego", allow_echo);
  policy = policy_new(d->path);
  assert_int_equal(policy_mode(policy), POLICY_MODE_REGO);

  write_text(d->path, "main.rego", "package sandbox.main\nallow if {");
  policy_reload(policy);
  expect_deny_all(policy, "rego policy load failed: failed compiling");
  assert_int_equal(decide(policy, "echo", &detail), POLICY_DENY_ALL);
  free(detail);

  write_text(d->path, "main.rego", allow_echo);
  policy_reload(policy);
  assert_int_equal(policy_mode(policy), POLICY_MODE_REGO);
  assert_int_equal(decide(policy, "echo", &detail), POLICY_ALLOW);
  policy_free(policy);
}

static void set_mtime(const char *path, time_t seconds)
{
  struct timespec times[2] = {{seconds, 0}, {seconds, 0}};

  assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
}

static void policy_rewrite_seen_without_reload(void **state)
{
  static const char allow_printf[] = "package sandbox.main\n\n"
                                     "default allow := false\n\n"
                                     "allow if input.command == \"printf\"\n";
  struct policy_dir *d = *state;
  char *file = mr_asprintf("%s/main.rego", d->path);
  struct policy *policy;
  char *detail;

  write_text(d->path, "main.rego", allow_echo);
  set_mtime(file, 1000000000);
  policy = policy_new(d->path);
  assert_int_equal(decide(policy, "echo", &detail), POLICY_ALLOW);

  write_text(d->path, "main.rego", allow_printf);
  set_mtime(file, 1000000001);
  policy_check_reload(policy);
  assert_int_equal(decide(policy, "printf", &detail), POLICY_ALLOW);
  assert_int_equal(decide(policy, "echo", &detail), POLICY_DENY);
  policy_free(policy);
  free(file);
}

static void policy_directory_shapes(void **state)
{
  struct policy_dir *d = *state;
  struct policy *policy;
  char *path, *expected;

  /* Empty directory. */
  policy = policy_new(d->path);
  expected = mr_asprintf("rego policy load failed: no .rego files found "
                         "under policy directory '%s'",
                         d->path);
  expect_deny_all(policy, expected);
  free(expected);
  policy_free(policy);

  /* Nested directories and a symlinked subdirectory are walked. */
  path =
      mr_asprintf("mkdir -p '%s/nested/deeper' '%s.other'", d->path, d->path);
  assert_int_equal(system(path), 0);
  free(path);
  write_text(d->path, "nested/deeper/main.rego", allow_echo);
  path = mr_asprintf("%s.other", d->path);
  write_text(path, "extra.rego", "package sandbox.extra\n\nvalue := 1\n");
  expected = mr_asprintf("%s/linked", d->path);
  assert_int_equal(symlink(path, expected), 0);
  policy = policy_new(d->path);
  assert_int_equal(policy_mode(policy), POLICY_MODE_REGO);
  policy_free(policy);
  free(expected);

  /* A broken symlink named like a module. */
  expected = mr_asprintf("%s/broken.rego", d->path);
  assert_int_equal(symlink("/nonexistent/target.rego", expected), 0);
  policy = policy_new(d->path);
  expect_deny_all(policy, "rego policy load failed: failed fingerprinting "
                          "policy files: ");
  policy_free(policy);
  unlink(expected);
  free(expected);

  /* A symlink cycle ends the walk with the directory error. */
  expected = mr_asprintf("%s/nested/loop", d->path);
  assert_int_equal(symlink(d->path, expected), 0);
  policy = policy_new(d->path);
  expect_deny_all(policy,
                  "rego policy load failed: failed reading policy directory");
  policy_free(policy);
  unlink(expected);
  free(expected);

  /* A module that is not UTF-8. */
  write_text(d->path, "bad.rego", "package sandbox.bad\n# \xff\n");
  policy = policy_new(d->path);
  expected = mr_asprintf("rego policy load failed: failed reading "
                         "'%s/bad.rego': file is not valid UTF-8",
                         d->path);
  expect_deny_all(policy, expected);
  free(expected);
  policy_free(policy);

  expected = mr_asprintf("rm -rf '%s'", path);
  assert_int_equal(system(expected), 0);
  free(expected);
  free(path);
}

static void policy_no_rego_files(void **state)
{
  struct policy_dir *d = *state;
  struct policy *policy;

  write_text(d->path, "domains.lst", "example.com\n");
  policy = policy_new(d->path);
  expect_deny_all(policy, "rego policy load failed: no .rego files found");
  policy_free(policy);
}

static void policy_dir_removed_at_runtime(void **state)
{
  struct policy_dir *d = *state;
  struct policy *policy;
  char *command, *expected, *detail;

  write_text(d->path, "main.rego", allow_echo);
  policy = policy_new(d->path);
  assert_int_equal(policy_mode(policy), POLICY_MODE_REGO);
  command = mr_asprintf("rm -rf '%s'", d->path);
  assert_int_equal(system(command), 0);
  free(command);
  policy_check_reload(policy);
  expected = mr_asprintf("failed reading policy directory '%s': %s", d->path,
                         strerror(ENOENT));
  expect_deny_all(policy, expected);
  free(expected);

  /* Repair: the next check loads the modules again. */
  assert_int_equal(mkdir(d->path, 0700), 0);
  write_text(d->path, "main.rego", allow_echo);
  policy_check_reload(policy);
  assert_int_equal(policy_mode(policy), POLICY_MODE_REGO);
  assert_int_equal(decide(policy, "echo", &detail), POLICY_ALLOW);
  policy_free(policy);
}

/* Spawning from the held descriptor. */

struct captured {
  struct buf out;
  bool done;
  int code;
};

static void capture_output(struct proc *proc, int stream, const char *data,
                           size_t len)
{
  struct captured *c = proc_data(proc);

  if (stream == 1)
    buf_append(&c->out, data, len);
}

static void capture_done(struct proc *proc)
{
  struct captured *c = proc_data(proc);

  c->done = true;
  c->code = proc_status(proc)->code;
}

static const struct proc_callbacks capture_callbacks = {
    .on_output = capture_output,
    .on_done = capture_done,
};

static void copy_file(const char *from, const char *to, mode_t mode)
{
  char *command = mr_asprintf("cp '%s' '%s'", from, to);

  assert_int_equal(system(command), 0);
  assert_int_equal(chmod(to, mode), 0);
  free(command);
}

/* A file renamed over the path after hashing does not run: the child
 * executes the descriptor that was hashed, with the path as argv[0]. */
static void spawn_runs_held_descriptor(void **state)
{
  struct policy_dir *d = *state;
  struct mr_config config;
  struct mr_request req;
  struct authz authz;
  struct captured captured;
  struct mr_string args[2];
  char *tool = mr_asprintf("%s/tool", d->path);
  char *other = mr_asprintf("%s/other", d->path);
  char *detail = NULL, *expected;
  struct proc *proc = NULL;

  copy_file("/bin/sh", tool, 0755);
  write_text(d->path, "other", "#!/bin/sh\necho replaced\n");
  assert_int_equal(chmod(other, 0755), 0);

  memset(&authz, 0, sizeof(authz));
  assert_int_equal(cwd_resolve(d->path, strlen(d->path), &authz.cwd_fd,
                               &authz.cwd_label, &detail),
                   0);
  authz.resolved_path = tool;
  assert_int_equal(exe_open_and_hash(tool, &authz.exe_fd, authz.hash,
                                     &authz.is_script, &detail),
                   0);
  assert_false(authz.is_script);
  assert_int_equal(rename(other, tool), 0);

  memset(&config, 0, sizeof(config));
  config.path = getenv("PATH");
  memset(&req, 0, sizeof(req));
  args[0].data = "-c";
  args[0].len = 2;
  args[1].data = "echo original; tr '\\0' ' ' < /proc/$$/cmdline";
  args[1].len = strlen(args[1].data);
  req.args = args;
  req.nargs = 2;
  req.env = json_object();

  memset(&captured, 0, sizeof(captured));
  assert_int_equal(proc_spawn(uv_default_loop(), &config, &authz, &req,
                              &capture_callbacks, &captured, &proc, &detail),
                   0);
  uv_run(uv_default_loop(), UV_RUN_DEFAULT);
  assert_true(captured.done);
  assert_int_equal(captured.code, 0);
  expected = mr_asprintf("original\n%s -c ", tool);
  if (strncmp(captured.out.data, expected, strlen(expected)) != 0)
    fail_msg("output '%s' does not start with '%s'", captured.out.data,
             expected);

  free(expected);
  buf_free(&captured.out);
  json_decref(req.env);
  close(authz.cwd_fd);
  close(authz.exe_fd);
  free(authz.cwd_label);
  free(tool);
  free(other);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(config_default_cwd_relative),
      cmocka_unit_test(config_bind_uds_checks),
      cmocka_unit_test(config_bind_addr_forms),
      cmocka_unit_test(config_max_concurrent),
      cmocka_unit_test(env_values_trimmed),
      cmocka_unit_test(sha256_of_abc),
      cmocka_unit_test(base64_padding),
      cmocka_unit_test(utf8_lossy_maximal_subparts),
      cmocka_unit_test(policy_without_dir_denies_all),
      cmocka_unit_test_setup_teardown(policy_valid_dir_ignores_other_files,
                                      dir_setup, dir_teardown),
      cmocka_unit_test_setup_teardown(policy_syntax_error_names_location,
                                      dir_setup, dir_teardown),
      cmocka_unit_test_setup_teardown(policy_unsupported_forms, dir_setup,
                                      dir_teardown),
      cmocka_unit_test_setup_teardown(policy_checks_every_input_key, dir_setup,
                                      dir_teardown),
      cmocka_unit_test_setup_teardown(policy_undefined_result, dir_setup,
                                      dir_teardown),
      cmocka_unit_test_setup_teardown(policy_explicit_reload, dir_setup,
                                      dir_teardown),
      cmocka_unit_test_setup_teardown(policy_rewrite_seen_without_reload,
                                      dir_setup, dir_teardown),
      cmocka_unit_test_setup_teardown(policy_directory_shapes, dir_setup,
                                      dir_teardown),
      cmocka_unit_test_setup_teardown(policy_no_rego_files, dir_setup,
                                      dir_teardown),
      cmocka_unit_test_setup_teardown(policy_dir_removed_at_runtime, dir_setup,
                                      dir_teardown),
      cmocka_unit_test_setup_teardown(spawn_runs_held_descriptor, dir_setup,
                                      dir_teardown),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
