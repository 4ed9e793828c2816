"""Grades the fixture labs end to end, through the command line: the reference solution
scores 100, the starter scores 0 with valid JSON, a warm re-grade is fast, the submission is
never modified, every output format matches its schema, and a broken grader input still
gives valid JSON that says what went wrong."""
import hashlib
import json
import unittest
from pathlib import Path

import support
from aiograde.schema import validate

WORK = support.selftest_dir() / "submissions"


def fingerprint(folder: Path) -> dict:
    return {str(path.relative_to(folder)): (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
            for path in sorted(folder.rglob("*")) if path.is_file()}


class FixtureGradingTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.solution = support.make_submission(WORK / "solution")
        cls.before = fingerprint(cls.solution)
        # The first grading builds everything (cold); its time is printed, not asserted.
        cls.results, cls.process, cls.cold_seconds = support.grade(cls.solution)
        print(f"\n[fixture] first grading of the solution: {cls.cold_seconds:.1f} s")

    def test_the_reference_solution_scores_full_points_on_every_lab(self):
        self.assertEqual(self.process.returncode, 0, self.process.stderr)
        labs = {lab["lab"]: lab for lab in self.results["extra_data"]["labs"]}
        self.assertEqual(labs["90_alpha"]["score"], 100, self.results["output"])
        self.assertEqual(labs["91_beta"]["score"], 100, self.results["output"])
        self.assertEqual(self.results["score"], 200)
        self.assertTrue(all(test["status"] == "passed" for test in self.results["tests"]))

    def test_the_results_match_the_gradescope_schema(self):
        self.assertEqual(validate(self.results, support.load_schema("gradescope")), [])

    def test_hidden_tests_are_graded_with_their_rubric_visibility_and_points(self):
        tests = support.tests_by_name(self.results)
        hidden = tests["90_alpha: sum_to of a negative number is zero"]
        self.assertEqual(hidden["visibility"], "after_published")      # by its [edge] tag
        self.assertEqual(hidden["max_score"], 21)                      # [pts=3] of 10 points
        self.assertIn("hidden", hidden["tags"])
        self.assertEqual(tests["90_alpha: multiply returns the product of its arguments"]["visibility"],
                         "hidden")                                      # by its name
        self.assertEqual(tests["90_alpha: add handles negative numbers"]["visibility"], "after_due_date")

    def test_performance_is_measured_against_the_reference_and_goes_to_the_leaderboard(self):
        performance = support.tests_by_name(self.results)["90_alpha: performance"]
        self.assertEqual(performance["max_score"], 30)
        self.assertIn("the reference time", performance["output"])
        names = [entry["name"] for entry in self.results["leaderboard"]]
        self.assertIn("Lab 90 time vs reference", names)

    def test_the_submission_is_never_modified(self):
        self.assertEqual(fingerprint(self.solution), self.before)

    def test_a_warm_regrade_takes_under_a_minute_and_gives_the_same_score(self):
        results, process, seconds = support.grade(self.solution)
        print(f"\n[fixture] warm re-grade of the solution: {seconds:.1f} s")
        self.assertLess(seconds, 60)
        correctness = lambda data: [(t["name"], t["score"]) for t in data["tests"] if "performance" not in t["name"]]
        self.assertEqual(correctness(results), correctness(self.results))

    def test_the_starter_code_scores_zero_with_valid_json_and_no_grader_error(self):
        starter = support.make_submission(WORK / "starter", starter=True)
        results, process, _ = support.grade(starter)
        self.assertEqual(process.returncode, 0, process.stderr)
        self.assertEqual(results["score"], 0)
        self.assertFalse(results["extra_data"]["internal_error"])
        self.assertEqual(validate(results, support.load_schema("gradescope")), [])
        failed = [t for t in results["tests"] if t["status"] == "failed" and "performance" not in t["name"]]
        self.assertTrue(failed)
        self.assertTrue(all("not implemented yet: TODO(step" in t["output"] for t in failed), failed[0])
        # The message names the student's file by its path in the submission.
        self.assertIn("90_alpha/alpha.cpp:", failed[0]["output"])
        self.assertNotIn(str(support.selftest_dir()), failed[0]["output"])

    def test_exercism_and_prairielearn_outputs_match_their_schemas(self):
        for fmt in ("exercism", "prairielearn"):
            with self.subTest(format=fmt):
                results, process, _ = support.grade(self.solution, fmt=fmt,
                                                    output=support.selftest_dir() / f"results-{fmt}.json")
                self.assertEqual(validate(results, support.load_schema(fmt)), [])
        # Every correctness test earns its points. The benchmark compares the solution with
        # itself, so its ratio is about 1, but on a loaded machine noise can cost a few
        # performance points: those are not asserted here (the unit tests cover the curve).
        correctness = [t for t in results["tests"] if "performance" not in t["name"]]
        self.assertTrue(correctness)
        self.assertTrue(all(t["points"] == t["max_points"] for t in correctness), correctness)
        self.assertGreaterEqual(results["score"], 0.7)
        self.assertTrue(results["gradable"])

    def test_only_the_labs_asked_for_are_graded(self):
        results, _, _ = support.grade(self.solution, labs="91")
        self.assertEqual([lab["lab"] for lab in results["extra_data"]["labs"]], ["91_beta"])

    def test_a_missing_student_file_makes_that_lab_an_error_and_nothing_else(self):
        broken = support.make_submission(WORK / "missing")
        (broken / "90_alpha" / "alpha.cpp").unlink()
        results, _, _ = support.grade(broken)
        tests = support.tests_by_name(results)
        self.assertIn("90_alpha/alpha.cpp is missing", tests["90_alpha: submission problem"]["output"])
        self.assertEqual({lab["lab"]: lab["score"] for lab in results["extra_data"]["labs"]}["91_beta"], 100)

    def test_nothing_compiled_is_not_gradable_for_prairielearn_and_an_error_for_exercism(self):
        broken = support.make_submission(WORK / "nothing", support.HOSTILE / "does_not_compile")
        (broken / "91_beta" / "beta.hpp").write_text("this is not C++\n")
        learn, _, _ = support.grade(broken, fmt="prairielearn", output=support.selftest_dir() / "pl.json")
        self.assertFalse(learn["gradable"])
        self.assertEqual(validate(learn, support.load_schema("prairielearn")), [])
        exercism, _, _ = support.grade(broken, fmt="exercism", output=support.selftest_dir() / "ex.json")
        self.assertEqual(exercism["status"], "error")
        self.assertIn("undeclared_name", exercism["message"])

    def test_a_grader_error_still_writes_valid_json_that_says_so(self):
        rubric = support.selftest_dir() / "broken-rubric.json"
        rubric.write_text('{"defaults": {"visibility": {"public": "sometimes"}}}')
        for fmt in ("gradescope", "exercism", "prairielearn"):
            with self.subTest(format=fmt):
                output = support.selftest_dir() / f"error-{fmt}.json"
                results, process, _ = support.grade(self.solution, "--rubric", str(rubric), fmt=fmt, output=output)
                self.assertEqual(process.returncode, 2)
                self.assertEqual(validate(results, support.load_schema(fmt)), [])
                self.assertIn("sometimes", json.dumps(results))


if __name__ == "__main__":
    unittest.main()


class BatchTests(unittest.TestCase):
    def test_batch_grades_every_folder_into_one_json_each_and_a_csv_of_totals(self):
        import csv
        import subprocess
        import sys
        folder = WORK / "batch"
        support.make_submission(folder / "alice")
        support.make_submission(folder / "bob", starter=True)
        output = support.selftest_dir() / "batch-results"
        command = [sys.executable, str(support.AUTOGRADER / "grade"), "batch", str(folder), "--jobs", "1",
                   "--output-dir", str(output), "--build-dir", str(support.selftest_dir() / "grade"),
                   "--project-root", str(support.fixture_root()),
                   "--hidden-dir", str(support.FIXTURES / "hidden"), "--bench-dir", str(support.FIXTURES / "bench"),
                   "--rubric", str(support.FIXTURES / "rubric.json")]
        process = subprocess.run(command, capture_output=True, text=True, timeout=600)
        self.assertEqual(process.returncode, 0, process.stderr)
        with open(output / "totals.csv") as file:
            rows = {row["submission"]: row for row in csv.DictReader(file)}
        self.assertEqual(float(rows["alice"]["score"]), 200)
        self.assertEqual(float(rows["bob"]["score"]), 0)
        self.assertEqual(float(rows["alice"]["lab 90_alpha"]), 100)
        for name in ("alice", "bob"):
            data = json.loads((output / f"{name}.json").read_text())
            self.assertEqual(validate(data, support.load_schema("gradescope")), [])
