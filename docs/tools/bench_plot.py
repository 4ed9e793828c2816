#!/usr/bin/env python3
"""Renders Google Benchmark JSON (as `make bench` writes to build/bench/*.json) to SVG bar
charts: one SVG per JSON file, one horizontal bar per benchmark, its real time per iteration.

When the run has repetitions, the `median` aggregate is plotted (Google Benchmark's
recommended figure on a noisy machine); otherwise each benchmark's single run. Standard
library only, so `make docs` needs nothing beyond Python.

With --counter NAME, each benchmark's user counter NAME (as `state.counters["NAME"]` sets it,
bytes_per_task say) is plotted instead of its time, into <stem>_<NAME>.svg.

Usage: bench_plot.py build/bench/*.json [-o OUTPUT_DIR] [--log] [--counter NAME]
       (default output: beside each JSON file)
"""
from __future__ import annotations

import argparse
import html
import json
import math
import re
import sys
from pathlib import Path

UNIT_TO_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
BAR_HEIGHT = 18
BAR_GAP = 6
LABEL_WIDTH = 330
PLOT_WIDTH = 420
VALUE_WIDTH = 110
TOP = 40
CHAR_WIDTH = 7  # a generous average for 12 px sans-serif, to size the label column
# Run-name parts that say how a benchmark was run, not what it measures.
RUN_DETAILS = re.compile(r"/(iterations:\d+|manual_time|real_time|min_time:[^/]+|repeats:\d+)")


def load_rows(path: Path, counter: str | None = None) -> list[tuple[str, float]]:
    """(benchmark name, real time per iteration in ns, or the value of `counter`), medians
    when there are any. Runs without that counter are left out."""
    data = json.loads(path.read_text(encoding="utf-8"))
    runs = data.get("benchmarks", [])
    medians = [run for run in runs if run.get("aggregate_name") == "median"]
    chosen = medians or [run for run in runs if run.get("run_type", "iteration") == "iteration"]
    rows = []
    for run in chosen:
        name = RUN_DETAILS.sub("", run.get("run_name") or run["name"])
        if counter is not None:
            if counter in run:
                rows.append((name, float(run[counter])))
            continue
        scale = UNIT_TO_NS.get(run.get("time_unit", "ns"), 1.0)
        rows.append((name, float(run["real_time"]) * scale))
    return rows


def format_ns(value: float) -> str:
    for unit, factor in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if value >= factor:
            return f"{value / factor:.3g} {unit}"
    return f"{value:.3g} ns"


def bar_length(value: float, smallest: float, longest: float, log_scale: bool) -> float:
    """Pixels for `value`; on a log scale the smallest bar gets a tenth of the width, so
    figures that differ by orders of magnitude (n=1000 against n=100000) all stay visible."""
    if not log_scale or longest <= smallest:
        return max(1.0, PLOT_WIDTH * value / longest)
    span = math.log10(longest / smallest)
    return PLOT_WIDTH * (0.1 + 0.9 * math.log10(value / smallest) / span)


def format_count(value: float) -> str:
    for unit, factor in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= factor:
            return f"{value / factor:.3g}{unit}"
    return f"{value:.3g}"


def render(title: str, rows: list[tuple[str, float]], log_scale: bool = False,
           counter: str | None = None) -> str:
    longest = max((value for _, value in rows), default=1.0) or 1.0
    smallest = min((value for _, value in rows if value > 0), default=longest)
    height = TOP + len(rows) * (BAR_HEIGHT + BAR_GAP) + 20
    label_width = max([LABEL_WIDTH] + [CHAR_WIDTH * len(name) + 16 for name, _ in rows])
    width = label_width + PLOT_WIDTH + VALUE_WIDTH
    # Rates (items_per_second, ...) grow with speed; times and sizes shrink.
    better = "higher is better" if counter and counter.endswith("per_second") else "lower is better"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="10" y="22" font-size="15" font-weight="bold">{html.escape(title)}'
        f' — {html.escape(counter) if counter else "real time per iteration"}'
        f' ({better}{", log scale" if log_scale else ""})</text>',
    ]
    for index, (name, value) in enumerate(rows):
        y = TOP + index * (BAR_HEIGHT + BAR_GAP)
        bar = bar_length(max(value, smallest), smallest, longest, log_scale)
        text_y = y + BAR_HEIGHT - 5
        parts.append(f'<text x="{label_width - 8}" y="{text_y}" text-anchor="end">{html.escape(name)}</text>')
        parts.append(f'<rect x="{label_width}" y="{y}" width="{bar:.1f}" height="{BAR_HEIGHT}" fill="#3f51b5"/>')
        parts.append(f'<text x="{label_width + bar + 6:.1f}" y="{text_y}">{format_count(value) if counter else format_ns(value)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json_files", nargs="+", type=Path)
    parser.add_argument("-o", "--output-dir", type=Path, help="default: beside each JSON file")
    parser.add_argument("--log", action="store_true", help="log-scale bars (for sizes far apart)")
    parser.add_argument("--counter", help="plot this user counter instead of the time")
    arguments = parser.parse_args(argv)
    status = 0
    for path in arguments.json_files:
        try:
            rows = load_rows(path, arguments.counter)
        except (OSError, ValueError, KeyError) as error:
            print(f"{path}: cannot read benchmark JSON: {error}", file=sys.stderr)
            status = 1
            continue
        if not rows:
            print(f"{path}: no benchmark runs, skipped", file=sys.stderr)
            continue
        folder = arguments.output_dir or path.parent
        folder.mkdir(parents=True, exist_ok=True)
        stem = path.stem + (f"_{arguments.counter}" if arguments.counter else "")
        target = folder / (stem + ".svg")
        target.write_text(render(path.stem, rows, arguments.log, arguments.counter), encoding="utf-8")
        print(target)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
