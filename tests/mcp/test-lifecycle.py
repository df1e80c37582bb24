#!/usr/bin/env python3
"""mcp-run process groups, client disconnects, shutdown and the log."""

import sys

# mcptest is imported from the source tree, which must stay clean.
sys.dont_write_bytecode = True

import json
import os
import re
import signal
import socket
import time
import unittest

from mcptest import (
    ENV,
    PRINTF,
    SH,
    TestCase,
    pid_alive,
    wait_until,
)


def raw_request(doc):
    body = json.dumps(doc).encode()
    return (
        b"POST /raw HTTP/1.1\r\nHost: localhost\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
        + body
    )


def read_pids(path, count):
    def ready():
        try:
            with open(path) as f:
                pids = [int(p) for p in f.read().split()]
        except FileNotFoundError:
            return None
        return pids if len(pids) >= count else None

    return wait_until(ready, "the child to write its pids")


class DisconnectTest(TestCase):
    def setUp(self):
        super().setUp()
        self.srv = self.server(allowed=[SH])

    def start_silent(self, script, count):
        pidfile = os.path.join(self.tmp, "pids")
        sock = self.srv.raw_socket()
        sock.sendall(
            raw_request({"executable": SH, "args": ["-c", script % pidfile]})
        )
        pids = read_pids(pidfile, count)
        return sock, pids

    def test_disconnect_stops_whole_group(self):
        sock, pids = self.start_silent(
            "sleep 100 & a=$!; sleep 100 & echo $a $! > %s; wait", 2
        )
        for pid in pids:
            self.assertTrue(pid_alive(pid))
        sock.close()
        for pid in pids:
            wait_until(lambda: not pid_alive(pid), "pid %d to stop" % pid)
        wait_until(
            lambda: re.search(r"route=/raw .*exit=signal:15", self.srv.log()),
            "the log line of the stopped run",
        )

    def test_half_close_counts_as_disconnect(self):
        sock, pids = self.start_silent("sleep 100 & echo $! > %s; wait", 1)
        sock.shutdown(socket.SHUT_WR)
        wait_until(lambda: not pid_alive(pids[0]), "the group to stop")
        sock.close()

    def test_sigterm_trap_ends_with_sigkill(self):
        sock, pids = self.start_silent(
            "trap '' TERM; echo $$ > %s; while :; do sleep 0.1; done", 1
        )
        sock.close()
        wait_until(lambda: not pid_alive(pids[0]), "the trapping child to die")
        wait_until(
            lambda: "exit=signal:9" in self.srv.log(), "the SIGKILL in the log"
        )

    def test_disconnect_while_grandchild_holds_pipes(self):
        sock, pids = self.start_silent("(sleep 100; :) & echo $! > %s; exit 0", 1)
        time.sleep(0.2)
        self.assertTrue(pid_alive(pids[0]))
        sock.close()
        wait_until(lambda: not pid_alive(pids[0]), "the grandchild to stop")


class ShutdownTest(TestCase):
    def test_sigterm_and_sigint_exit_zero(self):
        for signum in (signal.SIGTERM, signal.SIGINT):
            srv = self.server(allowed=[SH])
            path = srv.socket_path
            pidfile = os.path.join(self.tmp, "pids-%d" % signum)
            socks = []
            for _ in range(3):
                sock = srv.raw_socket()
                sock.sendall(
                    raw_request(
                        {
                            "executable": SH,
                            "args": ["-c", "sleep 100 & echo $! >> %s; wait" % pidfile],
                        }
                    )
                )
                socks.append(sock)
            pids = read_pids(pidfile, 3)
            srv.signal(signum)
            self.assertEqual(srv.wait(), 0, srv.log())
            for pid in pids:
                wait_until(lambda: not pid_alive(pid), "child %d to stop" % pid)
            self.assertFalse(os.path.exists(path))
            for sock in socks:
                data = b""
                while True:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                sock.close()
                self.assertIn(b'{"event":"error","message":"Server shutting down"}', data)
            self.servers.remove(srv)

    def test_idle_server_shutdown(self):
        srv = self.server()
        conn = srv.connection()
        conn.request("POST", "/check", body="{}", headers={"Content-Type": "application/json"})
        conn.getresponse().read()
        srv.signal(signal.SIGTERM)
        self.assertEqual(srv.wait(), 0)
        conn.close()
        self.assertIn("event=shutdown signal=SIGTERM", srv.log())
        self.servers.remove(srv)

    def test_replaced_socket_left_alone(self):
        srv = self.server()
        path = srv.socket_path
        os.unlink(path)
        other = socket.socket(socket.AF_UNIX)
        other.bind(path)
        try:
            srv.signal(signal.SIGTERM)
            self.assertEqual(srv.wait(), 0)
            self.assertTrue(os.path.exists(path))
        finally:
            other.close()
        self.servers.remove(srv)


class LogTest(TestCase):
    def test_request_line_has_every_key(self):
        srv = self.server(allowed=[ENV])
        srv.raw({"executable": ENV, "args": ["true"], "env": {"SECRET": "hunter2"}})
        srv.stop()
        log = srv.log()
        self.assertNotIn("hunter2", log)
        line = [l for l in log.splitlines() if "route=/raw" in l][0]
        keys = [pair.split("=", 1)[0] for pair in re.findall(r'(\w+)=(?:"(?:[^"\\]|\\.)*"|\S+)', line)]
        self.assertEqual(
            keys, ["time", "route", "command", "path", "cwd", "decision", "exit", "duration_ms"]
        )
        self.assertRegex(line, r"^time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ")
        self.assertIn("command=%s path=%s" % (ENV, ENV), line)
        self.assertIn("decision=allow exit=0 ", line)

    def test_values_quoted_and_escaped(self):
        srv = self.server(allowed=[])
        srv.check({"executable": 'a b"c=d\\e\n\x01\u00e9'})
        srv.stop()
        self.assertIn(
            'command="a b\\"c=d\\\\e\\n\\x01\\xc3\\xa9"', srv.log()
        )

    def test_decisions_logged(self):
        srv = self.server(allowed=[PRINTF], env={"MCP_MAX_CONCURRENT": "1"})
        srv.check({"executable": "/bin/echo"})
        srv.request("POST", "/check", "{", {"Content-Type": "application/json"})
        srv.request("GET", "/nowhere")
        srv.stop()
        log = srv.log()
        self.assertRegex(log, r"route=/check command=/bin/echo path=/bin/echo cwd=\S+ decision=deny exit=-")
        self.assertRegex(log, r"route=/check command=- path=- cwd=- decision=invalid")
        self.assertRegex(log, r"route=/nowhere .*decision=invalid")


if __name__ == "__main__":
    unittest.main()
