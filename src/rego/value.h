/* Rego values: immutable, allocated in arenas, JSON plus sets and objects
 * with keys of any type. */
#ifndef REGO_VALUE_H
#define REGO_VALUE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A bump allocator.  Everything allocated from an arena is freed at once by
 * arena_free(); values never point into a shorter-lived arena. */
struct arena_chunk;
struct arena {
  struct arena_chunk *head;
  size_t used_total;
};

void arena_init(struct arena *ar);
void arena_free(struct arena *ar);
/* Frees all chunks but the first, keeping it for reuse. */
void arena_reset(struct arena *ar);
void *arena_alloc(struct arena *ar, size_t size);
void *arena_calloc(struct arena *ar, size_t n, size_t size);
char *arena_strndup(struct arena *ar, const char *s, size_t n);
char *arena_sprintf(struct arena *ar, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Order of the types is the Rego sort order between types. */
enum rv_type {
  RV_NULL,
  RV_BOOL,
  RV_NUM,
  RV_STR,
  RV_ARR,
  RV_SET,
  RV_OBJ,
};

/* For RV_STR, n is the length in bytes and s is NUL-terminated.  For RV_ARR
 * and RV_SET, a holds n items; set items are sorted and unique.  For RV_OBJ,
 * a holds n key/value pairs (a[2i], a[2i+1]) sorted by key.  For RV_NUM, s
 * is the literal text when the literal has more digits than a double keeps,
 * so that such literals compare by their text. */
typedef struct rv {
  uint8_t type;
  uint8_t b;
  uint32_t n;
  double num;
  union {
    const char *s;
    const struct rv **a;
  };
} rv;

extern const rv rv_null_v, rv_true_v, rv_false_v, rv_empty_arr_v,
    rv_empty_set_v, rv_empty_obj_v;
#define RV_NULLV (&rv_null_v)
#define RV_TRUE (&rv_true_v)
#define RV_FALSE (&rv_false_v)

const rv *rv_bool(bool b);
const rv *rv_num(struct arena *ar, double d);
const rv *rv_str(struct arena *ar, const char *s, size_t n);
const rv *rv_cstr(struct arena *ar, const char *s);
/* Takes ownership of items, which must come from the same arena. */
const rv *rv_arr(struct arena *ar, const rv **items, size_t n);
const rv *rv_arr_copy(struct arena *ar, const rv *const *items, size_t n);
/* Sorts and deduplicates items in place. */
const rv *rv_set(struct arena *ar, const rv **items, size_t n);
/* Sorts pairs (2n pointers) by key.  Returns NULL when a key repeats with
 * another value; equal repeats are merged. */
const rv *rv_obj(struct arena *ar, const rv **pairs, size_t n);

int rv_cmp(const rv *a, const rv *b);
bool rv_eq(const rv *a, const rv *b);
bool rv_truthy_false(const rv *v);
/* Index of key in object or set, -1 when absent. */
long rv_find(const rv *coll, const rv *key);
const rv *rv_obj_get(const rv *obj, const rv *key);
const rv *rv_obj_get_str(const rv *obj, const char *key);
/* Number helpers. */
bool rv_is_int(const rv *v, int64_t *out);
const char *rv_typename(const rv *v);

/* Growable pointer vector. */
struct vec {
  const rv **items;
  size_t n, cap;
};
void vec_push(struct arena *ar, struct vec *v, const rv *x);

/* Text forms.  rv_to_text writes Rego syntax (sets as {..}); strings are
 * quoted unless bare is set at the top level. */
struct strbuf {
  char *buf;
  size_t len, cap;
  struct arena *ar;
};
void sb_init(struct strbuf *sb, struct arena *ar);
void sb_add(struct strbuf *sb, const char *s, size_t n);
void sb_adds(struct strbuf *sb, const char *s);
void sb_addc(struct strbuf *sb, char c);
void sb_num(struct strbuf *sb, double d);
void rv_to_text(struct strbuf *sb, const rv *v, bool bare);
/* JSON text, for json.marshal and error messages. */
void rv_to_json_text(struct strbuf *sb, const rv *v);

/* Conversion to and from jansson.  from_json counts nodes and string bytes
 * into *budget and fails (NULL) when the budget runs out or nesting is
 * deeper than max_depth. */
const rv *rv_from_json(struct arena *ar, json_t *j, size_t *budget,
                       int max_depth);
json_t *rv_to_json(const rv *v);

#endif
