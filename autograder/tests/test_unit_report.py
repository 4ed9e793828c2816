"""The three JSON formats, checked against their JSON Schemas (docs/reference/schemas/) for
every shape of report: all passed, some failed, a compile error, nothing compiled, and an
internal error of the grader. Also the schema validator itself."""
import json
import unittest
from pathlib import Path

import support
from aiograde import report as reports
from aiograde import testrun
from aiograde.bench import BenchResult
from aiograde.grader import GradeReport, LabResult, TestResult
from aiograde.project import Lab
from aiograde.schema import SchemaError, validate

LAB_FOLDER = support.FIXTURES / "labs" / "90_alpha"


def lab_result(name="90_alpha", verdicts=("passed", "passed"), error=None, bench_ratio=None):
    lab = Lab(name, LAB_FOLDER, ["alpha.hpp", "alpha.cpp"])
    result = LabResult(lab, correctness_max=70, performance_max=30)
    if error:
        result.error, result.error_kind = error, "compile error"
        return result
    for index, verdict in enumerate(verdicts, start=1):
        test = testrun.TestCase(name, "public" if index == 1 else "hidden", f"rule number {index}",
                                [name[:2], f"step{index}"], "t.cpp", index, Path("/x"))
        outcome = testrun.Outcome(verdict, "" if verdict == "passed" else "t.cpp:3: REQUIRE( false )",
                                  "" if verdict == "passed" else "some output")
        max_score = 70 / len(verdicts)
        result.tests.append(TestResult(test, outcome, f"{int(name[:2])}.{index}", max_score,
                                       max_score if verdict == "passed" else 0))
    result.correctness = sum(t.score for t in result.tests)
    if bench_ratio is not None:
        result.bench = BenchResult(ratio=bench_ratio, per_benchmark={
            "bench_x": {"reference_ns": 100.0, "submission_ns": 100.0 * bench_ratio, "ratio": bench_ratio}})
        result.performance = 30.0
        result.performance_note = f"{bench_ratio:.2f}x the reference time"
    return result


REPORTS = {
    "all passed": GradeReport(labs=[lab_result(bench_ratio=1.1)], sandbox="test"),
    "some failed": GradeReport(labs=[lab_result(verdicts=("passed", "timed out", "crashed"))]),
    "one lab does not compile": GradeReport(labs=[lab_result(), lab_result("91_beta", error="x.cpp:1: error: y")]),
    "nothing compiled": GradeReport(labs=[lab_result(error="x.cpp:1: error: y")]),
    "internal error": GradeReport(internal_error="cmake could not configure the project"),
    "no labs": GradeReport(),
}


class SchemaValidatorTests(unittest.TestCase):
    SCHEMA = {
        "type": "object", "required": ["a"], "additionalProperties": False,
        "properties": {"a": {"type": "integer", "minimum": 0}, "b": {"$ref": "#/$defs/b"},
                       "c": {"type": ["string", "null"], "maxLength": 3}},
        "$defs": {"b": {"enum": ["x", "y"]}},
        "if": {"properties": {"a": {"const": 0}}}, "then": {"required": ["b"]},
    }

    def test_a_valid_document_has_no_errors(self):
        self.assertEqual(validate({"a": 1}, self.SCHEMA), [])
        self.assertEqual(validate({"a": 0, "b": "x", "c": None}, self.SCHEMA), [])

    def test_each_kind_of_violation_is_reported_with_its_path(self):
        cases = [({}, "missing required property 'a'"), ({"a": -1}, "minimum"),
                 ({"a": 1.5}, "expected integer"), ({"a": True}, "expected integer"),
                 ({"a": 1, "z": 1}, "$.z: not allowed"), ({"a": 1, "b": "q"}, "is not one of"),
                 ({"a": 1, "c": "long"}, "longer than"), ({"a": 0}, "missing required property 'b'")]
        for document, expected in cases:
            with self.subTest(document=document):
                errors = validate(document, self.SCHEMA)
                self.assertTrue(any(expected in error for error in errors), errors)

    def test_an_unsupported_keyword_is_an_error_not_a_silent_pass(self):
        with self.assertRaises(SchemaError):
            validate({}, {"uniqueItems": True})


class FormatTests(unittest.TestCase):
    def test_every_format_of_every_report_matches_its_schema(self):
        for fmt in reports.FORMATS:
            schema = support.load_schema(fmt)
            for name, report in REPORTS.items():
                with self.subTest(format=fmt, report=name):
                    data = reports.render(report, fmt)
                    json.dumps(data, allow_nan=False)
                    self.assertEqual(validate(data, schema), [])

    def test_internal_error_json_matches_every_schema_and_says_so(self):
        for fmt in reports.FORMATS:
            with self.subTest(format=fmt):
                data = reports.internal_error_json(fmt, "boom")
                self.assertEqual(validate(data, support.load_schema(fmt)), [])
                self.assertIn("boom", json.dumps(data))

    def test_gradescope_numbers_tests_by_lab_and_index_and_adds_performance(self):
        data = reports.gradescope(REPORTS["all passed"])
        self.assertEqual([t["number"] for t in data["tests"]], ["90.1", "90.2", "90.3"])
        self.assertEqual(data["tests"][-1]["name"], "90_alpha: performance")
        self.assertEqual(data["score"], 100)
        self.assertIn({"name": "Lab 90 time vs reference", "value": 1.1, "order": "asc"}, data["leaderboard"])

    def test_a_failing_test_says_its_verdict_assertion_output_and_hint(self):
        data = reports.gradescope(REPORTS["some failed"])
        output = data["tests"][1]["output"]
        self.assertTrue(output.startswith("Timed out: t.cpp:3: REQUIRE( false )"))
        self.assertIn("some output", output)
        self.assertEqual(data["tests"][1]["status"], "failed")

    def test_a_compile_error_is_one_failed_entry_worth_the_whole_lab(self):
        data = reports.gradescope(REPORTS["one lab does not compile"])
        entry = [t for t in data["tests"] if t["name"].startswith("91_beta")]
        self.assertEqual(len(entry), 1)
        self.assertEqual((entry[0]["score"], entry[0]["max_score"], entry[0]["number"]), (0, 100, "91.0"))

    def test_prairielearn_is_not_gradable_only_when_nothing_compiled(self):
        self.assertTrue(reports.prairielearn(REPORTS["one lab does not compile"])["gradable"])
        data = reports.prairielearn(REPORTS["nothing compiled"])
        self.assertFalse(data["gradable"])
        self.assertIn("x.cpp:1: error: y", "\n".join(data["format_errors"]))
        self.assertAlmostEqual(reports.prairielearn(REPORTS["all passed"])["score"], 1.0)

    def test_exercism_is_an_error_only_when_no_test_ran(self):
        self.assertEqual(reports.exercism(REPORTS["nothing compiled"])["status"], "error")
        self.assertEqual(reports.exercism(REPORTS["one lab does not compile"])["status"], "fail")
        self.assertEqual(reports.exercism(REPORTS["all passed"])["status"], "pass")
        tests = reports.exercism(REPORTS["some failed"])["tests"]
        self.assertEqual([t.get("task_id") for t in tests], [1, 2, 3])
        self.assertEqual(tests[1]["test_code"], "(hidden test)")

    def test_the_json_stays_under_a_megabyte_when_every_test_floods_its_output(self):
        result = lab_result(verdicts=("output limit exceeded",) * 600)
        for test_result in result.tests:
            test_result.outcome.output = "spam " * 2000
        report = GradeReport(labs=[result])
        for fmt in reports.FORMATS:
            with self.subTest(format=fmt):
                self.assertLess(len(json.dumps(reports.render(report, fmt))), 1_000_000)

    def test_the_table_has_one_line_per_lab_and_one_per_failing_test(self):
        text = reports.table(REPORTS["some failed"], colour=False)
        self.assertIn("90_alpha", text.splitlines()[2])
        self.assertIn("1/3", text.splitlines()[2])
        self.assertEqual(sum("timed out: rule number 2" in line for line in text.splitlines()), 1)
        self.assertNotIn("\033[", text)
        self.assertIn("\033[", reports.table(REPORTS["some failed"], colour=True))


if __name__ == "__main__":
    unittest.main()
