/* Argument grammar, socket paths and podman argv of `expose` and
 * `inject`.  Pure functions shared by both plugins and their unit tests;
 * they do no I/O. */
#ifndef CLADDING_FORWARD_ARGS_H
#define CLADDING_FORWARD_ARGS_H

#include <stdbool.h>
#include <stddef.h>

/* The reason of every invalid port. */
#define FORWARD_PORT_REASON "expected an integer from 1 to 65535"

/* The helper inside the containers. */
#define FORWARD_BRIDGE "/opt/tools/bin/cladding-bridge"

enum forward_command {
  FORWARD_EXPOSE, /* an agent port published on the host */
  FORWARD_INJECT, /* a host endpoint on the agent's 127.0.0.1 */
};

/* Parses a port: decimal digits with a value from 1 to 65535.  Returns the
 * port, or -1. */
int forward_parse_port(const char *text);

/* Tells whether `text` is a numeric IPv4 or IPv6 address (no brackets). */
bool forward_valid_bind(const char *text);

/* A parsed HOST-ENDPOINT of inject. */
struct forward_endpoint {
  char host[256]; /* "127.0.0.1" for a bare PORT */
  int port;
};

/* Parses HOST-ENDPOINT: PORT, or HOST:PORT split at the first ':', where
 * HOST is made of ASCII letters, digits, '.', '_' and '-'.  IPv6 addresses
 * are not accepted.  Returns 0, or -1 with the reason in `reason`. */
int forward_parse_endpoint(const char *raw, struct forward_endpoint *out,
                           char *reason, size_t reason_size);

/* The plan of one run of expose or inject: its paths on the host and in
 * the agent, the agent-side argv and the stop argv. */
struct forward_plan {
  char *dir;           /* ROOT/runtime/sockets/agent/<command>/<port> */
  char *agent_dir;     /* /run/cladding/agent/<command>/<port> */
  char *agent_pidfile; /* agent_dir/bridge.pid */
  char *listener;      /* the value of the helper's listener option */
  const char *socket_name;
  const char *pid_name;
  const char *agent_argv[10];
  const char *stop_argv[9];
};

/* Fills `plan` for `container_port`, whose agent side listens on
 * 127.0.0.1 (inject) or connects to localhost (expose) at that port.
 * Free with forward_plan_free(). */
void forward_plan_init(struct forward_plan *plan, enum forward_command command,
                       const char *root, const char *container,
                       int container_port);
void forward_plan_free(struct forward_plan *plan);

/* The line printed once expose runs (caller frees). */
char *forward_expose_line(const char *bind, int host_port,
                          const char *container, int container_port);
/* The line printed once inject runs (caller frees). */
char *forward_inject_line(const char *container, int container_port,
                          const struct forward_endpoint *endpoint);

#endif
