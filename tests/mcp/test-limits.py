#!/usr/bin/env python3
"""mcp-run HTTP limits: head and body size, request time, concurrency, and
HTTP/1.1 framing details."""

import sys

# mcptest is imported from the source tree, which must stay clean.
sys.dont_write_bytecode = True

import json
import os
import threading
import unittest

from mcptest import SH, TestCase, decode_output, wait_until

MIB = 1048576


def read_all(sock):
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def status_of(response):
    return int(response.split(b" ", 2)[1])


class SizeLimitTest(TestCase):
    def setUp(self):
        super().setUp()
        self.srv = self.server(allowed=[SH])

    def body_of_size(self, size):
        doc = '{"executable":"%s","pad":"' % SH
        return (doc + "x" * (size - len(doc) - 2) + '"}').encode()

    def test_body_exactly_1mib_accepted(self):
        body = self.body_of_size(MIB)
        self.assertEqual(len(body), MIB)
        resp = self.srv.request("POST", "/check", body, {"Content-Type": "application/json"})
        self.assertEqual(resp.status, 200)

    def test_body_over_1mib_413(self):
        body = self.body_of_size(MIB + 1)
        for path in ("/check", "/raw", "/mcp"):
            resp = self.srv.request("POST", path, body, {"Content-Type": "application/json"})
            self.assertEqual(resp.status, 413, path)
            self.assertEqual(resp.json(), {"error": "request body too large"})
            self.assertEqual(resp.header("connection"), "close")
            self.assertEqual(resp.header("content-type"), "application/json")

    def test_chunked_body_over_limit_413(self):
        sock = self.srv.raw_socket()
        sock.sendall(
            b"POST /check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"x" * 65536
        try:
            for _ in range(17):
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except (BrokenPipeError, ConnectionResetError):
            pass
        response = read_all(sock)
        sock.close()
        self.assertEqual(status_of(response), 413)

    def test_chunked_body_accepted(self):
        body = json.dumps({"executable": SH}).encode()
        sock = self.srv.raw_socket()
        sock.sendall(
            b"POST /check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            + b"%x\r\n%s\r\n" % (5, body[:5])
            + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body) - 5, body[5:])
        )
        response = read_all(sock)
        sock.close()
        self.assertEqual(status_of(response), 200)
        self.assertIn(b'"allowed":true', response)

    def head_of_size(self, size):
        start = b"POST /check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        end = b"Content-Length: 2\r\n\r\n"
        filler = size - len(start) - len(end) - len(b"X-Pad: \r\n")
        return start + b"X-Pad: " + b"a" * filler + b"\r\n" + end

    def test_head_exactly_16kib_accepted(self):
        head = self.head_of_size(16384)
        self.assertEqual(len(head), 16384)
        sock = self.srv.raw_socket()
        sock.sendall(head + b"{}")
        response = sock.recv(65536)
        sock.close()
        self.assertEqual(status_of(response), 400)  # the payload, not the head

    def test_head_over_16kib_431(self):
        sock = self.srv.raw_socket()
        sock.sendall(self.head_of_size(17 * 1024) + b"{}")
        response = read_all(sock)
        sock.close()
        self.assertEqual(status_of(response), 431)
        self.assertIn(b"Connection: close", response)
        self.assertTrue(response.endswith(b'{"error":"request header fields too large"}'))

    def test_content_length_over_limit_refused_unread(self):
        sock = self.srv.raw_socket()
        sock.sendall(
            b"POST /raw HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % (MIB + 1)
        )
        response = read_all(sock)
        sock.close()
        self.assertEqual(status_of(response), 413)

    def test_expect_continue(self):
        body = json.dumps({"executable": SH}).encode()
        sock = self.srv.raw_socket()
        sock.sendall(
            b"POST /check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body)
        )
        interim = sock.recv(65536)
        self.assertTrue(interim.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"))
        sock.sendall(body)
        data = interim
        while b'"policyMode"' not in data:
            data += sock.recv(65536)
        sock.close()
        self.assertIn(b"HTTP/1.1 200 OK", data)

    def test_pipelined_requests(self):
        body = json.dumps({"executable": SH}).encode()
        request = (
            b"POST /check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        sock = self.srv.raw_socket()
        sock.sendall(request * 3 + b"GET /missing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        response = read_all(sock)
        sock.close()
        self.assertEqual(response.count(b"HTTP/1.1 200 OK"), 3)
        self.assertEqual(response.count(b"HTTP/1.1 404 Not Found"), 1)

    def test_persistent_connection_reused(self):
        conn = self.srv.connection()
        for _ in range(3):
            resp = self.srv.post_json("/check", {"executable": SH}, conn=conn)
            self.assertEqual(resp.status, 200)
        conn.close()

    def test_routes_and_methods(self):
        resp = self.srv.request("GET", "/raw")
        self.assertEqual(resp.status, 405)
        self.assertEqual(resp.header("allow"), "POST")
        resp = self.srv.request("PUT", "/check")
        self.assertEqual(resp.status, 405)
        self.assertEqual(resp.header("allow"), "POST")
        resp = self.srv.request("PUT", "/mcp")
        self.assertEqual(resp.status, 405)
        self.assertEqual(resp.header("allow"), "GET, POST, DELETE")
        for path in ("/raw/", "/", "/other"):
            resp = self.srv.request("POST", path, "{}", {"Content-Type": "application/json"})
            self.assertEqual(resp.status, 404, path)
            self.assertEqual(resp.body, b"")
        resp = self.srv.post_json("/check?x=1", {"executable": SH})
        self.assertEqual(resp.status, 200)


class TimeoutTest(TestCase):
    def test_request_timeouts(self):
        """Three connections at once: a stalled request, a silent new
        connection and an idle persistent one."""
        srv = self.server()
        results = {}

        def stalled():
            sock = srv.raw_socket()
            sock.sendall(b"POST /check HTTP/1.1\r\nHost: x\r\nContent-Le")
            results["stalled"] = read_all(sock)
            sock.close()

        def silent():
            sock = srv.raw_socket()
            results["silent"] = read_all(sock)
            sock.close()

        def idle():
            sock = srv.raw_socket()
            sock.sendall(b"GET /missing HTTP/1.1\r\nHost: x\r\n\r\n")
            results["idle"] = read_all(sock)
            sock.close()

        threads = [threading.Thread(target=f) for f in (stalled, silent, idle)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for name in ("stalled", "silent"):
            self.assertEqual(status_of(results[name]), 408, name)
            self.assertTrue(results[name].endswith(b'{"error":"request timeout"}'))
            self.assertIn(b"Connection: close\r\n", results[name])
        self.assertEqual(status_of(results["idle"]), 404)
        self.assertEqual(results["idle"].count(b"HTTP/1.1"), 1)


class ConcurrencyTest(TestCase):
    def start_waiting_runs(self, srv, count):
        """Starts count /raw runs that wait for the file "release"."""
        release = os.path.join(self.tmp, "release")
        pids = os.path.join(self.tmp, "pids")
        script = (
            "echo $$ >> %s; while [ ! -e %s ]; do sleep 0.05; done; printf ok"
            % (pids, release)
        )
        results = [None] * count

        def run(i):
            results[i] = srv.raw({"executable": SH, "args": ["-c", script]})

        threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
        for t in threads:
            t.start()

        def started():
            try:
                with open(pids) as f:
                    return len(f.read().split()) >= count
            except FileNotFoundError:
                return False

        wait_until(started, "%d runs to start" % count)
        return release, threads, results

    def test_max_concurrent_one(self):
        srv = self.server(allowed=[SH], env={"MCP_MAX_CONCURRENT": "1"})
        release, threads, results = self.start_waiting_runs(srv, 1)
        resp = srv.raw({"executable": SH, "args": ["-c", "true"]})
        self.assertEqual(resp.status, 503)
        self.assertEqual(resp.json(), {"error": "too many concurrent executions"})
        self.assertEqual(srv.check({"executable": SH}).status, 200)
        open(release, "w").close()
        for t in threads:
            t.join()
        self.assertEqual(results[0].status, 200)
        events = srv.raw({"executable": SH, "args": ["-c", "printf later"]}).events()
        self.assertEqual(decode_output(events, "stdout"), b"later")
        self.assertIn("decision=busy", srv.log())

    def test_64_concurrent_executions(self):
        srv = self.server(allowed=[SH])
        release, threads, results = self.start_waiting_runs(srv, 64)
        self.assertEqual(srv.raw({"executable": SH, "args": ["-c", "true"]}).status, 503)
        open(release, "w").close()
        for t in threads:
            t.join()
        for resp in results:
            self.assertEqual(resp.status, 200)
            events = resp.events()
            self.assertEqual(decode_output(events, "stdout"), b"ok")
            self.assertEqual(events[-1], {"event": "exit", "exitCode": 0})


if __name__ == "__main__":
    unittest.main()
