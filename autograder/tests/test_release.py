"""`make student-release`: the archive has what a student needs and nothing secret (no
solutions, hidden tests, benchmarks, mutants or grader test corpus, and no copy of a
solution file's content anywhere); unpacked, `make check LAB=01` runs and the grader scores
the public tests only, and says so. Uses the real project."""
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import unittest

import support
from aiograde.schema import validate

MAKE_RELEASE = support.AUTOGRADER / "release" / "make_student_release.py"
SECRET_FOLDERS = ("solutions/", "autograder/hidden/", "autograder/mutants/", "autograder/tests/",
                  "autograder/bench/")


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class StudentReleaseTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.folder = support.selftest_dir() / "release"
        cls.archive_path = cls.folder / "aiolab-student.tar.gz"
        subprocess.run([sys.executable, str(MAKE_RELEASE), "--output", str(cls.archive_path)],
                       check=True, capture_output=True)
        with tarfile.open(cls.archive_path) as archive:
            cls.members = {member.name.split("/", 1)[1]: archive.extractfile(member).read()
                           for member in archive.getmembers() if member.isfile()}

    def test_the_release_has_the_labs_their_public_tests_aio_and_the_grader(self):
        for needed in ("CMakeLists.txt", "cmake/AioLabs.cmake", "cmake/catch_main.cpp",
                       "common/CMakeLists.txt", "labs/CMakeLists.txt", "autograder/grade.py",
                       "autograder/rubric.json", "autograder/aiograde/grader.py"):
            self.assertIn(needed, self.members)
        for lab in sorted((support.REPO / "labs").glob("[0-9][0-9]_*/tests/test_*.cpp")):
            self.assertIn(str(lab.relative_to(support.REPO)), self.members)
        if (support.REPO / "Makefile").is_file():
            self.assertIn("Makefile", self.members)

    def test_the_release_has_nothing_a_student_must_not_see(self):
        for name in self.members:
            self.assertFalse(name.startswith(SECRET_FOLDERS), name)

    def test_no_file_of_the_release_is_a_copy_of_a_reference_solution(self):
        shipped = {digest(data) for data in self.members.values()}
        for solution in sorted((support.REPO / "solutions").rglob("*")):
            if not solution.is_file():
                continue
            relative = solution.relative_to(support.REPO / "solutions")
            starter = support.REPO / "labs" / relative
            data = solution.read_bytes()
            if starter.is_file() and starter.read_bytes() == data:
                continue   # a file the lab hands out unchanged (nothing to hide)
            self.assertNotIn(digest(data), shipped, f"the release contains solutions/{relative}")

    def test_unpacked_it_checks_a_lab_and_grades_the_public_tests_only(self):
        root = self.folder / "unpacked"
        with tarfile.open(self.archive_path) as archive:
            for member in archive.getmembers():
                path = root / member.name.split("/", 1)[1]
                data = archive.extractfile(member).read()
                path.parent.mkdir(parents=True, exist_ok=True)
                if not path.exists() or path.read_bytes() != data:
                    path.write_bytes(data)
                os.chmod(path, member.mode)
                os.utime(path, (member.mtime, member.mtime))   # unchanged files stay warm
        if (root / "Makefile").is_file():
            check = subprocess.run(["make", "check", "LAB=01"], cwd=root, capture_output=True, text=True,
                                   timeout=1500)
            self.assertIn("01", check.stdout + check.stderr)
            self.assertNotIn("No rule to make target", check.stderr)
        output = root / "build" / "grade" / "results.json"
        command = [sys.executable, str(root / "autograder" / "grade.py"), "labs", "--labs", "01",
                   "--output", str(output)]
        compiler = os.environ.get("AIOLAB_SELFTEST_CXX")
        if compiler:
            command += ["--cxx", compiler]
        process = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=1500)
        self.assertEqual(process.returncode, 0, process.stderr[-2000:])
        data = json.loads(output.read_text())
        self.assertEqual(validate(data, support.load_schema("gradescope")), [])
        self.assertIn("public tests only", data["output"])
        self.assertFalse(data["extra_data"]["internal_error"])
        self.assertTrue(all("public" in test["tags"] for test in data["tests"]
                            if test["name"].startswith("01_event_loop: ") and "build" not in test["tags"]))


if __name__ == "__main__":
    unittest.main()
