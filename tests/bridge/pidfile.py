#!/usr/bin/env python3
"""cladding-bridge pid files: their content with and without --setsid, and
--signal on live, missing, stale, malformed and unreadable files, FIFOs
and symbolic links."""

import os
import signal
import subprocess
import sys
import textwrap
import time

sys.dont_write_bytecode = True  # keep the source tree clean

from bridgetest import BridgeTestCase, TIMEOUT, main, run_bridge

# Records its pid in $PIDS, reports readiness, and waits; SIGTERM makes it
# exit 5.
RECORDING_CMD = textwrap.dedent("""\
    echo $$ > "$PIDS"
    trap 'kill $child 2>/dev/null; exit 5' TERM
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


def read_pid(path):
    with open(path) as file:
        return int(file.read())


class PidfileContentTest(BridgeTestCase):
    def start_recording(self, *options):
        self.pidfile = self.path("bridge.pid")
        self.ready = self.path("ready")
        self.pids = self.path("cmd.pid")
        bridge = self.start("--pidfile", self.pidfile, *options,
                            "--", "sh", "-c", RECORDING_CMD,
                            env={"READY": self.ready, "PIDS": self.pids})
        wait_for_file(self.ready)
        wait_for_file(self.pidfile)
        return bridge

    def test_without_setsid_records_own_group(self):
        bridge = self.start_recording()
        with open(self.pidfile) as file:
            self.assertEqual(file.read(), "%d\n" % bridge.pid)
        # The helper leads a new group, and CMD is in it.
        self.assertEqual(os.getpgid(bridge.pid), bridge.pid)
        self.assertEqual(os.getpgid(read_pid(self.pids)), bridge.pid)
        self.assertNotEqual(os.getpgid(0), bridge.pid)

        bridge.send_signal(signal.SIGTERM)
        self.assertEqual(bridge.wait(), 5)
        self.assertFalse(os.path.exists(self.pidfile))

    def test_with_setsid_records_cmd_group(self):
        bridge = self.start_recording("--setsid")
        cmd_pid = read_pid(self.pids)
        with open(self.pidfile) as file:
            self.assertEqual(file.read(), "%d\n" % cmd_pid)
        # CMD leads a new session and group; the helper stays where it was.
        self.assertEqual(os.getsid(cmd_pid), cmd_pid)
        self.assertEqual(os.getpgid(cmd_pid), cmd_pid)
        self.assertEqual(os.getpgid(bridge.pid), os.getpgid(0))

        bridge.send_signal(signal.SIGTERM)
        self.assertEqual(bridge.wait(), 5)
        self.assertFalse(os.path.exists(self.pidfile))

    def test_without_cmd_written_after_listen(self):
        pidfile = self.path("bridge.pid")
        bridge = self.start("--pidfile", pidfile,
                            "--tcp-to-unix", "127.0.0.1:0=" + self.path("t.sock"))
        bridge.wait_event("listen")
        wait_for_file(pidfile)
        self.assertEqual(read_pid(pidfile), bridge.pid)
        self.stop(bridge)
        self.assertFalse(os.path.exists(pidfile))

    def test_unwritable_pidfile_stops_cmd(self):
        pidfile = self.path("no-such-dir/bridge.pid")
        status, _, stderr = run_bridge(["--pidfile", pidfile, "--", "sleep", "1000"])
        # CMD sleeps for 1000 s, so the exit shows that it was stopped.
        self.assertEqual(status, 1)
        self.assertIn("event=pidfile-error pidfile=%s" % pidfile, stderr)

    def test_no_pidfile_when_cmd_is_missing(self):
        pidfile = self.path("bridge.pid")
        status, _, _ = run_bridge(["--pidfile", pidfile, "--setsid", "--",
                                   self.path("missing")])
        self.assertEqual(status, 127)
        self.assertFalse(os.path.exists(pidfile))
        self.assertEqual(os.listdir(self.dir), [])


class SignalModeTest(BridgeTestCase):
    def test_signal_stops_setsid_cmd(self):
        bridge = PidfileContentTest.start_recording(self, "--setsid")
        status, stdout, stderr = run_bridge(["--signal", "TERM", "--pidfile",
                                             self.pidfile])
        self.assertEqual((status, stdout, stderr), (0, "", ""))
        self.assertEqual(bridge.wait(), 5)

    def test_signal_number_and_prefix(self):
        for name in ("SIGTERM", "15"):
            with self.subTest(signal=name):
                bridge = PidfileContentTest.start_recording(self)
                status, _, stderr = run_bridge(["--signal", name, "--pidfile",
                                                self.pidfile])
                self.assertEqual(status, 0, stderr)
                self.assertEqual(bridge.wait(), 5)
                os.unlink(self.ready)

    def test_signal_reaches_helper_group(self):
        bridge = PidfileContentTest.start_recording(self)
        status, stdout, stderr = run_bridge(["--signal", "TERM", "--pidfile",
                                             self.pidfile])
        self.assertEqual((status, stdout, stderr), (0, "", ""))
        self.assertEqual(bridge.wait(), 5)

    def test_missing_file_exits_0(self):
        status, stdout, stderr = run_bridge(
            ["--signal", "TERM", "--pidfile", self.path("absent.pid")])
        self.assertEqual((status, stdout, stderr), (0, "", ""))

    def test_stale_file_exits_0(self):
        finished = subprocess.Popen(["true"])
        finished.wait()
        pidfile = self.path("stale.pid")
        with open(pidfile, "w") as file:
            file.write("%d\n" % finished.pid)
        status, _, stderr = run_bridge(["--signal", "TERM", "--pidfile", pidfile])
        self.assertEqual(status, 0, stderr)

    def test_malformed_file_exits_1(self):
        pidfile = self.path("bad.pid")
        for content in ("", "abc\n", "-5\n", "0\n", "12 34\n", "1x\n",
                        "99999999999\n", "1" * 40 + "\n", "12\0\n"):
            with self.subTest(content=content):
                with open(pidfile, "w") as file:
                    file.write(content)
                status, _, stderr = run_bridge(["--signal", "TERM", "--pidfile",
                                                pidfile])
                self.assertEqual(status, 1)
                self.assertIn("event=signal-error pidfile=%s" % pidfile, stderr)
                self.assertIn("malformed pid file", stderr)

    def test_unreadable_file_exits_1(self):
        # A directory opens, but it is no pid file, also for root.
        status, _, stderr = run_bridge(["--signal", "TERM", "--pidfile", self.dir])
        self.assertEqual(status, 1)
        self.assertIn("pid file is not a regular file", stderr)

    def test_fifo_does_not_block(self):
        # A process that can write the directory may plant a FIFO, which a
        # plain read would wait on for good.
        fifo = self.path("planted.pid")
        os.mkfifo(fifo)
        status, _, stderr = run_bridge(["--signal", "TERM", "--pidfile", fifo])
        self.assertEqual(status, 1)
        self.assertIn("pid file is not a regular file", stderr)

    def test_symlink_is_not_followed(self):
        # The link points at a real pid file of a live process group; it
        # must survive because the link is refused.
        victim = subprocess.Popen(["sleep", "100"], start_new_session=True)
        self.addCleanup(victim.wait)
        self.addCleanup(victim.kill)
        target = self.path("real.pid")
        link = self.path("link.pid")
        with open(target, "w") as file:
            file.write("%d\n" % victim.pid)
        os.symlink(target, link)
        status, _, stderr = run_bridge(["--signal", "TERM", "--pidfile", link])
        self.assertEqual(status, 1)
        self.assertIn("event=signal-error pidfile=%s" % link, stderr)
        self.assertIsNone(victim.poll())


if __name__ == "__main__":
    main()
