"""Turns a GradeReport into Gradescope, Exercism or PrairieLearn JSON, and a terminal table.

Every formatter works on a report that may be partial (an internal error half-way), so the
JSON is always complete and valid; `internal_error_json` covers the case where there is no
report at all.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

from . import testrun
from .grader import GradeReport, LabResult, TestResult

GRADER_VERSION = "1.0"
EXERCISM_OUTPUT_LIMIT = 500
FORMATS = ("gradescope", "exercism", "prairielearn")


def _number(value: float) -> float:
    if not math.isfinite(value):
        return 0.0
    value = round(value, 4)
    return int(value) if value == int(value) else value


def _points(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


# --- hints -------------------------------------------------------------------------------

def _hint_titles(lab_folder: Path) -> dict[int, tuple[int, str]]:
    """step -> (hint number, title) of the first hint for that step in the lab's hints.md."""
    titles: dict[int, tuple[int, str]] = {}
    try:
        text = (lab_folder / "hints.md").read_text(errors="replace")
    except OSError:
        return titles
    for match in re.finditer(r"^## Hint (\d+) \(step (\d+)\): (.+)$", text, re.M):
        titles.setdefault(int(match.group(2)), (int(match.group(1)), match.group(3).strip()))
    return titles


def output_budget(report: GradeReport) -> int:
    """Characters of program output shown per failing test: 2,000, less when many tests fail,
    so that the whole file stays well under the 1 MB that PrairieLearn and Gradescope accept."""
    failing = sum(1 for lab in report.labs for result in lab.tests
                  if result.outcome.verdict != testrun.PASSED)
    return max(300, min(testrun.MAX_SHOWN_OUTPUT, 300_000 // max(1, failing)))


def test_output(lab: LabResult, result: TestResult, hints: dict[int, tuple[int, str]],
                budget: int = testrun.MAX_SHOWN_OUTPUT) -> str:
    """What a student needs to fix one failing test: verdict, first assertion, the program's
    output (trimmed), and which hint to read. Empty for a passing test."""
    outcome = result.outcome
    if outcome.verdict == testrun.PASSED:
        return ""
    parts = [f"{outcome.verdict.capitalize()}: {outcome.message}" if outcome.message
             else outcome.verdict.capitalize()]
    if outcome.output:
        parts.append("Output of the test program (trimmed):\n" + testrun.trim_output(outcome.output, budget))
    step = result.test.step
    if step is not None and step in hints:
        number, title = hints[step]
        parts.append(f"Hint for step {step}: \"{title}\" (`make hint LAB={lab.lab.number}`).")
    return "\n\n".join(parts)


# --- the score table ---------------------------------------------------------------------

def _colour(text: str, code: str, enabled: bool) -> str:
    return f"\033[{code}m{text}\033[0m" if enabled else text


def table(report: GradeReport, colour: bool = False, failures: bool = True) -> str:
    """One line per lab, a total, then one line per failing test (verdict and first line of
    its message). Colour only when asked (the caller checks for a terminal)."""
    header = f"{'lab':<22} {'tests':>9} {'correctness':>13} {'performance':>13} {'total':>11}"
    lines = [header, "-" * len(header)]
    for lab in report.labs:
        if lab.error:
            tests = "error"
        else:
            tests = f"{lab.passed_count}/{len(lab.tests)}"
        correctness = f"{_points(lab.correctness)}/{_points(lab.correctness_max)}"
        performance = (f"{_points(lab.performance)}/{_points(lab.performance_max)}"
                       if lab.performance_max else "-")
        total = f"{_points(lab.score)}/{_points(lab.max_score)}"
        full = lab.max_score > 0 and lab.score >= lab.max_score - 1e-6
        code = "32" if full else ("31" if lab.score == 0 else "33")
        lines.append(f"{lab.lab.name:<22} {tests:>9} {correctness:>13} {performance:>13} "
                     + _colour(f"{total:>11}", code, colour))
    lines.append("-" * len(header))
    lines.append(f"{'total':<22} {'':>9} {'':>13} {'':>13} "
                 f"{_points(report.score) + '/' + _points(report.max_score):>11}")
    if not failures:
        return "\n".join(lines)
    for lab in report.labs:
        if lab.error:
            first = lab.error.strip().splitlines()[0] if lab.error.strip() else ""
            lines.append(_colour(f"  {lab.lab.name}: {lab.error_kind}", "31", colour) + f": {first}")
            continue
        for result in lab.tests:
            if result.outcome.verdict != testrun.PASSED:
                first = result.outcome.message.strip().splitlines()
                detail = f" — {first[0]}" if first else ""
                lines.append(_colour(f"  {lab.lab.name} {result.outcome.verdict}", "31", colour)
                             + f": {result.test.name}{detail}")
        if lab.performance_note and lab.performance_max:
            lines.append(f"  {lab.lab.name} performance: {lab.performance_note}")
    for warning in report.warnings:
        lines.append(_colour("warning: ", "33", colour) + warning)
    if report.internal_error:
        lines.append(_colour("grader error: ", "31", colour) + report.internal_error)
    return "\n".join(lines)


def _summary(report: GradeReport) -> str:
    text = table(report, colour=False, failures=False)
    notes = [f"note: {warning}" for warning in report.warnings]
    if report.internal_error:
        notes.insert(0, "The autograder hit an internal error (not a problem with your code; "
                        "tell your instructor):\n" + report.internal_error)
    for lab in report.labs:
        if lab.error:
            notes.append(f"{lab.lab.name}: {lab.error_kind} (see its entry below)")
        elif lab.performance_note:
            notes.append(f"{lab.lab.name}: {lab.performance_note}")
    return text + ("\n\n" + "\n".join(notes) if notes else "")


# --- Gradescope ---------------------------------------------------------------------------

def gradescope(report: GradeReport) -> dict:
    budget = output_budget(report)
    tests = []
    leaderboard = [{"name": "Total score", "value": _number(report.score), "order": "desc"}]
    labs_summary = []
    for lab in report.labs:
        number = int(lab.lab.number)
        hints = _hint_titles(lab.lab.folder)
        labs_summary.append({"lab": lab.lab.name, "score": _number(lab.score),
                             "max_score": _number(lab.max_score), "error": lab.error_kind or None,
                             "tests_passed": lab.passed_count, "tests": len(lab.tests),
                             "build_seconds": round(lab.build_seconds, 2),
                             "run_seconds": round(lab.run_seconds, 2)})
        if lab.error:
            tests.append({"name": f"{lab.lab.name}: {lab.error_kind}", "number": f"{number}.0",
                          "score": 0, "max_score": _number(lab.max_score), "status": "failed",
                          "output": lab.error, "tags": [f"lab{lab.lab.number}", "build"],
                          "visibility": "visible"})
            continue
        for result in lab.tests:
            test = result.test
            tags = [f"lab{lab.lab.number}", test.suite] + \
                   ([f"step{test.step}"] if test.step is not None else []) + \
                   ([] if result.outcome.verdict == testrun.PASSED else [result.outcome.verdict])
            tests.append({"name": f"{lab.lab.name}: {test.name}", "number": result.number,
                          "score": _number(result.score), "max_score": _number(result.max_score),
                          "status": "passed" if result.outcome.verdict == testrun.PASSED else "failed",
                          "output": test_output(lab, result, hints, budget), "tags": tags,
                          "visibility": test.visibility})
        if lab.performance_max:
            output = lab.performance_note
            if lab.bench and lab.bench.per_benchmark:
                output += "\n" + "\n".join(
                    f"  {name}: {entry['submission_ns']:.0f} ns vs reference "
                    f"{entry['reference_ns']:.0f} ns ({entry['ratio']:.2f}x)"
                    for name, entry in lab.bench.per_benchmark.items())
            tests.append({"name": f"{lab.lab.name}: performance", "number": f"{number}.{len(lab.tests) + 1}",
                          "score": _number(lab.performance), "max_score": _number(lab.performance_max),
                          "status": "passed" if lab.performance >= lab.performance_max - 1e-6 else "failed",
                          "output": output, "tags": [f"lab{lab.lab.number}", "performance"],
                          "visibility": "visible"})
        if lab.bench and lab.bench.ratio is not None and math.isfinite(lab.bench.ratio):
            leaderboard.append({"name": f"Lab {lab.lab.number} time vs reference",
                                "value": round(lab.bench.ratio, 3), "order": "asc"})
    return {
        "score": _number(report.score),
        "execution_time": int(round(report.seconds)),
        "output": _summary(report),
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "leaderboard": leaderboard,
        "extra_data": {"grader_version": GRADER_VERSION, "sandbox": report.sandbox,
                       "hidden_tests": report.hidden_tests, "labs": labs_summary,
                       "phases": {name: round(value, 2) for name, value in report.phases.items()},
                       "warnings": report.warnings, "internal_error": report.internal_error is not None},
    }


# --- Exercism ------------------------------------------------------------------------------

def exercism(report: GradeReport) -> dict:
    budget = output_budget(report)
    tests = []
    for lab in report.labs:
        hints = _hint_titles(lab.lab.folder)
        if lab.error:
            tests.append({"name": f"{lab.lab.name}: {lab.error_kind}", "test_code": "",
                          "status": "error", "message": lab.error})
            continue
        for result in lab.tests:
            test = result.test
            entry = {"name": f"{lab.lab.name}: {test.name}",
                     "test_code": (f"TEST_CASE(\"{test.name}\") at {test.file}:{test.line}"
                                   if test.suite == "public" else "(hidden test)"),
                     "status": "pass" if result.outcome.verdict == testrun.PASSED else "fail"}
            if entry["status"] == "fail":
                entry["message"] = test_output(lab, result, hints, budget)
                if result.outcome.output:
                    entry["output"] = result.outcome.output[-EXERCISM_OUTPUT_LIMIT:]
            if test.step is not None:
                entry["task_id"] = test.step
            tests.append(entry)
    ran = any(not lab.error for lab in report.labs)
    if report.internal_error or not ran:
        message = report.internal_error or "\n\n".join(
            f"{lab.lab.name}: {lab.error_kind}\n{lab.error}" for lab in report.labs if lab.error)
        return {"version": 3, "status": "error", "message": message or "nothing was graded",
                "tests": tests}
    status = "pass" if all(t["status"] == "pass" for t in tests) else "fail"
    return {"version": 3, "status": status, "tests": tests}


# --- PrairieLearn ----------------------------------------------------------------------------

def prairielearn(report: GradeReport) -> dict:
    budget = output_budget(report)
    tests = []
    for lab in report.labs:
        hints = _hint_titles(lab.lab.folder)
        if lab.error:
            tests.append({"name": f"{lab.lab.name}: {lab.error_kind}", "points": 0,
                          "max_points": _number(lab.max_score), "message": lab.error, "output": ""})
            continue
        for result in lab.tests:
            passed = result.outcome.verdict == testrun.PASSED
            tests.append({"name": f"{lab.lab.name}: {result.test.name}",
                          "description": f"{result.test.suite} test, {result.outcome.verdict}",
                          "points": _number(result.score), "max_points": _number(result.max_score),
                          "message": "" if passed else test_output(lab, result, hints, budget),
                          "output": ""})
        if lab.performance_max:
            tests.append({"name": f"{lab.lab.name}: performance", "points": _number(lab.performance),
                          "max_points": _number(lab.performance_max),
                          "message": lab.performance_note, "output": ""})
    compiled = any(not lab.error for lab in report.labs)
    score = report.score / report.max_score if report.max_score else 0.0
    result = {"gradable": compiled and report.internal_error is None,
              "score": min(1.0, max(0.0, round(score, 6))),
              "message": _summary(report).splitlines()[-1] if report.labs else "",
              "output": _summary(report), "tests": tests}
    if not result["gradable"]:
        result["score"] = 0.0
        result["format_errors"] = ([report.internal_error] if report.internal_error else []) + \
            [f"{lab.lab.name}: {lab.error_kind}\n{lab.error}" for lab in report.labs if lab.error] or \
            ["nothing was graded"]
        result["message"] = "Your code did not compile, so it was not graded." if not report.internal_error \
            else "The autograder hit an internal error; this attempt does not count."
    return result


def render(report: GradeReport, fmt: str) -> dict:
    return {"gradescope": gradescope, "exercism": exercism, "prairielearn": prairielearn}[fmt](report)


def internal_error_json(fmt: str, message: str, seconds: float = 0.0) -> dict:
    """Valid JSON in the requested format that says the grader itself failed."""
    report = GradeReport(internal_error=message, seconds=seconds)
    return render(report, fmt)
