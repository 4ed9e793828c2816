#!/usr/bin/env python3
"""The mutant corpus's checks (see autograder/mutants/README.md).

  mutant_check.py run MUTANT_DIR --lab NN_name --programs P... --record R.json [--index I]
      Runs every test case of the programs built with one mutant exactly as the grader
      does (own sandboxed process, the rubric's limits, verdict from the private result
      channel), writes what was caught to R.json, and fails unless every test listed in
      the mutant's MUTANT.md under "## Caught by" is caught (any verdict but passed).

  mutant_check.py coverage --records DIR [--lab NN_name]
      Reads every mutant's record and fails unless each hidden test is caught by at least
      one mutant, apart from those listed in autograder/mutants/NOT_CAUGHT_YET.md; a listed
      test that is now caught fails too, so the list only ever shrinks.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

AUTOGRADER = Path(__file__).resolve().parent.parent
MUTANTS = AUTOGRADER / "mutants"
NOT_CAUGHT_YET = MUTANTS / "NOT_CAUGHT_YET.md"
sys.path.insert(0, str(AUTOGRADER))

from aiograde import testrun  # noqa: E402
from aiograde.rubric import Rubric  # noqa: E402
from aiograde.sandbox import Sandbox  # noqa: E402

# Mutants often hang (that is how some are caught); a hang needs no full grading timeout.
TIMEOUT_SCALE = 0.5
THREADS = 2


def catching_tests(mutant_md: Path) -> list[str]:
    """The test names quoted in the bullets of MUTANT.md's "## Caught by" section."""
    names, in_section = [], False
    for line in mutant_md.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            in_section = line.strip().lower() == "## caught by"
            continue
        match = re.match(r'\s*[-*]\s+"(.+)"', line)
        if in_section and match:
            names.append(match.group(1))
    return names


def run(args: argparse.Namespace) -> int:
    mutant_dir = Path(args.mutant_dir)
    where = f"{mutant_dir.parent.name}/{mutant_dir.name}"
    expected = catching_tests(mutant_dir / "MUTANT.md")
    if not expected:
        print(f'{mutant_dir / "MUTANT.md"}: no test named under "## Caught by" '
              '(a bullet per test: - "exact test name")')
        return 1
    rubric = Rubric.load(AUTOGRADER / "rubric.json")
    limits = testrun.limits_from_rules(rubric.for_lab(args.lab[:2]), TIMEOUT_SCALE)
    # Disjoint worker slots per mutant, so that two checks running at once as root never
    # share a uid (the sandbox kills whatever a finished test's uid left running).
    first = (args.index * THREADS) % 64
    sandbox = Sandbox.probe(slots=[(first + k) % 64 for k in range(THREADS)])

    tests = []
    for program in args.programs:
        suite = "hidden" if program.endswith("_hidden_tests") else "public"
        for entry in testrun.list_tests(sandbox, Path(program), limits):
            tests.append(testrun.TestCase(args.lab, suite, entry["name"], entry["tags"],
                                          entry["file"], entry["line"], Path(program)))
    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = list(pool.map(lambda test: testrun.run_test(sandbox, test, limits), tests))

    verdicts = {test.name: outcome for test, outcome in zip(tests, outcomes)}
    caught = sorted(test.name for test, outcome in zip(tests, outcomes)
                    if outcome.verdict != testrun.PASSED)
    record = {"lab": args.lab, "mutant": mutant_dir.name, "expected": expected,
              "caught": caught,
              "tests": [{"name": t.name, "suite": t.suite, "verdict": o.verdict}
                        for t, o in zip(tests, outcomes)]}
    Path(args.record).parent.mkdir(parents=True, exist_ok=True)
    Path(args.record).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")

    problems = []
    for name in expected:
        outcome = verdicts.get(name)
        if outcome is None:
            problems.append(f'MUTANT.md names "{name}", which is not a test case of this lab')
        elif outcome.verdict == testrun.PASSED:
            problems.append(f'"{name}" passed: it no longer catches this mutant')
        else:
            print(f'caught by "{name}": {outcome.verdict}: {outcome.message.splitlines()[0] if outcome.message else ""}')
    print(f"{where}: {len(caught)} of {len(tests)} test cases catch it")
    for problem in problems:
        print("  " + problem)
    return 1 if problems else 0


def coverage(args: argparse.Namespace) -> int:
    records_dir = Path(args.records)
    caught_by: dict[tuple[str, str], list[str]] = {}
    problems = []
    for patch in sorted(MUTANTS.glob(f"{args.lab or '*'}/*/mutant.patch")):
        lab, mutant = patch.parent.parent.name, patch.parent.name
        record_path = records_dir / f"{lab}.{mutant}.json"
        if not record_path.exists():
            problems.append(f"mutant {lab}/{mutant} has no record in {records_dir} (did its check run?)")
            continue
        record = json.loads(record_path.read_text(encoding="utf-8"))
        for test in record["tests"]:
            if test["suite"] == "hidden":
                caught_by.setdefault((lab, test["name"]), [])
                if test["verdict"] != testrun.PASSED:
                    caught_by[(lab, test["name"])].append(mutant)
    known = set()
    if NOT_CAUGHT_YET.exists():
        for line in NOT_CAUGHT_YET.read_text(encoding="utf-8").splitlines():
            match = re.match(r'\s*[-*]\s+(\d\d_\w+):\s+"(.+)"', line)
            if match and match.group(1).startswith(args.lab or ""):
                known.add((match.group(1), match.group(2)))
    uncaught = sorted(key for key, mutants in caught_by.items() if not mutants)
    for lab, name in uncaught:
        if (lab, name) not in known:
            problems.append(f'{lab}: hidden test "{name}" is caught by no mutant: add a mutant '
                            f"it catches (or, if it can catch no plausible bug, remove it)")
    for lab, name in sorted(known):
        if (lab, name) in caught_by and caught_by[(lab, name)]:
            problems.append(f'{lab}: "{name}" is now caught (by {", ".join(caught_by[(lab, name)])}): '
                            f"remove it from {NOT_CAUGHT_YET.name}")
        elif (lab, name) not in caught_by and any(key[0] == lab for key in caught_by):
            problems.append(f'{lab}: {NOT_CAUGHT_YET.name} lists "{name}", which is not a hidden test')
    hidden = len(caught_by)
    print(f"{hidden - len(uncaught)} of {hidden} hidden tests are caught by at least one mutant; "
          f"{len(uncaught)} are not ({len(known)} listed in {NOT_CAUGHT_YET.name})")
    for problem in problems:
        print("  " + problem)
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("run", help="check one mutant")
    one.add_argument("mutant_dir")
    one.add_argument("--lab", required=True, help="NN_name")
    one.add_argument("--programs", nargs="+", required=True)
    one.add_argument("--record", required=True)
    one.add_argument("--index", type=int, default=0, help="this mutant's number (picks its worker slots)")
    every = commands.add_parser("coverage", help="check that every hidden test catches some mutant")
    every.add_argument("--records", required=True)
    every.add_argument("--lab", help="NN_name: this lab's mutants and hidden tests only")
    args = parser.parse_args()
    return run(args) if args.command == "run" else coverage(args)


if __name__ == "__main__":
    sys.exit(main())
