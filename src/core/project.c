#include "config-host.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "project.h"
#include "util.h"

char *cl_absolute_path(const char *cwd, const char *path)
{
  if (path[0] == '/')
    return cl_xstrdup(path);
  return cl_path_join(cwd, path);
}

char *cl_find_project_root(const char *cwd)
{
  cleanup_free char *dir = cl_xstrdup(cwd);

  for (;;) {
    cleanup_free char *candidate = cl_path_join(dir, ".cladding");
    struct stat st;
    char *slash;

    /* stat() follows a symbolic link, so a link to a directory counts. */
    if (stat(candidate, &st) == 0 && S_ISDIR(st.st_mode)) {
      char *found = candidate;

      candidate = NULL;
      return found;
    }

    if (strcmp(dir, "/") == 0)
      return NULL;
    slash = strrchr(dir, '/');
    if (slash == dir)
      slash[1] = '\0';
    else if (slash != NULL)
      *slash = '\0';
    else
      return NULL;
  }
}

char *cl_project_dir_of(const char *root)
{
  cleanup_free char *copy = cl_xstrdup(root);
  size_t len = strlen(copy);

  while (len > 1 && copy[len - 1] == '/')
    copy[--len] = '\0';
  return cl_path_dirname(copy);
}

int cl_report_missing_project(const char *cwd, struct cl_error *err)
{
  cl_log(CLADDING_LOG_ERROR,
         "no .cladding directory found in %s or any parent directory", cwd);
  cl_log(CLADDING_LOG_HINT,
         "run 'cladding init' from the project directory to create one");
  return cl_fail(err, 1, "missing .cladding");
}
