/* Agent checks and the forwarding session shared by expose and inject. */
#include "config-host.h"

#include <stdio.h>
#include <stdlib.h>

#include "forward_common.h"

/* Fails unless the agent container has the mount at `destination`, which
 * runtimes created by an older cladding lack. */
static int check_mount(struct cladding_context *ctx,
                       const struct cladding_services *svc, const char *command,
                       const char *container)
{
  char destination[64];
  int found = 0;
  int status;

  snprintf(destination, sizeof(destination), "/run/cladding/agent/%s", command);
  status = svc->container_has_mount(ctx, container, destination, &found);
  if (status != 0)
    return status;
  if (found)
    return 0;
  svc->log(ctx, CLADDING_LOG_ERROR,
           "target container '%s' is missing %s for project '%s'", container,
           destination, svc->config_name(ctx));
  svc->log(ctx, CLADDING_LOG_HINT, "run 'cladding down', then 'cladding up'");
  return svc->fail(ctx, 1, "missing %s mount", command);
}

int forward_command_run(struct cladding_context *ctx,
                        const struct cladding_services *svc,
                        enum forward_command command, int container_port,
                        const char *host, int port, const char *line)
{
  const char *word = command == FORWARD_EXPOSE ? "expose" : "inject";
  const char *container;
  struct cladding_forward_spec spec = {0};
  struct forward_plan plan;
  int status;

  if (!CLADDING_HAS_SERVICE(svc, forward_run)) {
    svc->log(ctx, CLADDING_LOG_ERROR,
             "this cladding core has no bridge service; install the "
             "cladding that matches the %s plugin",
             word);
    return svc->fail(ctx, 1, "bridge service not available");
  }
  status = svc->require_running(ctx, CLADDING_COMPONENT_AGENT);
  if (status != 0)
    return status;
  container = svc->container_name(ctx, CLADDING_COMPONENT_AGENT);
  status = check_mount(ctx, svc, word, container);
  if (status != 0)
    return status;

  forward_plan_init(&plan, command, svc->project_root(ctx), container,
                    container_port);
  spec.size = sizeof(spec);
  spec.kind = command == FORWARD_EXPOSE ? CLADDING_FORWARD_TCP_TO_UNIX
                                        : CLADDING_FORWARD_UNIX_TO_TCP;
  spec.command = word;
  spec.dir = plan.dir;
  spec.socket_name = plan.socket_name;
  spec.pid_name = plan.pid_name;
  spec.container_port = container_port;
  spec.host = host;
  spec.port = port;
  spec.agent_argv = plan.agent_argv;
  spec.stop_argv = plan.stop_argv;
  spec.ready_line = line;
  status = svc->forward_run(ctx, &spec);
  forward_plan_free(&plan);
  return status;
}
