"""The sandbox starts programs the unprivileged test uids could not reach by themselves."""
import os
import shutil
import tempfile
import unittest
from pathlib import Path

import support  # noqa: F401
from aiograde.sandbox import Limits, Sandbox


@unittest.skipUnless(os.geteuid() == 0, "only root grades as an unprivileged uid")
class UnreachableProgramTests(unittest.TestCase):
    def test_a_program_in_a_private_folder_still_runs_as_the_test_uid(self):
        # A clone in /root or in a mode-700 temporary folder: uid 61000+ cannot traverse it.
        with tempfile.TemporaryDirectory() as private:
            os.chmod(private, 0o700)
            program = Path(private) / "true_program"
            shutil.copyfile("/bin/true", program)
            os.chmod(program, 0o755)
            for mode in (["bwrap"] if shutil.which("bwrap") else []) + ["rlimits"]:
                with self.subTest(mode=mode):
                    sandbox = Sandbox.probe() if mode == "bwrap" else Sandbox("rlimits")
                    result = sandbox.run(program, [], Limits(wall_seconds=20), channel=False)
                    self.assertEqual(result.exit_code, 0, result.launch_error or result.output)

    def test_a_rebuilt_program_is_staged_again(self):
        with tempfile.TemporaryDirectory() as private:
            program = Path(private) / "program"
            shutil.copyfile("/bin/true", program)
            os.chmod(program, 0o755)
            sandbox = Sandbox("rlimits")
            first = sandbox.run(program, [], Limits(wall_seconds=20), channel=False)
            shutil.copyfile("/bin/false", program)  # a new build of the same target
            second = sandbox.run(program, [], Limits(wall_seconds=20), channel=False)
            self.assertEqual((first.exit_code, second.exit_code), (0, 1))


if __name__ == "__main__":
    unittest.main()
