/* Memory, string and UTF-8 helpers of run-remote. */
#ifndef RUN_REMOTE_UTIL_H
#define RUN_REMOTE_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

void *rr_xmalloc(size_t size);
void *rr_xrealloc(void *ptr, size_t size);
char *rr_xstrdup(const char *s);
char *rr_xmemdup0(const void *data, size_t len);
char *rr_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A copy of [s, s+len) without spaces, tabs, CR, LF, VT and FF at both
 * ends. */
char *rr_trim(const char *s, size_t len);
/* The trimmed value of a variable, NULL when unset or blank. */
char *rr_getenv_trimmed(const char *name);

bool rr_utf8_valid(const char *s, size_t len);
/* A JSON string of s with each ill-formed UTF-8 sequence replaced by
 * U+FFFD. */
json_t *rr_json_string_lossy(const char *s);

#endif
