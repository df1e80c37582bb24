/* Command-line parsing of cladding-bridge. */
#include "config-host.h"

#include "args.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <signal.h>

/* Largest signal number accepted by --signal (SIGRTMAX on Linux). */
#define SIGNAL_NUMBER_MAX 64

static const struct {
  const char *name;
  int number;
} signal_names[] = {
    {"HUP", SIGHUP},
    {"INT", SIGINT},
    {"KILL", SIGKILL},
    {"TERM", SIGTERM},
};

__attribute__((format(printf, 3, 4))) static int
fail(char *error, size_t error_size, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(error, error_size, fmt, ap);
  va_end(ap);
  return -1;
}

/* Parses a decimal port.  Returns the port, or -1. */
static int parse_port(const char *text, bool allow_zero)
{
  long value = 0;
  size_t i;

  if (text[0] == '\0' || strlen(text) > 5)
    return -1;
  for (i = 0; text[i] != '\0'; i++) {
    if (!isdigit((unsigned char)text[i]))
      return -1;
    value = value * 10 + (text[i] - '0');
  }
  if (value > 65535 || (value == 0 && !allow_zero))
    return -1;
  return (int)value;
}

static int parse_host(const char *host, int port, bool allow_localhost,
                      struct tcp_endpoint *out, char *error, size_t error_size)
{
  struct sockaddr_in *in4 = (struct sockaddr_in *)&out->addr;

  if (allow_localhost && strcmp(host, "localhost") == 0) {
    out->localhost = true;
    host = "127.0.0.1";
  }

  if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
    in4->sin_port = htons((uint16_t)port);
    return 0;
  }

  if (strchr(host, ':') != NULL)
    return fail(error, error_size,
                "an IPv6 address must be written in brackets, as "
                "[::1]:PORT");
  if (allow_localhost)
    return fail(error, error_size,
                "'%s' is not an IPv4 address, a bracketed IPv6 address or "
                "'localhost'",
                host);
  return fail(error, error_size,
              "'%s' is not an IPv4 address or a bracketed IPv6 address", host);
}

int args_parse_tcp_endpoint(const char *text, bool allow_localhost,
                            bool allow_port_zero, struct tcp_endpoint *out,
                            char *error, size_t error_size)
{
  char host[64];
  const char *port_text;
  size_t host_length;
  int port;

  memset(out, 0, sizeof(*out));

  if (text[0] == '[') {
    const char *close = strchr(text, ']');
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&out->addr;

    if (close == NULL || close[1] != ':')
      return fail(error, error_size, "expected [IPV6]:PORT");
    host_length = (size_t)(close - text - 1);
    if (host_length >= sizeof(host))
      return fail(error, error_size, "the IPv6 address is too long");
    memcpy(host, text + 1, host_length);
    host[host_length] = '\0';
    port_text = close + 2;

    port = parse_port(port_text, allow_port_zero);
    if (port < 0)
      return fail(error, error_size,
                  "the port must be an integer from %d to 65535",
                  allow_port_zero ? 0 : 1);
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
      return fail(error, error_size, "'%s' is not an IPv6 address", host);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((uint16_t)port);
    snprintf(out->text, sizeof(out->text), "[%s]:%d", host, port);
    return 0;
  }

  /* Without brackets the address has no ':' of its own, so the last ':'
   * separates the port.  parse_host() rejects an unbracketed IPv6 address. */
  port_text = strrchr(text, ':');
  if (port_text == NULL)
    return fail(error, error_size, "expected ADDR:PORT");
  host_length = (size_t)(port_text - text);
  if (host_length == 0)
    return fail(error, error_size, "the address before ':PORT' is empty");
  if (host_length >= sizeof(host))
    return fail(error, error_size, "the address is too long");
  memcpy(host, text, host_length);
  host[host_length] = '\0';
  port_text++;

  port = parse_port(port_text, allow_port_zero);
  if (port < 0)
    return fail(error, error_size,
                "the port must be an integer from %d to 65535",
                allow_port_zero ? 0 : 1);
  if (parse_host(host, port, allow_localhost, out, error, error_size) < 0)
    return -1;
  snprintf(out->text, sizeof(out->text), "%s:%d", host, port);
  return 0;
}

static int parse_path(const char *path, size_t length, char *out, char *error,
                      size_t error_size)
{
  if (length == 0)
    return fail(error, error_size, "the Unix socket path is empty");
  if (length > BRIDGE_UNIX_PATH_MAX)
    return fail(error, error_size,
                "the Unix socket path is %zu bytes long, the maximum is %zu",
                length, (size_t)BRIDGE_UNIX_PATH_MAX);
  if (memchr(path, '\0', length) != NULL)
    return fail(error, error_size, "the Unix socket path is empty");
  memcpy(out, path, length);
  out[length] = '\0';
  return 0;
}

int args_parse_listener(enum listener_kind kind, const char *value,
                        struct listener_spec *spec, char *error,
                        size_t error_size)
{
  const char *equals;
  char address[128];
  size_t address_length;

  memset(spec, 0, sizeof(*spec));
  spec->kind = kind;

  if (kind == LISTENER_TCP_TO_UNIX) {
    equals = strchr(value, '=');
    if (equals == NULL)
      return fail(error, error_size, "expected ADDR:PORT=PATH");
    address_length = (size_t)(equals - value);
    if (address_length >= sizeof(address))
      return fail(error, error_size, "the address is too long");
    memcpy(address, value, address_length);
    address[address_length] = '\0';
    if (args_parse_tcp_endpoint(address, false, true, &spec->tcp, error,
                                error_size) < 0)
      return -1;
    return parse_path(equals + 1, strlen(equals + 1), spec->path, error,
                      error_size);
  }

  equals = strrchr(value, '=');
  if (equals == NULL)
    return fail(error, error_size, "expected PATH=ADDR:PORT");
  if (parse_path(value, (size_t)(equals - value), spec->path, error,
                 error_size) < 0)
    return -1;
  return args_parse_tcp_endpoint(equals + 1, true, false, &spec->tcp, error,
                                 error_size);
}

int args_parse_signal(const char *text)
{
  const char *name = text;
  size_t i;
  int number;

  if (strncmp(name, "SIG", 3) == 0)
    name += 3;
  for (i = 0; i < sizeof(signal_names) / sizeof(signal_names[0]); i++) {
    if (strcmp(name, signal_names[i].name) == 0)
      return signal_names[i].number;
  }

  if (text[0] == '\0' || strlen(text) > 2)
    return -1;
  for (i = 0; text[i] != '\0'; i++) {
    if (!isdigit((unsigned char)text[i]))
      return -1;
  }
  number = atoi(text);
  if (number < 1 || number > SIGNAL_NUMBER_MAX)
    return -1;
  return number;
}

const char *args_signal_name(int signal)
{
  size_t i;

  for (i = 0; i < sizeof(signal_names) / sizeof(signal_names[0]); i++) {
    if (signal_names[i].number == signal)
      return signal_names[i].name;
  }
  return NULL;
}

/* Returns the value of option `name` at argv[*index], written as
 * "--name VALUE" or "--name=VALUE", and advances *index past it.  Returns
 * NULL when argv[*index] is another option, or when the value is missing,
 * which sets *missing. */
static const char *option_value(int argc, char **argv, int *index,
                                const char *name, bool *missing)
{
  const char *arg = argv[*index];
  size_t length = strlen(name);

  *missing = false;
  if (strncmp(arg, name, length) != 0)
    return NULL;
  if (arg[length] == '=') {
    (*index)++;
    return arg + length + 1;
  }
  if (arg[length] != '\0')
    return NULL;
  if (*index + 1 >= argc) {
    *missing = true;
    return NULL;
  }
  *index += 2;
  return argv[*index - 1];
}

static int add_listener(struct bridge_options *options, enum listener_kind kind,
                        const char *option, const char *value, bool hold_eof,
                        char *error, size_t error_size)
{
  struct listener_spec spec;
  struct listener_spec *grown;
  char reason[256];

  if (args_parse_listener(kind, value, &spec, reason, sizeof(reason)) < 0)
    return fail(error, error_size, "invalid value '%s' for '%s': %s", value,
                option, reason);
  spec.hold_eof = hold_eof;

  grown =
      realloc(options->listeners, (options->n_listeners + 1) * sizeof(*grown));
  if (grown == NULL)
    return fail(error, error_size, "out of memory");
  options->listeners = grown;
  options->listeners[options->n_listeners++] = spec;
  return 0;
}

static bool is_option(const char *arg, const char *name)
{
  size_t length = strlen(name);

  return strncmp(arg, name, length) == 0 &&
         (arg[length] == '\0' || arg[length] == '=');
}

static int fail_hold_eof(char *error, size_t error_size)
{
  return fail(error, error_size,
              "'--hold-eof' must come right before '--tcp-to-unix' or "
              "'--unix-to-tcp'");
}

/* Checks the combinations that the grammar forbids. */
static int check_options(const struct bridge_options *options, char *error,
                         size_t error_size)
{
  if (options->signal != 0) {
    if (options->pidfile == NULL)
      return fail(error, error_size, "'--signal' requires '--pidfile PATH'");
    if (options->n_listeners > 0 || options->setsid || options->cmd != NULL)
      return fail(error, error_size, "'--signal' takes only '--pidfile PATH'");
    return 0;
  }

  if (options->cmd != NULL && options->cmd[0] == NULL)
    return fail(error, error_size, "no command after '--'");
  if (options->setsid && options->cmd == NULL)
    return fail(error, error_size, "'--setsid' requires '-- CMD'");
  return 0;
}

int args_parse(int argc, char **argv, struct bridge_options *options,
               char *error, size_t error_size)
{
  bool hold_eof_pending = false;
  bool missing;
  const char *value;
  int i = 1;

  memset(options, 0, sizeof(*options));

  while (i < argc) {
    const char *arg = argv[i];
    bool hold_eof = hold_eof_pending;

    hold_eof_pending = false;
    if (hold_eof && !is_option(arg, "--tcp-to-unix") &&
        !is_option(arg, "--unix-to-tcp"))
      return fail_hold_eof(error, error_size);

    if (strcmp(arg, "--") == 0) {
      options->cmd = argv + i + 1;
      break;
    }
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      options->help = true;
      return 0;
    }
    if (strcmp(arg, "--version") == 0) {
      options->version = true;
      return 0;
    }
    if (strcmp(arg, "--hold-eof") == 0) {
      hold_eof_pending = true;
      i++;
      continue;
    }
    if (strcmp(arg, "--setsid") == 0) {
      options->setsid = true;
      i++;
      continue;
    }

    value = option_value(argc, argv, &i, "--tcp-to-unix", &missing);
    if (value != NULL) {
      if (add_listener(options, LISTENER_TCP_TO_UNIX, "--tcp-to-unix", value,
                       hold_eof, error, error_size) < 0)
        return -1;
      continue;
    }
    if (missing)
      return fail(error, error_size,
                  "'--tcp-to-unix' requires a value ADDR:PORT=PATH");

    value = option_value(argc, argv, &i, "--unix-to-tcp", &missing);
    if (value != NULL) {
      if (add_listener(options, LISTENER_UNIX_TO_TCP, "--unix-to-tcp", value,
                       hold_eof, error, error_size) < 0)
        return -1;
      continue;
    }
    if (missing)
      return fail(error, error_size,
                  "'--unix-to-tcp' requires a value PATH=ADDR:PORT");

    value = option_value(argc, argv, &i, "--pidfile", &missing);
    if (value != NULL) {
      if (value[0] == '\0')
        return fail(error, error_size,
                    "'--pidfile' requires a non-empty "
                    "PATH");
      options->pidfile = value;
      continue;
    }
    if (missing)
      return fail(error, error_size, "'--pidfile' requires a value PATH");

    value = option_value(argc, argv, &i, "--signal", &missing);
    if (value != NULL) {
      options->signal = args_parse_signal(value);
      if (options->signal < 0)
        return fail(error, error_size,
                    "invalid value '%s' for '--signal': expected TERM, INT, "
                    "HUP, KILL or a number from 1 to %d",
                    value, SIGNAL_NUMBER_MAX);
      continue;
    }
    if (missing)
      return fail(error, error_size, "'--signal' requires a value SIG");

    return fail(error, error_size, "unknown option '%s'", arg);
  }

  if (hold_eof_pending)
    return fail_hold_eof(error, error_size);
  return check_options(options, error, error_size);
}

void args_free(struct bridge_options *options)
{
  free(options->listeners);
  options->listeners = NULL;
  options->n_listeners = 0;
}
