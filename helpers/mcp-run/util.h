/* Memory, byte buffer, environment and encoding helpers of mcp-run. */
#ifndef MCP_RUN_UTIL_H
#define MCP_RUN_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define MR_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Allocation that aborts when memory runs out: a server that cannot
 * allocate a few bytes has no useful way to go on. */
void *mr_xmalloc(size_t size);
void *mr_xcalloc(size_t count, size_t size);
void *mr_xrealloc(void *ptr, size_t size);
char *mr_xstrdup(const char *s);
char *mr_xmemdup0(const void *data, size_t len);
char *mr_asprintf(const char *fmt, ...) MR_PRINTF(1, 2);

void mr_freep(void *p);
void mr_closep(int *fd);
#define cleanup_free __attribute__((cleanup(mr_freep)))
#define cleanup_close __attribute__((cleanup(mr_closep)))

/* A growable byte buffer, always followed by a NUL byte that len does not
 * count, so text in it can be used as a C string. */
struct buf {
  char *data;
  size_t len;
  size_t cap;
};

void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) MR_PRINTF(2, 3);
void buf_reset(struct buf *b);
void buf_free(struct buf *b);
/* Hands the data to the caller (never NULL) and empties the buffer. */
char *buf_steal(struct buf *b);

/* Returns the value of an environment variable with spaces, tabs, CR, LF,
 * VT and FF removed at both ends, as a new string; NULL when the variable
 * is unset or its trimmed value is empty. */
char *mr_getenv_trimmed(const char *name);
/* Returns a copy of [s, s+len) with the same characters trimmed. */
char *mr_trim(const char *s, size_t len);

/* Writes standard base64 with '=' padding into out, which must have room
 * for 4 * ((len + 2) / 3) + 1 bytes; returns the length written. */
size_t mr_base64_encode(const void *data, size_t len, char *out);

bool mr_utf8_valid(const char *s, size_t len);
/* Appends s to b as UTF-8, each maximal ill-formed subsequence replaced by
 * U+FFFD, following the Unicode recommendation for decoders. */
void mr_utf8_append_lossy(struct buf *b, const char *s, size_t len);
/* Makes a JSON string of arbitrary bytes: invalid UTF-8 becomes U+FFFD. */
json_t *mr_json_string_lossy(const char *s, size_t len);

/* Lowercase hex of SHA-256 of [data, data+len) into out[65]. */
void mr_sha256_hex(const void *data, size_t len, char out[65]);

/* Encodes a JSON value compactly with keys in insertion order; the result
 * is malloc()ed and ends with a NUL byte that *len does not count. */
char *mr_json_dump(const json_t *value, size_t *len);

/* strerror() without the locale or thread concerns. */
const char *mr_strerror(int errnum);

#endif
