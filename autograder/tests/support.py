"""Shared helpers for the grader's tests: a project root made of the real build files and
the fixture labs, and a way to grade a submission in one reused build tree."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parent
AUTOGRADER = TESTS.parent
REPO = AUTOGRADER.parent
FIXTURES = TESTS / "fixtures"
HOSTILE = TESTS / "hostile"
SCHEMAS = REPO / "docs" / "reference" / "schemas"

sys.path.insert(0, str(AUTOGRADER))


def selftest_dir() -> Path:
    """Where the fixture project and its build tree live: $AIOLAB_SELFTEST_DIR (CTest sets
    it inside the build folder, so a second run is warm), else build/autograder-selftest."""
    configured = os.environ.get("AIOLAB_SELFTEST_DIR")
    folder = Path(configured) if configured else REPO / "build" / "autograder-selftest"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _link(target: Path, link: Path) -> None:
    if link.is_symlink() and os.readlink(link) == str(target):
        return
    if link.is_symlink() or link.is_file():
        link.unlink()
    elif link.is_dir():
        shutil.rmtree(link)
    link.symlink_to(target)


def fixture_root() -> Path:
    """A project root: the real CMakeLists.txt, cmake/, common/ and autograder/, with the
    fixture labs and solutions in place of the real ones."""
    root = selftest_dir() / "project"
    (root / "labs").mkdir(parents=True, exist_ok=True)
    for name in ("CMakeLists.txt", "cmake", "common", "autograder"):
        _link(REPO / name, root / name)
    _link(REPO / "labs" / "CMakeLists.txt", root / "labs" / "CMakeLists.txt")
    for lab in sorted((FIXTURES / "labs").iterdir()):
        _link(lab, root / "labs" / lab.name)
    _link(FIXTURES / "solutions", root / "solutions")
    return root


def make_submission(base: Path, overlay: Path | None = None, starter: bool = False) -> Path:
    """A submission folder: the fixture solutions (or starters), with the files of `overlay`
    (a hostile case's NN_name/ folders) on top."""
    if base.exists():
        shutil.rmtree(base)
    source = FIXTURES / ("labs" if starter else "solutions")
    for lab in sorted(source.iterdir()):
        if lab.is_dir():
            shutil.copytree(lab, base / lab.name, ignore=shutil.ignore_patterns("tests"))
    if overlay is not None:
        for lab in sorted(overlay.iterdir()):
            if lab.is_dir():
                shutil.copytree(lab, base / lab.name, dirs_exist_ok=True)
    return base


def grade(submission: Path, *extra: str, fmt: str = "gradescope", labs: str | None = None,
          output: Path | None = None, timeout: float = 600) -> tuple[dict, subprocess.CompletedProcess, float]:
    """Runs the grader as a student or Gradescope would; returns (JSON, process, seconds)."""
    folder = selftest_dir()
    output = output or folder / "results.json"
    if output.exists():
        output.unlink()
    command = [sys.executable, str(AUTOGRADER / "grade"), str(submission),
               "--project-root", str(fixture_root()), "--build-dir", str(folder / "grade"),
               "--hidden-dir", str(FIXTURES / "hidden"), "--bench-dir", str(FIXTURES / "bench"),
               "--rubric", str(FIXTURES / "rubric.json"), "--format", fmt, "--output", str(output),
               "--color", "never"]
    if labs:
        command += ["--labs", labs]
    if os.environ.get("AIOLAB_SELFTEST_NO_SANDBOX"):
        command.append("--no-sandbox")   # exercise the rlimits-only fallback
    compiler = os.environ.get("AIOLAB_SELFTEST_CXX")
    if compiler:
        command += ["--cxx", compiler]
    command += list(extra)
    start = time.monotonic()
    process = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    seconds = time.monotonic() - start
    data = json.loads(output.read_text())
    return data, process, seconds


def load_schema(fmt: str) -> dict:
    return json.loads((SCHEMAS / f"{fmt}-results.schema.json").read_text())


def tests_by_name(results: dict) -> dict[str, dict]:
    return {test["name"]: test for test in results["tests"]}
