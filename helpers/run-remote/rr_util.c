/* Memory, string and UTF-8 helpers of run-remote. */
#include "config-host.h"

#include "rr_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void out_of_memory(void)
{
  static const char msg[] = "out of memory\n";

  if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
    /* Nothing more can be reported. */
  }
  _exit(125);
}

void *rr_xmalloc(size_t size)
{
  void *p = malloc(size ? size : 1);

  if (p == NULL)
    out_of_memory();
  return p;
}

void *rr_xrealloc(void *ptr, size_t size)
{
  void *p = realloc(ptr, size ? size : 1);

  if (p == NULL)
    out_of_memory();
  return p;
}

char *rr_xmemdup0(const void *data, size_t len)
{
  char *p = rr_xmalloc(len + 1);

  memcpy(p, data, len);
  p[len] = '\0';
  return p;
}

char *rr_xstrdup(const char *s)
{
  return rr_xmemdup0(s, strlen(s));
}

char *rr_asprintf(const char *fmt, ...)
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

static bool is_trim_char(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
         c == '\f';
}

char *rr_trim(const char *s, size_t len)
{
  size_t start = 0;

  while (start < len && is_trim_char(s[start]))
    start++;
  while (len > start && is_trim_char(s[len - 1]))
    len--;
  return rr_xmemdup0(s + start, len - start);
}

char *rr_getenv_trimmed(const char *name)
{
  const char *value = getenv(name);
  char *trimmed;

  if (value == NULL)
    return NULL;
  trimmed = rr_trim(value, strlen(value));
  if (trimmed[0] == '\0') {
    free(trimmed);
    return NULL;
  }
  return trimmed;
}

/* Length of the well-formed sequence at s, or 0 with the length of the
 * maximal ill-formed prefix in *bad. */
static size_t sequence_length(const unsigned char *s, size_t len, size_t *bad)
{
  unsigned char lo = 0x80, hi = 0xbf;
  size_t need, i;

  *bad = 1;
  if (s[0] < 0x80)
    return 1;
  if (s[0] >= 0xc2 && s[0] <= 0xdf) {
    need = 2;
  } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
    need = 3;
    lo = s[0] == 0xe0 ? 0xa0 : 0x80;
    hi = s[0] == 0xed ? 0x9f : 0xbf;
  } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
    need = 4;
    lo = s[0] == 0xf0 ? 0x90 : 0x80;
    hi = s[0] == 0xf4 ? 0x8f : 0xbf;
  } else {
    return 0;
  }
  for (i = 1; i < need; i++) {
    if (i >= len || s[i] < lo || s[i] > hi) {
      *bad = i;
      return 0;
    }
    lo = 0x80;
    hi = 0xbf;
  }
  return need;
}

bool rr_utf8_valid(const char *s, size_t len)
{
  size_t i = 0, bad;

  while (i < len) {
    size_t n = sequence_length((const unsigned char *)s + i, len - i, &bad);

    if (n == 0)
      return false;
    i += n;
  }
  return true;
}

json_t *rr_json_string_lossy(const char *s)
{
  size_t len = strlen(s), i = 0, o = 0, bad;
  char *out;
  json_t *value;

  if (rr_utf8_valid(s, len))
    return json_string(s);
  out = rr_xmalloc(len * 3 + 1);
  while (i < len) {
    size_t n = sequence_length((const unsigned char *)s + i, len - i, &bad);

    if (n > 0) {
      memcpy(out + o, s + i, n);
      o += n;
      i += n;
    } else {
      memcpy(out + o, "\xef\xbf\xbd", 3);
      o += 3;
      i += bad;
    }
  }
  value = json_stringn(out, o);
  free(out);
  return value;
}
