#include "config-host.h"

#include <stdbool.h>
#include <string.h>

#include "context.h"
#include "util.h"

static bool is_bare(unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || strchr("/._-:=,", c) != NULL;
}

char *cl_shell_quote(const char *word)
{
  size_t len = 0, quotes = 0;
  bool bare = *word != '\0';
  char *out, *p;

  for (const char *s = word; *s; s++) {
    len++;
    if (*s == '\'')
      quotes++;
    if (!is_bare((unsigned char)*s))
      bare = false;
  }
  if (bare)
    return cl_xstrdup(word);

  /* Each ' becomes '\'' (three more bytes); two quotes and the NUL. */
  out = p = cl_xmalloc(len + quotes * 3 + 3);
  *p++ = '\'';
  for (const char *s = word; *s; s++) {
    if (*s == '\'') {
      memcpy(p, "'\\''", 4);
      p += 4;
    } else {
      *p++ = *s;
    }
  }
  *p++ = '\'';
  *p = '\0';
  return out;
}

char *cl_shell_quote_argv(const char *const *argv)
{
  size_t cap = 64, used = 0;
  char *out = cl_xmalloc(cap);

  out[0] = '\0';
  for (size_t i = 0; argv[i] != NULL; i++) {
    cleanup_free char *word = cl_shell_quote(argv[i]);
    size_t need = strlen(word) + 2;

    if (used + need + 1 > cap) {
      while (used + need + 1 > cap)
        cap *= 2;
      out = cl_xrealloc(out, cap);
    }
    if (i > 0)
      out[used++] = ' ';
    strcpy(out + used, word);
    used += strlen(word);
  }
  return out;
}
