/* Argument grammar, socket paths and podman argv of expose and inject. */
#include "config-host.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forward_args.h"

static char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *format(const char *fmt, ...)
{
  char *out = NULL;
  va_list ap;

  va_start(ap, fmt);
  if (vasprintf(&out, fmt, ap) < 0)
    abort();
  va_end(ap);
  return out;
}

int forward_parse_port(const char *text)
{
  long value = 0;

  if (text[0] == '\0' || strlen(text) > 5)
    return -1;
  for (const char *p = text; *p; p++) {
    if (*p < '0' || *p > '9')
      return -1;
    value = value * 10 + (*p - '0');
  }
  return value >= 1 && value <= 65535 ? (int)value : -1;
}

bool forward_valid_bind(const char *text)
{
  unsigned char addr[16];

  return inet_pton(AF_INET, text, addr) == 1 ||
         inet_pton(AF_INET6, text, addr) == 1;
}

static bool host_char(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

int forward_parse_endpoint(const char *raw, struct forward_endpoint *out,
                           char *reason, size_t reason_size)
{
  const char *colon = strchr(raw, ':');
  const char *port_text = raw;
  size_t host_len;

  memset(out, 0, sizeof(*out));
  if (raw[0] == '\0') {
    snprintf(reason, reason_size, "inject host endpoint cannot be empty");
    return -1;
  }
  strcpy(out->host, "127.0.0.1");
  if (colon != NULL) {
    host_len = (size_t)(colon - raw);
    port_text = colon + 1;
    if (host_len == 0 || host_len >= sizeof(out->host))
      goto invalid;
    for (size_t i = 0; i < host_len; i++) {
      if (!host_char(raw[i]))
        goto invalid;
    }
    memcpy(out->host, raw, host_len);
    out->host[host_len] = '\0';
  }
  /* Whitespace, ',' and a second ':' all fail here, as non-digits. */
  out->port = forward_parse_port(port_text);
  if (out->port < 0)
    goto invalid;
  return 0;

invalid:
  snprintf(reason, reason_size, "invalid inject host endpoint '%s'", raw);
  return -1;
}

void forward_plan_init(struct forward_plan *plan, enum forward_command command,
                       const char *root, const char *container,
                       int container_port)
{
  bool expose = command == FORWARD_EXPOSE;
  const char *word = expose ? "expose" : "inject";
  char *agent_socket;
  size_t n = 0;

  memset(plan, 0, sizeof(*plan));
  plan->socket_name = expose ? "agent.sock" : "host.sock";
  plan->pid_name = "bridge.pid";
  plan->dir =
      format("%s/runtime/sockets/agent/%s/%d", root, word, container_port);
  plan->agent_dir = format("/run/cladding/agent/%s/%d", word, container_port);
  plan->agent_pidfile = format("%s/%s", plan->agent_dir, plan->pid_name);
  agent_socket = format("%s/%s", plan->agent_dir, plan->socket_name);
  if (expose)
    plan->listener = format("%s=localhost:%d", agent_socket, container_port);
  else
    plan->listener = format("127.0.0.1:%d=%s", container_port, agent_socket);
  free(agent_socket);

  plan->agent_argv[n++] = "podman";
  plan->agent_argv[n++] = "exec";
  plan->agent_argv[n++] = container;
  plan->agent_argv[n++] = FORWARD_BRIDGE;
  plan->agent_argv[n++] = "--pidfile";
  plan->agent_argv[n++] = plan->agent_pidfile;
  plan->agent_argv[n++] = expose ? "--unix-to-tcp" : "--tcp-to-unix";
  plan->agent_argv[n++] = plan->listener;
  plan->agent_argv[n] = NULL;

  n = 0;
  plan->stop_argv[n++] = "podman";
  plan->stop_argv[n++] = "exec";
  plan->stop_argv[n++] = container;
  plan->stop_argv[n++] = FORWARD_BRIDGE;
  plan->stop_argv[n++] = "--signal";
  plan->stop_argv[n++] = "TERM";
  plan->stop_argv[n++] = "--pidfile";
  plan->stop_argv[n++] = plan->agent_pidfile;
  plan->stop_argv[n] = NULL;
}

void forward_plan_free(struct forward_plan *plan)
{
  free(plan->dir);
  free(plan->agent_dir);
  free(plan->agent_pidfile);
  free(plan->listener);
  memset(plan, 0, sizeof(*plan));
}

char *forward_expose_line(const char *bind, int host_port,
                          const char *container, int container_port)
{
  bool ipv6 = strchr(bind, ':') != NULL;

  return format("expose: %s%s%s:%d -> %s 127.0.0.1:%d (Ctrl-C to stop)",
                ipv6 ? "[" : "", bind, ipv6 ? "]" : "", host_port, container,
                container_port);
}

char *forward_inject_line(const char *container, int container_port,
                          const struct forward_endpoint *endpoint)
{
  return format("inject: %s 127.0.0.1:%d -> %s:%d (Ctrl-C to stop)", container,
                container_port, endpoint->host, endpoint->port);
}
