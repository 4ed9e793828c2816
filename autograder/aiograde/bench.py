"""Benchmarks: the submission against the reference solution, interleaved, median of
several repetitions, compared as a time ratio.

Both programs come from the same benchmark sources (autograder/bench/NN_name/bench_*.cpp)
built against the submission's files (lab_NN_bench) and the solution's (solution_NN_bench).
One repetition runs the reference then the submission (alternating which goes first), each
in its own sandboxed process, so slow drift of the machine hits both alike. The ratio of a
benchmark is median(submission) / median(reference) of real time per iteration; the lab's
ratio is the geometric mean over its benchmarks.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from .sandbox import Limits, Sandbox


@dataclass
class BenchResult:
    ratio: float | None = None                    # lab ratio, None when not measured
    per_benchmark: dict[str, dict] = field(default_factory=dict)
    error: str | None = None


def _one_run(sandbox: Sandbox, program: Path, rules: dict, limits: Limits) -> dict[str, float]:
    min_time = rules["min_time_seconds"]
    run = sandbox.run(program, [f"--benchmark_min_time={min_time}", "--benchmark_repetitions=1"],
                      limits)
    times = {}
    for record in run.records:
        if record.get("event") == "benchmark" and not record.get("error"):
            times[str(record.get("name"))] = float(record.get("real_ns", 0.0))
    complete = any(r.get("event") == "benchmarks_complete" for r in run.records)
    if run.timed_out:
        raise RuntimeError(f"{program.name} did not finish within {limits.wall_seconds:g} s")
    if run.signal is not None or run.exit_code != 0 or not complete:
        how = f"crashed ({run.signal_name})" if run.signal is not None else f"exited with {run.exit_code}"
        raise RuntimeError(f"{program.name} {how} before finishing its benchmarks")
    return times


def compare(sandbox: Sandbox, submission: Path, reference: Path, rules: dict,
            limits: Limits) -> BenchResult:
    repetitions = max(1, int(rules["repetitions"]))
    bench_limits = Limits(**{**limits.__dict__, "wall_seconds": float(rules["timeout_seconds"]),
                             "cpu_seconds": int(rules["timeout_seconds"]) + 1})
    samples: dict[str, dict[str, list[float]]] = {}
    try:
        for repetition in range(repetitions):
            order = [("reference", reference), ("submission", submission)]
            if repetition % 2:
                order.reverse()
            for role, program in order:
                for name, nanoseconds in _one_run(sandbox, program, rules, bench_limits).items():
                    samples.setdefault(name, {}).setdefault(role, []).append(nanoseconds)
    except RuntimeError as error:
        return BenchResult(error=str(error))
    result = BenchResult()
    logs = []
    for name, roles in sorted(samples.items()):
        if "reference" not in roles:
            continue
        if "submission" not in roles:
            return BenchResult(error=f"benchmark {name} did not run against the submission")
        reference_ns = statistics.median(roles["reference"])
        submission_ns = statistics.median(roles["submission"])
        ratio = submission_ns / reference_ns if reference_ns > 0 else 1.0
        result.per_benchmark[name] = {"reference_ns": reference_ns, "submission_ns": submission_ns,
                                      "ratio": ratio}
        logs.append(math.log(max(ratio, 1e-9)))
    if not logs:
        return BenchResult(error="no benchmark produced a timing")
    result.ratio = math.exp(sum(logs) / len(logs))
    return result
