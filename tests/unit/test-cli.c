/* Tests of the command line: help, version, usage errors, not-installed
 * commands and the checks the core runs before a handler. The core runs
 * in-process against registries loaded from chosen directories, so plugins
 * installed on the machine cannot change the outcome. */
#include "config-host.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli.h"
#include "context.h"
#include "harness.h"
#include "log.h"
#include "project.h"
#include "registry.h"
#include "src/core/version.h"
#include "util.h"

struct outcome {
  int status;
  char *out;
  char *err;
};

/* Runs the core with plugins from `dirs` (colon-separated) in `cwd`. */
static void run_core(struct outcome *result, const char *dirs, const char *cwd,
                     const char *const *args)
{
  struct cl_registry registry = {0};
  size_t out_len = 0, err_len = 0, argc = 0;
  FILE *out_stream = open_memstream(&result->out, &out_len);
  FILE *err_stream = open_memstream(&result->err, &err_len);
  char *saved_cwd = getcwd(NULL, 0);
  char **argv;

  while (args[argc] != NULL)
    argc++;
  argv = cl_xcalloc(argc + 2, sizeof(char *));
  argv[0] = "cladding";
  for (size_t i = 0; i < argc; i++)
    argv[i + 1] = (char *)args[i];

  cl_log_set_streams(err_stream, out_stream);
  cl_registry_set_dirs(&registry, dirs, NULL);
  cl_registry_load(&registry, &cl_services);
  if (cwd != NULL)
    assert_int_equal(chdir(cwd), 0);
  result->status = cl_run(&registry, (int)argc + 1, argv);
  assert_int_equal(chdir(saved_cwd), 0);
  cl_registry_free(&registry);
  cl_log_set_streams(NULL, NULL);
  fclose(out_stream);
  fclose(err_stream);
  free(argv);
  free(saved_cwd);
}

static void outcome_free(struct outcome *result)
{
  free(result->out);
  free(result->err);
}

/* Plugin directories: the build's plugins and the test plugins. */
static char *all_dirs(void)
{
  char *build = harness_builddir_path("plugins");
  char *tests = harness_builddir_path("tests/plugins");
  char *dirs = cl_asprintf("%s:%s", build, tests);

  free(build);
  free(tests);
  return dirs;
}

static char *test_dir(void)
{
  return harness_builddir_path("tests/plugins");
}

/* The test plugins print warnings for the three broken modules; callers
 * that check stderr exactly strip those lines first. */
static const char *after_warnings(const char *err)
{
  while (strncmp(err, "warning: skipping plugin", 24) == 0) {
    const char *newline = strchr(err, '\n');

    if (newline == NULL)
      break;
    err = newline + 1;
  }
  return err;
}

static void no_arguments_prints_help(void **state)
{
  char *dirs = test_dir();
  struct outcome r;

  run_core(&r, dirs, NULL, (const char *[]){NULL});
  assert_int_equal(r.status, 2);
  assert_string_equal(r.out, "");
  assert_true(cl_str_has_prefix(after_warnings(r.err),
                                "usage: cladding <command> [<args>]\n"));
  assert_non_null(strstr(r.err, "  greet               Print a greeting\n"));
  assert_non_null(strstr(r.err, "  help                Show help"));
  outcome_free(&r);
  free(dirs);
}

static void help_option_prints_to_stdout(void **state)
{
  char *dirs = test_dir();
  struct outcome r;

  run_core(&r, dirs, NULL, (const char *[]){"--help", NULL});
  assert_int_equal(r.status, 0);
  assert_true(cl_str_has_prefix(r.out, "usage: cladding <command> [<args>]\n"));
  /* Product commands without a plugin are named as not installed. */
  assert_non_null(strstr(r.out, "Not installed (no plugin provides them): "
                                "build, init, check, up"));
  /* --project-root stays out of the help. */
  assert_null(strstr(r.out, "project-root"));
  outcome_free(&r);

  run_core(&r, dirs, NULL, (const char *[]){"help", NULL});
  assert_int_equal(r.status, 0);
  assert_true(cl_str_has_prefix(r.out, "usage: cladding <command> [<args>]\n"));
  outcome_free(&r);
  free(dirs);
}

static void version_lists_plugins(void **state)
{
  char *dirs = all_dirs();
  char *first = cl_asprintf("cladding %s\n", CL_VERSION);
  char *init = cl_asprintf("plugin init %s\n", PACKAGE_VERSION);
  struct outcome r;

  run_core(&r, dirs, NULL, (const char *[]){"--version", NULL});
  assert_int_equal(r.status, 0);
  assert_true(cl_str_has_prefix(r.out, first));
  assert_non_null(strstr(r.out, init));
  /* Load order: the build's plugins first, then the test plugins. */
  assert_true(strstr(r.out, init) < strstr(r.out, "plugin hello 1.2.3\n"));
  assert_true(cl_str_has_suffix(r.out, "plugin hello 1.2.3\n"));
  outcome_free(&r);
  free(init);
  free(first);
  free(dirs);
}

static void version_without_plugins(void **state)
{
  char *empty = harness_mkdtemp();
  char *expected = cl_asprintf("cladding %s\n", CL_VERSION);
  struct outcome r;

  run_core(&r, empty, NULL, (const char *[]){"--version", NULL});
  assert_int_equal(r.status, 0);
  assert_string_equal(r.out, expected);
  assert_string_equal(r.err, "");
  outcome_free(&r);
  harness_rmtree(empty);
  free(expected);
  free(empty);
}

static const char greet_help[] =
    "usage: cladding greet [--loud] [--name NAME] [ARG]...\n"
    "\n"
    "Print a greeting\n"
    "\n"
    "Options:\n"
    "  -l, --loud             Greet loudly\n"
    "  --name NAME            Who to greet\n"
    "  -h, --help             Show this help\n";

static void command_help_both_forms(void **state)
{
  char *dirs = test_dir();
  struct outcome r;

  run_core(&r, dirs, NULL, (const char *[]){"help", "greet", NULL});
  assert_int_equal(r.status, 0);
  assert_string_equal(r.out, greet_help);
  outcome_free(&r);

  run_core(&r, dirs, NULL, (const char *[]){"greet", "--help", NULL});
  assert_int_equal(r.status, 0);
  assert_string_equal(r.out, greet_help);
  outcome_free(&r);

  run_core(&r, dirs, NULL, (const char *[]){"greet", "x", "-h", NULL});
  assert_int_equal(r.status, 0);
  assert_string_equal(r.out, greet_help);
  outcome_free(&r);
  free(dirs);
}

static void init_help_text(void **state)
{
  char *dirs = all_dirs();
  struct outcome r;

  run_core(&r, dirs, NULL, (const char *[]){"init", "--help", NULL});
  assert_int_equal(r.status, 0);
  assert_string_equal(r.out, "usage: cladding init [NAME]\n"
                             "\n"
                             "Create config and default mount directories\n"
                             "\n"
                             "Options:\n"
                             "  -h, --help             Show this help\n");
  outcome_free(&r);
  free(dirs);
}

static void help_unknown_name_is_usage_error(void **state)
{
  char *dirs = test_dir();
  struct outcome r;

  run_core(&r, dirs, NULL, (const char *[]){"help", "nosuchcommand", NULL});
  assert_int_equal(r.status, 2);
  assert_string_equal(after_warnings(r.err),
                      "error: unknown command 'nosuchcommand'\n"
                      "usage: cladding help [COMMAND]\n");
  outcome_free(&r);
  free(dirs);
}

static void unknown_command_lists_available(void **state)
{
  char *dirs = test_dir();
  struct outcome r;

  run_core(&r, dirs, NULL, (const char *[]){"frobnicate", NULL});
  assert_int_equal(r.status, 2);
  assert_string_equal(after_warnings(r.err),
                      "error: unknown command 'frobnicate' (available: "
                      "greet, where, needs-podman, show-config, fail, help)\n"
                      "usage: cladding <command> [<args>]\n");
  outcome_free(&r);
  free(dirs);
}

static void missing_plugin_is_not_installed(void **state)
{
  char *dirs = test_dir();
  char *expected = cl_asprintf("error: 'expose' is not installed (no plugin in "
                               "%s:/nonexistent/plugins provides it)\n"
                               "'expose' is not installed\n",
                               dirs);
  char *with_missing = cl_asprintf("%s:/nonexistent/plugins", dirs);
  struct outcome r;

  run_core(&r, with_missing, NULL, (const char *[]){"expose", "3000", NULL});
  assert_int_equal(r.status, 1);
  assert_string_equal(after_warnings(r.err), expected);
  assert_string_equal(r.out, "");
  outcome_free(&r);

  /* `help expose` says the same, with the same status. */
  run_core(&r, with_missing, NULL, (const char *[]){"help", "expose", NULL});
  assert_int_equal(r.status, 1);
  assert_string_equal(after_warnings(r.err), expected);
  outcome_free(&r);

  free(with_missing);
  free(expected);
  free(dirs);
}

static void init_absent_is_not_installed(void **state)
{
  char *dirs = test_dir();
  struct outcome r;

  run_core(&r, dirs, NULL, (const char *[]){"init", NULL});
  assert_int_equal(r.status, 1);
  assert_non_null(
      strstr(r.err, "error: 'init' is not installed (no plugin in "));
  assert_true(cl_str_has_suffix(r.err, "'init' is not installed\n"));
  outcome_free(&r);
  free(dirs);
}

static void unknown_option_is_usage_error(void **state)
{
  char *dirs = test_dir();
  struct outcome r;

  run_core(&r, dirs, NULL, (const char *[]){"greet", "--shout", NULL});
  assert_int_equal(r.status, 2);
  assert_string_equal(after_warnings(r.err),
                      "error: unknown option '--shout'\n"
                      "usage: cladding greet [--loud] [--name NAME] "
                      "[ARG]...\n");
  outcome_free(&r);

  run_core(&r, dirs, NULL, (const char *[]){"--bogus", "greet", NULL});
  assert_int_equal(r.status, 2);
  assert_string_equal(after_warnings(r.err),
                      "error: unknown option '--bogus'\n"
                      "usage: cladding <command> [<args>]\n");
  outcome_free(&r);
  free(dirs);
}

static void option_without_value_is_usage_error(void **state)
{
  char *dirs = test_dir();
  struct outcome r;

  run_core(&r, dirs, NULL, (const char *[]){"greet", "--name", NULL});
  assert_int_equal(r.status, 2);
  assert_string_equal(after_warnings(r.err),
                      "error: option '--name' requires a value\n"
                      "usage: cladding greet [--loud] [--name NAME] "
                      "[ARG]...\n");
  outcome_free(&r);

  run_core(&r, dirs, NULL, (const char *[]){"greet", "--loud=yes", NULL});
  assert_int_equal(r.status, 2);
  assert_true(cl_str_has_prefix(after_warnings(r.err),
                                "error: option '--loud' takes no value\n"));
  outcome_free(&r);
  free(dirs);
}

static void surplus_argument_is_usage_error(void **state)
{
  char *dirs = test_dir();
  struct outcome r;

  run_core(&r, dirs, NULL, (const char *[]){"fail", "extra", NULL});
  assert_int_equal(r.status, 2);
  assert_string_equal(after_warnings(r.err),
                      "error: unexpected argument 'extra'\n"
                      "usage: cladding fail\n");
  outcome_free(&r);
  free(dirs);
}

static void options_and_positionals_mix(void **state)
{
  char *dirs = test_dir();
  struct outcome r;

  run_core(
      &r, dirs, NULL,
      (const char *[]){"greet", "a", "--name", "bob", "-l", "--", "--b", NULL});
  assert_int_equal(r.status, 0);
  assert_true(cl_str_has_prefix(r.out, "hello bob!\narg a\narg --b\n"));
  outcome_free(&r);

  /* The last value of a repeated option wins; --name=value works too. */
  run_core(&r, dirs, NULL,
           (const char *[]){"greet", "--name=ann", "--name", "cy", NULL});
  assert_int_equal(r.status, 0);
  assert_true(cl_str_has_prefix(r.out, "hello cy\n"));
  outcome_free(&r);
  free(dirs);
}

static void handler_failure_keeps_status(void **state)
{
  char *dirs = test_dir();
  struct outcome r;

  run_core(&r, dirs, NULL, (const char *[]){"fail", NULL});
  assert_int_equal(r.status, 3);
  assert_string_equal(after_warnings(r.err), "error: something broke\n"
                                             "hint: try again\n"
                                             "broken\n");
  outcome_free(&r);
  free(dirs);
}

static void needs_project_reports_missing(void **state)
{
  char *dirs = test_dir();
  char *top = harness_mkdtemp();
  char *expected = cl_asprintf(
      "error: no .cladding directory found in %s or any parent directory\n"
      "hint: run 'cladding init' from the project directory to create one\n"
      "missing .cladding\n",
      top);
  char *above = cl_find_project_root(top);
  struct outcome r;

  /* A .cladding in a parent of the temp dir would be found instead. */
  if (above != NULL) {
    free(above);
    skip();
  }
  run_core(&r, dirs, top, (const char *[]){"where", NULL});
  assert_int_equal(r.status, 1);
  assert_string_equal(after_warnings(r.err), expected);
  assert_string_equal(r.out, "");
  outcome_free(&r);
  harness_rmtree(top);
  free(expected);
  free(top);
  free(dirs);
}

static void project_root_option_anywhere(void **state)
{
  char *dirs = test_dir();
  char *top = harness_mkdtemp();
  char *sub = cl_path_join(top, "sub");
  char *expected =
      cl_asprintf("root %s/sub/rel/.cladding\ndir %s/sub/rel\n", top, top);
  struct outcome r;

  assert_int_equal(cl_mkdir_p(sub, 0755), 0);
  /* Before the command: relative to the current directory, not checked. */
  run_core(&r, dirs, sub,
           (const char *[]){"--project-root", "rel/.cladding", "where", NULL});
  assert_int_equal(r.status, 0);
  assert_string_equal(r.out, expected);
  outcome_free(&r);

  /* Among the command's options, in the --opt=value form. */
  run_core(&r, dirs, sub,
           (const char *[]){"where", "--project-root=rel/.cladding", NULL});
  assert_int_equal(r.status, 0);
  assert_string_equal(r.out, expected);
  outcome_free(&r);

  harness_rmtree(top);
  free(expected);
  free(sub);
  free(top);
  free(dirs);
}

static void needs_podman_checks_path(void **state)
{
  char *dirs = test_dir();
  char *top = harness_mkdtemp();
  char *root = cl_path_join(top, ".cladding");
  char *saved_path = cl_xstrdup(getenv("PATH") ? getenv("PATH") : "");
  struct outcome r;

  assert_int_equal(cl_mkdir_p(root, 0755), 0);
  setenv("PATH", top, 1);
  run_core(&r, dirs, top, (const char *[]){"needs-podman", NULL});
  setenv("PATH", saved_path, 1);
  assert_int_equal(r.status, 1);
  assert_string_equal(after_warnings(r.err),
                      "missing: podman (required for cladding needs-podman)\n"
                      "missing podman\n");
  outcome_free(&r);

  harness_rmtree(top);
  free(saved_path);
  free(root);
  free(top);
  free(dirs);
}

static void needs_config_loads_it(void **state)
{
  char *dirs = test_dir();
  char *top = harness_mkdtemp();
  char *root = cl_path_join(top, ".cladding");
  char *config = cl_path_join(root, "cladding.json");
  char *expected = NULL;
  struct outcome r;

  assert_int_equal(cl_mkdir_p(root, 0755), 0);
  harness_write(config, "{\"name\": \"demo\", \"agent\": {},\n"
                        " \"mounts\": [{\"mount\": \"/data//x/\", "
                        "\"hostPath\": \"../data\", \"readOnly\": true}]}\n");
  run_core(&r, dirs, top, (const char *[]){"show-config", NULL});
  assert_int_equal(r.status, 0);
  expected = cl_asprintf(
      "name demo\n"
      "agent enabled=1 image=localhost/cladding-agent:latest volumes=6\n"
      "  %1$s/config:/opt/config:ro\n"
      "  %1$s/tools:/opt/tools:ro\n"
      "  %1$s/home:/home/user\n"
      "  %1$s/..:/home/user/workspace\n"
      "  %1$s/runtime/empty-mask:/home/user/workspace/.cladding:ro\n"
      "  %1$s/../data:/data/x:ro\n"
      "nw-sandbox enabled=0 image=localhost/cladding-sandbox:latest "
      "volumes=5\n",
      root);
  assert_true(cl_str_has_prefix(r.out, expected));
  outcome_free(&r);
  free(expected);

  /* An invalid file stops the command before its handler runs. */
  harness_write(config, "{\"name\": \"Demo\", \"agent\": {}}\n");
  run_core(&r, dirs, top, (const char *[]){"show-config", NULL});
  assert_int_equal(r.status, 1);
  assert_string_equal(r.out, "");
  expected = cl_asprintf("error: config key 'name' must be lowercase "
                         "alphanumeric ([a-z0-9]+)\n"
                         "file: %s\n"
                         "invalid name\n",
                         config);
  assert_string_equal(after_warnings(r.err), expected);
  outcome_free(&r);

  harness_rmtree(top);
  free(expected);
  free(config);
  free(root);
  free(top);
  free(dirs);
}

static void nested_project_discovery(void **state)
{
  char *dirs = test_dir();
  char *top = harness_mkdtemp();
  char *outer = cl_asprintf("%s/p/.cladding", top);
  char *mask = cl_asprintf("%s/p/src/.cladding", top);
  char *planted = cl_asprintf("%s/p/sub/.cladding", top);
  char *src = cl_asprintf("%s/p/src", top);
  char *sub = cl_asprintf("%s/p/sub", top);
  char *expected = NULL;
  struct outcome r;

  {
    char *outer_config = cl_path_join(outer, "cladding.json");
    char *planted_config = cl_path_join(planted, "cladding.json");

    harness_write(outer_config, "{}\n");
    harness_write(planted_config, "{}\n");
    free(outer_config);
    free(planted_config);
  }
  assert_int_equal(cl_mkdir_p(mask, 0755), 0);

  /* An empty .cladding below a project is a mask's mount point. */
  run_core(&r, dirs, src, (const char *[]){"where", NULL});
  assert_int_equal(r.status, 0);
  expected = cl_asprintf("root %s\ndir %s/p\n", outer, top);
  assert_string_equal(r.out, expected);
  outcome_free(&r);
  free(expected);

  /* A complete one inside a workspace is used, with a warning. */
  run_core(&r, dirs, sub, (const char *[]){"where", NULL});
  assert_int_equal(r.status, 0);
  expected = cl_asprintf("root %s\ndir %s/p/sub\n", planted, top);
  assert_string_equal(r.out, expected);
  free(expected);
  expected = cl_asprintf("warning: %s lies inside the workspace of the "
                         "project in %s, where its agent can write; make "
                         "sure you created it\n",
                         planted, outer);
  assert_string_equal(after_warnings(r.err), expected);
  outcome_free(&r);

  free(expected);

  /* A planted one below the mask's mount point is still found inside the
   * outer project's workspace. */
  {
    char *deep = cl_asprintf("%s/p/src/sub/.cladding", top);
    char *deep_config = cl_path_join(deep, "cladding.json");
    char *deep_dir = cl_asprintf("%s/p/src/sub", top);

    harness_write(deep_config, "{}\n");
    run_core(&r, dirs, deep_dir, (const char *[]){"where", NULL});
    assert_int_equal(r.status, 0);
    expected = cl_asprintf("warning: %s lies inside the workspace of the "
                           "project in %s, where its agent can write; make "
                           "sure you created it\n",
                           deep, outer);
    assert_string_equal(after_warnings(r.err), expected);
    outcome_free(&r);
    free(deep_dir);
    free(deep_config);
    free(deep);
  }

  harness_rmtree(top);
  free(expected);
  free(sub);
  free(src);
  free(planted);
  free(mask);
  free(outer);
  free(top);
  free(dirs);
}

/* Typed values are usage errors, reported before any project discovery:
 * the temp dir has no project, so a later check would say so instead. */
static void typed_values_checked_first(void **state)
{
  static const struct {
    const char *args[5];
    const char *expected;
  } cases[] = {
      {{"up", "--timeout", "0", NULL},
       "error: invalid value '0' for '--timeout': expected an integer from 1 "
       "to 3600\n"
       "usage: cladding up [-v|--verbose] [--quiet] [--timeout SECONDS]\n"},
      {{"up", "--timeout", "5s", NULL},
       "error: invalid value '5s' for '--timeout': expected an integer from 1 "
       "to 3600\n"
       "usage: cladding up [-v|--verbose] [--quiet] [--timeout SECONDS]\n"},
      {{"up", "--timeout", " 5", NULL},
       "error: invalid value ' 5' for '--timeout': expected an integer from "
       "1 to 3600\n"
       "usage: cladding up [-v|--verbose] [--quiet] [--timeout SECONDS]\n"},
      {{"up", "--timeout", "+5", NULL},
       "error: invalid value '+5' for '--timeout': expected an integer from "
       "1 to 3600\n"
       "usage: cladding up [-v|--verbose] [--quiet] [--timeout SECONDS]\n"},
      {{"reload-proxy", "--timeout=3601", NULL},
       "error: invalid value '3601' for '--timeout': expected an integer "
       "from 1 to 3600\n"
       "usage: cladding reload-proxy [--timeout SECONDS]\n"},
      {{"ps", "--format", "yaml", NULL},
       "error: invalid value 'yaml' for '--format': expected text or json\n"
       "usage: cladding ps [--format text|json]\n"},
      {{"logs", "nosuch", NULL},
       "error: invalid value 'nosuch' for 'TARGET': expected agent, proxy, "
       "bridge, nw-sandbox or fs-sandbox\n"
       "usage: cladding logs TARGET [PODMAN-LOGS-ARG]...\n"},
      {{"logs", NULL},
       "error: missing argument TARGET\n"
       "usage: cladding logs TARGET [PODMAN-LOGS-ARG]...\n"},
      {{"run-with-scissors", "--target", "agent", "true", NULL},
       "error: invalid value 'agent' for '--target': expected nw-sandbox or "
       "fs-sandbox\n"
       "usage: cladding run-with-scissors [--target nw-sandbox|fs-sandbox] "
       "[--env KEY[=VALUE]]... [--] COMMAND [ARG]...\n"},
  };
  char *dirs = harness_builddir_path("plugins");
  char *top = harness_mkdtemp();

  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const char *plugin = cl_known_command_plugin(cases[i].args[0]);
    char *module = cl_asprintf("%s/%s.la", dirs, plugin);
    bool built = harness_exists(module);
    struct outcome r;

    free(module);
    /* A build with --enable-plugins may leave this command out. */
    if (!built)
      continue;
    run_core(&r, dirs, top, cases[i].args);
    assert_int_equal(r.status, 2);
    assert_string_equal(r.err, cases[i].expected);
    assert_string_equal(r.out, "");
    outcome_free(&r);
  }
  harness_rmtree(top);
  free(top);
  free(dirs);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(no_arguments_prints_help),
      cmocka_unit_test(help_option_prints_to_stdout),
      cmocka_unit_test(version_lists_plugins),
      cmocka_unit_test(version_without_plugins),
      cmocka_unit_test(command_help_both_forms),
      cmocka_unit_test(init_help_text),
      cmocka_unit_test(help_unknown_name_is_usage_error),
      cmocka_unit_test(unknown_command_lists_available),
      cmocka_unit_test(missing_plugin_is_not_installed),
      cmocka_unit_test(init_absent_is_not_installed),
      cmocka_unit_test(unknown_option_is_usage_error),
      cmocka_unit_test(option_without_value_is_usage_error),
      cmocka_unit_test(surplus_argument_is_usage_error),
      cmocka_unit_test(options_and_positionals_mix),
      cmocka_unit_test(handler_failure_keeps_status),
      cmocka_unit_test(needs_project_reports_missing),
      cmocka_unit_test(project_root_option_anywhere),
      cmocka_unit_test(needs_podman_checks_path),
      cmocka_unit_test(needs_config_loads_it),
      cmocka_unit_test(typed_values_checked_first),
      cmocka_unit_test(nested_project_discovery),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
