#!/usr/bin/env python3
"""cladding-bridge supervision: exit statuses, signal forwarding, listener
failures, and reaping as PID 1 in a new PID namespace."""

import ctypes
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean

from bridgetest import (
    Bridge,
    BridgeTestCase,
    TIMEOUT,
    main,
    port_of,
    run_bridge,
)

# A command that reports readiness by creating READY, then waits; SIGTERM
# makes it exit 9 and SIGINT 8.  It kills its own background sleep first,
# so nothing keeps the test's stderr pipe open.
TRAPPING_CMD = textwrap.dedent("""\
    trap 'kill $child 2>/dev/null; exit 9' TERM
    trap 'kill $child 2>/dev/null; exit 8' INT
    sleep 1000 & child=$!
    : > "$READY"
    wait $child
""")


def wait_for_file(path):
    deadline = time.monotonic() + TIMEOUT
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise AssertionError("%s did not appear within %d s" % (path, TIMEOUT))
        time.sleep(0.02)


def process_gone(pid):
    """Return True when pid no longer runs (absent, or a zombie)."""
    try:
        with open("/proc/%d/stat" % pid) as file:
            return file.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def wait_until_gone(pid):
    deadline = time.monotonic() + TIMEOUT
    while not process_gone(pid):
        if time.monotonic() > deadline:
            raise AssertionError("process %d still runs" % pid)
        time.sleep(0.02)


def listening_socket_fd(pid, port):
    """Return the descriptor number of pid's TCP listener on 127.0.0.1:port."""
    local = "0100007F:%04X" % port
    inode = None
    with open("/proc/net/tcp") as file:
        for line in file.readlines()[1:]:
            fields = line.split()
            if fields[1] == local and fields[3] == "0A":
                inode = fields[9]
    if inode is None:
        raise AssertionError("no listener on 127.0.0.1:%d" % port)
    for fd in os.listdir("/proc/%d/fd" % pid):
        if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == "socket:[%s]" % inode:
            return int(fd)
    raise AssertionError("process %d does not hold the listener" % pid)


def break_listener(pid, port):
    """Shut down another process's listening socket, so its accept(2) fails
    with EINVAL: a listener failure that the test can cause on demand.
    Uses pidfd_getfd(2) (Linux 5.6)."""
    fd_number = listening_socket_fd(pid, port)
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(pid)
    try:
        SYS_pidfd_getfd = 438
        fd = libc.syscall(SYS_pidfd_getfd, pidfd, fd_number, 0)
        if fd < 0:
            raise unittest.SkipTest(
                "pidfd_getfd failed: %s" % os.strerror(ctypes.get_errno()))
    finally:
        os.close(pidfd)
    duplicate = socket.socket(fileno=fd)
    duplicate.shutdown(socket.SHUT_RDWR)
    duplicate.close()


class ExitStatusTest(BridgeTestCase):
    def listener_args(self):
        return ["--tcp-to-unix", "127.0.0.1:0=" + self.path("target.sock")]

    def test_cmd_status_is_passed_on(self):
        bridge = self.start(*self.listener_args(), "--", "sh", "-c", "exit 3")
        self.assertEqual(bridge.wait(), 3)
        cmd_exit = bridge.events("cmd-exit")
        self.assertEqual(len(cmd_exit), 1, bridge.stderr())
        self.assertEqual(cmd_exit[0]["status"], "3")
        shutdown = bridge.events("shutdown")
        self.assertEqual(shutdown[0]["reason"], "cmd-exit")
        self.assertEqual(len(bridge.events("listener-stop")), 1)

    def test_signal_n_gives_128_plus_n(self):
        for signum in (signal.SIGKILL, signal.SIGUSR1):
            with self.subTest(signal=signum):
                script = "kill -%d $$" % signum
                bridge = self.start(*self.listener_args(), "--", "sh", "-c", script)
                self.assertEqual(bridge.wait(), 128 + signum)
                cmd_exit = bridge.events("cmd-exit")[0]
                self.assertEqual(cmd_exit["signal"], str(int(signum)))

    def test_cmd_not_found_gives_127(self):
        for cmd in ("cladding-no-such-command", self.path("missing")):
            with self.subTest(cmd=cmd):
                status, _, stderr = run_bridge(["--", cmd])
                self.assertEqual(status, 127, stderr)
                self.assertIn("event=cmd-error cmd=%s" % cmd, stderr)
                self.assertIn("status=127", stderr)

    def test_cmd_not_executable_gives_126(self):
        plain = self.path("plain-file")
        with open(plain, "w") as file:
            file.write("#!/bin/sh\nexit 0\n")
        os.chmod(plain, 0o644)
        for cmd in (plain, self.dir):
            with self.subTest(cmd=cmd):
                status, _, stderr = run_bridge(["--", cmd])
                self.assertEqual(status, 126, stderr)
                self.assertIn("status=126", stderr)

    def test_cmd_error_stops_listeners(self):
        bridge = self.start(*self.listener_args(), "--", self.path("missing"))
        self.assertEqual(bridge.wait(), 127)
        self.assertEqual(len(bridge.events("listener-stop")), 1)

    def test_cmd_without_listeners_is_quiet(self):
        status, stdout, stderr = run_bridge(
            ["--", "sh", "-c", "cat; echo to-stderr >&2; exit 4"], input=b"from stdin")
        self.assertEqual(status, 4)
        self.assertEqual(stdout, "from stdin")
        self.assertEqual(stderr, "to-stderr\n")

    def test_bind_failure_exits_1_before_cmd(self):
        taken = socket.socket()
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        marker = self.path("cmd-ran")
        try:
            status, _, stderr = run_bridge(
                ["--tcp-to-unix", "127.0.0.1:%d=%s" % (taken.getsockname()[1],
                                                       self.path("t.sock")),
                 "--", "touch", marker])
        finally:
            taken.close()
        self.assertEqual(status, 1, stderr)
        self.assertIn("event=listen-error", stderr)
        self.assertIn('error="address already in use"', stderr)
        self.assertFalse(os.path.exists(marker))

    def test_listener_failure_stops_cmd_with_1(self):
        ready = self.path("ready")
        bridge = self.start(*self.listener_args(), "--", "sh", "-c", TRAPPING_CMD,
                            env={"READY": ready})
        port = bridge.tcp_port()
        wait_for_file(ready)

        break_listener(bridge.pid, port)
        # CMD exits 9 on the SIGTERM of the stop, but a listener failure
        # decides the status.
        self.assertEqual(bridge.wait(), 1)
        self.assertEqual(len(bridge.events("listener-error")), 1, bridge.stderr())
        self.assertEqual(bridge.events("cmd-exit")[0]["status"], "9")
        self.assertEqual(bridge.events("shutdown")[0]["reason"], "listener-error")

    def test_cmd_ignoring_sigterm_is_killed(self):
        ready = self.path("ready")
        script = 'trap "" TERM; : > "$READY"; exec sleep 1000'
        bridge = self.start(*self.listener_args(), "--", "sh", "-c", script,
                            env={"READY": ready})
        port = bridge.tcp_port()
        wait_for_file(ready)

        break_listener(bridge.pid, port)
        self.assertEqual(bridge.wait(), 1)
        self.assertEqual(len(bridge.events("cmd-kill")), 1, bridge.stderr())
        self.assertEqual(bridge.events("cmd-exit")[0]["signal"], str(int(signal.SIGKILL)))


class SignalTest(BridgeTestCase):
    def test_without_cmd_sigterm_and_sigint_exit_0(self):
        for signum in (signal.SIGTERM, signal.SIGINT):
            with self.subTest(signal=signum):
                bridge = self.start("--tcp-to-unix", "127.0.0.1:0=" + self.path("t.sock"))
                bridge.wait_event("listen")
                bridge.send_signal(signum)
                self.assertEqual(bridge.wait(), 0)
                self.assertEqual(bridge.events("shutdown")[0]["reason"],
                                 signal.Signals(signum).name)

    def test_sigterm_and_sigint_reach_cmd(self):
        for signum, expected in ((signal.SIGTERM, 9), (signal.SIGINT, 8)):
            with self.subTest(signal=signum):
                ready = self.path("ready-%d" % signum)
                bridge = self.start("--", "sh", "-c", TRAPPING_CMD, env={"READY": ready})
                wait_for_file(ready)
                bridge.send_signal(signum)
                self.assertEqual(bridge.wait(), expected)

    def test_setsid_forwards_to_process_group(self):
        ready = self.path("ready")
        child_file = self.path("child")
        # No trap: SIGTERM to the group ends sh and its background sleep.
        script = 'sleep 1000 & echo $! > "$CHILD"; : > "$READY"; wait'
        bridge = self.start("--setsid", "--", "sh", "-c", script,
                            env={"READY": ready, "CHILD": child_file})
        wait_for_file(ready)
        with open(child_file) as file:
            child = int(file.read())

        bridge.send_signal(signal.SIGTERM)
        self.assertEqual(bridge.wait(), 128 + signal.SIGTERM)
        wait_until_gone(child)


def unshare_works():
    try:
        result = subprocess.run(
            ["unshare", "--pid", "--fork", "--mount-proc", "true"],
            capture_output=True, timeout=TIMEOUT)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


# Runs as CMD under a bridge that is PID 1.  It makes an orphan (a
# grandchild whose parent exits), which the kernel hands to PID 1, and exits
# 0 once the orphan is reaped; 1 when it stays a zombie; 2 when the bridge
# is not its parent PID 1.
ORPHAN_MAKER = textwrap.dedent("""\
    import os, sys, time
    if os.getppid() != 1:
        sys.exit(2)
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:
        grandchild = os.fork()
        if grandchild == 0:
            # Exit once adopted by PID 1, so the zombie belongs to it.
            while os.getppid() != 1:
                time.sleep(0.01)
            os._exit(0)
        os.write(write_end, b"%d" % grandchild)
        os._exit(0)
    os.waitpid(child, 0)
    orphan = int(os.read(read_end, 32))
    deadline = time.monotonic() + 20
    while os.path.exists("/proc/%d" % orphan):
        if time.monotonic() > deadline:
            sys.exit(1)
        time.sleep(0.02)
    sys.exit(0)
""")


@unittest.skipUnless(unshare_works(), "unshare --pid needs CAP_SYS_ADMIN")
class Pid1Test(BridgeTestCase):
    """The bridge as PID 1 of a new PID namespace, as in a container."""

    # --kill-child: the bridge dies with unshare, also when a test kills it.
    UNSHARE = ("unshare", "--pid", "--fork", "--mount-proc", "--kill-child")

    def test_reaps_orphans(self):
        script = self.path("orphan.py")
        with open(script, "w") as file:
            file.write(ORPHAN_MAKER)
        bridge = self.start("--", sys.executable, script, prefix=self.UNSHARE)
        self.assertEqual(bridge.wait(), 0, bridge.stderr())

    def bridge_host_pid(self, unshare_pid):
        """Return the host pid of the bridge: the child of `unshare`."""
        deadline = time.monotonic() + TIMEOUT
        path = "/proc/%d/task/%d/children" % (unshare_pid, unshare_pid)
        while True:
            with open(path) as file:
                children = file.read().split()
            if children:
                return int(children[0])
            if time.monotonic() > deadline:
                raise AssertionError("unshare started no child")
            time.sleep(0.02)

    def test_forwards_sigterm_as_pid1(self):
        ready = self.path("ready")
        bridge = self.start(
            "--tcp-to-unix", "127.0.0.1:0=" + self.path("t.sock"),
            "--", "sh", "-c", TRAPPING_CMD,
            prefix=self.UNSHARE, env={"READY": ready})
        bridge.wait_event("listen")
        wait_for_file(ready)

        os.kill(self.bridge_host_pid(bridge.pid), signal.SIGTERM)
        self.assertEqual(bridge.wait(), 9)
        self.assertEqual(bridge.events("cmd-exit")[0]["status"], "9")

    def test_runs_until_sigterm_without_cmd(self):
        bridge = self.start("--tcp-to-unix", "127.0.0.1:0=" + self.path("t.sock"),
                            prefix=self.UNSHARE)
        bridge.wait_event("listen")
        os.kill(self.bridge_host_pid(bridge.pid), signal.SIGTERM)
        self.assertEqual(bridge.wait(), 0)


if __name__ == "__main__":
    main()
