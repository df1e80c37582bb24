#!/usr/bin/env python3
"""mcp-run and permission bits.  Root ignores them, so when the tests run
as root mcp-run runs as an unprivileged user (setpriv)."""

import sys

# mcptest is imported from the source tree, which must stay clean.
sys.dont_write_bytecode = True

import os
import shutil
import unittest

from mcptest import NOBODY, SH, TestCase, is_root, write_file


class PermissionTest(TestCase):
    def setUp(self):
        super().setUp()
        if is_root() and shutil.which("setpriv") is None:
            self.skipTest("setpriv (util-linux) is needed to drop root")
        self.user = NOBODY if is_root() else None
        if self.user is not None:
            os.makedirs(os.path.join(self.tmp, "run"))
            os.chown(os.path.join(self.tmp, "run"), self.user, self.user)
        self.srv = self.server(allowed=[SH], user=self.user)

    def make_dir(self, path, mode):
        os.makedirs(path)
        if self.user is not None:
            os.chown(path, self.user, self.user)
        os.chmod(path, mode)

    def test_final_dir_without_search_permission(self):
        locked = os.path.join(self.tmp, "locked")
        self.make_dir(locked, 0o600)
        decision = self.srv.check({"executable": SH, "cwd": locked}).json()
        self.assertTrue(decision["allowed"], decision)
        self.assertEqual(decision["cwd"], locked)
        resp = self.srv.raw({"executable": SH, "args": ["-c", "pwd"], "cwd": locked})
        self.assertEqual(resp.status, 500)
        self.assertEqual(resp.json()["error"], "Failed to start subprocess: Permission denied")

    def test_intermediate_dir_without_search_permission(self):
        locked = os.path.join(self.tmp, "locked")
        self.make_dir(os.path.join(locked, "inner"), 0o755)
        os.chmod(locked, 0o600)
        decision = self.srv.check({"executable": SH, "cwd": locked + "/inner"}).json()
        self.assertFalse(decision["allowed"])
        self.assertEqual(
            decision["reason"],
            "Failed to resolve cwd '%s/inner': permission denied" % locked,
        )

    def test_unreadable_executable(self):
        tool = os.path.join(self.tmp, "tool")
        write_file(tool, "#!/bin/sh\n", 0o711)
        decision = self.srv.check({"executable": tool}).json()
        self.assertEqual(
            decision["reason"],
            "Failed to compute executable hash for '%s': failed opening '%s' for "
            "hashing: Permission denied" % (tool, tool),
        )
        self.assertEqual(decision["resolvedPath"], tool)
        self.assertIsNone(decision["hash"])

    def test_socket_owned_by_server_user(self):
        st = os.stat(self.srv.socket_path)
        self.assertEqual(st.st_mode & 0o777, 0o600)
        if self.user is not None:
            self.assertEqual(st.st_uid, self.user)


if __name__ == "__main__":
    unittest.main()
