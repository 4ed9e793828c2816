"""Lists the test cases of a test program, runs each in its own sandboxed process, and turns
what happened into a verdict.

A test passes only if all three hold: the program wrote a `test_case_ended` record for
exactly that test case, with `passed: true` and this run's nonce, on the private result
channel; it wrote no other end record; and the process then exited with status 0. Nothing
the program prints is used to decide a pass (output only refines the kind of failure, e.g.
"out of memory" for an abort after std::bad_alloc).
"""
from __future__ import annotations

import re
import signal
from dataclasses import dataclass
from pathlib import Path

from .sandbox import Limits, RunResult, Sandbox

PASSED = "passed"
FAILED = "failed"
TIMED_OUT = "timed out"
CRASHED = "crashed"
OUT_OF_MEMORY = "out of memory"
OUTPUT_LIMIT = "output limit exceeded"
ERROR = "error"          # the grader could not run the test at all
VERDICTS = (PASSED, FAILED, TIMED_OUT, CRASHED, OUT_OF_MEMORY, OUTPUT_LIMIT, ERROR)

MAX_SHOWN_OUTPUT = 2000


@dataclass
class TestCase:
    """One Catch2 TEST_CASE of one test program, as listed before anything runs."""
    lab: str                 # "03_future"
    suite: str               # "public" or "hidden"
    name: str
    tags: list[str]
    file: str
    line: int
    program: Path
    points: float = 1.0
    visibility: str = "visible"

    @property
    def step(self) -> int | None:
        for tag in self.tags:
            match = re.fullmatch(r"step(\d+)", tag)
            if match:
                return int(match.group(1))
        return None


@dataclass
class Outcome:
    verdict: str
    message: str = ""        # one or two lines: the first failed assertion or the reason
    output: str = ""         # what the program printed, trimmed (only when not passed)
    seconds: float = 0.0


class ListingError(Exception):
    """The test program could not say which test cases it has."""


def catch_test_spec(name: str) -> str:
    """A Catch2 v2 command-line test spec that selects exactly the test named `name`:
    backslash-escape every character the spec parser treats specially."""
    return re.sub(r'([\\,\[\]"~])', r"\\\1", name)


def list_tests(sandbox: Sandbox, program: Path, limits: Limits) -> list[dict]:
    """The test cases of `program` ({name, tags, file, line}), from the trusted channel."""
    listing_limits = Limits(**{**limits.__dict__, "wall_seconds": max(limits.wall_seconds, 30.0),
                               "cpu_seconds": max(limits.cpu_seconds, 30)})
    run = sandbox.run(program, [], listing_limits, extra_env={"AIOLAB_MODE": "list"})
    tests = [r for r in run.records if r.get("event") == "test_case"]
    complete = any(r.get("event") == "list_complete" for r in run.records)
    if run.launch_error:
        raise ListingError(run.launch_error)
    if not complete or run.exit_code != 0:
        raise ListingError("the test program " + _describe_death(run, limits) +
                           " before it could list its test cases (a static initialiser?)" +
                           _shown_output(run.output))
    return [{"name": str(t.get("name", "")), "tags": [str(tag) for tag in t.get("tags", [])],
             "file": str(t.get("file", "")), "line": int(t.get("line", 0) or 0)} for t in tests]


def _describe_death(run: RunResult, limits: Limits) -> str:
    if run.timed_out:
        return f"did not finish within {limits.wall_seconds:g} s"
    if run.output_exceeded:
        return f"printed more than {limits.output_bytes // 1024} KiB"
    if run.signal is not None:
        return f"crashed ({run.signal_name})"
    return f"exited with status {run.exit_code}"


def trim_output(output: str, limit: int = MAX_SHOWN_OUTPUT) -> str:
    """The beginning (often the first error) and the end (the last state) of long output."""
    if len(output) <= limit:
        return output
    head, tail = output[:limit * 3 // 5], output[-(limit * 2 // 5):]
    return f"{head}\n[... {len(output) - len(head) - len(tail)} characters omitted ...]\n{tail}"


def _shown_output(output: str) -> str:
    output = output.strip()
    return "\n--- output ---\n" + trim_output(output) if output else ""


def format_failure(failure: dict, relative) -> str:
    """`file:line: REQUIRE( x == 2 )` / `with expansion: 1 == 2` / the message and INFOs."""
    where = relative(f"{failure.get('file', '?')}:{failure.get('line', '?')}")
    lines = []
    expression = failure.get("expression")
    if expression:
        lines.append(f"{where}: {expression}")
        expansion = failure.get("expansion")
        if expansion and expansion != failure.get("expression"):
            lines.append(f"  with expansion: {expansion}")
    else:
        lines.append(f"{where}: {failure.get('kind', 'failure')}")
    message = failure.get("message")
    if message:
        kind = failure.get("kind", "")
        prefix = "  threw: " if kind == "unexpected exception" else "  "
        lines.append(prefix + relative(str(message)))
    for info in failure.get("info", []) or []:
        lines.append(f"  with: {relative(str(info))}")
    return "\n".join(lines)


def judge(run: RunResult, test: TestCase, limits: Limits, relative=lambda text: text) -> Outcome:
    """The verdict of one run of one test case. See the module comment for the rule."""
    def outcome(verdict: str, message: str) -> Outcome:
        shown = "" if verdict == PASSED else trim_output(relative(run.output.strip()))
        return Outcome(verdict, message, shown, run.seconds)

    if run.launch_error:
        return outcome(ERROR, run.launch_error)
    ended = [r for r in run.records if r.get("event") == "test_case_ended"]
    started = [r for r in run.records if r.get("event") == "test_case_started"]
    mine = [r for r in ended if r.get("name") == test.name]
    passed_record = len(ended) == 1 and len(mine) == 1 and mine[0].get("passed") is True
    after = " after the test case had passed (in a destructor, an exit handler or a thread?)" \
        if passed_record else ""
    failure = mine[0].get("failure") if mine and isinstance(mine[0].get("failure"), dict) else None
    assertion = ("\n" + format_failure(failure, relative)) if failure else ""

    if run.timed_out:
        return outcome(TIMED_OUT, f"did not finish within {limits.wall_seconds:g} s{after}")
    if run.output_exceeded:
        return outcome(OUTPUT_LIMIT, f"printed more than {limits.output_bytes // 1024} KiB of output")
    if run.signal is not None:
        name = run.signal_name
        if run.signal == signal.SIGXCPU:
            return outcome(TIMED_OUT, f"used more than {limits.cpu_seconds} s of CPU time")
        if run.signal == signal.SIGXFSZ:
            return outcome(OUTPUT_LIMIT, f"wrote a file larger than {limits.file_bytes >> 20} MiB")
        if run.signal == signal.SIGKILL:
            return outcome(OUT_OF_MEMORY, "was killed (SIGKILL), most likely for using too much memory")
        if "bad_alloc" in run.output or (failure and "bad_alloc" in str(failure.get("message", ""))):
            return outcome(OUT_OF_MEMORY, f"ran out of memory (the limit is {limits.memory_bytes >> 20} MiB) "
                                          f"and crashed ({name}){after}")
        return outcome(CRASHED, f"crashed with {name}{after}{assertion}")
    if len(ended) > 1:
        return outcome(FAILED, "the test case reported its end more than once "
                               "(did the code fork, or run the test again?)")
    if not mine:
        if ended:
            return outcome(FAILED, "the program reported a different test case than the one asked for")
        if started:
            return outcome(FAILED, f"the program exited with status {run.exit_code} in the middle of "
                                   "the test case (exit(), _exit() or quick_exit() called?)")
        return outcome(FAILED, f"the program exited with status {run.exit_code} before the test "
                               "case started")
    record = mine[0]
    if record.get("passed") is not True:
        if failure and "bad_alloc" in str(failure.get("message", "")):
            return outcome(OUT_OF_MEMORY, f"ran out of memory (the limit is {limits.memory_bytes >> 20} MiB)"
                                          f"{assertion}")
        return outcome(FAILED, assertion.lstrip("\n") or "failed")
    if run.exit_code != 0:
        return outcome(FAILED, f"the program exited with status {run.exit_code}{after}")
    return outcome(PASSED, "")


def run_test(sandbox: Sandbox, test: TestCase, limits: Limits, relative=lambda text: text) -> Outcome:
    run = sandbox.run(test.program, [catch_test_spec(test.name), "--out", "/dev/null",
                                     "--rng-seed", "20240601"], limits)
    return judge(run, test, limits, relative)


def limits_from_rules(lab_rules: dict, scale: float = 1.0) -> Limits:
    limits = lab_rules["limits"]
    return Limits(
        wall_seconds=float(limits["timeout_seconds"]) * scale,
        cpu_seconds=max(1, int(round(float(limits["cpu_seconds"]) * scale))),
        memory_bytes=int(limits["memory_mb"]) << 20,
        processes=int(limits["processes"]),
        file_bytes=int(limits["file_mb"]) << 20,
        output_bytes=int(limits["output_kb"]) << 10,
    )
