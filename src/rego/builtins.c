/* Builtin functions: strings, collections, numbers, types, encoding. */
#include "eval.h"
#include "text.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARG_TYPE(i, t, name)                                                   \
  do {                                                                         \
    if (args[i]->type != (t))                                                  \
      return bi_fail(ev, BI_TYPE, "operand %d must be %s, got %s", (i) + 1,    \
                     name, rv_typename(args[i]));                              \
  } while (0)

#define ARG_STR(i) ARG_TYPE(i, RV_STR, "string")
#define ARG_NUM(i) ARG_TYPE(i, RV_NUM, "number")

static struct arena *A(struct ev *ev)
{
  return ev->ar;
}

static bool is_coll(const rv *v)
{
  return v->type == RV_ARR || v->type == RV_SET;
}

/* ---- operators as functions ---- */

#define CMP_FN(fname, expr)                                                    \
  static int fname(struct ev *ev, const rv **args, const rv **out)             \
  {                                                                            \
    int c = rv_cmp(args[0], args[1]);                                          \
    *out = rv_bool(expr);                                                      \
    return BI_OK;                                                              \
  }

CMP_FN(bi_equal, c == 0)
CMP_FN(bi_neq, c != 0)
CMP_FN(bi_lt, c < 0)
CMP_FN(bi_lte, c <= 0)
CMP_FN(bi_gt, c > 0)
CMP_FN(bi_gte, c >= 0)

static int arith(struct ev *ev, const rv **args, const rv **out, char op)
{
  ARG_NUM(0);
  ARG_NUM(1);
  double x = args[0]->num, y = args[1]->num, r = 0;
  switch (op) {
  case '+':
    r = x + y;
    break;
  case '-':
    r = x - y;
    break;
  case '*':
    r = x * y;
    break;
  case '/':
    if (y == 0)
      return bi_fail(ev, BI_ERROR, "divide by zero");
    r = x / y;
    break;
  case '%': {
    int64_t a, b;
    if (!rv_is_int(args[0], &a) || !rv_is_int(args[1], &b))
      return bi_fail(ev, BI_TYPE, "modulo needs integers");
    if (b == 0)
      return bi_fail(ev, BI_ERROR, "modulo by zero");
    r = (double)(a % b);
    break;
  }
  }
  *out = rv_num(A(ev), r);
  return BI_OK;
}

static int bi_plus(struct ev *ev, const rv **args, const rv **out)
{
  return arith(ev, args, out, '+');
}
static int bi_minus(struct ev *ev, const rv **args, const rv **out)
{
  return arith(ev, args, out, '-');
}
static int bi_mul(struct ev *ev, const rv **args, const rv **out)
{
  return arith(ev, args, out, '*');
}
static int bi_div(struct ev *ev, const rv **args, const rv **out)
{
  return arith(ev, args, out, '/');
}
static int bi_rem(struct ev *ev, const rv **args, const rv **out)
{
  return arith(ev, args, out, '%');
}

/* ---- strings ---- */

static int bi_concat(struct ev *ev, const rv **args, const rv **out)
{
  ARG_STR(0);
  if (!is_coll(args[1]))
    return bi_fail(ev, BI_TYPE,
                   "operand 2 must be an array or set of "
                   "strings");
  struct strbuf sb;
  sb_init(&sb, A(ev));
  for (uint32_t i = 0; i < args[1]->n; i++) {
    const rv *s = args[1]->a[i];
    if (s->type != RV_STR)
      return bi_fail(ev, BI_TYPE, "operand 2 must contain only strings");
    if (i)
      sb_add(&sb, args[0]->s, args[0]->n);
    sb_add(&sb, s->s, s->n);
  }
  *out = rv_str(A(ev), sb.buf, sb.len);
  return BI_OK;
}

static const char *find_bytes(const char *h, size_t hn, const char *n,
                              size_t nn)
{
  if (nn == 0)
    return h;
  if (nn > hn)
    return NULL;
  for (size_t i = 0; i + nn <= hn; i++)
    if (memcmp(h + i, n, nn) == 0)
      return h + i;
  return NULL;
}

static int split_n(struct ev *ev, const rv *s, const rv *sep, long limit,
                   const rv **out)
{
  struct vec parts = {0};
  if (sep->n == 0) {
    /* Split into characters. */
    size_t i = 0;
    while (i < s->n) {
      size_t len = utf8_char_len(s->s + i, s->n - i);
      vec_push(A(ev), &parts, rv_str(A(ev), s->s + i, len));
      i += len;
    }
  } else {
    const char *p = s->s, *end = s->s + s->n;
    while (1) {
      const char *hit = (limit < 0 || (long)parts.n + 1 < limit)
                            ? find_bytes(p, (size_t)(end - p), sep->s, sep->n)
                            : NULL;
      if (!hit) {
        vec_push(A(ev), &parts, rv_str(A(ev), p, (size_t)(end - p)));
        break;
      }
      vec_push(A(ev), &parts, rv_str(A(ev), p, (size_t)(hit - p)));
      p = hit + sep->n;
    }
  }
  *out = rv_arr(A(ev), parts.items, parts.n);
  return BI_OK;
}

static int bi_split(struct ev *ev, const rv **args, const rv **out)
{
  ARG_STR(0);
  ARG_STR(1);
  return split_n(ev, args[0], args[1], -1, out);
}

static int bi_split_n(struct ev *ev, const rv **args, const rv **out)
{
  ARG_STR(0);
  ARG_STR(1);
  int64_t n;
  if (!rv_is_int(args[2], &n))
    return bi_fail(ev, BI_TYPE, "operand 3 must be an integer");
  if (n == 0) {
    *out = &rv_empty_arr_v;
    return BI_OK;
  }
  return split_n(ev, args[0], args[1], n < 0 ? -1 : (long)n, out);
}

static int bi_lower(struct ev *ev, const rv **args, const rv **out)
{
  ARG_STR(0);
  *out = text_case(A(ev), args[0], false);
  return BI_OK;
}

static int bi_upper(struct ev *ev, const rv **args, const rv **out)
{
  ARG_STR(0);
  *out = text_case(A(ev), args[0], true);
  return BI_OK;
}

static bool in_cutset(const char *cut, size_t n, const char *s, size_t clen)
{
  size_t i = 0;
  while (i < n) {
    size_t l = utf8_char_len(cut + i, n - i);
    if (l == clen && memcmp(cut + i, s, l) == 0)
      return true;
    i += l;
  }
  return false;
}

static const rv *trim_chars(struct ev *ev, const rv *s, const char *cut,
                            size_t ncut, bool left, bool right)
{
  size_t start = 0, end = s->n;
  while (left && start < end) {
    size_t l = utf8_char_len(s->s + start, end - start);
    if (!in_cutset(cut, ncut, s->s + start, l))
      break;
    start += l;
  }
  while (right && end > start) {
    size_t b = end - 1;
    while (b > start && ((unsigned char)s->s[b] & 0xC0) == 0x80)
      b--;
    if (!in_cutset(cut, ncut, s->s + b, end - b))
      break;
    end = b;
  }
  return rv_str(A(ev), s->s + start, end - start);
}

static int bi_trim(struct ev *ev, const rv **args, const rv **out)
{
  ARG_STR(0);
  ARG_STR(1);
  *out = trim_chars(ev, args[0], args[1]->s, args[1]->n, true, true);
  return BI_OK;
}

static int bi_trim_left(struct ev *ev, const rv **args, const rv **out)
{
  ARG_STR(0);
  ARG_STR(1);
  *out = trim_chars(ev, args[0], args[1]->s, args[1]->n, true, false);
  return BI_OK;
}

static int bi_trim_right(struct ev *ev, const rv **args, const rv **out)
{
  ARG_STR(0);
  ARG_STR(1);
  *out = trim_chars(ev, args[0], args[1]->s, args[1]->n, false, true);
  return BI_OK;
}

static int bi_trim_space(struct ev *ev, const rv **args, const rv **out)
{
  ARG_STR(0);
  static const char ws[] = " \t\n\r\v\f";
  *out = trim_chars(ev, args[0], ws, sizeof(ws) - 1, true, true);
  return BI_OK;
}

static int bi_trim_prefix(struct ev *ev, const rv **args, const rv **out)
{
  ARG_STR(0);
  ARG_STR(1);
  const rv *s = args[0], *p = args[1];
  if (p->n <= s->n && memcmp(s->s, p->s, p->n) == 0)
    *out = rv_str(A(ev), s->s + p->n, s->n - p->n);
  else
    *out = s;
  return BI_OK;
}

static int bi_trim_suffix(struct ev *ev, const rv **args, const rv **out)
{
  ARG_STR(0);
  ARG_STR(1);
  const rv *s = args[0], *p = args[1];
  if (p->n <= s->n && memcmp(s->s + s->n - p->n, p->s, p->n) == 0)
    *out = rv_str(A(ev), s->s, s->n - p->n);
  else
    *out = s;
  return BI_OK;
}

static int bi_replace(struct ev *ev, const rv **args, const rv **out)
{
  ARG_STR(0);
  ARG_STR(1);
  ARG_STR(2);
  const rv *s = args[0], *old = args[1], *new = args[2];
  struct strbuf sb;
  sb_init(&sb, A(ev));
  if (old->n == 0) {
    /* Go semantics: insert around every character. */
    size_t i = 0;
    sb_add(&sb, new->s, new->n);
    while (i < s->n) {
      size_t l = utf8_char_len(s->s + i, s->n - i);
      sb_add(&sb, s->s + i, l);
      sb_add(&sb, new->s, new->n);
      i += l;
    }
  } else {
    const char *p = s->s, *end = s->s + s->n;
    while (1) {
      const char *hit = find_bytes(p, (size_t)(end - p), old->s, old->n);
      if (!hit) {
        sb_add(&sb, p, (size_t)(end - p));
        break;
      }
      sb_add(&sb, p, (size_t)(hit - p));
      sb_add(&sb, new->s, new->n);
      p = hit + old->n;
    }
  }
  *out = rv_str(A(ev), sb.buf, sb.len);
  return BI_OK;
}

static int bi_indexof(struct ev *ev, const rv **args, const rv **out)
{
  ARG_STR(0);
  ARG_STR(1);
  const char *hit = find_bytes(args[0]->s, args[0]->n, args[1]->s, args[1]->n);
  if (!hit || (args[1]->n == 0 && args[0]->n == 0)) {
    *out = rv_num(A(ev), hit && args[0]->n ? 0 : -1);
    return BI_OK;
  }
  *out =
      rv_num(A(ev), (double)utf8_count(args[0]->s, (size_t)(hit - args[0]->s)));
  return BI_OK;
}

static int bi_substring(struct ev *ev, const rv **args, const rv **out)
{
  ARG_STR(0);
  int64_t start, len;
  if (!rv_is_int(args[1], &start) || !rv_is_int(args[2], &len))
    return bi_fail(ev, BI_TYPE, "offset and length must be integers");
  if (start < 0)
    return bi_fail(ev, BI_ERROR, "negative offset");
  const rv *s = args[0];
  size_t total = utf8_count(s->s, s->n);
  if ((size_t)start >= total) {
    *out = rv_str(A(ev), "", 0);
    return BI_OK;
  }
  size_t b = utf8_offset(s->s, s->n, (size_t)start);
  size_t e = len < 0 || (size_t)(start + len) >= total
                 ? s->n
                 : utf8_offset(s->s, s->n, (size_t)(start + len));
  *out = rv_str(A(ev), s->s + b, e - b);
  return BI_OK;
}

static int bi_startswith(struct ev *ev, const rv **args, const rv **out)
{
  ARG_STR(0);
  ARG_STR(1);
  *out = rv_bool(args[1]->n <= args[0]->n &&
                 memcmp(args[0]->s, args[1]->s, args[1]->n) == 0);
  return BI_OK;
}

static int bi_endswith(struct ev *ev, const rv **args, const rv **out)
{
  ARG_STR(0);
  ARG_STR(1);
  *out = rv_bool(args[1]->n <= args[0]->n &&
                 memcmp(args[0]->s + args[0]->n - args[1]->n, args[1]->s,
                        args[1]->n) == 0);
  return BI_OK;
}

static int bi_contains(struct ev *ev, const rv **args, const rv **out)
{
  ARG_STR(0);
  ARG_STR(1);
  *out = rv_bool(find_bytes(args[0]->s, args[0]->n, args[1]->s, args[1]->n) !=
                 NULL);
  return BI_OK;
}

static int any_match(struct ev *ev, const rv **args, const rv **out,
                     bool prefix)
{
  const rv *ss[1], *ps[1];
  const rv *const *strs = ss, *const *pats = ps;
  size_t ns = 1, np = 1;
  if (args[0]->type == RV_STR)
    ss[0] = args[0];
  else if (is_coll(args[0]))
    strs = args[0]->a, ns = args[0]->n;
  else
    return bi_fail(ev, BI_TYPE, "operand 1 must be a string, array or set");
  if (args[1]->type == RV_STR)
    ps[0] = args[1];
  else if (is_coll(args[1]))
    pats = args[1]->a, np = args[1]->n;
  else
    return bi_fail(ev, BI_TYPE, "operand 2 must be a string, array or set");
  for (size_t i = 0; i < ns; i++) {
    if (strs[i]->type != RV_STR)
      return bi_fail(ev, BI_TYPE, "operand 1 must contain strings");
    for (size_t j = 0; j < np; j++) {
      const rv *s = strs[i], *p = pats[j];
      if (p->type != RV_STR)
        return bi_fail(ev, BI_TYPE, "operand 2 must contain strings");
      if (p->n > s->n)
        continue;
      const char *at = prefix ? s->s : s->s + s->n - p->n;
      if (memcmp(at, p->s, p->n) == 0) {
        *out = RV_TRUE;
        return BI_OK;
      }
    }
  }
  *out = RV_FALSE;
  return BI_OK;
}

static int bi_any_prefix(struct ev *ev, const rv **args, const rv **out)
{
  return any_match(ev, args, out, true);
}

static int bi_any_suffix(struct ev *ev, const rv **args, const rv **out)
{
  return any_match(ev, args, out, false);
}

static int bi_strings_count(struct ev *ev, const rv **args, const rv **out)
{
  ARG_STR(0);
  ARG_STR(1);
  const rv *s = args[0], *sub = args[1];
  size_t n = 0;
  if (sub->n == 0) {
    n = utf8_count(s->s, s->n) + 1;
  } else {
    const char *p = s->s, *end = s->s + s->n;
    const char *hit;
    while ((hit = find_bytes(p, (size_t)(end - p), sub->s, sub->n))) {
      n++;
      p = hit + sub->n;
    }
  }
  *out = rv_num(A(ev), (double)n);
  return BI_OK;
}

static int bi_sprintf(struct ev *ev, const rv **args, const rv **out)
{
  ARG_STR(0);
  if (args[1]->type != RV_ARR)
    return bi_fail(ev, BI_TYPE, "operand 2 must be an array");
  const char *err = NULL;
  const rv *v = text_sprintf(A(ev), args[0], args[1], &err);
  if (!v)
    return bi_fail(ev, BI_ERROR, "%s", err);
  *out = v;
  return BI_OK;
}

static int bi_regex_match(struct ev *ev, const rv **args, const rv **out)
{
  ARG_STR(0);
  ARG_STR(1);
  const char *err = NULL;
  int m = text_regex_match(args[0]->s, args[1]->s, &err);
  if (m < 0)
    return bi_fail(ev, BI_ERROR, "%s", err);
  *out = rv_bool(m);
  return BI_OK;
}

static int bi_glob_match(struct ev *ev, const rv **args, const rv **out)
{
  ARG_STR(0);
  ARG_STR(2);
  const char *delims = ".";
  size_t nd = 1;
  char buf[64];
  if (args[1]->type == RV_NULL) {
    delims = "";
    nd = 0;
  } else if (args[1]->type == RV_ARR) {
    if (args[1]->n > 0) {
      nd = 0;
      for (uint32_t i = 0; i < args[1]->n && nd < sizeof(buf); i++) {
        const rv *d = args[1]->a[i];
        if (d->type != RV_STR || d->n != 1)
          return bi_fail(ev, BI_TYPE, "delimiters must be single characters");
        buf[nd++] = d->s[0];
      }
      delims = buf;
    }
  } else {
    return bi_fail(ev, BI_TYPE, "operand 2 must be an array or null");
  }
  int m = text_glob_match(args[0]->s, args[0]->n, args[2]->s, args[2]->n,
                          delims, nd);
  if (m < 0)
    return bi_fail(ev, BI_ERROR, "invalid glob pattern");
  *out = rv_bool(m);
  return BI_OK;
}

/* ---- collections ---- */

static int bi_count(struct ev *ev, const rv **args, const rv **out)
{
  const rv *v = args[0];
  if (v->type == RV_STR)
    *out = rv_num(A(ev), (double)utf8_count(v->s, v->n));
  else if (v->type == RV_ARR || v->type == RV_SET || v->type == RV_OBJ)
    *out = rv_num(A(ev), v->n);
  else
    return bi_fail(ev, BI_TYPE, "operand 1 must be a collection or string");
  return BI_OK;
}

static int bi_object_keys(struct ev *ev, const rv **args, const rv **out)
{
  ARG_TYPE(0, RV_OBJ, "object");
  const rv **items = arena_alloc(A(ev), (args[0]->n + 1) * sizeof(*items));
  for (uint32_t i = 0; i < args[0]->n; i++)
    items[i] = args[0]->a[2 * i];
  *out = rv_set(A(ev), items, args[0]->n);
  return BI_OK;
}

static int bi_object_get(struct ev *ev, const rv **args, const rv **out)
{
  ARG_TYPE(0, RV_OBJ, "object");
  const rv *cur = args[0];
  if (args[1]->type == RV_ARR) {
    for (uint32_t i = 0; i < args[1]->n && cur; i++) {
      if (cur->type == RV_OBJ)
        cur = rv_obj_get(cur, args[1]->a[i]);
      else if (cur->type == RV_ARR) {
        int64_t ix;
        cur = rv_is_int(args[1]->a[i], &ix) && ix >= 0 && ix < cur->n
                  ? cur->a[ix]
                  : NULL;
      } else
        cur = NULL;
    }
  } else {
    cur = rv_obj_get(cur, args[1]);
  }
  *out = cur ? cur : args[2];
  return BI_OK;
}

static bool key_in(const rv *keys, const rv *k)
{
  if (keys->type == RV_OBJ || keys->type == RV_SET)
    return rv_find(keys, k) >= 0;
  for (uint32_t i = 0; i < keys->n; i++)
    if (rv_eq(keys->a[i], k))
      return true;
  return false;
}

static int filter_obj(struct ev *ev, const rv **args, const rv **out, bool keep)
{
  ARG_TYPE(0, RV_OBJ, "object");
  const rv *keys = args[1];
  if (keys->type != RV_ARR && keys->type != RV_SET && keys->type != RV_OBJ)
    return bi_fail(ev, BI_TYPE, "operand 2 must be an array, set or object");
  struct vec pairs = {0};
  for (uint32_t i = 0; i < args[0]->n; i++) {
    if (key_in(keys, args[0]->a[2 * i]) != keep)
      continue;
    vec_push(A(ev), &pairs, args[0]->a[2 * i]);
    vec_push(A(ev), &pairs, args[0]->a[2 * i + 1]);
  }
  *out = rv_obj(A(ev), pairs.items, pairs.n / 2);
  return BI_OK;
}

static int bi_object_filter(struct ev *ev, const rv **args, const rv **out)
{
  return filter_obj(ev, args, out, true);
}

static int bi_object_remove(struct ev *ev, const rv **args, const rv **out)
{
  return filter_obj(ev, args, out, false);
}

static int bi_array_concat(struct ev *ev, const rv **args, const rv **out)
{
  ARG_TYPE(0, RV_ARR, "array");
  ARG_TYPE(1, RV_ARR, "array");
  size_t n = args[0]->n + args[1]->n;
  const rv **items = arena_alloc(A(ev), (n + 1) * sizeof(*items));
  if (args[0]->n)
    memcpy(items, args[0]->a, args[0]->n * sizeof(*items));
  if (args[1]->n)
    memcpy(items + args[0]->n, args[1]->a, args[1]->n * sizeof(*items));
  *out = rv_arr(A(ev), items, n);
  return BI_OK;
}

static int bi_array_slice(struct ev *ev, const rv **args, const rv **out)
{
  ARG_TYPE(0, RV_ARR, "array");
  ARG_NUM(1);
  ARG_NUM(2);
  int64_t s, e;
  if (!rv_is_int(args[1], &s) || !rv_is_int(args[2], &e))
    return BI_UNDEF;
  int64_t n = args[0]->n;
  if (s < 0)
    s = 0;
  if (e > n)
    e = n;
  if (s >= e) {
    *out = &rv_empty_arr_v;
    return BI_OK;
  }
  *out = rv_arr_copy(A(ev), args[0]->a + s, (size_t)(e - s));
  return BI_OK;
}

static int bi_array_reverse(struct ev *ev, const rv **args, const rv **out)
{
  ARG_TYPE(0, RV_ARR, "array");
  size_t n = args[0]->n;
  const rv **items = arena_alloc(A(ev), (n + 1) * sizeof(*items));
  for (size_t i = 0; i < n; i++)
    items[i] = args[0]->a[n - 1 - i];
  *out = rv_arr(A(ev), items, n);
  return BI_OK;
}

static void flatten(struct ev *ev, const rv *a, struct vec *out, int depth)
{
  for (uint32_t i = 0; i < a->n; i++) {
    if (a->a[i]->type == RV_ARR && depth < 64)
      flatten(ev, a->a[i], out, depth + 1);
    else
      vec_push(A(ev), out, a->a[i]);
  }
}

static int bi_array_flatten(struct ev *ev, const rv **args, const rv **out)
{
  ARG_TYPE(0, RV_ARR, "array");
  struct vec items = {0};
  flatten(ev, args[0], &items, 0);
  *out = rv_arr(A(ev), items.items, items.n);
  return BI_OK;
}

static int bi_numbers_range(struct ev *ev, const rv **args, const rv **out)
{
  int64_t a, b;
  ARG_NUM(0);
  ARG_NUM(1);
  if (!rv_is_int(args[0], &a) || !rv_is_int(args[1], &b))
    return bi_fail(ev, BI_ERROR, "operands must be integers");
  int64_t n = (a <= b ? b - a : a - b) + 1;
  if (n > 1000000)
    return bi_fail(ev, BI_ERROR, "range too large (maximum 1000000 items)");
  const rv **items = arena_alloc(A(ev), (size_t)n * sizeof(*items));
  for (int64_t i = 0; i < n; i++)
    items[i] = rv_num(A(ev), (double)(a <= b ? a + i : a - i));
  *out = rv_arr(A(ev), items, (size_t)n);
  return BI_OK;
}

static int bi_sort(struct ev *ev, const rv **args, const rv **out)
{
  if (args[0]->type == RV_SET) {
    *out = rv_arr_copy(A(ev), args[0]->a, args[0]->n);
    return BI_OK;
  }
  ARG_TYPE(0, RV_ARR, "array");
  size_t n = args[0]->n;
  const rv **items = arena_alloc(A(ev), (n + 1) * sizeof(*items));
  if (n)
    memcpy(items, args[0]->a, n * sizeof(*items));
  /* insertion into a set would drop duplicates: sort by hand */
  for (size_t i = 1; i < n; i++) {
    const rv *x = items[i];
    size_t j = i;
    while (j > 0 && rv_cmp(items[j - 1], x) > 0) {
      items[j] = items[j - 1];
      j--;
    }
    items[j] = x;
  }
  *out = rv_arr(A(ev), items, n);
  return BI_OK;
}

static int minmax(struct ev *ev, const rv **args, const rv **out, int sign)
{
  if (!is_coll(args[0]))
    return bi_fail(ev, BI_TYPE, "operand 1 must be an array or set");
  if (args[0]->n == 0)
    return BI_UNDEF;
  const rv *best = args[0]->a[0];
  for (uint32_t i = 1; i < args[0]->n; i++)
    if (rv_cmp(args[0]->a[i], best) * sign > 0)
      best = args[0]->a[i];
  *out = best;
  return BI_OK;
}

static int bi_max(struct ev *ev, const rv **args, const rv **out)
{
  return minmax(ev, args, out, 1);
}

static int bi_min(struct ev *ev, const rv **args, const rv **out)
{
  return minmax(ev, args, out, -1);
}

static int fold(struct ev *ev, const rv **args, const rv **out, bool product)
{
  if (!is_coll(args[0]))
    return bi_fail(ev, BI_TYPE, "operand 1 must be an array or set");
  double r = product ? 1 : 0;
  for (uint32_t i = 0; i < args[0]->n; i++) {
    if (args[0]->a[i]->type != RV_NUM)
      return bi_fail(ev, BI_TYPE, "operand 1 must contain numbers");
    r = product ? r * args[0]->a[i]->num : r + args[0]->a[i]->num;
  }
  *out = rv_num(A(ev), r);
  return BI_OK;
}

static int bi_sum(struct ev *ev, const rv **args, const rv **out)
{
  return fold(ev, args, out, false);
}

static int bi_product(struct ev *ev, const rv **args, const rv **out)
{
  return fold(ev, args, out, true);
}

/* ---- types ---- */

#define IS_FN(fname, t)                                                        \
  static int fname(struct ev *ev, const rv **args, const rv **out)             \
  {                                                                            \
    *out = rv_bool(args[0]->type == (t));                                      \
    return BI_OK;                                                              \
  }

IS_FN(bi_is_string, RV_STR)
IS_FN(bi_is_array, RV_ARR)
IS_FN(bi_is_object, RV_OBJ)
IS_FN(bi_is_number, RV_NUM)
IS_FN(bi_is_boolean, RV_BOOL)
IS_FN(bi_is_null, RV_NULL)
IS_FN(bi_is_set, RV_SET)

static int bi_type_name(struct ev *ev, const rv **args, const rv **out)
{
  *out = rv_cstr(A(ev), rv_typename(args[0]));
  return BI_OK;
}

/* ---- numbers ---- */

static int bi_to_number(struct ev *ev, const rv **args, const rv **out)
{
  const rv *v = args[0];
  switch (v->type) {
  case RV_NULL:
    *out = rv_num(A(ev), 0);
    return BI_OK;
  case RV_BOOL:
    *out = rv_num(A(ev), v->b);
    return BI_OK;
  case RV_NUM:
    *out = v;
    return BI_OK;
  case RV_STR: {
    char *end;
    if (v->n == 0)
      return bi_fail(ev, BI_ERROR, "invalid number: empty string");
    double d = strtod(v->s, &end);
    if (*end || !isfinite(d) || v->s[0] == ' ' || v->s[0] == '+')
      return bi_fail(ev, BI_ERROR, "invalid number: \"%s\"", v->s);
    *out = rv_num(A(ev), d);
    return BI_OK;
  }
  default:
    return bi_fail(ev, BI_TYPE,
                   "operand 1 must be a string, number, "
                   "boolean or null");
  }
}

static int bi_format_int(struct ev *ev, const rv **args, const rv **out)
{
  ARG_NUM(0);
  ARG_NUM(1);
  int64_t base;
  if (!rv_is_int(args[1], &base) ||
      (base != 2 && base != 8 && base != 10 && base != 16))
    return bi_fail(ev, BI_ERROR, "base must be one of 2, 8, 10, 16");
  double d = trunc(args[0]->num);
  if (fabs(d) > 9.0e15)
    return bi_fail(ev, BI_ERROR, "number too large");
  int64_t n = (int64_t)d;
  char buf[80];
  int i = sizeof(buf) - 1;
  buf[i] = 0;
  bool neg = n < 0;
  uint64_t u = neg ? (uint64_t)(-n) : (uint64_t)n;
  do {
    buf[--i] = "0123456789abcdef"[u % (uint64_t)base];
    u /= (uint64_t)base;
  } while (u);
  if (neg)
    buf[--i] = '-';
  *out = rv_cstr(A(ev), buf + i);
  return BI_OK;
}

static int bi_abs(struct ev *ev, const rv **args, const rv **out)
{
  ARG_NUM(0);
  *out = rv_num(A(ev), fabs(args[0]->num));
  return BI_OK;
}

static int bi_round(struct ev *ev, const rv **args, const rv **out)
{
  ARG_NUM(0);
  *out = rv_num(A(ev), round(args[0]->num));
  return BI_OK;
}

static int bi_floor(struct ev *ev, const rv **args, const rv **out)
{
  ARG_NUM(0);
  *out = rv_num(A(ev), floor(args[0]->num));
  return BI_OK;
}

static int bi_ceil(struct ev *ev, const rv **args, const rv **out)
{
  ARG_NUM(0);
  *out = rv_num(A(ev), ceil(args[0]->num));
  return BI_OK;
}

/* ---- encoding ---- */

static int bi_json_marshal(struct ev *ev, const rv **args, const rv **out)
{
  struct strbuf sb;
  sb_init(&sb, A(ev));
  rv_to_json_text(&sb, args[0]);
  *out = rv_str(A(ev), sb.buf, sb.len);
  return BI_OK;
}

static int bi_json_unmarshal(struct ev *ev, const rv **args, const rv **out)
{
  ARG_STR(0);
  json_error_t jerr;
  json_t *j = json_loadb(args[0]->s, args[0]->n,
                         JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
  if (!j)
    return bi_fail(ev, BI_ERROR, "invalid JSON: %s", jerr.text);
  size_t budget = (size_t)args[0]->n * 16 + 1024;
  const rv *v = rv_from_json(A(ev), j, &budget, 1000);
  json_decref(j);
  if (!v)
    return bi_fail(ev, BI_ERROR, "JSON document too deep");
  *out = v;
  return BI_OK;
}

static int bi_json_is_valid(struct ev *ev, const rv **args, const rv **out)
{
  if (args[0]->type != RV_STR) {
    *out = RV_FALSE;
    return BI_OK;
  }
  json_error_t jerr;
  json_t *j = json_loadb(args[0]->s, args[0]->n, JSON_DECODE_ANY, &jerr);
  *out = rv_bool(j != NULL);
  json_decref(j);
  return BI_OK;
}

/* ---- other ---- */

static int bi_print(struct ev *ev, const rv **args, const rv **out)
{
  /* print takes any number of operands; the evaluator passes them as one
   * array. */
  struct strbuf sb;
  sb_init(&sb, A(ev));
  const rv *list = args[0];
  for (uint32_t i = 0; i < list->n; i++) {
    if (i)
      sb_addc(&sb, ' ');
    rv_to_text(&sb, list->a[i], true);
  }
  if (ev->print)
    ev->print(ev->print_ctx, sb.buf);
  *out = RV_TRUE;
  return BI_OK;
}

static int bi_union(struct ev *ev, const rv **args, const rv **out)
{
  ARG_TYPE(0, RV_SET, "set");
  struct vec items = {0};
  for (uint32_t i = 0; i < args[0]->n; i++) {
    const rv *s = args[0]->a[i];
    if (s->type != RV_SET)
      return bi_fail(ev, BI_TYPE, "operand 1 must contain sets");
    for (uint32_t j = 0; j < s->n; j++)
      vec_push(A(ev), &items, s->a[j]);
  }
  *out = rv_set(A(ev), items.items, items.n);
  return BI_OK;
}

/* Sorted by name for rego_builtin_find. */
const struct builtin rego_builtins[] = {
    {"abs", 1, bi_abs},
    {"array.concat", 2, bi_array_concat},
    {"array.flatten", 1, bi_array_flatten},
    {"array.reverse", 1, bi_array_reverse},
    {"array.slice", 3, bi_array_slice},
    {"ceil", 1, bi_ceil},
    {"concat", 2, bi_concat},
    {"contains", 2, bi_contains},
    {"count", 1, bi_count},
    {"div", 2, bi_div},
    {"endswith", 2, bi_endswith},
    {"equal", 2, bi_equal},
    {"floor", 1, bi_floor},
    {"format_int", 2, bi_format_int},
    {"glob.match", 3, bi_glob_match},
    {"gt", 2, bi_gt},
    {"gte", 2, bi_gte},
    {"indexof", 2, bi_indexof},
    {"is_array", 1, bi_is_array},
    {"is_boolean", 1, bi_is_boolean},
    {"is_null", 1, bi_is_null},
    {"is_number", 1, bi_is_number},
    {"is_object", 1, bi_is_object},
    {"is_set", 1, bi_is_set},
    {"is_string", 1, bi_is_string},
    {"json.is_valid", 1, bi_json_is_valid},
    {"json.marshal", 1, bi_json_marshal},
    {"json.unmarshal", 1, bi_json_unmarshal},
    {"lower", 1, bi_lower},
    {"lt", 2, bi_lt},
    {"lte", 2, bi_lte},
    {"max", 1, bi_max},
    {"min", 1, bi_min},
    {"minus", 2, bi_minus},
    {"mul", 2, bi_mul},
    {"neq", 2, bi_neq},
    {"numbers.range", 2, bi_numbers_range},
    {"object.filter", 2, bi_object_filter},
    {"object.get", 3, bi_object_get},
    {"object.keys", 1, bi_object_keys},
    {"object.remove", 2, bi_object_remove},
    {"plus", 2, bi_plus},
    {"print", -1, bi_print},
    {"product", 1, bi_product},
    {"regex.match", 2, bi_regex_match},
    {"rem", 2, bi_rem},
    {"replace", 3, bi_replace},
    {"round", 1, bi_round},
    {"sort", 1, bi_sort},
    {"split", 2, bi_split},
    {"sprintf", 2, bi_sprintf},
    {"startswith", 2, bi_startswith},
    {"strings.any_prefix_match", 2, bi_any_prefix},
    {"strings.any_suffix_match", 2, bi_any_suffix},
    {"strings.count", 2, bi_strings_count},
    {"strings.split_n", 3, bi_split_n},
    {"substring", 3, bi_substring},
    {"sum", 1, bi_sum},
    {"to_number", 1, bi_to_number},
    {"trim", 2, bi_trim},
    {"trim_left", 2, bi_trim_left},
    {"trim_prefix", 2, bi_trim_prefix},
    {"trim_right", 2, bi_trim_right},
    {"trim_space", 1, bi_trim_space},
    {"trim_suffix", 2, bi_trim_suffix},
    {"type_name", 1, bi_type_name},
    {"union", 1, bi_union},
    {"upper", 1, bi_upper},
};

const int rego_nbuiltins = sizeof(rego_builtins) / sizeof(rego_builtins[0]);

int rego_builtin_find(const char *name)
{
  int lo = 0, hi = rego_nbuiltins;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    int c = strcmp(rego_builtins[mid].name, name);
    if (c == 0)
      return mid;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return -1;
}
