#!/usr/bin/env python3
"""Builds the Gradescope autograder zip: setup.sh and run_autograder at the top, and the
project files the grader needs (build files, aio, labs, solutions, the grader with its
hidden tests, benchmarks and rubric) beside them, as Gradescope unpacks the whole zip into
/autograder/source. Never the build folders, git data, or the grader's own test corpus.

Usage: make_zip.py [--project-root DIR] [--output build/gradescope/autograder.zip]
"""
from __future__ import annotations

import argparse
import os
import stat
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
INCLUDE = ["CMakeLists.txt", "cmake", "common", "labs", "solutions", "autograder"]
EXCLUDE_PARTS = {".git", "__pycache__", "build", ".cache"}
EXCLUDE_PREFIXES = ["autograder/tests", "autograder/gradescope", "autograder/mutants"]


def wanted(relative: str) -> bool:
    parts = relative.split("/")
    if any(part in EXCLUDE_PARTS for part in parts):
        return False
    return not any(relative == prefix or relative.startswith(prefix + "/") for prefix in EXCLUDE_PREFIXES)


def add_file(archive: zipfile.ZipFile, path: Path, name: str) -> None:
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))   # reproducible
    executable = path.stat().st_mode & stat.S_IXUSR
    info.external_attr = (0o755 if executable else 0o644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, path.read_bytes())


def build(root: Path, output: Path) -> list[str]:
    output.parent.mkdir(parents=True, exist_ok=True)
    names = []
    temporary = output.with_name(output.name + ".tmp")
    with zipfile.ZipFile(temporary, "w") as archive:
        for script in ("setup.sh", "run_autograder"):
            add_file(archive, HERE / script, script)
            names.append(script)
        for top in INCLUDE:
            start = root / top
            if start.is_file():
                add_file(archive, start, top)
                names.append(top)
                continue
            for folder, subfolders, files in os.walk(start, followlinks=True):
                relative_folder = os.path.relpath(folder, root)
                subfolders[:] = sorted(d for d in subfolders if wanted(f"{relative_folder}/{d}"))
                for file in sorted(files):
                    relative = f"{relative_folder}/{file}"
                    if wanted(relative) and not file.endswith((".pyc", ".tmp")):
                        add_file(archive, Path(folder) / file, relative)
                        names.append(relative)
    os.replace(temporary, output)
    return names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project-root", type=Path, default=HERE.parents[1])
    parser.add_argument("--output", type=Path)
    arguments = parser.parse_args()
    root = arguments.project_root.resolve()
    output = arguments.output or root / "build" / "gradescope" / "autograder.zip"
    names = build(root, output)
    print(f"{output}: {len(names)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
