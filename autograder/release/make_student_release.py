#!/usr/bin/env python3
"""Builds the student release, build/release/aiolab-student.tar.gz: everything a student
needs (the build files, Makefile, aio in common/, the labs with their public tests, docs,
the grader and its rubric) and nothing they must not see (solutions/, the hidden tests,
benchmarks, mutants, the grader's test corpus and the Gradescope package). Without hidden
tests, `make grade` in the release scores the public tests only, and says so.

Usage: make_student_release.py [--project-root DIR] [--output PATH]
"""
from __future__ import annotations

import argparse
import io
import os
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOP_FOLDERS = ["cmake", "common", "labs", "docs", "autograder"]
EXCLUDE_PARTS = {".git", "__pycache__", "build", ".cache", "site"}
EXCLUDE_PREFIXES = ["solutions", "autograder/hidden", "autograder/mutants", "autograder/tests",
                    "autograder/bench", "autograder/gradescope", "autograder/release"]
PREFIX = "aiolab"


def wanted(relative: str) -> bool:
    if any(part in EXCLUDE_PARTS for part in relative.split("/")):
        return False
    return not any(relative == prefix or relative.startswith(prefix + "/") for prefix in EXCLUDE_PREFIXES)


def files(root: Path) -> list[str]:
    found = [entry.name for entry in sorted(root.iterdir())
             if entry.is_file() and not entry.name.endswith((".pyc", ".tmp"))]
    for top in TOP_FOLDERS:
        for folder, subfolders, names in os.walk(root / top, followlinks=True):
            relative_folder = os.path.relpath(folder, root)
            subfolders[:] = sorted(d for d in subfolders if wanted(f"{relative_folder}/{d}"))
            found += [f"{relative_folder}/{name}" for name in sorted(names)
                      if wanted(f"{relative_folder}/{name}") and not name.endswith((".pyc", ".tmp"))]
    return found


def build(root: Path, output: Path) -> list[str]:
    names = files(root)
    output.parent.mkdir(parents=True, exist_ok=True)
    temporary = output.with_name(output.name + ".tmp")
    with tarfile.open(temporary, "w:gz") as archive:
        for name in names:
            path = root / name
            info = tarfile.TarInfo(f"{PREFIX}/{name}")
            data = path.read_bytes()
            info.size = len(data)
            info.mode = 0o755 if os.access(path, os.X_OK) else 0o644
            info.mtime = 1704067200   # fixed, so that two releases of the same tree are identical
            archive.addfile(info, io.BytesIO(data))
    os.replace(temporary, output)
    return names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project-root", type=Path, default=HERE.parents[1])
    parser.add_argument("--output", type=Path)
    arguments = parser.parse_args()
    root = arguments.project_root.resolve()
    output = arguments.output or root / "build" / "release" / "aiolab-student.tar.gz"
    names = build(root, output)
    print(f"{output}: {len(names)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
