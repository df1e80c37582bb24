/* Arena allocator and Rego values: construction, ordering, text and JSON. */
#include "value.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arena_chunk {
  struct arena_chunk *next;
  size_t size, used;
  max_align_t data[];
};

#define CHUNK_MIN 8192

void arena_init(struct arena *ar)
{
  ar->head = NULL;
  ar->used_total = 0;
}

void arena_free(struct arena *ar)
{
  struct arena_chunk *c = ar->head;
  while (c) {
    struct arena_chunk *next = c->next;
    free(c);
    c = next;
  }
  ar->head = NULL;
  ar->used_total = 0;
}

void arena_reset(struct arena *ar)
{
  struct arena_chunk *c = ar->head;
  if (!c)
    return;
  while (c->next) {
    struct arena_chunk *next = c->next;
    c->next = next->next;
    free(next);
  }
  c->used = 0;
  ar->used_total = 0;
}

void *arena_alloc(struct arena *ar, size_t size)
{
  size = (size + 15) & ~(size_t)15;
  struct arena_chunk *c = ar->head;
  ar->used_total += size;
  if (c && c->size - c->used >= size) {
    void *p = (char *)c->data + c->used;
    c->used += size;
    return p;
  }

  /* A large request gets a chunk of its own behind the current one, so the
   * free space of the current chunk stays usable. */
  bool large = size > CHUNK_MIN / 4;
  size_t csize = large ? size : CHUNK_MIN;
  if (!large && c && c->size < (1u << 20))
    csize = c->size * 2;
  struct arena_chunk *nc = malloc(sizeof(*nc) + csize);
  /* NOTE: running out of memory aborts; the evaluation limits keep the
   * arenas of one request small. */
  if (!nc)
    abort();
  nc->size = csize;
  nc->used = size;
  if (large && c) {
    nc->next = c->next;
    c->next = nc;
  } else {
    nc->next = c;
    ar->head = nc;
  }
  return (char *)nc->data;
}

void *arena_calloc(struct arena *ar, size_t n, size_t size)
{
  if (size && n > SIZE_MAX / size)
    abort();
  void *p = arena_alloc(ar, n * size);
  memset(p, 0, n * size);
  return p;
}

char *arena_strndup(struct arena *ar, const char *s, size_t n)
{
  char *p = arena_alloc(ar, n + 1);
  memcpy(p, s, n);
  p[n] = 0;
  return p;
}

char *arena_sprintf(struct arena *ar, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0)
    n = 0;
  char *p = arena_alloc(ar, (size_t)n + 1);
  va_start(ap, fmt);
  vsnprintf(p, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return p;
}

const rv rv_null_v = {.type = RV_NULL};
const rv rv_true_v = {.type = RV_BOOL, .b = 1};
const rv rv_false_v = {.type = RV_BOOL, .b = 0};
const rv rv_empty_arr_v = {.type = RV_ARR};
const rv rv_empty_set_v = {.type = RV_SET};
const rv rv_empty_obj_v = {.type = RV_OBJ};

const rv *rv_bool(bool b)
{
  return b ? RV_TRUE : RV_FALSE;
}

const rv *rv_num(struct arena *ar, double d)
{
  rv *v = arena_alloc(ar, sizeof(*v));
  memset(v, 0, sizeof(*v));
  v->type = RV_NUM;
  v->num = d;
  return v;
}

const rv *rv_str(struct arena *ar, const char *s, size_t n)
{
  rv *v = arena_alloc(ar, sizeof(*v));
  memset(v, 0, sizeof(*v));
  v->type = RV_STR;
  v->n = (uint32_t)n;
  v->s = arena_strndup(ar, s, n);
  return v;
}

const rv *rv_cstr(struct arena *ar, const char *s)
{
  return rv_str(ar, s, strlen(s));
}

const rv *rv_arr(struct arena *ar, const rv **items, size_t n)
{
  if (n == 0)
    return &rv_empty_arr_v;
  rv *v = arena_alloc(ar, sizeof(*v));
  memset(v, 0, sizeof(*v));
  v->type = RV_ARR;
  v->n = (uint32_t)n;
  v->a = items;
  return v;
}

const rv *rv_arr_copy(struct arena *ar, const rv *const *items, size_t n)
{
  if (n == 0)
    return &rv_empty_arr_v;
  const rv **copy = arena_alloc(ar, n * sizeof(*copy));
  memcpy(copy, items, n * sizeof(*copy));
  return rv_arr(ar, copy, n);
}

static int cmp_ptr(const void *a, const void *b)
{
  return rv_cmp(*(const rv *const *)a, *(const rv *const *)b);
}

const rv *rv_set(struct arena *ar, const rv **items, size_t n)
{
  if (n == 0)
    return &rv_empty_set_v;
  qsort(items, n, sizeof(*items), cmp_ptr);
  size_t m = 1;
  for (size_t i = 1; i < n; i++)
    if (rv_cmp(items[m - 1], items[i]) != 0)
      items[m++] = items[i];
  rv *v = arena_alloc(ar, sizeof(*v));
  memset(v, 0, sizeof(*v));
  v->type = RV_SET;
  v->n = (uint32_t)m;
  v->a = items;
  return v;
}

struct kvpair {
  const rv *k, *v;
};

static int cmp_pair(const void *a, const void *b)
{
  return rv_cmp(((const struct kvpair *)a)->k, ((const struct kvpair *)b)->k);
}

const rv *rv_obj(struct arena *ar, const rv **pairs, size_t n)
{
  if (n == 0)
    return &rv_empty_obj_v;
  struct kvpair *kv = (struct kvpair *)pairs;
  qsort(kv, n, sizeof(*kv), cmp_pair);
  size_t m = 1;
  for (size_t i = 1; i < n; i++) {
    if (rv_cmp(kv[m - 1].k, kv[i].k) == 0) {
      if (!rv_eq(kv[m - 1].v, kv[i].v))
        return NULL;
      continue;
    }
    kv[m++] = kv[i];
  }
  rv *v = arena_alloc(ar, sizeof(*v));
  memset(v, 0, sizeof(*v));
  v->type = RV_OBJ;
  v->n = (uint32_t)m;
  v->a = pairs;
  return v;
}

static int cmp_num(const rv *a, const rv *b)
{
  if (a->s || b->s) {
    /* A literal with more digits than a double keeps equals only the same
     * literal; otherwise order by the double. */
    if (a->s && b->s && strcmp(a->s, b->s) == 0)
      return 0;
    if (a->num < b->num)
      return -1;
    if (a->num > b->num)
      return 1;
    return a->s ? 1 : -1;
  }
  if (a->num < b->num)
    return -1;
  if (a->num > b->num)
    return 1;
  return 0;
}

int rv_cmp(const rv *a, const rv *b)
{
  if (a == b)
    return 0;
  if (a->type != b->type)
    return a->type < b->type ? -1 : 1;
  switch (a->type) {
  case RV_NULL:
    return 0;
  case RV_BOOL:
    return (int)a->b - (int)b->b;
  case RV_NUM:
    return cmp_num(a, b);
  case RV_STR: {
    size_t n = a->n < b->n ? a->n : b->n;
    int c = memcmp(a->s, b->s, n);
    if (c)
      return c < 0 ? -1 : 1;
    return a->n == b->n ? 0 : (a->n < b->n ? -1 : 1);
  }
  case RV_ARR:
  case RV_SET: {
    size_t n = a->n < b->n ? a->n : b->n;
    for (size_t i = 0; i < n; i++) {
      int c = rv_cmp(a->a[i], b->a[i]);
      if (c)
        return c;
    }
    return a->n == b->n ? 0 : (a->n < b->n ? -1 : 1);
  }
  case RV_OBJ: {
    size_t n = a->n < b->n ? a->n : b->n;
    for (size_t i = 0; i < n; i++) {
      int c = rv_cmp(a->a[2 * i], b->a[2 * i]);
      if (c)
        return c;
      c = rv_cmp(a->a[2 * i + 1], b->a[2 * i + 1]);
      if (c)
        return c;
    }
    return a->n == b->n ? 0 : (a->n < b->n ? -1 : 1);
  }
  }
  return 0;
}

bool rv_eq(const rv *a, const rv *b)
{
  return rv_cmp(a, b) == 0;
}

bool rv_truthy_false(const rv *v)
{
  return v->type == RV_BOOL && !v->b;
}

long rv_find(const rv *coll, const rv *key)
{
  size_t lo = 0, hi = coll->n;
  size_t stride = coll->type == RV_OBJ ? 2 : 1;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = rv_cmp(coll->a[mid * stride], key);
    if (c == 0)
      return (long)mid;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return -1;
}

const rv *rv_obj_get(const rv *obj, const rv *key)
{
  long i = rv_find(obj, key);
  return i < 0 ? NULL : obj->a[2 * i + 1];
}

const rv *rv_obj_get_str(const rv *obj, const char *key)
{
  rv k = {.type = RV_STR, .n = (uint32_t)strlen(key), .s = key};
  return rv_obj_get(obj, &k);
}

bool rv_is_int(const rv *v, int64_t *out)
{
  if (v->type != RV_NUM || v->num != floor(v->num) || fabs(v->num) > 9.0e15)
    return false;
  if (out)
    *out = (int64_t)v->num;
  return true;
}

const char *rv_typename(const rv *v)
{
  static const char *const names[] = {"null",  "boolean", "number", "string",
                                      "array", "set",     "object"};
  return names[v->type];
}

void vec_push(struct arena *ar, struct vec *v, const rv *x)
{
  if (v->n == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 8;
    const rv **items = arena_alloc(ar, cap * sizeof(*items));
    if (v->n)
      memcpy(items, v->items, v->n * sizeof(*items));
    v->items = items;
    v->cap = cap;
  }
  v->items[v->n++] = x;
}

void sb_init(struct strbuf *sb, struct arena *ar)
{
  sb->ar = ar;
  sb->cap = 64;
  sb->len = 0;
  sb->buf = arena_alloc(ar, sb->cap);
  sb->buf[0] = 0;
}

void sb_add(struct strbuf *sb, const char *s, size_t n)
{
  if (sb->len + n + 1 > sb->cap) {
    size_t cap = sb->cap * 2;
    while (cap < sb->len + n + 1)
      cap *= 2;
    char *nb = arena_alloc(sb->ar, cap);
    memcpy(nb, sb->buf, sb->len);
    sb->buf = nb;
    sb->cap = cap;
  }
  memcpy(sb->buf + sb->len, s, n);
  sb->len += n;
  sb->buf[sb->len] = 0;
}

void sb_adds(struct strbuf *sb, const char *s)
{
  sb_add(sb, s, strlen(s));
}

void sb_addc(struct strbuf *sb, char c)
{
  sb_add(sb, &c, 1);
}

/* Shortest text that reads back as the same double; integers without a
 * fraction. */
void sb_num(struct strbuf *sb, double d)
{
  char buf[40];
  if (d == floor(d) && fabs(d) < 1e18) {
    snprintf(buf, sizeof(buf), "%.0f", d);
    if (strcmp(buf, "-0") == 0)
      strcpy(buf, "0");
  } else if (!isfinite(d)) {
    snprintf(buf, sizeof(buf), "null");
  } else {
    for (int prec = 1; prec <= 17; prec++) {
      snprintf(buf, sizeof(buf), "%.*g", prec, d);
      if (strtod(buf, NULL) == d)
        break;
    }
  }
  sb_adds(sb, buf);
}

static void quote_string(struct strbuf *sb, const char *s, size_t n)
{
  sb_addc(sb, '"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    char esc[8];
    switch (c) {
    case '"':
      sb_adds(sb, "\\\"");
      break;
    case '\\':
      sb_adds(sb, "\\\\");
      break;
    case '\n':
      sb_adds(sb, "\\n");
      break;
    case '\t':
      sb_adds(sb, "\\t");
      break;
    case '\r':
      sb_adds(sb, "\\r");
      break;
    default:
      if (c < 0x20) {
        snprintf(esc, sizeof(esc), "\\u%04x", c);
        sb_adds(sb, esc);
      } else {
        sb_addc(sb, (char)c);
      }
    }
  }
  sb_addc(sb, '"');
}

static void to_text(struct strbuf *sb, const rv *v, bool bare, bool json)
{
  switch (v->type) {
  case RV_NULL:
    sb_adds(sb, "null");
    break;
  case RV_BOOL:
    sb_adds(sb, v->b ? "true" : "false");
    break;
  case RV_NUM:
    if (v->s)
      sb_adds(sb, v->s);
    else
      sb_num(sb, v->num);
    break;
  case RV_STR:
    if (bare)
      sb_add(sb, v->s, v->n);
    else
      quote_string(sb, v->s, v->n);
    break;
  case RV_ARR:
  case RV_SET:
    if (v->type == RV_SET && v->n == 0 && !json) {
      sb_adds(sb, "set()");
      break;
    }
    sb_addc(sb, v->type == RV_ARR || json ? '[' : '{');
    for (uint32_t i = 0; i < v->n; i++) {
      if (i)
        sb_adds(sb, json ? "," : ", ");
      to_text(sb, v->a[i], false, json);
    }
    sb_addc(sb, v->type == RV_ARR || json ? ']' : '}');
    break;
  case RV_OBJ:
    sb_addc(sb, '{');
    for (uint32_t i = 0; i < v->n; i++) {
      if (i)
        sb_adds(sb, json ? "," : ", ");
      const rv *k = v->a[2 * i];
      if (json && k->type != RV_STR) {
        struct strbuf kb;
        sb_init(&kb, sb->ar);
        to_text(&kb, k, false, true);
        quote_string(sb, kb.buf, kb.len);
      } else {
        to_text(sb, k, false, json);
      }
      sb_adds(sb, json ? ":" : ": ");
      to_text(sb, v->a[2 * i + 1], false, json);
    }
    sb_addc(sb, '}');
    break;
  }
}

void rv_to_text(struct strbuf *sb, const rv *v, bool bare)
{
  to_text(sb, v, bare, false);
}

void rv_to_json_text(struct strbuf *sb, const rv *v)
{
  to_text(sb, v, false, true);
}

const rv *rv_from_json(struct arena *ar, json_t *j, size_t *budget,
                       int max_depth)
{
  if (max_depth <= 0 || *budget < 16)
    return NULL;
  *budget -= 16;
  switch (json_typeof(j)) {
  case JSON_NULL:
    return RV_NULLV;
  case JSON_TRUE:
    return RV_TRUE;
  case JSON_FALSE:
    return RV_FALSE;
  case JSON_INTEGER:
    return rv_num(ar, (double)json_integer_value(j));
  case JSON_REAL:
    return rv_num(ar, json_real_value(j));
  case JSON_STRING: {
    size_t n = json_string_length(j);
    if (*budget < n)
      return NULL;
    *budget -= n;
    return rv_str(ar, json_string_value(j), n);
  }
  case JSON_ARRAY: {
    size_t n = json_array_size(j);
    if (n == 0)
      return &rv_empty_arr_v;
    const rv **items = arena_alloc(ar, n * sizeof(*items));
    for (size_t i = 0; i < n; i++) {
      items[i] = rv_from_json(ar, json_array_get(j, i), budget, max_depth - 1);
      if (!items[i])
        return NULL;
    }
    return rv_arr(ar, items, n);
  }
  case JSON_OBJECT: {
    size_t n = json_object_size(j), i = 0;
    if (n == 0)
      return &rv_empty_obj_v;
    const rv **pairs = arena_alloc(ar, 2 * n * sizeof(*pairs));
    const char *key;
    json_t *val;
    json_object_foreach(j, key, val)
    {
      size_t klen = strlen(key);
      if (*budget < klen)
        return NULL;
      *budget -= klen;
      pairs[2 * i] = rv_str(ar, key, klen);
      pairs[2 * i + 1] = rv_from_json(ar, val, budget, max_depth - 1);
      if (!pairs[2 * i + 1])
        return NULL;
      i++;
    }
    return rv_obj(ar, pairs, n);
  }
  }
  return NULL;
}

json_t *rv_to_json(const rv *v)
{
  switch (v->type) {
  case RV_NULL:
    return json_null();
  case RV_BOOL:
    return json_boolean(v->b);
  case RV_NUM:
    if (v->num == floor(v->num) && fabs(v->num) < 9.0e15)
      return json_integer((json_int_t)v->num);
    return json_real(v->num);
  case RV_STR:
    return json_stringn(v->s, v->n);
  case RV_ARR:
  case RV_SET: {
    json_t *a = json_array();
    for (uint32_t i = 0; i < v->n; i++)
      json_array_append_new(a, rv_to_json(v->a[i]));
    return a;
  }
  case RV_OBJ: {
    json_t *o = json_object();
    for (uint32_t i = 0; i < v->n; i++) {
      const rv *k = v->a[2 * i];
      json_t *val = rv_to_json(v->a[2 * i + 1]);
      if (k->type == RV_STR) {
        json_object_setn_new(o, k->s, k->n, val);
      } else {
        /* JSON keys are strings: other keys are written as JSON text. */
        struct arena tmp;
        arena_init(&tmp);
        struct strbuf sb;
        sb_init(&sb, &tmp);
        rv_to_json_text(&sb, k);
        json_object_setn_new(o, sb.buf, sb.len, val);
        arena_free(&tmp);
      }
    }
    return o;
  }
  }
  return json_null();
}
