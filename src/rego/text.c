/* UTF-8 helpers, case mapping, sprintf, regex.match and glob.match. */
#include "text.h"

#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t utf8_char_len(const char *s, size_t avail)
{
  unsigned char c = (unsigned char)s[0];
  size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  if (c >= 0x80 && c < 0xC0)
    len = 1;
  return len > avail ? avail : len;
}

size_t utf8_count(const char *s, size_t n)
{
  size_t count = 0;
  for (size_t i = 0; i < n; i++)
    if (((unsigned char)s[i] & 0xC0) != 0x80)
      count++;
  return count;
}

size_t utf8_offset(const char *s, size_t n, size_t i)
{
  size_t pos = 0;
  while (i > 0 && pos < n) {
    pos += utf8_char_len(s + pos, n - pos);
    i--;
  }
  return pos;
}

static unsigned decode(const char *s, size_t len)
{
  const unsigned char *u = (const unsigned char *)s;
  switch (len) {
  case 1:
    return u[0];
  case 2:
    return ((u[0] & 0x1Fu) << 6) | (u[1] & 0x3Fu);
  case 3:
    return ((u[0] & 0x0Fu) << 12) | ((u[1] & 0x3Fu) << 6) | (u[2] & 0x3Fu);
  default:
    return ((u[0] & 0x07u) << 18) | ((u[1] & 0x3Fu) << 12) |
           ((u[2] & 0x3Fu) << 6) | (u[3] & 0x3Fu);
  }
}

static void encode(struct strbuf *sb, unsigned cp)
{
  char b[4];
  if (cp < 0x80) {
    sb_addc(sb, (char)cp);
  } else if (cp < 0x800) {
    b[0] = (char)(0xC0 | (cp >> 6));
    b[1] = (char)(0x80 | (cp & 0x3F));
    sb_add(sb, b, 2);
  } else if (cp < 0x10000) {
    b[0] = (char)(0xE0 | (cp >> 12));
    b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    b[2] = (char)(0x80 | (cp & 0x3F));
    sb_add(sb, b, 3);
  } else {
    b[0] = (char)(0xF0 | (cp >> 18));
    b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    b[3] = (char)(0x80 | (cp & 0x3F));
    sb_add(sb, b, 4);
  }
}

/* Case pairs outside the simple ranges handled in to_lower(). */
static const unsigned special_pairs[][2] = {
    {0x0386, 0x03AC}, {0x0388, 0x03AD}, {0x0389, 0x03AE}, {0x038A, 0x03AF},
    {0x038C, 0x03CC}, {0x038E, 0x03CD}, {0x038F, 0x03CE}, {0x0178, 0x00FF},
    {0x2C6F, 0x0250}, {0x1E9E, 0x00DF},
};

/* Lower-case mapping for Latin, Greek, Cyrillic and a few others; other
 * characters are left as they are. */
static unsigned to_lower(unsigned c)
{
  if (c >= 'A' && c <= 'Z')
    return c + 32;
  if (c < 0x80)
    return c;
  if ((c >= 0xC0 && c <= 0xDE && c != 0xD7))
    return c + 32;
  if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x131 && c != 0x138 &&
      c != 0x149 && c != 0x17F) {
    bool odd_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
    if (odd_upper)
      return (c & 1) ? c + 1 : c;
    return (c & 1) ? c : c + 1;
  }
  if (c >= 0x391 && c <= 0x3AB && c != 0x3A2)
    return c + 32;
  if (c >= 0x400 && c <= 0x40F)
    return c + 80;
  if (c >= 0x410 && c <= 0x42F)
    return c + 32;
  if (c >= 0x1F08 && c <= 0x1F6F && (c & 0xF) >= 8 && (c >> 4) != 0x1F7)
    return c - 8;
  for (size_t i = 0; i < sizeof(special_pairs) / sizeof(special_pairs[0]); i++)
    if (special_pairs[i][0] == c)
      return special_pairs[i][1];
  return c;
}

static unsigned to_upper(unsigned c)
{
  if (c >= 'a' && c <= 'z')
    return c - 32;
  if (c < 0x80)
    return c;
  if (c == 0x3C2)
    return 0x3A3;
  if ((c >= 0xE0 && c <= 0xFE && c != 0xF7))
    return c - 32;
  if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x131 && c != 0x138 &&
      c != 0x149 && c != 0x17F) {
    bool odd_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
    if (odd_upper)
      return (c & 1) ? c : c - 1;
    return (c & 1) ? c - 1 : c;
  }
  if (c >= 0x3B1 && c <= 0x3CB)
    return c - 32;
  if (c >= 0x450 && c <= 0x45F)
    return c - 80;
  if (c >= 0x430 && c <= 0x44F)
    return c - 32;
  if (c >= 0x1F00 && c <= 0x1F67 && (c & 0xF) < 8)
    return c + 8;
  for (size_t i = 0; i < sizeof(special_pairs) / sizeof(special_pairs[0]); i++)
    if (special_pairs[i][1] == c)
      return special_pairs[i][0];
  return c;
}

static bool is_letter(unsigned c)
{
  return to_lower(c) != c || to_upper(c) != c;
}

const rv *text_case(struct arena *ar, const rv *s, bool upper)
{
  struct strbuf sb;
  sb_init(&sb, ar);
  size_t i = 0;
  unsigned prev = 0;
  while (i < s->n) {
    size_t len = utf8_char_len(s->s + i, s->n - i);
    unsigned c = decode(s->s + i, len);
    unsigned m = upper ? to_upper(c) : to_lower(c);
    if (!upper && c == 0x3A3) {
      /* Final sigma: a capital sigma after a letter and not before one. */
      size_t next = i + len;
      unsigned nc =
          next < s->n
              ? decode(s->s + next, utf8_char_len(s->s + next, s->n - next))
              : 0;
      if (is_letter(prev) && !is_letter(nc))
        m = 0x3C2;
    }
    encode(&sb, m);
    prev = c;
    i += len;
  }
  return rv_str(ar, sb.buf, sb.len);
}

/* ---- sprintf ---- */

static void pad(struct strbuf *sb, const char *s, size_t n, int width,
                bool zero, bool left)
{
  int fill = width - (int)n;
  if (fill > 0 && !left) {
    size_t start = 0;
    if (zero && n && (s[0] == '-' || s[0] == '+')) {
      sb_addc(sb, s[0]);
      start = 1;
    }
    for (int i = 0; i < fill; i++)
      sb_addc(sb, zero ? '0' : ' ');
    sb_add(sb, s + start, n - start);
    return;
  }
  sb_add(sb, s, n);
  for (int i = 0; fill > 0 && left && i < fill; i++)
    sb_addc(sb, ' ');
}

const rv *text_sprintf(struct arena *ar, const rv *fmt, const rv *args,
                       const char **err)
{
  struct strbuf sb;
  sb_init(&sb, ar);
  uint32_t next = 0;
  const char *f = fmt->s, *end = fmt->s + fmt->n;
  while (f < end) {
    if (*f != '%') {
      sb_addc(&sb, *f++);
      continue;
    }
    f++;
    if (f < end && *f == '%') {
      sb_addc(&sb, '%');
      f++;
      continue;
    }
    bool zero = false, left = false, plus = false;
    while (f < end && (*f == '0' || *f == '-' || *f == '+' || *f == ' ')) {
      if (*f == '0')
        zero = true;
      else if (*f == '-')
        left = true;
      else if (*f == '+')
        plus = true;
      f++;
    }
    int width = 0, prec = -1;
    while (f < end && *f >= '0' && *f <= '9' && width < 1000)
      width = width * 10 + (*f++ - '0');
    if (f < end && *f == '.') {
      f++;
      prec = 0;
      while (f < end && *f >= '0' && *f <= '9' && prec < 100)
        prec = prec * 10 + (*f++ - '0');
    }
    if (f >= end) {
      *err = "format ends inside a verb";
      return NULL;
    }
    char verb = *f++;
    if (next >= args->n) {
      *err = "too few operands for the format";
      return NULL;
    }
    const rv *v = args->a[next++];
    struct strbuf piece;
    sb_init(&piece, ar);
    char buf[128];
    switch (verb) {
    case 'v':
    case 's':
      rv_to_text(&piece, v, true);
      break;
    case 'q':
      rv_to_text(&piece, v, false);
      break;
    case 'd':
    case 'x':
    case 'X':
    case 'o':
    case 'b':
      if (v->type != RV_NUM) {
        *err = "integer verb needs a number";
        return NULL;
      }
      if (v->num != floor(v->num) || fabs(v->num) > 9.0e15) {
        sb_num(&piece, v->num);
        break;
      }
      {
        long long n = (long long)v->num;
        if (verb == 'd') {
          snprintf(buf, sizeof(buf), plus ? "%+lld" : "%lld", n);
        } else if (verb == 'x' || verb == 'X') {
          snprintf(buf, sizeof(buf), verb == 'x' ? "%s%llx" : "%s%llX",
                   n < 0 ? "-" : "", n < 0 ? -n : n);
        } else if (verb == 'o') {
          snprintf(buf, sizeof(buf), "%s0O%llo", n < 0 ? "-" : "",
                   n < 0 ? -n : n);
        } else {
          unsigned long long u =
              n < 0 ? (unsigned long long)-n : (unsigned long long)n;
          char bits[70];
          int i = sizeof(bits) - 1;
          bits[i] = 0;
          do {
            bits[--i] = (char)('0' + (u & 1));
            u >>= 1;
          } while (u);
          snprintf(buf, sizeof(buf), "%s%s", n < 0 ? "-" : "", bits + i);
        }
        sb_adds(&piece, buf);
      }
      break;
    case 'f':
    case 'e':
    case 'g':
      if (v->type != RV_NUM) {
        *err = "float verb needs a number";
        return NULL;
      }
      if (prec < 0 && verb == 'f') {
        sb_num(&piece, v->num);
      } else {
        int digits = prec < 0 ? 6 : prec;
        if (verb == 'f')
          sb_adds(&piece, arena_sprintf(ar, "%.*f", digits, v->num));
        else if (verb == 'e')
          sb_adds(&piece, arena_sprintf(ar, "%.*e", digits, v->num));
        else
          sb_adds(&piece, arena_sprintf(ar, "%.*g", digits, v->num));
      }
      break;
    case 't':
      rv_to_text(&piece, v, true);
      break;
    default:
      *err = "unknown format verb";
      return NULL;
    }
    pad(&sb, piece.buf, piece.len, width, zero && !left, left);
  }
  return rv_str(ar, sb.buf, sb.len);
}

/* ---- regex.match: RE2 syntax translated to POSIX extended ---- */

static bool translate_class(struct strbuf *sb, char c, bool in_bracket)
{
  const char *set;
  switch (c) {
  case 'd':
    set = "0-9";
    break;
  case 'w':
    set = "A-Za-z0-9_";
    break;
  case 's':
    set = "[:space:]";
    break;
  case 'D':
  case 'W':
  case 'S':
    if (in_bracket)
      return false;
    sb_adds(sb, c == 'D'   ? "[^0-9]"
                : c == 'W' ? "[^A-Za-z0-9_]"
                           : "[^[:space:]]");
    return true;
  default:
    return false;
  }
  if (!in_bracket)
    sb_addc(sb, '[');
  sb_adds(sb, set);
  if (!in_bracket)
    sb_addc(sb, ']');
  return true;
}

/* Largest product of counted repetitions ({n}, {n,m}) in one pattern.
 * glibc's regcomp copies the repeated subtree for each count, so nested
 * counts multiply its memory; RE2 limits repeat counts to 1000 as well. */
#define REGEX_MAX_REPEAT 1000
/* Maximum pattern length, in bytes. */
#define REGEX_MAX_LENGTH 4096

/* Rejects patterns that would make glibc's regcomp take unbounded time or
 * memory: a repetition operator right after another one (RE2 rejects
 * "a++" too), and counted repetitions whose product passes
 * REGEX_MAX_REPEAT.  Returns NULL, or the error message. */
static const char *regex_too_costly(const char *p)
{
  unsigned long product = 1;
  bool after_repeat = false, in_bracket = false;

  if (strlen(p) > REGEX_MAX_LENGTH)
    return "regular expression longer than 4096 bytes";
  for (; *p; p++) {
    bool repeat = false;

    if (*p == '\\' && p[1]) {
      p++;
      after_repeat = false;
      continue;
    }
    if (in_bracket) {
      in_bracket = *p != ']';
      continue;
    }
    if (*p == '[') {
      in_bracket = true;
      /* A ']' right after '[' or '[^' is literal. */
      if (p[1] == '^')
        p++;
      if (p[1] == ']')
        p++;
      after_repeat = false;
      continue;
    }
    if (*p == '*' || *p == '+' || *p == '?') {
      repeat = true;
    } else if (*p == '{' && p[1] >= '0' && p[1] <= '9') {
      unsigned long low = 0, high;

      for (p++; *p >= '0' && *p <= '9'; p++)
        low = low < 100000 ? low * 10 + (unsigned long)(*p - '0') : low;
      high = low;
      if (*p == ',') {
        high = 0;
        for (p++; *p >= '0' && *p <= '9'; p++)
          high = high < 100000 ? high * 10 + (unsigned long)(*p - '0') : high;
        if (high < low)
          high = low;
      }
      if (*p != '}')
        return "invalid repetition count in regular expression";
      product *= high > 0 ? high : 1;
      if (product > REGEX_MAX_REPEAT)
        return "repetition counts in a regular expression multiply to more "
               "than 1000";
      repeat = true;
    }
    /* "*?" and the like are left to the non-greedy message below. */
    if (repeat && after_repeat && *p != '?')
      return "repetition operator after another repetition in regular "
             "expression";
    after_repeat = repeat;
  }
  return NULL;
}

int text_regex_match(const char *pattern, const char *s, const char **err)
{
  const char *costly = regex_too_costly(pattern);

  if (costly != NULL) {
    *err = costly;
    return -1;
  }

  struct arena tmp;
  arena_init(&tmp);
  struct strbuf sb;
  sb_init(&sb, &tmp);
  int flags = REG_EXTENDED | REG_NOSUB;
  const char *p = pattern;
  if (strncmp(p, "(?i)", 4) == 0) {
    flags |= REG_ICASE;
    p += 4;
  }
  bool in_bracket = false;
  int rc = 0;
  for (; *p; p++) {
    if (in_bracket) {
      if (*p == ']' && p[-1] != '[' && !(p[-1] == '^' && p[-2] == '[')) {
        in_bracket = false;
        sb_addc(&sb, ']');
      } else if (*p == '\\' && p[1]) {
        p++;
        if (!translate_class(&sb, *p, true)) {
          if (*p == ']' || *p == '\\' || *p == '-' || *p == '^') {
            /* POSIX brackets have no escapes: move specials where they
             * are literal. */
            if (*p == ']' || *p == '-' || *p == '^') {
              *err = "unsupported escape inside brackets";
              rc = -1;
              goto out;
            }
            sb_addc(&sb, '\\');
          } else {
            sb_addc(&sb, *p);
          }
        }
      } else {
        sb_addc(&sb, *p);
      }
      continue;
    }
    if (*p == '[') {
      in_bracket = true;
      sb_addc(&sb, '[');
      if (p[1] == '^') {
        sb_addc(&sb, '^');
        p++;
      }
      if (p[1] == ']') {
        sb_addc(&sb, ']');
        p++;
      }
      continue;
    }
    if (*p == '(' && p[1] == '?' && p[2] == ':') {
      sb_addc(&sb, '(');
      p += 2;
      continue;
    }
    if (*p == '(' && p[1] == '?') {
      *err = "unsupported group flags in regular expression";
      rc = -1;
      goto out;
    }
    if ((*p == '*' || *p == '+' || *p == '?' || *p == '}') && p[1] == '?') {
      *err = "non-greedy repetition is not supported";
      rc = -1;
      goto out;
    }
    if (*p == '\\' && p[1]) {
      p++;
      if (translate_class(&sb, *p, false))
        continue;
      if (*p == 'A') {
        sb_addc(&sb, '^');
        continue;
      }
      if (*p == 'z') {
        sb_addc(&sb, '$');
        continue;
      }
      if (*p == 'n' || *p == 't') {
        sb_addc(&sb, *p == 'n' ? '\n' : '\t');
        continue;
      }
      if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
          (*p >= '0' && *p <= '9')) {
        *err = "unsupported escape in regular expression";
        rc = -1;
        goto out;
      }
      sb_addc(&sb, '\\');
      sb_addc(&sb, *p);
      continue;
    }
    sb_addc(&sb, *p);
  }
  {
    regex_t re;
    int crc = regcomp(&re, sb.buf, flags);
    if (crc != 0) {
      *err = "invalid regular expression";
      rc = -1;
      goto out;
    }
    rc = regexec(&re, s, 0, NULL, 0) == 0 ? 1 : 0;
    regfree(&re);
  }
out:
  arena_free(&tmp);
  return rc;
}

/* ---- glob.match ---- */

static bool is_delim(char c, const char *delims, size_t nd)
{
  return memchr(delims, c, nd) != NULL;
}

static int glob_rec(const char *p, const char *pe, const char *s,
                    const char *se, const char *delims, size_t nd, int depth)
{
  if (depth > 200)
    return -1;
  while (p < pe) {
    char c = *p;
    if (c == '*') {
      bool super = p + 1 < pe && p[1] == '*';
      const char *rest = p + (super ? 2 : 1);
      for (const char *t = s;; t++) {
        int r = glob_rec(rest, pe, t, se, delims, nd, depth + 1);
        if (r != 0)
          return r;
        if (t == se || (!super && is_delim(*t, delims, nd)))
          return 0;
      }
    }
    if (c == '{') {
      /* alternatives up to the matching '}' */
      const char *close = p + 1;
      int level = 1;
      while (close < pe && level) {
        if (*close == '{')
          level++;
        else if (*close == '}')
          level--;
        if (level)
          close++;
      }
      if (close >= pe)
        return -1;
      const char *alt = p + 1;
      while (alt <= close) {
        const char *alt_end = alt;
        int lv = 0;
        while (alt_end < close && (lv || *alt_end != ',')) {
          if (*alt_end == '{')
            lv++;
          else if (*alt_end == '}')
            lv--;
          alt_end++;
        }
        size_t n1 = (size_t)(alt_end - alt), n2 = (size_t)(pe - close - 1);
        char *buf = malloc(n1 + n2 + 1);
        if (!buf)
          return -1;
        memcpy(buf, alt, n1);
        memcpy(buf + n1, close + 1, n2);
        int r = glob_rec(buf, buf + n1 + n2, s, se, delims, nd, depth + 1);
        free(buf);
        if (r != 0)
          return r;
        alt = alt_end + 1;
      }
      return 0;
    }
    if (s == se)
      return 0;
    if (c == '?') {
      if (is_delim(*s, delims, nd))
        return 0;
      p++;
      s += utf8_char_len(s, (size_t)(se - s));
      continue;
    }
    if (c == '[') {
      const char *q = p + 1;
      bool neg = q < pe && (*q == '!' || *q == '^');
      if (neg)
        q++;
      bool hit = false;
      while (q < pe && *q != ']') {
        char lo = *q, hi = *q;
        if (q + 2 < pe && q[1] == '-' && q[2] != ']') {
          hi = q[2];
          q += 2;
        }
        if (*s >= lo && *s <= hi)
          hit = true;
        q++;
      }
      if (q >= pe)
        return -1;
      if (hit == neg)
        return 0;
      p = q + 1;
      s++;
      continue;
    }
    if (c == '\\' && p + 1 < pe)
      c = *++p;
    if (*s != c)
      return 0;
    p++;
    s++;
  }
  return s == se ? 1 : 0;
}

int text_glob_match(const char *pat, size_t np, const char *s, size_t ns,
                    const char *delims, size_t nd)
{
  return glob_rec(pat, pat + np, s, s + ns, delims, nd, 0);
}
