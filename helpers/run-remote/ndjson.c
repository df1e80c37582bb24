/* The NDJSON event stream of /raw. */
#include "config-host.h"

#include "ndjson.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "rr_util.h"

void ndjson_init(struct ndjson_stream *s,
                 int (*write_output)(void *ctx, int stream, const void *data,
                                     size_t len),
                 void *ctx)
{
  memset(s, 0, sizeof(*s));
  s->write_output = write_output;
  s->ctx = ctx;
}

void ndjson_free(struct ndjson_stream *s)
{
  free(s->line);
  free(s->error);
  s->line = NULL;
  s->error = NULL;
}

static int base64_value(char c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

long rr_base64_decode(const char *in, size_t len, unsigned char *out,
                      const char **detail)
{
  size_t i, o = 0;

  if (len % 4 != 0) {
    *detail = "invalid length";
    return -1;
  }
  for (i = 0; i < len; i += 4) {
    int v[4], pad = 0, k;
    bool last = i + 4 == len;

    for (k = 0; k < 4; k++) {
      if (in[i + k] == '=' && last && k >= 2) {
        pad++;
        v[k] = 0;
        continue;
      }
      if (pad > 0 || (v[k] = base64_value(in[i + k])) < 0) {
        *detail = in[i + k] == '=' ? "invalid padding" : "invalid symbol";
        return -1;
      }
    }
    if (pad == 1 && (v[2] & 3) != 0) {
      *detail = "invalid last symbol";
      return -1;
    }
    if (pad == 2 && (v[1] & 15) != 0) {
      *detail = "invalid last symbol";
      return -1;
    }
    out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
    if (pad < 2)
      out[o++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
    if (pad < 1)
      out[o++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
  }
  return (long)o;
}

static enum ndjson_result fail(struct ndjson_stream *s, char *message)
{
  free(s->error);
  s->error = message;
  s->finished = true;
  return NDJSON_ERROR;
}

static enum ndjson_result invalid_event(struct ndjson_stream *s,
                                        const char *detail)
{
  return fail(
      s, rr_asprintf("stream protocol error: invalid event JSON: %s", detail));
}

static enum ndjson_result output_event(struct ndjson_stream *s, json_t *doc,
                                       int stream)
{
  const char *name = stream == 1 ? "stdout" : "stderr";
  json_t *data = json_object_get(doc, "data_b64");
  const char *detail = NULL;
  unsigned char *decoded;
  size_t len;
  long n;
  int rc;

  if (data == NULL)
    return invalid_event(s, "missing field `data_b64`");
  if (!json_is_string(data))
    return invalid_event(s, "invalid type for `data_b64`: expected a string");
  len = json_string_length(data);
  decoded = rr_xmalloc(len / 4 * 3 + 3);
  n = rr_base64_decode(json_string_value(data), len, decoded, &detail);
  if (n < 0) {
    free(decoded);
    return fail(s, rr_asprintf("stream protocol error: invalid %s base64 "
                               "payload: %s",
                               name, detail));
  }
  rc = n > 0 ? s->write_output(s->ctx, stream, decoded, (size_t)n) : 0;
  free(decoded);
  if (rc < 0)
    return fail(s, rr_asprintf("failed to write output: %s", strerror(-rc)));
  return NDJSON_MORE;
}

static enum ndjson_result exit_event(struct ndjson_stream *s, json_t *doc)
{
  json_t *code = json_object_get(doc, "exitCode");

  if (code != NULL && !json_is_null(code) && !json_is_integer(code))
    return invalid_event(s, "invalid type for `exitCode`: expected an "
                            "integer or null");
  if (!s->started)
    return fail(s, rr_xstrdup("stream protocol error: received exit event "
                              "before start event"));
  s->exit_status =
      json_is_integer(code) ? (int)(json_integer_value(code) & 0xff) : 1;
  s->finished = true;
  return NDJSON_EXIT;
}

static enum ndjson_result handle_line(struct ndjson_stream *s, const char *line,
                                      size_t len)
{
  enum ndjson_result result;
  json_error_t error;
  const char *event;
  json_t *doc;
  size_t i;

  for (i = 0; i < len; i++) {
    if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
      break;
  }
  if (i == len)
    return NDJSON_MORE; /* a blank line */

  doc = json_loadb(line, len, 0, &error);
  if (doc == NULL) {
    char *detail = rr_asprintf("%s at line %d column %d", error.text,
                               error.line, error.column);

    result = invalid_event(s, detail);
    free(detail);
    return result;
  }
  if (!json_is_object(doc)) {
    json_decref(doc);
    return invalid_event(s, "expected a JSON object");
  }

  event = json_string_value(json_object_get(doc, "event"));
  if (event == NULL) {
    result = invalid_event(s, "missing field `event`");
  } else if (strcmp(event, "start") == 0) {
    s->started = true;
    result = NDJSON_MORE;
  } else if (strcmp(event, "stdout") == 0) {
    result = output_event(s, doc, 1);
  } else if (strcmp(event, "stderr") == 0) {
    result = output_event(s, doc, 2);
  } else if (strcmp(event, "exit") == 0) {
    result = exit_event(s, doc);
  } else if (strcmp(event, "error") == 0) {
    const char *message = json_string_value(json_object_get(doc, "message"));

    if (message == NULL)
      result = invalid_event(s, "missing field `message`");
    else
      result = fail(s, rr_asprintf("remote runtime error: %s", message));
  } else {
    char *detail = rr_asprintf("unknown event `%s`", event);

    result = invalid_event(s, detail);
    free(detail);
  }
  json_decref(doc);
  return result;
}

enum ndjson_result ndjson_feed(struct ndjson_stream *s, const char *data,
                               size_t len)
{
  while (len > 0 && !s->finished) {
    const char *newline = memchr(data, '\n', len);
    size_t take = newline != NULL ? (size_t)(newline - data) : len;
    enum ndjson_result result;

    if (s->line_len + take + 1 > s->line_cap) {
      while (s->line_len + take + 1 > s->line_cap)
        s->line_cap = s->line_cap ? s->line_cap * 2 : 256;
      s->line = rr_xrealloc(s->line, s->line_cap);
    }
    memcpy(s->line + s->line_len, data, take);
    s->line_len += take;
    data += take;
    len -= take;
    if (newline == NULL)
      break;

    data++;
    len--;
    result = handle_line(s, s->line, s->line_len);
    s->line_len = 0;
    if (result != NDJSON_MORE)
      return result;
  }
  if (s->finished)
    return s->error != NULL ? NDJSON_ERROR : NDJSON_EXIT;
  return NDJSON_MORE;
}

enum ndjson_result ndjson_finish(struct ndjson_stream *s)
{
  enum ndjson_result result;

  if (s->finished)
    return s->error != NULL ? NDJSON_ERROR : NDJSON_EXIT;
  if (s->line_len > 0) {
    result = handle_line(s, s->line, s->line_len);
    s->line_len = 0;
    if (result != NDJSON_MORE)
      return result;
  }
  return fail(s, rr_xstrdup("stream protocol error: stream ended before "
                            "exit event"));
}
