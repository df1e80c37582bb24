/* The trusted working directory walk. */
#include "config-host.h"

#include "cwd.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static char *errno_detail(int err)
{
  switch (err) {
  case ENOENT:
    return mr_xstrdup("path does not exist");
  case ENOTDIR:
    return mr_xstrdup("path is not a directory");
  case ELOOP:
    return mr_xstrdup("path contains a symlink or magic link");
  case EACCES:
    return mr_xstrdup("permission denied");
  default:
    return mr_xstrdup(mr_strerror(err));
  }
}

/* Opens one component below parent; returns the new descriptor or a
 * negative errno value. */
static int open_component(int parent, const char *name)
{
  struct stat st;
  int fd = openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

  if (fd < 0)
    return -errno;
  if (fstat(fd, &st) < 0) {
    int err = errno;

    close(fd);
    return -err;
  }
  if (S_ISDIR(st.st_mode))
    return fd;
  close(fd);
  return S_ISLNK(st.st_mode) ? -ELOOP : -ENOTDIR;
}

static int check_component(const char *name, size_t len, char **detail)
{
  if ((len == 1 && name[0] == '.') ||
      (len == 2 && name[0] == '.' && name[1] == '.')) {
    *detail = mr_xstrdup("cwd must not contain '.' or '..' components");
    return -1;
  }
  if (!mr_utf8_valid(name, len)) {
    *detail = mr_xstrdup("cwd contains a non-UTF-8 component");
    return -1;
  }
  if (memchr(name, '\0', len) != NULL) {
    *detail = mr_xstrdup("cwd component contains a nul byte");
    return -1;
  }
  return 0;
}

int cwd_resolve(const char *path, size_t len, int *dirfd, char **label,
                char **detail)
{
  struct buf normalized = {0};
  size_t start, end;
  int fd;

  *dirfd = -1;
  *label = NULL;
  if (len == 0 || path[0] != '/') {
    *detail = mr_xstrdup("cwd must be absolute");
    return -1;
  }
  if (len >= 2 && path[1] == '/') {
    *detail = mr_xstrdup("cwd must not start with '//'");
    return -1;
  }

  fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    *detail = errno_detail(errno);
    return -1;
  }

  for (start = 0; start < len; start = end + 1) {
    cleanup_free char *name = NULL;
    int next;

    end = start;
    while (end < len && path[end] != '/')
      end++;
    if (end == start)
      continue;

    if (check_component(path + start, end - start, detail) < 0)
      goto fail;
    name = mr_xmemdup0(path + start, end - start);
    next = open_component(fd, name);
    if (next < 0) {
      *detail = errno_detail(-next);
      goto fail;
    }
    close(fd);
    fd = next;
    buf_append(&normalized, "/", 1);
    buf_append(&normalized, name, end - start);
  }

  if (normalized.len == 0)
    buf_append(&normalized, "/", 1);
  *dirfd = fd;
  *label = buf_steal(&normalized);
  return 0;

fail:
  close(fd);
  buf_free(&normalized);
  return -1;
}
