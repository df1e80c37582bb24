"""Shared helpers of the cladding-bridge integration tests.

The tests start the real helper on real sockets in a private temporary
directory and talk to it over loopback TCP and Unix sockets.  Every wait has
a generous limit (TIMEOUT) so that a hang fails the test instead of blocking
`make check`; no limit is a pass condition.
"""

import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

# Limit of every wait, in seconds.
TIMEOUT = 30.0

LOG_PREFIX = "cladding-bridge: "

SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")


def bridge_path():
    """Return the helper under test: $CLADDING_BRIDGE, else the build tree's."""
    path = os.environ.get("CLADDING_BRIDGE")
    if path:
        return path
    builddir = os.environ.get("CLADDING_BUILDDIR")
    if not builddir:
        sys.exit("set CLADDING_BUILDDIR (make check does) or CLADDING_BRIDGE")
    return os.path.join(builddir, "helpers", "cladding-bridge", "cladding-bridge")


def parse_log_line(line):
    """Return the fields of an event line as a dict, or None for other lines."""
    if not line.startswith(LOG_PREFIX + "event="):
        return None
    fields = {}
    text = line[len(LOG_PREFIX):]
    i = 0
    while i < len(text):
        if text[i] == " ":
            i += 1
            continue
        equals = text.index("=", i)
        key = text[i:equals]
        i = equals + 1
        if i < len(text) and text[i] == '"':
            i += 1
            value = []
            while text[i] != '"':
                if text[i] == "\\":
                    escaped = text[i + 1]
                    if escaped == "n":
                        value.append("\n")
                        i += 2
                    elif escaped == "x":
                        value.append(chr(int(text[i + 2:i + 4], 16)))
                        i += 4
                    else:
                        value.append(escaped)
                        i += 2
                else:
                    value.append(text[i])
                    i += 1
            i += 1
            fields[key] = "".join(value)
        else:
            end = text.find(" ", i)
            if end < 0:
                end = len(text)
            fields[key] = text[i:end]
            i = end
    return fields


def port_of(address):
    """Return the port of "127.0.0.1:80" or "[::1]:80"."""
    return int(address.rsplit(":", 1)[1])


def helper_environment(extra=None):
    environment = dict(os.environ)
    # Sanitizer builds stop at the first report, so the test fails on it.
    environment.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
    environment.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    if extra:
        environment.update(extra)
    return environment


class Bridge:
    """One running cladding-bridge with its stderr collected line by line."""

    def __init__(self, args, prefix=(), env=None, preexec_fn=None, stdout=None):
        self.argv = list(prefix) + [bridge_path()] + [str(a) for a in args]
        self.lines = []
        self.closed = False
        self.condition = threading.Condition()
        self.process = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=stdout if stdout is not None else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=helper_environment(env),
            preexec_fn=preexec_fn,
        )
        self.pid = self.process.pid
        self.reader = threading.Thread(target=self._read_stderr, daemon=True)
        self.reader.start()

    def _read_stderr(self):
        for raw in self.process.stderr:
            with self.condition:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self.condition.notify_all()
        with self.condition:
            self.closed = True
            self.condition.notify_all()

    def stderr(self):
        with self.condition:
            return "\n".join(self.lines)

    def events(self, event, **match):
        """Return the logged events named `event` whose fields match."""
        with self.condition:
            return self.events_locked(event, match)

    def wait_event(self, event, count=1, **match):
        """Wait until `count` matching events are logged; return the last."""
        deadline = time.monotonic() + TIMEOUT
        with self.condition:
            while True:
                found = self.events_locked(event, match)
                if len(found) >= count:
                    return found[count - 1]
                if self.closed:
                    raise AssertionError(
                        "cladding-bridge exited before logging event=%s %s; "
                        "stderr:\n%s" % (event, match, "\n".join(self.lines)))
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        "timed out waiting for event=%s %s; stderr:\n%s"
                        % (event, match, "\n".join(self.lines)))
                self.condition.wait(remaining)

    def events_locked(self, event, match):
        found = []
        for line in self.lines:
            fields = parse_log_line(line)
            if fields is None or fields.get("event") != event:
                continue
            if all(fields.get(k) == v for k, v in match.items()):
                found.append(fields)
        return found

    def tcp_port(self, index=0):
        """Return the port of the index-th TCP listener, once it listens."""
        listen = self.wait_event("listen", count=index + 1, kind="tcp")
        return port_of(listen["addr"])

    def send_signal(self, signum):
        self.process.send_signal(signum)

    def wait(self):
        """Wait for the exit and return the status; fail on sanitizer output."""
        try:
            status = self.process.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError("cladding-bridge did not exit within %d s; "
                                 "stderr:\n%s" % (TIMEOUT, self.stderr()))
        self.reader.join(TIMEOUT)
        check_sanitizers(self.stderr())
        return status

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.reader.join(TIMEOUT)
        # Closing the pipe while the reader still blocks on it would
        # deadlock; a process that outlived the helper holds it open.
        if not self.reader.is_alive():
            self.process.stderr.close()


def wait_for_signal_handler(pid, signum):
    """Wait until process pid catches signum, as /proc/PID/status shows."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        caught = 0
        with open("/proc/%d/status" % pid) as file:
            for line in file:
                if line.startswith("SigCgt:"):
                    caught = int(line.split()[1], 16)
        if caught & (1 << (signum - 1)):
            return
        if time.monotonic() > deadline:
            raise AssertionError("process %d does not catch signal %d" % (pid, signum))
        time.sleep(0.01)


def check_sanitizers(text):
    for marker in SANITIZER_MARKERS:
        if marker in text:
            raise AssertionError("sanitizer report in stderr:\n" + text)


def run_bridge(args, **kwargs):
    """Run the helper to completion; return (status, stdout, stderr)."""
    if "input" not in kwargs:
        kwargs["stdin"] = subprocess.DEVNULL
    completed = subprocess.run(
        [bridge_path()] + [str(a) for a in args],
        capture_output=True,
        timeout=TIMEOUT,
        env=helper_environment(kwargs.pop("env", None)),
        **kwargs,
    )
    stderr = completed.stderr.decode(errors="replace")
    check_sanitizers(stderr)
    return completed.returncode, completed.stdout.decode(errors="replace"), stderr


class Server:
    """A listening socket whose connections run handler(conn) in threads.

    Exceptions raised by the handler are kept and re-raised by check().
    """

    def __init__(self, family, address, handler):
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        if family != socket.AF_UNIX:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(address)
        self.socket.listen(128)
        self.handler = handler
        self.errors = []
        self.connections = 0
        self.lock = threading.Lock()
        self.threads = []
        self.thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.thread.start()

    @property
    def port(self):
        return self.socket.getsockname()[1]

    def _accept_loop(self):
        while True:
            try:
                conn, _ = self.socket.accept()
            except OSError:
                return
            conn.settimeout(TIMEOUT)
            with self.lock:
                self.connections += 1
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _serve(self, conn):
        try:
            self.handler(conn)
        except Exception as error:  # recorded for check()
            with self.lock:
                self.errors.append(error)
        finally:
            conn.close()

    def join(self):
        for thread in list(self.threads):
            thread.join(TIMEOUT)

    def check(self):
        self.join()
        if self.errors:
            raise self.errors[0]

    def close(self):
        try:
            self.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.socket.close()


def recv_all(conn):
    """Read until EOF and return the bytes."""
    chunks = []
    while True:
        data = conn.recv(1 << 20)
        if not data:
            return b"".join(chunks)
        chunks.append(data)


def recv_exactly(conn, length):
    chunks = []
    while length > 0:
        data = conn.recv(min(length, 1 << 20))
        if not data:
            raise AssertionError("EOF with %d bytes still expected" % length)
        chunks.append(data)
        length -= len(data)
    return b"".join(chunks)


def peer_sent_eof(conn, wait):
    """Return True when conn is readable at EOF within `wait` seconds.

    Used only to show that an EOF did NOT arrive: a slow machine can make
    this return False late, never True by mistake.
    """
    readable, _, _ = select.select([conn], [], [], wait)
    if not readable:
        return False
    return conn.recv(1, socket.MSG_PEEK) == b""


def connect_tcp(port, host="127.0.0.1"):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    conn = socket.socket(family, socket.SOCK_STREAM)
    conn.settimeout(TIMEOUT)
    try:
        conn.connect((host, port))
    except OSError:
        conn.close()
        raise
    return conn


def connect_unix(path):
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(TIMEOUT)
    try:
        conn.connect(path)
    except OSError:
        conn.close()
        raise
    return conn


def pattern(length, seed=0):
    """Return `length` bytes that differ by offset, to catch reordering."""
    block = bytes((i * 7 + seed) & 0xFF for i in range(251))
    return (block * (length // len(block) + 1))[:length]


class BridgeTestCase(unittest.TestCase):
    """A test with a private directory and cleanup of what it started."""

    def setUp(self):
        base = os.environ.get("TMPDIR", "/tmp")
        # Unix socket paths are limited to 107 bytes, so keep the base short.
        if len(base) > 40:
            base = "/tmp"
        self.dir = tempfile.mkdtemp(prefix="cb-", dir=base)
        self.bridges = []
        self.servers = []

    def tearDown(self):
        for bridge in self.bridges:
            bridge.kill()
        for server in self.servers:
            server.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def start(self, *args, **kwargs):
        bridge = Bridge(args, **kwargs)
        self.bridges.append(bridge)
        return bridge

    def server(self, family, address, handler):
        server = Server(family, address, handler)
        self.servers.append(server)
        return server

    def tcp_server(self, handler, host="127.0.0.1"):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        return self.server(family, (host, 0), handler)

    def unix_server(self, name, handler):
        return self.server(socket.AF_UNIX, self.path(name), handler)

    def stop(self, bridge, signum=signal.SIGTERM):
        """Stop a bridge without CMD and check its exit status 0."""
        bridge.send_signal(signum)
        self.assertEqual(bridge.wait(), 0, bridge.stderr())


def main():
    """Run the tests of the calling module and print a summary line."""
    program = unittest.main(exit=False, verbosity=2)
    result = program.result
    failed = len(result.failures) + len(result.errors)
    skipped = len(result.skipped)
    passed = result.testsRun - failed - skipped
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    sys.exit(0 if result.wasSuccessful() else 1)
