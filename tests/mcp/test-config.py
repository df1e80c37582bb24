#!/usr/bin/env python3
"""mcp-run startup: bind variables, socket path states and limits."""

import sys

# mcptest is imported from the source tree, which must stay clean.
sys.dont_write_bytecode = True

import os
import socket
import stat
import unittest

from mcptest import SH, Server, TestCase, run_mcp_run


class StartupErrorTest(TestCase):
    def expect_error(self, env, message, cwd=None):
        status, stderr = run_mcp_run(self.tmp, env, cwd=cwd)
        self.assertEqual(status, 1, stderr)
        self.assertTrue(stderr.endswith("\n"), stderr)
        self.assertEqual(stderr.splitlines()[-1], "Error: %s" % message)
        self.assertEqual(stderr.count("Error: "), 1)

    def test_both_bind_variables_conflict(self):
        self.expect_error(
            {"MCP_BIND_UDS": self.tmp + "/run.sock", "MCP_BIND_ADDR": "127.0.0.1:0"},
            "MCP_BIND_ADDR and MCP_BIND_UDS cannot both be set",
        )

    def test_relative_socket_path(self):
        self.expect_error(
            {"MCP_BIND_UDS": " run.sock "},
            "MCP_BIND_UDS must be an absolute path: 'run.sock'",
        )

    def test_socket_parent_missing(self):
        path = self.tmp + "/missing/run.sock"
        self.expect_error(
            {"MCP_BIND_UDS": path},
            "MCP_BIND_UDS parent directory does not exist: '%s'" % path,
        )

    def test_invalid_bind_addresses(self):
        for value in ("example.com:80", "localhost", "127.0.0.1", "[::1]", "1.2.3.4:99999"):
            self.expect_error(
                {"MCP_BIND_ADDR": value},
                "invalid MCP_BIND_ADDR '%s': invalid socket address syntax" % value,
            )

    def test_invalid_max_concurrent(self):
        for value in ("0", "-1", "abc"):
            self.expect_error(
                {"MCP_BIND_ADDR": "127.0.0.1:0", "MCP_MAX_CONCURRENT": value},
                "invalid MCP_MAX_CONCURRENT '%s': expected a positive integer" % value,
            )

    def test_regular_file_at_socket_path(self):
        path = os.path.join(self.tmp, "run.sock")
        with open(path, "w") as f:
            f.write("keep me")
        self.expect_error(
            {"MCP_BIND_UDS": path},
            "MCP_BIND_UDS path exists but is not a unix socket: %s" % path,
        )
        with open(path) as f:
            self.assertEqual(f.read(), "keep me")

    def test_directory_at_socket_path(self):
        path = os.path.join(self.tmp, "run.sock")
        os.mkdir(path)
        self.expect_error(
            {"MCP_BIND_UDS": path},
            "MCP_BIND_UDS path exists but is not a unix socket: %s" % path,
        )

    def test_symlink_to_socket_rejected(self):
        target = os.path.join(self.tmp, "real.sock")
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(target)
        link = os.path.join(self.tmp, "run.sock")
        os.symlink(target, link)
        try:
            self.expect_error(
                {"MCP_BIND_UDS": link},
                "MCP_BIND_UDS path exists but is not a unix socket: %s" % link,
            )
        finally:
            sock.close()
        self.assertTrue(os.path.islink(link))

    def test_port_in_use(self):
        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        try:
            status, stderr = run_mcp_run(
                self.tmp, {"MCP_BIND_ADDR": "127.0.0.1:%d" % port}
            )
        finally:
            busy.close()
        self.assertEqual(status, 1)
        self.assertTrue(
            stderr.splitlines()[-1].startswith(
                "Error: failed to bind '127.0.0.1:%d': " % port
            ),
            stderr,
        )


class StartupTest(TestCase):
    def test_blank_bind_addr_with_socket(self):
        srv = self.server(env={"MCP_BIND_ADDR": "   "})
        self.assertEqual(srv.address, srv.socket_path)
        self.assertEqual(srv.check({"executable": SH}).status, 200)

    def test_socket_mode_0600(self):
        srv = self.server()
        mode = stat.S_IMODE(os.stat(srv.socket_path).st_mode)
        self.assertEqual(mode, 0o600)

    def test_live_socket_of_other_server_replaced(self):
        path = os.path.join(self.tmp, "run", "run.sock")
        os.makedirs(os.path.dirname(path))
        other = socket.socket(socket.AF_UNIX)
        other.bind(path)
        other.listen()
        try:
            srv = self.server()
            self.assertEqual(srv.check({"executable": SH}).status, 200)
        finally:
            other.close()

    def test_socket_parent_symlink_accepted(self):
        real = os.path.join(self.tmp, "real-dir")
        os.mkdir(real)
        link = os.path.join(self.tmp, "link-dir")
        os.symlink(real, link)
        srv = Server(self.tmp, env={})
        srv.env["MCP_BIND_UDS"] = os.path.join(link, "run.sock")
        srv.socket_path = srv.env["MCP_BIND_UDS"]
        self.servers.append(srv)
        srv.start()
        self.assertTrue(os.path.exists(os.path.join(real, "run.sock")))
        self.assertEqual(srv.check({"executable": SH}).status, 200)

    def test_localhost_binds_ipv4_loopback(self):
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        srv = self.server(uds=False, bind_addr="localhost:%d" % port)
        self.assertEqual(srv.address, "127.0.0.1:%d" % port)
        self.assertEqual(srv.check({"executable": SH}).status, 200)

    def test_ipv6_loopback(self):
        try:
            probe = socket.socket(socket.AF_INET6)
            probe.bind(("::1", 0))
            probe.close()
        except OSError:
            self.skipTest("no IPv6 loopback on this machine")
        srv = self.server(uds=False, bind_addr="[::1]:0")
        self.assertTrue(srv.address.startswith("[::1]:"))
        self.assertEqual(srv.check({"executable": SH}).status, 200)

    def test_max_concurrent_with_spaces(self):
        srv = self.server(env={"MCP_MAX_CONCURRENT": "  8  "})
        self.assertEqual(srv.check({"executable": SH}).status, 200)

    def test_missing_policy_dir_is_deny_all(self):
        srv = self.server(policy_dir=None)
        decision = srv.check({"executable": SH}).json()
        self.assertEqual(decision["policyMode"], "deny-all")
        self.assertEqual(
            decision["reason"], "Policy deny-all is active: POLICY_DIR is not configured"
        )
        self.assertIn("event=policy mode=deny-all", srv.log())

    def test_nothing_on_stdout(self):
        srv = self.server(allowed=[SH])
        srv.raw({"executable": SH, "args": ["-c", "echo out"]})
        srv.stop()
        self.assertEqual(srv.stdout(), b"")


if __name__ == "__main__":
    unittest.main()
