#include "config-host.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

void cl_freep(void *p)
{
  free(*(void **)p);
}

void cl_closep(int *fd)
{
  if (*fd >= 0)
    close(*fd);
}

static void *check_alloc(void *p)
{
  if (p == NULL) {
    fputs("fatal: out of memory\n", stderr);
    abort();
  }
  return p;
}

void *cl_xmalloc(size_t size)
{
  return check_alloc(malloc(size ? size : 1));
}

void *cl_xcalloc(size_t count, size_t size)
{
  return check_alloc(calloc(count ? count : 1, size ? size : 1));
}

void *cl_xrealloc(void *ptr, size_t size)
{
  return check_alloc(realloc(ptr, size ? size : 1));
}

char *cl_xstrdup(const char *s)
{
  return check_alloc(strdup(s));
}

char *cl_xstrndup(const char *s, size_t n)
{
  return check_alloc(strndup(s, n));
}

char *cl_vasprintf(const char *fmt, va_list ap)
{
  char *out = NULL;

  if (vasprintf(&out, fmt, ap) < 0)
    check_alloc(NULL);
  return out;
}

char *cl_asprintf(const char *fmt, ...)
{
  va_list ap;
  char *out;

  va_start(ap, fmt);
  out = cl_vasprintf(fmt, ap);
  va_end(ap);
  return out;
}

char *cl_path_join(const char *dir, const char *name)
{
  size_t len = strlen(dir);

  if (len > 0 && dir[len - 1] == '/')
    return cl_asprintf("%s%s", dir, name);
  return cl_asprintf("%s/%s", dir, name);
}

char *cl_path_dirname(const char *path)
{
  const char *slash = strrchr(path, '/');

  if (slash == NULL)
    return cl_xstrdup(".");
  if (slash == path)
    return cl_xstrdup("/");
  return cl_xstrndup(path, (size_t)(slash - path));
}

const char *cl_path_basename(const char *path)
{
  const char *slash = strrchr(path, '/');

  return slash ? slash + 1 : path;
}

bool cl_str_has_prefix(const char *s, const char *prefix)
{
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool cl_str_has_suffix(const char *s, const char *suffix)
{
  size_t len = strlen(s);
  size_t suffix_len = strlen(suffix);

  return len >= suffix_len && strcmp(s + len - suffix_len, suffix) == 0;
}

void cl_strv_push_owned(struct cl_strv *v, char *s)
{
  if (v->count + 2 > v->cap) {
    v->cap = v->cap ? v->cap * 2 : 8;
    v->items = cl_xrealloc(v->items, v->cap * sizeof(char *));
  }
  v->items[v->count++] = s;
  v->items[v->count] = NULL;
}

void cl_strv_push(struct cl_strv *v, const char *s)
{
  cl_strv_push_owned(v, cl_xstrdup(s));
}

void cl_strv_free(struct cl_strv *v)
{
  for (size_t i = 0; i < v->count; i++)
    free(v->items[i]);
  free(v->items);
  v->items = NULL;
  v->count = v->cap = 0;
}

static int write_all(int fd, const char *data, size_t len)
{
  while (len > 0) {
    ssize_t n = write(fd, data, len);

    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    data += n;
    len -= (size_t)n;
  }
  return 0;
}

int cl_write_file_atomic(const char *path, const void *data, size_t len,
                         unsigned mode)
{
  cleanup_free char *dir = cl_path_dirname(path);
  cleanup_free char *tmp =
      cl_asprintf("%s/.%s.XXXXXX", dir, cl_path_basename(path));
  int fd = mkstemp(tmp);
  int ret;

  if (fd < 0)
    return -errno;

  ret = write_all(fd, data, len);
  if (ret == 0 && fchmod(fd, mode) < 0)
    ret = -errno;
  if (ret == 0 && fsync(fd) < 0)
    ret = -errno;
  if (close(fd) < 0 && ret == 0)
    ret = -errno;
  if (ret == 0 && rename(tmp, path) < 0)
    ret = -errno;
  if (ret < 0)
    unlink(tmp);
  return ret;
}

int cl_read_file(const char *path, char **data, size_t *len)
{
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  size_t cap = 4096, used = 0;
  char *buf;

  if (fd < 0)
    return -errno;

  buf = cl_xmalloc(cap);
  for (;;) {
    ssize_t n;

    if (used + 1 >= cap) {
      cap *= 2;
      buf = cl_xrealloc(buf, cap);
    }
    n = read(fd, buf + used, cap - used - 1);
    if (n < 0) {
      int saved = errno;

      if (saved == EINTR)
        continue;
      free(buf);
      return -saved;
    }
    if (n == 0)
      break;
    used += (size_t)n;
  }
  buf[used] = '\0';
  *data = buf;
  if (len)
    *len = used;
  return 0;
}

int cl_mkdir_p(const char *path, unsigned mode)
{
  cleanup_free char *copy = cl_xstrdup(path);
  struct stat st;

  for (char *p = copy + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(copy, mode) < 0 && errno != EEXIST)
      return -errno;
    *p = '/';
  }
  if (mkdir(copy, mode) < 0) {
    if (errno != EEXIST)
      return -errno;
    if (stat(copy, &st) < 0)
      return -errno;
    if (!S_ISDIR(st.st_mode))
      return -ENOTDIR;
  }
  return 0;
}

bool cl_in_path(const char *name)
{
  const char *path = getenv("PATH");
  cleanup_free char *copy = NULL;
  char *saveptr = NULL;

  if (path == NULL)
    return false;
  copy = cl_xstrdup(path);
  for (char *dir = strtok_r(copy, ":", &saveptr); dir != NULL;
       dir = strtok_r(NULL, ":", &saveptr)) {
    cleanup_free char *candidate = cl_path_join(dir, name);
    struct stat st;

    if (stat(candidate, &st) == 0 && S_ISREG(st.st_mode) &&
        access(candidate, X_OK) == 0)
      return true;
  }
  return false;
}

char *cl_path_normalize(const char *path)
{
  char *out = cl_xmalloc(strlen(path) + 2);
  size_t out_len = 0;
  const char *p = path;

  while (*p) {
    size_t len;

    while (*p == '/')
      p++;
    len = strcspn(p, "/");
    if (len == 0 || (len == 1 && p[0] == '.')) {
      p += len;
      continue;
    }
    if (len == 2 && p[0] == '.' && p[1] == '.') {
      while (out_len > 0 && out[out_len - 1] != '/')
        out_len--;
      if (out_len > 0)
        out_len--;
    } else {
      out[out_len++] = '/';
      memcpy(out + out_len, p, len);
      out_len += len;
    }
    p += len;
  }

  if (out_len == 0)
    out[out_len++] = '/';
  out[out_len] = '\0';
  return out;
}
