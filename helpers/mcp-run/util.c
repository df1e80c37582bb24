/* Memory, byte buffer, environment and encoding helpers of mcp-run. */
#include "config-host.h"

#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

static void out_of_memory(void)
{
  static const char msg[] = "Error: out of memory\n";

  if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
    /* Nothing more can be reported. */
  }
  abort();
}

void *mr_xmalloc(size_t size)
{
  void *p = malloc(size ? size : 1);

  if (p == NULL)
    out_of_memory();
  return p;
}

void *mr_xcalloc(size_t count, size_t size)
{
  void *p = calloc(count ? count : 1, size ? size : 1);

  if (p == NULL)
    out_of_memory();
  return p;
}

void *mr_xrealloc(void *ptr, size_t size)
{
  void *p = realloc(ptr, size ? size : 1);

  if (p == NULL)
    out_of_memory();
  return p;
}

char *mr_xstrdup(const char *s)
{
  return mr_xmemdup0(s, strlen(s));
}

char *mr_xmemdup0(const void *data, size_t len)
{
  char *p = mr_xmalloc(len + 1);

  memcpy(p, data, len);
  p[len] = '\0';
  return p;
}

char *mr_asprintf(const char *fmt, ...)
{
  va_list ap;
  char *s;
  int n;

  va_start(ap, fmt);
  n = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (n < 0)
    out_of_memory();
  return s;
}

void mr_freep(void *p)
{
  free(*(void **)p);
}

void mr_closep(int *fd)
{
  if (*fd >= 0)
    close(*fd);
}

static void buf_reserve(struct buf *b, size_t extra)
{
  size_t need = b->len + extra + 1;

  if (need <= b->cap)
    return;
  if (b->cap == 0)
    b->cap = 64;
  while (b->cap < need)
    b->cap *= 2;
  b->data = mr_xrealloc(b->data, b->cap);
}

void buf_append(struct buf *b, const void *data, size_t len)
{
  buf_reserve(b, len);
  if (len > 0)
    memcpy(b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s)
{
  buf_append(b, s, strlen(s));
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
  va_list ap;
  char *s;
  int n;

  va_start(ap, fmt);
  n = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (n < 0)
    out_of_memory();
  buf_append(b, s, (size_t)n);
  free(s);
}

void buf_reset(struct buf *b)
{
  b->len = 0;
  if (b->data != NULL)
    b->data[0] = '\0';
}

void buf_free(struct buf *b)
{
  free(b->data);
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}

char *buf_steal(struct buf *b)
{
  char *data;

  buf_reserve(b, 0);
  data = b->data;
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  return data;
}

static bool is_trim_char(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
         c == '\f';
}

char *mr_trim(const char *s, size_t len)
{
  size_t start = 0;

  while (start < len && is_trim_char(s[start]))
    start++;
  while (len > start && is_trim_char(s[len - 1]))
    len--;
  return mr_xmemdup0(s + start, len - start);
}

char *mr_getenv_trimmed(const char *name)
{
  const char *value = getenv(name);
  char *trimmed;

  if (value == NULL)
    return NULL;
  trimmed = mr_trim(value, strlen(value));
  if (trimmed[0] == '\0') {
    free(trimmed);
    return NULL;
  }
  return trimmed;
}

size_t mr_base64_encode(const void *data, size_t len, char *out)
{
  static const char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const unsigned char *in = data;
  size_t i, o = 0;

  for (i = 0; i + 2 < len; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

    out[o++] = alphabet[v >> 18 & 63];
    out[o++] = alphabet[v >> 12 & 63];
    out[o++] = alphabet[v >> 6 & 63];
    out[o++] = alphabet[v & 63];
  }
  if (i < len) {
    uint32_t v = (uint32_t)in[i] << 16;

    if (i + 1 < len)
      v |= (uint32_t)in[i + 1] << 8;
    out[o++] = alphabet[v >> 18 & 63];
    out[o++] = alphabet[v >> 12 & 63];
    out[o++] = i + 1 < len ? alphabet[v >> 6 & 63] : '=';
    out[o++] = '=';
  }
  out[o] = '\0';
  return o;
}

/* Returns the length of the well-formed UTF-8 sequence at s[0..len), or 0
 * when it is ill-formed; *maximal receives the length of its maximal
 * ill-formed prefix (at least 1) in that case.  The byte ranges are those
 * of the Unicode table of well-formed UTF-8 byte sequences. */
static size_t utf8_sequence(const unsigned char *s, size_t len, size_t *maximal)
{
  unsigned char lo = 0x80, hi = 0xbf;
  size_t need, i;

  *maximal = 1;
  if (s[0] < 0x80)
    return 1;
  if (s[0] >= 0xc2 && s[0] <= 0xdf) {
    need = 2;
  } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
    need = 3;
    if (s[0] == 0xe0)
      lo = 0xa0;
    else if (s[0] == 0xed)
      hi = 0x9f;
  } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
    need = 4;
    if (s[0] == 0xf0)
      lo = 0x90;
    else if (s[0] == 0xf4)
      hi = 0x8f;
  } else {
    return 0;
  }

  for (i = 1; i < need; i++) {
    if (i >= len || s[i] < lo || s[i] > hi) {
      *maximal = i;
      return 0;
    }
    lo = 0x80;
    hi = 0xbf;
  }
  return need;
}

bool mr_utf8_valid(const char *s, size_t len)
{
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0, maximal;

  while (i < len) {
    size_t n = utf8_sequence(p + i, len - i, &maximal);

    if (n == 0)
      return false;
    i += n;
  }
  return true;
}

void mr_utf8_append_lossy(struct buf *b, const char *s, size_t len)
{
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0, start = 0, maximal;

  while (i < len) {
    size_t n = utf8_sequence(p + i, len - i, &maximal);

    if (n > 0) {
      i += n;
      continue;
    }
    buf_append(b, s + start, i - start);
    buf_append(b, "\xef\xbf\xbd", 3);
    i += maximal;
    start = i;
  }
  buf_append(b, s + start, i - start);
}

json_t *mr_json_string_lossy(const char *s, size_t len)
{
  struct buf b = {0};
  json_t *value;

  if (mr_utf8_valid(s, len))
    return json_stringn(s, len);
  mr_utf8_append_lossy(&b, s, len);
  value = json_stringn(b.data, b.len);
  buf_free(&b);
  return value;
}

void mr_sha256_hex(const void *data, size_t len, char out[65])
{
  static const char hex[] = "0123456789abcdef";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  unsigned int i;

  EVP_Digest(data, len, digest, &digest_len, EVP_sha256(), NULL);
  for (i = 0; i < 32; i++) {
    out[2 * i] = hex[digest[i] >> 4];
    out[2 * i + 1] = hex[digest[i] & 15];
  }
  out[64] = '\0';
}

char *mr_json_dump(const json_t *value, size_t *len)
{
  char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);

  if (text == NULL)
    out_of_memory();
  if (len != NULL)
    *len = strlen(text);
  return text;
}

const char *mr_strerror(int errnum)
{
  return strerror(errnum);
}
