/* The NDJSON event stream of /raw: start, stdout, stderr, exit, error.
 * Lines may arrive split across any number of reads. */
#ifndef RUN_REMOTE_NDJSON_H
#define RUN_REMOTE_NDJSON_H

#include <stdbool.h>
#include <stddef.h>

struct ndjson_stream {
  /* Writes decoded output; stream is 1 or 2.  Returns 0 or a negative
   * errno value. */
  int (*write_output)(void *ctx, int stream, const void *data, size_t len);
  void *ctx;

  char *line;
  size_t line_len;
  size_t line_cap;
  bool started;
  bool finished;
  int exit_status;
  char *error; /* set when the stream failed */
};

enum ndjson_result {
  NDJSON_MORE,  /* feed more */
  NDJSON_EXIT,  /* exit received: exit_status is set */
  NDJSON_ERROR, /* error contains the message */
};

void ndjson_init(struct ndjson_stream *s,
                 int (*write_output)(void *ctx, int stream, const void *data,
                                     size_t len),
                 void *ctx);
enum ndjson_result ndjson_feed(struct ndjson_stream *s, const char *data,
                               size_t len);
/* Ends the stream: parses a last line without '\n'. */
enum ndjson_result ndjson_finish(struct ndjson_stream *s);
void ndjson_free(struct ndjson_stream *s);

/* Strict standard base64 with padding.  Returns the decoded length, or -1
 * with a static detail text. */
long rr_base64_decode(const char *in, size_t len, unsigned char *out,
                      const char **detail);

#endif
