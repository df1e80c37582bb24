#!/usr/bin/env python3
"""cladding-bridge forwarding: both directions, half-close, --hold-eof,
several listeners, backpressure, resets, EMFILE and Unix socket files."""

import errno
import hashlib
import os
import resource
import select
import socket
import stat
import struct
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean

from bridgetest import (
    BridgeTestCase,
    TIMEOUT,
    connect_tcp,
    connect_unix,
    pattern,
    peer_sent_eof,
    port_of,
    recv_all,
    recv_exactly,
    main,
)

MIB = 1024 * 1024


def reply_after_eof(conn):
    """Read the request to EOF, then send its length and SHA-256 and close."""
    data = recv_all(conn)
    conn.sendall(b"%d %s" % (len(data), hashlib.sha256(data).hexdigest().encode()))


def expected_reply(data):
    return b"%d %s" % (len(data), hashlib.sha256(data).hexdigest().encode())


class HalfCloseTest(BridgeTestCase):
    def check_request_reply(self, conn, size):
        """Send `size` bytes and half-close; the reply needs the EOF."""
        data = pattern(size)
        conn.sendall(data)
        conn.shutdown(socket.SHUT_WR)
        self.assertEqual(recv_all(conn), expected_reply(data))
        conn.close()

    def test_tcp_to_unix_passes_client_eof(self):
        server = self.unix_server("server.sock", reply_after_eof)
        bridge = self.start("--tcp-to-unix", "127.0.0.1:0=" + self.path("server.sock"))
        port = bridge.tcp_port()

        self.check_request_reply(connect_tcp(port), 3 * MIB + 17)
        server.check()
        self.stop(bridge)

    def test_unix_to_tcp_passes_client_eof(self):
        server = self.tcp_server(reply_after_eof)
        bridge = self.start(
            "--unix-to-tcp", "%s=127.0.0.1:%d" % (self.path("in.sock"), server.port))
        bridge.wait_event("listen", kind="unix")

        self.check_request_reply(connect_unix(self.path("in.sock")), 3 * MIB + 17)
        server.check()
        self.stop(bridge)

    def test_server_half_close_keeps_client_direction(self):
        greeting = pattern(200000, seed=3)
        upload = pattern(MIB, seed=5)

        def handler(conn):
            conn.sendall(greeting)
            conn.shutdown(socket.SHUT_WR)
            received = recv_all(conn)
            if received != upload:
                raise AssertionError("server received %d bytes, expected %d"
                                     % (len(received), len(upload)))

        server = self.tcp_server(handler)
        path = self.path("in.sock")
        bridge = self.start("--unix-to-tcp", "%s=127.0.0.1:%d" % (path, server.port))
        bridge.wait_event("listen")

        conn = connect_unix(path)
        # The client reads the greeting to EOF before it sends anything.
        self.assertEqual(recv_all(conn), greeting)
        conn.sendall(upload)
        conn.shutdown(socket.SHUT_WR)
        self.assertEqual(recv_all(conn), b"")
        conn.close()
        server.check()
        self.stop(bridge)

    def test_chain_through_both_kinds(self):
        server = self.tcp_server(reply_after_eof)
        middle = self.path("middle.sock")
        bridge = self.start(
            "--tcp-to-unix", "127.0.0.1:0=" + middle,
            "--unix-to-tcp", "%s=127.0.0.1:%d" % (middle, server.port))
        port = bridge.tcp_port()
        bridge.wait_event("listen", kind="unix")

        self.check_request_reply(connect_tcp(port), 5 * MIB + 3)
        server.check()
        self.stop(bridge)


class HoldEofTest(BridgeTestCase):
    def run_hold_eof(self, make_bridge, connect):
        request = pattern(100000, seed=1)
        response = pattern(300000, seed=2)
        eof_seen = []

        def handler(conn):
            received = recv_exactly(conn, len(request))
            if received != request:
                raise AssertionError("request corrupted")
            # The client has half-closed by now, and --hold-eof must keep
            # that from reaching the server.
            eof_seen.append(peer_sent_eof(conn, 1.0))
            conn.sendall(response)

        bridge = make_bridge(handler)
        conn = connect(bridge)
        conn.sendall(request)
        conn.shutdown(socket.SHUT_WR)
        self.assertEqual(recv_all(conn), response)
        conn.close()
        self.servers[0].check()
        self.assertEqual(eof_seen, [False])
        self.stop(bridge)

    def test_tcp_to_unix_holds_client_eof(self):
        def make_bridge(handler):
            self.unix_server("server.sock", handler)
            return self.start("--hold-eof", "--tcp-to-unix",
                              "127.0.0.1:0=" + self.path("server.sock"))

        self.run_hold_eof(make_bridge, lambda b: connect_tcp(b.tcp_port()))

    def test_unix_to_tcp_holds_client_eof(self):
        path = self.path("in.sock")

        def make_bridge(handler):
            server = self.tcp_server(handler)
            bridge = self.start("--hold-eof", "--unix-to-tcp",
                                "%s=127.0.0.1:%d" % (path, server.port))
            bridge.wait_event("listen")
            return bridge

        self.run_hold_eof(make_bridge, lambda b: connect_unix(path))

    def test_hold_eof_applies_to_next_listener_only(self):
        self.unix_server("a.sock", reply_after_eof)
        self.unix_server("b.sock", reply_after_eof)
        bridge = self.start(
            "--hold-eof", "--tcp-to-unix", "127.0.0.1:0=" + self.path("a.sock"),
            "--tcp-to-unix", "127.0.0.1:0=" + self.path("b.sock"))
        held = bridge.wait_event("listen", target=self.path("a.sock"))
        passed = bridge.wait_event("listen", target=self.path("b.sock"))
        self.assertEqual(held.get("hold_eof"), "yes")
        self.assertNotIn("hold_eof", passed)

        # The second listener passes the half-close, so its server replies.
        conn = connect_tcp(port_of(passed["addr"]))
        conn.sendall(b"ping")
        conn.shutdown(socket.SHUT_WR)
        self.assertEqual(recv_all(conn), expected_reply(b"ping"))
        conn.close()
        self.stop(bridge)


class SeveralListenersTest(BridgeTestCase):
    def test_four_listeners_in_one_process(self):
        def identify(name):
            def handler(conn):
                data = recv_all(conn)
                conn.sendall(name + b":" + data)
            return handler

        self.unix_server("u1.sock", identify(b"u1"))
        self.unix_server("u2.sock", identify(b"u2"))
        t1 = self.tcp_server(identify(b"t1"))
        t2 = self.tcp_server(identify(b"t2"))
        bridge = self.start(
            "--tcp-to-unix", "127.0.0.1:0=" + self.path("u1.sock"),
            "--unix-to-tcp", "%s=127.0.0.1:%d" % (self.path("l3.sock"), t1.port),
            "--tcp-to-unix", "127.0.0.1:0=" + self.path("u2.sock"),
            "--unix-to-tcp", "%s=127.0.0.1:%d" % (self.path("l4.sock"), t2.port))
        routes = [
            (lambda: connect_tcp(bridge.tcp_port(0)), b"u1"),
            (lambda: connect_unix(self.path("l3.sock")), b"t1"),
            (lambda: connect_tcp(bridge.tcp_port(1)), b"u2"),
            (lambda: connect_unix(self.path("l4.sock")), b"t2"),
        ]
        bridge.wait_event("listen", count=4)

        # Open every connection first, so they all run at the same time.
        open_connections = []
        for round_number in range(5):
            for connect, name in routes:
                message = b"%s-%d" % (name, round_number) + pattern(70000)
                open_connections.append((connect(), name, message))
        for conn, _, message in open_connections:
            conn.sendall(message)
            conn.shutdown(socket.SHUT_WR)
        for conn, name, message in open_connections:
            self.assertEqual(recv_all(conn), name + b":" + message)
            conn.close()

        for server in self.servers:
            server.check()
        self.stop(bridge)
        self.assertEqual(len(bridge.events("listener-stop")), 4)


class BackpressureTest(BridgeTestCase):
    # The bridge may hold 1 MiB plus one 256 KiB read per direction.  The
    # kernel buffers of three sockets come on top, up to about 6 MiB each
    # with Linux's default tcp_rmem and tcp_wmem.  Without backpressure the
    # client could send all of SEND_MAX.
    SEND_MAX = 256 * MIB
    STALLED_BELOW = 48 * MIB

    def fill_until_stalled(self, conn):
        """Send until the socket stays unwritable for 3 s; return the count."""
        conn.setblocking(False)
        block = pattern(64 * 1024)
        sent = 0
        while sent < self.SEND_MAX:
            try:
                sent += conn.send(block)
                continue
            except BlockingIOError:
                pass
            _, writable, _ = select.select([], [conn], [], 3.0)
            if not writable:
                break
        conn.setblocking(True)
        conn.settimeout(TIMEOUT)
        return sent

    def run_backpressure(self, make_bridge, connect):
        release = threading.Event()
        received = []

        def slow_reader(conn):
            release.wait(TIMEOUT * 4)
            data = recv_all(conn)
            received.append(len(data))
            conn.sendall(b"done")

        bridge = make_bridge(slow_reader)
        conn = connect(bridge)
        sent = self.fill_until_stalled(conn)
        self.assertLess(sent, self.STALLED_BELOW,
                        "the client sent %d bytes into a server that reads "
                        "nothing; the bridge did not stop reading" % sent)

        # Reading resumes once the server drains its side, and no byte is
        # lost or duplicated.
        release.set()
        conn.shutdown(socket.SHUT_WR)
        self.assertEqual(recv_all(conn), b"done")
        conn.close()
        self.servers[0].check()
        self.assertEqual(received, [sent])
        self.stop(bridge)

    def test_tcp_to_unix_stops_reading_client(self):
        def make_bridge(handler):
            self.unix_server("server.sock", handler)
            return self.start("--tcp-to-unix", "127.0.0.1:0=" + self.path("server.sock"))

        self.run_backpressure(make_bridge, lambda b: connect_tcp(b.tcp_port()))

    def test_unix_to_tcp_stops_reading_client(self):
        path = self.path("in.sock")

        def make_bridge(handler):
            server = self.tcp_server(handler)
            bridge = self.start("--unix-to-tcp", "%s=127.0.0.1:%d" % (path, server.port))
            bridge.wait_event("listen")
            return bridge

        self.run_backpressure(make_bridge, lambda b: connect_unix(path))


def reset_on_close(conn):
    """Make close() send a TCP RST instead of a FIN."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


class ResetAndFailureTest(BridgeTestCase):
    def echo_works(self, connect):
        conn = connect()
        try:
            conn.sendall(b"still there")
            conn.shutdown(socket.SHUT_WR)
            self.assertEqual(recv_all(conn), expected_reply(b"still there"))
        finally:
            conn.close()

    def test_client_reset_during_transfer(self):
        def flood(conn):
            # Write until the client's reset makes the writes fail.
            block = pattern(MIB)
            try:
                for _ in range(512):
                    conn.sendall(block)
            except OSError:
                return
            raise AssertionError("512 MiB written to a client that reset")

        self.unix_server("flood.sock", flood)
        self.unix_server("echo.sock", reply_after_eof)
        bridge = self.start(
            "--tcp-to-unix", "127.0.0.1:0=" + self.path("flood.sock"),
            "--tcp-to-unix", "127.0.0.1:0=" + self.path("echo.sock"))
        flood_port = bridge.tcp_port(0)
        echo_port = bridge.tcp_port(1)

        for _ in range(5):
            conn = connect_tcp(flood_port)
            conn.recv(1000)
            reset_on_close(conn)
            conn.close()
        self.servers[0].check()
        self.echo_works(lambda: connect_tcp(echo_port))
        self.assertIsNone(bridge.process.poll())
        self.stop(bridge)

    def test_server_reset_during_transfer(self):
        def reset_server(conn):
            conn.recv(1000)
            reset_on_close(conn)

        reset = self.tcp_server(reset_server)
        echo = self.tcp_server(reply_after_eof)
        bridge = self.start(
            "--unix-to-tcp", "%s=127.0.0.1:%d" % (self.path("reset.sock"), reset.port),
            "--unix-to-tcp", "%s=127.0.0.1:%d" % (self.path("echo.sock"), echo.port))
        bridge.wait_event("listen", count=2)

        for _ in range(5):
            conn = connect_unix(self.path("reset.sock"))
            try:
                conn.sendall(pattern(8 * MIB))
            except OSError as error:
                # The bridge closes the client when the server resets.
                self.assertIn(error.errno, (errno.EPIPE, errno.ECONNRESET))
            else:
                self.assertEqual(recv_all(conn), b"")
            conn.close()
        reset.check()
        self.echo_works(lambda: connect_unix(self.path("echo.sock")))
        self.assertIsNone(bridge.process.poll())
        self.stop(bridge)

    def test_failed_connect_closes_client(self):
        target = self.path("absent.sock")
        bridge = self.start("--tcp-to-unix", "127.0.0.1:0=" + target)
        port = bridge.tcp_port()

        attempts = 20
        for _ in range(attempts):
            conn = connect_tcp(port)
            self.assertEqual(recv_all(conn), b"")
            conn.close()
        first = bridge.wait_event("connect-error")
        self.assertEqual(first["target"], target)
        self.assertEqual(first["error"], "no such file or directory")

        # A connect failure is not a listener failure: once the target
        # exists, the same listener forwards.
        self.unix_server("absent.sock", reply_after_eof)
        self.echo_works(lambda: connect_tcp(port))
        self.stop(bridge)

        # At most one line per second: every failure is either logged or
        # counted in a later line's "suppressed".
        logged = bridge.events("connect-error")
        stop = bridge.events("listener-stop")[0]
        total = len(logged) + sum(int(e.get("suppressed", 0)) for e in logged)
        total += int(stop.get("suppressed", 0))
        self.assertEqual(total, attempts, bridge.stderr())
        self.assertLess(len(logged), attempts, bridge.stderr())

    def test_localhost_target_falls_back_to_ipv6(self):
        try:
            server = self.tcp_server(reply_after_eof, host="::1")
        except OSError as error:
            self.skipTest("no IPv6 loopback: %s" % error)
        probe = socket.socket(socket.AF_INET)
        try:
            probe.bind(("127.0.0.1", server.port))
        except OSError:
            self.skipTest("port %d is taken on 127.0.0.1" % server.port)
        finally:
            probe.close()

        path = self.path("in.sock")
        bridge = self.start("--unix-to-tcp", "%s=localhost:%d" % (path, server.port))
        listen = bridge.wait_event("listen")
        self.assertEqual(listen["target"], "localhost:%d" % server.port)
        self.echo_works(lambda: connect_unix(path))
        server.check()
        self.assertEqual(bridge.events("connect-error"), [])
        self.stop(bridge)

    def test_survives_descriptor_exhaustion(self):
        def greet_and_hold(conn):
            conn.sendall(b"ok")
            recv_all(conn)

        self.unix_server("hold.sock", greet_and_hold)
        self.unix_server("echo.sock", reply_after_eof)

        def limit_descriptors():
            resource.setrlimit(resource.RLIMIT_NOFILE, (48, 48))

        bridge = self.start(
            "--tcp-to-unix", "127.0.0.1:0=" + self.path("hold.sock"),
            "--tcp-to-unix", "127.0.0.1:0=" + self.path("echo.sock"),
            preexec_fn=limit_descriptors)
        hold_port = bridge.tcp_port(0)
        echo_port = bridge.tcp_port(1)

        # Each forwarded connection costs the bridge two descriptors, so 60
        # connections exceed its limit of 48.  A served client gets the
        # server's "ok"; the bridge closes the others.
        clients = [connect_tcp(hold_port) for _ in range(60)]
        served = 0
        dropped = 0
        for conn in clients:
            try:
                greeting = conn.recv(2)
            except ConnectionResetError:
                greeting = b""
            if greeting == b"ok":
                served += 1
            else:
                self.assertEqual(greeting, b"")
                dropped += 1
        self.assertGreater(served, 0)
        self.assertGreater(dropped, 0, "no connection was dropped at 48 descriptors")
        for conn in clients:
            conn.close()

        # With the descriptors back, the bridge serves again.  Until it has
        # closed the server sides of the held connections, libuv may still
        # accept and drop a new connection, so retry until the deadline.
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                self.echo_works(lambda: connect_tcp(echo_port))
                break
            except (AssertionError, OSError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.assertIsNone(bridge.process.poll())
        self.stop(bridge)


class UnixSocketFileTest(BridgeTestCase):
    def start_unix_listener(self, path):
        target = self.tcp_server(reply_after_eof)
        return self.start("--unix-to-tcp", "%s=127.0.0.1:%d" % (path, target.port))

    def test_socket_mode_is_0600(self):
        path = self.path("in.sock")
        old_umask = os.umask(0)
        try:
            bridge = self.start_unix_listener(path)
            bridge.wait_event("listen")
        finally:
            os.umask(old_umask)
        mode = os.lstat(path).st_mode
        self.assertTrue(stat.S_ISSOCK(mode))
        self.assertEqual(stat.S_IMODE(mode), 0o600)
        self.stop(bridge)

    def test_stale_socket_is_replaced(self):
        path = self.path("in.sock")
        stale = socket.socket(socket.AF_UNIX)
        stale.bind(path)
        stale.close()
        with self.assertRaises(ConnectionRefusedError):
            connect_unix(path)

        bridge = self.start_unix_listener(path)
        bridge.wait_event("listen")
        conn = connect_unix(path)
        conn.sendall(b"hello")
        conn.shutdown(socket.SHUT_WR)
        self.assertEqual(recv_all(conn), expected_reply(b"hello"))
        conn.close()
        self.stop(bridge)

    def test_regular_file_is_refused(self):
        path = self.path("in.sock")
        with open(path, "w") as file:
            file.write("keep me\n")

        bridge = self.start_unix_listener(path)
        self.assertEqual(bridge.wait(), 1)
        error = bridge.events("listen-error")
        self.assertEqual(len(error), 1, bridge.stderr())
        self.assertEqual(error[0]["path"], path)
        self.assertIn("not a socket", error[0]["error"])
        with open(path) as file:
            self.assertEqual(file.read(), "keep me\n")

    def test_socket_removed_on_exit(self):
        path = self.path("in.sock")
        bridge = self.start_unix_listener(path)
        bridge.wait_event("listen")
        self.assertTrue(os.path.exists(path))
        self.stop(bridge)
        self.assertFalse(os.path.exists(path))

    def test_missing_directory_is_listen_error(self):
        path = self.path("no-such-dir/in.sock")
        bridge = self.start_unix_listener(path)
        self.assertEqual(bridge.wait(), 1)
        error = bridge.events("listen-error")
        self.assertEqual(len(error), 1, bridge.stderr())
        self.assertEqual(error[0]["error"], "no such file or directory")


if __name__ == "__main__":
    main()
