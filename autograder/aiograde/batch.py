"""`grade batch DIR --jobs N`: grades every submission folder in DIR, N at a time, each
worker with its own reused build tree; writes one JSON per submission and a CSV of totals,
with a progress bar on stderr."""
from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from . import report as reports

GRADE = Path(__file__).resolve().parents[1] / "grade"
PASS_THROUGH = ("--labs", "--project-root", "--hidden-dir", "--bench-dir", "--rubric", "--cxx",
                "--timeout-scale")
FLAGS = ("--no-bench", "--no-sandbox")


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="grade batch",
                                     description="Grade every submission folder in DIR.")
    parser.add_argument("folder", type=Path, help="folder with one subfolder per submission")
    parser.add_argument("--jobs", type=int, default=2,
                        help="submissions graded at once (benchmarks are noisier above 1)")
    parser.add_argument("--output-dir", type=Path, help="default: build/grade/batch")
    parser.add_argument("--build-dir", type=Path,
                        help="worker 1's build folder (default build/grade); worker k's is <it>-k")
    parser.add_argument("--format", choices=reports.FORMATS, default="gradescope")
    for option in PASS_THROUGH:
        parser.add_argument(option)
    for flag in FLAGS:
        parser.add_argument(flag, action="store_true")
    return parser.parse_args(argv)


def progress_bar(done: int, total: int, text: str, width: int = 30) -> str:
    filled = width * done // total if total else width
    return f"\r[{'#' * filled}{'-' * (width - filled)}] {done}/{total} {text[:40]:<40}"


def main(argv: list[str]) -> int:
    arguments = parse_arguments(argv)
    root = Path(arguments.project_root).resolve() if arguments.project_root else GRADE.parents[1]
    output_dir = (arguments.output_dir or root / "build" / "grade" / "batch").resolve()
    output_dir.mkdir(parents=True, exist_ok=True)
    submissions = sorted(path for path in arguments.folder.iterdir() if path.is_dir())
    if not submissions:
        print(f"no submission folders in {arguments.folder}", file=sys.stderr)
        return 2
    extra = []
    for option in PASS_THROUGH:
        value = getattr(arguments, option[2:].replace("-", "_"))
        if value is not None:
            extra += [option, str(value)]
    extra += [flag for flag in FLAGS if getattr(arguments, flag[2:].replace("-", "_"))]

    pending = list(submissions)
    rows: dict[str, dict] = {}
    lock = threading.Lock()
    done = 0
    show = sys.stderr.isatty()

    base_build = (arguments.build_dir or root / "build" / "grade").resolve()

    def worker(slot: int) -> None:
        nonlocal done
        # Worker 1 shares the ordinary build tree (warm after `make grade`); others get theirs.
        build_dir = base_build if slot == 0 else base_build.with_name(f"{base_build.name}-{slot + 1}")
        while True:
            with lock:
                if not pending:
                    return
                submission = pending.pop(0)
            output = output_dir / f"{submission.name}.json"
            start = time.monotonic()
            command = [sys.executable, str(GRADE), str(submission), "--build-dir", str(build_dir),
                       "--output", str(output), "--format", arguments.format, "--jobs", "1",
                       "--quiet"] + extra
            process = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True)
            row = {"submission": submission.name, "seconds": round(time.monotonic() - start, 1),
                   "grader_status": process.returncode}
            try:
                data = json.loads(output.read_text())
                row.update(summarise(data, arguments.format))
            except (OSError, ValueError) as error:
                row["error"] = f"no results: {error}"
            with lock:
                rows[submission.name] = row
                done += 1
                line = progress_bar(done, len(submissions), submission.name)
                print(line if show else line.strip(), end="" if show else "\n", file=sys.stderr, flush=True)

    threads = [threading.Thread(target=worker, args=(slot,)) for slot in range(max(1, arguments.jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if show:
        print(file=sys.stderr)

    labs = sorted({key for row in rows.values() for key in row if key.startswith("lab ")})
    columns = ["submission", "score", "max_score"] + labs + ["errors", "grader_status", "seconds"]
    with open(output_dir / "totals.csv", "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for name in sorted(rows):
            writer.writerow(rows[name])
    print(f"{len(rows)} submissions graded: {output_dir / 'totals.csv'}")
    return 0


def summarise(data: dict, fmt: str) -> dict:
    """Total and per-lab scores from one results file (any format)."""
    if fmt == "gradescope":
        row = {"score": data.get("score", 0), "max_score": sum(
            lab["max_score"] for lab in data.get("extra_data", {}).get("labs", []))}
        errors = []
        for lab in data.get("extra_data", {}).get("labs", []):
            row[f"lab {lab['lab']}"] = lab["score"]
            if lab.get("error"):
                errors.append(f"{lab['lab']}: {lab['error']}")
        if data.get("extra_data", {}).get("internal_error"):
            errors.append("grader error")
        row["errors"] = "; ".join(errors)
        return row
    if fmt == "prairielearn":
        return {"score": data.get("score", 0), "max_score": 1,
                "errors": "; ".join(data.get("format_errors", []))[:200]}
    passed = sum(1 for test in data.get("tests", []) if test.get("status") == "pass")
    return {"score": passed, "max_score": len(data.get("tests", [])),
            "errors": (data.get("message") or "")[:200]}
