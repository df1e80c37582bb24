#!/usr/bin/env python3
"""cladding-bridge command line: listener values, option combinations and
usage errors (exit 2)."""

import os
import signal
import socket
import sys

sys.dont_write_bytecode = True  # keep the source tree clean

from bridgetest import BridgeTestCase, main, run_bridge, wait_for_signal_handler

USAGE_EXIT = 2


class UsageErrorTest(BridgeTestCase):
    def assert_usage_error(self, args, message):
        status, stdout, stderr = run_bridge(args)
        self.assertEqual(status, USAGE_EXIT, stderr)
        self.assertEqual(stdout, "")
        self.assertIn(message, stderr)
        self.assertIn("cladding-bridge --help", stderr)

    def test_invalid_tcp_to_unix_values(self):
        cases = [
            ("127.0.0.1:80", "expected ADDR:PORT=PATH"),
            ("127.0.0.1=/x.sock", "expected ADDR:PORT"),
            ("127.0.0.1:=/x.sock", "the port must be an integer from 0 to 65535"),
            ("127.0.0.1:65536=/x.sock", "the port must be an integer from 0 to 65535"),
            ("127.0.0.1:8x=/x.sock", "the port must be an integer from 0 to 65535"),
            ("127.0.0.1:-1=/x.sock", "the port must be an integer from 0 to 65535"),
            (":80=/x.sock", "the address before ':PORT' is empty"),
            ("localhost:80=/x.sock", "'localhost' is not an IPv4 address or a "
                                     "bracketed IPv6 address"),
            ("example.org:80=/x.sock", "'example.org' is not an IPv4 address"),
            ("256.1.1.1:80=/x.sock", "'256.1.1.1' is not an IPv4 address"),
            ("::1:80=/x.sock", "an IPv6 address must be written in brackets"),
            ("[::1:80=/x.sock", "expected [IPV6]:PORT"),
            ("[::1]80=/x.sock", "expected [IPV6]:PORT"),
            ("[127.0.0.1]:80=/x.sock", "'127.0.0.1' is not an IPv6 address"),
            ("127.0.0.1:80=", "the Unix socket path is empty"),
        ]
        for value, message in cases:
            with self.subTest(value=value):
                self.assert_usage_error(
                    ["--tcp-to-unix", value],
                    "invalid value '%s' for '--tcp-to-unix': %s" % (value, message))

    def test_invalid_unix_to_tcp_values(self):
        cases = [
            ("/x.sock", "expected PATH=ADDR:PORT"),
            ("=127.0.0.1:80", "the Unix socket path is empty"),
            ("/x.sock=127.0.0.1:0", "the port must be an integer from 1 to 65535"),
            ("/x.sock=127.0.0.1:65536", "the port must be an integer from 1 to 65535"),
            ("/x.sock=host.example:80", "'host.example' is not an IPv4 address, a "
                                        "bracketed IPv6 address or 'localhost'"),
            ("/x.sock=localhost", "expected ADDR:PORT"),
            ("/x.sock=[::1]", "expected [IPV6]:PORT"),
        ]
        for value, message in cases:
            with self.subTest(value=value):
                self.assert_usage_error(
                    ["--unix-to-tcp", value],
                    "invalid value '%s' for '--unix-to-tcp': %s" % (value, message))

    def test_path_longer_than_sun_path(self):
        long_path = "/" + "a" * 107
        self.assert_usage_error(
            ["--tcp-to-unix", "127.0.0.1:0=" + long_path],
            "the Unix socket path is 108 bytes long, the maximum is 107")
        self.assert_usage_error(
            ["--unix-to-tcp", long_path + "=127.0.0.1:80"],
            "the Unix socket path is 108 bytes long, the maximum is 107")

    def test_option_errors(self):
        cases = [
            (["--tcp-to-unix"], "'--tcp-to-unix' requires a value ADDR:PORT=PATH"),
            (["--unix-to-tcp"], "'--unix-to-tcp' requires a value PATH=ADDR:PORT"),
            (["--pidfile"], "'--pidfile' requires a value PATH"),
            (["--pidfile", ""], "'--pidfile' requires a non-empty PATH"),
            (["--signal"], "'--signal' requires a value SIG"),
            (["--hold-eof"], "'--hold-eof' must come right before"),
            (["--hold-eof", "--pidfile", "/p", "--tcp-to-unix", "127.0.0.1:0=/s"],
             "'--hold-eof' must come right before"),
            (["--hold-eof", "--", "true"], "'--hold-eof' must come right before"),
            (["--hold-eof", "--hold-eof", "--tcp-to-unix", "127.0.0.1:0=/s"],
             "'--hold-eof' must come right before"),
            (["--"], "no command after '--'"),
            (["--setsid"], "'--setsid' requires '-- CMD'"),
            (["--signal", "TERM"], "'--signal' requires '--pidfile PATH'"),
            (["--signal", "TERM", "--pidfile", "/p", "--setsid"],
             "'--signal' takes only '--pidfile PATH'"),
            (["--signal", "TERM", "--pidfile", "/p", "--", "true"],
             "'--signal' takes only '--pidfile PATH'"),
            (["--signal", "TERM", "--pidfile", "/p", "--tcp-to-unix", "127.0.0.1:0=/s"],
             "'--signal' takes only '--pidfile PATH'"),
            (["--signal", "TERMINATE", "--pidfile", "/p"],
             "invalid value 'TERMINATE' for '--signal': expected TERM, INT, HUP, "
             "KILL or a number from 1 to 64"),
            (["--signal", "0", "--pidfile", "/p"], "invalid value '0' for '--signal'"),
            (["--signal", "65", "--pidfile", "/p"], "invalid value '65' for '--signal'"),
            (["--signal", "term", "--pidfile", "/p"], "invalid value 'term' for '--signal'"),
            (["--listen", "x"], "unknown option '--listen'"),
            (["sleep", "1"], "unknown option 'sleep'"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                self.assert_usage_error(args, message)

    def test_help_and_version(self):
        status, stdout, stderr = run_bridge(["--help"])
        self.assertEqual((status, stderr), (0, ""))
        self.assertIn("--tcp-to-unix ADDR:PORT=PATH", stdout)
        self.assertIn("--signal SIG", stdout)
        status, stdout, _ = run_bridge(["--version"])
        self.assertEqual(status, 0)
        self.assertTrue(stdout.startswith("cladding-bridge "))


class ListenerValueTest(BridgeTestCase):
    """Values that parse: the listen lines show how they were split."""

    def listen_events(self, *args):
        bridge = self.start(*args)
        count = sum(1 for a in args if a.startswith(("--tcp-to-unix", "--unix-to-tcp")))
        bridge.wait_event("listen", count=count)
        events = bridge.events("listen")
        self.stop(bridge)
        return events

    def test_tcp_to_unix_splits_at_first_equals(self):
        target = self.path("a=b.sock")
        events = self.listen_events("--tcp-to-unix", "127.0.0.1:0=" + target)
        self.assertEqual(events[0]["target"], target)
        self.assertEqual(events[0]["kind"], "tcp")

    def test_unix_to_tcp_splits_at_last_equals(self):
        path = self.path("c=d.sock")
        events = self.listen_events("--unix-to-tcp", path + "=127.0.0.1:9")
        self.assertEqual(events[0]["path"], path)
        self.assertEqual(events[0]["target"], "127.0.0.1:9")

    def test_option_equals_form(self):
        path = self.path("e.sock")
        events = self.listen_events("--unix-to-tcp=%s=[::1]:9" % path)
        self.assertEqual(events[0]["path"], path)
        self.assertEqual(events[0]["target"], "[::1]:9")

    def test_ipv6_listen_address(self):
        try:
            probe = socket.socket(socket.AF_INET6)
            probe.bind(("::1", 0))
            probe.close()
        except OSError as error:
            self.skipTest("no IPv6 loopback: %s" % error)
        events = self.listen_events("--tcp-to-unix", "[::1]:0=" + self.path("t.sock"))
        self.assertTrue(events[0]["addr"].startswith("[::1]:"))
        self.assertNotEqual(events[0]["addr"], "[::1]:0")

    def test_path_of_107_bytes(self):
        path = self.dir + "/" + "p" * (107 - len(self.dir) - 1)
        self.assertEqual(len(path), 107)
        events = self.listen_events("--unix-to-tcp", path + "=localhost:9")
        self.assertEqual(events[0]["path"], path)
        self.assertEqual(events[0]["target"], "localhost:9")

    def test_path_with_spaces_and_quote_is_logged_quoted(self):
        path = self.path("it's a \"dir\".sock")
        bridge = self.start("--unix-to-tcp", path + "=127.0.0.1:9")
        bridge.wait_event("listen")
        self.assertIn('path="%s"' % path.replace('"', '\\"'), bridge.stderr())
        self.assertEqual(bridge.events("listen")[0]["path"], path)
        self.stop(bridge)

    def test_no_listener_no_cmd_runs_until_signal(self):
        bridge = self.start()
        # Nothing is logged before the signal: a SIGTERM sent before the
        # handler exists would end the helper with 143 instead of 0.
        wait_for_signal_handler(bridge.pid, signal.SIGTERM)
        self.stop(bridge)


if __name__ == "__main__":
    main()
