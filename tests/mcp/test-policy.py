#!/usr/bin/env python3
"""mcp-run policy handling through the server: reload on change, deny-all,
hash pinning."""

import sys

# mcptest is imported from the source tree, which must stay clean.
sys.dont_write_bytecode = True

import hashlib
import os
import shutil
import unittest

from mcptest import ECHO, PRINTF, SH, TestCase, decode_output, router_policy, write_file


class PolicyReloadTest(TestCase):
    def setUp(self):
        super().setUp()
        self.srv = self.server(allowed=[ECHO])
        self.main = os.path.join(self.srv.policy_dir, "main.rego")

    def rewrite(self, text, mtime_step):
        write_file(self.main, text)
        # A later mtime, so the rewrite is seen even within one tick of the
        # filesystem clock.
        st = os.stat(self.main)
        os.utime(self.main, ns=(st.st_atime_ns, st.st_mtime_ns + mtime_step))

    def test_rewrite_changes_decisions(self):
        self.assertTrue(self.srv.check({"executable": ECHO}).json()["allowed"])
        self.assertFalse(self.srv.check({"executable": PRINTF}).json()["allowed"])
        self.rewrite(router_policy([PRINTF]), 1000000000)
        self.assertTrue(self.srv.check({"executable": PRINTF}).json()["allowed"])
        self.assertFalse(self.srv.check({"executable": ECHO}).json()["allowed"])
        self.assertIn("event=policy mode=rego", self.srv.log())

    def test_same_size_edit_later_seen(self):
        a = router_policy([ECHO])
        b = router_policy([ECHO[:-4] + "true"])
        self.assertEqual(len(a), len(b))
        self.assertTrue(self.srv.check({"executable": ECHO}).json()["allowed"])
        self.rewrite(b, 1000000000)
        self.assertFalse(self.srv.check({"executable": ECHO}).json()["allowed"])
        self.assertTrue(
            self.srv.check({"executable": ECHO[:-4] + "true"}).json()["allowed"]
        )

    def test_broken_policy_then_repair(self):
        self.rewrite("package sandbox.main\nallow if {", 1000000000)
        d = self.srv.check({"executable": ECHO}).json()
        self.assertFalse(d["allowed"])
        self.assertTrue(d["reason"].startswith("Policy deny-all is active: rego policy load failed: failed compiling '%s': %s:" % (self.main, self.main)), d["reason"])
        # The first request after the break began in rego mode.
        self.assertEqual(d["policyMode"], "rego")
        d = self.srv.check({"executable": ECHO}).json()
        self.assertEqual(d["policyMode"], "deny-all")

        resp = self.srv.raw({"executable": ECHO})
        self.assertEqual(resp.status, 403)
        self.assertTrue(resp.json()["error"].startswith("Policy deny-all is active: "))

        self.rewrite(router_policy([ECHO]), 2000000000)
        d = self.srv.check({"executable": ECHO}).json()
        self.assertTrue(d["allowed"])
        self.assertEqual(d["policyMode"], "deny-all")
        d = self.srv.check({"executable": ECHO}).json()
        self.assertEqual(d["policyMode"], "rego")
        self.assertIn("event=policy mode=deny-all", self.srv.log())

    def test_policy_dir_removed_and_restored(self):
        shutil.rmtree(self.srv.policy_dir)
        d = self.srv.check({"executable": ECHO}).json()
        self.assertEqual(
            d["reason"],
            "Policy deny-all is active: failed reading policy directory '%s': No such file or directory"
            % self.srv.policy_dir,
        )
        write_file(self.main, router_policy([ECHO]))
        self.assertTrue(self.srv.check({"executable": ECHO}).json()["allowed"])

    def test_module_removed_leaves_none(self):
        os.unlink(self.main)
        d = self.srv.check({"executable": ECHO}).json()
        self.assertEqual(
            d["reason"],
            "Policy deny-all is active: no .rego files found under policy directory '%s'"
            % self.srv.policy_dir,
        )

    def test_broken_symlink_module(self):
        os.symlink("/nonexistent/x.rego", os.path.join(self.srv.policy_dir, "x.rego"))
        d = self.srv.check({"executable": ECHO}).json()
        self.assertTrue(
            d["reason"].startswith(
                "Policy deny-all is active: failed fingerprinting policy directory '%s': "
                % self.srv.policy_dir
            ),
            d["reason"],
        )

    def test_undefined_allow(self):
        self.rewrite("package sandbox.other\n\nallow := true\n", 1000000000)
        d = self.srv.check({"executable": ECHO}).json()
        self.assertEqual(
            d["reason"],
            "Policy evaluation failed for '%s': query did not produce any values" % ECHO,
        )

    def test_non_boolean_allow(self):
        self.rewrite('package sandbox.main\n\nallow := "yes"\n', 1000000000)
        d = self.srv.check({"executable": ECHO}).json()
        self.assertTrue(d["reason"].startswith("Policy evaluation failed for '%s': " % ECHO))


class CwdRuleTest(TestCase):
    def test_cwd_rule_decides(self):
        allowed = os.path.join(self.tmp, "allowed")
        other = os.path.join(self.tmp, "other")
        os.makedirs(os.path.join(allowed, "sub"))
        os.makedirs(other)
        write_file(
            os.path.join(self.tmp, "policy", "main.rego"),
            "package sandbox.main\n\ndefault allow := false\n\n"
            'allow if input.cwd == "%s"\n\n'
            'allow if startswith(input.cwd, "%s/")\n' % (allowed, allowed),
        )
        srv = self.server(policy_dir=os.path.join(self.tmp, "policy"))
        for cwd, expected in (
            (allowed, True),
            (allowed + "/", True),
            (allowed + "//sub", True),
            (other, False),
            (self.tmp, False),
        ):
            decision = srv.check({"executable": SH, "cwd": cwd}).json()
            self.assertEqual(decision["allowed"], expected, cwd)
        decision = srv.check({"executable": SH}).json()
        self.assertFalse(decision["allowed"])
        self.assertEqual(decision["cwd"], self.tmp)


class HashPinningTest(TestCase):
    def test_replaced_binary_denied(self):
        tool = os.path.join(self.tmp, "tool")
        shutil.copy(PRINTF, tool)
        with open(tool, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        write_file(
            os.path.join(self.tmp, "policy", "main.rego"),
            'package sandbox.main\n\ndefault allow := false\n\nallow if input.hash == "%s"\n'
            % digest,
        )
        srv = self.server(policy_dir=os.path.join(self.tmp, "policy"))
        d = srv.check({"executable": tool, "args": ["ok"]}).json()
        self.assertTrue(d["allowed"])
        self.assertEqual(d["hash"], digest)

        replacement = os.path.join(self.tmp, "replacement")
        shutil.copy(ECHO, replacement)
        os.rename(replacement, tool)
        resp = srv.raw({"executable": tool, "args": ["ok"]})
        self.assertEqual(resp.status, 403)
        self.assertIn("Command not allowed", resp.json()["error"])

    def test_edited_in_place_denied(self):
        tool = os.path.join(self.tmp, "tool.sh")
        write_file(tool, "#!/bin/sh\necho one\n", 0o755)
        with open(tool, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        write_file(
            os.path.join(self.tmp, "policy", "main.rego"),
            'package sandbox.main\n\ndefault allow := false\n\nallow if input.hash == "%s"\n'
            % digest,
        )
        srv = self.server(policy_dir=os.path.join(self.tmp, "policy"))
        events = srv.raw({"executable": tool}).events()
        self.assertEqual(decode_output(events, "stdout"), b"one\n")
        with open(tool, "r+") as f:
            f.write("#!/bin/sh\necho two\n")
        self.assertEqual(srv.raw({"executable": tool}).status, 403)


if __name__ == "__main__":
    unittest.main()
