/* Lexer: splits Rego source into tokens and decodes string literals. */
#include "lexer.h"

#include <string.h>

void lexer_init(struct lexer *lx, struct arena *ar, const char *src, size_t len)
{
  lx->ar = ar;
  lx->src = src;
  lx->len = len;
  lx->pos = 0;
  lx->line = 1;
  lx->line_start = 0;
}

static void set_error(struct lexer *lx, struct token *tok, const char *msg)
{
  tok->kind = TK_ERROR;
  tok->text = msg;
  tok->len = strlen(msg);
}

static void put_utf8(struct strbuf *sb, unsigned cp)
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

static int hex4(const char *s, size_t avail, unsigned *out)
{
  unsigned v = 0;
  if (avail < 4)
    return -1;
  for (int i = 0; i < 4; i++) {
    char c = s[i];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= (unsigned)(c - 'A' + 10);
    else
      return -1;
  }
  *out = v;
  return 0;
}

static void lex_string(struct lexer *lx, struct token *tok)
{
  struct strbuf sb;
  sb_init(&sb, lx->ar);
  lx->pos++;
  while (1) {
    if (lx->pos >= lx->len || lx->src[lx->pos] == '\n') {
      set_error(lx, tok, "unterminated string");
      return;
    }
    char c = lx->src[lx->pos];
    if (c == '"') {
      lx->pos++;
      break;
    }
    if (c != '\\') {
      sb_addc(&sb, c);
      lx->pos++;
      continue;
    }
    if (lx->pos + 1 >= lx->len) {
      set_error(lx, tok, "unterminated string");
      return;
    }
    char e = lx->src[lx->pos + 1];
    lx->pos += 2;
    switch (e) {
    case '"':
    case '\\':
    case '/':
      sb_addc(&sb, e);
      break;
    case 'b':
      sb_addc(&sb, '\b');
      break;
    case 'f':
      sb_addc(&sb, '\f');
      break;
    case 'n':
      sb_addc(&sb, '\n');
      break;
    case 'r':
      sb_addc(&sb, '\r');
      break;
    case 't':
      sb_addc(&sb, '\t');
      break;
    case 'u': {
      unsigned cp;
      if (hex4(lx->src + lx->pos, lx->len - lx->pos, &cp) < 0) {
        set_error(lx, tok, "invalid \\u escape in string");
        return;
      }
      lx->pos += 4;
      if (cp >= 0xD800 && cp < 0xDC00) {
        unsigned lo;
        if (lx->pos + 6 <= lx->len && lx->src[lx->pos] == '\\' &&
            lx->src[lx->pos + 1] == 'u' &&
            hex4(lx->src + lx->pos + 2, lx->len - lx->pos - 2, &lo) == 0 &&
            lo >= 0xDC00 && lo < 0xE000) {
          lx->pos += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else {
          set_error(lx, tok, "invalid surrogate pair in string");
          return;
        }
      } else if (cp >= 0xDC00 && cp < 0xE000) {
        set_error(lx, tok, "invalid surrogate pair in string");
        return;
      }
      put_utf8(&sb, cp);
      break;
    }
    default:
      set_error(lx, tok, "invalid escape sequence in string");
      return;
    }
  }
  tok->kind = TK_STRING;
  tok->text = sb.buf;
  tok->len = sb.len;
}

static void lex_raw_string(struct lexer *lx, struct token *tok)
{
  size_t start = ++lx->pos;
  while (lx->pos < lx->len && lx->src[lx->pos] != '`') {
    if (lx->src[lx->pos] == '\n') {
      lx->line++;
      lx->line_start = lx->pos + 1;
    }
    lx->pos++;
  }
  if (lx->pos >= lx->len) {
    set_error(lx, tok, "unterminated raw string");
    return;
  }
  tok->kind = TK_STRING;
  tok->text = arena_strndup(lx->ar, lx->src + start, lx->pos - start);
  tok->len = lx->pos - start;
  lx->pos++;
}

static bool is_digit(char c)
{
  return c >= '0' && c <= '9';
}

static bool is_ident_start(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static void lex_number(struct lexer *lx, struct token *tok)
{
  size_t start = lx->pos;
  while (lx->pos < lx->len && is_digit(lx->src[lx->pos]))
    lx->pos++;
  if (lx->pos + 1 < lx->len && lx->src[lx->pos] == '.' &&
      is_digit(lx->src[lx->pos + 1])) {
    lx->pos++;
    while (lx->pos < lx->len && is_digit(lx->src[lx->pos]))
      lx->pos++;
  }
  if (lx->pos < lx->len &&
      (lx->src[lx->pos] == 'e' || lx->src[lx->pos] == 'E')) {
    size_t save = lx->pos++;
    if (lx->pos < lx->len &&
        (lx->src[lx->pos] == '+' || lx->src[lx->pos] == '-'))
      lx->pos++;
    if (lx->pos < lx->len && is_digit(lx->src[lx->pos])) {
      while (lx->pos < lx->len && is_digit(lx->src[lx->pos]))
        lx->pos++;
    } else {
      lx->pos = save;
    }
  }
  if (lx->pos < lx->len && is_ident_start(lx->src[lx->pos])) {
    set_error(lx, tok, "invalid number");
    return;
  }
  tok->kind = TK_NUMBER;
  tok->text = arena_strndup(lx->ar, lx->src + start, lx->pos - start);
  tok->len = lx->pos - start;
}

static void skip_space(struct lexer *lx, struct token *tok)
{
  while (lx->pos < lx->len) {
    char c = lx->src[lx->pos];
    if (c == '\n') {
      tok->nl_before = true;
      tok->space_before = true;
      lx->line++;
      lx->line_start = ++lx->pos;
    } else if (c == ' ' || c == '\t' || c == '\r') {
      tok->space_before = true;
      lx->pos++;
    } else if (c == '#') {
      tok->space_before = true;
      while (lx->pos < lx->len && lx->src[lx->pos] != '\n')
        lx->pos++;
    } else {
      break;
    }
  }
}

void lexer_next(struct lexer *lx, struct token *tok)
{
  tok->nl_before = false;
  tok->space_before = false;
  skip_space(lx, tok);
  tok->line = lx->line;
  tok->col = (int)(lx->pos - lx->line_start) + 1;
  tok->text = NULL;
  tok->len = 0;
  if (lx->pos >= lx->len) {
    tok->kind = TK_EOF;
    return;
  }
  char c = lx->src[lx->pos];
  char n = lx->pos + 1 < lx->len ? lx->src[lx->pos + 1] : 0;
  if (is_ident_start(c)) {
    size_t start = lx->pos;
    while (lx->pos < lx->len &&
           (is_ident_start(lx->src[lx->pos]) || is_digit(lx->src[lx->pos])))
      lx->pos++;
    tok->kind = TK_IDENT;
    tok->text = arena_strndup(lx->ar, lx->src + start, lx->pos - start);
    tok->len = lx->pos - start;
    return;
  }
  if (is_digit(c)) {
    lex_number(lx, tok);
    return;
  }
  if (c == '"') {
    lex_string(lx, tok);
    return;
  }
  if (c == '`') {
    lex_raw_string(lx, tok);
    return;
  }
  static const struct {
    char a, b;
    enum tok_kind kind;
  } ops[] = {
      {':', '=', TK_ASSIGN}, {'=', '=', TK_EQ},    {'!', '=', TK_NE},
      {'<', '=', TK_LE},     {'>', '=', TK_GE},    {'{', 0, TK_LBRACE},
      {'}', 0, TK_RBRACE},   {'[', 0, TK_LBRACK},  {']', 0, TK_RBRACK},
      {'(', 0, TK_LPAREN},   {')', 0, TK_RPAREN},  {'.', 0, TK_DOT},
      {',', 0, TK_COMMA},    {';', 0, TK_SEMI},    {':', 0, TK_COLON},
      {'=', 0, TK_UNIFY},    {'<', 0, TK_LT},      {'>', 0, TK_GT},
      {'+', 0, TK_PLUS},     {'-', 0, TK_MINUS},   {'*', 0, TK_STAR},
      {'/', 0, TK_SLASH},    {'%', 0, TK_PERCENT}, {'|', 0, TK_BAR},
      {'&', 0, TK_AMP},
  };
  for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
    if (ops[i].a == c && (ops[i].b == 0 || ops[i].b == n)) {
      tok->kind = ops[i].kind;
      lx->pos += ops[i].b ? 2 : 1;
      return;
    }
  }
  lx->pos++;
  set_error(lx, tok, "unexpected character");
}
