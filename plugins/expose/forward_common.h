/* The steps that expose and inject share once their arguments are valid:
 * the agent checks and the forwarding session of the core. */
#ifndef CLADDING_FORWARD_COMMON_H
#define CLADDING_FORWARD_COMMON_H

#include <cladding/plugin.h>

#include "forward_args.h"

/* Checks that the agent container runs and has the socket mount of
 * `command`, then runs the session: TCP `host`:`port` is the listen
 * address (expose) or the target (inject).  `line` is printed once both
 * sides listen.  Returns the exit status. */
int forward_command_run(struct cladding_context *ctx,
                        const struct cladding_services *svc,
                        enum forward_command command, int container_port,
                        const char *host, int port, const char *line);

#endif
