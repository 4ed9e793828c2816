"""`make gradescope`: the zip has setup.sh and run_autograder at its top and the project
beside them, nothing from build folders or the grader's test corpus; unpacked into a fake
/autograder root, run_autograder grades /autograder/submission and writes a valid
/autograder/results/results.json. Uses the fixture project, one small lab."""
import json
import os
import shutil
import subprocess
import sys
import time
import unittest
import zipfile

import support
from aiograde.schema import validate

MAKE_ZIP = support.AUTOGRADER / "gradescope" / "make_zip.py"


def extract(archive: zipfile.ZipFile, destination):
    """Unpacks with the zip's permissions and (fixed) timestamps, so that unpacking the same
    zip again changes nothing and the build tree under the fake root stays warm."""
    for info in archive.infolist():
        path = destination / info.filename
        path.parent.mkdir(parents=True, exist_ok=True)
        data = archive.read(info)
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
        os.chmod(path, (info.external_attr >> 16) & 0o777 or 0o644)
        stamp = time.mktime(info.date_time + (0, 0, -1))
        os.utime(path, (stamp, stamp))


class GradescopePackageTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.folder = support.selftest_dir() / "gradescope"
        cls.zip_path = cls.folder / "autograder.zip"
        subprocess.run([sys.executable, str(MAKE_ZIP), "--project-root", str(support.fixture_root()),
                        "--output", str(cls.zip_path)], check=True, capture_output=True)
        with zipfile.ZipFile(cls.zip_path) as archive:
            cls.names = archive.namelist()

    def test_the_zip_has_the_two_scripts_at_its_top_and_they_are_executable(self):
        with zipfile.ZipFile(self.zip_path) as archive:
            for script in ("setup.sh", "run_autograder"):
                self.assertIn(script, self.names)
                self.assertTrue((archive.getinfo(script).external_attr >> 16) & 0o100)

    def test_the_zip_has_the_project_and_nothing_from_builds_or_the_test_corpus(self):
        for needed in ("CMakeLists.txt", "cmake/AioLabs.cmake", "common/CMakeLists.txt",
                       "labs/90_alpha/alpha.cpp", "solutions/90_alpha/alpha.cpp", "autograder/grade",
                       "autograder/rubric.json", "autograder/aiograde/grader.py"):
            self.assertIn(needed, self.names)
        for name in self.names:
            self.assertFalse(name.startswith(("build/", "autograder/tests/", "autograder/mutants/")), name)
            self.assertNotIn("__pycache__", name)
            self.assertNotIn("/.git/", name)

    def test_run_autograder_grades_the_submission_into_results_json(self):
        root = self.folder / "root"
        source = root / "source"
        with zipfile.ZipFile(self.zip_path) as archive:
            extract(archive, source)
        submission = root / "submission"
        if submission.exists():
            shutil.rmtree(submission)
        # Students often upload the whole labs folder: the grader finds the labs inside it.
        support.make_submission(submission / "labs")
        results = root / "results" / "results.json"
        if results.exists():
            results.unlink()
        environment = dict(os.environ, AUTOGRADER_ROOT=str(root), AIOLAB_GRADE_ARGS="--labs 91")
        compiler = os.environ.get("AIOLAB_SELFTEST_CXX")
        if compiler:
            environment["AIOLAB_GRADE_ARGS"] += f" --cxx {compiler}"
        process = subprocess.run(["bash", str(source / "run_autograder")], env=environment,
                                 capture_output=True, text=True, timeout=900)
        self.assertEqual(process.returncode, 0, process.stderr[-2000:])
        data = json.loads(results.read_text())
        self.assertEqual(validate(data, support.load_schema("gradescope")), [])
        self.assertEqual(data["score"], 100, data["output"])


if __name__ == "__main__":
    unittest.main()
