/* Parser: Rego v0 and v1 modules and queries into the syntax tree of
 * ast.h.  The whole text is tokenized first so that ambiguous forms (a
 * comprehension or a union inside brackets) can be tried and backed out. */
#include "ast.h"
#include "lexer.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NESTING 100

struct parser {
  struct arena *ar;
  const char *file;
  struct token *toks;
  size_t ntoks, pos;
  bool failed;
  int err_line, err_col;
  char err_msg[400];
  bool v1;
  bool kw_if, kw_in, kw_contains, kw_every;
  bool saw_rego_v1, saw_future;
  int nest;        /* bracket depth of the current expression */
  int no_bar_nest; /* '|' ends the item at this depth (comprehensions) */
  int depth;       /* recursion depth, bounded by MAX_NESTING */
  int retries;     /* times a comprehension was read again, see may_retry */
};

void rego_set_error(struct rego_error *err, int code, const char *fmt, ...)
{
  if (!err)
    return;
  va_list ap;
  va_start(ap, fmt);
  err->code = code;
  vsnprintf(err->message, sizeof(err->message), fmt, ap);
  va_end(ap);
}

static struct token *cur(struct parser *p)
{
  return &p->toks[p->pos];
}

static struct token *peek(struct parser *p, size_t ahead)
{
  size_t i = p->pos + ahead;
  return &p->toks[i < p->ntoks ? i : p->ntoks - 1];
}

static void advance(struct parser *p)
{
  if (p->pos + 1 < p->ntoks)
    p->pos++;
}

static void *fail_at(struct parser *p, struct token *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void *fail_at(struct parser *p, struct token *t, const char *fmt, ...)
{
  if (p->failed)
    return NULL;
  p->failed = true;
  p->err_line = t->line;
  p->err_col = t->col;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->err_msg, sizeof(p->err_msg), fmt, ap);
  va_end(ap);
  return NULL;
}

/* Most re-reads of a failed comprehension per module.  Each one re-parses
 * the enclosing item, so without a bound nested failing comprehensions
 * cost time exponential in their depth (found by the fuzzer). */
#define MAX_RETRIES 256

/* Tells whether the parser may read an item again after a failed
 * comprehension; past MAX_RETRIES the first error is kept. */
static bool may_retry(struct parser *p)
{
  return ++p->retries <= MAX_RETRIES;
}

static const char *tok_desc(struct token *t)
{
  static const char *const names[] = {
      [TK_EOF] = "end of file", [TK_IDENT] = "identifier",
      [TK_STRING] = "string",   [TK_NUMBER] = "number",
      [TK_LBRACE] = "'{'",      [TK_RBRACE] = "'}'",
      [TK_LBRACK] = "'['",      [TK_RBRACK] = "']'",
      [TK_LPAREN] = "'('",      [TK_RPAREN] = "')'",
      [TK_DOT] = "'.'",         [TK_COMMA] = "','",
      [TK_SEMI] = "';'",        [TK_COLON] = "':'",
      [TK_ASSIGN] = "':='",     [TK_UNIFY] = "'='",
      [TK_EQ] = "'=='",         [TK_NE] = "'!='",
      [TK_LT] = "'<'",          [TK_LE] = "'<='",
      [TK_GT] = "'>'",          [TK_GE] = "'>='",
      [TK_PLUS] = "'+'",        [TK_MINUS] = "'-'",
      [TK_STAR] = "'*'",        [TK_SLASH] = "'/'",
      [TK_PERCENT] = "'%'",     [TK_BAR] = "'|'",
      [TK_AMP] = "'&'",         [TK_ERROR] = "invalid token",
  };
  return names[t->kind];
}

static void *fail_unexpected(struct parser *p)
{
  struct token *t = cur(p);
  if (t->kind == TK_ERROR)
    return fail_at(p, t, "%s", t->text);
  if (t->kind == TK_IDENT)
    return fail_at(p, t, "unexpected identifier '%s'", t->text);
  return fail_at(p, t, "unexpected %s", tok_desc(t));
}

static bool is_ident(struct token *t, const char *word)
{
  return t->kind == TK_IDENT && strcmp(t->text, word) == 0;
}

/* Words that are keywords in this module, given its version and imports. */
static bool is_keyword(struct parser *p, const char *w)
{
  static const char *const always[] = {"not",     "with",  "as",      "some",
                                       "default", "else",  "package", "import",
                                       "true",    "false", "null"};
  for (size_t i = 0; i < sizeof(always) / sizeof(always[0]); i++)
    if (strcmp(w, always[i]) == 0)
      return true;
  if ((p->kw_if && strcmp(w, "if") == 0) ||
      (p->kw_in && strcmp(w, "in") == 0) ||
      (p->kw_contains && strcmp(w, "contains") == 0) ||
      (p->kw_every && strcmp(w, "every") == 0))
    return true;
  return false;
}

static bool at_kw(struct parser *p, const char *w)
{
  struct token *t = cur(p);
  return is_ident(t, w) && is_keyword(p, w);
}

/* 'if', 'contains' and 'in' where only the keyword can stand (after a rule
 * head, inside some/every): accepted in v0 even without the import, as
 * other Rego v0 parsers do. */
static bool at_ctx_kw(struct parser *p, const char *w)
{
  return is_ident(cur(p), w);
}

static bool expect(struct parser *p, enum tok_kind kind, const char *what)
{
  if (cur(p)->kind != kind) {
    if (cur(p)->kind == TK_ERROR)
      fail_unexpected(p);
    else
      fail_at(p, cur(p), "expected %s, found %s", what, tok_desc(cur(p)));
    return false;
  }
  advance(p);
  return true;
}

static struct term *new_term(struct parser *p, enum term_kind kind,
                             struct token *at)
{
  struct term *t = arena_calloc(p->ar, 1, sizeof(*t));
  t->kind = (uint8_t)kind;
  t->line = at->line;
  t->col = at->col;
  if (kind == T_CALL)
    t->call.builtin = -1;
  return t;
}

static struct term *value_term(struct parser *p, const rv *v, struct token *at)
{
  struct term *t = new_term(p, T_VALUE, at);
  t->value = v;
  return t;
}

/* Growable list of terms. */
struct tlist {
  struct term **items;
  int n, cap;
};

static void tl_push(struct parser *p, struct tlist *l, struct term *t)
{
  if (l->n == l->cap) {
    int cap = l->cap ? l->cap * 2 : 4;
    struct term **items = arena_alloc(p->ar, (size_t)cap * sizeof(*items));
    if (l->n)
      memcpy(items, l->items, (size_t)l->n * sizeof(*items));
    l->items = items;
    l->cap = cap;
  }
  l->items[l->n++] = t;
}

static struct term *parse_expr(struct parser *p);
static struct term *parse_or(struct parser *p);
static struct body *parse_body(struct parser *p, enum tok_kind closing);
static struct lit *parse_literal(struct parser *p);

static const rv *number_value(struct parser *p, struct token *t, bool neg)
{
  const char *text = t->text;
  if (neg)
    text = arena_sprintf(p->ar, "-%s", t->text);
  double d = strtod(text, NULL);
  rv *v = (rv *)rv_num(p->ar, d);
  /* Count significant digits: beyond 17 a double loses the literal. */
  int digits = 0;
  bool leading = true;
  for (const char *s = t->text; *s && *s != 'e' && *s != 'E'; s++) {
    if (*s == '.')
      continue;
    if (leading && *s == '0')
      continue;
    leading = false;
    digits++;
  }
  if (digits > 17)
    v->s = text;
  if (!isfinite(d))
    return fail_at(p, t, "number out of range: %s", t->text);
  return v;
}

/* [ ... ] : array or array comprehension. */
static struct term *parse_array(struct parser *p)
{
  struct token *start = cur(p);
  advance(p);
  p->nest++;
  int my_nest = p->nest;
  struct tlist items = {0};
  if (cur(p)->kind == TK_RBRACK) {
    advance(p);
    p->nest--;
    struct term *t = new_term(p, T_ARRAY, start);
    return t;
  }

  size_t item_start = p->pos;
  int saved_no_bar = p->no_bar_nest;
  p->no_bar_nest = my_nest;
  struct term *first = parse_expr(p);
  p->no_bar_nest = saved_no_bar;
  if (!first)
    return NULL;
  if (cur(p)->kind == TK_BAR) {
    size_t bar = p->pos;
    advance(p);
    int saved_nest = p->nest;
    p->nest = 0;
    struct body *body = parse_body(p, TK_RBRACK);
    p->nest = saved_nest;
    if (body && cur(p)->kind == TK_RBRACK) {
      advance(p);
      p->nest--;
      struct term *t = new_term(p, T_ACOMPR, start);
      t->compr.head = first;
      t->compr.body = body;
      return t;
    }
    /* Not a comprehension: read the item again with '|' as union. */
    (void)bar;
    if (!may_retry(p))
      return NULL;
    p->failed = false;
    p->pos = item_start;
    first = parse_expr(p);
    if (!first)
      return NULL;
  }
  tl_push(p, &items, first);
  while (cur(p)->kind == TK_COMMA) {
    advance(p);
    if (cur(p)->kind == TK_RBRACK)
      break;
    struct term *item = parse_expr(p);
    if (!item)
      return NULL;
    tl_push(p, &items, item);
  }
  if (!expect(p, TK_RBRACK, "']'"))
    return NULL;
  p->nest--;
  struct term *t = new_term(p, T_ARRAY, start);
  t->coll.items = items.items;
  t->coll.n = items.n;
  return t;
}

/* { ... } : object, set, or their comprehensions. */
static struct term *parse_brace(struct parser *p)
{
  struct token *start = cur(p);
  advance(p);
  p->nest++;
  int my_nest = p->nest;
  if (cur(p)->kind == TK_RBRACE) {
    advance(p);
    p->nest--;
    return new_term(p, T_OBJECT, start);
  }

  size_t item_start = p->pos;
  int saved_no_bar = p->no_bar_nest;
  p->no_bar_nest = my_nest;
  struct term *first = parse_expr(p);
  struct term *first_val = NULL;
  bool is_object = false;
  if (first && cur(p)->kind == TK_COLON) {
    advance(p);
    is_object = true;
    first_val = parse_expr(p);
  }
  p->no_bar_nest = saved_no_bar;
  if (!first || (is_object && !first_val))
    return NULL;

  if (cur(p)->kind == TK_BAR) {
    advance(p);
    int saved_nest = p->nest;
    p->nest = 0;
    struct body *body = parse_body(p, TK_RBRACE);
    p->nest = saved_nest;
    if (body && cur(p)->kind == TK_RBRACE) {
      advance(p);
      p->nest--;
      struct term *t = new_term(p, is_object ? T_OCOMPR : T_SCOMPR, start);
      t->compr.key = is_object ? first : NULL;
      t->compr.head = is_object ? first_val : first;
      t->compr.body = body;
      return t;
    }
    if (!may_retry(p))
      return NULL;
    p->failed = false;
    p->pos = item_start;
    first = parse_expr(p);
    if (!first)
      return NULL;
    if (is_object) {
      if (!expect(p, TK_COLON, "':'"))
        return NULL;
      first_val = parse_expr(p);
      if (!first_val)
        return NULL;
    }
  }

  struct tlist items = {0};
  tl_push(p, &items, first);
  if (is_object)
    tl_push(p, &items, first_val);
  while (cur(p)->kind == TK_COMMA) {
    advance(p);
    if (cur(p)->kind == TK_RBRACE)
      break;
    struct term *item = parse_expr(p);
    if (!item)
      return NULL;
    tl_push(p, &items, item);
    if (is_object) {
      if (!expect(p, TK_COLON, "':'"))
        return NULL;
      struct term *val = parse_expr(p);
      if (!val)
        return NULL;
      tl_push(p, &items, val);
    }
  }
  if (!expect(p, TK_RBRACE, "'}'"))
    return NULL;
  p->nest--;
  struct term *t = new_term(p, is_object ? T_OBJECT : T_SET, start);
  t->coll.items = items.items;
  t->coll.n = is_object ? items.n / 2 : items.n;
  return t;
}

static struct term *parse_call_args(struct parser *p, struct term *fn,
                                    struct token *start)
{
  advance(p); /* ( */
  p->nest++;
  struct tlist args = {0};
  while (cur(p)->kind != TK_RPAREN) {
    struct term *a = parse_expr(p);
    if (!a)
      return NULL;
    tl_push(p, &args, a);
    if (cur(p)->kind == TK_COMMA)
      advance(p);
    else
      break;
  }
  if (!expect(p, TK_RPAREN, "')'"))
    return NULL;
  p->nest--;
  struct term *t = new_term(p, T_CALL, start);
  t->call.fn = fn;
  t->call.args = args.items;
  t->call.n = args.n;
  return t;
}

static bool is_name_ref(struct term *t)
{
  if (t->kind == T_VAR)
    return true;
  if (t->kind != T_REF || t->ref.head->kind != T_VAR)
    return false;
  for (int i = 0; i < t->ref.n; i++)
    if (!t->ref.path[i]->dot)
      return false;
  return true;
}

/* Reference suffixes (.name, [term]) and calls after a primary term. */
static struct term *parse_postfix(struct parser *p, struct term *t,
                                  struct token *start, bool calls)
{
  struct tlist path = {0};
  while (1) {
    struct token *tk = cur(p);
    if (tk->space_before)
      break;
    if (tk->kind == TK_DOT) {
      struct token *name = peek(p, 1);
      if (name->kind != TK_IDENT || name->space_before) {
        advance(p);
        return fail_at(p, name, "expected a name after '.'");
      }
      advance(p);
      advance(p);
      struct term *key =
          value_term(p, rv_str(p->ar, name->text, name->len), name);
      key->dot = 1;
      tl_push(p, &path, key);
    } else if (tk->kind == TK_LBRACK) {
      advance(p);
      p->nest++;
      struct term *key = parse_expr(p);
      if (!key || !expect(p, TK_RBRACK, "']'"))
        return NULL;
      p->nest--;
      tl_push(p, &path, key);
    } else if (tk->kind == TK_LPAREN && calls) {
      struct term *fn = t;
      if (path.n) {
        fn = new_term(p, T_REF, start);
        fn->ref.head = t;
        fn->ref.path = path.items;
        fn->ref.n = path.n;
      }
      if (!is_name_ref(fn))
        return fail_at(p, tk, "invalid function name");
      t = parse_call_args(p, fn, start);
      if (!t)
        return NULL;
      path = (struct tlist){0};
    } else {
      break;
    }
  }
  if (path.n == 0)
    return t;
  struct term *r = new_term(p, T_REF, start);
  r->ref.head = t;
  r->ref.path = path.items;
  r->ref.n = path.n;
  return r;
}

static struct term *parse_primary(struct parser *p)
{
  struct token *t = cur(p);
  if (++p->depth > MAX_NESTING) {
    p->depth--;
    return fail_at(p, t, "expression nested too deeply (maximum %d levels)",
                   MAX_NESTING);
  }
  struct term *res = NULL;
  switch (t->kind) {
  case TK_NUMBER: {
    advance(p);
    const rv *v = number_value(p, t, false);
    res = v ? value_term(p, v, t) : NULL;
    break;
  }
  case TK_STRING:
    advance(p);
    res = value_term(p, rv_str(p->ar, t->text, t->len), t);
    break;
  case TK_LBRACK:
    res = parse_array(p);
    break;
  case TK_LBRACE:
    res = parse_brace(p);
    break;
  case TK_LPAREN: {
    advance(p);
    p->nest++;
    res = parse_expr(p);
    if (res && !expect(p, TK_RPAREN, "')'"))
      res = NULL;
    p->nest--;
    break;
  }
  case TK_IDENT:
    if (strcmp(t->text, "true") == 0 || strcmp(t->text, "false") == 0) {
      advance(p);
      res = value_term(p, rv_bool(t->text[0] == 't'), t);
    } else if (strcmp(t->text, "null") == 0) {
      advance(p);
      res = value_term(p, RV_NULLV, t);
    } else if (strcmp(t->text, "set") == 0 && peek(p, 1)->kind == TK_LPAREN &&
               !peek(p, 1)->space_before && peek(p, 2)->kind == TK_RPAREN) {
      advance(p);
      advance(p);
      advance(p);
      res = new_term(p, T_SET, t);
    } else if (is_keyword(p, t->text)) {
      res = fail_at(p, t, "unexpected keyword '%s'", t->text);
    } else {
      advance(p);
      res = new_term(p, T_VAR, t);
      res->var.name = t->text;
      res->var.slot = -1;
    }
    break;
  default:
    res = fail_unexpected(p);
  }
  if (res)
    res = parse_postfix(p, res, t, true);
  p->depth--;
  return res;
}

static struct term *parse_unary(struct parser *p)
{
  struct token *t = cur(p);
  if (t->kind == TK_MINUS) {
    struct token *n = peek(p, 1);
    if (n->kind != TK_NUMBER)
      return fail_at(p, t, "unary minus is only allowed before a number");
    advance(p);
    advance(p);
    const rv *v = number_value(p, n, true);
    if (!v)
      return NULL;
    return parse_postfix(p, value_term(p, v, t), t, true);
  }
  return parse_primary(p);
}

/* Binary operators stop at a new line outside brackets, so that the next
 * line starts a new literal. */
static bool op_continues(struct parser *p)
{
  return !(cur(p)->nl_before && p->nest == 0);
}

static struct term *binop(struct parser *p, int op, struct term *l,
                          struct term *r, struct token *at)
{
  struct term *t = new_term(p, T_BINOP, at);
  t->op = (uint8_t)op;
  t->bin.l = l;
  t->bin.r = r;
  return t;
}

static struct term *parse_factor(struct parser *p)
{
  struct term *l = parse_unary(p);
  while (l && op_continues(p)) {
    struct token *t = cur(p);
    int op = t->kind == TK_STAR      ? OP_MUL
             : t->kind == TK_SLASH   ? OP_DIV
             : t->kind == TK_PERCENT ? OP_MOD
                                     : -1;
    if (op < 0)
      break;
    advance(p);
    struct term *r = parse_unary(p);
    if (!r)
      return NULL;
    l = binop(p, op, l, r, t);
  }
  return l;
}

static struct term *parse_arith(struct parser *p)
{
  struct term *l = parse_factor(p);
  while (l && op_continues(p)) {
    struct token *t = cur(p);
    int op = t->kind == TK_PLUS ? OP_ADD : t->kind == TK_MINUS ? OP_SUB : -1;
    if (op < 0)
      break;
    advance(p);
    struct term *r = parse_factor(p);
    if (!r)
      return NULL;
    l = binop(p, op, l, r, t);
  }
  return l;
}

static struct term *parse_and(struct parser *p)
{
  struct term *l = parse_arith(p);
  while (l && op_continues(p) && cur(p)->kind == TK_AMP) {
    struct token *t = cur(p);
    advance(p);
    struct term *r = parse_arith(p);
    if (!r)
      return NULL;
    l = binop(p, OP_AND, l, r, t);
  }
  return l;
}

static struct term *parse_or(struct parser *p)
{
  struct term *l = parse_and(p);
  while (l && op_continues(p) && cur(p)->kind == TK_BAR &&
         p->no_bar_nest != p->nest) {
    struct token *t = cur(p);
    advance(p);
    struct term *r = parse_and(p);
    if (!r)
      return NULL;
    l = binop(p, OP_OR, l, r, t);
  }
  return l;
}

static struct term *parse_rel(struct parser *p)
{
  struct term *l = parse_or(p);
  while (l && op_continues(p)) {
    struct token *t = cur(p);
    int op;
    switch (t->kind) {
    case TK_EQ:
      op = OP_EQ;
      break;
    case TK_NE:
      op = OP_NE;
      break;
    case TK_LT:
      op = OP_LT;
      break;
    case TK_LE:
      op = OP_LE;
      break;
    case TK_GT:
      op = OP_GT;
      break;
    case TK_GE:
      op = OP_GE;
      break;
    default:
      return l;
    }
    advance(p);
    struct term *r = parse_or(p);
    if (!r)
      return NULL;
    l = binop(p, op, l, r, t);
  }
  return l;
}

/* An expression: relations and membership ("x in c"). */
static struct term *parse_expr(struct parser *p)
{
  struct term *l = parse_rel(p);
  while (l && op_continues(p) && at_kw(p, "in")) {
    struct token *t = cur(p);
    advance(p);
    struct term *r = parse_rel(p);
    if (!r)
      return NULL;
    struct term *in = new_term(p, T_IN, t);
    in->in.val = l;
    in->in.coll = r;
    l = in;
  }
  return l;
}

static bool parse_withs(struct parser *p, struct lit *l)
{
  int cap = 0;
  while (at_kw(p, "with")) {
    struct token *t = cur(p);
    advance(p);
    struct term *target = parse_primary(p);
    if (!target)
      return false;
    if (!at_kw(p, "as")) {
      fail_at(p, cur(p), "expected 'as' after the target of 'with'");
      return false;
    }
    advance(p);
    struct term *value = parse_or(p);
    if (!value)
      return false;
    if (l->nwith == cap) {
      cap = cap ? cap * 2 : 2;
      struct with *w = arena_calloc(p->ar, (size_t)cap, sizeof(*w));
      if (l->nwith)
        memcpy(w, l->withs, (size_t)l->nwith * sizeof(*w));
      l->withs = w;
    }
    struct with *w = &l->withs[l->nwith++];
    w->target = target;
    w->value = value;
    w->line = t->line;
    w->col = t->col;
  }
  return true;
}

static struct lit *new_lit(struct parser *p, enum lit_kind kind,
                           struct token *at)
{
  struct lit *l = arena_calloc(p->ar, 1, sizeof(*l));
  l->kind = (uint8_t)kind;
  l->line = at->line;
  l->col = at->col;
  return l;
}

/* "[key,] value in coll" after some or every. */
static bool parse_in_clause(struct parser *p, struct lit *l)
{
  int saved_nest = p->nest;
  p->nest = 1; /* a new line inside the clause does not end it */
  struct term *first = parse_rel(p);
  if (!first)
    return false;
  if (cur(p)->kind == TK_COMMA) {
    advance(p);
    l->key = first;
    l->val = parse_rel(p);
    if (!l->val)
      return false;
  } else {
    l->val = first;
  }
  p->nest = saved_nest;
  if (!at_ctx_kw(p, "in")) {
    fail_at(p, cur(p), "expected 'in'");
    return false;
  }
  advance(p);
  l->coll = parse_rel(p);
  return l->coll != NULL;
}

static struct lit *parse_some(struct parser *p)
{
  struct token *start = cur(p);
  advance(p);
  /* "some a, b" declares; "some x in c" iterates.  Look for 'in' before
   * the end of the line. */
  size_t save = p->pos;
  bool has_in = false;
  int depth = 0;
  for (size_t i = p->pos; i < p->ntoks; i++) {
    struct token *t = &p->toks[i];
    if (i > p->pos && t->nl_before && depth == 0)
      break;
    if (t->kind == TK_LBRACE || t->kind == TK_LBRACK || t->kind == TK_LPAREN)
      depth++;
    if (t->kind == TK_RBRACE || t->kind == TK_RBRACK || t->kind == TK_RPAREN)
      if (--depth < 0)
        break;
    if (t->kind == TK_SEMI || t->kind == TK_EOF)
      break;
    if (depth == 0 && is_ident(t, "in")) {
      has_in = true;
      break;
    }
  }
  p->pos = save;
  if (has_in) {
    struct lit *l = new_lit(p, L_SOME_IN, start);
    if (!parse_in_clause(p, l))
      return NULL;
    return l;
  }
  struct lit *l = new_lit(p, L_SOME, start);
  struct tlist vars = {0};
  while (1) {
    struct token *t = cur(p);
    if (t->kind != TK_IDENT || is_keyword(p, t->text))
      return fail_at(p, t, "expected a variable name after 'some'");
    advance(p);
    struct term *v = new_term(p, T_VAR, t);
    v->var.name = t->text;
    v->var.slot = -1;
    tl_push(p, &vars, v);
    if (cur(p)->kind != TK_COMMA)
      break;
    advance(p);
  }
  l->vars = vars.items;
  l->nvars = vars.n;
  return l;
}

static struct lit *parse_every(struct parser *p)
{
  struct token *start = cur(p);
  advance(p);
  struct lit *l = new_lit(p, L_EVERY, start);
  if (!parse_in_clause(p, l))
    return NULL;
  if (cur(p)->kind != TK_LBRACE)
    return fail_at(p, cur(p), "expected '{' after 'every ... in ...'");
  advance(p);
  int saved_nest = p->nest;
  p->nest = 0;
  l->body = parse_body(p, TK_RBRACE);
  p->nest = saved_nest;
  if (!l->body || !expect(p, TK_RBRACE, "'}'"))
    return NULL;
  return l;
}

static struct lit *parse_literal(struct parser *p)
{
  struct token *start = cur(p);
  if (++p->depth > MAX_NESTING) {
    p->depth--;
    return fail_at(p, start, "expression nested too deeply (maximum %d levels)",
                   MAX_NESTING);
  }
  struct lit *l = NULL;
  if (is_ident(start, "some")) {
    l = parse_some(p);
  } else if (at_kw(p, "every")) {
    l = parse_every(p);
  } else if (is_ident(start, "not")) {
    advance(p);
    struct lit *inner = parse_literal(p);
    if (inner) {
      if (inner->kind != L_EXPR && inner->kind != L_UNIFY) {
        fail_at(p, start, "'not' must be followed by an expression");
      } else {
        l = new_lit(p, L_NOT, start);
        l->inner = inner;
        /* with modifiers written after the expression apply to 'not'. */
        l->withs = inner->withs;
        l->nwith = inner->nwith;
        inner->withs = NULL;
        inner->nwith = 0;
      }
    }
  } else {
    struct term *a = parse_expr(p);
    if (a && cur(p)->kind == TK_COMMA && p->nest == 0) {
      /* key, value in collection */
      advance(p);
      struct term *v = parse_rel(p);
      if (v && !at_kw(p, "in")) {
        fail_at(p, cur(p), "expected 'in' after 'key, value'");
        v = NULL;
      }
      if (v) {
        struct token *in_tok = cur(p);
        advance(p);
        struct term *c = parse_rel(p);
        if (c) {
          struct term *in = new_term(p, T_IN, in_tok);
          in->in.key = a;
          in->in.val = v;
          in->in.coll = c;
          l = new_lit(p, L_EXPR, start);
          l->a = in;
        }
      }
    } else if (a && (cur(p)->kind == TK_UNIFY || cur(p)->kind == TK_ASSIGN)) {
      bool assign = cur(p)->kind == TK_ASSIGN;
      advance(p);
      struct term *b = parse_expr(p);
      if (b) {
        l = new_lit(p, assign ? L_ASSIGN : L_UNIFY, start);
        l->a = a;
        l->b = b;
      }
    } else if (a) {
      l = new_lit(p, L_EXPR, start);
      l->a = a;
    }
    if (l && !parse_withs(p, l))
      l = NULL;
  }
  p->depth--;
  return l;
}

/* Literals up to (not including) the closing token. */
static struct body *parse_body(struct parser *p, enum tok_kind closing)
{
  struct lit **lits = NULL;
  int n = 0, cap = 0;
  while (1) {
    while (cur(p)->kind == TK_SEMI)
      advance(p);
    if (cur(p)->kind == closing || cur(p)->kind == TK_EOF)
      break;
    if (n && !cur(p)->nl_before && cur(p)->kind != TK_SEMI &&
        p->toks[p->pos - 1].kind != TK_SEMI)
      return fail_unexpected(p);
    struct lit *l = parse_literal(p);
    if (!l)
      return NULL;
    if (n == cap) {
      cap = cap ? cap * 2 : 4;
      struct lit **nl = arena_alloc(p->ar, (size_t)cap * sizeof(*nl));
      if (n)
        memcpy(nl, lits, (size_t)n * sizeof(*nl));
      lits = nl;
    }
    lits[n++] = l;
  }
  if (n == 0)
    return fail_at(p, cur(p), "empty body");
  struct body *b = arena_alloc(p->ar, sizeof(*b));
  b->lits = lits;
  b->n = n;
  return b;
}

static struct body *parse_braced_body(struct parser *p)
{
  advance(p); /* { */
  int saved_nest = p->nest;
  p->nest = 0;
  struct body *b = parse_body(p, TK_RBRACE);
  p->nest = saved_nest;
  if (!b || !expect(p, TK_RBRACE, "'}'"))
    return NULL;
  return b;
}

/* The body after 'if': a braced body, or one literal.  "{ x | y }" after
 * 'if' is a set comprehension when that reading ends the rule. */
static struct body *parse_if_body(struct parser *p)
{
  if (cur(p)->kind == TK_LBRACE) {
    size_t save = p->pos;
    struct lit *l = parse_literal(p);
    if (l && l->kind == L_EXPR && l->a->kind == T_SCOMPR &&
        (cur(p)->kind == TK_EOF || cur(p)->nl_before)) {
      struct body *b = arena_alloc(p->ar, sizeof(*b));
      b->lits = arena_alloc(p->ar, sizeof(*b->lits));
      b->lits[0] = l;
      b->n = 1;
      return b;
    }
    if (!l && !may_retry(p))
      return NULL;
    p->failed = false;
    p->pos = save;
    return parse_braced_body(p);
  }
  struct lit *l = parse_literal(p);
  if (!l)
    return NULL;
  struct body *b = arena_alloc(p->ar, sizeof(*b));
  b->lits = arena_alloc(p->ar, sizeof(*b->lits));
  b->lits[0] = l;
  b->n = 1;
  return b;
}

/* A reference made only of names and brackets: package paths, imports,
 * rule heads, with targets. */
static struct term *parse_ref(struct parser *p)
{
  struct token *t = cur(p);
  if (t->kind != TK_IDENT)
    return fail_at(p, t, "expected a name, found %s", tok_desc(t));
  advance(p);
  struct term *head = new_term(p, T_VAR, t);
  head->var.name = t->text;
  head->var.slot = -1;
  int saved = p->nest;
  p->nest = 1;
  struct term *r = parse_postfix(p, head, t, false);
  p->nest = saved;
  return r;
}

static void ref_split(struct term *t, struct term **head, struct term ***path,
                      int *n)
{
  if (t->kind == T_REF) {
    *head = t->ref.head;
    *path = t->ref.path;
    *n = t->ref.n;
  } else {
    *head = t;
    *path = NULL;
    *n = 0;
  }
}

static struct rule *new_rule(struct parser *p, struct module *m,
                             struct token *at)
{
  struct rule *r = arena_calloc(p->ar, 1, sizeof(*r));
  r->line = at->line;
  r->col = at->col;
  r->file = p->file;
  r->module = m;
  return r;
}

static bool term_is_ground_key(struct term *t)
{
  return t->kind == T_VALUE;
}

/* Decides the kind of a rule from its head, value and body form. */
static bool classify_rule(struct parser *p, struct rule *r, struct term *head,
                          struct term *contains_elem, bool has_value,
                          struct token *at)
{
  struct term *name;
  struct term **path;
  int n;
  ref_split(head, &name, &path, &n);
  if (name->kind != T_VAR) {
    fail_at(p, at, "invalid rule head");
    return false;
  }
  r->head = head;
  if (r->kind == R_FUNC) {
    for (int i = 0; i < n; i++)
      if (!term_is_ground_key(path[i])) {
        fail_at(p, at, "function name must be ground");
        return false;
      }
    r->nprefix = n;
    return true;
  }

  int first_dyn = n;
  for (int i = 0; i < n; i++)
    if (!term_is_ground_key(path[i])) {
      first_dyn = i;
      break;
    }

  if (contains_elem) {
    if (first_dyn == n) {
      r->kind = R_SET;
      r->keys = arena_alloc(p->ar, sizeof(*r->keys));
      r->keys[0] = contains_elem;
      r->nkeys = 1;
    } else {
      r->kind = R_OBJECT;
      r->set_leaf = 1;
      r->nkeys = n - first_dyn + 1;
      r->keys = arena_alloc(p->ar, (size_t)r->nkeys * sizeof(*r->keys));
      memcpy(r->keys, path + first_dyn,
             (size_t)(n - first_dyn) * sizeof(*r->keys));
      r->keys[n - first_dyn] = contains_elem;
    }
    r->nprefix = first_dyn;
    return true;
  }

  if (!has_value && !p->v1 && n == 1 && !r->is_default) {
    /* v0: p[x] { ... } and p.x { ... } are partial sets. */
    r->kind = R_SET;
    r->keys = arena_alloc(p->ar, sizeof(*r->keys));
    r->keys[0] = path[0];
    r->nkeys = 1;
    r->nprefix = 0;
    return true;
  }

  if (first_dyn == n) {
    r->kind = R_COMPLETE;
    r->nprefix = n;
    return true;
  }
  r->kind = R_OBJECT;
  r->nprefix = first_dyn;
  r->nkeys = n - first_dyn;
  r->keys = path + first_dyn;
  return true;
}

static const char *v1_if_hint = "add 'if' before the rule body (Rego v1 "
                                "syntax)";

/* One rule with its else chain.  Returns NULL on error. */
static struct rule *parse_rule(struct parser *p, struct module *m)
{
  struct token *start = cur(p);
  bool is_default = false;
  if (is_ident(start, "default")) {
    is_default = true;
    advance(p);
  }
  struct token *head_tok = cur(p);
  if (head_tok->kind != TK_IDENT || is_keyword(p, head_tok->text))
    return fail_unexpected(p);
  struct term *head = parse_ref(p);
  if (!head)
    return NULL;

  struct rule *r = new_rule(p, m, head_tok);
  r->is_default = is_default;

  if (cur(p)->kind == TK_LPAREN && !cur(p)->space_before) {
    r->kind = R_FUNC;
    advance(p);
    struct tlist args = {0};
    p->nest++;
    while (cur(p)->kind != TK_RPAREN) {
      struct term *a = parse_expr(p);
      if (!a)
        return NULL;
      tl_push(p, &args, a);
      if (cur(p)->kind != TK_COMMA)
        break;
      advance(p);
    }
    p->nest--;
    if (!expect(p, TK_RPAREN, "')'"))
      return NULL;
    r->args = args.items;
    r->nargs = args.n;
  }

  struct term *contains_elem = NULL;
  if (at_ctx_kw(p, "contains") && !cur(p)->nl_before) {
    if (r->kind == R_FUNC || is_default)
      return fail_at(p, cur(p), "unexpected 'contains'");
    advance(p);
    contains_elem = parse_expr(p);
    if (!contains_elem)
      return NULL;
  }

  bool has_value = false;
  if (!contains_elem &&
      (cur(p)->kind == TK_UNIFY || cur(p)->kind == TK_ASSIGN)) {
    advance(p);
    has_value = true;
    r->value = parse_expr(p);
    if (!r->value)
      return NULL;
  }

  if (!classify_rule(p, r, head, contains_elem, has_value, head_tok))
    return NULL;

  if (is_default) {
    if (!has_value)
      return fail_at(p, head_tok, "default rule must have a value");
    if (r->kind != R_COMPLETE && r->kind != R_FUNC)
      return fail_at(p, head_tok, "default rule must have a ground path");
    return r;
  }

  bool has_body = false;
  if (at_ctx_kw(p, "if") && !cur(p)->nl_before) {
    advance(p);
    r->body = parse_if_body(p);
    if (!r->body)
      return NULL;
    has_body = true;
  } else if (cur(p)->kind == TK_LBRACE && !cur(p)->nl_before) {
    if (p->v1)
      return fail_at(p, cur(p), "%s", v1_if_hint);
    r->body = parse_braced_body(p);
    if (!r->body)
      return NULL;
    has_body = true;
  }
  if (!has_body && !has_value && !contains_elem)
    return fail_at(p, head_tok, "rule '%s' has neither a value nor a body",
                   head_tok->text);
  if (!has_body && r->kind == R_SET && !contains_elem)
    return fail_at(p, head_tok, "partial set rule needs a body");

  struct rule *last = r;
  while (is_ident(cur(p), "else")) {
    struct token *et = cur(p);
    if (r->kind != R_COMPLETE && r->kind != R_FUNC)
      return fail_at(p, et,
                     "'else' is only allowed on complete rules and "
                     "functions");
    advance(p);
    struct rule *e = new_rule(p, m, et);
    e->kind = r->kind;
    e->head = r->head;
    e->args = r->args;
    e->nargs = r->nargs;
    if (cur(p)->kind == TK_UNIFY || cur(p)->kind == TK_ASSIGN) {
      advance(p);
      e->value = parse_expr(p);
      if (!e->value)
        return NULL;
    }
    if (at_ctx_kw(p, "if")) {
      advance(p);
      e->body = parse_if_body(p);
      if (!e->body)
        return NULL;
    } else if (cur(p)->kind == TK_LBRACE) {
      if (p->v1)
        return fail_at(p, cur(p), "%s", v1_if_hint);
      e->body = parse_braced_body(p);
      if (!e->body)
        return NULL;
    }
    last->els = e;
    last = e;
  }
  return r;
}

static bool ref_names(struct term *t, const char **names, int max, int *n)
{
  struct term *head;
  struct term **path;
  int len;
  ref_split(t, &head, &path, &len);
  if (head->kind != T_VAR || len + 1 > max)
    return false;
  names[0] = head->var.name;
  for (int i = 0; i < len; i++) {
    if (path[i]->kind != T_VALUE || path[i]->value->type != RV_STR)
      return false;
    names[i + 1] = path[i]->value->s;
  }
  *n = len + 1;
  return true;
}

static bool parse_import(struct parser *p, struct module *m, int *cap)
{
  struct token *start = cur(p);
  advance(p);
  struct token *path_tok = cur(p);
  struct term *path = parse_ref(p);
  if (!path)
    return false;
  const char *names[4];
  int n = 0;
  bool simple = ref_names(path, names, 4, &n);

  if (simple && strcmp(names[0], "rego") == 0) {
    if (n != 2 || strcmp(names[1], "v1") != 0) {
      fail_at(p, path_tok, "invalid import: only 'rego.v1' is known");
      return false;
    }
    if (p->saw_rego_v1 || p->saw_future) {
      fail_at(p, start,
              "'import rego.v1' cannot be combined with other "
              "rego.v1 or future.keywords imports");
      return false;
    }
    p->saw_rego_v1 = true;
    p->v1 = true;
    p->kw_if = p->kw_in = p->kw_contains = p->kw_every = true;
    return true;
  }
  if (simple && strcmp(names[0], "future") == 0) {
    if (n < 2 || strcmp(names[1], "keywords") != 0 || n > 3) {
      fail_at(p, path_tok, "invalid import: expected future.keywords");
      return false;
    }
    if (p->saw_rego_v1) {
      fail_at(p, start,
              "'import rego.v1' cannot be combined with "
              "future.keywords imports");
      return false;
    }
    p->saw_future = true;
    if (n == 2) {
      p->kw_if = p->kw_in = p->kw_contains = p->kw_every = true;
    } else if (strcmp(names[2], "if") == 0) {
      p->kw_if = true;
    } else if (strcmp(names[2], "in") == 0) {
      p->kw_in = true;
    } else if (strcmp(names[2], "contains") == 0) {
      p->kw_contains = true;
    } else if (strcmp(names[2], "every") == 0) {
      p->kw_every = true;
      p->kw_in = true;
    } else {
      fail_at(p, path_tok, "invalid import: unknown keyword '%s'", names[2]);
      return false;
    }
    return true;
  }

  struct term *head;
  struct term **rpath;
  int len;
  ref_split(path, &head, &rpath, &len);
  if (head->kind != T_VAR || (strcmp(head->var.name, "data") != 0 &&
                              strcmp(head->var.name, "input") != 0)) {
    fail_at(p, path_tok,
            "invalid import: path must start with data or "
            "input");
    return false;
  }
  for (int i = 0; i < len; i++)
    if (rpath[i]->kind != T_VALUE) {
      fail_at(p, path_tok, "invalid import: path must be ground");
      return false;
    }
  const char *alias = NULL;
  if (at_kw(p, "as")) {
    advance(p);
    struct token *a = cur(p);
    if (a->kind != TK_IDENT || is_keyword(p, a->text)) {
      fail_at(p, a, "expected a name after 'as'");
      return false;
    }
    alias = a->text;
    advance(p);
  } else if (len == 0) {
    alias = head->var.name;
  } else {
    const rv *last = rpath[len - 1]->value;
    if (last->type != RV_STR) {
      fail_at(p, path_tok, "import path must end in a name, or use 'as'");
      return false;
    }
    alias = last->s;
  }
  if (m->nimports == *cap) {
    *cap = *cap ? *cap * 2 : 4;
    struct import *ni = arena_calloc(p->ar, (size_t)*cap, sizeof(*ni));
    if (m->nimports)
      memcpy(ni, m->imports, (size_t)m->nimports * sizeof(*ni));
    m->imports = ni;
  }
  struct import *imp = &m->imports[m->nimports++];
  imp->path = path;
  imp->alias = alias;
  imp->line = start->line;
  imp->col = start->col;
  return true;
}

static int tokenize(struct parser *p, const char *text, size_t len)
{
  struct lexer lx;
  lexer_init(&lx, p->ar, text, len);
  size_t cap = 64;
  p->toks = malloc(cap * sizeof(*p->toks));
  if (!p->toks)
    return -ENOMEM;
  p->ntoks = 0;
  while (1) {
    if (p->ntoks == cap) {
      cap *= 2;
      struct token *nt = realloc(p->toks, cap * sizeof(*nt));
      if (!nt)
        return -ENOMEM;
      p->toks = nt;
    }
    struct token *t = &p->toks[p->ntoks++];
    lexer_next(&lx, t);
    if (t->kind == TK_EOF || t->kind == TK_ERROR)
      break;
  }
  return 0;
}

static void parser_init(struct parser *p, struct arena *ar, const char *file,
                        bool default_v1)
{
  memset(p, 0, sizeof(*p));
  p->ar = ar;
  p->file = file;
  p->v1 = default_v1;
  p->kw_if = p->kw_in = p->kw_contains = p->kw_every = default_v1;
  p->no_bar_nest = -1;
}

static int report(struct parser *p, struct rego_error *err)
{
  if (p->file)
    rego_set_error(err, -EINVAL, "%s:%d:%d: %s", p->file, p->err_line,
                   p->err_col, p->err_msg);
  else
    rego_set_error(err, -EINVAL, "%d:%d: %s", p->err_line, p->err_col,
                   p->err_msg);
  return -EINVAL;
}

int rego_parse_module(struct arena *ar, const char *file, const char *text,
                      size_t len, bool default_v1, struct module **out,
                      struct rego_error *err)
{
  struct parser p;
  parser_init(&p, ar, file, default_v1);
  if (tokenize(&p, text, len) < 0) {
    free(p.toks);
    rego_set_error(err, -ENOMEM, "out of memory");
    return -ENOMEM;
  }
  struct module *m = arena_calloc(ar, 1, sizeof(*m));
  m->file = file;
  int rc = 0;

  if (!is_ident(cur(&p), "package")) {
    fail_at(&p, cur(&p), "expected 'package'");
    goto out;
  }
  advance(&p);
  struct token *pkg_tok = cur(&p);
  m->package = parse_ref(&p);
  if (!m->package)
    goto out;
  {
    const char *names[64];
    int n;
    struct term *head;
    struct term **path;
    int plen;
    ref_split(m->package, &head, &path, &plen);
    if (plen + 1 > 64 || head->kind != T_VAR) {
      fail_at(&p, pkg_tok, "invalid package path");
      goto out;
    }
    (void)names;
    (void)n;
    m->npkg = plen + 1;
    m->pkg = arena_alloc(ar, (size_t)m->npkg * sizeof(*m->pkg));
    m->pkg[0] = rv_cstr(ar, head->var.name);
    for (int i = 0; i < plen; i++) {
      if (path[i]->kind != T_VALUE || path[i]->value->type != RV_STR) {
        fail_at(&p, pkg_tok, "package path must be made of names");
        goto out;
      }
      m->pkg[i + 1] = path[i]->value;
    }
    if (strcmp(head->var.name, "data") == 0) {
      /* "package data.x" names the same package as "package x". */
      m->pkg++;
      m->npkg--;
      if (m->npkg == 0) {
        fail_at(&p, pkg_tok, "invalid package path");
        goto out;
      }
    }
  }
  if (!cur(&p)->nl_before && cur(&p)->kind != TK_EOF &&
      cur(&p)->kind != TK_SEMI) {
    fail_unexpected(&p);
    goto out;
  }

  int icap = 0;
  while (is_ident(cur(&p), "import")) {
    if (!parse_import(&p, m, &icap))
      goto out;
  }
  m->v1 = p.v1;

  int rcap = 0;
  while (cur(&p)->kind != TK_EOF) {
    if (cur(&p)->kind == TK_SEMI) {
      advance(&p);
      continue;
    }
    if (is_ident(cur(&p), "import")) {
      fail_at(&p, cur(&p), "imports must come before the rules");
      goto out;
    }
    if (is_ident(cur(&p), "package")) {
      fail_at(&p, cur(&p), "only one package per module");
      goto out;
    }
    struct rule *r = parse_rule(&p, m);
    if (!r)
      goto out;
    if (cur(&p)->kind != TK_EOF && !cur(&p)->nl_before &&
        cur(&p)->kind != TK_SEMI) {
      fail_unexpected(&p);
      goto out;
    }
    if (m->nrules == rcap) {
      rcap = rcap ? rcap * 2 : 8;
      struct rule **nr = arena_alloc(ar, (size_t)rcap * sizeof(*nr));
      if (m->nrules)
        memcpy(nr, m->rules, (size_t)m->nrules * sizeof(*nr));
      m->rules = nr;
    }
    m->rules[m->nrules++] = r;
  }

out:
  if (p.failed)
    rc = report(&p, err);
  free(p.toks);
  if (rc == 0)
    *out = m;
  return rc;
}

int rego_parse_query(struct arena *ar, const char *text, size_t len,
                     bool default_v1, struct body **out, struct rego_error *err)
{
  struct parser p;
  parser_init(&p, ar, "query", default_v1);
  /* Queries accept the future keywords in both versions. */
  p.kw_if = p.kw_in = p.kw_contains = p.kw_every = true;
  if (tokenize(&p, text, len) < 0) {
    free(p.toks);
    rego_set_error(err, -ENOMEM, "out of memory");
    return -ENOMEM;
  }
  int rc = 0;
  struct body *b = parse_body(&p, TK_EOF);
  if (b && cur(&p)->kind != TK_EOF)
    fail_unexpected(&p);
  if (p.failed) {
    rc = report(&p, err);
  } else {
    *out = b;
  }
  free(p.toks);
  return rc;
}
