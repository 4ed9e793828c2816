"""Grades a submission: copy, build, list, run, score, benchmark. The result is a
GradeReport that the report module turns into JSON and a terminal table."""
from __future__ import annotations

import os
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import bench, testrun
from .build import BuildTree
from .project import GradeError, Lab, discover_labs, locate_submission, select_labs, sync_lab
from .rubric import Rubric, performance_fraction, test_points, test_visibility
from .sandbox import Sandbox


@dataclass
class TestResult:
    test: testrun.TestCase
    outcome: testrun.Outcome
    number: str = ""
    max_score: float = 0.0
    score: float = 0.0


@dataclass
class LabResult:
    lab: Lab
    error: str | None = None          # why the lab could not be graded (then it scores 0)
    error_kind: str = ""              # "missing files", "compile error", ...
    tests: list[TestResult] = field(default_factory=list)
    correctness: float = 0.0
    correctness_max: float = 0.0
    performance: float = 0.0
    performance_max: float = 0.0
    performance_note: str = ""
    bench: bench.BenchResult | None = None
    build_seconds: float = 0.0
    run_seconds: float = 0.0

    @property
    def score(self) -> float:
        return self.correctness + self.performance

    @property
    def max_score(self) -> float:
        return self.correctness_max + self.performance_max

    @property
    def passed_count(self) -> int:
        return sum(1 for result in self.tests if result.outcome.verdict == testrun.PASSED)


@dataclass
class GradeReport:
    labs: list[LabResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    internal_error: str | None = None
    seconds: float = 0.0
    sandbox: str = ""
    hidden_tests: bool = True
    phases: dict[str, float] = field(default_factory=dict)   # wall seconds per phase

    @property
    def score(self) -> float:
        return sum(lab.score for lab in self.labs)

    @property
    def max_score(self) -> float:
        return sum(lab.max_score for lab in self.labs)


@dataclass
class Options:
    root: Path
    submission: Path | None = None
    labs: str | None = None
    jobs: int = 2
    build_dir: Path | None = None
    hidden_dir: Path | None = None
    bench_dir: Path | None = None
    rubric: Path | None = None
    compiler: str | None = None
    benchmarks: bool = True
    sandbox: bool = True
    timeout_scale: float = 1.0
    progress: bool = False


def _round(value: float) -> float:
    return round(value + 0.0, 4)


class Grader:
    def __init__(self, options: Options):
        self.options = options
        root = options.root
        self.root = root
        self.hidden_dir = options.hidden_dir or root / "autograder" / "hidden"
        self.bench_dir = options.bench_dir or root / "autograder" / "bench"
        self.rubric = Rubric.load(options.rubric or root / "autograder" / "rubric.json")
        build_dir = options.build_dir or root / "build" / "grade"
        # Objects built with and without the build sandbox must not mix (an .incbin that
        # worked unsandboxed would survive in a reused object file), so each has its tree.
        self.tree_dir = build_dir / ("tree" if options.sandbox else "tree-unsandboxed")
        self.scratch = build_dir / "submission"
        self.report = GradeReport()
        self.tree: BuildTree | None = None
        self.sandbox: Sandbox | None = None
        self.started = time.monotonic()

    def say(self, text: str) -> None:
        if self.options.progress:
            print(f"[{time.monotonic() - self.started:5.1f} s] {text}", file=sys.stderr, flush=True)

    # --- the whole run ------------------------------------------------------------------
    def grade(self) -> GradeReport:
        start = time.monotonic()
        try:
            self._grade()
        finally:
            self.report.seconds = time.monotonic() - start
        return self.report

    def _grade(self) -> None:
        options = self.options
        all_labs = discover_labs(self.root)
        labs = select_labs(all_labs, options.labs)
        if not labs:
            raise GradeError("the project has no labs to grade")
        submission = locate_submission((options.submission or self.root / "labs").resolve(), all_labs)
        self.say(f"grading {submission}")

        self.sandbox = Sandbox.probe(allow_bwrap=options.sandbox)
        self.report.sandbox = self.sandbox.describe()
        if self.sandbox.warning:
            self.report.warnings.append(self.sandbox.warning)
        self.report.hidden_tests = self.hidden_dir.is_dir() and any(self.hidden_dir.glob("*/test_*.cpp"))
        if not self.report.hidden_tests:
            self.report.warnings.append("no hidden tests here: this grade counts the public tests only")

        # Copy the student files; labs not being graded keep (or get) starter files so
        # that the shared build tree always configures the same way.
        os.umask(0o022)
        synced = {}
        for lab in all_labs:
            if lab in labs:
                synced[lab.name] = sync_lab(lab, submission, self.scratch)
            elif not all((self.scratch / lab.name / source).exists() for source in lab.sources):
                sync_lab(lab, None, self.scratch)

        self.tree = BuildTree(self.root, self.tree_dir, self.scratch, self.hidden_dir, self.bench_dir,
                              options.jobs, options.compiler, options.benchmarks,
                              self._build_sandbox())
        self.say("configuring the build tree")
        configured = self.tree.configure()
        if not configured.ok:
            raise GradeError("cmake could not configure the project:\n" + configured.message)
        # The runtime and the Catch2 main are the project's, not the student's: build them
        # first so that a failure there is reported as the grader's problem.
        shared = [t for t in ("aio", "aio_catch_main", "aio_catch_pch") if t in self.tree.targets()]
        self.say("building the aio runtime and the test main")
        built = self.tree.build(shared)
        if not built.ok:
            raise GradeError("the project itself does not build:\n" + built.message)

        self.report.phases["setup"] = time.monotonic() - self.started
        results = []
        for lab in labs:
            self.say(f"building {lab.name}")
            results.append(self._build_and_list(lab, synced[lab.name].problems))
        self.report.labs = results
        self.report.phases["build"] = time.monotonic() - self.started - self.report.phases["setup"]
        phase_start = time.monotonic()
        self._run_all_tests(results)
        self.report.phases["tests"] = time.monotonic() - phase_start
        phase_start = time.monotonic()
        for result in results:
            self._score(result)
        self.report.phases["benchmarks"] = time.monotonic() - phase_start

    def _build_sandbox(self) -> list[str]:
        """A bubblewrap prefix for ninja that hides the reference solutions from the
        compiler, so an #include or .incbin of them finds an empty file. The solutions
        folder is replaced by a copy with the same file names and no content (not by an
        empty folder): if ninja re-runs CMake inside the sandbox, CMake must still see
        every solution file, or it would drop the solution targets from the build."""
        if not self.options.sandbox or not shutil.which("bwrap"):
            return []
        solutions = (self.root / "solutions").resolve()
        tree = self.tree_dir.resolve()
        tree.mkdir(parents=True, exist_ok=True)
        # The compiler's temporary files go inside the tree (not to a tmpfs over /tmp, which
        # would hide a project that lives under /tmp).
        scratch_tmp = tree / "tmp"
        scratch_tmp.mkdir(exist_ok=True)
        prefix = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                  "--bind", str(tree), str(tree), "--setenv", "TMPDIR", str(scratch_tmp)]
        if solutions.is_dir():
            placeholders = self.tree_dir.parent / "solution-placeholders"
            shutil.rmtree(placeholders, ignore_errors=True)
            for path in solutions.rglob("*"):
                target = placeholders / path.relative_to(solutions)
                if path.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(b"")
            placeholders.mkdir(parents=True, exist_ok=True)
            prefix += ["--ro-bind", str(placeholders.resolve()), str(solutions)]
        if os.geteuid() != 0:
            prefix.insert(1, "--unshare-user")
        prefix += ["--unshare-net", "--unshare-pid", "--die-with-parent", "--"]
        probe = BuildTree.probe_command(prefix + ["/bin/true"])
        return prefix if probe else []

    # --- per lab ------------------------------------------------------------------------
    def _build_and_list(self, lab: Lab, problems: list[str]) -> LabResult:
        result = LabResult(lab)
        rules = self.rubric.for_lab(lab.number)
        if problems:
            result.error_kind = "submission problem"
            result.error = "\n".join(problems)
            return result
        targets = self.tree.targets()
        public_target = f"lab_{lab.number}_tests"
        hidden_target = f"lab_{lab.number}_hidden_tests"
        programs = [(suite, target) for suite, target in (("public", public_target),
                                                          ("hidden", hidden_target))
                    if target in targets]
        if not programs:
            result.error_kind = "no tests"
            result.error = f"lab {lab.name} has no test program to run"
            return result
        self.tree.refresh()
        for suite, target in programs:
            built = self.tree.build([target], sandboxed=True, hidden=(suite == "hidden"))
            result.build_seconds += built.seconds
            if not built.ok:
                result.error_kind = "compile error"
                intro = ("the hidden tests do not compile against your code (is an API in the "
                         "handout missing or different?):\n" if suite == "hidden" else "")
                result.error = intro + built.message
                return result
        limits = testrun.limits_from_rules(rules, self.options.timeout_scale)
        index = 0
        for suite, target in programs:
            program = self.tree.program(target)
            if program is None:
                result.error_kind = "internal"
                result.error = f"the grader could not find the built program {target}"
                return result
            try:
                listed = testrun.list_tests(self.sandbox, program, limits)
            except testrun.ListingError as error:
                result.error_kind = "test program error"
                result.error = self.tree.relative(str(error))
                return result
            for entry in listed:
                index += 1
                test = testrun.TestCase(lab.name, suite, entry["name"], entry["tags"],
                                        self.tree.relative(entry["file"]), entry["line"], program)
                test.points = test_points(rules, test.name, test.tags)
                test.visibility = test_visibility(rules, test.name, test.tags, suite)
                result.tests.append(TestResult(test, testrun.Outcome(testrun.ERROR, "not run"),
                                               number=f"{int(lab.number)}.{index}"))
        if not result.tests:
            result.error_kind = "no tests"
            result.error = f"lab {lab.name} has no test cases"
        return result

    def _run_all_tests(self, results: list[LabResult]) -> None:
        jobs = []
        for result in results:
            if result.error:
                continue
            limits = testrun.limits_from_rules(self.rubric.for_lab(result.lab.number),
                                               self.options.timeout_scale)
            for test_result in result.tests:
                jobs.append((result, test_result, limits))
        if not jobs:
            return
        self.say(f"running {len(jobs)} test cases")

        def run(job):
            lab_result, test_result, limits = job
            test_result.outcome = testrun.run_test(self.sandbox, test_result.test, limits,
                                                   self.tree.relative)
            return job

        with ThreadPoolExecutor(max_workers=max(1, self.options.jobs)) as pool:
            for lab_result, test_result, _ in pool.map(run, jobs):
                lab_result.run_seconds += test_result.outcome.seconds

    # --- scoring ------------------------------------------------------------------------
    def _score(self, result: LabResult) -> None:
        rules = self.rubric.for_lab(result.lab.number)
        bench_rules = rules["benchmark"]
        correctness_max = float(rules["correctness_points"])
        performance_max = float(rules["performance_points"])
        # A benchmark needs its sources and a reference solution to compare with (a student
        # release has neither solutions nor, usually, benchmarks).
        has_bench = (self.tree is not None and self.tree.benchmarks and
                     any((self.bench_dir / result.lab.name).glob("bench_*.cpp")) and
                     (self.root / "solutions" / result.lab.name).is_dir())
        if not has_bench and bench_rules["when_missing"] == "scale":
            correctness_max += performance_max
            performance_max = 0.0
            result.performance_note = "no benchmark for this lab: correctness counts for every point"
        result.correctness_max = correctness_max
        result.performance_max = performance_max
        if result.error:
            return
        total_points = sum(t.test.points for t in result.tests)
        earned_points = 0.0
        for test_result in result.tests:
            share = test_result.test.points / total_points if total_points else 0.0
            test_result.max_score = _round(correctness_max * share)
            passed = test_result.outcome.verdict == testrun.PASSED
            test_result.score = test_result.max_score if passed else 0.0
            earned_points += test_result.test.points if passed else 0.0
        # From the points, not the rounded per-test scores, so that all passed is exactly 70.
        result.correctness = _round(correctness_max * earned_points / total_points) if total_points else 0.0
        if performance_max == 0:
            return
        if not has_bench:
            result.performance_note = "performance is not graded yet for this lab (no benchmark)"
            return
        if result.passed_count != len(result.tests):
            result.performance_note = "performance points need every correctness test to pass"
            return
        result.bench = self._benchmark(result, rules)
        if result.bench.ratio is None:
            result.performance_note = f"benchmark failed: {result.bench.error}"
            return
        fraction = performance_fraction(result.bench.ratio, bench_rules)
        result.performance = _round(performance_max * fraction)
        result.performance_note = (f"{result.bench.ratio:.2f}x the reference time "
                                   f"(full points at <= {bench_rules['full_at']}x, "
                                   f"none at >= {bench_rules['zero_at']}x)")

    def _benchmark(self, result: LabResult, rules: dict) -> bench.BenchResult:
        number = result.lab.number
        targets = [f"lab_{number}_bench", f"solution_{number}_bench"]
        if not all(target in self.tree.targets() for target in targets):
            return bench.BenchResult(error="no reference solution to compare with")
        self.say(f"benchmarking {result.lab.name}")
        self.tree.refresh()
        built = self.tree.build([targets[0]], sandboxed=True)
        if built.ok:
            built = self.tree.build([targets[1]])
        result.build_seconds += built.seconds
        if not built.ok:
            return bench.BenchResult(error="the benchmark does not build:\n" + built.message)
        programs = [self.tree.program(target) for target in targets]
        if None in programs:
            return bench.BenchResult(error="the benchmark programs were not found")
        limits = testrun.limits_from_rules(rules, self.options.timeout_scale)
        return bench.compare(self.sandbox, programs[0], programs[1], rules["benchmark"], limits)
