/* Runtime state of one cladding-bridge process, shared by the forwarding
 * and the supervision code.  Everything runs on one libuv loop in one
 * thread. */
#ifndef CLADDING_BRIDGE_BRIDGE_H
#define CLADDING_BRIDGE_BRIDGE_H

#include <stdbool.h>
#include <sys/types.h>

#include <uv.h>

#include "args.h"

struct listener;
struct connection;

struct bridge {
  uv_loop_t loop;
  const struct bridge_options *options;

  /* Forwarding (forward.c). */
  struct listener *listeners; /* one per options->listeners entry */
  size_t n_listeners;
  struct connection *connections; /* every open connection, linked */

  /* Supervision (supervise.c). */
  uv_signal_t sigterm;
  uv_signal_t sigint;
  uv_signal_t sigchld;
  uv_timer_t kill_timer; /* SIGKILL to CMD 5 s after its SIGTERM */
  bool supervisor_open;  /* the four handles above are initialised */
  pid_t cmd_pid;         /* 0 without CMD */
  bool cmd_running;      /* CMD is started and not yet reaped */
  bool stopping;         /* bridge_stop() ran */
  int exit_status;       /* set by bridge_stop() */
};

/* Stops everything: closes the listeners and connections, sends SIGTERM to
 * a CMD still running (SIGKILL 5 s later) and lets the loop end once CMD is
 * reaped.  The process exits with `status`.  Later calls do nothing, so the
 * first cause of a stop decides the status.  `reason` names the cause in
 * the log. */
void bridge_stop(struct bridge *bridge, int status, const char *reason);

/* Lifecycle lines (CMD exit, shutdown) are logged only by a bridge with
 * listeners: as the wrapper of `cladding run` the helper must print nothing
 * of its own. */
bool bridge_logs_lifecycle(const struct bridge *bridge);

#endif
