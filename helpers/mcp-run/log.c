/* The key=value log of mcp-run. */
#include "config-host.h"

#include "log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int log_fd = STDERR_FILENO;

void log_set_output(int fd)
{
  log_fd = fd;
}

void log_format_time(char out[32])
{
  struct timespec now;
  struct tm tm;
  size_t n;

  clock_gettime(CLOCK_REALTIME, &now);
  gmtime_r(&now.tv_sec, &tm);
  n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + n, 32 - n, ".%03ldZ", now.tv_nsec / 1000000);
}

static bool needs_quotes(const unsigned char *value, size_t len)
{
  size_t i;

  if (len == 0)
    return true;
  for (i = 0; i < len; i++) {
    if (value[i] <= ' ' || value[i] >= 0x7f || value[i] == '"' ||
        value[i] == '=' || value[i] == '\\')
      return true;
  }
  return false;
}

static void append_quoted(struct buf *b, const unsigned char *value, size_t len)
{
  size_t i;

  buf_append(b, "\"", 1);
  for (i = 0; i < len; i++) {
    unsigned char c = value[i];

    if (c == '"' || c == '\\') {
      char escaped[2] = {'\\', (char)c};
      buf_append(b, escaped, 2);
    } else if (c == '\n') {
      buf_append(b, "\\n", 2);
    } else if (c == '\r') {
      buf_append(b, "\\r", 2);
    } else if (c == '\t') {
      buf_append(b, "\\t", 2);
    } else if (c < ' ' || c >= 0x7f) {
      buf_printf(b, "\\x%02x", c);
    } else {
      buf_append(b, &value[i], 1);
    }
  }
  buf_append(b, "\"", 1);
}

void log_begin(struct log_line *line)
{
  char now[32];

  memset(line, 0, sizeof(*line));
  log_format_time(now);
  buf_puts(&line->text, "time=");
  buf_puts(&line->text, now);
}

void log_addn(struct log_line *line, const char *key, const char *value,
              size_t len)
{
  buf_printf(&line->text, " %s=", key);
  if (value == NULL)
    buf_append(&line->text, "-", 1);
  else if (needs_quotes((const unsigned char *)value, len))
    append_quoted(&line->text, (const unsigned char *)value, len);
  else
    buf_append(&line->text, value, len);
}

void log_add(struct log_line *line, const char *key, const char *value)
{
  log_addn(line, key, value, value != NULL ? strlen(value) : 0);
}

void log_add_int(struct log_line *line, const char *key, long long value)
{
  buf_printf(&line->text, " %s=%lld", key, value);
}

void log_end(struct log_line *line)
{
  size_t done = 0;

  buf_append(&line->text, "\n", 1);
  while (log_fd >= 0 && done < line->text.len) {
    ssize_t n = write(log_fd, line->text.data + done, line->text.len - done);

    if (n <= 0)
      break;
    done += (size_t)n;
  }
  buf_free(&line->text);
}

void log_event(const char *event, const char *key, const char *value)
{
  struct log_line line;

  log_begin(&line);
  log_add(&line, "event", event);
  if (key != NULL)
    log_add(&line, key, value);
  log_end(&line);
}
