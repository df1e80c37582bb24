/* Parsing of the podman listings, root matching, project state, `ps`
 * output and the removal list of `down`. */
#include "config-host.h"

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "inventory.h"
#include "runtime.h"

const char *const cl_inventory_ps_argv[] = {
    "podman",         "ps",       "-a",   "--filter",
    "label=cladding", "--format", "json", NULL};
const char *const cl_inventory_pod_ps_argv[] = {
    "podman",         "pod",      "ps",   "--filter",
    "label=cladding", "--format", "json", NULL};

/* The labels cladding reads from an item. */
struct labels {
  char *project;
  char *root;
  char *app;
};

static void labels_free(struct labels *labels)
{
  free(labels->project);
  free(labels->root);
  free(labels->app);
}

static void labels_set(struct labels *labels, const char *key, size_t key_len,
                       const char *value, size_t value_len)
{
  char **slot = NULL;

  if (key_len == 8 && memcmp(key, "cladding", 8) == 0)
    slot = &labels->project;
  else if (key_len == 12 && memcmp(key, "project_root", 12) == 0)
    slot = &labels->root;
  else if (key_len == 3 && memcmp(key, "app", 3) == 0)
    slot = &labels->app;
  if (slot == NULL)
    return;
  free(*slot);
  *slot = cl_xstrndup(value, value_len);
}

/* Trims white space from both ends of [*start, *end). */
static void trim(const char **start, const char **end)
{
  while (*start < *end && isspace((unsigned char)**start))
    (*start)++;
  while (*end > *start && isspace((unsigned char)(*end)[-1]))
    (*end)--;
}

/* Reads one "k=v" part of the string form: the part and both sides of its
 * first '=' are trimmed, and a part with an empty key or value is
 * dropped. */
static void label_from_part(struct labels *labels, const char *start,
                            const char *end)
{
  const char *eq, *key_end, *value_start;

  trim(&start, &end);
  eq = memchr(start, '=', (size_t)(end - start));
  if (eq == NULL)
    return;
  key_end = eq;
  value_start = eq + 1;
  trim(&start, &key_end);
  trim(&value_start, &end);
  if (key_end == start || end == value_start)
    return;
  labels_set(labels, start, (size_t)(key_end - start), value_start,
             (size_t)(end - value_start));
}

/* Reads labels in the string form "k=v, k=v". */
static void labels_from_string(struct labels *labels, const char *text)
{
  const char *p = text;

  for (;;) {
    const char *comma = strchr(p, ',');

    if (comma == NULL) {
      label_from_part(labels, p, p + strlen(p));
      return;
    }
    label_from_part(labels, p, comma);
    p = comma + 1;
  }
}

static void labels_from_json(struct labels *labels, json_t *value)
{
  const char *key;
  json_t *item;

  if (json_is_string(value)) {
    labels_from_string(labels, json_string_value(value));
    return;
  }
  if (!json_is_object(value))
    return;
  json_object_foreach(value, key, item)
  {
    const char *text = json_string_value(item);

    if (text == NULL || key[0] == '\0' || text[0] == '\0')
      continue;
    labels_set(labels, key, strlen(key), text, strlen(text));
  }
}

static char *string_or(json_t *object, const char *key, const char *fallback)
{
  const char *text = json_string_value(json_object_get(object, key));

  return cl_xstrdup(text ? text : fallback);
}

/* Returns the first element of Names, which Podman writes as an array.
 * A plain string is accepted too.  Returns NULL when there is none. */
static char *first_name(json_t *item)
{
  json_t *names = json_object_get(item, "Names");

  if (json_is_array(names))
    names = json_array_get(names, 0);
  if (!json_is_string(names) || json_string_length(names) == 0)
    return NULL;
  return cl_xstrdup(json_string_value(names));
}

/* Parses `text` into a JSON value.  Blank output counts as an empty list,
 * as does a result that is not an array. */
static int load_array(const char *text, const char *listing, json_t **out,
                      struct cl_error *err)
{
  const char *p = text;
  json_error_t jerr;

  *out = NULL;
  while (*p && isspace((unsigned char)*p))
    p++;
  if (*p == '\0')
    return 0;

  *out = json_loads(text, JSON_DECODE_ANY, &jerr);
  if (*out == NULL)
    return cl_fail(err, 1, "failed to parse %s json output", listing);
  return 0;
}

int cl_inventory_parse_containers(struct cl_inventory *inv, const char *json,
                                  struct cl_error *err)
{
  json_t *root, *item;
  size_t index;

  if (load_array(json, "podman ps", &root, err) < 0)
    return -1;

  json_array_foreach(root, index, item)
  {
    struct labels labels = {0};
    struct cl_inv_container *c;
    char *name;

    /* Podman (seen with 4.3.1) copies the pod's labels to the pod's infra
     * container, which goes with the pod and cannot be removed alone. */
    if (json_is_true(json_object_get(item, "IsInfra")))
      continue;
    labels_from_json(&labels, json_object_get(item, "Labels"));
    name = first_name(item);
    if (labels.project == NULL || labels.root == NULL || name == NULL) {
      labels_free(&labels);
      free(name);
      continue;
    }

    inv->containers = cl_xrealloc(
        inv->containers, (inv->container_count + 1) * sizeof(*inv->containers));
    c = &inv->containers[inv->container_count++];
    c->name = name;
    c->state = string_or(item, "State", "unknown");
    c->project = labels.project;
    c->root = labels.root;
    c->app = labels.app;
  }
  json_decref(root);
  return 0;
}

int cl_inventory_parse_pods(struct cl_inventory *inv, const char *json,
                            struct cl_error *err)
{
  json_t *root, *item;
  size_t index;

  if (load_array(json, "podman pod ps", &root, err) < 0)
    return -1;

  json_array_foreach(root, index, item)
  {
    struct labels labels = {0};
    const char *name = json_string_value(json_object_get(item, "Name"));
    struct cl_inv_pod *pod;

    labels_from_json(&labels, json_object_get(item, "Labels"));
    if (labels.project == NULL || labels.root == NULL || name == NULL ||
        name[0] == '\0') {
      labels_free(&labels);
      continue;
    }

    inv->pods =
        cl_xrealloc(inv->pods, (inv->pod_count + 1) * sizeof(*inv->pods));
    pod = &inv->pods[inv->pod_count++];
    pod->name = cl_xstrdup(name);
    pod->status = string_or(item, "Status", "unknown");
    pod->project = labels.project;
    pod->root = labels.root;
    free(labels.app);
  }
  json_decref(root);
  return 0;
}

void cl_inventory_free(struct cl_inventory *inv)
{
  for (size_t i = 0; i < inv->container_count; i++) {
    struct cl_inv_container *c = &inv->containers[i];

    free(c->name);
    free(c->state);
    free(c->project);
    free(c->root);
    free(c->app);
  }
  for (size_t i = 0; i < inv->pod_count; i++) {
    struct cl_inv_pod *pod = &inv->pods[i];

    free(pod->name);
    free(pod->status);
    free(pod->project);
    free(pod->root);
  }
  free(inv->containers);
  free(inv->pods);
  memset(inv, 0, sizeof(*inv));
}

char *cl_canonical_root(const char *root)
{
  char *resolved = realpath(root, NULL);

  return resolved ? resolved : cl_xstrdup(root);
}

bool cl_root_matches(const char *label_root, const char *canonical_root)
{
  cleanup_free char *resolved = cl_canonical_root(label_root);

  return strcmp(resolved, canonical_root) == 0;
}

const struct cl_inv_container *
cl_inventory_find_container(const struct cl_inventory *inv, const char *name,
                            const char *canonical_root)
{
  for (size_t i = 0; i < inv->container_count; i++) {
    const struct cl_inv_container *c = &inv->containers[i];

    if (strcmp(c->name, name) == 0 && cl_root_matches(c->root, canonical_root))
      return c;
  }
  return NULL;
}

static bool strv_contains(const struct cl_strv *v, const char *s)
{
  for (size_t i = 0; i < v->count; i++) {
    if (strcmp(v->items[i], s) == 0)
      return true;
  }
  return false;
}

static bool project_has_resources(const struct cl_inventory *inv,
                                  const char *canonical_root)
{
  for (size_t i = 0; i < inv->container_count; i++) {
    if (cl_root_matches(inv->containers[i].root, canonical_root))
      return true;
  }
  for (size_t i = 0; i < inv->pod_count; i++) {
    if (cl_root_matches(inv->pods[i].root, canonical_root))
      return true;
  }
  return false;
}

void cl_project_status_resolve(const struct cl_inventory *inv, const char *name,
                               const char *canonical_root,
                               const struct cl_strv *expected,
                               struct cl_project_status *out)
{
  bool all_running = true;

  memset(out, 0, sizeof(*out));
  out->name = cl_xstrdup(name);
  out->canonical_root = cl_xstrdup(canonical_root);

  for (size_t i = 0; i < inv->container_count; i++) {
    const struct cl_inv_container *c = &inv->containers[i];

    if (strcmp(c->project, name) != 0 || strcmp(c->state, "running") != 0)
      continue;
    if (cl_root_matches(c->root, canonical_root) ||
        strv_contains(&out->other_roots, c->root))
      continue;
    cl_strv_push(&out->other_roots, c->root);
  }

  for (size_t i = 0; i < expected->count; i++) {
    const struct cl_inv_container *c =
        cl_inventory_find_container(inv, expected->items[i], canonical_root);

    cl_strv_push(&out->expected, expected->items[i]);
    cl_strv_push(&out->expected_states, c ? c->state : "missing");
    if (c == NULL || strcmp(c->state, "running") != 0)
      all_running = false;
  }

  if (out->other_roots.count > 0)
    out->state = CL_PROJECT_CONFLICT;
  else if (!project_has_resources(inv, canonical_root))
    out->state = CL_PROJECT_STOPPED;
  else if (all_running)
    out->state = CL_PROJECT_RUNNING;
  else
    out->state = CL_PROJECT_INCOMPLETE;
}

void cl_project_status_free(struct cl_project_status *status)
{
  free(status->name);
  free(status->canonical_root);
  cl_strv_free(&status->expected);
  cl_strv_free(&status->expected_states);
  cl_strv_free(&status->other_roots);
  memset(status, 0, sizeof(*status));
}

int cl_project_status_fail_conflict(const struct cl_project_status *status,
                                    struct cl_error *err)
{
  cl_log(CLADDING_LOG_ERROR,
         "cladding project '%s' is already running from a different "
         "PROJECT_ROOT",
         status->name);
  cl_log(CLADDING_LOG_PLAIN, "current PROJECT_ROOT: %s",
         status->canonical_root);
  for (size_t i = 0; i < status->other_roots.count; i++)
    cl_log(CLADDING_LOG_PLAIN, "running PROJECT_ROOT: %s",
           status->other_roots.items[i]);
  return cl_fail(err, 1, "project already running from different PROJECT_ROOT");
}

void cl_project_status_print_incomplete(const struct cl_project_status *status)
{
  cl_log(CLADDING_LOG_ERROR,
         "cladding project '%s' has an incomplete runtime (%s)", status->name,
         status->canonical_root);
  for (size_t i = 0; i < status->expected.count; i++)
    cl_log(CLADDING_LOG_PLAIN, "  %s: %s", status->expected.items[i],
           status->expected_states.items[i]);
  cl_log(CLADDING_LOG_HINT, "run 'cladding down', then 'cladding up'");
}

/* One project of `ps`: the resources that share the `cladding` and
 * `project_root` labels. */
struct ps_group {
  const char *name;
  const char *root;
  const struct cl_inv_pod *pod; /* the first by name, or NULL */
  const struct cl_inv_container **containers;
  char **components; /* component of each container */
  size_t count;
};

struct ps_groups {
  struct ps_group *items;
  size_t count;
};

static struct ps_group *group_of(struct ps_groups *groups, const char *name,
                                 const char *root)
{
  struct ps_group *group;

  for (size_t i = 0; i < groups->count; i++) {
    group = &groups->items[i];
    if (strcmp(group->name, name) == 0 && strcmp(group->root, root) == 0)
      return group;
  }
  groups->items =
      cl_xrealloc(groups->items, (groups->count + 1) * sizeof(*groups->items));
  group = &groups->items[groups->count++];
  memset(group, 0, sizeof(*group));
  group->name = name;
  group->root = root;
  return group;
}

/* The component of a container as ps shows it: the name without the
 * "<project>-" prefix and a trailing "-instance", with "proxy-bridge"
 * shown as "bridge". */
static char *component_of(const char *project, const char *container)
{
  size_t project_len = strlen(project);
  const char *start = container;
  size_t len;

  if (strncmp(container, project, project_len) == 0 &&
      container[project_len] == '-')
    start = container + project_len + 1;
  len = strlen(start);
  if (len > strlen("-instance") && cl_str_has_suffix(start, "-instance"))
    len -= strlen("-instance");
  if (len == strlen("proxy-bridge") && strncmp(start, "proxy-bridge", len) == 0)
    return cl_xstrdup("bridge");
  return cl_xstrndup(start, len);
}

/* Returns the start-order position of a known component, or
 * CL_CONTAINER_ROLE_COUNT for any other. */
static int component_rank(const char *component)
{
  for (int role = 0; role < CL_CONTAINER_ROLE_COUNT; role++) {
    if (strcmp(component, cl_container_role_name(role)) == 0)
      return role;
  }
  return CL_CONTAINER_ROLE_COUNT;
}

static void sort_group(struct ps_group *group)
{
  /* Insertion sort, because a group contains only a few containers. */
  for (size_t i = 1; i < group->count; i++) {
    for (size_t j = i; j > 0; j--) {
      int rank_a = component_rank(group->components[j - 1]);
      int rank_b = component_rank(group->components[j]);
      const struct cl_inv_container *swap_c;
      char *swap_name;

      if (rank_a < rank_b ||
          (rank_a == rank_b && strcmp(group->containers[j - 1]->name,
                                      group->containers[j]->name) <= 0))
        break;
      swap_c = group->containers[j];
      group->containers[j] = group->containers[j - 1];
      group->containers[j - 1] = swap_c;
      swap_name = group->components[j];
      group->components[j] = group->components[j - 1];
      group->components[j - 1] = swap_name;
    }
  }
}

static int compare_groups(const void *a, const void *b)
{
  const struct ps_group *ga = a, *gb = b;
  int by_name = strcmp(ga->name, gb->name);

  return by_name != 0 ? by_name : strcmp(ga->root, gb->root);
}

static void collect_groups(const struct cl_inventory *inv,
                           struct ps_groups *groups)
{
  memset(groups, 0, sizeof(*groups));

  for (size_t i = 0; i < inv->container_count; i++) {
    const struct cl_inv_container *c = &inv->containers[i];
    struct ps_group *group = group_of(groups, c->project, c->root);

    group->containers = cl_xrealloc(
        group->containers, (group->count + 1) * sizeof(*group->containers));
    group->components = cl_xrealloc(
        group->components, (group->count + 1) * sizeof(*group->components));
    group->containers[group->count] = c;
    group->components[group->count] = component_of(c->project, c->name);
    group->count++;
  }

  for (size_t i = 0; i < inv->pod_count; i++) {
    const struct cl_inv_pod *pod = &inv->pods[i];
    struct ps_group *group = group_of(groups, pod->project, pod->root);

    if (group->pod == NULL || strcmp(pod->name, group->pod->name) < 0)
      group->pod = pod;
  }

  for (size_t i = 0; i < groups->count; i++)
    sort_group(&groups->items[i]);
  if (groups->count > 1)
    qsort(groups->items, groups->count, sizeof(*groups->items), compare_groups);
}

static void free_groups(struct ps_groups *groups)
{
  for (size_t i = 0; i < groups->count; i++) {
    struct ps_group *group = &groups->items[i];

    for (size_t j = 0; j < group->count; j++)
      free(group->components[j]);
    free(group->components);
    free(group->containers);
  }
  free(groups->items);
}

/* The project state that ps can tell without the project's config:
 * running when proxy, bridge and agent exist and every container runs,
 * exited when none runs. */
static const char *group_state(const struct ps_group *group)
{
  bool seen[CL_CONTAINER_ROLE_COUNT] = {false};
  size_t running = 0;

  for (size_t i = 0; i < group->count; i++) {
    int rank = component_rank(group->components[i]);

    if (rank < CL_CONTAINER_ROLE_COUNT)
      seen[rank] = true;
    if (strcmp(group->containers[i]->state, "running") == 0)
      running++;
  }

  if (running == 0)
    return "exited";
  if (running == group->count && seen[CL_CONTAINER_PROXY] &&
      seen[CL_CONTAINER_BRIDGE] && seen[CL_CONTAINER_AGENT])
    return "running";
  return "incomplete";
}

/* Appends formatted text to a growing string. */
static void append(char **text, const char *fmt, ...) CLADDING_PRINTF(2, 3);

static void append(char **text, const char *fmt, ...)
{
  va_list ap;
  char *piece, *joined;

  va_start(ap, fmt);
  piece = cl_vasprintf(fmt, ap);
  va_end(ap);
  joined = cl_asprintf("%s%s", *text, piece);
  free(piece);
  free(*text);
  *text = joined;
}

char *cl_ps_render_text(const struct cl_inventory *inv)
{
  struct ps_groups groups;
  char *text;

  collect_groups(inv, &groups);
  if (groups.count == 0) {
    free_groups(&groups);
    return cl_xstrdup("no cladding projects\n");
  }

  text = cl_xstrdup("cladding projects:\n");
  for (size_t i = 0; i < groups.count; i++) {
    const struct ps_group *group = &groups.items[i];

    append(&text, "%s  %s  %s\n", group->name, group->root, group_state(group));
    for (size_t j = 0; j < group->count; j++)
      append(&text, "  %s  %s  %s\n", group->components[j],
             group->containers[j]->name, group->containers[j]->state);
  }
  free_groups(&groups);
  return text;
}

static json_t *group_json(const struct ps_group *group)
{
  json_t *object = json_object();
  json_t *containers = json_array();
  json_t *pod = json_null();

  if (group->pod)
    pod = json_pack("{s:s, s:s}", "name", group->pod->name, "status",
                    group->pod->status);
  for (size_t i = 0; i < group->count; i++)
    json_array_append_new(containers,
                          json_pack("{s:s, s:s, s:s}", "component",
                                    group->components[i], "name",
                                    group->containers[i]->name, "state",
                                    group->containers[i]->state));

  json_object_set_new(object, "name", json_string(group->name));
  json_object_set_new(object, "project_root", json_string(group->root));
  json_object_set_new(object, "state", json_string(group_state(group)));
  json_object_set_new(object, "pod", pod);
  json_object_set_new(object, "containers", containers);
  return object;
}

char *cl_ps_render_json(const struct cl_inventory *inv)
{
  struct ps_groups groups;
  json_t *array = json_array();
  char *dumped, *text;

  collect_groups(inv, &groups);
  for (size_t i = 0; i < groups.count; i++)
    json_array_append_new(array, group_json(&groups.items[i]));
  free_groups(&groups);

  /* Without JSON_COMPACT, jansson separates items with ", " and keys from
   * values with ": ", all on one line. */
  dumped = json_dumps(array, JSON_PRESERVE_ORDER);
  json_decref(array);
  if (dumped == NULL)
    dumped = cl_xstrdup("[]");
  text = cl_asprintf("%s\n", dumped);
  free(dumped);
  return text;
}

static int compare_strings(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sort_from(struct cl_strv *v, size_t start)
{
  if (v->count - start > 1)
    qsort(v->items + start, v->count - start, sizeof(char *), compare_strings);
}

void cl_down_targets(const struct cl_inventory *inv, const char *name,
                     const char *canonical_root, struct cl_strv *containers,
                     struct cl_strv *pods)
{
  struct cl_strv known = {0};
  size_t others_start, pods_start = pods->count;

  for (int role = 0; role < CL_CONTAINER_ROLE_COUNT; role++) {
    cleanup_free char *container = cl_container_name(name, role);

    cl_strv_push(&known, container);
    if (cl_inventory_find_container(inv, container, canonical_root))
      cl_strv_push(containers, container);
  }

  others_start = containers->count;
  for (size_t i = 0; i < inv->container_count; i++) {
    const struct cl_inv_container *c = &inv->containers[i];

    if (strv_contains(&known, c->name) ||
        !cl_root_matches(c->root, canonical_root))
      continue;
    cl_strv_push(containers, c->name);
  }
  sort_from(containers, others_start);
  cl_strv_free(&known);

  for (size_t i = 0; i < inv->pod_count; i++) {
    if (cl_root_matches(inv->pods[i].root, canonical_root))
      cl_strv_push(pods, inv->pods[i].name);
  }
  sort_from(pods, pods_start);
}

bool cl_podman_reports_missing(const char *stderr_text)
{
  static const char *const phrases[] = {
      "no such container",
      "no container with name or id",
      "no such pod",
      "no pod with name or id",
  };
  cleanup_free char *lower = cl_xstrdup(stderr_text);

  for (char *p = lower; *p; p++)
    *p = (char)tolower((unsigned char)*p);
  for (size_t i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++) {
    if (strstr(lower, phrases[i]))
      return true;
  }
  return false;
}
