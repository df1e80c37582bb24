#include "config-host.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static void die(const char *what)
{
  fprintf(stderr, "test harness: %s: %s\n", what, strerror(errno));
  abort();
}

static char *env_dir(const char *name)
{
  const char *value = getenv(name);

  if (value == NULL || *value == '\0') {
    fprintf(stderr, "test harness: %s is not set (run through make check)\n",
            name);
    abort();
  }
  return strdup(value);
}

static char *join(const char *a, const char *b)
{
  char *out = NULL;

  if (asprintf(&out, "%s/%s", a, b) < 0)
    die("asprintf");
  return out;
}

char *harness_builddir_path(const char *rel)
{
  char *dir = env_dir("CLADDING_BUILDDIR");
  char *out = join(dir, rel);

  free(dir);
  return out;
}

char *harness_srcdir_path(const char *rel)
{
  char *dir = env_dir("CLADDING_SRCDIR");
  char *out = join(dir, rel);

  free(dir);
  return out;
}

char *harness_mkdtemp(void)
{
  const char *tmp = getenv("TMPDIR");
  char *path = join(tmp && *tmp ? tmp : "/tmp", "cladding-test-XXXXXX");

  if (mkdtemp(path) == NULL)
    die("mkdtemp");
  return path;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
  /* Make directories writable again so their entries can go. */
  if (flag == FTW_DP)
    chmod(path, 0700);
  return remove(path);
}

void harness_rmtree(const char *path)
{
  nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void mkdir_parents(const char *path)
{
  char *copy = strdup(path);

  for (char *p = copy + 1; *p; p++) {
    if (*p == '/') {
      *p = '\0';
      mkdir(copy, 0755);
      *p = '/';
    }
  }
  free(copy);
}

void harness_write(const char *path, const char *text)
{
  FILE *f;

  mkdir_parents(path);
  f = fopen(path, "w");
  if (f == NULL)
    die(path);
  fputs(text, f);
  if (fclose(f) != 0)
    die(path);
}

char *harness_read(const char *path)
{
  FILE *f = fopen(path, "r");
  char *buf = NULL;
  size_t len = 0;
  FILE *out;
  int c;

  if (f == NULL)
    return NULL;
  out = open_memstream(&buf, &len);
  while ((c = fgetc(f)) != EOF)
    fputc(c, out);
  fclose(out);
  fclose(f);
  return buf;
}

bool harness_exists(const char *path)
{
  struct stat st;

  return lstat(path, &st) == 0;
}

/* Reads both pipes until they close, so neither child stream blocks. */
static void drain(int out_fd, int err_fd, char **out, char **err)
{
  size_t out_len = 0, err_len = 0;
  FILE *out_stream = open_memstream(out, &out_len);
  FILE *err_stream = open_memstream(err, &err_len);
  struct pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  int open_count = 2;

  while (open_count > 0) {
    if (poll(fds, 2, 30000) <= 0) {
      fprintf(stderr, "test harness: child output timed out after 30 s\n");
      break;
    }
    for (int i = 0; i < 2; i++) {
      char buf[4096];
      ssize_t n;

      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP)))
        continue;
      n = read(fds[i].fd, buf, sizeof(buf));
      if (n > 0) {
        fwrite(buf, 1, (size_t)n, i == 0 ? out_stream : err_stream);
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        open_count--;
      }
    }
  }
  fclose(out_stream);
  fclose(err_stream);
}

void harness_run(struct run_result *result, const char *cwd,
                 const char *const *env, const char *const *argv)
{
  char *binary = harness_builddir_path("cladding");
  int out_pipe[2], err_pipe[2], status;
  size_t argc = 0;
  char **args;
  pid_t pid;

  while (argv[argc] != NULL)
    argc++;
  args = calloc(argc + 2, sizeof(char *));
  args[0] = binary;
  for (size_t i = 0; i < argc; i++)
    args[i + 1] = (char *)argv[i];

  if (pipe(out_pipe) < 0 || pipe(err_pipe) < 0)
    die("pipe");
  fflush(NULL);
  pid = fork();
  if (pid < 0)
    die("fork");
  if (pid == 0) {
    int null_fd = open("/dev/null", O_RDONLY);

    dup2(null_fd, 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    close(out_pipe[0]);
    close(err_pipe[0]);
    for (size_t i = 0; env != NULL && env[i] != NULL; i++) {
      const char *eq = strchr(env[i], '=');

      if (eq == NULL) {
        unsetenv(env[i]);
      } else {
        char *key = strndup(env[i], (size_t)(eq - env[i]));

        setenv(key, eq + 1, 1);
        free(key);
      }
    }
    if (cwd != NULL && chdir(cwd) < 0)
      _exit(126);
    execv(binary, args);
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  drain(out_pipe[0], err_pipe[0], &result->out, &result->err);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  result->status =
      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  free(args);
  free(binary);
}

void harness_result_free(struct run_result *result)
{
  free(result->out);
  free(result->err);
  result->out = result->err = NULL;
}
