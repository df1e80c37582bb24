/* Runs Rego evaluation cases from JSON files.
 *
 * Usage: rego-cases [FILE.json | DIR]...
 * Without arguments the cases come from the folder named by
 * REGO_CASES_DIR.  Each failure prints one line naming the case; the last
 * line is "N passed, N failed".  Exits 1 when a case fails. */
#define _GNU_SOURCE
#include "engine.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int passed, failed;

/* Converts an expected value: {"set!": [...]} is a set and
 * {"object!": [{"key": k, "value": v}...]} an object with any keys. */
static const rv *expected_value(struct arena *ar, json_t *j)
{
  if (json_is_object(j) && json_object_size(j) == 1) {
    json_t *items = json_object_get(j, "set!");
    if (json_is_array(items)) {
      size_t n = json_array_size(items);
      const rv **vals = arena_alloc(ar, (n + 1) * sizeof(*vals));
      for (size_t i = 0; i < n; i++)
        vals[i] = expected_value(ar, json_array_get(items, i));
      return rv_set(ar, vals, n);
    }
    items = json_object_get(j, "object!");
    if (json_is_array(items)) {
      size_t n = json_array_size(items);
      const rv **pairs = arena_alloc(ar, (2 * n + 1) * sizeof(*pairs));
      for (size_t i = 0; i < n; i++) {
        json_t *kv = json_array_get(items, i);
        pairs[2 * i] = expected_value(ar, json_object_get(kv, "key"));
        pairs[2 * i + 1] = expected_value(ar, json_object_get(kv, "value"));
      }
      return rv_obj(ar, pairs, n);
    }
  }
  if (json_is_array(j)) {
    size_t n = json_array_size(j);
    const rv **vals = arena_alloc(ar, (n + 1) * sizeof(*vals));
    for (size_t i = 0; i < n; i++)
      vals[i] = expected_value(ar, json_array_get(j, i));
    return rv_arr(ar, vals, n);
  }
  if (json_is_object(j)) {
    size_t n = json_object_size(j), i = 0;
    const rv **pairs = arena_alloc(ar, (2 * n + 1) * sizeof(*pairs));
    const char *key;
    json_t *val;
    json_object_foreach(j, key, val)
    {
      pairs[2 * i] = rv_cstr(ar, key);
      pairs[2 * i + 1] = expected_value(ar, val);
      i++;
    }
    return rv_obj(ar, pairs, n);
  }
  size_t budget = SIZE_MAX;
  return rv_from_json(ar, j, &budget, 1000);
}

static int cmp_ptr(const void *a, const void *b)
{
  return rv_cmp(*(const rv *const *)a, *(const rv *const *)b);
}

static const rv *sorted_array(struct arena *ar, const rv *v)
{
  if (v->type != RV_ARR)
    return v;
  const rv **items = arena_alloc(ar, (v->n + 1) * sizeof(*items));
  for (uint32_t i = 0; i < v->n; i++)
    items[i] = v->a[i];
  qsort(items, v->n, sizeof(*items), cmp_ptr);
  return rv_arr(ar, items, v->n);
}

static const char *text_of(struct arena *ar, const rv *v)
{
  if (!v)
    return "undefined";
  struct strbuf sb;
  sb_init(&sb, ar);
  rv_to_text(&sb, v, false);
  if (sb.len > 300)
    sb.buf[300] = 0;
  return sb.buf;
}

static void fail_case(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void fail_case(const char *name, const char *fmt, ...)
{
  va_list ap;
  printf("FAIL %s: ", name);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  failed++;
}

/* Evaluates the query for one input; returns the result (NULL when
 * undefined) or sets *error. */
static const rv *eval_one(struct rego_engine *e, const char *query,
                          struct arena *ar, json_t *input, int *rc,
                          struct rego_error *err)
{
  const rv *out = NULL;
  if (input) {
    *rc = rego_engine_set_input(e, input, err);
    if (*rc < 0)
      return NULL;
  }
  *rc = rego_engine_eval_value(e, query, ar, &out, err);
  return *rc == 1 ? out : NULL;
}

/* Adds a module from a file named relative to the top of the source
 * tree (our own cases use the shipped policies this way). */
static int add_module_file(struct rego_engine *e, const char *rel,
                           struct rego_error *err)
{
  char path[4096];
#ifdef REGO_SRCDIR
  const char *top = getenv("CLADDING_SRCDIR");
  snprintf(path, sizeof(path), "%s/%s", top && *top ? top : REGO_SRCDIR, rel);
#else
  snprintf(path, sizeof(path), "%s", rel);
#endif
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err->message, sizeof(err->message), "cannot open %.400s: %s", path,
             strerror(errno));
    err->code = -errno;
    return -1;
  }
  char *text = NULL;
  size_t len = 0;
  char buf[4096];
  size_t got;
  while ((got = fread(buf, 1, sizeof(buf), f)) > 0) {
    text = realloc(text, len + got);
    if (!text)
      abort();
    memcpy(text + len, buf, got);
    len += got;
  }
  fclose(f);
  int rc = rego_engine_add_module(e, rel, text ? text : "", len, err);
  free(text);
  return rc;
}

static void run_case(json_t *c, const char *file)
{
  const char *note = json_string_value(json_object_get(c, "note"));
  const char *source = json_string_value(json_object_get(c, "source"));
  char name[512];
  snprintf(name, sizeof(name), "%s/%s", source ? source : file,
           note ? note : "?");
  struct arena ar;
  arena_init(&ar);
  struct rego_error err = {0};
  const char *version = json_string_value(json_object_get(c, "rego_version"));
  struct rego_engine *e = rego_engine_new(
      version && strcmp(version, "v1") == 0 ? REGO_V1 : REGO_V0);
  json_t *strict = json_object_get(c, "strict");
  rego_engine_set_strict(e, strict ? json_is_true(strict) : 1);

  bool want_error = json_is_true(json_object_get(c, "error"));
  bool no_result = json_is_true(json_object_get(c, "no_result"));
  bool sort = json_is_true(json_object_get(c, "sort_bindings"));
  json_t *want = json_object_get(c, "want_result");
  const char *query = json_string_value(json_object_get(c, "query"));
  int rc = 0;

  json_t *mods = json_object_get(c, "modules");
  for (size_t i = 0; rc == 0 && i < json_array_size(mods); i++) {
    const char *text = json_string_value(json_array_get(mods, i));
    char fname[64];
    snprintf(fname, sizeof(fname), "module%zu.rego", i);
    rc = rego_engine_add_module(e, fname, text, strlen(text), &err);
  }
  json_t *files = json_object_get(c, "module_files");
  for (size_t i = 0; rc == 0 && i < json_array_size(files); i++)
    rc = add_module_file(e, json_string_value(json_array_get(files, i)), &err);
  if (rc == 0)
    rc = rego_engine_set_data(e, json_object_get(c, "data"), &err);

  json_t *input = json_object_get(c, "input");
  json_t *many = input ? json_object_get(input, "many!") : NULL;
  const rv *result = NULL;
  if (rc == 0 && many) {
    json_t *wants = want ? json_object_get(want, "many!") : NULL;
    for (size_t i = 0; rc >= 0 && i < json_array_size(many); i++) {
      const rv *r = eval_one(e, query, &ar, json_array_get(many, i), &rc, &err);
      if (rc < 0)
        break;
      const rv *w =
          wants ? expected_value(&ar, json_array_get(wants, i)) : NULL;
      if (!want_error && (!r || !w || !rv_eq(r, w))) {
        fail_case(name, "got %s, want %s", text_of(&ar, r), text_of(&ar, w));
        goto out;
      }
    }
    if (rc >= 0 && !want_error) {
      passed++;
      goto out;
    }
  } else if (rc == 0) {
    result = eval_one(e, query, &ar, input, &rc, &err);
  }

  if (want_error) {
    if (rc < 0)
      passed++;
    else
      fail_case(name, "got %s, want an error", text_of(&ar, result));
    goto out;
  }
  if (rc < 0) {
    fail_case(name, "error: %s", err.message);
    goto out;
  }
  if (no_result) {
    if (!result)
      passed++;
    else
      fail_case(name, "got %s, want undefined", text_of(&ar, result));
    goto out;
  }
  const rv *w = want ? expected_value(&ar, want) : NULL;
  if (result && w && sort) {
    result = sorted_array(&ar, result);
    w = sorted_array(&ar, w);
  }
  if (!want && !result)
    passed++;
  else if (!result || !w || !rv_eq(result, w))
    fail_case(name, "got %s, want %s", text_of(&ar, result), text_of(&ar, w));
  else
    passed++;

out:
  rego_engine_free(e);
  arena_free(&ar);
}

static void run_file(const char *path)
{
  json_error_t jerr;
  json_t *root = json_load_file(path, 0, &jerr);
  if (!root) {
    printf("FAIL %s: invalid JSON: %s (line %d)\n", path, jerr.text, jerr.line);
    failed++;
    return;
  }
  json_t *cases = json_object_get(root, "cases");
  for (size_t i = 0; i < json_array_size(cases); i++)
    run_case(json_array_get(cases, i), path);
  json_decref(root);
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_path(const char *path)
{
  struct stat st;
  if (stat(path, &st) < 0) {
    printf("FAIL %s: %s\n", path, strerror(errno));
    failed++;
    return;
  }
  if (!S_ISDIR(st.st_mode)) {
    run_file(path);
    return;
  }
  DIR *d = opendir(path);
  if (!d) {
    printf("FAIL %s: %s\n", path, strerror(errno));
    failed++;
    return;
  }
  char **names = NULL;
  size_t n = 0;
  struct dirent *de;
  while ((de = readdir(d))) {
    size_t len = strlen(de->d_name);
    if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
      continue;
    names = realloc(names, (n + 1) * sizeof(*names));
    if (!names)
      abort();
    if (asprintf(&names[n], "%s/%s", path, de->d_name) < 0)
      abort();
    n++;
  }
  closedir(d);
  qsort(names, n, sizeof(*names), cmp_str);
  for (size_t i = 0; i < n; i++) {
    run_file(names[i]);
    free(names[i]);
  }
  free(names);
}

int main(int argc, char **argv)
{
  if (argc > 1) {
    for (int i = 1; i < argc; i++)
      run_path(argv[i]);
  } else {
    const char *dir = getenv("REGO_CASES_DIR");
#ifdef REGO_CASES_FALLBACK
    struct stat st;
    if ((!dir || !*dir) && stat(REGO_CASES_FALLBACK, &st) == 0)
      dir = REGO_CASES_FALLBACK;
#endif
    if (!dir || !*dir) {
      fprintf(stderr, "rego-cases: no case folder: set REGO_CASES_DIR to the "
                      "folder of JSON case files, or pass files as "
                      "arguments\n");
      return 2;
    }
    run_path(dir);
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
