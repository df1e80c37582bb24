/* Unit tests of the inventory: parsing the podman listings, root matching,
 * project state and its messages, `ps` output, the removal list of `down`
 * and the missing-resource stderr test.  JSON texts use ' for ".  In them,
 * @ROOT@ is the project's ROOT, @LINK@ the same ROOT through a symbolic
 * link, @OTHER@ another existing ROOT and @DELETED@ a ROOT that does not
 * exist. */
#include "config-host.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "context.h"
#include "inventory.h"
#include "testutil.h"
#include "util.h"

struct fixture {
  char *tmp;
  char *root;         /* TMP/proj/.cladding */
  char *canonical;    /* realpath of root */
  char *link_root;    /* TMP/link/.cladding, TMP/link -> TMP/proj */
  char *other;        /* TMP/other/.cladding */
  char *deleted_root; /* TMP/gone/.cladding, never created */
  struct cl_inventory inv;
  struct cl_error err;
  struct cl_test_capture capture;
  struct cl_project_status status;
};

static int setup(void **state)
{
  struct fixture *f = cl_xcalloc(1, sizeof(*f));
  cleanup_free char *proj = NULL;
  cleanup_free char *link_dir = NULL;

  f->tmp = cl_test_mkdtemp();
  cl_test_mkdir(f->tmp, "proj/.cladding");
  cl_test_mkdir(f->tmp, "other/.cladding");
  proj = cl_path_join(f->tmp, "proj");
  link_dir = cl_path_join(f->tmp, "link");
  if (symlink(proj, link_dir) < 0)
    fail_msg("symlink %s", link_dir);

  f->root = cl_path_join(f->tmp, "proj/.cladding");
  f->canonical = realpath(f->root, NULL);
  f->link_root = cl_path_join(f->tmp, "link/.cladding");
  f->other = cl_path_join(f->tmp, "other/.cladding");
  f->deleted_root = cl_path_join(f->tmp, "gone/.cladding");
  assert_non_null(f->canonical);
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  struct fixture *f = *state;

  cl_project_status_free(&f->status);
  cl_inventory_free(&f->inv);
  cl_error_clear(&f->err);
  cl_test_capture_free(&f->capture);
  cl_test_rmtree(f->tmp);
  free(f->tmp);
  free(f->root);
  free(f->canonical);
  free(f->link_root);
  free(f->other);
  free(f->deleted_root);
  free(f);
  return 0;
}

/* Replaces ' with " and the root placeholders with their paths. */
static char *expand(const struct fixture *f, const char *text)
{
  const char *const replacements[][2] = {
      {"'", "\""},
      {"@ROOT@", f->root},
      {"@LINK@", f->link_root},
      {"@OTHER@", f->other},
      {"@DELETED@", f->deleted_root},
  };
  char *result = cl_xstrdup(text);

  for (size_t i = 0; i < sizeof(replacements) / sizeof(replacements[0]); i++) {
    char *next =
        cl_test_replace(result, replacements[i][0], replacements[i][1]);

    free(result);
    result = next;
  }
  return result;
}

/* Parses both listings into f->inv, taking NULL as "[]". */
static void parse_ok(struct fixture *f, const char *containers,
                     const char *pods)
{
  cleanup_free char *containers_json =
      expand(f, containers ? containers : "[]");
  cleanup_free char *pods_json = expand(f, pods ? pods : "[]");

  cl_inventory_free(&f->inv);
  assert_int_equal(
      cl_inventory_parse_containers(&f->inv, containers_json, &f->err), 0);
  assert_int_equal(cl_inventory_parse_pods(&f->inv, pods_json, &f->err), 0);
  assert_null(f->err.message);
}

/* One labelled container or pod.  For a pod, `state` is its status. */
struct row {
  const char *project;
  const char *name;
  const char *state;
  const char *root;
};

/* Renders rows, up to one whose name is NULL, as a podman listing with
 * object labels. */
static char *listing(const struct row *rows, bool pods)
{
  char *json = cl_xstrdup("[");

  for (size_t i = 0; rows[i].name; i++) {
    char *next = cl_asprintf(
        "%s%s{'%s': %s'%s'%s, '%s': '%s', 'Labels': {'app': 'x', "
        "'cladding': '%s', 'project_root': '%s'}}",
        json, i ? ", " : "", pods ? "Name" : "Names", pods ? "" : "[",
        rows[i].name, pods ? "" : "]", pods ? "Status" : "State", rows[i].state,
        rows[i].project, rows[i].root);

    free(json);
    json = next;
  }
  {
    char *closed = cl_asprintf("%s]", json);

    free(json);
    return closed;
  }
}

static const struct row no_rows[] = {{NULL, NULL, NULL, NULL}};

/* Parses containers and pods given as rows into f->inv. */
static void parse_rows(struct fixture *f, const struct row *containers,
                       const struct row *pods)
{
  cleanup_free char *containers_json = listing(containers, false);
  cleanup_free char *pods_json = listing(pods, true);

  parse_ok(f, containers_json, pods_json);
}

#define END                                                                    \
  {                                                                            \
    NULL, NULL, NULL, NULL                                                     \
  }

/* --- parsing --- */

static void test_parse_object_labels(void **state)
{
  struct fixture *f = *state;

  /* The shape of `podman ps -a --format json` from Podman 4.3.1, with the
   * pod's infra container, which carries the pod's labels. */
  parse_ok(f,
           "[{'AutoRemove': false, 'Command': null, 'Exited': false,"
           " 'Id': 'aaa', 'Image': 'localhost/cladding-agent:latest',"
           " 'IsInfra': false, 'Labels': {'app': 'agent', 'cladding': 'demo',"
           " 'io.buildah.version': '1.28.2', 'project_root': '@ROOT@'},"
           " 'Mounts': [], 'Names': ['demo-agent-instance'], 'Pod': '',"
           " 'State': 'running', 'Status': 'Up 2 minutes'},"
           " {'Id': 'bbb', 'IsInfra': true, 'Labels': {'app': 'proxy',"
           " 'cladding': 'demo', 'project_root': '@ROOT@'},"
           " 'Names': ['0123456789ab-infra'], 'State': 'running'},"
           " {'Names': ['unlabelled'], 'State': 'running', 'Labels': null},"
           " {'Names': ['no-root'], 'State': 'running',"
           " 'Labels': {'cladding': 'demo'}},"
           " {'Names': ['no-name'], 'State': 'running',"
           " 'Labels': {'project_root': '/x'}},"
           " {'Names': [], 'State': 'running',"
           " 'Labels': {'cladding': 'demo', 'project_root': '/x'}},"
           " {'Names': ['no-state'], 'Labels': {'cladding': 'demo',"
           " 'project_root': '/x'}}]",
           NULL);

  assert_int_equal(f->inv.container_count, 2);
  assert_string_equal(f->inv.containers[0].name, "demo-agent-instance");
  assert_string_equal(f->inv.containers[0].state, "running");
  assert_string_equal(f->inv.containers[0].project, "demo");
  assert_string_equal(f->inv.containers[0].root, f->root);
  assert_string_equal(f->inv.containers[0].app, "agent");
  assert_string_equal(f->inv.containers[1].name, "no-state");
  assert_string_equal(f->inv.containers[1].state, "unknown");
  assert_null(f->inv.containers[1].app);
}

static void test_parse_string_labels(void **state)
{
  struct fixture *f = *state;

  parse_ok(f,
           "[{'Names': ['demo-agent-instance'], 'State': 'exited',"
           " 'Labels': 'app=agent, cladding=demo, project_root=@ROOT@'},"
           " {'Names': ['odd'], 'State': 'created',"
           " 'Labels': ' =x,cladding= ,  cladding = web ,empty=,"
           "noequals, project_root=/a=b/.cladding ,'},"
           " {'Names': ['dropped'], 'State': 'running',"
           " 'Labels': 'cladding=, project_root=/x'}]",
           "[{'Name': 'demo-proxy', 'Status': 'Running',"
           " 'Labels': 'cladding=demo,project_root=@ROOT@'}]");

  assert_int_equal(f->inv.container_count, 2);
  assert_string_equal(f->inv.containers[0].project, "demo");
  assert_string_equal(f->inv.containers[0].root, f->root);
  assert_string_equal(f->inv.containers[0].app, "agent");
  assert_string_equal(f->inv.containers[0].state, "exited");
  /* Split at the first '=', parts trimmed, empty keys and values dropped. */
  assert_string_equal(f->inv.containers[1].name, "odd");
  assert_string_equal(f->inv.containers[1].project, "web");
  assert_string_equal(f->inv.containers[1].root, "/a=b/.cladding");
  assert_int_equal(f->inv.pod_count, 1);
  assert_string_equal(f->inv.pods[0].project, "demo");
  assert_string_equal(f->inv.pods[0].root, f->root);
}

static void test_parse_pods(void **state)
{
  struct fixture *f = *state;

  parse_ok(f, NULL,
           "[{'Cgroup': '/libpod_parent', 'Containers': [{'Id': 'x',"
           " 'Names': 'abc-infra', 'Status': 'running'}], 'Id': 'bb6d',"
           " 'InfraId': 'x', 'Name': 'demo-proxy', 'Namespace': '',"
           " 'Networks': ['podman'], 'Status': 'Degraded',"
           " 'Labels': {'app': 'proxy', 'cladding': 'demo',"
           " 'project_root': '@ROOT@'}},"
           " {'Name': 'nostatus', 'Labels': {'cladding': 'demo',"
           " 'project_root': '/x'}},"
           " {'Name': 'foreign', 'Status': 'Running', 'Labels': {}},"
           " {'Status': 'Running', 'Labels': {'cladding': 'demo',"
           " 'project_root': '/x'}}]");

  assert_int_equal(f->inv.container_count, 0);
  assert_int_equal(f->inv.pod_count, 2);
  assert_string_equal(f->inv.pods[0].name, "demo-proxy");
  assert_string_equal(f->inv.pods[0].status, "Degraded");
  assert_string_equal(f->inv.pods[0].project, "demo");
  assert_string_equal(f->inv.pods[0].root, f->root);
  assert_string_equal(f->inv.pods[1].name, "nostatus");
  assert_string_equal(f->inv.pods[1].status, "unknown");
}

static void test_parse_not_array(void **state)
{
  struct fixture *f = *state;
  static const char *const texts[] = {
      "{}", "null", "'x'", "3", "", " \n", "[1, 'x', null, []]"};

  for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
    cleanup_free char *json = expand(f, texts[i]);

    assert_int_equal(cl_inventory_parse_containers(&f->inv, json, &f->err), 0);
    assert_int_equal(cl_inventory_parse_pods(&f->inv, json, &f->err), 0);
    assert_int_equal(f->inv.container_count, 0);
    assert_int_equal(f->inv.pod_count, 0);
    assert_null(f->err.message);
  }
}

static void test_parse_invalid(void **state)
{
  struct fixture *f = *state;

  assert_int_equal(cl_inventory_parse_containers(&f->inv, "[{", &f->err), -1);
  assert_string_equal(f->err.message, "failed to parse podman ps json output");
  assert_int_equal(f->err.status, 1);
  cl_error_clear(&f->err);

  assert_int_equal(
      cl_inventory_parse_pods(&f->inv, "Error: something\n", &f->err), -1);
  assert_string_equal(f->err.message,
                      "failed to parse podman pod ps json output");
  assert_int_equal(f->inv.container_count, 0);
  assert_int_equal(f->inv.pod_count, 0);
}

static void test_listing_argv(void **state)
{
  cleanup_free char *ps = cl_shell_quote_argv(cl_inventory_ps_argv);
  cleanup_free char *pod_ps = cl_shell_quote_argv(cl_inventory_pod_ps_argv);

  (void)state;
  assert_string_equal(ps, "podman ps -a --filter label=cladding --format json");
  assert_string_equal(pod_ps,
                      "podman pod ps --filter label=cladding --format json");
}

/* --- root matching --- */

static void test_root_matches_symlink(void **state)
{
  struct fixture *f = *state;
  cleanup_free char *canonical = cl_canonical_root(f->link_root);
  cleanup_free char *dotted = cl_asprintf("%s/../../proj/.cladding", f->other);

  assert_string_equal(canonical, f->canonical);
  assert_true(cl_root_matches(f->root, f->canonical));
  assert_true(cl_root_matches(f->link_root, f->canonical));
  assert_true(cl_root_matches(dotted, f->canonical));
  assert_false(cl_root_matches(f->other, f->canonical));
}

static void test_root_matches_deleted(void **state)
{
  struct fixture *f = *state;
  cleanup_free char *canonical = cl_canonical_root(f->deleted_root);
  cleanup_free char *respelled = cl_asprintf("%s/", f->deleted_root);

  /* Neither path exists, so both sides stay as written. */
  assert_string_equal(canonical, f->deleted_root);
  assert_true(cl_root_matches(f->deleted_root, canonical));
  assert_false(cl_root_matches(respelled, canonical));
  assert_false(cl_root_matches(f->root, canonical));
}

static void test_find_container(void **state)
{
  struct fixture *f = *state;
  const struct cl_inv_container *c;
  const struct row containers[] = {
      {"demo", "demo-agent-instance", "exited", "@OTHER@"},
      {"demo", "demo-agent-instance", "running", "@LINK@"},
      END,
  };

  parse_rows(f, containers, no_rows);
  c = cl_inventory_find_container(&f->inv, "demo-agent-instance", f->canonical);
  assert_non_null(c);
  assert_string_equal(c->state, "running");
  assert_null(
      cl_inventory_find_container(&f->inv, "demo-proxy-bridge", f->canonical));
}

/* --- project state --- */

/* The containers of a running project with the nw-sandbox, at `root`. */
#define RUNNING_DEMO(root)                                                     \
  {"demo", "demo-proxy-instance", "running", root},                            \
      {"demo", "demo-proxy-bridge", "running", root},                          \
      {"demo", "demo-agent-instance", "running", root},                        \
  {                                                                            \
    "demo", "demo-nw-sandbox-instance", "running", root                        \
  }

static const struct row demo_pod[] = {
    {"demo", "demo-proxy", "Running", "@ROOT@"},
    END,
};

static void resolve(struct fixture *f)
{
  struct cl_strv expected = {0};

  cl_strv_push(&expected, "demo-proxy-instance");
  cl_strv_push(&expected, "demo-proxy-bridge");
  cl_strv_push(&expected, "demo-agent-instance");
  cl_strv_push(&expected, "demo-nw-sandbox-instance");
  cl_project_status_free(&f->status);
  cl_project_status_resolve(&f->inv, "demo", f->canonical, &expected,
                            &f->status);
  cl_strv_free(&expected);
}

static void expect_states(const struct fixture *f, const char *const *states)
{
  assert_int_equal(f->status.expected.count, 4);
  assert_int_equal(f->status.expected_states.count, 4);
  for (size_t i = 0; i < 4; i++)
    assert_string_equal(f->status.expected_states.items[i], states[i]);
}

static void test_state_running(void **state)
{
  struct fixture *f = *state;
  static const char *const states[] = {"running", "running", "running",
                                       "running"};
  const struct row containers[] = {RUNNING_DEMO("@ROOT@"), END};

  parse_rows(f, containers, demo_pod);
  resolve(f);
  assert_int_equal(f->status.state, CL_PROJECT_RUNNING);
  expect_states(f, states);
  assert_string_equal(f->status.canonical_root, f->canonical);
  assert_int_equal(f->status.other_roots.count, 0);
}

static void test_state_running_through_symlink(void **state)
{
  struct fixture *f = *state;
  const struct row containers[] = {RUNNING_DEMO("@LINK@"), END};
  const struct row pods[] = {{"demo", "demo-proxy", "Running", "@LINK@"}, END};

  /* Started through the link, checked from the real path. */
  parse_rows(f, containers, pods);
  resolve(f);
  assert_int_equal(f->status.state, CL_PROJECT_RUNNING);
}

static void test_state_running_with_leftover(void **state)
{
  struct fixture *f = *state;
  const struct row containers[] = {
      RUNNING_DEMO("@ROOT@"),
      {"demo", "demo-fs-sandbox-instance", "running", "@ROOT@"},
      END,
  };

  /* An fs-sandbox disabled after `up` still runs, next to every expected
   * container. */
  parse_rows(f, containers, demo_pod);
  resolve(f);
  assert_int_equal(f->status.state, CL_PROJECT_RUNNING);
}

static void test_state_stopped(void **state)
{
  struct fixture *f = *state;
  const struct row containers[] = {
      {"web", "web-agent-instance", "running", "@OTHER@"},
      {"demo", "demo-agent-instance", "exited", "@OTHER@"},
      END,
  };
  const struct row pods[] = {{"web", "web-proxy", "Running", "@OTHER@"}, END};

  parse_rows(f, no_rows, no_rows);
  resolve(f);
  assert_int_equal(f->status.state, CL_PROJECT_STOPPED);

  /* Resources of other roots, running or not, leave this one stopped. */
  parse_rows(f, containers, pods);
  resolve(f);
  assert_int_equal(f->status.state, CL_PROJECT_STOPPED);
}

static void test_state_single_stopped_agent(void **state)
{
  struct fixture *f = *state;
  static const char *const states[] = {"running", "running", "exited",
                                       "running"};
  const struct row containers[] = {
      {"demo", "demo-proxy-instance", "running", "@ROOT@"},
      {"demo", "demo-proxy-bridge", "running", "@ROOT@"},
      {"demo", "demo-agent-instance", "exited", "@ROOT@"},
      {"demo", "demo-nw-sandbox-instance", "running", "@ROOT@"},
      END,
  };

  parse_rows(f, containers, demo_pod);
  resolve(f);
  assert_int_equal(f->status.state, CL_PROJECT_INCOMPLETE);
  expect_states(f, states);
}

static void test_state_after_reboot(void **state)
{
  struct fixture *f = *state;
  static const char *const states[] = {"exited", "exited", "exited", "created"};
  const struct row containers[] = {
      {"demo", "demo-proxy-instance", "exited", "@ROOT@"},
      {"demo", "demo-proxy-bridge", "exited", "@ROOT@"},
      {"demo", "demo-agent-instance", "exited", "@ROOT@"},
      {"demo", "demo-nw-sandbox-instance", "created", "@ROOT@"},
      END,
  };
  const struct row pods[] = {{"demo", "demo-proxy", "Exited", "@ROOT@"}, END};

  parse_rows(f, containers, pods);
  resolve(f);
  assert_int_equal(f->status.state, CL_PROJECT_INCOMPLETE);
  expect_states(f, states);
}

static void test_state_missing_sandbox(void **state)
{
  struct fixture *f = *state;
  static const char *const states[] = {"running", "running", "running",
                                       "missing"};
  const struct row containers[] = {
      {"demo", "demo-proxy-instance", "running", "@ROOT@"},
      {"demo", "demo-proxy-bridge", "running", "@ROOT@"},
      {"demo", "demo-agent-instance", "running", "@ROOT@"},
      END,
  };

  parse_rows(f, containers, demo_pod);
  resolve(f);
  assert_int_equal(f->status.state, CL_PROJECT_INCOMPLETE);
  expect_states(f, states);
}

static void test_state_only_leftovers(void **state)
{
  struct fixture *f = *state;
  static const char *const states[] = {"missing", "missing", "missing",
                                       "missing"};
  const struct row renamed[] = {
      {"old", "old-agent-instance", "running", "@ROOT@"},
      END,
  };

  /* A pod alone, then a container under an earlier project name. */
  parse_rows(f, no_rows, demo_pod);
  resolve(f);
  assert_int_equal(f->status.state, CL_PROJECT_INCOMPLETE);
  expect_states(f, states);

  parse_rows(f, renamed, no_rows);
  resolve(f);
  assert_int_equal(f->status.state, CL_PROJECT_INCOMPLETE);
  expect_states(f, states);
}

static void test_state_same_name_other_root(void **state)
{
  struct fixture *f = *state;
  const struct row containers[] = {
      {"demo", "demo-agent-instance", "exited", "@OTHER@"},
      {"demo", "demo-proxy-instance", "running", "@ROOT@"},
      END,
  };

  /* A stopped container of this name elsewhere is neither this project's
   * nor a conflict. */
  parse_rows(f, containers, no_rows);
  resolve(f);
  assert_int_equal(f->status.state, CL_PROJECT_INCOMPLETE);
  assert_string_equal(f->status.expected_states.items[2], "missing");
}

static void test_state_conflict(void **state)
{
  struct fixture *f = *state;
  const struct row containers[] = {
      RUNNING_DEMO("@OTHER@"),
      {"demo", "demo-x", "running", "@DELETED@"},
      {"demo", "demo-y", "exited", "/elsewhere/.cladding"},
      {"web", "web-agent-instance", "running", "/web/.cladding"},
      {"demo", "demo-z", "running", "@LINK@"},
      END,
  };
  const struct row pods[] = {{"demo", "demo-proxy", "Running", "@OTHER@"}, END};

  /* Each root is listed once.  Exited containers, other names and this
   * root through a link do not count. */
  parse_rows(f, containers, pods);
  resolve(f);
  assert_int_equal(f->status.state, CL_PROJECT_CONFLICT);
  assert_int_equal(f->status.other_roots.count, 2);
  assert_string_equal(f->status.other_roots.items[0], f->other);
  assert_string_equal(f->status.other_roots.items[1], f->deleted_root);
}

static void test_conflict_message(void **state)
{
  struct fixture *f = *state;
  cleanup_free char *want = NULL;
  const struct row containers[] = {
      {"demo", "demo-agent-instance", "running", "@OTHER@"},
      {"demo", "demo-x", "running", "@DELETED@"},
      END,
  };

  parse_rows(f, containers, no_rows);
  resolve(f);
  assert_int_equal(f->status.state, CL_PROJECT_CONFLICT);

  cl_test_capture_start(&f->capture);
  assert_int_equal(cl_project_status_fail_conflict(&f->status, &f->err), -1);
  cl_test_capture_stop(&f->capture);

  want = cl_asprintf("error: cladding project 'demo' is already running from "
                     "a different PROJECT_ROOT\n"
                     "current PROJECT_ROOT: %s\n"
                     "running PROJECT_ROOT: %s\n"
                     "running PROJECT_ROOT: %s\n",
                     f->canonical, f->other, f->deleted_root);
  assert_string_equal(f->capture.err, want);
  assert_string_equal(f->capture.out, "");
  assert_string_equal(f->err.message,
                      "project already running from different PROJECT_ROOT");
  assert_int_equal(f->err.status, 1);
}

static void test_incomplete_message(void **state)
{
  struct fixture *f = *state;
  cleanup_free char *want = NULL;
  const struct row containers[] = {
      {"demo", "demo-proxy-instance", "running", "@ROOT@"},
      {"demo", "demo-agent-instance", "exited", "@ROOT@"},
      END,
  };

  parse_rows(f, containers, demo_pod);
  resolve(f);
  assert_int_equal(f->status.state, CL_PROJECT_INCOMPLETE);

  cl_test_capture_start(&f->capture);
  cl_project_status_print_incomplete(&f->status);
  cl_test_capture_stop(&f->capture);

  want = cl_asprintf(
      "error: cladding project 'demo' has an incomplete runtime (%s)\n"
      "  demo-proxy-instance: running\n"
      "  demo-proxy-bridge: missing\n"
      "  demo-agent-instance: exited\n"
      "  demo-nw-sandbox-instance: missing\n"
      "hint: run 'cladding down', then 'cladding up'\n",
      f->canonical);
  assert_string_equal(f->capture.err, want);
}

/* --- ps --- */

static void expect_text(char *got, const char *want)
{
  if (strcmp(got, want) != 0) {
    print_error("got:\n%s\nexpected:\n%s\n", got, want);
    free(got);
    fail();
  }
  free(got);
}

static void test_ps_empty(void **state)
{
  struct fixture *f = *state;

  parse_rows(f, no_rows, no_rows);
  expect_text(cl_ps_render_text(&f->inv), "no cladding projects\n");
  expect_text(cl_ps_render_json(&f->inv), "[]\n");
}

static void test_ps_text(void **state)
{
  struct fixture *f = *state;
  const struct row containers[] = {
      {"zed", "zed-agent-instance", "exited", "/z/.cladding"},
      {"demo", "demo-zz-extra", "running", "/home/u/demo/.cladding"},
      {"demo", "demo-nw-sandbox-instance", "running", "/home/u/demo/.cladding"},
      {"alpha", "alpha-agent-instance", "exited", "/srv/a/.cladding"},
      {"demo", "demo-agent-instance", "running", "/home/u/demo/.cladding"},
      {"zed", "zed-proxy-bridge", "running", "/z/.cladding"},
      {"demo", "legacy-agent-instance", "created", "/home/u/copy/.cladding"},
      {"demo", "demo-proxy-bridge", "running", "/home/u/demo/.cladding"},
      {"alpha", "alpha-proxy-instance", "exited", "/srv/a/.cladding"},
      {"demo", "demo-aa-extra", "running", "/home/u/demo/.cladding"},
      {"zed", "zed-proxy-instance", "running", "/z/.cladding"},
      {"demo", "demo-proxy-instance", "running", "/home/u/demo/.cladding"},
      END,
  };
  const struct row pods[] = {
      {"demo", "demo-proxy", "Running", "/home/u/demo/.cladding"},
      {"zed", "zed-proxy", "Degraded", "/z/.cladding"},
      END,
  };

  /* Groups sort by name, then root; containers by start order, then the
   * others by name.  A container from an earlier name keeps its prefix. */
  parse_rows(f, containers, pods);
  expect_text(cl_ps_render_text(&f->inv),
              "cladding projects:\n"
              "alpha  /srv/a/.cladding  exited\n"
              "  proxy  alpha-proxy-instance  exited\n"
              "  agent  alpha-agent-instance  exited\n"
              "demo  /home/u/copy/.cladding  exited\n"
              "  legacy-agent  legacy-agent-instance  created\n"
              "demo  /home/u/demo/.cladding  running\n"
              "  proxy  demo-proxy-instance  running\n"
              "  bridge  demo-proxy-bridge  running\n"
              "  agent  demo-agent-instance  running\n"
              "  nw-sandbox  demo-nw-sandbox-instance  running\n"
              "  aa-extra  demo-aa-extra  running\n"
              "  zz-extra  demo-zz-extra  running\n"
              "zed  /z/.cladding  incomplete\n"
              "  proxy  zed-proxy-instance  running\n"
              "  bridge  zed-proxy-bridge  running\n"
              "  agent  zed-agent-instance  exited\n");
}

static void test_ps_json(void **state)
{
  struct fixture *f = *state;
  const struct row containers[] = {
      {"demo", "demo-agent-instance", "running", "/home/u/demo/.cladding"},
      {"demo", "demo-proxy-instance", "running", "/home/u/demo/.cladding"},
      {"old", "old-proxy-bridge", "exited", "/o/.cladding"},
      END,
  };
  const struct row pods[] = {
      {"demo", "demo-proxy", "Running", "/home/u/demo/.cladding"},
      END,
  };

  parse_rows(f, containers, pods);
  expect_text(
      cl_ps_render_json(&f->inv),
      "[{\"name\": \"demo\", \"project_root\": \"/home/u/demo/.cladding\", "
      "\"state\": \"incomplete\", "
      "\"pod\": {\"name\": \"demo-proxy\", \"status\": \"Running\"}, "
      "\"containers\": [{\"component\": \"proxy\", \"name\": "
      "\"demo-proxy-instance\", \"state\": \"running\"}, "
      "{\"component\": \"agent\", \"name\": \"demo-agent-instance\", "
      "\"state\": \"running\"}]}, "
      "{\"name\": \"old\", \"project_root\": \"/o/.cladding\", "
      "\"state\": \"exited\", \"pod\": null, "
      "\"containers\": [{\"component\": \"bridge\", \"name\": "
      "\"old-proxy-bridge\", \"state\": \"exited\"}]}]\n");
}

static void test_ps_running_exited_incomplete(void **state)
{
  struct fixture *f = *state;
  const struct row containers[] = {
      {"a", "a-proxy-instance", "running", "/a"},
      {"a", "a-proxy-bridge", "running", "/a"},
      {"a", "a-agent-instance", "running", "/a"},
      {"a", "a-fs-sandbox-instance", "exited", "/a"},
      {"b", "b-proxy-instance", "exited", "/b"},
      {"b", "b-proxy-bridge", "exited", "/b"},
      {"b", "b-agent-instance", "exited", "/b"},
      {"c", "c-proxy-instance", "running", "/c"},
      {"c", "c-proxy-bridge", "running", "/c"},
      {"c", "c-agent-instance", "running", "/c"},
      END,
  };
  const struct row pods[] = {{"b", "b-proxy", "Exited", "/b"}, END};

  /* One exited container among running ones makes a project incomplete;
   * all exited makes it exited. */
  parse_rows(f, containers, pods);
  expect_text(cl_ps_render_text(&f->inv),
              "cladding projects:\n"
              "a  /a  incomplete\n"
              "  proxy  a-proxy-instance  running\n"
              "  bridge  a-proxy-bridge  running\n"
              "  agent  a-agent-instance  running\n"
              "  fs-sandbox  a-fs-sandbox-instance  exited\n"
              "b  /b  exited\n"
              "  proxy  b-proxy-instance  exited\n"
              "  bridge  b-proxy-bridge  exited\n"
              "  agent  b-agent-instance  exited\n"
              "c  /c  running\n"
              "  proxy  c-proxy-instance  running\n"
              "  bridge  c-proxy-bridge  running\n"
              "  agent  c-agent-instance  running\n");
  expect_text(
      cl_ps_render_json(&f->inv),
      "[{\"name\": \"a\", \"project_root\": \"/a\", \"state\": "
      "\"incomplete\", \"pod\": null, \"containers\": ["
      "{\"component\": \"proxy\", \"name\": \"a-proxy-instance\", \"state\": "
      "\"running\"}, "
      "{\"component\": \"bridge\", \"name\": \"a-proxy-bridge\", \"state\": "
      "\"running\"}, "
      "{\"component\": \"agent\", \"name\": \"a-agent-instance\", \"state\": "
      "\"running\"}, "
      "{\"component\": \"fs-sandbox\", \"name\": \"a-fs-sandbox-instance\", "
      "\"state\": \"exited\"}]}, "
      "{\"name\": \"b\", \"project_root\": \"/b\", \"state\": \"exited\", "
      "\"pod\": {\"name\": \"b-proxy\", \"status\": \"Exited\"}, "
      "\"containers\": ["
      "{\"component\": \"proxy\", \"name\": \"b-proxy-instance\", \"state\": "
      "\"exited\"}, "
      "{\"component\": \"bridge\", \"name\": \"b-proxy-bridge\", \"state\": "
      "\"exited\"}, "
      "{\"component\": \"agent\", \"name\": \"b-agent-instance\", \"state\": "
      "\"exited\"}]}, "
      "{\"name\": \"c\", \"project_root\": \"/c\", \"state\": \"running\", "
      "\"pod\": null, \"containers\": ["
      "{\"component\": \"proxy\", \"name\": \"c-proxy-instance\", \"state\": "
      "\"running\"}, "
      "{\"component\": \"bridge\", \"name\": \"c-proxy-bridge\", \"state\": "
      "\"running\"}, "
      "{\"component\": \"agent\", \"name\": \"c-agent-instance\", \"state\": "
      "\"running\"}]}]\n");
}

static void test_ps_pod_only_and_string_labels(void **state)
{
  struct fixture *f = *state;

  /* Labels in string form group like object labels.  A group with only a
   * pod is listed as exited, and a running agent without proxy and bridge
   * is not a running project. */
  parse_ok(f,
           "[{'Names': ['x-agent-instance'], 'State': 'running',"
           " 'Labels': 'app=agent, cladding=x, project_root=/x'}]",
           "[{'Name': 'x-proxy', 'Status': 'Running',"
           " 'Labels': 'cladding=x, project_root=/x'},"
           " {'Name': 'y-proxy', 'Status': 'Created',"
           " 'Labels': 'cladding=y, project_root=/y'}]");
  expect_text(cl_ps_render_text(&f->inv), "cladding projects:\n"
                                          "x  /x  incomplete\n"
                                          "  agent  x-agent-instance  running\n"
                                          "y  /y  exited\n");
  expect_text(cl_ps_render_json(&f->inv),
              "[{\"name\": \"x\", \"project_root\": \"/x\", \"state\": "
              "\"incomplete\", \"pod\": {\"name\": \"x-proxy\", \"status\": "
              "\"Running\"}, \"containers\": [{\"component\": \"agent\", "
              "\"name\": \"x-agent-instance\", \"state\": \"running\"}]}, "
              "{\"name\": \"y\", \"project_root\": \"/y\", \"state\": "
              "\"exited\", \"pod\": {\"name\": \"y-proxy\", \"status\": "
              "\"Created\"}, \"containers\": []}]\n");
}

/* --- down --- */

static void expect_names(const struct cl_strv *got, const char *const *want)
{
  size_t count = 0;

  while (want[count])
    count++;
  for (size_t i = 0; i < got->count && i < count; i++) {
    if (strcmp(got->items[i], want[i]) != 0)
      fail_msg("item %zu: got '%s', expected '%s'", i, got->items[i], want[i]);
  }
  if (got->count != count)
    fail_msg("got %zu items, expected %zu", got->count, count);
}

static void test_down_targets(void **state)
{
  struct fixture *f = *state;
  struct cl_strv containers = {0};
  struct cl_strv pods = {0};
  const struct row inventory[] = {
      {"demo", "demo-custom", "running", "@ROOT@"},
      {"demo", "demo-agent-instance", "running", "@ROOT@"},
      {"old", "old-agent-instance", "exited", "@ROOT@"},
      {"demo", "demo-fs-sandbox-instance", "running", "@ROOT@"},
      {"demo", "demo-proxy-bridge", "running", "@ROOT@"},
      {"web", "web-agent-instance", "running", "@OTHER@"},
      {"demo", "demo-proxy-instance", "running", "@LINK@"},
      END,
  };
  const struct row inventory_pods[] = {
      {"old", "old-proxy", "Exited", "@ROOT@"},
      {"web", "web-proxy", "Running", "@OTHER@"},
      {"demo", "demo-proxy", "Running", "@ROOT@"},
      END,
  };
  static const char *const want_containers[] = {"demo-proxy-instance",
                                                "demo-proxy-bridge",
                                                "demo-agent-instance",
                                                "demo-fs-sandbox-instance",
                                                "demo-custom",
                                                "old-agent-instance",
                                                NULL};
  static const char *const want_pods[] = {"demo-proxy", "old-proxy", NULL};

  /* The fs-sandbox may be disabled by now and old-* was created under an
   * earlier project name: both go, found by their root label. */
  parse_rows(f, inventory, inventory_pods);
  cl_down_targets(&f->inv, "demo", f->canonical, &containers, &pods);
  expect_names(&containers, want_containers);
  expect_names(&pods, want_pods);
  cl_strv_free(&containers);
  cl_strv_free(&pods);
}

static void test_down_targets_deleted_root(void **state)
{
  struct fixture *f = *state;
  struct cl_strv containers = {0};
  struct cl_strv pods = {0};
  cleanup_free char *canonical = cl_canonical_root(f->deleted_root);
  const struct row inventory[] = {
      {"demo", "demo-agent-instance", "exited", "@DELETED@"},
      {"demo", "demo-proxy-instance", "exited", "@ROOT@"},
      END,
  };
  const struct row inventory_pods[] = {
      {"demo", "demo-proxy", "Exited", "@DELETED@"},
      END,
  };
  static const char *const want_containers[] = {"demo-agent-instance", NULL};
  static const char *const want_pods[] = {"demo-proxy", NULL};

  parse_rows(f, inventory, inventory_pods);
  cl_down_targets(&f->inv, "demo", canonical, &containers, &pods);
  expect_names(&containers, want_containers);
  expect_names(&pods, want_pods);
  cl_strv_free(&containers);
  cl_strv_free(&pods);
}

static void test_down_targets_nothing(void **state)
{
  struct fixture *f = *state;
  struct cl_strv containers = {0};
  struct cl_strv pods = {0};
  const struct row inventory[] = {
      {"web", "web-agent-instance", "running", "@OTHER@"},
      END,
  };

  parse_rows(f, inventory, no_rows);
  cl_down_targets(&f->inv, "demo", f->canonical, &containers, &pods);
  assert_int_equal(containers.count, 0);
  assert_int_equal(pods.count, 0);
}

/* --- missing resources --- */

static void test_podman_reports_missing(void **state)
{
  /* The texts of Podman 4.3.1 for `podman rm NAME` and `podman pod rm
   * NAME`, and the wordings other versions use. */
  static const char *const missing[] = {
      "Error: no container with name or ID \"nosuchname\" found: no such "
      "container\n",
      "Error: no pod with name or ID nosuchname found: no such pod\n",
      "Error: No such container: demo-agent-instance",
      "Error: NO SUCH POD",
  };
  static const char *const other[] = {
      "",
      "Error: cannot remove container abc as it is running - running or "
      "paused containers cannot be removed without force: container state "
      "improper",
      "Error: container abc is the infra container of pod def and cannot be "
      "removed without removing the pod",
      "Error: no such volume",
  };

  (void)state;
  for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
    if (!cl_podman_reports_missing(missing[i]))
      fail_msg("not recognised as missing: %s", missing[i]);
  }
  for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
    if (cl_podman_reports_missing(other[i]))
      fail_msg("taken for missing: %s", other[i]);
  }
}

#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
  const struct CMUnitTest tests[] = {
      TEST(test_parse_object_labels),
      TEST(test_parse_string_labels),
      TEST(test_parse_pods),
      TEST(test_parse_not_array),
      TEST(test_parse_invalid),
      cmocka_unit_test(test_listing_argv),
      TEST(test_root_matches_symlink),
      TEST(test_root_matches_deleted),
      TEST(test_find_container),
      TEST(test_state_running),
      TEST(test_state_running_through_symlink),
      TEST(test_state_running_with_leftover),
      TEST(test_state_stopped),
      TEST(test_state_single_stopped_agent),
      TEST(test_state_after_reboot),
      TEST(test_state_missing_sandbox),
      TEST(test_state_only_leftovers),
      TEST(test_state_same_name_other_root),
      TEST(test_state_conflict),
      TEST(test_conflict_message),
      TEST(test_incomplete_message),
      TEST(test_ps_empty),
      TEST(test_ps_text),
      TEST(test_ps_json),
      TEST(test_ps_running_exited_incomplete),
      TEST(test_ps_pod_only_and_string_labels),
      TEST(test_down_targets),
      TEST(test_down_targets_deleted_root),
      TEST(test_down_targets_nothing),
      cmocka_unit_test(test_podman_reports_missing),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
