#!/usr/bin/env python3
"""run-remote and the wrapper scripts: argument grammar, transport,
stream replay and exit codes, against a scripted fake server and against
mcp-run."""

import sys

# mcptest is imported from the source tree, which must stay clean.
sys.dont_write_bytecode = True

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import unittest

from mcptest import (
    ENV,
    HANG_GUARD,
    RUN_REMOTE,
    SH,
    WRAPPER_DIR,
    TestCase,
    pid_alive,
    wait_until,
)


def chunked(*pieces):
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


def ndjson_response(*pieces):
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunked(*pieces)
    )


def json_response(status, reason, doc):
    body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    return (
        b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n%s"
        % (status, reason.encode(), len(body), body)
    )


def event(name, **fields):
    doc = {"event": name}
    doc.update(fields)
    return json.dumps(doc).encode() + b"\n"


def b64(data):
    return base64.b64encode(data).decode()


class FakeServer:
    """Sends one scripted response on every connection and records the
    requests it received."""

    def __init__(self, response, unix_path=None):
        self.response = response
        self.requests = []
        if unix_path:
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.bind(unix_path)
        else:
            self.sock = socket.socket()
            self.sock.bind(("127.0.0.1", 0))
            self.port = self.sock.getsockname()[1]
        self.sock.listen()
        self.sock.settimeout(HANG_GUARD)
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(HANG_GUARD)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                lines = head.decode().split("\r\n")
                headers = dict(
                    (k.lower(), v.strip())
                    for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l)
                )
                length = int(headers.get("content-length", "0"))
                while len(body) < length:
                    body += conn.recv(65536)
                method, target, _ = lines[0].split(" ")
                self.requests.append(
                    {"method": method, "target": target, "headers": headers, "body": body}
                )
                response = self.response
                if callable(response):
                    response(conn)
                else:
                    conn.sendall(response)

    def url(self, path="/raw"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def close(self):
        self.sock.close()


class RunRemoteTest(TestCase):
    def run_remote(self, args, env=None, cwd=None, program=None, stdout=subprocess.PIPE):
        full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        for name in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if name in os.environ:
                full_env[name] = os.environ[name]
        full_env.update(env or {})
        return subprocess.run(
            [program or RUN_REMOTE] + args,
            env=full_env,
            cwd=cwd or self.tmp,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.PIPE,
            timeout=HANG_GUARD,
        )

    def fake(self, response, unix_path=None):
        server = FakeServer(response, unix_path)
        self.addCleanup(server.close)
        return server

    def expect_error(self, args, env, message):
        proc = self.run_remote(args, env)
        self.assertEqual(proc.returncode, 125, proc.stderr)
        self.assertEqual(proc.stderr.decode(), message + "\n")
        return proc

    # Command line

    def test_missing_delimiter(self):
        self.expect_error(
            ["echo", "hi"], {}, "missing required `--` delimiter before remote executable"
        )

    def test_argument_errors(self):
        env = {"RUN_REMOTE_SERVER": "http://127.0.0.1:1/raw"}
        self.expect_error(["--keep-env", "--", "x"], env, "missing value for --keep-env")
        self.expect_error(["--"], env, "missing remote executable after `--`")
        self.expect_error(["-h", "--", "x"], env, "unknown option: -h")
        self.expect_error(["--help", "--", "x"], env, "unknown option: --help")

    def test_check_mode_request(self):
        server = self.fake(
            json_response(
                200,
                "OK",
                {"allowed": True, "executable": "echo", "policyMode": "rego", "extra": 1},
            )
        )
        work = os.path.join(self.tmp, "work")
        os.mkdir(work)
        proc = self.run_remote(
            ["--check", "--keep-env=ONE,TWO", "--", "echo", "hello"],
            {"RUN_REMOTE_SERVER": server.url(), "ONE": "1", "TWO": ""},
            cwd=work,
        )
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(
            proc.stdout,
            b'{"allowed":true,"reason":null,"executable":"echo","resolvedPath":null,'
            b'"hash":null,"cwd":null,"policyMode":"rego"}\n',
        )
        self.assertEqual(len(server.requests), 1)
        request = server.requests[0]
        self.assertEqual(request["method"], "POST")
        self.assertEqual(request["target"], "/check")
        self.assertEqual(request["headers"]["content-type"], "application/json")
        self.assertEqual(
            request["body"],
            b'{"executable":"echo","args":["hello"],"cwd":"%s","env":{"ONE":"1","TWO":""}}'
            % work.encode(),
        )

    def test_keep_env_forms(self):
        server = self.fake(json_response(200, "OK", {"allowed": False, "executable": "x", "policyMode": "rego"}))
        proc = self.run_remote(
            ["--check", "--keep-env", " B , A ,,B", "--keep-env=", "--keep-env=C", "--", "--check", "--", "x"],
            {"RUN_REMOTE_SERVER": server.url(), "A": "a", "B": "b", "C": "c"},
        )
        self.assertEqual(proc.returncode, 1, proc.stderr)
        body = json.loads(server.requests[0]["body"])
        self.assertEqual(body["executable"], "--check")
        self.assertEqual(body["args"], ["--", "x"])
        self.assertEqual(list(body["env"].items()), [("A", "a"), ("B", "b"), ("C", "c")])

    def test_keep_env_value_taken_literally(self):
        server = self.fake(json_response(200, "OK", {"allowed": True, "executable": "x", "policyMode": "rego"}))
        proc = self.run_remote(
            ["--check", "--keep-env", "--check", "--", "x"],
            {"RUN_REMOTE_SERVER": server.url(), "--check": "v"},
        )
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(json.loads(server.requests[0]["body"])["env"], {"--check": "v"})

    def test_missing_keep_env_named(self):
        self.expect_error(
            ["--keep-env=ZED,ALPHA,SET,ZED", "--", "x"],
            {"RUN_REMOTE_SERVER": "http://127.0.0.1:1/raw", "SET": "1"},
            "local environment variable(s) are not set: ALPHA, ZED",
        )

    # Transport

    def test_transport_errors(self):
        self.expect_error(
            ["--", "x"],
            {"RUN_REMOTE_SERVER": "http://127.0.0.1:1/raw", "RUN_REMOTE_SOCKET": "/x.sock"},
            "RUN_REMOTE_SERVER and RUN_REMOTE_SOCKET cannot both be set",
        )
        self.expect_error(["--", "x"], {}, "RUN_REMOTE_SERVER must be set")
        self.expect_error(
            ["--", "x"], {"RUN_REMOTE_SOCKET": "rel.sock"}, "RUN_REMOTE_SOCKET must be an absolute path: rel.sock"
        )
        full_url = "RUN_REMOTE_SERVER must be a full URL (example: http://127.0.0.1:8000/raw)"
        for url in ("127.0.0.1:8000", "https://127.0.0.1/raw", "ftp://h/raw", "http://", "http://h:99999/raw"):
            self.expect_error(["--", "x"], {"RUN_REMOTE_SERVER": url}, full_url)

    def test_nonexistent_socket_is_request_error(self):
        proc = self.run_remote(["--", "x"], {"RUN_REMOTE_SOCKET": self.tmp + "/missing.sock"})
        self.assertEqual(proc.returncode, 125)
        self.assertTrue(proc.stderr.startswith(b"request failed: "), proc.stderr)

    def test_blank_socket_with_url(self):
        server = self.fake(ndjson_response(event("start"), event("exit", exitCode=0)))
        proc = self.run_remote(["--", "x"], {"RUN_REMOTE_SERVER": server.url(), "RUN_REMOTE_SOCKET": "  "})
        self.assertEqual(proc.returncode, 0, proc.stderr)

    def test_check_url_derivation(self):
        cases = {
            "/raw": "/check",
            "/api/raw": "/api/check",
            "/x": "/x/check",
            "/raw?a=1": "/check?a=1",
            "/": "//check",
            "": "//check",
            "/raw/": "/raw//check",
        }
        server = self.fake(json_response(200, "OK", {"allowed": True, "executable": "x", "policyMode": "rego"}))
        for path, expected in cases.items():
            proc = self.run_remote(["--check", "--", "x"], {"RUN_REMOTE_SERVER": server.url(path)})
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertEqual(server.requests[-1]["target"], expected, path)

    def test_execution_url_used_as_given(self):
        server = self.fake(ndjson_response(event("start"), event("exit", exitCode=0)))
        for path, expected in (("/raw?a=1", "/raw?a=1"), ("", "/"), ("/raw/", "/raw/")):
            self.run_remote(["--", "x"], {"RUN_REMOTE_SERVER": server.url(path)})
            self.assertEqual(server.requests[-1]["target"], expected)
        self.assertEqual(server.requests[-1]["headers"]["host"], "127.0.0.1:%d" % server.port)

    # Streams

    def test_stream_split_mid_line(self):
        lines = (
            event("start")
            + event("stdout", data_b64=b64(b"hello"))
            + event("stderr", data_b64=b64(bytes([255, 0])))
            + event("exit", exitCode=7)
        )
        server = self.fake(ndjson_response(lines[:30], lines[30:]))
        proc = self.run_remote(["--", "x"], {"RUN_REMOTE_SERVER": server.url()})
        self.assertEqual(proc.returncode, 7)
        self.assertEqual(proc.stdout, b"hello")
        self.assertEqual(proc.stderr, bytes([255, 0]))

    def test_stream_variants(self):
        start = event("start")
        cases = [
            # CRLF endings and blank lines are accepted.
            (ndjson_response(start.replace(b"\n", b"\r\n"), b"\n\n", event("exit", exitCode=3).replace(b"\n", b"\r\n")), 3, None),
            # Data after exit is ignored.
            (ndjson_response(start, event("exit", exitCode=0), b"garbage\n"), 0, None),
            # The last line may lack its newline.
            (ndjson_response(start, event("exit", exitCode=2)[:-1]), 2, None),
            # exitCode null or missing counts as 1; only the low 8 bits count.
            (ndjson_response(start, b'{"event":"exit","exitCode":null}\n'), 1, None),
            (ndjson_response(start, b'{"event":"exit"}\n'), 1, None),
            (ndjson_response(start, event("exit", exitCode=257)), 1, None),
            # Output before start is accepted.
            (ndjson_response(event("stdout", data_b64=b64(b"early")), start, event("exit", exitCode=0)), 0, None),
            (ndjson_response(start, event("stdout", data_b64="!!!!")), 125, "stream protocol error: invalid stdout base64 payload: "),
            (ndjson_response(start, event("stderr", data_b64="YQ=")), 125, "stream protocol error: invalid stderr base64 payload: "),
            (ndjson_response(start, event("bogus")), 125, "stream protocol error: invalid event JSON: "),
            (ndjson_response(start, b"not json\n"), 125, "stream protocol error: invalid event JSON: "),
            (ndjson_response(start, b'{"event":"exit","exitCode":"0"}\n'), 125, "stream protocol error: invalid event JSON: "),
            (ndjson_response(event("exit", exitCode=0)), 125, "stream protocol error: received exit event before start event"),
            (ndjson_response(start, event("stdout", data_b64="")), 125, "stream protocol error: stream ended before exit event"),
            (ndjson_response(start, event("error", message="boom")), 125, "remote runtime error: boom"),
            (json_response(403, "Forbidden", {"error": "blocked"}), 125, "server rejected request (403 Forbidden): blocked"),
            (b"HTTP/1.1 502 Whatever\r\nContent-Length: 9\r\nConnection: close\r\n\r\n  oops \n ", 125, "server rejected request (502 Bad Gateway): oops"),
        ]
        for response, status, message in cases:
            server = self.fake(response)
            proc = self.run_remote(["--", "x"], {"RUN_REMOTE_SERVER": server.url()})
            self.assertEqual(proc.returncode, status, (response, proc.stderr))
            if message is not None:
                self.assertTrue(proc.stderr.decode().startswith(message), (message, proc.stderr))
                self.assertEqual(proc.stderr.count(b"\n"), 1)

    def test_check_decision_variants(self):
        cases = [
            ({"allowed": False, "reason": "no", "executable": "x", "policyMode": "deny-all", "cwd": None}, 1, None),
            ({"allowed": True, "executable": "x"}, 125, "stream protocol error: invalid decision JSON: "),
            ({"allowed": "yes", "executable": "x", "policyMode": "rego"}, 125, "stream protocol error: invalid decision JSON: "),
            ({"allowed": True, "executable": "x", "policyMode": "rego", "hash": 5}, 125, "stream protocol error: invalid decision JSON: "),
        ]
        for doc, status, message in cases:
            server = self.fake(json_response(200, "OK", doc))
            proc = self.run_remote(["--check", "--", "x"], {"RUN_REMOTE_SERVER": server.url()})
            self.assertEqual(proc.returncode, status, proc.stderr)
            if message:
                self.assertTrue(proc.stderr.decode().startswith(message), proc.stderr)
        self.assertEqual(
            self.run_remote(
                ["--check", "--", "x"],
                {"RUN_REMOTE_SERVER": self.fake(json_response(200, "OK", cases[0][0])).url()},
            ).stdout,
            b'{"allowed":false,"reason":"no","executable":"x","resolvedPath":null,'
            b'"hash":null,"cwd":null,"policyMode":"deny-all"}\n',
        )

    def test_closed_stdout_pipe(self):
        server = self.fake(ndjson_response(event("start"), event("stdout", data_b64=b64(b"x" * 100000)), event("exit", exitCode=0)))
        read_end, write_end = os.pipe()
        os.close(read_end)
        proc = self.run_remote(["--", "x"], {"RUN_REMOTE_SERVER": server.url()}, stdout=write_end)
        os.close(write_end)
        self.assertEqual(proc.returncode, 125)
        self.assertEqual(proc.stderr, b"failed to write output: Broken pipe\n")

    # Against mcp-run

    def test_unix_socket_with_mcp_run(self):
        srv = self.server(allowed=[SH, ENV])
        env = {"RUN_REMOTE_SOCKET": srv.socket_path}
        proc = self.run_remote(["--", SH, "-c", "printf out; printf err >&2; exit 5"], env)
        self.assertEqual(proc.returncode, 5)
        self.assertEqual(proc.stdout, b"out")
        self.assertEqual(proc.stderr, b"err")
        proc = self.run_remote(["--check", "--", SH], env)
        self.assertEqual(proc.returncode, 0)
        self.assertEqual(json.loads(proc.stdout)["resolvedPath"], SH)
        proc = self.run_remote(["--check", "--", "/bin/echo"], env)
        self.assertEqual(proc.returncode, 1)
        self.assertTrue(proc.stdout.startswith(b"{"))
        proc = self.run_remote(["--", "/bin/echo", "x"], env)
        self.assertEqual(proc.returncode, 125)
        self.assertIn(b"server rejected request (403 Forbidden): Command not allowed", proc.stderr)
        proc = self.run_remote(["--", SH, "-c", "kill -9 $$"], env)
        self.assertEqual(proc.returncode, 1)

    def test_tcp_with_mcp_run(self):
        srv = self.server(allowed=[ENV], uds=False)
        proc = self.run_remote(
            ["--keep-env=FOO", "--", ENV],
            {"RUN_REMOTE_SERVER": srv.url("/raw"), "FOO": "bar"},
        )
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn(b"FOO=bar\n", proc.stdout)

    def test_interrupt_stops_remote_group(self):
        srv = self.server(allowed=[SH])
        pidfile = os.path.join(self.tmp, "pid")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "RUN_REMOTE_SOCKET": srv.socket_path}
        for signum in (signal.SIGINT, signal.SIGTERM):
            if os.path.exists(pidfile):
                os.unlink(pidfile)
            client = subprocess.Popen(
                [RUN_REMOTE, "--", SH, "-c", "sleep 100 & echo $! > %s; wait" % pidfile],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )

            def pid():
                try:
                    with open(pidfile) as f:
                        text = f.read().strip()
                    return int(text) if text else None
                except FileNotFoundError:
                    return None

            remote = wait_until(pid, "the remote child to start")
            client.send_signal(signum)
            client.wait(timeout=HANG_GUARD)
            self.assertEqual(client.returncode, -signum)
            wait_until(lambda: not pid_alive(remote), "the remote group to stop")

    # Wrappers

    def wrapper_dir(self):
        """The wrappers beside run-remote, as installed."""
        tools = os.path.join(self.tmp, "tools")
        os.makedirs(tools, exist_ok=True)
        for name in ("run-in-nw-sandbox", "run-in-fs-sandbox"):
            shutil.copy(os.path.join(WRAPPER_DIR, name), tools)
        shutil.copy(RUN_REMOTE, os.path.join(tools, "run-remote"))
        return tools

    def test_wrappers(self):
        tools = self.wrapper_dir()
        srv = self.server(allowed=[SH])
        for name, var in (("run-in-nw-sandbox", "RUN_NW_SANDBOX_SOCKET"), ("run-in-fs-sandbox", "RUN_FS_SANDBOX_SOCKET")):
            program = os.path.join(tools, name)
            for env in ({}, {var: ""}):
                proc = self.run_remote(["--", SH], env, program=program)
                self.assertNotEqual(proc.returncode, 0)
                self.assertIn(b"%s must be set" % var.encode(), proc.stderr)
            proc = self.run_remote(["--", SH, "-c", "printf via-%s" % name], {var: srv.socket_path}, program=program)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertEqual(proc.stdout, b"via-" + name.encode())
            proc = self.run_remote(
                ["--", SH], {var: srv.socket_path, "RUN_REMOTE_SERVER": "http://127.0.0.1:1/raw"}, program=program
            )
            self.assertEqual(proc.returncode, 125)
            self.assertEqual(proc.stderr, b"RUN_REMOTE_SERVER and RUN_REMOTE_SOCKET cannot both be set\n")


if __name__ == "__main__":
    unittest.main()
