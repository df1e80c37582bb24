/* Command-line grammar of cladding-bridge.  Parsing is pure (no sockets, no
 * libuv), so it can be unit-tested on its own. */
#ifndef CLADDING_BRIDGE_ARGS_H
#define CLADDING_BRIDGE_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

/* Longest Unix socket path: sun_path less its terminating NUL. */
#define BRIDGE_UNIX_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

/* Exit status of every usage error. */
#define BRIDGE_EXIT_USAGE 2

enum listener_kind {
  LISTENER_TCP_TO_UNIX, /* accept TCP, connect to a Unix socket */
  LISTENER_UNIX_TO_TCP, /* accept on a Unix socket, connect to TCP */
};

/* A TCP address as written on the command line. */
struct tcp_endpoint {
  struct sockaddr_storage addr; /* IPv4 or IPv6, port included */
  /* "localhost": addr is 127.0.0.1, and [::1] is tried when that
   * connection is refused. */
  bool localhost;
  char text[80]; /* "127.0.0.1:80", "[::1]:80" or "localhost:80" */
};

struct listener_spec {
  enum listener_kind kind;
  /* The client's half-close is not passed to the server, which keeps its
   * side open until the server closes. */
  bool hold_eof;
  struct tcp_endpoint tcp; /* listen address or connect target */
  char path[BRIDGE_UNIX_PATH_MAX + 1];
};

struct bridge_options {
  struct listener_spec *listeners;
  size_t n_listeners;
  const char *pidfile; /* NULL without --pidfile */
  bool setsid;
  int signal; /* the signal of --signal, 0 outside signal mode */
  char **cmd; /* argv after "--", NULL-terminated; NULL without "--" */
  bool help;
  bool version;
};

/* Parses argv into `options`.  Returns 0, or -1 with a one-line reason in
 * `error` (the caller exits with BRIDGE_EXIT_USAGE).  `options->cmd` points
 * into argv.  Release with args_free() in both cases. */
int args_parse(int argc, char **argv, struct bridge_options *options,
               char *error, size_t error_size);
void args_free(struct bridge_options *options);

/* Parses the value of --tcp-to-unix (ADDR:PORT=PATH, split at the first
 * '=') or --unix-to-tcp (PATH=ADDR:PORT, split at the last '='). */
int args_parse_listener(enum listener_kind kind, const char *value,
                        struct listener_spec *spec, char *error,
                        size_t error_size);

/* Parses ADDR:PORT, where ADDR is an IPv4 address or a bracketed IPv6
 * address.  `allow_localhost` also accepts "localhost"; `allow_port_zero`
 * accepts port 0 (a listener then gets a port from the kernel). */
int args_parse_tcp_endpoint(const char *text, bool allow_localhost,
                            bool allow_port_zero, struct tcp_endpoint *out,
                            char *error, size_t error_size);

/* Parses a signal name (TERM, INT, HUP, KILL, with or without "SIG") or a
 * number from 1 to 64.  Returns the signal, or -1. */
int args_parse_signal(const char *text);

/* Returns the name of `signal` without "SIG" for the four named signals,
 * or NULL. */
const char *args_signal_name(int signal);

#endif
