/* cladding plugin ABI.
 *
 * A plugin is a libtool module that exports exactly one symbol,
 * `cladding_plugin`, a `const struct cladding_plugin`.  The core loads every
 * module it finds, checks the ABI major version, and registers the commands of
 * the table.  A handler reaches the core only through the services table it is
 * given; no jansson or libuv type crosses this boundary.
 *
 * Compatibility rules:
 * - The major version changes when a structure below changes layout or a
 *   function changes meaning.  The core rejects plugins of another major.
 * - The minor version grows when the services table gains entries at its
 *   end.  A plugin that needs a newer entry checks `services->size` (or
 *   `CLADDING_HAS_SERVICE`) before calling it.
 */
#ifndef CLADDING_PLUGIN_H
#define CLADDING_PLUGIN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CLADDING_PLUGIN_ABI_MAJOR 1
#define CLADDING_PLUGIN_ABI_MINOR 0
#define CLADDING_PLUGIN_ABI_VERSION                                            \
  ((uint32_t)CLADDING_PLUGIN_ABI_MAJOR << 16 | CLADDING_PLUGIN_ABI_MINOR)
#define CLADDING_ABI_MAJOR_OF(version) ((uint32_t)(version) >> 16)

/* The name of the one symbol a plugin exports. */
#define CLADDING_PLUGIN_SYMBOL "cladding_plugin"

#if defined(__GNUC__)
#define CLADDING_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define CLADDING_EXPORT __attribute__((visibility("default")))
#else
#define CLADDING_PRINTF(fmt, args)
#define CLADDING_EXPORT
#endif

/* Opaque per-invocation state owned by the core. */
struct cladding_context;
struct cladding_services;
struct cladding_process_result;
struct cladding_forward_spec;

/* Flags of a command, checked by the core once before the handler runs. */
enum cladding_command_flags {
  /* Discovery must find a project, else "missing .cladding". */
  CLADDING_NEEDS_PROJECT = 1u << 0,
  /* Load and validate cladding.json before the handler (implies a project). */
  CLADDING_NEEDS_CONFIG = 1u << 1,
  /* `podman` must be an executable on PATH. */
  CLADDING_NEEDS_PODMAN = 1u << 2,
  /* Options are recognised only before the first positional argument; the
   * rest of the command line reaches the handler untouched. */
  CLADDING_OPTIONS_FIRST = 1u << 3,
  /* Hold the project's lock (ROOT/runtime/lock) while the handler runs, so
   * two commands that change the runtime never interleave. */
  CLADDING_LOCKS_PROJECT = 1u << 4,
};

/* One option of a command.  An option without `value_name` is a flag. */
struct cladding_option {
  const char *long_name;  /* without the leading "--" */
  char short_name;        /* 0 when the option has no short form */
  const char *value_name; /* e.g. "SECONDS"; NULL for a flag */
  const char *help;       /* one line, printed by `cladding help COMMAND` */
};

/* One command.  A table of commands ends with an entry whose name is NULL. */
struct cladding_command {
  const char *name;
  const char *summary;  /* the one-liner of the top-level help */
  const char *synopsis; /* arguments after the command name, may be "" */
  const struct cladding_option
      *options;   /* ends with long_name NULL; may be NULL */
  unsigned flags; /* enum cladding_command_flags */
  int min_args;   /* positional arguments required */
  int max_args;   /* -1 for no limit */
  /* Runs the command with its positional arguments (argv[0] is the command
   * name) and returns the exit status.  Handlers never call exit(). */
  int (*handler)(struct cladding_context *ctx,
                 const struct cladding_services *svc, int argc, char **argv);
  /* Optional: checks typed values (ports, --timeout, ...) after parsing and
   * before any project discovery; returns 0, or the status of a
   * `usage_error`. */
  int (*validate)(struct cladding_context *ctx,
                  const struct cladding_services *svc, int argc, char **argv);
};

/* Kinds of diagnostic line.  Each kind prints its own prefix on stderr,
 * except CLADDING_LOG_PLAIN (stderr, no prefix) and CLADDING_LOG_OUT (stdout,
 * no prefix). */
enum cladding_log_kind {
  CLADDING_LOG_ERROR,    /* "error: " */
  CLADDING_LOG_HINT,     /* "hint: " */
  CLADDING_LOG_MISSING,  /* "missing: " */
  CLADDING_LOG_OUTDATED, /* "outdated: " */
  CLADDING_LOG_WARNING,  /* "warning: " */
  CLADDING_LOG_FILE,     /* "file: " */
  CLADDING_LOG_PLAIN,
  CLADDING_LOG_OUT,
};

/* Components of a project, in their start order. */
enum cladding_component {
  CLADDING_COMPONENT_AGENT,
  CLADDING_COMPONENT_NW_SANDBOX,
  CLADDING_COMPONENT_FS_SANDBOX,
  CLADDING_COMPONENT_PROXY,
};

/* One resolved `--volume` of a component, valid while the context lives. */
struct cladding_volume {
  const char *source;  /* host path or volume name */
  const char *target;  /* path inside the container, normalised */
  const char *options; /* "", "ro", "ro,nocopy", possibly with ",z" */
  int is_bind;         /* 1 for a host path, 0 for a named volume */
};

/* Steps of `check`, run one at a time through `check_step`. */
enum cladding_check_step {
  CLADDING_CHECK_LEGACY,         /* legacy config names (warns, see below) */
  CLADDING_CHECK_OBSOLETE,       /* obsolete paths: warnings, never fails */
  CLADDING_CHECK_TOOLS,          /* helpers in tools/bin present and current */
  CLADDING_CHECK_RUNSC,          /* runsc available (only with use_runsc) */
  CLADDING_CHECK_CONFIG_ENTRIES, /* required files under ROOT/config */
  CLADDING_CHECK_ALLOWLISTS,     /* the proxy allowlists are valid */
  CLADDING_CHECK_IMAGES,         /* every configured image exists */
  CLADDING_CHECK_HOST_PATHS,     /* every bind-mounted host path exists */
};

/* State of a project as the inventory shows it. */
enum cladding_project_state {
  CLADDING_PROJECT_STOPPED,    /* nothing of the project exists */
  CLADDING_PROJECT_RUNNING,    /* every expected container runs */
  CLADDING_PROJECT_INCOMPLETE, /* anything else */
};

/* Flags of `spawn`. */
enum cladding_spawn_flags {
  CLADDING_SPAWN_CAPTURE_OUT = 1u << 0, /* collect stdout, else inherit it */
  CLADDING_SPAWN_CAPTURE_ERR = 1u << 1, /* collect stderr, else inherit it */
  CLADDING_SPAWN_NULL_STDIN = 1u << 2,  /* stdin from /dev/null */
  CLADDING_SPAWN_TRACE = 1u << 3,       /* print "+ argv" when tracing is on */
  /* Catch SIGINT, SIGTERM and SIGHUP while the child runs, pass them to the
   * child, and record the last one for `interrupted`. */
  CLADDING_SPAWN_FORWARD_SIGNALS = 1u << 4,
};

/* The outcome of a child started through `spawn`. */
struct cladding_process_result {
  int exit_status; /* the status, or 128+N when killed by signal N */
  int term_signal; /* the signal that killed the child, or 0 */
  char *out;       /* captured stdout, NUL-terminated, or NULL */
  size_t out_len;
  char *err; /* captured stderr, NUL-terminated, or NULL */
  size_t err_len;
};

/* The services the core offers to handlers.  The table starts with its ABI
 * version and its size and only grows at the end. */
struct cladding_services {
  uint32_t abi_version; /* CLADDING_PLUGIN_ABI_VERSION of the core */
  uint32_t size;        /* sizeof(struct cladding_services) in the core */

  /* Diagnostics (spec: error, hint, missing, ... lines, then one final
   * line).  `fail` prints the final line and returns `status`, so a handler
   * ends with `return svc->fail(ctx, 1, "missing tools");`. */
  void (*log)(struct cladding_context *ctx, enum cladding_log_kind kind,
              const char *fmt, ...) CLADDING_PRINTF(3, 4);
  int (*fail)(struct cladding_context *ctx, int status, const char *fmt, ...)
      CLADDING_PRINTF(3, 4);
  /* Prints "error: <message>" and the command's usage line; returns 2. */
  int (*usage_error)(struct cladding_context *ctx, const char *fmt, ...)
      CLADDING_PRINTF(2, 3);

  /* Parsed options.  `option` returns the last value given for a valued
   * option, "" for a flag that was given, and NULL when absent. */
  const char *(*option)(struct cladding_context *ctx, const char *long_name);
  /* Every value of a repeatable option, in command-line order. */
  size_t (*option_values)(struct cladding_context *ctx, const char *long_name,
                          const char *const **values);

  /* Paths.  Project paths are absolute; NULL when the command has none. */
  const char *(*cwd)(struct cladding_context *ctx);
  const char *(*project_root)(struct cladding_context *ctx); /* ROOT */
  const char *(*project_dir)(struct cladding_context *ctx);  /* PROJ */
  /* 1 when ROOT came from --project-root or discovery, 0 when it is the
   * default `<cwd>/.cladding` of a command without a project. */
  int (*project_found)(struct cladding_context *ctx);
  const char *(*data_dir)(struct cladding_context *ctx);
  const char *(*libexec_dir)(struct cladding_context *ctx);

  /* Configuration (valid for commands with CLADDING_NEEDS_CONFIG). */
  const char *(*config_name)(struct cladding_context *ctx);
  int (*config_enabled)(struct cladding_context *ctx,
                        enum cladding_component component);
  const char *(*config_image)(struct cladding_context *ctx,
                              enum cladding_component component);
  int (*config_use_runsc)(struct cladding_context *ctx);
  const char *(*config_base_image)(struct cladding_context *ctx);
  size_t (*config_proxy_host_count)(struct cladding_context *ctx);
  int (*config_proxy_host)(struct cladding_context *ctx, size_t index,
                           const char **hostname, const char **address);
  /* Volumes of a component after defaults and custom mounts (without the
   * socket directories, which the runtime adds). */
  size_t (*volume_count)(struct cladding_context *ctx,
                         enum cladding_component component);
  const struct cladding_volume *(*volume)(struct cladding_context *ctx,
                                          enum cladding_component component,
                                          size_t index);

  /* Quotes `argv` for a POSIX shell, elements joined by single spaces.
   * The caller frees the result with free(). */
  char *(*shell_quote_argv)(const char *const *argv);
  /* Prints "+ <quoted argv>" on stderr when tracing is on. */
  void (*trace)(struct cladding_context *ctx, const char *const *argv);
  void (*set_trace)(struct cladding_context *ctx, int on);

  /* Writes `len` bytes to `path` through a temporary file in the same
   * directory and a rename, so readers see the old or the new file, never a
   * part.  Returns 0 or a negative errno. */
  int (*write_file_atomic)(const char *path, const void *data, size_t len,
                           unsigned mode);

  /* Runs argv[0], looked up through PATH, and waits for it.  Returns 0 with
   * `result` filled (free it with `process_result_free`), or a negative
   * errno when the child could not be started. */
  int (*spawn)(struct cladding_context *ctx, const char *const *argv,
               unsigned flags, struct cladding_process_result *result);
  void (*process_result_free)(struct cladding_process_result *result);
  /* The last signal caught by a spawn with CLADDING_SPAWN_FORWARD_SIGNALS,
   * or 0. */
  int (*interrupted)(struct cladding_context *ctx);

  /* Runs one check step.  CLADDING_CHECK_LEGACY prints its findings and
   * returns 0; `legacy_found` then returns whether to fail at the end.  Other
   * steps return 0, or print their final line and return the status. */
  int (*check_step)(struct cladding_context *ctx,
                    enum cladding_check_step step);
  int (*legacy_found)(struct cladding_context *ctx);

  /* Takes the inventory (traced) and resolves the project state.  A
   * conflict with another root prints its lines and returns the status;
   * otherwise returns 0 with `state` set. */
  int (*project_state)(struct cladding_context *ctx,
                       enum cladding_project_state *state);
  /* Prints the incomplete-runtime error for the last `project_state`. */
  void (*report_incomplete)(struct cladding_context *ctx);
  /* The state of a container of this project in the last inventory
   * ("running", "exited", ...), or NULL when it does not exist. */
  const char *(*container_state)(struct cladding_context *ctx,
                                 const char *container);
  /* The name of a component's container, e.g. "demo-agent-instance". */
  const char *(*container_name)(struct cladding_context *ctx,
                                enum cladding_component component);

  /* The runtime specification of the loaded config. */
  const char *const *(*runtime_pod_argv)(struct cladding_context *ctx);
  const char *(*runtime_pod_name)(struct cladding_context *ctx);
  size_t (*runtime_container_count)(struct cladding_context *ctx);
  /* Returns the name of container `index` (start order) and sets `argv`
   * to its `podman run` command. */
  const char *(*runtime_container)(struct cladding_context *ctx, size_t index,
                                   const char *const **argv);
  size_t (*runtime_summary)(struct cladding_context *ctx,
                            const char *const **lines);
  /* Recreates ROOT/runtime/sockets (mode 0700) with the directories of
   * the enabled components, and the empty mask directory. */
  int (*runtime_prepare_dirs)(struct cladding_context *ctx);
  /* Writes ROOT/runtime/proxy for a new generation. */
  int (*proxy_write)(struct cladding_context *ctx);
  /* Waits for sockets, Squid listeners and containers, at most `timeout`
   * seconds.  On failure prints the items and log tails, returns 1. */
  int (*runtime_wait_ready)(struct cladding_context *ctx, int timeout);
  /* Removes every container and pod of the project found by labels, then
   * the socket directory, continuing past failures. */
  int (*runtime_down)(struct cladding_context *ctx);
  /* Removes the named containers (in reverse order), the pod when not
   * NULL, and the generated runtime directories; failures are warnings. */
  void (*runtime_rollback)(struct cladding_context *ctx,
                           const char *const *containers, const char *pod);
  /* While on, SIGINT, SIGTERM and SIGHUP only set `interrupted`. */
  void (*catch_signals)(struct cladding_context *ctx, int on);
  /* Loads cladding.json for a command without CLADDING_NEEDS_CONFIG. */
  int (*load_config)(struct cladding_context *ctx);
  /* Prints every labelled project and its containers (`ps`). */
  int (*ps)(struct cladding_context *ctx, int json);
  /* The working directory inside `component` for the current directory,
   * or NULL after printing the failure (exit 1).  Caller frees. */
  char *(*workdir)(struct cladding_context *ctx,
                   enum cladding_component component);
  /* Validates and writes the proxy configuration into next/, has Squid
   * parse it, moves it live, signals Squid and waits at most `timeout`
   * seconds for the new generation (`reload-proxy`). */
  int (*proxy_reload)(struct cladding_context *ctx, int timeout);
  /* Takes the inventory and requires the container of `component` to run:
   * a stopped project, a missing or a stopped container print their error
   * and return 1; an otherwise incomplete project prints a warning and
   * returns 0. */
  int (*require_running)(struct cladding_context *ctx,
                         enum cladding_component component);
  /* Like `spawn` with inherited stdio, except that the first SIGINT or
   * SIGTERM runs `stop_argv` once (its failure is a warning) while the
   * wait for the child goes on. */
  int (*spawn_with_stop)(struct cladding_context *ctx, const char *const *argv,
                         const char *const *stop_argv,
                         struct cladding_process_result *result);

  /* Expose and inject: the bridge service. */
  /* Sets `found` to 1 when `podman container inspect <container>` lists a
   * mount whose destination is `destination`, else to 0.  Returns 0, or
   * prints the failure with its final line and returns the status. */
  int (*container_has_mount)(struct cladding_context *ctx,
                             const char *container, const char *destination,
                             int *found);
  /* Runs a forwarding session (see struct cladding_forward_spec) until
   * SIGINT, SIGTERM or SIGHUP, or until its agent side or host listener
   * fails, then cleans up.  Returns the exit status: 0 after a signal,
   * otherwise the status of the failure, whose messages it printed. */
  int (*forward_run)(struct cladding_context *ctx,
                     const struct cladding_forward_spec *spec);

  /* While on, services that fail keep their final line instead of
   * printing it, so a command can print its own lines (a rollback) first.
   * Turning it off prints the first kept line and returns its status, or
   * returns 0 when none was kept. */
  int (*defer_final_line)(struct cladding_context *ctx, int on);
  /* Reads an integer option between `min` and `max`, or `fallback` when
   * the option is absent.  A bad value is a usage error: prints it and
   * returns 2.  Returns 0 otherwise. */
  int (*option_int)(struct cladding_context *ctx, const char *long_name,
                    long min, long max, long fallback, long *value);
};

/* The direction of the host side of a forwarding session. */
enum cladding_forward_kind {
  /* Listen on TCP `host`:`port` and connect each client to the Unix socket
   * that the agent side creates in `dir` (expose). */
  CLADDING_FORWARD_TCP_TO_UNIX,
  /* Listen on a Unix socket in `dir`, created before the agent side starts,
   * and connect each client to TCP `host`:`port`, resolved again for every
   * connection (inject). */
  CLADDING_FORWARD_UNIX_TO_TCP,
};

/* A forwarding session between the host and a container.  `dir` is the
 * session's own socket directory: the core creates it, holds the flock of
 * `dir`/lock for the whole run, removes what an earlier crashed run left
 * there, and removes the directory at the end.  The container may write to
 * the directory that contains `dir`, so the core follows no symbolic link
 * at `dir` or inside it.  Strings are borrowed for the duration of
 * `forward_run`. */
struct cladding_forward_spec {
  size_t size; /* sizeof(struct cladding_forward_spec) of the caller */
  enum cladding_forward_kind kind;
  const char *command;     /* "expose" or "inject", as messages name it */
  const char *dir;         /* host socket directory, absolute */
  const char *socket_name; /* the Unix socket in `dir`, e.g. "agent.sock" */
  const char *pid_name;    /* the agent side's pid file in `dir` */
  int container_port;      /* named in the "already in use" hint */
  const char *host;        /* TCP side: listen address or target host */
  int port;                /* TCP side: listen or target port */
  /* Starts the agent side; it must write `dir`/`pid_name` once it
   * listens, and keep running.  It runs with stdin from /dev/null in a
   * process group of its own. */
  const char *const *agent_argv;
  /* Stops the agent side through its pid file; run at the end and for a
   * pid file left by an earlier run. */
  const char *const *stop_argv;
  const char *ready_line; /* printed on stdout once both sides listen */
};

/* Tells whether `svc` is recent enough to contain `member`. */
#define CLADDING_HAS_SERVICE(svc, member)                                      \
  ((svc)->size >=                                                              \
   offsetof(struct cladding_services, member) + sizeof((svc)->member))

/* The exported description of a plugin. */
struct cladding_plugin {
  uint32_t
      abi_version; /* CLADDING_PLUGIN_ABI_VERSION the plugin was built with */
  const char *name;
  const char *version;
  const struct cladding_command *commands; /* ends with name NULL */
  /* Optional hooks, called once after loading and once before unloading.
   * A non-zero return from init skips the plugin with a warning. */
  int (*init)(const struct cladding_services *services);
  void (*fini)(void);
};

#ifdef __cplusplus
}
#endif

#endif /* CLADDING_PLUGIN_H */
