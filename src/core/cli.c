#include "config-host.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "context.h"
#include "project.h"
#include "src/core/version.h"
#include "util.h"

#define TOP_SYNOPSIS "<command> [<args>]"

static const struct cladding_command help_command = {
    .name = "help",
    .summary = "Show help for cladding or for one command",
    .synopsis = "[COMMAND]",
    .max_args = 1,
};

static void print_usage_line(FILE *stream, const struct cladding_command *cmd)
{
  if (cmd == NULL)
    fprintf(stream, "usage: cladding %s\n", TOP_SYNOPSIS);
  else if (*cmd->synopsis == '\0')
    fprintf(stream, "usage: cladding %s\n", cmd->name);
  else
    fprintf(stream, "usage: cladding %s %s\n", cmd->name, cmd->synopsis);
}

int cl_usage_error(const struct cladding_command *command, const char *fmt, ...)
{
  FILE *stream = cl_log_err_stream();
  va_list ap;

  va_start(ap, fmt);
  fflush(cl_log_out_stream());
  fputs("error: ", stream);
  vfprintf(stream, fmt, ap);
  fputc('\n', stream);
  va_end(ap);
  print_usage_line(stream, command);
  fflush(stream);
  return 2;
}

static void print_top_help(FILE *stream, const struct cl_registry *registry)
{
  struct cl_strv missing = {0};

  print_usage_line(stream, NULL);
  fputs("\nRun an AI coding agent in Podman containers without a network.\n\n"
        "Commands:\n",
        stream);
  for (size_t i = 0; i < registry->command_count; i++) {
    const struct cladding_command *c = registry->commands[i].command;

    fprintf(stream, "  %-19s %s\n", c->name, c->summary);
  }
  fprintf(stream, "  %-19s %s\n", help_command.name, help_command.summary);

  for (const char *const *name =
           (const char *const[]){"build", "init", "check", "up", "down",
                                 "destroy", "run", "run-with-scissors", "logs",
                                 "reload-proxy", "ps", "expose", "inject",
                                 NULL};
       *name; name++) {
    if (cl_registry_find(registry, *name) == NULL)
      cl_strv_push(&missing, *name);
  }
  if (missing.count > 0) {
    fputs("\nNot installed (no plugin provides them):", stream);
    for (size_t i = 0; i < missing.count; i++)
      fprintf(stream, "%s %s", i ? "," : "", missing.items[i]);
    fputc('\n', stream);
  }
  cl_strv_free(&missing);

  fputs("\nGlobal options:\n"
        "  -h, --help          Show this help\n"
        "  --version           Show the version and the loaded plugins\n"
        "\nRun 'cladding help <command>' for the options of one command.\n",
        stream);
}

static void print_command_help(FILE *stream,
                               const struct cladding_command *command)
{
  print_usage_line(stream, command);
  fprintf(stream, "\n%s\n", command->summary);
  fputs("\nOptions:\n", stream);
  for (const struct cladding_option *o = command->options; o && o->long_name;
       o++) {
    char spec[64];

    if (o->short_name)
      snprintf(spec, sizeof(spec), "-%c, --%s%s%s", o->short_name, o->long_name,
               o->value_name ? " " : "", o->value_name ? o->value_name : "");
    else
      snprintf(spec, sizeof(spec), "--%s%s%s", o->long_name,
               o->value_name ? " " : "", o->value_name ? o->value_name : "");
    fprintf(stream, "  %-22s %s\n", spec, o->help);
  }
  fprintf(stream, "  %-22s %s\n", "-h, --help", "Show this help");
}

static void print_version(FILE *stream, const struct cl_registry *registry)
{
  fprintf(stream, "cladding %s\n", CL_VERSION);
  for (size_t i = 0; i < registry->plugin_count; i++)
    fprintf(stream, "plugin %s %s\n", registry->plugins[i]->plugin->name,
            registry->plugins[i]->plugin->version);
}

static char *joined_command_names(const struct cl_registry *registry)
{
  struct cl_strv names = {0};
  size_t len = 1;
  char *out;

  for (size_t i = 0; i < registry->command_count; i++)
    cl_strv_push(&names, registry->commands[i].command->name);
  cl_strv_push(&names, "help");
  for (size_t i = 0; i < names.count; i++)
    len += strlen(names.items[i]) + 2;
  out = cl_xcalloc(1, len);
  for (size_t i = 0; i < names.count; i++) {
    if (i > 0)
      strcat(out, ", ");
    strcat(out, names.items[i]);
  }
  cl_strv_free(&names);
  return out;
}

/* Reports a command that cladding does not provide: a product command whose
 * plugin is absent (exit 1), or an unknown name (usage error). */
static int report_unknown_command(const struct cl_registry *registry,
                                  const char *name)
{
  cleanup_free char *available = NULL;

  if (cl_known_command_plugin(name) != NULL) {
    cleanup_free char *dirs = cl_registry_dirs_joined(registry);

    cl_log(CLADDING_LOG_ERROR,
           "'%s' is not installed (no plugin in %s provides it)", name, dirs);
    cl_log(CLADDING_LOG_PLAIN, "'%s' is not installed", name);
    return 1;
  }
  available = joined_command_names(registry);
  return cl_usage_error(NULL, "unknown command '%s' (available: %s)", name,
                        available);
}

/* Matches `arg` ("--name" or "--name=value") against a long option name. */
static bool match_long(const char *arg, const char *name, const char **value)
{
  size_t len = strlen(name);

  if (strncmp(arg + 2, name, len) != 0)
    return false;
  if (arg[2 + len] == '\0') {
    *value = NULL;
    return true;
  }
  if (arg[2 + len] == '=') {
    *value = arg + 3 + len;
    return true;
  }
  return false;
}

/* Takes the value of an option from "--name=value" or the next word. */
static int take_value(const struct cladding_command *command, const char *arg,
                      const char *inline_value, int argc, char **argv, int *i,
                      const char **value)
{
  if (inline_value != NULL) {
    *value = inline_value;
    return 0;
  }
  if (*i + 1 >= argc)
    return cl_usage_error(command, "option '%s' requires a value", arg);
  *value = argv[++*i];
  return 0;
}

static struct cl_option_value *option_slot(struct cladding_context *ctx,
                                           const struct cladding_option *option)
{
  for (size_t i = 0; i < ctx->option_count; i++) {
    if (ctx->options[i].option == option)
      return &ctx->options[i];
  }
  return NULL;
}

/* Returns the name of required positional argument `index` (0-based) from
 * a synopsis such as "[--bind ADDR] CONTAINERPORT [HOSTPORT]", or NULL.
 * Bracketed groups are optional and skipped. */
static char *required_argument_name(const char *synopsis, int index)
{
  int depth = 0, seen = 0;

  for (const char *p = synopsis; *p;) {
    const char *start;

    if (*p == ' ') {
      p++;
      continue;
    }
    if (*p == '[' || *p == ']') {
      depth += *p == '[' ? 1 : -1;
      p++;
      continue;
    }
    start = p;
    while (*p && *p != ' ' && *p != '[' && *p != ']')
      p++;
    if (depth == 0 && *start != '-' && *start != '.' && seen++ == index)
      return cl_xstrndup(start, (size_t)(p - start));
  }
  return NULL;
}

enum parse_result { PARSE_OK, PARSE_HELP, PARSE_ERROR };

/* Parses the words after the command name into options and positionals.
 * Positionals land in `positional` (with the command name first). */
static enum parse_result parse_command_args(struct cladding_context *ctx,
                                            int argc, char **argv,
                                            struct cl_strv *positional)
{
  const struct cladding_command *command = ctx->command->command;
  bool options_first = (command->flags & CLADDING_OPTIONS_FIRST) != 0;
  bool options_done = false;

  cl_strv_push(positional, command->name);
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    const struct cladding_option *match = NULL;
    const char *inline_value = NULL;
    const char *value = "";

    if (options_done || arg[0] != '-' || arg[1] == '\0') {
      cl_strv_push(positional, arg);
      if (options_first)
        options_done = true;
      continue;
    }
    if (strcmp(arg, "--") == 0) {
      options_done = true;
      continue;
    }
    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
      return PARSE_HELP;
    if (match_long(arg, "project-root", &inline_value) && arg[1] == '-') {
      if (take_value(command, arg, inline_value, argc, argv, &i, &value))
        return PARSE_ERROR;
      free(ctx->explicit_root);
      ctx->explicit_root = cl_absolute_path(ctx->cwd, value);
      continue;
    }

    for (const struct cladding_option *o = command->options; o && o->long_name;
         o++) {
      if (arg[1] == '-' && match_long(arg, o->long_name, &inline_value)) {
        match = o;
        break;
      }
      if (arg[1] != '-' && o->short_name && arg[1] == o->short_name &&
          arg[2] == '\0') {
        match = o;
        inline_value = NULL;
        break;
      }
    }
    if (match == NULL) {
      cl_usage_error(command, "unknown option '%s'", arg);
      return PARSE_ERROR;
    }
    if (match->value_name == NULL && inline_value != NULL) {
      cl_usage_error(command, "option '--%s' takes no value", match->long_name);
      return PARSE_ERROR;
    }
    if (match->value_name != NULL &&
        take_value(command, arg, inline_value, argc, argv, &i, &value))
      return PARSE_ERROR;
    cl_strv_push(&option_slot(ctx, match)->values, value);
  }

  if ((int)positional->count - 1 < command->min_args) {
    cleanup_free char *name =
        required_argument_name(command->synopsis, (int)positional->count - 1);

    if (name != NULL)
      cl_usage_error(command, "missing argument %s", name);
    else
      cl_usage_error(command, "missing argument");
    return PARSE_ERROR;
  }
  if (command->max_args >= 0 &&
      (int)positional->count - 1 > command->max_args) {
    cl_usage_error(command, "unexpected argument '%s'",
                   positional->items[command->max_args + 1]);
    return PARSE_ERROR;
  }
  return PARSE_OK;
}

static bool has_config(const char *root)
{
  cleanup_free char *path = cl_path_join(root, "cladding.json");
  struct stat st;

  return stat(path, &st) == 0;
}

/* Returns the nearest `.cladding` with a cladding.json at or above `dir`,
 * passing over empty ones (mask mount points), or NULL. */
static char *find_configured_root(const char *dir)
{
  char *root = cl_find_project_root(dir);

  while (root != NULL && !has_config(root)) {
    cleanup_free char *proj = cl_project_dir_of(root);
    cleanup_free char *above = NULL;

    free(root);
    if (strcmp(proj, "/") == 0)
      return NULL;
    above = cl_path_dirname(proj);
    root = cl_find_project_root(above);
  }
  return root;
}

/* Finds ROOT from `cwd`, then looks for an enclosing project, whose
 * workspace the found directory would be part of.  An empty `.cladding`
 * there is the mount point of the enclosing project's mask (created when a
 * custom workspace mount starts below PROJ), so the enclosing project is
 * used.  A complete one gets a warning, because the enclosing project's
 * agent can write anywhere in its workspace. */
static char *discover_root(const char *cwd)
{
  char *found = cl_find_project_root(cwd);
  cleanup_free char *proj = NULL;
  cleanup_free char *above = NULL;
  char *outer;

  if (found == NULL)
    return NULL;
  proj = cl_project_dir_of(found);
  if (strcmp(proj, "/") == 0)
    return found;
  above = cl_path_dirname(proj);
  outer = find_configured_root(above);
  if (outer == NULL)
    return found;
  if (!has_config(found)) {
    free(found);
    return outer;
  }
  cl_log(CLADDING_LOG_WARNING,
         "%s lies inside the workspace of the project in %s, where its agent "
         "can write; make sure you created it",
         found, outer);
  free(outer);
  return found;
}

/* Resolves ROOT and PROJ, loads the config and checks for podman, as the
 * command's flags ask. */
static int prepare_command(struct cladding_context *ctx, struct cl_error *err)
{
  unsigned flags = ctx->command->command->flags;
  bool needs_project =
      (flags & (CLADDING_NEEDS_PROJECT | CLADDING_NEEDS_CONFIG)) != 0;

  if (ctx->explicit_root != NULL) {
    ctx->project_root = cl_xstrdup(ctx->explicit_root);
    ctx->project_found = true;
  } else {
    ctx->project_root = discover_root(ctx->cwd);
    ctx->project_found = ctx->project_root != NULL;
  }
  if (ctx->project_root == NULL) {
    if (needs_project)
      return cl_report_missing_project(ctx->cwd, err);
    ctx->project_root = cl_path_join(ctx->cwd, ".cladding");
  }
  ctx->project_dir = cl_project_dir_of(ctx->project_root);

  if (flags & CLADDING_NEEDS_CONFIG) {
    if (cl_config_load(ctx->project_root, &ctx->config, err) < 0)
      return -1;
    ctx->config_loaded = true;
  }

  if ((flags & CLADDING_NEEDS_PODMAN) && !cl_in_path("podman")) {
    cl_log(CLADDING_LOG_MISSING, "podman (required for cladding %s)",
           ctx->command->command->name);
    return cl_fail(err, 1, "missing podman");
  }
  return 0;
}

/* Takes the project's lock for a command that changes the runtime; waits,
 * saying so once, while another command holds it.  Returns the descriptor
 * that keeps the lock, or -1 with `err` set. */
static int lock_project(struct cladding_context *ctx, struct cl_error *err)
{
  cleanup_free char *dir = cl_path_join(ctx->project_root, "runtime");
  cleanup_free char *path = cl_path_join(dir, "lock");
  int ret = cl_mkdir_p(dir, 0755);
  int fd;

  if (ret < 0) {
    cl_log(CLADDING_LOG_ERROR, "failed to create %s: %s", dir, strerror(-ret));
    return cl_fail(err, 1, "failed to lock the project");
  }
  fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    cl_log(CLADDING_LOG_ERROR, "failed to open %s: %s", path, strerror(errno));
    return cl_fail(err, 1, "failed to lock the project");
  }
  if (flock(fd, LOCK_EX | LOCK_NB) == 0)
    return fd;
  cl_log(CLADDING_LOG_PLAIN,
         "waiting for another cladding command on %s to finish",
         ctx->project_root);
  while (flock(fd, LOCK_EX) < 0) {
    if (errno != EINTR) {
      cl_log(CLADDING_LOG_ERROR, "failed to lock %s: %s", path,
             strerror(errno));
      close(fd);
      return cl_fail(err, 1, "failed to lock the project");
    }
  }
  return fd;
}

static char *current_directory(void)
{
  char *cwd = getcwd(NULL, 0);

  if (cwd == NULL) {
    cl_log(CLADDING_LOG_ERROR, "cannot read the current directory: %s",
           strerror(errno));
    return NULL;
  }
  return cwd;
}

static int run_help(const struct cl_registry *registry, int argc, char **argv)
{
  const struct cl_command_entry *entry;
  const char *name = NULL;

  for (int i = 1; i < argc; i++) {
    const char *value = NULL;

    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      print_command_help(cl_log_out_stream(), &help_command);
      return 0;
    }
    if (match_long(argv[i], "project-root", &value) && value == NULL) {
      i++;
      continue;
    }
    if (value != NULL)
      continue;
    if (argv[i][0] == '-' && argv[i][1] != '\0')
      return cl_usage_error(&help_command, "unknown option '%s'", argv[i]);
    if (name != NULL)
      return cl_usage_error(&help_command, "unexpected argument '%s'", argv[i]);
    name = argv[i];
  }

  if (name == NULL) {
    print_top_help(cl_log_out_stream(), registry);
    return 0;
  }
  if (strcmp(name, "help") == 0) {
    print_command_help(cl_log_out_stream(), &help_command);
    return 0;
  }
  entry = cl_registry_find(registry, name);
  if (entry == NULL) {
    if (cl_known_command_plugin(name) != NULL)
      return report_unknown_command(registry, name);
    return cl_usage_error(&help_command, "unknown command '%s'", name);
  }
  print_command_help(cl_log_out_stream(), entry->command);
  return 0;
}

static int run_command(const struct cl_command_entry *entry,
                       struct cladding_context *ctx, int argc, char **argv)
{
  const struct cladding_command *command = entry->command;
  struct cl_strv positional = {0};
  struct cl_error err = {0};
  int status, lock_fd = -1;

  ctx->command = entry;
  for (const struct cladding_option *o = command->options; o && o->long_name;
       o++)
    ctx->option_count++;
  ctx->options = cl_xcalloc(ctx->option_count, sizeof(*ctx->options));
  for (size_t i = 0; i < ctx->option_count; i++)
    ctx->options[i].option = &command->options[i];

  switch (parse_command_args(ctx, argc, argv, &positional)) {
  case PARSE_HELP:
    print_command_help(cl_log_out_stream(), command);
    cl_strv_free(&positional);
    return 0;
  case PARSE_ERROR:
    cl_strv_free(&positional);
    return 2;
  case PARSE_OK:
    break;
  }

  if (command->validate != NULL) {
    status = command->validate(ctx, &cl_services, (int)positional.count,
                               positional.items);
    if (status != 0) {
      cl_strv_free(&positional);
      return status;
    }
  }

  if (prepare_command(ctx, &err) < 0) {
    cl_strv_free(&positional);
    return cl_error_report(&err);
  }

  if (command->flags & CLADDING_LOCKS_PROJECT) {
    lock_fd = lock_project(ctx, &err);
    if (lock_fd < 0) {
      cl_strv_free(&positional);
      return cl_error_report(&err);
    }
  }

  status = command->handler(ctx, &cl_services, (int)positional.count,
                            positional.items);
  if (lock_fd >= 0)
    close(lock_fd);
  cl_strv_free(&positional);
  return status;
}

int cl_run(struct cl_registry *registry, int argc, char **argv)
{
  struct cladding_context ctx = {0};
  const struct cl_command_entry *entry;
  const char *data_dir = getenv("CLADDING_DATA_DIR");
  const char *libexec_dir = getenv("CLADDING_LIBEXEC_DIR");
  int i, status;

  ctx.data_dir = data_dir && *data_dir ? data_dir : CL_DATA_DIR;
  ctx.libexec_dir = libexec_dir && *libexec_dir ? libexec_dir : CL_LIBEXEC_DIR;
  ctx.cwd = current_directory();
  if (ctx.cwd == NULL) {
    cl_log(CLADDING_LOG_PLAIN, "failed to read the current directory");
    return 1;
  }

  for (i = 1; i < argc; i++) {
    const char *arg = argv[i];
    const char *value = NULL;

    if (strcmp(arg, "--version") == 0) {
      print_version(cl_log_out_stream(), registry);
      cl_context_free(&ctx);
      return 0;
    }
    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
      print_top_help(cl_log_out_stream(), registry);
      cl_context_free(&ctx);
      return 0;
    }
    if (strncmp(arg, "--", 2) == 0 && match_long(arg, "project-root", &value)) {
      if (value == NULL) {
        if (i + 1 >= argc) {
          cl_context_free(&ctx);
          return cl_usage_error(NULL, "option '%s' requires a value", arg);
        }
        value = argv[++i];
      }
      free(ctx.explicit_root);
      ctx.explicit_root = cl_absolute_path(ctx.cwd, value);
      continue;
    }
    if (arg[0] == '-' && arg[1] != '\0') {
      cl_context_free(&ctx);
      return cl_usage_error(NULL, "unknown option '%s'", arg);
    }
    break;
  }

  if (i >= argc) {
    print_top_help(cl_log_err_stream(), registry);
    cl_context_free(&ctx);
    return 2;
  }

  if (strcmp(argv[i], "help") == 0) {
    status = run_help(registry, argc - i, argv + i);
    cl_context_free(&ctx);
    return status;
  }

  entry = cl_registry_find(registry, argv[i]);
  if (entry == NULL) {
    status = report_unknown_command(registry, argv[i]);
    cl_context_free(&ctx);
    return status;
  }

  status = run_command(entry, &ctx, argc - i, argv + i);
  cl_context_free(&ctx);
  return status;
}

int cl_main(int argc, char **argv)
{
  struct cl_registry registry = {0};
  int status;

  cl_registry_set_dirs(&registry, getenv("CLADDING_PLUGIN_PATH"),
                       CL_PLUGIN_DIR);
  cl_registry_load(&registry, &cl_services);
  status = cl_run(&registry, argc, argv);
  cl_registry_free(&registry);
  return status;
}
