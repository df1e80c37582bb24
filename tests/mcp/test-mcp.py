#!/usr/bin/env python3
"""mcp-run /mcp: Streamable HTTP transport, sessions, versions and the two
tools."""

import sys

# mcptest is imported from the source tree, which must stay clean.
sys.dont_write_bytecode = True

import json
import os
import re
import socket
import threading
import unittest

from mcptest import ECHO, ENV, HEAD, SH, TestCase, pid_alive, wait_until

BOTH = "application/json, text/event-stream"


def sse_messages(body):
    """The data of each SSE event, comments skipped."""
    messages = []
    for block in body.decode().split("\n\n"):
        data = [l[len("data: "):] for l in block.split("\n") if l.startswith("data: ")]
        if data:
            messages.append(json.loads("\n".join(data)))
    return messages


class McpClient:
    def __init__(self, srv, accept=BOTH):
        self.srv = srv
        self.accept = accept
        self.session = None
        self.next_id = 1

    def post(self, msg, headers=None, session=True, content_type="application/json"):
        h = {"Content-Type": content_type}
        if self.accept is not None:
            h["Accept"] = self.accept
        if session and self.session:
            h["Mcp-Session-Id"] = self.session
        h.update(headers or {})
        body = msg if isinstance(msg, (str, bytes)) else json.dumps(msg)
        return self.srv.request("POST", "/mcp", body, h)

    def initialize(self, version="2025-06-18"):
        resp = self.post(
            {
                "jsonrpc": "2.0",
                "id": 0,
                "method": "initialize",
                "params": {
                    "protocolVersion": version,
                    "capabilities": {},
                    "clientInfo": {"name": "test", "version": "1"},
                },
            },
            session=False,
        )
        assert resp.status == 200, resp.body
        self.session = resp.header("mcp-session-id")
        self.post({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return resp

    def request(self, method, params=None):
        msg = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        self.next_id += 1
        if params is not None:
            msg["params"] = params
        resp = self.post(msg)
        assert resp.status == 200, (resp.status, resp.body)
        if resp.header("content-type").startswith("text/event-stream"):
            messages = sse_messages(resp.body)
            assert len(messages) == 1, messages
            return resp, messages[0]
        return resp, resp.json()

    def call_tool(self, name, arguments):
        return self.request("tools/call", {"name": name, "arguments": arguments})


class McpTest(TestCase):
    def setUp(self):
        super().setUp()
        self.srv = self.server(allowed=[ENV, HEAD, SH], uds=False)
        self.client = McpClient(self.srv)
        self.client.initialize()

    def test_initialize_result(self):
        resp = McpClient(self.srv).initialize()
        self.assertEqual(resp.header("content-type"), "application/json")
        session = resp.header("mcp-session-id")
        self.assertRegex(session, r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        result = resp.json()["result"]
        self.assertEqual(result["protocolVersion"], "2025-06-18")
        self.assertEqual(result["capabilities"], {"tools": {}})
        self.assertEqual(result["serverInfo"]["name"], "mcp-run")
        self.assertEqual(result["serverInfo"]["title"], "mcp-run")
        self.assertEqual(
            result["serverInfo"]["description"],
            "Policy-checked command runner; no shell is involved",
        )
        self.assertIn("check_command", result["instructions"])
        self.assertNotEqual(session, self.client.session)

    def test_version_negotiation(self):
        for requested, expected in (
            ("2025-03-26", "2025-03-26"),
            ("2025-06-18", "2025-06-18"),
            ("2024-11-05", "2025-06-18"),
            ("1999-01-01", "2025-06-18"),
        ):
            resp = McpClient(self.srv).initialize(requested)
            self.assertEqual(resp.json()["result"]["protocolVersion"], expected)

    def test_unsupported_protocol_version_header(self):
        resp = self.client.post(
            {"jsonrpc": "2.0", "id": 5, "method": "ping"},
            headers={"MCP-Protocol-Version": "2024-11-05"},
        )
        self.assertEqual(resp.status, 400)
        self.assertEqual(resp.body, b"Bad Request: Unsupported MCP-Protocol-Version")
        resp = self.client.post(
            {"jsonrpc": "2.0", "id": 5, "method": "ping"},
            headers={"MCP-Protocol-Version": "2025-03-26"},
        )
        self.assertEqual(resp.status, 200)

    def test_tools_list(self):
        resp, msg = self.client.request("tools/list")
        self.assertEqual(resp.header("content-type"), "application/json")
        tools = msg["result"]["tools"]
        self.assertEqual([t["name"] for t in tools], ["run_command", "check_command"])
        self.assertNotIn("nextCursor", msg["result"])
        schema = tools[0]["inputSchema"]
        self.assertEqual(schema["required"], ["executable"])
        self.assertEqual(schema["title"], "RunCommandInput")
        self.assertEqual(tools[0]["outputSchema"]["type"], "object")

    def test_other_methods(self):
        for method, result in (
            ("ping", {}),
            ("resources/list", {"resources": []}),
            ("resources/templates/list", {"resourceTemplates": []}),
            ("prompts/list", {"prompts": []}),
            ("completion/complete", {"completion": {"values": []}}),
        ):
            _, msg = self.client.request(method, {})
            self.assertEqual(msg["result"], result, method)
        _, msg = self.client.request("no/such/method")
        self.assertEqual(msg["error"]["code"], -32601)
        self.assertEqual(msg["error"]["message"], "Method not found")

    def test_run_command_smoke(self):
        resp, msg = self.client.call_tool("run_command", {"executable": ENV, "args": ["printf", "smoke"]})
        self.assertEqual(resp.header("content-type"), "text/event-stream")
        self.assertEqual(resp.header("cache-control"), "no-cache")
        result = msg["result"]
        self.assertFalse(result["isError"])
        self.assertEqual(result["structuredContent"], {"stdout": "smoke", "stderr": "", "exitCode": 0})
        self.assertEqual(json.loads(result["content"][0]["text"]), result["structuredContent"])
        self.assertEqual(result["content"][0]["type"], "text")
        self.assertIn("route=/mcp:run_command", self.srv.log())

    def test_run_command_truncates(self):
        _, msg = self.client.call_tool("run_command", {"executable": HEAD, "args": ["-c", "1048581", "/dev/zero"]})
        out = msg["result"]["structuredContent"]["stdout"]
        self.assertTrue(out.endswith("\n...truncated..."))
        self.assertEqual(len(out), 1048576 + len("\n...truncated..."))
        self.assertEqual(msg["result"]["structuredContent"]["exitCode"], 0)

    def test_run_command_invalid_utf8(self):
        _, msg = self.client.call_tool("run_command", {"executable": SH, "args": ["-c", "printf 'a\\377b'; kill -9 $$"]})
        sc = msg["result"]["structuredContent"]
        self.assertEqual(sc["stdout"], "a\ufffdb")
        self.assertIsNone(sc["exitCode"])

    def test_run_command_denied(self):
        _, msg = self.client.call_tool("run_command", {"executable": ECHO})
        result = msg["result"]
        self.assertTrue(result["isError"])
        self.assertNotIn("structuredContent", result)
        self.assertEqual(result["content"][0]["text"], "Command not allowed: %s" % ECHO)

    def test_check_command(self):
        _, msg = self.client.call_tool("check_command", {"executable": ENV})
        sc = msg["result"]["structuredContent"]
        self.assertFalse(msg["result"]["isError"])
        self.assertTrue(sc["allowed"])
        self.assertEqual(sc["executable"], ENV)
        self.assertEqual(sc["resolvedPath"], ENV)
        self.assertEqual(len(sc["hash"]), 64)
        self.assertEqual(sc["cwd"], self.tmp)
        self.assertEqual(json.loads(msg["result"]["content"][0]["text"]), sc)

    def test_check_command_denied_is_data(self):
        _, msg = self.client.call_tool("check_command", {"executable": "echo"})
        sc = msg["result"]["structuredContent"]
        self.assertFalse(msg["result"]["isError"])
        self.assertFalse(sc["allowed"])
        self.assertIn("Command not allowed", sc["reason"])
        self.assertIsNotNone(sc["resolvedPath"])
        self.assertIsNotNone(sc["hash"])

    def test_tool_errors(self):
        _, msg = self.client.call_tool("no_tool", {"executable": ENV})
        self.assertEqual(msg["error"], {"code": -32602, "message": "tool not found"})
        _, msg = self.client.request("tools/call", {"name": "run_command"})
        self.assertEqual(msg["error"]["code"], -32602)
        self.assertEqual(
            msg["error"]["message"], "failed to deserialize parameters: missing field `executable`"
        )
        _, msg = self.client.call_tool("check_command", {"executable": ENV, "args": None})
        self.assertEqual(msg["error"]["code"], -32602)

    def test_json_only_client(self):
        client = McpClient(self.srv, accept="application/json")
        client.initialize()
        resp, msg = client.call_tool("run_command", {"executable": ENV, "args": ["printf", "x"]})
        self.assertEqual(resp.header("content-type"), "application/json")
        self.assertEqual(msg["result"]["structuredContent"]["stdout"], "x")

    def test_accept_forms(self):
        for accept, status in (
            ("text/event-stream, application/json", 200),
            ("application/json, text/event-stream", 200),
            ("application/json", 200),
            ("text/event-stream", 200),
            ("*/*", 200),
            (None, 200),
            ("application/*", 200),
            ("text/html", 406),
        ):
            client = McpClient(self.srv, accept=accept)
            resp = client.post(
                {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18"}},
                session=False,
            )
            self.assertEqual(resp.status, status, accept)
        self.assertEqual(
            resp.body,
            b"Not Acceptable: Client must accept application/json or text/event-stream",
        )

    def test_transport_errors(self):
        resp = self.client.post({"jsonrpc": "2.0", "id": 1, "method": "ping"}, content_type="text/plain")
        self.assertEqual(resp.status, 415)
        self.assertEqual(resp.body, b"Unsupported Media Type: Content-Type must be application/json")
        resp = self.client.post("[]")
        self.assertEqual(resp.status, 415)
        self.assertTrue(resp.body.startswith(b"fail to deserialize request body: "))
        resp = self.client.post("{")
        self.assertEqual(resp.status, 415)
        resp = McpClient(self.srv).post({"jsonrpc": "2.0", "id": 1, "method": "ping"}, session=False)
        self.assertEqual(resp.status, 422)
        self.assertEqual(resp.body, b"Unexpected message, expect initialize request")
        resp = self.client.post({"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers={"Mcp-Session-Id": "unknown"})
        self.assertEqual(resp.status, 404)
        self.assertEqual(resp.body, b"Session not found")

    def test_notifications_and_responses_202(self):
        resp = self.client.post({"jsonrpc": "2.0", "method": "notifications/progress", "params": {}})
        self.assertEqual(resp.status, 202)
        self.assertEqual(resp.body, b"")
        resp = self.client.post({"jsonrpc": "2.0", "id": 9, "result": {}})
        self.assertEqual(resp.status, 202)

    def test_delete_session(self):
        resp = self.srv.request("DELETE", "/mcp", headers={"Mcp-Session-Id": self.client.session})
        self.assertEqual(resp.status, 202)
        resp = self.client.post({"jsonrpc": "2.0", "id": 1, "method": "ping"})
        self.assertEqual(resp.status, 404)
        resp = self.srv.request("DELETE", "/mcp", headers={"Mcp-Session-Id": self.client.session})
        self.assertEqual(resp.status, 404)
        resp = self.srv.request("DELETE", "/mcp")
        self.assertEqual(resp.status, 400)

    def test_get_stream(self):
        resp = self.srv.request("GET", "/mcp", headers={"Accept": "application/json", "Mcp-Session-Id": self.client.session})
        self.assertEqual(resp.status, 406)
        resp = self.srv.request("GET", "/mcp", headers={"Accept": "text/event-stream"})
        self.assertEqual(resp.status, 400)
        resp = self.srv.request("GET", "/mcp", headers={"Accept": "text/event-stream", "Mcp-Session-Id": "nope"})
        self.assertEqual(resp.status, 404)
        sock = self.srv.raw_socket()
        sock.sendall(
            b"GET /mcp HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n"
            b"Mcp-Session-Id: %s\r\n\r\n" % self.client.session.encode()
        )
        head = sock.recv(65536)
        self.assertTrue(head.startswith(b"HTTP/1.1 200 OK\r\n"))
        self.assertIn(b"Content-Type: text/event-stream", head)
        sock.close()


class McpCancellationTest(TestCase):
    def setUp(self):
        super().setUp()
        self.srv = self.server(allowed=[SH])
        self.client = McpClient(self.srv)
        self.client.initialize()
        self.pidfile = os.path.join(self.tmp, "pids")

    def start_call(self, request_id, accept=BOTH):
        msg = {
            "jsonrpc": "2.0",
            "id": request_id,
            "method": "tools/call",
            "params": {
                "name": "run_command",
                "arguments": {
                    "executable": SH,
                    "args": ["-c", "sleep 100 & echo $! > %s; wait" % self.pidfile],
                },
            },
        }
        body = json.dumps(msg).encode()
        sock = self.srv.raw_socket()
        sock.sendall(
            b"POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Accept: %s\r\nMcp-Session-Id: %s\r\nContent-Length: %d\r\n\r\n%s"
            % (accept.encode(), self.client.session.encode(), len(body), body)
        )

        def pid():
            try:
                with open(self.pidfile) as f:
                    text = f.read().strip()
                return int(text) if text else None
            except FileNotFoundError:
                return None

        return sock, wait_until(pid, "the tool's child to start")

    def read_until_closed_or_end(self, sock):
        data = b""
        while not data.endswith(b"0\r\n\r\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        return data

    def test_cancelled_notification_stops_group(self):
        sock, pid = self.start_call("call-1")
        resp = self.client.post(
            {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "call-1"}}
        )
        self.assertEqual(resp.status, 202)
        wait_until(lambda: not pid_alive(pid), "the cancelled run to stop")
        data = self.read_until_closed_or_end(sock)
        sock.close()
        self.assertNotIn(b"data:", data)

    def test_connection_close_stops_group(self):
        sock, pid = self.start_call(7)
        sock.close()
        wait_until(lambda: not pid_alive(pid), "the run to stop")

    def test_session_delete_stops_group(self):
        sock, pid = self.start_call(8, accept="application/json")
        resp = self.srv.request("DELETE", "/mcp", headers={"Mcp-Session-Id": self.client.session})
        self.assertEqual(resp.status, 202)
        wait_until(lambda: not pid_alive(pid), "the run to stop")
        data = self.read_until_closed_or_end(sock)
        sock.close()
        self.assertNotIn(b"jsonrpc", data)

    def test_shutdown_answers_in_flight_call(self):
        sock, pid = self.start_call(9)
        self.srv.signal(15)
        data = self.read_until_closed_or_end(sock)
        sock.close()
        self.assertIn(b"Server shutting down", data)
        self.assertEqual(self.srv.wait(), 0)
        wait_until(lambda: not pid_alive(pid), "the run to stop")


if __name__ == "__main__":
    unittest.main()
