#include "config-host.h"

#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "testutil.h"
#include "util.h"

char *cl_test_mkdtemp(void)
{
  const char *tmp = getenv("TMPDIR");
  char *path;

  if (tmp == NULL || tmp[0] == '\0')
    tmp = "/tmp";
  path = cl_asprintf("%s/cladding-test.XXXXXX", tmp);
  if (mkdtemp(path) == NULL)
    fail_msg("mkdtemp %s: %s", path, strerror(errno));
  return path;
}

static int remove_entry(const char *path, const struct stat *st, int type,
                        struct FTW *ftw)
{
  (void)st;
  (void)type;
  (void)ftw;
  if (remove(path) < 0)
    fail_msg("remove %s: %s", path, strerror(errno));
  return 0;
}

void cl_test_rmtree(const char *path)
{
  struct stat st;

  if (lstat(path, &st) < 0 && errno == ENOENT)
    return;
  nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void cl_test_mkdir(const char *dir, const char *name)
{
  cleanup_free char *path = cl_path_join(dir, name);
  int ret = cl_mkdir_p(path, 0755);

  if (ret < 0)
    fail_msg("mkdir %s: %s", path, strerror(-ret));
}

void cl_test_write_file(const char *dir, const char *name, const char *text)
{
  cleanup_free char *path = cl_path_join(dir, name);
  cleanup_free char *parent = cl_path_dirname(path);
  FILE *file;

  if (cl_mkdir_p(parent, 0755) < 0)
    fail_msg("mkdir %s: %s", parent, strerror(errno));
  file = fopen(path, "w");
  if (file == NULL)
    fail_msg("open %s: %s", path, strerror(errno));
  fputs(text, file);
  if (fclose(file) != 0)
    fail_msg("write %s: %s", path, strerror(errno));
}

void cl_test_capture_start(struct cl_test_capture *capture)
{
  cl_test_capture_free(capture);
  memset(capture, 0, sizeof(*capture));
  capture->err_stream = open_memstream(&capture->err, &capture->err_len);
  capture->out_stream = open_memstream(&capture->out, &capture->out_len);
  assert_non_null(capture->err_stream);
  assert_non_null(capture->out_stream);
  cl_log_set_streams(capture->err_stream, capture->out_stream);
}

void cl_test_capture_stop(struct cl_test_capture *capture)
{
  cl_log_set_streams(NULL, NULL);
  if (capture->err_stream)
    fclose(capture->err_stream);
  if (capture->out_stream)
    fclose(capture->out_stream);
  capture->err_stream = NULL;
  capture->out_stream = NULL;
}

void cl_test_capture_free(struct cl_test_capture *capture)
{
  cl_test_capture_stop(capture);
  free(capture->err);
  free(capture->out);
  capture->err = capture->out = NULL;
}

char *cl_test_replace(const char *text, const char *from, const char *to)
{
  size_t from_len = strlen(from);
  size_t to_len = strlen(to);
  size_t count = 0;
  const char *p;
  char *out, *q;

  for (p = strstr(text, from); p; p = strstr(p + from_len, from))
    count++;
  out = q = cl_xmalloc(strlen(text) + count * to_len + 1);
  for (p = text;;) {
    const char *hit = strstr(p, from);

    if (hit == NULL)
      break;
    memcpy(q, p, (size_t)(hit - p));
    q += hit - p;
    memcpy(q, to, to_len);
    q += to_len;
    p = hit + from_len;
  }
  strcpy(q, p);
  return out;
}

void cl_test_project_create(struct cl_test_project *project)
{
  project->tmp = cl_test_mkdtemp();
  project->proj = cl_path_join(project->tmp, "proj");
  project->root = cl_path_join(project->proj, ".cladding");
  project->config_path = cl_path_join(project->root, "cladding.json");
  cl_test_mkdir(project->tmp, "proj/.cladding");
}

void cl_test_project_remove(struct cl_test_project *project)
{
  if (project->tmp)
    cl_test_rmtree(project->tmp);
  free(project->tmp);
  free(project->proj);
  free(project->root);
  free(project->config_path);
  memset(project, 0, sizeof(*project));
}

int cl_test_load_config(const struct cl_test_project *project, const char *json,
                        struct cl_config *config, struct cl_error *err,
                        struct cl_test_capture *capture)
{
  int ret;

  if (json) {
    cleanup_free char *text = cl_test_replace(json, "'", "\"");

    cl_test_write_file(project->root, "cladding.json", text);
  }
  cl_test_capture_start(capture);
  ret = cl_config_load(project->root, config, err);
  cl_test_capture_stop(capture);
  return ret;
}
