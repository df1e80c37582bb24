/* Event log of cladding-bridge: one line per event on stderr, as
 * "cladding-bridge: event=NAME key=value ...".  A value with a space, '"',
 * '=', '\' or a control character is written in double quotes with
 * backslash escapes. */
#ifndef CLADDING_BRIDGE_LOG_H
#define CLADDING_BRIDGE_LOG_H

#include <stddef.h>

struct log_line {
  char text[1024];
  size_t length;
};

void log_start(struct log_line *line, const char *event);
void log_add(struct log_line *line, const char *key, const char *value);
void log_add_int(struct log_line *line, const char *key, long long value);
/* Adds error="<uv_strerror(error)>" for a negative libuv error code. */
void log_add_error(struct log_line *line, int error);
/* Writes the line with one write(2), so lines of several processes that
 * share stderr do not interleave. */
void log_emit(struct log_line *line);

/* A usage or setup message in plain words, "cladding-bridge: MESSAGE". */
void log_message(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
