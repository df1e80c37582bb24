/* The log of mcp-run: one line per HTTP request or server event on
 * stderr, as space-separated key=value pairs that start with the UTC time.
 * A value with a space, '"', '=', '\' or a byte outside printable ASCII is
 * double-quoted with \" \\ \n \r \t and \xHH escapes; a missing value is
 * written as "-".  Nothing of mcp-run goes to stdout. */
#ifndef MCP_RUN_LOG_H
#define MCP_RUN_LOG_H

#include <stddef.h>

#include "util.h"

struct log_line {
  struct buf text;
};

/* Starts a line with time=<RFC 3339 UTC with milliseconds>. */
void log_begin(struct log_line *line);
/* Adds key=value; a NULL value is written as "-". */
void log_add(struct log_line *line, const char *key, const char *value);
/* Adds a value of len bytes that may contain NUL bytes. */
void log_addn(struct log_line *line, const char *key, const char *value,
              size_t len);
void log_add_int(struct log_line *line, const char *key, long long value);
/* Writes the line with one write(2) and frees it. */
void log_end(struct log_line *line);

/* Logs event=NAME with one optional key=value pair. */
void log_event(const char *event, const char *key, const char *value);

/* Sends the log to fd instead of stderr; -1 discards it (the fuzz target
 * does, so logging does not dominate its runs). */
void log_set_output(int fd);

/* Formats the current UTC time as 2025-06-01T12:00:00.123Z into out[32]. */
void log_format_time(char out[32]);

#endif
