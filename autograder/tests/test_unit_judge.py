"""Verdicts from runs, the record parser, test specs, include checks and error trimming:
everything that decides a pass, checked without building anything."""
import signal
import unittest
from pathlib import Path

import support  # noqa: F401
from aiograde import testrun
from aiograde.build import BuildTree
from aiograde.project import check_includes, parse_sources
from aiograde.sandbox import Limits, RunResult, Sandbox, _OutputBuffer

NAME = "call_soon callbacks run in FIFO order"
TEST = testrun.TestCase("01_event_loop", "public", NAME, ["01", "step1"], "t.cpp", 3, Path("/x"))
LIMITS = Limits(wall_seconds=5)


def started(name=NAME):
    return {"event": "test_case_started", "name": name}


def ended(passed=True, name=NAME, **extra):
    return {"event": "test_case_ended", "name": name, "passed": passed, **extra}


def judge(**fields):
    return testrun.judge(RunResult(**fields), TEST, LIMITS)


class VerdictTests(unittest.TestCase):
    def test_an_end_record_that_passed_and_exit_status_zero_is_a_pass(self):
        self.assertEqual(judge(exit_code=0, records=[started(), ended()]).verdict, testrun.PASSED)

    def test_a_passing_record_followed_by_a_nonzero_exit_is_a_failure(self):
        outcome = judge(exit_code=3, records=[started(), ended()])
        self.assertEqual(outcome.verdict, testrun.FAILED)
        self.assertIn("after the test case had passed", outcome.message)

    def test_exit_zero_without_an_end_record_is_a_failure(self):
        outcome = judge(exit_code=0, records=[started()])
        self.assertEqual(outcome.verdict, testrun.FAILED)
        self.assertIn("in the middle of the test case", outcome.message)

    def test_exit_zero_with_no_record_at_all_is_a_failure(self):
        outcome = judge(exit_code=0, records=[])
        self.assertEqual(outcome.verdict, testrun.FAILED)
        self.assertIn("before the test case started", outcome.message)

    def test_two_end_records_are_a_failure_even_if_both_passed(self):
        outcome = judge(exit_code=0, records=[started(), ended(), ended()])
        self.assertEqual(outcome.verdict, testrun.FAILED)
        self.assertIn("more than once", outcome.message)

    def test_an_end_record_for_another_test_is_a_failure(self):
        outcome = judge(exit_code=0, records=[ended(name="something else")])
        self.assertEqual(outcome.verdict, testrun.FAILED)

    def test_a_failed_record_reports_the_first_assertion(self):
        failure = {"kind": "expression failed", "file": "/p/labs/01/tests/t.cpp", "line": 12,
                   "expression": "REQUIRE( order == expected )", "expansion": "{ 2, 1 } == { 1, 2 }",
                   "info": ["seed 7"]}
        outcome = testrun.judge(RunResult(exit_code=1, records=[started(), ended(False, failure=failure)]),
                                TEST, LIMITS, lambda text: text.replace("/p/", ""))
        self.assertEqual(outcome.verdict, testrun.FAILED)
        self.assertIn("labs/01/tests/t.cpp:12: REQUIRE( order == expected )", outcome.message)
        self.assertIn("with expansion: { 2, 1 } == { 1, 2 }", outcome.message)
        self.assertIn("with: seed 7", outcome.message)

    def test_a_timeout_wins_over_a_passing_record(self):
        outcome = judge(timed_out=True, records=[started(), ended()])
        self.assertEqual(outcome.verdict, testrun.TIMED_OUT)
        self.assertIn("after the test case had passed", outcome.message)

    def test_a_signal_is_a_crash_named_by_the_signal(self):
        outcome = judge(signal=signal.SIGSEGV, records=[started()])
        self.assertEqual(outcome.verdict, testrun.CRASHED)
        self.assertIn("SIGSEGV", outcome.message)

    def test_a_crash_after_a_passing_record_is_still_a_crash(self):
        outcome = judge(signal=signal.SIGABRT, records=[started(), ended()])
        self.assertEqual(outcome.verdict, testrun.CRASHED)

    def test_cpu_limit_is_a_timeout_and_file_size_limit_is_an_output_limit(self):
        self.assertEqual(judge(signal=signal.SIGXCPU).verdict, testrun.TIMED_OUT)
        self.assertEqual(judge(signal=signal.SIGXFSZ).verdict, testrun.OUTPUT_LIMIT)

    def test_bad_alloc_is_out_of_memory(self):
        failure = {"kind": "unexpected exception", "file": "t.cpp", "line": 1, "message": "std::bad_alloc"}
        self.assertEqual(judge(exit_code=1, records=[started(), ended(False, failure=failure)]).verdict,
                         testrun.OUT_OF_MEMORY)
        self.assertEqual(judge(signal=signal.SIGABRT, output="terminate called after throwing an "
                               "instance of 'std::bad_alloc'").verdict, testrun.OUT_OF_MEMORY)

    def test_too_much_output_is_an_output_limit(self):
        self.assertEqual(judge(output_exceeded=True).verdict, testrun.OUTPUT_LIMIT)

    def test_output_of_a_passing_test_is_not_reported(self):
        self.assertEqual(judge(exit_code=0, records=[ended()], output="noise").output, "")


class ChannelTests(unittest.TestCase):
    def test_only_records_with_this_runs_nonce_count(self):
        result = RunResult()
        result._raw_records = (b'{"aiolab":1,"nonce":"right","event":"test_case_ended","passed":true}\n'
                               b'{"aiolab":1,"nonce":"wrong","event":"test_case_ended","passed":true}\n'
                               b'{"aiolab":1,"event":"test_case_ended","passed":true}\n'
                               b'not json at all\n'
                               b'{"aiolab":1,"nonce":"right","event":"test_case_st')  # cut short
        Sandbox._parse_records(result, "right")
        self.assertEqual(len(result.records), 1)
        self.assertEqual(result.foreign_lines, 4)

    def test_the_output_buffer_keeps_the_head_and_the_tail(self):
        buffer = _OutputBuffer(100)
        buffer.add(b"A" * 60)
        buffer.add(b"B" * 1000)
        buffer.add(b"C" * 10)
        text = buffer.text()
        self.assertTrue(text.startswith("A" * 60 + "B" * 15))
        self.assertTrue(text.endswith("B" * 15 + "C" * 10))
        self.assertIn("bytes of output omitted", text)
        self.assertEqual(buffer.total, 1070)

    def test_trimmed_output_shows_both_ends(self):
        text = testrun.trim_output("first line\n" + "x" * 10000 + "\nlast line", 200)
        self.assertTrue(text.startswith("first line"))
        self.assertTrue(text.endswith("last line"))


class SpecTests(unittest.TestCase):
    def test_special_characters_of_the_catch2_test_spec_are_escaped(self):
        self.assertEqual(testrun.catch_test_spec('a, [b] "c" ~d \\e'), 'a\\, \\[b\\] \\"c\\" \\~d \\\\e')
        self.assertEqual(testrun.catch_test_spec(NAME), NAME)


class SubmissionCheckTests(unittest.TestCase):
    def test_ordinary_includes_are_allowed(self):
        text = '#include "future.hpp"\n#include <aio/aio.hpp>\n#  include <vector>\n#include "detail/x.hpp"\n'
        self.assertEqual(check_includes(text), [])

    def test_includes_that_leave_the_lab_folder_are_refused(self):
        for line in ('#include "../../solutions/03_future/future.cpp"', '#include </etc/passwd>',
                     '#include "a/../../b.hpp"', '# /* comment */ include "/abs.hpp"',
                     '#inc\\\nlude "../x.hpp"', '#include PATH_MACRO', '#embed "x.bin"',
                     'asm(".incbin \\"x\\"");', '#if __has_include("../../x.hpp")\n#endif'):
            with self.subTest(line=line):
                self.assertTrue(check_includes(line), line)

    def test_a_commented_out_include_is_ignored(self):
        self.assertEqual(check_includes('// #include "../x.hpp"\n/* #include "/y" */'), [])

    def test_sources_are_read_from_the_aio_add_lab_call(self):
        self.assertEqual(parse_sources("# comment (x)\naio_add_lab(SOURCES a.hpp\n  b.cpp)\n"),
                         ["a.hpp", "b.cpp"])
        self.assertEqual(parse_sources("add_subdirectory(x)"), [])


class CompileErrorTests(unittest.TestCase):
    def tree(self):
        return BuildTree(Path("/proj"), Path("/proj/build/grade/tree"), Path("/proj/build/grade/submission"),
                         None, None, 2)

    NINJA_OUTPUT = """ninja: Entering directory `/proj/build/grade/tree'
[1/3] Building CXX object labs/03_future/CMakeFiles/lab_03.dir/__/__/build/grade/submission/03_future/future.cpp.o
FAILED: labs/03_future/CMakeFiles/lab_03.dir/__/__/build/grade/submission/03_future/future.cpp.o
/usr/bin/c++ -I/proj/common/include -O2 -c /proj/build/grade/submission/03_future/future.cpp -o x.o
In file included from /proj/build/grade/tree/CMakeFiles/aio_catch_pch.dir/cmake_pch.hxx:5,
                 from <command-line>:
/proj/build/grade/submission/03_future/future.cpp: In function 'void lab::f()':
/proj/build/grade/submission/03_future/future.cpp:7:5: error: 'nope' was not declared in this scope
    7 |     nope();
      |     ^~~~
ninja: build stopped: subcommand failed.
"""

    def test_ninja_noise_goes_and_paths_become_relative_to_the_submission(self):
        message = self.tree()._trim(self.NINJA_OUTPUT, hidden=False)
        self.assertEqual(message.splitlines()[0], "03_future/future.cpp: In function 'void lab::f()':")
        self.assertIn("03_future/future.cpp:7:5: error: 'nope' was not declared", message)
        self.assertIn("    7 |     nope();", message)
        for noise in ("ninja", "FAILED", "/usr/bin/c++", "/proj", "cmake_pch"):
            self.assertNotIn(noise, message)

    def test_quoted_source_lines_are_dropped_for_hidden_tests(self):
        message = self.tree()._trim(self.NINJA_OUTPUT, hidden=True)
        self.assertIn("error: 'nope' was not declared", message)
        self.assertNotIn("nope();", message)

    def test_a_long_error_is_cut(self):
        output = "\n".join(f"/proj/x.cpp:{n}:1: error: e{n}" for n in range(500))
        message = self.tree()._trim(output, hidden=False)
        self.assertLessEqual(len(message.splitlines()), 41)
        self.assertIn("more lines", message)


if __name__ == "__main__":
    unittest.main()
