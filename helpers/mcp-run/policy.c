/* Loading, reloading and evaluating the Rego policy. */
#include "config-host.h"

#include "policy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "rego/rego.h"
#include "util.h"

#define LOAD_PREFIX "rego policy load failed: "
/* Directory symlinks are followed, so nesting is bounded to stop a walk
 * that keeps finding new directories. */
#define MAX_DEPTH 64

struct module_file {
  char *path;
  off_t size;
  struct timespec mtime;
};

struct fingerprint {
  struct module_file *files;
  size_t count;
};

struct policy {
  char *dir;
  enum policy_mode mode;
  struct rego_engine *engine; /* the active snapshot in rego mode */
  struct fingerprint active;  /* fingerprint of that snapshot */
  char *deny_reason;
};

static void fingerprint_free(struct fingerprint *fp)
{
  size_t i;

  for (i = 0; i < fp->count; i++)
    free(fp->files[i].path);
  free(fp->files);
  fp->files = NULL;
  fp->count = 0;
}

static void fingerprint_add(struct fingerprint *fp, char *path)
{
  fp->files = mr_xrealloc(fp->files, (fp->count + 1) * sizeof(*fp->files));
  memset(&fp->files[fp->count], 0, sizeof(*fp->files));
  fp->files[fp->count].path = path;
  fp->count++;
}

static bool is_module_name(const char *name)
{
  size_t len = strlen(name);

  return len > 5 && strcmp(name + len - 5, ".rego") == 0;
}

struct dir_id {
  dev_t dev;
  ino_t ino;
};

/* Collects the module paths under dir, following directory symlinks.
 * ancestors contains the directories being walked, so a symlink back to one
 * of them is reported as a cycle (ELOOP). */
static int walk(const char *dir, struct fingerprint *out,
                struct dir_id *ancestors, unsigned depth, char **error)
{
  struct dirent *entry;
  struct stat st;
  DIR *d;

  if (stat(dir, &st) < 0) {
    *error = mr_asprintf("failed reading policy directory '%s': %s", dir,
                         mr_strerror(errno));
    return -1;
  }
  for (unsigned i = 0; i < depth; i++) {
    if (ancestors[i].dev == st.st_dev && ancestors[i].ino == st.st_ino) {
      *error = mr_asprintf("failed reading policy directory '%s': %s", dir,
                           mr_strerror(ELOOP));
      return -1;
    }
  }
  if (depth >= MAX_DEPTH) {
    *error = mr_asprintf("failed reading policy directory '%s': %s", dir,
                         mr_strerror(ELOOP));
    return -1;
  }
  ancestors[depth].dev = st.st_dev;
  ancestors[depth].ino = st.st_ino;

  d = opendir(dir);
  if (d == NULL) {
    *error = mr_asprintf("failed reading policy directory '%s': %s", dir,
                         mr_strerror(errno));
    return -1;
  }
  for (;;) {
    char *path;

    errno = 0;
    entry = readdir(d);
    if (entry == NULL)
      break;
    if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
      continue;

    path = mr_asprintf("%s/%s", dir, entry->d_name);
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
      int rc = walk(path, out, ancestors, depth + 1, error);

      free(path);
      if (rc < 0) {
        closedir(d);
        return -1;
      }
    } else if (is_module_name(entry->d_name)) {
      fingerprint_add(out, path);
    } else {
      free(path);
    }
  }
  if (errno != 0) {
    *error = mr_asprintf("failed reading policy directory '%s': %s", dir,
                         mr_strerror(errno));
    closedir(d);
    return -1;
  }
  closedir(d);
  return 0;
}

static int compare_files(const void *a, const void *b)
{
  const struct module_file *x = a, *y = b;

  return strcmp(x->path, y->path);
}

enum collect_result {
  COLLECT_OK,
  COLLECT_DIR_ERROR, /* error: the directory message */
  COLLECT_NONE_FOUND,
  COLLECT_STAT_ERROR, /* error: strerror of the failing stat */
};

/* Walks the directory and stats every module, sorted by path. */
static enum collect_result collect(const char *dir, struct fingerprint *fp,
                                   char **error)
{
  struct dir_id ancestors[MAX_DEPTH];
  size_t i;

  memset(fp, 0, sizeof(*fp));
  if (walk(dir, fp, ancestors, 0, error) < 0) {
    fingerprint_free(fp);
    return COLLECT_DIR_ERROR;
  }
  if (fp->count == 0)
    return COLLECT_NONE_FOUND;
  qsort(fp->files, fp->count, sizeof(*fp->files), compare_files);

  for (i = 0; i < fp->count; i++) {
    struct stat st;

    if (stat(fp->files[i].path, &st) < 0) {
      *error = mr_xstrdup(mr_strerror(errno));
      fingerprint_free(fp);
      return COLLECT_STAT_ERROR;
    }
    fp->files[i].size = st.st_size;
    fp->files[i].mtime = st.st_mtim;
  }
  return COLLECT_OK;
}

static bool fingerprint_equal(const struct fingerprint *a,
                              const struct fingerprint *b)
{
  size_t i;

  if (a->count != b->count)
    return false;
  for (i = 0; i < a->count; i++) {
    const struct module_file *x = &a->files[i], *y = &b->files[i];

    if (strcmp(x->path, y->path) != 0 || x->size != y->size ||
        x->mtime.tv_sec != y->mtime.tv_sec ||
        x->mtime.tv_nsec != y->mtime.tv_nsec)
      return false;
  }
  return true;
}

static void log_policy(const struct policy *policy, size_t modules)
{
  struct log_line line;

  log_begin(&line);
  log_add(&line, "event", "policy");
  log_add(&line, "mode", policy_mode_name(policy->mode));
  log_add(&line, "dir", policy->dir);
  if (policy->mode == POLICY_MODE_REGO)
    log_add_int(&line, "modules", (long long)modules);
  else
    log_add(&line, "reason", policy->deny_reason);
  log_end(&line);
}

static void set_deny_all(struct policy *policy, char *reason)
{
  bool changed = policy->mode != POLICY_MODE_DENY_ALL ||
                 policy->deny_reason == NULL ||
                 strcmp(policy->deny_reason, reason) != 0;

  rego_engine_free(policy->engine);
  policy->engine = NULL;
  fingerprint_free(&policy->active);
  free(policy->deny_reason);
  policy->deny_reason = reason;
  policy->mode = POLICY_MODE_DENY_ALL;
  /* In deny-all every request tries a full load, so only changes of the
   * reason are logged. */
  if (changed)
    log_policy(policy, 0);
}

static int read_module(const char *path, char **text, size_t *len, char **error)
{
  struct buf b = {0};
  char block[16384];
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

  if (fd < 0) {
    *error = mr_asprintf("failed reading '%s': %s", path, mr_strerror(errno));
    return -1;
  }
  for (;;) {
    ssize_t n = read(fd, block, sizeof(block));

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      *error = mr_asprintf("failed reading '%s': %s", path, mr_strerror(errno));
      close(fd);
      buf_free(&b);
      return -1;
    }
    if (n == 0)
      break;
    buf_append(&b, block, (size_t)n);
  }
  close(fd);
  if (!mr_utf8_valid(b.data != NULL ? b.data : "", b.len)) {
    *error = mr_asprintf("failed reading '%s': file is not valid UTF-8", path);
    buf_free(&b);
    return -1;
  }
  *len = b.len;
  *text = buf_steal(&b);
  return 0;
}

/* Finds which module a compile error names: its message starts with
 * "FILE:LINE:COLUMN: ". */
static const char *error_file(const struct fingerprint *fp, const char *message)
{
  size_t i;

  for (i = 0; i < fp->count; i++) {
    size_t n = strlen(fp->files[i].path);

    if (strncmp(message, fp->files[i].path, n) == 0 && message[n] == ':')
      return fp->files[i].path;
  }
  return fp->count > 0 ? fp->files[0].path : "";
}

static struct rego_engine *compile_modules(const struct fingerprint *fp,
                                           char **error)
{
  struct rego_engine *engine = rego_engine_new(REGO_V1);
  struct rego_error err;
  size_t i;

  if (engine == NULL) {
    *error = mr_xstrdup(mr_strerror(ENOMEM));
    return NULL;
  }
  for (i = 0; i < fp->count; i++) {
    const char *path = fp->files[i].path;
    cleanup_free char *text = NULL;
    size_t len = 0;

    if (read_module(path, &text, &len, error) < 0)
      goto fail;
    memset(&err, 0, sizeof(err));
    if (rego_engine_add_module(engine, path, text, len, &err) < 0) {
      *error = mr_asprintf("failed compiling '%s': %s", path, err.message);
      goto fail;
    }
  }
  memset(&err, 0, sizeof(err));
  if (rego_engine_compile(engine, &err) < 0) {
    *error = mr_asprintf("failed compiling '%s': %s",
                         error_file(fp, err.message), err.message);
    goto fail;
  }
  return engine;

fail:
  rego_engine_free(engine);
  return NULL;
}

void policy_reload(struct policy *policy)
{
  struct fingerprint fp;
  struct rego_engine *engine;
  char *error = NULL;

  if (policy->dir == NULL) {
    set_deny_all(policy, mr_xstrdup("POLICY_DIR is not configured"));
    return;
  }

  switch (collect(policy->dir, &fp, &error)) {
  case COLLECT_OK:
    break;
  case COLLECT_DIR_ERROR:
    set_deny_all(policy, mr_asprintf(LOAD_PREFIX "%s", error));
    free(error);
    return;
  case COLLECT_NONE_FOUND:
    set_deny_all(policy, mr_asprintf(LOAD_PREFIX "no .rego files found under "
                                                 "policy directory '%s'",
                                     policy->dir));
    return;
  case COLLECT_STAT_ERROR:
    set_deny_all(policy, mr_asprintf(LOAD_PREFIX "failed fingerprinting "
                                                 "policy files: %s",
                                     error));
    free(error);
    return;
  }

  engine = compile_modules(&fp, &error);
  if (engine == NULL) {
    fingerprint_free(&fp);
    set_deny_all(policy, mr_asprintf(LOAD_PREFIX "%s", error));
    free(error);
    return;
  }

  rego_engine_free(policy->engine);
  fingerprint_free(&policy->active);
  free(policy->deny_reason);
  policy->deny_reason = NULL;
  policy->engine = engine;
  policy->active = fp;
  policy->mode = POLICY_MODE_REGO;
  log_policy(policy, fp.count);
}

void policy_check_reload(struct policy *policy)
{
  struct fingerprint fp;
  char *error = NULL;
  bool same;

  if (policy->dir == NULL)
    return;

  switch (collect(policy->dir, &fp, &error)) {
  case COLLECT_OK:
    break;
  case COLLECT_DIR_ERROR:
    set_deny_all(policy, error);
    return;
  case COLLECT_NONE_FOUND:
    set_deny_all(policy,
                 mr_asprintf("no .rego files found under policy directory "
                             "'%s'",
                             policy->dir));
    return;
  case COLLECT_STAT_ERROR:
    set_deny_all(policy, mr_asprintf("failed fingerprinting policy directory "
                                     "'%s': %s",
                                     policy->dir, error));
    free(error);
    return;
  }

  same = policy->mode == POLICY_MODE_REGO &&
         fingerprint_equal(&fp, &policy->active);
  fingerprint_free(&fp);
  if (!same)
    policy_reload(policy);
}

struct policy *policy_new(const char *dir)
{
  struct policy *policy = mr_xcalloc(1, sizeof(*policy));

  if (dir != NULL) {
    size_t len = strlen(dir);

    /* Module names are full paths, so "dir/" must not give "dir//x". */
    while (len > 1 && dir[len - 1] == '/')
      len--;
    policy->dir = mr_xmemdup0(dir, len);
  }
  policy->mode = POLICY_MODE_DENY_ALL;
  policy_reload(policy);
  return policy;
}

void policy_free(struct policy *policy)
{
  if (policy == NULL)
    return;
  rego_engine_free(policy->engine);
  fingerprint_free(&policy->active);
  free(policy->deny_reason);
  free(policy->dir);
  free(policy);
}

enum policy_mode policy_mode(const struct policy *policy)
{
  return policy->mode;
}

const char *policy_mode_name(enum policy_mode mode)
{
  return mode == POLICY_MODE_REGO ? "rego" : "deny-all";
}

const char *policy_deny_reason(const struct policy *policy)
{
  if (policy->mode == POLICY_MODE_REGO)
    return NULL;
  return policy->deny_reason != NULL
             ? policy->deny_reason
             : "policy state is invalid and command execution is denied";
}

enum policy_decision policy_evaluate(struct policy *policy, json_t *input,
                                     char **detail)
{
  struct rego_engine *engine;
  struct rego_error err;
  json_t *result = NULL;
  enum policy_decision decision;
  int rc;

  if (policy->mode != POLICY_MODE_REGO || policy->engine == NULL) {
    *detail = mr_xstrdup(policy_deny_reason(policy));
    return POLICY_DENY_ALL;
  }

  /* Each evaluation gets its own engine state over the shared snapshot. */
  engine = rego_engine_copy(policy->engine);
  if (engine == NULL) {
    *detail = mr_xstrdup(mr_strerror(ENOMEM));
    return POLICY_EVAL_FAILED;
  }
  memset(&err, 0, sizeof(err));
  rc = rego_engine_set_input(engine, input, &err);
  if (rc >= 0)
    rc = rego_engine_eval(engine, POLICY_QUERY, &result, &err);

  if (rc < 0) {
    *detail = mr_xstrdup(err.message);
    decision = POLICY_EVAL_FAILED;
  } else if (rc == 0) {
    *detail = mr_xstrdup("query did not produce any values");
    decision = POLICY_EVAL_FAILED;
  } else if (json_is_true(result)) {
    decision = POLICY_ALLOW;
  } else if (json_is_false(result)) {
    decision = POLICY_DENY;
  } else {
    cleanup_free char *text = mr_json_dump(result, NULL);

    *detail = mr_asprintf("query result is not a boolean: %s", text);
    decision = POLICY_EVAL_FAILED;
  }
  json_decref(result);
  rego_engine_free(engine);
  return decision;
}
