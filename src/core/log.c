#include "config-host.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "util.h"

static FILE *err_stream_override;
static FILE *out_stream_override;

FILE *cl_log_err_stream(void)
{
  return err_stream_override ? err_stream_override : stderr;
}

FILE *cl_log_out_stream(void)
{
  return out_stream_override ? out_stream_override : stdout;
}

void cl_log_set_streams(FILE *err_stream, FILE *out_stream)
{
  err_stream_override = err_stream;
  out_stream_override = out_stream;
}

static const char *prefix_of(enum cladding_log_kind kind)
{
  switch (kind) {
  case CLADDING_LOG_ERROR:
    return "error: ";
  case CLADDING_LOG_HINT:
    return "hint: ";
  case CLADDING_LOG_MISSING:
    return "missing: ";
  case CLADDING_LOG_OUTDATED:
    return "outdated: ";
  case CLADDING_LOG_WARNING:
    return "warning: ";
  case CLADDING_LOG_FILE:
    return "file: ";
  case CLADDING_LOG_PLAIN:
  case CLADDING_LOG_OUT:
    break;
  }
  return "";
}

void cl_vlog(enum cladding_log_kind kind, const char *fmt, va_list ap)
{
  FILE *stream =
      kind == CLADDING_LOG_OUT ? cl_log_out_stream() : cl_log_err_stream();

  /* stdout and stderr may share a terminal, so keep their order. */
  if (kind != CLADDING_LOG_OUT)
    fflush(cl_log_out_stream());

  fputs(prefix_of(kind), stream);
  vfprintf(stream, fmt, ap);
  fputc('\n', stream);
  fflush(stream);
}

void cl_log(enum cladding_log_kind kind, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  cl_vlog(kind, fmt, ap);
  va_end(ap);
}

int cl_fail(struct cl_error *err, int status, const char *fmt, ...)
{
  va_list ap;

  if (err == NULL || err->message != NULL)
    return -1;

  va_start(ap, fmt);
  err->message = cl_vasprintf(fmt, ap);
  va_end(ap);
  err->status = status;
  return -1;
}

int cl_error_report(struct cl_error *err)
{
  int status = err->status ? err->status : 1;

  if (err->message)
    cl_log(CLADDING_LOG_PLAIN, "%s", err->message);
  cl_error_clear(err);
  return status;
}

void cl_error_clear(struct cl_error *err)
{
  free(err->message);
  err->message = NULL;
  err->status = 0;
}
