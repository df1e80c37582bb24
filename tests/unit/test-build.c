/* Flow tests of `cladding build` against the fake podman of tests/cli:
 * the exact podman argv, the private build context, skip messages and the
 * installation of the helpers. */
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

static const char *const tool_names[] = {
    "mcp-run",           "run-remote",        "cladding-bridge",
    "run-in-nw-sandbox", "run-in-fs-sandbox",
};

/* A project, fake installation and fake podman in one temp dir. */
struct fixture {
  char *top;
  char *proj;
  char *root;
  char *log;
  char *env_path, *env_log, *env_data, *env_libexec, *env_tmp;
};

static char *fmt(const char *format, ...) __attribute__((format(printf, 1, 2)));

static char *fmt(const char *format, ...)
{
  char *out = NULL;
  va_list ap;

  va_start(ap, format);
  assert_true(vasprintf(&out, format, ap) >= 0);
  va_end(ap);
  return out;
}

static void write_config(struct fixture *f, const char *json)
{
  char *path = fmt("%s/cladding.json", f->root);

  harness_write(path, json);
  free(path);
}

static int setup(void **state)
{
  struct fixture *f = calloc(1, sizeof(*f));
  char *fake = harness_srcdir_path("tests/cli/fake-podman");
  char *link;

  f->top = harness_mkdtemp();
  f->proj = fmt("%s/proj", f->top);
  f->root = fmt("%s/.cladding", f->proj);
  f->log = fmt("%s/podman.log", f->top);

  write_config(f, "{\"name\": \"demo\", \"agent\": {}, \"nw_sandbox\": {}}\n");
  for (size_t i = 0; i < 3; i++) {
    static const char *const files[] = {"agent", "sandbox", "proxy"};
    char *path = fmt("%s/data/images/%s.Containerfile", f->top, files[i]);
    char *text = fmt("# %s image\nFROM scratch\n", files[i]);

    harness_write(path, text);
    free(path);
    free(text);
  }
  for (size_t i = 0; i < sizeof(tool_names) / sizeof(tool_names[0]); i++) {
    char *path = fmt("%s/libexec/%s", f->top, tool_names[i]);
    char *text = fmt("binary of %s\n", tool_names[i]);

    harness_write(path, text);
    free(path);
    free(text);
  }
  link = fmt("%s/bin/podman", f->top);
  harness_write(link, "");
  unlink(link);
  assert_int_equal(symlink(fake, link), 0);
  {
    char *tmp = fmt("%s/tmp", f->top);

    assert_int_equal(mkdir(tmp, 0700), 0);
    free(tmp);
  }

  f->env_path = fmt("PATH=%s/bin:%s", f->top, getenv("PATH"));
  f->env_log = fmt("FAKE_PODMAN_LOG=%s", f->log);
  f->env_data = fmt("CLADDING_DATA_DIR=%s/data", f->top);
  f->env_libexec = fmt("CLADDING_LIBEXEC_DIR=%s/libexec", f->top);
  f->env_tmp = fmt("TMPDIR=%s/tmp", f->top);
  free(link);
  free(fake);
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  struct fixture *f = *state;

  harness_rmtree(f->top);
  free(f->top);
  free(f->proj);
  free(f->root);
  free(f->log);
  free(f->env_path);
  free(f->env_log);
  free(f->env_data);
  free(f->env_libexec);
  free(f->env_tmp);
  free(f);
  return 0;
}

static void run_build(struct fixture *f, struct run_result *r,
                      const char *const *args)
{
  const char *env[] = {f->env_path,    f->env_log, f->env_data,
                       f->env_libexec, f->env_tmp, NULL};
  const char *argv[8] = {"build"};
  size_t n = 1;

  for (size_t i = 0; args && args[i] && n < 7; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  harness_run(r, f->proj, env, argv);
}

static char *expected_build(const char *target, const char *file,
                            const char *extra)
{
  return fmt("'podman' 'build' '--build-arg' 'UID=%u' '--build-arg' 'GID=%u'"
             "%s '-t' '%s' '-f' 'CTX/Containerfile' 'CTX'\n"
             "context: Containerfile \n"
             "containerfile: # %s image\n",
             (unsigned)getuid(), (unsigned)getgid(), extra, target, file);
}

static void default_config_builds_three(void **state)
{
  struct fixture *f = *state;
  char *agent = expected_build("localhost/cladding-agent:latest", "agent", "");
  char *sandbox =
      expected_build("localhost/cladding-sandbox:latest", "sandbox", "");
  char *proxy = expected_build("localhost/cladding-proxy:latest", "proxy", "");
  char *expected = fmt("%s%s%s", agent, sandbox, proxy);
  char *log;
  struct run_result r;

  run_build(f, &r, NULL);
  assert_int_equal(r.status, 0);
  assert_string_equal(r.out, "");
  log = harness_read(f->log);
  assert_non_null(log);
  assert_string_equal(log, expected);
  harness_result_free(&r);
  free(log);
  free(expected);
  free(agent);
  free(sandbox);
  free(proxy);
}

static void contexts_are_removed(void **state)
{
  struct fixture *f = *state;
  char *contexts_path = fmt("%s.contexts", f->log);
  char *contexts, *line, *save = NULL;
  char *tmp_prefix = fmt("%s/tmp/cladding-build-", f->top);
  struct run_result r;
  int count = 0;

  run_build(f, &r, NULL);
  assert_int_equal(r.status, 0);
  contexts = harness_read(contexts_path);
  assert_non_null(contexts);
  for (line = strtok_r(contexts, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    /* Each context lives under $TMPDIR and is gone after the build. */
    assert_true(strncmp(line, tmp_prefix, strlen(tmp_prefix)) == 0);
    assert_false(harness_exists(line));
    count++;
  }
  assert_int_equal(count, 3);
  harness_result_free(&r);
  free(tmp_prefix);
  free(contexts);
  free(contexts_path);
}

static void fs_sandbox_already_built(void **state)
{
  struct fixture *f = *state;
  struct run_result r;

  write_config(f, "{\"name\": \"demo\", \"agent\": {}, \"nw_sandbox\": {},"
                  " \"fs_sandbox\": {}}\n");
  run_build(f, &r, NULL);
  assert_int_equal(r.status, 0);
  assert_string_equal(r.out, "skip: fs sandbox image already built "
                             "(localhost/cladding-sandbox:latest)\n");
  harness_result_free(&r);
}

static void custom_images_not_built(void **state)
{
  struct fixture *f = *state;
  char *log, *proxy;
  struct run_result r;

  write_config(f, "{\"name\": \"demo\", \"agent\": {\"image\": \"my/agent\"},"
                  " \"nw_sandbox\": {\"image\": \"my/agent\"}}\n");
  run_build(f, &r, NULL);
  assert_int_equal(r.status, 0);
  assert_string_equal(r.out,
                      "skip: not building agent image (config image is "
                      "my/agent, build target is "
                      "localhost/cladding-agent:latest)\n"
                      "skip: not building nw sandbox image (config image is "
                      "my/agent, build target is "
                      "localhost/cladding-sandbox:latest)\n");
  log = harness_read(f->log);
  proxy = expected_build("localhost/cladding-proxy:latest", "proxy", "");
  assert_string_equal(log, proxy);
  harness_result_free(&r);
  free(proxy);
  free(log);
}

static void base_option_overrides_config(void **state)
{
  struct fixture *f = *state;
  char *log;
  struct run_result r;

  write_config(f, "{\"name\": \"demo\", \"agent\": {},"
                  " \"images\": {\"base\": \"localhost/from-config\"}}\n");
  run_build(f, &r, NULL);
  assert_int_equal(r.status, 0);
  log = harness_read(f->log);
  assert_non_null(strstr(log, "'--build-arg' 'BASE=localhost/from-config' "
                              "'-t' 'localhost/cladding-agent:latest'"));
  harness_result_free(&r);
  free(log);
  unlink(f->log);

  run_build(f, &r, (const char *[]){"--base", "localhost/cli-base", NULL});
  assert_int_equal(r.status, 0);
  log = harness_read(f->log);
  assert_non_null(strstr(log, "'BASE=localhost/cli-base'"));
  assert_null(strstr(log, "from-config"));
  harness_result_free(&r);
  free(log);
}

static void agents_option_reaches_agent_only(void **state)
{
  struct fixture *f = *state;
  char *log, *agent;
  struct run_result r;

  run_build(f, &r, (const char *[]){"--agents", "a,@b/c", NULL});
  assert_int_equal(r.status, 0);
  log = harness_read(f->log);
  agent = expected_build("localhost/cladding-agent:latest", "agent",
                         " '--build-arg' 'AGENTS=a @b/c'");
  assert_true(strncmp(log, agent, strlen(agent)) == 0);
  /* Only one AGENTS argument: the sandbox and proxy builds get none. */
  assert_null(strstr(strstr(log, "AGENTS") + 1, "AGENTS"));
  harness_result_free(&r);
  free(agent);
  free(log);
  unlink(f->log);

  run_build(f, &r, (const char *[]){"--agents", "none", NULL});
  assert_int_equal(r.status, 0);
  log = harness_read(f->log);
  assert_non_null(strstr(log, "'--build-arg' 'AGENTS=' '-t'"));
  harness_result_free(&r);
  free(log);
}

static void failed_build_stops(void **state)
{
  struct fixture *f = *state;
  char *dir = fmt("%s/canned", f->top);
  char *env_dir = fmt("FAKE_PODMAN_DIR=%s", dir);
  const char *env[] = {f->env_path, f->env_log, f->env_data, f->env_libexec,
                       f->env_tmp,  env_dir,    NULL};
  char *status_file = fmt("%s/build.status", dir);
  char *log;
  struct run_result r;

  harness_write(status_file, "3\n");
  harness_run(&r, f->proj, env, (const char *[]){"build", NULL});
  assert_int_equal(r.status, 3);
  assert_string_equal(r.err, "error: podman build failed (exit code 3)\n"
                             "podman build failed (exit code 3)\n");
  log = harness_read(f->log);
  /* The first build failed, so no other image was tried. */
  assert_null(strstr(log, "cladding-sandbox"));
  harness_result_free(&r);
  free(log);
  free(status_file);
  free(env_dir);
  free(dir);
}

static void tools_installed_by_rename(void **state)
{
  struct fixture *f = *state;
  struct run_result r;
  ino_t before;
  struct stat st;
  char *first = fmt("%s/tools/bin/mcp-run", f->root);

  run_build(f, &r, NULL);
  assert_int_equal(r.status, 0);
  harness_result_free(&r);
  for (size_t i = 0; i < sizeof(tool_names) / sizeof(tool_names[0]); i++) {
    char *path = fmt("%s/tools/bin/%s", f->root, tool_names[i]);
    char *expected = fmt("binary of %s\n", tool_names[i]);
    char *text = harness_read(path);

    assert_non_null(text);
    assert_string_equal(text, expected);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0755);
    free(text);
    free(expected);
    free(path);
  }

  /* A second build replaces each file with a new inode. */
  assert_int_equal(stat(first, &st), 0);
  before = st.st_ino;
  run_build(f, &r, NULL);
  assert_int_equal(r.status, 0);
  assert_int_equal(stat(first, &st), 0);
  assert_true(st.st_ino != before);
  harness_result_free(&r);
  free(first);
}

static void missing_helper_is_incomplete(void **state)
{
  struct fixture *f = *state;
  char *path = fmt("%s/libexec/run-remote", f->top);
  char *expected = fmt("error: missing installed file %s\n"
                       "hint: reinstall cladding, or set CLADDING_DATA_DIR "
                       "and CLADDING_LIBEXEC_DIR\n"
                       "incomplete installation\n",
                       path);
  struct run_result r;

  assert_int_equal(unlink(path), 0);
  run_build(f, &r, NULL);
  assert_int_equal(r.status, 1);
  assert_string_equal(r.err, expected);
  assert_false(harness_exists(f->log));
  harness_result_free(&r);
  free(expected);
  free(path);
}

static void broken_tools_link(void **state)
{
  struct fixture *f = *state;
  char *tools = fmt("%s/tools", f->root);
  char *expected = fmt("missing: tools (broken symlink at %s)\n"
                       "hint: create or relink %s\n"
                       "missing tools\n",
                       tools, tools);
  struct run_result r;

  assert_int_equal(symlink("/nonexistent/cladding-tools", tools), 0);
  run_build(f, &r, NULL);
  assert_int_equal(r.status, 1);
  assert_string_equal(r.err, expected);
  harness_result_free(&r);
  free(expected);
  free(tools);
}

static void empty_agents_is_usage_error(void **state)
{
  struct fixture *f = *state;
  struct run_result r;

  run_build(f, &r, (const char *[]){"--agents", "", NULL});
  assert_int_equal(r.status, 2);
  assert_string_equal(r.err,
                      "error: invalid value '' for '--agents': expected a "
                      "comma-separated list of npm packages, or 'none'\n"
                      "usage: cladding build [--base IMAGE] [--agents "
                      "LIST|none]\n");
  harness_result_free(&r);
}

#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
  const struct CMUnitTest tests[] = {
      TEST(default_config_builds_three),
      TEST(contexts_are_removed),
      TEST(fs_sandbox_already_built),
      TEST(custom_images_not_built),
      TEST(base_option_overrides_config),
      TEST(agents_option_reaches_agent_only),
      TEST(failed_build_stops),
      TEST(tools_installed_by_rename),
      TEST(missing_helper_is_incomplete),
      TEST(broken_tools_link),
      TEST(empty_agents_is_usage_error),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
