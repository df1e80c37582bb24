/* Tokens of Rego source text. */
#ifndef REGO_LEXER_H
#define REGO_LEXER_H

#include "value.h"
#include <stdbool.h>

enum tok_kind {
  TK_EOF,
  TK_IDENT,
  TK_STRING, /* text holds the decoded value */
  TK_NUMBER,
  TK_LBRACE,
  TK_RBRACE,
  TK_LBRACK,
  TK_RBRACK,
  TK_LPAREN,
  TK_RPAREN,
  TK_DOT,
  TK_COMMA,
  TK_SEMI,
  TK_COLON,
  TK_ASSIGN, /* := */
  TK_UNIFY,  /* = */
  TK_EQ,
  TK_NE,
  TK_LT,
  TK_LE,
  TK_GT,
  TK_GE,
  TK_PLUS,
  TK_MINUS,
  TK_STAR,
  TK_SLASH,
  TK_PERCENT,
  TK_BAR,
  TK_AMP,
  TK_ERROR, /* text holds the message */
};

struct token {
  enum tok_kind kind;
  bool nl_before;    /* a new line separates it from the previous token */
  bool space_before; /* white space or a comment precedes it */
  int line, col;
  const char *text; /* identifier, number or decoded string */
  size_t len;
};

struct lexer {
  struct arena *ar;
  const char *src;
  size_t len, pos;
  int line;
  size_t line_start;
};

void lexer_init(struct lexer *lx, struct arena *ar, const char *src,
                size_t len);
void lexer_next(struct lexer *lx, struct token *tok);

#endif
