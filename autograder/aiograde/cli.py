"""Command line: `autograder/grade [SUBMISSION] [--labs 01,03] [--format F] [--output PATH]
[--jobs N]`. Grades, prints the score table, and always writes the JSON results file, even
when the grader itself fails (then the file says so and the exit status is 2).
`autograder/grade batch DIR --jobs N` grades every submission folder in DIR (batch.py)."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path

from . import report as reports
from .grader import Grader, Options
from .project import GradeError

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="grade", description="Grade an aiolab submission: build each lab from a scratch "
        "copy, run every public and hidden test case in a sandbox, score by the rubric.")
    parser.add_argument("submission", nargs="?", type=Path,
                        help="folder with the NN_name/ lab folders (default: the project's labs/)")
    parser.add_argument("--labs", help="labs to grade, e.g. 01,03 or 3 or 03_future (default: all)")
    parser.add_argument("--format", choices=reports.FORMATS, default="gradescope")
    parser.add_argument("--output", type=Path,
                        help="where to write the JSON (default: build/grade/results.json)")
    parser.add_argument("--jobs", type=int, default=2, help="parallel builds and test runs (default 2)")
    parser.add_argument("--project-root", type=Path, default=PROJECT_ROOT, help=argparse.SUPPRESS)
    parser.add_argument("--build-dir", type=Path,
                        help="the grader's build folder, reused between runs (default: build/grade)")
    parser.add_argument("--hidden-dir", type=Path, help="hidden tests (default: autograder/hidden)")
    parser.add_argument("--bench-dir", type=Path, help="benchmarks (default: autograder/bench)")
    parser.add_argument("--rubric", type=Path, help="rubric (default: autograder/rubric.json)")
    parser.add_argument("--cxx", help="C++ compiler for the grading build (default: CMake's choice)")
    parser.add_argument("--no-bench", action="store_true", help="skip benchmarks")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="do not use bubblewrap (rlimits and process groups only)")
    parser.add_argument("--timeout-scale", type=float, default=1.0,
                        help="multiply every test time limit (slow machines, sanitizers)")
    parser.add_argument("--quiet", action="store_true", help="no progress messages, no table")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    return parser.parse_args(argv)


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
    os.replace(temporary, path)


def main(argv: list[str] | None = None) -> int:
    start = time.monotonic()
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["batch"]:   # `grade batch DIR`; a submission folder named batch: ./batch
        from . import batch
        return batch.main(argv[1:])
    arguments = parse_arguments(argv)
    root = arguments.project_root.resolve()
    build_dir = (arguments.build_dir or root / "build" / "grade").resolve()
    output = (arguments.output or build_dir / "results.json").resolve()
    fmt = arguments.format
    status = 0
    try:
        options = Options(root=root, submission=arguments.submission, labs=arguments.labs,
                          jobs=max(1, arguments.jobs), build_dir=build_dir,
                          hidden_dir=arguments.hidden_dir.resolve() if arguments.hidden_dir else None,
                          bench_dir=arguments.bench_dir.resolve() if arguments.bench_dir else None,
                          rubric=arguments.rubric, compiler=arguments.cxx,
                          benchmarks=not arguments.no_bench, sandbox=not arguments.no_sandbox,
                          timeout_scale=arguments.timeout_scale, progress=not arguments.quiet)
        grader = Grader(options)
        try:
            report = grader.grade()
        except GradeError as error:
            report = grader.report
            report.internal_error = str(error)
            status = 2
        except Exception:  # noqa: BLE001 - anything else is reported, never lost
            report = grader.report
            report.internal_error = "unexpected error in the grader:\n" + traceback.format_exc(limit=8)
            status = 2
        report.seconds = time.monotonic() - start
        data = reports.render(report, fmt)
        write_json(output, data)
        if not arguments.quiet:
            colour = arguments.color == "always" or (arguments.color == "auto" and sys.stdout.isatty()
                                                     and os.environ.get("NO_COLOR") is None)
            print(reports.table(report, colour=colour))
            print(f"results: {output}  ({report.seconds:.1f} s)")
        return status
    except BaseException as error:  # noqa: BLE001 - the JSON must be written whatever happens
        message = ("interrupted" if isinstance(error, KeyboardInterrupt)
                   else "unexpected error in the grader:\n" + traceback.format_exc(limit=8))
        try:
            write_json(output, reports.internal_error_json(fmt, message, time.monotonic() - start))
        except Exception:  # noqa: BLE001
            pass
        print(f"grader error: {message}", file=sys.stderr)
        if isinstance(error, KeyboardInterrupt):
            return 130
        return 2


if __name__ == "__main__":
    sys.exit(main())
