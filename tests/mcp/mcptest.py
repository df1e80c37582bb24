"""Shared helpers of the mcp-run and run-remote integration tests.

The tests start the real programs from the build tree on Unix sockets and
loopback TCP ports inside their own temporary directories.  Time limits
here only stop a hung test; no test passes or fails on speed.
"""

import base64
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

# Seconds after which a wait is treated as a hang.
HANG_GUARD = 60

BUILDDIR = os.environ.get("CLADDING_BUILDDIR", "")
SRCDIR = os.environ.get(
    "CLADDING_SRCDIR",
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
)


def _program(name, override):
    path = os.environ.get(override)
    if path:
        return path
    return os.path.join(BUILDDIR, "helpers", name, name)


MCP_RUN = _program("mcp-run", "MCP_RUN_BIN")
RUN_REMOTE = _program("run-remote", "RUN_REMOTE_BIN")
WRAPPER_DIR = os.path.join(SRCDIR, "helpers")

# The unprivileged user of the permission tests.
NOBODY = 65534


def is_root():
    return os.geteuid() == 0


def which(name):
    return shutil.which(name, path=os.environ.get("PATH", "/usr/bin:/bin"))


SH = which("sh")
ENV = which("env")
HEAD = which("head")
PRINTF = which("printf")
ECHO = which("echo")
SLEEP = which("sleep")
TRUE = which("true")
PWD = which("pwd")


def wait_until(predicate, what, timeout=HANG_GUARD):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


def pid_alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except FileNotFoundError:
        return False
    state = stat[stat.rindex(")") + 2]
    return state not in "ZX"


def router_policy(allowed, extra=""):
    """A module that allows requests whose command is a key of allowed."""
    table = json.dumps({path: True for path in allowed})
    return (
        "package sandbox.main\n\n"
        "default allow := false\n\n"
        "allowed := %s\n\n"
        "allow if {\n  allowed[input.command]\n}\n%s" % (table, extra)
    )


def write_file(path, text, mode=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = text.encode() if isinstance(text, str) else text
    with open(path, "wb") as f:
        f.write(data)
    if mode is not None:
        os.chmod(path, mode)


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=HANG_GUARD):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        self.sock = sock


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def header(self, name):
        return self.headers.get(name.lower())

    def events(self):
        return [json.loads(line) for line in self.body.split(b"\n") if line]


def decode_output(events, name):
    return b"".join(
        base64.b64decode(e["data_b64"]) for e in events if e["event"] == name
    )


class Server:
    """One mcp-run process with its log in a file."""

    def __init__(
        self,
        tmp,
        allowed=None,
        policy_dir="default",
        uds=True,
        env=None,
        cwd=None,
        user=None,
        bind_addr=None,
    ):
        self.tmp = tmp
        self.user = user
        if policy_dir == "default":
            policy_dir = os.path.join(tmp, "policy")
            write_file(
                os.path.join(policy_dir, "main.rego"), router_policy(allowed or [])
            )
        self.policy_dir = policy_dir
        self.cwd = cwd or tmp
        self.socket_path = os.path.join(tmp, "run", "run.sock") if uds else None
        if self.socket_path:
            os.makedirs(os.path.dirname(self.socket_path), exist_ok=True)
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": "/home/test-user",
            "LANG": "C.UTF-8",
        }
        for name in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if name in os.environ:
                self.env[name] = os.environ[name]
        if policy_dir is not None:
            self.env["POLICY_DIR"] = policy_dir
        if self.socket_path:
            self.env["MCP_BIND_UDS"] = self.socket_path
        else:
            self.env["MCP_BIND_ADDR"] = bind_addr or "127.0.0.1:0"
        self.env.update(env or {})
        self.log_path = os.path.join(tmp, "mcp-run-%d.log" % id(self))
        self.stdout_path = self.log_path + ".stdout"
        self.proc = None
        self.address = None

    def command(self):
        if self.user is None:
            return [MCP_RUN]
        # The build tree may sit where the user cannot reach it.
        program = os.path.join(self.tmp, "bin", "mcp-run")
        if not os.path.exists(program):
            os.makedirs(os.path.dirname(program), exist_ok=True)
            shutil.copy(MCP_RUN, program)
        os.chmod(os.path.dirname(program), 0o755)
        return [
            "setpriv",
            "--reuid=%d" % self.user,
            "--regid=%d" % self.user,
            "--clear-groups",
            program,
        ]

    def start(self, wait=True):
        self.log_file = open(self.log_path, "wb")
        self.stdout_file = open(self.stdout_path, "wb")
        self.proc = subprocess.Popen(
            self.command(),
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self.stdout_file,
            stderr=self.log_file,
        )
        if wait:
            self.wait_listening()
        return self

    def wait_listening(self):
        def listening():
            if self.proc.poll() is not None:
                raise AssertionError(
                    "mcp-run exited with %d:\n%s" % (self.proc.returncode, self.log())
                )
            match = re.search(r"event=listen address=(\S+)", self.log())
            return match.group(1) if match else None

        self.address = wait_until(listening, "mcp-run to listen")
        if not self.socket_path:
            host, port = self.address.rsplit(":", 1)
            self.host = host.strip("[]")
            self.port = int(port)

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stdout(self):
        with open(self.stdout_path, "rb") as f:
            return f.read()

    def connection(self, timeout=HANG_GUARD):
        if self.socket_path:
            return UnixHTTPConnection(self.socket_path, timeout=timeout)
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def raw_socket(self):
        if self.socket_path:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(self.socket_path)
        else:
            sock = socket.create_connection((self.host, self.port))
        sock.settimeout(HANG_GUARD)
        return sock

    def url(self, path="/raw"):
        return "http://%s%s" % (self.address, path)

    def request(self, method, path, body=None, headers=None, conn=None):
        own = conn is None
        conn = conn or self.connection()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            return Response(
                resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
            )
        finally:
            if own:
                conn.close()

    def post_json(self, path, doc, headers=None, conn=None):
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        body = doc if isinstance(doc, (bytes, str)) else json.dumps(doc)
        return self.request("POST", path, body, h, conn=conn)

    def check(self, doc):
        return self.post_json("/check", doc)

    def raw(self, doc):
        return self.post_json("/raw", doc)

    def signal(self, signum):
        self.proc.send_signal(signum)

    def wait(self, timeout=HANG_GUARD):
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.log_file.close()
            self.stdout_file.close()

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            if self.proc is not None:
                self.log_file.close()
                self.stdout_file.close()
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        return self.wait()


def run_mcp_run(tmp, env, cwd=None, timeout=HANG_GUARD):
    """Runs mcp-run expecting a startup failure; returns (status, stderr)."""
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    for name in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if name in os.environ:
            base[name] = os.environ[name]
    base.update(env)
    proc = subprocess.run(
        [MCP_RUN],
        cwd=cwd or tmp,
        env=base,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
    )
    return proc.returncode, proc.stderr.decode("utf-8", "replace")


class TestCase(unittest.TestCase):
    """Gives each test a temporary directory and stops its servers."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mcp-test-")
        os.chmod(self.tmp, 0o755)
        self.servers = []

    def tearDown(self):
        for server in self.servers:
            status = server.stop()
            if status not in (0, None) and not getattr(server, "expect_failure", False):
                self.fail(
                    "mcp-run exited with %s:\n%s" % (status, server.log())
                )
        shutil.rmtree(self.tmp, ignore_errors=True)

    def server(self, **kwargs):
        server = Server(self.tmp, **kwargs)
        self.servers.append(server)
        return server.start()

    def assert_contains(self, text, part):
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        self.assertIn(part, text)
