/* Text helpers for the builtins: UTF-8, case mapping, sprintf, regular
 * expressions and globs. */
#ifndef REGO_TEXT_H
#define REGO_TEXT_H

#include "value.h"

size_t utf8_char_len(const char *s, size_t avail);
size_t utf8_count(const char *s, size_t n);
/* Byte offset of character index i (n when past the end). */
size_t utf8_offset(const char *s, size_t n, size_t i);

const rv *text_case(struct arena *ar, const rv *s, bool upper);
/* Returns NULL and sets *err on a format error. */
const rv *text_sprintf(struct arena *ar, const rv *fmt, const rv *args,
                       const char **err);
/* 1 match, 0 no match, -1 invalid pattern (*err set). */
int text_regex_match(const char *pattern, const char *s, const char **err);
/* 1 match, 0 no match, -1 invalid pattern. */
int text_glob_match(const char *pat, size_t np, const char *s, size_t ns,
                    const char *delims, size_t nd);

#endif
