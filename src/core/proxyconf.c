/* Writing ROOT/runtime/proxy: the lists and squid.conf, directly for `up`
 * and through next/ for `reload-proxy`. */
#include "config-host.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proxyconf.h"

/* Squid runs as its own user in the container and must be able to read every
 * file, whatever the umask of the user who ran cladding. */
#define DIR_MODE 0755
#define FILE_MODE 0644

static const char *const list_files[] = {
    CL_PROXY_AGENT_DOMAINS,
    CL_PROXY_AGENT_HOST_PORTS,
    CL_PROXY_NW_SANDBOX_DOMAINS,
};

static char *proxy_dir_of(const char *root)
{
  return cl_path_join(root, "runtime/proxy");
}

static int fail_errno(struct cl_error *err, int ret, const char *action,
                      const char *path)
{
  cl_log(CLADDING_LOG_ERROR, "failed to %s %s: %s", action, path,
         strerror(-ret));
  return cl_fail(err, 1, "failed to %s %s", action, path);
}

/* mkdir -p, then chmod, because mkdir() applies the umask. */
static int make_dir(const char *path, struct cl_error *err)
{
  int ret = cl_mkdir_p(path, DIR_MODE);

  if (ret == 0 && chmod(path, DIR_MODE) < 0)
    ret = -errno;
  if (ret < 0)
    return fail_errno(err, ret, "create directory", path);
  return 0;
}

static int write_file(const char *dir, const char *name, const char *text,
                      struct cl_error *err)
{
  cleanup_free char *path = cl_path_join(dir, name);
  int ret = cl_write_file_atomic(path, text, strlen(text), FILE_MODE);

  if (ret < 0)
    return fail_errno(err, ret, "write", path);
  return 0;
}

static int render_squid_conf(const char *name, const char *generation,
                             bool next, char **text, struct cl_error *err)
{
  if (cl_proxy_squid_conf_render(name, generation, next, text) < 0) {
    cl_log(CLADDING_LOG_ERROR,
           "cannot generate squid.conf for project name '%s' and generation "
           "'%s': both must be lowercase letters and digits",
           name, generation);
    return cl_fail(err, 1, "failed to generate squid.conf");
  }
  return 0;
}

/* Writes the three lists, then squid.conf, into `dir`. */
static int write_config(const char *dir, const char *name,
                        const char *generation,
                        const struct cl_proxy_lists *lists, bool next,
                        struct cl_error *err)
{
  const struct cl_proxy_list *list_of[] = {
      &lists->agent_domains,
      &lists->agent_host_ports,
      &lists->nw_sandbox_domains,
  };
  cleanup_free char *squid_conf = NULL;

  /* Render first, so that an invalid name writes nothing. */
  if (render_squid_conf(name, generation, next, &squid_conf, err) < 0)
    return -1;

  for (size_t i = 0; i < sizeof(list_files) / sizeof(list_files[0]); i++) {
    cleanup_free char *text = cl_proxy_list_render(list_of[i]);

    if (write_file(dir, list_files[i], text, err) < 0)
      return -1;
  }
  return write_file(dir, CL_PROXY_SQUID_CONF, squid_conf, err);
}

/* Removes `path`: the files of a directory and the directory itself, or a
 * file or symbolic link in its place.  next/ never contains subdirectories, so
 * one found there is an error. */
static int remove_flat(const char *path)
{
  struct stat st;
  DIR *dir;
  struct dirent *ent;
  int ret = 0;

  if (lstat(path, &st) < 0)
    return errno == ENOENT ? 0 : -errno;
  if (!S_ISDIR(st.st_mode))
    return unlink(path) < 0 ? -errno : 0;

  dir = opendir(path);
  if (dir == NULL)
    return -errno;
  while ((ent = readdir(dir)) != NULL) {
    if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0)
      continue;
    if (unlinkat(dirfd(dir), ent->d_name, 0) < 0) {
      ret = -errno;
      break;
    }
  }
  closedir(dir);

  if (ret == 0 && rmdir(path) < 0)
    ret = -errno;
  return ret;
}

static int remove_next_dir(const char *next_dir, struct cl_error *err)
{
  int ret = remove_flat(next_dir);

  if (ret < 0)
    return fail_errno(err, ret, "remove", next_dir);
  return 0;
}

int cl_proxy_write_runtime(const char *root, const char *name,
                           const char *generation,
                           const struct cl_proxy_lists *lists,
                           struct cl_error *err)
{
  cleanup_free char *dir = proxy_dir_of(root);
  cleanup_free char *next_dir = cl_path_join(dir, "next");

  if (make_dir(dir, err) < 0)
    return -1;
  if (remove_next_dir(next_dir, err) < 0)
    return -1;
  return write_config(dir, name, generation, lists, false, err);
}

int cl_proxy_write_next(const char *root, const char *name,
                        const char *generation,
                        const struct cl_proxy_lists *lists,
                        struct cl_error *err)
{
  cleanup_free char *dir = proxy_dir_of(root);
  cleanup_free char *next_dir = cl_path_join(dir, "next");

  if (make_dir(dir, err) < 0)
    return -1;
  if (remove_next_dir(next_dir, err) < 0)
    return -1;
  if (make_dir(next_dir, err) < 0)
    return -1;
  return write_config(next_dir, name, generation, lists, true, err);
}

int cl_proxy_commit_next(const char *root, const char *name,
                         const char *generation, struct cl_error *err)
{
  cleanup_free char *dir = proxy_dir_of(root);
  cleanup_free char *next_dir = cl_path_join(dir, "next");
  cleanup_free char *squid_conf = NULL;

  if (render_squid_conf(name, generation, false, &squid_conf, err) < 0)
    return -1;

  for (size_t i = 0; i < sizeof(list_files) / sizeof(list_files[0]); i++) {
    cleanup_free char *from = cl_path_join(next_dir, list_files[i]);
    cleanup_free char *to = cl_path_join(dir, list_files[i]);

    if (rename(from, to) < 0) {
      int ret = -errno;

      cl_log(CLADDING_LOG_ERROR, "failed to rename %s to %s: %s", from, to,
             strerror(-ret));
      return cl_fail(err, 1, "failed to rename %s", from);
    }
  }

  if (write_file(dir, CL_PROXY_SQUID_CONF, squid_conf, err) < 0)
    return -1;
  return remove_next_dir(next_dir, err);
}

int cl_proxy_remove_next(const char *root, struct cl_error *err)
{
  cleanup_free char *dir = proxy_dir_of(root);
  cleanup_free char *next_dir = cl_path_join(dir, "next");

  return remove_next_dir(next_dir, err);
}
