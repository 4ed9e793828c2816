"""The rubric: points, visibility, limits and benchmark thresholds, per lab.

autograder/rubric.json has a `defaults` object and a `labs` object keyed by lab number
("01") whose entries override any default for that lab. Within a lab, `tests` (by exact
test name) and `tags` (by Catch2 tag without brackets) give points and visibility for
single tests. See autograder/README.md for every key.
"""
from __future__ import annotations

import copy
import json
import math
import re
from pathlib import Path

from .project import GradeError

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")

BUILTIN_DEFAULTS = {
    "correctness_points": 70,
    "performance_points": 30,
    "test_points": 1,
    "visibility": {"public": "visible", "hidden": "after_due_date"},
    "limits": {
        "timeout_seconds": 10,
        "cpu_seconds": 10,
        "memory_mb": 2048,
        "processes": 64,
        "file_mb": 16,
        "output_kb": 1024,
    },
    "benchmark": {
        "full_at": 1.25,
        "zero_at": 4.0,
        "curve": "log",
        "repetitions": 5,
        "min_time_seconds": 0.05,
        "timeout_seconds": 120,
        "when_missing": "scale",
    },
    "tests": {},
    "tags": {},
}


def _merge(base: dict, override: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


class Rubric:
    def __init__(self, data: dict | None = None):
        data = data or {}
        if not isinstance(data, dict):
            raise GradeError("rubric: the top level must be an object")
        self.defaults = _merge(BUILTIN_DEFAULTS, data.get("defaults", {}))
        self.labs = data.get("labs", {})
        self._check(self.defaults, "defaults")
        for number, entry in self.labs.items():
            self._check(_merge(self.defaults, entry), f"labs.{number}")

    @classmethod
    def load(cls, path: Path | None) -> "Rubric":
        if path is None or not path.is_file():
            return cls({})
        try:
            return cls(json.loads(path.read_text()))
        except ValueError as error:
            raise GradeError(f"{path}: not valid JSON ({error})") from error

    @staticmethod
    def _check(entry: dict, where: str) -> None:
        for key in ("correctness_points", "performance_points", "test_points"):
            if not isinstance(entry.get(key), (int, float)) or entry[key] < 0:
                raise GradeError(f"rubric {where}.{key}: must be a number >= 0")
        for suite, visibility in entry["visibility"].items():
            if visibility not in VISIBILITIES:
                raise GradeError(f"rubric {where}.visibility.{suite}: '{visibility}' is not one of "
                                 + ", ".join(VISIBILITIES))
        for kind in ("tests", "tags"):
            for name, rule in entry.get(kind, {}).items():
                if "visibility" in rule and rule["visibility"] not in VISIBILITIES:
                    raise GradeError(f"rubric {where}.{kind}.{name}.visibility: not one of "
                                     + ", ".join(VISIBILITIES))
                if "points" in rule and (not isinstance(rule["points"], (int, float)) or rule["points"] < 0):
                    raise GradeError(f"rubric {where}.{kind}.{name}.points: must be a number >= 0")
        bench = entry["benchmark"]
        if not 0 < bench["full_at"] < bench["zero_at"]:
            raise GradeError(f"rubric {where}.benchmark: need 0 < full_at < zero_at")
        if bench["curve"] not in ("log", "linear"):
            raise GradeError(f"rubric {where}.benchmark.curve: 'log' or 'linear'")
        if bench["when_missing"] not in ("scale", "zero"):
            raise GradeError(f"rubric {where}.benchmark.when_missing: 'scale' or 'zero'")

    def for_lab(self, number: str) -> dict:
        """The effective settings of one lab: defaults with the lab's overrides applied."""
        return _merge(self.defaults, self.labs.get(number, {}))


def test_points(lab_rules: dict, name: str, tags: list[str]) -> float:
    """Points of one test: the rubric's entry for the test's name, else for one of its tags
    (the largest, if several), else its own `[pts=N]` tag, else the default."""
    rule = lab_rules["tests"].get(name, {})
    if "points" in rule:
        return float(rule["points"])
    tagged = [lab_rules["tags"][tag]["points"] for tag in tags
              if tag in lab_rules["tags"] and "points" in lab_rules["tags"][tag]]
    if tagged:
        return float(max(tagged))
    for tag in tags:
        match = re.fullmatch(r"pts=(\d+(?:\.\d+)?)", tag)
        if match:
            return float(match.group(1))
    return float(lab_rules["test_points"])


def test_visibility(lab_rules: dict, name: str, tags: list[str], suite: str) -> str:
    """Visibility of one test: by name, else by tag, else the suite's default."""
    rule = lab_rules["tests"].get(name, {})
    if "visibility" in rule:
        return rule["visibility"]
    for tag in tags:
        rule = lab_rules["tags"].get(tag, {})
        if "visibility" in rule:
            return rule["visibility"]
    return lab_rules["visibility"].get(suite, "visible")


def performance_fraction(ratio: float, bench_rules: dict) -> float:
    """The share of the performance points earned at `ratio` = submission time / reference
    time: 1 at or below full_at, 0 at or above zero_at, and in between linear in the ratio
    ("linear") or in its logarithm ("log", the default: being 2x slower costs the same
    whether it is 1.25x → 2.5x or 2x → 4x)."""
    full, zero = bench_rules["full_at"], bench_rules["zero_at"]
    if ratio <= full:
        return 1.0
    if ratio >= zero:
        return 0.0
    if bench_rules["curve"] == "linear":
        return (zero - ratio) / (zero - full)
    return 1.0 - math.log(ratio / full) / math.log(zero / full)
