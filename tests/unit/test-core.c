/* Unit tests of the core: shell quoting, project discovery and plugin
 * loading. */
#include "config-host.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "context.h"
#include "harness.h"
#include "log.h"
#include "process.h"
#include "project.h"
#include "registry.h"
#include "runtime_ops.h"
#include "util.h"

/* Diagnostics captured from the core during one test. */
static char *captured_err;
static size_t captured_err_len;
static FILE *err_stream;

static void capture_start(void)
{
  err_stream = open_memstream(&captured_err, &captured_err_len);
  cl_log_set_streams(err_stream, NULL);
}

static char *capture_end(void)
{
  cl_log_set_streams(NULL, NULL);
  fclose(err_stream);
  return captured_err;
}

static void assert_quoted(const char *word, const char *expected)
{
  char *quoted = cl_shell_quote(word);

  assert_string_equal(quoted, expected);
  free(quoted);
}

static void quote_bare_words(void **state)
{
  assert_quoted("podman", "podman");
  assert_quoted("--tcp-to-unix", "--tcp-to-unix");
  assert_quoted("127.0.0.1:3128=/run/cladding/proxy/agent/proxy.sock",
                "127.0.0.1:3128=/run/cladding/proxy/agent/proxy.sock");
  assert_quoted("a,b_c.d", "a,b_c.d");
}

static void quote_special_words(void **state)
{
  assert_quoted("", "''");
  assert_quoted("demo agent", "'demo agent'");
  assert_quoted("it's ok", "'it'\\''s ok'");
  assert_quoted("$HOME", "'$HOME'");
  assert_quoted("a+b", "'a+b'");
  assert_quoted("caf\xc3\xa9", "'caf\xc3\xa9'");
}

static void quote_argv_joins_with_spaces(void **state)
{
  const char *argv[] = {"podman",       "run",  "--name",  "demo agent",
                        "image:latest", "echo", "it's ok", NULL};
  char *line = cl_shell_quote_argv(argv);

  assert_string_equal(line, "podman run --name 'demo agent' image:latest echo "
                            "'it'\\''s ok'");
  free(line);
}

static void absolute_path_joins_relative(void **state)
{
  char *path = cl_absolute_path("/home/u", "proj/.cladding");

  assert_string_equal(path, "/home/u/proj/.cladding");
  free(path);
  path = cl_absolute_path("/home/u", "/x/.cladding");
  assert_string_equal(path, "/x/.cladding");
  free(path);
}

static void project_dir_is_parent(void **state)
{
  char *dir = cl_project_dir_of("/home/u/proj/.cladding");

  assert_string_equal(dir, "/home/u/proj");
  free(dir);
  dir = cl_project_dir_of("/home/u/proj/.cladding/");
  assert_string_equal(dir, "/home/u/proj");
  free(dir);
}

static void discovery_walks_up(void **state)
{
  char *top = harness_mkdtemp();
  char *root = cl_path_join(top, ".cladding");
  char *deep = cl_asprintf("%s/a/b/c", top);
  char *found;

  assert_int_equal(cl_mkdir_p(root, 0755), 0);
  assert_int_equal(cl_mkdir_p(deep, 0755), 0);
  found = cl_find_project_root(deep);
  assert_non_null(found);
  assert_string_equal(found, root);
  free(found);

  found = cl_find_project_root(top);
  assert_string_equal(found, root);
  free(found);

  harness_rmtree(top);
  free(deep);
  free(root);
  free(top);
}

static void discovery_skips_regular_file(void **state)
{
  char *top = harness_mkdtemp();
  char *root = cl_path_join(top, ".cladding");
  char *sub = cl_path_join(top, "sub");
  char *file = cl_asprintf("%s/sub/.cladding", top);
  char *found;

  assert_int_equal(cl_mkdir_p(root, 0755), 0);
  harness_write(file, "not a directory\n");
  found = cl_find_project_root(sub);
  assert_non_null(found);
  assert_string_equal(found, root);
  free(found);

  harness_rmtree(top);
  free(file);
  free(sub);
  free(root);
  free(top);
}

static void discovery_accepts_symlink(void **state)
{
  char *top = harness_mkdtemp();
  char *real = cl_path_join(top, "state");
  char *proj = cl_path_join(top, "proj");
  char *link = cl_path_join(proj, ".cladding");
  char *found;

  assert_int_equal(cl_mkdir_p(real, 0755), 0);
  assert_int_equal(cl_mkdir_p(proj, 0755), 0);
  assert_int_equal(symlink(real, link), 0);
  found = cl_find_project_root(proj);
  assert_non_null(found);
  /* The link keeps its spelling. */
  assert_string_equal(found, link);
  free(found);

  harness_rmtree(top);
  free(link);
  free(proj);
  free(real);
  free(top);
}

static void discovery_finds_nothing(void **state)
{
  char *top = harness_mkdtemp();
  char *dangling = cl_path_join(top, ".cladding");
  char *found;

  /* A dangling link is no project either. */
  assert_int_equal(symlink("/nonexistent/cladding-test", dangling), 0);
  found = cl_find_project_root(top);
  /* Parents of the temp dir are outside the test's control, so only check
   * that the dangling link itself was not taken. */
  if (found != NULL)
    assert_string_not_equal(found, dangling);
  free(found);

  harness_rmtree(top);
  free(dangling);
  free(top);
}

static void missing_project_message(void **state)
{
  struct cl_error err = {0};
  char *out;

  capture_start();
  assert_int_equal(cl_report_missing_project("/work/x", &err), -1);
  out = capture_end();
  assert_string_equal(
      out, "error: no .cladding directory found in /work/x or any parent "
           "directory\n"
           "hint: run 'cladding init' from the project directory to create "
           "one\n");
  assert_int_equal(err.status, 1);
  assert_string_equal(err.message, "missing .cladding");
  cl_error_clear(&err);
  free(out);
}

static void load_plugins_from(struct cl_registry *registry, const char *dirs,
                              char **warnings)
{
  capture_start();
  cl_registry_set_dirs(registry, dirs, NULL);
  cl_registry_load(registry, &cl_services);
  *warnings = capture_end();
}

static void registry_loads_test_plugins(void **state)
{
  char *dir = harness_builddir_path("tests/plugins");
  struct cl_registry registry = {0};
  const struct cl_command_entry *greet;
  char *warnings;

  load_plugins_from(&registry, dir, &warnings);

  /* hello loads; other_greet repeats `greet`; no_symbol and wrong_abi fail. */
  assert_int_equal(registry.plugin_count, 1);
  assert_string_equal(registry.plugins[0]->plugin->name, "hello");
  assert_string_equal(registry.plugins[0]->plugin->version, "1.2.3");
  greet = cl_registry_find(&registry, "greet");
  assert_non_null(greet);
  assert_string_equal(greet->plugin->plugin->name, "hello");
  assert_null(cl_registry_find(&registry, "future"));

  assert_non_null(strstr(warnings, "warning: skipping plugin "));
  assert_non_null(
      strstr(warnings, "no_symbol.so: no symbol 'cladding_plugin'"));
  assert_non_null(strstr(warnings, "other_greet.so: command 'greet' is already "
                                   "provided by plugin 'hello'"));
  assert_non_null(strstr(warnings, "wrong_abi.so: plugin ABI major version 2, "
                                   "this cladding supports 1"));
  /* One warning per rejected module, no more. */
  {
    int lines = 0;

    for (const char *p = warnings; *p; p++)
      lines += *p == '\n';
    assert_int_equal(lines, 3);
  }

  cl_registry_free(&registry);
  free(warnings);
  free(dir);
}

static void registry_earlier_dir_shadows(void **state)
{
  char *build = harness_builddir_path("tests/plugins");
  char *twice = cl_asprintf("%s:%s", build, build);
  struct cl_registry registry = {0};
  char *warnings;

  load_plugins_from(&registry, twice, &warnings);
  /* The second copy of hello is skipped silently, not as a duplicate. */
  assert_int_equal(registry.plugin_count, 1);
  assert_null(strstr(warnings, "hello.so:"));
  assert_non_null(strstr(warnings, "other_greet.so: command 'greet'"));
  cl_registry_free(&registry);
  free(warnings);
  free(twice);
  free(build);
}

static void registry_empty_and_missing_dirs(void **state)
{
  char *empty = harness_mkdtemp();
  char *junk = cl_path_join(empty, "README");
  char *dirs = cl_asprintf("%s::/nonexistent/cladding-plugins", empty);
  struct cl_registry registry = {0};
  char *warnings, *joined, *expected;

  harness_write(junk, "not a plugin\n");
  load_plugins_from(&registry, dirs, &warnings);
  assert_int_equal(registry.plugin_count, 0);
  assert_int_equal(registry.command_count, 0);
  assert_string_equal(warnings, "");

  /* Empty parts of the path are skipped; both directories are listed. */
  joined = cl_registry_dirs_joined(&registry);
  expected = cl_asprintf("%s:/nonexistent/cladding-plugins", empty);
  assert_string_equal(joined, expected);
  free(expected);
  assert_int_equal(registry.dirs.count, 2);
  assert_string_equal(registry.dirs.items[0], empty);
  assert_string_equal(registry.dirs.items[1], "/nonexistent/cladding-plugins");

  cl_registry_free(&registry);
  harness_rmtree(empty);
  free(joined);
  free(warnings);
  free(dirs);
  free(junk);
  free(empty);
}

static int dummy_handler(struct cladding_context *ctx,
                         const struct cladding_services *svc, int argc,
                         char **argv)
{
  return 0;
}

static void registry_rejects_bad_tables(void **state)
{
  static const struct cladding_command no_handler[] = {
      {"x", "summary", "", NULL, 0, 0, 0, NULL, NULL}, {0}};
  static const struct cladding_command reserved[] = {
      {"help", "summary", "", NULL, 0, 0, 0, dummy_handler, NULL}, {0}};
  static const struct cladding_command twice[] = {
      {"y", "summary", "", NULL, 0, 0, 0, dummy_handler, NULL},
      {"y", "summary", "", NULL, 0, 0, 0, dummy_handler, NULL},
      {0}};
  const struct cladding_plugin plugins[] = {
      {CLADDING_PLUGIN_ABI_VERSION, "a", "1", no_handler, NULL, NULL},
      {CLADDING_PLUGIN_ABI_VERSION, "b", "1", reserved, NULL, NULL},
      {CLADDING_PLUGIN_ABI_VERSION, "c", "1", twice, NULL, NULL},
      {CLADDING_PLUGIN_ABI_VERSION, NULL, "1", twice, NULL, NULL},
      {CLADDING_PLUGIN_ABI_VERSION, "e", "1", NULL, NULL, NULL},
  };
  const char *reasons[] = {
      "command 'x' has no handler",  "command 'help' is reserved by the core",
      "command 'y' appears twice",   "plugin has no name",
      "plugin has no command table",
  };
  struct cl_registry registry = {0};

  for (size_t i = 0; i < sizeof(plugins) / sizeof(plugins[0]); i++) {
    char *reason = NULL;

    assert_int_equal(
        cl_registry_add(&registry, &plugins[i], "test.so", NULL, &reason), -1);
    assert_string_equal(reason, reasons[i]);
    free(reason);
  }
  assert_int_equal(registry.plugin_count, 0);
  assert_int_equal(registry.command_count, 0);
  cl_registry_free(&registry);
}

static void registry_minor_version_accepted(void **state)
{
  static const struct cladding_command commands[] = {
      {"z", "summary", "", NULL, 0, 0, 0, dummy_handler, NULL}, {0}};
  /* A plugin built against a newer minor version of ABI 1 still loads. */
  const struct cladding_plugin newer = {
      CLADDING_PLUGIN_ABI_VERSION + 7, "newer", "1", commands, NULL, NULL};
  struct cl_registry registry = {0};
  char *reason = NULL;

  assert_int_equal(
      cl_registry_add(&registry, &newer, "newer.so", NULL, &reason), 0);
  assert_null(reason);
  assert_non_null(cl_registry_find(&registry, "z"));
  cl_registry_free(&registry);
}

static void known_commands_map_to_plugins(void **state)
{
  assert_string_equal(cl_known_command_plugin("expose"), "expose");
  assert_string_equal(cl_known_command_plugin("check"), "status");
  assert_string_equal(cl_known_command_plugin("ps"), "status");
  assert_string_equal(cl_known_command_plugin("destroy"), "updown");
  assert_string_equal(cl_known_command_plugin("run-with-scissors"), "run");
  assert_string_equal(cl_known_command_plugin("reload-proxy"), "proxy");
  assert_null(cl_known_command_plugin("frobnicate"));
  assert_null(cl_known_command_plugin("help"));
}

static void services_table_header(void **state)
{
  assert_int_equal(cl_services.abi_version, CLADDING_PLUGIN_ABI_VERSION);
  assert_int_equal(cl_services.size, sizeof(struct cladding_services));
  assert_true(CLADDING_HAS_SERVICE(&cl_services, write_file_atomic));
}

static void atomic_write_replaces_file(void **state)
{
  char *dir = harness_mkdtemp();
  char *path = cl_path_join(dir, "file.json");
  char *text;
  struct stat st;

  harness_write(path, "old content that is longer\n");
  assert_int_equal(cl_write_file_atomic(path, "new\n", 4, 0640), 0);
  text = harness_read(path);
  assert_string_equal(text, "new\n");
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0640);
  free(text);

  /* A missing directory fails with an errno and leaves nothing behind. */
  free(path);
  path = cl_path_join(dir, "missing/file.json");
  assert_int_equal(cl_write_file_atomic(path, "x", 1, 0644), -ENOENT);

  harness_rmtree(dir);
  free(path);
  free(dir);
}

static int listen_unix(const char *path)
{
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);

  assert_true(fd >= 0);
  assert_true(strlen(path) < sizeof(addr.sun_path));
  strcpy(addr.sun_path, path);
  assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
  assert_int_equal(listen(fd, 4), 0);
  return fd;
}

static void socket_probe_ignores_links(void **state)
{
  char *dir = harness_mkdtemp();
  char *real = cl_path_join(dir, "real.sock");
  char *link = cl_path_join(dir, "link.sock");
  char *file = cl_path_join(dir, "file.sock");
  int fd = listen_unix(real);

  assert_int_equal(symlink(real, link), 0);
  harness_write(file, "not a socket\n");
  assert_int_equal(cl_ops_socket_accepts(real), 1);
  /* A link planted in a socket directory must not lead to its target. */
  assert_int_equal(cl_ops_socket_accepts(link), 0);
  assert_int_equal(cl_ops_probe_proxy(link, "x.invalid", 100), -1);
  assert_int_equal(cl_ops_socket_accepts(file), 0);
  assert_int_equal(cl_ops_socket_accepts("/nonexistent/cladding.sock"), 0);

  close(fd);
  harness_rmtree(dir);
  free(file);
  free(link);
  free(real);
  free(dir);
}

static void run_all_captures_each_child(void **state)
{
  static const char *const first[] = {"/bin/sh", "-c",
                                      "echo one; echo err1 >&2; exit 3", NULL};
  static const char *const second[] = {"/bin/sh", "-c", "sleep 0.2; echo two",
                                       NULL};
  static const char *const missing[] = {"/nonexistent/cladding-bin", NULL};
  const char *const *argvs[] = {first, second};
  const char *const *bad[] = {second, missing};
  struct cl_process_result results[2];

  assert_int_equal(cl_process_run_all(argvs, 2, results), 0);
  assert_string_equal(results[0].out, "one\n");
  assert_string_equal(results[0].err, "err1\n");
  assert_int_equal(cl_process_status(&results[0]), 3);
  assert_string_equal(results[1].out, "two\n");
  assert_string_equal(results[1].err, "");
  assert_int_equal(cl_process_status(&results[1]), 0);
  cl_process_result_free(&results[0]);
  cl_process_result_free(&results[1]);

  /* A child that cannot start fails the call with its errno. */
  assert_int_equal(cl_process_run_all(bad, 2, results), -ENOENT);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(quote_bare_words),
      cmocka_unit_test(quote_special_words),
      cmocka_unit_test(quote_argv_joins_with_spaces),
      cmocka_unit_test(absolute_path_joins_relative),
      cmocka_unit_test(project_dir_is_parent),
      cmocka_unit_test(discovery_walks_up),
      cmocka_unit_test(discovery_skips_regular_file),
      cmocka_unit_test(discovery_accepts_symlink),
      cmocka_unit_test(discovery_finds_nothing),
      cmocka_unit_test(missing_project_message),
      cmocka_unit_test(registry_loads_test_plugins),
      cmocka_unit_test(registry_earlier_dir_shadows),
      cmocka_unit_test(registry_empty_and_missing_dirs),
      cmocka_unit_test(registry_rejects_bad_tables),
      cmocka_unit_test(registry_minor_version_accepted),
      cmocka_unit_test(known_commands_map_to_plugins),
      cmocka_unit_test(services_table_header),
      cmocka_unit_test(atomic_write_replaces_file),
      cmocka_unit_test(socket_probe_ignores_links),
      cmocka_unit_test(run_all_captures_each_child),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
