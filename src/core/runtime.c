/* The runtime specification: pod and container argv, socket directories,
 * readiness items and the summary of `up`. */
#include "config-host.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mounts.h"
#include "project.h"
#include "runtime.h"

#define CONTAINER_PATH                                                         \
  "PATH=/opt/tools/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"     \
  "/sbin:/bin"
#define PROXY_URL "http://127.0.0.1:3128"
#define NO_PROXY_LIST "localhost,127.0.0.1,::1"
#define WORKSPACE "/home/user/workspace"
#define BRIDGE_HELPER "/opt/tools/bin/cladding-bridge"

#define SOCK_AGENT_INJECT "agent/inject"
#define SOCK_AGENT_EXPOSE "agent/expose"
#define SOCK_PROXY_AGENT "proxy/agent"
#define SOCK_PROXY_NW "proxy/nw-sandbox"
#define SOCK_RUN_NW "run/nw-sandbox"
#define SOCK_RUN_FS "run/fs-sandbox"

static const char *const role_names[CL_CONTAINER_ROLE_COUNT] = {
    [CL_CONTAINER_PROXY] = "proxy",
    [CL_CONTAINER_BRIDGE] = "bridge",
    [CL_CONTAINER_AGENT] = "agent",
    [CL_CONTAINER_NW_SANDBOX] = "nw-sandbox",
    [CL_CONTAINER_FS_SANDBOX] = "fs-sandbox",
};

/* The gVisor runtime flags of standalone containers with use_runsc.
 * host-uds=all lets the sandboxed process use the mounted Unix sockets. */
static const char *const runsc_flags[] = {
    "--runtime",      "runsc",        "--runtime-flag", "ignore-cgroups",
    "--runtime-flag", "host-uds=all", "--runtime-flag", "network=none",
};

void cl_identity_current(struct cl_identity *id)
{
  id->euid = geteuid();
  id->uid = getuid();
  id->gid = getgid();
}

const char *cl_container_role_name(enum cl_container_role role)
{
  return role_names[role];
}

const char *cl_container_role_app(enum cl_container_role role)
{
  if (role == CL_CONTAINER_BRIDGE)
    return "proxy";
  return role_names[role];
}

char *cl_container_name(const char *name, enum cl_container_role role)
{
  if (role == CL_CONTAINER_BRIDGE)
    return cl_asprintf("%s-proxy-bridge", name);
  return cl_asprintf("%s-%s-instance", name, role_names[role]);
}

char *cl_container_hostname(const char *name, enum cl_container_role role)
{
  if (role == CL_CONTAINER_PROXY || role == CL_CONTAINER_BRIDGE)
    return cl_pod_name(name);
  return cl_asprintf("%s-%s", name, role_names[role]);
}

char *cl_pod_name(const char *name)
{
  return cl_asprintf("%s-proxy", name);
}

bool cl_container_role_enabled(const struct cl_config *config,
                               enum cl_container_role role)
{
  switch (role) {
  case CL_CONTAINER_NW_SANDBOX:
    return config->nw_sandbox.enabled;
  case CL_CONTAINER_FS_SANDBOX:
    return config->fs_sandbox.enabled;
  case CL_CONTAINER_PROXY:
  case CL_CONTAINER_BRIDGE:
  case CL_CONTAINER_AGENT:
    break;
  }
  return true;
}

void cl_expected_containers(const struct cl_config *config, struct cl_strv *out)
{
  for (int role = 0; role < CL_CONTAINER_ROLE_COUNT; role++) {
    if (cl_container_role_enabled(config, role))
      cl_strv_push_owned(out, cl_container_name(config->name, role));
  }
}

void cl_label_args(struct cl_strv *argv, const char *app, const char *name,
                   const char *root)
{
  cl_strv_push(argv, "--label");
  cl_strv_push_owned(argv, cl_asprintf("app=%s", app));
  cl_strv_push(argv, "--label");
  cl_strv_push_owned(argv, cl_asprintf("cladding=%s", name));
  cl_strv_push(argv, "--label");
  cl_strv_push_owned(argv, cl_asprintf("project_root=%s", root));
}

static void push_pair(struct cl_strv *argv, const char *option,
                      const char *value)
{
  cl_strv_push(argv, option);
  cl_strv_push(argv, value);
}

static void push_pair_owned(struct cl_strv *argv, const char *option,
                            char *value)
{
  cl_strv_push(argv, option);
  cl_strv_push_owned(argv, value);
}

void cl_argv_free(char **argv)
{
  if (argv == NULL)
    return;
  for (char **p = argv; *p; p++)
    free(*p);
  free(argv);
}

char **cl_podman_rm_argv(const char *container)
{
  struct cl_strv argv = {0};

  cl_strv_push(&argv, "podman");
  cl_strv_push(&argv, "rm");
  cl_strv_push(&argv, "-f");
  cl_strv_push(&argv, container);
  return argv.items;
}

char **cl_podman_pod_rm_argv(const char *pod)
{
  struct cl_strv argv = {0};

  cl_strv_push(&argv, "podman");
  cl_strv_push(&argv, "pod");
  cl_strv_push(&argv, "rm");
  cl_strv_push(&argv, "-f");
  cl_strv_push(&argv, pod);
  return argv.items;
}

/* Inputs shared by the argv builders of one specification. */
struct build_state {
  const struct cl_config *config;
  const struct cl_runtime_spec *spec;
  const struct cl_identity *id;
  bool selinux;
};

static char **build_pod_create_argv(const struct build_state *b)
{
  const struct cl_config *config = b->config;
  struct cl_strv argv = {0};

  cl_strv_push(&argv, "podman");
  cl_strv_push(&argv, "pod");
  cl_strv_push(&argv, "create");
  push_pair(&argv, "--name", b->spec->pod_name);
  cl_label_args(&argv, "proxy", config->name, b->spec->root);
  push_pair(&argv, "--network", "default");
  for (size_t i = 0; i < config->proxy_host_count; i++) {
    const struct cl_proxy_host *host = &config->proxy_hosts[i];

    push_pair_owned(&argv, "--add-host",
                    cl_asprintf("%s:%s", host->hostname, host->address));
  }
  return argv.items;
}

static void push_env(struct cl_strv *argv, const char *assignment)
{
  push_pair(argv, "--env", assignment);
}

static void push_env_owned(struct cl_strv *argv, char *assignment)
{
  push_pair_owned(argv, "--env", assignment);
}

static void push_proxy_env(struct cl_strv *argv)
{
  push_env(argv, "http_proxy=" PROXY_URL);
  push_env(argv, "https_proxy=" PROXY_URL);
  push_env(argv, "HTTP_PROXY=" PROXY_URL);
  push_env(argv, "HTTPS_PROXY=" PROXY_URL);
  push_env(argv, "no_proxy=" NO_PROXY_LIST);
  push_env(argv, "NO_PROXY=" NO_PROXY_LIST);
  push_env(argv, "NODE_USE_ENV_PROXY=1");
}

static void push_name_env(struct cl_strv *argv, const char *name,
                          bool with_sandbox)
{
  push_env_owned(argv, cl_asprintf("CLADDING_PROXY_NAME=%s-proxy", name));
  push_env_owned(argv, cl_asprintf("CLADDING_AGENT_NAME=%s-agent", name));
  if (with_sandbox)
    push_env_owned(argv,
                   cl_asprintf("CLADDING_SANDBOX_NAME=%s-nw-sandbox", name));
}

static void push_env_list(struct cl_strv *argv, const struct build_state *b,
                          enum cl_container_role role)
{
  const char *name = b->config->name;
  bool nw = b->config->nw_sandbox.enabled;
  bool fs = b->config->fs_sandbox.enabled;

  switch (role) {
  case CL_CONTAINER_PROXY:
    push_name_env(argv, name, nw);
    break;
  case CL_CONTAINER_BRIDGE:
    break;
  case CL_CONTAINER_AGENT:
    push_env(argv, CONTAINER_PATH);
    push_env(argv, "HOME=/home/user");
    push_name_env(argv, name, nw);
    push_proxy_env(argv);
    if (nw)
      push_env(argv,
               "RUN_NW_SANDBOX_SOCKET=/run/cladding/" SOCK_RUN_NW "/run.sock");
    if (fs)
      push_env(argv,
               "RUN_FS_SANDBOX_SOCKET=/run/cladding/" SOCK_RUN_FS "/run.sock");
    break;
  case CL_CONTAINER_NW_SANDBOX:
    push_env(argv, CONTAINER_PATH);
    push_env(argv, "HOME=/home/user");
    push_env(argv, "MCP_BIND_UDS=/run/cladding/" SOCK_RUN_NW "/run.sock");
    push_env(argv, "POLICY_DIR=/opt/config/nw_sandbox");
    push_name_env(argv, name, true);
    push_proxy_env(argv);
    break;
  case CL_CONTAINER_FS_SANDBOX:
    push_env(argv, CONTAINER_PATH);
    push_env(argv, "HOME=/home/user");
    push_env(argv, "MCP_BIND_UDS=/run/cladding/" SOCK_RUN_FS "/run.sock");
    push_env(argv, "POLICY_DIR=/opt/config/fs_sandbox");
    break;
  }
}

static void push_volumes(struct cl_strv *argv,
                         const struct cl_volume_list *volumes)
{
  for (size_t i = 0; i < volumes->count; i++)
    push_pair_owned(argv, "--volume", cl_volume_format(&volumes->items[i]));
}

/* Mounts the socket directory `relative` (under ROOT/runtime/sockets) on
 * /run/cladding/<relative>, read-write. */
static void push_socket_volume(struct cl_strv *argv,
                               const struct build_state *b,
                               const char *relative)
{
  struct cl_volume volume = {
      .source = cl_path_join(b->spec->sockets_dir, relative),
      .target = cl_asprintf("/run/cladding/%s", relative),
      .options = cl_xstrdup(b->selinux ? "z" : ""),
      .bind = true,
  };

  push_pair_owned(argv, "--volume", cl_volume_format(&volume));
  free(volume.source);
  free(volume.target);
  free(volume.options);
}

static void push_component_volumes(struct cl_strv *argv,
                                   const struct build_state *b,
                                   enum cladding_component component)
{
  struct cl_volume_list volumes;

  cl_component_volumes(b->config, b->spec->root, component, b->selinux,
                       &volumes);
  push_volumes(argv, &volumes);
  cl_volume_list_free(&volumes);
}

/* The bridge gets only the tools and the proxy socket directories, never a
 * custom mount. */
static void push_bridge_volumes(struct cl_strv *argv,
                                const struct build_state *b)
{
  struct cl_volume tools = {
      .source = cl_path_join(b->spec->root, "tools"),
      .target = cl_xstrdup("/opt/tools"),
      .options = cl_xstrdup(b->selinux ? "ro,z" : "ro"),
      .bind = true,
  };

  push_pair_owned(argv, "--volume", cl_volume_format(&tools));
  free(tools.source);
  free(tools.target);
  free(tools.options);
  push_socket_volume(argv, b, SOCK_PROXY_AGENT);
  if (b->config->nw_sandbox.enabled)
    push_socket_volume(argv, b, SOCK_PROXY_NW);
}

static void push_volume_list(struct cl_strv *argv, const struct build_state *b,
                             enum cl_container_role role)
{
  bool nw = b->config->nw_sandbox.enabled;
  bool fs = b->config->fs_sandbox.enabled;

  switch (role) {
  case CL_CONTAINER_PROXY:
    push_component_volumes(argv, b, CLADDING_COMPONENT_PROXY);
    break;
  case CL_CONTAINER_BRIDGE:
    push_bridge_volumes(argv, b);
    break;
  case CL_CONTAINER_AGENT:
    push_component_volumes(argv, b, CLADDING_COMPONENT_AGENT);
    push_socket_volume(argv, b, SOCK_AGENT_INJECT);
    push_socket_volume(argv, b, SOCK_AGENT_EXPOSE);
    push_socket_volume(argv, b, SOCK_PROXY_AGENT);
    if (nw)
      push_socket_volume(argv, b, SOCK_RUN_NW);
    if (fs)
      push_socket_volume(argv, b, SOCK_RUN_FS);
    break;
  case CL_CONTAINER_NW_SANDBOX:
    push_component_volumes(argv, b, CLADDING_COMPONENT_NW_SANDBOX);
    push_socket_volume(argv, b, SOCK_PROXY_NW);
    push_socket_volume(argv, b, SOCK_RUN_NW);
    break;
  case CL_CONTAINER_FS_SANDBOX:
    push_component_volumes(argv, b, CLADDING_COMPONENT_FS_SANDBOX);
    push_socket_volume(argv, b, SOCK_RUN_FS);
    break;
  }
}

/* Appends `--entrypoint <command[0]> <image> <command[1..]>`. */
static void push_command(struct cl_strv *argv, const struct build_state *b,
                         enum cl_container_role role, const char *image)
{
  static const char *const proxy_args[] = {
      "-N", "-f", "/opt/cladding/proxy/squid.conf", NULL};
  static const char *const agent_args[] = {
      "--hold-eof",
      "--tcp-to-unix",
      "127.0.0.1:3128=/run/cladding/" SOCK_PROXY_AGENT "/proxy.sock",
      "--",
      "sleep",
      "infinity",
      NULL};
  static const char *const nw_args[] = {
      "--hold-eof",
      "--tcp-to-unix",
      "127.0.0.1:3128=/run/cladding/" SOCK_PROXY_NW "/proxy.sock",
      "--",
      "mcp-run",
      NULL};
  static const char *const fs_args[] = {"--", "mcp-run", NULL};
  const char *const *args = NULL;

  push_pair(argv, "--entrypoint",
            role == CL_CONTAINER_PROXY ? "squid" : BRIDGE_HELPER);
  cl_strv_push(argv, image);

  switch (role) {
  case CL_CONTAINER_PROXY:
    args = proxy_args;
    break;
  case CL_CONTAINER_BRIDGE:
    cl_strv_push(argv, "--hold-eof");
    push_pair(argv, "--unix-to-tcp",
              "/run/cladding/" SOCK_PROXY_AGENT "/proxy.sock=127.0.0.1:3128");
    if (b->config->nw_sandbox.enabled) {
      cl_strv_push(argv, "--hold-eof");
      push_pair(argv, "--unix-to-tcp",
                "/run/cladding/" SOCK_PROXY_NW "/proxy.sock=127.0.0.1:3129");
    }
    break;
  case CL_CONTAINER_AGENT:
    args = agent_args;
    break;
  case CL_CONTAINER_NW_SANDBOX:
    args = nw_args;
    break;
  case CL_CONTAINER_FS_SANDBOX:
    args = fs_args;
    break;
  }

  for (; args && *args; args++)
    cl_strv_push(argv, *args);
}

static void push_user_flags(struct cl_strv *argv, const struct cl_identity *id)
{
  if (id->euid != 0) {
    push_pair(argv, "--userns", "keep-id");
    return;
  }
  /* Podman rejects --userns keep-id for root, so rootful Podman gets the
   * invoking user's ids directly. */
  push_pair_owned(
      argv, "--user",
      cl_asprintf("%lu:%lu", (unsigned long)id->uid, (unsigned long)id->gid));
}

static char **build_run_argv(const struct build_state *b,
                             const struct cl_container_spec *c)
{
  const struct cl_config *config = b->config;
  bool standalone = !c->pod_member;
  struct cl_strv argv = {0};

  cl_strv_push(&argv, "podman");
  if (standalone && config->use_runsc) {
    for (size_t i = 0; i < sizeof(runsc_flags) / sizeof(runsc_flags[0]); i++)
      cl_strv_push(&argv, runsc_flags[i]);
  }
  cl_strv_push(&argv, "run");
  cl_strv_push(&argv, "-d");

  if (c->pod_member)
    push_pair(&argv, "--pod", b->spec->pod_name);
  cl_label_args(&argv, cl_container_role_app(c->role), config->name,
                b->spec->root);
  if (standalone) {
    push_pair(&argv, "--network", "none");
    push_user_flags(&argv, b->id);
    /* The agent and the sandboxes need no capability.  Rootful Podman runs
     * them as uid 0, so without this they could create device nodes or
     * chown files in the host directories they mount.  no-new-privileges
     * keeps setuid binaries of the image from gaining any back. */
    push_pair(&argv, "--cap-drop", "all");
    push_pair(&argv, "--security-opt", "no-new-privileges");
    push_pair_owned(&argv, "--hostname",
                    cl_container_hostname(config->name, c->role));
  }
  push_pair(&argv, "--name", c->name);
  if (c->role == CL_CONTAINER_PROXY)
    push_pair(&argv, "--user", "proxy");

  if (standalone)
    push_pair(&argv, "--workdir", WORKSPACE);
  if (c->role == CL_CONTAINER_AGENT) {
    cl_strv_push(&argv, "-i");
    cl_strv_push(&argv, "-t");
  }

  push_env_list(&argv, b, c->role);
  push_volume_list(&argv, b, c->role);
  if (c->role == CL_CONTAINER_PROXY) {
    push_pair(&argv, "--expose", "3128");
    push_pair(&argv, "--expose", "3129");
  }
  push_command(&argv, b, c->role, c->image);
  return argv.items;
}

static const char *role_image(const struct cl_config *config,
                              enum cl_container_role role)
{
  switch (role) {
  case CL_CONTAINER_AGENT:
    return config->agent.image;
  case CL_CONTAINER_NW_SANDBOX:
    return config->nw_sandbox.image;
  case CL_CONTAINER_FS_SANDBOX:
    return config->fs_sandbox.image;
  case CL_CONTAINER_PROXY:
  case CL_CONTAINER_BRIDGE:
    break;
  }
  return config->proxy_image;
}

static void build_containers(const struct build_state *b,
                             struct cl_runtime_spec *spec)
{
  const struct cl_config *config = b->config;

  spec->containers =
      cl_xcalloc(CL_CONTAINER_ROLE_COUNT, sizeof(*spec->containers));
  for (int role = 0; role < CL_CONTAINER_ROLE_COUNT; role++) {
    struct cl_container_spec *c;

    if (!cl_container_role_enabled(config, role))
      continue;
    c = &spec->containers[spec->container_count++];
    c->role = role;
    c->component = role_names[role];
    c->name = cl_container_name(config->name, role);
    c->image = cl_xstrdup(role_image(config, role));
    c->pod_member = role == CL_CONTAINER_PROXY || role == CL_CONTAINER_BRIDGE;
    c->argv = build_run_argv(b, c);
  }
}

static void build_sockets(const struct cl_config *config,
                          struct cl_runtime_spec *spec)
{
  bool nw = config->nw_sandbox.enabled;
  bool fs = config->fs_sandbox.enabled;

  cl_strv_push(&spec->socket_dirs, SOCK_AGENT_INJECT);
  cl_strv_push(&spec->socket_dirs, SOCK_AGENT_EXPOSE);
  cl_strv_push(&spec->socket_dirs, SOCK_PROXY_AGENT);
  if (nw) {
    cl_strv_push(&spec->socket_dirs, SOCK_PROXY_NW);
    cl_strv_push(&spec->socket_dirs, SOCK_RUN_NW);
  }
  if (fs)
    cl_strv_push(&spec->socket_dirs, SOCK_RUN_FS);

  cl_strv_push(&spec->ready_sockets, SOCK_PROXY_AGENT "/proxy.sock");
  if (nw) {
    cl_strv_push(&spec->ready_sockets, SOCK_PROXY_NW "/proxy.sock");
    cl_strv_push(&spec->ready_sockets, SOCK_RUN_NW "/run.sock");
  }
  if (fs)
    cl_strv_push(&spec->ready_sockets, SOCK_RUN_FS "/run.sock");

  spec->listeners[spec->listener_count++] =
      (struct cl_squid_listener){3128, SOCK_PROXY_AGENT "/proxy.sock"};
  if (nw)
    spec->listeners[spec->listener_count++] =
        (struct cl_squid_listener){3129, SOCK_PROXY_NW "/proxy.sock"};
}

static void build_summary(const struct cl_config *config,
                          struct cl_runtime_spec *spec)
{
  bool nw = config->nw_sandbox.enabled;
  struct cl_strv *lines = &spec->summary;

  cl_strv_push_owned(
      lines, cl_asprintf("running: %s (%s)", spec->name, spec->canonical_root));
  for (size_t i = 0; i < spec->container_count; i++) {
    const struct cl_container_spec *c = &spec->containers[i];
    const char *detail = "";

    switch (c->role) {
    case CL_CONTAINER_PROXY:
      detail = nw ? "squid 127.0.0.1:3128 (agent), 127.0.0.1:3129 (nw-sandbox)"
                  : "squid 127.0.0.1:3128 (agent)";
      break;
    case CL_CONTAINER_BRIDGE:
      detail = nw ? SOCK_PROXY_AGENT "/proxy.sock, " SOCK_PROXY_NW "/proxy.sock"
                  : SOCK_PROXY_AGENT "/proxy.sock";
      break;
    case CL_CONTAINER_AGENT:
      cl_strv_push_owned(lines,
                         cl_asprintf("  %s  %s  workspace %s", c->component,
                                     c->name, spec->project_dir));
      continue;
    case CL_CONTAINER_NW_SANDBOX:
      detail = SOCK_RUN_NW "/run.sock";
      break;
    case CL_CONTAINER_FS_SANDBOX:
      detail = SOCK_RUN_FS "/run.sock";
      break;
    }
    cl_strv_push_owned(
        lines, cl_asprintf("  %s  %s  %s", c->component, c->name, detail));
  }
}

static char *canonical_or_raw(const char *path)
{
  char *resolved = realpath(path, NULL);

  return resolved ? resolved : cl_xstrdup(path);
}

void cl_runtime_spec_build(const struct cl_config *config, const char *root,
                           const struct cl_identity *id, bool selinux,
                           struct cl_runtime_spec *out)
{
  struct build_state b = {
      .config = config, .spec = out, .id = id, .selinux = selinux};

  memset(out, 0, sizeof(*out));
  out->name = cl_xstrdup(config->name);
  out->root = cl_xstrdup(root);
  out->canonical_root = canonical_or_raw(root);
  out->project_dir = cl_project_dir_of(root);
  out->pod_name = cl_pod_name(config->name);
  out->sockets_dir = cl_path_join(root, "runtime/sockets");

  out->pod_create_argv = build_pod_create_argv(&b);
  build_containers(&b, out);
  build_sockets(config, out);
  cl_required_host_paths(config, root, &out->required_paths);
  build_summary(config, out);
}

void cl_runtime_spec_free(struct cl_runtime_spec *spec)
{
  free(spec->name);
  free(spec->root);
  free(spec->canonical_root);
  free(spec->project_dir);
  free(spec->pod_name);
  free(spec->sockets_dir);
  cl_argv_free(spec->pod_create_argv);
  for (size_t i = 0; i < spec->container_count; i++) {
    free(spec->containers[i].name);
    free(spec->containers[i].image);
    cl_argv_free(spec->containers[i].argv);
  }
  free(spec->containers);
  cl_strv_free(&spec->socket_dirs);
  cl_strv_free(&spec->ready_sockets);
  cl_strv_free(&spec->required_paths);
  cl_strv_free(&spec->summary);
  memset(spec, 0, sizeof(*spec));
}

const struct cl_container_spec *
cl_runtime_spec_container(const struct cl_runtime_spec *spec,
                          enum cl_container_role role)
{
  for (size_t i = 0; i < spec->container_count; i++) {
    if (spec->containers[i].role == role)
      return &spec->containers[i];
  }
  return NULL;
}
