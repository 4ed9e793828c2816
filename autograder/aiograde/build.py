"""One CMake build tree for grading, configured once and reused by every lab and every run.

The tree builds the project with AIO_SUBMISSION_DIR pointing at a fixed scratch folder (so
the configuration never changes between submissions), hidden tests on, starter checks off.
Grading a lab builds only that lab's targets; a compile error is caught per lab and turned
into a short message with paths relative to the submission.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

STATE_FILE = "aiograde-state.json"
MAX_ERROR_LINES = 40
MAX_ERROR_CHARS = 5000


@dataclass
class BuildResult:
    ok: bool
    message: str = ""      # trimmed compiler output, for the report
    seconds: float = 0.0
    timed_out: bool = False


def _run(command: list[str], cwd: Path | None, timeout: float,
         env: dict[str, str] | None = None) -> tuple[int | None, str, bool]:
    """Runs a build command in its own process group; kills the group on timeout."""
    process = subprocess.Popen(command, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, start_new_session=True, env=env)
    try:
        output, _ = process.communicate(timeout=timeout)
        return process.returncode, output.decode("utf-8", errors="replace"), False
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        return None, output.decode("utf-8", errors="replace"), True


class BuildTree:
    def __init__(self, root: Path, tree: Path, scratch: Path, hidden_dir: Path | None,
                 bench_dir: Path | None, jobs: int, compiler: str | None = None,
                 benchmarks: bool = True, build_sandbox: list[str] | None = None):
        self.root = root
        self.tree = tree
        self.scratch = scratch
        self.hidden_dir = hidden_dir if hidden_dir and hidden_dir.is_dir() else None
        self.bench_dir = bench_dir if bench_dir and bench_dir.is_dir() else None
        self.jobs = jobs
        self.compiler = compiler
        self.benchmarks = benchmarks
        self.build_sandbox = build_sandbox or []
        self._targets: set[str] | None = None

    # --- configure ----------------------------------------------------------------------
    def _options(self, benchmarks: bool) -> dict[str, str]:
        options = {
            "CMAKE_BUILD_TYPE": "RelWithDebInfo",
            "AIO_SUBMISSION_DIR": str(self.scratch),
            "AIO_HIDDEN_TESTS_DIR": str(self.hidden_dir or ""),
            "AIO_GRADER_BENCH_DIR": str(self.bench_dir or ""),
            "AIO_BUILD_SOLUTIONS": "ON",     # targets exist; built only for benchmarks
            "AIO_CHECK_STARTERS": "OFF",
            "AIO_BUILD_TESTS": "ON",
            "AIO_BUILD_LABS": "ON",
            "AIO_BUILD_BENCHMARKS": "ON" if benchmarks else "OFF",
            "AIO_WERROR": "OFF",             # a warning never costs a student their grade
            "AIO_SANITIZE": "",
        }
        if self.compiler:
            options["CMAKE_CXX_COMPILER"] = self.compiler
        return options

    def configure(self, timeout: float = 600) -> BuildResult:
        """Configures the tree unless it is already configured with the same options."""
        start = time.monotonic()
        state_path = self.tree / STATE_FILE
        wanted_benchmarks = self.benchmarks and self.bench_dir is not None
        for benchmarks in ([True, False] if wanted_benchmarks else [False]):
            options = self._options(benchmarks)
            state = {"root": str(self.root), "options": options}
            try:
                if (self.tree / "build.ninja").is_file() and json.loads(state_path.read_text()) == state:
                    self.benchmarks = benchmarks
                    return BuildResult(True, seconds=time.monotonic() - start)
            except (OSError, ValueError):
                pass
            self.tree.mkdir(parents=True, exist_ok=True)
            command = ["cmake", "-S", str(self.root), "-B", str(self.tree), "-G", "Ninja",
                       "-Wno-dev"] + [f"-D{key}={value}" for key, value in options.items()]
            code, output, timed_out = _run(command, None, timeout)
            if code == 0:
                state_path.write_text(json.dumps(state))
                self.benchmarks = benchmarks
                self._targets = None
                return BuildResult(True, seconds=time.monotonic() - start)
            state_path.unlink(missing_ok=True)
            if benchmarks and "benchmark" in output.lower():
                continue  # Google Benchmark is not installed: grade without benchmarks
            message = self._trim(output, hidden=False) or "cmake failed without a message"
            return BuildResult(False, message, time.monotonic() - start, timed_out)
        return BuildResult(False, "cmake failed", time.monotonic() - start)

    def targets(self) -> set[str]:
        """Every target name the tree knows."""
        if self._targets is None:
            code, output, _ = _run(["ninja", "-C", str(self.tree), "-t", "targets", "all"], None, 120)
            names = set()
            for line in output.splitlines():
                name, sep, _ = line.partition(": ")
                if sep:
                    names.add(name.strip())
            self._targets = names
        return self._targets

    def refresh(self) -> None:
        """Lets ninja re-run CMake now, outside any sandbox, if a CMakeLists or a globbed
        folder changed: a re-run inside the build sandbox would not see the solutions."""
        code, output, _ = _run(["ninja", "-C", str(self.tree), "build.ninja"], None, 600)
        if "Re-running CMake" in output:
            self._targets = None

    @staticmethod
    def probe_command(command: list[str]) -> bool:
        try:
            code, _, _ = _run(command, None, 30)
        except OSError:
            return False
        return code == 0

    # --- build --------------------------------------------------------------------------
    def build(self, targets: list[str], timeout: float = 900, sandboxed: bool = False,
              hidden: bool = False) -> BuildResult:
        """Builds the targets; on failure returns the compiler's message, trimmed."""
        start = time.monotonic()
        if not targets:
            return BuildResult(True)
        command = ["ninja", "-C", str(self.tree), f"-j{self.jobs}"] + targets
        if sandboxed and self.build_sandbox:
            command = self.build_sandbox + command
        code, output, timed_out = _run(command, None, timeout)
        seconds = time.monotonic() - start
        if timed_out:
            return BuildResult(False, f"the build took longer than {int(timeout)} s and was stopped",
                               seconds, True)
        if code != 0:
            return BuildResult(False, self._trim(output, hidden) or output[-2000:], seconds)
        return BuildResult(True, seconds=seconds)

    # --- messages -----------------------------------------------------------------------
    def relative(self, text: str) -> str:
        """Rewrites absolute paths so that a student sees `01_event_loop/event_loop.cpp`
        for their own files and `common/include/aio/future.hpp` for the project's."""
        replacements = [(str(self.scratch) + "/", ""), (str(self.tree) + "/", "build/")]
        if self.hidden_dir:
            replacements.append((str(self.hidden_dir) + "/", "hidden/"))
        replacements.append((str(self.root) + "/", ""))
        for path, shown in replacements:
            text = text.replace(path, shown)
            real = os.path.realpath(path.rstrip("/")) + "/"
            if real != path:
                text = text.replace(real, shown)
        return text

    def _trim(self, output: str, hidden: bool) -> str:
        """The compiler's diagnostics without ninja's progress lines and command lines,
        paths made relative, cut to the first MAX_ERROR_LINES lines. For hidden tests the
        quoted source lines are dropped, so a compile error does not print hidden code."""
        kept = []
        skip_command = False
        for line in output.splitlines():
            if skip_command:
                skip_command = False
                continue
            if line.startswith("FAILED: "):
                skip_command = True   # the next line is the full compiler command
                continue
            if re.match(r"^\[\d+/\d+\] ", line) or line.startswith("ninja: "):
                continue
            # The precompiled Catch2 header and the command line are noise to a student.
            if "cmake_pch.hxx" in line or line.strip() in ("from <command-line>:", "from <command-line>"):
                continue
            if hidden and (re.match(r"^\s*\d*\s*\|", line)):
                continue
            kept.append(self.relative(line))
        while kept and not kept[-1].strip():
            kept.pop()
        text = "\n".join(kept[:MAX_ERROR_LINES])
        if len(kept) > MAX_ERROR_LINES:
            text += f"\n[... {len(kept) - MAX_ERROR_LINES} more lines ...]"
        if len(text) > MAX_ERROR_CHARS:
            text = text[:MAX_ERROR_CHARS] + "\n[...]"
        return text

    def program(self, target: str) -> Path | None:
        """The path of an executable target's file, or None if it was not built. Lab
        programs live in the lab's folder of the tree, benchmark programs in autograder/."""
        for folder in [self.tree / "labs", self.tree / "autograder", self.tree]:
            if not folder.is_dir():
                continue
            for candidate in folder.rglob(target):
                if candidate.name == target and candidate.is_file() and os.access(candidate, os.X_OK):
                    return candidate
        return None
