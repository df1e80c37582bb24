/* The request document shared by /raw, /check and the MCP tools:
 * {"executable":..,"args":[..],"cwd":..,"env":{..}}. */
#ifndef MCP_RUN_REQUEST_H
#define MCP_RUN_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct mr_string {
  char *data; /* NUL-terminated; may also contain NUL bytes */
  size_t len;
};

struct mr_request {
  struct mr_string executable;
  struct mr_string *args;
  size_t nargs;
  bool has_cwd; /* false: the default cwd */
  struct mr_string cwd;
  json_t *env; /* object of strings, never NULL after parsing */
};

/* Fills req from a parsed JSON value.  Returns 0, or -1 with a short
 * malloc()ed detail such as "missing field `executable`". */
int request_from_json(const json_t *doc, struct mr_request *req, char **detail);
/* Parses a body of len bytes: duplicate member names, invalid UTF-8 and
 * lone surrogates are rejected; \u0000 is kept. */
int request_parse(const char *body, size_t len, struct mr_request *req,
                  char **detail);
void request_free(struct mr_request *req);

/* Loads JSON text with the rules above (any top-level value). */
json_t *mr_json_loadb(const char *text, size_t len, char **detail);

/* Returns true when a Content-Type is application/json or
 * application/<subtype>+json, parameters allowed. */
bool request_is_json_type(const char *content_type);

#endif
