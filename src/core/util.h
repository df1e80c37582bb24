/* Small memory, string and path helpers shared by the core. */
#ifndef CL_UTIL_H
#define CL_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <cladding/plugin.h>

/* Cleanup attributes for locals, so early returns leak nothing. */
void cl_freep(void *p);
void cl_closep(int *fd);
#define cleanup_free __attribute__((cleanup(cl_freep)))
#define cleanup_close __attribute__((cleanup(cl_closep)))

/* Allocation that aborts on exhaustion: a CLI has no useful way on. */
void *cl_xmalloc(size_t size);
void *cl_xcalloc(size_t count, size_t size);
void *cl_xrealloc(void *ptr, size_t size);
char *cl_xstrdup(const char *s);
char *cl_xstrndup(const char *s, size_t n);
char *cl_asprintf(const char *fmt, ...) CLADDING_PRINTF(1, 2);
char *cl_vasprintf(const char *fmt, va_list ap);

/* Joins two path parts with one '/', without normalising either. */
char *cl_path_join(const char *dir, const char *name);
/* Returns the absolute `path` with empty and "." components removed and
 * each ".." applied to the component before it, without looking at the
 * file system.  A ".." at "/" stays at "/". */
char *cl_path_normalize(const char *path);
/* Returns the directory part of `path` ("/" for "/x", "." for "x"). */
char *cl_path_dirname(const char *path);
const char *cl_path_basename(const char *path);

bool cl_str_has_prefix(const char *s, const char *prefix);
bool cl_str_has_suffix(const char *s, const char *suffix);

/* A growable NULL-terminated array of owned strings. */
struct cl_strv {
  char **items;
  size_t count;
  size_t cap;
};
void cl_strv_push(struct cl_strv *v, const char *s);
void cl_strv_push_owned(struct cl_strv *v, char *s);
void cl_strv_free(struct cl_strv *v);

/* Tells whether `name` is an executable regular file in a directory of
 * PATH. */
bool cl_in_path(const char *name);

/* Writes through a temporary file and rename(); 0 or a negative errno. */
int cl_write_file_atomic(const char *path, const void *data, size_t len,
                         unsigned mode);
/* Reads a whole file; 0 or a negative errno. */
int cl_read_file(const char *path, char **data, size_t *len);
/* mkdir -p with `mode` for created directories; 0 or a negative errno. */
int cl_mkdir_p(const char *path, unsigned mode);

#endif
