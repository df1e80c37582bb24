/* cladding-bridge: TCP and Unix socket forwarder and PID-1 supervisor that
 * runs inside cladding's containers.  It is linked statically, so it works
 * in any image. */
#include "config-host.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "bridge.h"
#include "forward.h"
#include "log.h"
#include "pidfile.h"
#include "supervise.h"

static const char usage_text[] =
    "Usage: cladding-bridge [--pidfile PATH] [--setsid] "
    "[[--hold-eof] LISTENER]... [-- CMD [ARG]...]\n"
    "       cladding-bridge --signal SIG --pidfile PATH\n"
    "\n"
    "Forwards TCP and Unix socket connections and supervises CMD.\n"
    "\n"
    "LISTENER:\n"
    "  --tcp-to-unix ADDR:PORT=PATH  accept TCP on ADDR:PORT (PORT 0: any\n"
    "                                free port) and connect each client to\n"
    "                                the Unix socket PATH\n"
    "  --unix-to-tcp PATH=ADDR:PORT  accept on the Unix socket PATH and\n"
    "                                connect each client to ADDR:PORT;\n"
    "                                ADDR may be 'localhost' (127.0.0.1,\n"
    "                                then [::1] when refused)\n"
    "  ADDR is an IPv4 address or a bracketed IPv6 address.\n"
    "\n"
    "Options:\n"
    "  --hold-eof        for the next listener: do not pass the client's\n"
    "                    half-close on; close when the server closes\n"
    "  --setsid          start CMD in a new session and forward signals to\n"
    "                    its process group\n"
    "  --pidfile PATH    once running, write the process group id that\n"
    "                    --signal targets; removed on exit\n"
    "  --signal SIG      send SIG (TERM, INT, HUP, KILL or a number) to the\n"
    "                    process group in the --pidfile PATH, then exit\n"
    "  -h, --help        print this help\n"
    "  --version         print the version\n"
    "\n"
    "Exit status: CMD's status (128+N after signal N, 127 when CMD is not\n"
    "found, 126 when it cannot be executed); without CMD 0 after SIGTERM or\n"
    "SIGINT; 1 after a listener failure; 2 for a usage error.\n";

/* Puts the helper in a process group of its own, so that --signal reaches
 * it and CMD and nothing else.  A session leader (PID 1 in a container, for
 * example) already leads its group. */
static int become_group_leader(void)
{
  if (getpgrp() == getpid())
    return 0;
  if (setpgid(0, 0) < 0) {
    log_message("error: setpgid failed: %s", uv_strerror(-errno));
    return -1;
  }
  return 0;
}

/* Runs the helper in bridge mode and returns its exit status. */
static int bridge_run(const struct bridge_options *options)
{
  struct bridge bridge;
  const char *pidfile_written = NULL;
  int error;
  int status;

  memset(&bridge, 0, sizeof(bridge));
  bridge.options = options;

  /* Writes to a peer that has gone must fail with EPIPE, not kill the
   * helper. */
  signal(SIGPIPE, SIG_IGN);

  if (options->pidfile != NULL && !options->setsid && become_group_leader() < 0)
    return 1;

  error = uv_loop_init(&bridge.loop);
  if (error < 0) {
    log_message("error: failed to create the event loop: %s",
                uv_strerror(error));
    return 1;
  }

  error = supervise_start(&bridge);
  if (error < 0) {
    log_message("error: failed to watch signals: %s", uv_strerror(error));
    bridge_stop(&bridge, 1, "setup-error");
  } else if (forward_start(&bridge) < 0) {
    bridge_stop(&bridge, 1, "listen-error");
  } else if (options->cmd != NULL && (status = supervise_spawn(&bridge)) != 0) {
    bridge_stop(&bridge, status, "cmd-error");
  } else if (options->pidfile != NULL) {
    pid_t pgid = options->setsid ? bridge.cmd_pid : getpid();

    if (pidfile_write(options->pidfile, pgid) < 0)
      bridge_stop(&bridge, 1, "pidfile-error");
    else
      pidfile_written = options->pidfile;
  }

  uv_run(&bridge.loop, UV_RUN_DEFAULT);

  if (pidfile_written != NULL)
    pidfile_remove(pidfile_written);
  forward_free(&bridge);
  error = uv_loop_close(&bridge.loop);
  if (error < 0)
    log_message("error: the event loop still has open handles: %s",
                uv_strerror(error));
  return bridge.exit_status;
}

int main(int argc, char **argv)
{
  struct bridge_options options;
  char error[512];
  int status;

  if (args_parse(argc, argv, &options, error, sizeof(error)) < 0) {
    log_message("%s", error);
    log_message("run 'cladding-bridge --help' for the usage");
    args_free(&options);
    return BRIDGE_EXIT_USAGE;
  }

  if (options.help) {
    fputs(usage_text, stdout);
    status = 0;
  } else if (options.version) {
    printf("cladding-bridge %s\n", PACKAGE_VERSION);
    status = 0;
  } else if (options.signal != 0) {
    status = pidfile_signal(options.pidfile, options.signal);
  } else {
    status = bridge_run(&options);
  }

  args_free(&options);
  return status;
}
