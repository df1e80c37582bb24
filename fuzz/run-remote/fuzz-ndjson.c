/* libFuzzer target: the NDJSON event stream parser of run-remote.  The
 * first input byte chooses where the rest is split in two reads, so lines
 * cut across reads are covered too. */
#include "config-host.h"

#include <stddef.h>
#include <stdint.h>

#include "ndjson.h"

static int discard_output(void *ctx, int stream, const void *data, size_t len)
{
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct ndjson_stream stream;
  size_t split;

  if (size == 0)
    return 0;
  split = data[0] % size;
  data++;
  size--;
  if (split > size)
    split = size;

  ndjson_init(&stream, discard_output, NULL);
  if (ndjson_feed(&stream, (const char *)data, split) == NDJSON_MORE &&
      ndjson_feed(&stream, (const char *)data + split, size - split) ==
          NDJSON_MORE)
    ndjson_finish(&stream);
  ndjson_free(&stream);
  return 0;
}
