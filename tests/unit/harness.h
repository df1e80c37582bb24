/* Test helpers: temporary directories and running the built `cladding`
 * binary with captured output. */
#ifndef CL_TEST_HARNESS_H
#define CL_TEST_HARNESS_H

#include <stdbool.h>

struct run_result {
  int status; /* exit status, or 128+N after signal N */
  char *out;
  char *err;
};

/* Creates a fresh directory under $TMPDIR (or /tmp); the caller removes it
 * with harness_rmtree(). */
char *harness_mkdtemp(void);
void harness_rmtree(const char *path);

/* Writes `text` to `path`, creating parent directories. */
void harness_write(const char *path, const char *text);
/* Returns the file's content, or NULL when it cannot be read. */
char *harness_read(const char *path);
bool harness_exists(const char *path);

/* Runs `$CLADDING_BUILDDIR/cladding argv...` in `cwd`.  `env` holds
 * "KEY=VALUE" entries set on top of the inherited environment, and "KEY"
 * entries to unset; it ends with NULL and may be NULL. */
void harness_run(struct run_result *result, const char *cwd,
                 const char *const *env, const char *const *argv);
void harness_result_free(struct run_result *result);

/* The path of a file of the build or source tree (caller frees). */
char *harness_builddir_path(const char *rel);
char *harness_srcdir_path(const char *rel);

#endif
