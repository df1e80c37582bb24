/* Helpers shared by the cmocka unit tests: temporary directories, files and
 * capture of the diagnostics that cl_log() prints. */
#ifndef CL_TESTUTIL_H
#define CL_TESTUTIL_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "log.h"

/* Creates a new empty directory under $TMPDIR (or /tmp) and returns its
 * path.  Fails the test when that is impossible. */
char *cl_test_mkdtemp(void);

/* Removes `path` and everything under it, without following symbolic
 * links.  A missing path is not an error. */
void cl_test_rmtree(const char *path);

/* Creates or truncates `dir`/`name` with `text` as its content, creating
 * missing parent directories of `name`. */
void cl_test_write_file(const char *dir, const char *name, const char *text);

/* Creates `dir`/`name` and its missing parents. */
void cl_test_mkdir(const char *dir, const char *name);

/* Text written through cl_log() while a capture is active: the error stream
 * and the output stream separately. */
struct cl_test_capture {
  FILE *err_stream;
  FILE *out_stream;
  char *err;
  char *out;
  size_t err_len;
  size_t out_len;
};

/* Redirects cl_log() into memory.  `capture` is zero-initialised or was
 * used before, and text of an earlier capture is freed. */
void cl_test_capture_start(struct cl_test_capture *capture);
/* Restores the real streams, after which `err` and `out` contain the
 * captured text. */
void cl_test_capture_stop(struct cl_test_capture *capture);
void cl_test_capture_free(struct cl_test_capture *capture);

/* Returns a copy of `text` with every `from` replaced by `to`.  `from` is
 * not empty. */
char *cl_test_replace(const char *text, const char *from, const char *to);

/* A project in a fresh temporary directory: TMP/proj/.cladding. */
struct cl_test_project {
  char *tmp;
  char *proj;
  char *root;
  char *config_path; /* ROOT/cladding.json */
};

void cl_test_project_create(struct cl_test_project *project);
/* Removes the directory tree and frees the paths. */
void cl_test_project_remove(struct cl_test_project *project);

/* Writes `json` as ROOT/cladding.json, unless it is NULL, and loads it with
 * cl_config_load() while capturing its diagnostics.  Every ' in `json`
 * becomes ", so tests can write JSON without escapes.  Returns what
 * cl_config_load() returns. */
int cl_test_load_config(const struct cl_test_project *project, const char *json,
                        struct cl_config *config, struct cl_error *err,
                        struct cl_test_capture *capture);

#endif
