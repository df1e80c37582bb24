/* Project discovery: finding ROOT, the `.cladding` directory. */
#ifndef CL_PROJECT_H
#define CL_PROJECT_H

#include "log.h"

/* Makes `path` absolute by joining a relative value onto `cwd`, without
 * canonicalising it further. */
char *cl_absolute_path(const char *cwd, const char *path);

/* Walks up from `cwd` (itself first, then each parent up to "/") and
 * returns `<dir>/.cladding` for the first directory whose `.cladding` entry
 * is a directory or a symbolic link to one, or NULL when none is. */
char *cl_find_project_root(const char *cwd);

/* Returns PROJ, the parent of ROOT. */
char *cl_project_dir_of(const char *root);

/* Prints the discovery failure lines and records "missing .cladding". */
int cl_report_missing_project(const char *cwd, struct cl_error *err);

#endif
