#!/usr/bin/env python3
"""The student's workbook commands: check, watch, hint, reset, progress.

Run through the Makefile (`make check LAB=03`), or directly:
    python3 labs/tools/workbook.py check 03

A lab is a folder labs/NN_name/ with a handout (README.md), hints (hints.md), the student
files listed in its CMakeLists.txt (`aio_add_lab(SOURCES ...)`) and public tests whose
TEST_CASEs carry a `[stepK]` tag. `check` builds the lab's test program in build/dev and
reports, step by step, what passes, the first failing assertion, and where to look next.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LABS = ROOT / "labs"
BUILD = ROOT / "build" / "dev"
STATE = ROOT / "build" / "workbook"
TEST_TIME_LIMIT = 60  # seconds for a whole public test program
CASE_TIME_LIMIT = 15  # seconds for one test case, when they run one by one


class WorkbookError(Exception):
    """A problem the student can fix; printed without a traceback."""


# --- terminal output -------------------------------------------------------------------

def _use_colour() -> bool:
    return sys.stdout.isatty() and os.environ.get("NO_COLOR") is None and os.environ.get("TERM") != "dumb"


def paint(text: str, colour: str) -> str:
    codes = {"green": "32", "red": "31", "yellow": "33", "bold": "1", "dim": "2"}
    return f"\033[{codes[colour]}m{text}\033[0m" if _use_colour() else text


def progress_bar(done: int, total: int, width: int = 24) -> str:
    filled = round(width * done / total) if total else 0
    return "[" + "#" * filled + "-" * (width - filled) + "]"


# --- labs --------------------------------------------------------------------------------

@dataclass
class Lab:
    folder: Path

    @property
    def name(self) -> str:  # "03_future"
        return self.folder.name

    @property
    def number(self) -> str:  # "03"
        return self.name[:2]

    @property
    def test_target(self) -> str:
        return f"lab_{self.number}_tests"

    def student_files(self) -> list[str]:
        text = (self.folder / "CMakeLists.txt").read_text()
        match = re.search(r"aio_add_lab\s*\(\s*SOURCES\s+([^)]*)\)", text)
        if not match:
            raise WorkbookError(f"{self.folder}/CMakeLists.txt: no aio_add_lab(SOURCES ...) line")
        return match.group(1).split()

    def step_titles(self) -> dict[int, str]:
        """Step numbers and titles from the handout's 'Step K: title' headings."""
        titles = {}
        readme = self.folder / "README.md"
        if readme.exists():
            for line in readme.read_text().splitlines():
                match = re.match(r"^#{2,4}\s*Step\s+(\d+)\s*[:.\u2014-]?\s*(.*)$", line)
                if match:
                    titles.setdefault(int(match.group(1)), match.group(2).strip())
        return titles


def all_labs() -> list[Lab]:
    return [Lab(path) for path in sorted(LABS.glob("[0-9][0-9]_*"))
            if (path / "CMakeLists.txt").exists()]


def find_lab(text: str | None) -> Lab:
    labs = all_labs()
    listing = "\n".join(f"  {lab.name}" for lab in labs)
    if not text:
        raise WorkbookError(f"say which lab, e.g. LAB=01. The labs are:\n{listing}")
    wanted = text.strip()
    for lab in labs:
        if wanted in (lab.name, lab.number) or (wanted.isdigit() and int(wanted) == int(lab.number)):
            return lab
    raise WorkbookError(f"there is no lab '{wanted}'. LAB accepts 3, 03 or 03_future. The labs are:\n{listing}")


# --- building ----------------------------------------------------------------------------

def configure() -> None:
    if (BUILD / "build.ninja").exists():
        return
    print(paint("Configuring the build (first time only)...", "dim"), flush=True)
    run = subprocess.run(["cmake", "--preset", "dev"], cwd=ROOT, capture_output=True, text=True)
    if run.returncode != 0:
        raise WorkbookError("CMake could not configure the project:\n" + run.stdout[-3000:] + run.stderr[-3000:])


def build(lab: Lab) -> str | None:
    """Builds the lab's test program; returns the compiler's errors, or None if it built."""
    configure()
    run = subprocess.run(["cmake", "--build", str(BUILD), "--target", lab.test_target],
                         cwd=ROOT, capture_output=True, text=True)
    if run.returncode == 0:
        return None
    return summarise_compiler_errors(run.stdout + run.stderr)


def summarise_compiler_errors(output: str, limit: int = 25) -> str:
    """The first errors, with paths relative to the project, without ninja's noise."""
    lines = []
    for line in output.splitlines():
        if line.startswith(("[", "ninja:", "FAILED:")) or line.startswith("/usr/bin/"):
            continue
        lines.append(line.replace(str(ROOT) + "/", ""))
    first_error = next((i for i, line in enumerate(lines) if "error" in line), 0)
    # Keep the "In file included from" / "In function" lines just before the first error.
    start = max(0, first_error - 3)
    return "\n".join(lines[start:start + limit])


# --- running the tests ---------------------------------------------------------------------

@dataclass
class CaseResult:
    name: str
    tags: list[str]
    passed: bool
    failure: str = ""

    @property
    def step(self) -> int:
        for tag in self.tags:
            match = re.fullmatch(r"step(\d+)", tag)
            if match:
                return int(match.group(1))
        return 0


def _tags(attribute: str) -> list[str]:
    return re.findall(r"\[([^\]]+)\]", attribute or "")


def _describe_failure(case: ElementTree.Element) -> str:
    """The first failed assertion of a test case, as Catch2's XML reporter recorded it."""
    for element in case.iter():
        if element.tag == "Expression" and element.get("success") == "false":
            original = (element.findtext("Original") or "").strip()
            expanded = (element.findtext("Expanded") or "").strip()
            where = f"{element.get('filename', '?')}:{element.get('line', '?')}".replace(str(ROOT) + "/", "")
            text = f"{where}\n    {element.get('type', 'CHECK')}( {original} )"
            if expanded and expanded != original:
                text += f"\n  with expansion:\n    {expanded}"
            exception = element.findtext("Exception")
            if exception:
                text += f"\n  threw: {exception.strip()}"
            return text
        if element.tag in ("Exception", "FatalErrorCondition"):
            where = f"{element.get('filename', '?')}:{element.get('line', '?')}".replace(str(ROOT) + "/", "")
            return f"{where}\n  {'unexpected exception' if element.tag == 'Exception' else 'fatal error'}: {(element.text or '').strip()}"
        if element.tag == "Failure":
            return f"FAIL: {(element.text or '').strip()}"
    return "failed (no assertion recorded)"


def _parse_report(xml_text: str) -> list[CaseResult] | None:
    try:
        root = ElementTree.fromstring(xml_text)
    except ElementTree.ParseError:
        return None
    results = []
    for case in root.iter("TestCase"):
        overall = case.find("OverallResult")
        passed = overall is not None and overall.get("success") == "true"
        results.append(CaseResult(case.get("name", "?"), _tags(case.get("tags", "")), passed,
                                  "" if passed else _describe_failure(case)))
    return results


def _run_program(arguments: list[str], limit: int) -> tuple[str, str]:
    """Runs a test program; returns (xml report, what went wrong if it did not end normally)."""
    try:
        run = subprocess.run(arguments, capture_output=True, text=True, timeout=limit, cwd=ROOT)
    except subprocess.TimeoutExpired as expired:
        out = expired.stdout.decode(errors="replace") if isinstance(expired.stdout, bytes) else (expired.stdout or "")
        return out, f"did not finish within {limit} s (an infinite loop, or a wait that never ends?)"
    if run.returncode < 0:
        import signal
        return run.stdout, f"crashed with {signal.Signals(-run.returncode).name}"
    return run.stdout, ""


def run_tests(lab: Lab) -> list[CaseResult]:
    program = BUILD / "labs" / lab.name / lab.test_target
    if not program.exists():
        found = list(BUILD.rglob(lab.test_target))
        if not found:
            raise WorkbookError(f"the test program {lab.test_target} was not built")
        program = found[0]
    report, problem = _run_program([str(program), "-r", "xml"], TEST_TIME_LIMIT)
    results = _parse_report(report) if not problem else None
    if results is not None:
        return results
    # The program crashed or hung: run each test case alone to find which one.
    listing = subprocess.run([str(program), "--list-test-names-only"], capture_output=True, text=True)
    results = []
    for name in [line for line in listing.stdout.splitlines() if line.strip()]:
        spec = name.replace("\\", "\\\\").replace(",", "\\,").replace("[", "\\[")
        report, problem = _run_program([str(program), "-r", "xml", spec], CASE_TIME_LIMIT)
        parsed = _parse_report(report) if not problem else None
        if parsed:
            results.extend(parsed)
        else:
            tags = re.search(r'tags="([^"]*)"', report or "")
            results.append(CaseResult(name, _tags(tags.group(1) if tags else ""), False,
                                      f"the test {problem or 'ended abnormally'}"))
    return results


# --- commands ----------------------------------------------------------------------------

def _save_state(lab: Lab, data: dict) -> None:
    STATE.mkdir(parents=True, exist_ok=True)
    (STATE / f"last_check_{lab.number}.json").write_text(json.dumps(data))


def _load_state(lab: Lab) -> dict:
    path = STATE / f"last_check_{lab.number}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def check(lab: Lab) -> bool:
    print(paint(f"Lab {lab.name}: building", "bold"), flush=True)
    errors = build(lab)
    if errors is not None:
        print(paint("It does not compile yet. The first errors:", "red"))
        print(errors)
        _save_state(lab, {"compiles": False})
        return False
    results = run_tests(lab)
    titles = lab.step_titles()
    steps = sorted({case.step for case in results})
    first_failing_step = None
    for step in steps:
        cases = [case for case in results if case.step == step]
        passed = sum(case.passed for case in cases)
        label = f"step {step}" if step else "other"
        title = titles.get(step, "")
        mark = paint("ok", "green") if passed == len(cases) else paint("..", "yellow") if passed else paint("--", "red")
        print(f"  {mark} {label:<7} {title[:44]:<44} {passed:>3}/{len(cases)}")
        if passed < len(cases) and first_failing_step is None:
            first_failing_step = step
    total = len(results)
    passed = sum(case.passed for case in results)
    print(f"  {progress_bar(passed, total)} {passed}/{total} public tests pass")
    _save_state(lab, {"compiles": True, "passed": passed, "total": total,
                      "first_failing_step": first_failing_step})
    if first_failing_step is None:
        print(paint(f"All public tests of {lab.name} pass. `make grade` runs the hidden tests too.", "green"))
        return True
    failing = next(case for case in results if not case.passed and case.step == first_failing_step)
    print()
    print(paint(f"First failure (step {first_failing_step}): {failing.name}", "red"))
    print("  " + failing.failure.replace("\n", "\n  "))
    print()
    print(f"Stuck? `make hint LAB={lab.number}` shows the next hint; the handout is {lab.folder.relative_to(ROOT)}/README.md")
    return False


def parse_hints(lab: Lab) -> list[tuple[int, int, str, str]]:
    """(number, step, title, text) for each `## Hint n (step k): title` section."""
    path = lab.folder / "hints.md"
    if not path.exists():
        return []
    hints = []
    pattern = re.compile(r"^##\s+Hint\s+(\d+)\s*\(step\s+(\d+)\)\s*:?\s*(.*)$", re.IGNORECASE)
    current = None
    for line in path.read_text().splitlines():
        match = pattern.match(line)
        if match:
            current = [int(match.group(1)), int(match.group(2)), match.group(3).strip(), []]
            hints.append(current)
        elif current is not None:
            current[3].append(line)
    return [(n, step, title, "\n".join(text).strip()) for n, step, title, text in hints]


def hint(lab: Lab) -> None:
    hints = parse_hints(lab)
    if not hints:
        raise WorkbookError(f"{lab.name} has no hints.md")
    STATE.mkdir(parents=True, exist_ok=True)
    seen_path = STATE / f"hints_seen_{lab.number}.json"
    seen = set(json.loads(seen_path.read_text())) if seen_path.exists() else set()
    step = _load_state(lab).get("first_failing_step")
    # The next unseen hint of the step that fails first, else the next unseen one.
    candidates = [h for h in hints if h[0] not in seen and (step is None or h[1] == step)]
    candidates = candidates or [h for h in hints if h[0] not in seen]
    if not candidates:
        print(f"You have seen all {len(hints)} hints of {lab.name}. Re-read them in {lab.folder.relative_to(ROOT)}/hints.md")
        return
    number, hint_step, title, text = candidates[0]
    seen.add(number)
    seen_path.write_text(json.dumps(sorted(seen)))
    print(paint(f"Hint {number} of {len(hints)} (step {hint_step}): {title}", "bold"))
    print(text)


def _starter_source(lab: Lab, file: str) -> tuple[bytes, str]:
    """The pristine starter version of a student file, and where it came from."""
    shipped = LABS / "tools" / "starter" / lab.name / file  # in a student release
    if shipped.exists():
        return shipped.read_bytes(), str(shipped.relative_to(ROOT))
    relative = f"labs/{lab.name}/{file}"
    for revision in ("upstream/main", "origin/main", "HEAD"):
        run = subprocess.run(["git", "show", f"{revision}:{relative}"], cwd=ROOT, capture_output=True)
        if run.returncode == 0:
            return run.stdout, f"git {revision}"
    raise WorkbookError(f"cannot find the starter version of {relative}")


def reset(lab: Lab, assume_yes: bool) -> None:
    files = lab.student_files()
    print(f"This restores the starter version of {', '.join(files)} in {lab.folder.relative_to(ROOT)}/.")
    if not assume_yes:
        if not sys.stdin.isatty():
            raise WorkbookError("reset needs a confirmation: run it in a terminal, or add YES=1")
        if input("Your files will be backed up first. Continue? [y/N] ").strip().lower() not in ("y", "yes"):
            print("Nothing changed.")
            return
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    backup = STATE / "backup" / f"{lab.name}-{stamp}"
    backup.mkdir(parents=True, exist_ok=True)
    for file in files:
        current = lab.folder / file
        if current.exists():
            shutil.copy2(current, backup / file)
        content, source = _starter_source(lab, file)
        current.write_bytes(content)
    (STATE / f"hints_seen_{lab.number}.json").unlink(missing_ok=True)
    print(f"Restored from {source}. Your previous files are in {backup.relative_to(ROOT)}/")


def progress() -> None:
    labs = all_labs()
    if not labs:
        raise WorkbookError("no labs found under labs/")
    print(paint(f"{'lab':<22} {'public tests':>12}", "bold"))
    grand_passed = grand_total = 0
    for lab in labs:
        errors = build(lab)
        if errors is not None:
            print(f"{lab.name:<22} {'does not compile':>12}")
            continue
        results = run_tests(lab)
        passed, total = sum(case.passed for case in results), len(results)
        grand_passed += passed
        grand_total += total
        colour = "green" if passed == total else "yellow" if passed else "red"
        print(f"{lab.name:<22} {passed:>5}/{total:<6} {paint(progress_bar(passed, total), colour)}")
    print(f"{'all labs':<22} {grand_passed:>5}/{grand_total:<6} {progress_bar(grand_passed, grand_total)}")


def _snapshot(folder: Path) -> dict[str, float]:
    return {str(path): path.stat().st_mtime for path in folder.rglob("*") if path.is_file()}


def watch(lab: Lab) -> None:
    """Runs check, then again after every save, until Ctrl-C (like rustlings watch)."""
    use_inotify = shutil.which("inotifywait") is not None
    try:
        while True:
            if sys.stdout.isatty():
                print("\033[2J\033[H", end="")
            check(lab)
            print(paint(f"\nWatching {lab.folder.relative_to(ROOT)}/ for changes (Ctrl-C to stop)...", "dim"), flush=True)
            if use_inotify:
                subprocess.run(["inotifywait", "-qq", "-r", "-e", "close_write,moved_to,create",
                                "--exclude", r"(\.swp|~)$", str(lab.folder)])
                time.sleep(0.2)  # let an editor finish writing every file it saves
            else:
                before = _snapshot(lab.folder)
                while _snapshot(lab.folder) == before:
                    time.sleep(1)
    except KeyboardInterrupt:
        print()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="workbook", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["check", "watch", "hint", "reset", "progress"])
    parser.add_argument("lab", nargs="?", default=os.environ.get("LAB"))
    parser.add_argument("--yes", action="store_true", default=os.environ.get("YES") == "1")
    args = parser.parse_args(argv)
    try:
        if args.command == "progress":
            progress()
            return 0
        lab = find_lab(args.lab)
        if args.command == "check":
            return 0 if check(lab) else 1
        if args.command == "watch":
            watch(lab)
        elif args.command == "hint":
            hint(lab)
        elif args.command == "reset":
            reset(lab, args.yes)
        return 0
    except WorkbookError as error:
        print(paint("error: ", "red") + str(error), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
