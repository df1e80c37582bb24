/* Tests of `cladding init`, run through the built binary with the build
 * tree's plugins and templates. */
#include "config-host.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

static const char default_json[] =
    "{\n"
    "  \"name\": \"%s\",\n"
    "  \"agent\": {\n"
    "    \"image\": \"localhost/cladding-agent:latest\"\n"
    "  },\n"
    "  \"nw_sandbox\": {\n"
    "    \"enabled\": true,\n"
    "    \"image\": \"localhost/cladding-sandbox:latest\"\n"
    "  }\n"
    "}\n";

static const char *const template_files[] = {
    "agent/domains.lst",    "agent/host_ports.lst", "nw_sandbox/domains.lst",
    "nw_sandbox/main.rego", "nw_sandbox/curl.rego", "fs_sandbox/main.rego",
};

static char *path_in(const char *dir, const char *rel)
{
  char *out = NULL;

  assert_true(asprintf(&out, "%s/%s", dir, rel) >= 0);
  return out;
}

/* Creates `<tmp>/<name>` and returns it; `*top` is the temp dir. */
static char *make_project_dir(char **top, const char *name)
{
  char *dir;

  *top = harness_mkdtemp();
  dir = path_in(*top, name);
  assert_int_equal(mkdir(dir, 0755), 0);
  return dir;
}

static void run_init(struct run_result *r, const char *cwd,
                     const char *const *args)
{
  const char *argv[8] = {"init"};
  size_t n = 1;

  for (size_t i = 0; args != NULL && args[i] != NULL && n < 7; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  harness_run(r, cwd, NULL, argv);
}

static void assert_file_text(const char *path, const char *expected)
{
  char *text = harness_read(path);

  assert_non_null(text);
  assert_string_equal(text, expected);
  free(text);
}

static void init_creates_layout(void **state)
{
  char *top, *proj = make_project_dir(&top, "MyProject");
  char *root = path_in(proj, ".cladding");
  char *expected_out = NULL, *json = NULL;
  struct run_result r;

  run_init(&r, proj, NULL);
  assert_int_equal(r.status, 0);
  assert_string_equal(r.err, "");
  assert_true(asprintf(&expected_out,
                       "initialized: %1$s/config\n"
                       "initialized: %1$s/home\n"
                       "initialized: %1$s/tools\n"
                       "initialized: %1$s/runtime\n"
                       "initialized: %1$s/runtime/empty-mask\n"
                       "generated: %1$s/cladding.json\n",
                       root) >= 0);
  assert_string_equal(r.out, expected_out);

  {
    char *gitignore = path_in(root, ".gitignore");
    char *config = path_in(root, "cladding.json");

    assert_file_text(gitignore, "*\n");
    assert_true(asprintf(&json, default_json, "myproject") >= 0);
    assert_file_text(config, json);
    free(gitignore);
    free(config);
  }

  for (size_t i = 0; i < sizeof(template_files) / sizeof(template_files[0]);
       i++) {
    char *rel = path_in("config", template_files[i]);
    char *target = path_in(root, rel);
    char *source_rel = path_in("config-template", template_files[i]);
    char *source = harness_srcdir_path(source_rel);
    char *expected = harness_read(source);
    struct stat st;

    assert_non_null(expected);
    assert_file_text(target, expected);
    assert_int_equal(stat(target, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    free(expected);
    free(source);
    free(source_rel);
    free(target);
    free(rel);
  }
  /* init creates no tools/bin and no binary. */
  {
    char *bin = path_in(root, "tools/bin");

    assert_false(harness_exists(bin));
    free(bin);
  }

  harness_result_free(&r);
  harness_rmtree(top);
  free(json);
  free(expected_out);
  free(root);
  free(proj);
  free(top);
}

static void init_derives_name(void **state)
{
  static const struct {
    const char *dir;
    const char *name;
  } cases[] = {
      {"My-Proj_2", "myproj2"},
      {"demo", "demo"},
      {"UPPER.case", "uppercase"},
  };

  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char *top, *proj = make_project_dir(&top, cases[i].dir);
    char *config = path_in(proj, ".cladding/cladding.json");
    char *json = NULL;
    struct run_result r;

    run_init(&r, proj, NULL);
    assert_int_equal(r.status, 0);
    assert_true(asprintf(&json, default_json, cases[i].name) >= 0);
    assert_file_text(config, json);
    harness_result_free(&r);
    harness_rmtree(top);
    free(json);
    free(config);
    free(proj);
    free(top);
  }
}

static void init_symbols_only_dir_fails(void **state)
{
  char *top, *proj = make_project_dir(&top, "_-_");
  char *expected = NULL;
  struct run_result r;

  run_init(&r, proj, NULL);
  assert_int_equal(r.status, 1);
  assert_true(asprintf(&expected,
                       "error: could not derive an alphanumeric name from "
                       "directory: %s\n"
                       "could not derive name\n",
                       proj) >= 0);
  assert_string_equal(r.err, expected);
  /* Directories created by earlier steps stay. */
  {
    char *home = path_in(proj, ".cladding/home");
    char *config = path_in(proj, ".cladding/cladding.json");

    assert_true(harness_exists(home));
    assert_false(harness_exists(config));
    free(home);
    free(config);
  }
  harness_result_free(&r);
  harness_rmtree(top);
  free(expected);
  free(proj);
  free(top);
}

static void init_name_argument(void **state)
{
  char *top, *proj = make_project_dir(&top, "x-y");
  char *config = path_in(proj, ".cladding/cladding.json");
  char *json = NULL;
  struct run_result r;

  run_init(&r, proj, (const char *[]){"foo-bar", NULL});
  assert_int_equal(r.status, 1);
  assert_string_equal(r.err, "error: init name must be alphanumeric "
                             "([a-zA-Z0-9]+)\n"
                             "invalid init name\n");
  assert_false(harness_exists(config));
  harness_result_free(&r);

  run_init(&r, proj, (const char *[]){"Foo", NULL});
  assert_int_equal(r.status, 0);
  assert_true(asprintf(&json, default_json, "foo") >= 0);
  assert_file_text(config, json);
  harness_result_free(&r);

  /* With cladding.json present, NAME is not validated, only ignored. */
  run_init(&r, proj, (const char *[]){"foo-bar", NULL});
  assert_int_equal(r.status, 0);
  {
    char *warning = NULL;

    assert_true(asprintf(&warning,
                         "warning: NAME 'foo-bar' ignored because %s already "
                         "exists\n",
                         config) >= 0);
    assert_string_equal(r.err, warning);
    free(warning);
  }
  assert_file_text(config, json);
  harness_result_free(&r);

  harness_rmtree(top);
  free(json);
  free(config);
  free(proj);
  free(top);
}

static void second_init_keeps_and_restores(void **state)
{
  char *top, *proj = make_project_dir(&top, "again");
  char *root = path_in(proj, ".cladding");
  char *domains = path_in(root, "config/agent/domains.lst");
  char *curl = path_in(root, "config/nw_sandbox/curl.rego");
  char *gitignore = path_in(root, ".gitignore");
  char *expected_out = NULL;
  struct run_result r;

  run_init(&r, proj, NULL);
  assert_int_equal(r.status, 0);
  harness_result_free(&r);

  harness_write(domains, "api.example.org\n");
  assert_int_equal(unlink(curl), 0);
  assert_int_equal(unlink(gitignore), 0);

  run_init(&r, proj, NULL);
  assert_int_equal(r.status, 0);
  assert_string_equal(r.err, "");
  assert_true(asprintf(&expected_out,
                       "config already exists: %1$s/config\n"
                       "home already exists: %1$s/home\n"
                       "tools already exists: %1$s/tools\n"
                       "runtime already exists: %1$s/runtime\n"
                       "empty-mask already exists: %1$s/runtime/empty-mask\n"
                       "cladding config already exists: %1$s/cladding.json\n",
                       root) >= 0);
  assert_string_equal(r.out, expected_out);
  /* The edit survives, the deleted template is back, and .gitignore is
   * written only when init creates .cladding. */
  assert_file_text(domains, "api.example.org\n");
  assert_true(harness_exists(curl));
  assert_false(harness_exists(gitignore));
  harness_result_free(&r);

  harness_rmtree(top);
  free(expected_out);
  free(gitignore);
  free(curl);
  free(domains);
  free(root);
  free(proj);
  free(top);
}

static void init_in_subdirectory_names_root(void **state)
{
  char *top, *proj = make_project_dir(&top, "outer");
  char *sub = path_in(proj, "src/module");
  char *root = path_in(proj, ".cladding");
  char *first_line = NULL;
  struct run_result r;

  run_init(&r, proj, NULL);
  harness_result_free(&r);
  {
    char *src = path_in(proj, "src");

    assert_int_equal(mkdir(src, 0755), 0);
    free(src);
  }
  assert_int_equal(mkdir(sub, 0755), 0);

  run_init(&r, sub, NULL);
  assert_int_equal(r.status, 0);
  assert_true(asprintf(&first_line, "project directory: %s\n", root) >= 0);
  assert_true(strncmp(r.out, first_line, strlen(first_line)) == 0);
  {
    char *stray = path_in(sub, ".cladding");

    assert_false(harness_exists(stray));
    free(stray);
  }
  harness_result_free(&r);

  harness_rmtree(top);
  free(first_line);
  free(root);
  free(sub);
  free(proj);
  free(top);
}

static void init_rejects_file_root(void **state)
{
  char *top, *proj = make_project_dir(&top, "filecase");
  char *root = path_in(proj, ".cladding");
  char *expected = NULL;
  struct run_result r;

  harness_write(root, "I am a file\n");
  run_init(&r, proj, NULL);
  assert_int_equal(r.status, 1);
  assert_true(asprintf(&expected,
                       "error: .cladding path exists but is not a directory: "
                       "%s\n"
                       "invalid .cladding path\n",
                       root) >= 0);
  assert_string_equal(r.err, expected);
  assert_file_text(root, "I am a file\n");
  harness_result_free(&r);

  harness_rmtree(top);
  free(expected);
  free(root);
  free(proj);
  free(top);
}

static void dangling_config_link_exists(void **state)
{
  char *top, *proj = make_project_dir(&top, "linked");
  char *root = path_in(proj, ".cladding");
  char *config = path_in(root, "config");
  char *expected = NULL;
  struct run_result r;

  assert_int_equal(mkdir(root, 0755), 0);
  assert_int_equal(symlink("/nonexistent/cladding-config", config), 0);
  run_init(&r, proj, NULL);
  assert_true(asprintf(&expected, "config already exists: %s\n", config) >= 0);
  assert_true(strncmp(r.out, expected, strlen(expected)) == 0);
  /* The templates cannot go into a dangling link: a clear failure. */
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "hint: create or relink "));
  harness_result_free(&r);

  harness_rmtree(top);
  free(expected);
  free(config);
  free(root);
  free(proj);
  free(top);
}

static void missing_templates_is_incomplete(void **state)
{
  char *top, *proj = make_project_dir(&top, "nodata");
  char *env_data = NULL;
  struct run_result r;

  assert_true(asprintf(&env_data, "CLADDING_DATA_DIR=%s/none", top) >= 0);
  harness_run(&r, proj, (const char *[]){env_data, NULL},
              (const char *[]){"init", NULL});
  assert_int_equal(r.status, 1);
  {
    char *expected = NULL;

    assert_true(asprintf(&expected,
                         "error: missing installed file %s/none/"
                         "config-template\n"
                         "hint: reinstall cladding, or set CLADDING_DATA_DIR "
                         "and CLADDING_LIBEXEC_DIR\n"
                         "incomplete installation\n",
                         top) >= 0);
    assert_string_equal(r.err, expected);
    free(expected);
  }
  harness_result_free(&r);

  harness_rmtree(top);
  free(env_data);
  free(proj);
  free(top);
}

static void init_surplus_argument(void **state)
{
  char *top, *proj = make_project_dir(&top, "surplus");
  struct run_result r;

  run_init(&r, proj, (const char *[]){"a", "b", NULL});
  assert_int_equal(r.status, 2);
  assert_string_equal(r.err, "error: unexpected argument 'b'\n"
                             "usage: cladding init [NAME]\n");
  harness_result_free(&r);

  run_init(&r, proj, (const char *[]){"--update-scripts", NULL});
  assert_int_equal(r.status, 2);
  assert_string_equal(r.err, "error: unknown option '--update-scripts'\n"
                             "usage: cladding init [NAME]\n");
  {
    char *root = path_in(proj, ".cladding");

    assert_false(harness_exists(root));
    free(root);
  }
  harness_result_free(&r);
  harness_rmtree(top);
  free(proj);
  free(top);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(init_creates_layout),
      cmocka_unit_test(init_derives_name),
      cmocka_unit_test(init_symbols_only_dir_fails),
      cmocka_unit_test(init_name_argument),
      cmocka_unit_test(second_init_keeps_and_restores),
      cmocka_unit_test(init_in_subdirectory_names_root),
      cmocka_unit_test(init_rejects_file_root),
      cmocka_unit_test(dangling_config_link_exists),
      cmocka_unit_test(missing_templates_is_incomplete),
      cmocka_unit_test(init_surplus_argument),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
