"""The rubric: points and visibility precedence, the performance curve, validation."""
import unittest

import support  # noqa: F401  (puts the grader on sys.path)
from aiograde.project import GradeError
from aiograde.rubric import Rubric, performance_fraction, test_points, test_visibility


class RubricTests(unittest.TestCase):
    def test_the_project_rubric_loads_and_gives_every_lab_100_points(self):
        rubric = Rubric.load(support.AUTOGRADER / "rubric.json")
        for number in ("01", "02", "03", "04", "05", "06", "07"):
            rules = rubric.for_lab(number)
            self.assertEqual(rules["correctness_points"] + rules["performance_points"], 100)

    def test_a_missing_rubric_means_the_built_in_defaults(self):
        rules = Rubric.load(None).for_lab("01")
        self.assertEqual((rules["correctness_points"], rules["performance_points"]), (70, 30))
        self.assertEqual(rules["benchmark"]["full_at"], 1.25)
        self.assertEqual(rules["benchmark"]["zero_at"], 4.0)

    def test_a_lab_entry_overrides_only_the_keys_it_names(self):
        rubric = Rubric({"labs": {"03": {"limits": {"timeout_seconds": 30}}}})
        rules = rubric.for_lab("03")
        self.assertEqual(rules["limits"]["timeout_seconds"], 30)
        self.assertEqual(rules["limits"]["memory_mb"], 2048)
        self.assertEqual(rubric.for_lab("04")["limits"]["timeout_seconds"], 10)

    def test_points_come_from_the_test_entry_then_a_tag_entry_then_the_pts_tag_then_the_default(self):
        rules = Rubric({"labs": {"01": {"tests": {"named": {"points": 5}},
                                        "tags": {"stress": {"points": 3}}}}}).for_lab("01")
        self.assertEqual(test_points(rules, "named", ["stress", "pts=2"]), 5)
        self.assertEqual(test_points(rules, "other", ["stress", "pts=2"]), 3)
        self.assertEqual(test_points(rules, "other", ["01", "pts=2"]), 2)
        self.assertEqual(test_points(rules, "other", ["01", "pts=0.5"]), 0.5)
        self.assertEqual(test_points(rules, "other", ["01"]), 1)

    def test_visibility_comes_from_the_test_then_a_tag_then_the_suite(self):
        rules = Rubric({"labs": {"01": {"tests": {"named": {"visibility": "hidden"}},
                                        "tags": {"stress": {"visibility": "after_published"}}}}}).for_lab("01")
        self.assertEqual(test_visibility(rules, "named", ["stress"], "public"), "hidden")
        self.assertEqual(test_visibility(rules, "other", ["stress"], "public"), "after_published")
        self.assertEqual(test_visibility(rules, "other", [], "public"), "visible")
        self.assertEqual(test_visibility(rules, "other", [], "hidden"), "after_due_date")

    def test_performance_is_full_at_or_below_full_at_and_zero_at_or_above_zero_at(self):
        rules = Rubric.load(None).for_lab("01")["benchmark"]
        self.assertEqual(performance_fraction(0.5, rules), 1.0)
        self.assertEqual(performance_fraction(1.25, rules), 1.0)
        self.assertEqual(performance_fraction(4.0, rules), 0.0)
        self.assertEqual(performance_fraction(40.0, rules), 0.0)

    def test_the_log_curve_gives_half_points_at_the_geometric_midpoint(self):
        rules = Rubric.load(None).for_lab("01")["benchmark"]
        midpoint = (1.25 * 4.0) ** 0.5
        self.assertAlmostEqual(performance_fraction(midpoint, rules), 0.5)
        self.assertGreater(performance_fraction(2.0, rules), performance_fraction(3.0, rules))

    def test_the_linear_curve_gives_half_points_at_the_arithmetic_midpoint(self):
        rules = Rubric({"defaults": {"benchmark": {"curve": "linear"}}}).for_lab("01")["benchmark"]
        self.assertAlmostEqual(performance_fraction((1.25 + 4.0) / 2, rules), 0.5)

    def test_a_wrong_visibility_or_negative_points_is_rejected(self):
        with self.assertRaises(GradeError):
            Rubric({"defaults": {"visibility": {"public": "sometimes"}}})
        with self.assertRaises(GradeError):
            Rubric({"labs": {"01": {"tests": {"x": {"points": -1}}}}})
        with self.assertRaises(GradeError):
            Rubric({"defaults": {"benchmark": {"full_at": 5, "zero_at": 4}}})


if __name__ == "__main__":
    unittest.main()
