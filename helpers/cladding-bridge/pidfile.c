/* Pid files of cladding-bridge. */
#include "config-host.h"

#include "pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "log.h"

/* Maximum size of a pid file: a pid, optional spaces and a newline. */
#define PIDFILE_MAX 32

static void log_pidfile_error(const char *event, const char *path,
                              const char *reason)
{
  struct log_line line;

  log_start(&line, event);
  log_add(&line, "pidfile", path);
  log_add(&line, "error", reason);
  log_emit(&line);
}

static int write_all(int fd, const char *data, size_t length)
{
  while (length > 0) {
    ssize_t written = write(fd, data, length);

    if (written < 0 && errno == EINTR)
      continue;
    if (written < 0)
      return -1;
    data += written;
    length -= (size_t)written;
  }
  return 0;
}

int pidfile_write(const char *path, pid_t pgid)
{
  char temporary[PATH_MAX];
  char content[PIDFILE_MAX];
  int length;
  int fd;

  if (snprintf(temporary, sizeof(temporary), "%s.XXXXXX", path) >=
      (int)sizeof(temporary)) {
    log_pidfile_error("pidfile-error", path, "the path is too long");
    return -1;
  }
  fd = mkostemp(temporary, O_CLOEXEC);
  if (fd < 0) {
    log_pidfile_error("pidfile-error", path, uv_strerror(-errno));
    return -1;
  }

  length = snprintf(content, sizeof(content), "%ld\n", (long)pgid);
  if (fchmod(fd, 0644) < 0 || write_all(fd, content, (size_t)length) < 0) {
    int saved = errno;

    close(fd);
    unlink(temporary);
    log_pidfile_error("pidfile-error", path, uv_strerror(-saved));
    return -1;
  }
  if (close(fd) < 0) {
    int saved = errno;

    unlink(temporary);
    log_pidfile_error("pidfile-error", path, uv_strerror(-saved));
    return -1;
  }
  if (rename(temporary, path) < 0) {
    int saved = errno;

    unlink(temporary);
    log_pidfile_error("pidfile-error", path, uv_strerror(-saved));
    return -1;
  }
  return 0;
}

void pidfile_remove(const char *path)
{
  if (unlink(path) < 0 && errno != ENOENT)
    log_pidfile_error("pidfile-error", path, uv_strerror(-errno));
}

/* Parses "PGID" with optional surrounding whitespace.  Returns the pgid, or
 * -1. */
static long parse_pgid(const char *text)
{
  char *end;
  long value;

  while (*text == ' ' || *text == '\t')
    text++;
  if (*text < '0' || *text > '9')
    return -1;
  errno = 0;
  value = strtol(text, &end, 10);
  if (errno != 0 || value < 1 || value > INT_MAX)
    return -1;
  while (*end == ' ' || *end == '\t' || *end == '\n')
    end++;
  if (*end != '\0')
    return -1;
  return value;
}

int pidfile_signal(const char *path, int signum)
{
  char content[PIDFILE_MAX + 1];
  ssize_t length;
  long pgid;
  pid_t target;
  struct stat st;
  int fd;

  /* The file may sit in a directory that other processes can write, so a
   * FIFO must not block this read and a link must not be followed. */
  fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT)
      return 0;
    log_pidfile_error("signal-error", path, uv_strerror(-errno));
    return 1;
  }
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
    log_pidfile_error("signal-error", path, "pid file is not a regular file");
    close(fd);
    return 1;
  }
  length = read(fd, content, sizeof(content));
  if (length < 0) {
    log_pidfile_error("signal-error", path, uv_strerror(-errno));
    close(fd);
    return 1;
  }
  close(fd);

  if (length > PIDFILE_MAX || memchr(content, '\0', (size_t)length) != NULL) {
    log_pidfile_error("signal-error", path,
                      "malformed pid file: expected a process group id");
    return 1;
  }
  content[length] = '\0';
  pgid = parse_pgid(content);
  if (pgid < 0) {
    log_pidfile_error("signal-error", path,
                      "malformed pid file: expected a process group id");
    return 1;
  }

  /* kill(-1) would signal every process, so group 1 is signalled as
   * process 1 alone.  Only a helper that is PID 1 writes 1, and it forwards
   * SIGTERM and SIGINT to CMD. */
  target = pgid == 1 ? 1 : -(pid_t)pgid;
  if (kill(target, signum) < 0) {
    if (errno == ESRCH)
      return 0;
    log_pidfile_error("signal-error", path, uv_strerror(-errno));
    return 1;
  }
  return 0;
}
