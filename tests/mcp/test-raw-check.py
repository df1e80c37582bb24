#!/usr/bin/env python3
"""mcp-run /raw and /check: the authorization pipeline and execution."""

import sys

# mcptest is imported from the source tree, which must stay clean.
sys.dont_write_bytecode = True

import base64
import hashlib
import json
import os
import unittest

from mcptest import (
    ECHO,
    ENV,
    HEAD,
    PRINTF,
    PWD,
    SH,
    TestCase,
    decode_output,
    pid_alive,
    write_file,
)


class RawCheckTest(TestCase):
    def setUp(self):
        super().setUp()
        self.srv = self.server(allowed=[SH, ENV, HEAD, PRINTF, PWD])

    def check_ok(self, doc):
        resp = self.srv.check(doc)
        self.assertEqual(resp.status, 200, resp.body)
        return resp.json()

    # /raw

    def test_raw_streams_stdout_and_stderr(self):
        resp = self.srv.raw(
            {"executable": SH, "args": ["-c", "printf hello; printf oops >&2"]}
        )
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.header("content-type"), "application/x-ndjson")
        self.assertEqual(resp.header("transfer-encoding"), "chunked")
        self.assertEqual(resp.header("connection"), "close")
        events = resp.events()
        self.assertEqual(events[0], {"event": "start"})
        self.assertEqual(events[-1], {"event": "exit", "exitCode": 0})
        self.assertEqual(decode_output(events, "stdout"), b"hello")
        self.assertEqual(decode_output(events, "stderr"), b"oops")
        self.assertEqual(list(events[0].keys())[0], "event")

    def test_raw_large_output_not_truncated(self):
        resp = self.srv.raw({"executable": HEAD, "args": ["-c", "1052672", "/dev/zero"]})
        events = resp.events()
        out = decode_output(events, "stdout")
        self.assertEqual(len(out), 1052672)
        self.assertEqual(out.count(b"\0"), 1052672)
        self.assertEqual(events[-1], {"event": "exit", "exitCode": 0})
        for e in events:
            if e["event"] == "stdout":
                self.assertLessEqual(len(base64.b64decode(e["data_b64"])), 8192)

    def test_raw_binary_output(self):
        resp = self.srv.raw({"executable": PRINTF, "args": ["\\377\\000A"]})
        self.assertEqual(decode_output(resp.events(), "stdout"), bytes([255, 0, 65]))

    def test_raw_stream_order_kept(self):
        script = (
            "for i in 1 2 3; do printf o$i; sleep 0.05; printf e$i >&2; "
            "sleep 0.05; done"
        )
        events = self.srv.raw({"executable": SH, "args": ["-c", script]}).events()
        self.assertEqual(decode_output(events, "stdout"), b"o1o2o3")
        self.assertEqual(decode_output(events, "stderr"), b"e1e2e3")

    def test_raw_denied_403(self):
        resp = self.srv.raw({"executable": ECHO, "args": ["x"]})
        self.assertEqual(resp.status, 403)
        self.assertEqual(resp.header("content-type"), "application/json")
        self.assertIn("Command not allowed", resp.json()["error"])

    def test_raw_denied_runs_nothing(self):
        marker = os.path.join(self.tmp, "side-effect")
        resp = self.srv.raw({"executable": "/usr/bin/touch", "args": [marker]})
        self.assertEqual(resp.status, 403)
        self.assertFalse(os.path.exists(marker))

    def test_raw_signal_death_exit_null(self):
        events = self.srv.raw(
            {"executable": SH, "args": ["-c", "kill -9 $$"]}
        ).events()
        self.assertEqual(events[-1], {"event": "exit", "exitCode": None})

    def test_raw_exit_waits_for_grandchild(self):
        events = self.srv.raw(
            {"executable": SH, "args": ["-c", "(sleep 0.5; printf late) & exit 3"]}
        ).events()
        self.assertEqual(decode_output(events, "stdout"), b"late")
        self.assertEqual(events[-1], {"event": "exit", "exitCode": 3})

    def test_raw_background_job_survives(self):
        pidfile = os.path.join(self.tmp, "job.pid")
        script = "sleep 30 >/dev/null 2>&1 </dev/null & echo $! > %s" % pidfile
        events = self.srv.raw({"executable": SH, "args": ["-c", script]}).events()
        self.assertEqual(events[-1], {"event": "exit", "exitCode": 0})
        with open(pidfile) as f:
            pid = int(f.read())
        try:
            self.assertTrue(pid_alive(pid))
        finally:
            os.kill(pid, 9)

    def test_raw_content_type_required(self):
        for headers in ({}, {"Content-Type": "text/plain"}):
            resp = self.srv.request(
                "POST", "/raw", json.dumps({"executable": SH}), headers
            )
            self.assertEqual(resp.status, 400)
            self.assertIn("Invalid request payload", resp.json()["error"])

    def test_raw_json_subtype_accepted(self):
        resp = self.srv.post_json(
            "/check",
            {"executable": SH},
            headers={"Content-Type": "application/vnd.test+json; charset=utf-8"},
        )
        self.assertEqual(resp.status, 200)

    def test_raw_args_null_rejected(self):
        resp = self.srv.raw({"executable": SH, "args": None})
        self.assertEqual(resp.status, 400)

    def test_raw_script_without_shebang_500(self):
        script = os.path.join(self.tmp, "noshebang")
        write_file(script, "printf hi\n", 0o755)
        write_file(
            os.path.join(self.tmp, "p2", "main.rego"),
            "package sandbox.main\n\nallow := true\n",
        )
        srv = self.server(policy_dir=os.path.join(self.tmp, "p2"))
        resp = srv.raw({"executable": script})
        self.assertEqual(resp.status, 500)
        self.assertIn("Failed to start subprocess: Exec format error", resp.json()["error"])

    def test_raw_script_with_shebang_runs(self):
        script = os.path.join(self.tmp, "withshebang")
        write_file(script, "#!/bin/sh\nprintf 'run as %s' \"$0\"\n", 0o755)
        write_file(
            os.path.join(self.tmp, "p3", "main.rego"),
            "package sandbox.main\n\nallow := true\n",
        )
        srv = self.server(policy_dir=os.path.join(self.tmp, "p3"))
        events = srv.raw({"executable": script}).events()
        self.assertEqual(events[-1], {"event": "exit", "exitCode": 0})
        self.assertRegex(decode_output(events, "stdout").decode(), r"^run as /dev/fd/\d+$")

    def test_raw_nul_in_arg_500(self):
        resp = self.srv.raw({"executable": PRINTF, "args": ["a\u0000b"]})
        self.assertEqual(resp.status, 500)
        self.assertEqual(
            resp.json()["error"],
            "Failed to start subprocess: argument or environment contains a nul byte",
        )

    def test_raw_nul_in_env_value_500(self):
        resp = self.srv.raw({"executable": PRINTF, "args": ["x"], "env": {"A": "\u0000"}})
        self.assertEqual(resp.status, 500)

    # /check

    def test_check_allowed(self):
        d = self.check_ok({"executable": SH, "args": ["-c", "true"]})
        self.assertEqual(
            list(d.keys()),
            ["allowed", "reason", "executable", "resolvedPath", "hash", "cwd", "policyMode"],
        )
        self.assertTrue(d["allowed"])
        self.assertIsNone(d["reason"])
        self.assertEqual(d["resolvedPath"], SH)
        with open(SH, "rb") as f:
            expected = hashlib.sha256(f.read()).hexdigest()
        self.assertEqual(d["hash"], expected)
        self.assertEqual(d["cwd"], self.tmp)
        self.assertEqual(d["policyMode"], "rego")

    def test_check_denied(self):
        d = self.check_ok({"executable": ECHO})
        self.assertFalse(d["allowed"])
        self.assertIn("Command not allowed", d["reason"])
        self.assertEqual(d["resolvedPath"], ECHO)
        self.assertEqual(len(d["hash"]), 64)

    def test_check_bare_name_denied_by_router(self):
        d = self.check_ok({"executable": "sh"})
        self.assertFalse(d["allowed"])
        self.assertEqual(d["reason"], "Command not allowed: sh")
        self.assertEqual(d["resolvedPath"].split("/")[-1], "sh")

    def test_check_malformed_json_400(self):
        resp = self.srv.request(
            "POST", "/check", '{"executable":', {"Content-Type": "application/json"}
        )
        self.assertEqual(resp.status, 400)
        self.assertIn("Invalid request payload", resp.json()["error"])

    def test_check_rejects_bad_documents(self):
        for body in (
            "[]",
            '{"args":[]}',
            '{"executable":1}',
            '{"executable":"x","executable":"y"}',
            '{"executable":"\\ud800"}',
            '{"executable":"x","env":{"A":1}}',
            '{"executable":"x","args":[1]}',
        ):
            resp = self.srv.request(
                "POST", "/check", body, {"Content-Type": "application/json"}
            )
            self.assertEqual(resp.status, 400, body)

    def test_check_invalid_utf8_400(self):
        resp = self.srv.request(
            "POST", "/check", b'{"executable":"\xff"}', {"Content-Type": "application/json"}
        )
        self.assertEqual(resp.status, 400)

    def test_check_missing_executable_detail(self):
        resp = self.srv.check({"args": []})
        self.assertEqual(resp.json()["error"], "Invalid request payload: missing field `executable`")

    def test_check_cwd_null_and_absent_default(self):
        for doc in ({"executable": SH}, {"executable": SH, "cwd": None}):
            self.assertEqual(self.check_ok(doc)["cwd"], self.tmp)

    def test_check_env_empty_and_absent(self):
        for doc in ({"executable": SH}, {"executable": SH, "env": {}}, {"executable": SH, "env": None}):
            self.assertTrue(self.check_ok(doc)["allowed"])

    def test_check_unknown_members_ignored(self):
        self.assertTrue(self.check_ok({"executable": SH, "extra": [1, 2]})["allowed"])

    def test_check_nonexistent_cwd(self):
        d = self.check_ok({"executable": SH, "cwd": "/nonexistent/dir"})
        self.assertFalse(d["allowed"])
        self.assertIsNone(d["cwd"])
        self.assertIsNone(d["resolvedPath"])
        self.assertIsNone(d["hash"])
        self.assertIn("path does not exist", d["reason"])
        self.assertEqual(
            d["reason"], "Failed to resolve cwd '/nonexistent/dir': path does not exist"
        )

    def test_check_file_cwd_before_executable(self):
        path = os.path.join(self.tmp, "file")
        write_file(path, "x")
        d = self.check_ok({"executable": "no-such-program", "cwd": path})
        self.assertIn("path is not a directory", d["reason"])
        self.assertIsNone(d["resolvedPath"])

    def test_check_cwd_forms(self):
        sub = os.path.join(self.tmp, "a", "b")
        os.makedirs(sub)
        os.symlink(sub, os.path.join(self.tmp, "link"))
        cases = {
            "": "cwd must be absolute",
            "relative": "cwd must be absolute",
            "//x": "cwd must not start with '//'",
            "///x": "cwd must not start with '//'",
            self.tmp + "/a/./b": "cwd must not contain '.' or '..' components",
            self.tmp + "/a/../b": "cwd must not contain '.' or '..' components",
            "/missing/../x": "path does not exist",
            self.tmp + "/link": "path contains a symlink or magic link",
            self.tmp + "/link/x": "path contains a symlink or magic link",
            "/proc/self/cwd": "path contains a symlink or magic link",
            self.tmp + "/a\u0000/b": "cwd component contains a nul byte",
        }
        for cwd, detail in cases.items():
            d = self.check_ok({"executable": SH, "cwd": cwd})
            self.assertFalse(d["allowed"], cwd)
            self.assertTrue(d["reason"].endswith(detail), (cwd, d["reason"]))
            self.assertTrue(d["reason"].startswith("Failed to resolve cwd '"), cwd)
            self.assertIsNone(d["cwd"], cwd)

    def test_check_cwd_normalized(self):
        sub = os.path.join(self.tmp, "a", "b")
        os.makedirs(sub)
        for cwd in (sub + "/", self.tmp + "//a/b", self.tmp + "/a//b/"):
            self.assertEqual(self.check_ok({"executable": SH, "cwd": cwd})["cwd"], sub)
        self.assertEqual(self.check_ok({"executable": SH, "cwd": "/"})["cwd"], "/")

    def test_check_proc_fd_magic_link(self):
        fd = os.open(self.tmp, os.O_RDONLY)
        try:
            d = self.check_ok({"executable": SH, "cwd": "/proc/%d/fd/%d" % (os.getpid(), fd)})
        finally:
            os.close(fd)
        self.assertIn("symlink or magic link", d["reason"])

    def test_check_executable_resolution(self):
        d = self.check_ok({"executable": ""})
        self.assertEqual(
            d["reason"], "Failed to resolve executable path for '': '' was not found on PATH"
        )
        self.assertIsNone(d["resolvedPath"])
        self.assertIsNone(d["hash"])
        d = self.check_ok({"executable": "no-such-program-xyz"})
        self.assertIn("was not found on PATH", d["reason"])
        self.assertEqual(d["cwd"], self.tmp)
        d = self.check_ok({"executable": "a\u0000b"})
        self.assertIn("executable contains a nul byte", d["reason"])

    def test_check_relative_executable_uses_server_cwd(self):
        tool = os.path.join(self.tmp, "bin", "tool")
        write_file(tool, "#!/bin/sh\n", 0o755)
        sub = os.path.join(self.tmp, "elsewhere")
        os.makedirs(sub)
        d = self.check_ok({"executable": "bin/tool", "cwd": sub})
        self.assertEqual(d["resolvedPath"], self.tmp + "/bin/tool")
        self.assertIsNotNone(d["hash"])

    def test_check_not_executable_and_not_file(self):
        plain = os.path.join(self.tmp, "plain")
        write_file(plain, "x", 0o644)
        d = self.check_ok({"executable": plain})
        self.assertEqual(
            d["reason"],
            "Failed to resolve executable path for '%s': '%s' is not executable" % (plain, plain),
        )
        d = self.check_ok({"executable": self.tmp})
        self.assertIn("is not a file", d["reason"])
        d = self.check_ok({"executable": self.tmp + "/missing"})
        self.assertIn("failed reading metadata for", d["reason"])

    def test_check_input_has_six_keys(self):
        policy = os.path.join(self.tmp, "policy", "main.rego")
        write_file(
            policy,
            "package sandbox.main\n\n"
            'allow if {\n  object.keys(input) == {"command", "path", "hash", "args", "env", "cwd"}\n'
            '  input.cwd == "%s"\n  startswith(input.path, "/")\n}\n' % self.tmp,
        )
        self.assertTrue(self.check_ok({"executable": SH, "env": {"K": "V"}})["allowed"])

    def test_check_sha256_of_file(self):
        exe = os.path.join(self.tmp, "abc")
        write_file(exe, "abc", 0o755)
        d = self.check_ok({"executable": exe})
        self.assertEqual(
            d["hash"], "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        )

    # Execution details

    def test_run_pwd_is_requested_cwd(self):
        sub = os.path.join(self.tmp, "work")
        os.makedirs(sub)
        events = self.srv.raw({"executable": SH, "args": ["-c", "pwd"], "cwd": sub}).events()
        self.assertEqual(decode_output(events, "stdout"), (sub + "\n").encode())

    def test_run_env_printf(self):
        events = self.srv.raw({"executable": ENV, "args": ["printf", "ok"]}).events()
        self.assertEqual(decode_output(events, "stdout"), b"ok")
        self.assertEqual(decode_output(events, "stderr"), b"")

    def test_run_child_environment(self):
        events = self.srv.raw(
            {
                "executable": ENV,
                "env": {
                    "CUSTOM": "value with space",
                    "HOME": "/request/home",
                    "PATH": "/evil",
                    "HTTP_PROXY": "http://evil:1",
                    "http_proxy": "http://evil:2",
                    "NODE_USE_ENV_PROXY": "0",
                },
            }
        ).events()
        lines = decode_output(events, "stdout").decode().splitlines()
        env = dict(line.split("=", 1) for line in lines)
        self.assertEqual(env["CUSTOM"], "value with space")
        self.assertEqual(env["HOME"], "/request/home")
        self.assertEqual(env["LANG"], "C.UTF-8")
        self.assertEqual(env["PATH"], self.srv.env["PATH"])
        self.assertNotIn("HTTP_PROXY", env)
        self.assertNotIn("http_proxy", env)
        self.assertNotIn("NODE_USE_ENV_PROXY", env)
        self.assertNotIn("PWD", env)
        self.assertEqual(
            sorted(env), sorted(["CUSTOM", "HOME", "LANG", "PATH"])
        )


class ProxyEnvironmentTest(TestCase):
    def test_lowercase_proxies_mirrored(self):
        srv = self.server(
            allowed=[ENV],
            env={
                "http_proxy": "http://127.0.0.1:3128",
                "https_proxy": " http://127.0.0.1:3128 ",
                "no_proxy": "localhost",
                "HTTP_PROXY": "http://ignored:1",
                "NODE_USE_ENV_PROXY": "1",
                "LANG": "C",
            },
        )
        events = srv.raw({"executable": ENV, "env": {"LANG": "de_DE.UTF-8"}}).events()
        env = dict(
            line.split("=", 1)
            for line in decode_output(events, "stdout").decode().splitlines()
        )
        self.assertEqual(env["http_proxy"], "http://127.0.0.1:3128")
        self.assertEqual(env["HTTP_PROXY"], "http://127.0.0.1:3128")
        self.assertEqual(env["https_proxy"], "http://127.0.0.1:3128")
        self.assertEqual(env["HTTPS_PROXY"], "http://127.0.0.1:3128")
        self.assertEqual(env["no_proxy"], "localhost")
        self.assertEqual(env["NO_PROXY"], "localhost")
        self.assertEqual(env["NODE_USE_ENV_PROXY"], "1")
        self.assertEqual(env["LANG"], "de_DE.UTF-8")

    def test_uppercase_only_proxies_not_passed(self):
        srv = self.server(
            allowed=[ENV],
            env={"HTTP_PROXY": "http://127.0.0.1:1", "HTTPS_PROXY": "http://127.0.0.1:1"},
        )
        out = decode_output(srv.raw({"executable": ENV}).events(), "stdout").decode()
        self.assertNotIn("PROXY", out.upper())


class ExecutableSearchTest(TestCase):
    def test_path_lookup_keeps_symlink(self):
        bindir = os.path.join(self.tmp, "bin")
        os.makedirs(bindir)
        os.symlink(PRINTF, os.path.join(bindir, "myprintf"))
        srv = self.server(
            allowed=[], env={"PATH": bindir + ":" + os.environ.get("PATH", "/usr/bin")}
        )
        d = srv.check({"executable": "myprintf"}).json()
        self.assertEqual(d["resolvedPath"], bindir + "/myprintf")

    def test_path_skips_directories_and_empty_entries(self):
        first = os.path.join(self.tmp, "first")
        os.makedirs(os.path.join(first, "tool"))
        second = os.path.join(self.tmp, "second")
        write_file(os.path.join(second, "tool"), "#!/bin/sh\n", 0o755)
        write_file(os.path.join(self.tmp, "third", "tool"), "#!/bin/sh\n", 0o644)
        srv = self.server(
            allowed=[], env={"PATH": "%s/third::%s:%s" % (self.tmp, first, second)}
        )
        d = srv.check({"executable": "tool"}).json()
        self.assertEqual(d["resolvedPath"], second + "/tool")
        write_file(os.path.join(self.tmp, "tool2"), "#!/bin/sh\n", 0o755)
        d = srv.check({"executable": "tool2"}).json()
        self.assertEqual(d["resolvedPath"], "tool2")

    def test_path_unset(self):
        srv = self.server(allowed=[])
        srv.stop()
        del srv.env["PATH"]
        srv.start()
        d = srv.check({"executable": "sh"}).json()
        self.assertEqual(d["reason"], "Failed to resolve executable path for 'sh': PATH is not set")


if __name__ == "__main__":
    unittest.main()
