#!/usr/bin/env python3
"""Checks that every test case of a lab's test program (public or hidden) fails on the
starter code.

Usage: expect_all_fail.py <catch2 test program>

Each TEST_CASE runs on its own with a time limit, so one that hangs is reported as a hang
rather than stalling CTest. A test case tagged [starter-passes] is meant to pass on the
starter code (for example, one that checks the starter compiles against aio) and is
skipped. Exit status 0 only if every other test case failed without hanging.
"""
import subprocess
import sys

TIME_LIMIT_SECONDS = 20


def list_test_cases(program):
    listing = subprocess.run([program, "--list-test-names-only", "~[starter-passes]"],
                             capture_output=True, text=True, timeout=TIME_LIMIT_SECONDS)
    return [line for line in listing.stdout.splitlines() if line.strip()]


def main():
    program = sys.argv[1]
    names = list_test_cases(program)
    if not names:
        print(f"{program}: no test cases found")
        return 1
    problems = []
    for name in names:
        # Catch2 treats commas and brackets in a name as syntax; escape them.
        spec = name.replace("\\", "\\\\").replace(",", "\\,").replace("[", "\\[")
        try:
            run = subprocess.run([program, spec], capture_output=True, text=True,
                                 timeout=TIME_LIMIT_SECONDS)
        except subprocess.TimeoutExpired:
            problems.append(f"hangs on the starter code (over {TIME_LIMIT_SECONDS} s): {name}")
            continue
        if run.returncode == 0:
            problems.append(f"passes on the starter code: {name}")
    print(f"{len(names) - len(problems)} of {len(names)} test cases of {program} fail on the starter, as they should")
    for problem in problems:
        print("  " + problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
