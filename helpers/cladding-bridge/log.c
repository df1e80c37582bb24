/* Event log of cladding-bridge. */
#include "config-host.h"

#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#define LOG_PREFIX "cladding-bridge: "

static void append(struct log_line *line, const char *text, size_t length)
{
  /* Keep one byte for the newline that log_emit adds. */
  size_t room = sizeof(line->text) - 1 - line->length;

  if (length > room)
    length = room;
  memcpy(line->text + line->length, text, length);
  line->length += length;
}

static void append_string(struct log_line *line, const char *text)
{
  append(line, text, strlen(text));
}

static bool needs_quotes(const char *value)
{
  const unsigned char *c;

  if (value[0] == '\0')
    return true;
  for (c = (const unsigned char *)value; *c != '\0'; c++) {
    if (*c <= ' ' || *c == '"' || *c == '=' || *c == '\\' || *c == 0x7f)
      return true;
  }
  return false;
}

static void append_quoted(struct log_line *line, const char *value)
{
  const unsigned char *c;
  char escape[8];

  append(line, "\"", 1);
  for (c = (const unsigned char *)value; *c != '\0'; c++) {
    if (*c == '"' || *c == '\\') {
      escape[0] = '\\';
      escape[1] = (char)*c;
      append(line, escape, 2);
    } else if (*c == '\n') {
      append(line, "\\n", 2);
    } else if (*c < ' ' || *c == 0x7f) {
      snprintf(escape, sizeof(escape), "\\x%02x", *c);
      append_string(line, escape);
    } else {
      append(line, (const char *)c, 1);
    }
  }
  append(line, "\"", 1);
}

void log_start(struct log_line *line, const char *event)
{
  line->length = 0;
  append_string(line, LOG_PREFIX "event=");
  append_string(line, event);
}

void log_add(struct log_line *line, const char *key, const char *value)
{
  append(line, " ", 1);
  append_string(line, key);
  append(line, "=", 1);
  if (needs_quotes(value))
    append_quoted(line, value);
  else
    append_string(line, value);
}

void log_add_int(struct log_line *line, const char *key, long long value)
{
  char number[32];

  snprintf(number, sizeof(number), "%lld", value);
  log_add(line, key, number);
}

void log_add_error(struct log_line *line, int error)
{
  log_add(line, "error", uv_strerror(error));
}

static void write_all(const char *text, size_t length)
{
  while (length > 0) {
    ssize_t written = write(STDERR_FILENO, text, length);

    if (written < 0 && errno == EINTR)
      continue;
    if (written <= 0)
      return;
    text += written;
    length -= (size_t)written;
  }
}

void log_emit(struct log_line *line)
{
  line->text[line->length++] = '\n';
  write_all(line->text, line->length);
}

void log_message(const char *fmt, ...)
{
  char text[1024];
  va_list ap;
  int length;

  memcpy(text, LOG_PREFIX, sizeof(LOG_PREFIX) - 1);
  va_start(ap, fmt);
  length = vsnprintf(text + sizeof(LOG_PREFIX) - 1,
                     sizeof(text) - sizeof(LOG_PREFIX), fmt, ap);
  va_end(ap);
  if (length < 0)
    return;
  length += (int)sizeof(LOG_PREFIX) - 1;
  if ((size_t)length > sizeof(text) - 2)
    length = (int)sizeof(text) - 2;
  text[length++] = '\n';
  write_all(text, (size_t)length);
}
