"""The hostile corpus (hostile/*/): each submission misbehaves in one way. For each, the
grader must finish within the case's time bound, give the affected tests the expected
verdict, pass every other test of the lab, keep lab 91_beta at full score, and write JSON
that matches the schema."""
import json
import os
import socket
import threading
import time
import unittest

import support
from aiograde.sandbox import SANDBOX_UID_BASE
from aiograde.schema import validate

WORK = support.selftest_dir() / "submissions"
SCHEMA = support.load_schema("gradescope")


def sandbox_processes() -> list[str]:
    """Processes still running as one of the sandbox uids, or still running a fixture test."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            uid = entry.stat().st_uid
            with open(f"/proc/{entry.name}/cmdline", "rb") as file:
                command = file.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if (os.geteuid() == 0 and SANDBOX_UID_BASE <= uid < SANDBOX_UID_BASE + 64) or "lab_90_tests" in command \
                or "lab_90_hidden_tests" in command:
            found.append(f"{entry.name} uid={uid} {command[:80]}")
    return found


class Listener:
    """A TCP server on 127.0.0.1:port that accepts and closes, for the network case."""

    def __init__(self, port: int):
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", port))
        self.server.listen(16)
        self.server.settimeout(0.2)
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                connection, _ = self.server.accept()
                connection.close()
            except OSError:
                pass

    def close(self):
        self.running = False
        self.thread.join()
        self.server.close()


class HostileCorpusTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Warm the build tree with the solution, so each case only rebuilds its own file.
        solution = support.make_submission(WORK / "solution")
        cls.reference, _, _ = support.grade(solution)
        cls.sandboxed = cls.reference["extra_data"]["sandbox"].startswith("bubblewrap")
        cls.names = {t["name"] for t in cls.reference["tests"] if t["name"].startswith("90_alpha: ")
                     and t["name"] != "90_alpha: performance"}

    def check_case(self, case: str):
        folder = support.HOSTILE / case
        expect = json.loads((folder / "expect.json").read_text())
        if expect.get("needs_sandbox") and not self.sandboxed:
            self.skipTest("needs the bubblewrap sandbox, which cannot run here")
        build = support.selftest_dir() / "grade"
        forbidden = [path.replace("{build}", str(build)) for path in expect.get("no_files", [])]
        for path in forbidden:
            if os.path.exists(path):
                os.unlink(path)
        listener = Listener(expect["listen_port"]) if "listen_port" in expect else None
        try:
            submission = support.make_submission(WORK / case, folder)
            results, process, seconds = support.grade(submission)
        finally:
            if listener:
                listener.close()
        phases = results["extra_data"]["phases"]
        print(f"\n[hostile] {case}: graded in {seconds:.1f} s, its tests ran in {phases.get('tests', 0):.1f} s")
        self.assertEqual(process.returncode, 0, process.stderr[-2000:])
        # The bound is on running the tests; building is bounded separately and generously,
        # because it depends on what else changed in the tree (a cold aio rebuild).
        self.assertLess(phases.get("tests", 0) + phases.get("benchmarks", 0), expect["max_seconds"])
        self.assertLess(seconds, expect["max_seconds"] + 600)
        self.assertEqual(validate(results, SCHEMA), [])
        self.assertFalse(results["extra_data"]["internal_error"])
        tests = support.tests_by_name(results)
        labs = {lab["lab"]: lab for lab in results["extra_data"]["labs"]}
        self.assertEqual(labs["91_beta"]["score"], 100, "another lab lost points")

        messages = []
        if "lab_error" in expect:
            entry = tests[f"90_alpha: {expect['lab_error']}"]
            self.assertEqual((entry["status"], entry["score"]), ("failed", 0))
            messages.append(entry["output"])
        else:
            verdicts = expect["verdicts"]
            for name in self.names:
                test = tests[name]
                short = name[len("90_alpha: "):]
                with self.subTest(test=short):
                    if short in verdicts:
                        self.assertEqual(test["status"], "failed")
                        self.assertIn(verdicts[short], test["tags"], test["output"])
                        self.assertTrue(test["output"].lower().startswith(verdicts[short]), test["output"])
                        messages.append(test["output"])
                    else:
                        self.assertEqual(test["status"], "passed", test["output"])
        for text in expect.get("message_contains", []):
            self.assertTrue(any(text in message for message in messages), (text, messages))
        for path in forbidden:
            self.assertFalse(os.path.exists(path), f"the submission wrote {path}")
        if expect.get("no_leftover_processes"):
            # A killed pid namespace takes a moment to reap its processes.
            deadline = time.monotonic() + 10
            while sandbox_processes() and time.monotonic() < deadline:
                time.sleep(0.2)
            self.assertEqual(sandbox_processes(), [])


def _add_case(case: str):
    def test(self):
        self.check_case(case)
    test.__doc__ = json.loads((support.HOSTILE / case / "expect.json").read_text())["description"]
    setattr(HostileCorpusTests, f"test_{case}", test)


for _case in sorted(path.name for path in support.HOSTILE.iterdir() if (path / "expect.json").is_file()):
    _add_case(_case)


if __name__ == "__main__":
    unittest.main()
